// `xsavetool dump FILE`: decode an XSAVE area (or every thread of a core) into named registers.
#include "cli.hpp"
#include "dump_text.hpp"
#include "sources.hpp"

#include "xsave/decode.hpp"

#include <fmt/core.h>

#include <memory>

namespace {

struct DumpOptions {
    std::string file;
    cli::InputOptions in;
    bool json = false;
};

nlohmann::ordered_json area_json(const cli::Area& a, const xsave::Decoded& d) {
    nlohmann::ordered_json j;
    if (a.tid) j["tid"] = *a.tid;
    nlohmann::ordered_json body = xsave::to_json(d);
    for (auto& [k, v] : body.items()) j[k] = v;
    j["input"] = {{"kind", a.kind}, {"notes", a.notes}};
    return j;
}

void run_dump(const DumpOptions& o) {
    auto areas = cli::load_areas(o.file, o.in);
    bool many = areas.size() > 1 || areas[0].tid;
    nlohmann::ordered_json all = nlohmann::ordered_json::array();
    for (size_t i = 0; i < areas.size(); ++i) {
        const auto& a = areas[i];
        for (const auto& w : a.cpu->warnings()) cli::warn(fmt::format("{}: {}", a.cpu->profile().name, w));
        xsave::Decoded d = xsave::decode(a.image, *a.cpu);
        if (o.json) {
            if (many) all.push_back(area_json(a, d));
            else fmt::print("{}\n", area_json(a, d).dump(2));
            continue;
        }
        if (many) fmt::print("{}=== thread {} ({} of {})\n", i ? "\n" : "", *a.tid, i + 1, areas.size());
        for (const auto& n : a.notes) fmt::print("input       {}\n", n);
        for (const auto& w : d.warnings) cli::warn(fmt::format("{}: {}", a.label, w));
        fmt::print("{}", cli::render_dump(d, a.bytes_read));
    }
    if (o.json && many) fmt::print("{}\n", all.dump(2));
}

} // namespace

void cli::register_dump(CLI::App& app) {
    auto o = std::make_shared<DumpOptions>();
    auto* cmd = app.add_subcommand("dump", "Decode an XSAVE area into named registers");
    cmd->add_option("file", o->file, "XSAVE area: raw bytes, hex text, ELF core or signal frame; - for stdin")->required();
    o->in.add(cmd);
    cmd->add_flag("--json", o->json, "print the JSON contract");
    cmd->callback([o] { run_dump(*o); });
}
