// QEMU migration streams: real 2-vCPU TCG streams against QEMU's own `info registers -a`.
#include "helpers.hpp"

#include "xsave/error.hpp"
#include "xsave/qemu.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <regex>

using namespace testing;

namespace {

// `info registers -a`: per CPU, NAME -> hex digits (FPRn: exponent then mantissa, YMMnn: the
// four groups high to low), as the tests compare them with dump's 0x-prefixed values.
std::vector<std::map<std::string, std::string>> parse_info_registers(const std::string& text) {
    std::vector<std::map<std::string, std::string>> cpus;
    std::istringstream in(text);
    std::string line;
    std::regex fpr(R"(FPR(\d)=([0-9a-f]{16}) ([0-9a-f]{4}))");
    std::regex ymm(R"(YMM(\d\d)=([0-9a-f]{16}) ([0-9a-f]{16}) ([0-9a-f]{16}) ([0-9a-f]{16}))");
    std::regex reg(R"(\b([A-Z][A-Z0-9]*) ?=([0-9a-f]+)\b)");
    while (std::getline(in, line)) {
        if (line.starts_with("CPU#")) {
            cpus.emplace_back();
            continue;
        }
        if (cpus.empty()) continue;
        auto& m = cpus.back();
        std::smatch s;
        if (line.starts_with("FPR")) {
            for (auto it = std::sregex_iterator(line.begin(), line.end(), fpr); it != std::sregex_iterator(); ++it)
                m["st" + (*it)[1].str()] = (*it)[3].str() + (*it)[2].str();
        } else if (std::regex_search(line, s, ymm)) {
            m["ymm" + std::to_string(std::stoi(s[1].str()))] = s[2].str() + s[3].str() + s[4].str() + s[5].str();
        } else {
            for (auto it = std::sregex_iterator(line.begin(), line.end(), reg); it != std::sregex_iterator(); ++it)
                m[(*it)[1].str()] = (*it)[2].str();
        }
    }
    return cpus;
}

std::string lower(std::string s) {
    for (auto& c : s) c = char(std::tolower(c));
    return s;
}

// Every value QEMU prints that the dump also holds, for every vCPU.
void check_against_qemu(const std::string& stream, const std::string& registers_txt) {
    auto expected = parse_info_registers(read_text(registers_txt));
    REQUIRE(expected.size() == 2);
    auto r = run_tool("dump " + shell_quote(stream) + " --json");
    INFO(r.err);
    REQUIRE(r.status == 0);
    auto j = nlohmann::json::parse(r.out);
    REQUIRE(j.is_array());
    REQUIRE(j.size() == expected.size());
    for (size_t c = 0; c < expected.size(); ++c) {
        INFO("vCPU " << c);
        const auto& e = expected[c];
        const auto& a = j[c];
        CHECK(a["tid"] == int(c));
        const auto& ctx = a["context"];
        for (const char* n : {"RAX", "RBX", "RCX", "RDX", "RSI", "RDI", "RBP", "RSP", "R8", "R9", "R15", "RIP", "CR0", "CR3", "CR4", "EFER"})
            CHECK(std::stoull(ctx[lower(n)].get<std::string>(), nullptr, 16) == std::stoull(e.at(n), nullptr, 16));
        const auto& regs = a["registers"];
        CHECK(regs["fcw"] == "0x" + e.at("FCW"));
        CHECK(regs["fsw"] == "0x" + e.at("FSW"));
        CHECK(regs["ftw"] == "0x" + e.at("FTW"));
        CHECK(regs["mxcsr"] == "0x" + e.at("MXCSR"));
        // QEMU copies env.fpregs into the slots unrotated: slot i is QEMU's FPRi.
        for (int i = 0; i < 8; ++i) CHECK(regs["st" + std::to_string(i)] == "0x" + e.at("st" + std::to_string(i)));
        for (int i = 0; i < 16; ++i) CHECK(regs["ymm" + std::to_string(i)] == "0x" + e.at("ymm" + std::to_string(i)));
    }
}

} // namespace

TEST_CASE("qemu: the committed TCG stream matches QEMU's info registers", "[qemu]") {
    check_against_qemu(data_path("qemu/tcg-2cpu.mig"), data_path("qemu/tcg-2cpu-registers.txt"));
}

TEST_CASE("qemu: a fresh stream from qemu-system-x86_64 matches its info registers", "[qemu][slow]") {
    if (std::system("command -v qemu-system-x86_64 >/dev/null 2>&1") != 0) SKIP_TEST("qemu-system-x86_64 is not installed");
    auto dir = std::filesystem::temp_directory_path() / ("xsavetool-qemu-" + std::to_string(::getpid()));
    std::string script = std::string(kTestDataDir) + "/../tests/tools/qemu_stream.py";
    int rc = std::system(("python3 " + shell_quote(script) + " " + shell_quote(dir.string()) + " --mem 32").c_str());
    if (WIFEXITED(rc) && WEXITSTATUS(rc) == 77) SKIP_TEST("qemu_stream.py: a tool is missing");
    REQUIRE(rc == 0);
    check_against_qemu((dir / "vm.mig").string(), (dir / "registers.txt").string());
    std::filesystem::remove_all(dir);
}

TEST_CASE("qemu: reader walks RAM, devices and the description", "[qemu]") {
    auto bytes = read_bytes(data_path("qemu/tcg-2cpu.mig"));
    auto s = xsave::read_qemu_stream(bytes);
    CHECK(s.machine == "pc-i440fx-7.2");
    REQUIRE(s.cpus.size() == 2);
    CHECK(s.cpus[0].index == 0);
    CHECK(s.cpus[1].index == 1);
    CHECK(s.ram_bytes >= (16u << 20));
    CHECK(s.zero_pages + s.ram_pages == s.ram_bytes / 4096);
    CHECK(s.device_sections > 20);
    const auto& c = s.cpus[0];
    // Under TCG, XSTATE_BV is recorded as 0; XCR0 is what the guest set with XSETBV.
    CHECK(c.xstate_bv == 0);
    CHECK(c.xcr0 == 0x207);
    CHECK(c.pkru == 0x55555554);
    CHECK(s.cpus[1].pkru == 0xc);
    CHECK(c.fcw == 0x027f);
    CHECK(c.fsw == 0x2800);
    CHECK(c.ftw_abridged == 0xe0);
    CHECK(std::find(c.subsections.begin(), c.subsections.end(), "cpu/pkru") != c.subsections.end());
}

TEST_CASE("qemu: recorded XSTATE_BV 0 is reported, in-use components marked with a warning", "[qemu]") {
    auto r = run_tool("dump " + shell_quote(data_path("qemu/tcg-2cpu.mig")) + " --thread 1 --json");
    REQUIRE(r.status == 0);
    auto j = nlohmann::json::parse(r.out);
    REQUIRE(j.is_array());
    REQUIRE(j.size() == 1);
    CHECK(j[0]["tid"] == 1);
    CHECK(j[0]["context"]["recorded_xstate_bv"] == "0x0000000000000000");
    CHECK(j[0]["xstate_bv"] == "0x207");
    CHECK(j[0]["registers"]["pkru"] == "0x0000000c");
    CHECK(j[0]["warnings"][0] ==
          "QEMU recorded XSTATE_BV 0x0 (TCG does not track it and records 0), but x87|SSE|AVX|PKRU hold values that are not initial: marked in use (XSTATE_BV 0x207)");
    auto t = run_tool("dump " + shell_quote(data_path("qemu/tcg-2cpu.mig")) + " --thread 0");
    REQUIRE(t.status == 0);
    CHECK(t.out.find("context     rax      0x1111111111111111\ncontext     rcx      0x3333333333333333\n") != std::string::npos);
    CHECK(t.out.find("context     rip      0x0000000000100273\n") != std::string::npos);
    CHECK(t.out.find("FSW.TOP is 5") != std::string::npos);
}

TEST_CASE("qemu: diff, check and conversions take a stream", "[qemu]") {
    std::string f = shell_quote(data_path("qemu/tcg-2cpu.mig"));
    auto d = run_tool("diff " + f + " --thread 0 --thread-b 1");
    CHECK(d.status == 1);
    CHECK(d.out.find("pkru") != std::string::npos);
    CHECK(run_tool("diff " + f + " " + f).status == 0);
    auto c = run_tool("check " + f + " --cpuid zen3-milan --for kvm --json");
    INFO(c.err);
    CHECK(c.status == 0);
    auto out = std::filesystem::temp_directory_path() / ("xsavetool-qemu-std-" + std::to_string(::getpid()) + ".bin");
    auto s = run_tool("standard " + f + " --thread 1 --cpuid zen3-milan -o " + shell_quote(out.string()));
    INFO(s.err);
    REQUIRE(s.status == 0);
    auto b = read_bytes(out.string());
    std::filesystem::remove(out);
    REQUIRE(b.size() >= 576);
    CHECK((b[24] | b[25] << 8) == 0x3fa0);   // vCPU 1's MXCSR
    CHECK(b[512] == 0x07);                  // XSTATE_BV x87|SSE|AVX (PKRU at bit 9)
    CHECK(b[513] == 0x02);
}

TEST_CASE("qemu: the description decides field places (cut-down stream of two cpu sections)", "[qemu]") {
    auto s = xsave::read_qemu_stream(read_bytes(data_path("qemu/cpus-only.mig")));
    REQUIRE(s.cpus.size() == 2);
    CHECK(s.cpus[1].mxcsr == 0x3fa0);
    CHECK(s.ram_blocks == std::vector<std::string>{"pc.ram (16 MiB)"});
}

// TCG 7.2 has no AVX-512, so no real stream holds cpu/avx512: a stream built here with the
// names QEMU's description gives those fields checks that lanes and ZMM16-31 land right.
TEST_CASE("qemu: AVX-512 fields placed by their description names", "[qemu]") {
    std::vector<uint8_t> b;
    auto be = [&](uint64_t v, int n) { for (int i = n - 1; i >= 0; --i) b.push_back(uint8_t(v >> (8 * i))); };
    auto str = [&](const std::string& s) { b.push_back(uint8_t(s.size())); b.insert(b.end(), s.begin(), s.end()); };
    b = {'Q', 'E', 'V', 'M'};
    be(3, 4);
    b.push_back(0x04); be(7, 4); str("cpu"); be(0, 4); be(12, 4);
    be(0xe7, 8);                                            // env.xcr0
    auto lanes = [&](unsigned first, unsigned lo, unsigned n) {
        for (unsigned r = 0; r < 16; ++r)
            for (unsigned q = lo; q < lo + n; ++q) be(uint64_t(first + r) << 8 | q, 8);
    };
    lanes(0, 0, 2);                                         // xmm_reg
    b.push_back(0x05); str("cpu/avx512"); be(1, 4);
    for (unsigned k = 0; k < 8; ++k) be(0x100 + k, 8);      // env.opmask_regs
    lanes(0, 4, 4);                                         // zmmh_reg
    lanes(16, 0, 8);                                        // zmm_reg: ZMM16-31
    b.push_back(0x7e); be(7, 4);
    b.push_back(0x00);
    auto m = [](int q) { return "{\"name\": \"_q_ZMMReg[" + std::to_string(q) + "]\", \"type\": \"uint64\", \"size\": 8}"; };
    auto st = [&](const std::string& vmsd, int lo, int n) {
        std::string s = "{\"vmsd_name\": \"" + vmsd + "\", \"version\": 1, \"fields\": [";
        for (int q = lo; q < lo + n; ++q) s += (q > lo ? ", " : "") + m(q);
        return s + "]}";
    };
    std::string desc = "{\"page_size\": 4096, \"devices\": [{\"name\": \"cpu\", \"instance_id\": 0, \"vmsd_name\": \"cpu\", \"version\": 12, \"fields\": ["
                       "{\"name\": \"env.xcr0\", \"type\": \"uint64\", \"size\": 8},"
                       "{\"name\": \"env.xmm_regs[0]\", \"array_len\": 16, \"type\": \"struct\", \"struct\": " + st("xmm_reg", 0, 2) + ", \"size\": 16}],"
                       "\"subsections\": [{\"vmsd_name\": \"cpu/avx512\", \"version\": 1, \"fields\": ["
                       "{\"name\": \"env.opmask_regs\", \"array_len\": 8, \"type\": \"uint64\", \"size\": 8},"
                       "{\"name\": \"env.xmm_regs[1]\", \"array_len\": 16, \"type\": \"struct\", \"struct\": " + st("zmmh_reg", 4, 4) + ", \"size\": 32},"
                       "{\"name\": \"env.xmm_regs[2]\", \"array_len\": 16, \"type\": \"struct\", \"struct\": " + st("zmm_reg", 0, 8) + ", \"size\": 64}]}]}]}";
    b.push_back(0x06);
    be(desc.size(), 4);
    b.insert(b.end(), desc.begin(), desc.end());

    auto s = xsave::read_qemu_stream(b);
    REQUIRE(s.cpus.size() == 1);
    const auto& c = s.cpus[0];
    auto lane = [&](unsigned r, unsigned q) { uint64_t v = 0; std::memcpy(&v, c.zmm[r] + 8 * q, 8); return v; };
    CHECK(lane(3, 1) == (3u << 8 | 1));
    CHECK(lane(3, 2) == 0);                                 // no YMMH in this stream
    CHECK(lane(5, 6) == (5u << 8 | 6));
    CHECK(lane(17, 0) == (17u << 8 | 0));
    CHECK(lane(31, 7) == (31u << 8 | 7));
    CHECK(c.opmask[7] == 0x107);
    xsave::CpuModel cpu(xsave::qemu_default_profile(0xe7));
    const auto& L = cpu.standard(0xe7);
    auto area = xsave::qemu_xsave_area(c, L, 0xe7);
    REQUIRE(area.size() == 0xa80);
    uint64_t v = 0;
    std::memcpy(&v, &area[0x680 + 64 * 1 + 8 * 7], 8);       // Hi16_ZMM: ZMM17 lane 7
    CHECK(v == (17u << 8 | 7));
    std::memcpy(&v, &area[0x480 + 32 * 2 + 8 * 1], 8);       // ZMM_Hi256: ZMM2 lane 5
    CHECK(v == (2u << 8 | 5));
    std::memcpy(&v, &area[0x440 + 8 * 3], 8);                // opmask k3
    CHECK(v == 0x103);
}
