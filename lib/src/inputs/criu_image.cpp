// CRIU image files: magic words, then entries (u32 size, protobuf message); the x86 FPU fields
// of core-<tid>.img and the XSAVE facts of cpuinfo.img.
#include "xsave/criu.hpp"

#include "xsave/error.hpp"
#include "xsave/image.hpp"
#include "xsave/protobuf_wire.hpp"
#include "inputs/criu_detail.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

namespace xsave::criu {
namespace fs = std::filesystem;

const FpField kFields[kFieldCount] = {
    {"cwd", false, 1, 2, 1, 0, 0},
    {"swd", false, 2, 2, 1, 0, 2},
    {"twd", false, 3, 2, 1, 0, 4},
    {"fop", false, 4, 2, 1, 0, 6},
    {"rip", false, 5, 8, 1, 0, 8},
    {"rdp", false, 6, 8, 1, 0, 16},
    {"mxcsr", false, 7, 4, 1, 1, 24},
    {"mxcsr_mask", false, 8, 4, 1, 1, 28},
    {"st_space", false, 9, 4, 32, 0, 32},
    {"xmm_space", false, 10, 4, 64, 1, 160},
    {"padding", false, 11, 4, 12, 0, 416},
    {"ymmh_space", true, 2, 4, 64, 2, 0},
    {"bndreg_state", true, 3, 8, 8, 3, 0},
    {"bndcsr_state", true, 4, 8, 8, 4, 0},
    {"opmask_reg", true, 5, 8, 8, 5, 0},
    {"zmm_upper", true, 6, 8, 64, 6, 0},
    {"hi16_zmm", true, 7, 8, 128, 7, 0},
    {"pkru", true, 8, 4, 2, 9, 0},
};

std::pair<size_t, size_t> first_entry(std::span<const uint8_t> b, uint32_t magic, const char* what) {
    if (b.size() < 8)
        throw Error(fmt::format("offset 0: {} bytes; expected a CRIU image (two magic words and an entry)", b.size()));
    uint32_t m0 = u32_at(b, 0), m1 = u32_at(b, 4);
    if (m0 != kImgCommon && m0 != kImgService)
        throw Error(fmt::format("offset 0: magic 0x{:08x}; expected 0x{:08x} (CRIU IMG_COMMON)", m0, kImgCommon));
    if (m1 != magic) throw Error(fmt::format("offset 4: magic 0x{:08x}; expected 0x{:08x} (CRIU {})", m1, magic, what));
    if (b.size() < 12) throw Error(fmt::format("offset 8: image ends before its first entry's size; expected a u32"));
    uint32_t n = u32_at(b, 8);
    if (n > b.size() - 12)
        throw Error(fmt::format("offset 8: entry of {} bytes runs past the end of the file ({} bytes left)", n, b.size() - 12));
    return {12, n};
}

std::optional<std::vector<pb::Field>> sub(const std::vector<pb::Field>& fields, uint32_t number, size_t base, const char* name,
                                          size_t& sub_base) {
    const pb::Field* f = nullptr;
    for (const auto& x : fields) {
        if (x.number != number) continue;
        if (f) throw Error(fmt::format("offset {}: {} appears twice; expected one", base + x.offset, name));
        f = &x;
    }
    if (!f) return std::nullopt;
    if (f->type != pb::Len)
        throw Error(fmt::format("offset {}: {} has wire type {}; expected an embedded message", base + f->offset, name, unsigned(f->type)));
    sub_base = base + f->offset + (f->raw.size() - f->payload.size());
    return pb::parse(f->payload, sub_base);
}

std::optional<uint64_t> scalar(const std::vector<pb::Field>& fields, uint32_t number, size_t base) {
    auto v = pb::varints(fields, number, base);
    if (v.empty()) return std::nullopt;
    return v.back();
}

namespace {

std::optional<int32_t> tid_from_name(const std::string& label) {
    std::string name = fs::path(label).filename().string();
    if (!name.starts_with("core-") || !name.ends_with(".img")) return std::nullopt;
    std::string digits = name.substr(5, name.size() - 9);
    if (digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    return int32_t(std::stol(digits));
}

std::vector<uint8_t> read_file(const fs::path& p) {
    std::error_code ec;
    auto size = fs::file_size(p, ec);
    if (ec) throw Error(fmt::format("{}: cannot read: {}", p.string(), ec.message()));
    if (size > (64u << 20)) throw Error(fmt::format("{}: {} bytes; a CRIU core or cpuinfo image is far smaller", p.string(), size));
    std::ifstream in(p, std::ios::binary);
    std::vector<uint8_t> b(size);
    if (!in || !in.read(reinterpret_cast<char*>(b.data()), std::streamsize(size)))
        throw Error(fmt::format("{}: cannot read", p.string()));
    return b;
}

} // namespace

std::span<const FpField> fp_fields() { return kFields; }

uint64_t Thread::mask() const {
    uint64_t m = 0x3;
    for (size_t i = 0; i < fields.size(); ++i)
        if (fields[i].present) m |= 1ull << kFields[i].bit;
    return m;
}

bool is_criu_image(std::span<const uint8_t> b) {
    if (b.size() < 8) return false;
    uint32_t m0 = u32_at(b, 0), m1 = u32_at(b, 4);
    return (m0 == kImgCommon || m0 == kImgService) && (m1 == kMagicCore || m1 == kMagicCpuinfo);
}

Thread read_core(std::span<const uint8_t> b, std::string label) {
    Thread t;
    t.label = std::move(label);
    t.tid = tid_from_name(t.label);
    t.image.assign(b.begin(), b.end());
    auto [off, n] = first_entry(b, kMagicCore, "CORE");
    t.entry_offset = off;
    auto core = pb::parse(std::span(t.image).subspan(off, n), off);
    auto mtype = scalar(core, kCoreMtype, off);
    if (mtype && *mtype != kMarchX86_64)
        throw Error(fmt::format("offset {}: core_entry.mtype {}; expected 1 (X86_64)", off, *mtype));
    size_t ti_base = 0, gp_base = 0, fp_base = 0, xs_base = 0;
    auto ti = sub(core, kCoreThreadInfo, off, "core_entry.thread_info", ti_base);
    if (!ti) throw Error(fmt::format("offset {}: core_entry has no thread_info (x86); expected one", off));
    if (auto gp = sub(*ti, kTiGpregs, ti_base, "thread_info.gpregs", gp_base)) {
        t.rip = scalar(*gp, kGpIp, gp_base);
        t.rsp = scalar(*gp, kGpSp, gp_base);
    }
    t.fields.resize(std::size(kFields));
    auto fp = sub(*ti, kTiFpregs, ti_base, "thread_info.fpregs", fp_base);
    if (!fp) return t;
    t.has_fpregs = true;
    auto xs = sub(*fp, kFpXsave, fp_base, "fpregs.xsave", xs_base);
    t.has_xsave = xs.has_value();
    if (xs) t.xstate_bv = scalar(*xs, kXsaveXstateBv, xs_base).value_or(0);
    for (size_t i = 0; i < std::size(kFields); ++i) {
        const FpField& f = kFields[i];
        if (f.in_xsave && !xs) continue;
        const auto& fields = f.in_xsave ? *xs : *fp;
        size_t base = f.in_xsave ? xs_base : fp_base;
        FpValues v;
        for (const auto& x : fields)
            if (x.number == f.number) v.present = true, v.packed |= x.type == pb::Len;
        v.values = pb::varints(fields, f.number, base);
        // cwd, swd, twd and fop are uint32 in the image but 16-bit fields of the area.
        uint64_t max = f.width == 8 ? ~0ull : (1ull << (8 * f.width)) - 1;
        for (uint64_t x : v.values)
            if (x > max)
                throw Error(fmt::format("offset {}: fpregs.{}: value 0x{:x}; expected at most {} bits (its size in the XSAVE area)",
                                        base, f.name, x, 8 * f.width));
        if (f.count > 1 && v.values.size() > f.count)
            throw Error(fmt::format("fpregs.{}: {} elements; CRIU writes {} (more would not fit the XSAVE area)", f.name,
                                    v.values.size(), f.count));
        if (f.count == 1 && v.values.size() > 1) v.values.erase(v.values.begin(), v.values.end() - 1);   // last one wins
        t.fields[i] = std::move(v);
    }
    return t;
}

Cpuinfo read_cpuinfo(std::span<const uint8_t> b, std::string label) {
    Cpuinfo c;
    c.label = std::move(label);
    c.image.assign(b.begin(), b.end());
    auto [off, n] = first_entry(b, kMagicCpuinfo, "CPUINFO");
    c.entry_offset = off;
    auto top = pb::parse(std::span(c.image).subspan(off, n), off);
    size_t base = 0;
    auto x86 = sub(top, kCpuinfoX86, off, "cpuinfo_entry.x86_entry", base);
    if (!x86) throw Error(fmt::format("offset {}: cpuinfo_entry has no x86_entry; expected one", off));
    c.vendor = uint32_t(scalar(*x86, kCiVendor, base).value_or(0));
    c.xfeatures_mask = scalar(*x86, kCiXfeatures, base);
    if (auto v = scalar(*x86, kCiXsaveSize, base)) c.xsave_size = uint32_t(*v);
    if (auto v = scalar(*x86, kCiXsaveSizeMax, base)) c.xsave_size_max = uint32_t(*v);
    for (uint64_t w : pb::varints(*x86, kCiCapability, base)) c.capability.push_back(uint32_t(w));
    return c;
}

Images read_images(const std::string& path) {
    Images in;
    auto read_one = [&](const fs::path& p) {
        auto b = read_file(p);
        try {
            if (b.size() >= 8 && u32_at(b, 4) == kMagicCpuinfo) in.cpuinfo = read_cpuinfo(b, p.string());
            else in.threads.push_back(read_core(b, p.string()));
        } catch (const Error& e) {
            throw Error(p.string() + ": " + e.what());
        }
    };
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
        in.dir = path;
        std::vector<fs::path> cores;
        for (const auto& e : fs::directory_iterator(path, ec)) {
            std::string name = e.path().filename().string();
            if (name.starts_with("core-") && name.ends_with(".img")) cores.push_back(e.path());
        }
        if (ec) throw Error(fmt::format("{}: cannot list: {}", path, ec.message()));
        if (cores.empty()) throw Error(fmt::format("{}: no core-*.img in this directory; expected a CRIU image directory", path));
        std::sort(cores.begin(), cores.end());
        for (const auto& p : cores) read_one(p);
        if (fs::exists(fs::path(path) / "cpuinfo.img")) read_one(fs::path(path) / "cpuinfo.img");
    } else {
        read_one(path);
        if (in.threads.empty()) throw Error(fmt::format("{}: a cpuinfo image holds no thread; give the directory or a core-*.img", path));
    }
    std::stable_sort(in.threads.begin(), in.threads.end(), [](const Thread& a, const Thread& b) { return a.tid < b.tid; });
    return in;
}

} // namespace xsave::criu
