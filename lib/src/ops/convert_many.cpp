// Converter::run_many: the short path of run() over many buffers, its copies inline at this
// CPU's vector width (one loop, no call per buffer); a buffer it does not take goes through run().
#include "ops/convert_exec.hpp"
#include "ops/plan_runs.hpp"
#include "ops/vector_copy.hpp"

#include "xsave/error.hpp"

#include <fmt/core.h>

namespace xsave {
namespace {

// Items converted before the first one the short path does not take.
using ManyKernel = size_t (*)(const ShortPath& sp, const ConvertPlan& plan, ConvertItem* items, size_t n);

template <unsigned W>
[[gnu::always_inline]] inline size_t short_many(const ShortPath& sp, const ConvertPlan& plan, ConvertItem* items, size_t n) {
    for (size_t k = 0; k < n; ++k) {
        ConvertItem& it = items[k];
        ByteFacts f;
        if (!short_path_takes(sp, plan, it.in, it.out, f)) return k;
        vec::write_runs<W>(plan.runs.data(), plan.runs.data() + plan.count, it.out.data(), it.in.data());
        write_fixed(plan, it.in.data(), it.out.data(), f, *sp.from);
        it.size = plan.body, it.xstate_bv = plan.xstate_bv, it.dropped = plan.lossy;
    }
    return n;
}

size_t short_many_16(const ShortPath& sp, const ConvertPlan& plan, ConvertItem* items, size_t n) {
    return short_many<16>(sp, plan, items, n);
}
#if defined(__x86_64__) || defined(__i386__)
[[gnu::target("avx2")]] size_t short_many_32(const ShortPath& sp, const ConvertPlan& plan, ConvertItem* items, size_t n) {
    return short_many<32>(sp, plan, items, n);
}
[[gnu::target("avx512f")]] size_t short_many_64(const ShortPath& sp, const ConvertPlan& plan, ConvertItem* items, size_t n) {
    return short_many<64>(sp, plan, items, n);
}
#endif

ManyKernel short_many_here() {
    switch (run_writers().front().width) {
#if defined(__x86_64__) || defined(__i386__)
    case 64: return short_many_64;
    case 32: return short_many_32;
#endif
    default: return short_many_16;
    }
}

} // namespace

void Converter::run_many(std::span<ConvertItem> items, size_t first_number) const {
    static const ManyKernel kernel = short_many_here();
    const ShortPath sp = short_path();
    for (size_t i = 0; i < items.size();) {
        if (const ConvertPlan* plan = plan_.load(std::memory_order_acquire); plan && !opt_.sidecar_in)
            i += kernel(sp, *plan, items.data() + i, items.size() - i);
        if (i == items.size()) break;
        // Another shape (a plan to find), a refusal, trailing bytes, a sidecar: as run() does it.
        ConvertItem& it = items[i];
        const ConvertResult r = naming(fmt::format("buffer {}", first_number + i), [&] { return run_general(it.in, it.out); });
        it.size = r.size, it.xstate_bv = r.xstate_bv, it.dropped = r.dropped;
        ++i;
    }
}

} // namespace xsave
