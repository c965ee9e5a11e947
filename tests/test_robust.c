/* Numerical robustness (docs/reliability.md): a report must not depend on how the same
 * shapes are written down. The same scene is written with every ring reversed, with every
 * ring starting at another vertex, with the features in another order, cut into tiles
 * along grid lines (regions as several features with one code, the snapshot as several
 * features), and moved in longitude across the prime meridian (where the area code takes
 * another path); every row of every variant must equal the original's.
 *
 * The synthetic scene has four units and a snapshot that leave a real gap, a sliver and
 * enclosed pieces. Its vertices lie on a 0.001-degree grid with every edge pre-densified
 * to that step (half the library's densification step), so that a tile cut adds no vertex
 * the library would then place differently: the variants hold the same points, and only
 * summation order and overlay noding differ. The real-data case permutes the DeepState
 * snapshot of 2025-09-01 over the real boundaries. */
#define GEOS_USE_ONLY_R_API
#include <geos_c.h>

#include "tc_test.h"

static GEOSContextHandle_t G; /* the test's own GEOS handle, for cutting tiles */


/* ---- text ---- */

/* ---- the scene ---- */

/* A ring given by its corners in thousandths of a degree (closed implicitly). */
typedef struct corners {
    int n;
    int xy[16][2];
} corners;

typedef struct shape {
    const char *code; /* NULL for snapshot polygons */
    int n_rings;      /* shell, then holes */
    corners ring[2];
} shape;

/* Four units in a 2 x 2 block (one with a hole, one with a slanted border), and a snapshot
 * that leaves: an enclosed hole in UA-14, an enclosed rest in UA-09 (with a controlled
 * island in it), a real gap across UA-65 and UA-23, and a 370 m sliver along UA-23's east
 * edge. */
static const shape scene_units[] = {
    {"UA-14", 2, {{6, {{30000, 48000}, {30500, 48000}, {30520, 48250}, {30500, 48500},
                       {30000, 48500}, {30000, 48000}}},
                  {5, {{30100, 48100}, {30200, 48100}, {30200, 48200}, {30100, 48200},
                       {30100, 48100}}}}},
    {"UA-09", 1, {{6, {{30500, 48000}, {31000, 48000}, {31000, 48500}, {30500, 48500},
                       {30520, 48250}, {30500, 48000}}}}},
    {"UA-65", 1, {{5, {{30000, 48500}, {30500, 48500}, {30500, 49000}, {30000, 49000},
                       {30000, 48500}}}}},
    {"UA-23", 1, {{5, {{30500, 48500}, {31000, 48500}, {31000, 49000}, {30500, 49000},
                       {30500, 48500}}}}},
};

static const shape scene_snap[] = {
    {NULL, 2, {{7, {{29900, 47900}, {30700, 47900}, {30700, 48600}, {30300, 48600},
                    {30300, 48550}, {29900, 48550}, {29900, 47900}}},
               {5, {{30300, 48200}, {30400, 48200}, {30400, 48300}, {30300, 48300},
                    {30300, 48200}}}}},
    {NULL, 1, {{5, {{30600, 48500}, {30995, 48500}, {30995, 49000}, {30600, 49000},
                    {30600, 48500}}}}},
    {NULL, 1, {{4, {{30800, 48200}, {30850, 48200}, {30850, 48250}, {30800, 48200}}}}},
};

/* A GEOS polygon of the shape, every edge cut into steps of at most 0.001 degree. */
static GEOSGeometry *shape_geom(const shape *s)
{
    GEOSGeometry *rings[2] = {NULL, NULL};
    for (int r = 0; r < s->n_rings; r++) {
        const corners *c = &s->ring[r];
        size_t n = 1;
        for (int i = 0; i + 1 < c->n; i++) {
            int dx = abs(c->xy[i + 1][0] - c->xy[i][0]), dy = abs(c->xy[i + 1][1] - c->xy[i][1]);
            n += (size_t)(dx > dy ? dx : dy);
        }
        GEOSCoordSequence *seq = GEOSCoordSeq_create_r(G, (unsigned)n, 2);
        size_t k = 0;
        for (int i = 0; i + 1 < c->n; i++) {
            int x0 = c->xy[i][0], y0 = c->xy[i][1], x1 = c->xy[i + 1][0], y1 = c->xy[i + 1][1];
            int steps = abs(x1 - x0) > abs(y1 - y0) ? abs(x1 - x0) : abs(y1 - y0);
            for (int t = 0; t < steps; t++, k++) {
                /* on the grid when the edge is axis-aligned; exact ratios otherwise */
                double x = (x0 * (double)steps + (x1 - x0) * (double)t) / steps / 1000.0;
                double y = (y0 * (double)steps + (y1 - y0) * (double)t) / steps / 1000.0;
                GEOSCoordSeq_setXY_r(G, seq, (unsigned)k, x, y);
            }
        }
        GEOSCoordSeq_setXY_r(G, seq, (unsigned)k, c->xy[0][0] / 1000.0, c->xy[0][1] / 1000.0);
        rings[r] = GEOSGeom_createLinearRing_r(G, seq);
        assert_non_null(rings[r]);
    }
    GEOSGeometry *p = GEOSGeom_createPolygon_r(G, rings[0], rings + 1, (unsigned)(s->n_rings - 1));
    assert_non_null(p);
    return p;
}

/* ---- writing variants ---- */

typedef struct variant {
    const char *name;
    bool reverse;    /* every ring in the opposite direction */
    int rotate;      /* every ring starts this many vertices later */
    bool reorder;    /* features in another order */
    int tiles;       /* cut into tiles of this many thousandths (0: no cut) */
    double shift;    /* added to every longitude */
} variant;

/* One ring as GeoJSON, from a GEOS ring, permuted as the variant says. */
static void put_ring(sbuf *b, const GEOSGeometry *ring, const variant *v)
{
    const GEOSCoordSequence *seq = GEOSGeom_getCoordSeq_r(G, ring);
    unsigned int n = 0;
    assert_true(seq && GEOSCoordSeq_getSize_r(G, seq, &n) && n >= 4);
    unsigned int m = n - 1; /* distinct vertices */
    sb_printf(b, "[");
    for (unsigned int i = 0; i <= m; i++) {
        unsigned int k = (i + (unsigned)v->rotate) % m;
        if (v->reverse)
            k = (m - k) % m;
        double x = 0, y = 0;
        GEOSCoordSeq_getXY_r(G, seq, k, &x, &y);
        sb_printf(b, "%s[%.17g,%.17g]", i ? "," : "", x + v->shift, y);
    }
    sb_printf(b, "]");
}

static void put_polygon(sbuf *b, const GEOSGeometry *p, const variant *v)
{
    sb_printf(b, "{\"type\":\"Polygon\",\"coordinates\":[");
    put_ring(b, GEOSGetExteriorRing_r(G, p), v);
    for (int i = 0; i < GEOSGetNumInteriorRings_r(G, p); i++) {
        sb_printf(b, ",");
        put_ring(b, GEOSGetInteriorRingN_r(G, p, i), v);
    }
    sb_printf(b, "]}");
}

/* The features of one variant: (code, polygon) pairs, possibly cut into tiles. */
typedef struct feature {
    const char *code;
    GEOSGeometry *g; /* owned */
} feature;

static size_t cut_tiles(const shape *shapes, size_t n, int tile, feature *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        GEOSGeometry *g = shape_geom(&shapes[i]);
        if (!tile) {
            assert_true(k < cap);
            out[k++] = (feature){shapes[i].code, g};
            continue;
        }
        double x0, y0, x1, y1;
        GEOSGeom_getExtent_r(G, g, &x0, &y0, &x1, &y1);
        /* tile lines at odd multiples of tile/2 thousandths: through the units' interiors */
        double t = tile / 1000.0;
        for (double tx = floor(x0 / t) * t - t / 2; tx < x1; tx += t) {
            for (double ty = floor(y0 / t) * t - t / 2; ty < y1; ty += t) {
                GEOSGeometry *box = GEOSGeom_createRectangle_r(G, tx, ty, tx + t, ty + t);
                GEOSGeometry *part = GEOSIntersection_r(G, g, box);
                GEOSGeom_destroy_r(G, box);
                assert_non_null(part);
                int np = GEOSGetNumGeometries_r(G, part);
                for (int j = 0; j < np; j++) {
                    const GEOSGeometry *pj = GEOSGetGeometryN_r(G, part, j);
                    if (GEOSGeomTypeId_r(G, pj) != GEOS_POLYGON || GEOSisEmpty_r(G, pj))
                        continue;
                    assert_true(k < cap);
                    out[k++] = (feature){shapes[i].code, GEOSGeom_clone_r(G, pj)};
                }
                GEOSGeom_destroy_r(G, part);
            }
        }
        GEOSGeom_destroy_r(G, g);
    }
    return k;
}

static const char *write_variant(const char *file, const shape *shapes, size_t n,
                                 const variant *v)
{
    feature f[256];
    size_t nf = cut_tiles(shapes, n, v->tiles, f, sizeof f / sizeof f[0]);
    sbuf b = {NULL, 0, 0};
    sb_printf(&b, "{\"type\":\"FeatureCollection\",\"features\":[");
    for (size_t i = 0; i < nf; i++) {
        /* another order: a stride of 7 through the list when that visits every feature,
         * else the reverse */
        size_t k = i;
        if (v->reorder)
            k = nf % 7 != 0 ? (i * 7 + 3) % nf : nf - 1 - i;
        assert_true(k < nf);
        sb_printf(&b, "%s{\"type\":\"Feature\",\"properties\":{", i ? "," : "");
        if (f[k].code)
            sb_printf(&b, "\"shapeISO\":\"%s\",\"shapeName\":\"%s\"", f[k].code, f[k].code);
        sb_printf(&b, "},\"geometry\":");
        put_polygon(&b, f[k].g, v);
        sb_printf(&b, "}");
    }
    sb_printf(&b, "]}");
    const char *path = tc_test_write(file, b.p);
    free(b.p);
    for (size_t i = 0; i < nf; i++)
        GEOSGeom_destroy_r(G, f[i].g);
    return path;
}

/* ---- reports ---- */

typedef struct rows {
    size_t n;
    char code[64][16];
    tc_areas a[64];
    tc_areas claim, country;
} rows;

static void report_rows(tc_ctx *ctx, const tc_regionset *rs, const char *snap_path, rows *out)
{
    tc_snapshot *s = NULL;
    tc_report *rep = NULL;
    tc_report_opts o = TC_REPORT_OPTS_INIT;
    o.units = TC_UNITS_ALL;
    assert_tc_ok(ctx, tc_snapshot_open(ctx, snap_path, NULL, &s));
    assert_tc_ok(ctx, tc_report_new(ctx, rs, s, &o, &rep));
    out->n = tc_report_count(rep);
    assert_true(out->n <= 64);
    for (size_t i = 0; i < out->n; i++) {
        snprintf(out->code[i], sizeof out->code[i], "%s",
                 tc_regionset_get_code(rs, tc_report_get_unit(rep, i)));
        assert_int_equal(tc_report_get_areas(rep, i, &out->a[i]), TC_OK);
    }
    assert_int_equal(tc_report_get_claim_total(rep, &out->claim), TC_OK);
    assert_int_equal(tc_report_get_country_total(rep, &out->country), TC_OK);
    tc_report_free(rep);
    tc_snapshot_free(s);
}

/* largest difference seen by compare_areas(), relative to land */
static double worst;

static void compare_areas(const char *what, const char *code, const tc_areas *a,
                          const tc_areas *b, double rel)
{
    /* relative to the unit's land: a piece's share of the total is what a reader sees */
    double scale = fmax(a->land_m2, 1.0);
    const struct {
        const char *name;
        double x, y;
    } f[] = {{"land", a->land_m2, b->land_m2},
             {"controlled", a->controlled_m2, b->controlled_m2},
             {"gap", a->gap_m2, b->gap_m2},
             {"sliver", a->sliver_m2, b->sliver_m2},
             {"enclosed", a->enclosed_m2, b->enclosed_m2}};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        worst = fmax(worst, fabs(f[i].x - f[i].y) / scale);
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (!(fabs(f[i].x - f[i].y) <= rel * scale))
            fail_msg("%s: %s %s %.17g m2, original %.17g m2 (diff %.3g of land)", what, code,
                     f[i].name, f[i].y, f[i].x, fabs(f[i].x - f[i].y) / scale);
    if (a->n_gap != b->n_gap || a->n_sliver != b->n_sliver || a->n_enclosed != b->n_enclosed)
        fail_msg("%s: %s pieces gap/sliver/enclosed %zu/%zu/%zu, original %zu/%zu/%zu", what,
                 code, b->n_gap, b->n_sliver, b->n_enclosed, a->n_gap, a->n_sliver,
                 a->n_enclosed);
}

static void compare_rows(const char *what, const rows *want, const rows *got, double rel)
{
    worst = 0;
    assert_int_equal(want->n, got->n);
    for (size_t i = 0; i < want->n; i++) {
        size_t k = 0;
        while (k < got->n && strcmp(got->code[k], want->code[i]) != 0)
            k++;
        if (k == got->n)
            fail_msg("%s: unit %s missing", what, want->code[i]);
        compare_areas(what, want->code[i], &want->a[i], &got->a[k], rel);
    }
    compare_areas(what, "claim", &want->claim, &got->claim, rel);
    compare_areas(what, "country", &want->country, &got->country, rel);
}

/* ---- tests ---- */

static int group_setup(void **state)
{
    G = GEOS_init_r();
    return G ? tc_test_ctx_setup(state) : -1;
}

static int group_teardown(void **state)
{
    GEOS_finish_r(G);
    return tc_test_ctx_teardown(state);
}

static void run_scene(tc_ctx *ctx, const rows *want, const variant *v, double rel)
{
    char f1[64], f2[64];
    snprintf(f1, sizeof f1, "robust_units_%s.geojson", v->name);
    snprintf(f2, sizeof f2, "robust_snap_%s.geojson", v->name);
    const char *units = write_variant(f1, scene_units, 4, v);
    const char *snap = write_variant(f2, scene_snap, 3, v);
    tc_regionset *rs = NULL;
    assert_tc_ok(ctx, tc_regionset_open(ctx, units, NULL, &rs));
    rows got;
    report_rows(ctx, rs, snap, &got);
    tc_regionset_free(rs);
    compare_rows(v->name, want, &got, rel);
    print_message("# %-10s: %zu units equal to the original (largest difference %.1e of "
                  "land; allowed %.0e)\n",
                  v->name, got.n, worst, rel);
}

static void scene_original(tc_ctx *ctx, rows *want)
{
    const variant v0 = {"original", false, 0, false, 0, 0.0};
    const char *units = write_variant("robust_units_original.geojson", scene_units, 4, &v0);
    const char *snap = write_variant("robust_snap_original.geojson", scene_snap, 3, &v0);
    tc_regionset *rs = NULL;
    assert_tc_ok(ctx, tc_regionset_open(ctx, units, NULL, &rs));
    report_rows(ctx, rs, snap, want);
    tc_regionset_free(rs);
    /* the scene does what it is for: every class of piece occurs */
    size_t gap = want->country.n_gap, sliver = want->country.n_sliver,
           enclosed = want->country.n_enclosed;
    print_message("# original: %zu gap, %zu sliver, %zu enclosed pieces\n", gap, sliver,
                  enclosed);
    assert_true(gap > 0 && sliver > 0 && enclosed > 0);
    assert_true(want->country.controlled_m2 > 0);
}

/* Same vertices, other order: only summation order differs (1e-12 of the land). */
static void test_robust_orientation(void **state)
{
    tc_ctx *ctx = *state;
    rows want;
    scene_original(ctx, &want);
    run_scene(ctx, &want, &(variant){"reversed", true, 0, false, 0, 0.0}, 1e-12);
}

static void test_robust_start_vertex(void **state)
{
    tc_ctx *ctx = *state;
    rows want;
    scene_original(ctx, &want);
    run_scene(ctx, &want, &(variant){"rotated1", false, 1, false, 0, 0.0}, 1e-12);
    run_scene(ctx, &want, &(variant){"rotated97", false, 97, false, 0, 0.0}, 1e-12);
    run_scene(ctx, &want, &(variant){"rev+rot", true, 333, false, 0, 0.0}, 1e-12);
}

static void test_robust_feature_order(void **state)
{
    tc_ctx *ctx = *state;
    rows want;
    scene_original(ctx, &want);
    run_scene(ctx, &want, &(variant){"reordered", false, 0, true, 0, 0.0}, 1e-12);
}

/* Cut into tiles: regions become several features with one code (merged by union), the
 * snapshot several features (unioned). Overlay noding of the re-merged parts moves no
 * vertex; 1e-11 covers the different summation of the pieces. */
static void test_robust_tile_edges(void **state)
{
    tc_ctx *ctx = *state;
    rows want;
    scene_original(ctx, &want);
    run_scene(ctx, &want, &(variant){"tiles500", false, 0, false, 500, 0.0}, 1e-11);
    run_scene(ctx, &want, &(variant){"tiles200", false, 0, false, 200, 0.0}, 1e-11);
    run_scene(ctx, &want, &(variant){"all", true, 5, true, 200, 0.0}, 1e-11);
}

/* Moved 30.75 degrees west, the scene straddles the prime meridian. Geodesic areas do
 * not depend on longitude; an area routine with a per-hemisphere shortcut (report.c had
 * one, exact to about 1e-4 m2 per edge) must keep to that, some 1e-9 of these units. */
static void test_robust_across_prime_meridian(void **state)
{
    tc_ctx *ctx = *state;
    rows want;
    scene_original(ctx, &want);
    run_scene(ctx, &want, &(variant){"lon0", false, 0, false, 0, -30.75}, 1e-9);
}

/* ---- real data: the DeepState snapshot of 2025-09-01 permuted ---- */

/* Read a GeoJSON file's geometries with GEOS (FeatureCollection -> GeometryCollection). */
static GEOSGeometry *read_geojson(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)n + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
    text[n] = '\0';
    fclose(f);
    GEOSGeoJSONReader *r = GEOSGeoJSONReader_create_r(G);
    GEOSGeometry *g = GEOSGeoJSONReader_readGeometry_r(G, r, text);
    GEOSGeoJSONReader_destroy_r(G, r);
    free(text);
    assert_non_null(g);
    return g;
}

/* Every polygon of g as its own feature, in reverse order, rings reversed and rotated;
 * with tile > 0 (degrees) also cut into tiles. */
static const char *write_permuted(const char *file, const GEOSGeometry *g, double tile)
{
    GEOSGeometry **polys = NULL;
    size_t n = 0, cap = 0;
    const GEOSGeometry *stack[64];
    int sp = 0;
    stack[sp++] = g;
    while (sp > 0) {
        const GEOSGeometry *x = stack[--sp];
        int t = GEOSGeomTypeId_r(G, x);
        if (t == GEOS_POLYGON) {
            if (n == cap) {
                cap = cap ? 2 * cap : 64;
                polys = realloc(polys, cap * sizeof *polys);
                assert_non_null(polys);
            }
            polys[n++] = GEOSGeom_clone_r(G, x);
        } else if (t == GEOS_MULTIPOLYGON || t == GEOS_GEOMETRYCOLLECTION) {
            for (int i = GEOSGetNumGeometries_r(G, x) - 1; i >= 0 && sp < 64; i--)
                stack[sp++] = GEOSGetGeometryN_r(G, x, i);
        }
    }
    if (tile > 0) { /* cut: tiles of `tile` degrees, offset by half a tile */
        GEOSGeometry **cut = NULL;
        size_t nc = 0, cc = 0;
        for (size_t i = 0; i < n; i++) {
            double x0, y0, x1, y1;
            GEOSGeom_getExtent_r(G, polys[i], &x0, &y0, &x1, &y1);
            for (double tx = floor(x0 / tile) * tile - tile / 2; tx < x1; tx += tile)
                for (double ty = floor(y0 / tile) * tile - tile / 2; ty < y1; ty += tile) {
                    GEOSGeometry *box = GEOSGeom_createRectangle_r(G, tx, ty, tx + tile, ty + tile);
                    GEOSGeometry *part = GEOSIntersection_r(G, polys[i], box);
                    GEOSGeom_destroy_r(G, box);
                    assert_non_null(part);
                    for (int j = 0; j < GEOSGetNumGeometries_r(G, part); j++) {
                        const GEOSGeometry *pj = GEOSGetGeometryN_r(G, part, j);
                        if (GEOSGeomTypeId_r(G, pj) != GEOS_POLYGON || GEOSisEmpty_r(G, pj))
                            continue;
                        if (nc == cc) {
                            cc = cc ? 2 * cc : 256;
                            cut = realloc(cut, cc * sizeof *cut);
                            assert_non_null(cut);
                        }
                        cut[nc++] = GEOSGeom_clone_r(G, pj);
                    }
                    GEOSGeom_destroy_r(G, part);
                }
            GEOSGeom_destroy_r(G, polys[i]);
        }
        free(polys);
        polys = cut;
        n = nc;
    }
    const variant v = {"permuted", true, 7, true, 0, 0.0};
    sbuf b = {NULL, 0, 0};
    sb_printf(&b, "{\"type\":\"FeatureCollection\",\"features\":[");
    for (size_t i = 0; i < n; i++) {
        const GEOSGeometry *p = polys[n - 1 - i];
        unsigned int np = 0;
        GEOSCoordSeq_getSize_r(G, GEOSGeom_getCoordSeq_r(G, GEOSGetExteriorRing_r(G, p)), &np);
        sb_printf(&b, "%s{\"type\":\"Feature\",\"properties\":{},\"geometry\":", i ? "," : "");
        /* rotation needs more vertices than it skips */
        variant vi = v;
        vi.rotate = np > 8 ? 7 : 0;
        put_polygon(&b, p, &vi);
        sb_printf(&b, "}");
    }
    sb_printf(&b, "]}");
    const char *path = tc_test_write(file, b.p);
    free(b.p);
    for (size_t i = 0; i < n; i++)
        GEOSGeom_destroy_r(G, polys[i]);
    free(polys);
    return path;
}

static void test_robust_real_snapshot_permuted(void **state)
{
    tc_ctx *ctx = *state;
    tc_test_real r;
    tc_test_real_paths(&r);
    const char *snap = r.snap;
    tc_regionset *rs = tc_test_real_set(ctx, &r);
    rows *want = calloc(1, sizeof *want), *got = calloc(1, sizeof *got);
    assert_non_null(want);
    assert_non_null(got);
    report_rows(ctx, rs, snap, want);

    GEOSGeometry *g = read_geojson(snap);
    /* same points, other order: summation order only */
    report_rows(ctx, rs, write_permuted("robust_real_permuted.geojson", g, 0.0), got);
    compare_rows("real permuted", want, got, 1e-10);
    print_message("# real snapshot, rings reversed and rotated, polygons as separate "
                  "features in reverse order: %zu units equal (largest difference %.1e of land)\n",
                  got->n, worst);
    /* cut into 0.5-degree tiles: the cut adds vertices on the tile lines, and the library
     * densifies the cut edges at other points (0.01 degree for snapshots), which moves
     * each edge's geodesic bow by up to a few m2: 1.7e-9 of a unit's land measured */
    report_rows(ctx, rs, write_permuted("robust_real_tiles.geojson", g, 0.5), got);
    compare_rows("real tiles", want, got, 1e-8);
    print_message("# real snapshot cut into 0.5-degree tiles: %zu units equal (largest "
                  "difference %.1e of land)\n",
                  got->n, worst);
    GEOSGeom_destroy_r(G, g);
    free(want);
    free(got);
    tc_regionset_free(rs);
}

/* A spike: the snapshot's ring runs out from a corner of its triangle and back along one
 * line (zero area; GEOS calls it valid). Densifying puts points on both sides of the
 * spike, each rounded off the line, so that they cross: unrepaired, the overlay read
 * the unit's controlled land as its complement in one vertex order and right in the other
 * (fuzz_report_geom, seed regress_densify_spike). Independent route: the spike has no
 * area, so the controlled land is that of the triangle alone, in either order. */
static void test_robust_densified_spike(void **state)
{
    tc_ctx *ctx = *state;
    const char *units = tc_test_write(
        "spike_units.geojson",
        "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"properties\":"
        "{\"shapeISO\":\"UA-14\",\"shapeName\":\"A\"},\"geometry\":{\"type\":\"Polygon\","
        "\"coordinates\":[[[30,48],[30.8,48],[30.8,48.8],[30,48.796],[30,48]],"
        "[[30.2,48.2],[30.6,48.2],[30.6,48.6],[30.2,48.2]]]}}]}");
    static const char *const snaps[3] = {
        "[[30,48],[30.4,48],[30.4,48.4],[31.02,49.02],[30,48]]",
        "[[30.4,48.4],[30.4,48],[30,48],[31.02,49.02],[30.4,48.4]]",
        "[[30,48],[30.4,48],[30.4,48.4],[30,48]]", /* the triangle alone */
    };
    tc_regionset_opts ro = TC_REGIONSET_OPTS_INIT;
    tc_regionset *rs = NULL;
    assert_tc_ok(ctx, tc_regionset_open(ctx, units, &ro, &rs));
    double ctl[3];
    for (int k = 0; k < 3; k++) {
        char json[512], name[32];
        snprintf(json, sizeof json,
                 "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\","
                 "\"properties\":{},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[%s]}}]}",
                 snaps[k]);
        snprintf(name, sizeof name, "spike_snap_%d.geojson", k);
        tc_snapshot *snap = NULL;
        assert_tc_ok(ctx, tc_snapshot_open(ctx, tc_test_write(name, json), NULL, &snap));
        tc_report_opts o = TC_REPORT_OPTS_INIT;
        o.units = TC_UNITS_ALL;
        tc_report *r = NULL;
        assert_tc_ok(ctx, tc_report_new(ctx, rs, snap, &o, &r));
        tc_areas a;
        assert_tc_ok(ctx, tc_report_get_areas(r, 0, &a));
        ctl[k] = a.controlled_m2;
        assert_close(a.controlled_m2 + a.gap_m2 + a.sliver_m2 + a.enclosed_m2, a.land_m2, 1e-9);
        tc_report_free(r);
        tc_snapshot_free(snap);
    }
    /* three quarters of the triangle: the unit's hole takes the rest (about 500 km2) */
    assert_true(ctl[2] > 4.5e8 && ctl[2] < 5.5e8);
    print_message("# controlled: spike %.6f / %.6f m2, triangle alone %.6f m2\n", ctl[0],
                  ctl[1], ctl[2]);
    /* the same shape in both orders; the repaired needle keeps well under a square metre
     * (its two sides are geodesics between points a little apart along the line) */
    assert_close(ctl[1], ctl[0], 1e-12);
    assert_true(fabs(ctl[0] - ctl[2]) < 10.0);
    tc_regionset_free(rs);
}

int main(void)
{
    struct CMUnitTest tests[] = {
        cmocka_unit_test(test_robust_orientation),
        cmocka_unit_test(test_robust_start_vertex),
        cmocka_unit_test(test_robust_feature_order),
        cmocka_unit_test(test_robust_tile_edges),
        cmocka_unit_test(test_robust_across_prime_meridian),
        cmocka_unit_test(test_robust_real_snapshot_permuted),
        cmocka_unit_test(test_robust_densified_spike),
    };
    static const char *const heavy[] = {"test_robust_real_snapshot_permuted", NULL};
    size_t n = tc_test_drop_heavy(tests, sizeof tests / sizeof tests[0], heavy);
    return _cmocka_run_group_tests("robust", tests, n, group_setup, group_teardown);
}
