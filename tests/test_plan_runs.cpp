// The plan run writers (ops/plan_runs.hpp): every writer this CPU runs writes exactly the bytes
// memcpy/memset would, for every short length and for long runs, and nothing outside its runs.
#include "ops/convert_plan.hpp"
#include "ops/plan_runs.hpp"
#include "ops/vector_copy.hpp"
#include "xsave/cpu_ops.hpp"
#include "xsave/import.hpp"

#include "helpers.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cpuid.h>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace {

// Runs over a 16 KiB output in offset order with gaps between them (left as 0xA5), like a plan's.
std::vector<xsave::PlanRun> random_runs(std::mt19937& rng, const std::vector<uint32_t>& lengths) {
    std::vector<xsave::PlanRun> runs;
    uint32_t pos = 0;
    for (uint32_t n : lengths) {
        pos += rng() % 70;
        const bool zero = rng() % 3 == 0;
        runs.push_back({pos, zero ? xsave::kZeroRun : uint32_t(rng() % 4096), n});
        pos += n;
    }
    return runs;
}

std::vector<uint8_t> reference(const std::vector<xsave::PlanRun>& runs, const std::vector<uint8_t>& src) {
    std::vector<uint8_t> o(runs.back().dst + runs.back().n + 64, 0xA5);
    for (const xsave::PlanRun& r : runs) {
        if (r.src == xsave::kZeroRun) std::memset(o.data() + r.dst, 0, r.n);
        else std::memcpy(o.data() + r.dst, src.data() + r.src, r.n);
    }
    return o;
}

// Functions compiled for 32 and 64-byte vectors (plainly off x86, where they are not run).
#if defined(__x86_64__) || defined(__i386__)
#define XSAVE_TEST_AVX2 [[gnu::target("avx2")]]
#define XSAVE_TEST_AVX512 [[gnu::target("avx512f")]]
#else
#define XSAVE_TEST_AVX2
#define XSAVE_TEST_AVX512
#endif

// One function at 16, 32 and 64-byte vectors, each with whether this CPU runs it.
template <class F>
struct AtWidth {
    unsigned w;
    F fn;
    bool here;
};
template <class F>
std::vector<AtWidth<F>> at_widths(F f16, F f32, F f64) {
    bool avx2 = false, avx512 = false;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    avx2 = __builtin_cpu_supports("avx2"), avx512 = __builtin_cpu_supports("avx512f");
#endif
    return {{16, f16, true}, {32, f32, avx2}, {64, f64, avx512}};
}

// vec::copy_run_long (run_many's copy of a tail of at least one vector) at each width.
void long_16(uint8_t* d, const uint8_t* s, uint32_t n) { xsave::vec::copy_run_long<16>(d, s, n); }
XSAVE_TEST_AVX2 void long_32(uint8_t* d, const uint8_t* s, uint32_t n) { xsave::vec::copy_run_long<32>(d, s, n); }
XSAVE_TEST_AVX512 void long_64(uint8_t* d, const uint8_t* s, uint32_t n) { xsave::vec::copy_run_long<64>(d, s, n); }

// vec::write_whole (the whole path of the Converter's kernels, LongTail or not) and
// vec::write_whole_sized (the per-call writer) at each width: every form on one output.
template <unsigned W>
[[gnu::always_inline]] inline uint32_t whole_forms(int form, uint8_t* o, const uint8_t* p, uint32_t body, uint64_t x, uint64_t c) {
    if (form == 0) return xsave::vec::write_whole_sized<W>(o, p, body, x, c);
    if (form == 1) xsave::vec::write_whole<W, false>(o, p, body, x, c);
    else xsave::vec::write_whole<W, true>(o, p, body, x, c);
    return body;
}
uint32_t whole_16(int f, uint8_t* o, const uint8_t* p, uint32_t b, uint64_t x, uint64_t c) { return whole_forms<16>(f, o, p, b, x, c); }
XSAVE_TEST_AVX2 uint32_t whole_32(int f, uint8_t* o, const uint8_t* p, uint32_t b, uint64_t x, uint64_t c) {
    return whole_forms<32>(f, o, p, b, x, c);
}
XSAVE_TEST_AVX512 uint32_t whole_64(int f, uint8_t* o, const uint8_t* p, uint32_t b, uint64_t x, uint64_t c) {
    return whole_forms<64>(f, o, p, b, x, c);
}

} // namespace

TEST_CASE("a whole plan's writer at every width: legacy region, header words, zeros to 576, then the body", "[convert][plan]") {
    const auto widths = at_widths(whole_16, whole_32, whole_64);
    std::vector<uint8_t> src(4096);
    for (size_t i = 0; i < src.size(); ++i) src[i] = uint8_t(i * 13 + 5) | 1;   // no zero byte
    const uint64_t xstate_bv = 0x2e7, xcomp_bv = 0x80000000000002e7;
    for (const auto& w : widths) {
        if (!w.here) {
            WARN("no " << w.w << "-byte vectors on this CPU: that width's whole writer is not run");
            continue;
        }
        // 576 (x87+SSE), 584 (compacted PKRU only), 600 and 640 (tails under and over a vector),
        // 832 (AVX), 2440 (Genoa), 2696 (Skylake-SP).
        for (uint32_t body : {576u, 584u, 600u, 640u, 832u, 2440u, 2696u}) {
            for (int form = 0; form < 3; ++form) {
                if (form == 2 && body < 576 + w.w) continue;   // LongTail: at least one vector after the header
                INFO(w.w << "-byte vectors, body " << body << ", form " << form);
                std::vector<uint8_t> o(body + 128, 0xA5);
                CHECK(w.fn(form, o.data(), src.data(), body, xstate_bv, xcomp_bv) == body);
                std::vector<uint8_t> want(src.begin(), src.begin() + body);
                std::fill(want.begin() + 512, want.begin() + 576, uint8_t(0));
                std::memcpy(want.data() + 512, &xstate_bv, 8);
                std::memcpy(want.data() + 520, &xcomp_bv, 8);
                CHECK(std::equal(want.begin(), want.end(), o.begin()));
                CHECK(std::all_of(o.begin() + body, o.end(), [](uint8_t b) { return b == 0xA5; }));
            }
        }
    }
}

TEST_CASE("run_many's tail copy writes exactly n bytes at every width, for every n from one vector up", "[convert][plan]") {
    const auto widths = at_widths(long_16, long_32, long_64);
    std::vector<uint8_t> src(2048 + 64);
    for (size_t i = 0; i < src.size(); ++i) src[i] = uint8_t(i * 7 + 1);
    for (const auto& w : widths) {
        if (!w.here) {
            WARN("no " << w.w << "-byte vectors on this CPU: that width's tail copy is not run");
            continue;
        }
        // Every length from W to 6W (the 4-vector loop, the one-vector loop, the overlapping last
        // vector), 1864 (Genoa's 2440 after the header) and 2048.
        std::vector<uint32_t> lengths;
        for (uint32_t n = w.w; n <= 6 * w.w; ++n) lengths.push_back(n);
        lengths.push_back(1864);
        lengths.push_back(2048);
        for (uint32_t n : lengths) {
            INFO(w.w << "-byte vectors, " << n << " bytes");
            std::vector<uint8_t> o(n + 128, 0xA5);
            w.fn(o.data() + 64, src.data() + 3, n);
            CHECK(std::equal(src.begin() + 3, src.begin() + 3 + n, o.begin() + 64));
            CHECK(std::all_of(o.begin(), o.begin() + 64, [](uint8_t b) { return b == 0xA5; }));
            CHECK(std::all_of(o.begin() + 64 + n, o.end(), [](uint8_t b) { return b == 0xA5; }));
        }
    }
}

TEST_CASE("every run writer writes what memcpy and memset write, and nothing else", "[convert][plan]") {
    std::mt19937 rng(18);
    std::vector<uint8_t> src(4096 + 8192 + 64);
    for (auto& b : src) b = uint8_t(rng() | 1);   // no zero byte: a zero in the output is a zero run's
    // Every length up to 260 (each branch of the short and the vector paths), the components'
    // sizes (8 PKRU, 64 opmask, 160 x87, 256 AVX, 512 ZMM_Hi256, 1024 Hi16_ZMM) and AMX's 8192.
    std::vector<uint32_t> lengths;
    for (uint32_t n = 1; n <= 260; ++n) lengths.push_back(n);
    for (uint32_t n : {320u, 448u, 511u, 512u, 513u, 1024u, 1088u, 8192u}) lengths.push_back(n);
    std::shuffle(lengths.begin(), lengths.end(), rng);

    const auto writers = xsave::run_writers();
    REQUIRE(!writers.empty());
    for (size_t chunk = 0; chunk < lengths.size(); chunk += 20) {
        std::vector<uint32_t> some(lengths.begin() + long(chunk), lengths.begin() + long(std::min(chunk + 20, lengths.size())));
        const auto runs = random_runs(rng, some);
        const auto want = reference(runs, src);
        for (const auto& w : writers) {
            INFO("writer " << w.name << ", lengths from " << some.front());
            std::vector<uint8_t> o(want.size(), 0xA5);
            w.write(runs.data(), runs.data() + runs.size(), o.data(), src.data());
            CHECK(o == want);
        }
    }
}

// "vendor_id : AuthenticAMD" and "cpu family : 25" in /proc/cpuinfo: Zen 3 or Zen 4.
static bool cpuinfo_says_amd_family_25() {
    std::ifstream f("/proc/cpuinfo");
    bool amd = false;
    for (std::string line; std::getline(f, line);) {
        if (line.rfind("vendor_id", 0) == 0) amd = line.find("AuthenticAMD") != std::string::npos;
        if (line.rfind("cpu family", 0) == 0) return amd && line.substr(line.find(':') + 1) == " 25";
    }
    return false;
}

TEST_CASE("the run writer is the widest this CPU runs, but 32 bytes on Zen 4", "[convert][plan]") {
    if (std::getenv("XSAVE_VECTOR_WIDTH")) SKIP_TEST("XSAVE_VECTOR_WIDTH is set: the order is the one it forces");
    const auto writers = xsave::run_writers();
    std::vector<std::string> names;
    for (const auto& w : writers) names.push_back(w.name);
#if defined(__x86_64__)
    // CPUID.7.0:EBX[16] AVX512F, [5] AVX2, with the OS saving ZMM (XCR0 bits 5-7) and YMM (bit 2).
    const uint64_t xcr0 = xsave::hw::usable() ? xsave::hw::xgetbv(0) : 0;
    unsigned a, b, c, d;
    __cpuid_count(7, 0, a, b, c, d);
    const bool avx2 = (b >> 5 & 1) && (xcr0 & 6) == 6, avx512 = (b >> 16 & 1) && (xcr0 & 0xe6) == 0xe6;
    // Zen 4 splits 512-bit loads and stores in two: AVX-512 is offered after AVX2 there.
    const bool zen4 = avx512 && cpuinfo_says_amd_family_25();
    std::vector<std::string> expect;
    if (avx512 && !zen4) expect.push_back("avx512f");
    if (avx2) expect.push_back("avx2");
    if (zen4) expect.push_back("avx512f");
    expect.push_back("sse2");
    CHECK(names == expect);
    CHECK(xsave::run_writer() == writers.front().write);
#else
    CHECK(names == std::vector<std::string>{"generic"});
#endif
}

// Hidden: run only by the ctest entries "conversions at N-byte moves", which set
// XSAVE_VECTOR_WIDTH and run every [widths] case at that width (tests/CMakeLists.txt).
TEST_CASE("XSAVE_VECTOR_WIDTH puts its width first, which every conversion path then runs at", "[.widths]") {
    const char* want = std::getenv("XSAVE_VECTOR_WIDTH");
    REQUIRE(want != nullptr);
    const unsigned width = unsigned(std::stoul(want));
    const auto writers = xsave::run_writers();
    if (std::none_of(writers.begin(), writers.end(), [&](const auto& w) { return w.width == width; }))
        SKIP_TEST(std::string("this CPU has no ") + want + "-byte vector moves");
    CHECK(writers.front().width == width);
    CHECK(xsave::run_writer() == writers.front().write);
}

TEST_CASE("a plan is whole (copied at offsets known without it) exactly when nothing is dropped, patched or moved", "[convert][plan]") {
    using namespace xsave;
    CpuModel genoa(builtin_profile("zen4-genoa")), spr(builtin_profile("sapphire-rapids"));
    const auto whole = [](const Layout& S, const Layout& T, uint64_t use) {
        auto p = std::make_unique<ConvertPlan>();
        build_plan(S, PlanKey{S.id.value, &T, use, 0}, *p);
        return p->whole();
    };
    for (uint64_t mask : {0x3ull, 0x7ull, 0xE7ull, 0x2E7ull}) {
        CAPTURE(mask);
        const Layout &S = genoa.standard(mask), &C = genoa.compacted(mask);
        CHECK(whole(S, C, mask));
        CHECK(whole(C, S, mask));
        CHECK(!whole(S, C, mask & ~1ull));   // x87 not in use: zeros, FCW 0x037F
        CHECK(!whole(S, C, mask & ~2ull));   // SSE not in use: zeros
    }
    // AVX not in use: its bytes are zeroed, not copied.
    CHECK(!whole(genoa.standard(0x7), genoa.compacted(0x7), 0x3));
    // PKRU dropped into a target without it.
    CHECK(!whole(genoa.standard(0x2E7), genoa.compacted(0xE7), 0x2E7));
    // Intel: AVX-512 sits after the MPX gap in standard form, not in compacted form.
    CHECK(!whole(spr.standard(0x2E7), spr.compacted(0x2E7), 0x2E7));
}
