#pragma once
// Comparing two XSAVE areas by logical register state, whatever their formats or CPUs.
#include "xsave/decode.hpp"

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace xsave {

struct Difference {
    std::string kind;        // header | register | component | layout | bytes
    std::string name;        // "format", "xmm7", "AVX-512 opmask", "0x1c..0x1f"
    std::string component;   // the component a register or byte range belongs to ("" for header)
    std::string a, b;        // both values as text
    std::string detail;      // e.g. "XCOMP_BV 0x8000000000000007 vs 0x0"
    std::vector<unsigned> bytes;   // registers: differing byte indices (0 = least significant)
    std::string register_name = {};   // registers: the register ("tmm0" for "tmm0 row 3")
};

struct DiffOptions {
    std::set<std::string> ignore;   // register, field, component or header names (lowercase)
    bool bytes = false;             // raw byte-level diff instead of the logical one
};

struct DiffResult {
    std::vector<Difference> differences;
    bool equal() const { return differences.empty(); }
    size_t registers() const;   // how many registers differ (a tile's rows count once)
};

// Throws Error for a name no register, field, view, component or header word has, with the
// close ones: an --ignore typo would otherwise ignore nothing, silently.
void check_ignore_names(const std::set<std::string>& names);

DiffResult diff_areas(const Image& a, const CpuModel& ca, const Image& b, const CpuModel& cb, const DiffOptions& opt = {});

// {"equal": bool, "differences": [{"kind", "name", "component", "a", "b", "detail", "bytes"}]}
nlohmann::ordered_json to_json(const DiffResult& r);

} // namespace xsave
