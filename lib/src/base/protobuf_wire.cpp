// Protobuf wire format: varints, tags, length-delimited fields; fields kept as raw bytes.
#include "xsave/protobuf_wire.hpp"

#include "xsave/error.hpp"

#include <fmt/core.h>

#include <algorithm>

namespace xsave::pb {
namespace {

// Reads a varint at b[pos], advancing pos. At most 10 bytes (64 bits).
uint64_t read_varint(std::span<const uint8_t> b, size_t& pos, size_t base) {
    uint64_t v = 0;
    size_t start = pos;
    for (unsigned shift = 0; shift < 70; shift += 7) {
        if (pos >= b.size())
            throw Error(fmt::format("offset {}: protobuf varint truncated (message ends after {} bytes of it)", base + start,
                                    pos - start));
        uint8_t c = b[pos++];
        if (shift == 63 && c > 1) break;
        v |= uint64_t(c & 0x7f) << shift;
        if (!(c & 0x80)) return v;
    }
    throw Error(fmt::format("offset {}: protobuf varint longer than 64 bits", base + start));
}

} // namespace

std::vector<Field> parse(std::span<const uint8_t> msg, size_t base) {
    std::vector<Field> out;
    size_t pos = 0;
    while (pos < msg.size()) {
        Field f;
        f.offset = pos;
        uint64_t tag = read_varint(msg, pos, base);
        f.number = uint32_t(tag >> 3);
        if (tag >> 3 == 0 || tag >> 3 > 0x1fffffff)
            throw Error(fmt::format("offset {}: protobuf field number {} (expected 1..536870911)", base + f.offset, tag >> 3));
        unsigned wt = tag & 7;
        switch (wt) {
        case Varint: f.value = read_varint(msg, pos, base); break;
        case Fixed64:
        case Fixed32: {
            size_t n = wt == Fixed64 ? 8 : 4;
            if (msg.size() - pos < n)
                throw Error(fmt::format("offset {}: protobuf field {}: {}-byte value truncated ({} bytes left)", base + f.offset,
                                        f.number, n, msg.size() - pos));
            for (size_t i = 0; i < n; ++i) f.value |= uint64_t(msg[pos + i]) << (8 * i);
            pos += n;
            break;
        }
        case Len: {
            uint64_t n = read_varint(msg, pos, base);
            if (n > msg.size() - pos)
                throw Error(fmt::format("offset {}: protobuf field {}: length {} runs past the end of its message ({} bytes left)",
                                        base + f.offset, f.number, n, msg.size() - pos));
            f.payload = msg.subspan(pos, size_t(n));
            pos += size_t(n);
            break;
        }
        default:
            throw Error(fmt::format("offset {}: protobuf field {}: wire type {}; expected 0, 1, 2 or 5", base + f.offset, f.number, wt));
        }
        f.type = WireType(wt);
        f.raw = msg.subspan(f.offset, pos - f.offset);
        out.push_back(f);
    }
    return out;
}

std::vector<uint64_t> varints(const std::vector<Field>& fields, uint32_t number, size_t base) {
    std::vector<uint64_t> out;
    for (const auto& f : fields) {
        if (f.number != number) continue;
        if (f.type == Varint) {
            out.push_back(f.value);
        } else if (f.type == Len) {
            size_t pos = 0;
            size_t at = base + f.offset + (f.raw.size() - f.payload.size());
            while (pos < f.payload.size()) out.push_back(read_varint(f.payload, pos, at));
        } else {
            throw Error(fmt::format("offset {}: protobuf field {}: wire type {}; expected a varint", base + f.offset, number,
                                    unsigned(f.type)));
        }
    }
    return out;
}

const Field* last(const std::vector<Field>& fields, uint32_t number) {
    const Field* r = nullptr;
    for (const auto& f : fields)
        if (f.number == number) r = &f;
    return r;
}

void put_varint(std::vector<uint8_t>& out, uint64_t v) {
    while (v >= 0x80) {
        out.push_back(uint8_t(v | 0x80));
        v >>= 7;
    }
    out.push_back(uint8_t(v));
}

void put_tag(std::vector<uint8_t>& out, uint32_t number, WireType t) { put_varint(out, uint64_t(number) << 3 | t); }

void put_len(std::vector<uint8_t>& out, uint32_t number, std::span<const uint8_t> payload) {
    put_tag(out, number, Len);
    put_varint(out, payload.size());
    out.insert(out.end(), payload.begin(), payload.end());
}

void put_repeated(std::vector<uint8_t>& out, uint32_t number, std::span<const uint64_t> values, bool packed) {
    if (values.empty()) return;
    if (packed) {
        std::vector<uint8_t> body;
        for (uint64_t v : values) put_varint(body, v);
        put_len(out, number, body);
        return;
    }
    for (uint64_t v : values) {
        put_tag(out, number, Varint);
        put_varint(out, v);
    }
}

std::vector<uint8_t> rebuild(const std::vector<Field>& fields, const std::vector<Replacement>& replaced) {
    auto find = [&](uint32_t n) -> const Replacement* {
        for (const auto& r : replaced)
            if (r.number == n) return &r;
        return nullptr;
    };
    std::vector<bool> done(replaced.size(), false);
    auto emit = [&](std::vector<uint8_t>& out, const Replacement& r) {
        size_t i = size_t(&r - replaced.data());
        if (done[i]) return;
        done[i] = true;
        out.insert(out.end(), r.bytes.begin(), r.bytes.end());
    };
    // Absent numbers go before the first field with a larger number.
    std::vector<const Replacement*> absent;
    for (const auto& r : replaced)
        if (std::none_of(fields.begin(), fields.end(), [&](const Field& f) { return f.number == r.number; })) absent.push_back(&r);
    std::sort(absent.begin(), absent.end(), [](auto* a, auto* b) { return a->number < b->number; });
    std::vector<uint8_t> out;
    size_t next_absent = 0;
    for (const auto& f : fields) {
        while (next_absent < absent.size() && absent[next_absent]->number < f.number) emit(out, *absent[next_absent++]);
        if (const Replacement* r = find(f.number)) {
            emit(out, *r);
            continue;
        }
        out.insert(out.end(), f.raw.begin(), f.raw.end());
    }
    while (next_absent < absent.size()) emit(out, *absent[next_absent++]);
    return out;
}

} // namespace xsave::pb
