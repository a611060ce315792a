// One output convention on every command: -o FILE is a file, --format the format; renamed
// options (--output, --sidecar, --restore, assemble --format standard) are refused by name.
#include "helpers.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <regex>

using testing::data_path;
using testing::read_text;
using testing::run_tool;
using testing::shell_quote;

namespace {
namespace fs = std::filesystem;

const std::string kWhpx = shell_quote(data_path("whpx-832.bin"));
const std::string kSpr = " --cpuid sapphire-rapids";


// `cmd` to stdout and `cmd -o FILE`: same exit code, the file holds exactly stdout's bytes.
void same_with_o(const std::string& cmd, int status) {
    testing::TempDir t("oo");
    auto r = run_tool(cmd);
    CHECK(r.status == status);
    REQUIRE(!r.out.empty());
    auto f = run_tool(cmd + " -o " + shell_quote(t / "out.txt"));
    CHECK(f.status == status);
    CHECK(f.out.empty());
    CHECK(f.err == r.err);
    CHECK(read_text(t / "out.txt") == r.out);
    CHECK(t.entries() == 1);   // no temporary file left beside it
}
} // namespace

TEST_CASE("output options: -o FILE on the printing commands writes exactly what stdout gets", "[output]") {
    same_with_o("dump " + kWhpx + kSpr, 0);
    same_with_o("dump " + kWhpx + kSpr + " --format json", 0);
    same_with_o("dump " + kWhpx + " " + kWhpx + kSpr + " --format jsonl", 0);
    same_with_o("diff " + kWhpx + " " + kWhpx + kSpr, 0);
    const std::string two = shell_quote(data_path("core-avx512-xstate.bin")) + " " + shell_quote(data_path("core-avx512-thread2-xstate.bin"));
    same_with_o("diff " + two + " --cpuid zen4-genoa --format json", 1);
    same_with_o("diff " + two + " --cpuid zen4-genoa --color never", 1);
    same_with_o("layout --cpuid zen4-genoa", 0);
    same_with_o("layout --cpuid zen4-genoa --compare skylake-sp --format json", 1);
    same_with_o("check " + kWhpx + kSpr + " --for whpx", 0);
    same_with_o("check " + kWhpx + kSpr + " --for kvm --format json", 1);
    same_with_o("hexdump " + kWhpx + kSpr + " --color never", 0);
    same_with_o("hexdump " + kWhpx + kSpr + " --format hex", 0);
}

TEST_CASE("printing commands: the file gets the verdict's output; trouble writes nothing", "[output]") {
    testing::TempDir t("oo");
    // check --for kvm refuses the compacted WHPX buffer (exit 1) and still writes its report.
    auto r = run_tool("check " + kWhpx + kSpr + " --for kvm -o " + shell_quote(t / "report.txt"));
    CHECK(r.status == 1);
    CHECK(read_text(t / "report.txt").find("standard-form") != std::string::npos);
    // A missing input: exit 2, nothing written, an existing file untouched.
    testing::write_bytes(t / "keep.txt", {'o', 'l', 'd'});
    r = run_tool("dump " + shell_quote(t / "missing.bin") + kSpr + " -o " + shell_quote(t / "keep.txt"));
    CHECK(r.status == 2);
    CHECK(r.out.empty());
    CHECK(read_text(t / "keep.txt") == "old");
    r = run_tool("layout --cpuid no-such-cpu-at-all -o " + shell_quote(t / "new.txt"));
    CHECK(r.status == 2);
    CHECK(!fs::exists(t / "new.txt"));
    CHECK(t.entries() == 2);   // report.txt, keep.txt
}

TEST_CASE("output options: --json is the short form of --format json on diff and layout", "[output]") {
    auto a = run_tool("layout --cpuid zen4-genoa --json"), b = run_tool("layout --cpuid zen4-genoa --format json");
    CHECK(a.status == 0);
    CHECK(a.out == b.out);
    CHECK(a.out.rfind("{\n", 0) == 0);
    auto d = run_tool("diff " + kWhpx + " " + kWhpx + kSpr + " --json"), e = run_tool("diff " + kWhpx + " " + kWhpx + kSpr + " --format json");
    CHECK(d.status == 0);
    CHECK(d.out == e.out);
    CHECK(d.out.find("\"equal\": true") != std::string::npos);
    auto x = run_tool("diff " + kWhpx + " " + kWhpx + kSpr + " --json --format text");
    CHECK(x.status == 0);   // text is the default: --json wins
    x = run_tool("layout --cpuid zen4-genoa --json --format text");
    CHECK(x.out == a.out);
}

TEST_CASE("hexdump --format hex is the plain listing convert --format hex writes", "[output]") {
    testing::TempDir t("oo");
    auto h = run_tool("hexdump " + kWhpx + kSpr + " --format hex");
    REQUIRE(h.status == 0);
    CHECK(h.out.rfind("00000000  7f 03 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|\n", 0) == 0);
    CHECK(std::count(h.out.begin(), h.out.end(), '\n') == 832 / 16);
    // compact of the standard form with the buffer's own XCOMP_BV gives these bytes back.
    REQUIRE(run_tool("standard " + kWhpx + kSpr + " -o " + shell_quote(t / "std.bin")).status == 0);
    auto c = run_tool("compact " + shell_quote(t / "std.bin") + kSpr + " --xcr0 0x7 --xcomp-bv 0x7 --format hex");
    CHECK(c.status == 0);
    CHECK(c.out == h.out);
    // And dump reads the listing back as the same area.
    REQUIRE(run_tool("hexdump " + kWhpx + kSpr + " --format hex -o " + shell_quote(t / "l.txt")).status == 0);
    CHECK(run_tool("diff " + shell_quote(t / "l.txt") + " " + kWhpx + kSpr).status == 0);
}

TEST_CASE("conversions: --format raw|hex|json; -o FILE holds the same bytes", "[output]") {
    testing::TempDir t("oo");
    std::string base = "standard " + kWhpx + kSpr;
    auto raw = run_tool(base + " -o " + shell_quote(t / "a.bin"));
    REQUIRE(raw.status == 0);
    CHECK(fs::file_size(t / "a.bin") == 832);
    auto hex = run_tool(base + " --format hex");
    CHECK(hex.status == 0);
    REQUIRE(run_tool(base + " --format hex -o " + shell_quote(t / "a.txt")).status == 0);
    CHECK(read_text(t / "a.txt") == hex.out);
    CHECK(run_tool("diff " + shell_quote(t / "a.txt") + " " + shell_quote(t / "a.bin") + kSpr + " --bytes").status == 0);
    auto json = run_tool(base + " --format json");
    CHECK(json.status == 0);
    CHECK(json.out.find("\"format\": \"standard\"") != std::string::npos);
    CHECK(json.out.find("\"size\": 832") != std::string::npos);
    auto bad = run_tool(base + " --format markdown");
    CHECK(bad.status == 2);
    CHECK(bad.out.empty());
}

TEST_CASE("assemble --to standard (was --format standard), --format hex and json", "[output]") {
    testing::TempDir t("oo");
    auto d = run_tool("dump " + kWhpx + kSpr + " --json -o " + shell_quote(t / "s.json"));
    REQUIRE(d.status == 0);
    REQUIRE(run_tool("standard " + kWhpx + kSpr + " -o " + shell_quote(t / "std.bin")).status == 0);
    auto a = run_tool("assemble " + shell_quote(t / "s.json") + " --to standard" + kSpr + " -o " + shell_quote(t / "as.bin"));
    CHECK(a.status == 0);
    CHECK(testing::read_bytes(t / "as.bin") == testing::read_bytes(t / "std.bin"));
    auto h = run_tool("assemble " + shell_quote(t / "s.json") + " --format hex");
    CHECK(h.status == 0);
    CHECK(h.out == run_tool("hexdump " + kWhpx + kSpr + " --format hex").out);
    auto old = run_tool("assemble " + shell_quote(t / "s.json") + " --format standard" + kSpr + " -o " + shell_quote(t / "x.bin"));
    CHECK(old.status == 2);
    CHECK(old.err == "xsavetool: --format standard is now --to standard\n");
    CHECK(!fs::exists(t / "x.bin"));
    old = run_tool("assemble " + shell_quote(t / "s.json") + " --format=compacted" + kSpr);
    CHECK(old.status == 2);
    CHECK(old.err == "xsavetool: --format compacted is now --to compacted\n");
    CHECK(old.out.empty());

    // --format json: the result's dump --json, as the conversions write it; it needs a layout.
    auto j = run_tool("assemble " + shell_quote(t / "s.json") + " --to standard --format json" + kSpr);
    CHECK(j.status == 0);
    CHECK(j.out == run_tool("standard " + kWhpx + kSpr + " --format json").out);
    auto nocpu = run_tool("assemble " + shell_quote(t / "s.json") + " --format json -o " + shell_quote(t / "j.json"));
    CHECK(nocpu.status == 2);
    CHECK(nocpu.err == "xsavetool: --format json needs --cpuid: the layout the result is decoded with\n");
    CHECK(!fs::exists(t / "j.json"));
}

TEST_CASE("output options: --save-dropped and --restore-dropped: a round trip through a CPU without SSE loses nothing", "[output]") {
    testing::TempDir t("oo");
    std::string side = shell_quote(t / "side.json"), out = shell_quote(t / "snb.bin");
    auto r = run_tool("convert " + kWhpx + kSpr + " --to-cpuid sandybridge-e --to compacted --xcomp-bv x87 --drop sse --save-dropped " + side +
                      " -o " + out);
    REQUIRE(r.status == 0);
    CHECK(read_text(t / "side.json").find("\"bit\": 1") != std::string::npos);
    CHECK(run_tool("diff " + out + " " + kWhpx + " --cpuid sandybridge-e --cpuid-b sapphire-rapids").status == 1);
    r = run_tool("convert " + out + " --cpuid sandybridge-e --to-cpuid sapphire-rapids --to compacted --xcomp-bv 0x7 --restore-dropped " + side +
                 " -o " + shell_quote(t / "back.bin"));
    CHECK(r.status == 0);
    CHECK(r.err.find("put back SSE from --restore-dropped") != std::string::npos);
    CHECK(run_tool("diff " + shell_quote(t / "back.bin") + " " + kWhpx + kSpr).status == 0);
}

TEST_CASE("old option spellings are exit 2 naming the new option", "[output]") {
    testing::TempDir t("oo");
    const std::string out = shell_quote(t / "o");
    const std::string now_format = "xsavetool: --output is now --format (-o FILE names the output file)\n";
    struct Case { std::string args, err; };
    const std::vector<Case> cases = {
        {"compact " + kWhpx + kSpr + " --output hex", now_format},
        {"standard " + kWhpx + kSpr + " --output=json", now_format},
        {"convert " + kWhpx + kSpr + " --to-cpuid zen4-genoa --output raw -o " + out, now_format},
        {"capture --random 1 --output hex", now_format},
        {"assemble x.json --output hex", now_format},
        {"dump " + kWhpx + " --output json", now_format},
        {"diff " + kWhpx + " " + kWhpx + " --output", now_format},
        {"layout --cpuid zen4-genoa --output " + out, now_format},
        {"check " + kWhpx + " --output json", now_format},
        {"hexdump " + kWhpx + " --output hex", now_format},
        {"cpuid capture --output " + out, "xsavetool: --output is now -o\n"},
        {"cpuid import x.txt --output " + out, "xsavetool: --output is now -o\n"},
        {"standard " + kWhpx + kSpr + " --drop sse --sidecar " + out, "xsavetool: --sidecar is now --save-dropped\n"},
        {"compact " + kWhpx + kSpr + " --sidecar " + out, "xsavetool: --sidecar is now --restore-dropped\n"},
        {"convert " + kWhpx + kSpr + " --to-cpuid zen4-genoa --sidecar " + out, "xsavetool: --sidecar is now --save-dropped\n"},
        {"convert " + kWhpx + kSpr + " --to-cpuid zen4-genoa --restore " + out, "xsavetool: --restore is now --restore-dropped\n"},
    };
    for (const auto& c : cases) {
        INFO(c.args);
        auto r = run_tool(c.args);
        CHECK(r.status == 2);
        CHECK(r.err == c.err);
        CHECK(r.out.empty());
        CHECK(t.entries() == 0);
    }
}

TEST_CASE("output options: --block on an input that is not hex text is exit 2", "[output][hextext]") {
    auto r = run_tool("dump " + kWhpx + kSpr + " --block 1");
    CHECK(r.status == 2);
    CHECK(r.err == "xsavetool: " + data_path("whpx-832.bin") +
                       ": --block applies only to hex text holding several dumps; this input is raw (raw XSAVE area bytes)\n");
    CHECK(r.out.empty());
    r = run_tool("standard " + kWhpx + kSpr + " --block 2");
    CHECK(r.status == 2);
    CHECK(r.err.find("--block applies only to hex text") != std::string::npos);
    // On hex text it still picks (a single dump is block 1).
    auto h = run_tool("dump " + shell_quote(data_path("hex/whpx-832.xxd")) + kSpr + " --block 1 --json");
    CHECK(h.status == 0);
    auto whole = run_tool("dump " + kWhpx + kSpr + " --json");
    CHECK(h.out.find(whole.out.substr(whole.out.find("\"registers\""), 200)) != std::string::npos);
}

TEST_CASE("output options: --help of every command lists -o and --format, and no old option name", "[output][cli]") {
    struct Cmd { std::string name; bool format; };
    const std::vector<Cmd> writers = {{"dump", true},     {"diff", true},     {"layout", true},  {"check", true},
                                      {"hexdump", true},  {"compact", true},  {"standard", true}, {"convert", true},
                                      {"capture", true},  {"assemble", true}, {"cpuid capture", false}, {"cpuid import", false}};
    const std::regex old(R"(--output|--sidecar|--restore\b(?!-))");
    for (const auto& c : writers) {
        INFO(c.name);
        auto r = run_tool(c.name + " --help");
        CHECK(r.status == 0);
        CHECK(r.out.find("-o,--out TEXT") != std::string::npos);
        if (c.format) CHECK(r.out.find("--format TEXT") != std::string::npos);
        CHECK(!std::regex_search(r.out, old));
    }
    for (std::string name : {"", "cpuid", "cpuid list", "cpuid show", "cpuid check"}) {
        INFO(name);
        auto r = run_tool(name + " --help");
        CHECK(r.status == 0);
        CHECK(!std::regex_search(r.out, old));
    }
    CHECK(run_tool("standard --help").out.find("--save-dropped TEXT") != std::string::npos);
    CHECK(run_tool("compact --help").out.find("--restore-dropped TEXT") != std::string::npos);
    auto conv = run_tool("convert --help").out;
    CHECK(conv.find("--save-dropped TEXT") != std::string::npos);
    CHECK(conv.find("--restore-dropped TEXT") != std::string::npos);
    CHECK(run_tool("assemble --help").out.find("--to TEXT:{standard,compacted}") != std::string::npos);
}
