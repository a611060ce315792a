// The sidecar file: in-use components a conversion was told to drop, kept as JSON so a later
// conversion can put them back.
#include "xsave/convert.hpp"
#include "xsave/decode.hpp"

#include "model/json_text.hpp"

#include "xsave/error.hpp"

#include <nlohmann/json.hpp>

namespace xsave {
namespace {

std::vector<uint8_t> from_hex(const std::string& s, size_t index) {
    if (s.size() % 2) throw Error("sidecar: components[" + std::to_string(index) + "].bytes: odd number of hex digits");
    std::vector<uint8_t> b;
    if (decode_hex_bytes(s, b) != std::string_view::npos)
        throw Error("sidecar: components[" + std::to_string(index) + "].bytes: not hex");
    return b;
}

} // namespace

std::string sidecar_to_json(const Sidecar& s) {
    nlohmann::ordered_json comps = nlohmann::ordered_json::array();
    for (const auto& c : s.components)
        comps.push_back({{"bit", c.bit}, {"name", c.name}, {"bytes", hex_bytes(c.bytes)}});
    nlohmann::ordered_json j;
    j["components"] = std::move(comps);
    return j.dump(2) + "\n";
}

Sidecar sidecar_from_json(std::string_view text) {
    nlohmann::json j = parse_json_text(text, "sidecar");
    if (!j.is_object() || !j.contains("components") || !j["components"].is_array())
        throw Error("sidecar: expected {\"components\": [...]}");
    Sidecar s;
    size_t i = 0;
    for (const auto& c : j["components"]) {
        std::string where = "sidecar: components[" + std::to_string(i) + "]";
        if (!c.is_object() || !c.contains("bit") || !c["bit"].is_number_unsigned() || c["bit"].get<uint64_t>() > 62)
            throw Error(where + ".bit: expected a component number 0..62");
        if (!c.contains("bytes") || !c["bytes"].is_string()) throw Error(where + ".bytes: expected a hex string");
        SidecarComponent sc;
        sc.bit = c["bit"].get<unsigned>();
        if (c.contains("name") && c["name"].is_string()) sc.name = c["name"].get<std::string>();
        sc.bytes = from_hex(c["bytes"].get<std::string>(), i);
        for (const auto& prev : s.components)
            if (prev.bit == sc.bit) throw Error(where + ".bit: component " + std::to_string(sc.bit) + " listed twice");
        s.components.push_back(std::move(sc));
        ++i;
    }
    return s;
}

} // namespace xsave
