#pragma once
// The component catalogue: one table describing every XSAVE state component we know.
// Decode, JSON, diff, validation and pictures all read this table.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace xsave {

// How a field's bytes are shown to people (JSON always uses little-endian hex).
enum class Show : uint8_t {
    Hex,      // unsigned little-endian integer in hex
    X87Reg,   // 80-bit extended precision: hex and decimal value
    Mxcsr,    // hex plus flag names
    Bytes,    // raw bytes (tiles, unknown data)
};

// The value a field holds when its component is in its initial configuration
// (XSTATE_BV bit clear), whatever bytes the buffer has there.
enum class Init : uint8_t {
    Zero,
    Fcw,       // 0x037F
    Mxcsr,     // standard form: as stored (XSAVE saves MXCSR with x87/SSE/AVX); compacted: 0x1F80
    Stored,    // not state: always as stored (MXCSR_MASK)
};

// A run of `count` registers named prefix0..prefixN-1 (or just `prefix` when count == 1),
// `width` bytes each, `stride` apart, starting `offset` bytes into the component
// (for the legacy components x87 and SSE: into the XSAVE area).
struct FieldDesc {
    std::string_view prefix;
    uint16_t offset;
    uint16_t width;
    uint16_t count = 1;
    uint16_t stride = 0;
    uint16_t first_index = 0;  // zmm16..31 start at 16
    Show show = Show::Hex;
    bool architectural = true; // listed in dump JSON "registers" (false: only in component fields)
    Init init = Init::Zero;
    // Instances that exist for a 32-bit process (XMM0-7: 8; Hi16_ZMM: 0); kAll: as many as in
    // 64-bit mode. A field with only32 exists only in the 32-bit legacy-region form (FCS, FDS).
    uint16_t count32 = 0xffff;
    bool only32 = false;
};
constexpr uint16_t kAll = 0xffff;

// How many instances of field f exist: 64-bit (and x32) processes, or 32-bit ones, whose
// FXSAVE/XSAVE legacy region holds FIP/FDP as 32-bit offsets with FCS/FDS selectors.
inline unsigned field_instances(const FieldDesc& f, bool legacy32) {
    if (!legacy32) return f.only32 ? 0 : f.count;
    return f.count32 < f.count ? f.count32 : f.count;
}

// The register name of instance i of field f: "fcw", "xmm3", "zmm16".
std::string field_instance_name(const FieldDesc& f, unsigned i);

// A register name split at its trailing number: "zmm16" -> {"zmm", 16}; a name without one
// (or only digits) -> {name, -1}.
struct RegisterIndex {
    std::string_view prefix;
    int index = -1;
};
RegisterIndex split_register_name(std::string_view name);

// A composed architectural view such as ymmN = xmmN | ymmhN << 128.
struct ViewPart { std::string_view prefix; uint8_t bit; };
struct ViewDesc {
    std::string_view prefix;
    uint16_t count;
    uint16_t width;           // bytes of the composed register
    ViewPart parts[3];        // low to high; unused parts have an empty prefix
    uint8_t rank;             // position among registers (see ComponentInfo::rank)
};

struct ComponentInfo {
    uint8_t bit;
    std::string_view name;        // Intel SDM name, e.g. "ZMM_Hi256"
    bool supervisor = false;      // managed through IA32_XSS
    std::span<const FieldDesc> fields;
    uint32_t nominal_size;        // the architectural size where fixed (0: varies, e.g. LBR)
    uint8_t rank;                 // order of its registers in dump output (SDM register order)
    std::string_view alias;       // short lowercase name for --drop/--ignore, e.g. "avx512_zmm_hi256"
};

// The entry for `bit`, or nullptr for a bit we do not know (decoded as raw bytes).
const ComponentInfo* component_info(unsigned bit);
// All known components in bit order.
std::span<const ComponentInfo> all_components();
// Composed views (ymm, zmm).
std::span<const ViewDesc> all_views();
// The name for any bit: the catalogue name, or "bit<N>" for unknown bits.
std::string component_name(unsigned bit);
// Names of the set bits of a mask, e.g. "x87|SSE|AVX"; bit 63 is `bit63` ("compacted" in
// XCOMP_BV, reserved elsewhere).
std::string mask_names(uint64_t mask, std::string_view bit63 = "compacted");
// Components XSETBV enables together or not at all (SDM Vol. 1 13.3).
constexpr uint64_t kMpxGroup = 0x18, kAvx512Group = 0xE0, kAmxGroup = 0x60000;
// Whether XSETBV accepts `xcr0` on a CPU supporting the user components `supported`
// (SDM 13.3): x87 set, AVX only with SSE, AVX-512 only with AVX, each group whole or absent.
bool xsetbv_accepts(uint64_t xcr0, uint64_t supported);

// The components of `mask` as --drop and --ignore take them: "tilecfg,tiledata" (bitN when unnamed).
std::string mask_aliases(uint64_t mask);
// Parses a component name (any case, SDM name or alias such as "avx512", "amx") or bitN into
// a bit mask; returns 0 when unknown. Numbers are masks: parse_component_mask (numbers.hpp).
uint64_t component_mask_from_name(std::string_view name);

// The legacy region, at the same place in both forms (FXSAVE format, SDM Vol. 1 10.5.1):
// x87 is bytes 0..23 and 32..159 with SSE's MXCSR/MXCSR_MASK between, XMM0-15 160..415,
// 416..463 reserved, 464..511 software-available.
struct Span {
    uint32_t offset, size;
    constexpr uint32_t end() const { return offset + size; }
};
constexpr Span kX87Span{0, 160};
constexpr Span kXmmSpan{160, 256};
constexpr Span kLegacyReserved{416, 48};
constexpr Span legacy_span(unsigned bit) { return bit ? kXmmSpan : kX87Span; }
constexpr unsigned kFcwOffset = 0, kFswOffset = 2, kFtwOffset = 4, kStOffset = 32;
constexpr unsigned kMxcsrOffset = 24;
constexpr unsigned kMxcsrMaskOffset = 28;
constexpr unsigned kSwReservedOffset = 464;   // bytes 464..511: software-reserved (Linux: XCR0 / fpstate magic)

constexpr unsigned kLegacySize = 512;
constexpr unsigned kHeaderOffset = 512;
constexpr unsigned kHeaderSize = 64;
constexpr unsigned kExtendedOffset = 576;  // first byte after legacy region and header
constexpr uint64_t kCompactedBit = 1ull << 63;
constexpr uint16_t kFcwInit = 0x037F;
constexpr uint32_t kMxcsrInit = 0x1F80;

} // namespace xsave
