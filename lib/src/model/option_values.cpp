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

uint64_t parse_seed(std::string_view text, std::string_view what) {
    if (auto v = parse_u64(text)) return *v;
    throw Error(fmt::format("{} '{}': expected an unsigned number from 0 to {}", what, text, UINT64_MAX));
}

} // namespace xsave
