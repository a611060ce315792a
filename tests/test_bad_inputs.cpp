// The bad-input suite: every file in test-data/bad/ is run through the real binary with the
// command test-data/bad/expected.tsv gives it. Each must fail with exit code 2 and exactly the
// one-line message listed, print nothing on stdout, leave no output (or temporary) file
// behind, and leave an existing output file untouched.
//
// expected.tsv: FILE <tab> COMMAND <tab> EXIT <tab> MESSAGE, '#' lines are comments.
// In COMMAND and MESSAGE, {file} is the bad file's path, {data} the test-data directory and
// {out} an output path in a fresh directory. FILE "@dir" is a directory made for the test.
#include "helpers.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct Row {
    int line = 0;
    std::string file, command, message;
    int exit = 0;
};

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
    for (size_t p = 0; (p = s.find(from, p)) != std::string::npos; p += to.size()) s.replace(p, from.size(), to);
    return s;
}

std::vector<Row> load_rows() {
    std::ifstream in(testing::data_path("bad/expected.tsv"));
    REQUIRE(in);
    std::vector<Row> rows;
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
        if (line.empty() || line[0] == '#') continue;
        std::vector<std::string> f;
        size_t start = 0;
        for (size_t tab; (tab = line.find('\t', start)) != std::string::npos && f.size() < 3; start = tab + 1)
            f.push_back(line.substr(start, tab - start));
        f.push_back(line.substr(start));
        INFO("expected.tsv line " << n << ": " << line);
        REQUIRE(f.size() == 4);
        rows.push_back({n, f[0], f[1], f[3], std::stoi(f[2])});
    }
    return rows;
}

struct Scratch {
    fs::path dir;
    Scratch() {
        static int counter = 0;
        dir = fs::temp_directory_path() / ("xsavetool-bad-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
        fs::remove_all(dir);
        fs::create_directories(dir);
    }
    ~Scratch() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
    std::set<std::string> entries() const {
        std::set<std::string> s;
        for (const auto& e : fs::directory_iterator(dir)) s.insert(e.path().filename().string());
        return s;
    }
};

// Runs one row twice: into an empty directory, then over an existing output file.
void run_row(const Row& r, const std::string& path) {
    Scratch scratch;
    fs::path work = scratch.dir / "work";
    fs::create_directories(work);
    std::string out = (work / "out.bin").string();
    auto expand = [&](std::string s) {
        s = replace_all(s, "{file}", path);
        s = replace_all(s, "{data}", testing::data_path(""));
        s = replace_all(s, "//", "/");
        return replace_all(s, "{out}", out);
    };
    std::string args = expand(r.command);
    std::string message = expand(r.message);
    INFO("expected.tsv line " << r.line << ": xsavetool " << args);

    auto res = testing::run_tool(args);
    CHECK(res.status == r.exit);
    CHECK(res.err == "xsavetool: " + message + "\n");
    CHECK(res.out.empty());
    // Nothing written: no output, no temporary file beside it.
    CHECK(scratch.entries() == std::set<std::string>{"work"});
    CHECK(fs::is_empty(work));

    const std::string precious = "an earlier result that must survive\n";
    { std::ofstream(out, std::ios::binary) << precious; }
    auto again = testing::run_tool(args);
    CHECK(again.status == r.exit);
    CHECK(again.err == res.err);
    CHECK(testing::read_text(out) == precious);
    std::set<std::string> left;
    for (const auto& e : fs::directory_iterator(work)) left.insert(e.path().filename().string());
    CHECK(left == std::set<std::string>{"out.bin"});
}

} // namespace

TEST_CASE("bad inputs: every file in test-data/bad has an expected failure, and there are at least 50") {
    auto rows = load_rows();
    std::set<std::string> listed;
    for (const auto& r : rows) listed.insert(r.file);
    size_t files = 0;
    for (const auto& e : fs::directory_iterator(testing::data_path("bad"))) {
        std::string name = e.path().filename().string();
        if (name == "expected.tsv") continue;
        ++files;
        INFO(name << " is in test-data/bad but not in expected.tsv");
        CHECK(listed.count(name) == 1);
    }
    for (const auto& name : listed) {
        if (name[0] == '@') continue;
        INFO(name << " is in expected.tsv but not in test-data/bad");
        CHECK(fs::is_regular_file(testing::data_path("bad/" + name)));
    }
    CHECK(files >= 50);
    for (const auto& r : rows) {
        INFO("expected.tsv line " << r.line);
        CHECK(r.exit == 2);
        CHECK(r.message.find('\n') == std::string::npos);
        CHECK(!r.message.empty());
    }
}

TEST_CASE("bad inputs: each fails with exit 2 and its one-line message, writing nothing") {
    for (const auto& r : load_rows()) {
        DYNAMIC_SECTION(r.file << ": " << r.command) {
            if (r.file == "@dir") {
                Scratch d;
                fs::create_directories(d.dir / "input.d");
                run_row(r, (d.dir / "input.d").string());
            } else {
                run_row(r, testing::data_path("bad/" + r.file));
            }
        }
    }
}

TEST_CASE("bad inputs: an unreadable file") {
    // As root, chmod 000 does not stop reading: the case cannot be made, so it is skipped.
    if (::geteuid() == 0) SKIP_TEST("running as root: a chmod 000 file is still readable");
    Scratch d;
    fs::path f = d.dir / "unreadable.bin";
    testing::write_bytes(f.string(), testing::read_bytes(testing::data_path("whpx-832.bin")));
    fs::permissions(f, fs::perms::none);
    Row r{0, "@unreadable", "dump {file} --cpuid {data}/profiles/host-epyc.json", "{file}: cannot open: Permission denied", 2};
    run_row(r, f.string());
    Row c{0, "@unreadable", "compact {file} --cpuid {data}/profiles/host-epyc.json -o {out}", "{file}: cannot open: Permission denied", 2};
    run_row(c, f.string());
}
