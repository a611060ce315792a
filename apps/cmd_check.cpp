// `xsavetool check FILE...`: would XRSTOR, XRSTORS, KVM, WHPX or MSHV accept this buffer?
// Lists every rule it breaks; --on-cpu also runs XRSTOR on it in a child process.
#include "cli.hpp"
#include "nested.hpp"
#include "sources.hpp"

#include "xsave/components.hpp"
#include "xsave/cpu_ops.hpp"
#include "xsave/criu.hpp"
#include "xsave/decode.hpp"
#include "xsave/image.hpp"
#include "xsave/open.hpp"
#include "xsave/option_values.hpp"
#include "xsave/restore_meaning.hpp"
#include "xsave/validate.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <memory>
#include <optional>

namespace {

struct CheckCmdOptions {
    std::vector<std::string> files;
    std::string format = "text";   // text, json, jsonl
    cli::ProfileOption profile;
    std::string on;                  // --on TO; with --cpuid FROM too, --cpuid is the saving CPU
    std::string from;                // set by run_check: the saving CPU's profile, when both are given
    std::string target = "xrstor";
    std::string xcr0, xss, guest_xcr0, xfd;
    std::string input = "auto", thread = "all";
    bool on_cpu = false;
    bool json = false;
    cli::NestedCheckFlags nested;
    CLI::Option* for_option = nullptr;
};

struct OnCpu {
    xsave::hw::RestoreVerdict verdict;
    bool predicted_accept = false;   // the prediction without rules the child cannot observe
    bool agrees() const { return verdict.accepted == predicted_accept; }
};

// The prediction XRSTOR in a child can be compared with: the child pads short buffers, so
// rules it cannot observe (area-size) are left out.
bool predicted_by_observable_rules(const xsave::CheckResult& r) {
    for (const auto& v : r.violations)
        for (const auto& info : xsave::all_rules())
            if (info.name == v.rule && info.cpu_observable) return false;
    return true;
}

OnCpu run_on_cpu(const CheckCmdOptions& o, const std::vector<uint8_t>& bytes, const xsave::CheckOptions& co,
                 const xsave::CheckResult& r) {
    using namespace xsave;
    std::string spec = o.profile.spec.empty() ? "host" : o.profile.spec;
    if (spec != "host") throw Error("--on-cpu runs XRSTOR on this machine: use it with --cpuid host");
    if (co.target != Target::Xrstor) throw Error("--on-cpu runs XRSTOR: use it with --for xrstor");
    if (!hw::usable()) throw Error("--on-cpu: this CPU (or its OS) does not offer XSAVE");
    uint64_t xcr0 = hw::xgetbv(0);
    if (co.xcr0 && *co.xcr0 != xcr0)
        throw Error(fmt::format("--on-cpu: --xcr0 0x{:x} is not this machine's XCR0 0x{:x}", *co.xcr0, xcr0));
    OnCpu oc;
    oc.verdict = hw::xrstor_in_child(bytes);
    oc.predicted_accept = predicted_by_observable_rules(r);
    return oc;
}

std::string print_text(const std::string& label, const xsave::CheckResult& r, uint64_t xstate_bv, uint64_t xcomp_bv,
                const std::optional<OnCpu>& oc) {
    using namespace xsave;
    std::string out = fmt::format("{}: {} by {} ({} form, XSTATE_BV 0x{:x}, XCOMP_BV 0x{:x}, MXCSR_MASK 0x{:x})\n", label,
               r.ok() ? "accepted" : "rejected", target_name(r.target), format_name(r.form), xstate_bv, xcomp_bv,
               r.mxcsr_mask);
    for (const auto& v : r.violations) out += fmt::format("  {}: {}\n", v.rule, v.message);
    for (const auto& n : r.notes) out += fmt::format("  note: {}\n", n);
    if (!oc) return out;
    out += fmt::format("on this CPU: XRSTOR {}; predicted {}: {}\n", oc->verdict.detail,
               oc->predicted_accept ? "accepted" : "rejected", oc->agrees() ? "they agree" : "they DISAGREE");
    if (oc->predicted_accept != r.ok())
        out += "  (area-size is not observable here: the child pads a short buffer with zeros)\n";
    return out;
}

nlohmann::ordered_json to_json(const xsave::CheckResult& r, bool ok, uint64_t xstate_bv, uint64_t xcomp_bv,
                               const std::optional<OnCpu>& oc) {
    using namespace xsave;
    nlohmann::ordered_json j;
    j["ok"] = ok;
    j["target"] = target_name(r.target);
    j["violations"] = nlohmann::ordered_json::array();
    for (const auto& v : r.violations) j["violations"].push_back({{"rule", v.rule}, {"message", v.message}});
    j["form"] = format_name(r.form);
    j["xstate_bv"] = hex_u64(xstate_bv);
    j["xcomp_bv"] = hex_u64(xcomp_bv);
    j["mxcsr_mask"] = hex_u64(r.mxcsr_mask);
    if (!r.notes.empty()) j["notes"] = r.notes;
    if (oc) {
        j["on_cpu"] = {{"accepted", oc->verdict.accepted},
                       {"detail", oc->verdict.detail},
                       {"predicted_accepted", oc->predicted_accept},
                       {"agrees", oc->agrees()}};
    }
    return j;
}

// --cpuid FROM --on TO: the bytes restore, but do they mean the same registers on TO?
struct Meaning {
    xsave::MeaningCheck m;
    std::string convert;   // the command that re-lays the area for TO
};

std::string convert_command(const std::string& file, const std::string& from, const std::string& to) {
    return fmt::format("xsavetool convert {} --cpuid {} --to-cpuid {} -o OUT", file, from, to);
}

void add_meaning_rule(const Meaning& me, const std::string& from, const std::string& to, xsave::CheckResult& r) {
    using namespace xsave;
    if (me.m.same_registers()) return;
    std::string parts;
    for (const auto& c : me.m.misread)
        parts += fmt::format("{}{} 0x{:x} -> 0x{:x} ({})", parts.empty() ? "" : ", ", component_name(c.bit), c.from_offset,
                             c.to_offset, register_ranges(c.registers));
    r.violations.push_back({"registers-misread",
                            fmt::format("saved with {}'s {} layout, the area restores on {} without a fault but {} registers "
                                        "load other bytes: {}; convert first: {}",
                                        from, format_name(me.m.form), to, me.m.register_count(), parts, me.convert)});
}

void add_meaning_json(const Meaning& me, nlohmann::ordered_json& j) {
    using namespace xsave;
    j["same_registers"] = me.m.same_registers();
    j["misread_registers"] = me.m.register_count();
    nlohmann::ordered_json a = nlohmann::ordered_json::array();
    for (const auto& c : me.m.misread)
        a.push_back({{"bit", c.bit}, {"name", component_name(c.bit)}, {"from_offset", c.from_offset},
                     {"from_size", c.from_size}, {"to_offset", c.to_offset}, {"to_size", c.to_size},
                     {"registers", c.registers}});
    j["misread"] = std::move(a);
    if (!me.m.same_registers()) j["convert"] = me.convert;
}

// `--for criu`: the checks `criu restore` makes on the host, for the image set and each thread.
void run_check_criu(const CheckCmdOptions& o, const std::string& file) {
    using namespace xsave;
    if (o.on_cpu) throw Error("--on-cpu runs XRSTOR: it does not apply to --for criu");
    auto in = criu::read_images(file);
    CpuModel cpu(cli::load_profile(o.profile.spec.empty() ? "host" : o.profile.spec));
    for (const auto& w : cpu.warnings()) cli::warn(w);
    auto r = criu::check(in, cpu);
    auto h = criu::host_xsave(cpu);
    auto violations_json = [](const std::vector<Violation>& vs) {
        nlohmann::ordered_json a = nlohmann::ordered_json::array();
        for (const auto& v : vs) a.push_back({{"rule", v.rule}, {"message", v.message}});
        return a;
    };
    if (o.json) {
        nlohmann::ordered_json j;
        j["ok"] = r.ok();
        j["target"] = "criu";
        j["host"] = {{"profile", cpu.profile().name}, {"xfeatures_mask", hex_u64(h.xfeatures_mask)},
                     {"xsave_size", h.xsave_size}, {"xsave_size_max", h.xsave_size_max}};
        j["violations"] = violations_json(r.image);
        j["threads"] = nlohmann::ordered_json::array();
        for (size_t i = 0; i < in.threads.size(); ++i) {
            nlohmann::ordered_json t;
            t["file"] = in.threads[i].label;
            if (in.threads[i].tid) t["tid"] = *in.threads[i].tid;
            t["ok"] = r.threads[i].empty();
            t["violations"] = violations_json(r.threads[i]);
            j["threads"].push_back(std::move(t));
        }
        fmt::print("{}\n", j.dump(2));
    } else {
        fmt::print("{}: {} by criu restore on {} (xfeatures_mask 0x{:x}, xsave_size {}, xsave_size_max {})\n", file,
                   r.ok() ? "accepted" : "rejected", cpu.profile().name, h.xfeatures_mask, h.xsave_size, h.xsave_size_max);
        if (!in.cpuinfo && in.dir.empty()) fmt::print("input: no cpuinfo.img given: the cpuinfo checks are skipped (give the directory)\n");
        for (const auto& v : r.image) fmt::print("  {}: {}\n", v.rule, v.message);
        for (size_t i = 0; i < in.threads.size(); ++i) {
            fmt::print("{}: {}\n", in.threads[i].label, r.threads[i].empty() ? "accepted" : "rejected");
            for (const auto& v : r.threads[i]) fmt::print("  {}: {}\n", v.rule, v.message);
        }
    }
    if (!r.ok()) cli::set_exit_code(1);
}

// Cloud Hypervisor restores region + extra with KVM_SET_XSAVE2 on the target: the buffer must
// hold the target's whole standard layout, and in-use components must sit where it puts them.
void add_cloudhv_rules(const xsave::SourceArea& area, const xsave::CpuModel& to, xsave::CheckResult& r) {
    using namespace xsave;
    if (!area.cpu) return;
    ReadOptions ro;
    ro.xcr0 = area.xcr0;
    Image img;
    try {
        img = read_image(area.bytes, *area.cpu, ro);
    } catch (const Error&) {
        return;   // the rules above already name what is wrong with the header
    }
    const Layout& from = *img.layout;
    uint64_t xcr0 = to.enabled_xcr0() & to.supported_xcr0();
    const Layout& L = to.standard(xcr0);
    size_t need = std::max<size_t>(4096, L.total_size);
    if (area.bytes.size() < need)
        r.violations.push_back({"kvm-xsave2-size", fmt::format("region + extra are {} bytes; KVM_GET/SET_XSAVE2 on the target use {} (CPUID.(0xD,0).EBX for XCR0 0x{:x})",
                                                               area.bytes.size(), need, xcr0)});
    for (unsigned b = 2; b < 63; ++b) {
        if (!img.in_use(b) || !from.has(b) || !L.has(b)) continue;   // xstate-bv-in-xcr0 names a missing one
        if (L.offset[b] != from.offset[b] || L.size[b] != from.size[b])
            r.violations.push_back({"layout-differs", fmt::format("{} is at {} ({} bytes) in the snapshot and at {} ({} bytes) on the target: convert --to-cpuid first",
                                                                  component_name(b), from.offset[b], from.size[b], L.offset[b], L.size[b])});
    }
}

// A Cloud Hypervisor vCPU's nested_state, as KVM_SET_NESTED_STATE would judge it on the
// target; EFER.SVME and the VMX bit come from the vCPU's own sregs and CPUID.
void add_nested_rules(const xsave::SourceArea& area, const CheckCmdOptions& o, xsave::CheckResult& r) {
    using namespace xsave;
    auto no = cli::nested_check_options(o.profile.spec, o.nested);
    for (const auto& [name, value] : area.context)
        if (name == "efer" && !o.nested.no_svme) no.svme = std::stoull(value, nullptr, 16) >> 12 & 1;
    if (area.cpu && !o.nested.no_vmx)
        if (const CpuidLeaf* l1 = area.cpu->profile().find(1)) no.vmx_in_cpuid = l1->ecx >> 5 & 1;
    for (auto& v : nested::check_nested_state(*area.nested, no).violations)
        r.violations.push_back({v.rule, "nested_state: " + v.message});
}

void run_check(const CheckCmdOptions& given) {
    using namespace xsave;
    CheckCmdOptions o = given;
    if (!o.on.empty()) {   // --cpuid FROM --on TO; --on alone is the target, as --cpuid alone
        o.from = o.profile.spec;
        o.profile.spec = o.on;
    }
    if (o.target == "criu") return cli::for_each_input(o.files, [&](const std::string& f) { run_check_criu(o, f); });
    CheckOptions co;
    auto t = target_from_name(o.target);
    if (!t) throw Error(fmt::format("--for: '{}': expected xrstor, xrstors, kvm, whpx or mshv", o.target));
    co.target = *t;
    if (!o.xcr0.empty()) co.xcr0 = cli::parse_xcr0(o.xcr0, "--xcr0");
    if (!o.xss.empty()) {
        co.xss = cli::parse_mask(o.xss, "--xss");
        check_xss(*co.xss, "--xss");
    }
    if (!o.guest_xcr0.empty()) {
        if (co.target != Target::Mshv) throw Error("--guest-xcr0 applies to --for mshv only");
        co.guest_xcr0 = cli::parse_xcr0(o.guest_xcr0, "--guest-xcr0");
    }
    std::string format = o.format;
    if (o.json) {
        if (format != "text" && format != "json") throw Error("--json and --format " + format + " disagree");
        format = "json";
    }
    xsave::OpenOptions oo;
    oo.input = o.input;
    oo.thread = o.thread;
    auto model = std::make_shared<const CpuModel>(cli::load_profile(o.profile.spec.empty() ? "host" : o.profile.spec));
    const CpuModel& cpu = *model;
    cli::warn_all("", cpu.warnings());
    std::shared_ptr<const CpuModel> from;
    if (!o.from.empty()) {
        from = std::make_shared<const CpuModel>(cli::load_profile(o.from));
        cli::warn_all("", from->warnings());
    }
    if (!o.xfd.empty()) {
        co.xfd = cli::parse_mask(o.xfd, "--xfd");
        check_xfd(co.xfd, cpu);
    }
    const bool several = o.files.size() > 1;

    nlohmann::ordered_json all = nlohmann::ordered_json::array();
    cli::for_each_input(o.files, [&](const std::string& file) {
        // Every area of the file is read (and checked on the CPU) before anything of it is printed.
        xsave::OpenOptions fo = oo;
        fo.cpu = from;   // formats that lay out the area themselves use the saving CPU's offsets
        auto in = xsave::read_source_file(file, fo);
        if (in.kind == "qemu" && !from) {
            // QEMU builds each vCPU's area as KVM on the target CPU would lay it out; snapshots
            // that store their own layout (Cloud Hypervisor, CRIU) keep it, so a difference shows.
            fo.cpu = model;
            in = xsave::read_source_file(file, fo);
        }
        if (!in.nested.empty()) {
            if (o.for_option->count() && o.target != "kvm")
                throw Error(fmt::format("{}: a KVM nested state is restored by KVM_SET_NESTED_STATE: use --for kvm, not --for {}", file, o.target));
            return cli::check_nested(file, in.nested[0], o.profile.spec, o.nested, format != "text");
        }
        if (in.kind == "criu") throw Error(fmt::format("{}: a CRIU image: check it with --for criu", file));
        nlohmann::ordered_json mine = nlohmann::ordered_json::array();
        std::string text;
        int verdict = 0;
        for (const auto& area : in.areas) {
            const std::string label = area.label.empty() ? file : file + " " + area.label;
            const std::vector<uint8_t>& bytes = area.bytes;
            // QEMU and Cloud Hypervisor size the KVM_SET_XSAVE buffer themselves (Cloud
            // Hypervisor's region + extra has its own rule below).
            CheckOptions aco = co;
            aco.kvm_struct = in.kind != "qemu" && in.kind != "cloud-hypervisor";
            CheckResult r = check_area(bytes, cpu, aco);
            if (in.kind == "cloud-hypervisor") add_cloudhv_rules(area, cpu, r);
            if (area.nested && co.target == Target::Kvm) add_nested_rules(area, o, r);
            std::optional<Meaning> meaning;
            if (from) {
                meaning = Meaning{compare_restore_meaning(bytes, *from, cpu, r.rfbm, area.legacy32),
                                  convert_command(file, o.from, o.profile.spec)};
                add_meaning_rule(*meaning, o.from, o.profile.spec, r);
            }
            const auto [xstate_bv, xcomp_bv] = header_words(bytes);
            std::optional<OnCpu> oc;
            if (o.on_cpu) oc = run_on_cpu(o, bytes, co, r);

            // Rejected by the rules or by the CPU itself: exit 1.
            bool ok = r.ok() && (!oc || oc->verdict.accepted);
            if (format != "text") {
                nlohmann::ordered_json j;
                if (several || format == "jsonl") j["file"] = file;
                j.update(to_json(r, ok, xstate_bv, xcomp_bv, oc));
                if (meaning) add_meaning_json(*meaning, j);
                if (area.tid) j["tid"] = *area.tid;
                mine.push_back(std::move(j));
            } else {
                for (const auto& n : area.notes) text += fmt::format("input: {}\n", n);
                for (const auto& w : area.warnings) cli::warn(fmt::format("{}: {}", label, w));
                text += print_text(label, r, xstate_bv, xcomp_bv, oc);
                if (meaning && meaning->m.same_registers())
                    text += fmt::format("  same registers: {} reads every in-use component where {} saved it ({})\n", o.profile.spec,
                                        o.from, meaning->m.compared ? mask_names(meaning->m.compared) : "none beyond x87/SSE");
            }
            if (oc && !oc->agrees())
                cli::warn(fmt::format("{}: the CPU {} the buffer but the rules predict it {}: please report this", label,
                                      oc->verdict.accepted ? "accepted" : "rejected",
                                      oc->predicted_accept ? "accepted" : "rejected"));
            if (!ok) verdict = 1;
        }
        if (format == "text") fmt::print("{}", text);
        else if (format == "jsonl")
            for (const auto& j : mine) fmt::print("{}\n", j.dump());
        else if (several)
            for (auto& j : mine) all.push_back(std::move(j));
        // One file: multi-area inputs (cores, snapshots) give an array, one object per thread with "tid".
        else fmt::print("{}\n", in.areas[0].tid ? mine.dump(2) : mine[0].dump(2));
        cli::set_exit_code(verdict);
    });
    if (format == "json" && several) fmt::print("{}\n", all.dump(2));
}

} // namespace

void cli::register_check(CLI::App& app) {
    auto o = std::make_shared<CheckCmdOptions>();
    auto* cmd = app.add_subcommand("check", "Would XRSTOR, XRSTORS, KVM, WHPX or MSHV accept this XSAVE area? (exit 0 accepted, 1 rejected)");
    cmd->add_option("file", o->files, "XSAVE areas: raw bytes, hex text, ELF cores or signal frames; - for stdin")->required();
    cli::add_input_option(cmd, o->input);
    cmd->add_option("--thread", o->thread, "core files: all (default) or a thread ID");
    o->profile.add(cmd, "--cpuid", "CPUID profile of the target CPU: host (default), a built-in name, or a file; with --on: the CPU the area was saved on");
    cmd->add_option("--on", o->on, "CPUID profile of the target CPU; with --cpuid FROM also checks that the in-use registers are read where FROM saved them");
    o->for_option = cmd->add_option("--for", o->target, "target: xrstor (default), xrstors, kvm, whpx, mshv, criu (a CRIU image directory or core-*.img); a KVM nested state: kvm");
    o->nested.add(cmd);
    cmd->add_option("--xcr0", o->xcr0, "enabled XCR0 (kvm: the guest's user features); default: the profile's");
    cmd->add_option("--xss", o->xss, "enabled IA32_XSS for xrstors; default: the profile's");
    cmd->add_option("--xfd", o->xfd, "IA32_XFD at restore time (kvm: the guest's), a mask or names (tiledata): XFD-armed in-use components fault (#NM) or are dropped");
    cmd->add_option("--guest-xcr0", o->guest_xcr0, "mshv: the guest's XCR0; default: --xcr0, else the profile's");
    cmd->add_flag("--on-cpu", o->on_cpu, "also run XRSTOR on the buffer in a child process (--cpuid host, --for xrstor)");
    cmd->add_flag("--json", o->json, "print {\"ok\", \"target\", \"violations\": [{\"rule\", \"message\"}], ...}");
    cmd->add_option("--format", o->format, "text (default), json (as --json; several files: one array) or jsonl (one object per line per area)")
        ->check(CLI::IsMember({"text", "json", "jsonl"}));
    cli::printing_callback(cmd, [o] { run_check(*o); });
}
