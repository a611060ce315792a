// Command-line values checked against what hardware allows.
#include "xsave/option_values.hpp"

#include "xsave/components.hpp"
#include "xsave/error.hpp"

#include <fmt/core.h>

namespace xsave {

void check_xcr0(uint64_t mask, std::string_view what) {
    if (!(mask & 1))
        throw Error(fmt::format("{} 0x{:x}: bit 0 (x87) is clear; XCR0 always has it set (XSETBV refuses 0 there)", what, mask));
    uint64_t unknown = 0;
    for (unsigned b = 0; b < 63; ++b)
        if ((mask >> b & 1) && !component_info(b)) unknown |= 1ull << b;
    if (unknown)
        throw Error(fmt::format("{} 0x{:x}: {} {} not a state component", what, mask, mask_names(unknown),
                                __builtin_popcountll(unknown) > 1 ? "are" : "is"));
}

uint64_t parse_seed(std::string_view text, std::string_view what) {
    auto bad = [&] { return Error(fmt::format("{} '{}': expected an unsigned number from 0 to {}", what, text, UINT64_MAX)); };
    std::string_view digits = text;
    unsigned base = 10;
    if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) digits.remove_prefix(2), base = 16;
    if (digits.empty()) throw bad();
    uint64_t v = 0;
    for (char c : digits) {
        unsigned d;
        if (c >= '0' && c <= '9') d = unsigned(c - '0');
        else if (base == 16 && c >= 'a' && c <= 'f') d = unsigned(c - 'a' + 10);
        else if (base == 16 && c >= 'A' && c <= 'F') d = unsigned(c - 'A' + 10);
        else throw bad();
        if (v > (UINT64_MAX - d) / base) throw bad();
        v = v * base + d;
    }
    return v;
}

} // namespace xsave
