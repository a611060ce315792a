#pragma once
// The `dump --json` object of one opened area: tid, the decode, context registers and how the
// input was read. The one writer of that contract (the CLI and the C API both use it).
#include "xsave/decode.hpp"
#include "xsave/open.hpp"

#include <string>

namespace xsave {

// Appends the object, its members `indent` + 2 spaces deep, without a final newline.
void append_area_json(std::string& out, const Area& a, const Decoded& d, unsigned indent);

} // namespace xsave
