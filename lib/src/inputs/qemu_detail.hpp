#pragma once
// Between the QEMU stream walk and the cpu decoder.
#include "xsave/qemu.hpp"

namespace xsave {

// Fills each cpu's state and context from its fields (offsets checked by the walk).
void decode_qemu_cpus(QemuStream& s, std::span<const uint8_t> bytes);

// The cpu's env.nested_state fields rebuilt into a struct kvm_nested_state (little-endian
// header, then the VMCS12/VMCB12 pages), `size` bytes; empty when the cpu has none. Notes what
// the stream does not hold. Throws Error naming the offset when the fields do not fit it.
std::vector<uint8_t> qemu_nested_state(const QemuCpu& c, std::span<const uint8_t> bytes, std::vector<std::string>& notes);

} // namespace xsave
