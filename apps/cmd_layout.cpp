// `xsavetool layout`: where every component lives on one CPU, or how two CPUs differ (with
// pictures), and `xsavetool hexdump`: an XSAVE area byte by byte, annotated.
#include "cli.hpp"
#include "sources.hpp"

#include "xsave/components.hpp"
#include "xsave/hexdump.hpp"
#include "xsave/layout_compare.hpp"
#include "xsave/svg.hpp"

#include <fmt/core.h>

#include <filesystem>
#include <optional>

namespace layout_cmd {

using namespace xsave;

struct LayoutOptions {
    cli::ProfileOption profile;
    std::string compare, xcr0, xss, svg;
    bool json = false;
    std::string format = "text";
};

std::string table_text(const LayoutTable& t) {
    std::string out = fmt::format("profile {}: XCR0 0x{:x} ({}), IA32_XSS 0x{:x}{}\n\n", t.profile, t.xcr0, mask_names(t.xcr0), t.xss,
                                  t.xss ? " (" + mask_names(t.xss) + ")" : std::string());
    out += fmt::format("{:>3}  {:<15} {:<10} {:>5}  {:<14}  {:<14}  {:<7}  {}\n", "bit", "component", "kind", "size", "standard",
                       "compacted", "align64", "xfd");
    auto off = [](uint32_t v) { return fmt::format("0x{:x} ({})", v, v); };
    for (const auto& r : t.rows)
        out += fmt::format("{:>3}  {:<15} {:<10} {:>5}  {:<14}  {:<14}  {:<7}  {}\n", r.bit, r.name, r.supervisor ? "supervisor" : "user",
                           r.size, r.standard_offset ? off(*r.standard_offset) : "-", off(r.compacted_offset), r.align64 ? "yes" : "no",
                           r.xfd ? "yes" : "no");
    out += fmt::format("\nstandard size   {} bytes (0x{:x}) for XCR0 0x{:x}\n", t.standard_size(), t.standard_size(), t.xcr0);
    out += fmt::format("compacted size  {} bytes (0x{:x}) for XCOMP_BV 0x{:x}\n", t.compacted_size(), t.compacted_size(),
                       t.compacted->mask | kCompactedBit);
    return out;
}

// "moved          0x340 -> 0x440, 64 bytes": the placement, then where and how large.
std::string position_text(const Position& p, const std::string& from, const std::string& to) {
    std::string what;
    switch (p.placement) {
    case Placement::Same: what = fmt::format("0x{:x}, {} bytes", *p.from_offset, p.from_size); break;
    case Placement::Moved: what = fmt::format("0x{:x} -> 0x{:x}, {} bytes", *p.from_offset, *p.to_offset, p.from_size); break;
    case Placement::Resized: what = fmt::format("0x{:x}, {} -> {} bytes", *p.from_offset, p.from_size, p.to_size); break;
    case Placement::MovedResized:
        what = fmt::format("0x{:x} -> 0x{:x}, {} -> {} bytes", *p.from_offset, *p.to_offset, p.from_size, p.to_size);
        break;
    case Placement::Missing: what = fmt::format("0x{:x}, {} bytes (only on {})", *p.from_offset, p.from_size, from); break;
    case Placement::New:
        what = p.to_offset ? fmt::format("0x{:x}, {} bytes (only on {})", *p.to_offset, p.to_size, to)
                           : fmt::format("not in the buffer, {} bytes (only on {}: initialised on restore)", p.to_size, to);
        break;
    }
    return fmt::format("{:<14} {}", placement_name(p.placement), what);
}

std::string compare_text(const LayoutComparison& c) {
    const std::string &p = c.from.profile, &q = c.to.profile;
    std::string out = fmt::format("can a buffer saved on {} be restored on {}?\n", p, q);
    size_t w = std::max(p.size(), q.size()) + 1;
    for (const auto* t : {&c.from, &c.to})
        out += fmt::format("  {:<{}} XCR0 0x{:x}, IA32_XSS 0x{:x}: standard {} bytes, compacted {} bytes\n", t->profile + ":", w, t->xcr0,
                           t->xss, t->standard_size(), t->compacted_size());
    out += "\nstandard form (XSAVE)\n";
    for (const auto& ch : c.components)
        if (ch.standard) out += fmt::format("  bit {:<2} {:<15} {}\n", ch.bit, ch.name, position_text(*ch.standard, p, q));
    out += fmt::format("\ncompacted form (XCOMP_BV 0x{:x}, as {} writes it)\n", c.xcomp_bv, p);
    for (const auto& ch : c.components) out += fmt::format("  bit {:<2} {:<15} {}\n", ch.bit, ch.name, position_text(ch.compacted, p, q));
    out += fmt::format("\nstandard buffers:  {}\ncompacted buffers: {}\n", c.standard.text, c.compacted.text);
    return out;
}

// A CPU as the user named it: a built-in name or alias as typed, a profile file by its name
// without directory and extension (a brand string can be 60 characters long).
std::string typed_name(const std::string& spec) {
    std::error_code ec;
    if (spec != "-" && std::filesystem::is_regular_file(spec, ec)) return std::filesystem::path(spec).stem().string();
    return spec;
}

void run_layout(const LayoutOptions& o) {
    if (o.profile.spec.empty()) throw Error("layout: --cpuid is required (host, a built-in name, or a profile file)");
    std::optional<uint64_t> xcr0, xss;
    if (!o.xcr0.empty()) xcr0 = cli::parse_mask(o.xcr0, "--xcr0");
    if (!o.xss.empty()) xss = cli::parse_mask(o.xss, "--xss");
    CpuModel p(cli::load_profile(o.profile.spec));
    cli::warn_all(o.profile.spec, p.warnings());
    bool svg_only = o.svg == "-";
    if (o.compare.empty()) {
        LayoutTable t = layout_table(p, xcr0, xss);
        if (!o.svg.empty()) cli::write_output(o.svg, layout_svg(t));
        if (svg_only) return;
        fmt::print("{}", o.json ? to_json(t).dump(2) + "\n" : table_text(t));
        return;
    }
    CpuModel q(cli::load_profile(o.compare));
    cli::warn_all(o.compare, q.warnings());
    std::string pn = typed_name(o.profile.spec), qn = typed_name(o.compare);
    if (pn == qn && o.profile.spec != o.compare) pn = o.profile.spec, qn = o.compare;
    LayoutComparison c = compare_layouts(p, q, xcr0, xss, pn, qn);
    if (!o.svg.empty()) cli::write_output(o.svg, compare_svg(c));
    if (!svg_only) fmt::print("{}", o.json ? to_json(c).dump(2) + "\n" : compare_text(c));
    cli::set_exit_code(c.restorable_as_is() ? 0 : 1);
}

struct HexdumpOptions {
    std::vector<std::string> files;
    std::string color = "auto";
    std::string format = "text";   // text (annotated) or hex (plain hexdump -C)
    cli::InputOptions in;
    bool all_lines = false;
};

void run_hexdump(const HexdumpOptions& o) {
    bool colour = cli::use_color(o.color), several = o.files.size() > 1;
    const xsave::OpenOptions prepared = o.in.open_options();   // --cpuid once for every file
    size_t printed = 0;
    cli::for_each_input(o.files, [&](const std::string& file) {
        // Every area of the file is read and checked before anything of it is printed.
        auto areas = cli::load_areas(file, o.in, &prepared);
        bool threads = areas.size() > 1 || areas[0].tid;
        if (several) fmt::print("{}=== {}\n", printed++ ? "\n" : "", file);
        for (size_t i = 0; i < areas.size(); ++i) {
            const auto& a = areas[i];
            cli::warn_all(a.cpu->profile().name, a.cpu->warnings());
            if (threads) fmt::print("{}", cli::area_heading(a, i, areas.size()));
            if (o.format == "hex") {
                fmt::print("{}", cli::hex_listing(a.image.bytes));
                continue;
            }
            for (const auto& n : a.notes) fmt::print("input: {}\n", n);
            fmt::print("{}", render_hexdump(hexdump_lines(a.image, !o.all_lines), colour));
        }
    });
}

} // namespace layout_cmd

void cli::register_layout(CLI::App& app) {
    using namespace layout_cmd;
    auto o = std::make_shared<LayoutOptions>();
    auto* cmd = app.add_subcommand("layout", "Where every state component lives (standard and compacted), or how two CPUs differ");
    o->profile.add(cmd);
    cmd->add_option("--compare", o->compare, "a second CPUID profile: can a buffer saved on --cpuid be restored there? (exit 1 if not as is)");
    cmd->add_option("--xcr0", o->xcr0, "XCR0 (mask or names); default: the profile's, else every supported user component");
    cmd->add_option("--xss", o->xss, "IA32_XSS (mask or names); default: the profile's, else 0");
    cmd->add_flag("--json", o->json, "print JSON (as --format json)");
    cmd->add_option("--format", o->format, "text (default) or json")->check(CLI::IsMember({"text", "json"}));
    cmd->add_option("--svg", o->svg, "also write a picture to scale to FILE (- for stdout only)");
    cli::printing_callback(cmd, [o] {
        o->json = cli::json_format(o->json, o->format) == "json";
        run_layout(*o);
    });

    auto h = std::make_shared<HexdumpOptions>();
    auto* hex = app.add_subcommand("hexdump", "Hex dump of an XSAVE area, every line annotated with its component and registers");
    hex->add_option("file", h->files, "XSAVE areas: raw bytes, hex text, ELF cores or signal frames; - for stdin")->required();
    h->in.add(hex);
    hex->add_option("--color", h->color, "auto (a terminal without NO_COLOR), always or never")
        ->check(CLI::IsMember({"auto", "always", "never"}));
    hex->add_option("--format", h->format, "text (default: annotated) or hex (plain hexdump -C listing, as convert --format hex writes)")
        ->check(CLI::IsMember({"text", "hex"}));
    hex->add_flag("-v,--all-lines", h->all_lines, "show every line (default: repeated lines become one '*' line, as hexdump -C)");
    cli::printing_callback(hex, [h] { run_hexdump(*h); });
}
