// x86 ELF core files (ELFCLASS64 x86-64, ELFCLASS32 i386 and x32) written by Linux, gdb,
// FreeBSD and NetBSD: each thread's floating-point notes, grouped by thread.
//  - Linux/gdb: owners CORE and LINUX; a thread is NT_PRSTATUS then its notes
//    (NT_FPREGSET, NT_PRXFPREG, NT_X86_XSTATE, ...).
//  - FreeBSD (sys/kern/imgact_elf.c): owner "FreeBSD", the same shape; process-wide notes
//    (NT_PROCSTAT_*) follow the last thread.
//  - NetBSD (sys/kern/core_elf32.c): owner "NetBSD-CORE@<lwp>" on every note of an LWP.
// Every offset and size is checked against the file before use; nothing is allocated
// beyond the bytes of the notes we return.
#include "inputs/core_notes.hpp"
#include "model/bytes.hpp"

#include "xsave/components.hpp"
#include "xsave/error.hpp"
#include "xsave/image.hpp"
#include "xsave/input.hpp"

#include <algorithm>
#include <charconv>
#include <fmt/format.h>
#include <string_view>
#include <utility>
#include <vector>

namespace xsave {
namespace {

constexpr uint16_t kEtCore = 4, kEm386 = 3, kEmX86_64 = 62, kPnXnum = 0xffff;
constexpr uint32_t kPtNote = 4;
constexpr uint32_t kNtX86XsaveLayout = 0x205;   // LINUX: kernel's per-component offsets
constexpr std::string_view kNetbsdLwp = "NetBSD-CORE@";

std::string type_name(uint16_t t) {
    static constexpr const char* names[] = {"ET_NONE", "ET_REL", "ET_EXEC", "ET_DYN", "ET_CORE"};
    return t < 5 ? fmt::format("{} ({})", t, names[t]) : std::to_string(t);
}

struct Reader {
    std::span<const uint8_t> b;
    bool is64 = true;
    uint64_t u16(uint64_t off) const { return load_le(b.data() + off, 2); }
    uint64_t u32(uint64_t off) const { return load_le(b.data() + off, 4); }
    uint64_t u64(uint64_t off) const { return load_le(b.data() + off, 8); }
    uint64_t word(uint64_t off) const { return is64 ? u64(off) : u32(off); }   // Elf64_Off / Elf32_Off
    // Field offsets of the two classes (ELF spec, Elf32_Ehdr / Elf64_Ehdr and _Phdr, _Shdr).
    unsigned ehdr_size() const { return is64 ? 64 : 52; }
    unsigned phdr_size() const { return is64 ? 56 : 32; }
    unsigned shdr_size() const { return is64 ? 64 : 40; }
    unsigned e_phoff() const { return is64 ? 32 : 28; }
    unsigned e_shoff() const { return is64 ? 40 : 32; }
    unsigned e_phentsize() const { return is64 ? 54 : 42; }
    unsigned e_phnum() const { return is64 ? 56 : 44; }
    unsigned sh_info() const { return is64 ? 44 : 28; }
    unsigned p_offset() const { return is64 ? 8 : 4; }
    unsigned p_filesz() const { return is64 ? 32 : 16; }
};

uint64_t align4(uint64_t v) { return (v + 3) & ~uint64_t(3); }

CoreAbi check_header(Reader& r) {
    const auto& b = r.b;
    if (b.size() < 4 || b[0] != 0x7f || b[1] != 'E' || b[2] != 'L' || b[3] != 'F')
        throw Error("not an ELF file: offset 0: expected the magic 7f 45 4c 46 (\"\\x7fELF\")");
    if (b.size() < 5)
        throw Error(fmt::format("ELF header truncated: the file has {} bytes; an ELF header needs 52 (ELF32) or 64 (ELF64)", b.size()));
    if (b[4] != 1 && b[4] != 2)
        throw Error(fmt::format("offset 4: ELF class {}; expected 1 (ELFCLASS32) or 2 (ELFCLASS64)", b[4]));
    r.is64 = b[4] == 2;
    if (b.size() < r.ehdr_size())
        throw Error(fmt::format("ELF header truncated: the file has {} bytes; an ELF{} header needs {}", b.size(),
                                r.is64 ? 64 : 32, r.ehdr_size()));
    if (b[5] != 1)
        throw Error(fmt::format("offset 5: ELF data encoding {}; expected 1 (little-endian)", b[5]));
    if (r.u16(16) != kEtCore)
        throw Error(fmt::format("offset 16: ELF type {}; expected 4 (ET_CORE, a core file)",
                                type_name(uint16_t(r.u16(16)))));
    uint64_t m = r.u16(18);
    if (r.is64 && m != kEmX86_64)
        throw Error(fmt::format("offset 18: ELF machine {}; expected 62 (EM_X86_64)", m));
    if (!r.is64 && m != kEmX86_64 && m != kEm386)
        throw Error(fmt::format("offset 18: ELF machine {}; expected 3 (EM_386) or 62 (EM_X86_64, x32)", m));
    return r.is64 ? CoreAbi::Amd64 : m == kEm386 ? CoreAbi::I386 : CoreAbi::X32;
}

// Program header count, following PN_XNUM to section header 0's sh_info.
uint64_t phnum(const Reader& r) {
    uint64_t n = r.u16(r.e_phnum());
    if (n != kPnXnum) return n;
    uint64_t shoff = r.word(r.e_shoff());
    if (shoff > r.b.size() || r.b.size() - shoff < r.shdr_size())
        throw Error(fmt::format("offset {}: e_phnum is PN_XNUM but section header 0 at {:#x} is past the "
                                "end of the file ({:#x} bytes)", r.e_shoff(), shoff, r.b.size()));
    return r.u32(shoff + r.sh_info());
}

// Walks the notes of one PT_NOTE segment [start, end), all inside the file. Core notes are
// 4-byte aligned in both classes.
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
        each(RawNote{p, owner, type, r.b.subspan(desc_at, descsz)});
        uint64_t next = desc_at + align4(descsz);
        if (next >= end) break;
        p = next;
    }
}

void require_size(const RawNote& n, const char* what, size_t need, const char* needs) {
    if (n.desc.size() < need)
        throw Error(fmt::format("{} note at offset {:#x}: descriptor has {} bytes; {} needs {}", what, n.offset,
                                n.desc.size(), needs, need));
}

// Sorts one note into the thread notes; returns false for notes that carry no thread FP state.
class Grouper {
public:
    Grouper(CoreFile& core) : core_(core), legacy32_(core.abi == CoreAbi::I386) {}

    bool take(const RawNote& n) {
        if (n.owner == "CORE" || n.owner == "FreeBSD") {
            bool fbsd = n.owner == "FreeBSD";
            if (fbsd) core_.os = CoreOs::FreeBSD;
            if (n.type == kNtPrstatus) return prstatus(n, fbsd);
            if (n.type == kNtFpregset) return fp(n, fbsd ? "FreeBSD/NT_FPREGSET" : "CORE/NT_FPREGSET");
            if (fbsd && n.type == kNtX86Xstate) return xstate(n, "FreeBSD/NT_X86_XSTATE");
            return false;
        }
        if (n.owner == "LINUX") {
            if (n.type == kNtX86Xstate) return xstate(n, "LINUX/NT_X86_XSTATE");
            if (n.type == kNtPrxfpreg) {
                require_size(n, "NT_PRXFPREG", kFxsaveSize, "an FXSAVE image");
                return attach(n, &ThreadNotes::fxsave, "LINUX/NT_PRXFPREG");
            }
            return false;
        }
        if (n.owner.starts_with(kNetbsdLwp)) {
            core_.os = CoreOs::NetBSD;
            // PT_GETFPREGS = PT_FIRSTMACH (32) + 3 on both; PT_GETXSTATE = 32 + 9 on amd64,
            // 32 + 11 on i386 (sys/arch/{amd64,i386}/include/ptrace.h).
            constexpr uint32_t kGetFpregs = 35;
            uint32_t get_xstate = core_.abi == CoreAbi::Amd64 ? 41 : 43;
            if (n.type != kGetFpregs && n.type != get_xstate) return false;
            int32_t lwp = 0;
            std::string_view id = n.owner.substr(kNetbsdLwp.size());
            auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), lwp);
            if (ec != std::errc() || end != id.data() + id.size())
                throw Error(fmt::format("note at offset {:#x}: owner \"{}\": expected NetBSD-CORE@ and a decimal LWP id",
                                        n.offset, n.owner));
            select_lwp(lwp);
            if (n.type == kGetFpregs) return fp(n, "NetBSD-CORE@LWP/PT_GETFPREGS");
            require_size(n, "PT_GETXSTATE", kNetbsdXstateMin, "struct xstate (xs_rfbm, xs_xstate_bv, xs_fxsave)");
            return attach(n, &ThreadNotes::netbsd_xstate, "NetBSD-CORE@LWP/PT_GETXSTATE");
        }
        return false;
    }

    std::vector<ThreadNotes> threads;

private:
    bool prstatus(const RawNote& n, bool fbsd) {
        // pr_pid: Linux struct elf_prstatus 32 (x86-64) or 24 (i386, x32: 32-bit longs);
        // FreeBSD prstatus_t (sys/sys/procfs.h) 40 (amd64: size_t fields) or 24 (i386).
        unsigned at = core_.abi == CoreAbi::Amd64 ? (fbsd ? 40 : kPrstatusPidOffset) : 24;
        if (n.desc.size() < at + 4)
            throw Error(fmt::format("NT_PRSTATUS note at offset {:#x}: descriptor has {} bytes; pr_pid "
                                    "needs {}", n.offset, n.desc.size(), at + 4));
        new_thread(int32_t(load_le(n.desc.data() + at, 4)));
        return true;
    }
    // FXSAVE for 64-bit and x32 processes, FSAVE for i386 ones.
    bool fp(const RawNote& n, const char* name) {
        if (legacy32_) {
            require_size(n, name, kFsaveSize, "an FSAVE image");
            return attach(n, &ThreadNotes::fsave, name);
        }
        require_size(n, name, kFxsaveSize, "an FXSAVE image");
        return attach(n, &ThreadNotes::fxsave, name);
    }
    bool xstate(const RawNote& n, const char* name) {
        if (n.desc.size() < kExtendedOffset)
            throw Error(fmt::format("NT_X86_XSTATE note at offset {:#x}: descriptor has {} bytes; an XSAVE "
                                    "area needs at least {}", n.offset, n.desc.size(), kExtendedOffset));
        return attach(n, &ThreadNotes::xstate, name);
    }
    // A second note of one kind before the next NT_PRSTATUS starts another thread (same id).
    bool attach(const RawNote& n, std::optional<NamedNote> ThreadNotes::*slot, const char* name) {
        if (threads.empty() || (threads.back().*slot)) new_thread(threads.empty() ? 0 : threads.back().tid);
        threads.back().*slot = NamedNote{n, name};
        return true;
    }
    void select_lwp(int32_t lwp) {
        if (!threads.empty() && threads.back().tid == lwp) return;
        auto it = std::find_if(threads.begin(), threads.end(), [&](const ThreadNotes& t) { return t.tid == lwp; });
        if (it != threads.end()) std::rotate(it, it + 1, threads.end());   // notes of an LWP are normally together
        else new_thread(lwp);
    }
    void new_thread(int32_t tid) {
        threads.emplace_back();
        threads.back().tid = tid;
    }
    CoreFile& core_;
    bool legacy32_;
};

} // namespace

const char* core_os_name(CoreOs os) {
    switch (os) {
    case CoreOs::Linux: return "Linux";
    case CoreOs::FreeBSD: return "FreeBSD";
    case CoreOs::NetBSD: return "NetBSD";
    }
    return "?";
}

const char* core_abi_name(CoreAbi abi) {
    switch (abi) {
    case CoreAbi::Amd64: return "x86-64";
    case CoreAbi::I386: return "i386";
    case CoreAbi::X32: return "x32";
    }
    return "?";
}

uint64_t CoreThread::xcr0() const {
    if (built_xcr0) return built_xcr0;
    return xstate.size() >= kCoreXcr0Offset + 8 ? load_le(xstate.data() + kCoreXcr0Offset, 8) : 0;
}

CoreFile read_elf_core(std::span<const uint8_t> bytes) {
    Reader r{bytes};
    CoreFile core;
    core.abi = check_header(r);
    uint64_t phoff = r.word(r.e_phoff()), phentsize = r.u16(r.e_phentsize()), n = phnum(r), phsize = r.phdr_size();
    if (phentsize != phsize)
        throw Error(fmt::format("offset {}: program header size {}; expected {} (Elf{}_Phdr)", r.e_phentsize(), phentsize,
                                phsize, r.is64 ? 64 : 32));
    if (n == 0)
        throw Error(fmt::format("offset {}: no program headers (e_phnum 0); a core file keeps its notes in PT_NOTE", r.e_phnum()));
    // n <= 2^32 and phentsize <= 56, so n * phentsize cannot overflow.
    if (phoff > bytes.size() || (bytes.size() - phoff) / phsize < n)
        throw Error(fmt::format("offset {}: program header table at {:#x} with {} entries of {} bytes ends "
                                "past the end of the file ({:#x} bytes)", r.e_phoff(), phoff, n, phsize, bytes.size()));

    Grouper group(core);
    size_t notes = 0;
    uint64_t note_bytes = 0;   // segments may overlap; their total bounds what we copy
    for (uint64_t i = 0; i < n; ++i) {
        uint64_t ph = phoff + i * phsize;
        if (r.u32(ph) != kPtNote) continue;
        uint64_t off = r.word(ph + r.p_offset()), size = r.word(ph + r.p_filesz());
        if (off > bytes.size() || bytes.size() - off < size)
            throw Error(fmt::format("program header {} (offset {:#x}): PT_NOTE segment at {:#x} of {:#x} bytes "
                                    "ends past the end of the file ({:#x} bytes)", i, ph, off, size, bytes.size()));
        note_bytes += size;
        if (note_bytes > bytes.size())
            throw Error(fmt::format("program header {} (offset {:#x}): the PT_NOTE segments add up to more than the "
                                    "file's {:#x} bytes; they overlap", i, ph, bytes.size()));
        walk_notes(r, off, off + size, [&](const RawNote& note) {
            ++notes;
            if (group.take(note)) return;
            if (note.owner == "LINUX" && note.type == kNtX86XsaveLayout) {
                for (size_t k = 0; k + 16 <= note.desc.size(); k += 16) {
                    const uint8_t* e = note.desc.data() + k;
                    core.kernel_layout.push_back({uint32_t(load_le(e, 4)), uint32_t(load_le(e + 4, 4)),
                                                  uint32_t(load_le(e + 8, 4)), uint32_t(load_le(e + 12, 4))});
                }
                core.kernel_layout_source = "NT_X86_XSAVE_LAYOUT note";
            }
        });
    }
    build_threads(core, group.threads);
    if (core.threads.empty())
        throw Error(fmt::format("no x86 floating-point state note (NT_X86_XSTATE, NT_PRXFPREG, NT_FPREGSET, NetBSD "
                                "PT_GETFPREGS/PT_GETXSTATE) among the {} notes of this {} core file", notes,
                                core_abi_name(core.abi)));
    return core;
}

} // namespace xsave
