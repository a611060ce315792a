// `xsavetool dump FILE...`: decode XSAVE areas (every thread of a core) into named registers.
#include "cli.hpp"
#include "dump_select.hpp"
#include "dump_text.hpp"
#include "markdown.hpp"
#include "nested.hpp"
#include "sources.hpp"

#include "xsave/area_json.hpp"
#include "xsave/decode.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>

namespace {

struct DumpOptions {
    std::vector<std::string> files;
    cli::InputOptions in;
    bool json = false;
    std::string format = "text";   // text, json, jsonl
    std::string only;              // --only xmm3,k1
    cli::Selection sel;
};

void write_stdout(const std::string& s) {
    if (std::fwrite(s.data(), 1, s.size(), stdout) != s.size()) throw xsave::Error("stdout: cannot write");
}

// The area's object with "file" as its first member (several inputs, jsonl).
void append_area_with_file(std::string& out, const cli::Area& a, const xsave::Decoded& d, unsigned indent,
                           const std::string& file) {
    std::string obj;
    xsave::append_area_json(obj, a, d, indent);
    out += "{\n" + std::string(indent + 2, ' ') + "\"file\": ";
    xsave::append_json_string(out, file);
    out += ",";
    out.append(obj, 1);   // the object without its "{"
}

// Pretty JSON on one line: each newline and the indentation after it go. JSON strings hold
// no raw newline, so nothing inside a string is touched.
void one_line(std::string& s) {
    size_t w = 0;
    for (size_t r = 0; r < s.size();) {
        if (s[r] == '\n') {
            for (++r; r < s.size() && s[r] == ' '; ++r) {}
            continue;
        }
        s[w++] = s[r++];
    }
    s.resize(w);
    s += '\n';
}

class Dumper {
public:
    Dumper(const DumpOptions& o, bool several) : o_(o), several_(several) {}

    // Every area of the file is read and checked before the first byte of it is printed: a bad
    // file prints nothing. A core prints one thread at a time, so memory does not grow with
    // the thread count.
    void file(const std::string& path, const xsave::OpenOptions& prepared) {
        xsave::Opened opened = cli::open_input(path, o_.in, &prepared);
        if (!opened.nested.empty()) return cli::dump_nested(path, opened.nested[0], o_.format != "text");
        auto& areas = opened.areas;
        const bool threads = areas.size() > 1 || areas[0].tid;
        if (o_.format == "text" && several_) write_stdout(fmt::format("{}=== {}\n", files_++ ? "\n" : "", path));
        for (size_t i = 0; i < areas.size(); ++i) {
            const auto& a = areas[i];
            cli::warn_all(a.cpu->profile().name, a.cpu->warnings());
            xsave::Decoded d = xsave::decode(a.image, *a.cpu);
            d.warnings.insert(d.warnings.begin(), a.warnings.begin(), a.warnings.end());
            const uint64_t used = o_.sel.any() ? cli::select(d, o_.sel) : 0;
            buf_.clear();
            if (o_.format == "jsonl") {
                append_area_with_file(buf_, a, d, 0, path);
                one_line(buf_);
            } else if (o_.format == "json" && several_) {
                buf_ += areas_++ ? ",\n  " : "[\n  ";
                append_area_with_file(buf_, a, d, 2, path);
            } else if (o_.format == "json") {
                if (threads) buf_ += i ? ",\n  " : "[\n  ";
                xsave::append_area_json(buf_, a, d, threads ? 2 : 0);
                buf_ += threads ? (i + 1 == areas.size() ? "\n]\n" : "") : "\n";
            } else if (o_.format == "markdown") {
                buf_ += areas_++ ? "\n" : "";
                buf_ += cli::markdown_dump(a.label, d, a.notes);
            } else {
                if (threads) buf_ += cli::area_heading(a, i, areas.size());
                for (const auto& n : a.notes) buf_ += fmt::format("input       {}\n", n);
                for (const auto& [name, value] : a.context) buf_ += fmt::format("context     {:<8} {}\n", name, value);
                cli::warn_all(a.label, d.warnings);
                buf_ += o_.sel.only.empty() ? cli::render_dump(d, a.bytes_read) : cli::render_only(d, o_.sel, used);
                if (a.nested) buf_ += "\n" + cli::nested_text(a.label + " nested_state", *a.nested);
            }
            write_stdout(buf_);
        }
    }
    void finish() {
        if (o_.format == "json" && several_) write_stdout(areas_ ? "\n]\n" : "[]\n");
    }

private:
    const DumpOptions& o_;
    bool several_;
    size_t files_ = 0, areas_ = 0;
    std::string buf_;
};

void run_dump(DumpOptions& o) {
    if (o.json) {
        if (o.format != "text" && o.format != "json") throw xsave::Error("--json and --format " + o.format + " disagree");
        o.format = "json";
    }
    for (size_t at = 0; !o.only.empty() && at <= o.only.size();) {
        size_t comma = std::min(o.only.find(',', at), o.only.size());
        if (comma > at) o.sel.only.push_back(o.only.substr(at, comma - at));
        at = comma + 1;
    }
    if (o.sel.only.empty() && !o.only.empty()) throw xsave::Error("--only: expected register names, e.g. xmm3,k1");
    // --cpuid is loaded once for every file (host CPUID and built-in models are per process).
    const xsave::OpenOptions prepared = o.in.open_options();
    Dumper d(o, o.files.size() > 1);
    cli::for_each_input(o.files, [&](const std::string& f) { d.file(f, prepared); });
    d.finish();
}

} // namespace

void cli::register_dump(CLI::App& app) {
    auto o = std::make_shared<DumpOptions>();
    auto* cmd = app.add_subcommand("dump", "Decode XSAVE areas into named registers");
    cmd->add_option("file", o->files, "XSAVE areas (raw bytes, hex text, ELF cores, signal frames, snapshots) or KVM nested state; - for stdin")->required();
    o->in.add(cmd);
    cmd->add_flag("--json", o->json, "print the JSON contract (several files: one array, \"file\" in each object)");
    cmd->add_option("--format", o->format, "text (default), json (as --json), jsonl (one object per line per area) or markdown (a summary for bug reports)")
        ->check(CLI::IsMember({"text", "json", "jsonl", "markdown"}));
    cmd->add_option("--only", o->only, "only these registers or fields, comma-separated (xmm3,k1,mxcsr)");
    cmd->add_flag("--in-use", o->sel.in_use, "only components whose XSTATE_BV bit is set");
    cli::printing_callback(cmd, [o] { run_dump(*o); });
}
