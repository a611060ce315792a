// assemble: the dump JSON contract back into bytes.
#include "xsave/assemble.hpp"
#include "model/bytes.hpp"

#include "xsave/decode.hpp"
#include "xsave/error.hpp"
#include "model/json_text.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <optional>

namespace xsave {
namespace {

using json = nlohmann::json;

[[noreturn]] void bad(const std::string& path, const std::string& what) {
    throw Error(fmt::format("state JSON: {}: {}", path, what));
}

const json& member(const json& j, const std::string& path, const char* key) {
    auto it = j.find(key);
    if (it == j.end()) bad(path.empty() ? key : path + "." + key, "missing");
    return *it;
}

uint64_t number(const json& v, const std::string& path) {
    if (v.is_number_unsigned()) return v.get<uint64_t>();
    if (v.is_number_integer() && v.get<int64_t>() >= 0) return uint64_t(v.get<int64_t>());
    if (v.is_string()) {
        const std::string& s = v.get_ref<const std::string&>();
        if (s.starts_with("0x") || s.starts_with("0X"))
            if (auto x = parse_u64(s)) return *x;
    }
    bad(path, "expected a non-negative integer or a \"0x...\" string, got " + v.dump());
}


// "0x..." register value (little-endian integer) into `width` bytes.
std::vector<uint8_t> register_bytes(const json& v, size_t width, const std::string& path) {
    if (!v.is_string()) bad(path, "expected a \"0x...\" string");
    const std::string& s = v.get_ref<const std::string&>();
    if (s.size() < 3 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X')) bad(path, "expected a \"0x...\" string, got \"" + s + "\"");
    size_t digits = s.size() - 2;
    if (digits > 2 * width) bad(path, fmt::format("{} hex digits do not fit a {}-byte register", digits, width));
    std::vector<uint8_t> out(width, 0);
    for (size_t k = 0; k < digits; ++k) {
        int d = hex_digit(s[s.size() - 1 - k]);
        if (d < 0) bad(path, fmt::format("'{}' is not a hex digit", s[s.size() - 1 - k]));
        out[k / 2] |= uint8_t(d << (4 * (k % 2)));
    }
    return out;
}

// Plain hex bytes in memory order.
std::vector<uint8_t> memory_bytes(const json& v, const std::string& path, size_t limit) {
    if (!v.is_string()) bad(path, "expected a hex string");
    const std::string& s = v.get_ref<const std::string&>();
    if (s.size() % 2) bad(path, "odd number of hex digits");
    if (s.size() / 2 > limit) bad(path, fmt::format("{} bytes: more than the {} the area allows", s.size() / 2, limit));
    std::vector<uint8_t> out;
    if (size_t at = decode_hex_bytes(s, out); at != std::string_view::npos) bad(path, fmt::format("byte {}: not hex", at));
    return out;
}

struct FieldRef { const FieldDesc* f = nullptr; unsigned i = 0; };

FieldRef find_field(unsigned bit, std::string_view name) {
    if (const ComponentInfo* c = component_info(bit))
        for (const auto& f : c->fields)
            for (unsigned i = 0; i < field_instances(f, false); ++i)
                if (name == field_instance_name(f, i)) return {&f, i};
    return {};
}

// One register location (instance i of field f of component `bit`) and every place of the
// document that gives its value: the component's fields, the registers map, composed views.
struct Loc {
    unsigned bit;
    const FieldDesc* f;
    unsigned i;
    auto operator<=>(const Loc&) const = default;
};
struct Place {
    std::string path;
    std::vector<uint8_t> value;
    bool field = false;   // components[k].fields.NAME
};
using Places = std::map<Loc, std::vector<Place>>;

std::vector<std::vector<uint8_t>> distinct(const std::vector<Place>& ps) {
    std::vector<std::vector<uint8_t>> v;
    for (const auto& p : ps)
        if (std::find(v.begin(), v.end(), p.value) == v.end()) v.push_back(p.value);
    return v;
}

[[noreturn]] void contradiction(const Place& a, const Place& b, const std::string& why) {
    throw Error(fmt::format("state JSON: {} and {} disagree ({}): edit one place, or every place alike", a.path, b.path, why));
}
[[noreturn]] void contradiction(const std::vector<Place>& ps, const std::string& why) {
    auto b = std::find_if(ps.begin(), ps.end(), [&](const Place& p) { return p.value != ps[0].value; });
    contradiction(ps[0], *b, why);
}

// The value each location ends with. Where places disagree, one of them was edited and the
// others still hold the value dump wrote. Which: the component's digest says whether its fields
// are as dumped (then every other value is the edit); else the one assumption about the
// disagreeing fields that gives the digest back; else a single odd place out of three or more.
// Two edits to different values, or no way to tell, are an Error naming the places.
struct Resolved {
    std::vector<uint8_t> value;
    bool edited = false;   // differs from what dump wrote (or may: no digest, or it does not match)
};
std::map<Loc, Resolved> resolve(const Places& places, const std::map<unsigned, uint64_t>& digests,
                                const std::map<unsigned, std::vector<FieldValue>>& given) {
    std::map<Loc, Resolved> out;
    auto as_dumped = [&](unsigned bit) {
        auto d = digests.find(bit);
        return d != digests.end() && given.count(bit) && fields_digest(given.at(bit)) == d->second;
    };
    std::map<unsigned, std::vector<Loc>> open;   // per component: locations still in doubt
    for (const auto& [loc, ps] : places) {
        auto vs = distinct(ps);
        if (vs.size() == 1) {
            out[loc] = {vs[0], !as_dumped(loc.bit)};
            continue;
        }
        open[loc.bit].push_back(loc);
    }
    for (const auto& [bit, locs] : open) {
        auto dg = digests.find(bit);
        auto field_of = [&](const Loc& l) -> const Place* {
            for (const auto& p : places.at(l))
                if (p.field) return &p;
            return nullptr;
        };
        // The original value of each location in doubt, when the digest can tell.
        std::optional<std::vector<std::vector<uint8_t>>> originals;
        if (dg != digests.end()) {
            std::vector<FieldValue> fv = given.at(bit);
            // (a lambda cannot capture a structured binding before clang 16)
            auto digest_with = [&, &L = locs](const std::vector<std::vector<uint8_t>>& o) {
                for (size_t k = 0; k < L.size(); ++k)
                    if (const Place* f = field_of(L[k]))
                        for (auto& v : fv)
                            if (v.name == f->path.substr(f->path.rfind('.') + 1)) v.bytes = o[k];
                return fields_digest(fv);
            };
            std::vector<std::vector<std::vector<uint8_t>>> cands;
            size_t combos = 1;
            for (const auto& l : locs) {
                cands.push_back(distinct(places.at(l)));
                combos = std::min<size_t>(combos * cands.back().size(), size_t(1) << 20);
            }
            std::vector<std::vector<uint8_t>> pick(locs.size());
            size_t found = 0;
            if (combos <= (size_t(1) << 16))
                for (size_t n = 0; n < combos; ++n) {
                    std::vector<std::vector<uint8_t>> o(locs.size());
                    for (size_t k = 0, r = n; k < locs.size(); r /= cands[k].size(), ++k) o[k] = cands[k][r % cands[k].size()];
                    if (digest_with(o) == dg->second) {
                        if (!found++) pick = o;
                    }
                }
            if (found == 1) originals = pick;
        }
        for (size_t k = 0; k < locs.size(); ++k) {
            const auto& ps = places.at(locs[k]);
            std::vector<uint8_t> original;
            if (originals) {
                original = (*originals)[k];
            } else {
                // A single place out of three or more that disagrees is the edit.
                auto vs = distinct(ps);
                auto count = [&](const std::vector<uint8_t>& v) {
                    return std::count_if(ps.begin(), ps.end(), [&](const Place& p) { return p.value == v; });
                };
                if (vs.size() != 2 || ps.size() < 3 || std::min(count(vs[0]), count(vs[1])) != 1)
                    contradiction(ps, dg == digests.end() ? "no digest tells which was edited" : "the component's digest matches neither");
                original = count(vs[0]) == 1 ? vs[1] : vs[0];
            }
            const Place* edit = nullptr;
            for (const auto& p : ps) {
                if (p.value == original) continue;
                if (edit && p.value != edit->value) contradiction(*edit, p, "two different edits");
                edit = &p;
            }
            out[locs[k]] = {edit ? edit->value : original, edit != nullptr};
        }
    }
    return out;
}

// Writes a value; a component in init state is first made in-use with its init values.
class Builder {
public:
    explicit Builder(Image& img) : img_(img) {}

    // An edited value makes its component in use. A value as dumped that is not initial, in a
    // component XSTATE_BV says is in init state, means XSTATE_BV was edited: that value would
    // be lost without a word, so it is an Error.
    void write(unsigned bit, const FieldDesc& f, unsigned i, const Resolved& r, const std::string& where) {
        const std::vector<uint8_t>& v = r.value;
        if (!field_is_stored(img_, bit, f)) {
            std::vector<uint8_t> init(f.width);
            init_value(f, init.data());
            if (v == init) return;   // an init component holding its init values stays init
            if (!r.edited)
                throw Error(fmt::format("state JSON: xstate_bv 0x{:x} puts {} (bit {}) in its initial state, but {} holds {}, not its "
                                        "initial value: that state would be lost; set the component's fields to their initial values to drop it",
                                        img_.xstate_bv, component_name(bit), bit, where, hex_value(v)));
            make_in_use(bit);
        }
        std::copy(v.begin(), v.end(), img_.bytes.begin() + field_offset(*img_.layout, bit, f, i));
    }

private:
    void make_in_use(unsigned bit) {
        const Layout& L = *img_.layout;
        if (const ComponentInfo* c = component_info(bit))
            for (const auto& f : c->fields) {
                if (field_is_stored(img_, bit, f)) continue;
                std::vector<uint8_t> init(f.width);
                init_value(f, init.data());
                for (unsigned i = 0; i < field_instances(f, false); ++i) {
                    if (bit >= 2 && f.offset + i * f.stride + f.width > L.size[bit]) break;
                    std::copy(init.begin(), init.end(), img_.bytes.begin() + field_offset(L, bit, f, i));
                }
            }
        img_.xstate_bv |= 1ull << bit;
        store_le(&img_.bytes[kXstateBvOffset], img_.xstate_bv, 8);
    }
    Image& img_;
};

} // namespace

namespace {
// `dump --json` of a core or stream is an array of areas with "tid": one of them is the state.
const json& pick_area(const json& top, std::optional<uint64_t> tid) {
    if (!top.is_array() || top.empty() || !top[0].is_object()) return top;   // refused as not an object
    std::string tids;
    for (size_t i = 0; i < top.size(); ++i) {
        const json& e = top[i];
        const std::string at = fmt::format("[{}]", i);
        if (!e.is_object()) bad(at, "expected an object as `xsavetool dump --json` writes");
        std::optional<uint64_t> t;
        if (auto it = e.find("tid"); it != e.end()) t = number(*it, at + ".tid");
        if (tid && t == tid) return e;
        if (t) tids += (tids.empty() ? "" : ", ") + std::to_string(*t);
    }
    if (tid) bad("(top level)", fmt::format("no area with tid {}; the array has {}", *tid, tids.empty() ? "none" : tids));
    if (top.size() > 1)
        bad("(top level)", fmt::format("{} areas (threads {}); pick one with --thread", top.size(), tids.empty() ? "without tid" : tids));
    return top[0];
}
} // namespace

std::vector<uint8_t> assemble(std::string_view text, std::optional<uint64_t> tid) {
    const json top = parse_json_text(text, "state JSON");
    const json& j = pick_area(top, tid);
    if (!j.is_object()) bad("(top level)", "expected an object as `xsavetool dump --json` writes");
    if (j.contains("selection"))
        bad("selection", "this dump holds only part of the area (--only/--in-use); expected a whole `dump --json`");
    const std::string fmt_name = member(j, "", "format").is_string() ? j["format"].get<std::string>() : "";
    if (fmt_name != "standard" && fmt_name != "compacted") bad("format", "expected \"standard\" or \"compacted\"");
    uint64_t size = number(member(j, "", "size"), "size");
    if (size < 576 || size > kMaxAssembleSize) bad("size", fmt::format("{} is outside 576..{}", size, kMaxAssembleSize));

    Layout L;
    L.format = fmt_name == "standard" ? Format::Standard : Format::Compacted;
    L.total_size = uint32_t(size);
    const json& comps = member(j, "", "components");
    if (!comps.is_array()) bad("components", "expected an array");
    for (size_t k = 0; k < comps.size(); ++k) {
        std::string path = fmt::format("components[{}]", k);
        uint64_t bit = number(member(comps[k], path, "bit"), path + ".bit");
        uint64_t off = number(member(comps[k], path, "offset"), path + ".offset");
        uint64_t sz = number(member(comps[k], path, "size"), path + ".size");
        if (bit > 62) bad(path + ".bit", fmt::format("{} is not a state component bit (0..62)", bit));
        if (L.has(unsigned(bit))) bad(path + ".bit", fmt::format("component {} listed twice", bit));
        if (off + sz > size) bad(path, fmt::format("offset {} + size {} runs past the {}-byte area", off, sz, size));
        if (bit >= 2 && off < 576) bad(path + ".offset", fmt::format("{} is inside the legacy region and header", off));
        L.mask |= 1ull << bit;
        L.offset[bit] = uint32_t(off);
        L.size[bit] = uint32_t(sz);
    }

    Image img;
    img.bytes.assign(size, 0);
    img.format = L.format;
    img.layout = &L;
    if (auto it = j.find("reserved_bytes"); it != j.end()) {
        if (!it->is_array()) bad("reserved_bytes", "expected an array");
        for (size_t k = 0; k < it->size(); ++k) {
            std::string path = fmt::format("reserved_bytes[{}]", k);
            uint64_t off = number(member((*it)[k], path, "offset"), path + ".offset");
            auto b = memory_bytes(member((*it)[k], path, "bytes"), path + ".bytes", size);
            if (off + b.size() > size) bad(path, fmt::format("offset {} + {} bytes runs past the {}-byte area", off, b.size(), size));
            std::copy(b.begin(), b.end(), img.bytes.begin() + off);
        }
    }
    img.xstate_bv = number(member(j, "", "xstate_bv"), "xstate_bv");
    img.xcomp_bv = number(member(j, "", "xcomp_bv"), "xcomp_bv");
    if (bool(img.xcomp_bv >> 63) != (L.format == Format::Compacted))
        bad("xcomp_bv", fmt::format("0x{:x} does not match format \"{}\" (bit 63 marks the compacted form)", img.xcomp_bv, fmt_name));
    store_le(&img.bytes[kXstateBvOffset], img.xstate_bv, 8);
    store_le(&img.bytes[kXcompBvOffset], img.xcomp_bv, 8);

    // Every place that gives a register's value: fields, the registers map, composed views.
    Places places;
    std::map<unsigned, uint64_t> digests;
    std::map<unsigned, std::vector<FieldValue>> given;
    std::vector<std::vector<uint8_t>> keep;   // bytes the FieldValues point at
    keep.reserve(4096);
    for (size_t k = 0; k < comps.size(); ++k) {
        unsigned bit = unsigned(number(comps[k]["bit"], ""));
        std::string path = fmt::format("components[{}].fields", k);
        auto it = comps[k].find("fields");
        if (it == comps[k].end()) continue;
        if (!it->is_object()) bad(path, "expected an object");
        if (auto d = comps[k].find("digest"); d != comps[k].end() && d->is_string())
            digests[bit] = number(*d, fmt::format("components[{}].digest", k));
        for (const auto& [name, value] : it->items()) {
            if (!component_info(bit)) {
                if (name != "data") bad(path + "." + name, "unknown component: only \"data\" is known");
                if (!img.in_use(bit)) continue;
                auto b = register_bytes(value, L.size[bit], path + "." + name);
                std::copy(b.begin(), b.end(), img.bytes.begin() + L.offset[bit]);
                continue;
            }
            FieldRef r = find_field(bit, name);
            if (!r.f) bad(path + "." + name, fmt::format("no such field in {}", component_name(bit)));
            if (bit >= 2 && r.f->offset + r.i * r.f->stride + r.f->width > L.size[bit])
                bad(path + "." + name, fmt::format("beyond the component's {} bytes", L.size[bit]));
            auto b = register_bytes(value, r.f->width, path + "." + name);
            if (keep.size() == keep.capacity()) bad(path, "too many fields");
            keep.push_back(b);
            given[bit].push_back({name, keep.back()});
            places[{bit, r.f, r.i}].push_back({path + "." + name, std::move(b), true});
        }
    }
    if (auto it = j.find("registers"); it != j.end()) {
        if (!it->is_object()) bad("registers", "expected an object");
        for (const auto& [name, value] : it->items()) {
            std::string path = "registers." + name;
            bool found = false;
            for (unsigned bit : L.bits()) {
                FieldRef r = find_field(bit, name);
                if (!r.f || !r.f->architectural) continue;
                places[{bit, r.f, r.i}].push_back({path, register_bytes(value, r.f->width, path)});
                found = true;
                break;
            }
            for (const auto& view : all_views()) {
                if (found) break;
                for (unsigned i = 0; i < view.count && !found; ++i) {
                    if (name != fmt::format("{}{}", view.prefix, i)) continue;
                    auto whole = register_bytes(value, view.width, path);
                    std::string needs;
                    bool missing = false;
                    for (const auto& p : view.parts) {
                        if (p.prefix.empty()) continue;
                        needs += (needs.empty() ? "" : ", ") + component_name(p.bit);
                        missing |= !L.has(p.bit);
                    }
                    if (missing) bad(path, fmt::format("needs {} in the layout", needs));
                    size_t at = 0;
                    for (const auto& p : view.parts) {
                        if (p.prefix.empty()) continue;
                        FieldRef r = find_field(p.bit, fmt::format("{}{}", p.prefix, i));
                        places[{p.bit, r.f, r.i}].push_back({path, {whole.begin() + at, whole.begin() + at + r.f->width}});
                        at += r.f->width;
                    }
                    found = true;
                }
            }
            if (!found) bad(path, "no such register in this layout");
        }
    }

    auto values = resolve(places, digests, given);
    Builder builder(img);
    for (const auto& [loc, r] : values) builder.write(loc.bit, *loc.f, loc.i, r, places.at(loc)[0].path);
    if (auto it = j.find("trailing"); it != j.end()) {
        auto t = memory_bytes(*it, "trailing", kMaxAssembleSize);
        img.bytes.insert(img.bytes.end(), t.begin(), t.end());
    }
    return std::move(img.bytes);
}

} // namespace xsave
