// The VMCS12 and VMCB12 field tables: offsets are ABI (KVM migrates these pages as bytes).
// VMCS12: arch/x86/kvm/vmx/vmcs12.h, struct vmcs12 and its CHECK_OFFSET list (one row each).
// VMCB12: arch/x86/include/asm/svm.h, struct vmcb_control_area at 0 and vmcb_save_area at 0x400.
#include "xsave/nested.hpp"

#include <fmt/core.h>

#include <algorithm>

namespace xsave::nested {
namespace {

constexpr std::string_view R = "header", C = "control", X = "exit-info", G = "guest", H = "host";

// host_s_cet .. guest_ssp_tbl came with nested CET support, in what was paddingl[];
// older kernels leave those bytes zero.
constexpr Field kVmcs12[] = {
    {"revision_id", 0, 4, R, 0x7fffffff},
    {"shadow_vmcs", 0, 4, R, 0x80000000},
    {"abort", 4, 4, R},
    {"launch_state", 8, 4, R},
    {"io_bitmap_a", 40, 8, C},
    {"io_bitmap_b", 48, 8, C},
    {"msr_bitmap", 56, 8, C},
    {"vm_exit_msr_store_addr", 64, 8, C},
    {"vm_exit_msr_load_addr", 72, 8, C},
    {"vm_entry_msr_load_addr", 80, 8, C},
    {"tsc_offset", 88, 8, C},
    {"virtual_apic_page_addr", 96, 8, C},
    {"apic_access_addr", 104, 8, C},
    {"posted_intr_desc_addr", 112, 8, C},
    {"ept_pointer", 120, 8, C},
    {"eoi_exit_bitmap0", 128, 8, C},
    {"eoi_exit_bitmap1", 136, 8, C},
    {"eoi_exit_bitmap2", 144, 8, C},
    {"eoi_exit_bitmap3", 152, 8, C},
    {"xss_exit_bitmap", 160, 8, C},
    {"guest_physical_address", 168, 8, X},
    {"vmcs_link_pointer", 176, 8, G},
    {"guest_ia32_debugctl", 184, 8, G},
    {"guest_ia32_pat", 192, 8, G},
    {"guest_ia32_efer", 200, 8, G},
    {"guest_ia32_perf_global_ctrl", 208, 8, G},
    {"guest_pdptr0", 216, 8, G},
    {"guest_pdptr1", 224, 8, G},
    {"guest_pdptr2", 232, 8, G},
    {"guest_pdptr3", 240, 8, G},
    {"guest_bndcfgs", 248, 8, G},
    {"host_ia32_pat", 256, 8, H},
    {"host_ia32_efer", 264, 8, H},
    {"host_ia32_perf_global_ctrl", 272, 8, H},
    {"vmread_bitmap", 280, 8, C},
    {"vmwrite_bitmap", 288, 8, C},
    {"vm_function_control", 296, 8, C},
    {"eptp_list_address", 304, 8, C},
    {"pml_address", 312, 8, C},
    {"cr0_guest_host_mask", 344, 8, C},
    {"cr4_guest_host_mask", 352, 8, C},
    {"cr0_read_shadow", 360, 8, C},
    {"cr4_read_shadow", 368, 8, C},
    {"cr3_target_value0", 376, 8, C},
    {"cr3_target_value1", 384, 8, C},
    {"cr3_target_value2", 392, 8, C},
    {"cr3_target_value3", 400, 8, C},
    {"exit_qualification", 408, 8, X},
    {"guest_linear_address", 416, 8, X},
    {"guest_cr0", 424, 8, G},
    {"guest_cr3", 432, 8, G},
    {"guest_cr4", 440, 8, G},
    {"guest_es_base", 448, 8, G},
    {"guest_cs_base", 456, 8, G},
    {"guest_ss_base", 464, 8, G},
    {"guest_ds_base", 472, 8, G},
    {"guest_fs_base", 480, 8, G},
    {"guest_gs_base", 488, 8, G},
    {"guest_ldtr_base", 496, 8, G},
    {"guest_tr_base", 504, 8, G},
    {"guest_gdtr_base", 512, 8, G},
    {"guest_idtr_base", 520, 8, G},
    {"guest_dr7", 528, 8, G},
    {"guest_rsp", 536, 8, G},
    {"guest_rip", 544, 8, G},
    {"guest_rflags", 552, 8, G},
    {"guest_pending_dbg_exceptions", 560, 8, G},
    {"guest_sysenter_esp", 568, 8, G},
    {"guest_sysenter_eip", 576, 8, G},
    {"host_cr0", 584, 8, H},
    {"host_cr3", 592, 8, H},
    {"host_cr4", 600, 8, H},
    {"host_fs_base", 608, 8, H},
    {"host_gs_base", 616, 8, H},
    {"host_tr_base", 624, 8, H},
    {"host_gdtr_base", 632, 8, H},
    {"host_idtr_base", 640, 8, H},
    {"host_ia32_sysenter_esp", 648, 8, H},
    {"host_ia32_sysenter_eip", 656, 8, H},
    {"host_rsp", 664, 8, H},
    {"host_rip", 672, 8, H},
    {"host_s_cet", 680, 8, H},
    {"host_ssp", 688, 8, H},
    {"host_ssp_tbl", 696, 8, H},
    {"guest_s_cet", 704, 8, G},
    {"guest_ssp", 712, 8, G},
    {"guest_ssp_tbl", 720, 8, G},
    {"pin_based_vm_exec_control", 744, 4, C},
    {"cpu_based_vm_exec_control", 748, 4, C},
    {"exception_bitmap", 752, 4, C},
    {"page_fault_error_code_mask", 756, 4, C},
    {"page_fault_error_code_match", 760, 4, C},
    {"cr3_target_count", 764, 4, C},
    {"vm_exit_controls", 768, 4, C},
    {"vm_exit_msr_store_count", 772, 4, C},
    {"vm_exit_msr_load_count", 776, 4, C},
    {"vm_entry_controls", 780, 4, C},
    {"vm_entry_msr_load_count", 784, 4, C},
    {"vm_entry_intr_info_field", 788, 4, C},
    {"vm_entry_exception_error_code", 792, 4, C},
    {"vm_entry_instruction_len", 796, 4, C},
    {"tpr_threshold", 800, 4, C},
    {"secondary_vm_exec_control", 804, 4, C},
    {"vm_instruction_error", 808, 4, X},
    {"vm_exit_reason", 812, 4, X},
    {"vm_exit_intr_info", 816, 4, X},
    {"vm_exit_intr_error_code", 820, 4, X},
    {"idt_vectoring_info_field", 824, 4, X},
    {"idt_vectoring_error_code", 828, 4, X},
    {"vm_exit_instruction_len", 832, 4, X},
    {"vmx_instruction_info", 836, 4, X},
    {"guest_es_limit", 840, 4, G},
    {"guest_cs_limit", 844, 4, G},
    {"guest_ss_limit", 848, 4, G},
    {"guest_ds_limit", 852, 4, G},
    {"guest_fs_limit", 856, 4, G},
    {"guest_gs_limit", 860, 4, G},
    {"guest_ldtr_limit", 864, 4, G},
    {"guest_tr_limit", 868, 4, G},
    {"guest_gdtr_limit", 872, 4, G},
    {"guest_idtr_limit", 876, 4, G},
    {"guest_es_ar_bytes", 880, 4, G},
    {"guest_cs_ar_bytes", 884, 4, G},
    {"guest_ss_ar_bytes", 888, 4, G},
    {"guest_ds_ar_bytes", 892, 4, G},
    {"guest_fs_ar_bytes", 896, 4, G},
    {"guest_gs_ar_bytes", 900, 4, G},
    {"guest_ldtr_ar_bytes", 904, 4, G},
    {"guest_tr_ar_bytes", 908, 4, G},
    {"guest_interruptibility_info", 912, 4, G},
    {"guest_activity_state", 916, 4, G},
    {"guest_sysenter_cs", 920, 4, G},
    {"host_ia32_sysenter_cs", 924, 4, H},
    {"vmx_preemption_timer_value", 928, 4, G},
    {"virtual_processor_id", 960, 2, C},
    {"posted_intr_nv", 962, 2, C},
    {"guest_es_selector", 964, 2, G},
    {"guest_cs_selector", 966, 2, G},
    {"guest_ss_selector", 968, 2, G},
    {"guest_ds_selector", 970, 2, G},
    {"guest_fs_selector", 972, 2, G},
    {"guest_gs_selector", 974, 2, G},
    {"guest_ldtr_selector", 976, 2, G},
    {"guest_tr_selector", 978, 2, G},
    {"guest_intr_status", 980, 2, G},
    {"host_es_selector", 982, 2, H},
    {"host_cs_selector", 984, 2, H},
    {"host_ss_selector", 986, 2, H},
    {"host_ds_selector", 988, 2, H},
    {"host_fs_selector", 990, 2, H},
    {"host_gs_selector", 992, 2, H},
    {"host_tr_selector", 994, 2, H},
    {"guest_pml_index", 996, 2, G},
};

constexpr std::string_view V = "save";
constexpr uint16_t S = 0x400;   // offsetof(struct vmcb, save) = sizeof(struct vmcb_control_area)

// intercepts[] is named after enum intercept_words; misc_ctl and misc_ctl2 are called nested_ctl
// and virt_ext in older kernels, same offsets.
constexpr Field kVmcb12[] = {
    {"intercept_cr", 0x00, 4, C},
    {"intercept_dr", 0x04, 4, C},
    {"intercept_exception", 0x08, 4, C},
    {"intercept_word3", 0x0c, 4, C},
    {"intercept_word4", 0x10, 4, C},
    {"intercept_word5", 0x14, 4, C},
    {"pause_filter_thresh", 0x3c, 2, C},
    {"pause_filter_count", 0x3e, 2, C},
    {"iopm_base_pa", 0x40, 8, C},
    {"msrpm_base_pa", 0x48, 8, C},
    {"tsc_offset", 0x50, 8, C},
    {"asid", 0x58, 4, C},
    {"tlb_ctl", 0x5c, 1, C},
    {"erap_ctl", 0x5d, 1, C},
    {"int_ctl", 0x60, 4, C},
    {"int_vector", 0x64, 4, C},
    {"int_state", 0x68, 4, C},
    {"exit_code", 0x70, 8, C},
    {"exit_info_1", 0x78, 8, C},
    {"exit_info_2", 0x80, 8, C},
    {"exit_int_info", 0x88, 4, C},
    {"exit_int_info_err", 0x8c, 4, C},
    {"misc_ctl", 0x90, 8, C},
    {"avic_vapic_bar", 0x98, 8, C},
    {"ghcb_gpa", 0xa0, 8, C},
    {"event_inj", 0xa8, 4, C},
    {"event_inj_err", 0xac, 4, C},
    {"nested_cr3", 0xb0, 8, C},
    {"misc_ctl2", 0xb8, 8, C},
    {"clean", 0xc0, 4, C},
    {"next_rip", 0xc8, 8, C},
    {"insn_len", 0xd0, 1, C},
    {"insn_bytes", 0xd1, 15, C},
    {"avic_backing_page", 0xe0, 8, C},
    {"avic_logical_id", 0xf0, 8, C},
    {"avic_physical_id", 0xf8, 8, C},
    {"vmsa_pa", 0x108, 8, C},
    {"bus_lock_counter", 0x120, 2, C},
    {"allowed_sev_features", 0x138, 8, C},
    {"guest_sev_features", 0x140, 8, C},
    {"es.selector", S + 0x0, 2, V},
    {"es.attrib", S + 0x2, 2, V},
    {"es.limit", S + 0x4, 4, V},
    {"es.base", S + 0x8, 8, V},
    {"cs.selector", S + 0x10, 2, V},
    {"cs.attrib", S + 0x12, 2, V},
    {"cs.limit", S + 0x14, 4, V},
    {"cs.base", S + 0x18, 8, V},
    {"ss.selector", S + 0x20, 2, V},
    {"ss.attrib", S + 0x22, 2, V},
    {"ss.limit", S + 0x24, 4, V},
    {"ss.base", S + 0x28, 8, V},
    {"ds.selector", S + 0x30, 2, V},
    {"ds.attrib", S + 0x32, 2, V},
    {"ds.limit", S + 0x34, 4, V},
    {"ds.base", S + 0x38, 8, V},
    {"fs.selector", S + 0x40, 2, V},
    {"fs.attrib", S + 0x42, 2, V},
    {"fs.limit", S + 0x44, 4, V},
    {"fs.base", S + 0x48, 8, V},
    {"gs.selector", S + 0x50, 2, V},
    {"gs.attrib", S + 0x52, 2, V},
    {"gs.limit", S + 0x54, 4, V},
    {"gs.base", S + 0x58, 8, V},
    {"gdtr.selector", S + 0x60, 2, V},
    {"gdtr.attrib", S + 0x62, 2, V},
    {"gdtr.limit", S + 0x64, 4, V},
    {"gdtr.base", S + 0x68, 8, V},
    {"ldtr.selector", S + 0x70, 2, V},
    {"ldtr.attrib", S + 0x72, 2, V},
    {"ldtr.limit", S + 0x74, 4, V},
    {"ldtr.base", S + 0x78, 8, V},
    {"idtr.selector", S + 0x80, 2, V},
    {"idtr.attrib", S + 0x82, 2, V},
    {"idtr.limit", S + 0x84, 4, V},
    {"idtr.base", S + 0x88, 8, V},
    {"tr.selector", S + 0x90, 2, V},
    {"tr.attrib", S + 0x92, 2, V},
    {"tr.limit", S + 0x94, 4, V},
    {"tr.base", S + 0x98, 8, V},
    {"vmpl", S + 0xca, 1, V},
    {"cpl", S + 0xcb, 1, V},
    {"efer", S + 0xd0, 8, V},
    {"cr4", S + 0x148, 8, V},
    {"cr3", S + 0x150, 8, V},
    {"cr0", S + 0x158, 8, V},
    {"dr7", S + 0x160, 8, V},
    {"dr6", S + 0x168, 8, V},
    {"rflags", S + 0x170, 8, V},
    {"rip", S + 0x178, 8, V},
    {"rsp", S + 0x1d8, 8, V},
    {"s_cet", S + 0x1e0, 8, V},
    {"ssp", S + 0x1e8, 8, V},
    {"isst_addr", S + 0x1f0, 8, V},
    {"rax", S + 0x1f8, 8, V},
    {"star", S + 0x200, 8, V},
    {"lstar", S + 0x208, 8, V},
    {"cstar", S + 0x210, 8, V},
    {"sfmask", S + 0x218, 8, V},
    {"kernel_gs_base", S + 0x220, 8, V},
    {"sysenter_cs", S + 0x228, 8, V},
    {"sysenter_esp", S + 0x230, 8, V},
    {"sysenter_eip", S + 0x238, 8, V},
    {"cr2", S + 0x240, 8, V},
    {"g_pat", S + 0x268, 8, V},
    {"dbgctl", S + 0x270, 8, V},
    {"br_from", S + 0x278, 8, V},
    {"br_to", S + 0x280, 8, V},
    {"last_excp_from", S + 0x288, 8, V},
    {"last_excp_to", S + 0x290, 8, V},
    {"spec_ctrl", S + 0x2e0, 8, V},
};

// Fields in offset order, inside their page, and overlapping only as disjoint bit-fields of
// the same bytes: a transcription slip fails the build.
constexpr bool well_formed(std::span<const Field> t, size_t page) {
    for (size_t i = 0; i < t.size(); ++i) {
        if (t[i].size == 0 || t[i].size > 16 || t[i].offset + t[i].size > page) return false;
        if (t[i].mask && t[i].size > 8) return false;
        if (i == 0) continue;
        const Field& p = t[i - 1];
        if (p.offset == t[i].offset && p.size == t[i].size && p.mask && t[i].mask && !(p.mask & t[i].mask)) continue;
        if (p.offset + p.size > t[i].offset) return false;
    }
    return true;
}
static_assert(well_formed(kVmcs12, kVmcsSize));
static_assert(well_formed(kVmcb12, kVmcbSize));
static_assert(kVmcs12[std::size(kVmcs12) - 1].offset + 2 == kVmcs12StructSize);   // guest_pml_index ends the struct
static_assert(kVmcb12[std::size(kVmcb12) - 1].offset + 8 == S + 744);              // spec_ctrl ends the save area

} // namespace

std::span<const Field> vmcs12_fields() { return kVmcs12; }
std::span<const Field> vmcb12_fields() { return kVmcb12; }

const Field* find_field(std::span<const Field> table, std::string_view name) {
    auto it = std::find_if(table.begin(), table.end(), [&](const Field& f) { return f.name == name; });
    return it == table.end() ? nullptr : &*it;
}

uint64_t field_value(std::span<const uint8_t> area, const Field& f) {
    uint64_t v = 0;
    unsigned n = std::min<unsigned>(f.size, 8);
    for (unsigned i = 0; i < n && f.offset + i < area.size(); ++i) v |= uint64_t(area[f.offset + i]) << (8 * i);
    if (f.mask) v = (v & f.mask) >> __builtin_ctzll(f.mask);
    return v;
}

std::string field_hex(std::span<const uint8_t> area, const Field& f) {
    if (f.mask) {
        unsigned bits = 64 - __builtin_clzll(f.mask) - __builtin_ctzll(f.mask);
        return fmt::format("0x{:0{}x}", field_value(area, f), (bits + 3) / 4);
    }
    std::string s = "0x";
    for (unsigned i = f.size; i-- > 0;) {
        uint8_t b = f.offset + i < area.size() ? area[f.offset + i] : 0;
        s += fmt::format("{:02x}", b);
    }
    return s;
}

} // namespace xsave::nested
