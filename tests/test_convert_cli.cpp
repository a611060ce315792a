// compact / standard / convert / capture through the real binary.
#include "helpers.hpp"

#include "xsave/components.hpp"
#include "xsave/cpu_ops.hpp"
#include "xsave/image.hpp"
#include "xsave/import.hpp"
#include "xsave/layout.hpp"
#include "xsave/random_state.hpp"

#include <catch2/catch.hpp>
#include <filesystem>

using testing::run_tool;
using testing::shell_quote;

namespace {
} // namespace

TEST_CASE("cli: standard then compact --xcomp-bv 0x7 gives the WHPX buffer back") {
    std::string in = testing::data_path("whpx-832.bin"), s = testing::tmp_path("std.bin"), c = testing::tmp_path("cmp.bin");
    auto r = run_tool("standard " + shell_quote(in) + " --cpuid sapphire-rapids -o " + s);
    REQUIRE(r.status == 0);
    auto std_bytes = testing::read_bytes(s);
    auto orig = testing::read_bytes(in);
    REQUIRE(std_bytes.size() == 832);
    CHECK(std::equal(std_bytes.begin(), std_bytes.begin() + 520, orig.begin()));
    CHECK(std::count(std_bytes.begin() + 520, std_bytes.begin() + 528, 0) == 8);
    r = run_tool("compact " + s + " --cpuid sapphire-rapids --xcr0 0x7 --xcomp-bv 0x7 -o " + c);
    REQUIRE(r.status == 0);
    CHECK(testing::read_bytes(c) == orig);
    // Raw bytes are refused on a terminal only; hex prints a listing.
    r = run_tool("compact " + s + " --cpuid sapphire-rapids --xcr0 x87,sse,avx --xcomp-bv 'x87|sse|avx' --format hex");
    CHECK(r.status == 0);
    CHECK(r.out.rfind("00000000  7f 03 00 00", 0) == 0);
    std::filesystem::remove(s);
    std::filesystem::remove(c);
}

TEST_CASE("cli: convert refuses in-use state the target lacks and names the flag") {
    std::string in = testing::data_path("whpx-832.bin");
    auto r = run_tool("convert " + shell_quote(in) + " --cpuid sapphire-rapids --to-cpuid sandybridge-e --to compacted --xcomp-bv x87");
    CHECK(r.status == 2);
    CHECK(r.err.find("SSE (bit 1) is in use but the target layout lacks it; --drop sse discards it") !=
          std::string::npos);
    std::string out = testing::tmp_path("conv.bin"), side = testing::tmp_path("side.json");
    r = run_tool("convert " + shell_quote(in) + " --cpuid sapphire-rapids --to-cpuid sandybridge-e --to compacted "
                 "--xcomp-bv x87 --drop sse --save-dropped " + side + " -o " + out);
    CHECK(r.status == 0);
    CHECK(r.err.find("dropped in-use SSE as asked") != std::string::npos);
    CHECK(testing::read_text(side).find("\"bit\": 1") != std::string::npos);
    std::filesystem::remove(out);
    std::filesystem::remove(side);
}

TEST_CASE("cli: capture --random writes what this CPU's XSAVEC makes, and compact of the XSAVE capture matches it") {
    if (!xsave::hw::usable() || !xsave::hw::features().xsavec) SKIP_TEST("this CPU does not support XSAVEC");
    std::string a = testing::tmp_path("xsave.bin"), b = testing::tmp_path("xsavec.bin"), c = testing::tmp_path("compacted.bin");
    REQUIRE(run_tool("capture --instruction xsave --random 5 -o " + a).status == 0);
    REQUIRE(run_tool("capture --instruction xsavec --random 5 -o " + b).status == 0);
    REQUIRE(run_tool("compact " + a + " --cpuid host -o " + c).status == 0);
    auto r = run_tool("diff " + c + " " + b + " --cpuid host");
    CHECK(r.status == 0);
    CHECK(run_tool("capture --instruction xsave").status == 2);   // neither --state nor --random
    for (auto& f : {a, b, c}) std::filesystem::remove(f);
}

TEST_CASE("cli: non-zero trailing bytes stop a conversion; --drop trailing or --keep-trailing allow it") {
    auto b = testing::read_bytes(testing::data_path("whpx-832.bin"));
    b.insert(b.end(), {0, 0xab, 0, 0xcd});
    std::string in = testing::tmp_path("trail.bin"), out = testing::tmp_path("trail-out.bin");
    testing::write_bytes(in, b);
    for (std::string cmd : {"standard " + in + " --cpuid sapphire-rapids",
                            "compact " + in + " --cpuid sapphire-rapids --xcr0 0x7",
                            "convert " + in + " --cpuid sapphire-rapids --to-cpuid zen4-genoa"}) {
        auto r = run_tool(cmd + " -o " + out);
        CHECK(r.status == 2);
        CHECK(r.err == "xsavetool: " + in +
                           ": 4 trailing bytes after the 832-byte layout, 2 of them non-zero (the first at offset 0x341) would be lost; "
                           "--keep-trailing copies them, --drop trailing discards them\n");
        CHECK(r.out.empty());
        CHECK(!std::filesystem::exists(out));
    }
    auto r = run_tool("standard " + in + " --cpuid sapphire-rapids --drop trailing -o " + out);
    CHECK(r.status == 0);
    CHECK(r.err == "xsavetool: warning: " + in + ": 4 trailing bytes after the area: discarded as asked (--drop trailing)\n");
    CHECK(testing::read_bytes(out).size() == 832);
    r = run_tool("standard " + in + " --cpuid sapphire-rapids --keep-trailing -o " + out);
    CHECK(r.status == 0);
    auto kept = testing::read_bytes(out);
    REQUIRE(kept.size() == 836);
    CHECK(kept[833] == 0xab);
    CHECK(kept[835] == 0xcd);
    // README and --help name the same flags.
    auto h = run_tool("standard --help");
    CHECK(h.out.find("'trailing'") != std::string::npos);
    CHECK(h.out.find("--keep-trailing") != std::string::npos);
    std::filesystem::remove(in);
    std::filesystem::remove(out);
}

TEST_CASE("cli: compact uses the XCR0 dump infers for a short standard area (one inference for every command)") {
    // Skylake-SP, saved with XCR0 0xff (AVX-512 and MPX, no PKRU): 2688 bytes, shorter than the
    // 2696-byte layout of the profile's XCR0 0x2ff.
    auto skx = std::make_shared<xsave::CpuModel>(xsave::builtin_profile("skylake-sp"));
    xsave::RandomStateOptions ro;
    ro.xstate_bv = 0xff;
    auto bytes = xsave::random_standard_state(*skx, 0xff, 7, ro);
    REQUIRE(bytes.size() == 2688);
    std::string in = testing::tmp_path("skx-mpx.std.bin"), out = testing::tmp_path("skx-mpx.cmp.bin");
    testing::write_bytes(in, bytes);
    auto d = run_tool("dump " + in + " --cpuid skylake-sp --json");
    REQUIRE(d.status == 0);
    CHECK(d.out.find("read as saved with XCR0 0xff") != std::string::npos);
    auto r = run_tool("compact " + in + " --cpuid skylake-sp -o " + out);
    REQUIRE(r.status == 0);
    auto c = testing::read_bytes(out);
    // What XSAVEC with RFBM = 0xff writes: 576 + AVX 256 + MPX 128 + AVX-512 1600.
    CHECK(c.size() == 2560);
    CHECK(xsave::load_le(&c[xsave::kXcompBvOffset], 8) == 0x80000000000000ffull);
    CHECK(xsave::load_le(&c[xsave::kXstateBvOffset], 8) == 0xff);
    std::filesystem::remove(in);
    std::filesystem::remove(out);
}
