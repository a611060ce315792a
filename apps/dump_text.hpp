#pragma once
// Human-readable rendering of a decoded XSAVE area.
#include "xsave/decode.hpp"

#include <string>

namespace cli {
std::string render_dump(const xsave::Decoded& d, size_t bytes_read);
}
