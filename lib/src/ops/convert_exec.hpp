#pragma once
// The per-buffer steps of a conversion that Converter::run, run_many and the *_into forms
// share: what the input's bytes decide, the words a plan stores over its runs, and the
// Converter's short path.
#include "model/bytes.hpp"
#include "ops/convert_plan.hpp"
#include "ops/vector_copy.hpp"

#include "xsave/convert.hpp"

namespace xsave {

// What a conversion reads from the input's bytes, besides the header words.
struct ByteFacts {
    uint64_t use;        // XSTATE_BV after the MXCSR rules: the plan's key
    uint32_t mxcsr;
    bool mxcsr_saved;    // the input holds MXCSR (and MXCSR_MASK)
};

inline bool xmm_all_zero(const uint8_t* p) {
    for (uint32_t i = kXmm; i < kXmmEnd; i += 8)
        if (load_le(p + i, 8)) return false;
    return true;
}

[[gnu::always_inline]] inline ByteFacts read_facts(Format source, uint64_t xstate_bv, const uint8_t* p, bool to_compacted) {
    // MXCSR: a compacted area with SSE not in use holds no MXCSR, which is then 0x1F80.
    const bool saved = source == Format::Standard || (xstate_bv & 2);
    const uint32_t mxcsr = saved ? uint32_t(load_le(p + kMxcsrOffset, 4)) : kMxcsrInit;
    uint64_t use = xstate_bv;
    // XSAVEC (this CPU, and the SDM's "MXCSR != 0x1F80" rule) sets XSTATE_BV[1] to carry MXCSR.
    if (to_compacted && mxcsr != kMxcsrInit) use |= 2;
    // The reverse: XSTATE_BV[1] set with XMM0-15 all zero only carried MXCSR. Standard form
    // carries MXCSR regardless, and XSAVE reports such XMM state as initial.
    if (!to_compacted && source == Format::Compacted && (use & 2) && mxcsr != kMxcsrInit && xmm_all_zero(p))
        use &= ~uint64_t(2);
    return {use, mxcsr, saved};
}

// FCW, MXCSR and MXCSR_MASK over the plan's runs (unless a sidecar gave them or the runs
// copied them as they are), then the header: with W-byte moves in the short path's kernels
// (W = 0: memcpy).
template <unsigned W = 0>
[[gnu::always_inline]] inline void write_fixed(const ConvertPlan& plan, const uint8_t* p, uint8_t* o, const ByteFacts& f,
                                               const CpuModel& from) {
    if (plan.patch_legacy) [[unlikely]] {
        if (plan.fcw_init) store_le(o, kFcwInit, 2);
        if (!(plan.key.side & 2) && !plan.mxcsr_copied) {
            store_le(o + kMxcsrOffset, plan.mxcsr_init ? kMxcsrInit : f.mxcsr, 4);
            // MXCSR_MASK is not state: as stored, unless the input never had it written.
            uint32_t mask = uint32_t(load_le(p + kMxcsrMaskOffset, 4));
            if (!f.mxcsr_saved) mask = from.profile().mxcsr_mask.value_or(mask);
            store_le(o + kMxcsrMaskOffset, mask, 4);
        }
    }
    if constexpr (W != 0) {
        for (unsigned i = 0; i < plan.header.size(); i += W) vec::move<W>(o + kHeaderOffset + i, plan.header.data() + i);
    } else {
        std::memcpy(o + kHeaderOffset, plan.header.data(), plan.header.size());
    }
}

// What a Converter fixes for its short path: a buffer of exactly the source layout's size,
// with the header it expects, whose in-use set is its whole one or that its last plan takes
// with nothing to drop but what it may. The source's form and the target's are template
// arguments of the kernels (convert_short.cpp).
struct ShortPath {
    size_t source_size;
    uint64_t source_mask;
    const CpuModel* from;
    uint64_t source_xcomp;   // 0, or the source mask | bit 63
    uint64_t droppable;      // in-use components the plan may drop here (none with a sidecar_out)
    uint32_t body;           // bytes of every result
    uint64_t target_xcomp;   // XCOMP_BV of every result
    uint64_t whole_use;      // Converter::whole_use_
};

inline ShortPath Converter::short_path() const {
    return {source_size_, source_mask_, from_, source_xcomp_, droppable_, uint32_t(body_), target_xcomp_,
            whole_use_.v.load(std::memory_order_relaxed)};
}

// The facts of `in` when its size and header are the converter's source layout's, and `out`
// holds the result, else false. `Src` is the source layout's form, `ToCompacted` the target's.
template <Format Src, bool ToCompacted>
[[gnu::always_inline]] inline bool short_path_reads(const ShortPath& sp, std::span<const uint8_t> in, std::span<uint8_t> out,
                                                    ByteFacts& f) {
    if (in.size() != sp.source_size || out.size() < sp.body) return false;
    const uint8_t* p = in.data();
    const uint64_t xstate = load_le(p + kXstateBvOffset, 8);
    if (load_le(p + kXcompBvOffset, 8) != sp.source_xcomp || (xstate & ~sp.source_mask)) return false;
    f = read_facts(Src, xstate, p, ToCompacted);
    return true;
}
// Whether `plan` (for the converter's layouts) converts a buffer with facts `f` on the short
// path, dropping nothing but `droppable` (ShortPath::droppable).
inline bool plan_takes(uint64_t droppable, const ConvertPlan* plan, const ByteFacts& f) {
    return plan && plan->key.use == f.use && !(plan->lossy & ~droppable);
}

// The plan the per-call short path last ran into a model: checked before its by_target slot,
// which needs the plan cache and a hash of the key.
struct CallPlanHint {
    static const ConvertPlan* get(const CpuModel& to) { return to.hints_.call_plan.v.load(std::memory_order_acquire); }
    static void set(const CpuModel& to, const ConvertPlan* p) { to.hints_.call_plan.v.store(p, std::memory_order_release); }
};

// The per-call short path of to_compacted_into, to_standard_into and relayout_into: the plan
// in the target model's by_target slot, when it is for this source layout, this target layout (`target`: its
// ConvertPlan::target_word) and this in-use set, and the call needs nothing rare (a sidecar, a
// loss the options do not allow or that a sidecar receives, trailing bytes, a small output).
// No layout lookup: `target` names the layout. Writes the result and returns its plan, or null
// for the general path (ops/convert_short.cpp: one per vector width and target form).
using CallKernel = const detail::PlanOutcome* (*)(const AreaView& in, const CpuModel& from, const CpuModel& to,
                                                  uint64_t target, std::span<uint8_t> out, const ConvertOptions& opt);
CallKernel call_kernel(bool to_compacted);

// Converter's short path for one buffer (ops/convert_short.cpp).
struct ConverterKernels {
    // A buffer whose plan is not whole: in a function of its own (`runs`), so that quick()
    // keeps fewer values live for a whole one.
    using RunsFn = Converter::Quick (*)(const Converter& c, const uint8_t* p, uint8_t* o, ByteFacts f);
    template <unsigned W, Format Src, bool ToC>
    static Converter::Quick quick(const Converter& c, std::span<const uint8_t> in, std::span<uint8_t> out, RunsFn runs);
    template <unsigned W>
    static Converter::Quick runs(const Converter& c, const uint8_t* p, uint8_t* o, ByteFacts f);
    static Converter::Quick not_taken(const Converter&, const uint8_t*, size_t, uint8_t*, size_t) {
        return {Converter::kNotTaken, 0};
    }
    // quick() at this CPU's widest vectors for these forms, or not_taken with a sidecar to read.
    static Converter::QuickFn quick_for(const Converter& c);
};

} // namespace xsave
