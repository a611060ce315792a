#pragma once
// The per-buffer steps of a conversion that Converter::run, run_many and the *_into forms
// share: what the input's bytes decide, the words a plan stores over its runs, and the
// Converter's short path.
#include "model/bytes.hpp"
#include "ops/convert_plan.hpp"
#include "ops/vector_copy.hpp"

#include "xsave/convert.hpp"

namespace xsave {

using detail::ByteFacts;
using detail::read_facts;

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
    // quick() at this CPU's vector width (run_writers()) for these forms, or not_taken with a sidecar to read.
    static Converter::QuickFn quick_for(const Converter& c);
};

} // namespace xsave
