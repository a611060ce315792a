#include "helpers.hpp"
#include "inline_profiles.hpp"
#include "xsave/assemble.hpp"
#include "xsave/convert.hpp"
#include "xsave/import.hpp"
#include "xsave/random_state.hpp"
#include "xsave/decode.hpp"
#include "xsave/error.hpp"

#include <catch2/catch.hpp>

#include <random>

using namespace xsave;

namespace {
std::string dump_json(const std::vector<uint8_t>& b, const CpuModel& cpu) {
    return to_json(decode(read_image(b, cpu), cpu)).dump();
}
} // namespace

TEST_CASE("assemble(dump(x)) == x for the WHPX buffer, with and without trailing bytes") {
    CpuModel cpu(testing::epyc_host());
    auto b = testing::read_bytes(testing::data_path("whpx-832.bin"));
    CHECK(assemble(dump_json(b, cpu)) == b);
    b.insert(b.end(), {0xde, 0xad, 0, 0, 0xbe, 0xef, 0, 0, 0, 0, 0, 1});
    CHECK(assemble(dump_json(b, cpu)) == b);
}

TEST_CASE("assemble(dump(x)) == x for random areas, garbage in init components and reserved bytes included") {
    CpuModel cpu(testing::epyc_host());
    std::mt19937_64 rng(7);
    for (int n = 0; n < 300; ++n) {
        bool compacted = n % 2;
        uint64_t mask = compacted ? (rng() & 0xE7) | 3 : 0xE7;
        std::vector<uint8_t> b(compacted ? cpu.compacted(mask).total_size : 2432);
        for (auto& x : b) x = uint8_t(rng() % 3 == 0 ? rng() : 0);
        store_le(&b[512], rng() & (compacted ? mask : 0xE7), 8);
        store_le(&b[520], compacted ? (mask | kCompactedBit) : 0, 8);
        INFO("case " << n);
        REQUIRE(assemble(dump_json(b, cpu)) == b);
    }
}

TEST_CASE("an edited register is written and its component marked in use") {
    CpuModel cpu(testing::epyc_host());
    auto b = testing::read_bytes(testing::data_path("whpx-832.bin"));
    auto j = to_json(decode(read_image(b, cpu), cpu));
    j["registers"]["ymm3"] = "0x00000000000000000000000000000001" "00007f34c8676a3c00007f34c8657dd0";
    auto out = assemble(j.dump());
    REQUIRE(out.size() == 832);
    CHECK(load_le(&out[512], 8) == 0x7);             // AVX now in use
    CHECK(out[576 + 3 * 16] == 1);                   // ymmh3 low byte at AVX offset 576
    CHECK(std::equal(out.begin(), out.begin() + 512, b.begin()));   // xmm3 unchanged
    // Editing xmm5 alone is not undone by the unchanged ymm5 in the same JSON.
    j = to_json(decode(read_image(b, cpu), cpu));
    j["registers"]["xmm5"] = "0x1";
    out = assemble(j.dump());
    CHECK(load_le(&out[160 + 5 * 16], 8) == 1);
    CHECK(load_le(&out[512], 8) == 0x3);
}

TEST_CASE("malformed state JSON is refused with the path at fault") {
    CHECK_THROWS_WITH(assemble("{\"format\": \"standard\""), "state JSON: not valid JSON at line 1, column 22: syntax error while parsing object - unexpected end of input; expected '}'");
    CHECK_THROWS_WITH(assemble("[]"), "state JSON: (top level): expected an object as `xsavetool dump --json` writes");
    CHECK_THROWS_WITH(assemble(R"({"format":"standard","size":4294967296})"), "state JSON: size: 4294967296 is outside 576..1048576");
    CHECK_THROWS_WITH(assemble(R"({"format":"standard","size":832,"components":[{"bit":2,"offset":576,"size":512}]})"),
                      "state JSON: components[0]: offset 576 + size 512 runs past the 832-byte area");
    CHECK_THROWS_WITH(assemble(R"({"format":"compacted","size":832,"components":[],"xstate_bv":"0x3","xcomp_bv":"0x7"})"),
                      "state JSON: xcomp_bv: 0x7 does not match format \"compacted\" (bit 63 marks the compacted form)");
    CHECK_THROWS_WITH(assemble(R"({"format":"standard","size":576,"components":[],"xstate_bv":"0x0","xcomp_bv":0,"registers":{"zmm3":"0x1"}})"),
                      "state JSON: registers.zmm3: needs SSE, AVX, ZMM_Hi256 in the layout");
    CHECK_THROWS_WITH(assemble(R"({"format":"standard","size":576,"components":[{"bit":1,"offset":160,"size":256,"fields":{"xmm0":"0xzz"}}],"xstate_bv":"0x2","xcomp_bv":0})"),
                      "state JSON: components[0].fields.xmm0: 'z' is not a hex digit");
}

TEST_CASE("assemble(dump(x)) == x for random states of every corpus CPU, standard and compacted") {
    if (!testing::have_shared()) SKIP_TEST("../shared/corpus is not here");
    size_t profiles = 0;
    for (const auto& e : std::filesystem::directory_iterator(testing::shared_path("corpus/cpuid-aida64"))) {
        CpuModel cpu(import_profile(testing::read_text(e.path().string()), {0, e.path().filename().string()}));
        uint64_t xcr0 = cpu.enabled_xcr0();
        // MPX and APX share space: a standard layout holds one of them.
        if (xcr0 >> 19 & 1) xcr0 &= ~0x18ull;
        ++profiles;
        for (uint64_t seed = 1; seed <= 5; ++seed) {
            INFO(e.path().filename().string() << " seed " << seed);
            auto s = random_standard_state(cpu, xcr0, seed);
            REQUIRE(assemble(dump_json(s, cpu)) == s);
            if (!cpu.has_xsavec()) continue;
            auto c = to_compacted(read_image(s, cpu), cpu, xcr0 | kCompactedBit).bytes;
            REQUIRE(assemble(dump_json(c, cpu)) == c);
        }
    }
    CHECK(profiles == 33);
}

TEST_CASE("JSON numbers that overflow are one-line errors, not escaping exceptions") {
    CHECK_THROWS_WITH(assemble(R"({"size": 1e999})"), "state JSON: not valid JSON: number overflow parsing '1e999'");
    CHECK_THROWS_WITH(profile_from_json(R"({"leaves": [], "xcr0": 1e999})"), "profile: not valid JSON: number overflow parsing '1e999'");
}

TEST_CASE("an edit in a component's fields takes effect although the registers map still holds the old value") {
    CpuModel cpu(testing::epyc_host());
    auto b = testing::read_bytes(testing::data_path("whpx-832.bin"));
    auto j = to_json(decode(read_image(b, cpu), cpu));
    REQUIRE(j["components"][1]["name"] == "SSE");
    j["components"][1]["fields"]["xmm3"] = "0x0102030405060708090a0b0c0d0e0f10";
    auto out = assemble(j.dump());
    CHECK(load_le(&out[160 + 3 * 16], 8) == 0x090a0b0c0d0e0f10ull);
    CHECK(load_le(&out[160 + 3 * 16 + 8], 8) == 0x0102030405060708ull);
    CHECK(load_le(&out[512], 8) == 0x3);
    // Everything else as it was.
    out[160 + 3 * 16] = b[160 + 3 * 16];
    CHECK(std::equal(out.begin() + 160 + 3 * 16 + 16, out.end(), b.begin() + 160 + 3 * 16 + 16));
}

TEST_CASE("two edits of one register that disagree are refused, naming both places") {
    CpuModel cpu(testing::epyc_host());
    auto b = testing::read_bytes(testing::data_path("whpx-832.bin"));
    auto j = to_json(decode(read_image(b, cpu), cpu));
    j["components"][1]["fields"]["xmm3"] = "0x1";
    j["registers"]["ymm3"] = "0x2";
    CHECK_THROWS_WITH(assemble(j.dump()),
                      "state JSON: components[1].fields.xmm3 and registers.ymm3 disagree (two different edits): edit one place, or every place alike");
    // The same edit in every place is one edit.
    j = to_json(decode(read_image(b, cpu), cpu));
    j["components"][1]["fields"]["xmm3"] = "0x2";
    j["registers"]["xmm3"] = "0x2";
    j["registers"]["ymm3"] = "0x2";
    auto out = assemble(j.dump());
    CHECK(load_le(&out[160 + 3 * 16], 8) == 2);
    CHECK(load_le(&out[160 + 3 * 16 + 8], 8) == 0);
}

TEST_CASE("xstate_bv edits are honoured, never by silently dropping state") {
    CpuModel cpu(testing::epyc_host());
    auto b = testing::read_bytes(testing::data_path("whpx-832.bin"));
    auto j = to_json(decode(read_image(b, cpu), cpu));
    // AVX (init, all zero) set in use: the result says so, its bytes zero.
    j["xstate_bv"] = "0x7";
    auto out = assemble(j.dump());
    CHECK(load_le(&out[512], 8) == 0x7);
    CHECK(std::all_of(out.begin() + 576, out.begin() + 832, [](uint8_t x) { return x == 0; }));
    // SSE cleared while XMM registers hold values: their state would be lost.
    j = to_json(decode(read_image(b, cpu), cpu));
    j["xstate_bv"] = "0x1";
    CHECK_THROWS_WITH(assemble(j.dump()),
                      Catch::StartsWith("state JSON: xstate_bv 0x1 puts SSE (bit 1) in its initial state, but components[1].fields.mxcsr holds "
                                        "0x00001fa0, not its initial value"));
    // Cleared with the fields set to their initial values: SSE becomes init.
    for (auto& [name, v] : j["components"][1]["fields"].items())
        if (name.rfind("xmm", 0) == 0) v = "0x0";
    for (auto& [name, v] : j["registers"].items())
        if (name.rfind("xmm", 0) == 0 || name.rfind("ymm", 0) == 0) v = "0x0";
    j["components"][1]["fields"]["mxcsr"] = "0x1f80";
    j["registers"]["mxcsr"] = "0x1f80";
    out = assemble(j.dump());
    CHECK(load_le(&out[512], 8) == 0x1);
}

TEST_CASE("a hand-written document without digests: places that disagree are an error") {
    CpuModel cpu(testing::epyc_host());
    auto b = testing::read_bytes(testing::data_path("whpx-832.bin"));
    auto j = to_json(decode(read_image(b, cpu), cpu));
    for (auto& c : j["components"]) c.erase("digest");
    j["components"][1]["fields"]["xmm3"] = "0x1";
    j["registers"].erase("ymm3");
    CHECK_THROWS_WITH(assemble(j.dump()),
                      "state JSON: components[1].fields.xmm3 and registers.xmm3 disagree (no digest tells which was edited): "
                      "edit one place, or every place alike");
    j["registers"].erase("xmm3");
    CHECK(load_le(&assemble(j.dump())[160 + 3 * 16], 8) == 1);
}
