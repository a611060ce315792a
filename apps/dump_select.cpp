// `dump --only` / `--in-use`: filtering a decode for people and for bug reports.
#include "dump_select.hpp"
#include "dump_text.hpp"

#include "xsave/components.hpp"
#include "xsave/error.hpp"
#include "xsave/names.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>

namespace cli {
namespace {

std::string lower(std::string s) {
    for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

uint64_t in_use_mask(const xsave::Decoded& d) {
    uint64_t m = 0;
    for (const auto& c : d.components)
        if (c.in_use && c.bit < 64) m |= 1ull << c.bit;
    return m;
}

// Every name --only can take in this area: registers and views, then component fields.
std::vector<std::string> known_names(const xsave::Decoded& d) {
    std::vector<std::string> out;
    for (const auto& r : d.registers) out.push_back(r.name);
    for (const auto& c : d.components)
        for (const auto& f : c.fields)
            if (std::find(out.begin(), out.end(), f.name) == out.end()) out.push_back(f.name);
    return out;
}

const xsave::Value* find_value(const xsave::Decoded& d, const std::string& name) {
    for (const auto& r : d.registers)
        if (r.name == name) return &r;
    for (const auto& c : d.components)
        for (const auto& f : c.fields)
            if (f.name == name) return &f;
    return nullptr;
}

} // namespace

uint64_t select(xsave::Decoded& d, const Selection& s) {
    const uint64_t used = in_use_mask(d);
    std::vector<std::string> names;
    for (const auto& n : s.only) names.push_back(lower(n));
    for (size_t k = 0; k < names.size(); ++k) {
        if (find_value(d, names[k])) continue;
        auto close = xsave::close_names(names[k], known_names(d));
        if (close.size() > 3) close.resize(3);
        throw xsave::Error(fmt::format("--only {}: no such register or field in this area ({}){}", s.only[k],
                                       xsave::mask_names(d.xcomp_bv ? d.xcomp_bv & ~xsave::kCompactedBit : d.xstate_bv | 3),
                                       close.empty() ? "" : "; did you mean " + xsave::quoted_choice(close) + "?"));
    }
    auto wanted = [&](const std::string& n) { return names.empty() || std::find(names.begin(), names.end(), n) != names.end(); };
    std::vector<xsave::DecodedComponent> comps;
    for (auto& c : d.components) {
        if (s.in_use && !c.in_use) continue;
        std::erase_if(c.fields, [&](const xsave::Value& f) { return !wanted(f.name); });
        if (names.empty() || !c.fields.empty()) comps.push_back(std::move(c));
    }
    d.components = std::move(comps);
    std::erase_if(d.registers, [&](const xsave::Value& r) {
        return !wanted(r.name) || (s.in_use && !(used >> r.bit & 1));
    });
    if (!names.empty()) {   // bytes no register holds are not part of the answer
        d.reserved.clear();
        d.trailing_data.clear();
    }
    std::string what;
    if (s.in_use) what = "in-use components";
    if (!names.empty()) {
        what += what.empty() ? "only " : ", only ";
        for (size_t k = 0; k < names.size(); ++k) what += (k ? "," : "") + names[k];
    }
    d.selection = what;
    return used;
}

std::string render_only(const xsave::Decoded& d, const Selection& s, uint64_t used) {
    std::string out;
    out += fmt::format("format      {}\n", xsave::format_name(d.format));
    out += fmt::format("profile     {}\n", d.profile);
    out += fmt::format("XSTATE_BV   0x{:016x}  {}\n", d.xstate_bv, xsave::mask_names(d.xstate_bv));
    out += fmt::format("XCOMP_BV    0x{:016x}  {}\n\n", d.xcomp_bv, d.xcomp_bv ? xsave::mask_names(d.xcomp_bv) : "standard form");
    for (const auto& typed : s.only) {
        const xsave::Value* v = find_value(d, lower(typed));
        if (!v) continue;   // --in-use left it out: its component is in init state
        bool init = !(used >> v->bit & 1);
        out += fmt::format("{:<12} {}{}\n", v->name, show_register(*v), init ? "  (init)" : "");
    }
    return out;
}

} // namespace cli
