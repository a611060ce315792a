#pragma once
// Little-endian loads and stores for the library's hot paths (not part of the public API).
#include "xsave/le_bytes.hpp"

#include <cstdint>

namespace xsave {

// n <= 8. On a little-endian host one unaligned load or store (these sit on hot paths).
// n bytes, most significant first (QEMU's VMState fields).
inline uint64_t load_be(const uint8_t* p, unsigned n) {
    uint64_t v = 0;
    for (unsigned i = 0; i < n; ++i) v = v << 8 | p[i];
    return v;
}

} // namespace xsave
