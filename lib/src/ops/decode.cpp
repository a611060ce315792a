// Decoding: the catalogue's fields read from an image, with init-state values applied.
#include "xsave/decode.hpp"
#include "model/bytes.hpp"

#include "xsave/input.hpp"

#include <fmt/core.h>

#include <algorithm>

namespace xsave {
namespace {

// Bytes of field f (instance i) of component `bit`, as the CPU would load them.
void read_field(const Image& img, unsigned bit, const FieldDesc& f, unsigned i, std::vector<uint8_t>& out) {
    out.assign(f.width, 0);
    if (!field_is_stored(img, bit, f)) {
        init_value(f, out.data());
        return;
    }
    uint32_t at = field_offset(*img.layout, bit, f, i);
    std::copy_n(img.bytes.begin() + at, f.width, out.begin());
}

const FieldDesc* find_field(const ComponentInfo& c, std::string_view prefix, bool legacy32) {
    for (const auto& f : c.fields)
        if (f.prefix == prefix && field_instances(f, legacy32)) return &f;
    return nullptr;
}

struct Ranked { unsigned rank; unsigned seq; Value v; };

// Marks every byte the decoded model represents; the rest goes to "reserved_bytes".
std::vector<bool> covered_bytes(const Image& img) {
    const Layout& L = *img.layout;
    std::vector<bool> cov(L.total_size, false);
    std::fill(cov.begin() + kXstateBvOffset, cov.begin() + kXcompBvOffset + 8, true);
    for (unsigned bit : L.bits()) {
        const ComponentInfo* info = component_info(bit);
        if (!info) {
            if (img.in_use(bit)) std::fill_n(cov.begin() + L.offset[bit], L.size[bit], true);
            continue;
        }
        for (const auto& f : info->fields) {
            if (!field_is_stored(img, bit, f)) continue;
            for (unsigned i = 0; i < field_instances(f, img.legacy32); ++i) {
                if (bit >= 2 && f.offset + i * f.stride + f.width > L.size[bit]) break;
                std::fill_n(cov.begin() + field_offset(L, bit, f, i), f.width, true);
            }
        }
    }
    return cov;
}

// x87/SSE in their initial state (XSTATE_BV bit clear) while their register bytes say
// otherwise: decoded as the CPU would load them (initial values); say the bytes are stale.
void stale_legacy_warnings(const Image& img, std::vector<std::string>& out) {
    std::vector<uint8_t> init;
    for (unsigned bit : {0u, 1u}) {
        if (img.in_use(bit) || !img.layout->has(bit)) continue;
        std::vector<std::string> names;
        for (const auto& f : component_info(bit)->fields) {
            if (field_is_stored(img, bit, f)) continue;
            init.assign(f.width, 0);
            init_value(f, init.data());
            for (unsigned i = 0; i < field_instances(f, img.legacy32); ++i) {
                uint32_t at = field_offset(*img.layout, bit, f, i);
                if (!std::equal(init.begin(), init.end(), img.bytes.begin() + at)) names.push_back(field_instance_name(f, i));
            }
        }
        if (names.empty()) continue;
        std::string list;
        for (size_t k = 0; k < names.size() && k < 8; ++k) list += (k ? ", " : "") + names[k];
        if (names.size() > 8) list += fmt::format(" and {} more", names.size() - 8);
        out.push_back(fmt::format("{} is in its initial state (XSTATE_BV bit {} clear) but its bytes hold other values ({}): "
                                  "decoded as the initial values the CPU would load; the stale bytes are kept in reserved_bytes",
                                  component_name(bit), bit, list));
    }
}

} // namespace

bool field_is_stored(const Image& img, unsigned bit, const FieldDesc& f) {
    switch (f.init) {
    case Init::Stored: return true;
    case Init::Mxcsr: return img.in_use(bit) || img.format == Format::Standard;
    case Init::Fcw:
    case Init::Zero: break;
    }
    return img.in_use(bit);
}

void init_value(const FieldDesc& f, uint8_t* out) {
    std::fill_n(out, f.width, 0);
    if (f.init == Init::Fcw) store_le(out, kFcwInit, 2);
    if (f.init == Init::Mxcsr) store_le(out, kMxcsrInit, 4);
}

uint32_t field_offset(const Layout& L, unsigned bit, const FieldDesc& f, unsigned i) {
    return (bit < 2 ? 0 : L.offset[bit]) + f.offset + i * f.stride;
}

std::string hex_value(std::span<const uint8_t> b) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string s(2 + 2 * b.size(), '0');
    s[1] = 'x';
    for (size_t i = 0; i < b.size(); ++i) {
        uint8_t byte = b[b.size() - 1 - i];
        s[2 + 2 * i] = digits[byte >> 4];
        s[3 + 2 * i] = digits[byte & 15];
    }
    return s;
}

std::string hex_bytes(std::span<const uint8_t> b) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string s(2 * b.size(), '0');
    for (size_t i = 0; i < b.size(); ++i) {
        s[2 * i] = digits[b[i] >> 4];
        s[2 * i + 1] = digits[b[i] & 15];
    }
    return s;
}

std::string hex_u64(uint64_t v) { return fmt::format("0x{:x}", v); }

uint64_t fields_digest(std::vector<FieldValue> fields) {
    std::sort(fields.begin(), fields.end(), [](const FieldValue& a, const FieldValue& b) { return a.name < b.name; });
    uint64_t h = 0xcbf29ce484222325ull;
    auto mix = [&](uint8_t c) { h = (h ^ c) * 0x100000001b3ull; };
    for (const auto& f : fields) {
        for (char c : f.name) mix(uint8_t(c));
        mix(0);
        for (uint8_t b : f.bytes) mix(b);
    }
    return h;
}

Decoded decode(const Image& img, const CpuModel& cpu) {
    const Layout& L = *img.layout;
    Decoded d;
    d.format = img.format;
    d.size = L.total_size;
    d.trailing = img.trailing();
    d.xstate_bv = img.xstate_bv;
    d.xcomp_bv = img.xcomp_bv;
    d.profile = cpu.profile().name;
    d.warnings = img.notes;
    if (d.trailing) {
        Trailing t = trailing_bytes(img.bytes, L.total_size);
        if (t.is_padding())
            d.warnings.push_back(fmt::format("{} bytes of zero padding after the {}-byte layout{}", t.total, L.total_size,
                                             img.bytes.size() == kKvmXsaveSize ? " (KVM struct kvm_xsave is 4096 bytes)" : ""));
        else
            d.warnings.push_back(fmt::format("{} trailing bytes after the {}-byte layout, {} of them non-zero, the first at offset 0x{:x} (kept)",
                                             t.total, L.total_size, t.nonzero, *t.first_nonzero));
    }
    if (uint64_t outside = img.xstate_bv & ~L.mask & ~kCompactedBit)
        d.warnings.push_back(fmt::format("XSTATE_BV 0x{:x} names components outside the layout ({}): ignored", img.xstate_bv,
                                         mask_names(outside)));

    std::vector<Ranked> regs;
    regs.reserve(256);   // x87 to AVX-512 has about 200; growth is fine past that
    unsigned seq = 0;
    const std::vector<unsigned> bits = L.bits();
    d.components.reserve(bits.size());
    for (unsigned bit : bits) {
        DecodedComponent dc;
        dc.bit = bit;
        dc.name = component_name(bit);
        dc.offset = L.offset[bit];
        dc.size = L.size[bit];
        dc.in_use = img.in_use(bit);
        dc.supervisor = cpu.geometry(bit).supervisor;
        const ComponentInfo* info = component_info(bit);
        dc.known = info != nullptr;
        if (!info) {
            Value v{"data", {}, Show::Bytes, bit};
            v.bytes.assign(dc.size, 0);
            if (dc.in_use) std::copy_n(img.bytes.begin() + dc.offset, dc.size, v.bytes.begin());
            dc.fields.push_back(std::move(v));
        } else {
            size_t n = 0;
            for (const auto& f : info->fields) n += field_instances(f, img.legacy32);
            dc.fields.reserve(n);
            for (const auto& f : info->fields)
                for (unsigned i = 0; i < field_instances(f, img.legacy32); ++i) {
                    // Fields past the enumerated size (e.g. LBR entries beyond the depth) do not exist.
                    if (bit >= 2 && f.offset + i * f.stride + f.width > dc.size) break;
                    Value v{field_instance_name(f, i), {}, f.show, bit};
                    read_field(img, bit, f, i, v.bytes);
                    if (f.architectural) regs.push_back({info->rank, seq++, v});
                    dc.fields.push_back(std::move(v));
                }
        }
        d.components.push_back(std::move(dc));
    }
    // Composed views: present when every part's component is in the layout.
    std::vector<uint8_t> part;
    for (const auto& view : all_views()) {
        bool ok = true;
        unsigned count = view.count;   // fewer for a 32-bit process (ymm0-7)
        for (const auto& p : view.parts) {
            if (p.prefix.empty()) continue;
            if (!L.has(p.bit)) ok = false;
            else count = std::min(count, field_instances(*find_field(*component_info(p.bit), p.prefix, img.legacy32), img.legacy32));
        }
        if (!ok) continue;
        for (unsigned i = 0; i < count; ++i) {
            Value v{fmt::format("{}{}", view.prefix, i), {}, Show::Hex};
            v.bytes.reserve(view.width);
            for (const auto& p : view.parts) {
                if (p.prefix.empty()) continue;
                v.bit = p.bit;
                read_field(img, p.bit, *find_field(*component_info(p.bit), p.prefix, img.legacy32), i, part);
                v.bytes.insert(v.bytes.end(), part.begin(), part.end());
            }
            regs.push_back({view.rank, seq++, std::move(v)});
        }
    }
    stale_legacy_warnings(img, d.warnings);
    std::vector<bool> cov = covered_bytes(img);
    for (size_t i = 0; i < cov.size();) {
        if (cov[i] || img.bytes[i] == 0) { ++i; continue; }
        size_t j = i;
        while (j < cov.size() && !cov[j] && img.bytes[j] != 0) ++j;
        d.reserved.push_back({uint32_t(i), std::vector<uint8_t>(img.bytes.begin() + i, img.bytes.begin() + j)});
        i = j;
    }
    d.trailing_data.assign(img.bytes.begin() + L.total_size, img.bytes.end());
    std::stable_sort(regs.begin(), regs.end(), [](const Ranked& a, const Ranked& b) { return a.rank < b.rank; });
    d.registers.reserve(regs.size());
    for (auto& r : regs) d.registers.push_back(std::move(r.v));
    return d;
}

} // namespace xsave
