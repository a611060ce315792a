// Cloud Hypervisor state.json: the vCPUs' xsave buffers, CPUID and control registers, and a
// rewrite that touches only the xsave arrays (the rest of the text is copied).
#include "xsave/cloudhv.hpp"

#include "xsave/error.hpp"
#include "xsave/image.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <cstring>

namespace xsave::cloudhv {
namespace {

using nlohmann::json;
constexpr size_t npos = std::string_view::npos;

// A scanner over text nlohmann has already accepted: positions of members, no validation.
size_t ws(std::string_view t, size_t p) {
    while (p < t.size() && (t[p] == ' ' || t[p] == '\n' || t[p] == '\r' || t[p] == '\t')) ++p;
    return p;
}
size_t skip_string(std::string_view t, size_t p) {   // t[p] == '"'
    for (++p; p < t.size(); ++p) {
        if (t[p] == '\\') ++p;
        else if (t[p] == '"') return p + 1;
    }
    return t.size();
}
size_t skip_value(std::string_view t, size_t p) {
    p = ws(t, p);
    if (p >= t.size()) return p;
    if (t[p] == '"') return skip_string(t, p);
    if (t[p] == '{' || t[p] == '[') {
        int depth = 0;
        for (; p < t.size(); ++p) {
            char c = t[p];
            if (c == '"') p = skip_string(t, p) - 1;
            else if (c == '{' || c == '[') ++depth;
            else if ((c == '}' || c == ']') && --depth == 0) return p + 1;
        }
        return p;
    }
    while (p < t.size() && t[p] != ',' && t[p] != '}' && t[p] != ']' && t[p] != ' ' && t[p] != '\n') ++p;
    return p;
}
// The value of member `key` of the object at `obj`, or npos.
size_t member(std::string_view t, size_t obj, std::string_view key) {
    if (obj == npos) return npos;
    size_t p = ws(t, obj);
    if (p >= t.size() || t[p] != '{') return npos;
    p = ws(t, p + 1);
    while (p < t.size() && t[p] == '"') {
        size_t kend = skip_string(t, p);
        std::string_view k = t.substr(p + 1, kend - p - 2);
        p = ws(t, kend);
        p = ws(t, p + 1);   // ':'
        if (k == key) return p;
        p = ws(t, skip_value(t, p));
        if (p < t.size() && t[p] == ',') p = ws(t, p + 1);
    }
    return npos;
}

// nlohmann's message without its id prefix and the echo of what it read (one short line).
std::string short_parse_error(const json::parse_error& e) {
    std::string what = e.what();
    if (auto p = what.find("parse error"); p != std::string::npos) what = what.substr(p);
    if (auto p = what.find("; last read:"); p != std::string::npos) what.erase(p);
    return what;
}

uint64_t le(const std::vector<uint8_t>& b, size_t off, unsigned n) { return load_le(&b[off], n); }

// kvm-bindings serializes kvm_regs/kvm_sregs/kvm_xcrs as their bytes: a JSON array of 0..255.
std::vector<uint8_t> byte_array(const json& j, size_t size, const std::string& path) {
    if (!j.is_array() || j.size() != size)
        throw Error(fmt::format("{}: expected an array of {} bytes (kvm-bindings serializes the struct as its bytes)", path, size));
    std::vector<uint8_t> b;
    for (const auto& x : j) {
        if (!x.is_number_unsigned() || x.get<uint64_t>() > 255) throw Error(fmt::format("{}: expected numbers 0..255", path));
        b.push_back(uint8_t(x.get<uint64_t>()));
    }
    return b;
}

void words_into(const json& j, const std::string& path, std::vector<uint8_t>& out) {
    for (size_t i = 0; i < j.size(); ++i) {
        const auto& x = j[i];
        if (!x.is_number_unsigned() || x.get<uint64_t>() > 0xffffffffull)
            throw Error(fmt::format("{}[{}]: expected a u32", path, i));
        uint8_t w[4];
        store_le(w, x.get<uint64_t>(), 4);
        out.insert(out.end(), w, w + 4);
    }
}

std::string words_text(std::span<const uint8_t> b) {
    std::string s = "[";
    for (size_t i = 0; i + 4 <= b.size(); i += 4) {
        if (i) s += ',';
        s += std::to_string(load_le(&b[i], 4));
    }
    return s + "]";
}

Vcpu read_vcpu(const std::string& id, const json& node, const std::string& path) {
    Vcpu v;
    v.id = id;
    const json* st = nullptr;
    if (node.is_object() && node.contains("snapshot_data") && node["snapshot_data"].is_object())
        if (auto it = node["snapshot_data"].find("state"); it != node["snapshot_data"].end()) st = &*it;
    if (!st || !st->is_string()) throw Error(fmt::format("{}.snapshot_data.state: expected the vCPU state as a JSON string", path));
    v.state = st->get<std::string>();
    std::string spath = path + ".snapshot_data.state";
    json s;
    try {
        s = json::parse(v.state);
    } catch (const json::parse_error& e) {
        throw Error(fmt::format("{}: the string is not JSON: {}", spath, short_parse_error(e)));
    }
    if (s.is_object() && s.contains("Mshv")) throw Error(fmt::format("{}: an MSHV vCPU (vp_states); only KVM vCPUs are read", spath));
    if (!s.is_object() || !s.contains("Kvm") || !s["Kvm"].is_object())
        throw Error(fmt::format("{}: expected {{\"Kvm\": {{...}}}} (a KVM vCPU state)", spath));
    const json& k = s["Kvm"];
    std::string kp = spath + ".Kvm";
    if (!k.contains("xsave") || !k["xsave"].is_object() || !k["xsave"].contains("region"))
        throw Error(fmt::format("{}.xsave.region: missing; expected 1024 u32 words", kp));
    const json& region = k["xsave"]["region"];
    if (!region.is_array() || region.size() != 1024)
        throw Error(fmt::format("{}.xsave.region: {} words; expected 1024 (struct kvm_xsave)", kp,
                                region.is_array() ? region.size() : 0));
    words_into(region, kp + ".xsave.region", v.xsave);
    if (auto it = k["xsave"].find("extra"); it != k["xsave"].end()) {
        if (!it->is_array() || it->size() > (1u << 20)) throw Error(fmt::format("{}.xsave.extra: expected an array of u32 words", kp));
        words_into(*it, kp + ".xsave.extra", v.xsave);
        v.extra_words = it->size();
    }
    if (k.contains("xcrs")) {
        auto x = byte_array(k["xcrs"], 392, kp + ".xcrs");
        uint32_t n = uint32_t(le(x, 0, 4));
        for (uint32_t i = 0; i < n && i < 16; ++i)
            if (le(x, 8 + 16 * i, 4) == 0) v.xcr0 = le(x, 16 + 16 * i, 8);
    }
    if (k.contains("regs")) {
        auto r = byte_array(k["regs"], 144, kp + ".regs");   // struct kvm_regs: rax.. rsp @48 .. rip @128
        v.rsp = le(r, 48, 8), v.rip = le(r, 128, 8);
    }
    if (k.contains("sregs")) {
        auto r = byte_array(k["sregs"], 312, kp + ".sregs");   // struct kvm_sregs: cr0 @224, cr4 @248, efer @264
        v.cr0 = le(r, 224, 8), v.cr4 = le(r, 248, 8), v.efer = le(r, 264, 8);
    }
    if (k.contains("cpuid") && k["cpuid"].is_array()) {
        v.profile.name = "vCPU " + id + " CPUID (snapshot)";
        for (const auto& e : k["cpuid"]) {
            auto get = [&](const char* f) -> uint32_t {
                if (!e.is_object() || !e.contains(f) || !e[f].is_number_unsigned() || e[f].get<uint64_t>() > 0xffffffffull)
                    throw Error(fmt::format("{}.cpuid: expected entries {{function, index, flags, eax, ebx, ecx, edx}}", kp));
                return uint32_t(e[f].get<uint64_t>());
            };
            v.profile.set({get("function"), get("index"), get("eax"), get("ebx"), get("ecx"), get("edx")});
        }
        if (const CpuidLeaf* l0 = v.profile.find(0, 0)) {
            char vendor[13] = {};
            std::memcpy(vendor, &l0->ebx, 4), std::memcpy(vendor + 4, &l0->edx, 4), std::memcpy(vendor + 8, &l0->ecx, 4);
            v.profile.vendor = vendor;
        }
        v.profile.xcr0 = v.xcr0;
    }
    v.has_nested_state = k.contains("nested_state") && !k["nested_state"].is_null();
    return v;
}

} // namespace

std::string serde_escape(std::string_view s) {
    std::string out;
    out.reserve(s.size() + s.size() / 8);
    for (char c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (uint8_t(c) < 0x20) out += fmt::format("\\u{:04x}", unsigned(uint8_t(c)));
            else out += c;
        }
    }
    return out;
}

bool is_state_json(std::string_view text) {
    size_t p = ws(text, 0);
    if (p >= text.size() || text[p] != '{') return false;
    return member(text, member(text, p, "snapshots"), "cpu-manager") != npos;
}

Snapshot read_state(std::string_view text) {
    Snapshot s;
    s.text = std::string(text);
    json j;
    try {
        j = json::parse(text);
    } catch (const json::parse_error& e) {
        throw Error(fmt::format("state.json is not JSON: {}", short_parse_error(e)));
    }
    if (!j.is_object() || !j.contains("snapshots") || !j["snapshots"].is_object() || !j["snapshots"].contains("cpu-manager"))
        throw Error("snapshots.cpu-manager: missing; expected a Cloud Hypervisor snapshot (vm-migration Snapshot tree)");
    const json& cm = j["snapshots"]["cpu-manager"];
    if (!cm.is_object() || !cm.contains("snapshots") || !cm["snapshots"].is_object())
        throw Error("snapshots.cpu-manager.snapshots: expected the vCPUs as an object");
    size_t root = ws(text, 0);
    size_t cms = member(text, member(text, member(text, root, "snapshots"), "cpu-manager"), "snapshots");
    for (const auto& [id, node] : cm["snapshots"].items()) {
        std::string path = "snapshots.cpu-manager.snapshots." + id;
        Vcpu v = read_vcpu(id, node, path);
        size_t lit = member(text, member(text, member(text, cms, id), "snapshot_data"), "state");
        if (lit == npos || text[lit] != '"') throw Error(fmt::format("{}: cannot locate the state string in the text", path));
        v.literal_begin = lit, v.literal_end = skip_string(text, lit);
        s.vcpus.push_back(std::move(v));
    }
    if (s.vcpus.empty()) throw Error("snapshots.cpu-manager.snapshots: no vCPU");
    return s;
}

std::string write_state(const Snapshot& s, const std::vector<std::vector<uint8_t>>& areas) {
    if (areas.size() != s.vcpus.size()) throw Error("write_state: one area per vCPU expected");
    std::string out = s.text;
    // From the last literal back, so earlier positions stay valid.
    for (size_t n = s.vcpus.size(); n-- > 0;) {
        const Vcpu& v = s.vcpus[n];
        const auto& a = areas[n];
        if (a.size() < 4096 || a.size() % 4) throw Error(fmt::format("vCPU {}: {} bytes; expected 4096 or more, whole u32 words", v.id, a.size()));
        std::string_view lit(s.text.data() + v.literal_begin + 1, v.literal_end - v.literal_begin - 2);
        if (serde_escape(v.state) != lit)
            throw Error(fmt::format("vCPU {}: the state string is not escaped as serde_json escapes it; not rewriting", v.id));
        std::string_view in = v.state;
        size_t x = member(in, member(in, ws(in, 0), "Kvm"), "xsave");
        size_t r = member(in, x, "region");
        size_t r_end = skip_value(in, r);
        size_t e = member(in, x, "extra");
        // The arrays as serde_json writes them, or the rewrite would change more than they.
        std::span<const uint8_t> old(v.xsave);
        if (r == npos || in.substr(r, r_end - r) != words_text(old.subspan(0, 4096)) ||
            (e != npos && in.substr(e, skip_value(in, e) - e) != words_text(old.subspan(4096))))
            throw Error(fmt::format("vCPU {}: xsave arrays not serialized as serde_json writes them; not rewriting", v.id));
        std::string inner(in.substr(0, r));
        inner += words_text(std::span(a).subspan(0, 4096));
        std::string extra = a.size() > 4096 ? ",\"extra\":" + words_text(std::span(a).subspan(4096)) : "";
        if (e == npos) {
            inner += extra;
            inner += in.substr(r_end);
        } else if (extra.empty() && v.extra_words == 0) {
            inner += in.substr(r_end);   // an empty "extra" stays as written
        } else {
            size_t key = in.rfind(",\"extra\"", e);
            if (key == npos || key < r_end) throw Error(fmt::format("vCPU {}: \"extra\" does not follow \"region\"; not rewriting", v.id));
            inner += in.substr(r_end, key - r_end);
            inner += extra;
            inner += in.substr(skip_value(in, e));
        }
        out.replace(v.literal_begin + 1, v.literal_end - v.literal_begin - 2, serde_escape(inner));
    }
    return out;
}

} // namespace xsave::cloudhv
