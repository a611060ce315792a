#pragma once
// CRIU images (checkpoint/restore of Linux processes): a thread's FPU state lives in
// core-<tid>.img as protobuf fields (core_entry.thread_info.fpregs, images/core-x86.proto),
// the dumping CPU in cpuinfo.img (images/cpuinfo.proto). Reads them into XSAVE areas, judges
// them as `criu restore` would, and writes them back changing only the fields asked for.
#include "xsave/convert.hpp"
#include "xsave/layout.hpp"
#include "xsave/validate.hpp"

#include <memory>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace xsave::criu {

// First words of an image file (criu/include/magic.h).
constexpr uint32_t kImgCommon = 0x54564319;
constexpr uint32_t kImgService = 0x55105940;
constexpr uint32_t kMagicCore = 0x55053847;
constexpr uint32_t kMagicCpuinfo = 0x61404013;

// Where a fpregs field goes in a standard XSAVE area. One row per protobuf field.
struct FpField {
    std::string_view name;     // as in core-x86.proto
    bool in_xsave;             // a field of user_x86_xsave_entry (else user_x86_fpregs_entry)
    uint32_t number;           // protobuf field number
    uint8_t width;             // bytes of one element in the area (2, 4 or 8)
    uint16_t count;            // elements CRIU writes (1 for a scalar)
    uint8_t bit;               // state component (0: x87 / legacy bytes, 1: SSE)
    uint16_t offset;           // legacy: into the area; extended: into the component
};
std::span<const FpField> fp_fields();

// A field's elements as the image holds them (empty when absent).
struct FpValues {
    bool present = false;
    bool packed = false;
    std::vector<uint64_t> values;
};

struct Thread {
    std::string label;                 // "DIR/core-123.img"
    std::optional<int32_t> tid;        // from the file name
    std::vector<uint8_t> image;        // the whole file
    size_t entry_offset = 0;           // of the core_entry payload in `image`
    bool has_fpregs = false, has_xsave = false;
    std::vector<FpValues> fields;      // indexed like fp_fields()
    uint64_t xstate_bv = 0;            // user_x86_xsave_entry.xstate_bv (0 without xsave)
    std::optional<uint64_t> rip, rsp;  // gpregs ip, sp
    uint64_t mask() const;             // x87|SSE and every extended component with a field
};

struct Cpuinfo {
    std::string label;
    std::vector<uint8_t> image;
    size_t entry_offset = 0;           // of the cpuinfo_entry payload
    uint32_t vendor = 0;               // 1 Intel, 2 AMD
    std::optional<uint64_t> xfeatures_mask;
    std::optional<uint32_t> xsave_size, xsave_size_max;
    std::vector<uint32_t> capability; // Linux x86_capability words
};

struct Images {
    std::vector<Thread> threads;      // by tid
    std::optional<Cpuinfo> cpuinfo;
    std::string dir;                  // the directory, when one was given
};

// IMG_COMMON (or IMG_SERVICE) then the CORE or CPUINFO magic.
bool is_criu_image(std::span<const uint8_t> bytes);
// Throws Error naming the offset: wrong magic, truncated entry, malformed protobuf, no x86 thread_info.
Thread read_core(std::span<const uint8_t> bytes, std::string label);
Cpuinfo read_cpuinfo(std::span<const uint8_t> bytes, std::string label);
// A directory (every core-*.img and cpuinfo.img) or one core-*.img / cpuinfo.img file.
// Errors name the file.
Images read_images(const std::string& path);

// The thread's state as a standard XSAVE area in `layout` (which must hold mask()).
std::vector<uint8_t> to_area(const Thread& t, const Layout& layout);
// The thread's core image with its FP fields taken from `area` (standard form, `layout`):
// fields of components the layout lacks are removed, changed fields re-encoded, all other
// bytes kept. `notes` receives what changed.
std::vector<uint8_t> write_area(const Thread& t, std::span<const uint8_t> area, const Layout& layout,
                                std::vector<std::string>* notes = nullptr);

// An area (a `dump --json` of the thread, edited, then assembled) written back into the
// thread's core image: read in the layout the thread was dumped with (`cpu`, else model_for
// as the reader chooses), only the FP fields that differ re-encoded. Throws Error when the
// area is shorter than that layout or holds state the image has no field for.
std::vector<uint8_t> assemble_into(const Thread& t, std::span<const uint8_t> area, std::shared_ptr<const CpuModel> cpu,
                                   std::vector<std::string>* notes = nullptr);

// What compel records for a CPU: supported user features (XFEATURE_MASK_USER), CPUID.(0xD,0) EBX and ECX.
struct HostXsave {
    uint64_t xfeatures_mask = 0;
    uint32_t xsave_size = 0, xsave_size_max = 0;
};
HostXsave host_xsave(const CpuModel& cpu);
constexpr uint64_t kUserMask = 0x2ff;   // FP SSE YMM BNDREGS BNDCSR OPMASK ZMM_Hi256 Hi16_ZMM PKRU

// cpuinfo.img with xfeatures_mask, xsave_size and xsave_size_max set to `h`; the rest kept.
std::vector<uint8_t> write_cpuinfo(const Cpuinfo& c, const HostXsave& h);

// `criu restore` on `host` (criu/arch/x86/cpu.c cpu_validate_features with --cpu-cap fpu,
// and crtools.c valid_xsave_frame/restore_fpu): each failing check, named.
struct CheckReport {
    std::vector<Violation> image;                       // cpuinfo.img checks
    std::vector<std::vector<Violation>> threads;        // per thread, like Images::threads
    bool ok() const;
};
CheckReport check(const Images& in, const CpuModel& host);
std::span<const RuleInfo> rules();

// The images store components, not offsets: any CPU that can place the thread's components
// lays them out. `preferred` (the host, or --cpuid) when it can, else the first built-in
// profile of the image's vendor that can; `note` says which was taken. nullptr when none.
std::shared_ptr<const CpuModel> model_for(uint64_t mask, uint32_t vendor, std::shared_ptr<const CpuModel> preferred,
                                          std::string& note);

// Every thread re-laid for `to` (standard form, the components `to` supports; in-use state it
// lacks refused unless `opt.drop` allows it) and written back; cpuinfo.img set to `to`'s
// XSAVE facts. Files keep their names (basename); unchanged ones come back byte-identical.
struct Converted {
    std::vector<std::pair<std::string, std::vector<uint8_t>>> files;
    std::vector<std::string> notes;
};
Converted convert(const Images& in, const CpuModel& to, const ConvertOptions& opt);

} // namespace xsave::criu
