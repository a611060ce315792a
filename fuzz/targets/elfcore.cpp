// The ELF core reader, then each thread's area read the way `dump` reads it: with the core's
// own NT_X86_XSAVE_LAYOUT when present, else the built-in model whose layout fits.
#include "../fuzz_common.hpp"

#include "xsave/decode.hpp"
#include "xsave/image.hpp"
#include "xsave/input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    xsave::CoreFile core;
    try {
        core = xsave::read_elf_core({data, size});
    } catch (const xsave::Error&) {
        return 0;
    }
    std::unique_ptr<xsave::CpuModel> kernel;
    for (auto& t : core.threads) {
        uint64_t xcr0 = t.xcr0() & ~xsave::kCompactedBit;
        try {
            if (!core.kernel_layout.empty() && !kernel) {
                xsave::Profile p;
                p.name = "core";
                p.xcr0 = xcr0;
                p.set({0xD, 0, uint32_t(xcr0), 0, 0, uint32_t(xcr0 >> 32)});
                p.set({0xD, 1, 0, 0, 0, 0});
                for (const auto& e : core.kernel_layout)
                    if (e.bit >= 2 && e.bit < 63) p.set({0xD, e.bit, e.size, e.offset, e.flags, 0});
                kernel = std::make_unique<xsave::CpuModel>(std::move(p));
            }
            const xsave::CpuModel& cpu = kernel ? *kernel : fuzz::model(uint8_t(t.xstate.size()));
            xsave::ReadOptions ro;
            ro.xcr0 = xcr0;
            xsave::Image img = xsave::read_image(t.xstate, cpu, ro);
            (void)xsave::to_json(xsave::decode(img, cpu)).dump();
        } catch (const xsave::Error&) {
        }
    }
    return 0;
}
