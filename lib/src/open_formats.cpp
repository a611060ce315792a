// The input table: every format the tool reads, in detection order. A new format is a row
// here (and its reader in its own file); every command reads it through xsave::open.
#include "xsave/input.hpp"
#include "xsave/open.hpp"
#include "xsave/qemu.hpp"

#include <fmt/format.h>

namespace xsave {
namespace {

bool is_elf(std::span<const uint8_t> b) {
    return b.size() >= 4 && b[0] == 0x7f && b[1] == 'E' && b[2] == 'L' && b[3] == 'F';
}

Source read_raw(std::span<const uint8_t> b, const SourceRequest& req) {
    Source s;
    s.areas.push_back({{}, {}, {b.begin(), b.end()}, req.xcr0, {}, {}, {}, {}});
    return s;
}

Source read_hex(std::span<const uint8_t> b, const SourceRequest& req) {
    auto h = parse_hex_text({reinterpret_cast<const char*>(b.data()), b.size()});
    std::string note = fmt::format("hex text ({}), lines {}..{}, {} bytes", hex_style_name(h.style), h.first_line,
                                   h.last_line, h.bytes.size());
    if (h.ignored_lines) note += fmt::format("; {} other lines ignored", h.ignored_lines);
    Source s;
    s.areas.push_back({{}, {}, std::move(h.bytes), req.xcr0, {}, {note}, {}, {}});
    return s;
}

Source read_frame(std::span<const uint8_t> b, const SourceRequest& req) {
    auto f = read_sigframe(b);
    Source s;
    s.areas.push_back({{}, {}, std::move(f.area), req.xcr0 ? req.xcr0 : std::optional<uint64_t>(f.xfeatures), {},
                       {fmt::format("signal frame: xfeatures 0x{:x}, xstate_size {}", f.xfeatures, f.xstate_size)}, {}, {}});
    return s;
}

Source read_core(std::span<const uint8_t> b, const SourceRequest& req) {
    auto core = read_elf_core(b);
    Source s;
    s.kernel_layout = std::move(core.kernel_layout);
    for (auto& t : core.threads) {
        uint64_t x = t.xcr0();
        s.areas.push_back({fmt::format("thread {}", t.tid), t.tid, std::move(t.xstate),
                           req.xcr0 ? req.xcr0 : std::optional<uint64_t>(x), {}, {}, {}, {}});
    }
    return s;
}

// A QEMU stream's vCPUs, rebuilt into standard areas (see qemu_source.cpp).
Source read_qemu(std::span<const uint8_t> b, const SourceRequest& req) { return qemu_source(b, req); }

// Detection order: magic numbers first, then text, and raw bytes last (it accepts anything).
const InputFormat kFormats[] = {
    {.name = "core", .what = "ELF core file (every thread's NT_X86_XSTATE note)", .detect = is_elf, .read = read_core, .by_size = true},
    {.name = "qemu", .what = "QEMU migration stream / savevm state (every vCPU)", .detect = is_qemu_stream, .read = read_qemu},
    {.name = "sigframe", .what = "Linux signal-frame fpstate", .detect = is_sigframe, .read = read_frame, .by_size = true},
    {.name = "hex", .what = "hex text (xxd, hexdump -C, od, plain)", .detect = looks_like_hex_text, .read = read_hex},
    {.name = "raw", .what = "raw XSAVE area bytes", .detect = nullptr, .read = read_raw},
};

} // namespace

std::span<const InputFormat> input_formats() { return kFormats; }

} // namespace xsave
