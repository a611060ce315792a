// The conversion engine: lays an input area out in a target layout the way XSAVE (standard)
// or XSAVEC (compacted) on the target would have written it, by running a cached plan.
#include "xsave/convert.hpp"
#include "model/bytes.hpp"

#include "ops/convert_exec.hpp"
#include "ops/convert_plan.hpp"

#include "xsave/components.hpp"
#include "xsave/error.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cstring>
#include <memory>

namespace xsave {
namespace {

constexpr unsigned kSseSidecarSize = 256 + 8;

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

// "--drop tilecfg,tiledata"
std::string drop_flag(uint64_t bits) { return "--drop " + mask_aliases(bits); }

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

// In-use components the options allow a conversion from `from` to drop.
uint64_t allowed_drops(const ConvertOptions& opt, const CpuModel& from) {
    return opt.drop | (opt.drop_supervisor ? supervisor_bits(from) : 0);
}

// Refuses the plan's losses (`lossy`: in-use components the target lacks, or holds at another
// size) that `allowed` does not cover, naming them and the flag that allows them.
[[noreturn]] void refuse_losses(uint64_t lossy, uint64_t allowed, const Layout& S, const Layout& T, const CpuModel& from) {
    const uint64_t lacking = lossy & ~T.mask, mismatch = lossy & T.mask;
    const bool to_compacted = T.format == Format::Compacted;
    if (uint64_t bad = lacking & ~allowed) {
        const uint64_t sup = bad & supervisor_bits(from);
        bool many = __builtin_popcountll(bad) > 1;
        std::string why = (!to_compacted && sup == bad) ? "standard form has no place for supervisor state"
                                                         : fmt::format("the target layout lacks {}", many ? "them" : "it");
        throw LossError(fmt::format("{} {} in use but {}; {}{} discards {}", describe(bad), many ? "are" : "is", why,
                                drop_flag(bad), sup ? " or --drop supervisor" : "", many ? "them" : "it"));
    }
    const uint64_t bad = mismatch & ~allowed;
    const unsigned b = unsigned(__builtin_ctzll(bad));
    throw LossError(fmt::format("{} is in use but is {} bytes here and {} bytes in the target layout; {} discards it",
                                describe(1ull << b), S.size[b], T.size[b], drop_flag(bad)));
}

// Non-zero bytes after the layout are data (zero padding, as KVM's 4096-byte buffers have,
// is not): refused unless the caller chose to copy or discard them.
[[gnu::noinline]] void check_trailing(std::span<const uint8_t> b, size_t layout_size) {
    size_t nonzero = 0, first = 0;
    for (size_t i = b.size(); i-- > layout_size;)
        if (b[i]) ++nonzero, first = i;
    if (!nonzero) return;
    const size_t n = b.size() - layout_size;
    throw LossError(fmt::format("{} trailing byte{} after the {}-byte layout, {} of them non-zero (the first at offset 0x{:x}) "
                                "would be lost; --keep-trailing copies them, --drop trailing discards them",
                                n, n == 1 ? "" : "s", layout_size, nonzero, first));
}

// In-use components the plan drops: refused (naming them) unless the options allow it;
// the sidecar receives them.
[[gnu::noinline]] void take_losses(const AreaView& in, const CpuModel& from, const ConvertOptions& opt,
                                   const ConvertPlan& plan, ConvertResult& r) {
    const Layout& S = *in.layout;
    if (const uint64_t allowed = allowed_drops(opt, from); plan.lossy & ~allowed)
        refuse_losses(plan.lossy, allowed, S, *plan.key.target, from);
    r.dropped = plan.lossy;
    if (opt.sidecar_out)
        for (uint64_t m = r.dropped; m; m &= m - 1) {
            unsigned b = unsigned(__builtin_ctzll(m));
            opt.sidecar_out->components.push_back({b, component_name(b), extract(in.bytes.data(), S, b)});
        }
}

// The sidecar's components over the plan's zeros (SSE with its MXCSR and MXCSR_MASK).
[[gnu::noinline]] void put_back(const Sidecar& s, const Layout& T, uint64_t side, uint8_t* o) {
    for (uint64_t m = side & ~uint64_t(3); m; m &= m - 1) {
        unsigned b = unsigned(__builtin_ctzll(m));
        std::memcpy(o + T.offset[b], from_side(s, b).data(), T.size[b]);
    }
    if (side & 1) std::memcpy(o, from_side(s, 0).data(), kX87End);
    if (side & 2) {
        const auto& v = from_side(s, 1);
        std::memcpy(o + kXmm, v.data(), 256);
        std::memcpy(o + kMxcsrOffset, v.data() + 256, 8);
    }
}

[[gnu::noinline, gnu::cold]] void small_output(const std::span<uint8_t>& out, const Layout& T, size_t need) {
    throw Error(fmt::format("output buffer of {} bytes; the {} result needs {}", out.size(), format_name(T.format), need));
}

// The result's body as the plan decides it, over `o`: its runs, a sidecar's components, then
// what write_fixed stores over them.
[[gnu::always_inline]] inline void write_body(const ConvertPlan& plan, const uint8_t* p, uint8_t* o, const ByteFacts& f,
                                              const CpuModel& from, const Sidecar* sidecar_in) {
    plan.write(plan.runs.data(), plan.runs.data() + plan.count, o, p);
    if (plan.key.side) [[unlikely]] put_back(*sidecar_in, *plan.key.target, plan.key.side, o);
    write_fixed(plan, p, o, f, from);
}

// What the plan alone says of the result.
[[gnu::always_inline]] inline ConvertResult result_of(const ConvertPlan& plan) {
    ConvertResult r;
    r.layout = plan.key.target;
    r.size = plan.body;
    r.xstate_bv = plan.xstate_bv;
    r.xcomp_bv = plan.xcomp_bv;
    r.restored = plan.key.side;
    return r;
}

// Writes the result into `*out` (into r.bytes when `out` is null) by running the plan. What
// is rare (losses, a sidecar, trailing bytes) is out of line.
[[gnu::always_inline]] inline ConvertResult execute(const AreaView& in, const CpuModel& from, const ConvertOptions& opt,
                                                    std::span<uint8_t>* out, const ByteFacts& f, const ConvertPlan& plan) {
    const Layout& S = *in.layout;
    const uint8_t* p = in.bytes.data();
    ConvertResult r = result_of(plan);
    if (plan.lossy) [[unlikely]] take_losses(in, from, opt, plan, r);
    if (in.bytes.size() > S.total_size) [[unlikely]] {
        r.trailing = in.bytes.size() - S.total_size;
        if (opt.keep_trailing) r.size += r.trailing;
        else if (!opt.drop_trailing) check_trailing(in.bytes, S.total_size);
    }
    if (!out) r.bytes.resize(r.size);
    else if (out->size() < r.size) [[unlikely]] small_output(*out, *r.layout, r.size);
    uint8_t* o = out ? out->data() : r.bytes.data();
    write_body(plan, p, o, f, from, opt.sidecar_in);
    if (r.trailing && opt.keep_trailing) [[unlikely]] std::memcpy(o + plan.body, p + S.total_size, r.trailing);
    return r;
}

// A cached plan the *_into forms' short path will find next time.
inline void offer_to_calls(PlanCache& cache, const ConvertPlan& plan) {
    auto& slot = cache.by_target[PlanCache::target_slot(plan.key.source, plan.target_word, plan.key.use)];
    if (slot.load(std::memory_order_relaxed) != &plan) slot.store(&plan, std::memory_order_release);
}

// The plan for a sidecar, or one that is not the last one used: from the cache, or built for
// this call alone (a source layout no cache may key on, or a full cache).
using PlanSlot = std::atomic<const ConvertPlan*>;

[[gnu::noinline]] ConvertResult convert_by_lookup(const AreaView& in, const CpuModel& from, const CpuModel& to,
                                                  const Layout& T, const ConvertOptions& opt, std::span<uint8_t>* out,
                                                  const ByteFacts f, PlanSlot* hint) {
    const Layout& S = *in.layout;
    const PlanKey key{S.id.value, &T, f.use, opt.sidecar_in ? sidecar_bits(opt.sidecar_in, T, f.use) : 0};
    if (const ConvertPlan* plan = find_plan(to.plans(), S, key)) {
        if (hint && !key.side) hint->store(plan, std::memory_order_release);
        else if (!key.side) offer_to_calls(to.plans(), *plan);
        return execute(in, from, opt, out, f, *plan);
    }
    auto own = std::make_unique<ConvertPlan>();
    build_plan(S, key, *own);
    return execute(in, from, opt, out, f, *own);
}

[[gnu::noinline, gnu::cold]] void bad_xstate_bv(const AreaView& in) {
    const Layout& S = *in.layout;
    if (in.xstate_bv & kCompactedBit)
        throw Error(fmt::format("offset 0x{:x}: XSTATE_BV 0x{:x} sets bit 63", kXstateBvOffset, in.xstate_bv));
    throw Error(fmt::format("offset 0x{:x}: XSTATE_BV 0x{:x} marks {} in use, but the {} layout 0x{:x} has no place for it{}",
                            kXstateBvOffset, in.xstate_bv, describe(in.xstate_bv & ~S.mask), format_name(in.format), S.mask,
                            in.format == Format::Standard ? " (--xcr0 gives the mask the area was saved with)" : ""));
}

// Lays `in` out in `T` (a layout of `to`) as XSAVE (standard) or XSAVEC (compacted) on the
// target would have written it. Decisions that depend on the bytes are made here; the rest
// are the plan's. Inline in each entry point: the hot path keeps its values in registers.
// `hint`: a Converter's own last plan, checked instead of the model's.
[[gnu::always_inline]] inline ConvertResult convert(const AreaView& in, const CpuModel& from, const CpuModel& to,
                                                    const Layout& T, const ConvertOptions& opt, std::span<uint8_t>* out,
                                                    PlanSlot* hint = nullptr) {
    const Layout& S = *in.layout;
    // A layout's mask never has bit 63.
    if (in.xstate_bv & ~S.mask) [[unlikely]] bad_xstate_bv(in);
    const ByteFacts f = read_facts(in.format, in.xstate_bv, in.bytes.data(), T.format == Format::Compacted);
    // The plan last used, without hashing the key: a VMM converts buffers of one shape in a row.
    if (!opt.sidecar_in) [[likely]]
        if (const ConvertPlan* plan = (hint ? *hint : to.plans().last).load(std::memory_order_acquire);
            plan && plan->key == PlanKey{S.id.value, &T, f.use, 0}) [[likely]] {
            if (!hint) offer_to_calls(to.plans(), *plan);
            return execute(in, from, opt, out, f, *plan);
        }
    return convert_by_lookup(in, from, to, T, opt, out, f, hint);
}

ConvertResult compacted(const AreaView& in, const CpuModel& cpu, uint64_t xcomp_bv, const ConvertOptions& opt,
                        std::span<uint8_t>* out) {
    return convert(in, cpu, cpu, cpu.compacted(xcomp_bv), opt, out);
}

ConvertResult standard(const AreaView& in, const CpuModel& cpu, const ConvertOptions& opt, std::span<uint8_t>* out) {
    return convert(in, cpu, cpu, cpu.standard(detail::same_cpu_standard_mask(in, cpu, opt)), opt, out);
}

ConvertResult relaid(const AreaView& in, const CpuModel& from, const CpuModel& to, Format target,
                     const ConvertOptions& opt, std::span<uint8_t>* out) {
    return convert(in, from, to, layout_of_word(to, detail::relayout_word(in, to, target, opt)), opt, out);
}

// A result written into the caller's buffer, as the inline callers take it (`bytes` is empty).
detail::IntoResult into_result(const ConvertResult& r) {
    return {r.size, r.layout, r.xstate_bv, r.xcomp_bv, r.dropped, r.restored, r.trailing};
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

namespace detail {

IntoResult general_into(const CallArgs& a) {
    const AreaView in{{a.p, a.n}, a.format, a.xstate_bv, a.xcomp_bv, a.layout};
    std::span<uint8_t> out{a.out, a.out_size};
    return into_result(convert(in, *a.from, *a.to, layout_of_word(*a.to, a.target_word), *a.opt, &out));
}
uint64_t relayout_compacted_word(std::span<const uint8_t> bytes, Format format, uint64_t xstate_bv, uint64_t xcomp_bv,
                                 const Layout* layout, const CpuModel& to) {
    return compute_xcomp_bv(AreaView{bytes, format, xstate_bv, xcomp_bv, layout}, to, {}) | kCompactedBit;
}

} // namespace detail

namespace {
void check_owner(const CpuModel& cpu, const Layout& L, const char* which) {
    if (&cpu.layout(L.format, L.mask) != &L)
        throw Error(fmt::format("converter: the {} layout ({} 0x{:x}) is not one of its CPU model's", which,
                                format_name(L.format), L.mask));
}
} // namespace

Converter::Converter(const CpuModel& from, const Layout& source, const CpuModel& to, const Layout& target,
                     const ConvertOptions& opt)
    : quick_(nullptr), from_(&from), to_(&to), source_(&source), target_(&target), opt_(opt),
      source_size_(source.total_size), source_mask_(source.mask), source_xcomp_(xcomp_of(source)),
      droppable_(opt.sidecar_out ? 0 : allowed_drops(opt, from)),
      target_xcomp_(xcomp_of(target)), body_(body_of(target)) {
    quick_ = ConverterKernels::quick_for(*this);
    check_owner(from, source, "source");
    check_owner(to, target, "target");
}

detail::IntoResult Converter::run_general(std::span<const uint8_t> in, std::span<uint8_t> out) const {
    const Layout& S = *source_;
    if (in.size() < S.total_size) [[unlikely]]
        throw Error(fmt::format("{} bytes: the converter's {} source layout 0x{:x} needs {}", in.size(),
                                format_name(S.format), S.mask, S.total_size));
    AreaView v{in, S.format, load_le(&in[kXstateBvOffset], 8), load_le(&in[kXcompBvOffset], 8), &S};
    const bool compacted = v.xcomp_bv & kCompactedBit;
    if (compacted != (S.format == Format::Compacted) || (compacted && (v.xcomp_bv & ~kCompactedBit) != S.mask))
        [[unlikely]] throw Error(fmt::format("offset 0x{:x}: XCOMP_BV 0x{:x} does not match the converter's {} source layout 0x{:x}",
                                             kXcompBvOffset, v.xcomp_bv, format_name(S.format), S.mask));
    ConvertResult r = convert(v, *from_, *to_, *target_, opt_, &out, &plan_.v);
    if (const ConvertPlan* plan = plan_.v.load(std::memory_order_acquire); plan && plan->whole())
        whole_use_.v.store(plan->key.use, std::memory_order_relaxed);
    return into_result(r);
}

} // namespace xsave
