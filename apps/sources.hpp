#pragma once
// Turning a command's input file into XSAVE areas: raw bytes, pasted hex, ELF cores (one area
// per thread), signal frames; each with the CPU model its layout comes from.
#include "cli.hpp"

#include "xsave/image.hpp"
#include "xsave/input.hpp"

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

// An area's bytes as the input holds them, before any layout is chosen.
struct RawArea {
    std::string label;
    std::optional<int32_t> tid;
    std::vector<uint8_t> bytes;
    std::optional<uint64_t> xcr0;     // what the input says the area was saved with (core note, frame, --xcr0)
    std::vector<std::string> notes;
};
struct RawInput {
    std::string kind;                 // raw, hex, core, sigframe
    std::vector<RawArea> areas;
    std::vector<xsave::CoreLayoutEntry> kernel_layout;   // cores with NT_X86_XSAVE_LAYOUT
};

// Throws xsave::Error("FILE: why") on trouble.
RawInput read_raw_areas(const std::string& path, const std::string& input, const std::string& thread,
                        std::optional<uint64_t> xcr0);
std::vector<Area> load_areas(const std::string& path, const InputOptions& opt);

} // namespace cli
