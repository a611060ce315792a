// The dump contract's one writer: straight to text (a 1,000-thread core would otherwise
// allocate millions of tree nodes); to_json() is this text parsed.
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

// `n` items between `open` and `close` as dump(2) writes them, the closing one at `indent`;
// item(k) writes the k-th item, its own indentation included.
template <class F>
void append_list(std::string& out, size_t n, unsigned indent, char open, char close, F&& item) {
    out += open;
    if (n) {
        out += '\n';
        for (size_t k = 0; k < n; ++k) {
            if (k) out += ",\n";
            item(k);
        }
        out += '\n';
        pad(out, indent);
    }
    out += close;
}

// An object's members at `indent`: m["key"] writes the separator and the key, then the value follows.
class Members {
public:
    Members(std::string& out, unsigned indent) : out_(out), indent_(indent) {}
    std::string& operator[](std::string_view k) {
        if (!first_) out_ += ",\n";
        first_ = false;
        key(out_, indent_, k);
        return out_;
    }

private:
    std::string& out_;
    unsigned indent_;
    bool first_ = true;
};

// {"name": "0x..", ...} at `indent` (the closing brace's column).
void append_values(std::string& out, const std::vector<Value>& vs, unsigned indent) {
    append_list(out, vs.size(), indent, '{', '}', [&](size_t i) {
        key(out, indent + 2, vs[i].name);
        append_hex_value(out, vs[i].bytes);
    });
}

// An object nested at `indent` whose members body(m) writes.
template <class F>
void append_object(std::string& out, unsigned indent, F&& body) {
    pad(out, indent);
    out += "{\n";
    Members m(out, indent + 2);
    body(m);
    out += '\n';
    pad(out, indent);
    out += '}';
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
    const unsigned i1 = indent, i2 = indent + 2;
    Members m(out, i1);
    append_json_string(m["format"], format_name(d.format));
    append_number(m["size"], d.size);
    append_number(m["trailing_bytes"], d.trailing);
    append_json_string(m["xstate_bv"], hex_u64(d.xstate_bv));
    append_json_string(m["xcomp_bv"], hex_u64(d.xcomp_bv));
    append_json_string(m["profile"], d.profile);
    if (!d.selection.empty()) append_json_string(m["selection"], d.selection);
    append_list(m["components"], d.components.size(), i1, '[', ']', [&](size_t k) {
        const auto& c = d.components[k];
        append_object(out, i2, [&](Members& cm) {
            append_number(cm["bit"], c.bit);
            append_json_string(cm["name"], c.name);
            append_number(cm["offset"], c.offset);
            append_number(cm["size"], c.size);
            cm["in_use"] += c.in_use ? "true" : "false";
            cm["supervisor"] += c.supervisor ? "true" : "false";
            append_values(cm["fields"], c.fields, i2 + 2);
            std::vector<FieldValue> fv;
            for (const auto& f : c.fields) fv.push_back({f.name, f.bytes});
            append_json_string(cm["digest"], fmt::format("0x{:016x}", fields_digest(std::move(fv))));
        });
    });
    append_values(m["registers"], d.registers, i1);
    append_list(m["reserved_bytes"], d.reserved.size(), i1, '[', ']', [&](size_t k) {
        append_object(out, i2, [&](Members& rm) {
            append_number(rm["offset"], d.reserved[k].offset);
            append_hex_bytes(rm["bytes"], d.reserved[k].bytes);
        });
    });
    append_hex_bytes(m["trailing"], d.trailing_data);
    append_json_strings(m["warnings"], d.warnings, i1);
}

nlohmann::ordered_json to_json(const Decoded& d) {
    std::string text = "{\n";
    append_json_members(text, d, 2);
    text += "\n}";
    return nlohmann::ordered_json::parse(text);
}

void append_json_strings(std::string& out, const std::vector<std::string>& v, unsigned indent) {
    append_list(out, v.size(), indent, '[', ']', [&](size_t k) {
        pad(out, indent + 2);
        append_json_string(out, v[k]);
    });
}

} // namespace xsave
