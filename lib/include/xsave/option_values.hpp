#pragma once
// Values typed on the command line that no machine could have: refused naming the value,
// never used as given.
#include <cstdint>
#include <string_view>

namespace xsave {

// XCR0 (or an XCR0-like mask, bit 63 aside): bit 0 (x87) is always set, and every other bit
// is a state component the catalogue knows. Throws Error naming `what` and the value.
void check_xcr0(uint64_t mask, std::string_view what);

// IA32_XSS: only supervisor state components (WRMSR refuses user bits such as AVX, bits no
// component has, and bit 63). Throws Error naming `what`, the value and the bits.
void check_xss(uint64_t mask, std::string_view what);

// A seed: an unsigned decimal or 0x-hex number that fits 64 bits. Throws Error naming `what`.
uint64_t parse_seed(std::string_view text, std::string_view what);

} // namespace xsave
