/* Shared helpers for the cmocka test programs. */
#ifndef TC_TEST_H
#define TC_TEST_H

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <tclaims/tclaims.h>

/* cmocka 1.1 only compares floats; areas need doubles. rel_tol is relative to |expected|. */
#define assert_close(actual, expected, rel_tol)                                          \
    do {                                                                                 \
        double a_ = (actual), e_ = (expected), t_ = (rel_tol);                           \
        double d_ = fabs(a_ - e_), s_ = fabs(e_) > 0 ? fabs(e_) : 1.0;                   \
        if (!(d_ <= t_ * s_))                                                            \
            fail_msg("%s = %.12g, expected %.12g (rel diff %.3g > %.3g)", #actual, a_, e_, \
                     d_ / s_, t_);                                                       \
    } while (0)

/* Status check that prints the context's message on failure. */
#define assert_tc_ok(ctx, expr)                                                          \
    do {                                                                                 \
        tc_status st_ = (expr);                                                          \
        if (st_ != TC_OK)                                                                \
            fail_msg("%s -> %s: %s", #expr, tc_status_str(st_), tc_ctx_errmsg(ctx));     \
    } while (0)

/* A failing call: expected status and a non-empty message. */
#define assert_tc_fails(ctx, expr, status)                                               \
    do {                                                                                 \
        tc_status st_ = (expr);                                                          \
        if (st_ != (status))                                                             \
            fail_msg("%s -> %s, expected %s (%s)", #expr, tc_status_str(st_),            \
                     tc_status_str(status), tc_ctx_errmsg(ctx));                         \
        assert_true(tc_ctx_errmsg(ctx)[0] != '\0');                                      \
        print_message("# %s: %s\n", tc_status_str(st_), tc_ctx_errmsg(ctx));             \
    } while (0)

/* Path of a file in the shared reference data; aborts the test (fails under CI=true,
 * skips otherwise) when the data is missing. */
static inline const char *tc_test_data(const char *rel)
{
    static char buf[4096];
    const char *dir = getenv("TCLAIMS_DATA_DIR");
    if (!dir || !*dir)
        dir = TC_TEST_DATA_DIR;
    snprintf(buf, sizeof buf, "%s/%s", dir, rel);
    FILE *f = fopen(buf, "rb");
    if (!f) {
        const char *ci = getenv("CI");
        if (ci && strcmp(ci, "true") == 0)
            fail_msg("reference data missing under CI: %s", buf);
        print_message("# reference data missing: %s (skipped)\n", buf);
        skip();
    }
    fclose(f);
    return buf;
}

/* The shared data the real-data tests read: the boundary file, the land mask and the
 * 2025-09-01 snapshot (missing data: as tc_test_data()). */
typedef struct tc_test_real {
    char units[4096], land[4096], snap[4096];
} tc_test_real;

static inline void tc_test_real_paths(tc_test_real *p)
{
    snprintf(p->units, sizeof p->units, "%s",
             tc_test_data("boundaries/geoBoundaries-UKR-ADM1.geojson"));
    snprintf(p->land, sizeof p->land, "%s",
             tc_test_data("land/ne_10m_land_ukraine_region.geojson"));
    snprintf(p->snap, sizeof p->snap, "%s",
             tc_test_data("control/deepstate/deepstatemap_data_20250901.geojson"));
}

/* The real region set: the boundary file clipped by the land mask, no cache. */
static inline tc_regionset *tc_test_real_set(tc_ctx *ctx, const tc_test_real *p)
{
    tc_regionset_opts ro = TC_REGIONSET_OPTS_INIT;
    ro.land_path = p->land;
    tc_regionset *rs = NULL;
    assert_tc_ok(ctx, tc_regionset_open(ctx, p->units, &ro, &rs));
    return rs;
}

/* Write text to a file in the test's scratch directory; returns the path (static buffer
 * per call slot: up to 8 live paths). */
static inline const char *tc_test_write(const char *name, const char *text)
{
    static char bufs[8][4096];
    static int slot;
    char *buf = bufs[slot++ % 8];
    const char *dir = getenv("TC_TEST_TMPDIR");
    if (!dir || !*dir)
        dir = TC_TEST_TMP_DIR;
    snprintf(buf, 4096, "%s/%s", dir, name);
    FILE *f = fopen(buf, "wb");
    if (!f)
        fail_msg("cannot write %s", buf);
    fputs(text, f);
    fclose(f);
    return buf;
}

/* A growing text buffer for fixtures made in the tests: sb_printf appends, the caller
 * frees b->p. */
typedef struct sbuf {
    char *p;
    size_t n, cap;
} sbuf;

static inline void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline void sb_printf(sbuf *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (k < 0)
            fail_msg("vsnprintf failed");
        if (b->p && b->n + (size_t)k < b->cap) {
            b->n += (size_t)k;
            return;
        }
        size_t cap = b->cap ? 2 * b->cap : 4096;
        while (cap <= b->n + (size_t)k)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            fail_msg("out of memory");
        b->p = p;
        b->cap = cap;
    }
}

/* Cases that take seconds natively (minutes under valgrind) are left out of the run when
 * TC_TEST_SKIP_HEAVY is set, as scripts/sanitize.sh does for valgrind: left out, not
 * skipped, because cmocka reports a skipped case as "not ok ... # SKIP". */
static inline size_t tc_test_drop_heavy(struct CMUnitTest *t, size_t n, const char *const *heavy)
{
    const char *v = getenv("TC_TEST_SKIP_HEAVY");
    if (!v || !*v)
        return n;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        bool is_heavy = false;
        for (const char *const *h = heavy; *h; h++)
            is_heavy = is_heavy || strcmp(t[i].name, *h) == 0;
        if (is_heavy)
            printf("# %s left out (TC_TEST_SKIP_HEAVY)\n", t[i].name);
        else
            t[k++] = t[i];
    }
    return k;
}

static inline int tc_test_ctx_setup(void **state)
{
    tc_ctx *ctx = NULL;
    if (tc_ctx_new(&ctx) != TC_OK)
        return -1;
    *state = ctx;
    return 0;
}

static inline int tc_test_ctx_teardown(void **state)
{
    tc_ctx_free(*state);
    return 0;
}

#endif /* TC_TEST_H */
