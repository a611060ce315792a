// The dump contract's per-area object, written without a tree (cores stream one thread at a time).
#include "xsave/area_json.hpp"

#include "xsave/nested.hpp"

#include <fmt/format.h>

namespace xsave {

void append_area_json(std::string& out, const Area& a, const Decoded& d, unsigned indent) {
    std::string in(indent + 2, ' ');
    out += "{\n";
    if (a.tid) out += fmt::format("{}\"tid\": {},\n", in, *a.tid);
    append_json_members(out, d, indent + 2);
    // Registers the input holds beside the XSAVE state (snapshots: RIP, CR0, ...).
    if (!a.context.empty()) {
        out += ",\n" + in + "\"context\": {";
        for (size_t i = 0; i < a.context.size(); ++i) {
            out += (i ? ",\n" : "\n") + in + "  ";
            append_json_string(out, a.context[i].first);
            out += ": ";
            append_json_string(out, a.context[i].second);
        }
        out += "\n" + in + "}";
    }
    // A vCPU's KVM nested state (QEMU's cpu/nested_state), as `dump` of a kvm_nested_state file prints it.
    if (a.nested) {
        std::string j = nested::to_json(*a.nested).dump(2);
        out += ",\n" + in + "\"nested_state\": ";
        for (char ch : j) {
            out += ch;
            if (ch == '\n') out += in;
        }
    }
    out += ",\n" + in + "\"input\": {\n" + in + "  \"kind\": ";
    append_json_string(out, a.kind);
    out += ",\n" + in + "  \"notes\": ";
    append_json_strings(out, a.notes, indent + 4);
    out += "\n" + in + "}\n" + std::string(indent, ' ') + "}";
}

} // namespace xsave
