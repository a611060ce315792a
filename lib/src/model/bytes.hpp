#pragma once
// Little-endian loads and stores for the library's hot paths (not part of the public API).
#include <bit>
#include <cstdint>
#include <cstring>

namespace xsave {

// n <= 8. On a little-endian host one unaligned load or store (these sit on hot paths).
// n bytes, most significant first (QEMU's VMState fields).
inline uint64_t load_be(const uint8_t* p, unsigned n) {
    uint64_t v = 0;
    for (unsigned i = 0; i < n; ++i) v = v << 8 | p[i];
    return v;
}

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
