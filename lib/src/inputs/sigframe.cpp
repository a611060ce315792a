// Linux signal-frame fpstate: the XSAVE area the kernel writes on the user stack, with
// struct _fpx_sw_bytes in the software-reserved bytes at 464 and FP_XSTATE_MAGIC2 after it.
#include "xsave/components.hpp"
#include "xsave/error.hpp"
#include "xsave/image.hpp"
#include "xsave/input.hpp"
#include "xsave/layout.hpp"
#include "model/bytes.hpp"

#include <fmt/format.h>

namespace xsave {
namespace {

// struct _fpx_sw_bytes, at kSwReservedOffset.
constexpr unsigned kMagic1At = kSwReservedOffset;        // u32
constexpr unsigned kExtendedSizeAt = kSwReservedOffset + 4;
constexpr unsigned kXfeaturesAt = kSwReservedOffset + 8;   // u64
constexpr unsigned kXstateSizeAt = kSwReservedOffset + 16; // u32
constexpr unsigned kSwBytesEnd = kXstateSizeAt + 4;

} // namespace

bool is_sigframe(std::span<const uint8_t> b) {
    if (b.size() < kSwBytesEnd || load_le(b.data() + kMagic1At, 4) != kFpXstateMagic1) return false;
    uint64_t size = load_le(b.data() + kXstateSizeAt, 4);
    return size >= kExtendedOffset && size <= b.size() && b.size() - size >= 4 &&
           load_le(b.data() + size, 4) == kFpXstateMagic2;
}

SigFrame read_sigframe(std::span<const uint8_t> b) {
    if (b.size() < kSwBytesEnd)
        throw Error(fmt::format("signal frame too short: {} bytes; struct _fpx_sw_bytes ends at offset {}",
                                b.size(), kSwBytesEnd));
    uint64_t magic1 = load_le(b.data() + kMagic1At, 4);
    if (magic1 != kFpXstateMagic1)
        throw Error(fmt::format("offset {}: found {:#010x}; expected FP_XSTATE_MAGIC1 {:#010x}", kMagic1At,
                                magic1, kFpXstateMagic1));
    SigFrame f;
    f.extended_size = uint32_t(load_le(b.data() + kExtendedSizeAt, 4));
    f.xfeatures = load_le(b.data() + kXfeaturesAt, 8);
    f.xstate_size = uint32_t(load_le(b.data() + kXstateSizeAt, 4));
    if (f.xstate_size < kExtendedOffset)
        throw Error(fmt::format("offset {}: xstate_size {} is smaller than the {}-byte legacy region and "
                                "XSAVE header", kXstateSizeAt, f.xstate_size, kExtendedOffset));
    if (f.xstate_size > b.size() || b.size() - f.xstate_size < 4)
        throw Error(fmt::format("offset {}: xstate_size {:#x} leaves no room for FP_XSTATE_MAGIC2 in a "
                                "buffer of {:#x} bytes", kXstateSizeAt, f.xstate_size, b.size()));
    uint64_t magic2 = load_le(b.data() + f.xstate_size, 4);
    if (magic2 != kFpXstateMagic2)
        throw Error(fmt::format("offset {:#x}: found {:#010x}; expected FP_XSTATE_MAGIC2 {:#010x} right after "
                                "the xstate_size bytes", f.xstate_size, magic2, kFpXstateMagic2));
    f.area.assign(b.begin(), b.begin() + f.xstate_size);
    return f;
}

} // namespace xsave
