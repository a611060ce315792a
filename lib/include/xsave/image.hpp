#pragma once
// An XSAVE area read from bytes: its format, header and layout.
#include "xsave/layout.hpp"

#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace xsave {

constexpr unsigned kXstateBvOffset = 512;
constexpr unsigned kXcompBvOffset = 520;

struct ReadOptions {
    // Standard form: the component mask the area was saved with (its XCR0). Default: the
    // profile's enabled XCR0.
    std::optional<uint64_t> xcr0;
    // A 32-bit process's area: FIP/FDP are offsets with FCS/FDS selectors, XMM0-7 only.
    bool legacy32 = false;
};
// The default options, as an object: a default argument of `{}` is a temporary that GCC stores
// on every call of an inlined inspect_area whose general path reads it.
inline constexpr ReadOptions kNoReadOptions{};

// An area in the caller's buffer, as read_image would read it, without a copy.
struct AreaView {
    std::span<const uint8_t> bytes;   // the whole input, trailing bytes included
    Format format = Format::Standard;
    uint64_t xstate_bv = 0;
    uint64_t xcomp_bv = 0;
    const Layout* layout = nullptr;   // owned by the CpuModel
    size_t trailing() const { return bytes.size() - layout->total_size; }
    bool in_use(unsigned bit) const { return xstate_bv >> bit & 1; }
};

struct Image {
    std::vector<uint8_t> bytes;       // the whole input, trailing bytes included
    Format format = Format::Standard;
    uint64_t xstate_bv = 0;
    uint64_t xcomp_bv = 0;
    const Layout* layout = nullptr;   // owned by the CpuModel
    std::vector<std::string> notes;   // how the layout was chosen, when not plainly
    bool legacy32 = false;            // see ReadOptions::legacy32
    size_t trailing() const { return bytes.size() - layout->total_size; }
    bool in_use(unsigned bit) const { return xstate_bv >> bit & 1; }
    AreaView view() const { return {bytes, format, xstate_bv, xcomp_bv, layout}; }
    operator AreaView() const { return view(); }   // an Image goes wherever a view does
};

namespace detail {
// The address of a local of the caller's general path, computed there: GCC otherwise computes
// it once before the caller's loop and holds it in a callee-saved register, one fewer for the
// loop's own pointers (the output pointer then reloaded from the stack before every call).
template <class T>
[[gnu::always_inline]] inline const T* stack_address(const T& v) {
#if defined(__x86_64__) || defined(__i386__)
    const T* p;
    asm volatile("lea %1, %0" : "=r"(p) : "m"(v));
    return p;
#else
    return &v;
#endif
}
// inspect_area's lookups, notes and errors (model/image.cpp).
AreaView inspect_area_general(std::span<const uint8_t> bytes, const CpuModel& cpu, const ReadOptions& opt,
                              std::vector<std::string>* notes);
} // namespace detail

// The checks of read_image over the caller's buffer, which must outlive the view; `notes`
// (when given) receives how the layout was chosen. No allocation unless a note is made.
// Inline: an area of the layout the model last chose for its form is checked here, with no
// lookup or call (on a per-call conversion of 576 bytes those cost as much as the copy).
inline AreaView inspect_area(std::span<const uint8_t> bytes, const CpuModel& cpu, const ReadOptions& opt = kNoReadOptions,
                             std::vector<std::string>* notes = nullptr) {
    if (bytes.size() >= kXcompBvOffset + 8) [[likely]] {
        uint64_t xstate_bv, xcomp_bv;
        std::memcpy(&xstate_bv, bytes.data() + kXstateBvOffset, 8);
        std::memcpy(&xcomp_bv, bytes.data() + kXcompBvOffset, 8);
        const Format f = (xcomp_bv >> 63) ? Format::Compacted : Format::Standard;
        // The layout's mask as CpuModel::standard()/compacted() keys it.
        const uint64_t mask = f == Format::Compacted ? xcomp_bv & ~(1ull << 63)
                                                     : ((opt.xcr0 ? *opt.xcr0 : cpu.enabled_xcr0()) | 3) & ~(1ull << 63);
        // Both hints, loaded before the header arrives: indexed by the form, the load would wait
        // for it, and the layout's fields after that (each load in that chain delays when the
        // caller's copies can retire; at 576 bytes two loads more cost 0.6 ns).
        const Layout* hs = cpu.inspected(Format::Standard);
        const Layout* hc = cpu.inspected(Format::Compacted);
        const Layout* L = f == Format::Compacted ? hc : hs;
        // In-use state outside a standard layout is the general path's error.
        if (L && L->mask == mask && bytes.size() >= L->total_size &&
            (f == Format::Compacted || !(xstate_bv & ~mask & ~(1ull << 63)))) [[likely]]
            return {bytes, f, xstate_bv, xcomp_bv, L};
    }
    const ReadOptions o = opt;   // a copy: the caller's options, whose address no call takes, stay in registers
    return detail::inspect_area_general(bytes, cpu, *detail::stack_address(o), notes);
}
// XSTATE_BV and XCOMP_BV as the header holds them, without judging them; zeros for an area
// shorter than its header.
struct HeaderWords {
    uint64_t xstate_bv = 0;
    uint64_t xcomp_bv = 0;
};
HeaderWords header_words(std::span<const uint8_t> area);

// Reads the header and picks the layout. Throws Error for an area too short for its
// header or layout (naming the missing component and offsets) or naming components
// the profile cannot place.
Image read_image(std::vector<uint8_t> bytes, const CpuModel& cpu, const ReadOptions& opt = {});

constexpr size_t kKvmXsaveSize = 4096;   // struct kvm_xsave (KVM_GET_XSAVE/KVM_SET_XSAVE)

// What follows a layout of `layout_size` bytes in a buffer (KVM pads to 4096, WHPX to 844).
struct Trailing {
    size_t total = 0;          // bytes after the layout
    size_t zero = 0;           // of those, bytes that are zero
    size_t nonzero = 0;        // total - zero
    std::optional<size_t> first_nonzero;   // buffer offset of the first non-zero trailing byte
    bool is_padding() const { return total > 0 && nonzero == 0; }
};
Trailing trailing_bytes(std::span<const uint8_t> bytes, size_t layout_size);

} // namespace xsave
