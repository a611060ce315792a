// xsavetool: inspect, convert, validate and diff x86 XSAVE state snapshots.
#include "cli.hpp"

#include <fmt/core.h>
#include <cstdio>
#include <exception>

int main(int argc, char** argv) {
    CLI::App app{"Inspect, convert, validate and diff x86 XSAVE state snapshots", "xsavetool"};
    app.set_version_flag("--version", std::string("xsavetool ") + XSAVETOOL_VERSION);
    app.require_subcommand(1);
    cli::register_dump(app);
    cli::register_cpuid(app);
    cli::register_convert(app);
    cli::register_check(app);
    cli::register_layout(app);
    cli::register_diff(app);
    try {
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
