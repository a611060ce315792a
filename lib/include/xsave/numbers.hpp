#pragma once
// The one reading of numbers and component masks typed by users or stored in JSON.
#include <cstdint>
#include <optional>
#include <string_view>

namespace xsave {

// A hex digit's value, or -1.
constexpr int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Decimal or 0x-hex, all 64 bits. No sign, no octal ("010" is ten), no spaces; nullopt for
// anything else, overflow included.
std::optional<uint64_t> parse_u64(std::string_view text);

// parse_u64, or an Error "WHAT: 'TEXT': expected a number (decimal or 0x hex)".
uint64_t parse_number(std::string_view text, std::string_view what);

// A component mask, as --xcr0, --xss, --drop, --xcomp-bv and --ignore read it: parts joined by
// '|', ',' or '+', each a number (always a MASK: 0x2e7, 3 = x87|SSE), an SDM name or alias
// ("AVX", "zmm_hi256"), a group ("avx512", "amx", "mpx", "cet") or bitN (one component by
// number). Error naming `what` and the part for anything else.
uint64_t parse_component_mask(std::string_view text, std::string_view what);

} // namespace xsave
