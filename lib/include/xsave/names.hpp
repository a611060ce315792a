#pragma once
// Names the user typed against the names that exist: close matches for "did you mean".
#include <string>
#include <string_view>
#include <vector>

namespace xsave {

// Levenshtein distance, case-insensitive.
size_t edit_distance(std::string_view a, std::string_view b);

// The candidates nearest to `typed` (all at the smallest distance, if at most max(2, |typed|/3)).
std::vector<std::string> close_names(std::string_view typed, const std::vector<std::string>& candidates);

// "'a'", "'a' or 'b'", "'a', 'b' or 'c'".
std::string quoted_choice(const std::vector<std::string>& names);

} // namespace xsave
