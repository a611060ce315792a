#pragma once
// Little-endian loads and stores of n <= 8 bytes: on a little-endian host one unaligned load
// or store (they sit on the inline conversion paths).
#include <bit>
#include <cstdint>
#include <cstring>

namespace xsave {

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

} // namespace xsave
