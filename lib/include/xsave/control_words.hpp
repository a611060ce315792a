#pragma once
// The x87 and SSE control and status registers (FCW, FSW, FTW, MXCSR) as named bit fields:
// one table per register, read by every printer, so the names are defined once.
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace xsave {

struct BitField {
    enum Kind : uint8_t {
        Flag,     // one bit, named only when set (exception flags and masks)
        Number,   // shown as NAME=value (TOP, condition codes, FZ, DAZ)
        Choice,   // shown as NAME=choice name (RC, PC)
    };
    std::string_view name;
    uint8_t lo, width = 1;
    Kind kind = Flag;
    uint8_t group = 0;                        // printers separate groups (flags, masks, modes)
    std::span<const std::string_view> choices = {};   // Choice: a name per value
};

struct ControlWord {
    std::string_view reg;                     // the register's name in the catalogue: "mxcsr"
    std::span<const BitField> fields;         // in print order
    uint32_t reserved;                        // bits to report when set (not modelled above)
    std::string_view set_intro = {};          // words before the set flags ("valid:")
    std::string_view none = {};               // what to say when no field has anything to show
};

// The table for a catalogue register name (fcw, fsw, ftw, mxcsr), or nullptr.
const ControlWord* control_word(std::string_view reg);

// One field of a value: its raw bits and, for a Choice, the choice's name.
struct BitValue {
    const BitField* field;
    uint32_t value;
    std::string_view choice;
};
// The fields of `value` in print order: Flags only when set, every Number and Choice.
std::vector<BitValue> decode_control(const ControlWord& w, uint32_t value);

} // namespace xsave
