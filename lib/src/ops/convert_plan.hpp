#pragma once
// Conversion plans: for one (source layout, target layout, in-use class) everything a
// conversion decides per component, decided once. Executing a plan is a few memcpy/memset
// runs and fixed stores, with no per-component step.
#include "xsave/components.hpp"
#include "xsave/convert.hpp"
#include "xsave/layout.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace xsave {

// Bytes [dst, dst + n) of the result (outside the header): copied from the input at src, or zeroed.
struct PlanRun {
    uint32_t dst, src, n;
};
// Legacy region (FXSAVE format): x87 0..159 (MXCSR at 24 is patched later), XMM0-15
// 160..415, then 416..511 that no instruction writes, kept as they are.
constexpr uint32_t kX87End = kX87Span.end(), kXmm = kXmmSpan.offset, kXmmEnd = kXmmSpan.end();
constexpr uint32_t kZeroRun = ~0u;   // PlanRun::src of a zero run

// Legacy region (3 runs), two per extended component (gap, component), the tail.
constexpr unsigned kMaxPlanRuns = 3 + 2 * 61 + 1;

using detail::PlanKey;

// The outcome's fields: `layout` is key.target; lossy are in-use components the target cannot
// take as they are; xstate_bv and xcomp_bv are the result's header words (XSTATE_BV without
// lossy); body is its bytes before any trailing bytes.
struct alignas(64) ConvertPlan : detail::PlanOutcome {
    std::array<uint8_t, 64> header{};   // bytes 512..575 of the result: the two words, then zeros
    bool fcw_init = false;       // x87 in init state: FCW is 0x037F
    bool mxcsr_init = false;     // compacted result without SSE in use: MXCSR is 0x1F80
    bool mxcsr_copied = false;   // the runs copy MXCSR and MXCSR_MASK as the result holds them
    bool patch_legacy = false;   // FCW or MXCSR/MXCSR_MASK are stored over the runs
    uint8_t count = 0;
    // Writes the runs (ops/plan_runs.hpp: vector moves for this CPU).
    void (*write)(const PlanRun*, const PlanRun*, uint8_t*, const uint8_t*) = nullptr;
    std::array<PlanRun, kMaxPlanRuns> runs;
};

// XCOMP_BV of an area in layout L: 0 in standard form.
inline uint64_t xcomp_of(const Layout& L) { return L.format == Format::Compacted ? L.mask | kCompactedBit : 0; }
using detail::standard_word;
// ConvertPlan::target_word of a plan into T.
inline uint64_t target_word_of(const Layout& T) { return T.mask | (T.format == Format::Compacted ? kCompactedBit : 0); }
// The layout of `to` that a target_word names (target_word_of's inverse).
inline const Layout& layout_of_word(const CpuModel& to, uint64_t word) {
    return to.layout(word & kCompactedBit ? Format::Compacted : Format::Standard, word & ~kCompactedBit);
}
// Bytes of a result in layout T, before any trailing bytes.
inline uint32_t body_of(const Layout& T) { return std::max<uint32_t>(T.total_size, kExtendedOffset); }

// Builds the plan for `key` (with `source` as the source layout) into `plan`.
void build_plan(const Layout& source, const PlanKey& key, ConvertPlan& plan);

struct PlanKeyHash {
    size_t operator()(const PlanKey& k) const {
        // Layout ids are small counters and XSTATE_BV uses the low bits: spread, multiply, take the top.
        uint64_t h = k.use ^ (k.source << 24) ^ (uint64_t(reinterpret_cast<uintptr_t>(k.target)) << 40) ^
                     (k.side * 0xC2B2AE3D27D4EB4Full);
        return size_t((h * 0x9E3779B97F4A7C15ull) >> 32);
    }
};

struct PlanCache {
    static constexpr unsigned kSlots = 64;
    // Beyond this many plans (random XSTATE_BV values from a fuzzer), plans are built per call.
    static constexpr size_t kMaxPlans = 4096;
    // Lock-free hits: plans are immutable and live as long as the model. `last` (the plan
    // last found by the slow path) is checked first: its address needs no hash of the key.
    std::atomic<const ConvertPlan*> last{nullptr};
    std::array<std::atomic<const ConvertPlan*>, kSlots> recent{};
    // For the *_into forms' short path, which knows the target by its target_word, not its
    // layout: plans by (source layout id, target_word, in-use set), set by the general path.
    // Several shapes converted in turn (compact, then back) each keep their slot.
    std::array<std::atomic<const ConvertPlan*>, kSlots> by_target{};
    static unsigned target_slot(uint64_t source, uint64_t target_word, uint64_t use) {
        return unsigned(((use ^ (source << 20) ^ (target_word * 0xC2B2AE3D27D4EB4Full)) * 0x9E3779B97F4A7C15ull) >> 58);
    }
    std::mutex mu;
    std::unordered_map<PlanKey, std::unique_ptr<ConvertPlan>, PlanKeyHash> plans;
};

const ConvertPlan* find_plan_slow(PlanCache& cache, const Layout& source, const PlanKey& key);

// The cached plan for `key`, built on first use; lock-free once built. Null when the source
// layout is not a cached one (LayoutId 0) or the cache is full: build into a plan of your own.
inline const ConvertPlan* find_plan(PlanCache& cache, const Layout& source, const PlanKey& key) {
    // Never true for a source id 0: no such plan is stored.
    const ConvertPlan* p = cache.last.load(std::memory_order_acquire);
    if (p && p->key == key) [[likely]] return p;
    p = cache.recent[PlanKeyHash{}(key) % PlanCache::kSlots].load(std::memory_order_acquire);
    if (p && p->key == key) return p;
    return find_plan_slow(cache, source, key);
}

} // namespace xsave
