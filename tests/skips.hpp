#pragma once
// Test cases skipped in this run (SKIP_TEST), for the summary the listener in catch_main prints.
#include <string>
#include <vector>

namespace testing {
std::vector<std::string>& skipped_cases();
} // namespace testing
