// Which vector width a plan's runs should use on this CPU: one run (default 1608 bytes, Zen 4's
// AVX-512 components, page offset 832) copied with vec::copy_run at 64 and 32 bytes, and with a
// 64-byte copy from the end, to a destination `shift` bytes further into its page, over many
// source/destination page pairs. On Zen 4 64-byte moves made some pairs 2-3x slower at shifts
// of 64-512 (Zen 4 -> Intel layouts shift by 256); see bench/RESULTS.md, stop 34.
//   page_alias [pairs] [bytes]
#include "ops/vector_copy.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

namespace {

using Copy = void (*)(uint8_t*, const uint8_t*, uint32_t);

[[gnu::noinline, gnu::target("avx512f")]] void copy_64(uint8_t* d, const uint8_t* s, uint32_t n) {
    xsave::vec::copy_run<64>(d, s, n);
}
[[gnu::noinline, gnu::target("avx2")]] void copy_32(uint8_t* d, const uint8_t* s, uint32_t n) {
    xsave::vec::copy_run<32>(d, s, n);
}
// From the end, four vectors a step (stores never precede a load of the same page offset).
[[gnu::noinline, gnu::target("avx512f")]] void copy_64_back(uint8_t* d, const uint8_t* s, uint32_t n) {
    uint32_t i = n;
    for (; i >= 256; i -= 256)
        for (uint32_t k = 64; k <= 256; k += 64) xsave::vec::move<64>(d + i - k, s + i - k);
    for (; i >= 64; i -= 64) xsave::vec::move<64>(d + i - 64, s + i - 64);
    if (i) xsave::vec::move<64>(d, s);
}

struct Way {
    const char* name;
    Copy copy;
    bool runs;   // this CPU has the width's vectors
};

double time_ns(Copy f, uint8_t* d, const uint8_t* s, uint32_t n) {
    double best = 1e30;
    for (int rep = 0; rep < 5; ++rep) {
        const auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < 20000; ++i) {
            f(d, s, n);
            asm volatile("" ::: "memory");
        }
        const auto t1 = std::chrono::steady_clock::now();
        best = std::min(best, std::chrono::duration<double, std::nano>(t1 - t0).count() / 20000);
    }
    return best;
}

} // namespace

int main(int argc, char** argv) {
    const int pairs = argc > 1 ? std::atoi(argv[1]) : 100;
    const uint32_t n = argc > 2 ? uint32_t(std::atoi(argv[2])) : 1608;
    constexpr uint32_t kSrcOffset = 832;
    if (pairs < 1 || n < 256 || kSrcOffset + n + 2048 > 2 * 4096) {
        std::fprintf(stderr, "usage: page_alias [pairs >= 1] [bytes, 256 to %u]\n", 2 * 4096 - 2048 - kSrcOffset);
        return 2;
    }
    __builtin_cpu_init();
    const bool avx512 = __builtin_cpu_supports("avx512f"), avx2 = __builtin_cpu_supports("avx2");
    const Way ways[] = {{"64-byte", copy_64, avx512}, {"32-byte", copy_32, avx2}, {"64-byte from the end", copy_64_back, avx512}};
    // Two-page slots drawn from 64 MiB, so that each pair has pages of its own.
    constexpr size_t kPool = size_t(64) << 20, kSlot = 2 * 4096;
    auto* pool = static_cast<uint8_t*>(mmap(nullptr, kPool, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    if (pool == MAP_FAILED) return 1;
    std::mt19937 rng(1);
    std::printf("%u bytes from page offset %u, %d page pairs; ns per copy: median, mean, worst, pairs over 1.5x the median\n",
                n, kSrcOffset, pairs);
    for (uint32_t shift : {0u, 64u, 128u, 256u, 512u, 1024u, 2048u}) {
        std::vector<std::pair<uint8_t*, uint8_t*>> at;
        for (int k = 0; k < pairs; ++k) {
            uint8_t* s = pool + rng() % (kPool / kSlot) * kSlot;
            uint8_t* d = pool + rng() % (kPool / kSlot) * kSlot;
            if (s == d) d = pool + (size_t(d - pool) + kSlot) % kPool;
            std::fill_n(s, kSlot, uint8_t(1));
            std::fill_n(d, kSlot, uint8_t(2));
            at.emplace_back(d + kSrcOffset + shift, s + kSrcOffset);
        }
        for (const Way& w : ways) {
            if (!w.runs) continue;
            std::vector<double> t;
            for (auto [d, s] : at) t.push_back(time_ns(w.copy, d, s, n));
            std::vector<double> sorted = t;
            std::sort(sorted.begin(), sorted.end());
            const double median = sorted[sorted.size() / 2];
            double sum = 0;
            int slow = 0;
            for (double v : t) sum += v, slow += v > 1.5 * median;
            std::printf("shift %4u  %-21s %6.1f %6.1f %6.1f  %d/%d\n", shift, w.name, median, sum / double(t.size()),
                        sorted.back(), slow, pairs);
        }
    }
    return 0;
}
