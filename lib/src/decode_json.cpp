// The dump contract written straight to text, byte for byte what to_json(d).dump(2) gives,
// without the tree: a 1,000-thread core would otherwise allocate millions of nodes.
#include "xsave/decode.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace xsave {
namespace {

constexpr char kDigits[] = "0123456789abcdef";

void pad(std::string& out, unsigned n) { out.append(n, ' '); }

void append_hex_value(std::string& out, std::span<const uint8_t> b) {
    out += "\"0x";
    for (size_t i = b.size(); i-- > 0;) {
        out += kDigits[b[i] >> 4];
        out += kDigits[b[i] & 15];
    }
    out += '"';
}

void append_hex_bytes(std::string& out, std::span<const uint8_t> b) {
    out += '"';
    for (uint8_t x : b) {
        out += kDigits[x >> 4];
        out += kDigits[x & 15];
    }
    out += '"';
}

template <class T>
void append_number(std::string& out, T v) {
    char buf[24];
    auto r = fmt::format_to_n(buf, sizeof buf, "{}", v);
    out.append(buf, r.out);
}

void key(std::string& out, unsigned indent, std::string_view k) {
    pad(out, indent);
    append_json_string(out, k);
    out += ": ";
}

// An ordered_json object keeps the first position and the last value of a repeated key;
// the catalogue's names are unique, so a repeat means "use the tree".
bool unique_names(const std::vector<Value>& vs) {
    std::vector<std::string_view> names;
    names.reserve(vs.size());
    for (const auto& v : vs) names.push_back(v.name);
    std::sort(names.begin(), names.end());
    return std::adjacent_find(names.begin(), names.end()) == names.end();
}

// {"name": "0x..", ...} at `indent` (the closing brace's column).
void append_values(std::string& out, const std::vector<Value>& vs, unsigned indent) {
    if (vs.empty()) {
        out += "{}";
        return;
    }
    out += "{\n";
    for (size_t i = 0; i < vs.size(); ++i) {
        if (i) out += ",\n";
        key(out, indent + 2, vs[i].name);
        append_hex_value(out, vs[i].bytes);
    }
    out += '\n';
    pad(out, indent);
    out += '}';
}

// The tree's text, its members re-indented to `indent`: the exact fallback.
void append_members_from_tree(std::string& out, const Decoded& d, unsigned indent) {
    std::string text = to_json(d).dump(2);
    // "{\n  a,\n  b\n}": keep the member lines, shifted by indent - 2.
    std::string_view body(text);
    body.remove_prefix(2);
    body.remove_suffix(2);
    pad(out, indent - 2);
    for (char c : body) {
        out += c;
        if (c == '\n') pad(out, indent - 2);
    }
}

} // namespace

void append_json_string(std::string& out, std::string_view s) {
    bool plain = std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\'; });
    if (!plain) {
        out += nlohmann::ordered_json(s).dump();   // escapes and UTF-8 checks exactly as the tree does
        return;
    }
    out += '"';
    out += s;
    out += '"';
}

void append_json_members(std::string& out, const Decoded& d, unsigned indent) {
    if (!unique_names(d.registers) ||
        !std::all_of(d.components.begin(), d.components.end(), [](const auto& c) { return unique_names(c.fields); }))
        return append_members_from_tree(out, d, std::max(indent, 2u));
    const unsigned i1 = indent, i2 = indent + 2, i3 = indent + 4;
    key(out, i1, "format");
    append_json_string(out, format_name(d.format));
    out += ",\n";
    key(out, i1, "size");
    append_number(out, d.size);
    out += ",\n";
    key(out, i1, "trailing_bytes");
    append_number(out, d.trailing);
    out += ",\n";
    key(out, i1, "xstate_bv");
    append_json_string(out, hex_u64(d.xstate_bv));
    out += ",\n";
    key(out, i1, "xcomp_bv");
    append_json_string(out, hex_u64(d.xcomp_bv));
    out += ",\n";
    key(out, i1, "profile");
    append_json_string(out, d.profile);
    out += ",\n";

    key(out, i1, "components");
    if (d.components.empty()) out += "[]";
    else {
        out += "[\n";
        for (size_t k = 0; k < d.components.size(); ++k) {
            const auto& c = d.components[k];
            if (k) out += ",\n";
            pad(out, i2);
            out += "{\n";
            key(out, i3, "bit");
            append_number(out, c.bit);
            out += ",\n";
            key(out, i3, "name");
            append_json_string(out, c.name);
            out += ",\n";
            key(out, i3, "offset");
            append_number(out, c.offset);
            out += ",\n";
            key(out, i3, "size");
            append_number(out, c.size);
            out += ",\n";
            key(out, i3, "in_use");
            out += c.in_use ? "true" : "false";
            out += ",\n";
            key(out, i3, "supervisor");
            out += c.supervisor ? "true" : "false";
            out += ",\n";
            key(out, i3, "fields");
            append_values(out, c.fields, i3);
            out += '\n';
            pad(out, i2);
            out += '}';
        }
        out += '\n';
        pad(out, i1);
        out += ']';
    }
    out += ",\n";

    key(out, i1, "registers");
    append_values(out, d.registers, i1);
    out += ",\n";

    key(out, i1, "reserved_bytes");
    if (d.reserved.empty()) out += "[]";
    else {
        out += "[\n";
        for (size_t k = 0; k < d.reserved.size(); ++k) {
            if (k) out += ",\n";
            pad(out, i2);
            out += "{\n";
            key(out, i3, "offset");
            append_number(out, d.reserved[k].offset);
            out += ",\n";
            key(out, i3, "bytes");
            append_hex_bytes(out, d.reserved[k].bytes);
            out += '\n';
            pad(out, i2);
            out += '}';
        }
        out += '\n';
        pad(out, i1);
        out += ']';
    }
    out += ",\n";

    key(out, i1, "trailing");
    append_hex_bytes(out, d.trailing_data);
    out += ",\n";
    key(out, i1, "warnings");
    append_json_strings(out, d.warnings, i1);
}

void append_json_strings(std::string& out, const std::vector<std::string>& v, unsigned indent) {
    if (v.empty()) {
        out += "[]";
        return;
    }
    out += "[\n";
    for (size_t k = 0; k < v.size(); ++k) {
        if (k) out += ",\n";
        pad(out, indent + 2);
        append_json_string(out, v[k]);
    }
    out += '\n';
    pad(out, indent);
    out += ']';
}

} // namespace xsave
