#pragma once
// The CPUs the unit tests lay areas out for: the built-in profiles (lib/profiles, imported from
// real CPUID dumps) and the captured host, under the short names the goldens use.
#include "helpers.hpp"
#include "xsave/import.hpp"
#include "xsave/profile.hpp"

#include <array>
#include <initializer_list>

namespace testing {

// A synthetic CPU for rules no real one shows: each row is subleaf, eax, ebx, ecx, edx of leaf 0xD.
inline xsave::Profile leaf0d_profile(const char* name, const char* vendor,
                                     std::initializer_list<std::array<uint32_t, 5>> rows) {
    xsave::Profile p;
    p.name = name;
    p.vendor = vendor;
    for (const auto& r : rows) p.set({0xD, r[0], r[1], r[2], r[3], r[4]});
    return p;
}

inline xsave::Profile named(xsave::Profile p, const char* name) {
    p.name = name;
    return p;
}

// GenuineIntel00806F8_SapphireRapids_05 (XCR0 0x602e7 supported, XSS 0xdd00).
inline xsave::Profile sapphire_rapids() { return named(xsave::builtin_profile("sapphire-rapids"), "sapphire-rapids"); }
// AuthenticAMD0A10F11_K19_Genoa_01 (Zen 4: AVX-512 without the MPX gap).
inline xsave::Profile genoa() { return named(xsave::builtin_profile("zen4-genoa"), "genoa"); }
// GenuineIntel0050654_SkylakeD (Skylake-SP: MPX, AVX-512, PKRU, PT).
inline xsave::Profile skylake_sp() { return named(xsave::builtin_profile("skylake-sp"), "skylake-sp"); }
// This project's reference machine: AMD EPYC with AVX-512, XCR0 0xe7, MXCSR_MASK 0x2ffff.
inline xsave::Profile epyc_host() {
    return named(xsave::profile_from_json(read_text(data_path("profiles/host-epyc.json"))), "epyc-host");
}

} // namespace testing
