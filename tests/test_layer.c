/* Region layers (tclaims/layer.h) and snapshots (tclaims/snapshot.h) from fixture files
 * written by the tests: field detection, code normalisation, merging, reprojection,
 * non-GeoJSON sources, and every documented failure. */
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <proj.h>
#include <unistd.h>

#include "tc_test.h"

/* ---- growable text buffer ---- */

/* ---- rings on a grid of 1/1000 degree ---- */

typedef struct ring {
    double *x, *y; /* lon/lat degrees, or projected metres */
    size_t n;      /* distinct vertices; no closing vertex */
} ring;

static void ring_free(ring *r)
{
    free(r->x);
    free(r->y);
    r->x = r->y = NULL;
    r->n = 0;
}

/* A lon/lat box from corners given in thousandths of a degree, with a vertex every `step`
 * thousandths on every edge (counter-clockwise). Coordinates are k / 1000.0 for integer k,
 * so boxes sharing grid points share bit-identical vertices. A step of 1 (0.001 degree,
 * half the library's TC__MAX_EDGE_DEG) keeps the library's densification from adding
 * vertices, so the library measures exactly the rings built here. (With a step of exactly
 * 0.002 degree, rounding makes some edges a hair longer than the limit and the library
 * adds midpoints: 3e-11 relative.) */
static ring box(int lon0, int lon1, int lat0, int lat1, int step)
{
    size_t n = (size_t)(2 * ((lon1 - lon0) / step + (lat1 - lat0) / step));
    ring r = {malloc(n * sizeof(double)), malloc(n * sizeof(double)), 0};
    if (!r.x || !r.y)
        fail_msg("out of memory");
    for (int k = lon0; k < lon1; k += step)
        r.x[r.n] = k / 1000.0, r.y[r.n++] = lat0 / 1000.0;
    for (int k = lat0; k < lat1; k += step)
        r.x[r.n] = lon1 / 1000.0, r.y[r.n++] = k / 1000.0;
    for (int k = lon1; k > lon0; k -= step)
        r.x[r.n] = k / 1000.0, r.y[r.n++] = lat1 / 1000.0;
    for (int k = lat1; k > lat0; k -= step)
        r.x[r.n] = lon0 / 1000.0, r.y[r.n++] = k / 1000.0;
    assert_int_equal(r.n, n);
    return r;
}

static double ring_area(tc_ctx *ctx, const ring *r)
{
    double a = -1.0;
    assert_tc_ok(ctx, tc_ring_area_m2(ctx, r->x, r->y, r->n, &a));
    return a;
}

/* The ring reprojected from WGS84 lon/lat (OGC:CRS84) to `crs` with PROJ, independently of
 * the library. */
static ring project_ring(const ring *r, const char *crs)
{
    PJ_CONTEXT *pc = proj_context_create();
    PJ *P = proj_create_crs_to_crs(pc, "OGC:CRS84", crs, NULL);
    if (!P)
        fail_msg("PROJ: no transformation to %s", crs);
    ring out = {malloc(r->n * sizeof(double)), malloc(r->n * sizeof(double)), r->n};
    if (!out.x || !out.y)
        fail_msg("out of memory");
    for (size_t i = 0; i < r->n; i++) {
        PJ_COORD c = proj_trans(P, PJ_FWD, proj_coord(r->x[i], r->y[i], 0, 0));
        if (c.xy.x == HUGE_VAL || c.xy.y == HUGE_VAL)
            fail_msg("PROJ: cannot transform (%g, %g) to %s", r->x[i], r->y[i], crs);
        out.x[i] = c.xy.x;
        out.y[i] = c.xy.y;
    }
    proj_destroy(P);
    proj_context_destroy(pc);
    return out;
}

/* ---- GeoJSON fixtures ---- */

/* "[[[x,y],...,[x0,y0]]]": the coordinates of a one-ring Polygon; %.17g round-trips. */
static void sb_polygon(sbuf *b, const ring *r)
{
    sb_printf(b, "[[");
    for (size_t i = 0; i <= r->n; i++)
        sb_printf(b, "%s[%.17g,%.17g]", i ? "," : "", r->x[i % r->n], r->y[i % r->n]);
    sb_printf(b, "]]");
}

typedef struct feat {
    const char *props; /* JSON members without braces, e.g. "\"shapeISO\":\"UA14\"" */
    const ring *poly;  /* a Polygon from this ring, or */
    const char *geom;  /* literal GeoJSON geometry (used when poly is NULL; "null" allowed) */
} feat;

/* Write a FeatureCollection to the scratch directory; crs: NULL or an OGC URN. */
static const char *write_fc(const char *name, const char *crs, const feat *f, size_t n)
{
    sbuf b = {NULL, 0, 0};
    sb_printf(&b, "{\"type\":\"FeatureCollection\",");
    if (crs)
        sb_printf(&b, "\"crs\":{\"type\":\"name\",\"properties\":{\"name\":\"%s\"}},", crs);
    sb_printf(&b, "\"features\":[");
    for (size_t i = 0; i < n; i++) {
        sb_printf(&b, "%s{\"type\":\"Feature\",\"properties\":{%s},\"geometry\":", i ? "," : "",
                  f[i].props);
        if (f[i].poly) {
            sb_printf(&b, "{\"type\":\"Polygon\",\"coordinates\":");
            sb_polygon(&b, f[i].poly);
            sb_printf(&b, "}");
        } else {
            sb_printf(&b, "%s", f[i].geom);
        }
        sb_printf(&b, "}");
    }
    sb_printf(&b, "]}\n");
    const char *path = tc_test_write(name, b.p);
    free(b.p);
    return path;
}

/* A path in the scratch directory (as tc_test_write uses), for files written by GDAL or never written. */
static const char *tmp_path(const char *name)
{
    static char path[4096];
    const char *dir = getenv("TC_TEST_TMPDIR");
    if (!dir || !*dir)
        dir = TC_TEST_TMP_DIR;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

/* ---- OGR fixtures (GeoPackage, Shapefile, KML) written through GDAL's C API ---- */

/* One polygon feature with a shapeISO field; epsg 0 writes no CRS (a Shapefile without .prj).
 * GDAL's drivers were registered by tc_ctx_new() in the group setup. */
static const char *write_ogr(const char *driver, const char *name, int epsg, const char *code,
                             const ring *r)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", tmp_path(name));
    GDALDriverH drv = GDALGetDriverByName(driver);
    if (!drv)
        fail_msg("GDAL driver %s missing", driver);
    if (access(path, F_OK) == 0) /* a leftover from an earlier run, with its sidecar files */
        GDALDeleteDataset(drv, path);
    GDALDatasetH ds = GDALCreate(drv, path, 0, 0, 0, GDT_Unknown, NULL);
    if (!ds)
        fail_msg("cannot create %s: %s", path, CPLGetLastErrorMsg());
    OGRSpatialReferenceH srs = NULL;
    if (epsg) {
        srs = OSRNewSpatialReference(NULL);
        if (OSRImportFromEPSG(srs, epsg) != OGRERR_NONE)
            fail_msg("EPSG:%d unknown to GDAL", epsg);
        OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
    }
    OGRLayerH layer = GDALDatasetCreateLayer(ds, "regions", srs, wkbPolygon, NULL);
    if (!layer)
        fail_msg("cannot create a layer in %s: %s", path, CPLGetLastErrorMsg());
    OGRFieldDefnH fld = OGR_Fld_Create("shapeISO", OFTString);
    assert_int_equal(OGR_L_CreateField(layer, fld, 1), OGRERR_NONE);
    OGR_Fld_Destroy(fld);
    OGRFeatureH f = OGR_F_Create(OGR_L_GetLayerDefn(layer));
    OGR_F_SetFieldString(f, 0, code);
    OGRGeometryH lr = OGR_G_CreateGeometry(wkbLinearRing);
    for (size_t i = 0; i <= r->n; i++)
        OGR_G_AddPoint_2D(lr, r->x[i % r->n], r->y[i % r->n]);
    OGRGeometryH poly = OGR_G_CreateGeometry(wkbPolygon);
    OGR_G_AddGeometryDirectly(poly, lr);
    OGR_F_SetGeometryDirectly(f, poly);
    assert_int_equal(OGR_L_CreateFeature(layer, f), OGRERR_NONE);
    OGR_F_Destroy(f);
    if (srs)
        OSRDestroySpatialReference(srs);
    GDALClose(ds);
    return tmp_path(name);
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* The message of the failed call names the file. */
#define assert_msg_names(ctx, path)                                                      \
    do {                                                                                 \
        if (!strstr(tc_ctx_errmsg(ctx), base_name(path)))                                \
            fail_msg("message '%s' does not name %s", tc_ctx_errmsg(ctx), base_name(path)); \
    } while (0)

/* ---- (a) fields, codes, merging ---- */

static void test_layer_autodetect_and_normalise(void **state)
{
    tc_ctx *ctx = *state;
    ring a = box(37000, 38000, 47000, 48000, 1), b = box(38500, 39000, 48500, 49000, 1);
    const feat f[] = {
        {"\"shapeISO\":\"UA14\",\"shapeName\":\"Donetsk Oblast\",\"other\":1", &a, NULL},
        {"\"shapeISO\":\" ua_09 \",\"shapeName\":\"Luhansk Oblast\",\"other\":2", &b, NULL},
    };
    const char *path = write_fc("layer_two.geojson", NULL, f, 2);

    tc_layer *L = NULL;
    assert_tc_ok(ctx, tc_layer_open(ctx, path, NULL, &L));
    assert_string_equal(tc_ctx_errmsg(ctx), "");
    assert_int_equal(tc_layer_count(L), 2);
    assert_string_equal(tc_layer_get_code_field(L), "shapeISO");
    assert_string_equal(tc_layer_get_name_field(L), "shapeName");

    const tc_region *r0 = tc_layer_get_region(L, 0), *r1 = tc_layer_get_region(L, 1);
    assert_non_null(r0);
    assert_non_null(r1);
    assert_null(tc_layer_get_region(L, 2));
    assert_string_equal(tc_region_get_code(r0), "UA-14"); /* "UA14" normalised */
    assert_string_equal(tc_region_get_code(r1), "UA-09"); /* case, '_' and spaces */
    assert_string_equal(tc_region_get_name(r0), "Donetsk Oblast");
    assert_string_equal(tc_region_get_name(r1), "Luhansk Oblast");
    assert_int_equal(tc_region_feature_count(r0), 1);
    assert_ptr_equal(tc_layer_find(L, "UA-14"), r0);
    assert_ptr_equal(tc_layer_find(L, "UA-09"), r1);
    assert_null(tc_layer_find(L, "UA14")); /* find is exact: codes are stored normalised */
    assert_null(tc_layer_find(L, NULL));

    /* The same vertices, measured by the same geod routine: rounding only. */
    double area = -1.0;
    assert_tc_ok(ctx, tc_region_area_m2(ctx, r0, &area));
    assert_close(area, ring_area(ctx, &a), 1e-12);
    assert_tc_ok(ctx, tc_region_area_m2(ctx, r1, &area));
    assert_close(area, ring_area(ctx, &b), 1e-12);

    /* WKT round trip: the region's geometry measured again through tc_wkt_area_m2; the WKT
     * writer keeps ~16 significant digits, so vertices move by < 1e-13 degree. */
    char *wkt = NULL;
    assert_tc_ok(ctx, tc_region_to_wkt(ctx, r1, &wkt));
    assert_true(strncmp(wkt, "MULTIPOLYGON", 12) == 0);
    double wkt_area = -1.0;
    assert_tc_ok(ctx, tc_wkt_area_m2(ctx, wkt, &wkt_area));
    assert_close(wkt_area, area, 1e-9);
    tc_free(wkt);

    tc_layer_free(L);
    ring_free(&a);
    ring_free(&b);
}

static void test_layer_merge_same_code(void **state)
{
    tc_ctx *ctx = *state;
    /* two disjoint parts of UA-14 (one spelt "UA14"), one UA-09, a non-ISO code kept as is */
    ring a = box(37000, 37500, 47000, 47500, 1), b = box(38000, 38400, 47000, 47300, 1);
    ring c = box(39000, 39500, 48500, 49000, 1), d = box(30000, 30100, 50000, 50100, 1);
    const feat f[] = {
        {"\"shapeISO\":\"UA-14\",\"shapeName\":\"Donetsk\"", &a, NULL},
        {"\"shapeISO\":\"UA-09\",\"shapeName\":\"Luhansk\"", &c, NULL},
        {"\"shapeISO\":\"UA14\",\"shapeName\":\"Donetsk\"", &b, NULL},
        {"\"shapeISO\":\"Region-1234\",\"shapeName\":\"Elsewhere\"", &d, NULL},
    };
    const char *path = write_fc("layer_merge.geojson", NULL, f, 4);
    tc_layer *L = NULL;
    assert_tc_ok(ctx, tc_layer_open(ctx, path, NULL, &L));
    assert_int_equal(tc_layer_count(L), 3);

    const tc_region *don = tc_layer_find(L, "UA-14");
    assert_non_null(don);
    assert_int_equal(tc_region_feature_count(don), 2);
    assert_int_equal(tc_region_feature_count(tc_layer_find(L, "UA-09")), 1);
    const tc_region *other = tc_layer_find(L, "Region-1234"); /* not code-like: verbatim */
    assert_non_null(other);
    assert_string_equal(tc_region_get_name(other), "Elsewhere");

    double area = -1.0;
    assert_tc_ok(ctx, tc_region_area_m2(ctx, don, &area));
    double sum = ring_area(ctx, &a) + ring_area(ctx, &b);
    print_message("# UA-14 from 2 features: %.6f km2 (parts sum %.6f km2)\n", area / 1e6,
                  sum / 1e6);
    /* disjoint parts: the union keeps both rings' vertices, so only rounding differs */
    assert_close(area, sum, 1e-12);

    char *wkt = NULL;
    assert_tc_ok(ctx, tc_region_to_wkt(ctx, don, &wkt));
    assert_non_null(strstr(wkt, ")), ((")); /* two polygons */
    tc_free(wkt);

    tc_layer_free(L);
    ring_free(&a);
    ring_free(&b);
    ring_free(&c);
    ring_free(&d);
}

static void test_layer_custom_fields(void **state)
{
    tc_ctx *ctx = *state;
    ring a = box(30000, 30500, 50000, 50500, 1);
    /* "name" would be auto-detected as a name field and shapeISO as a code field: the
     * options must win over both */
    const feat f[] = {{"\"iso\":\"UA-32\",\"label\":\"Kyiv Oblast\",\"shapeISO\":\"XX-1\","
                       "\"name\":\"wrong\"",
                       &a, NULL}};
    const char *path = write_fc("layer_custom.geojson", NULL, f, 1);

    tc_open_opts o = TC_OPEN_OPTS_INIT;
    o.code_field = "iso";
    o.name_field = "label";
    tc_layer *L = NULL;
    assert_tc_ok(ctx, tc_layer_open(ctx, path, &o, &L));
    assert_string_equal(tc_layer_get_code_field(L), "iso");
    assert_string_equal(tc_layer_get_name_field(L), "label");
    assert_int_equal(tc_layer_count(L), 1);
    assert_string_equal(tc_region_get_code(tc_layer_get_region(L, 0)), "UA-32");
    assert_string_equal(tc_region_get_name(tc_layer_get_region(L, 0)), "Kyiv Oblast");
    tc_layer_free(L);

    /* without options: the defaults find shapeISO and name */
    L = NULL;
    assert_tc_ok(ctx, tc_layer_open(ctx, path, NULL, &L));
    assert_string_equal(tc_layer_get_code_field(L), "shapeISO");
    assert_string_equal(tc_layer_get_name_field(L), "name");
    assert_string_equal(tc_region_get_code(tc_layer_get_region(L, 0)), "XX-1");
    assert_string_equal(tc_region_get_name(tc_layer_get_region(L, 0)), "wrong");
    tc_layer_free(L);

    /* named fields that do not exist */
    tc_layer *out = (tc_layer *)&o; /* sentinel */
    o.code_field = "nope";
    assert_tc_fails(ctx, tc_layer_open(ctx, path, &o, &out), TC_ERR_FORMAT);
    assert_non_null(strstr(tc_ctx_errmsg(ctx), "nope"));
    assert_msg_names(ctx, path);
    o.code_field = "iso";
    o.name_field = "nolabel";
    assert_tc_fails(ctx, tc_layer_open(ctx, path, &o, &out), TC_ERR_FORMAT);
    assert_non_null(strstr(tc_ctx_errmsg(ctx), "nolabel"));
    o.name_field = NULL;
    o.layer_name = "no_such_layer";
    assert_tc_fails(ctx, tc_layer_open(ctx, path, &o, &out), TC_ERR_FORMAT);
    assert_non_null(strstr(tc_ctx_errmsg(ctx), "no_such_layer"));
    assert_ptr_equal(out, (tc_layer *)&o);

    ring_free(&a);
}

static void test_layer_no_name_field(void **state)
{
    tc_ctx *ctx = *state;
    ring a = box(30000, 30200, 50000, 50200, 1);
    const feat f[] = {{"\"code\":\"UA-32\",\"population\":1700000", &a, NULL}};
    const char *path = write_fc("layer_noname.geojson", NULL, f, 1);
    tc_layer *L = NULL;
    assert_tc_ok(ctx, tc_layer_open(ctx, path, NULL, &L));
    assert_string_equal(tc_layer_get_code_field(L), "code");
    assert_string_equal(tc_layer_get_name_field(L), "");
    assert_string_equal(tc_region_get_name(tc_layer_get_region(L, 0)), "");
    tc_layer_free(L);
    ring_free(&a);
}

static void test_layer_null_geometry_skipped(void **state)
{
    tc_ctx *ctx = *state;
    ring a = box(30000, 30200, 50000, 50200, 1);
    const feat f[] = {
        {"\"shapeISO\":\"UA-32\"", &a, NULL},
        {"\"shapeISO\":\"UA-18\"", NULL, "null"}, /* no geometry: skipped */
    };
    const char *path = write_fc("layer_nullgeom_skip.geojson", NULL, f, 2);
    size_t before = tc_ctx_warning_count(ctx);
    tc_layer *L = NULL;
    assert_tc_ok(ctx, tc_layer_open(ctx, path, NULL, &L));
    assert_int_equal(tc_layer_count(L), 1);
    assert_null(tc_layer_find(L, "UA-18"));
    assert_int_equal(tc_ctx_warning_count(ctx), before + 1);
    const char *w = tc_ctx_get_warning(ctx, before);
    print_message("# warning: %s\n", w);
    assert_non_null(strstr(w, "UA-18"));
    assert_non_null(strstr(w, "skipped"));
    tc_layer_free(L);
    ring_free(&a);
}

/* A bow-tie: its edges cross at (31.0005, 51.0005). Make-valid keeps both triangles. */
#define BOWTIE_GEOJSON                                                                   \
    "{\"type\":\"Polygon\",\"coordinates\":[[[31,51],[31.001,51.001],[31.001,51],"         \
    "[31,51.001],[31,51]]]}"

static double bowtie_triangles_m2(tc_ctx *ctx)
{
    const double llon[] = {31, 31.0005, 31}, llat[] = {51, 51.0005, 51.001};
    const double rlon[] = {31.0005, 31.001, 31.001}, rlat[] = {51.0005, 51.001, 51};
    double left = -1.0, right = -1.0;
    assert_tc_ok(ctx, tc_ring_area_m2(ctx, llon, llat, 3, &left));
    assert_tc_ok(ctx, tc_ring_area_m2(ctx, rlon, rlat, 3, &right));
    return left + right;
}

/* Library bug: the loader densifies (GEOSDensify) before make-valid, and GEOS's densifier
 * "validates" an invalid polygon with buffer(0), which keeps one lobe of a bow-tie. The
 * region then has half the area and no repair warning is given. */
static void test_regress_layer_bowtie_silently_halved(void **state)
{
    tc_ctx *ctx = *state;
    const feat f[] = {{"\"shapeISO\":\"UA-74\"", NULL, BOWTIE_GEOJSON}};
    const char *path = write_fc("layer_bowtie.geojson", NULL, f, 1);
    size_t before = tc_ctx_warning_count(ctx);
    tc_layer *L = NULL;
    assert_tc_ok(ctx, tc_layer_open(ctx, path, NULL, &L));
    double area = -1.0;
    assert_tc_ok(ctx, tc_region_area_m2(ctx, tc_layer_find(L, "UA-74"), &area));
    tc_layer_free(L);
    double want = bowtie_triangles_m2(ctx);
    print_message("# bow-tie region: %.3f m2; both triangles %.3f m2; %zu warning(s)\n", area,
                  want, tc_ctx_warning_count(ctx) - before);
    /* as in test_area's bow-tie: the node (31.0005, 51.0005) may be off by an ulp */
    assert_close(area, want, 1e-9);
    assert_int_equal(tc_ctx_warning_count(ctx), before + 1);
    const char *w = tc_ctx_get_warning(ctx, before);
    assert_non_null(strstr(w, "UA-74"));
    assert_non_null(strstr(w, "repaired"));
}

/* The same bug through tc_snapshot_open (the same reader). */
static void test_regress_snapshot_bowtie_silently_halved(void **state)
{
    tc_ctx *ctx = *state;
    const feat f[] = {{"\"id\":1", NULL, BOWTIE_GEOJSON}};
    const char *path = write_fc("layer_snap_bowtie.geojson", NULL, f, 1);
    size_t before = tc_ctx_warning_count(ctx);
    tc_snapshot *s = NULL;
    assert_tc_ok(ctx, tc_snapshot_open(ctx, path, NULL, &s));
    double area = -1.0;
    assert_tc_ok(ctx, tc_snapshot_area_m2(ctx, s, &area));
    tc_snapshot_free(s);
    double want = bowtie_triangles_m2(ctx);
    print_message("# bow-tie snapshot: %.3f m2; both triangles %.3f m2; %zu warning(s)\n", area,
                  want, tc_ctx_warning_count(ctx) - before);
    assert_close(area, want, 1e-9); /* as above */
    assert_int_equal(tc_ctx_warning_count(ctx), before + 1);
    assert_non_null(strstr(tc_ctx_get_warning(ctx, before), "repaired"));
}

/* ---- (b) reprojection and other formats ---- */

/* The box lon 30..31, lat 48..49, vertices every 0.001 degree (4000 in all). */
static ring reference_box(void) { return box(30000, 31000, 48000, 49000, 1); }

static double open_single_area(tc_ctx *ctx, const char *path, const char *code)
{
    tc_layer *L = NULL;
    assert_tc_ok(ctx, tc_layer_open(ctx, path, NULL, &L));
    assert_int_equal(tc_layer_count(L), 1);
    const tc_region *r = tc_layer_find(L, code);
    assert_non_null(r);
    double area = -1.0;
    assert_tc_ok(ctx, tc_region_area_m2(ctx, r, &area));
    tc_layer_free(L);
    return area;
}

static void check_reprojected(tc_ctx *ctx, const char *what, double got, double want)
{
    double rel = fabs(got - want) / want;
    print_message("# %s: %.6f km2, WGS84 original %.6f km2, rel diff %.3g\n", what, got / 1e6,
                  want / 1e6, rel);
    (void)ctx;
    /* The contract: a reprojected source measures like its WGS84 original within 0.1%. */
    assert_close(got, want, 1e-3);
    /* In fact much closer: the vertices are dense (0.001 degree) and written with 17 digits,
     * so PROJ's inverse returns them to ~1e-9 degree and the library measures the same
     * geodesic polygon. 1e-7 would still catch a wrong datum or axis swap (which moves or
     * distorts the shape by far more). */
    assert_close(got, want, 1e-7);
}

static void test_layer_reprojected_geojson(void **state)
{
    tc_ctx *ctx = *state;
    ring ll = reference_box();
    double want = ring_area(ctx, &ll);

    static const struct {
        const char *crs, *urn, *file;
    } cases[] = {
        {"EPSG:3857", "urn:ogc:def:crs:EPSG::3857", "layer_3857.geojson"},
        {"EPSG:32636", "urn:ogc:def:crs:EPSG::32636", "layer_32636.geojson"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        ring p = project_ring(&ll, cases[k].crs);
        /* really projected: metres, far outside the lon/lat range */
        assert_true(fabs(p.x[0]) > 1e5 && fabs(p.y[0]) > 1e6);
        const feat f[] = {{"\"shapeISO\":\"UA-35\",\"shapeName\":\"Box\"", &p, NULL}};
        const char *path = write_fc(cases[k].file, cases[k].urn, f, 1);
        check_reprojected(ctx, cases[k].crs, open_single_area(ctx, path, "UA-35"), want);
        ring_free(&p);
    }
    ring_free(&ll);
}

static void test_layer_geopackage_utm(void **state)
{
    tc_ctx *ctx = *state;
    ring ll = reference_box();
    double want = ring_area(ctx, &ll);
    ring p = project_ring(&ll, "EPSG:32636");
    const char *path = write_ogr("GPKG", "layer_utm.gpkg", 32636, "UA35", &p);
    check_reprojected(ctx, "GeoPackage EPSG:32636", open_single_area(ctx, path, "UA-35"), want);
    ring_free(&p);
    ring_free(&ll);
}

static void test_layer_shapefile_wgs84(void **state)
{
    tc_ctx *ctx = *state;
    ring ll = reference_box();
    const char *path = write_ogr("ESRI Shapefile", "layer_wgs84.shp", 4326, "UA-35", &ll);
    /* EPSG:4326 from a .prj is the library's own CRS: no transformation, the same vertices */
    assert_close(open_single_area(ctx, path, "UA-35"), ring_area(ctx, &ll), 1e-12);
    ring_free(&ll);
}

/* KML (issue 2 names it; WGS84 lon/lat by definition): GDAL's KML driver writes the
 * first text field as each placemark's <name>, which reads back as the field "Name": the
 * code field is named, as a user of such a file would (--code-field Name). */
static void test_layer_kml(void **state)
{
    tc_ctx *ctx = *state;
    ring ll = reference_box();
    const char *path = write_ogr("KML", "layer.kml", 4326, "UA-35", &ll);
    tc_open_opts o = TC_OPEN_OPTS_INIT;
    o.code_field = "Name";
    tc_layer *L = NULL;
    assert_tc_ok(ctx, tc_layer_open(ctx, path, &o, &L));
    assert_int_equal(tc_layer_count(L), 1);
    const tc_region *r = tc_layer_find(L, "UA-35");
    assert_non_null(r);
    double area = -1.0;
    assert_tc_ok(ctx, tc_region_area_m2(ctx, r, &area));
    /* coordinates written as decimal text: the area to that text's rounding */
    assert_close(area, ring_area(ctx, &ll), 1e-9);
    tc_layer_free(L);
    /* without the field named, a clear error naming the file */
    assert_tc_fails(ctx, tc_layer_open(ctx, path, NULL, &L), TC_ERR_FORMAT);
    assert_msg_names(ctx, path);
    ring_free(&ll);
}

static void test_layer_no_crs_lonlat_accepted(void **state)
{
    tc_ctx *ctx = *state;
    /* A CSV with a WKT column has no CRS in GDAL; in-range coordinates are taken as lon/lat. */
    const char *path = tc_test_write(
        "layer_nocrs_lonlat.csv",
        "WKT,shapeISO\n\"POLYGON((30 48,30.002 48,30.002 48.002,30 48.002,30 48))\",UA-35\n");
    const double lon[] = {30, 30.002, 30.002, 30}, lat[] = {48, 48, 48.002, 48.002};
    double want = -1.0;
    assert_tc_ok(ctx, tc_ring_area_m2(ctx, lon, lat, 4, &want));
    /* same vertices, same routine */
    assert_close(open_single_area(ctx, path, "UA-35"), want, 1e-12);
}

/* ---- (c) failures ---- */

static void test_layer_open_invalid_args(void **state)
{
    tc_ctx *ctx = *state;
    ring a = box(30000, 30200, 50000, 50200, 1);
    const feat f[] = {{"\"shapeISO\":\"UA-32\"", &a, NULL}};
    const char *path = write_fc("layer_args.geojson", NULL, f, 1);
    tc_layer *out = (tc_layer *)&a; /* sentinel */
    assert_int_equal(tc_layer_open(NULL, path, NULL, &out), TC_ERR_INVALID_ARG);
    assert_tc_fails(ctx, tc_layer_open(ctx, NULL, NULL, &out), TC_ERR_INVALID_ARG);
    assert_tc_fails(ctx, tc_layer_open(ctx, path, NULL, NULL), TC_ERR_INVALID_ARG);
    tc_open_opts o = TC_OPEN_OPTS_INIT;
    o.version = 99;
    assert_tc_fails(ctx, tc_layer_open(ctx, path, &o, &out), TC_ERR_INVALID_ARG);
    assert_ptr_equal(out, (tc_layer *)&a);

    double area = -7.0;
    assert_int_equal(tc_region_area_m2(NULL, NULL, &area), TC_ERR_INVALID_ARG);
    assert_tc_fails(ctx, tc_region_area_m2(ctx, NULL, &area), TC_ERR_INVALID_ARG);
    assert_true(area == -7.0);
    char *wkt = (char *)&a;
    assert_tc_fails(ctx, tc_region_to_wkt(ctx, NULL, &wkt), TC_ERR_INVALID_ARG);
    assert_ptr_equal(wkt, (char *)&a);

    /* accessors on NULL */
    assert_int_equal(tc_layer_count(NULL), 0);
    assert_null(tc_layer_get_region(NULL, 0));
    assert_null(tc_layer_find(NULL, "UA-32"));
    assert_int_equal(tc_region_feature_count(NULL), 0);
    tc_layer_free(NULL);
    ring_free(&a);
}

/* Open must fail with `want`, name the file, and leave *out alone. */
static void expect_open_fails(tc_ctx *ctx, const char *path, tc_status want)
{
    int sentinel;
    tc_layer *out = (tc_layer *)&sentinel;
    assert_tc_fails(ctx, tc_layer_open(ctx, path, NULL, &out), want);
    assert_ptr_equal(out, (tc_layer *)&sentinel);
    assert_msg_names(ctx, path);
}

static void test_layer_missing_file(void **state)
{
    tc_ctx *ctx = *state;
    const char *path = tmp_path("layer_does_not_exist.geojson");
    expect_open_fails(ctx, path, TC_ERR_IO);
    assert_non_null(strstr(tc_ctx_errmsg(ctx), "No such file or directory"));
}

static void test_layer_empty_collection(void **state)
{
    tc_ctx *ctx = *state;
    expect_open_fails(ctx, write_fc("layer_empty.geojson", NULL, NULL, 0), TC_ERR_FORMAT);
    /* an empty layer that does have the code field */
    expect_open_fails(ctx, tc_test_write("layer_empty.csv", "WKT,shapeISO\n"), TC_ERR_FORMAT);
    /* only features without geometry */
    const feat f[] = {{"\"shapeISO\":\"UA-32\"", NULL, "null"}};
    expect_open_fails(ctx, write_fc("layer_nullgeom.geojson", NULL, f, 1), TC_ERR_FORMAT);
}

static void test_layer_non_polygon(void **state)
{
    tc_ctx *ctx = *state;
    ring a = box(30000, 30200, 50000, 50200, 1);
    const feat line[] = {
        {"\"shapeISO\":\"UA-32\"", &a, NULL},
        {"\"shapeISO\":\"UA-18\"", NULL,
         "{\"type\":\"LineString\",\"coordinates\":[[30,48],[31,49]]}"},
    };
    expect_open_fails(ctx, write_fc("layer_line.geojson", NULL, line, 2), TC_ERR_FORMAT);
    assert_non_null(strstr(tc_ctx_errmsg(ctx), "Line String")); /* OGR's type name */
    const feat point[] = {
        {"\"shapeISO\":\"UA-18\"", NULL, "{\"type\":\"Point\",\"coordinates\":[30,48]}"}};
    expect_open_fails(ctx, write_fc("layer_point.geojson", NULL, point, 1), TC_ERR_FORMAT);
    assert_non_null(strstr(tc_ctx_errmsg(ctx), "Point"));
    ring_free(&a);
}

static void test_layer_truncated_json(void **state)
{
    tc_ctx *ctx = *state;
    /* GDAL cannot open a truncated GeoJSON at all: the library reports it as unreadable */
    expect_open_fails(ctx,
                      tc_test_write("layer_truncated.geojson",
                                    "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":"
                                    "\"Feature\",\"properties\":{\"shapeISO\":\"UA-14\"},"
                                    "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[30,"
                                    "48],[31,48],[31,"),
                      TC_ERR_IO);
}

static void test_layer_missing_code_field(void **state)
{
    tc_ctx *ctx = *state;
    ring a = box(30000, 30200, 50000, 50200, 1);
    const feat f[] = {{"\"shapeName\":\"Kyiv Oblast\",\"id\":7", &a, NULL}};
    expect_open_fails(ctx, write_fc("layer_nocode.geojson", NULL, f, 1), TC_ERR_FORMAT);
    /* the field exists, but one feature leaves it empty */
    const feat g[] = {{"\"shapeISO\":\"UA-32\"", &a, NULL}, {"\"shapeISO\":\"\"", &a, NULL}};
    expect_open_fails(ctx, write_fc("layer_emptycode.geojson", NULL, g, 2), TC_ERR_FORMAT);
    ring_free(&a);
}

static void test_layer_projected_without_crs(void **state)
{
    tc_ctx *ctx = *state;
    /* Web-Mercator-like metres with no CRS anywhere: a CSV with a WKT column ... */
    expect_open_fails(ctx,
                      tc_test_write("layer_nocrs.csv",
                                    "WKT,shapeISO\n\"POLYGON((3400000 6200000,3500000 6200000,"
                                    "3500000 6300000,3400000 6200000))\",UA-35\n"),
                      TC_ERR_CRS);
    /* ... and a Shapefile without .prj */
    ring ll = reference_box();
    ring p = project_ring(&ll, "EPSG:3857");
    const char *shp = write_ogr("ESRI Shapefile", "layer_noprj.shp", 0, "UA-35", &p);
    char prj[4096];
    snprintf(prj, sizeof prj, "%.*s.prj", (int)(strlen(shp) - 4), shp);
    assert_int_equal(access(prj, F_OK), -1); /* really no CRS */
    expect_open_fails(ctx, shp, TC_ERR_CRS);
    ring_free(&p);
    ring_free(&ll);
}

/* Library bug: the "no CRS" message is built by tc__fail() from a %s argument that points
 * into ctx->errmsg itself (strstr(ctx->errmsg, "coordinate (")), the buffer vsnprintf is
 * writing: overlapping source and destination, undefined behaviour. Observed text:
 * "... not longitude/latitude (coordinates are not longitude/latitude (ngitude [-180, ...".
 * The message must quote the offending coordinate. */
static void test_regress_nocrs_message_garbled(void **state)
{
    tc_ctx *ctx = *state;
    expect_open_fails(ctx,
                      tc_test_write("layer_nocrs_msg.csv",
                                    "WKT,shapeISO\n\"POLYGON((3400000 6200000,3500000 6200000,"
                                    "3500000 6300000,3400000 6200000))\",UA-35\n"),
                      TC_ERR_CRS);
    const char *msg = tc_ctx_errmsg(ctx);
    assert_non_null(strstr(msg, "has no CRS"));
    if (!strstr(msg, "(3.4e+06, 6.2e+06)"))
        fail_msg("message does not quote the coordinate: %s", msg);
}

static void test_layer_bad_coordinates(void **state)
{
    tc_ctx *ctx = *state;
    /* GeoJSON implies WGS84, so bad coordinates there are a geometry error, not a CRS one */
    static const char *const geoms[] = {
        "{\"type\":\"Polygon\",\"coordinates\":[[[30,48],[31,48],[31,NaN],[30,48]]]}",
        "{\"type\":\"Polygon\",\"coordinates\":[[[30,48],[31,48],[31,1e400],[30,48]]]}",
        "{\"type\":\"Polygon\",\"coordinates\":[[[30,48],[31,48],[3.4e6,6.2e6],[30,48]]]}",
        "{\"type\":\"Polygon\",\"coordinates\":[[[30,48],[31,48],[31,1e300],[30,48]]]}",
    };
    for (size_t i = 0; i < sizeof geoms / sizeof geoms[0]; i++) {
        char name[64];
        snprintf(name, sizeof name, "layer_badcoord%zu.geojson", i);
        const feat f[] = {{"\"shapeISO\":\"UA-32\"", NULL, geoms[i]}};
        expect_open_fails(ctx, write_fc(name, NULL, f, 1), TC_ERR_GEOMETRY);
    }
}

/* ---- snapshots ---- */

static void test_snapshot_union_of_overlaps(void **state)
{
    tc_ctx *ctx = *state;
    /* A = lon 30..31 x lat 48..49, B = lon 30.5..31.5 x lat 48.5..49.5, overlap 30.5..31 x
     * 48.5..49; every corner lies on the other boxes' 0.001-degree grids */
    ring a = box(30000, 31000, 48000, 49000, 1), b = box(30500, 31500, 48500, 49500, 1);
    ring o = box(30500, 31000, 48500, 49000, 1);
    double want = ring_area(ctx, &a) + ring_area(ctx, &b) - ring_area(ctx, &o);
    const feat f[] = {{"\"id\":1", &a, NULL}, {"\"id\":2", &b, NULL}};
    const char *path = write_fc("layer_snap_overlap.geojson", NULL, f, 2);

    tc_snapshot *s = NULL;
    assert_tc_ok(ctx, tc_snapshot_open(ctx, path, NULL, &s));
    assert_string_equal(tc_snapshot_get_path(s), path);
    assert_int_equal(tc_snapshot_polygon_count(s), 2);
    double area = -1.0;
    assert_tc_ok(ctx, tc_snapshot_area_m2(ctx, s, &area));
    print_message("# union %.6f km2, A + B - overlap %.6f km2, sum %.6f km2\n", area / 1e6,
                  want / 1e6, (ring_area(ctx, &a) + ring_area(ctx, &b)) / 1e6);
    /* The union's boundary runs through the same grid vertices as A, B and the overlap, and
     * geodesic polygon areas add exactly over shared vertices: rounding only (the overlap is
     * a quarter of each box, so double counting would be off by 14%). */
    assert_close(area, want, 1e-10);
    tc_snapshot_free(s);
    ring_free(&a);
    ring_free(&b);
    ring_free(&o);
}

static void test_snapshot_empty(void **state)
{
    tc_ctx *ctx = *state;
    const char *path = write_fc("layer_snap_empty.geojson", NULL, NULL, 0);
    tc_snapshot *s = NULL;
    assert_tc_ok(ctx, tc_snapshot_open(ctx, path, NULL, &s));
    assert_int_equal(tc_snapshot_polygon_count(s), 0);
    double area = -1.0;
    assert_tc_ok(ctx, tc_snapshot_area_m2(ctx, s, &area));
    assert_true(area == 0.0);
    tc_snapshot_free(s);
}

static void test_snapshot_failures(void **state)
{
    tc_ctx *ctx = *state;
    int sentinel;
    tc_snapshot *out = (tc_snapshot *)&sentinel;
    char path[4096];
    snprintf(path, sizeof path, "%s", tmp_path("layer_snap_missing.geojson"));
    assert_tc_fails(ctx, tc_snapshot_open(ctx, path, NULL, &out), TC_ERR_IO);
    assert_msg_names(ctx, path);
    const feat f[] = {{"\"id\":1", NULL, "{\"type\":\"Point\",\"coordinates\":[30,48]}"}};
    const char *pt = write_fc("layer_snap_point.geojson", NULL, f, 1);
    assert_tc_fails(ctx, tc_snapshot_open(ctx, pt, NULL, &out), TC_ERR_FORMAT);
    assert_msg_names(ctx, pt);
    assert_tc_fails(ctx, tc_snapshot_open(ctx, NULL, NULL, &out), TC_ERR_INVALID_ARG);
    assert_tc_fails(ctx, tc_snapshot_open(ctx, pt, NULL, NULL), TC_ERR_INVALID_ARG);
    assert_ptr_equal(out, (tc_snapshot *)&sentinel);
    double area = -7.0;
    assert_tc_fails(ctx, tc_snapshot_area_m2(ctx, NULL, &area), TC_ERR_INVALID_ARG);
    assert_true(area == -7.0);
    tc_snapshot_free(NULL);
}


/* A GeoJSON file is handed to GDAL as text (lib/ogr_read.c: one parse instead of two
 * streaming passes): the same regions, bit for bit, as the same bytes read as a file (a
 * name GDAL sniffs, not .geojson); and text GDAL's file reader refuses (data after the
 * object, a comment, a trailing comma, single quotes) is refused as before. */
static void test_layer_geojson_as_text(void **state)
{
    tc_ctx *ctx = *state;
    static const char fc[] =
        "{\"type\":\"FeatureCollection\",\"features\":["
        "{\"type\":\"Feature\",\"properties\":{\"shapeISO\":\"UA-14\",\"shapeName\":\"A \\\"}\"},"
        "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[37.1,47.3],[38.25,47.9],"
        "[38.3,47.1],[37.1,47.3]]]}},"
        "{\"type\":\"Feature\",\"properties\":{\"shapeISO\":\"UA-09\",\"shapeName\":\"B\"},"
        "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[38.3,47.1],[39.0,48.123456789],"
        "[39.5,47.0],[38.3,47.1]]]}}]}\n";
    const char *as_text = tc_test_write("text_mode.geojson", fc);
    char as_file[4096];
    snprintf(as_file, sizeof as_file, "%s", tc_test_write("text_mode.gjs", fc));
    tc_layer *a = NULL, *b = NULL;
    assert_tc_ok(ctx, tc_layer_open(ctx, as_text, NULL, &a));
    assert_tc_ok(ctx, tc_layer_open(ctx, as_file, NULL, &b));
    assert_int_equal(tc_layer_count(a), 2);
    assert_int_equal(tc_layer_count(b), 2);
    for (size_t i = 0; i < 2; i++) {
        const tc_region *ra = tc_layer_get_region(a, i), *rb = tc_layer_get_region(b, i);
        assert_string_equal(tc_region_get_code(ra), tc_region_get_code(rb));
        assert_string_equal(tc_region_get_name(ra), tc_region_get_name(rb));
        double x = -1, y = -2;
        assert_tc_ok(ctx, tc_region_area_m2(ctx, ra, &x));
        assert_tc_ok(ctx, tc_region_area_m2(ctx, rb, &y));
        assert_true(x == y);
    }
    tc_layer_free(a);
    tc_layer_free(b);
    static const char *const refused[] = {
        "{\"type\":\"FeatureCollection\",\"features\":[]} trailing",
        "{\"type\":\"FeatureCollection\",\"features\":[]} {}",
        "{\"type\":\"FeatureCollection\",/* c */\"features\":[]}",
        "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"properties\":{},"
        "\"geometry\":{\"type\":\"Point\",\"coordinates\":[1,2]}},]}",
        "{'type':'FeatureCollection','features':[]}",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        tc_layer *l = NULL;
        tc_status st = tc_layer_open(ctx, tc_test_write("text_mode_bad.geojson", refused[i]),
                                     NULL, &l);
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", tc_ctx_errmsg(ctx));
        tc_layer *m = NULL;
        tc_status st2 = tc_layer_open(ctx, tc_test_write("text_mode_bad.gjs", refused[i]), NULL, &m);
        print_message("# %s / %s: %s\n", tc_status_str(st), tc_status_str(st2), msg);
        assert_int_not_equal(st, TC_OK);
        assert_null(l);
        assert_int_equal(st, st2);
        tc_layer_free(m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layer_autodetect_and_normalise),
        cmocka_unit_test(test_layer_merge_same_code),
        cmocka_unit_test(test_layer_custom_fields),
        cmocka_unit_test(test_layer_no_name_field),
        cmocka_unit_test(test_layer_null_geometry_skipped),
        cmocka_unit_test(test_regress_layer_bowtie_silently_halved),
        cmocka_unit_test(test_regress_snapshot_bowtie_silently_halved),
        cmocka_unit_test(test_layer_reprojected_geojson),
        cmocka_unit_test(test_layer_geopackage_utm),
        cmocka_unit_test(test_layer_shapefile_wgs84),
        cmocka_unit_test(test_layer_kml),
        cmocka_unit_test(test_layer_no_crs_lonlat_accepted),
        cmocka_unit_test(test_layer_open_invalid_args),
        cmocka_unit_test(test_layer_missing_file),
        cmocka_unit_test(test_layer_empty_collection),
        cmocka_unit_test(test_layer_non_polygon),
        cmocka_unit_test(test_layer_truncated_json),
        cmocka_unit_test(test_layer_missing_code_field),
        cmocka_unit_test(test_layer_projected_without_crs),
        cmocka_unit_test(test_regress_nocrs_message_garbled),
        cmocka_unit_test(test_layer_bad_coordinates),
        cmocka_unit_test(test_snapshot_union_of_overlaps),
        cmocka_unit_test(test_snapshot_empty),
        cmocka_unit_test(test_snapshot_failures),
        cmocka_unit_test(test_layer_geojson_as_text),
    };
    return cmocka_run_group_tests_name("layer", tests, tc_test_ctx_setup, tc_test_ctx_teardown);
}
