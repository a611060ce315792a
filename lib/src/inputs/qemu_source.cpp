// The input table's row for QEMU migration streams: each `cpu` device becomes one area.
#include "xsave/components.hpp"
#include "xsave/nested.hpp"
#include "xsave/open.hpp"
#include "xsave/qemu.hpp"

#include <fmt/format.h>

namespace xsave {
namespace {

// A vCPU as the standard area QEMU would build for KVM: the layout holds XCR0 and every
// component whose values are not initial (QEMU writes all the vCPU model supports), with
// `layout`'s offsets or QEMU's own. Under TCG the recorded XSTATE_BV is 0: components that are
// not initial are marked in use, with a warning, so no value reads as its init value.
SourceArea qemu_area(const QemuCpu& c, std::shared_ptr<const CpuModel> layout) {
    SourceArea r;
    r.label = fmt::format("vCPU {}", c.index);
    r.tid = int32_t(c.index);
    for (const auto& x : c.context) r.context.emplace_back(x.name, fmt::format("0x{:0{}x}", x.value, 2 * x.width));
    r.notes = c.notes;
    static const CpuModel qemu_all(qemu_default_profile(~0ull));
    const Layout& all = qemu_all.standard(*qemu_all.profile().xcr0);
    uint64_t used = qemu_components_in_use(qemu_xsave_area(c, all, 0), all);
    uint64_t mask = (c.xcr0 | 3 | used) & ~kCompactedBit;
    if (!layout) {
        layout = std::make_shared<const CpuModel>(qemu_default_profile(mask));
        r.notes.push_back(fmt::format("QEMU stream, vCPU {}: the stream holds no CPUID; laid out with QEMU's built-in XSAVE offsets (as under TCG, and KVM on Intel); --cpuid names the CPU", c.index));
    }
    const Layout* L;
    try {
        L = &layout->standard(mask);
    } catch (const Error& e) {
        throw Error(fmt::format("vCPU {}: XCR0 0x{:x} with in-use components 0x{:x}: {}", c.index, c.xcr0, mask, e.what()));
    }
    uint64_t xstate_bv = c.xstate_bv;
    uint64_t unmarked = qemu_components_in_use(qemu_xsave_area(c, *L, xstate_bv), *L) & ~xstate_bv;
    if (unmarked) {
        xstate_bv |= unmarked;
        r.warnings.push_back(fmt::format("QEMU recorded XSTATE_BV 0x{:x} (TCG does not track it and records 0), but {} hold values that are not initial: marked in use (XSTATE_BV 0x{:x})",
                                         c.xstate_bv, mask_names(unmarked), xstate_bv));
    }
    if (uint64_t outside = used & ~(c.xcr0 | 3))
        r.warnings.push_back(fmt::format("{} hold values but XCR0 0x{:x} does not enable them: kept in the area", mask_names(outside), c.xcr0));
    if (unsigned top = c.fsw >> 11 & 7)
        r.notes.push_back(fmt::format("x87: FSW.TOP is {}; QEMU copies env.fpregs into the register slots unrotated: under TCG they are the physical registers R0..R7 (ST(i) is R((TOP+i) mod 8)), under KVM ST0..ST7", top));
    r.bytes = qemu_xsave_area(c, *L, xstate_bv);
    if (!c.nested_state.empty()) {
        try {
            r.nested = nested::parse_nested_state(c.nested_state);
        } catch (const Error& e) {
            throw Error(fmt::format("offset {}: vCPU {}: cpu/nested_state read as struct kvm_nested_state: {}", c.nested_state_offset, c.index, e.what()));
        }
        r.notes.push_back(fmt::format("vCPU {}: cpu/nested_state (offset {}) rebuilt into struct kvm_nested_state, {} bytes", c.index,
                                      c.nested_state_offset, c.nested_state.size()));
    }
    r.xcr0 = mask;
    r.cpu = layout;
    return r;
}

} // namespace

Source qemu_source(std::span<const uint8_t> bytes, const SourceRequest& req) {
    auto s = read_qemu_stream(bytes);
    Source out;
    std::string note(fmt::format("QEMU migration stream: machine {}, {} vCPUs, {} device sections; RAM {} bytes in {} blocks ({} pages, {} zero pages{}) skipped",
                                    s.machine, s.cpus.size(), s.device_sections, s.ram_bytes, s.ram_blocks.size(), s.ram_pages,
                                    s.zero_pages, s.other_pages ? fmt::format(", {} compressed", s.other_pages) : ""));
    // On every area: commands print an area's notes.
    for (const auto& c : s.cpus) {
        SourceArea a = qemu_area(c, req.cpu);
        if (req.xcr0) a.xcr0 = req.xcr0;
        a.notes.insert(a.notes.begin(), note);
        out.areas.push_back(std::move(a));
    }
    return out;
}

} // namespace xsave
