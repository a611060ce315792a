#pragma once
// Cloud Hypervisor snapshots (state.json): the vm-migration Snapshot tree serialized by
// serde_json, each component's state a JSON document stored as a JSON string; the vCPUs are
// the children of "cpu-manager" ("0", "1", ...), a KVM vCPU is {"Kvm": {cpuid, msrs,
// vcpu_events, regs, sregs, fpu, lapic_state, xsave: {region: [u32; 1024], extra: [u32...]},
// xcrs, mp_state, tsc_khz, nested_state, ...}} (hypervisor/src/kvm/x86_64/mod.rs,
// hypervisor/src/arch/x86/mod.rs; kvm-bindings serializes kvm_regs, kvm_sregs and kvm_xcrs as
// their bytes). Reads each vCPU's XSAVE buffer and rewrites only the xsave arrays.
#include "xsave/profile.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xsave::cloudhv {

struct Vcpu {
    std::string id;                      // "0", "1", ...
    std::vector<uint8_t> xsave;          // region (4096 bytes) then extra, as KVM_GET_XSAVE2 gave them
    size_t extra_words = 0;
    std::optional<uint64_t> xcr0;        // from xcrs (XCR index 0)
    Profile profile;                     // the vCPU's own CPUID entries, XCR0 from xcrs
    std::optional<uint64_t> rip, rsp, cr0, cr4, efer;
    bool has_nested_state = false;       // kept raw: decoded by the nested-state support
    // Where the state string literal (quotes included) sits in the file text.
    size_t literal_begin = 0, literal_end = 0;
    std::string state;                   // the decoded state document
};

struct Snapshot {
    std::string text;                    // state.json as read
    std::vector<Vcpu> vcpus;             // in key order
};

// An object with "snapshots" whose "cpu-manager" child exists.
bool is_state_json(std::string_view text);
// Throws Error naming the JSON path: not JSON, no cpu-manager, a state string that is not
// JSON, a vCPU that is not {"Kvm": ...} (MSHV vCPUs are named as unsupported), a region that
// is not 1024 numbers of 32 bits, an xcrs or regs array of the wrong length.
Snapshot read_state(std::string_view text);

// The snapshot with each vCPU's xsave (region + extra, in u32 words) replaced by `areas[i]`
// (4096 bytes or more, a multiple of 4); every other byte of the file kept. Throws Error when
// a state string is not escaped as serde_json escapes it (a rewrite would change more).
std::string write_state(const Snapshot& s, const std::vector<std::vector<uint8_t>>& areas);

// serde_json's string escaping: ", \ and control characters (\b \f \n \r \t, else \u00xx).
std::string serde_escape(std::string_view s);

} // namespace xsave::cloudhv
