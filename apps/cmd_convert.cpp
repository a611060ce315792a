// Placeholder until the command lands.
#include "cli.hpp"

void cli::register_convert(CLI::App&) {}
