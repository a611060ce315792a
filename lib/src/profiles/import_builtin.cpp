// Built-in profiles: lib/profiles/*.json, embedded at build time (lib/profiles/embed.cmake).
#include "profiles/import_detail.hpp"
#include "xsave/error.hpp"

#include <fmt/core.h>

namespace xsave {

namespace detail {
// Defined in the generated builtin_profiles.cpp, sorted by name.
extern const BuiltinProfile kBuiltinProfiles[];
extern const size_t kBuiltinProfileCount;
} // namespace detail

std::span<const BuiltinProfile> builtin_profiles() { return {detail::kBuiltinProfiles, detail::kBuiltinProfileCount}; }

Profile builtin_profile(std::string_view name) {
    for (const auto& b : builtin_profiles()) {
        if (b.name != name) continue;
        try {
            Profile p = profile_from_json(b.json);
            if (p.name.empty()) p.name = std::string(name);
            return p;
        } catch (const Error& e) {
            throw Error(fmt::format("built-in profile {}: {}", name, e.what()));   // a build problem, but say so
        }
    }
    std::string names;
    for (const auto& b : builtin_profiles()) names += (names.empty() ? "" : ", ") + std::string(b.name);
    throw Error(fmt::format("no built-in profile \"{}\" (built-in: {})", name, names));
}

} // namespace xsave
