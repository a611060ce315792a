/* xsave.h: the C API of libxsave, for VMMs, debuggers and bindings (bindgen, cgo).
 *
 * Opaque handles, no exceptions across the boundary: every call that can fail returns an
 * xsave_status and, when `err` is not NULL, an error object with a one-line message
 * (free it with xsave_error_free). Strings and buffers the library allocates are freed with
 * xsave_free. Handles are not shared between threads without the caller's locking; distinct
 * handles may be used from distinct threads. */
#ifndef XSAVE_H
#define XSAVE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(XSAVE_BUILDING_C_API)
#define XSAVE_API __attribute__((visibility("default")))
#else
#define XSAVE_API
#endif

/* The API version: a change of MAJOR breaks callers; MINOR adds calls. */
#define XSAVE_API_VERSION_MAJOR 1
#define XSAVE_API_VERSION_MINOR 2

typedef enum xsave_status {
    XSAVE_OK = 0,
    XSAVE_REJECTED = 1,     /* a verdict: xsave_check found violations */
    XSAVE_E_INPUT = 2,      /* bad input: bytes, profile, option */
    XSAVE_E_ARGUMENT = 3,   /* a NULL handle or an index out of range */
    XSAVE_E_LOSS = 4,       /* a conversion would drop in-use state (see drop_mask) */
    XSAVE_E_NOT_FOUND = 5,  /* no such register */
    XSAVE_E_INTERNAL = 6
} xsave_status;

typedef struct xsave_error xsave_error;   /* a failure's message */
typedef struct xsave_model xsave_model;   /* a CPU: its CPUID leaf 0xD, XCR0, IA32_XSS */
typedef struct xsave_input xsave_input;   /* an opened input: one area per thread or vCPU */
typedef struct xsave_converter xsave_converter;   /* one conversion, made once, run per buffer */

typedef enum xsave_form { XSAVE_FORM_STANDARD = 0, XSAVE_FORM_COMPACTED = 1 } xsave_form;
typedef enum xsave_target {
    XSAVE_TARGET_XRSTOR = 0,
    XSAVE_TARGET_XRSTORS = 1,
    XSAVE_TARGET_KVM = 2,
    XSAVE_TARGET_WHPX = 3,
    XSAVE_TARGET_MSHV = 4
} xsave_target;

/* "MAJOR.MINOR.PATCH" of the library. */
XSAVE_API const char* xsave_version(void);

XSAVE_API const char* xsave_error_message(const xsave_error* err);
XSAVE_API void xsave_error_free(xsave_error* err);
XSAVE_API void xsave_free(void* p);

/* A CPU model from "host", a built-in profile name (e.g. "zen4-genoa") or a profile file
 * (our JSON, `cpuid -r`, AIDA64, dmesg). */
XSAVE_API xsave_status xsave_model_load(const char* spec, xsave_model** out, xsave_error** err);
/* The same from profile text in memory (any importable format). */
XSAVE_API xsave_status xsave_model_from_text(const char* text, size_t len, xsave_model** out, xsave_error** err);
XSAVE_API void xsave_model_free(xsave_model* m);
/* The enabled XCR0 the model lays areas out for. */
XSAVE_API uint64_t xsave_model_xcr0(const xsave_model* m);
/* Bytes of the standard (XSAVE) layout of the model's XCR0. */
XSAVE_API size_t xsave_model_standard_size(const xsave_model* m);

/* Opens bytes in any input format the tool reads (raw area, hex text, ELF core, signal
 * frame, ...; `input` NULL or "auto" detects it). `model` NULL chooses as the CLI does
 * (the input's own description, the size-matched built-in, or this machine). */
XSAVE_API xsave_status xsave_open(const uint8_t* bytes, size_t size, const xsave_model* model, const char* input,
                                  xsave_input** out, xsave_error** err);
XSAVE_API void xsave_input_free(xsave_input* in);
XSAVE_API size_t xsave_input_count(const xsave_input* in);
/* The area's thread or vCPU id; returns 0 and sets *has_id = 0 when it has none. */
XSAVE_API int32_t xsave_area_id(const xsave_input* in, size_t i, int* has_id);
/* The `xsavetool dump --json` object of area i (a NUL-terminated string; xsave_free it). */
XSAVE_API xsave_status xsave_area_json(const xsave_input* in, size_t i, char** json, xsave_error** err);
/* Register `name` ("xmm3", "zmm17", "k1", "mxcsr", "pkru", ...) of area i: its bytes,
 * little-endian as stored (initial values for components in init state), into buf. *width
 * receives the register's size; a buf smaller than that is XSAVE_E_ARGUMENT. */
XSAVE_API xsave_status xsave_area_register(const xsave_input* in, size_t i, const char* name, uint8_t* buf,
                                           size_t buf_size, size_t* width, xsave_error** err);
/* The area's bytes as read (trailing bytes included). */
XSAVE_API const uint8_t* xsave_area_bytes(const xsave_input* in, size_t i, size_t* size);

/* Area i laid out for `to` (standard or compacted form, as XSAVE/XSAVEC on `to` writes it).
 * In-use components `to` cannot hold fail with XSAVE_E_LOSS naming them, unless their bits
 * are in drop_mask. The result is malloc'd: xsave_free(*out). */
XSAVE_API xsave_status xsave_convert(const xsave_input* in, size_t i, const xsave_model* to, xsave_form form,
                                     uint64_t drop_mask, uint8_t** out, size_t* out_size, xsave_error** err);

/* Since 1.1. A conversion made once for many areas of one shape (every vCPU of a VM at
 * migration): areas laid out by `from` in from_form with from_mask (standard: the XCR0 they
 * were saved with; compacted: XCOMP_BV; 0: the model's XCR0) become `to`'s to_form layout of
 * to_mask (0: the model's XCR0), as XSAVE/XSAVEC on `to` writes them. In-use components the
 * target cannot hold fail with XSAVE_E_LOSS unless their bits are in drop_mask. The converter
 * keeps what it needs of the models. */
XSAVE_API xsave_status xsave_converter_new(const xsave_model* from, xsave_form from_form, uint64_t from_mask,
                                           const xsave_model* to, xsave_form to_form, uint64_t to_mask,
                                           uint64_t drop_mask, xsave_converter** out, xsave_error** err);
/* Bytes an area of the converter's source shape needs, and bytes its result takes. */
XSAVE_API size_t xsave_converter_input_size(const xsave_converter* c);
XSAVE_API size_t xsave_converter_output_size(const xsave_converter* c);
/* Converts one area (its header must match the source shape) into out, which needs
 * xsave_converter_output_size bytes; *written receives the result's size. No allocation. */
XSAVE_API xsave_status xsave_converter_run(const xsave_converter* c, const uint8_t* in, size_t in_size, uint8_t* out,
                                           size_t out_size, size_t* written, xsave_error** err);
/* Since 1.2. One area of xsave_converter_run_many: in, in_size, out and out_size as
 * xsave_converter_run takes them; written receives the result's size. */
typedef struct xsave_converter_item {
    const uint8_t* in;
    size_t in_size;
    uint8_t* out;
    size_t out_size;
    size_t written;
} xsave_converter_item;
/* xsave_converter_run for each of n items in turn, in one call: the work per call is done once
 * and each area costs its checks and copies. On a failure, *failed (may be NULL) receives the
 * index of the item at fault, whose message starts "buffer INDEX: "; the items before it are
 * converted, the rest untouched. No allocation. */
XSAVE_API xsave_status xsave_converter_run_many(const xsave_converter* c, xsave_converter_item* items, size_t n,
                                                size_t* failed, xsave_error** err);
XSAVE_API void xsave_converter_free(xsave_converter* c);

/* Would `target` on the CPU `model` describes accept area i? XSAVE_OK accepted,
 * XSAVE_REJECTED with the reasons in *report (one "rule: message" line each; xsave_free it,
 * may be NULL). */
XSAVE_API xsave_status xsave_check(const xsave_input* in, size_t i, const xsave_model* model, xsave_target target,
                                   char** report, xsave_error** err);

#ifdef __cplusplus
}
#endif
#endif /* XSAVE_H */
