// Plan-based conversions against the per-component engine they replaced (convert_reference.hpp):
// random states, stale bytes in init components, every built-in profile, both forms, and
// another CPU's layout.
#include "convert_reference.hpp"
#include "helpers.hpp"

#include "xsave/convert.hpp"
#include "xsave/error.hpp"
#include "xsave/import.hpp"
#include "xsave/random_state.hpp"

#include <catch2/catch.hpp>
#include <memory>
#include <random>

using namespace xsave;

namespace {

struct Outcome {
    bool threw = false;
    std::vector<uint8_t> bytes;
    uint64_t xstate_bv = 0, xcomp_bv = 0, dropped = 0;
};

Outcome by_plan(const AreaView& in, const CpuModel& from, const CpuModel& to, Format f, uint64_t mask, uint64_t drop,
                bool keep_trailing) {
    ConvertOptions opt;
    opt.drop = drop;
    opt.keep_trailing = keep_trailing;
    opt.drop_trailing = true;   // as the reference engine does; the refusal has its own tests
    Outcome o;
    try {
        ConvertResult r;
        if (f == Format::Standard) opt.xcr0 = mask;
        else opt.xcomp_bv = mask;
        std::vector<uint8_t> buf(16384 + in.bytes.size(), 0xA5);
        r = relayout_into(in, from, to, f, buf, opt);
        o.bytes.assign(buf.begin(), buf.begin() + long(r.size));
        o.xstate_bv = r.xstate_bv, o.xcomp_bv = r.xcomp_bv, o.dropped = r.dropped;
        // The allocating form runs the same plan.
        auto a = &from == &to ? (f == Format::Standard ? to_standard(in, to, opt) : to_compacted(in, to, mask, opt))
                              : relayout(in, from, to, f, opt);
        REQUIRE(a.bytes == o.bytes);
    } catch (const Error&) {
        o.threw = true;
    }
    return o;
}

Outcome by_reference(const AreaView& in, const CpuModel& from, const CpuModel& to, Format f, uint64_t mask, uint64_t drop,
                     bool keep_trailing) {
    Outcome o;
    try {
        auto r = testing::reference::convert(in, from, to.layout(f, mask), drop, keep_trailing);
        o.bytes = std::move(r.bytes);
        o.xstate_bv = r.xstate_bv, o.xcomp_bv = r.xcomp_bv, o.dropped = r.dropped;
    } catch (const std::exception&) {
        o.threw = true;
    }
    return o;
}

// Bytes of init components and padding set to noise: a conversion must write them as zeros.
void stale(std::vector<uint8_t>& s, const Layout& L, uint64_t xstate_bv, std::mt19937_64& rng) {
    for (unsigned b = 2; b < 63; ++b)
        if (L.has(b) && !(xstate_bv >> b & 1))
            for (uint32_t i = 0; i < L.size[b]; ++i) s[L.offset[b] + i] = uint8_t(rng());
    for (unsigned i = 416; i < 512; ++i) s[i] = uint8_t(rng());
}

} // namespace

TEST_CASE("plans equal the per-component engine over random states and every built-in profile", "[convert][plan][widths]") {
    std::vector<std::unique_ptr<CpuModel>> cpus;
    for (const auto& bp : builtin_profiles()) cpus.push_back(std::make_unique<CpuModel>(builtin_profile(bp.name)));
    REQUIRE(cpus.size() >= 19);
    int compared = 0, refused = 0;
    for (size_t i = 0; i < cpus.size(); ++i) {
        const CpuModel& a = *cpus[i];
        const CpuModel& b = *cpus[(i + 1) % cpus.size()];
        const uint64_t xcr0 = a.enabled_xcr0();
        INFO(a.profile().name << " -> " << b.profile().name);
        std::mt19937_64 rng(i + 1);
        for (uint64_t seed = 0; seed < 60; ++seed) {
            CAPTURE(seed);
            const uint64_t bv = rng() & xcr0;
            auto s = random_standard_state(a, xcr0, seed, {.xstate_bv = bv});
            stale(s, a.standard(xcr0), bv, rng);
            if (seed % 5 == 0) s.insert(s.end(), {1, 2, 3});   // trailing bytes
            const bool keep = seed % 10 == 0;
            AreaView sv = inspect_area(s, a, {.xcr0 = xcr0});
            // Standard -> compacted (XSAVEC, minimal), then compacted -> standard.
            for (uint64_t xcomp : {xcr0, compute_xcomp_bv(sv, a, parse_xcomp_mode("minimal")) & ~kCompactedBit}) {
                auto plan = by_plan(sv, a, a, Format::Compacted, xcomp, 0, keep);
                auto ref = by_reference(sv, a, a, Format::Compacted, xcomp, 0, keep);
                REQUIRE(plan.threw == ref.threw);
                CHECK(plan.bytes == ref.bytes);
                CHECK(plan.xstate_bv == ref.xstate_bv);
                CHECK(plan.xcomp_bv == ref.xcomp_bv);
                ++compared;
                if (plan.threw) continue;
                AreaView cv = inspect_area(plan.bytes, a);
                auto back = by_plan(cv, a, a, Format::Standard, xcr0, 0, false);
                auto back_ref = by_reference(cv, a, a, Format::Standard, xcr0, 0, false);
                REQUIRE(back.threw == back_ref.threw);
                CHECK(back.bytes == back_ref.bytes);
                ++compared;
            }
            // Another CPU's layouts, with and without permission to drop what does not fit.
            for (Format f : {Format::Standard, Format::Compacted}) {
                const uint64_t to_mask = b.enabled_xcr0();
                for (uint64_t drop : {uint64_t(0), ~uint64_t(0) >> 1}) {
                    auto plan = by_plan(sv, a, b, f, to_mask, drop, keep);
                    auto ref = by_reference(sv, a, b, f, to_mask, drop, keep);
                    REQUIRE(plan.threw == ref.threw);
                    CHECK(plan.bytes == ref.bytes);
                    CHECK(plan.xstate_bv == ref.xstate_bv);
                    CHECK(plan.dropped == ref.dropped);
                    ++compared;
                    refused += plan.threw;
                }
            }
        }
    }
    CHECK(compared > 19 * 60 * 6);
    CHECK(refused > 0);   // some pairs lack components: the no-drop case is refused
}

TEST_CASE("a layout no cache knows (a copy) gets a plan of its own with the same result", "[convert][plan][widths]") {
    CpuModel spr(builtin_profile("sapphire-rapids"));
    auto s = random_standard_state(spr, 0x602E7, 11);
    AreaView v = inspect_area(s, spr, {.xcr0 = 0x602E7});
    Layout copy = *v.layout;
    CHECK(copy.id.value == 0);
    CHECK(v.layout->id.value != 0);
    AreaView w = v;
    w.layout = &copy;
    CHECK(to_compacted(w, spr, 0x602E7).bytes == to_compacted(v, spr, 0x602E7).bytes);
    CHECK(to_standard(inspect_area(to_compacted(w, spr, 0x602E7).bytes, spr), spr).bytes == s);
}
