// QEMU migration streams: real 2-vCPU TCG streams against QEMU's own `info registers -a`.
#include "helpers.hpp"

#include "xsave/error.hpp"
#include "xsave/qemu.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdlib>
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
        CHECK(a["vcpu"] == int(c));
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
    std::string script = std::string(XSAVE_TEST_DATA) + "/../tests/tools/qemu_stream.py";
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
    CHECK(j[0]["vcpu"] == 1);
    CHECK(j[0]["context"]["recorded_xstate_bv"] == "0x0000000000000000");
    CHECK(j[0]["xstate_bv"] == "0x207");
    CHECK(j[0]["registers"]["pkru"] == "0x0000000c");
    CHECK(j[0]["warnings"][0] ==
          "QEMU recorded XSTATE_BV 0x0 (TCG does not track it and records 0), but x87|SSE|AVX|PKRU hold values that are not initial: marked in use (XSTATE_BV 0x207)");
    auto t = run_tool("dump " + shell_quote(data_path("qemu/tcg-2cpu.mig")) + " --thread 0");
    REQUIRE(t.status == 0);
    CHECK(t.out.find("context     rax=0x1111111111111111 rcx=0x3333333333333333") != std::string::npos);
    CHECK(t.out.find("rip=0x0000000000100273") != std::string::npos);
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
