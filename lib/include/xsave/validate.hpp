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
};

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
    std::vector<Violation> violations;  // in rule-table order
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
