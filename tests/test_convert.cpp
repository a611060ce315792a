// The conversion engine without hardware: the seed buffer, the MXCSR and init rules, XCOMP_BV
// modes, refusals and sidecars, and round trips over every corpus profile.
#include "helpers.hpp"
#include "inline_profiles.hpp"

#include "xsave/components.hpp"
#include "xsave/convert.hpp"
#include "xsave/decode.hpp"
#include "xsave/error.hpp"
#include "xsave/image.hpp"
#include "xsave/import.hpp"
#include "xsave/random_state.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <functional>
#include <random>

using namespace xsave;

namespace {

using testing::error_of;

std::string reg_hex(const Decoded& d, const std::string& name) {
    for (const auto& r : d.registers)
        if (r.name == name) return hex_value(r.bytes);
    return "(missing " + name + ")";
}

} // namespace

TEST_CASE("WHPX seed: standard differs only in XCOMP_BV; compact --xcomp-bv 0x7 gives the 832 bytes back", "[widths]") {
    CpuModel cpu(testing::epyc_host());
    const auto orig = testing::read_bytes(testing::data_path("whpx-832.bin"));
    REQUIRE(orig.size() == 832);
    auto std_r = to_standard(read_image(orig, cpu), cpu);
    REQUIRE(std_r.bytes.size() == 832);
    auto expect = orig;
    std::fill(expect.begin() + kXcompBvOffset, expect.begin() + kXcompBvOffset + 8, 0);
    CHECK(std_r.bytes == expect);
    CHECK(load_le(&std_r.bytes[kMxcsrMaskOffset], 4) == 0xFFFF);   // not replaced by the CPU's mask
    CHECK(std_r.xstate_bv == 3);

    Image s = read_image(std_r.bytes, cpu, {0x7});
    auto cmp = to_compacted(s, cpu, compute_xcomp_bv(s, cpu, parse_xcomp_mode("0x7")));
    CHECK(cmp.bytes == orig);
    CHECK(cmp.xcomp_bv == 0x8000000000000007ull);
}

TEST_CASE("MXCSR: compacting sets XSTATE_BV[1] for it; a compacted area without SSE in use means 0x1F80", "[widths]") {
    CpuModel cpu(testing::epyc_host());
    std::vector<uint8_t> s(2432, 0);
    store_le(&s[0], kFcwInit, 2);
    store_le(&s[kMxcsrOffset], 0x3F80, 4);
    store_le(&s[kMxcsrMaskOffset], 0x2FFFF, 4);
    auto c = to_compacted(read_image(s, cpu), cpu, 0xE7);
    CHECK(c.xstate_bv == 2);
    CHECK(load_le(&c.bytes[kMxcsrOffset], 4) == 0x3F80);
    // ... and back: XSTATE_BV[1] only carried MXCSR, which standard form holds anyway.
    auto back = to_standard(read_image(c.bytes, cpu), cpu);
    CHECK(back.bytes == s);

    // Compacted, SSE not in use, junk where MXCSR would be: standard writes 0x1F80 and the
    // CPU's MXCSR_MASK (XSAVEC wrote neither).
    auto junk = c.bytes;
    store_le(&junk[kXstateBvOffset], 0, 8);
    store_le(&junk[kMxcsrOffset], 0xDEADBEEF, 4);
    store_le(&junk[kMxcsrMaskOffset], 0xDEADBEEF, 4);
    auto st = to_standard(read_image(junk, cpu), cpu);
    CHECK(load_le(&st.bytes[kMxcsrOffset], 4) == kMxcsrInit);
    CHECK(load_le(&st.bytes[kMxcsrMaskOffset], 4) == 0x2FFFF);
    CHECK(st.xstate_bv == 0);
}

TEST_CASE("components not in use are written in their initial configuration", "[widths]") {
    CpuModel cpu(testing::epyc_host());
    std::vector<uint8_t> s(2432, 0xAB);
    std::fill(s.begin() + 512, s.begin() + 576, 0);
    store_le(&s[kXstateBvOffset], 0x20, 8);   // opmask only
    store_le(&s[kMxcsrOffset], kMxcsrInit, 4);
    auto c = to_compacted(read_image(s, cpu), cpu, 0xE7);
    const Layout& L = cpu.compacted(0xE7);
    CHECK(load_le(&c.bytes[0], 2) == kFcwInit);
    CHECK(std::count(c.bytes.begin() + 2, c.bytes.begin() + 24, 0) == 22);
    CHECK(std::count(c.bytes.begin() + 32, c.bytes.begin() + 416, 0) == 384);
    CHECK(std::count(c.bytes.begin() + L.offset[2], c.bytes.begin() + L.offset[2] + 256, 0) == 256);
    CHECK(std::count(c.bytes.begin() + L.offset[5], c.bytes.begin() + L.offset[5] + 64, 0xAB) == 64);
    CHECK(std::count(c.bytes.begin() + 528, c.bytes.begin() + 576, 0) == 48);   // header bytes 16..63
    // Bytes 416..511 are no component's: kept as they were.
    CHECK(c.bytes[416] == 0xAB);
    CHECK(c.bytes[511] == 0xAB);
}

TEST_CASE("XCOMP_BV modes", "[widths]") {
    CpuModel spr(testing::sapphire_rapids());
    auto s = random_standard_state(spr, 0x602E7, 5, {.xstate_bv = 0x207});
    store_le(&s[kMxcsrOffset], kMxcsrInit, 4);
    Image img = read_image(s, spr);
    CHECK(compute_xcomp_bv(img, spr, parse_xcomp_mode("xsavec")) == (kCompactedBit | 0x602E7));
    XcompRequest r = parse_xcomp_mode("xsavec");
    r.xcr0 = 0x2E7;
    CHECK(compute_xcomp_bv(img, spr, r) == (kCompactedBit | 0x2E7));
    CHECK(compute_xcomp_bv(img, spr, parse_xcomp_mode("xsaves")) == (kCompactedBit | 0x602E7 | 0xDD00));
    CHECK(compute_xcomp_bv(img, spr, parse_xcomp_mode("minimal")) == (kCompactedBit | 0x207));
    r = parse_xcomp_mode("mshv");
    r.xcr0 = 0x7;   // the guest's XCR0: AMX and AVX-512 disabled
    CHECK(compute_xcomp_bv(img, spr, r) == (kCompactedBit | 0x7));
    CHECK(compute_xcomp_bv(img, spr, parse_xcomp_mode("0x2e7")) == (kCompactedBit | 0x2E7));
    CHECK(compute_xcomp_bv(img, spr, parse_xcomp_mode("7")) == (kCompactedBit | 0x7));
    CHECK_THROWS_WITH(parse_xcomp_mode("xsave"), Catch::Contains("expected xsavec, xsaves, minimal, mshv, a mask or component names"));
    // Minimal keeps SSE for a non-initial MXCSR.
    store_le(&s[kMxcsrOffset], 0x1F81, 4);
    store_le(&s[kXstateBvOffset], 0x4, 8);
    CHECK(compute_xcomp_bv(read_image(s, spr), spr, parse_xcomp_mode("minimal")) == (kCompactedBit | 0x6));
}

TEST_CASE("Sapphire Rapids -> Genoa: PKRU 0xA80 -> 0x980, opmask 0x440 -> 0x340, same registers, and back", "[widths]") {
    CpuModel spr(testing::sapphire_rapids()), genoa(testing::genoa());
    auto s = random_standard_state(spr, 0x602E7, 42, {.xstate_bv = 0x2E7});
    Image a = read_image(s, spr);
    auto g = relayout(a, spr, genoa, Format::Standard);
    REQUIRE(g.bytes.size() == 0x988);
    CHECK(std::equal(s.begin() + 0xA80, s.begin() + 0xA88, g.bytes.begin() + 0x980));
    CHECK(std::equal(s.begin() + 0x440, s.begin() + 0x480, g.bytes.begin() + 0x340));
    Image b = read_image(g.bytes, genoa);
    Decoded da = decode(a, spr), db = decode(b, genoa);
    for (const char* r : {"pkru", "k0", "k7", "zmm0", "zmm15", "zmm16", "zmm31", "xmm3", "st5", "mxcsr", "fcw"})
        CHECK(reg_hex(da, r) == reg_hex(db, r));
    auto back = relayout(b, genoa, spr, Format::Standard);
    CHECK(back.bytes == s);

    // And to Genoa's compacted form (XSAVEC with Genoa's XCR0).
    auto gc = relayout(a, spr, genoa, Format::Compacted);
    CHECK(gc.xcomp_bv == (kCompactedBit | 0x2E7));
    CHECK(relayout(read_image(gc.bytes, genoa), genoa, spr, Format::Standard).bytes == s);
}

TEST_CASE("AMX in use: Sapphire Rapids -> Genoa refuses naming TILECFG and TILEDATA; --drop with a sidecar round-trips", "[widths]") {
    CpuModel spr(testing::sapphire_rapids()), genoa(testing::genoa());
    auto s = random_standard_state(spr, 0x602E7, 43, {.xstate_bv = 0x602E7});
    Image a = read_image(s, spr);
    std::string msg = error_of([&] { relayout(a, spr, genoa, Format::Standard); });
    CHECK(msg == "AMX TILECFG (bit 17) and AMX TILEDATA (bit 18) are in use but the target layout lacks them; "
                 "--drop tilecfg,tiledata discards them");

    ConvertOptions o;
    o.drop = component_mask_from_name("amx");
    Sidecar side;
    o.sidecar_out = &side;
    auto g = relayout(a, spr, genoa, Format::Standard, o);
    CHECK(g.dropped == 0x60000);
    CHECK(g.xstate_bv == 0x2E7);
    REQUIRE(side.components.size() == 2);
    CHECK(side.components[0].name == "AMX TILECFG");
    CHECK(side.components[1].bytes.size() == 8192);

    Sidecar reread = sidecar_from_json(sidecar_to_json(side));
    ConvertOptions back_o;
    back_o.sidecar_in = &reread;
    auto back = relayout(read_image(g.bytes, genoa), genoa, spr, Format::Standard, back_o);
    CHECK(back.restored == 0x60000);
    CHECK(back.bytes == s);
}

TEST_CASE("supervisor state going to standard form needs --drop supervisor; xsaves compaction puts it back", "[widths]") {
    CpuModel spr(testing::sapphire_rapids());
    auto s = random_standard_state(spr, 0x602E7, 44, {.xstate_bv = 0x2E7});
    Image si = read_image(s, spr);
    const uint64_t xcomp = compute_xcomp_bv(si, spr, parse_xcomp_mode("xsaves"));   // with CET_U and CET_S
    CHECK(xcomp == (kCompactedBit | 0x602E7 | 0xDD00));
    auto c = to_compacted(si, spr, xcomp);
    const Layout& L = spr.compacted(xcomp);
    for (uint32_t i = 0; i < 16; ++i) c.bytes[L.offset[11] + i] = uint8_t(0x10 + i);
    store_le(&c.bytes[kXstateBvOffset], c.xstate_bv | 0x800, 8);
    Image ci = read_image(c.bytes, spr);

    CHECK(error_of([&] { to_standard(ci, spr); }) ==
          "CET_U (bit 11) is in use but standard form has no place for supervisor state; "
          "--drop cet_u or --drop supervisor discards it");
    ConvertOptions o;
    o.drop_supervisor = true;
    Sidecar side;
    o.sidecar_out = &side;
    auto st = to_standard(ci, spr, o);
    CHECK(st.dropped == 0x800);
    CHECK(st.bytes == s);
    ConvertOptions in_o;
    in_o.sidecar_in = &side;
    auto again = to_compacted(read_image(st.bytes, spr), spr, xcomp, in_o);
    CHECK(again.bytes == c.bytes);
}

TEST_CASE("a component whose size differs between CPUs is refused when in use", "[widths]") {
    auto a = testing::leaf0d_profile("a", "x", {{0, 0x7, 0x340, 0x340, 0}, {1, 0xF, 0x340, 0x8000, 0}, {2, 0x100, 0x240, 0, 0}, {15, 0x328, 0, 1, 0}});
    auto b = testing::leaf0d_profile("b", "x", {{0, 0x7, 0x340, 0x340, 0}, {1, 0xF, 0x340, 0x8000, 0}, {2, 0x100, 0x240, 0, 0}, {15, 0x1A8, 0, 1, 0}});
    CpuModel ca(a), cb(b);
    std::vector<uint8_t> c(576 + 256 + 0x328, 0);
    store_le(&c[kXstateBvOffset], 0x8000, 8);
    store_le(&c[kXcompBvOffset], kCompactedBit | 0x8007, 8);
    store_le(&c[kMxcsrOffset], kMxcsrInit, 4);
    Image img = read_image(c, ca);
    ConvertOptions o;
    o.xcomp_bv = 0x8007;
    CHECK(error_of([&] { relayout(img, ca, cb, Format::Compacted, o); }) ==
          "LBR (bit 15) is in use but is 808 bytes here and 424 bytes in the target layout; --drop lbr discards it");
    o.drop = 1ull << 15;
    auto r = relayout(img, ca, cb, Format::Compacted, o);
    CHECK(r.dropped == 0x8000);
    CHECK(r.bytes.size() == 576 + 256 + 0x1A8);
}

TEST_CASE("trailing bytes: non-zero ones are refused unless copied or dropped; zero padding is not", "[widths]") {
    CpuModel cpu(testing::epyc_host());
    auto b = testing::read_bytes(testing::data_path("whpx-832.bin"));
    b.insert(b.end(), {1, 0, 3});
    Image img = read_image(b, cpu);
    CHECK(error_of([&] { to_standard(img, cpu); }) ==
          "3 trailing bytes after the 832-byte layout, 2 of them non-zero (the first at offset 0x340) would be lost; "
          "--keep-trailing copies them, --drop trailing discards them");
    CHECK_THROWS_AS(to_compacted(img, cpu, 0x7), LossError);
    ConvertOptions o;
    o.drop_trailing = true;
    auto r = to_standard(img, cpu, o);
    CHECK(r.trailing == 3);
    CHECK(r.bytes.size() == 832);
    o = {};
    o.keep_trailing = true;
    r = to_standard(img, cpu, o);
    REQUIRE(r.bytes.size() == 835);
    CHECK(r.bytes[834] == 3);
    // Zero padding (KVM's 4096-byte buffer) is not data.
    b.resize(832);
    b.resize(4096, 0);
    r = to_standard(read_image(b, cpu), cpu);
    CHECK(r.trailing == 4096 - 832);
    CHECK(r.bytes.size() == 832);
}

TEST_CASE("inconsistent inputs are refused naming the field", "[widths]") {
    CpuModel cpu(testing::epyc_host());
    auto b = testing::read_bytes(testing::data_path("whpx-832.bin"));
    store_le(&b[kXstateBvOffset], 0x23, 8);   // opmask in use, but XCOMP_BV is 0x7
    CHECK(error_of([&] { to_standard(read_image(b, cpu), cpu); }) ==
          "offset 0x200: XSTATE_BV 0x23 marks AVX-512 opmask (bit 5) in use, but the compacted layout 0x7 has no place for it");
    CHECK_THROWS_WITH(sidecar_from_json("{\"components\":[{\"bit\":2,\"bytes\":\"zz\"}]}"),
                      "sidecar: components[0].bytes: not hex");
    CHECK_THROWS_WITH(sidecar_from_json("[]"), Catch::Contains("expected {\"components\""));
}

TEST_CASE("random states are deterministic and valid by construction", "[widths]") {
    CpuModel cpu(testing::epyc_host());
    auto a = random_standard_state(cpu, 0xE7, 1234), b = random_standard_state(cpu, 0xE7, 1234);
    CHECK(a == b);
    CHECK(a != random_standard_state(cpu, 0xE7, 1235));
    for (uint64_t seed = 0; seed < 300; ++seed) {
        auto s = random_standard_state(cpu, 0xE7, seed);
        REQUIRE(s.size() == 2432);
        uint64_t bv = load_le(&s[kXstateBvOffset], 8);
        CHECK((bv & ~0xE7ull) == 0);
        CHECK(std::count(s.begin() + 520, s.begin() + 576, 0) == 56);
        uint32_t mxcsr = uint32_t(load_le(&s[kMxcsrOffset], 4));
        CHECK((mxcsr & ~0xFFBFu) == 0);
        CHECK((mxcsr & 0x1F80) == 0x1F80);
        uint16_t fcw = uint16_t(load_le(&s[0], 2));
        CHECK((fcw & 0x3F) == 0x3F);
        CHECK((load_le(&s[2], 2) & 0x8080) == 0);   // FSW: no ES, no B
        CHECK(load_le(&s[6], 8) == 0);              // FOP, FIP low
        for (unsigned r = 0; r < 8; ++r) CHECK(load_le(&s[32 + 16 * r + 10], 6) == 0);
        if (!(bv & 4)) CHECK(std::count(s.begin() + 576, s.begin() + 832, 0) == 256);
    }
}

TEST_CASE("round trips over every corpus profile: compact -> standard, and A -> B -> A") {
    if (!testing::have_shared()) SKIP_TEST("../shared/corpus is not there");
    std::vector<std::string> files;
    for (const auto& e : std::filesystem::directory_iterator(testing::shared_path("corpus/cpuid-aida64")))
        files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    REQUIRE(files.size() >= 20);
    std::vector<std::unique_ptr<CpuModel>> cpus;
    for (const auto& f : files) {
        ImportOptions io;
        io.name = std::filesystem::path(f).stem().string();
        cpus.push_back(std::make_unique<CpuModel>(import_profile(testing::read_text(f), io)));
    }
    int checked = 0, pairs = 0;
    for (size_t i = 0; i < cpus.size(); ++i) {
        const CpuModel& a = *cpus[i];
        INFO(a.profile().name);
        const uint64_t xcr0 = a.enabled_xcr0();
        for (uint64_t seed = 0; seed < 20; ++seed) {
            auto s = random_standard_state(a, xcr0, seed);
            Image img = read_image(s, a);
            {
                auto c = to_compacted(img, a, compute_xcomp_bv(img, a, {}));
                auto back = to_standard(read_image(c.bytes, a), a);
                CHECK(back.bytes == s);
                auto m = to_compacted(img, a, compute_xcomp_bv(img, a, parse_xcomp_mode("minimal")));
                CHECK(to_standard(read_image(m.bytes, a), a, {.xcr0 = xcr0}).bytes == s);
                ++checked;
            }
        }
        // A -> B -> A with B the next profile, using only components B holds at the same size.
        const CpuModel& b = *cpus[(i + 1) % cpus.size()];
        uint64_t common = xcr0 & b.enabled_xcr0();
        for (unsigned bit = 2; bit < 63; ++bit)
            if ((common >> bit & 1) && a.geometry(bit).size != b.geometry(bit).size) common &= ~(1ull << bit);
        for (uint64_t seed = 100; seed < 110; ++seed) {
            auto s = random_standard_state(a, xcr0, seed, {.xstate_bv = std::mt19937_64(seed)() & common});
            Image img = read_image(s, a);
            auto ab = relayout(img, a, b, Format::Standard);
            CHECK(relayout(read_image(ab.bytes, b), b, a, Format::Standard).bytes == s);
            auto abc = relayout(img, a, b, Format::Compacted);
            CHECK(relayout(read_image(abc.bytes, b), b, a, Format::Standard).bytes == s);
            ++pairs;
        }
        // A component only A has, in use, is refused by name.
        if (uint64_t only_a = xcr0 & ~b.supported_xcr0() & ~3ull) {
            unsigned bit = unsigned(__builtin_ctzll(only_a));
            auto s = random_standard_state(a, xcr0, 7, {.xstate_bv = 3ull | 1ull << bit});
            CHECK_THROWS_WITH(relayout(read_image(s, a), a, b, Format::Standard),
                              Catch::StartsWith(component_name(bit) + " (bit " + std::to_string(bit) + ") is in use"));
        }
    }
    CHECK(checked == int(cpus.size()) * 20);
    CHECK(pairs == int(cpus.size()) * 10);
}
