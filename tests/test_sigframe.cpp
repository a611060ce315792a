// Signal-frame fpstate: a real frame captured in this process, and synthetic ones.
#include "helpers.hpp"
#include "xsave/error.hpp"
#include "xsave/image.hpp"
#include "xsave/input.hpp"
#include "xsave/open.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <cstring>
#include <ucontext.h>

using namespace xsave;

namespace {

// A well-formed frame: a 576-byte area (legacy + header) then magic2.
std::vector<uint8_t> synthetic(uint32_t xstate_size = 576, uint64_t xfeatures = 3) {
    std::vector<uint8_t> b(xstate_size + 4);
    store_le(b.data() + 24, 0x1f80, 4);
    store_le(b.data() + 464, kFpXstateMagic1, 4);
    store_le(b.data() + 468, xstate_size + 4, 4);
    store_le(b.data() + 472, xfeatures, 8);
    store_le(b.data() + 480, xstate_size, 4);
    store_le(b.data() + 512, xfeatures, 8);
    store_le(b.data() + xstate_size, kFpXstateMagic2, 4);
    return b;
}

alignas(64) uint8_t captured[64 * 1024];
volatile size_t captured_size = 0;

// Copies the fpstate the kernel wrote for this signal (xstate_size + magic2), if it fits.
void on_signal(int, siginfo_t*, void* ctx) {
    auto* uc = static_cast<ucontext_t*>(ctx);
    auto* fp = reinterpret_cast<const uint8_t*>(uc->uc_mcontext.fpregs);
    if (!fp) return;
    uint32_t magic1, size;
    std::memcpy(&magic1, fp + 464, 4);
    std::memcpy(&size, fp + 480, 4);
    if (magic1 != kFpXstateMagic1 || size + 4 > sizeof captured) return;
    std::memcpy(captured, fp, size + 4);
    captured_size = size + 4;
}

} // namespace

TEST_CASE("a real signal frame from this process", "[sigframe]") {
    struct sigaction sa {}, old{};
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    REQUIRE(sigaction(SIGUSR1, &sa, &old) == 0);
    captured_size = 0;
    raise(SIGUSR1);
    sigaction(SIGUSR1, &old, nullptr);
    if (captured_size == 0) SKIP_TEST("the kernel wrote no XSAVE fpstate (no XSAVE or a legacy frame)");

    std::span<const uint8_t> frame(captured, captured_size);
    CHECK(is_sigframe(frame));
    CHECK(detect_input_format(frame).name == "sigframe");
    auto f = read_sigframe(frame);
    CHECK(f.xstate_size + 4 == captured_size);
    CHECK(f.extended_size == f.xstate_size + 4);
    CHECK((f.xfeatures & 3) == 3);                   // x87 and SSE always
    CHECK(f.area.size() == f.xstate_size);
    CHECK(std::equal(f.area.begin(), f.area.end(), captured));
    CHECK((load_le(f.area.data() + 512, 8) & ~f.xfeatures) == 0);   // XSTATE_BV within xfeatures
    // This machine (AMD EPYC, XCR0 0xe7): 2432 bytes, as in its core files.
    if (f.xfeatures == 0xe7) CHECK(f.xstate_size == 2432);
}

TEST_CASE("synthetic signal frames", "[sigframe]") {
    auto b = synthetic();
    CHECK(is_sigframe(b));
    auto f = read_sigframe(b);
    CHECK(f.xstate_size == 576);
    CHECK(f.extended_size == 580);
    CHECK(f.xfeatures == 3);
    CHECK(f.area == std::vector<uint8_t>(b.begin(), b.begin() + 576));

    // Bytes after magic2 (the rest of the stack) are not part of the area.
    b.resize(b.size() + 100, 0xcc);
    CHECK(read_sigframe(b).area.size() == 576);
}

TEST_CASE("malformed signal frames give one exact line", "[sigframe][bad]") {
    REQUIRE_THROWS_MATCHES(read_sigframe(std::vector<uint8_t>(100)), Error,
                           Catch::Message("signal frame too short: 100 bytes; struct _fpx_sw_bytes ends at offset 484"));
    auto b = synthetic();
    store_le(b.data() + 464, 0xe7, 4);   // a core note's XCR0, not magic1
    REQUIRE_THROWS_MATCHES(read_sigframe(b), Error,
                           Catch::Message("offset 464: found 0x000000e7; expected FP_XSTATE_MAGIC1 0x46505853"));
    CHECK_FALSE(is_sigframe(b));

    b = synthetic();
    store_le(b.data() + 480, 100, 4);
    REQUIRE_THROWS_MATCHES(read_sigframe(b), Error,
                           Catch::Message("offset 480: xstate_size 100 is smaller than the 576-byte legacy region and XSAVE header"));
    store_le(b.data() + 480, 0xfffffff0, 4);
    REQUIRE_THROWS_MATCHES(read_sigframe(b), Error,
                           Catch::Message("offset 480: xstate_size 0xfffffff0 leaves no room for FP_XSTATE_MAGIC2 in a buffer of 0x244 bytes"));
    CHECK_FALSE(is_sigframe(b));

    b = synthetic();
    store_le(b.data() + 576, 0, 4);
    REQUIRE_THROWS_MATCHES(read_sigframe(b), Error,
                           Catch::Message("offset 0x240: found 0x00000000; expected FP_XSTATE_MAGIC2 0x46505845 right after the xstate_size bytes"));
    CHECK_FALSE(is_sigframe(b));
}
