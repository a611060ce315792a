#pragma once
// Human-readable rendering of a decoded XSAVE area.
#include "xsave/decode.hpp"

#include <string>

namespace xsave { struct ControlWord; }

namespace cli {
// "(IM DM ZM OM UM PM, RC=nearest, FZ=0 DAZ=0)": a control/status register's named fields.
std::string control_text(const xsave::ControlWord& w, uint32_t value);
// A register's value as people read it: hex, x87 decimal, control-register fields.
std::string show_register(const xsave::Value& v);
std::string render_dump(const xsave::Decoded& d, size_t bytes_read);
}
