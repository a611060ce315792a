// Signal-frame fpstate reader and the trailing-bytes scan.
#include "../fuzz_common.hpp"

#include "xsave/image.hpp"
#include "xsave/input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::span<const uint8_t> bytes{data, size};
    (void)xsave::is_sigframe(bytes);
    try {
        xsave::SigFrame f = xsave::read_sigframe(bytes);
        if (f.area.size() != f.xstate_size || f.xstate_size > size) __builtin_trap();
    } catch (const xsave::Error&) {
    }
    for (size_t layout : {size_t(0), size_t(576), size / 2, size, size + 1}) {
        auto t = xsave::trailing_bytes(bytes, layout);
        if (t.zero + t.nonzero != t.total) __builtin_trap();
    }
    return 0;
}
