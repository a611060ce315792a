// Layout engine: standard and compacted offsets from CPUID leaf 0xD, cached per mask.
#include "xsave/layout.hpp"
#include "model/layout_cache.hpp"

#include "xsave/components.hpp"
#include "xsave/convert_into.hpp"
#include "xsave/error.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <map>
#include <mutex>

namespace xsave {

// The hint of a model no *_into call has run into (CpuModel::Hints).
const detail::PlanOutcome detail::kNoCallPlan{};

const char* format_name(Format f) { return f == Format::Standard ? "standard" : "compacted"; }

std::vector<unsigned> Layout::bits() const {
    std::vector<unsigned> r;
    for (unsigned b = 0; b < 63; ++b)
        if (has(b)) r.push_back(b);
    return r;
}

std::optional<Leaf0D> read_leaf0d(const Profile& p) {
    const CpuidLeaf* l0 = p.find(0xD, 0);
    if (!l0) return std::nullopt;
    Leaf0D r;
    r.xcr0_supported = uint64_t(l0->edx) << 32 | l0->eax;
    r.enabled_size = l0->ebx;
    r.max_size = l0->ecx;
    if (const CpuidLeaf* l1 = p.find(0xD, 1)) {
        r.has_subleaf1 = true;
        r.subleaf1_eax = l1->eax;
        r.xsaves_size = l1->ebx;
        r.xss_supported = uint64_t(l1->edx) << 32 | l1->ecx;
    }
    // The legacy region has fixed positions; CPUID subleaves 0 and 1 describe other things.
    r.g[0] = {true, kX87Span.size, kX87Span.offset, false, false, false};
    r.g[1] = {true, kXmmSpan.size, kXmmSpan.offset, false, false, false};
    for (unsigned b = 2; b < 63; ++b)
        if (const CpuidLeaf* l = p.find(0xD, b))
            r.g[b] = {((r.xcr0_supported | r.xss_supported) >> b & 1) != 0, l->eax, l->ebx, (l->ecx & 1) != 0,
                      (l->ecx >> 1 & 1) != 0, (l->ecx >> 2 & 1) != 0};
    return r;
}

uint32_t place_components(const Geometry& g, Format f, uint64_t mask, std::array<uint32_t, 63>* offset) {
    uint64_t end = kExtendedOffset;
    for (unsigned b = 2; b < 63; ++b) {
        if (!(mask >> b & 1)) continue;
        uint64_t at = g[b].std_offset;
        if (f == Format::Compacted) {
            if (g[b].align64) end = (end + 63) & ~uint64_t(63);
            at = end;
        }
        if (offset) (*offset)[b] = uint32_t(at);
        end = f == Format::Compacted ? at + g[b].size : std::max<uint64_t>(end, at + g[b].size);
    }
    return uint32_t(end);
}

std::vector<std::pair<unsigned, unsigned>> standard_overlaps(const Geometry& g, uint64_t mask) {
    std::vector<std::pair<unsigned, unsigned>> r;
    for (unsigned a = 2; a < 63; ++a)
        for (unsigned b = a + 1; b < 63; ++b) {
            if (!(mask >> a & 1) || !(mask >> b & 1)) continue;
            const auto &ga = g[a], &gb = g[b];
            if (!ga.size || !gb.size || ga.supervisor || gb.supervisor) continue;
            if (ga.std_offset < gb.std_offset + gb.size && gb.std_offset < ga.std_offset + ga.size) r.emplace_back(a, b);
        }
    return r;
}

CpuModel::CpuModel(Profile p) : profile_(std::move(p)), layouts_(std::make_shared<LayoutCache>()) {
    plans_ready_ = &layouts_->plans_ready;
    auto leaf = read_leaf0d(profile_);
    if (!leaf) throw Error("profile " + profile_.name + ": no CPUID leaf 0xD subleaf 0 (XSAVE not enumerated)");
    xcr0_supported_ = leaf->xcr0_supported & ~kCompactedBit;
    xss_supported_ = leaf->xss_supported & ~kCompactedBit;
    enabled_xcr0_ = profile_.xcr0 ? *profile_.xcr0 : (xcr0_supported_ & ~xss_supported_);
    leaf1_eax_ = leaf->subleaf1_eax;
    uint64_t all = xcr0_supported_ | xss_supported_;
    geom_[0] = leaf->g[0];
    geom_[1] = leaf->g[1];
    for (unsigned b = 2; b < 63; ++b) {
        if (!(all >> b & 1)) continue;
        const ComponentGeometry& g = leaf->g[b];
        if (g.size == 0) {
            warnings_.push_back(fmt::format("CPUID.(0xD,{}) is {} for supported component {} (bit {}): it cannot be placed",
                                            b, profile_.find(0xD, b) ? "empty" : "missing", component_name(b), b));
            geom_[b].enumerated = true;
            continue;
        }
        if (g.size > kMaxComponentSize || uint64_t(g.std_offset) + g.size > kMaxComponentSize)
            throw Error(fmt::format("profile {}: CPUID.(0xD,{}) gives {} (bit {}) size {} at offset {}: beyond the {}-byte limit",
                                    profile_.name, b, component_name(b), b, g.size, g.std_offset, kMaxComponentSize));
        geom_[b] = g;
    }
    // Overlapping user components (e.g. MPX and APX) cannot share one standard layout.
    for (auto [a, b] : standard_overlaps(geom_, all)) {
        const auto &ga = geom_[a], &gb = geom_[b];
        warnings_.push_back(fmt::format("standard offsets of {} (bit {}, 0x{:x}..0x{:x}) and {} (bit {}, 0x{:x}..0x{:x}) overlap",
                                        component_name(a), a, ga.std_offset, ga.std_offset + ga.size,
                                        component_name(b), b, gb.std_offset, gb.std_offset + gb.size));
    }
}

uint64_t CpuModel::enabled_xss() const { return profile_.xss ? *profile_.xss : 0; }


const Layout& CpuModel::cached(Format f, uint64_t mask) const {
    const LayoutCache::Entry* e = layouts_->recent[int(f)][LayoutCache::recent_slot(mask)].load(std::memory_order_acquire);
    if (e && e->key == mask) return e->layout;
    return cached_slow(f, mask);
}

const Layout& CpuModel::cached_slow(Format f, uint64_t mask) const {
    std::lock_guard lock(layouts_->mu);
    std::pair<int, uint64_t> key{int(f), mask};
    auto it = layouts_->entries.find(key);
    if (it == layouts_->entries.end()) {
        // Built before inserting: a mask the profile cannot place leaves nothing behind.
        auto entry = std::make_unique<LayoutCache::Entry>(LayoutCache::Entry{mask, build(f, mask)});
        static std::atomic<uint64_t> next_id{1};
        entry->layout.id.value = next_id.fetch_add(1, std::memory_order_relaxed);
        it = layouts_->entries.emplace(key, std::move(entry)).first;
    }
    layouts_->recent[int(f)][LayoutCache::recent_slot(mask)].store(it->second.get(), std::memory_order_release);
    return it->second->layout;
}

// Bits 0 and 1 are in every standard layout: one layout per mask it has (a plan's target_word
// relies on it).
const Layout& CpuModel::standard(uint64_t mask) const { return cached(Format::Standard, (mask | 3) & ~kCompactedBit); }
const Layout& CpuModel::compacted(uint64_t xcomp_bv) const { return cached(Format::Compacted, xcomp_bv & ~kCompactedBit); }

Layout CpuModel::build(Format f, uint64_t mask) const {
    Layout L;
    L.format = f;
    mask &= ~kCompactedBit;
    // The legacy region is always there in standard form.
    L.mask = f == Format::Standard ? (mask | 3) : mask;
    for (unsigned b = 0; b < 63; ++b) {
        if (!L.has(b)) continue;
        const auto& g = geom_[b];
        if (!g.enumerated)
            throw Error(fmt::format("{} (bit {}) is not enumerated by the profile (supported XCR0 0x{:x}, IA32_XSS 0x{:x})",
                                    component_name(b), b, xcr0_supported_, xss_supported_));
        if (!g.size)
            throw Error(fmt::format("{} (bit {}) has no size in the profile (CPUID.(0xD,{}) missing or empty)",
                                    component_name(b), b, b));
        if (f == Format::Standard && g.supervisor)
            throw Error(fmt::format("{} (bit {}) is a supervisor component: it has no place in the standard form",
                                    component_name(b), b));
    }
    for (unsigned b : L.bits()) {
        L.size[b] = geom_[b].size;
        if (b < 2) L.offset[b] = geom_[b].std_offset;
        else if (f == Format::Standard && geom_[b].std_offset < kExtendedOffset)
            throw Error(fmt::format("{} (bit {}) has standard offset 0x{:x}, inside the legacy region and header",
                                    component_name(b), b, geom_[b].std_offset));
    }
    uint32_t end = place_components(geom_, f, L.mask, &L.offset);
    // Two components of one layout must not overlap.
    if (f == Format::Standard)
        for (auto [a, b] : standard_overlaps(geom_, L.mask))
            throw Error(fmt::format("standard layout: {} (bit {}, 0x{:x}..0x{:x}) overlaps {} (bit {}, 0x{:x}..0x{:x})",
                                    component_name(a), a, L.offset[a], L.offset[a] + L.size[a],
                                    component_name(b), b, L.offset[b], L.offset[b] + L.size[b]));
    L.total_size = end;
    for (unsigned b = 2; b < 63; ++b)
        if (L.has(b)) L.by_offset[L.extended_count++] = uint8_t(b);
    std::sort(L.by_offset.begin(), L.by_offset.begin() + L.extended_count,
              [&](uint8_t a, uint8_t b) { return L.offset[a] < L.offset[b]; });
    return L;
}

} // namespace xsave
