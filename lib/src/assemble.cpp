// assemble: the dump JSON contract back into bytes.
#include "xsave/assemble.hpp"

#include "xsave/decode.hpp"
#include "xsave/error.hpp"
#include "json_text.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>

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
        if (s.size() > 2 && s.size() <= 18 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') &&
            s.find_first_not_of("0123456789abcdefABCDEF", 2) == std::string::npos)
            return std::stoull(s.substr(2), nullptr, 16);
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
            for (unsigned i = 0; i < field_instances(f, false); ++i) {
                bool match = f.count == 1 ? name == f.prefix
                                          : name == fmt::format("{}{}", f.prefix, f.first_index + i);
                if (match) return {&f, i};
            }
    return {};
}

// Applies edits: values that differ from what the area built so far (the base) implies. Edits
// are judged against the base, not against each other, so that an unchanged ymm7 does not
// undo an edited xmm7.
class Builder {
public:
    explicit Builder(Image& img) : img_(img), base_(img) {}

    // The field as the CPU would load it from the base.
    std::vector<uint8_t> base_value(unsigned bit, FieldRef r) const {
        std::vector<uint8_t> v(r.f->width);
        if (field_is_stored(base_, bit, *r.f)) {
            uint32_t at = field_offset(*base_.layout, bit, *r.f, r.i);
            std::copy_n(base_.bytes.begin() + at, v.size(), v.begin());
        } else {
            init_value(*r.f, base_.format, v.data());
        }
        return v;
    }

    // Writes an edited value; a component in init state is first made in-use with its init values.
    void write(unsigned bit, FieldRef r, const std::vector<uint8_t>& v) {
        if (base_value(bit, r) == v) return;
        if (!field_is_stored(img_, bit, *r.f)) make_in_use(bit);
        std::copy(v.begin(), v.end(), img_.bytes.begin() + field_offset(*img_.layout, bit, *r.f, r.i));
    }

private:
    void make_in_use(unsigned bit) {
        const Layout& L = *img_.layout;
        if (const ComponentInfo* c = component_info(bit))
            for (const auto& f : c->fields) {
                if (field_is_stored(img_, bit, f)) continue;
                std::vector<uint8_t> init(f.width);
                init_value(f, img_.format, init.data());
                for (unsigned i = 0; i < field_instances(f, false); ++i) {
                    if (bit >= 2 && f.offset + i * f.stride + f.width > L.size[bit]) break;
                    std::copy(init.begin(), init.end(), img_.bytes.begin() + field_offset(L, bit, f, i));
                }
            }
        img_.xstate_bv |= 1ull << bit;
        store_le(&img_.bytes[kXstateBvOffset], img_.xstate_bv, 8);
    }
    Image& img_;
    const Image base_;
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

    // Stored fields first, exactly as given.
    for (size_t k = 0; k < comps.size(); ++k) {
        unsigned bit = unsigned(number(comps[k]["bit"], ""));
        std::string path = fmt::format("components[{}].fields", k);
        auto it = comps[k].find("fields");
        if (it == comps[k].end()) continue;
        if (!it->is_object()) bad(path, "expected an object");
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
            if (!field_is_stored(img, bit, *r.f)) continue;
            auto b = register_bytes(value, r.f->width, path + "." + name);
            std::copy(b.begin(), b.end(), img.bytes.begin() + field_offset(L, bit, *r.f, r.i));
        }
    }

    // Then edits: fields of init components and registers that differ from what is built.
    Builder builder(img);
    for (size_t k = 0; k < comps.size(); ++k) {
        unsigned bit = unsigned(number(comps[k]["bit"], ""));
        auto it = comps[k].find("fields");
        if (it == comps[k].end() || !component_info(bit)) continue;
        for (const auto& [name, value] : it->items()) {
            FieldRef r = find_field(bit, name);
            builder.write(bit, r, register_bytes(value, r.f->width, fmt::format("components[{}].fields.{}", k, name)));
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
                builder.write(bit, r, register_bytes(value, r.f->width, path));
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
                        builder.write(p.bit, r, {whole.begin() + at, whole.begin() + at + r.f->width});
                        at += r.f->width;
                    }
                    found = true;
                }
            }
            if (!found) bad(path, "no such register in this layout");
        }
    }
    if (auto it = j.find("trailing"); it != j.end()) {
        auto t = memory_bytes(*it, "trailing", kMaxAssembleSize);
        img.bytes.insert(img.bytes.end(), t.begin(), t.end());
    }
    return std::move(img.bytes);
}

} // namespace xsave
