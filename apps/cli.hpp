#pragma once
// Shared pieces of the xsavetool command line: registration, input, output, colour.
#include "xsave/error.hpp"
#include "xsave/file_bytes.hpp"
#include "xsave/profile.hpp"

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace cli {

// Each command lives in apps/cmd_<name>.cpp and registers itself here.
void register_dump(CLI::App& app);
void register_cpuid(CLI::App& app);
void register_convert(CLI::App& app);   // compact, standard, convert, capture
void register_check(CLI::App& app);
void register_layout(CLI::App& app);    // layout, hexdump
void register_diff(CLI::App& app);      // diff, assemble

// A command's verdict: 0 ok, 1 different/rejected/inconsistent. Trouble is an exception.
void set_exit_code(int code);
int exit_code();

// Reads a whole file, or stdin for "-" (xsave::read_file).
inline std::vector<uint8_t> read_input(const std::string& path, size_t limit = xsave::kMaxInputBytes) {
    return xsave::read_file(path, limit);
}

// xsave::resolve_profile with its warnings printed. Commands need only the XSAVE leaves of
// the host (a tenth of the CPUID queries); the cpuid commands read them all.
xsave::Profile load_profile(const std::string& spec, xsave::HostLeaves host = xsave::HostLeaves::Xsave);

// Writes to `path` atomically (temp file in the same directory, then rename), or to
// stdout for "-" / empty. A symlink's target is replaced (the link kept); a device or FIFO
// is written through. Refuses raw bytes on a terminal unless `force`.
void write_output(const std::string& path, std::span<const uint8_t> bytes, bool binary, bool force = false);
inline void write_output(const std::string& path, const std::string& text) {
    write_output(path, {reinterpret_cast<const uint8_t*>(text.data()), text.size()}, false);
}

// -o FILE for a command that prints (dump, diff, layout, check, hexdump): stdout is collected
// while `run` runs and written to FILE with write_output when it returns (a verdict too);
// trouble writes nothing. Adds -o and the renamed --output, and sets the command's callback.
void printing_callback(CLI::App* cmd, std::function<void()> run);

// A renamed option: given, it is exit 2 "OLD is now NEW" (hidden from --help), so an old
// spelling never does something else silently.
void renamed_option(CLI::App* cmd, const std::string& old_name, const std::string& now);

// --json as the short form of --format json: the format to use, or an Error when they disagree.
std::string json_format(bool json, const std::string& format);

// Writes an XSAVE area as `output` says: "raw" bytes, "hex" (hexdump -C style, which every
// command reads back), or "json" (the dump contract, needs `json_text`).
void write_area(const std::string& path, std::span<const uint8_t> bytes, const std::string& output, bool force,
                const std::string& json_text = "");
std::string hex_listing(std::span<const uint8_t> bytes);

// Colour: "auto" (a terminal and no NO_COLOR), "always", "never".
bool use_color(const std::string& mode);

// Prints "xsavetool: warning: MSG" on stderr.
void warn(const std::string& msg);
// Prints each as "xsavetool: warning: WHO: MSG" (no "WHO: " when who is empty).
void warn_all(const std::string& who, const std::vector<std::string>& msgs);

// Adds --cpuid (and friends) to a command.
struct ProfileOption {
    std::string spec;
    void add(CLI::App* cmd, const char* name = "--cpuid", const char* help = "CPUID profile: host, a built-in name, or a file");
};

// Parses a mask given as hex/decimal or as component names joined by '|' or ','.
uint64_t parse_mask(const std::string& text, const char* what);
// parse_mask for an XCR0: bit 0 set and only known components (xsave::check_xcr0).
uint64_t parse_xcr0(const std::string& text, const char* what);

} // namespace cli
