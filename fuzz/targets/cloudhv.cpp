// Cloud Hypervisor state.json reader and the xsave-array rewrite: writing each vCPU's own
// buffer back must give the text back byte for byte; a conversion to a fixed CPU must read
// back; MSHV pages and nested states go through their readers.
#include "../fuzz_common.hpp"

#include "xsave/cloudhv.hpp"
#include "xsave/import.hpp"
#include "xsave/nested.hpp"

#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    (void)xsave::cloudhv::is_state_json(text);
    try {
        auto s = xsave::cloudhv::read_state(text);
        std::vector<std::vector<uint8_t>> areas;
        for (const auto& v : s.vcpus) areas.push_back(v.xsave);
        std::string back;
        try {
            back = xsave::cloudhv::write_state(s, areas);
        } catch (const xsave::Error&) {
            return 0;   // a state string escaped otherwise than serde_json does: refused, fine
        }
        if (back != text) __builtin_trap();
        for (const auto& v : s.vcpus)
            if (!v.nested_state.empty()) {
                try {
                    (void)xsave::nested::parse_nested_state(v.nested_state);
                } catch (const xsave::Error&) {
                }
            }
        static const xsave::CpuModel genoa(xsave::builtin_profile("zen4-genoa"));
        std::string converted;
        try {
            converted = xsave::cloudhv::convert(s, genoa, {}).text;
        } catch (const xsave::Error&) {
        }
        if (!converted.empty()) {
            try {
                (void)xsave::cloudhv::read_state(converted);   // what convert writes reads back
            } catch (const xsave::Error&) {
                __builtin_trap();
            }
        }
    } catch (const xsave::Error&) {
    }
    return 0;
}
