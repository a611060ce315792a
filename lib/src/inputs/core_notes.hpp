#pragma once
// Between the ELF note walker (elfcore.cpp) and the per-thread area builder (core_threads.cpp).
#include "xsave/input.hpp"

#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace xsave {

struct RawNote {
    uint64_t offset;   // of the note header
    std::string_view owner;
    uint32_t type;
    std::span<const uint8_t> desc;
};
struct NamedNote {
    RawNote note;
    const char* name;   // "LINUX/NT_PRXFPREG", "FreeBSD/NT_FPREGSET", ...
};

// One thread's FP notes (views into the file).
struct ThreadNotes {
    int32_t tid = 0;
    std::optional<NamedNote> xstate, netbsd_xstate, fxsave, fsave;
};

// NetBSD struct xstate (sys/arch/x86/include/cpu_extended_state.h): xs_rfbm, xs_xstate_bv,
// then struct fxsave; the AVX and AVX-512 parts follow when the kernel has them.
constexpr size_t kNetbsdXstateMin = 16 + 512;

// Fills core.threads (threads without FP notes are left out) and, for NetBSD struct xstate,
// core.kernel_layout.
void build_threads(CoreFile& core, const std::vector<ThreadNotes>& threads);

} // namespace xsave
