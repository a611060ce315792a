// Printing KVM nested state for dump, check and diff.
#include "nested.hpp"

#include "xsave/profile.hpp"

#include <fmt/core.h>

namespace cli {

namespace nx = xsave::nested;

void NestedCheckFlags::add(CLI::App* cmd) {
    cmd->add_flag("--in-smm", in_smm, "kvm nested state: the vCPU is in SMM");
    cmd->add_flag("--no-vmx", no_vmx, "kvm nested state: the vCPU's CPUID has no VMX");
    cmd->add_flag("--evmcs", evmcs, "kvm nested state: enlightened VMCS is enabled on the vCPU");
    cmd->add_flag("--no-svme", no_svme, "kvm nested state: the vCPU's EFER.SVME is clear");
    cmd->add_flag("--no-npt", no_npt, "kvm nested state: the host KVM runs without nested paging");
    cmd->add_option("--maxphyaddr", maxphyaddr, "kvm nested state: the guest's MAXPHYADDR (default: the profile's, else 52)")
        ->check(CLI::Range(32, 64));
}

namespace {

// " NAME NAME" (with its leading space), or nothing.
std::string joined(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += " " + x;
    return s;
}

void print_area(std::string& out, const std::string& title, std::span<const uint8_t> area, std::span<const nx::Field> table,
                std::initializer_list<std::string_view> groups) {
    out += fmt::format("{} ({} bytes)\n", title, area.size());
    for (auto g : groups) {
        out += fmt::format("  {}\n", g);
        for (const auto& f : table)
            if (f.group == g) out += fmt::format("    {:<32} {}\n", f.name, nx::field_hex(area, f));
    }
}

} // namespace

std::string nested_text(const std::string& path, const nx::State& s) {
    std::string out;
    const nx::Header& h = s.hdr;
    out += fmt::format("input       {}: kvm_nested_state, {} format, {} bytes\n", path, s.vmx() ? "VMX" : "SVM", s.file_size);
    for (const auto& n : s.notes) out += fmt::format("input       {}\n", n);
    out += fmt::format("flags       0x{:04x}{}\n", h.flags, joined(nx::flag_names(h.flags)));
    out += fmt::format("format      {} ({})\n", h.format, s.vmx() ? "KVM_STATE_NESTED_FORMAT_VMX" : "KVM_STATE_NESTED_FORMAT_SVM");
    out += fmt::format("size        {}\n", h.size);
    if (s.vmx()) {
        out += fmt::format("vmxon_pa    0x{:016x}{}\n", h.vmxon_pa, h.vmxon_pa == ~0ull ? " (no VMXON)" : "");
        out += fmt::format("vmcs12_pa   0x{:016x}{}\n", h.vmcs12_pa, h.vmcs12_pa == ~0ull ? " (no current VMCS)" : "");
        out += fmt::format("smm.flags   0x{:04x}{}\n", h.smm_flags, joined(nx::smm_flag_names(h.smm_flags)));
        if (h.pad) out += fmt::format("pad         0x{:04x}\n", h.pad);
        out += fmt::format("vmx.flags   0x{:08x}{}\n", h.vmx_flags, joined(nx::vmx_flag_names(h.vmx_flags)));
        out += fmt::format("preemption_timer_deadline 0x{:016x}\n", h.preemption_timer_deadline);
        if (!s.vmcs12.empty()) print_area(out, "vmcs12", s.vmcs12, nx::vmcs12_fields(), {"header", "control", "exit-info", "guest", "host"});
        if (!s.shadow_vmcs12.empty())
            print_area(out, "shadow_vmcs12", s.shadow_vmcs12, nx::vmcs12_fields(), {"header", "control", "exit-info", "guest", "host"});
    } else {
        out += fmt::format("vmcb_pa     0x{:016x}\n", h.vmcb_pa);
        if (!s.vmcb12.empty()) print_area(out, "vmcb12", s.vmcb12, nx::vmcb12_fields(), {"control", "save"});
    }
    for (const auto& r : s.unnamed) {
        std::string hex;
        for (uint8_t b : r.bytes) hex += fmt::format("{:02x}", b);
        out += fmt::format("unnamed     {}+0x{:x}: {}\n", r.area, r.offset, hex);
    }
    return out;
}

void dump_nested(const std::string& path, const nx::State& s, bool json) {
    if (json) {
        auto j = nx::to_json(s);
        j["input"] = {{"kind", "nested"}, {"notes", nlohmann::ordered_json::array()}};
        fmt::print("{}\n", j.dump(2));
        return;
    }
    fmt::print("{}", nested_text(path, s));

}

nx::CheckOptions nested_check_options(const std::string& profile_spec, const NestedCheckFlags& f) {
    bool host = profile_spec.empty() || profile_spec == "host";
    xsave::Profile p = host ? xsave::host_profile(xsave::HostLeaves::All) : load_profile(profile_spec);
    nx::CheckOptions o;
    std::string who = host ? "this machine" : profile_spec;
    if (p.vendor == "GenuineIntel" || p.vendor == "CentaurHauls" || p.vendor == "  Shanghai  ") o.rules = nx::Rules::Vmx;
    else if (p.vendor == "AuthenticAMD" || p.vendor == "HygonGenuine") o.rules = nx::Rules::Svm;
    else throw xsave::Error(fmt::format("{}: CPU vendor '{}' is neither Intel nor AMD: VMX or SVM rules? pass --cpuid with a profile that has leaf 0", who, p.vendor));
    o.in_smm = f.in_smm;
    o.vmx_in_cpuid = !f.no_vmx;
    o.evmcs_enabled = f.evmcs;
    o.svme = !f.no_svme;
    o.npt_enabled = !f.no_npt;
    if (const auto* l7 = p.find(7, 0)) o.la57 = l7->ecx >> 16 & 1;
    if (f.maxphyaddr) {
        o.maxphyaddr = f.maxphyaddr;
        o.maxphyaddr_source = "--maxphyaddr";
    } else if (const auto* l = p.find(0x80000008); l && (l->eax & 0xff)) {
        o.maxphyaddr = l->eax & 0xff;
        o.maxphyaddr_source = fmt::format("CPUID 0x80000008 of {}", who);
    } else {
        o.maxphyaddr_source = fmt::format("{} has no CPUID 0x80000008: the architectural maximum; --maxphyaddr to set it", who);
    }
    return o;
}

void check_nested(const std::string& path, const nx::State& s, const std::string& profile_spec, const NestedCheckFlags& f, bool json) {
    nx::CheckOptions o = nested_check_options(profile_spec, f);
    nx::CheckResult r = check_nested_state(s, o);
    auto where = [](const std::string& rule) {
        for (const auto& i : nx::all_rules())
            if (i.name == rule) return std::string(i.where);
        return std::string();
    };
    const char* rules = o.rules == nx::Rules::Vmx ? "vmx" : "svm";
    if (json) {
        nlohmann::ordered_json j;
        j["ok"] = r.ok();
        j["target"] = "kvm";
        j["kind"] = "kvm_nested_state";
        j["rules"] = rules;
        j["violations"] = nlohmann::ordered_json::array();
        for (const auto& v : r.violations) j["violations"].push_back({{"rule", v.rule}, {"message", v.message}, {"kernel", where(v.rule)}});
        j["assumptions"] = r.assumptions;
        fmt::print("{}\n", j.dump(2));
    } else {
        fmt::print("{}: {} by KVM_SET_NESTED_STATE ({} rules; {} format, flags 0x{:04x}{})\n", path, r.ok() ? "accepted" : "refused",
                   o.rules == nx::Rules::Vmx ? "VMX" : "SVM", s.vmx() ? "VMX" : "SVM", s.hdr.flags, joined(nx::flag_names(s.hdr.flags)));
        for (const auto& v : r.violations) fmt::print("  {}: {}\n    ({})\n", v.rule, v.message, where(v.rule));
        for (const auto& a : r.assumptions) fmt::print("  assuming {}\n", a);
    }
    if (!r.ok()) set_exit_code(1);
}

void diff_nested(const std::string& a, const nx::State& sa, const std::string& b, const nx::State& sb, bool json) {
    auto r = nx::diff_states(sa, sb);
    if (json) {
        fmt::print("{}\n", xsave::to_json(r).dump(2));
    } else {
        for (const auto& d : r.differences)
            fmt::print("{:<10} {:<36} {} vs {}{}\n", d.kind, d.name, d.a.empty() ? "-" : d.a, d.b.empty() ? "-" : d.b,
                       d.detail.empty() ? "" : "  (" + d.detail + ")");
        if (r.equal()) fmt::print("{} and {}: same nested state\n", a, b);
        else fmt::print("{} difference{}\n", r.differences.size(), r.differences.size() == 1 ? "" : "s");
    }
    set_exit_code(r.equal() ? 0 : 1);
}

} // namespace cli
