// AIDA64 CPUID dumps as the InstLatx64 collection publishes them:
//   ------[ CPUID Registers / Logical CPU #0 ]------      (older: "------[ Logical CPU #0 ]------")
//   CPUID 0000000D: 000602E7-00002B00-00002B00-00000000 [SL 00] [x87]
// Some dumps have no block headers (one CPU, or CPUs one after another from leaf 0).
#include "profiles/import_detail.hpp"
#include "xsave/error.hpp"

#include <fmt/core.h>

#include <cstdint>
#include <map>
#include <optional>

namespace xsave {

namespace {

struct Entry {
    CpuidLeaf regs;
    bool tagged = false;
    size_t line = 0;
};

struct Block {
    unsigned cpu = 0;
    std::vector<Entry> entries;
};

// "------[ CPUID Registers / Logical CPU #12 ]------" or "------[ Logical CPU #12 ]------":
// the CPU number; nullopt for other headers.
std::optional<unsigned> cpu_header(std::string_view l) {
    for (std::string_view prefix : {"------[ CPUID Registers / Logical CPU #", "------[ Logical CPU #"}) {
        if (!l.starts_with(prefix)) continue;
        l.remove_prefix(prefix.size());
        unsigned n = 0;
        size_t i = 0;
        for (; i < l.size() && i < 6 && l[i] >= '0' && l[i] <= '9'; ++i) n = n * 10 + unsigned(l[i] - '0');
        if (i == 0 || !l.substr(i).starts_with(" ]")) return std::nullopt;
        return n;
    }
    return std::nullopt;
}

// "CPUID LLLLLLLL: AAAAAAAA-BBBBBBBB-CCCCCCCC-DDDDDDDD [SL nn] ..."
Entry parse_aida64_line(std::string_view l, size_t line_no) {
    Entry e;
    e.line = line_no;
    auto bad = [&](const char* why) {
        return Error(fmt::format("aida64: line {}: {}: \"{}\"", line_no, why, detail::excerpt(l)));
    };
    detail::parse_hex32(l.substr(6, 8), e.regs.leaf);
    std::string_view rest = l.substr(15);
    while (rest.starts_with(' ')) rest.remove_prefix(1);
    uint32_t* regs[] = {&e.regs.eax, &e.regs.ebx, &e.regs.ecx, &e.regs.edx};
    for (int i = 0; i < 4; ++i) {
        if (rest.size() < 8 || !detail::parse_hex32(rest.substr(0, 8), *regs[i]))
            throw bad("expected four 8-digit hex registers");
        rest.remove_prefix(8);
        if (i < 3) {
            if (!rest.starts_with('-')) throw bad("expected four 8-digit hex registers");
            rest.remove_prefix(1);
        }
    }
    while (rest.starts_with(' ')) rest.remove_prefix(1);
    if (rest.starts_with("[SL ")) {
        size_t end = rest.find(']');
        uint32_t sl;
        if (end == std::string_view::npos || !detail::parse_hex32(rest.substr(4, end - 4), sl))
            throw bad("malformed [SL nn] tag");
        e.regs.subleaf = sl;
        e.tagged = true;
    }
    return e;
}

// Leaf 0xD without [SL] tags: AIDA64 lists subleaves 0 and 1, then one line per supported
// component in bit order. The order is only certain when the line count matches.
void resolve_untagged_0d(const std::vector<const Entry*>& lines, Profile& p) {
    CpuidLeaf s0 = lines[0]->regs, s1 = lines.size() > 1 ? lines[1]->regs : CpuidLeaf{};
    uint64_t bits = ((uint64_t(s0.edx) << 32 | s0.eax) | (uint64_t(s1.edx) << 32 | s1.ecx)) & ~3ull;
    std::vector<uint32_t> subleaves = {0, 1};
    for (unsigned b = 2; b < 64; ++b)
        if (bits >> b & 1) subleaves.push_back(b);
    if (subleaves.size() == lines.size()) {
        for (size_t i = 0; i < lines.size(); ++i) {
            CpuidLeaf l = lines[i]->regs;
            l.subleaf = subleaves[i];
            p.set(l);
        }
        p.warnings.push_back(fmt::format(
            "aida64: leaf 0xd has {} untagged lines; assigned to subleaves 0, 1 and the supported components in bit order",
            lines.size()));
        return;
    }
    size_t keep = std::min<size_t>(2, lines.size());
    for (size_t i = 0; i < keep; ++i) {
        CpuidLeaf l = lines[i]->regs;
        l.subleaf = uint32_t(i);
        p.set(l);
    }
    p.warnings.push_back(fmt::format(
        "aida64: leaf 0xd has {} untagged lines for {} expected subleaves; kept subleaves 0 and 1, dropped the rest",
        lines.size(), subleaves.size()));
}

Profile block_to_profile(const Block& b) {
    Profile p;
    std::map<uint32_t, std::vector<const Entry*>> untagged;
    for (const auto& e : b.entries) {
        if (!e.tagged) {
            untagged[e.regs.leaf].push_back(&e);
            continue;
        }
        if (p.find(e.regs.leaf, e.regs.subleaf)) {
            p.warnings.push_back(fmt::format("aida64: line {}: leaf {:#x} subleaf {:#x} listed twice; kept the first",
                                             e.line, e.regs.leaf, e.regs.subleaf));
            continue;
        }
        p.set(e.regs);
    }
    for (const auto& [leaf, lines] : untagged) {
        if (lines.size() == 1) {
            if (p.find(leaf, 0)) {
                p.warnings.push_back(fmt::format("aida64: line {}: untagged leaf {:#x} next to a tagged subleaf 0; dropped",
                                                 lines[0]->line, leaf));
                continue;
            }
            p.set(lines[0]->regs);   // subleaf 0
            continue;
        }
        if (leaf == 0xD) {
            resolve_untagged_0d(lines, p);
            continue;
        }
        // Several untagged lines: the first is subleaf 0 (AIDA64 starts there); which
        // subleaves the rest are is a guess we refuse to make.
        if (!p.find(leaf, 0)) p.set(lines[0]->regs);
        p.warnings.push_back(fmt::format("aida64: leaf {:#x} has {} untagged lines; kept the first as subleaf 0, "
                                         "dropped {} whose subleaf is ambiguous",
                                         leaf, lines.size(), lines.size() - 1));
    }
    return p;
}

} // namespace

Profile import_aida64(std::string_view text, const ImportOptions& opt) {
    std::vector<Block> blocks;
    bool headers = false;       // the dump has block headers
    size_t cur = SIZE_MAX;      // index of the block CPUID lines go to
    size_t line_no = 0;
    for (auto l : detail::split_lines(text)) {
        ++line_no;
        if (l.starts_with("------[")) {
            headers = true;
            if (auto n = cpu_header(l)) {
                blocks.push_back({*n, {}});
                cur = blocks.size() - 1;
            } else {
                cur = SIZE_MAX;   // MSR registers, CPU info, ...: not ours
            }
            continue;
        }
        uint32_t leaf;
        if (!(l.size() >= 15 && l.starts_with("CPUID ") && l[14] == ':' && detail::parse_hex32(l.substr(6, 8), leaf)))
            continue;
        Entry e = parse_aida64_line(l, line_no);
        if (!headers) {
            // Without headers, leaf 0 starts the next CPU.
            if (cur == SIZE_MAX || (e.regs.leaf == 0 && !blocks[cur].entries.empty())) {
                blocks.push_back({unsigned(blocks.size()), {}});
                cur = blocks.size() - 1;
            }
        }
        if (cur != SIZE_MAX) blocks[cur].entries.push_back(e);
    }
    if (blocks.empty()) throw Error("aida64: no CPUID lines");
    const Block* pick = nullptr;
    for (const auto& b : blocks)
        if (b.cpu == opt.cpu) {
            pick = &b;
            break;
        }
    if (!pick)
        throw Error(fmt::format("aida64: no logical CPU #{} in the dump ({} CPU blocks)", opt.cpu, blocks.size()));
    if (pick->entries.empty()) throw Error(fmt::format("aida64: logical CPU #{} has no CPUID lines", opt.cpu));
    Profile p = block_to_profile(*pick);
    detail::finish_import(p, opt);
    return p;
}

} // namespace xsave
