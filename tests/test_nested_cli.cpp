// dump, check and diff of KVM nested states through the real binary. The samples in
// test-data/nested are written by tests/tools/make_nested_data.py with the same layout as
// nested_builders.hpp; expected verdicts cite the kernel function that refuses.
#include "helpers.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using testing::data_path;
using testing::run_tool;
using testing::shell_quote;

namespace {
std::string sample(const char* name) { return shell_quote(data_path(std::string("nested/") + name)); }
} // namespace

TEST_CASE("dump of a VMX nested state: header and VMCS12 by field", "[nested][cli]") {
    auto r = run_tool("dump " + sample("vmx-l2.bin"));
    REQUIRE(r.status == 0);
    CHECK(r.err.empty());
    CHECK(r.out.find("flags       0x0001 GUEST_MODE\n") != std::string::npos);
    CHECK(r.out.find("vmxon_pa    0x0000000000010000\n") != std::string::npos);
    CHECK(r.out.find("vmcs12 (4096 bytes)\n") != std::string::npos);
    CHECK(r.out.find("    revision_id                      0x11e57ed0\n") != std::string::npos);
    CHECK(r.out.find("    guest_rip                        0xffffffff81000000\n") != std::string::npos);
    CHECK(r.out.find("    host_tr_selector                 0x0040\n") != std::string::npos);

    r = run_tool("dump --json " + sample("vmx-l2.bin"));
    REQUIRE(r.status == 0);
    auto j = nlohmann::json::parse(r.out);
    CHECK(j["kind"] == "kvm_nested_state");
    CHECK(j["format"] == "vmx");
    CHECK(j["flag_names"] == nlohmann::json::array({"GUEST_MODE"}));
    CHECK(j["vmx"]["vmcs12_pa"] == "0x0000000000011000");
    CHECK(j["vmcs12"]["guest_cr4"] == "0x0000000000002020");
    CHECK(j["vmcs12"].size() == 153);
    CHECK(j["input"]["kind"] == "nested");
}

TEST_CASE("dump of an SVM nested state: VMCB12 control and save", "[nested][cli]") {
    auto r = run_tool("dump " + sample("svm-l2.bin"));
    REQUIRE(r.status == 0);
    CHECK(r.out.find("flags       0x0101 GUEST_MODE GIF_SET\n") != std::string::npos);
    CHECK(r.out.find("vmcb_pa     0x0000000000020000\n") != std::string::npos);
    CHECK(r.out.find("    asid                             0x00000001\n") != std::string::npos);
    CHECK(r.out.find("    efer                             0x0000000000001d01\n") != std::string::npos);
    auto j = nlohmann::json::parse(run_tool("dump --json " + sample("svm-l2.bin")).out);
    CHECK(j["vmcb12"]["save"]["cr0"] == "0x0000000080050033");
    CHECK(j["vmcb12"]["control"]["msrpm_base_pa"] == "0x0000000000040000");
}

TEST_CASE("check --for kvm of nested states: verdicts and exit codes", "[nested][cli]") {
    // Intel host: vmx_set_nested_state's rules.
    auto r = run_tool("check " + sample("vmx-l2.bin") + " --for kvm --cpuid sapphire-rapids");
    CHECK(r.status == 0);
    CHECK(r.out.find(": accepted by KVM_SET_NESTED_STATE (VMX rules; VMX format, flags 0x0001 GUEST_MODE)") != std::string::npos);
    CHECK(r.out.find("assuming the vCPU is not in SMM") != std::string::npos);

    // nested_check_vm_execution_controls: VPID 0; nested_check_guest_non_reg_state: activity state 2.
    r = run_tool("check " + sample("vmx-l2-refused.bin") + " --for kvm --cpuid sapphire-rapids --json");
    CHECK(r.status == 1);
    auto j = nlohmann::json::parse(r.out);
    CHECK(j["ok"] == false);
    CHECK(j["rules"] == "vmx");
    REQUIRE(j["violations"].size() == 2);
    CHECK(j["violations"][0]["rule"] == "vmcs12-vpid");
    CHECK(j["violations"][0]["kernel"] == "arch/x86/kvm/vmx/nested.c nested_vmx_check_controls");
    CHECK(j["violations"][1]["rule"] == "vmcs12-guest-activity-state");

    // AMD host: svm_set_nested_state; __nested_vmcb_check_controls refuses ASID 0.
    CHECK(run_tool("check " + sample("svm-l2.bin") + " --for kvm --cpuid zen4-genoa").status == 0);
    r = run_tool("check " + sample("svm-l2-asid0.bin") + " --for kvm --cpuid zen4-genoa");
    CHECK(r.status == 1);
    CHECK(r.out.find("  vmcb12-asid: asid is 0\n") != std::string::npos);
    // A VMX state on an AMD host: vmx_set_nested_state is not even called, svm_set_nested_state refuses format 0.
    r = run_tool("check " + sample("vmx-l2.bin") + " --for kvm --cpuid zen4-genoa");
    CHECK(r.status == 1);
    CHECK(r.out.find("format-not-host") != std::string::npos);
    // Assumptions have options: in SMM, GUEST_MODE is refused (vmx_set_nested_state, is_smm()).
    r = run_tool("check " + sample("vmx-l2.bin") + " --for kvm --cpuid sapphire-rapids --in-smm");
    CHECK(r.status == 1);
    CHECK(r.out.find("vmx-smm-state") != std::string::npos);

    r = run_tool("check " + sample("vmx-l2.bin") + " --for whpx --cpuid sapphire-rapids");
    CHECK(r.status == 2);
    CHECK(r.out.empty());
    CHECK(r.err.find("use --for kvm, not --for whpx") != std::string::npos);
}

TEST_CASE("diff of nested states by field name", "[nested][cli]") {
    auto r = run_tool("diff " + sample("vmx-l2.bin") + " " + sample("vmx-l2-pending.bin"));
    CHECK(r.status == 1);
    CHECK(r.out.find("header     flags") != std::string::npos);
    CHECK(r.out.find("(GUEST_MODE vs GUEST_MODE|RUN_PENDING)") != std::string::npos);
    CHECK(r.out.find("field      vmcs12.guest_rip                     0xffffffff81000000 vs 0xffffffff81000003\n") != std::string::npos);
    CHECK(r.out.find("2 differences\n") != std::string::npos);
    CHECK(run_tool("diff " + sample("svm-l2.bin") + " " + sample("svm-l2.bin")).status == 0);
    r = run_tool("diff --json " + sample("svm-l2.bin") + " " + sample("svm-l2-asid0.bin"));
    CHECK(r.status == 1);
    auto j = nlohmann::json::parse(r.out);
    CHECK(j["equal"] == false);
    CHECK(j["differences"][0]["name"] == "vmcb12.control.asid");
    r = run_tool("diff " + sample("vmx-l2.bin") + " " + shell_quote(data_path("whpx-832.bin")));
    CHECK(r.status == 2);
    CHECK(r.err.find("a KVM nested state, but " + data_path("whpx-832.bin") + " is not one") != std::string::npos);
}
