#pragma once
// Will this buffer restore? Every reason a target (XRSTOR, XRSTORS, KVM_SET_XSAVE, WHPX, MSHV)
// would reject an XSAVE area, each tied to a named rule. Works from the raw bytes and a
// CpuModel, so a buffer with an odd header is judged (violations), never refused (Error).
#include "xsave/layout.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace xsave {

enum class Target : uint8_t {
    Xrstor,    // XRSTOR, standard or compacted form, RFBM = XCR0
    Xrstors,   // XRSTORS (compacted only), RFBM = XCR0 | IA32_XSS
    Kvm,       // KVM_SET_XSAVE: the kernel's checks on a user (standard-form) buffer
    Whpx,      // WHvSetVirtualProcessorXsaveState: compacted form
    Mshv,      // Linux /dev/mshv: compacted form, XCOMP_BV = supported XCR0 & guest XCR0
};
const char* target_name(Target t);                              // "xrstor", ...
std::optional<Target> target_from_name(std::string_view name);  // nullopt when unknown

struct CheckOptions {
    Target target = Target::Xrstor;
    std::optional<uint64_t> xcr0;        // enabled XCR0; default: the profile's enabled XCR0
    std::optional<uint64_t> xss;         // enabled IA32_XSS (xrstors); default: the profile's
    std::optional<uint64_t> guest_xcr0;  // mshv: the guest's XCR0; default: the XCR0 above
    // kvm: the bytes are the buffer userspace hands KVM_SET_XSAVE, so its size matters
    // (false where the VMM builds that buffer itself, as QEMU does from its migration stream).
    bool kvm_struct = true;
    // IA32_XFD when the target restores (kvm: the vCPU's guest IA32_XFD). See check_xfd.
    uint64_t xfd = 0;
};

// KVM_SET_XSAVE copies guest_fpu.uabi_size bytes: sizeof(struct kvm_xsave) = 4096, or, once the
// vCPU's CPUID enables a dynamic (XFD-capable) component such as AMX TILEDATA, the standard
// size for the guest's features, the value KVM_CHECK_EXTENSION(KVM_CAP_XSAVE2) returns and
// KVM_GET_XSAVE2 fills. `xcr0`: the guest's user features.
uint32_t kvm_xsave_size(const CpuModel& cpu, uint64_t xcr0);

// An --xfd value a WRMSR to IA32_XFD would accept on `cpu`: each bit a component with
// CPUID.(EAX=0DH,ECX=i):ECX[2] = 1, on a CPU with XFD (CPUID.(EAX=0DH,ECX=1):EAX[4]).
// Throws Error naming the value and the bit otherwise.
void check_xfd(uint64_t xfd, const CpuModel& cpu, std::string_view what = "--xfd");

struct Violation {
    std::string rule;      // e.g. "xstate-bv-in-xcr0"; see all_rules()
    std::string message;   // one line naming the offending bits or bytes
};

// Where the MXCSR reserved-bit mask came from.
enum class MxcsrMaskSource : uint8_t { Profile, Buffer, Default };

struct CheckResult {
    Target target = Target::Xrstor;
    Format form = Format::Standard;     // as XCOMP_BV[63] says (standard when the header is missing)
    uint32_t mxcsr_mask = 0xFFBF;       // the mask MXCSR was checked against
    MxcsrMaskSource mxcsr_mask_source = MxcsrMaskSource::Default;
    uint64_t rfbm = 0;                  // what the target restores: XCR0 (| IA32_XSS for xrstors)
    std::vector<Violation> violations;  // in rule-table order
    std::vector<std::string> notes;     // what the header says about the XFD-armed components
    bool ok() const { return violations.empty(); }
};

// One row of the rule table, for documentation and `check --list-rules`.
struct RuleInfo {
    std::string_view name;
    std::string_view summary;
    uint8_t targets;        // bit per Target
    bool cpu_observable;    // false: XRSTOR in a child cannot see it (it pads short buffers)
    bool applies_to(Target t) const { return targets >> static_cast<unsigned>(t) & 1; }
};
std::span<const RuleInfo> all_rules();

// Judges `bytes` as `opt.target` would on the CPU `cpu` describes. Never throws for the
// buffer's contents: a short buffer or a header naming unknown components are violations.
CheckResult check_area(std::span<const uint8_t> bytes, const CpuModel& cpu, const CheckOptions& opt = {});

// The SDM's MXCSR_MASK when FXSAVE reports 0.
constexpr uint32_t kDefaultMxcsrMask = 0xFFBF;

} // namespace xsave
