// `dump --only NAMES`, `dump --in-use` and `--format markdown` for dump and diff: text, JSON,
// golden markdown, unknown names, and assemble refusing a partial dump.
#include "golden.hpp"
#include "helpers.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using testing::data_path;
using testing::run_tool;
using testing::shell_quote;

namespace {
std::string avx512() {
    return shell_quote(data_path("core-avx512-xstate.bin")) + testing::host_profile_arg();
}
std::string whpx_with_profile() { return testing::whpx_arg() + testing::host_profile_arg(); }
} // namespace

TEST_CASE("dump --only prints the named registers in the order typed", "[dump][select]") {
    auto r = run_tool("dump " + avx512() + " --only xmm3,K1,zmm16,fcw");
    REQUIRE(r.status == 0);
    CHECK(r.err == "");
    CHECK(r.out ==
          "format      standard\n"
          "profile     host: Oxide Virtual Turin-like Processor\n"
          "XSTATE_BV   0x00000000000000e6  SSE|AVX|AVX-512 opmask|ZMM_Hi256|Hi16_ZMM\n"
          "XCOMP_BV    0x0000000000000000  standard form\n"
          "\n"
          "xmm3         0x4241403f3e3d3c3b3a39383736353433\n"
          "k1           0x0000000000002222\n"
          "zmm16        0x4f4e4d4c4b4a494847464544434241403f3e3d3c3b3a393837363534333231302f2e2d2c2b2a292827262524232221201f1e1d1c1b1a19181716151413121110\n"
          "fcw          0x037f  (IM DM ZM OM UM PM, PC=extended, RC=nearest)  (init)\n");
}

TEST_CASE("dump --only --json keeps the named registers and fields, and assemble refuses it", "[dump][select]") {
    auto r = run_tool("dump --json " + avx512() + " --only k1,ymmh3");
    REQUIRE(r.status == 0);
    auto j = nlohmann::json::parse(r.out);
    CHECK(j["selection"] == "only k1,ymmh3");
    CHECK(j["registers"] == nlohmann::json{{"k1", "0x0000000000002222"}});
    REQUIRE(j["components"].size() == 2);
    CHECK(j["components"][0]["name"] == "AVX");
    CHECK(j["components"][0]["fields"] == nlohmann::json{{"ymmh3", "0x5251504f4e4d4c4b4a49484746454443"}});
    CHECK(j["components"][1]["fields"] == nlohmann::json{{"k1", "0x0000000000002222"}});
    CHECK(j["reserved_bytes"].empty());
    CHECK(j["xstate_bv"] == "0xe6");

    std::string f = testing::tmp_path("only.json");
    testing::write_bytes(f, {r.out.begin(), r.out.end()});
    auto a = run_tool("assemble " + shell_quote(f) + " -o /dev/null");
    std::filesystem::remove(f);
    CHECK(a.status == 2);
    CHECK(a.err.find("state JSON: selection: this dump holds only part of the area (--only/--in-use); expected a whole `dump --json`") !=
          std::string::npos);
}

TEST_CASE("dump --only with an unknown name exits 2 with the close names", "[dump][select]") {
    auto r = run_tool("dump " + avx512() + " --only xmm3,xmm33");
    CHECK(r.status == 2);
    CHECK(r.out == "");
    CHECK(r.err.find("--only xmm33: no such register or field in this area (") != std::string::npos);
    CHECK(r.err.find("did you mean 'xmm3'") != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    // A register of a component this layout lacks is unknown here too.
    auto t = run_tool("dump " + whpx_with_profile() + " --only tmm0");
    CHECK(t.status == 2);
    CHECK(t.err.find("--only tmm0: no such register or field in this area") != std::string::npos);
}

TEST_CASE("dump --in-use leaves out components in init state, text and JSON", "[dump][select]") {
    auto r = run_tool("dump " + whpx_with_profile() + " --in-use");
    REQUIRE(r.status == 0);
    CHECK(r.out.find("  SSE in use\n") != std::string::npos);
    CHECK(r.out.find("  x87 in use\n") != std::string::npos);
    CHECK(r.out.find("bit 2  AVX") == std::string::npos);
    CHECK(r.out.find("YMM0") == std::string::npos);
    auto j = nlohmann::json::parse(run_tool("dump --json " + avx512() + " --in-use").out);
    CHECK(j["selection"] == "in-use components");
    std::vector<std::string> names;
    for (const auto& c : j["components"]) names.push_back(c["name"]);
    CHECK(names == std::vector<std::string>{"SSE", "AVX", "AVX-512 opmask", "ZMM_Hi256", "Hi16_ZMM"});
    CHECK(!j["registers"].contains("fcw"));
    CHECK(j["registers"]["k3"] == "0x0000000000004444");
    // Together: the named registers of in-use components only.
    auto both = nlohmann::json::parse(run_tool("dump --json " + avx512() + " --in-use --only fcw,k3").out);
    CHECK(both["selection"] == "in-use components, only fcw,k3");
    CHECK(both["registers"] == nlohmann::json{{"k3", "0x0000000000004444"}});
}

TEST_CASE("dump --format markdown: golden summaries", "[dump][markdown]") {
    auto w = run_tool("dump --format markdown " + whpx_with_profile());
    REQUIRE(w.status == 0);
    std::string label = data_path("whpx-832.bin");
    // The golden file holds the path as in this tree's test-data; compare from the first newline.
    CHECK(w.out.starts_with("**xsavetool dump** `" + label + "`: compacted form, 832-byte layout, profile `"));
    testing::check_golden("dump-whpx.md", w.out.substr(w.out.find('\n')));
    auto a = run_tool("dump --format markdown " + avx512());
    REQUIRE(a.status == 0);
    testing::check_golden("dump-core-avx512.md", a.out.substr(a.out.find('\n')));
    // Each register once, in its widest in-use view.
    CHECK(a.out.find("\n  zmm3       0x7271706f6e6d6c6b") != std::string::npos);
    CHECK(a.out.find("\n  xmm3 ") == std::string::npos);
    CHECK(a.out.find("\n  ymm3 ") == std::string::npos);
    CHECK(a.out.find("\n  k3         0x0000000000004444\n") != std::string::npos);
}

TEST_CASE("diff --format markdown: golden summary of the changed registers", "[diff][markdown]") {
    auto b = testing::read_bytes(data_path("whpx-832.bin"));
    b[160 + 3 * 16] = 0x42;   // xmm3, lowest byte
    b[24] = 0x80;             // MXCSR 0x1f80
    std::string f = testing::tmp_path("md-b.bin");
    testing::write_bytes(f, b);
    auto r = run_tool("diff --format markdown " + whpx_with_profile() + " " + shell_quote(f));
    std::filesystem::remove(f);
    CHECK(r.status == 1);
    REQUIRE(r.out.find('\n') != std::string::npos);
    CHECK(r.out.substr(0, r.out.find('\n')).ends_with(": 2 differences"));
    testing::check_golden("diff-whpx.md", r.out.substr(r.out.find('\n')));
    auto same = run_tool("diff --format markdown " + whpx_with_profile() + " " + shell_quote(data_path("whpx-832.bin")));
    CHECK(same.status == 0);
    CHECK(same.out.find(": same\n\n```\nsame registers, same header\n```\n") != std::string::npos);
    auto bad = run_tool("diff --format markdown --json " + whpx_with_profile() + " " + shell_quote(data_path("whpx-832.bin")));
    CHECK(bad.status == 2);
}
