// The *_into forms' inline path (xsave/convert_into.hpp, whole_inline): from the third call of
// a shape on, a whole plan the target model last ran is written in the caller. It must give
// what the general path gives, and leave to the other paths every call it must not take.
#include "helpers.hpp"
#include "inline_profiles.hpp"

#include "xsave/components.hpp"
#include "xsave/convert.hpp"
#include "xsave/error.hpp"
#include "xsave/image.hpp"
#include "xsave/random_state.hpp"

#include <catch2/catch.hpp>
#include <cstring>

using namespace xsave;

namespace {

using testing::poisoned;

// What the allocating form gave, against what an *_into call wrote and returned.
void same_as_allocating(const ConvertResult& want, const ConvertResult& got, const std::vector<uint8_t>& out) {
    REQUIRE(got.size == want.bytes.size());
    CHECK(std::equal(want.bytes.begin(), want.bytes.end(), out.begin()));
    CHECK(std::all_of(out.begin() + got.size, out.end(), [](uint8_t b) { return b == 0xA5; }));
    CHECK(got.layout == want.layout);
    CHECK(got.xstate_bv == want.xstate_bv);
    CHECK(got.xcomp_bv == want.xcomp_bv);
    CHECK(got.dropped == want.dropped);
    CHECK(got.restored == want.restored);
    CHECK(got.trailing == want.trailing);
}

enum class InlineCall { Compact, Standard, StandardXcr0, RelayoutStandard, RelayoutCompacted, RelayoutDefault };

ConvertResult call_into(InlineCall c, const AreaView& v, const CpuModel& m, uint64_t mask, std::span<uint8_t> out) {
    ConvertOptions o;
    switch (c) {
    case InlineCall::Compact: return to_compacted_into(v, m, mask, out);
    case InlineCall::Standard: return to_standard_into(v, m, out);
    case InlineCall::StandardXcr0: o.xcr0 = mask; return to_standard_into(v, m, out, o);
    case InlineCall::RelayoutStandard: o.xcr0 = mask; return relayout_into(v, m, m, Format::Standard, out, o);
    case InlineCall::RelayoutCompacted: o.xcomp_bv = mask; return relayout_into(v, m, m, Format::Compacted, out, o);
    case InlineCall::RelayoutDefault: return relayout_into(v, m, m, v.format == Format::Standard ? Format::Compacted : Format::Standard, out);
    }
    return {};
}
ConvertResult call_allocating(InlineCall c, const AreaView& v, const CpuModel& m, uint64_t mask) {
    ConvertOptions o;
    switch (c) {
    case InlineCall::Compact: return to_compacted(v, m, mask);
    case InlineCall::Standard: return to_standard(v, m);
    case InlineCall::StandardXcr0: o.xcr0 = mask; return to_standard(v, m, o);
    case InlineCall::RelayoutStandard: o.xcr0 = mask; return relayout(v, m, m, Format::Standard, o);
    case InlineCall::RelayoutCompacted: o.xcomp_bv = mask; return relayout(v, m, m, Format::Compacted, o);
    case InlineCall::RelayoutDefault: return relayout(v, m, m, v.format == Format::Standard ? Format::Compacted : Format::Standard);
    }
    return {};
}
bool into_compacted(InlineCall c, Format from) {
    return c == InlineCall::Compact || c == InlineCall::RelayoutCompacted || (c == InlineCall::RelayoutDefault && from == Format::Standard);
}

} // namespace

TEST_CASE("the *_into forms' inline path gives the general path's bytes and fields, call after call", "[widths]") {
    // Genoa (AMD, no MPX gap): standard and compacted layouts agree, so with every component in
    // use each plan is whole. Areas whose in-use set makes another plan come in between, so the
    // model's last plan changes under the inline path.
    const std::pair<uint64_t, uint32_t> shapes[] = {{0x3, 576}, {0x7, 832}, {0xE7, 2432}, {0x2E7, 2440}};
    const InlineCall calls[] = {InlineCall::Compact,          InlineCall::Standard,          InlineCall::StandardXcr0,
                          InlineCall::RelayoutStandard, InlineCall::RelayoutCompacted, InlineCall::RelayoutDefault};
    for (const auto& shape : shapes)
        for (Format from : {Format::Standard, Format::Compacted})
            for (InlineCall c : calls) {
                if (into_compacted(c, from) == (from == Format::Compacted)) continue;   // a form into itself
                const uint64_t mask = shape.first;
                CAPTURE(mask, format_name(from), int(c));
                CpuModel genoa(testing::genoa());
                // MXCSR 0x1FA0 with XMM0-15 zero: XSTATE_BV[1] only carried MXCSR, and standard form
                // reports SSE initial (another plan). Not so when only XMM0's low half is zero (the
                // half the inline check reads), or only that half, XMM0's high half or XMM15's high
                // half is not (the first and last the out-of-line check reads). Reserved header
                // bytes 24..63 set in a standard input: the result's are zero.
                enum class Xmm { Random, Zero, Xmm0LowZero, OnlyXmm0LowNonZero, OnlyFirstNonZero, OnlyLastNonZero };
                struct Case {
                    uint32_t mxcsr;
                    Xmm xmm;
                    bool reserved;
                };
                const Case cases[] = {{0x1F80, Xmm::Random, false}, {0x1FA0, Xmm::Random, false},
                                      {0x1F80, Xmm::Random, false}, {0x1FA0, Xmm::Zero, false},
                                      {0x1F80, Xmm::Random, true},  {0x1F80, Xmm::Random, false},
                                      {0x1F80, Xmm::Random, false}, {0x1FA0, Xmm::Xmm0LowZero, false},
                                      {0x1FA0, Xmm::OnlyXmm0LowNonZero, false}, {0x1FA0, Xmm::OnlyFirstNonZero, false},
                                      {0x1FA0, Xmm::OnlyLastNonZero, false}};
                for (size_t k = 0; k < std::size(cases); ++k) {
                    CAPTURE(k);
                    auto st = random_standard_state(genoa, mask, 70 + k, {.xstate_bv = mask});
                    store_le(&st[kMxcsrOffset], cases[k].mxcsr, 4);
                    if (cases[k].xmm == Xmm::Xmm0LowZero) std::memset(&st[kXmmSpan.offset], 0, 8);
                    if (cases[k].xmm != Xmm::Random && cases[k].xmm != Xmm::Xmm0LowZero)
                        std::memset(&st[kXmmSpan.offset], 0, kXmmSpan.size);
                    if (cases[k].xmm == Xmm::OnlyXmm0LowNonZero) st[kXmmSpan.offset] = 0x40;
                    if (cases[k].xmm == Xmm::OnlyFirstNonZero) st[kXmmSpan.offset + 8] = 0x40;
                    if (cases[k].xmm == Xmm::OnlyLastNonZero) st[kXmmSpan.end() - 1] = 0x40;
                    auto s = from == Format::Compacted ? to_compacted(inspect_area(st, genoa, {mask}), genoa, mask).bytes : st;
                    if (cases[k].reserved && from == Format::Standard) std::memset(&s[kXcompBvOffset + 16], 0x5A, 40);
                    const AreaView v = inspect_area(s, genoa, {mask});
                    const ConvertResult want = call_allocating(c, v, genoa, mask);
                    // relayout_into's default standard mask is the target's enabled XCR0 (0x2E7 here).
                    CHECK(want.bytes.size() == (c == InlineCall::RelayoutDefault && from == Format::Compacted ? 2440 : shape.second));
                    CHECK(load_le(&want.bytes[kXcompBvOffset + 8], 8) == 0);
                    CHECK(load_le(&want.bytes[kXcompBvOffset + 48], 8) == 0);
                    if (cases[k].xmm == Xmm::Zero && from == Format::Compacted && !into_compacted(c, from))
                        CHECK(want.xstate_bv == (mask & ~uint64_t(2)));
                    else
                        CHECK(want.xstate_bv == mask);
                    for (int round = 0; round < 4; ++round) {   // the general path, the short path, then inline
                        CAPTURE(round);
                        auto out = poisoned(want.bytes.size() + 128);
                        same_as_allocating(want, call_into(c, v, genoa, mask, out), out);
                    }
                }
            }
}

TEST_CASE("the *_into forms' inline path leaves to the other paths every call it must not take", "[widths]") {
    // Each call after three whole ones (Genoa 0x2E7, standard -> compacted), so that the
    // model's last plan is whole, and after the odd call one more whole call, which must still
    // be right.
    CpuModel genoa(testing::genoa());
    const auto s = random_standard_state(genoa, 0x2E7, 90, {.xstate_bv = 0x2E7});
    const AreaView v = inspect_area(s, genoa, {0x2E7});
    const ConvertResult whole = to_compacted(v, genoa, 0x2E7);
    const auto warm = [&] {
        for (int i = 0; i < 3; ++i) {
            auto out = poisoned(2440 + 64);
            same_as_allocating(whole, to_compacted_into(v, genoa, 0x2E7, out), out);
        }
    };
    SECTION("an output buffer too small: an error naming the size, the buffer untouched") {
        warm();
        std::vector<uint8_t> small(2439, 0xA5);
        CHECK_THROWS_WITH(to_compacted_into(v, genoa, 0x2E7, small), "output buffer of 2439 bytes; the compacted result needs 2440");
        CHECK(std::all_of(small.begin(), small.end(), [](uint8_t b) { return b == 0xA5; }));
    }
    SECTION("trailing bytes: zeros reported, copied with keep_trailing, others refused") {
        warm();
        auto padded = s;
        padded.resize(s.size() + 64, 0);
        auto out = poisoned(2440 + 128);
        CHECK(to_compacted_into(inspect_area(padded, genoa, {0x2E7}), genoa, 0x2E7, out).trailing == 64);
        padded.back() = 7;
        CHECK_THROWS_AS(to_compacted_into(inspect_area(padded, genoa, {0x2E7}), genoa, 0x2E7, out), LossError);
        ConvertOptions keep;
        keep.keep_trailing = true;
        const ConvertResult r = to_compacted_into(inspect_area(padded, genoa, {0x2E7}), genoa, 0x2E7, out, keep);
        CHECK(r.size == 2440 + 64);
        CHECK(out[2440 + 63] == 7);
    }
    SECTION("a sidecar to put back: restored, as the allocating form does") {
        warm();
        ConvertOptions drop;
        drop.drop = 0x200;   // PKRU
        Sidecar side;
        drop.sidecar_out = &side;
        const ConvertResult cut = to_compacted(v, genoa, 0xE7, drop);
        REQUIRE(side.components.size() == 1);
        const AreaView cv = inspect_area(cut.bytes, genoa);
        ConvertOptions back;
        back.sidecar_in = &side;
        back.xcr0 = 0x2E7;
        const ConvertResult want = to_standard(cv, genoa, back);
        CHECK(want.restored == 0x200);
        for (int i = 0; i < 3; ++i) {
            auto out = poisoned(2440 + 64);
            same_as_allocating(want, to_standard_into(cv, genoa, out, back), out);
        }
    }
    SECTION("a sidecar whose component the area already holds: the general path's answer") {
        warm();
        ConvertOptions drop;
        drop.drop = 0x200;
        Sidecar side;
        drop.sidecar_out = &side;
        (void)to_compacted(v, genoa, 0xE7, drop);
        ConvertOptions back;
        back.sidecar_in = &side;
        const std::string want = testing::error_of([&] { (void)to_compacted(v, genoa, 0x2E7, back); });
        CHECK(want.find("PKRU") != std::string::npos);
        auto out = poisoned(2440 + 64);
        CHECK(testing::error_of([&] { (void)to_compacted_into(v, genoa, 0x2E7, out, back); }) == want);
    }
    SECTION("another target (a loss to refuse), then the whole one again") {
        warm();
        auto out = poisoned(2440 + 64);
        CHECK_THROWS_WITH(to_compacted_into(v, genoa, 0xE7, out), Catch::Contains("PKRU (bit 9) is in use"));
    }
    SECTION("an area of another model with the same layout shape: that model's layout, not the hint's") {
        warm();
        CpuModel other(testing::genoa());
        const AreaView ov = inspect_area(s, other, {0x2E7});
        REQUIRE(ov.layout != v.layout);
        for (int i = 0; i < 3; ++i) {
            auto out = poisoned(2440 + 64);
            const ConvertResult r = to_compacted_into(ov, genoa, 0x2E7, out);
            CHECK(std::equal(whole.bytes.begin(), whole.bytes.end(), out.begin()));
            CHECK(r.layout == whole.layout);
        }
    }
    SECTION("a view over a layout that is not a model's (a copy, id 0)") {
        warm();
        const Layout copy = *v.layout;
        AreaView cv = v;
        cv.layout = &copy;
        auto out = poisoned(2440 + 64);
        same_as_allocating(whole, to_compacted_into(cv, genoa, 0x2E7, out), out);
    }
    SECTION("an area with XSTATE_BV outside its layout: the general path's error") {
        warm();
        auto bad = s;
        store_le(&bad[kXstateBvOffset], 0x2E7 | 0x800, 8);
        AreaView bv = v;
        bv.bytes = bad;
        bv.xstate_bv = 0x2E7 | 0x800;
        auto out = poisoned(2440 + 64);
        CHECK_THROWS_WITH(to_compacted_into(bv, genoa, 0x2E7, out), Catch::Contains("XSTATE_BV 0xae7 marks"));
    }
    auto out = poisoned(2440 + 64);
    same_as_allocating(whole, to_compacted_into(v, genoa, 0x2E7, out), out);
}

TEST_CASE("the *_into forms' short path leaves trailing bytes and small buffers to the general path", "[widths]") {
    // AVX not in use: the plan zeroes its region, so it is not whole and the inline path declines
    // every call; from the second call the short path takes them. Its checks must read the
    // input's size and the output's each for itself.
    CpuModel genoa(testing::genoa());
    const auto s = random_standard_state(genoa, 0x7, 95, {.xstate_bv = 0x3});
    const ConvertResult want = to_compacted(inspect_area(s, genoa, {0x7}), genoa, 0x7);
    REQUIRE(want.bytes.size() == 832);
    for (int i = 0; i < 3; ++i) {   // the general path, then the short path
        auto out = poisoned(832 + 64);
        same_as_allocating(want, to_compacted_into(inspect_area(s, genoa, {0x7}), genoa, 0x7, out), out);
    }
    auto padded = s;
    padded.resize(832 + 64, 0);
    SECTION("zero trailing bytes, into an output of the layout's size: reported") {
        std::vector<uint8_t> out(832, 0xA5);
        const ConvertResult r = to_compacted_into(inspect_area(padded, genoa, {0x7}), genoa, 0x7, out);
        CHECK(r.size == 832);
        CHECK(r.trailing == 64);
        CHECK(std::equal(want.bytes.begin(), want.bytes.end(), out.begin()));
    }
    SECTION("non-zero trailing bytes, into an output of the layout's size: refused") {
        padded.back() = 7;
        std::vector<uint8_t> out(832, 0xA5);
        CHECK_THROWS_WITH(to_compacted_into(inspect_area(padded, genoa, {0x7}), genoa, 0x7, out),
                          Catch::Contains("--keep-trailing"));
    }
    SECTION("an output one byte short of the result: an error naming the size, the buffer untouched") {
        std::vector<uint8_t> small(831, 0xA5);
        CHECK_THROWS_WITH(to_compacted_into(inspect_area(padded, genoa, {0x7}), genoa, 0x7, small),
                          "output buffer of 831 bytes; the compacted result needs 832");
        CHECK(std::all_of(small.begin(), small.end(), [](uint8_t b) { return b == 0xA5; }));
    }
}
