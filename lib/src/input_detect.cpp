// Which reader an input needs, and what follows a layout in a padded buffer (KVM, WHPX).
#include "xsave/input.hpp"

#include <algorithm>
#include <cctype>

namespace xsave {

const char* input_kind_name(InputKind k) {
    switch (k) {
    case InputKind::Raw: return "raw";
    case InputKind::Hex: return "hex";
    case InputKind::Core: return "core";
    case InputKind::Sigframe: return "sigframe";
    }
    return "?";
}

std::optional<InputKind> input_kind_from_name(std::string_view name) {
    for (auto k : {InputKind::Raw, InputKind::Hex, InputKind::Core, InputKind::Sigframe})
        if (name == input_kind_name(k)) return k;
    return std::nullopt;
}

namespace {

// Text as people paste it: no NUL (every binary XSAVE area has zero bytes in its reserved
// fields), nearly all printable ASCII or UTF-8, and enough hex digits to hold bytes.
bool looks_like_hex_text(std::span<const uint8_t> b) {
    if (b.empty()) return false;
    size_t odd = 0, hex = 0;
    for (uint8_t c : b) {
        if (c == 0) return false;
        bool text = c >= 0x20 || c == '\n' || c == '\r' || c == '\t' || c == '\f';
        if (!text) ++odd;
        if (std::isxdigit(c)) ++hex;
    }
    return odd * 100 <= b.size() && hex >= 2;
}

} // namespace

InputKind detect_input(std::span<const uint8_t> b) {
    if (b.size() >= 4 && b[0] == 0x7f && b[1] == 'E' && b[2] == 'L' && b[3] == 'F') return InputKind::Core;
    if (is_sigframe(b)) return InputKind::Sigframe;
    if (looks_like_hex_text(b)) return InputKind::Hex;
    return InputKind::Raw;
}

Trailing trailing_bytes(std::span<const uint8_t> b, size_t layout_size) {
    Trailing t;
    if (layout_size >= b.size()) return t;
    t.total = b.size() - layout_size;
    for (size_t i = layout_size; i < b.size(); ++i) {
        if (b[i] == 0) continue;
        ++t.nonzero;
        if (!t.first_nonzero) t.first_nonzero = i;
    }
    t.zero = t.total - t.nonzero;
    return t;
}

} // namespace xsave
