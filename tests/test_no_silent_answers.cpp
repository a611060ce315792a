// Issue 12: round trips the README promises, typos named with their close matches, impossible
// option values refused, several hex dumps in one paste never reduced to one silently.
#include "helpers.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

using testing::data_path;
using testing::run_tool;
using testing::shell_quote;

namespace {
std::string write_text(const std::string& name, const std::string& text) {
    std::string p = testing::tmp_path(name);
    testing::write_bytes(p, {text.begin(), text.end()});
    return p;
}
} // namespace

TEST_CASE("round trip: dump CORE --thread T --json | assemble - gives the thread's bytes", "[roundtrip]") {
    const std::string core = shell_quote(data_path("core-avx512.core"));
    auto d = run_tool("dump " + core + " --thread 16624 --json" + testing::host_profile_arg());
    REQUIRE(d.status == 0);
    std::string json = write_text("t2.json", d.out);
    auto a = run_tool("assemble - -o " + testing::tmp_path("t2.bin"), json);
    CHECK(a.status == 0);
    CHECK(a.err.empty());
    CHECK(testing::read_bytes(testing::tmp_path("t2.bin")) == testing::read_bytes(data_path("core-avx512-thread2-xstate.bin")));

    // The whole core: an array of threads; --thread picks one, none is refused naming them.
    d = run_tool("dump " + core + " --json" + testing::host_profile_arg());
    REQUIRE(d.status == 0);
    std::string all = write_text("all.json", d.out);
    a = run_tool("assemble " + all + " --thread 16623 -o " + testing::tmp_path("t1.bin"));
    CHECK(a.status == 0);
    CHECK(testing::read_bytes(testing::tmp_path("t1.bin")) == testing::read_bytes(data_path("core-avx512-xstate.bin")));
    a = run_tool("assemble " + all + " -o " + testing::tmp_path("none.bin"));
    CHECK(a.status == 2);
    CHECK(a.err == "xsavetool: " + all + ": state JSON: (top level): 2 areas (threads 16623, 16624); pick one with --thread\n");
    CHECK(!std::filesystem::exists(testing::tmp_path("none.bin")));
    a = run_tool("assemble " + all + " --thread 7");
    CHECK(a.status == 2);
    CHECK(a.err == "xsavetool: " + all + ": state JSON: (top level): no area with tid 7; the array has 16623, 16624\n");
    for (auto f : {"t1.bin", "t2.bin", "t2.json", "all.json"}) std::filesystem::remove(testing::tmp_path(f));
}

TEST_CASE("round trip: the tool's own hexdump output pasted into a file is read back", "[roundtrip]") {
    // A buffer, and a core thread (its hexdump has region markers on most lines).
    struct Case { std::string input, expected; };
    for (const Case& c : {Case{shell_quote(data_path("whpx-832.bin")), data_path("whpx-832.bin")},
                          Case{shell_quote(data_path("core-avx512.core")) + " --thread 16623", data_path("core-avx512-xstate.bin")}}) {
        auto h = run_tool("hexdump " + c.input + testing::host_profile_arg() + " --color never");
        REQUIRE(h.status == 0);
        std::string paste = write_text("paste.txt", "From the bug report:\n\n" + h.out);
        auto d = run_tool("dump " + paste + " --json" + testing::host_profile_arg());
        CHECK(d.status == 0);
        auto j = nlohmann::json::parse(d.out);
        auto want = testing::read_bytes(c.expected);
        CHECK(j["size"] == want.size());
        auto a = run_tool("assemble - -o " + testing::tmp_path("back.bin"), write_text("back.json", d.out));
        CHECK(a.status == 0);
        CHECK(testing::read_bytes(testing::tmp_path("back.bin")) == want);
        for (auto f : {"paste.txt", "back.bin", "back.json"}) std::filesystem::remove(testing::tmp_path(f));
    }
}

TEST_CASE("hex paste with two dumps: refused unless --block picks one", "[hextext]") {
    std::string one = testing::read_text(data_path("whpx-832-mail.txt"));
    auto h = run_tool("hexdump " + shell_quote(data_path("whpx-832.bin")) + testing::host_profile_arg() + " --color never");
    REQUIRE(h.status == 0);
    // "before:" the mail's plain hex, "after:" the tool's hexdump.
    std::string two = write_text("two.txt", "before:\n" + one + "\nafter:\n" + h.out);
    auto r = run_tool("dump " + two + testing::host_profile_arg());
    CHECK(r.status == 2);
    CHECK(r.err.find("xsavetool: " + two + ": 2 hex blocks found (lines ") == 0);
    CHECK(r.err.find("); pick one with --block N (1..2)\n") != std::string::npos);
    CHECK(r.out.empty());
    auto b2 = run_tool("dump " + two + " --block 2 --json" + testing::host_profile_arg());
    CHECK(b2.status == 0);
    auto whole = run_tool("dump " + shell_quote(data_path("whpx-832.bin")) + " --json" + testing::host_profile_arg());
    CHECK(nlohmann::json::parse(b2.out)["registers"] == nlohmann::json::parse(whole.out)["registers"]);
    auto b3 = run_tool("dump " + two + " --block 3" + testing::host_profile_arg());
    CHECK(b3.status == 2);
    CHECK(b3.err.find("--block 3: the text has 2 hex blocks of 64 bytes or more (lines ") != std::string::npos);
    std::filesystem::remove(two);
}

TEST_CASE("'1 other line ignored' is singular", "[hextext]") {
    auto one = testing::read_text(data_path("whpx-832-mail.txt"));
    // The mail has 2 other lines; keep one of them.
    auto pos = one.find('\n');
    std::string p = write_text("single.txt", one.substr(pos + 1));
    auto r = run_tool("dump " + p + testing::host_profile_arg());
    CHECK(r.status == 0);
    CHECK(r.out.find("1 other line ignored") != std::string::npos);
    std::filesystem::remove(p);
}

TEST_CASE("a misspelt command is named with its close match", "[cli]") {
    auto r = run_tool("dupm x.bin");
    CHECK(r.status == 2);
    CHECK(r.err == "xsavetool: unknown command 'dupm'; did you mean 'dump'?\n");
    r = run_tool("cpuid lst");
    CHECK(r.status == 2);
    CHECK(r.err == "xsavetool: unknown command 'cpuid lst'; did you mean 'cpuid list'?\n");
    r = run_tool("frobnicate");
    CHECK(r.status == 2);
    CHECK(r.err.rfind("xsavetool: unknown command 'frobnicate'; expected one of: ", 0) == 0);
}

TEST_CASE("impossible option values are refused naming the value", "[cli]") {
    const std::string whpx = shell_quote(data_path("whpx-832.bin"));
    auto r = run_tool("diff " + whpx + " " + whpx + " --ignore xmn3" + testing::host_profile_arg());
    CHECK(r.status == 2);
    CHECK(r.err == "xsavetool: --ignore: unknown name 'xmn3'; did you mean 'xmm3'?\n");
    r = run_tool("diff " + whpx + " " + whpx + " --ignore xmm3,avx,xstate_bv" + testing::host_profile_arg());
    CHECK(r.status == 0);

    r = run_tool("dump " + whpx + " --xcr0 0x6" + testing::host_profile_arg());
    CHECK(r.status == 2);
    CHECK(r.err == "xsavetool: " + data_path("whpx-832.bin") + ": --xcr0 0x6: bit 0 (x87) is clear; XCR0 always has it set (XSETBV refuses 0 there)\n");
    r = run_tool("cpuid check sapphire-rapids --xcr0 0x10000000003");
    CHECK(r.status == 2);
    CHECK(r.err == "xsavetool: --xcr0 0x10000000003: bit40 is not a state component\n");

    for (std::string seed : {"-5", "18446744073709551616", "12abc"}) {
        r = run_tool("capture --random=" + seed + " -o " + testing::tmp_path("cap.bin"));
        CHECK(r.status == 2);
        CHECK(r.err == "xsavetool: --random '" + seed + "': expected an unsigned number from 0 to 18446744073709551615\n");
    }
}

TEST_CASE("cpuid import reads stdin; cpuid list and show speak JSON", "[cpuid]") {
    auto r = run_tool("cpuid import - --minimal", data_path("profiles/host-epyc.json"));
    CHECK(r.status == 0);
    auto j = nlohmann::json::parse(r.out);
    CHECK(j["name"].is_string());
    CHECK(!j["leaves"].empty());

    r = run_tool("cpuid list --json");
    CHECK(r.status == 0);
    j = nlohmann::json::parse(r.out);
    REQUIRE(j.is_array());
    bool found = false;
    for (const auto& p : j)
        if (p["name"] == "skylake-sp") {
            found = true;
            CHECK(p["vendor"] == "GenuineIntel");
            CHECK(p["xcr0"] == "0x2ff");
        }
    CHECK(found);

    r = run_tool("cpuid show skylake-sp --json");
    CHECK(r.status == 0);
    j = nlohmann::json::parse(r.out);
    CHECK(j["vendor"] == "GenuineIntel");
    CHECK(j["features"]["xsavec"] == true);
    bool zmm = false;
    for (const auto& c : j["components"])
        if (c["bit"] == 6) {
            zmm = true;
            CHECK(c["size"] == 512);
            CHECK(c["offset"] == 1152);
        }
    CHECK(zmm);
}

TEST_CASE("profile names: aliases, unique prefixes, close matches", "[profile]") {
    auto full = run_tool("cpuid show sapphire-rapids --json");
    REQUIRE(full.status == 0);
    for (std::string alias : {"spr", "sapph"}) {
        auto r = run_tool("cpuid show " + alias + " --json");
        CHECK(r.status == 0);
        CHECK(r.out == full.out);
    }
    CHECK(run_tool("cpuid show zen4 --json").out == run_tool("cpuid show zen4-genoa --json").out);
    CHECK(run_tool("cpuid show skx --json").out == run_tool("cpuid show skylake-sp --json").out);
    auto r = run_tool("cpuid show zen");
    CHECK(r.status == 2);
    CHECK(r.err == "xsavetool: zen: ambiguous built-in profile: 'zen1', 'zen2', 'zen3-milan' or 'zen4-genoa'\n");
    r = run_tool("cpuid show saphire-rapids");
    CHECK(r.status == 2);
    CHECK(r.err == "xsavetool: saphire-rapids: no such file or built-in profile; did you mean 'sapphire-rapids'?\n");
}
