// Content tests for inputs, and what follows a layout in a padded buffer (KVM, WHPX).
#include "xsave/input.hpp"

#include <algorithm>
#include <cctype>

namespace xsave {

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


bool is_fxsave_image(std::span<const uint8_t> b) { return b.size() == kFxsaveSize; }
bool is_fsave_image(std::span<const uint8_t> b) { return b.size() == kFsaveSize; }

} // namespace xsave
