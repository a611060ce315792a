// The C API (xsave.h): handles, statuses and messages, and the same answers as the C++ library.
#include "helpers.hpp"
#include "xsave.h"
#include "xsave/image.hpp"

#include <catch2/catch.hpp>

#include <cstring>
#include <string>

using testing::data_path;
using testing::read_bytes;

namespace {

struct Model {
    xsave_model* m = nullptr;
    explicit Model(const std::string& spec) {
        xsave_error* err = nullptr;
        REQUIRE(xsave_model_load(spec.c_str(), &m, &err) == XSAVE_OK);
        REQUIRE(err == nullptr);
    }
    ~Model() { xsave_model_free(m); }
};

struct Input {
    xsave_input* in = nullptr;
    Input(const std::vector<uint8_t>& b, const Model& model) {
        xsave_error* err = nullptr;
        xsave_status s = xsave_open(b.data(), b.size(), model.m, nullptr, &in, &err);
        INFO((err ? xsave_error_message(err) : ""));
        REQUIRE(s == XSAVE_OK);
    }
    ~Input() { xsave_input_free(in); }
};

// A Sapphire Rapids standard area (XCR0 0x602e7) with PKRU and AMX TILECFG in use.
std::vector<uint8_t> spr_area(const Model& spr) {
    std::vector<uint8_t> b(xsave_model_standard_size(spr.m));
    xsave::store_le(&b[24], 0x1f80, 4);
    xsave::store_le(&b[512], 0x20203, 8);          // x87, SSE, PKRU, TILECFG
    xsave::store_le(&b[0xa80], 0x55555554, 4);     // PKRU at its Intel offset
    b[0xac0] = 1;                                  // TILECFG palette 1
    xsave::store_le(&b[160 + 3 * 16], 0x1122334455667788ull, 8);   // xmm3
    return b;
}

} // namespace

TEST_CASE("C API: version, models and a bad profile", "[c_api][widths]") {
    CHECK(std::string(xsave_version()) == "0.1.0");
    Model spr("sapphire-rapids");
    CHECK(xsave_model_xcr0(spr.m) == 0x602e7);
    CHECK(xsave_model_standard_size(spr.m) == 11008);

    xsave_model* m = nullptr;
    xsave_error* err = nullptr;
    CHECK(xsave_model_load("no-such-cpu", &m, &err) == XSAVE_E_INPUT);
    REQUIRE(err != nullptr);
    CHECK_THAT(xsave_error_message(err), Catch::Contains("no-such-cpu"));
    xsave_error_free(err);
    CHECK(m == nullptr);
    CHECK(xsave_model_load(nullptr, &m, nullptr) == XSAVE_E_ARGUMENT);   // err may be NULL
}

TEST_CASE("C API: open, read registers, JSON", "[c_api][widths]") {
    Model spr("sapphire-rapids");
    auto bytes = spr_area(spr);
    Input in(bytes, spr);
    REQUIRE(xsave_input_count(in.in) == 1);
    int has_id = 1;
    CHECK(xsave_area_id(in.in, 0, &has_id) == 0);
    CHECK(has_id == 0);
    size_t size = 0;
    CHECK(xsave_area_bytes(in.in, 0, &size) != nullptr);
    CHECK(size == 11008);

    uint8_t buf[64] = {};
    size_t width = 0;
    xsave_error* err = nullptr;
    REQUIRE(xsave_area_register(in.in, 0, "pkru", buf, sizeof buf, &width, &err) == XSAVE_OK);
    CHECK(width == 4);
    CHECK(xsave::load_le(buf, 4) == 0x55555554);
    REQUIRE(xsave_area_register(in.in, 0, "xmm3", buf, sizeof buf, &width, &err) == XSAVE_OK);
    CHECK(width == 16);
    CHECK(xsave::load_le(buf, 8) == 0x1122334455667788ull);
    CHECK(xsave_area_register(in.in, 0, "xmm3", buf, 8, &width, &err) == XSAVE_E_ARGUMENT);
    CHECK(std::string(xsave_error_message(err)) == "xmm3: needs 16 bytes, the buffer has 8");
    xsave_error_free(err);
    CHECK(xsave_area_register(in.in, 0, "zmm40", buf, sizeof buf, &width, &err) == XSAVE_E_NOT_FOUND);
    CHECK(std::string(xsave_error_message(err)) == "no register 'zmm40' in this area's layout");
    xsave_error_free(err);
    CHECK(xsave_area_register(in.in, 5, "xmm3", buf, sizeof buf, &width, nullptr) == XSAVE_E_ARGUMENT);

    char* json = nullptr;
    REQUIRE(xsave_area_json(in.in, 0, &json, nullptr) == XSAVE_OK);
    std::string j(json);
    xsave_free(json);
    CHECK_THAT(j, Catch::Contains("\"pkru\": \"0x55555554\""));
    CHECK_THAT(j, Catch::Contains("\"xstate_bv\": \"0x20203\""));

    xsave_input* bad = nullptr;
    uint8_t junk[10] = {};
    CHECK(xsave_open(junk, sizeof junk, spr.m, "raw", &bad, &err) == XSAVE_E_INPUT);
    CHECK(std::string(xsave_error_message(err)) == "10 bytes: too short for an XSAVE area, which needs at least 576 (legacy region 0..511, header 512..575)");
    xsave_error_free(err);
}

TEST_CASE("C API: convert refuses to drop in-use AMX state unless asked, and moves PKRU", "[c_api][widths]") {
    Model spr("sapphire-rapids"), genoa("zen4-genoa");
    Input in(spr_area(spr), spr);
    uint8_t* out = nullptr;
    size_t out_size = 0;
    xsave_error* err = nullptr;
    CHECK(xsave_convert(in.in, 0, genoa.m, XSAVE_FORM_STANDARD, 0, &out, &out_size, &err) == XSAVE_E_LOSS);
    CHECK_THAT(xsave_error_message(err), Catch::Contains("AMX TILECFG") && Catch::Contains("--drop"));
    xsave_error_free(err);
    CHECK(out == nullptr);

    REQUIRE(xsave_convert(in.in, 0, genoa.m, XSAVE_FORM_STANDARD, 1u << 17, &out, &out_size, &err) == XSAVE_OK);
    CHECK(out_size == xsave_model_standard_size(genoa.m));
    CHECK(xsave::load_le(out + 0x980, 4) == 0x55555554);   // PKRU at AMD's offset
    CHECK(xsave::load_le(out + 512, 8) == 0x203);          // TILECFG dropped, as asked
    xsave_free(out);

    REQUIRE(xsave_convert(in.in, 0, genoa.m, XSAVE_FORM_COMPACTED, 1u << 17, &out, &out_size, &err) == XSAVE_OK);
    CHECK(xsave::load_le(out + 520, 8) == (0x80000000000002e7ull));
    xsave_free(out);
}

TEST_CASE("C API: a converter made once gives what xsave_convert gives, per buffer", "[c_api][widths]") {
    Model spr("sapphire-rapids"), genoa("zen4-genoa");
    xsave_converter* c = nullptr;
    xsave_error* err = nullptr;
    REQUIRE(xsave_converter_new(spr.m, XSAVE_FORM_STANDARD, 0, genoa.m, XSAVE_FORM_STANDARD, 0, 1u << 17, &c, &err) == XSAVE_OK);
    CHECK(xsave_converter_input_size(c) == 11008);
    CHECK(xsave_converter_output_size(c) == xsave_model_standard_size(genoa.m));
    auto bytes = spr_area(spr);
    Input in(bytes, spr);
    uint8_t* want = nullptr;
    size_t want_size = 0;
    REQUIRE(xsave_convert(in.in, 0, genoa.m, XSAVE_FORM_STANDARD, 1u << 17, &want, &want_size, &err) == XSAVE_OK);
    std::vector<uint8_t> out(xsave_converter_output_size(c), 0xA5);
    size_t written = 0;
    REQUIRE(xsave_converter_run(c, bytes.data(), bytes.size(), out.data(), out.size(), &written, &err) == XSAVE_OK);
    CHECK(written == want_size);
    CHECK(std::equal(out.begin(), out.end(), want));
    CHECK(xsave::load_le(out.data() + 0x980, 4) == 0x55555554);
    xsave_free(want);

    // An output too small, and a compacted area given to a standard converter: errors, one line each.
    CHECK(xsave_converter_run(c, bytes.data(), bytes.size(), out.data(), 100, &written, &err) == XSAVE_E_INPUT);
    CHECK(std::string(xsave_error_message(err)) == "output buffer of 100 bytes; the standard result needs 2440");
    xsave_error_free(err);
    xsave::store_le(&bytes[520], 0x80000000000202e7ull, 8);
    CHECK(xsave_converter_run(c, bytes.data(), bytes.size(), out.data(), out.size(), &written, &err) == XSAVE_E_INPUT);
    CHECK_THAT(xsave_error_message(err), Catch::Contains("XCOMP_BV 0x80000000000202e7 does not match"));
    xsave_error_free(err);
    xsave_converter_free(c);

    // Without drop_mask the in-use TILECFG stops it, naming it.
    REQUIRE(xsave_converter_new(spr.m, XSAVE_FORM_STANDARD, 0, genoa.m, XSAVE_FORM_STANDARD, 0, 0, &c, &err) == XSAVE_OK);
    bytes = spr_area(spr);
    CHECK(xsave_converter_run(c, bytes.data(), bytes.size(), out.data(), out.size(), &written, &err) == XSAVE_E_LOSS);
    CHECK_THAT(xsave_error_message(err), Catch::Contains("AMX TILECFG"));
    xsave_error_free(err);
    xsave_converter_free(c);
}

TEST_CASE("C API: run_many converts every buffer as run does, and names the one at fault", "[c_api][widths]") {
    Model spr("sapphire-rapids"), genoa("zen4-genoa");
    xsave_converter* c = nullptr;
    xsave_error* err = nullptr;
    REQUIRE(xsave_converter_new(spr.m, XSAVE_FORM_STANDARD, 0, genoa.m, XSAVE_FORM_STANDARD, 0, 1u << 17, &c, &err) == XSAVE_OK);
    const auto bytes = spr_area(spr);
    const size_t out_size = xsave_converter_output_size(c);
    std::vector<uint8_t> want(out_size);
    size_t want_size = 0;
    REQUIRE(xsave_converter_run(c, bytes.data(), bytes.size(), want.data(), want.size(), &want_size, &err) == XSAVE_OK);
    // 70 buffers: more than one of the parts the call works in (32).
    std::vector<std::vector<uint8_t>> outs(70, std::vector<uint8_t>(out_size, 0xA5));
    std::vector<xsave_converter_item> items;
    for (auto& o : outs) items.push_back({bytes.data(), bytes.size(), o.data(), o.size(), 0});
    size_t failed = 99;
    REQUIRE(xsave_converter_run_many(c, items.data(), items.size(), &failed, &err) == XSAVE_OK);
    CHECK(failed == 99);
    for (size_t i = 0; i < items.size(); ++i) {
        CAPTURE(i);
        CHECK(items[i].written == want_size);
        CHECK(outs[i] == want);
    }
    CHECK(xsave_converter_run_many(c, nullptr, 0, &failed, &err) == XSAVE_OK);

    // Buffer 40 (in the second part) too short: 0..39 converted, 41.. untouched.
    std::vector<std::vector<uint8_t>> outs2(50, std::vector<uint8_t>(out_size, 0xA5));
    for (size_t i = 0; i < items.size() && i < 50; ++i) items[i] = {bytes.data(), i == 40 ? 1000 : bytes.size(), outs2[i].data(), out_size, 0};
    CHECK(xsave_converter_run_many(c, items.data(), 50, &failed, &err) == XSAVE_E_INPUT);
    CHECK(failed == 40);
    CHECK(std::string(xsave_error_message(err)) == "buffer 40: 1000 bytes: the converter's standard source layout 0x602e7 needs 11008");
    xsave_error_free(err);
    CHECK(items[39].written == want_size);
    CHECK(outs2[39] == want);
    CHECK(items[40].written == 0);
    CHECK(items[41].written == 0);
    CHECK(std::all_of(outs2[41].begin(), outs2[41].end(), [](uint8_t b) { return b == 0xA5; }));
    items[3].out = nullptr;
    CHECK(xsave_converter_run_many(c, items.data(), 50, &failed, &err) == XSAVE_E_ARGUMENT);
    CHECK(failed == 3);
    xsave_error_free(err);
    xsave_converter_free(c);

    // A loss is XSAVE_E_LOSS, naming the buffer.
    REQUIRE(xsave_converter_new(spr.m, XSAVE_FORM_STANDARD, 0, genoa.m, XSAVE_FORM_STANDARD, 0, 0, &c, &err) == XSAVE_OK);
    std::vector<xsave_converter_item> one{{bytes.data(), bytes.size(), outs[0].data(), out_size, 0}};
    CHECK(xsave_converter_run_many(c, one.data(), 1, &failed, &err) == XSAVE_E_LOSS);
    CHECK(failed == 0);
    CHECK_THAT(xsave_error_message(err), Catch::StartsWith("buffer 0: AMX TILECFG"));
    xsave_error_free(err);
    xsave_converter_free(c);
}

TEST_CASE("C API: check gives the rules' verdict", "[c_api][widths]") {
    Model host(data_path("profiles/host-epyc.json"));
    Input good(read_bytes(data_path("whpx-832.bin")), host);
    char* report = nullptr;
    CHECK(xsave_check(good.in, 0, host.m, XSAVE_TARGET_WHPX, &report, nullptr) == XSAVE_OK);
    CHECK(report == nullptr);

    Input cleared(read_bytes(data_path("check/whpx-832-xcomp-cleared.bin")), host);
    REQUIRE(xsave_check(cleared.in, 0, host.m, XSAVE_TARGET_WHPX, &report, nullptr) == XSAVE_REJECTED);
    REQUIRE(report != nullptr);
    CHECK_THAT(report, Catch::StartsWith("compacted-form: "));
    xsave_free(report);
}
