#pragma once
// What lives at a byte offset of an XSAVE area: header field, component and register.
#include "xsave/layout.hpp"

#include <string>

namespace xsave {

struct Location {
    int bit = -1;            // component, or -1 for the header, padding and reserved bytes
    std::string component;   // "SSE", "header", "padding", "trailing", ...
    std::string field;       // "xmm3", "XSTATE_BV", "reserved", ... (empty: none)
    uint32_t field_start = 0, field_end = 0;   // byte range of the field (or region)
    std::string text() const { return field.empty() ? component : component + " " + field; }
};

Location locate(const Layout& L, uint32_t offset);

} // namespace xsave
