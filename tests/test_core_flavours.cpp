// Core flavours beyond Linux x86-64: i386 and x32 (ELFCLASS32), FreeBSD, NetBSD, FXSAVE- and
// FSAVE-only threads, raw FXSAVE/FSAVE images, and the cross-checks between a thread's notes.
//
// This machine's kernel cannot run 32-bit programs, and no FreeBSD or NetBSD kernel runs here,
// so most cores below are SYNTHETIC: built in the test from the documented note layouts:
//   FreeBSD: sys/sys/elf_common.h (NT_PRSTATUS 1, NT_FPREGSET 2, NT_THRMISC 7, NT_X86_XSTATE 0x202),
//            sys/sys/procfs.h (prstatus_t: pr_pid at 40 on amd64, 24 on i386),
//            sys/kern/imgact_elf.c (per thread PRSTATUS, FPREGSET, THRMISC, ..., XSTATE; process
//            notes after the last thread; XCR0 at byte 464 of the XSTATE note),
//            sys/x86/include/reg.h (struct fpreg: FXSAVE on amd64, 176-byte save87 on i386).
//   NetBSD:  sys/kern/core_elf32.c (owner "NetBSD-CORE@<lwp>", note type = the ptrace request),
//            sys/arch/{amd64,i386}/include/ptrace.h (PT_GETFPREGS 35; PT_GETXSTATE 41 / 43),
//            sys/arch/x86/include/cpu_extended_state.h (struct xstate, struct save87).
//   Linux:   include/uapi/linux/elf.h (NT_PRFPREG 2, NT_PRXFPREG 0x46e62b7f, NT_X86_XSTATE 0x202),
//            struct elf_prstatus (pr_pid at 24 for i386 and x32), SDM Vol. 1 8.1.10 (FSAVE).
// Real 32-bit cores come from tests/tools/fp32_crash.c where the kernel runs it (the live
// test below skips otherwise).
#include "crash_core.hpp"
#include "helpers.hpp"
#include "xsave/error.hpp"
#include "xsave/image.hpp"
#include "xsave/input.hpp"

#include <catch2/catch.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

using namespace xsave;
using testing::run_tool;
using testing::shell_quote;

namespace {

struct NoteSpec {
    std::string owner;
    uint32_t type;
    std::vector<uint8_t> desc;
};

void put(std::vector<uint8_t>& b, size_t at, uint64_t v, unsigned n) {
    if (b.size() < at + n) b.resize(at + n);
    store_le(b.data() + at, v, n);
}

// An ET_CORE file with one PT_NOTE segment holding `notes`.
std::vector<uint8_t> make_flavour_core(bool is64, uint16_t machine, const std::vector<NoteSpec>& notes) {
    std::vector<uint8_t> b(is64 ? 64 + 56 : 52 + 32, 0);
    b[0] = 0x7f, b[1] = 'E', b[2] = 'L', b[3] = 'F', b[4] = is64 ? 2 : 1, b[5] = 1, b[6] = 1;
    put(b, 16, 4, 2);   // ET_CORE
    put(b, 18, machine, 2);
    put(b, 20, 1, 4);
    size_t ph = is64 ? 64 : 52;
    put(b, is64 ? 32 : 28, ph, is64 ? 8 : 4);       // e_phoff
    put(b, is64 ? 52 : 40, ph, 2);                   // e_ehsize
    put(b, is64 ? 54 : 42, is64 ? 56 : 32, 2);       // e_phentsize
    put(b, is64 ? 56 : 44, 1, 2);                    // e_phnum
    size_t start = b.size();
    for (const auto& n : notes) {
        size_t at = b.size();
        put(b, at, n.owner.size() + 1, 4);
        put(b, at + 4, n.desc.size(), 4);
        put(b, at + 8, n.type, 4);
        b.insert(b.end(), n.owner.begin(), n.owner.end());
        b.resize((b.size() + 1 + 3) & ~size_t(3), 0);
        b.insert(b.end(), n.desc.begin(), n.desc.end());
        b.resize((b.size() + 3) & ~size_t(3), 0);
    }
    put(b, ph, 4, 4);   // PT_NOTE
    put(b, ph + (is64 ? 8 : 4), start, is64 ? 8 : 4);
    put(b, ph + (is64 ? 32 : 16), b.size() - start, is64 ? 8 : 4);
    return b;
}

// Known values: xmm_i byte j = 0x21*i + j + seed; ST(i) = 8 - i as an 80-bit number.
uint8_t xmm_byte(int i, int j, int seed = 0) { return uint8_t(0x21 * i + j + seed); }
void put_st(uint8_t* p, int value) {   // a small positive integer as x87 extended precision
    int e = 0;
    while ((value >> (e + 1)) != 0) ++e;
    store_le(p, uint64_t(value) << (63 - e), 8);
    store_le(p + 8, 0x3fff + e, 2);
}
std::string st_hex(int value) {
    uint8_t b[10];
    put_st(b, value);
    std::string s = "0x";
    for (int i = 9; i >= 0; --i) s += fmt::format("{:02x}", b[i]);
    return s;
}

// A 64-bit-form FXSAVE image: FCW 0x027f, MXCSR 0x7f80, MXCSR_MASK 0xffff, ST(i) = 8-i, all
// eight registers valid, xmm0..15.
std::vector<uint8_t> fxsave_image(int seed = 0) {
    std::vector<uint8_t> f(512, 0);
    put(f, 0, 0x027f, 2);
    put(f, 2, 0x0000, 2);
    f[4] = 0xff;
    put(f, 24, 0x7f80, 4);
    put(f, 28, 0xffff, 4);
    for (int i = 0; i < 8; ++i) put_st(&f[32 + 16 * i], 8 - i);
    for (int i = 0; i < 16; ++i)
        for (int j = 0; j < 16; ++j) f[160 + 16 * i + j] = xmm_byte(i, j, seed);
    return f;
}

// The same x87 state as a 32-bit FSAVE image (struct save87), with pointers and selectors.
std::vector<uint8_t> fsave_image() {
    std::vector<uint8_t> f(108, 0);
    put(f, 0, 0xffff027f, 4);
    put(f, 4, 0xffff0000, 4);
    put(f, 8, 0xffff0000, 4);             // full tag word: all valid
    put(f, 12, 0x08049abc, 4);            // FIP
    put(f, 16, (0x1d9u << 16) | 0x73, 4); // FOP 0x1d9, FCS 0x73
    put(f, 20, 0x0804c010, 4);            // FDP
    put(f, 24, 0xffff007b, 4);            // FDS 0x7b
    for (int i = 0; i < 8; ++i) put_st(&f[28 + 10 * i], 8 - i);
    return f;
}

// An XSAVE area of 832 bytes, XCR0 = XSTATE_BV = x87|SSE|AVX (legacy region from fxsave_image).
std::vector<uint8_t> xsave_avx(int seed = 0) {
    auto a = fxsave_image(seed);
    a.resize(832, 0);
    put(a, 464, 0x7, 8);   // XCR0 in the software-reserved bytes
    put(a, 512, 0x7, 8);
    for (int i = 0; i < 16; ++i)
        for (int j = 0; j < 16; ++j) a[576 + 16 * i + j] = xmm_byte(i, j, seed + 0x80);
    return a;
}

std::vector<uint8_t> pid_desc(size_t size, unsigned at, uint32_t pid) {
    std::vector<uint8_t> d(size, 0);
    put(d, at, pid, 4);
    return d;
}

std::string write_temp(const std::string& name, const std::vector<uint8_t>& b) {
    auto p = (std::filesystem::temp_directory_path() / ("xsave-flavour-" + std::to_string(::getpid()) + "-" + name)).string();
    testing::write_bytes(p, b);
    return p;
}

nlohmann::json dump_core_json(const std::string& path, const std::string& extra = "") {
    auto r = run_tool("dump " + shell_quote(path) + " --json " + extra);
    INFO(r.err);
    REQUIRE(r.status == 0);
    return nlohmann::json::parse(r.out);
}

std::string xmm_hex(int i, int seed = 0) {
    std::string s = "0x";
    for (int j = 15; j >= 0; --j) s += fmt::format("{:02x}", xmm_byte(i, j, seed));
    return s;
}

// FreeBSD amd64: two threads, each NT_PRSTATUS (pr_pid at 40), NT_FPREGSET, NT_THRMISC,
// NT_X86_XSTATE; process-wide NT_PROCSTAT_PROC (8) after the last thread.
std::vector<uint8_t> freebsd_amd64_core(int seed = 0) {
    std::vector<NoteSpec> n;
    n.push_back({"FreeBSD", 3, std::vector<uint8_t>(120, 0)});   // NT_PRPSINFO
    for (uint32_t tid : {100123u, 100124u}) {
        n.push_back({"FreeBSD", 1, pid_desc(224, 40, tid)});
        n.push_back({"FreeBSD", 2, fxsave_image(seed)});
        n.push_back({"FreeBSD", 7, std::vector<uint8_t>(24, 0)});
        n.push_back({"FreeBSD", 0x202, xsave_avx(seed)});
    }
    n.push_back({"FreeBSD", 8, std::vector<uint8_t>(64, 0)});
    return make_flavour_core(true, 62, n);
}

} // namespace

TEST_CASE("synthetic FreeBSD amd64 core: threads by NT_PRSTATUS, pr_pid at 40, XSTATE and FPREGSET agree", "[core][flavour]") {
    auto core = read_elf_core(freebsd_amd64_core());
    CHECK(core.os == CoreOs::FreeBSD);
    CHECK(core.abi == CoreAbi::Amd64);
    REQUIRE(core.threads.size() == 2);
    CHECK(core.threads[0].tid == 100123);
    CHECK(core.threads[1].tid == 100124);
    for (const auto& t : core.threads) {
        CHECK(t.source == "FreeBSD/NT_X86_XSTATE");
        CHECK(t.xcr0() == 0x7);
        CHECK(t.xstate == xsave_avx());
        CHECK(t.warnings.empty());
        CHECK_FALSE(t.legacy32);
    }

    auto path = write_temp("fbsd.core", freebsd_amd64_core());
    auto j = dump_core_json(path);
    REQUIRE(j.size() == 2);
    CHECK(j[1]["tid"] == 100124);
    CHECK(j[0]["registers"]["fcw"] == "0x027f");
    CHECK(j[0]["registers"]["mxcsr"] == "0x00007f80");
    CHECK(j[0]["registers"]["st0"] == st_hex(8));
    CHECK(j[0]["registers"]["st7"] == st_hex(1));
    CHECK(j[0]["registers"]["xmm15"] == xmm_hex(15));
    CHECK(j[0]["registers"]["ymm3"].get<std::string>() == "0x" + xmm_hex(3, 0x80).substr(2) + xmm_hex(3).substr(2));
    CHECK(j[0]["input"]["notes"][0] == "FreeBSD x86-64 core, from FreeBSD/NT_X86_XSTATE at offset 0x438");
    std::filesystem::remove(path);
}

TEST_CASE("synthetic FreeBSD i386 core: pr_pid at 24, 176-byte FSAVE-style NT_FPREGSET, XMM0-7 only", "[core][flavour]") {
    auto fs = fsave_image();
    fs.resize(176, 0);   // struct fpreg (i386): save87 + fpr_ex_sw + fpr_pad
    auto xs = xsave_avx();
    put(xs, 12, 0x73, 2);   // a 32-bit kernel's XSAVE: FCS/FDS beside 32-bit FIP/FDP
    put(xs, 8, 0x08049abc, 4);
    put(xs, 16, 0x0804c010, 4);
    put(xs, 20, 0x7b, 2);
    put(xs, 6, 0x1d9, 2);
    auto bytes = make_flavour_core(false, 3, {{"FreeBSD", 1, pid_desc(96, 24, 100200)}, {"FreeBSD", 2, fs}, {"FreeBSD", 0x202, xs}});
    auto core = read_elf_core(bytes);
    CHECK(core.abi == CoreAbi::I386);
    REQUIRE(core.threads.size() == 1);
    CHECK(core.threads[0].tid == 100200);
    CHECK(core.threads[0].legacy32);
    CHECK(core.threads[0].warnings.empty());   // the FSAVE note's x87 state equals the XSAVE note's

    auto path = write_temp("fbsd32.core", bytes);
    auto j = dump_core_json(path);
    REQUIRE(j.size() == 1);
    const auto& regs = j[0]["registers"];
    CHECK(regs["fip"] == "0x08049abc");
    CHECK(regs["fcs"] == "0x0073");
    CHECK(regs["fdp"] == "0x0804c010");
    CHECK(regs["fds"] == "0x007b");
    CHECK(regs["fop"] == "0x01d9");
    CHECK(regs["xmm7"] == xmm_hex(7));
    CHECK_FALSE(regs.contains("xmm8"));
    CHECK_FALSE(regs.contains("ymm8"));
    CHECK(regs.contains("ymm7"));
    std::filesystem::remove(path);
}

TEST_CASE("synthetic NetBSD amd64 core: NetBSD-CORE@lwp, PT_GETXSTATE struct xstate, PT_GETFPREGS cross-check", "[core][flavour]") {
    // struct xstate: rfbm, xstate_bv, fxsave (16..527), ymm_hi128 528, opmask 784, zmm_hi256 848, hi16_zmm 1360.
    std::vector<uint8_t> xs(2384, 0);
    put(xs, 0, 0xe7, 8);
    put(xs, 8, 0xe7, 8);
    auto fx = fxsave_image();
    std::copy(fx.begin(), fx.end(), xs.begin() + 16);
    for (int i = 0; i < 16; ++i)
        for (int j = 0; j < 16; ++j) xs[528 + 16 * i + j] = xmm_byte(i, j, 0x80);
    for (int k = 0; k < 8; ++k) put(xs, 784 + 8 * k, 0x1111u * (k + 1), 8);
    for (int i = 0; i < 16; ++i) xs[1360 + 64 * i] = uint8_t(0xa0 + i);   // zmm16+i byte 0
    auto fx_other = fx;
    put(fx_other, 28, 0x2ffff, 4);   // MXCSR_MASK differs in the PT_GETFPREGS note
    auto bytes = make_flavour_core(true, 62, {{"NetBSD-CORE", 1, std::vector<uint8_t>(64, 0)},
                                      {"NetBSD-CORE@1", 33, std::vector<uint8_t>(208, 0)},
                                      {"NetBSD-CORE@1", 35, fx_other},
                                      {"NetBSD-CORE@1", 41, xs},
                                      {"NetBSD-CORE@2", 35, fx}});
    auto core = read_elf_core(bytes);
    CHECK(core.os == CoreOs::NetBSD);
    REQUIRE(core.threads.size() == 2);
    CHECK(core.threads[0].tid == 1);
    CHECK(core.threads[1].tid == 2);
    CHECK(core.threads[0].source == "NetBSD-CORE@LWP/PT_GETXSTATE");
    CHECK(core.threads[0].xcr0() == 0xe7);
    CHECK(core.threads[0].xstate.size() == 2432);
    REQUIRE(core.threads[0].warnings.size() == 1);
    CHECK(core.threads[0].warnings[0].find("disagrees with NetBSD-CORE@LWP/PT_GETXSTATE in mxcsr_mask") != std::string::npos);
    CHECK(core.threads[1].source == "NetBSD-CORE@LWP/PT_GETFPREGS");
    CHECK(core.threads[1].xcr0() == 0x3);

    auto path = write_temp("nbsd.core", bytes);
    auto r = run_tool("dump " + shell_quote(path) + " --json");
    REQUIRE(r.status == 0);
    auto j = nlohmann::json::parse(r.out);
    REQUIRE(j[0]["warnings"].size() == 1);
    CHECK(j[0]["warnings"][0].get<std::string>().find("in mxcsr_mask") != std::string::npos);
    auto text = run_tool("dump " + shell_quote(path));
    CHECK(text.err.find("disagrees with NetBSD-CORE@LWP/PT_GETXSTATE in mxcsr_mask") != std::string::npos);
    CHECK(j[0]["registers"]["k7"] == "0x0000000000008888");
    CHECK(j[0]["registers"]["zmm16"].get<std::string>().ends_with("a0"));
    CHECK(j[0]["registers"]["ymm2"].get<std::string>() == "0x" + xmm_hex(2, 0x80).substr(2) + xmm_hex(2).substr(2));
    CHECK(j[0]["registers"]["mxcsr_mask"] == "0x0000ffff");   // decoded from struct xstate
    CHECK(j[1]["registers"]["xmm9"] == xmm_hex(9));
    CHECK_FALSE(j[1]["registers"].contains("ymm0"));
    std::filesystem::remove(path);
}

TEST_CASE("synthetic NetBSD i386 core: an FSAVE-only LWP is decoded with what is missing said", "[core][flavour]") {
    auto bytes = make_flavour_core(false, 3, {{"NetBSD-CORE@7", 35, fsave_image()}});
    auto path = write_temp("nbsd32.core", bytes);
    auto j = dump_core_json(path);
    REQUIRE(j.size() == 1);
    CHECK(j[0]["tid"] == 7);
    CHECK(j[0]["xstate_bv"] == "0x1");
    const auto& regs = j[0]["registers"];
    CHECK(regs["fcw"] == "0x027f");
    CHECK(regs["ftw"] == "0xff");   // full tag word 0x0000 (all valid) -> abridged 0xff
    CHECK(regs["fop"] == "0x01d9");
    CHECK(regs["fip"] == "0x08049abc");
    CHECK(regs["fcs"] == "0x0073");
    CHECK(regs["fds"] == "0x007b");
    CHECK(regs["st0"] == st_hex(8));
    CHECK(regs["st7"] == st_hex(1));
    CHECK(regs["mxcsr"] == "0x00001f80");   // FSAVE holds no SSE state: its initial state
    CHECK(regs["xmm0"] == "0x00000000000000000000000000000000");
    CHECK(j[0]["components"][1]["in_use"] == false);
    bool said = false;
    for (const auto& n : j[0]["input"]["notes"]) said |= n.get<std::string>().find("MXCSR, XMM and later state were not saved") != std::string::npos;
    CHECK(said);
    std::filesystem::remove(path);
}

TEST_CASE("synthetic Linux i386 core: NT_PRFPREG, NT_PRXFPREG, NT_X86_XSTATE cross-checked by field", "[core][flavour]") {
    auto xs = xsave_avx();
    put(xs, 28, 0, 4);              // the XSAVE note's MXCSR_MASK 0 ...
    auto fx = fxsave_image();
    put(fx, 28, 0x2ffff, 4);        // ... and the FXSAVE note's 0x2FFFF (seen in real cores)
    put_st(&fx[32 + 16 * 3], 42);   // and st3 differs
    auto bytes = make_flavour_core(false, 3, {{"CORE", 1, pid_desc(144, 24, 4242)},
                                      {"CORE", 2, fsave_image()},
                                      {"LINUX", 0x46e62b7f, fx},
                                      {"LINUX", 0x202, xs}});
    auto core = read_elf_core(bytes);
    REQUIRE(core.threads.size() == 1);
    const auto& t = core.threads[0];
    CHECK(t.tid == 4242);
    CHECK(t.source == "LINUX/NT_X86_XSTATE");
    REQUIRE(t.warnings.size() >= 1);
    CHECK(t.warnings[0].find("LINUX/NT_PRXFPREG") != std::string::npos);
    CHECK(t.warnings[0].find("in st3, mxcsr_mask") != std::string::npos);
}

TEST_CASE("synthetic x32 core: ELFCLASS32 with EM_X86_64, FXSAVE-only thread with 16 XMM registers", "[core][flavour]") {
    auto bytes = make_flavour_core(false, 62, {{"CORE", 1, pid_desc(296, 24, 777)}, {"CORE", 2, fxsave_image()}});
    auto core = read_elf_core(bytes);
    CHECK(core.abi == CoreAbi::X32);
    REQUIRE(core.threads.size() == 1);
    CHECK(core.threads[0].tid == 777);
    CHECK_FALSE(core.threads[0].legacy32);
    auto path = write_temp("x32.core", bytes);
    auto j = dump_core_json(path);
    CHECK(j[0]["registers"]["xmm15"] == xmm_hex(15));
    CHECK(j[0]["xstate_bv"] == "0x3");
    std::filesystem::remove(path);
}

TEST_CASE("raw FXSAVE and FSAVE images are detected by size and decoded", "[flavour][input]") {
    auto fx = write_temp("img.fxsave", fxsave_image());
    auto j = dump_core_json(fx);
    CHECK(j["input"]["kind"] == "fxsave");
    CHECK(j["registers"]["xmm1"] == xmm_hex(1));
    CHECK(j["registers"]["st2"] == st_hex(6));
    auto fs = write_temp("img.fsave", fsave_image());
    auto k = dump_core_json(fs);
    CHECK(k["input"]["kind"] == "fsave");
    CHECK(k["registers"]["fcs"] == "0x0073");
    CHECK(k["registers"]["st0"] == st_hex(8));
    auto bad = run_tool("dump " + shell_quote(fs) + " --input fxsave");
    CHECK(bad.status == 2);
    CHECK(bad.err == "xsavetool: " + fs + ": 108 bytes: an FXSAVE image has exactly 512\n");
    std::filesystem::remove(fx);
    std::filesystem::remove(fs);
}

TEST_CASE("diff: a FreeBSD thread against a Linux thread with the same state, then one register changed", "[core][flavour][diff]") {
    auto linux_core = [](int seed) {
        return make_flavour_core(true, 62, {{"CORE", 1, pid_desc(336, 32, 5000)}, {"CORE", 2, fxsave_image(seed)},
                                    {"LINUX", 0x202, xsave_avx(seed)}});
    };
    auto f = write_temp("d-fbsd.core", freebsd_amd64_core());
    auto l = write_temp("d-linux.core", linux_core(0));
    auto same = run_tool("diff " + shell_quote(f) + " " + shell_quote(l) + " --thread 100123 --thread-b 5000");
    INFO(same.out << same.err);
    CHECK(same.status == 0);
    auto l2 = write_temp("d-linux2.core", linux_core(1));
    auto other = run_tool("diff " + shell_quote(f) + " " + shell_quote(l2) + " --thread 100123 --thread-b 5000 --json");
    CHECK(other.status == 1);
    CHECK(other.out.find("\"name\": \"ymm3\"") != std::string::npos);   // AVX in use: the widest view
    CHECK(other.out.find("\"name\": \"xmm3\"") == std::string::npos);
    for (const auto& p : {f, l, l2}) std::filesystem::remove(p);
}

TEST_CASE("x87 in its initial state with other bytes: initial values decoded, stale bytes said", "[flavour][decode]") {
    auto a = xsave_avx();
    put(a, 512, 0x6, 8);   // XSTATE_BV: x87 init, but FCW 0x027f and ST0-7 hold values
    auto path = write_temp("stale.bin", a);
    auto r = run_tool("dump " + shell_quote(path) + " --json --xcr0 0x7");
    REQUIRE(r.status == 0);
    auto j = nlohmann::json::parse(r.out);
    CHECK(j["registers"]["fcw"] == "0x037f");
    CHECK(j["registers"]["st0"] == "0x00000000000000000000");
    bool said = false;
    for (const auto& w : j["warnings"]) said |= w.get<std::string>().starts_with("x87 is in its initial state (XSTATE_BV bit 0 clear) but its bytes hold other values (fcw, ftw, st0");
    CHECK(said);
    std::filesystem::remove(path);
}

namespace {
std::vector<uint8_t> crash_core(const char* bin, const char* flag) { return testing::crash_core(bin, flag, "fp32"); }

void check_fp32_core(const std::vector<uint8_t>& bytes, CoreAbi abi) {
    auto core = read_elf_core(bytes);
    CHECK(core.abi == abi);
    REQUIRE(core.threads.size() == 1);
    auto path = write_temp("live32.core", bytes);
    auto j = dump_core_json(path);
    const auto& regs = j[0]["registers"];
    CHECK(regs["fcw"] == "0x027f");
    CHECK(regs["mxcsr"] == "0x00007f80");
    for (int i = 0; i < 8; ++i) CHECK(regs["st" + std::to_string(i)] == st_hex(8 - i));
    for (int i = 0; i < 8; ++i) CHECK(regs["xmm" + std::to_string(i)] == xmm_hex(i));
    if (regs.contains("ymm0")) CHECK(regs["ymm0"].get<std::string>() == "0x" + xmm_hex(0, 0x80).substr(2) + xmm_hex(0).substr(2));
    CHECK(regs.contains("xmm8") == (abi == CoreAbi::X32));
    std::filesystem::remove(path);
}
} // namespace

TEST_CASE("a fresh i386 core from fp32_crash (gcc -m32) holds the loaded x87/SSE/AVX values", "[core][live][flavour]") {
    if (!*kFpCrashM32Binary) SKIP_TEST("fp_crash_m32 not built (no gcc -m32 multilib)");
    auto bytes = crash_core(kFpCrashM32Binary, "--avx");
    if (bytes.empty()) SKIP_TEST("no i386 core written: this kernel cannot run 32-bit programs (no IA32 emulation) or core_pattern is not 'core'");
    check_fp32_core(bytes, CoreAbi::I386);
}

TEST_CASE("a fresh x32 core from fp32_crash (gcc -mx32) holds the loaded values", "[core][live][flavour]") {
    if (!*kFpCrashMx32Binary) SKIP_TEST("fp_crash_mx32 not built (no gcc -mx32 multilib)");
    auto bytes = crash_core(kFpCrashMx32Binary, "--avx");
    if (bytes.empty()) SKIP_TEST("no x32 core written: this kernel has no x32 ABI (CONFIG_X86_X32_ABI) or core_pattern is not 'core'");
    check_fp32_core(bytes, CoreAbi::X32);
}
