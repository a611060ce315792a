#pragma once
// The conversions into the caller's buffer (the hot paths), inline: a call whose plan the
// target model last ran and is whole is written here; others go to the short path
// (ops/convert_short.cpp), then the general one (ops/convert.cpp).
#include "xsave/components.hpp"
#include "xsave/convert_types.hpp"
#include "xsave/image.hpp"
#include "xsave/layout.hpp"
#include "xsave/le_bytes.hpp"

#include <atomic>
#include <cstdint>
#include <span>

namespace xsave {

// The same conversions into the caller's buffer, for hot paths: no allocation (unless a
// sidecar receives dropped state), every byte of out[0, result.size) written. `out`
// needs the target layout's total_size (at least 576), plus the trailing bytes with
// keep_trailing; a smaller buffer is an Error naming the size needed. `out` must not overlap
// the input. (Inline: defined below.)
ConvertResult to_compacted_into(const AreaView& in, const CpuModel& cpu, uint64_t xcomp_bv, std::span<uint8_t> out,
                                const ConvertOptions& opt = kNoConvertOptions);
ConvertResult to_standard_into(const AreaView& in, const CpuModel& cpu, std::span<uint8_t> out,
                               const ConvertOptions& opt = kNoConvertOptions);
ConvertResult relayout_into(const AreaView& in, const CpuModel& from, const CpuModel& to, Format target,
                            std::span<uint8_t> out, const ConvertOptions& opt = kNoConvertOptions);

namespace detail {
// A conversion plan's key (ops/convert_plan.hpp).
struct PlanKey {
    uint64_t source = 0;              // LayoutId of the source layout
    const Layout* target = nullptr;   // owned by the model holding the cache
    uint64_t use = 0;                 // XSTATE_BV after the MXCSR rules, before drops
    uint64_t side = 0;                // components a sidecar puts back
    bool operator==(const PlanKey&) const = default;
};
// A conversion plan's fields that the inline paths read (ops/convert_plan.hpp has the rest).
// The *_into forms' short path (ops/convert_short.cpp) returns the plan it ran, whose fields
// are the result's: a pointer in a register, where a ConvertResult returned from a call is ten
// words stored and read back (see Converter::run).
struct PlanOutcome {
    // target_word when the plan is whole, else 0 (no layout's word): whole_inline's one test
    // for both. The fields whole_inline reads come first, in one cache line (ConvertPlan is
    // 64-aligned).
    uint64_t inline_word = 0;
    uint64_t xcomp_bv = 0;
    uint32_t body = 0;                // bytes of the result
    PlanKey key;
    const Layout* layout = nullptr;   // of the result
    uint64_t xstate_bv = 0;
    uint64_t lossy = 0;               // in-use components the target cannot take as they are
    // Which of its model's layouts the target is: its mask, with bit 63 set when compacted
    // (the model keeps one layout per form and mask).
    uint64_t target_word = 0;
    // The result is the input's bytes [0, 512) and [576, body) as they are, under the header
    // {key.use, xcomp_bv} and zeros: nothing dropped, patched or zeroed (every component in
    // use, at the same offsets). Such a result is copied with no plan's runs to read.
    bool whole() const { return inline_word != 0; }
};
// A result written into the caller's buffer: a ConvertResult without `bytes` (empty there).
// Trivially copyable, so that the caller's ConvertResult is built from it in registers: the
// general path returning a ConvertResult would make the caller keep its result in memory on
// the short path too (twelve words stored per call).
struct IntoResult {
    size_t size = 0;
    const Layout* layout = nullptr;
    uint64_t xstate_bv = 0, xcomp_bv = 0, dropped = 0, restored = 0;
    size_t trailing = 0;
};
// A call whole_inline did not take, as the short path (ops/convert_short.cpp) and the general
// path (ops/convert.cpp) read it. Built only on that path, so the inline path keeps the view's
// fields in registers: the view itself, once its address is taken, is kept in memory; and
// thirteen arguments (seven pushed) cost the caller its frame pointer and spilled its loop.
struct CallArgs {
    const uint8_t* p;
    size_t n;
    uint64_t xstate_bv, xcomp_bv;
    const Layout* layout;
    Format format;
    uint64_t target_word;
    uint8_t* out;
    size_t out_size;
    const CpuModel *to, *from;
    const ConvertOptions* opt;
};
IntoResult general_into(const CallArgs& a);
// The short path (ops/convert_short.cpp, call_quick) at this CPU's vector width, [to
// compacted]: writes a result whose plan the target model holds and returns the plan, else
// null (for general_into). The fields its checks start from come in registers as well.
using CallFn = const PlanOutcome* (*)(const uint8_t* p, uint64_t xstate_bv, const Layout* source, uint64_t target_word,
                                      const CpuModel* to, const CallArgs& a);
extern std::atomic<CallFn> call_into[2];
// relayout's compacted target when the options give no XCOMP_BV (compute_xcomp_bv's default),
// as a target_word. The view's fields, not the view (see CallArgs).
uint64_t relayout_compacted_word(std::span<const uint8_t> bytes, Format format, uint64_t xstate_bv, uint64_t xcomp_bv,
                                 const Layout* layout, const CpuModel& to);

// The layout word (PlanOutcome::target_word) of the standard layout for `mask`: bits 0 and 1
// are in every standard layout.
inline uint64_t standard_word(uint64_t mask) { return (mask | 3) & ~(1ull << 63); }
// A standard result's mask when the options give none. Same CPU: what the input holds (a
// compacted area's XCOMP_BV is the XCR0 XSAVEC ran with). Another CPU: its enabled XCR0, so
// A -> B -> A comes back at A's size.
inline uint64_t default_standard_mask(const AreaView& in, const CpuModel& to, bool same_cpu) {
    if (!same_cpu) return to.enabled_xcr0();
    if (in.format == Format::Compacted) return (in.xcomp_bv & ~(1ull << 63)) & to.supported_xcr0();
    return in.layout->mask;
}

// Standard form on the same CPU: the mask the result holds.
inline uint64_t same_cpu_standard_mask(const AreaView& in, const CpuModel& cpu, const ConvertOptions& opt) {
    return opt.xcr0 ? *opt.xcr0 : default_standard_mask(in, cpu, true);
}
// relayout's target: which of `to`'s layouts, as a target_word.
inline uint64_t relayout_word(const AreaView& in, const CpuModel& to, Format target, const ConvertOptions& opt) {
    if (target == Format::Standard) return standard_word(opt.xcr0 ? *opt.xcr0 : default_standard_mask(in, to, false));
    if (opt.xcomp_bv) return *opt.xcomp_bv | (1ull << 63);
    return relayout_compacted_word(in.bytes, in.format, in.xstate_bv, in.xcomp_bv, in.layout, to);
}

inline IntoResult outcome(const PlanOutcome& q) {
    return {.size = q.body, .layout = q.layout, .xstate_bv = q.xstate_bv, .xcomp_bv = q.xcomp_bv, .dropped = q.lossy};
}
inline ConvertResult result(const IntoResult& g) {
    ConvertResult r;
    r.size = g.size, r.layout = g.layout, r.xstate_bv = g.xstate_bv, r.xcomp_bv = g.xcomp_bv, r.dropped = g.dropped;
    r.restored = g.restored, r.trailing = g.trailing;
    return r;
}
} // namespace detail

// The plan the *_into forms last ran into a model (a ConvertPlan), set by their short path.
struct CallPlanHint {
    static const detail::PlanOutcome* get(const CpuModel& to) { return to.hints_.call_plan.v.load(std::memory_order_acquire); }
    static void set(const CpuModel& to, const detail::PlanOutcome* p) {
        to.hints_.call_plan.v.store(p, std::memory_order_release);
    }
};

namespace detail {
// What a conversion reads from the input's bytes, besides the header words.
struct ByteFacts {
    uint64_t use;        // XSTATE_BV after the MXCSR rules: the plan's key
    uint32_t mxcsr;
    bool mxcsr_saved;    // the input holds MXCSR (and MXCSR_MASK)
};

// Whether the area's bytes from `from` to the end of XMM15 are all zero.
inline bool xmm_zero_from(const uint8_t* p, uint32_t from) {
    for (uint32_t i = from; i < kXmmSpan.end(); i += 8)
        if (load_le(p + i, 8)) return false;
    return true;
}
// Past XMM0's low half, out of line: inlined into a caller's loop, GCC saved its registers on
// the stack.
[[gnu::noinline]] inline bool xmm_rest_zero_call(const uint8_t* p) { return xmm_zero_from(p, kXmmSpan.offset + 8); }

// The MXCSR rules below test XMM0's low half before MXCSR: XMM state in use is rarely zero
// there, so the common case is one load and one branch (the MXCSR compare first ran 7-9
// instructions more a call). InCaller: inlined into the caller of an *_into form, which tests
// the rest of XMM0-15 out of line.
template <bool InCaller = false>
[[gnu::always_inline]] inline ByteFacts read_facts(Format source, uint64_t xstate_bv, const uint8_t* p, bool to_compacted) {
    // MXCSR: a compacted area with SSE not in use holds no MXCSR, which is then 0x1F80.
    const bool saved = source == Format::Standard || (xstate_bv & 2);
    const uint32_t mxcsr = saved ? uint32_t(load_le(p + kMxcsrOffset, 4)) : kMxcsrInit;
    uint64_t use = xstate_bv;
    // XSAVEC (this CPU, and the SDM's "MXCSR != 0x1F80" rule) sets XSTATE_BV[1] to carry MXCSR.
    if (to_compacted && mxcsr != kMxcsrInit) use |= 2;
    // The reverse: XSTATE_BV[1] set with XMM0-15 all zero only carried MXCSR. Standard form
    // carries MXCSR regardless, and XSAVE reports such XMM state as initial.
    if (!to_compacted && source == Format::Compacted && (use & 2) && !load_le(p + kXmmSpan.offset, 8) &&
        mxcsr != kMxcsrInit) [[unlikely]] {
        if (InCaller ? xmm_rest_zero_call(p) : xmm_zero_from(p, kXmmSpan.offset + 8)) use &= ~uint64_t(2);
    }
    return {use, mxcsr, saved};
}

// A whole plan's result (ops/vector_copy.hpp, write_whole) at this CPU's widest vectors:
// inline moves copy 576 bytes faster than a call to memcpy (ops/convert_short.cpp).
// Returns `body`, the result's size: a caller reading only the size then keeps no register
// for the plan across the call, and its loop keeps its own pointers in registers (the output
// pointer reloaded from the stack before every call cost standard/576 and convert/576 up to 0.4 ns).
using WholeFn = uint32_t (*)(uint8_t* out, const uint8_t* in, uint32_t body, uint64_t xstate_bv, uint64_t xcomp_bv);
extern std::atomic<WholeFn> whole_writer;
// The call written here when the model's last plan is whole and fits it (`target_word`: the
// target layout as PlanOutcome::target_word names it): the input's bytes under a new header,
// with one call (whole_writer) and the view's fields in registers. Per call at 576 bytes, the
// calls into the short path and the view passed through memory cost as much as the copy.
// Else null, for the short path.
template <bool ToCompacted>
[[gnu::always_inline]] inline const PlanOutcome* whole_inline(const AreaView& in, const CpuModel& to, uint64_t target_word,
                                                              std::span<uint8_t> out, const ConvertOptions& opt,
                                                              uint32_t& size) {
    const PlanOutcome* q = CallPlanHint::get(to);   // never null (kNoCallPlan)
    if (q->inline_word != target_word || opt.sidecar_in) return nullptr;
    const Layout& S = *in.layout;
    if (q->key.source != S.id.value || in.bytes.size() != S.total_size || out.size() < q->body)
        return nullptr;
    const uint8_t* p = in.bytes.data();
    const uint64_t use = read_facts<true>(in.format, in.xstate_bv, p, ToCompacted).use;
    if (use != q->key.use) return nullptr;
    size = whole_writer.load(std::memory_order_relaxed)(out.data(), p, q->body, use, q->xcomp_bv);
    return q;
}

// whole_inline, else the out-of-line paths.
template <bool ToCompacted>
[[gnu::always_inline]] inline ConvertResult into(const AreaView& in, const CpuModel& from, const CpuModel& to,
                                                 uint64_t target_word, std::span<uint8_t> out, const ConvertOptions& opt) {
    uint32_t size;
    if (const PlanOutcome* q = whole_inline<ToCompacted>(in, to, target_word, out, opt, size)) [[likely]] {
        IntoResult r = outcome(*q);
        r.size = size;
        return result(r);
    }
    const CallArgs a{in.bytes.data(), in.bytes.size(), in.xstate_bv, in.xcomp_bv, in.layout, in.format,
                     target_word, out.data(), out.size(), &to, &from, &opt};
    const CallArgs* ap = stack_address(a);
    const PlanOutcome* q = call_into[ToCompacted].load(std::memory_order_relaxed)(in.bytes.data(), in.xstate_bv, in.layout,
                                                                                  target_word, &to, *ap);
    return result(q ? outcome(*q) : general_into(*ap));
}
} // namespace detail

inline ConvertResult to_compacted_into(const AreaView& in, const CpuModel& cpu, uint64_t xcomp_bv, std::span<uint8_t> out,
                                       const ConvertOptions& opt) {
    return detail::into<true>(in, cpu, cpu, xcomp_bv | (1ull << 63), out, opt);
}
inline ConvertResult to_standard_into(const AreaView& in, const CpuModel& cpu, std::span<uint8_t> out,
                                      const ConvertOptions& opt) {
    return detail::into<false>(in, cpu, cpu, detail::standard_word(detail::same_cpu_standard_mask(in, cpu, opt)), out, opt);
}
inline ConvertResult relayout_into(const AreaView& in, const CpuModel& from, const CpuModel& to, Format target,
                                   std::span<uint8_t> out, const ConvertOptions& opt) {
    const uint64_t word = detail::relayout_word(in, to, target, opt);
    if (target == Format::Standard) return detail::into<false>(in, from, to, word, out, opt);
    return detail::into<true>(in, from, to, word, out, opt);
}

} // namespace xsave
