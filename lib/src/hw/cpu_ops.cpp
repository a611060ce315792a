// XSAVE-family instructions on this CPU. Every step that touches the register state runs
// inside one asm block, so no compiler-generated vector code can run between loading the
// test state and saving it, and the caller's own state is back before the block ends.
#include "xsave/cpu_ops.hpp"

#include "xsave/components.hpp"
#include "xsave/error.hpp"
#include "xsave/layout.hpp"
#include "xsave/validate.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace xsave::hw {
namespace {

struct Regs { uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0; };

Regs cpuid(uint32_t leaf, uint32_t sub) {
    Regs r;
#if defined(__x86_64__)
    if (uint32_t(__get_cpuid_max(0, nullptr)) >= leaf) __cpuid_count(leaf, sub, r.eax, r.ebx, r.ecx, r.edx);
#else
    (void)leaf, (void)sub;
#endif
    return r;
}

// A zeroed, 64-byte-aligned scratch area (XSAVE/XRSTOR fault on anything less aligned).
struct Aligned {
    explicit Aligned(size_t n) : size((n + 63) & ~size_t(63)) {
        p.reset(static_cast<uint8_t*>(std::aligned_alloc(64, size)));
        if (!p) throw std::bad_alloc();
        std::memset(p.get(), 0, size);
    }
    struct Free { void operator()(uint8_t* q) const { std::free(q); } };
    std::unique_ptr<uint8_t, Free> p;
    size_t size;
    uint8_t* data() const { return p.get(); }
};

void require_xsave() {
    if (!usable()) throw Error("this CPU or OS does not support XSAVE");
}

uint32_t rd32(const uint8_t* p) { uint32_t v; std::memcpy(&v, p, 4); return v; }

#if defined(__x86_64__)
// Saves the caller's state to `own`, XRSTORs `in` with RFBM = all (i.e. XCR0), runs each
// non-null save into its output with RFBM = rfbm, then restores `own`. EDX:EAX is the RFBM
// operand of every instruction here.
__attribute__((noinline)) void load_and_save_block(uint8_t* own, const uint8_t* in, uint8_t* o_xsave,
                                                   uint8_t* o_xsavec, uint8_t* o_xsaveopt, uint64_t rfbm) {
    uint32_t lo = uint32_t(rfbm), hi = uint32_t(rfbm >> 32);
    asm volatile(
        "mov $-1, %%eax\n\t"
        "mov $-1, %%edx\n\t"
        "xsave64 (%[own])\n\t"
        "xrstor64 (%[in])\n\t"
        "mov %[lo], %%eax\n\t"
        "mov %[hi], %%edx\n\t"
        "test %[o1], %[o1]\n\t"
        "jz 1f\n\t"
        "xsave64 (%[o1])\n"
        "1:\n\t"
        "test %[o2], %[o2]\n\t"
        "jz 2f\n\t"
        "xsavec64 (%[o2])\n"
        "2:\n\t"
        "test %[o3], %[o3]\n\t"
        "jz 3f\n\t"
        "xsaveopt64 (%[o3])\n"
        "3:\n\t"
        "mov $-1, %%eax\n\t"
        "mov $-1, %%edx\n\t"
        "xrstor64 (%[own])\n\t"
        :
        : [own] "r"(own), [in] "r"(in), [o1] "r"(o_xsave), [o2] "r"(o_xsavec), [o3] "r"(o_xsaveopt),
          [lo] "r"(lo), [hi] "r"(hi)
        : "eax", "edx", "memory", "cc");
}
#endif

// The checks XRSTOR makes (either form), from the rule table: failing one would #GP in our own process.
void check_loadable(std::span<const uint8_t> in, uint64_t xcr0) {
    auto host = host_model();
    if (!host) throw Error("this CPU's CPUID leaf 0xD does not describe XSAVE");
    CheckOptions o;
    o.target = Target::Xrstor;
    o.xcr0 = xcr0;
    CheckResult r = check_area(in, *host, o);
    if (!r.ok()) throw Error(r.violations[0].message + ": XRSTOR would fault");
}

} // namespace

Features features() {
    Features f;
    Regs l1 = cpuid(1, 0);
    f.xsave = l1.ecx >> 26 & 1;
    f.osxsave = l1.ecx >> 27 & 1;
    if (f.xsave) {
        Regs d1 = cpuid(0xD, 1);
        f.xsaveopt = d1.eax & 1;
        f.xsavec = d1.eax >> 1 & 1;
        f.xgetbv1 = d1.eax >> 2 & 1;
        f.xsaves = d1.eax >> 3 & 1;
    }
    return f;
}

uint64_t xgetbv(uint32_t index) {
    require_xsave();
    if (index == 1 && !features().xgetbv1) throw Error("this CPU does not support XGETBV with ECX = 1");
    if (index > 1) throw Error("XGETBV index " + std::to_string(index) + " is not supported here");
    uint32_t lo = 0, hi = 0;
#if defined(__x86_64__)
    asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(index));
#endif
    return uint64_t(hi) << 32 | lo;
}

uint32_t standard_size() {
    require_xsave();
    return cpuid(0xD, 0).ebx;
}

uint32_t compacted_size(uint64_t mask) {
    require_xsave();
    auto host = host_model();   // the one layout engine, fed with this CPU's own CPUID
    if (!host) throw Error("this CPU's CPUID leaf 0xD does not describe XSAVE");
    return host->compacted(mask & (host->supported_xcr0() | host->supported_xss())).total_size;
}

const char* instruction_name(Instruction i) {
    switch (i) {
    case Instruction::Xsave: return "xsave";
    case Instruction::Xsavec: return "xsavec";
    case Instruction::Xsaveopt: return "xsaveopt";
    }
    return "?";
}

uint32_t mxcsr_mask() {
    static const uint32_t mask = [] {
        uint32_t m = 0;
#if defined(__x86_64__)
        alignas(16) uint8_t area[512] = {};
        asm volatile("fxsave64 %0" : "=m"(area));
        m = rd32(area + kMxcsrMaskOffset);
#endif
        return m ? m : 0xFFBFu;   // FXSAVE reports 0 on CPUs that predate DAZ
    }();
    return mask;
}

SaveOutputs hw_load_and_save(std::span<const uint8_t> state, uint64_t rfbm, uint8_t fill) {
    require_xsave();
    Features f = features();
    uint64_t xcr0 = xgetbv(0);
    check_loadable(state, xcr0);
    uint32_t std_size = standard_size();
    uint32_t cmp_size = f.xsavec ? compacted_size(xcr0) : 0;

    Aligned own(std_size), in(std::max<size_t>(std_size, state.size())), o1(std_size), o2(std::max(cmp_size, 64u)),
        o3(std_size);
    std::memcpy(in.data(), state.data(), state.size());
    std::memset(o1.data(), fill, o1.size);
    std::memset(o2.data(), fill, o2.size);
    std::memset(o3.data(), fill, o3.size);
#if defined(__x86_64__)
    load_and_save_block(own.data(), in.data(), o1.data(), f.xsavec ? o2.data() : nullptr,
                        f.xsaveopt ? o3.data() : nullptr, rfbm);
#endif
    SaveOutputs out;
    out.xsave.assign(o1.data(), o1.data() + std_size);
    if (f.xsavec) out.xsavec.assign(o2.data(), o2.data() + cmp_size);
    if (f.xsaveopt) out.xsaveopt.assign(o3.data(), o3.data() + std_size);
    return out;
}

std::vector<uint8_t> hw_capture(Instruction ins, std::span<const uint8_t> state, uint8_t fill,
                                uint64_t rfbm) {
    require_xsave();
    Features f = features();
    if (ins == Instruction::Xsavec && !f.xsavec) throw Error("this CPU does not support XSAVEC");
    if (ins == Instruction::Xsaveopt && !f.xsaveopt) throw Error("this CPU does not support XSAVEOPT");
    uint64_t xcr0 = xgetbv(0);
    check_loadable(state, xcr0);
    uint32_t std_size = standard_size();
    uint32_t size = ins == Instruction::Xsavec ? compacted_size(xcr0 & rfbm) : std_size;

    Aligned own(std_size), in(std::max<size_t>(std_size, state.size())), out(std::max(size, std_size));
    std::memcpy(in.data(), state.data(), state.size());
    std::memset(out.data(), fill, out.size);
#if defined(__x86_64__)
    load_and_save_block(own.data(), in.data(), ins == Instruction::Xsave ? out.data() : nullptr,
                        ins == Instruction::Xsavec ? out.data() : nullptr,
                        ins == Instruction::Xsaveopt ? out.data() : nullptr, rfbm);
#endif
    return {out.data(), out.data() + size};
}

RestoreVerdict xrstor_in_child(std::span<const uint8_t> bytes, uint64_t rfbm) {
    require_xsave();
    Regs d0 = cpuid(0xD, 0);
    // Largest area XRSTOR may read: all supported user components, either form.
    uint64_t supported = uint64_t(d0.edx) << 32 | d0.eax;
    size_t pad = std::max<size_t>({bytes.size(), d0.ecx, compacted_size(supported), size_t(kExtendedOffset)});
    Aligned area(pad);   // zeroed beyond the input; prepared before fork (no malloc in the child)
    std::memcpy(area.data(), bytes.data(), bytes.size());
    uint32_t lo = uint32_t(rfbm), hi = uint32_t(rfbm >> 32);

    pid_t pid = ::fork();
    if (pid < 0) throw Error(std::string("fork failed: ") + std::strerror(errno));
    if (pid == 0) {
        // Default actions, so a test framework's handlers do not report the fault, and no core file.
        struct sigaction sa {};
        sa.sa_handler = SIG_DFL;
        for (int s : {SIGSEGV, SIGBUS, SIGILL}) ::sigaction(s, &sa, nullptr);
        sigset_t set;
        sigemptyset(&set);
        for (int s : {SIGSEGV, SIGBUS, SIGILL}) sigaddset(&set, s);
        ::sigprocmask(SIG_UNBLOCK, &set, nullptr);
        struct rlimit none {0, 0};
        ::setrlimit(RLIMIT_CORE, &none);
#if defined(__x86_64__)
        asm volatile("xrstor64 (%0)" : : "r"(area.data()), "a"(lo), "d"(hi) : "memory");
#endif
        ::_exit(0);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) throw Error(std::string("waitpid failed: ") + std::strerror(errno));
    }
    RestoreVerdict v;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        v.accepted = true;
        v.detail = "accepted";
    } else if (WIFSIGNALED(status)) {
        v.signal = WTERMSIG(status);
        v.detail = v.signal == SIGSEGV ? "faulted (SIGSEGV: #GP)"
                   : v.signal == SIGILL ? "faulted (SIGILL: #UD)"
                                        : std::string("faulted (signal ") + std::to_string(v.signal) + ")";
    } else {
        throw Error("XRSTOR child exited with status " + std::to_string(WEXITSTATUS(status)));
    }
    return v;
}

} // namespace xsave::hw
