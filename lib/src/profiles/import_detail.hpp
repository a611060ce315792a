#pragma once
// Helpers shared by the importers (lib/src/import_*.cpp).
#include "xsave/import.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace xsave::detail {

// Splits text into lines (without their "\n" or "\r\n").
std::vector<std::string_view> split_lines(std::string_view text);

// Hex digits only, at most 8 of them; false for anything else.
bool parse_hex32(std::string_view s, uint32_t& out);

// Sets vendor (leaf 0) and, when empty, name (brand string, else opt.name); sorts leaves.
void finish_import(Profile& p, const ImportOptions& opt);

// A piece of an input line for error messages: printable and short.
std::string excerpt(std::string_view line);

} // namespace xsave::detail
