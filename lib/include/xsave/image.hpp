#pragma once
// An XSAVE area read from bytes: its format, header and layout.
#include "xsave/layout.hpp"

#include <bit>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace xsave {

// n <= 8. On a little-endian host one unaligned load or store (these sit on hot paths).
inline uint64_t load_le(const uint8_t* p, unsigned n) {
    uint64_t v = 0;
    if constexpr (std::endian::native == std::endian::little) {
        std::memcpy(&v, p, n);
    } else {
        for (unsigned i = 0; i < n; ++i) v |= uint64_t(p[i]) << (8 * i);
    }
    return v;
}
inline void store_le(uint8_t* p, uint64_t v, unsigned n) {
    if constexpr (std::endian::native == std::endian::little) {
        std::memcpy(p, &v, n);
    } else {
        for (unsigned i = 0; i < n; ++i) p[i] = uint8_t(v >> (8 * i));
    }
}

constexpr unsigned kXstateBvOffset = 512;
constexpr unsigned kXcompBvOffset = 520;

struct ReadOptions {
    // Standard form: the component mask the area was saved with (its XCR0). Default: the
    // profile's enabled XCR0.
    std::optional<uint64_t> xcr0;
    // A 32-bit process's area: FIP/FDP are offsets with FCS/FDS selectors, XMM0-7 only.
    bool legacy32 = false;
};

// An area in the caller's buffer, as read_image would read it, without a copy.
struct AreaView {
    std::span<const uint8_t> bytes;   // the whole input, trailing bytes included
    Format format = Format::Standard;
    uint64_t xstate_bv = 0;
    uint64_t xcomp_bv = 0;
    const Layout* layout = nullptr;   // owned by the CpuModel
    size_t trailing() const { return bytes.size() - layout->total_size; }
    bool in_use(unsigned bit) const { return xstate_bv >> bit & 1; }
};

struct Image {
    std::vector<uint8_t> bytes;       // the whole input, trailing bytes included
    Format format = Format::Standard;
    uint64_t xstate_bv = 0;
    uint64_t xcomp_bv = 0;
    const Layout* layout = nullptr;   // owned by the CpuModel
    std::vector<std::string> notes;   // how the layout was chosen, when not plainly
    bool legacy32 = false;            // see ReadOptions::legacy32
    size_t trailing() const { return bytes.size() - layout->total_size; }
    bool in_use(unsigned bit) const { return xstate_bv >> bit & 1; }
    AreaView view() const { return {bytes, format, xstate_bv, xcomp_bv, layout}; }
    operator AreaView() const { return view(); }   // an Image goes wherever a view does
};

// The checks of read_image over the caller's buffer, which must outlive the view; `notes`
// (when given) receives how the layout was chosen. No allocation unless a note is made.
AreaView inspect_area(std::span<const uint8_t> bytes, const CpuModel& cpu, const ReadOptions& opt = {},
                      std::vector<std::string>* notes = nullptr);
// Reads the header and picks the layout. Throws Error for an area too short for its
// header or layout (naming the missing component and offsets) or naming components
// the profile cannot place.
Image read_image(std::vector<uint8_t> bytes, const CpuModel& cpu, const ReadOptions& opt = {});

} // namespace xsave
