#pragma once
// One path from an input to XSAVE areas: every input format (a table), detection, thread
// selection, and the CPU model each area is read with, and why.
#include "xsave/error.hpp"
#include "xsave/image.hpp"
#include "xsave/input.hpp"
#include "xsave/layout.hpp"
#include "xsave/nested_state.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace xsave {

// One area as an input format holds it, before a layout is chosen.
struct SourceArea {
    std::string label;                        // "thread 12", "vCPU 1"; empty for a single area
    std::optional<int32_t> tid;               // thread or vCPU id
    std::vector<uint8_t> bytes;
    std::optional<uint64_t> xcr0;             // the XCR0 the input says the area was saved with
    std::shared_ptr<const CpuModel> cpu;      // the input's own CPU description, when it has one
    std::vector<std::string> notes;
    // Other registers the input holds beside the XSAVE state ({"rip", "0x..."}), in order.
    std::vector<std::pair<std::string, std::string>> context;
    std::vector<std::string> warnings = {};   // about the state: FP notes that disagree, QEMU's recorded XSTATE_BV
    bool legacy32 = false;                    // 32-bit process: legacy region in its 32-bit form
    std::optional<nested::State> nested = {}; // the vCPU's KVM nested state (QEMU's cpu/nested_state)
};

struct Source {
    std::string kind;                         // the format's name
    std::vector<SourceArea> areas;
    std::vector<CoreLayoutEntry> kernel_layout;   // cores with NT_X86_XSAVE_LAYOUT or NetBSD struct xstate
    std::string kernel_layout_source;         // "NT_X86_XSAVE_LAYOUT note", "NetBSD struct xstate"
    std::vector<std::string> notes;           // about the whole input
    std::vector<nested::State> nested;        // KVM nested states ("nested" format: no XSAVE area)
};

struct SourceRequest {
    std::optional<uint64_t> xcr0;             // --xcr0: overrides what the input says
    std::string path;                         // the input's path ("-" for stdin)
    // --cpuid: formats that lay out the area themselves (CRIU) must use this model's offsets.
    std::shared_ptr<const CpuModel> cpu = nullptr;
    std::optional<size_t> block;              // --block: hex text with several dumps, 1-based
};

// A row of the input table. `detect` is a cheap content test (nullptr: only by name);
// `by_size` formats carry the saving XCR0, so an area whose size does not fit the host is
// read with the built-in profile whose layout fits (as gdb chooses for cores).
struct InputFormat {
    std::string_view name;
    std::string_view what;                    // for --help and messages
    bool (*detect)(std::span<const uint8_t>) = nullptr;
    Source (*read)(std::span<const uint8_t>, const SourceRequest&) = nullptr;
    bool by_size = false;
    // Formats that are directories (snapshot folders): test and read by path.
    bool (*detect_dir)(const std::string& path) = nullptr;
    Source (*read_dir)(const std::string& path, const SourceRequest&) = nullptr;
    // What one area of a multi-area input is: "thread" (cores, CRIU) or "vCPU" (VM snapshots).
    std::string_view unit = "thread";
    bool blocks = false;                      // may hold several dumps (--block picks one)
};
std::span<const InputFormat> input_formats();
const InputFormat* find_input_format(std::string_view name);
// The first format whose detect accepts the bytes; "raw" when none does.
const InputFormat& detect_input_format(std::span<const uint8_t> bytes);
// "auto, raw, hex, core, ..." for option help.
std::string input_format_names();

struct OpenOptions {
    std::string input = "auto";               // a format name or "auto"
    std::string thread = "all";               // multi-area inputs: all, or a thread/vCPU id
    std::shared_ptr<const CpuModel> cpu;      // --cpuid: the layout every area is read with
    std::optional<uint64_t> xcr0;             // --xcr0
    std::optional<size_t> block;              // --block: which dump of a hex text, 1-based
};

struct Area {
    std::string label;                        // "FILE" or "FILE thread TID"
    std::optional<int32_t> tid;
    std::shared_ptr<const CpuModel> cpu;
    Image image;
    size_t bytes_read = 0;                    // of the area itself, trailing included
    std::string kind;                         // the input format
    std::vector<std::string> notes;           // how the input and layout were chosen
    std::vector<std::pair<std::string, std::string>> context;
    std::vector<std::string> warnings;
    std::optional<nested::State> nested;      // as SourceArea::nested
    std::string unit = "thread";              // the input format's: "thread" or "vCPU" (with tid: "vCPU 1")
};

struct Opened {
    std::string kind;
    std::vector<Area> areas;
    std::vector<std::string> notes;
    std::vector<nested::State> nested;        // as Source::nested
};

// The areas as the input holds them, `thread` selected. Throws Error (without the path).
Source read_source(std::span<const uint8_t> bytes, const OpenOptions& opt, const std::string& path = "-");
// read_source, then each area read with a CPU model: --cpuid, the input's own, the kernel's
// layout note, the size-matched built-in (by_size formats) or this machine.
Opened open(std::span<const uint8_t> bytes, const OpenOptions& opt, const std::string& path = "-");
// The file (or directory, or stdin "-"); errors are "PATH: why".
Source read_source_file(const std::string& path, const OpenOptions& opt);
Opened open_file(const std::string& path, const OpenOptions& opt);

// The model whose standard layout for `xcr0` is exactly `size` bytes: `first` (when given)
// or a built-in profile (built once per process); `chosen` gets the built-in's name.
std::shared_ptr<const CpuModel> model_for_size(uint64_t xcr0, size_t size, const std::shared_ptr<const CpuModel>& first,
                                               std::string& chosen);
// The kernel's NT_X86_XSAVE_LAYOUT note as a model for `xcr0`.
std::shared_ptr<const CpuModel> model_from_kernel_layout(const std::vector<CoreLayoutEntry>& entries, uint64_t xcr0);

} // namespace xsave
