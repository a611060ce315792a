#pragma once
// Profiles from anywhere: our JSON, `cpuid -r`, AIDA64 dumps, dmesg CPUID[..] lines,
// built-in profiles and the host. The format is detected from the content.
#include "xsave/profile.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace xsave {

enum class ImportFormat : uint8_t { Json, CpuidRaw, Aida64, Dmesg };
const char* import_format_name(ImportFormat f);   // "json", "cpuid -r", "aida64", "dmesg"

struct ImportOptions {
    unsigned cpu = 0;      // logical CPU to take from multi-CPU dumps
    std::string name;      // profile name when the text gives none (e.g. the file name)
    HostLeaves host = HostLeaves::All;   // what resolve_profile("host") reads
};

// Throws Error when the text is none of the formats we read.
ImportFormat detect_format(std::string_view text);

// Parses `text` in whatever format it is in. Vendor comes from leaf 0, the name from the
// brand string (leaves 0x80000002..4) unless the text names the profile. Ambiguities the
// importer resolved or refused are listed in Profile::warnings.
Profile import_profile(std::string_view text, const ImportOptions& opt = {});

// The individual importers (import_profile dispatches to these).
Profile import_cpuid_raw(std::string_view text, const ImportOptions& opt);
Profile import_aida64(std::string_view text, const ImportOptions& opt);
Profile import_dmesg(std::string_view text, const ImportOptions& opt);

// The one resolver of every --cpuid: "host" (opt.host says which leaves), a built-in profile
// name, "-" (stdin), or a file in any importable format. Throws Error ("FILE: why", "stdin:
// why") for a file that cannot be read or parsed.
Profile resolve_profile(const std::string& spec, const ImportOptions& opt = {});

// Profiles compiled into the library from lib/profiles/*.json, sorted by name.
struct BuiltinProfile {
    std::string_view name;   // the file name without .json, e.g. "sapphire-rapids"
    std::string_view json;
};
std::span<const BuiltinProfile> builtin_profiles();
// The built-in profile a typed name means: a full name, an alias (spr, skx, zen4, ...) or a
// unique prefix. Throws Error: ambiguous prefix (listing the matches), unknown (the close ones).
std::string builtin_profile_name(std::string_view typed);
// The built-in profile `name`, or throws Error listing what exists.
Profile builtin_profile(std::string_view name);

// Keeps only the leaves XSAVE work needs (0, 1, 7, 0xD, 0x80000000, 0x80000001), for
// small committed profiles.
Profile minimal_profile(const Profile& p);

} // namespace xsave
