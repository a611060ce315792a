// Writing a plan's runs with inline vector moves (see plan_runs.hpp).
#include "ops/plan_runs.hpp"
#include "ops/vector_copy.hpp"

#include <array>
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

std::span<const NamedRunWriter> writers_here() {
    static const auto list = [] {
        std::array<NamedRunWriter, 3> a{};
        unsigned n = 0;
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f")) a[n++] = {"avx512f", write_runs_64, 64};
        if (__builtin_cpu_supports("avx2")) a[n++] = {"avx2", write_runs_32, 32};
        a[n++] = {"sse2", write_runs_16, 16};
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
