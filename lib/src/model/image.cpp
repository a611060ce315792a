// Reading an XSAVE area: header, format and layout, with errors that say what is missing.
#include "xsave/image.hpp"
#include "model/bytes.hpp"

#include "xsave/components.hpp"
#include "xsave/error.hpp"

#include <fmt/core.h>

#include <algorithm>

namespace xsave {
namespace {

// A standard area shorter than the layout of the enabled XCR0 may have been saved with a
// smaller XCR0 (a guest with fewer features, QEMU's own buffer). Accept it when the components
// that fit, taken in offset order, end exactly at its length and hold every in-use component.
std::optional<uint64_t> fitting_prefix(const CpuModel& cpu, uint64_t xcr0, uint64_t xstate_bv, size_t length) {
    std::vector<unsigned> bits;
    for (unsigned b = 2; b < 63; ++b)
        if (xcr0 >> b & 1 && cpu.geometry(b).size && !cpu.geometry(b).supervisor) bits.push_back(b);
    std::sort(bits.begin(), bits.end(), [&](unsigned a, unsigned b) { return cpu.geometry(a).std_offset < cpu.geometry(b).std_offset; });
    uint64_t mask = 3;
    size_t end = kExtendedOffset;
    for (size_t i = 0;; ++i) {
        if (end == length) {
            if ((xstate_bv & xcr0 & ~mask) == 0) return mask;
            return std::nullopt;
        }
        if (i == bits.size()) return std::nullopt;
        const auto& g = cpu.geometry(bits[i]);
        mask |= 1ull << bits[i];
        end = std::max<size_t>(end, g.std_offset + g.size);
    }
}

} // namespace

AreaView inspect_area(std::span<const uint8_t> bytes, const CpuModel& cpu, const ReadOptions& opt,
                      std::vector<std::string>* notes) {
    if (bytes.empty())
        throw Error("empty input: an XSAVE area needs at least 576 bytes (512-byte legacy region + 64-byte header)");
    if (bytes.size() < kExtendedOffset)
        throw Error(fmt::format("{} bytes: too short for an XSAVE area, which needs at least 576 (legacy region 0..511, header 512..575)",
                                bytes.size()));
    // The header words stay in locals, not read back from `img` (GCC stores the two as one
    // 16-byte move; an 8-byte load from its upper half waits on store forwarding).
    const uint64_t xstate_bv = load_le(&bytes[kXstateBvOffset], 8), xcomp_bv = load_le(&bytes[kXcompBvOffset], 8);
    AreaView img;
    img.bytes = bytes;
    img.xstate_bv = xstate_bv;
    img.xcomp_bv = xcomp_bv;
    img.format = (xcomp_bv & kCompactedBit) ? Format::Compacted : Format::Standard;
    uint64_t mask;
    const char* what;
    if (img.format == Format::Compacted) {
        mask = xcomp_bv & ~kCompactedBit;
        what = "XCOMP_BV";
    } else {
        mask = opt.xcr0 ? *opt.xcr0 : cpu.enabled_xcr0();
        what = opt.xcr0 ? "--xcr0" : "the profile's XCR0";
        if (!opt.xcr0) {
            try {
                if (bytes.size() < cpu.standard(mask).total_size)
                    if (auto m = fitting_prefix(cpu, mask, xstate_bv, bytes.size())) {
                        if (notes)
                            notes->push_back(fmt::format("standard area of {} bytes is shorter than the {}-byte layout for XCR0 0x{:x}: read as saved with XCR0 0x{:x} ({})",
                                                        bytes.size(), cpu.standard(mask).total_size, mask, *m, mask_names(*m)));
                        mask = *m;
                    }
            } catch (const Error&) {
                // reported below with context
            }
        }
    }
    try {
        img.layout = &cpu.layout(img.format, mask);
    } catch (const Error& e) {
        throw Error(fmt::format("offset 0x{:x}: {} 0x{:x}: {}", img.format == Format::Compacted ? kXcompBvOffset : 0u,
                                what, img.format == Format::Compacted ? xcomp_bv : mask, e.what()));
    }
    const Layout& L = *img.layout;
    // In-use state the layout cannot hold would be lost without a word: refuse (standard form;
    // a compacted XSTATE_BV beyond XCOMP_BV is decoded with a warning, for `check` to judge).
    if (uint64_t outside = xstate_bv & ~L.mask & ~kCompactedBit; outside && img.format == Format::Standard)
        throw Error(fmt::format("offset 0x200: XSTATE_BV 0x{:x} names components outside the standard layout for {} 0x{:x} ({})",
                                xstate_bv, what, mask, mask_names(outside)));
    if (bytes.size() < L.total_size) {
        for (unsigned b : L.bits()) {
            if (L.offset[b] + L.size[b] <= bytes.size()) continue;
            throw Error(fmt::format("{} bytes, but the {} layout for {} 0x{:x} needs {}: {} (bit {}) at 0x{:x}..0x{:x} is {}{}",
                                    bytes.size(), format_name(img.format), what, mask, L.total_size, component_name(b), b,
                                    L.offset[b], L.offset[b] + L.size[b],
                                    L.offset[b] >= bytes.size() ? "missing" : "cut short",
                                    img.format == Format::Standard && !opt.xcr0 ? " (--xcr0 says which components the area holds)" : ""));
        }
    }
    return img;
}

Image read_image(std::vector<uint8_t> bytes, const CpuModel& cpu, const ReadOptions& opt) {
    Image img;
    AreaView v = inspect_area(bytes, cpu, opt, &img.notes);
    img.format = v.format;
    img.xstate_bv = v.xstate_bv;
    img.xcomp_bv = v.xcomp_bv;
    img.layout = v.layout;
    img.legacy32 = opt.legacy32;
    img.bytes = std::move(bytes);
    return img;
}

Trailing trailing_bytes(std::span<const uint8_t> b, size_t layout_size) {
    Trailing t;
    if (layout_size >= b.size()) return t;
    t.total = b.size() - layout_size;
    for (size_t i = layout_size; i < b.size(); ++i) {
        if (b[i] == 0) continue;
        ++t.nonzero;
        if (!t.first_nonzero) t.first_nonzero = i;
    }
    t.zero = t.total - t.nonzero;
    return t;
}

HeaderWords header_words(std::span<const uint8_t> area) {
    if (area.size() < kExtendedOffset) return {};
    return {load_le(&area[kXstateBvOffset], 8), load_le(&area[kXcompBvOffset], 8)};
}

} // namespace xsave
