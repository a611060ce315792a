#pragma once
// CPUID profiles: raw CPUID leaves plus, optionally, the enabled XCR0 / IA32_XSS.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xsave {

struct CpuidLeaf {
    uint32_t leaf = 0, subleaf = 0;
    uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0;
    bool operator==(const CpuidLeaf&) const = default;
};

struct Profile {
    std::string name;
    std::string vendor;                  // "GenuineIntel", "AuthenticAMD", ... or empty
    std::optional<uint64_t> xcr0;        // enabled XCR0, when recorded
    std::optional<uint64_t> xss;         // enabled IA32_XSS, when recorded
    std::optional<uint32_t> mxcsr_mask;  // the CPU's MXCSR_MASK (FXSAVE), when recorded
    std::vector<CpuidLeaf> leaves;
    std::vector<std::string> warnings;   // from import: ambiguities, guesses refused

    // The leaf, or nullptr when the profile does not hold it.
    const CpuidLeaf* find(uint32_t leaf, uint32_t subleaf = 0) const;
    // Adds or replaces a leaf.
    void set(const CpuidLeaf& l);
};

// Our JSON schema (see README). Throws xsave::Error naming the field at fault.
Profile profile_from_json(std::string_view text);
std::string profile_to_json(const Profile& p);

// Which leaves host_profile() reads. A hypervisor may intercept CPUID (~6.5 us each under
// KVM), and the full set is over a hundred queries: layouts need far fewer.
enum class HostLeaves : uint8_t {
    All,     // every leaf and subleaf that matters, as `cpuid -r` records them
    Xsave,   // the leaves minimal_profile() keeps; leaf 0xD only for supported bits
};

// This machine: CPUID, XGETBV(0) where supported, and MXCSR_MASK from FXSAVE.
Profile host_profile(HostLeaves which = HostLeaves::All);

} // namespace xsave
