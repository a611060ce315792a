// The real binary: golden dump output and the one-line errors of issue 2.
#include "helpers.hpp"
#include "xsave/import.hpp"
#include "xsave/layout.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using testing::data_path;
using testing::run_tool;
using testing::shell_quote;

namespace {
void xsave_store(std::vector<uint8_t>& b, size_t at, uint64_t v) {
    for (int i = 0; i < 8; ++i) b[at + i] = uint8_t(v >> (8 * i));
}
} // namespace

TEST_CASE("dump of the WHPX buffer matches the golden human and JSON output") {
    auto r = run_tool("dump " + shell_quote(data_path("whpx-832.bin")) + testing::host_profile_arg());
    CHECK(r.status == 0);
    CHECK(r.err == "");
    CHECK(r.out == testing::read_text(data_path("golden/dump-whpx.txt")));
    auto j = run_tool("dump --json " + shell_quote(data_path("whpx-832.bin")) + testing::host_profile_arg());
    CHECK(j.status == 0);
    CHECK(j.out == testing::read_text(data_path("golden/dump-whpx.json")));
}

TEST_CASE("dump of the kernel-written AVX-512 note matches the golden output") {
    auto r = run_tool("dump " + shell_quote(data_path("core-avx512-xstate.bin")) + testing::host_profile_arg());
    CHECK(r.status == 0);
    CHECK(r.out == testing::read_text(data_path("golden/dump-core-avx512.txt")));
    auto j = run_tool("dump --json " + shell_quote(data_path("core-avx512-xstate.bin")) + testing::host_profile_arg());
    CHECK(j.out == testing::read_text(data_path("golden/dump-core-avx512.json")));
    CHECK(j.out.find("\"k3\": \"0x0000000000004444\"") != std::string::npos);
}

TEST_CASE("the pasted mail and the binary buffer dump identically") {
    auto bin = run_tool("dump --json " + shell_quote(data_path("whpx-832.bin")) + testing::host_profile_arg());
    auto mail = run_tool("dump --json " + shell_quote(data_path("whpx-832-mail.txt")) + testing::host_profile_arg());
    REQUIRE(mail.status == 0);
    auto strip = [](std::string s) { return s.substr(0, s.find("\"input\"")); };
    CHECK(strip(mail.out) == strip(bin.out));
    CHECK(mail.out.find("hex text (plain), lines 3..3, 832 bytes; 2 other lines ignored") != std::string::npos);
}

TEST_CASE("bad input ends with exit code 2 and one line naming the file and what was expected") {
    std::string empty = testing::tmp_path("xsavetool-empty.bin"), small = testing::tmp_path("xsavetool-100.bin"), unknown = testing::tmp_path("xsavetool-unknown.bin"),
                huge = testing::tmp_path("xsavetool-huge.json");
    testing::write_bytes(empty, {});
    testing::write_bytes(small, std::vector<uint8_t>(100, 0));
    auto w = testing::read_bytes(data_path("whpx-832.bin"));
    w[0x20d] = 0x01;   // XCOMP_BV bit 40
    testing::write_bytes(unknown, w);
    // This machine's profile claiming AMX TILEDATA with a 4 GiB size.
    auto prof = nlohmann::json::parse(testing::read_text(data_path("profiles/host-epyc.json")));
    for (auto& l : prof["leaves"])
        if (l["leaf"] == "0xd" && l["subleaf"] == "0x0") l["eax"] = "0x400e7";
    prof["leaves"].push_back({{"leaf", "0xd"}, {"subleaf", 18}, {"eax", "0xffffffff"}, {"ebx", 0}, {"ecx", 0}, {"edx", 0}});
    std::string text = prof.dump();
    testing::write_bytes(huge, std::vector<uint8_t>(text.begin(), text.end()));

    auto r = run_tool("dump " + empty + testing::host_profile_arg());
    CHECK(r.status == 2);
    CHECK(r.out == "");
    CHECK(r.err == "xsavetool: " + empty + ": empty input: an XSAVE area needs at least 576 bytes (512-byte legacy region + 64-byte header)\n");
    r = run_tool("dump " + small + testing::host_profile_arg());
    CHECK(r.status == 2);
    CHECK(r.err == "xsavetool: " + small + ": 100 bytes: too short for an XSAVE area, which needs at least 576 (legacy region 0..511, header 512..575)\n");
    r = run_tool("dump " + unknown + testing::host_profile_arg());
    CHECK(r.status == 2);
    CHECK(r.err == "xsavetool: " + unknown + ": offset 0x208: XCOMP_BV 0x8000010000000007: bit40 (bit 40) is not enumerated by the profile (supported XCR0 0xe7, IA32_XSS 0x0)\n");
    r = run_tool("dump " + shell_quote(data_path("whpx-832.bin")) + " --cpuid " + huge);
    CHECK(r.status == 2);
    CHECK(r.err.find("CPUID.(0xD,18) gives AMX TILEDATA (bit 18) size 4294967295 at offset 0: beyond the 1048576-byte limit\n") != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    r = run_tool("dump /nonexistent/x.bin" + testing::host_profile_arg());
    CHECK(r.status == 2);
    CHECK(r.err == "xsavetool: /nonexistent/x.bin: cannot open: No such file or directory\n");
    r = run_tool("dump " + shell_quote(std::string(kTestDataDir)) + testing::host_profile_arg());
    CHECK(r.status == 2);
    CHECK(r.err == "xsavetool: " + std::string(kTestDataDir) + ": is a directory, expected a file\n");
    r = run_tool("dump");
    CHECK(r.status == 2);
    CHECK(r.err == "xsavetool: file is required\n");
}

TEST_CASE("a buffer that does not fit this machine is read with the built-in profiles that fit, and says so") {
    // A Sapphire Rapids standard area with AMX in use: 11008 bytes, XSTATE_BV 0x602e7.
    std::vector<uint8_t> b(11008, 0);
    xsave_store(b, 512, 0x602E7);
    b[8192 + 2816 - 1] = 0x5a;   // last byte of TMM7 (TILEDATA at 2816, 8192 bytes)
    std::string f = testing::tmp_path("xsavetool-spr.bin");
    testing::write_bytes(f, b);
    auto r = run_tool("dump " + f + " --cpuid zen4-genoa");
    CHECK(r.status == 2);
    CHECK(r.err == "xsavetool: " + f + ": offset 0x200: XSTATE_BV 0x602e7 names components outside the standard layout for the profile's XCR0 0x2e7 (AMX TILECFG|AMX TILEDATA)\n");
    auto host = run_tool("dump --json " + f);
    REQUIRE(host.status == 0);
    auto j = nlohmann::json::parse(host.out);
    CHECK(j["registers"]["tmm7"].get<std::string>().rfind("0x5a", 0) == 0);
    auto h = xsave::host_model();
    if (!h || !(h->supported_xcr0() >> 18 & 1)) {
        std::string note = j["input"]["notes"][0];
        CHECK(note.rfind("11008 bytes with XSTATE_BV 0x602e7 fit this machine's standard layout for no XCR0 it can have: "
                         "read with the built-in profile ", 0) == 0);
        CHECK(note.find("sapphire-rapids") != std::string::npos);
    }
    // Compacted: XCOMP_BV names AMX, which this machine may lack.
    xsave::CpuModel spr(xsave::builtin_profile("sapphire-rapids"));
    std::vector<uint8_t> c(spr.compacted(0x602e7).total_size, 0);
    xsave_store(c, 512, 0x602E7);
    xsave_store(c, 520, 0x80000000000602E7ull);
    std::string fc = testing::tmp_path("xsavetool-spr-c.bin");
    testing::write_bytes(fc, c);
    auto rc = run_tool("dump --json " + fc);
    REQUIRE(rc.status == 0);
    if (!h || !(h->supported_xcr0() >> 18 & 1)) {
        std::string note = nlohmann::json::parse(rc.out)["input"]["notes"][0];
        CHECK(note.rfind("XCOMP_BV 0x80000000000602e7 names components this machine does not have (", 0) == 0);
        CHECK(note.find("AMX TILECFG|AMX TILEDATA): read with the built-in profile granite-rapids "
                        "(2 built-in profiles agree: granite-rapids, sapphire-rapids)") != std::string::npos);
    }
    std::filesystem::remove(fc);
}

TEST_CASE("dump text names the fields of FCW, FSW, FTW and MXCSR", "[dump]") {
    auto b = testing::read_bytes(data_path("whpx-832.bin"));
    b[0] = 0x7f, b[1] = 0x0e;   // FCW 0x0e7f: double precision, round toward zero
    b[2] = 0xa1, b[3] = 0xb9;   // FSW 0xb9a1: IE PE ES B, TOP 7, C0
    b[4] = 0x81;                // FTW: R0 and R7 valid
    b[24] = 0xc0, b[25] = 0xff; // MXCSR 0xffc0: FZ, DAZ, toward zero
    std::string f = testing::tmp_path("xsave-control-words-" + std::to_string(::getpid()) + ".bin");
    testing::write_bytes(f, b);
    auto r = run_tool("dump " + shell_quote(f) + testing::host_profile_arg());
    std::filesystem::remove(f);
    REQUIRE(r.status == 0);
    CHECK(r.out.find("    FCW          0x0e7f  (IM DM ZM OM UM PM, PC=double, RC=toward-zero)\n") != std::string::npos);
    CHECK(r.out.find("    FSW          0xb9a1  (IE PE ES B, TOP=7, C3=0 C2=0 C1=0 C0=1)\n") != std::string::npos);
    CHECK(r.out.find("    FTW          0x81  (valid: R0 R7)\n") != std::string::npos);
    CHECK(r.out.find("    MXCSR        0x0000ffc0  (IM DM ZM OM UM PM, RC=toward-zero, FZ=1 DAZ=1)\n") != std::string::npos);
    // The WHPX sample: PE set by an inexact result, no x87 register valid.
    auto golden = run_tool("dump " + shell_quote(data_path("whpx-832.bin")) + testing::host_profile_arg());
    CHECK(golden.out.find("    MXCSR        0x00001fa0  (PE, IM DM ZM OM UM PM, RC=nearest, FZ=0 DAZ=0)\n") != std::string::npos);
    CHECK(golden.out.find("    FTW          0x00  (all empty)\n") != std::string::npos);
}
