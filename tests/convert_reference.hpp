#pragma once
// The conversion engine as it was before plans (one decision per component per call), kept
// as the reference the plan-based engine must equal byte for byte. Without sidecars; a loss
// the options do not allow throws std::runtime_error.
#include "xsave/components.hpp"
#include "xsave/image.hpp"
#include "model/bytes.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace testing::reference {

struct Result {
    std::vector<uint8_t> bytes;
    uint64_t xstate_bv = 0, xcomp_bv = 0, dropped = 0;
};

inline Result convert(const xsave::AreaView& in, const xsave::CpuModel& from, const xsave::Layout& T,
                      uint64_t drop, bool keep_trailing) {
    using namespace xsave;
    const Layout& S = *in.layout;
    const uint8_t* p = in.bytes.data();
    const bool to_compacted = T.format == Format::Compacted;
    if ((in.xstate_bv & kCompactedBit) || (in.xstate_bv & ~S.mask)) throw std::runtime_error("bad XSTATE_BV");
    const bool saved = in.format == Format::Standard || in.in_use(1);
    const uint32_t mxcsr = saved ? uint32_t(load_le(p + kMxcsrOffset, 4)) : kMxcsrInit;
    uint64_t use = in.xstate_bv;
    if (to_compacted && mxcsr != kMxcsrInit) use |= 2;
    if (!to_compacted && in.format == Format::Compacted && (use & 2) && mxcsr != kMxcsrInit &&
        std::all_of(p + 160, p + 416, [](uint8_t b) { return b == 0; }))
        use &= ~uint64_t(2);
    uint64_t lossy = use & ~T.mask;
    for (unsigned b = 2; b < 63; ++b)
        if ((use & T.mask) >> b & 1 && T.size[b] != S.size[b]) lossy |= 1ull << b;
    if (lossy & ~drop) throw std::runtime_error("loss");
    use &= ~lossy;

    Result r;
    r.dropped = lossy;
    const size_t trailing = in.bytes.size() > S.total_size ? in.bytes.size() - S.total_size : 0;
    const size_t body = std::max<size_t>(T.total_size, kExtendedOffset);
    r.bytes.assign(body + (keep_trailing ? trailing : 0), 0xEE);
    uint8_t* o = r.bytes.data();
    if (use & 1) std::memcpy(o, p, 160);
    else std::memset(o, 0, 160);
    if (use & 2) std::memcpy(o + 160, p + 160, 256);
    else std::memset(o + 160, 0, 256);
    std::memcpy(o + 416, p + 416, 96);
    std::memset(o + 512, 0, 64);
    size_t pos = kExtendedOffset;
    for (unsigned i = 0; i < T.extended_count; ++i) {
        const unsigned b = T.by_offset[i];
        const size_t off = T.offset[b], n = T.size[b];
        if (off > pos) std::memset(o + pos, 0, off - pos);
        if (use >> b & 1) std::memcpy(o + off, p + S.offset[b], n);
        else std::memset(o + off, 0, n);
        pos = std::max(pos, off + n);
    }
    if (body > pos) std::memset(o + pos, 0, body - pos);
    if (!(use & 1)) store_le(o, kFcwInit, 2);
    store_le(o + kMxcsrOffset, (to_compacted && !(use & 2)) ? kMxcsrInit : mxcsr, 4);
    uint32_t mask = uint32_t(load_le(p + kMxcsrMaskOffset, 4));
    if (!saved) mask = from.profile().mxcsr_mask.value_or(mask);
    store_le(o + kMxcsrMaskOffset, mask, 4);
    r.xstate_bv = use;
    r.xcomp_bv = to_compacted ? (T.mask | kCompactedBit) : 0;
    store_le(o + kXstateBvOffset, r.xstate_bv, 8);
    store_le(o + kXcompBvOffset, r.xcomp_bv, 8);
    if (keep_trailing && trailing) std::memcpy(o + body, p + S.total_size, trailing);
    return r;
}

} // namespace testing::reference
