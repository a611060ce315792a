#include "helpers.hpp"
#include "inline_profiles.hpp"
#include "xsave/diff.hpp"
#include "xsave/image.hpp"
#include "xsave/import.hpp"
#include "xsave/layout.hpp"

#include <catch2/catch.hpp>

using namespace xsave;
using testing::data_path;
using testing::run_tool;
using testing::shell_quote;

namespace {
// The seed's QEMU round trip: MXCSR_MASK and XCOMP_BV cleared.
std::vector<uint8_t> qemu_roundtrip(std::vector<uint8_t> b) {
    b[0x1c] = b[0x1d] = 0;
    b[0x208] = b[0x20f] = 0;
    return b;
}
} // namespace

TEST_CASE("seed scenario: WHPX buffer against QEMU's round trip differs in MXCSR_MASK and format only") {
    CpuModel cpu(testing::epyc_host());
    auto a = testing::read_bytes(data_path("whpx-832.bin"));
    auto r = diff_areas(read_image(a, cpu), cpu, read_image(qemu_roundtrip(a), cpu), cpu);
    REQUIRE(r.differences.size() == 2);
    CHECK(r.differences[0].kind == "header");
    CHECK(r.differences[0].name == "format");
    CHECK(r.differences[0].a == "compacted");
    CHECK(r.differences[0].b == "standard");
    CHECK(r.differences[0].detail == "XCOMP_BV 0x8000000000000007 vs 0x0");
    CHECK(r.differences[1].kind == "register");
    CHECK(r.differences[1].name == "mxcsr_mask");
    CHECK(r.differences[1].a == "0x0000ffff");
    CHECK(r.differences[1].b == "0x00000000");
    CHECK(r.differences[1].bytes == std::vector<unsigned>{0, 1});

    DiffOptions ig;
    ig.ignore = {"mxcsr_mask", "format"};
    CHECK(diff_areas(read_image(a, cpu), cpu, read_image(qemu_roundtrip(a), cpu), cpu, ig).equal());

    DiffOptions bytes;
    bytes.bytes = true;
    auto rb = diff_areas(read_image(a, cpu), cpu, read_image(qemu_roundtrip(a), cpu), cpu, bytes);
    REQUIRE(rb.differences.size() == 3);
    CHECK(rb.differences[0].name == "0x1c..0x1d");
    CHECK(rb.differences[0].component == "SSE mxcsr_mask");
    CHECK(rb.differences[1].name == "0x208");
    CHECK(rb.differences[1].component == "header XCOMP_BV");
}

TEST_CASE("the same registers in Genoa and Skylake-SP layouts compare equal but for layout") {
    CpuModel g(testing::genoa()), s(testing::skylake_sp());
    std::vector<uint8_t> a(0x988, 0), b(0xA88, 0);
    a[512] = b[512] = 0x23;                 // x87, SSE, opmask in use
    a[0] = b[0] = 0x7f, a[1] = b[1] = 0x03;  // FCW
    a[0x340 + 8] = b[0x440 + 8] = 0x42;      // k1
    auto r = diff_areas(read_image(a, g), g, read_image(b, s), s);
    for (const auto& d : r.differences) CHECK(d.kind == "layout");
    REQUIRE(r.differences.size() == 2);      // MPX BNDREGS and BNDCSR only on Skylake
    CHECK(r.differences[0].name == "MPX BNDREGS");
    CHECK(r.differences[0].a == "absent");
    CHECK(r.differences[0].b == "offset 0x3c0, 64 bytes");
    b[0x440 + 8] = 0x43;
    auto r2 = diff_areas(read_image(a, g), g, read_image(b, s), s);
    REQUIRE(r2.differences.size() == 3);
    CHECK(r2.differences[2].name == "k1");
    CHECK(r2.differences[2].component == "AVX-512 opmask");
}

TEST_CASE("diff on the command line: exit codes and the seed's report") {
    std::string b = (std::filesystem::temp_directory_path() / "xsavetool-qemu.bin").string();
    testing::write_bytes(b, qemu_roundtrip(testing::read_bytes(data_path("whpx-832.bin"))));
    std::string p = " --cpuid " + shell_quote(data_path("profiles/host-epyc.json"));
    auto r = run_tool("diff " + shell_quote(data_path("whpx-832.bin")) + " " + b + p);
    CHECK(r.status == 1);
    CHECK(r.out ==
          "header     format           compacted vs standard  (XCOMP_BV 0x8000000000000007 vs 0x0)\n"
          "register   mxcsr_mask       SSE\n"
          "  a 0x0000ffff\n"
          "  b 0x00000000\n"
          "          ^^^^\n"
          "2 differences; all other registers identical\n");
    auto same = run_tool("diff " + shell_quote(data_path("whpx-832.bin")) + " " + shell_quote(data_path("whpx-832-mail.txt")) + p);
    CHECK(same.status == 0);
    CHECK(same.out == "same registers, same header\n");
    auto ig = run_tool("diff --json --ignore mxcsr_mask,format " + shell_quote(data_path("whpx-832.bin")) + " " + b + p);
    CHECK(ig.status == 0);
    CHECK(ig.out == "{\n  \"equal\": true,\n  \"differences\": []\n}\n");
    auto bad = run_tool("diff " + shell_quote(data_path("whpx-832.bin")) + " /nonexistent" + p);
    CHECK(bad.status == 2);
    CHECK(bad.err == "xsavetool: /nonexistent: cannot open: No such file or directory\n");
}

TEST_CASE("two kernel cores that differ only in zmm7 and k3 of the main thread") {
    std::string p = " --cpuid " + shell_quote(data_path("profiles/host-epyc.json"));
    auto r = run_tool("diff --json " + shell_quote(data_path("core-avx512.core")) + " " +
                      shell_quote(data_path("core-avx512-variant.core")) + p);
    CHECK(r.status == 1);
    auto j = nlohmann::json::parse(r.out);
    REQUIRE(j["pairs"].size() == 2);
    std::vector<std::string> names;
    for (const auto& d : j["pairs"][0]["differences"]) names.push_back(d["name"]);
    CHECK(names == std::vector<std::string>{"zmm7", "k3"});   // one change, in its widest in-use view
    CHECK(j["pairs"][1]["equal"] == true);
}

TEST_CASE("diff colours only when asked or on a terminal, never with NO_COLOR") {
    std::string b = (std::filesystem::temp_directory_path() / "xsavetool-qemu2.bin").string();
    testing::write_bytes(b, qemu_roundtrip(testing::read_bytes(data_path("whpx-832.bin"))));
    std::string args = "diff " + shell_quote(data_path("whpx-832.bin")) + " " + b + " --cpuid " +
                       shell_quote(data_path("profiles/host-epyc.json"));
    auto plain = run_tool(args);                       // stdout is a file: no colour
    CHECK(plain.out.find('\x1b') == std::string::npos);
    auto always = run_tool(args + " --color always");
    CHECK(always.out.find("\x1b[38;2;255;000;000m0x0000ffff\x1b[0m") != std::string::npos);
    auto never = run_tool(args + " --color never");
    CHECK(never.out == plain.out);
}

TEST_CASE("one register change counts once, in its widest in-use view") {
    CpuModel cpu(testing::epyc_host());
    // WHPX: SSE in use, AVX in the layout but init: an XMM3 change is "xmm3", not also "ymm3".
    auto a = testing::read_bytes(data_path("whpx-832.bin"));
    auto b = a;
    b[160 + 3 * 16 + 15] ^= 0x80;
    auto r = diff_areas(read_image(a, cpu), cpu, read_image(b, cpu), cpu);
    REQUIRE(r.differences.size() == 1);
    CHECK(r.differences[0].name == "xmm3");
    CHECK(r.differences[0].bytes == std::vector<unsigned>{15});
    // The kernel's AVX-512 note (ZMM_Hi256 in use): the same change is "zmm3", once.
    a = testing::read_bytes(data_path("core-avx512-xstate.bin"));
    b = a;
    b[160 + 3 * 16 + 15] ^= 0x80;
    r = diff_areas(read_image(a, cpu), cpu, read_image(b, cpu), cpu);
    REQUIRE(r.differences.size() == 1);
    CHECK(r.differences[0].name == "zmm3");
    CHECK(r.differences[0].bytes == std::vector<unsigned>{15});
    // Through the CLI: one difference.
    std::string fa = testing::tmp_path("diff-a.bin"), fb = testing::tmp_path("diff-b.bin");
    testing::write_bytes(fa, a);
    testing::write_bytes(fb, b);
    auto t = run_tool("diff " + fa + " " + fb + " --cpuid " + shell_quote(data_path("profiles/host-epyc.json")));
    CHECK(t.status == 1);
    CHECK(t.out.find("1 difference; all other registers identical") != std::string::npos);
}

TEST_CASE("an AMX tile difference shows the rows that changed") {
    CpuModel spr(builtin_profile("sapphire-rapids"));
    const Layout& L = spr.standard(0x602e7);
    std::vector<uint8_t> a(L.total_size, 0);
    store_le(&a[512], 0x60003, 8);
    auto b = a;
    b[L.offset[18] + 2 * 1024 + 5 * 64 + 7] = 0x11;    // tmm2 row 5
    b[L.offset[18] + 2 * 1024 + 9 * 64] = 0x22;        // tmm2 row 9
    auto r = diff_areas(read_image(a, spr), spr, read_image(b, spr), spr);
    REQUIRE(r.differences.size() == 2);
    CHECK(r.differences[0].name == "tmm2 row 5");
    CHECK(r.differences[0].bytes == std::vector<unsigned>{7});
    CHECK(r.differences[0].b.size() == 2 + 128);
    CHECK(r.differences[1].name == "tmm2 row 9");
    CHECK(r.differences[1].register_name == "tmm2");
    CHECK(r.registers() == 1);   // two rows, one register
    auto c = b;
    c[L.offset[18] + 7 * 1024] = 0x33;                 // tmm7 row 0
    CHECK(diff_areas(read_image(a, spr), spr, read_image(c, spr), spr).registers() == 2);
    std::string fa = testing::tmp_path("amx-a.bin"), fb = testing::tmp_path("amx-b.bin");
    testing::write_bytes(fa, a);
    testing::write_bytes(fb, b);
    auto t = run_tool("diff " + fa + " " + fb + " --cpuid sapphire-rapids");
    CHECK(t.status == 1);
    CHECK(t.out.find("register   tmm2 row 5") != std::string::npos);
    CHECK(t.out.find("2 differences; all other registers identical") != std::string::npos);
}
