// Starts N threads (default 1000), each with its own values in XMM/YMM0-15 (thread index in
// every byte pattern), then prints its PID and waits to be gcore'd and killed. Each thread
// loads its registers and sits in pause(2) inside one asm block, so the values the kernel
// saves are exactly those. Stacks are 64 KiB to keep the core small.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <pthread.h>
#include <unistd.h>
#include <sys/syscall.h>

namespace {

alignas(32) float g_values[4096][8];

void* thread_main(void* arg) {
    auto i = reinterpret_cast<uintptr_t>(arg);
    for (int k = 0; k < 8; ++k) g_values[i][k] = float(i) + float(k) / 8.0f;
    const float* v = g_values[i];
    // vbroadcastss: every lane of ymm0..15 gets a value derived from the thread index.
    asm volatile(
        "vbroadcastss 0(%0), %%ymm0\n\t"
        "vbroadcastss 4(%0), %%ymm1\n\t"
        "vbroadcastss 8(%0), %%ymm2\n\t"
        "vbroadcastss 12(%0), %%ymm3\n\t"
        "vbroadcastss 16(%0), %%ymm4\n\t"
        "vbroadcastss 20(%0), %%ymm5\n\t"
        "vbroadcastss 24(%0), %%ymm6\n\t"
        "vbroadcastss 28(%0), %%ymm7\n\t"
        "vmovaps %%ymm0, %%ymm8\n\tvmovaps %%ymm1, %%ymm9\n\tvmovaps %%ymm2, %%ymm10\n\tvmovaps %%ymm3, %%ymm11\n\t"
        "vmovaps %%ymm4, %%ymm12\n\tvmovaps %%ymm5, %%ymm13\n\tvmovaps %%ymm6, %%ymm14\n\tvmovaps %%ymm7, %%ymm15\n\t"
        "1:\n\t"
        "mov %1, %%eax\n\t"
        "syscall\n\t"
        "jmp 1b\n\t"
        :
        : "r"(v), "i"(SYS_pause)
        : "rax", "rcx", "r11", "memory");
    return nullptr;
}

} // namespace

int main(int argc, char** argv) {
    int n = argc > 1 ? std::atoi(argv[1]) : 1000;
    if (n < 1 || n > 4096) n = 1000;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    for (int i = 0; i < n; ++i) {
        pthread_t t;
        if (pthread_create(&t, &attr, thread_main, reinterpret_cast<void*>(uintptr_t(i))) != 0) {
            std::perror("pthread_create");
            return 1;
        }
    }
    std::printf("%d\n", int(getpid()));
    std::fflush(stdout);
    for (;;) pause();
}
