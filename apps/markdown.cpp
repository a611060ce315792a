// Markdown summaries: everything a reader of an issue needs, nothing that wraps badly. The
// fenced block is plain text, so GitHub shows it as printed.
#include "markdown.hpp"
#include "dump_text.hpp"

#include "xsave/components.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <map>
#include <string>

namespace cli {
namespace {

// Backticks in a file name would end the inline code span early.
std::string code(const std::string& s) {
    size_t run = 0, longest = 0;
    for (char c : s) longest = std::max(longest, run = c == '`' ? run + 1 : 0);
    std::string ticks(longest + 1, '`');
    return ticks + (longest ? " " + s + " " : s) + ticks;
}

// The initial value of each catalogue field, by register name and width (fip is 8 bytes in
// 64-bit form, 4 in 32-bit form); an empty value for fields that are not state (MXCSR_MASK).
const std::map<std::pair<std::string, size_t>, std::vector<uint8_t>>& initial_values() {
    static const auto m = [] {
        std::map<std::pair<std::string, size_t>, std::vector<uint8_t>> out;
        for (const auto& c : xsave::all_components())
            for (const auto& f : c.fields) {
                std::vector<uint8_t> v(f.width);
                if (f.init == xsave::Init::Stored) v.clear();
                else xsave::init_value(f, v.data());
                for (unsigned i = 0; i < f.count; ++i)
                    out[{xsave::field_instance_name(f, i), f.width}] = v;
            }
        return out;
    }();
    return m;
}

bool all_zero(const std::vector<uint8_t>& b) {
    return std::all_of(b.begin(), b.end(), [](uint8_t x) { return x == 0; });
}

// Views (ymm, zmm) read zero where no catalogue field has an initial value: their parts' are zero.
bool initial(const xsave::Value& v) {
    const auto& m = initial_values();
    auto it = m.find({v.name, v.bytes.size()});
    if (it == m.end()) return all_zero(v.bytes);
    return it->second.empty() || it->second == v.bytes;
}

std::string short_value(const xsave::Value& v) {
    if (v.bytes.size() <= 16 || v.show != xsave::Show::Bytes) return show_register(v);
    size_t nz = size_t(std::count_if(v.bytes.begin(), v.bytes.end(), [](uint8_t b) { return b != 0; }));
    return fmt::format("{} bytes, {} non-zero", v.bytes.size(), nz);
}

} // namespace

std::string markdown_dump(const std::string& label, const xsave::Decoded& d, const std::vector<std::string>& notes) {
    std::string out = fmt::format("**xsavetool dump** {}: {} form, {}-byte layout{}, profile {}\n\n```\n", code(label),
                                  xsave::format_name(d.format), d.size,
                                  d.trailing ? fmt::format(", {} trailing bytes", d.trailing) : "", code(d.profile));
    out += fmt::format("XSTATE_BV  0x{:016x}  {}\n", d.xstate_bv, xsave::mask_names(d.xstate_bv));
    out += fmt::format("XCOMP_BV   0x{:016x}  {}\n", d.xcomp_bv, d.xcomp_bv ? xsave::mask_names(d.xcomp_bv) : "standard form");
    uint64_t used = 0;
    std::string names;
    for (const auto& c : d.components)
        if (c.in_use) {
            used |= c.bit < 64 ? 1ull << c.bit : 0;
            names += (names.empty() ? "" : " ") + c.name;
        }
    out += fmt::format("in use     {}\n", names.empty() ? "nothing (every component in its initial configuration)" : names);

    // Registers (then fields of components without registers) not at their initial values,
    // each once: in its widest view whose components are in use.
    std::vector<const xsave::Value*> regs;
    for (const auto& r : d.registers)
        if (used >> r.bit & 1 && !initial(r)) regs.push_back(&r);
    for (const auto& c : d.components) {
        if (!c.in_use) continue;
        bool has_registers = std::any_of(d.registers.begin(), d.registers.end(), [&](const xsave::Value& r) { return r.bit == c.bit; });
        if (has_registers) continue;
        for (const auto& f : c.fields)
            if (!initial(f)) regs.push_back(&f);
    }
    std::vector<std::string> shown;
    for (const auto* v : regs) shown.push_back(v->name);
    auto wider_shown = [&](const xsave::Value* v) {
        auto [p, i] = xsave::split_register_name(v->name);
        if (i < 0) return false;
        const char* wider[] = {p == "xmm" ? "ymm" : "", p == "xmm" || p == "ymm" ? "zmm" : ""};
        for (const char* w : wider)
            if (*w && std::find(shown.begin(), shown.end(), fmt::format("{}{}", w, i)) != shown.end()) return true;
        return false;
    };
    std::erase_if(regs, wider_shown);
    out += regs.empty() ? "registers  all at their initial values\n" : fmt::format("registers  {} not at their initial values:\n", regs.size());
    for (const auto* v : regs) out += fmt::format("  {:<10} {}\n", v->name, short_value(*v));
    for (const auto& n : notes) out += "input      " + n + "\n";
    for (const auto& w : d.warnings) out += "warning    " + w + "\n";
    return out + "```\n";
}

std::string markdown_diff(const std::string& a, const std::string& b, const xsave::DiffResult& r, const std::string& diff_text) {
    std::string verdict = r.equal() ? "same" : fmt::format("{} difference{}", r.differences.size(), r.differences.size() == 1 ? "" : "s");
    return fmt::format("**xsavetool diff** {} vs {}: {}\n\n```\n{}```\n", code(a), code(b), verdict, diff_text);
}

} // namespace cli
