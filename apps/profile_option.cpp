// cli::load_profile: "--cpuid host|NAME|FILE" for every command, with import warnings shown.
#include "cli.hpp"

#include "xsave/import.hpp"

namespace cli {

xsave::Profile load_profile(const std::string& spec) {
    xsave::Profile p;
    if (spec == "-") {
        std::vector<uint8_t> bytes = read_input("-", 64u << 20);
        try {
            p = xsave::import_profile({reinterpret_cast<const char*>(bytes.data()), bytes.size()}, {0, "stdin"});
        } catch (const xsave::Error& e) {
            throw xsave::Error(std::string("stdin: ") + e.what());
        }
    } else if (spec == "host") {
        // Commands need only the XSAVE leaves: a tenth of the CPUID queries (cpuid capture
        // and the cpuid commands read them all).
        p = xsave::host_profile(xsave::HostLeaves::Xsave);
    } else {
        p = xsave::resolve_profile(spec);
    }
    for (const auto& w : p.warnings) warn(spec + ": " + w);
    return p;
}

} // namespace cli
