/* A 32-bit (gcc -m32) or x32 (gcc -mx32) program that loads known x87, SSE and AVX values and
 * crashes, so that the kernel writes a core (run with RLIMIT_CORE raised, in a scratch dir).
 *
 * Values (register i):
 *   FCW = 0x027f (53-bit precision), MXCSR = 0x7f80 (round toward zero, all masked)
 *   ST(i) = 8 - i  (the program pushes 1.0 .. 8.0, so ST0 = 8.0 and ST7 = 1.0)
 *   xmm_i byte j = (uint8_t)(0x21 * i + j)          i = 0..7 (XMM8-15 of x32 are left alone)
 *   ymm_i byte 16 + j = (uint8_t)(0x21 * i + j + 0x80)  (upper halves; only with --avx)
 * --pause spins instead of crashing (for gdb gcore).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static uint8_t ymm_values[16][32] __attribute__((aligned(32)));
static const double x87_values[8] = {1, 2, 3, 4, 5, 6, 7, 8};
static const uint16_t fcw = 0x027f;
static const uint32_t mxcsr = 0x7f80;

#define X87 \
    "fninit\n\t" "fldcw (%[cw])\n\t" \
    "fldl 0(%[f])\n\t" "fldl 8(%[f])\n\t" "fldl 16(%[f])\n\t" "fldl 24(%[f])\n\t" \
    "fldl 32(%[f])\n\t" "fldl 40(%[f])\n\t" "fldl 48(%[f])\n\t" "fldl 56(%[f])\n\t" \
    "ldmxcsr (%[mx])\n\t"
#define SSE8 \
    "movdqu 0*32(%[y]), %%xmm0\n\t" "movdqu 1*32(%[y]), %%xmm1\n\t" "movdqu 2*32(%[y]), %%xmm2\n\t" \
    "movdqu 3*32(%[y]), %%xmm3\n\t" "movdqu 4*32(%[y]), %%xmm4\n\t" "movdqu 5*32(%[y]), %%xmm5\n\t" \
    "movdqu 6*32(%[y]), %%xmm6\n\t" "movdqu 7*32(%[y]), %%xmm7\n\t"
#define AVX8 \
    "vmovdqu 0*32(%[y]), %%ymm0\n\t" "vmovdqu 1*32(%[y]), %%ymm1\n\t" "vmovdqu 2*32(%[y]), %%ymm2\n\t" \
    "vmovdqu 3*32(%[y]), %%ymm3\n\t" "vmovdqu 4*32(%[y]), %%ymm4\n\t" "vmovdqu 5*32(%[y]), %%ymm5\n\t" \
    "vmovdqu 6*32(%[y]), %%ymm6\n\t" "vmovdqu 7*32(%[y]), %%ymm7\n\t"

int main(int argc, char** argv) {
    int avx = 0, pause = 0;
    for (int a = 1; a < argc; ++a) {
        if (!strcmp(argv[a], "--avx")) avx = 1;
        else if (!strcmp(argv[a], "--pause")) pause = 1;
        else { fprintf(stderr, "usage: fp32_crash [--avx] [--pause]\n"); return 2; }
    }
    for (int i = 0; i < 16; ++i)
        for (int j = 0; j < 16; ++j) {
            ymm_values[i][j] = (uint8_t)(0x21 * i + j);
            ymm_values[i][16 + j] = (uint8_t)(0x21 * i + j + 0x80);
        }
    FILE* f = fopen("/proc/self/coredump_filter", "w");
    if (f) { fputs("0", f); fclose(f); }
    /* Everything in one asm block: no compiled code touches the registers before the fault. */
    if (avx && pause)
        __asm__ volatile(X87 AVX8 "1: pause\n\tjmp 1b\n\t" : : [cw] "r"(&fcw), [f] "r"(x87_values), [mx] "r"(&mxcsr), [y] "r"(ymm_values) : "memory");
    if (avx)
        __asm__ volatile(X87 AVX8 "xorl %%eax, %%eax\n\tmovl (%%eax), %%eax\n\t" : : [cw] "r"(&fcw), [f] "r"(x87_values), [mx] "r"(&mxcsr), [y] "r"(ymm_values) : "eax", "memory");
    if (pause)
        __asm__ volatile(X87 SSE8 "1: pause\n\tjmp 1b\n\t" : : [cw] "r"(&fcw), [f] "r"(x87_values), [mx] "r"(&mxcsr), [y] "r"(ymm_values) : "memory");
    __asm__ volatile(X87 SSE8 "xorl %%eax, %%eax\n\tmovl (%%eax), %%eax\n\t" : : [cw] "r"(&fcw), [f] "r"(x87_values), [mx] "r"(&mxcsr), [y] "r"(ymm_values) : "eax", "memory");
    return 1;
}
