// `xsavetool diff A B`: which registers differ; `xsavetool assemble STATE.json`: JSON back to bytes.
#include "cli.hpp"
#include "markdown.hpp"
#include "nested.hpp"
#include "sources.hpp"

#include "xsave/assemble.hpp"
#include "xsave/criu.hpp"
#include "xsave/convert.hpp"
#include "xsave/decode.hpp"
#include "xsave/diff.hpp"

#include <fmt/color.h>
#include <fmt/core.h>
#include <optional>

#include <memory>
#include <optional>
#include <sstream>

namespace {

struct DiffOptions {
    std::string a, b;
    std::string thread_b;          // --thread-b: B's thread or vCPU (default: --thread)
    cli::InputOptions in_a, in_b;
    bool bytes = false, json = false;
    std::vector<std::string> ignore;
    std::string color = "auto";
    std::string format = "text";   // text, json (as --json), markdown
};

// A marker line under the hex digits of the bytes that differ.
std::string marks(const xsave::Difference& d) {
    std::string m(d.a.size(), ' ');
    size_t digits = d.a.size() - 2;
    for (unsigned k : d.bytes) {
        if (2 * k + 2 > digits) continue;
        size_t pos = 2 + digits - 2 * k - 2;
        m[pos] = m[pos + 1] = '^';
    }
    while (!m.empty() && m.back() == ' ') m.pop_back();
    return m;
}

std::string render(const xsave::DiffResult& r, bool color) {
    auto paint = [&](const std::string& s, fmt::color c) { return color ? fmt::format(fmt::fg(c), "{}", s) : s; };
    std::string out;
    for (const auto& d : r.differences) {
        if (d.kind == "register") {
            out += fmt::format("register   {:<16} {}\n", d.name, d.component);
            out += fmt::format("  a {}\n  b {}\n", paint(d.a, fmt::color::red), paint(d.b, fmt::color::green));
            if (std::string m = marks(d); !m.empty()) out += "    " + m + "\n";
        } else {
            out += fmt::format("{:<10} {:<16} {} vs {}{}\n", d.kind, d.name, paint(d.a, fmt::color::red),
                               paint(d.b, fmt::color::green), d.detail.empty() ? "" : "  (" + d.detail + ")");
        }
    }
    if (r.equal()) out += "same registers, same header\n";
    else if (r.differences.front().kind == "bytes") out += fmt::format("{} differing byte ranges\n", r.differences.size());
    else out += fmt::format("{} difference{}; {}\n", r.differences.size(), r.differences.size() == 1 ? "" : "s",
                            r.registers() == 0 ? "registers identical" : "all other registers identical");
    return out;
}

void run_diff(DiffOptions& o) {
    auto oa = cli::open_input(o.a, o.in_a);
    cli::InputOptions in_b = o.in_b;
    if (in_b.profile.spec.empty()) in_b.profile = o.in_a.profile;   // --cpuid applies to both unless --cpuid-b
    auto ob = cli::open_input(o.b, in_b);
    bool na = !oa.nested.empty(), nb = !ob.nested.empty();
    if (na && nb) return cli::diff_nested(o.a, oa.nested[0], o.b, ob.nested[0], o.json);
    if (na || nb)
        throw xsave::Error(fmt::format("{}: a KVM nested state, but {} is not one: they cannot be compared", na ? o.a : o.b, na ? o.b : o.a));
    auto& as = oa.areas;
    auto& bs = ob.areas;
    if (as.size() != bs.size())
        cli::warn(fmt::format("{} has {} areas and {} has {}: comparing the first {} in order", o.a, as.size(), o.b, bs.size(),
                              std::min(as.size(), bs.size())));
    xsave::DiffOptions opt;
    opt.bytes = o.bytes;
    for (const auto& i : o.ignore) {
        std::stringstream ss(i);
        for (std::string part; std::getline(ss, part, ',');)
            if (!part.empty()) opt.ignore.insert(part);
    }
    xsave::check_ignore_names(opt.ignore);
    bool color = cli::use_color(o.color);
    nlohmann::ordered_json all = nlohmann::ordered_json::array();
    bool equal = true;
    size_t n = std::min(as.size(), bs.size());
    for (size_t i = 0; i < n; ++i) {
        auto r = xsave::diff_areas(as[i].image, *as[i].cpu, bs[i].image, *bs[i].cpu, opt);
        equal = equal && r.equal();
        // A vCPU's KVM nested state (QEMU's cpu/nested_state) is compared too, field by field.
        const auto &sa = as[i].nested, &sb = bs[i].nested;
        std::optional<xsave::DiffResult> nr;
        if (sa && sb) nr = xsave::nested::diff_states(*sa, *sb);
        else if (sa || sb) {
            xsave::Difference d;
            d.kind = "area";
            d.name = "nested_state";
            d.a = sa ? "present" : "";
            d.b = sb ? "present" : "";
            d.detail = "a kvm_nested_state in one vCPU only";
            nr = xsave::DiffResult{{d}};
        }
        if (nr) equal = equal && nr->equal();
        if (o.json) {
            auto j = xsave::to_json(r);
            if (as[i].tid) j["a_tid"] = *as[i].tid;
            if (bs[i].tid) j["b_tid"] = *bs[i].tid;
            if (nr) j["nested_state"] = xsave::to_json(*nr);
            all.push_back(std::move(j));
            continue;
        }
        std::string text = render(r, color && o.format != "markdown");
        if (nr && !nr->equal()) {
            text += fmt::format("nested state: {} difference{}\n", nr->differences.size(), nr->differences.size() == 1 ? "" : "s");
            for (const auto& d : nr->differences)
                text += fmt::format("  {:<10} {:<36} {} vs {}{}\n", d.kind, d.name, d.a.empty() ? "-" : d.a, d.b.empty() ? "-" : d.b,
                                    d.detail.empty() ? "" : "  (" + d.detail + ")");
        }
        if (o.format == "markdown") {
            fmt::print("{}{}", i ? "\n" : "", cli::markdown_diff(as[i].label, bs[i].label, r, text));
            continue;
        }
        if (n > 1 || as[i].tid) fmt::print("{}=== {} vs {}\n", i ? "\n" : "", as[i].label, bs[i].label);
        fmt::print("{}", text);
    }
    if (as.size() != bs.size()) equal = false;
    if (o.json) {
        if (n == 1 && !as[0].tid) fmt::print("{}\n", all[0].dump(2));
        else fmt::print("{}\n", nlohmann::ordered_json{{"equal", equal}, {"pairs", all}}.dump(2));
    }
    cli::set_exit_code(equal ? 0 : 1);
}

struct AssembleOptions {
    std::string file, out, format = "raw", to, profile, xcomp, into;
    std::optional<uint64_t> thread;
    bool force = false;
};

void run_assemble(const AssembleOptions& o) {
    auto text = cli::read_input(o.file, 64u << 20);
    std::vector<uint8_t> bytes =
        xsave::naming(o.file, [&] { return xsave::assemble({reinterpret_cast<const char*>(text.data()), text.size()}, o.thread); });
    if (!o.into.empty()) {   // back into a CRIU core image: only the FP fields that differ change
        if (o.out.empty() || o.out == "-") throw xsave::Error("assemble --into: give -o NEW-core.img");
        auto img = cli::read_input(o.into);
        auto t = xsave::naming(o.into, [&] { return xsave::criu::read_core(img, o.into); });
        std::shared_ptr<const xsave::CpuModel> cpu;
        if (!o.profile.empty()) cpu = std::make_shared<const xsave::CpuModel>(cli::load_profile(o.profile));
        std::vector<std::string> notes;
        auto out = xsave::naming(o.file, [&] { return xsave::criu::assemble_into(t, bytes, cpu, &notes); });
        for (const auto& n : notes) cli::warn(fmt::format("{}: {}", o.into, n));
        return cli::write_output(o.out, out, true, true);
    }
    if (o.to.empty() && o.format != "json") return cli::write_area(o.out, bytes, o.format, o.force);
    if (o.profile.empty())
        throw xsave::Error(o.to.empty() ? "--format json needs --cpuid: the layout the result is decoded with"
                                        : "--to needs --cpuid: the target layout comes from a CPUID profile");
    xsave::CpuModel cpu(cli::load_profile(o.profile));
    xsave::Image img = xsave::naming(o.file, [&] { return xsave::read_image(bytes, cpu); });
    if (o.to == "standard") {
        auto r = xsave::to_standard(img, cpu);
        xsave::ReadOptions ro;
        ro.xcr0 = r.layout->mask;   // what the result holds, as the conversions' --format json reads it
        img = xsave::read_image(std::move(r.bytes), cpu, ro);
    } else if (o.to == "compacted") {
        auto req = xsave::parse_xcomp_mode(o.xcomp.empty() ? "xsavec" : o.xcomp);
        img = xsave::read_image(xsave::to_compacted(img, cpu, xsave::compute_xcomp_bv(img, cpu, req)).bytes, cpu);
    }
    std::string json = o.format == "json" ? xsave::to_json(xsave::decode(img, cpu)).dump(2) + "\n" : "";
    cli::write_area(o.out, img.bytes, o.format, o.force, json);
}

} // namespace

void cli::register_diff(CLI::App& app) {
    auto o = std::make_shared<DiffOptions>();
    auto* cmd = app.add_subcommand("diff", "Compare two XSAVE areas register by register (exit 0 same, 1 different, 2 trouble)");
    cmd->add_option("a", o->a, "first area (raw, hex, core, sigframe)")->required();
    cmd->add_option("b", o->b, "second area (default: A again, with --thread-b)");
    o->in_a.add(cmd);
    cmd->add_option("--thread-b", o->thread_b, "B's thread ID or vCPU (default: --thread)");
    cmd->add_option("--cpuid-b", o->in_b.profile.spec, "CPUID profile for B (default: --cpuid)");
    cmd->add_option("--xcr0-b", o->in_b.xcr0, "standard form: the XCR0 B was saved with");
    cli::add_input_option(cmd, o->in_b.input, "--input-b");
    cmd->add_flag("--bytes", o->bytes, "raw byte-level diff, each range named");
    cmd->add_option("--ignore", o->ignore, "names to leave out: registers, components, format, xstate_bv, xcomp_bv (comma-separated)")
        ->allow_extra_args(false);
    cmd->add_flag("--json", o->json, "JSON output (as --format json)");
    cmd->add_option("--format", o->format, "text (default), json (as --json) or markdown (a summary for bug reports)")
        ->check(CLI::IsMember({"text", "json", "markdown"}));
    cmd->add_option("--color", o->color, "auto, always, never")->check(CLI::IsMember({"auto", "always", "never"}));
    cli::printing_callback(cmd, [o] {
        o->json = cli::json_format(o->json, o->format) == "json";
        o->in_b.thread = o->thread_b.empty() ? o->in_a.thread : o->thread_b;
        if (o->b.empty()) {
            if (o->thread_b.empty()) throw xsave::Error("diff: the second area is missing (or pass --thread-b to compare two threads of A)");
            o->b = o->a;
        }
        run_diff(*o);
    });

    auto a = std::make_shared<AssembleOptions>();
    auto* as = app.add_subcommand("assemble", "Build an XSAVE area from `dump --json` output (edited or not)");
    as->add_option("state", a->file, "JSON as `xsavetool dump --json` writes it; - for stdin")->required();
    as->add_option("-o,--out", a->out, "output file (written atomically); default stdout");
    as->add_option("--format", a->format, "raw (default), hex or json (the result's dump --json; needs --cpuid)")
        ->check(CLI::Validator(
            [](std::string& v) -> std::string {
                if (v == "standard" || v == "compacted") throw xsave::Error("--format " + v + " is now --to " + v);
                return {};
            },
            ""))
        ->check(CLI::IsMember({"raw", "hex", "json"}));
    as->add_option("--to", a->to, "convert to standard or compacted form (needs --cpuid)")
        ->check(CLI::IsMember({"standard", "compacted"}));
    cli::renamed_option(as, "--output", "--format (-o FILE names the output file)");
    as->add_option("--thread", a->thread, "the area with this tid, when the JSON is an array (dump --json of a core)");
    as->add_option("--cpuid", a->profile, "CPUID profile for --to and --format json (with --into: the layout the image was dumped with)");
    as->add_option("--into", a->into, "write the area back into this CRIU core-<pid>.img (changed FP fields only); needs -o");
    as->add_option("--xcomp-bv", a->xcomp, "compacted: xsavec, xsaves, minimal, mshv or a mask");
    as->add_flag("--force", a->force, "write raw bytes to a terminal");
    as->callback([a] { run_assemble(*a); });
}
