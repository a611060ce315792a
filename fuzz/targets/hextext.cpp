// The hex-text parser (mails, xxd, hexdump -C, od) and input detection.
#include "../fuzz_common.hpp"

#include "xsave/input.hpp"
#include "xsave/open.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    (void)xsave::detect_input_format({data, size});
    try {
        xsave::HexText h = xsave::parse_hex_text(fuzz::as_text(data, size));
        (void)xsave::hex_style_name(h.style);
        if (h.bytes.size() > xsave::kMaxHexBytes) __builtin_trap();
    } catch (const xsave::Error&) {
    }
    return 0;
}
