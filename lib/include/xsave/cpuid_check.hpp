#pragma once
// Consistency of a profile's CPUID leaf 0xD: do its sizes, offsets and flags agree with
// each other, as the kernel's XSAVE size check and a hypervisor's guest would see them?
#include "xsave/profile.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace xsave {

struct CpuidFinding {
    std::string rule;      // e.g. "xsaves-size"; see cpuid_check.cpp for the list
    std::string message;   // one line, names the leaf/subleaf and the numbers
    bool inconsistent;     // false: a note (e.g. which masks explain a size)
};

struct CpuidCheckOptions {
    std::optional<uint64_t> xcr0;   // enabled XCR0; default: the profile's, else searched
    std::optional<uint64_t> xss;    // enabled IA32_XSS; default: the profile's, else searched
};

// Never throws for a broken profile: what is wrong becomes findings.
std::vector<CpuidFinding> check_cpuid(const Profile& p, const CpuidCheckOptions& opt = {});

inline bool cpuid_consistent(const std::vector<CpuidFinding>& f) {
    for (const auto& x : f)
        if (x.inconsistent) return false;
    return true;
}

} // namespace xsave
