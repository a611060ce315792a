#pragma once
// What a conversion is told (ConvertOptions, a sidecar) and what it gives (ConvertResult).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xsave {

struct Layout;

// Components set aside by a conversion (--sidecar), to be put back by a later one.
// Legacy components: x87 is bytes 0..159 of the area (MXCSR there is not used); SSE is
// XMM0-15 (256 bytes) followed by MXCSR and MXCSR_MASK (8 bytes).
struct SidecarComponent {
    unsigned bit = 0;
    std::string name;
    std::vector<uint8_t> bytes;
};
struct Sidecar {
    std::vector<SidecarComponent> components;
};
// {"components":[{"bit":N,"name":"...","bytes":"hex"}]}
std::string sidecar_to_json(const Sidecar& s);
Sidecar sidecar_from_json(std::string_view text);   // throws Error naming the field

struct ConvertOptions {
    uint64_t drop = 0;                 // in-use components that may be discarded (--drop BITS)
    bool drop_supervisor = false;      // --drop supervisor
    bool keep_trailing = false;        // copy bytes after the input's layout to the output
    bool drop_trailing = false;        // discard them; without either, non-zero ones are a LossError
    // Standard result: the components it holds. Default: for a compacted input its XCOMP_BV
    // user bits (what XSAVE with RFBM = that mask writes), for a standard input the target
    // CPU's enabled XCR0.
    std::optional<uint64_t> xcr0;
    // relayout() to compacted form: XCOMP_BV. Default: XcompMode::Xsavec on the target CPU.
    std::optional<uint64_t> xcomp_bv;
    const Sidecar* sidecar_in = nullptr;   // components to put back into the result
    Sidecar* sidecar_out = nullptr;        // receives every in-use component dropped
};

struct ConvertResult {
    std::vector<uint8_t> bytes;             // empty from the *_into forms
    size_t size = 0;                        // bytes of the result
    const Layout* layout = nullptr;         // of the result (owned by the target CpuModel)
    uint64_t xstate_bv = 0, xcomp_bv = 0;   // of the result
    uint64_t dropped = 0;                   // in-use components discarded as allowed
    uint64_t restored = 0;                  // components taken from the sidecar
    size_t trailing = 0;                    // trailing input bytes (copied only with keep_trailing)
};

// The options' defaults, as the hot paths' default argument: one object, not one built per call.
inline constexpr ConvertOptions kNoConvertOptions{};

} // namespace xsave
