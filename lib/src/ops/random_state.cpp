// Random valid XSAVE states. Register bytes come from the catalogue's field list, so bytes
// the catalogue does not name as registers (x87 slot padding, PKRU's upper half) stay zero,
// as XSAVE writes them.
#include "xsave/random_state.hpp"
#include "model/bytes.hpp"

#include "xsave/components.hpp"
#include "xsave/image.hpp"

#include <random>

namespace xsave {
namespace {

constexpr unsigned kFcw = kFcwOffset, kFsw = kFswOffset, kFtw = kFtwOffset, kSt = kStOffset;

void fill_random(std::mt19937_64& rng, uint8_t* p, size_t n) {
    for (size_t i = 0; i < n; i += 8) {
        uint64_t v = rng();
        for (size_t k = 0; k < 8 && i + k < n; ++k) p[i + k] = uint8_t(v >> (8 * k));
    }
}

void fill_fields(std::mt19937_64& rng, uint8_t* base, uint32_t size, unsigned bit) {
    const ComponentInfo* info = component_info(bit);
    if (!info || info->fields.empty()) {
        fill_random(rng, base, size);
        return;
    }
    for (const FieldDesc& f : info->fields)
        for (unsigned i = 0; i < field_instances(f, false); ++i) {
            size_t at = f.offset + size_t(i) * f.stride;
            if (at + f.width <= size) fill_random(rng, base + at, f.width);
        }
}

} // namespace

std::vector<uint8_t> random_standard_state(const CpuModel& cpu, uint64_t xcr0, uint64_t seed,
                                           const RandomStateOptions& opt) {
    const Layout& L = cpu.standard(xcr0);
    std::vector<uint8_t> out(std::max<uint32_t>(L.total_size, kExtendedOffset), 0);
    std::mt19937_64 rng(seed);
    uint64_t xstate_bv = (opt.xstate_bv ? *opt.xstate_bv : rng()) & xcr0 & ~kCompactedBit;
    uint8_t* a = out.data();

    // x87: all exceptions masked, so no flag pattern can raise #MF later; ES and B (FSW bits 7
    // and 15) stay clear because no unmasked flag is set; FOP/FIP/FDP stay zero because CPUs
    // that keep them only on a pending exception (AMD) would save zeros.
    if (xstate_bv & 1) {
        uint64_t r = rng();
        static constexpr uint16_t kPc[] = {0x000, 0x200, 0x300};   // precision: 01 is reserved
        uint16_t fcw = 0x007F | kPc[r % 3] | uint16_t((r >> 8 & 3) << 10);
        uint16_t fsw = uint16_t(r >> 16) & 0x7F7F;
        store_le(a + kFcw, fcw, 2);
        store_le(a + kFsw, fsw, 2);
        a[kFtw] = uint8_t(r >> 32);
        for (unsigned i = 0; i < 8; ++i) fill_random(rng, a + kSt + 16 * i, 10);
    } else {
        store_le(a + kFcw, kFcwInit, 2);
    }

    // MXCSR is loaded whenever RFBM has SSE or AVX, in use or not: vary it independently.
    uint64_t r = rng();
    uint32_t mxcsr = kMxcsrInit;
    if (r & 1) mxcsr = (0x1F80 | uint32_t(r >> 8 & 0x3F) | uint32_t(r >> 16 & 7) << 13) & opt.mxcsr_mask;
    store_le(a + kMxcsrOffset, mxcsr, 4);
    store_le(a + kMxcsrMaskOffset, opt.mxcsr_mask_field ? *opt.mxcsr_mask_field : cpu.profile().mxcsr_mask.value_or(0xFFBF), 4);
    if (xstate_bv & 2) fill_random(rng, a + kXmmSpan.offset, 256);

    for (unsigned bit = 2; bit < 63; ++bit)
        if ((xstate_bv >> bit & 1) && L.has(bit)) fill_fields(rng, a + L.offset[bit], L.size[bit], bit);

    store_le(a + kXstateBvOffset, xstate_bv, 8);
    return out;
}

} // namespace xsave
