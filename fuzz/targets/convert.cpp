// Every conversion: to compacted (each XCOMP_BV mode), to standard, and relayout between two
// built-in CPUs in either form, with drop / keep_trailing / sidecar options; each result is
// read back and decoded.
// Input: [from][to][flags][mode][drop (8)][mask (8)][area...]
#include "../fuzz_common.hpp"

#include "xsave/convert.hpp"
#include "xsave/decode.hpp"
#include "xsave/image.hpp"

#include <algorithm>

namespace {

void read_back(const xsave::ConvertResult& res, const xsave::CpuModel& cpu) {
    try {
        xsave::Image img = xsave::read_image(res.bytes, cpu);
        (void)xsave::decode(img, cpu);
    } catch (const xsave::Error&) {
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    fuzz::Reader r{data, size};
    const xsave::CpuModel& from = fuzz::model(r.byte());
    const xsave::CpuModel& to = fuzz::model(r.byte());
    uint8_t flags = r.byte();
    uint8_t mode = r.byte();
    uint64_t drop = r.u64();
    uint64_t mask = r.u64();
    std::vector<uint8_t> area = r.rest();

    xsave::Image img;
    try {
        img = xsave::read_image(std::move(area), from);
    } catch (const xsave::Error&) {
        return 0;
    }
    xsave::ConvertOptions opt;
    opt.drop = flags & 1 ? drop : 0;
    opt.drop_supervisor = flags & 2;
    opt.keep_trailing = flags & 4;
    opt.drop_trailing = flags & 0x20;
    if (flags & 8) opt.xcr0 = mask & ~xsave::kCompactedBit;
    xsave::Sidecar out;
    if (flags & 0x10) opt.sidecar_out = &out;

    xsave::XcompRequest req;
    req.mode = static_cast<xsave::XcompMode>(mode % 5);
    req.mask = mask;
    if (mode & 0x80) req.xcr0 = mask;
    try {
        uint64_t xcomp = xsave::compute_xcomp_bv(img, from, req);
        read_back(xsave::to_compacted(img, from, xcomp, opt), from);
    } catch (const xsave::Error&) {
    }
    try {
        read_back(xsave::to_standard(img, from, opt), from);
    } catch (const xsave::Error&) {
    }
    try {
        // The buffer form over a view writes what the allocating form returns, and nothing past it.
        xsave::ConvertOptions plain = opt;
        plain.sidecar_out = nullptr;
        auto whole = xsave::to_standard(img, from, plain);
        std::vector<uint8_t> buf(whole.size + 64, 0xA5);
        auto into = xsave::to_standard_into(xsave::inspect_area(img.bytes, from), from, buf, plain);
        if (into.size != whole.bytes.size() || !std::equal(whole.bytes.begin(), whole.bytes.end(), buf.begin()) ||
            buf[into.size] != 0xA5 || buf.back() != 0xA5)
            __builtin_trap();
    } catch (const xsave::Error&) {
    }
    try {
        if (flags & 0x20) opt.xcomp_bv = mask;
        auto res = xsave::relayout(img, from, to, flags & 0x40 ? xsave::Format::Compacted : xsave::Format::Standard, opt);
        read_back(res, to);
        if (flags & 0x10) {
            // The sidecar written by the conversion goes back through its JSON form.
            std::string js = xsave::sidecar_to_json(out);
            xsave::Sidecar back = xsave::sidecar_from_json(js);
            xsave::ConvertOptions put;
            put.sidecar_in = &back;
            xsave::Image again = xsave::read_image(res.bytes, to);
            (void)xsave::relayout(again, to, from, img.format, put);
        }
    } catch (const xsave::Error&) {
    }
    return 0;
}
