// cpuid_check: the corpus is consistent, the TDX guest is not, and each rule fires on a
// profile broken in just that way.
#include "helpers.hpp"

#include "xsave/cpuid_check.hpp"
#include "xsave/import.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <random>

using namespace xsave;

namespace {

// Skylake client without PT: x87, SSE, AVX, MPX BNDREGS, MPX BNDCSR; XSAVEOPT only.
Profile skylake_like() {
    Profile p;
    p.name = "test";
    p.set({0xD, 0, 0x1F, 0x440, 0x440, 0});
    p.set({0xD, 1, 0x1, 0, 0, 0});
    p.set({0xD, 2, 0x100, 0x240, 0, 0});
    p.set({0xD, 3, 0x40, 0x3C0, 0, 0});
    p.set({0xD, 4, 0x40, 0x400, 0, 0});
    return p;
}

CpuidLeaf& leaf(Profile& p, uint32_t sub) {
    for (auto& l : p.leaves)
        if (l.leaf == 0xD && l.subleaf == sub) return l;
    throw std::runtime_error("no subleaf");
}

// "rule: message" of the inconsistent findings, in order.
std::vector<std::string> problems(const Profile& p, CpuidCheckOptions o = {}) {
    std::vector<std::string> out;
    for (const auto& f : check_cpuid(p, o))
        if (f.inconsistent) out.push_back(f.rule + ": " + f.message);
    return out;
}

} // namespace

TEST_CASE("cpuid check: every corpus dump is consistent") {
    if (!testing::have_shared()) SKIP_TEST("needs ../shared/corpus");
    size_t n = 0;
    for (const auto& e : std::filesystem::directory_iterator(testing::shared_path("corpus/cpuid-aida64"))) {
        INFO(e.path().string());
        Profile p = resolve_profile(e.path().string());
        auto f = check_cpuid(p);
        CHECK(problems(p).empty());
        // Without recorded masks the enabled sizes are explained by a search, and said so.
        bool explained0 = false;
        for (const auto& x : f) explained0 |= x.rule == "xcr0-size" && !x.inconsistent;
        CHECK(explained0);
        ++n;
    }
    CHECK(n == 33);
}

TEST_CASE("cpuid check: search results name the masks (Sapphire Rapids, Tiger Lake)") {
    if (!testing::have_shared()) SKIP_TEST("needs ../shared/corpus");
    auto notes = [](const std::string& file) {
        std::vector<std::string> out;
        for (const auto& f : check_cpuid(resolve_profile(testing::shared_path("corpus/cpuid-aida64/" + file))))
            out.push_back(f.rule + ": " + f.message);
        return out;
    };
    auto tgl = notes("GenuineIntel00806C1_TigerLake_01_CPUID.txt");
    REQUIRE(tgl.size() == 2);
    CHECK(tgl[0] == "xcr0-size: CPUID.(0xD,0).EBX = 2688 is the standard size of XCR0 0xe7 "
                    "(x87|SSE|AVX|AVX-512 opmask|ZMM_Hi256|Hi16_ZMM)");
    CHECK(tgl[1] == "xsaves-size: CPUID.(0xD,1).EBX = 2576 is the compacted size of XCR0|IA32_XSS 0x9e7 "
                    "(x87|SSE|AVX|AVX-512 opmask|ZMM_Hi256|Hi16_ZMM|PT|CET_U)");
    auto spr = notes("GenuineIntel00806F8_SapphireRapids_05_CPUID.txt");
    REQUIRE(spr.size() == 2);
    CHECK(spr[0] == "xcr0-size: CPUID.(0xD,0).EBX = 11008 is the standard size of 8 possible XCR0 values, the largest 0x602e7 "
                    "(x87|SSE|AVX|AVX-512 opmask|ZMM_Hi256|Hi16_ZMM|PKRU|AMX TILECFG|AMX TILEDATA)");
}

TEST_CASE("cpuid check: the TDX guest's CPUID.(0xD,1).EBX is 10704, the kernel computes 10752") {
    if (!testing::have_shared()) SKIP_TEST("needs ../shared/corpus");
    Profile p = resolve_profile(testing::shared_path("corpus/dmesg/tdx-guest-leaf0d.txt"));
    auto given = problems(p, {0x600e7, 0x1800});
    REQUIRE(given.size() == 1);
    CHECK(given[0] == "xsaves-size: CPUID.(0xD,1).EBX = 10704, but the compacted size of XCR0|IA32_XSS 0x618e7 "
                      "(x87|SSE|AVX|AVX-512 opmask|ZMM_Hi256|Hi16_ZMM|CET_U|CET_S|AMX TILECFG|AMX TILEDATA) is 10752");
    // Without the masks no combination of supported bits explains 10704 either.
    auto searched = problems(p);
    REQUIRE(searched.size() == 1);
    CHECK(searched[0] == "xsaves-size: CPUID.(0xD,1).EBX = 10704 is the compacted size of no XCR0|IA32_XSS the CPU supports");
    // Recorded masks count as given.
    p.xcr0 = 0x600e7;
    p.xss = 0x1800;
    CHECK(problems(p) == given);
}

TEST_CASE("cpuid check: the host and the built-in profiles are consistent") {
    CHECK(problems(host_profile()).empty());
    for (const auto& b : builtin_profiles()) {
        INFO(b.name);
        CHECK(problems(builtin_profile(b.name)).empty());
    }
}

TEST_CASE("cpuid check: a sane synthetic profile, then one rule broken at a time") {
    Profile good = skylake_like();
    auto all = check_cpuid(good);
    CHECK(cpuid_consistent(all));
    REQUIRE(all.size() == 1);   // XSAVEOPT only: (0xD,1).EBX is not defined
    CHECK(all[0].rule == "xcr0-size");
    CHECK(all[0].message == "CPUID.(0xD,0).EBX = 1088 is the standard size of 3 possible XCR0 values, the largest 0x1f "
                            "(x87|SSE|AVX|MPX BNDREGS|MPX BNDCSR)");

    SECTION("MPX and APX both supported overlap in standard form") {
        Profile p = good;
        leaf(p, 0).eax |= 1u << 19;
        p.set({0xD, 19, 0x80, 0x3C0, 0, 0});
        auto f = problems(p);
        REQUIRE(f.size() == 2);
        CHECK(f[0] == "overlap: CPUID.(0xD,3) MPX BNDREGS [960, 1024) and CPUID.(0xD,19) APX [960, 1088) overlap in "
                      "standard form; both are supported in XCR0");
        CHECK(f[1] == "overlap: CPUID.(0xD,4) MPX BNDCSR [1024, 1088) and CPUID.(0xD,19) APX [960, 1088) overlap in "
                      "standard form; both are supported in XCR0");
    }
    SECTION("offset below 576") {
        Profile p = good;
        leaf(p, 2).ebx = 0x200;
        auto f = problems(p);
        REQUIRE(f.size() == 1);
        CHECK(f[0] == "offset-below-576: CPUID.(0xD,2) AVX: standard offset 512 lies inside the legacy region and header (below 576)");
    }
    SECTION("supervisor component with a standard offset") {
        Profile p = good;
        leaf(p, 1) = {0xD, 1, 0xF, 0x440, 0x100, 0};   // XSAVES, PT in IA32_XSS
        p.set({0xD, 8, 0x80, 0x300, 1, 0});
        auto f = problems(p);
        REQUIRE(f.size() == 1);
        CHECK(f[0] == "supervisor-offset: CPUID.(0xD,8) PT: supervisor component with standard offset 768 (must be 0)");
        leaf(p, 8).ebx = 0;
        CHECK(problems(p).empty());   // 1088 = x87|SSE|AVX|MPX|PT compacted
    }
    SECTION("supervisor flag disagreeing with the mask") {
        Profile p = good;
        leaf(p, 3).ecx = 1;
        auto f = problems(p);
        REQUIRE(f.size() == 1);
        CHECK(f[0] == "supervisor-flag: CPUID.(0xD,3) MPX BNDREGS is supported in XCR0 but ECX[0] marks it supervisor");
    }
    SECTION("supported bit with a missing or empty subleaf") {
        Profile p = good;
        p.leaves.erase(p.leaves.begin() + 4);   // subleaf 4
        auto f = problems(p);
        REQUIRE(f.size() == 1);
        CHECK(f[0] == "empty-subleaf: CPUID.(0xD,4) MPX BNDCSR is supported but its subleaf is missing");
        auto all = check_cpuid(p);
        REQUIRE(all.size() == 2);
        CHECK(all[1].rule == "sizes");
        CHECK(all[1].message == "size checks skipped: 0x10 (MPX BNDCSR) cannot be placed");
        p.set({0xD, 4, 0, 0, 0, 0});
        CHECK(problems(p)[0] == "empty-subleaf: CPUID.(0xD,4) MPX BNDCSR is supported but its subleaf gives size 0");
    }
    SECTION("absurd sizes never crash or allocate") {
        Profile p = good;
        leaf(p, 3).eax = 0x80000000;
        leaf(p, 0).ebx = 0xFFFFFFFF;
        auto f = problems(p);
        REQUIRE(f.size() == 2);
        CHECK(f[0] == "absurd-size: CPUID.(0xD,3) MPX BNDREGS: size 2147483648 at offset 960 is beyond the 1048576 bytes any component needs");
        CHECK(f[1] == "absurd-size: CPUID.(0xD,0).EBX = 4294967295 is beyond the 1048576 bytes any XSAVE area needs");
    }
    SECTION("CPUID.(0xD,0).ECX disagreeing with the components") {
        Profile p = good;
        leaf(p, 0).ecx = 0x500;
        auto f = problems(p);
        REQUIRE(f.size() == 1);
        CHECK(f[0] == "max-size: CPUID.(0xD,0).ECX = 1280, but the standard size of all supported user components 0x1f "
                      "(x87|SSE|AVX|MPX BNDREGS|MPX BNDCSR) is 1088");
    }
    SECTION("CPUID.(0xD,0).EBX against a recorded or given XCR0") {
        Profile p = good;
        p.xcr0 = 0x7;
        auto f = problems(p);
        REQUIRE(f.size() == 1);
        CHECK(f[0] == "xcr0-size: CPUID.(0xD,0).EBX = 1088, but the standard size of the recorded XCR0 0x7 (x87|SSE|AVX) is 832");
        CHECK(problems(p, {0x1f, {}}).empty());
        auto g = problems(good, {0x207, {}});
        REQUIRE(g.size() == 1);
        CHECK(g[0] == "enabled-mask: given XCR0 0x207 (x87|SSE|AVX|PKRU) enables 0x200 (PKRU) which CPUID.(0xD,0) does not support");
    }
    SECTION("CPUID.(0xD,0).EBX explained by no XCR0") {
        Profile p = good;
        leaf(p, 0).ebx = 1000;
        auto f = problems(p);
        REQUIRE(f.size() == 1);
        CHECK(f[0] == "xcr0-size: CPUID.(0xD,0).EBX = 1000 is the standard size of no XCR0 the CPU supports "
                      "(all supported user components 0x1f (x87|SSE|AVX|MPX BNDREGS|MPX BNDCSR) give 1088)");
    }
    SECTION("XSAVES with CPUID.(0xD,1).EBX = 0") {
        Profile p = good;
        leaf(p, 1).eax = 0xF;
        auto f = problems(p);
        REQUIRE(f.size() == 1);
        CHECK(f[0] == "xsaves-size: CPUID.(0xD,1).EBX = 0, but the CPU supports XSAVES");
    }
    SECTION("no leaf 0xD at all") {
        Profile p;
        p.set({0, 0, 0xD, 0, 0, 0});
        auto f = problems(p);
        REQUIRE(f.size() == 1);
        CHECK(f[0] == "no-leaf-0d: the profile has no CPUID.(0xD,0): nothing to check");
    }
}

TEST_CASE("cpuid check: random leaf 0xD never throws and stays fast") {
    std::mt19937_64 rng(42);
    for (int i = 0; i < 1000; ++i) {
        Profile p;
        auto r32 = [&] { return uint32_t(rng()); };
        auto small = [&] { return uint32_t(rng() % 4096); };
        uint32_t bits = r32() & (rng() % 2 ? 0xFFFFFFFF : 0x000E03FF);
        p.set({0xD, 0, bits, small(), small(), rng() % 8 ? 0 : r32()});
        p.set({0xD, 1, r32() & 0x1F, small(), r32() & (rng() % 2 ? 0xFFFF00 : 0x1900), 0});
        for (uint32_t b = 2; b < 40; ++b)
            if (rng() % 3) p.set({0xD, b, rng() % 16 ? small() : r32(), small(), r32() & 7, 0});
        if (rng() % 4 == 0) p.xcr0 = rng();
        CHECK_NOTHROW(check_cpuid(p));
    }
}
