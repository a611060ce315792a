// Input detection and KVM-style zero padding.
#include "helpers.hpp"
#include "xsave/image.hpp"
#include "xsave/input.hpp"

#include <catch2/catch.hpp>

using namespace xsave;
using testing::data_path;
using testing::read_bytes;

TEST_CASE("detect_input tells raw, hex, core and sigframe apart", "[detect]") {
    CHECK(detect_input(read_bytes(data_path("whpx-832.bin"))) == InputKind::Raw);
    CHECK(detect_input(read_bytes(data_path("core-avx512-xstate.bin"))) == InputKind::Raw);   // XCR0 at 464, no magic
    CHECK(detect_input(read_bytes(data_path("whpx-832-mail.txt"))) == InputKind::Hex);
    for (const char* f : {"hex/whpx-832.xxd", "hex/whpx-832.hexdump", "hex/whpx-832.od", "hex/whpx-832.xxdp",
                          "hex/whpx-832-c-array.txt", "hex/kvm-4096.hexdump"}) {
        INFO(f);
        CHECK(detect_input(read_bytes(data_path(f))) == InputKind::Hex);
    }
    CHECK(detect_input(read_bytes(data_path("core-avx512.core"))) == InputKind::Core);
    CHECK(detect_input(read_bytes(data_path("core-gcore.core"))) == InputKind::Core);
    CHECK(detect_input(read_bytes(data_path("bad/elf-truncated-header.bin"))) == InputKind::Core);  // then its error
    CHECK(detect_input({}) == InputKind::Raw);

    std::vector<uint8_t> frame(580);
    store_le(frame.data() + 464, kFpXstateMagic1, 4);
    store_le(frame.data() + 480, 576, 4);
    store_le(frame.data() + 576, kFpXstateMagic2, 4);
    CHECK(detect_input(frame) == InputKind::Sigframe);
    store_le(frame.data() + 576, 0, 4);
    CHECK(detect_input(frame) == InputKind::Raw);
}

TEST_CASE("input kind names", "[detect]") {
    for (auto k : {InputKind::Raw, InputKind::Hex, InputKind::Core, InputKind::Sigframe})
        CHECK(input_kind_from_name(input_kind_name(k)) == k);
    CHECK(std::string(input_kind_name(InputKind::Sigframe)) == "sigframe");
    CHECK_FALSE(input_kind_from_name("elf").has_value());
    CHECK(std::string(hex_style_name(HexStyle::HexdumpC)) == "hexdump -C");
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
