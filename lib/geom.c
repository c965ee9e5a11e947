/* Geometry helpers on GEOS geometries in WGS84 lon/lat: geodesic area, checks, repair. */
#include "tc_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Geodesic area and perimeter of one ring; |area| so winding does not matter. */
tc_status tc__ring_xy(tc_ctx *ctx, const GEOSGeometry *ring, double **x, double **y, size_t *n)
{
    GEOSContextHandle_t h = ctx->geos;
    const GEOSCoordSequence *seq = GEOSGeom_getCoordSeq_r(h, ring);
    unsigned int m = 0;
    if (!seq || !GEOSCoordSeq_getSize_r(h, seq, &m))
        return tc__fail(ctx, TC_ERR_GEOMETRY, "cannot read ring: %s", ctx->geos_msg);
    tc_status st = tc__scratch(ctx, 2 * (size_t)m + 2);
    if (st != TC_OK)
        return st;
    *x = ctx->scratch;
    *y = ctx->scratch + m + 1;
    *n = m;
    if (m && !GEOSCoordSeq_copyToArrays_r(h, seq, *x, *y, NULL, NULL))
        return tc__fail(ctx, TC_ERR_GEOMETRY, "cannot copy ring: %s", ctx->geos_msg);
    return TC_OK;
}

tc_status tc__each_ring(tc_ctx *ctx, const GEOSGeometry *g, tc__ring_fn fn, void *user)
{
    GEOSContextHandle_t h = ctx->geos;
    int type = GEOSGeomTypeId_r(h, g);
    if (type == GEOS_MULTIPOLYGON || type == GEOS_GEOMETRYCOLLECTION) {
        int n = GEOSGetNumGeometries_r(h, g);
        for (int i = 0; i < n; i++) {
            tc_status st = tc__each_ring(ctx, GEOSGetGeometryN_r(h, g, i), fn, user);
            if (st != TC_OK)
                return st;
        }
        return TC_OK;
    }
    if (type != GEOS_POLYGON || GEOSisEmpty_r(h, g) == 1)
        return TC_OK;
    int nh = GEOSGetNumInteriorRings_r(h, g);
    for (int i = -1; i < nh; i++) {
        const GEOSGeometry *ring =
            i < 0 ? GEOSGetExteriorRing_r(h, g) : GEOSGetInteriorRingN_r(h, g, i);
        int n = ring ? GEOSGetNumCoordinates_r(h, ring) : -1;
        if (n < 0)
            return tc__fail(ctx, TC_ERR_GEOMETRY, "cannot read ring: %s", ctx->geos_msg);
        if (n < 4)
            continue;
        tc_status st = fn(ctx, user, ring);
        if (st != TC_OK)
            return st;
    }
    return TC_OK;
}

/* ---------------------------------------------------------------- edge terms */

/* The geodesic area of a ring is a sum of one term per edge, S12: the area between the
 * edge and the equator (geod_geninverse). A unit's land keeps its terms (computed once,
 * stored in the region cache), looked up here by the edge's two end points: every piece an
 * overlay cuts from the land keeps the land's vertices bit for bit, so most of a piece's
 * edges are land edges whose term is known, and only the new ones (along the snapshot) are
 * computed. */
struct tc__edge_terms {
    size_t n;        /* vertices: every ring's points but its closing one */
    double *xy;      /* 2n coordinates */
    double *term;    /* n: S12 of the edge from vertex i to vertex nxt[i] */
    uint32_t *nxt, *prv;
    uint32_t *slot;  /* open addressing: vertex index + 1, 0 empty */
    size_t mask;
};

static size_t xy_hash(double x, double y)
{
    uint64_t a, b;
    memcpy(&a, &x, sizeof a);
    memcpy(&b, &y, sizeof b);
    uint64_t k = a * 0x9E3779B97F4A7C15ull ^ (b + 0x632BE59BD9B4E019ull + (a << 6) + (a >> 2));
    k ^= k >> 31;
    k *= 0xBF58476D1CE4E5B9ull;
    k ^= k >> 29;
    return (size_t)k;
}

/* Vertex of et at (x, y), or -1. (A point the land visits twice is found once: its other
 * visit's edges are then computed, not looked up; the sum is the same.) */
static long et_find(const tc__edge_terms *et, double x, double y)
{
    for (size_t i = xy_hash(x, y) & et->mask;; i = (i + 1) & et->mask) {
        uint32_t v = et->slot[i];
        if (!v)
            return -1;
        if (et->xy[2 * (v - 1)] == x && et->xy[2 * (v - 1) + 1] == y)
            return (long)(v - 1);
    }
}

/* The term of the edge (x0, y0) -> (x1, y1) when it is an edge of et (either way). */
static bool et_term(const tc__edge_terms *et, double x0, double y0, double x1, double y1,
                    double *S12)
{
    long v = et_find(et, x0, y0);
    if (v < 0)
        return false;
    const double *q = &et->xy[2 * et->nxt[v]];
    if (q[0] == x1 && q[1] == y1) {
        *S12 = et->term[v];
        return true;
    }
    uint32_t p = et->prv[v];
    q = &et->xy[2 * p];
    if (q[0] == x1 && q[1] == y1) {
        *S12 = -et->term[p];
        return true;
    }
    return false;
}

typedef struct et_build {
    tc__edge_terms *et;
    const double *terms; /* one per vertex, tc__edge_terms_compute()'s (checked first) */
    bool count_only;
} et_build;

static tc_status et_ring(tc_ctx *ctx, void *user, const GEOSGeometry *ring)
{
    et_build *b = user;
    tc__edge_terms *et = b->et;
    GEOSContextHandle_t h = ctx->geos;
    const GEOSCoordSequence *seq = GEOSGeom_getCoordSeq_r(h, ring);
    unsigned int n = 0;
    if (!seq || !GEOSCoordSeq_getSize_r(h, seq, &n) || n < 4)
        return tc__fail(ctx, TC_ERR_GEOMETRY, "edge terms: cannot read ring: %s", ctx->geos_msg);
    size_t m = n - 1, base = et->n; /* the closing point repeats the first */
    if (b->count_only) {
        et->n += m;
        return TC_OK;
    }
    /* straight into place; the closing point lands in the next ring's first slot (or the
     * spare one at the end) and is overwritten */
    double *xy = et->xy + 2 * base;
    if (!GEOSCoordSeq_copyToBuffer_r(h, seq, xy, 0, 0))
        return tc__fail(ctx, TC_ERR_GEOMETRY, "edge terms: cannot copy ring: %s", ctx->geos_msg);
    for (size_t i = 0; i < m; i++) {
        size_t v = base + i;
        et->nxt[v] = (uint32_t)(i + 1 < m ? v + 1 : base);
        et->prv[v] = (uint32_t)(i > 0 ? v - 1 : base + m - 1);
        et->term[v] = b->terms[v];
    }
    for (size_t i = 0; i < m; i++) {
        const double x = xy[2 * i], y = xy[2 * i + 1];
        size_t k = xy_hash(x, y) & et->mask;
        uint32_t w;
        while ((w = et->slot[k]) && !(et->xy[2 * (w - 1)] == x && et->xy[2 * (w - 1) + 1] == y))
            k = (k + 1) & et->mask;
        if (!w)
            et->slot[k] = (uint32_t)(base + i + 1);
    }
    et->n += m;
    return TC_OK;
}

void tc__edge_terms_free(tc__edge_terms *et)
{
    if (!et)
        return;
    free(et->xy);
    free(et->term);
    free(et->nxt);
    free(et->prv);
    free(et->slot);
    free(et);
}

tc_status tc__edge_terms_new(tc_ctx *ctx, const GEOSGeometry *g, const double *terms,
                             size_t n_terms, tc__edge_terms **out)
{
    *out = NULL;
    tc__edge_terms *et = calloc(1, sizeof *et);
    if (!et)
        return tc__fail(ctx, TC_ERR_NOMEM, "edge terms: out of memory");
    et_build b = {et, terms, true};
    tc_status st = tc__each_ring(ctx, g, et_ring, &b);
    size_t n = et->n;
    if (st == TC_OK && (n >= UINT32_MAX / 2 || !terms || n_terms != n))
        st = tc__fail(ctx, TC_ERR_INTERNAL, "edge terms: %zu vertices, %zu terms", n,
                      terms ? n_terms : 0);
    size_t cap = 16;
    while (cap < 2 * n)
        cap *= 2;
    if (st == TC_OK) {
        et->xy = malloc((2 * n + 2) * sizeof *et->xy); /* (+ a closing point's room) */
        et->term = malloc((n + 1) * sizeof *et->term);
        et->nxt = malloc((n + 1) * sizeof *et->nxt);
        et->prv = malloc((n + 1) * sizeof *et->prv);
        et->slot = calloc(cap, sizeof *et->slot);
        et->mask = cap - 1;
        et->n = 0;
        b.count_only = false;
        st = et->xy && et->term && et->nxt && et->prv && et->slot
                 ? tc__each_ring(ctx, g, et_ring, &b)
                 : tc__fail(ctx, TC_ERR_NOMEM, "edge terms: out of memory");
    }
    if (st != TC_OK) {
        tc__edge_terms_free(et);
        return st;
    }
    *out = et;
    return TC_OK;
}

/* Error-free sum and the two-double accumulator of GeographicLib (geodesic.c's sumx() and
 * accadd()), so that a ring summed from stored terms in the order geod_polygonarea() adds
 * them gives its figure. */
static double sum_exact(double u, double v, double *t)
{
    volatile double s = u + v;
    volatile double up = s - v;
    volatile double vpp = s - up;
    up -= u;
    vpp -= v;
    *t = s != 0 ? 0 - (up + vpp) : s;
    return s;
}

static void acc_add(double s[2], double y)
{
    double u, z = sum_exact(y, s[1], &u);
    s[0] = sum_exact(z, s[0], &s[1]);
    if (s[0] == 0)
        s[0] = u;
    else
        s[1] = s[1] + u;
}

/* geod_polygon_compute()'s rule for a ring's signed area from the sum of its edges' terms
 * (no crossing of the prime meridian): counter-clockwise positive, in (-area0/2, area0/2]. */
static double area_from_sum(tc_ctx *ctx, double t[2])
{
    double area0 = 4 * TC__PI * ctx->geod.c2;
    t[0] = -t[0], t[1] = -t[1];
    if (t[0] > area0 / 2)
        acc_add(t, -area0);
    else if (t[0] <= -area0 / 2)
        acc_add(t, +area0);
    return 0 + t[0];
}

/* Signed area of a ring east of the prime meridian from its edges' terms: et's where the
 * edge is et's, geod_geninverse's otherwise, summed in ring order. */
static double et_ring_area(tc_ctx *ctx, const tc__edge_terms *et, const double *x,
                           const double *y, size_t n)
{
    double t[2] = {0, 0};
    for (size_t i = 0; i + 1 < n; i++) { /* the last edge is the closing one */
        double S12 = 0, s12;
        if (!et_term(et, x[i], y[i], x[i + 1], y[i + 1], &S12))
            geod_geninverse(&ctx->geod, y[i], x[i], y[i + 1], x[i + 1], &s12, NULL, NULL, NULL,
                            NULL, NULL, &S12);
        acc_add(t, S12);
    }
    return area_from_sum(ctx, t);
}

/* Where a ring's area comes from: the edge terms of a land to look up (et), or the ring's
 * own terms in order (own, consumed ring by ring from at), or neither. */
typedef struct area_src {
    const tc__edge_terms *et;
    const double *own;
    size_t n_own, at;
} area_src;

static tc_status ring_area(tc_ctx *ctx, const GEOSGeometry *ring, area_src *src,
                           double *area, double *perim)
{
    GEOSContextHandle_t h = ctx->geos;
    double *x = NULL, *y = NULL;
    size_t n = 0;
    *area = 0.0;
    if (perim)
        *perim = 0.0;
    tc_status st = tc__ring_xy(ctx, ring, &x, &y, &n);
    if (st != TC_OK || n < 4)
        return st; /* empty or degenerate ring: no area */
    const double *own = NULL; /* this ring's own terms (tc__each_ring()'s rings, in order) */
    if (src && src->own) {
        if (src->at + (n - 1) > src->n_own)
            return tc__fail(ctx, TC_ERR_INTERNAL, "area: %zu edge terms for more edges",
                            src->n_own);
        own = src->own + src->at;
        src->at += n - 1;
    }
    /* A ring over every longitude that reaches a pole (a "whole globe" box) has no
     * definite inside on the ellipsoid: overlays use it fine, areas cannot. */
    double x0, y0, x1, y1;
    if (GEOSGeom_getExtent_r(h, ring, &x0, &y0, &x1, &y1) && x0 <= -180 && x1 >= 180 &&
        (y0 <= -90 || y1 >= 90))
        return tc__fail(ctx, TC_ERR_GEOMETRY,
                        "area: a ring covers every longitude and reaches a pole: its inside "
                        "on the ellipsoid is ambiguous (the whole globe?); clip it to the "
                        "area of interest");
    double a = 0.0, p = 0.0;
    if (x1 - x0 < 180 && y1 - y0 < 90) {
        /* Inside a box that small the area is under half the ellipsoid: |signed area| is
         * it, whatever the winding (and robust for flat or self-touching rings, whose
         * planar winding means nothing). */
        if (own && !perim && x0 > 0) { /* (so no edge crosses the prime meridian) */
            double t[2] = {0, 0};
            for (size_t i = 0; i + 1 < n; i++)
                acc_add(t, own[i]);
            a = area_from_sum(ctx, t);
        } else if (src && src->et && !perim && x0 > 0) {
            a = et_ring_area(ctx, src->et, x, y, n);
        } else {
            geod_polygonarea(&ctx->geod, y, x, (int)(n - 1), &a, &p);
        }
        *area = fabs(a);
        if (perim)
            *perim = p;
        return TC_OK;
    }
    /* A larger ring may enclose more than half the ellipsoid, where fabs() of the signed
     * area would give the complement. Its inside is the overlay's: left of the ring when
     * it runs counter-clockwise in the lon/lat plane; walked that way, the unsigned area
     * ([0, whole ellipsoid)) is the inside. */
    char ccw = 1;
    GEOSCoordSeq_isCCW_r(h, GEOSGeom_getCoordSeq_r(h, ring), &ccw);
    struct geod_polygon poly;
    geod_polygon_init(&poly, 0);
    for (size_t i = 0; i + 1 < n; i++) { /* the closing vertex repeats the first */
        size_t k = ccw ? i : n - 1 - i;
        geod_polygon_addpoint(&ctx->geod, &poly, y[k], x[k]);
    }
    geod_polygon_compute(&ctx->geod, &poly, 0, 0, &a, &p);
    *area = a;
    if (perim)
        *perim = p;
    return TC_OK;
}

static tc_status poly_area(tc_ctx *ctx, const GEOSGeometry *poly, area_src *src,
                           double *area, double *perim)
{
    GEOSContextHandle_t h = ctx->geos;
    double a = 0.0, p = 0.0;
    const GEOSGeometry *shell = GEOSGetExteriorRing_r(h, poly);
    if (!shell)
        return tc__fail(ctx, TC_ERR_GEOMETRY, "area: polygon without shell");
    tc_status st = ring_area(ctx, shell, src, &a, perim ? &p : NULL);
    if (st != TC_OK)
        return st;
    int nh = GEOSGetNumInteriorRings_r(h, poly);
    for (int i = 0; i < nh; i++) {
        double ha = 0.0, hp = 0.0;
        st = ring_area(ctx, GEOSGetInteriorRingN_r(h, poly, i), src, &ha, perim ? &hp : NULL);
        if (st != TC_OK)
            return st;
        a -= ha;
        p += hp;
    }
    if (a < 0) /* holes larger than their shell: only possible on degenerate input */
        return tc__fail(ctx, TC_ERR_GEOMETRY,
                        "area: a polygon's holes measure %.6g m2 more than its shell on "
                        "the ellipsoid; degenerate geometry",
                        -a);
    *area += a;
    if (perim)
        *perim += p;
    return TC_OK;
}

static tc_status any_area(tc_ctx *ctx, const GEOSGeometry *g, area_src *src, double *area,
                          double *perim)
{
    GEOSContextHandle_t h = ctx->geos;
    switch (GEOSGeomTypeId_r(h, g)) {
    case GEOS_POLYGON:
        return GEOSisEmpty_r(h, g) ? TC_OK : poly_area(ctx, g, src, area, perim);
    case GEOS_MULTIPOLYGON:
    case GEOS_GEOMETRYCOLLECTION: {
        int n = GEOSGetNumGeometries_r(h, g);
        for (int i = 0; i < n; i++) {
            tc_status st = any_area(ctx, GEOSGetGeometryN_r(h, g, i), src, area, perim);
            if (st != TC_OK)
                return st;
        }
        return TC_OK;
    }
    default:
        return TC_OK; /* points and lines have no area */
    }
}

tc_status tc__geom_area_m2(tc_ctx *ctx, const GEOSGeometry *g, double *area_m2,
                           double *perimeter_m)
{
    double a = 0.0, p = 0.0;
    tc_status st = any_area(ctx, g, NULL, &a, perimeter_m ? &p : NULL);
    if (st != TC_OK)
        return st;
    *area_m2 = a;
    if (perimeter_m)
        *perimeter_m = p;
    return TC_OK;
}

tc_status tc__geom_area_et_m2(tc_ctx *ctx, const GEOSGeometry *g, const tc__edge_terms *et,
                              double *area_m2)
{
    double a = 0.0;
    area_src src = {et, NULL, 0, 0};
    tc_status st = any_area(ctx, g, &src, &a, NULL);
    if (st == TC_OK)
        *area_m2 = a;
    return st;
}

tc_status tc__geom_area_terms_m2(tc_ctx *ctx, const GEOSGeometry *g, const double *terms,
                                 size_t n_terms, double *area_m2)
{
    double a = 0.0;
    area_src src = {NULL, terms, n_terms, 0};
    tc_status st = any_area(ctx, g, &src, &a, NULL);
    if (st == TC_OK && src.at != n_terms)
        st = tc__fail(ctx, TC_ERR_INTERNAL, "area: %zu edge terms for %zu edges", n_terms,
                      src.at);
    if (st == TC_OK)
        *area_m2 = a;
    return st;
}

typedef struct terms_acc {
    double *t;
    size_t n, cap;
} terms_acc;

static tc_status terms_ring(tc_ctx *ctx, void *user, const GEOSGeometry *ring)
{
    terms_acc *acc = user;
    double *x, *y;
    size_t n;
    tc_status st = tc__ring_xy(ctx, ring, &x, &y, &n);
    if (st != TC_OK)
        return st;
    if (acc->n + n > acc->cap) {
        size_t cap = acc->cap ? acc->cap : 1024;
        while (cap < acc->n + n)
            cap *= 2;
        double *t = realloc(acc->t, cap * sizeof *t);
        if (!t)
            return tc__fail(ctx, TC_ERR_NOMEM, "edge terms: out of memory");
        acc->t = t;
        acc->cap = cap;
    }
    for (size_t i = 0; i + 1 < n; i++) {
        double s12;
        geod_geninverse(&ctx->geod, y[i], x[i], y[i + 1], x[i + 1], &s12, NULL, NULL, NULL,
                        NULL, NULL, &acc->t[acc->n++]);
    }
    return TC_OK;
}

tc_status tc__edge_terms_compute(tc_ctx *ctx, const GEOSGeometry *g, double **terms,
                                 size_t *n_terms)
{
    terms_acc acc = {NULL, 0, 0};
    tc_status st = tc__each_ring(ctx, g, terms_ring, &acc);
    if (st != TC_OK) {
        free(acc.t);
        return st;
    }
    *terms = acc.t ? acc.t : malloc(sizeof **terms); /* (no ring: an empty array) */
    *n_terms = acc.n;
    return *terms ? TC_OK : tc__fail(ctx, TC_ERR_NOMEM, "edge terms: out of memory");
}

typedef struct coord_check {
    bool bad_value, bad_range;
    double x, y;
} coord_check;

static int check_xy(double *x, double *y, void *user)
{
    coord_check *c = user;
    if (!isfinite(*x) || !isfinite(*y)) {
        if (!c->bad_value)
            c->x = *x, c->y = *y;
        c->bad_value = true;
    } else if (*x < -180.0 - 1e-9 || *x > 180.0 + 1e-9 || *y < -90.0 - 1e-9 ||
               *y > 90.0 + 1e-9) {
        if (!c->bad_range)
            c->x = *x, c->y = *y;
        c->bad_range = true;
    }
    return 1;
}

tc_status tc__geom_check_coords(tc_ctx *ctx, const GEOSGeometry *g, const char *what)
{
    coord_check c = {false, false, 0.0, 0.0};
    GEOSGeometry *copy = GEOSGeom_transformXY_r(ctx->geos, g, check_xy, &c);
    if (!copy)
        return tc__fail(ctx, TC_ERR_GEOMETRY, "%s: cannot read coordinates: %s", what,
                        ctx->geos_msg);
    GEOSGeom_destroy_r(ctx->geos, copy);
    if (c.bad_value)
        return tc__fail(ctx, TC_ERR_GEOMETRY, "%s: non-finite coordinate (%g, %g)", what, c.x,
                        c.y);
    if (c.bad_range)
        return tc__fail(ctx, TC_ERR_GEOMETRY,
                        "%s: coordinate (%g, %g) outside longitude [-180, 180] / latitude "
                        "[-90, 90]",
                        what, c.x, c.y);
    return TC_OK;
}

static void collect_polygons(GEOSContextHandle_t h, const GEOSGeometry *g, GEOSGeometry ***parts,
                             size_t *n, size_t *cap, size_t *dropped, bool *nomem)
{
    int type = GEOSGeomTypeId_r(h, g);
    if (type == GEOS_MULTIPOLYGON || type == GEOS_GEOMETRYCOLLECTION) {
        int k = GEOSGetNumGeometries_r(h, g);
        for (int i = 0; i < k && !*nomem; i++)
            collect_polygons(h, GEOSGetGeometryN_r(h, g, i), parts, n, cap, dropped, nomem);
        return;
    }
    if (type != GEOS_POLYGON) {
        if (!GEOSisEmpty_r(h, g))
            (*dropped)++;
        return;
    }
    if (GEOSisEmpty_r(h, g))
        return;
    if (*n == *cap) {
        size_t c = *cap ? 2 * *cap : 16;
        GEOSGeometry **p = realloc(*parts, c * sizeof *p);
        if (!p) {
            *nomem = true;
            return;
        }
        *parts = p;
        *cap = c;
    }
    GEOSGeometry *clone = GEOSGeom_clone_r(h, g);
    if (!clone) {
        *nomem = true;
        return;
    }
    (*parts)[(*n)++] = clone;
}

GEOSGeometry *tc__geom_polygonal(tc_ctx *ctx, const GEOSGeometry *g, size_t *dropped)
{
    GEOSContextHandle_t h = ctx->geos;
    GEOSGeometry **parts = NULL;
    size_t n = 0, cap = 0;
    bool nomem = false;
    *dropped = 0;
    collect_polygons(h, g, &parts, &n, &cap, dropped, &nomem);
    GEOSGeometry *out = NULL;
    if (!nomem)
        out = GEOSGeom_createCollection_r(h, GEOS_MULTIPOLYGON, parts, (unsigned)n);
    if (!out)
        for (size_t i = 0; i < n; i++)
            GEOSGeom_destroy_r(h, parts[i]);
    free(parts);
    return out;
}

/* A copy of polygonal g without the holes that do not touch their shell's polygon. */
static GEOSGeometry *drop_outside_holes(tc_ctx *ctx, const GEOSGeometry *g, size_t *dropped)
{
    GEOSContextHandle_t h = ctx->geos;
    int type = GEOSGeomTypeId_r(h, g);
    if (type == GEOS_MULTIPOLYGON || type == GEOS_GEOMETRYCOLLECTION) {
        int n = GEOSGetNumGeometries_r(h, g);
        GEOSGeometry **parts = calloc((size_t)(n > 0 ? n : 1), sizeof *parts);
        int k = 0;
        for (; parts && k < n; k++)
            if (!(parts[k] = drop_outside_holes(ctx, GEOSGetGeometryN_r(h, g, k), dropped)))
                break;
        GEOSGeometry *out = parts && k == n
                                ? GEOSGeom_createCollection_r(h, type, parts, (unsigned)n)
                                : NULL;
        if (!out)
            for (int i = 0; parts && i < k; i++)
                GEOSGeom_destroy_r(h, parts[i]);
        free(parts);
        return out;
    }
    int nh = type == GEOS_POLYGON ? GEOSGetNumInteriorRings_r(h, g) : 0;
    if (nh <= 0)
        return GEOSGeom_clone_r(h, g);
    GEOSGeometry *shell = GEOSGeom_createPolygon_r(
        h, GEOSGeom_clone_r(h, GEOSGetExteriorRing_r(h, g)), NULL, 0);
    GEOSGeometry **keep = calloc((size_t)nh, sizeof *keep);
    unsigned nk = 0;
    bool ok = shell && keep;
    for (int i = 0; ok && i < nh; i++) {
        const GEOSGeometry *ring = GEOSGetInteriorRingN_r(h, g, i);
        GEOSGeometry *hp = GEOSGeom_createPolygon_r(h, GEOSGeom_clone_r(h, ring), NULL, 0);
        char disjoint = hp ? GEOSDisjoint_r(h, hp, shell) : 2;
        if (hp)
            GEOSGeom_destroy_r(h, hp);
        if (disjoint == 1)
            (*dropped)++;
        else if (!(keep[nk++] = GEOSGeom_clone_r(h, ring)))
            ok = false;
    }
    GEOSGeometry *out = NULL;
    if (ok)
        out = GEOSGeom_createPolygon_r(h, GEOSGeom_clone_r(h, GEOSGetExteriorRing_r(h, g)), keep,
                                       nk);
    else
        for (unsigned i = 0; i < nk; i++)
            if (keep[i])
                GEOSGeom_destroy_r(h, keep[i]);
    free(keep);
    if (shell)
        GEOSGeom_destroy_r(h, shell);
    return out;
}

GEOSGeometry *tc__geom_make_valid(tc_ctx *ctx, const GEOSGeometry *g, const char *what,
                                  tc_status *status)
{
    GEOSContextHandle_t h = ctx->geos;
    *status = TC_OK;
    char valid = GEOSisValid_r(h, g);
    if (valid == 1)
        return GEOSGeom_clone_r(h, g);
    char *reason = GEOSisValidReason_r(h, g);
    /* A hole lying outside its shell cuts nothing away; GEOS 3.11's structure method would
     * return it as land of its own. Drop such holes first (the warning says so). */
    size_t dropped_holes = 0;
    GEOSGeometry *pruned = drop_outside_holes(ctx, g, &dropped_holes);
    GEOSMakeValidParams *params = GEOSMakeValidParams_create_r(h);
    GEOSGeometry *fixed = NULL, *poly = NULL;
    if (params && pruned) {
        GEOSMakeValidParams_setMethod_r(h, params, GEOS_MAKE_VALID_STRUCTURE);
        GEOSMakeValidParams_setKeepCollapsed_r(h, params, 0);
        /* GEOS 3.11's structure method can fail ("unable to assign hole to a shell") on
         * one order of the rings' vertices and not on another (found by fuzz_report_geom):
         * the rings in GEOS's normal form first, so that the same shape is repaired the
         * same way however it was written; as written when that fails */
        GEOSGeometry *norm = GEOSGeom_clone_r(h, pruned);
        if (norm && GEOSNormalize_r(h, norm) == 0)
            fixed = GEOSMakeValidWithParams_r(h, norm, params);
        if (norm)
            GEOSGeom_destroy_r(h, norm);
        if (!fixed)
            fixed = GEOSMakeValidWithParams_r(h, pruned, params);
        if (!fixed) { /* both refused: the linework method (faces of the noded rings) */
            GEOSMakeValidParams_setMethod_r(h, params, GEOS_MAKE_VALID_LINEWORK);
            fixed = GEOSMakeValidWithParams_r(h, pruned, params);
        }
    }
    if (params)
        GEOSMakeValidParams_destroy_r(h, params);
    if (pruned)
        GEOSGeom_destroy_r(h, pruned);
    size_t dropped = 0;
    if (fixed)
        poly = tc__geom_polygonal(ctx, fixed, &dropped);
    if (!poly) {
        *status = tc__fail(ctx, TC_ERR_GEOMETRY, "%s: invalid geometry (%s) could not be repaired%s%s",
                           what, reason ? reason : "?", ctx->geos_msg[0] ? ": " : "",
                           ctx->geos_msg);
    } else if (what) {
        double before = 0.0, after = 0.0;
        /* the raw rings' area: shells minus holes as drawn, before noding */
        if (tc__geom_area_m2(ctx, g, &before, NULL) == TC_OK &&
            tc__geom_area_m2(ctx, poly, &after, NULL) == TC_OK)
            tc__warn(ctx, "%s: invalid geometry (%s) repaired with make-valid%s; area %.6g km2 "
                          "-> %.6g km2 (change %+.6g km2)",
                     what, reason ? reason : "?",
                     dropped_holes ? ", holes outside their shell dropped" : "", before / 1e6,
                     after / 1e6, (after - before) / 1e6);
    }
    if (reason)
        GEOSFree_r(h, reason);
    if (fixed)
        GEOSGeom_destroy_r(h, fixed);
    return poly;
}

static tc_status line_length(tc_ctx *ctx, const GEOSGeometry *line, double *len)
{
    double *x = NULL, *y = NULL;
    size_t n = 0;
    tc_status st = tc__ring_xy(ctx, line, &x, &y, &n);
    if (st != TC_OK || n < 2)
        return st;
    struct geod_polygon p;
    geod_polygon_init(&p, 1); /* polyline: the perimeter is the length */
    for (size_t i = 0; i < n; i++)
        geod_polygon_addpoint(&ctx->geod, &p, y[i], x[i]);
    double l = 0;
    geod_polygon_compute(&ctx->geod, &p, 0, 1, NULL, &l);
    *len += l;
    return TC_OK;
}

tc_status tc__geom_length_m(tc_ctx *ctx, const GEOSGeometry *g, double *length_m)
{
    GEOSContextHandle_t h = ctx->geos;
    switch (GEOSGeomTypeId_r(h, g)) {
    case GEOS_LINESTRING:
    case GEOS_LINEARRING:
        return line_length(ctx, g, length_m);
    case GEOS_MULTILINESTRING:
    case GEOS_GEOMETRYCOLLECTION: {
        int n = GEOSGetNumGeometries_r(h, g);
        for (int i = 0; i < n; i++) {
            tc_status st = tc__geom_length_m(ctx, GEOSGetGeometryN_r(h, g, i), length_m);
            if (st != TC_OK)
                return st;
        }
        return TC_OK;
    }
    default:
        return TC_OK;
    }
}

void tc__geom_warm(tc_ctx *ctx, const GEOSGeometry *g)
{
    GEOSContextHandle_t h = ctx->geos;
    double x0, y0, x1, y1;
    if (!g || GEOSisEmpty_r(h, g) == 1)
        return;
    GEOSGeom_getExtent_r(h, g, &x0, &y0, &x1, &y1);
    int type = GEOSGeomTypeId_r(h, g);
    if (type == GEOS_POLYGON) {
        GEOSGeom_getExtent_r(h, GEOSGetExteriorRing_r(h, g), &x0, &y0, &x1, &y1);
        int nh = GEOSGetNumInteriorRings_r(h, g);
        for (int i = 0; i < nh; i++)
            GEOSGeom_getExtent_r(h, GEOSGetInteriorRingN_r(h, g, i), &x0, &y0, &x1, &y1);
    } else if (type == GEOS_MULTIPOLYGON || type == GEOS_GEOMETRYCOLLECTION) {
        int n = GEOSGetNumGeometries_r(h, g);
        for (int i = 0; i < n; i++)
            tc__geom_warm(ctx, GEOSGetGeometryN_r(h, g, i));
    }
}

tc_status tc__geom_planar_length_deg(tc_ctx *ctx, const GEOSGeometry *g, double *length_deg)
{
    double len = 0;
    if (!GEOSLength_r(ctx->geos, g, &len))
        return tc__fail(ctx, TC_ERR_GEOMETRY, "length: %s", ctx->geos_msg);
    *length_deg = len;
    return TC_OK;
}

/* ---------------------------------------------------------------- densifying */

typedef struct crossing {
    double t, x, y;
} crossing;

static int cmp_crossing(const void *a, const void *b)
{
    double x = ((const crossing *)a)->t, y = ((const crossing *)b)->t;
    return x < y ? -1 : x > y;
}

/* Points strictly inside the segment a→b, in order, into c: GEOSDensify's (ceil(length /
 * max_edge) equal parts; none when max_edge is 0) and where the segment crosses a line
 * x = k step or y = k step. Returns how many. */
static size_t segment_points(double ax, double ay, double bx, double by, double max_edge,
                             double step, crossing *c)
{
    size_t n = 0;
    double len = hypot(bx - ax, by - ay);
    double parts = max_edge > 0 ? ceil(len / max_edge) : 1;
    for (double j = 1; j < parts; j++) {
        double t = j / parts;
        c[n++] = (crossing){t, ax + t * (bx - ax), ay + t * (by - ay)};
    }
    for (int axis = 0; axis < 2; axis++) {
        double a = axis == 0 ? ax : ay, b = axis == 0 ? bx : by;
        if (a == b)
            continue;
        double lo = fmin(a, b), hi = fmax(a, b);
        for (double k = floor(lo / step) + 1; k * step < hi; k++) {
            double v = k * step, t = (v - a) / (b - a);
            if (!(t > 0 && t < 1))
                continue;
            c[n].t = t;
            c[n].x = axis == 0 ? v : ax + t * (bx - ax);
            c[n].y = axis == 0 ? ay + t * (by - ay) : v;
            n++;
        }
    }
    if (n > 1)
        qsort(c, n, sizeof *c, cmp_crossing);
    /* An equal-parts point and a grid crossing a rounding apart can sort by t against their
     * order along the segment, and the ring would step back: a self-intersection GEOS
     * rejects (found when densified rings were first checked for validity). Keep only
     * points that strictly advance along the segment's longer axis, and stay short of b. */
    const bool along_x = fabs(bx - ax) >= fabs(by - ay);
    const double a0 = along_x ? ax : ay, b0 = along_x ? bx : by, dir = b0 > a0 ? 1.0 : -1.0;
    double last = a0;
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        double v = along_x ? c[i].x : c[i].y;
        if ((v - last) * dir > 0 && (b0 - v) * dir > 0) {
            c[kept++] = c[i];
            last = v;
        }
    }
    return kept;
}

/* Upper bound of segment_points() for one segment. */
static size_t segment_room(double ax, double ay, double bx, double by, double max_edge,
                           double step)
{
    double parts = max_edge > 0 ? ceil(hypot(bx - ax, by - ay) / max_edge) : 1;
    return (size_t)parts + (size_t)(floor(fmax(ax, bx) / step) - floor(fmin(ax, bx) / step)) +
           (size_t)(floor(fmax(ay, by) / step) - floor(fmin(ay, by) / step));
}

static GEOSGeometry *densify_ring(tc_ctx *ctx, const GEOSGeometry *ring, double max_edge,
                                  double step)
{
    GEOSContextHandle_t h = ctx->geos;
    double *x = NULL, *y = NULL;
    size_t n = 0;
    if (tc__ring_xy(ctx, ring, &x, &y, &n) != TC_OK)
        return NULL;
    if (n < 2)
        return GEOSGeom_clone_r(h, ring);
    size_t room = n, most = 0;
    for (size_t i = 1; i < n; i++) {
        size_t r = segment_room(x[i - 1], y[i - 1], x[i], y[i], max_edge, step);
        room += r;
        most = r > most ? r : most;
    }
    double *ox = malloc(room * sizeof *ox), *oy = malloc(room * sizeof *oy);
    crossing *c = malloc((most + 1) * sizeof *c);
    GEOSGeometry *out = NULL;
    if (ox && oy && c) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            size_t k = i ? segment_points(x[i - 1], y[i - 1], x[i], y[i], max_edge, step, c) : 0;
            for (size_t q = 0; q < k; q++)
                if (!(c[q].x == ox[m - 1] && c[q].y == oy[m - 1])) {
                    ox[m] = c[q].x;
                    oy[m++] = c[q].y;
                }
            if (m && x[i] == ox[m - 1] && y[i] == oy[m - 1])
                continue; /* no repeated points (as GEOSDensify) */
            ox[m] = x[i];
            oy[m++] = y[i];
        }
        GEOSCoordSequence *cs = GEOSCoordSeq_copyFromArrays_r(h, ox, oy, NULL, NULL, m);
        out = cs ? GEOSGeom_createLinearRing_r(h, cs) : NULL;
    }
    free(ox);
    free(oy);
    free(c);
    return out;
}

static GEOSGeometry *densify_polygon(tc_ctx *ctx, const GEOSGeometry *p, double max_edge,
                                     double step)
{
    GEOSContextHandle_t h = ctx->geos;
    if (GEOSisEmpty_r(h, p) == 1)
        return GEOSGeom_clone_r(h, p);
    int nh = GEOSGetNumInteriorRings_r(h, p);
    GEOSGeometry *shell = densify_ring(ctx, GEOSGetExteriorRing_r(h, p), max_edge, step);
    GEOSGeometry **holes = calloc((size_t)(nh > 0 ? nh : 1), sizeof *holes);
    bool ok = shell && holes && nh >= 0;
    for (int i = 0; ok && i < nh; i++)
        ok = (holes[i] = densify_ring(ctx, GEOSGetInteriorRingN_r(h, p, i), max_edge, step)) !=
             NULL;
    GEOSGeometry *out = NULL;
    if (ok) {
        out = GEOSGeom_createPolygon_r(h, shell, holes, (unsigned)nh);
    } else {
        if (shell)
            GEOSGeom_destroy_r(h, shell);
        for (int i = 0; holes && i < nh; i++)
            if (holes[i])
                GEOSGeom_destroy_r(h, holes[i]);
    }
    free(holes);
    return out;
}

GEOSGeometry *tc__geom_densify_take(tc_ctx *ctx, GEOSGeometry *g, double max_edge, double step)
{
    GEOSContextHandle_t h = ctx->geos;
    if (!g)
        return NULL;
    int n = GEOSGetNumGeometries_r(h, g);
    GEOSGeometry **parts = calloc((size_t)(n > 0 ? n : 1), sizeof *parts);
    int k = 0;
    for (; parts && k < n; k++) {
        const GEOSGeometry *p = GEOSGetGeometryN_r(h, g, k);
        if (GEOSGeomTypeId_r(h, p) != GEOS_POLYGON ||
            !(parts[k] = densify_polygon(ctx, p, max_edge, step)))
            break;
    }
    GEOSGeometry *out = NULL;
    if (parts && k == n)
        out = GEOSGeom_createCollection_r(h, GEOS_MULTIPOLYGON, parts, (unsigned)n);
    else
        for (int i = 0; parts && i < k; i++)
            GEOSGeom_destroy_r(h, parts[i]);
    free(parts);
    GEOSGeom_destroy_r(h, g);
    return out;
}

/* ---------------------------------------------------------------- rectangles */

GEOSGeometry *tc__rect_polygon(tc_ctx *ctx, const double b[4], double densify)
{
    GEOSContextHandle_t h = ctx->geos;
    GEOSCoordSequence *cs = GEOSCoordSeq_create_r(h, 5, 2);
    const double x[5] = {b[0], b[2], b[2], b[0], b[0]};
    const double y[5] = {b[1], b[1], b[3], b[3], b[1]};
    for (unsigned i = 0; cs && i < 5; i++)
        GEOSCoordSeq_setXY_r(h, cs, i, x[i], y[i]);
    GEOSGeometry *ring = cs ? GEOSGeom_createLinearRing_r(h, cs) : NULL;
    GEOSGeometry *poly = ring ? GEOSGeom_createPolygon_r(h, ring, NULL, 0) : NULL;
    if (!poly || densify <= 0)
        return poly;
    GEOSGeometry *dense = GEOSDensify_r(h, poly, densify);
    GEOSGeom_destroy_r(h, poly);
    return dense;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static bool on_line(const double *v, size_t n, double c)
{
    return n && bsearch(&c, v, n, sizeof *v, cmp_double) != NULL;
}

void tc__sort_doubles(double *v, size_t n)
{
    if (n > 1)
        qsort(v, n, sizeof *v, cmp_double);
}

GEOSGeometry *tc__clip_guarded(tc_ctx *ctx, const GEOSGeometry *g, const double *x,
                               const double *y, size_t n, const double box[4])
{
    GEOSContextHandle_t h = ctx->geos;
    double b[4] = {box[0], box[1], box[2], box[3]};
    for (int k = 0; k < 4; k++) {
        const double *v = k % 2 == 0 ? x : y;
        for (int tries = 0; on_line(v, n, b[k]); tries++) {
            if (tries == 16)
                return NULL;
            b[k] = nextafter(b[k], k < 2 ? -HUGE_VAL : HUGE_VAL);
        }
    }
    GEOSGeometry *c = tc__as_multi_take(ctx, GEOSClipByRect_r(h, g, b[0], b[1], b[2], b[3]));
    if (c && GEOSisValid_r(h, c) != 1) {
        GEOSGeom_destroy_r(h, c);
        c = NULL;
    }
    if (!c)
        tc__clear(ctx); /* not an error: the caller goes on unclipped */
    return c;
}
