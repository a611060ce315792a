#pragma once
// Layout tables (where every component lives on one CPU) and comparisons between two CPUs:
// can a buffer saved on one be restored on the other, as is or after conversion?
#include "xsave/layout.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace xsave {

// One component of a layout table.
struct LayoutRow {
    unsigned bit = 0;
    std::string name;
    bool supervisor = false;
    uint32_t size = 0;
    std::optional<uint32_t> standard_offset;   // none for supervisor components
    uint32_t compacted_offset = 0;             // for XCOMP_BV = XCR0 | IA32_XSS
    bool align64 = false;
    bool xfd = false;
};

struct LayoutTable {
    std::string profile;
    uint64_t xcr0 = 0, xss = 0;
    const Layout* standard = nullptr;    // XCR0 (owned by the CpuModel)
    const Layout* compacted = nullptr;   // XCR0 | IA32_XSS
    std::vector<LayoutRow> rows;         // bit order
    uint32_t standard_size() const { return standard->total_size; }
    uint32_t compacted_size() const { return compacted->total_size; }
};

// Masks default to the profile's enabled XCR0 and IA32_XSS. Throws Error for a supervisor
// bit in xcr0, a user bit in xss, or a component the profile cannot place.
LayoutTable layout_table(const CpuModel& cpu, std::optional<uint64_t> xcr0 = {}, std::optional<uint64_t> xss = {});

// {"components": [{"bit","name","size","standard_offset","compacted_offset","align64",
//   "supervisor","xfd"}], "standard_size", "compacted_size"} plus profile, xcr0, xss.
nlohmann::ordered_json to_json(const LayoutTable& t);

// How one component's place changes from CPU P to CPU Q in one form.
enum class Placement : uint8_t { Same, Moved, Resized, MovedResized, Missing /* on Q */, New /* on Q */ };
const char* placement_name(Placement p);   // "same", "moved", "resized", "moved+resized", "missing", "new"

struct Position {
    Placement placement = Placement::Same;
    std::optional<uint32_t> from_offset, to_offset;   // none where the component is absent
    uint32_t from_size = 0, to_size = 0;
};

struct ComponentChange {
    unsigned bit = 0;
    std::string name;
    std::optional<Position> standard;    // none for supervisor components
    Position compacted;
};

enum class Verdict : uint8_t {
    AsIs,          // restorable as is
    Convert,       // needs `xsavetool convert` (components move)
    Drop,          // impossible without dropping components Q lacks (or holds at another size)
    Unsupported,   // Q (or P) has no compacted form
};
const char* verdict_name(Verdict v);   // "as_is", "convert", "drop", "unsupported"

struct FormVerdict {
    Verdict verdict = Verdict::AsIs;
    uint64_t drop = 0;      // components that cannot be carried over (Drop)
    std::string text;       // one line, e.g. "needs `xsavetool convert`: AVX-512 opmask, ... move"
};

struct LayoutComparison {
    LayoutTable from, to;
    // The compacted buffer P writes (XSAVEC/XSAVES with XCOMP_BV = XCR0|XSS, bit 63 included),
    // and the layout Q's XRSTOR would read it with after dropping what Q lacks.
    uint64_t xcomp_bv = 0;
    const Layout* read_compacted = nullptr;    // that layout (owned by Q's CpuModel): what pictures draw for Q
    std::vector<ComponentChange> components;   // union of both CPUs' components, bit order
    FormVerdict standard, compacted;
    bool restorable_as_is() const { return standard.verdict == Verdict::AsIs; }
};

// P's and Q's masks: each CPU's enabled XCR0 / IA32_XSS, or, when given, the same masks for
// both (restricted to what Q supports: the rest is missing on Q). In compacted form a
// component only Q has is "new" without offsets: P's XCOMP_BV leaves it out of the buffer.
// `p_name`/`q_name` (when not empty) name the CPUs in texts instead of the profiles' names
// (the CLI passes what the user typed, not 60-character brand strings).
LayoutComparison compare_layouts(const CpuModel& p, const CpuModel& q, std::optional<uint64_t> xcr0 = {},
                                 std::optional<uint64_t> xss = {}, const std::string& p_name = {},
                                 const std::string& q_name = {});

nlohmann::ordered_json to_json(const LayoutComparison& c);

} // namespace xsave
