// CRIU images for another CPU: each thread's area re-laid with the library's conversion, then
// written back field by field; cpuinfo.img gets the target's XSAVE facts.
#include "xsave/criu.hpp"
#include "model/bytes.hpp"

#include "xsave/components.hpp"
#include "xsave/error.hpp"
#include "xsave/import.hpp"
#include "xsave/open.hpp"

#include <fmt/core.h>

#include <filesystem>

namespace xsave::criu {
namespace {

bool can_place(const CpuModel& m, uint64_t mask) {
    if ((m.supported_xcr0() & mask) != mask) return false;
    try {
        (void)m.standard(mask);
        return true;
    } catch (const Error&) {
        return false;
    }
}

const char* vendor_string(uint32_t v) { return v == 1 ? "GenuineIntel" : v == 2 ? "AuthenticAMD" : ""; }

} // namespace

std::shared_ptr<const CpuModel> model_for(uint64_t mask, uint32_t vendor, std::shared_ptr<const CpuModel> preferred,
                                          std::string& note) {
    std::string want = vendor_string(vendor);
    if (preferred && can_place(*preferred, mask) && (want.empty() || preferred->profile().vendor == want)) return preferred;
    for (const auto& b : builtin_profiles()) {
        auto m = std::make_shared<const CpuModel>(builtin_profile(b.name));
        if ((want.empty() || m->profile().vendor == want) && can_place(*m, mask)) {
            note = fmt::format("laid out with the built-in profile {} ({} {}); the image stores components, not their offsets",
                               b.name, want.empty() ? "vendor unknown," : "same vendor,", mask_names(mask));
            return m;
        }
    }
    if (preferred && can_place(*preferred, mask)) return preferred;
    return nullptr;
}

std::vector<uint8_t> assemble_into(const Thread& t, std::span<const uint8_t> area, std::shared_ptr<const CpuModel> cpu,
                                   std::vector<std::string>* notes) {
    if (!t.has_fpregs) throw Error(fmt::format("{}: thread_info has no fpregs: nothing to write the area into", t.label));
    std::string how;
    if (!cpu) cpu = model_for(t.mask(), 0, host_model(), how);
    if (!cpu) throw Error(fmt::format("{}: no known CPU lays out {}: pass --cpuid", t.label, mask_names(t.mask())));
    const Layout& L = cpu->standard(t.mask());
    if (area.size() < L.total_size)
        throw Error(fmt::format("the area has {} bytes; {} in the layout the image is read with needs {}", area.size(),
                                mask_names(t.mask()), L.total_size));
    if (area.size() >= 528 && (area[527] & 0x80)) throw Error("a compacted area; assemble the standard form (as dump of the image gives)");
    uint64_t xstate_bv = area.size() >= 520 ? load_le(&area[512], 8) : 0;
    if (uint64_t lost = xstate_bv & ~t.mask())
        throw Error(fmt::format("XSTATE_BV 0x{:x} names {}, which the image has no field for", xstate_bv, mask_names(lost)));
    return write_area(t, area.subspan(0, L.total_size), L, notes);
}

Converted convert(const Images& in, const CpuModel& to, const ConvertOptions& opt) {
    Converted out;
    namespace fs = std::filesystem;
    uint32_t vendor = in.cpuinfo ? in.cpuinfo->vendor : 0;
    for (const auto& t : in.threads) {
        std::string name = fs::path(t.label).filename().string();
        if (!t.has_fpregs) {
            out.files.emplace_back(name, t.image);
            continue;
        }
        std::string how;
        auto from = model_for(t.mask(), vendor, nullptr, how);
        if (!from) throw Error(fmt::format("{}: no known CPU lays out {}", t.label, mask_names(t.mask())));
        const Layout& L = from->standard(t.mask());
        ReadOptions ro;
        ro.xcr0 = t.mask();
        Image img = read_image(to_area(t, L), *from, ro);
        ConvertOptions o = opt;
        // Only what CRIU can hold on the target: its user components.
        o.xcr0 = to.supported_xcr0() & kUserMask;
        ConvertResult r;
        try {
            r = relayout(img, *from, to, Format::Standard, o);
        } catch (const Error& e) {
            throw Error(fmt::format("{}: {}", t.label, e.what()));
        }
        if (r.dropped) out.notes.push_back(fmt::format("{}: dropped in-use {} as asked", t.label, mask_names(r.dropped)));
        std::vector<std::string> changes;
        out.files.emplace_back(name, write_area(t, r.bytes, *r.layout, &changes));
        for (auto& c : changes) out.notes.push_back(fmt::format("{}: {}", t.label, c));
    }
    if (in.cpuinfo) {
        HostXsave h = host_xsave(to);
        out.files.emplace_back(fs::path(in.cpuinfo->label).filename().string(), write_cpuinfo(*in.cpuinfo, h));
        out.notes.push_back(fmt::format("{}: xfeatures_mask 0x{:x}, xsave_size {}, xsave_size_max {} (the target's); capability words kept",
                                        in.cpuinfo->label, h.xfeatures_mask, h.xsave_size, h.xsave_size_max));
    }
    return out;
}

} // namespace xsave::criu
