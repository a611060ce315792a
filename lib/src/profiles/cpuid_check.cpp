// `cpuid check`: consistency rules for CPUID leaf 0xD.
//
// Rules (CpuidFinding::rule):
//   no-leaf-0d         the profile has no CPUID.(0xD,0)
//   reserved-bit       bit 63 (or bits 0/1 in IA32_XSS) claimed as supported
//   supervisor-flag    a bit in both masks, or ECX[0] disagreeing with the mask it is in
//   empty-subleaf      a supported bit whose subleaf is missing or has size 0
//   absurd-size        a size or end offset beyond kMaxComponentSize
//   offset-below-576   a user component starting inside the legacy region or header
//   supervisor-offset  a supervisor component with a standard-form offset
//   overlap            two supported user components sharing bytes in standard form
//   max-size           (0xD,0).ECX vs the standard size of all supported user bits
//   enabled-mask       a given/recorded XCR0 or IA32_XSS with unsupported bits
//   xcr0-size          (0xD,0).EBX vs the standard size of the enabled XCR0
//   xsaves-size        (0xD,1).EBX vs the compacted size of XCR0 | IA32_XSS
//   layout             the layout engine refused the profile for another reason
#include "xsave/components.hpp"
#include "xsave/cpuid_check.hpp"
#include "xsave/error.hpp"
#include "xsave/layout.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <optional>
#include <bit>
#include <memory>

namespace xsave {

namespace {

// Leaf 0xD as the profile states it, and the supported bits whose geometry we can compute with.
struct RawLeaf0D : Leaf0D {
    uint64_t usable = 0;
};

uint32_t standard_size(const RawLeaf0D& r, uint64_t mask) {
    uint64_t user = 0;
    for (unsigned b = 2; b < 63; ++b)
        if (!r.g[b].supervisor) user |= 1ull << b;
    return place_components(r.g, Format::Standard, mask & r.usable & user);
}

uint32_t compacted_size(const RawLeaf0D& r, uint64_t mask) { return place_components(r.g, Format::Compacted, mask & r.usable); }

std::string mask_text(uint64_t m) { return fmt::format("{:#x} ({})", m, mask_names(m)); }

// Subsets of `set`, in increasing order, at most 2^kMaxSearchBits of them.
constexpr int kMaxSearchBits = 16;   // real CPUs have at most ~12 user and ~8 supervisor bits
template <class F> void for_each_subset(uint64_t set, F f) {
    uint64_t sub = 0;
    do {
        f(sub);
        sub = (sub - set) & set;
    } while (sub != 0);
}

class Checker {
public:
    Checker(const Profile& p, const CpuidCheckOptions& o) : p_(p), opt_(o) {}

    std::vector<CpuidFinding> run() {
        auto leaf = read_leaf0d(p_);
        if (!leaf) {
            bad("no-leaf-0d", "the profile has no CPUID.(0xD,0): nothing to check");
            return std::move(out_);
        }
        static_cast<Leaf0D&>(r_) = *leaf;
        per_component_rules();
        model_ = try_model();
        // Sizes computed without a component that cannot be placed would only repeat the
        // problem as misleading numbers.
        if (uint64_t lost = (r_.xcr0_supported | r_.xss_supported) & ~r_.usable & ~kCompactedBit) {
            note("sizes", fmt::format("size checks skipped: {} cannot be placed", mask_text(lost)));
        } else {
            max_size_rule();
            enabled_size_rules();
        }
        if (cpuid_consistent(out_) && !model_error_.empty()) bad("layout", model_error_);
        return std::move(out_);
    }

private:
    void bad(std::string rule, std::string msg) { out_.push_back({std::move(rule), std::move(msg), true}); }
    void note(std::string rule, std::string msg) { out_.push_back({std::move(rule), std::move(msg), false}); }

    void per_component_rules() {
        uint64_t sup = r_.xcr0_supported | r_.xss_supported;
        if (sup >> 63 & 1) bad("reserved-bit", "bit 63 is claimed as a supported state component; it is the compacted-form flag");
        if (r_.xss_supported & 3)
            bad("reserved-bit", fmt::format("CPUID.(0xD,1).ECX claims {} as supervisor state", mask_names(r_.xss_supported & 3)));
        if (uint64_t both = r_.xcr0_supported & r_.xss_supported & ~3ull)
            bad("supervisor-flag", fmt::format("{} supported both in XCR0 (CPUID.(0xD,0)) and IA32_XSS (CPUID.(0xD,1))", mask_text(both)));
        uint64_t usable = sup & 3;   // x87 and SSE live in the legacy region
        for (unsigned b = 2; b < 63; ++b) {
            if (!(sup >> b & 1)) continue;
            const CpuidLeaf* l = p_.find(0xD, b);
            const auto& g = r_.g[b];
            std::string where = fmt::format("CPUID.(0xD,{}) {}", b, component_name(b));
            if (!l || g.size == 0) {
                bad("empty-subleaf", fmt::format("{} is supported but its subleaf {}", where, l ? "gives size 0" : "is missing"));
                continue;
            }
            bool user = r_.xcr0_supported >> b & 1;
            if (g.size > kMaxComponentSize || (user && uint64_t(g.std_offset) + g.size > kMaxComponentSize)) {
                bad("absurd-size", fmt::format("{}: size {} at offset {} is beyond the {} bytes any component needs",
                                               where, g.size, g.std_offset, kMaxComponentSize));
                continue;
            }
            if (user && g.supervisor)
                bad("supervisor-flag", fmt::format("{} is supported in XCR0 but ECX[0] marks it supervisor", where));
            if (!user && !g.supervisor)
                bad("supervisor-flag", fmt::format("{} is supported in IA32_XSS but ECX[0] marks it user", where));
            if (user && g.std_offset < kExtendedOffset)
                bad("offset-below-576", fmt::format("{}: standard offset {} lies inside the legacy region and header (below 576)",
                                                    where, g.std_offset));
            if (!user && g.std_offset != 0)
                bad("supervisor-offset", fmt::format("{}: supervisor component with standard offset {} (must be 0)", where, g.std_offset));
            usable |= 1ull << b;
        }
        r_.usable = usable;
        // Overlaps among user components in standard form, e.g. MPX and APX sharing 960..1087.
        uint64_t placed = 0;
        for (unsigned b = 2; b < 63; ++b)
            if (r_.g[b].std_offset >= kExtendedOffset) placed |= 1ull << b;   // the others are reported above
        for (auto [a, b] : standard_overlaps(r_.g, usable & r_.xcr0_supported & placed)) {
            const auto &ga = r_.g[a], &gb = r_.g[b];
            bad("overlap", fmt::format("CPUID.(0xD,{}) {} [{}, {}) and CPUID.(0xD,{}) {} [{}, {}) overlap in standard form; "
                                       "both are supported in XCR0",
                                       a, component_name(a), ga.std_offset, ga.std_offset + ga.size, b,
                                       component_name(b), gb.std_offset, gb.std_offset + gb.size));
        }
        for (auto [what, v] : {std::pair{"CPUID.(0xD,0).EBX", r_.enabled_size}, {"CPUID.(0xD,0).ECX", r_.max_size},
                               {"CPUID.(0xD,1).EBX", r_.xsaves_size}})
            if (v > kMaxComponentSize)
                bad("absurd-size", fmt::format("{} = {} is beyond the {} bytes any XSAVE area needs", what, v, kMaxComponentSize));
    }

    // The layout engine is the authority on sizes; when it refuses the profile we fall back
    // to the raw leaves, after the rules above have said what is wrong.
    std::unique_ptr<CpuModel> try_model() {
        try {
            return std::make_unique<CpuModel>(p_);
        } catch (const Error& e) {
            model_error_ = fmt::format("the layout engine refuses this profile: {}", e.what());
            return nullptr;
        }
    }

    uint32_t std_size(uint64_t mask) {
        if (model_) try {
                return model_->standard(mask & ~kCompactedBit).total_size;
            } catch (const Error&) {
            }
        return standard_size(r_, mask);
    }
    uint32_t compact_size(uint64_t mask) {
        if (model_) try {
                return model_->compacted(mask & ~kCompactedBit).total_size;
            } catch (const Error&) {
            }
        return compacted_size(r_, mask);
    }

    void max_size_rule() {
        uint64_t user = r_.xcr0_supported & r_.usable;
        uint32_t want = std_size(user);
        if (r_.max_size != want)
            bad("max-size", fmt::format("CPUID.(0xD,0).ECX = {}, but the standard size of all supported user components {} is {}",
                                        r_.max_size, mask_text(user), want));
    }

    bool has_xsaves() const { return r_.subleaf1_eax >> 3 & 1; }

    void enabled_size_rules() {
        std::optional<uint64_t> xcr0 = opt_.xcr0 ? opt_.xcr0 : p_.xcr0;
        std::optional<uint64_t> xss = opt_.xss ? opt_.xss : p_.xss;
        const char* xcr0_from = opt_.xcr0 ? "given" : "recorded";
        const char* xss_from = opt_.xss ? "given" : "recorded";
        if (xcr0 && (*xcr0 & ~r_.xcr0_supported)) {
            bad("enabled-mask", fmt::format("{} XCR0 {} enables {} which CPUID.(0xD,0) does not support", xcr0_from,
                                            mask_text(*xcr0), mask_text(*xcr0 & ~r_.xcr0_supported)));
            return;
        }
        if (xss && (*xss & ~r_.xss_supported)) {
            bad("enabled-mask", fmt::format("{} IA32_XSS {} enables {} which CPUID.(0xD,1) does not support", xss_from,
                                            mask_text(*xss), mask_text(*xss & ~r_.xss_supported)));
            return;
        }

        // (0xD,0).EBX: the standard size of the enabled XCR0.
        std::vector<uint64_t> xcr0_cands;
        uint64_t user_sup = r_.xcr0_supported & r_.usable;
        if (xcr0) {
            uint32_t want = std_size(*xcr0);
            if (r_.enabled_size != want)
                bad("xcr0-size", fmt::format("CPUID.(0xD,0).EBX = {}, but the standard size of the {} XCR0 {} is {}",
                                             r_.enabled_size, xcr0_from, mask_text(*xcr0), want));
            xcr0_cands.push_back(*xcr0);
        } else if (std::popcount(user_sup) > kMaxSearchBits) {
            note("xcr0-size", fmt::format("too many supported user bits ({}) to search for the XCR0 behind CPUID.(0xD,0).EBX; "
                                          "give --xcr0", std::popcount(user_sup)));
            return;
        } else {
            for_each_subset(user_sup, [&](uint64_t m) {
                if (xsetbv_accepts(m, user_sup) && standard_size(r_, m) == r_.enabled_size) xcr0_cands.push_back(m);
            });
            if (xcr0_cands.empty()) {
                bad("xcr0-size", fmt::format("CPUID.(0xD,0).EBX = {} is the standard size of no XCR0 the CPU supports "
                                             "(all supported user components {} give {})",
                                             r_.enabled_size, mask_text(user_sup), standard_size(r_, user_sup)));
                for_each_subset(user_sup, [&](uint64_t m) {   // go on with every valid XCR0
                    if (xsetbv_accepts(m, user_sup)) xcr0_cands.push_back(m);
                });
            } else {
                note("xcr0-size", explained("CPUID.(0xD,0).EBX", r_.enabled_size, "standard", "XCR0", xcr0_cands));
            }
        }

        // (0xD,1).EBX: the compacted size of XCR0 | IA32_XSS. Only defined with XSAVES or XSAVEC.
        bool xsavec = r_.subleaf1_eax >> 1 & 1;
        if (!r_.has_subleaf1 || (!has_xsaves() && !xsavec)) return;
        if (r_.xsaves_size == 0) {
            if (has_xsaves()) bad("xsaves-size", "CPUID.(0xD,1).EBX = 0, but the CPU supports XSAVES");
            return;
        }
        std::vector<uint64_t> xss_cands;
        uint64_t xss_sup = r_.xss_supported & r_.usable;
        if (xss) xss_cands.push_back(*xss);
        else if (!has_xsaves()) xss_cands.push_back(0);   // without XSAVES no supervisor state is ever saved
        else if (std::popcount(xss_sup) > kMaxSearchBits) {
            note("xsaves-size", "too many supported supervisor bits to search for the IA32_XSS behind CPUID.(0xD,1).EBX; give --xss");
            return;
        } else for_each_subset(xss_sup, [&](uint64_t m) { xss_cands.push_back(m); });

        if (xcr0 && xss_cands.size() == 1) {
            uint64_t m = *xcr0 | xss_cands[0];
            uint32_t want = compact_size(m);
            if (r_.xsaves_size != want)
                bad("xsaves-size", fmt::format("CPUID.(0xD,1).EBX = {}, but the compacted size of XCR0|IA32_XSS {} is {}",
                                               r_.xsaves_size, mask_text(m), want));
            return;
        }
        std::vector<uint64_t> found;
        constexpr size_t kMaxPairs = size_t(1) << 18;
        if (xcr0_cands.size() * xss_cands.size() > kMaxPairs) {
            note("xsaves-size", "too many XCR0/IA32_XSS combinations to search for CPUID.(0xD,1).EBX; give --xcr0 and --xss");
            return;
        }
        for (uint64_t x : xcr0_cands)
            for (uint64_t s : xss_cands)
                if (compacted_size(r_, x | s) == r_.xsaves_size) found.push_back(x | s);
        std::sort(found.begin(), found.end());
        found.erase(std::unique(found.begin(), found.end()), found.end());
        if (found.empty())
            bad("xsaves-size", fmt::format("CPUID.(0xD,1).EBX = {} is the compacted size of no XCR0|IA32_XSS the CPU supports{}",
                                           r_.xsaves_size, xcr0 ? fmt::format(" with XCR0 {}", mask_text(*xcr0)) : ""));
        else
            note("xsaves-size", explained("CPUID.(0xD,1).EBX", r_.xsaves_size, "compacted", "XCR0|IA32_XSS", found));
    }

    // "EBX = N is the standard size of XCR0 0x.. (..)" or "... of 3 possible XCR0 values, the largest 0x.. (..)".
    static std::string explained(const char* what, uint32_t v, const char* form, const char* label,
                                 const std::vector<uint64_t>& masks) {
        uint64_t best = masks[0];
        for (uint64_t m : masks)
            if (std::popcount(m) > std::popcount(best) || (std::popcount(m) == std::popcount(best) && m > best)) best = m;
        if (masks.size() == 1) return fmt::format("{} = {} is the {} size of {} {}", what, v, form, label, mask_text(best));
        return fmt::format("{} = {} is the {} size of {} possible {} values, the largest {}", what, v, form, masks.size(),
                           label, mask_text(best));
    }

    const Profile& p_;
    const CpuidCheckOptions& opt_;
    RawLeaf0D r_;
    std::unique_ptr<CpuModel> model_;
    std::string model_error_;
    std::vector<CpuidFinding> out_;
};

} // namespace

std::vector<CpuidFinding> check_cpuid(const Profile& p, const CpuidCheckOptions& opt) {
    return Checker(p, opt).run();
}

} // namespace xsave
