// QEMU's cpu/nested_state decoded through the nested-state support, and the vCPU headings.
// QEMU saves cpu/nested_state only from KVM_GET_NESTED_STATE (never under TCG) and KVM cannot
// run here: test-data/qemu/nested-vmx.mig is the real stream's two cpu sections with that
// subsection built by hand (tests/tools/make_qemu_samples.py, as QEMU 7.2's
// target/i386/machine.c lays it out) from test-data/nested/vmx-l2.bin on vCPU 1.
#include "helpers.hpp"

#include "xsave/qemu.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace testing;

namespace {
std::string stream() { return shell_quote(data_path("qemu/nested-vmx.mig")); }
std::string blob() { return shell_quote(data_path("nested/vmx-l2.bin")); }
} // namespace

TEST_CASE("qemu nested: cpu/nested_state rebuilds the kvm_nested_state byte for byte", "[qemu][nested]") {
    auto s = xsave::read_qemu_stream(read_bytes(data_path("qemu/nested-vmx.mig")));
    REQUIRE(s.cpus.size() == 2);
    CHECK(s.cpus[0].nested_state.empty());
    CHECK(s.cpus[1].has_nested_state);
    CHECK(s.cpus[1].nested_state == read_bytes(data_path("nested/vmx-l2.bin")));
    CHECK(std::find(s.cpus[1].subsections.begin(), s.cpus[1].subsections.end(), "cpu/kvm_nested_state/vmx/vmcs12") !=
          s.cpus[1].subsections.end());
    CHECK(s.cpus[1].mxcsr == 0x3fa0);   // the fields before it are where they were
}

TEST_CASE("qemu nested: dump shows the vCPU's nested state as dump of the blob does", "[qemu][nested][cli]") {
    auto r = run_tool("dump " + stream() + " --thread 1");
    INFO(r.err);
    REQUIRE(r.status == 0);
    auto b = run_tool("dump " + blob());
    REQUIRE(b.status == 0);
    // The blob's dump after its input line is the stream's dump after the nested heading.
    std::string body = b.out.substr(b.out.find('\n') + 1);
    std::string head = "\ninput       " + data_path("qemu/nested-vmx.mig") + " vCPU 1 nested_state: kvm_nested_state, VMX format, 4224 bytes\n";
    auto at = r.out.find(head);
    REQUIRE(at != std::string::npos);
    CHECK(r.out.substr(at + head.size()) == body);
    CHECK(r.out.find("input       vCPU 1: cpu/nested_state (offset 4061) rebuilt into struct kvm_nested_state, 4224 bytes\n") != std::string::npos);
    CHECK(r.out.find("input       cpu/nested_state: the stream does not hold the VMX header's flags and preemption_timer_deadline (QEMU does not save them): 0, as QEMU passes them to KVM_SET_NESTED_STATE\n") !=
          std::string::npos);

    auto v0 = run_tool("dump " + stream() + " --thread 0");
    REQUIRE(v0.status == 0);
    CHECK(v0.out.find("kvm_nested_state") == std::string::npos);

    auto j = nlohmann::json::parse(run_tool("dump --json " + stream()).out);
    REQUIRE(j.size() == 2);
    CHECK_FALSE(j[0].contains("nested_state"));
    auto want = nlohmann::json::parse(run_tool("dump --json " + blob()).out);
    want.erase("input");
    CHECK(j[1]["nested_state"] == want);
    CHECK(j[1]["nested_state"]["vmcs12"]["guest_rip"] == "0xffffffff81000000");
}

TEST_CASE("qemu nested: check --for kvm validates the vCPU's nested state", "[qemu][nested][cli]") {
    auto r = run_tool("check " + stream() + " --thread 1 --for kvm --cpuid sapphire-rapids");
    INFO(r.out + r.err);
    CHECK(r.status == 0);
    CHECK(r.out.find(data_path("qemu/nested-vmx.mig") + " vCPU 1: accepted") != std::string::npos);
    // The nested checks' options reach it: a vCPU without VMX in CPUID cannot be in VMX operation.
    auto no = run_tool("check " + stream() + " --thread 1 --for kvm --cpuid sapphire-rapids --no-vmx --json");
    CHECK(no.status == 1);
    auto j = nlohmann::json::parse(no.out);
    REQUIRE(j.is_array());
    CHECK(j[0]["tid"] == 1);
    CHECK(j[0]["ok"] == false);
    REQUIRE(j[0]["violations"].size() == 1);
    CHECK(j[0]["violations"][0]["rule"] == "vmx-not-allowed");
    CHECK(j[0]["violations"][0]["message"].get<std::string>().rfind("nested_state: ", 0) == 0);
    // Other targets do not restore nested state: only the XSAVE area is checked.
    auto x = run_tool("check " + stream() + " --thread 1 --for xrstor --cpuid sapphire-rapids");
    CHECK(x.status == 0);
    CHECK(x.out.find(data_path("qemu/nested-vmx.mig") + " vCPU 1: accepted by xrstor") != std::string::npos);
}

TEST_CASE("qemu: headings say vCPU for VM snapshots, thread for cores", "[qemu][cli]") {
    auto d = run_tool("dump " + shell_quote(data_path("qemu/tcg-2cpu.mig")));
    REQUIRE(d.status == 0);
    CHECK(d.out.starts_with("=== vCPU 0 (1 of 2)\n"));
    CHECK(d.out.find("\n=== vCPU 1 (2 of 2)\n") != std::string::npos);
    auto h = run_tool("hexdump " + shell_quote(data_path("qemu/tcg-2cpu.mig")) + " --color never");
    REQUIRE(h.status == 0);
    CHECK(h.out.starts_with("=== vCPU 0 (1 of 2)\n"));
    CHECK(h.out.find("\n=== vCPU 1 (2 of 2)\n") != std::string::npos);
    CHECK(h.out.find("=== thread") == std::string::npos);
    auto none = run_tool("dump " + shell_quote(data_path("qemu/tcg-2cpu.mig")) + " --thread 7");
    CHECK(none.status == 2);
    CHECK(none.err == "xsavetool: " + data_path("qemu/tcg-2cpu.mig") + ": no vCPU 7 in the qemu (it has 2 vCPUs)\n");
    auto core = run_tool("hexdump " + shell_quote(data_path("core-avx512.core")) + " --color never");
    REQUIRE(core.status == 0);
    CHECK(core.out.starts_with("=== thread "));
}

TEST_CASE("qemu nested: diff compares the vCPUs' nested states", "[qemu][nested][cli]") {
    auto d = run_tool("diff " + stream() + " " + shell_quote(data_path("qemu/tcg-2cpu.mig")) + " --thread 1");
    CHECK(d.status == 1);
    CHECK(d.out.find("same registers, same header\nnested state: 1 difference\n"
                     "  area       nested_state                         present vs -  (a kvm_nested_state in one vCPU only)\n") !=
          std::string::npos);
    auto same = run_tool("diff " + stream() + " " + stream() + " --thread 1 --json");
    CHECK(same.status == 0);
    auto j = nlohmann::json::parse(same.out);
    CHECK(j["pairs"][0]["nested_state"]["equal"] == true);
}
