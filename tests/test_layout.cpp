#include "inline_profiles.hpp"
#include "xsave/error.hpp"
#include "xsave/layout.hpp"

#include <catch2/catch.hpp>

using namespace xsave;

TEST_CASE("Sapphire Rapids: standard 11008 and compacted 10752 bytes for XCR0 0x602e7") {
    CpuModel cpu(testing::sapphire_rapids());
    CHECK(cpu.supported_xcr0() == 0x602E7);
    CHECK(cpu.supported_xss() == 0xDD00);
    CHECK(cpu.has_xsavec());
    CHECK(cpu.has_xsaves());
    CHECK(cpu.has_xfd());
    const Layout& s = cpu.standard(0x602E7);
    CHECK(s.total_size == 11008);
    CHECK(s.offset[9] == 0xA80);
    CHECK(s.offset[18] == 0xB00);
    const Layout& c = cpu.compacted(0x602E7);
    CHECK(c.total_size == 10752);
    CHECK(c.offset[2] == 576);
    CHECK(c.offset[5] == 832);
    CHECK(c.offset[9] == 2432);
    CHECK(c.offset[17] == 2496);
    CHECK(c.offset[18] == 2560);
    CHECK(cpu.geometry(17).align64);
    CHECK(cpu.geometry(18).xfd);
    // XCR0|IA32_XSS with CET: CET_U and CET_S come between PKRU and TILECFG.
    const Layout& cs = cpu.compacted(0x602E7 | 0x1800);
    CHECK(cs.offset[11] == 2440);
    CHECK(cs.offset[12] == 2456);
    CHECK(cs.offset[17] == 2496);
    CHECK(cs.total_size == 10752);
    // The same layout object is returned: computed once per mask.
    CHECK(&cpu.compacted(0x8000000000000000ull | 0x602E7) == &c);
}

TEST_CASE("Genoa and Skylake-SP place AVX-512 and PKRU differently") {
    CpuModel g(testing::genoa()), s(testing::skylake_sp());
    const Layout& lg = g.standard(g.supported_xcr0());
    const Layout& ls = s.standard(s.supported_xcr0());
    CHECK(lg.total_size == 0x988);
    CHECK(ls.total_size == 0xA88);
    CHECK(lg.offset[5] == 0x340);
    CHECK(ls.offset[5] == 0x440);
    CHECK(lg.offset[9] == 0x980);
    CHECK(ls.offset[9] == 0xA80);
    CHECK_FALSE(lg.has(3));
    CHECK(ls.has(3));
}

TEST_CASE("supervisor components have no standard place; unknown bits are refused by name") {
    CpuModel cpu(testing::sapphire_rapids());
    CHECK_THROWS_WITH(cpu.standard(0x2E7 | 0x800),
                      "CET_U (bit 11) is a supervisor component: it has no place in the standard form");
    CHECK_THROWS_WITH(cpu.compacted(0x7 | 1ull << 40),
                      "bit40 (bit 40) is not enumerated by the profile (supported XCR0 0x602e7, IA32_XSS 0xdd00)");
}

TEST_CASE("a profile with a 4 GiB component is refused at once") {
    auto p = testing::epyc_host();
    p.set({0xD, 0, 0x20E7, 0x980, 0x980, 0});
    p.set({0xD, 13, 0xFFFFFFFF, 0, 0, 0});
    CHECK_THROWS_WITH(CpuModel(p), "profile epyc-host: CPUID.(0xD,13) gives HDC (bit 13) size 4294967295 at offset 0: beyond the 1048576-byte limit");
}

TEST_CASE("overlapping standard components are an error, missing subleaves a warning") {
    auto p = testing::skylake_sp();
    p.set({0xD, 0, 0x802FF, 0xA80, 0xA88, 0});
    p.set({0xD, 19, 0x80, 0x3C0, 0, 0});   // APX shares MPX's space
    CpuModel cpu(p);
    REQUIRE(cpu.warnings().size() >= 1);
    CHECK(cpu.warnings()[0] == "standard offsets of MPX BNDREGS (bit 3, 0x3c0..0x400) and APX (bit 19, 0x3c0..0x440) overlap");
    CHECK_THROWS_WITH(cpu.standard(0x802FF),
                      "standard layout: MPX BNDREGS (bit 3, 0x3c0..0x400) overlaps APX (bit 19, 0x3c0..0x440)");
    CHECK(cpu.standard(0x800E7).offset[19] == 0x3C0);

    auto q = testing::epyc_host();
    q.set({0xD, 0, 0x2E7, 0x980, 0x988, 0});   // claims PKRU without subleaf 9
    CpuModel cq(q);
    REQUIRE(cq.warnings().size() == 1);
    CHECK(cq.warnings()[0] == "CPUID.(0xD,9) is missing for supported component PKRU (bit 9): it cannot be placed");
    CHECK_THROWS_WITH(cq.standard(0x2E7), "PKRU (bit 9) has no size in the profile (CPUID.(0xD,9) missing or empty)");
}
