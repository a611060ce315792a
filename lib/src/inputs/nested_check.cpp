// Would KVM_SET_NESTED_STATE accept this state? The checks KVM makes before it touches the
// vCPU, in its order: arch/x86/kvm/x86.c (common), vmx/nested.c vmx_set_nested_state and the
// VM-entry checks it calls, svm/nested.c svm_set_nested_state. KVM stops at the first; we list
// every rule broken at each stage, and stop where KVM accepts early.
#include "xsave/nested.hpp"

#include <fmt/core.h>

#include <stdexcept>

namespace xsave::nested {
namespace {

constexpr std::string_view kX86 = "arch/x86/kvm/x86.c kvm_arch_vcpu_ioctl(KVM_SET_NESTED_STATE)";
constexpr std::string_view kVmxSet = "arch/x86/kvm/vmx/nested.c vmx_set_nested_state";
constexpr std::string_view kVmxCtl = "arch/x86/kvm/vmx/nested.c nested_vmx_check_controls";
constexpr std::string_view kVmxHost = "arch/x86/kvm/vmx/nested.c nested_vmx_check_host_state";
constexpr std::string_view kVmxGuest = "arch/x86/kvm/vmx/nested.c nested_vmx_check_guest_state";
constexpr std::string_view kSvmSet = "arch/x86/kvm/svm/nested.c svm_set_nested_state";
constexpr std::string_view kSvmCtl = "arch/x86/kvm/svm/nested.c __nested_vmcb_check_controls";
constexpr std::string_view kSvmSave = "arch/x86/kvm/svm/nested.c __nested_vmcb_check_save";

constexpr RuleInfo kRules[] = {
    {"flags-unknown", kX86, "flags outside GUEST_MODE|RUN_PENDING|EVMCS|MTF_PENDING|GIF_SET"},
    {"run-pending-without-guest-mode", kX86, "RUN_PENDING implies GUEST_MODE"},
    {"format-not-host", kVmxSet, "format must be the host's: 0 (VMX) on Intel, 1 (SVM) on AMD (svm_set_nested_state too)"},
    {"vmx-no-vmxon-smm-flags", kVmxSet, "vmxon_pa -1 (no VMXON) with SMM flags"},
    {"vmx-no-vmxon-vmcs12-pa", kVmxSet, "vmxon_pa -1 with a vmcs12_pa"},
    {"vmx-no-vmxon-flags", kVmxSet, "vmxon_pa -1 with flags other than EVMCS"},
    {"vmx-not-allowed", kVmxSet, "a VMXON region while the vCPU's CPUID has no VMX (nested_vmx_allowed)"},
    {"vmx-vmxon-pa", kVmxSet, "vmxon_pa not page aligned or beyond MAXPHYADDR (page_address_valid)"},
    {"vmx-smm-guest-mode-and-guest-mode", kVmxSet, "SMM_GUEST_MODE together with GUEST_MODE"},
    {"vmx-smm-flags-unknown", kVmxSet, "SMM flags outside SMM_GUEST_MODE|SMM_VMXON"},
    {"vmx-flags-unknown", kVmxSet, "VMX header flags outside PREEMPTION_TIMER_DEADLINE"},
    {"vmx-smm-state", kVmxSet, "in SMM: no GUEST_MODE or RUN_PENDING; outside SMM: no SMM flags"},
    {"vmx-smm-guest-mode-without-vmxon", kVmxSet, "SMM_GUEST_MODE without SMM_VMXON"},
    {"vmx-evmcs-not-enabled", kVmxSet, "EVMCS while enlightened VMCS is not enabled on the vCPU"},
    {"vmx-size-for-vmcs12", kVmxSet, "GUEST_MODE, EVMCS or a vmcs12_pa, but size leaves no room for struct vmcs12"},
    {"vmx-vmcs12-pa", kVmxSet, "vmcs12_pa equal to vmxon_pa, not page aligned or beyond MAXPHYADDR"},
    {"vmx-no-vmcs12", kVmxSet, "a VMCS12 in the data but neither vmcs12_pa nor EVMCS"},
    {"vmx-revision-id", kVmxSet, "VMCS12 revision_id is not VMCS12_REVISION 0x11e57ed0"},
    {"vmx-size-for-shadow-vmcs12", kVmxSet, "the VMCS12 uses VMCS shadowing with a link pointer, but size leaves no room for the shadow VMCS12"},
    {"vmx-shadow-revision-id", kVmxSet, "shadow VMCS12 revision_id not VMCS12_REVISION or shadow_vmcs bit clear"},
    {"vmcs12-nmi-controls", kVmxCtl, "virtual NMIs need NMI exiting; NMI-window exiting needs virtual NMIs (nested_vmx_check_nmi_controls)"},
    {"vmcs12-io-bitmaps", kVmxCtl, "use I/O bitmaps: io_bitmap_a/b page aligned, below MAXPHYADDR"},
    {"vmcs12-msr-bitmap", kVmxCtl, "use MSR bitmaps: msr_bitmap page aligned, below MAXPHYADDR"},
    {"vmcs12-tpr-shadow", kVmxCtl, "use TPR shadow: virtual_apic_page_addr page aligned, below MAXPHYADDR"},
    {"vmcs12-vpid", kVmxCtl, "enable VPID with virtual_processor_id 0"},
    {"vmcs12-unrestricted-guest", kVmxCtl, "unrestricted guest needs EPT"},
    {"vmcs12-pml", kVmxCtl, "PML needs EPT and a valid pml_address"},
    {"vmcs12-shadow-vmcs-bitmaps", kVmxCtl, "VMCS shadowing: vmread_bitmap/vmwrite_bitmap page aligned, below MAXPHYADDR"},
    {"vmcs12-ept-pointer", kVmxCtl, "EPTP: memory type WB (6), page-walk length 4 or 5, bits 11:7 zero, below MAXPHYADDR (nested_vmx_check_eptp)"},
    {"vmcs12-msr-switch", kVmxCtl, "VM-exit MSR-store/-load and VM-entry MSR-load areas: 16-byte aligned, inside MAXPHYADDR"},
    {"vmcs12-event-injection", kVmxCtl, "VM-entry interruption information: type, vector, error code and instruction length consistent"},
    {"vmcs12-host-cr0-cr4", kVmxHost, "host CR0 has PE, PG, NE; host CR4 has VMXE; host CR3 below MAXPHYADDR"},
    {"vmcs12-host-address-space", kVmxHost, "host address-space size: CR4.PAE with it; without it no IA-32e guest, no CR4.PCIDE, RIP below 4 GiB"},
    {"vmcs12-host-selectors", kVmxHost, "host selectors with RPL and TI 0; CS and TR non-zero; SS non-zero outside 64-bit"},
    {"vmcs12-host-canonical", kVmxHost, "host FS/GS/GDTR/IDTR/TR bases, RIP, SYSENTER_ESP/EIP canonical"},
    {"vmcs12-host-pat", kVmxHost, "load IA32_PAT on exit: every entry a valid memory type"},
    {"vmcs12-host-efer", kVmxHost, "load IA32_EFER on exit: no reserved bits, LMA and LME equal to the host address-space size"},
    {"vmcs12-guest-cr0-cr4", kVmxGuest, "guest CR0 has NE (and PE, PG unless unrestricted guest); guest CR4 has VMXE"},
    {"vmcs12-guest-dr7", kVmxGuest, "load debug controls: DR7 bits 63:32 zero"},
    {"vmcs12-guest-pat", kVmxGuest, "load IA32_PAT on entry: every entry a valid memory type"},
    {"vmcs12-link-pointer", kVmxGuest, "vmcs_link_pointer -1 or page aligned below MAXPHYADDR (nested_vmx_check_vmcs_link_ptr)"},
    {"vmcs12-guest-cr0-pg-pe", kVmxGuest, "guest CR0.PG without CR0.PE"},
    {"vmcs12-guest-cet-wp", kVmxGuest, "guest CR4.CET without CR0.WP"},
    {"vmcs12-guest-efer", kVmxGuest, "RUN_PENDING with load IA32_EFER: no reserved bits, LMA = IA-32e mode guest, LME = LMA when CR0.PG"},
    {"vmcs12-guest-bndcfgs", kVmxGuest, "load BNDCFGS: base canonical, bits 11:2 zero"},
    {"vmcs12-guest-activity-state", kVmxGuest, "activity state active (0), HLT (1) or wait-for-SIPI (3) (nested_check_guest_non_reg_state)"},
    {"svm-flags-unknown", kSvmSet, "flags outside GUEST_MODE|RUN_PENDING|GIF_SET"},
    {"svm-svme-off", kSvmSet, "the vCPU's EFER.SVME is clear: flags must be exactly GIF_SET"},
    {"svm-smm-guest-mode", kSvmSet, "GUEST_MODE while the vCPU is in SMM"},
    {"svm-vmcb-pa", kSvmSet, "GUEST_MODE: vmcb_pa page aligned, below MAXPHYADDR"},
    {"svm-size-for-vmcb12", kSvmSet, "GUEST_MODE but size leaves no room for the 4 KiB VMCB12"},
    {"vmcb12-intercept-vmrun", kSvmCtl, "VMRUN not intercepted"},
    {"vmcb12-asid", kSvmCtl, "ASID 0"},
    {"vmcb12-npt", kSvmCtl, "nested paging enabled while the host has no NPT"},
    {"vmcb12-msrpm-pa", kSvmCtl, "MSR permission map (8 KiB from msrpm_base_pa, page aligned up) beyond MAXPHYADDR"},
    {"vmcb12-iopm-pa", kSvmCtl, "I/O permission map (12 KiB from iopm_base_pa, page aligned up) beyond MAXPHYADDR"},
    {"vmcb12-vnmi", kSvmCtl, "virtual NMI enabled without intercepting NMI"},
    {"svm-l1-cr0-pe-pg", kSvmSet, "L1 save area: CR0.PG and CR0.PE must be set"},
    {"svm-l1-rflags-vm", kSvmSet, "L1 save area: RFLAGS.VM set"},
    {"svm-l1-efer-svme", kSvmSave, "L1 save area: EFER.SVME clear"},
    {"svm-l1-cr0", kSvmSave, "L1 save area: CR0.NW without CR0.CD, or bits 63:32 set"},
    {"svm-l1-dr6-dr7", kSvmSave, "L1 save area: DR6 or DR7 bits 63:32 set"},
    {"svm-l1-long-mode", kSvmSave, "L1 save area: EFER.LME and CR0.PG need CR4.PAE, CR0.PE and CR3 below MAXPHYADDR"},
    {"svm-l1-cr4", kSvmSave, "L1 save area: CR4 bits no x86 CPU defines (__kvm_is_valid_cr4)"},
    {"svm-l1-efer", kSvmSave, "L1 save area: EFER bits no x86 CPU defines (kvm_valid_efer)"},
};

constexpr RuleInfo kUnchecked[] = {
    {"vmx control bits vs capability MSRs", "nested_check_vm_{execution,exit,entry}_controls (vmx_control_verify), cr3_target_count, vmfunc, EPTP A/D and 5-level support",
     "KVM derives the nested VMX capability MSRs from the host CPU and userspace may narrow them; the blob does not carry them"},
    {"CR0/CR4 fixed-1 bits", "nested_host_cr0_valid / nested_guest_cr4_valid", "IA32_VMX_CR0/CR4_FIXED1 come from the host CPU; only the fixed-0 bits are checked"},
    {"APICv and posted interrupts", "nested_vmx_check_apicv_controls", "not implemented yet"},
    {"debugctl, perf_global_ctrl", "nested_vmx_check_guest_state / host_state", "valid bits depend on the vCPU's PMU and CPUID"},
    {"shadow VMCS behind vmcs_link_pointer", "nested_vmx_check_vmcs_link_ptr", "KVM reads its header from guest memory"},
    {"guest segments, RIP, RFLAGS, interruptibility", "(CPU at the next VM entry)", "KVM_SET_NESTED_STATE does not check them; the CPU fails the next VM entry instead"},
    {"enlightened VMCS controls", "nested_evmcs_check_controls", "needs the Hyper-V enlightenment configuration of the vCPU"},
    {"current vCPU CR0 (SVM)", "svm_set_nested_state (kvm_read_cr0)", "vCPU registers are not part of the nested state"},
    {"MSR lists, MSR permission map merge, nested CR3 load", "nested_svm_vmrun_msrpm, nested_svm_load_cr3, nested_vmx_enter_non_root_mode", "they read guest memory"},
    {"CPUID-dependent reserved bits of EFER/CR4/CR3", "kvm_valid_efer, __kvm_is_valid_cr4, kvm_vcpu_is_legal_cr3", "only bits no x86 CPU defines are checked; LAM bits of CR3 are treated as reserved"},
};

// VMX control bits (SDM vol. 3 appendix A; the kernel's asm/vmx.h).
constexpr uint32_t kPinNmiExiting = 1u << 3, kPinVirtualNmis = 1u << 5;
constexpr uint32_t kCpuNmiWindow = 1u << 22, kCpuTprShadow = 1u << 21, kCpuIoBitmaps = 1u << 25, kCpuMsrBitmaps = 1u << 28,
                   kCpuSecondary = 1u << 31;
constexpr uint32_t kSecEpt = 1u << 1, kSecVpid = 1u << 5, kSecUnrestricted = 1u << 7, kSecShadowVmcs = 1u << 14, kSecPml = 1u << 17;
constexpr uint32_t kExitHostAddrSpace = 1u << 9, kExitLoadPat = 1u << 19, kExitLoadEfer = 1u << 21;
constexpr uint32_t kEntryLoadDebug = 1u << 2, kEntryIa32e = 1u << 9, kEntryLoadPat = 1u << 14, kEntryLoadEfer = 1u << 15,
                   kEntryLoadBndcfgs = 1u << 16;
constexpr uint64_t kCr0Pe = 1, kCr0Wp = 1u << 16, kCr0Nw = 1u << 29, kCr0Cd = 1u << 30, kCr0Pg = 1u << 31;
constexpr uint64_t kCr4Pae = 1u << 5, kCr4La57 = 1u << 12, kCr4Vmxe = 1u << 13, kCr4Pcide = 1u << 17, kCr4Cet = 1u << 23;
// CR4 bits some x86 CPU defines: 0-14, 16-25, 28 (LAM_SUP), 32 (FRED).
constexpr uint64_t kCr4Defined = 0x7fffull | 0x3ff0000ull | 1ull << 28 | 1ull << 32;
constexpr uint64_t kEferSce = 1, kEferLme = 1u << 8, kEferLma = 1u << 10, kEferSvme = 1u << 12;
// EFER bits KVM can allow: SCE, LME, LMA, NXE, SVME, LMSLE, FFXSR, TCE, AUTOIBRS.
constexpr uint64_t kEferDefined = kEferSce | kEferLme | kEferLma | 1u << 11 | kEferSvme | 1u << 13 | 1u << 14 | 1u << 15 | 1u << 21;
constexpr uint64_t kRflagsVm = 1u << 17;

bool pat_valid(uint64_t pat) {
    if (pat & 0xF8F8F8F8F8F8F8F8ull) return false;
    for (int i = 0; i < 8; ++i) {
        unsigned t = pat >> (8 * i) & 7;
        if (t == 2 || t == 3) return false;   // 0, 1, 4, 5, 6, 7 are memory types
    }
    return true;
}

bool canonical(uint64_t v, unsigned bits) {
    int64_t s = int64_t(v << (64 - bits)) >> (64 - bits);
    return uint64_t(s) == v;
}

struct Checker {
    const State& s;
    const CheckOptions& opt;
    CheckResult r;

    void fail(std::string_view rule, std::string msg) { r.violations.push_back({std::string(rule), std::move(msg)}); }
    bool legal_gpa(uint64_t gpa) const { return opt.maxphyaddr >= 64 || !(gpa >> opt.maxphyaddr); }
    bool page_address_valid(uint64_t gpa) const { return !(gpa & 0xfff) && legal_gpa(gpa); }
    std::string pa_why(uint64_t gpa) const {
        return gpa & 0xfff ? "not page aligned" : fmt::format("beyond MAXPHYADDR {}", opt.maxphyaddr);
    }
    static uint64_t get(std::span<const uint8_t> area, std::span<const Field> table, std::string_view name) {
        const Field* f = find_field(table, name);
        if (!f) throw std::logic_error("nested check: no field " + std::string(name));
        return field_value(area, *f);
    }
    uint64_t v12(std::string_view name) const { return get(s.vmcs12, vmcs12_fields(), name); }
    uint64_t vb(std::string_view name) const { return get(s.vmcb12, vmcb12_fields(), name); }

    void common();
    void vmx();
    void vmcs12_controls();
    void vmcs12_host();
    void vmcs12_guest();
    void svm();
};

void Checker::common() {
    uint16_t f = s.hdr.flags;
    if (f & ~kKnownFlags) fail("flags-unknown", fmt::format("flags 0x{:x} has unknown bits 0x{:x}", f, f & ~kKnownFlags));
    if ((f & kRunPending) && !(f & kGuestMode)) fail("run-pending-without-guest-mode", "RUN_PENDING is set without GUEST_MODE");
    bool host_vmx = opt.rules == Rules::Vmx;
    if (s.vmx() != host_vmx)
        fail("format-not-host", fmt::format("format {} ({}) but the host runs {} (KVM_STATE_NESTED_FORMAT_{} expected)", s.hdr.format,
                                            s.vmx() ? "VMX" : "SVM", host_vmx ? "Intel VMX" : "AMD SVM", host_vmx ? "VMX" : "SVM"));
}

void Checker::vmx() {
    const Header& h = s.hdr;
    constexpr uint64_t kNone = ~0ull;
    bool vmxon = h.vmxon_pa != kNone;
    if (!vmxon) {
        if (h.smm_flags) fail("vmx-no-vmxon-smm-flags", fmt::format("vmxon_pa is -1 (no VMXON) but smm.flags is 0x{:x}", h.smm_flags));
        if (h.vmcs12_pa != kNone) fail("vmx-no-vmxon-vmcs12-pa", fmt::format("vmxon_pa is -1 (no VMXON) but vmcs12_pa is 0x{:x}", h.vmcs12_pa));
        if (h.flags & ~kEvmcs) fail("vmx-no-vmxon-flags", fmt::format("vmxon_pa is -1 (no VMXON) but flags 0x{:x} go beyond EVMCS", h.flags));
    } else {
        if (!opt.vmx_in_cpuid) fail("vmx-not-allowed", "the state has a VMXON region but the vCPU's CPUID has no VMX");
        if (!page_address_valid(h.vmxon_pa)) fail("vmx-vmxon-pa", fmt::format("vmxon_pa 0x{:x} is {}", h.vmxon_pa, pa_why(h.vmxon_pa)));
    }
    if ((h.smm_flags & kSmmGuestMode) && (h.flags & kGuestMode))
        fail("vmx-smm-guest-mode-and-guest-mode", "SMM_GUEST_MODE and GUEST_MODE are both set");
    if (h.smm_flags & ~3u) fail("vmx-smm-flags-unknown", fmt::format("smm.flags 0x{:x} has unknown bits 0x{:x}", h.smm_flags, h.smm_flags & ~3u));
    if (h.vmx_flags & ~1u) fail("vmx-flags-unknown", fmt::format("hdr.vmx.flags 0x{:x} has unknown bits 0x{:x}", h.vmx_flags, h.vmx_flags & ~1u));
    if (opt.in_smm && (h.flags & (kGuestMode | kRunPending)))
        fail("vmx-smm-state", "the vCPU is in SMM (SMM disables VMX) but GUEST_MODE or RUN_PENDING is set");
    if (!opt.in_smm && h.smm_flags)
        fail("vmx-smm-state", fmt::format("smm.flags 0x{:x} but the vCPU is not in SMM (pass --in-smm if it is)", h.smm_flags));
    if ((h.smm_flags & kSmmGuestMode) && !(h.smm_flags & kSmmVmxon))
        fail("vmx-smm-guest-mode-without-vmxon", "SMM_GUEST_MODE without SMM_VMXON");
    if ((h.flags & kEvmcs) && (!opt.vmx_in_cpuid || !opt.evmcs_enabled))
        fail("vmx-evmcs-not-enabled", "EVMCS is set but enlightened VMCS is not enabled on the vCPU (pass --evmcs if it is)");
    if (!r.ok() || !vmxon) return;   // KVM returns here: EINVAL, or accepted without VMXON

    // "Empty 'VMXON' state is permitted if no VMCS loaded"
    if (h.size < kHeaderSize + kVmcs12StructSize) {
        if ((h.flags & (kGuestMode | kEvmcs)) || h.vmcs12_pa != kNone)
            fail("vmx-size-for-vmcs12", fmt::format("size {} is below {} (header + struct vmcs12) but {} says a VMCS12 is loaded", h.size,
                                                    kHeaderSize + kVmcs12StructSize, h.vmcs12_pa != kNone ? "vmcs12_pa" : "flags"));
        return;
    }
    if (h.vmcs12_pa != kNone) {
        if (h.vmcs12_pa == h.vmxon_pa) fail("vmx-vmcs12-pa", fmt::format("vmcs12_pa 0x{:x} equals vmxon_pa", h.vmcs12_pa));
        else if (!page_address_valid(h.vmcs12_pa)) fail("vmx-vmcs12-pa", fmt::format("vmcs12_pa 0x{:x} is {}", h.vmcs12_pa, pa_why(h.vmcs12_pa)));
    } else if (!(h.flags & kEvmcs)) {
        fail("vmx-no-vmcs12", "the data holds a VMCS12 but vmcs12_pa is -1 and EVMCS is clear");
    }
    if (!r.ok()) return;
    if (v12("revision_id") != kVmcs12Revision)
        fail("vmx-revision-id", fmt::format("VMCS12 revision_id 0x{:x}; expected VMCS12_REVISION 0x{:x}", v12("revision_id"), kVmcs12Revision));
    if (!r.ok() || !(h.flags & kGuestMode)) return;   // not running L2: accepted

    uint32_t cpu = uint32_t(v12("cpu_based_vm_exec_control"));
    uint32_t sec = cpu & kCpuSecondary ? uint32_t(v12("secondary_vm_exec_control")) : 0;
    if ((sec & kSecShadowVmcs) && v12("vmcs_link_pointer") != kNone) {
        if (h.size < kHeaderSize + kVmcsSize + kVmcs12StructSize)
            fail("vmx-size-for-shadow-vmcs12", fmt::format("the VMCS12 enables VMCS shadowing with vmcs_link_pointer 0x{:x} but size {} leaves no room for the shadow VMCS12 (needs {})",
                                                           v12("vmcs_link_pointer"), h.size, kHeaderSize + kVmcsSize + kVmcs12StructSize));
        else if (get(s.shadow_vmcs12, vmcs12_fields(), "revision_id") != kVmcs12Revision ||
                 !get(s.shadow_vmcs12, vmcs12_fields(), "shadow_vmcs"))
            fail("vmx-shadow-revision-id", fmt::format("shadow VMCS12 revision_id 0x{:x}, shadow_vmcs {}; expected 0x{:x} and 1",
                                                       get(s.shadow_vmcs12, vmcs12_fields(), "revision_id"),
                                                       get(s.shadow_vmcs12, vmcs12_fields(), "shadow_vmcs"), kVmcs12Revision));
        if (!r.ok()) return;
    }
    vmcs12_controls();
    vmcs12_host();
    vmcs12_guest();
}

void Checker::vmcs12_controls() {
    uint32_t pin = uint32_t(v12("pin_based_vm_exec_control")), cpu = uint32_t(v12("cpu_based_vm_exec_control"));
    uint32_t sec = cpu & kCpuSecondary ? uint32_t(v12("secondary_vm_exec_control")) : 0;
    if (!(pin & kPinNmiExiting) && (pin & kPinVirtualNmis)) fail("vmcs12-nmi-controls", "virtual NMIs without NMI exiting");
    if (!(pin & kPinVirtualNmis) && (cpu & kCpuNmiWindow)) fail("vmcs12-nmi-controls", "NMI-window exiting without virtual NMIs");
    auto page = [&](std::string_view rule, std::string_view field, std::string_view why) {
        uint64_t a = v12(field);
        if (!page_address_valid(a)) fail(rule, fmt::format("{}: {} 0x{:x} is {}", why, field, a, pa_why(a)));
    };
    if (cpu & kCpuIoBitmaps) page("vmcs12-io-bitmaps", "io_bitmap_a", "use I/O bitmaps"), page("vmcs12-io-bitmaps", "io_bitmap_b", "use I/O bitmaps");
    if (cpu & kCpuMsrBitmaps) page("vmcs12-msr-bitmap", "msr_bitmap", "use MSR bitmaps");
    if (cpu & kCpuTprShadow) page("vmcs12-tpr-shadow", "virtual_apic_page_addr", "use TPR shadow");
    if ((sec & kSecVpid) && !v12("virtual_processor_id")) fail("vmcs12-vpid", "enable VPID with virtual_processor_id 0");
    if ((sec & kSecUnrestricted) && !(sec & kSecEpt)) fail("vmcs12-unrestricted-guest", "unrestricted guest without enable EPT");
    if (sec & kSecPml) {
        if (!(sec & kSecEpt)) fail("vmcs12-pml", "enable PML without enable EPT");
        else page("vmcs12-pml", "pml_address", "enable PML");
    }
    if (sec & kSecShadowVmcs)
        page("vmcs12-shadow-vmcs-bitmaps", "vmread_bitmap", "VMCS shadowing"), page("vmcs12-shadow-vmcs-bitmaps", "vmwrite_bitmap", "VMCS shadowing");
    if (sec & kSecEpt) {
        uint64_t eptp = v12("ept_pointer");
        unsigned type = eptp & 7, walk = (eptp >> 3) & 7;
        if (type != 6) fail("vmcs12-ept-pointer", fmt::format("ept_pointer 0x{:x}: memory type {}; KVM offers L1 only WB (6)", eptp, type));
        if (walk != 3 && walk != 4) fail("vmcs12-ept-pointer", fmt::format("ept_pointer 0x{:x}: page-walk length {}; expected 4 or 5 levels", eptp, walk + 1));
        if ((eptp >> 7) & 0x1f) fail("vmcs12-ept-pointer", fmt::format("ept_pointer 0x{:x}: reserved bits 11:7 set", eptp));
        if (!legal_gpa(eptp)) fail("vmcs12-ept-pointer", fmt::format("ept_pointer 0x{:x} is beyond MAXPHYADDR {}", eptp, opt.maxphyaddr));
    }
    // nested_vmx_check_msr_switch: each entry is 16 bytes.
    for (auto [count, addr] : {std::pair{"vm_exit_msr_store_count", "vm_exit_msr_store_addr"},
                               std::pair{"vm_exit_msr_load_count", "vm_exit_msr_load_addr"},
                               std::pair{"vm_entry_msr_load_count", "vm_entry_msr_load_addr"}}) {
        uint64_t n = v12(count), a = v12(addr);
        if (!n) continue;
        if (a & 15) fail("vmcs12-msr-switch", fmt::format("{} 0x{:x} is not 16-byte aligned", addr, a));
        else if (!legal_gpa(a) || !legal_gpa(a + n * 16 - 1))
            fail("vmcs12-msr-switch", fmt::format("{} 0x{:x} with {} {} entries runs beyond MAXPHYADDR {}", addr, a, count, n, opt.maxphyaddr));
    }
    // VM-entry event injection (nested_check_vm_entry_controls).
    uint32_t info = uint32_t(v12("vm_entry_intr_info_field"));
    if (info & (1u << 31)) {
        unsigned vector = info & 0xff, type = (info >> 8) & 7;
        bool has_code = info & (1u << 11);
        auto bad = [&](std::string why) { fail("vmcs12-event-injection", fmt::format("vm_entry_intr_info_field 0x{:08x}: {}", info, why)); };
        if (info & 0x7ffff000) bad("reserved bits 30:12 set");
        if (type == 1) bad("type 1 is reserved");
        if (type == 7 && vector != 0) bad(fmt::format("type 7 (other event) with vector {}; expected 0 (MTF)", vector));
        if (type == 2 && vector != 2) bad(fmt::format("NMI with vector {}", vector));
        if (type == 3 && vector > 31) bad(fmt::format("hardware exception with vector {}", vector));
        bool urg = (cpu & kCpuSecondary) && (uint32_t(v12("secondary_vm_exec_control")) & kSecUnrestricted);
        bool prot = !urg || (v12("guest_cr0") & kCr0Pe);
        bool code_vector = vector == 8 || (vector >= 10 && vector <= 14) || vector == 17;
        bool should = type == 3 && prot && code_vector;
        if (vector != 21 && has_code != should)   // #CP's error code depends on the kernel version
            bad(should ? fmt::format("exception {} delivers an error code but bit 11 is clear", vector)
                       : "bit 11 (deliver error code) set for an event without one");
        if (has_code && (v12("vm_entry_exception_error_code") >> 16))
            bad(fmt::format("error code 0x{:x} has bits 31:16 set", v12("vm_entry_exception_error_code")));
        if (type >= 4 && type <= 6) {
            uint64_t len = v12("vm_entry_instruction_len");
            if (len == 0 || len > 15) bad(fmt::format("software event with vm_entry_instruction_len {}; expected 1..15", len));
        }
    }
}

void Checker::vmcs12_host() {
    uint64_t cr0 = v12("host_cr0"), cr4 = v12("host_cr4"), cr3 = v12("host_cr3");
    uint32_t exit = uint32_t(v12("vm_exit_controls")), entry = uint32_t(v12("vm_entry_controls"));
    if ((cr0 & (kCr0Pe | kCr0Pg | 1u << 5)) != (kCr0Pe | kCr0Pg | 1u << 5))
        fail("vmcs12-host-cr0-cr4", fmt::format("host_cr0 0x{:x} lacks PE, PG or NE (VMX fixed-0 bits)", cr0));
    if (!(cr4 & kCr4Vmxe)) fail("vmcs12-host-cr0-cr4", fmt::format("host_cr4 0x{:x} lacks VMXE", cr4));
    if (!legal_gpa(cr3)) fail("vmcs12-host-cr0-cr4", fmt::format("host_cr3 0x{:x} is beyond MAXPHYADDR {}", cr3, opt.maxphyaddr));
    bool ia32e = exit & kExitHostAddrSpace;
    if (ia32e) {
        if (!(cr4 & kCr4Pae)) fail("vmcs12-host-address-space", fmt::format("host address-space size set but host_cr4 0x{:x} lacks PAE", cr4));
    } else {
        if (entry & kEntryIa32e) fail("vmcs12-host-address-space", "IA-32e mode guest without host address-space size");
        if (cr4 & kCr4Pcide) fail("vmcs12-host-address-space", "host_cr4.PCIDE without host address-space size");
        if (v12("host_rip") >> 32) fail("vmcs12-host-address-space", fmt::format("host_rip 0x{:x} above 4 GiB without host address-space size", v12("host_rip")));
    }
    for (auto sel : {"host_es_selector", "host_cs_selector", "host_ss_selector", "host_ds_selector", "host_fs_selector", "host_gs_selector", "host_tr_selector"})
        if (v12(sel) & 7) fail("vmcs12-host-selectors", fmt::format("{} 0x{:x} has RPL or TI set", sel, v12(sel)));
    if (!v12("host_cs_selector")) fail("vmcs12-host-selectors", "host_cs_selector is 0");
    if (!v12("host_tr_selector")) fail("vmcs12-host-selectors", "host_tr_selector is 0");
    if (!v12("host_ss_selector") && !ia32e) fail("vmcs12-host-selectors", "host_ss_selector is 0 without host address-space size");
    unsigned bits = opt.la57 ? 57 : 48;
    for (auto f : {"host_fs_base", "host_gs_base", "host_gdtr_base", "host_idtr_base", "host_tr_base", "host_rip", "host_ia32_sysenter_esp", "host_ia32_sysenter_eip"})
        if (!canonical(v12(f), bits)) fail("vmcs12-host-canonical", fmt::format("{} 0x{:x} is not canonical ({}-bit)", f, v12(f), bits));
    if ((exit & kExitLoadPat) && !pat_valid(v12("host_ia32_pat")))
        fail("vmcs12-host-pat", fmt::format("host_ia32_pat 0x{:016x} holds an invalid memory type", v12("host_ia32_pat")));
    if (exit & kExitLoadEfer) {
        uint64_t efer = v12("host_ia32_efer");
        if (efer & ~kEferDefined) fail("vmcs12-host-efer", fmt::format("host_ia32_efer 0x{:x} sets reserved bits 0x{:x}", efer, efer & ~kEferDefined));
        if (bool(efer & kEferLma) != ia32e || bool(efer & kEferLme) != ia32e)
            fail("vmcs12-host-efer", fmt::format("host_ia32_efer 0x{:x}: LMA and LME must be {} (host address-space size)", efer, ia32e ? 1 : 0));
    }
}

void Checker::vmcs12_guest() {
    uint64_t cr0 = v12("guest_cr0"), cr4 = v12("guest_cr4");
    uint32_t cpu = uint32_t(v12("cpu_based_vm_exec_control")), entry = uint32_t(v12("vm_entry_controls"));
    uint32_t sec = cpu & kCpuSecondary ? uint32_t(v12("secondary_vm_exec_control")) : 0;
    uint64_t fixed0 = kCr0Pe | kCr0Pg | 1u << 5;
    if (sec & kSecUnrestricted) fixed0 &= ~(kCr0Pe | kCr0Pg);
    if ((cr0 & fixed0) != fixed0) fail("vmcs12-guest-cr0-cr4", fmt::format("guest_cr0 0x{:x} lacks fixed-0 bits 0x{:x}", cr0, fixed0 & ~cr0));
    if (!(cr4 & kCr4Vmxe)) fail("vmcs12-guest-cr0-cr4", fmt::format("guest_cr4 0x{:x} lacks VMXE", cr4));
    if ((entry & kEntryLoadDebug) && (v12("guest_dr7") >> 32)) fail("vmcs12-guest-dr7", fmt::format("guest_dr7 0x{:x} sets bits 63:32", v12("guest_dr7")));
    if ((entry & kEntryLoadPat) && !pat_valid(v12("guest_ia32_pat")))
        fail("vmcs12-guest-pat", fmt::format("guest_ia32_pat 0x{:016x} holds an invalid memory type", v12("guest_ia32_pat")));
    uint64_t link = v12("vmcs_link_pointer");
    if (link != ~0ull && !page_address_valid(link)) fail("vmcs12-link-pointer", fmt::format("vmcs_link_pointer 0x{:x} is {}", link, pa_why(link)));
    if ((cr0 & (kCr0Pg | kCr0Pe)) == kCr0Pg) fail("vmcs12-guest-cr0-pg-pe", fmt::format("guest_cr0 0x{:x} has PG without PE", cr0));
    if ((cr4 & kCr4Cet) && !(cr0 & kCr0Wp)) fail("vmcs12-guest-cet-wp", fmt::format("guest_cr4.CET with guest_cr0 0x{:x} lacking WP", cr0));
    if ((s.hdr.flags & kRunPending) && (entry & kEntryLoadEfer)) {
        uint64_t efer = v12("guest_ia32_efer");
        bool ia32e = entry & kEntryIa32e;
        if (efer & ~kEferDefined) fail("vmcs12-guest-efer", fmt::format("guest_ia32_efer 0x{:x} sets reserved bits 0x{:x}", efer, efer & ~kEferDefined));
        if (bool(efer & kEferLma) != ia32e) fail("vmcs12-guest-efer", fmt::format("guest_ia32_efer 0x{:x}: LMA must be {} (IA-32e mode guest)", efer, ia32e ? 1 : 0));
        else if ((cr0 & kCr0Pg) && bool(efer & kEferLme) != ia32e)
            fail("vmcs12-guest-efer", fmt::format("guest_ia32_efer 0x{:x}: LME must equal LMA while guest CR0.PG is set", efer));
    }
    if (entry & kEntryLoadBndcfgs) {
        uint64_t b = v12("guest_bndcfgs");
        if (!canonical(b & ~0xfffull, opt.la57 ? 57 : 48) || (b & 0xffc))
            fail("vmcs12-guest-bndcfgs", fmt::format("guest_bndcfgs 0x{:x}: base not canonical or bits 11:2 set", b));
    }
    uint64_t act = v12("guest_activity_state");
    if (act != 0 && act != 1 && act != 3)
        fail("vmcs12-guest-activity-state", fmt::format("guest_activity_state {}; expected 0 (active), 1 (HLT) or 3 (wait-for-SIPI)", act));
}

void Checker::svm() {
    const Header& h = s.hdr;
    if (h.flags & ~(kGuestMode | kRunPending | kGifSet))
        fail("svm-flags-unknown", fmt::format("flags 0x{:x}: SVM takes only GUEST_MODE, RUN_PENDING and GIF_SET", h.flags));
    if (!opt.svme && h.flags != kGifSet)
        fail("svm-svme-off", fmt::format("the vCPU's EFER.SVME is clear, so flags must be GIF_SET (0x100), not 0x{:x}", h.flags));
    if (opt.in_smm && (h.flags & kGuestMode)) fail("svm-smm-guest-mode", "GUEST_MODE while the vCPU is in SMM (SMM disables SVM)");
    if (!r.ok() || !(h.flags & kGuestMode)) return;   // not running L2: KVM only sets GIF
    if (!page_address_valid(h.vmcb_pa)) fail("svm-vmcb-pa", fmt::format("vmcb_pa 0x{:x} is {}", h.vmcb_pa, pa_why(h.vmcb_pa)));
    if (h.size < kHeaderSize + kVmcbSize)
        fail("svm-size-for-vmcb12", fmt::format("GUEST_MODE but size {} is below {} (header + VMCB12)", h.size, kHeaderSize + kVmcbSize));
    if (!r.ok()) return;

    if (!(vb("intercept_word4") & 1)) fail("vmcb12-intercept-vmrun", "intercept_word4 bit 0 (INTERCEPT_VMRUN) is clear");
    if (!vb("asid")) fail("vmcb12-asid", "asid is 0");
    if ((vb("misc_ctl") & 1) && !opt.npt_enabled) fail("vmcb12-npt", "nested paging (misc_ctl bit 0) but the host runs without NPT");
    auto bitmap = [&](std::string_view rule, std::string_view field, uint64_t size) {
        uint64_t pa = vb(field), a = (pa + 0xfff) & ~0xfffull;
        if (a < pa || !legal_gpa(a) || !legal_gpa(a + size - 1))
            fail(rule, fmt::format("{} 0x{:x}: {} KiB from there run beyond MAXPHYADDR {}", field, pa, size / 1024, opt.maxphyaddr));
    };
    bitmap("vmcb12-msrpm-pa", "msrpm_base_pa", 0x2000);
    bitmap("vmcb12-iopm-pa", "iopm_base_pa", 0x3000);
    if ((vb("int_ctl") & (1u << 26)) && !(vb("intercept_word3") & 2))
        fail("vmcb12-vnmi", "int_ctl V_NMI_ENABLE without intercepting NMI (intercept_word3 bit 1)");

    // The save area is L1's state from before VMRUN.
    uint64_t cr0 = vb("cr0"), cr4 = vb("cr4"), efer = vb("efer");
    if (!(cr0 & kCr0Pg) || !(cr0 & kCr0Pe)) fail("svm-l1-cr0-pe-pg", fmt::format("save.cr0 0x{:x} lacks PG or PE", cr0));
    if (vb("rflags") & kRflagsVm) fail("svm-l1-rflags-vm", fmt::format("save.rflags 0x{:x} has VM (virtual-8086 mode)", vb("rflags")));
    if (!(efer & kEferSvme)) fail("svm-l1-efer-svme", fmt::format("save.efer 0x{:x} lacks SVME", efer));
    if ((!(cr0 & kCr0Cd) && (cr0 & kCr0Nw)) || (cr0 >> 32)) fail("svm-l1-cr0", fmt::format("save.cr0 0x{:x}: NW without CD, or bits 63:32 set", cr0));
    if ((vb("dr6") >> 32) || (vb("dr7") >> 32)) fail("svm-l1-dr6-dr7", fmt::format("save.dr6 0x{:x} / save.dr7 0x{:x} set bits 63:32", vb("dr6"), vb("dr7")));
    if ((efer & kEferLme) && (cr0 & kCr0Pg)) {
        if (!(cr4 & kCr4Pae) || !(cr0 & kCr0Pe) || !legal_gpa(vb("cr3")))
            fail("svm-l1-long-mode", fmt::format("EFER.LME and CR0.PG with cr4 0x{:x}, cr0 0x{:x}, cr3 0x{:x}: needs PAE, PE and CR3 below MAXPHYADDR {}",
                                                 cr4, cr0, vb("cr3"), opt.maxphyaddr));
    }
    if (cr4 & ~kCr4Defined) fail("svm-l1-cr4", fmt::format("save.cr4 0x{:x} sets undefined bits 0x{:x}", cr4, cr4 & ~kCr4Defined));
    if (efer & ~kEferDefined) fail("svm-l1-efer", fmt::format("save.efer 0x{:x} sets undefined bits 0x{:x}", efer, efer & ~kEferDefined));
}

} // namespace

std::span<const RuleInfo> all_rules() { return kRules; }
std::span<const RuleInfo> unchecked_rules() { return kUnchecked; }

CheckResult check_nested_state(const State& s, const CheckOptions& opt) {
    Checker c{s, opt, {}};
    c.r.rules = opt.rules;
    auto& a = c.r.assumptions;
    a.push_back(opt.in_smm ? "the vCPU is in SMM (--in-smm)" : "the vCPU is not in SMM (--in-smm if it is)");
    a.push_back(fmt::format("guest MAXPHYADDR {} ({})", opt.maxphyaddr, opt.maxphyaddr_source));
    if (opt.rules == Rules::Vmx) {
        a.push_back(opt.vmx_in_cpuid ? "the vCPU's CPUID has VMX (--no-vmx if not)" : "the vCPU's CPUID has no VMX (--no-vmx)");
        a.push_back(opt.evmcs_enabled ? "enlightened VMCS is enabled (--evmcs)" : "enlightened VMCS is not enabled (--evmcs if it is)");
        a.push_back(opt.la57 ? "57-bit canonical addresses (the CPU has 5-level paging)" : "48-bit canonical addresses (no 5-level paging)");
        a.push_back("the VMX capability MSRs allow every control bit (they are not in the state)");
    } else {
        a.push_back(opt.svme ? "the vCPU's EFER.SVME is set (--no-svme if not)" : "the vCPU's EFER.SVME is clear (--no-svme)");
        a.push_back(opt.npt_enabled ? "the host KVM has nested paging (npt=1)" : "the host KVM has no nested paging");
    }
    c.common();
    if (!c.r.ok()) return c.r;   // KVM stops before the vendor code
    if (s.vmx()) c.vmx();
    else c.svm();
    return c.r;
}

} // namespace xsave::nested
