#pragma once
// Parsing SVG output with a real XML parser (expat), for tests. Needs the test executable linked
// with EXPAT::EXPAT and XSAVE_HAVE_EXPAT defined; without them have_xml_parser() is false.
#include <map>
#include <string>
#include <vector>

#if defined(XSAVE_HAVE_EXPAT) && __has_include(<expat.h>)
#include <expat.h>
#define XSAVE_XML_PARSER 1
#endif

namespace testing {

struct XmlElement {
    std::string name;
    std::map<std::string, std::string> attrs;
    std::string text;                 // character data directly inside
    std::vector<size_t> children;     // indexes into XmlDoc::elements
    size_t parent = size_t(-1);
};

struct XmlDoc {
    bool ok = false;
    std::string error;                // expat's message and line when !ok
    std::vector<XmlElement> elements; // document order; [0] is the root
    std::vector<size_t> find(const std::string& name, const std::string& attr = "", const std::string& value = "") const {
        std::vector<size_t> r;
        for (size_t i = 0; i < elements.size(); ++i)
            if (elements[i].name == name &&
                (attr.empty() || (elements[i].attrs.count(attr) && elements[i].attrs.at(attr) == value)))
                r.push_back(i);
        return r;
    }
    // The first descendant of `at` named `name`, or size_t(-1).
    size_t child(size_t at, const std::string& name) const {
        for (size_t c : elements[at].children) {
            if (elements[c].name == name) return c;
            if (size_t d = child(c, name); d != size_t(-1)) return d;
        }
        return size_t(-1);
    }
};

inline bool have_xml_parser() {
#ifdef XSAVE_XML_PARSER
    return true;
#else
    return false;
#endif
}

inline XmlDoc parse_xml(const std::string& text) {
    XmlDoc doc;
#ifdef XSAVE_XML_PARSER
    struct State { XmlDoc* doc; std::vector<size_t> stack; };
    State st{&doc, {}};
    XML_Parser p = XML_ParserCreate("UTF-8");
    XML_SetUserData(p, &st);
    XML_SetElementHandler(
        p,
        [](void* ud, const XML_Char* name, const XML_Char** atts) {
            auto* s = static_cast<State*>(ud);
            XmlElement e;
            e.name = name;
            for (size_t i = 0; atts[i]; i += 2) e.attrs[atts[i]] = atts[i + 1];
            if (!s->stack.empty()) e.parent = s->stack.back();
            s->doc->elements.push_back(std::move(e));
            size_t idx = s->doc->elements.size() - 1;
            if (!s->stack.empty()) s->doc->elements[s->stack.back()].children.push_back(idx);
            s->stack.push_back(idx);
        },
        [](void* ud, const XML_Char*) { static_cast<State*>(ud)->stack.pop_back(); });
    XML_SetCharacterDataHandler(p, [](void* ud, const XML_Char* s, int len) {
        auto* st = static_cast<State*>(ud);
        if (!st->stack.empty()) st->doc->elements[st->stack.back()].text.append(s, size_t(len));
    });
    if (XML_Parse(p, text.data(), int(text.size()), 1) == XML_STATUS_ERROR) {
        doc.error = std::string(XML_ErrorString(XML_GetErrorCode(p))) + " at line " + std::to_string(XML_GetCurrentLineNumber(p));
    } else {
        doc.ok = true;
    }
    XML_ParserFree(p);
#else
    (void)text;
    doc.error = "built without expat";
#endif
    return doc;
}

} // namespace testing
