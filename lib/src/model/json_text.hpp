#pragma once
// Parsing JSON text from users: every nlohmann failure becomes one printable xsave::Error line.
#include "xsave/error.hpp"
#include "xsave/numbers.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace xsave {

// Throws Error("WHAT: not valid JSON: byte N: why"). Numbers that overflow (1e999) are
// nlohmann out_of_range errors, not parse errors: caught too.
inline nlohmann::json parse_json_text(std::string_view text, std::string_view what) {
    try {
        return nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        std::string m = e.what();
        // "[json.exception.parse_error.101] parse error at line 1, column 4: <why>": keep the
        // position and <why>.
        std::string where;
        size_t at = m.find("at line ");
        if (at != std::string::npos && m.find(": ", at) != std::string::npos) {
            size_t colon = m.find(": ", at);
            where = " at " + m.substr(at + 3, colon - at - 3);
            at = colon;
        } else {
            at = m.find("] ");
            if (at != std::string::npos) ++at;
        }
        std::string why;
        // The message quotes input bytes: keep the one line printable.
        for (unsigned char c : at == std::string::npos ? m : m.substr(at + 1 + (m[at] == ':')))
            why += c >= 0x20 && c < 0x7f ? std::string(1, char(c)) : fmt::format("\\x{:02x}", c);
        if (!why.empty() && why[0] == ' ') why.erase(0, 1);
        throw Error(fmt::format("{}: not valid JSON{}: {}", what, where, why));
    }
}


// Hex in memory order, two digits a byte (an even count is the caller's check). Returns the
// index of the first byte that is not hex, or std::string_view::npos.
inline size_t decode_hex_bytes(std::string_view s, std::vector<uint8_t>& out) {
    out.assign(s.size() / 2, 0);
    for (size_t i = 0; i < out.size(); ++i) {
        int hi = hex_digit(s[2 * i]), lo = hex_digit(s[2 * i + 1]);
        if (hi < 0 || lo < 0) return i;
        out[i] = uint8_t(hi << 4 | lo);
    }
    return std::string_view::npos;
}

} // namespace xsave
