// Loads known values into zmm0..zmm31 and k0..k7 in two threads, then crashes the main
// thread so the kernel writes a core file (run with RLIMIT_CORE raised, in a scratch dir).
//
// Values (thread t: 0 = main, 1 = second thread; register i; byte j of 64):
//   zmm_i byte j = uint8_t(0x11 * i + j + 0x80 * t)
//   k_i          = 0x1111 * (i + 1) << (16 * t)      (k0 = 0x1111, k7 = 0x8888 in main)
// --variant changes only the main thread's zmm7 (every byte xor 0xff) and k3 (0xdead).
// --pause makes the main thread spin instead of crashing (for gdb gcore / attach).
//
// The process sets /proc/self/coredump_filter to 0 so the core holds little more than the
// notes (a few pages instead of megabytes): small enough to commit.
//
// After loading, each thread stays inside one asm block (fault or spin), so no compiled code
// can touch the vector registers between the loads and the dump.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <pthread.h>

namespace {

alignas(64) uint8_t zmm_values[2][32][64];
uint64_t k_values[2][8];
volatile int second_ready = 0;

void fill(bool variant) {
    for (int t = 0; t < 2; ++t)
        for (int i = 0; i < 32; ++i) {
            for (int j = 0; j < 64; ++j) zmm_values[t][i][j] = uint8_t(0x11 * i + j + 0x80 * t);
        }
    for (int t = 0; t < 2; ++t)
        for (int i = 0; i < 8; ++i) k_values[t][i] = uint64_t(0x1111 * (i + 1)) << (16 * t);
    if (variant) {
        for (int j = 0; j < 64; ++j) zmm_values[0][7][j] ^= 0xff;
        k_values[0][3] = 0xdead;
    }
}

#define LOADS(z, k)                                                                      \
    "vmovdqu64 0*64(" z "), %%zmm0\n\t"  "vmovdqu64 1*64(" z "), %%zmm1\n\t"             \
    "vmovdqu64 2*64(" z "), %%zmm2\n\t"  "vmovdqu64 3*64(" z "), %%zmm3\n\t"             \
    "vmovdqu64 4*64(" z "), %%zmm4\n\t"  "vmovdqu64 5*64(" z "), %%zmm5\n\t"             \
    "vmovdqu64 6*64(" z "), %%zmm6\n\t"  "vmovdqu64 7*64(" z "), %%zmm7\n\t"             \
    "vmovdqu64 8*64(" z "), %%zmm8\n\t"  "vmovdqu64 9*64(" z "), %%zmm9\n\t"             \
    "vmovdqu64 10*64(" z "), %%zmm10\n\t" "vmovdqu64 11*64(" z "), %%zmm11\n\t"          \
    "vmovdqu64 12*64(" z "), %%zmm12\n\t" "vmovdqu64 13*64(" z "), %%zmm13\n\t"          \
    "vmovdqu64 14*64(" z "), %%zmm14\n\t" "vmovdqu64 15*64(" z "), %%zmm15\n\t"          \
    "vmovdqu64 16*64(" z "), %%zmm16\n\t" "vmovdqu64 17*64(" z "), %%zmm17\n\t"          \
    "vmovdqu64 18*64(" z "), %%zmm18\n\t" "vmovdqu64 19*64(" z "), %%zmm19\n\t"          \
    "vmovdqu64 20*64(" z "), %%zmm20\n\t" "vmovdqu64 21*64(" z "), %%zmm21\n\t"          \
    "vmovdqu64 22*64(" z "), %%zmm22\n\t" "vmovdqu64 23*64(" z "), %%zmm23\n\t"          \
    "vmovdqu64 24*64(" z "), %%zmm24\n\t" "vmovdqu64 25*64(" z "), %%zmm25\n\t"          \
    "vmovdqu64 26*64(" z "), %%zmm26\n\t" "vmovdqu64 27*64(" z "), %%zmm27\n\t"          \
    "vmovdqu64 28*64(" z "), %%zmm28\n\t" "vmovdqu64 29*64(" z "), %%zmm29\n\t"          \
    "vmovdqu64 30*64(" z "), %%zmm30\n\t" "vmovdqu64 31*64(" z "), %%zmm31\n\t"          \
    "kmovq 0*8(" k "), %%k0\n\t" "kmovq 1*8(" k "), %%k1\n\t"                            \
    "kmovq 2*8(" k "), %%k2\n\t" "kmovq 3*8(" k "), %%k3\n\t"                            \
    "kmovq 4*8(" k "), %%k4\n\t" "kmovq 5*8(" k "), %%k5\n\t"                            \
    "kmovq 6*8(" k "), %%k6\n\t" "kmovq 7*8(" k "), %%k7\n\t"

void* second_thread(void*) {
    // Load, report ready, spin forever.
    asm volatile(LOADS("%0", "%1")
                 "movl $1, (%2)\n\t"
                 "1: pause\n\t"
                 "jmp 1b\n\t"
                 :
                 : "r"(zmm_values[1]), "r"(k_values[1]), "r"(&second_ready)
                 : "memory");
    return nullptr;
}

// The CPU must have AVX-512 and the OS must have enabled its state (XCR0 bits 5-7).
bool have_avx512() {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bw")) return false;
    uint32_t lo, hi;
    asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (lo & 0xe6) == 0xe6;
}

} // namespace

int main(int argc, char** argv) {
    bool variant = false, pause = false;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--variant")) variant = true;
        else if (!std::strcmp(argv[i], "--pause")) pause = true;
        else {
            std::fprintf(stderr, "usage: zmm_crash [--variant] [--pause]\n");
            return 2;
        }
    }
    if (!have_avx512()) {
        std::fprintf(stderr, "zmm_crash: this CPU has no AVX-512F/BW\n");
        return 77;
    }
    if (FILE* f = std::fopen("/proc/self/coredump_filter", "w")) {
        std::fputs("0", f);
        std::fclose(f);
    }
    fill(variant);
    pthread_t th;
    if (pthread_create(&th, nullptr, second_thread, nullptr) != 0) return 3;
    while (!second_ready) asm volatile("pause");
    if (pause) {
        asm volatile(LOADS("%0", "%1") "1: pause\n\tjmp 1b\n\t"
                     : : "r"(zmm_values[0]), "r"(k_values[0]) : "memory");
    }
    // Load, then fault on a null read: the kernel dumps this thread first.
    asm volatile(LOADS("%0", "%1")
                 "xorl %%eax, %%eax\n\t"
                 "movq (%%rax), %%rax\n\t"
                 :
                 : "r"(zmm_values[0]), "r"(k_values[0])
                 : "rax", "memory");
    return 1;
}
