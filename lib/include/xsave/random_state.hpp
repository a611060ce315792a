#pragma once
// Random but valid register states, for conformance tests and `capture --random SEED`.
#include "xsave/layout.hpp"

#include <cstdint>
#include <optional>
#include <vector>

namespace xsave {

struct RandomStateOptions {
    // Components in use (XSTATE_BV); default: a random subset of the XCR0 given.
    std::optional<uint64_t> xstate_bv;
    // MXCSR bits the state may set; 0xFFBF (no DAZ) is safe on every CPU with SSE.
    uint32_t mxcsr_mask = 0xFFBF;
    // Written at MXCSR_MASK (offset 28); XRSTOR ignores it. Default: the profile's recorded
    // MXCSR_MASK, else 0xFFBF.
    std::optional<uint32_t> mxcsr_mask_field;
};

// A standard-form XSAVE area of cpu.standard(xcr0).total_size bytes that XRSTOR accepts:
// register bytes random in in-use components (only the bytes the catalogue names as registers,
// so reserved bytes stay zero), initial configuration elsewhere, x87 exceptions all masked,
// FOP/FIP/FDP zero, MXCSR random within the mask (exceptions masked; half the time 0x1F80),
// header bytes 8..63 zero. The same (cpu, xcr0, seed, options) always gives the same bytes.
std::vector<uint8_t> random_standard_state(const CpuModel& cpu, uint64_t xcr0, uint64_t seed,
                                           const RandomStateOptions& opt = {});

} // namespace xsave
