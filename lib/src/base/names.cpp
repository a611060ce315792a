// Close matches for misspelt names (commands, profiles, --ignore names).
#include "xsave/names.hpp"

#include <algorithm>
#include <cctype>

namespace xsave {

size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            size_t up = row[j];
            bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) == std::tolower(static_cast<unsigned char>(b[j - 1]));
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (same ? 0 : 1)});
            diag = up;
        }
    }
    return row[b.size()];
}

std::vector<std::string> close_names(std::string_view typed, const std::vector<std::string>& candidates) {
    const size_t limit = std::max<size_t>(2, typed.size() / 3);
    std::vector<std::pair<size_t, std::string>> hits;
    for (const auto& c : candidates)
        if (size_t d = edit_distance(typed, c); d <= limit) hits.emplace_back(d, c);
    std::stable_sort(hits.begin(), hits.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
    std::vector<std::string> out;
    for (auto& h : hits)
        if (h.first == hits[0].first) out.push_back(std::move(h.second));
    return out;
}

std::string quoted_choice(const std::vector<std::string>& names) {
    std::string out;
    for (size_t i = 0; i < names.size(); ++i) {
        if (i) out += i + 1 == names.size() ? " or " : ", ";
        out += "'" + names[i] + "'";
    }
    return out;
}

} // namespace xsave
