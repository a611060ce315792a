#pragma once
// A small protobuf wire-format reader and writer, enough for CRIU images.
//
// Why not libprotobuf: it needs the .proto files compiled into the build (protoc codegen and a
// runtime dependency for a handful of fields), and parsing into generated messages and
// serializing again does not promise the input's bytes back (field order, packed or not,
// unknown fields, varint widths). Here a message stays a list of its fields' raw bytes, so a
// rewrite re-encodes only the fields that change and copies every other byte.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace xsave::pb {

enum WireType : uint8_t { Varint = 0, Fixed64 = 1, Len = 2, Fixed32 = 5 };

struct Field {
    uint32_t number = 0;
    WireType type = Varint;
    uint64_t value = 0;                  // Varint, Fixed64, Fixed32
    std::span<const uint8_t> payload;    // Len: the bytes after the length
    std::span<const uint8_t> raw;        // the whole field, tag included
    size_t offset = 0;                   // of the tag, from the start of the message
};

// Splits a message into its fields. Throws Error naming the offset (plus `base`, the message's
// offset in its file) for a truncated field, an over-long varint, a group or an unknown wire type.
std::vector<Field> parse(std::span<const uint8_t> msg, size_t base = 0);

// The elements of a repeated varint field, packed (one Len field) or not (one field each), in
// order; every field in `fields` with that number counts. Throws Error for a truncated packed run.
std::vector<uint64_t> varints(const std::vector<Field>& fields, uint32_t number, size_t base = 0);
// The last occurrence of a field, or nullptr (protobuf: the last one wins).
const Field* last(const std::vector<Field>& fields, uint32_t number);

void put_varint(std::vector<uint8_t>& out, uint64_t v);
void put_tag(std::vector<uint8_t>& out, uint32_t number, WireType t);
void put_len(std::vector<uint8_t>& out, uint32_t number, std::span<const uint8_t> payload);
// A repeated varint field, packed or as one field per element (proto2's default).
void put_repeated(std::vector<uint8_t>& out, uint32_t number, std::span<const uint64_t> values, bool packed);

// Rebuilds a message: every field whose number is not in `replaced` is copied as it was; the
// first field (in order) with a number in `replaced` (or the place where that number would go,
// ascending, when absent) receives that entry's bytes, and other fields with the number are
// dropped. An entry with empty bytes removes the field.
struct Replacement {
    uint32_t number;
    std::vector<uint8_t> bytes;   // complete encoded field(s), tags included
};
std::vector<uint8_t> rebuild(const std::vector<Field>& fields, const std::vector<Replacement>& replaced);

} // namespace xsave::pb
