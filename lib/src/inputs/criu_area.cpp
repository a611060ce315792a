// CRIU fpregs fields <-> a standard XSAVE area, and writing changed fields back into the image
// with every other byte kept.
#include "xsave/criu.hpp"
#include "model/bytes.hpp"

#include "xsave/components.hpp"
#include "xsave/error.hpp"
#include "xsave/image.hpp"
#include "inputs/criu_detail.hpp"

#include <fmt/core.h>

namespace xsave::criu {
namespace {

// Where element i of field f lives in an area with layout L.
size_t element_offset(const FpField& f, const Layout& L, unsigned i) {
    return (f.in_xsave ? L.offset[f.bit] : 0) + f.offset + size_t(i) * f.width;
}

void require_room(const FpField& f, const Layout& L) {
    if (!f.in_xsave) return;
    if (!L.has(f.bit)) throw Error(fmt::format("fpregs.xsave.{}: the layout has no {}", f.name, component_name(f.bit)));
    if (L.size[f.bit] < uint32_t(f.offset) + uint32_t(f.count) * f.width)
        throw Error(fmt::format("fpregs.xsave.{}: {} is {} bytes in this layout; CRIU's field holds {}", f.name,
                                component_name(f.bit), L.size[f.bit], f.count * f.width));
}

std::vector<uint8_t> len_field(uint32_t number, const std::vector<uint8_t>& payload) {
    std::vector<uint8_t> out;
    pb::put_len(out, number, payload);
    return out;
}

} // namespace

std::vector<uint8_t> to_area(const Thread& t, const Layout& L) {
    if (L.format != Format::Standard) throw Error("CRIU areas are built in standard form");
    std::vector<uint8_t> area(L.total_size, 0);
    for (size_t i = 0; i < kFieldCount; ++i) {
        const FpField& f = kFields[i];
        const FpValues& v = t.fields[i];
        if (!v.present) continue;
        require_room(f, L);
        for (unsigned k = 0; k < v.values.size(); ++k) store_le(&area[element_offset(f, L, k)], v.values[k], f.width);
    }
    // Without an xsave entry the image holds an FXSAVE area: x87 and SSE as saved.
    uint64_t xstate_bv = t.has_xsave ? t.xstate_bv & L.mask : 0x3;
    store_le(&area[kXstateBvOffset], xstate_bv, 8);
    return area;
}

std::vector<uint8_t> write_area(const Thread& t, std::span<const uint8_t> area, const Layout& L, std::vector<std::string>* notes) {
    if (area.size() < L.total_size || L.format != Format::Standard)
        throw Error(fmt::format("CRIU: need a standard area of {} bytes, got {}", L.total_size, area.size()));
    auto note = [&](std::string s) {
        if (notes) notes->push_back(std::move(s));
    };
    std::span<const uint8_t> img = t.image;
    auto [off, n] = first_entry(img, kMagicCore, "CORE");
    auto core = pb::parse(img.subspan(off, n), off);
    size_t ti_base = 0, fp_base = 0, xs_base = 0;
    auto ti = sub(core, kCoreThreadInfo, off, "core_entry.thread_info", ti_base);
    if (!ti) throw Error("core_entry has no thread_info");
    auto fp = sub(*ti, kTiFpregs, ti_base, "thread_info.fpregs", fp_base);
    if (!fp) throw Error("thread_info has no fpregs: nothing to write the area into");
    auto xs = sub(*fp, kFpXsave, fp_base, "fpregs.xsave", xs_base);
    std::vector<pb::Field> no_fields;

    const uint64_t new_bv = load_le(&area[kXstateBvOffset], 8);
    std::vector<pb::Replacement> fp_repl, xs_repl;
    for (size_t i = 0; i < kFieldCount; ++i) {
        const FpField& f = kFields[i];
        const FpValues& old = t.fields[i];
        FpValues now;
        if (!f.in_xsave || L.has(f.bit)) {
            if (f.in_xsave) require_room(f, L);
            for (unsigned k = 0; k < f.count; ++k) now.values.push_back(load_le(&area[element_offset(f, L, k)], f.width));
            bool nonzero = false;
            for (uint64_t x : now.values) nonzero |= x != 0;
            // Present as before; new only for state the old image could not hold otherwise.
            now.present = old.present || (f.in_xsave && (new_bv >> f.bit & 1)) || nonzero;
        }
        if (now.present == old.present && (!now.present || now.values == old.values)) continue;
        if (!now.present) note(fmt::format("fpregs.xsave.{} removed ({} is not in the target layout)", f.name, component_name(f.bit)));
        else if (!old.present) note(fmt::format("fpregs.{}{} added", f.in_xsave ? "xsave." : "", f.name));
        else note(fmt::format("fpregs.{}{} rewritten", f.in_xsave ? "xsave." : "", f.name));
        std::vector<uint8_t> bytes;
        if (now.present) pb::put_repeated(bytes, f.number, now.values, old.packed);
        (f.in_xsave ? xs_repl : fp_repl).push_back({f.number, std::move(bytes)});
    }
    // XSTATE_BV: kept as the image has it (bits of components CRIU has no field for included)
    // unless the area's in-use components differ.
    if (new_bv != (t.has_xsave ? t.xstate_bv & t.mask() : new_bv)) {
        std::vector<uint8_t> b;
        pb::put_tag(b, kXsaveXstateBv, pb::Varint);
        pb::put_varint(b, new_bv);
        xs_repl.push_back({kXsaveXstateBv, std::move(b)});
        note(fmt::format("fpregs.xsave.xstate_bv 0x{:x} -> 0x{:x}", t.xstate_bv, new_bv));
    }
    if (xs_repl.empty() && fp_repl.empty()) return t.image;
    if (!xs_repl.empty()) {
        if (!xs) {
            // A new xsave entry: xstate_bv is required.
            std::vector<uint8_t> b;
            pb::put_tag(b, kXsaveXstateBv, pb::Varint);
            pb::put_varint(b, new_bv);
            xs_repl.push_back({kXsaveXstateBv, std::move(b)});
        }
        fp_repl.push_back({kFpXsave, len_field(kFpXsave, pb::rebuild(xs ? *xs : no_fields, xs_repl))});
    }
    auto new_ti = pb::rebuild(*ti, {{kTiFpregs, len_field(kTiFpregs, pb::rebuild(*fp, fp_repl))}});
    auto new_core = pb::rebuild(core, {{kCoreThreadInfo, len_field(kCoreThreadInfo, new_ti)}});
    std::vector<uint8_t> out(img.begin(), img.begin() + off - 4);
    for (unsigned k = 0; k < 4; ++k) out.push_back(uint8_t(new_core.size() >> (8 * k)));
    out.insert(out.end(), new_core.begin(), new_core.end());
    out.insert(out.end(), img.begin() + off + n, img.end());
    return out;
}

HostXsave host_xsave(const CpuModel& cpu) {
    HostXsave h;
    h.xfeatures_mask = cpu.supported_xcr0() & kUserMask;
    if (const CpuidLeaf* l = cpu.profile().find(0xD, 0)) h.xsave_size = l->ebx, h.xsave_size_max = l->ecx;
    return h;
}

std::vector<uint8_t> write_cpuinfo(const Cpuinfo& c, const HostXsave& h) {
    std::span<const uint8_t> img = c.image;
    auto [off, n] = first_entry(img, kMagicCpuinfo, "CPUINFO");
    auto top = pb::parse(img.subspan(off, n), off);
    size_t base = 0;
    auto x86 = sub(top, kCpuinfoX86, off, "cpuinfo_entry.x86_entry", base);
    if (!x86) throw Error("cpuinfo_entry has no x86_entry");
    std::vector<pb::Replacement> repl;
    auto set = [&](uint32_t number, std::optional<uint64_t> old, uint64_t v) {
        if (old && *old == v) return;
        std::vector<uint8_t> b;
        pb::put_tag(b, number, pb::Varint);
        pb::put_varint(b, v);
        repl.push_back({number, std::move(b)});
    };
    set(kCiXfeatures, c.xfeatures_mask, h.xfeatures_mask);
    set(kCiXsaveSize, c.xsave_size, h.xsave_size);
    set(kCiXsaveSizeMax, c.xsave_size_max, h.xsave_size_max);
    if (repl.empty()) return c.image;
    auto new_top = pb::rebuild(top, {{kCpuinfoX86, len_field(kCpuinfoX86, pb::rebuild(*x86, repl))}});
    std::vector<uint8_t> out(img.begin(), img.begin() + off - 4);
    for (unsigned k = 0; k < 4; ++k) out.push_back(uint8_t(new_top.size() >> (8 * k)));
    out.insert(out.end(), new_top.begin(), new_top.end());
    out.insert(out.end(), img.begin() + off + n, img.end());
    return out;
}

} // namespace xsave::criu
