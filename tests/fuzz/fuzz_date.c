/* Dates: bytes as text -> tc_date_parse(), tc_date_from_filename() (the archive's file-name
 * reader), tc_date_format/cmp/diff, and tc_archive_find() on a small fixed archive.
 * Run: build-fuzz/tests/fuzz/fuzz_date -max_len=256 tests/fuzz/corpus/date */
#include "fuzz_common.h"

#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool date_valid(tc_date d)
{
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (d.year < 1000 || d.year > 9999 || d.month < 1 || d.month > 12 || d.day < 1 ||
        d.day > mdays[d.month - 1])
        return false;
    bool leap = (d.year % 4 == 0 && d.year % 100 != 0) || d.year % 400 == 0;
    return !(d.month == 2 && d.day == 29 && !leap);
}

/* A valid date prints as YYYY-MM-DD, reads back, and sits consistently in the calendar. */
static void check_date(tc_ctx *ctx, tc_date d, const char *what)
{
    FUZZ_CHECK(date_valid(d), "%s gave %d-%d-%d", what, d.year, d.month, d.day);
    char buf[11];
    tc_date_format(d, buf);
    FUZZ_CHECK(strlen(buf) == 10, "%s: format '%s'", what, buf);
    tc_date back;
    tc_status st = tc_date_parse(ctx, buf, &back);
    FUZZ_CHECK(st == TC_OK && tc_date_cmp(back, d) == 0, "%s: '%s' does not read back", what,
               buf);
    tc_date next = d;
    next.day++;
    if (!date_valid(next)) {
        next.day = 1;
        if (++next.month > 12)
            next.month = 1, next.year++;
    }
    if (date_valid(next)) {
        FUZZ_CHECK(tc_date_diff_days(d, next) == 1, "%s: %s + 1 day", what, buf);
        FUZZ_CHECK(tc_date_cmp(d, next) < 0 && tc_date_cmp(next, d) > 0, "%s: order", what);
    }
}

/* Three snapshots in a scratch directory, made once. */
static tc_archive *fixed_archive(tc_ctx *ctx)
{
    static tc_archive *ar;
    static bool tried;
    if (tried)
        return ar;
    tried = true;
    char dir[] = "/tmp/tc_fuzz_date_XXXXXX";
    if (!mkdtemp(dir))
        return NULL;
    const char *names[] = {"s_20240708.geojson", "s_2025-01-31.geojson", "s_20250901.json"};
    char path[256];
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        FILE *f = fopen(path, "w");
        if (f)
            fclose(f);
    }
    if (tc_archive_open(ctx, dir, &ar) != TC_OK)
        ar = NULL;
    for (size_t i = 0; i < 3; i++) { /* the listing is in memory: nothing is read later */
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
    return ar;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tc_ctx *ctx = fuzz_ctx();
    char *text = fuzz_cstr(data, size);
    tc_date d;

    tc_status st = tc_date_parse(ctx, text, &d);
    fuzz_check_status(ctx, st, "tc_date_parse");
    FUZZ_CHECK(st == TC_OK || st == TC_ERR_INVALID_ARG, "parse: %s", tc_status_str(st));
    if (st == TC_OK)
        check_date(ctx, d, "tc_date_parse");

    st = tc_date_from_filename(ctx, text, &d);
    fuzz_check_status(ctx, st, "tc_date_from_filename");
    FUZZ_CHECK(st == TC_OK || st == TC_ERR_NOT_FOUND, "from file name: %s", tc_status_str(st));
    if (st == TC_OK)
        check_date(ctx, d, "tc_date_from_filename");

    /* Raw fields, valid or not: find must refuse impossible dates and never answer with a
     * snapshot dated after the request. */
    tc_archive *ar = fixed_archive(ctx);
    if (ar && size >= 3 * sizeof(int)) {
        tc_date raw;
        memcpy(&raw.year, data, sizeof(int));
        memcpy(&raw.month, data + sizeof(int), sizeof(int));
        memcpy(&raw.day, data + 2 * sizeof(int), sizeof(int));
        char buf[11];
        tc_date_format(raw, buf); /* any ints: must not overflow the 11 bytes */
        FUZZ_CHECK(strlen(buf) <= 10, "format of raw date");
        size_t idx = (size_t)-1;
        st = tc_archive_find(ctx, ar, raw, &idx);
        fuzz_check_status(ctx, st, "tc_archive_find");
        if (st == TC_OK) {
            FUZZ_CHECK(date_valid(raw), "find accepted %d-%d-%d", raw.year, raw.month, raw.day);
            FUZZ_CHECK(idx < tc_archive_count(ar), "index %zu", idx);
            FUZZ_CHECK(tc_date_cmp(tc_archive_get_date(ar, idx), raw) <= 0, "later snapshot");
            if (idx + 1 < tc_archive_count(ar))
                FUZZ_CHECK(tc_date_cmp(tc_archive_get_date(ar, idx + 1), raw) > 0,
                           "not the latest earlier snapshot");
        } else {
            FUZZ_CHECK(idx == (size_t)-1, "index written on failure");
        }
        /* any ints: the day count must not overflow (UBSan watches) */
        (void)tc_date_diff_days(tc_archive_get_date(ar, 0), raw);
        (void)tc_date_cmp(raw, raw);
    }
    free(text);
    return 0;
}
