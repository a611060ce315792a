#include "fuzz_common.hpp"

#include "xsave/profile.hpp"

namespace fuzz {

void exercise_profile(const xsave::Profile& p) {
    std::string json = xsave::profile_to_json(p);
    try {
        xsave::Profile back = xsave::profile_from_json(json);
        (void)back;
    } catch (const xsave::Error&) {
    }
    try {
        xsave::Profile small = xsave::minimal_profile(p);
        (void)small;
    } catch (const xsave::Error&) {
    }
    std::unique_ptr<xsave::CpuModel> m;
    try {
        m = std::make_unique<xsave::CpuModel>(p);
    } catch (const xsave::Error&) {
        return;
    }
    const uint64_t masks[] = {m->enabled_xcr0(), m->supported_xcr0(), m->enabled_xcr0() | m->enabled_xss(),
                              m->supported_xcr0() | m->supported_xss(), 3};
    for (uint64_t mask : masks) {
        try {
            const auto& s = m->standard(mask);
            (void)s.bits();
        } catch (const xsave::Error&) {
        }
        try {
            const auto& c = m->compacted(mask);
            (void)c.bits();
        } catch (const xsave::Error&) {
        }
    }
}

int fuzz_importer(Importer import, const uint8_t* data, size_t size) {
    Reader r{data, size};
    xsave::ImportOptions opt;
    opt.cpu = r.byte() % 4;
    opt.name = "fuzz";
    try {
        exercise_profile(import(r.text(), opt));
    } catch (const xsave::Error&) {
    }
    return 0;
}

} // namespace fuzz
