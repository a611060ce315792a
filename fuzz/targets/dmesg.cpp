// CPUID profile parser: dmesg CPUID[..] lines, then the model and layouts built from the profile.
// Input: [cpu index][text...]
#include "../fuzz_common.hpp"

#include "xsave/import.hpp"
#include "xsave/profile.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    return fuzz::fuzz_importer(xsave::import_dmesg, data, size);
}
