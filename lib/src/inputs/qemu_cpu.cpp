// A QEMU `cpu` device's fields, found by their env names in the stream's description, and
// the XSAVE area QEMU's x86_cpu_xsave_all_areas builds from them.
#include "xsave/qemu.hpp"
#include "model/bytes.hpp"

#include "inputs/qemu_detail.hpp"

#include "xsave/components.hpp"
#include "xsave/decode.hpp"
#include "xsave/error.hpp"
#include "xsave/image.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

namespace xsave {
namespace {


struct Fields {
    const QemuCpu& cpu;
    std::span<const uint8_t> b;

    const QemuField* find(std::string_view name) const {
        for (const auto& f : cpu.fields)
            if (f.name == name) return &f;
        return nullptr;
    }
    // A big-endian integer field of 1..8 bytes (element i of an array).
    std::optional<uint64_t> scalar(std::string_view name, unsigned i = 0) const {
        const QemuField* f = find(name);
        if (!f) return std::nullopt;
        if (f->size == 0 || f->size > 8 || i >= f->count)
            throw Error(fmt::format("offset {}: cpu field \"{}\" is {} x {} bytes; expected an integer of at most 8 bytes{}",
                                    f->offset, name, f->count, f->size, i ? fmt::format(" with {} elements", i + 1) : ""));
        return load_be(b.data() + f->offset + uint64_t(i) * f->size, f->size);
    }
    // A byte array (uint8 elements or one buffer), copied as is.
    std::vector<uint8_t> bytes(std::string_view name) const {
        const QemuField* f = find(name);
        if (!f) return {};
        uint64_t n = uint64_t(f->size) * f->count;
        return {b.begin() + f->offset, b.begin() + f->offset + n};
    }
    // Member `m` of a struct array's element i: (file offset, size), or nothing.
    std::optional<std::pair<uint64_t, uint32_t>> member(const QemuField& f, unsigned i, std::string_view m) const {
        uint64_t off = f.offset + uint64_t(i) * f.size;
        for (size_t k = 0; k < f.members.size(); ++k) {
            if (f.members[k] == m) return std::pair{off, f.member_sizes[k]};
            off += f.member_sizes[k];
        }
        return std::nullopt;
    }
};

// "_q_ZMMReg[3]" -> 3
std::optional<unsigned> zmm_qword(std::string_view m) {
    constexpr std::string_view p = "_q_ZMMReg[";
    if (!m.starts_with(p) || m.size() != p.size() + 2 || m.back() != ']' || m[p.size()] < '0' || m[p.size()] > '7')
        return std::nullopt;
    return unsigned(m[p.size()] - '0');
}

constexpr const char* kGprNames[16] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                       "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};

void decode_cpu(QemuCpu& c, std::span<const uint8_t> b) {
    Fields F{c, b};
    auto get = [&](std::string_view n, uint64_t dflt) { return F.scalar(n).value_or(dflt); };
    c.xcr0 = get("env.xcr0", 0);
    c.xstate_bv = get("env.xstate_bv", 0);
    c.xss = get("env.xss", 0);
    c.fcw = uint16_t(get("env.fpuc", 0x37f));
    c.fsw = uint16_t(get("env.fpus_vmstate", 0));
    c.ftw_abridged = uint16_t(get("env.fptag_vmstate", 0) & 0xff);   // bit i set: register i valid
    c.fop = uint16_t(get("env.fpop", 0));
    c.fip = get("env.fpip", 0);
    c.fdp = get("env.fpdp", 0);
    c.mxcsr = uint32_t(get("env.mxcsr", 0x1f80));
    if (uint64_t fmt = get("env.fpregs_format_vmstate", 0); fmt != 0)
        throw Error(fmt::format("offset {}: cpu {}: env.fpregs_format_vmstate {}; expected 0 (80-bit registers)",
                                F.find("env.fpregs_format_vmstate")->offset, c.index, fmt));
    if (const QemuField* f = F.find("env.fpregs")) {
        if (f->size != 10 || f->count != 8)
            throw Error(fmt::format("offset {}: cpu field \"env.fpregs\" is {} x {} bytes; expected 8 x 10 (mantissa, exponent)",
                                    f->offset, f->count, f->size));
        for (unsigned i = 0; i < 8; ++i) {
            const uint8_t* p = b.data() + f->offset + 10 * i;
            store_le(c.fpregs[i], load_be(p, 8), 8);
            store_le(c.fpregs[i] + 8, load_be(p + 8, 2), 2);
        }
    }
    // env.xmm_regs travels as several struct arrays (xmm_reg, ymmh_reg, zmmh_reg, then the whole
    // ZMM16-31); the members name which 64-bit lanes of ZMMReg each holds. A second array holding
    // lane 0 is the one that starts at register 16.
    bool lane0_seen = false;
    for (const auto& f : c.fields) {
        if (!f.name.starts_with("env.xmm_regs") || f.members.empty()) continue;
        bool lane0 = std::find(f.members.begin(), f.members.end(), "_q_ZMMReg[0]") != f.members.end();
        unsigned first = f.struct_name.find("hi16") != std::string::npos || (lane0 && lane0_seen) ? 16 : 0;
        lane0_seen |= lane0;
        for (unsigned i = 0; i < f.count && first + i < 32; ++i)
            for (const auto& m : f.members) {
                auto q = zmm_qword(m);
                auto at = F.member(f, i, m);
                if (!q || !at || at->second != 8)
                    throw Error(fmt::format("offset {}: cpu field \"{}\" member \"{}\"; expected _q_ZMMReg[0-7] of 8 bytes", f.offset, f.name, m));
                store_le(c.zmm[first + i] + 8 * *q, load_be(b.data() + at->first, 8), 8);
            }
    }
    for (unsigned i = 0; i < 8; ++i) c.opmask[i] = F.find("env.opmask_regs") ? *F.scalar("env.opmask_regs", i) : 0;
    if (const QemuField* f = F.find("env.bnd_regs"))
        for (unsigned i = 0; i < 4 && i < f->count; ++i)
            for (unsigned k = 0; k < 2; ++k)
                if (auto at = F.member(*f, i, k ? "ub" : "lb"); at && at->second == 8) c.bnd[i][k] = load_be(b.data() + at->first, 8);
    c.bndcfgu = get("env.bndcs_regs.cfgu", 0);
    c.bndstatus = get("env.bndcs_regs.sts", 0);
    c.pkru = uint32_t(get("env.pkru", 0));
    c.xtilecfg = F.bytes("env.xtilecfg");
    c.xtiledata = F.bytes("env.xtiledata");
    c.has_nested_state = std::find(c.subsections.begin(), c.subsections.end(), "cpu/nested_state") != c.subsections.end();

    if (F.find("env.regs"))
        for (unsigned i = 0; i < 16 && i < F.find("env.regs")->count; ++i) c.context.push_back({kGprNames[i], *F.scalar("env.regs", i)});
    struct Named { const char* field; const char* name; uint8_t width; };
    static constexpr Named named[] = {
        {"env.eip", "rip", 8},   {"env.eflags", "rflags", 8}, {"env.cr[0]", "cr0", 8}, {"env.cr[2]", "cr2", 8},
        {"env.cr[3]", "cr3", 8}, {"env.cr[4]", "cr4", 8},     {"env.efer", "efer", 8},  {"env.xcr0", "xcr0", 8},
        {"env.xss", "ia32_xss", 8}, {"env.xstate_bv", "recorded_xstate_bv", 8},
    };
    for (const auto& n : named)
        if (auto v = F.scalar(n.field)) c.context.push_back({n.name, *v, n.width});
    if (c.has_nested_state) {
        c.nested_state = qemu_nested_state(c, b, c.notes);
        if (auto f = F.find("env.nested_state")) c.nested_state_offset = f->offset;
    }
}

void put(std::vector<uint8_t>& a, uint64_t off, const void* src, size_t n) {
    if (off >= a.size() || n == 0) return;   // memcpy from an empty field's null pointer is undefined
    std::memcpy(a.data() + off, src, std::min<uint64_t>(n, a.size() - off));
}

} // namespace

void decode_qemu_cpus(QemuStream& s, std::span<const uint8_t> bytes) {
    for (auto& c : s.cpus) decode_cpu(c, bytes);
}

Profile qemu_default_profile(uint64_t xcr0) {
    // x86_ext_save_areas: bit, size, offset (the SDM's standard offsets on Intel).
    struct Area { unsigned bit; uint32_t size, offset; };
    static constexpr Area areas[] = {
        {2, 0x100, 0x240}, {3, 0x40, 0x3c0},  {4, 0x40, 0x400},  {5, 0x40, 0x440},   {6, 0x200, 0x480},
        {7, 0x400, 0x680}, {9, 0x8, 0xa80},   {17, 0x40, 0xac0}, {18, 0x2000, 0xb00},
    };
    Profile p;
    p.name = "QEMU built-in XSAVE offsets";
    p.vendor = "GenuineIntel";
    uint64_t supported = 3;
    for (const auto& a : areas) supported |= 1ull << a.bit;
    xcr0 &= supported;
    xcr0 |= 3;
    p.xcr0 = xcr0;
    p.xss = 0;
    uint32_t end = 576;
    for (const auto& a : areas)
        if (xcr0 >> a.bit & 1) end = std::max(end, a.offset + a.size);
    p.set({0xD, 0, uint32_t(supported), end, end, uint32_t(supported >> 32)});
    p.set({0xD, 1, 0, 0, 0, 0});
    for (const auto& a : areas) p.set({0xD, a.bit, a.size, a.offset, 0, 0});
    return p;
}

uint64_t qemu_components_in_use(std::span<const uint8_t> area, const Layout& L) {
    uint64_t in_use = 0;
    uint8_t init[64];
    for (unsigned bit : L.bits()) {
        const ComponentInfo* info = component_info(bit);
        bool used = false;
        if (!info) {
            used = std::any_of(area.begin() + L.offset[bit], area.begin() + L.offset[bit] + L.size[bit], [](uint8_t x) { return x; });
        } else {
            for (const auto& f : info->fields) {
                if (f.init == Init::Stored || f.init == Init::Mxcsr || f.width > sizeof init) continue;
                init_value(f, init);
                for (unsigned i = 0; i < f.count && !used; ++i) {
                    uint32_t off = field_offset(L, bit, f, i);
                    used = off + f.width <= area.size() && std::memcmp(area.data() + off, init, f.width) != 0;
                }
                if (used) break;
            }
        }
        if (used) in_use |= 1ull << bit;
    }
    return in_use;
}

std::vector<uint8_t> qemu_xsave_area(const QemuCpu& c, const Layout& L, uint64_t xstate_bv) {
    std::vector<uint8_t> a(std::max<uint32_t>(L.total_size, kExtendedOffset), 0);
    uint8_t* p = a.data();
    store_le(p + 0, c.fcw, 2);
    store_le(p + 2, c.fsw, 2);
    p[4] = uint8_t(c.ftw_abridged);
    store_le(p + 6, c.fop, 2);
    store_le(p + 8, c.fip, 8);
    store_le(p + 16, c.fdp, 8);
    store_le(p + kMxcsrOffset, c.mxcsr, 4);   // MXCSR_MASK stays 0: QEMU does not fill it
    for (unsigned i = 0; i < 8; ++i) std::memcpy(p + 32 + 16 * i, c.fpregs[i], 10);
    for (unsigned i = 0; i < 16; ++i) std::memcpy(p + 160 + 16 * i, c.zmm[i], 16);
    store_le(p + kXstateBvOffset, xstate_bv, 8);
    auto at = [&](unsigned bit) -> std::optional<uint64_t> {
        return L.has(bit) ? std::optional<uint64_t>(L.offset[bit]) : std::nullopt;
    };
    if (auto o = at(2))
        for (unsigned i = 0; i < 16; ++i) put(a, *o + 16 * i, c.zmm[i] + 16, 16);
    if (auto o = at(3))
        for (unsigned i = 0; i < 4; ++i)
            for (unsigned k = 0; k < 2; ++k) {
                uint8_t v[8];
                store_le(v, c.bnd[i][k], 8);
                put(a, *o + 16 * i + 8 * k, v, 8);
            }
    if (auto o = at(4)) {
        uint8_t v[16];
        store_le(v, c.bndcfgu, 8);
        store_le(v + 8, c.bndstatus, 8);
        put(a, *o, v, 16);
    }
    if (auto o = at(5))
        for (unsigned i = 0; i < 8; ++i) {
            uint8_t v[8];
            store_le(v, c.opmask[i], 8);
            put(a, *o + 8 * i, v, 8);
        }
    if (auto o = at(6))
        for (unsigned i = 0; i < 16; ++i) put(a, *o + 32 * i, c.zmm[i] + 32, 32);
    if (auto o = at(7))
        for (unsigned i = 0; i < 16; ++i) put(a, *o + 64 * i, c.zmm[16 + i], 64);
    if (auto o = at(9)) {
        uint8_t v[4];
        store_le(v, c.pkru, 4);
        put(a, *o, v, 4);
    }
    if (auto o = at(17)) put(a, *o, c.xtilecfg.data(), std::min<size_t>(c.xtilecfg.size(), L.size[17]));
    if (auto o = at(18)) put(a, *o, c.xtiledata.data(), std::min<size_t>(c.xtiledata.size(), L.size[18]));
    return a;
}

} // namespace xsave
