// Hex text as people paste it: byte lists in mails, xxd, hexdump -C, od -A x -t x1z.
// Each line is classified on its own; consecutive data lines of one kind form a run; the
// run with the most bytes is the buffer. Only that run's problems are reported, so stray
// numbers elsewhere in a mail do not matter, but a bad offset inside the block does.
#include "xsave/error.hpp"
#include "xsave/numbers.hpp"
#include "xsave/input.hpp"

#include <fmt/format.h>

namespace xsave {

const char* hex_style_name(HexStyle s) {
    switch (s) {
    case HexStyle::Plain: return "plain";
    case HexStyle::Xxd: return "xxd";
    case HexStyle::HexdumpC: return "hexdump -C";
    case HexStyle::Od: return "od";
    case HexStyle::Xsavetool: return "xsavetool hexdump";
    }
    return "?";
}

namespace {

enum class Kind : uint8_t { Blank, Text, Data, Lone, Star, Marker };

struct Line {
    size_t no = 0;                 // 1-based
    Kind kind = Kind::Text;
    bool has_offset = false;
    HexStyle style = HexStyle::Plain;
    uint64_t offset = 0;
    std::vector<uint8_t> bytes;
    std::string odd;               // first token with an odd digit count
    std::string lone;              // the token of a Lone line (maybe an end offset)
    uint64_t star_end = 0;         // our hexdump's "*    FROM..TO": offset = FROM, star_end = TO + 1
};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }
std::string_view trim(std::string_view s) {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}
std::string_view strip_0x(std::string_view t) {
    if (t.size() > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) t.remove_prefix(2);
    return t;
}
bool all_hex(std::string_view t) {
    if (t.empty()) return false;
    for (char c : t)
        if (hex_digit(c) < 0) return false;
    return true;
}
// An offset column value: 1..16 hex digits, optional 0x.
std::optional<uint64_t> parse_offset(std::string_view t) {
    t = strip_0x(t);
    if (!all_hex(t) || t.size() > 16) return std::nullopt;
    uint64_t v = 0;
    for (char c : t) v = v << 4 | uint64_t(hex_digit(c));
    return v;
}

std::vector<std::string_view> tokens(std::string_view s) {
    std::vector<std::string_view> out;
    size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && (is_space(s[i]) || s[i] == ',')) ++i;
        size_t j = i;
        while (j < s.size() && !is_space(s[j]) && s[j] != ',') ++j;
        if (j > i) out.push_back(s.substr(i, j - i));
        i = j;
    }
    return out;
}

// Appends the bytes of hex tokens; false when a token is not hex.
bool take_bytes(const std::vector<std::string_view>& toks, size_t from, Line& l) {
    for (size_t k = from; k < toks.size(); ++k) {
        auto t = strip_0x(toks[k]);
        if (!all_hex(t)) return false;
        if (t.size() % 2) {
            if (l.odd.empty()) l.odd = std::string(toks[k]);
            continue;
        }
        for (size_t i = 0; i < t.size(); i += 2) l.bytes.push_back(uint8_t(hex_digit(t[i]) << 4 | hex_digit(t[i + 1])));
    }
    return true;
}

Line classify_plain(std::string_view raw, size_t no);

// `xsavetool hexdump`: "OFFS  b0 b1 ...|b8 ...  annotation", a '|' before a byte where a
// region starts, and "---- 0xOFFS  region ... ----" lines between (Kind::Marker).
Line classify_annotated(std::string_view s, size_t no) {
    Line l;
    l.no = no;
    if (s.size() > 10 && s.starts_with("---- 0x") && s.ends_with(" ----")) { l.kind = Kind::Marker; return l; }
    if (s.size() > 2 && s[0] == '*' && is_space(s[1])) {   // "*    0a10..29ef (511 lines as above)  ..."
        std::string_view r = trim(s.substr(1));
        size_t dots = r.find(".."), sp = r.find(' ');
        if (dots == std::string_view::npos || sp == std::string_view::npos || dots > sp) return l;
        auto from = parse_offset(r.substr(0, dots)), to = parse_offset(r.substr(dots + 2, sp - dots - 2));
        if (!from || !to || *to < *from) return l;
        l.kind = Kind::Star;
        l.style = HexStyle::Xsavetool;
        l.offset = *from;
        l.star_end = *to + 1;
        return l;
    }
    size_t i = 0;
    while (i < s.size() && !is_space(s[i])) ++i;
    if (i < 4) return l;
    auto off = parse_offset(s.substr(0, i));
    if (!off) return l;
    std::vector<uint8_t> bytes;
    size_t end = i;
    while (bytes.size() < 16) {
        size_t j = end;
        size_t spaces = 0;
        while (j < s.size() && is_space(s[j])) ++j, ++spaces;
        if (j < s.size() && s[j] == '|' && bytes.size()) ++j;
        else if (spaces == 0) break;
        if (j + 2 > s.size() || hex_digit(s[j]) < 0 || hex_digit(s[j + 1]) < 0) break;
        if (j + 2 < s.size() && !is_space(s[j + 2])) break;
        bytes.push_back(uint8_t(hex_digit(s[j]) << 4 | hex_digit(s[j + 1])));
        end = j + 2;
    }
    // The annotation follows two or more spaces; a line with one is another format's.
    if (bytes.empty() || end == s.size() || s.substr(end, 2) != "  ") return l;
    l.kind = Kind::Data;
    l.has_offset = true;
    l.offset = *off;
    l.style = HexStyle::Xsavetool;
    l.bytes = std::move(bytes);
    return l;
}

Line classify(std::string_view raw, size_t no) {
    Line l = classify_plain(raw, no);
    if (l.kind != Kind::Text) return l;
    std::string_view s = trim(raw);
    while (!s.empty() && s.front() == '>') s = trim(s.substr(1));
    return classify_annotated(s, no);
}

Line classify_plain(std::string_view raw, size_t no) {
    Line l;
    l.no = no;
    std::string_view s = trim(raw);
    while (!s.empty() && s.front() == '>') s = trim(s.substr(1));   // mail quoting
    if (s.empty()) { l.kind = Kind::Blank; return l; }
    if (s == "*") { l.kind = Kind::Star; return l; }

    // xxd (and gdb x/xb): "OFFSET:" then byte groups, then two spaces and the ASCII column.
    size_t first_end = 0;
    while (first_end < s.size() && !is_space(s[first_end])) ++first_end;
    if (first_end > 1 && s[first_end - 1] == ':') {
        auto off = parse_offset(s.substr(0, first_end - 1));
        if (!off) return l;
        std::string_view rest = trim(s.substr(first_end));
        if (auto cut = rest.find("  "); cut != std::string_view::npos) rest = rest.substr(0, cut);
        auto toks = tokens(rest);
        if (toks.empty() || !take_bytes(toks, 0, l)) { l.bytes.clear(); return l; }
        l.kind = Kind::Data;
        l.has_offset = true;
        l.offset = *off;
        l.style = HexStyle::Xxd;
        return l;
    }

    // hexdump -C "|ascii|" or od "z" ">ascii<" column: the hex part never holds '|' or '>'.
    std::string_view hex = s;
    HexStyle ascii_style = HexStyle::Plain;
    if (auto bar = s.find('|'); bar != std::string_view::npos) {
        if (s.back() != '|' || bar == s.size() - 1) return l;
        hex = s.substr(0, bar);
        ascii_style = HexStyle::HexdumpC;
    } else if (auto gt = s.find('>'); gt != std::string_view::npos) {
        if (s.back() != '<') return l;
        hex = s.substr(0, gt);
        ascii_style = HexStyle::Od;
    }
    auto toks = tokens(hex);
    if (toks.empty()) return l;
    if (toks.size() == 1 && ascii_style == HexStyle::Plain) {
        // "000000a7" closing a hexdump, or one long xxd -p line: decided by the run.
        if (!take_bytes(toks, 0, l)) { l.bytes.clear(); l.odd.clear(); return l; }
        l.kind = Kind::Lone;
        l.lone = std::string(toks[0]);
        return l;
    }
    // An offset column: a first token of 4+ digits followed by single bytes.
    bool offset_column = toks.size() >= 2 && toks[0].size() >= 4 && all_hex(toks[0]);
    for (size_t k = 1; offset_column && k < toks.size(); ++k)
        offset_column = toks[k].size() == 2 && all_hex(toks[k]);
    if (offset_column) {
        auto off = parse_offset(toks[0]);
        if (!off) return l;
        l.has_offset = true;
        l.offset = *off;
        l.style = ascii_style == HexStyle::Plain ? HexStyle::Od : ascii_style;
    }
    if (!take_bytes(toks, offset_column ? 1 : 0, l)) { l.bytes.clear(); l.odd.clear(); return l; }
    l.kind = Kind::Data;
    return l;
}

// One run of consecutive data lines, assembled as it is read so memory stays proportional
// to the bytes of two runs (this one and the best so far), whatever the text holds.
// A problem inside a run is kept, not thrown: it matters only if the run is chosen.
struct Run {
    bool offsets = false;
    HexStyle style = HexStyle::Plain;
    size_t first_line = 0, last_line = 0, lines = 0;
    size_t raw_bytes = 0;             // bytes written out in the text (the length that ranks runs)
    std::vector<uint8_t> bytes;
    std::optional<std::string> error;
    uint64_t start_offset = 0;
    // Offset runs: where the next line must start, the last data line, a pending "*".
    uint64_t expected = 0, prev_offset = 0;
    std::vector<uint8_t> prev_bytes;
    size_t star_line = 0;
    uint64_t star_from = 0, star_end = 0;   // the range an annotated "*" names (star_end 0: none)
    bool closed = false;              // a closing offset ended it

    void fail(std::string msg) { if (!error) error = std::move(msg); }

    // A pending "*" before a line at `offset`: repeat the last line up to it.
    bool expand(size_t no, uint64_t offset) {
        if (!star_line) return true;
        size_t star = star_line;
        star_line = 0;
        size_t width = prev_bytes.size();
        if (star_end && (star_from != expected || star_end != offset)) {
            fail(fmt::format("line {}: '*' names {:#x}..{:#x} but the lines around it give {:#x}..{:#x}", star, star_from,
                             star_end - 1, expected, offset - 1));
            return false;
        }
        if (offset < expected) return offset_error(no, offset);
        uint64_t gap = offset - expected;
        if (width == 0 || gap % width) {
            fail(fmt::format("line {}: offset {:#x} after '*' does not continue the repeated {}-byte line at {:#x}",
                             no, offset, width, prev_offset));
            return false;
        }
        if (offset - start_offset > kMaxHexBytes) {
            fail(fmt::format("line {}: '*' repeats lines up to offset {:#x}, more than the {} MiB an XSAVE buffer "
                             "can hold", no, offset, kMaxHexBytes >> 20));
            return false;
        }
        for (uint64_t k = 0; k < gap / width; ++k) bytes.insert(bytes.end(), prev_bytes.begin(), prev_bytes.end());
        expected = offset;
        return true;
    }
    bool offset_error(size_t no, uint64_t got) {
        fail(fmt::format("line {}: offset {:#x} follows {:#x}; expected {:#x}", no, got, prev_offset, expected));
        return false;
    }
    bool odd_error(const Line& l) {
        fail(fmt::format("line {}: odd number of hex digits in '{}'; expected whole bytes (two digits each)", l.no, l.odd));
        return false;
    }

    void start(const Line& l) {
        offsets = l.kind == Kind::Data && l.has_offset;
        style = l.style;
        first_line = l.no;
        start_offset = expected = l.offset;
        add(l);
    }

    // Can `l` continue this run?
    bool continues(const Line& l) const {
        if (closed) return false;
        if (l.kind == Kind::Marker) return offsets && style == HexStyle::Xsavetool;
        if (offsets)
            return (l.kind == Kind::Star && (l.style == HexStyle::Plain || l.style == style)) || l.kind == Kind::Lone ||
                   (l.kind == Kind::Data && l.has_offset && l.style == style);
        return l.kind == Kind::Lone || (l.kind == Kind::Data && !l.has_offset);
    }

    void add(const Line& l) {
        last_line = l.no;
        ++lines;
        raw_bytes += l.bytes.size();
        if (error || l.kind == Kind::Marker) return;
        if (!offsets) {
            if (!l.odd.empty()) odd_error(l);
            else bytes.insert(bytes.end(), l.bytes.begin(), l.bytes.end());
            return;
        }
        if (l.kind == Kind::Star) {
            star_line = l.no;
            star_from = l.offset;
            star_end = l.star_end;
            return;
        }
        if (l.kind == Kind::Lone) {   // the closing offset: the total length
            closed = true;
            raw_bytes -= l.bytes.size();
            auto end = parse_offset(l.lone);
            if (!end) { odd_error(l); return; }
            if (expand(l.no, *end) && *end != expected) offset_error(l.no, *end);
            return;
        }
        if (!l.odd.empty()) { odd_error(l); return; }
        if (lines > 1 && (!expand(l.no, l.offset) || (l.offset != expected && !offset_error(l.no, l.offset)))) return;
        bytes.insert(bytes.end(), l.bytes.begin(), l.bytes.end());
        prev_offset = l.offset;
        expected = l.offset + l.bytes.size();
        prev_bytes = l.bytes;
    }

    void finish() {
        if (star_line)
            fail(fmt::format("line {}: '*' (repeated lines) is not followed by an offset line, so the number of "
                             "lines it stands for is unknown", star_line));
    }
    bool beats(const Run& o) const { return raw_bytes > o.raw_bytes || (raw_bytes == o.raw_bytes && lines > o.lines); }
};

} // namespace

HexText parse_hex_text(std::string_view text, std::optional<size_t> block) {
    size_t nonblank = 0;
    std::optional<Run> best, cur;
    std::vector<Run> blocks;   // runs long enough to be a buffer, in text order
    auto finish = [&] {
        if (!cur) return;
        cur->finish();
        if (cur->raw_bytes >= kMinHexBlock) blocks.push_back(*cur);
        if (!best || cur->beats(*best)) best = std::move(cur);
        cur.reset();
    };
    for (size_t pos = 0, no = 1; pos < text.size(); ++no) {
        size_t nl = text.find('\n', pos);
        if (nl == std::string_view::npos) nl = text.size();
        Line l = classify(text.substr(pos, nl - pos), no);
        pos = nl + 1;
        if (l.kind != Kind::Blank) ++nonblank;   // markers (our hexdump's) too: a run counts those it holds
        if (cur && cur->continues(l)) {
            cur->add(l);
            continue;
        }
        finish();
        if (l.kind == Kind::Data || l.kind == Kind::Lone) {
            cur.emplace();
            cur->start(l);
        }
    }
    finish();
    if (!best) {
        if (nonblank == 0) throw Error("no hex bytes found: the text is empty");
        throw Error(fmt::format("no hex bytes found: none of the {} non-blank lines is purely hex bytes", nonblank));
    }
    // Two dumps in one paste ("before:" / "after:"): which one is meant is the user's call.
    std::string where;
    for (const auto& b : blocks) where += fmt::format("{}{}..{}", where.empty() ? "" : ", ", b.first_line, b.last_line);
    if (block) {
        if (*block < 1 || *block > blocks.size())
            throw Error(fmt::format("--block {}: the text has {} hex block{} of {} bytes or more{}{}", *block, blocks.size(),
                                    blocks.size() == 1 ? "" : "s", kMinHexBlock, blocks.empty() ? "" : " (lines ", blocks.empty() ? "" : where + ")"));
        best = std::move(blocks[*block - 1]);
    } else if (blocks.size() > 1) {
        throw Error(fmt::format("{} hex blocks found (lines {}); pick one with --block N (1..{})", blocks.size(), where, blocks.size()));
    }
    if (best->error) throw Error(*best->error);
    HexText out;
    out.bytes = std::move(best->bytes);
    out.style = best->style;
    out.first_line = best->first_line;
    out.last_line = best->last_line;
    out.ignored_lines = nonblank - best->lines;
    out.start_offset = best->offsets ? best->start_offset : 0;
    return out;
}

} // namespace xsave
