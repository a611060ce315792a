// SVG pictures of layouts. Everything is drawn to one scale (bytes -> pixels) so that sizes
// and moves compare by eye; labels sit beside the bars because small components (PKRU: 8
// bytes) are only a few pixels tall.
#include "xsave/svg.hpp"

#include "xsave/components.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace xsave {

Rgb component_rgb(unsigned bit) {
    // HSL with the hue stepped by the golden angle; saturation and lightness fixed so that
    // dark text stays readable on every block.
    // Lightness alternates with the bit too: bits 13 apart (opmask and TILEDATA) get near hues.
    double h = std::fmod(bit * 137.508, 360.0) / 60.0, s = 0.55, l = bit % 2 ? 0.58 : 0.68;
    double c = (1 - std::fabs(2 * l - 1)) * s, x = c * (1 - std::fabs(std::fmod(h, 2.0) - 1)), m = l - c / 2;
    double r = 0, g = 0, b = 0;
    switch (int(h)) {
    case 0: r = c, g = x; break;
    case 1: r = x, g = c; break;
    case 2: g = c, b = x; break;
    case 3: g = x, b = c; break;
    case 4: r = x, b = c; break;
    default: r = c, b = x; break;
    }
    auto u8 = [m](double v) { return uint8_t(std::lround((v + m) * 255)); };
    return {u8(r), u8(g), u8(b)};
}

std::string css_color(Rgb c) { return fmt::format("#{:02x}{:02x}{:02x}", c.r, c.g, c.b); }

namespace {

constexpr double kWidth = 1200, kTop = 84, kLabelStep = 12.5, kMaxBarHeight = 1500, kMaxScale = 0.6;
constexpr const char* kFont = "DejaVu Sans, Arial, Helvetica, sans-serif";

std::string esc(std::string_view s) {
    std::string r;
    for (char ch : s) {
        switch (ch) {
        case '&': r += "&amp;"; break;
        case '<': r += "&lt;"; break;
        case '>': r += "&gt;"; break;
        case '"': r += "&quot;"; break;
        default: r += ch;
        }
    }
    return r;
}

enum class BlockKind { Component, Header, Reserved, Gap };
struct Block {
    uint32_t off = 0, size = 0;
    int bit = -1;
    BlockKind kind = BlockKind::Component;
    std::string name;
};

std::vector<Block> blocks_of(const Layout& L) {
    std::vector<Block> r;
    for (unsigned b = 0; b < 2; ++b) {
        auto [off, size] = legacy_span(b);
        if (L.has(b)) r.push_back({off, size, int(b), BlockKind::Component, component_name(b)});
        else r.push_back({off, size, -1, BlockKind::Reserved, component_name(b) + " (not saved)"});
    }
    r.push_back({kLegacyReserved.offset, kHeaderOffset - kLegacyReserved.offset, -1, BlockKind::Reserved, "reserved"});
    r.push_back({kHeaderOffset, kHeaderSize, -1, BlockKind::Header, "header"});
    std::vector<unsigned> ext;
    for (unsigned b : L.bits())
        if (b >= 2) ext.push_back(b);
    std::sort(ext.begin(), ext.end(), [&](unsigned a, unsigned b) { return L.offset[a] < L.offset[b]; });
    uint32_t cursor = kExtendedOffset;
    for (unsigned b : ext) {
        if (L.offset[b] > cursor)
            r.push_back({cursor, L.offset[b] - cursor, -1, BlockKind::Gap,
                         L.format == Format::Compacted ? "padding (64-byte alignment)" : "unused"});
        r.push_back({L.offset[b], L.size[b], int(b), BlockKind::Component, component_name(b)});
        cursor = std::max(cursor, L.offset[b] + L.size[b]);
    }
    return r;
}

std::string fill_of(const Block& b) {
    switch (b.kind) {
    case BlockKind::Component: return css_color(component_rgb(unsigned(b.bit)));
    case BlockKind::Header: return "#6b6b6b";
    case BlockKind::Reserved: return "#d6d6d6";
    case BlockKind::Gap: return "url(#hatch)";
    }
    return "#000";
}

struct Canvas {
    double scale = 0.5;
    double bottom = 0;   // lowest y drawn so far
    std::string body;
    double y(uint32_t off) const { return kTop + off * scale; }
};

// One bar: blocks at x..x+w, labels on the right (or left when label_left) starting at lx.
void draw_column(Canvas& cv, const Layout& L, const std::string& cpu, double x, double w, double lx, bool label_left) {
    auto blocks = blocks_of(L);
    const char* form = format_name(L.format);
    // Labels in offset order, pushed down so that they never overlap.
    std::vector<double> ly(blocks.size());
    double last = -1e9;
    for (size_t i = 0; i < blocks.size(); ++i) {
        double centre = cv.y(blocks[i].off) + blocks[i].size * cv.scale / 2 + 3.5;
        ly[i] = std::max(centre, last + kLabelStep);
        last = ly[i];
    }
    double edge = label_left ? x : x + w, text_x = label_left ? lx - 2 : lx + 2;
    for (size_t i = 0; i < blocks.size(); ++i) {
        const Block& b = blocks[i];
        double y0 = cv.y(b.off), h = std::max(b.size * cv.scale, 0.6), centre = y0 + h / 2;
        std::string cls = b.kind == BlockKind::Component ? "component" : b.kind == BlockKind::Gap ? "padding" : "fixed";
        std::string label = fmt::format("{} 0x{:x} \u00b7 {} B", b.name, b.off, b.size);
        cv.body += fmt::format("<g class=\"{}\" data-form=\"{}\" data-cpu=\"{}\"{}>\n", cls, form, esc(cpu),
                               b.bit >= 0 ? fmt::format(" data-bit=\"{}\"", b.bit) : std::string());
        cv.body += fmt::format("<title>{} ({}, {}): offset 0x{:x} ({}), {} bytes</title>\n", esc(b.name), esc(cpu), form,
                               b.off, b.off, b.size);
        cv.body += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\" stroke=\"#ffffff\" stroke-width=\"0.6\"/>\n",
                               x, y0, w, h, fill_of(b));
        // The name inside the block too, where it fits.
        if (h >= 13 && b.name.size() * 6.0 < w - 6)
            cv.body += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"10\" text-anchor=\"middle\" fill=\"{}\">{}</text>\n",
                                   x + w / 2, centre + 3.5, b.kind == BlockKind::Header ? "#ffffff" : "#1a1a1a", esc(b.name));
        cv.body += fmt::format("<polyline points=\"{:.1f},{:.1f} {:.1f},{:.1f} {:.1f},{:.1f}\" fill=\"none\" stroke=\"#9a9a9a\" stroke-width=\"0.7\"/>\n",
                               edge, centre, (edge + text_x) / 2, centre, text_x, ly[i] - 3.5);
        cv.body += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"10\"{} fill=\"{}\">{}</text>\n", text_x + (label_left ? -2 : 2),
                               ly[i], label_left ? " text-anchor=\"end\"" : "", b.kind == BlockKind::Component ? "#1a1a1a" : "#666666",
                               esc(label));
        cv.body += "</g>\n";
        cv.bottom = std::max({cv.bottom, ly[i], y0 + h});
    }
}

void heading(Canvas& cv, double x, double y, const std::string& text, int size, bool bold, const char* anchor = "start") {
    cv.body += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"{}\"{} text-anchor=\"{}\" fill=\"#1a1a1a\">{}</text>\n", x, y,
                           size, bold ? " font-weight=\"bold\"" : "", anchor, esc(text));
}

// Offset ticks to the left of a bar.
void ticks(Canvas& cv, double x, uint32_t total) {
    uint32_t step = 0x100;
    while (step * cv.scale < 40) step *= 2;
    for (uint32_t off = 0; off <= total; off += step) {
        double y = cv.y(off);
        cv.body += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#9a9a9a\" stroke-width=\"0.7\"/>\n",
                               x - 5, y, x, y);
        cv.body += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"9\" text-anchor=\"end\" fill=\"#666666\">0x{:x}</text>\n",
                               x - 7, y + 3, off);
    }
}

std::vector<std::string> wrap(const std::vector<std::string>& notes, size_t width = 190);

std::string document(const Canvas& cv, const std::string& title, const std::vector<std::string>& raw_notes) {
    std::vector<std::string> notes = wrap(raw_notes);
    double height = std::ceil(cv.bottom + 30 + 15 * notes.size());
    std::string s = fmt::format(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0:.0f}\" height=\"{1:.0f}\" viewBox=\"0 0 {0:.0f} {1:.0f}\" font-family=\"{2}\">\n"
        "<title>{3}</title>\n"
        "<defs><pattern id=\"hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"
        "<rect width=\"6\" height=\"6\" fill=\"#f2f2f2\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#a8a8a8\" stroke-width=\"2\"/>"
        "</pattern></defs>\n"
        "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n",
        kWidth, height, kFont, esc(title));
    s += fmt::format("<text x=\"20\" y=\"26\" font-size=\"16\" font-weight=\"bold\" fill=\"#1a1a1a\">{}</text>\n", esc(title));
    s += cv.body;
    double y = height - 15 * notes.size() + 1;
    for (const auto& n : notes) {
        s += fmt::format("<text x=\"20\" y=\"{:.1f}\" font-size=\"11\" fill=\"#444444\">{}</text>\n", y, esc(n));
        y += 15;
    }
    s += "</svg>\n";
    return s;
}

// Names for column headings: at most 36 characters (about 230 pixels), the full name in <title>s.
std::string shorten(const std::string& name) {
    if (name.size() <= 36) return name;
    size_t cut = 35;
    while (cut > 0 && (uint8_t(name[cut]) & 0xC0) == 0x80) --cut;   // not inside a UTF-8 sequence
    return name.substr(0, cut) + "\u2026";
}

// Notes wrapped at word boundaries to fit the width.
std::vector<std::string> wrap(const std::vector<std::string>& notes, size_t width) {
    std::vector<std::string> r;
    for (const auto& n : notes) {
        std::string line;
        size_t at = 0;
        while (at < n.size()) {
            size_t sp = n.find(' ', at);
            std::string word = n.substr(at, sp == std::string::npos ? std::string::npos : sp - at);
            if (!line.empty() && line.size() + 1 + word.size() > width) r.push_back(line), line.clear();
            line += (line.empty() ? "" : " ") + word;
            at = sp == std::string::npos ? n.size() : sp + 1;
        }
        if (!line.empty()) r.push_back(line);
    }
    return r;
}

double scale_for(uint32_t largest) { return std::min(kMaxScale, kMaxBarHeight / std::max<uint32_t>(largest, 1)); }

constexpr const char* kNote = "To scale. Hatched: bytes no component occupies (64-byte alignment padding in compacted form, "
                              "components outside XCR0 in standard form). Offsets in hex, sizes in bytes.";

} // namespace

std::string layout_svg(const LayoutTable& t) {
    Canvas cv;
    cv.scale = scale_for(std::max(t.standard_size(), t.compacted_size()));
    const Layout* forms[] = {t.standard, t.compacted};
    for (int k = 0; k < 2; ++k) {
        const Layout& L = *forms[k];
        double x0 = 600.0 * k, bar = x0 + 70;
        heading(cv, bar, 54, k ? "compacted (XSAVEC/XSAVES)" : "standard (XSAVE)", 13, true);
        heading(cv, bar, 70, k ? fmt::format("XCOMP_BV 0x{:x} \u00b7 {} bytes", L.mask | kCompactedBit, L.total_size)
                               : fmt::format("XCR0 0x{:x} \u00b7 {} bytes", L.mask, L.total_size),
                11, false);
        ticks(cv, bar, L.total_size);
        draw_column(cv, L, t.profile, bar, 150, bar + 150 + 26, false);
    }
    return document(cv, fmt::format("XSAVE layout of {} (XCR0 0x{:x}, IA32_XSS 0x{:x})", t.profile, t.xcr0, t.xss), {kNote});
}

std::string compare_svg(const LayoutComparison& c) {
    Canvas cv;
    cv.scale = scale_for(std::max({c.from.standard_size(), c.from.compacted_size(), c.to.standard_size(), c.to.compacted_size()}));
    constexpr double kBar = 80, kP = 176, kQ = 344;   // bar x within a 600-pixel group
    for (int k = 0; k < 2; ++k) {
        bool compacted = k == 1;
        const Layout& P = compacted ? *c.from.compacted : *c.from.standard;
        // Compacted: the layout Q's XRSTOR reads P's buffer with (P's XCOMP_BV), not Q's own
        // XSAVEC layout, so the picture tells what the verdict below tells.
        const Layout& Q = compacted ? (c.read_compacted ? *c.read_compacted : *c.to.compacted) : *c.to.standard;
        double x0 = 600.0 * k;
        heading(cv, x0 + 300, 46,
                compacted ? fmt::format("compacted (XCOMP_BV 0x{:x}, as {} writes it)", c.xcomp_bv, shorten(c.from.profile))
                          : std::string("standard (XSAVE)"),
                13, true, "middle");
        // Profile names can be long brand strings: P's runs left from its bar, Q's right from its bar.
        heading(cv, x0 + kP + kBar, 62, shorten(c.from.profile), 11, true, "end");
        heading(cv, x0 + kP + kBar, 76, fmt::format("{} bytes", P.total_size), 11, false, "end");
        heading(cv, x0 + kQ, 62, shorten(c.to.profile), 11, true);
        heading(cv, x0 + kQ, 76, fmt::format("{} bytes", Q.total_size), 11, false);
        // Bands first, so that the bars are drawn over their ends.
        for (unsigned b = 0; b < 63; ++b) {
            if (!P.has(b) || !Q.has(b)) continue;
            double px = x0 + kP + kBar, qx = x0 + kQ;
            double p0 = cv.y(P.offset[b]), p1 = cv.y(P.offset[b] + P.size[b]), q0 = cv.y(Q.offset[b]), q1 = cv.y(Q.offset[b] + Q.size[b]);
            bool moved = P.offset[b] != Q.offset[b] || P.size[b] != Q.size[b];
            std::string col = css_color(component_rgb(b));
            cv.body += fmt::format("<g class=\"band\" data-form=\"{}\" data-bit=\"{}\" data-placement=\"{}\">\n", format_name(P.format), b,
                                   moved ? "moved" : "same");
            cv.body += fmt::format("<title>{}: 0x{:x} on {} \u2192 0x{:x} on {}</title>\n", esc(component_name(b)), P.offset[b],
                                   esc(c.from.profile), Q.offset[b], esc(c.to.profile));
            cv.body += fmt::format("<polygon points=\"{:.1f},{:.1f} {:.1f},{:.1f} {:.1f},{:.1f} {:.1f},{:.1f}\" fill=\"{}\" fill-opacity=\"0.3\"/>\n",
                                   px, p0, qx, q0, qx, std::max(q1, q0 + 0.6), px, std::max(p1, p0 + 0.6), col);
            cv.body += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\" stroke-width=\"{}\"/>\n", px,
                                   (p0 + p1) / 2, qx, (q0 + q1) / 2, col, moved ? "2" : "1");
            cv.body += "</g>\n";
        }
        draw_column(cv, P, c.from.profile, x0 + kP, kBar, x0 + kP - 8, true);
        draw_column(cv, Q, c.to.profile, x0 + kQ, kBar, x0 + kQ + kBar + 8, false);
    }
    return document(cv, fmt::format("XSAVE layouts: {} \u2192 {}", c.from.profile, c.to.profile),
                    {fmt::format("standard buffers: {}", c.standard.text), fmt::format("compacted buffers: {}", c.compacted.text),
                     std::string(kNote) + " Bands join each component's places on the two CPUs."});
}

} // namespace xsave
