/* The bad-input corpus (docs/reliability.md): files from the internet fed to every entry
 * point that reads them. Each case has one expected outcome: a documented status with a
 * one-line message that names the file, or a documented repair with a warning, and the
 * numbers that come back with TC_OK are right. Never a crash, a hang or silent nonsense.
 *
 * Fixtures are small GeoJSON/CSV texts written to the test's scratch directory. Cases
 * that take seconds (a million vertices) are left out when TC_TEST_SKIP_HEAVY is set, as
 * scripts/sanitize.sh does under valgrind. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tc_test.h"

#define TEST_PI 3.14159265358979323846

/* ---- fixtures ---- */

static const char *tmp_dir(void)
{
    const char *dir = getenv("TC_TEST_TMPDIR");
    return dir && *dir ? dir : TC_TEST_TMP_DIR;
}


/* A growable text buffer. */
#define FC_OPEN "{\"type\":\"FeatureCollection\",\"features\":["
#define FC_CLOSE "]}"
/* One feature with region code and name, and a geometry given as JSON text. */
#define FEAT(code, geom)                                                                 \
    "{\"type\":\"Feature\",\"properties\":{\"shapeISO\":\"" code "\",\"shapeName\":\"" code \
    "\"},\"geometry\":" geom "}"
#define POLY(rings) "{\"type\":\"Polygon\",\"coordinates\":[" rings "]}"
/* A lon/lat box as a closed GeoJSON ring (counter-clockwise). */
#define BOX(x0, y0, x1, y1)                                                              \
    "[[" #x0 "," #y0 "],[" #x1 "," #y0 "],[" #x1 "," #y1 "],[" #x0 "," #y1 "],[" #x0 "," #y0 "]]"

/* Write text under a fresh name in the scratch directory (paths live in 8 slots). */
static const char *put(const char *name, const char *text) { return tc_test_write(name, text); }

/* The message names the file (its base name is enough). */
static void assert_msg_names(tc_ctx *ctx, const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (!strstr(tc_ctx_errmsg(ctx), base))
        fail_msg("message does not name '%s': %s", base, tc_ctx_errmsg(ctx));
}

static void assert_msg_has(tc_ctx *ctx, const char *part)
{
    if (!strstr(tc_ctx_errmsg(ctx), part))
        fail_msg("message lacks '%s': %s", part, tc_ctx_errmsg(ctx));
}

/* The warning list holds one containing `part`. */
static void assert_warned(tc_ctx *ctx, const char *part)
{
    for (size_t i = 0; i < tc_ctx_warning_count(ctx); i++)
        if (strstr(tc_ctx_get_warning(ctx, i), part)) {
            print_message("# warning: %s\n", tc_ctx_get_warning(ctx, i));
            return;
        }
    fail_msg("no warning with '%s' (%zu warnings)", part, tc_ctx_warning_count(ctx));
}

/* Opening `path` as a layer, a snapshot and a region set fails with `want` (snapshots:
 * `want_snap`), names the file, mentions `part`, and leaves the output alone. */
static void expect_fails(tc_ctx *ctx, const char *path, tc_status want, tc_status want_snap,
                         const char *part)
{
    int sentinel;
    tc_layer *L = (tc_layer *)&sentinel;
    assert_tc_fails(ctx, tc_layer_open(ctx, path, NULL, &L), want);
    assert_ptr_equal(L, (tc_layer *)&sentinel);
    assert_msg_names(ctx, path);
    if (part)
        assert_msg_has(ctx, part);
    tc_regionset *rs = (tc_regionset *)&sentinel;
    assert_tc_fails(ctx, tc_regionset_open(ctx, path, NULL, &rs), want);
    assert_ptr_equal(rs, (tc_regionset *)&sentinel);
    assert_msg_names(ctx, path);
    if (want_snap == TC_OK)
        return;
    tc_snapshot *s = (tc_snapshot *)&sentinel;
    assert_tc_fails(ctx, tc_snapshot_open(ctx, path, NULL, &s), want_snap);
    assert_ptr_equal(s, (tc_snapshot *)&sentinel);
    assert_msg_names(ctx, path);
    if (part)
        assert_msg_has(ctx, part);
}

/* Area of the only region of a layer file (which must load). */
static double layer_area(tc_ctx *ctx, const char *path)
{
    tc_layer *L = NULL;
    assert_tc_ok(ctx, tc_layer_open(ctx, path, NULL, &L));
    assert_int_equal(tc_layer_count(L), 1);
    double a = -1.0;
    assert_tc_ok(ctx, tc_region_area_m2(ctx, tc_layer_get_region(L, 0), &a));
    tc_layer_free(L);
    return a;
}

static double snapshot_area(tc_ctx *ctx, const char *path)
{
    tc_snapshot *s = NULL;
    assert_tc_ok(ctx, tc_snapshot_open(ctx, path, NULL, &s));
    double a = -1.0;
    assert_tc_ok(ctx, tc_snapshot_area_m2(ctx, s, &a));
    tc_snapshot_free(s);
    return a;
}

/* What is wrong with a report's rows ("" when every row is finite, non-negative and
 * closes), so that a caller can free before failing. */
static const char *report_problem(const tc_report *rep, const char *what, double closure_tol)
{
    static char msg[512];
    msg[0] = '\0';
    for (size_t i = 0; i < tc_report_count(rep) && !msg[0]; i++) {
        tc_areas a;
        if (tc_report_get_areas(rep, i, &a) != TC_OK) {
            snprintf(msg, sizeof msg, "%s row %zu: no areas", what, i);
            break;
        }
        const double v[] = {a.admin_m2,  a.land_m2,     a.controlled_m2, a.gap_m2,
                            a.sliver_m2, a.enclosed_m2, a.closure_rel};
        for (size_t k = 0; k < sizeof v / sizeof v[0] && !msg[0]; k++)
            if (!isfinite(v[k]) || v[k] < 0)
                snprintf(msg, sizeof msg, "%s row %zu: field %zu is %.17g", what, i, k, v[k]);
        if (!msg[0] && a.controlled_m2 > a.land_m2 * (1 + 1e-9))
            snprintf(msg, sizeof msg, "%s row %zu: controlled %.17g > land %.17g", what, i,
                     a.controlled_m2, a.land_m2);
        /* two independent overlays: they agree to rounding (docs/method.md) */
        if (!msg[0] && a.land_m2 > 0 && a.closure_rel > closure_tol)
            snprintf(msg, sizeof msg, "%s row %zu: closure %.3g", what, i, a.closure_rel);
    }
    return msg;
}

static void assert_report_sane(const tc_report *rep, const char *what)
{
    const char *p = report_problem(rep, what, 1e-9);
    if (p[0])
        fail_msg("%s", p);
}

/* Two units side by side, 0.5 x 0.5 degree each, near 48N. */
static const char *two_units(void)
{
    return put("bad_two_units.geojson",
               FC_OPEN FEAT("UA-14", POLY(BOX(30, 48, 30.5, 48.5))) "," FEAT(
                   "UA-09", POLY(BOX(30.5, 48, 31, 48.5))) FC_CLOSE);
}

/* ---- unreadable and malformed files ---- */

static void test_badinput_truncated_json(void **state)
{
    tc_ctx *ctx = *state;
    const char *full = FC_OPEN FEAT("UA-14", POLY(BOX(30, 48, 30.5, 48.5))) FC_CLOSE;
    /* cut in the middle of a number, of a key, and just before the final bracket */
    const size_t cuts[] = {strlen(full) / 2, 25, strlen(full) - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        char text[1024], name[64];
        snprintf(text, sizeof text, "%.*s", (int)cuts[i], full);
        snprintf(name, sizeof name, "bad_truncated_%zu.geojson", i);
        expect_fails(ctx, put(name, text), TC_ERR_IO, TC_ERR_IO, NULL);
    }
}

static void test_badinput_invalid_json(void **state)
{
    tc_ctx *ctx = *state;
    expect_fails(ctx, put("bad_notjson.geojson", "this is not json"), TC_ERR_IO, TC_ERR_IO,
                 NULL);
    expect_fails(ctx, put("bad_brace.geojson", FC_OPEN "{]" FC_CLOSE), TC_ERR_IO, TC_ERR_IO,
                 NULL);
    expect_fails(ctx, put("bad_binary.geojson", "\x01\x02\xff\xfe{\"type\""), TC_ERR_IO,
                 TC_ERR_IO, NULL);
}

static void test_badinput_empty_file(void **state)
{
    tc_ctx *ctx = *state;
    expect_fails(ctx, put("bad_empty.geojson", ""), TC_ERR_IO, TC_ERR_IO, NULL);
    expect_fails(ctx, put("bad_blank.geojson", " \n\t\n"), TC_ERR_IO, TC_ERR_IO, NULL);
}

/* A FeatureCollection with no features: no regions is an error; no controlled territory
 * is a valid, empty snapshot, and a report with it has every unit wholly uncontrolled. */
static void test_badinput_no_features(void **state)
{
    tc_ctx *ctx = *state;
    const char *path = put("bad_nofeatures.geojson", FC_OPEN FC_CLOSE);
    /* with no feature, GDAL sees no fields either: "no region code field" */
    expect_fails(ctx, path, TC_ERR_FORMAT, TC_OK, NULL);
    tc_snapshot *s = NULL;
    assert_tc_ok(ctx, tc_snapshot_open(ctx, path, NULL, &s));
    assert_int_equal(tc_snapshot_polygon_count(s), 0);
    double a = -1.0;
    assert_tc_ok(ctx, tc_snapshot_area_m2(ctx, s, &a));
    assert_true(a == 0.0);

    tc_regionset *rs = NULL;
    tc_report *rep = NULL;
    tc_report_opts o = TC_REPORT_OPTS_INIT;
    o.units = TC_UNITS_ALL;
    assert_tc_ok(ctx, tc_regionset_open(ctx, two_units(), NULL, &rs));
    assert_tc_ok(ctx, tc_report_new(ctx, rs, s, &o, &rep));
    assert_report_sane(rep, "empty snapshot");
    for (size_t i = 0; i < tc_report_count(rep); i++) {
        tc_areas r;
        assert_int_equal(tc_report_get_areas(rep, i, &r), TC_OK);
        assert_true(r.controlled_m2 == 0.0);
        assert_close(r.gap_m2 + r.sliver_m2 + r.enclosed_m2, r.land_m2, 1e-12);
    }
    tc_report_free(rep);
    tc_regionset_free(rs);
    tc_snapshot_free(s);
}

/* ---- geometry types ---- */

static void test_badinput_point_and_line(void **state)
{
    tc_ctx *ctx = *state;
    expect_fails(ctx,
                 put("bad_point.geojson",
                     FC_OPEN FEAT("UA-14", "{\"type\":\"Point\",\"coordinates\":[30,48]}") FC_CLOSE),
                 TC_ERR_FORMAT, TC_ERR_FORMAT, "Point");
    expect_fails(ctx,
                 put("bad_line.geojson",
                     FC_OPEN FEAT("UA-14", "{\"type\":\"LineString\",\"coordinates\":[[30,48],"
                                           "[31,49]]}") FC_CLOSE),
                 TC_ERR_FORMAT, TC_ERR_FORMAT, "Line String");
    expect_fails(ctx,
                 put("bad_multiline.geojson",
                     FC_OPEN FEAT("UA-14", "{\"type\":\"MultiLineString\",\"coordinates\":[[[30,"
                                           "48],[31,49]]]}") FC_CLOSE),
                 TC_ERR_FORMAT, TC_ERR_FORMAT, "Line String");
    /* one good polygon does not excuse a point elsewhere in the file */
    expect_fails(ctx,
                 put("bad_point_after_polygon.geojson",
                     FC_OPEN FEAT("UA-14", POLY(BOX(30, 48, 30.5, 48.5))) "," FEAT(
                         "UA-09", "{\"type\":\"MultiPoint\",\"coordinates\":[[30,48]]}") FC_CLOSE),
                 TC_ERR_FORMAT, TC_ERR_FORMAT, "Point");
}

/* A GeometryCollection: its polygons are kept and the other parts dropped with a warning;
 * one without any polygon is an error; an empty one is a feature without geometry. */
static void test_badinput_geometry_collection(void **state)
{
    tc_ctx *ctx = *state;
    const char *ref = put("bad_gc_ref.geojson",
                          FC_OPEN FEAT("UA-14", POLY(BOX(30, 48, 30.5, 48.5))) FC_CLOSE);
    /* snapshots and regions are densified differently: compare like with like */
    double want = layer_area(ctx, ref), want_snap = snapshot_area(ctx, ref);
    const char *mixed = put(
        "bad_gc_mixed.geojson",
        FC_OPEN FEAT("UA-14", "{\"type\":\"GeometryCollection\",\"geometries\":[{\"type\":"
                              "\"Point\",\"coordinates\":[30,48]}," POLY(BOX(30, 48, 30.5, 48.5)) ","
                              "{\"type\":\"LineString\",\"coordinates\":[[30,48],[31,49]]}]}") FC_CLOSE);
    tc_ctx_clear_warnings(ctx);
    assert_close(layer_area(ctx, mixed), want, 1e-12);
    assert_warned(ctx, "2 non-polygon part(s)");
    tc_ctx_clear_warnings(ctx);
    assert_close(snapshot_area(ctx, mixed), want_snap, 1e-12);
    assert_warned(ctx, "non-polygon part(s)");

    expect_fails(ctx,
                 put("bad_gc_points.geojson",
                     FC_OPEN FEAT("UA-14", "{\"type\":\"GeometryCollection\",\"geometries\":[{"
                                           "\"type\":\"Point\",\"coordinates\":[30,48]}]}") FC_CLOSE),
                 TC_ERR_FORMAT, TC_ERR_FORMAT, "without any polygon");

    const char *empty =
        put("bad_gc_empty.geojson",
            FC_OPEN FEAT("UA-14", "{\"type\":\"GeometryCollection\",\"geometries\":[]}") FC_CLOSE);
    tc_ctx_clear_warnings(ctx);
    expect_fails(ctx, empty, TC_ERR_FORMAT, TC_OK, "no polygon feature");
    tc_ctx_clear_warnings(ctx);
    assert_true(snapshot_area(ctx, empty) == 0.0);
    assert_warned(ctx, "no geometry; skipped");
}

/* ---- invalid polygons ---- */

/* A bow-tie is repaired into its two triangles, with a warning giving the areas; it is not
 * halved (two lobes of opposite winding cancel in a naive area) nor dropped. */
static void test_badinput_bowtie(void **state)
{
    tc_ctx *ctx = *state;
    const char *bowtie = put(
        "bad_bowtie.geojson",
        FC_OPEN FEAT("UA-14", POLY("[[30,48],[31,49],[31,48],[30,49],[30,48]]")) FC_CLOSE);
    const char *triangles = put(
        "bad_bowtie_ref.geojson",
        FC_OPEN FEAT("UA-14", "{\"type\":\"MultiPolygon\",\"coordinates\":["
                              "[[[30,48],[30.5,48.5],[30,49],[30,48]]],"
                              "[[[31,48],[31,49],[30.5,48.5],[31,48]]]]}") FC_CLOSE);
    double want = layer_area(ctx, triangles), want_snap = snapshot_area(ctx, triangles);
    tc_ctx_clear_warnings(ctx);
    /* make-valid nodes the crossing at (30.5, 48.5) exactly: same vertices, same area */
    assert_close(layer_area(ctx, bowtie), want, 1e-9);
    assert_warned(ctx, "repaired with make-valid");
    tc_ctx_clear_warnings(ctx);
    assert_close(snapshot_area(ctx, bowtie), want_snap, 1e-9);
    assert_warned(ctx, "Self-intersection");
}

static void test_badinput_unclosed_ring(void **state)
{
    tc_ctx *ctx = *state;
    expect_fails(ctx,
                 put("bad_unclosed.geojson",
                     FC_OPEN FEAT("UA-14", POLY("[[30,48],[31,48],[31,49],[30,49]]")) FC_CLOSE),
                 TC_ERR_GEOMETRY, TC_ERR_GEOMETRY, "closed");
}

/* Library bug: a hole lying outside its shell becomes land. tc__geom_make_valid()
 * (lib/geom.c) repairs with GEOSMakeValidWithParams(GEOS_MAKE_VALID_STRUCTURE), and GEOS
 * 3.11's structure method returns such a hole as a second polygon (checked on GEOS
 * directly: POLYGON((0 0,1 0,1 1,0 1,0 0),(2 0,3 0,3 1,2 1,2 0)) gives area 2, while a hole
 * that overlaps the shell is subtracted). A ring the file calls a hole thus adds its area
 * to the region or to the controlled territory; the warning reports "area 0 km2 -> X km2"
 * because the raw rings cancel. A hole means "not part of it": the repair should keep the
 * shell alone (and say that the hole was dropped). Suggested fix: before make-valid, drop
 * holes disjoint from their shell (GEOSDisjoint_r of the hole's polygon and the shell's),
 * or repair per polygon as valid(shell) - union(valid(holes)). */
static void test_regress_hole_outside_shell_counted_as_land(void **state)
{
    tc_ctx *ctx = *state;
    const char *ref = put("bad_hole_ref.geojson",
                          FC_OPEN FEAT("UA-14", POLY(BOX(30, 48, 30.5, 48.5))) FC_CLOSE);
    double want = layer_area(ctx, ref), want_snap = snapshot_area(ctx, ref);
    const char *path = put("bad_hole_outside.geojson",
                           FC_OPEN FEAT("UA-14", POLY(BOX(30, 48, 30.5, 48.5) "," BOX(
                                                      31, 48, 31.25, 48.25))) FC_CLOSE);
    tc_ctx_clear_warnings(ctx);
    double got = layer_area(ctx, path);
    assert_warned(ctx, "Hole lies outside shell");
    tc_ctx_clear_warnings(ctx);
    double got_snap = snapshot_area(ctx, path);
    assert_warned(ctx, "repaired with make-valid");
    print_message("# shell %.6g m2; with a hole outside it: region %.6g m2, snapshot %.6g m2\n",
                  want, got, got_snap);
    assert_close(got, want, 1e-12);
    assert_close(got_snap, want_snap, 1e-12);
}

/* ---- coordinates ---- */

static void test_badinput_nonfinite_coordinates(void **state)
{
    tc_ctx *ctx = *state;
    static const char *const bad[] = {"NaN", "Infinity", "-Infinity", "1e999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[512], name[64];
        snprintf(text, sizeof text,
                 FC_OPEN FEAT("UA-14", POLY("[[30,48],[31,48],[31,%s],[30,49],[30,48]]")) FC_CLOSE,
                 bad[i]);
        snprintf(name, sizeof name, "bad_nonfinite_%zu.geojson", i);
        expect_fails(ctx, put(name, text), TC_ERR_GEOMETRY, TC_ERR_GEOMETRY, "non-finite");
    }
}

/* Out-of-range degrees: in GeoJSON (WGS84 by definition) a geometry error quoting the
 * coordinate; in a source without any CRS, a CRS error saying so. */
static void test_badinput_out_of_range(void **state)
{
    tc_ctx *ctx = *state;
    expect_fails(ctx,
                 put("bad_lon200.geojson",
                     FC_OPEN FEAT("UA-14", POLY("[[30,48],[200,48],[200,49],[30,48]]")) FC_CLOSE),
                 TC_ERR_GEOMETRY, TC_ERR_GEOMETRY, "(200, 48) outside longitude");
    expect_fails(ctx,
                 put("bad_lat95.geojson",
                     FC_OPEN FEAT("UA-14", POLY("[[30,48],[31,48],[31,95],[30,48]]")) FC_CLOSE),
                 TC_ERR_GEOMETRY, TC_ERR_GEOMETRY, "(31, 95)");
    expect_fails(ctx,
                 put("bad_lon200.csv", "WKT,shapeISO\n\"POLYGON((30 48,200 48,200 49,30 48))\","
                                       "UA-14\n"),
                 TC_ERR_CRS, TC_ERR_CRS, "has no CRS");
}

/* Web Mercator metres: without a CRS member GeoJSON still means WGS84, so the metres are
 * out-of-range degrees (a geometry error quoting them); a CSV with no CRS at all gives a
 * CRS error; with the CRS named, the file is reprojected and measures as the same box in
 * degrees. */
static void test_badinput_epsg3857(void **state)
{
    tc_ctx *ctx = *state;
    const double R = 6378137.0, d2r = TEST_PI / 180.0;
    double x0 = R * 30.0 * d2r, x1 = R * 30.5 * d2r;
    double y0 = R * log(tan(TEST_PI / 4 + 48.0 * d2r / 2));
    double y1 = R * log(tan(TEST_PI / 4 + 48.5 * d2r / 2));
    char ring[512], text[1024];
    snprintf(ring, sizeof ring, "[[%.17g,%.17g],[%.17g,%.17g],[%.17g,%.17g],[%.17g,%.17g],"
                                "[%.17g,%.17g]]",
             x0, y0, x1, y0, x1, y1, x0, y1, x0, y0);
    snprintf(text, sizeof text, FC_OPEN FEAT("UA-14", "{\"type\":\"Polygon\",\"coordinates\":[%s]}") FC_CLOSE,
             ring);
    expect_fails(ctx, put("bad_3857_nocrs.geojson", text), TC_ERR_GEOMETRY, TC_ERR_GEOMETRY,
                 "outside longitude");
    snprintf(text, sizeof text,
             "WKT,shapeISO\n\"POLYGON((%.17g %.17g,%.17g %.17g,%.17g %.17g,%.17g %.17g))\",UA-14\n",
             x0, y0, x1, y0, x1, y1, x0, y0);
    expect_fails(ctx, put("bad_3857_nocrs.csv", text), TC_ERR_CRS, TC_ERR_CRS, "has no CRS");

    snprintf(text, sizeof text,
             "{\"type\":\"FeatureCollection\",\"crs\":{\"type\":\"name\",\"properties\":{\"name\":"
             "\"urn:ogc:def:crs:EPSG::3857\"}},\"features\":[" FEAT(
                 "UA-14", "{\"type\":\"Polygon\",\"coordinates\":[%s]}") FC_CLOSE,
             ring);
    double got = layer_area(ctx, put("bad_3857_crs.geojson", text));
    double want = layer_area(ctx, put("bad_3857_ref.geojson",
                                      FC_OPEN FEAT("UA-14", POLY(BOX(30, 48, 30.5, 48.5))) FC_CLOSE));
    /* PROJ's inverse Mercator is good to about 1e-9 degree at the corners */
    assert_close(got, want, 1e-8);
}

/* ---- codes and names ---- */

/* Features with the same code are one region (layer.h): parts are unioned, so an overlap
 * counts once. */
static void test_badinput_duplicate_codes(void **state)
{
    tc_ctx *ctx = *state;
    const char *dup = put("bad_dup.geojson",
                          FC_OPEN FEAT("UA-14", POLY(BOX(30, 48, 30.5, 48.5))) "," FEAT(
                              "ua14", POLY(BOX(30.25, 48, 30.75, 48.5))) FC_CLOSE);
    tc_layer *L = NULL;
    assert_tc_ok(ctx, tc_layer_open(ctx, dup, NULL, &L));
    assert_int_equal(tc_layer_count(L), 1);
    const tc_region *r = tc_layer_get_region(L, 0);
    assert_string_equal(tc_region_get_code(r), "UA-14");
    assert_int_equal(tc_region_feature_count(r), 2);
    double got = -1.0;
    assert_tc_ok(ctx, tc_region_area_m2(ctx, r, &got));
    tc_layer_free(L);
    double want = layer_area(ctx, put("bad_dup_ref.geojson",
                                      FC_OPEN FEAT("UA-14", POLY(BOX(30, 48, 30.75, 48.5))) FC_CLOSE));
    /* the union re-nodes the shared edges: same area to rounding */
    assert_close(got, want, 1e-9);
    tc_regionset *rs = NULL;
    assert_tc_ok(ctx, tc_regionset_open(ctx, dup, NULL, &rs));
    assert_int_equal(tc_regionset_count(rs), 1);
    tc_regionset_free(rs);
}

static void test_badinput_missing_code(void **state)
{
    tc_ctx *ctx = *state;
    expect_fails(ctx,
                 put("bad_nocodefield.geojson",
                     FC_OPEN "{\"type\":\"Feature\",\"properties\":{\"name\":\"x\"},\"geometry\":" POLY(
                         BOX(30, 48, 30.5, 48.5)) "}" FC_CLOSE),
                 TC_ERR_FORMAT, TC_OK, "no region code field");
    expect_fails(ctx,
                 put("bad_nullcode.geojson",
                     FC_OPEN FEAT("UA-14", POLY(BOX(30, 48, 30.5, 48.5))) ",{\"type\":\"Feature\","
                                                                         "\"properties\":{\"shapeISO\":null},\"geometry\":" POLY(
                                                                             BOX(31, 48, 31.5, 48.5)) "}" FC_CLOSE),
                 TC_ERR_FORMAT, TC_OK, "empty region code");
}

static void test_badinput_unknown_region(void **state)
{
    tc_ctx *ctx = *state;
    tc_regionset *rs = NULL;
    assert_tc_ok(ctx, tc_regionset_open(ctx, two_units(), NULL, &rs));
    size_t idx = 12345;
    assert_tc_fails(ctx, tc_regionset_lookup(ctx, rs, "Atlantis", &idx), TC_ERR_NOT_FOUND);
    assert_msg_has(ctx, "Atlantis");
    assert_tc_fails(ctx, tc_regionset_lookup(ctx, rs, "Kharkiv", &idx), TC_ERR_NOT_FOUND);
    assert_tc_fails(ctx, tc_regionset_find(ctx, rs, "UA-99", &idx), TC_ERR_NOT_FOUND);
    assert_msg_has(ctx, "UA-99");
    assert_int_equal(idx, 12345);
    const tc_unit_info *u = NULL;
    assert_tc_fails(ctx, tc_catalog_lookup(ctx, "Atlantis", &u), TC_ERR_NOT_FOUND);
    assert_msg_has(ctx, "UA-14"); /* lists the valid codes */
    assert_null(u);

    /* the claim report on a set that lacks claimed units says which one */
    tc_snapshot *s = NULL;
    tc_report *rep = NULL;
    assert_tc_ok(ctx, tc_snapshot_open(ctx, two_units(), NULL, &s));
    assert_tc_fails(ctx, tc_report_new(ctx, rs, s, NULL, &rep), TC_ERR_NOT_FOUND);
    assert_msg_has(ctx, "UA-43");
    assert_null(rep);
    tc_report_opts o = TC_REPORT_OPTS_INIT;
    const size_t bad_index[] = {0, 7};
    o.units = TC_UNITS_LIST;
    o.unit_index = bad_index;
    o.n_units = 2;
    assert_tc_fails(ctx, tc_report_new(ctx, rs, s, &o, &rep), TC_ERR_INVALID_ARG);
    assert_null(rep);
    tc_snapshot_free(s);
    tc_regionset_free(rs);
}

/* ---- dates and archives ---- */

static void make_dir(char *dir, size_t len, const char *name)
{
    snprintf(dir, len, "%s/%s", tmp_dir(), name);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        fail_msg("mkdir %s: %s", dir, strerror(errno));
}

static void touch_in(const char *dir, const char *name)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        fail_msg("cannot create %s", path);
    fclose(f);
}

/* Requests far in the future or past get a status, not a stale or invented answer; a
 * snapshot dated in the future is listed like any other (the library has no clock) and
 * never answers for an earlier date. */
static void test_badinput_snapshot_dates(void **state)
{
    tc_ctx *ctx = *state;
    char dir[4096];
    make_dir(dir, sizeof dir, "bad_archive");
    touch_in(dir, "deepstatemap_data_20240708.geojson");
    touch_in(dir, "deepstatemap_data_20250901.geojson");
    touch_in(dir, "deepstatemap_data_29991231.geojson");
    tc_archive *ar = NULL;
    assert_tc_ok(ctx, tc_archive_open(ctx, dir, &ar));
    assert_int_equal(tc_archive_count(ar), 3);
    size_t idx = 99;
    tc_date d = {2025, 9, 2};
    assert_tc_ok(ctx, tc_archive_find(ctx, ar, d, &idx));
    assert_int_equal(idx, 1); /* 2025-09-01, not the 2999 file */
    d = (tc_date){1900, 1, 1};
    idx = 99;
    assert_tc_fails(ctx, tc_archive_find(ctx, ar, d, &idx), TC_ERR_NOT_FOUND);
    assert_msg_has(ctx, "2024-07-08");
    assert_int_equal(idx, 99);
    d = (tc_date){0, 0, 0};
    assert_tc_fails(ctx, tc_archive_find(ctx, ar, d, &idx), TC_ERR_INVALID_ARG);
    d = (tc_date){2025, 2, 29};
    assert_tc_fails(ctx, tc_archive_find(ctx, ar, d, &idx), TC_ERR_INVALID_ARG);
    tc_archive_free(ar);

    /* without the far-future file, a date long after the last snapshot is refused */
    char dir2[4096];
    make_dir(dir2, sizeof dir2, "bad_archive2");
    touch_in(dir2, "deepstatemap_data_20240708.geojson");
    touch_in(dir2, "deepstatemap_data_20250901.geojson");
    assert_tc_ok(ctx, tc_archive_open(ctx, dir2, &ar));
    d = (tc_date){2030, 1, 1};
    assert_tc_fails(ctx, tc_archive_find(ctx, ar, d, &idx), TC_ERR_INVALID_ARG);
    assert_msg_has(ctx, "after the latest snapshot");
    d = (tc_date){9999, 12, 31};
    assert_tc_fails(ctx, tc_archive_find(ctx, ar, d, &idx), TC_ERR_INVALID_ARG);
    tc_archive_free(ar);

    tc_date out = {7, 7, 7};
    assert_tc_fails(ctx, tc_date_parse(ctx, "10000-01-01", &out), TC_ERR_INVALID_ARG);
    assert_tc_fails(ctx, tc_date_parse(ctx, "0999-12-31", &out), TC_ERR_INVALID_ARG);
    assert_tc_fails(ctx, tc_date_from_filename(ctx, "x_00000101.geojson", &out),
                    TC_ERR_NOT_FOUND);
    assert_int_equal(out.year, 7);
}

/* ---- files the process may not read ---- */

/* Run fn in a child that cannot read what it is given: as root, the child drops to
 * "nobody" first (root reads everything). Returns the child's exit status. */
static int run_unprivileged(int (*fn)(const char *), const char *arg)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        fail_msg("fork: %s", strerror(errno));
    if (pid == 0) {
        if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
            _exit(90);
        _exit(fn(arg));
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid)
        fail_msg("waitpid: %s", strerror(errno));
    if (!WIFEXITED(status))
        fail_msg("child died (signal %d)", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    return WEXITSTATUS(status);
}

/* exit codes: 0 right status and message, 1 wrong status, 2 message */
static int child_archive(const char *dir)
{
    tc_ctx *ctx = NULL;
    tc_archive *ar = NULL;
    if (tc_ctx_new(&ctx) != TC_OK)
        return 3;
    tc_status st = tc_archive_open(ctx, dir, &ar);
    int rc = st != TC_ERR_IO ? 1 : strstr(tc_ctx_errmsg(ctx), "Permission denied") ? 0 : 2;
    if (rc)
        fprintf(stderr, "archive: %s: %s\n", tc_status_str(st), tc_ctx_errmsg(ctx));
    tc_archive_free(ar);
    tc_ctx_free(ctx);
    return rc;
}

static int child_files(const char *path)
{
    tc_ctx *ctx = NULL;
    if (tc_ctx_new(&ctx) != TC_OK)
        return 3;
    tc_layer *L = NULL;
    tc_snapshot *s = NULL;
    int rc = 0;
    tc_status st = tc_layer_open(ctx, path, NULL, &L);
    if (st != TC_ERR_IO || !strstr(tc_ctx_errmsg(ctx), "Permission denied"))
        rc = 1, fprintf(stderr, "layer: %s: %s\n", tc_status_str(st), tc_ctx_errmsg(ctx));
    st = tc_snapshot_open(ctx, path, NULL, &s);
    if (st != TC_ERR_IO || !strstr(tc_ctx_errmsg(ctx), "Permission denied"))
        rc = 1, fprintf(stderr, "snapshot: %s: %s\n", tc_status_str(st), tc_ctx_errmsg(ctx));
    tc_layer_free(L);
    tc_snapshot_free(s);
    tc_ctx_free(ctx);
    return rc;
}

static void test_badinput_unreadable(void **state)
{
    tc_ctx *ctx = *state;
    char dir[4096];
    make_dir(dir, sizeof dir, "bad_unreadable_dir");
    touch_in(dir, "deepstatemap_data_20250901.geojson");
    chmod(dir, 0);
    int rc = run_unprivileged(child_archive, dir);
    chmod(dir, 0755);
    assert_int_equal(rc, 0);

    const char *file = put("bad_unreadable.geojson",
                           FC_OPEN FEAT("UA-14", POLY(BOX(30, 48, 30.5, 48.5))) FC_CLOSE);
    chmod(file, 0);
    rc = run_unprivileged(child_files, file);
    chmod(file, 0644);
    assert_int_equal(rc, 0);

    /* a directory where a file is expected, and a file where a directory is */
    tc_layer *L = NULL;
    tc_status st = tc_layer_open(ctx, dir, NULL, &L);
    assert_true(st == TC_ERR_IO || st == TC_ERR_FORMAT);
    assert_true(tc_ctx_errmsg(ctx)[0] != '\0');
    print_message("# directory as layer: %s: %s\n", tc_status_str(st), tc_ctx_errmsg(ctx));
    tc_archive *ar = NULL;
    assert_tc_fails(ctx, tc_archive_open(ctx, file, &ar), TC_ERR_IO);
    assert_msg_has(ctx, "Not a directory");
}

/* ---- extreme snapshots ---- */

/* A snapshot covering the whole world controls all of every unit. */
static void test_badinput_snapshot_whole_world(void **state)
{
    tc_ctx *ctx = *state;
    const char *world = put("bad_world.geojson",
                            FC_OPEN FEAT("W", POLY(BOX(-180, -90, 180, 90))) FC_CLOSE);
    tc_regionset *rs = NULL;
    tc_snapshot *s = NULL;
    tc_report *rep = NULL;
    tc_report_opts o = TC_REPORT_OPTS_INIT;
    o.units = TC_UNITS_ALL;
    assert_tc_ok(ctx, tc_regionset_open(ctx, two_units(), NULL, &rs));
    assert_tc_ok(ctx, tc_snapshot_open(ctx, world, NULL, &s));
    assert_tc_ok(ctx, tc_report_new(ctx, rs, s, &o, &rep));
    assert_report_sane(rep, "world snapshot");
    for (size_t i = 0; i < tc_report_count(rep); i++) {
        tc_areas a;
        assert_int_equal(tc_report_get_areas(rep, i, &a), TC_OK);
        assert_close(a.controlled_m2, a.land_m2, 1e-12);
        assert_true(a.gap_m2 == 0 && a.sliver_m2 == 0 && a.enclosed_m2 == 0);
    }
    tc_report_free(rep);
    tc_snapshot_free(s);
    tc_regionset_free(rs);
}

/* Area between the equator and latitude lat on WGS84, per radian of longitude (the
 * authalic integral: b^2/2 (sin / (1 - e^2 sin^2) + atanh(e sin) / e)). */
static double band_y(double lat_deg)
{
    const double a = 6378137.0, f = 1 / 298.257223563, b = a * (1 - f), e2 = f * (2 - f),
                 e = sqrt(e2);
    double s = sin(lat_deg * TEST_PI / 180);
    return b * b / 2 * (s / (1 - e2 * s * s) + atanh(e * s) / e);
}

/* Library bug: an area over half the ellipsoid comes back as its complement.
 * ring_area() in lib/geom.c (and tc_ring_area_m2() in lib/area.c, ring_area() in
 * lib/report.c) call geod_polygonarea() with its signed convention, which reduces the
 * result into (-area0/2, area0/2], then take fabs(): a ring enclosing more than half the
 * earth gives area0 minus its area. The band between 85S and 85N (a lon/lat box spanning
 * 360 degrees, 99.6% of the ellipsoid) reads as the two polar caps, 1.96e12 m2 instead of
 * 5.08e14 m2. Suggested fix: orient each ring counter-clockwise in the lon/lat plane (the
 * overlay's notion of inside) and take the unsigned area (sign = 0, [0, area0)); or sum
 * the (lon, Y(lat)) integral for densified rings as report.c's edge_term() does. */
static void test_regress_area_over_half_earth_is_complement(void **state)
{
    tc_ctx *ctx = *state;
    const char *band = put("bad_band85.geojson",
                           FC_OPEN FEAT("W", POLY(BOX(-180, -85, 180, 85))) FC_CLOSE);
    double want = 2 * TEST_PI * (band_y(85) - band_y(-85));
    double got = snapshot_area(ctx, band);
    print_message("# band 85S..85N: %.6g m2, expected %.6g m2\n", got, want);
    /* densified parallels at 0.002-0.01 degree: the geodesics bow by under 1e-6 */
    assert_close(got, want, 1e-6);
}

/* Library bug, same cause: a region covering the whole world (a box of -180..180 by
 * -90..90, the planar overlay's "everything") measures 0.03 m2 on the ellipsoid, so the
 * report says land 0.03 m2, controlled 6.2e10 m2 and enclosed -6.2e10 m2 with TC_OK. Any
 * TC_OK report must have non-negative areas that add up; refusing such a region with a
 * clear status would do too. */
static void test_regress_world_region_negative_area(void **state)
{
    tc_ctx *ctx = *state;
    const char *world = put("bad_world_region.geojson",
                            FC_OPEN FEAT("UA-14", POLY(BOX(-180, -90, 180, 90))) FC_CLOSE);
    const char *square = put("bad_world_snap.geojson",
                             FC_OPEN FEAT("S", POLY(BOX(30.5, 47, 33, 50))) FC_CLOSE);
    tc_regionset *rs = NULL;
    tc_snapshot *s = NULL;
    tc_report *rep = NULL;
    tc_report_opts o = TC_REPORT_OPTS_INIT;
    o.units = TC_UNITS_ALL;
    tc_status st = tc_regionset_open(ctx, world, NULL, &rs);
    if (st == TC_OK)
        assert_tc_ok(ctx, tc_snapshot_open(ctx, square, NULL, &s));
    if (st == TC_OK)
        st = tc_report_new(ctx, rs, s, &o, &rep);
    char problem[512] = "";
    if (st != TC_OK) { /* a refusal is acceptable if it says why */
        if (!tc_ctx_errmsg(ctx)[0])
            snprintf(problem, sizeof problem, "%s without a message", tc_status_str(st));
        print_message("# refused: %s: %s\n", tc_status_str(st), tc_ctx_errmsg(ctx));
    } else {
        tc_areas a;
        if (tc_report_get_areas(rep, 0, &a) == TC_OK)
            print_message("# land %.6g controlled %.6g enclosed %.6g gap %.6g m2\n", a.land_m2,
                          a.controlled_m2, a.enclosed_m2, a.gap_m2);
        snprintf(problem, sizeof problem, "%s", report_problem(rep, "world region", 1e-9));
    }
    tc_report_free(rep);
    tc_snapshot_free(s);
    tc_regionset_free(rs);
    if (problem[0])
        fail_msg("%s", problem);
}

/* One polygon of a million vertices (a wavy circle of 0.5 degree radius): loads, measures
 * what its own vertices enclose, and reports. */
static void test_badinput_million_vertices(void **state)
{
    tc_ctx *ctx = *state;
    const size_t n = 1000000;
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    assert_non_null(x);
    assert_non_null(y);
    sbuf b = {NULL, 0, 0};
    sb_printf(&b, FC_OPEN "{\"type\":\"Feature\",\"properties\":{},\"geometry\":{\"type\":"
                          "\"Polygon\",\"coordinates\":[[");
    for (size_t i = 0; i < n; i++) {
        double t = 2 * TEST_PI * (double)i / (double)n;
        double r = 0.5 * (1 + 0.05 * sin(2000 * t));
        /* %.9f round trip: keep the rounded values for the reference */
        char xs[32], ys[32];
        snprintf(xs, sizeof xs, "%.9f", 30.75 + r * cos(t));
        snprintf(ys, sizeof ys, "%.9f", 48.25 + r * sin(t) / 1.5);
        x[i] = strtod(xs, NULL);
        y[i] = strtod(ys, NULL);
        sb_printf(&b, "[%s,%s],", xs, ys);
    }
    sb_printf(&b, "[%.9f,%.9f]]]}}" FC_CLOSE, x[0], y[0]);
    const char *path = put("bad_million.geojson", b.p);
    free(b.p);

    double want = -1.0;
    assert_tc_ok(ctx, tc_ring_area_m2(ctx, x, y, n, &want));
    free(x);
    free(y);
    tc_snapshot *s = NULL;
    assert_tc_ok(ctx, tc_snapshot_open(ctx, path, NULL, &s));
    double got = -1.0;
    assert_tc_ok(ctx, tc_snapshot_area_m2(ctx, s, &got));
    /* every edge is far shorter than the densification step: the same vertices */
    assert_close(got, want, 1e-9);

    tc_regionset *rs = NULL;
    tc_report *rep = NULL;
    tc_report_opts o = TC_REPORT_OPTS_INIT;
    o.units = TC_UNITS_ALL;
    assert_tc_ok(ctx, tc_regionset_open(ctx, two_units(), NULL, &rs));
    assert_tc_ok(ctx, tc_report_new(ctx, rs, s, &o, &rep));
    assert_report_sane(rep, "million-vertex snapshot");
    tc_report_free(rep);
    tc_regionset_free(rs);
    tc_snapshot_free(s);
}

/* Library weakness: the work of opening a region set grows with the length of the edges,
 * not with the size of the file: every edge is densified to TC__MAX_EDGE_DEG (0.002
 * degree) and then buffered, clipped and measured. The 60 full-width bands here are a
 * 10 KB GeoJSON file; tc_regionset_open() on it took 57 s and 2.2 GB (a layer open alone
 * 2.4 s, a snapshot open 4.8 s). A file from the internet must not be able to take a
 * minute and gigabytes. Suggested fix: densify only where the geodesic and the lon/lat
 * segment part (a meridian edge is already a geodesic; long parallels need points), and
 * cap the vertices one load may create (TC_ERR_GEOMETRY "geometry too large after
 * densification"). The test gives the open 10 s and 2 GB in a child process and accepts
 * any documented status. */
#if defined(__SANITIZE_ADDRESS__)
#define TC_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TC_TEST_ASAN 1
#endif
#endif

static int child_load_bands(const char *path)
{
#ifndef TC_TEST_ASAN /* ASan reserves terabytes of address space for its shadow */
    struct rlimit rl = {(rlim_t)2 << 30, (rlim_t)2 << 30};
    setrlimit(RLIMIT_AS, &rl);
#endif
    alarm(10);
    tc_ctx *ctx = NULL;
    tc_regionset *rs = NULL;
    if (tc_ctx_new(&ctx) != TC_OK)
        return 3;
    tc_status st = tc_regionset_open(ctx, path, NULL, &rs);
    fprintf(stderr, "# bands: %s %s\n", tc_status_str(st), tc_ctx_errmsg(ctx));
    tc_regionset_free(rs);
    tc_ctx_free(ctx);
    return st >= TC_OK && st < TC_STATUS_END_ && st != TC_ERR_INTERNAL ? 0 : 1;
}

static void test_regress_densify_amplification(void **state)
{
    (void)state;
    sbuf b = {NULL, 0, 0};
    sb_printf(&b, FC_OPEN);
    for (int i = 0; i < 60; i++) {
        double y = -80 + 0.1 * i;
        sb_printf(&b,
                  "%s{\"type\":\"Feature\",\"properties\":{\"shapeISO\":\"UA-%02d\"},"
                  "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[-180,%.2f],[180,%.2f],"
                  "[180,%.2f],[-180,%.2f],[-180,%.2f]]]}}",
                  i ? "," : "", i, y, y, y + 0.05, y + 0.05, y);
    }
    sb_printf(&b, FC_CLOSE);
    size_t len = b.n;
    const char *path = put("bad_bands.geojson", b.p);
    free(b.p);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        fail_msg("fork: %s", strerror(errno));
    if (pid == 0)
        _exit(child_load_bands(path));
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFSIGNALED(status))
        fail_msg("loading a %zu-byte file took over 10 s or died (signal %d)", len,
                 WTERMSIG(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* Library bug (found by tests/fuzz/fuzz_report_geom): a thin, nearly flat ring measures
 * as the whole ellipsoid. ring_area() in lib/geom.c walks a ring counter-clockwise in the
 * lon/lat plane, taking the direction from GEOSCoordSeq_isCCW_r(), and returns the
 * unsigned geodesic area, which for a ring walked clockwise is area0 - S. For a ring whose
 * three or four vertices are almost collinear GEOS's isCCW says "clockwise" whatever the
 * order (it returns false for flat rings), so a triangle of a few square metres comes
 * back as 5.1e14 m2. Overlays make such slivers along shared edges: the fuzzed report
 * below gives one unit of 595 km2 a sliver area of 5.1e15 m2, with TC_OK. Suggested fix:
 * take the direction from the sign of the shoelace sum (and call a ring with a zero sum
 * empty), or choose between S and area0 - S by a planar estimate of the area. */
static void test_regress_flat_ring_measures_whole_earth(void **state)
{
    tc_ctx *ctx = *state;
    static const char *const flat[] = {
        "POLYGON((30.385517241379311 48.414482758620693,30.386896551724139 48.413103448275862,"
        "30.386666666666667 48.413333333333334,30.384827585179231 48.415172414820773,"
        "30.385517241379311 48.414482758620693))",
        "POLYGON((30.388275862068966 48.411724137931039,30.389655172413793 48.410344827586208,"
        "30.386896551724139 48.413103448275862,30.388275862068966 48.411724137931039))",
    };
    for (size_t i = 0; i < sizeof flat / sizeof flat[0]; i++) {
        double a = -1.0;
        assert_tc_ok(ctx, tc_wkt_area_m2(ctx, flat[i], &a));
        print_message("# flat ring %zu: %.6g m2\n", i, a);
        /* the vertices lie within 0.003 degree of each other: far below 1 km2 */
        if (!(a >= 0 && a < 1e6))
            fail_msg("flat ring %zu measures %.6g m2", i, a);
    }
}

static void test_regress_report_sliver_whole_earth(void **state)
{
    tc_ctx *ctx = *state;
    const char *units = put(
        "bad_fuzz_units.geojson",
        FC_OPEN FEAT("UA-14", POLY("[[30.004,48.0],[30.02,48.004],[30.04,48.04],[30.004,48.0]]")) ","
        FEAT("UA-65", POLY("[[30.6,48.04],[30.6,48.368],[30.42,48.448],[30.456,48.444],"
                           "[30.424,48.244],[30.38,48.42],[30.42,48.38],[30.42,48.0],[30.0,48.0],"
                           "[30.6,48.04]]")) ","
        FEAT("UA-14", POLY("[[30.008,48.256],[30.004,48.04],[30.04,48.76],[30.008,48.256]]")) FC_CLOSE);
    const char *snap = put(
        "bad_fuzz_snap.geojson",
        FC_OPEN "{\"type\":\"Feature\",\"properties\":{},\"geometry\":" POLY(
            "[[30.04,48.6],[30.368,48.42],[30.38,48.42],[30.42,48.38],[30.42,48.0],[30.0,48.0],"
            "[30.0,48.0],[30.0,48.0],[30.0,48.0],[30.04,48.6]]") "}" FC_CLOSE);
    tc_regionset *rs = NULL;
    tc_snapshot *s = NULL;
    tc_report *rep = NULL;
    tc_report_opts o = TC_REPORT_OPTS_INIT;
    o.units = TC_UNITS_ALL;
    assert_tc_ok(ctx, tc_regionset_open(ctx, units, NULL, &rs));
    assert_tc_ok(ctx, tc_snapshot_open(ctx, snap, NULL, &s));
    assert_tc_ok(ctx, tc_report_new(ctx, rs, s, &o, &rep));
    for (size_t i = 0; i < tc_report_count(rep); i++) {
        tc_areas a;
        if (tc_report_get_areas(rep, i, &a) == TC_OK)
            print_message("# %s land %.6g controlled %.6g sliver %.6g enclosed %.6g m2\n",
                          tc_regionset_get_code(rs, tc_report_get_unit(rep, i)), a.land_m2,
                          a.controlled_m2, a.sliver_m2, a.enclosed_m2);
    }
    char problem[512];
    /* made of slivers and a repaired bow-tie: noding may cost more than rounding */
    snprintf(problem, sizeof problem, "%s", report_problem(rep, "fuzzed report", 1e-6));
    tc_report_free(rep);
    tc_snapshot_free(s);
    tc_regionset_free(rs);
    if (problem[0])
        fail_msg("%s", problem);
}

/* ---- the region-set cache ---- */

static void empty_dir(const char *dir)
{
    DIR *dh = opendir(dir);
    struct dirent *de;
    while (dh && (de = readdir(dh)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        unlink(path);
    }
    if (dh)
        closedir(dh);
}

/* The one cache entry in dir. */
static void cache_entry(const char *dir, char *path, size_t len)
{
    DIR *dh = opendir(dir);
    struct dirent *de;
    path[0] = '\0';
    while (dh && (de = readdir(dh)) != NULL)
        if (strncmp(de->d_name, "regionset-", 10) == 0)
            snprintf(path, len, "%s/%s", dir, de->d_name);
    if (dh)
        closedir(dh);
    if (!path[0])
        fail_msg("no cache entry in %s", dir);
}

/* A cache entry cut short, or holding garbage, is rebuilt (regionset.h): the same numbers
 * as a fresh build, never a failure. */
/* two_units() built into a fresh cache in the temporary directory name (path into dir,
 * options into *o): the set as built in *rs (the caller frees it), unit 0's admin area in
 * *want; returns the units' path. */
static const char *cached_two_units(tc_ctx *ctx, const char *name, char *dir, size_t len,
                                    tc_regionset_opts *o, tc_regionset **rs, double *want)
{
    make_dir(dir, len, name);
    empty_dir(dir);
    const char *units = two_units();
    *o = (tc_regionset_opts)TC_REGIONSET_OPTS_INIT;
    o->cache_dir = dir;
    *rs = NULL;
    assert_tc_ok(ctx, tc_regionset_open(ctx, units, o, rs));
    *want = -1.0;
    assert_tc_ok(ctx, tc_regionset_areas_m2(ctx, *rs, 0, want, NULL));
    return units;
}

static void test_badinput_cache_damaged(void **state)
{
    tc_ctx *ctx = *state;
    char dir[4096], entry[8192];
    tc_regionset_opts o;
    tc_regionset *rs = NULL;
    double want;
    const char *units = cached_two_units(ctx, "bad_cache", dir, sizeof dir, &o, &rs, &want);
    tc_regionset_free(rs);
    cache_entry(dir, entry, sizeof entry);
    struct stat sb;
    assert_int_equal(stat(entry, &sb), 0);
    const off_t cuts[] = {0, 10, sb.st_size / 2, sb.st_size - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        assert_int_equal(truncate(entry, cuts[i]), 0);
        rs = NULL;
        assert_tc_ok(ctx, tc_regionset_open(ctx, units, &o, &rs));
        assert_false(tc_regionset_from_cache(rs)); /* rebuilt */
        double got = -1.0;
        assert_tc_ok(ctx, tc_regionset_areas_m2(ctx, rs, 0, &got, NULL));
        assert_true(got == want);
        tc_regionset_free(rs);
    }
    empty_dir(dir);
}

/* Regression: a cache entry once carried no checksum of its contents, so a damaged byte
 * in an area read back as a valid set and the report printed the damaged number. The
 * entry now ends with the SHA-256 of its contents and a mismatch is rebuilt
 * (lib/regionset.c). Here unit 0's admin area is doubled in place (the layout starts:
 * magic, u32 format, 64-byte key, u32 count, u32 has_land, then per unit: u32 + code,
 * u32 + name, f64 admin, ...); the set read back must have the built number. */
static void test_regress_cache_corruption_silent(void **state)
{
    tc_ctx *ctx = *state;
    char dir[4096], entry[8192];
    tc_regionset_opts o;
    tc_regionset *rs = NULL;
    double want;
    const char *units =
        cached_two_units(ctx, "bad_cache_flip", dir, sizeof dir, &o, &rs, &want);
    const char *code = tc_regionset_get_code(rs, 0), *name = tc_regionset_get_name(rs, 0);
    long off = 18 + 4 + 64 + 4 + 4 + 4 + (long)strlen(code) + 4 + (long)strlen(name);
    tc_regionset_free(rs);
    cache_entry(dir, entry, sizeof entry);
    FILE *f = fopen(entry, "r+b");
    assert_non_null(f);
    double v = 0;
    assert_int_equal(fseek(f, off, SEEK_SET), 0);
    assert_int_equal(fread(&v, sizeof v, 1, f), 1);
    assert_true(v == want); /* the layout above is right */
    v *= 2;
    assert_int_equal(fseek(f, off, SEEK_SET), 0);
    assert_int_equal(fwrite(&v, sizeof v, 1, f), 1);
    fclose(f);
    rs = NULL;
    assert_tc_ok(ctx, tc_regionset_open(ctx, units, &o, &rs));
    double got = -1.0;
    assert_tc_ok(ctx, tc_regionset_areas_m2(ctx, rs, 0, &got, NULL));
    print_message("# from cache: %s, admin %.6g m2 (built: %.6g m2)\n",
                  tc_regionset_from_cache(rs) ? "yes" : "no", got, want);
    tc_regionset_free(rs);
    empty_dir(dir);
    assert_true(got == want);
}

int main(void)
{
    struct CMUnitTest tests[] = {
        cmocka_unit_test(test_badinput_truncated_json),
        cmocka_unit_test(test_badinput_invalid_json),
        cmocka_unit_test(test_badinput_empty_file),
        cmocka_unit_test(test_badinput_no_features),
        cmocka_unit_test(test_badinput_point_and_line),
        cmocka_unit_test(test_badinput_geometry_collection),
        cmocka_unit_test(test_badinput_bowtie),
        cmocka_unit_test(test_badinput_unclosed_ring),
        cmocka_unit_test(test_regress_hole_outside_shell_counted_as_land),
        cmocka_unit_test(test_badinput_nonfinite_coordinates),
        cmocka_unit_test(test_badinput_out_of_range),
        cmocka_unit_test(test_badinput_epsg3857),
        cmocka_unit_test(test_badinput_duplicate_codes),
        cmocka_unit_test(test_badinput_missing_code),
        cmocka_unit_test(test_badinput_unknown_region),
        cmocka_unit_test(test_badinput_snapshot_dates),
        cmocka_unit_test(test_badinput_unreadable),
        cmocka_unit_test(test_badinput_snapshot_whole_world),
        cmocka_unit_test(test_regress_area_over_half_earth_is_complement),
        cmocka_unit_test(test_regress_world_region_negative_area),
        cmocka_unit_test(test_regress_flat_ring_measures_whole_earth),
        cmocka_unit_test(test_regress_report_sliver_whole_earth),
        cmocka_unit_test(test_badinput_million_vertices),
        cmocka_unit_test(test_regress_densify_amplification),
        cmocka_unit_test(test_badinput_cache_damaged),
        cmocka_unit_test(test_regress_cache_corruption_silent),
    };
    static const char *const heavy[] = {"test_regress_area_over_half_earth_is_complement", "test_regress_world_region_negative_area", "test_badinput_million_vertices", "test_regress_densify_amplification", NULL};
    size_t n = tc_test_drop_heavy(tests, sizeof tests / sizeof tests[0], heavy);
    return _cmocka_run_group_tests("badinput", tests, n, tc_test_ctx_setup, tc_test_ctx_teardown);
}
