/* The front line of a gap piece without a line overlay: each edge of the piece is sorted
 * by where its end points came from.
 *
 * An overlay of land with a snapshot keeps every input vertex exactly and adds nodes where
 * edges cross. So an edge of an uncontrolled piece between two land vertices that are
 * consecutive on the land boundary lies on that boundary; an edge that starts or ends at a
 * snapshot vertex (and at no land vertex) lies on the snapshot's boundary, that is on the
 * front. The few edges the end points cannot decide (between two new nodes, or joining a
 * land vertex to something else) are decided by their midpoint: on the land boundary
 * (within TC__FRONT_EPS_DEG) or not.
 *
 * The reference (TC_METHOD_PLAIN) asks the midpoint question of every edge. A GEOS line
 * overlay, boundary(piece) − boundary(land), is not used: where the front crosses the
 * land boundary the overlay's node lies about 1e-15 degrees off the land edge, so the
 * difference keeps the stretch from that node to the next land vertex (up to one densified
 * edge, about 200 m, per crossing; 0.1 to 0.5 km per unit on real dates). */
#include "tc_internal.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A midpoint this close to the land boundary (degrees, about 0.1 mm) is on it. */
#define TC__FRONT_EPS_DEG 1e-9

struct tc__front_index {
    tc__keyset land_pts, land_edges, snap_pts;
    const GEOSGeometry *land;            /* borrowed */
    const GEOSPreparedGeometry *psnap;   /* borrowed: the snapshot, prepared */
    const GEOSPreparedGeometry *pland;   /* lazy: land prepared (runs along cell edges) */
};

/* Called for every ring with its coordinates (in ctx->scratch). */
typedef tc_status (*ring_xy_fn)(tc_ctx *ctx, void *user, const double *x, const double *y,
                                size_t n);

typedef struct xy_call {
    ring_xy_fn fn;
    void *user;
} xy_call;

static tc_status ring_xy(tc_ctx *ctx, void *user, const GEOSGeometry *ring)
{
    const xy_call *c = user;
    double *x = NULL, *y = NULL;
    size_t n = 0;
    tc_status st = tc__ring_xy(ctx, ring, &x, &y, &n);
    return st == TC_OK ? c->fn(ctx, c->user, x, y, n) : st;
}

static tc_status each_ring_xy(tc_ctx *ctx, const GEOSGeometry *g, ring_xy_fn fn, void *user)
{
    xy_call c = {fn, user};
    return tc__each_ring(ctx, g, ring_xy, &c);
}

/* Vertices of a ring into pts and, when edges is not NULL, its edges into edges. */
typedef struct ring_sets {
    tc__keyset *pts, *edges;
} ring_sets;

static tc_status add_ring(tc_ctx *ctx, void *user, const double *x, const double *y, size_t n)
{
    const ring_sets *rs = user;
    uint64_t w[4];
    for (size_t i = 0; i < n; i++) {
        tc__point_key(x[i], y[i], w);
        if (!tc__keyset_add(rs->pts, w))
            return tc__fail(ctx, TC_ERR_NOMEM, "front line: out of memory");
        if (i == 0 || !rs->edges)
            continue;
        tc__edge_key(x[i - 1], y[i - 1], x[i], y[i], w);
        if (!tc__keyset_add(rs->edges, w))
            return tc__fail(ctx, TC_ERR_NOMEM, "front line: out of memory");
    }
    return TC_OK;
}

void tc__front_index_free(tc_ctx *ctx, tc__front_index *fi)
{
    if (!fi)
        return;
    tc__keyset_free(&fi->land_pts);
    tc__keyset_free(&fi->land_edges);
    tc__keyset_free(&fi->snap_pts);
    if (fi->pland)
        GEOSPreparedGeom_destroy_r(ctx->geos, fi->pland);
    free(fi);
}

tc_status tc__front_index_new(tc_ctx *ctx, const GEOSGeometry *land, const GEOSGeometry *snap,
                              const GEOSPreparedGeometry *psnap, tc__front_index **out)
{
    *out = NULL;
    tc__front_index *fi = calloc(1, sizeof *fi);
    int nl = GEOSGetNumCoordinates_r(ctx->geos, land);
    if (!fi || !tc__keyset_init(&fi->land_pts, 2, nl > 0 ? (size_t)nl : 0, false) ||
        !tc__keyset_init(&fi->land_edges, 4, nl > 0 ? (size_t)nl : 0, false)) {
        tc__front_index_free(ctx, fi);
        return tc__fail(ctx, TC_ERR_NOMEM, "front line: out of memory");
    }
    fi->land = land;
    ring_sets ls = {&fi->land_pts, &fi->land_edges};
    tc_status st = each_ring_xy(ctx, land, add_ring, &ls);
    if (st == TC_OK)
        st = tc__front_index_set_snap(ctx, fi, snap, psnap);
    if (st != TC_OK) {
        tc__front_index_free(ctx, fi);
        return st;
    }
    *out = fi;
    return TC_OK;
}

tc_status tc__front_index_set_snap(tc_ctx *ctx, tc__front_index *fi, const GEOSGeometry *snap,
                                   const GEOSPreparedGeometry *psnap)
{
    int ns = GEOSGetNumCoordinates_r(ctx->geos, snap);
    tc__keyset_free(&fi->snap_pts);
    fi->psnap = psnap;
    if (!tc__keyset_init(&fi->snap_pts, 2, ns > 0 ? (size_t)ns : 0, false))
        return tc__fail(ctx, TC_ERR_NOMEM, "front line: out of memory");
    ring_sets ss = {&fi->snap_pts, NULL};
    return each_ring_xy(ctx, snap, add_ring, &ss);
}

/* Is (x, y) within TC__FRONT_EPS_DEG (in x and in y) of the boundary of the prepared
 * polygonal land pl? The small square around the point meets the land but does not lie
 * properly inside it. (GEOS 3.11 measures distance to a prepared line without an index;
 * these two prepared polygon predicates are indexed.) -1 on failure. */
static int near_boundary(tc_ctx *ctx, const GEOSPreparedGeometry *pl, double x, double y)
{
    GEOSContextHandle_t h = ctx->geos;
    const double e = TC__FRONT_EPS_DEG;
    const double b[4] = {x - e, y - e, x + e, y + e};
    GEOSGeometry *sq = tc__rect_polygon(ctx, b, 0);
    if (!sq)
        return -1;
    int hit = GEOSPreparedIntersects_r(h, pl, sq);
    int in = hit == 1 ? GEOSPreparedContainsProperly_r(h, pl, sq) : 0;
    GEOSGeom_destroy_r(h, sq);
    return hit == 2 || in == 2 ? -1 : hit == 1 && in == 0;
}

static const GEOSPreparedGeometry *land_prepared(tc_ctx *ctx, tc__front_index *fi)
{
    if (!fi->pland)
        fi->pland = GEOSPrepare_r(ctx->geos, fi->land);
    return fi->pland;
}

/* Is the midpoint of a→b on the land boundary? -1 on failure. */
static int mid_on_land(tc_ctx *ctx, tc__front_index *fi, double ax, double ay, double bx,
                       double by)
{
    const GEOSPreparedGeometry *pl = land_prepared(ctx, fi);
    return pl ? near_boundary(ctx, pl, (ax + bx) / 2, (ay + by) / 2) : -1;
}

typedef struct front_sum {
    tc__front_index *fi;
    const double *cut; /* the fragment's cell (tiles), or NULL */
    double m;
    /* a run of edges along one edge of the cell */
    int run_side;      /* -1: none; 0 west, 1 east, 2 south, 3 north */
    double run_x0, run_y0, run_x1, run_y1, run_m;
} front_sum;

/* Which edge of cell b both ends lie on (-1: none). */
static int cell_side(const double *b, double ax, double ay, double bx, double by)
{
    const double e = 1e-11;
    if (!b)
        return -1;
    for (int k = 0; k < 4; k++) {
        double c = b[k == 0 ? 0 : k == 1 ? 2 : k == 2 ? 1 : 3];
        double u = k < 2 ? ax : ay, v = k < 2 ? bx : by;
        if (fabs(u - c) <= e && fabs(v - c) <= e)
            return k;
    }
    return -1;
}

/* A run of a fragment's edges along its cell's edge is a cut between tiles when the land
 * just across is uncontrolled too, the land's boundary when there is no land across, and
 * front when the land across is controlled (a front that runs along a grid line). Runs
 * end at land and snapshot vertices, where what lies across can change. */
static tc_status flush_run(tc_ctx *ctx, front_sum *fs)
{
    if (fs->run_side < 0)
        return TC_OK;
    tc__front_index *fi = fs->fi;
    GEOSContextHandle_t h = ctx->geos;
    const double d = 1e-9; /* degrees across the line, into the next cell */
    double qx = (fs->run_x0 + fs->run_x1) / 2, qy = (fs->run_y0 + fs->run_y1) / 2;
    qx += fs->run_side == 0 ? -d : fs->run_side == 1 ? d : 0;
    qy += fs->run_side == 2 ? -d : fs->run_side == 3 ? d : 0;
    fs->run_side = -1;
    if (!land_prepared(ctx, fi))
        return tc__fail(ctx, TC_ERR_GEOMETRY, "front line: %s", ctx->geos_msg);
    GEOSGeometry *q = GEOSGeom_createPointFromXY_r(h, qx, qy);
    int in_land = q ? GEOSPreparedContains_r(h, fi->pland, q) : 2;
    int in_snap = in_land == 1 ? GEOSPreparedContains_r(h, fi->psnap, q) : 0;
    if (q)
        GEOSGeom_destroy_r(h, q);
    if (in_land == 2 || in_snap == 2)
        return tc__fail(ctx, TC_ERR_GEOMETRY, "front line: %s", ctx->geos_msg);
    if (in_land == 1 && in_snap == 1)
        fs->m += fs->run_m;
    return TC_OK;
}

static tc_status add_piece_ring(tc_ctx *ctx, void *user, const double *x, const double *y,
                                size_t n)
{
    front_sum *fs = user;
    tc__front_index *fi = fs->fi;
    uint64_t w[4];
    bool prev_land = false, prev_snap = false;
    tc_status st = TC_OK;
    fs->run_side = -1;
    for (size_t i = 0; i < n && st == TC_OK; i++) {
        tc__point_key(x[i], y[i], w);
        bool land = tc__keyset_has(&fi->land_pts, w), snap = tc__keyset_has(&fi->snap_pts, w);
        int side = i > 0 ? cell_side(fs->cut, x[i - 1], y[i - 1], x[i], y[i]) : -1;
        if (side >= 0) { /* along the cell's edge: grows the run (or starts one) */
            double s12 = 0;
            geod_inverse(&ctx->geod, y[i - 1], x[i - 1], y[i], x[i], &s12, NULL, NULL);
            if (fs->run_side != side || prev_land || prev_snap) {
                st = flush_run(ctx, fs);
                fs->run_side = side;
                fs->run_x0 = x[i - 1], fs->run_y0 = y[i - 1];
                fs->run_m = 0;
            }
            fs->run_x1 = x[i], fs->run_y1 = y[i];
            fs->run_m += s12;
        } else {
            st = flush_run(ctx, fs);
        }
        if (st == TC_OK && side < 0 && i > 0 && !(x[i] == x[i - 1] && y[i] == y[i - 1])) {
            int front; /* 1: on the front, 0: on the land boundary */
            if (prev_land && land) {
                tc__edge_key(x[i - 1], y[i - 1], x[i], y[i], w);
                front = tc__keyset_has(&fi->land_edges, w) ? 0 : -1;
            } else if (!prev_land && !land && (prev_snap || snap)) {
                front = 1;
            } else {
                front = -1; /* a new node at one end or both, or land meeting snapshot */
            }
            if (front < 0) {
                int on = mid_on_land(ctx, fi, x[i - 1], y[i - 1], x[i], y[i]);
                if (on < 0)
                    return tc__fail(ctx, TC_ERR_GEOMETRY, "front line: %s", ctx->geos_msg);
                front = !on;
            }
            if (front) {
                double s12 = 0;
                geod_inverse(&ctx->geod, y[i - 1], x[i - 1], y[i], x[i], &s12, NULL, NULL);
                fs->m += s12;
            }
        }
        prev_land = land;
        prev_snap = snap;
    }
    return st == TC_OK ? flush_run(ctx, fs) : st;
}

typedef struct ref_sum {
    const GEOSPreparedGeometry *pland;
    double m;
} ref_sum;

static tc_status add_ref_ring(tc_ctx *ctx, void *user, const double *x, const double *y,
                              size_t n)
{
    ref_sum *rs = user;
    for (size_t i = 1; i < n; i++) {
        int on = near_boundary(ctx, rs->pland, (x[i - 1] + x[i]) / 2, (y[i - 1] + y[i]) / 2);
        if (on < 0)
            return tc__fail(ctx, TC_ERR_GEOMETRY, "front line: %s", ctx->geos_msg);
        if (!on) {
            double s12 = 0;
            geod_inverse(&ctx->geod, y[i - 1], x[i - 1], y[i], x[i], &s12, NULL, NULL);
            rs->m += s12;
        }
    }
    return TC_OK;
}

tc_status tc__front_length_ref_m(tc_ctx *ctx, const GEOSPreparedGeometry *land,
                                 const GEOSGeometry *piece, double *front_m)
{
    ref_sum rs = {land, 0.0};
    tc_status st = each_ring_xy(ctx, piece, add_ref_ring, &rs);
    if (st == TC_OK)
        *front_m += rs.m;
    return st;
}

tc_status tc__front_length_m(tc_ctx *ctx, tc__front_index *fi, const GEOSGeometry *piece,
                             const double *cut_box, double *front_m)
{
    front_sum fs = {fi, cut_box, 0.0, -1, 0, 0, 0, 0, 0};
    tc_status st = each_ring_xy(ctx, piece, add_piece_ring, &fs);
    if (st == TC_OK)
        *front_m += fs.m;
    return st;
}
