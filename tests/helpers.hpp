#pragma once
// Shared test helpers: files, running the real binary, skipping.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "skips.hpp"
#include "xsave/error.hpp"
#include "model/bytes.hpp"   // load_le: internal, the tests are white-box

// Where the build put things (tests/paths.cpp, the one file that knows absolute paths, so
// every other test object is the same in any checkout and hits the compiler cache).
extern const char* const kTestDataDir;
extern const char* const kSharedDir;
extern const char* const kToolBinary;
extern const char* const kZmmCrashBinary;   // tests/tools/zmm_crash
extern const char* const kFpCrashM32Binary;    // tests/tools/fp_crash_m32, "" when not built
extern const char* const kFpCrashMx32Binary;   // tests/tools/fp_crash_mx32, "" when not built

namespace testing {

// A buffer filled with 0xA5 before a conversion: a byte the conversion forgets stays 0xA5.
inline std::vector<uint8_t> poisoned(size_t n) { return std::vector<uint8_t>(n, 0xA5); }

// The message of the xsave::Error that f throws, or "(no error)".
inline std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const xsave::Error& e) {
        return e.what();
    }
    return "(no error)";
}

inline std::string data_path(const std::string& rel) { return std::string(kTestDataDir) + "/" + rel; }
inline std::string shared_path(const std::string& rel) { return std::string(kSharedDir) + "/" + rel; }
inline bool have_shared() { return std::filesystem::is_directory(std::string(kSharedDir) + "/corpus"); }

// A file name in the temporary directory, unique to this process.
inline std::string tmp_path(const std::string& name) {
    return (std::filesystem::temp_directory_path() / ("xsavetool-" + std::to_string(::getpid()) + "-" + name)).string();
}

// A fresh directory of its own in the temporary directory, removed with the object.
struct TempDir {
    std::filesystem::path dir;
    explicit TempDir(const std::string& tag) : dir(tmp_path(tag)) {
        std::filesystem::remove_all(dir);
        std::filesystem::create_directories(dir);
    }
    ~TempDir() { std::filesystem::remove_all(dir); }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    std::string operator/(const std::string& rel) const { return (dir / rel).string(); }
    size_t entries() const {
        return size_t(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()));
    }
};

inline std::vector<uint8_t> read_bytes(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw std::runtime_error("cannot open " + path);
    return {std::istreambuf_iterator<char>(f), {}};
}
inline std::vector<uint8_t> whpx_bytes() { return read_bytes(data_path("whpx-832.bin")); }

inline std::string read_text(const std::string& path) {
    auto b = read_bytes(path);
    return {b.begin(), b.end()};
}
inline void write_bytes(const std::string& path, const std::vector<uint8_t>& b) {
    std::ofstream f(path, std::ios::binary);
    f.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}

// Under ctest (XSAVE_CTEST=1) a skipped test exits 4, reported as skipped; run by hand it
// prints why, ends the test case early, and is listed as skipped at the end of the run.
#define SKIP_TEST(why)                                                                  \
    do {                                                                                \
        std::cerr << "SKIPPED: " << (why) << std::endl;                                 \
        if (std::getenv("XSAVE_CTEST")) std::_Exit(4);                                  \
        testing::skipped_cases().push_back(                                             \
            Catch::getResultCapture().getCurrentTestName() + ": " + std::string(why));  \
        return;                                                                         \
    } while (0)

struct RunResult {
    int status = -1;
    std::string out, err;
};

inline std::string shell_quote(const std::string& s) {
    std::string r = "'";
    for (char c : s) r += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return r + "'";
}

// Runs the real xsavetool binary with `args` (already shell-quoted where needed).
// The lines of `s`, without their newlines.
inline std::vector<std::string> lines(const std::string& s) {
    std::vector<std::string> r;
    std::istringstream in(s);
    for (std::string l; std::getline(in, l);) r.push_back(l);
    return r;
}

// Arguments the CLI tests share: the WHPX sample, and the profiles it is read with.
inline std::string whpx_arg() { return shell_quote(data_path("whpx-832.bin")); }
inline std::string host_profile_arg() { return " --cpuid " + shell_quote(data_path("profiles/host-epyc.json")); }
inline std::string epyc_check_profile_arg() { return " --cpuid " + shell_quote(data_path("check/epyc-host.json")); }

// The rule names of a check result's violations, in order.
template <class CheckResult> std::vector<std::string> rules_of(const CheckResult& r) {
    std::vector<std::string> v;
    for (const auto& x : r.violations) v.push_back(x.rule);
    return v;
}

inline RunResult run_tool(const std::string& args, const std::string& stdin_file = "") {
    static int counter = 0;
    auto dir = std::filesystem::temp_directory_path();
    std::string base = (dir / ("xsavetool-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++))).string();
    std::string cmd = std::string(kToolBinary) + " " + args + " >" + base + ".out 2>" + base + ".err";
    if (!stdin_file.empty()) cmd += " <" + shell_quote(stdin_file);
    else cmd += " </dev/null";
    int rc = std::system(("env -u NO_COLOR " + cmd).c_str());
    RunResult r;
    r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    r.out = read_text(base + ".out");
    r.err = read_text(base + ".err");
    std::filesystem::remove(base + ".out");
    std::filesystem::remove(base + ".err");
    return r;
}

} // namespace testing
