// The annotated hex dump: which component, register or header field owns every byte.
#include "xsave/hexdump.hpp"

#include "xsave/components.hpp"
#include "xsave/svg.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>

namespace xsave {
namespace {

constexpr unsigned kPerLine = 16;

enum class ByteKind : uint8_t { Unused, Component, Header, Reserved, Trailing };

// Who owns one byte. For components, `field` indexes the catalogue's fields (-1: bytes of the
// component no register covers); for the header, 0 XSTATE_BV, 1 XCOMP_BV, -1 reserved.
struct Owner {
    ByteKind kind = ByteKind::Unused;
    int bit = -1;
    int field = -1;
    int instance = 0;
    bool operator==(const Owner&) const = default;
};

// Where a marker line goes.
struct Region {
    size_t begin = 0, size = 0;
    ByteKind kind = ByteKind::Unused;
    int bit = -1;
    std::string label;
};

struct Map {
    std::vector<Owner> own;
    std::vector<Region> regions;   // by begin
};

Map build_map(const Image& img) {
    const Layout& L = *img.layout;
    Map m;
    size_t n = img.bytes.size(), total = std::min<size_t>(L.total_size, n);
    m.own.assign(n, Owner{});
    for (size_t i = total; i < n; ++i) m.own[i].kind = ByteKind::Trailing;
    auto mark = [&](size_t begin, size_t len, Owner o) {
        for (size_t i = begin; i < std::min(begin + len, n); ++i) m.own[i] = o;
    };
    // The legacy region and header are always there; absent legacy components leave reserved bytes.
    mark(0, kHeaderOffset, {ByteKind::Reserved});
    m.regions.push_back({kLegacyReserved.offset, kLegacyReserved.size, ByteKind::Reserved, -1, "reserved"});
    m.regions.push_back({kSwReservedOffset, kHeaderOffset - kSwReservedOffset, ByteKind::Reserved, -1, "software-reserved"});
    m.regions.push_back({kHeaderOffset, kHeaderSize, ByteKind::Header, -1, "XSAVE header"});
    mark(kHeaderOffset, kHeaderSize, {ByteKind::Header});
    mark(kXstateBvOffset, 8, {ByteKind::Header, -1, 0});
    mark(kXcompBvOffset, 8, {ByteKind::Header, -1, 1});
    for (unsigned b : L.bits()) {
        uint32_t off = b < 2 ? legacy_span(b).offset : L.offset[b], size = b < 2 ? legacy_span(b).size : L.size[b];
        mark(off, size, {ByteKind::Component, int(b)});
        m.regions.push_back({off, size, ByteKind::Component, int(b), component_name(b)});
    }
    // Registers second: MXCSR (SSE) sits inside the x87 bytes.
    for (unsigned b : L.bits()) {
        const ComponentInfo* c = component_info(b);
        uint32_t base = b < 2 ? 0 : L.offset[b];
        if (!c) {
            mark(base, L.size[b], {ByteKind::Component, int(b), 0});
            continue;
        }
        for (size_t fi = 0; fi < c->fields.size(); ++fi) {
            const FieldDesc& f = c->fields[fi];
            for (unsigned i = 0; i < field_instances(f, img.legacy32); ++i) {
                uint32_t at = f.offset + i * f.stride;
                if (b >= 2 && at + f.width > L.size[b]) break;   // beyond the enumerated size (LBR depth)
                mark(base + at, f.width, {ByteKind::Component, int(b), int(fi), int(i)});
            }
        }
    }
    // Gaps between extended components: alignment padding (compacted) or components left out (standard).
    std::vector<bool> covered(total, false);
    for (const auto& r : m.regions)
        for (size_t i = r.begin; i < std::min(r.begin + r.size, total); ++i) covered[i] = true;
    for (size_t i = kExtendedOffset; i < total;) {
        if (covered[i]) { ++i; continue; }
        size_t j = i;
        while (j < total && !covered[j]) ++j;
        m.regions.push_back({i, j - i, ByteKind::Unused, -1,
                             L.format == Format::Compacted ? "padding (64-byte alignment)" : "unused (not in the layout's XCR0)"});
        i = j;
    }
    if (n > total) m.regions.push_back({total, n - total, ByteKind::Trailing, -1, fmt::format("trailing bytes after the {}-byte layout", L.total_size)});
    std::stable_sort(m.regions.begin(), m.regions.end(), [](const Region& a, const Region& b) { return a.begin < b.begin; });
    return m;
}

DumpStyle style_of(const Image& img, const Owner& o) {
    switch (o.kind) {
    case ByteKind::Component: return {DumpStyle::Component, o.bit, !img.in_use(unsigned(o.bit))};
    case ByteKind::Header: return {o.field >= 0 ? DumpStyle::Header : DumpStyle::Reserved};
    default: return {DumpStyle::Reserved};
    }
}

// Builds a line with spans, merging neighbouring runs of one style.
struct LineBuilder {
    HexLine line;
    void add(std::string_view s, DumpStyle st) {
        size_t at = line.text.size();
        line.text += s;
        if (st.role == DumpStyle::Plain || s.empty()) return;
        if (!line.spans.empty() && line.spans.back().end == at && line.spans.back().style == st) line.spans.back().end = line.text.size();
        else line.spans.push_back({at, line.text.size(), st});
    }
};

// "k0 k1", "zmm16[0-15]", "XSTATE_BV=0x3 (x87|SSE)": the pieces of one owner group.
std::string owner_item(const Image& img, const Owner& o, size_t first, size_t last, size_t field_start) {
    if (o.kind == ByteKind::Header) {
        if (o.field == 0) return fmt::format("XSTATE_BV=0x{:x} ({})", img.xstate_bv, mask_names(img.xstate_bv));
        if (o.field == 1)
            return img.xcomp_bv ? fmt::format("XCOMP_BV=0x{:x} ({})", img.xcomp_bv, mask_names(img.xcomp_bv)) : "XCOMP_BV=0 (standard form)";
        return "reserved";
    }
    if (o.kind != ByteKind::Component || o.field < 0) return {};
    const ComponentInfo* c = component_info(unsigned(o.bit));
    std::string name = c ? field_instance_name(c->fields[size_t(o.field)], unsigned(o.instance)) : std::string("data");
    size_t width = c ? c->fields[size_t(o.field)].width : img.layout->size[unsigned(o.bit)];
    size_t a = first - field_start, b = last - field_start;
    if (a == 0 && b + 1 == width) return name;
    return fmt::format("{}[{}-{}]", name, a, b);
}

std::string group_name(const Owner& o, const Map& m, size_t at) {
    switch (o.kind) {
    case ByteKind::Component: return component_name(unsigned(o.bit));
    case ByteKind::Header: return "header";
    case ByteKind::Trailing: return "trailing";
    case ByteKind::Reserved:
    case ByteKind::Unused:
        for (auto it = m.regions.rbegin(); it != m.regions.rend(); ++it)
            if (it->begin <= at && at < it->begin + it->size && it->kind != ByteKind::Component) return it->label;
        return o.kind == ByteKind::Reserved ? "reserved" : "unused";
    }
    return {};
}

// Start of the field instance that owns byte `at`.
size_t field_start(const Map& m, size_t at) {
    while (at > 0 && m.own[at - 1] == m.own[at]) --at;
    return at;
}

HexLine marker(const Image& img, const Region& r) {
    LineBuilder lb;
    std::string text;
    DumpStyle st{DumpStyle::Marker, r.bit};
    if (r.kind == ByteKind::Component) {
        bool sup = component_info(unsigned(r.bit)) && component_info(unsigned(r.bit))->supervisor;
        text = fmt::format("---- 0x{:04x}  {} (bit {})  {} bytes  {}{} ----", r.begin, r.label, r.bit, r.size,
                           img.in_use(unsigned(r.bit)) ? "in use" : "init", sup ? "  supervisor" : "");
    } else {
        text = fmt::format("---- 0x{:04x}  {}  {} bytes ----", r.begin, r.label, r.size);
    }
    lb.add(text, st);
    return lb.line;
}

// Annotation of bytes [begin, end): owners in byte order, grouped by component (or header,
// padding, ...).
struct Group {
    DumpStyle style;
    std::string name;
    std::vector<std::string> items;
};

std::vector<Group> annotate(const Image& img, const Map& m, size_t begin, size_t end) {
    std::vector<Group> groups;
    for (size_t i = begin; i < end;) {
        size_t j = i;
        while (j + 1 < end && m.own[j + 1] == m.own[i]) ++j;
        const Owner& o = m.own[i];
        std::string name = group_name(o, m, i), item = owner_item(img, o, i, j, field_start(m, i));
        DumpStyle st = style_of(img, o);
        if (groups.empty() || groups.back().name != name || !(groups.back().style == st)) groups.push_back({st, name, {}});
        if (!item.empty()) groups.back().items.push_back(item);
        i = j + 1;
    }
    return groups;
}

// With `abridge` (a "*" line over many registers), a group names its first and last items.
void add_groups(LineBuilder& lb, const std::vector<Group>& groups, bool abridge) {
    for (size_t g = 0; g < groups.size(); ++g) {
        if (g) lb.add(" | ", {});
        std::string text = groups[g].name;
        const auto& items = groups[g].items;
        if (!items.empty()) text += ":";
        if (abridge && items.size() > 3) {
            text += " " + items.front() + " .. " + items.back();
        } else {
            for (const auto& it : items) text += " " + it;
        }
        lb.add(text, groups[g].style);
    }
}

} // namespace

std::vector<HexLine> hexdump_lines(const Image& img, bool collapse) {
    const Layout& L = *img.layout;
    Map m = build_map(img);
    std::vector<HexLine> out;
    {
        LineBuilder lb;
        // No profile name here: dumps from equivalent profiles read the same.
        lb.add(fmt::format("{} bytes, {} form, {}-byte layout; XSTATE_BV 0x{:x} ({}), XCOMP_BV 0x{:x}", img.bytes.size(),
                           format_name(img.format), L.total_size, img.xstate_bv, mask_names(img.xstate_bv), img.xcomp_bv),
               {});
        out.push_back(std::move(lb.line));
    }
    size_t n = img.bytes.size(), next_region = 0;
    auto emit_line = [&](size_t line) {
        size_t end = std::min(n, line + kPerLine);
        std::vector<size_t> starts;   // region starts inside this line
        while (next_region < m.regions.size() && m.regions[next_region].begin < end) {
            if (m.regions[next_region].size) {
                out.push_back(marker(img, m.regions[next_region]));
                starts.push_back(m.regions[next_region].begin);
            }
            ++next_region;
        }
        LineBuilder lb;
        lb.add(fmt::format("{:04x} ", line), {});
        for (size_t i = line; i < line + kPerLine; ++i) {
            bool boundary = i > line && std::find(starts.begin(), starts.end(), i) != starts.end();
            std::string sep = i - line == 8 ? "  " : " ";
            if (boundary) sep.back() = '|';
            if (i >= end) { lb.add(sep + "  ", {}); continue; }
            DumpStyle st = style_of(img, m.own[i]);
            bool same = i > line && !boundary && style_of(img, m.own[i - 1]) == st;
            lb.add(sep, same ? st : DumpStyle{});
            lb.add(fmt::format("{:02x}", img.bytes[i]), st);
        }
        lb.add("  ", {});
        add_groups(lb, annotate(img, m, line, end), false);
        out.push_back(std::move(lb.line));
    };
    size_t run_begin = 0, run_end = 0;   // lines collapsed into a pending "*" line
    auto flush_run = [&] {
        size_t lines = (run_end - run_begin) / kPerLine;
        if (lines == 1) emit_line(run_begin);   // a "*" for one line saves nothing
        if (lines > 1) {
            LineBuilder lb;
            // hexdump -C's "*", with the range and what it covers so the labels stay right.
            lb.add(fmt::format("*    {:04x}..{:04x} ({} lines as above)  ", run_begin, run_end - 1, lines), {});
            add_groups(lb, annotate(img, m, run_begin, run_end), true);
            out.push_back(std::move(lb.line));
        }
        run_begin = run_end = 0;
    };
    for (size_t line = 0; line < n; line += kPerLine) {
        size_t end = std::min(n, line + kPerLine);
        // Like hexdump -C: a full line equal to the one before, with no region starting in it,
        // becomes part of a "*" line. The last line is always shown: it ends the buffer.
        bool region_here = next_region < m.regions.size() && m.regions[next_region].begin < end;
        if (collapse && line > 0 && end - line == kPerLine && end < n && !region_here &&
            std::equal(img.bytes.begin() + long(line), img.bytes.begin() + long(end), img.bytes.begin() + long(line - kPerLine))) {
            if (run_end != line) run_begin = line;
            run_end = end;
            continue;
        }
        flush_run();
        emit_line(line);
    }
    flush_run();
    return out;
}

std::string render_hexdump(const std::vector<HexLine>& lines, bool ansi) {
    std::string out;
    for (const auto& l : lines) {
        if (!ansi) {
            out += l.text;
        } else {
            size_t at = 0;
            for (const auto& s : l.spans) {
                out.append(l.text, at, s.begin - at);
                std::string sgr;
                if (s.style.role == DumpStyle::Component || (s.style.role == DumpStyle::Marker && s.style.bit >= 0)) {
                    // Nearest entry of the 6x6x6 cube of the 256-colour palette.
                    Rgb c = component_rgb(unsigned(s.style.bit));
                    auto q = [](uint8_t v) { return int(std::lround(v / 255.0 * 5)); };
                    sgr = fmt::format("{}38;5;{}", s.style.role == DumpStyle::Marker ? "1;" : s.style.dim ? "2;" : "",
                                      16 + 36 * q(c.r) + 6 * q(c.g) + q(c.b));
                } else if (s.style.role == DumpStyle::Header) {
                    sgr = "1";
                } else if (s.style.role == DumpStyle::Marker) {
                    sgr = "1;38;5;250";
                } else {
                    sgr = "38;5;244";
                }
                out += fmt::format("\x1b[{}m", sgr);
                out.append(l.text, s.begin, s.end - s.begin);
                out += "\x1b[0m";
                at = s.end;
            }
            out.append(l.text, at, std::string::npos);
        }
        out += '\n';
    }
    return out;
}

} // namespace xsave
