#pragma once
// KVM nested state (kvm_nested_state) in dump, check and diff: reading and printing only; the
// decoding, rules and diff live in the library (xsave/nested.hpp).
#include "cli.hpp"

#include "xsave/nested.hpp"

#include <optional>
#include <string>

namespace cli {

// What `check --for kvm` cannot learn from the blob.
struct NestedCheckFlags {
    bool in_smm = false, no_vmx = false, evmcs = false, no_svme = false, no_npt = false;
    unsigned maxphyaddr = 0;   // 0: the profile's, else 52
    void add(CLI::App* cmd);
};

// The checks' options: the target's vendor picks VMX or SVM rules (profile_spec "" = host),
// the flags what the blob cannot tell.
xsave::nested::CheckOptions nested_check_options(const std::string& profile_spec, const NestedCheckFlags& f);

// The text `dump` prints for a nested state (without the JSON form).
std::string nested_text(const std::string& path, const xsave::nested::State& s);
void dump_nested(const std::string& path, const xsave::nested::State& s, bool json);
// `profile_spec`: the target CPU ("" = host); its vendor picks VMX or SVM rules. Sets exit code 1 when refused.
void check_nested(const std::string& path, const xsave::nested::State& s, const std::string& profile_spec,
                  const NestedCheckFlags& flags, bool json);
// Sets exit code 1 when they differ.
void diff_nested(const std::string& a, const xsave::nested::State& sa, const std::string& b, const xsave::nested::State& sb,
                 bool json);

} // namespace cli
