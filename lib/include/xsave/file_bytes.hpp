#pragma once
// An input file's bytes: mapped read-only where possible (a core's memory segments are never
// touched, so they never count against RSS), else read; stdin for "-".
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace xsave {

constexpr size_t kMaxInputBytes = 256u << 20;

class FileBytes {
public:
    FileBytes() = default;
    explicit FileBytes(std::vector<uint8_t> v) : copy_(std::move(v)) {}
    FileBytes(const void* map, size_t size) : map_(map), size_(size) {}
    FileBytes(FileBytes&& o) noexcept { *this = std::move(o); }
    FileBytes& operator=(FileBytes&& o) noexcept;
    ~FileBytes();
    std::span<const uint8_t> bytes() const {
        return map_ ? std::span(static_cast<const uint8_t*>(map_), size_) : std::span<const uint8_t>(copy_);
    }
private:
    const void* map_ = nullptr;
    size_t size_ = 0;
    std::vector<uint8_t> copy_;
};

// Throws Error("FILE: why") for a missing, unreadable or non-regular file, a directory, or one
// larger than `limit` bytes.
std::vector<uint8_t> read_file(const std::string& path, size_t limit = kMaxInputBytes);
// The same without a copy: stdin, pipes and empty or unmappable files are read.
FileBytes map_file(const std::string& path, size_t limit = kMaxInputBytes);

} // namespace xsave
