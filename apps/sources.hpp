#pragma once
// Turning a command's input file into XSAVE areas: raw bytes, pasted hex, ELF cores (one area
// per thread), signal frames; each with the CPU model its layout comes from.
#include "cli.hpp"

#include "xsave/image.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cli {

struct InputOptions {
    std::string input = "auto";    // auto|raw|hex|core|sigframe
    std::string thread = "all";    // cores: all, or a TID
    ProfileOption profile;
    std::string xcr0;              // standard form: the XCR0 the area was saved with
    // Adds --input, --thread, --cpuid, --xcr0 (with `suffix`, e.g. "-b" for diff's second file).
    void add(CLI::App* cmd, const std::string& suffix = "");
};

struct Area {
    std::string label;                              // "FILE" or "FILE thread TID"
    std::optional<int32_t> tid;
    std::shared_ptr<const xsave::CpuModel> cpu;
    xsave::Image image;
    size_t bytes_read = 0;                          // of the area itself, trailing included
    std::string kind;                               // raw, hex, core, sigframe
    std::vector<std::string> notes;                 // how the input and layout were chosen
};

// Throws xsave::Error("FILE: why") on trouble.
std::vector<Area> load_areas(const std::string& path, const InputOptions& opt);

} // namespace cli
