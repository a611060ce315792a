#pragma once
// Internals shared by the CRIU reader and writer.
#include "xsave/criu.hpp"
#include "xsave/image.hpp"
#include "xsave/protobuf_wire.hpp"
#include "model/bytes.hpp"

#include <optional>
#include <utility>
#include <vector>

namespace xsave::criu {

// Field numbers from CRIU's images/core.proto, core-x86.proto and cpuinfo.proto.
constexpr uint32_t kCoreMtype = 1, kCoreThreadInfo = 2;
constexpr uint32_t kMarchX86_64 = 1;
constexpr uint32_t kTiGpregs = 2, kTiFpregs = 3;
constexpr uint32_t kGpIp = 17, kGpSp = 20;
constexpr uint32_t kFpXsave = 13, kXsaveXstateBv = 1;
constexpr uint32_t kCpuinfoX86 = 1;
constexpr uint32_t kCiVendor = 1, kCiCapability = 6, kCiXfeatures = 8, kCiXsaveSize = 9, kCiXsaveSizeMax = 10;

constexpr size_t kFieldCount = 18;
extern const FpField kFields[kFieldCount];

inline uint32_t u32_at(std::span<const uint8_t> b, size_t off) { return uint32_t(load_le(&b[off], 4)); }

// The one entry an image of this kind holds: its payload's offset and size. Throws Error.
std::pair<size_t, size_t> first_entry(std::span<const uint8_t> b, uint32_t magic, const char* what);
// The single embedded message `number` of `fields`, parsed (sub_base: its offset in the file);
// nullopt when absent. Throws Error when it appears twice or is not length-delimited.
std::optional<std::vector<pb::Field>> sub(const std::vector<pb::Field>& fields, uint32_t number, size_t base, const char* name,
                                          size_t& sub_base);
// The last value of a varint field, nullopt when absent.
std::optional<uint64_t> scalar(const std::vector<pb::Field>& fields, uint32_t number, size_t base);

} // namespace xsave::criu
