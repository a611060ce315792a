// CPUID profile parser: format detection and whichever importer it picks, then the model and layouts built from the profile.
// Input: [cpu index][text...]
#include "../fuzz_common.hpp"

#include "xsave/import.hpp"
#include "xsave/profile.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    return fuzz::fuzz_importer(xsave::import_profile, data, size);
}
