// xsavetool: inspect, convert, validate and diff x86 XSAVE state snapshots.
#include "cli.hpp"

#include "xsave/names.hpp"

#include <fmt/core.h>
#include <cstdio>
#include <cstring>
#include <exception>

namespace {

// Each group of commands with the names it registers.
struct Group {
    void (*add)(CLI::App&);
    const char* names[4];
};
constexpr Group kGroups[] = {
    {cli::register_dump, {"dump"}},
    {cli::register_cpuid, {"cpuid"}},
    {cli::register_convert, {"compact", "standard", "convert", "capture"}},
    {cli::register_check, {"check"}},
    {cli::register_layout, {"layout", "hexdump"}},
    {cli::register_diff, {"diff", "assemble"}},
};

// Building every command's options costs more than a whole `dump`. When argv[1] names a
// command nothing else can be parsed (one subcommand at most), so only its group is
// registered; anything else (--help, a typo) gets all of them for the full messages.
void register_commands(CLI::App& app, int argc, char** argv) {
    if (argc > 1)
        for (const Group& g : kGroups)
            for (const char* n : g.names)
                if (n && std::strcmp(n, argv[1]) == 0) return g.add(app);
    for (const Group& g : kGroups) g.add(app);
}

// A misspelt command ("dupm", "cpuid lst") is named with its close matches, before CLI11
// would call it a missing subcommand or a stray argument.
void check_command_names(CLI::App& app, int argc, char** argv) {
    CLI::App* cur = &app;
    std::string path;
    for (int i = 1; i < argc && argv[i][0] != '-'; ++i) {
        auto subs = cur->get_subcommands({});
        if (subs.empty()) return;
        std::vector<std::string> names;
        for (auto* s : subs) {
            if (s->get_name() == argv[i]) cur = s;
            names.push_back(s->get_name());
        }
        path += (path.empty() ? "" : " ") + std::string(argv[i]);
        if (cur->get_name() == argv[i]) continue;
        std::string prefix = path.substr(0, path.size() - std::strlen(argv[i]));
        auto close = xsave::close_names(argv[i], names);
        for (auto& c : close) c = prefix + c;
        std::string all;
        for (const auto& n : names) all += (all.empty() ? "" : ", ") + n;
        throw xsave::Error(close.empty() ? fmt::format("unknown command '{}'; expected one of: {}", path, all)
                                         : fmt::format("unknown command '{}'; did you mean {}?", path, xsave::quoted_choice(close)));
    }
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"Inspect, convert, validate and diff x86 XSAVE state snapshots", "xsavetool"};
    app.set_version_flag("--version", std::string("xsavetool ") + XSAVETOOL_VERSION);
    app.require_subcommand(1);
    register_commands(app, argc, argv);
    try {
        check_command_names(app, argc, argv);
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        // Usage errors are trouble, as for diff(1): exit code 2.
        fmt::print(stderr, "xsavetool: {}\n", e.what());
        return 2;
    } catch (const xsave::Error& e) {
        std::fflush(stdout);
        fmt::print(stderr, "xsavetool: {}\n", e.what());
        return 2;
    } catch (const std::bad_alloc&) {
        fmt::print(stderr, "xsavetool: out of memory\n");
        return 2;
    } catch (const std::exception& e) {
        fmt::print(stderr, "xsavetool: internal error: {}\n", e.what());
        return 2;
    }
    return cli::exit_code();
}
