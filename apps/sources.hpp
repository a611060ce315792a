#pragma once
// The input options every command shares (--input, --thread, --cpuid, --xcr0), turned into
// xsave::open's options.
#include "cli.hpp"

#include "xsave/open.hpp"

#include <functional>
#include <string>
#include <vector>

namespace cli {

struct InputOptions {
    std::string input = "auto";    // auto or a format name
    std::string thread = "all";    // multi-area inputs: all, or a thread/vCPU id
    ProfileOption profile;
    std::string xcr0;              // standard form: the XCR0 the area was saved with
    std::optional<size_t> block;   // hex text with several dumps: which one (1-based)
    // Adds --input, --thread, --cpuid, --xcr0 (with `suffix`, e.g. "-b" for diff's second file).
    void add(CLI::App* cmd, const std::string& suffix = "");
    // --cpuid loaded (its errors name the profile); --xcr0 is parsed by load_areas.
    xsave::OpenOptions open_options() const;
};

// Adds --input (auto or a format of the library's input table).
CLI::Option* add_input_option(CLI::App* cmd, std::string& input, const std::string& name = "--input");

using Area = xsave::Area;
// xsave::open_file with these options: every area of the input, each with its CPU model, or
// the KVM nested state the input is (dump, check, diff print it). `prepared`
// (opt.open_options(), made once for many files) saves loading --cpuid again.
xsave::Opened open_input(const std::string& path, const InputOptions& opt, const xsave::OpenOptions* prepared = nullptr);
// open_input's areas; an input without any (a KVM nested state) is an error.
std::vector<Area> load_areas(const std::string& path, const InputOptions& opt, const xsave::OpenOptions* prepared = nullptr);

// Runs `fn` for each file. With several files a file's xsave::Error is reported on stderr
// ("xsavetool: FILE: why"), the others still run and the exit code becomes 2 at the end; one
// file's trouble ends the command as before.
void for_each_input(const std::vector<std::string>& files, const std::function<void(const std::string&)>& fn);
// The line above area i of n when an input has several: "=== vCPU 1 (2 of 2)" for a VM
// snapshot, "=== thread 1234 (1 of 3)" for a core or CRIU image.
std::string area_heading(const Area& a, size_t i, size_t n);

} // namespace cli
