// CPUID profiles: leaf lookup and our JSON schema (read and write).
#include "xsave/error.hpp"
#include "xsave/profile.hpp"

#include "model/json_text.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>
#include <tuple>

namespace xsave {

const CpuidLeaf* Profile::find(uint32_t leaf, uint32_t subleaf) const {
    for (const auto& l : leaves)
        if (l.leaf == leaf && l.subleaf == subleaf) return &l;
    return nullptr;
}

void Profile::set(const CpuidLeaf& l) {
    auto key = [](const CpuidLeaf& x) { return std::tie(x.leaf, x.subleaf); };
    auto it = std::lower_bound(leaves.begin(), leaves.end(), l,
                               [&](const CpuidLeaf& a, const CpuidLeaf& b) { return key(a) < key(b); });
    if (it != leaves.end() && it->leaf == l.leaf && it->subleaf == l.subleaf) {
        *it = l;
        return;
    }
    // Someone may have pushed leaves out of order: fall back to a linear search.
    for (auto& x : leaves)
        if (x.leaf == l.leaf && x.subleaf == l.subleaf) {
            x = l;
            return;
        }
    leaves.insert(it, l);
}

namespace {

using json = nlohmann::json;

// A profile never needs this many leaves; more means garbage, not a CPU.
constexpr size_t kMaxLeaves = 65536;

// The offending value for a message: short and on one line.
std::string shown(const json& v) {
    std::string s = v.dump(-1, ' ', true, json::error_handler_t::replace);
    if (s.size() > 40) s = s.substr(0, 37) + "...";
    return s;
}

// Accepts a non-negative integer, "0x..." hex or a decimal string, within `bits` bits.
uint64_t number(const json& v, const std::string& field, unsigned bits) {
    auto fail = [&]() -> uint64_t {
        throw Error(fmt::format("profile: {}: expected a {}-bit value, got {}", field, bits, shown(v)));
    };
    uint64_t max = bits == 64 ? ~0ull : (1ull << bits) - 1;
    uint64_t x = 0;
    if (v.is_number_unsigned()) {
        x = v.get<uint64_t>();
    } else if (v.is_number_integer()) {
        if (v.get<int64_t>() < 0) fail();
        x = uint64_t(v.get<int64_t>());
    } else if (v.is_string()) {
        auto parsed = parse_u64(v.get_ref<const std::string&>());
        if (!parsed) fail();
        x = *parsed;
    } else {
        fail();
    }
    if (x > max) fail();
    return x;
}

std::string text(const json& v, const std::string& field) {
    if (!v.is_string()) throw Error(fmt::format("profile: {}: expected a string, got {}", field, shown(v)));
    return v.get<std::string>();
}

CpuidLeaf leaf_from_json(const json& e, size_t index, std::vector<std::string>& warnings) {
    std::string at = fmt::format("leaves[{}]", index);
    if (!e.is_object()) throw Error(fmt::format("profile: {}: expected an object, got {}", at, shown(e)));
    static const char* const keys[] = {"leaf", "subleaf", "eax", "ebx", "ecx", "edx"};
    for (const auto& [k, v] : e.items()) {
        (void)v;
        if (std::find(std::begin(keys), std::end(keys), k) == std::end(keys))
            warnings.push_back(fmt::format("profile: {}: unknown field \"{}\" ignored", at, k));
    }
    if (!e.contains("leaf")) throw Error(fmt::format("profile: {}: missing \"leaf\"", at));
    CpuidLeaf l;
    uint32_t* dst[] = {&l.leaf, &l.subleaf, &l.eax, &l.ebx, &l.ecx, &l.edx};
    for (size_t i = 0; i < 6; ++i) {
        auto it = e.find(keys[i]);
        // subleaf and registers default to 0: CPUID returns zeros for what a dump omits
        // only by convention, but a hand-written profile should not need to spell them out.
        if (it != e.end()) *dst[i] = uint32_t(number(*it, at + "." + keys[i], 32));
    }
    return l;
}

} // namespace

Profile profile_from_json(std::string_view text_in) {
    json doc = parse_json_text(text_in, "profile");
    if (!doc.is_object()) throw Error(fmt::format("profile: expected a JSON object, got {}", shown(doc)));

    Profile p;
    static const char* const known[] = {"name", "vendor", "xcr0", "xss", "mxcsr_mask", "leaves"};
    for (const auto& [k, v] : doc.items()) {
        (void)v;
        if (std::find(std::begin(known), std::end(known), k) == std::end(known))
            p.warnings.push_back(fmt::format("profile: unknown field \"{}\" ignored", k));
    }
    if (auto it = doc.find("name"); it != doc.end() && !it->is_null()) p.name = text(*it, "name");
    if (auto it = doc.find("vendor"); it != doc.end() && !it->is_null()) p.vendor = text(*it, "vendor");
    if (auto it = doc.find("xcr0"); it != doc.end() && !it->is_null()) p.xcr0 = number(*it, "xcr0", 64);
    if (auto it = doc.find("xss"); it != doc.end() && !it->is_null()) p.xss = number(*it, "xss", 64);
    if (auto it = doc.find("mxcsr_mask"); it != doc.end() && !it->is_null())
        p.mxcsr_mask = uint32_t(number(*it, "mxcsr_mask", 32));

    auto it = doc.find("leaves");
    if (it == doc.end()) throw Error("profile: missing \"leaves\"");
    if (!it->is_array()) throw Error(fmt::format("profile: leaves: expected an array, got {}", shown(*it)));
    if (it->size() > kMaxLeaves)
        throw Error(fmt::format("profile: leaves: {} entries, more than the {} a profile may hold", it->size(), kMaxLeaves));
    std::set<std::pair<uint32_t, uint32_t>> seen;
    size_t i = 0;
    for (const auto& e : *it) {
        CpuidLeaf l = leaf_from_json(e, i, p.warnings);
        if (!seen.insert({l.leaf, l.subleaf}).second)
            throw Error(fmt::format("profile: leaves[{}]: duplicate leaf {:#x} subleaf {:#x}", i, l.leaf, l.subleaf));
        p.leaves.push_back(l);
        ++i;
    }
    std::sort(p.leaves.begin(), p.leaves.end(),
              [](const CpuidLeaf& a, const CpuidLeaf& b) { return std::tie(a.leaf, a.subleaf) < std::tie(b.leaf, b.subleaf); });
    return p;
}

std::string profile_to_json(const Profile& p) {
    auto str = [](const std::string& s) { return json(s).dump(-1, ' ', false, json::error_handler_t::replace); };
    std::string out = "{\n";
    out += fmt::format("  \"name\": {},\n", str(p.name));
    if (!p.vendor.empty()) out += fmt::format("  \"vendor\": {},\n", str(p.vendor));
    if (p.xcr0) out += fmt::format("  \"xcr0\": \"{:#x}\",\n", *p.xcr0);
    if (p.xss) out += fmt::format("  \"xss\": \"{:#x}\",\n", *p.xss);
    if (p.mxcsr_mask) out += fmt::format("  \"mxcsr_mask\": \"{:#x}\",\n", *p.mxcsr_mask);
    std::vector<CpuidLeaf> leaves = p.leaves;
    std::sort(leaves.begin(), leaves.end(),
              [](const CpuidLeaf& a, const CpuidLeaf& b) { return std::tie(a.leaf, a.subleaf) < std::tie(b.leaf, b.subleaf); });
    out += "  \"leaves\": [";
    for (size_t i = 0; i < leaves.size(); ++i) {
        const auto& l = leaves[i];
        // One leaf per line keeps committed profiles small and diffable.
        out += fmt::format(
            "{}\n    {{\"leaf\": \"{:#x}\", \"subleaf\": \"{:#x}\", \"eax\": \"{:#010x}\", \"ebx\": \"{:#010x}\", "
            "\"ecx\": \"{:#010x}\", \"edx\": \"{:#010x}\"}}",
            i ? "," : "", l.leaf, l.subleaf, l.eax, l.ebx, l.ecx, l.edx);
    }
    out += leaves.empty() ? "]\n}\n" : "\n  ]\n}\n";
    return out;
}

} // namespace xsave
