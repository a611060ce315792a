// `layout`: tables, JSON and two-CPU comparisons, from the library and from the real binary
// (inline profiles written to temporary JSON files; the corpus dumps when ../shared is there).
#include "helpers.hpp"
#include "inline_profiles.hpp"
#include "xsave/error.hpp"
#include "xsave/layout_compare.hpp"

#include "golden.hpp"
#include "xml_check.hpp"

#include <catch2/catch.hpp>

using namespace xsave;

namespace {

using testing::check_golden;

// An inline profile as a JSON file the binary can read; removed at the end of the test.
struct TempProfile {
    std::string path;
    // NAME.json in a directory of this process: `layout --compare` names a profile file by its stem.
    explicit TempProfile(const Profile& p) {
        auto dir = std::filesystem::temp_directory_path() / ("xsave-layout-" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir);
        path = (dir / (p.name + ".json")).string();
        std::string j = profile_to_json(p);
        testing::write_bytes(path, {j.begin(), j.end()});
    }
    ~TempProfile() {
        std::filesystem::remove(path);
        std::error_code ec;
        std::filesystem::remove(std::filesystem::path(path).parent_path(), ec);   // when the last one goes
    }
    std::string arg() const { return testing::shell_quote(path); }
};

const ComponentChange& change(const LayoutComparison& c, unsigned bit) {
    for (const auto& ch : c.components)
        if (ch.bit == bit) return ch;
    throw std::runtime_error("no component " + std::to_string(bit));
}

std::string corpus(const std::string& name) { return testing::shared_path("corpus/cpuid-aida64/" + name); }

} // namespace

TEST_CASE("layout table: Sapphire Rapids with XCR0 0x602e7") {
    CpuModel cpu(testing::sapphire_rapids());
    LayoutTable t = layout_table(cpu, 0x602E7);
    CHECK(t.standard_size() == 11008);
    CHECK(t.compacted_size() == 10752);
    REQUIRE(t.rows.size() == 9);
    const LayoutRow& cfg = t.rows[7];
    CHECK(cfg.bit == 17);
    CHECK(cfg.name == "AMX TILECFG");
    CHECK(cfg.size == 64);
    CHECK(cfg.standard_offset == 0xAC0u);
    CHECK(cfg.compacted_offset == 2496);
    CHECK(cfg.align64);
    CHECK_FALSE(cfg.xfd);
    const LayoutRow& data = t.rows[8];
    CHECK(data.bit == 18);
    CHECK(data.compacted_offset == 2560);
    CHECK(data.standard_offset == 0xB00u);
    CHECK(data.align64);
    CHECK(data.xfd);
    CHECK(t.rows[0].compacted_offset == 0);
    CHECK(t.rows[1].compacted_offset == 160);

    auto j = to_json(t);
    CHECK(j["standard_size"] == 11008);
    CHECK(j["compacted_size"] == 10752);
    CHECK(j["components"][7]["name"] == "AMX TILECFG");
    CHECK(j["components"][7]["compacted_offset"] == 2496);
    CHECK(j["components"][8]["compacted_offset"] == 2560);
    CHECK(j["components"][8]["align64"] == true);
    CHECK(j["components"][8]["xfd"] == true);
    CHECK(j["components"][8]["supervisor"] == false);
}

TEST_CASE("layout table: supervisor components have no standard offset; masks are checked") {
    CpuModel cpu(testing::sapphire_rapids());
    LayoutTable t = layout_table(cpu, 0x602E7, 0x1800);
    REQUIRE(t.rows.size() == 11);
    CHECK(t.rows[7].bit == 11);
    CHECK(t.rows[7].supervisor);
    CHECK_FALSE(t.rows[7].standard_offset);
    CHECK(t.rows[7].compacted_offset == 2440);
    CHECK(t.rows[8].compacted_offset == 2456);
    CHECK(t.compacted_size() == 10752);
    CHECK(to_json(t)["components"][7]["standard_offset"].is_null());
    CHECK_THROWS_WITH(layout_table(cpu, 0x602E7 | 0x800),
                      "XCR0 0x60ae7: CET_U (bit 11) is a supervisor component: it belongs in IA32_XSS");
    CHECK_THROWS_WITH(layout_table(cpu, 0x602E7, 0x4), "IA32_XSS 0x4: AVX (bit 2) is a user component: it belongs in XCR0");
    CHECK_THROWS_WITH(layout_table(cpu, 0x6), "XCR0 0x6: bit 0 (x87) must be set");
    // Defaults: every supported user bit, no supervisor bits.
    CHECK(layout_table(cpu).xcr0 == 0x602E7);
    CHECK(layout_table(cpu).xss == 0);
}

TEST_CASE("compare Genoa -> Skylake-SP: AVX-512 and PKRU move, MPX only on Skylake, compacted as is") {
    CpuModel g(testing::genoa()), s(testing::skylake_sp());
    LayoutComparison c = compare_layouts(g, s);
    struct Want { unsigned bit; uint32_t from, to; };
    for (Want w : {Want{5, 0x340, 0x440}, Want{6, 0x380, 0x480}, Want{7, 0x580, 0x680}, Want{9, 0x980, 0xA80}}) {
        const auto& p = *change(c, w.bit).standard;
        INFO("bit " << w.bit);
        CHECK(p.placement == Placement::Moved);
        CHECK(p.from_offset == w.from);
        CHECK(p.to_offset == w.to);
        CHECK(change(c, w.bit).compacted.placement == Placement::Same);
    }
    CHECK(change(c, 2).standard->placement == Placement::Same);
    CHECK(change(c, 3).standard->placement == Placement::New);
    CHECK(change(c, 3).standard->to_offset == 0x3C0u);
    CHECK(change(c, 4).standard->placement == Placement::New);
    CHECK(c.standard.verdict == Verdict::Convert);
    CHECK(c.standard.text == "needs `xsavetool convert` (AVX-512 opmask, ZMM_Hi256, Hi16_ZMM, PKRU move)");
    CHECK(c.compacted.verdict == Verdict::AsIs);
    CHECK(c.xcomp_bv == 0x80000000000002E7ull);
    CHECK_FALSE(c.restorable_as_is());

    auto j = to_json(c);
    CHECK(j["standard"]["verdict"] == "convert");
    CHECK(j["compacted"]["verdict"] == "as_is");
    CHECK(j["restorable_as_is"] == false);
    CHECK(j["components"][5]["name"] == "AVX-512 opmask");
    CHECK(j["components"][5]["standard"]["placement"] == "moved");
    CHECK(j["components"][5]["standard"]["from_offset"] == 0x340);
    CHECK(j["components"][5]["standard"]["to_offset"] == 0x440);
}

TEST_CASE("compare Skylake-SP -> Genoa: MPX cannot be carried over") {
    CpuModel g(testing::genoa()), s(testing::skylake_sp());
    LayoutComparison c = compare_layouts(s, g);
    CHECK(change(c, 3).standard->placement == Placement::Missing);
    CHECK(change(c, 3).standard->from_offset == 0x3C0u);
    CHECK(change(c, 4).compacted.placement == Placement::Missing);
    CHECK(change(c, 5).standard->from_offset == 0x440u);
    CHECK(change(c, 5).standard->to_offset == 0x340u);
    CHECK(change(c, 9).standard->from_offset == 0xA80u);
    CHECK(change(c, 9).standard->to_offset == 0x980u);
    // Compacted: Skylake's XCOMP_BV 0x2ff puts opmask after MPX, at 0x3c0; Genoa has it at 0x340.
    CHECK(change(c, 5).compacted.placement == Placement::Moved);
    CHECK(change(c, 5).compacted.from_offset == 0x3C0u);
    CHECK(change(c, 5).compacted.to_offset == 0x340u);
    CHECK(c.standard.verdict == Verdict::Drop);
    CHECK(c.standard.drop == 0x18);
    CHECK(c.standard.text == "impossible without dropping MPX BNDREGS, MPX BNDCSR (absent on genoa): "
                             "`xsavetool convert --drop bndregs,bndcsr`");
    CHECK(c.compacted.verdict == Verdict::Drop);
}

TEST_CASE("compare a CPU with itself, and with one XCR0 for both") {
    CpuModel g(testing::genoa()), s(testing::skylake_sp()), e(testing::epyc_host());
    auto same = compare_layouts(g, g);
    CHECK(same.restorable_as_is());
    CHECK(same.standard.text == "restorable as is");
    CHECK(same.compacted.verdict == Verdict::AsIs);
    // With XCR0 0x7 (no AVX-512) everything sits at the same places on both.
    auto avx = compare_layouts(g, s, 0x7);
    CHECK(avx.to.xcr0 == 0x7);
    CHECK(avx.restorable_as_is());
    // epyc-host (XCR0 0xe7) -> Genoa (0x2e7): PKRU is new on Genoa, the rest stays.
    auto grow = compare_layouts(e, g);
    CHECK(grow.restorable_as_is());
    CHECK(grow.standard.text == "restorable as is (PKRU only on genoa: initialised on restore)");
}

TEST_CASE("xsavetool layout: table, JSON and golden comparisons with inline profiles") {
    TempProfile spr(testing::sapphire_rapids()), gen(testing::genoa()), sky(testing::skylake_sp());
    auto t = testing::run_tool("layout --cpuid " + spr.arg() + " --xcr0 0x602e7");
    CHECK(t.status == 0);
    CHECK(t.err == "");
    check_golden("layout-sapphire-rapids.txt", t.out);
    CHECK(t.out.find(" 17  AMX TILECFG     user          64  0xac0 (2752)    0x9c0 (2496)    yes      no\n") != std::string::npos);
    CHECK(t.out.find("standard size   11008 bytes (0x2b00) for XCR0 0x602e7\n") != std::string::npos);
    CHECK(t.out.find("compacted size  10752 bytes (0x2a00) for XCOMP_BV 0x80000000000602e7\n") != std::string::npos);

    auto j = testing::run_tool("layout --cpuid " + spr.arg() + " --xcr0 0x602e7 --json");
    REQUIRE(j.status == 0);
    auto doc = nlohmann::json::parse(j.out);
    CHECK(doc["standard_size"] == 11008);
    CHECK(doc["compacted_size"] == 10752);
    for (const auto& c : doc["components"]) {
        if (c["bit"] == 17) CHECK(c["compacted_offset"] == 2496);
        if (c["bit"] == 18) CHECK(c["compacted_offset"] == 2560);
        if (c["bit"] >= 17) CHECK(c["align64"] == true);
    }
    CHECK(doc["components"].size() == 9);
    CHECK(doc["components"][0].size() == 8);

    auto gs = testing::run_tool("layout --cpuid " + gen.arg() + " --compare " + sky.arg());
    CHECK(gs.status == 1);
    check_golden("layout-genoa-vs-skylake.txt", gs.out);
    auto sg = testing::run_tool("layout --cpuid " + sky.arg() + " --compare " + gen.arg());
    CHECK(sg.status == 1);
    check_golden("layout-skylake-vs-genoa.txt", sg.out);
    auto gg = testing::run_tool("layout --cpuid " + gen.arg() + " --compare " + gen.arg());
    CHECK(gg.status == 0);
    auto gj = testing::run_tool("layout --cpuid " + gen.arg() + " --compare " + sky.arg() + " --json");
    CHECK(gj.status == 1);
    CHECK(nlohmann::json::parse(gj.out)["standard"]["verdict"] == "convert");
}

TEST_CASE("xsavetool layout: trouble is exit 2 with one line") {
    TempProfile gen(testing::genoa());
    auto none = testing::run_tool("layout");
    CHECK(none.status == 2);
    CHECK(none.err == "xsavetool: layout: --cpuid is required (host, a built-in name, or a profile file)\n");
    auto bad = testing::run_tool("layout --cpuid " + gen.arg() + " --xcr0 0x40007");
    CHECK(bad.status == 2);
    CHECK(bad.out == "");
    CHECK(bad.err == "xsavetool: AMX TILEDATA (bit 18) is not enumerated by the profile (supported XCR0 0x2e7, IA32_XSS 0x1800)\n");
    auto sup = testing::run_tool("layout --cpuid " + gen.arg() + " --xcr0 0x807");
    CHECK(sup.status == 2);
    CHECK(sup.err == "xsavetool: XCR0 0x807: CET_U (bit 11) is a supervisor component: it belongs in IA32_XSS\n");
    auto missing = testing::run_tool("layout --cpuid " + gen.arg() + " --compare /nonexistent/q.json");
    CHECK(missing.status == 2);
    CHECK(std::count(missing.err.begin(), missing.err.end(), '\n') == 1);
}

TEST_CASE("xsavetool layout on the corpus dumps: Genoa vs Skylake-SP both ways, Sapphire Rapids") {
    if (!testing::have_shared()) SKIP_TEST("needs ../shared/corpus");
    std::string genoa = testing::shell_quote(corpus("AuthenticAMD0A10F11_K19_Genoa_01_CPUID.txt"));
    std::string sky = testing::shell_quote(corpus("GenuineIntel0050654_SkylakeD_CPUID.txt"));
    std::string spr = testing::shell_quote(corpus("GenuineIntel00806F8_SapphireRapids_05_CPUID.txt"));
    auto gs = testing::run_tool("layout --cpuid " + genoa + " --compare " + sky);
    CHECK(gs.status == 1);
    for (const char* line : {"  bit 5  AVX-512 opmask  moved          0x340 -> 0x440, 64 bytes\n",
                             "  bit 6  ZMM_Hi256       moved          0x380 -> 0x480, 512 bytes\n",
                             "  bit 7  Hi16_ZMM        moved          0x580 -> 0x680, 1024 bytes\n",
                             "  bit 9  PKRU            moved          0x980 -> 0xa80, 8 bytes\n",
                             "standard buffers:  needs `xsavetool convert` (AVX-512 opmask, ZMM_Hi256, Hi16_ZMM, PKRU move)\n"}) {
        INFO(line);
        CHECK(gs.out.find(line) != std::string::npos);
    }
    CHECK(gs.out.find("  bit 3  MPX BNDREGS     new            0x3c0, 64 bytes (only on GenuineIntel0050654_SkylakeD_CPUID)\n") !=
          std::string::npos);
    auto sg = testing::run_tool("layout --cpuid " + sky + " --compare " + genoa);
    CHECK(sg.status == 1);
    CHECK(sg.out.find("  bit 5  AVX-512 opmask  moved          0x440 -> 0x340, 64 bytes\n") != std::string::npos);
    CHECK(sg.out.find("  bit 9  PKRU            moved          0xa80 -> 0x980, 8 bytes\n") != std::string::npos);
    CHECK(sg.out.find("  bit 3  MPX BNDREGS     missing        0x3c0, 64 bytes (only on GenuineIntel0050654_SkylakeD_CPUID)\n") !=
          std::string::npos);
    CHECK(sg.out.find("standard buffers:  impossible without dropping MPX BNDREGS, MPX BNDCSR") != std::string::npos);

    auto j = testing::run_tool("layout --cpuid " + spr + " --xcr0 0x602e7 --json");
    REQUIRE(j.status == 0);
    auto doc = nlohmann::json::parse(j.out);
    CHECK(doc["standard_size"] == 11008);
    CHECK(doc["compacted_size"] == 10752);
    CHECK(doc["components"][7]["compacted_offset"] == 2496);
    CHECK(doc["components"][8]["compacted_offset"] == 2560);
}

TEST_CASE("layout --compare tells one story: compacted components only Q has are not in P's buffer", "[layout]") {
    CpuModel g(testing::genoa()), s(testing::skylake_sp());
    auto c = compare_layouts(g, s);
    // MPX is not in Genoa's XCOMP_BV 0x2e7: no offset in that buffer, initialised on restore.
    CHECK(change(c, 3).compacted.placement == Placement::New);
    CHECK_FALSE(change(c, 3).compacted.to_offset);
    CHECK(change(c, 3).compacted.to_size == 64u);
    CHECK(change(c, 5).compacted.placement == Placement::Same);
    CHECK(*change(c, 5).compacted.to_offset == 0x340u);
    REQUIRE(c.read_compacted);
    CHECK(c.read_compacted->mask == 0x2E7u);
    CHECK(c.compacted.verdict == Verdict::AsIs);
    // Standard form: Skylake's own offsets, MPX at 0x3c0 (bytes XRSTOR reads and initialises).
    CHECK(*change(c, 3).standard->to_offset == 0x3C0u);
}

TEST_CASE("xsavetool layout --compare: headings use the names typed, text and SVG agree", "[layout]") {
    if (!testing::have_xml_parser()) SKIP_TEST("built without expat (see tests/xml_check.hpp)");
    std::string svg = testing::tmp_path("zen4-skx.svg");
    auto r = testing::run_tool("layout --cpuid zen4 --compare skx --svg " + testing::shell_quote(svg));
    CHECK(r.status == 1);
    CHECK(r.out.starts_with("can a buffer saved on zen4 be restored on skx?\n  zen4: XCR0 0x2e7"));
    CHECK(r.out.find("\n  skx:  XCR0 0x") != std::string::npos);
    CHECK(r.out.find("(XCOMP_BV 0x80000000000002e7, as zen4 writes it)\n") != std::string::npos);
    CHECK(r.out.find("  bit 3  MPX BNDREGS     new            not in the buffer, 64 bytes (only on skx: initialised on restore)\n") !=
          std::string::npos);
    CHECK(r.out.find("  bit 5  AVX-512 opmask  same           0x340, 64 bytes\n") != std::string::npos);
    CHECK(r.out.find("Intel(R)") == std::string::npos);
    std::string doc = testing::read_text(svg);
    std::filesystem::remove(svg);
    CHECK(doc.find("<title>XSAVE layouts: zen4 \u2192 skx</title>") != std::string::npos);
    CHECK(doc.find("compacted (XCOMP_BV 0x80000000000002e7, as zen4 writes it)") != std::string::npos);
    CHECK(doc.find("Intel(R)") == std::string::npos);
    auto x = testing::parse_xml(doc);
    REQUIRE(x.ok);
    // No band in the compacted picture says anything moved, as the text says.
    for (size_t b : x.find("g", "class", "band"))
        if (x.elements[b].attrs.at("data-form") == "compacted") CHECK(x.elements[b].attrs.at("data-placement") == "same");
}
