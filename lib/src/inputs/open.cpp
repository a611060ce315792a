// xsave::open: input format, thread selection, and the CPU model each area is read with.
#include "xsave/open.hpp"
#include "model/bytes.hpp"

#include "xsave/components.hpp"
#include "xsave/error.hpp"
#include "xsave/file_bytes.hpp"
#include "xsave/import.hpp"
#include "xsave/profile.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <mutex>
#include <sys/stat.h>

namespace xsave {

const InputFormat* find_input_format(std::string_view name) {
    for (const auto& f : input_formats())
        if (f.name == name) return &f;
    return nullptr;
}

const InputFormat& detect_input_format(std::span<const uint8_t> bytes) {
    for (const auto& f : input_formats())
        if (f.detect && f.detect(bytes)) return f;
    return *find_input_format("raw");
}

std::string input_format_names() {
    std::string s = "auto";
    for (const auto& f : input_formats()) s += fmt::format(", {}", f.name);
    return s;
}

namespace {

// Built-in models, each built on first use and kept for the process.
std::shared_ptr<const CpuModel> builtin_model(size_t i) {
    static std::mutex mu;
    static std::vector<std::shared_ptr<const CpuModel>> models(builtin_profiles().size());
    std::lock_guard lock(mu);
    if (!models[i]) models[i] = std::make_shared<const CpuModel>(builtin_profile(builtin_profiles()[i].name));
    return models[i];
}

// Only the selected thread (or vCPU) of a multi-area input.
void select_thread(Source& s, const std::string& thread, std::string_view unit) {
    if (thread == "all") return;
    bool any_tid = std::any_of(s.areas.begin(), s.areas.end(), [](const SourceArea& a) { return a.tid.has_value(); });
    if (!any_tid) return;
    size_t total = s.areas.size();
    std::erase_if(s.areas, [&](const SourceArea& a) { return !a.tid || std::to_string(*a.tid) != thread; });
    if (s.areas.empty()) throw Error(fmt::format("no {} {} in the {} (it has {} {}s)", unit, thread, s.kind, total, unit));
}

const InputFormat& format_for(std::span<const uint8_t> bytes, const std::string& input) {
    if (input == "auto") return detect_input_format(bytes);
    const InputFormat* f = find_input_format(input);
    if (!f || !f->read) throw Error(fmt::format("--input: '{}': expected {}", input, input_format_names()));
    return *f;
}

// --block picks one dump of a paste; for any other input it would be ignored: refused.
void check_block(const InputFormat& f, const OpenOptions& opt) {
    if (opt.block && !f.blocks)
        throw Error(fmt::format("--block applies only to hex text holding several dumps; this input is {} ({})", f.name, f.what));
}

Source named(Source s, const InputFormat& f, const OpenOptions& opt) {
    s.kind = std::string(f.name);
    select_thread(s, opt.thread, f.unit);
    return s;
}
Source read_with(const InputFormat& f, std::span<const uint8_t> bytes, const OpenOptions& opt, const std::string& path) {
    check_block(f, opt);
    return named(f.read(bytes, SourceRequest{opt.xcr0, path, opt.cpu, opt.block}), f, opt);
}
Source read_dir_with(const InputFormat& f, const OpenOptions& opt, const std::string& path) {
    check_block(f, opt);
    return named(f.read_dir(path, SourceRequest{opt.xcr0, path, opt.cpu, opt.block}), f, opt);
}

// A standard area of `size` bytes saved by `cpu` with an XCR0 it can read (a subset of its
// enabled XCR0 holding XSTATE_BV, as XSETBV allows): that XCR0, or nullopt.
std::optional<uint64_t> standard_fit(const CpuModel& cpu, uint64_t xstate_bv, size_t size) {
    uint64_t enabled = cpu.enabled_xcr0() & cpu.supported_xcr0();
    if (xstate_bv & ~enabled) return std::nullopt;
    auto complete = [&](uint64_t x) {
        x |= 1 | (x >> 2 & 1) << 1;
        for (uint64_t g : {kMpxGroup, kAvx512Group, kAmxGroup})
            if (x & g) x |= g & enabled;
        if (x & kAvx512Group) x |= 6;
        return x & enabled;
    };
    std::vector<uint64_t> tries{enabled};
    for (unsigned c = 1; c < 63; ++c)
        if (enabled >> c & 1) tries.push_back(complete(xstate_bv | 1ull << c));
    tries.push_back(complete(xstate_bv | 3));
    for (uint64_t x : tries) {
        if (!xsetbv_accepts(x, cpu.supported_xcr0()) || (xstate_bv & ~x)) continue;
        try {
            if (cpu.standard(x).total_size == size) return x;
        } catch (const Error&) {
        }
    }
    return std::nullopt;
}

// Where a layout puts the in-use components: profiles that agree read the buffer alike.
std::string placement(const Layout& L, uint64_t xstate_bv) {
    std::string s;
    for (unsigned b = 2; b < 63; ++b)
        if ((xstate_bv >> b & 1) && L.has(b)) s += fmt::format("{} at 0x{:x}, ", component_name(b), L.offset[b]);
    return s.empty() ? "no extended component in use" : s.substr(0, s.size() - 2);
}

// A bare buffer names no CPU. This machine reads it when its layout fits the buffer exactly
// (standard: some XCR0 it can have; compacted: it has every XCOMP_BV component); else the
// built-in profiles whose layout fits do, when they all place the in-use components alike;
// else this machine's layout with zero padding after it (KVM's 4096-byte struct kvm_xsave).
// Anything else is ambiguous or unknown: an Error listing the candidates, never a guess.
std::shared_ptr<const CpuModel> model_for_buffer(std::span<const uint8_t> b, const std::shared_ptr<const CpuModel>& host,
                                                 std::vector<std::string>& notes) {
    if (b.size() < kExtendedOffset) {
        if (!host) throw Error("this machine cannot describe XSAVE layouts: pass --cpuid");
        return host;   // read_image says what is wrong
    }
    uint64_t xstate_bv = load_le(&b[kXstateBvOffset], 8), xcomp_bv = load_le(&b[kXcompBvOffset], 8);
    const bool compacted = xcomp_bv & kCompactedBit;
    const uint64_t mask = xcomp_bv & ~kCompactedBit;
    struct Fit { const Layout* layout = nullptr; uint64_t xcr0 = 0; };
    auto fit = [&](const CpuModel& m) -> Fit {
        try {
            if (compacted) {
                if (mask & ~(m.supported_xcr0() | m.supported_xss())) return {};
                return {&m.compacted(mask), mask};
            }
            if (auto x = standard_fit(m, xstate_bv & ~kCompactedBit, b.size())) return {&m.standard(*x), *x};
        } catch (const Error&) {
        }
        return {};
    };
    if (host && fit(*host).layout) return host;

    struct Candidate { std::string where; std::vector<std::string> names; std::shared_ptr<const CpuModel> cpu; uint64_t xcr0; };
    std::vector<Candidate> groups;
    const auto& builtins = builtin_profiles();
    for (size_t i = 0; i < builtins.size(); ++i) {
        auto m = builtin_model(i);
        Fit f = fit(*m);
        if (!f.layout) continue;
        std::string where = placement(*f.layout, xstate_bv);
        auto g = std::find_if(groups.begin(), groups.end(), [&](const Candidate& c) { return c.where == where; });
        if (g == groups.end()) groups.push_back({where, {std::string(builtins[i].name)}, m, f.xcr0});
        else g->names.push_back(std::string(builtins[i].name));
    }
    auto names = [](const Candidate& c) {
        std::string s;
        for (const auto& n : c.names) s += (s.empty() ? "" : ", ") + n;
        return s;
    };
    const std::string what = compacted ? fmt::format("XCOMP_BV 0x{:x} names components this machine does not have ({})", xcomp_bv,
                                                     host ? mask_names(mask & ~(host->supported_xcr0() | host->supported_xss())) : "no host model")
                                       : fmt::format("{} bytes with XSTATE_BV 0x{:x} fit this machine's standard layout for no XCR0 it can have",
                                                     b.size(), xstate_bv);
    if (groups.size() == 1) {
        const auto& g = groups[0];
        std::string agree = g.names.size() == 1 ? "the only built-in profile that fits"
                                                : fmt::format("{} built-in profiles agree: {}", g.names.size(), names(g));
        notes.push_back(compacted ? fmt::format("{}: read with the built-in profile {} ({})", what, g.names[0], agree)
                                  : fmt::format("{}: read with the built-in profile {} (its standard layout for XCR0 0x{:x} is {} bytes; {})",
                                                what, g.names[0], g.xcr0, b.size(), agree));
        return groups[0].cpu;
    }
    if (groups.size() > 1) {
        std::string list;
        for (const auto& g : groups) list += fmt::format("; {} ({})", names(g), g.where);
        throw Error(fmt::format("{}, and the CPUs whose layout fits place the in-use components differently{}: pass --cpuid with the CPU that saved it",
                                what, list));
    }
    if (host && !compacted) {
        uint64_t enabled = host->enabled_xcr0() & host->supported_xcr0();
        try {
            size_t end = host->standard(enabled).total_size;
            if (end < b.size() && std::all_of(b.begin() + end, b.end(), [](uint8_t x) { return x == 0; }) && !(xstate_bv & ~enabled))
                return host;   // zero padding after this machine's layout, e.g. KVM's 4096 bytes
        } catch (const Error&) {
        }
    }
    throw Error(fmt::format("{}, nor the layout of any built-in profile: pass --cpuid with the CPU that saved it", what));
}

// Threads of a core share their XCR0 and size: each model is chosen (and built) once.
class ModelChooser {
public:
    ModelChooser(const Source& s, const InputFormat& f) : source_(s), format_(f) {}

    std::shared_ptr<const CpuModel> choose(const SourceArea& r, const std::string& label, uint64_t xcr0, std::vector<std::string>& notes) {
        if (r.cpu) return r.cpu;
        if (!source_.kernel_layout.empty()) {
            notes.push_back("layout from the core's " +
                            (source_.kernel_layout_source.empty() ? std::string("NT_X86_XSAVE_LAYOUT note") : source_.kernel_layout_source));
            return cached(xcr0, 0, [&](std::string&) { return model_from_kernel_layout(source_.kernel_layout, xcr0); }).cpu;
        }
        auto host = host_model();
        if (!format_.by_size) {
            if (!host && r.xcr0) throw Error("this machine cannot describe XSAVE layouts: pass --cpuid");
            // --xcr0 says which components a standard area holds, on this machine.
            return r.xcr0 ? host : model_for_buffer(r.bytes, host, notes);
        }
        const Chosen& c = cached(xcr0, r.bytes.size(), [&](std::string& name) { return model_for_size(xcr0, r.bytes.size(), host, name); });
        if (!c.cpu)
            throw Error(fmt::format("{}: no known CPU lays out XCR0 0x{:x} in {} bytes: pass --cpuid", label, xcr0, r.bytes.size()));
        if (!c.name.empty())
            notes.push_back(fmt::format("{} bytes with XCR0 0x{:x} do not match this machine's layout: read with the built-in profile {} (the layout whose size matches, as gdb chooses)",
                                        r.bytes.size(), xcr0, c.name));
        return c.cpu;
    }

private:
    struct Chosen { uint64_t xcr0; size_t size; std::shared_ptr<const CpuModel> cpu; std::string name; };
    template <class Make> const Chosen& cached(uint64_t xcr0, size_t size, Make make) {
        auto it = std::find_if(chosen_.begin(), chosen_.end(), [&](const Chosen& c) { return c.xcr0 == xcr0 && c.size == size; });
        if (it != chosen_.end()) return *it;
        Chosen c{xcr0, size, nullptr, {}};
        c.cpu = make(c.name);
        return chosen_.emplace_back(std::move(c));
    }
    const Source& source_;
    const InputFormat& format_;
    std::vector<Chosen> chosen_;
};

Opened open_source(Source in, const InputFormat& f, const OpenOptions& opt, const std::string& path) {
    ModelChooser chooser(in, f);
    Opened out;
    out.kind = in.kind;
    out.notes = std::move(in.notes);
    out.nested = std::move(in.nested);
    out.areas.reserve(in.areas.size());
    for (auto& r : in.areas) {
        Area a;
        a.kind = in.kind;
        a.unit = f.unit;
        a.tid = r.tid;
        a.label = r.label.empty() ? path : path + " " + r.label;
        a.notes = std::move(r.notes);
        a.context = std::move(r.context);
        a.warnings = std::move(r.warnings);
        a.nested = std::move(r.nested);
        a.bytes_read = r.bytes.size();
        ReadOptions ro;
        ro.legacy32 = r.legacy32;
        // The input's XCR0 (a note's, a frame's, --xcr0) says which components a standard area holds.
        if (r.xcr0) ro.xcr0 = *r.xcr0 & ~kCompactedBit;
        a.cpu = opt.cpu ? opt.cpu : chooser.choose(r, a.label, ro.xcr0.value_or(0), a.notes);
        bool guessing = !opt.cpu && !r.cpu && !f.by_size && in.kernel_layout.empty();
        try {
            a.image = read_image(std::move(r.bytes), *a.cpu, ro);
        } catch (const Error& e) {
            if (guessing)
                throw Error(fmt::format("does not fit this machine's layout ({}); pass --cpuid with the profile of the CPU that saved it (see `xsavetool cpuid list`)",
                                        e.what()));
            throw;
        }
        a.notes.insert(a.notes.end(), a.image.notes.begin(), a.image.notes.end());
        a.image.notes = std::move(r.warnings);   // become the decode's warnings
        out.areas.push_back(std::move(a));
    }
    return out;
}

bool is_directory(const std::string& path) {
    struct stat st {};
    return path != "-" && ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// A directory input: the format that claims it (snapshot folders), else nullptr.
const InputFormat* directory_format(const std::string& path, const std::string& input) {
    if (!is_directory(path)) return nullptr;
    for (const auto& f : input_formats())
        if (f.read_dir && (input == f.name || (input == "auto" && f.detect_dir && f.detect_dir(path)))) return &f;
    return nullptr;
}

} // namespace

std::shared_ptr<const CpuModel> model_for_size(uint64_t xcr0, size_t size, const std::shared_ptr<const CpuModel>& first,
                                               std::string& chosen) {
    auto fits = [&](const CpuModel& m) {
        try {
            return m.standard(xcr0).total_size == size;
        } catch (const Error&) {
            return false;
        }
    };
    if (first && fits(*first)) return first;
    for (size_t i = 0; i < builtin_profiles().size(); ++i) {
        auto m = builtin_model(i);
        if (fits(*m)) {
            chosen = std::string(builtin_profiles()[i].name);
            return m;
        }
    }
    return nullptr;
}

std::shared_ptr<const CpuModel> model_from_kernel_layout(const std::vector<CoreLayoutEntry>& entries, uint64_t xcr0) {
    Profile p;
    p.name = "core NT_X86_XSAVE_LAYOUT";
    p.xcr0 = xcr0;
    p.set({0xD, 0, uint32_t(xcr0), 0, 0, uint32_t(xcr0 >> 32)});
    p.set({0xD, 1, 0, 0, 0, 0});
    for (const auto& e : entries)
        if (e.bit >= 2 && e.bit < 63) p.set({0xD, e.bit, e.size, e.offset, e.flags, 0});
    return std::make_shared<const CpuModel>(std::move(p));
}

Source read_source(std::span<const uint8_t> bytes, const OpenOptions& opt, const std::string& path) {
    return read_with(format_for(bytes, opt.input), bytes, opt, path);
}

Opened open(std::span<const uint8_t> bytes, const OpenOptions& opt, const std::string& path) {
    const InputFormat& f = format_for(bytes, opt.input);
    return open_source(read_with(f, bytes, opt, path), f, opt, path);
}

Source read_source_file(const std::string& path, const OpenOptions& opt) {
    return naming(path, [&] {
        if (const InputFormat* d = directory_format(path, opt.input)) return read_dir_with(*d, opt, path);
        FileBytes fb = map_file(path);
        return read_source(fb.bytes(), opt, path);
    });
}

Opened open_file(const std::string& path, const OpenOptions& opt) {
    return naming(path, [&] {
        if (const InputFormat* d = directory_format(path, opt.input)) return open_source(read_dir_with(*d, opt, path), *d, opt, path);
        FileBytes fb = map_file(path);
        return open(fb.bytes(), opt, path);
    });
}

} // namespace xsave
