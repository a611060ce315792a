// `xsavetool cpuid capture|import|list|show|check`: the CPUID profile toolbox.
#include "cli.hpp"

#include "xsave/components.hpp"
#include "xsave/cpuid_check.hpp"
#include "xsave/import.hpp"
#include "xsave/layout.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <memory>

namespace cpuid_cmd {

using namespace xsave;

struct CpuidOptions {
    std::string output, file, name, xcr0, xss;
    unsigned cpu = 0;
    bool minimal = false, json = false;
};

void run_capture(const CpuidOptions& o) { cli::write_output(o.output, profile_to_json(host_profile())); }

void run_import(const CpuidOptions& o) {
    Profile p = resolve_profile(o.file, {o.cpu, {}});
    cli::warn_all(o.file, p.warnings);
    if (!o.name.empty()) p.name = o.name;
    if (o.minimal) p = minimal_profile(p);
    cli::write_output(o.output, profile_to_json(p));
}

std::string hex(uint64_t v) { return fmt::format("{:#x}", v); }

void run_list(bool json) {
    nlohmann::ordered_json j = nlohmann::ordered_json::array();
    for (const auto& b : builtin_profiles()) {
        Profile p = builtin_profile(b.name);
        uint64_t xcr0 = 0;
        if (const CpuidLeaf* l = p.find(0xD, 0)) xcr0 = uint64_t(l->edx) << 32 | l->eax;
        if (json) j.push_back({{"name", b.name}, {"vendor", p.vendor}, {"cpu", p.name}, {"xcr0", hex(xcr0)}, {"components", mask_names(xcr0)}});
        else fmt::print("{:<22} {:<13} {:<48} XCR0 {:#x} ({})\n", b.name, p.vendor, p.name, xcr0, mask_names(xcr0));
    }
    if (json) fmt::print("{}\n", j.dump(2));
}

// Family, model and stepping as the SDM and AMD APM combine them from CPUID.1:EAX.
std::string family_model(const Profile& p) {
    const CpuidLeaf* l = p.find(1);
    if (!l) return "unknown (no leaf 1)";
    uint32_t fam = l->eax >> 8 & 0xF, model = l->eax >> 4 & 0xF;
    if (fam == 0xF) fam += l->eax >> 20 & 0xFF;
    if (fam == 6 || fam >= 0xF) model |= (l->eax >> 16 & 0xF) << 4;
    return fmt::format("family {:#x} model {:#x} stepping {}", fam, model, l->eax & 0xF);
}

void show_json(const Profile& p, const CpuModel& cpu, const Layout* all, const std::string& file) {
    nlohmann::ordered_json j;
    j["profile"] = p.name.empty() ? file : p.name;
    j["vendor"] = p.vendor;
    j["cpu"] = family_model(p);
    j["features"] = {{"xsaveopt", cpu.has_xsaveopt()}, {"xsavec", cpu.has_xsavec()}, {"xgetbv1", cpu.has_xgetbv1()},
                     {"xsaves", cpu.has_xsaves()}, {"xfd", cpu.has_xfd()}};
    j["xcr0_supported"] = hex(cpu.supported_xcr0());
    j["xss_supported"] = hex(cpu.supported_xss());
    j["xcr0_enabled"] = hex(cpu.enabled_xcr0());
    j["xcr0_recorded"] = p.xcr0.has_value();
    if (p.xss) j["xss_enabled"] = hex(*p.xss);
    if (p.mxcsr_mask) j["mxcsr_mask"] = hex(*p.mxcsr_mask);
    j["components"] = nlohmann::ordered_json::array();
    uint64_t sup = cpu.supported_xcr0() | cpu.supported_xss() | 3;
    for (unsigned b = 0; b < 63; ++b) {
        if (!(sup >> b & 1)) continue;
        const auto& g = cpu.geometry(b);
        bool super = cpu.supported_xss() >> b & 1;
        nlohmann::ordered_json c{{"bit", b}, {"name", component_name(b)}, {"size", g.size}};
        c["offset"] = super ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(g.std_offset);
        c["compacted_offset"] = all && all->has(b) ? nlohmann::ordered_json(all->offset[b]) : nlohmann::ordered_json(nullptr);
        c["align64"] = bool(g.align64);
        c["xfd"] = bool(g.xfd);
        c["supervisor"] = super;
        j["components"].push_back(std::move(c));
    }
    fmt::print("{}\n", j.dump(2));
}

void run_show(const CpuidOptions& o) {
    Profile p = cli::load_profile(o.file, HostLeaves::All);
    std::unique_ptr<CpuModel> model;
    try {
        model = std::make_unique<CpuModel>(p);
    } catch (const Error& e) {
        throw Error(fmt::format("{}: {} (`xsavetool cpuid check` lists what is wrong)", o.file, e.what()));
    }
    const CpuModel& cpu = *model;
    cli::warn_all(o.file, cpu.warnings());
    // Compacted offsets for everything supported, where the engine can place it all.
    const Layout* all = nullptr;
    try {
        all = &cpu.compacted(cpu.supported_xcr0() | cpu.supported_xss());
    } catch (const Error&) {
    }
    if (o.json) return show_json(p, cpu, all, o.file);
    fmt::print("profile:   {}\n", p.name.empty() ? o.file : p.name);
    fmt::print("vendor:    {}\n", p.vendor.empty() ? "unknown" : p.vendor);
    fmt::print("cpu:       {}\n", family_model(p));
    std::string feats;
    auto feat = [&](bool on, const char* n) { feats += fmt::format("{}{}{}", feats.empty() ? "" : " ", on ? "+" : "-", n); };
    feat(cpu.has_xsaveopt(), "XSAVEOPT");
    feat(cpu.has_xsavec(), "XSAVEC");
    feat(cpu.has_xgetbv1(), "XGETBV1");
    feat(cpu.has_xsaves(), "XSAVES");
    feat(cpu.has_xfd(), "XFD");
    fmt::print("features:  {}\n", feats);
    fmt::print("XCR0 supported:     {:#x} ({})\n", cpu.supported_xcr0(), mask_names(cpu.supported_xcr0()));
    fmt::print("IA32_XSS supported: {:#x} ({})\n", cpu.supported_xss(),
               cpu.supported_xss() ? mask_names(cpu.supported_xss()) : "none");
    fmt::print("XCR0 enabled:       {:#x} ({}){}\n", cpu.enabled_xcr0(), mask_names(cpu.enabled_xcr0()),
               p.xcr0 ? "" : " [not recorded: all supported user bits]");
    if (p.xss) fmt::print("IA32_XSS enabled:   {:#x}\n", *p.xss);
    if (p.mxcsr_mask) fmt::print("MXCSR_MASK:         {:#x}\n", *p.mxcsr_mask);
    if (const CpuidLeaf* l = p.find(0xD, 0))
        fmt::print("sizes:     CPUID.(0xD,0) EBX {} (enabled XCR0), ECX {} (all user bits)\n", l->ebx, l->ecx);
    if (const CpuidLeaf* l = p.find(0xD, 1); l && (cpu.has_xsavec() || cpu.has_xsaves()))
        fmt::print("           CPUID.(0xD,1) EBX {} (compacted XCR0|IA32_XSS)\n", l->ebx);

    fmt::print("\n{:>3}  {:<15} {:>6} {:>8} {:>10}  {:<5} {:<3} {}\n", "bit", "component", "size", "offset", "compacted",
               "align", "xfd", "kind");
    uint64_t sup = cpu.supported_xcr0() | cpu.supported_xss() | 3;
    for (unsigned b = 0; b < 63; ++b) {
        if (!(sup >> b & 1)) continue;
        const auto& g = cpu.geometry(b);
        bool super = cpu.supported_xss() >> b & 1;
        std::string off = super ? "-" : fmt::format("{}", g.std_offset);
        std::string coff = all && all->has(b) ? fmt::format("{}", all->offset[b]) : "-";
        fmt::print("{:>3}  {:<15} {:>6} {:>8} {:>10}  {:<5} {:<3} {}\n", b, component_name(b), g.size, off, coff,
                   g.align64 ? "64" : "-", g.xfd ? "yes" : "-", super ? "supervisor" : "user");
    }
}

void run_check(const CpuidOptions& o) {
    Profile p = cli::load_profile(o.file, HostLeaves::All);
    CpuidCheckOptions co;
    if (!o.xcr0.empty()) co.xcr0 = cli::parse_xcr0(o.xcr0, "--xcr0");
    if (!o.xss.empty()) co.xss = cli::parse_mask(o.xss, "--xss");
    auto findings = check_cpuid(p, co);
    bool ok = cpuid_consistent(findings);
    if (o.json) {
        nlohmann::ordered_json j;
        j["profile"] = p.name;
        j["consistent"] = ok;
        j["findings"] = nlohmann::ordered_json::array();
        for (const auto& f : findings)
            j["findings"].push_back({{"rule", f.rule}, {"inconsistent", f.inconsistent}, {"message", f.message}});
        fmt::print("{}\n", j.dump(2));
    } else {
        for (const auto& f : findings)
            fmt::print("{} [{}] {}\n", f.inconsistent ? "inconsistent" : "note", f.rule, f.message);
        size_t n = 0;
        for (const auto& f : findings) n += f.inconsistent;
        if (ok) fmt::print("{}: consistent\n", o.file);
        else fmt::print("{}: inconsistent ({} finding{})\n", o.file, n, n == 1 ? "" : "s");
    }
    cli::set_exit_code(ok ? 0 : 1);
}

} // namespace cpuid_cmd

void cli::register_cpuid(CLI::App& app) {
    using namespace cpuid_cmd;
    auto o = std::make_shared<CpuidOptions>();
    auto* cmd = app.add_subcommand("cpuid", "CPUID profiles: capture, import, list, show, check");
    cmd->require_subcommand(1);

    auto* cap = cmd->add_subcommand("capture", "Write this machine's CPUID profile as JSON");
    cap->add_option("-o,--out", o->output, "output file (written atomically; default: stdout)");
    cli::renamed_option(cap, "--output", "-o");
    cap->callback([o] { run_capture(*o); });

    auto* imp = cmd->add_subcommand("import", "Convert a cpuid -r, AIDA64, dmesg or JSON profile to our JSON");
    imp->add_option("file", o->file, "profile text (format detected from the content); - for stdin")->required();
    imp->add_option("-o,--out", o->output, "output file (written atomically; default: stdout)");
    cli::renamed_option(imp, "--output", "-o");
    imp->add_option("--cpu", o->cpu, "logical CPU to take from a multi-CPU dump (default 0)");
    imp->add_option("--name", o->name, "profile name to record");
    imp->add_flag("--minimal", o->minimal, "keep only leaves 0, 1, 7, 0xD, 0x80000000 and 0x80000001");
    imp->callback([o] { run_import(*o); });

    auto* list = cmd->add_subcommand("list", "List the built-in profiles");
    list->add_flag("--json", o->json, "JSON: name, vendor, cpu, xcr0 of each");
    list->callback([o] { run_list(o->json); });

    auto* show = cmd->add_subcommand("show", "Show a profile's XSAVE features and component table");
    show->add_option("profile", o->file, "host, a built-in name, or a file")->required();
    show->add_flag("--json", o->json, "JSON: features, XCR0/IA32_XSS, and each component's size and offsets");
    show->callback([o] { run_show(*o); });

    auto* chk = cmd->add_subcommand("check", "Check a profile's CPUID leaf 0xD for consistency (exit 1: inconsistent)");
    chk->add_option("profile", o->file, "host, a built-in name, or a file")->required();
    chk->add_option("--xcr0", o->xcr0, "enabled XCR0 (mask or component names)");
    chk->add_option("--xss", o->xss, "enabled IA32_XSS (mask or component names)");
    chk->add_flag("--json", o->json, "machine-readable findings");
    chk->callback([o] { run_check(*o); });
}
