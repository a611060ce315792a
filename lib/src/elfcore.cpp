// Linux x86-64 ELF core files: the NT_X86_XSTATE note of every thread, paired with the
// pid of the NT_PRSTATUS note before it (the kernel and gdb both write each thread's
// notes as PRSTATUS, FPREGSET, ..., X86_XSTATE).
// Every offset and size is checked against the file before use; nothing is allocated
// beyond the bytes of the notes we return.
#include "xsave/components.hpp"
#include "xsave/error.hpp"
#include "xsave/image.hpp"
#include "xsave/input.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <string_view>
#include <utility>
#include <vector>

namespace xsave {
namespace {

constexpr unsigned kEhdrSize = 64, kPhdrSize = 56, kShdrSize = 64;
constexpr uint16_t kEtCore = 4, kEmX86_64 = 62, kPnXnum = 0xffff;
constexpr uint32_t kPtNote = 4;
constexpr uint32_t kNtX86XsaveLayout = 0x205;   // LINUX: kernel's per-component offsets
constexpr size_t kMaxNoteKinds = 32;           // distinct ignored kinds listed (a crafted file has millions)

std::string type_name(uint16_t t) {
    static constexpr const char* names[] = {"ET_NONE", "ET_REL", "ET_EXEC", "ET_DYN", "ET_CORE"};
    return t < 5 ? fmt::format("{} ({})", t, names[t]) : std::to_string(t);
}

// "CORE/NT_FILE" or "OWNER/0xTYPE" for the ignored-notes list.
std::string note_kind(std::string_view owner, uint32_t type) {
    const char* n = nullptr;
    if (owner == "CORE") {
        switch (type) {
        case 1: n = "NT_PRSTATUS"; break;
        case 2: n = "NT_FPREGSET"; break;
        case 3: n = "NT_PRPSINFO"; break;
        case 6: n = "NT_AUXV"; break;
        case 0x53494749: n = "NT_SIGINFO"; break;
        case 0x46494c45: n = "NT_FILE"; break;
        }
    } else if (owner == "LINUX") {
        switch (type) {
        case 0x200: n = "NT_386_TLS"; break;
        case 0x201: n = "NT_386_IOPERM"; break;
        case 0x204: n = "NT_X86_SHSTK"; break;
        case kNtX86XsaveLayout: n = "NT_X86_XSAVE_LAYOUT"; break;
        }
    } else if (owner == "GDB" && type == 0xff000000) {
        n = "NT_GDB_TDESC";
    }
    std::string o = owner.empty() ? std::string("?") : std::string(owner);
    return n ? o + "/" + n : fmt::format("{}/{:#x}", o, type);
}

struct Reader {
    std::span<const uint8_t> b;
    uint64_t u16(uint64_t off) const { return load_le(b.data() + off, 2); }
    uint64_t u32(uint64_t off) const { return load_le(b.data() + off, 4); }
    uint64_t u64(uint64_t off) const { return load_le(b.data() + off, 8); }
};

uint64_t align4(uint64_t v) { return (v + 3) & ~uint64_t(3); }

void check_header(const Reader& r) {
    const auto& b = r.b;
    if (b.size() < 4 || b[0] != 0x7f || b[1] != 'E' || b[2] != 'L' || b[3] != 'F')
        throw Error("not an ELF file: offset 0: expected the magic 7f 45 4c 46 (\"\\x7fELF\")");
    if (b.size() < kEhdrSize)
        throw Error(fmt::format("ELF header truncated: the file has {} bytes; an ELF64 header needs {}",
                                b.size(), kEhdrSize));
    if (b[4] != 2)
        throw Error(fmt::format("offset 4: ELF class {}; expected 2 (ELFCLASS64, a 64-bit core)", b[4]));
    if (b[5] != 1)
        throw Error(fmt::format("offset 5: ELF data encoding {}; expected 1 (little-endian)", b[5]));
    if (r.u16(16) != kEtCore)
        throw Error(fmt::format("offset 16: ELF type {}; expected 4 (ET_CORE, a core file)",
                                type_name(uint16_t(r.u16(16)))));
    if (r.u16(18) != kEmX86_64)
        throw Error(fmt::format("offset 18: ELF machine {}; expected 62 (EM_X86_64)", r.u16(18)));
}

// Program header count, following PN_XNUM to section header 0's sh_info.
uint64_t phnum(const Reader& r) {
    uint64_t n = r.u16(56);
    if (n != kPnXnum) return n;
    uint64_t shoff = r.u64(40);
    if (shoff > r.b.size() || r.b.size() - shoff < kShdrSize)
        throw Error(fmt::format("offset 40: e_phnum is PN_XNUM but section header 0 at {:#x} is past the "
                                "end of the file ({:#x} bytes)", shoff, r.b.size()));
    return r.u32(shoff + 44);
}

struct Note {
    uint64_t offset;   // of the note header
    std::string_view owner;
    uint32_t type;
    std::span<const uint8_t> desc;
};

// Walks the notes of one PT_NOTE segment [start, end), all inside the file.
template <class F>
void walk_notes(const Reader& r, uint64_t start, uint64_t end, F&& each) {
    uint64_t p = start;
    while (p < end) {
        if (end - p < 12)
            throw Error(fmt::format("note at offset {:#x}: truncated header ({} bytes left in the PT_NOTE "
                                    "segment; a note header needs 12)", p, end - p));
        uint64_t namesz = r.u32(p), descsz = r.u32(p + 4);
        uint32_t type = uint32_t(r.u32(p + 8));
        uint64_t name_at = p + 12, desc_at = name_at + align4(namesz);
        if (desc_at > end || end - desc_at < descsz)
            throw Error(fmt::format("note at offset {:#x}: name size {:#x} and descriptor size {:#x} run past the "
                                    "end of its PT_NOTE segment at {:#x}", p, namesz, descsz, end));
        std::string_view owner(reinterpret_cast<const char*>(r.b.data() + name_at), namesz);
        if (!owner.empty() && owner.back() == '\0') owner.remove_suffix(1);
        each(Note{p, owner, type, r.b.subspan(desc_at, descsz)});
        uint64_t next = desc_at + align4(descsz);
        if (next >= end) break;
        p = next;
    }
}

} // namespace

uint64_t CoreThread::xcr0() const {
    return xstate.size() >= kCoreXcr0Offset + 8 ? load_le(xstate.data() + kCoreXcr0Offset, 8) : 0;
}

CoreFile read_elf_core(std::span<const uint8_t> bytes) {
    Reader r{bytes};
    check_header(r);
    uint64_t phoff = r.u64(32), phentsize = r.u16(54), n = phnum(r);
    if (phentsize != kPhdrSize)
        throw Error(fmt::format("offset 54: program header size {}; expected {} (Elf64_Phdr)", phentsize, kPhdrSize));
    if (n == 0) throw Error("offset 56: no program headers (e_phnum 0); a core file keeps its notes in PT_NOTE");
    // n <= 2^32 and phentsize == 56, so n * 56 cannot overflow.
    if (phoff > bytes.size() || (bytes.size() - phoff) / kPhdrSize < n)
        throw Error(fmt::format("offset 32: program header table at {:#x} with {} entries of {} bytes ends "
                                "past the end of the file ({:#x} bytes)", phoff, n, kPhdrSize, bytes.size()));

    CoreFile core;
    int32_t tid = 0;
    size_t notes = 0;
    uint64_t note_bytes = 0;   // segments may overlap; their total bounds what we copy
    std::vector<std::pair<std::string_view, uint32_t>> seen;   // (owner, type) already named
    for (uint64_t i = 0; i < n; ++i) {
        uint64_t ph = phoff + i * kPhdrSize;
        if (r.u32(ph) != kPtNote) continue;
        uint64_t off = r.u64(ph + 8), size = r.u64(ph + 32);
        if (off > bytes.size() || bytes.size() - off < size)
            throw Error(fmt::format("program header {} (offset {:#x}): PT_NOTE segment at {:#x} of {:#x} bytes "
                                    "ends past the end of the file ({:#x} bytes)", i, ph, off, size, bytes.size()));
        note_bytes += size;
        if (note_bytes > bytes.size())
            throw Error(fmt::format("program header {} (offset {:#x}): the PT_NOTE segments add up to more than the "
                                    "file's {:#x} bytes; they overlap", i, ph, bytes.size()));
        walk_notes(r, off, off + size, [&](const Note& note) {
            ++notes;
            if (note.owner == "CORE" && note.type == kNtPrstatus) {
                if (note.desc.size() < kPrstatusPidOffset + 4)
                    throw Error(fmt::format("NT_PRSTATUS note at offset {:#x}: descriptor has {} bytes; pr_pid "
                                            "needs {}", note.offset, note.desc.size(), kPrstatusPidOffset + 4));
                tid = int32_t(load_le(note.desc.data() + kPrstatusPidOffset, 4));
                return;
            }
            if (note.owner == "LINUX" && note.type == kNtX86Xstate) {
                if (note.desc.size() < kExtendedOffset)
                    throw Error(fmt::format("NT_X86_XSTATE note at offset {:#x}: descriptor has {} bytes; an XSAVE "
                                            "area needs at least {}", note.offset, note.desc.size(), kExtendedOffset));
                core.threads.push_back({tid, {note.desc.begin(), note.desc.end()}, note.offset});
                return;
            }
            if (note.owner == "LINUX" && note.type == kNtX86XsaveLayout) {
                for (size_t k = 0; k + 16 <= note.desc.size(); k += 16) {
                    const uint8_t* e = note.desc.data() + k;
                    core.kernel_layout.push_back({uint32_t(load_le(e, 4)), uint32_t(load_le(e + 4, 4)),
                                                  uint32_t(load_le(e + 8, 4)), uint32_t(load_le(e + 12, 4))});
                }
            }
            ++core.ignored_notes;
            // Each thread repeats the same few kinds: name a kind only the first time it is seen.
            if (core.ignored_note_types.size() >= kMaxNoteKinds) return;
            std::pair<std::string_view, uint32_t> id{note.owner, note.type};
            if (std::find(seen.begin(), seen.end(), id) != seen.end()) return;
            seen.push_back(id);
            auto kind = note_kind(note.owner, note.type);
            if (std::find(core.ignored_note_types.begin(), core.ignored_note_types.end(), kind) ==
                core.ignored_note_types.end())
                core.ignored_note_types.push_back(kind);
        });
    }
    if (core.threads.empty())
        throw Error(fmt::format("no NT_X86_XSTATE note (type 0x202) among the {} notes of this core file; "
                                "it holds no extended register state", notes));
    return core;
}

} // namespace xsave
