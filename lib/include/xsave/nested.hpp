#pragma once
// KVM nested virtualization state (KVM_GET/SET_NESTED_STATE, struct kvm_nested_state in the
// kernel's arch/x86/include/uapi/asm/kvm.h): a 128-byte header, then the L1 hypervisor's
// VMCS12 (+ shadow VMCS12) on Intel or its VMCB12 on AMD. The field tables below are ABI:
// decode, JSON, diff and check all read them.
#include "xsave/diff.hpp"
#include "xsave/nested_state.hpp"
#include "xsave/validate.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace xsave::nested {

constexpr size_t kHeaderSize = 128;       // sizeof(struct kvm_nested_state)
constexpr size_t kVmcsSize = 0x1000;      // KVM_STATE_NESTED_VMX_VMCS_SIZE (= VMCS12_SIZE)
constexpr size_t kVmcbSize = 0x1000;      // KVM_STATE_NESTED_SVM_VMCB_SIZE
constexpr size_t kVmcs12StructSize = 998; // sizeof(struct vmcs12): what KVM copies from the page
constexpr uint32_t kVmcs12Revision = 0x11e57ed0;   // VMCS12_REVISION

// kvm_nested_state.flags
constexpr uint16_t kGuestMode = 0x1, kRunPending = 0x2, kEvmcs = 0x4, kMtfPending = 0x8, kGifSet = 0x100;
constexpr uint16_t kKnownFlags = kGuestMode | kRunPending | kEvmcs | kMtfPending | kGifSet;
// kvm_vmx_nested_state_hdr.smm.flags and .flags
constexpr uint16_t kSmmGuestMode = 0x1, kSmmVmxon = 0x2;
constexpr uint32_t kVmxPreemptionTimerDeadline = 0x1;

// Header offsets (the VMX and SVM headers share the union at 8).
constexpr size_t kOffFlags = 0, kOffFormat = 2, kOffSize = 4, kOffVmxonPa = 8, kOffVmcs12Pa = 16,
                 kOffSmmFlags = 24, kOffPad = 26, kOffVmxFlags = 28, kOffPreemptionDeadline = 32,
                 kOffVmcbPa = 8;

// One field of a VMCS12 or VMCB12: byte offset, width in bytes, and for bit-fields the mask of
// the bits it owns within those bytes (0: all of them).
struct Field {
    std::string_view name;    // the kernel's member name ("guest_rip", "es.selector")
    uint16_t offset;
    uint8_t size;             // 1, 2, 4, 8 or up to 16 (vmcb insn_bytes)
    std::string_view group;   // vmcs12: header, control, exit-info, guest, host; vmcb12: control, save
    uint64_t mask = 0;
};
std::span<const Field> vmcs12_fields();   // offsets within the VMCS12 page
std::span<const Field> vmcb12_fields();   // offsets within the VMCB12 page (save area at 0x400)
const Field* find_field(std::span<const Field> table, std::string_view name);

// A field's value: bytes read little-endian (masked and shifted for bit-fields). Widths above
// 8 bytes: use field_hex.
uint64_t field_value(std::span<const uint8_t> area, const Field& f);
// "0x" + lowercase hex zero-padded to the field's width.
std::string field_hex(std::span<const uint8_t> area, const Field& f);

// The header's first bytes are those of a nested state: format 0 or 1, only known flags, size
// 128, 4224 or 8320 (what KVM_GET_NESTED_STATE writes), and, where present, the rest of the
// header as KVM fills it. An XSAVE area never matches (its FCW/MXCSR/ST bytes sit there).
bool looks_like_nested_state(std::span<const uint8_t> bytes);

// Throws Error naming the offset: fewer than 128 bytes, size below 128 or beyond the file,
// format other than 0/1.
State parse_nested_state(std::span<const uint8_t> bytes);

std::vector<std::string> flag_names(uint16_t flags);        // "GUEST_MODE", ..., "0x40" for unknown bits
std::vector<std::string> smm_flag_names(uint16_t flags);    // "SMM_GUEST_MODE", "SMM_VMXON"
std::vector<std::string> vmx_flag_names(uint32_t flags);    // "PREEMPTION_TIMER_DEADLINE"

// {"kind": "kvm_nested_state", "format": "vmx"|"svm", "flags": "0x..", "flag_names": [...],
//  "size", "vmx"|"svm": {header fields}, "vmcs12"/"shadow_vmcs12": {field: "0x.."} or
//  "vmcb12": {"control": {...}, "save": {...}}, "unnamed_bytes": [...], "trailing_bytes", "notes"}
nlohmann::ordered_json to_json(const State& s);

// Field by field: kind "header" (flags, format, size, vmxon_pa, ...), "field" (name
// "vmcs12.guest_rip", "vmcb12.save.efer"), "area" (present in one only), "bytes" (unnamed).
DiffResult diff_states(const State& a, const State& b);

// ---------------------------------------------------------------- check (KVM_SET_NESTED_STATE)

enum class Rules : uint8_t { Vmx, Svm };

struct CheckOptions {
    Rules rules = Rules::Vmx;     // the host's: VMX on Intel/Zhaoxin, SVM on AMD/Hygon
    bool in_smm = false;          // is the vCPU in SMM when the state is set?
    bool vmx_in_cpuid = true;     // nested_vmx_allowed(): the vCPU's CPUID has VMX
    bool evmcs_enabled = false;   // KVM_CAP_HYPERV_ENLIGHTENED_VMCS enabled on the vCPU
    bool svme = true;             // the vCPU's EFER.SVME (set by KVM_SET_SREGS before)
    bool npt_enabled = true;      // the host KVM's npt module parameter
    bool la57 = false;            // the vCPU has 5-level paging (57-bit canonical addresses)
    unsigned maxphyaddr = 52;     // the vCPU's CPUID.80000008H:EAX[7:0]
    std::string maxphyaddr_source = "default";
};

struct CheckResult {
    Rules rules = Rules::Vmx;
    std::vector<Violation> violations;      // in the order KVM tests them
    std::vector<std::string> assumptions;   // what the blob cannot tell, as assumed
    bool ok() const { return violations.empty(); }
};

struct RuleInfo {
    std::string_view name;
    std::string_view where;     // kernel file and function
    std::string_view summary;
};
std::span<const RuleInfo> all_rules();
// KVM checks this tool does not make, each with why.
std::span<const RuleInfo> unchecked_rules();

CheckResult check_nested_state(const State& s, const CheckOptions& opt);

} // namespace xsave::nested
