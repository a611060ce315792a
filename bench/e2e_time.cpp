// Times a command from process start to exit, RUNS times (stdout and stderr to /dev/null),
// and prints one JSON object: {"runs", "min_ns", "median_ns", "mean_ns", "cpu_min_ns",
// "cpu_median_ns", "exit"}; cpu_* is the child's user + system time (from wait4), which other
// load on the machine disturbs less than the wall clock.
// Usage: xsave_e2e RUNS COMMAND [ARGS...]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern char** environ;

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: xsave_e2e RUNS COMMAND [ARGS...]\n");
        return 2;
    }
    int runs = std::atoi(argv[1]);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    std::vector<long long> ns, cpu;
    int last = -1;
    for (int i = 0; i < runs; ++i) {
        auto t0 = std::chrono::steady_clock::now();
        pid_t pid;
        if (posix_spawn(&pid, argv[2], &fa, nullptr, argv + 2, environ) != 0) {
            std::perror("posix_spawn");
            return 2;
        }
        int st = 0;
        struct rusage ru {};
        wait4(pid, &st, 0, &ru);
        auto t1 = std::chrono::steady_clock::now();
        last = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        ns.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
        auto tv_ns = [](const timeval& t) { return (long long)t.tv_sec * 1000000000LL + (long long)t.tv_usec * 1000LL; };
        cpu.push_back(tv_ns(ru.ru_utime) + tv_ns(ru.ru_stime));
    }
    std::sort(ns.begin(), ns.end());
    std::sort(cpu.begin(), cpu.end());
    long long sum = 0;
    for (auto v : ns) sum += v;
    std::printf("{\"runs\": %d, \"min_ns\": %lld, \"median_ns\": %lld, \"mean_ns\": %lld, \"cpu_min_ns\": %lld, \"cpu_median_ns\": %lld, \"exit\": %d}\n",
                runs, ns.front(), ns[ns.size() / 2], sum / (long long)ns.size(), cpu.front(), cpu[cpu.size() / 2], last);
    return 0;
}
