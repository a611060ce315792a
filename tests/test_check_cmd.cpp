// `xsavetool check`: the real binary, its exit codes, text and JSON.
#include "helpers.hpp"

#include "xsave/cpu_ops.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using testing::data_path;
using testing::run_tool;
using testing::shell_quote;

namespace {

std::string whpx_cleared() { return shell_quote(data_path("check/whpx-832-xcomp-cleared.bin")); }

} // namespace

TEST_CASE("check: the WHPX seed buffer passes --for whpx", "[check][cli]") {
    auto r = run_tool("check " + testing::whpx_arg() + " --for whpx" + testing::epyc_check_profile_arg());
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(r.out.find("whpx-832.bin: accepted by whpx (compacted form, XSTATE_BV 0x3, XCOMP_BV 0x8000000000000007, MXCSR_MASK 0x2ffff)") !=
          std::string::npos);
    CHECK(r.err.empty());
}

TEST_CASE("check: the WHPX buffer with XCOMP_BV cleared fails the compacted-form rule", "[check][cli]") {
    auto r = run_tool("check " + whpx_cleared() + " --for whpx" + testing::epyc_check_profile_arg());
    CHECK(r.status == 1);
    CHECK(r.out.find("rejected by whpx (standard form") != std::string::npos);
    CHECK(r.out.find("  compacted-form: XCOMP_BV 0x0 has bit 63 clear (standard form): whpx takes only the compacted form") !=
          std::string::npos);

    r = run_tool("check " + whpx_cleared() + " --for whpx --json" + testing::epyc_check_profile_arg());
    CHECK(r.status == 1);
    auto j = nlohmann::json::parse(r.out);
    CHECK(j["ok"] == false);
    CHECK(j["target"] == "whpx");
    REQUIRE(j["violations"].size() == 1);
    CHECK(j["violations"][0]["rule"] == "compacted-form");
    CHECK(j["violations"][0]["message"].get<std::string>().find("XCOMP_BV 0x0") != std::string::npos);
    CHECK(j["form"] == "standard");
}

TEST_CASE("check: JSON for an accepted buffer; 64-bit masks as strings", "[check][cli]") {
    auto r = run_tool("check " + testing::whpx_arg() + " --json" + testing::epyc_check_profile_arg());
    REQUIRE(r.status == 0);
    auto j = nlohmann::json::parse(r.out);
    CHECK(j["ok"] == true);
    CHECK(j["target"] == "xrstor");
    CHECK(j["violations"].is_array());
    CHECK(j["violations"].empty());
    CHECK(j["xcomp_bv"] == "0x8000000000000007");
    CHECK(j["xstate_bv"] == "0x3");
    CHECK(!j.contains("on_cpu"));
}

TEST_CASE("check: mshv compares XCOMP_BV with the guest's XCR0", "[check][cli]") {
    auto r = run_tool("check " + testing::whpx_arg() + " --for mshv" + testing::epyc_check_profile_arg());
    CHECK(r.status == 1);
    CHECK(r.out.find("xcomp-bv-mshv: XCOMP_BV[62:0] 0x7 must equal") != std::string::npos);
    r = run_tool("check " + testing::whpx_arg() + " --for mshv --guest-xcr0 'x87|sse|avx'" + testing::epyc_check_profile_arg());
    CHECK(r.status == 0);
    r = run_tool("check " + testing::whpx_arg() + " --for whpx --guest-xcr0 7" + testing::epyc_check_profile_arg());
    CHECK(r.status == 2);
    CHECK(r.err.find("--guest-xcr0 applies to --for mshv only") != std::string::npos);
}

TEST_CASE("check: --xcr0 and kvm", "[check][cli]") {
    // 832 bytes: KVM_SET_XSAVE would read 4096 (tests/test_check_kvm_xfd.cpp has the rest).
    auto r = run_tool("check " + whpx_cleared() + " --for kvm" + testing::epyc_check_profile_arg());
    CHECK(r.status == 1);
    CHECK(r.out.find("  kvm-xsave-size: 832 bytes, but KVM_SET_XSAVE copies 4096") != std::string::npos);
    r = run_tool("check " + testing::whpx_arg() + " --for kvm" + testing::epyc_check_profile_arg());
    CHECK(r.status == 1);
    CHECK(r.out.find("standard-form:") != std::string::npos);
    r = run_tool("check " + testing::whpx_arg() + " --xcr0 3" + testing::epyc_check_profile_arg());
    CHECK(r.status == 1);
    CHECK(r.out.find("xcomp-bv-in-xcr0: XCOMP_BV[62:0] 0x7 sets 0x4 (AVX) outside XCR0 0x3") != std::string::npos);
}

TEST_CASE("check: a short buffer is rejected, not trouble", "[check][cli]") {
    auto tmp = std::filesystem::temp_directory_path() / ("xsavetool-check-short-" + std::to_string(::getpid()));
    testing::write_bytes(tmp.string(), std::vector<uint8_t>(100, 0));
    auto r = run_tool("check -" + testing::epyc_check_profile_arg(), tmp.string());
    std::filesystem::remove(tmp);
    CHECK(r.status == 1);
    CHECK(r.out.find("-: rejected by xrstor") != std::string::npos);
    CHECK(r.out.find("area-size: 100 bytes: an XSAVE area needs at least 576") != std::string::npos);
}

TEST_CASE("check: trouble exits 2", "[check][cli]") {
    auto r = run_tool("check " + testing::whpx_arg() + " --for hyperv" + testing::epyc_check_profile_arg());
    CHECK(r.status == 2);
    CHECK(r.err.find("--for: 'hyperv': expected xrstor, xrstors, kvm, whpx or mshv") != std::string::npos);
    r = run_tool("check /nonexistent/area.bin" + testing::epyc_check_profile_arg());
    CHECK(r.status == 2);
    CHECK(r.err.find("/nonexistent/area.bin: cannot open") != std::string::npos);
    r = run_tool("check " + testing::whpx_arg() + " --cpuid /nonexistent/profile.json");
    CHECK(r.status == 2);
    r = run_tool("check " + testing::whpx_arg() + " --on-cpu" + testing::epyc_check_profile_arg());
    CHECK(r.status == 2);
    CHECK(r.err.find("--on-cpu runs XRSTOR on this machine: use it with --cpuid host") != std::string::npos);
    r = run_tool("check " + testing::whpx_arg() + " --on-cpu --for whpx --cpuid host");
    CHECK(r.status == 2);
    CHECK(r.err.find("use it with --for xrstor") != std::string::npos);
    r = run_tool("check");
    CHECK(r.status == 2);
}

TEST_CASE("check --on-cpu: the CPU's verdict next to the prediction", "[check][cli][hw]") {
    if (!xsave::hw::usable()) SKIP_TEST("this CPU (or its OS) does not offer XSAVE");
    if (!xsave::hw::features().xsavec) SKIP_TEST("this CPU has no XSAVEC: the compacted WHPX buffer would not restore");
    auto r = run_tool("check " + testing::whpx_arg() + " --on-cpu --cpuid host");
    INFO(r.out << r.err);
    CHECK(r.status == 0);
    CHECK(r.out.find("on this CPU: XRSTOR accepted; predicted accepted: they agree") != std::string::npos);

    // Header byte 40 set: the compacted form rejects it, and so does the CPU.
    auto bytes = testing::read_bytes(data_path("whpx-832.bin"));
    bytes[512 + 40] = 1;
    auto tmp = std::filesystem::temp_directory_path() / ("xsavetool-check-oncpu-" + std::to_string(::getpid()));
    testing::write_bytes(tmp.string(), bytes);
    r = run_tool("check " + shell_quote(tmp.string()) + " --on-cpu --json");
    std::filesystem::remove(tmp);
    CHECK(r.status == 1);
    auto j = nlohmann::json::parse(r.out);
    CHECK(j["ok"] == false);
    CHECK(j["violations"][0]["rule"] == "header-reserved");
    CHECK(j["on_cpu"]["accepted"] == false);
    CHECK(j["on_cpu"]["detail"] == "faulted (SIGSEGV: #GP)");
    CHECK(j["on_cpu"]["agrees"] == true);
}

TEST_CASE("check reads pasted hex and every thread of a core") {
    std::string p = " --cpuid " + testing::shell_quote(testing::data_path("profiles/host-epyc.json"));
    auto mail = testing::run_tool("check --for whpx " + testing::shell_quote(testing::data_path("whpx-832-mail.txt")) + p);
    CHECK(mail.status == 0);
    CHECK(mail.out.find("input: hex text (plain), lines 3..3, 832 bytes; 2 other lines ignored\n") == 0);
    auto core = testing::run_tool("check --json " + testing::shell_quote(testing::data_path("core-avx512.core")) + p);
    CHECK(core.status == 0);
    auto j = nlohmann::json::parse(core.out);
    REQUIRE(j.size() == 2);
    CHECK(j[0]["ok"] == true);
    CHECK(j[0]["tid"].is_number());
    CHECK(j[1]["xstate_bv"] == "0xe6");
}
