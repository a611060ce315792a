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

// The error paths of inspect_area, out of line: its hot path keeps a small frame.
[[noreturn, gnu::cold, gnu::noinline]] void too_short(size_t n) {
    if (!n) throw Error("empty input: an XSAVE area needs at least 576 bytes (512-byte legacy region + 64-byte header)");
    throw Error(fmt::format("{} bytes: too short for an XSAVE area, which needs at least 576 (legacy region 0..511, header 512..575)", n));
}

// What chose the layout's mask, for messages.
const char* mask_source(Format f, const ReadOptions& opt) {
    return f == Format::Compacted ? "XCOMP_BV" : opt.xcr0 ? "--xcr0" : "the profile's XCR0";
}

[[noreturn, gnu::cold, gnu::noinline]] void no_layout(const Error& e, Format f, uint64_t word, const ReadOptions& opt) {
    throw Error(fmt::format("offset 0x{:x}: {} 0x{:x}: {}", f == Format::Compacted ? kXcompBvOffset : 0u, mask_source(f, opt),
                            word, e.what()));
}

// A layout from the model's cache, or the error naming the header word or option behind it.
[[gnu::always_inline]] inline const Layout& layout_of(const CpuModel& cpu, Format f, uint64_t mask, uint64_t word,
                                                      const ReadOptions& opt) {
    try {
        return cpu.layout(f, mask);
    } catch (const Error& e) {
        no_layout(e, f, word, opt);
    }
}

// A standard area shorter than the layout of the profile's XCR0: the layout of the mask it
// fits (with a note), else that layout, for the caller's checks to refuse.
[[gnu::cold, gnu::noinline]] const Layout& shorter_standard(const CpuModel& cpu, const Layout& full, uint64_t& mask,
                                                            uint64_t xstate_bv, size_t n, const ReadOptions& opt,
                                                            std::vector<std::string>* notes) {
    const auto m = fitting_prefix(cpu, mask, xstate_bv, n);
    if (!m) return full;
    if (notes)
        notes->push_back(fmt::format("standard area of {} bytes is shorter than the {}-byte layout for XCR0 0x{:x}: read as saved with XCR0 0x{:x} ({})",
                                     n, full.total_size, mask, *m, mask_names(*m)));
    mask = *m;
    return layout_of(cpu, Format::Standard, mask, mask, opt);
}

[[noreturn, gnu::cold, gnu::noinline]] void outside_standard(uint64_t xstate_bv, const Layout& L, uint64_t mask,
                                                             const ReadOptions& opt) {
    throw Error(fmt::format("offset 0x200: XSTATE_BV 0x{:x} names components outside the standard layout for {} 0x{:x} ({})",
                            xstate_bv, mask_source(Format::Standard, opt), mask, mask_names(xstate_bv & ~L.mask & ~kCompactedBit)));
}

[[noreturn, gnu::cold, gnu::noinline]] void cut_short(size_t n, const Layout& L, uint64_t mask, const ReadOptions& opt) {
    for (unsigned b : L.bits()) {
        if (L.offset[b] + L.size[b] <= n) continue;
        throw Error(fmt::format("{} bytes, but the {} layout for {} 0x{:x} needs {}: {} (bit {}) at 0x{:x}..0x{:x} is {}{}",
                                n, format_name(L.format), mask_source(L.format, opt), mask, L.total_size, component_name(b), b,
                                L.offset[b], L.offset[b] + L.size[b], L.offset[b] >= n ? "missing" : "cut short",
                                L.format == Format::Standard && !opt.xcr0 ? " (--xcr0 says which components the area holds)" : ""));
    }
    // Not reached: total_size is where the last component ends.
    throw Error(fmt::format("{} bytes, but the {} layout needs {}", n, format_name(L.format), L.total_size));
}

} // namespace

namespace detail {
AreaView inspect_area_general(std::span<const uint8_t> bytes, const CpuModel& cpu, const ReadOptions& opt,
                              std::vector<std::string>* notes) {
    const size_t n = bytes.size();
    if (n < kExtendedOffset) [[unlikely]] too_short(n);
    uint64_t xstate_bv = load_le(&bytes[kXstateBvOffset], 8), xcomp_bv = load_le(&bytes[kXcompBvOffset], 8);
    // Two scalar loads: GCC otherwise loads both words as one 16-byte vector and reads the upper
    // one back after storing it, an 8-byte load that waits on store forwarding (~2 ns here).
    asm("" : "+r"(xstate_bv), "+r"(xcomp_bv));
    const Format format = (xcomp_bv & kCompactedBit) ? Format::Compacted : Format::Standard;
    uint64_t mask = format == Format::Compacted ? xcomp_bv & ~kCompactedBit : opt.xcr0 ? *opt.xcr0 : cpu.enabled_xcr0();
    const Layout* L = &layout_of(cpu, format, mask, format == Format::Compacted ? xcomp_bv : mask, opt);
    if (format == Format::Standard) {
        if (n < L->total_size && !opt.xcr0) [[unlikely]] L = &shorter_standard(cpu, *L, mask, xstate_bv, n, opt, notes);
        // In-use state the layout cannot hold would be lost without a word (a compacted
        // XSTATE_BV beyond XCOMP_BV is decoded with a warning, for `check` to judge).
        if (xstate_bv & ~L->mask & ~kCompactedBit) [[unlikely]] outside_standard(xstate_bv, *L, mask, opt);
    }
    if (n < L->total_size) [[unlikely]] cut_short(n, *L, mask, opt);
    cpu.remember_inspected(*L);   // for the inline path (image.hpp), which checks it again
    return {bytes, format, xstate_bv, xcomp_bv, L};
}
} // namespace detail

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
