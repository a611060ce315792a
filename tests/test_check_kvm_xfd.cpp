// `check --for kvm` against struct kvm_xsave's size, `check --xfd` (extended feature disable)
// and `--xss` values. This machine has no XFD and no AMX: the areas are made for the built-in
// Sapphire Rapids profile (AMX, XFD on TILEDATA) and judged by the rules only.
#include "helpers.hpp"

#include "xsave/convert.hpp"
#include "xsave/image.hpp"
#include "xsave/import.hpp"
#include "xsave/random_state.hpp"
#include "xsave/validate.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>

using testing::data_path;
using testing::run_tool;
using testing::shell_quote;

namespace {

xsave::CpuModel spr() { return xsave::CpuModel(xsave::builtin_profile("sapphire-rapids")); }

// A Sapphire Rapids standard area (11008 bytes) with `xstate_bv` in use, AMX tiles included.
std::vector<uint8_t> spr_area_with(uint64_t xstate_bv) {
    xsave::RandomStateOptions o;
    o.xstate_bv = xstate_bv;
    auto b = xsave::random_standard_state(spr(), 0x602e7, 18, o);
    REQUIRE(b.size() == 11008);
    return b;
}

struct TempFile {
    std::string path;
    TempFile(const std::string& name, const std::vector<uint8_t>& b) : path(testing::tmp_path(name)) { testing::write_bytes(path, b); }
    ~TempFile() { std::filesystem::remove(path); }
    std::string q() const { return shell_quote(path); }
};


} // namespace

TEST_CASE("kvm: KVM_SET_XSAVE copies 4096 bytes, or KVM_CAP_XSAVE2's size with AMX", "[check][kvm]") {
    auto cpu = spr();
    CHECK(xsave::kvm_xsave_size(cpu, 0x2e7) == 4096);
    CHECK(xsave::kvm_xsave_size(cpu, 0x602e7) == 11008);   // CPUID.(0xD,0).EBX for XCR0 0x602e7

    // An 832-byte standard area (no AVX-512) on a CPU without dynamic features.
    auto r = run_tool("check " + shell_quote(data_path("check/whpx-832-xcomp-cleared.bin")) + " --for kvm" + testing::epyc_check_profile_arg());
    CHECK(r.status == 1);
    CHECK(r.out.find("  kvm-xsave-size: 832 bytes, but KVM_SET_XSAVE copies 4096 (sizeof(struct kvm_xsave) = 4096): it "
                     "would read 3264 bytes past the end of the buffer; pad it with zeros to 4096\n") != std::string::npos);
    auto b = testing::read_bytes(data_path("check/whpx-832-xcomp-cleared.bin"));
    b.resize(4096, 0);
    TempFile padded("kvm-4096.bin", b);
    CHECK(run_tool("check " + padded.q() + " --for kvm" + testing::epyc_check_profile_arg()).status == 0);
    b[4000] = 0x5a;   // still inside the struct: fine
    b.resize(4200, 0);
    b[4100] = 0x01;   // past it: never restored
    TempFile longer("kvm-4200.bin", b);
    r = run_tool("check " + longer.q() + " --for kvm" + testing::epyc_check_profile_arg());
    CHECK(r.status == 1);
    CHECK(r.out.find("  kvm-xsave-size: 4200 bytes, but KVM_SET_XSAVE copies only 4096 (sizeof(struct kvm_xsave) = 4096): "
                     "non-zero bytes after it are never restored: 0x1004 = 0x01\n") != std::string::npos);
}

TEST_CASE("kvm: an AMX guest needs the KVM_GET_XSAVE2 size", "[check][kvm]") {
    auto full = spr_area_with(0x602e7);
    TempFile whole("spr-11008.bin", full);
    auto r = run_tool("check " + whole.q() + " --for kvm --cpuid sapphire-rapids");
    INFO(r.out << r.err);
    CHECK(r.status == 0);

    // The first 4096 bytes (what KVM_GET_XSAVE's struct holds), AMX not in use.
    std::vector<uint8_t> head(full.begin(), full.begin() + 4096);
    xsave::store_le(&head[xsave::kXstateBvOffset], 0x2e7, 8);
    TempFile four("spr-4096.bin", head);
    r = run_tool("check " + four.q() + " --for kvm --cpuid sapphire-rapids");
    CHECK(r.status == 1);
    CHECK(r.out.find("  kvm-xsave-size: 4096 bytes, but KVM_SET_XSAVE copies 11008 (KVM_CHECK_EXTENSION(KVM_CAP_XSAVE2) = "
                     "11008 for guest features 0x602e7 with the dynamic AMX TILEDATA, the size KVM_GET_XSAVE2 fills): it would "
                     "read 6912 bytes past the end of the buffer; pad it with zeros to 11008 (a 4096-byte KVM_GET_XSAVE "
                     "buffer cannot hold them: KVM_GET_XSAVE fails with EINVAL once they are enabled)\n") != std::string::npos);
    // A guest without AMX: struct kvm_xsave is the size.
    CHECK(run_tool("check " + four.q() + " --for kvm --cpuid sapphire-rapids --xcr0 0x2e7").status == 0);
}

TEST_CASE("xfd: XRSTOR of an in-use component armed in IA32_XFD raises #NM", "[check][xfd]") {
    TempFile tiles("spr-tiles.bin", spr_area_with(0x602e7));
    auto r = run_tool("check " + tiles.q() + " --cpuid sapphire-rapids");
    INFO(r.out << r.err);
    CHECK(r.status == 0);
    r = run_tool("check " + tiles.q() + " --cpuid sapphire-rapids --xfd tiledata");
    CHECK(r.status == 1);
    CHECK(r.out.find("  xfd-armed: XSTATE_BV 0x602e7 has 0x40000 (AMX TILEDATA) in use while IA32_XFD 0x40000 arms it "
                     "(XCR0 & IA32_XFD): xrstor raises #NM (SDM Vol. 1 13.14). XSAVE* with XFD armed write XSTATE_BV[i] "
                     "= 0, so this area was saved with XFD clear") != std::string::npos);
    auto j = nlohmann::json::parse(run_tool("check " + tiles.q() + " --cpuid sapphire-rapids --xfd 0x40000 --json").out);
    REQUIRE(j["violations"].size() == 1);
    CHECK(j["violations"][0]["rule"] == "xfd-armed");

    // XRSTORS of the compacted form: the same rule.
    auto cpu = spr();
    auto img = xsave::read_image(spr_area_with(0x602e7), cpu);
    TempFile comp("spr-tiles-c.bin", xsave::to_compacted(img, cpu, 0x602e7).bytes);
    r = run_tool("check " + comp.q() + " --cpuid sapphire-rapids --for xrstors --xfd tiledata");
    CHECK(r.status == 1);
    CHECK(r.out.find("  xfd-armed: XSTATE_BV 0x602e7 has 0x40000 (AMX TILEDATA) in use") != std::string::npos);
    CHECK(r.out.find("xrstors raises #NM") != std::string::npos);

    // KVM_SET_XSAVE with the guest's XFD armed drops the tiles.
    r = run_tool("check " + tiles.q() + " --cpuid sapphire-rapids --for kvm --xfd tiledata");
    CHECK(r.status == 1);
    CHECK(r.out.find("  xfd-state-dropped: XSTATE_BV 0x602e7 has 0x40000 (AMX TILEDATA) in use while the guest's IA32_XFD "
                     "0x40000 arms it: KVM_SET_XSAVE clears those XSTATE_BV bits") != std::string::npos);
}

TEST_CASE("xfd: an armed component in its initial configuration restores; the output says why", "[check][xfd]") {
    // What XSAVE writes while XFD[18] = 1: XSTATE_BV[18] = 0 and TILEDATA's initial values (zeros).
    TempFile saved("spr-xfd-saved.bin", spr_area_with(0x202e7));
    auto r = run_tool("check " + saved.q() + " --cpuid sapphire-rapids --xfd tiledata");
    INFO(r.out << r.err);
    CHECK(r.status == 0);
    CHECK(r.out.find("  note: AMX TILEDATA (bit 18) is armed in IA32_XFD and XSTATE_BV[18] is 0: restoring initialises it, no "
                     "#NM; XSAVE* write it so while XFD[18] = 1 (as if XINUSE[18] = 0; XSAVE also writes its initial "
                     "values), so its state before the save is not in the area\n") != std::string::npos);
    auto j = nlohmann::json::parse(run_tool("check " + saved.q() + " --cpuid sapphire-rapids --xfd tiledata --json").out);
    CHECK(j["ok"] == true);
    REQUIRE(j["notes"].size() == 1);
    // XFD[i] does nothing when XCR0[i] = 0.
    r = run_tool("check " + saved.q() + " --cpuid sapphire-rapids --xcr0 0x202e7 --xfd tiledata");
    CHECK(r.status == 0);
    CHECK(r.out.find("note:") == std::string::npos);
}

TEST_CASE("xfd: values IA32_XFD cannot hold exit 2", "[check][xfd]") {
    TempFile saved("spr-xfd-bad.bin", spr_area_with(0x2e7));
    auto r = run_tool("check " + saved.q() + " --cpuid sapphire-rapids --xfd amx");
    CHECK(r.status == 2);
    CHECK(r.out.empty());
    CHECK(r.err == "xsavetool: --xfd 0x60000: bit 17 (AMX TILECFG) cannot be set in IA32_XFD: CPUID.(EAX=0DH,ECX=17):ECX[2] "
                   "is 0 (WRMSR would #GP); expected bits of 0x40000 (AMX TILEDATA)\n");
    r = run_tool("check " + saved.q() + " --cpuid skylake-sp --xfd tiledata");
    CHECK(r.status == 2);
    CHECK(r.err == "xsavetool: --xfd 0x40000: the profile has no XFD (CPUID.(EAX=0DH,ECX=1):EAX[4] = 0), so IA32_XFD "
                   "cannot be set; expected 0\n");
}

TEST_CASE("xss: IA32_XSS values with user or undefined bits exit 2", "[check][xss]") {
    auto whpx = shell_quote(data_path("whpx-832.bin"));
    auto r = run_tool("check " + whpx + " --for xrstors --cpuid sapphire-rapids --xss avx");
    CHECK(r.status == 2);
    CHECK(r.err == "xsavetool: --xss 0x4: AVX is user state (XCR0's, not IA32_XSS's); expected supervisor components only\n");
    r = run_tool("check " + whpx + " --for xrstors --cpuid sapphire-rapids --xss 0x8000000000000800");
    CHECK(r.status == 2);
    CHECK(r.err == "xsavetool: --xss 0x8000000000000800: bit63 is not a state component; expected supervisor components only\n");
    r = run_tool("check " + whpx + " --for xrstors --cpuid sapphire-rapids --xss cet_u");
    CHECK(r.status != 2);
}
