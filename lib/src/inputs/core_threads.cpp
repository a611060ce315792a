// Each core thread's XSAVE area from its best FP note (XSAVE, NetBSD struct xstate, FXSAVE,
// FSAVE), with what was not saved and where the other FP notes of the thread disagree.
#include "inputs/core_notes.hpp"
#include "model/bytes.hpp"

#include "xsave/components.hpp"
#include "xsave/image.hpp"

#include <fmt/core.h>

#include <algorithm>

namespace xsave {
namespace {

// NetBSD struct xstate members after xs_fxsave, and where a standard area holds them here:
// packed after the header in bit order, as XSAVEC (and AMD's standard layout) would.
struct NetbsdPart { unsigned bit; uint32_t src, size, dst; };
constexpr NetbsdPart kNetbsdParts[] = {
    {2, 528, 256, 576},    // xs_ymm_hi128
    {5, 784, 64, 832},     // xs_opmask
    {6, 848, 512, 896},    // xs_zmm_hi256
    {7, 1360, 1024, 1408}, // xs_hi16_zmm
};

std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
    return s;
}

void cross_check(CoreThread& t, std::span<const uint8_t> area, const NamedNote& other, const std::vector<uint8_t>& built,
                 bool with_sse) {
    auto diff = legacy_differences(area, built, with_sse, t.legacy32);
    if (diff.empty()) return;
    t.warnings.push_back(fmt::format("the {} note (offset {:#x}) disagrees with {} in {}: decoded from {}", other.name,
                                     other.note.offset, t.source, join(diff), t.source));
}

// A standard area from NetBSD's struct xstate: x87/SSE from xs_fxsave, the parts the
// descriptor holds at their kNetbsdParts places. XCR0 is xs_rfbm limited to those parts.
void from_netbsd(CoreThread& t, const RawNote& n, CoreFile& core) {
    const auto& d = n.desc;
    uint64_t rfbm = load_le(d.data(), 8), bv = load_le(d.data() + 8, 8);
    uint64_t placed = 0x3;
    size_t end = kExtendedOffset;
    for (const auto& p : kNetbsdParts)
        if (d.size() >= p.src + p.size && rfbm >> p.bit & 1) placed |= 1ull << p.bit, end = p.dst + p.size;
    t.xstate.assign(end, 0);
    std::copy_n(d.begin() + 16, kFxsaveSize, t.xstate.begin());
    for (const auto& p : kNetbsdParts)
        if (placed >> p.bit & 1) std::copy_n(d.begin() + p.src, p.size, t.xstate.begin() + p.dst);
    t.built_xcr0 = rfbm & placed;
    store_le(&t.xstate[kXstateBvOffset], bv & t.built_xcr0, 8);
    t.notes.push_back(fmt::format("NetBSD struct xstate: xs_rfbm 0x{:x}, xs_xstate_bv 0x{:x}, {} bytes; placed in a standard "
                                  "area with AVX at 576, opmask at 832, ZMM_Hi256 at 896, Hi16_ZMM at 1408",
                                  rfbm, bv, d.size()));
    if (uint64_t lost = rfbm & ~placed)
        t.notes.push_back(fmt::format("xs_rfbm also names {}, which this struct xstate does not carry", mask_names(lost)));
    if (uint64_t lost = bv & ~t.built_xcr0)
        t.warnings.push_back(fmt::format("xs_xstate_bv 0x{:x} names {} outside xs_rfbm or the struct: not decoded", bv, mask_names(lost)));
    if (core.kernel_layout.empty())
        for (const auto& p : kNetbsdParts) core.kernel_layout.push_back({p.bit, p.size, p.dst, 0});
    core.kernel_layout_source = "NetBSD struct xstate";
}

} // namespace

void build_threads(CoreFile& core, const std::vector<ThreadNotes>& threads) {
    bool legacy32 = core.abi == CoreAbi::I386;
    for (const auto& tn : threads) {
        CoreThread t;
        t.tid = tn.tid;
        t.legacy32 = legacy32;
        std::vector<uint8_t> fx, fs;   // the FXSAVE/FSAVE notes as areas, for building or checking
        if (tn.fxsave) fx = xsave_from_fxsave(tn.fxsave->note.desc);
        if (tn.fsave) fs = xsave_from_fsave(tn.fsave->note.desc);
        const NamedNote* from = nullptr;
        if (tn.xstate) {
            from = &*tn.xstate;
            t.xstate.assign(from->note.desc.begin(), from->note.desc.end());
        } else if (tn.netbsd_xstate) {
            from = &*tn.netbsd_xstate;
            from_netbsd(t, from->note, core);
        } else if (tn.fxsave) {
            from = &*tn.fxsave;
            t.xstate = fx;
            t.built_xcr0 = 0x3;
            t.notes.push_back(fmt::format("FXSAVE image only ({}): x87 and SSE state; no XSAVE note, so AVX and later state "
                                          "was not saved", from->name));
        } else if (tn.fsave) {
            from = &*tn.fsave;
            t.xstate = fs;
            t.built_xcr0 = 0x1;
            t.notes.push_back(fmt::format("FSAVE image only ({}): x87 state; MXCSR, XMM and later state were not saved "
                                          "(shown in their initial state, MXCSR 0x1F80); tag word converted to FXSAVE's abridged form",
                                          from->name));
        } else {
            continue;   // a thread without FP notes
        }
        t.note_offset = from->note.offset;
        t.source = from->name;
        if (tn.fxsave && from != &*tn.fxsave) cross_check(t, t.xstate, *tn.fxsave, fx, true);
        if (tn.fsave && from != &*tn.fsave) cross_check(t, t.xstate, *tn.fsave, fs, false);
        if (legacy32)
            t.notes.push_back("32-bit process (i386): the legacy region is read in its 32-bit form (FIP/FDP offsets with FCS/FDS "
                              "selectors; a 64-bit kernel saves the 64-bit form, where FCS/FDS read 0), and only XMM0-7 "
                              "(YMM0-7, ZMM0-7) exist: the bytes of XMM8-15 are not registers");
        core.threads.push_back(std::move(t));
    }
}

} // namespace xsave
