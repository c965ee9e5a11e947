/* Dates and dated archives (tclaims/snapshot.h): tc_date_*, tc_archive_*. */
#include <dirent.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tc_test.h"

/* ---- fixture: a context (from the group) and a scratch directory ---- */

typedef struct fixture {
    tc_ctx *ctx;
    char dir[4096];
    tc_archive *archive; /* freed by teardown if a test leaves one */
} fixture;

static int fx_setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    f->ctx = *state; /* the group's context */
    const char *tmp = getenv("TC_TEST_TMPDIR");
    if (!tmp || !*tmp)
        tmp = TC_TEST_TMP_DIR;
    snprintf(f->dir, sizeof f->dir, "%s/tc_archive_XXXXXX", tmp);
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

/* Remove the scratch directory: its files and empty subdirectories (one level). */
static int fx_teardown(void **state)
{
    fixture *f = *state;
    tc_archive_free(f->archive);
    DIR *dh = opendir(f->dir);
    if (dh) {
        struct dirent *de;
        while ((de = readdir(dh)) != NULL) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            char path[8192];
            snprintf(path, sizeof path, "%s/%s", f->dir, de->d_name);
            if (unlink(path) != 0)
                rmdir(path);
        }
        closedir(dh);
    }
    int rc = rmdir(f->dir);
    free(f);
    return rc == 0 ? 0 : -1;
}

/* Create an empty file in the fixture's directory. */
static void touch(const fixture *f, const char *name)
{
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", f->dir, name);
    FILE *fp = fopen(path, "wb");
    if (!fp)
        fail_msg("cannot create %s", path);
    fclose(fp);
}

static void make_subdir(const fixture *f, const char *name)
{
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", f->dir, name);
    if (mkdir(path, 0700) != 0)
        fail_msg("cannot create directory %s", path);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static tc_date ymd(int y, int m, int d)
{
    tc_date t = {y, m, d};
    return t;
}

#define assert_date(actual, y, m, d)                                                     \
    do {                                                                                 \
        tc_date a_ = (actual);                                                           \
        if (a_.year != (y) || a_.month != (m) || a_.day != (d))                          \
            fail_msg("%s = %04d-%02d-%02d, expected %04d-%02d-%02d", #actual, a_.year,   \
                     a_.month, a_.day, (y), (m), (d));                                   \
    } while (0)

/* ---- tc_date_parse ---- */

static void test_date_parse_ok(void **state)
{
    tc_ctx *ctx = *state;
    tc_date d;
    assert_tc_ok(ctx, tc_date_parse(ctx, "2024-02-29", &d)); /* leap year */
    assert_date(d, 2024, 2, 29);
    assert_tc_ok(ctx, tc_date_parse(ctx, "20250901", &d));
    assert_date(d, 2025, 9, 1);
    assert_tc_ok(ctx, tc_date_parse(ctx, "2000-02-29", &d)); /* divisible by 400 */
    assert_date(d, 2000, 2, 29);
    assert_tc_ok(ctx, tc_date_parse(ctx, "1000-01-01", &d));
    assert_tc_ok(ctx, tc_date_parse(ctx, "9999-12-31", &d));
    assert_date(d, 9999, 12, 31);
    assert_string_equal(tc_ctx_errmsg(ctx), "");
}

static void test_date_parse_bad(void **state)
{
    tc_ctx *ctx = *state;
    static const char *const bad[] = {
        "2025-02-29", /* not a leap year */
        "1900-02-29", /* divisible by 100, not by 400 */
        "2025-02-30", "2025-04-31", "2025-13-01", "2025-00-10", "2025-01-00",
        "2025-1-01",  /* month needs two digits */
        "20250901x",  /* trailing junk */
        "2025-09-01 ", " 2025-09-01", "2025/09/01", "202509011", "2025091",
        "0999-12-31", /* year below 1000 */
        "", "abcd-ef-gh", "+025-09-01",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tc_date d = {-1, -1, -1};
        assert_tc_fails(ctx, tc_date_parse(ctx, bad[i], &d), TC_ERR_INVALID_ARG);
        assert_date(d, -1, -1, -1); /* untouched */
    }
}

static void test_date_parse_message(void **state)
{
    tc_ctx *ctx = *state;
    tc_date d;
    assert_tc_fails(ctx, tc_date_parse(ctx, "2025-02-30", &d), TC_ERR_INVALID_ARG);
    assert_string_equal(tc_ctx_errmsg(ctx), "date '2025-02-30': no such day");
    /* a success clears the previous message */
    assert_tc_ok(ctx, tc_date_parse(ctx, "2025-02-28", &d));
    assert_string_equal(tc_ctx_errmsg(ctx), "");
}

static void test_date_parse_null(void **state)
{
    tc_ctx *ctx = *state;
    tc_date d = {-1, -1, -1};
    assert_int_equal(tc_date_parse(NULL, "2025-01-01", &d), TC_ERR_INVALID_ARG);
    assert_tc_fails(ctx, tc_date_parse(ctx, NULL, &d), TC_ERR_INVALID_ARG);
    assert_tc_fails(ctx, tc_date_parse(ctx, "2025-01-01", NULL), TC_ERR_INVALID_ARG);
    assert_date(d, -1, -1, -1);
}

/* ---- tc_date_from_filename ---- */

static void test_date_from_filename_ok(void **state)
{
    tc_ctx *ctx = *state;
    tc_date d;
    assert_tc_ok(ctx, tc_date_from_filename(ctx, "deepstatemap_data_20250901.geojson", &d));
    assert_date(d, 2025, 9, 1);
    assert_tc_ok(ctx, tc_date_from_filename(ctx, "x-2025-09-01.gpkg", &d));
    assert_date(d, 2025, 9, 1);
    /* the directory part is ignored */
    assert_tc_ok(ctx, tc_date_from_filename(ctx, "/data/20240101/snap_20250102.json", &d));
    assert_date(d, 2025, 1, 2);
    /* the last date wins, whichever form each has */
    assert_tc_ok(ctx, tc_date_from_filename(ctx, "diff_20240101_20250315.geojson", &d));
    assert_date(d, 2025, 3, 15);
    assert_tc_ok(ctx, tc_date_from_filename(ctx, "2025-03-15_to_20240101.geojson", &d));
    assert_date(d, 2024, 1, 1);
    assert_tc_ok(ctx, tc_date_from_filename(ctx, "20240101_to_2025-03-15.geojson", &d));
    assert_date(d, 2025, 3, 15);
    /* an impossible later run does not hide an earlier valid date */
    assert_tc_ok(ctx, tc_date_from_filename(ctx, "snap_20250901_v99999999.geojson", &d));
    assert_date(d, 2025, 9, 1);
    assert_tc_ok(ctx, tc_date_from_filename(ctx, "20240229", &d));
    assert_date(d, 2024, 2, 29);
}

static void test_date_from_filename_not_found(void **state)
{
    tc_ctx *ctx = *state;
    static const char *const bad[] = {
        "x_123456789.geojson",     /* 9-digit run: no date */
        "x_1202509011.geojson",    /* 10-digit run */
        "x_20250230.geojson",      /* impossible day */
        "x_2025-9-01.geojson",     /* one-digit month */
        "x_12025-09-01.geojson",   /* 5-digit year */
        "x_2025-09-011.geojson",   /* 3-digit day */
        "x_2025_09_01.geojson",    /* wrong separator */
        "/data/20250901/snap.geojson", /* a date only in the directory */
        "snapshot.geojson", "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tc_date d = {-1, -1, -1};
        assert_tc_fails(ctx, tc_date_from_filename(ctx, bad[i], &d), TC_ERR_NOT_FOUND);
        assert_date(d, -1, -1, -1);
    }
}

static void test_date_from_filename_null(void **state)
{
    tc_ctx *ctx = *state;
    tc_date d = {-1, -1, -1};
    assert_int_equal(tc_date_from_filename(NULL, "a_20250101.json", &d), TC_ERR_INVALID_ARG);
    assert_tc_fails(ctx, tc_date_from_filename(ctx, NULL, &d), TC_ERR_INVALID_ARG);
    assert_tc_fails(ctx, tc_date_from_filename(ctx, "a_20250101.json", NULL), TC_ERR_INVALID_ARG);
    assert_date(d, -1, -1, -1);
}

/* ---- tc_date_cmp, tc_date_diff_days, tc_date_format ---- */

static void test_date_cmp(void **state)
{
    (void)state;
    assert_true(tc_date_cmp(ymd(2025, 1, 1), ymd(2025, 1, 1)) == 0);
    assert_true(tc_date_cmp(ymd(2024, 12, 31), ymd(2025, 1, 1)) < 0);
    assert_true(tc_date_cmp(ymd(2025, 2, 1), ymd(2025, 1, 31)) > 0);
    assert_true(tc_date_cmp(ymd(2025, 1, 2), ymd(2025, 1, 1)) > 0);
}

static void test_date_diff_days(void **state)
{
    (void)state;
    assert_int_equal(tc_date_diff_days(ymd(2024, 2, 28), ymd(2024, 3, 1)), 2); /* leap */
    assert_int_equal(tc_date_diff_days(ymd(2025, 2, 28), ymd(2025, 3, 1)), 1);
    assert_int_equal(tc_date_diff_days(ymd(2024, 3, 1), ymd(2024, 2, 28)), -2);
    assert_int_equal(tc_date_diff_days(ymd(2025, 9, 1), ymd(2025, 9, 1)), 0);
    assert_int_equal(tc_date_diff_days(ymd(2024, 1, 1), ymd(2025, 1, 1)), 366);
    assert_int_equal(tc_date_diff_days(ymd(2025, 1, 1), ymd(2026, 1, 1)), 365);
    assert_int_equal(tc_date_diff_days(ymd(1900, 1, 1), ymd(2000, 1, 1)), 36524);
    assert_int_equal(tc_date_diff_days(ymd(2000, 1, 1), ymd(2100, 1, 1)), 36525);
    assert_int_equal(tc_date_diff_days(ymd(1970, 1, 1), ymd(2000, 1, 1)), 10957);
    assert_int_equal(tc_date_diff_days(ymd(1000, 1, 1), ymd(9999, 12, 31)), 3287181);
}

static void test_date_format(void **state)
{
    (void)state;
    char buf[11];
    tc_date_format(ymd(2025, 9, 1), buf);
    assert_string_equal(buf, "2025-09-01");
    tc_date_format(ymd(1000, 12, 31), buf);
    assert_string_equal(buf, "1000-12-31");
}

static void test_date_format_parse_roundtrip(void **state)
{
    tc_ctx *ctx = *state;
    /* every day of a leap year and the next: format, parse back, count the days */
    tc_date d = ymd(2024, 1, 1), start = d;
    for (long k = 0; k < 731; k++) {
        char buf[11];
        tc_date_format(d, buf);
        tc_date back;
        assert_tc_ok(ctx, tc_date_parse(ctx, buf, &back));
        assert_int_equal(tc_date_cmp(back, d), 0);
        assert_int_equal(tc_date_diff_days(start, d), k);
        /* next day by trial: the parser knows month lengths */
        tc_date next = ymd(d.year, d.month, d.day + 1);
        char nb[11];
        tc_date_format(next, nb);
        if (tc_date_parse(ctx, nb, &back) != TC_OK)
            next = d.month == 12 ? ymd(d.year + 1, 1, 1) : ymd(d.year, d.month + 1, 1);
        d = next;
    }
    assert_date(d, 2026, 1, 1);
}

/* ---- tc_archive_open ---- */

static void test_archive_open_sorted(void **state)
{
    fixture *f = *state;
    tc_ctx *ctx = f->ctx;
    touch(f, "snap_20250301.geojson");
    touch(f, "snap-2025-01-15.GPKG"); /* extensions are case-insensitive */
    touch(f, "a_20241231.json");
    touch(f, "z_20250210.fgb");
    touch(f, "notes_20250101.txt");    /* not a vector extension */
    touch(f, "README.geojson");        /* no date */
    touch(f, "x_123456789.geojson");   /* 9-digit run: no date */
    touch(f, "snap_20250230.geojson"); /* impossible date */
    make_subdir(f, "dir_20250105.geojson"); /* not a regular file */

    assert_tc_ok(ctx, tc_archive_open(ctx, f->dir, &f->archive));
    const tc_archive *ar = f->archive;
    assert_int_equal(tc_archive_count(ar), 4);
    assert_date(tc_archive_get_date(ar, 0), 2024, 12, 31);
    assert_date(tc_archive_get_date(ar, 1), 2025, 1, 15);
    assert_date(tc_archive_get_date(ar, 2), 2025, 2, 10);
    assert_date(tc_archive_get_date(ar, 3), 2025, 3, 1);

    char want[8192];
    snprintf(want, sizeof want, "%s/a_20241231.json", f->dir);
    assert_string_equal(tc_archive_get_path(ar, 0), want);
    snprintf(want, sizeof want, "%s/snap-2025-01-15.GPKG", f->dir);
    assert_string_equal(tc_archive_get_path(ar, 1), want);
    assert_true(ends_with(tc_archive_get_path(ar, 3), "/snap_20250301.geojson"));

    /* out of range */
    assert_null(tc_archive_get_path(ar, 4));
    assert_date(tc_archive_get_date(ar, 4), 0, 0, 0);
    assert_null(tc_archive_get_path(ar, (size_t)-1));
    assert_int_equal(tc_archive_count(NULL), 0);
    assert_null(tc_archive_get_path(NULL, 0));
    assert_date(tc_archive_get_date(NULL, 0), 0, 0, 0);
    tc_archive_free(NULL); /* no-op */
}

static void test_archive_open_trailing_slash(void **state)
{
    fixture *f = *state;
    tc_ctx *ctx = f->ctx;
    touch(f, "snap_20250101.geojson");
    char dir[8192];
    snprintf(dir, sizeof dir, "%s/", f->dir);
    assert_tc_ok(ctx, tc_archive_open(ctx, dir, &f->archive));
    char want[8192];
    snprintf(want, sizeof want, "%s/snap_20250101.geojson", f->dir);
    assert_string_equal(tc_archive_get_path(f->archive, 0), want);
}

static void test_archive_open_duplicate(void **state)
{
    fixture *f = *state;
    tc_ctx *ctx = f->ctx;
    touch(f, "snap_20250101.geojson");
    touch(f, "snap_20250102.geojson");
    touch(f, "other-2025-01-02.gpkg");
    tc_archive *ar = (tc_archive *)f; /* sentinel: must stay untouched */
    assert_tc_fails(ctx, tc_archive_open(ctx, f->dir, &ar), TC_ERR_FORMAT);
    assert_ptr_equal(ar, (tc_archive *)f);
    const char *msg = tc_ctx_errmsg(ctx);
    assert_non_null(strstr(msg, "snap_20250102.geojson"));
    assert_non_null(strstr(msg, "other-2025-01-02.gpkg"));
    assert_non_null(strstr(msg, "2025-01-02"));
}

static void test_archive_open_missing_dir(void **state)
{
    fixture *f = *state;
    tc_ctx *ctx = f->ctx;
    char dir[8192];
    snprintf(dir, sizeof dir, "%s/does-not-exist", f->dir);
    tc_archive *ar = (tc_archive *)f;
    assert_tc_fails(ctx, tc_archive_open(ctx, dir, &ar), TC_ERR_IO);
    assert_ptr_equal(ar, (tc_archive *)f);
    assert_non_null(strstr(tc_ctx_errmsg(ctx), "does-not-exist"));
    assert_non_null(strstr(tc_ctx_errmsg(ctx), "No such file or directory"));
}

static void test_archive_open_not_a_dir(void **state)
{
    fixture *f = *state;
    tc_ctx *ctx = f->ctx;
    touch(f, "snap_20250101.geojson");
    char path[8192];
    snprintf(path, sizeof path, "%s/snap_20250101.geojson", f->dir);
    tc_archive *ar = (tc_archive *)f;
    assert_tc_fails(ctx, tc_archive_open(ctx, path, &ar), TC_ERR_IO);
    assert_ptr_equal(ar, (tc_archive *)f);
}

static void test_archive_open_empty(void **state)
{
    fixture *f = *state;
    tc_ctx *ctx = f->ctx;
    tc_archive *ar = (tc_archive *)f;
    assert_tc_fails(ctx, tc_archive_open(ctx, f->dir, &ar), TC_ERR_NOT_FOUND);
    assert_ptr_equal(ar, (tc_archive *)f);
}

static void test_archive_open_no_dated_files(void **state)
{
    fixture *f = *state;
    tc_ctx *ctx = f->ctx;
    touch(f, "README.geojson");
    touch(f, "snap_20250101.csv");
    touch(f, "x_123456789.geojson");
    tc_archive *ar = (tc_archive *)f;
    assert_tc_fails(ctx, tc_archive_open(ctx, f->dir, &ar), TC_ERR_NOT_FOUND);
    assert_ptr_equal(ar, (tc_archive *)f);
}

static void test_archive_open_null(void **state)
{
    fixture *f = *state;
    tc_ctx *ctx = f->ctx;
    tc_archive *ar = (tc_archive *)f;
    assert_int_equal(tc_archive_open(NULL, f->dir, &ar), TC_ERR_INVALID_ARG);
    assert_tc_fails(ctx, tc_archive_open(ctx, NULL, &ar), TC_ERR_INVALID_ARG);
    assert_tc_fails(ctx, tc_archive_open(ctx, f->dir, NULL), TC_ERR_INVALID_ARG);
    assert_ptr_equal(ar, (tc_archive *)f);
}

/* ---- tc_archive_find ---- */

/* Snapshots on 2025-01-01, 2025-01-05 and 2025-02-01. */
static void open_three(fixture *f)
{
    touch(f, "snap_20250101.geojson");
    touch(f, "snap_20250105.geojson");
    touch(f, "snap_20250201.geojson");
    assert_tc_ok(f->ctx, tc_archive_open(f->ctx, f->dir, &f->archive));
    assert_int_equal(tc_archive_count(f->archive), 3);
}

static void test_archive_find_exact(void **state)
{
    fixture *f = *state;
    tc_ctx *ctx = f->ctx;
    open_three(f);
    size_t before = tc_ctx_warning_count(ctx);
    size_t i = 99;
    assert_tc_ok(ctx, tc_archive_find(ctx, f->archive, ymd(2025, 1, 5), &i));
    assert_int_equal(i, 1);
    assert_tc_ok(ctx, tc_archive_find(ctx, f->archive, ymd(2025, 1, 1), &i));
    assert_int_equal(i, 0);
    assert_tc_ok(ctx, tc_archive_find(ctx, f->archive, ymd(2025, 2, 1), &i));
    assert_int_equal(i, 2);
    assert_int_equal(tc_ctx_warning_count(ctx), before); /* exact: no warning */
}

static void test_archive_find_fallback(void **state)
{
    fixture *f = *state;
    tc_ctx *ctx = f->ctx;
    open_three(f);
    size_t before = tc_ctx_warning_count(ctx);
    size_t i = 99;
    assert_tc_ok(ctx, tc_archive_find(ctx, f->archive, ymd(2025, 1, 4), &i));
    assert_int_equal(i, 0);
    assert_int_equal(tc_ctx_warning_count(ctx), before + 1);
    assert_string_equal(tc_ctx_get_warning(ctx, before),
                        "no snapshot for 2025-01-04; using 2025-01-01 (3 days earlier)");

    assert_tc_ok(ctx, tc_archive_find(ctx, f->archive, ymd(2025, 1, 31), &i));
    assert_int_equal(i, 1);
    assert_int_equal(tc_ctx_warning_count(ctx), before + 2);

    /* after the last snapshot: up to 30 days is still answered, with a warning */
    assert_tc_ok(ctx, tc_archive_find(ctx, f->archive, ymd(2025, 3, 3), &i)); /* +30 */
    assert_int_equal(i, 2);
    assert_int_equal(tc_ctx_warning_count(ctx), before + 3);
}

static void test_archive_find_before_first(void **state)
{
    fixture *f = *state;
    tc_ctx *ctx = f->ctx;
    open_three(f);
    size_t i = 99;
    assert_tc_fails(ctx, tc_archive_find(ctx, f->archive, ymd(2024, 12, 31), &i),
                    TC_ERR_NOT_FOUND);
    assert_int_equal(i, 99);
    assert_string_equal(tc_ctx_errmsg(ctx),
                        "no snapshot on or before 2024-12-31; the archive starts 2025-01-01");
}

static void test_archive_find_far_future(void **state)
{
    fixture *f = *state;
    tc_ctx *ctx = f->ctx;
    open_three(f);
    size_t i = 99;
    assert_tc_fails(ctx, tc_archive_find(ctx, f->archive, ymd(2025, 3, 4), &i), /* +31 */
                    TC_ERR_INVALID_ARG);
    assert_int_equal(i, 99);
    assert_string_equal(tc_ctx_errmsg(ctx),
                        "2025-03-04 is 31 days after the latest snapshot (2025-02-01)");
    assert_tc_fails(ctx, tc_archive_find(ctx, f->archive, ymd(2030, 1, 1), &i),
                    TC_ERR_INVALID_ARG);
    assert_int_equal(i, 99);
}

static void test_archive_find_invalid_date(void **state)
{
    fixture *f = *state;
    tc_ctx *ctx = f->ctx;
    open_three(f);
    size_t i = 99;
    assert_tc_fails(ctx, tc_archive_find(ctx, f->archive, ymd(2025, 13, 1), &i),
                    TC_ERR_INVALID_ARG);
    assert_tc_fails(ctx, tc_archive_find(ctx, f->archive, ymd(2025, 2, 29), &i),
                    TC_ERR_INVALID_ARG);
    assert_tc_fails(ctx, tc_archive_find(ctx, f->archive, ymd(0, 0, 0), &i),
                    TC_ERR_INVALID_ARG);
    assert_tc_fails(ctx, tc_archive_find(ctx, NULL, ymd(2025, 1, 1), &i), TC_ERR_INVALID_ARG);
    assert_tc_fails(ctx, tc_archive_find(ctx, f->archive, ymd(2025, 1, 1), NULL),
                    TC_ERR_INVALID_ARG);
    assert_int_equal(tc_archive_find(NULL, f->archive, ymd(2025, 1, 1), &i),
                     TC_ERR_INVALID_ARG);
    assert_int_equal(i, 99);
}

/* ---- data: the real DeepState archive ---- */

static void test_data_deepstate_archive(void **state)
{
    tc_ctx *ctx = *state;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s",
             tc_test_data("control/deepstate/deepstatemap_data_20250901.geojson"));
    *strrchr(dir, '/') = '\0';

    tc_archive *ar = NULL;
    assert_tc_ok(ctx, tc_archive_open(ctx, dir, &ar));
    size_t n = tc_archive_count(ar);
    print_message("# %zu snapshots in %s\n", n, dir);
    assert_int_equal(n, 769);
    assert_date(tc_archive_get_date(ar, 0), 2024, 7, 8);
    assert_date(tc_archive_get_date(ar, n - 1), 2026, 8, 22);
    assert_true(ends_with(tc_archive_get_path(ar, 0), "/deepstatemap_data_20240708.geojson"));

    /* strictly increasing; remember the first missing day for the fallback check */
    size_t gap_at = 0;
    for (size_t i = 1; i < n; i++) {
        long step = tc_date_diff_days(tc_archive_get_date(ar, i - 1), tc_archive_get_date(ar, i));
        assert_true(step > 0);
        if (step > 1 && gap_at == 0)
            gap_at = i;
    }

    size_t i = 0;
    assert_tc_ok(ctx, tc_archive_find(ctx, ar, ymd(2025, 9, 1), &i));
    assert_true(ends_with(tc_archive_get_path(ar, i), "/deepstatemap_data_20250901.geojson"));

    if (gap_at > 0) { /* a missing day falls back to the snapshot before it, with a warning */
        tc_date prev = tc_archive_get_date(ar, gap_at - 1);
        char buf[11];
        tc_date missing;
        /* the day after prev: through the parser, which knows month lengths */
        tc_date cand = ymd(prev.year, prev.month, prev.day + 1);
        tc_date_format(cand, buf);
        if (tc_date_parse(ctx, buf, &missing) != TC_OK)
            missing = prev.month == 12 ? ymd(prev.year + 1, 1, 1)
                                       : ymd(prev.year, prev.month + 1, 1);
        size_t before = tc_ctx_warning_count(ctx);
        assert_tc_ok(ctx, tc_archive_find(ctx, ar, missing, &i));
        assert_int_equal(i, gap_at - 1);
        assert_int_equal(tc_ctx_warning_count(ctx), before + 1);
        print_message("# %s\n", tc_ctx_get_warning(ctx, before));
    }
    tc_archive_free(ar);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_date_parse_ok),
        cmocka_unit_test(test_date_parse_bad),
        cmocka_unit_test(test_date_parse_message),
        cmocka_unit_test(test_date_parse_null),
        cmocka_unit_test(test_date_from_filename_ok),
        cmocka_unit_test(test_date_from_filename_not_found),
        cmocka_unit_test(test_date_from_filename_null),
        cmocka_unit_test(test_date_cmp),
        cmocka_unit_test(test_date_diff_days),
        cmocka_unit_test(test_date_format),
        cmocka_unit_test(test_date_format_parse_roundtrip),
        cmocka_unit_test_setup_teardown(test_archive_open_sorted, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_archive_open_trailing_slash, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_archive_open_duplicate, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_archive_open_missing_dir, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_archive_open_not_a_dir, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_archive_open_empty, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_archive_open_no_dated_files, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_archive_open_null, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_archive_find_exact, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_archive_find_fallback, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_archive_find_before_first, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_archive_find_far_future, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_archive_find_invalid_date, fx_setup, fx_teardown),
        cmocka_unit_test(test_data_deepstate_archive),
    };
    return cmocka_run_group_tests_name("archive", tests, tc_test_ctx_setup, tc_test_ctx_teardown);
}
