// diff: logical register state compared through the decode model; or raw bytes.
#include "xsave/diff.hpp"
#include "xsave/error.hpp"
#include "xsave/names.hpp"

#include "xsave/locate.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <span>

namespace xsave {
namespace {

// Equal as unsigned numbers: a 32-bit process's 4-byte FIP equals a 64-bit one's 8-byte FIP
// holding the same offset.
bool same_value(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
    const auto& lo = a.size() <= b.size() ? a : b;
    const auto& hi = a.size() <= b.size() ? b : a;
    return std::equal(lo.begin(), lo.end(), hi.begin()) && std::all_of(hi.begin() + lo.size(), hi.end(), [](uint8_t x) { return x == 0; });
}

std::string lower(std::string s) {
    for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

class Ignore {
public:
    explicit Ignore(const std::set<std::string>& names) {
        for (const auto& n : names) {
            names_.insert(lower(n));
            components_ |= component_mask_from_name(n);
        }
    }
    bool name(const std::string& n) const { return names_.count(lower(n)) > 0; }
    bool component(unsigned bit) const { return components_ >> bit & 1; }
    bool value(const Value& v) const { return name(v.name) || component(v.bit); }

private:
    std::set<std::string> names_;
    uint64_t components_ = 0;
};

// Registers and the fields that no register view covers (PT MSRs, TILECFG, ...), by name.
std::map<std::string, const Value*> comparable(const Decoded& d) {
    std::map<std::string, const Value*> m;
    std::set<std::string> view_parts;
    for (const auto& v : all_views())
        for (const auto& p : v.parts)
            if (!p.prefix.empty()) view_parts.insert(std::string(p.prefix));
    for (const auto& r : d.registers) m[r.name] = &r;
    for (const auto& c : d.components)
        for (const auto& f : c.fields) {
            std::string prefix = f.name;
            while (!prefix.empty() && std::isdigit(static_cast<unsigned char>(prefix.back()))) prefix.pop_back();
            if (!view_parts.count(prefix) && !m.count(f.name)) m[f.name] = &f;
        }
    return m;
}

// Registers in contract order, then the other fields in component order.
std::vector<std::string> ordered_names(const Decoded& d, const std::map<std::string, const Value*>& m) {
    std::vector<std::string> names;
    std::set<std::string> seen;
    auto add = [&](const std::string& n) {
        if (m.count(n) && seen.insert(n).second) names.push_back(n);
    };
    for (const auto& r : d.registers) add(r.name);
    for (const auto& c : d.components)
        for (const auto& f : c.fields) add(f.name);
    return names;
}

// Register names not to list because a wider view of the same register stands for them:
// for each view family (xmm -> ymm -> zmm) and index, every member but the widest one whose
// top part is in use in A or B (the narrowest when none is).
std::set<std::string> narrower_views(const Decoded& da, const Decoded& db, const std::map<std::string, const Value*>& ma,
                                     const std::map<std::string, const Value*>& mb) {
    auto in_use = [&](unsigned bit) {
        for (const auto* d : {&da, &db})
            for (const auto& c : d->components)
                if (c.bit == bit && c.in_use) return true;
        return false;
    };
    std::set<std::string> hide;
    std::map<std::string_view, std::vector<const ViewDesc*>> families;   // by the base part (xmm)
    for (const auto& v : all_views()) families[v.parts[0].prefix].push_back(&v);
    for (auto& [base, views] : families) {
        std::sort(views.begin(), views.end(), [](const ViewDesc* x, const ViewDesc* y) { return x->width < y->width; });
        for (unsigned i = 0; i < views.front()->count; ++i) {
            std::vector<std::string> chain{fmt::format("{}{}", base, i)};
            std::string widest = chain[0];
            for (const ViewDesc* v : views) {
                if (i >= v->count) continue;
                std::string n = fmt::format("{}{}", v->prefix, i);
                if (!ma.count(n) || !mb.count(n)) continue;
                chain.push_back(n);
                unsigned top = 0;
                for (const auto& p : v->parts)
                    if (!p.prefix.empty()) top = p.bit;
                if (in_use(top)) widest = n;
            }
            for (const auto& n : chain)
                if (n != widest) hide.insert(n);
        }
    }
    return hide;
}

// A tile (TMM) is shown by the 64-byte rows that differ, not as one 2,000-digit line.
constexpr size_t kTileRow = 64;
void diff_rows(const std::string& name, const Value& va, const Value& vb, DiffResult& r) {
    for (size_t row = 0; row * kTileRow < va.bytes.size(); ++row) {
        std::span<const uint8_t> a(va.bytes.data() + row * kTileRow, kTileRow), b(vb.bytes.data() + row * kTileRow, kTileRow);
        if (std::equal(a.begin(), a.end(), b.begin())) continue;
        Difference d{"register", fmt::format("{} row {}", name, row), component_name(va.bit), hex_value(a), hex_value(b), "", {}, name};
        for (unsigned k = 0; k < kTileRow; ++k)
            if (a[k] != b[k]) d.bytes.push_back(k);
        r.differences.push_back(std::move(d));
    }
}

void diff_bytes(const Image& a, const Image& b, DiffResult& r) {
    size_t n = std::max(a.bytes.size(), b.bytes.size());
    auto at = [](const Image& i, size_t k) { return k < i.bytes.size() ? int(i.bytes[k]) : -1; };
    auto hex = [](const Image& i, size_t from, size_t to) {
        std::string s;
        for (size_t k = from; k < to; ++k) s += k < i.bytes.size() ? fmt::format("{:02x}", i.bytes[k]) : "--";
        return s;
    };
    for (size_t k = 0; k < n;) {
        if (at(a, k) == at(b, k)) { ++k; continue; }
        // A run of differing bytes within one field of A's layout.
        Location loc = locate(*a.layout, uint32_t(k));
        size_t end = k;
        while (end < n && at(a, end) != at(b, end) && end < std::max<size_t>(loc.field_end, k + 1)) ++end;
        Difference d;
        d.kind = "bytes";
        d.name = end - k == 1 ? fmt::format("0x{:x}", k) : fmt::format("0x{:x}..0x{:x}", k, end - 1);
        d.component = loc.text();
        d.a = hex(a, k, end);
        d.b = hex(b, k, end);
        r.differences.push_back(std::move(d));
        k = end;
    }
}

} // namespace

size_t DiffResult::registers() const {
    std::set<std::string_view> names;
    for (const auto& d : differences)
        if (d.kind == "register") names.insert(d.register_name);
    return names.size();
}

void check_ignore_names(const std::set<std::string>& names) {
    std::vector<std::string> known{"format", "xstate_bv", "xcomp_bv"};
    auto add_run = [&](std::string_view prefix, unsigned count, unsigned first) {
        if (count == 1) known.emplace_back(prefix);
        else
            for (unsigned i = 0; i < count; ++i) known.push_back(fmt::format("{}{}", prefix, first + i));
    };
    for (const auto& c : all_components()) {
        known.emplace_back(lower(std::string(c.name)));
        if (!c.alias.empty()) known.emplace_back(c.alias);
        for (const auto& f : c.fields) add_run(f.prefix, f.count, f.first_index);
    }
    for (const auto& v : all_views()) add_run(v.prefix, v.count, 0);
    for (const auto& n : names) {
        if (component_mask_from_name(n) || std::find(known.begin(), known.end(), lower(n)) != known.end()) continue;
        auto close = close_names(lower(n), known);
        if (close.size() > 3) close.resize(3);
        throw Error(fmt::format("--ignore: unknown name '{}'{}", n,
                                close.empty() ? "; expected a register, field, component, format, xstate_bv or xcomp_bv"
                                              : "; did you mean " + quoted_choice(close) + "?"));
    }
}

DiffResult diff_areas(const Image& a, const CpuModel& ca, const Image& b, const CpuModel& cb, const DiffOptions& opt) {
    DiffResult r;
    Ignore ignore(opt.ignore);
    if (opt.bytes) {
        diff_bytes(a, b, r);
        return r;
    }
    Decoded da = decode(a, ca), db = decode(b, cb);

    // Header.
    if (da.format != db.format && !ignore.name("format")) {
        Difference d{"header", "format", "", format_name(da.format), format_name(db.format), "", {}};
        if (!ignore.name("xcomp_bv")) d.detail = fmt::format("XCOMP_BV 0x{:x} vs 0x{:x}", da.xcomp_bv, db.xcomp_bv);
        r.differences.push_back(std::move(d));
    } else if (da.format == db.format && da.xcomp_bv != db.xcomp_bv && !ignore.name("xcomp_bv")) {
        r.differences.push_back({"header", "XCOMP_BV", "", hex_u64(da.xcomp_bv), hex_u64(db.xcomp_bv),
                                 fmt::format("{} vs {}", mask_names(da.xcomp_bv), mask_names(db.xcomp_bv)), {}});
    }
    uint64_t xa = da.xstate_bv & ~kCompactedBit, xb = db.xstate_bv & ~kCompactedBit;
    if (xa != xb && !ignore.name("xstate_bv"))
        r.differences.push_back({"header", "XSTATE_BV", "", hex_u64(xa), hex_u64(xb),
                                 fmt::format("{} vs {}", mask_names(xa), mask_names(xb)), {}});

    // Components: presence, size, init versus in use.
    std::map<unsigned, const DecodedComponent*> ca_map, cb_map;
    for (const auto& c : da.components) ca_map[c.bit] = &c;
    for (const auto& c : db.components) cb_map[c.bit] = &c;
    for (unsigned bit = 0; bit < 63; ++bit) {
        auto ia = ca_map.find(bit), ib = cb_map.find(bit);
        if ((ia == ca_map.end() && ib == cb_map.end()) || ignore.component(bit) || ignore.name(component_name(bit))) continue;
        auto place = [](const DecodedComponent* c) { return fmt::format("offset 0x{:x}, {} bytes", c->offset, c->size); };
        if (ia == ca_map.end() || ib == cb_map.end()) {
            r.differences.push_back({"layout", component_name(bit), component_name(bit),
                                     ia == ca_map.end() ? "absent" : place(ia->second),
                                     ib == cb_map.end() ? "absent" : place(ib->second), "component in one layout only", {}});
            continue;
        }
        if (ia->second->size != ib->second->size)
            r.differences.push_back({"layout", component_name(bit), component_name(bit), place(ia->second), place(ib->second),
                                     "component size differs", {}});
        if (ia->second->in_use != ib->second->in_use)
            r.differences.push_back({"component", component_name(bit), component_name(bit),
                                     ia->second->in_use ? "in use" : "init", ib->second->in_use ? "in use" : "init", "", {}});
    }

    // Registers and fields, by value as the CPU would load them. One change counts once: in the
    // widest view of the register (xmm3 < ymm3 < zmm3) whose top part is in use on either side.
    auto ma = comparable(da), mb = comparable(db);
    std::set<std::string> shown_as_view = narrower_views(da, db, ma, mb);
    for (const auto& name : ordered_names(da, ma)) {
        auto jb = mb.find(name);
        if (jb == mb.end() || shown_as_view.count(name)) continue;   // a layout difference, or shown wider
        const Value &va = *ma[name], &vb = *jb->second;
        if (ignore.value(va) || same_value(va.bytes, vb.bytes)) continue;
        if (va.show == Show::Bytes && va.bytes.size() == vb.bytes.size() && va.bytes.size() > kTileRow) {
            diff_rows(name, va, vb, r);
            continue;
        }
        Difference d{"register", name, component_name(va.bit), hex_value(va.bytes), hex_value(vb.bytes), "", {}, name};
        for (unsigned k = 0; k < std::min(va.bytes.size(), vb.bytes.size()); ++k)
            if (va.bytes[k] != vb.bytes[k]) d.bytes.push_back(k);
        r.differences.push_back(std::move(d));
    }
    return r;
}

nlohmann::ordered_json to_json(const DiffResult& r) {
    nlohmann::ordered_json j;
    j["equal"] = r.equal();
    auto& arr = j["differences"] = nlohmann::ordered_json::array();
    for (const auto& d : r.differences) {
        nlohmann::ordered_json e;
        e["kind"] = d.kind;
        e["name"] = d.name;
        if (!d.component.empty()) e["component"] = d.component;
        e["a"] = d.a;
        e["b"] = d.b;
        if (!d.detail.empty()) e["detail"] = d.detail;
        if (!d.bytes.empty()) e["bytes"] = d.bytes;
        arr.push_back(std::move(e));
    }
    return j;
}

} // namespace xsave
