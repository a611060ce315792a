#pragma once
// Moving register state between layouts: standard <-> compacted, and one CPU's offsets to
// another's, exactly as XSAVE/XSAVEC on the target would have written it. In-use state is
// never dropped unless the options allow it.
#include "xsave/convert_into.hpp"
#include "xsave/convert_types.hpp"
#include "xsave/image.hpp"
#include "xsave/layout.hpp"
#include "xsave/learnt.hpp"

#include <atomic>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace xsave {

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

// Standard or compacted input -> compacted form with `xcomp_bv` (bit 63 implied) for `cpu`.
ConvertResult to_compacted(const AreaView& in, const CpuModel& cpu, uint64_t xcomp_bv, const ConvertOptions& opt = {});
// Compacted or standard input -> standard form for `cpu`.
ConvertResult to_standard(const AreaView& in, const CpuModel& cpu, const ConvertOptions& opt = {});
// `in` was read with `from`; lay it out for `to` in `target` form.
ConvertResult relayout(const AreaView& in, const CpuModel& from, const CpuModel& to, Format target,
                       const ConvertOptions& opt = {});

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
