#pragma once
// Cloud Hypervisor snapshots (state.json): the vm-migration Snapshot tree serialized by
// serde_json, each component's state a JSON document stored as a JSON string; the vCPUs are
// the children of "cpu-manager" ("0", "1", ...), a KVM vCPU is {"Kvm": {cpuid, msrs,
// vcpu_events, regs, sregs, fpu, lapic_state, xsave: {region: [u32; 1024], extra: [u32...]},
// xcrs, mp_state, tsc_khz, nested_state, ...}} (hypervisor/src/kvm/x86_64/mod.rs,
// hypervisor/src/arch/x86/mod.rs; kvm-bindings serializes kvm_regs, kvm_sregs and kvm_xcrs as
// their bytes). An MSHV vCPU is {"Mshv": {msrs, vcpu_events, regs, sregs, fpu, xcrs, dbg,
// misc, vp_states}} (hypervisor/src/mshv/x86_64/mod.rs), its XSAVE area inside vp_states.
// Reads each vCPU's XSAVE buffer; a rewrite changes only the xsave arrays and the CPUID leaf
// 0xD layout entries (and XCR0 when state is dropped).
#include "xsave/convert.hpp"
#include "xsave/layout.hpp"
#include "xsave/profile.hpp"

#include <memory>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xsave::cloudhv {

// mshv-bindings AllVpStateComponents: LAPIC (1024 bytes) first, then the XSAVE page.
constexpr size_t kMshvVpStatesSize = 13512;
constexpr size_t kMshvXsaveOffset = 1024;

struct Vcpu {
    std::string id;                      // "0", "1", ...
    bool mshv = false;                   // {"Mshv": ...}: XSAVE from vp_states, no CPUID entries
    std::vector<uint8_t> xsave;          // region (4096 bytes) then extra, as KVM_GET_XSAVE2 gave them
    size_t extra_words = 0;
    std::optional<uint64_t> xcr0;        // from xcrs (XCR index 0)
    Profile profile;                     // the vCPU's own CPUID entries, XCR0 from xcrs
    std::optional<uint64_t> rip, rsp, cr0, cr4, efer;
    std::vector<uint8_t> nested_state;   // KVM: struct kvm_nested_state as kvm-bindings serializes it (empty: null)
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

// What a rewrite changes in one KVM vCPU.
struct VcpuEdit {
    std::vector<uint8_t> area;           // the new xsave: region + extra (4096 bytes or more, whole u32 words)
    std::vector<CpuidLeaf> leaf_0xd;     // (0xD, subleaf) entries whose eax, ebx, ecx are set where listed
    std::optional<uint64_t> xcr0;        // XCR0 written into xcrs
};
// The snapshot with each vCPU edited; every other byte of the file kept. Throws Error when a
// state string is not escaped or its numbers not written as serde_json does (a rewrite would
// change more), or for an MSHV vCPU.
std::string write_state(const Snapshot& s, const std::vector<VcpuEdit>& edits);
// Only the xsave arrays.
std::string write_state(const Snapshot& s, const std::vector<std::vector<uint8_t>>& areas);

// Each KVM vCPU's xsave re-laid in `to`'s standard form (what KVM_SET_XSAVE takes on that
// host), region + extra sized for it, and the CPUID leaf 0xD layout entries (subleaf 0 EBX/ECX
// sizes, each component's size, offset and flags) set to `to`'s, so the snapshot describes
// its own buffer as one taken on `to` would. Feature bits are kept. In-use state `to` lacks is
// refused unless opt.drop names it; XCR0 in xcrs then loses what `to` cannot enable.
// `from`: the layout the arrays are in (default: each vCPU's own CPUID).
struct Converted {
    std::string text;
    std::vector<std::string> notes;
};
Converted convert(const Snapshot& s, const CpuModel& to, const ConvertOptions& opt,
                  std::shared_ptr<const CpuModel> from = nullptr);

// serde_json's string escaping: ", \ and control characters (\b \f \n \r \t, else \u00xx).
std::string serde_escape(std::string_view s);

} // namespace xsave::cloudhv
