// FXSAVE and FSAVE images as XSAVE areas: what PTRACE_GETFPREGS, NT_PRXFPREG, NT_FPREGSET and
// NetBSD's PT_GETFPREGS hold, turned into a standard area the rest of the tool decodes.
#include "xsave/components.hpp"
#include "xsave/decode.hpp"
#include "xsave/error.hpp"
#include "xsave/image.hpp"
#include "xsave/input.hpp"
#include "model/bytes.hpp"

#include <fmt/core.h>

#include <algorithm>

namespace xsave {
namespace {

std::vector<uint8_t> empty_area(uint64_t xstate_bv) {
    std::vector<uint8_t> a(kExtendedOffset, 0);
    store_le(&a[kXstateBvOffset], xstate_bv, 8);
    return a;
}

} // namespace

std::vector<uint8_t> xsave_from_fxsave(std::span<const uint8_t> fx) {
    if (fx.size() < kFxsaveSize)
        throw Error(fmt::format("{} bytes: an FXSAVE image has {}", fx.size(), kFxsaveSize));
    auto a = empty_area(0x3);
    std::copy_n(fx.begin(), kFxsaveSize, a.begin());
    return a;
}

// SDM Vol. 1 Figure 8-9 (32-bit protected mode FSAVE): FCW 0, FSW 4, full tag word 8, FIP 12,
// FCS 16 with FOP in bits 16..26 of that dword, FDP 20, FDS 24, ST0-7 packed at 28.
std::vector<uint8_t> xsave_from_fsave(std::span<const uint8_t> fs) {
    if (fs.size() < kFsaveSize)
        throw Error(fmt::format("{} bytes: an FSAVE image has {}", fs.size(), kFsaveSize));
    auto a = empty_area(0x1);
    uint8_t* p = a.data();
    store_le(p + 0, load_le(fs.data() + 0, 2), 2);
    store_le(p + 2, load_le(fs.data() + 4, 2), 2);
    uint64_t tag = load_le(fs.data() + 8, 2);
    uint8_t abridged = 0;   // bit i set unless R(i) is tagged empty (11)
    for (unsigned i = 0; i < 8; ++i)
        if ((tag >> (2 * i) & 3) != 3) abridged |= uint8_t(1u << i);
    p[4] = abridged;
    uint64_t cs_op = load_le(fs.data() + 16, 4);
    store_le(p + 6, cs_op >> 16 & 0x7ff, 2);
    store_le(p + 8, load_le(fs.data() + 12, 4), 4);
    store_le(p + 12, cs_op & 0xffff, 2);
    store_le(p + 16, load_le(fs.data() + 20, 4), 4);
    store_le(p + 20, load_le(fs.data() + 24, 2), 2);
    // SSE stays in its initial state (XSTATE_BV bit 1 clear); standard form stores MXCSR as is.
    store_le(p + kMxcsrOffset, kMxcsrInit, 4);
    for (unsigned i = 0; i < 8; ++i) std::copy_n(fs.begin() + 28 + 10 * i, 10, a.begin() + 32 + 16 * i);
    return a;
}

std::vector<std::string> legacy_differences(std::span<const uint8_t> xs, std::span<const uint8_t> built, bool with_sse,
                                            bool legacy32) {
    std::vector<std::string> out;
    if (xs.size() < kExtendedOffset || built.size() < kExtendedOffset) return out;
    uint64_t bv = load_le(xs.data() + kXstateBvOffset, 8);
    std::vector<uint8_t> a, b;
    for (unsigned bit = 0; bit < (with_sse ? 2u : 1u); ++bit) {
        for (const auto& f : component_info(bit)->fields) {
            // As the CPU would load them: an init component's fields read as initial values.
            bool stored = (bv >> bit & 1) || f.init == Init::Stored || f.init == Init::Mxcsr;
            for (unsigned i = 0; i < field_instances(f, legacy32); ++i) {
                uint32_t at = f.offset + i * f.stride;
                a.assign(f.width, 0);
                if (stored) std::copy_n(xs.begin() + at, f.width, a.begin());
                else init_value(f, a.data());
                // FCS/FDS are 0 in the 64-bit form a 64-bit kernel saves; its FSAVE note fills them
                // from the thread's segment registers instead: not a disagreement.
                if (f.only32 && std::all_of(a.begin(), a.end(), [](uint8_t x) { return x == 0; })) continue;
                b.assign(built.begin() + at, built.begin() + at + f.width);
                if (a != b) out.push_back(field_instance_name(f, i));
            }
        }
    }
    return out;
}

} // namespace xsave
