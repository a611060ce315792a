// ELF cores through the one input path every command uses (xsave::open): the reader, then each
// thread's area read with the core's NT_X86_XSAVE_LAYOUT or the size-matched built-in model.
#include "../fuzz_common.hpp"

#include "xsave/decode.hpp"
#include "xsave/open.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    xsave::OpenOptions opt;
    opt.input = "core";
    try {
        for (const auto& a : xsave::open({data, size}, opt).areas) (void)xsave::to_json(xsave::decode(a.image, *a.cpu)).dump();
    } catch (const xsave::Error&) {
    }
    return 0;
}
