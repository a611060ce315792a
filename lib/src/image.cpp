// Reading an XSAVE area: header, format and layout, with errors that say what is missing.
#include "xsave/image.hpp"

#include "xsave/components.hpp"
#include "xsave/error.hpp"

#include <fmt/core.h>

namespace xsave {

Image read_image(std::vector<uint8_t> bytes, const CpuModel& cpu, const ReadOptions& opt) {
    if (bytes.empty())
        throw Error("empty input: an XSAVE area needs at least 576 bytes (512-byte legacy region + 64-byte header)");
    if (bytes.size() < kExtendedOffset)
        throw Error(fmt::format("{} bytes: too short for an XSAVE area, which needs at least 576 (legacy region 0..511, header 512..575)",
                                bytes.size()));
    Image img;
    img.xstate_bv = load_le(&bytes[kXstateBvOffset], 8);
    img.xcomp_bv = load_le(&bytes[kXcompBvOffset], 8);
    img.format = (img.xcomp_bv & kCompactedBit) ? Format::Compacted : Format::Standard;
    uint64_t mask;
    const char* what;
    if (img.format == Format::Compacted) {
        mask = img.xcomp_bv & ~kCompactedBit;
        what = "XCOMP_BV";
    } else {
        mask = opt.xcr0 ? *opt.xcr0 : cpu.enabled_xcr0();
        what = opt.xcr0 ? "--xcr0" : "the profile's XCR0";
    }
    try {
        img.layout = &cpu.layout(img.format, mask);
    } catch (const Error& e) {
        throw Error(fmt::format("offset 0x{:x}: {} 0x{:x}: {}", img.format == Format::Compacted ? kXcompBvOffset : 0u,
                                what, img.format == Format::Compacted ? img.xcomp_bv : mask, e.what()));
    }
    const Layout& L = *img.layout;
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
    img.bytes = std::move(bytes);
    return img;
}

} // namespace xsave
