#pragma once
// Will these bytes restore *meaning the same registers*? A buffer saved with one CPU's layout
// (FROM) and restored on another (TO): TO's XRSTOR (or a hypervisor copying by TO's offsets)
// reads each in-use component at TO's place for it, so a component TO places elsewhere loads
// other bytes into its registers, without any fault.
#include "xsave/layout.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace xsave {

struct MisreadComponent {
    unsigned bit = 0;
    uint32_t from_offset = 0, from_size = 0;   // where FROM saved it
    uint32_t to_offset = 0, to_size = 0;       // where TO reads it
    std::vector<std::string> registers;        // its registers (component fields) that load other bytes
};

struct MeaningCheck {
    Format form = Format::Standard;
    uint64_t compared = 0;                     // in-use components (bits >= 2) both CPUs place
    std::vector<MisreadComponent> misread;     // bit order
    size_t register_count() const;
    bool same_registers() const { return misread.empty(); }
};

// `bytes` as saved on `from`, restored on `to` for the components in `rfbm` (XCR0, | IA32_XSS
// for XRSTORS). Components outside RFBM, not in use, or that one CPU cannot place are left to
// check_area's rules (they fault or are refused there). A buffer shorter than its header
// compares nothing.
MeaningCheck compare_restore_meaning(std::span<const uint8_t> bytes, const CpuModel& from, const CpuModel& to,
                                     uint64_t rfbm, bool legacy32 = false);

// "k0-k7", "zmm16-zmm31", "pkru": a component's registers with runs of one prefix joined.
std::string register_ranges(const std::vector<std::string>& registers);

} // namespace xsave
