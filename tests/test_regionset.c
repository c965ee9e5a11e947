/* The region set's lazy preparation and its per-unit cache (regionset.h, docs/method.md):
 * a unit prepared on demand gives the same numbers, bit for bit, as one built in the same
 * process; a cache extended by a later report is valid; a damaged entry is rebuilt, never
 * served; building with a helper thread changes nothing, errors included. Synthetic units
 * (suite unit) and, when present, the shared data (the two *_real cases). */
#include "tc_test.h"

#include <dirent.h>
#include "tc_test_digest.h"
#include <fcntl.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#define BOUNDARIES "boundaries/geoBoundaries-UKR-ADM1.geojson"
#define LAND "land/ne_10m_land_ukraine_region.geojson"
#define SNAP_A "control/deepstate/deepstatemap_data_20250901.geojson"
#define SNAP_B "control/deepstate/deepstatemap_data_20240708.geojson"

/* ---- fixtures ---- */

static void square(sbuf *b, double x0, double y0, double w, double h)
{
    sb_printf(b, "[[[%g,%g],[%g,%g],[%g,%g],[%g,%g],[%g,%g]]]", x0, y0, x0 + w, y0, x0 + w,
              y0 + h, x0, y0 + h, x0, y0);
}

/* Five units in a row, 0.5 degree squares from lon 30; UA-09 comes as two features (two
 * halves), so that its parts are merged after reading. */
static const char *units_file(void)
{
    static const char *const codes[] = {"UA-14", "UA-09", "UA-23", "UA-65", "UA-43"};
    sbuf b = {0};
    sb_printf(&b, "{\"type\":\"FeatureCollection\",\"features\":[");
    for (int i = 0; i < 5; i++) {
        int halves = i == 1 ? 2 : 1;
        for (int k = 0; k < halves; k++) {
            sb_printf(&b, "%s{\"type\":\"Feature\",\"properties\":{\"shapeISO\":\"%s\","
                          "\"shapeName\":\"Unit %d\"},\"geometry\":{\"type\":\"Polygon\","
                          "\"coordinates\":",
                      i || k ? "," : "", codes[i], i);
            square(&b, 30 + 0.5 * i, 48 + 0.25 * k, 0.5, 0.5 / halves);
            sb_printf(&b, "}}");
        }
    }
    sb_printf(&b, "]}");
    const char *path = tc_test_write("rs_units.geojson", b.p);
    free(b.p);
    return path;
}

/* Land: everything but a bay cut into the south of the 4th unit. */
static const char *land_file(void)
{
    return tc_test_write("rs_land.geojson",
                         "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\","
                         "\"properties\":{},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":"
                         "[[[29,47],[31.6,47],[31.6,48.2],[31.8,48.2],[31.8,47],[33,47],[33,49],"
                         "[29,49],[29,47]]]}}]}");
}

/* Control over parts of the 2nd and 3rd units only (the others untouched). */
static const char *snap_file(const char *name, double east)
{
    sbuf b = {0};
    sb_printf(&b, "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\","
                  "\"properties\":{},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":");
    square(&b, 30.7, 48.1, east - 30.7, 0.3);
    sb_printf(&b, "}}]}");
    const char *path = tc_test_write(name, b.p);
    free(b.p);
    return path;
}

/* Files in dir whose names start with prefix. */
static int count_files(const char *dir, const char *prefix)
{
    DIR *dh = opendir(dir);
    struct dirent *de;
    int n = 0;
    while (dh && (de = readdir(dh)) != NULL)
        n += de->d_name[0] != '.' && strncmp(de->d_name, prefix, strlen(prefix)) == 0 &&
             !strstr(de->d_name, ".tmp");
    if (dh)
        closedir(dh);
    return n;
}

static const char *cache_dir(const char *name)
{
    static char buf[4][4096];
    static int slot;
    char *dir = buf[slot++ % 4];
    const char *tmp = getenv("TC_TEST_TMPDIR");
    snprintf(dir, 4096, "%s/%s", tmp && *tmp ? tmp : TC_TEST_TMP_DIR, name);
    mkdir(dir, 0777);
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s/results'", dir); /* stored results: start empty */
    assert_int_equal(system(cmd), 0);
    DIR *dh = opendir(dir);
    struct dirent *de;
    while (dh && (de = readdir(dh)) != NULL) { /* start empty */
        char path[8192];
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        unlink(path);
    }
    if (dh)
        closedir(dh);
    return dir;
}

/* The one cache file in dir, and its size. */
static long cache_file(const char *dir, char *path, size_t len)
{
    DIR *dh = opendir(dir);
    struct dirent *de;
    path[0] = '\0';
    while (dh && (de = readdir(dh)) != NULL)
        if (strncmp(de->d_name, "regionset-", 10) == 0 && !strstr(de->d_name, ".tmp"))
            snprintf(path, len, "%s/%s", dir, de->d_name);
    if (dh)
        closedir(dh);
    if (!path[0])
        fail_msg("no cache file in %s", dir);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    return (long)sb.st_size;
}

static tc_regionset *open_set(tc_ctx *ctx, const char *units, const char *land,
                              const char *dir, unsigned jobs)
{
    tc_regionset_opts o = TC_REGIONSET_OPTS_INIT;
    o.land_path = land;
    o.cache_dir = dir;
    o.jobs = jobs;
    tc_regionset *rs = NULL;
    assert_tc_ok(ctx, tc_regionset_open(ctx, units, &o, &rs));
    return rs;
}

static tc_report *report(tc_ctx *ctx, const tc_regionset *rs, const tc_snapshot *snap,
                         unsigned jobs)
{
    tc_report_opts ro = TC_REPORT_OPTS_INIT;
    ro.units = TC_UNITS_ALL;
    ro.jobs = jobs;
    tc_report *r = NULL;
    assert_tc_ok(ctx, tc_report_new(ctx, rs, snap, &ro, &r));
    return r;
}

static bool same_areas(const tc_areas *a, const tc_areas *b)
{
    return a->classified == b->classified && a->admin_m2 == b->admin_m2 &&
           a->land_m2 == b->land_m2 && a->controlled_m2 == b->controlled_m2 &&
           a->gap_m2 == b->gap_m2 && a->sliver_m2 == b->sliver_m2 &&
           a->enclosed_m2 == b->enclosed_m2 && a->n_gap == b->n_gap &&
           a->n_sliver == b->n_sliver && a->n_enclosed == b->n_enclosed &&
           a->front_m == b->front_m && (a->closure_rel == b->closure_rel ||
                                        (isnan(a->closure_rel) && isnan(b->closure_rel)));
}

/* Every row, the claim, the country and the outside figure, bit for bit. */
static void assert_same_report(const tc_report *a, const tc_report *b, const char *what)
{
    assert_int_equal(tc_report_count(a), tc_report_count(b));
    tc_areas x, y;
    for (size_t i = 0; i < tc_report_count(a); i++) {
        assert_int_equal(tc_report_get_unit(a, i), tc_report_get_unit(b, i));
        assert_int_equal(tc_report_get_areas(a, i, &x), TC_OK);
        assert_int_equal(tc_report_get_areas(b, i, &y), TC_OK);
        if (!same_areas(&x, &y))
            fail_msg("%s: row %zu differs (controlled %.17g vs %.17g, gap %.17g vs %.17g)",
                     what, i, x.controlled_m2, y.controlled_m2, x.gap_m2, y.gap_m2);
    }
    assert_int_equal(tc_report_get_claim_total(a, &x), TC_OK);
    assert_int_equal(tc_report_get_claim_total(b, &y), TC_OK);
    if (!same_areas(&x, &y))
        fail_msg("%s: claim totals differ", what);
    assert_int_equal(tc_report_get_country_total(a, &x), TC_OK);
    assert_int_equal(tc_report_get_country_total(b, &y), TC_OK);
    if (!same_areas(&x, &y))
        fail_msg("%s: country totals differ", what);
    double o1 = -1, o2 = -2;
    assert_int_equal(tc_report_get_outside_m2(a, &o1), TC_OK);
    assert_int_equal(tc_report_get_outside_m2(b, &o2), TC_OK);
    assert_true(o1 == o2);
}

static void assert_same_set(tc_ctx *ctx, const tc_regionset *a, const tc_regionset *b)
{
    assert_int_equal(tc_regionset_count(a), tc_regionset_count(b));
    for (size_t i = 0; i < tc_regionset_count(a); i++) {
        double a1 = -1, l1 = -1, a2 = -2, l2 = -2;
        assert_string_equal(tc_regionset_get_code(a, i), tc_regionset_get_code(b, i));
        assert_string_equal(tc_regionset_get_name(a, i), tc_regionset_get_name(b, i));
        assert_tc_ok(ctx, tc_regionset_areas_m2(ctx, a, i, &a1, &l1));
        assert_tc_ok(ctx, tc_regionset_areas_m2(ctx, b, i, &a2, &l2));
        assert_true(a1 == a2);
        assert_true(l1 == l2);
    }
}

static void free_all(tc_report **r, size_t nr, tc_regionset **sets, size_t ns, tc_snapshot *s1,
                     tc_snapshot *s2)
{
    for (size_t i = 0; i < nr; i++)
        tc_report_free(r[i]);
    for (size_t i = 0; i < ns; i++)
        tc_regionset_free(sets[i]);
    tc_snapshot_free(s1);
    tc_snapshot_free(s2);
}

/* ---- synthetic units ---- */

/* Built in this process (every land in memory, strips on demand), read back from a cache
 * (nothing parsed until a report asks), and from the cache the first report extended: the
 * same numbers for two snapshots, bit for bit. The untouched units get only their areas. */
static void test_regionset_lazy_same_numbers(void **state)
{
    tc_ctx *ctx = *state;
    const char *units = units_file(), *land = land_file(), *dir = cache_dir("rs_lazy");
    tc_snapshot *s1 = NULL, *s2 = NULL;
    assert_tc_ok(ctx, tc_snapshot_open(ctx, snap_file("rs_snap1.geojson", 31.2), NULL, &s1));
    assert_tc_ok(ctx, tc_snapshot_open(ctx, snap_file("rs_snap2.geojson", 31.7), NULL, &s2));

    tc_regionset *built = open_set(ctx, units, land, NULL, 1);
    tc_report *b1 = report(ctx, built, s1, 1), *b2 = report(ctx, built, s2, 1);

    tc_regionset *cold = open_set(ctx, units, land, dir, 1); /* builds, writes the cache */
    assert_false(tc_regionset_from_cache(cold));
    char file[8192];
    long written = cache_file(dir, file, sizeof file);
    tc_regionset *warm = open_set(ctx, units, land, dir, 1);
    assert_true(tc_regionset_from_cache(warm));
    assert_same_set(ctx, built, warm);
    tc_report *w1 = report(ctx, warm, s1, 1); /* parses, builds strips, extends the cache */
    long extended = cache_file(dir, file, sizeof file);
    print_message("# cache %ld bytes after open, %ld after the first report\n", written,
                  extended);
    assert_true(extended > written);
    tc_report *w2 = report(ctx, warm, s2, 2);
    assert_same_report(b1, w1, "lazy, snapshot 1");
    assert_same_report(b2, w2, "lazy, snapshot 2");

    /* the extended file is valid: read back, the same again */
    tc_regionset *again = open_set(ctx, units, land, dir, 1);
    assert_true(tc_regionset_from_cache(again));
    tc_report *a2 = report(ctx, again, s2, 1), *a1 = report(ctx, again, s1, 1);
    assert_same_report(b1, a1, "extended cache, snapshot 1");
    assert_same_report(b2, a2, "extended cache, snapshot 2");

    tc_report *r[] = {b1, b2, w1, w2, a1, a2};
    tc_regionset *sets[] = {again, warm, cold, built};
    free_all(r, 6, sets, 4, s1, s2);
}

/* The synthetic inputs, an empty cache directory, snapshot 1, and the reference: the set
 * built in memory and its report of snapshot 1. */
typedef struct fixture {
    const char *units, *land, *dir;
    tc_snapshot *s1;
    tc_regionset *built;
    tc_report *want;
} fixture;

static fixture start(tc_ctx *ctx, const char *dir_name)
{
    fixture f = {units_file(), land_file(), cache_dir(dir_name), NULL, NULL, NULL};
    assert_tc_ok(ctx, tc_snapshot_open(ctx, snap_file("rs_snap1.geojson", 31.2), NULL, &f.s1));
    f.built = open_set(ctx, f.units, f.land, NULL, 1);
    f.want = report(ctx, f.built, f.s1, 1);
    return f;
}

/* tc_regionset_prepare() before a report: the same numbers, bit for bit, as the report's
 * own preparation; a unit it prepared is written to the cache (the file grows); a bad index
 * is refused, naming it, and changes nothing. */
static void test_regionset_prepare_first(void **state)
{
    tc_ctx *ctx = *state;
    fixture fx = start(ctx, "rs_prepare");

    tc_regionset *cold = open_set(ctx, fx.units, fx.land, fx.dir, 1);
    tc_regionset_free(cold);
    char file[8192];
    long written = cache_file(fx.dir, file, sizeof file);
    tc_regionset *warm = open_set(ctx, fx.units, fx.land, fx.dir, 1);
    const size_t bad[] = {1, 5};
    assert_int_equal(tc_regionset_prepare(ctx, warm, bad, 2, 1), TC_ERR_INVALID_ARG);
    assert_non_null(strstr(tc_ctx_errmsg(ctx), "5"));
    assert_int_equal(cache_file(fx.dir, file, sizeof file), written);
    const size_t some[] = {2, 1, 2}; /* a repeat is harmless */
    assert_tc_ok(ctx, tc_regionset_prepare(ctx, warm, some, 3, 2));
    assert_true(cache_file(fx.dir, file, sizeof file) > written);
    tc_report *w1 = report(ctx, warm, fx.s1, 2);
    assert_same_report(fx.want, w1, "prepared first");
    assert_tc_ok(ctx, tc_regionset_prepare(ctx, warm, NULL, 0, 0)); /* every unit */
    tc_report *w2 = report(ctx, warm, fx.s1, 1);
    assert_same_report(fx.want, w2, "all prepared");

    tc_report *r[] = {fx.want, w1, w2};
    tc_regionset *sets[] = {warm, fx.built};
    free_all(r, 3, sets, 2, fx.s1, NULL);
}

/* The attribute filters are part of what a set is made of: a set opened with another
 * filter on the boundaries or on the land mask, same files and cache directory, is built
 * for that filter, never served the cached set of the other (found in 0.6: the key left
 * them out). */
/* Open units over land with the cache in dir and these filters (NULL: none), one job. */
static tc_status open_filtered(tc_ctx *ctx, const char *units, const char *land, const char *dir,
                               const char *regions_where, const char *land_where,
                               tc_regionset **rs)
{
    tc_regionset_opts o = TC_REGIONSET_OPTS_INIT;
    o.land_path = land;
    o.cache_dir = dir;
    o.jobs = 1;
    o.regions.where = regions_where;
    o.land.where = land_where;
    *rs = NULL;
    return tc_regionset_open(ctx, units, &o, rs);
}

static void test_regionset_cache_keys_filters(void **state)
{
    tc_ctx *ctx = *state;
    const char *units = units_file(), *land = land_file(), *dir = cache_dir("rs_filters");
    char cmd[8300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    /* filters that differ only after their first 4 KB (the key once kept 4 KB of text) */
    static char longf[2][6000];
    char pad[5001];
    memset(pad, 'x', 5000);
    pad[5000] = '\0';
    snprintf(longf[0], sizeof longf[0], "shapeISO = '%s' OR shapeISO = 'UA-14'", pad);
    snprintf(longf[1], sizeof longf[1], "shapeISO = '%s' OR shapeISO = 'UA-09'", pad);
    const char *filters[] = {NULL, "shapeISO = 'UA-14'", "shapeISO <> 'UA-14'", longf[0],
                             longf[1]};
    const size_t want[] = {5, 1, 4, 1, 1};
    const char *first[] = {"UA-14", "UA-14", "UA-09", "UA-14", "UA-09"};
    for (int pass = 0; pass < 2; pass++) /* cold, then from the cache */
        for (int k = 0; k < 5; k++) {
            tc_regionset *rs = NULL;
            assert_tc_ok(ctx, open_filtered(ctx, units, land, dir, filters[k], NULL, &rs));
            assert_int_equal(tc_regionset_count(rs), want[k]);
            assert_string_equal(tc_regionset_get_code(rs, 0), first[k]);
            assert_int_equal(tc_regionset_from_cache(rs), pass == 1);
            tc_regionset_free(rs);
        }
    /* the land mask's filter: one that keeps no land leaves every unit without land */
    double land_m2[2];
    for (int k = 0; k < 2; k++) {
        tc_regionset *rs = NULL;
        tc_status st = open_filtered(ctx, units, land, dir, NULL, k ? "1 = 0" : NULL, &rs);
        if (k && st != TC_OK) { /* an empty land mask may be refused: then never served */
            assert_null(rs);
            land_m2[k] = -1;
            continue;
        }
        assert_tc_ok(ctx, st);
        double admin = 0;
        assert_tc_ok(ctx, tc_regionset_areas_m2(ctx, rs, 0, &admin, &land_m2[k]));
        tc_regionset_free(rs);
    }
    assert_true(land_m2[0] > 0);
    assert_true(land_m2[1] != land_m2[0]);
}

/* A cache directory whose parents do not exist yet (a fresh machine's ~/.cache/tclaims)
 * is created with them, and serves the next open. */
static void test_regionset_cache_dir_created(void **state)
{
    tc_ctx *ctx = *state;
    char dir[4200], cmd[4300];
    const char *top = cache_dir("rs_nested");
    snprintf(cmd, sizeof cmd, "rm -rf '%s/not'", top); /* (left by an earlier run) */
    assert_int_equal(system(cmd), 0);
    snprintf(dir, sizeof dir, "%s/not/yet/there", top);
    tc_ctx_clear_warnings(ctx);
    tc_regionset *cold = open_set(ctx, units_file(), land_file(), dir, 1);
    assert_false(tc_regionset_from_cache(cold));
    assert_int_equal(tc_ctx_warning_count(ctx), 0); /* no "cache not written" */
    char file[8192];
    assert_true(cache_file(dir, file, sizeof file) > 0);
    tc_regionset *warm = open_set(ctx, units_file(), land_file(), dir, 1);
    assert_true(tc_regionset_from_cache(warm));
    tc_regionset_free(warm);
    tc_regionset_free(cold);
}

/* Damage in a unit's entry of an extended cache: a flipped byte (caught by the file's
 * digest), and a ring cut short under a valid digest (caught by the entries' structural
 * check at open, so that no later parse can fail). Each time the set is rebuilt, never
 * served, gives the same numbers, and the cache is whole again afterwards. */
static void test_regionset_damaged_entry_rebuilt(void **state)
{
    tc_ctx *ctx = *state;
    fixture fx = start(ctx, "rs_damaged");
    for (int how = 0; how < 2; how++) {
        tc_regionset *rs = open_set(ctx, fx.units, fx.land, fx.dir, 1);
        tc_report_free(report(ctx, rs, fx.s1, 1)); /* the strips are in the file now */
        tc_regionset_free(rs);
        char file[8192];
        long n = cache_file(fx.dir, file, sizeof file);
        FILE *f = fopen(file, "rb");
        assert_non_null(f);
        unsigned char *data = malloc((size_t)n);
        assert_non_null(data);
        assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
        fclose(f);
        /* the last entry ends just before the trailer (18-byte magic) and the digest */
        size_t end = (size_t)n - 16 - 18;
        if (how == 0) {
            data[end - 40] ^= 0x10; /* a coordinate bit of the last entry */
        } else {
            /* its last ring loses its closing point: the point count (a 64-bit word before
             * the ring's points, 16 bytes each) goes down by one; search backwards for a
             * count that matches the distance to the entry's end */
            size_t at = 0;
            for (size_t p = end - 8 - 16 * 4; p > 16; p -= 16) {
                uint64_t np;
                memcpy(&np, data + p, 8);
                if (np >= 4 && np * 16 == end - p - 8) {
                    at = p;
                    break;
                }
            }
            assert_true(at > 0);
            uint64_t np;
            memcpy(&np, data + at, 8);
            np -= 1;
            memcpy(data + at, &np, 8);
            tc_test_put_digest(data, (size_t)n);
        }
        f = fopen(file, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(data, 1, (size_t)n, f), (size_t)n);
        fclose(f);
        free(data);
        size_t w0 = tc_ctx_warning_count(ctx);
        rs = open_set(ctx, fx.units, fx.land, fx.dir, 1);
        assert_false(tc_regionset_from_cache(rs)); /* rebuilt */
        print_message("# damage %d: rebuilt (%zu warning(s))\n", how,
                      tc_ctx_warning_count(ctx) - w0);
        tc_report *got = report(ctx, rs, fx.s1, 1);
        assert_same_report(fx.want, got, how ? "ring cut short" : "flipped bit");
        tc_report_free(got);
        tc_regionset_free(rs);
        rs = open_set(ctx, fx.units, fx.land, fx.dir, 1);
        assert_true(tc_regionset_from_cache(rs)); /* written whole again */
        tc_regionset_free(rs);
    }
    tc_report_free(fx.want);
    tc_regionset_free(fx.built);
    tc_snapshot_free(fx.s1);
}

/* A helper thread while building (jobs 2, 4) changes nothing: areas, reports, warnings
 * (a repaired bow-tie unit), and errors (a broken land mask, a broken boundary file) are
 * those of one thread. */
static void test_regionset_jobs_same_result(void **state)
{
    tc_ctx *ctx = *state;
    const char *units = units_file(), *land = land_file();
    tc_snapshot *s1 = NULL;
    assert_tc_ok(ctx, tc_snapshot_open(ctx, snap_file("rs_snap1.geojson", 31.2), NULL, &s1));
    tc_regionset *one = open_set(ctx, units, land, NULL, 1);
    tc_report *r1 = report(ctx, one, s1, 1);
    for (unsigned jobs = 2; jobs <= 4; jobs += 2) {
        tc_regionset *many = open_set(ctx, units, land, NULL, jobs);
        assert_same_set(ctx, one, many);
        tc_report *r2 = report(ctx, many, s1, jobs);
        assert_same_report(r1, r2, "jobs");
        tc_report_free(r2);
        tc_regionset_free(many);
    }
    tc_report_free(r1);
    tc_regionset_free(one);
    tc_snapshot_free(s1);

    /* a bow-tie unit: repaired with a warning, in the same words and order */
    const char *bow = tc_test_write(
        "rs_bowtie.geojson",
        "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"properties\":"
        "{\"shapeISO\":\"UA-14\",\"shapeName\":\"Bow\"},\"geometry\":{\"type\":\"Polygon\","
        "\"coordinates\":[[[30,48],[30.5,48.5],[30.5,48],[30,48.5],[30,48]]]}},{\"type\":"
        "\"Feature\",\"properties\":{\"shapeISO\":\"UA-09\",\"shapeName\":\"Sq\"},\"geometry\":"
        "{\"type\":\"Polygon\",\"coordinates\":[[[31,48],[31.5,48],[31.5,48.5],[31,48.5],"
        "[31,48]]]}}]}");
    char first[2][1024];
    size_t count[2];
    for (unsigned k = 0; k < 2; k++) {
        tc_ctx *c = NULL;
        assert_int_equal(tc_ctx_new(&c), TC_OK);
        tc_regionset *rs = open_set(c, bow, land, NULL, k ? 2 : 1);
        count[k] = tc_ctx_warning_count(c);
        snprintf(first[k], sizeof first[k], "%s", count[k] ? tc_ctx_get_warning(c, 0) : "");
        tc_regionset_free(rs);
        tc_ctx_free(c);
    }
    assert_true(count[0] >= 1);
    assert_int_equal(count[0], count[1]);
    assert_string_equal(first[0], first[1]);

    /* errors: the same status and message */
    const char *bad_land = tc_test_write("rs_bad_land.geojson", "{\"type\":\"FeatureCollection\"");
    const char *bad_units = tc_test_write("rs_bad_units.geojson", "{\"type\":\"Feature");
    const char *cases[][2] = {{units, bad_land}, {bad_units, land}};
    for (size_t i = 0; i < 2; i++) {
        char msg[2][1024];
        tc_status st[2];
        for (unsigned k = 0; k < 2; k++) {
            tc_regionset_opts o = TC_REGIONSET_OPTS_INIT;
            o.land_path = cases[i][1];
            o.jobs = k ? 2 : 1;
            tc_regionset *rs = NULL;
            st[k] = tc_regionset_open(ctx, cases[i][0], &o, &rs);
            assert_null(rs);
            snprintf(msg[k], sizeof msg[k], "%s", tc_ctx_errmsg(ctx));
        }
        assert_int_not_equal(st[0], TC_OK);
        assert_int_equal(st[0], st[1]);
        assert_string_equal(msg[0], msg[1]);
        print_message("# %s: %s\n", tc_status_str(st[0]), msg[0]);
    }
}

/* A boundary file over 1 MB (parsed in two halves at once by a threaded build): twelve
 * densified rectangles, two per code, one in each half of the file (merged across the
 * cut); the CRS member after the features. bad_code / no_geom: the feature (from 0) whose
 * code is empty / geometry null, or -1. */
static const char *big_units_file_ids(const char *name, int bad_code, int no_geom, bool ids);
static const char *big_units_file(const char *name, int bad_code, int no_geom)
{
    return big_units_file_ids(name, bad_code, no_geom, false);
}

/* ids: each feature also has an integer property "id", counting down (GDAL takes it for
 * the FID and returns the features in its order). */
static const char *big_units_file_ids(const char *name, int bad_code, int no_geom, bool ids)
{
    static const char *const codes[] = {"UA-14", "UA-09", "UA-23", "UA-65", "UA-43", "UA-40"};
    enum { SIDE = 1500 };
    sbuf b = {0};
    sb_printf(&b, "{\"type\":\"FeatureCollection\",\"name\":\"big\",\"features\":[");
    for (int i = 0; i < 12; i++) {
        double x0 = 30 + 0.5 * (i % 6), y0 = 48 + 0.25 * (i / 6), w = 0.5, h = 0.25;
        sb_printf(&b, "%s{\"type\":\"Feature\",\"properties\":{", i ? "," : "");
        if (ids)
            sb_printf(&b, "\"id\":%d,", 100 - i);
        sb_printf(&b, "\"shapeISO\":\"%s\",\"shapeName\":\"Unit %d\"},\"geometry\":",
                  i == bad_code ? "" : codes[i % 6], i % 6);
        if (i == no_geom) {
            sb_printf(&b, "null}");
            continue;
        }
        sb_printf(&b, "{\"type\":\"Polygon\",\"coordinates\":[[");
        for (int k = 0; k < 4 * SIDE; k++) {
            double t = (double)(k % SIDE) / SIDE;
            int side = k / SIDE;
            double x = side == 0 ? x0 + w * t : side == 1 ? x0 + w : side == 2 ? x0 + w - w * t : x0;
            double y = side == 0 ? y0 : side == 1 ? y0 + h * t : side == 2 ? y0 + h : y0 + h - h * t;
            sb_printf(&b, "[%.9f,%.9f],", x, y);
        }
        sb_printf(&b, "[%.9f,%.9f]]]}}", x0, y0);
    }
    sb_printf(&b, "],\"crs\":{\"type\":\"name\",\"properties\":{\"name\":"
                  "\"urn:ogc:def:crs:OGC:1.3:CRS84\"}}}");
    assert_true(b.n > (1u << 20));
    const char *path = tc_test_write(name, b.p);
    free(b.p);
    return path;
}

/* Opening units (over land) fails the same way with one and two jobs, naming what. */
static void same_failure(tc_ctx *ctx, const char *units, const char *land, const char *what)
{
    char msg[2][1024];
    for (unsigned k = 0; k < 2; k++) {
        tc_regionset_opts o = TC_REGIONSET_OPTS_INIT;
        o.land_path = land;
        o.jobs = k ? 2 : 1;
        tc_regionset *rs = NULL;
        assert_int_equal(tc_regionset_open(ctx, units, &o, &rs), TC_ERR_FORMAT);
        assert_null(rs);
        snprintf(msg[k], sizeof msg[k], "%s", tc_ctx_errmsg(ctx));
    }
    assert_string_equal(msg[0], msg[1]);
    print_message("# %s\n", msg[1]);
    assert_non_null(strstr(msg[1], what));
}

/* A large GeoJSON boundary file, which a threaded build parses in two halves at once,
 * gives the set a one-thread build gives (whole text): the same units, names and areas;
 * a feature's message names the same feature (FIDs counted across the cut). */
static void test_regionset_large_file_halves(void **state)
{
    tc_ctx *ctx = *state;
    const char *land = land_file(), *units = big_units_file("rs_big.geojson", -1, -1);
    tc_regionset *one = open_set(ctx, units, land, NULL, 1);
    tc_regionset *two = open_set(ctx, units, land, NULL, 2);
    assert_int_equal(tc_regionset_count(one), 6);
    assert_same_set(ctx, one, two);
    double admin = 0, land_m2 = 0;
    assert_tc_ok(ctx, tc_regionset_areas_m2(ctx, two, 0, &admin, &land_m2));
    /* each unit: two rectangles of 0.5 x 0.25 degrees, 30-30.5 E, 48-48.5 N: 37.3 km x 55.6 km */
    assert_true(admin > 2.0e9 && admin < 2.15e9);
    tc_regionset_free(one);
    tc_regionset_free(two);

    /* an empty code in the second half: the same failure, naming feature 9 */
    same_failure(ctx, big_units_file("rs_big_bad.geojson", 9, -1), land,
                 "feature 9 (): empty region code");

    /* a null geometry in the second half: skipped with the same warning, naming feature 10 */
    const char *hole = big_units_file("rs_big_null.geojson", -1, 10);
    char warn[2][1024];
    for (unsigned k = 0; k < 2; k++) {
        tc_ctx *c = NULL;
        assert_int_equal(tc_ctx_new(&c), TC_OK);
        tc_regionset *rs = open_set(c, hole, land, NULL, k ? 2 : 1);
        assert_int_equal(tc_ctx_warning_count(c), 1);
        snprintf(warn[k], sizeof warn[k], "%s", tc_ctx_get_warning(c, 0));
        tc_regionset_free(rs);
        tc_ctx_free(c);
    }
    assert_string_equal(warn[0], warn[1]);
    assert_non_null(strstr(warn[1], "feature 10 (UA-43): no geometry"));

    /* an integer property "id": GDAL's FIDs and order; such a file is read whole */
    same_failure(ctx, big_units_file_ids("rs_big_ids.geojson", 9, -1, true), land,
                 "feature 91 (): empty region code");
    const char *ided = big_units_file_ids("rs_big_ids_ok.geojson", -1, -1, true);
    one = open_set(ctx, ided, land, NULL, 1);
    two = open_set(ctx, ided, land, NULL, 2);
    assert_same_set(ctx, one, two);
    tc_regionset_free(one);
    tc_regionset_free(two);
}

/* Options made for 0.1 (version 1, no jobs field read) still open a set. */
static void test_regionset_opts_version1(void **state)
{
    tc_ctx *ctx = *state;
    tc_regionset_opts o = TC_REGIONSET_OPTS_INIT;
    o.version = 1;
    o.jobs = 12345; /* not read */
    tc_regionset *rs = NULL;
    assert_tc_ok(ctx, tc_regionset_open(ctx, units_file(), &o, &rs));
    assert_int_equal(tc_regionset_count(rs), 5);
    tc_regionset_free(rs);
    o.version = 3;
    assert_tc_fails(ctx, tc_regionset_open(ctx, units_file(), &o, &rs), TC_ERR_INVALID_ARG);
}

/* ---- the shared data ---- */

/* The Ukrainian units: built with two threads and no cache, against a cold cache and the
 * lazily read one, for two snapshots in turn, every unit reported (jobs 2): bit for bit. */
static void test_regionset_lazy_real(void **state)
{
    tc_ctx *ctx = *state;
    char units[4096], land[4096], sa[4096], sb[4096];
    snprintf(units, sizeof units, "%s", tc_test_data(BOUNDARIES));
    snprintf(land, sizeof land, "%s", tc_test_data(LAND));
    snprintf(sa, sizeof sa, "%s", tc_test_data(SNAP_A));
    snprintf(sb, sizeof sb, "%s", tc_test_data(SNAP_B));
    const char *dir = cache_dir("rs_real");
    tc_snapshot *s1 = NULL, *s2 = NULL;
    assert_tc_ok(ctx, tc_snapshot_open(ctx, sa, NULL, &s1));
    assert_tc_ok(ctx, tc_snapshot_open(ctx, sb, NULL, &s2));
    tc_regionset *built = open_set(ctx, units, land, NULL, 1);
    tc_regionset *cold = open_set(ctx, units, land, dir, 2);
    assert_same_set(ctx, built, cold);
    tc_regionset *warm = open_set(ctx, units, land, dir, 2);
    assert_true(tc_regionset_from_cache(warm));
    tc_report *b1 = report(ctx, built, s1, 1), *c1 = report(ctx, cold, s1, 2);
    tc_report *w2 = report(ctx, warm, s2, 2), *w1 = report(ctx, warm, s1, 2);
    tc_report *b2 = report(ctx, built, s2, 1);
    assert_same_report(b1, c1, "2025-09-01, cold cache");
    assert_same_report(b1, w1, "2025-09-01, lazy");
    assert_same_report(b2, w2, "2024-07-08, lazy");
    tc_report *r[] = {b1, c1, w1, w2, b2};
    tc_regionset *sets[] = {warm, cold, built};
    free_all(r, 5, sets, 3, s1, s2);
}

static tc_report *report_opts(tc_ctx *ctx, const tc_regionset *rs, const tc_snapshot *snap,
                              double sliver_width_m)
{
    tc_report_opts ro = TC_REPORT_OPTS_INIT;
    ro.units = TC_UNITS_ALL;
    ro.sliver_width_m = sliver_width_m;
    ro.jobs = 2;
    tc_report *r = NULL;
    assert_tc_ok(ctx, tc_report_new(ctx, rs, snap, &ro, &r));
    return r;
}

/* A file in dir, written with text and dated days ago. */
static void dated_file(const char *dir, const char *name, double days)
{
    char path[8400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs("x", f);
    fclose(f);
    struct timespec t[2];
    assert_int_equal(clock_gettime(CLOCK_REALTIME, &t[0]), 0);
    t[0].tv_sec -= (time_t)(days * 86400);
    t[1] = t[0];
    assert_int_equal(utimensat(AT_FDCWD, path, t, 0), 0);
}

static bool exists_in(const char *dir, const char *name)
{
    char path[8400];
    struct stat sb;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &sb) == 0;
}

/* Stored results older than 30 days, and writers' temporary files older than a day, are
 * removed when a set is opened, at most once a day; anything else in the directory stays. */
static void test_regionset_results_pruned(void **state)
{
    tc_ctx *ctx = *state;
    const char *top = cache_dir("rs_prune");
    char cmd[8300], results[8200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", top);
    assert_int_equal(system(cmd), 0);
    snprintf(results, sizeof results, "%s/results", top);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", results);
    assert_int_equal(system(cmd), 0);
    char old[80], recent[80], tmp_old[120], tmp_new[120];
    memset(old, 'a', 64), strcpy(old + 64, ".bin");
    memset(recent, 'b', 64), strcpy(recent + 64, ".bin");
    snprintf(tmp_old, sizeof tmp_old, "%s.tmp.1.0x1", old);
    snprintf(tmp_new, sizeof tmp_new, "%s.tmp.2.0x2", recent);
    dated_file(results, old, 31);
    dated_file(results, recent, 29);
    dated_file(results, tmp_old, 1.5);
    dated_file(results, tmp_new, 0.5);
    dated_file(results, "notes.txt", 400);       /* not ours */
    dated_file(results, "ABCD.bin", 400);        /* not a key */
    dated_file(results, ".pruned", 2);           /* last pass two days ago */
    tc_regionset *rs = open_set(ctx, units_file(), land_file(), top, 1);
    tc_regionset_free(rs);
    assert_false(exists_in(results, old));
    assert_false(exists_in(results, tmp_old));
    assert_true(exists_in(results, recent));
    assert_true(exists_in(results, tmp_new));
    assert_true(exists_in(results, "notes.txt"));
    assert_true(exists_in(results, "ABCD.bin"));
    /* a pass was made just now: the next open makes none */
    dated_file(results, old, 31);
    rs = open_set(ctx, units_file(), land_file(), top, 1);
    assert_true(tc_regionset_from_cache(rs));
    tc_regionset_free(rs);
    assert_true(exists_in(results, old));
}

/* Every entry of dir (not the dot files) dated days ago. */
static void set_ages(const char *dir, double days)
{
    DIR *dh = opendir(dir);
    assert_non_null(dh);
    struct dirent *de;
    while ((de = readdir(dh)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        struct timespec t[2];
        assert_int_equal(clock_gettime(CLOCK_REALTIME, &t[0]), 0);
        t[0].tv_sec -= (time_t)(days * 86400);
        t[1] = t[0];
        assert_int_equal(utimensat(dirfd(dh), de->d_name, t, 0), 0);
    }
    closedir(dh);
}

/* The age in days of the oldest entry of dir (not the dot files). */
static double max_age_days(const char *dir)
{
    DIR *dh = opendir(dir);
    assert_non_null(dh);
    struct dirent *de;
    struct stat sb;
    double oldest = 0;
    time_t now = time(NULL);
    while ((de = readdir(dh)) != NULL)
        if (de->d_name[0] != '.' && fstatat(dirfd(dh), de->d_name, &sb, 0) == 0)
            oldest = fmax(oldest, (double)(now - sb.st_mtime) / 86400);
    closedir(dh);
    return oldest;
}

/* Stored unit results (report.c, result_key()): a later report reuses a unit's result only
 * when everything it depends on is the same (the set, the options, the snapshot around the
 * unit). Snapshot 3 is snapshot 1 and a second square inside the third unit: the second
 * unit's result is reused, the third's computed again; another sliver width
 * computes both again; a damaged stored result is computed again and rewritten. Every
 * report equals, bit for bit, the one of a set without any cache. */
static void test_regionset_results_reused_never_stale(void **state)
{
    tc_ctx *ctx = *state;
    fixture fx = start(ctx, "rs_results");
    /* snapshot 1's square and a second one inside the third unit */
    sbuf b = {0};
    sb_printf(&b, "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\","
                  "\"properties\":{},\"geometry\":{\"type\":\"MultiPolygon\","
                  "\"coordinates\":[");
    square(&b, 30.7, 48.1, 31.2 - 30.7, 0.3);
    sb_printf(&b, ",");
    square(&b, 31.3, 48.15, 0.1, 0.1);
    sb_printf(&b, "]}}]}");
    tc_snapshot *s3 = NULL;
    assert_tc_ok(ctx, tc_snapshot_open(ctx, tc_test_write("rs_snap3.geojson", b.p), NULL, &s3));
    free(b.p);
    char results[4200];
    snprintf(results, sizeof results, "%s/results", fx.dir);
    tc_regionset *warm = open_set(ctx, fx.units, fx.land, fx.dir, 1);
    tc_report *w1 = report(ctx, warm, fx.s1, 2);
    assert_same_report(fx.want, w1, "results stored");
    assert_int_equal(count_files(results, ""), 2); /* the two units the snapshot touches */
    /* a reused entry is used: its time is refreshed (at most once a day), so that
     * pruning (test_regionset_results_pruned) removes only entries unused for 30 days */
    set_ages(results, 29);
    tc_report *again = report(ctx, warm, fx.s1, 1);
    assert_same_report(fx.want, again, "results reused");
    assert_int_equal(count_files(results, ""), 2);
    assert_true(max_age_days(results) < 0.01);
    set_ages(results, 0.5);
    tc_report *again2 = report(ctx, warm, fx.s1, 1);
    assert_true(max_age_days(results) > 0.49); /* read within the day: left alone */
    tc_report_free(again2);

    tc_report *want3 = report(ctx, fx.built, s3, 1), *w3 = report(ctx, warm, s3, 2);
    assert_same_report(want3, w3, "snapshot 3");
    assert_int_equal(count_files(results, ""), 3); /* only the third unit's is new */

    tc_report *want_w = report_opts(ctx, fx.built, fx.s1, 1000.0);
    tc_report *got_w = report_opts(ctx, warm, fx.s1, 1000.0);
    assert_same_report(want_w, got_w, "sliver width 1000 m");
    assert_int_equal(count_files(results, ""), 5);

    /* damage every stored result: each is computed again, and rewritten sound */
    DIR *dh = opendir(results);
    struct dirent *de;
    int damaged = 0;
    while (dh && (de = readdir(dh)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char path[8500];
        snprintf(path, sizeof path, "%s/%s", results, de->d_name);
        FILE *f = fopen(path, "r+b");
        assert_non_null(f);
        assert_int_equal(fseek(f, 40, SEEK_SET), 0); /* a byte of the key or a figure */
        int c = fgetc(f);
        assert_int_equal(fseek(f, 40, SEEK_SET), 0);
        fputc(c ^ 0x04, f);
        fclose(f);
        damaged++;
    }
    if (dh)
        closedir(dh);
    assert_int_equal(damaged, 5);
    tc_report *d1 = report(ctx, warm, fx.s1, 2);
    assert_same_report(fx.want, d1, "damaged results");
    tc_report *d2 = report(ctx, warm, fx.s1, 1);
    assert_same_report(fx.want, d2, "rewritten results");
    assert_int_equal(count_files(results, ""), 5);

    tc_report *r[] = {fx.want, w1, again, want3, w3, want_w, got_w, d1, d2};
    tc_regionset *sets[] = {warm, fx.built};
    free_all(r, 9, sets, 2, fx.s1, s3);
}

int main(void)
{
    struct CMUnitTest tests[] = {
        cmocka_unit_test(test_regionset_lazy_same_numbers),
        cmocka_unit_test(test_regionset_prepare_first),
        cmocka_unit_test(test_regionset_cache_dir_created),
        cmocka_unit_test(test_regionset_cache_keys_filters),
        cmocka_unit_test(test_regionset_damaged_entry_rebuilt),
        cmocka_unit_test(test_regionset_results_reused_never_stale),
        cmocka_unit_test(test_regionset_results_pruned),
        cmocka_unit_test(test_regionset_jobs_same_result),
        cmocka_unit_test(test_regionset_large_file_halves),
        cmocka_unit_test(test_regionset_opts_version1),
        cmocka_unit_test(test_regionset_lazy_real),
    };
    static const char *const heavy[] = {"test_regionset_lazy_real", NULL};
    size_t n = tc_test_drop_heavy(tests, sizeof tests / sizeof tests[0], heavy);
    return _cmocka_run_group_tests("regionset", tests, n, tc_test_ctx_setup,
                                   tc_test_ctx_teardown);
}
