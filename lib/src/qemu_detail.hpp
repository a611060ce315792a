#pragma once
// Between the QEMU stream walk and the cpu decoder.
#include "xsave/qemu.hpp"

namespace xsave {

// Fills each cpu's state and context from its fields (offsets checked by the walk).
void decode_qemu_cpus(QemuStream& s, std::span<const uint8_t> bytes);

} // namespace xsave
