// SVG pictures: well-formed XML (parsed with expat), one labelled block per component in each
// column, padding drawn, colours the same for a component everywhere; `--svg` writes the file.
#include "helpers.hpp"
#include "inline_profiles.hpp"
#include "xml_check.hpp"
#include "xsave/svg.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace xsave;

namespace {

// Component groups of one column: bit -> (label text, fill colour).
std::map<int, std::pair<std::string, std::string>> column(const testing::XmlDoc& d, const std::string& form, const std::string& cpu) {
    std::map<int, std::pair<std::string, std::string>> r;
    for (size_t g : d.find("g", "class", "component")) {
        const auto& e = d.elements[g];
        if (e.attrs.at("data-form") != form || e.attrs.at("data-cpu") != cpu) continue;
        size_t rect = d.child(g, "rect"), text = d.child(g, "text");
        REQUIRE(rect != size_t(-1));
        REQUIRE(text != size_t(-1));
        // The label is the last text of the group (the first may be the name inside the block).
        std::string label;
        for (size_t c : e.children)
            if (d.elements[c].name == "text") label = d.elements[c].text;
        r[std::stoi(e.attrs.at("data-bit"))] = {label, d.elements[rect].attrs.at("fill")};
    }
    return r;
}

} // namespace

TEST_CASE("component colours are fixed per bit and distinct for neighbours") {
    CHECK(css_color(component_rgb(5)) == css_color(component_rgb(5)));
    std::set<std::string> seen;
    for (unsigned b = 0; b < 20; ++b) seen.insert(css_color(component_rgb(b)));
    CHECK(seen.size() == 20);
    CHECK(css_color({0x12, 0xab, 0x00}) == "#12ab00");
}

TEST_CASE("layout SVG of Sapphire Rapids is well-formed with one labelled block per component") {
    if (!testing::have_xml_parser()) SKIP_TEST("built without expat (see tests/xml_check.hpp)");
    CpuModel cpu(testing::sapphire_rapids());
    std::string svg = layout_svg(layout_table(cpu, 0x602E7));
    auto doc = testing::parse_xml(svg);
    INFO(doc.error);
    REQUIRE(doc.ok);
    CHECK(doc.elements[0].name == "svg");
    CHECK(doc.elements[0].attrs.at("width") == "1200");
    auto std_col = column(doc, "standard", "sapphire-rapids"), cmp_col = column(doc, "compacted", "sapphire-rapids");
    CHECK(std_col.size() == 9);
    CHECK(cmp_col.size() == 9);
    CHECK(cmp_col[17].first == "AMX TILECFG 0x9c0 \u00b7 64 B");
    CHECK(cmp_col[18].first == "AMX TILEDATA 0xa00 \u00b7 8192 B");
    CHECK(std_col[18].first == "AMX TILEDATA 0xb00 \u00b7 8192 B");
    for (auto& [bit, v] : std_col) CHECK(v.second == cmp_col[bit].second);
    CHECK(std_col[17].second == css_color(component_rgb(17)));
    // The 56 bytes of padding before TILECFG in compacted form are drawn and labelled.
    bool padding = false;
    for (size_t g : doc.find("g", "class", "padding")) {
        const auto& e = doc.elements[g];
        std::string label;
        for (size_t c : e.children)
            if (doc.elements[c].name == "text") label = doc.elements[c].text;
        if (e.attrs.at("data-form") == "compacted" && label == "padding (64-byte alignment) 0x988 \u00b7 56 B") padding = true;
    }
    CHECK(padding);
}

TEST_CASE("compare SVG: both CPUs in both forms, a band per shared component") {
    if (!testing::have_xml_parser()) SKIP_TEST("built without expat (see tests/xml_check.hpp)");
    CpuModel g(testing::genoa()), s(testing::skylake_sp());
    std::string svg = compare_svg(compare_layouts(g, s));
    auto doc = testing::parse_xml(svg);
    INFO(doc.error);
    REQUIRE(doc.ok);
    CHECK(column(doc, "standard", "genoa").size() == 7);
    CHECK(column(doc, "standard", "skylake-sp").size() == 9);
    // Compacted: Skylake-SP reads Genoa's buffer with its XCOMP_BV 0x2e7, so no MPX in it and
    // opmask where Genoa put it (as the text and the "restorable as is" footer say).
    CHECK(column(doc, "compacted", "skylake-sp").size() == 7);
    CHECK(column(doc, "compacted", "skylake-sp")[5].first == "AVX-512 opmask 0x340 \u00b7 64 B");
    CHECK(column(doc, "standard", "genoa")[5].first == "AVX-512 opmask 0x340 \u00b7 64 B");
    CHECK(column(doc, "standard", "skylake-sp")[5].first == "AVX-512 opmask 0x440 \u00b7 64 B");
    size_t bands = 0, moved = 0;
    for (size_t b : doc.find("g", "class", "band")) {
        ++bands;
        if (doc.elements[b].attrs.at("data-placement") == "moved") {
            ++moved;
            CHECK(doc.elements[b].attrs.at("data-form") == "standard");
        }
    }
    CHECK(bands == 14);   // 7 shared components in each form
    CHECK(moved == 4);    // standard form only
    CHECK(svg.find("compacted buffers: restorable as is") != std::string::npos);
    // The same colour for opmask in all four columns.
    std::set<std::string> fills;
    for (const char* form : {"standard", "compacted"})
        for (const char* cpu : {"genoa", "skylake-sp"}) fills.insert(column(doc, form, cpu)[5].second);
    CHECK(fills.size() == 1);
}

TEST_CASE("xsavetool layout --svg writes a parseable picture and still prints the table") {
    if (!testing::have_xml_parser()) SKIP_TEST("built without expat (see tests/xml_check.hpp)");
    auto dir = std::filesystem::temp_directory_path() / ("xsave-svg-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    auto write_profile = [&](const Profile& p) {
        std::string path = (dir / (p.name + ".json")).string(), j = profile_to_json(p);
        testing::write_bytes(path, {j.begin(), j.end()});
        return testing::shell_quote(path);
    };
    std::string gen = write_profile(testing::genoa()), sky = write_profile(testing::skylake_sp());
    std::string out = (dir / "cmp.svg").string();
    auto r = testing::run_tool("layout --cpuid " + gen + " --compare " + sky + " --svg " + testing::shell_quote(out));
    CHECK(r.status == 1);
    CHECK(r.out.find("standard buffers:  needs `xsavetool convert`") != std::string::npos);
    auto doc = testing::parse_xml(testing::read_text(out));
    INFO(doc.error);
    CHECK(doc.ok);
    CHECK(column(doc, "compacted", "genoa").size() == 7);
    auto only = testing::run_tool("layout --cpuid " + gen + " --svg -");
    CHECK(only.status == 0);
    CHECK(only.out.starts_with("<?xml"));
    CHECK(testing::parse_xml(only.out).ok);
    std::filesystem::remove_all(dir);
}
