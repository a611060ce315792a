// Layout tables and two-CPU comparisons, read from the layout engine.
#include "xsave/layout_compare.hpp"

#include "xsave/components.hpp"
#include "xsave/decode.hpp"
#include "xsave/error.hpp"

#include <fmt/core.h>

namespace xsave {
namespace {

std::string names_of(uint64_t mask) {
    std::string r;
    for (unsigned b = 0; b < 63; ++b)
        if (mask >> b & 1) r += (r.empty() ? "" : ", ") + component_name(b);
    return r;
}

// What `convert --drop` accepts: catalogue aliases, or bit numbers for unknown bits.

Position place(const Layout& from, const Layout* to, unsigned bit) {
    Position p;
    if (from.has(bit)) p.from_offset = from.offset[bit], p.from_size = from.size[bit];
    if (to && to->has(bit)) p.to_offset = to->offset[bit], p.to_size = to->size[bit];
    if (!p.to_offset) p.placement = Placement::Missing;
    else if (!p.from_offset) p.placement = Placement::New;
    else {
        bool moved = *p.from_offset != *p.to_offset, resized = p.from_size != p.to_size;
        p.placement = moved && resized ? Placement::MovedResized
                      : moved          ? Placement::Moved
                      : resized        ? Placement::Resized
                                       : Placement::Same;
    }
    return p;
}

// Sorts each component of the P-side mask into drop (missing or resized) and moved.
struct Tally { uint64_t missing = 0, resized = 0, moved = 0, added = 0; };
void tally(Tally& t, unsigned bit, const Position& p) {
    switch (p.placement) {
    case Placement::Missing: t.missing |= 1ull << bit; break;
    case Placement::Resized: case Placement::MovedResized: t.resized |= 1ull << bit; break;
    case Placement::Moved: t.moved |= 1ull << bit; break;
    case Placement::New: t.added |= 1ull << bit; break;
    case Placement::Same: break;
    }
}

FormVerdict judge(const Tally& t, const std::string& qname) {
    FormVerdict v;
    if (uint64_t drop = t.missing | t.resized) {
        v.verdict = Verdict::Drop;
        v.drop = drop;
        std::string why = !t.resized ? fmt::format("absent on {}", qname)
                          : !t.missing ? fmt::format("of another size on {}", qname)
                                       : fmt::format("{} absent on {}; {} of another size there", names_of(t.missing), qname,
                                                     names_of(t.resized));
        v.text = fmt::format("impossible without dropping {} ({}): `xsavetool convert --drop {}`", names_of(drop), why, mask_aliases(drop));
    } else if (t.moved) {
        v.verdict = Verdict::Convert;
        v.text = fmt::format("needs `xsavetool convert` ({} move)", names_of(t.moved));
    } else {
        v.text = "restorable as is";
    }
    return v;
}

std::string added_note(const Tally& t, const std::string& qname) {
    return t.added ? fmt::format(" ({} only on {}: initialised on restore)", names_of(t.added), qname) : "";
}

nlohmann::ordered_json position_json(const Position& p) {
    nlohmann::ordered_json j;
    j["placement"] = placement_name(p.placement);
    j["from_offset"] = p.from_offset ? nlohmann::ordered_json(*p.from_offset) : nlohmann::ordered_json();
    j["to_offset"] = p.to_offset ? nlohmann::ordered_json(*p.to_offset) : nlohmann::ordered_json();
    j["from_size"] = p.from_size;
    j["to_size"] = p.to_size;
    return j;
}

nlohmann::ordered_json verdict_json(const FormVerdict& v) {
    nlohmann::ordered_json j;
    j["verdict"] = verdict_name(v.verdict);
    auto& d = j["drop"] = nlohmann::ordered_json::array();
    for (unsigned b = 0; b < 63; ++b)
        if (v.drop >> b & 1) d.push_back(component_name(b));
    j["text"] = v.text;
    return j;
}

} // namespace

LayoutTable layout_table(const CpuModel& cpu, std::optional<uint64_t> xcr0, std::optional<uint64_t> xss) {
    LayoutTable t;
    t.profile = cpu.profile().name;
    t.xcr0 = xcr0.value_or(cpu.enabled_xcr0()) & ~kCompactedBit;
    t.xss = xss.value_or(cpu.enabled_xss()) & ~kCompactedBit;
    if (!(t.xcr0 & 1)) throw Error(fmt::format("XCR0 0x{:x}: bit 0 (x87) must be set", t.xcr0));
    for (unsigned b = 0; b < 63; ++b) {
        const auto& g = cpu.geometry(b);
        if ((t.xcr0 >> b & 1) && g.supervisor)
            throw Error(fmt::format("XCR0 0x{:x}: {} (bit {}) is a supervisor component: it belongs in IA32_XSS", t.xcr0,
                                    component_name(b), b));
        if ((t.xss >> b & 1) && g.enumerated && !g.supervisor)
            throw Error(fmt::format("IA32_XSS 0x{:x}: {} (bit {}) is a user component: it belongs in XCR0", t.xss,
                                    component_name(b), b));
    }
    t.standard = &cpu.standard(t.xcr0);
    t.compacted = &cpu.compacted(t.xcr0 | t.xss);
    for (unsigned b : cpu.compacted(t.xcr0 | t.xss | 3).bits()) {
        const auto& g = cpu.geometry(b);
        LayoutRow r;
        r.bit = b;
        r.name = component_name(b);
        r.supervisor = g.supervisor;
        r.size = g.size;
        if (t.standard->has(b)) r.standard_offset = t.standard->offset[b];
        r.compacted_offset = b < 2 ? g.std_offset : t.compacted->offset[b];
        r.align64 = g.align64;
        r.xfd = g.xfd;
        t.rows.push_back(std::move(r));
    }
    return t;
}

nlohmann::ordered_json to_json(const LayoutTable& t) {
    nlohmann::ordered_json j;
    j["profile"] = t.profile;
    j["xcr0"] = hex_u64(t.xcr0);
    j["xss"] = hex_u64(t.xss);
    auto& comps = j["components"] = nlohmann::ordered_json::array();
    for (const auto& r : t.rows) {
        nlohmann::ordered_json c;
        c["bit"] = r.bit;
        c["name"] = r.name;
        c["size"] = r.size;
        c["standard_offset"] = r.standard_offset ? nlohmann::ordered_json(*r.standard_offset) : nlohmann::ordered_json();
        c["compacted_offset"] = r.compacted_offset;
        c["align64"] = r.align64;
        c["supervisor"] = r.supervisor;
        c["xfd"] = r.xfd;
        comps.push_back(std::move(c));
    }
    j["standard_size"] = t.standard_size();
    j["compacted_size"] = t.compacted_size();
    return j;
}

const char* placement_name(Placement p) {
    switch (p) {
    case Placement::Same: return "same";
    case Placement::Moved: return "moved";
    case Placement::Resized: return "resized";
    case Placement::MovedResized: return "moved+resized";
    case Placement::Missing: return "missing";
    case Placement::New: return "new";
    }
    return "?";
}

const char* verdict_name(Verdict v) {
    switch (v) {
    case Verdict::AsIs: return "as_is";
    case Verdict::Convert: return "convert";
    case Verdict::Drop: return "drop";
    case Verdict::Unsupported: return "unsupported";
    }
    return "?";
}

LayoutComparison compare_layouts(const CpuModel& p, const CpuModel& q, std::optional<uint64_t> xcr0,
                                 std::optional<uint64_t> xss, const std::string& p_name, const std::string& q_name) {
    LayoutComparison c;
    c.from = layout_table(p, xcr0, xss);
    std::optional<uint64_t> qx0, qxss;
    if (xcr0) qx0 = *xcr0 & q.supported_xcr0();
    if (xss) qxss = *xss & q.supported_xss();
    c.to = layout_table(q, qx0, qxss);
    if (!p_name.empty()) c.from.profile = p_name;
    if (!q_name.empty()) c.to.profile = q_name;
    const std::string& qname = c.to.profile;

    // Standard form: Q's XRSTOR reads the buffer with Q's own offsets.
    Tally ts;
    const Layout &ps = *c.from.standard, &qs = *c.to.standard;
    // Compacted form: the buffer carries XCOMP_BV; Q reads it with that mask, less what Q lacks.
    c.xcomp_bv = kCompactedBit | c.from.compacted->mask;
    const Layout& pc = *c.from.compacted;
    const Layout& qc = q.compacted(pc.mask & c.to.compacted->mask);
    c.read_compacted = &qc;
    Tally tc;
    for (unsigned b = 0; b < 63; ++b) {
        bool std_any = ps.has(b) || qs.has(b);
        bool cmp_any = pc.has(b) || c.to.compacted->has(b) || std_any;
        if (!cmp_any) continue;
        ComponentChange ch;
        ch.bit = b;
        ch.name = component_name(b);
        if (std_any) {
            ch.standard = place(ps, &qs, b);
            tally(ts, b, *ch.standard);
        }
        // Components only Q has are not in P's buffer (its XCOMP_BV lacks them): no place in
        // it, initialised by Q's XRSTOR. Q's own XSAVEC offsets would contradict the others'.
        ch.compacted = place(pc, &qc, b);
        if (!pc.has(b) && !qc.has(b) && c.to.compacted->has(b)) {
            ch.compacted.placement = Placement::New;
            ch.compacted.to_size = c.to.compacted->size[b];
        }
        if (b < 2 && !pc.has(b) && !c.to.compacted->has(b)) {
            // Legacy components sit at fixed places in both forms.
            ch.compacted = place(ps, &qs, b);
        } else {
            tally(tc, b, ch.compacted);
        }
        c.components.push_back(std::move(ch));
    }
    c.standard = judge(ts, qname);
    if (c.standard.verdict == Verdict::AsIs) c.standard.text += added_note(ts, qname);

    bool p_sup = c.from.xss ? p.has_xsaves() : p.has_xsavec();
    bool q_sup = c.to.xss ? q.has_xsaves() : q.has_xsavec();
    const char* ins = c.from.xss ? "XSAVES" : "XSAVEC";
    if (!p_sup) {
        c.compacted.verdict = Verdict::Unsupported;
        c.compacted.text = fmt::format("{} writes no compacted buffers (no {})", c.from.profile, ins);
    } else if (!q_sup) {
        c.compacted.verdict = Verdict::Unsupported;
        c.compacted.text = fmt::format("{} cannot restore compacted buffers (no {}): `xsavetool convert` to standard form",
                                       qname, ins);
    } else {
        c.compacted = judge(tc, qname);
        if (c.compacted.verdict == Verdict::AsIs)
            c.compacted.text += fmt::format(": XCOMP_BV 0x{:x} lays out the same on {}{}", c.xcomp_bv, qname, added_note(tc, qname));
    }
    return c;
}

nlohmann::ordered_json to_json(const LayoutComparison& c) {
    nlohmann::ordered_json j;
    j["from"] = to_json(c.from);
    j["to"] = to_json(c.to);
    j["xcomp_bv"] = hex_u64(c.xcomp_bv);
    auto& comps = j["components"] = nlohmann::ordered_json::array();
    for (const auto& ch : c.components) {
        nlohmann::ordered_json jc;
        jc["bit"] = ch.bit;
        jc["name"] = ch.name;
        jc["standard"] = ch.standard ? position_json(*ch.standard) : nlohmann::ordered_json();
        jc["compacted"] = position_json(ch.compacted);
        comps.push_back(std::move(jc));
    }
    j["standard"] = verdict_json(c.standard);
    j["compacted"] = verdict_json(c.compacted);
    j["restorable_as_is"] = c.restorable_as_is();
    return j;
}

} // namespace xsave
