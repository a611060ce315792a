#include "helpers.hpp"
#include "inline_profiles.hpp"
#include "xsave/decode.hpp"
#include "xsave/error.hpp"
#include "xsave/random_state.hpp"

#include "xsave/control_words.hpp"

#include <catch2/catch.hpp>
#include <fmt/core.h>

using namespace xsave;

namespace {
const Value& reg(const Decoded& d, const std::string& name) {
    for (const auto& r : d.registers)
        if (r.name == name) return r;
    FAIL("no register " << name);
    throw;
}
} // namespace

TEST_CASE("the WHPX seed buffer decodes as compacted x87+SSE with AVX in init state") {
    CpuModel cpu(testing::epyc_host());
    auto bytes = testing::read_bytes(testing::data_path("whpx-832.bin"));
    REQUIRE(bytes.size() == 832);
    Image img = read_image(bytes, cpu);
    CHECK(img.format == Format::Compacted);
    CHECK(img.xcomp_bv == 0x8000000000000007ull);
    CHECK(img.xstate_bv == 0x3);
    CHECK(img.layout->total_size == 832);
    CHECK(img.trailing() == 0);
    Decoded d = decode(img, cpu);
    REQUIRE(d.components.size() == 3);
    CHECK(d.components[2].name == "AVX");
    CHECK(d.components[2].offset == 576);
    CHECK_FALSE(d.components[2].in_use);
    CHECK(hex_value(reg(d, "mxcsr").bytes) == "0x00001fa0");
    CHECK(hex_value(reg(d, "mxcsr_mask").bytes) == "0x0000ffff");
    CHECK(hex_value(reg(d, "fcw").bytes) == "0x037f");
    CHECK(hex_value(reg(d, "ftw").bytes) == "0x00");
    CHECK(hex_value(reg(d, "xmm0").bytes) == "0x00007f34c8657f0400007f34c8655800");
    CHECK(hex_value(reg(d, "xmm8").bytes) == "0x000000000000000000007f34cb663d70");
    CHECK(hex_value(reg(d, "xmm9").bytes) == "0x00000000000000000020006f00650069");
    CHECK(hex_value(reg(d, "xmm12").bytes) == "0x00000000000000000000000000000000");
    CHECK(hex_value(reg(d, "xmm13").bytes) == "0x00000022000000050000000c00000002");
    // AVX is in init state: the composed YMM registers have zero upper halves.
    CHECK(hex_value(reg(d, "ymm0").bytes) == "0x" + std::string(32, '0') + "00007f34c8657f0400007f34c8655800");
    CHECK(d.registers.size() == 6 + 8 + 2 + 16 + 16);
}

TEST_CASE("init components show initial values whatever bytes the buffer holds") {
    CpuModel cpu(testing::epyc_host());
    std::vector<uint8_t> b(2432, 0xAB);
    std::fill(b.begin() + 512, b.begin() + 576, 0);   // XSTATE_BV = 0, standard form
    Decoded d = decode(read_image(b, cpu), cpu);
    CHECK(hex_value(reg(d, "fcw").bytes) == "0x037f");
    CHECK(hex_value(reg(d, "fsw").bytes) == "0x0000");
    CHECK(hex_value(reg(d, "st3").bytes) == "0x" + std::string(20, '0'));
    CHECK(hex_value(reg(d, "xmm5").bytes) == "0x" + std::string(32, '0'));
    CHECK(hex_value(reg(d, "k7").bytes) == "0x" + std::string(16, '0'));
    CHECK(hex_value(reg(d, "zmm31").bytes) == "0x" + std::string(128, '0'));
    // Standard form: XSAVE saves MXCSR whatever XSTATE_BV[1] says; MXCSR_MASK is never state.
    CHECK(hex_value(reg(d, "mxcsr").bytes) == "0xabababab");
    CHECK(hex_value(reg(d, "mxcsr_mask").bytes) == "0xabababab");
    // Compacted form with XSTATE_BV[1] clear: MXCSR is 0x1F80.
    std::vector<uint8_t> c(832, 0xCD);
    std::fill(c.begin() + 512, c.begin() + 576, 0);
    c[520] = 7;
    c[527] = 0x80;
    Decoded dc = decode(read_image(c, cpu), cpu);
    CHECK(hex_value(reg(dc, "mxcsr").bytes) == "0x00001f80");
}

TEST_CASE("composed views and register order follow the contract") {
    CpuModel cpu(testing::epyc_host());
    std::vector<uint8_t> b(2432, 0);
    b[512] = 0xE7;                      // everything in use
    b[160] = 0x11;                      // xmm0 low byte
    b[576] = 0x22;                      // ymmh0 low byte (AVX at 0x240)
    b[0x380] = 0x33;                    // zmmh0 low byte
    b[0x580 + 64] = 0x44;               // zmm17 low byte
    b[0x340 + 8 * 3] = 0x55;            // k3
    Decoded d = decode(read_image(b, cpu), cpu);
    CHECK(hex_value(reg(d, "zmm0").bytes) == "0x" + std::string(62, '0') + "33" + std::string(30, '0') + "22" + std::string(30, '0') + "11");
    CHECK(hex_value(reg(d, "zmm17").bytes) == "0x" + std::string(126, '0') + "44");
    CHECK(hex_value(reg(d, "k3").bytes) == "0x0000000000000055");
    std::vector<std::string> names;
    for (const auto& r : d.registers) names.push_back(r.name);
    REQUIRE(names.size() == 6 + 8 + 2 + 16 + 16 + 32 + 8);
    CHECK(names[0] == "fcw");
    CHECK(names[14] == "mxcsr");
    CHECK(names[16] == "xmm0");
    CHECK(names[32] == "ymm0");
    CHECK(names[48] == "zmm0");
    CHECK(names[64] == "zmm16");
    CHECK(names[80] == "k0");
}

TEST_CASE("short and malformed areas are refused with the missing part named") {
    CpuModel cpu(testing::epyc_host());
    CHECK_THROWS_WITH(read_image({}, cpu), "empty input: an XSAVE area needs at least 576 bytes (512-byte legacy region + 64-byte header)");
    CHECK_THROWS_WITH(read_image(std::vector<uint8_t>(100), cpu),
                      "100 bytes: too short for an XSAVE area, which needs at least 576 (legacy region 0..511, header 512..575)");
    CHECK_THROWS_WITH(read_image(std::vector<uint8_t>(1000), cpu),
                      "1000 bytes, but the standard layout for the profile's XCR0 0xe7 needs 2432: ZMM_Hi256 (bit 6) at 0x380..0x580 is cut short (--xcr0 says which components the area holds)");
    std::vector<uint8_t> c(832, 0);
    c[520] = 7;
    c[527] = 0x80;
    c[525] = 0x01;   // XCOMP_BV bit 40
    CHECK_THROWS_WITH(read_image(c, cpu),
                      "offset 0x208: XCOMP_BV 0x8000010000000007: bit40 (bit 40) is not enumerated by the profile (supported XCR0 0xe7, IA32_XSS 0x0)");
    std::vector<uint8_t> longer(844, 0);
    longer[520] = 7;
    longer[527] = 0x80;
    CHECK(read_image(longer, cpu).trailing() == 12);
}

TEST_CASE("x87 values read as people expect") {
    uint8_t one[10] = {0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f};
    CHECK(x87_decimal(one) == "1");
    uint8_t minus_pi[10] = {0x35, 0xc2, 0x68, 0x21, 0xa2, 0xda, 0x0f, 0xc9, 0x00, 0xc0};
    CHECK(x87_decimal(minus_pi) == "-3.141592653589793239");
    uint8_t inf[10] = {0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x7f};
    CHECK(x87_decimal(inf) == "inf");
}

TEST_CASE("FCW, FSW, FTW and MXCSR fields come from one table", "[decode]") {
    // name=value pairs of a decode, Flags as their names.
    auto fields = [](const char* reg, uint32_t v) {
        const ControlWord* w = control_word(reg);
        REQUIRE(w);
        std::string out;
        for (const auto& f : decode_control(*w, v)) {
            out += out.empty() ? "" : " ";
            out += f.field->kind == BitField::Flag ? std::string(f.field->name)
                 : f.field->kind == BitField::Choice ? fmt::format("{}={}", f.field->name, f.choice)
                                                      : fmt::format("{}={}", f.field->name, f.value);
        }
        return out;
    };
    CHECK(fields("mxcsr", 0x1F80) == "IM DM ZM OM UM PM RC=nearest FZ=0 DAZ=0");
    CHECK(fields("mxcsr", 0x1FA0) == "PE IM DM ZM OM UM PM RC=nearest FZ=0 DAZ=0");
    CHECK(fields("mxcsr", 0xE040) == "RC=toward-zero FZ=1 DAZ=1");
    CHECK(fields("mxcsr", 0x21F80) == "IM DM ZM OM UM PM RC=nearest FZ=0 DAZ=0 MM");
    CHECK(control_word("mxcsr")->reserved & 0x10000);
    CHECK(fields("fcw", 0x037F) == "IM DM ZM OM UM PM PC=extended RC=nearest");
    CHECK(fields("fcw", 0x0E7F) == "IM DM ZM OM UM PM PC=double RC=toward-zero");
    CHECK(fields("fcw", 0x047F) == "IM DM ZM OM UM PM PC=single RC=down");
    CHECK(fields("fsw", 0x0000) == "TOP=0 C3=0 C2=0 C1=0 C0=0");
    CHECK(fields("fsw", 0xB9A1) == "IE PE ES B TOP=7 C3=0 C2=0 C1=0 C0=1");
    CHECK(fields("fsw", 0x4700) == "TOP=0 C3=1 C2=1 C1=1 C0=1");   // FCOM/FXAM results: C3 C2 C0 = unordered
    CHECK(fields("ftw", 0x81) == "R0 R7");
    CHECK(fields("ftw", 0) == "");
    CHECK(control_word("xmm0") == nullptr);
}

TEST_CASE("a standard area saved with a smaller XCR0 is read with the components that fit") {
    CpuModel cpu(testing::epyc_host());
    auto b = testing::read_bytes(testing::data_path("whpx-832.bin"));
    std::fill(b.begin() + 520, b.begin() + 528, 0);   // XCOMP_BV cleared: standard form
    Image img = read_image(b, cpu);
    CHECK(img.format == Format::Standard);
    CHECK(img.layout->mask == 0x7);
    CHECK(img.layout->total_size == 832);
    REQUIRE(img.notes.size() == 1);
    CHECK(img.notes[0] == "standard area of 832 bytes is shorter than the 2432-byte layout for XCR0 0xe7: read as saved with XCR0 0x7 (x87|SSE|AVX)");
    // With AVX-512 state in use, 832 bytes cannot hold it.
    b[512] = 0x23;
    CHECK_THROWS_WITH(read_image(b, cpu), "832 bytes, but the standard layout for the profile's XCR0 0xe7 needs 2432: AVX-512 opmask (bit 5) at 0x340..0x380 is missing (--xcr0 says which components the area holds)");
}

TEST_CASE("streamed dump JSON is byte for byte the tree's dump(2), at any depth") {
    auto check = [](const Decoded& d) {
        const std::string tree = to_json(d).dump(2);
        std::string s = "{\n";
        append_json_members(s, d, 2);
        s += "\n}";
        CHECK(s == tree);
        // Nested two levels deeper: every line of the tree shifted by 4, the braces excepted.
        std::string nested = "{\n";
        append_json_members(nested, d, 6);
        nested += "\n}";
        std::string shifted;
        for (size_t i = 0; i < tree.size(); ++i) {
            shifted += tree[i];
            if (tree[i] == '\n' && i + 2 < tree.size()) shifted += "    ";
        }
        CHECK(nested == shifted);
    };
    CpuModel host(testing::epyc_host());
    check(decode(read_image(testing::read_bytes(testing::data_path("whpx-832.bin")), host), host));

    CpuModel spr(testing::sapphire_rapids());
    const uint64_t xcr0 = spr.enabled_xcr0();
    for (uint64_t seed = 1; seed <= 20; ++seed) {
        auto b = random_standard_state(spr, xcr0, seed);
        b[470] = uint8_t(seed);                                   // reserved legacy bytes
        if (seed % 3 == 0) b.insert(b.end(), {0xde, 0xad});       // trailing data
        INFO("seed " << seed);
        check(decode(read_image(b, spr, {xcr0}), spr));
    }
    // A name that needs escaping goes through the tree's own escaping.
    Decoded d = decode(read_image(testing::read_bytes(testing::data_path("whpx-832.bin")), host), host);
    d.warnings.push_back("quote \" backslash \\ tab \t and \xc3\xa9");
    d.profile = "p\"q";
    check(d);
}
