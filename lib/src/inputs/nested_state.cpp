// Reading a KVM_GET_NESTED_STATE buffer: header, VMCS12/VMCB12 pages, bytes no field names;
// its JSON and the field-by-field diff of two.
#include "xsave/nested.hpp"
#include "model/bytes.hpp"

#include "xsave/error.hpp"
#include "xsave/image.hpp"

#include <fmt/core.h>

#include <algorithm>

namespace xsave::nested {
namespace {

uint64_t le(std::span<const uint8_t> b, size_t off, unsigned n) { return load_le(&b[off], n); }

bool all_zero(std::span<const uint8_t> b, size_t from, size_t to) {
    to = std::min(to, b.size());
    for (size_t i = from; i < to; ++i)
        if (b[i]) return false;
    return true;
}

// What KVM_GET_NESTED_STATE returns: the header alone, with one VMCS12/VMCB12, or with a shadow VMCS12.
bool kvm_size(uint32_t size) {
    return size == kHeaderSize || size == kHeaderSize + kVmcsSize || size == kHeaderSize + 2 * kVmcsSize;
}

std::string hex_run(const std::vector<uint8_t>& b) {
    std::string s;
    for (uint8_t x : b) s += fmt::format("{:02x}", x);
    return s;
}

// Runs of non-zero bytes in [0, area.size()) that no field of `table` covers.
void collect_unnamed(std::vector<UnnamedRun>& out, const std::string& name, std::span<const uint8_t> area,
                     std::span<const Field> table, size_t from = 0) {
    std::vector<bool> named(area.size(), false);
    for (const auto& f : table)
        for (size_t i = f.offset; i < size_t(f.offset) + f.size && i < area.size(); ++i) named[i] = true;
    for (size_t i = from; i < area.size();) {
        if (named[i] || !area[i]) {
            ++i;
            continue;
        }
        UnnamedRun r{name, i, {}};
        while (i < area.size() && !named[i] && area[i]) r.bytes.push_back(area[i++]);
        out.push_back(std::move(r));
    }
}

} // namespace

bool looks_like_nested_state(std::span<const uint8_t> b) {
    if (b.size() < 8) return false;
    uint16_t flags = uint16_t(le(b, kOffFlags, 2)), format = uint16_t(le(b, kOffFormat, 2));
    uint32_t size = uint32_t(le(b, kOffSize, 4));
    if (format > kFormatSvm || (flags & ~kKnownFlags) || !kvm_size(size)) return false;
    if (format == kFormatSvm) return size <= kHeaderSize + kVmcbSize && all_zero(b, 16, kHeaderSize);
    if (b.size() >= 32 && (le(b, kOffSmmFlags, 2) & ~3u || le(b, kOffPad, 2) || le(b, kOffVmxFlags, 4) & ~1u)) return false;
    return all_zero(b, 40, kHeaderSize);
}

std::vector<std::string> flag_names(uint16_t flags) {
    static constexpr std::pair<uint16_t, const char*> names[] = {
        {kGuestMode, "GUEST_MODE"}, {kRunPending, "RUN_PENDING"}, {kEvmcs, "EVMCS"}, {kMtfPending, "MTF_PENDING"}, {kGifSet, "GIF_SET"}};
    std::vector<std::string> out;
    for (auto [bit, name] : names)
        if (flags & bit) out.push_back(name);
    if (flags & ~kKnownFlags) out.push_back(fmt::format("0x{:x}", flags & ~kKnownFlags));
    return out;
}

std::vector<std::string> smm_flag_names(uint16_t flags) {
    std::vector<std::string> out;
    if (flags & kSmmGuestMode) out.push_back("SMM_GUEST_MODE");
    if (flags & kSmmVmxon) out.push_back("SMM_VMXON");
    if (flags & ~3u) out.push_back(fmt::format("0x{:x}", flags & ~3u));
    return out;
}

std::vector<std::string> vmx_flag_names(uint32_t flags) {
    std::vector<std::string> out;
    if (flags & kVmxPreemptionTimerDeadline) out.push_back("PREEMPTION_TIMER_DEADLINE");
    if (flags & ~1u) out.push_back(fmt::format("0x{:x}", flags & ~1u));
    return out;
}

State parse_nested_state(std::span<const uint8_t> b) {
    if (b.size() < kHeaderSize)
        throw Error(fmt::format("offset {}: the file ends inside the kvm_nested_state header; expected {} bytes", b.size(), kHeaderSize));
    State s;
    s.file_size = b.size();
    Header& h = s.hdr;
    h.flags = uint16_t(le(b, kOffFlags, 2));
    h.format = uint16_t(le(b, kOffFormat, 2));
    h.size = uint32_t(le(b, kOffSize, 4));
    if (h.format > kFormatSvm)
        throw Error(fmt::format("offset {}: format {}; expected 0 (KVM_STATE_NESTED_FORMAT_VMX) or 1 (KVM_STATE_NESTED_FORMAT_SVM)", kOffFormat, h.format));
    if (h.size < kHeaderSize)
        throw Error(fmt::format("offset {}: size {} is smaller than the {}-byte kvm_nested_state header", kOffSize, h.size, kHeaderSize));
    if (h.size > b.size())
        throw Error(fmt::format("offset {}: size {} runs past the end of the file ({} bytes)", kOffSize, h.size, b.size()));
    s.trailing = b.size() - h.size;
    std::span<const uint8_t> data = b.subspan(kHeaderSize, h.size - kHeaderSize);
    if (s.vmx()) {
        h.vmxon_pa = le(b, kOffVmxonPa, 8);
        h.vmcs12_pa = le(b, kOffVmcs12Pa, 8);
        h.smm_flags = uint16_t(le(b, kOffSmmFlags, 2));
        h.pad = uint16_t(le(b, kOffPad, 2));
        h.vmx_flags = uint32_t(le(b, kOffVmxFlags, 4));
        h.preemption_timer_deadline = le(b, kOffPreemptionDeadline, 8);
        // KVM reads a VMCS12 when the data holds the struct, the shadow when it follows a full page.
        if (data.size() >= kVmcs12StructSize) {
            auto page = data.first(std::min(data.size(), kVmcsSize));
            s.vmcs12.assign(page.begin(), page.end());
            if (data.size() >= kVmcsSize + kVmcs12StructSize) {
                auto sh = data.subspan(kVmcsSize, std::min(data.size() - kVmcsSize, kVmcsSize));
                s.shadow_vmcs12.assign(sh.begin(), sh.end());
                s.ignored_data = data.size() - kVmcsSize - sh.size();
            } else {
                s.ignored_data = data.size() - page.size();
            }
        } else {
            s.ignored_data = data.size();
        }
        collect_unnamed(s.unnamed, "header", b.first(kHeaderSize), {}, 40);
        collect_unnamed(s.unnamed, "vmcs12", s.vmcs12, vmcs12_fields());
        collect_unnamed(s.unnamed, "shadow_vmcs12", s.shadow_vmcs12, vmcs12_fields());
    } else {
        h.vmcb_pa = le(b, kOffVmcbPa, 8);
        if (data.size() >= kVmcbSize) {
            s.vmcb12.assign(data.begin(), data.begin() + kVmcbSize);
            s.ignored_data = data.size() - kVmcbSize;
        } else {
            s.ignored_data = data.size();
        }
        collect_unnamed(s.unnamed, "header", b.first(kHeaderSize), {}, 16);
        collect_unnamed(s.unnamed, "vmcb12", s.vmcb12, vmcb12_fields());
    }
    if (s.ignored_data)
        s.notes.push_back(fmt::format("{} bytes of data within size {} are too few for a {} and are not decoded (KVM ignores them too)",
                                      s.ignored_data, h.size, s.vmx() ? (s.vmcs12.empty() ? "VMCS12" : "shadow VMCS12") : "VMCB12"));
    if (s.trailing) s.notes.push_back(fmt::format("{} bytes after size {} are not part of the state", s.trailing, h.size));
    return s;
}

// ---------------------------------------------------------------- JSON

namespace {

nlohmann::ordered_json fields_json(std::span<const uint8_t> area, std::span<const Field> table, std::string_view group = {}) {
    nlohmann::ordered_json j = nlohmann::ordered_json::object();
    for (const auto& f : table)
        if (group.empty() || f.group == group) j[std::string(f.name)] = field_hex(area, f);
    return j;
}

std::string hex16(uint64_t v) { return fmt::format("0x{:016x}", v); }

} // namespace

nlohmann::ordered_json to_json(const State& s) {
    const Header& h = s.hdr;
    nlohmann::ordered_json j;
    j["kind"] = "kvm_nested_state";
    j["format"] = s.vmx() ? "vmx" : "svm";
    j["flags"] = fmt::format("0x{:04x}", h.flags);
    j["flag_names"] = flag_names(h.flags);
    j["size"] = h.size;
    if (s.vmx()) {
        j["vmx"] = {{"vmxon_pa", hex16(h.vmxon_pa)},
                    {"vmcs12_pa", hex16(h.vmcs12_pa)},
                    {"smm_flags", fmt::format("0x{:04x}", h.smm_flags)},
                    {"smm_flag_names", smm_flag_names(h.smm_flags)},
                    {"pad", fmt::format("0x{:04x}", h.pad)},
                    {"flags", fmt::format("0x{:08x}", h.vmx_flags)},
                    {"flag_names", vmx_flag_names(h.vmx_flags)},
                    {"preemption_timer_deadline", hex16(h.preemption_timer_deadline)}};
        if (!s.vmcs12.empty()) j["vmcs12"] = fields_json(s.vmcs12, vmcs12_fields());
        if (!s.shadow_vmcs12.empty()) j["shadow_vmcs12"] = fields_json(s.shadow_vmcs12, vmcs12_fields());
    } else {
        j["svm"] = {{"vmcb_pa", hex16(h.vmcb_pa)}};
        if (!s.vmcb12.empty())
            j["vmcb12"] = {{"control", fields_json(s.vmcb12, vmcb12_fields(), "control")},
                           {"save", fields_json(s.vmcb12, vmcb12_fields(), "save")}};
    }
    nlohmann::ordered_json runs = nlohmann::ordered_json::array();
    for (const auto& r : s.unnamed) runs.push_back({{"area", r.area}, {"offset", r.offset}, {"bytes", hex_run(r.bytes)}});
    j["unnamed_bytes"] = std::move(runs);
    j["ignored_data_bytes"] = s.ignored_data;
    j["trailing_bytes"] = s.trailing;
    j["notes"] = s.notes;
    return j;
}

// ---------------------------------------------------------------- diff

namespace {

void diff_area(DiffResult& r, const std::string& area, std::span<const uint8_t> a, std::span<const uint8_t> b,
               std::span<const Field> table, bool with_group) {
    if (a.empty() != b.empty()) {
        r.differences.push_back({"area", area, area, a.empty() ? "absent" : "present", b.empty() ? "absent" : "present", "", {}});
        return;
    }
    for (const auto& f : table) {
        std::string va = field_hex(a, f), vb = field_hex(b, f);
        if (va == vb) continue;
        Difference d{"field", area + "." + (with_group ? std::string(f.group) + "." : "") + std::string(f.name), area, va, vb, "", {}};
        for (unsigned i = 0; i < f.size; ++i) {
            uint8_t x = f.offset + i < a.size() ? a[f.offset + i] : 0, y = f.offset + i < b.size() ? b[f.offset + i] : 0;
            if (f.mask) {
                uint64_t m = f.mask >> (8 * i) & 0xff;
                x &= m, y &= m;
            }
            if (x != y) d.bytes.push_back(i);
        }
        r.differences.push_back(std::move(d));
    }
}

} // namespace

DiffResult diff_states(const State& a, const State& b) {
    DiffResult r;
    auto hdr = [&](const char* name, uint64_t x, uint64_t y, unsigned digits, std::string detail = {}) {
        if (x != y)
            r.differences.push_back({"header", name, "", fmt::format("0x{:0{}x}", x, digits), fmt::format("0x{:0{}x}", y, digits), std::move(detail), {}});
    };
    auto names = [](const std::vector<std::string>& v) {
        std::string s;
        for (const auto& n : v) s += (s.empty() ? "" : "|") + n;
        return s.empty() ? std::string("none") : s;
    };
    hdr("format", a.hdr.format, b.hdr.format, 1, fmt::format("{} vs {}", a.vmx() ? "VMX" : "SVM", b.vmx() ? "VMX" : "SVM"));
    hdr("flags", a.hdr.flags, b.hdr.flags, 4, names(flag_names(a.hdr.flags)) + " vs " + names(flag_names(b.hdr.flags)));
    if (a.hdr.size != b.hdr.size)
        r.differences.push_back({"header", "size", "", std::to_string(a.hdr.size), std::to_string(b.hdr.size), "", {}});
    if (a.hdr.format != b.hdr.format) return r;   // nothing else is comparable
    if (a.vmx()) {
        hdr("vmxon_pa", a.hdr.vmxon_pa, b.hdr.vmxon_pa, 16);
        hdr("vmcs12_pa", a.hdr.vmcs12_pa, b.hdr.vmcs12_pa, 16);
        hdr("smm.flags", a.hdr.smm_flags, b.hdr.smm_flags, 4, names(smm_flag_names(a.hdr.smm_flags)) + " vs " + names(smm_flag_names(b.hdr.smm_flags)));
        hdr("pad", a.hdr.pad, b.hdr.pad, 4);
        hdr("vmx.flags", a.hdr.vmx_flags, b.hdr.vmx_flags, 8, names(vmx_flag_names(a.hdr.vmx_flags)) + " vs " + names(vmx_flag_names(b.hdr.vmx_flags)));
        hdr("preemption_timer_deadline", a.hdr.preemption_timer_deadline, b.hdr.preemption_timer_deadline, 16);
        diff_area(r, "vmcs12", a.vmcs12, b.vmcs12, vmcs12_fields(), false);
        diff_area(r, "shadow_vmcs12", a.shadow_vmcs12, b.shadow_vmcs12, vmcs12_fields(), false);
    } else {
        hdr("vmcb_pa", a.hdr.vmcb_pa, b.hdr.vmcb_pa, 16);
        diff_area(r, "vmcb12", a.vmcb12, b.vmcb12, vmcb12_fields(), true);
    }
    // Bytes no field names, compared as runs: the same offset with different bytes, or one side only.
    auto key = [](const UnnamedRun& u) { return u.area + "+" + std::to_string(u.offset); };
    for (const auto& u : a.unnamed) {
        auto it = std::find_if(b.unnamed.begin(), b.unnamed.end(), [&](const UnnamedRun& v) { return key(v) == key(u); });
        if (it == b.unnamed.end() || it->bytes != u.bytes)
            r.differences.push_back({"bytes", fmt::format("{}+0x{:x}", u.area, u.offset), u.area, hex_run(u.bytes),
                                     it == b.unnamed.end() ? "" : hex_run(it->bytes), "unnamed bytes", {}});
    }
    for (const auto& v : b.unnamed) {
        auto it = std::find_if(a.unnamed.begin(), a.unnamed.end(), [&](const UnnamedRun& u) { return key(u) == key(v); });
        if (it == a.unnamed.end())
            r.differences.push_back({"bytes", fmt::format("{}+0x{:x}", v.area, v.offset), v.area, "", hex_run(v.bytes), "unnamed bytes", {}});
    }
    return r;
}

} // namespace xsave::nested
