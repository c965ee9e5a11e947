/* Time series: equal to the report on every date, changes consistent, date selection,
 * archive gaps, and the same numbers whatever the number of worker threads. */
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tc_test.h"
#include "tc_test_digest.h"

/* ---- synthetic archive: one 1x1 degree unit, control advancing east day by day ---- */

static char syn_dir[4096];

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* control covering lon 37 .. 37 + frac, lat 46 .. 49 */
static void write_snapshot(const char *dir, const char *date, double frac)
{
    char path[4200], text[1024];
    snprintf(path, sizeof path, "%s/snap_%s.geojson", dir, date);
    snprintf(text, sizeof text,
             "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\","
             "\"properties\":{},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[36,46],"
             "[%.6f,46],[%.6f,49],[36,49],[36,46]]]}}]}",
             37 + frac, 37 + frac);
    write_file(path, text);
}

static int syn_setup(void **state)
{
    if (tc_test_ctx_setup(state) != 0)
        return -1;
    snprintf(syn_dir, sizeof syn_dir, "%s/series_XXXXXX", TC_TEST_TMP_DIR);
    if (!mkdtemp(syn_dir))
        return -1;
    char regions[4200];
    snprintf(regions, sizeof regions, "%s/regions.json", syn_dir);
    /* two units side by side: UA-14 (lon 37..38) and UA-12 (lon 36..37), so that the
     * uncontrolled part of UA-14 has uncontrolled land beyond it only when UA-12 has */
    write_file(regions,
               "{\"type\":\"FeatureCollection\",\"features\":["
               "{\"type\":\"Feature\",\"properties\":{\"shapeISO\":\"UA-14\",\"shapeName\":\"D\"},"
               "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[37,47],[38,47],[38,48],"
               "[37,48],[37,47]]]}},"
               "{\"type\":\"Feature\",\"properties\":{\"shapeISO\":\"UA-12\",\"shapeName\":\"P\"},"
               "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[38,47],[39,47],[39,48],"
               "[38,48],[38,47]]]}}]}");
    char arch[4200];
    snprintf(arch, sizeof arch, "%s/arch", syn_dir);
    mkdir(arch, 0777);
    /* 2025-01-01 .. 2025-01-10, without 01-04 and 01-05; 01-07 identical to 01-06 */
    write_snapshot(arch, "20250101", 0.10);
    write_snapshot(arch, "20250102", 0.20);
    write_snapshot(arch, "20250103", 0.15);
    write_snapshot(arch, "20250106", 0.40);
    write_snapshot(arch, "20250107", 0.40);
    write_snapshot(arch, "20250108", 0.50);
    write_snapshot(arch, "20250109", 0.55);
    write_snapshot(arch, "20250110", 0.60);
    return 0;
}

static int syn_teardown(void **state)
{
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", syn_dir);
    if (system(cmd) != 0)
        return -1;
    return tc_test_ctx_teardown(state);
}

typedef struct syn {
    tc_regionset *rs;
    tc_archive *arch;
} syn;

static void syn_open(tc_ctx *ctx, syn *s)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/regions.json", syn_dir);
    assert_tc_ok(ctx, tc_regionset_open(ctx, path, NULL, &s->rs));
    snprintf(path, sizeof path, "%s/arch", syn_dir);
    assert_tc_ok(ctx, tc_archive_open(ctx, path, &s->arch));
}

static void syn_close(syn *s)
{
    tc_archive_free(s->arch);
    tc_regionset_free(s->rs);
}

static tc_series_opts all_units(void)
{
    tc_series_opts o = TC_SERIES_OPTS_INIT;
    o.report.units = TC_UNITS_ALL;
    return o;
}

static void test_series_dates_and_gaps(void **state)
{
    tc_ctx *ctx = *state;
    syn s;
    syn_open(ctx, &s);
    tc_series_opts o = all_units();
    tc_series *se = NULL;
    assert_tc_ok(ctx, tc_series_new(ctx, s.rs, s.arch, &o, &se));
    /* rows only for snapshots that exist: 8, the missing 4th and 5th not invented */
    assert_int_equal(tc_series_count(se), 8);
    tc_date d = tc_series_get_date(se, 3);
    assert_int_equal(d.day, 6);
    assert_true(tc_series_is_unchanged(se, 4));  /* 01-07 has the bytes of 01-06 */
    assert_false(tc_series_is_unchanged(se, 3));
    tc_change c;
    assert_tc_ok(ctx, tc_series_get_change(se, 0, 0, &c));
    assert_false(c.valid); /* nothing before the first date */
    assert_tc_ok(ctx, tc_series_get_change(se, 4, 0, &c));
    assert_true(c.valid);
    assert_true(c.net_m2 == 0 && c.gained_m2 == 0 && c.lost_m2 == 0);
    tc_series_free(se);

    /* --from/--to */
    o.from = (tc_date){2025, 1, 2};
    o.to = (tc_date){2025, 1, 8};
    assert_tc_ok(ctx, tc_series_new(ctx, s.rs, s.arch, &o, &se));
    assert_int_equal(tc_series_count(se), 5); /* 02 03 06 07 08 */
    assert_int_equal(tc_series_get_date(se, 0).day, 2);
    assert_int_equal(tc_series_get_date(se, 4).day, 8);
    tc_series_free(se);

    /* --every 3: 01, then the first at least 3 days later (06), then 09 */
    o = all_units();
    o.every_days = 3;
    assert_tc_ok(ctx, tc_series_new(ctx, s.rs, s.arch, &o, &se));
    assert_int_equal(tc_series_count(se), 3);
    assert_int_equal(tc_series_get_date(se, 0).day, 1);
    assert_int_equal(tc_series_get_date(se, 1).day, 6);
    assert_int_equal(tc_series_get_date(se, 2).day, 9);
    tc_series_free(se);

    /* an empty range is NOT_FOUND, from after to is INVALID_ARG */
    o = all_units();
    o.from = (tc_date){2030, 1, 1};
    assert_tc_fails(ctx, tc_series_new(ctx, s.rs, s.arch, &o, &se), TC_ERR_NOT_FOUND);
    o.to = (tc_date){2029, 1, 1};
    assert_tc_fails(ctx, tc_series_new(ctx, s.rs, s.arch, &o, &se), TC_ERR_INVALID_ARG);
    syn_close(&s);
}

/* The change columns: net is the difference of consecutive controlled areas; gained and
 * lost follow the synthetic front (independent route: the strip between two meridians). */
static void test_series_changes_follow_the_front(void **state)
{
    tc_ctx *ctx = *state;
    syn s;
    syn_open(ctx, &s);
    tc_series_opts o = all_units();
    tc_series *se = NULL;
    assert_tc_ok(ctx, tc_series_new(ctx, s.rs, s.arch, &o, &se));
    size_t row = 0;
    while (strcmp(tc_regionset_get_code(s.rs, tc_series_get_unit(se, row)), "UA-14") != 0)
        row++;
    for (size_t d = 1; d < tc_series_count(se); d++) {
        tc_areas a, b;
        tc_change c;
        assert_tc_ok(ctx, tc_series_get_areas(se, d, row, &a));
        assert_tc_ok(ctx, tc_series_get_areas(se, d - 1, row, &b));
        assert_tc_ok(ctx, tc_series_get_change(se, d, row, &c));
        assert_true(c.net_m2 == a.controlled_m2 - b.controlled_m2);
        /* gained − lost is measured on the changed cells only, net on the whole unit: the
         * two routes agree to the overlay's rounding (1e-9 of the unit) */
        assert_true(fabs(c.net_m2 - (c.gained_m2 - c.lost_m2)) <= 1e-9 * a.land_m2);
        assert_true(c.gained_m2 == 0 || c.lost_m2 == 0); /* the front moves one way a day */
    }
    /* 01-02 -> 01-03: the front went back from 37.20 to 37.15: lost = that strip */
    tc_change c;
    assert_tc_ok(ctx, tc_series_get_change(se, 2, row, &c));
    double lon[2000], lat[2000];
    size_t k = 0;
    for (int i = 0; i <= 25; i++) lon[k] = 37.15 + i * 0.002, lat[k++] = 47;
    for (int i = 1; i <= 500; i++) lon[k] = 37.2, lat[k++] = 47 + i * 0.002;
    for (int i = 1; i <= 25; i++) lon[k] = 37.2 - i * 0.002, lat[k++] = 48;
    for (int i = 1; i < 500; i++) lon[k] = 37.15, lat[k++] = 48 - i * 0.002;
    double strip = 0;
    assert_tc_ok(ctx, tc_ring_area_m2(ctx, lon, lat, k, &strip));
    assert_close(c.lost_m2, strip, 1e-9);
    assert_true(c.gained_m2 == 0);
    tc_series_free(se);
    syn_close(&s);
}

/* Series rows equal the one-snapshot report on every date, field by field. */
static void check_equals_reports(tc_ctx *ctx, const tc_regionset *rs, const tc_series *se,
                                 const tc_report_opts *ro)
{
    for (size_t d = 0; d < tc_series_count(se); d++) {
        tc_snapshot *snap = NULL;
        tc_report *rep = NULL;
        assert_tc_ok(ctx, tc_snapshot_open(ctx, tc_series_get_path(se, d), NULL, &snap));
        assert_tc_ok(ctx, tc_report_new(ctx, rs, snap, ro, &rep));
        assert_int_equal(tc_report_count(rep), tc_series_row_count(se));
        for (size_t r = 0; r < tc_report_count(rep); r++) {
            tc_areas a, b;
            assert_tc_ok(ctx, tc_report_get_areas(rep, r, &a));
            assert_tc_ok(ctx, tc_series_get_areas(se, d, r, &b));
            /* two routes: the series cuts each unit into grid cells and sums fragments,
             * the report overlays it whole; inputs noded at the grid lines make the two
             * agree to rounding (about 1e-16). The brief asks 1e-9. */
            const double tol = 1e-9 * a.land_m2;
            assert_true(a.land_m2 == b.land_m2);
            const double *fa[] = {&a.controlled_m2, &a.gap_m2, &a.sliver_m2, &a.enclosed_m2};
            const double *fb[] = {&b.controlled_m2, &b.gap_m2, &b.sliver_m2, &b.enclosed_m2};
            for (int k = 0; k < 4; k++)
                if (!(fabs(*fa[k] - *fb[k]) <= tol))
                    fail_msg("date %zu row %zu figure %d: report %.9f km2, series %.9f km2", d,
                             r, k, *fa[k] / 1e6, *fb[k] / 1e6);
            if (!(fabs(a.front_m - b.front_m) <= 1e-9 * fmax(a.front_m, 1000.0)))
                fail_msg("date %zu row %zu front: report %.6f km, series %.6f km", d, r,
                         a.front_m / 1e3, b.front_m / 1e3);
            assert_int_equal(a.n_gap, b.n_gap);
            assert_int_equal(a.n_sliver, b.n_sliver);
            assert_int_equal(a.n_enclosed, b.n_enclosed);
        }
        tc_areas ta, tb;
        assert_tc_ok(ctx, tc_report_get_claim_total(rep, &ta));
        assert_tc_ok(ctx, tc_series_get_claim_total(se, d, &tb));
        assert_true(fabs(ta.controlled_m2 - tb.controlled_m2) <= 1e-9 * ta.land_m2);
        double oa = 0, ob = 0;
        tc_areas ca;
        assert_tc_ok(ctx, tc_report_get_outside_m2(rep, &oa));
        assert_tc_ok(ctx, tc_series_get_outside_m2(se, d, &ob));
        assert_tc_ok(ctx, tc_report_get_country_total(rep, &ca));
        assert_true(fabs(oa - ob) <= 1e-9 * ca.land_m2);
        tc_report_free(rep);
        tc_snapshot_free(snap);
    }
}

static void test_series_synthetic_equals_report(void **state)
{
    tc_ctx *ctx = *state;
    syn s;
    syn_open(ctx, &s);
    tc_series_opts o = all_units();
    tc_series *se = NULL;
    assert_tc_ok(ctx, tc_series_new(ctx, s.rs, s.arch, &o, &se));
    check_equals_reports(ctx, s.rs, se, &o.report);
    tc_series_free(se);
    syn_close(&s);
}

/* Meridian arc length on WGS84 between two latitudes (degrees), by Simpson's rule on the
 * radius of curvature M(phi) = a (1 - e2) / (1 - e2 sin^2 phi)^(3/2): an independent
 * route to the front line's length. */
static double meridian_arc_m(double lat1, double lat2)
{
    const double a = 6378137.0, f = 1 / 298.257223563, e2 = f * (2 - f);
    const double rad = 3.14159265358979323846 / 180;
    const int n = 1000; /* even */
    double h = (lat2 - lat1) * rad / n, sum = 0;
    for (int i = 0; i <= n; i++) {
        double phi = lat1 * rad + i * h, s2 = sin(phi) * sin(phi);
        double m = a * (1 - e2) / pow(1 - e2 * s2, 1.5);
        sum += m * (i == 0 || i == n ? 1 : (i % 2 ? 4 : 2));
    }
    return sum * h / 3;
}

/* The synthetic front is the meridian lon = 37 + frac across the unit (lat 47..48). */
static void test_series_front_line(void **state)
{
    tc_ctx *ctx = *state;
    syn s;
    syn_open(ctx, &s);
    tc_series_opts o = all_units();
    o.report.front_line = true;
    tc_series *se = NULL;
    assert_tc_ok(ctx, tc_series_new(ctx, s.rs, s.arch, &o, &se));
    double want = meridian_arc_m(47, 48);
    for (size_t d = 0; d < tc_series_count(se); d++) {
        tc_areas c;
        assert_tc_ok(ctx, tc_series_get_country_total(se, d, &c));
        /* vertices every 0.002 deg along the meridian: chords of a meridian are the
         * meridian itself, so only rounding separates the two: 1e-9 */
        assert_close(c.front_m, want, 1e-9);
    }
    tc_series_free(se);
    syn_close(&s);
}

/* One GeoJSON layer of three days (a "day" field), each day's control the synthetic
 * archive's of 2025-01-01..03 (fronts at 37.10, 37.20 and last), in two features. */
static void write_history(const char *path, double last)
{
    const double frac[3] = {0.10, 0.20, last};
    const char *day[3] = {"2025-01-01", "2025-01-02", "20250103"}; /* both text forms */
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"type\":\"FeatureCollection\",\"features\":[", f);
    for (int k = 0; k < 3; k++)
        for (int half = 0; half < 2; half++) /* two features a day: their union counts */
            fprintf(f, "%s{\"type\":\"Feature\",\"properties\":{\"day\":\"%s\"},"
                       "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[36,%d],"
                       "[%.6f,%d],[%.6f,%d],[36,%d],[36,%d]]]}}",
                    k || half ? "," : "", day[k], 46 + 2 * half, 37 + frac[k], 46 + 2 * half,
                    37 + frac[k], 47 + 2 * half + (half ? 0 : 1), 47 + 2 * half + (half ? 0 : 1),
                    46 + 2 * half);
    fputs("]}", f);
    fclose(f);
}

/* Other archive sources: one layer with a date field (here a GeoJSON with a "day"
 * property; a GeoPackage or PostGIS table reads the same through OGR), and an explicit
 * list; both give the series of the dated directory. */
static void test_series_layer_and_list_archives(void **state)
{
    tc_ctx *ctx = *state;
    syn s;
    syn_open(ctx, &s);
    char path[4200];
    snprintf(path, sizeof path, "%s/history.geojson", syn_dir);
    write_history(path, 0.15);

    tc_archive *layer = NULL, *list = NULL;
    assert_tc_ok(ctx, tc_archive_open_layer(ctx, path, NULL, "day", &layer));
    assert_int_equal(tc_archive_count(layer), 3);
    assert_int_equal(tc_archive_get_date(layer, 2).day, 3);
    assert_non_null(tc_archive_get_filter(layer, 0));
    const char *paths[3];
    char p[3][4200];
    tc_date dates[3];
    for (int k = 0; k < 3; k++) {
        snprintf(p[k], sizeof p[k], "%s/arch/snap_2025010%d.geojson", syn_dir, 3 - k);
        paths[k] = p[k]; /* given out of order: the archive sorts */
        dates[k] = (tc_date){2025, 1, 3 - k};
    }
    assert_tc_ok(ctx, tc_archive_new(ctx, paths, dates, 3, &list));
    assert_null(tc_archive_get_filter(list, 0));

    tc_series_opts o = all_units();
    o.to = (tc_date){2025, 1, 3};
    tc_series *a = NULL, *b = NULL, *c = NULL;
    assert_tc_ok(ctx, tc_series_new(ctx, s.rs, s.arch, &o, &a));
    assert_tc_ok(ctx, tc_series_new(ctx, s.rs, layer, &o, &b));
    assert_tc_ok(ctx, tc_series_new(ctx, s.rs, list, &o, &c));
    assert_int_equal(tc_series_count(a), 3);
    assert_int_equal(tc_series_count(b), 3);
    assert_int_equal(tc_series_count(c), 3);
    for (size_t d = 0; d < 3; d++)
        for (size_t r = 0; r < tc_series_row_count(a); r++) {
            tc_areas x, y, z;
            assert_tc_ok(ctx, tc_series_get_areas(a, d, r, &x));
            assert_tc_ok(ctx, tc_series_get_areas(b, d, r, &y));
            assert_tc_ok(ctx, tc_series_get_areas(c, d, r, &z));
            /* the layer's two half-features per day are unioned: the same land, to the
             * rounding of that union (1e-12) */
            assert_close(y.controlled_m2, x.controlled_m2, 1e-12);
            assert_true(z.controlled_m2 == x.controlled_m2);
        }
    tc_series_free(a);
    tc_series_free(b);
    tc_series_free(c);

    /* failures: no such field, a value that is not a date, duplicate dates in a list */
    tc_archive *bad = NULL;
    assert_tc_fails(ctx, tc_archive_open_layer(ctx, path, NULL, "nope", &bad), TC_ERR_FORMAT);
    char regions[4200];
    snprintf(regions, sizeof regions, "%s/regions.json", syn_dir);
    assert_tc_fails(ctx, tc_archive_open_layer(ctx, regions, NULL, "shapeName", &bad),
                    TC_ERR_FORMAT);
    dates[1] = dates[0];
    assert_tc_fails(ctx, tc_archive_new(ctx, paths, dates, 3, &bad), TC_ERR_FORMAT);
    assert_null(bad);
    tc_archive_free(layer);
    tc_archive_free(list);
    syn_close(&s);
}

/* ---- the real archive ---- */

/* Every date's rows and changes, byte for byte. */
static void assert_same_series(tc_ctx *ctx, const tc_series *one, const tc_series *two)
{
    assert_int_equal(tc_series_count(one), tc_series_count(two));
    size_t nr = tc_series_row_count(one);
    assert_int_equal(nr, tc_series_row_count(two));
    for (size_t d = 0; d < tc_series_count(one); d++)
        for (size_t r = 0; r < nr + 2; r++) {
            tc_change a, b;
            assert_tc_ok(ctx, tc_series_get_change(one, d, r, &a));
            assert_tc_ok(ctx, tc_series_get_change(two, d, r, &b));
            assert_memory_equal(&a, &b, sizeof a);
            if (r < nr) {
                tc_areas x, y;
                assert_tc_ok(ctx, tc_series_get_areas(one, d, r, &x));
                assert_tc_ok(ctx, tc_series_get_areas(two, d, r, &y));
                assert_memory_equal(&x, &y, sizeof x);
            }
        }
}

/* Bytes of a file (malloc'd; *n its size). */
static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long sz = ftell(f);
    assert_true(sz > 0);
    rewind(f);
    unsigned char *p = malloc((size_t)sz);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)sz, f), (size_t)sz);
    fclose(f);
    *n = (size_t)sz;
    return p;
}

static void spill(const char *path, const unsigned char *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
}

/* The one file in dir whose name ends with suffix (path into out). */
static void find_file(const char *dir, const char *suffix, char *out, size_t len)
{
    DIR *dh = opendir(dir);
    assert_non_null(dh);
    struct dirent *de;
    size_t ns = strlen(suffix), found = 0;
    while ((de = readdir(dh)) != NULL) {
        size_t nd = strlen(de->d_name);
        if (nd > ns && !strcmp(de->d_name + nd - ns, suffix)) {
            snprintf(out, len, "%s/%s", dir, de->d_name);
            found++;
        }
    }
    closedir(dh);
    assert_int_equal(found, 1);
}

/* Stored results and rows of a cache directory removed: computed again. */
static void rm_results(const char *dir)
{
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s/results'", dir);
    assert_int_equal(system(cmd), 0);
}

static tc_regionset *cached_set(tc_ctx *ctx, const char *regions, const char *dir)
{
    tc_regionset_opts ro = TC_REGIONSET_OPTS_INIT;
    ro.cache_dir = dir;
    tc_regionset *rs = NULL;
    assert_tc_ok(ctx, tc_regionset_open(ctx, regions, &ro, &rs));
    return rs;
}

/* A series' tiles are cut once and kept beside the region set's cache file: a series that
 * reads them gives the same bytes as one that cut them, and as one without any cache; a
 * damaged copy (a flipped byte) or a sound file of other inputs under its name is never
 * used: cut again, the same numbers, the file written again as it was. */
static void test_series_tiles_cached(void **state)
{
    tc_ctx *ctx = *state;
    syn s;
    syn_open(ctx, &s); /* no cache */
    char regions[4200], other[4200], dir[4200], dir2[4200], t0[4400], t2[4400];
    snprintf(regions, sizeof regions, "%s/regions.json", syn_dir);
    snprintf(dir, sizeof dir, "%s/cache", syn_dir);
    snprintf(dir2, sizeof dir2, "%s/cache2", syn_dir);
    tc_regionset *rs = cached_set(ctx, regions, dir);
    tc_series_opts o = all_units();
    tc_series *plain = NULL, *cut = NULL, *read = NULL;
    assert_tc_ok(ctx, tc_series_new(ctx, s.rs, s.arch, &o, &plain));
    assert_tc_ok(ctx, tc_series_new(ctx, rs, s.arch, &o, &cut)); /* writes UA-14's tiles */
    find_file(dir, ".tiles-0", t0, sizeof t0);
    o.jobs = 2;
    rm_results(dir); /* (stored rows would answer every date without the tiles) */
    assert_tc_ok(ctx, tc_series_new(ctx, rs, s.arch, &o, &read)); /* reads them */
    assert_same_series(ctx, plain, cut);
    assert_same_series(ctx, plain, read);
    tc_series_free(read);

    /* other inputs (UA-14 a little taller): their own, sound tiles file */
    snprintf(other, sizeof other, "%s/regions2.json", syn_dir);
    write_file(other,
               "{\"type\":\"FeatureCollection\",\"features\":["
               "{\"type\":\"Feature\",\"properties\":{\"shapeISO\":\"UA-14\"},"
               "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[37,47],[38,47],"
               "[38,48.01],[37,48.01],[37,47]]]}}]}");
    tc_regionset *rs2 = cached_set(ctx, other, dir2);
    assert_tc_ok(ctx, tc_series_new(ctx, rs2, s.arch, &o, &read));
    tc_series_free(read);
    tc_regionset_free(rs2);
    find_file(dir2, ".tiles-0", t2, sizeof t2);

    size_t n0 = 0, n2 = 0;
    unsigned char *good = slurp(t0, &n0), *foreign = slurp(t2, &n2);
    for (int how = 0; how < 2; how++) {
        if (how == 0) { /* a flipped byte in the middle */
            unsigned char *bad = malloc(n0);
            assert_non_null(bad);
            memcpy(bad, good, n0);
            bad[n0 / 2] ^= 0x04;
            spill(t0, bad, n0);
            free(bad);
        } else {
            spill(t0, foreign, n2);
        }
        read = NULL;
        rm_results(dir);
        assert_tc_ok(ctx, tc_series_new(ctx, rs, s.arch, &o, &read));
        assert_same_series(ctx, plain, read);
        tc_series_free(read);
        size_t n = 0;
        unsigned char *now = slurp(t0, &n);
        assert_int_equal(n, n0); /* written again, as it was */
        assert_memory_equal(now, good, n0);
        free(now);
    }
    free(good);
    free(foreign);
    tc_series_free(plain);
    tc_series_free(cut);
    tc_regionset_free(rs);
    syn_close(&s);
}

/* In the one stored-rows file of cache directory dir, every copy of the first row's
 * controlled figure of date d of se replaced by another value (at least min_hits of them),
 * the file re-signed; returns the new value. */
static double forge_rows(tc_ctx *ctx, const tc_series *se, size_t d, const char *dir,
                         size_t min_hits)
{
    char res[4400], rows[4800] = "";
    snprintf(res, sizeof res, "%s/results", dir);
    DIR *dh = opendir(res);
    assert_non_null(dh);
    struct dirent *de;
    size_t n_rows_files = 0;
    while ((de = readdir(dh)) != NULL) {
        char p[4800];
        snprintf(p, sizeof p, "%s/%.255s", res, de->d_name);
        FILE *f = fopen(p, "rb");
        char magic[21] = "";
        if (f && fread(magic, 1, 20, f) == 20 && !memcmp(magic, "TCLAIMS-SERIES-ROWS\n", 20))
            snprintf(rows, sizeof rows, "%s", p), n_rows_files++;
        if (f)
            fclose(f);
    }
    closedir(dh);
    assert_int_equal(n_rows_files, 1); /* one file for a set and its options */
    tc_areas a;
    assert_tc_ok(ctx, tc_series_get_areas(se, d, 0, &a));
    double was = a.controlled_m2, forged = was + 1e6;
    size_t n = 0, hits = 0;
    unsigned char *p = slurp(rows, &n);
    for (size_t i = 0; i + 8 <= n - 16; i++)
        if (!memcmp(p + i, &was, 8)) {
            memcpy(p + i, &forged, 8);
            hits++;
        }
    assert_true(hits >= min_hits);
    tc_test_put_digest(p, n);
    spill(rows, p, n);
    free(p);
    return forged;
}

/* Stored rows (lib/series.c): with a cache, a series stores each date's figures and changes
 * under the bytes of its snapshot and of the one before, and a later series reads them
 * instead of computing. (1) Series that find none, some or all of their dates stored
 * (shorter, longer, starting later, every third day; one and two jobs) give the bytes of
 * the same series without a cache. (2) What is stored is what is read: a figure altered
 * under a sound checksum comes back (the one way to see them used without a clock).
 * (3) A snapshot rewritten on disk is computed again, never served stale. (4) The same
 * for a layer archive, whose dates are keyed by their features as read. */
static void test_series_rows_stored(void **state)
{
    tc_ctx *ctx = *state;
    syn s;
    syn_open(ctx, &s); /* no cache: the reference */
    char regions[4200], dir[4200], arch[4200];
    snprintf(regions, sizeof regions, "%s/regions.json", syn_dir);
    snprintf(dir, sizeof dir, "%s/rowcache", syn_dir);
    snprintf(arch, sizeof arch, "%s/arch", syn_dir);
    tc_regionset *rs = cached_set(ctx, regions, dir);
    const struct {
        tc_date from, to;
        unsigned every, jobs;
    } runs[] = {
        {{0, 0, 0}, {2025, 1, 7}, 0, 1}, /* five dates, stored */
        {{0, 0, 0}, {0, 0, 0}, 0, 2},    /* five read, three computed after a warm-up */
        {{0, 0, 0}, {0, 0, 0}, 0, 1},    /* all read */
        {{2025, 1, 3}, {0, 0, 0}, 0, 2}, /* a first date without a change: its own entry */
        {{0, 0, 0}, {0, 0, 0}, 3, 1},    /* other previous dates: other changes */
        {{0, 0, 0}, {0, 0, 0}, 3, 2},
    };
    tc_series_opts o = all_units();
    tc_series *ref = NULL, *got = NULL;
    for (size_t k = 0; k < sizeof runs / sizeof runs[0]; k++) {
        o = all_units();
        o.from = runs[k].from;
        o.to = runs[k].to;
        o.every_days = runs[k].every;
        o.jobs = runs[k].jobs;
        assert_tc_ok(ctx, tc_series_new(ctx, s.rs, s.arch, &o, &ref));
        assert_tc_ok(ctx, tc_series_new(ctx, rs, s.arch, &o, &got));
        assert_same_series(ctx, ref, got);
        tc_series_free(got);
        if (k + 1 < sizeof runs / sizeof runs[0])
            tc_series_free(ref);
    }
    tc_series_free(ref);

    /* (2) every stored copy of 01-06's first controlled figure altered, the file re-signed */
    o = all_units();
    assert_tc_ok(ctx, tc_series_new(ctx, s.rs, s.arch, &o, &ref));
    assert_int_equal(tc_series_get_date(ref, 3).day, 6);
    /* 01-06 and 01-07 (the same bytes), maybe more */
    double forged = forge_rows(ctx, ref, 3, dir, 2);
    assert_tc_ok(ctx, tc_series_new(ctx, rs, s.arch, &o, &got));
    tc_areas a;
    assert_tc_ok(ctx, tc_series_get_areas(got, 3, 0, &a));
    assert_true(a.controlled_m2 == forged);
    tc_series_free(got);
    rm_results(dir);

    /* (3) 01-08 rewritten (front at 37.45, not 37.50), then put back */
    char path[4400];
    snprintf(path, sizeof path, "%s/snap_20250108.geojson", arch);
    assert_tc_ok(ctx, tc_series_new(ctx, rs, s.arch, &o, &got)); /* stores every date */
    tc_series_free(got);
    for (int back = 0; back < 2; back++) {
        write_snapshot(arch, "20250108", back ? 0.50 : 0.45);
        tc_series *fresh = NULL;
        assert_tc_ok(ctx, tc_series_new(ctx, s.rs, s.arch, &o, &fresh));
        assert_tc_ok(ctx, tc_series_new(ctx, rs, s.arch, &o, &got));
        assert_same_series(ctx, fresh, got);
        tc_areas x, y;
        assert_tc_ok(ctx, tc_series_get_areas(got, 5, 0, &x));
        assert_tc_ok(ctx, tc_series_get_areas(ref, 5, 0, &y));
        assert_true(back ? x.controlled_m2 == y.controlled_m2 : x.controlled_m2 != y.controlled_m2);
        tc_series_free(fresh);
        tc_series_free(got);
    }
    tc_series_free(ref);

    /* (4) a layer read date by date with a filter: keyed by its features as read */
    char hist[4200];
    snprintf(hist, sizeof hist, "%s/history_rows.geojson", syn_dir);
    write_history(hist, 0.15);
    tc_archive *layer = NULL;
    assert_tc_ok(ctx, tc_archive_open_layer(ctx, hist, NULL, "day", &layer));
    rm_results(dir);
    assert_tc_ok(ctx, tc_series_new(ctx, s.rs, layer, &o, &ref));
    for (int k = 0; k < 2; k++) { /* stored, then read */
        assert_tc_ok(ctx, tc_series_new(ctx, rs, layer, &o, &got));
        assert_same_series(ctx, ref, got);
        tc_series_free(got);
    }
    double forged2 = forge_rows(ctx, ref, 1, dir, 1);
    assert_tc_ok(ctx, tc_series_new(ctx, rs, layer, &o, &got));
    assert_tc_ok(ctx, tc_series_get_areas(got, 1, 0, &a));
    assert_true(a.controlled_m2 == forged2);
    tc_series_free(got);
    write_history(hist, 0.25); /* the third day's features changed: computed again */
    tc_series *fresh = NULL;
    assert_tc_ok(ctx, tc_series_new(ctx, s.rs, layer, &o, &fresh));
    assert_tc_ok(ctx, tc_series_new(ctx, rs, layer, &o, &got));
    tc_areas x, y;
    assert_tc_ok(ctx, tc_series_get_areas(got, 2, 0, &x));
    assert_tc_ok(ctx, tc_series_get_areas(fresh, 2, 0, &y));
    assert_true(x.controlled_m2 == y.controlled_m2);
    assert_tc_ok(ctx, tc_series_get_areas(ref, 2, 0, &y));
    assert_true(x.controlled_m2 != y.controlled_m2);
    tc_series_free(fresh);
    tc_series_free(got);
    tc_series_free(ref);
    tc_archive_free(layer);
    tc_regionset_free(rs);
    syn_close(&s);
}

static void test_series_real_equals_report_and_jobs(void **state)
{
    tc_ctx *ctx = *state;
    tc_test_real r;
    tc_test_real_paths(&r);
    char *arch_dir = r.snap;
    *strrchr(arch_dir, '/') = '\0';
    tc_regionset *rs = tc_test_real_set(ctx, &r);
    tc_archive *arch = NULL;
    assert_tc_ok(ctx, tc_archive_open(ctx, arch_dir, &arch));
    /* ten days around the reference date (four under valgrind, TC_TEST_SKIP_HEAVY: each
     * worker still cuts every touched unit into tiles and updates them) */
    tc_series_opts o = TC_SERIES_OPTS_INIT;
    const char *heavy = getenv("TC_TEST_SKIP_HEAVY");
    o.from = (tc_date){2025, 8, heavy && *heavy ? 30 : 27};
    o.to = (tc_date){2025, 9, heavy && *heavy ? 2 : 5};
    tc_series *one = NULL, *two = NULL;
    assert_tc_ok(ctx, tc_series_new(ctx, rs, arch, &o, &one));
    o.jobs = 2;
    assert_tc_ok(ctx, tc_series_new(ctx, rs, arch, &o, &two));
    assert_same_series(ctx, one, two); /* byte-identical whatever the jobs */
    check_equals_reports(ctx, rs, one, &o.report);
    print_message("# %zu dates, jobs 1 and 2 identical, equal to the report\n",
                  tc_series_count(one));
    tc_series_free(one);
    tc_series_free(two);
    tc_archive_free(arch);
    tc_regionset_free(rs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_series_dates_and_gaps),
        cmocka_unit_test(test_series_changes_follow_the_front),
        cmocka_unit_test(test_series_synthetic_equals_report),
        cmocka_unit_test(test_series_front_line),
        cmocka_unit_test(test_series_layer_and_list_archives),
        cmocka_unit_test(test_series_tiles_cached),
        cmocka_unit_test(test_series_rows_stored),
        cmocka_unit_test(test_series_real_equals_report_and_jobs),
    };
    return cmocka_run_group_tests_name("series", tests, syn_setup, syn_teardown);
}
