// CRIU image reader (magic words, entry, protobuf fields) and the write-back: an image whose
// fields hold full arrays comes back byte for byte from its own area.
#include "../fuzz_common.hpp"

#include "xsave/criu.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::span<const uint8_t> bytes{data, size};
    (void)xsave::criu::is_criu_image(bytes);
    try {
        (void)xsave::criu::read_cpuinfo(bytes, "fuzz");
    } catch (const xsave::Error&) {
    }
    try {
        auto t = xsave::criu::read_core(bytes, "fuzz");
        if (!t.has_fpregs) return 0;
        bool full = true;
        for (size_t i = 0; i < t.fields.size(); ++i)
            if (t.fields[i].present && t.fields[i].values.size() != xsave::criu::fp_fields()[i].count) full = false;
        static const xsave::CpuModel cpu(xsave::builtin_profile("skylake-sp"));   // places x87..PKRU
        if ((cpu.supported_xcr0() & t.mask()) != t.mask()) return 0;
        const auto& L = cpu.standard(t.mask());
        auto area = xsave::criu::to_area(t, L);
        auto back = xsave::criu::write_area(t, area, L);
        if (full && back != t.image) __builtin_trap();
        (void)xsave::criu::read_core(back, "fuzz-back");
    } catch (const xsave::Error&) {
    }
    return 0;
}
