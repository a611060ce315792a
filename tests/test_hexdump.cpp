// `hexdump`: the annotated dump of the WHPX sample against golden files, plain and coloured,
// from the library and from the real binary; padding and AMX markers on Sapphire Rapids.
#include "helpers.hpp"
#include "inline_profiles.hpp"
#include "xsave/components.hpp"
#include "xsave/hexdump.hpp"

#include "golden.hpp"
#include "xsave/input.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <fstream>

#include <catch2/catch.hpp>

using namespace xsave;

namespace {

using testing::check_golden;

std::string whpx_dump(bool ansi) {
    CpuModel cpu(testing::epyc_host());
    Image img = read_image(testing::read_bytes(testing::data_path("whpx-832.bin")), cpu);
    return render_hexdump(hexdump_lines(img), ansi);
}


} // namespace

TEST_CASE("hexdump of the WHPX sample matches the golden files, plain and coloured") {
    std::string plain = whpx_dump(false), colour = whpx_dump(true);
    check_golden("hexdump-whpx-832.txt", plain);
    check_golden("hexdump-whpx-832-color.txt", colour);
    CHECK(plain.find('\x1b') == std::string::npos);
    auto lines = testing::lines(plain);
    // 52 byte lines, of which 27 in runs of equal ones become 5 "*" lines, 6 markers (x87, SSE,
    // reserved, software-reserved, header, AVX) and the summary.
    REQUIRE(lines.size() == 1 + 25 + 5 + 6);
    CHECK(std::find(lines.begin(), lines.end(), "*    0030..009f (7 lines as above)  x87: st1 .. st7") != lines.end());
    CHECK(lines[0] == "832 bytes, compacted form, 832-byte layout; XSTATE_BV 0x3 (x87|SSE), XCOMP_BV 0x8000000000000007");
    CHECK(lines[1] == "---- 0x0000  x87 (bit 0)  160 bytes  in use ----");
    CHECK(lines[2] == "0000  7f 03 00 00 00 00 00 00  00 00 00 00 00 00 00 00  x87: fcw fsw ftw fop fip");
    CHECK(lines[3] == "0010  00 00 00 00 00 00 00 00  a0 1f 00 00 ff ff 00 00  x87: fdp | SSE: mxcsr mxcsr_mask");
    CHECK(std::find(lines.begin(), lines.end(),
                    "0200  03 00 00 00 00 00 00 00  07 00 00 00 00 00 00 80  header: XSTATE_BV=0x3 (x87|SSE) "
                    "XCOMP_BV=0x8000000000000007 (x87|SSE|AVX|compacted)") != lines.end());
    CHECK(std::find(lines.begin(), lines.end(), "---- 0x0240  AVX (bit 2)  256 bytes  init ----") != lines.end());
    CHECK(lines.back() == "0330  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  AVX: ymmh15");
    // Colour: x87 in its own colour, AVX (init) faint, the header's named fields bold.
    CHECK(colour.find("\x1b[2;38;5;") != std::string::npos);
    CHECK(colour.find("\x1b[1m03 00 00 00 00 00 00 00  07 00 00 00 00 00 00 80\x1b[0m") != std::string::npos);
}

TEST_CASE("hexdump marks alignment padding and boundaries inside a line (Sapphire Rapids, compacted)") {
    CpuModel cpu(testing::sapphire_rapids());
    std::vector<uint8_t> bytes(10752, 0);
    store_le(bytes.data() + kXstateBvOffset, 0x40003, 8);   // TILEDATA in use, TILECFG init
    store_le(bytes.data() + kXcompBvOffset, kCompactedBit | 0x602E7, 8);
    bytes[2560] = 0xAB;
    Image img = read_image(bytes, cpu);
    auto lines = hexdump_lines(img);
    auto has = [&](const std::string& text) {
        for (const auto& l : lines)
            if (l.text == text) return true;
        return false;
    };
    CHECK(has("---- 0x0980  PKRU (bit 9)  8 bytes  init ----"));
    CHECK(has("---- 0x0988  padding (64-byte alignment)  56 bytes ----"));
    CHECK(has("0980  00 00 00 00 00 00 00 00 |00 00 00 00 00 00 00 00  PKRU: pkru | padding (64-byte alignment)"));
    CHECK(has("---- 0x09c0  AMX TILECFG (bit 17)  64 bytes  init ----"));
    CHECK(has("09c0  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  AMX TILECFG: palette_id start_row"));
    CHECK(has("---- 0x0a00  AMX TILEDATA (bit 18)  8192 bytes  in use ----"));
    CHECK(has("0a00  ab 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  AMX TILEDATA: tmm0[0-15]"));
    CHECK(has("29f0  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  AMX TILEDATA: tmm7[1008-1023]"));
    // Spans: the PKRU bytes dimmed (init) in PKRU's colour, the TILEDATA bytes not dimmed.
    for (const auto& l : lines) {
        if (l.text.starts_with("0a00 ")) {
            REQUIRE(!l.spans.empty());
            CHECK(l.spans[0].style.bit == 18);
            CHECK_FALSE(l.spans[0].style.dim);
        }
        if (l.text.starts_with("0980 ")) {
            REQUIRE(l.spans.size() >= 2);
            CHECK(l.spans[0].style.bit == 9);
            CHECK(l.spans[0].style.dim);
            CHECK(l.spans[1].style.role == DumpStyle::Reserved);
        }
    }
}

TEST_CASE("hexdump of a standard area shows unused gaps and trailing bytes") {
    CpuModel cpu(testing::skylake_sp());
    std::vector<uint8_t> bytes(0xA88 + 8, 0);
    store_le(bytes.data() + kXstateBvOffset, 0x200, 8);
    bytes[0xA80] = 0x55;   // PKRU
    bytes[0xA88] = 0x11;   // trailing
    ReadOptions ro;
    ro.xcr0 = 0x2E7;       // MPX not enabled: its bytes are unused
    Image img = read_image(bytes, cpu, ro);
    std::string text = render_hexdump(hexdump_lines(img), false);
    CHECK(text.find("---- 0x0340  unused (not in the layout's XCR0)  256 bytes ----\n") != std::string::npos);
    CHECK(text.find("*    0350..043f (15 lines as above)  unused (not in the layout's XCR0)\n") != std::string::npos);
    CHECK(render_hexdump(hexdump_lines(img, false), false)
              .find("03c0  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  unused (not in the layout's XCR0)\n") != std::string::npos);
    CHECK(text.find("---- 0x0a88  trailing bytes after the 2696-byte layout  8 bytes ----\n") != std::string::npos);
    CHECK(text.find("0a80  55 00 00 00 00 00 00 00 |11 00 00 00 00 00 00 00  PKRU: pkru | trailing\n") != std::string::npos);
}

TEST_CASE("xsavetool hexdump: golden output plain and coloured, colour only when asked") {
    std::string profile = testing::data_path("profiles/host-epyc.json");
    if (!std::filesystem::exists(profile)) SKIP_TEST("test-data/profiles/host-epyc.json is not there yet");
    std::string base = "hexdump " + testing::shell_quote(testing::data_path("whpx-832.bin")) + " --cpuid " + testing::shell_quote(profile);
    auto never = testing::run_tool(base + " --color never");
    CHECK(never.status == 0);
    CHECK(never.err == "");
    CHECK(never.out == testing::read_text(testing::data_path("golden/hexdump-whpx-832.txt")));
    auto always = testing::run_tool(base + " --color always");
    CHECK(always.status == 0);
    CHECK(always.out == testing::read_text(testing::data_path("golden/hexdump-whpx-832-color.txt")));
    // Not a terminal: no colour.
    auto autom = testing::run_tool(base);
    CHECK(autom.out == never.out);
    auto bad = testing::run_tool(base + " --color sometimes");
    CHECK(bad.status == 2);
    CHECK(bad.out == "");
    CHECK(std::count(bad.err.begin(), bad.err.end(), '\n') == 1);
    auto missing = testing::run_tool("hexdump /nonexistent/area.bin --cpuid " + testing::shell_quote(profile));
    CHECK(missing.status == 2);
    CHECK(missing.err == "xsavetool: /nonexistent/area.bin: cannot open: No such file or directory\n");
    // The WHPX mail as pasted: the hex block is found, the dump is the same after one input line.
    auto mail = testing::run_tool("hexdump " + testing::shell_quote(testing::data_path("whpx-832-mail.txt")) + " --cpuid " +
                                  testing::shell_quote(profile) + " --color never");
    CHECK(mail.status == 0);
    CHECK(mail.out.substr(mail.out.find('\n') + 1) == never.out);
    std::string tiny = (std::filesystem::temp_directory_path() / ("xsave-hexdump-tiny-" + std::to_string(::getpid()))).string();
    testing::write_bytes(tiny, std::vector<uint8_t>(100, 0));
    auto tooshort = testing::run_tool("hexdump " + testing::shell_quote(tiny) + " --cpuid " + testing::shell_quote(profile));
    std::filesystem::remove(tiny);
    CHECK(tooshort.status == 2);
    CHECK(tooshort.out == "");
    CHECK(std::count(tooshort.err.begin(), tooshort.err.end(), '\n') == 1);
}

namespace {
// A Sapphire Rapids compacted area with TILEDATA in use: tmm0 all zero, tmm1 rows of one
// repeated 16-byte pattern, tmm2 one odd byte in the middle of a zero run, the rest zero.
std::vector<uint8_t> amx_with_runs() {
    std::vector<uint8_t> bytes(10752, 0);
    store_le(bytes.data() + kXstateBvOffset, 0x40003, 8);
    store_le(bytes.data() + kXcompBvOffset, kCompactedBit | 0x602E7, 8);
    store_le(bytes.data() + 24, 0x1f80, 4);
    for (size_t i = 0; i < 1024; ++i) bytes[0xA00 + 1024 + i] = uint8_t(0x10 + i % 16);
    bytes[0xA00 + 2048 + 500] = 0x5A;
    return bytes;
}
} // namespace

TEST_CASE("hexdump collapses repeated lines with '*' and the paste reads back the exact bytes", "[hex]") {
    CpuModel cpu(testing::sapphire_rapids());
    auto bytes = amx_with_runs();
    Image img = read_image(bytes, cpu);
    std::string text = render_hexdump(hexdump_lines(img), false);
    auto lines = testing::lines(text);
    // 672 byte lines and 13 markers without collapsing (the 686 lines); a few dozen with it.
    CHECK(testing::lines(render_hexdump(hexdump_lines(img, false), false)).size() == 1 + 672 + 13);
    CHECK(lines.size() == 49);
    // The run of tmm0 (zero, after its first line) stops where tmm1's pattern starts; the label
    // of the line after a '*' is that line's own.
    CHECK(std::find(lines.begin(), lines.end(),
                    "*    0a10..0dff (63 lines as above)  AMX TILEDATA: tmm0[16-1023]") != lines.end());
    CHECK(std::find(lines.begin(), lines.end(),
                    "0e00  10 11 12 13 14 15 16 17  18 19 1a 1b 1c 1d 1e 1f  AMX TILEDATA: tmm1[0-15]") != lines.end());
    CHECK(std::find(lines.begin(), lines.end(),
                    "*    0e10..11ff (63 lines as above)  AMX TILEDATA: tmm1[16-1023]") != lines.end());
    CHECK(std::find(lines.begin(), lines.end(),
                    "13f0  00 00 00 00 5a 00 00 00  00 00 00 00 00 00 00 00  AMX TILEDATA: tmm2[496-511]") != lines.end());
    // Several registers in one run: first and last named.
    CHECK(std::find(lines.begin(), lines.end(),
                    "*    1410..29ef (350 lines as above)  AMX TILEDATA: tmm2[528-1023] .. tmm7[0-1007]") != lines.end());
    CHECK(lines.back() == "29f0  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  AMX TILEDATA: tmm7[1008-1023]");
    // No '*' crosses a marker: every component's first line is printed.
    CHECK(std::find(lines.begin(), lines.end(), "---- 0x0a00  AMX TILEDATA (bit 18)  8192 bytes  in use ----") != lines.end());

    auto back = parse_hex_text(text);
    CHECK(back.style == HexStyle::Xsavetool);
    CHECK(back.bytes == bytes);
    // Coloured output differs only in escapes; the plain text pastes back the same.
    CHECK(parse_hex_text(render_hexdump(hexdump_lines(img, false), false)).bytes == bytes);

    // A '*' line whose range disagrees with the lines around it is refused, not guessed.
    std::string bad = text;
    auto at = bad.find("*    0e10..11ff");
    REQUIRE(at != std::string::npos);
    bad.replace(at, 15, "*    0e10..11ef");
    size_t star_line = size_t(std::count(text.begin(), text.begin() + long(at), '\n')) + 1;
    try {
        parse_hex_text(bad);
        FAIL("accepted");
    } catch (const Error& e) {
        CHECK(std::string(e.what()) == fmt::format("line {}: '*' names 0xe10..0x11ef but the lines around it give 0xe10..0x11ff", star_line));
    }
}

TEST_CASE("xsavetool hexdump -v shows every line; dump reads the collapsed output back", "[hex]") {
    std::string dir = testing::tmp_path("hexdump-runs");
    std::filesystem::create_directories(dir);
    std::string bin = dir + "/amx.bin", txt = dir + "/amx.txt";
    testing::write_bytes(bin, amx_with_runs());
    std::string cpu = " --cpuid sapphire-rapids --color never";
    auto h = testing::run_tool("hexdump " + bin + cpu);
    REQUIRE(h.status == 0);
    CHECK(std::count(h.out.begin(), h.out.end(), '\n') == 49);
    auto all = testing::run_tool("hexdump " + bin + cpu + " -v");
    CHECK(std::count(all.out.begin(), all.out.end(), '\n') == 1 + 672 + 13);
    {
        std::ofstream(txt) << h.out;
    }
    auto a = testing::run_tool("dump --json " + bin + " --cpuid sapphire-rapids");
    auto b = testing::run_tool("dump --json " + txt + " --cpuid sapphire-rapids");
    REQUIRE(a.status == 0);
    REQUIRE(b.status == 0);
    auto ja = nlohmann::json::parse(a.out), jb = nlohmann::json::parse(b.out);
    for (const char* k : {"registers", "components", "reserved_bytes", "xstate_bv", "xcomp_bv"}) CHECK(ja[k] == jb[k]);
    // The summary line and the first marker are outside the block (markers inside it are counted in it).
    CHECK(jb["input"]["notes"][0] == "hex text (xsavetool hexdump), lines 3..49, 10752 bytes; 2 other lines ignored");
    std::filesystem::remove_all(dir);
}
