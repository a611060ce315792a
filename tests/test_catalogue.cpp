#include "helpers.hpp"
#include "xsave/components.hpp"
#include "xsave/convert.hpp"
#include "xsave/error.hpp"
#include "xsave/numbers.hpp"

#include <catch2/catch.hpp>

#include <functional>
#include <string>

using namespace xsave;

using testing::error_of;

TEST_CASE("catalogue covers bits 0..19 and 62 in bit order") {
    auto all = all_components();
    REQUIRE(all.size() == 21);
    for (unsigned b = 0; b < 20; ++b) {
        REQUIRE(component_info(b) != nullptr);
        CHECK(component_info(b)->bit == b);
    }
    REQUIRE(component_info(62) != nullptr);
    CHECK(component_info(62)->name == "AMD LWP");
    CHECK(component_info(20) == nullptr);
    CHECK(component_name(20) == "bit20");
    CHECK(component_info(8)->supervisor);
    CHECK_FALSE(component_info(9)->supervisor);
}

TEST_CASE("fields of fixed-size components fit their architectural size") {
    for (const auto& c : all_components()) {
        if (c.bit < 2 || c.nominal_size == 0) continue;
        for (const auto& f : c.fields) {
            INFO(c.name << " " << f.prefix);
            CHECK(f.offset + (f.count - 1) * f.stride + f.width <= c.nominal_size);
        }
    }
}

TEST_CASE("component names and groups parse to masks") {
    CHECK(component_mask_from_name("amx") == 0x60000);
    CHECK(component_mask_from_name("AMX TILEDATA") == 1u << 18);
    CHECK(component_mask_from_name("tiledata") == 1u << 18);
    CHECK(component_mask_from_name("18") == 0);   // a number is a mask: parse_component_mask
    CHECK(component_mask_from_name("bit19") == 1u << 19);
    CHECK(component_mask_from_name("bit63") == 0);
    CHECK(component_mask_from_name("avx512") == 0xe0);
    CHECK(component_mask_from_name("nonsense") == 0);
    CHECK(mask_names(0x8000000000000007ull) == "x87|SSE|AVX|compacted");
    CHECK(mask_names(0) == "none");
}

TEST_CASE("one reading of numbers and masks: a bare number is a mask everywhere") {
    CHECK(parse_u64("18") == 18u);
    CHECK(parse_u64("0x2E7") == 0x2e7u);
    CHECK(parse_u64("010") == 10u);   // never octal
    CHECK(parse_u64("0xffffffffffffffff") == ~0ull);
    CHECK_FALSE(parse_u64("0x10000000000000000"));
    CHECK_FALSE(parse_u64("18446744073709551616"));
    CHECK_FALSE(parse_u64("-1"));
    CHECK_FALSE(parse_u64("0x"));
    CHECK_FALSE(parse_u64(" 1"));
    CHECK(parse_component_mask("18", "--drop") == 0x12);
    CHECK(parse_component_mask("bit18", "--drop") == 1u << 18);
    CHECK(parse_component_mask("x87|sse,avx+0x200", "--xcomp-bv") == 0x207);
    CHECK(parse_component_mask("avx512,amx", "--xcr0") == 0x600e0);
    CHECK(error_of([] { parse_component_mask("avx|zmm", "--drop"); }) == "--drop: 'zmm' is neither a number nor a component name");
    CHECK(error_of([] { parse_component_mask("0x1g", "--xcr0"); }) == "--xcr0: '0x1g': expected a number (decimal or 0x hex)");
    CHECK(error_of([] { parse_component_mask("x87||sse", "--xss"); }) == "--xss: 'x87||sse': expected a mask or component names");
    CHECK(mask_aliases(0x60020) == "opmask,tilecfg,tiledata");
    CHECK(mask_aliases(1ull << 40) == "bit40");
    // --xcomp-bv takes the same masks and names as --xcr0, besides its modes.
    CHECK(parse_xcomp_mode("x87|sse").mask == 3);
    CHECK(parse_xcomp_mode("mshv").mode == XcompMode::Mshv);
}

TEST_CASE("register names: one instance name per field, split at the trailing number") {
    const ComponentInfo* x87 = component_info(0);
    const ComponentInfo* hi16 = component_info(7);
    REQUIRE(x87);
    REQUIRE(hi16);
    CHECK(field_instance_name(x87->fields[0], 0) == "fcw");
    CHECK(field_instance_name(hi16->fields[0], 0) == "zmm16");
    CHECK(field_instance_name(hi16->fields[0], 15) == "zmm31");
    auto split = [](std::string_view n) { auto r = split_register_name(n); return std::pair(std::string(r.prefix), r.index); };
    CHECK(split("zmm16") == std::pair<std::string, int>("zmm", 16));
    CHECK(split("k0") == std::pair<std::string, int>("k", 0));
    CHECK(split("pkru") == std::pair<std::string, int>("pkru", -1));
    CHECK(split("123") == std::pair<std::string, int>("123", -1));
    CHECK(split("x99999999999") == std::pair<std::string, int>("x99999999999", -1));   // no int: not split
}
