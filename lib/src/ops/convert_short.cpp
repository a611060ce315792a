// The short paths at this CPU's vector width, their copies inline: Converter::run for one
// buffer (its answer in two registers), run_many for many (one loop, no call per buffer), and
// the *_into forms' (no layout lookup, the plan returned in a register). A call a short path
// does not take goes to the general path (convert.cpp).
#include "ops/convert_exec.hpp"
#include "ops/plan_runs.hpp"
#include "ops/vector_copy.hpp"

#include "xsave/error.hpp"

#include <fmt/core.h>

namespace xsave {
namespace {

// A plan's runs, then FCW, MXCSR and the header.
template <unsigned W>
[[gnu::always_inline]] inline void write_plan(const ConvertPlan& plan, const uint8_t* p, uint8_t* o, const ByteFacts& f,
                                              const CpuModel& from) {
    vec::write_runs<W>(plan.runs.data(), plan.runs.data() + plan.count, o, p);
    write_fixed<W>(plan, p, o, f, from);
}

// The per-call path's plans that are not whole: their runs in a function of their own, which
// returns the plan, so that call_quick reaches it by a tail call and keeps fewer values live.
using CallRunsFn = const detail::PlanOutcome* (*)(const ConvertPlan* plan, const uint8_t* p, uint8_t* o, ByteFacts f,
                                                  const CpuModel* from);

// The plan in `to`'s by_target slot for the key, or null (no cache yet, or another plan there).
[[gnu::noinline]] const ConvertPlan* by_target_plan(const CpuModel& to, uint64_t source, uint64_t target, uint64_t use) {
    const PlanCache* cache = to.plans_made();
    return cache ? cache->by_target[PlanCache::target_slot(source, target, use)].load(std::memory_order_acquire) : nullptr;
}

} // namespace

template <unsigned W, Format Src, bool ToC>
[[gnu::always_inline]] inline Converter::Quick ConverterKernels::quick(const Converter& c, std::span<const uint8_t> in,
                                                                       std::span<uint8_t> out, RunsFn runs) {
    const ShortPath sp = c.short_path();
    ByteFacts f;
    if (!short_path_reads<Src, ToC>(sp, in, out, f)) [[unlikely]]
        return {Converter::kNotTaken, 0};
    // Every component in use at the same offsets: no plan to read.
    if (f.use == sp.whole_use) [[likely]] {
        vec::write_whole<W>(out.data(), in.data(), sp.body, f.use, sp.target_xcomp);
        return {f.use, 0};
    }
    return runs(c, in.data(), out.data(), f);
}

template <unsigned W>
[[gnu::always_inline]] inline Converter::Quick ConverterKernels::runs(const Converter& c, const uint8_t* p, uint8_t* o,
                                                                      ByteFacts f) {
    const ConvertPlan* plan = c.plan_.v.load(std::memory_order_acquire);
    if (!plan_takes(c.droppable_, plan, f)) [[unlikely]]
        return {Converter::kNotTaken, 0};
    // Not the whole set (checked by quick()): the plan's runs.
    write_plan<W>(*plan, p, o, f, *c.from_);
    return {plan->xstate_bv, plan->lossy};
}

namespace {

// The per-call short path of to_compacted_into, to_standard_into and relayout_into: the plan
// the target model last ran, else the one in its by_target slot, when it is for this source
// layout, this target layout (`target`: its target_word) and this in-use set, and the call
// needs nothing rare (a sidecar, a loss the options do not allow or that a sidecar receives,
// trailing bytes, a small output). No layout lookup: `target` names the layout.
template <unsigned W, bool ToC>
[[gnu::always_inline]] inline const detail::PlanOutcome* call_quick(const uint8_t* p, size_t n, uint64_t xstate_bv,
                                                                    const Layout& S, uint64_t target, uint8_t* out,
                                                                    size_t out_size, Format format, const CpuModel& to,
                                                                    const ConvertOptions& opt, const CpuModel& from,
                                                                    CallRunsFn runs) {
    if (opt.sidecar_in || n != S.total_size || (xstate_bv & ~S.mask)) return nullptr;
    const ByteFacts f = read_facts(format, xstate_bv, p, ToC);
    const auto fits = [&](const detail::PlanOutcome* c) {
        return c && c->key.source == S.id.value && c->target_word == target && c->key.use == f.use;
    };
    // The hint is a ConvertPlan once it fits: kNoCallPlan, a model's first hint, fits no call.
    const ConvertPlan* plan;
    if (const detail::PlanOutcome* hint = CallPlanHint::get(to); fits(hint)) [[likely]] {
        plan = static_cast<const ConvertPlan*>(hint);
    } else {
        plan = by_target_plan(to, S.id.value, target, f.use);
        if (!fits(plan)) return nullptr;
        CallPlanHint::set(to, plan);
    }
    if (plan->key.side || out_size < plan->body) [[unlikely]]
        return nullptr;
    // Drops by --drop supervisor are the general path's.
    if (plan->lossy && (opt.sidecar_out || (plan->lossy & ~opt.drop))) [[unlikely]]
        return nullptr;
    // A whole plan at offsets known here: the copies' addresses do not wait on the plan's runs.
    if (plan->whole()) [[likely]] {
        vec::write_whole<W>(out, p, plan->body, f.use, plan->xcomp_bv);
        return plan;
    }
    return runs(plan, p, out, f, &from);
}

// Items converted before the first one the short path does not take (`plan` may be null).
using ManyKernel = size_t (*)(const ShortPath& sp, const ConvertPlan* plan, ConvertItem* items, size_t n);

// An item whose plan is not whole, out of line (as for run()): false when `plan` does not take it.
using ManyRunsFn = bool (*)(const ShortPath& sp, const ConvertPlan* plan, ConvertItem& it, ByteFacts f);
template <unsigned W>
[[gnu::always_inline]] inline bool many_runs(const ShortPath& sp, const ConvertPlan* plan, ConvertItem& it, ByteFacts f) {
    if (!plan_takes(sp.droppable, plan, f)) return false;
    write_plan<W>(*plan, it.in.data(), it.out.data(), f, *sp.from);
    it.size = plan->body, it.xstate_bv = plan->xstate_bv, it.dropped = plan->lossy;
    return true;
}

// LongTail: every item's tail after the header is at least W bytes (run_many picks the kernel by
// the converter's body), so it is copied by a loop with no short-copy branches, which spills
// nothing around the copy (832 bytes: 0.4-0.8 ns an item faster, minima over 6-10 processes).
// The other kernel, a function of its own, keeps the 576-byte loop as it was.
template <unsigned W, Format Src, bool ToC, bool LongTail>
[[gnu::always_inline]] inline size_t short_many(const ShortPath& path, const ConvertPlan* plan, ConvertItem* items, size_t n,
                                                ManyRunsFn runs) {
    const ShortPath sp = path;   // a local: the vector stores (may_alias) do not make it reload
    for (size_t k = 0; k < n; ++k) {
        ConvertItem& it = items[k];
        ByteFacts f;
        if (!short_path_reads<Src, ToC>(sp, it.in, it.out, f)) return k;
        if (f.use == sp.whole_use) [[likely]] {
            vec::write_whole<W, LongTail>(it.out.data(), it.in.data(), sp.body, f.use, sp.target_xcomp);
            it.size = sp.body, it.xstate_bv = f.use, it.dropped = 0;
            continue;
        }
        if (!runs(sp, plan, it, f)) return k;
    }
    return n;
}

// One function per vector width, source form and target form, made with the width's vector
// registers: the forms are constants in the checks and the MXCSR rules. (Off x86 the wider
// ones are compiled plainly and never picked: run_writers() offers 16-byte moves only.)
#if defined(__x86_64__) || defined(__i386__)
#define XSAVE_WITH_AVX2 [[gnu::target("avx2")]]
#define XSAVE_WITH_AVX512 [[gnu::target("avx512f")]]
#else
#define XSAVE_WITH_AVX2
#define XSAVE_WITH_AVX512
#endif
#define XSAVE_SHORT_KERNELS(W, ATTR)                                                                              \
    [[gnu::noinline]] ATTR bool many_runs_##W(const ShortPath& sp, const ConvertPlan* plan, ConvertItem& it,     \
                                              ByteFacts f) {                                                    \
        return many_runs<W>(sp, plan, it, f);                                                                   \
    }                                                                                                           \
    template <Format Src, bool ToC, bool LongTail>                                                              \
    ATTR size_t short_many_##W(const ShortPath& sp, const ConvertPlan* plan, ConvertItem* items, size_t n) {     \
        return short_many<W, Src, ToC, LongTail>(sp, plan, items, n, many_runs_##W);                            \
    }                                                                                                           \
    [[gnu::noinline]] ATTR auto runs_##W(const Converter& c, const uint8_t* p, uint8_t* o, ByteFacts f) {      \
        return ConverterKernels::runs<W>(c, p, o, f);                                                           \
    }                                                                                                           \
    template <Format Src, bool ToC>                                                                             \
    ATTR auto quick_##W(const Converter& c, const uint8_t* in, size_t n, uint8_t* out, size_t m) {              \
        return ConverterKernels::quick<W, Src, ToC>(c, {in, n}, {out, m}, runs_##W);                            \
    }                                                                                                           \
    [[gnu::noinline]] ATTR const detail::PlanOutcome* call_runs_##W(const ConvertPlan* plan, const uint8_t* p,    \
                                                                    uint8_t* o, ByteFacts f, const CpuModel* from) { \
        write_plan<W>(*plan, p, o, f, *from);                                                                   \
        return plan;                                                                                            \
    }                                                                                                           \
    ATTR uint32_t whole_##W(uint8_t* o, const uint8_t* p, uint32_t body, uint64_t use, uint64_t xcomp) {       \
        return vec::write_whole_sized<W>(o, p, body, use, xcomp);                                               \
    }                                                                                                           \
    template <bool ToC>                                                                                         \
    ATTR const detail::PlanOutcome* call_quick_##W(const uint8_t* p, uint64_t xstate_bv, const Layout* S,         \
                                                   uint64_t target, const CpuModel* to, const detail::CallArgs& a) { \
        return call_quick<W, ToC>(p, a.n, xstate_bv, *S, target, a.out, a.out_size, a.format, *to, *a.opt, *a.from, \
                                  call_runs_##W);                                                               \
    }
// Each kernel starts a 64-byte line: where the linker put them moved compact_plan/576 and
// standard_plan/576 by 0.3-0.5 ns between builds of the same code.
#define XSAVE_LINE_ALIGNED [[gnu::aligned(64)]]
XSAVE_SHORT_KERNELS(16, XSAVE_LINE_ALIGNED)
XSAVE_SHORT_KERNELS(32, XSAVE_WITH_AVX2 XSAVE_LINE_ALIGNED)
XSAVE_SHORT_KERNELS(64, XSAVE_WITH_AVX512 XSAVE_LINE_ALIGNED)
#undef XSAVE_SHORT_KERNELS
#undef XSAVE_LINE_ALIGNED
#undef XSAVE_WITH_AVX2
#undef XSAVE_WITH_AVX512

// pick.operator()<Src, ToC>() for a converter's source form and target form.
template <class Pick>
auto for_forms(Format source, bool to_compacted, Pick pick) {
    if (source == Format::Standard)
        return to_compacted ? pick.template operator()<Format::Standard, true>() : pick.template operator()<Format::Standard, false>();
    return to_compacted ? pick.template operator()<Format::Compacted, true>() : pick.template operator()<Format::Compacted, false>();
}
unsigned vector_width() { return run_writers().front().width; }
template <class F>
F at_this_width(F f16, F f32, F f64) {
    const unsigned w = vector_width();
    return w == 64 ? f64 : w == 32 ? f32 : f16;
}

ManyKernel many_kernel(Format source, bool to_compacted, uint32_t body) {
    return for_forms(source, to_compacted, [body]<Format S, bool C>() {
        if (body >= kExtendedOffset + vector_width())
            return at_this_width<ManyKernel>(short_many_16<S, C, true>, short_many_32<S, C, true>, short_many_64<S, C, true>);
        return at_this_width<ManyKernel>(short_many_16<S, C, false>, short_many_32<S, C, false>, short_many_64<S, C, false>);
    });
}

uint32_t pick_whole(uint8_t* o, const uint8_t* p, uint32_t body, uint64_t use, uint64_t xcomp) {
    const detail::WholeFn f = at_this_width<detail::WholeFn>(whole_16, whole_32, whole_64);
    detail::whole_writer.store(f, std::memory_order_relaxed);
    return f(o, p, body, use, xcomp);
}

} // namespace

// Constant-initialized: a call from another file's static initializer finds a function.
constinit std::atomic<detail::WholeFn> detail::whole_writer{pick_whole};

Converter::QuickFn ConverterKernels::quick_for(const Converter& c) {
    if (c.opt_.sidecar_in) return not_taken;
    return for_forms(c.source_->format, c.target_->format == Format::Compacted, []<Format S, bool C>() {
        return at_this_width<Converter::QuickFn>(quick_16<S, C>, quick_32<S, C>, quick_64<S, C>);
    });
}

namespace {
// The per-call paths at this CPU's vector width, picked on first use.
template <bool ToC>
const detail::PlanOutcome* pick_call(const uint8_t* p, uint64_t xstate_bv, const Layout* S, uint64_t target,
                                     const CpuModel* to, const detail::CallArgs& a) {
    const detail::CallFn f = at_this_width<detail::CallFn>(call_quick_16<ToC>, call_quick_32<ToC>, call_quick_64<ToC>);
    detail::call_into[ToC].store(f, std::memory_order_relaxed);
    return f(p, xstate_bv, S, target, to, a);
}
} // namespace

// Constant-initialized: a call from another file's static initializer finds a function.
constinit std::atomic<detail::CallFn> detail::call_into[2]{pick_call<false>, pick_call<true>};

void Converter::run_many(std::span<ConvertItem> items, size_t first_number) const {
    const ManyKernel kernel = many_kernel(source_->format, target_->format == Format::Compacted, uint32_t(body_));
    for (size_t i = 0; i < items.size();) {
        // Again after each buffer the general path takes: it may have learnt a plan or a whole set.
        if (!opt_.sidecar_in) i += kernel(short_path(), plan_.v.load(std::memory_order_acquire), items.data() + i, items.size() - i);
        if (i == items.size()) break;
        // Another shape (a plan to find), a refusal, trailing bytes, a sidecar: as run() does it.
        ConvertItem& it = items[i];
        const detail::IntoResult r = naming(fmt::format("buffer {}", first_number + i), [&] { return run_general(it.in, it.out); });
        it.size = r.size, it.xstate_bv = r.xstate_bv, it.dropped = r.dropped;
        ++i;
    }
}

} // namespace xsave
