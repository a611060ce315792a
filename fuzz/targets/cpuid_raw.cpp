// CPUID profile parser: `cpuid -r` output, then the model and layouts built from the profile.
// Input: [cpu index][text...]
#include "../fuzz_common.hpp"

#include "xsave/import.hpp"
#include "xsave/profile.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    fuzz::Reader r{data, size};
    xsave::ImportOptions opt;
    opt.cpu = r.byte() % 4;
    opt.name = "fuzz";
    auto text = r.text();
    try {
        xsave::Profile p = xsave::import_cpuid_raw(text, opt);
        fuzz::exercise_profile(p);
    } catch (const xsave::Error&) {
    }
    return 0;
}
