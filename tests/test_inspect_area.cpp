// inspect_area checks an area of the layout it last chose inline, with no lookup: after any
// other area (another form, mask, size or model copy), it must answer exactly as its general
// path does, errors included.
#include "inline_profiles.hpp"

#include "xsave/components.hpp"
#include "xsave/convert.hpp"
#include "xsave/error.hpp"
#include "xsave/image.hpp"
#include "xsave/random_state.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace xsave;

namespace {

struct Case {
    const char* what;
    std::vector<uint8_t> bytes;
    ReadOptions opt;
};

void put_u64(std::vector<uint8_t>& b, size_t at, uint64_t v) {
    for (int i = 0; i < 8; ++i) b[at + i] = uint8_t(v >> (8 * i));
}

// What inspect_area gave: the view's fields, or the error's message.
struct Answer {
    std::string error;
    Format format = Format::Standard;
    uint64_t xstate_bv = 0, xcomp_bv = 0;
    const Layout* layout = nullptr;
    const uint8_t* data = nullptr;
    size_t size = 0;
    std::vector<std::string> notes;
    bool operator==(const Answer&) const = default;
};
template <class F>
Answer answer(F inspect) {
    Answer a;
    try {
        const AreaView v = inspect(a.notes);
        a.format = v.format, a.xstate_bv = v.xstate_bv, a.xcomp_bv = v.xcomp_bv, a.layout = v.layout;
        a.data = v.bytes.data(), a.size = v.bytes.size();
    } catch (const Error& e) {
        a.error = e.what();
    }
    return a;
}

// Genoa (enabled XCR0 0x2E7: standard 2440 bytes): each case names what the inline path must
// not take for granted.
std::vector<Case> genoa_cases(const CpuModel& genoa) {
    RandomStateOptions ro;
    ro.xstate_bv = 0x7;
    const std::vector<uint8_t> full = random_standard_state(genoa, 0x2E7, 1, ro);
    REQUIRE(full.size() == 2440);
    std::vector<Case> c;
    c.push_back({"standard, the profile's XCR0", full, {}});
    std::vector<uint8_t> trailing = full;
    trailing.resize(full.size() + 100, 0);
    c.push_back({"standard with trailing bytes", trailing, {}});
    // Shorter than the full layout: read with the XCR0 it fits (0x7), with a note.
    c.push_back({"standard, 832 bytes, no --xcr0", std::vector<uint8_t>(full.begin(), full.begin() + 832), {}});
    c.push_back({"standard, 832 bytes, --xcr0 0x7", std::vector<uint8_t>(full.begin(), full.begin() + 832), {0x7}});
    c.push_back({"standard, --xcr0 0x2E7 but 2439 bytes", std::vector<uint8_t>(full.begin(), full.end() - 1), {0x2E7}});
    std::vector<uint8_t> outside(full.begin(), full.begin() + 832);
    put_u64(outside, kXstateBvOffset, 0x27);   // AVX-512's opmask: outside XCR0 0x7
    c.push_back({"standard, XSTATE_BV outside --xcr0 0x7", outside, {0x7}});
    std::vector<uint8_t> legacy(full.begin(), full.begin() + 576);
    put_u64(legacy, kXstateBvOffset, 0x3);
    c.push_back({"standard, --xcr0 0x1 (bits 0 and 1 implied)", legacy, {0x1}});
    const std::vector<uint8_t> compacted = to_compacted(inspect_area(full, genoa), genoa, 0x2E7).bytes;
    c.push_back({"compacted, XCOMP_BV 0x2E7", compacted, {}});
    c.push_back({"compacted, cut short", std::vector<uint8_t>(compacted.begin(), compacted.end() - 8), {}});
    std::vector<uint8_t> avx = std::vector<uint8_t>(compacted.begin(), compacted.begin() + 832);
    put_u64(avx, kXcompBvOffset, 0x7 | kCompactedBit);
    c.push_back({"compacted, XCOMP_BV 0x7", avx, {}});
    std::vector<uint8_t> unknown = avx;
    put_u64(unknown, kXcompBvOffset, (1ull << 40) | 0x7 | kCompactedBit);
    c.push_back({"compacted, XCOMP_BV naming bit 40", unknown, {}});
    c.push_back({"header cut short", std::vector<uint8_t>(full.begin(), full.begin() + 530), {}});
    return c;
}

} // namespace

TEST_CASE("inspect_area answers as its general path after any area before it, errors and notes included") {
    CpuModel genoa(testing::genoa());
    const std::vector<Case> cases = genoa_cases(genoa);
    for (const Case& before : cases) {
        for (const Case& c : cases) {
            INFO("after \"" << before.what << "\": " << c.what);
            CpuModel model(genoa);   // shares the layouts, hint included
            (void)answer([&](auto& n) { return inspect_area(before.bytes, model, before.opt, &n); });
            const Answer got = answer([&](auto& n) { return inspect_area(c.bytes, model, c.opt, &n); });
            const Answer want = answer([&](auto& n) { return detail::inspect_area_general(c.bytes, genoa, c.opt, &n); });
            CHECK(got == want);
            if (got.error.empty()) CHECK(got.data == c.bytes.data());
        }
    }
}

TEST_CASE("inspect_area reads its example areas with the layouts and errors a user sees") {
    CpuModel genoa(testing::genoa());
    const std::vector<Case> cases = genoa_cases(genoa);
    auto run = [&](size_t i) { return answer([&](auto& n) { return inspect_area(cases[i].bytes, genoa, cases[i].opt, &n); }); };
    // Twice each: the second call takes the inline path where the first chose the layout.
    for (int round = 0; round < 2; ++round) {
        const Answer full = run(0);
        CHECK(full.error.empty());
        CHECK(full.layout == &genoa.standard(0x2E7));
        CHECK(full.xstate_bv == 0x7);
        CHECK(genoa.inspected(Format::Standard) == &genoa.standard(0x2E7));
        CHECK(run(1).layout == &genoa.standard(0x2E7));
        const Answer shorter = run(2);
        CHECK(shorter.layout == &genoa.standard(0x7));
        REQUIRE(shorter.notes.size() == 1);
        CHECK(shorter.notes[0].find("read as saved with XCR0 0x7") != std::string::npos);
        CHECK(run(3).layout == &genoa.standard(0x7));
        CHECK(run(4).error.find("2439 bytes, but the standard layout for --xcr0 0x2e7 needs 2440") == 0);
        CHECK(run(5).error.find("offset 0x200: XSTATE_BV 0x27 names components outside the standard layout for --xcr0 0x7") == 0);
        CHECK(run(6).layout == &genoa.standard(0x3));
        const Answer compacted = run(7);
        CHECK(compacted.layout == &genoa.compacted(0x2E7));
        CHECK(compacted.format == Format::Compacted);
        CHECK(compacted.xcomp_bv == (0x2E7 | kCompactedBit));
        CHECK(genoa.inspected(Format::Compacted) == &genoa.compacted(0x2E7));
        CHECK(run(8).error.find("but the compacted layout for XCOMP_BV 0x2e7 needs") != std::string::npos);
        CHECK(run(9).layout == &genoa.compacted(0x7));
        CHECK(run(10).error.find("offset 0x208: XCOMP_BV 0x8000010000000007") == 0);
        CHECK(run(11).error == "530 bytes: too short for an XSAVE area, which needs at least 576 (legacy region 0..511, header 512..575)");
    }
}
