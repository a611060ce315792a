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
constexpr bool kNotArch = false;

// Legacy region (bits 0 and 1): offsets are from the start of the XSAVE area (SDM 13.4.1).
constexpr FieldDesc kX87[] = {
    {"fcw", 0, 2, 1, 0, 0, S::Hex, true, Init::Fcw},
    {"fsw", 2, 2},
    {"ftw", 4, 1},          // abridged tag word as stored: bit i set = ST(i) valid
    {"fop", 6, 2},
    {"fip", 8, 8, 1, 0, 0, S::Hex, true, Init::Zero, 0},
    {"fdp", 16, 8, 1, 0, 0, S::Hex, true, Init::Zero, 0},
    // 32-bit form (FXSAVE without REX.W, FSAVE): offsets and selectors (SDM Table 10-2).
    {"fip", 8, 4, 1, 0, 0, S::Hex, true, Init::Zero, 1, true},
    {"fcs", 12, 2, 1, 0, 0, S::Hex, true, Init::Zero, 1, true},
    {"fdp", 16, 4, 1, 0, 0, S::Hex, true, Init::Zero, 1, true},
    {"fds", 20, 2, 1, 0, 0, S::Hex, true, Init::Zero, 1, true},
    {"st", 32, 10, 8, 16, 0, S::X87Reg},
};
constexpr FieldDesc kSse[] = {
    {"mxcsr", 24, 4, 1, 0, 0, S::Mxcsr, true, Init::Mxcsr},
    {"mxcsr_mask", 28, 4, 1, 0, 0, S::Hex, true, Init::Stored},
    {"xmm", 160, 16, 16, 16, 0, S::Hex, true, Init::Zero, 8},   // XMM8-15: 64-bit mode only
};
constexpr FieldDesc kAvx[] = {{"ymmh", 0, 16, 16, 16, 0, S::Hex, kNotArch, Init::Zero, 8}};
constexpr FieldDesc kBndregs[] = {{"bnd", 0, 16, 4, 16}};
constexpr FieldDesc kBndcsr[] = {{"bndcfgu", 0, 8}, {"bndstatus", 8, 8}};
constexpr FieldDesc kOpmask[] = {{"k", 0, 8, 8, 8}};
constexpr FieldDesc kZmmHi256[] = {{"zmmh", 0, 32, 16, 32, 0, S::Hex, kNotArch, Init::Zero, 8}};
constexpr FieldDesc kHi16Zmm[] = {{"zmm", 0, 64, 16, 64, 16, S::Hex, true, Init::Zero, 0}};
constexpr FieldDesc kPt[] = {
    {"rtit_ctl", 0, 8, 1, 0, 0, S::Hex, kNotArch},          {"rtit_output_base", 8, 8, 1, 0, 0, S::Hex, kNotArch},
    {"rtit_output_mask_ptrs", 16, 8, 1, 0, 0, S::Hex, kNotArch}, {"rtit_status", 24, 8, 1, 0, 0, S::Hex, kNotArch},
    {"rtit_cr3_match", 32, 8, 1, 0, 0, S::Hex, kNotArch},    {"rtit_addr_a", 40, 8, 4, 16, 0, S::Hex, kNotArch},
    {"rtit_addr_b", 48, 8, 4, 16, 0, S::Hex, kNotArch},
};
constexpr FieldDesc kPkru[] = {{"pkru", 0, 4}};
constexpr FieldDesc kPasid[] = {{"ia32_pasid", 0, 8, 1, 0, 0, S::Hex, kNotArch}};
constexpr FieldDesc kCetU[] = {{"ia32_u_cet", 0, 8, 1, 0, 0, S::Hex, kNotArch}, {"ia32_pl3_ssp", 8, 8, 1, 0, 0, S::Hex, kNotArch}};
constexpr FieldDesc kCetS[] = {{"ia32_pl0_ssp", 0, 8, 1, 0, 0, S::Hex, kNotArch},
                               {"ia32_pl1_ssp", 8, 8, 1, 0, 0, S::Hex, kNotArch},
                               {"ia32_pl2_ssp", 16, 8, 1, 0, 0, S::Hex, kNotArch}};
constexpr FieldDesc kHdc[] = {{"ia32_pm_ctl1", 0, 8, 1, 0, 0, S::Hex, kNotArch}};
constexpr FieldDesc kUintr[] = {
    {"ia32_uintr_handler", 0, 8, 1, 0, 0, S::Hex, kNotArch}, {"ia32_uintr_stackadjust", 8, 8, 1, 0, 0, S::Hex, kNotArch},
    {"uintr_misc", 16, 8, 1, 0, 0, S::Hex, kNotArch},        {"ia32_uintr_pd", 24, 8, 1, 0, 0, S::Hex, kNotArch},
    {"ia32_uintr_rr", 32, 8, 1, 0, 0, S::Hex, kNotArch},     {"ia32_uintr_tt", 40, 8, 1, 0, 0, S::Hex, kNotArch},
};
// Arch LBR: 40 bytes of control registers, then depth-many {FROM, TO, INFO} triples.
constexpr FieldDesc kLbr[] = {
    {"ia32_lbr_ctl", 0, 8, 1, 0, 0, S::Hex, kNotArch},     {"ia32_lbr_depth", 8, 8, 1, 0, 0, S::Hex, kNotArch},
    {"ia32_ler_from_ip", 16, 8, 1, 0, 0, S::Hex, kNotArch}, {"ia32_ler_to_ip", 24, 8, 1, 0, 0, S::Hex, kNotArch},
    {"ia32_ler_info", 32, 8, 1, 0, 0, S::Hex, kNotArch},   {"lbr_from_ip", 40, 8, 32, 24, 0, S::Hex, kNotArch},
    {"lbr_to_ip", 48, 8, 32, 24, 0, S::Hex, kNotArch},     {"lbr_info", 56, 8, 32, 24, 0, S::Hex, kNotArch},
};
constexpr FieldDesc kHwp[] = {{"ia32_hwp_request", 0, 8, 1, 0, 0, S::Hex, kNotArch}};
constexpr FieldDesc kTilecfg[] = {
    {"palette_id", 0, 1, 1, 0, 0, S::Hex, kNotArch}, {"start_row", 1, 1, 1, 0, 0, S::Hex, kNotArch},
    {"colsb", 16, 2, 16, 2, 0, S::Hex, kNotArch},     {"rows", 48, 1, 16, 1, 0, S::Hex, kNotArch},
};
constexpr FieldDesc kTiledata[] = {{"tmm", 0, 1024, 8, 1024, 0, S::Bytes}};
constexpr FieldDesc kApx[] = {{"r", 0, 8, 16, 8, 16, S::Hex, true, Init::Zero, 0}};
constexpr FieldDesc kLwp[] = {{"lwpcb_address", 0, 8, 1, 0, 0, S::Hex, kNotArch},
                              {"lwp_state", 8, 120, 1, 0, 0, S::Bytes, kNotArch}};

// rank orders registers as the dump contract lists them: x87, SSE, views (ymm, zmm0-15),
// zmm16-31, k, bnd, pkru, tmm, r16-31; then everything else.
constexpr ComponentInfo kComponents[] = {
    {0, "x87", "x87 FPU state", false, kX87, 160, 0, "x87"},
    {1, "SSE", "SSE state (XMM0-15, MXCSR)", false, kSse, 256, 1, "sse"},
    {2, "AVX", "AVX state (YMM_Hi128: upper halves of YMM0-15)", false, kAvx, 256, 10, "avx"},
    {3, "MPX BNDREGS", "MPX bound registers BND0-3", false, kBndregs, 64, 14, "bndregs"},
    {4, "MPX BNDCSR", "MPX BNDCFGU and BNDSTATUS", false, kBndcsr, 64, 15, "bndcsr"},
    {5, "AVX-512 opmask", "AVX-512 opmask registers k0-7", false, kOpmask, 64, 13, "opmask"},
    {6, "ZMM_Hi256", "AVX-512 ZMM_Hi256 (upper halves of ZMM0-15)", false, kZmmHi256, 512, 11, "zmm_hi256"},
    {7, "Hi16_ZMM", "AVX-512 Hi16_ZMM (ZMM16-31)", false, kHi16Zmm, 1024, 12, "hi16_zmm"},
    {8, "PT", "Processor Trace (supervisor)", true, kPt, 128, 20, "pt"},
    {9, "PKRU", "Protection-key rights register", false, kPkru, 8, 16, "pkru"},
    {10, "PASID", "PASID state (supervisor)", true, kPasid, 8, 21, "pasid"},
    {11, "CET_U", "CET user state (supervisor)", true, kCetU, 16, 22, "cet_u"},
    {12, "CET_S", "CET supervisor state (supervisor)", true, kCetS, 24, 23, "cet_s"},
    {13, "HDC", "Hardware Duty Cycling (supervisor)", true, kHdc, 8, 24, "hdc"},
    {14, "UINTR", "User interrupts (supervisor)", true, kUintr, 48, 25, "uintr"},
    {15, "LBR", "Architectural LBRs (supervisor)", true, kLbr, 0, 26, "lbr"},
    {16, "HWP", "Hardware P-states request (supervisor)", true, kHwp, 8, 27, "hwp"},
    {17, "AMX TILECFG", "AMX TILECFG", false, kTilecfg, 64, 17, "tilecfg"},
    {18, "AMX TILEDATA", "AMX TILEDATA (TMM0-7)", false, kTiledata, 8192, 18, "tiledata"},
    {19, "APX", "APX extended GPRs R16-R31", false, kApx, 128, 19, "apx"},
    {62, "AMD LWP", "AMD Lightweight Profiling", false, kLwp, 128, 28, "lwp"},
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
    {"mpx", 0x18}, {"avx512", 0xe0}, {"amx", 0x60000}, {"cet", 0x1800},
    {"legacy", 0x3}, {"fp", 0x1}, {"tiles", 0x60000},
};

} // namespace

const ComponentInfo* component_info(unsigned bit) { return bit < 64 ? kIndex[bit] : nullptr; }
std::span<const ComponentInfo> all_components() { return kComponents; }
std::span<const ViewDesc> all_views() { return kViews; }

std::string component_name(unsigned bit) {
    if (auto* c = component_info(bit)) return std::string(c->name);
    return "bit" + std::to_string(bit);
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
    unsigned v = 0;
    auto [p, ec] = std::from_chars(n.data(), n.data() + n.size(), v);
    if (ec == std::errc() && p == n.data() + n.size()) return v < 63 ? 1ull << v : 0;
    for (const auto& c : kComponents)
        if (n == lower(c.name) || n == c.alias) return 1ull << c.bit;
    for (const auto& g : kGroups)
        if (n == g.name) return g.mask;
    if (n.starts_with("bit") && n.size() > 3) return component_mask_from_name(n.substr(3));
    return 0;
}

} // namespace xsave
