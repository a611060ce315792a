// XSAVE-family operations on this CPU, and the facts about it the conversion rules rely on.
#include "helpers.hpp"

#include "xsave/components.hpp"
#include "xsave/cpu_ops.hpp"
#include "xsave/error.hpp"
#include "xsave/image.hpp"
#include "xsave/random_state.hpp"

#include <catch2/catch.hpp>
#include <csignal>

using namespace xsave;

namespace {

// A valid standard area with every component in its initial configuration.
std::vector<uint8_t> init_state() {
    std::vector<uint8_t> b(hw::standard_size(), 0);
    store_le(&b[0], kFcwInit, 2);
    store_le(&b[kMxcsrOffset], kMxcsrInit, 4);
    return b;
}

} // namespace

TEST_CASE("hw: feature checks and XGETBV agree with the host profile", "[hw]") {
    if (!hw::usable()) SKIP_TEST("this CPU or OS does not support XSAVE");
    uint64_t xcr0 = hw::xgetbv(0);
    CHECK((xcr0 & 3) == 3);   // x87 and SSE are always enabled
    Profile host = host_profile();
    REQUIRE(host.xcr0);
    CHECK(*host.xcr0 == xcr0);
    CpuModel cpu(host);
    CHECK(cpu.has_xsavec() == hw::features().xsavec);
    CHECK(cpu.has_xsaveopt() == hw::features().xsaveopt);
    CHECK(cpu.standard(xcr0).total_size == hw::standard_size());
    CHECK(cpu.compacted(xcr0).total_size == hw::compacted_size(xcr0));
    if (hw::features().xgetbv1) CHECK((hw::xgetbv(1) & ~xcr0) == 0);   // XINUSE & XCR0
    if (host.mxcsr_mask) CHECK(*host.mxcsr_mask == hw::mxcsr_mask());
}

TEST_CASE("hw: XRSTOR in a child accepts valid areas and reports #GP as SIGSEGV", "[hw]") {
    if (!hw::usable()) SKIP_TEST("this CPU or OS does not support XSAVE");
    CpuModel cpu(host_profile());
    uint64_t xcr0 = hw::xgetbv(0);
    auto good = random_standard_state(cpu, xcr0, 7);
    CHECK(hw::xrstor_in_child(good).accepted);

    auto with = [&](unsigned offset, uint8_t value) {
        auto b = good;
        b[offset] = value;
        return hw::xrstor_in_child(b);
    };
    // Standard form: header bytes 8..23 must be zero; 24..63 are not checked (SDM 13.8.1).
    for (unsigned i : {8u, 15u, 16u, 23u}) {
        auto v = with(512 + i, 1);
        CHECK_FALSE(v.accepted);
        CHECK(v.signal == SIGSEGV);
        CHECK(v.detail == "faulted (SIGSEGV: #GP)");
    }
    for (unsigned i : {24u, 40u, 63u}) CHECK(with(512 + i, 0x5A).accepted);
    // XSTATE_BV outside XCR0.
    unsigned outside = unsigned(__builtin_ctzll(~xcr0));
    {
        auto b = good;
        store_le(&b[512], load_le(&b[512], 8) | 1ull << outside, 8);
        CHECK_FALSE(hw::xrstor_in_child(b).accepted);
    }
    // MXCSR: every bit of the CPU's MXCSR_MASK is allowed, the first one outside faults.
    uint32_t mask = hw::mxcsr_mask();
    {
        auto b = good;
        store_le(&b[kMxcsrOffset], mask & ~0x3Fu, 4);   // all masks and modes, no flags
        CHECK(hw::xrstor_in_child(b).accepted);
        store_le(&b[kMxcsrOffset], 0x1F80 | (~mask & (0u - (~mask))), 4);   // lowest bit outside the mask
        CHECK_FALSE(hw::xrstor_in_child(b).accepted);
    }
    // Misaligned is our problem, not the caller's: the copy is aligned.
    std::vector<uint8_t> shifted(good.size() + 1);
    std::copy(good.begin(), good.end(), shifted.begin() + 1);
    CHECK(hw::xrstor_in_child(std::span(shifted).subspan(1)).accepted);
}

TEST_CASE("hw: compacted XRSTOR checks header bytes 16..63 and XCOMP_BV", "[hw]") {
    if (!hw::usable() || !hw::features().xsavec) SKIP_TEST("this CPU does not support XSAVEC");
    CpuModel cpu(host_profile());
    uint64_t xcr0 = hw::xgetbv(0);
    auto c = hw::hw_capture(hw::Instruction::Xsavec, random_standard_state(cpu, xcr0, 11));
    CHECK(load_le(&c[kXcompBvOffset], 8) == (xcr0 | kCompactedBit));
    CHECK(hw::xrstor_in_child(c).accepted);
    for (unsigned i : {16u, 40u, 63u}) {
        auto b = c;
        b[512 + i] = 1;
        CHECK_FALSE(hw::xrstor_in_child(b).accepted);
    }
    auto b = c;
    store_le(&b[kXstateBvOffset], load_le(&c[kXcompBvOffset], 8) & ~kCompactedBit, 8);
    store_le(&b[kXcompBvOffset], kCompactedBit | 3, 8);   // XSTATE_BV outside XCOMP_BV
    if (load_le(&b[kXstateBvOffset], 8) & ~3ull) CHECK_FALSE(hw::xrstor_in_child(b).accepted);
}

TEST_CASE("hw: capture with XSAVE gives back the state that was loaded", "[hw]") {
    if (!hw::usable()) SKIP_TEST("this CPU or OS does not support XSAVE");
    CpuModel cpu(host_profile());
    uint64_t xcr0 = hw::xgetbv(0);
    for (uint64_t seed : {1u, 2u, 3u, 99u}) {
        RandomStateOptions ro;
        ro.mxcsr_mask_field = hw::mxcsr_mask();   // XSAVE writes the CPU's own
        auto s = random_standard_state(cpu, xcr0, seed, ro);
        CHECK(hw::hw_capture(hw::Instruction::Xsave, s) == s);
    }
    CHECK_THROWS_AS(hw::hw_capture(hw::Instruction::Xsave, std::vector<uint8_t>(100)), Error);
}

// Facts about this CPU that the conversion rules (issue 3) depend on.
TEST_CASE("hw: XSAVEC sets XSTATE_BV[1] for MXCSR alone and writes MXCSR only then", "[hw]") {
    if (!hw::usable() || !hw::features().xsavec) SKIP_TEST("this CPU does not support XSAVEC");
    constexpr uint8_t F = hw::kFillByte;
    auto s = init_state();
    auto o = hw::hw_load_and_save(s, ~0ull);
    // Everything initial: XSAVEC writes XSTATE_BV = 0, XCOMP_BV, and nothing else.
    CHECK(load_le(&o.xsavec[kXstateBvOffset], 8) == 0);
    CHECK(load_le(&o.xsavec[kMxcsrOffset], 4) == 0xA5A5A5A5u);
    CHECK(std::count(o.xsavec.begin(), o.xsavec.begin() + 512, F) == 512);
    // XSAVE writes the legacy region 0..415 (init values), only XSTATE_BV of the header.
    CHECK(load_le(&o.xsave[0], 2) == kFcwInit);
    CHECK(load_le(&o.xsave[kMxcsrOffset], 4) == kMxcsrInit);
    CHECK(load_le(&o.xsave[kMxcsrMaskOffset], 4) == hw::mxcsr_mask());
    CHECK(std::count(o.xsave.begin() + 416, o.xsave.begin() + 512, F) == 96);
    CHECK(o.xsave[kXstateBvOffset] == (F & ~uint8_t(hw::xgetbv(0))));   // bits outside RFBM untouched
    CHECK(std::count(o.xsave.begin() + 513, o.xsave.begin() + 576, F) == 63);   // XCOMP_BV too
    CHECK(std::count(o.xsave.begin() + 576, o.xsave.end(), 0) == long(o.xsave.size() - 576));

    store_le(&s[kMxcsrOffset], 0x3F80, 4);   // round toward zero; XMM registers still initial
    o = hw::hw_load_and_save(s, ~0ull);
    CHECK((load_le(&o.xsave[kXstateBvOffset], 8) & 2) == 0);
    CHECK(load_le(&o.xsavec[kXstateBvOffset], 8) == 2);
    CHECK(load_le(&o.xsavec[kMxcsrOffset], 4) == 0x3F80);
    CHECK(load_le(&o.xsavec[kMxcsrMaskOffset], 4) == hw::mxcsr_mask());
    CHECK(std::count(o.xsavec.begin() + 160, o.xsavec.begin() + 416, 0) == 256);
    CHECK(std::count(o.xsavec.begin(), o.xsavec.begin() + 24, F) == 24);   // x87 initial: not written
}

TEST_CASE("hw: compacted XRSTOR with XSTATE_BV[1] clear sets MXCSR to 0x1F80", "[hw]") {
    if (!hw::usable() || !hw::features().xsavec) SKIP_TEST("this CPU does not support XSAVEC");
    uint64_t xcr0 = hw::xgetbv(0);
    std::vector<uint8_t> c(hw::compacted_size(xcr0), 0);
    store_le(&c[kMxcsrOffset], 0x3F80, 4);
    store_le(&c[kXcompBvOffset], xcr0 | kCompactedBit, 8);
    auto o = hw::hw_load_and_save(c, ~0ull);
    CHECK(load_le(&o.xsave[kMxcsrOffset], 4) == kMxcsrInit);
    // Standard form loads MXCSR whatever XSTATE_BV[1] says.
    auto s = init_state();
    store_le(&s[kMxcsrOffset], 0x3F80, 4);
    o = hw::hw_load_and_save(s, ~0ull);
    CHECK(load_le(&o.xsave[kMxcsrOffset], 4) == 0x3F80);
}
