// `xsavetool compact | standard | convert | capture`: move state between layouts, or make a
// reference area with this CPU's own XSAVE/XSAVEC/XSAVEOPT.
#include "cli.hpp"
#include "sources.hpp"

#include "xsave/assemble.hpp"
#include "xsave/components.hpp"
#include "xsave/convert.hpp"
#include "xsave/cloudhv.hpp"
#include "xsave/cpu_ops.hpp"
#include "xsave/criu.hpp"
#include "xsave/file_bytes.hpp"
#include "xsave/decode.hpp"
#include "xsave/error.hpp"
#include "xsave/option_values.hpp"
#include "xsave/random_state.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>

#include <unistd.h>

namespace {

struct OutputOptions {
    std::string path = "-";
    std::string format = "raw";
    bool force = false;
    void add(CLI::App* cmd) {
        cmd->add_option("-o,--out", path, "output file (written atomically); - for stdout");
        cmd->add_option("--format", format, "raw (default), hex or json")->check(CLI::IsMember({"raw", "hex", "json"}));
        cmd->add_flag("--force", force, "write raw bytes to a terminal");
        cli::renamed_option(cmd, "--output", "--format (-o FILE names the output file)");
    }
};

struct ConvertCmd {
    std::string file;
    cli::InputOptions in;
    OutputOptions out;
    std::string xcomp = "xsavec";
    std::string drop;
    std::string save_dropped;     // standard/convert: written with what --drop discarded
    std::string restore_dropped;  // compact/convert: such a file, put back
    bool keep_trailing = false;
    cli::ProfileOption to_profile;
    std::string to = "standard";

    void add_common(CLI::App* cmd) {
        cmd->add_option("file", file, "XSAVE area: raw bytes, hex text, ELF core or signal frame; - for stdin")->required();
        in.add(cmd);
        out.add(cmd);
        cmd->add_option("--drop", drop, "in-use state that may be discarded: bit numbers, names, 0x-masks, 'supervisor', or 'trailing' (bytes after the area)");
        cmd->add_flag("--keep-trailing", keep_trailing, "copy bytes after the area to the output");
    }
};

// --drop: plain decimal numbers are bit numbers ("17,18"), 0x-numbers masks, words names.
void parse_drop(const std::string& text, xsave::ConvertOptions& o) {
    if (text.empty()) return;
    size_t start = 0;
    while (start <= text.size()) {
        size_t end = text.find_first_of("|,+", start);
        std::string part = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
        if (part == "supervisor") {
            o.drop_supervisor = true;
        } else if (part == "trailing") {
            o.drop_trailing = true;
        } else {
            o.drop |= cli::parse_mask(part, "--drop");
        }
        if (end == std::string::npos) break;
        start = end + 1;
    }
}

cli::Area load_one(const ConvertCmd& c) {
    auto areas = cli::load_areas(c.file, c.in);
    if (areas.size() != 1)
        throw xsave::Error(fmt::format("{}: {} areas (threads); pick one with --thread", c.file, areas.size()));
    cli::warn_all(areas[0].cpu->profile().name, areas[0].cpu->warnings());
    return std::move(areas[0]);
}

void emit(const OutputOptions& o, const std::vector<uint8_t>& bytes, const xsave::CpuModel& cpu, std::optional<uint64_t> xcr0) {
    std::string json;
    if (o.format == "json") {
        xsave::ReadOptions ro;
        ro.xcr0 = xcr0;
        json = xsave::to_json(xsave::decode(xsave::read_image(bytes, cpu, ro), cpu)).dump(2) + "\n";
    }
    cli::write_area(o.path, bytes, o.format, o.force, json);
}

void report(const cli::Area& a, const xsave::ConvertResult& r, const xsave::ConvertOptions& o) {
    if (r.dropped) cli::warn(fmt::format("{}: dropped in-use {} as asked", a.label, xsave::mask_names(r.dropped)));
    if (r.restored) cli::warn(fmt::format("{}: put back {} from --restore-dropped", a.label, xsave::mask_names(r.restored)));
    if (r.trailing)
        cli::warn(fmt::format("{}: {} trailing byte{} after the area{}", a.label, r.trailing, r.trailing == 1 ? "" : "s",
                              o.keep_trailing   ? ": copied (--keep-trailing)"
                              : o.drop_trailing ? ": discarded as asked (--drop trailing)"
                                                : ", all zero: not copied (--keep-trailing keeps them)"));
}

void write_sidecar(const std::string& path, const xsave::Sidecar& s) {
    if (!path.empty()) cli::write_output(path, xsave::sidecar_to_json(s));
}

xsave::Sidecar read_sidecar(const std::string& path) {
    auto b = cli::read_input(path, 64u << 20);
    return xsave::naming(path, [&] { return xsave::sidecar_from_json({reinterpret_cast<const char*>(b.data()), b.size()}); });
}


std::optional<uint64_t> given_xcr0(const ConvertCmd& c) {
    if (c.in.xcr0.empty()) return std::nullopt;
    return cli::parse_xcr0(c.in.xcr0, "--xcr0") & ~xsave::kCompactedBit;
}


void run_compact(const ConvertCmd& c) {
    cli::Area a = load_one(c);
    xsave::ConvertOptions o;
    parse_drop(c.drop, o);
    o.keep_trailing = c.keep_trailing;
    xsave::Sidecar side;
    if (!c.restore_dropped.empty()) side = read_sidecar(c.restore_dropped), o.sidecar_in = &side;
    xsave::XcompRequest req = xsave::parse_xcomp_mode(c.xcomp);
    req.xcr0 = given_xcr0(c);
    xsave::ConvertResult r;
    xsave::naming(c.file, [&] { r = xsave::to_compacted(a.image, *a.cpu, xsave::compute_xcomp_bv(a.image, *a.cpu, req), o); });
    report(a, r, o);
    emit(c.out, r.bytes, *a.cpu, std::nullopt);
}

void run_standard(const ConvertCmd& c) {
    cli::Area a = load_one(c);
    xsave::ConvertOptions o;
    parse_drop(c.drop, o);
    o.keep_trailing = c.keep_trailing;
    if (a.image.format == xsave::Format::Compacted) o.xcr0 = given_xcr0(c);
    xsave::Sidecar side;
    o.sidecar_out = &side;
    xsave::ConvertResult r;
    xsave::naming(c.file, [&] { r = xsave::to_standard(a.image, *a.cpu, o); });
    report(a, r, o);
    write_sidecar(c.save_dropped, side);
    emit(c.out, r.bytes, *a.cpu, r.layout->mask);
}

// A new snapshot directory beside `to`: the converted files written, every other file of
// `from` hard-linked (`link`; copied across file systems) or copied. Made in a temporary
// directory next to `to` and renamed into place, so a failure leaves nothing behind; an
// existing non-empty `to` is refused. The source directory is only read.
void write_snapshot_dir(const std::string& from, const std::string& to,
                        const std::vector<std::pair<std::string, std::vector<uint8_t>>>& files, bool link) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (fs::exists(to, ec) && !(fs::is_directory(to, ec) && fs::is_empty(to, ec)))
        throw xsave::Error(fmt::format("{}: exists and is not an empty directory; give a new directory for the converted snapshot", to));
    fs::path target = fs::absolute(to);
    fs::path tmp = target.parent_path() / ("." + target.filename().string() + ".tmp-xsavetool-" + std::to_string(::getpid()));
    fs::remove_all(tmp, ec);
    size_t linked = 0, copied = 0;
    try {
        fs::create_directory(tmp);
        for (const auto& e : fs::directory_iterator(from)) {
            std::string name = e.path().filename().string();
            bool replaced = std::any_of(files.begin(), files.end(), [&](const auto& f) { return f.first == name; });
            if (replaced || !e.is_regular_file()) continue;
            std::error_code lec;
            if (link) fs::create_hard_link(e.path(), tmp / name, lec);
            if (link && !lec) {
                ++linked;
            } else {
                fs::copy_file(e.path(), tmp / name);
                ++copied;
            }
        }
        for (const auto& [name, bytes] : files) {   // fresh files: never written through a link
            std::ofstream f(tmp / name, std::ios::binary | std::ios::trunc);
            f.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
            f.close();
            if (!f) throw xsave::Error(fmt::format("{}: cannot write", (tmp / name).string()));
        }
        fs::rename(tmp, target);
    } catch (const fs::filesystem_error& e) {
        fs::remove_all(tmp, ec);
        throw xsave::Error(fmt::format("{}: {}", to, e.code().message()));
    } catch (...) {
        fs::remove_all(tmp, ec);
        throw;
    }
    if (link)
        cli::warn(fmt::format("{}: {} file(s) hard-linked to {} (they share their data with the source), {} copied, {} written",
                              to, linked, from, copied, files.size()));
}

// CRIU images: each thread's FP fields re-laid for the target and written back into the image.
void run_convert_criu(const ConvertCmd& c) {
    if (c.to_profile.spec.empty()) throw xsave::Error("convert: --to-cpuid is required");
    if (c.out.path.empty() || c.out.path == "-") throw xsave::Error("convert: CRIU images need -o (a new directory, or a file for one core image)");
    if (c.out.format != "raw") throw xsave::Error("convert: --format applies to XSAVE areas; CRIU images are written as images");
    auto in = xsave::criu::read_images(c.file);
    xsave::CpuModel to(cli::load_profile(c.to_profile.spec));
    xsave::ConvertOptions o;
    parse_drop(c.drop, o);
    auto conv = xsave::criu::convert(in, to, o);
    for (const auto& n : conv.notes) cli::warn(n);
    if (!in.dir.empty()) return write_snapshot_dir(in.dir, c.out.path, conv.files, false);
    if (!in.cpuinfo && conv.files.size() == 1) {
        cli::warn(fmt::format("{}: cpuinfo.img not rewritten; convert the image directory to get one for the target", c.file));
        return cli::write_output(c.out.path, conv.files[0].second, true, true);
    }
    throw xsave::Error(fmt::format("{}: give a core-*.img or the image directory", c.file));
}

// Cloud Hypervisor: xsave arrays and the CPUID leaf 0xD layout entries rewritten for the
// target (xsave::cloudhv::convert), the rest of state.json kept byte for byte; a snapshot
// directory gives a new directory. The legacy region (x87/SSE) does not move, so the `fpu`
// block Cloud Hypervisor applies after xsave stays consistent.
void run_convert_cloudhv(const ConvertCmd& c, bool dir) {
    if (c.to_profile.spec.empty()) throw xsave::Error("convert: --to-cpuid is required");
    if (c.out.path.empty() || c.out.path == "-")
        throw xsave::Error(fmt::format("convert: a Cloud Hypervisor snapshot needs -o ({})", dir ? "a new directory" : "NEW-state.json"));
    if (c.out.format != "raw") throw xsave::Error("convert: --format applies to XSAVE areas; a Cloud Hypervisor snapshot is written as a snapshot");
    std::string state = dir ? (std::filesystem::path(c.file) / "state.json").string() : c.file;
    auto text = cli::read_input(state, 256u << 20);
    xsave::CpuModel to(cli::load_profile(c.to_profile.spec));
    cli::warn_all(to.profile().name, to.warnings());
    std::shared_ptr<const xsave::CpuModel> from;
    if (!c.in.profile.spec.empty()) from = std::make_shared<const xsave::CpuModel>(cli::load_profile(c.in.profile.spec));
    xsave::ConvertOptions o;
    parse_drop(c.drop, o);
    auto conv = xsave::naming(state, [&] {
        auto s = xsave::cloudhv::read_state({reinterpret_cast<const char*>(text.data()), text.size()});
        return xsave::cloudhv::convert(s, to, o, from);
    });
    for (const auto& n : conv.notes) cli::warn(n);
    if (!dir) return cli::write_output(c.out.path, conv.text);
    std::vector<uint8_t> bytes(conv.text.begin(), conv.text.end());
    write_snapshot_dir(c.file, c.out.path, {{"state.json", std::move(bytes)}}, true);
}

// The input's format, for the formats convert writes back in their own form.
std::string input_kind(const ConvertCmd& c) {
    xsave::OpenOptions oo;
    oo.input = c.in.input;
    oo.thread = "all";
    namespace fs = std::filesystem;
    std::error_code ec;
    if (c.file != "-" && fs::is_directory(c.file, ec)) {
        for (const auto& f : xsave::input_formats())
            if (f.detect_dir && (c.in.input == f.name || (c.in.input == "auto" && f.detect_dir(c.file)))) return std::string(f.name);
        return {};
    }
    if (c.in.input != "auto") return c.in.input;
    if (c.file == "-") return {};
    auto fb = xsave::map_file(c.file);
    return std::string(xsave::detect_input_format(fb.bytes()).name);
}

void run_convert(const ConvertCmd& c) {
    std::string kind = input_kind(c);
    if (kind == "criu") return run_convert_criu(c);
    if (kind == "cloud-hypervisor") {
        std::error_code ec;
        return run_convert_cloudhv(c, std::filesystem::is_directory(c.file, ec));
    }
    cli::Area a = load_one(c);
    if (c.to_profile.spec.empty()) throw xsave::Error("convert: --to-cpuid is required");
    auto to = std::make_shared<xsave::CpuModel>(cli::load_profile(c.to_profile.spec));
    cli::warn_all(to->profile().name, to->warnings());
    xsave::ConvertOptions o;
    parse_drop(c.drop, o);
    o.keep_trailing = c.keep_trailing;
    xsave::Sidecar out_side, in_side;
    o.sidecar_out = &out_side;
    if (!c.restore_dropped.empty()) in_side = read_sidecar(c.restore_dropped), o.sidecar_in = &in_side;
    xsave::Format target = c.to == "compacted" ? xsave::Format::Compacted : xsave::Format::Standard;
    xsave::XcompRequest req = xsave::parse_xcomp_mode(c.xcomp);
    xsave::ConvertResult r;
    xsave::naming(c.file, [&] {
        if (target == xsave::Format::Compacted) o.xcomp_bv = xsave::compute_xcomp_bv(a.image, *to, req);
        r = xsave::relayout(a.image, *a.cpu, *to, target, o);
    });
    report(a, r, o);
    write_sidecar(c.save_dropped, out_side);
    std::optional<uint64_t> std_mask;
    if (target == xsave::Format::Standard) std_mask = r.layout->mask;
    emit(c.out, r.bytes, *to, std_mask);
}

struct CaptureCmd {
    std::string instruction = "xsave";
    std::string state;
    std::optional<uint64_t> seed;
    std::string seed_text;
    OutputOptions out;
};

void run_capture(const CaptureCmd& c) {
    if (!xsave::hw::usable()) throw xsave::Error("capture: this CPU or OS does not support XSAVE");
    if (c.state.empty() == !c.seed) throw xsave::Error("capture: give exactly one of --state FILE and --random SEED");
    auto cpu = std::make_shared<xsave::CpuModel>(xsave::host_profile());
    const uint64_t xcr0 = xsave::hw::xgetbv(0);
    std::vector<uint8_t> state;
    if (c.seed) {
        // Components under XFD (AMX) fault until the process asks for them: leave them out.
        const uint64_t mask = xcr0 & ~cpu->xfd_capable();
        xsave::RandomStateOptions ro;
        ro.xstate_bv = std::mt19937_64(*c.seed)() & mask;
        state = xsave::random_standard_state(*cpu, xcr0, *c.seed, ro);
    } else {
        auto text = cli::read_input(c.state, 64u << 20);
        state = xsave::naming(c.state, [&] { return xsave::assemble({reinterpret_cast<const char*>(text.data()), text.size()}); });
        // A standard area for a smaller XCR0: XRSTOR reads nothing of components not in use,
        // so the rest of this CPU's area can be zeros.
        bool compacted = state.size() >= 576 && (state[xsave::kXcompBvOffset + 7] & 0x80);
        if (!compacted && state.size() < xsave::hw::standard_size()) state.resize(xsave::hw::standard_size(), 0);
    }
    xsave::hw::Instruction ins = c.instruction == "xsavec"     ? xsave::hw::Instruction::Xsavec
                                 : c.instruction == "xsaveopt" ? xsave::hw::Instruction::Xsaveopt
                                                               : xsave::hw::Instruction::Xsave;
    auto bytes = xsave::hw::hw_capture(ins, state);
    emit(c.out, bytes, *cpu, ins == xsave::hw::Instruction::Xsavec ? std::nullopt : std::optional<uint64_t>(xcr0));
}

} // namespace


void cli::register_convert(CLI::App& app) {
    {
        auto c = std::make_shared<ConvertCmd>();
        auto* cmd = app.add_subcommand("compact", "Standard form to compacted form (as XSAVEC writes it)");
        c->add_common(cmd);
        cmd->add_option("--xcomp-bv", c->xcomp, "xsavec (default), xsaves, minimal, mshv, or a mask");
        cmd->add_option("--restore-dropped", c->restore_dropped, "put back the components a --save-dropped FILE holds");
        cli::renamed_option(cmd, "--sidecar", "--restore-dropped");
        cmd->callback([c] { run_compact(*c); });
    }
    {
        auto c = std::make_shared<ConvertCmd>();
        auto* cmd = app.add_subcommand("standard", "Compacted form to standard form (as XSAVE writes it)");
        c->add_common(cmd);
        cmd->add_option("--save-dropped", c->save_dropped, "save the in-use components --drop discards to this JSON file");
        cli::renamed_option(cmd, "--sidecar", "--save-dropped");
        cmd->callback([c] { run_standard(*c); });
    }
    {
        auto c = std::make_shared<ConvertCmd>();
        auto* cmd = app.add_subcommand("convert", "Re-lay an area for another CPU's layout");
        c->add_common(cmd);
        c->to_profile.add(cmd, "--to-cpuid", "target CPUID profile: host, a built-in name, or a file");
        cmd->add_option("--to", c->to, "standard (default) or compacted")->check(CLI::IsMember({"standard", "compacted"}));
        cmd->add_option("--xcomp-bv", c->xcomp, "compacted target: xsavec (default), xsaves, minimal, mshv, or a mask");
        cmd->add_option("--save-dropped", c->save_dropped, "save the in-use components --drop discards to this JSON file");
        cmd->add_option("--restore-dropped", c->restore_dropped, "put back the components a --save-dropped FILE holds");
        cli::renamed_option(cmd, "--sidecar", "--save-dropped");
        cli::renamed_option(cmd, "--restore", "--restore-dropped");
        cmd->callback([c] { run_convert(*c); });
    }
    {
        auto c = std::make_shared<CaptureCmd>();
        auto* cmd = app.add_subcommand("capture", "Load a state with XRSTOR and write what XSAVE, XSAVEC or XSAVEOPT makes of it");
        cmd->add_option("--instruction", c->instruction, "xsave (default), xsavec or xsaveopt")
            ->check(CLI::IsMember({"xsave", "xsavec", "xsaveopt"}));
        cmd->add_option("--state", c->state, "the state to load: a dump --json file");
        cmd->add_option("--random", c->seed_text, "load a random valid state made from this seed");
        c->out.add(cmd);
        cmd->callback([c] {
            if (!c->seed_text.empty()) c->seed = xsave::parse_seed(c->seed_text, "--random");
            run_capture(*c);
        });
    }
}
