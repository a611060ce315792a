// KVM nested state (kvm_nested_state): tables against the kernel's ABI offsets, decode, JSON,
// the KVM_SET_NESTED_STATE rules (each case cites the kernel function that refuses), diff.
#include "helpers.hpp"
#include "nested_builders.hpp"

#include "xsave/error.hpp"
#include "xsave/nested.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

using namespace xsave::nested;
using nested_test::put;
using nested_test::svm_state;
using nested_test::vmx_state;

namespace {


CheckResult check_vmx(const std::vector<uint8_t>& b, CheckOptions o = {}) {
    o.rules = Rules::Vmx;
    return check_nested_state(parse_nested_state(b), o);
}
CheckResult check_svm(const std::vector<uint8_t>& b, CheckOptions o = {}) {
    o.rules = Rules::Svm;
    return check_nested_state(parse_nested_state(b), o);
}

} // namespace

TEST_CASE("VMCS12 table: the kernel's CHECK_OFFSET values", "[nested]") {
    // arch/x86/kvm/vmx/vmcs12.h vmx_check_vmcs12_offsets()
    std::pair<const char*, unsigned> facts[] = {
        {"abort", 4}, {"launch_state", 8}, {"io_bitmap_a", 40}, {"ept_pointer", 120}, {"vmcs_link_pointer", 176},
        {"pml_address", 312}, {"cr0_guest_host_mask", 344}, {"guest_cr0", 424}, {"guest_rsp", 536}, {"guest_rip", 544},
        {"guest_rflags", 552}, {"host_rip", 672}, {"pin_based_vm_exec_control", 744}, {"vm_entry_intr_info_field", 788},
        {"guest_activity_state", 916}, {"vmx_preemption_timer_value", 928}, {"virtual_processor_id", 960},
        {"host_tr_selector", 994}, {"guest_pml_index", 996}};
    for (auto [name, off] : facts) {
        INFO(name);
        const Field* f = find_field(vmcs12_fields(), name);
        REQUIRE(f);
        CHECK(f->offset == off);
    }
    CHECK(find_field(vmcs12_fields(), "guest_rip")->size == 8);
    CHECK(find_field(vmcs12_fields(), "guest_cs_limit")->size == 4);
    CHECK(find_field(vmcs12_fields(), "guest_cs_selector")->size == 2);
    CHECK(find_field(vmcs12_fields(), "guest_rip")->group == "guest");
    CHECK(find_field(vmcs12_fields(), "host_rip")->group == "host");
    CHECK(find_field(vmcs12_fields(), "vm_exit_reason")->group == "exit-info");
    // 146 CHECK_OFFSET lines (hdr split into its two bit-fields) plus the six CET fields.
    CHECK(vmcs12_fields().size() == 153);
    std::set<std::string_view> names;
    for (const auto& f : vmcs12_fields()) CHECK(names.insert(f.name).second);
}

TEST_CASE("VMCB12 table: struct vmcb offsets", "[nested]") {
    // arch/x86/include/asm/svm.h: the offsets its comments and BUILD_BUG_ON checks fix.
    std::pair<const char*, unsigned> facts[] = {
        {"intercept_word4", 0x10}, {"iopm_base_pa", 0x40}, {"msrpm_base_pa", 0x48}, {"asid", 0x58}, {"int_ctl", 0x60},
        {"exit_code", 0x70}, {"nested_cr3", 0xb0}, {"avic_backing_page", 0xe0}, {"avic_logical_id", 0xf0},
        {"bus_lock_counter", 0x120}, {"allowed_sev_features", 0x138}, {"es.selector", 0x400}, {"cs.base", 0x418},
        {"tr.limit", 0x494}, {"cpl", 0x4cb}, {"efer", 0x4d0}, {"cr4", 0x548}, {"cr0", 0x558}, {"rip", 0x578},
        {"rsp", 0x5d8}, {"rax", 0x5f8}, {"cr2", 0x640}, {"g_pat", 0x668}, {"spec_ctrl", 0x6e0}};
    for (auto [name, off] : facts) {
        INFO(name);
        const Field* f = find_field(vmcb12_fields(), name);
        REQUIRE(f);
        CHECK(f->offset == off);
    }
    CHECK(find_field(vmcb12_fields(), "insn_bytes")->size == 15);
    CHECK(find_field(vmcb12_fields(), "asid")->group == "control");
    CHECK(find_field(vmcb12_fields(), "rip")->group == "save");
}

TEST_CASE("VMX nested state: header, VMCS12 fields, JSON", "[nested]") {
    auto b = vmx_state(0x3);   // GUEST_MODE | RUN_PENDING
    put(b, 32, 0x123456789a, 8);   // preemption_timer_deadline
    put(b, 28, 1, 4);              // KVM_STATE_VMX_PREEMPTION_TIMER_DEADLINE
    put(b, 128 + 20, 0xab, 1);     // inside vmcs12 padding[7]: no field names it
    REQUIRE(looks_like_nested_state(b));
    State s = parse_nested_state(b);
    CHECK(s.vmx());
    CHECK(s.hdr.size == 4224);
    CHECK(s.hdr.vmxon_pa == 0x10000);
    CHECK(s.hdr.vmcs12_pa == 0x11000);
    CHECK(s.vmcs12.size() == 4096);
    CHECK(s.shadow_vmcs12.empty());
    CHECK(flag_names(s.hdr.flags) == std::vector<std::string>{"GUEST_MODE", "RUN_PENDING"});
    CHECK(vmx_flag_names(s.hdr.vmx_flags) == std::vector<std::string>{"PREEMPTION_TIMER_DEADLINE"});
    REQUIRE(s.unnamed.size() == 1);
    CHECK(s.unnamed[0].area == "vmcs12");
    CHECK(s.unnamed[0].offset == 20);

    auto j = to_json(s);
    CHECK(j["kind"] == "kvm_nested_state");
    CHECK(j["format"] == "vmx");
    CHECK(j["flags"] == "0x0003");
    CHECK(j["vmx"]["vmxon_pa"] == "0x0000000000010000");
    CHECK(j["vmx"]["preemption_timer_deadline"] == "0x000000123456789a");
    CHECK(j["vmcs12"]["revision_id"] == "0x11e57ed0");
    CHECK(j["vmcs12"]["shadow_vmcs"] == "0x0");
    CHECK(j["vmcs12"]["guest_rip"] == "0xffffffff81000000");
    CHECK(j["vmcs12"]["guest_rsp"] == "0x000000007fffc000");
    CHECK(j["vmcs12"]["guest_cr0"] == "0x0000000080050033");
    CHECK(j["vmcs12"]["cpu_based_vm_exec_control"] == "0x90000000");
    CHECK(j["vmcs12"]["guest_cs_selector"] == "0x0010");
    CHECK(j["vmcs12"]["vmcs_link_pointer"] == "0xffffffffffffffff");
    CHECK(j["unnamed_bytes"][0]["bytes"] == "ab");
    CHECK(j["trailing_bytes"] == 0);
    CHECK(!j.contains("shadow_vmcs12"));
}

TEST_CASE("SVM nested state: VMCB12 control and save areas", "[nested]") {
    auto b = svm_state();
    REQUIRE(looks_like_nested_state(b));
    State s = parse_nested_state(b);
    CHECK(!s.vmx());
    CHECK(s.hdr.vmcb_pa == 0x20000);
    CHECK(flag_names(s.hdr.flags) == std::vector<std::string>{"GUEST_MODE", "GIF_SET"});
    auto j = to_json(s);
    CHECK(j["format"] == "svm");
    CHECK(j["svm"]["vmcb_pa"] == "0x0000000000020000");
    CHECK(j["vmcb12"]["control"]["asid"] == "0x00000001");
    CHECK(j["vmcb12"]["control"]["intercept_word4"] == "0x00000001");
    CHECK(j["vmcb12"]["control"]["tlb_ctl"] == "0x00");
    CHECK(j["vmcb12"]["control"]["insn_bytes"] == "0x000000000000000000000000000000");
    CHECK(j["vmcb12"]["save"]["efer"] == "0x0000000000001d01");
    CHECK(j["vmcb12"]["save"]["cs.selector"] == "0x0010");
    CHECK(j["vmcb12"]["save"]["cs.attrib"] == "0x029b");
    CHECK(j["vmcb12"]["save"]["rip"] == "0xffffffff81002000");
    CHECK(j["unnamed_bytes"].empty());
}

TEST_CASE("Nested state: header only, trailing bytes, partial data", "[nested]") {
    std::vector<uint8_t> b(200);
    put(b, 4, 128, 4);
    put(b, 8, ~0ull, 8);
    put(b, 16, ~0ull, 8);
    b[150] = 1;
    State s = parse_nested_state(b);
    CHECK(s.vmcs12.empty());
    CHECK(s.trailing == 72);
    CHECK(s.notes == std::vector<std::string>{"72 bytes after size 128 are not part of the state"});

    put(b, 4, 200, 4);   // 72 data bytes: fewer than struct vmcs12
    s = parse_nested_state(b);
    CHECK(s.vmcs12.empty());
    CHECK(s.ignored_data == 72);
}

TEST_CASE("Nested state: structural errors", "[nested]") {
    std::vector<uint8_t> b = vmx_state();
    auto msg = [](std::vector<uint8_t> x) {
        try {
            parse_nested_state(x);
        } catch (const xsave::Error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    CHECK(msg({b.begin(), b.begin() + 100}) == "offset 100: the file ends inside the kvm_nested_state header; expected 128 bytes");
    auto z = b;
    put(z, 4, 0, 4);
    CHECK(msg(z) == "offset 4: size 0 is smaller than the 128-byte kvm_nested_state header");
    auto big = b;
    put(big, 4, 8320, 4);
    CHECK(msg(big) == "offset 4: size 8320 runs past the end of the file (4224 bytes)");
    auto fmt2 = b;
    put(fmt2, 2, 2, 2);
    CHECK(msg(fmt2) == "offset 2: format 2; expected 0 (KVM_STATE_NESTED_FORMAT_VMX) or 1 (KVM_STATE_NESTED_FORMAT_SVM)");
}

TEST_CASE("Nested state detection", "[nested]") {
    CHECK(looks_like_nested_state(vmx_state()));
    CHECK(looks_like_nested_state(svm_state()));
    std::vector<uint8_t> zero(4224);
    CHECK(!looks_like_nested_state(zero));        // size 0: an all-zero XSAVE area, not a nested state
    std::vector<uint8_t> xsave(832);
    put(xsave, 0, 0x37f, 2);                      // FCW
    put(xsave, 24, 0x1f80, 4);                    // MXCSR
    CHECK(!looks_like_nested_state(xsave));
    auto b = vmx_state();
    put(b, 24, 0x1f80, 2);                        // smm.flags where an XSAVE area keeps MXCSR
    CHECK(!looks_like_nested_state(b));
    auto truncated = vmx_state();
    truncated.resize(2000);                       // size says 4224: still recognised, then refused by the reader
    CHECK(looks_like_nested_state(truncated));
}

TEST_CASE("KVM_SET_NESTED_STATE rules: VMX header (x86.c, vmx_set_nested_state)", "[nested][check]") {
    CHECK(check_vmx(vmx_state()).ok());
    CHECK(check_vmx(vmx_state(0x3)).ok());   // RUN_PENDING with GUEST_MODE

    // arch/x86/kvm/x86.c kvm_arch_vcpu_ioctl: "nested_run_pending implies guest_mode"
    CHECK(testing::rules_of(check_vmx(vmx_state(0x2))) == std::vector<std::string>{"run-pending-without-guest-mode"});
    // x86.c: flags outside the five known ones
    CHECK(testing::rules_of(check_vmx(vmx_state(0x41))) == std::vector<std::string>{"flags-unknown"});
    // vmx_set_nested_state: kvm_state->format != KVM_STATE_NESTED_FORMAT_VMX
    CHECK(testing::rules_of(check_svm(vmx_state())) == std::vector<std::string>{"format-not-host"});

    auto b = vmx_state();
    put(b, 8, 0x10010, 8);   // vmxon_pa not page aligned: page_address_valid()
    CHECK(testing::rules_of(check_vmx(b)) == std::vector<std::string>{"vmx-vmxon-pa"});
    b = vmx_state();
    put(b, 8, 1ull << 36, 8);   // beyond a 36-bit MAXPHYADDR
    CheckOptions o;
    o.maxphyaddr = 36;
    CHECK(testing::rules_of(check_vmx(b, o)) == std::vector<std::string>{"vmx-vmxon-pa"});
    CHECK(check_vmx(b).ok());   // the default MAXPHYADDR 52 allows it

    b = vmx_state(0);
    put(b, 8, ~0ull, 8);   // no VMXON but a current VMCS
    CHECK(testing::rules_of(check_vmx(b)) == std::vector<std::string>{"vmx-no-vmxon-vmcs12-pa"});
    put(b, 16, ~0ull, 8);
    CHECK(check_vmx(b).ok());   // no VMXON at all: KVM leaves nested mode and accepts

    b = vmx_state();
    put(b, 16, 0x10000, 8);   // vmcs12_pa == vmxon_pa
    CHECK(testing::rules_of(check_vmx(b)) == std::vector<std::string>{"vmx-vmcs12-pa"});

    b = vmx_state(0);
    put(b, 24, 2, 2);   // SMM_VMXON outside SMM
    CHECK(testing::rules_of(check_vmx(b)) == std::vector<std::string>{"vmx-smm-state"});
    o = {};
    o.in_smm = true;
    CHECK(check_vmx(b, o).ok());
    put(b, 24, 1, 2);   // SMM_GUEST_MODE without SMM_VMXON
    CHECK(testing::rules_of(check_vmx(b, o)) == std::vector<std::string>{"vmx-smm-guest-mode-without-vmxon"});
    // in SMM, GUEST_MODE is impossible (SMM disables VMX)
    CHECK(testing::rules_of(check_vmx(vmx_state(), o)) == std::vector<std::string>{"vmx-smm-state"});

    CHECK(testing::rules_of(check_vmx(vmx_state(0x5))) == std::vector<std::string>{"vmx-evmcs-not-enabled"});
    o = {};
    o.evmcs_enabled = true;
    CHECK(check_vmx(vmx_state(0x5), o).ok());
    o = {};
    o.vmx_in_cpuid = false;
    CHECK(testing::rules_of(check_vmx(vmx_state(), o)) == std::vector<std::string>{"vmx-not-allowed"});

    b = vmx_state();
    put(b, 128, 0x11e57ed1, 4);   // vmcs12->hdr.revision_id != VMCS12_REVISION
    CHECK(testing::rules_of(check_vmx(b)) == std::vector<std::string>{"vmx-revision-id"});

    b = vmx_state();
    b.resize(128);
    put(b, 4, 128, 4);   // GUEST_MODE without room for struct vmcs12
    CHECK(testing::rules_of(check_vmx(b)) == std::vector<std::string>{"vmx-size-for-vmcs12"});
}

TEST_CASE("KVM_SET_NESTED_STATE rules: VMCS12 VM-entry checks (vmx/nested.c)", "[nested][check]") {
    const size_t v = 128;
    auto one = [&](auto edit, const char* rule) {
        auto b = vmx_state();
        edit(b);
        INFO(rule);
        CHECK(testing::rules_of(check_vmx(b)) == std::vector<std::string>{rule});
    };
    // nested_vmx_check_controls -> nested_check_vm_execution_controls
    one([&](auto& b) { put(b, v + 960, 0, 2); }, "vmcs12-vpid");
    one([&](auto& b) { put(b, v + 744, 1u << 5, 4); }, "vmcs12-nmi-controls");
    one([&](auto& b) { put(b, v + 56, 0x12008, 8); }, "vmcs12-msr-bitmap");
    one([&](auto& b) { put(b, v + 120, 0x13018, 8); }, "vmcs12-ept-pointer");   // memory type UC
    one([&](auto& b) { put(b, v + 804, (1u << 5) | (1u << 7), 4); }, "vmcs12-unrestricted-guest");
    one([&](auto& b) { put(b, v + 784, 2, 4), put(b, v + 80, 0x9008, 8); }, "vmcs12-msr-switch");
    // nested_check_vm_entry_controls: a #GP injected without its error code
    one([&](auto& b) { put(b, v + 788, 0x80000000u | (3u << 8) | 13, 4); }, "vmcs12-event-injection");
    // nested_vmx_check_host_state
    one([&](auto& b) { put(b, v + 600, 0x20, 8); }, "vmcs12-host-cr0-cr4");
    one([&](auto& b) { put(b, v + 994, 0, 2); }, "vmcs12-host-selectors");
    one([&](auto& b) { put(b, v + 672, 0x0000800000000000, 8); }, "vmcs12-host-canonical");
    one([&](auto& b) { put(b, v + 600, 0x2000, 8); }, "vmcs12-host-address-space");
    // nested_vmx_check_guest_state
    one([&](auto& b) { put(b, v + 424, 0x80050013, 8); }, "vmcs12-guest-cr0-cr4");   // NE clear
    one([&](auto& b) { put(b, v + 176, 0x5010, 8); }, "vmcs12-link-pointer");
    one([&](auto& b) { put(b, v + 916, 2, 4); }, "vmcs12-guest-activity-state");   // shutdown
    one([&](auto& b) { put(b, v + 780, (1u << 9) | (1u << 14), 4), put(b, v + 192, 0x0007040600070402, 8); }, "vmcs12-guest-pat");

    // The guest EFER is checked only when the VM entry itself is pending (nested_run_pending).
    auto b = vmx_state();
    put(b, v + 780, (1u << 9) | (1u << 15), 4);   // IA-32e guest, load IA32_EFER
    put(b, v + 200, 0x500, 8);                    // LME|LMA, fine
    CHECK(check_vmx(b).ok());
    put(b, v + 200, 0x100, 8);                    // LMA clear in an IA-32e guest
    CHECK(check_vmx(b).ok());
    put(b, 0, 0x3, 2);
    CHECK(testing::rules_of(check_vmx(b)) == std::vector<std::string>{"vmcs12-guest-efer"});

    // Without GUEST_MODE KVM loads the VMCS12 without any VM-entry check.
    b = vmx_state(0);
    put(b, v + 916, 2, 4);
    CHECK(check_vmx(b).ok());
}

TEST_CASE("KVM_SET_NESTED_STATE rules: VMCS shadowing needs the shadow VMCS12", "[nested][check]") {
    auto b = vmx_state();
    put(b, 128 + 804, (1u << 1) | (1u << 5) | (1u << 14), 4);   // + VMCS shadowing
    put(b, 128 + 280, 0x14000, 8);                              // vmread_bitmap
    put(b, 128 + 288, 0x15000, 8);                              // vmwrite_bitmap
    put(b, 128 + 176, 0x16000, 8);                              // vmcs_link_pointer
    CHECK(testing::rules_of(check_vmx(b)) == std::vector<std::string>{"vmx-size-for-shadow-vmcs12"});
    b.resize(128 + 8192);
    put(b, 4, 128 + 8192, 4);
    put(b, 128 + 4096, 0x11e57ed0, 4);   // shadow revision_id, shadow_vmcs bit clear
    CHECK(testing::rules_of(check_vmx(b)) == std::vector<std::string>{"vmx-shadow-revision-id"});
    put(b, 128 + 4096, 0x91e57ed0, 4);
    CHECK(check_vmx(b).ok());
    State s = parse_nested_state(b);
    CHECK(to_json(s)["shadow_vmcs12"]["shadow_vmcs"] == "0x1");
}

TEST_CASE("KVM_SET_NESTED_STATE rules: SVM (svm/nested.c)", "[nested][check]") {
    CHECK(check_svm(svm_state()).ok());
    CHECK(check_svm(svm_state(0x100)).ok());   // GIF set, not in guest mode
    // vmx_set_nested_state refuses format 1
    CHECK(testing::rules_of(check_vmx(svm_state())) == std::vector<std::string>{"format-not-host"});
    // svm_set_nested_state: EVMCS is a VMX flag
    CHECK(testing::rules_of(check_svm(svm_state(0x105))) == std::vector<std::string>{"svm-flags-unknown"});
    CheckOptions o;
    o.in_smm = true;
    CHECK(testing::rules_of(check_svm(svm_state(), o)) == std::vector<std::string>{"svm-smm-guest-mode"});
    o = {};
    o.svme = false;
    CHECK(testing::rules_of(check_svm(svm_state(), o)) == std::vector<std::string>{"svm-svme-off"});
    CHECK(check_svm(svm_state(0x100), o).ok());

    const size_t c = 128, s = 128 + 0x400;
    auto one = [&](auto edit, const char* rule) {
        auto b = svm_state();
        edit(b);
        INFO(rule);
        CHECK(testing::rules_of(check_svm(b)) == std::vector<std::string>{rule});
    };
    one([&](auto& b) { put(b, 8, 0x20800, 8); }, "svm-vmcb-pa");
    // __nested_vmcb_check_controls
    one([&](auto& b) { put(b, c + 0x10, 0, 4); }, "vmcb12-intercept-vmrun");
    one([&](auto& b) { put(b, c + 0x58, 0, 4); }, "vmcb12-asid");
    one([&](auto& b) { put(b, c + 0x48, 0xffffffffffffe000, 8); }, "vmcb12-msrpm-pa");
    one([&](auto& b) { put(b, c + 0x60, 1u << 26, 4), put(b, c + 0x0c, 0, 4); }, "vmcb12-vnmi");
    // svm_set_nested_state / __nested_vmcb_check_save on L1's save area
    one([&](auto& b) { put(b, s + 0x158, 0x00050033, 8); }, "svm-l1-cr0-pe-pg");
    one([&](auto& b) { put(b, s + 0x170, 0x20002, 8); }, "svm-l1-rflags-vm");
    one([&](auto& b) { put(b, s + 0xd0, 0xd01, 8); }, "svm-l1-efer-svme");
    one([&](auto& b) { put(b, s + 0x160, 1ull << 32 | 0x400, 8); }, "svm-l1-dr6-dr7");
    one([&](auto& b) { put(b, s + 0x148, 0, 8); }, "svm-l1-long-mode");

    o = {};
    o.npt_enabled = false;
    CHECK(testing::rules_of(check_svm(svm_state(), o)) == std::vector<std::string>{"vmcb12-npt"});

    auto b = svm_state();
    b.resize(128);
    put(b, 4, 128, 4);
    CHECK(testing::rules_of(check_svm(b)) == std::vector<std::string>{"svm-size-for-vmcb12"});
}

TEST_CASE("Nested rules table: every rule names its kernel function", "[nested][check]") {
    std::set<std::string_view> names;
    for (const auto& r : all_rules()) {
        CHECK(names.insert(r.name).second);
        CHECK(r.where.starts_with("arch/x86/kvm/"));
        CHECK(!r.summary.empty());
    }
    CHECK(all_rules().size() >= 50);
    CHECK(!unchecked_rules().empty());
}

TEST_CASE("Nested diff by field name", "[nested][diff]") {
    auto a = parse_nested_state(vmx_state());
    CHECK(diff_states(a, a).equal());
    auto bb = vmx_state(0x3);
    put(bb, 128 + 544, 0xffffffff81000010, 8);
    auto r = diff_states(a, parse_nested_state(bb));
    REQUIRE(r.differences.size() == 2);
    CHECK(r.differences[0].kind == "header");
    CHECK(r.differences[0].name == "flags");
    CHECK(r.differences[0].detail == "GUEST_MODE vs GUEST_MODE|RUN_PENDING");
    CHECK(r.differences[1].kind == "field");
    CHECK(r.differences[1].name == "vmcs12.guest_rip");
    CHECK(r.differences[1].a == "0xffffffff81000000");
    CHECK(r.differences[1].b == "0xffffffff81000010");
    CHECK(r.differences[1].bytes == std::vector<unsigned>{0});

    auto s1 = parse_nested_state(svm_state());
    auto sb = svm_state();
    put(sb, 128 + 0x400 + 0x178, 0xffffffff81002004, 8);
    r = diff_states(s1, parse_nested_state(sb));
    REQUIRE(r.differences.size() == 1);
    CHECK(r.differences[0].name == "vmcb12.save.rip");

    r = diff_states(a, s1);
    REQUIRE(!r.differences.empty());
    CHECK(r.differences[0].name == "format");
    CHECK(r.differences[0].detail == "VMX vs SVM");
}
