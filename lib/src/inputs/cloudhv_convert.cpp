// A Cloud Hypervisor snapshot for another host: each KVM vCPU's xsave re-laid in the target's
// standard form, and the vCPU's CPUID leaf 0xD layout entries set to the target's.
//
// Why the CPUID entries change: Cloud Hypervisor builds a guest's CPUID from
// KVM_GET_SUPPORTED_CPUID, whose leaf 0xD offsets are the host's, and KVM_GET_XSAVE writes the
// buffer in those same offsets; so in a snapshot taken on a host, leaf 0xD describes the
// xsave buffer. Keeping that true after a conversion is what lets the snapshot be read (and
// checked, and converted again) without being told its layout. Cloud Hypervisor's restore
// compatibility check (arch/src/x86_64/mod.rs CpuidFeatureEntry) compares feature leaves 1, 7,
// 0x80000001 and 0x40000000/1, not leaf 0xD, and KVM recomputes leaf 0xD's size fields from
// XCR0 at run time, so these entries decide nothing about the restore; feature bits
// (0xD.0 EAX/EDX, 0xD.1) are left as they were.
#include "xsave/cloudhv.hpp"

#include "xsave/components.hpp"
#include "xsave/error.hpp"
#include "xsave/input.hpp"

#include <fmt/core.h>

#include <algorithm>

namespace xsave::cloudhv {
namespace {

// The snapshot's leaf 0xD entries as `to` reports them; `xcr0` is the vCPU's XCR0 after the
// conversion (subleaf 0 EBX is the standard size for it, ECX for every supported component).
std::vector<CpuidLeaf> layout_leaves(const Profile& snap, const CpuModel& to, uint64_t xcr0) {
    std::vector<CpuidLeaf> out;
    for (const auto& l : snap.leaves) {
        if (l.leaf != 0xD || l.subleaf < 2 || l.subleaf > 62) continue;
        const CpuidLeaf* t = to.profile().find(0xD, l.subleaf);
        if (t && t->eax) out.push_back({0xD, l.subleaf, t->eax, t->ebx, t->ecx, l.edx});
    }
    if (const CpuidLeaf* l0 = snap.find(0xD, 0)) {
        uint64_t supported = (uint64_t(l0->edx) << 32 | l0->eax) & to.supported_xcr0();
        out.push_back({0xD, 0, l0->eax, to.standard(xcr0 & to.supported_xcr0()).total_size,
                       to.standard(supported).total_size, l0->edx});
    }
    return out;
}

// "--drop NAME,NAME" for the components in `bits` (names read the same under every --drop syntax).
std::string drop_names(uint64_t bits) {
    std::string names;
    for (unsigned b = 0; b < 63; ++b) {
        if (!(bits >> b & 1)) continue;
        const ComponentInfo* c = component_info(b);
        names += (names.empty() ? "" : ",") + (c && !c->alias.empty() ? std::string(c->alias) : "bit" + std::to_string(b));
    }
    return "--drop " + names;
}

std::shared_ptr<const CpuModel> own_model(const Vcpu& v, const std::string& who) {
    try {
        return std::make_shared<const CpuModel>(v.profile);
    } catch (const Error& e) {
        throw Error(fmt::format("{}: the snapshot's CPUID cannot describe layouts ({}): pass --cpuid", who, e.what()));
    }
}

} // namespace

Converted convert(const Snapshot& s, const CpuModel& to, const ConvertOptions& opt, std::shared_ptr<const CpuModel> from) {
    Converted out;
    std::vector<VcpuEdit> edits;
    for (const auto& v : s.vcpus) {
        std::string who = "vCPU " + v.id;
        if (v.mshv) throw Error(fmt::format("{}: an MSHV vCPU; convert rewrites KVM vCPUs only", who));
        auto src = from ? from : own_model(v, who);
        ReadOptions ro;
        ro.xcr0 = v.xcr0;
        ConvertOptions o = opt;
        o.xcr0 = to.enabled_xcr0() & to.supported_xcr0();
        ConvertResult r;
        naming(who, [&] {
            Image img = read_image(v.xsave, *src, ro);
            auto t = trailing_bytes(img.bytes, img.layout->total_size);
            if (t.nonzero)
                throw Error(fmt::format("{} non-zero bytes after the XSAVE layout (first at {}); they would be lost", t.nonzero,
                                        *t.first_nonzero));
            r = relayout(img, *src, to, Format::Standard, o);
        });
        if (r.dropped) out.notes.push_back(fmt::format("{}: dropped in-use {} as asked", who, mask_names(r.dropped)));
        VcpuEdit ed;
        ed.area = std::move(r.bytes);
        ed.area.resize(std::max<size_t>(4096, (ed.area.size() + 3) / 4 * 4), 0);
        uint64_t xcr0 = v.xcr0.value_or(src->enabled_xcr0());
        if (uint64_t lacking = xcr0 & ~to.supported_xcr0()) {
            // KVM_SET_XCRS refuses an XCR0 the target cannot enable: only the user may take it away from the guest.
            if ((lacking & opt.drop) != lacking)
                throw Error(fmt::format("{}: XCR0 0x{:x} enables {}, which the target lacks: KVM_SET_XCRS would fail there; "
                                        "{} also clears them from XCR0 (the guest faults if it uses them again)",
                                        who, xcr0, mask_names(lacking), drop_names(lacking)));
            ed.xcr0 = xcr0 & ~lacking;
            out.notes.push_back(fmt::format("{}: XCR0 0x{:x} -> 0x{:x} in xcrs (dropped {} as asked)", who, xcr0, *ed.xcr0,
                                            mask_names(lacking)));
            xcr0 = *ed.xcr0;
        }
        ed.leaf_0xd = layout_leaves(v.profile, to, xcr0);
        edits.push_back(std::move(ed));
    }
    out.text = write_state(s, edits);
    if (!s.vcpus.empty())
        out.notes.push_back(fmt::format("CPUID leaf 0xD layout entries set to {}'s (component sizes and offsets, "
                                        "XSAVE sizes); feature bits kept",
                                        to.profile().name));
    return out;
}

} // namespace xsave::cloudhv
