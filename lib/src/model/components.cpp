// The component catalogue: every XSAVE state component, its registers and how to show them.
#include "xsave/components.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <string>

namespace xsave {
namespace {

using S = Show;

// Legacy region (bits 0 and 1): offsets are from the start of the XSAVE area (SDM 13.4.1).
constexpr FieldDesc kX87[] = {
    {.prefix = "fcw", .offset = 0, .width = 2, .init = Init::Fcw},
    {.prefix = "fsw", .offset = 2, .width = 2},
    {.prefix = "ftw", .offset = 4, .width = 1},          // abridged tag word as stored: bit i set = ST(i) valid
    {.prefix = "fop", .offset = 6, .width = 2},
    {.prefix = "fip", .offset = 8, .width = 8, .count32 = 0},
    {.prefix = "fdp", .offset = 16, .width = 8, .count32 = 0},
    // 32-bit form (FXSAVE without REX.W, FSAVE): offsets and selectors (SDM Table 10-2).
    {.prefix = "fip", .offset = 8, .width = 4, .count32 = 1, .only32 = true},
    {.prefix = "fcs", .offset = 12, .width = 2, .count32 = 1, .only32 = true},
    {.prefix = "fdp", .offset = 16, .width = 4, .count32 = 1, .only32 = true},
    {.prefix = "fds", .offset = 20, .width = 2, .count32 = 1, .only32 = true},
    {.prefix = "st", .offset = 32, .width = 10, .count = 8, .stride = 16, .show = S::X87Reg},
};
constexpr FieldDesc kSse[] = {
    {.prefix = "mxcsr", .offset = 24, .width = 4, .show = S::Mxcsr, .init = Init::Mxcsr},
    {.prefix = "mxcsr_mask", .offset = 28, .width = 4, .init = Init::Stored},
    {.prefix = "xmm", .offset = 160, .width = 16, .count = 16, .stride = 16, .count32 = 8},   // XMM8-15: 64-bit mode only
};
constexpr FieldDesc kAvx[] = {{.prefix = "ymmh", .offset = 0, .width = 16, .count = 16, .stride = 16, .architectural = false, .count32 = 8}};
constexpr FieldDesc kBndregs[] = {{.prefix = "bnd", .offset = 0, .width = 16, .count = 4, .stride = 16}};
constexpr FieldDesc kBndcsr[] = {{.prefix = "bndcfgu", .offset = 0, .width = 8},
    {.prefix = "bndstatus", .offset = 8, .width = 8}};
constexpr FieldDesc kOpmask[] = {{.prefix = "k", .offset = 0, .width = 8, .count = 8, .stride = 8}};
constexpr FieldDesc kZmmHi256[] = {{.prefix = "zmmh", .offset = 0, .width = 32, .count = 16, .stride = 32, .architectural = false, .count32 = 8}};
constexpr FieldDesc kHi16Zmm[] = {{.prefix = "zmm", .offset = 0, .width = 64, .count = 16, .stride = 64, .first_index = 16, .count32 = 0}};
constexpr FieldDesc kPt[] = {
    {.prefix = "rtit_ctl", .offset = 0, .width = 8, .architectural = false},
    {.prefix = "rtit_output_base", .offset = 8, .width = 8, .architectural = false},
    {.prefix = "rtit_output_mask_ptrs", .offset = 16, .width = 8, .architectural = false},
    {.prefix = "rtit_status", .offset = 24, .width = 8, .architectural = false},
    {.prefix = "rtit_cr3_match", .offset = 32, .width = 8, .architectural = false},
    {.prefix = "rtit_addr_a", .offset = 40, .width = 8, .count = 4, .stride = 16, .architectural = false},
    {.prefix = "rtit_addr_b", .offset = 48, .width = 8, .count = 4, .stride = 16, .architectural = false},
};
constexpr FieldDesc kPkru[] = {{.prefix = "pkru", .offset = 0, .width = 4}};
constexpr FieldDesc kPasid[] = {{.prefix = "ia32_pasid", .offset = 0, .width = 8, .architectural = false}};
constexpr FieldDesc kCetU[] = {{.prefix = "ia32_u_cet", .offset = 0, .width = 8, .architectural = false},
    {.prefix = "ia32_pl3_ssp", .offset = 8, .width = 8, .architectural = false}};
constexpr FieldDesc kCetS[] = {{.prefix = "ia32_pl0_ssp", .offset = 0, .width = 8, .architectural = false},
    {.prefix = "ia32_pl1_ssp", .offset = 8, .width = 8, .architectural = false},
    {.prefix = "ia32_pl2_ssp", .offset = 16, .width = 8, .architectural = false}};
constexpr FieldDesc kHdc[] = {{.prefix = "ia32_pm_ctl1", .offset = 0, .width = 8, .architectural = false}};
constexpr FieldDesc kUintr[] = {
    {.prefix = "ia32_uintr_handler", .offset = 0, .width = 8, .architectural = false},
    {.prefix = "ia32_uintr_stackadjust", .offset = 8, .width = 8, .architectural = false},
    {.prefix = "uintr_misc", .offset = 16, .width = 8, .architectural = false},
    {.prefix = "ia32_uintr_pd", .offset = 24, .width = 8, .architectural = false},
    {.prefix = "ia32_uintr_rr", .offset = 32, .width = 8, .architectural = false},
    {.prefix = "ia32_uintr_tt", .offset = 40, .width = 8, .architectural = false},
};
// Arch LBR: 40 bytes of control registers, then depth-many {FROM, TO, INFO} triples.
constexpr FieldDesc kLbr[] = {
    {.prefix = "ia32_lbr_ctl", .offset = 0, .width = 8, .architectural = false},
    {.prefix = "ia32_lbr_depth", .offset = 8, .width = 8, .architectural = false},
    {.prefix = "ia32_ler_from_ip", .offset = 16, .width = 8, .architectural = false},
    {.prefix = "ia32_ler_to_ip", .offset = 24, .width = 8, .architectural = false},
    {.prefix = "ia32_ler_info", .offset = 32, .width = 8, .architectural = false},
    {.prefix = "lbr_from_ip", .offset = 40, .width = 8, .count = 32, .stride = 24, .architectural = false},
    {.prefix = "lbr_to_ip", .offset = 48, .width = 8, .count = 32, .stride = 24, .architectural = false},
    {.prefix = "lbr_info", .offset = 56, .width = 8, .count = 32, .stride = 24, .architectural = false},
};
constexpr FieldDesc kHwp[] = {{.prefix = "ia32_hwp_request", .offset = 0, .width = 8, .architectural = false}};
constexpr FieldDesc kTilecfg[] = {
    {.prefix = "palette_id", .offset = 0, .width = 1, .architectural = false},
    {.prefix = "start_row", .offset = 1, .width = 1, .architectural = false},
    {.prefix = "colsb", .offset = 16, .width = 2, .count = 16, .stride = 2, .architectural = false},
    {.prefix = "rows", .offset = 48, .width = 1, .count = 16, .stride = 1, .architectural = false},
};
constexpr FieldDesc kTiledata[] = {{.prefix = "tmm", .offset = 0, .width = 1024, .count = 8, .stride = 1024, .show = S::Bytes}};
constexpr FieldDesc kApx[] = {{.prefix = "r", .offset = 0, .width = 8, .count = 16, .stride = 8, .first_index = 16, .count32 = 0}};
constexpr FieldDesc kLwp[] = {{.prefix = "lwpcb_address", .offset = 0, .width = 8, .architectural = false},
    {.prefix = "lwp_state", .offset = 8, .width = 120, .show = S::Bytes, .architectural = false}};

// rank orders registers as the dump contract lists them: x87, SSE, views (ymm, zmm0-15),
// zmm16-31, k, bnd, pkru, tmm, r16-31; then everything else.
constexpr ComponentInfo kComponents[] = {
    {.bit = 0, .name = "x87", .fields = kX87, .nominal_size = 160, .rank = 0, .alias = "x87"},
    {.bit = 1, .name = "SSE", .fields = kSse, .nominal_size = 256, .rank = 1, .alias = "sse"},
    {.bit = 2, .name = "AVX", .fields = kAvx, .nominal_size = 256, .rank = 10, .alias = "avx"},
    {.bit = 3, .name = "MPX BNDREGS", .fields = kBndregs, .nominal_size = 64, .rank = 14, .alias = "bndregs"},
    {.bit = 4, .name = "MPX BNDCSR", .fields = kBndcsr, .nominal_size = 64, .rank = 15, .alias = "bndcsr"},
    {.bit = 5, .name = "AVX-512 opmask", .fields = kOpmask, .nominal_size = 64, .rank = 13, .alias = "opmask"},
    {.bit = 6, .name = "ZMM_Hi256", .fields = kZmmHi256, .nominal_size = 512, .rank = 11, .alias = "zmm_hi256"},
    {.bit = 7, .name = "Hi16_ZMM", .fields = kHi16Zmm, .nominal_size = 1024, .rank = 12, .alias = "hi16_zmm"},
    {.bit = 8, .name = "PT", .supervisor = true, .fields = kPt, .nominal_size = 128, .rank = 20, .alias = "pt"},
    {.bit = 9, .name = "PKRU", .fields = kPkru, .nominal_size = 8, .rank = 16, .alias = "pkru"},
    {.bit = 10, .name = "PASID", .supervisor = true, .fields = kPasid, .nominal_size = 8, .rank = 21, .alias = "pasid"},
    {.bit = 11, .name = "CET_U", .supervisor = true, .fields = kCetU, .nominal_size = 16, .rank = 22, .alias = "cet_u"},
    {.bit = 12, .name = "CET_S", .supervisor = true, .fields = kCetS, .nominal_size = 24, .rank = 23, .alias = "cet_s"},
    {.bit = 13, .name = "HDC", .supervisor = true, .fields = kHdc, .nominal_size = 8, .rank = 24, .alias = "hdc"},
    {.bit = 14, .name = "UINTR", .supervisor = true, .fields = kUintr, .nominal_size = 48, .rank = 25, .alias = "uintr"},
    {.bit = 15, .name = "LBR", .supervisor = true, .fields = kLbr, .nominal_size = 0, .rank = 26, .alias = "lbr"},
    {.bit = 16, .name = "HWP", .supervisor = true, .fields = kHwp, .nominal_size = 8, .rank = 27, .alias = "hwp"},
    {.bit = 17, .name = "AMX TILECFG", .fields = kTilecfg, .nominal_size = 64, .rank = 17, .alias = "tilecfg"},
    {.bit = 18, .name = "AMX TILEDATA", .fields = kTiledata, .nominal_size = 8192, .rank = 18, .alias = "tiledata"},
    {.bit = 19, .name = "APX", .fields = kApx, .nominal_size = 128, .rank = 19, .alias = "apx"},
    {.bit = 62, .name = "AMD LWP", .fields = kLwp, .nominal_size = 128, .rank = 28, .alias = "lwp"},
};

constexpr ViewDesc kViews[] = {
    {"ymm", 16, 32, {{"xmm", 1}, {"ymmh", 2}, {}}, 10},
    {"zmm", 16, 64, {{"xmm", 1}, {"ymmh", 2}, {"zmmh", 6}}, 11},
};

constexpr std::array<const ComponentInfo*, 64> make_index() {
    std::array<const ComponentInfo*, 64> idx{};
    for (const auto& c : kComponents) idx[c.bit] = &c;
    return idx;
}
constexpr auto kIndex = make_index();

std::string lower(std::string_view s) {
    std::string r(s);
    for (auto& c : r) c = char(std::tolower(static_cast<unsigned char>(c)));
    return r;
}

// Group aliases users type for --drop/--ignore.
struct Alias { std::string_view name; uint64_t mask; };
constexpr Alias kGroups[] = {
    {"mpx", kMpxGroup}, {"avx512", kAvx512Group}, {"amx", kAmxGroup}, {"cet", 0x1800},
    {"legacy", 0x3}, {"fp", 0x1}, {"tiles", kAmxGroup},
};

} // namespace

const ComponentInfo* component_info(unsigned bit) { return bit < 64 ? kIndex[bit] : nullptr; }
std::span<const ComponentInfo> all_components() { return kComponents; }
std::span<const ViewDesc> all_views() { return kViews; }

std::string component_name(unsigned bit) {
    if (auto* c = component_info(bit)) return std::string(c->name);
    return "bit" + std::to_string(bit);
}

bool xsetbv_accepts(uint64_t m, uint64_t sup) {
    if (!(m & 1) || (m & ~sup)) return false;
    if ((m >> 2 & 1) && !(m >> 1 & 1)) return false;
    for (uint64_t group : {kMpxGroup, kAvx512Group, kAmxGroup}) {
        uint64_t g = group & sup;
        if ((m & g) != 0 && (m & g) != g) return false;
    }
    return !(m & kAvx512Group) || (m >> 2 & 1);
}

std::string mask_aliases(uint64_t mask) {
    std::string r;
    for (unsigned b = 0; b < 63; ++b) {
        if (!(mask >> b & 1)) continue;
        const ComponentInfo* c = component_info(b);
        if (!r.empty()) r += ',';
        if (c) r += c->alias;
        else r += "bit" + std::to_string(b);
    }
    return r;
}

std::string mask_names(uint64_t mask, std::string_view bit63) {
    std::string r;
    for (unsigned b = 0; b < 64; ++b) {
        if (!(mask >> b & 1)) continue;
        if (!r.empty()) r += '|';
        r += b == 63 ? std::string(bit63) : component_name(b);
    }
    return r.empty() ? "none" : r;
}

uint64_t component_mask_from_name(std::string_view name) {
    std::string n = lower(name);
    if (n.empty()) return 0;
    for (const auto& c : kComponents)
        if (n == lower(c.name) || n == c.alias) return 1ull << c.bit;
    for (const auto& g : kGroups)
        if (n == g.name) return g.mask;
    if (n.starts_with("bit") && n.size() > 3 && n.size() <= 5) {
        unsigned v = 0;
        auto [p, ec] = std::from_chars(n.data() + 3, n.data() + n.size(), v);
        if (ec == std::errc() && p == n.data() + n.size() && v < 63) return 1ull << v;
    }
    return 0;
}

std::string field_instance_name(const FieldDesc& f, unsigned i) {
    return f.count == 1 ? std::string(f.prefix) : std::string(f.prefix) + std::to_string(f.first_index + i);
}

RegisterIndex split_register_name(std::string_view name) {
    size_t k = name.size();
    while (k > 0 && std::isdigit(static_cast<unsigned char>(name[k - 1]))) --k;
    if (k == name.size() || k == 0) return {name, -1};
    int n = 0;
    if (std::from_chars(name.data() + k, name.data() + name.size(), n).ec != std::errc()) return {name, -1};
    return {name.substr(0, k), n};
}

} // namespace xsave
