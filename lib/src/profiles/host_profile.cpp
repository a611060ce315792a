// The host's profile: the CPUID leaves that matter, XCR0 and MXCSR_MASK.
#include "xsave/error.hpp"
#include "xsave/layout.hpp"
#include "xsave/profile.hpp"

#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace xsave {

#if defined(__x86_64__) || defined(__i386__)
namespace {

CpuidLeaf query(uint32_t leaf, uint32_t subleaf) {
    CpuidLeaf l{leaf, subleaf};
    __cpuid_count(leaf, subleaf, l.eax, l.ebx, l.ecx, l.edx);
    return l;
}

bool all_zero(const CpuidLeaf& l) { return (l.eax | l.ebx | l.ecx | l.edx) == 0; }

// No leaf enumerates more than this many subleaves on real CPUs; a hypervisor that
// claims more is not worth following.
constexpr uint32_t kMaxSubleaves = 64;

// Adds `leaf` with the subleaves it defines. Unknown leaves get subleaf 0 only.
void add_leaf(Profile& p, uint32_t leaf, HostLeaves which) {
    CpuidLeaf l0 = query(leaf, 0);
    p.leaves.push_back(l0);
    auto upto = [&](uint32_t last) {   // subleaves 1..last
        for (uint32_t s = 1; s <= last && s < kMaxSubleaves; ++s) p.leaves.push_back(query(leaf, s));
    };
    auto until = [&](auto is_end) {    // subleaves 1.. up to and including the terminator
        if (is_end(l0)) return;
        for (uint32_t s = 1; s < kMaxSubleaves; ++s) {
            CpuidLeaf l = query(leaf, s);
            p.leaves.push_back(l);
            if (is_end(l)) return;
        }
    };
    switch (leaf) {
    case 0x4: case 0x8000001D:   // cache parameters: until cache type 0
        until([](const CpuidLeaf& l) { return (l.eax & 0x1F) == 0; });
        break;
    case 0xB: case 0x1F:         // topology: until level type 0
        until([](const CpuidLeaf& l) { return ((l.ecx >> 8) & 0xFF) == 0; });
        break;
    case 0x7: case 0x14: case 0x17: case 0x18: case 0x1D: case 0x20: case 0x24:
        upto(l0.eax);            // EAX of subleaf 0 is the last subleaf
        break;
    case 0xD: {
        // All-zero subleaves are left out, as `cpuid -r` does, except 0 and 1 which always
        // describe the feature set. Subleaf n >= 2 is zero unless bit n is supported (SDM
        // 13.2), so Xsave skips the others; All asks anyway, for hypervisors that disagree.
        CpuidLeaf l1 = query(leaf, 1);
        p.leaves.push_back(l1);
        uint64_t bits = which == HostLeaves::All
                            ? ~0ull
                            : (uint64_t(l0.edx) << 32 | l0.eax | uint64_t(l1.edx) << 32 | l1.ecx);
        for (uint32_t s = 2; s < 64; ++s) {
            if (!(bits >> s & 1)) continue;
            CpuidLeaf l = query(leaf, s);
            if (!all_zero(l)) p.leaves.push_back(l);
        }
        break;
    }
    case 0xF: upto(1); break;
    case 0x10: upto(3); break;
    case 0x12:                   // SGX: 0, 1, then EPC sections until type 0
        upto(1);
        for (uint32_t s = 2; s < kMaxSubleaves; ++s) {
            CpuidLeaf l = query(leaf, s);
            p.leaves.push_back(l);
            if ((l.eax & 0xF) == 0) break;
        }
        break;
    case 0x80000020: upto(3); break;
    default: break;
    }
}

uint64_t xgetbv(uint32_t index) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(index));
    return uint64_t(hi) << 32 | lo;
}

uint32_t fxsave_mxcsr_mask() {
    alignas(16) unsigned char area[512];
    std::memset(area, 0, sizeof area);
    __asm__ volatile("fxsave %0" : "=m"(area));
    uint32_t m;
    std::memcpy(&m, area + 28, 4);
    return m ? m : 0xFFBF;   // 0 means the CPU predates MXCSR_MASK: the SDM default applies
}

} // namespace

Profile host_profile(HostLeaves which) {
    Profile p;
    CpuidLeaf l0 = query(0, 0);
    // Guard against garbage from a broken hypervisor: real CPUs stay far below 0x100.
    uint32_t max_basic = l0.eax < 0x100 ? l0.eax : 0xFF;
    uint32_t max_ext = query(0x80000000, 0).eax;
    bool ext_ok = max_ext >= 0x80000000 && max_ext < 0x80000100;
    if (which == HostLeaves::All) {
        for (uint32_t leaf = 0; leaf <= max_basic; ++leaf) add_leaf(p, leaf, which);
        if (ext_ok)
            for (uint32_t leaf = 0x80000000; leaf <= max_ext; ++leaf) add_leaf(p, leaf, which);
    } else {
        for (uint32_t leaf : {0u, 1u, 7u, 0xDu})
            if (leaf <= max_basic) add_leaf(p, leaf, which);
        if (ext_ok)
            for (uint32_t leaf : {0x80000000u, 0x80000001u})
                if (leaf <= max_ext) add_leaf(p, leaf, which);
    }
    // Leaves already read are not asked again.
    auto get = [&](uint32_t leaf) {
        const CpuidLeaf* l = p.find(leaf, 0);
        return l ? *l : query(leaf, 0);
    };

    char vendor[13];
    std::memcpy(vendor, &l0.ebx, 4);
    std::memcpy(vendor + 4, &l0.edx, 4);
    std::memcpy(vendor + 8, &l0.ecx, 4);
    vendor[12] = 0;
    p.vendor = vendor;

    std::string brand;
    if (max_ext >= 0x80000004 && ext_ok) {
        for (uint32_t leaf = 0x80000002; leaf <= 0x80000004; ++leaf) {
            CpuidLeaf l = get(leaf);
            for (uint32_t r : {l.eax, l.ebx, l.ecx, l.edx})
                for (int i = 0; i < 4; ++i) {
                    char c = char(r >> (8 * i));
                    if (c) brand += c;
                }
        }
        auto b = brand.find_first_not_of(' ');
        auto e = brand.find_last_not_of(' ');
        brand = b == std::string::npos ? "" : brand.substr(b, e - b + 1);
    }
    p.name = "host: " + (brand.empty() ? p.vendor : brand);

    CpuidLeaf l1 = get(1);
    if (l1.ecx >> 27 & 1) {   // OSXSAVE: XGETBV is usable
        p.xcr0 = xgetbv(0);
        // IA32_XSS is an MSR: user space cannot read it, and XGETBV(1) returns
        // XCR0 & XINUSE, not IA32_XSS. So xss is left unrecorded; checks that need it
        // search the supported supervisor bits instead of trusting a guess.
    }
    if (l1.edx >> 24 & 1) p.mxcsr_mask = fxsave_mxcsr_mask();   // FXSR
    return p;
}

#else

Profile host_profile(HostLeaves) { throw Error("host: CPUID is only available on x86 processors"); }

#endif

std::shared_ptr<const CpuModel> host_model() {
    static const std::shared_ptr<const CpuModel> host = []() -> std::shared_ptr<const CpuModel> {
        try {
            // Reading inputs needs only the XSAVE leaves: a tenth of the CPUID queries.
            return std::make_shared<const CpuModel>(host_profile(HostLeaves::Xsave));
        } catch (const Error&) {
            return nullptr;   // not an x86 with XSAVE: only built-in or given profiles
        }
    }();
    return host;
}

} // namespace xsave
