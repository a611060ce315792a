// `check`: the rules a target applies before it restores an XSAVE area, as one table.
//
// Each rule looks at the raw bytes and the CpuModel (never read_image, which refuses odd
// headers) and returns a message when the buffer breaks it. The rules for XRSTOR were
// measured on an AMD EPYC (XCR0 0xe7, MXCSR_MASK 0x2ffff) with hw::xrstor_in_child;
// tests/test_hw_agreement.cpp keeps them honest on whatever CPU runs the tests. Where that
// CPU and the SDM disagree the CPU wins, and the rule says so.
#include "xsave/validate.hpp"
#include "model/bytes.hpp"

#include "xsave/components.hpp"
#include "xsave/error.hpp"
#include "xsave/image.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <bit>

namespace xsave {
namespace {

constexpr uint64_t kSse = 1ull << 1, kAvx = 1ull << 2;

// Everything a rule needs, read once from the header.
struct Ctx {
    std::span<const uint8_t> b;
    const CpuModel& cpu;
    Target target;
    bool compacted = false;
    uint64_t xstate_bv = 0, xcomp_bv = 0;
    uint64_t xcr0 = 0;        // enabled XCR0 (--xcr0 or the profile's)
    uint64_t xss = 0;         // enabled IA32_XSS (--xss or the profile's)
    uint64_t guest_xcr0 = 0;  // mshv
    uint64_t rfbm = 0;        // what XRSTOR/XRSTORS is asked to restore
    uint64_t xfd = 0;         // IA32_XFD at restore time
    bool kvm_struct = true;
    uint32_t mxcsr = 0, mxcsr_mask = kDefaultMxcsrMask;
    MxcsrMaskSource mask_source = MxcsrMaskSource::Default;
    uint64_t comp() const { return xcomp_bv & ~kCompactedBit; }
};

// "0x18 (MPX BNDREGS|MPX BNDCSR)"; bit 63 is "bit63" here ("compacted" only fits XCOMP_BV).
std::string bits(uint64_t mask) { return fmt::format("0x{:x} ({})", mask, mask_names(mask, "bit63")); }

// Non-zero bytes of b[from, to), by buffer offset: "0x218 = 0x01, 0x21f = 0xff".
std::string nonzero_bytes(std::span<const uint8_t> b, unsigned from, unsigned to) {
    std::string r;
    unsigned shown = 0, more = 0;
    for (unsigned i = from; i < to && i < b.size(); ++i) {
        if (!b[i]) continue;
        if (shown == 6) { ++more; continue; }
        r += fmt::format("{}0x{:x} = 0x{:02x}", shown ? ", " : "", i, b[i]);
        ++shown;
    }
    if (more) r += fmt::format(" and {} more", more);
    return r;
}

using Message = std::optional<std::string>;

Message header_bytes(const Ctx& c, unsigned from, unsigned to, std::string_view why) {
    std::string nz = nonzero_bytes(c.b, kHeaderOffset + from, kHeaderOffset + to);
    if (nz.empty()) return std::nullopt;
    return fmt::format("header bytes {}..{} (0x{:x}..0x{:x}) must be zero {}: {}", from, to - 1, kHeaderOffset + from,
                       kHeaderOffset + to - 1, why, nz);
}

const char* source_text(MxcsrMaskSource s) {
    switch (s) {
    case MxcsrMaskSource::Profile: return "the profile's recorded MXCSR_MASK";
    case MxcsrMaskSource::Buffer: return "the buffer's MXCSR_MASK field (the profile records none)";
    case MxcsrMaskSource::Default: return "the SDM default (neither profile nor buffer gives one)";
    }
    return "";
}

// ---------------------------------------------------------------- the rules

// End of the bytes the target reads. Standard form: every in-use component it loads at its
// CPUID offset (components it cannot place are other rules' business). Compacted form:
// XRSTOR(S) reads in-use components; a hypervisor API takes the whole compacted layout.
Message area_size(const Ctx& c) {
    if (c.b.size() < kExtendedOffset)
        return fmt::format("{} bytes: an XSAVE area needs at least {} (legacy region 0..511, header 512..575)", c.b.size(),
                           kExtendedOffset);
    size_t need = kExtendedOffset;
    std::string what;
    if (!c.compacted) {
        if (c.target == Target::Whpx || c.target == Target::Mshv || c.target == Target::Xrstors) return {};
        uint64_t loaded = c.xstate_bv & (c.target == Target::Kvm ? ~0ull : c.rfbm) & ~3ull & ~kCompactedBit;
        for (unsigned b = 2; b < 63; ++b) {
            const auto& g = c.cpu.geometry(b);
            if (!(loaded >> b & 1) || !g.size || g.supervisor) continue;
            if (size_t end = size_t(g.std_offset) + g.size; end > need) {
                need = end;
                what = fmt::format("{} (bit {}) at 0x{:x}..0x{:x} in standard form", component_name(b), b, g.std_offset, end);
            }
        }
    } else {
        const Layout* L = nullptr;
        try {
            L = &c.cpu.compacted(c.xcomp_bv);
        } catch (const Error&) {
            return {};   // XCOMP_BV names a component the profile cannot place: the XCOMP_BV rules say so
        }
        if (c.target == Target::Whpx || c.target == Target::Mshv) {
            need = L->total_size;
            what = fmt::format("the compacted layout for XCOMP_BV 0x{:x}", c.xcomp_bv);
        } else {
            for (unsigned b : L->bits()) {
                if (b < 2 || !((c.xstate_bv & c.rfbm) >> b & 1)) continue;
                if (size_t end = size_t(L->offset[b]) + L->size[b]; end > need) {
                    need = end;
                    what = fmt::format("in-use {} (bit {}) at 0x{:x}..0x{:x} in the compacted layout", component_name(b), b,
                                       L->offset[b], end);
                }
            }
        }
    }
    if (c.b.size() >= need) return {};
    return fmt::format("{} bytes, but {} needs {}", c.b.size(), what, need);
}

Message xsavec_support(const Ctx& c) {
    if (!c.compacted || c.cpu.has_xsavec()) return {};
    return "compacted form (XCOMP_BV[63] set) needs XSAVEC, which CPUID.(0xD,1).EAX[1] of the profile does not report";
}

Message xsaves_support(const Ctx& c) {
    if (c.cpu.has_xsaves()) return {};
    return "XRSTORS needs XSAVES, which CPUID.(0xD,1).EAX[3] of the profile does not report";
}

Message compacted_form(const Ctx& c) {
    if (c.compacted) return {};
    return fmt::format("XCOMP_BV 0x{:x} has bit 63 clear (standard form): {} takes only the compacted form (XCOMP_BV[63] = 1)",
                       c.xcomp_bv, target_name(c.target));
}

Message standard_form(const Ctx& c) {
    if (!c.xcomp_bv) return {};
    return fmt::format("XCOMP_BV 0x{:x} is not zero: KVM_SET_XSAVE takes only the standard form (XCOMP_BV = 0)", c.xcomp_bv);
}

Message xstate_bv_in_xcr0(const Ctx& c) {
    if (c.compacted) return {};
    if (uint64_t extra = c.xstate_bv & ~c.xcr0)
        return fmt::format("XSTATE_BV 0x{:x} sets {} outside XCR0 0x{:x}", c.xstate_bv, bits(extra), c.xcr0);
    return {};
}

// The kernel's validate_user_xstate_header(): XSTATE_BV within the guest's user features.
Message xstate_bv_supported(const Ctx& c) {
    if (uint64_t extra = c.xstate_bv & ~c.xcr0)
        return fmt::format("XSTATE_BV 0x{:x} sets {} outside the guest's user features 0x{:x}", c.xstate_bv, bits(extra), c.xcr0);
    return {};
}

Message xcomp_bv_in_xcr0(const Ctx& c) {
    if (!c.compacted) return {};
    if (uint64_t extra = c.comp() & ~c.xcr0)
        return fmt::format("XCOMP_BV[62:0] 0x{:x} sets {} outside XCR0 0x{:x}", c.comp(), bits(extra), c.xcr0);
    return {};
}

Message xcomp_bv_in_xcr0_xss(const Ctx& c) {
    if (!c.compacted) return {};
    if (uint64_t extra = c.comp() & ~(c.xcr0 | c.xss))
        return fmt::format("XCOMP_BV[62:0] 0x{:x} sets {} outside XCR0 | IA32_XSS 0x{:x}", c.comp(), bits(extra), c.xcr0 | c.xss);
    return {};
}

Message xcomp_bv_mshv(const Ctx& c) {
    if (!c.compacted) return {};
    uint64_t want = c.cpu.supported_xcr0() & c.guest_xcr0;
    if (c.comp() == want) return {};
    std::string diff;
    if (uint64_t extra = c.comp() & ~want) diff += fmt::format("; extra {}", bits(extra));
    if (uint64_t missing = want & ~c.comp()) diff += fmt::format("; missing {}", bits(missing));
    return fmt::format("XCOMP_BV[62:0] 0x{:x} must equal the supported XCR0 0x{:x} & the guest's XCR0 0x{:x} = 0x{:x}{}",
                       c.comp(), c.cpu.supported_xcr0(), c.guest_xcr0, want, diff);
}

// Bit 63 of XSTATE_BV counts too: it is never in XCOMP_BV[62:0] (measured: #GP).
Message xstate_bv_in_xcomp_bv(const Ctx& c) {
    if (!c.compacted) return {};
    if (uint64_t extra = c.xstate_bv & ~c.comp())
        return fmt::format("XSTATE_BV 0x{:x} sets {} outside XCOMP_BV[62:0] 0x{:x}", c.xstate_bv, bits(extra), c.comp());
    return {};
}

// Standard-form XRSTOR: the SDM asks for bytes 8..63 of the header to be zero, but the
// CPU this was measured on faults only for bytes 8..23 (XCOMP_BV and the next 8 bytes);
// non-zero bytes 24..63 restore fine. The CPU wins. Compacted form: bytes 16..63, as the SDM
// says and the CPU does. KVM: validate_user_xstate_header() wants XCOMP_BV zero (the
// standard-form rule) and all 48 reserved bytes 16..63 zero.
Message header_reserved(const Ctx& c) {
    if (c.compacted) return header_bytes(c, 16, 64, "in the compacted form");
    switch (c.target) {
    case Target::Xrstor: return header_bytes(c, 8, 24, "for standard-form XRSTOR (XCOMP_BV and bytes 16..23)");
    case Target::Kvm: return header_bytes(c, 16, 64, "for KVM_SET_XSAVE");
    default: return {};   // the compacted-form rule already rejects it
    }
}

// When the target loads MXCSR, its reserved bits (clear in MXCSR_MASK) must be clear.
//  - Standard-form XRSTOR(S): whenever RFBM has SSE or AVX, whatever XSTATE_BV says
//    (measured: XSTATE_BV = 0 still faults; RFBM without SSE and AVX does not).
//  - Compacted form: only when XSTATE_BV[1] (and RFBM[1]) is set. Measured: XSTATE_BV with
//    AVX but not SSE does not fault on a bad MXCSR, XSTATE_BV with SSE does.
//  - KVM: copy_uabi_to_xstate() checks MXCSR whenever the guest's features include SSE or
//    AVX (kernels 5.14..6.3 did so only when XSTATE_BV had x87, SSE or AVX; the newer rule is
//    the stricter one).
Message mxcsr_reserved(const Ctx& c) {
    bool loaded;
    if (c.target == Target::Kvm)
        loaded = c.xcr0 & (kSse | kAvx);
    else if (c.compacted)
        loaded = c.xstate_bv & c.rfbm & kSse;
    else if (c.target == Target::Xrstor)
        loaded = c.rfbm & (kSse | kAvx);
    else
        return {};   // a standard-form buffer for a compacted-only target: the form rule rejects it
    if (!loaded) return {};
    uint32_t bad = c.mxcsr & ~c.mxcsr_mask;
    if (!bad) return {};
    return fmt::format("MXCSR 0x{:08x} (offset 0x{:x}) sets reserved bits 0x{:x}, outside MXCSR_MASK 0x{:x} from {}", c.mxcsr,
                       kMxcsrOffset, bad, c.mxcsr_mask, source_text(c.mask_source));
}

// The buffer userspace passes to KVM_SET_XSAVE is copied whole, uabi_size bytes
// (arch/x86/kvm/x86.c: memdup_user(argp, vcpu->arch.guest_fpu.uabi_size); fpu/core.c
// fpu_alloc_guest_fpstate sets it to sizeof(struct kvm_xsave), fpu/xstate.c fpstate_realloc
// to the user size once a dynamic feature is enabled). Shorter: KVM reads past the buffer's
// end (garbage or EFAULT). Longer: bytes past uabi_size are never read.
Message kvm_xsave_size_rule(const Ctx& c) {
    if (!c.kvm_struct || c.b.size() < kExtendedOffset) return {};
    const uint64_t dynamic = c.xcr0 & c.cpu.xfd_capable();
    uint32_t need = kvm_xsave_size(c.cpu, c.xcr0);
    std::string why = dynamic ? fmt::format("KVM_CHECK_EXTENSION(KVM_CAP_XSAVE2) = {} for guest features 0x{:x} with the "
                                            "dynamic {}, the size KVM_GET_XSAVE2 fills",
                                            need, c.xcr0, mask_names(dynamic))
                              : fmt::format("sizeof(struct kvm_xsave) = {}", kKvmXsaveSize);
    size_t have = c.b.size();
    if (have < need)
        return fmt::format("{} bytes, but KVM_SET_XSAVE copies {} ({}): it would read {} bytes past the end of the "
                           "buffer; pad it with zeros to {}{}",
                           have, need, why, need - have, need,
                           have == kKvmXsaveSize && dynamic ? " (a 4096-byte KVM_GET_XSAVE buffer cannot hold them: "
                                                             "KVM_GET_XSAVE fails with EINVAL once they are enabled)"
                                                           : "");
    std::string nz = nonzero_bytes(c.b, need, unsigned(std::min<size_t>(have, 0xffffffffu)));
    if (nz.empty()) return {};
    return fmt::format("{} bytes, but KVM_SET_XSAVE copies only {} ({}): non-zero bytes after it are never restored: {}",
                       have, need, why, nz);
}

// Extended feature disable (SDM Vol. 1 13.14, "Extended Feature Disable (XFD)"): XFD is
// enabled for component i when XCR0[i] = IA32_XFD[i] = 1, and an instruction that would
// access the component raises #NM instead. XRSTOR/XRSTORS with RFBM[i] = XSTATE_BV[i] = 1
// would load it: #NM (Linux fpu/core.c: "Disabled features must be in their initial state,
// otherwise XRSTOR causes an exception"); with XSTATE_BV[i] = 0 they initialise it, no fault.
// XSAVE* never write such a buffer while XFD[i] = 1: they act as if XINUSE[i] = 0 and save
// XSTATE_BV[i] = 0 (the SDM text Linux quotes in "x86/fpu: Clear XSTATE_BV[i] in guest XSAVE
// state whenever XFD[i]=1"), so XSTATE_BV[i] = 1 means it was saved with XFD[i] clear.
uint64_t xfd_armed(const Ctx& c) { return c.xfd & c.xcr0; }

std::string xfd_names(uint64_t m) { return fmt::format("0x{:x} ({})", m, mask_names(m)); }

Message xfd_nm(const Ctx& c) {
    uint64_t hit = c.xstate_bv & c.rfbm & xfd_armed(c);
    if (c.compacted) hit &= c.comp();
    if (!hit) return {};
    return fmt::format("XSTATE_BV 0x{:x} has {} in use while IA32_XFD 0x{:x} arms it (XCR0 & IA32_XFD): {} raises #NM "
                       "(SDM Vol. 1 13.14). XSAVE* with XFD armed write XSTATE_BV[i] = 0, so this area was saved with "
                       "XFD clear (a host save of a guest that armed XFD?): restore it with IA32_XFD clear for those bits, "
                       "or clear their XSTATE_BV bits, which discards their data",
                       c.xstate_bv, xfd_names(hit), c.xfd, target_name(c.target));
}

// KVM_SET_XSAVE with the vCPU's XFD armed: Linux since "x86/fpu: Clear XSTATE_BV[i] in guest
// XSAVE state whenever XFD[i]=1" (2026, for stable) clears XSTATE_BV[i] (kvm_vcpu_ioctl_x86_set_xsave;
// fpu_update_guest_xfd does the same when XFD is set after), so the state is dropped; kernels
// before it XRSTOR the guest state with the guest's XFD and take #NM in the host.
Message xfd_kvm(const Ctx& c) {
    uint64_t hit = c.xstate_bv & xfd_armed(c);
    if (!hit) return {};
    return fmt::format("XSTATE_BV 0x{:x} has {} in use while the guest's IA32_XFD 0x{:x} arms it: KVM_SET_XSAVE clears "
                       "those XSTATE_BV bits (Linux with the 2026 XFD fix; before it, the host's XRSTOR takes #NM), so "
                       "their state is lost; restore with the guest's IA32_XFD clear for them, or accept the loss",
                       c.xstate_bv, xfd_names(hit), c.xfd);
}

// ---------------------------------------------------------------- the table

constexpr uint8_t bit(Target t) { return uint8_t(1u << static_cast<unsigned>(t)); }
constexpr uint8_t kX = bit(Target::Xrstor), kXS = bit(Target::Xrstors), kK = bit(Target::Kvm), kW = bit(Target::Whpx),
                  kM = bit(Target::Mshv);
constexpr uint8_t kAll = kX | kXS | kK | kW | kM;

struct Rule {
    RuleInfo info;
    Message (*check)(const Ctx&);
};

const Rule kRules[] = {
    {{"area-size", "the buffer holds the header and every component the target reads", kAll, false}, area_size},
    {{"xsaves-support", "XRSTORS needs a CPU with XSAVES", kXS, true}, xsaves_support},
    {{"xsavec-support", "the compacted form needs a CPU with XSAVEC", kX, true}, xsavec_support},
    {{"compacted-form", "the target takes only the compacted form (XCOMP_BV[63] = 1)", kXS | kW | kM, true}, compacted_form},
    {{"standard-form", "KVM_SET_XSAVE takes only the standard form (XCOMP_BV = 0)", kK, true}, standard_form},
    {{"xstate-bv-in-xcr0", "standard form: XSTATE_BV within XCR0", kX, true}, xstate_bv_in_xcr0},
    {{"xstate-bv-supported", "XSTATE_BV within the guest's supported user features", kK, true}, xstate_bv_supported},
    {{"xcomp-bv-in-xcr0", "compacted form: XCOMP_BV[62:0] within XCR0", kX | kW, true}, xcomp_bv_in_xcr0},
    {{"xcomp-bv-in-xcr0-xss", "XCOMP_BV[62:0] within XCR0 | IA32_XSS", kXS, true}, xcomp_bv_in_xcr0_xss},
    {{"xcomp-bv-mshv", "XCOMP_BV[62:0] equals the supported XCR0 & the guest's XCR0", kM, true}, xcomp_bv_mshv},
    {{"xstate-bv-in-xcomp-bv", "compacted form: XSTATE_BV within XCOMP_BV[62:0]", kX | kXS | kW | kM, true},
     xstate_bv_in_xcomp_bv},
    {{"header-reserved", "reserved header bytes zero (standard XRSTOR: 8..23; otherwise 16..63)", kAll, true},
     header_reserved},
    {{"mxcsr-reserved", "MXCSR within MXCSR_MASK when the target loads it", kAll, true}, mxcsr_reserved},
    {{"kvm-xsave-size", "the buffer is as long as KVM_SET_XSAVE copies (4096, or KVM_CAP_XSAVE2's size)", kK, false},
     kvm_xsave_size_rule},
    {{"xfd-armed", "no in-use component (XSTATE_BV & RFBM) armed in IA32_XFD: #NM", kX | kXS, false}, xfd_nm},
    {{"xfd-state-dropped", "kvm: no in-use component armed in the guest's IA32_XFD (KVM drops it)", kK, false}, xfd_kvm},
};

} // namespace

const char* target_name(Target t) {
    switch (t) {
    case Target::Xrstor: return "xrstor";
    case Target::Xrstors: return "xrstors";
    case Target::Kvm: return "kvm";
    case Target::Whpx: return "whpx";
    case Target::Mshv: return "mshv";
    }
    return "?";
}

std::optional<Target> target_from_name(std::string_view name) {
    for (Target t : {Target::Xrstor, Target::Xrstors, Target::Kvm, Target::Whpx, Target::Mshv})
        if (name == target_name(t)) return t;
    return std::nullopt;
}

std::span<const RuleInfo> all_rules() {
    static const std::vector<RuleInfo> infos = [] {
        std::vector<RuleInfo> v;
        for (const auto& r : kRules) v.push_back(r.info);
        return v;
    }();
    return infos;
}

uint32_t kvm_xsave_size(const CpuModel& cpu, uint64_t xcr0) {
    if (!(xcr0 & cpu.xfd_capable())) return uint32_t(kKvmXsaveSize);
    try {
        return std::max<uint32_t>(kKvmXsaveSize, cpu.standard(xcr0 & ~kCompactedBit).total_size);
    } catch (const Error&) {
        return uint32_t(kKvmXsaveSize);   // a component the profile cannot place: other rules name it
    }
}

void check_xfd(uint64_t xfd, const CpuModel& cpu, std::string_view what) {
    if (!xfd) return;
    if (!cpu.has_xfd())
        throw Error(fmt::format("{} 0x{:x}: the profile has no XFD (CPUID.(EAX=0DH,ECX=1):EAX[4] = 0), so IA32_XFD "
                                "cannot be set; expected 0",
                                what, xfd));
    const uint64_t capable = cpu.xfd_capable();
    if (uint64_t bad = xfd & ~capable) {
        unsigned b = unsigned(std::countr_zero(bad));
        throw Error(fmt::format("{} 0x{:x}: bit {} ({}) cannot be set in IA32_XFD: CPUID.(EAX=0DH,ECX={}):ECX[2] is 0 "
                                "(WRMSR would #GP); expected bits of 0x{:x} ({})",
                                what, xfd, b, component_name(b), b, capable, capable ? mask_names(capable) : "none"));
    }
}

CheckResult check_area(std::span<const uint8_t> bytes, const CpuModel& cpu, const CheckOptions& opt) {
    Ctx c{bytes, cpu, opt.target};
    c.xfd = opt.xfd;
    c.kvm_struct = opt.kvm_struct;
    const bool have_header = bytes.size() >= kExtendedOffset;
    if (have_header) {
        c.xstate_bv = load_le(&bytes[kXstateBvOffset], 8);
        c.xcomp_bv = load_le(&bytes[kXcompBvOffset], 8);
        c.compacted = c.xcomp_bv & kCompactedBit;
        c.mxcsr = uint32_t(load_le(&bytes[kMxcsrOffset], 4));
    }
    c.xcr0 = opt.xcr0 ? *opt.xcr0 : opt.target == Target::Kvm ? cpu.supported_xcr0() : cpu.enabled_xcr0();
    c.xss = opt.xss ? *opt.xss : cpu.enabled_xss();
    c.guest_xcr0 = opt.guest_xcr0 ? *opt.guest_xcr0 : c.xcr0;
    c.rfbm = opt.target == Target::Xrstors ? (c.xcr0 | c.xss) : c.xcr0;
    // MXCSR_MASK: the CPU's (recorded in the profile), else what the buffer's FXSAVE image
    // says, else the SDM default. A recorded or stored 0 means the default, as in FXSAVE.
    if (cpu.profile().mxcsr_mask && *cpu.profile().mxcsr_mask) {
        c.mxcsr_mask = *cpu.profile().mxcsr_mask;
        c.mask_source = MxcsrMaskSource::Profile;
    } else if (uint32_t field = have_header ? uint32_t(load_le(&bytes[kMxcsrMaskOffset], 4)) : 0) {
        c.mxcsr_mask = field;
        c.mask_source = MxcsrMaskSource::Buffer;
    }

    CheckResult r;
    r.target = opt.target;
    r.form = c.compacted ? Format::Compacted : Format::Standard;
    r.mxcsr_mask = c.mxcsr_mask;
    r.mxcsr_mask_source = c.mask_source;
    r.rfbm = c.rfbm;
    // What the header says about components IA32_XFD arms, when it faults nowhere.
    for (unsigned b = 2; have_header && b < 63; ++b)
        if ((xfd_armed(c) >> b & 1) && !(c.xstate_bv >> b & 1))
            r.notes.push_back(fmt::format(
                "{} (bit {}) is armed in IA32_XFD and XSTATE_BV[{}] is 0: restoring initialises it, no #NM; XSAVE* "
                "write it so while XFD[{}] = 1 (as if XINUSE[{}] = 0; XSAVE also writes its initial values), so its "
                "state before the save is not in the area",
                component_name(b), b, b, b, b));
    for (const auto& rule : kRules) {
        if (!rule.info.applies_to(opt.target)) continue;
        if (!have_header && rule.check != area_size) continue;   // nothing else can be read
        if (Message m = rule.check(c)) r.violations.push_back({std::string(rule.info.name), std::move(*m)});
    }
    return r;
}

} // namespace xsave
