// The input table: every format the tool reads, in detection order. A new format is a row
// here (and its reader in its own file); every command reads it through xsave::open.
#include "xsave/input.hpp"
#include "xsave/nested.hpp"
#include "xsave/open.hpp"
#include "xsave/qemu.hpp"

#include <fmt/format.h>

namespace xsave {

namespace formats {
// Snapshot formats (open_snapshots.cpp).
bool is_criu(std::span<const uint8_t> b);
Source read_criu(std::span<const uint8_t> b, const SourceRequest& req);
bool is_criu_dir(const std::string& path);
Source read_criu_dir(const std::string& path, const SourceRequest& req);
bool is_cloudhv(std::span<const uint8_t> b);
Source read_cloudhv(std::span<const uint8_t> b, const SourceRequest& req);
bool is_cloudhv_dir(const std::string& path);
Source read_cloudhv_dir(const std::string& path, const SourceRequest& req);

} // namespace formats

namespace {

using namespace formats;

bool is_elf(std::span<const uint8_t> b) {
    return b.size() >= 4 && b[0] == 0x7f && b[1] == 'E' && b[2] == 'L' && b[3] == 'F';
}

Source read_raw(std::span<const uint8_t> b, const SourceRequest& req) {
    Source s;
    s.areas.push_back({{}, {}, {b.begin(), b.end()}, req.xcr0, {}, {}, {}, {}});
    return s;
}

Source read_hex(std::span<const uint8_t> b, const SourceRequest& req) {
    auto h = parse_hex_text({reinterpret_cast<const char*>(b.data()), b.size()}, req.block);
    std::string note = fmt::format("hex text ({}), lines {}..{}, {} bytes", hex_style_name(h.style), h.first_line,
                                   h.last_line, h.bytes.size());
    if (h.ignored_lines) note += fmt::format("; {} other line{} ignored", h.ignored_lines, h.ignored_lines == 1 ? "" : "s");
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
    s.kernel_layout_source = std::move(core.kernel_layout_source);
    for (auto& t : core.threads) {
        uint64_t x = t.xcr0();
        SourceArea a{fmt::format("thread {}", t.tid), t.tid, std::move(t.xstate),
                     req.xcr0 ? req.xcr0 : std::optional<uint64_t>(x), {}, {}, {}};
        a.notes.push_back(fmt::format("{} {} core, from {} at offset {:#x}", core_os_name(core.os), core_abi_name(core.abi),
                                      t.source, t.note_offset));
        a.notes.insert(a.notes.end(), t.notes.begin(), t.notes.end());
        a.warnings = std::move(t.warnings);
        a.legacy32 = t.legacy32;
        s.areas.push_back(std::move(a));
    }
    return s;
}

// KVM_GET_NESTED_STATE: no XSAVE area; dump, check and diff read Source::nested.
Source read_nested(std::span<const uint8_t> b, const SourceRequest&) {
    Source s;
    s.nested.push_back(nested::parse_nested_state(b));
    return s;
}

// 512-byte FXSAVE and 108-byte FSAVE images (PTRACE_GETFPREGS, debuggers) as standard areas.
// A bare FXSAVE or FSAVE image: one standard area of what it holds.
Source legacy_image(std::span<const uint8_t> b, size_t size, const char* kind,
                    std::vector<uint8_t> (*to_xsave)(std::span<const uint8_t>), uint64_t xcr0, std::string note, bool legacy32) {
    if (b.size() != size) throw Error(fmt::format("{} bytes: an {} image has exactly {}", b.size(), kind, size));
    Source s;
    s.areas.push_back({{}, {}, to_xsave(b), xcr0, {}, {std::move(note)}, {}});
    s.areas.back().legacy32 = legacy32;
    return s;
}

Source read_fxsave(std::span<const uint8_t> b, const SourceRequest&) {
    return legacy_image(b, kFxsaveSize, "FXSAVE", xsave_from_fxsave, 0x3,
                        "FXSAVE image (512 bytes): x87 and SSE state, read as a standard XSAVE area with XSTATE_BV = x87|SSE; "
                        "FIP/FDP in the 64-bit form (the image does not say which form it holds)", false);
}

// FSAVE holds FIP/FDP as offsets with FCS/FDS: the 32-bit form.
Source read_fsave(std::span<const uint8_t> b, const SourceRequest&) {
    return legacy_image(b, kFsaveSize, "FSAVE", xsave_from_fsave, 0x1,
                        "FSAVE image (108 bytes, 32-bit protected-mode form): x87 state only, converted to FXSAVE's form (abridged "
                        "tag word); MXCSR, XMM and later state were not saved (shown in their initial state, MXCSR 0x1F80)", true);
}

// A QEMU stream's vCPUs, rebuilt into standard areas (see qemu_source.cpp).
Source read_qemu(std::span<const uint8_t> b, const SourceRequest& req) { return qemu_source(b, req); }

// Detection order: magic numbers first, then text, the nested-state header (binary: never
// text), FXSAVE/FSAVE images by their exact size, and raw bytes last (it accepts anything).
const InputFormat kFormats[] = {
    {.name = "core", .what = "ELF core file: Linux, FreeBSD, NetBSD; x86-64, i386, x32 (every thread's FP state)", .detect = is_elf, .read = read_core, .by_size = true},
    {.name = "qemu", .what = "QEMU migration stream / savevm state (every vCPU)", .detect = is_qemu_stream, .read = read_qemu, .unit = "vCPU"},
    {.name = "sigframe", .what = "Linux signal-frame fpstate", .detect = is_sigframe, .read = read_frame, .by_size = true},
    {.name = "criu", .what = "CRIU image directory or core-<tid>.img (every thread's fpregs)", .detect = is_criu, .read = read_criu,
     .detect_dir = is_criu_dir, .read_dir = read_criu_dir},
    {.name = "cloud-hypervisor", .what = "Cloud Hypervisor snapshot directory or state.json (every vCPU's xsave)", .detect = is_cloudhv,
     .read = read_cloudhv, .detect_dir = is_cloudhv_dir, .read_dir = read_cloudhv_dir, .unit = "vCPU"},
    {.name = "hex", .what = "hex text (xxd, hexdump -C, od, plain)", .detect = looks_like_hex_text, .read = read_hex, .blocks = true},
    {.name = "nested", .what = "KVM nested state (kvm_nested_state: VMCS12 or VMCB12)", .detect = nested::looks_like_nested_state, .read = read_nested},
    {.name = "fxsave", .what = "512-byte FXSAVE image", .detect = is_fxsave_image, .read = read_fxsave},
    {.name = "fsave", .what = "108-byte FSAVE image", .detect = is_fsave_image, .read = read_fsave},
    {.name = "raw", .what = "raw XSAVE area bytes", .detect = nullptr, .read = read_raw},
};

} // namespace

std::span<const InputFormat> input_formats() { return kFormats; }

} // namespace xsave
