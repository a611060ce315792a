// -o FILE never destroys what is at the path: devices and FIFOs are written through, a
// symlink's target is replaced (the link kept), a regular file is replaced atomically.
#include "helpers.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

using testing::run_tool;
using testing::shell_quote;

namespace {
namespace fs = std::filesystem;

// A fresh directory with two subdirectories, a/ and b/.
struct OutDirs : testing::TempDir {
    OutDirs() : TempDir("out") {
        fs::create_directories(dir / "a");
        fs::create_directories(dir / "b");
    }
};

const std::string kStandard = "standard " + shell_quote(testing::data_path("whpx-832.bin")) + " --cpuid sapphire-rapids -o ";

// The 832-byte standard area the command writes, made once into a fresh regular file.
std::vector<uint8_t> reference(const OutDirs& t) {
    auto r = run_tool(kStandard + shell_quote(t / "ref.bin"));
    REQUIRE(r.status == 0);
    auto b = testing::read_bytes(t / "ref.bin");
    REQUIRE(b.size() == 832);
    return b;
}

size_t entries(const fs::path& dir) { return size_t(std::distance(fs::directory_iterator(dir), fs::directory_iterator())); }
} // namespace

TEST_CASE("cli -o: a FIFO is written through, not replaced", "[output]") {
    OutDirs t;
    auto ref = reference(t);
    std::string fifo = t / "a/pipe";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    std::vector<uint8_t> got;
    std::thread reader([&] { got = testing::read_bytes(fifo); });
    auto r = run_tool(kStandard + shell_quote(fifo));
    reader.join();
    CHECK(r.status == 0);
    CHECK(r.err.empty());
    CHECK(got == ref);
    struct stat st {};
    REQUIRE(::lstat(fifo.c_str(), &st) == 0);
    CHECK(S_ISFIFO(st.st_mode));
    CHECK(entries(t.dir / "a") == 1);   // no temporary file left beside it
}

TEST_CASE("cli -o: /dev/null stays a device; /dev/full reports the write error", "[output]") {
    auto r = run_tool(kStandard + "/dev/null");
    CHECK(r.status == 0);
    CHECK(r.err.empty());
    struct stat st {};
    REQUIRE(::stat("/dev/null", &st) == 0);
    CHECK(S_ISCHR(st.st_mode));
    if (::access("/dev/full", W_OK) != 0) SKIP_TEST("/dev/full is not writable here");
    r = run_tool(kStandard + "/dev/full");
    CHECK(r.status == 2);
    CHECK(r.err == "xsavetool: /dev/full: cannot write: No space left on device\n");
    CHECK(r.out.empty());
    REQUIRE(::stat("/dev/full", &st) == 0);
    CHECK(S_ISCHR(st.st_mode));
}

TEST_CASE("cli -o: a symlink is followed, its target replaced atomically, the link kept", "[output]") {
    OutDirs t;
    auto ref = reference(t);
    std::string target = t / "b/target.bin", link = t / "a/link.bin";
    testing::write_bytes(target, {1, 2, 3});
    ::chmod(target.c_str(), 0640);
    fs::create_symlink("../b/target.bin", link);   // relative: resolved against the link's directory
    auto r = run_tool(kStandard + shell_quote(link));
    CHECK(r.status == 0);
    CHECK(r.err.empty());
    CHECK(fs::is_symlink(link));
    CHECK(fs::read_symlink(link) == "../b/target.bin");
    CHECK(testing::read_bytes(target) == ref);
    CHECK((fs::status(target).permissions() & fs::perms::all) == (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read));
    CHECK(entries(t.dir / "a") == 1);
    CHECK(entries(t.dir / "b") == 1);

    // A dangling link: its target is created, as cp does.
    fs::remove(target);
    r = run_tool(kStandard + shell_quote(link));
    CHECK(r.status == 0);
    CHECK(fs::is_symlink(link));
    CHECK(testing::read_bytes(target) == ref);
}

TEST_CASE("cli -o: a regular file is replaced by rename, keeping its mode", "[output]") {
    OutDirs t;
    auto ref = reference(t);
    std::string path = t / "a/out.bin";
    testing::write_bytes(path, std::vector<uint8_t>(5000, 0xee));
    ::chmod(path.c_str(), 0600);
    struct stat before {}, after {};
    REQUIRE(::stat(path.c_str(), &before) == 0);
    auto r = run_tool(kStandard + shell_quote(path));
    CHECK(r.status == 0);
    REQUIRE(::stat(path.c_str(), &after) == 0);
    CHECK(testing::read_bytes(path) == ref);
    CHECK(after.st_ino != before.st_ino);   // a new file renamed into place, not rewritten
    CHECK((after.st_mode & 07777) == 0600);
    CHECK(entries(t.dir / "a") == 1);

    // A directory is refused.
    r = run_tool(kStandard + shell_quote(t / "b"));
    CHECK(r.status == 2);
    CHECK(r.err == "xsavetool: " + (t / "b") + ": is a directory\n");
}
