// CRIU images. Inputs are made by CRIU's own serializer (`crit encode`, Debian's criu 3.17)
// from JSON written here, following images/core-x86.proto and cpuinfo.proto; what xsavetool
// writes is read back with `crit decode`.
#include "helpers.hpp"

#include "xsave/criu.hpp"
#include "xsave/import.hpp"
#include "xsave/protobuf_wire.hpp"

#include <catch2/catch.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

namespace fs = std::filesystem;
using nlohmann::json;
using testing::run_tool;
using testing::shell_quote;

namespace {

bool have_crit() { return std::system("crit --help >/dev/null 2>&1") == 0; }

// Thread `tid`: AVX-512 and PKRU in use when `busy`, else only x87/SSE (fields present, zero).
json core_json(int tid, bool busy) {
    auto seq = [](int n, uint64_t start, uint64_t step) {
        json a = json::array();
        for (int i = 0; i < n; ++i) a.push_back(start + uint64_t(i) * step);
        return a;
    };
    auto zeros = [&](int n) { return seq(n, 0, 0); };
    json gp = json::object();
    for (const char* r : {"r15", "r14", "r13", "r12", "bp", "bx", "r11", "r10", "r9", "r8", "ax", "cx", "dx", "si", "di",
                          "orig_ax", "cs", "flags", "ss", "fs_base", "gs_base", "ds", "es", "fs", "gs"})
        gp[r] = 0;
    gp["ip"] = 0x401000 + tid;
    gp["sp"] = 0x7ffc0000;
    json xs = {{"xstate_bv", busy ? 0x2e7 : 0x3},
               {"ymmh_space", busy ? seq(64, 0x1000, 1) : zeros(64)},
               {"bndreg_state", zeros(8)},
               {"bndcsr_state", zeros(8)},
               {"opmask_reg", busy ? seq(8, 0x100, 1) : zeros(8)},
               {"zmm_upper", busy ? seq(64, 0x2000, 1) : zeros(64)},
               {"hi16_zmm", busy ? seq(128, 0x3000, 3) : zeros(128)},
               {"pkru", json::array({busy ? 0x55555554 : 0, 0})}};
    json fp = {{"cwd", 0x37f}, {"swd", 0}, {"twd", 0}, {"fop", 0}, {"rip", 0}, {"rdp", 0}, {"mxcsr", 0x1f80},
               {"mxcsr_mask", 0xffff}, {"st_space", zeros(32)}, {"xmm_space", seq(64, uint64_t(tid), 1)}, {"xsave", xs}};
    return {{"magic", "CORE"},
            {"entries", json::array({{{"mtype", "X86_64"},
                                      {"thread_info", {{"clear_tid_addr", 0}, {"gpregs", gp}, {"fpregs", fp}}},
                                      {"tc", {{"task_state", 1}, {"exit_code", 0}, {"personality", 0}, {"flags", 0},
                                              {"blk_sigset", 0}, {"comm", "t"}}},
                                      {"thread_core", {{"futex_rla", 0}, {"futex_rla_len", 0}}}}})}};
}

// A Skylake-SP dump: FPU/FXSR (word 0), OSXSAVE (word 4), XSAVEOPT..XSAVES (word 10).
json cpuinfo_json() {
    json caps = json::array();
    for (int i = 0; i < 25; ++i) caps.push_back(i == 0 ? 0x178bfbff : i == 4 ? 0x08000000 : i == 10 ? 0xf : 0);
    return {{"magic", "CPUINFO"},
            {"entries", json::array({{{"x86_entry", json::array({{{"vendor_id", "INTEL"}, {"cpu_family", 6}, {"model", 85},
                                                                  {"stepping", 4}, {"capability_ver", 2}, {"capability", caps},
                                                                  {"model_id", "Xeon"}, {"xfeatures_mask", 0x2ff},
                                                                  {"xsave_size", 2688}, {"xsave_size_max", 2696}}})}}})}};
}

struct ImageDir {
    fs::path root;
    fs::path dir;
    ImageDir() {
        static int n = 0;
        root = fs::temp_directory_path() / ("xsavetool-criu-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
        fs::remove_all(root);
        dir = root / "imgs";
        fs::create_directories(dir);
        encode(core_json(100, true), dir / "core-100.img");
        encode(core_json(101, false), dir / "core-101.img");
        encode(cpuinfo_json(), dir / "cpuinfo.img");
    }
    ~ImageDir() { fs::remove_all(root); }
    void encode(const json& j, const fs::path& out) {
        fs::path in = root / (out.filename().string() + ".json");
        std::ofstream(in) << j.dump();
        REQUIRE(std::system(("crit encode -i " + shell_quote(in.string()) + " -o " + shell_quote(out.string())).c_str()) == 0);
    }
    json decode(const fs::path& img) {
        fs::path out = root / "decoded.json";
        REQUIRE(std::system(("crit decode -i " + shell_quote(img.string()) + " -o " + shell_quote(out.string())).c_str()) == 0);
        return json::parse(testing::read_text(out.string()));
    }
};

json find_register(const json& area, const std::string& name) { return area["registers"][name]; }

} // namespace

TEST_CASE("protobuf wire: varints, packed and unpacked repeats, rebuild keeps untouched bytes", "[criu][protobuf]") {
    using namespace xsave::pb;
    std::vector<uint8_t> m;
    put_tag(m, 1, Varint);
    put_varint(m, 300);                     // ac 02
    put_repeated(m, 2, std::vector<uint64_t>{1, 2}, false);
    put_repeated(m, 3, std::vector<uint64_t>{~0ull}, true);
    CHECK(m == std::vector<uint8_t>{0x08, 0xac, 0x02, 0x10, 0x01, 0x10, 0x02, 0x1a, 0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                    0xff, 0xff, 0xff, 0x01});
    auto f = parse(m);
    REQUIRE(f.size() == 4);
    CHECK(varints(f, 1) == std::vector<uint64_t>{300});
    CHECK(varints(f, 2) == std::vector<uint64_t>{1, 2});
    CHECK(varints(f, 3) == std::vector<uint64_t>{~0ull});
    CHECK(rebuild(f, {}) == m);
    // Replace field 2 (both elements) by one element; add field 4 at the end; drop field 3.
    std::vector<uint8_t> two{0x10, 0x07}, four{0x20, 0x05};
    auto r = rebuild(f, {{2, two}, {4, four}, {3, {}}});
    CHECK(r == std::vector<uint8_t>{0x08, 0xac, 0x02, 0x10, 0x07, 0x20, 0x05});
    // Truncated: a length past the end, a varint cut short.
    CHECK_THROWS_WITH(parse(std::vector<uint8_t>{0x1a, 0x05, 0x01}, 100),
                      "offset 100: protobuf field 3: length 5 runs past the end of its message (1 bytes left)");
    CHECK_THROWS_WITH(parse(std::vector<uint8_t>{0x08, 0x80}), "offset 1: protobuf varint truncated (message ends after 1 bytes of it)");
}

TEST_CASE("CRIU images from crit: every thread is an area with its registers", "[criu]") {
    if (!have_crit()) SKIP_TEST("crit (Debian package criu) is not installed");
    ImageDir d;
    auto r = run_tool("dump " + shell_quote(d.dir.string()) + " --json");
    INFO(r.err);
    REQUIRE(r.status == 0);
    json j = json::parse(r.out);
    REQUIRE(j.is_array());
    REQUIRE(j.size() == 2);
    CHECK(j[0]["tid"] == 100);
    CHECK(j[0]["xstate_bv"] == "0x2e7");
    CHECK(find_register(j[0], "xmm0") == "0x00000067000000660000006500000064");
    CHECK(find_register(j[0], "k3") == "0x0000000000000103");
    CHECK(find_register(j[0], "pkru") == "0x55555554");
    // zmm0 = xmm0 | ymmh0 << 128 | zmm_upper0 << 256 (zmm_upper elements 0x2000..0x2003)
    CHECK(find_register(j[0], "zmm0") ==
          "0x00000000000020030000000000002002000000000000200100000000000020000000100300001002000010010000100000000067000000660000006500000064");
    std::string zmm16 = "0x";   // hi16_zmm elements 0..7: 0x3000, 0x3003, ... 0x3015
    for (int i = 7; i >= 0; --i) zmm16 += fmt::format("{:016x}", 0x3000 + 3 * i);
    CHECK(find_register(j[0], "zmm16") == zmm16);
    CHECK(j[1]["tid"] == 101);
    CHECK(j[1]["xstate_bv"] == "0x3");
    CHECK(find_register(j[1], "pkru") == "0x00000000");
    CHECK(j[0]["input"]["kind"] == "criu");
    CHECK(j[0]["context"]["rip"] == "0x401064");
    CHECK(j[0]["context"]["rsp"] == "0x7ffc0000");
    // A single core image works too, and diff compares threads.
    auto one = run_tool("dump " + shell_quote((d.dir / "core-101.img").string()) + " --json");
    CHECK(one.status == 0);
    auto diff = run_tool("diff " + shell_quote((d.dir / "core-100.img").string()) + " " + shell_quote((d.dir / "core-101.img").string()));
    CHECK(diff.status == 1);
    CHECK(diff.out.find("pkru") != std::string::npos);
}

TEST_CASE("CRIU check --for criu names each restore check", "[criu]") {
    if (!have_crit()) SKIP_TEST("crit (Debian package criu) is not installed");
    ImageDir d;
    auto ok = run_tool("check " + shell_quote(d.dir.string()) + " --for criu --on skylake-sp");
    INFO(ok.out << ok.err);
    CHECK(ok.status == 0);
    auto bad = run_tool("check " + shell_quote(d.dir.string()) + " --for criu --on zen3-milan --json");
    CHECK(bad.status == 1);
    json j = json::parse(bad.out);
    CHECK(j["ok"] == false);
    CHECK(j["host"]["xfeatures_mask"] == "0x207");
    std::vector<std::string> rules;
    for (const auto& v : j["violations"]) rules.push_back(v["rule"]);
    CHECK(rules == std::vector<std::string>{"criu-xfeatures", "criu-xsave-size", "criu-xsave-size-max"});
    CHECK(j["violations"][1]["message"] == "xsave_size 2688 in the image, 832 on the host");
    REQUIRE(j["threads"].size() == 2);
    CHECK(j["threads"][0]["violations"][0]["rule"] == "criu-state-dropped");
    CHECK(j["threads"][1]["ok"] == true);
    // Zen 2 reports PKRU as 64 bytes: CRIU's 8-byte pkru field does not match it.
    auto zen2 = run_tool("check " + shell_quote(d.dir.string()) + " --for criu --on zen2");
    CHECK(zen2.out.find("criu-feature-size: fpregs.xsave.pkru holds 8 bytes; PKRU is 64 bytes on the host") != std::string::npos);
}

TEST_CASE("CRIU convert: only the FP fields asked for change, crit reads the result", "[criu]") {
    if (!have_crit()) SKIP_TEST("crit (Debian package criu) is not installed");
    ImageDir d;
    fs::path out = d.root / "zen3";
    auto refused = run_tool("convert " + shell_quote(d.dir.string()) + " --to-cpuid zen3-milan -o " + shell_quote(out.string()));
    CHECK(refused.status == 2);
    CHECK(refused.err.find("are in use but the target layout lacks them; --drop opmask,zmm_hi256,hi16_zmm") != std::string::npos);
    CHECK(!fs::exists(out));

    auto r = run_tool("convert " + shell_quote(d.dir.string()) + " --to-cpuid zen3-milan --drop avx512 -o " + shell_quote(out.string()));
    INFO(r.err);
    REQUIRE(r.status == 0);
    CHECK(run_tool("check " + shell_quote(out.string()) + " --for criu --on zen3-milan").status == 0);
    for (const char* name : {"core-100.img", "core-101.img"}) {
        json before = d.decode(d.dir / name), after = d.decode(out / name);
        json& xb = before["entries"][0]["thread_info"]["fpregs"]["xsave"];
        json& xa = after["entries"][0]["thread_info"]["fpregs"]["xsave"];
        CHECK(xa["xstate_bv"] == (std::string(name) == "core-100.img" ? 0x207 : 0x3));
        for (const char* gone : {"bndreg_state", "bndcsr_state", "opmask_reg", "zmm_upper", "hi16_zmm"}) CHECK(!xa.contains(gone));
        CHECK(xa["ymmh_space"] == xb["ymmh_space"]);
        CHECK(xa["pkru"] == xb["pkru"]);
        xa = nullptr, xb = nullptr;
        CHECK(before == after);   // everything outside fpregs.xsave untouched
    }
    json ci = d.decode(out / "cpuinfo.img")["entries"][0]["x86_entry"][0];
    CHECK(ci["xfeatures_mask"] == 0x207);
    CHECK(ci["xsave_size"] == 832);
    CHECK(ci["xsave_size_max"] == 2440);
    CHECK(ci["capability"] == cpuinfo_json()["entries"][0]["x86_entry"][0]["capability"]);

    // A target holding everything the images hold: the core images come back byte for byte.
    fs::path same = d.root / "same";
    REQUIRE(run_tool("convert " + shell_quote(d.dir.string()) + " --to-cpuid skylake-sp -o " + shell_quote(same.string())).status == 0);
    for (const char* name : {"core-100.img", "core-101.img", "cpuinfo.img"})
        CHECK(testing::read_bytes((same / name).string()) == testing::read_bytes((d.dir / name).string()));
}

TEST_CASE("CRIU write_area: an edited register is the only change", "[criu]") {
    if (!have_crit()) SKIP_TEST("crit (Debian package criu) is not installed");
    ImageDir d;
    auto bytes = testing::read_bytes((d.dir / "core-101.img").string());
    auto t = xsave::criu::read_core(bytes, "core-101.img");
    CHECK(t.mask() == 0x2ff);
    xsave::CpuModel cpu(xsave::builtin_profile("skylake-sp"));
    const auto& L = cpu.standard(t.mask());
    auto area = xsave::criu::to_area(t, L);
    CHECK(xsave::criu::write_area(t, area, L) == bytes);
    area[L.offset[9]] = 0x0c;   // PKRU = 0xc, component now in use
    area[512] |= 0x2;
    area[513] |= 0x2;
    std::vector<std::string> notes;
    auto out = xsave::criu::write_area(t, area, L, &notes);
    CHECK(notes == std::vector<std::string>{"fpregs.xsave.pkru rewritten", "fpregs.xsave.xstate_bv 0x3 -> 0x203"});
    testing::write_bytes((d.root / "edited.img").string(), out);
    json a = d.decode(d.root / "edited.img"), b = d.decode(d.dir / "core-101.img");
    json& fa = a["entries"][0]["thread_info"]["fpregs"]["xsave"];
    CHECK(fa["pkru"] == json::array({12, 0}));
    CHECK(fa["xstate_bv"] == 0x203);
    fa["pkru"] = json::array({0, 0});
    fa["xstate_bv"] = 3;
    CHECK(a == b);
}
