/* The area report: overlay of one snapshot with every unit, gap pieces classified. */
#include "tc_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

struct tc_report {
    size_t n_rows;
    size_t *row_unit;   /* region-set index of each row */
    tc_areas *unit;     /* per region-set unit (all of them) */
    bool *wanted;       /* per region-set unit: has a row */
    size_t n_units;
    tc_areas claim, country;
    double outside_m2;
    bool ea_checked;
    double ea_max_rel;
    tc__unit *prep;     /* the units as tc__regionset_prepare() gave them to this report */
};

/* A growable pair of coordinate arrays. */
typedef struct xy_buf {
    double *x, *y;
    size_t n, cap;
} xy_buf;

/* One polygon of uncontrolled neighbour land (strip minus snapshot). */
typedef struct strip_piece {
    const GEOSGeometry *g; /* borrowed from unit_job.strip_unc */
    double x0, y0, x1, y1; /* envelope */
    double size;           /* planar area in square degrees: only orders the pieces */
    int thin;              /* -1 not decided yet, 0 thick, 1 thin */
} strip_piece;

/* State shared by the units of one report. */
typedef struct report_job {
    xy_buf snap_xy;   /* every x and every y of the snapshot, each sorted (clip guards) */
    bool snap_xy_done;
    GEOSGeometry *snap_bnd;                /* the snapshot's boundary (tiles; lazy) */
    const GEOSPreparedGeometry *psnap_bnd; /* prepared */
} report_job;

/* Per-unit working state of one computation. */
typedef struct unit_job {
    tc_ctx *ctx;
    const tc__unit *u;
    const GEOSGeometry *snap;
    const GEOSPreparedGeometry *psnap;
    const tc_report_opts *o;
    report_job *rj;
    PJ *laea;                 /* local equal-area projection (lazy) */
    GEOSGeometry *csnap;      /* the snapshot clipped around the unit; NULL: use snap */
    GEOSGeometry *strip_unc;  /* uncontrolled neighbour land (lazy) */
    strip_piece *pieces;      /* its polygons, largest first (borrowed from strip_unc or
                                 the unit's strip) */
    size_t n_pieces;
    bool strip_done;
    bool strip_borrowed;      /* strip_unc and pieces belong to the memo */
    const GEOSGeometry **free_parts; /* land polygons the snapshot does not touch */
    size_t n_free;
    double *ea_max_rel;       /* NULL unless checking */
    bool full;                /* classify the uncontrolled land (a row or claimed unit) */
    bool clip_done;           /* csnap computed (may still be NULL) */
    const GEOSPreparedGeometry *pland; /* the unit's land prepared (plain front line; lazy) */
    tc__front_index *front;   /* the unit's and snapshot's vertices (fast front line; lazy) */
    bool front_borrowed;      /* front belongs to the memo */
    tc__memo *memo;           /* results of the previous report of a series, or NULL */
    size_t index;             /* the unit's index in the region set */
    const tc_regionset *rs;   /* the set (its cached tiles) */
    int touched;              /* the snapshot touches the land: 1, -1 not, 0 not yet known */
} unit_job;

/* ---------------------------------------------------------------- series memo */

typedef struct memo_unit {
    bool valid;         /* a holds the unit's result for the last date computed */
    tc__tiles *tiles;   /* the unit's land cut into cells (lazy) */
    tc_areas a;
    /* the uncontrolled neighbour land of the last date computed (unit_job's), kept while
     * no cell of the strip changes */
    bool strip_valid;
    GEOSGeometry *strip_unc;
    strip_piece *pieces;
    size_t n_pieces;
    /* land that changed hands since the previous date: became controlled, uncontrolled */
    double gained_m2, lost_m2;
    tc__front_index *front; /* the unit's land vertices (lazy), for every date */
} memo_unit;

static void memo_strip_clear(tc_ctx *ctx, memo_unit *m)
{
    if (m->strip_unc)
        GEOSGeom_destroy_r(ctx->geos, m->strip_unc);
    free(m->pieces);
    m->strip_unc = NULL;
    m->pieces = NULL;
    m->n_pieces = 0;
    m->strip_valid = false;
}

struct tc__memo {
    tc_ctx *ctx;                /* the worker's: owns the tiles' geometries */
    unsigned long epoch;        /* reports computed with it (stamps per-report facts) */
    size_t n;
    memo_unit *u;
    const tc__cellset *dirty;   /* cells changed since the last date; NULL: all */
};

tc__memo *tc__memo_new(tc_ctx *ctx, size_t n_units)
{
    tc__memo *m = calloc(1, sizeof *m);
    if (m && !(m->u = calloc(n_units ? n_units : 1, sizeof *m->u))) {
        free(m);
        return NULL;
    }
    if (m) {
        m->ctx = ctx;
        m->n = n_units;
    }
    return m;
}

void tc__memo_change(const tc__memo *m, size_t unit, double *gained_m2, double *lost_m2)
{
    *gained_m2 = m && unit < m->n ? m->u[unit].gained_m2 : 0;
    *lost_m2 = m && unit < m->n ? m->u[unit].lost_m2 : 0;
}

void tc__memo_set_dirty(tc__memo *m, const tc__cellset *dirty)
{
    if (m)
        m->dirty = dirty;
}

void tc__memo_free(tc__memo *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++) {
        tc__tiles_free(m->ctx, m->u[i].tiles);
        memo_strip_clear(m->ctx, &m->u[i]);
        tc__front_index_free(m->ctx, m->u[i].front);
    }
    free(m->u);
    free(m);
}

/* ---------------------------------------------------------------- coordinates */

/* Append a ring's coordinates to b. */
static tc_status xy_append(tc_ctx *ctx, xy_buf *b, const GEOSGeometry *ring)
{
    GEOSContextHandle_t h = ctx->geos;
    const GEOSCoordSequence *seq = GEOSGeom_getCoordSeq_r(h, ring);
    unsigned int n = 0;
    if (!seq || !GEOSCoordSeq_getSize_r(h, seq, &n))
        return tc__fail(ctx, TC_ERR_GEOMETRY, "cannot read ring: %s", ctx->geos_msg);
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n)
            cap *= 2;
        double *x = realloc(b->x, cap * sizeof *x);
        if (x)
            b->x = x;
        double *y = x ? realloc(b->y, cap * sizeof *y) : NULL;
        if (!y)
            return tc__fail(ctx, TC_ERR_NOMEM, "report: out of memory");
        b->y = y;
        b->cap = cap;
    }
    if (n && !GEOSCoordSeq_copyToArrays_r(h, seq, b->x + b->n, b->y + b->n, NULL, NULL))
        return tc__fail(ctx, TC_ERR_GEOMETRY, "cannot copy ring: %s", ctx->geos_msg);
    b->n += n;
    return TC_OK;
}

static void xy_free(xy_buf *b)
{
    free(b->x);
    free(b->y);
}

/* ---------------------------------------------------------------- geodesic area */

/* Geodesic area (m^2, holes subtracted) of polygonal g, added to *area. g is cut from the
 * unit's land: the terms of the land's edges are looked up (tc__edge_terms), except by the
 * plain method, the reference, which computes every edge (tc__geom_area_m2). */
static tc_status area_m2(unit_job *j, const GEOSGeometry *g, double *area)
{
    double a = 0.0;
    tc_status st = j->o->method == TC_METHOD_PLAIN
                       ? tc__geom_area_m2(j->ctx, g, &a, NULL)
                       : tc__geom_area_et_m2(j->ctx, g, j->u->et, &a);
    if (st == TC_OK)
        *area += a;
    return st;
}

/* ---------------------------------------------------------------- thin pieces */

static double deg_per_m(double lat_deg)
{
    /* degrees of longitude per metre at lat (the larger of lon/lat degrees per metre) */
    return 1.0 / (111320.0 * fmax(cos(lat_deg * TC__PI / 180.0), 0.01));
}

static int to_laea(double *x, double *y, void *user)
{
    PJ_COORD c = proj_coord(proj_torad(*x), proj_torad(*y), 0, 0);
    c = proj_trans((PJ *)user, PJ_FWD, c);
    if (c.xy.x == HUGE_VAL)
        return 0;
    *x = c.xy.x;
    *y = c.xy.y;
    return 1;
}

static tc_status ensure_laea(unit_job *j)
{
    if (j->laea)
        return TC_OK;
    double x0, y0, x1, y1;
    GEOSGeom_getExtent_r(j->ctx->geos, j->u->land, &x0, &y0, &x1, &y1);
    char def[256];
    snprintf(def, sizeof def, "+proj=laea +lat_0=%.6f +lon_0=%.6f +ellps=WGS84 +units=m",
             (y0 + y1) / 2, (x0 + x1) / 2);
    j->laea = proj_create(j->ctx->pj, def);
    if (!j->laea) {
        int e = proj_context_errno(j->ctx->pj);
        return tc__fail(j->ctx, TC_ERR_CRS, "equal-area projection for %s: %s", j->u->code,
                        e ? proj_context_errno_string(j->ctx->pj, e) : "failed");
    }
    return TC_OK;
}

/* Geometry g in the unit's local Lambert azimuthal equal-area projection (metres). */
static tc_status project(unit_job *j, const GEOSGeometry *g, GEOSGeometry **out)
{
    tc_status st = ensure_laea(j);
    if (st != TC_OK)
        return st;
    *out = GEOSGeom_transformXY_r(j->ctx->geos, g, to_laea, j->laea);
    if (!*out)
        return tc__fail(j->ctx, TC_ERR_CRS, "project %s to equal-area: failed", j->u->code);
    return TC_OK;
}

/* A polygon's rings' coordinates, one after another: ring k ends before end[k]. */
typedef struct rings_xy {
    xy_buf b;
    size_t *end;
    size_t n, cap;
} rings_xy;

static tc_status rings_add(tc_ctx *ctx, void *user, const GEOSGeometry *ring)
{
    rings_xy *r = user;
    tc_status st = xy_append(ctx, &r->b, ring);
    if (st != TC_OK)
        return st;
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 16;
        size_t *e = realloc(r->end, cap * sizeof *e);
        if (!e)
            return tc__fail(ctx, TC_ERR_NOMEM, "report: out of memory");
        r->end = e;
        r->cap = cap;
    }
    r->end[r->n++] = r->b.n;
    return TC_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The middle of the widest stretch of the line v = c (v: y, or x when vertical) inside the
 * rings (even-odd), as (*px, *py); false when the line does not cross them. cross: room
 * for one crossing per edge. */
static bool scan_middle(const rings_xy *r, bool vertical, double c, double *cross, double *px,
                        double *py)
{
    const double *u = vertical ? r->b.y : r->b.x, *v = vertical ? r->b.x : r->b.y;
    size_t m = 0, s = 0;
    for (size_t k = 0; k < r->n; s = r->end[k++])
        for (size_t i = s + 1; i < r->end[k]; i++)
            if ((v[i - 1] > c) != (v[i] > c))
                cross[m++] = u[i - 1] + (c - v[i - 1]) * (u[i] - u[i - 1]) / (v[i] - v[i - 1]);
    qsort(cross, m, sizeof *cross, cmp_double);
    double widest = 0, mid = 0;
    for (size_t i = 0; i + 1 < m; i += 2)
        if (cross[i + 1] - cross[i] > widest) {
            widest = cross[i + 1] - cross[i];
            mid = cross[i] + widest / 2;
        }
    *px = vertical ? c : mid;
    *py = vertical ? mid : c;
    return widest > 0;
}

/* Lines per direction scan_middle() tries after the point on surface and the centroid. */
#define DEEP_SCAN_LINES 4

/* True when some interior point of polygon pm (projected, metres) lies at least r from its
 * boundary. Tries the point-on-surface and the centroid, then the middles of the widest
 * stretches inside pm of DEEP_SCAN_LINES horizontal and vertical lines evenly across its
 * extent (the point on surface is one such middle, of the line through the extent's
 * middle): a band, such as a strip piece along a border, has its middle line there
 * wherever it is crossed, where the centroid falls outside it; the inward buffer they
 * spare is tens of milliseconds for a band of thousands of vertices. Every candidate is
 * checked inside and at distance >= r, so "true" is as sure as before; false means
 * "unknown". */
static bool deep_point(tc_ctx *ctx, const GEOSGeometry *pm, double r)
{
    GEOSContextHandle_t h = ctx->geos;
    GEOSGeometry *bnd = GEOSBoundary_r(h, pm);
    const GEOSPreparedGeometry *pb = bnd ? GEOSPrepare_r(h, bnd) : NULL;
    const GEOSPreparedGeometry *pa = pb ? GEOSPrepare_r(h, pm) : NULL;
    rings_xy rx = {{NULL, NULL, 0, 0}, NULL, 0, 0};
    double *cross = NULL, e[4];
    bool deep = false;
    for (int k = 0; k < 2 + 2 * DEEP_SCAN_LINES && pa && !deep; k++) {
        GEOSGeometry *p = NULL;
        if (k < 2) {
            p = k == 0 ? GEOSPointOnSurface_r(h, pm) : GEOSGetCentroid_r(h, pm);
        } else {
            if (k == 2 && (!GEOSGeom_getExtent_r(h, pm, &e[0], &e[1], &e[2], &e[3]) ||
                           tc__each_ring(ctx, pm, rings_add, &rx) != TC_OK ||
                           !(cross = malloc((rx.b.n ? rx.b.n : 1) * sizeof *cross)))) {
                tc__clear(ctx); /* "unknown" is not an error: the exact test follows */
                break;
            }
            bool vertical = k % 2;
            int line = (k - 2) / 2;
            double lo = e[vertical ? 0 : 1], hi = e[vertical ? 2 : 3], x = 0, y = 0;
            if (scan_middle(&rx, vertical, lo + (hi - lo) * (line + 0.5) / DEEP_SCAN_LINES,
                            cross, &x, &y))
                p = GEOSGeom_createPointFromXY_r(h, x, y);
        }
        double d = 0;
        if (p && GEOSPreparedContainsProperly_r(h, pa, p) == 1 &&
            GEOSPreparedDistance_r(h, pb, p, &d) == 1 && d >= r)
            deep = true;
        if (p)
            GEOSGeom_destroy_r(h, p);
    }
    free(cross);
    xy_free(&rx.b);
    free(rx.end);
    if (pa)
        GEOSPreparedGeom_destroy_r(h, pa);
    if (pb)
        GEOSPreparedGeom_destroy_r(h, pb);
    if (bnd)
        GEOSGeom_destroy_r(h, bnd);
    return deep;
}

/* Smallest radius of curvature of the ellipsoid, rounded down (m). */
#define MIN_RADIUS_M 6.3e6

/* Sufficient test for "thick" on the lon/lat piece itself, without projecting it: an
 * interior point whose distance to the boundary, measured with a metric never longer than
 * the ellipsoid's in the piece's latitude band, is at least 1.05 r plus a bound on how far
 * a straight edge in lon/lat strays from the same edge straight in the projection. Such a
 * point lies more than r inside the projected piece too (the equal-area projection
 * distorts distances by well under 1% across a unit), so the inward buffer keeps it.
 * Tries the point-on-surface and the centroid; false means "unknown". */
typedef struct scale_xy {
    double kx, ky;
} scale_xy;

static int scale_cb(double *x, double *y, void *user)
{
    const scale_xy *k = user;
    *x *= k->kx;
    *y *= k->ky;
    return 1;
}

static tc_status max_edge(tc_ctx *ctx, void *user, const GEOSGeometry *ring)
{
    const GEOSCoordSequence *seq = GEOSGeom_getCoordSeq_r(ctx->geos, ring);
    unsigned int n = 0;
    double *lmax = user, px = 0, py = 0;
    if (!seq || !GEOSCoordSeq_getSize_r(ctx->geos, seq, &n))
        return TC_ERR_GEOMETRY;
    for (unsigned int k = 0; k < n; k++) {
        double x = 0, y = 0;
        GEOSCoordSeq_getXY_r(ctx->geos, seq, k, &x, &y);
        if (k)
            *lmax = fmax(*lmax, hypot(x - px, y - py));
        px = x;
        py = y;
    }
    return TC_OK;
}

static bool deep_lonlat(unit_job *j, const GEOSGeometry *piece, double r)
{
    GEOSContextHandle_t h = j->ctx->geos;
    const struct geod_geodesic *g = &j->ctx->geod;
    double x0, y0, x1, y1, lmax = 0; /* longest edge, degrees */
    if (!GEOSGeom_getExtent_r(h, piece, &x0, &y0, &x1, &y1) ||
        tc__each_ring(j->ctx, piece, max_edge, &lmax) != TC_OK) {
        tc__clear(j->ctx); /* "unknown" is not an error: the exact test follows */
        return false;
    }
    /* metres per degree: of the parallel at the band's poleward edge (plus a margin for
     * geodesics bowing poleward), of the meridian at the equator; the least in the band.
     * Scaled by them, lon/lat distances never exceed the ellipsoid's. */
    double phi = fmin(fmax(fabs(y0), fabs(y1)) + 0.5, 80.0) * TC__PI / 180;
    scale_xy k = {TC__PI / 180 * g->a * cos(phi) / sqrt(1 - g->e2 * sin(phi) * sin(phi)),
                  TC__PI / 180 * g->a * (1 - g->e2)};
    double lm = lmax * 111700.0; /* metres, from above */
    double need = 1.05 * r + lm * lm * (1.1 + 2 * tan(phi)) / (8 * MIN_RADIUS_M);
    GEOSGeometry *scaled = GEOSGeom_transformXY_r(h, piece, scale_cb, &k);
    bool deep = scaled && deep_point(j->ctx, scaled, need);
    if (scaled)
        GEOSGeom_destroy_r(h, scaled);
    return deep;
}

/* Thin: vanishes under an inward buffer of half the sliver width. area_m2 is its geodesic
 * area (< 0: unknown, use the projected one): a piece smaller than a disk of that width
 * cannot contain one, so it is thin. */
static tc_status is_thin(unit_job *j, const GEOSGeometry *piece, double area_m2, bool *thin)
{
    double r = j->o->sliver_width_m / 2;
    if (area_m2 >= 0 && area_m2 < TC__PI * r * r) {
        *thin = true;
        return TC_OK;
    }
    /* Cheap sufficient tests first: an interior point at least r from the boundary means a
     * disk of radius r fits, so the inward buffer cannot vanish. Large real gaps and most
     * neighbour land end here; buffering them (tens of thousands of vertices) would
     * dominate the report. */
    if (deep_lonlat(j, piece, r)) {
        *thin = false;
        return TC_OK;
    }
    GEOSGeometry *pm = NULL;
    tc_status st = project(j, piece, &pm);
    if (st != TC_OK)
        return st;
    double planar = 0; /* equal-area projection: close enough for this bound */
    if (area_m2 < 0 && GEOSArea_r(j->ctx->geos, pm, &planar) && planar < 0.99 * TC__PI * r * r) {
        GEOSGeom_destroy_r(j->ctx->geos, pm);
        *thin = true;
        return TC_OK;
    }
    if (deep_point(j->ctx, pm, r)) {
        GEOSGeom_destroy_r(j->ctx->geos, pm);
        *thin = false;
        return TC_OK;
    }
    GEOSGeometry *core = GEOSBuffer_r(j->ctx->geos, pm, -r, 2);
    GEOSGeom_destroy_r(j->ctx->geos, pm);
    if (!core)
        return tc__fail(j->ctx, TC_ERR_GEOMETRY, "sliver test in %s: %s", j->u->code,
                        j->ctx->geos_msg);
    *thin = GEOSisEmpty_r(j->ctx->geos, core) == 1;
    GEOSGeom_destroy_r(j->ctx->geos, core);
    return TC_OK;
}

/* ---------------------------------------------------------------- connection */

/* The polygons of g the snapshot touches, as *touched (g itself, a new MultiPolygon in
 * *owned, or NULL when none does); the others are listed in free_parts (borrowed from g),
 * *n_free of them. Those come out of an overlay with the snapshot unchanged, so they need
 * none. free_parts has room for every polygon of g. g_touches: g is known to touch the
 * snapshot (a single polygon is then not tested again). */
static tc_status split_touched(unit_job *j, const GEOSGeometry *g, bool g_touches,
                               const GEOSGeometry **touched, GEOSGeometry **owned,
                               const GEOSGeometry **free_parts, size_t *n_free)
{
    GEOSContextHandle_t h = j->ctx->geos;
    *touched = g;
    *owned = NULL;
    *n_free = 0;
    int n = GEOSGetNumGeometries_r(h, g);
    if (GEOSisEmpty_r(h, g) == 1) {
        *touched = NULL;
        return TC_OK;
    }
    if (GEOSGeomTypeId_r(h, g) != GEOS_MULTIPOLYGON || n < 2) {
        if (!g_touches && n == 1 && GEOSPreparedIntersects_r(h, j->psnap, g) == 0) {
            free_parts[0] = GEOSGetGeometryN_r(h, g, 0);
            *n_free = 1;
            *touched = NULL;
        }
        return TC_OK;
    }
    GEOSGeometry **parts = calloc((size_t)n, sizeof *parts);
    if (!parts)
        return tc__fail(j->ctx, TC_ERR_NOMEM, "report: out of memory");
    size_t nt = 0, nf = 0;
    tc_status st = TC_OK;
    for (int i = 0; i < n && st == TC_OK; i++) {
        const GEOSGeometry *p = GEOSGetGeometryN_r(h, g, i);
        if (GEOSPreparedIntersects_r(h, j->psnap, p) != 1)
            free_parts[nf++] = p;
        else if (!(parts[nt++] = GEOSGeom_clone_r(h, p)))
            st = tc__fail(j->ctx, TC_ERR_NOMEM, "report: out of memory");
    }
    if (st == TC_OK && nf && nt) {
        *owned = GEOSGeom_createCollection_r(h, GEOS_MULTIPOLYGON, parts, (unsigned)nt);
        if (!*owned)
            st = tc__fail(j->ctx, TC_ERR_GEOMETRY, "report: %s", j->ctx->geos_msg);
        else
            *touched = *owned;
        nt = 0; /* owned by the collection (or destroyed by GEOS on failure) */
    }
    for (size_t i = 0; i < nt; i++)
        if (parts[i])
            GEOSGeom_destroy_r(h, parts[i]);
    free(parts);
    if (st == TC_OK && (*owned || !nt))
        *n_free = nf; /* else every polygon is touched: g goes as it is */
    if (st == TC_OK && !*owned && nf)
        *touched = NULL; /* nothing touched */
    return st;
}

static int cmp_piece(const void *a, const void *b)
{
    double x = ((const strip_piece *)a)->size, y = ((const strip_piece *)b)->size;
    return x > y ? -1 : x < y ? 1 : 0;
}

/* Uncontrolled neighbour land beside the unit, as its polygons (largest first); whether
 * each is thin is decided only when a gap piece comes near it. Built on first need. */
static tc_status ensure_strip(unit_job *j)
{
    if (j->strip_done)
        return TC_OK;
    j->strip_done = true;
    GEOSContextHandle_t h = j->ctx->geos;
    const tc__unit *u = j->u;
    /* polygons of the strip the snapshot does not touch are uncontrolled as they stand */
    int ns = GEOSGetNumGeometries_r(h, u->strip);
    const GEOSGeometry **whole = calloc((size_t)(ns > 0 ? ns : 1), sizeof *whole);
    const GEOSGeometry *touched = NULL;
    GEOSGeometry *owned = NULL;
    size_t n_whole = 0;
    tc_status st = whole ? split_touched(j, u->strip, false, &touched, &owned, whole,
                                           &n_whole)
                         : tc__fail(j->ctx, TC_ERR_NOMEM, "strip: out of memory");
    if (st == TC_OK && touched) {
        j->strip_unc = GEOSDifference_r(h, touched, j->csnap ? j->csnap : j->snap);
        if (!j->strip_unc)
            st = tc__fail(j->ctx, TC_ERR_GEOMETRY, "strip of %s: %s", u->code, j->ctx->geos_msg);
    }
    if (owned)
        GEOSGeom_destroy_r(h, owned);
    int n = j->strip_unc ? GEOSGetNumGeometries_r(h, j->strip_unc) : 0;
    if (st == TC_OK && !(j->pieces = calloc((size_t)n + n_whole + 1, sizeof *j->pieces)))
        st = tc__fail(j->ctx, TC_ERR_NOMEM, "strip: out of memory");
    for (size_t i = 0; st == TC_OK && i < (size_t)n + n_whole; i++) {
        const GEOSGeometry *p = i < (size_t)n ? GEOSGetGeometryN_r(h, j->strip_unc, (int)i)
                                              : whole[i - (size_t)n];
        if (GEOSGeomTypeId_r(h, p) != GEOS_POLYGON || GEOSisEmpty_r(h, p) == 1)
            continue;
        strip_piece *s = &j->pieces[j->n_pieces++];
        s->g = p;
        s->thin = -1;
        GEOSGeom_getExtent_r(h, p, &s->x0, &s->y0, &s->x1, &s->y1);
        if (!GEOSArea_r(h, p, &s->size))
            s->size = 0;
    }
    free(whole);
    if (st == TC_OK)
        qsort(j->pieces, j->n_pieces, sizeof *j->pieces, cmp_piece);
    return st;
}

/* Connected: within the contact tolerance of a thick piece of uncontrolled neighbour land.
 * Pieces known to be thick are tried first, then the undecided ones near p, largest first;
 * a piece's thinness is decided only once it is found near a gap piece. The answer is the
 * same as testing p against the union of all thick pieces. */
static tc_status is_connected(unit_job *j, const GEOSGeometry *const *parts, size_t n,
                              bool *connected)
{
    GEOSContextHandle_t h = j->ctx->geos;
    /* No neighbouring unit at all (a layer of one unit, an island): connectivity cannot
     * be judged, and a thick piece counts as real gap (docs/method.md). */
    if (GEOSisEmpty_r(h, j->u->strip) == 1) {
        *connected = true;
        return TC_OK;
    }
    *connected = false;
    tc_status st = ensure_strip(j);
    if (st != TC_OK || !j->n_pieces || !n)
        return st;
    double (*box)[4] = calloc(n, sizeof *box);
    const GEOSPreparedGeometry **pp = calloc(n, sizeof *pp);
    if (!box || !pp)
        st = tc__fail(j->ctx, TC_ERR_NOMEM, "report: out of memory");
    double x0 = HUGE_VAL, y0 = HUGE_VAL, x1 = -HUGE_VAL, y1 = -HUGE_VAL;
    for (size_t k = 0; k < n && st == TC_OK; k++) {
        GEOSGeom_getExtent_r(h, parts[k], &box[k][0], &box[k][1], &box[k][2], &box[k][3]);
        x0 = fmin(x0, box[k][0]), y0 = fmin(y0, box[k][1]);
        x1 = fmax(x1, box[k][2]), y1 = fmax(y1, box[k][3]);
    }
    double tol = j->o->connect_tol_m * deg_per_m(fmax(fabs(y0), fabs(y1)));
    for (int pass = 0; pass < 2 && st == TC_OK && !*connected; pass++) {
        for (size_t i = 0; i < j->n_pieces && st == TC_OK && !*connected; i++) {
            strip_piece *s = &j->pieces[i];
            if (s->thin != (pass == 0 ? 0 : -1))
                continue;
            if (s->x0 > x1 + tol || s->x1 < x0 - tol || s->y0 > y1 + tol || s->y1 < y0 - tol)
                continue;
            int near = 0;
            for (size_t k = 0; k < n && near == 0; k++) {
                const double *b = box[k];
                if (s->x0 > b[2] + tol || s->x1 < b[0] - tol || s->y0 > b[3] + tol ||
                    s->y1 < b[1] - tol)
                    continue;
                if (!pp[k] && !(pp[k] = GEOSPrepare_r(h, parts[k]))) {
                    near = 2;
                    break;
                }
                near = GEOSPreparedDistanceWithin_r(h, pp[k], s->g, tol);
            }
            if (near == 2)
                st = tc__fail(j->ctx, TC_ERR_GEOMETRY, "contact test in %s: %s", j->u->code,
                              j->ctx->geos_msg);
            if (near != 1)
                continue;
            if (s->thin < 0) {
                bool thin = true;
                if ((st = is_thin(j, s->g, -1.0, &thin)) != TC_OK)
                    break;
                s->thin = thin ? 1 : 0;
            }
            *connected = s->thin == 0;
        }
    }
    for (size_t k = 0; pp && k < n; k++)
        if (pp[k])
            GEOSPreparedGeom_destroy_r(h, pp[k]);
    free(pp);
    free(box);
    return st;
}

/* Length of the part of a real-gap piece's boundary that is not the unit's own border or
 * coast: its contact with controlled land, the front line. */
static tc_status front_length(unit_job *j, const GEOSGeometry *p, const double *cut_box,
                              double *front_m)
{
    GEOSContextHandle_t h = j->ctx->geos;
    if (j->o->method != TC_METHOD_PLAIN) { /* by the origin of each edge (lib/front.c) */
        tc_status st = TC_OK;
        const GEOSGeometry *snap = j->csnap ? j->csnap : j->snap;
        memo_unit *m = j->memo ? &j->memo->u[j->index] : NULL;
        if (!j->front && m && m->front) { /* the land's part is the memo's, kept */
            st = tc__front_index_set_snap(j->ctx, m->front, snap, j->psnap);
            j->front = m->front;
            j->front_borrowed = true;
        } else if (!j->front) {
            st = tc__front_index_new(j->ctx, j->u->land, snap, j->psnap, &j->front);
            if (st == TC_OK && m) {
                m->front = j->front;
                j->front_borrowed = true;
            }
        }
        return st == TC_OK ? tc__front_length_m(j->ctx, j->front, p, cut_box, front_m) : st;
    }
    /* the reference: every edge of the piece tested against the land's boundary */
    if (!j->pland && !(j->pland = GEOSPrepare_r(h, j->u->land)))
        return tc__fail(j->ctx, TC_ERR_GEOMETRY, "front line of %s: %s", j->u->code,
                        j->ctx->geos_msg);
    return tc__front_length_ref_m(j->ctx, j->pland, p, front_m);
}

/* Sort one uncontrolled piece (a polygon) into gap, sliver or enclosed. */
static tc_status classify_piece(unit_job *j, const GEOSGeometry *p, tc_areas *a)
{
    double area = 0;
    bool thin = false, connected = false;
    tc_status st = area_m2(j, p, &area);
    if (st == TC_OK)
        st = is_thin(j, p, area, &thin);
    if (st == TC_OK && !thin)
        st = is_connected(j, &p, 1, &connected);
    if (st != TC_OK)
        return st;
    if (thin) {
        a->sliver_m2 += area;
        a->n_sliver++;
    } else if (connected) {
        a->gap_m2 += area;
        a->n_gap++;
        if (j->o->front_line && (st = front_length(j, p, NULL, &a->front_m)) != TC_OK)
            return st;
    } else {
        a->enclosed_m2 += area;
        a->n_enclosed++;
    }
    return TC_OK;
}

static tc_status classify(unit_job *j, const GEOSGeometry *gap, tc_areas *a)
{
    GEOSContextHandle_t h = j->ctx->geos;
    int n = GEOSGetNumGeometries_r(h, gap);
    tc_status st = TC_OK;
    for (int i = 0; i < n && st == TC_OK; i++) {
        const GEOSGeometry *p = GEOSGetGeometryN_r(h, gap, i);
        if (GEOSGeomTypeId_r(h, p) == GEOS_POLYGON && !GEOSisEmpty_r(h, p))
            st = classify_piece(j, p, a);
    }
    return st;
}

/* Planar area of g in the unit's equal-area projection, added to *sum; false on failure. */
static bool ea_add(unit_job *j, const GEOSGeometry *g, double *sum)
{
    GEOSGeometry *pm = NULL;
    if (project(j, g, &pm) != TC_OK)
        return false;
    double planar = 0;
    bool ok = GEOSArea_r(j->ctx->geos, pm, &planar) == 1;
    GEOSGeom_destroy_r(j->ctx->geos, pm);
    *sum += planar;
    return ok;
}

static void ea_check(unit_job *j, double planar_m2, double geodesic_m2)
{
    if (geodesic_m2 < 1e6) /* figures under 1 km2: relative error is noise */
        return;
    double rel = fabs(planar_m2 - geodesic_m2) / geodesic_m2;
    if (rel > *j->ea_max_rel)
        *j->ea_max_rel = rel;
}

static void ea_compare(unit_job *j, const GEOSGeometry *g, double geodesic_m2)
{
    double planar = 0;
    if (j->ea_max_rel && geodesic_m2 >= 1e6 && ea_add(j, g, &planar))
        ea_check(j, planar, geodesic_m2);
}

/* ---------------------------------------------------------------- one unit */

static tc_status add_snap_ring(tc_ctx *ctx, void *user, const GEOSGeometry *ring)
{
    return xy_append(ctx, user, ring);
}

/* Every coordinate of the snapshot (the clip guards need them), collected once per
 * report; when that fails they stay empty (clips then go unguarded, or unclipped). */
static tc_status snap_coords(unit_job *j)
{
    report_job *rj = j->rj;
    if (!rj->snap_xy_done) {
        rj->snap_xy_done = true;
        if (tc__each_ring(j->ctx, j->snap, add_snap_ring, &rj->snap_xy) != TC_OK) {
            tc__clear(j->ctx); /* not an error */
            xy_free(&rj->snap_xy);
            memset(&rj->snap_xy, 0, sizeof rj->snap_xy);
        }
        tc__sort_doubles(rj->snap_xy.x, rj->snap_xy.n); /* for the guards' lookups */
        tc__sort_doubles(rj->snap_xy.y, rj->snap_xy.n);
    }
    return TC_OK;
}

/* The snapshot clipped to a rectangle around the unit and its strip, or NULL to use the
 * whole snapshot: both overlays then node and index only the nearby part of it. The
 * rectangle keeps clear of the land and the strip, and of every snapshot vertex (GEOS's
 * rectangle clipper is unreliable where edges run along the rectangle); an invalid clip
 * falls back to the whole snapshot. */
static GEOSGeometry *clip_snapshot(unit_job *j)
{
    GEOSContextHandle_t h = j->ctx->geos;
    report_job *rj = j->rj;
    (void)snap_coords(j);
    if (!rj->snap_xy.n)
        return NULL;
    double b[4], s[4];
    if (!GEOSGeom_getExtent_r(h, j->u->land, &b[0], &b[1], &b[2], &b[3]))
        return NULL;
    /* a unit not classified never overlays its strip (which may not be prepared): its
     * rectangle is its land's alone, whatever the cache holds */
    if (j->full && GEOSisEmpty_r(h, j->u->strip) == 0 &&
        GEOSGeom_getExtent_r(h, j->u->strip, &s[0], &s[1], &s[2], &s[3])) {
        b[0] = fmin(b[0], s[0]), b[1] = fmin(b[1], s[1]);
        b[2] = fmax(b[2], s[2]), b[3] = fmax(b[3], s[3]);
    }
    const double margin = 0.01; /* degrees */
    b[0] -= margin, b[1] -= margin, b[2] += margin, b[3] += margin;
    return tc__clip_guarded(j->ctx, j->snap, rj->snap_xy.x, rj->snap_xy.y, rj->snap_xy.n, b);
}

/* TC_METHOD_PLAIN: the whole land overlaid with the whole snapshot both ways, every area
 * measured on its own, every piece classified: the reference the fast path is tested
 * against, and the baseline of the benchmarks. */
static tc_status plain_body(unit_job *j, tc_areas *a)
{
    GEOSContextHandle_t h = j->ctx->geos;
    GEOSGeometry *ctl = GEOSIntersection_r(h, j->u->land, j->snap);
    GEOSGeometry *gap = ctl ? GEOSDifference_r(h, j->u->land, j->snap) : NULL;
    tc_status st = gap ? TC_OK
                       : tc__fail(j->ctx, TC_ERR_GEOMETRY, "overlay of %s with the snapshot: %s",
                                  j->u->code, j->ctx->geos_msg);
    if (st == TC_OK)
        st = area_m2(j, ctl, &a->controlled_m2);
    if (st == TC_OK)
        st = classify(j, gap, a);
    if (st == TC_OK) {
        double raw = a->gap_m2 + a->sliver_m2 + a->enclosed_m2;
        ea_compare(j, ctl, a->controlled_m2);
        ea_compare(j, gap, raw);
        a->closure_rel = fabs(a->land_m2 - (a->controlled_m2 + raw)) / a->land_m2;
    }
    if (ctl)
        GEOSGeom_destroy_r(h, ctl);
    if (gap)
        GEOSGeom_destroy_r(h, gap);
    return st;
}

/* A unit that is neither reported nor claimed: only its controlled land is needed (for
 * the outside-the-claim and country figures); the rest is uncontrolled, unclassified. */
static tc_status controlled_only(unit_job *j, tc_areas *a)
{
    GEOSContextHandle_t h = j->ctx->geos;
    GEOSGeometry *ctl = GEOSIntersection_r(h, j->u->land, j->csnap ? j->csnap : j->snap);
    if (!ctl)
        return tc__fail(j->ctx, TC_ERR_GEOMETRY, "overlay of %s with the snapshot: %s",
                        j->u->code, j->ctx->geos_msg);
    tc_status st = area_m2(j, ctl, &a->controlled_m2);
    if (st == TC_OK) {
        ea_compare(j, ctl, a->controlled_m2);
        a->controlled_m2 = fmin(a->controlled_m2, a->land_m2);
        a->gap_m2 = a->land_m2 - a->controlled_m2;
        a->n_gap = a->gap_m2 > 0;
        a->classified = false;
    }
    GEOSGeom_destroy_r(h, ctl);
    return st;
}

static tc_status compute_body(unit_job *j, tc_areas *a)
{
    GEOSContextHandle_t h = j->ctx->geos;
    const tc__unit *u = j->u;
    const bool plain = j->o->method == TC_METHOD_PLAIN;
    memset(a, 0, sizeof *a);
    a->admin_m2 = u->admin_m2;
    a->land_m2 = u->land_m2;
    a->classified = true;
    ea_compare(j, u->land, u->land_m2);
    if (GEOSisEmpty_r(h, u->land))
        return TC_OK;
    if (j->touched ? j->touched < 0 : GEOSPreparedIntersects_r(h, j->psnap, u->land) != 1) {
        /* untouched by the snapshot: all of it is uncontrolled land of the country */
        a->gap_m2 = u->land_m2;
        a->n_gap = 1;
        return TC_OK;
    }
    if (plain) /* the reference does the straightforward thing: whole overlays */
        return plain_body(j, a);
    if (!j->clip_done) {
        j->csnap = clip_snapshot(j);
        j->clip_done = true;
    }
    if (!j->full)
        return controlled_only(j, a);
    /* Polygons of the land the snapshot does not touch come out of the overlays unchanged,
     * as uncontrolled pieces of their own: only the touched ones are overlaid. */
    const GEOSGeometry *land = NULL;
    GEOSGeometry *owned = NULL;
    int np = GEOSGetNumGeometries_r(h, u->land);
    j->free_parts = calloc((size_t)(np > 0 ? np : 1), sizeof *j->free_parts);
    tc_status st = j->free_parts ? split_touched(j, u->land, true, &land, &owned,
                                                 j->free_parts, &j->n_free)
                                 : tc__fail(j->ctx, TC_ERR_NOMEM, "report: out of memory");
    if (st != TC_OK)
        return st;
    GEOSGeometry *gap = NULL, *ctl = NULL;
    bool whole = false; /* the touched polygons are controlled as a whole */
    if (land) {
        const GEOSGeometry *snap = j->csnap ? j->csnap : j->snap;
        /* the uncontrolled rest first: when it is empty, skip the intersection */
        gap = GEOSDifference_r(h, land, snap);
        whole = gap && GEOSisEmpty_r(h, gap) == 1;
        ctl = gap && !whole && plain ? GEOSIntersection_r(h, land, snap) : NULL;
        if (!gap || (!whole && plain && !ctl))
            st = tc__fail(j->ctx, TC_ERR_GEOMETRY, "overlay of %s with the snapshot: %s",
                          u->code, j->ctx->geos_msg);
        if (st == TC_OK && whole && !owned)
            a->controlled_m2 = u->land_m2;
        else if (st == TC_OK && plain)
            st = area_m2(j, whole ? land : ctl, &a->controlled_m2);
    }
    if (st == TC_OK && gap)
        st = classify(j, gap, a);
    for (size_t i = 0; i < j->n_free && st == TC_OK; i++) {
        double front = a->front_m; /* untouched polygons: no contact with the snapshot */
        st = classify_piece(j, j->free_parts[i], a);
        a->front_m = front;
    }
    if (st == TC_OK) {
        double raw = a->gap_m2 + a->sliver_m2 + a->enclosed_m2;
        if (!plain) /* one overlay: controlled is the rest of the land */
            a->controlled_m2 = fmax(0.0, a->land_m2 - raw);
        if (land && ctl)
            ea_compare(j, ctl, a->controlled_m2);
        if (j->ea_max_rel && raw >= 1e6) {
            double planar = 0;
            bool ok = !gap || ea_add(j, gap, &planar);
            for (size_t i = 0; i < j->n_free && ok; i++)
                ok = ea_add(j, j->free_parts[i], &planar);
            if (ok)
                ea_check(j, planar, raw);
        }
        a->closure_rel = fabs(a->land_m2 - (a->controlled_m2 + raw)) / a->land_m2;
    }
    if (ctl)
        GEOSGeom_destroy_r(h, ctl);
    if (gap)
        GEOSGeom_destroy_r(h, gap);
    if (owned)
        GEOSGeom_destroy_r(h, owned);
    return st;
}

/* Sufficient contact test of a tiled piece: some fragment within the contact tolerance
 * of the strip inside a cell without any snapshot (uncontrolled as it stands) that is
 * thick (so the uncontrolled strip piece it belongs to is thick). No overlay; when it
 * finds nothing, the full test (is_connected) decides. */
static tc_status connected_by_cells(unit_job *j, tc__tiles *t, const tc__piece *p,
                                    bool *connected)
{
    GEOSContextHandle_t h = j->ctx->geos;
    *connected = false;
    tc_status st = TC_OK;
    size_t idx[64];
    for (size_t k = 0; k < p->n_frag && st == TC_OK && !*connected; k++) {
        const GEOSGeometry *f = tc__tiles_piece_frag(t, p, k)->g;
        double b[4];
        GEOSGeom_getExtent_r(h, f, &b[0], &b[1], &b[2], &b[3]);
        double tol = j->o->connect_tol_m * deg_per_m(fmax(fabs(b[1]), fabs(b[3])));
        size_t n = tc__tiles_strip_near(t, b, tol, idx, 64);
        const GEOSPreparedGeometry *pf = NULL;
        for (size_t q = 0; q < n && st == TC_OK && !*connected; q++) {
            tc__strip_cell *c = tc__tiles_strip_cell(t, idx[q]);
            double e[4];
            GEOSGeom_getExtent_r(h, c->part, &e[0], &e[1], &e[2], &e[3]);
            if (e[0] > b[2] + tol || e[2] < b[0] - tol || e[1] > b[3] + tol || e[3] < b[1] - tol)
                continue;
            if (c->epoch != j->memo->epoch) { /* is the cell free of snapshot now? */
                int hit = GEOSPreparedIntersects_r(h, j->psnap, c->rect);
                if (hit == 2) {
                    st = tc__fail(j->ctx, TC_ERR_GEOMETRY, "contact test in %s: %s",
                                  j->u->code, j->ctx->geos_msg);
                    break;
                }
                c->empty = hit == 0;
                c->epoch = j->memo->epoch;
            }
            if (!c->empty || c->thick == 0)
                continue;
            if (!pf && !(pf = GEOSPrepare_r(h, f))) {
                st = tc__fail(j->ctx, TC_ERR_GEOMETRY, "contact test in %s: %s", j->u->code,
                              j->ctx->geos_msg);
                break;
            }
            int near = GEOSPreparedDistanceWithin_r(h, pf, c->part, tol);
            if (near == 2)
                st = tc__fail(j->ctx, TC_ERR_GEOMETRY, "contact test in %s: %s", j->u->code,
                              j->ctx->geos_msg);
            if (near != 1)
                continue;
            if (c->thick < 0) {
                bool thin = true;
                if ((st = is_thin(j, c->part, -1.0, &thin)) != TC_OK)
                    break;
                c->thick = !thin;
            }
            *connected = c->thick == 1;
        }
        if (pf)
            GEOSPreparedGeom_destroy_r(h, pf);
    }
    return st;
}

/* Sort one piece of a unit's tiles (its fragments) into gap, sliver or enclosed, as
 * classify_piece() sorts a polygon: the fragments stand in for the piece wherever they
 * can (a whole uncontrolled cell is thick; a fragment with a deep point makes the piece
 * thick; contact with the strip is contact of some fragment), and only a piece none of
 * those decide is united from its fragments. */
static tc_status classify_tiled(unit_job *j, tc__tiles *t, const tc__piece *p, tc_areas *a)
{
    GEOSContextHandle_t h = j->ctx->geos;
    const double r = j->o->sliver_width_m / 2;
    const size_t n = p->n_frag;
    const GEOSGeometry **parts = calloc(n ? n : 1, sizeof *parts);
    if (!parts)
        return tc__fail(j->ctx, TC_ERR_NOMEM, "report: out of memory");
    for (size_t k = 0; k < n; k++)
        parts[k] = tc__tiles_piece_frag(t, p, k)->g;
    tc_status st = TC_OK;
    bool thin = false, connected = false, decided = true;
    if (p->m2 < TC__PI * r * r)
        thin = true;
    else if (p->whole_cell)
        thin = false;
    else if (n == 1)
        st = is_thin(j, parts[0], p->m2, &thin);
    else {
        decided = false;
        for (size_t k = 0; k < n && !decided; k++)
            decided = deep_lonlat(j, parts[k], r);
    }
    if (st == TC_OK && !decided) {
        GEOSGeometry **c = calloc(n, sizeof *c);
        GEOSGeometry *coll = NULL, *merged = NULL;
        for (size_t k = 0; c && k < n; k++)
            if (!(c[k] = GEOSGeom_clone_r(h, parts[k])))
                break;
        if (c && c[n - 1])
            coll = GEOSGeom_createCollection_r(h, GEOS_MULTIPOLYGON, c, (unsigned)n);
        else
            for (size_t k = 0; c && k < n; k++)
                if (c[k])
                    GEOSGeom_destroy_r(h, c[k]);
        free(c);
        merged = coll ? GEOSUnaryUnion_r(h, coll) : NULL;
        if (coll)
            GEOSGeom_destroy_r(h, coll);
        st = merged ? is_thin(j, merged, p->m2, &thin)
                    : tc__fail(j->ctx, TC_ERR_GEOMETRY, "piece of %s: %s", j->u->code,
                               j->ctx->geos_msg);
        if (merged)
            GEOSGeom_destroy_r(h, merged);
    }
    if (st == TC_OK && !thin && GEOSisEmpty_r(h, j->u->strip) != 1)
        st = connected_by_cells(j, t, p, &connected);
    if (st == TC_OK && !thin && !connected)
        st = is_connected(j, parts, n, &connected);
    if (st == TC_OK && thin) {
        a->sliver_m2 += p->m2;
        a->n_sliver++;
    } else if (st == TC_OK && connected) {
        a->gap_m2 += p->m2;
        a->n_gap++;
        for (size_t k = 0; k < n && st == TC_OK && j->o->front_line; k++) {
            const tc__frag_ref *f = tc__tiles_piece_frag(t, p, k);
            if (!f->mixed) /* a cell without snapshot has no front */
                continue;
            if (!*f->front_done) {
                *f->front_m = 0;
                st = front_length(j, f->g, f->box, f->front_m);
                *f->front_done = st == TC_OK;
            }
            a->front_m += *f->front_m;
        }
    } else if (st == TC_OK) {
        a->enclosed_m2 += p->m2;
        a->n_enclosed++;
    }
    free(parts);
    return st;
}

/* A series' unit: its land cut into cells, only the cells where the snapshot changed
 * overlaid again (lib/tiles.c); the pieces come from the fragments. */
static tc_status tiled_body(unit_job *j, memo_unit *m, tc_areas *a)
{
    GEOSContextHandle_t h = j->ctx->geos;
    const tc__unit *u = j->u;
    memset(a, 0, sizeof *a);
    a->admin_m2 = u->admin_m2;
    a->land_m2 = u->land_m2;
    a->classified = true;
    if (GEOSisEmpty_r(h, u->land))
        return TC_OK;
    if (GEOSPreparedIntersects_r(h, j->psnap, u->land) != 1) {
        a->gap_m2 = u->land_m2; /* untouched: all of it uncontrolled */
        a->n_gap = 1;
        m->lost_m2 = m->valid ? m->a.controlled_m2 : 0; /* whatever was held is lost */
        if (m->tiles) { /* their cells now lag behind: start afresh next time */
            tc__tiles_free(j->ctx, m->tiles);
            m->tiles = NULL;
        }
        memo_strip_clear(j->ctx, m);
        return TC_OK;
    }
    tc_status st = TC_OK;
    const tc__cellset *dirty = j->memo->dirty;
    bool fresh = !m->tiles; /* untouched before (or the first date): held nothing */
    if (fresh) {
        st = tc__regionset_tiles(j->ctx, j->rs, j->index, &m->tiles); /* (cached on disk) */
        dirty = NULL;
    }
    report_job *rj = j->rj;
    if (st == TC_OK)
        st = snap_coords(j);
    if (st == TC_OK && !rj->psnap_bnd) {
        rj->snap_bnd = GEOSBoundary_r(h, j->snap);
        rj->psnap_bnd = rj->snap_bnd ? GEOSPrepare_r(h, rj->snap_bnd) : NULL;
        if (!rj->psnap_bnd)
            st = tc__fail(j->ctx, TC_ERR_GEOMETRY, "snapshot boundary: %s", j->ctx->geos_msg);
    }
    tc__tiles_snap sn = {j->snap,         j->psnap,       rj->psnap_bnd, rj->snap_xy.x,
                         rj->snap_xy.y,  rj->snap_xy.n,  j->u->et};
    if (st == TC_OK)
        st = tc__tiles_update(j->ctx, m->tiles, &sn, dirty);
    if (st != TC_OK) {
        tc__tiles_free(j->ctx, m->tiles);
        m->tiles = NULL;
        memo_strip_clear(j->ctx, m);
        return st;
    }
    if (m->strip_valid && dirty && !tc__tiles_strip_dirty(m->tiles, dirty)) {
        j->strip_unc = m->strip_unc; /* no cell of the strip changed: the same land */
        j->pieces = m->pieces;
        j->n_pieces = m->n_pieces;
        j->strip_done = j->strip_borrowed = true;
    } else {
        memo_strip_clear(j->ctx, m);
    }
    size_t np = tc__tiles_piece_count(m->tiles);
    double raw = 0;
    if (j->full && !j->clip_done) { /* the strip is overlaid with the nearby snapshot only */
        j->csnap = clip_snapshot(j);
        j->clip_done = true;
    }
    for (size_t i = 0; i < np && st == TC_OK; i++) {
        const tc__piece *p = tc__tiles_piece(m->tiles, i);
        if (j->full)
            st = classify_tiled(j, m->tiles, p, a);
        else
            raw += p->m2;
    }
    if (st != TC_OK) {
        memo_strip_clear(j->ctx, m);
        return st;
    }
    if (j->strip_done && !j->strip_borrowed) { /* keep it for the next dates */
        m->strip_unc = j->strip_unc;
        m->pieces = j->pieces;
        m->n_pieces = j->n_pieces;
        m->strip_valid = true;
        j->strip_borrowed = true;
    }
    if (!j->full) {
        a->gap_m2 = raw;
        a->n_gap = np;
        a->classified = false;
    } else {
        raw = a->gap_m2 + a->sliver_m2 + a->enclosed_m2;
    }
    a->controlled_m2 = fmax(0.0, a->land_m2 - raw);
    a->closure_rel = fabs(a->land_m2 - (a->controlled_m2 + raw)) / a->land_m2;
    if (fresh)
        m->gained_m2 = a->controlled_m2;
    else
        tc__tiles_change(m->tiles, &m->gained_m2, &m->lost_m2);
    return TC_OK;
}

/* A unit's figures depend on nothing but its land and strip (named by the set's cache
 * key), the options that steer them and the snapshot inside the rectangle compute_body()
 * clips it to. The SHA-256 of all that names the unit's stored result (beside the region
 * cache), which a later report meeting the same snapshot there (another date where it did
 * not move) reuses. false: no cache, or the snapshot could not be encoded. */
static bool result_key(unit_job *j, char hex[65])
{
    const char *rk = tc__regionset_cache_key(j->rs);
    if (!rk)
        return false;
    if (!j->clip_done) {
        j->csnap = clip_snapshot(j);
        j->clip_done = true;
    }
    tc__wbuf b = {NULL, 0, 0, false};
    /* (the set's key names the library's version; this names the computation's, for
     * changes within one: bump it whenever a unit's figures could change) */
    tc__put_str(&b, "tclaims unit result 1");
    tc__put(&b, rk, 64);
    tc__put_u64(&b, j->index);
    tc__put_str(&b, j->u->code);
    tc__put_u32(&b, (j->full ? 1u : 0u) | (j->o->front_line ? 2u : 0u));
    tc__put_u32(&b, (uint32_t)j->o->method);
    tc__put_f64(&b, j->o->sliver_width_m);
    tc__put_f64(&b, j->o->connect_tol_m);
    tc__put_u32(&b, j->csnap ? 1u : 0u);
    bool ok = tc__geom_encode(j->ctx->geos, &b, j->csnap ? j->csnap : j->snap) && !b.nomem;
    if (ok)
        tc__sha256_hex(b.p, b.n, hex);
    free(b.p);
    return ok;
}

static tc_status compute_unit(unit_job *j, tc_areas *a)
{
    memo_unit *m = j->memo ? &j->memo->u[j->index] : NULL;
    if (!m && !j->ea_max_rel && j->o->method != TC_METHOD_PLAIN &&
        tc__regionset_cache_key(j->rs)) {
        GEOSContextHandle_t h = j->ctx->geos;
        j->touched = GEOSisEmpty_r(h, j->u->land) == 1 ||
                             GEOSPreparedIntersects_r(h, j->psnap, j->u->land) != 1
                         ? -1
                         : 1;
        char hex[65];
        bool keyed = j->touched > 0 && result_key(j, hex);
        if (keyed && tc__regionset_result_get(j->rs, hex, a))
            return TC_OK;
        tc_status st = compute_body(j, a);
        if (st == TC_OK && keyed)
            tc__regionset_result_put(j->rs, hex, a);
        return st;
    }
    if (!m || j->ea_max_rel || j->o->method == TC_METHOD_PLAIN)
        return compute_body(j, a);
    m->gained_m2 = m->lost_m2 = 0;
    if (m->valid && m->tiles && j->memo->dirty && !tc__tiles_any_dirty(m->tiles, j->memo->dirty)) {
        *a = m->a; /* no cell of its land or strip changed: the same result */
        return TC_OK;
    }
    tc_status st = tiled_body(j, m, a);
    m->valid = st == TC_OK;
    if (m->valid)
        m->a = *a;
    return st;
}

static void unit_job_free(unit_job *j)
{
    GEOSContextHandle_t h = j->ctx->geos;
    if (j->pland)
        GEOSPreparedGeom_destroy_r(h, j->pland);
    if (!j->front_borrowed)
        tc__front_index_free(j->ctx, j->front);
    if (j->csnap)
        GEOSGeom_destroy_r(h, j->csnap);
    if (j->strip_unc && !j->strip_borrowed)
        GEOSGeom_destroy_r(h, j->strip_unc);
    if (!j->strip_borrowed)
        free(j->pieces);
    free(j->free_parts);
    if (j->laea)
        proj_destroy(j->laea);
}

static void add_areas(tc_areas *sum, const tc_areas *a)
{
    sum->classified = sum->classified && a->classified;
    sum->admin_m2 += a->admin_m2;
    sum->land_m2 += a->land_m2;
    sum->controlled_m2 += a->controlled_m2;
    sum->gap_m2 += a->gap_m2;
    sum->sliver_m2 += a->sliver_m2;
    sum->enclosed_m2 += a->enclosed_m2;
    sum->n_gap += a->n_gap;
    sum->n_sliver += a->n_sliver;
    sum->n_enclosed += a->n_enclosed;
    sum->front_m += a->front_m;
}

static void finish_sum(tc_areas *s)
{
    double parts = s->controlled_m2 + s->gap_m2 + s->sliver_m2 + s->enclosed_m2;
    s->closure_rel = s->land_m2 > 0 ? fabs(s->land_m2 - parts) / s->land_m2 : 0.0;
}

void tc_report_free(tc_report *r)
{
    if (!r)
        return;
    free(r->row_unit);
    free(r->unit);
    free(r->wanted);
    free(r->prep);
    free(r);
}

static tc_status pick_rows(tc_ctx *ctx, const tc_regionset *rs, const tc_report_opts *o,
                           tc_report *r);

tc_status tc__report_rows(tc_ctx *ctx, const tc_regionset *rs, const tc_report_opts *o,
                          size_t **rows, size_t *n)
{
    tc_report r;
    memset(&r, 0, sizeof r);
    tc_status st = pick_rows(ctx, rs, o, &r);
    if (st != TC_OK) {
        free(r.row_unit);
        return st;
    }
    *rows = r.row_unit;
    *n = r.n_rows;
    return TC_OK;
}

static tc_status pick_rows(tc_ctx *ctx, const tc_regionset *rs, const tc_report_opts *o,
                           tc_report *r)
{
    size_t n = o->units == TC_UNITS_CLAIM ? tc_catalog_count()
               : o->units == TC_UNITS_ALL ? rs->n
                                          : o->n_units;
    r->row_unit = calloc(n ? n : 1, sizeof *r->row_unit);
    if (!r->row_unit)
        return tc__fail(ctx, TC_ERR_NOMEM, "report: out of memory");
    for (size_t i = 0; i < n; i++) {
        if (o->units == TC_UNITS_ALL) {
            r->row_unit[i] = i;
        } else if (o->units == TC_UNITS_LIST) {
            if (o->unit_index[i] >= rs->n)
                return tc__fail(ctx, TC_ERR_INVALID_ARG, "report: unit index %zu out of range "
                                                         "(%zu units)",
                                o->unit_index[i], rs->n);
            r->row_unit[i] = o->unit_index[i];
        } else {
            const char *code = tc_catalog_get(i)->code;
            size_t k;
            for (k = 0; k < rs->n; k++)
                if (strcmp(rs->units[k].code, code) == 0)
                    break;
            if (k == rs->n)
                return tc__fail(ctx, TC_ERR_NOT_FOUND, "report: claimed unit %s (%s) is not in "
                                                       "the boundary layer",
                                code, tc_catalog_get(i)->name_en);
            r->row_unit[i] = k;
        }
    }
    r->n_rows = n;
    return TC_OK;
}

/* A unit the snapshot does not touch (tc__regionset_prepare() left its land NULL): all of
 * its land is uncontrolled land of the country, as in compute_body(). */
static void untouched_unit(const tc__unit *u, tc_areas *a)
{
    memset(a, 0, sizeof *a);
    a->admin_m2 = u->admin_m2;
    a->land_m2 = u->land_m2;
    a->classified = true;
    a->gap_m2 = u->land_m2;
    a->n_gap = 1;
}

/* The units in the order threads take them (queue_init()). */
typedef struct unit_queue {
    size_t *order;
    size_t n;
    atomic_size_t next;
} unit_queue;

typedef struct unit_cost {
    size_t index;
    int cost;
} unit_cost;

static int cmp_cost(const void *a, const void *b)
{
    const unit_cost *x = a, *y = b;
    if (x->cost != y->cost)
        return x->cost > y->cost ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

static bool is_classified(const tc_report *r, const tc_report_opts *o, const tc_regionset *rs,
                          size_t i);

/* The order: the largest expected work first (the longest job first balances the threads
 * best), untouched units last. A unit's work grows with its land's vertices, about three
 * times faster for a unit whose pieces are classified than for one that only needs its
 * controlled land (measured on August 2025: 1.4-1.8 against 0.6-0.8 us a vertex). */
static tc_status queue_init(tc_ctx *ctx, const tc_report *r, const tc_report_opts *o,
                            const tc_regionset *rs, unit_queue *q)
{
    const size_t n = rs->n;
    unit_cost *c = calloc(n ? n : 1, sizeof *c);
    q->order = calloc(n ? n : 1, sizeof *q->order);
    if (!c || !q->order) {
        free(c);
        free(q->order);
        q->order = NULL;
        return tc__fail(ctx, TC_ERR_NOMEM, "report: out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        c[i].index = i;
        c[i].cost = r->prep[i].land ? GEOSGetNumCoordinates_r(ctx->geos, r->prep[i].land) *
                                          (is_classified(r, o, rs, i) ? 3 : 1)
                                    : -1;
    }
    qsort(c, n, sizeof *c, cmp_cost);
    for (size_t i = 0; i < n; i++)
        q->order[i] = c[i].index;
    free(c);
    q->n = n;
    atomic_init(&q->next, 0);
    return TC_OK;
}

/* Whether unit i's uncontrolled land is classified (a reported row, a claimed unit; every
 * unit for the front line and with the plain method, the reference, which classifies all
 * it overlays); the others only need their controlled land. */
static bool is_classified(const tc_report *r, const tc_report_opts *o, const tc_regionset *rs,
                          size_t i)
{
    return r->wanted[i] || o->front_line || o->method == TC_METHOD_PLAIN ||
           tc_catalog_is_claimed(rs->units[i].code);
}

/* Units k, k + step, k + 2 step... of the set (or, with q, the next ones of the queue until
 * it is empty), on ctx (one thread). */
static tc_status run_units(tc_ctx *ctx, const tc_regionset *rs, const tc_snapshot *snap,
                           const tc_report_opts *o, tc__memo *memo, tc_report *r, size_t k,
                           size_t step, unit_queue *q, double *ea_max_rel)
{
    const GEOSPreparedGeometry *psnap = GEOSPrepare_r(ctx->geos, snap->geom);
    if (!psnap)
        return tc__fail(ctx, TC_ERR_GEOMETRY, "report: cannot prepare the snapshot: %s",
                        ctx->geos_msg);
    report_job rj = {0};
    tc_status st = TC_OK;
    for (size_t at = k; st == TC_OK; at += step) {
        size_t i = at;
        if (q && (i = atomic_fetch_add(&q->next, 1)) < q->n)
            i = q->order[i];
        else if (q)
            break;
        if (i >= rs->n)
            break;
        if (!r->prep[i].land) {
            untouched_unit(&r->prep[i], &r->unit[i]);
            continue;
        }
        unit_job j = {.ctx = ctx, .u = &r->prep[i], .snap = snap->geom, .psnap = psnap,
                      .o = o, .rj = &rj,
                      .ea_max_rel = o->equal_area_check ? ea_max_rel : NULL,
                      .full = is_classified(r, o, rs, i),
                      .memo = memo && memo->n == rs->n ? memo : NULL,
                      .index = i,
                      .rs = rs};
        st = compute_unit(&j, &r->unit[i]);
        unit_job_free(&j);
    }
    xy_free(&rj.snap_xy);
    if (rj.psnap_bnd)
        GEOSPreparedGeom_destroy_r(ctx->geos, rj.psnap_bnd);
    if (rj.snap_bnd)
        GEOSGeom_destroy_r(ctx->geos, rj.snap_bnd);
    GEOSPreparedGeom_destroy_r(ctx->geos, psnap);
    return st;
}

typedef struct unit_worker {
    const tc_regionset *rs;
    const tc_snapshot *snap;
    const tc_report_opts *o;
    tc_report *r;
    unit_queue *q;
    double ea_max_rel;
    tc_status st;
    tc_ctx *ctx; /* the worker's own context, freed by the caller after copying out */
} unit_worker;

static void *unit_work(void *arg)
{
    unit_worker *w = arg;
    w->st = tc_ctx_new(&w->ctx);
    if (w->st == TC_OK)
        w->st = run_units(w->ctx, w->rs, w->snap, w->o, NULL, w->r, 0, 1, w->q, &w->ea_max_rel);
    return NULL;
}

/* The units spread over jobs threads, each with a context of its own; the region set and
 * the snapshot are only read (their envelopes computed beforehand). */
static tc_status run_parallel(tc_ctx *ctx, const tc_regionset *rs, const tc_snapshot *snap,
                              const tc_report_opts *o, tc_report *r, size_t jobs)
{
    tc__geom_warm(ctx, snap->geom);
    unit_worker *w = calloc(jobs, sizeof *w);
    pthread_t *tid = calloc(jobs, sizeof *tid);
    bool *started = calloc(jobs, sizeof *started);
    if (!w || !tid || !started) {
        free(w);
        free(tid);
        free(started);
        return tc__fail(ctx, TC_ERR_NOMEM, "report: out of memory");
    }
    unit_queue q;
    if (queue_init(ctx, r, o, rs, &q) != TC_OK) {
        free(w);
        free(tid);
        free(started);
        return TC_ERR_NOMEM;
    }
    for (size_t k = 0; k < jobs; k++) {
        w[k] = (unit_worker){rs, snap, o, r, &q, 0.0, TC_OK, NULL};
        started[k] = k > 0 && pthread_create(&tid[k], NULL, unit_work, &w[k]) == 0;
    }
    for (size_t k = 0; k < jobs; k++)
        if (!started[k]) /* the first share here, and any thread that did not start */
            unit_work(&w[k]);
    tc_status st = TC_OK;
    for (size_t k = 0; k < jobs; k++) {
        if (started[k])
            pthread_join(tid[k], NULL);
        if (w[k].st != TC_OK && st == TC_OK)
            st = tc__fail(ctx, w[k].st, "%s",
                          w[k].ctx ? tc_ctx_errmsg(w[k].ctx) : "report: no worker context");
        for (size_t i = 0; w[k].ctx && i < tc_ctx_warning_count(w[k].ctx); i++)
            tc__warn(ctx, "%s", tc_ctx_get_warning(w[k].ctx, i));
        if (w[k].ea_max_rel > r->ea_max_rel)
            r->ea_max_rel = w[k].ea_max_rel;
        tc_ctx_free(w[k].ctx);
    }
    free(q.order);
    free(w);
    free(tid);
    free(started);
    return st;
}

tc_status tc_report_new(tc_ctx *ctx, const tc_regionset *rs, const tc_snapshot *snap,
                        const tc_report_opts *opts, tc_report **out)
{
    return tc__report_compute(ctx, rs, snap, opts, NULL, out);
}

tc_status tc__report_compute(tc_ctx *ctx, const tc_regionset *rs, const tc_snapshot *snap,
                             const tc_report_opts *opts, tc__memo *memo, tc_report **out)
{
    if (!ctx)
        return TC_ERR_INVALID_ARG;
    tc__clear(ctx);
    if (!rs || !snap || !out)
        return tc__fail(ctx, TC_ERR_INVALID_ARG, "report: NULL %s",
                        !rs ? "region set" : !snap ? "snapshot" : "out");
    tc_report_opts defaults = TC_REPORT_OPTS_INIT;
    const tc_report_opts *o = opts ? opts : &defaults;
    if (o->version != TC_REPORT_OPTS_VERSION)
        return tc__fail(ctx, TC_ERR_INVALID_ARG, "report: options not initialised with "
                                                 "TC_REPORT_OPTS_INIT");
    if (!(o->sliver_width_m > 0 && o->sliver_width_m <= 2 * TC__STRIP_M / 3) ||
        !(o->connect_tol_m >= 0 && o->connect_tol_m <= 10000))
        return tc__fail(ctx, TC_ERR_INVALID_ARG, "report: sliver width %g m must be in (0, %g], "
                                                 "contact tolerance %g m in [0, 10000]",
                        o->sliver_width_m, 2 * TC__STRIP_M / 3, o->connect_tol_m);
    if (o->units > TC_UNITS_LIST || (o->units == TC_UNITS_LIST && (!o->unit_index || !o->n_units)))
        return tc__fail(ctx, TC_ERR_INVALID_ARG, "report: bad unit selection");
    tc_report *r = calloc(1, sizeof *r);
    if (!r)
        return tc__fail(ctx, TC_ERR_NOMEM, "report: out of memory");
    r->n_units = rs->n;
    r->unit = calloc(rs->n ? rs->n : 1, sizeof *r->unit);
    r->wanted = calloc(rs->n ? rs->n : 1, sizeof *r->wanted);
    tc_status st = r->unit && r->wanted ? pick_rows(ctx, rs, o, r)
                                        : tc__fail(ctx, TC_ERR_NOMEM, "report: out of memory");
    for (size_t i = 0; i < r->n_rows && st == TC_OK; i++)
        r->wanted[r->row_unit[i]] = true;
    bool *classified = st == TC_OK ? calloc(rs->n ? rs->n : 1, sizeof *classified) : NULL;
    if (st == TC_OK && !classified)
        st = tc__fail(ctx, TC_ERR_NOMEM, "report: out of memory");
    for (size_t i = 0; i < rs->n && st == TC_OK; i++)
        classified[i] = is_classified(r, o, rs, i);
    if (st == TC_OK) /* parse or build what this snapshot needs of the set */
        st = tc__regionset_prepare(ctx, rs, snap, o, classified, &r->prep);
    free(classified);
    r->ea_checked = o->equal_area_check;
    r->claim.classified = r->country.classified = true;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    size_t jobs = o->jobs ? o->jobs : (size_t)(cpus > 0 ? cpus : 1);
    if (memo || jobs > rs->n)
        jobs = memo ? 1 : rs->n; /* a series parallelises over dates instead */
    if (memo)
        memo->epoch++;
    if (st == TC_OK)
        st = jobs > 1 ? run_parallel(ctx, rs, snap, o, r, jobs)
                      : run_units(ctx, rs, snap, o, memo, r, 0, 1, NULL, &r->ea_max_rel);
    /* sums in unit order, whatever the threads */
    for (size_t i = 0; i < rs->n && st == TC_OK; i++) {
        add_areas(&r->country, &r->unit[i]);
        if (tc_catalog_is_claimed(rs->units[i].code))
            add_areas(&r->claim, &r->unit[i]);
        else
            r->outside_m2 += r->unit[i].controlled_m2;
    }
    if (st != TC_OK) {
        tc_report_free(r);
        return st;
    }
    finish_sum(&r->claim);
    finish_sum(&r->country);
    *out = r;
    return TC_OK;
}

size_t tc_report_count(const tc_report *r) { return r ? r->n_rows : 0; }

size_t tc_report_get_unit(const tc_report *r, size_t i)
{
    return (r && i < r->n_rows) ? r->row_unit[i] : (size_t)-1;
}

tc_status tc_report_get_areas(const tc_report *r, size_t i, tc_areas *out)
{
    if (!r || !out || i >= r->n_rows)
        return TC_ERR_INVALID_ARG;
    *out = r->unit[r->row_unit[i]];
    return TC_OK;
}

tc_status tc_report_get_claim_total(const tc_report *r, tc_areas *out)
{
    if (!r || !out)
        return TC_ERR_INVALID_ARG;
    *out = r->claim;
    return TC_OK;
}

tc_status tc_report_get_country_total(const tc_report *r, tc_areas *out)
{
    if (!r || !out)
        return TC_ERR_INVALID_ARG;
    *out = r->country;
    return TC_OK;
}

tc_status tc_report_get_outside_m2(const tc_report *r, double *controlled_m2)
{
    if (!r || !controlled_m2)
        return TC_ERR_INVALID_ARG;
    *controlled_m2 = r->outside_m2;
    return TC_OK;
}

tc_status tc_report_get_equal_area_max_rel(const tc_report *r, double *max_rel)
{
    if (!r || !max_rel)
        return TC_ERR_INVALID_ARG;
    if (!r->ea_checked)
        return TC_ERR_NOT_FOUND;
    *max_rel = r->ea_max_rel;
    return TC_OK;
}
