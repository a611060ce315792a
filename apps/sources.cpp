// The shared input options; the reading itself is xsave::open.
#include "sources.hpp"

#include <fmt/core.h>

#include <cstdio>

namespace cli {

CLI::Option* add_input_option(CLI::App* cmd, std::string& input, const std::string& name) {
    std::vector<std::string> names{"auto"};
    for (const auto& f : xsave::input_formats()) names.emplace_back(f.name);
    return cmd->add_option(name, input, "input kind: " + xsave::input_format_names())->check(CLI::IsMember(names));
}

void InputOptions::add(CLI::App* cmd, const std::string& suffix) {
    add_input_option(cmd, input, "--input" + suffix);
    cmd->add_option("--thread" + suffix, thread, "cores and snapshots: all (default) or a thread/vCPU ID");
    cmd->add_option("--cpuid" + suffix, profile.spec, "CPUID profile: host, a built-in name, or a file");
    cmd->add_option("--xcr0" + suffix, xcr0, "standard form: the XCR0 the area was saved with (mask or names)");
    cmd->add_option("--block" + suffix, block, "hex text holding several dumps: the Nth (1-based)");
}

xsave::OpenOptions InputOptions::open_options() const {
    xsave::OpenOptions o;
    o.input = input;
    o.thread = thread;
    o.block = block;
    if (!profile.spec.empty()) {
        xsave::Profile p = load_profile(profile.spec);
        o.cpu = xsave::naming(profile.spec, [&] { return std::make_shared<const xsave::CpuModel>(std::move(p)); });
    }
    return o;
}

xsave::Opened open_input(const std::string& path, const InputOptions& opt, const xsave::OpenOptions* prepared) {
    xsave::OpenOptions o = prepared ? *prepared : opt.open_options();
    // As the input's own errors read.
    if (!opt.xcr0.empty()) o.xcr0 = xsave::naming(path, [&] { return parse_xcr0(opt.xcr0, "--xcr0"); });
    return xsave::open_file(path, o);
}

std::vector<Area> load_areas(const std::string& path, const InputOptions& opt, const xsave::OpenOptions* prepared) {
    xsave::Opened opened = open_input(path, opt, prepared);
    if (opened.areas.empty() && !opened.nested.empty())
        throw xsave::Error(path + ": a KVM nested state (kvm_nested_state) holds no XSAVE area: dump, check --for kvm and diff read it");
    return std::move(opened.areas);
}

void for_each_input(const std::vector<std::string>& files, const std::function<void(const std::string&)>& fn) {
    if (files.size() == 1) return fn(files[0]);
    for (const auto& f : files) {
        try {
            fn(f);
        } catch (const xsave::Error& e) {
            std::fflush(stdout);
            fmt::print(stderr, "xsavetool: {}\n", e.what());
            set_exit_code(2);
        }
    }
}

std::string area_heading(const Area& a, size_t i, size_t n) {
    return fmt::format("{}=== {} {} ({} of {})\n", i ? "\n" : "", a.unit, a.tid ? std::to_string(*a.tid) : "?", i + 1, n);
}

} // namespace cli
