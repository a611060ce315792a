// Input, output, colour and option helpers shared by the commands.
#include "cli.hpp"

#include "xsave/components.hpp"
#include "xsave/option_values.hpp"
#include "xsave/numbers.hpp"

#include <fmt/core.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <memory>
#include <sys/mman.h>
#include <sys/stat.h>
#include <utility>
#include <unistd.h>

namespace cli {
namespace {
int g_exit = 0;

std::string errno_text() { return std::strerror(errno); }

mode_t current_umask() {
    mode_t m = ::umask(0);
    ::umask(m);
    return m;
}

void write_all(int fd, const uint8_t* p, size_t n, const std::string& what) {
    while (n) {
        ssize_t w = ::write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) throw xsave::Error(fmt::format("{}: cannot write: {}", what, errno_text()));
        p += w;
        n -= size_t(w);
    }
}
} // namespace

void set_exit_code(int code) { g_exit = std::max(g_exit, code); }
int exit_code() { return g_exit; }

// The file a path names: symlinks followed (relative targets against the link's directory),
// a dangling one giving the path it would create, as cp does.
std::string follow_links(const std::string& path) {
    std::string cur = path;
    for (int hops = 0; hops < 40; ++hops) {
        struct stat st {};
        if (::lstat(cur.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return cur;
        std::string buf(4096, '\0');
        ssize_t n = ::readlink(cur.c_str(), buf.data(), buf.size());
        if (n < 0) throw xsave::Error(fmt::format("{}: cannot read the symbolic link: {}", path, errno_text()));
        buf.resize(size_t(n));
        std::filesystem::path next(buf);
        if (next.is_relative()) next = std::filesystem::path(cur).parent_path() / next;
        cur = next.string();
    }
    throw xsave::Error(fmt::format("{}: too many levels of symbolic links", path));
}

void write_output(const std::string& path, std::span<const uint8_t> bytes, bool binary, bool force) {
    if (path.empty() || path == "-") {
        if (binary && !force && ::isatty(1))
            throw xsave::Error("refusing to write raw bytes to a terminal: use -o FILE, --format hex, or --force");
        write_all(1, bytes.data(), bytes.size(), "stdout");
        return;
    }
    namespace fs = std::filesystem;
    // A symlink's target is what gets replaced; the link stays.
    const std::string real = follow_links(path);
    struct stat st {};
    const bool exists = ::stat(real.c_str(), &st) == 0;
    if (exists && S_ISDIR(st.st_mode)) throw xsave::Error(fmt::format("{}: is a directory", path));
    if (exists && !S_ISREG(st.st_mode)) {
        // A device, FIFO or socket is written through, as cp and dd do: replacing it with a
        // regular file would destroy it (think /dev/null as root).
        int fd = ::open(real.c_str(), O_WRONLY | O_NOCTTY | O_CLOEXEC);
        if (fd < 0) throw xsave::Error(fmt::format("{}: cannot open: {}", path, errno_text()));
        try {
            write_all(fd, bytes.data(), bytes.size(), path);
        } catch (...) {
            ::close(fd);
            throw;
        }
        if (::close(fd) != 0) throw xsave::Error(fmt::format("{}: cannot write: {}", path, errno_text()));
        return;
    }
    fs::path target(real);
    fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
    std::string tmpl = (dir / ("." + target.filename().string() + ".tmp.XXXXXX")).string();
    int fd = ::mkstemp(tmpl.data());
    if (fd < 0) throw xsave::Error(fmt::format("{}: cannot create a temporary file in {}: {}", path, dir.string(), errno_text()));
    try {
        write_all(fd, bytes.data(), bytes.size(), path);
        mode_t mode = exists ? (st.st_mode & 07777) : mode_t(0666 & ~current_umask());
        ::fchmod(fd, mode);
        if (::fsync(fd) != 0) throw xsave::Error(fmt::format("{}: cannot sync: {}", path, errno_text()));
    } catch (...) {
        ::close(fd);
        ::unlink(tmpl.c_str());
        throw;
    }
    ::close(fd);
    if (::rename(tmpl.c_str(), real.c_str()) != 0) {
        int e = errno;
        ::unlink(tmpl.c_str());
        throw xsave::Error(fmt::format("{}: cannot write: {}", path, std::strerror(e)));
    }
}

std::string hex_listing(std::span<const uint8_t> b) {
    std::string out;
    for (size_t i = 0; i < b.size(); i += 16) {
        out += fmt::format("{:08x} ", i);
        std::string ascii;
        for (size_t j = i; j < i + 16; ++j) {
            if (j % 8 == 0) out += ' ';
            if (j < b.size()) {
                out += fmt::format("{:02x} ", b[j]);
                ascii += b[j] >= 0x20 && b[j] < 0x7f ? char(b[j]) : '.';
            } else {
                out += "   ";
            }
        }
        out += fmt::format(" |{}|\n", ascii);
    }
    return out;
}

void write_area(const std::string& path, std::span<const uint8_t> bytes, const std::string& output, bool force,
                const std::string& json_text) {
    if (output == "hex") return write_output(path, hex_listing(bytes));
    if (output == "json") return write_output(path, json_text);
    write_output(path, bytes, true, force);
}

namespace {
// fd 1 redirected to an anonymous memory file while a command prints; the destructor puts
// the real stdout back and drops what was collected.
class StdoutCapture {
public:
    StdoutCapture() {
        std::fflush(stdout);
        fd_ = ::memfd_create("xsavetool-output", MFD_CLOEXEC);
        if (fd_ < 0) throw xsave::Error(fmt::format("cannot collect the output: {}", errno_text()));
        saved_ = ::fcntl(1, F_DUPFD_CLOEXEC, 3);
        if (saved_ < 0 || ::dup2(fd_, 1) < 0) {
            int e = errno;
            if (saved_ >= 0) ::close(saved_);
            ::close(fd_);
            throw xsave::Error(fmt::format("cannot collect the output: {}", std::strerror(e)));
        }
    }
    StdoutCapture(const StdoutCapture&) = delete;
    StdoutCapture& operator=(const StdoutCapture&) = delete;
    ~StdoutCapture() {
        restore();
        ::close(fd_);
    }

    // Everything printed so far; stdout is the real one again.
    std::vector<uint8_t> take() {
        restore();
        struct stat st {};
        if (::fstat(fd_, &st) != 0) throw xsave::Error(fmt::format("cannot read the collected output: {}", errno_text()));
        std::vector<uint8_t> out(size_t(st.st_size));
        for (size_t got = 0; got < out.size();) {
            ssize_t n = ::pread(fd_, out.data() + got, out.size() - got, off_t(got));
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) throw xsave::Error(fmt::format("cannot read the collected output: {}", errno_text()));
            got += size_t(n);
        }
        return out;
    }

private:
    void restore() {
        if (saved_ < 0) return;
        std::fflush(stdout);
        ::dup2(saved_, 1);
        ::close(saved_);
        saved_ = -1;
    }
    int fd_ = -1, saved_ = -1;
};
} // namespace

void printing_callback(CLI::App* cmd, std::function<void()> run) {
    auto path = std::make_shared<std::string>("-");
    cmd->add_option("-o,--out", *path, "write the output to FILE (atomically) instead of stdout");
    renamed_option(cmd, "--output", "--format (-o FILE names the output file)");
    cmd->callback([path, run = std::move(run)] {
        if (*path == "-" || path->empty()) return run();
        std::vector<uint8_t> bytes;
        {
            StdoutCapture cap;
            run();
            bytes = cap.take();
        }
        write_output(*path, bytes, false);
    });
}

void renamed_option(CLI::App* cmd, const std::string& old_name, const std::string& now) {
    cmd->add_option(
           old_name, [old_name, now](const CLI::results_t&) -> bool { throw xsave::Error(old_name + " is now " + now); }, "")
        ->group("")
        ->expected(0, 1)
        ->trigger_on_parse();
}

std::string json_format(bool json, const std::string& format) {
    if (!json) return format;
    if (format != "text" && format != "json") throw xsave::Error("--json and --format " + format + " disagree");
    return "json";
}

bool use_color(const std::string& mode) {
    if (mode == "never") return false;
    if (mode == "always") return true;
    const char* nc = std::getenv("NO_COLOR");
    if (nc && *nc) return false;
    return ::isatty(1);
}

void warn(const std::string& msg) { fmt::print(stderr, "xsavetool: warning: {}\n", msg); }
void warn_all(const std::string& who, const std::vector<std::string>& msgs) {
    for (const auto& m : msgs) warn(who.empty() ? m : who + ": " + m);
}

void ProfileOption::add(CLI::App* cmd, const char* name, const char* help) { cmd->add_option(name, spec, help); }

uint64_t parse_mask(const std::string& text, const char* what) { return xsave::parse_component_mask(text, what); }

uint64_t parse_xcr0(const std::string& text, const char* what) {
    uint64_t m = parse_mask(text, what);
    xsave::check_xcr0(m & ~xsave::kCompactedBit, what);
    return m;
}

} // namespace cli
