// Reading input files: mapped read-only where possible, else read to the end.
#include "xsave/file_bytes.hpp"

#include "xsave/error.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

namespace xsave {
namespace {
std::string errno_text() { return std::strerror(errno); }
} // namespace

namespace {
// Opens `path` (or takes stdin for "-"); the directory check comes before any read.
int open_input(const std::string& path, struct stat& st) {
    int fd = path == "-" ? 0 : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error(fmt::format("{}: cannot open: {}", path, errno_text()));
    if (::fstat(fd, &st) != 0) st = {};
    if (S_ISDIR(st.st_mode)) {
        if (fd) ::close(fd);
        throw Error(fmt::format("{}: is a directory, expected a file", path));
    }
    return fd;
}

[[noreturn]] void too_large(const std::string& path, size_t limit) {
    throw Error(fmt::format("{}: larger than {} MiB: not an XSAVE area, profile or core this tool reads", path, limit >> 20));
}

// Reads fd to its end and closes it (unless stdin).
std::vector<uint8_t> read_fd(int fd, const struct stat& st, const std::string& path, size_t limit) {
    std::vector<uint8_t> out;
    // One allocation for a regular file (cores run to many megabytes); stdin grows as it comes.
    if (S_ISREG(st.st_mode) && st.st_size > 0) out.reserve(std::min<size_t>(size_t(st.st_size), limit));
    uint8_t buf[65536];
    for (;;) {
        ssize_t r = ::read(fd, buf, sizeof buf);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            int e = errno;
            if (fd) ::close(fd);
            throw Error(fmt::format("{}: cannot read: {}", path, std::strerror(e)));
        }
        if (r == 0) break;
        if (out.size() + size_t(r) > limit) {
            if (fd) ::close(fd);
            too_large(path, limit);
        }
        out.insert(out.end(), buf, buf + r);
    }
    if (fd) ::close(fd);
    return out;
}
} // namespace

std::vector<uint8_t> read_file(const std::string& path, size_t limit) {
    struct stat st {};
    int fd = open_input(path, st);
    return read_fd(fd, st, path, limit);
}

FileBytes& FileBytes::operator=(FileBytes&& o) noexcept {
    if (this == &o) return *this;
    if (map_) ::munmap(const_cast<void*>(map_), size_);
    map_ = std::exchange(o.map_, nullptr);
    size_ = std::exchange(o.size_, 0);
    copy_ = std::move(o.copy_);
    return *this;
}

FileBytes::~FileBytes() {
    if (map_) ::munmap(const_cast<void*>(map_), size_);
}

FileBytes map_file(const std::string& path, size_t limit) {
    struct stat st {};
    int fd = open_input(path, st);
    // Size 0 may still have content (/proc files): those are read.
    if (fd && S_ISREG(st.st_mode) && st.st_size > 0) {
        // A QEMU migration stream holds the VM's RAM: mapped whatever its size, never copied.
        char magic[4] = {};
        bool qemu = ::pread(fd, magic, 4, 0) == 4 && std::memcmp(magic, "QEVM", 4) == 0;
        if (uint64_t(st.st_size) > limit && !qemu) {
            ::close(fd);
            too_large(path, limit);
        }
        void* p = ::mmap(nullptr, size_t(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
        if (p != MAP_FAILED) {
            // A stream's RAM is walked once, front to back, reading one header per page: larger
            // readahead when the file is not cached; a hint only, so its failure does not matter.
            if (qemu) ::madvise(p, size_t(st.st_size), MADV_SEQUENTIAL);
            ::close(fd);
            return FileBytes(p, size_t(st.st_size));
        }
    }
    return FileBytes(read_fd(fd, st, path, limit));
}

} // namespace xsave
