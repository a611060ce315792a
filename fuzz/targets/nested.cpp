// KVM nested-state reader: detection, parse, JSON, both rule sets with every assumption
// flipped, and diff against itself.
#include "../fuzz_common.hpp"

#include "xsave/nested.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace xsave::nested;
    std::span<const uint8_t> bytes{data, size};
    (void)looks_like_nested_state(bytes);
    try {
        State s = parse_nested_state(bytes);
        if (s.hdr.size > size || s.hdr.size < kHeaderSize || s.trailing != size - s.hdr.size) __builtin_trap();
        if (s.vmcs12.size() > kVmcsSize || s.shadow_vmcs12.size() > kVmcsSize || s.vmcb12.size() > kVmcbSize) __builtin_trap();
        (void)to_json(s).dump();
        for (unsigned i = 0; i < 8; ++i) {
            CheckOptions o;
            o.rules = i & 1 ? Rules::Svm : Rules::Vmx;
            o.in_smm = i & 2;
            o.evmcs_enabled = o.svme = i & 4;
            o.maxphyaddr = i & 2 ? 36 : 52;
            CheckResult r = check_nested_state(s, o);
            for (const auto& v : r.violations)
                if (v.rule.empty() || v.message.empty()) __builtin_trap();
        }
        if (!diff_states(s, s).equal()) __builtin_trap();
    } catch (const xsave::Error&) {
    }
    return 0;
}
