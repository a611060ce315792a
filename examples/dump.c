/* Prints `xsavetool dump --json` for a file, through the installed C API (xsave.h).
 * Usage: xsave_dump_c FILE [PROFILE]   (PROFILE: host, a built-in name, or a profile file) */
#include <xsave.h>

#include <stdio.h>
#include <stdlib.h>

static unsigned char* read_all(const char* path, size_t* size) {
    FILE* f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    unsigned char* buf = malloc(cap);
    size_t r;
    while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    *size = n;
    return buf;
}

int main(int argc, char** argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE [PROFILE]\n", argv[0]);
        return 2;
    }
    size_t size = 0;
    unsigned char* bytes = read_all(argv[1], &size);
    if (!bytes) {
        perror(argv[1]);
        return 2;
    }
    xsave_error* err = NULL;
    xsave_model* model = NULL;
    if (argc > 2 && xsave_model_load(argv[2], &model, &err) != XSAVE_OK) {
        fprintf(stderr, "%s: %s\n", argv[2], xsave_error_message(err));
        return 2;
    }
    xsave_input* in = NULL;
    if (xsave_open(bytes, size, model, NULL, &in, &err) != XSAVE_OK) {
        fprintf(stderr, "%s: %s\n", argv[1], xsave_error_message(err));
        return 2;
    }
    for (size_t i = 0; i < xsave_input_count(in); ++i) {
        char* json = NULL;
        if (xsave_area_json(in, i, &json, &err) != XSAVE_OK) {
            fprintf(stderr, "%s: %s\n", argv[1], xsave_error_message(err));
            return 2;
        }
        fputs(json, stdout);
        xsave_free(json);
    }
    unsigned char mxcsr[4];
    size_t width = 0;
    if (xsave_area_register(in, 0, "mxcsr", mxcsr, sizeof mxcsr, &width, &err) == XSAVE_OK)
        fprintf(stderr, "libxsave %s: mxcsr 0x%02x%02x%02x%02x\n", xsave_version(), mxcsr[3], mxcsr[2], mxcsr[1], mxcsr[0]);
    xsave_input_free(in);
    xsave_model_free(model);
    free(bytes);
    return 0;
}
