// Writing a plan's runs with inline vector moves (see plan_runs.hpp).
#include "ops/plan_runs.hpp"
#include "ops/vector_copy.hpp"

#include <algorithm>
#include <array>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#include <cstdlib>
#include <cstring>

namespace xsave {
namespace {

void write_runs_16(const PlanRun* r, const PlanRun* e, uint8_t* o, const uint8_t* p) { vec::write_runs<16>(r, e, o, p); }

#if defined(__x86_64__) || defined(__i386__)
[[gnu::target("avx2")]] void write_runs_32(const PlanRun* r, const PlanRun* e, uint8_t* o, const uint8_t* p) {
    vec::write_runs<32>(r, e, o, p);
}
[[gnu::target("avx512f")]] void write_runs_64(const PlanRun* r, const PlanRun* e, uint8_t* o, const uint8_t* p) {
    vec::write_runs<64>(r, e, o, p);
}

// AMD family 19h: Zen 3 and Zen 4 (of the two, only Zen 4 has AVX-512).
bool amd_family_19h() {
    unsigned a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d) || b != 0x68747541 || d != 0x69746e65 || c != 0x444d4163) return false;
    __get_cpuid(1, &a, &b, &c, &d);
    const unsigned family = a >> 8 & 0xf;
    return family == 0xf && family + (a >> 20 & 0xff) == 0x19;   // "AuthenticAMD", family 0xf + 0xa
}

std::span<const NamedRunWriter> writers_here() {
    static const auto list = [] {
        std::array<NamedRunWriter, 3> a{};
        unsigned n = 0;
        __builtin_cpu_init();
        const bool avx512 = __builtin_cpu_supports("avx512f");
        // Zen 4 runs a 512-bit load or store as two 256-bit halves: 64-byte moves were no faster
        // than 32-byte ones on a quiet host, and a run copied 256 bytes further into its page
        // (AMD -> Intel layouts) ran 2-3x slower for about one buffer pair in 12 with them
        // (bench/RESULTS.md, stop 34).
        const bool halves = avx512 && amd_family_19h();
        if (avx512 && !halves) a[n++] = {"avx512f", write_runs_64, 64};
        if (__builtin_cpu_supports("avx2")) a[n++] = {"avx2", write_runs_32, 32};
        if (halves) a[n++] = {"avx512f", write_runs_64, 64};   // offered, not picked (the tests run it)
        a[n++] = {"sse2", write_runs_16, 16};
        // XSAVE_VECTOR_WIDTH=16, 32 or 64 puts that width first where this CPU runs it: the
        // tests run every conversion path at each width, and A/Bs compare widths in one binary.
        if (const char* want = std::getenv("XSAVE_VECTOR_WIDTH")) {
            const unsigned long width = std::strtoul(want, nullptr, 10);
            for (unsigned i = 1; i < n; ++i)
                if (a[i].width == width) std::rotate(a.begin(), a.begin() + i, a.begin() + i + 1);
        }
        return std::make_pair(a, n);
    }();
    return {list.first.data(), list.second};
}
#else
std::span<const NamedRunWriter> writers_here() {
    static const NamedRunWriter only[] = {{"generic", write_runs_16, 16}};
    return only;
}
#endif

} // namespace

std::span<const NamedRunWriter> run_writers() { return writers_here(); }

RunWriter run_writer() { return writers_here().front().write; }

} // namespace xsave
