#pragma once
// `--format markdown` for dump and diff: a short summary in a fenced block, for bug reports.
#include "xsave/decode.hpp"
#include "xsave/diff.hpp"

#include <string>
#include <vector>

namespace cli {

// A bold line naming the input, then a fence: XSTATE_BV, XCOMP_BV, the components in use,
// the registers holding other than their initial values (widest in-use view), notes and warnings.
std::string markdown_dump(const std::string& label, const xsave::Decoded& d, const std::vector<std::string>& notes);

// A bold line naming both inputs and the count, then `diff_text` (the text report) fenced.
std::string markdown_diff(const std::string& a, const std::string& b, const xsave::DiffResult& r, const std::string& diff_text);

} // namespace cli
