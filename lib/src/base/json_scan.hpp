#pragma once
// Positions inside JSON text that nlohmann has already accepted (no validation here): where
// a member's value or an array element starts and ends, so a rewrite can replace exactly
// those bytes and copy everything else.
#include <cstddef>
#include <string_view>
#include <utility>
#include <vector>

namespace xsave::json_scan {

constexpr size_t npos = std::string_view::npos;

inline size_t ws(std::string_view t, size_t p) {
    while (p < t.size() && (t[p] == ' ' || t[p] == '\n' || t[p] == '\r' || t[p] == '\t')) ++p;
    return p;
}
inline size_t skip_string(std::string_view t, size_t p) {   // t[p] == '"'
    for (++p; p < t.size(); ++p) {
        if (t[p] == '\\') ++p;
        else if (t[p] == '"') return p + 1;
    }
    return t.size();
}
inline size_t skip_value(std::string_view t, size_t p) {
    p = ws(t, p);
    if (p >= t.size()) return p;
    if (t[p] == '"') return skip_string(t, p);
    if (t[p] == '{' || t[p] == '[') {
        int depth = 0;
        for (; p < t.size(); ++p) {
            char c = t[p];
            if (c == '"') p = skip_string(t, p) - 1;
            else if (c == '{' || c == '[') ++depth;
            else if ((c == '}' || c == ']') && --depth == 0) return p + 1;
        }
        return p;
    }
    while (p < t.size() && t[p] != ',' && t[p] != '}' && t[p] != ']' && t[p] != ' ' && t[p] != '\n') ++p;
    return p;
}
// The value of member `key` of the object at `obj`, or npos.
inline size_t member(std::string_view t, size_t obj, std::string_view key) {
    if (obj == npos) return npos;
    size_t p = ws(t, obj);
    if (p >= t.size() || t[p] != '{') return npos;
    p = ws(t, p + 1);
    while (p < t.size() && t[p] == '"') {
        size_t kend = skip_string(t, p);
        std::string_view k = t.substr(p + 1, kend - p - 2);
        p = ws(t, kend);
        p = ws(t, p + 1);   // ':'
        if (k == key) return p;
        p = ws(t, skip_value(t, p));
        if (p < t.size() && t[p] == ',') p = ws(t, p + 1);
    }
    return npos;
}
// [begin, end) of each element of the array at `arr` (empty when it is not an array).
inline std::vector<std::pair<size_t, size_t>> elements(std::string_view t, size_t arr) {
    std::vector<std::pair<size_t, size_t>> out;
    if (arr == npos) return out;
    size_t p = ws(t, arr);
    if (p >= t.size() || t[p] != '[') return out;
    p = ws(t, p + 1);
    while (p < t.size() && t[p] != ']') {
        size_t e = skip_value(t, p);
        out.emplace_back(p, e);
        p = ws(t, e);
        if (p < t.size() && t[p] == ',') p = ws(t, p + 1);
        else break;
    }
    return out;
}

} // namespace xsave::json_scan
