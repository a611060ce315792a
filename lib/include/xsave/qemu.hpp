#pragma once
// QEMU migration streams ("QEVM" version 3: `migrate "exec:cat > vm.mig"`, `virsh save`, the
// vmstate of a savevm snapshot): each `cpu` device's registers, rebuilt into the XSAVE area
// QEMU's x86_cpu_xsave_all_areas would hand to KVM.
#include "xsave/layout.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace xsave {

constexpr uint32_t kQemuVmFileMagic = 0x5145564d;   // "QEVM", big-endian like the whole stream
constexpr uint32_t kQemuVmFileVersion = 3;

// True when the bytes start with "QEVM".
bool is_qemu_stream(std::span<const uint8_t> bytes);

// A register a bug report wants next to the vector state (RIP, RSP, CR0, CR4, EFER, ...).
struct ContextRegister {
    std::string name;     // lowercase: "rip", "cr0", "efer"
    uint64_t value = 0;
    uint8_t width = 8;    // bytes, for printing
};

// One field of a device as the stream's JSON description places it.
struct QemuField {
    std::string name;                 // as QEMU names it: "env.fpuc", "env.xmm_regs[1]"
    std::string type;                 // "uint64", "struct", "buffer", ...
    std::string struct_name;          // vmsd_name of a struct element ("xmm_reg")
    std::vector<std::string> members; // a struct element's field names, in order
    std::vector<uint32_t> member_sizes;
    uint64_t offset = 0;              // file offset of the first element
    uint32_t size = 0;                // bytes per element
    uint32_t count = 1;               // elements
};

// A `cpu` device section: QEMU's fields and the state rebuilt from them.
struct QemuCpu {
    uint32_t index = 0;               // the section's instance id: the vCPU index
    uint64_t section_offset = 0;      // file offset of the section header
    uint32_t version = 0;             // the cpu vmstate version
    std::vector<QemuField> fields;    // every field of the section and its subsections
    std::vector<std::string> subsections;   // "cpu/pkru", ... in stream order

    // State, decoded from the fields by name (QEMU's env names), as the stream records it.
    uint64_t xcr0 = 0, xstate_bv = 0, xss = 0;
    uint16_t fcw = 0x37f, fsw = 0, ftw_abridged = 0, fop = 0;   // fsw with TOP (fpus_vmstate)
    uint64_t fip = 0, fdp = 0;
    uint32_t mxcsr = 0x1f80;
    uint8_t fpregs[8][10] = {};       // QEMU's env.fpregs[i] as 80-bit little-endian values
    uint8_t zmm[32][64] = {};         // env.xmm_regs: all 512 bits, little-endian
    uint64_t opmask[8] = {};
    uint64_t bnd[4][2] = {};          // lower, upper bound
    uint64_t bndcfgu = 0, bndstatus = 0;
    uint32_t pkru = 0;
    std::vector<uint8_t> xtilecfg, xtiledata;   // empty when the stream has no AMX subsection
    bool has_nested_state = false;    // cpu/nested_state subsection present
    // That subsection as the struct kvm_nested_state KVM_GET_NESTED_STATE returned (empty without it).
    std::vector<uint8_t> nested_state;
    uint64_t nested_state_offset = 0; // file offset of the env.nested_state field
    std::vector<ContextRegister> context;       // rip, rsp, ..., cr0, cr4, efer
    std::vector<std::string> notes;
};

struct QemuStream {
    std::string machine;              // the configuration section's machine type
    uint64_t ram_bytes = 0;           // sum of the RAM block list
    std::vector<std::string> ram_blocks;   // "pc.ram (16 MiB)"
    uint64_t ram_pages = 0, zero_pages = 0, other_pages = 0;
    size_t device_sections = 0;
    uint64_t description_offset = 0;  // of the QEMU_VM_VMDESCRIPTION byte
    std::vector<QemuCpu> cpus;        // in stream order
};

// Walks the whole stream, bounds-checking every length: the header, configuration, every
// section with its footer (RAM pages skipped in place, device sections sized by the JSON
// description QEMU appends after QEMU_VM_EOF), then decodes each `cpu` device. Throws Error
// naming the offset at fault: wrong magic or version, truncation, a section or subsection that
// does not match the description, no description, no cpu device.
QemuStream read_qemu_stream(std::span<const uint8_t> bytes);

// QEMU's built-in XSAVE offsets (x86_ext_save_areas, what TCG uses; KVM takes the host's
// CPUID.(0xD,i).EBX, the same on Intel) as a profile enabling `xcr0`.
Profile qemu_default_profile(uint64_t xcr0);

// The components of `layout` whose bytes in `area` are not their initial configuration (by the
// catalogue): under TCG QEMU records XSTATE_BV as 0 whatever the registers hold.
uint64_t qemu_components_in_use(std::span<const uint8_t> area, const Layout& layout);

struct Source;
struct SourceRequest;
// The input table's reader: each vCPU as the standard area QEMU would build for KVM, laid out
// with --cpuid's offsets or QEMU's built-in ones; context (GPRs, RIP, CRn, EFER, XCR0) as hex.
Source qemu_source(std::span<const uint8_t> bytes, const SourceRequest& req);

// The standard-form XSAVE area of `layout` (whose mask should be XCR0), laid out as
// x86_cpu_xsave_all_areas does: legacy region, XSTATE_BV = `xstate_bv`, each component of the
// layout from QEMU's fields; MXCSR_MASK 0 and env.fpregs copied unrotated, as QEMU does.
std::vector<uint8_t> qemu_xsave_area(const QemuCpu& cpu, const Layout& layout, uint64_t xstate_bv);

} // namespace xsave
