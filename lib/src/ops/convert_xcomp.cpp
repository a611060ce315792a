// XCOMP_BV for a compacted result: the --xcomp-bv modes.
#include "xsave/convert.hpp"
#include "model/bytes.hpp"

#include "xsave/components.hpp"
#include "xsave/error.hpp"
#include "xsave/numbers.hpp"

#include <charconv>
#include <string>

namespace xsave {

XcompRequest parse_xcomp_mode(std::string_view text) {
    XcompRequest r;
    if (text == "xsavec") r.mode = XcompMode::Xsavec;
    else if (text == "xsaves") r.mode = XcompMode::Xsaves;
    else if (text == "minimal") r.mode = XcompMode::Minimal;
    else if (text == "mshv") r.mode = XcompMode::Mshv;
    else {
        try {
            r.mask = parse_component_mask(text, "--xcomp-bv");
        } catch (const Error&) {
            throw Error("--xcomp-bv " + std::string(text) + ": expected xsavec, xsaves, minimal, mshv, a mask or component names");
        }
        r.mode = XcompMode::Explicit;
    }
    return r;
}

uint64_t compute_xcomp_bv(const AreaView& in, const CpuModel& cpu, const XcompRequest& req) {
    uint64_t m = 0;
    // The XCR0 a standard input was saved with, as reading it inferred (dump says the same):
    // XSAVEC with RFBM = that XCR0 writes exactly those components.
    uint64_t saved = in.format == Format::Standard && in.layout ? in.layout->mask : ~0ull;
    switch (req.mode) {
    case XcompMode::Xsavec:
        m = cpu.enabled_xcr0() & req.xcr0.value_or(saved);
        break;
    case XcompMode::Xsaves:
        // Without a recorded IA32_XSS, every supervisor component the CPU supports.
        m = (cpu.enabled_xcr0() & req.xcr0.value_or(saved)) | cpu.profile().xss.value_or(cpu.supported_xss());
        break;
    case XcompMode::Minimal: {
        m = in.xstate_bv;
        // MXCSR lives with SSE in compacted form: keep bit 1 when MXCSR is not initial.
        bool saved = in.format == Format::Standard || in.in_use(1);
        if (saved && load_le(in.bytes.data() + kMxcsrOffset, 4) != kMxcsrInit) m |= 2;
        break;
    }
    case XcompMode::Mshv:
        // As the MSHV patch does: host-supported XCR0 & the guest's XCR0, so features the
        // guest has disabled (AMX) stay out.
        m = cpu.supported_xcr0() & req.xcr0.value_or(cpu.enabled_xcr0());
        break;
    case XcompMode::Explicit:
        m = req.mask;
        break;
    }
    return m | kCompactedBit;
}

} // namespace xsave
