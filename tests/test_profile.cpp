// Profiles: leaf lookup, our JSON schema (round trip and exact error messages), the host.
#include "helpers.hpp"

#include "xsave/error.hpp"
#include "xsave/import.hpp"
#include "xsave/profile.hpp"

#include <catch2/catch.hpp>

using namespace xsave;

namespace {

std::string error_of(const std::string& json) {
    try {
        profile_from_json(json);
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

std::string with_leaf(const std::string& leaf_fields) {
    return R"({"leaves": [{"leaf": 0}, {"leaf": 1}, {"leaf": 7}, {)" + leaf_fields + "}]}";
}

} // namespace

TEST_CASE("profile find and set keep leaves sorted and unique") {
    Profile p;
    p.set({0xD, 1, 1, 2, 3, 4});
    p.set({0, 0, 0xD, 0, 0, 0});
    p.set({0xD, 0, 7, 0x340, 0x340, 0});
    p.set({0xD, 1, 0xF, 0, 0, 0});   // replaces
    REQUIRE(p.leaves.size() == 3);
    CHECK(p.leaves[0].leaf == 0);
    CHECK(p.leaves[1].subleaf == 0);
    CHECK(p.leaves[2].subleaf == 1);
    REQUIRE(p.find(0xD, 1));
    CHECK(p.find(0xD, 1)->eax == 0xF);
    CHECK(p.find(0xD, 1)->ebx == 0);
    CHECK(p.find(0xD, 2) == nullptr);
    CHECK(p.find(7) == nullptr);
}

TEST_CASE("profile JSON: the issue's example schema reads") {
    Profile p = profile_from_json(R"({"name": "x", "vendor": "GenuineIntel", "xcr0": "0x2e7", "xss": "0x0",
        "leaves": [{"leaf": "0xd", "subleaf": 0, "eax": "0x2e7", "ebx": "0xa88", "ecx": "0xa88", "edx": "0x0"},
                   {"leaf": 0, "subleaf": "0", "eax": 13, "ebx": "0x756e6547", "ecx": "0x6c65746e", "edx": "0x49656e69"}]})");
    CHECK(p.name == "x");
    CHECK(p.vendor == "GenuineIntel");
    CHECK(p.xcr0 == 0x2e7u);
    CHECK(p.xss == 0u);
    CHECK_FALSE(p.mxcsr_mask);
    REQUIRE(p.leaves.size() == 2);
    CHECK(p.leaves[0] == CpuidLeaf{0, 0, 13, 0x756e6547, 0x6c65746e, 0x49656e69});   // sorted
    CHECK(p.leaves[1] == CpuidLeaf{0xD, 0, 0x2e7, 0xa88, 0xa88, 0});
    CHECK(p.warnings.empty());
}

TEST_CASE("profile JSON round trip") {
    Profile p;
    p.name = "round \"trip\"";
    p.vendor = "AuthenticAMD";
    p.xcr0 = 0x4000000000000007ull;   // LWP: wider than 53 bits
    p.xss = 0x1800;
    p.mxcsr_mask = 0x2ffff;
    p.leaves = {{0xD, 0, 7, 0x340, 0x3c0, 0x40000000}, {0, 0, 0xD, 1, 2, 3}, {0xFFFFFFFF, 0xFFFFFFFF, ~0u, ~0u, ~0u, ~0u}};
    std::string j = profile_to_json(p);
    CHECK(j.find("\"xcr0\": \"0x4000000000000007\"") != std::string::npos);
    CHECK(j.find("\"mxcsr_mask\": \"0x2ffff\"") != std::string::npos);
    Profile q = profile_from_json(j);
    CHECK(q.name == p.name);
    CHECK(q.vendor == p.vendor);
    CHECK(q.xcr0 == p.xcr0);
    CHECK(q.xss == p.xss);
    CHECK(q.mxcsr_mask == p.mxcsr_mask);
    REQUIRE(q.leaves.size() == 3);
    CHECK(q.leaves[0] == CpuidLeaf{0, 0, 0xD, 1, 2, 3});
    CHECK(q.leaves[1] == CpuidLeaf{0xD, 0, 7, 0x340, 0x3c0, 0x40000000});
    CHECK(q.leaves[2] == p.leaves[2]);
    CHECK(profile_to_json(q) == j);   // stable output

    Profile bare;   // optional fields stay absent
    Profile r = profile_from_json(profile_to_json(bare));
    CHECK_FALSE(r.xcr0);
    CHECK_FALSE(r.xss);
    CHECK_FALSE(r.mxcsr_mask);
    CHECK(r.leaves.empty());
}

TEST_CASE("profile JSON: malformed input gives exact one-line errors") {
    CHECK(error_of("") == "profile: not valid JSON at line 1, column 1: syntax error while parsing value - "
                          "unexpected end of input; expected '[', '{', or a literal");
    CHECK(error_of("{\"leaves\": [}") ==
          "profile: not valid JSON at line 1, column 13: syntax error while parsing value - unexpected '}'; "
          "expected '[', '{', or a literal");
    CHECK(error_of("[1, 2]") == "profile: expected a JSON object, got [1,2]");
    CHECK(error_of("{}") == "profile: missing \"leaves\"");
    CHECK(error_of(R"({"leaves": {}})") == "profile: leaves: expected an array, got {}");
    CHECK(error_of(R"({"leaves": [3]})") == "profile: leaves[0]: expected an object, got 3");
    CHECK(error_of(R"({"leaves": [{"eax": 1}]})") == "profile: leaves[0]: missing \"leaf\"");
    CHECK(error_of(with_leaf(R"("leaf": 13, "eax": "0x100000000")")) ==
          "profile: leaves[3].eax: expected a 32-bit value, got \"0x100000000\"");
    CHECK(error_of(with_leaf(R"("leaf": 13, "ebx": 4294967296)")) ==
          "profile: leaves[3].ebx: expected a 32-bit value, got 4294967296");
    CHECK(error_of(with_leaf(R"("leaf": 13, "ecx": -1)")) == "profile: leaves[3].ecx: expected a 32-bit value, got -1");
    CHECK(error_of(with_leaf(R"("leaf": 13, "edx": 1.5)")) == "profile: leaves[3].edx: expected a 32-bit value, got 1.5");
    CHECK(error_of(with_leaf(R"("leaf": "0xzz")")) == "profile: leaves[3].leaf: expected a 32-bit value, got \"0xzz\"");
    CHECK(error_of(with_leaf(R"("leaf": "0x")")) == "profile: leaves[3].leaf: expected a 32-bit value, got \"0x\"");
    CHECK(error_of(with_leaf(R"("leaf": 1, "subleaf": true)")) ==
          "profile: leaves[3].subleaf: expected a 32-bit value, got true");
    CHECK(error_of(with_leaf(R"("leaf": "0x7")")) == "profile: leaves[3]: duplicate leaf 0x7 subleaf 0x0");
    CHECK(error_of(R"({"xcr0": "0x10000000000000000", "leaves": []})") ==
          "profile: xcr0: expected a 64-bit value, got \"0x10000000000000000\"");
    CHECK(error_of(R"({"xss": 18446744073709551616, "leaves": []})") ==
          "profile: xss: expected a 64-bit value, got 1.8446744073709552e+19");
    CHECK(error_of(R"({"mxcsr_mask": "0x1ffffffff", "leaves": []})") ==
          "profile: mxcsr_mask: expected a 32-bit value, got \"0x1ffffffff\"");
    CHECK(error_of(R"({"name": 5, "leaves": []})") == "profile: name: expected a string, got 5");
    CHECK(error_of(R"({"vendor": ["GenuineIntel"], "leaves": []})") ==
          "profile: vendor: expected a string, got [\"GenuineIntel\"]");
    // Long values are cut short so the message stays one readable line.
    CHECK(error_of(with_leaf(R"("leaf": "0x0123456789abcdef0123456789abcdef0123456789")")) ==
          "profile: leaves[3].leaf: expected a 32-bit value, got \"0x0123456789abcdef0123456789abcdef01...");
}

TEST_CASE("profile JSON: unknown fields are warnings, not silence") {
    Profile p = profile_from_json(R"({"xrc0": "0x7", "leaves": [{"leaf": 0, "eaz": 1}]})");
    REQUIRE(p.warnings.size() == 2);
    CHECK(p.warnings[0] == "profile: unknown field \"xrc0\" ignored");
    CHECK(p.warnings[1] == "profile: leaves[0]: unknown field \"eaz\" ignored");
    CHECK_FALSE(p.xcr0);
}

TEST_CASE("profile JSON: decimal strings and upper-case hex") {
    Profile p = profile_from_json(R"({"xcr0": "231", "leaves": [{"leaf": "0XD", "subleaf": "1", "eax": "0xF"}]})");
    CHECK(p.xcr0 == 0xE7u);
    REQUIRE(p.find(0xD, 1));
    CHECK(p.find(0xD, 1)->eax == 0xF);
}

TEST_CASE("host profile: CPUID, XCR0 and MXCSR_MASK of this machine") {
    Profile h = host_profile();
    REQUIRE(h.find(0));
    CHECK(!h.vendor.empty());
    CHECK(h.name.rfind("host: ", 0) == 0);
    CHECK_FALSE(h.xss);   // IA32_XSS cannot be read from user space
    const CpuidLeaf* l1 = h.find(1);
    REQUIRE(l1);
    if (!(l1->ecx >> 27 & 1)) SKIP_TEST("OSXSAVE clear: no XSAVE on this CPU");
    REQUIRE(h.xcr0);
    REQUIRE(h.find(0xD, 0));
    REQUIRE(h.find(0xD, 1));
    CHECK((*h.xcr0 & ~(uint64_t(h.find(0xD, 0)->edx) << 32 | h.find(0xD, 0)->eax)) == 0);   // enabled within supported
    REQUIRE(h.mxcsr_mask);
    CHECK((*h.mxcsr_mask & 0xFFBF) == 0xFFBF);
    // Leaf 7 lists all its subleaves.
    if (const CpuidLeaf* l7 = h.find(7))
        for (uint32_t s = 1; s <= l7->eax && s < 64; ++s) CHECK(h.find(7, s));
    // Round trip through JSON changes nothing.
    Profile back = profile_from_json(profile_to_json(h));
    CHECK(back.leaves == h.leaves);
    CHECK(back.xcr0 == h.xcr0);
    CHECK(back.mxcsr_mask == h.mxcsr_mask);
}

TEST_CASE("host profile, XSAVE leaves only: the same leaves 0xD, 7 and XCR0 as the full read") {
    Profile all = host_profile(HostLeaves::All);
    Profile x = host_profile(HostLeaves::Xsave);
    const CpuidLeaf* l1 = all.find(1);
    REQUIRE(l1);
    if (!(l1->ecx >> 27 & 1)) SKIP_TEST("OSXSAVE clear: no XSAVE on this CPU");
    CHECK(x.vendor == all.vendor);
    CHECK(x.name == all.name);
    CHECK(x.xcr0 == all.xcr0);
    CHECK(x.mxcsr_mask == all.mxcsr_mask);
    size_t d_all = 0;
    for (const auto& l : all.leaves) {
        if (l.leaf == 0xD) ++d_all;
        if (l.leaf == 0xD || l.leaf == 7 || l.leaf == 0x80000001) {
            REQUIRE(x.find(l.leaf, l.subleaf));
            CHECK(*x.find(l.leaf, l.subleaf) == l);
        }
    }
    size_t d_x = 0;
    for (const auto& l : x.leaves) {
        CHECK((l.leaf <= 1 || l.leaf == 7 || l.leaf == 0xD || l.leaf == 0x80000000 || l.leaf == 0x80000001));
        if (l.leaf == 0xD) ++d_x;
    }
    CHECK(d_x == d_all);   // no subleaf of an unsupported bit is non-zero here
    CHECK(x.leaves.size() < all.leaves.size());
    // Leaf 1 apart from the APIC ID (EBX[31:24]: the thread may move between the reads).
    REQUIRE(x.find(1));
    CHECK(x.find(1)->eax == l1->eax);
    CHECK((x.find(1)->ebx & 0xFFFFFF) == (l1->ebx & 0xFFFFFF));
    CHECK(x.find(1)->ecx == l1->ecx);
    CHECK(x.find(1)->edx == l1->edx);
}

TEST_CASE("host profile of this machine: AMD EPYC with AVX-512") {
    Profile h = host_profile();
    Profile saved = resolve_profile(testing::data_path("profiles/host-epyc.json"));
    // Machines of this kind have run on more than one host CPU: only the captured one is judged.
    if (h.name != saved.name) SKIP_TEST("this host (" + h.name + ") is not the one captured (" + saved.name + ")");
    CHECK(*h.mxcsr_mask == 0x2FFFFu);
    // The committed capture agrees on everything XSAVE depends on.
    CHECK(saved.xcr0 == 0xe7u);
    CHECK(saved.mxcsr_mask == 0x2FFFFu);
    for (const auto& l : saved.leaves)
        if (l.leaf == 0xD) {
            REQUIRE(h.find(0xD, l.subleaf));
            CHECK(*h.find(0xD, l.subleaf) == l);
        }
}
