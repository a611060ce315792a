#pragma once
// Layouts: where each state component lives in a standard (XSAVE) or compacted
// (XSAVEC/XSAVES) area, computed from a profile's CPUID leaf 0xD.
#include "xsave/learnt.hpp"
#include "xsave/profile.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace xsave {

enum class Format : uint8_t { Standard, Compacted };
const char* format_name(Format f);

// One component as CPUID.(0xD, bit) describes it.
struct ComponentGeometry {
    bool enumerated = false;   // the CPU reports the bit as supported (XCR0 or IA32_XSS)
    uint32_t size = 0;         // EAX
    uint32_t std_offset = 0;   // EBX (0 for supervisor components)
    bool supervisor = false;   // ECX[0]
    bool align64 = false;      // ECX[1]
    bool xfd = false;          // ECX[2]
};

using Geometry = std::array<ComponentGeometry, 63>;

// CPUID leaf 0xD as a profile states it, before any judgement: CpuModel and `cpuid check` read it.
struct Leaf0D {
    uint64_t xcr0_supported = 0, xss_supported = 0;   // (0xD,0) EDX:EAX, (0xD,1) EDX:ECX; bit 63 as given
    bool has_subleaf1 = false;
    uint32_t subleaf1_eax = 0;                          // XSAVEOPT, XSAVEC, XGETBV1, XSAVES, XFD
    uint32_t enabled_size = 0, max_size = 0, xsaves_size = 0;   // (0,EBX), (0,ECX), (1,EBX)
    Geometry g{};   // bits 2..62 whose subleaf exists; `enumerated` where supported; 0, 1 fixed
};
// Null when the profile has no (0xD,0).
std::optional<Leaf0D> read_leaf0d(const Profile& p);

// The end of an area holding `mask` in form f: standard, the end of the furthest component
// (at least 576); compacted, components packed in bit order, 64-byte aligned where asked.
// Fills `offset` for the bits of mask from 2 up when given.
uint32_t place_components(const Geometry& g, Format f, uint64_t mask, std::array<uint32_t, 63>* offset = nullptr);

// Each pair a < b of user components in `mask` (bits 2..62, with a size) whose standard-form
// bytes overlap, e.g. MPX and APX sharing 960..1087.
std::vector<std::pair<unsigned, unsigned>> standard_overlaps(const Geometry& g, uint64_t mask);

// Identifies a layout cached by a CpuModel, for caches keyed by layout (conversion plans).
// Unique in the process and never reused; a copy gets 0 (it may be changed), which such caches
// do not keep.
struct LayoutId {
    uint64_t value = 0;
    LayoutId() = default;
    explicit LayoutId(uint64_t v) : value(v) {}
    LayoutId(const LayoutId&) {}
    LayoutId& operator=(const LayoutId&) {
        value = 0;
        return *this;
    }
};

// A concrete layout for one format and one component mask. Lookups are O(1).
struct Layout {
    Format format = Format::Standard;
    uint64_t mask = 0;                      // components the layout holds (bit 63 never set)
    uint32_t total_size = 0;                // bytes the area occupies
    std::array<uint32_t, 63> offset{};      // valid where mask has the bit
    std::array<uint32_t, 63> size{};
    // Components from bit 2 up, in ascending offset order (conversion writes each byte once).
    std::array<uint8_t, 61> by_offset{};
    uint8_t extended_count = 0;
    LayoutId id;                            // set by the CpuModel that owns the layout
    bool has(unsigned bit) const { return bit < 63 && (mask >> bit & 1); }
    // Bits in mask, in ascending order.
    std::vector<unsigned> bits() const;
};

// Conversion plans into a model's layouts (lib/src/convert_plan.cpp).
struct PlanCache;
struct ConvertPlan;
struct CallPlanHint;   // xsave/convert_into.hpp
namespace detail {
struct PlanOutcome;
// The *_into forms' hint before any plan (xsave/convert_into.hpp): matches no call, so the
// inline path needs no null test.
extern const PlanOutcome kNoCallPlan;
}

// What a profile says about XSAVE: supported masks, features, per-component geometry.
// Layouts are computed once per (format, mask) and cached.
class CpuModel {
public:
    explicit CpuModel(Profile p);   // throws Error for a profile that cannot describe layouts

    const Profile& profile() const { return profile_; }
    uint64_t supported_xcr0() const { return xcr0_supported_; }   // CPUID.(0xD,0) EDX:EAX
    uint64_t supported_xss() const { return xss_supported_; }     // CPUID.(0xD,1) EDX:ECX
    uint64_t enabled_xcr0() const { return enabled_xcr0_; }   // recorded xcr0, else all supported user bits
    uint64_t enabled_xss() const;    // recorded xss, else 0
    bool has_xsaveopt() const { return leaf1_eax_ & 1; }
    bool has_xsavec() const { return leaf1_eax_ >> 1 & 1; }
    bool has_xgetbv1() const { return leaf1_eax_ >> 2 & 1; }
    bool has_xsaves() const { return leaf1_eax_ >> 3 & 1; }
    bool has_xfd() const { return leaf1_eax_ >> 4 & 1; }
    // Components IA32_XFD can arm: CPUID.(0xD,i):ECX[2] = 1 (AMX TILEDATA).
    uint64_t xfd_capable() const {
        uint64_t m = 0;
        for (unsigned b = 0; b < 63; ++b)
            if (geom_[b].xfd) m |= 1ull << b;
        return m;
    }
    const ComponentGeometry& geometry(unsigned bit) const { return geom_[bit]; }
    // Warnings found while reading the profile (missing subleaves, overlaps).
    const std::vector<std::string>& warnings() const { return warnings_; }

    // Throws Error when the mask names a component the profile cannot place.
    const Layout& standard(uint64_t mask) const;
    const Layout& compacted(uint64_t xcomp_bv) const;   // bit 63 ignored
    const Layout& layout(Format f, uint64_t mask) const {
        return f == Format::Standard ? standard(mask) : compacted(mask);
    }
    // Conversion plans whose target is one of this model's layouts.
    PlanCache& plans() const {
        if (PlanCache* c = plans_made()) [[likely]] return *c;
        return make_plans();
    }
    // The plan cache if a conversion has made it, else null: no call on a hot path.
    PlanCache* plans_made() const { return plans_ready_->load(std::memory_order_acquire); }
    // The layout inspect_area last chose for form f (null at first): its inline path checks it
    // before any lookup. A hint only: inspect_area's checks decide.
    const Layout* inspected(Format f) const { return hints_.inspected[int(f)].v.load(std::memory_order_acquire); }
    void remember_inspected(const Layout& L) const {
        if (inspected(L.format) != &L) hints_.inspected[int(L.format)].v.store(&L, std::memory_order_release);
    }

private:
    struct LayoutCache;   // layout.cpp: a map behind a mutex, with lock-free recent hits
    Layout build(Format f, uint64_t mask) const;
    const Layout& cached(Format f, uint64_t mask) const;
    const Layout& cached_slow(Format f, uint64_t mask) const;
    Profile profile_;
    uint64_t xcr0_supported_ = 0, xss_supported_ = 0, enabled_xcr0_ = 0;
    uint32_t leaf1_eax_ = 0;
    Geometry geom_{};
    std::vector<std::string> warnings_;
    std::shared_ptr<LayoutCache> layouts_;
    // The plan cache once made (in layouts_, shared by copies): read inline, no call per conversion.
    std::atomic<PlanCache*>* plans_ready_;
    PlanCache& make_plans() const;   // ops/convert_plan.cpp
    // What the hot paths learnt, on a cache line of its own: threads converting different shapes
    // into one model rewrite it, and must not evict the fields every call reads. Layouts and
    // plans are owned by layouts_, which a copy shares, so a copied hint stays valid.
    struct alignas(64) Hints {
        std::array<detail::Learnt<const Layout*>, 2> inspected{};   // inspect_area's, per form
        detail::Learnt<const detail::PlanOutcome*> call_plan{&detail::kNoCallPlan};   // the *_into forms' last plan
    };
    mutable Hints hints_;
    friend struct CallPlanHint;
};

// This machine's model (its XSAVE CPUID leaves), built once per process (profiles/host_profile.cpp); nullptr where CPUID
// cannot describe XSAVE.
std::shared_ptr<const CpuModel> host_model();

// Largest component or area we accept from a profile; larger is an absurd size field.
constexpr uint32_t kMaxComponentSize = 1u << 20;

} // namespace xsave
