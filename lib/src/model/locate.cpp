// Byte offsets to header fields, components and registers, from the catalogue.
#include "xsave/locate.hpp"

#include "xsave/components.hpp"

#include <fmt/core.h>

namespace xsave {
namespace {

bool in_field(const FieldDesc& f, uint32_t base, uint32_t limit, uint32_t offset, Location& loc) {
    for (unsigned i = 0; i < field_instances(f, false); ++i) {
        uint32_t start = base + f.offset + i * f.stride;
        if (start + f.width > base + limit) return false;
        if (offset >= start && offset < start + f.width) {
            loc.field = field_instance_name(f, i);
            loc.field_start = start;
            loc.field_end = start + f.width;
            return true;
        }
    }
    return false;
}

Location region(const char* name, const char* field, uint32_t start, uint32_t end) {
    Location l;
    l.component = name;
    l.field = field;
    l.field_start = start;
    l.field_end = end;
    return l;
}

} // namespace

Location locate(const Layout& L, uint32_t offset) {
    if (offset >= L.total_size) return region("trailing", "", L.total_size, UINT32_MAX);
    if (offset >= kHeaderOffset && offset < kExtendedOffset) {
        if (offset < 520) return region("header", "XSTATE_BV", 512, 520);
        if (offset < 528) return region("header", "XCOMP_BV", 520, 528);
        return region("header", "reserved", 528, 576);
    }
    if (offset < kLegacySize) {
        if (offset >= 464) return region("legacy", "software-reserved", 464, 512);
        for (unsigned bit : {0u, 1u}) {
            Location loc;
            for (const auto& f : component_info(bit)->fields)
                if (in_field(f, 0, kLegacySize, offset, loc)) {
                    loc.bit = int(bit);
                    loc.component = component_name(bit);
                    return loc;
                }
        }
        return region("legacy", "reserved", offset, offset + 1);
    }
    for (unsigned bit : L.bits()) {
        if (bit < 2 || offset < L.offset[bit] || offset >= L.offset[bit] + L.size[bit]) continue;
        Location loc;
        loc.bit = int(bit);
        loc.component = component_name(bit);
        loc.field_start = L.offset[bit];
        loc.field_end = L.offset[bit] + L.size[bit];
        if (const ComponentInfo* c = component_info(bit))
            for (const auto& f : c->fields)
                if (in_field(f, L.offset[bit], L.size[bit], offset, loc)) return loc;
        return loc;
    }
    return region("padding", "", offset, offset + 1);
}

} // namespace xsave
