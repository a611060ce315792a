#pragma once
// Inline vector moves for a plan's runs, templated on the vector width W (16, 32 or 64 bytes).
// Instantiate them only inside functions compiled for a target with W-byte vectors
// (gnu::target("avx2") for 32, "avx512f" for 64): see plan_runs.cpp and convert_many.cpp.
#include "ops/convert_plan.hpp"

#include <cstdint>

namespace xsave::vec {

// W bytes moved as one vector: an unaligned, aliasing vector type (GCC/Clang extension) is
// one register move where the target has it. (memcpy of 64 bytes would be split in two 32-byte
// moves under GCC's generic tuning.)
template <unsigned W>
struct Vec {
    typedef uint8_t type __attribute__((vector_size(W), aligned(1), may_alias));
};
// W bytes as 64-bit lanes (W >= 16).
template <unsigned W>
struct Words {
    typedef uint64_t type __attribute__((vector_size(W), aligned(1), may_alias));
};

template <unsigned W>
[[gnu::always_inline]] inline void move(uint8_t* d, const uint8_t* s) {
    using V = typename Vec<W>::type;
    *reinterpret_cast<V*>(d) = *reinterpret_cast<const V*>(s);
}
template <unsigned W>
[[gnu::always_inline]] inline void put_zero(uint8_t* d) {
    using V = typename Vec<W>::type;
    *reinterpret_cast<V*>(d) = V{};
}

// Under W bytes: two moves of the largest power of two that fits, overlapping in the middle.
template <unsigned W>
[[gnu::always_inline]] inline void copy_short(uint8_t* d, const uint8_t* s, uint32_t n) {
    if constexpr (W > 1) {
        constexpr unsigned H = W / 2;
        if (n >= H) {
            move<H>(d, s);
            move<H>(d + n - H, s + n - H);
        } else {
            copy_short<H>(d, s, n);
        }
    } else if (n) {
        *d = *s;
    }
}
template <unsigned W>
[[gnu::always_inline]] inline void zero_short(uint8_t* d, uint32_t n) {
    if constexpr (W > 1) {
        constexpr unsigned H = W / 2;
        if (n >= H) {
            put_zero<H>(d);
            put_zero<H>(d + n - H);
        } else {
            zero_short<H>(d, n);
        }
    } else if (n) {
        *d = 0;
    }
}

// Four vectors a step, then one at a time, then the last W bytes again (overlapping).
template <unsigned W>
[[gnu::always_inline]] inline void copy_run(uint8_t* d, const uint8_t* s, uint32_t n) {
    if (n < W) return copy_short<W>(d, s, n);
    uint32_t i = 0;
    for (; i + 4 * W <= n; i += 4 * W) {
        move<W>(d + i, s + i);
        move<W>(d + i + W, s + i + W);
        move<W>(d + i + 2 * W, s + i + 2 * W);
        move<W>(d + i + 3 * W, s + i + 3 * W);
    }
    for (; i + W <= n; i += W) move<W>(d + i, s + i);
    if (i < n) move<W>(d + n - W, s + n - W);
}
// n >= W: four vectors a step, then one, then the last W bytes again; three pointers live.
// copy_run keeps its own indexed loop: written as a call of this one, standard/576 and 832 per
// call were 0.5-0.9 ns slower (two A/Bs of 10 processes, stop 33).
template <unsigned W>
[[gnu::always_inline]] inline void copy_run_long(uint8_t* d, const uint8_t* s, uint32_t n) {
    const uint8_t* end = s + n;
    for (; end - s >= 4 * W; s += 4 * W, d += 4 * W) {
        move<W>(d, s);
        move<W>(d + W, s + W);
        move<W>(d + 2 * W, s + 2 * W);
        move<W>(d + 3 * W, s + 3 * W);
    }
    for (; end - s >= W; s += W, d += W) move<W>(d, s);
    if (s != end) move<W>(d + (end - s) - W, end - W);
}
template <unsigned W>
[[gnu::always_inline]] inline void zero_run(uint8_t* d, uint32_t n) {
    if (n < W) return zero_short<W>(d, n);
    uint32_t i = 0;
    for (; i + 4 * W <= n; i += 4 * W) {
        put_zero<W>(d + i);
        put_zero<W>(d + i + W);
        put_zero<W>(d + i + 2 * W);
        put_zero<W>(d + i + 3 * W);
    }
    for (; i + W <= n; i += W) put_zero<W>(d + i);
    if (i < n) put_zero<W>(d + n - W);
}

// A plan's `whole` result: the header {xstate_bv, xcomp_bv} and zeros as whole vectors, then
// the legacy region and [576, body) at offsets known here (no load from the plan before the
// copies). The header goes first (no copy covers it): its two words are then dead during the
// copies, and the out-of-line writer saves no register (0.7-1.1 ns a call at 576-832 bytes).
template <unsigned W>
[[gnu::always_inline]] inline void write_whole_head(uint8_t* o, const uint8_t* p, uint64_t xstate_bv, uint64_t xcomp_bv) {
    typename Words<W>::type h{};
    h[0] = xstate_bv, h[1] = xcomp_bv;
    *reinterpret_cast<typename Words<W>::type*>(o + kHeaderOffset) = h;
    for (unsigned i = W; i < kExtendedOffset - kHeaderOffset; i += W) put_zero<W>(o + kHeaderOffset + i);
    for (unsigned i = 0; i < kHeaderOffset; i += W) move<W>(o + i, p + i);
}
// LongTail: the caller knows body >= kExtendedOffset + W (run_many: the same body for every item).
template <unsigned W, bool LongTail = false>
[[gnu::always_inline]] inline void write_whole(uint8_t* o, const uint8_t* p, uint32_t body, uint64_t xstate_bv,
                                               uint64_t xcomp_bv) {
    write_whole_head<W>(o, p, xstate_bv, xcomp_bv);
    if constexpr (LongTail) copy_run_long<W>(o + kExtendedOffset, p + kExtendedOffset, body - kExtendedOffset);
    else if (body > kExtendedOffset) copy_run<W>(o + kExtendedOffset, p + kExtendedOffset, body - kExtendedOffset);
}
// The same, returning `body` (detail::whole_writer), taken from the tail's count where there is
// a tail: body itself kept across the tail copy made the writer save two registers
// (compact/832 +0.3 ns). The Converter's kernels keep write_whole: this form made their
// 576-byte rows 0.3-1.0 ns slower (run and run_many, minima over 10 processes).
template <unsigned W>
[[gnu::always_inline]] inline uint32_t write_whole_sized(uint8_t* o, const uint8_t* p, uint32_t body, uint64_t xstate_bv,
                                                         uint64_t xcomp_bv) {
    write_whole_head<W>(o, p, xstate_bv, xcomp_bv);
    if (body <= kExtendedOffset) return body;
    uint32_t n = body - kExtendedOffset;
    asm("" : "+r"(n));   // else GCC returns body, kept across the copy
    copy_run<W>(o + kExtendedOffset, p + kExtendedOffset, n);
    return n + kExtendedOffset;
}

template <unsigned W>
[[gnu::always_inline]] inline void write_runs(const PlanRun* r, const PlanRun* e, uint8_t* o, const uint8_t* p) {
    for (; r != e; ++r) {
        if (r->src == kZeroRun) zero_run<W>(o + r->dst, r->n);
        else copy_run<W>(o + r->dst, p + r->src, r->n);
    }
}

} // namespace xsave::vec
