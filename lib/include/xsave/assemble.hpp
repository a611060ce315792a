#pragma once
// Rebuilding an XSAVE area from the `dump --json` contract.
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace xsave {

// Builds the area the JSON describes, byte for byte: header, in-use components' fields,
// reserved_bytes and trailing. A register or field edited away from what the rest of the
// JSON implies is written, and its component marked in use (XSTATE_BV) when it was init.
// An array (dump --json of a core or stream) holds one area per thread: `tid` picks one, and
// an array of one needs none. Throws Error naming the JSON path at fault.
std::vector<uint8_t> assemble(std::string_view json_text, std::optional<uint64_t> tid = std::nullopt);

// Largest area `assemble` builds: a size field beyond it is refused, not allocated.
constexpr uint32_t kMaxAssembleSize = 1u << 20;

} // namespace xsave
