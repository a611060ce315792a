// The C API (xsave.h) over the C++ library: handles own C++ objects, every exception stops here.
#include "xsave.h"

#include "xsave/area_json.hpp"
#include "xsave/convert.hpp"
#include "xsave/error.hpp"
#include "xsave/decode.hpp"
#include "xsave/import.hpp"
#include "xsave/open.hpp"
#include "xsave/validate.hpp"

#include <fmt/format.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <new>

struct xsave_error {
    std::string message;
};
struct xsave_model {
    std::shared_ptr<const xsave::CpuModel> cpu;
};
struct xsave_input {
    xsave::Opened opened;
};
struct xsave_converter {
    std::shared_ptr<const xsave::CpuModel> from, to;
    xsave::Converter converter;
};

namespace {

xsave_status fail(xsave_error** err, xsave_status s, std::string msg) {
    if (err) *err = new (std::nothrow) xsave_error{std::move(msg)};
    return s;
}

// Runs `f`, turning exceptions into a status and message.
template <class F> xsave_status guarded(xsave_error** err, F f) {
    if (err) *err = nullptr;
    try {
        return f();
    } catch (const xsave::Error& e) {
        return fail(err, XSAVE_E_INPUT, e.what());
    } catch (const std::bad_alloc&) {
        return fail(err, XSAVE_E_INTERNAL, "out of memory");
    } catch (const std::exception& e) {
        return fail(err, XSAVE_E_INTERNAL, e.what());
    }
}

char* c_string(const std::string& s) {
    char* p = static_cast<char*>(std::malloc(s.size() + 1));
    if (!p) throw std::bad_alloc();
    std::memcpy(p, s.c_str(), s.size() + 1);
    return p;
}

const xsave::Area* area_at(const xsave_input* in, size_t i) {
    return in && i < in->opened.areas.size() ? &in->opened.areas[i] : nullptr;
}

xsave_status model_from(xsave::Profile p, xsave_model** out) {
    *out = new xsave_model{std::make_shared<const xsave::CpuModel>(std::move(p))};
    return XSAVE_OK;
}

} // namespace

extern "C" {

const char* xsave_version(void) { return XSAVE_VERSION_STRING; }

const char* xsave_error_message(const xsave_error* err) { return err ? err->message.c_str() : ""; }
void xsave_error_free(xsave_error* err) { delete err; }
void xsave_free(void* p) { std::free(p); }

xsave_status xsave_model_load(const char* spec, xsave_model** out, xsave_error** err) {
    if (!spec || !out) return fail(err, XSAVE_E_ARGUMENT, "xsave_model_load: NULL argument");
    return guarded(err, [&] {
        if (std::string_view(spec) == "host") {
            auto host = xsave::host_model();
            if (!host) throw xsave::Error("host: this machine cannot describe XSAVE layouts");
            *out = new xsave_model{host};
            return XSAVE_OK;
        }
        return model_from(xsave::resolve_profile(spec), out);
    });
}

xsave_status xsave_model_from_text(const char* text, size_t len, xsave_model** out, xsave_error** err) {
    if (!text || !out) return fail(err, XSAVE_E_ARGUMENT, "xsave_model_from_text: NULL argument");
    return guarded(err, [&] { return model_from(xsave::import_profile({text, len}), out); });
}

void xsave_model_free(xsave_model* m) { delete m; }
uint64_t xsave_model_xcr0(const xsave_model* m) { return m ? m->cpu->enabled_xcr0() : 0; }
size_t xsave_model_standard_size(const xsave_model* m) {
    if (!m) return 0;
    try {
        return m->cpu->standard(m->cpu->enabled_xcr0()).total_size;
    } catch (const std::exception&) {
        return 0;
    }
}

xsave_status xsave_open(const uint8_t* bytes, size_t size, const xsave_model* model, const char* input,
                        xsave_input** out, xsave_error** err) {
    if ((!bytes && size) || !out) return fail(err, XSAVE_E_ARGUMENT, "xsave_open: NULL argument");
    return guarded(err, [&] {
        xsave::OpenOptions opt;
        if (input) opt.input = input;
        if (model) opt.cpu = model->cpu;
        xsave::Opened o = xsave::open({bytes, size}, opt, "input");
        // The C API has no nested-state accessors yet: say so rather than return no areas.
        if (o.areas.empty() && !o.nested.empty()) throw xsave::Error("a KVM nested state (kvm_nested_state) holds no XSAVE area");
        *out = new xsave_input{std::move(o)};
        return XSAVE_OK;
    });
}

void xsave_input_free(xsave_input* in) { delete in; }
size_t xsave_input_count(const xsave_input* in) { return in ? in->opened.areas.size() : 0; }

int32_t xsave_area_id(const xsave_input* in, size_t i, int* has_id) {
    const xsave::Area* a = area_at(in, i);
    if (has_id) *has_id = a && a->tid;
    return a && a->tid ? *a->tid : 0;
}

const uint8_t* xsave_area_bytes(const xsave_input* in, size_t i, size_t* size) {
    const xsave::Area* a = area_at(in, i);
    if (size) *size = a ? a->image.bytes.size() : 0;
    return a ? a->image.bytes.data() : nullptr;
}

xsave_status xsave_area_json(const xsave_input* in, size_t i, char** json, xsave_error** err) {
    const xsave::Area* a = area_at(in, i);
    if (!a || !json) return fail(err, XSAVE_E_ARGUMENT, "xsave_area_json: no such area");
    return guarded(err, [&] {
        std::string text;
        xsave::append_area_json(text, *a, xsave::decode(a->image, *a->cpu), 0);
        *json = c_string(text + "\n");
        return XSAVE_OK;
    });
}

xsave_status xsave_area_register(const xsave_input* in, size_t i, const char* name, uint8_t* buf, size_t buf_size,
                                 size_t* width, xsave_error** err) {
    const xsave::Area* a = area_at(in, i);
    if (!a || !name) return fail(err, XSAVE_E_ARGUMENT, "xsave_area_register: no such area");
    return guarded(err, [&] {
        xsave::Decoded d = xsave::decode(a->image, *a->cpu);
        for (const auto& v : d.registers) {
            if (v.name != name) continue;
            if (width) *width = v.bytes.size();
            if (!buf || buf_size < v.bytes.size())
                return fail(err, XSAVE_E_ARGUMENT, fmt::format("{}: needs {} bytes, the buffer has {}", name, v.bytes.size(), buf_size));
            std::memcpy(buf, v.bytes.data(), v.bytes.size());
            return XSAVE_OK;
        }
        return fail(err, XSAVE_E_NOT_FOUND, fmt::format("no register '{}' in this area's layout", name));
    });
}

xsave_status xsave_convert(const xsave_input* in, size_t i, const xsave_model* to, xsave_form form, uint64_t drop_mask,
                           uint8_t** out, size_t* out_size, xsave_error** err) {
    const xsave::Area* a = area_at(in, i);
    if (!a || !to || !out || !out_size) return fail(err, XSAVE_E_ARGUMENT, "xsave_convert: no such area or NULL argument");
    return guarded(err, [&] {
        xsave::ConvertOptions opt;
        opt.drop = drop_mask;
        xsave::ConvertResult r;
        try {
            r = xsave::relayout(a->image, *a->cpu, *to->cpu,
                                form == XSAVE_FORM_COMPACTED ? xsave::Format::Compacted : xsave::Format::Standard, opt);
        } catch (const xsave::LossError& e) {
            return fail(err, XSAVE_E_LOSS, e.what());
        }
        auto* p = static_cast<uint8_t*>(std::malloc(r.bytes.size() ? r.bytes.size() : 1));
        if (!p) throw std::bad_alloc();
        std::memcpy(p, r.bytes.data(), r.bytes.size());
        *out = p;
        *out_size = r.bytes.size();
        return XSAVE_OK;
    });
}

xsave_status xsave_converter_new(const xsave_model* from, xsave_form from_form, uint64_t from_mask,
                                 const xsave_model* to, xsave_form to_form, uint64_t to_mask, uint64_t drop_mask,
                                 xsave_converter** out, xsave_error** err) {
    if (!from || !to || !out) return fail(err, XSAVE_E_ARGUMENT, "xsave_converter_new: NULL argument");
    return guarded(err, [&] {
        auto layout = [](const xsave::CpuModel& cpu, xsave_form form, uint64_t mask) -> const xsave::Layout& {
            if (!mask) mask = cpu.enabled_xcr0();
            return form == XSAVE_FORM_COMPACTED ? cpu.compacted(mask) : cpu.standard(mask);
        };
        xsave::ConvertOptions opt;
        opt.drop = drop_mask;
        const xsave::Layout& S = layout(*from->cpu, from_form, from_mask);
        const xsave::Layout& T = layout(*to->cpu, to_form, to_mask);
        *out = new xsave_converter{from->cpu, to->cpu, xsave::Converter(*from->cpu, S, *to->cpu, T, opt)};
        return XSAVE_OK;
    });
}

size_t xsave_converter_input_size(const xsave_converter* c) { return c ? c->converter.source().total_size : 0; }
size_t xsave_converter_output_size(const xsave_converter* c) { return c ? c->converter.target().total_size : 0; }

xsave_status xsave_converter_run(const xsave_converter* c, const uint8_t* in, size_t in_size, uint8_t* out,
                                 size_t out_size, size_t* written, xsave_error** err) {
    if (!c || !in || !out) return fail(err, XSAVE_E_ARGUMENT, "xsave_converter_run: NULL argument");
    return guarded(err, [&] {
        try {
            auto r = c->converter.run({in, in_size}, {out, out_size});
            if (written) *written = r.size;
        } catch (const xsave::LossError& e) {
            return fail(err, XSAVE_E_LOSS, e.what());
        }
        return XSAVE_OK;
    });
}

xsave_status xsave_converter_run_many(const xsave_converter* c, xsave_converter_item* items, size_t n, size_t* failed,
                                      xsave_error** err) {
    if (!c || (!items && n)) return fail(err, XSAVE_E_ARGUMENT, "xsave_converter_run_many: NULL argument");
    for (size_t i = 0; i < n; ++i)
        if (!items[i].in || !items[i].out) {
            if (failed) *failed = i;
            return fail(err, XSAVE_E_ARGUMENT, fmt::format("xsave_converter_run_many: buffer {}: NULL in or out", i));
        }
    // In parts on the stack: no allocation.
    constexpr size_t kPart = 32;
    std::array<xsave::ConvertItem, kPart> part;
    size_t base = 0;
    auto status = guarded(err, [&] {
        try {
            for (; base < n; base += kPart) {
                const size_t m = std::min(kPart, n - base);
                for (size_t k = 0; k < m; ++k) part[k] = {{items[base + k].in, items[base + k].in_size}, {items[base + k].out, items[base + k].out_size}};
                c->converter.run_many({part.data(), m}, base);
                for (size_t k = 0; k < m; ++k) items[base + k].written = part[k].size;
            }
        } catch (const xsave::LossError& e) {
            return fail(err, XSAVE_E_LOSS, e.what());
        }
        return XSAVE_OK;
    });
    if (status != XSAVE_OK) {
        // The part's items before the failing one are converted: their sizes are set.
        size_t k = 0;
        while (base + k < n && k < kPart && part[k].size) items[base + k].written = part[k].size, ++k;
        if (failed) *failed = base + k;
    }
    return status;
}

void xsave_converter_free(xsave_converter* c) { delete c; }

xsave_status xsave_check(const xsave_input* in, size_t i, const xsave_model* model, xsave_target target, char** report,
                         xsave_error** err) {
    const xsave::Area* a = area_at(in, i);
    if (!a || !model) return fail(err, XSAVE_E_ARGUMENT, "xsave_check: no such area or NULL model");
    if (target < XSAVE_TARGET_XRSTOR || target > XSAVE_TARGET_MSHV) return fail(err, XSAVE_E_ARGUMENT, "xsave_check: unknown target");
    return guarded(err, [&] {
        xsave::CheckOptions opt;
        opt.target = static_cast<xsave::Target>(target);
        opt.kvm_struct = a->kind != "qemu" && a->kind != "cloud-hypervisor";   // those VMMs size the buffer themselves
        xsave::CheckResult r = xsave::check_area(a->image.bytes, *model->cpu, opt);
        if (report) {
            std::string text;
            for (const auto& v : r.violations) text += v.rule + ": " + v.message + "\n";
            *report = r.ok() ? nullptr : c_string(text);
        }
        return r.ok() ? XSAVE_OK : XSAVE_REJECTED;
    });
}

} // extern "C"
