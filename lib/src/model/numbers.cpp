#include "xsave/numbers.hpp"

#include "xsave/components.hpp"
#include "xsave/error.hpp"

#include <fmt/core.h>

namespace xsave {

std::optional<uint64_t> parse_u64(std::string_view s) {
    unsigned base = 10;
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s.remove_prefix(2), base = 16;
    if (s.empty()) return std::nullopt;
    uint64_t x = 0;
    for (char c : s) {
        int d = hex_digit(c);
        if (d < 0 || unsigned(d) >= base) return std::nullopt;
        if (x > (~0ull - unsigned(d)) / base) return std::nullopt;
        x = x * base + unsigned(d);
    }
    return x;
}

uint64_t parse_number(std::string_view text, std::string_view what) {
    if (auto v = parse_u64(text)) return *v;
    throw Error(fmt::format("{}: '{}': expected a number (decimal or 0x hex)", what, text));
}

uint64_t parse_component_mask(std::string_view text, std::string_view what) {
    const std::string_view all = text;
    uint64_t mask = 0;
    for (;;) {
        size_t end = text.find_first_of("|,+");
        std::string_view part = text.substr(0, end);
        if (part.empty()) throw Error(fmt::format("{}: '{}': expected a mask or component names", what, all));
        if (part[0] >= '0' && part[0] <= '9') {
            auto v = parse_u64(part);
            if (!v) throw Error(fmt::format("{}: '{}': expected a number (decimal or 0x hex)", what, part));
            mask |= *v;
        } else if (uint64_t m = component_mask_from_name(part)) {
            mask |= m;
        } else {
            throw Error(fmt::format("{}: '{}' is neither a number nor a component name", what, part));
        }
        if (end == std::string_view::npos) break;
        text.remove_prefix(end + 1);
    }
    return mask;
}

} // namespace xsave
