// Cloud Hypervisor state.json, built here after the schema of cloud-hypervisor's
// hypervisor/src/kvm/x86_64/mod.rs (VcpuKvmState, commit 01de9806) and
// hypervisor/src/arch/x86/mod.rs (XsaveState {region: [u32; 1024], extra skipped when empty},
// FpuState, CpuIdEntry), the vm-migration Snapshot tree with each state as a JSON string (as
// issue 17 describes it), and kvm-bindings' serde of kvm_regs/kvm_sregs/kvm_xcrs as their bytes.
// Compact JSON with fields in declaration order, as serde_json writes it.
#include "helpers.hpp"

#include "xsave/cloudhv.hpp"
#include "xsave/import.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>

namespace fs = std::filesystem;
using nlohmann::json;
using nlohmann::ordered_json;
using testing::run_tool;
using testing::shell_quote;

namespace {

ordered_json bytes_le(size_t n, std::vector<std::pair<size_t, uint64_t>> fields) {
    std::vector<uint8_t> b(n, 0);
    for (auto [off, v] : fields)
        for (int i = 0; i < 8; ++i) b[off + i] = uint8_t(v >> (8 * i));
    ordered_json a = ordered_json::array();
    for (uint8_t x : b) a.push_back(x);
    return a;
}

// A Skylake-SP vCPU (the built-in profile's CPUID), XCR0 0x2e7; `busy`: AVX-512 and PKRU in use.
std::string vcpu_state(bool busy) {
    xsave::Profile p = xsave::builtin_profile("skylake-sp");
    ordered_json cpuid = ordered_json::array();
    for (const auto& l : p.leaves)
        cpuid.push_back({{"function", l.leaf}, {"index", l.subleaf}, {"flags", 0}, {"eax", l.eax}, {"ebx", l.ebx}, {"ecx", l.ecx}, {"edx", l.edx}});
    std::vector<uint32_t> r(1024, 0);
    r[0] = 0x037f, r[6] = 0x1f80, r[7] = 0xffff;
    for (uint32_t i = 0; i < 4; ++i) r[40 + i] = 0x11110000 + i;   // xmm0
    r[128] = busy ? 0x2e7 : 0x3;                                    // XSTATE_BV
    if (busy) {
        for (uint32_t i = 0; i < 4; ++i) r[576 / 4 + i] = 0x22220000 + i;    // ymmh0
        for (uint32_t i = 0; i < 2; ++i) r[1088 / 4 + i] = 0x33330000 + i;   // k0
        for (uint32_t i = 0; i < 8; ++i) r[1152 / 4 + i] = 0x44440000 + i;   // ZMM_Hi256 of zmm0
        for (uint32_t i = 0; i < 16; ++i) r[1664 / 4 + i] = 0x55550000 + i;  // zmm16
        r[2688 / 4] = 0x55555554;                                            // PKRU
    }
    ordered_json region = ordered_json::array();
    for (uint32_t w : r) region.push_back(w);
    auto zeros = [](size_t n) {
        ordered_json a = ordered_json::array();
        for (size_t i = 0; i < n; ++i) a.push_back(0);
        return a;
    };
    ordered_json fpr = ordered_json::array(), xmm = ordered_json::array();
    for (int i = 0; i < 8; ++i) fpr.push_back(zeros(16));
    for (int i = 0; i < 16; ++i) xmm.push_back(zeros(16));
    ordered_json kvm = {
        {"cpuid", cpuid},
        {"msrs", ordered_json::array({{{"index", 16}, {"data", 123}}})},
        {"vcpu_events", zeros(64)},
        {"regs", bytes_le(144, {{48, 0xffffc90000003f00}, {128, 0xffffffff81000000}})},
        {"sregs", bytes_le(312, {{224, 0x80050033}, {248, 0x3706f0}, {264, 0xd01}})},
        {"fpu", {{"fpr", fpr}, {"fcw", 0x37f}, {"fsw", 0}, {"ftwx", 0}, {"last_opcode", 0}, {"last_ip", 0}, {"last_dp", 0},
                 {"xmm", xmm}, {"mxcsr", 0x1f80}}},
        {"lapic_state", {{"regs", zeros(1024)}}},
        {"xsave", {{"region", region}}},
        {"xcrs", bytes_le(392, {{0, 1}, {16, 0x2e7}})},
        {"mp_state", zeros(4)},
        {"tsc_khz", 2000000},
        {"nested_state", nullptr}};
    return ordered_json{{"Kvm", kvm}}.dump();
}

std::string state_json() {
    auto node = [](const std::string& state) {
        return ordered_json{{"snapshots", ordered_json::object()}, {"snapshot_data", {{"state", state}}}};
    };
    ordered_json cm = {{"snapshots", {{"0", node(vcpu_state(true))}, {"1", node(vcpu_state(false))}}},
                       {"snapshot_data", {{"state", "{\"id\":\"cpu-manager\"}"}}}};
    ordered_json s = {{"snapshots", {{"cpu-manager", cm}, {"memory-manager", node("{\"note\":\"a\\\"b\\n\"}")}}},
                      {"snapshot_data", nullptr}};
    return s.dump();
}

struct Dir {
    fs::path dir;
    Dir() {
        static int n = 0;
        dir = fs::temp_directory_path() / ("xsavetool-cloudhv-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
        fs::remove_all(dir);
        fs::create_directories(dir);
    }
    ~Dir() { fs::remove_all(dir); }
    std::string path(const std::string& name) const { return (dir / name).string(); }
};

json inner(const json& outer, const std::string& id) {
    return json::parse(outer["snapshots"]["cpu-manager"]["snapshots"][id]["snapshot_data"]["state"].get<std::string>());
}

} // namespace

TEST_CASE("Cloud Hypervisor: each vCPU is an area, with its context", "[cloudhv]") {
    Dir d;
    std::string f = d.path("state.json");
    std::ofstream(f) << state_json();
    auto r = run_tool("dump " + shell_quote(f) + " --json");
    INFO(r.err);
    REQUIRE(r.status == 0);
    json j = json::parse(r.out);
    REQUIRE(j.size() == 2);
    CHECK(j[0]["xstate_bv"] == "0x2e7");
    CHECK(j[0]["registers"]["xmm0"] == "0x11110003111100021111000111110000");
    CHECK(j[0]["registers"]["k0"] == "0x3333000133330000");
    CHECK(j[0]["registers"]["pkru"] == "0x55555554");
    CHECK(j[0]["registers"]["zmm0"] == "0x444400074444000644440005444400044444000344440002444400014444000022220003222200022222000122220000"
                                       "11110003111100021111000111110000");
    CHECK(j[1]["xstate_bv"] == "0x3");
    CHECK(j[1]["registers"]["pkru"] == "0x00000000");
    CHECK(j[0]["input"]["kind"] == "cloud-hypervisor");
    CHECK(j[0]["context"] == json{{"rip", "0xffffffff81000000"}, {"rsp", "0xffffc90000003f00"}, {"cr0", "0x80050033"},
                                  {"cr4", "0x3706f0"}, {"efer", "0xd01"}});
    // The snapshot directory works as well as its state.json.
    CHECK(run_tool("dump " + shell_quote(d.dir.string()) + " --thread 1").status == 0);
}

TEST_CASE("Cloud Hypervisor: check --on names layout and size problems per vCPU", "[cloudhv]") {
    Dir d;
    std::string f = d.path("state.json");
    std::ofstream(f) << state_json();
    auto same = run_tool("check " + shell_quote(f) + " --for kvm --on skylake-sp");
    INFO(same.out << same.err);
    CHECK(same.status == 0);
    auto r = run_tool("check " + shell_quote(f) + " --for kvm --on zen4-genoa --json");
    CHECK(r.status == 1);
    json j = json::parse(r.out);
    REQUIRE(j.size() == 2);
    CHECK(j[0]["ok"] == false);
    CHECK(j[0]["violations"][0]["rule"] == "layout-differs");
    CHECK(j[0]["violations"][3]["message"] ==
          "PKRU is at 2688 (8 bytes) in the snapshot and at 2432 (8 bytes) on the target: convert --to-cpuid first");
    CHECK(j[1]["ok"] == true);
    // Sapphire Rapids with AMX: KVM_GET_XSAVE2 uses 11008 bytes, the region alone holds 4096.
    auto spr = run_tool("check " + shell_quote(f) + " --for kvm --on sapphire-rapids --json");
    json s = json::parse(spr.out);
    bool size_rule = false;
    for (const auto& v : s[1]["violations"]) size_rule |= v["rule"] == "kvm-xsave2-size";
    CHECK(size_rule);
}

TEST_CASE("Cloud Hypervisor: convert rewrites only the xsave arrays, and back", "[cloudhv]") {
    Dir d;
    std::string f = d.path("state.json"), zen = d.path("zen4.json"), back = d.path("back.json");
    std::string text = state_json();
    std::ofstream(f) << text;
    auto r = run_tool("convert " + shell_quote(f) + " --to-cpuid zen4-genoa -o " + shell_quote(zen));
    INFO(r.err);
    REQUIRE(r.status == 0);
    json a = json::parse(text), b = json::parse(testing::read_text(zen));
    for (const char* id : {"0", "1"}) {
        json ia = inner(a, id), ib = inner(b, id);
        CHECK(ib["Kvm"]["xsave"]["region"].size() == 1024);
        CHECK(!ib["Kvm"]["xsave"].contains("extra"));
        ia["Kvm"]["xsave"] = nullptr, ib["Kvm"]["xsave"] = nullptr;
        CHECK(ia == ib);   // fpu, cpuid, regs, ... untouched
        a["snapshots"]["cpu-manager"]["snapshots"][id] = nullptr, b["snapshots"]["cpu-manager"]["snapshots"][id] = nullptr;
    }
    CHECK(a == b);
    // The same registers, now where a Zen 4 keeps them (PKRU at 2432).
    auto before = json::parse(run_tool("dump " + shell_quote(f) + " --json").out);
    auto after = json::parse(run_tool("dump " + shell_quote(zen) + " --cpuid zen4-genoa --json").out);
    for (size_t i = 0; i < 2; ++i) {
        CHECK(before[i]["xstate_bv"] == after[i]["xstate_bv"]);
        for (const char* reg : {"xmm0", "ymm0", "zmm0", "zmm16", "k0", "pkru", "fcw", "mxcsr"})
            CHECK(before[i]["registers"][reg] == after[i]["registers"][reg]);
    }
    CHECK(inner(json::parse(testing::read_text(zen)), "0")["Kvm"]["xsave"]["region"][2432 / 4] == 0x55555554);
    // Back to Skylake-SP: the original file, byte for byte.
    REQUIRE(run_tool("convert " + shell_quote(zen) + " --cpuid zen4-genoa --to-cpuid skylake-sp -o " + shell_quote(back)).status == 0);
    CHECK(testing::read_text(back) == text);
}

TEST_CASE("Cloud Hypervisor: serde_json escaping and a rewrite that changes nothing", "[cloudhv]") {
    CHECK(xsave::cloudhv::serde_escape("a\"b\\c\n\x01") == "a\\\"b\\\\c\\n\\u0001");
    std::string text = state_json();
    auto s = xsave::cloudhv::read_state(text);
    REQUIRE(s.vcpus.size() == 2);
    CHECK(s.vcpus[0].xcr0 == 0x2e7);
    CHECK(s.vcpus[0].rip == 0xffffffff81000000ull);
    CHECK(s.vcpus[0].efer == 0xd01);
    std::vector<std::vector<uint8_t>> areas{s.vcpus[0].xsave, s.vcpus[1].xsave};
    CHECK(xsave::cloudhv::write_state(s, areas) == text);
    // A larger buffer (AMX host): "extra" appears right after "region".
    areas[1].resize(11008, 0);
    areas[1][4096] = 7;
    auto out = xsave::cloudhv::write_state(s, areas);
    auto v = xsave::cloudhv::read_state(out).vcpus[1];
    CHECK(v.extra_words == (11008 - 4096) / 4);
    CHECK(v.xsave[4096] == 7);
    size_t region = v.state.find("\"region\":["), extra = v.state.find("],\"extra\":[7,"), xcrs = v.state.find("]},\"xcrs\":[");
    CHECK(region < extra);
    CHECK(extra < xcrs);
    CHECK(xcrs != std::string::npos);
}
