#pragma once
// KVM nested-state buffers built from the documented layout (struct kvm_nested_state in
// arch/x86/include/uapi/asm/kvm.h; struct vmcs12 offsets from vmcs12.h CHECK_OFFSET; struct
// vmcb from asm/svm.h), written with literal offsets so the tests do not read our own tables.
#include "xsave/image.hpp"
#include "model/bytes.hpp"

#include <cstdint>
#include <vector>

namespace nested_test {

inline void put(std::vector<uint8_t>& b, size_t off, uint64_t v, unsigned n) { xsave::store_le(&b[off], v, n); }

// A VMX state as KVM_GET_NESTED_STATE writes it while L2 runs: header + one VMCS12 page that
// passes every VM-entry check KVM makes.
inline std::vector<uint8_t> vmx_state(uint16_t flags = 0x1) {
    std::vector<uint8_t> b(128 + 4096);
    put(b, 0, flags, 2);
    put(b, 2, 0, 2);                       // KVM_STATE_NESTED_FORMAT_VMX
    put(b, 4, 128 + 4096, 4);
    put(b, 8, 0x10000, 8);                 // vmxon_pa
    put(b, 16, 0x11000, 8);                // vmcs12_pa
    const size_t v = 128;                  // vmcs12
    put(b, v + 0, 0x11e57ed0, 4);          // hdr.revision_id (VMCS12_REVISION)
    put(b, v + 8, 1, 4);                   // launch_state
    put(b, v + 56, 0x12000, 8);            // msr_bitmap
    put(b, v + 120, 0x1305e, 8);           // ept_pointer: WB, 4-level walk, A/D
    put(b, v + 176, ~0ull, 8);             // vmcs_link_pointer
    put(b, v + 424, 0x80050033, 8);        // guest_cr0: PE MP ET NE WP AM PG
    put(b, v + 432, 0x7000, 8);            // guest_cr3
    put(b, v + 440, 0x2020, 8);            // guest_cr4: PAE VMXE
    put(b, v + 536, 0x7fffc000, 8);        // guest_rsp
    put(b, v + 544, 0xffffffff81000000, 8);   // guest_rip
    put(b, v + 552, 0x2, 8);               // guest_rflags
    put(b, v + 584, 0x80050033, 8);        // host_cr0
    put(b, v + 592, 0x8000, 8);            // host_cr3
    put(b, v + 600, 0x2020, 8);            // host_cr4: PAE VMXE
    put(b, v + 672, 0xffffffff81001000, 8);   // host_rip
    put(b, v + 748, (1u << 31) | (1u << 28), 4);   // cpu_based: secondary controls, MSR bitmaps
    put(b, v + 768, 1u << 9, 4);           // vm_exit_controls: host address-space size
    put(b, v + 780, 1u << 9, 4);           // vm_entry_controls: IA-32e mode guest
    put(b, v + 804, (1u << 1) | (1u << 5), 4);   // secondary: EPT, VPID
    put(b, v + 960, 1, 2);                 // virtual_processor_id
    put(b, v + 966, 0x10, 2);              // guest_cs_selector
    put(b, v + 984, 0x10, 2);              // host_cs_selector
    put(b, v + 986, 0x18, 2);              // host_ss_selector
    put(b, v + 994, 0x40, 2);              // host_tr_selector
    return b;
}

// An SVM state while L2 runs: header + VMCB12 (control of L2's VMCB12, save = L1's state).
inline std::vector<uint8_t> svm_state(uint16_t flags = 0x101) {
    std::vector<uint8_t> b(128 + 4096);
    put(b, 0, flags, 2);                   // GUEST_MODE | GIF_SET
    put(b, 2, 1, 2);                       // KVM_STATE_NESTED_FORMAT_SVM
    put(b, 4, 128 + 4096, 4);
    put(b, 8, 0x20000, 8);                 // vmcb_pa
    const size_t c = 128, s = 128 + 0x400;
    put(b, c + 0x0c, 1u << 1, 4);          // intercepts[INTERCEPT_WORD3]: NMI
    put(b, c + 0x10, 1, 4);                // intercepts[INTERCEPT_WORD4]: VMRUN
    put(b, c + 0x40, 0x30000, 8);          // iopm_base_pa
    put(b, c + 0x48, 0x40000, 8);          // msrpm_base_pa
    put(b, c + 0x58, 1, 4);                // asid
    put(b, c + 0x90, 1, 8);                // nested_ctl / misc_ctl: NP enable
    put(b, c + 0xb0, 0x60000, 8);          // nested_cr3
    put(b, s + 0x12, 0x29b, 2);            // cs.attrib
    put(b, s + 0x10, 0x10, 2);             // cs.selector
    put(b, s + 0xd0, 0x1d01, 8);           // efer: SCE LME LMA NXE SVME
    put(b, s + 0x148, 0x20, 8);            // cr4: PAE
    put(b, s + 0x150, 0x50000, 8);         // cr3
    put(b, s + 0x158, 0x80050033, 8);      // cr0
    put(b, s + 0x160, 0x400, 8);           // dr7
    put(b, s + 0x168, 0xffff0ff0, 8);      // dr6
    put(b, s + 0x170, 0x2, 8);             // rflags
    put(b, s + 0x178, 0xffffffff81002000, 8);   // rip
    put(b, s + 0x1d8, 0xffffc90000003f00, 8);   // rsp
    put(b, s + 0x268, 0x0007040600070406, 8);   // g_pat
    return b;
}

} // namespace nested_test
