#pragma once
// Running the XSAVE family on this CPU: feature checks, XGETBV, loading a state with XRSTOR
// and saving it back with XSAVE/XSAVEC/XSAVEOPT, and trying XRSTOR in a child process.
// x86-64 only; on other machines every feature check is false and operations throw Error.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace xsave::hw {

struct Features {
    bool xsave = false;      // CPUID.1:ECX[26]
    bool osxsave = false;    // CPUID.1:ECX[27]: the OS set CR4.OSXSAVE, so XGETBV and XSAVE work
    bool xsaveopt = false;   // CPUID.(0xD,1):EAX[0]
    bool xsavec = false;     // CPUID.(0xD,1):EAX[1]
    bool xgetbv1 = false;    // CPUID.(0xD,1):EAX[2]
    bool xsaves = false;     // CPUID.(0xD,1):EAX[3]
};
Features features();
// XSAVE is usable from user space (CPUID says so and the OS enabled it).
inline bool usable() { auto f = features(); return f.xsave && f.osxsave; }

// XGETBV(index): 0 is XCR0, 1 is XINUSE & XCR0 (needs xgetbv1). Throws Error when unavailable.
uint64_t xgetbv(uint32_t index);

// CPUID.(0xD,0).EBX: standard-form size for the current XCR0.
uint32_t standard_size();
// Compacted-form size for `mask` (bit 63 ignored) from CPUID.(0xD,i) sizes and alignment.
uint32_t compacted_size(uint64_t mask);

enum class Instruction : uint8_t { Xsave, Xsavec, Xsaveopt };
const char* instruction_name(Instruction i);

// Output areas are pre-filled with this byte (unless told otherwise) so tests can tell
// bytes an instruction wrote from bytes it left alone.
constexpr uint8_t kFillByte = 0xA5;

struct SaveOutputs {
    std::vector<uint8_t> xsave;     // standard_size() bytes
    std::vector<uint8_t> xsavec;    // compacted_size(XCR0) bytes (empty without XSAVEC)
    std::vector<uint8_t> xsaveopt;  // standard_size() bytes (empty without XSAVEOPT)
};

// Loads `state` (standard form of standard_size() bytes, or compacted form) with XRSTOR and RFBM = XCR0,
// then saves it with XSAVE, XSAVEC and XSAVEOPT (each where supported) using `rfbm`, all in
// one asm block that first saves and finally restores the caller's own register state.
// Outputs are pre-filled with `fill`. The input is checked first (size; header bytes 8..23
// zero, or 16..63 in compacted form; XSTATE_BV within XCR0 / XCOMP_BV; MXCSR within the CPU's
// MXCSR_MASK): a buffer XRSTOR would fault on throws Error instead of killing the process.
SaveOutputs hw_load_and_save(std::span<const uint8_t> state, uint64_t rfbm, uint8_t fill = kFillByte);

// The same for one instruction, as the `capture` command uses it; rfbm defaults to XCR0.
std::vector<uint8_t> hw_capture(Instruction ins, std::span<const uint8_t> state,
                                uint8_t fill = 0, uint64_t rfbm = ~0ull);

// The CPU's MXCSR_MASK from FXSAVE (0xFFBF when FXSAVE reports 0).
uint32_t mxcsr_mask();

struct RestoreVerdict {
    bool accepted = false;
    int signal = 0;         // the signal that ended the child (SIGSEGV for #GP), 0 if none
    std::string detail;     // "accepted", "faulted (SIGSEGV, #GP)", ...
};

// Forks; the child runs XRSTOR with RFBM = `rfbm` (& XCR0) on a 64-byte-aligned copy of
// `bytes` and exits. The CPU reads the form (standard or compacted) from XCOMP_BV[63]. The
// copy is zero-padded to the largest area XRSTOR may read, so a short buffer is judged on
// its contents rather than on whatever memory follows it. Throws Error when fork fails.
RestoreVerdict xrstor_in_child(std::span<const uint8_t> bytes, uint64_t rfbm = ~0ull);

} // namespace xsave::hw
