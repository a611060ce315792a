// FCW, FSW, FTW and MXCSR bit by bit (SDM Vol. 1 8.1.3, 8.1.5, 10.5.1.1 and 10.2.3; AMD APM
// Vol. 1 4.2.2 for MXCSR.MM).
#include "xsave/control_words.hpp"

#include <array>

namespace xsave {
namespace {

using K = BitField::Kind;

constexpr std::string_view kRounding[] = {"nearest", "down", "up", "toward-zero"};
// FCW.PC: 01 is reserved.
constexpr std::string_view kPrecision[] = {"single", "reserved", "double", "extended"};

constexpr BitField kMxcsr[] = {
    {"IE", 0}, {"DE", 1}, {"ZE", 2}, {"OE", 3}, {"UE", 4}, {"PE", 5},
    {"IM", 7, 1, K::Flag, 1}, {"DM", 8, 1, K::Flag, 1}, {"ZM", 9, 1, K::Flag, 1},
    {"OM", 10, 1, K::Flag, 1}, {"UM", 11, 1, K::Flag, 1}, {"PM", 12, 1, K::Flag, 1},
    {"RC", 13, 2, K::Choice, 2, kRounding},
    {"FZ", 15, 1, K::Number, 3}, {"DAZ", 6, 1, K::Number, 3},
    {"MM", 17, 1, K::Flag, 3},   // AMD misaligned-exception mask
};
constexpr BitField kFcw[] = {
    {"IM", 0}, {"DM", 1}, {"ZM", 2}, {"OM", 3}, {"UM", 4}, {"PM", 5},
    {"PC", 8, 2, K::Choice, 1, kPrecision},
    {"RC", 10, 2, K::Choice, 2, kRounding},
    {"X", 12, 1, K::Flag, 3},    // infinity control, 287 compatibility only
};
constexpr BitField kFsw[] = {
    {"IE", 0}, {"DE", 1}, {"ZE", 2}, {"OE", 3}, {"UE", 4}, {"PE", 5}, {"SF", 6}, {"ES", 7}, {"B", 15},
    {"TOP", 11, 3, K::Number, 1},
    {"C3", 14, 1, K::Number, 2}, {"C2", 10, 1, K::Number, 2}, {"C1", 9, 1, K::Number, 2}, {"C0", 8, 1, K::Number, 2},
};
// FXSAVE's abridged tag word: bit i set = physical register Ri holds a value.
constexpr BitField kFtw[] = {
    {"R0", 0}, {"R1", 1}, {"R2", 2}, {"R3", 3}, {"R4", 4}, {"R5", 5}, {"R6", 6}, {"R7", 7},
};

// Reserved: MXCSR bits 16 and 18..31 (bit 17 is AMD's MM); FCW bits 13..15 (bit 6 reads as 1,
// it is in FCW's initial value 0x037F); FTW (one byte) none.
constexpr ControlWord kWords[] = {
    {"mxcsr", kMxcsr, 0xFFFD0000u},
    {"fcw", kFcw, 0xE000u},
    {"fsw", kFsw, 0},
    {"ftw", kFtw, 0xFFFFFF00u, "valid:", "all empty"},
};

} // namespace

const ControlWord* control_word(std::string_view reg) {
    for (const auto& w : kWords)
        if (w.reg == reg) return &w;
    return nullptr;
}

std::vector<BitValue> decode_control(const ControlWord& w, uint32_t value) {
    std::vector<BitValue> out;
    for (const auto& f : w.fields) {
        uint32_t v = value >> f.lo & ((1u << f.width) - 1);
        if (f.kind == K::Flag && !v) continue;
        out.push_back({&f, v, f.kind == K::Choice && v < f.choices.size() ? f.choices[v] : std::string_view{}});
    }
    return out;
}

} // namespace xsave
