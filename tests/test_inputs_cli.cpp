// Real-world inputs through the real binary: cores (kernel and gdb gcore), assemble round trips.
#include "helpers.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fmt/core.h>

using testing::data_path;
using testing::run_tool;
using testing::shell_quote;

namespace {
// zmm_i byte j of thread t, as tests/tools/zmm_crash.cpp loads it.
std::string zmm_expected(int t, int i) {
    std::string s = "0x";
    for (int j = 63; j >= 0; --j) s += fmt::format("{:02x}", uint8_t(0x11 * i + j + 0x80 * t));
    return s;
}
std::string k_expected(int t, int i) { return fmt::format("0x{:016x}", uint64_t(0x1111 * (i + 1)) << (16 * t)); }
} // namespace

TEST_CASE("dump --thread all of the kernel core gives every zmm and k value of both threads") {
    auto r = run_tool("dump --json --thread all " + shell_quote(data_path("core-avx512.core")));
    REQUIRE(r.status == 0);
    auto j = nlohmann::json::parse(r.out);
    REQUIRE(j.is_array());
    REQUIRE(j.size() == 2);
    for (int t = 0; t < 2; ++t) {
        INFO("thread " << t);
        CHECK(j[t]["tid"].is_number());
        CHECK(j[t]["size"] == 2432);
        for (int i = 0; i < 32; ++i) CHECK(j[t]["registers"][fmt::format("zmm{}", i)] == zmm_expected(t, i));
        for (int i = 0; i < 8; ++i) CHECK(j[t]["registers"][fmt::format("k{}", i)] == k_expected(t, i));
    }
    auto one = run_tool("dump --json --thread " + std::to_string(int(j[1]["tid"])) + " " + shell_quote(data_path("core-avx512.core")));
    REQUIRE(one.status == 0);
    CHECK(nlohmann::json::parse(one.out).size() == 1);
    auto none = run_tool("dump --thread 1 " + shell_quote(data_path("core-avx512.core")));
    CHECK(none.status == 2);
    CHECK(none.err == "xsavetool: " + data_path("core-avx512.core") + ": no thread 1 in the core (it has 2 threads)\n");
}

TEST_CASE("gdb 13's gcore note is read with the layout its XCR0 and size match, and says so") {
    auto r = run_tool("dump --json " + shell_quote(data_path("core-gcore.core")));
    REQUIRE(r.status == 0);
    auto j = nlohmann::json::parse(r.out);
    REQUIRE(j.size() == 2);
    CHECK(j[0]["size"] == 2688);
    CHECK(j[0]["input"]["notes"][0] == "Linux x86-64 core, from LINUX/NT_X86_XSTATE at offset 0x34fc");
    std::string note = j[0]["input"]["notes"][1];
    CHECK(note.find("2688 bytes with XCR0 0xe7 do not match this machine's layout: read with the built-in profile ") == 0);
    // Intel's layout puts opmask at 0x440.
    for (const auto& c : j[0]["components"])
        if (c["bit"] == 5) CHECK(c["offset"] == 0x440);
    // Honour --cpuid: the Skylake-SP profile reads it too.
    auto s = run_tool("dump --json --cpuid skylake-sp " + shell_quote(data_path("core-gcore.core")));
    REQUIRE(s.status == 0);
    CHECK(nlohmann::json::parse(s.out)[0]["registers"]["k1"] == j[0]["registers"]["k1"]);
}

TEST_CASE("assemble(dump(x)) is byte-identical for every buffer in test-data") {
    struct Case { std::string file, args; };
    std::string host = " --cpuid " + shell_quote(data_path("profiles/host-epyc.json"));
    for (const Case& c : {Case{"whpx-832.bin", host}, Case{"core-avx512-xstate.bin", host},
                          Case{"core-avx512-thread2-xstate.bin", host}, Case{"core-gcore-xstate.bin", " --cpuid skylake-sp"},
                          Case{"check/whpx-832-xcomp-cleared.bin", host}}) {
        INFO(c.file);
        std::string json = (std::filesystem::temp_directory_path() / "xsavetool-roundtrip.json").string();
        std::string out = (std::filesystem::temp_directory_path() / "xsavetool-roundtrip.bin").string();
        auto d = run_tool("dump --json " + shell_quote(data_path(c.file)) + c.args);
        REQUIRE(d.status == 0);
        testing::write_bytes(json, std::vector<uint8_t>(d.out.begin(), d.out.end()));
        auto a = run_tool("assemble " + json + " -o " + out);
        REQUIRE(a.status == 0);
        CHECK(testing::read_bytes(out) == testing::read_bytes(data_path(c.file)));
    }
}

TEST_CASE("assemble refuses malformed JSON with one line and leaves the output alone") {
    std::string json = (std::filesystem::temp_directory_path() / "xsavetool-bad.json").string();
    std::string out = (std::filesystem::temp_directory_path() / "xsavetool-keep.bin").string();
    testing::write_bytes(json, {'{', '"', 'f'});
    testing::write_bytes(out, {1, 2, 3});
    auto r = run_tool("assemble " + json + " -o " + out);
    CHECK(r.status == 2);
    CHECK(r.err == "xsavetool: " + json + ": state JSON: not valid JSON at line 1, column 4: syntax error while parsing object key - invalid string: missing closing quote; last read: '\"f'; expected string literal\n");
    CHECK(testing::read_bytes(out) == std::vector<uint8_t>{1, 2, 3});
}
