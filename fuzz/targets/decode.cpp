// The blob decoder: read_image -> decode -> the dump JSON, the validator and the logical diff,
// on an area read with one of the built-in CPU models.
// Input: [profile][flags][xcr0 (8 bytes, used when flags & 1)][area...]
#include "../fuzz_common.hpp"

#include "xsave/decode.hpp"
#include "xsave/diff.hpp"
#include "xsave/image.hpp"
#include "xsave/validate.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    fuzz::Reader r{data, size};
    const xsave::CpuModel& cpu = fuzz::model(r.byte());
    uint8_t flags = r.byte();
    uint64_t xcr0 = r.u64();
    std::vector<uint8_t> area = r.rest();

    xsave::CheckOptions co;
    co.target = static_cast<xsave::Target>((flags >> 1) % 5);
    if (flags & 1) co.xcr0 = xcr0;
    if (flags & 1) {
        // A made-up XCR0 may be refused as an option; the buffer's contents never are.
        try {
            (void)xsave::check_area(area, cpu, co).ok();
        } catch (const xsave::Error&) {
        }
    } else {
        (void)xsave::check_area(area, cpu, co).ok();   // never throws for the contents
    }

    xsave::ReadOptions ro;
    if (flags & 1) ro.xcr0 = xcr0 & ~xsave::kCompactedBit;
    try {
        xsave::Image img = xsave::read_image(std::move(area), cpu, ro);
        (void)img.trailing();
        xsave::Decoded d = xsave::decode(img, cpu);
        std::string json = xsave::to_json(d).dump(2);
        // The streamed text (dump --json of a core) must be the tree's text exactly.
        std::string streamed = "{\n";
        xsave::append_json_members(streamed, d, 2);
        streamed += "\n}";
        if (streamed != json) __builtin_trap();
        for (const auto& v : d.registers) (void)xsave::show_value(v);
        if (flags & 0x10) {
            xsave::DiffOptions dopt;
            dopt.bytes = flags & 0x20;
            auto diff = xsave::diff_areas(img, cpu, img, cpu, dopt);
            (void)xsave::to_json(diff).dump();
        }
    } catch (const xsave::Error&) {
    }
    return 0;
}
