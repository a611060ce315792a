// The QEMU migration stream reader, then each vCPU rebuilt into an XSAVE area with QEMU's
// built-in offsets and decoded, the way `dump` reads a stream.
#include "../fuzz_common.hpp"

#include "xsave/decode.hpp"
#include "xsave/image.hpp"
#include "xsave/qemu.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    xsave::QemuStream s;
    try {
        s = xsave::read_qemu_stream({data, size});
    } catch (const xsave::Error&) {
        return 0;
    }
    for (const auto& c : s.cpus) {
        try {
            uint64_t mask = (c.xcr0 | 3) & ~xsave::kCompactedBit;
            xsave::CpuModel cpu(xsave::qemu_default_profile(mask));
            const xsave::Layout& L = cpu.standard(*cpu.profile().xcr0);
            auto area = xsave::qemu_xsave_area(c, L, c.xstate_bv);
            uint64_t used = xsave::qemu_components_in_use(area, L);
            area = xsave::qemu_xsave_area(c, L, c.xstate_bv | used);
            xsave::ReadOptions ro;
            ro.xcr0 = *cpu.profile().xcr0;
            xsave::Image img = xsave::read_image(area, cpu, ro);
            (void)xsave::to_json(xsave::decode(img, cpu)).dump();
        } catch (const xsave::Error&) {
        }
    }
    return 0;
}
