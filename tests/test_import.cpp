// Importers: AIDA64 dumps, `cpuid -r`, dmesg CPUID[..] lines, detection, resolving specs.
#include "helpers.hpp"

#include "xsave/error.hpp"
#include "xsave/import.hpp"
#include "xsave/layout.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <algorithm>
#include <map>
#include <regex>

using namespace xsave;

namespace {

std::string import_error(const std::string& text, ImportOptions opt = {}) {
    try {
        import_profile(text, opt);
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

std::vector<std::string> corpus_dumps() {
    std::vector<std::string> files;
    for (const auto& e : std::filesystem::directory_iterator(testing::shared_path("corpus/cpuid-aida64")))
        if (e.path().extension() == ".txt") files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    return files;
}

// An independent reading of the first CPU's leaf 0xD lines, to check the importer against.
std::map<uint32_t, CpuidLeaf> leaf0d_by_regex(const std::string& text) {
    std::map<uint32_t, CpuidLeaf> out;
    std::regex re(R"(^CPUID 0000000D: ([0-9A-F]{8})-([0-9A-F]{8})-([0-9A-F]{8})-([0-9A-F]{8}) \[SL ([0-9A-F]{2})\])");
    std::istringstream in(text);
    std::string line;
    bool started = false;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.rfind("------[", 0) == 0) {
            if (started) break;   // the first CPU block ended
            continue;
        }
        std::smatch m;
        if (std::regex_search(line, m, re)) {
            started = true;
            auto h = [&](int i) { return uint32_t(std::stoul(m[i].str(), nullptr, 16)); };
            out[h(5)] = {0xD, h(5), h(1), h(2), h(3), h(4)};
        } else if (std::regex_search(line, std::regex("^CPUID [0-9A-F]{8}:"))) {
            started = true;
        }
    }
    return out;
}

} // namespace

TEST_CASE("every AIDA64 corpus dump imports, leaf 0xD exactly as written, layout matches") {
    if (!testing::have_shared()) SKIP_TEST("needs ../shared/corpus");
    auto files = corpus_dumps();
    REQUIRE(files.size() == 33);
    for (const auto& f : files) {
        INFO(f);
        std::string text = testing::read_text(f);
        Profile p = resolve_profile(f);
        CHECK(p.warnings.empty());
        CHECK(!p.vendor.empty());
        CHECK(std::filesystem::path(f).filename().string().rfind(p.vendor, 0) == 0);   // files are named VendorFMS_...
        CHECK(!p.name.empty());
        auto expect = leaf0d_by_regex(text);
        REQUIRE(expect.size() >= 2);
        size_t n0d = 0;
        for (const auto& l : p.leaves) n0d += l.leaf == 0xD;
        CHECK(n0d == expect.size());
        for (const auto& [sl, l] : expect) {
            INFO("subleaf " << sl);
            REQUIRE(p.find(0xD, sl));
            CHECK(*p.find(0xD, sl) == l);
        }
        // The layout engine: standard size of all supported user bits is CPUID.(0xD,0).ECX,
        // and every user component sits at the offset the dump gives.
        CpuModel cpu(p);
        uint64_t user = cpu.supported_xcr0();
        const Layout& L = cpu.standard(user);
        CHECK(L.total_size == p.find(0xD, 0)->ecx);
        for (unsigned b = 2; b < 63; ++b)
            if (user >> b & 1) {
                INFO("bit " << b);
                CHECK(L.offset[b] == expect.at(b).ebx);
                CHECK(L.size[b] == expect.at(b).eax);
            }
    }
}

TEST_CASE("AIDA64: logical CPU selection, headerless dumps, vendor and name") {
    if (!testing::have_shared()) SKIP_TEST("needs ../shared/corpus");
    std::string spr = testing::shared_path("corpus/cpuid-aida64/GenuineIntel00806F8_SapphireRapids_05_CPUID.txt");
    Profile p0 = resolve_profile(spr);
    CHECK(p0.vendor == "GenuineIntel");
    CHECK(p0.name == "Intel(R) Xeon(R) w7-2475X");
    REQUIRE(p0.find(0xD, 0));
    CHECK(*p0.find(0xD, 0) == CpuidLeaf{0xD, 0, 0x000602E7, 0x00002B00, 0x00002B00, 0});
    CHECK(*p0.find(0xD, 0x12) == CpuidLeaf{0xD, 0x12, 0x2000, 0xB00, 6, 0});
    CHECK(*p0.find(7, 1) == CpuidLeaf{7, 1, 0x00001C30, 0, 0, 0});
    CHECK(*p0.find(1) == CpuidLeaf{1, 0, 0x000806F8, 0x00800800, 0x7FFEFBFF, 0xBFEBFBFF});
    // CPU #1 is a different APIC ID in leaf 1 EBX.
    Profile p1 = resolve_profile(spr, {1, {}});
    REQUIRE(p1.find(1));
    CHECK(p1.find(1)->ebx != p0.find(1)->ebx);
    CHECK(*p1.find(0xD, 0) == *p0.find(0xD, 0));
    try {
        resolve_profile(spr, {500, {}});
        FAIL("no error");
    } catch (const Error& e) {
        CHECK(std::string(e.what()) == spr + ": aida64: no logical CPU #500 in the dump (40 CPU blocks)");
    }

    // Knights Landing has no block headers and no brand string: the file name names it.
    Profile knl = resolve_profile(testing::shared_path("corpus/cpuid-aida64/GenuineIntel0050670_KnightsLanding_CPUID.txt"));
    CHECK(knl.name == "GenuineIntel0050670_KnightsLanding_CPUID");
    CHECK(knl.vendor == "GenuineIntel");
    CHECK(*knl.find(0xD, 0) == CpuidLeaf{0xD, 0, 0xE7, 0xA80, 0xA80, 0});

    // Older dumps use "------[ Logical CPU #N ]------".
    Profile il = resolve_profile(testing::shared_path("corpus/cpuid-aida64/AuthenticAMD0600F12_K15_Interlagos_CPUID2.txt"));
    CHECK(il.vendor == "AuthenticAMD");
    CHECK(*il.find(0xD, 0x3E) == CpuidLeaf{0xD, 0x3E, 0x80, 0x340, 0, 0});
}

TEST_CASE("AIDA64: untagged repeated leaves only where unambiguous, with warnings") {
    const std::string head = "CPUID 00000000: 0000000D-756E6547-6C65746E-49656E69\n";
    // Leaf 0xD untagged: 0, 1, then the supported components (2, 5, 6, 7) in bit order.
    std::string ok = head +
                     "CPUID 0000000D: 000000E7-00000A80-00000A80-00000000\n"
                     "CPUID 0000000D: 00000001-00000000-00000000-00000000\n"
                     "CPUID 0000000D: 00000100-00000240-00000000-00000000\n"
                     "CPUID 0000000D: 00000040-00000440-00000000-00000000\n"
                     "CPUID 0000000D: 00000200-00000480-00000000-00000000\n"
                     "CPUID 0000000D: 00000400-00000680-00000000-00000000\n"
                     "CPUID 00000007: 00000000-1C0D23AB-00000001-00000000\n"
                     "CPUID 00000007: 00000000-00000000-00000000-00000005\n";
    Profile p = import_profile(ok);
    CHECK(*p.find(0xD, 5) == CpuidLeaf{0xD, 5, 0x40, 0x440, 0, 0});
    CHECK(*p.find(0xD, 7) == CpuidLeaf{0xD, 7, 0x400, 0x680, 0, 0});
    CHECK(*p.find(7, 0) == CpuidLeaf{7, 0, 0, 0x1C0D23AB, 1, 0});
    CHECK(p.find(7, 1) == nullptr);
    REQUIRE(p.warnings.size() == 2);
    CHECK(p.warnings[0] == "aida64: leaf 0x7 has 2 untagged lines; kept the first as subleaf 0, dropped 1 whose subleaf is ambiguous");
    CHECK(p.warnings[1] ==
          "aida64: leaf 0xd has 6 untagged lines; assigned to subleaves 0, 1 and the supported components in bit order");

    // One line short: which component is missing cannot be told.
    std::string short_by_one = head +
                               "CPUID 0000000D: 000000E7-00000A80-00000A80-00000000\n"
                               "CPUID 0000000D: 00000001-00000000-00000000-00000000\n"
                               "CPUID 0000000D: 00000100-00000240-00000000-00000000\n"
                               "CPUID 0000000D: 00000200-00000480-00000000-00000000\n";
    Profile q = import_profile(short_by_one);
    CHECK(q.find(0xD, 0));
    CHECK(q.find(0xD, 1));
    CHECK(q.find(0xD, 2) == nullptr);
    REQUIRE(q.warnings.size() == 1);
    CHECK(q.warnings[0] == "aida64: leaf 0xd has 4 untagged lines for 6 expected subleaves; kept subleaves 0 and 1, dropped the rest");
}

TEST_CASE("AIDA64: malformed lines name the line") {
    CHECK(import_error("CPUID 00000000: 0000000D-756E6547-6C65746E\n") ==
          "aida64: line 1: expected four 8-digit hex registers: \"CPUID 00000000: 0000000D-756E6547-6C65746E\"");
    CHECK(import_error("x\nCPUID 0000000D: 000000E7-00000A80-00000A80-00000000 [SL zz]\n") ==
          "aida64: line 2: malformed [SL nn] tag: \"CPUID 0000000D: 000000E7-00000A80-00000A80-00000000 [SL zz]\"");
    CHECK(import_error("------[ CPUID Registers / Logical CPU #3 ]------\nCPUID 00000000: 0000000D-756E6547-6C65746E-49656E69\n") ==
          "aida64: no logical CPU #0 in the dump (1 CPU blocks)");
}

TEST_CASE("cpuid -r: this host's capture imports and equals host_profile() on leaf 0xD") {
    std::string text = testing::read_text(testing::data_path("profiles/host-epyc.cpuid-r.txt"));
    CHECK(detect_format(text) == ImportFormat::CpuidRaw);
    Profile p = import_profile(text, {0, "host-epyc"});
    CHECK(p.vendor == "AuthenticAMD");
    CHECK(p.name == "Oxide Virtual Turin-like Processor");
    CHECK(*p.find(0xD, 0) == CpuidLeaf{0xD, 0, 0xE7, 0x980, 0x980, 0});
    CHECK(*p.find(0xD, 7) == CpuidLeaf{0xD, 7, 0x400, 0x580, 0, 0});
    CHECK(*p.find(7, 1) == CpuidLeaf{7, 1, 0x30, 0, 0, 0});
    Profile p1 = import_profile(text, {1, {}});
    CHECK(p1.find(1)->ebx != p.find(1)->ebx);   // APIC IDs differ
    CHECK(import_error(text, {2, {}}) == "cpuid -r: no CPU 2 in the output (2 CPU blocks)");

    Profile h = host_profile();
    if (h.name != "host: " + p.name) SKIP_TEST("this host (" + h.name + ") is not the one captured (" + p.name + ")");
    for (const auto& src : {p, import_profile("CPU:\n" + text.substr(text.find('\n') + 1))}) {
        std::vector<CpuidLeaf> a, b;
        for (const auto& l : src.leaves) if (l.leaf == 0xD) a.push_back(l);
        for (const auto& l : h.leaves) if (l.leaf == 0xD) b.push_back(l);
        CHECK(a == b);
    }
}

TEST_CASE("cpuid -r: live output of the cpuid tool, when installed") {
    if (std::system("command -v cpuid >/dev/null 2>&1") != 0) SKIP_TEST("cpuid (Debian package cpuid) not installed");
    std::string out = (std::filesystem::temp_directory_path() / ("cpuid-r-" + std::to_string(::getpid()))).string();
    REQUIRE(std::system(("cpuid -1 -r >" + out).c_str()) == 0);
    Profile p = import_profile(testing::read_text(out));
    std::filesystem::remove(out);
    Profile h = host_profile();
    for (const auto& l : p.leaves)
        if (l.leaf == 0xD) {
            INFO("subleaf " << l.subleaf);
            REQUIRE(h.find(0xD, l.subleaf));
            CHECK(*h.find(0xD, l.subleaf) == l);
        }
    CHECK(p.vendor == h.vendor);
}

TEST_CASE("cpuid -r: malformed lines name the line") {
    CHECK(import_error("CPU 0:\n   0x0000000d 0x00: eax=0x000000e7 ebx=0x00000980 ecx=0x00000980\n") ==
          "cpuid -r: line 2: expected \"0xLEAF 0xSUB: eax=0x... ebx=0x... ecx=0x... edx=0x...\", got "
          "\"0x0000000d 0x00: eax=0x000000e7 ebx=0x00000980 ecx=0x00000980\"");
    CHECK(import_error("CPU 0:\n   0x0000000d 0x00: eax=0x1ffffffff ebx=0x0 ecx=0x0 edx=0x0\n").rfind("cpuid -r: line 2: ", 0) == 0);
}

TEST_CASE("dmesg: the TDX guest's leaf 0xD imports") {
    if (!testing::have_shared()) SKIP_TEST("needs ../shared/corpus");
    std::string f = testing::shared_path("corpus/dmesg/tdx-guest-leaf0d.txt");
    Profile p = resolve_profile(f);
    CHECK(p.name == "tdx-guest-leaf0d");
    CHECK(p.vendor.empty());
    CHECK(p.leaves.size() == 19);
    CHECK(*p.find(0xD, 0) == CpuidLeaf{0xD, 0, 0x600e7, 0x2b00, 0x2b00, 0});
    CHECK(*p.find(0xD, 1) == CpuidLeaf{0xD, 1, 0x1b, 0x29d0, 0x1800, 0});
    CHECK(*p.find(0xD, 0x12) == CpuidLeaf{0xD, 0x12, 0x2000, 0xb00, 6, 0});
    REQUIRE(p.warnings.size() == 1);
    CHECK(p.warnings[0] == "dmesg: the kernel prints only leaf 0xd: no vendor, feature flags or enabled XCR0/IA32_XSS");
}

TEST_CASE("dmesg: lines without timestamps, and errors") {
    Profile p = import_profile("CPUID[0d, 00]: eax=00000007 ebx=00000340 ecx=00000340 edx=00000000\n"
                               "CPUID[0d, 02]: eax=00000100 ebx=00000240 ecx=00000000 edx=00000000\n");
    CHECK(p.name == "dmesg");
    CHECK(*p.find(0xD, 2) == CpuidLeaf{0xD, 2, 0x100, 0x240, 0, 0});
    CHECK(import_error("[ 1.0] CPUID[0d, 00]: eax=00000007 ebx=00000340\n") ==
          "dmesg: line 1: expected \"CPUID[LL, SS]: eax=... ebx=... ecx=... edx=...\", got \"CPUID[0d, 00]: eax=00000007 ebx=00000340\"");
    CHECK(import_error("CPUID[0d, 00]: eax=00000007 ebx=00000340 ecx=00000340 edx=00000000\n", {1, {}}) ==
          "dmesg: the kernel prints one CPU's leaf 0xd; --cpu does not apply");
}

TEST_CASE("format detection and resolving specs") {
    CHECK(detect_format("  \n{\"leaves\": []}") == ImportFormat::Json);
    CHECK(detect_format("\xEF\xBB\xBF{}") == ImportFormat::Json);
    CHECK(import_error("{\"leaves\": []}", {1, {}}) == "json: a profile describes one CPU; --cpu does not apply");
    CHECK(detect_format("junk\nCPUID 00000000: 0000000D-756E6547-6C65746E-49656E69\n") == ImportFormat::Aida64);
    CHECK(detect_format("x CPUID[0d, 00]: eax=00000007 ebx=0 ecx=0 edx=0") == ImportFormat::Dmesg);
    CHECK(import_error("hello\nworld\n") ==
          "unrecognised profile format: expected our JSON, `cpuid -r` output, an AIDA64 CPUID dump or dmesg CPUID[..] lines");
    CHECK(import_error("") ==
          "unrecognised profile format: expected our JSON, `cpuid -r` output, an AIDA64 CPUID dump or dmesg CPUID[..] lines");
    // The "CPUID Manufacturer:" lines of AIDA64's CPU Info section are not leaves.
    CHECK(import_error("CPUID Manufacturer: GenuineIntel\n").rfind("unrecognised profile format", 0) == 0);

    CHECK(resolve_profile("host").name.rfind("host: ", 0) == 0);
    Profile spr = resolve_profile("sapphire-rapids");
    CHECK(spr.vendor == "GenuineIntel");
    CHECK(*spr.find(0xD, 0) == CpuidLeaf{0xD, 0, 0x000602E7, 0x00002B00, 0x00002B00, 0});
    try {
        resolve_profile("no-such-cpu");
        FAIL("no error");
    } catch (const Error& e) {
        CHECK(std::string(e.what()).rfind("no-such-cpu: no such file or built-in profile (built-in: alderlake, arrowlake, ", 0) == 0);
    }
    try {
        resolve_profile("/nonexistent/p.json");
        FAIL("no error");
    } catch (const Error& e) {
        CHECK(std::string(e.what()) == "/nonexistent/p.json: No such file or directory");
    }
    try {
        resolve_profile("/tmp");
        FAIL("no error");
    } catch (const Error& e) {
        CHECK(std::string(e.what()) == "/tmp: not a regular file");
    }
}

TEST_CASE("built-in profiles: at least 12 real CPUs, all usable and consistent in size") {
    auto all = builtin_profiles();
    REQUIRE(all.size() >= 12);
    uint64_t seen_xcr0 = 0, seen_xss = 0;
    bool intel = false, amd = false;
    for (size_t i = 0; i < all.size(); ++i) {
        INFO(all[i].name);
        if (i) CHECK(all[i - 1].name < all[i].name);
        Profile p = builtin_profile(all[i].name);
        CHECK(p.warnings.empty());
        intel |= p.vendor == "GenuineIntel";
        amd |= p.vendor == "AuthenticAMD";
        CpuModel cpu(p);
        seen_xcr0 |= cpu.supported_xcr0();
        seen_xss |= cpu.supported_xss();
        CHECK(cpu.standard(cpu.supported_xcr0()).total_size == p.find(0xD, 0)->ecx);
        for (const auto& l : p.leaves)
            CHECK((l.leaf == 0 || l.leaf == 1 || l.leaf == 7 || l.leaf == 0xD || l.leaf == 0x80000000 || l.leaf == 0x80000001));
    }
    CHECK(intel);
    CHECK(amd);
    CHECK((seen_xcr0 & 0x18) == 0x18);                 // MPX
    CHECK((seen_xcr0 & 0xE0) == 0xE0);                 // AVX-512
    CHECK((seen_xcr0 >> 9 & 1));                        // PKRU
    CHECK((seen_xcr0 & 0x60000) == 0x60000);           // AMX
    CHECK((seen_xcr0 >> 62 & 1));                       // AMD LWP
    CHECK((seen_xss & 0x1800) == 0x1800);              // CET
    CHECK_THROWS_WITH(builtin_profile("nope"), Catch::StartsWith("no built-in profile \"nope\" (built-in: alderlake, "));
}
