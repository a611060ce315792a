// `check --cpuid FROM --on TO`: does the area restore meaning the same registers? Built-in
// profiles (Zen 4 Genoa, Skylake-SP) and areas made by random_standard_state.
#include "helpers.hpp"

#include "xsave/convert.hpp"
#include "xsave/image.hpp"
#include "xsave/import.hpp"
#include "xsave/random_state.hpp"
#include "xsave/restore_meaning.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>

using testing::run_tool;
using testing::shell_quote;

namespace {

xsave::CpuModel model(const char* name) { return xsave::CpuModel(xsave::builtin_profile(name)); }

// A Zen 4 standard area, every component of XCR0 0x2e7 in use, padded with zeros to
// Skylake-SP's 2696 bytes so that XRSTOR there reads nothing past its end.
std::vector<uint8_t> zen4_padded() {
    auto zen4 = model("zen4-genoa");
    xsave::RandomStateOptions o;
    o.xstate_bv = 0x2e7;
    auto b = xsave::random_standard_state(zen4, 0x2e7, 7, o);
    REQUIRE(b.size() == 2440);
    b.resize(2696, 0);
    return b;
}

} // namespace

TEST_CASE("meaning: a Zen 4 standard area read by Skylake-SP loads 41 registers from other bytes", "[check][meaning]") {
    auto zen4 = model("zen4-genoa"), skx = model("skylake-sp");
    auto m = xsave::compare_restore_meaning(zen4_padded(), zen4, skx, skx.enabled_xcr0());
    CHECK(m.form == xsave::Format::Standard);
    CHECK(m.compared == 0x2e4);
    REQUIRE(m.misread.size() == 4);
    CHECK(m.register_count() == 41);
    // Skylake-SP keeps 256 bytes for MPX (0x3c0..0x43f) that Zen 4 does not have.
    CHECK(m.misread[0].bit == 5);
    CHECK(m.misread[0].from_offset == 0x340);
    CHECK(m.misread[0].to_offset == 0x440);
    CHECK(xsave::register_ranges(m.misread[0].registers) == "k0-k7");
    CHECK(xsave::register_ranges(m.misread[1].registers) == "zmmh0-zmmh15");
    CHECK(m.misread[2].from_offset == 0x580);
    CHECK(m.misread[2].to_offset == 0x680);
    CHECK(xsave::register_ranges(m.misread[2].registers) == "zmm16-zmm31");
    CHECK(m.misread[3].bit == 9);
    CHECK(m.misread[3].from_offset == 0x980);
    CHECK(m.misread[3].to_offset == 0xa80);
    CHECK(m.misread[3].registers == std::vector<std::string>{"pkru"});
    // AVX sits at 0x240 on both: same.
    CHECK(xsave::compare_restore_meaning(zen4_padded(), zen4, zen4, zen4.enabled_xcr0()).same_registers());
}

TEST_CASE("meaning: only in-use components count; compacted Zen 4 areas read the same on Skylake-SP", "[check][meaning]") {
    auto zen4 = model("zen4-genoa"), skx = model("skylake-sp");
    auto b = zen4_padded();
    xsave::store_le(&b[xsave::kXstateBvOffset], 0x207, 8);   // AVX-512 init: only PKRU moves
    auto m = xsave::compare_restore_meaning(b, zen4, skx, skx.enabled_xcr0());
    REQUIRE(m.misread.size() == 1);
    CHECK(m.misread[0].bit == 9);
    CHECK(m.register_count() == 1);

    xsave::ReadOptions ro;
    ro.xcr0 = 0x2e7;
    auto std_area = zen4_padded();
    std_area.resize(2440);
    auto img = xsave::read_image(std_area, zen4, ro);
    auto c = xsave::to_compacted(img, zen4, 0x2e7);
    auto mc = xsave::compare_restore_meaning(c.bytes, zen4, skx, skx.enabled_xcr0());
    CHECK(mc.form == xsave::Format::Compacted);
    CHECK(mc.compared == 0x2e4);
    CHECK(mc.same_registers());
}

TEST_CASE("check --cpuid FROM --on TO: registers-misread, exit 1, and the convert command", "[check][meaning][cli]") {
    auto f = testing::tmp_path("zen4-padded.bin");
    testing::write_bytes(f, zen4_padded());
    auto r = run_tool("check " + shell_quote(f) + " --cpuid zen4-genoa --on skylake-sp");
    INFO(r.out << r.err);
    CHECK(r.status == 1);
    CHECK(r.out.find(": rejected by xrstor (standard form, XSTATE_BV 0x2e7, XCOMP_BV 0x0") != std::string::npos);
    CHECK(r.out.find("  registers-misread: saved with zen4-genoa's standard layout, the area restores on skylake-sp "
                     "without a fault but 41 registers load other bytes: AVX-512 opmask 0x340 -> 0x440 (k0-k7), "
                     "ZMM_Hi256 0x380 -> 0x480 (zmmh0-zmmh15), Hi16_ZMM 0x580 -> 0x680 (zmm16-zmm31), PKRU 0x980 -> "
                     "0xa80 (pkru); convert first: xsavetool convert " + f +
                     " --cpuid zen4-genoa --to-cpuid skylake-sp -o OUT\n") != std::string::npos);
    // XRSTOR's own rules pass: the only violation is the meaning.
    CHECK(r.out.find("  xstate-bv") == std::string::npos);
    CHECK(r.out.find("  area-size") == std::string::npos);

    auto j = nlohmann::json::parse(run_tool("check " + shell_quote(f) + " --cpuid zen4-genoa --on skylake-sp --json").out);
    CHECK(j["ok"] == false);
    CHECK(j["same_registers"] == false);
    CHECK(j["misread_registers"] == 41);
    REQUIRE(j["misread"].size() == 4);
    CHECK(j["misread"][0]["name"] == "AVX-512 opmask");
    CHECK(j["misread"][0]["from_offset"] == 0x340);
    CHECK(j["misread"][0]["to_offset"] == 0x440);
    CHECK(j["misread"][0]["registers"][7] == "k7");
    CHECK(j["misread"][3]["registers"][0] == "pkru");
    CHECK(j["convert"] == "xsavetool convert " + f + " --cpuid zen4-genoa --to-cpuid skylake-sp -o OUT");
    REQUIRE(j["violations"].size() == 1);
    CHECK(j["violations"][0]["rule"] == "registers-misread");

    // The command it names gives an area that reads the same on Skylake-SP.
    auto out = testing::tmp_path("skx.bin");
    auto cv = run_tool("convert " + shell_quote(f) + " --cpuid zen4-genoa --to-cpuid skylake-sp -o " + shell_quote(out));
    INFO(cv.err);
    REQUIRE(cv.status == 0);
    auto same = run_tool("check " + shell_quote(out) + " --cpuid skylake-sp --on skylake-sp --json");
    auto js = nlohmann::json::parse(same.out);
    CHECK(same.status == 0);
    CHECK(js["same_registers"] == true);
    CHECK(js["misread_registers"] == 0);
    CHECK(!js.contains("convert"));
    auto text = run_tool("check " + shell_quote(out) + " --cpuid skylake-sp --on skylake-sp");
    CHECK(text.out.find("  same registers: skylake-sp reads every in-use component where skylake-sp saved it "
                        "(AVX|AVX-512 opmask|ZMM_Hi256|Hi16_ZMM|PKRU)\n") != std::string::npos);
    std::filesystem::remove(out);

    // --on alone (or --cpuid alone) names the target, as before: no meaning check.
    auto plain = nlohmann::json::parse(run_tool("check " + shell_quote(f) + " --on skylake-sp --json").out);
    CHECK(!plain.contains("same_registers"));
    std::filesystem::remove(f);
}
