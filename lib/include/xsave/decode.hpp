#pragma once
// Decoding an XSAVE area into named registers, driven by the component catalogue.
#include "xsave/components.hpp"
#include "xsave/image.hpp"

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace xsave {

// A register's bytes, little-endian as stored; components in init state give init values.
struct Value {
    std::string name;
    std::vector<uint8_t> bytes;
    Show show = Show::Hex;
    unsigned bit = 0;            // the component it belongs to (views: their highest part)
    // The value as a little-endian number (of its first 8 bytes).
    uint64_t number() const {
        uint64_t v = 0;
        for (size_t i = bytes.size() < 8 ? bytes.size() : 8; i--;) v = v << 8 | bytes[i];
        return v;
    }
};

struct DecodedComponent {
    unsigned bit = 0;
    std::string name;
    uint32_t offset = 0, size = 0;
    bool in_use = false;      // XSTATE_BV bit set
    bool supervisor = false;
    bool known = false;       // in the catalogue (unknown bits decode as raw bytes)
    std::vector<Value> fields;
};

struct Decoded {
    Format format = Format::Standard;
    uint32_t size = 0;          // bytes of the layout
    size_t trailing = 0;        // bytes after the layout, kept
    uint64_t xstate_bv = 0, xcomp_bv = 0;
    std::string profile;
    std::vector<DecodedComponent> components;   // in bit order
    std::vector<Value> registers;               // architectural registers, contract order
    // Non-zero bytes the model above does not represent (reserved fields, padding, bytes of
    // init components), as runs in memory order: with them the area can be rebuilt exactly.
    struct Run { uint32_t offset; std::vector<uint8_t> bytes; };
    std::vector<Run> reserved;
    std::vector<uint8_t> trailing_data;
    std::vector<std::string> warnings;
    // Set when a printer kept only part of the decode (dump --only, --in-use): JSON
    // "selection", which `assemble` refuses (the rest of the area is not there).
    std::string selection;
};

Decoded decode(const Image& img, const CpuModel& cpu);

// A component's "digest" in `dump --json`: FNV-1a 64 over its fields' names and value bytes,
// names in byte order. `assemble` tells an edited field from a stale copy of it with it.
struct FieldValue {
    std::string_view name;
    std::span<const uint8_t> bytes;
};
uint64_t fields_digest(std::vector<FieldValue> fields);

// Whether field f of component `bit` holds state as stored in the area; if not, the
// component is in its initial configuration and the field reads as init_value().
bool field_is_stored(const Image& img, unsigned bit, const FieldDesc& f);
void init_value(const FieldDesc& f, uint8_t* out);
// Where instance i of field f of component `bit` lives in an area with layout L.
uint32_t field_offset(const Layout& L, unsigned bit, const FieldDesc& f, unsigned i);

// "0x" + lowercase hex of the bytes read as an unsigned little-endian integer, zero-padded
// to the full width.
std::string hex_value(std::span<const uint8_t> le_bytes);
// Bytes in memory order as plain lowercase hex, two digits a byte.
std::string hex_bytes(std::span<const uint8_t> b);
// "0x" + minimal lowercase hex, for masks and other 64-bit values in JSON.
std::string hex_u64(uint64_t v);

// How people read a value: hex plus, for x87 registers, the decimal value (control and
// status registers' fields: control_words.hpp).
std::string show_value(const Value& v);
// Decimal value of an 80-bit extended-precision number (bytes little-endian).
std::string x87_decimal(std::span<const uint8_t> ten_bytes);

// The `dump --json` contract's one writer, as text for streaming many areas: only the members,
// each on its own line at `indent` (>= 2) spaces, ",\n" between them, no braces, no final
// newline; formatted as nlohmann's dump(2). Throws what dump() throws (strings not UTF-8).
void append_json_members(std::string& out, const Decoded& d, unsigned indent);
// The same contract as a tree (that text, parsed), for code that edits or compares it.
nlohmann::ordered_json to_json(const Decoded& d);
// A string as dump() writes it; an array of strings as dump(2) nests it at `indent`.
void append_json_string(std::string& out, std::string_view s);
void append_json_strings(std::string& out, const std::vector<std::string>& v, unsigned indent);

} // namespace xsave
