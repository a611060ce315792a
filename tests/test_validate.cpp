// The `check` rules, judged in memory against the inline profiles.
#include "helpers.hpp"
#include "inline_profiles.hpp"

#include "xsave/components.hpp"
#include "xsave/image.hpp"
#include "xsave/random_state.hpp"
#include "xsave/validate.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace xsave;

namespace {

const Violation* find_rule(const CheckResult& r, std::string_view rule) {
    for (const auto& v : r.violations)
        if (v.rule == rule) return &v;
    return nullptr;
}
using Rules = std::vector<std::string>;

CheckResult check(const std::vector<uint8_t>& b, const CpuModel& cpu, Target t, CheckOptions o = {}) {
    o.target = t;
    return check_area(b, cpu, o);
}


// A valid standard-form area for the EPYC reference machine (XCR0 0xe7), x87|SSE|AVX in use.
std::vector<uint8_t> epyc_standard(const CpuModel& cpu) {
    RandomStateOptions o;
    o.xstate_bv = 0x7;
    return random_standard_state(cpu, 0xE7, 42, o);
}

void set_u64(std::vector<uint8_t>& b, unsigned off, uint64_t v) { store_le(&b[off], v, 8); }
void set_u32(std::vector<uint8_t>& b, unsigned off, uint32_t v) { store_le(&b[off], v, 4); }

} // namespace

TEST_CASE("validate: rule table and target names", "[validate]") {
    std::set<std::string_view> names;
    for (const auto& r : all_rules()) {
        CHECK(names.insert(r.name).second);
        CHECK(r.targets != 0);
        CHECK(!r.summary.empty());
    }
    CHECK(names.count("compacted-form") == 1);
    CHECK(names.size() == 16);
    for (const char* n : {"xrstor", "xrstors", "kvm", "whpx", "mshv"}) {
        auto t = target_from_name(n);
        REQUIRE(t);
        CHECK(std::string(target_name(*t)) == n);
    }
    CHECK(!target_from_name("XRSTOR"));
    CHECK(!target_from_name(""));
}

TEST_CASE("validate: the WHPX seed buffer passes whpx; with XCOMP_BV cleared it fails the compacted-form rule", "[validate]") {
    CpuModel cpu(testing::epyc_host());
    auto b = testing::whpx_bytes();
    REQUIRE(b.size() == 832);
    auto r = check(b, cpu, Target::Whpx);
    CHECK(r.ok());
    CHECK(r.form == Format::Compacted);
    CHECK(check(b, cpu, Target::Xrstor).ok());

    set_u64(b, kXcompBvOffset, 0);
    r = check(b, cpu, Target::Whpx);
    REQUIRE(testing::rules_of(r) == Rules{"compacted-form"});
    CHECK(r.violations[0].message ==
          "XCOMP_BV 0x0 has bit 63 clear (standard form): whpx takes only the compacted form (XCOMP_BV[63] = 1)");
    // The same buffer is a fine standard-form area for XRSTOR and KVM.
    CHECK(check(b, cpu, Target::Xrstor).ok());
    CHECK(testing::rules_of(check(b, cpu, Target::Kvm)) == Rules{"kvm-xsave-size"});   // 832 of struct kvm_xsave's 4096 bytes
    CheckOptions vmm;
    vmm.kvm_struct = false;   // a VMM that builds the ioctl's buffer itself
    CHECK(check(b, cpu, Target::Kvm, vmm).ok());
    CHECK(testing::rules_of(check(b, cpu, Target::Mshv)) == Rules{"compacted-form"});
}

TEST_CASE("validate: xrstor standard form: XSTATE_BV within XCR0, including bit 63", "[validate]") {
    CpuModel cpu(testing::epyc_host());
    auto b = epyc_standard(cpu);
    REQUIRE(check(b, cpu, Target::Xrstor).ok());
    set_u64(b, kXstateBvOffset, 0x7 | 1ull << 3 | 1ull << 63);
    auto r = check(b, cpu, Target::Xrstor);
    REQUIRE(testing::rules_of(r) == Rules{"xstate-bv-in-xcr0"});
    CHECK(r.violations[0].message == "XSTATE_BV 0x800000000000000f sets 0x8000000000000008 (MPX BNDREGS|bit63) outside XCR0 0xe7");
    // --xcr0 narrows what XRSTOR accepts.
    set_u64(b, kXstateBvOffset, 0x7);
    CheckOptions o;
    o.xcr0 = 0x3;
    r = check(b, cpu, Target::Xrstor, o);
    REQUIRE(testing::rules_of(r) == Rules{"xstate-bv-in-xcr0"});
    CHECK(r.violations[0].message.find("0x4 (AVX)") != std::string::npos);
}

TEST_CASE("validate: xrstor standard form checks header bytes 8..23 only (measured)", "[validate]") {
    CpuModel cpu(testing::epyc_host());
    auto b = epyc_standard(cpu);
    for (unsigned i = 24; i < 64; ++i) b[kHeaderOffset + i] = 0xFF;
    CHECK(check(b, cpu, Target::Xrstor).ok());
    b[kHeaderOffset + 20] = 0x01;
    auto r = check(b, cpu, Target::Xrstor);
    REQUIRE(testing::rules_of(r) == Rules{"header-reserved"});
    CHECK(r.violations[0].message ==
          "header bytes 8..23 (0x208..0x217) must be zero for standard-form XRSTOR (XCOMP_BV and bytes 16..23): 0x214 = 0x01");
    // XCOMP_BV bits without bit 63 make a broken standard header, not a compacted one.
    b[kHeaderOffset + 20] = 0;
    set_u64(b, kXcompBvOffset, 0x3);
    r = check(b, cpu, Target::Xrstor);
    REQUIRE(testing::rules_of(r) == Rules{"header-reserved"});
    CHECK(r.violations[0].message.find("0x208 = 0x03") != std::string::npos);
    // KVM wants all of 16..63 zero.
    set_u64(b, kXcompBvOffset, 0);
    b.resize(kKvmXsaveSize, 0);
    CHECK(testing::rules_of(check(b, cpu, Target::Kvm)) == Rules{"header-reserved"});
}

TEST_CASE("validate: long lists of bad header bytes are cut short", "[validate]") {
    CpuModel cpu(testing::epyc_host());
    auto b = testing::whpx_bytes();
    for (unsigned i = 16; i < 64; ++i) b[kHeaderOffset + i] = uint8_t(i);
    auto r = check(b, cpu, Target::Whpx);
    REQUIRE(testing::rules_of(r) == Rules{"header-reserved"});
    CHECK(r.violations[0].message ==
          "header bytes 16..63 (0x210..0x23f) must be zero in the compacted form: 0x210 = 0x10, 0x211 = 0x11, 0x212 = 0x12, "
          "0x213 = 0x13, 0x214 = 0x14, 0x215 = 0x15 and 42 more");
}

TEST_CASE("validate: xrstor compacted form: XCOMP_BV within XCR0, XSTATE_BV within XCOMP_BV", "[validate]") {
    CpuModel cpu(testing::epyc_host());
    auto b = testing::whpx_bytes();
    set_u64(b, kXcompBvOffset, kCompactedBit | 0x7 | 1ull << 40);
    set_u64(b, kXstateBvOffset, 0x3 | 1ull << 5 | 1ull << 63);
    auto r = check(b, cpu, Target::Xrstor);   // bit 40 is unknown: judged, not refused
    REQUIRE(testing::rules_of(r) == Rules{"xcomp-bv-in-xcr0", "xstate-bv-in-xcomp-bv"});
    CHECK(r.violations[0].message == "XCOMP_BV[62:0] 0x10000000007 sets 0x10000000000 (bit40) outside XCR0 0xe7");
    CHECK(r.violations[1].message ==
          "XSTATE_BV 0x8000000000000023 sets 0x8000000000000020 (AVX-512 opmask|bit63) outside XCOMP_BV[62:0] 0x10000000007");
}

TEST_CASE("validate: the compacted form needs XSAVEC", "[validate]") {
    auto p = testing::epyc_host();
    p.set({0xD, 1, 0x1, 0, 0, 0});   // XSAVEOPT only
    CpuModel cpu(p);
    auto r = check(testing::whpx_bytes(), cpu, Target::Xrstor);
    REQUIRE(testing::rules_of(r) == Rules{"xsavec-support"});
    auto b = testing::whpx_bytes();
    set_u64(b, kXcompBvOffset, 0);
    CHECK(check(b, cpu, Target::Xrstor).ok());
}

TEST_CASE("validate: MXCSR against the profile's MXCSR_MASK", "[validate]") {
    CpuModel cpu(testing::epyc_host());   // MXCSR_MASK 0x2ffff
    auto b = epyc_standard(cpu);
    set_u32(b, kMxcsrOffset, 0x1F80 | 1u << 17 | 1u << 6);   // allowed by 0x2ffff
    CHECK(check(b, cpu, Target::Xrstor).ok());
    set_u32(b, kMxcsrOffset, 0x1F80 | 1u << 16);
    auto r = check(b, cpu, Target::Xrstor);
    REQUIRE(testing::rules_of(r) == Rules{"mxcsr-reserved"});
    CHECK(r.violations[0].message ==
          "MXCSR 0x00011f80 (offset 0x18) sets reserved bits 0x10000, outside MXCSR_MASK 0x2ffff from the profile's recorded MXCSR_MASK");
    CHECK(r.mxcsr_mask == 0x2FFFF);
    CHECK(r.mxcsr_mask_source == MxcsrMaskSource::Profile);
    // Standard form loads MXCSR whatever XSTATE_BV says (measured).
    set_u64(b, kXstateBvOffset, 0);
    CHECK(testing::rules_of(check(b, cpu, Target::Xrstor)) == Rules{"mxcsr-reserved"});
    CHECK(testing::rules_of(check(b, cpu, Target::Kvm)) == Rules{"mxcsr-reserved", "kvm-xsave-size"});
}

TEST_CASE("validate: compacted form checks MXCSR only when XSTATE_BV[1] is set (measured)", "[validate]") {
    CpuModel cpu(testing::epyc_host());
    auto b = testing::whpx_bytes();
    set_u32(b, kMxcsrOffset, 0x80001F80);
    for (uint64_t xs : {0x0ull, 0x1ull, 0x4ull, 0x5ull}) {
        set_u64(b, kXstateBvOffset, xs);
        INFO("XSTATE_BV " << xs);
        CHECK(check(b, cpu, Target::Xrstor).ok());
        CHECK(check(b, cpu, Target::Whpx).ok());
    }
    for (uint64_t xs : {0x2ull, 0x3ull, 0x6ull}) {
        set_u64(b, kXstateBvOffset, xs);
        INFO("XSTATE_BV " << xs);
        CHECK(testing::rules_of(check(b, cpu, Target::Xrstor)) == Rules{"mxcsr-reserved"});
    }
}

TEST_CASE("validate: MXCSR_MASK from the buffer, else 0xFFBF, when the profile records none", "[validate]") {
    CpuModel cpu(testing::genoa());   // no recorded MXCSR_MASK
    RandomStateOptions o;
    o.xstate_bv = 0x3;
    auto b = random_standard_state(cpu, 0x2E7, 7, o);
    set_u32(b, kMxcsrOffset, 0x1FC0);   // DAZ (bit 6)
    set_u32(b, kMxcsrMaskOffset, 0xFFFF);
    auto r = check(b, cpu, Target::Xrstor);
    CHECK(r.ok());
    CHECK(r.mxcsr_mask == 0xFFFF);
    CHECK(r.mxcsr_mask_source == MxcsrMaskSource::Buffer);

    set_u32(b, kMxcsrMaskOffset, 0);   // FXSAVE's "0 means 0xFFBF"
    r = check(b, cpu, Target::Xrstor);
    REQUIRE(testing::rules_of(r) == Rules{"mxcsr-reserved"});
    CHECK(r.mxcsr_mask == kDefaultMxcsrMask);
    CHECK(r.mxcsr_mask_source == MxcsrMaskSource::Default);
    CHECK(r.violations[0].message.find("reserved bits 0x40, outside MXCSR_MASK 0xffbf from the SDM default") != std::string::npos);
}

TEST_CASE("validate: xrstors wants the compacted form within XCR0 | IA32_XSS and XSAVES", "[validate]") {
    auto p = testing::genoa();
    p.xcr0 = 0x2E7;
    p.xss = 0x1800;   // CET_U, CET_S
    CpuModel cpu(p);
    std::vector<uint8_t> b(cpu.compacted(0x1803).total_size, 0);
    set_u32(b, kMxcsrOffset, 0x1F80);
    set_u64(b, kXcompBvOffset, kCompactedBit | 0x1803);
    set_u64(b, kXstateBvOffset, 0x1803);
    CHECK(check(b, cpu, Target::Xrstors).ok());
    // XRSTOR does not take supervisor components.
    CHECK(testing::rules_of(check(b, cpu, Target::Xrstor)) == Rules{"xcomp-bv-in-xcr0"});
    CheckOptions o;
    o.xss = 0x800;
    auto r = check(b, cpu, Target::Xrstors, o);
    REQUIRE(testing::rules_of(r) == Rules{"xcomp-bv-in-xcr0-xss"});
    CHECK(r.violations[0].message == "XCOMP_BV[62:0] 0x1803 sets 0x1000 (CET_S) outside XCR0 | IA32_XSS 0xae7");
    set_u64(b, kXcompBvOffset, 0);
    set_u64(b, kXstateBvOffset, 0x3);
    CHECK(testing::rules_of(check(b, cpu, Target::Xrstors)) == Rules{"compacted-form"});
    // A CPU without XSAVES.
    CpuModel epyc(testing::epyc_host());
    CHECK(testing::rules_of(check(testing::whpx_bytes(), epyc, Target::Xrstors)) == Rules{"xsaves-support"});
}

TEST_CASE("validate: kvm takes the standard form within the guest's user features", "[validate]") {
    CpuModel cpu(testing::epyc_host());
    auto b = epyc_standard(cpu);
    REQUIRE(testing::rules_of(check(b, cpu, Target::Kvm)) == Rules{"kvm-xsave-size"});   // 2432 bytes, not struct kvm_xsave's 4096
    b.resize(xsave::kKvmXsaveSize, 0);
    CHECK(check(b, cpu, Target::Kvm).ok());
    set_u64(b, kXstateBvOffset, 0x7 | 1ull << 9);   // PKRU: not supported by this CPU
    auto r = check(b, cpu, Target::Kvm);
    REQUIRE(testing::rules_of(r) == Rules{"xstate-bv-supported"});
    CHECK(r.violations[0].message == "XSTATE_BV 0x207 sets 0x200 (PKRU) outside the guest's user features 0xe7");
    set_u64(b, kXstateBvOffset, 0x7);
    CHECK(testing::rules_of(check(testing::whpx_bytes(), cpu, Target::Kvm)) == Rules{"standard-form", "kvm-xsave-size"});
}

TEST_CASE("validate: mshv wants XCOMP_BV = supported XCR0 & the guest's XCR0", "[validate]") {
    CpuModel cpu(testing::epyc_host());
    auto r = check(testing::whpx_bytes(), cpu, Target::Mshv);
    REQUIRE(testing::rules_of(r) == Rules{"xcomp-bv-mshv"});
    CHECK(r.violations[0].message ==
          "XCOMP_BV[62:0] 0x7 must equal the supported XCR0 0xe7 & the guest's XCR0 0xe7 = 0xe7; missing 0xe0 "
          "(AVX-512 opmask|ZMM_Hi256|Hi16_ZMM)");
    CheckOptions o;
    o.guest_xcr0 = 0x7;
    CHECK(check(testing::whpx_bytes(), cpu, Target::Mshv, o).ok());
    o.guest_xcr0 = 0x3;
    CHECK(find_rule(check(testing::whpx_bytes(), cpu, Target::Mshv, o), "xcomp-bv-mshv")->message.find("extra 0x4 (AVX)") != std::string::npos);
}

TEST_CASE("validate: area-size names what is missing, and a header-less buffer gets only that", "[validate]") {
    CpuModel cpu(testing::epyc_host());
    auto b = testing::whpx_bytes();
    b.resize(800);
    auto r = check(b, cpu, Target::Whpx);
    REQUIRE(testing::rules_of(r) == Rules{"area-size"});
    CHECK(r.violations[0].message == "800 bytes, but the compacted layout for XCOMP_BV 0x8000000000000007 needs 832");
    // XRSTOR only reads in-use components: AVX (bit 2) is not in use.
    CHECK(check(b, cpu, Target::Xrstor).ok());
    set_u64(b, kXstateBvOffset, 0x7);
    r = check(b, cpu, Target::Xrstor);
    REQUIRE(testing::rules_of(r) == Rules{"area-size"});
    CHECK(r.violations[0].message == "800 bytes, but in-use AVX (bit 2) at 0x240..0x340 in the compacted layout needs 832");

    auto s = epyc_standard(cpu);
    set_u64(s, kXstateBvOffset, 0xE7);
    s.resize(0x980 - 1);
    r = check(s, cpu, Target::Xrstor);
    REQUIRE(testing::rules_of(r) == Rules{"area-size"});
    CHECK(r.violations[0].message.find("Hi16_ZMM (bit 7) at 0x580..0x980 in standard form needs 2432") != std::string::npos);

    std::vector<uint8_t> tiny(100, 0);
    for (Target t : {Target::Xrstor, Target::Xrstors, Target::Kvm, Target::Whpx, Target::Mshv}) {
        r = check(tiny, cpu, t);
        REQUIRE(testing::rules_of(r) == Rules{"area-size"});
        CHECK(r.violations[0].message == "100 bytes: an XSAVE area needs at least 576 (legacy region 0..511, header 512..575)");
    }
    CHECK(testing::rules_of(check({}, cpu, Target::Xrstor)) == Rules{"area-size"});
}
