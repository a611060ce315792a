// Times a command from process start to exit, RUNS times (stdout and stderr to /dev/null),
// and prints one JSON object: {"runs", "min_ns", "median_ns", "mean_ns", "exit"}.
// Usage: xsave_e2e RUNS COMMAND [ARGS...]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <spawn.h>
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
    std::vector<long long> ns;
    int last = -1;
    for (int i = 0; i < runs; ++i) {
        auto t0 = std::chrono::steady_clock::now();
        pid_t pid;
        if (posix_spawn(&pid, argv[2], &fa, nullptr, argv + 2, environ) != 0) {
            std::perror("posix_spawn");
            return 2;
        }
        int st = 0;
        waitpid(pid, &st, 0);
        auto t1 = std::chrono::steady_clock::now();
        last = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        ns.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
    }
    std::sort(ns.begin(), ns.end());
    long long sum = 0;
    for (auto v : ns) sum += v;
    std::printf("{\"runs\": %d, \"min_ns\": %lld, \"median_ns\": %lld, \"mean_ns\": %lld, \"exit\": %d}\n", runs, ns.front(),
                ns[ns.size() / 2], sum / (long long)ns.size(), last);
    return 0;
}
