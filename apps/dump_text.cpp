// `dump` for people: header, legacy region, components with their registers, composed views.
#include "dump_text.hpp"

#include "xsave/control_words.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>

namespace cli {
namespace {

std::string upper(std::string s) {
    for (auto& c : s) c = char(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

// Long byte fields (tiles, unknown components) in memory order, 32 bytes a line.
void append_bytes(std::string& out, const xsave::Value& v, const char* indent) {
    if (std::all_of(v.bytes.begin(), v.bytes.end(), [](uint8_t b) { return b == 0; })) {
        out += fmt::format("{}{:<12} all {} bytes zero\n", indent, v.name, v.bytes.size());
        return;
    }
    out += fmt::format("{}{:<12} {} bytes, memory order:\n", indent, v.name, v.bytes.size());
    for (size_t i = 0; i < v.bytes.size(); i += 32) {
        out += fmt::format("{}  +{:04x} ", indent, i);
        for (size_t j = i; j < std::min(v.bytes.size(), i + 32); ++j) out += fmt::format("{:02x}", v.bytes[j]);
        out += '\n';
    }
}

void append_value(std::string& out, const xsave::Value& v, const char* indent, bool upper_name) {
    if (v.show == xsave::Show::Bytes && v.bytes.size() > 16) return append_bytes(out, v, indent);
    out += fmt::format("{}{:<12} {}\n", indent, upper_name ? upper(v.name) : v.name, show_register(v));
}

} // namespace

std::string control_text(const xsave::ControlWord& w, uint32_t value) {
    std::string out;
    int group = -1;
    bool flags = false;
    for (const auto& fv : xsave::decode_control(w, value)) {
        const auto& f = *fv.field;
        if (int(f.group) != group) out += out.empty() ? "" : ", ";
        else out += " ";
        if (f.kind == xsave::BitField::Flag && !flags && !w.set_intro.empty()) out += std::string(w.set_intro) + " ";
        flags |= f.kind == xsave::BitField::Flag;
        group = f.group;
        if (f.kind == xsave::BitField::Flag) out += f.name;
        else if (f.kind == xsave::BitField::Number) out += fmt::format("{}={}", f.name, fv.value);
        else out += fmt::format("{}={}", f.name, fv.choice);
    }
    if (out.empty()) out = w.none;
    if (uint32_t r = value & w.reserved) out += fmt::format("{}reserved=0x{:x}", out.empty() ? "" : ", ", r);
    return "(" + out + ")";
}

std::string show_register(const xsave::Value& v) {
    std::string s = xsave::show_value(v);
    if (const auto* w = xsave::control_word(v.name); w && v.bytes.size() <= 4 && !v.bytes.empty())
        s += "  " + control_text(*w, uint32_t(v.number()));
    return s;
}

std::string render_dump(const xsave::Decoded& d, size_t bytes_read) {
    using namespace xsave;
    std::string out;
    out += fmt::format("format      {}{}\n", format_name(d.format),
                       d.format == Format::Compacted ? " (XCOMP_BV bit 63 set)" : " (XCOMP_BV bit 63 clear)");
    out += fmt::format("size        {} bytes of layout, {} bytes read", d.size, bytes_read);
    out += d.trailing ? fmt::format(", {} trailing\n", d.trailing) : std::string("\n");
    out += fmt::format("profile     {}\n", d.profile);
    out += fmt::format("XSTATE_BV   0x{:016x}  {}\n", d.xstate_bv, mask_names(d.xstate_bv));
    out += fmt::format("XCOMP_BV    0x{:016x}  {}\n", d.xcomp_bv, d.xcomp_bv ? mask_names(d.xcomp_bv) : "standard form");

    out += "\nlegacy region\n";
    for (const auto& c : d.components) {
        if (c.bit > 1) continue;
        out += fmt::format("  {} {}\n", c.name, c.in_use ? "in use" : "init (initial values shown)");
        for (const auto& f : c.fields) append_value(out, f, "    ", true);
    }

    out += "\ncomponents\n";
    for (const auto& c : d.components) {
        out += fmt::format("  bit {:<2} {:<15} offset 0x{:04x}  size {:>5}  {}{}\n", c.bit, c.name, c.offset, c.size,
                           c.in_use ? "in use" : "init", c.supervisor ? "  supervisor" : "");
        if (c.bit <= 1) continue;   // shown in the legacy region
        if (c.in_use) {
            for (const auto& f : c.fields) append_value(out, f, "    ", false);
            continue;
        }
        // Init state: show the initial values, compactly when they are all zero.
        size_t zero = 0;
        for (const auto& f : c.fields) {
            if (std::all_of(f.bytes.begin(), f.bytes.end(), [](uint8_t b) { return b == 0; })) ++zero;
            else append_value(out, f, "    ", false);
        }
        if (zero)
            out += fmt::format("    initial configuration: {} {} {} zero\n", zero == c.fields.size() ? "all" : "the other", zero,
                               zero == 1 ? "register" : "registers");
    }

    bool header = false;
    for (const auto& r : d.registers) {
        if (!r.name.starts_with("ymm") && !(r.name.starts_with("zmm"))) continue;
        if (!header) out += "\nviews\n";
        header = true;
        append_value(out, r, "  ", true);
    }
    if (!d.warnings.empty()) {
        out += "\nwarnings\n";
        for (const auto& w : d.warnings) out += "  " + w + "\n";
    }
    return out;
}

} // namespace cli
