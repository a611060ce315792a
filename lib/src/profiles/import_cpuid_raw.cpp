// `cpuid -r` output (Debian package cpuid):
//   CPU 0:
//      0x0000000d 0x01: eax=0x00000007 ebx=0x00000980 ecx=0x00000000 edx=0x00000000
// `cpuid -1 -r` prints "CPU:" instead; both are one block per logical CPU.
#include "profiles/import_detail.hpp"
#include "xsave/error.hpp"

#include <fmt/core.h>

#include <cctype>

namespace xsave {

namespace {

// "0x0000000d 0x01: eax=0x.. ebx=0x.. ecx=0x.. edx=0x.." (leading blanks removed).
CpuidLeaf parse_raw_line(std::string_view l, size_t line_no) {
    auto bad = [&]() {
        return Error(fmt::format("cpuid -r: line {}: expected \"0xLEAF 0xSUB: eax=0x... ebx=0x... ecx=0x... edx=0x...\", "
                                 "got \"{}\"", line_no, detail::excerpt(l)));
    };
    auto hex_after = [&](std::string_view& s, std::string_view prefix, uint32_t& out) {
        if (!s.starts_with(prefix)) throw bad();
        s.remove_prefix(prefix.size());
        size_t n = 0;
        while (n < s.size() && n < 9 && std::isxdigit(static_cast<unsigned char>(s[n]))) ++n;
        if (!detail::parse_hex32(s.substr(0, n), out)) throw bad();
        s.remove_prefix(n);
    };
    CpuidLeaf r;
    std::string_view s = l;
    hex_after(s, "0x", r.leaf);
    hex_after(s, " 0x", r.subleaf);
    if (!s.starts_with(":")) throw bad();
    s.remove_prefix(1);
    hex_after(s, " eax=0x", r.eax);
    hex_after(s, " ebx=0x", r.ebx);
    hex_after(s, " ecx=0x", r.ecx);
    hex_after(s, " edx=0x", r.edx);
    return r;
}

} // namespace

Profile import_cpuid_raw(std::string_view text, const ImportOptions& opt) {
    Profile p;
    bool any_header = false, in_block = false, found = false, seen_lines = false;
    unsigned blocks = 0;
    size_t line_no = 0;
    for (auto raw : detail::split_lines(text)) {
        ++line_no;
        std::string_view l = raw;
        while (!l.empty() && (l.front() == ' ' || l.front() == '\t')) l.remove_prefix(1);
        while (!l.empty() && (l.back() == ' ' || l.back() == '\t')) l.remove_suffix(1);
        if (l.starts_with("CPU") && l.ends_with(":") && !l.starts_with("CPUID")) {
            // "CPU 3:" or "CPU:"
            std::string_view num = l.substr(3, l.size() - 4);
            while (num.starts_with(' ')) num.remove_prefix(1);
            unsigned n = blocks;
            if (!num.empty()) {
                n = 0;
                for (char c : num) {
                    if (c < '0' || c > '9' || n > 100000) throw Error(fmt::format("cpuid -r: line {}: malformed CPU header \"{}\"", line_no, detail::excerpt(raw)));
                    n = n * 10 + unsigned(c - '0');
                }
            }
            any_header = true;
            ++blocks;
            if (found) break;   // the block we wanted is complete
            in_block = n == opt.cpu;
            found = in_block;
            continue;
        }
        if (!l.starts_with("0x")) continue;
        seen_lines = true;
        if (!any_header && !in_block) {
            // Headerless output is one CPU.
            in_block = found = opt.cpu == 0;
            blocks = 1;
        }
        CpuidLeaf r = parse_raw_line(l, line_no);
        if (!in_block) continue;
        if (p.find(r.leaf, r.subleaf)) {
            p.warnings.push_back(fmt::format("cpuid -r: line {}: leaf {:#x} subleaf {:#x} listed twice; kept the first",
                                             line_no, r.leaf, r.subleaf));
            continue;
        }
        p.set(r);
    }
    if (!seen_lines) throw Error("cpuid -r: no CPUID lines");
    if (!found) throw Error(fmt::format("cpuid -r: no CPU {} in the output ({} CPU blocks)", opt.cpu, blocks));
    detail::finish_import(p, opt);
    return p;
}

} // namespace xsave
