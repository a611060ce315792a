// Hex text input: the seed mail's block, every dump tool's format, and malformed pastes.
#include "helpers.hpp"
#include "xsave/error.hpp"
#include "xsave/image.hpp"
#include "xsave/input.hpp"

#include <catch2/catch.hpp>

using namespace xsave;
using testing::data_path;
using testing::read_bytes;
using testing::read_text;

namespace {
}

TEST_CASE("whpx-832.bin holds the seed mail's block", "[hex]") {
    auto b = testing::whpx_bytes();
    REQUIRE(b.size() == 832);
    CHECK(b[0] == 0x7f);
    CHECK(load_le(b.data() + 24, 4) == 0x1fa0);
    CHECK(load_le(b.data() + 28, 4) == 0xffff);
    CHECK(load_le(b.data() + 512, 8) == 3);
    CHECK(load_le(b.data() + 520, 8) == 0x8000000000000007ull);
}

TEST_CASE("the mail paste with its sentences parses to the binary buffer", "[hex]") {
    auto h = parse_hex_text(read_text(data_path("whpx-832-mail.txt")));
    CHECK(h.bytes == testing::whpx_bytes());
    CHECK(h.style == HexStyle::Plain);
    CHECK(h.ignored_lines == 2);   // the sentence before and the one after
    CHECK(h.first_line == 3);
    CHECK(h.last_line == 3);
    CHECK(h.start_offset == 0);
}

TEST_CASE("the whole seed mail parses to the binary buffer", "[hex][shared]") {
    auto path = testing::shared_path("seeds/000_87b41e59ceb15e21.txt");
    if (!std::filesystem::exists(path)) SKIP_TEST("needs ../shared/seeds");
    auto h = parse_hex_text(read_text(path));
    CHECK(h.bytes == testing::whpx_bytes());
    CHECK(h.first_line == 449);
}

TEST_CASE("every dump tool's output of the WHPX buffer parses to the same bytes", "[hex]") {
    struct Case { const char* file; HexStyle style; size_t ignored, first, last; };
    const Case cases[] = {
        {"hex/whpx-832.xxd", HexStyle::Xxd, 0, 1, 52},
        {"hex/whpx-832-autoskip.xxd", HexStyle::Xxd, 0, 1, 26},   // xxd -a: "*" for zero lines
        {"hex/whpx-832.xxdp", HexStyle::Plain, 0, 1, 28},         // xxd -p: 30 bytes a line, no spaces
        {"hex/whpx-832.hexdump", HexStyle::HexdumpC, 0, 1, 26},   // "*" lines and closing offset
        {"hex/whpx-832.od", HexStyle::Od, 0, 1, 26},
        {"hex/whpx-832-c-array.txt", HexStyle::Plain, 2, 2, 71},  // "0x7f, 0x03," between C lines
        {"hex/whpx-832-quoted.txt", HexStyle::Plain, 2, 2, 53},   // "> " mail quoting
    };
    for (const auto& c : cases) {
        INFO(c.file);
        auto h = parse_hex_text(read_text(data_path(c.file)));
        CHECK(h.bytes == testing::whpx_bytes());
        CHECK(h.style == c.style);
        CHECK(h.ignored_lines == c.ignored);
        CHECK(h.first_line == c.first);
        CHECK(h.last_line == c.last);
    }
}

TEST_CASE("hexdump -C of a zero-padded KVM buffer expands '*' up to the closing offset", "[hex]") {
    auto h = parse_hex_text(read_text(data_path("hex/kvm-4096.hexdump")));
    REQUIRE(h.bytes.size() == 4096);
    auto w = testing::whpx_bytes();
    CHECK(std::equal(w.begin(), w.end(), h.bytes.begin()));
    CHECK(std::all_of(h.bytes.begin() + 832, h.bytes.end(), [](uint8_t b) { return b == 0; }));
    CHECK(h.style == HexStyle::HexdumpC);
}

TEST_CASE("hex text details: prefixes, case, CRLF, ASCII columns, offsets", "[hex]") {
    SECTION("0x prefixes, commas, upper case, CRLF") {
        auto h = parse_hex_text("0x7F,0x03, 0XA0 ,ff\r\n0x1f 00\r\n");
        CHECK(h.bytes == std::vector<uint8_t>{0x7f, 0x03, 0xa0, 0xff, 0x1f, 0x00});
        CHECK(h.ignored_lines == 0);
    }
    SECTION("an xxd ASCII column that looks like hex is not data") {
        auto h = parse_hex_text("00000000: 6162 6364  abcd\n");
        CHECK(h.bytes == std::vector<uint8_t>{0x61, 0x62, 0x63, 0x64});
    }
    SECTION("a hexdump -C ASCII column holding '|' and hex-looking text") {
        auto h = parse_hex_text("00000000  7c 61 62  ||ab|\n00000003\n");
        CHECK(h.bytes == std::vector<uint8_t>{0x7c, 0x61, 0x62});
    }
    SECTION("an od ASCII column holding '>' and '<'") {
        auto h = parse_hex_text("000000 3e 3c 41  >><A<\n000003\n");
        CHECK(h.bytes == std::vector<uint8_t>{0x3e, 0x3c, 0x41});
        CHECK(h.style == HexStyle::Od);
    }
    SECTION("the block with the most bytes wins; other lines are counted") {
        auto h = parse_hex_text("Before:\n01 02\n\nAfter:\n11 12 13\n21 22\nthanks\n");
        CHECK(h.bytes == std::vector<uint8_t>{0x11, 0x12, 0x13, 0x21, 0x22});
        CHECK(h.ignored_lines == 4);   // "Before:", "01 02", "After:", "thanks"
        CHECK(h.first_line == 5);
        CHECK(h.last_line == 6);
    }
    SECTION("a dump that starts at a non-zero offset keeps it") {
        auto h = parse_hex_text("00000200: 0300 0000 0000 0000  ........\n00000208: 0700 0000 0000 0080  ........\n");
        CHECK(h.start_offset == 0x200);
        CHECK(h.bytes.size() == 16);
        CHECK(h.bytes[8] == 0x07);
    }
    SECTION("'*' repeats a non-zero line") {
        auto h = parse_hex_text("00000000  aa bb  |..|\n*\n00000006  cc  |.|\n00000007\n");
        CHECK(h.bytes == std::vector<uint8_t>{0xaa, 0xbb, 0xaa, 0xbb, 0xaa, 0xbb, 0xcc});
    }
    SECTION("a closing offset that disagrees with the data") {
        REQUIRE_THROWS_WITH(parse_hex_text("00000000  aa bb  |..|\n00000003\n"),
                            "line 2: offset 0x3 follows 0x0; expected 0x2");
    }
}

TEST_CASE("malformed hex text gives one exact line", "[hex][bad]") {
    struct Case { const char* file; const char* message; };
    const Case cases[] = {
        {"bad/hex-empty.txt", "no hex bytes found: the text is empty"},
        {"bad/hex-prose.txt", "no hex bytes found: none of the 4 non-blank lines is purely hex bytes"},
        {"bad/hex-offset-jump.txt", "line 4: offset 0x40 follows 0x20; expected 0x30"},
        {"bad/hex-offset-repeat.txt", "line 4: offset 0x20 follows 0x20; expected 0x30"},
        {"bad/hex-odd-nibble.txt", "line 1: odd number of hex digits in '0'; expected whole bytes (two digits each)"},
        {"bad/hex-star-at-end.txt", "line 4: '*' (repeated lines) is not followed by an offset line, so the number "
                                    "of lines it stands for is unknown"},
        {"bad/hex-star-misaligned.txt", "line 5: offset 0x208 after '*' does not continue the repeated 16-byte line at 0x20"},
        {"bad/hex-star-huge.txt", "line 5: '*' repeats lines up to offset 0xfffffff00, more than the 4 MiB an XSAVE "
                                  "buffer can hold"},
        {"bad/hex-od-octal.txt", "line 2: offset 0x20 follows 0x0; expected 0x10"},   // od's default octal offsets
    };
    for (const auto& c : cases) {
        INFO(c.file);
        REQUIRE_THROWS_MATCHES(parse_hex_text(read_text(data_path(c.file))), Error, Catch::Message(c.message));
    }
}

TEST_CASE("hex parser survives arbitrary text without crashing", "[hex][bad]") {
    // Every prefix of every sample, and each sample with one character changed: either bytes or Error.
    const char* files[] = {"hex/whpx-832.hexdump", "hex/whpx-832.od", "hex/whpx-832-autoskip.xxd", "whpx-832-mail.txt"};
    const char subst[] = {'*', ' ', '\n', '0', 'g', '|', '>', ':'};
    size_t parsed = 0, rejected = 0;
    for (const char* f : files) {
        auto text = read_text(data_path(f));
        for (size_t n = 0; n <= text.size(); n += 7) {
            try { parse_hex_text(std::string_view(text).substr(0, n)); ++parsed; } catch (const Error&) { ++rejected; }
        }
        for (size_t i = 0; i < text.size(); i += 5) {
            auto t = text;
            t[i] = subst[i % sizeof subst];
            try { auto h = parse_hex_text(t); CHECK(h.bytes.size() <= kMaxHexBytes); ++parsed; } catch (const Error&) { ++rejected; }
        }
    }
    CHECK(parsed > 0);
    CHECK(rejected > 0);
}
