#include "xsave/components.hpp"

#include <catch2/catch.hpp>

using namespace xsave;

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
    CHECK(component_mask_from_name("18") == 1u << 18);
    CHECK(component_mask_from_name("bit19") == 1u << 19);
    CHECK(component_mask_from_name("avx512") == 0xe0);
    CHECK(component_mask_from_name("nonsense") == 0);
    CHECK(mask_names(0x8000000000000007ull) == "x87|SSE|AVX|compacted");
    CHECK(mask_names(0) == "none");
}
