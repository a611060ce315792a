// The `check --for xrstor` rules against this CPU: a valid area is mutated (XSTATE_BV,
// XCOMP_BV, reserved header bytes, MXCSR; standard and compacted form), the rules predict
// XRSTOR's verdict, and XRSTOR in a child process gives the real one. They must agree on
// every mutation.
#include "helpers.hpp"

#include "xsave/components.hpp"
#include "xsave/cpu_ops.hpp"
#include "xsave/image.hpp"
#include "xsave/random_state.hpp"
#include "xsave/validate.hpp"

#include <catch2/catch.hpp>

#include <vector>

#include <fmt/core.h>
#include <random>

using namespace xsave;

namespace {

constexpr int kMutations = 1200;

// Mostly bits near the ones that matter (low components, bit 63), sometimes anywhere.
uint64_t random_bit(std::mt19937_64& rng) {
    switch (rng() % 4) {
    case 0: return 1ull << 63;
    case 1: return 1ull << (rng() % 64);
    default: return 1ull << (rng() % 20);
    }
}

struct Mutated {
    std::vector<uint8_t> bytes;
    std::string what;
};

Mutated mutate(const std::vector<uint8_t>& base, bool compacted, uint64_t xcr0, std::mt19937_64& rng) {
    Mutated m{base, compacted ? "compacted" : "standard"};
    auto& b = m.bytes;
    if (rng() % 2) {   // XSTATE_BV: a random in-XCR0 value, then perhaps stray bits
        uint64_t v = rng() & xcr0;
        for (unsigned n = rng() % 3; n; --n) v ^= random_bit(rng);
        store_le(&b[kXstateBvOffset], v, 8);
        m.what += fmt::format(" XSTATE_BV=0x{:x}", v);
    }
    if (rng() % 3 == 0) {   // XCOMP_BV
        uint64_t v = load_le(&b[kXcompBvOffset], 8);
        if (compacted && rng() % 2) v = kCompactedBit | (rng() & xcr0);
        for (unsigned n = 1 + rng() % 2; n; --n) {
            uint64_t bit = random_bit(rng);
            if (bit != kCompactedBit) v ^= bit;   // the form stays what the test says
        }
        store_le(&b[kXcompBvOffset], v, 8);
        m.what += fmt::format(" XCOMP_BV=0x{:x}", v);
    }
    if (rng() % 3 == 0) {   // a reserved header byte
        unsigned off = 16 + rng() % 48;
        uint8_t v = uint8_t(1 + rng() % 255);
        b[kHeaderOffset + off] = v;
        m.what += fmt::format(" header[{}]=0x{:02x}", off, v);
    }
    if (rng() % 3 == 0) {   // MXCSR
        uint32_t v = uint32_t(load_le(&b[kMxcsrOffset], 4)) ^ (1u << (rng() % 32));
        store_le(&b[kMxcsrOffset], v, 4);
        m.what += fmt::format(" MXCSR=0x{:x}", v);
    }
    return m;
}

} // namespace

TEST_CASE("hw agreement: check --for xrstor predicts this CPU's XRSTOR on 1,200 mutated areas", "[hw][validate]") {
    if (!hw::usable()) SKIP_TEST("this CPU (or its OS) does not offer XSAVE");
    CpuModel cpu(host_profile());
    const uint64_t xcr0 = hw::xgetbv(0);
    REQUIRE(cpu.enabled_xcr0() == xcr0);
    const bool xsavec = hw::features().xsavec;

    RandomStateOptions ro;
    ro.mxcsr_mask = 0xFFBF;
    std::vector<uint8_t> standard = random_standard_state(cpu, xcr0, 2024, ro);
    REQUIRE(hw::xrstor_in_child(standard).accepted);
    std::vector<uint8_t> compacted;
    if (xsavec) {
        compacted = hw::hw_capture(hw::Instruction::Xsavec, standard);
        REQUIRE(load_le(&compacted[kXcompBvOffset], 8) == (kCompactedBit | xcr0));
        REQUIRE(hw::xrstor_in_child(compacted).accepted);
    }

    std::mt19937_64 rng(0x5EED);
    CheckOptions opt;
    opt.target = Target::Xrstor;
    int agreed = 0, accepted = 0, rejected = 0, runs = 0;
    std::vector<int> per_rule(all_rules().size());
    std::vector<std::string> disagreements;
    for (int i = 0; i < kMutations; ++i) {
        bool use_compacted = xsavec && i % 2;
        Mutated m = mutate(use_compacted ? compacted : standard, use_compacted, xcr0, rng);
        CheckResult r = check_area(m.bytes, cpu, opt);
        for (const auto& v : r.violations) {
            REQUIRE(v.rule != "area-size");   // full-size buffers: only what XRSTOR can see
            for (size_t k = 0; k < all_rules().size(); ++k)
                if (all_rules()[k].name == v.rule) ++per_rule[k];
        }
        hw::RestoreVerdict cpu_says = hw::xrstor_in_child(m.bytes);
        ++runs;
        (cpu_says.accepted ? accepted : rejected)++;
        if (cpu_says.accepted == r.ok()) {
            ++agreed;
        } else if (disagreements.size() < 10) {
            std::string rules;
            for (const auto& v : r.violations) rules += " " + v.rule;
            disagreements.push_back(fmt::format("#{}{}: CPU {}, rules{}", i, m.what, cpu_says.detail,
                                                rules.empty() ? " accept" : rules));
        }
    }
    std::string summary = fmt::format("{} mutations, {} agreed; CPU accepted {}, rejected {}", runs, agreed, accepted, rejected);
    for (size_t k = 0; k < all_rules().size(); ++k)
        if (per_rule[k]) summary += fmt::format("; {} {}", all_rules()[k].name, per_rule[k]);
    std::cerr << "hw agreement: " << summary << "\n";
    for (const auto& d : disagreements) UNSCOPED_INFO(d);
    CHECK(runs == kMutations);
    CHECK(agreed == runs);
    // The mutations must exercise both verdicts, or agreement means little.
    CHECK(accepted >= runs / 5);
    CHECK(rejected >= runs / 5);
}

TEST_CASE("hw agreement: the facts the rules rely on, on this CPU", "[hw][validate]") {
    if (!hw::usable()) SKIP_TEST("this CPU (or its OS) does not offer XSAVE");
    CpuModel cpu(host_profile());
    const uint64_t xcr0 = hw::xgetbv(0);
    auto base = random_standard_state(cpu, xcr0, 99);
    store_le(&base[kXstateBvOffset], 3, 8);
    auto cpu_ok = [](const std::vector<uint8_t>& b) { return hw::xrstor_in_child(b).accepted; };
    auto rules_ok = [&](const std::vector<uint8_t>& b) { return check_area(b, cpu).ok(); };

    // Standard form: header bytes 8..23 are checked byte by byte; 24..63 as the CPU does.
    for (unsigned i = 8; i < 64; ++i) {
        auto b = base;
        b[kHeaderOffset + i] = 0x40;
        INFO("standard-form header byte " << i);
        CHECK(cpu_ok(b) == rules_ok(b));
    }
    // A bad MXCSR faults in standard form even with XSTATE_BV = 0.
    uint32_t bad = ~cpu.profile().mxcsr_mask.value_or(kDefaultMxcsrMask);
    REQUIRE(bad != 0);
    uint32_t bad_bit = bad & (~bad + 1);
    auto b = base;
    store_le(&b[kMxcsrOffset], 0x1F80 | bad_bit, 4);
    store_le(&b[kXstateBvOffset], 0, 8);
    CHECK_FALSE(cpu_ok(b));
    CHECK_FALSE(rules_ok(b));
    if (!hw::features().xsavec) return;
    // Compacted form: MXCSR matters only with XSTATE_BV[1].
    auto c = hw::hw_capture(hw::Instruction::Xsavec, base);
    store_le(&c[kMxcsrOffset], 0x1F80 | bad_bit, 4);
    for (uint64_t xs : {0ull, 1ull, 2ull, 3ull, 4ull}) {
        store_le(&c[kXstateBvOffset], xs & xcr0, 8);
        INFO("compacted, bad MXCSR, XSTATE_BV " << xs);
        CHECK(cpu_ok(c) == rules_ok(c));
        CHECK(cpu_ok(c) == !(xs & 2));
    }
}
