#pragma once
// Leaf 0xD of a few real CPUs, transcribed from their CPUID dumps, so that layout tests
// run without ../shared.
#include "xsave/profile.hpp"

#include <array>
#include <initializer_list>

namespace testing {

// Each row: subleaf, eax, ebx, ecx, edx of CPUID leaf 0xD.
inline xsave::Profile leaf0d_profile(const char* name, const char* vendor,
                                     std::initializer_list<std::array<uint32_t, 5>> rows) {
    xsave::Profile p;
    p.name = name;
    p.vendor = vendor;
    for (const auto& r : rows) p.set({0xD, r[0], r[1], r[2], r[3], r[4]});
    return p;
}

// GenuineIntel00806F8_SapphireRapids_05 (XCR0 0x602e7 supported, XSS 0xdd00).
inline xsave::Profile sapphire_rapids() {
    return leaf0d_profile("sapphire-rapids", "GenuineIntel",
        {{0, 0x602E7, 0x2B00, 0x2B00, 0}, {1, 0x1F, 0x2A80, 0xDD00, 0}, {2, 0x100, 0x240, 0, 0},
         {5, 0x40, 0x440, 0, 0}, {6, 0x200, 0x480, 0, 0}, {7, 0x400, 0x680, 0, 0}, {8, 0x80, 0, 1, 0},
         {9, 8, 0xA80, 0, 0}, {10, 8, 0, 1, 0}, {11, 0x10, 0, 1, 0}, {12, 0x18, 0, 1, 0}, {14, 0x30, 0, 1, 0},
         {15, 0x328, 0, 1, 0}, {17, 0x40, 0xAC0, 2, 0}, {18, 0x2000, 0xB00, 6, 0}});
}

// AuthenticAMD0A10F11_K19_Genoa_01 (Zen 4: AVX-512 without the MPX gap).
inline xsave::Profile genoa() {
    return leaf0d_profile("genoa", "AuthenticAMD",
        {{0, 0x2E7, 0x980, 0x988, 0}, {1, 0xF, 0x990, 0x1800, 0}, {2, 0x100, 0x240, 0, 0}, {5, 0x40, 0x340, 0, 0},
         {6, 0x200, 0x380, 0, 0}, {7, 0x400, 0x580, 0, 0}, {9, 8, 0x980, 0, 0}, {11, 0x10, 0, 1, 0}, {12, 0x18, 0, 1, 0}});
}

// GenuineIntel0050654_SkylakeD (Skylake-SP: MPX, AVX-512, PKRU, PT).
inline xsave::Profile skylake_sp() {
    return leaf0d_profile("skylake-sp", "GenuineIntel",
        {{0, 0x2FF, 0xA80, 0xA88, 0}, {1, 0xF, 0xA80, 0x100, 0}, {2, 0x100, 0x240, 0, 0}, {3, 0x40, 0x3C0, 0, 0},
         {4, 0x40, 0x400, 0, 0}, {5, 0x40, 0x440, 0, 0}, {6, 0x200, 0x480, 0, 0}, {7, 0x400, 0x680, 0, 0},
         {8, 0x80, 0, 1, 0}, {9, 8, 0xA80, 0, 0}});
}

// This project's reference machine: AMD EPYC with AVX-512, XCR0 0xe7, MXCSR_MASK 0x2ffff.
inline xsave::Profile epyc_host() {
    auto p = leaf0d_profile("epyc-host", "AuthenticAMD",
        {{0, 0xE7, 0x980, 0x980, 0}, {1, 0x7, 0x980, 0, 0}, {2, 0x100, 0x240, 0, 0}, {5, 0x40, 0x340, 0, 0},
         {6, 0x200, 0x380, 0, 0}, {7, 0x400, 0x580, 0, 0}});
    p.xcr0 = 0xE7;
    p.mxcsr_mask = 0x2FFFF;
    return p;
}

} // namespace testing
