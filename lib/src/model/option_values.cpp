// Command-line values checked against what hardware allows.
#include "xsave/option_values.hpp"

#include "xsave/components.hpp"
#include "xsave/error.hpp"
#include "xsave/numbers.hpp"

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

void check_xss(uint64_t mask, std::string_view what) {
    uint64_t user = 0, unknown = mask & 1ull << 63;
    for (unsigned b = 0; b < 63; ++b) {
        if (!(mask >> b & 1)) continue;
        const ComponentInfo* info = component_info(b);
        if (!info) unknown |= 1ull << b;
        else if (!info->supervisor) user |= 1ull << b;
    }
    if (unknown)
        throw Error(fmt::format("{} 0x{:x}: {} {} not a state component; expected supervisor components only", what, mask,
                                mask_names(unknown, "bit63"), __builtin_popcountll(unknown) > 1 ? "are" : "is"));
    if (user)
        throw Error(fmt::format("{} 0x{:x}: {} {} user state (XCR0's, not IA32_XSS's); expected supervisor components only",
                                what, mask, mask_names(user), __builtin_popcountll(user) > 1 ? "are" : "is"));
}

uint64_t parse_seed(std::string_view text, std::string_view what) {
    if (auto v = parse_u64(text)) return *v;
    throw Error(fmt::format("{} '{}': expected an unsigned number from 0 to {}", what, text, UINT64_MAX));
}

} // namespace xsave
