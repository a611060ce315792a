// Leaf 0xD as the Linux kernel prints it when its XSAVE size check fails:
//   [    4.810174] CPUID[0d, 01]: eax=0000001b ebx=000029d0 ecx=00001800 edx=00000000
// Only leaf 0xD is there: no vendor, no feature flags.
#include "profiles/import_detail.hpp"
#include "xsave/error.hpp"

#include <fmt/core.h>

#include <cctype>

namespace xsave {

namespace {

bool take_hex(std::string_view& s, uint32_t& out, size_t max_digits = 8) {
    size_t n = 0;
    while (n < s.size() && n < max_digits + 1 && std::isxdigit(static_cast<unsigned char>(s[n]))) ++n;
    if (!detail::parse_hex32(s.substr(0, n), out)) return false;
    s.remove_prefix(n);
    return true;
}

bool take(std::string_view& s, std::string_view lit) {
    if (!s.starts_with(lit)) return false;
    s.remove_prefix(lit.size());
    return true;
}

} // namespace

Profile import_dmesg(std::string_view text, const ImportOptions& opt) {
    if (opt.cpu != 0) throw Error("dmesg: the kernel prints one CPU's leaf 0xd; --cpu does not apply");
    Profile p;
    size_t line_no = 0;
    for (auto l : detail::split_lines(text)) {
        ++line_no;
        auto at = l.find("CPUID[");
        if (at == std::string_view::npos) continue;
        std::string_view s = l.substr(at + 6);
        CpuidLeaf r;
        bool ok = take_hex(s, r.leaf) && take(s, ", ") && take_hex(s, r.subleaf) && take(s, "]: eax=") &&
                  take_hex(s, r.eax) && take(s, " ebx=") && take_hex(s, r.ebx) && take(s, " ecx=") &&
                  take_hex(s, r.ecx) && take(s, " edx=") && take_hex(s, r.edx);
        if (!ok)
            throw Error(fmt::format("dmesg: line {}: expected \"CPUID[LL, SS]: eax=... ebx=... ecx=... edx=...\", got \"{}\"",
                                    line_no, detail::excerpt(l.substr(at))));
        if (p.find(r.leaf, r.subleaf)) {
            p.warnings.push_back(fmt::format("dmesg: line {}: leaf {:#x} subleaf {:#x} listed twice; kept the first",
                                             line_no, r.leaf, r.subleaf));
            continue;
        }
        p.set(r);
    }
    if (p.leaves.empty()) throw Error("dmesg: no CPUID[..] lines");
    p.warnings.push_back("dmesg: the kernel prints only leaf 0xd: no vendor, feature flags or enabled XCR0/IA32_XSS");
    detail::finish_import(p, opt);
    if (p.name.empty()) p.name = "dmesg";
    return p;
}

} // namespace xsave
