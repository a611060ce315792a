// ELF core files: real cores written on this machine (kernel and gdb 13 gcore) by
// tests/tools/zmm_crash, malformed cores, and fresh cores made at run time.
#include "crash_core.hpp"
#include "helpers.hpp"
#include "xsave/error.hpp"
#include "xsave/image.hpp"
#include "xsave/input.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <random>
#include <sys/resource.h>
#include <unistd.h>

using namespace xsave;
using testing::data_path;
using testing::read_bytes;

namespace {

// zmm_crash's documented values (thread t: 0 main, 1 second).
uint8_t zmm_byte(int t, int i, int j, bool variant = false) {
    uint8_t b = uint8_t(0x11 * i + j + 0x80 * t);
    return variant && t == 0 && i == 7 ? uint8_t(b ^ 0xff) : b;
}
uint64_t k_value(int t, int i, bool variant = false) {
    if (variant && t == 0 && i == 3) return 0xdead;
    return uint64_t(0x1111 * (i + 1)) << (16 * t);
}

// Offsets in the kernel's standard layout on this AMD CPU (XCR0 0xe7, 2432 bytes).
constexpr unsigned kXmm = 160, kYmmH = 576, kOpmask = 0x340, kZmmH = 0x380, kHi16 = 0x580;

// Checks zmm0..31 and k0..7 in an AMD-layout note; returns the names that differ.
std::vector<std::string> wrong_registers(const std::vector<uint8_t>& x, int t, bool variant = false) {
    std::vector<std::string> bad;
    for (int i = 0; i < 32; ++i) {
        bool ok = true;
        for (int j = 0; j < 64; ++j) {
            size_t at = i >= 16 ? kHi16 + 64 * (i - 16) + j
                      : j < 16 ? kXmm + 16 * i + j
                      : j < 32 ? kYmmH + 16 * i + (j - 16)
                               : kZmmH + 32 * i + (j - 32);
            ok &= x.at(at) == zmm_byte(t, i, j, variant);
        }
        if (!ok) bad.push_back("zmm" + std::to_string(i));
    }
    for (int i = 0; i < 8; ++i)
        if (load_le(x.data() + kOpmask + 8 * i, 8) != k_value(t, i, variant)) bad.push_back("k" + std::to_string(i));
    return bad;
}

CoreFile read_core(const std::string& rel) { return read_elf_core(read_bytes(data_path(rel))); }

} // namespace

TEST_CASE("kernel core: both threads' NT_X86_XSTATE notes with their pids", "[core]") {
    auto core = read_core("core-avx512.core");
    REQUIRE(core.threads.size() == 2);
    CHECK(core.threads[0].tid == 16623);
    CHECK(core.threads[1].tid == 16624);
    CHECK(core.threads[0].note_offset == 0x108c);
    CHECK(core.threads[1].note_offset == 0x1d98);
    for (const auto& t : core.threads) {
        CHECK(t.xstate.size() == 2432);
        CHECK(t.xcr0() == 0xe7);
        CHECK(load_le(t.xstate.data() + 512, 8) == 0xe6);   // XSTATE_BV: x87 in its initial state
        CHECK(load_le(t.xstate.data() + 520, 8) == 0);      // XCOMP_BV: standard form
    }
    CHECK(core.threads[0].xstate == read_bytes(data_path("core-avx512-xstate.bin")));
    CHECK(core.threads[1].xstate == read_bytes(data_path("core-avx512-thread2-xstate.bin")));
    for (const auto& t : core.threads) {
        CHECK(t.source == "LINUX/NT_X86_XSTATE");
        CHECK(t.warnings.empty());   // the kernel's FXSAVE note agrees with its XSAVE note
    }
    // The kernel's own account of where it put each component (AMD: opmask at 0x340).
    REQUIRE(core.kernel_layout.size() == 4);
    const uint32_t expect[4][3] = {{2, 256, 576}, {5, 64, 0x340}, {6, 512, 0x380}, {7, 1024, 0x580}};
    for (int i = 0; i < 4; ++i) {
        CHECK(core.kernel_layout[i].bit == expect[i][0]);
        CHECK(core.kernel_layout[i].size == expect[i][1]);
        CHECK(core.kernel_layout[i].offset == expect[i][2]);
    }
}

TEST_CASE("kernel core: zmm0-31 and k0-7 hold exactly zmm_crash's values in both threads", "[core]") {
    auto core = read_core("core-avx512.core");
    CHECK(wrong_registers(core.threads[0].xstate, 0).empty());
    CHECK(wrong_registers(core.threads[1].xstate, 1).empty());
    CHECK(load_le(core.threads[0].xstate.data() + kOpmask, 8) == 0x1111);
    CHECK(load_le(core.threads[1].xstate.data() + kOpmask + 56, 8) == 0x88880000);
}

TEST_CASE("variant core differs from the first only in zmm7 and k3 of the main thread", "[core]") {
    auto a = read_core("core-avx512.core"), b = read_core("core-avx512-variant.core");
    REQUIRE(b.threads.size() == 2);
    CHECK(wrong_registers(b.threads[0].xstate, 0, true).empty());
    CHECK(wrong_registers(b.threads[1].xstate, 1, true).empty());
    CHECK(b.threads[1].xstate == a.threads[1].xstate);
    std::vector<std::pair<size_t, size_t>> ranges;   // differing byte ranges [first, last]
    for (size_t i = 0; i < a.threads[0].xstate.size(); ++i) {
        if (a.threads[0].xstate[i] == b.threads[0].xstate[i]) continue;
        if (!ranges.empty() && ranges.back().second == i - 1) ranges.back().second = i;
        else ranges.push_back({i, i});
    }
    // xmm7, ymmh7, k3 (0x4444 -> 0xdead: two bytes), ZMM_Hi256 of zmm7.
    CHECK(ranges == std::vector<std::pair<size_t, size_t>>{{0x110, 0x11f}, {0x2b0, 0x2bf}, {0x358, 0x359}, {0x460, 0x47f}});
}

TEST_CASE("gdb 13 gcore core: Intel's 2688-byte layout on this AMD CPU", "[core]") {
    auto core = read_core("core-gcore.core");
    REQUIRE(core.threads.size() == 2);
    CHECK(core.threads[0].tid == 16644);
    CHECK(core.threads[1].tid == 16647);
    for (const auto& t : core.threads) {
        CHECK(t.xstate.size() == 2688);
        CHECK(t.xcr0() == 0xe7);
        CHECK(load_le(t.xstate.data() + 512, 8) == 0xe7);
    }
    CHECK(core.threads[0].xstate == read_bytes(data_path("core-gcore-xstate.bin")));
    CHECK(core.kernel_layout.empty());
    for (const auto& t : core.threads) CHECK(t.warnings.empty());
    // gdb placed the AMD bytes at Intel offsets: what sits at Intel's opmask offset 0x440 is
    // zmm data, not zmm_crash's k values (0x1111, 0x2222, ...).
    const auto& x = core.threads[0].xstate;
    CHECK(load_le(x.data() + 0x440, 8) == 0x8d8c8b8a89888786ull);
    CHECK(load_le(x.data() + 0x340, 8) == 0);   // nor at AMD's
    // The legacy region is right: xmm0 = 00 01 .. 0f.
    for (int j = 0; j < 16; ++j) CHECK(x[kXmm + j] == zmm_byte(0, 0, j));
}

TEST_CASE("kernel core without its XSTATE notes: each thread's NT_FPREGSET (FXSAVE) is decoded", "[core]") {
    // core-avx512.core with the NT_X86_XSTATE note types changed: what a kernel without XSAVE writes.
    auto core = read_core("core-fxsave-only.core");
    REQUIRE(core.threads.size() == 2);
    CHECK(core.threads[0].tid == 16623);
    CHECK(core.threads[1].tid == 16624);
    for (int t = 0; t < 2; ++t) {
        const auto& th = core.threads[size_t(t)];
        CHECK(th.source == "CORE/NT_FPREGSET");
        CHECK(th.xcr0() == 0x3);
        REQUIRE(th.xstate.size() == 576);
        CHECK(load_le(th.xstate.data() + 512, 8) == 0x3);
        for (int i = 0; i < 16; ++i)
            for (int j = 0; j < 16; ++j) CHECK(th.xstate[kXmm + 16 * i + j] == zmm_byte(t, i, j));
        CHECK(th.notes.at(0).starts_with("FXSAVE image only (CORE/NT_FPREGSET)"));
    }
}

TEST_CASE("malformed ELF cores give one exact line", "[core][bad]") {
    struct Case { const char* file; const char* message; };
    const Case cases[] = {
        {"bad/elf-not-elf.bin", "not an ELF file: offset 0: expected the magic 7f 45 4c 46 (\"\\x7fELF\")"},
        {"bad/elf-truncated-header.bin", "ELF header truncated: the file has 40 bytes; an ELF64 header needs 64"},
        {"bad/elf-32bit.bin", "offset 42: program header size 0; expected 32 (Elf32_Phdr)"},
        {"bad/elf-big-endian.bin", "offset 5: ELF data encoding 2; expected 1 (little-endian)"},
        {"bad/elf-not-core.bin", "offset 16: ELF type 2 (ET_EXEC); expected 4 (ET_CORE, a core file)"},
        {"bad/elf-arm64.bin", "offset 18: ELF machine 183; expected 62 (EM_X86_64)"},
        {"bad/elf-no-phdrs.bin", "offset 56: no program headers (e_phnum 0); a core file keeps its notes in PT_NOTE"},
        {"bad/elf-phnum-absurd.bin", "offset 32: program header table at 0x40 with 60000 entries of 56 bytes ends past "
                                     "the end of the file (0x2790 bytes)"},
        {"bad/elf-phnum-xnum.bin", "offset 40: e_phnum is PN_XNUM but section header 0 at 0x10000000000 is past the "
                                   "end of the file (0x2790 bytes)"},
        {"bad/elf-note-past-file.bin", "program header 0 (offset 0x40): PT_NOTE segment at 0x660 of 0x2120 bytes ends "
                                       "past the end of the file (0x271c bytes)"},
        {"bad/elf-note-size-past-segment.bin", "note at offset 0x108c: name size 0x6 and descriptor size 0xfffffff0 run "
                                               "past the end of its PT_NOTE segment at 0x2780"},
        {"bad/elf-note-header-truncated.bin", "note at offset 0x2780: truncated header (4 bytes left in the PT_NOTE "
                                              "segment; a note header needs 12)"},
        {"bad/elf-no-fp-notes.bin", "no x86 floating-point state note (NT_X86_XSTATE, NT_PRXFPREG, NT_FPREGSET, NetBSD "
                                    "PT_GETFPREGS/PT_GETXSTATE) among the 2 notes of this x86-64 core file"},
        {"bad/elf-short-xstate.bin", "NT_X86_XSTATE note at offset 0x108c: descriptor has 100 bytes; an XSAVE area "
                                     "needs at least 576"},
        {"bad/elf-notes-overlap.bin", "program header 1 (offset 0x78): the PT_NOTE segments add up to more than the "
                                      "file's 0x2790 bytes; they overlap"},
    };
    for (const auto& c : cases) {
        INFO(c.file);
        auto bytes = read_bytes(data_path(c.file));
        REQUIRE_THROWS_MATCHES(read_elf_core(bytes), Error, Catch::Message(c.message));
    }
}

TEST_CASE("every truncation and random corruption of a core is parsed or rejected, never a crash", "[core][bad]") {
    auto core = read_bytes(data_path("core-avx512.core"));
    size_t ok = 0, rejected = 0;
    for (size_t n = 0; n <= 0x2800; ++n) {   // past the end of the notes
        try { read_elf_core(std::span(core).first(n)); ++ok; } catch (const Error&) { ++rejected; }
    }
    CHECK(rejected > 0x2700);
    std::mt19937 rng(12345);
    for (int round = 0; round < 3000; ++round) {
        auto c = core;
        for (int k = 0; k < 4; ++k) c[rng() % 0x2800] = uint8_t(rng());
        try {
            auto f = read_elf_core(c);
            for (const auto& t : f.threads) CHECK(t.xstate.size() <= c.size());
            ++ok;
        } catch (const Error&) { ++rejected; }
    }
    CHECK(ok > 0);
}

namespace {
std::vector<uint8_t> make_core(const char* flag) { return testing::crash_core(kZmmCrashBinary, flag, flag ? "core-v" : "core"); }
} // namespace

TEST_CASE("a fresh core from zmm_crash holds the known values in both threads", "[core][live]") {
    auto bytes = make_core(nullptr);
    if (bytes.empty()) SKIP_TEST("no core written here (needs AVX-512 and core_pattern 'core')");
    auto core = read_elf_core(bytes);
    REQUIRE(core.threads.size() == 2);
    CHECK(core.threads[1].tid != core.threads[0].tid);
    if (core.threads[0].xstate.size() != 2432) SKIP_TEST("not the AMD 2432-byte layout these offsets assume");
    CHECK(wrong_registers(core.threads[0].xstate, 0).empty());
    CHECK(wrong_registers(core.threads[1].xstate, 1).empty());
}

TEST_CASE("a fresh --variant core changes only zmm7 and k3 of the main thread", "[core][live]") {
    auto a = make_core(nullptr), b = make_core("--variant");
    if (a.empty() || b.empty()) SKIP_TEST("no core written here (needs AVX-512 and core_pattern 'core')");
    auto ca = read_elf_core(a), cb = read_elf_core(b);
    if (ca.threads[0].xstate.size() != 2432) SKIP_TEST("not the AMD 2432-byte layout these offsets assume");
    CHECK(wrong_registers(cb.threads[0].xstate, 0, true).empty());
    CHECK(wrong_registers(cb.threads[0].xstate, 0) == std::vector<std::string>{"zmm7", "k3"});
    CHECK(cb.threads[1].xstate == ca.threads[1].xstate);
}
