// What `criu restore` checks before it puts a thread's FPU state back (CRIU 3.17:
// criu/arch/x86/cpu.c cpu_validate_features with --cpu-cap fpu, the default, and
// criu/arch/x86/crtools.c valid_xsave_frame and restore_fpu), each as a named rule.
#include "xsave/criu.hpp"

#include "xsave/components.hpp"
#include "inputs/criu_detail.hpp"

#include <fmt/core.h>

namespace xsave::criu {
namespace {

constexpr RuleInfo kRules[] = {
    {"criu-cpuinfo-missing", "the image directory has no cpuinfo.img (\"No cpuinfo image\")", 0, false},
    {"criu-fpu-features", "FPU, FXSR, OSXSAVE or XSAVES in the image's capability words but not on the host", 0, false},
    {"criu-xfeatures", "cpuinfo xfeatures_mask has bits the host's does not (\"CPU xfeatures has unsupported bits\")", 0, false},
    {"criu-xsave-size", "cpuinfo xsave_size differs from the host's CPUID.(0xD,0).EBX (\"CPU xsave size mismatch\")", 0, false},
    {"criu-xsave-size-max", "cpuinfo xsave_size_max differs from the host's CPUID.(0xD,0).ECX", 0, false},
    {"criu-st-space", "fpregs.st_space has fewer than 32 elements (\"Corruption in FPU st_space area\")", 0, false},
    {"criu-xmm-space", "fpregs.xmm_space has fewer than 64 elements", 0, false},
    {"criu-feature-size", "an xsave field's size differs from the host's component size (\"reported N bytes (expecting M)\")", 0, false},
    {"criu-no-osxsave", "the image has an xsave entry but the host has no OSXSAVE", 0, false},
    {"criu-state-dropped", "in-use state (XSTATE_BV) of a component the host lacks: restore_fpu skips it silently", 0, false},
};

// Linux x86_capability words and bits (arch/x86/include/asm/cpufeatures.h).
struct CapBit { const char* name; unsigned word, bit; };
constexpr CapBit kFpuCaps[] = {{"FPU", 0, 0}, {"FXSR", 0, 24}, {"OSXSAVE", 4, 27}, {"XSAVES", 10, 3}};

bool host_has(const CpuModel& cpu, const CapBit& c) {
    const CpuidLeaf* l1 = cpu.profile().find(1, 0);
    switch (c.word) {
    case 0: return l1 && (l1->edx >> c.bit & 1);
    case 4: return l1 && (l1->ecx >> c.bit & 1);
    case 10: return cpu.has_xsaves();
    }
    return false;
}

} // namespace

std::span<const RuleInfo> rules() { return kRules; }

bool CheckReport::ok() const {
    if (!image.empty()) return false;
    for (const auto& t : threads)
        if (!t.empty()) return false;
    return true;
}

CheckReport check(const Images& in, const CpuModel& host) {
    CheckReport r;
    HostXsave h = host_xsave(host);
    bool osxsave = host_has(host, kFpuCaps[2]);
    if (!in.cpuinfo && !in.dir.empty())
        r.image.push_back({"criu-cpuinfo-missing", fmt::format("{}: no cpuinfo.img; restore with --cpu-cap fpu stops here", in.dir)});
    if (const auto& c = in.cpuinfo) {
        for (const auto& cap : kFpuCaps)
            if (cap.word < c->capability.size() && (c->capability[cap.word] >> cap.bit & 1) && !host_has(host, cap))
                r.image.push_back({"criu-fpu-features", fmt::format("the image needs {} (capability word {} bit {}); the host lacks it",
                                                                    cap.name, cap.word, cap.bit)});
        if (c->xfeatures_mask && (*c->xfeatures_mask & ~h.xfeatures_mask))
            r.image.push_back({"criu-xfeatures", fmt::format("xfeatures_mask 0x{:x} has {} (0x{:x}) the host's 0x{:x} lacks",
                                                             *c->xfeatures_mask, mask_names(*c->xfeatures_mask & ~h.xfeatures_mask),
                                                             *c->xfeatures_mask & ~h.xfeatures_mask, h.xfeatures_mask)});
        if (c->xsave_size && *c->xsave_size != h.xsave_size)
            r.image.push_back({"criu-xsave-size", fmt::format("xsave_size {} in the image, {} on the host", *c->xsave_size, h.xsave_size)});
        if (c->xsave_size_max && *c->xsave_size_max != h.xsave_size_max)
            r.image.push_back({"criu-xsave-size-max",
                               fmt::format("xsave_size_max {} in the image, {} on the host", *c->xsave_size_max, h.xsave_size_max)});
    }
    for (const auto& t : in.threads) {
        std::vector<Violation> v;
        for (size_t i = 0; i < kFieldCount; ++i) {
            const FpField& f = kFields[i];
            const FpValues& fv = t.fields[i];
            if (!t.has_fpregs) break;
            if ((f.number == 9 || f.number == 10) && !f.in_xsave && fv.values.size() < f.count)
                v.push_back({f.number == 9 ? "criu-st-space" : "criu-xmm-space",
                             fmt::format("fpregs.{} has {} elements; {} expected", f.name, fv.values.size(), f.count)});
            if (!f.in_xsave || !fv.present || !osxsave || !(h.xfeatures_mask >> f.bit & 1)) continue;
            uint32_t host_size = host.geometry(f.bit).size;
            size_t size = fv.values.size() * (f.width == 2 ? 4 : f.width);
            if (size != host_size)
                v.push_back({"criu-feature-size", fmt::format("fpregs.xsave.{} holds {} bytes; {} is {} bytes on the host", f.name, size,
                                                              component_name(f.bit), host_size)});
        }
        if (t.has_xsave && !osxsave)
            v.push_back({"criu-no-osxsave", "the image has an xsave entry; the host has no OSXSAVE (\"FPU xsave area present, but host cpu doesn't support it\")"});
        uint64_t lost = t.xstate_bv & t.mask() & ~uint64_t(3) & ~h.xfeatures_mask;
        if (lost)
            v.push_back({"criu-state-dropped", fmt::format("XSTATE_BV has {} (0x{:x}) in use; the host lacks it and restore_fpu skips it "
                                                           "without a word (convert --drop {} says so explicitly)",
                                                           mask_names(lost), lost, mask_aliases(lost))});
        r.threads.push_back(std::move(v));
    }
    return r;
}

} // namespace xsave::criu
