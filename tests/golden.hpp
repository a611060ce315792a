#pragma once
// Golden-file comparison; XSAVE_UPDATE_GOLDEN=1 rewrites the file instead.
#include "helpers.hpp"

#include <catch2/catch.hpp>

namespace testing {

inline void check_golden(const std::string& name, const std::string& got) {
    std::string path = data_path("golden/" + name);
    if (std::getenv("XSAVE_UPDATE_GOLDEN")) {
        write_bytes(path, {got.begin(), got.end()});
        return;
    }
    CHECK(got == read_text(path));
}

} // namespace testing
