// A bare buffer without --cpuid: this machine's layout only when it fits the buffer; else the
// built-in profiles whose layout fits (said on an `input` line), never a silent guess.
#include "helpers.hpp"

#include "xsave/components.hpp"
#include "xsave/error.hpp"
#include "xsave/image.hpp"
#include "xsave/import.hpp"
#include "xsave/layout.hpp"
#include "xsave/random_state.hpp"

#include <catch2/catch.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <unistd.h>

using testing::run_tool;

namespace {

// Does this machine have a standard layout of `size` bytes for an XCR0 holding `xstate_bv`?
bool host_fits(uint64_t xcr0, size_t size) {
    auto host = xsave::host_model();
    if (!host || (xcr0 & ~host->supported_xcr0())) return false;
    try {
        return host->standard(xcr0).total_size == size;
    } catch (const xsave::Error&) {
        return false;
    }
}
} // namespace

TEST_CASE("a Skylake-SP standard buffer is read with Intel's offsets, not this machine's, and says so") {
    // XCR0 0xe7 on Skylake-SP: AVX-512 after the 128-byte MPX gap, 2688 bytes (AMD: 2432).
    xsave::CpuModel skx(xsave::builtin_profile("skylake-sp"));
    xsave::RandomStateOptions ro;
    ro.xstate_bv = 0xe7;
    auto bytes = xsave::random_standard_state(skx, 0xe7, 11, ro);
    REQUIRE(bytes.size() == 2688);
    const auto& L = skx.standard(0xe7);
    REQUIRE(L.offset[5] == 0x440);
    for (unsigned i = 0; i < 8; ++i) bytes[L.offset[5] + i] = uint8_t(0xa0 + i);   // k0
    std::string in = testing::tmp_path("skx.std.bin");
    testing::write_bytes(in, bytes);

    auto r = run_tool("dump --json " + in);
    REQUIRE(r.status == 0);
    auto j = nlohmann::json::parse(r.out);
    CHECK(j["registers"]["k0"] == "0xa7a6a5a4a3a2a1a0");
    if (!host_fits(0xe7, 2688)) {
        std::string note = j["input"]["notes"][0];
        CHECK(note.find("2688 bytes with XSTATE_BV 0xe7 fit this machine's standard layout for no XCR0 it can have: "
                        "read with the built-in profile ") == 0);
        CHECK(note.find("(its standard layout for XCR0 0xe7 is 2688 bytes; ") != std::string::npos);
        CHECK(note.find("skylake-sp") != std::string::npos);
        CHECK(note.find("zen4") == std::string::npos);   // AMD puts AVX-512 elsewhere
    }
    std::filesystem::remove(in);
}

TEST_CASE("a buffer no known layout fits is refused, naming the way out") {
    std::vector<uint8_t> bytes(1000, 0);
    bytes[0] = 0x7f, bytes[1] = 0x03;                 // FCW
    bytes[24] = 0x80, bytes[25] = 0x1f;               // MXCSR
    bytes[xsave::kXstateBvOffset] = 0x7;
    std::string in = testing::tmp_path("odd.bin");
    testing::write_bytes(in, bytes);
    auto r = run_tool("dump " + in);
    CHECK(r.status == 2);
    CHECK(r.out.empty());
    CHECK(r.err == "xsavetool: " + in + ": 1000 bytes with XSTATE_BV 0x7 fit this machine's standard layout for no XCR0 it can have, "
                                        "nor the layout of any built-in profile: pass --cpuid with the CPU that saved it\n");
    // --cpuid asks for a layout: then the bytes after it are trailing bytes, as before.
    r = run_tool("dump " + in + " --cpuid skylake-sp --xcr0 0x7");
    CHECK(r.status == 0);
    std::filesystem::remove(in);
}

TEST_CASE("KVM's 4096-byte struct kvm_xsave (this machine's layout, zero padding) is read with this machine's layout") {
    auto host = xsave::host_model();
    if (!host) SKIP_TEST("this machine cannot describe XSAVE layouts");
    uint64_t xcr0 = host->enabled_xcr0() & host->supported_xcr0();
    if (host->standard(xcr0).total_size > 4096) SKIP_TEST("this machine's standard layout is larger than struct kvm_xsave");
    xsave::RandomStateOptions ro;
    ro.xstate_bv = xcr0;
    auto bytes = xsave::random_standard_state(*host, xcr0, 3, ro);
    bytes.resize(4096, 0);
    std::string in = testing::tmp_path("kvm.bin");
    testing::write_bytes(in, bytes);
    auto r = run_tool("dump --json " + in);
    REQUIRE(r.status == 0);
    auto j = nlohmann::json::parse(r.out);
    CHECK(j["input"]["notes"].dump().find("built-in profile") == std::string::npos);
    std::string xmm15 = "0x";   // little-endian: the last byte first
    for (int i = 15; i >= 0; --i) xmm15 += fmt::format("{:02x}", bytes[160 + 15 * 16 + i]);
    CHECK(j["registers"]["xmm15"] == xmm15);
    CHECK(j["xstate_bv"] == fmt::format("0x{:x}", xcr0));
    std::filesystem::remove(in);
}
