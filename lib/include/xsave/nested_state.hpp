#pragma once
// A KVM nested state as read (struct kvm_nested_state): the header and the VMCS12/VMCB12
// pages. Kept apart from nested.hpp so xsave/open.hpp can carry it cheaply.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace xsave::nested {

constexpr uint16_t kFormatVmx = 0, kFormatSvm = 1;

struct Header {
    uint16_t flags = 0, format = 0;
    uint32_t size = 0;
    // VMX (format 0)
    uint64_t vmxon_pa = 0, vmcs12_pa = 0;
    uint16_t smm_flags = 0, pad = 0;
    uint32_t vmx_flags = 0;
    uint64_t preemption_timer_deadline = 0;
    // SVM (format 1)
    uint64_t vmcb_pa = 0;
};

// Non-zero bytes no field names (padding, reserved, past the struct in its 4 KiB page).
struct UnnamedRun {
    std::string area;         // vmcs12, shadow_vmcs12, vmcb12, header
    size_t offset = 0;        // within the area
    std::vector<uint8_t> bytes;
};

struct State {
    Header hdr;
    std::vector<uint8_t> vmcs12, shadow_vmcs12, vmcb12;   // empty when absent
    std::vector<UnnamedRun> unnamed;
    size_t file_size = 0;
    size_t ignored_data = 0;   // data bytes within `size` too short for a VMCS12/VMCB12 (KVM ignores them)
    size_t trailing = 0;       // bytes after `size`
    std::vector<std::string> notes;
    bool vmx() const { return hdr.format == kFormatVmx; }
};

} // namespace xsave::nested
