// Cloud Hypervisor state.json: the vCPUs' xsave buffers, CPUID and control registers, and a
// rewrite that touches only the xsave arrays (the rest of the text is copied).
#include "xsave/cloudhv.hpp"
#include "model/bytes.hpp"

#include "xsave/error.hpp"
#include "xsave/image.hpp"

#include "base/json_scan.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace xsave::cloudhv {
namespace {

using nlohmann::json;
using namespace json_scan;

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

uint64_t u64_member(const json& o, const char* name, const std::string& path) {
    auto it = o.find(name);
    if (it == o.end() || !it->is_number_unsigned()) throw Error(fmt::format("{}.{}: expected an unsigned number", path, name));
    return it->get<uint64_t>();
}

void read_cpuid(Vcpu& v, const json& k, const std::string& kp) {
    if (!k.contains("cpuid") || !k["cpuid"].is_array()) return;
    v.profile.name = "vCPU " + v.id + " CPUID (snapshot)";
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

// {"Kvm": {...}}: hypervisor/src/kvm/x86_64/mod.rs VcpuKvmState.
void read_kvm(Vcpu& v, const json& k, const std::string& kp) {
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
    read_cpuid(v, k, kp);
    // kvm-bindings serializes KvmNestedStateBuffer as its bytes (header + data, 8320).
    if (auto it = k.find("nested_state"); it != k.end() && !it->is_null()) {
        if (!it->is_array() || it->size() < 128 || it->size() > (1u << 20))
            throw Error(fmt::format("{}.nested_state: expected null or the bytes of struct kvm_nested_state (128 or more)", kp));
        v.nested_state = byte_array(*it, it->size(), kp + ".nested_state");
    }
}

// {"Mshv": {...}}: hypervisor/src/mshv/x86_64/mod.rs VcpuMshvState; vp_states is
// mshv-bindings' AllVpStateComponents as its bytes: LAPIC (1024), XSAVE (4096), SIMP, SIEFP
// (4096 each), synthetic timers (200) = 13512 (mshv-bindings src/x86_64/regs.rs).
void read_mshv(Vcpu& v, const json& m, const std::string& mp) {
    v.mshv = true;
    if (!m.contains("vp_states")) throw Error(fmt::format("{}.vp_states: missing; expected {} bytes", mp, kMshvVpStatesSize));
    const json& vp = m["vp_states"];
    if (!vp.is_array() || vp.size() != kMshvVpStatesSize)
        throw Error(fmt::format("{}.vp_states: {} bytes; expected {} (LAPIC 1024, XSAVE 4096, SIMP 4096, SIEFP 4096, timers 200)", mp,
                                vp.is_array() ? vp.size() : 0, kMshvVpStatesSize));
    auto all = byte_array(vp, kMshvVpStatesSize, mp + ".vp_states");
    v.xsave.assign(all.begin() + kMshvXsaveOffset, all.begin() + kMshvXsaveOffset + 4096);
    if (auto it = m.find("xcrs"); it != m.end()) v.xcr0 = u64_member(*it, "xcr0", mp + ".xcrs");
    if (auto it = m.find("regs"); it != m.end()) {   // named fields (mshv-bindings StandardRegisters)
        v.rsp = u64_member(*it, "rsp", mp + ".regs"), v.rip = u64_member(*it, "rip", mp + ".regs");
    }
    if (auto it = m.find("sregs"); it != m.end()) {
        v.cr0 = u64_member(*it, "cr0", mp + ".sregs"), v.cr4 = u64_member(*it, "cr4", mp + ".sregs");
        v.efer = u64_member(*it, "efer", mp + ".sregs");
    }
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
    if (s.is_object() && s.contains("Mshv") && s["Mshv"].is_object()) {
        read_mshv(v, s["Mshv"], spath + ".Mshv");
        return v;
    }
    if (!s.is_object() || !s.contains("Kvm") || !s["Kvm"].is_object())
        throw Error(fmt::format("{}: expected {{\"Kvm\": {{...}}}} or {{\"Mshv\": {{...}}}} (a vCPU state)", spath));
    read_kvm(v, s["Kvm"], spath + ".Kvm");
    return v;
}

struct Replacement {
    size_t begin, end;
    std::string text;
};

uint64_t number_at(std::string_view t, size_t p, size_t e, const std::string& what) {
    uint64_t v = 0;
    auto [ptr, ec] = std::from_chars(t.data() + p, t.data() + e, v);
    if (ec != std::errc() || ptr != t.data() + e)
        throw Error(fmt::format("{}: not serialized as serde_json writes integers; not rewriting", what));
    return v;
}

// Leaf 0xD entries of the state's "cpuid" array set to `leaves` (eax, ebx, ecx).
void edit_cpuid(std::string_view in, size_t obj, const std::vector<CpuidLeaf>& leaves, const std::string& who,
                std::vector<Replacement>& reps) {
    if (leaves.empty()) return;
    for (auto [b, e] : elements(in, member(in, obj, "cpuid"))) {
        auto num = [&, b = b](const char* f, size_t& pos, size_t& end) {   // (clang 14 captures no binding)
            pos = member(in, b, f);
            if (pos == npos) throw Error(fmt::format("{}: a cpuid entry without \"{}\"; not rewriting", who, f));
            end = skip_value(in, pos);
            return number_at(in, pos, end, who + " cpuid." + f);
        };
        size_t p, q;
        if (num("function", p, q) != 0xD) continue;
        uint32_t index = uint32_t(num("index", p, q));
        for (const auto& l : leaves) {
            if (l.leaf != 0xD || l.subleaf != index) continue;
            for (auto [f, value] : {std::pair{"eax", l.eax}, {"ebx", l.ebx}, {"ecx", l.ecx}})
                if (num(f, p, q) != value) reps.push_back({p, q, std::to_string(value)});
        }
    }
}

// XCR0's 8 bytes in the "xcrs" byte array (struct kvm_xcrs: nr_xcrs, flags, xcrs[16] {xcr, reserved, value}).
void edit_xcr0(std::string_view in, size_t obj, uint64_t xcr0, const std::string& who, std::vector<Replacement>& reps) {
    auto els = elements(in, member(in, obj, "xcrs"));
    if (els.size() != 392) throw Error(fmt::format("{}: xcrs is not 392 bytes; not rewriting", who));
    auto byte = [&](size_t i) { return number_at(in, els[i].first, els[i].second, who + " xcrs"); };
    auto word = [&](size_t off, unsigned n) {
        uint64_t w = 0;
        for (unsigned i = 0; i < n; ++i) w |= byte(off + i) << (8 * i);
        return w;
    };
    uint64_t n = word(0, 4);
    for (uint64_t i = 0; i < n && i < 16; ++i) {
        if (word(8 + 16 * i, 4) != 0) continue;
        for (unsigned k = 0; k < 8; ++k) {
            size_t at = 16 + 16 * i + k;
            uint64_t b = xcr0 >> (8 * k) & 0xff;
            if (byte(at) != b) reps.push_back({els[at].first, els[at].second, std::to_string(b)});
        }
        return;
    }
    throw Error(fmt::format("{}: xcrs holds no XCR0; not rewriting", who));
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

std::string write_state(const Snapshot& s, const std::vector<VcpuEdit>& edits) {
    if (edits.size() != s.vcpus.size()) throw Error("write_state: one edit per vCPU expected");
    std::string out = s.text;
    // From the last literal back, so earlier positions stay valid.
    for (size_t n = s.vcpus.size(); n-- > 0;) {
        const Vcpu& v = s.vcpus[n];
        const VcpuEdit& ed = edits[n];
        const auto& a = ed.area;
        std::string who = "vCPU " + v.id;
        if (v.mshv) throw Error(fmt::format("{}: an MSHV vCPU; only KVM vCPUs are rewritten", who));
        if (a.size() < 4096 || a.size() % 4) throw Error(fmt::format("{}: {} bytes; expected 4096 or more, whole u32 words", who, a.size()));
        std::string_view lit(s.text.data() + v.literal_begin + 1, v.literal_end - v.literal_begin - 2);
        if (serde_escape(v.state) != lit)
            throw Error(fmt::format("{}: the state string is not escaped as serde_json escapes it; not rewriting", who));
        std::string_view in = v.state;
        size_t k = member(in, ws(in, 0), "Kvm");
        size_t x = member(in, k, "xsave");
        size_t r = member(in, x, "region");
        size_t r_end = skip_value(in, r);
        size_t e = member(in, x, "extra");
        // The arrays as serde_json writes them, or the rewrite would change more than they.
        std::span<const uint8_t> old(v.xsave);
        if (r == npos || in.substr(r, r_end - r) != words_text(old.subspan(0, 4096)) ||
            (e != npos && in.substr(e, skip_value(in, e) - e) != words_text(old.subspan(4096))))
            throw Error(fmt::format("{}: xsave arrays not serialized as serde_json writes them; not rewriting", who));
        std::vector<Replacement> reps;
        reps.push_back({r, r_end, words_text(std::span(a).subspan(0, 4096))});
        // XsaveState skips an empty "extra"; when present it follows "region".
        std::string extra = a.size() > 4096 ? ",\"extra\":" + words_text(std::span(a).subspan(4096)) : "";
        if (e == npos) {
            if (!extra.empty()) reps.push_back({r_end, r_end, extra});
        } else if (!(extra.empty() && v.extra_words == 0)) {
            size_t key = in.rfind(",\"extra\"", e);
            if (key == npos || key < r_end) throw Error(fmt::format("{}: \"extra\" does not follow \"region\"; not rewriting", who));
            reps.push_back({key, skip_value(in, e), extra});
        }
        edit_cpuid(in, k, ed.leaf_0xd, who, reps);
        if (ed.xcr0 && ed.xcr0 != v.xcr0) edit_xcr0(in, k, *ed.xcr0, who, reps);
        std::sort(reps.begin(), reps.end(), [](const Replacement& p, const Replacement& q) { return p.begin > q.begin; });
        std::string inner(in);
        for (const auto& rp : reps) inner.replace(rp.begin, rp.end - rp.begin, rp.text);
        out.replace(v.literal_begin + 1, v.literal_end - v.literal_begin - 2, serde_escape(inner));
    }
    return out;
}

std::string write_state(const Snapshot& s, const std::vector<std::vector<uint8_t>>& areas) {
    if (areas.size() != s.vcpus.size()) throw Error("write_state: one area per vCPU expected");
    std::vector<VcpuEdit> edits(areas.size());
    for (size_t i = 0; i < areas.size(); ++i) edits[i].area = areas[i];
    return write_state(s, edits);
}

} // namespace xsave::cloudhv
