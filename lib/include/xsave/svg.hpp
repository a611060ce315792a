#pragma once
// Pictures of layouts: SVG drawn to scale, standard and compacted side by side, optionally for
// two CPUs with bands joining each component's positions.
#include "xsave/layout_compare.hpp"

#include <cstdint>
#include <string>

namespace xsave {

// A component's colour, the same in every picture and coloured hex dump: hues spread by the
// golden angle over the bit number, so neighbouring bits differ clearly.
struct Rgb { uint8_t r, g, b; };
Rgb component_rgb(unsigned bit);
std::string css_color(Rgb c);   // "#rrggbb"

// One CPU: its standard and compacted layouts.
std::string layout_svg(const LayoutTable& t);
// Two CPUs: P and Q for each form, with a band from each component's place on P to its place on Q.
std::string compare_svg(const LayoutComparison& c);

} // namespace xsave
