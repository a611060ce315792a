// Layout engine: standard and compacted offsets from CPUID leaf 0xD, cached per mask.
#include "xsave/layout.hpp"

#include "xsave/components.hpp"
#include "xsave/error.hpp"

#include <fmt/core.h>

#include <algorithm>

namespace xsave {

const char* format_name(Format f) { return f == Format::Standard ? "standard" : "compacted"; }

std::vector<unsigned> Layout::bits() const {
    std::vector<unsigned> r;
    for (unsigned b = 0; b < 63; ++b)
        if (has(b)) r.push_back(b);
    return r;
}

CpuModel::CpuModel(Profile p) : profile_(std::move(p)) {
    const CpuidLeaf* l0 = profile_.find(0xD, 0);
    if (!l0) throw Error("profile " + profile_.name + ": no CPUID leaf 0xD subleaf 0 (XSAVE not enumerated)");
    xcr0_supported_ = uint64_t(l0->edx) << 32 | l0->eax;
    if (const CpuidLeaf* l1 = profile_.find(0xD, 1)) {
        leaf1_eax_ = l1->eax;
        xss_supported_ = uint64_t(l1->edx) << 32 | l1->ecx;
    }
    xcr0_supported_ &= ~kCompactedBit;
    xss_supported_ &= ~kCompactedBit;
    // The legacy region has fixed positions; CPUID subleaves 0 and 1 describe other things.
    geom_[0] = {true, 160, 0, false, false, false};
    geom_[1] = {true, 256, 160, false, false, false};
    uint64_t all = xcr0_supported_ | xss_supported_;
    for (unsigned b = 2; b < 63; ++b) {
        if (!(all >> b & 1)) continue;
        const CpuidLeaf* l = profile_.find(0xD, b);
        ComponentGeometry g;
        g.enumerated = true;
        if (!l || l->eax == 0) {
            warnings_.push_back(fmt::format("CPUID.(0xD,{}) is {} for supported component {} (bit {}): it cannot be placed",
                                            b, l ? "empty" : "missing", component_name(b), b));
            geom_[b] = g;
            continue;
        }
        if (l->eax > kMaxComponentSize || uint64_t(l->ebx) + l->eax > kMaxComponentSize)
            throw Error(fmt::format("profile {}: CPUID.(0xD,{}) gives {} (bit {}) size {} at offset {}: beyond the {}-byte limit",
                                    profile_.name, b, component_name(b), b, l->eax, l->ebx, kMaxComponentSize));
        g.size = l->eax;
        g.std_offset = l->ebx;
        g.supervisor = l->ecx & 1;
        g.align64 = l->ecx >> 1 & 1;
        g.xfd = l->ecx >> 2 & 1;
        geom_[b] = g;
    }
    // Overlapping user components (e.g. MPX and APX) cannot share one standard layout.
    for (unsigned a = 2; a < 63; ++a)
        for (unsigned b = a + 1; b < 63; ++b) {
            const auto &ga = geom_[a], &gb = geom_[b];
            if (!ga.size || !gb.size || ga.supervisor || gb.supervisor) continue;
            if (ga.std_offset < gb.std_offset + gb.size && gb.std_offset < ga.std_offset + ga.size)
                warnings_.push_back(fmt::format("standard offsets of {} (bit {}, 0x{:x}..0x{:x}) and {} (bit {}, 0x{:x}..0x{:x}) overlap",
                                                component_name(a), a, ga.std_offset, ga.std_offset + ga.size,
                                                component_name(b), b, gb.std_offset, gb.std_offset + gb.size));
        }
}

uint64_t CpuModel::enabled_xcr0() const {
    return profile_.xcr0 ? *profile_.xcr0 : (xcr0_supported_ & ~xss_supported_);
}
uint64_t CpuModel::enabled_xss() const { return profile_.xss ? *profile_.xss : 0; }

namespace {
unsigned recent_slot(uint64_t mask, unsigned slots) {
    return unsigned((mask * 0x9E3779B97F4A7C15ull) >> 59) % slots;
}
} // namespace

const Layout& CpuModel::cached(Format f, uint64_t mask) const {
    const Entry* e = recent_[int(f)][recent_slot(mask, kRecentSlots)].load(std::memory_order_acquire);
    if (e && e->key == mask) return e->layout;
    return cached_slow(f, mask);
}

const Layout& CpuModel::cached_slow(Format f, uint64_t mask) const {
    std::lock_guard lock(mu_);
    std::pair<int, uint64_t> key{int(f), mask};
    auto it = cache_.find(key);
    if (it == cache_.end()) {
        // Built before inserting: a mask the profile cannot place leaves nothing behind.
        auto entry = std::make_unique<Entry>(Entry{mask, build(f, mask)});
        it = cache_.emplace(key, std::move(entry)).first;
    }
    recent_[int(f)][recent_slot(mask, kRecentSlots)].store(it->second.get(), std::memory_order_release);
    return it->second->layout;
}

const Layout& CpuModel::standard(uint64_t mask) const { return cached(Format::Standard, mask); }
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
    uint32_t end = kExtendedOffset;
    if (f == Format::Standard) {
        for (unsigned b : L.bits()) {
            L.offset[b] = geom_[b].std_offset;
            L.size[b] = geom_[b].size;
            if (b >= 2) {
                if (L.offset[b] < kExtendedOffset)
                    throw Error(fmt::format("{} (bit {}) has standard offset 0x{:x}, inside the legacy region and header",
                                            component_name(b), b, L.offset[b]));
                end = std::max(end, L.offset[b] + L.size[b]);
            }
        }
        // Two components of one layout must not overlap.
        for (unsigned a : L.bits())
            for (unsigned b : L.bits())
                if (a >= 2 && b > a && L.offset[a] < L.offset[b] + L.size[b] && L.offset[b] < L.offset[a] + L.size[a])
                    throw Error(fmt::format("standard layout: {} (bit {}, 0x{:x}..0x{:x}) overlaps {} (bit {}, 0x{:x}..0x{:x})",
                                            component_name(a), a, L.offset[a], L.offset[a] + L.size[a],
                                            component_name(b), b, L.offset[b], L.offset[b] + L.size[b]));
    } else {
        for (unsigned b : L.bits()) {
            if (b < 2) {
                L.offset[b] = geom_[b].std_offset;
                L.size[b] = geom_[b].size;
                continue;
            }
            if (geom_[b].align64) end = (end + 63) & ~63u;
            L.offset[b] = end;
            L.size[b] = geom_[b].size;
            end += geom_[b].size;
        }
    }
    L.total_size = end;
    for (unsigned b = 2; b < 63; ++b)
        if (L.has(b)) L.by_offset[L.extended_count++] = uint8_t(b);
    std::sort(L.by_offset.begin(), L.by_offset.begin() + L.extended_count,
              [&](uint8_t a, uint8_t b) { return L.offset[a] < L.offset[b]; });
    return L;
}

} // namespace xsave
