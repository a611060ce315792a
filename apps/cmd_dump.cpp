// `xsavetool dump FILE`: decode an XSAVE area (or every thread of a core) into named registers.
#include "cli.hpp"
#include "dump_text.hpp"
#include "nested.hpp"
#include "sources.hpp"

#include "xsave/area_json.hpp"
#include "xsave/decode.hpp"

#include <fmt/core.h>

#include <cstdio>
#include <memory>
#include <string>

namespace {

struct DumpOptions {
    std::string file;
    cli::InputOptions in;
    bool json = false;
};

void write_stdout(const std::string& s) {
    if (std::fwrite(s.data(), 1, s.size(), stdout) != s.size()) throw xsave::Error("stdout: cannot write");
}

void run_dump(const DumpOptions& o) {
    xsave::Opened opened = cli::open_input(o.file, o.in);
    if (!opened.nested.empty()) return cli::dump_nested(o.file, opened.nested[0], o.json);
    // Every area is read and checked before the first byte is printed: bad input prints nothing.
    auto& areas = opened.areas;
    bool many = areas.size() > 1 || areas[0].tid;
    // A core prints one thread at a time, so memory does not grow with the thread count.
    std::string buf;
    for (size_t i = 0; i < areas.size(); ++i) {
        const auto& a = areas[i];
        cli::warn_all(a.cpu->profile().name, a.cpu->warnings());
        xsave::Decoded d = xsave::decode(a.image, *a.cpu);
        d.warnings.insert(d.warnings.begin(), a.warnings.begin(), a.warnings.end());
        if (o.json) {
            buf.clear();
            if (many) buf += i ? ",\n  " : "[\n  ";
            xsave::append_area_json(buf, a, d, many ? 2 : 0);
            if (!many) buf += '\n';
            write_stdout(buf);   // the first thread goes out with "[": an error there prints nothing
            continue;
        }
        if (many) fmt::print("{}", cli::area_heading(a, i, areas.size()));
        for (const auto& n : a.notes) fmt::print("input       {}\n", n);
        for (const auto& [name, value] : a.context) fmt::print("context     {:<8} {}\n", name, value);
        cli::warn_all(a.label, d.warnings);
        fmt::print("{}", cli::render_dump(d, a.bytes_read));
        if (a.nested) {
            // The vCPU's KVM nested state, printed as `dump` prints a kvm_nested_state file.
            fmt::print("\nnested      {}: kvm_nested_state, {} format, {} bytes\n", a.label, a.nested->vmx() ? "VMX" : "SVM", a.nested->file_size);
            for (const auto& n : a.nested->notes) fmt::print("nested      {}\n", n);
            cli::print_nested_body(*a.nested);
        }
    }
    if (o.json && many) write_stdout("\n]\n");
}

} // namespace

void cli::register_dump(CLI::App& app) {
    auto o = std::make_shared<DumpOptions>();
    auto* cmd = app.add_subcommand("dump", "Decode an XSAVE area into named registers");
    cmd->add_option("file", o->file, "XSAVE area (raw bytes, hex text, ELF core, signal frame) or KVM nested state; - for stdin")->required();
    o->in.add(cmd);
    cmd->add_flag("--json", o->json, "print the JSON contract");
    cmd->callback([o] { run_dump(*o); });
}
