// Format detection, dispatch, shared importer helpers, and resolving "--cpuid" specs.
#include "profiles/import_detail.hpp"
#include "xsave/error.hpp"
#include "xsave/numbers.hpp"
#include "xsave/file_bytes.hpp"
#include "xsave/names.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <tuple>

namespace xsave {

namespace detail {

std::vector<std::string_view> split_lines(std::string_view text) {
    std::vector<std::string_view> lines;
    while (!text.empty()) {
        size_t n = text.find('\n');
        std::string_view line = text.substr(0, n);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        lines.push_back(line);
        if (n == std::string_view::npos) break;
        text.remove_prefix(n + 1);
    }
    return lines;
}

bool parse_hex32(std::string_view s, uint32_t& out) {
    if (s.empty() || s.size() > 8) return false;
    uint32_t v = 0;
    for (char c : s) {
        int d = hex_digit(c);
        if (d < 0) return false;
        v = v << 4 | unsigned(d);
    }
    out = v;
    return true;
}

std::string excerpt(std::string_view line) {
    std::string s;
    for (char c : line.substr(0, 100)) s += (c >= 0x20 && c < 0x7f) ? c : '?';
    if (line.size() > 100) s += "...";
    return s;
}

void finish_import(Profile& p, const ImportOptions& opt) {
    std::sort(p.leaves.begin(), p.leaves.end(),
              [](const CpuidLeaf& a, const CpuidLeaf& b) { return std::tie(a.leaf, a.subleaf) < std::tie(b.leaf, b.subleaf); });
    auto reg_text = [](std::initializer_list<uint32_t> regs) {
        std::string s;
        for (uint32_t r : regs)
            for (int i = 0; i < 4; ++i) {
                char c = char(r >> (8 * i));
                if (c) s += (c >= 0x20 && c < 0x7f) ? c : '?';
            }
        return s;
    };
    if (const CpuidLeaf* l0 = p.find(0)) p.vendor = reg_text({l0->ebx, l0->edx, l0->ecx});
    if (!p.name.empty()) return;
    std::string brand;
    for (uint32_t leaf = 0x80000002; leaf <= 0x80000004; ++leaf)
        if (const CpuidLeaf* l = p.find(leaf)) brand += reg_text({l->eax, l->ebx, l->ecx, l->edx});
    auto b = brand.find_first_not_of(' ');
    auto e = brand.find_last_not_of(' ');
    brand = b == std::string::npos ? "" : brand.substr(b, e - b + 1);
    p.name = brand.empty() ? opt.name : brand;
}

} // namespace detail

const char* import_format_name(ImportFormat f) {
    switch (f) {
    case ImportFormat::Json: return "json";
    case ImportFormat::CpuidRaw: return "cpuid -r";
    case ImportFormat::Aida64: return "aida64";
    case ImportFormat::Dmesg: return "dmesg";
    }
    return "?";
}

namespace {

bool is_aida_line(std::string_view l) {
    uint32_t v;
    return l.size() >= 15 && l.starts_with("CPUID ") && l[14] == ':' && detail::parse_hex32(l.substr(6, 8), v);
}

bool is_cpuid_raw_line(std::string_view l) {
    auto b = l.find_first_not_of(" \t");
    if (b == std::string_view::npos) return false;
    l.remove_prefix(b);
    return l.size() > 20 && l.starts_with("0x") && l.substr(10, 3) == " 0x" && l.find(": eax=0x") != std::string_view::npos;
}

bool is_dmesg_line(std::string_view l) { return l.find("CPUID[") != std::string_view::npos && l.find("]: eax=") != std::string_view::npos; }

} // namespace

ImportFormat detect_format(std::string_view text) {
    if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);   // UTF-8 BOM from Windows editors
    auto b = text.find_first_not_of(" \t\r\n");
    if (b != std::string_view::npos && text[b] == '{') return ImportFormat::Json;
    for (auto line : detail::split_lines(text)) {
        if (is_aida_line(line)) return ImportFormat::Aida64;
        if (is_cpuid_raw_line(line)) return ImportFormat::CpuidRaw;
        if (is_dmesg_line(line)) return ImportFormat::Dmesg;
    }
    throw Error("unrecognised profile format: expected our JSON, `cpuid -r` output, an AIDA64 CPUID dump or "
                "dmesg CPUID[..] lines");
}

Profile import_profile(std::string_view text, const ImportOptions& opt) {
    if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
    switch (detect_format(text)) {
    case ImportFormat::Json: {
        if (opt.cpu != 0) throw Error("json: a profile describes one CPU; --cpu does not apply");
        Profile p = profile_from_json(text);
        if (p.name.empty()) p.name = opt.name;
        return p;
    }
    case ImportFormat::CpuidRaw: return import_cpuid_raw(text, opt);
    case ImportFormat::Aida64: return import_aida64(text, opt);
    case ImportFormat::Dmesg: return import_dmesg(text, opt);
    }
    throw Error("unrecognised profile format");
}

namespace {

// Dumps are small (the largest AIDA64 file we know is under 3 MiB); refuse anything absurd
// rather than reading it into memory.
constexpr uintmax_t kMaxProfileFile = 64u << 20;

std::string read_profile_file(const std::string& path) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) throw Error(fmt::format("{}: {}", path, std::strerror(errno)));
    if (!S_ISREG(st.st_mode)) throw Error(fmt::format("{}: not a regular file", path));
    if (uintmax_t(st.st_size) > kMaxProfileFile)
        throw Error(fmt::format("{}: {} bytes, larger than the {} a profile may be", path, st.st_size, kMaxProfileFile));
    std::ifstream f(path, std::ios::binary);
    if (!f) throw Error(fmt::format("{}: {}", path, std::strerror(errno)));
    std::string s(size_t(st.st_size), '\0');
    f.read(s.data(), std::streamsize(s.size()));
    s.resize(size_t(f.gcount()));
    return s;
}

} // namespace

// Short names people use for the built-in CPUs (Intel's and AMD's code names).
constexpr std::pair<std::string_view, std::string_view> kProfileAliases[] = {
    {"snb-e", "sandybridge-e"}, {"skl", "skylake-client"}, {"skx", "skylake-sp"},       {"icx", "icelake-sp"},
    {"tgl", "tigerlake"},       {"adl", "alderlake"},      {"spr", "sapphire-rapids"},  {"gnr", "granite-rapids"},
    {"arl", "arrowlake"},       {"lnl", "lunarlake"},      {"knl", "knights-landing"},  {"glm", "goldmont"},
    {"zen3", "zen3-milan"},     {"milan", "zen3-milan"},   {"zen4", "zen4-genoa"},      {"genoa", "zen4-genoa"},
    {"bulldozer", "bulldozer-interlagos"}, {"interlagos", "bulldozer-interlagos"},
};

std::string builtin_profile_name(std::string_view spec) {
    std::vector<std::string> names;
    for (const auto& b : builtin_profiles()) {
        if (b.name == spec) return std::string(spec);
        names.emplace_back(b.name);
    }
    for (const auto& [alias, name] : kProfileAliases)
        if (alias == spec) return std::string(name);
    std::vector<std::string> prefixed;
    for (const auto& n : names)
        if (n.starts_with(spec)) prefixed.push_back(n);
    if (prefixed.size() == 1 && !spec.empty()) return prefixed[0];
    if (prefixed.size() > 1 && !spec.empty())
        throw Error(fmt::format("{}: ambiguous built-in profile: {}", spec, quoted_choice(prefixed)));
    std::vector<std::string> all = names;
    for (const auto& a : kProfileAliases) all.emplace_back(a.first);
    std::vector<std::string> close;
    for (auto& c : close_names(spec, all)) {
        for (const auto& [alias, name] : kProfileAliases)
            if (alias == c) c = fmt::format("{} ({})", alias, name);
        if (close.size() < 4) close.push_back(c);
    }
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    if (!close.empty()) throw Error(fmt::format("{}: no such file or built-in profile; did you mean {}?", spec, quoted_choice(close)));
    throw Error(fmt::format("{}: no such file or built-in profile (built-in: {})", spec, list));
}

Profile resolve_profile(const std::string& spec, const ImportOptions& opt) {
    if (spec == "host") return host_profile(opt.host);
    if (spec == "-") {
        std::vector<uint8_t> bytes = read_file("-", kMaxProfileFile);
        ImportOptions o = opt;
        if (o.name.empty()) o.name = "stdin";
        return naming("stdin", [&] { return import_profile({reinterpret_cast<const char*>(bytes.data()), bytes.size()}, o); });
    }
    if (!std::filesystem::exists(spec) && spec.find('/') == std::string::npos && spec.find('.') == std::string::npos)
        return builtin_profile(builtin_profile_name(spec));
    std::string text = read_profile_file(spec);
    ImportOptions o = opt;
    if (o.name.empty()) o.name = std::filesystem::path(spec).stem().string();
    return naming(spec, [&] { return import_profile(text, o); });
}

Profile minimal_profile(const Profile& p) {
    Profile m = p;
    m.leaves.clear();
    for (const auto& l : p.leaves)
        if (l.leaf == 0 || l.leaf == 1 || l.leaf == 7 || l.leaf == 0xD || l.leaf == 0x80000000 || l.leaf == 0x80000001)
            m.leaves.push_back(l);
    return m;
}

} // namespace xsave
