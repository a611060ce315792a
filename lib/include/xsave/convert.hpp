#pragma once
// Moving register state between layouts: standard <-> compacted, and one CPU's offsets to
// another's, exactly as XSAVE/XSAVEC on the target would have written it. In-use state is
// never dropped unless the options allow it.
#include "xsave/image.hpp"
#include "xsave/layout.hpp"
#include "xsave/learnt.hpp"

#include <atomic>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace xsave {

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

// How to choose XCOMP_BV for a compacted result (--xcomp-bv).
enum class XcompMode : uint8_t {
    Xsavec,    // enabled XCR0 (intersected with xcr0 when given): XSAVEC with RFBM = XCR0
    Xsaves,    // enabled XCR0 | IA32_XSS
    Minimal,   // components in use (SSE too when MXCSR != 0x1F80)
    Mshv,      // supported user bits & the guest's XCR0 (xcr0, else the profile's enabled XCR0)
    Explicit,  // `mask`
};
struct XcompRequest {
    XcompMode mode = XcompMode::Xsavec;
    uint64_t mask = 0;                 // Explicit
    std::optional<uint64_t> xcr0;      // --xcr0
};
// Parses "xsavec", "xsaves", "minimal", "mshv" or a number. Throws Error.
XcompRequest parse_xcomp_mode(std::string_view text);
// XCOMP_BV with bit 63 set. `in` gives the in-use components for Minimal.
uint64_t compute_xcomp_bv(const AreaView& in, const CpuModel& cpu, const XcompRequest& req);

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

// Standard or compacted input -> compacted form with `xcomp_bv` (bit 63 implied) for `cpu`.
ConvertResult to_compacted(const AreaView& in, const CpuModel& cpu, uint64_t xcomp_bv, const ConvertOptions& opt = {});
// Compacted or standard input -> standard form for `cpu`.
ConvertResult to_standard(const AreaView& in, const CpuModel& cpu, const ConvertOptions& opt = {});
// `in` was read with `from`; lay it out for `to` in `target` form.
ConvertResult relayout(const AreaView& in, const CpuModel& from, const CpuModel& to, Format target,
                       const ConvertOptions& opt = {});

// The options' defaults, as the hot paths' default argument: one object, not one built per call.
inline constexpr ConvertOptions kNoConvertOptions{};

// The same conversions into the caller's buffer, for hot paths: no allocation (unless a
// sidecar receives dropped state), every byte of out[0, result.size) written. `out`
// needs the target layout's total_size (at least 576), plus the trailing bytes with
// keep_trailing; a smaller buffer is an Error naming the size needed. `out` must not overlap
// the input. (Inline: defined below.)
ConvertResult to_compacted_into(const AreaView& in, const CpuModel& cpu, uint64_t xcomp_bv, std::span<uint8_t> out,
                                const ConvertOptions& opt = kNoConvertOptions);
ConvertResult to_standard_into(const AreaView& in, const CpuModel& cpu, std::span<uint8_t> out,
                               const ConvertOptions& opt = kNoConvertOptions);
ConvertResult relayout_into(const AreaView& in, const CpuModel& from, const CpuModel& to, Format target,
                            std::span<uint8_t> out, const ConvertOptions& opt = kNoConvertOptions);

namespace detail {
// What the *_into forms' short path (ops/convert_short.cpp) gives: the plan it ran, whose
// fields are the result's. Returned as a pointer in a register: a ConvertResult returned from
// a call is ten words stored and read back (see Converter::run).
struct PlanOutcome {
    const Layout* layout = nullptr;   // of the result
    uint64_t xstate_bv = 0, xcomp_bv = 0;
    uint64_t lossy = 0;               // in-use components the target cannot take as they are
    uint32_t body = 0;                // bytes of the result
};
// The result written by the short path, or null when it did not take the call: a layout or
// plan to look up, a loss to refuse, a sidecar, trailing bytes, a small output.
const PlanOutcome* compacted_short(const AreaView& in, const CpuModel& cpu, uint64_t xcomp_bv, std::span<uint8_t> out,
                                   const ConvertOptions& opt);
const PlanOutcome* standard_short(const AreaView& in, const CpuModel& cpu, std::span<uint8_t> out, const ConvertOptions& opt);
const PlanOutcome* relayout_short(const AreaView& in, const CpuModel& from, const CpuModel& to, Format target,
                                  std::span<uint8_t> out, const ConvertOptions& opt);
// A result written into the caller's buffer: a ConvertResult without `bytes` (empty there).
// Trivially copyable, so that the caller's ConvertResult is built from it in registers: the
// general path returning a ConvertResult would make the caller keep its result in memory on
// the short path too (twelve words stored per call).
struct IntoResult {
    size_t size = 0;
    const Layout* layout = nullptr;
    uint64_t xstate_bv = 0, xcomp_bv = 0, dropped = 0, restored = 0;
    size_t trailing = 0;
};
// The calls the short path does not take.
IntoResult compacted_general(const AreaView& in, const CpuModel& cpu, uint64_t xcomp_bv, std::span<uint8_t> out,
                             const ConvertOptions& opt);
IntoResult standard_general(const AreaView& in, const CpuModel& cpu, std::span<uint8_t> out, const ConvertOptions& opt);
IntoResult relayout_general(const AreaView& in, const CpuModel& from, const CpuModel& to, Format target,
                            std::span<uint8_t> out, const ConvertOptions& opt);

inline IntoResult outcome(const PlanOutcome& q) {
    return {.size = q.body, .layout = q.layout, .xstate_bv = q.xstate_bv, .xcomp_bv = q.xcomp_bv, .dropped = q.lossy};
}
inline ConvertResult result(const IntoResult& g) {
    ConvertResult r;
    r.size = g.size, r.layout = g.layout, r.xstate_bv = g.xstate_bv, r.xcomp_bv = g.xcomp_bv, r.dropped = g.dropped;
    r.restored = g.restored, r.trailing = g.trailing;
    return r;
}
} // namespace detail

inline ConvertResult to_compacted_into(const AreaView& in, const CpuModel& cpu, uint64_t xcomp_bv, std::span<uint8_t> out,
                                       const ConvertOptions& opt) {
    const detail::PlanOutcome* q = detail::compacted_short(in, cpu, xcomp_bv, out, opt);
    return detail::result(q ? detail::outcome(*q) : detail::compacted_general(in, cpu, xcomp_bv, out, opt));
}
inline ConvertResult to_standard_into(const AreaView& in, const CpuModel& cpu, std::span<uint8_t> out,
                                      const ConvertOptions& opt) {
    const detail::PlanOutcome* q = detail::standard_short(in, cpu, out, opt);
    return detail::result(q ? detail::outcome(*q) : detail::standard_general(in, cpu, out, opt));
}
inline ConvertResult relayout_into(const AreaView& in, const CpuModel& from, const CpuModel& to, Format target,
                                   std::span<uint8_t> out, const ConvertOptions& opt) {
    const detail::PlanOutcome* q = detail::relayout_short(in, from, to, target, out, opt);
    return detail::result(q ? detail::outcome(*q) : detail::relayout_general(in, from, to, target, out, opt));
}

// One conversion fixed for many buffers of one shape (a VMM migrating every vCPU, a pipeline
// over many cores): made once, then run() per buffer does only what depends on the bytes
// (header checks, MXCSR, the loss rule) and the cached plan's copies; no inspect_area, no
// layout lookups. The result is byte for byte what the *_into forms write.
struct ConvertPlan;
struct ShortPath;

// One buffer of Converter::run_many: `in` and `out` as run() takes them; the rest is set.
struct ConvertItem {
    std::span<const uint8_t> in;
    std::span<uint8_t> out;
    size_t size = 0;          // bytes of the result
    uint64_t xstate_bv = 0;   // of the result (its XCOMP_BV is the target layout's)
    uint64_t dropped = 0;     // in-use components discarded as allowed
};

class Converter {
public:
    // `source` is a layout of `from`, `target` one of `to` (from their standard()/compacted()):
    // an Error otherwise. `opt` is copied; its sidecar pointers must outlive the converter.
    Converter(const CpuModel& from, const Layout& source, const CpuModel& to, const Layout& target,
              const ConvertOptions& opt = {});
    // `in` holds an area of the source layout (its header must say so) and any trailing bytes
    // `opt` allows. Throws Error or LossError as relayout_into does.
    ConvertResult run(std::span<const uint8_t> in, std::span<uint8_t> out) const;
    // run() for each item in turn, in one call: what run() would give each (a VMM converting
    // every vCPU at once). The per-call work is done once; each buffer costs its checks and
    // copies. Throws at the first item run() would refuse, its message prefixed "buffer N: "
    // (N counted from `first_number`, for a caller that passes its buffers in parts); the items
    // before it are done, the rest untouched.
    void run_many(std::span<ConvertItem> items, size_t first_number = 0) const;
    const Layout& source() const { return *source_; }
    const Layout& target() const { return *target_; }

private:
    // The short path's answer, in two registers: the result's XSTATE_BV and what it dropped, or
    // kNotTaken in xstate_bv (no XSTATE_BV has bit 63) for run_general to take the buffer.
    struct Quick {
        uint64_t xstate_bv, dropped;
    };
    static constexpr uint64_t kNotTaken = 1ull << 63;
    // The buffers as four registers (a struct of two spans would go through memory).
    using QuickFn = Quick (*)(const Converter&, const uint8_t* in, size_t in_size, uint8_t* out, size_t out_size);
    friend struct ConverterKernels;   // ops/convert_short.cpp

    detail::IntoResult run_general(std::span<const uint8_t> in, std::span<uint8_t> out) const;
    ShortPath short_path() const;
    QuickFn quick_;           // the short path at this CPU's vector width, for these forms
    const CpuModel* from_;
    const CpuModel* to_;
    const Layout* source_;
    const Layout* target_;
    ConvertOptions opt_;
    // What the short path checks and returns, as values (no layout to read through).
    size_t source_size_;
    uint64_t source_mask_;
    uint64_t source_xcomp_;   // XCOMP_BV of a source area: 0 (standard) or mask | bit 63
    uint64_t droppable_;      // in-use components run() may drop on its short path
    uint64_t target_xcomp_;   // XCOMP_BV of every result
    size_t body_;             // bytes of every result of the short path
    // The plan this converter used last (owned by the target model's cache): checked first,
    // with no lookup through the model.
    mutable detail::Learnt<const ConvertPlan*> plan_{nullptr};
    // An in-use set whose plan is `whole` (ops/convert_plan.hpp), or kNotTaken: a buffer with
    // it is converted with no plan to read (the plan depends only on the two layouts and it).
    mutable detail::Learnt<uint64_t> whole_use_{kNotTaken};
};

// Inline, so that a caller reading a few fields of the result has them built in registers: a
// ConvertResult returned from a call is ten words stored and read back, which cost up to a
// fifth of a 576-byte conversion here (bench/RESULTS.md, stop 24).
inline ConvertResult Converter::run(std::span<const uint8_t> in, std::span<uint8_t> out) const {
    const Quick q = quick_(*this, in.data(), in.size(), out.data(), out.size());
    return detail::result((q.xstate_bv & kNotTaken) ? run_general(in, out)
                                                    : detail::IntoResult{.size = body_, .layout = target_, .xstate_bv = q.xstate_bv,
                                                                         .xcomp_bv = target_xcomp_, .dropped = q.dropped});
}

} // namespace xsave
