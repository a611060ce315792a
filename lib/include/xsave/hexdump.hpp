#pragma once
// An annotated hex dump of an XSAVE area: 16 bytes a line, each line naming the component(s)
// and register(s) its bytes belong to, a marker line where a component (or the header, or
// padding) begins. Lines carry colour spans; turning them into text is separate, so the
// same dump serves terminals, files and tests.
#include "xsave/image.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace xsave {

// How a run of characters is drawn. `bit` picks the component colour (component_rgb).
struct DumpStyle {
    enum Role : uint8_t { Plain, Component, Header, Reserved, Marker } role = Plain;
    int bit = -1;          // Component and Marker lines of a component
    bool dim = false;      // the component is in its initial configuration (XSTATE_BV bit clear)
    bool operator==(const DumpStyle&) const = default;
};

struct HexSpan {
    size_t begin = 0, end = 0;   // character positions in HexLine::text
    DumpStyle style;
};

struct HexLine {
    std::string text;
    std::vector<HexSpan> spans;   // in order, not overlapping; characters outside are plain
};

// The dump of `img` (read with `cpu`): a summary line, then marker and byte lines. Bytes after
// the layout are shown as trailing. With `collapse`, runs of lines equal to the one before
// become one "*    FROM..TO (N lines as above)  what they cover" line, as hexdump -C does.
std::vector<HexLine> hexdump_lines(const Image& img, bool collapse = true);

// The lines as text; with `ansi`, spans become ANSI SGR colours (256-colour palette, faint
// for components in init state).
std::string render_hexdump(const std::vector<HexLine>& lines, bool ansi);

} // namespace xsave
