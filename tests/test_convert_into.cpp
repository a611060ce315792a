// The allocation-free forms: a view over the caller's bytes and conversions into the caller's
// buffer must give exactly what read_image and the allocating conversions give.
#include "helpers.hpp"
#include "inline_profiles.hpp"

#include "xsave/components.hpp"
#include "xsave/convert.hpp"
#include "xsave/error.hpp"
#include "xsave/image.hpp"
#include "xsave/random_state.hpp"

#include <catch2/catch.hpp>
#include <cstring>
#include <span>
#include <thread>

using namespace xsave;

namespace {

using testing::poisoned;

// Shapes of a Sapphire Rapids area (XCR0 0x602E7) in turn, each twice (the second conversion
// finds the plan the first made): AMX in use, then not; then SSE not in use with MXCSR 0x1FA0,
// which XSAVEC carries by setting XSTATE_BV[1] and XSAVE does not.
constexpr uint64_t kShapesTwice[] = {0x602E7, 0x602E7, 0x2E3, 0x2E3, 0x2E5, 0x2E5};

// An area of shape `bv` (MXCSR 0x1FA0 for 0x2E5) in form `f`.
std::vector<uint8_t> shaped_area(const CpuModel& spr, uint64_t bv, uint64_t seed, Format f) {
    auto s = random_standard_state(spr, 0x602E7, seed, {.xstate_bv = bv});
    if (bv == 0x2E5) store_le(&s[24], 0x1FA0, 4);
    if (f == Format::Compacted) s = to_compacted(inspect_area(s, spr, {0x602E7}), spr, 0x602E7).bytes;
    return s;
}

// run_many over `n` poisoned outputs: each gets `want`, nothing after it, and its item the
// result's size and XSTATE_BV with nothing dropped.
void run_many_gives(const Converter& c, std::span<const uint8_t> in, const std::vector<uint8_t>& want, uint64_t xstate_bv,
                    size_t n) {
    std::vector<std::vector<uint8_t>> outs(n, poisoned(want.size() + 128));
    std::vector<ConvertItem> items;
    for (auto& o : outs) items.push_back({in, o});
    c.run_many(items);
    for (size_t i = 0; i < n; ++i) {
        CAPTURE(i);
        CHECK(std::equal(want.begin(), want.end(), outs[i].begin()));
        CHECK(std::all_of(outs[i].begin() + long(want.size()), outs[i].end(), [](uint8_t b) { return b == 0xA5; }));
        CHECK(items[i].size == want.size());
        CHECK(items[i].xstate_bv == xstate_bv);
        CHECK(items[i].dropped == 0);
    }
}

} // namespace

TEST_CASE("inspect_area reads the caller's bytes in place, as read_image does", "[widths]") {
    CpuModel cpu(testing::epyc_host());
    const auto whpx = testing::read_bytes(testing::data_path("whpx-832.bin"));
    std::vector<std::string> notes;
    AreaView v = inspect_area(whpx, cpu, {}, &notes);
    CHECK(v.bytes.data() == whpx.data());
    CHECK(v.format == Format::Compacted);
    CHECK(v.xstate_bv == 0x3);
    CHECK(v.xcomp_bv == 0x8000000000000007ull);
    CHECK(v.layout->total_size == 832);
    CHECK(notes.empty());

    // QEMU's 832-byte standard buffer: the same note as read_image.
    auto std832 = whpx;
    store_le(&std832[kXcompBvOffset], 0, 8);
    v = inspect_area(std832, cpu, {}, &notes);
    Image img = read_image(std832, cpu);
    CHECK(v.layout == img.layout);
    CHECK(v.layout->mask == 0x7);
    REQUIRE(notes.size() == 1);
    CHECK(notes == img.notes);

    std::vector<uint8_t> short_area(575, 0);
    CHECK_THROWS_WITH(inspect_area(short_area, cpu),
                      "575 bytes: too short for an XSAVE area, which needs at least 576 (legacy region 0..511, header 512..575)");
}

TEST_CASE("conversions into the caller's buffer write every byte once and equal the allocating forms", "[widths]") {
    CpuModel spr(testing::sapphire_rapids()), genoa(testing::genoa());
    for (uint64_t seed = 1; seed <= 40; ++seed) {
        // Varying XSTATE_BV leaves components in init state, to be written as zeros.
        uint64_t bv = (0x602E7 & (seed * 0x9E3779B97F4A7C15ull >> 20)) | (seed & 1);
        auto s = random_standard_state(spr, 0x602E7, seed, {.xstate_bv = bv});
        AreaView v = inspect_area(s, spr);
        auto cmp = to_compacted(v, spr, 0x602E7);
        auto buf = poisoned(cmp.size + 16);
        auto into = to_compacted_into(v, spr, 0x602E7, buf);
        CAPTURE(seed, bv);
        REQUIRE(into.size == cmp.bytes.size());
        CHECK(into.bytes.empty());
        CHECK(std::equal(cmp.bytes.begin(), cmp.bytes.end(), buf.begin()));
        CHECK(std::all_of(buf.begin() + into.size, buf.end(), [](uint8_t b) { return b == 0xA5; }));
        CHECK(into.xstate_bv == cmp.xstate_bv);

        AreaView c = inspect_area(cmp.bytes, spr);
        auto back = poisoned(s.size());
        auto st = to_standard_into(c, spr, back);
        CHECK(st.size == s.size());
        CHECK(back == to_standard(c, spr).bytes);

        ConvertOptions drop_amx;
        drop_amx.drop = 0x60000;
        auto g = poisoned(0x988);
        auto r = relayout_into(v, spr, genoa, Format::Standard, g, drop_amx);
        CHECK(r.size == 0x988);
        CHECK(g == relayout(v, spr, genoa, Format::Standard, drop_amx).bytes);
    }
}

TEST_CASE("a Converter made once gives, per buffer, exactly what the *_into forms give", "[widths]") {
    CpuModel spr(testing::sapphire_rapids()), genoa(testing::genoa());
    const Layout& std_spr = spr.standard(0x602E7);
    const Layout& cmp_spr = spr.compacted(0x602E7);
    Converter compact(spr, std_spr, spr, cmp_spr);
    Converter standard(spr, cmp_spr, spr, std_spr);
    ConvertOptions drop_amx;
    drop_amx.drop = 0x60000;
    Converter migrate(spr, std_spr, genoa, genoa.standard(0x2E7), drop_amx);
    CHECK(migrate.target().total_size == 0x988);
    for (uint64_t seed = 1; seed <= 40; ++seed) {
        uint64_t bv = (0x602E7 & (seed * 0x9E3779B97F4A7C15ull >> 20)) | (seed & 1);
        auto s = random_standard_state(spr, 0x602E7, seed, {.xstate_bv = bv});
        CAPTURE(seed, bv);
        AreaView v = inspect_area(s, spr);
        auto want = to_compacted(v, spr, 0x602E7);
        auto got = poisoned(want.size + 16);
        auto r = compact.run(s, got);
        REQUIRE(r.size == want.size);
        CHECK(std::equal(want.bytes.begin(), want.bytes.end(), got.begin()));
        CHECK(got[want.size] == 0xA5);
        CHECK(r.xcomp_bv == want.xcomp_bv);

        auto back = poisoned(s.size());
        CHECK(standard.run(want.bytes, back).size == s.size());
        CHECK(back == to_standard(inspect_area(want.bytes, spr), spr).bytes);

        auto g = poisoned(0x988);
        auto m = migrate.run(s, g);
        CHECK(m.dropped == (bv & 0x60000));
        CHECK(g == relayout(v, spr, genoa, Format::Standard, drop_amx).bytes);
    }
}

TEST_CASE("a Converter refuses buffers of another shape and layouts of another model", "[widths]") {
    CpuModel spr(testing::sapphire_rapids()), genoa(testing::genoa());
    Converter compact(spr, spr.standard(0x2E7), spr, spr.compacted(0x2E7));
    auto s = random_standard_state(spr, 0x2E7, 7);
    auto out = poisoned(4096);
    CHECK_THROWS_WITH(compact.run(std::span(s).first(1000), out),
                      "1000 bytes: the converter's standard source layout 0x2e7 needs 2696");
    auto c = to_compacted(inspect_area(s, spr, {0x2E7}), spr, 0x2E7).bytes;
    c.resize(2696);   // long enough: the header is what gives it away
    CHECK_THROWS_WITH(compact.run(c, out),
                      "offset 0x208: XCOMP_BV 0x80000000000002e7 does not match the converter's standard source layout 0x2e7");
    CHECK(std::all_of(out.begin(), out.end(), [](uint8_t b) { return b == 0xA5; }));
    CHECK_THROWS_WITH(Converter(spr, genoa.standard(0x7), spr, spr.compacted(0x7)),
                      "converter: the source layout (standard 0x7) is not one of its CPU model's");
    // In-use MPX that Genoa lacks: refused unless dropped.
    CpuModel skx(testing::skylake_sp());
    Converter to_genoa(skx, skx.standard(0x2FF), genoa, genoa.standard(0x2E7));
    auto mpx = random_standard_state(skx, 0x2FF, 9, {.xstate_bv = 0xFF});
    CHECK_THROWS_AS(to_genoa.run(mpx, out), LossError);
    ConvertOptions drop_mpx;
    drop_mpx.drop = 0x18;
    CHECK(Converter(skx, skx.standard(0x2FF), genoa, genoa.standard(0x2E7), drop_mpx).run(mpx, out).dropped == 0x18);
}

TEST_CASE("a Converter's repeated runs (its short path) give what the first gives, and refuse what they must", "[widths]") {
    CpuModel spr(testing::sapphire_rapids()), genoa(testing::genoa()), skx(testing::skylake_sp());
    Converter compact(spr, spr.standard(0x2E7), spr, spr.compacted(0x2E7));
    Converter standard(spr, spr.compacted(0x2E7), spr, spr.standard(0x2E7));
    // Shapes in turn, each run twice: the second run of a shape finds the plan the first left.
    // 0x1 with MXCSR 0x1F80: no SSE in the compacted result, whose MXCSR_MASK then comes from the profile.
    for (uint64_t bv : {0x2E7ull, 0x7ull, 0x2E7ull, 0x1ull, 0x0ull, 0x7ull}) {
        CAPTURE(bv);
        auto s = random_standard_state(spr, 0x2E7, bv + 3, {.xstate_bv = bv});
        if (!(bv & 2)) {
            const uint32_t init = 0x1F80;
            std::memcpy(&s[24], &init, 4);
        }
        AreaView v = inspect_area(s, spr, {0x2E7});
        const auto want = to_compacted(v, spr, 0x2E7);
        const auto back = to_standard(inspect_area(want.bytes, spr), spr, {.xcr0 = 0x2E7});
        for (int round = 0; round < 2; ++round) {
            auto got = poisoned(want.size + 8);
            auto r = compact.run(s, got);
            CHECK(r.size == want.size);
            CHECK(r.xstate_bv == want.xstate_bv);
            CHECK(r.xcomp_bv == want.xcomp_bv);
            CHECK(r.layout == want.layout);
            CHECK(std::equal(want.bytes.begin(), want.bytes.end(), got.begin()));
            CHECK(got[want.size] == 0xA5);
            auto std_out = poisoned(back.size);
            CHECK(standard.run(want.bytes, std_out).size == back.size);
            CHECK(std_out == back.bytes);
        }
    }
    // After a good run, each of these leaves the short path and is refused as on a first run.
    auto s = random_standard_state(spr, 0x2E7, 5);
    auto out = poisoned(4096);
    compact.run(s, out);
    auto small = poisoned(2000);
    CHECK_THROWS_WITH(compact.run(s, small), "output buffer of 2000 bytes; the compacted result needs 2440");
    CHECK(std::all_of(small.begin(), small.end(), [](uint8_t b) { return b == 0xA5; }));
    auto odd = s;
    const uint64_t xcomp = 0x8000000000000007;
    std::memcpy(&odd[0x208], &xcomp, 8);
    CHECK_THROWS_WITH(compact.run(odd, out), "offset 0x208: XCOMP_BV 0x8000000000000007 does not match the converter's standard source layout 0x2e7");
    auto longer = s;
    longer.push_back(1);
    CHECK_THROWS_AS(compact.run(longer, out), LossError);
    Converter to_genoa(skx, skx.standard(0x2FF), genoa, genoa.standard(0x2E7));
    auto mpx = random_standard_state(skx, 0x2FF, 9, {.xstate_bv = 0xFF});
    for (int round = 0; round < 2; ++round) CHECK_THROWS_AS(to_genoa.run(mpx, out), LossError);
    ConvertOptions drop_mpx;
    drop_mpx.drop = 0x18;
    Converter dropping(skx, skx.standard(0x2FF), genoa, genoa.standard(0x2E7), drop_mpx);
    for (int round = 0; round < 2; ++round) CHECK(dropping.run(mpx, out).dropped == 0x18);
    // A copy starts from the plan the original last used, and gives the same bytes.
    Converter copy = compact;
    auto a = poisoned(4096), b = poisoned(4096);
    compact.run(s, a);
    copy.run(s, b);
    CHECK(a == b);
}

TEST_CASE("Converter::run_many gives each buffer what run() gives it, and stops at the first refusal", "[widths]") {
    CpuModel spr(testing::sapphire_rapids()), genoa(testing::genoa());
    ConvertOptions drop_amx;
    drop_amx.drop = 0x60000;
    // Sapphire Rapids -> Genoa, standard to compacted: AMX dropped where in use.
    Converter migrate(spr, spr.standard(0x602E7), genoa, genoa.compacted(0x2E7), drop_amx);
    std::vector<std::vector<uint8_t>> ins, want;
    std::vector<uint64_t> want_bv, want_dropped;
    // Runs of one shape, then others: the short path, and the plans found on the way.
    const uint64_t shapes[] = {0x602E7, 0x602E7, 0x602E7, 0x7, 0x7, 0x2E7, 0x1, 0x602E7, 0x0, 0x0};
    for (size_t i = 0; i < std::size(shapes); ++i) {
        ins.push_back(random_standard_state(spr, 0x602E7, 100 + i, {.xstate_bv = shapes[i]}));
        auto out = poisoned(4096);
        auto r = migrate.run(ins.back(), out);
        want.emplace_back(out.begin(), out.begin() + long(r.size));
        want_bv.push_back(r.xstate_bv);
        want_dropped.push_back(r.dropped);
    }
    CHECK(want_dropped[0] == 0x60000);
    CHECK(want_dropped[3] == 0);
    Converter fresh(spr, spr.standard(0x602E7), genoa, genoa.compacted(0x2E7), drop_amx);
    std::vector<std::vector<uint8_t>> outs(ins.size(), poisoned(4096));
    std::vector<ConvertItem> items;
    for (size_t i = 0; i < ins.size(); ++i) items.push_back({ins[i], outs[i]});
    fresh.run_many(items);
    for (size_t i = 0; i < ins.size(); ++i) {
        CAPTURE(i, shapes[i]);
        CHECK(items[i].size == want[i].size());
        CHECK(items[i].xstate_bv == want_bv[i]);
        CHECK(items[i].dropped == want_dropped[i]);
        CHECK(std::equal(want[i].begin(), want[i].end(), outs[i].begin()));
        CHECK(outs[i][want[i].size()] == 0xA5);
    }
    fresh.run_many({});   // nothing to do

    // A refusal: the buffers before it are done, the ones after it untouched.
    Converter strict(spr, spr.standard(0x602E7), genoa, genoa.compacted(0x2E7));
    std::vector<std::vector<uint8_t>> outs2(4, poisoned(4096));
    std::vector<ConvertItem> four;
    for (size_t i = 0; i < 4; ++i) four.push_back({ins[i == 2 ? 0 : 3], outs2[i]});   // buffer 2 has AMX in use
    CHECK_THROWS_AS(strict.run_many(four), LossError);
    try {
        strict.run_many(four);
    } catch (const LossError& e) {
        CHECK(std::string(e.what()).starts_with("buffer 2: AMX TILECFG (bit 17) and AMX TILEDATA (bit 18) are in use"));
    }
    CHECK(four[1].size == want[3].size());
    CHECK(std::equal(want[3].begin(), want[3].end(), outs2[1].begin()));
    CHECK(four[3].size == 0);
    CHECK(std::all_of(outs2[3].begin(), outs2[3].end(), [](uint8_t b) { return b == 0xA5; }));
    auto short_in = std::span(ins[3]).first(1000);
    std::vector<ConvertItem> bad{{ins[3], outs2[0]}, {short_in, outs2[1]}};
    CHECK_THROWS_WITH(strict.run_many(bad), "buffer 1: 1000 bytes: the converter's standard source layout 0x602e7 needs 11008");
}

TEST_CASE("a buffer too small for the result is an error naming the size needed, and is left alone", "[widths]") {
    CpuModel cpu(testing::epyc_host());
    const auto whpx = testing::read_bytes(testing::data_path("whpx-832.bin"));
    auto buf = poisoned(831);
    CHECK_THROWS_WITH(to_standard_into(inspect_area(whpx, cpu), cpu, buf),
                      "output buffer of 831 bytes; the standard result needs 832");
    CHECK(std::all_of(buf.begin(), buf.end(), [](uint8_t b) { return b == 0xA5; }));
    CHECK_THROWS_WITH(to_compacted_into(inspect_area(whpx, cpu), cpu, 0x7, {}),
                      "output buffer of 0 bytes; the compacted result needs 832");
}

TEST_CASE("layouts list their extended components in offset order", "[widths]") {
    CpuModel spr(testing::sapphire_rapids());
    const Layout& s = spr.standard(0x602E7);
    // Standard offsets on Sapphire Rapids: PKRU (bit 9) at 0xA80 comes after ZMM (bits 5-7).
    std::vector<unsigned> order(s.by_offset.begin(), s.by_offset.begin() + s.extended_count);
    CHECK(order == std::vector<unsigned>{2, 5, 6, 7, 9, 17, 18});
    for (unsigned i = 1; i < s.extended_count; ++i) CHECK(s.offset[s.by_offset[i - 1]] < s.offset[s.by_offset[i]]);
}

TEST_CASE("layout lookups from many threads agree with one another", "[widths]") {
    CpuModel cpu(testing::sapphire_rapids());
    const uint64_t masks[] = {0x3, 0x7, 0xE7, 0x2E7, 0x602E7, 0x20007, 0x40007, 0x207};
    std::vector<const Layout*> first;
    for (uint64_t m : masks) first.push_back(&cpu.compacted(m));
    std::atomic<int> wrong{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 20000; ++i) {
                size_t k = size_t(i * 7 + t) % std::size(masks);
                const Layout& L = cpu.compacted(masks[k]);
                if (&L != first[k] || L.mask != masks[k]) ++wrong;
                const Layout& S = cpu.standard(masks[k]);
                if (S.mask != (masks[k] | 3)) ++wrong;
            }
        });
    for (auto& th : threads) th.join();
    CHECK(wrong == 0);
}

TEST_CASE("a Converter's short path, for each source and target form, gives every field relayout_into gives", "[widths]") {
    // Sapphire Rapids -> Genoa keeps offsets in neither form; AMX in use is dropped as allowed.
    CpuModel spr(testing::sapphire_rapids()), genoa(testing::genoa());
    ConvertOptions drop_amx;
    drop_amx.drop = 0x60000;
    for (Format from : {Format::Standard, Format::Compacted})
        for (Format to : {Format::Standard, Format::Compacted}) {
            CAPTURE(format_name(from), format_name(to));
            const Layout& S = spr.layout(from, 0x602E7);
            const Layout& T = genoa.layout(to, 0x2E7);
            Converter c(spr, S, genoa, T, drop_amx);
            for (uint64_t bv : kShapesTwice) {   // AMX in use is dropped
                CAPTURE(bv);
                const auto s = shaped_area(spr, bv, bv + 17, from);
                const AreaView v = inspect_area(s, spr, {0x602E7});
                auto want = poisoned(T.total_size + 8), got = poisoned(T.total_size + 8);
                const auto w = relayout_into(v, spr, genoa, to, want, drop_amx);
                const auto r = c.run(s, got);
                CHECK(got == want);
                CHECK(r.size == w.size);
                CHECK(r.size == T.total_size);
                CHECK(r.layout == w.layout);
                CHECK(r.xstate_bv == w.xstate_bv);
                CHECK(r.xcomp_bv == w.xcomp_bv);
                CHECK(r.dropped == (bv & 0x60000));
                CHECK(r.dropped == w.dropped);
                CHECK(r.restored == 0);
                CHECK(r.trailing == 0);
                CHECK(r.bytes.empty());
                if (bv == 0x2E5) CHECK(r.xstate_bv == (to == Format::Compacted ? 0x2E7u : 0x2E5u));
            }
        }
}

TEST_CASE("a Converter that reads a sidecar puts it back on every run, as relayout does", "[widths]") {
    CpuModel spr(testing::sapphire_rapids()), genoa(testing::genoa());
    auto s = random_standard_state(spr, 0x602E7, 45, {.xstate_bv = 0x602E7});
    ConvertOptions o;
    o.drop = 0x60000;
    Sidecar side;
    o.sidecar_out = &side;
    auto g = relayout(read_image(s, spr), spr, genoa, Format::Standard, o);
    ConvertOptions back_o;
    back_o.sidecar_in = &side;
    Converter back(genoa, genoa.standard(0x2E7), spr, spr.standard(0x602E7), back_o);
    for (int round = 0; round < 3; ++round) {
        auto out = poisoned(s.size());
        auto r = back.run(g.bytes, out);
        CHECK(r.restored == 0x60000);
        CHECK(r.xstate_bv == 0x602E7);
        CHECK(out == s);
    }
}

TEST_CASE("the *_into forms' repeated calls (their short path) give every field the allocating forms give", "[widths]") {
    CpuModel spr(testing::sapphire_rapids()), genoa(testing::genoa());
    ConvertOptions drop_amx;
    drop_amx.drop = 0x60000;
    auto same = [](const ConvertResult& r, const ConvertResult& w, const std::vector<uint8_t>& got) {
        CHECK(std::equal(w.bytes.begin(), w.bytes.end(), got.begin()));
        CHECK(std::all_of(got.begin() + r.size, got.end(), [](uint8_t b) { return b == 0xA5; }));
        CHECK(r.size == w.bytes.size());
        CHECK(r.layout == w.layout);
        CHECK(r.xstate_bv == w.xstate_bv);
        CHECK(r.xcomp_bv == w.xcomp_bv);
        CHECK(r.dropped == w.dropped);
        CHECK(r.restored == 0);
        CHECK(r.trailing == 0);
        CHECK(r.bytes.empty());
    };
    for (Format from : {Format::Standard, Format::Compacted}) {
        CAPTURE(format_name(from));
        for (uint64_t bv : kShapesTwice) {
            CAPTURE(bv);
            const auto s = shaped_area(spr, bv, bv + 29, from);
            const AreaView v = inspect_area(s, spr, {0x602E7});
            for (Format to : {Format::Standard, Format::Compacted}) {
                CAPTURE(format_name(to));
                auto got = poisoned(0x3000);
                const auto w = relayout(v, spr, genoa, to, drop_amx);
                same(relayout_into(v, spr, genoa, to, got, drop_amx), w, got);
                CHECK(w.dropped == (bv & 0x60000));
            }
            auto got = poisoned(0x3000);
            same(to_compacted_into(v, spr, 0x602E7, got), to_compacted(v, spr, 0x602E7), got);
            got = poisoned(0x3000);
            same(to_standard_into(v, spr, got), to_standard(v, spr), got);
        }
    }
    // A standard layout is one per mask it holds: the short path names it by that mask.
    CHECK(&spr.standard(0x602E4) == &spr.standard(0x602E7));
}

TEST_CASE("the *_into forms' repeated calls still refuse, report and fill a sidecar as the first does", "[widths]") {
    CpuModel spr(testing::sapphire_rapids()), genoa(testing::genoa());
    const auto s = random_standard_state(spr, 0x602E7, 5, {.xstate_bv = 0x602E7});
    const AreaView v = inspect_area(s, spr);
    for (int round = 0; round < 2; ++round) {
        CAPTURE(round);
        auto out = poisoned(0x3000);
        // A loss not allowed.
        CHECK_THROWS_WITH(relayout_into(v, spr, genoa, Format::Standard, out),
                          "AMX TILECFG (bit 17) and AMX TILEDATA (bit 18) are in use but the target layout lacks them; "
                          "--drop tilecfg,tiledata discards them");
        // Allowed, into a sidecar: every call fills it.
        ConvertOptions o;
        o.drop = 0x60000;
        Sidecar side;
        o.sidecar_out = &side;
        CHECK(relayout_into(v, spr, genoa, Format::Standard, out, o).dropped == 0x60000);
        REQUIRE(side.components.size() == 2);
        CHECK(side.components[1].bytes.size() == 8192);
        // Trailing bytes: zeros are reported, others refused.
        auto padded = s;
        padded.resize(s.size() + 64, 0);
        const AreaView p = inspect_area(padded, spr);
        CHECK(to_compacted_into(p, spr, 0x602E7, out).trailing == 64);
        padded.back() = 1;
        CHECK_THROWS_AS(to_compacted_into(inspect_area(padded, spr), spr, 0x602E7, out), LossError);
        // A small output buffer.
        std::vector<uint8_t> small(600, 0xA5);
        CHECK_THROWS_WITH(to_compacted_into(v, spr, 0x602E7, small), "output buffer of 600 bytes; the compacted result needs 10752");
        CHECK(std::all_of(small.begin(), small.end(), [](uint8_t b) { return b == 0xA5; }));
    }
}

TEST_CASE("the *_into forms from many threads, over shapes that share the plan cache's slots, give what one thread gives", "[widths]") {
    CpuModel spr(testing::sapphire_rapids()), genoa(testing::genoa());
    ConvertOptions drop_amx;
    drop_amx.drop = 0x60000;
    // 24 XSTATE_BV values: more plans than the short path keeps apart in a few slots, so threads
    // replace one another's slots while they read them.
    std::vector<std::vector<uint8_t>> areas, compacted, relaid;
    for (uint64_t seed = 1; seed <= 24; ++seed) {
        const uint64_t bv = (0x602E7 & (seed * 0x9E3779B97F4A7C15ull >> 20)) | (seed & 1);
        areas.push_back(random_standard_state(spr, 0x602E7, seed, {.xstate_bv = bv}));
        const AreaView v = inspect_area(areas.back(), spr);
        compacted.push_back(to_compacted(v, spr, 0x602E7).bytes);
        relaid.push_back(relayout(v, spr, genoa, Format::Compacted, drop_amx).bytes);
    }
    std::atomic<int> wrong{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            std::vector<uint8_t> out(0x3000);
            for (int i = 0; i < 3000; ++i) {
                const size_t k = size_t(i * 5 + t * 7) % areas.size();
                const AreaView v = inspect_area(areas[k], spr);
                const auto c = to_compacted_into(v, spr, 0x602E7, out);
                if (c.size != compacted[k].size() || !std::equal(compacted[k].begin(), compacted[k].end(), out.begin())) ++wrong;
                const auto r = relayout_into(v, spr, genoa, Format::Compacted, out, drop_amx);
                if (r.size != relaid[k].size() || !std::equal(relaid[k].begin(), relaid[k].end(), out.begin())) ++wrong;
            }
        });
    for (auto& th : threads) th.join();
    CHECK(wrong == 0);
}

TEST_CASE("whole plans (every component in use, at the same offsets) give the general path's bytes by run, run_many and *_into", "[widths]") {
    // Genoa's standard and compacted layouts agree (AMD, no MPX gap): 576, 832 and 2432 bytes, a
    // multiple of 64, and 2440 with PKRU, where the last vector copied overlaps the one before.
    CpuModel genoa(testing::genoa());
    const std::pair<uint64_t, uint32_t> masks[] = {{0x3, 576}, {0x7, 832}, {0xE7, 2432}, {0x2E7, 2440}};
    for (const auto& shape : masks)
        for (Format from : {Format::Standard, Format::Compacted}) {
            // Not a structured binding: clang 14 cannot capture one in a lambda.
            const uint64_t mask = shape.first;
            const uint32_t size = shape.second;
            const Format to = from == Format::Standard ? Format::Compacted : Format::Standard;
            CAPTURE(mask, format_name(from));
            const Layout& S = genoa.layout(from, mask);
            const Layout& T = genoa.layout(to, mask);
            REQUIRE(S.total_size == size);
            REQUIRE(T.total_size == size);
            const Converter c(genoa, S, genoa, T);
            // MXCSR 0x1FA0 too: XSTATE_BV[1] is set in both forms, so the plan is the same one.
            for (uint32_t mxcsr : {0x1F80u, 0x1FA0u, 0x1F80u}) {
                CAPTURE(mxcsr);
                auto st = random_standard_state(genoa, mask, mask + mxcsr, {.xstate_bv = mask});
                store_le(&st[24], mxcsr, 4);
                const auto s = from == Format::Compacted ? to_compacted(inspect_area(st, genoa, {mask}), genoa, mask).bytes : st;
                const AreaView v = inspect_area(s, genoa, {mask});
                const ConvertResult want = to == Format::Compacted ? to_compacted(v, genoa, mask) : to_standard(v, genoa);
                REQUIRE(want.bytes.size() == size);
                CHECK(want.xstate_bv == mask);
                CHECK(load_le(&want.bytes[kXcompBvOffset], 8) == (to == Format::Compacted ? mask | kCompactedBit : 0));
                const auto same = [&](const std::vector<uint8_t>& got) {
                    return std::equal(want.bytes.begin(), want.bytes.end(), got.begin()) &&
                           std::all_of(got.begin() + size, got.end(), [](uint8_t b) { return b == 0xA5; });
                };
                for (int round = 0; round < 2; ++round) {   // the second finds the plan the first made
                    auto a = poisoned(size + 128), b = poisoned(size + 128);
                    const ConvertResult r = c.run(s, a);
                    CHECK(same(a));
                    CHECK(r.size == size);
                    CHECK(r.xstate_bv == mask);
                    CHECK(r.xcomp_bv == want.xcomp_bv);
                    CHECK(r.dropped == 0);
                    const ConvertResult q = to == Format::Compacted ? to_compacted_into(v, genoa, mask, b) : to_standard_into(v, genoa, b);
                    CHECK(same(b));
                    CHECK(q.size == size);
                    CHECK(q.xstate_bv == mask);
                    CHECK(q.xcomp_bv == want.xcomp_bv);
                }
                run_many_gives(c, s, want.bytes, mask, 3);
            }
        }
}

TEST_CASE("run_many's whole loop, for a tail after the header shorter and longer than a vector, gives relayout's bytes", "[widths]") {
    // Compacted Genoa -> compacted Sapphire Rapids: the same offsets, so whole. 0x203: 8 bytes
    // after the header (PKRU), under any vector; 0x207: 264, vectors and an overlapping last one.
    CpuModel genoa(testing::genoa()), spr(testing::sapphire_rapids());
    for (const auto& [mask, size] : {std::pair<uint64_t, uint32_t>{0x203, 584}, {0x207, 840}}) {
        CAPTURE(mask);
        const Layout& S = genoa.compacted(mask);
        const Layout& T = spr.compacted(mask);
        const Converter c(genoa, S, spr, T);
        const auto s = to_compacted(inspect_area(random_standard_state(genoa, mask, mask, {.xstate_bv = mask}), genoa, {mask}), genoa, mask).bytes;
        ConvertOptions opt;
        opt.xcomp_bv = mask;
        const ConvertResult want = relayout(inspect_area(s, genoa, {mask}), genoa, spr, Format::Compacted, opt);
        REQUIRE(want.bytes.size() == size);
        REQUIRE(load_le(&want.bytes[kXcompBvOffset], 8) == (mask | kCompactedBit));
        REQUIRE(load_le(&want.bytes[kXstateBvOffset], 8) == mask);
        run_many_gives(c, s, want.bytes, mask, 4);
    }
}

TEST_CASE("a Converter that learnt a whole in-use set still converts other sets by their plans, in turn", "[widths]") {
    // Genoa 0x2E7 standard -> compacted: every component in use is whole; x87 or AVX not in use
    // are not (zeros and FCW 0x037F). In turn, each twice, by run and by run_many.
    CpuModel genoa(testing::genoa());
    const Layout& S = genoa.standard(0x2E7);
    const Layout& T = genoa.compacted(0x2E7);
    const Converter c(genoa, S, genoa, T);
    const uint64_t shapes[] = {0x2E7, 0x2E7, 0x2E6, 0x2E6, 0x2E7, 0x2E3, 0x2E7, 0x2E3};
    std::vector<std::vector<uint8_t>> ins, want;
    for (size_t i = 0; i < std::size(shapes); ++i) {
        ins.push_back(random_standard_state(genoa, 0x2E7, 40 + i, {.xstate_bv = shapes[i]}));
        // Stale bytes in the components not in use (XRSTOR ignores them): the result has their
        // initial values, which a whole copy would not give.
        if (!(shapes[i] & 1)) std::memset(&ins.back()[32], 0x5A, 128);
        if (!(shapes[i] & 4)) std::memset(&ins.back()[576], 0x5A, 256);
        want.push_back(to_compacted(inspect_area(ins.back(), genoa, {0x2E7}), genoa, 0x2E7).bytes);
        CHECK(want.back().size() == 2440);
    }
    CHECK(load_le(&want[2][0], 2) == 0x037F);   // FCW of x87 not in use
    CHECK(want[2][100] == 0);
    CHECK(want[5][700] == 0);                    // AVX not in use
    for (size_t i = 0; i < ins.size(); ++i) {
        CAPTURE(i, shapes[i]);
        auto out = poisoned(2440 + 64);
        const ConvertResult r = c.run(ins[i], out);
        CHECK(std::equal(want[i].begin(), want[i].end(), out.begin()));
        CHECK(out[2440] == 0xA5);
        CHECK(r.xstate_bv == shapes[i]);
        CHECK(r.size == 2440);
    }
    std::vector<std::vector<uint8_t>> outs(ins.size(), poisoned(2440 + 64));
    std::vector<ConvertItem> items;
    for (size_t i = 0; i < ins.size(); ++i) items.push_back({ins[i], outs[i]});
    Converter fresh(genoa, S, genoa, T);
    for (int round = 0; round < 2; ++round) {
        fresh.run_many(items);
        for (size_t i = 0; i < ins.size(); ++i) {
            CAPTURE(round, i, shapes[i]);
            CHECK(std::equal(want[i].begin(), want[i].end(), outs[i].begin()));
            CHECK(items[i].xstate_bv == shapes[i]);
            CHECK(items[i].size == 2440);
        }
    }
}
