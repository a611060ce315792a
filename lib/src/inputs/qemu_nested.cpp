// A QEMU `cpu/nested_state` subsection back into the struct kvm_nested_state that
// KVM_GET_NESTED_STATE returned, for the nested-state decoder. QEMU (target/i386/machine.c)
// saves env.nested_state as the vmstate "cpu/kvm_nested_state": flags, format, size, then the
// subsection ".../vmx" (vmxon_pa, vmcs12_pa, smm.flags; subsections ".../vmx/vmcs12" and
// ".../vmx/shadow_vmcs12") or ".../svm" (vmcb_pa, vmcb12). Integers travel big-endian; the
// struct is little-endian.
#include "inputs/qemu_detail.hpp"
#include "model/bytes.hpp"

#include "xsave/error.hpp"
#include "xsave/image.hpp"
#include "xsave/nested.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace xsave {
namespace {

constexpr std::string_view kPrefix = "env.nested_state.";

// Where each QEMU field goes in struct kvm_nested_state (arch/x86/include/uapi/asm/kvm.h).
// Integers are at most 8 bytes; the rest are byte arrays copied as they are.
struct Place {
    std::string_view field;   // QEMU's field name inside env.nested_state
    uint32_t offset, size;
};
constexpr Place kPlaces[] = {
    {"flags", nested::kOffFlags, 2},
    {"format", nested::kOffFormat, 2},
    {"size", nested::kOffSize, 4},
    {"hdr.vmx.vmxon_pa", nested::kOffVmxonPa, 8},
    {"hdr.vmx.vmcs12_pa", nested::kOffVmcs12Pa, 8},
    {"hdr.vmx.smm.flags", nested::kOffSmmFlags, 2},
    {"hdr.vmx.flags", nested::kOffVmxFlags, 4},
    {"hdr.vmx.preemption_timer_deadline", nested::kOffPreemptionDeadline, 8},
    {"hdr.svm.vmcb_pa", nested::kOffVmcbPa, 8},
    {"data.vmx[0].vmcs12", nested::kHeaderSize, nested::kVmcsSize},
    {"data.vmx[0].shadow_vmcs12", nested::kHeaderSize + nested::kVmcsSize, nested::kVmcsSize},
    {"data.svm[0].vmcb12", nested::kHeaderSize, nested::kVmcbSize},
};
constexpr uint32_t kMaxSize = nested::kHeaderSize + 2 * nested::kVmcsSize;


} // namespace

std::vector<uint8_t> qemu_nested_state(const QemuCpu& c, std::span<const uint8_t> b, std::vector<std::string>& notes) {
    auto whole = std::find_if(c.fields.begin(), c.fields.end(), [](const QemuField& f) { return f.name == "env.nested_state"; });
    if (whole == c.fields.end()) return {};
    std::vector<uint8_t> out(kMaxSize, 0);
    uint64_t end = nested::kHeaderSize;   // bytes of `out` the stream filled
    bool vmx_header = false, vmx_flags = false;
    std::vector<std::string> unknown;
    for (const auto& f : c.fields) {
        if (!f.name.starts_with(kPrefix)) continue;
        std::string_view name = std::string_view(f.name).substr(kPrefix.size());
        auto p = std::find_if(std::begin(kPlaces), std::end(kPlaces), [&](const Place& x) { return x.field == name; });
        if (p == std::end(kPlaces)) {
            unknown.push_back(std::string(name));
            continue;
        }
        uint64_t n = uint64_t(f.size) * f.count;
        if (n != p->size || (p->size > 8 && f.size != 1 && f.count != 1))
            throw Error(fmt::format("offset {}: cpu {}: cpu/nested_state field \"{}\" is {} x {} bytes; expected {} bytes (struct kvm_nested_state)",
                                    f.offset, c.index, name, f.count, f.size, p->size));
        if (p->size <= 8) store_le(&out[p->offset], load_be(b.data() + f.offset, p->size), p->size);
        else std::copy_n(b.data() + f.offset, n, out.begin() + p->offset);
        end = std::max<uint64_t>(end, p->offset + p->size);
        vmx_header |= name.starts_with("hdr.vmx.");
        vmx_flags |= name == "hdr.vmx.flags";
    }
    uint16_t format = uint16_t(load_le(&out[nested::kOffFormat], 2));
    uint32_t size = uint32_t(load_le(&out[nested::kOffSize], 4));
    if (size < nested::kHeaderSize || size > kMaxSize)
        throw Error(fmt::format("offset {}: cpu {}: cpu/nested_state size {}; expected {} to {} (struct kvm_nested_state with its data)",
                                whole->offset, c.index, size, nested::kHeaderSize, kMaxSize));
    if (size > end)
        throw Error(fmt::format("offset {}: cpu {}: cpu/nested_state size {}, but its subsections hold only {} bytes of it",
                                whole->offset, c.index, size, end));
    // QEMU leaves the VMX subsection out only when VMXON is off: KVM then reports both addresses as -1.
    if (format == nested::kFormatVmx && !vmx_header) {
        store_le(&out[nested::kOffVmxonPa], ~0ull, 8);
        store_le(&out[nested::kOffVmcs12Pa], ~0ull, 8);
    }
    if (format == nested::kFormatVmx && vmx_header && !vmx_flags)
        notes.push_back("cpu/nested_state: the stream does not hold the VMX header's flags and preemption_timer_deadline (QEMU does not save them): 0, as QEMU passes them to KVM_SET_NESTED_STATE");
    for (const auto& u : unknown)
        notes.push_back(fmt::format("cpu/nested_state field \"{}\" has no place in struct kvm_nested_state as this tool knows it: not decoded", u));
    out.resize(size);
    return out;
}

} // namespace xsave
