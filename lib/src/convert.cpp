// The conversion engine: one routine that lays an input area out in a target layout the way
// XSAVE (standard) or XSAVEC (compacted) on the target would have written it.
#include "xsave/convert.hpp"

#include "xsave/components.hpp"
#include "xsave/error.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cstring>

namespace xsave {
namespace {

// Legacy region (FXSAVE format): x87 is 0..23 and 32..159, MXCSR/MXCSR_MASK 24..31,
// XMM0-15 160..415; 416..511 are reserved or software-available and no instruction writes them.
constexpr unsigned kX87Head = 24, kX87Regs = 32, kX87End = 160, kXmm = 160, kXmmEnd = 416;
constexpr unsigned kSseSidecarSize = 256 + 8;

bool all_zero(const uint8_t* p, size_t n) {
    return std::all_of(p, p + n, [](uint8_t b) { return b == 0; });
}

uint64_t supervisor_bits(const CpuModel& cpu) {
    uint64_t m = cpu.supported_xss();
    for (unsigned b = 0; b < 63; ++b)
        if (const ComponentInfo* c = component_info(b); c && c->supervisor) m |= 1ull << b;
    return m;
}

// "AMX TILECFG (bit 17) and AMX TILEDATA (bit 18)"
std::string describe(uint64_t bits) {
    std::string r;
    unsigned n = unsigned(__builtin_popcountll(bits)), i = 0;
    for (unsigned b = 0; b < 63; ++b) {
        if (!(bits >> b & 1)) continue;
        if (i) r += i + 1 == n ? " and " : ", ";
        r += fmt::format("{} (bit {})", component_name(b), b);
        ++i;
    }
    return r;
}

// "--drop 17,18 or --drop tilecfg,tiledata"
std::string drop_flag(uint64_t bits) {
    std::string nums, names;
    for (unsigned b = 0; b < 63; ++b) {
        if (!(bits >> b & 1)) continue;
        if (!nums.empty()) nums += ',', names += ',';
        nums += std::to_string(b);
        const ComponentInfo* c = component_info(b);
        names += c && !c->alias.empty() ? std::string(c->alias) : "bit" + std::to_string(b);
    }
    return "--drop " + nums + " or --drop " + names;
}

// A component's bytes as the sidecar stores them.
std::vector<uint8_t> extract(const uint8_t* p, const Layout& L, unsigned bit) {
    if (bit == 0) return {p, p + kX87End};
    if (bit == 1) {
        std::vector<uint8_t> v(p + kXmm, p + kXmmEnd);
        v.insert(v.end(), p + kMxcsrOffset, p + kMxcsrOffset + 8);
        return v;
    }
    return {p + L.offset[bit], p + L.offset[bit] + L.size[bit]};
}

size_t sidecar_size(const Layout& T, unsigned bit) {
    return bit == 0 ? kX87End : bit == 1 ? kSseSidecarSize : T.size[bit];
}

// Standard form: the mask the result holds.
// Same CPU: what the input holds (a compacted area's XCOMP_BV is the XCR0 XSAVEC ran with).
// Another CPU: its enabled XCR0, so A -> B -> A comes back at A's size.
uint64_t default_standard_mask(const AreaView& in, const CpuModel& to, bool same_cpu) {
    if (!same_cpu) return to.enabled_xcr0();
    if (in.format == Format::Compacted) return (in.xcomp_bv & ~kCompactedBit) & to.supported_xcr0();
    return in.layout->mask;
}

// Coalesces writes to neighbouring bytes into one memcpy or memset: an area with every
// component in use is copied in two or three runs instead of one call per component.
class Runs {
public:
    Runs(uint8_t* o, const uint8_t* p) : o_(o), p_(p) {}
    void copy(size_t dst, size_t src, size_t n) {
        if (kind_ == Kind::Copy && dst == d_ + n_ && src == s_ + n_) {
            n_ += n;
            return;
        }
        flush();
        kind_ = Kind::Copy, d_ = dst, s_ = src, n_ = n;
    }
    void zero(size_t dst, size_t n) {
        if (kind_ == Kind::Zero && dst == d_ + n_) {
            n_ += n;
            return;
        }
        flush();
        kind_ = Kind::Zero, d_ = dst, n_ = n;
    }
    void flush() {
        if (kind_ == Kind::Copy) std::memcpy(o_ + d_, p_ + s_, n_);
        else if (kind_ == Kind::Zero) std::memset(o_ + d_, 0, n_);
        kind_ = Kind::None;
    }

private:
    enum class Kind : uint8_t { None, Copy, Zero };
    uint8_t* o_;
    const uint8_t* p_;
    Kind kind_ = Kind::None;
    size_t d_ = 0, s_ = 0, n_ = 0;
};

const std::vector<uint8_t>& from_side(const Sidecar& s, unsigned bit) {
    for (const SidecarComponent& c : s.components)
        if (c.bit == bit) return c.bytes;
    throw Error("sidecar: internal lookup failed");   // unreachable: callers ask only for present bits
}

// Components the sidecar puts back; throws when one does not fit the target or collides.
uint64_t sidecar_bits(const Sidecar* s, const Layout& T, uint64_t use) {
    uint64_t side = 0;
    if (!s) return 0;
    for (const SidecarComponent& c : s->components) {
        if (c.bit >= 63 || !T.has(c.bit))
            throw Error(fmt::format("sidecar: {} (bit {}) has no place in the target {} layout 0x{:x}",
                                    component_name(c.bit), c.bit, format_name(T.format), T.mask));
        if (c.bytes.size() != sidecar_size(T, c.bit))
            throw Error(fmt::format("sidecar: {} (bit {}) has {} bytes; the target layout needs {}",
                                    component_name(c.bit), c.bit, c.bytes.size(), sidecar_size(T, c.bit)));
        if (use >> c.bit & 1)
            throw Error(fmt::format("sidecar: {} (bit {}) is also in use in the input; refusing to choose",
                                    component_name(c.bit), c.bit));
        side |= 1ull << c.bit;
    }
    return side;
}

// In-use components the target cannot take as they are: refused unless allowed.
uint64_t check_losses(uint64_t use, const Layout& S, const Layout& T, const CpuModel& from, const ConvertOptions& opt) {
    uint64_t lacking = use & ~T.mask;
    uint64_t mismatch = 0;
    for (uint64_t m = use & T.mask & ~uint64_t(3); m; m &= m - 1) {
        unsigned b = unsigned(__builtin_ctzll(m));
        if (T.size[b] != S.size[b]) mismatch |= 1ull << b;
    }
    if (!(lacking | mismatch)) return 0;
    const bool to_compacted = T.format == Format::Compacted;
    const uint64_t allowed = opt.drop | (opt.drop_supervisor ? supervisor_bits(from) : 0);
    if (uint64_t bad = lacking & ~allowed) {
        const uint64_t sup = bad & supervisor_bits(from);
        bool many = __builtin_popcountll(bad) > 1;
        std::string why = (!to_compacted && sup == bad) ? "standard form has no place for supervisor state"
                                                         : fmt::format("the target layout lacks {}", many ? "them" : "it");
        throw LossError(fmt::format("{} {} in use but {}; {}{} discards {}", describe(bad), many ? "are" : "is", why,
                                drop_flag(bad), sup ? " or --drop supervisor" : "", many ? "them" : "it"));
    }
    if (uint64_t bad = mismatch & ~allowed) {
        unsigned b = unsigned(__builtin_ctzll(bad));
        throw LossError(fmt::format("{} is in use but is {} bytes here and {} bytes in the target layout; {} discards it",
                                describe(1ull << b), S.size[b], T.size[b], drop_flag(bad)));
    }
    return (lacking | mismatch) & use;
}

// Non-zero bytes after the layout are data (zero padding, as KVM's 4096-byte buffers have,
// is not): refused unless the caller chose to copy or discard them.
void check_trailing(std::span<const uint8_t> b, size_t layout_size) {
    size_t nonzero = 0, first = 0;
    for (size_t i = b.size(); i-- > layout_size;)
        if (b[i]) ++nonzero, first = i;
    if (!nonzero) return;
    const size_t n = b.size() - layout_size;
    throw LossError(fmt::format("{} trailing byte{} after the {}-byte layout, {} of them non-zero (the first at offset 0x{:x}) "
                                "would be lost; --keep-trailing copies them, --drop trailing discards them",
                                n, n == 1 ? "" : "s", layout_size, nonzero, first));
}

// Writes the result into `*out` (into r.bytes when `out` is null). Every byte of the
// result is written exactly once: zeros are the initial configuration of every component
// but x87's FCW, and gaps and padding are zero as XSAVE/XSAVEC leave them in a zeroed buffer.
ConvertResult convert(const AreaView& in, const CpuModel& from, const Layout& T, uint64_t xcomp_bv,
                      const ConvertOptions& opt, std::span<uint8_t>* out) {
    const Layout& S = *in.layout;
    const uint8_t* p = in.bytes.data();
    const bool to_compacted = T.format == Format::Compacted;

    if (in.xstate_bv & kCompactedBit)
        throw Error(fmt::format("offset 0x{:x}: XSTATE_BV 0x{:x} sets bit 63", kXstateBvOffset, in.xstate_bv));
    if (uint64_t extra = in.xstate_bv & ~S.mask)
        throw Error(fmt::format("offset 0x{:x}: XSTATE_BV 0x{:x} marks {} in use, but the {} layout 0x{:x} has no place for it{}",
                                kXstateBvOffset, in.xstate_bv, describe(extra), format_name(in.format), S.mask,
                                in.format == Format::Standard ? " (--xcr0 gives the mask the area was saved with)" : ""));

    // MXCSR: a compacted area with SSE not in use holds no MXCSR, which is then 0x1F80.
    const bool src_mxcsr_saved = in.format == Format::Standard || in.in_use(1);
    const uint32_t mxcsr = src_mxcsr_saved ? uint32_t(load_le(p + kMxcsrOffset, 4)) : kMxcsrInit;

    uint64_t use = in.xstate_bv;
    // XSAVEC (this CPU, and the SDM's "MXCSR != 0x1F80" rule) sets XSTATE_BV[1] to carry MXCSR.
    if (to_compacted && mxcsr != kMxcsrInit) use |= 2;
    // The reverse: XSTATE_BV[1] set with XMM0-15 all zero only carried MXCSR. Standard form
    // carries MXCSR regardless, and XSAVE reports such XMM state as initial.
    if (!to_compacted && in.format == Format::Compacted && (use & 2) && mxcsr != kMxcsrInit &&
        all_zero(p + kXmm, kXmmEnd - kXmm))
        use &= ~uint64_t(2);

    const uint64_t side = sidecar_bits(opt.sidecar_in, T, use);
    ConvertResult r;
    r.layout = &T;
    r.dropped = check_losses(use, S, T, from, opt);
    if (r.dropped && opt.sidecar_out)
        for (unsigned b = 0; b < 63; ++b)
            if (r.dropped >> b & 1) opt.sidecar_out->components.push_back({b, component_name(b), extract(p, S, b)});
    use &= ~r.dropped;

    r.trailing = in.bytes.size() > S.total_size ? in.bytes.size() - S.total_size : 0;
    if (r.trailing && !opt.keep_trailing && !opt.drop_trailing) check_trailing(in.bytes, S.total_size);
    const size_t body = std::max<size_t>(T.total_size, kExtendedOffset);
    r.size = body + (opt.keep_trailing ? r.trailing : 0);
    if (out && out->size() < r.size)
        throw Error(fmt::format("output buffer of {} bytes; the {} result needs {}", out->size(), format_name(T.format), r.size));
    if (!out) r.bytes.resize(r.size);
    uint8_t* o = out ? out->data() : r.bytes.data();

    // Bulk first, as runs; then the fields patched over them (FCW, MXCSR, the header words).
    // Fixed-size copies of the legacy region and header compile to a few vector moves.
    if (use & 1) std::memcpy(o, p, kX87End);
    else if (!(side & 1)) std::memset(o, 0, kX87End);
    if (use & 2 && !(side & 2)) std::memcpy(o + kXmm, p + kXmm, kXmmEnd - kXmm);
    else if (!(side & 2)) std::memset(o + kXmm, 0, kXmmEnd - kXmm);
    std::memcpy(o + kXmmEnd, p + kXmmEnd, kHeaderOffset - kXmmEnd);
    std::memset(o + kHeaderOffset, 0, kExtendedOffset - kHeaderOffset);
    Runs w(o, p);
    size_t pos = kExtendedOffset;
    for (unsigned i = 0; i < T.extended_count; ++i) {
        const unsigned b = T.by_offset[i];
        const size_t off = T.offset[b], n = T.size[b];
        if (off > pos) w.zero(pos, off - pos);
        if (use >> b & 1) w.copy(off, S.offset[b], n);
        else if (!(side >> b & 1)) w.zero(off, n);
        pos = std::max(pos, off + n);
    }
    if (body > pos) w.zero(pos, body - pos);
    w.flush();

    for (uint64_t m = side & ~uint64_t(3); m; m &= m - 1) {
        unsigned b = unsigned(__builtin_ctzll(m));
        std::memcpy(o + T.offset[b], from_side(*opt.sidecar_in, b).data(), T.size[b]);
    }
    if (side & 1) std::memcpy(o, from_side(*opt.sidecar_in, 0).data(), kX87End);
    else if (!(use & 1)) store_le(o, kFcwInit, 2);
    if (side & 2) {
        const auto& v = from_side(*opt.sidecar_in, 1);
        std::memcpy(o + kXmm, v.data(), 256);
        std::memcpy(o + kMxcsrOffset, v.data() + 256, 8);
    } else {
        // A compacted result without SSE in use has MXCSR = 0x1F80 (the bit would be set otherwise).
        store_le(o + kMxcsrOffset, (to_compacted && !(use & 2)) ? kMxcsrInit : mxcsr, 4);
        // MXCSR_MASK is not state: as stored, unless the input never had it written.
        uint32_t mask = src_mxcsr_saved ? uint32_t(load_le(p + kMxcsrMaskOffset, 4))
                                        : from.profile().mxcsr_mask.value_or(uint32_t(load_le(p + kMxcsrMaskOffset, 4)));
        store_le(o + kMxcsrMaskOffset, mask, 4);
    }
    r.xstate_bv = use | side;
    r.xcomp_bv = to_compacted ? (xcomp_bv | kCompactedBit) : 0;
    r.restored = side;
    store_le(o + kXstateBvOffset, r.xstate_bv, 8);
    store_le(o + kXcompBvOffset, r.xcomp_bv, 8);
    if (opt.keep_trailing && r.trailing) std::memcpy(o + body, p + S.total_size, r.trailing);
    return r;
}

ConvertResult compacted(const AreaView& in, const CpuModel& cpu, uint64_t xcomp_bv, const ConvertOptions& opt,
                        std::span<uint8_t>* out) {
    xcomp_bv &= ~kCompactedBit;
    return convert(in, cpu, cpu.compacted(xcomp_bv), xcomp_bv, opt, out);
}

ConvertResult standard(const AreaView& in, const CpuModel& cpu, const ConvertOptions& opt, std::span<uint8_t>* out) {
    uint64_t mask = opt.xcr0 ? *opt.xcr0 : default_standard_mask(in, cpu, true);
    return convert(in, cpu, cpu.standard(mask), 0, opt, out);
}

ConvertResult relaid(const AreaView& in, const CpuModel& from, const CpuModel& to, Format target,
                     const ConvertOptions& opt, std::span<uint8_t>* out) {
    if (target == Format::Standard) {
        uint64_t mask = opt.xcr0 ? *opt.xcr0 : default_standard_mask(in, to, false);
        return convert(in, from, to.standard(mask), 0, opt, out);
    }
    uint64_t xcomp = opt.xcomp_bv ? *opt.xcomp_bv : compute_xcomp_bv(in, to, {});
    xcomp &= ~kCompactedBit;
    return convert(in, from, to.compacted(xcomp), xcomp, opt, out);
}

} // namespace

ConvertResult to_compacted(const AreaView& in, const CpuModel& cpu, uint64_t xcomp_bv, const ConvertOptions& opt) {
    return compacted(in, cpu, xcomp_bv, opt, nullptr);
}
ConvertResult to_standard(const AreaView& in, const CpuModel& cpu, const ConvertOptions& opt) {
    return standard(in, cpu, opt, nullptr);
}
ConvertResult relayout(const AreaView& in, const CpuModel& from, const CpuModel& to, Format target,
                       const ConvertOptions& opt) {
    return relaid(in, from, to, target, opt, nullptr);
}

ConvertResult to_compacted_into(const AreaView& in, const CpuModel& cpu, uint64_t xcomp_bv, std::span<uint8_t> out,
                                const ConvertOptions& opt) {
    return compacted(in, cpu, xcomp_bv, opt, &out);
}
ConvertResult to_standard_into(const AreaView& in, const CpuModel& cpu, std::span<uint8_t> out, const ConvertOptions& opt) {
    return standard(in, cpu, opt, &out);
}
ConvertResult relayout_into(const AreaView& in, const CpuModel& from, const CpuModel& to, Format target,
                            std::span<uint8_t> out, const ConvertOptions& opt) {
    return relaid(in, from, to, target, opt, &out);
}

} // namespace xsave
