// Cloud Hypervisor state.json, built here after the schema of cloud-hypervisor's
// hypervisor/src/kvm/x86_64/mod.rs (VcpuKvmState, commit 01de9806) and
// hypervisor/src/arch/x86/mod.rs (XsaveState {region: [u32; 1024], extra skipped when empty},
// FpuState, CpuIdEntry), the vm-migration Snapshot tree with each state as a JSON string (as
// issue 17 describes it), and kvm-bindings' serde of kvm_regs/kvm_sregs/kvm_xcrs as their bytes.
// Compact JSON with fields in declaration order, as serde_json writes it. The MSHV vCPU follows
// hypervisor/src/mshv/x86_64/mod.rs (VcpuMshvState with vp_states) and mshv-bindings
// src/x86_64/regs.rs + serializers.rs (AllVpStateComponents as its 13512 bytes, LAPIC 1024 then
// the XSAVE page; StandardRegisters, SpecialRegisters, Xcrs with named fields): Cloud Hypervisor
// with MSHV cannot run here, so that snapshot is built by hand. nested_state is kvm-bindings'
// KvmNestedStateBuffer serialized as its 8320 bytes (src/x86_64/serialize.rs).
#include "helpers.hpp"
#include "nested_builders.hpp"

#include "xsave/cloudhv.hpp"
#include "xsave/convert.hpp"
#include "xsave/import.hpp"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <map>

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
// hypervisor/src/arch/x86/mod.rs FpuState (KVM and MSHV vCPUs carry the same one).
ordered_json fpu_state() {
    auto zeros = [](size_t n) { return ordered_json(std::vector<int>(n, 0)); };
    ordered_json fpr = ordered_json::array(), xmm = ordered_json::array();
    for (int i = 0; i < 8; ++i) fpr.push_back(zeros(16));
    for (int i = 0; i < 16; ++i) xmm.push_back(zeros(16));
    return {{"fpr", fpr}, {"fcw", 0x37f}, {"fsw", 0}, {"ftwx", 0}, {"last_opcode", 0}, {"last_ip", 0}, {"last_dp", 0},
            {"xmm", xmm}, {"mxcsr", 0x1f80}};
}

// Leaf 0xD sizes as KVM_GET_CPUID2 reports them: subleaf 0 EBX for the vCPU's XCR0, ECX for
// every supported component (KVM recomputes both).
std::string vcpu_state(bool busy, const std::vector<uint8_t>& nested = {}) {
    xsave::Profile p = xsave::builtin_profile("skylake-sp");
    xsave::CpuModel m(p);
    ordered_json cpuid = ordered_json::array();
    for (auto l : p.leaves) {
        if (l.leaf == 0xD && l.subleaf == 0) l.ebx = m.standard(0x2e7).total_size, l.ecx = m.standard(m.supported_xcr0()).total_size;
        cpuid.push_back({{"function", l.leaf}, {"index", l.subleaf}, {"flags", 0}, {"eax", l.eax}, {"ebx", l.ebx}, {"ecx", l.ecx}, {"edx", l.edx}});
    }
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
    ordered_json kvm = {
        {"cpuid", cpuid},
        {"msrs", ordered_json::array({{{"index", 16}, {"data", 123}}})},
        {"vcpu_events", zeros(64)},
        {"regs", bytes_le(144, {{48, 0xffffc90000003f00}, {128, 0xffffffff81000000}})},
        {"sregs", bytes_le(312, {{224, 0x80050033}, {248, 0x3706f0}, {264, 0xd01}})},
        {"fpu", fpu_state()},
        {"lapic_state", {{"regs", zeros(1024)}}},
        {"xsave", {{"region", region}}},
        {"xcrs", bytes_le(392, {{0, 1}, {16, 0x2e7}})},
        {"mp_state", zeros(4)},
        {"tsc_khz", 2000000},
        {"nested_state", nullptr}};
    if (!nested.empty()) {
        ordered_json n = ordered_json::array();
        for (uint8_t b : nested) n.push_back(b);
        kvm["nested_state"] = n;
    }
    return ordered_json{{"Kvm", kvm}}.dump();
}

std::string snapshot(const std::vector<std::string>& vcpus) {
    auto node = [](const std::string& state) {
        return ordered_json{{"snapshots", ordered_json::object()}, {"snapshot_data", {{"state", state}}}};
    };
    ordered_json list = ordered_json::object();
    for (size_t i = 0; i < vcpus.size(); ++i) list[std::to_string(i)] = node(vcpus[i]);
    ordered_json cm = {{"snapshots", list}, {"snapshot_data", {{"state", "{\"id\":\"cpu-manager\"}"}}}};
    return ordered_json{{"snapshots", {{"cpu-manager", cm}}}, {"snapshot_data", nullptr}}.dump();
}

// KvmNestedStateBuffer: the header and VMCS12 KVM_GET_NESTED_STATE wrote, in its 8320 bytes.
std::vector<uint8_t> nested_buffer(std::vector<uint8_t> b) {
    b.resize(8320, 0);
    return b;
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

// Leaf 0xD entries of a state's cpuid, by subleaf.
std::map<uint32_t, json> leaf_d(const json& state) {
    std::map<uint32_t, json> out;
    for (const auto& e : state["Kvm"]["cpuid"])
        if (e["function"] == 13) out[e["index"].get<uint32_t>()] = e;
    return out;
}
json without_leaf_d(json state) {
    json keep = json::array();
    for (const auto& e : state["Kvm"]["cpuid"])
        if (e["function"] != 13) keep.push_back(e);
    state["Kvm"]["cpuid"] = keep;
    state["Kvm"]["xsave"] = nullptr;
    return state;
}

TEST_CASE("Cloud Hypervisor: convert rewrites the xsave arrays and leaf 0xD's layout, and back", "[cloudhv]") {
    Dir d;
    std::string f = d.path("state.json"), zen = d.path("zen4.json"), back = d.path("back.json");
    std::string text = state_json();
    std::ofstream(f) << text;
    auto r = run_tool("convert " + shell_quote(f) + " --to-cpuid zen4-genoa -o " + shell_quote(zen));
    INFO(r.err);
    REQUIRE(r.status == 0);
    CHECK(r.err.find("CPUID leaf 0xD layout entries set to") != std::string::npos);
    json a = json::parse(text), b = json::parse(testing::read_text(zen));
    xsave::Profile genoa = xsave::builtin_profile("zen4-genoa");
    for (const char* id : {"0", "1"}) {
        json ia = inner(a, id), ib = inner(b, id);
        CHECK(ib["Kvm"]["xsave"]["region"].size() == 1024);
        CHECK(!ib["Kvm"]["xsave"].contains("extra"));
        // Leaf 0xD now describes the buffer: Zen 4's offsets and sizes, Skylake-SP's feature bits.
        auto la = leaf_d(ia), lb = leaf_d(ib);
        CHECK(lb[9]["ebx"] == 2432);                       // PKRU offset
        CHECK(lb[5]["ebx"] == genoa.find(0xD, 5)->ebx);    // opmask
        CHECK(lb[3] == la[3]);                             // MPX: Zen 4 has none, entry kept
        CHECK(lb[0]["eax"] == la[0]["eax"]);
        CHECK(lb[0]["edx"] == la[0]["edx"]);
        CHECK(lb[0]["ebx"] == 2440);                       // Zen 4's standard size for XCR0 0x2e7
        CHECK(lb[1] == la[1]);
        CHECK(without_leaf_d(ia) == without_leaf_d(ib));   // fpu, the other leaves, regs, xcrs, ... untouched
        a["snapshots"]["cpu-manager"]["snapshots"][id] = nullptr, b["snapshots"]["cpu-manager"]["snapshots"][id] = nullptr;
    }
    CHECK(a == b);
    // Read back without --cpuid: the snapshot's own leaf 0xD lays it out; every register as before.
    auto before = json::parse(run_tool("dump " + shell_quote(f) + " --json").out);
    auto after_run = run_tool("dump " + shell_quote(zen) + " --json");
    INFO(after_run.err);
    REQUIRE(after_run.status == 0);
    auto after = json::parse(after_run.out);
    for (size_t i = 0; i < 2; ++i) {
        CHECK(before[i]["xstate_bv"] == after[i]["xstate_bv"]);
        CHECK(before[i]["registers"] == after[i]["registers"]);
    }
    CHECK(after[0]["registers"]["pkru"] == "0x55555554");
    CHECK(inner(json::parse(testing::read_text(zen)), "0")["Kvm"]["xsave"]["region"][2432 / 4] == 0x55555554);
    // The converted snapshot passes the layout checks on Zen 4, as the original does on Skylake-SP.
    auto chk = run_tool("check " + shell_quote(zen) + " --for kvm --on zen4-genoa");
    INFO(chk.out);
    CHECK(chk.status == 0);
    // Back to Skylake-SP, again without --cpuid: the original file, byte for byte.
    REQUIRE(run_tool("convert " + shell_quote(zen) + " --to-cpuid skylake-sp -o " + shell_quote(back)).status == 0);
    CHECK(testing::read_text(back) == text);
}

TEST_CASE("Cloud Hypervisor: a host without AVX-512 needs --drop, which also clears XCR0", "[cloudhv]") {
    Dir d;
    std::string f = d.path("state.json"), out = d.path("zen3.json");
    std::ofstream(f) << state_json();
    auto refused = run_tool("convert " + shell_quote(f) + " --to-cpuid zen3-milan -o " + shell_quote(out));
    CHECK(refused.status == 2);
    CHECK(refused.err.find("--drop") != std::string::npos);
    CHECK(!fs::exists(out));
    // Only vCPU 1 (AVX-512 idle, but enabled in XCR0): the XCR0 rule names what to drop.
    std::string idle = d.path("idle.json");
    std::ofstream(idle) << snapshot({vcpu_state(false)});
    auto xcr0 = run_tool("convert " + shell_quote(idle) + " --to-cpuid zen3-milan -o " + shell_quote(out));
    CHECK(xcr0.status == 2);
    CHECK(xcr0.err.find("vCPU 0: XCR0 0x2e7 enables") != std::string::npos);
    CHECK(xcr0.err.find("KVM_SET_XCRS would fail there; --drop ") != std::string::npos);
    auto r = run_tool("convert " + shell_quote(f) + " --to-cpuid zen3-milan --drop avx512 -o " + shell_quote(out));
    INFO(r.err);
    REQUIRE(r.status == 0);
    CHECK(r.err.find("vCPU 1: XCR0 0x2e7 -> 0x207 in xcrs") != std::string::npos);
    json j = json::parse(testing::read_text(out));
    for (const char* id : {"0", "1"}) {
        json s = inner(j, id);
        CHECK(s["Kvm"]["xcrs"][16] == 0x07);   // XCR0 bytes: 0x207
        CHECK(s["Kvm"]["xcrs"][17] == 0x02);
    }
    auto dump = run_tool("dump " + shell_quote(out) + " --json");
    INFO(dump.err);
    REQUIRE(dump.status == 0);
    json dj = json::parse(dump.out);
    CHECK(dj[0]["xstate_bv"] == "0x207");
    CHECK(dj[0]["registers"]["pkru"] == "0x55555554");
    CHECK(dj[0]["registers"]["ymm0"] == "0x22220003222200022222000122220000""11110003111100021111000111110000");
    CHECK(run_tool("check " + shell_quote(out) + " --for kvm --on zen3-milan").status == 0);
}

TEST_CASE("Cloud Hypervisor: a snapshot directory converts into a new directory", "[cloudhv]") {
    Dir d;
    fs::path src = d.dir / "snap", dst = d.dir / "snap-zen4";
    fs::create_directories(src);
    std::string text = state_json();
    std::ofstream(src / "state.json") << text;
    std::ofstream(src / "config.json") << "{\"cpus\":{\"boot_vcpus\":2}}";
    std::ofstream(src / "memory-ranges") << std::string(8192, 'M');
    auto r = run_tool("convert " + shell_quote(src.string()) + " --to-cpuid zen4-genoa -o " + shell_quote(dst.string()));
    INFO(r.err);
    REQUIRE(r.status == 0);
    CHECK(r.err.find("2 file(s) hard-linked") != std::string::npos);
    // state.json as the single-file conversion writes it; the source untouched.
    REQUIRE(run_tool("convert " + shell_quote((src / "state.json").string()) + " --to-cpuid zen4-genoa -o " +
                     shell_quote(d.path("one.json"))).status == 0);
    CHECK(testing::read_text((dst / "state.json").string()) == testing::read_text(d.path("one.json")));
    CHECK(testing::read_text((src / "state.json").string()) == text);
    // The other files are hard links: same inode, same bytes.
    for (const char* name : {"config.json", "memory-ranges"}) {
        struct stat a {}, b {};
        REQUIRE(::stat((src / name).c_str(), &a) == 0);
        REQUIRE(::stat((dst / name).c_str(), &b) == 0);
        CHECK(a.st_ino == b.st_ino);
    }
    struct stat st {};
    REQUIRE(::stat((src / "state.json").c_str(), &st) == 0);
    CHECK(st.st_nlink == 1);   // the new state.json is a new file, not written through a link
    CHECK(run_tool("dump " + shell_quote(dst.string()) + " --thread 0 --json").status == 0);
    // An existing non-empty directory is refused and left as it was; no temporary directory stays.
    auto again = run_tool("convert " + shell_quote(src.string()) + " --to-cpuid zen4-genoa -o " + shell_quote(dst.string()));
    CHECK(again.status == 2);
    CHECK(again.err.find("exists and is not an empty directory") != std::string::npos);
    size_t entries = 0;
    for (const auto& e : fs::directory_iterator(d.dir)) entries += e.path().filename().string().find("tmp-xsavetool") == std::string::npos;
    CHECK(entries == 3);   // snap, snap-zen4, one.json
    // An empty directory is taken.
    fs::create_directories(d.dir / "empty");
    CHECK(run_tool("convert " + shell_quote(src.string()) + " --to-cpuid zen4-genoa -o " + shell_quote((d.dir / "empty").string())).status == 0);
    CHECK(fs::exists(d.dir / "empty" / "memory-ranges"));
}

TEST_CASE("Cloud Hypervisor: an MSHV vCPU's XSAVE page is read from vp_states", "[cloudhv]") {
    // A compacted area (MSHV keeps XSAVE compacted) made by the library from vCPU 0's registers.
    xsave::CpuModel sky(xsave::builtin_profile("skylake-sp"));
    auto kvm = xsave::cloudhv::read_state(state_json()).vcpus[0];
    xsave::ReadOptions ro;
    ro.xcr0 = 0x2e7;
    auto img = xsave::read_image(kvm.xsave, sky, ro);
    auto compact = xsave::to_compacted(img, sky, 0x2e7).bytes;
    REQUIRE(compact.size() <= 4096);
    std::vector<uint8_t> vp(13512, 0);
    for (size_t i = 0; i < 1024; ++i) vp[i] = uint8_t(0xA0 + i % 7);   // LAPIC page: not XSAVE
    std::copy(compact.begin(), compact.end(), vp.begin() + 1024);
    ordered_json vpj = ordered_json::array();
    for (uint8_t x : vp) vpj.push_back(x);
    ordered_json seg = {{"base", 0}, {"limit", 0xffffffff}, {"selector", 0x10}, {"type_", 11}, {"present", 1}, {"dpl", 0},
                        {"db", 0}, {"s", 1}, {"l", 1}, {"g", 1}, {"avl", 0}, {"unusable", 0}, {"padding", 0}};
    ordered_json regs = ordered_json::object();
    for (const char* r : {"rax", "rbx", "rcx", "rdx", "rsi", "rdi"}) regs[r] = 0;
    regs["rsp"] = 0xffffc90000004000ull;
    regs["rbp"] = 0;
    for (const char* r : {"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"}) regs[r] = 0;
    regs["rip"] = 0xffffffff81002000ull;
    regs["rflags"] = 2;
    ordered_json sregs = {{"cs", seg}, {"ds", seg}, {"es", seg}, {"fs", seg}, {"gs", seg}, {"ss", seg}, {"tr", seg}, {"ldt", seg},
                          {"gdt", {{"base", 0}, {"limit", 0}}}, {"idt", {{"base", 0}, {"limit", 0}}},
                          {"cr0", 0x80050033}, {"cr2", 0}, {"cr3", 0x1000}, {"cr4", 0x3706f0}, {"cr8", 0}, {"efer", 0xd01},
                          {"apic_base", 0xfee00900}, {"interrupt_bitmap", {0, 0, 0, 0}}};
    ordered_json mshv = {{"msrs", ordered_json::array()},
                         {"vcpu_events", {{"pending_interruption", 0}, {"interrupt_state", 0}, {"internal_activity_state", 0},
                                          {"pending_event0", std::vector<int>(16, 0)}, {"pending_event1", std::vector<int>(16, 0)}}},
                         {"regs", regs}, {"sregs", sregs}, {"fpu", fpu_state()}, {"xcrs", {{"xcr0", 0x2e7}}},
                         {"dbg", {{"dr0", 0}, {"dr1", 0}, {"dr2", 0}, {"dr3", 0}, {"dr6", 0}, {"dr7", 0}}},
                         {"misc", {{"hypercall", 0}, {"int_vec", 0}}}, {"vp_states", vpj}};
    Dir d;
    std::string f = d.path("state.json");
    std::ofstream(f) << snapshot({ordered_json{{"Mshv", mshv}}.dump()});
    auto r = run_tool("dump " + shell_quote(f) + " --cpuid skylake-sp --json");
    INFO(r.err);
    REQUIRE(r.status == 0);
    json j = json::parse(r.out);
    std::ofstream(d.path("kvm.json")) << state_json();
    json ref = json::parse(run_tool("dump " + shell_quote(d.path("kvm.json")) + " --json").out)[0];
    CHECK(j[0]["format"] == "compacted");
    CHECK(j[0]["xcomp_bv"] == "0x80000000000002e7");
    CHECK(j[0]["registers"] == ref["registers"]);
    CHECK(j[0]["registers"]["pkru"] == "0x55555554");
    CHECK(j[0]["context"] == json{{"rip", "0xffffffff81002000"}, {"rsp", "0xffffc90000004000"}, {"cr0", "0x80050033"},
                                  {"cr4", "0x3706f0"}, {"efer", "0xd01"}});
    CHECK(j[0]["input"]["notes"][0] == "Cloud Hypervisor MSHV vCPU 0: XSAVE page from vp_states (bytes 1024..5119)");
    // convert rewrites KVM vCPUs only.
    auto c = run_tool("convert " + shell_quote(f) + " --to-cpuid zen4-genoa -o " + shell_quote(d.path("out.json")));
    CHECK(c.status == 2);
    CHECK(c.err.find("vCPU 0: an MSHV vCPU; convert rewrites KVM vCPUs only") != std::string::npos);
}

TEST_CASE("Cloud Hypervisor: a KVM vCPU's nested_state in dump and check --for kvm", "[cloudhv][nested]") {
    Dir d;
    std::string ok = d.path("ok.json"), bad = d.path("bad.json");
    std::ofstream(ok) << snapshot({vcpu_state(true, nested_buffer(nested_test::vmx_state())), vcpu_state(false)});
    auto refused = nested_test::vmx_state();
    nested_test::put(refused, 128 + 960, 0, 2);   // virtual_processor_id 0 with "enable VPID"
    std::ofstream(bad) << snapshot({vcpu_state(true, nested_buffer(refused)), vcpu_state(false)});

    auto r = run_tool("dump " + shell_quote(ok) + " --json");
    INFO(r.err);
    REQUIRE(r.status == 0);
    json j = json::parse(r.out);
    CHECK(j[0]["nested_state"]["kind"] == "kvm_nested_state");
    CHECK(j[0]["nested_state"]["format"] == "vmx");
    CHECK(j[0]["nested_state"]["vmcs12"]["guest_rip"] == "0xffffffff81000000");
    CHECK(j[0]["nested_state"]["vmx"]["vmxon_pa"] == "0x0000000000010000");
    CHECK(!j[1].contains("nested_state"));
    auto text = run_tool("dump " + shell_quote(ok) + " --thread 0");
    CHECK(text.out.find("kvm_nested_state, VMX format") != std::string::npos);
    CHECK(text.out.find("    guest_rip                        0xffffffff81000000\n") != std::string::npos);

    auto c = run_tool("check " + shell_quote(ok) + " --for kvm --on skylake-sp --json");
    INFO(c.out << c.err);
    json cj = json::parse(c.out);
    std::vector<std::string> rules;
    for (const auto& v : cj[0]["violations"]) rules.push_back(v["rule"]);
    CHECK(std::find(rules.begin(), rules.end(), "vmcs12-vpid") == rules.end());
    auto cb = run_tool("check " + shell_quote(bad) + " --for kvm --on skylake-sp --json");
    CHECK(cb.status == 1);
    json bj = json::parse(cb.out);
    bool vpid = false;
    for (const auto& v : bj[0]["violations"])
        vpid |= v["rule"] == "vmcs12-vpid" && v["message"].get<std::string>().starts_with("nested_state: ");
    CHECK(vpid);
    CHECK(bj[1]["ok"] == true);
    // An AMD target runs svm_set_nested_state, which refuses the VMX format.
    auto amd = run_tool("check " + shell_quote(ok) + " --for kvm --on zen4-genoa");
    CHECK(amd.out.find("format-not-host") != std::string::npos);
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
