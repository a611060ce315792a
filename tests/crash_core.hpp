#pragma once
// Runs a program that crashes, in a scratch directory with RLIMIT_CORE raised, and returns the
// core the kernel wrote: empty when it wrote none (core_pattern pipes elsewhere, limits, a
// binary this kernel cannot run).
#include "helpers.hpp"

#include <fcntl.h>
#include <filesystem>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace testing {

inline std::vector<uint8_t> crash_core(const char* bin, const char* flag, const std::string& tag) {
    namespace fs = std::filesystem;
    fs::path dir = fs::temp_directory_path() / ("xsave-" + tag + "-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    pid_t pid = ::fork();
    if (pid == 0) {
        rlimit lim{RLIM_INFINITY, RLIM_INFINITY};
        ::setrlimit(RLIMIT_CORE, &lim);
        if (::chdir(dir.c_str()) != 0) ::_exit(3);
        int devnull = ::open("/dev/null", O_WRONLY);
        ::dup2(devnull, 2);
        ::execl(bin, bin, flag, static_cast<char*>(nullptr));
        ::_exit(126);   // exec failed: this kernel cannot run the binary
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    std::vector<uint8_t> bytes;
    if (WIFSIGNALED(status) && WCOREDUMP(status))
        for (const auto& e : fs::directory_iterator(dir))
            if (e.path().filename().string().rfind("core", 0) == 0) bytes = read_bytes(e.path().string());
    fs::remove_all(dir);
    return bytes;
}

} // namespace testing
