// check --cpuid FROM --on TO: which in-use components TO would read from other bytes than
// FROM saved them at. Standard form: each component's CPUID.(0xD,i).EBX offset; compacted
// form: the offsets both CPUs compute from XCOMP_BV (sizes and 64-byte alignment differ).
#include "xsave/restore_meaning.hpp"
#include "model/bytes.hpp"

#include "xsave/components.hpp"
#include "xsave/error.hpp"
#include "xsave/image.hpp"

#include <fmt/core.h>


namespace xsave {
namespace {

struct ReadPlace {
    bool placed = false;
    uint32_t offset = 0, size = 0;
};

ReadPlace standard_place(const CpuModel& cpu, unsigned b) {
    const auto& g = cpu.geometry(b);
    if (!g.enumerated || !g.size || g.supervisor) return {};
    return {true, g.std_offset, g.size};
}

// The registers of component `b` whose bytes sit at other buffer offsets on the two CPUs
// (offsets inside the component are architectural; only the component's place moves).
std::vector<std::string> misread_registers(unsigned b, const ReadPlace& f, const ReadPlace& t, bool legacy32) {
    std::vector<std::string> regs;
    const ComponentInfo* info = component_info(b);
    if (!info || info->fields.empty()) {
        regs.push_back(component_name(b));
        return regs;
    }
    for (const auto& fd : info->fields) {
        unsigned n = field_instances(fd, legacy32);
        for (unsigned i = 0; i < n; ++i) {
            uint32_t at = fd.offset + i * fd.stride, end = at + fd.width;
            bool same = f.offset == t.offset && end <= f.size && end <= t.size;
            if (same) continue;
            regs.push_back(field_instance_name(fd, i));
        }
    }
    return regs;
}

} // namespace

size_t MeaningCheck::register_count() const {
    size_t n = 0;
    for (const auto& m : misread) n += m.registers.size();
    return n;
}

MeaningCheck compare_restore_meaning(std::span<const uint8_t> bytes, const CpuModel& from, const CpuModel& to,
                                     uint64_t rfbm, bool legacy32) {
    MeaningCheck r;
    if (bytes.size() < kExtendedOffset) return r;
    uint64_t xstate_bv = load_le(&bytes[kXstateBvOffset], 8);
    uint64_t xcomp_bv = load_le(&bytes[kXcompBvOffset], 8);
    r.form = xcomp_bv & kCompactedBit ? Format::Compacted : Format::Standard;
    const Layout *lf = nullptr, *lt = nullptr;
    if (r.form == Format::Compacted) {
        try {
            lf = &from.compacted(xcomp_bv);
            lt = &to.compacted(xcomp_bv);
        } catch (const Error&) {
            return r;   // XCOMP_BV names a component one CPU cannot place: the XCOMP_BV rules say so
        }
    }
    uint64_t loaded = xstate_bv & rfbm & ~kCompactedBit;
    if (r.form == Format::Compacted) loaded &= xcomp_bv;
    for (unsigned b = 2; b < 63; ++b) {
        if (!(loaded >> b & 1)) continue;
        ReadPlace f, t;
        if (lf) {
            if (lf->has(b)) f = {true, lf->offset[b], lf->size[b]};
            if (lt->has(b)) t = {true, lt->offset[b], lt->size[b]};
        } else {
            f = standard_place(from, b);
            t = standard_place(to, b);
        }
        if (!f.placed || !t.placed) continue;
        r.compared |= 1ull << b;
        if (f.offset == t.offset && f.size == t.size) continue;
        auto regs = misread_registers(b, f, t, legacy32);
        if (regs.empty()) continue;   // same place, only the size differs past the last field
        r.misread.push_back({b, f.offset, f.size, t.offset, t.size, std::move(regs)});
    }
    return r;
}

std::string register_ranges(const std::vector<std::string>& registers) {
    // Names without a trailing number stand alone.
    std::string out;
    for (size_t i = 0; i < registers.size();) {
        const RegisterIndex first = split_register_name(registers[i]);
        size_t j = i + 1;
        int last = first.index;
        while (first.index >= 0 && j < registers.size()) {
            RegisterIndex next = split_register_name(registers[j]);
            if (next.prefix != first.prefix || next.index != last + 1) break;
            last = next.index;
            ++j;
        }
        if (!out.empty()) out += ", ";
        out += j - i > 1 ? fmt::format("{}{}-{}{}", first.prefix, first.index, first.prefix, last) : registers[i];
        i = j;
    }
    return out;
}

} // namespace xsave
