/* The report on fuzzed geometry: bytes decoded into a few small polygons on a grid of
 * 0.004 degrees (about 300-450 m near 48N, so pieces straddle the 1000 m sliver width),
 * written as GeoJSON into GDAL in-memory files and run through tc_regionset_open() (no land
 * mask), tc_snapshot_open() and tc_report_new().
 *
 * Checks, on every input that loads:
 *   - every area is finite and >= 0; controlled <= land; land = controlled + gap + sliver +
 *     enclosed (closure) for units over 1 km2;
 *   - the same shapes written with every ring reversed, every ring starting at its next
 *     vertex and the features in reverse order give the same land, controlled and
 *     uncontrolled areas per unit (docs/reliability.md, "numerical robustness").
 *
 * Encoding (bytes past the end read as 0): [nregions] then per region [code, nrings, per
 * ring: npoints, x0 y0 x1 y1 ...], then [nsnap] and the snapshot polygons the same way.
 * Run: build-fuzz/tests/fuzz/fuzz_report_geom -max_len=512 tests/fuzz/corpus/geom */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_POLYS 3
#define MAX_RINGS 2
#define MAX_PTS 10
#define GRID_DEG 0.004

typedef struct ring_in {
    int n;
    int x[MAX_PTS], y[MAX_PTS];
} ring_in;

typedef struct poly_in {
    int code;
    int n_rings;
    ring_in r[MAX_RINGS];
} poly_in;

typedef struct shapes {
    int n_regions, n_snap;
    poly_in region[MAX_POLYS], snap[MAX_POLYS];
} shapes;

typedef struct reader {
    const uint8_t *p;
    size_t n, pos;
} reader;

static int next(reader *r) { return r->pos < r->n ? r->p[r->pos++] : 0; }

static const char *const codes[] = {"UA-14", "UA-09", "UA-65", "UA-63"};

static void read_poly(reader *rd, poly_in *p, bool with_code)
{
    p->code = with_code ? next(rd) % 4 : 0;
    p->n_rings = 1 + next(rd) % MAX_RINGS;
    for (int k = 0; k < p->n_rings; k++) {
        ring_in *r = &p->r[k];
        r->n = 3 + next(rd) % (MAX_PTS - 2);
        for (int i = 0; i < r->n; i++) {
            r->x[i] = next(rd);
            r->y[i] = next(rd);
        }
    }
}

static void decode(const uint8_t *data, size_t size, shapes *s)
{
    reader rd = {data, size, 0};
    s->n_regions = 1 + next(&rd) % MAX_POLYS;
    for (int i = 0; i < s->n_regions; i++)
        read_poly(&rd, &s->region[i], true);
    s->n_snap = next(&rd) % (MAX_POLYS + 1);
    for (int i = 0; i < s->n_snap; i++)
        read_poly(&rd, &s->snap[i], false);
}

/* One ring as GeoJSON, closed; permuted: reversed and starting one vertex later. */
static void put_ring(fuzz_buf *b, const ring_in *r, bool permute)
{
    fuzz_printf(b, "[");
    for (int i = 0; i <= r->n; i++) {
        int k = i % r->n;
        if (permute)
            k = (r->n - 1 - ((i + 1) % r->n) + r->n) % r->n;
        fuzz_printf(b, "%s[%.3f,%.3f]", i ? "," : "", 30.0 + r->x[k] * GRID_DEG,
                    48.0 + r->y[k] * GRID_DEG);
    }
    fuzz_printf(b, "]");
}

static void put_layer(fuzz_buf *b, const poly_in *p, int n, bool regions, bool permute)
{
    b->n = 0;
    fuzz_printf(b, "{\"type\":\"FeatureCollection\",\"features\":[");
    for (int j = 0; j < n; j++) {
        const poly_in *q = &p[permute ? n - 1 - j : j];
        fuzz_printf(b, "%s{\"type\":\"Feature\",\"properties\":{", j ? "," : "");
        if (regions)
            fuzz_printf(b, "\"shapeISO\":\"%s\",\"shapeName\":\"R%d\"", codes[q->code], q->code);
        fuzz_printf(b, "},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[");
        for (int k = 0; k < q->n_rings; k++) {
            if (k)
                fuzz_printf(b, ",");
            put_ring(b, &q->r[k], permute);
        }
        fuzz_printf(b, "]}}");
    }
    fuzz_printf(b, "]}");
}

typedef struct result {
    tc_status st;
    size_t n;
    char code[MAX_POLYS][8];
    tc_areas a[MAX_POLYS];
} result;

static void run(tc_ctx *ctx, const shapes *s, bool permute, result *res)
{
    static const char rpath[] = "/vsimem/fuzz_geom_regions.geojson";
    static const char spath[] = "/vsimem/fuzz_geom_snapshot.geojson";
    fuzz_buf b = {NULL, 0, 0};
    memset(res, 0, sizeof *res);
    put_layer(&b, s->region, s->n_regions, true, permute);
    if (!fuzz_vsimem(rpath, (const uint8_t *)b.p, b.n))
        abort();
    put_layer(&b, s->snap, s->n_snap, false, permute);
    if (!fuzz_vsimem(spath, (const uint8_t *)b.p, b.n))
        abort();
    free(b.p);

    tc_regionset *rs;
    tc_snapshot *snap;
    tc_report *rep;
    tc_status st = fuzz_open_report(ctx, rpath, spath, &rs, &snap, &rep);
    res->st = st;
    if (st == TC_OK) {
        res->n = tc_report_count(rep);
        FUZZ_CHECK(res->n <= MAX_POLYS, "rows");
        for (size_t i = 0; i < res->n; i++) {
            snprintf(res->code[i], sizeof res->code[i], "%s",
                     tc_regionset_get_code(rs, tc_report_get_unit(rep, i)));
            FUZZ_CHECK(tc_report_get_areas(rep, i, &res->a[i]) == TC_OK, "areas");
        }
    }
    fuzz_close_report(rs, snap, rep, rpath, spath);
}

static void check_row(const char *code, const tc_areas *a)
{
    fuzz_check_area(a->admin_m2, code);
    fuzz_check_area(a->land_m2, code);
    fuzz_check_area(a->controlled_m2, code);
    fuzz_check_area(a->gap_m2, code);
    fuzz_check_area(a->sliver_m2, code);
    fuzz_check_area(a->enclosed_m2, code);
    FUZZ_CHECK(isfinite(a->closure_rel) && a->closure_rel >= 0, "%s: closure %g", code,
               a->closure_rel);
    FUZZ_CHECK(a->controlled_m2 <= a->land_m2 * (1 + 1e-9) + 1.0,
               "%s: controlled %.17g > land %.17g", code, a->controlled_m2, a->land_m2);
    if (a->land_m2 > 1e6) /* relative closure is noise on tiny units */
        FUZZ_CHECK(a->closure_rel <= 1e-6, "%s: closure %.3g (land %.17g m2)", code,
                   a->closure_rel, a->land_m2);
}

/* Same shapes, other order and orientation: same numbers, to overlay round-off. */
static void check_same(const char *what, double a, double b, double land)
{
    FUZZ_CHECK(fabs(a - b) <= 1e-7 * land + 1.0, "%s: %.17g m2 vs %.17g m2 when permuted", what,
               a, b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tc_ctx *ctx = fuzz_ctx();
    shapes s;
    decode(data, size, &s);
    result r1, r2;
    tc_ctx_clear_warnings(ctx); /* only this input's repairs count below */
    run(ctx, &s, false, &r1);
    if (r1.st != TC_OK) {
        tc_ctx_clear_warnings(ctx);
        return 0;
    }
    for (size_t i = 0; i < r1.n; i++)
        check_row(r1.code[i], &r1.a[i]);
    /* Invalid shapes are repaired by GEOS make-valid, whose result depends on the order
     * of the vertices it nodes (docs/reliability.md): the permutation check holds for
     * shapes that needed no repair. */
    bool repaired = tc_ctx_warning_count(ctx) > 0;
    tc_ctx_clear_warnings(ctx);
    run(ctx, &s, true, &r2);
    FUZZ_CHECK(r2.st == TC_OK, "permuted input fails: %s", tc_ctx_errmsg(ctx));
    FUZZ_CHECK(r2.n == r1.n, "rows %zu vs %zu", r1.n, r2.n);
    repaired = repaired || tc_ctx_warning_count(ctx) > 0;
    tc_ctx_clear_warnings(ctx);
    if (repaired)
        return 0;
    for (size_t i = 0; i < r1.n; i++) {
        size_t k = 0;
        while (k < r2.n && strcmp(r2.code[k], r1.code[i]) != 0)
            k++;
        FUZZ_CHECK(k < r2.n, "unit %s missing when permuted", r1.code[i]);
        const tc_areas *a = &r1.a[i], *b = &r2.a[k];
        double land = fmax(a->land_m2, b->land_m2);
        check_same("land", a->land_m2, b->land_m2, land);
        check_same("controlled", a->controlled_m2, b->controlled_m2, land);
        check_same("uncontrolled", a->gap_m2 + a->sliver_m2 + a->enclosed_m2,
                   b->gap_m2 + b->sliver_m2 + b->enclosed_m2, land);
    }
    return 0;
}
