// `xsavetool dump FILE`: decode an XSAVE area into named registers.
#include "cli.hpp"
#include "dump_text.hpp"

#include "xsave/decode.hpp"

#include <fmt/core.h>

#include <memory>

namespace {

struct DumpOptions {
    std::string file;
    cli::ProfileOption profile;
    std::string xcr0;
    bool json = false;
};

void run_dump(const DumpOptions& o) {
    using namespace xsave;
    std::vector<uint8_t> bytes = cli::read_input(o.file);
    ReadOptions ro;
    if (!o.xcr0.empty()) ro.xcr0 = cli::parse_mask(o.xcr0, "--xcr0");
    size_t read = bytes.size();
    std::unique_ptr<CpuModel> cpu;
    Image img;
    try {
        if (o.profile.spec.empty()) {
            cpu = std::make_unique<CpuModel>(cli::load_profile("host"));
            try {
                img = read_image(bytes, *cpu, ro);
            } catch (const Error& e) {
                throw Error(fmt::format("does not fit this machine's layout ({}); pass --cpuid with the profile of the CPU that saved it (see `xsavetool cpuid list`)",
                                        e.what()));
            }
        } else {
            cpu = std::make_unique<CpuModel>(cli::load_profile(o.profile.spec));
            img = read_image(std::move(bytes), *cpu, ro);
        }
    } catch (const Error& e) {
        throw Error(fmt::format("{}: {}", o.file, e.what()));
    }
    for (const auto& w : cpu->warnings()) cli::warn(w);
    Decoded d = decode(img, *cpu);
    if (o.json) {
        fmt::print("{}\n", to_json(d).dump(2));
    } else {
        for (const auto& w : d.warnings) cli::warn(fmt::format("{}: {}", o.file, w));
        fmt::print("{}", cli::render_dump(d, read));
    }
}

} // namespace

void cli::register_dump(CLI::App& app) {
    auto o = std::make_shared<DumpOptions>();
    auto* cmd = app.add_subcommand("dump", "Decode an XSAVE area into named registers");
    cmd->add_option("file", o->file, "XSAVE area (raw bytes), or - for stdin")->required();
    o->profile.add(cmd);
    cmd->add_option("--xcr0", o->xcr0, "standard form: the XCR0 the area was saved with (mask or names)");
    cmd->add_flag("--json", o->json, "print the JSON contract");
    cmd->callback([o] { run_dump(*o); });
}
