// Input reading for every command: detection, hex text, cores, signal frames, layout choice.
#include "sources.hpp"

#include "xsave/components.hpp"
#include "xsave/import.hpp"
#include "xsave/input.hpp"

#include <fmt/core.h>

#include <algorithm>

namespace cli {
namespace {

using xsave::CpuModel;
using xsave::Error;

std::shared_ptr<const CpuModel> model(const std::string& spec) {
    xsave::Profile p = load_profile(spec);
    try {
        return std::make_shared<const CpuModel>(std::move(p));
    } catch (const Error& e) {
        throw Error(spec + ": " + e.what());
    }
}

// A core or signal frame from another machine: the profile whose standard layout for the
// note's XCR0 ends exactly at the note's size, as gdb chooses (host first, then built-ins).
std::shared_ptr<const CpuModel> profile_for(uint64_t xcr0, size_t size, std::shared_ptr<const CpuModel> host,
                                            std::string& chosen) {
    auto fits = [&](const CpuModel& m) {
        try {
            return m.standard(xcr0).total_size == size;
        } catch (const Error&) {
            return false;
        }
    };
    if (host && fits(*host)) return host;
    for (const auto& b : xsave::builtin_profiles()) {
        auto m = std::make_shared<const CpuModel>(xsave::builtin_profile(b.name));
        if (fits(*m)) {
            chosen = std::string(b.name);
            return m;
        }
    }
    return nullptr;
}

// The kernel's own NT_X86_XSAVE_LAYOUT note describes the note's offsets exactly.
std::shared_ptr<const CpuModel> from_kernel_layout(const std::vector<xsave::CoreLayoutEntry>& entries, uint64_t xcr0) {
    xsave::Profile p;
    p.name = "core NT_X86_XSAVE_LAYOUT";
    p.xcr0 = xcr0;
    p.set({0xD, 0, uint32_t(xcr0), 0, 0, uint32_t(xcr0 >> 32)});
    p.set({0xD, 1, 0, 0, 0, 0});
    for (const auto& e : entries)
        if (e.bit >= 2 && e.bit < 63) p.set({0xD, e.bit, e.size, e.offset, e.flags, 0});
    return std::make_shared<const CpuModel>(std::move(p));
}

std::shared_ptr<const CpuModel> try_host() {
    try {
        return model("host");
    } catch (const Error&) {
        return nullptr;   // not an x86 with XSAVE: only built-in or given profiles
    }
}

} // namespace

void InputOptions::add(CLI::App* cmd, const std::string& suffix) {
    cmd->add_option("--input" + suffix, input, "input kind: auto, raw, hex, core, sigframe")
        ->check(CLI::IsMember({"auto", "raw", "hex", "core", "sigframe"}));
    cmd->add_option("--thread" + suffix, thread, "core files: all (default) or a thread ID");
    cmd->add_option("--cpuid" + suffix, profile.spec, "CPUID profile: host, a built-in name, or a file");
    cmd->add_option("--xcr0" + suffix, xcr0, "standard form: the XCR0 the area was saved with (mask or names)");
}

namespace {
[[noreturn]] void rethrow_with_path(const std::string& path, const Error& e) {
    std::string msg = e.what();
    if (msg.starts_with(path + ":")) throw e;
    throw Error(path + ": " + msg);
}
} // namespace

RawInput read_raw_areas(const std::string& path, const std::string& input, const std::string& thread,
                        std::optional<uint64_t> xcr0) {
    try {
        InputBytes input_bytes = map_input(path);
        std::span<const uint8_t> bytes = input_bytes.bytes();
        xsave::InputKind kind = input == "auto" ? xsave::detect_input(bytes) : *xsave::input_kind_from_name(input);
        RawInput in;
        in.kind = xsave::input_kind_name(kind);
        switch (kind) {
        case xsave::InputKind::Raw: in.areas.push_back({path, {}, {bytes.begin(), bytes.end()}, xcr0, {}}); break;
        case xsave::InputKind::Hex: {
            auto h = xsave::parse_hex_text({reinterpret_cast<const char*>(bytes.data()), bytes.size()});
            std::string note = fmt::format("hex text ({}), lines {}..{}, {} bytes", xsave::hex_style_name(h.style), h.first_line,
                                           h.last_line, h.bytes.size());
            if (h.ignored_lines) note += fmt::format("; {} other lines ignored", h.ignored_lines);
            in.areas.push_back({path, {}, std::move(h.bytes), xcr0, {note}});
            break;
        }
        case xsave::InputKind::Sigframe: {
            auto f = xsave::read_sigframe(bytes);
            in.areas.push_back({path, {}, std::move(f.area), xcr0 ? xcr0 : std::optional<uint64_t>(f.xfeatures),
                                {fmt::format("signal frame: xfeatures 0x{:x}, xstate_size {}", f.xfeatures, f.xstate_size)}});
            break;
        }
        case xsave::InputKind::Core: {
            auto core = xsave::read_elf_core(bytes);
            in.kernel_layout = core.kernel_layout;
            for (auto& t : core.threads) {
                if (thread != "all" && std::to_string(t.tid) != thread) continue;
                uint64_t x = t.xcr0();
                in.areas.push_back({fmt::format("{} thread {}", path, t.tid), t.tid, std::move(t.xstate),
                                    xcr0 ? xcr0 : std::optional<uint64_t>(x), {}});
            }
            if (in.areas.empty()) throw Error(fmt::format("no thread {} in the core (it has {} threads)", thread, core.threads.size()));
            break;
        }
        }
        return in;
    } catch (const Error& e) {
        rethrow_with_path(path, e);
    }
}

std::vector<Area> load_areas(const std::string& path, const InputOptions& opt) {
    // A profile's errors name the profile's file, not the input's.
    std::shared_ptr<const CpuModel> given = opt.profile.spec.empty() ? nullptr : model(opt.profile.spec);
    try {
        std::optional<uint64_t> xcr0;
        if (!opt.xcr0.empty()) xcr0 = parse_mask(opt.xcr0, "--xcr0");
        RawInput in = read_raw_areas(path, opt.input, opt.thread, xcr0);
        xsave::InputKind kind = *xsave::input_kind_from_name(in.kind);
        const auto& kernel_layout = in.kernel_layout;
        auto& raws = in.areas;

        std::shared_ptr<const CpuModel> host;
        bool host_tried = false;
        // Threads of a core share their XCR0 and size: choose (and build) each model once.
        struct Chosen { uint64_t xcr0; size_t size; std::shared_ptr<const CpuModel> cpu; std::string name; };
        std::vector<Chosen> chosen_models;
        std::vector<Area> out;
        out.reserve(raws.size());
        for (auto& r : raws) {
            Area a;
            a.kind = in.kind;
            a.tid = r.tid;
            a.label = r.label;
            a.notes = r.notes;
            a.bytes_read = r.bytes.size();
            xsave::ReadOptions ro;
            // A note's or frame's XCR0 says which components the standard area holds.
            if (r.xcr0) ro.xcr0 = *r.xcr0 & ~xsave::kCompactedBit;
            if (given) {
                a.cpu = given;
            } else if (kind == xsave::InputKind::Core && !kernel_layout.empty()) {
                auto it = std::find_if(chosen_models.begin(), chosen_models.end(), [&](const Chosen& c) { return c.xcr0 == *ro.xcr0; });
                if (it == chosen_models.end())
                    it = chosen_models.insert(chosen_models.end(), Chosen{*ro.xcr0, 0, from_kernel_layout(kernel_layout, *ro.xcr0), {}});
                a.cpu = it->cpu;
                a.notes.push_back("layout from the core's NT_X86_XSAVE_LAYOUT note");
            } else {
                if (!host_tried) host = try_host(), host_tried = true;
                a.cpu = host;
                if (kind == xsave::InputKind::Core || kind == xsave::InputKind::Sigframe) {
                    auto it = std::find_if(chosen_models.begin(), chosen_models.end(), [&](const Chosen& c) {
                        return c.xcr0 == *ro.xcr0 && c.size == r.bytes.size();
                    });
                    if (it == chosen_models.end()) {
                        Chosen c{*ro.xcr0, r.bytes.size(), nullptr, {}};
                        c.cpu = profile_for(c.xcr0, c.size, host, c.name);
                        it = chosen_models.insert(chosen_models.end(), std::move(c));
                    }
                    a.cpu = it->cpu;
                    const std::string& chosen = it->name;
                    if (!a.cpu)
                        throw Error(fmt::format("{}: no known CPU lays out XCR0 0x{:x} in {} bytes: pass --cpuid", a.label, *ro.xcr0, r.bytes.size()));
                    if (!chosen.empty())
                        a.notes.push_back(fmt::format("{} bytes with XCR0 0x{:x} do not match this machine's layout: read with the built-in profile {} (the layout whose size matches, as gdb chooses)",
                                                      r.bytes.size(), *ro.xcr0, chosen));
                }
                if (!a.cpu) throw Error("this machine cannot describe XSAVE layouts: pass --cpuid");
            }
            bool guessing = !given && (kind == xsave::InputKind::Raw || kind == xsave::InputKind::Hex);
            try {
                a.image = xsave::read_image(std::move(r.bytes), *a.cpu, ro);
            } catch (const Error& e) {
                if (guessing)
                    throw Error(fmt::format("does not fit this machine's layout ({}); pass --cpuid with the profile of the CPU that saved it (see `xsavetool cpuid list`)",
                                            e.what()));
                throw;
            }
            a.notes.insert(a.notes.end(), a.image.notes.begin(), a.image.notes.end());
            a.image.notes.clear();
            out.push_back(std::move(a));
        }
        return out;
    } catch (const Error& e) {
        rethrow_with_path(path, e);
    }
}

} // namespace cli
