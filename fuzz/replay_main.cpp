// fuzz_replay TARGET PATH...: runs the fuzz target's LLVMFuzzerTestOneInput over every file in
// the given files or directories (missing directories are fine: a target may have no regressions yet), without
// libFuzzer. A crash, sanitizer report or escaping exception fails the run; the file being
// run is printed first so the failure names its input.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "replay_targets.hpp"

int main(int argc, char** argv) {
    namespace fs = std::filesystem;
    const ReplayTarget* target = nullptr;
    for (size_t i = 0; argc > 1 && i < kReplayTargetCount; ++i)
        if (std::string_view(argv[1]) == kReplayTargets[i].name) target = &kReplayTargets[i];
    if (!target) {
        std::fprintf(stderr, "usage: fuzz_replay TARGET [FILE|DIR]...; targets:");
        for (size_t i = 0; i < kReplayTargetCount; ++i) std::fprintf(stderr, " %s", kReplayTargets[i].name);
        std::fprintf(stderr, "\n");
        return 2;
    }
    std::vector<fs::path> files;
    for (int i = 2; i < argc; ++i) {
        fs::path p = argv[i];
        std::error_code ec;
        if (fs::is_directory(p, ec)) {
            for (const auto& e : fs::recursive_directory_iterator(p))
                if (e.is_regular_file()) files.push_back(e.path());
        } else if (fs::is_regular_file(p, ec)) {
            files.push_back(p);
        }
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
        std::fprintf(stderr, "replay %s\n", f.c_str());
        std::ifstream in(f, std::ios::binary);
        std::vector<uint8_t> bytes{std::istreambuf_iterator<char>(in), {}};
        // Like libFuzzer, never hand the target a null pointer.
        static const uint8_t empty = 0;
        target->run(bytes.empty() ? &empty : bytes.data(), bytes.size());
    }
    std::printf("replayed %zu inputs\n", files.size());
    return 0;
}
