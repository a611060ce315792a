// The JSON state reader (assemble, the `dump --json` contract) and the sidecar reader.
#include "../fuzz_common.hpp"

#include "xsave/assemble.hpp"
#include "xsave/convert.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto text = fuzz::as_text(data, size);
    try {
        auto area = xsave::assemble(text);
        if (area.size() > xsave::kMaxAssembleSize) __builtin_trap();
    } catch (const xsave::Error&) {
    }
    try {
        (void)xsave::sidecar_from_json(text);
    } catch (const xsave::Error&) {
    }
    return 0;
}
