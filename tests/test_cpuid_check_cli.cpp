// `xsavetool cpuid ...` end to end: exit codes, output files, messages.
#include "helpers.hpp"

#include "xsave/import.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <nlohmann/json.hpp>

using testing::run_tool;
using testing::shell_quote;

TEST_CASE("cli: cpuid check on the TDX guest reports 10704 vs 10752 and exits 1") {
    if (!testing::have_shared()) SKIP_TEST("needs ../shared/corpus");
    std::string f = shell_quote(testing::shared_path("corpus/dmesg/tdx-guest-leaf0d.txt"));
    auto r = run_tool("cpuid check " + f + " --xcr0 0x600e7 --xss 0x1800");
    CHECK(r.status == 1);
    CHECK(r.out.find("inconsistent [xsaves-size] CPUID.(0xD,1).EBX = 10704, but the compacted size of XCR0|IA32_XSS 0x618e7 "
                     "(x87|SSE|AVX|AVX-512 opmask|ZMM_Hi256|Hi16_ZMM|CET_U|CET_S|AMX TILECFG|AMX TILEDATA) is 10752\n") !=
          std::string::npos);
    CHECK(r.out.find(": inconsistent (1 finding)\n") != std::string::npos);
    CHECK(r.err == "xsavetool: warning: " + testing::shared_path("corpus/dmesg/tdx-guest-leaf0d.txt") +
                       ": dmesg: the kernel prints only leaf 0xd: no vendor, feature flags or enabled XCR0/IA32_XSS\n");

    auto j = run_tool("cpuid check " + f + " --xcr0 'x87|sse|avx|avx512|amx' --xss cet_u,cet_s --json");
    CHECK(j.status == 1);
    auto doc = nlohmann::json::parse(j.out);
    CHECK(doc["consistent"] == false);
    REQUIRE(doc["findings"].size() == 1);
    CHECK(doc["findings"][0]["rule"] == "xsaves-size");
    CHECK(doc["findings"][0]["inconsistent"] == true);
}

TEST_CASE("cli: cpuid check exit codes for consistent profiles and trouble") {
    auto ok = run_tool("cpuid check sapphire-rapids");
    CHECK(ok.status == 0);
    CHECK(ok.out.find("sapphire-rapids: consistent\n") != std::string::npos);
    CHECK(run_tool("cpuid check host").status == 0);
    auto missing = run_tool("cpuid check /nonexistent.json");
    CHECK(missing.status == 2);
    CHECK(missing.err == "xsavetool: /nonexistent.json: No such file or directory\n");
    auto badmask = run_tool("cpuid check zen2 --xcr0 bogus");
    CHECK(badmask.status == 2);
}

TEST_CASE("cli: cpuid import writes our JSON atomically, --cpu and --minimal") {
    if (!testing::have_shared()) SKIP_TEST("needs ../shared/corpus");
    auto dir = std::filesystem::temp_directory_path() / ("xsave-cpuid-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::string out = (dir / "spr.json").string();
    std::string in = shell_quote(testing::shared_path("corpus/cpuid-aida64/GenuineIntel00806F8_SapphireRapids_05_CPUID.txt"));
    auto r = run_tool("cpuid import " + in + " --cpu 3 --minimal -o " + shell_quote(out));
    CHECK(r.status == 0);
    CHECK(r.out.empty());
    xsave::Profile p = xsave::resolve_profile(out);
    CHECK(p.name == "Intel(R) Xeon(R) w7-2475X");
    CHECK(p.find(1)->ebx == 0x03800800);   // logical CPU #3's APIC ID
    CHECK(p.find(4) == nullptr);            // minimal
    CHECK(p.find(0xD, 0x12) != nullptr);
    // Round trip: importing our own JSON gives the same text.
    auto again = run_tool("cpuid import " + shell_quote(out));
    CHECK(again.out == testing::read_text(out));
    std::filesystem::remove_all(dir);

    auto bad = run_tool("cpuid import " + shell_quote(testing::data_path("profiles/host-epyc.cpuid-r.txt")) + " --cpu 9");
    CHECK(bad.status == 2);
    CHECK(bad.err.find("cpuid -r: no CPU 9 in the output (2 CPU blocks)\n") != std::string::npos);
}

TEST_CASE("cli: cpuid list and show") {
    auto l = run_tool("cpuid list");
    CHECK(l.status == 0);
    CHECK(std::count(l.out.begin(), l.out.end(), '\n') == long(xsave::builtin_profiles().size()));
    CHECK(l.out.find("bulldozer-interlagos") != std::string::npos);
    auto s = run_tool("cpuid show sapphire-rapids");
    CHECK(s.status == 0);
    CHECK(s.out.find("cpu:       family 0x6 model 0x8f stepping 8\n") != std::string::npos);
    CHECK(s.out.find("features:  +XSAVEOPT +XSAVEC +XGETBV1 +XSAVES +XFD\n") != std::string::npos);
    CHECK(s.out.find("IA32_XSS supported: 0xdd00 (PT|PASID|CET_U|CET_S|UINTR|LBR)\n") != std::string::npos);
    CHECK(s.out.find(" 18  AMX TILEDATA      8192     2816       3584  64    yes user\n") != std::string::npos);
    auto c = run_tool("cpuid capture");
    CHECK(c.status == 0);
    CHECK(c.out.find("\"name\": \"host: ") != std::string::npos);
}
