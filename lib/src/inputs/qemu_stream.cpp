// QEMU migration stream walk: header, configuration, sections with footers, RAM skipped in
// place, device sections sized by the JSON description that follows QEMU_VM_EOF.
// Device sections carry no length: only the description (field sizes, array lengths,
// subsections) says where one ends, so it is read first and every section checked against it.
#include "xsave/qemu.hpp"

#include "model/json_text.hpp"
#include "inputs/qemu_detail.hpp"
#include "xsave/error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string_view>

namespace xsave {
namespace {

enum : uint8_t {
    kEof = 0x00, kSectionStart = 0x01, kSectionPart = 0x02, kSectionEnd = 0x03, kSectionFull = 0x04,
    kSubsection = 0x05, kVmDescription = 0x06, kConfiguration = 0x07, kCommand = 0x08, kFooter = 0x7e,
};
// RAM record flags (low bits of each be64 page address).
enum : uint64_t {
    kRamZero = 0x02, kRamMemSize = 0x04, kRamPage = 0x08, kRamEos = 0x10, kRamContinue = 0x20,
    kRamXbzrle = 0x40, kRamHook = 0x80, kRamCompressPage = 0x100, kRamMultifdFlush = 0x200,
};
constexpr uint64_t kMaxDescriptionSearch = 64ull << 20;   // the description is far smaller
constexpr int kMaxDepth = 16;

struct Cursor {
    std::span<const uint8_t> b;
    uint64_t pos = 0;
    uint64_t end = 0;   // where the section stream stops (the EOF byte's successor)

    void need(uint64_t n, std::string_view what) const {
        if (end - pos < n)
            throw Error(fmt::format("offset {}: {} needs {} bytes, but the stream ends at {}", pos, what, n, end));
    }
    uint64_t be(unsigned n, std::string_view what) {
        need(n, what);
        uint64_t v = 0;
        for (unsigned i = 0; i < n; ++i) v = v << 8 | b[pos + i];
        pos += n;
        return v;
    }
    uint8_t u8(std::string_view what) { return uint8_t(be(1, what)); }
    uint32_t be32(std::string_view what) { return uint32_t(be(4, what)); }
    uint64_t be64(std::string_view what) { return be(8, what); }
    std::string_view str8(std::string_view what) {   // a byte length, then the bytes
        uint8_t n = u8(what);
        need(n, what);
        std::string_view s(reinterpret_cast<const char*>(b.data() + pos), n);
        pos += n;
        return s;
    }
    void skip(uint64_t n, std::string_view what) {
        need(n, what);
        pos += n;
    }
};

// ------------------------------------------------------------------ the JSON description

struct DescVmsd;
struct DescField {
    std::string name, type, struct_name;
    std::vector<std::string> members;
    std::vector<uint32_t> member_sizes;
    uint32_t size = 0, count = 1;
    // A struct whose vmstate has subsections (cpu/nested_state's kvm_nested_state): walked
    // field by field, since its subsections come and go with the data.
    std::shared_ptr<const DescVmsd> inner;
};
struct DescVmsd {
    std::string name;
    uint32_t version = 0;
    std::vector<DescField> fields;
    std::vector<DescVmsd> subsections;
};
struct DescDevice {
    std::string name;
    uint32_t instance = 0;
    DescVmsd vmsd;
};

[[noreturn]] void bad_desc(uint64_t at, std::string_view why) {
    throw Error(fmt::format("offset {}: QEMU vmstate description: {}", at, why));
}

uint64_t unsigned_member(const nlohmann::json& j, const char* key, uint64_t max, uint64_t at, bool required = true,
                         uint64_t dflt = 0) {
    auto it = j.find(key);
    if (it == j.end()) {
        if (required) bad_desc(at, fmt::format("an entry has no \"{}\"; expected a number", key));
        return dflt;
    }
    if (!it->is_number_unsigned() || it->get<uint64_t>() > max)
        bad_desc(at, fmt::format("\"{}\" is {}; expected a number from 0 to {}", key, it->dump().substr(0, 40), max));
    return it->get<uint64_t>();
}
std::string string_member(const nlohmann::json& j, const char* key, uint64_t at) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) bad_desc(at, fmt::format("an entry has no string \"{}\"", key));
    return it->get<std::string>();
}
const nlohmann::json& array_member(const nlohmann::json& j, const char* key, uint64_t at) {
    static const nlohmann::json empty = nlohmann::json::array();
    auto it = j.find(key);
    if (it == j.end()) return empty;
    if (!it->is_array()) bad_desc(at, fmt::format("\"{}\" is not a list", key));
    return *it;
}

DescVmsd parse_vmsd(const nlohmann::json& j, uint64_t at, int depth);

DescField parse_field(const nlohmann::json& j, uint64_t at, int depth) {
    if (!j.is_object()) bad_desc(at, "a field is not an object");
    DescField f;
    f.name = string_member(j, "name", at);
    f.type = j.contains("type") && j["type"].is_string() ? j["type"].get<std::string>() : "";
    f.size = uint32_t(unsigned_member(j, "size", 1u << 30, at));
    f.count = uint32_t(unsigned_member(j, "array_len", 1u << 24, at, false, 1));
    // A struct element names its vmsd under "struct"; a tmp field carries it inline.
    const nlohmann::json* inner = nullptr;
    if (auto it = j.find("struct"); it != j.end() && it->is_object()) inner = &*it;
    else if (j.contains("vmsd_name") && j.contains("fields")) inner = &j;
    if (inner) {
        DescVmsd v = parse_vmsd(*inner, at, depth + 1);
        f.struct_name = v.name;
        for (auto& m : v.fields) {
            f.members.push_back(m.name);
            f.member_sizes.push_back(uint32_t(std::min<uint64_t>(uint64_t(m.size) * m.count, UINT32_MAX)));
        }
        if (!v.subsections.empty() && f.count == 1) f.inner = std::make_shared<const DescVmsd>(std::move(v));
    }
    return f;
}

DescVmsd parse_vmsd(const nlohmann::json& j, uint64_t at, int depth) {
    if (depth > kMaxDepth) bad_desc(at, fmt::format("nested more than {} levels deep", kMaxDepth));
    if (!j.is_object()) bad_desc(at, "a vmstate is not an object");
    DescVmsd v;
    v.name = string_member(j, "vmsd_name", at);
    v.version = uint32_t(unsigned_member(j, "version", UINT32_MAX, at, false));
    for (const auto& f : array_member(j, "fields", at)) v.fields.push_back(parse_field(f, at, depth));
    for (const auto& s : array_member(j, "subsections", at)) v.subsections.push_back(parse_vmsd(s, at, depth + 1));
    return v;
}

std::vector<DescDevice> parse_description(std::string_view text, uint64_t at) {
    nlohmann::json j = parse_json_text(text, fmt::format("offset {}: QEMU vmstate description", at));
    if (!j.is_object()) bad_desc(at, "not a JSON object");
    std::vector<DescDevice> out;
    for (const auto& d : array_member(j, "devices", at)) {
        if (!d.is_object()) bad_desc(at, "a device is not an object");
        DescDevice dev;
        dev.name = string_member(d, "name", at);
        dev.instance = uint32_t(unsigned_member(d, "instance_id", UINT32_MAX, at));
        dev.vmsd = parse_vmsd(d, at, 0);
        out.push_back(std::move(dev));
    }
    return out;
}

// QEMU_VM_EOF, QEMU_VM_VMDESCRIPTION, be32 length, then the JSON up to the end of the stream.
std::optional<uint64_t> find_description(std::span<const uint8_t> b) {
    if (b.size() < 8) return std::nullopt;
    uint64_t lowest = b.size() > kMaxDescriptionSearch ? b.size() - kMaxDescriptionSearch : 1;
    for (uint64_t p = b.size() - 6; p >= lowest; --p) {
        if (b[p] != kVmDescription || b[p - 1] != kEof || b[p + 5] != '{') continue;
        uint64_t len = uint64_t(b[p + 1]) << 24 | b[p + 2] << 16 | b[p + 3] << 8 | b[p + 4];
        if (len == b.size() - p - 5) return p;
    }
    return std::nullopt;
}

// ------------------------------------------------------------------ sections

std::string mib(uint64_t n) {
    return n % (1 << 20) == 0 ? fmt::format("{} MiB", n >> 20) : fmt::format("{} bytes", n);
}

struct Walker {
    Cursor c;
    QemuStream& out;
    std::vector<DescDevice> devices;
    size_t next_device = 0;
    bool ignore_shared = false;   // x-ignore-shared: each RAM block also records its address
    uint64_t page_size = 4096;

    void configuration() {
        uint64_t at = c.pos;
        uint32_t len = c.be32("the configuration's machine-name length");
        if (len > 256) throw Error(fmt::format("offset {}: machine-name length {}; expected at most 256", at, len));
        c.need(len, "the configuration's machine name");
        out.machine.assign(reinterpret_cast<const char*>(c.b.data() + c.pos), len);
        c.pos += len;
        while (c.pos < c.end && c.b[c.pos] == kSubsection) {
            uint64_t sub_at = c.pos++;
            std::string name(c.str8("a configuration subsection name"));
            c.be32("a subsection version");
            if (name == "configuration/target-page-bits") {
                uint32_t bits = c.be32("target-page-bits");
                if (bits < 9 || bits > 16)
                    throw Error(fmt::format("offset {}: target page bits {}; expected 9 to 16", c.pos - 4, bits));
                page_size = uint64_t(1) << bits;
            } else if (name == "configuration/capabilities") {
                uint32_t n = c.be32("the capability count");
                for (uint32_t i = 0; i < n; ++i)
                    if (c.str8("a capability name") == "x-ignore-shared") ignore_shared = true;
            } else if (name == "configuration/uuid") {
                c.skip(16, "the VM UUID");
            } else {
                throw Error(fmt::format("offset {}: configuration subsection \"{}\"; expected target-page-bits, capabilities or uuid",
                                        sub_at, name));
            }
        }
    }

    // After a normal page, the run of normal pages continuing its block that follows (the bulk of
    // a stream): one header load per page, no per-record checks beyond the flags; the payloads are
    // never read. The cost is one cache miss per page header (measured: the same as a bare loop).
    void page_run() {
        constexpr uint64_t kAhead = 16;   // records prefetched ahead
        const uint64_t rec = 8 + page_size, want = kRamPage | kRamContinue;
        const uint8_t* p = c.b.data();
        uint64_t pos = c.pos, n = 0;
        while (c.end - pos >= rec) {
            if (c.end - pos >= (kAhead + 1) * rec) __builtin_prefetch(p + pos + kAhead * rec);
            uint64_t v;
            std::memcpy(&v, p + pos, 8);
            if ((__builtin_bswap64(v) & (page_size - 1)) != want) break;
            pos += rec;
            ++n;
        }
        c.pos = pos;
        out.ram_pages += n;
    }

    // One section's worth of RAM records, up to RAM_SAVE_FLAG_EOS. Pages are skipped, not read.
    void ram(uint64_t section_at) {
        for (;;) {
            uint64_t at = c.pos;
            uint64_t v = c.be64("a RAM record");
            uint64_t flags = v & (page_size - 1), addr = v & ~(page_size - 1);
            if (flags & kRamEos) return;
            if (flags == kRamMemSize) {
                uint64_t left = addr;
                out.ram_bytes += addr;
                while (left) {
                    std::string id(c.str8("a RAM block name"));
                    uint64_t len = c.be64("a RAM block length");
                    if (len > left)
                        throw Error(fmt::format("offset {}: RAM block \"{}\" of {} bytes exceeds the {} bytes the block list announced at offset {}",
                                                c.pos - 8, id, len, left, at));
                    left -= len;
                    if (ignore_shared) c.skip(8, "a RAM block address");
                    out.ram_blocks.push_back(fmt::format("{} ({})", id, mib(len)));
                }
                continue;
            }
            if (flags & kRamMultifdFlush) continue;
            uint64_t kind = flags & ~kRamContinue;
            if (kind != kRamZero && kind != kRamPage && kind != kRamCompressPage && kind != kRamXbzrle)
                throw Error(fmt::format("offset {}: RAM record flags 0x{:x} in the section at offset {}; expected a zero, normal, compressed or XBZRLE page, the block list or the end marker",
                                        at, flags, section_at));
            if (!(flags & kRamContinue)) c.str8("a RAM page's block name");
            switch (kind) {
            case kRamZero: c.u8("a zero page's fill byte"); ++out.zero_pages; break;
            case kRamPage:
                c.skip(page_size, "a RAM page");
                ++out.ram_pages;
                page_run();
                break;
            case kRamCompressPage: {
                uint32_t n = c.be32("a compressed page's length");
                if (n > 2 * page_size)
                    throw Error(fmt::format("offset {}: compressed page of {} bytes; expected at most {}", c.pos - 4, n, 2 * page_size));
                c.skip(n, "a compressed page");
                ++out.other_pages;
                break;
            }
            case kRamXbzrle: {
                c.u8("an XBZRLE encoding byte");
                c.skip(c.be(2, "an XBZRLE length"), "an XBZRLE page");
                ++out.other_pages;
                break;
            }
            }
        }
    }

    // Walks a vmstate's fields and subsections as the description sizes them. Fields inside a
    // walked struct are recorded as "STRUCT.FIELD" ("env.nested_state.hdr.vmx.vmxon_pa").
    void vmsd(const DescVmsd& d, std::vector<QemuField>* fields, std::vector<std::string>* subs, int depth,
              const std::string& prefix = {}) {
        for (const auto& f : d.fields) {
            uint64_t n = uint64_t(f.size) * f.count, at = c.pos;
            if (fields) fields->push_back({prefix + f.name, f.type, f.struct_name, f.members, f.member_sizes, c.pos, f.size, f.count});
            if (f.inner && fields) {
                // QEMU's size of a struct field is what it wrote: its fields and its subsections.
                if (depth >= kMaxDepth) throw Error(fmt::format("offset {}: structs nested too deep", at));
                vmsd(*f.inner, fields, subs, depth + 1, prefix + f.name + ".");
                if (c.pos - at != n)
                    throw Error(fmt::format("offset {}: field \"{}\" of \"{}\" is {} bytes by the description, but its fields and subsections take {}",
                                            at, f.name, d.name, n, c.pos - at));
                continue;
            }
            c.skip(n, fmt::format("field \"{}\" of \"{}\" ({} x {} bytes by the description)", f.name, d.name, f.count, f.size));
        }
        for (const auto& s : d.subsections) {
            uint64_t at = c.pos;
            if (c.u8("a subsection marker") != kSubsection)
                throw Error(fmt::format("offset {}: expected subsection \"{}\" (byte 0x05) as the description says; the data does not match it",
                                        at, s.name));
            std::string_view name = c.str8("a subsection name");
            if (name != s.name)
                throw Error(fmt::format("offset {}: subsection \"{}\"; the description expects \"{}\" here", at, name, s.name));
            c.be32("a subsection version");
            if (subs) subs->push_back(s.name);
            if (depth >= kMaxDepth) throw Error(fmt::format("offset {}: subsections nested too deep", at));
            vmsd(s, fields, subs, depth + 1, prefix);
        }
    }

    void footer(uint32_t id, uint64_t section_at) {
        if (c.pos < c.end && c.b[c.pos] == kFooter) {
            uint64_t at = c.pos++;
            uint32_t got = c.be32("a section footer");
            if (got != id)
                throw Error(fmt::format("offset {}: section footer for section {}; expected {} (the section at offset {})", at, got, id, section_at));
            return;
        }
        if (c.pos >= c.end || c.b[c.pos] > kCommand)
            throw Error(fmt::format("offset {}: byte 0x{:02x} after the section at offset {}; expected its footer (0x7e) or the next section: the section's data does not match its description",
                                    c.pos, c.pos < c.end ? c.b[c.pos] : 0, section_at));
    }

    void device(uint64_t at, uint32_t id, std::string_view idstr, uint32_t instance) {
        if (next_device >= devices.size() || devices[next_device].name != idstr || devices[next_device].instance != instance)
            throw Error(fmt::format("offset {}: section \"{}\" instance {}; the description's next device is {}", at, idstr, instance,
                                    next_device < devices.size()
                                        ? fmt::format("\"{}\" instance {}", devices[next_device].name, devices[next_device].instance)
                                        : std::string("none")));
        const DescDevice& d = devices[next_device++];
        ++out.device_sections;
        if (idstr == "cpu") {
            QemuCpu cpu;
            cpu.index = instance;
            cpu.section_offset = at;
            cpu.version = d.vmsd.version;
            vmsd(d.vmsd, &cpu.fields, &cpu.subsections, 0);
            out.cpus.push_back(std::move(cpu));
        } else {
            vmsd(d.vmsd, nullptr, nullptr, 0);
        }
        footer(id, at);
    }

    void walk() {
        std::vector<std::pair<uint32_t, std::string>> iterable;   // section id -> idstr
        for (;;) {
            uint64_t at = c.pos;
            uint8_t type = c.u8("a section type");
            switch (type) {
            case kEof:
                if (c.pos != c.end)
                    throw Error(fmt::format("offset {}: QEMU_VM_EOF before the description at offset {}", at, c.end));
                if (next_device != devices.size())
                    throw Error(fmt::format("offset {}: QEMU_VM_EOF, but the description lists {} more devices (next \"{}\")", at,
                                            devices.size() - next_device, devices[next_device].name));
                return;
            case kSectionStart:
            case kSectionFull: {
                uint32_t id = c.be32("a section id");
                std::string idstr(c.str8("a section name"));
                uint32_t instance = c.be32("a section instance id");
                c.be32("a section version");
                if (type == kSectionStart) {
                    if (idstr != "ram")
                        throw Error(fmt::format("offset {}: iterative section \"{}\"; this reader walks only RAM (\"ram\")", at, idstr));
                    iterable.emplace_back(id, idstr);
                    ram(at);
                    footer(id, at);
                } else {
                    device(at, id, idstr, instance);
                }
                break;
            }
            case kSectionPart:
            case kSectionEnd: {
                uint32_t id = c.be32("a section id");
                auto it = std::find_if(iterable.begin(), iterable.end(), [&](const auto& e) { return e.first == id; });
                if (it == iterable.end())
                    throw Error(fmt::format("offset {}: continuation of section {}, which no section start opened", at, id));
                ram(at);
                footer(id, at);
                break;
            }
            case kCommand: {
                c.be(2, "a command");
                c.skip(c.be(2, "a command length"), "a command's data");
                break;
            }
            default:
                throw Error(fmt::format("offset {}: section type 0x{:02x}; expected 0x00 (EOF) to 0x04 or 0x08 (QEMU_VM_*)", at, type));
            }
        }
    }
};

} // namespace

bool is_qemu_stream(std::span<const uint8_t> b) {
    return b.size() >= 4 && b[0] == 'Q' && b[1] == 'E' && b[2] == 'V' && b[3] == 'M';
}

QemuStream read_qemu_stream(std::span<const uint8_t> bytes) {
    QemuStream out;
    Cursor c{bytes, 0, bytes.size()};
    if (!is_qemu_stream(bytes))
        throw Error("offset 0: not a QEMU migration stream: expected the magic \"QEVM\" (51 45 56 4d)");
    c.pos = 4;
    uint32_t version = c.be32("the stream version");
    if (version != kQemuVmFileVersion)
        throw Error(fmt::format("offset 4: QEMU stream version {}; expected {}", version, kQemuVmFileVersion));
    auto desc_at = find_description(bytes);
    if (!desc_at)
        throw Error("no vmstate description after QEMU_VM_EOF at the end of the stream (0x00 0x06, be32 length, JSON): without it device sections have no length; the stream is truncated or its machine has suppress-vmdesc=on");
    out.description_offset = *desc_at;
    Walker w{c, out, parse_description({reinterpret_cast<const char*>(bytes.data() + *desc_at + 5), bytes.size() - *desc_at - 5}, *desc_at)};
    w.c.end = *desc_at;
    if (w.c.pos < w.c.end && bytes[w.c.pos] == kConfiguration) {
        ++w.c.pos;
        w.configuration();
    }
    w.walk();
    if (out.cpus.empty()) throw Error("no \"cpu\" device section in the stream: it holds no vCPU state");
    decode_qemu_cpus(out, bytes);
    return out;
}

} // namespace xsave
