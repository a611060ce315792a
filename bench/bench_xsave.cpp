// xsavetool benchmarks (Google Benchmark). Every library case runs over the five buffer shapes
// of issue 7, next to three baselines measured in the same process:
//   memcpy/<bytes>                   copying the same number of bytes
//   cpuid_per_call/<op>/<bytes>      the MSHV helper's approach (QEMU xsave_helper.c,
//                                    compact_xsave_area / decompact_xsave_area): the CPUID
//                                    instruction for every component on every conversion
//   hardware/<op>/<bytes>            XRSTOR followed by XSAVEC (compact) or XSAVE (standard) on
//                                    this CPU, for the host's own layout only
// Library cases: compact, standard, convert (raw bytes -> inspect_area -> *_into a caller's
// buffer; convert is standard on one CPU -> standard on another), compact_alloc /
// standard_alloc (read_image + the allocating forms), decode (read_image + decode + to_json),
// validate (check_area, XRSTOR rules).
// Each library case reports allocs_per_op (global operator new calls per operation).
#include "xsave/components.hpp"
#include "xsave/convert.hpp"
#include "xsave/decode.hpp"
#include "xsave/image.hpp"
#include "xsave/import.hpp"
#include "xsave/profile.hpp"
#include "xsave/random_state.hpp"
#include "xsave/validate.hpp"

#include "ops/plan_runs.hpp"   // the vector width the conversions copy with, for the results

#include <benchmark/benchmark.h>
#include <cpuid.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

// ---------------------------------------------------------------- allocation counter

static std::atomic<uint64_t> g_allocs{0};
void* operator new(size_t n) {
    g_allocs.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void* operator new[](size_t n) { return operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }

namespace {

using xsave::CpuModel;
using xsave::Format;
using xsave::kCompactedBit;

// ---------------------------------------------------------------- shapes

struct Shape {
    const char* label;        // the size the issue names
    const char* profile;      // "host" or a built-in profile
    uint64_t mask;            // XCR0 / RFBM of the area
    const char* to_profile;   // the other CPU for `convert`
};

// 576: x87+SSE; 832: + AVX (the WHPX shape); 2432: this CPU with AVX-512 (AMD layout);
// 2440: AMD AVX-512 + PKRU (Zen 4); 2696: Intel AVX-512 + MPX + PKRU (Skylake-SP); 11008:
// Sapphire Rapids with AMX (standard form; its compacted form is 10752 bytes with XCOMP_BV = XCR0).
constexpr Shape kShapes[] = {
    {"576", "host", 0x3, "skylake-sp"},
    {"832", "host", 0x7, "skylake-sp"},
    {"2432", "host", 0xe7, "skylake-sp"},
    {"2440", "zen4-genoa", 0x2e7, "icelake-sp"},
    {"2696", "skylake-sp", 0x2ff, "icelake-sp"},
    {"11008", "sapphire-rapids", 0x602e7, "granite-rapids"},
};

// Every buffer a case reads or writes starts a page, as a VMM's XSAVE buffers do (QEMU and
// KVM allocate them page-aligned). Heap placement otherwise decides how often a store and a
// later load alias in the low 12 bits: up to 3x on memcpy of 576 bytes on this CPU.
template <class T>
struct PageAlloc {
    using value_type = T;
    PageAlloc() = default;
    template <class U>
    PageAlloc(const PageAlloc<U>&) {}
    T* allocate(size_t n) {
        size_t bytes = (n * sizeof(T) + 4095) / 4096 * 4096;
        if (void* q = std::aligned_alloc(4096, bytes ? bytes : 4096)) return static_cast<T*>(q);
        throw std::bad_alloc();
    }
    void deallocate(T* q, size_t) { std::free(q); }
    bool operator==(const PageAlloc&) const = default;
};
using Buf = std::vector<uint8_t, PageAlloc<uint8_t>>;

struct Prepared {
    const Shape* shape;
    std::unique_ptr<CpuModel> cpu, to;
    bool host = false;
    Buf standard;    // all components of mask in use, random register values
    Buf compacted;   // the same state, XCOMP_BV = mask | bit 63
    // CPUID.(0xD, i) as the baseline's "guest CPUID model" answers it for this profile.
    std::array<std::array<uint32_t, 4>, 64> leaf0d{};
};

std::vector<std::unique_ptr<Prepared>>& prepared() {
    static std::vector<std::unique_ptr<Prepared>> v;
    return v;
}

std::unique_ptr<Prepared> prepare(const Shape& s) {
    auto p = std::make_unique<Prepared>();
    p->shape = &s;
    p->host = std::string(s.profile) == "host";
    p->cpu = std::make_unique<CpuModel>(p->host ? xsave::host_profile() : xsave::builtin_profile(s.profile));
    p->to = std::make_unique<CpuModel>(xsave::builtin_profile(s.to_profile));
    xsave::RandomStateOptions ro;
    ro.xstate_bv = s.mask;
    std::vector<uint8_t> standard = xsave::random_standard_state(*p->cpu, s.mask, 7, ro);
    std::vector<uint8_t> compacted =
        xsave::to_compacted(xsave::read_image(standard, *p->cpu, {s.mask}), *p->cpu, s.mask | kCompactedBit).bytes;
    p->standard.assign(standard.begin(), standard.end());
    p->compacted.assign(compacted.begin(), compacted.end());
    for (unsigned i = 0; i < 64; ++i)
        if (const auto* l = p->cpu->profile().find(0xD, i)) p->leaf0d[i] = {l->eax, l->ebx, l->ecx, l->edx};
    return p;
}

// ---------------------------------------------------------------- the per-call-CPUID baseline

// The CPUID instruction, every time (on this machine the hypervisor intercepts it).
inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4]) { __cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]); }

// The helper asks CPUID.(0xD, i) for each component. For the host's own shapes the answer of
// the instruction is used; for another CPU's shape the instruction is still executed (that is
// the cost measured) and the answer is that CPU's leaf, as QEMU's guest CPUID model gives it.
inline void query(const Prepared& p, uint32_t sub, uint32_t r[4]) {
    cpuid(0xD, sub, r);
    if (!p.host) std::memcpy(r, p.leaf0d[sub].data(), 16);
}

constexpr size_t kExt = 576;   // legacy region + header
inline size_t align64(size_t v) { return (v + 63) & ~size_t(63); }

// compact_xsave_area(): standard `src` -> compacted `dst`, XCOMP_BV = host XCR0 & guest XCR0.
size_t cpuid_compact(const Prepared& p, const uint8_t* src, uint8_t* dst, size_t dstlen, uint64_t guest_xcr0) {
    std::memset(dst, 0, dstlen);
    std::memcpy(dst, src, kExt);
    uint32_t r[4];
    query(p, 0, r);
    uint64_t mask = (uint64_t(r[3]) << 32 | r[0]) & guest_xcr0;
    uint64_t xcomp = mask | kCompactedBit;
    std::memcpy(dst + xsave::kXcompBvOffset, &xcomp, 8);
    size_t off = kExt;
    for (unsigned i = 2; i < 63; ++i) {
        if (!(mask >> i & 1)) continue;
        query(p, i, r);
        uint32_t size = r[0], src_off = r[1];
        if (!size) continue;
        if (r[2] & 2) off = align64(off);
        if (guest_xcr0 >> i & 1) std::memcpy(dst + off, src + src_off, size);
        off += size;
    }
    return off;
}

// decompact_xsave_area(): compacted `src` -> standard `dst` (QEMU's xsave_buf).
int cpuid_decompact(const Prepared& p, const uint8_t* src, size_t srclen, uint8_t* dst, size_t dstlen, uint64_t guest_xcr0) {
    uint64_t xstate_bv, xcomp_bv;
    std::memcpy(&xstate_bv, src + xsave::kXstateBvOffset, 8);
    std::memcpy(&xcomp_bv, src + xsave::kXcompBvOffset, 8);
    if (!(xcomp_bv >> 63)) std::abort();
    uint64_t layout = xcomp_bv & ~kCompactedBit;
    std::memset(dst, 0, dstlen);
    std::memcpy(dst, src, kExt);
    uint64_t masked = xstate_bv & guest_xcr0, cleared = xcomp_bv & ~kCompactedBit;
    std::memcpy(dst + xsave::kXstateBvOffset, &masked, 8);
    std::memcpy(dst + xsave::kXcompBvOffset, &cleared, 8);
    size_t off = kExt;
    uint32_t r[4];
    for (unsigned i = 2; i < 63; ++i) {
        if (!(layout >> i & 1)) continue;
        query(p, i, r);
        uint32_t size = r[0], dst_off = r[1];
        bool a64 = r[2] & 2;
        if (!size) {
            cpuid(0xD, i, r);   // host_cpuid(): the component is only skipped over
            size = r[0];
            if (!size) return -22;
            if (r[2] & 2) off = align64(off);
            if (off + size > srclen) return -7;
            off += size;
            continue;
        }
        if (a64) off = align64(off);
        if (off + size > srclen) return -7;
        if (size_t(dst_off) + size > dstlen) return -7;
        if (xstate_bv >> i & 1) std::memcpy(dst + dst_off, src + off, size);
        off += size;
    }
    return 0;
}

// ---------------------------------------------------------------- the hardware baseline

struct alignas(4096) AreaBuf {
    uint8_t b[16384];
};

#define XSAVE_CLOBBERS                                                                                          \
    "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", \
        "xmm12", "xmm13", "xmm14", "xmm15", "st", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)", "st(6)", "st(7)"

inline void hw_xrstor_xsavec(const uint8_t* src, uint8_t* dst, uint64_t rfbm) {
    uint32_t lo = uint32_t(rfbm), hi = uint32_t(rfbm >> 32);
    asm volatile("xrstor64 (%0)\n\txsavec64 (%1)" : : "r"(src), "r"(dst), "a"(lo), "d"(hi) : XSAVE_CLOBBERS);
}
inline void hw_xrstor_xsave(const uint8_t* src, uint8_t* dst, uint64_t rfbm) {
    uint32_t lo = uint32_t(rfbm), hi = uint32_t(rfbm >> 32);
    asm volatile("xrstor64 (%0)\n\txsave64 (%1)" : : "r"(src), "r"(dst), "a"(lo), "d"(hi) : XSAVE_CLOBBERS);
}
inline void hw_xsave(uint8_t* dst, uint64_t rfbm) {
    uint32_t lo = uint32_t(rfbm), hi = uint32_t(rfbm >> 32);
    asm volatile("xsave64 (%0)" : : "r"(dst), "a"(lo), "d"(hi) : "memory");
}

// ---------------------------------------------------------------- cases

void set_counters(benchmark::State& st, size_t bytes, uint64_t allocs0) {
    st.SetBytesProcessed(int64_t(st.iterations()) * int64_t(bytes));
    st.counters["bytes"] = double(bytes);
    if (allocs0 != ~0ull)
        st.counters["allocs_per_op"] = double(g_allocs.load() - allocs0) / double(st.iterations());
}

void bm_memcpy(benchmark::State& st, const Prepared* p) {
    size_t n = p->standard.size();
    Buf dst(16384);
    for (auto _ : st) {
        std::memcpy(dst.data(), p->standard.data(), n);
        benchmark::DoNotOptimize(dst.data());
        benchmark::ClobberMemory();
    }
    set_counters(st, n, ~0ull);
}

// compact/standard/convert: raw bytes in the caller's buffer -> inspect_area -> *_into the
// caller's output buffer (the allocation-free path). *_alloc: read_image + the allocating form.
// The models and read options are held as a caller holds them (references and locals, as floor
// and the Converter cases hold theirs): read through `p` they were reloaded after every
// ClobberMemory, one load more ahead of every check (0.3-0.5 ns a call at 576 bytes).
using Out = Buf;
Out out_buffer() { return Out(16384); }
// read_image takes its bytes by value: the copy it made of a std::vector, made here.
std::vector<uint8_t> as_vector(const Buf& b) { return {b.begin(), b.end()}; }

void bm_compact_body(benchmark::State& st, const Prepared* p) {
    uint64_t xcomp = p->shape->mask | kCompactedBit;
    const CpuModel& cpu = *p->cpu;
    const xsave::ReadOptions ro{p->shape->mask};
    Out out = out_buffer();
    uint64_t a0 = g_allocs.load();
    for (auto _ : st) {
        xsave::AreaView v = xsave::inspect_area(p->standard, cpu, ro);
        auto r = xsave::to_compacted_into(v, cpu, xcomp, out);
        benchmark::DoNotOptimize(r.size);
        benchmark::ClobberMemory();
    }
    set_counters(st, p->standard.size(), a0);
}
void bm_compact_alloc_body(benchmark::State& st, const Prepared* p) {
    uint64_t xcomp = p->shape->mask | kCompactedBit;
    uint64_t a0 = g_allocs.load();
    for (auto _ : st) {
        xsave::Image img = xsave::read_image(as_vector(p->standard), *p->cpu, {p->shape->mask});
        auto r = xsave::to_compacted(img, *p->cpu, xcomp);
        benchmark::DoNotOptimize(r.bytes.data());
    }
    set_counters(st, p->standard.size(), a0);
}
void bm_standard_body(benchmark::State& st, const Prepared* p) {
    xsave::ConvertOptions opt;
    opt.xcr0 = p->shape->mask;
    const CpuModel& cpu = *p->cpu;
    Out out = out_buffer();
    uint64_t a0 = g_allocs.load();
    for (auto _ : st) {
        xsave::AreaView v = xsave::inspect_area(p->compacted, cpu);
        auto r = xsave::to_standard_into(v, cpu, out, opt);
        benchmark::DoNotOptimize(r.size);
        benchmark::ClobberMemory();
    }
    set_counters(st, p->standard.size(), a0);
}
void bm_standard_alloc_body(benchmark::State& st, const Prepared* p) {
    xsave::ConvertOptions opt;
    opt.xcr0 = p->shape->mask;
    uint64_t a0 = g_allocs.load();
    for (auto _ : st) {
        xsave::Image img = xsave::read_image(as_vector(p->compacted), *p->cpu);
        auto r = xsave::to_standard(img, *p->cpu, opt);
        benchmark::DoNotOptimize(r.bytes.data());
    }
    set_counters(st, p->standard.size(), a0);
}
void bm_convert_body(benchmark::State& st, const Prepared* p) {
    // Components the other CPU lacks (MPX from Skylake-SP to Ice Lake-SP) are dropped, as a
    // migration has to.
    xsave::ConvertOptions opt;
    opt.xcr0 = p->shape->mask & p->to->supported_xcr0();
    opt.drop = p->shape->mask & ~p->to->supported_xcr0();
    const CpuModel &from = *p->cpu, &to = *p->to;
    const xsave::ReadOptions ro{p->shape->mask};
    Out out = out_buffer();
    uint64_t a0 = g_allocs.load();
    for (auto _ : st) {
        xsave::AreaView v = xsave::inspect_area(p->standard, from, ro);
        auto r = xsave::relayout_into(v, from, to, Format::Standard, out, opt);
        benchmark::DoNotOptimize(r.size);
        benchmark::ClobberMemory();
    }
    set_counters(st, p->standard.size(), a0);
}
// *_plan: the same conversions through a Converter made once (what a VMM converting every
// vCPU of one shape does): no inspect_area, no layout lookups per buffer.
void run_converter(benchmark::State& st, const Prepared* p, const xsave::Converter& c, const Buf& in) {
    Out out = out_buffer();
    uint64_t a0 = g_allocs.load();
    for (auto _ : st) {
        // The size, as a caller takes it: DoNotOptimize on a field of the whole result would
        // make it store all ten words (Converter::run is inline for this).
        const size_t n = c.run(in, out).size;
        benchmark::DoNotOptimize(n);
        benchmark::ClobberMemory();
    }
    set_counters(st, p->standard.size(), a0);
}
// *_many: Converter::run_many over 16 items on the same buffers (as memcpy/<bytes> copies one
// buffer over and over); scripts/bench reports ns per buffer (counter items_per_op).
constexpr size_t kManyItems = 16;
void run_many_case(benchmark::State& st, const Prepared* p, const xsave::Converter& c, const Buf& in) {
    Out out = out_buffer();
    std::vector<xsave::ConvertItem> items(kManyItems, xsave::ConvertItem{in, out});
    uint64_t a0 = g_allocs.load();
    for (auto _ : st) {
        c.run_many(items);
        benchmark::DoNotOptimize(items.data());
        benchmark::ClobberMemory();
    }
    set_counters(st, p->standard.size(), a0);
    st.SetBytesProcessed(int64_t(st.iterations() * kManyItems * p->standard.size()));
    st.counters["items_per_op"] = double(kManyItems);
}

// The Converter of each conversion of a shape, and its input. convert drops the components the
// other CPU lacks (MPX from Skylake-SP to Ice Lake-SP), as a migration has to.
enum class Op { Compact, Standard, Convert };
std::pair<xsave::Converter, const Buf*> converter_for(Op op, const Prepared* p) {
    const xsave::CpuModel& cpu = *p->cpu;
    const uint64_t mask = p->shape->mask;
    if (op == Op::Compact) return {xsave::Converter(cpu, cpu.standard(mask), cpu, cpu.compacted(mask)), &p->standard};
    if (op == Op::Standard) return {xsave::Converter(cpu, cpu.compacted(mask), cpu, cpu.standard(mask)), &p->compacted};
    xsave::ConvertOptions opt;
    opt.drop = mask & ~p->to->supported_xcr0();
    const xsave::Layout& T = p->to->standard(mask & p->to->supported_xcr0());
    return {xsave::Converter(cpu, cpu.standard(mask), *p->to, T, opt), &p->standard};
}
template <Op op>
void bm_plan_body(benchmark::State& st, const Prepared* p) {
    auto [c, in] = converter_for(op, p);
    run_converter(st, p, c, *in);
}
template <Op op>
void bm_many_body(benchmark::State& st, const Prepared* p) {
    auto [c, in] = converter_for(op, p);
    run_many_case(st, p, c, *in);
}
void bm_decode_body(benchmark::State& st, const Prepared* p) {
    uint64_t a0 = g_allocs.load();
    for (auto _ : st) {
        xsave::Image img = xsave::read_image(as_vector(p->standard), *p->cpu, {p->shape->mask});
        auto j = xsave::to_json(xsave::decode(img, *p->cpu));
        benchmark::DoNotOptimize(j);
    }
    set_counters(st, p->standard.size(), a0);
}
void bm_validate_body(benchmark::State& st, const Prepared* p) {
    xsave::CheckOptions co;
    co.xcr0 = p->shape->mask;
    uint64_t a0 = g_allocs.load();
    for (auto _ : st) {
        auto r = xsave::check_area(p->standard, *p->cpu, co);
        benchmark::DoNotOptimize(r.violations.data());
    }
    set_counters(st, p->standard.size(), a0);
}

void bm_cpuid_compact(benchmark::State& st, const Prepared* p) {
    auto dst = std::make_unique<AreaBuf>();
    for (auto _ : st) {
        size_t n = cpuid_compact(*p, p->standard.data(), dst->b, p->compacted.size(), p->shape->mask);
        benchmark::DoNotOptimize(n);
        benchmark::ClobberMemory();
    }
    set_counters(st, p->standard.size(), ~0ull);
}
void bm_cpuid_standard(benchmark::State& st, const Prepared* p) {
    auto dst = std::make_unique<AreaBuf>();
    for (auto _ : st) {
        int rc = cpuid_decompact(*p, p->compacted.data(), p->compacted.size(), dst->b, p->standard.size(), p->shape->mask);
        benchmark::DoNotOptimize(rc);
        benchmark::ClobberMemory();
    }
    set_counters(st, p->standard.size(), ~0ull);
}
// Between two CPUs the helper's way is decompact with one CPUID model, then compact with the
// other: both ask CPUID per component.
void bm_cpuid_convert(benchmark::State& st, const Prepared* p) {
    auto mid = std::make_unique<AreaBuf>();
    auto dst = std::make_unique<AreaBuf>();
    for (auto _ : st) {
        int rc = cpuid_decompact(*p, p->compacted.data(), p->compacted.size(), mid->b, p->standard.size(), p->shape->mask);
        size_t n = cpuid_compact(*p, mid->b, dst->b, p->compacted.size(), p->shape->mask);
        benchmark::DoNotOptimize(rc);
        benchmark::DoNotOptimize(n);
        benchmark::ClobberMemory();
    }
    set_counters(st, p->standard.size(), ~0ull);
}

// floor/<bytes>: the least that a conversion checking its input can do, written out by hand
// for the host's shapes, where standard and compacted offsets agree when every component is in
// use: check XSTATE_BV and XCOMP_BV, copy the legacy region and the components with inline
// 64-byte moves, store the header words and MXCSR, return the size and XSTATE_BV (in two
// registers, as Converter::run gives them to an inline caller). No plan, no options,
// no other shape: a bound on what compact_plan can reach, not a conversion to use.
#if defined(__x86_64__)
typedef uint8_t Zmm __attribute__((vector_size(64), aligned(1), may_alias));
[[gnu::target("avx512f"), gnu::always_inline]] inline void zmm_copy(uint8_t* d, const uint8_t* s, size_t n) {
    for (size_t i = 0; i < n; i += 64) *reinterpret_cast<Zmm*>(d + i) = *reinterpret_cast<const Zmm*>(s + i);
}
struct FloorResult {
    size_t size;
    uint64_t xstate_bv;
};
[[gnu::target("avx512f"), gnu::noinline]] FloorResult floor_compact(std::span<const uint8_t> in, std::span<uint8_t> out,
                                                                    const xsave::Layout& L) {
    const uint8_t* s = in.data();
    uint8_t* d = out.data();
    uint64_t xstate, xcomp;
    std::memcpy(&xstate, s + 512, 8);
    std::memcpy(&xcomp, s + 520, 8);
    if (in.size() < L.total_size || out.size() < L.total_size || xcomp != 0 || (xstate & ~L.mask) || xstate != L.mask)
        throw std::runtime_error("floor: not this shape");
    uint32_t mxcsr;
    std::memcpy(&mxcsr, s + 24, 4);
    zmm_copy(d, s, 512);
    zmm_copy(d + 576, s + 576, L.total_size - 576);   // a multiple of 64 for the host shapes
    const uint64_t words[2] = {xstate | (mxcsr != 0x1F80 ? 2 : 0), L.mask | kCompactedBit};
    *reinterpret_cast<Zmm*>(d + 512) = Zmm{};
    std::memcpy(d + 512, words, 16);
    return {L.total_size, words[0]};
}
void bm_floor(benchmark::State& st, const Prepared* p) {
    const xsave::Layout& L = p->cpu->standard(p->shape->mask);
    Out out = out_buffer();
    for (auto _ : st) {
        const size_t n = floor_compact(p->standard, out, L).size;
        benchmark::DoNotOptimize(n);
        benchmark::ClobberMemory();
    }
    set_counters(st, p->standard.size(), ~0ull);
}
#endif

void bm_hw_compact(benchmark::State& st, const Prepared* p) {
    auto save = std::make_unique<AreaBuf>(), src = std::make_unique<AreaBuf>(), dst = std::make_unique<AreaBuf>();
    std::memcpy(src->b, p->standard.data(), p->standard.size());
    hw_xsave(save->b, ~0ull);   // this thread's own state, put back afterwards
    for (auto _ : st) {
        hw_xrstor_xsavec(src->b, dst->b, p->shape->mask);
        benchmark::ClobberMemory();
    }
    hw_xrstor_xsave(save->b, dst->b, ~0ull);
    set_counters(st, p->standard.size(), ~0ull);
}
void bm_hw_standard(benchmark::State& st, const Prepared* p) {
    auto save = std::make_unique<AreaBuf>(), src = std::make_unique<AreaBuf>(), dst = std::make_unique<AreaBuf>();
    std::memcpy(src->b, p->compacted.data(), p->compacted.size());
    hw_xsave(save->b, ~0ull);
    for (auto _ : st) {
        hw_xrstor_xsave(src->b, dst->b, p->shape->mask);
        benchmark::ClobberMemory();
    }
    hw_xrstor_xsave(save->b, dst->b, ~0ull);
    set_counters(st, p->standard.size(), ~0ull);
}


// A case whose set-up can fail (a layout a profile cannot hold) is skipped with the reason.
template <void (*Body)(benchmark::State&, const Prepared*)>
void guarded(benchmark::State& st, const Prepared* p) {
    try {
        Body(st, p);
    } catch (const std::exception& e) {
        st.SkipWithError(e.what());
    }
}
bool host_can(const Prepared& p) {
    if (!p.host) return false;
    uint32_t r[4];
    cpuid(1, 0, r);
    if (!(r[2] >> 27 & 1)) return false;   // OSXSAVE
    cpuid(0xD, 1, r);
    if (!(r[0] & 2)) return false;         // XSAVEC
    uint32_t lo, hi;
    asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    uint64_t xcr0 = uint64_t(hi) << 32 | lo;
    return (p.shape->mask & ~xcr0) == 0;
}

} // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    // This CPU's pick, or XSAVE_VECTOR_WIDTH's: scripts/bench puts it in its "machine" row.
    benchmark::AddCustomContext("xsave_vector_width", std::to_string(xsave::run_writers().front().width));
    for (const Shape& s : kShapes) {
        try {
            prepared().push_back(prepare(s));
        } catch (const std::exception& e) {
            std::fprintf(stderr, "bench: shape %s skipped: %s\n", s.label, e.what());
        }
    }
    // XSAVE_BENCH_ITERATIONS=N: every case runs N iterations, once (scripts/bench counts their
    // instructions under gdb, bench/count_steps.py).
    const char* fixed = std::getenv("XSAVE_BENCH_ITERATIONS");
    const auto reg = [fixed](const std::string& name, auto fn, const Prepared* p) {
        benchmark::internal::Benchmark* b = benchmark::RegisterBenchmark(name.c_str(), fn, p);
        if (fixed) b->Iterations(std::atoi(fixed));
        return b;
    };
    for (const auto& up : prepared()) {
        const Prepared* p = up.get();
        std::string b = p->shape->label;
        reg("memcpy/" + b, bm_memcpy, p);
        reg("compact/" + b, guarded<bm_compact_body>, p);
        reg("compact_alloc/" + b, guarded<bm_compact_alloc_body>, p);
        reg("standard/" + b, guarded<bm_standard_body>, p);
        reg("standard_alloc/" + b, guarded<bm_standard_alloc_body>, p);
        reg("convert/" + b, guarded<bm_convert_body>, p);
        reg("compact_plan/" + b, guarded<bm_plan_body<Op::Compact>>, p);
        reg("standard_plan/" + b, guarded<bm_plan_body<Op::Standard>>, p);
        reg("convert_plan/" + b, guarded<bm_plan_body<Op::Convert>>, p);
        reg("compact_many/" + b, guarded<bm_many_body<Op::Compact>>, p);
        reg("standard_many/" + b, guarded<bm_many_body<Op::Standard>>, p);
        reg("convert_many/" + b, guarded<bm_many_body<Op::Convert>>, p);
        reg("decode/" + b, guarded<bm_decode_body>, p);
        reg("validate/" + b, guarded<bm_validate_body>, p);
        reg("cpuid_per_call/compact/" + b, bm_cpuid_compact, p);
        reg("cpuid_per_call/standard/" + b, bm_cpuid_standard, p);
        reg("cpuid_per_call/convert/" + b, bm_cpuid_convert, p);
#if defined(__x86_64__)
        if (p->host && __builtin_cpu_supports("avx512f") && p->shape->mask == (p->shape->mask & 0xe7) &&
            p->compacted.size() == p->standard.size() && (p->standard.size() - 576) % 64 == 0)
            reg("floor/" + b, bm_floor, p);
#endif
        if (host_can(*p)) {
            reg("hardware/compact/" + b, bm_hw_compact, p);
            reg("hardware/standard/" + b, bm_hw_standard, p);
        }
        if (b == "2696")
            reg("scale_1M_compact/" + b, guarded<bm_compact_body>, p)->Iterations(1000000);
    }
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
