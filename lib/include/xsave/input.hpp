#pragma once
// Real-world inputs: hex text pasted into mails, Linux ELF core files, signal-frame fpstate,
// KVM buffers. Each reader turns its input into plain XSAVE area bytes (or says why not).
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace xsave {

// ---------------------------------------------------------------- detection

// Text as people paste it: no NUL, nearly all printable, enough hex digits to hold bytes.
bool looks_like_hex_text(std::span<const uint8_t> bytes);
// Exactly 512 / 108 bytes (too short for an XSAVE area): an FXSAVE / FSAVE image.
bool is_fxsave_image(std::span<const uint8_t> bytes);
bool is_fsave_image(std::span<const uint8_t> bytes);

// ---------------------------------------------------------------- hex text

enum class HexStyle : uint8_t {
    Plain,      // "7f 03 00", "0x7f, 0x03", "7f0300..." (xxd -p), wrapped anywhere
    Xxd,        // "00000000: 7f03 0000 ...  ascii"
    HexdumpC,   // "00000000  7f 03 00 ...  |ascii|"
    Od,         // "000000 7f 03 00 ... >ascii<" (od -A x -t x1z) or any offset column without ascii
    Xsavetool,  // `xsavetool hexdump`: "0000  7f 03 ...|00 ...  x87: fcw ..." with "---- 0x..." lines
};
const char* hex_style_name(HexStyle s);                           // "plain", "xxd", "hexdump -C", "od"

struct HexText {
    std::vector<uint8_t> bytes;
    HexStyle style = HexStyle::Plain;
    size_t ignored_lines = 0;      // non-blank lines outside the chosen block
    size_t first_line = 0;         // 1-based lines of the chosen block
    size_t last_line = 0;
    uint64_t start_offset = 0;     // offset column of the block's first line (0 without one)
};

// The longest run (by bytes) of consecutive lines that are purely hex bytes, with an optional
// offset column and ASCII column, is the buffer; "*" lines (hexdump -C, od, xxd -a) repeat the
// line before them up to the next offset. Leading mail quote markers ("> ") are ignored.
// Runs of kMinHexBlock bytes or more are blocks: with two or more, `block` (1-based) picks
// one, and without it the text is refused rather than one dropped silently.
// Throws Error: no hex lines; offsets that jump or repeat; odd digit counts; a "*" without a
// following offset; repeats beyond kMaxHexBytes; several blocks and no `block`.
HexText parse_hex_text(std::string_view text, std::optional<size_t> block = std::nullopt);
// An FSAVE image (108 bytes) is the smallest buffer; shorter runs are stray numbers.
constexpr size_t kMinHexBlock = 64;

// "*" expansion can claim any size; an XSAVE area is far smaller than this.
constexpr size_t kMaxHexBytes = 4u << 20;

// ---------------------------------------------------------------- ELF core files

constexpr uint32_t kNtPrstatus = 1;
constexpr uint32_t kNtFpregset = 2;            // CORE / FreeBSD: FXSAVE (64-bit), FSAVE (i386)
constexpr uint32_t kNtPrxfpreg = 0x46e62b7f;   // LINUX: 512-byte FXSAVE (i386 processes)
constexpr uint32_t kNtX86Xstate = 0x202;
constexpr unsigned kPrstatusPidOffset = 32;   // pr_pid in x86-64 struct elf_prstatus
constexpr unsigned kCoreXcr0Offset = 464;     // the kernel (and gdb) store XCR0 here in the note

// Which kernel wrote the core (from its note owners), and for which kind of process.
enum class CoreOs : uint8_t { Linux, FreeBSD, NetBSD };
enum class CoreAbi : uint8_t { Amd64, I386, X32 };   // ELFCLASS64/EM_X86_64, ELFCLASS32/EM_386, ELFCLASS32/EM_X86_64
const char* core_os_name(CoreOs os);     // "Linux", "FreeBSD", "NetBSD"
const char* core_abi_name(CoreAbi abi);  // "x86-64", "i386", "x32"

struct CoreThread {
    int32_t tid = 0;                  // thread id from NT_PRSTATUS (FreeBSD/Linux) or the NetBSD LWP id
    // The XSAVE area the tool decodes: an NT_X86_XSTATE note as written, or a standard area
    // built from FXSAVE, FSAVE or NetBSD's struct xstate (see `source` and `notes`).
    std::vector<uint8_t> xstate;
    uint64_t note_offset = 0;         // file offset of the header of the note `xstate` comes from
    std::string source;               // that note, e.g. "LINUX/NT_X86_XSTATE", "CORE/NT_FPREGSET (FXSAVE)"
    uint64_t built_xcr0 = 0;          // non-zero: the XCR0 of a built area (bytes 464.. are not XCR0)
    bool legacy32 = false;            // 32-bit process: FIP/FDP are offsets with FCS/FDS, XMM0-7 only
    std::vector<std::string> notes;     // what was converted and what the notes did not save
    std::vector<std::string> warnings;  // FXSAVE/FSAVE notes that disagree with the XSAVE note
    uint64_t xcr0() const;            // built_xcr0, else the u64 at kCoreXcr0Offset (0 if too short)
};

// One entry of the kernel's NT_X86_XSAVE_LAYOUT note (Linux 6.12+): where it put each
// component in the NT_X86_XSTATE notes of this core.
struct CoreLayoutEntry {
    uint32_t bit = 0, size = 0, offset = 0, flags = 0;
};

struct CoreFile {
    CoreOs os = CoreOs::Linux;
    CoreAbi abi = CoreAbi::Amd64;
    std::vector<CoreThread> threads;  // in file order (the kernel writes the dumping thread first)
    // Where the areas' components sit when the core says so: the kernel's NT_X86_XSAVE_LAYOUT,
    // or the fixed layout of areas built from NetBSD's struct xstate. Empty otherwise.
    std::vector<CoreLayoutEntry> kernel_layout;
    std::string kernel_layout_source;  // "NT_X86_XSAVE_LAYOUT note", "NetBSD struct xstate"
};

// Parses a little-endian x86 ET_CORE file: ELFCLASS64 x86-64, ELFCLASS32 i386 or x32; notes
// written by Linux (owners CORE/LINUX, also gdb), FreeBSD (owner FreeBSD) or NetBSD
// (NetBSD-CORE@LWP). Each thread's FP state comes from NT_X86_XSTATE, NetBSD PT_GETXSTATE,
// FXSAVE (NT_PRXFPREG, 64-bit NT_FPREGSET / PT_GETFPREGS) or FSAVE (i386 NT_FPREGSET /
// PT_GETFPREGS), best first; the others are cross-checked against it. Throws Error naming the
// offset at fault: not ELF, wrong class/machine/type, truncated header, absurd or out-of-file
// program header table, note past its segment or the file, PT_NOTE segments that overlap (so
// copies never exceed the file's size), an FP note too short for its kind, no FP note at all.
CoreFile read_elf_core(std::span<const uint8_t> bytes);

// ---------------------------------------------------------------- FXSAVE and FSAVE images

constexpr size_t kFxsaveSize = 512;
constexpr size_t kFsaveSize = 108;     // 32-bit protected-mode FSAVE/FNSAVE image

// A 576-byte standard XSAVE area holding a 512-byte FXSAVE image: XSTATE_BV = x87|SSE, header
// zero, the image's bytes unchanged (its XCR0 is 0x3).
std::vector<uint8_t> xsave_from_fxsave(std::span<const uint8_t> fxsave);
// A 576-byte standard XSAVE area from a 108-byte FSAVE image, in FXSAVE's 32-bit form: full
// tag word to the abridged one, FOP from the FCS dword, ST0-7 at 16-byte strides; MXCSR
// its initial 0x1F80 (FSAVE has none); XSTATE_BV = x87 (its XCR0 is 0x1).
std::vector<uint8_t> xsave_from_fsave(std::span<const uint8_t> fsave);
// The legacy fields (catalogue of x87, and of SSE when `with_sse`) whose values differ between
// an XSAVE area (init components read as their initial values) and a 576-byte area built from
// an FXSAVE/FSAVE image, e.g. {"mxcsr_mask", "st3"}.
std::vector<std::string> legacy_differences(std::span<const uint8_t> xsave, std::span<const uint8_t> built, bool with_sse,
                                            bool legacy32);

// ---------------------------------------------------------------- signal frames

constexpr uint32_t kFpXstateMagic1 = 0x46505853;   // "SXPF" at 464 (struct _fpx_sw_bytes)
constexpr uint32_t kFpXstateMagic2 = 0x46505845;   // "EXPF" right after the XSAVE area

struct SigFrame {
    uint32_t extended_size = 0;   // xstate_size + 4 (magic2) as the kernel writes it
    uint64_t xfeatures = 0;       // the components the frame may hold (XCR0 subset)
    uint32_t xstate_size = 0;     // bytes of the XSAVE area
    std::vector<uint8_t> area;    // bytes [0, xstate_size)
};

// True when magic1 is at 464 and magic2 at xstate_size (within the buffer).
bool is_sigframe(std::span<const uint8_t> bytes);
// Throws Error when magic1 or magic2 is missing, or xstate_size is out of range.
SigFrame read_sigframe(std::span<const uint8_t> bytes);

} // namespace xsave
