// How values read to people: x87 decimal values.
#include "xsave/decode.hpp"
#include "model/bytes.hpp"

#include <fmt/core.h>

#include <cmath>
#include <cstring>

namespace xsave {

std::string x87_decimal(std::span<const uint8_t> b) {
    if (b.size() != 10) return "?";
    uint64_t mant = load_le(b.data(), 8);
    unsigned se = unsigned(load_le(b.data() + 8, 2));
    bool neg = se >> 15;
    unsigned exp = se & 0x7fff;
    bool jbit = mant >> 63;
    const char* sign = neg ? "-" : "";
    if (exp == 0x7fff) {
        uint64_t frac = mant & ~(1ull << 63);
        if (!jbit) return fmt::format("{}pseudo-{}", sign, frac ? "NaN" : "infinity");
        if (!frac) return fmt::format("{}inf", sign);
        return fmt::format("{}{}NaN", sign, mant >> 62 & 1 ? "q" : "s");
    }
    if (exp != 0 && !jbit) return "unnormal";
    // Value = mant * 2^(exp - 16383 - 63); denormals use exponent 1 - 16383.
    int e = (exp == 0 ? 1 : int(exp)) - 16383 - 63;
    long double v = std::ldexp(static_cast<long double>(mant), e);
    if (neg) v = -v;
    if (mant == 0) return neg ? "-0" : "0";
    return fmt::format("{:.19Lg}", v);
}

std::string show_value(const Value& v) {
    std::string hex = hex_value(v.bytes);
    switch (v.show) {
    case Show::X87Reg: return hex + "  " + x87_decimal(v.bytes);
    case Show::Mxcsr:   // named fields: control_words.hpp, printed by the CLI
    case Show::Hex:
    case Show::Bytes: break;
    }
    return hex;
}

} // namespace xsave
