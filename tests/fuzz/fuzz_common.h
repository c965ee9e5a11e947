/* Shared helpers of the libFuzzer targets (tests/fuzz/fuzz_*.c).
 *
 * Every target is main-less: libFuzzer calls LLVMFuzzerTestOneInput() once per input.
 * The library is linked statically from tests/fuzz/meson.build, built with ASan, UBSan
 * and -fsanitize=fuzzer-no-link, so coverage guides the mutations through our code.
 *
 * A target aborts (FUZZ_CHECK) when the library returns TC_OK with a number that cannot
 * be right (negative or non-finite area, a date that is not a date...): the fuzzers look
 * for "silent nonsense" as well as for crashes, leaks and undefined behaviour. */
#ifndef TC_FUZZ_COMMON_H
#define TC_FUZZ_COMMON_H

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_conv.h>
#include <cpl_string.h>
#include <unistd.h>
#include <cpl_vsi.h>
#include <xxhash.h>

#include <tclaims/tclaims.h>

/* Abort with a message: libFuzzer saves the input as crash-* and reports it. */
#define FUZZ_CHECK(cond, ...)                                                            \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "fuzz check failed: %s (%s:%d): ", #cond, __FILE__, __LINE__); \
            fprintf(stderr, __VA_ARGS__);                                                \
            fputc('\n', stderr);                                                         \
            abort();                                                                     \
        }                                                                                \
    } while (0)

/* A status is one of the documented codes, and a failure always carries a message. */
static inline void fuzz_check_status(tc_ctx *ctx, tc_status st, const char *what)
{
    FUZZ_CHECK(st >= TC_OK && st < TC_STATUS_END_, "%s: status %d out of range", what, (int)st);
    FUZZ_CHECK(st != TC_ERR_INTERNAL, "%s: internal error: %s", what, tc_ctx_errmsg(ctx));
    if (st != TC_OK)
        FUZZ_CHECK(tc_ctx_errmsg(ctx)[0] != '\0', "%s: %s without a message", what,
                   tc_status_str(st));
}

/* An area the library returned with TC_OK. */
static inline void fuzz_check_area(double m2, const char *what)
{
    FUZZ_CHECK(isfinite(m2) && m2 >= 0.0, "%s: area %.17g m2", what, m2);
}

/* One context per process, created on first use and reused (as a long-running host
 * would); warnings are cleared after every input so that they do not pile up. */
static inline tc_ctx *fuzz_ctx(void)
{
    static tc_ctx *ctx;
    if (!ctx) {
        if (tc_ctx_new(&ctx) != TC_OK) {
            fprintf(stderr, "tc_ctx_new failed\n");
            abort();
        }
        /* GDAL's own debug output is noise here; errors go to the library's handler. */
        CPLSetConfigOption("CPL_DEBUG", "OFF");
    }
    tc_ctx_clear_warnings(ctx);
    return ctx;
}

/* Publish bytes as a GDAL in-memory file (a copy, owned by GDAL until fuzz_vsimem_drop). */
static inline bool fuzz_vsimem(const char *path, const uint8_t *data, size_t size)
{
    GByte *copy = CPLMalloc(size ? size : 1);
    if (size)
        memcpy(copy, data, size);
    VSILFILE *f = VSIFileFromMemBuffer(path, copy, (vsi_l_offset)size, TRUE);
    if (!f) {
        CPLFree(copy);
        return false;
    }
    VSIFCloseL(f);
    return true;
}

static inline void fuzz_vsimem_drop(const char *path) { VSIUnlink(path); }

/* Region set, snapshot and report over every unit, from two files (e.g. in /vsimem),
 * each status checked; what follows a failure stays NULL. Returns the last status. */
static inline tc_status fuzz_open_report(tc_ctx *ctx, const char *rpath, const char *spath,
                                         tc_regionset **rs, tc_snapshot **snap, tc_report **rep)
{
    *rs = NULL, *snap = NULL, *rep = NULL;
    tc_status st = tc_regionset_open(ctx, rpath, NULL, rs);
    fuzz_check_status(ctx, st, "tc_regionset_open");
    if (st == TC_OK) {
        st = tc_snapshot_open(ctx, spath, NULL, snap);
        fuzz_check_status(ctx, st, "tc_snapshot_open");
    }
    if (st == TC_OK) {
        tc_report_opts o = TC_REPORT_OPTS_INIT;
        o.units = TC_UNITS_ALL;
        st = tc_report_new(ctx, *rs, *snap, &o, rep);
        fuzz_check_status(ctx, st, "tc_report_new");
    }
    return st;
}

/* Free what fuzz_open_report() made, and drop the two in-memory files. */
static inline void fuzz_close_report(tc_regionset *rs, tc_snapshot *snap, tc_report *rep,
                                     const char *rpath, const char *spath)
{
    tc_report_free(rep);
    tc_snapshot_free(snap);
    tc_regionset_free(rs);
    VSIUnlink(rpath);
    VSIUnlink(spath);
}

/* A target's set-up failed: say what, and stop (libFuzzer cannot run it). */
static inline void fuzz_die(const char *target, const char *what)
{
    fprintf(stderr, "%s setup: %s\n", target, what);
    exit(1);
}

/* Remove a scratch directory of plain files (targets call it at exit). */
static inline void fuzz_remove_dir(const char *dir)
{
    char path[1024];
    char **names = VSIReadDir(dir);
    for (int i = 0; names && names[i]; i++) {
        if (names[i][0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    CSLDestroy(names);
    rmdir(dir);
}

/* The set-up of the targets that fuzz files the library writes (fuzz_cache, fuzz_tiles):
 * a scratch directory /tmp/tc_fuzz_<name>_XXXXXX (dir: 64 bytes) holding the regions file
 * (regions: 128 bytes) written from regions_text, and the path of a cache directory in it
 * (cache_dir: 128 bytes; the library creates it). Stops the target on failure. */
static inline void fuzz_scratch(const char *target, const char *name, char *dir, char *regions,
                                char *cache_dir, const char *regions_text)
{
    snprintf(dir, 64, "/tmp/tc_fuzz_%s_XXXXXX", name);
    if (!mkdtemp(dir))
        fuzz_die(target, "mkdtemp");
    snprintf(regions, 128, "%s/regions.geojson", dir);
    snprintf(cache_dir, 128, "%s/cache", dir);
    FILE *f = fopen(regions, "wb");
    if (!f || fputs(regions_text, f) < 0 || fclose(f) != 0)
        fuzz_die(target, regions);
}

/* The path of the file of dir whose name starts with prefix and ends with suffix into out
 * (the last such in directory order; "" when none). */
static inline void fuzz_find_file(const char *dir, const char *prefix, const char *suffix,
                                  char *out, size_t len)
{
    out[0] = '\0';
    char **names = VSIReadDir(dir);
    size_t np = strlen(prefix), ns = strlen(suffix);
    for (int i = 0; names && names[i]; i++) {
        size_t n = strlen(names[i]);
        if (n >= np + ns && !strncmp(names[i], prefix, np) &&
            !strcmp(names[i] + n - ns, suffix))
            snprintf(out, len, "%s/%s", dir, names[i]);
    }
    CSLDestroy(names);
}

/* A whole file into buf (cap bytes): its size, or 0 when unreadable or cap bytes or more. */
/* The checksum every cache file ends with (lib/codec.c: XXH3-128 of the bytes before it,
 * canonical form), so that fuzzed bodies reach the parsers rather than the check. */
#define FUZZ_DIGEST_LEN 16

static inline void fuzz_cache_digest(const unsigned char *p, size_t n,
                                     unsigned char out[FUZZ_DIGEST_LEN])
{
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH3_128bits(p, n));
    memcpy(out, c.digest, FUZZ_DIGEST_LEN);
}

static inline size_t fuzz_read_file(const char *path, unsigned char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, cap, f) : 0;
    if (f)
        fclose(f);
    return n < cap ? n : 0;
}

/* A NUL-terminated copy of the input (for the text entry points). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* Cost guard of the GeoJSON targets: false when the coordinate pairs ("[x, y") in the
 * text span more than 10 degrees in x or in y (or, for projected-looking pairs beyond
 * 180, more than 1.1e6 in either). The library densifies every edge (0.002 degree for
 * regions), so the work grows with edge length, not with input size: a 10 KB region file
 * of 60 full-width bands takes about a minute and 2 GB (test_regress_densify_amplification,
 * docs/reliability.md); a 588-byte input with 15-degree edges took 4.7 s natively, 19 s
 * under ASan. Without this guard the fuzzers spend their time densifying. The seeds
 * (single units, pairs, a coarse snapshot of the occupied area) span at most 9 degrees. */
static inline bool fuzz_span_ok(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    memcpy(s, data, size);
    s[size] = '\0';
    double lo[2] = {HUGE_VAL, HUGE_VAL}, hi[2] = {-HUGE_VAL, -HUGE_VAL};
    double blo[2] = {HUGE_VAL, HUGE_VAL}, bhi[2] = {-HUGE_VAL, -HUGE_VAL};
    for (char *p = strchr(s, '['); p; p = strchr(p + 1, '[')) {
        char *end = NULL;
        double v[2];
        v[0] = strtod(p + 1, &end);
        if (end == p + 1)
            continue;
        while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')
            end++;
        if (*end != ',')
            continue;
        char *q = end + 1;
        v[1] = strtod(q, &end);
        if (end == q || !isfinite(v[0]) || !isfinite(v[1]))
            continue;
        bool big = fabs(v[0]) > 180.0 || fabs(v[1]) > 180.0;
        for (int k = 0; k < 2; k++) {
            double *l = big ? blo : lo, *h = big ? bhi : hi;
            l[k] = fmin(l[k], v[k]);
            h[k] = fmax(h[k], v[k]);
        }
    }
    free(s);
    for (int k = 0; k < 2; k++)
        if (hi[k] - lo[k] > 10.0 || bhi[k] - blo[k] > 1.1e6)
            return false;
    return true;
}

/* A growable text buffer (fuzz_report_geom writes GeoJSON with it). */
typedef struct fuzz_buf {
    char *p;
    size_t n, cap;
} fuzz_buf;

__attribute__((format(printf, 2, 3))) static inline void fuzz_printf(fuzz_buf *b,
                                                                      const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (k < 0)
            abort();
        if (b->p && b->n + (size_t)k < b->cap) {
            b->n += (size_t)k;
            return;
        }
        size_t cap = b->cap ? b->cap : 1024;
        while (cap <= b->n + (size_t)k)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            abort();
        b->p = p;
        b->cap = cap;
    }
}

#endif /* TC_FUZZ_COMMON_H */
