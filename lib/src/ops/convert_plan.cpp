// Building and caching conversion plans.
#include "ops/convert_plan.hpp"
#include "ops/plan_runs.hpp"
#include "model/layout_cache.hpp"
#include "model/bytes.hpp"

#include "xsave/components.hpp"
#include "xsave/image.hpp"

#include <algorithm>

namespace xsave {

namespace {

// Appends runs, joining one to the previous when both copy (or both zero) neighbouring bytes:
// an area with every component in use becomes two or three memcpy calls.
class RunList {
public:
    explicit RunList(ConvertPlan& p) : p_(p) { p_.count = 0; }
    void copy(uint32_t dst, uint32_t src, uint32_t n) {
        if (PlanRun* l = last(); l && l->src != kZeroRun && l->dst + l->n == dst && l->src + l->n == src) {
            l->n += n;
            return;
        }
        p_.runs[p_.count++] = {dst, src, n};
    }
    void zero(uint32_t dst, uint32_t n) {
        if (PlanRun* l = last(); l && l->src == kZeroRun && l->dst + l->n == dst) {
            l->n += n;
            return;
        }
        p_.runs[p_.count++] = {dst, kZeroRun, n};
    }

private:
    PlanRun* last() { return p_.count ? &p_.runs[p_.count - 1] : nullptr; }
    ConvertPlan& p_;
};

} // namespace

PlanCache& CpuModel::make_plans() const {
    std::call_once(layouts_->plans_once, [this] {
        layouts_->plans = std::make_shared<PlanCache>();
        layouts_->plans_ready.store(layouts_->plans.get(), std::memory_order_release);
    });
    return *layouts_->plans;
}

void build_plan(const Layout& S, const PlanKey& key, ConvertPlan& plan) {
    const Layout& T = *key.target;
    const bool to_compacted = T.format == Format::Compacted;
    plan.key = key;
    plan.layout = key.target;
    plan.write = run_writer();
    // Components the target lacks, or holds at another size, cannot be taken as they are.
    uint64_t mismatch = 0;
    for (uint64_t m = key.use & T.mask & ~uint64_t(3); m; m &= m - 1) {
        unsigned b = unsigned(__builtin_ctzll(m));
        if (T.size[b] != S.size[b]) mismatch |= 1ull << b;
    }
    plan.lossy = key.use & (~T.mask | mismatch);
    const uint64_t use = key.use & ~plan.lossy, side = key.side;
    plan.xstate_bv = use | side;
    plan.xcomp_bv = xcomp_of(T);
    plan.target_word = target_word_of(T);
    plan.header.fill(0);
    store_le(plan.header.data() + (kXstateBvOffset - kHeaderOffset), plan.xstate_bv, 8);
    store_le(plan.header.data() + (kXcompBvOffset - kHeaderOffset), plan.xcomp_bv, 8);
    plan.body = body_of(T);
    plan.fcw_init = !(use & 1) && !(side & 1);
    plan.mxcsr_init = to_compacted && !(use & 2);
    // The x87 run copies bytes 24..31 from the input; when the input holds MXCSR (a standard
    // area, or a compacted one with SSE in use) they are what write_fixed would store.
    plan.mxcsr_copied = (use & 1) && !(side & 3) && !plan.mxcsr_init && (S.format == Format::Standard || (use & 2));
    plan.patch_legacy = plan.fcw_init || (!(side & 2) && !plan.mxcsr_copied);

    // Every byte of [0, body) but the sidecar's components is covered once, in offset order
    // (the header by a copy that write_fixed overwrites): zeros are every component's initial
    // configuration (FCW and MXCSR are patched), and gaps and padding are zero as XSAVE/XSAVEC
    // leave them in a zeroed buffer.
    RunList w(plan);
    if (use & 1) w.copy(0, 0, kX87End);
    else if (!(side & 1)) w.zero(0, kX87End);
    if (use & 2) w.copy(kXmm, kXmm, kXmmEnd - kXmm);
    else if (!(side & 2)) w.zero(kXmm, kXmmEnd - kXmm);
    // Through the header too, which write_fixed stores over afterwards: one run instead of two
    // where the components keep their offsets (the host's own layouts on AMD).
    w.copy(kXmmEnd, kXmmEnd, kExtendedOffset - kXmmEnd);
    uint32_t pos = kExtendedOffset;
    for (unsigned i = 0; i < T.extended_count; ++i) {
        const unsigned b = T.by_offset[i];
        const uint32_t off = T.offset[b], n = T.size[b];
        if (off > pos) w.zero(pos, off - pos);
        if (use >> b & 1) w.copy(off, S.offset[b], n);
        else if (!(side >> b & 1)) w.zero(off, n);
        pos = std::max(pos, off + n);
    }
    if (plan.body > pos) w.zero(pos, plan.body - pos);
    // A copy that ends with the header copies it for nothing: stop it before.
    for (unsigned k = 0; k < plan.count; ++k)
        if (PlanRun& r = plan.runs[k]; r.src != kZeroRun && r.dst + r.n == kExtendedOffset) r.n = kHeaderOffset - r.dst;
    const PlanRun& r0 = plan.runs[0];
    const bool whole = !plan.lossy && !side && !plan.patch_legacy && plan.count == 1 && r0.src == 0 && r0.dst == 0 &&
                       r0.n == (plan.body == kExtendedOffset ? kHeaderOffset : plan.body);
    plan.inline_word = whole ? plan.target_word : 0;
}

const ConvertPlan* find_plan_slow(PlanCache& cache, const Layout& source, const PlanKey& key) {
    if (!source.id.value) return nullptr;
    auto& slot = cache.recent[PlanKeyHash{}(key) % PlanCache::kSlots];
    std::lock_guard lock(cache.mu);
    auto it = cache.plans.find(key);
    if (it == cache.plans.end()) {
        if (cache.plans.size() >= PlanCache::kMaxPlans) return nullptr;
        auto plan = std::make_unique<ConvertPlan>();
        build_plan(source, key, *plan);
        it = cache.plans.emplace(key, std::move(plan)).first;
    }
    slot.store(it->second.get(), std::memory_order_release);
    cache.last.store(it->second.get(), std::memory_order_release);
    return it->second.get();
}

} // namespace xsave
