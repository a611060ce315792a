#pragma once
// Writing a plan's runs. A plan's runs are few and mostly short (a component is 8 to 8192
// bytes), where a call to memcpy/memset costs as much as the copy and glibc starts `rep movsb`
// from 2048 bytes. These writers copy with inline vector moves of the width this CPU runs best
// (the widest, but 32 bytes on Zen 4), chosen once (XSAVE_VECTOR_WIDTH forces one: plan_runs.cpp).
#include "ops/convert_plan.hpp"

#include <cstdint>
#include <span>

namespace xsave {

// For each run: o[dst, dst + n) = p[src, src + n), or zeros for a zero run. `o` and `p` do not overlap.
using RunWriter = void (*)(const PlanRun* begin, const PlanRun* end, uint8_t* o, const uint8_t* p);

// The writer for this CPU.
RunWriter run_writer();

// Each writer this CPU can run, the one picked first, with its name (for the tests: all write the same bytes).
struct NamedRunWriter {
    const char* name;
    RunWriter write;
    unsigned width;   // bytes per vector move: 64, 32 or 16
};
std::span<const NamedRunWriter> run_writers();

} // namespace xsave
