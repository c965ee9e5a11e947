/* Calendar dates and dated snapshot archives (a directory of dated vector files). */
#include "tc_internal.h"

#include <gdal.h>
#include <ogr_api.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- dates ---- */

/* Longest tc_date printed with "%d-%02d-%02d" from arbitrary ints, plus NUL. */
#define DATE_TEXT_LEN 40

/* How far past the latest snapshot tc_archive_find() still answers. */
#define FIND_MAX_DAYS_AFTER 30L

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static bool is_leap(long y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int days_in_month(int year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month == 2 && is_leap(year))
        return 29;
    return days[month - 1];
}

/* Why a date is not usable, or NULL when it is. The library works with 4-digit
 * years (1000..9999), the range its text forms can spell. */
static const char *date_problem(tc_date d)
{
    if (d.year < 1000 || d.year > 9999)
        return "year out of range 1000..9999";
    if (d.month < 1 || d.month > 12)
        return "no such month";
    if (d.day < 1 || d.day > days_in_month(d.year, d.month))
        return "no such day";
    return NULL;
}

/* Any date as text, even an invalid one (for messages). */
static void date_text(tc_date d, char buf[DATE_TEXT_LEN])
{
    snprintf(buf, DATE_TEXT_LEN, "%04d-%02d-%02d", d.year, d.month, d.day);
}

static int digits_value(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_digit(s[i]))
            return false;
    return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant, days_from_civil). */
static long days_from_civil(tc_date d)
{
    long y = (long)d.year - (d.month <= 2);
    long m = d.month;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;                                 /* [0, 399]     */
    long doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d.day - 1; /* [0, 365] */
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;         /* [0, 146096]  */
    return era * 146097 + doe - 719468;
}

tc_status tc_date_parse(tc_ctx *ctx, const char *text, tc_date *out)
{
    if (!ctx)
        return TC_ERR_INVALID_ARG;
    tc__clear(ctx);
    if (!text || !out)
        return tc__fail(ctx, TC_ERR_INVALID_ARG, "date parse: NULL %s", text ? "output" : "text");

    size_t n = strlen(text);
    tc_date d;
    if (n == 10 && text[4] == '-' && text[7] == '-' && all_digits(text, 4) &&
        all_digits(text + 5, 2) && all_digits(text + 8, 2)) {
        d.year = digits_value(text, 4);
        d.month = digits_value(text + 5, 2);
        d.day = digits_value(text + 8, 2);
    } else if (n == 8 && all_digits(text, 8)) {
        d.year = digits_value(text, 4);
        d.month = digits_value(text + 4, 2);
        d.day = digits_value(text + 6, 2);
    } else {
        return tc__fail(ctx, TC_ERR_INVALID_ARG, "date '%.64s%s': expected YYYY-MM-DD or YYYYMMDD",
                        text, n > 64 ? "..." : "");
    }
    const char *why = date_problem(d);
    if (why)
        return tc__fail(ctx, TC_ERR_INVALID_ARG, "date '%s': %s", text, why);
    *out = d;
    return TC_OK;
}

/* Length of the run of digits starting at s. */
static size_t digit_run(const char *s)
{
    size_t n = 0;
    while (is_digit(s[n]))
        n++;
    return n;
}

/* The last valid "YYYYMMDD" or "YYYY-MM-DD" in a base name. Digit runs are taken whole:
 * a run of 9 digits holds no date, and "YYYY-MM-DD" needs runs of exactly 4, 2 and 2. */
static bool date_in_name(const char *base, tc_date *out)
{
    bool found = false;
    tc_date best = {0, 0, 0};
    for (const char *p = base; *p;) {
        if (!is_digit(*p)) {
            p++;
            continue;
        }
        size_t n = digit_run(p);
        tc_date d = {0, 0, 0};
        bool cand = false;
        if (n == 8) {
            d.year = digits_value(p, 4);
            d.month = digits_value(p + 4, 2);
            d.day = digits_value(p + 6, 2);
            cand = true;
        } else if (n == 4 && p[4] == '-' && digit_run(p + 5) == 2 && p[7] == '-' &&
                   digit_run(p + 8) == 2) {
            d.year = digits_value(p, 4);
            d.month = digits_value(p + 5, 2);
            d.day = digits_value(p + 8, 2);
            cand = true;
        }
        if (cand && !date_problem(d)) {
            best = d;
            found = true;
        }
        p += n; /* next maximal run; a YYYY-MM-DD's month/day runs are too short to match */
    }
    if (found)
        *out = best;
    return found;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

tc_status tc_date_from_filename(tc_ctx *ctx, const char *path, tc_date *out)
{
    if (!ctx)
        return TC_ERR_INVALID_ARG;
    tc__clear(ctx);
    if (!path || !out)
        return tc__fail(ctx, TC_ERR_INVALID_ARG, "date from file name: NULL %s",
                        path ? "output" : "path");
    if (!date_in_name(base_name(path), out))
        return tc__fail(ctx, TC_ERR_NOT_FOUND,
                        "file name '%s': no valid YYYYMMDD or YYYY-MM-DD date in it",
                        base_name(path));
    return TC_OK;
}

int tc_date_cmp(tc_date a, tc_date b)
{
    if (a.year != b.year)
        return a.year < b.year ? -1 : 1;
    if (a.month != b.month)
        return a.month < b.month ? -1 : 1;
    if (a.day != b.day)
        return a.day < b.day ? -1 : 1;
    return 0;
}

long tc_date_diff_days(tc_date a, tc_date b) { return days_from_civil(b) - days_from_civil(a); }

void tc_date_format(tc_date d, char buf[11])
{
    if (!buf)
        return;
    char tmp[DATE_TEXT_LEN];
    date_text(d, tmp);
    memcpy(buf, tmp, 10); /* a valid date fills exactly 10 characters */
    buf[10] = '\0';
}

/* ---- archives ---- */

typedef struct archive_item {
    tc_date date;
    char *path; /* dir + "/" + name */
    const char *name; /* points into path */
    char *layer;      /* layer entries: the layer's name, or NULL for the first */
    char *where;      /* layer entries: the attribute filter of this date; else NULL */
} archive_item;

struct tc_archive {
    archive_item *items;
    size_t n;
};

/* Extensions GDAL reads as vector data, compared case-insensitively. */
static const char *const vector_exts[] = {"geojson", "json", "gpkg", "shp", "kml", "fgb", "gml"};

static char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c; }

static bool has_vector_ext(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (!dot || dot == name)
        return false;
    dot++;
    for (size_t k = 0; k < sizeof vector_exts / sizeof vector_exts[0]; k++) {
        const char *e = vector_exts[k];
        size_t i = 0;
        while (e[i] && dot[i] && ascii_lower(dot[i]) == e[i])
            i++;
        if (!e[i] && !dot[i])
            return true;
    }
    return false;
}

static int item_cmp(const void *pa, const void *pb)
{
    const archive_item *a = pa, *b = pb;
    int c = tc_date_cmp(a->date, b->date);
    return c ? c : strcmp(a->name, b->name); /* deterministic order for duplicates */
}

void tc_archive_free(tc_archive *archive)
{
    if (!archive)
        return;
    for (size_t i = 0; i < archive->n; i++) {
        free(archive->items[i].path);
        free(archive->items[i].layer);
        free(archive->items[i].where);
    }
    free(archive->items);
    free(archive);
}

/* Collect the dated vector files of an open directory into ar. */
static tc_status archive_scan(tc_ctx *ctx, const char *dir, DIR *dh, tc_archive *ar)
{
    size_t cap = 0;
    size_t dir_len = strlen(dir);
    bool add_slash = dir_len == 0 || dir[dir_len - 1] != '/';
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(dh);
        if (!de) {
            if (errno != 0)
                return tc__fail(ctx, TC_ERR_IO, "archive '%s': %s", dir, strerror(errno));
            return TC_OK;
        }
        const char *name = de->d_name;
        tc_date d;
        if (!has_vector_ext(name) || !date_in_name(name, &d))
            continue;

        size_t name_len = strlen(name);
        char *path = malloc(dir_len + add_slash + name_len + 1);
        if (!path)
            return tc__fail(ctx, TC_ERR_NOMEM, "archive '%s': out of memory", dir);
        memcpy(path, dir, dir_len);
        if (add_slash)
            path[dir_len] = '/';
        memcpy(path + dir_len + add_slash, name, name_len + 1);

        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
            free(path); /* directories, dangling links, devices: not snapshots */
            continue;
        }
        if (ar->n == cap) {
            size_t ncap = cap ? 2 * cap : 64;
            archive_item *items = realloc(ar->items, ncap * sizeof *items);
            if (!items) {
                free(path);
                return tc__fail(ctx, TC_ERR_NOMEM, "archive '%s': out of memory", dir);
            }
            ar->items = items;
            cap = ncap;
        }
        memset(&ar->items[ar->n], 0, sizeof ar->items[ar->n]);
        ar->items[ar->n].date = d;
        ar->items[ar->n].path = path;
        ar->items[ar->n].name = path + dir_len + add_slash;
        ar->n++;
    }
}

tc_status tc_archive_open(tc_ctx *ctx, const char *dir, tc_archive **out)
{
    if (!ctx)
        return TC_ERR_INVALID_ARG;
    tc__clear(ctx);
    if (!dir || !out)
        return tc__fail(ctx, TC_ERR_INVALID_ARG, "archive open: NULL %s",
                        dir ? "output" : "directory");

    DIR *dh = opendir(dir);
    if (!dh)
        return tc__fail(ctx, TC_ERR_IO, "archive '%s': %s", dir, strerror(errno));

    tc_archive *ar = calloc(1, sizeof *ar);
    if (!ar) {
        closedir(dh);
        return tc__fail(ctx, TC_ERR_NOMEM, "archive '%s': out of memory", dir);
    }
    tc_status st = archive_scan(ctx, dir, dh, ar);
    closedir(dh);

    if (st == TC_OK && ar->n == 0)
        st = tc__fail(ctx, TC_ERR_NOT_FOUND,
                      "archive '%s': no dated snapshot file (a YYYYMMDD or YYYY-MM-DD date "
                      "in the name; .geojson, .json, .gpkg, .shp, .kml, .fgb or .gml)",
                      dir);
    if (st == TC_OK) {
        qsort(ar->items, ar->n, sizeof *ar->items, item_cmp);
        for (size_t i = 1; i < ar->n; i++) {
            if (tc_date_cmp(ar->items[i - 1].date, ar->items[i].date) == 0) {
                char day[DATE_TEXT_LEN];
                date_text(ar->items[i].date, day);
                st = tc__fail(ctx, TC_ERR_FORMAT, "archive '%s': two files for %s: '%s' and '%s'",
                              dir, day, ar->items[i - 1].name, ar->items[i].name);
                break;
            }
        }
    }
    if (st != TC_OK) {
        tc_archive_free(ar);
        return st;
    }
    *out = ar;
    return TC_OK;
}

size_t tc_archive_count(const tc_archive *archive) { return archive ? archive->n : 0; }

tc_date tc_archive_get_date(const tc_archive *archive, size_t i)
{
    tc_date none = {0, 0, 0};
    return (archive && i < archive->n) ? archive->items[i].date : none;
}

const char *tc_archive_get_path(const tc_archive *archive, size_t i)
{
    return (archive && i < archive->n) ? archive->items[i].path : NULL;
}

tc_status tc_archive_find(tc_ctx *ctx, const tc_archive *archive, tc_date date, size_t *index)
{
    if (!ctx)
        return TC_ERR_INVALID_ARG;
    tc__clear(ctx);
    if (!archive || !index)
        return tc__fail(ctx, TC_ERR_INVALID_ARG, "archive find: NULL %s",
                        archive ? "index" : "archive");

    char want[DATE_TEXT_LEN];
    date_text(date, want);
    const char *why = date_problem(date);
    if (why)
        return tc__fail(ctx, TC_ERR_INVALID_ARG, "date %s: %s", want, why);
    if (archive->n == 0) /* tc_archive_open() never returns one, but be safe */
        return tc__fail(ctx, TC_ERR_NOT_FOUND, "no snapshot on or before %s; the archive is empty",
                        want);

    /* Binary search: lo = number of snapshots dated on or before date. */
    size_t lo = 0, hi = archive->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (tc_date_cmp(archive->items[mid].date, date) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0) {
        char first[DATE_TEXT_LEN];
        date_text(archive->items[0].date, first);
        return tc__fail(ctx, TC_ERR_NOT_FOUND,
                        "no snapshot on or before %s; the archive starts %s", want, first);
    }
    size_t i = lo - 1;
    long gap = tc_date_diff_days(archive->items[i].date, date);
    char have[DATE_TEXT_LEN];
    date_text(archive->items[i].date, have);
    if (i == archive->n - 1 && gap > FIND_MAX_DAYS_AFTER)
        return tc__fail(ctx, TC_ERR_INVALID_ARG,
                        "%s is %ld days after the latest snapshot (%s)", want, gap, have);
    if (gap != 0)
        tc__warn(ctx, "no snapshot for %s; using %s (%ld days earlier)", want, have, gap);
    *index = i;
    return TC_OK;
}

const char *tc_archive_get_filter(const tc_archive *archive, size_t i)
{
    return (archive && i < archive->n) ? archive->items[i].where : NULL;
}

void tc__archive_open_opts(const tc_archive *archive, size_t i, tc_open_opts *oo)
{
    *oo = (tc_open_opts)TC_OPEN_OPTS_INIT;
    if (archive && i < archive->n) {
        oo->layer_name = archive->items[i].layer;
        oo->where = archive->items[i].where;
    }
}

tc_status tc_archive_open_snapshot(tc_ctx *ctx, const tc_archive *archive, size_t i,
                                   tc_snapshot **out)
{
    if (!ctx)
        return TC_ERR_INVALID_ARG;
    tc__clear(ctx);
    if (!archive || !out || i >= archive->n)
        return tc__fail(ctx, TC_ERR_INVALID_ARG, "archive snapshot: %s",
                        archive && out ? "index out of range" : "NULL argument");
    const archive_item *it = &archive->items[i];
    tc_open_opts oo;
    tc__archive_open_opts(archive, i, &oo);
    return tc_snapshot_open(ctx, it->path, it->where ? &oo : NULL, out);
}

/* Sort, then refuse two entries for one date. */
static tc_status archive_finish(tc_ctx *ctx, tc_archive *ar, const char *what)
{
    qsort(ar->items, ar->n, sizeof *ar->items, item_cmp);
    for (size_t i = 1; i < ar->n; i++)
        if (tc_date_cmp(ar->items[i - 1].date, ar->items[i].date) == 0) {
            char d[DATE_TEXT_LEN];
            date_text(ar->items[i].date, d);
            return tc__fail(ctx, TC_ERR_FORMAT, "%s: two snapshots for %s", what, d);
        }
    return TC_OK;
}

tc_status tc_archive_new(tc_ctx *ctx, const char *const *paths, const tc_date *dates, size_t n,
                         tc_archive **out)
{
    if (!ctx)
        return TC_ERR_INVALID_ARG;
    tc__clear(ctx);
    if (!paths || !dates || !out || n == 0)
        return tc__fail(ctx, TC_ERR_INVALID_ARG, "archive from list: %s",
                        n == 0 ? "empty list" : "NULL argument");
    for (size_t i = 0; i < n; i++) {
        const char *why = date_problem(dates[i]);
        if (!paths[i] || why)
            return tc__fail(ctx, TC_ERR_INVALID_ARG, "archive from list: entry %zu: %s", i,
                            paths[i] ? why : "NULL path");
    }
    tc_archive *ar = calloc(1, sizeof *ar);
    if (ar)
        ar->items = calloc(n, sizeof *ar->items);
    if (!ar || !ar->items) {
        free(ar);
        return tc__fail(ctx, TC_ERR_NOMEM, "archive from list: out of memory");
    }
    tc_status st = TC_OK;
    for (size_t i = 0; i < n && st == TC_OK; i++) {
        archive_item *it = &ar->items[ar->n];
        if (!(it->path = tc__strdup(paths[i]))) {
            st = tc__fail(ctx, TC_ERR_NOMEM, "archive from list: out of memory");
            break;
        }
        it->name = base_name(it->path);
        it->date = dates[i];
        ar->n++;
    }
    if (st == TC_OK)
        st = archive_finish(ctx, ar, "archive from list");
    if (st != TC_OK) {
        tc_archive_free(ar);
        return st;
    }
    *out = ar;
    return TC_OK;
}

/* The date of one feature's field: an OGR date, or text in one of the two forms. */
static bool field_date(OGRFeatureH f, int idx, tc_date *d)
{
    OGRFieldType t = OGR_Fld_GetType(OGR_F_GetFieldDefnRef(f, idx));
    if (t == OFTDate || t == OFTDateTime) {
        int y, m, dd, hh, mm, tz;
        float ss;
        if (!OGR_F_GetFieldAsDateTimeEx(f, idx, &y, &m, &dd, &hh, &mm, &ss, &tz))
            return false;
        *d = (tc_date){y, m, dd};
        return date_problem(*d) == NULL;
    }
    const char *txt = OGR_F_GetFieldAsString(f, idx);
    char buf[16];
    size_t n = strlen(txt);
    if (n < 8 || n > 10 + 15)
        return false;
    /* "YYYY-MM-DD", "YYYYMMDD", or a timestamp starting with the former */
    snprintf(buf, sizeof buf, "%.*s", n >= 10 && txt[4] == '-' ? 10 : 8, txt);
    if (!(n == 8 || n == 10 || (n > 10 && txt[4] == '-' && (txt[10] == 'T' || txt[10] == ' '))))
        return false;
    if (strlen(buf) == 10 && !(all_digits(buf, 4) && buf[4] == '-' && all_digits(buf + 5, 2) &&
                               buf[7] == '-' && all_digits(buf + 8, 2)))
        return false;
    if (strlen(buf) == 8 && !all_digits(buf, 8))
        return false;
    int off = strlen(buf) == 10 ? 1 : 0;
    *d = (tc_date){digits_value(buf, 4), digits_value(buf + 4 + off, 2),
                   digits_value(buf + 6 + 2 * off, 2)};
    return date_problem(*d) == NULL;
}

tc_status tc_archive_open_layer(tc_ctx *ctx, const char *path, const tc_open_opts *opts,
                                const char *date_field, tc_archive **out)
{
    if (!ctx)
        return TC_ERR_INVALID_ARG;
    tc__clear(ctx);
    if (!path || !date_field || !out)
        return tc__fail(ctx, TC_ERR_INVALID_ARG, "archive layer: NULL argument");
    tc__gdal_push(ctx);
    tc_status st = TC_OK;
    tc_archive *ar = NULL;
    size_t cap = 0;
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY | GDAL_OF_VERBOSE_ERROR,
                                 NULL, NULL, NULL);
    OGRLayerH layer = NULL;
    if (!ds)
        st = tc__fail(ctx, TC_ERR_IO, "archive layer '%s': %s", path,
                      tc__gdal_msg(ctx, "cannot open"));
    else if (opts && opts->layer_name)
        layer = GDALDatasetGetLayerByName(ds, opts->layer_name);
    else if (GDALDatasetGetLayerCount(ds) > 0)
        layer = GDALDatasetGetLayer(ds, 0);
    if (st == TC_OK && !layer)
        st = tc__fail(ctx, TC_ERR_FORMAT, "archive layer '%s': no layer %s%s", path,
                      opts && opts->layer_name ? "named " : "",
                      opts && opts->layer_name ? opts->layer_name : "");
    int idx = layer ? OGR_FD_GetFieldIndex(OGR_L_GetLayerDefn(layer), date_field) : -1;
    if (st == TC_OK && idx < 0)
        st = tc__fail(ctx, TC_ERR_FORMAT, "archive layer '%s': no field '%s'", path, date_field);
    if (st == TC_OK && (!(ar = calloc(1, sizeof *ar))))
        st = tc__fail(ctx, TC_ERR_NOMEM, "archive layer: out of memory");
    OGRFeatureH f;
    if (st == TC_OK) {
        /* the dates only: a table of daily snapshots need not send its geometries here */
        const char *ignored[] = {"OGR_GEOMETRY", NULL};
        OGR_L_SetIgnoredFields(layer, ignored);
        OGR_L_ResetReading(layer);
    }
    while (st == TC_OK && (f = OGR_L_GetNextFeature(layer)) != NULL) {
        tc_date d;
        bool set = OGR_F_IsFieldSetAndNotNull(f, idx);
        if (set && !field_date(f, idx, &d)) {
            st = tc__fail(ctx, TC_ERR_FORMAT, "archive layer '%s' feature %ld: '%s' is not a date",
                          path, (long)OGR_F_GetFID(f), OGR_F_GetFieldAsString(f, idx));
        } else if (set) {
            bool seen = false;
            for (size_t i = 0; i < ar->n && !seen; i++)
                seen = tc_date_cmp(ar->items[i].date, d) == 0 &&
                       strstr(ar->items[i].where, OGR_F_GetFieldAsString(f, idx)) != NULL;
            if (!seen && ar->n == cap) {
                size_t nc = cap ? 2 * cap : 64;
                archive_item *ni = realloc(ar->items, nc * sizeof *ni);
                if (!ni)
                    st = tc__fail(ctx, TC_ERR_NOMEM, "archive layer: out of memory");
                else
                    ar->items = ni, cap = nc;
            }
            if (!seen && st == TC_OK) {
                /* the filter names the field's own text, quotes doubled */
                const char *raw = OGR_F_GetFieldAsString(f, idx);
                size_t len = 2 * strlen(raw) + 2 * strlen(date_field) + 16;
                archive_item *it = &ar->items[ar->n];
                memset(it, 0, sizeof *it);
                it->date = d;
                it->path = tc__strdup(path);
                it->layer = opts && opts->layer_name ? tc__strdup(opts->layer_name)
                                                     : tc__strdup(OGR_L_GetName(layer));
                it->where = malloc(len);
                ar->n++;
                if (!it->path || !it->layer || !it->where) {
                    st = tc__fail(ctx, TC_ERR_NOMEM, "archive layer: out of memory");
                } else {
                    char *w = it->where;
                    w += sprintf(w, "\"");
                    for (const char *c = date_field; *c; c++)
                        w += sprintf(w, *c == '"' ? "\"\"" : "%c", *c);
                    w += sprintf(w, "\" = '");
                    for (const char *c = raw; *c; c++)
                        w += sprintf(w, *c == '\'' ? "''" : "%c", *c);
                    sprintf(w, "'");
                    it->name = it->layer;
                }
            }
        }
        OGR_F_Destroy(f);
    }
    if (ds)
        GDALClose(ds);
    tc__gdal_pop();
    if (st == TC_OK && ar->n == 0)
        st = tc__fail(ctx, TC_ERR_NOT_FOUND, "archive layer '%s': no feature has a date in '%s'",
                      path, date_field);
    if (st == TC_OK)
        st = archive_finish(ctx, ar, path);
    if (st != TC_OK) {
        tc_archive_free(ar);
        return st;
    }
    *out = ar;
    return TC_OK;
}
