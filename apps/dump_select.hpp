#pragma once
// `dump --only NAMES` and `dump --in-use`: the part of a decode a bug report needs.
#include "xsave/decode.hpp"

#include <string>
#include <vector>

namespace cli {

struct Selection {
    std::vector<std::string> only;   // register or field names, as typed
    bool in_use = false;             // components whose XSTATE_BV bit is set
    bool any() const { return in_use || !only.empty(); }
};

// Keeps the selected part of `d` and records it in d.selection; returns the mask of components
// that were in use. An --only name this area does not have throws (exit 2), with the close
// names it does have.
uint64_t select(xsave::Decoded& d, const Selection& s);

// --only as text: the header lines, then each selected value in the order typed, "(init)"
// after those whose component is not in `used`.
std::string render_only(const xsave::Decoded& d, const Selection& s, uint64_t used);

} // namespace cli
