// Input detection and KVM-style zero padding.
#include "helpers.hpp"
#include "xsave/image.hpp"
#include "xsave/input.hpp"
#include "xsave/open.hpp"

#include <catch2/catch.hpp>

using namespace xsave;
using testing::data_path;
using testing::read_bytes;

namespace {
std::string detected(const std::vector<uint8_t>& b) { return std::string(detect_input_format(b).name); }
} // namespace

TEST_CASE("detect_format tells raw, hex, core and sigframe apart", "[detect]") {
    CHECK(detected(read_bytes(data_path("whpx-832.bin"))) == "raw");
    CHECK(detected(read_bytes(data_path("core-avx512-xstate.bin"))) == "raw");   // XCR0 at 464, no magic
    CHECK(detected(read_bytes(data_path("whpx-832-mail.txt"))) == "hex");
    for (const char* f : {"hex/whpx-832.xxd", "hex/whpx-832.hexdump", "hex/whpx-832.od", "hex/whpx-832.xxdp",
                          "hex/whpx-832-c-array.txt", "hex/kvm-4096.hexdump"}) {
        INFO(f);
        CHECK(detected(read_bytes(data_path(f))) == "hex");
    }
    CHECK(detected(read_bytes(data_path("core-avx512.core"))) == "core");
    CHECK(detected(read_bytes(data_path("core-gcore.core"))) == "core");
    CHECK(detected(read_bytes(data_path("bad/elf-truncated-header.bin"))) == "core");  // then its error
    CHECK(detected({}) == "raw");

    std::vector<uint8_t> frame(580);
    store_le(frame.data() + 464, kFpXstateMagic1, 4);
    store_le(frame.data() + 480, 576, 4);
    store_le(frame.data() + 576, kFpXstateMagic2, 4);
    CHECK(detected(frame) == "sigframe");
    store_le(frame.data() + 576, 0, 4);
    CHECK(detected(frame) == "raw");
}

TEST_CASE("the input table: names, lookup, and the one open path", "[detect]") {
    for (const auto& f : input_formats()) {
        REQUIRE(find_input_format(f.name) == &f);
        CHECK(f.read != nullptr);
    }
    CHECK(find_input_format("elf") == nullptr);
    CHECK(input_format_names() == "auto, core, qemu, sigframe, criu, cloud-hypervisor, hex, nested, fxsave, fsave, raw");
    CHECK(std::string(hex_style_name(HexStyle::HexdumpC)) == "hexdump -C");

    // A core opened through xsave::open: one area per thread, labelled and with its tid.
    auto core = read_bytes(data_path("core-avx512.core"));
    OpenOptions opt;
    auto all = open(core, opt, "c.core");
    CHECK(all.kind == "core");
    REQUIRE(all.areas.size() == 2);
    CHECK(all.areas[0].label == "c.core thread " + std::to_string(*all.areas[0].tid));
    opt.thread = std::to_string(*all.areas[1].tid);
    auto one = open(core, opt, "c.core");
    REQUIRE(one.areas.size() == 1);
    CHECK(one.areas[0].tid == all.areas[1].tid);
    opt.thread = "12345678";
    CHECK_THROWS_WITH(open(core, opt, "c.core"), "no thread 12345678 in the core (it has 2 threads)");
    opt.thread = "all";
    opt.input = "elf";
    CHECK_THROWS_WITH(open(core, opt, "c.core"), "--input: 'elf': expected " + input_format_names());
}

TEST_CASE("trailing bytes: KVM zero padding versus real data", "[detect]") {
    auto kvm = read_bytes(data_path("whpx-832.bin"));
    kvm.resize(kKvmXsaveSize, 0);
    auto t = trailing_bytes(kvm, 832);
    CHECK(t.total == 3264);
    CHECK(t.zero == 3264);
    CHECK(t.nonzero == 0);
    CHECK_FALSE(t.first_nonzero.has_value());
    CHECK(t.is_padding());

    // WHPX reported 844 bytes for its 832-byte layout; suppose the extra 12 were not all zero.
    auto whpx = read_bytes(data_path("whpx-832.bin"));
    whpx.resize(844, 0);
    whpx[840] = 0x5a;
    whpx[843] = 0x01;
    t = trailing_bytes(whpx, 832);
    CHECK(t.total == 12);
    CHECK(t.nonzero == 2);
    CHECK(t.zero == 10);
    CHECK(t.first_nonzero == size_t(840));
    CHECK_FALSE(t.is_padding());

    t = trailing_bytes(whpx, 844);
    CHECK(t.total == 0);
    CHECK_FALSE(t.is_padding());
    CHECK(trailing_bytes(whpx, 5000).total == 0);
}
