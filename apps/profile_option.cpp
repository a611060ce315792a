// cli::load_profile: "--cpuid host|NAME|FILE|-" for every command, with import warnings shown.
#include "cli.hpp"

#include "xsave/import.hpp"

namespace cli {

xsave::Profile load_profile(const std::string& spec, xsave::HostLeaves host) {
    xsave::ImportOptions opt;
    opt.host = host;
    xsave::Profile p = xsave::resolve_profile(spec, opt);
    warn_all(spec, p.warnings);
    return p;
}

} // namespace cli
