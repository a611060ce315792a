// Many inputs per process: dump, check and hexdump over several files, a bad one in the middle.
#include "helpers.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using testing::data_path;
using testing::run_tool;
using testing::shell_quote;

namespace {
std::string core() { return shell_quote(data_path("core-avx512.core")); }
// 100 zero bytes: too short for any XSAVE area.
std::string bad_file() {
    std::string p = (std::filesystem::temp_directory_path() / "xsavetool-multi-bad.bin").string();
    testing::write_bytes(p, std::vector<uint8_t>(100, 0));
    return p;
}
size_t count(const std::string& s, const std::string& what) {
    size_t n = 0;
    for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
    return n;
}
} // namespace

TEST_CASE("dump of several files: a header per file; one file alone prints as before", "[multi][cli]") {
    auto one = run_tool("dump " + testing::whpx_arg() + testing::host_profile_arg());
    auto two = run_tool("dump " + testing::whpx_arg() + " " + testing::whpx_arg() + testing::host_profile_arg());
    REQUIRE(two.status == 0);
    CHECK(two.err == "");
    std::string header = "=== " + data_path("whpx-832.bin") + "\n";
    CHECK(two.out == header + one.out + "\n" + header + one.out);
}

TEST_CASE("dump --json of several files is one array, an object per area naming its file", "[multi][cli]") {
    auto r = run_tool("dump --json " + testing::whpx_arg() + " " + core() + testing::host_profile_arg());
    REQUIRE(r.status == 0);
    auto j = nlohmann::json::parse(r.out);
    REQUIRE(j.is_array());
    REQUIRE(j.size() == 3);   // the WHPX buffer and the core's two threads
    CHECK(j[0]["file"] == data_path("whpx-832.bin"));
    CHECK(j[0]["xstate_bv"] == "0x3");
    CHECK(j[1]["file"] == data_path("core-avx512.core"));
    CHECK(j[1].contains("tid"));
    CHECK(j[2]["tid"] != j[1]["tid"]);
    // The area objects are those of the single-file output, with "file" first.
    auto alone = nlohmann::json::parse(run_tool("dump --json " + testing::whpx_arg() + testing::host_profile_arg()).out);
    auto first = j[0];
    first.erase("file");
    CHECK(first == alone);
}

TEST_CASE("dump --format jsonl: one object per line per area; a bad file in the middle is named and skipped",
          "[multi][cli]") {
    std::string bad = bad_file();
    auto r = run_tool("dump --format jsonl " + testing::whpx_arg() + " " + shell_quote(bad) + " " + core() + " " + testing::whpx_arg() + testing::host_profile_arg());
    CHECK(r.status == 2);
    auto out = testing::lines(r.out);
    REQUIRE(out.size() == 4);   // WHPX, two core threads, WHPX
    for (const auto& l : out) {
        auto j = nlohmann::json::parse(l);
        CHECK(j.contains("file"));
        CHECK(j.contains("registers"));
    }
    CHECK(nlohmann::json::parse(out[1])["file"] == data_path("core-avx512.core"));
    CHECK(nlohmann::json::parse(out[3])["file"] == data_path("whpx-832.bin"));
    CHECK(r.err == "xsavetool: " + bad +
                       ": 100 bytes: too short for an XSAVE area, which needs at least 576 (legacy region 0..511, header 512..575)\n");
    // The same for one file: a line too.
    auto single = run_tool("dump --format jsonl " + testing::whpx_arg() + testing::host_profile_arg());
    CHECK(single.status == 0);
    CHECK(testing::lines(single.out).size() == 1);
}

TEST_CASE("dump: every file bad still exits 2 with one line each; nothing on stdout", "[multi][cli]") {
    std::string bad = bad_file();
    auto r = run_tool("dump " + shell_quote(bad) + " /nonexistent/xsave.bin" + testing::host_profile_arg());
    CHECK(r.status == 2);
    CHECK(r.out == "");
    auto err = testing::lines(r.err);
    REQUIRE(err.size() == 2);
    CHECK(err[0].starts_with("xsavetool: " + bad + ": "));
    CHECK(err[1].starts_with("xsavetool: /nonexistent/xsave.bin: "));
}

TEST_CASE("check of several files: a verdict line per area, exit 1 when one is rejected, 2 when one is bad",
          "[multi][cli]") {
    auto whpx_std = (std::filesystem::temp_directory_path() / "xsavetool-multi-std.bin").string();
    auto b = testing::read_bytes(data_path("whpx-832.bin"));
    for (int i = 0; i < 8; ++i) b[0x208 + i] = 0;   // XCOMP_BV 0: standard form, which WHPX refuses
    testing::write_bytes(whpx_std, b);
    auto ok = run_tool("check --for whpx " + testing::whpx_arg() + " " + testing::whpx_arg() + testing::host_profile_arg());
    CHECK(ok.status == 0);
    CHECK(count(ok.out, "accepted by whpx") == 2);
    auto rej = run_tool("check --for whpx " + testing::whpx_arg() + " " + shell_quote(whpx_std) + testing::host_profile_arg());
    CHECK(rej.status == 1);
    CHECK(count(rej.out, "accepted by whpx") == 1);
    CHECK(rej.out.find(whpx_std + ": rejected by whpx") != std::string::npos);

    // A short buffer is a verdict for check (area-size); a file that cannot be read is trouble.
    std::string bad = "/nonexistent/xsave.bin";
    auto trouble = run_tool("check --for whpx --format jsonl " + testing::whpx_arg() + " " + shell_quote(bad) + " " +
                            shell_quote(whpx_std) + testing::host_profile_arg());
    CHECK(trouble.status == 2);
    auto out = testing::lines(trouble.out);
    REQUIRE(out.size() == 2);
    CHECK(nlohmann::json::parse(out[0])["ok"] == true);
    CHECK(nlohmann::json::parse(out[1])["ok"] == false);
    CHECK(nlohmann::json::parse(out[1])["file"] == whpx_std);
    CHECK(testing::lines(trouble.err).size() == 1);
    CHECK(trouble.err.starts_with("xsavetool: " + bad + ": "));

    auto arr = run_tool("check --for whpx --json " + testing::whpx_arg() + " " + shell_quote(whpx_std) + testing::host_profile_arg());
    auto j = nlohmann::json::parse(arr.out);
    REQUIRE(j.is_array());
    REQUIRE(j.size() == 2);
    CHECK(j[0]["file"] == data_path("whpx-832.bin"));
}

TEST_CASE("hexdump of several files: a header per file, a bad one named on stderr", "[multi][cli]") {
    std::string bad = bad_file();
    auto one = run_tool("hexdump --color never " + testing::whpx_arg() + testing::host_profile_arg());
    auto r = run_tool("hexdump --color never " + testing::whpx_arg() + " " + shell_quote(bad) + " " + testing::whpx_arg() + testing::host_profile_arg());
    CHECK(r.status == 2);
    std::string header = "=== " + data_path("whpx-832.bin") + "\n";
    CHECK(r.out == header + one.out + "\n" + header + one.out);
    CHECK(testing::lines(r.err).size() == 1);
    CHECK(r.err.starts_with("xsavetool: " + bad + ": "));
}
