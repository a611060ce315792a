#pragma once
// Shared pieces of the fuzz targets: the built-in CPU models (built once) and byte helpers.
// A target calls the library the way the CLI does and lets only xsave::Error through: any
// other exception, a sanitizer report or a crash is a finding.
#include "xsave/error.hpp"
#include "xsave/import.hpp"
#include "xsave/layout.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace fuzz {

// Every built-in profile as a CpuModel, in builtin_profiles() order.
inline const std::vector<std::unique_ptr<xsave::CpuModel>>& models() {
    static const auto list = [] {
        std::vector<std::unique_ptr<xsave::CpuModel>> v;
        for (const auto& b : xsave::builtin_profiles()) v.push_back(std::make_unique<xsave::CpuModel>(xsave::builtin_profile(b.name)));
        return v;
    }();
    return list;
}
inline const xsave::CpuModel& model(uint8_t pick) { return *models()[pick % models().size()]; }

// Consumes bytes from the front of the input.
struct Reader {
    const uint8_t* p;
    size_t n;
    uint8_t byte() {
        if (!n) return 0;
        --n;
        return *p++;
    }
    uint64_t u64() {
        uint64_t v = 0;
        for (int i = 0; i < 8; ++i) v |= uint64_t(byte()) << (8 * i);
        return v;
    }
    std::vector<uint8_t> rest() const { return {p, p + n}; }
    std::string_view text() const { return {reinterpret_cast<const char*>(p), n}; }
};

inline std::string_view as_text(const uint8_t* data, size_t size) { return {reinterpret_cast<const char*>(data), size}; }

// Exercises what the CLI does with a profile once it is imported: the model, its warnings,
// the enabled layouts in both forms and the JSON round trip.
void exercise_profile(const xsave::Profile& p);

// One profile importer driven by an input: [cpu index][text...].
using Importer = xsave::Profile (*)(std::string_view, const xsave::ImportOptions&);
int fuzz_importer(Importer import, const uint8_t* data, size_t size);

} // namespace fuzz
