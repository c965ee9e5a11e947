/* A unit's land cut into the cells of a fixed grid, for series: each cell's uncontrolled
 * fragments are recomputed only when the snapshot changed in that cell, and the pieces
 * of uncontrolled land are rebuilt from the fragments by their shared cell edges.
 *
 * Cells are TC__TILE_DEG wide, anchored at multiples of it (the grid of the series'
 * change finder, so that its changed cells are these cells). A tile is the land inside a
 * cell, cut by the cell's polygon densified like every input: the cut edges are shared
 * by the tiles on both sides, so their geodesic area terms cancel and fragments add up
 * to the uncut pieces (to about 1e-12). Per snapshot a cell is empty (no snapshot: its
 * tile is uncontrolled as it stands), full (inside the snapshot) or mixed (tile − the
 * snapshot clipped to the cell, one small overlay). Two fragments in side-by-side cells
 * belong to the same piece when their boundaries share a stretch of the cell edge. */
#include "tc_internal.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A point this close to a cell edge (degrees) lies on it; stretches of a shared edge
 * that overlap by more than this connect. */
#define ON_EDGE_DEG 1e-11
/* The snapshot is clipped to the cell itself (no margin): what a cell's tiles see of
 * the snapshot is then what the change finder compares, so a cell it finds unchanged
 * would give the same fragments again, to the last bit. */
#define CLIP_MARGIN_DEG 0.0

/* ---------------------------------------------------------------- cell sets */

int64_t tc__cell_key(long ci, long cj)
{
    return (int64_t)((uint64_t)(int64_t)ci << 32) ^ (int64_t)(uint32_t)cj;
}

void tc__cell_of(const double box[4], long *ci, long *cj)
{
    *ci = lround(box[0] / TC__TILE_DEG);
    *cj = lround(box[1] / TC__TILE_DEG);
}

bool tc__cellset_add(tc__cellset *s, long ci, long cj)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        int64_t *k = realloc(s->key, cap * sizeof *k);
        if (!k)
            return false;
        s->key = k;
        s->cap = cap;
    }
    s->key[s->n++] = tc__cell_key(ci, cj);
    s->sorted = false;
    return true;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

bool tc__cellset_grow(tc__cellset *s)
{
    size_t n = s->n;
    for (size_t i = 0; i < n; i++) {
        long ci = (long)(s->key[i] >> 32), cj = (long)(int32_t)(uint32_t)s->key[i];
        for (long di = -1; di <= 1; di++)
            for (long dj = -1; dj <= 1; dj++)
                if ((di || dj) && !tc__cellset_add(s, ci + di, cj + dj))
                    return false;
    }
    tc__cellset_sort(s);
    size_t k = 0; /* drop repeats */
    for (size_t i = 0; i < s->n; i++)
        if (!k || s->key[i] != s->key[k - 1])
            s->key[k++] = s->key[i];
    s->n = k;
    return true;
}

void tc__cellset_sort(tc__cellset *s)
{
    if (s->n)
        qsort(s->key, s->n, sizeof *s->key, cmp_i64);
    s->sorted = true;
}

bool tc__cellset_has(const tc__cellset *s, long ci, long cj)
{
    int64_t k = tc__cell_key(ci, cj);
    return s->n && bsearch(&k, s->key, s->n, sizeof k, cmp_i64) != NULL;
}

void tc__cellset_free(tc__cellset *s)
{
    free(s->key);
    memset(s, 0, sizeof *s);
}

/* ---------------------------------------------------------------- tiles */

/* A stretch of a fragment's boundary on one edge of its cell. */
typedef struct stretch {
    double lo, hi;
} stretch;

/* One polygon of uncontrolled land inside a cell. */
typedef struct frag {
    const GEOSGeometry *g; /* borrowed from its tile (land or frag) */
    double m2;             /* geodesic area */
    double front_m;        /* its front line, once measured (front_done) */
    bool front_done;
    stretch *st[4];        /* on the west, east, south, north edge of the cell */
    size_t nst[4];
} frag;

typedef struct tile {
    long ci, cj;
    double box[4];
    GEOSGeometry *rect;  /* the cell, 5 points (predicates) */
    GEOSGeometry *land;  /* the land in the cell (MultiPolygon) */
    bool whole;          /* the land covers the whole cell */
    frag *lf;            /* land's polygons as fragments (an empty cell's) */
    size_t nlf;
    double land_m2;      /* their areas summed */
    /* per snapshot */
    bool have;           /* state below is for a snapshot already */
    int state;           /* 0 empty, 1 full, 2 mixed */
    GEOSGeometry *clip;  /* mixed: the snapshot clipped to the cell (NULL: not clipped) */
    GEOSGeometry *cut;   /* mixed: land − snapshot */
    frag *cf;            /* its polygons */
    size_t ncf;
} tile;

struct tc__tiles {
    tile *t;
    size_t n;
    tc__cellset reach;   /* cells the land or the strip reach (sorted) */
    tc__cellset reach_strip; /* cells the strip reaches (sorted) */
    tc__strip_cell *sc;  /* the strip cut by the cells of reach_strip, in key order */
    size_t nsc;
    /* the pieces of the last update */
    tc__frag_ref *refs;  /* every fragment, tile by tile */
    size_t nrefs;
    tc__piece *pieces;
    size_t npieces;
    size_t *members;     /* fragment indices, piece by piece */
    /* what the last update changed: land that became controlled, and uncontrolled */
    double gained_m2, lost_m2;
};

static void frags_free(frag *f, size_t n)
{
    for (size_t i = 0; f && i < n; i++)
        for (int e = 0; e < 4; e++)
            free(f[i].st[e]);
    free(f);
}

static void tile_clear_state(tc_ctx *ctx, tile *t)
{
    if (t->cut)
        GEOSGeom_destroy_r(ctx->geos, t->cut);
    if (t->clip)
        GEOSGeom_destroy_r(ctx->geos, t->clip);
    t->cut = t->clip = NULL;
    frags_free(t->cf, t->ncf);
    t->cf = NULL;
    t->ncf = 0;
    t->have = false;
}

void tc__tiles_free(tc_ctx *ctx, tc__tiles *ts)
{
    if (!ts)
        return;
    for (size_t i = 0; i < ts->n; i++) {
        tile *t = &ts->t[i];
        tile_clear_state(ctx, t);
        frags_free(t->lf, t->nlf);
        if (t->rect)
            GEOSGeom_destroy_r(ctx->geos, t->rect);
        if (t->land)
            GEOSGeom_destroy_r(ctx->geos, t->land);
    }
    free(ts->t);
    tc__cellset_free(&ts->reach);
    tc__cellset_free(&ts->reach_strip);
    for (size_t i = 0; i < ts->nsc; i++) {
        if (ts->sc[i].rect)
            GEOSGeom_destroy_r(ctx->geos, ts->sc[i].rect);
        if (ts->sc[i].part)
            GEOSGeom_destroy_r(ctx->geos, ts->sc[i].part);
    }
    free(ts->sc);
    free(ts->refs);
    free(ts->pieces);
    free(ts->members);
    free(ts);
}

/* The stretches of polygon g's boundary on the edges of box. */
typedef struct stretch_acc {
    const double *box;
    frag *f;
    bool oom;
} stretch_acc;

static void add_stretch(stretch_acc *a, int e, double lo, double hi)
{
    frag *f = a->f;
    if (f->nst[e]) { /* consecutive edges along the cell edge make one stretch */
        stretch *last = &f->st[e][f->nst[e] - 1];
        if (lo <= last->hi && hi >= last->lo) {
            last->lo = fmin(last->lo, lo);
            last->hi = fmax(last->hi, hi);
            return;
        }
    }
    stretch *s = realloc(f->st[e], (f->nst[e] + 1) * sizeof *s);
    if (!s) {
        a->oom = true;
        return;
    }
    s[f->nst[e]].lo = lo;
    s[f->nst[e]].hi = hi;
    f->st[e] = s;
    f->nst[e]++;
}

static tc_status stretch_ring(tc_ctx *ctx, void *user, const GEOSGeometry *ring)
{
    stretch_acc *a = user;
    double *x = NULL, *y = NULL;
    size_t n = 0;
    tc_status st = tc__ring_xy(ctx, ring, &x, &y, &n);
    const double *b = a->box;
    for (size_t i = 1; st == TC_OK && i < n && !a->oom; i++) {
        for (int e = 0; e < 2; e++) { /* west, east: x = b[0], b[2] */
            double c = b[e == 0 ? 0 : 2];
            if (fabs(x[i - 1] - c) <= ON_EDGE_DEG && fabs(x[i] - c) <= ON_EDGE_DEG)
                add_stretch(a, e, fmin(y[i - 1], y[i]), fmax(y[i - 1], y[i]));
        }
        for (int e = 2; e < 4; e++) { /* south, north: y = b[1], b[3] */
            double c = b[e == 2 ? 1 : 3];
            if (fabs(y[i - 1] - c) <= ON_EDGE_DEG && fabs(y[i] - c) <= ON_EDGE_DEG)
                add_stretch(a, e, fmin(x[i - 1], x[i]), fmax(x[i - 1], x[i]));
        }
    }
    if (st == TC_OK && a->oom)
        st = tc__fail(ctx, TC_ERR_NOMEM, "tiles: out of memory");
    return st;
}

/* Fragments of every polygon of g (areas measured, or taken from m2 when it holds one per
 * polygon; stretches found). */
/* The polygons of g as fragments: their areas m2 (n_m2 of them) as given, else measured
 * (the terms of et's edges looked up: tc__geom_area_et_m2()). */
static tc_status make_frags_m2(tc_ctx *ctx, const GEOSGeometry *g, const double box[4],
                               const double *m2, size_t n_m2, const tc__edge_terms *et,
                               frag **out, size_t *nout)
{
    GEOSContextHandle_t h = ctx->geos;
    int n = GEOSGetNumGeometries_r(h, g);
    *out = NULL;
    *nout = 0;
    if (n <= 0 || GEOSisEmpty_r(h, g) == 1)
        return TC_OK;
    frag *f = calloc((size_t)n, sizeof *f);
    if (!f)
        return tc__fail(ctx, TC_ERR_NOMEM, "tiles: out of memory");
    size_t k = 0;
    tc_status st = TC_OK;
    for (int i = 0; i < n && st == TC_OK; i++) {
        const GEOSGeometry *p = GEOSGetGeometryN_r(h, g, i);
        if (GEOSGeomTypeId_r(h, p) != GEOS_POLYGON || GEOSisEmpty_r(h, p) == 1)
            continue;
        f[k].g = p;
        if (!m2)
            st = et ? tc__geom_area_et_m2(ctx, p, et, &f[k].m2)
                    : tc__geom_area_m2(ctx, p, &f[k].m2, NULL);
        else if (k < n_m2)
            f[k].m2 = m2[k];
        else
            st = tc__fail(ctx, TC_ERR_FORMAT, "tiles: more polygons than areas");
        stretch_acc a = {box, &f[k], false};
        if (st == TC_OK)
            st = tc__each_ring(ctx, p, stretch_ring, &a);
        k++;
    }
    if (st == TC_OK && m2 && k != n_m2)
        st = tc__fail(ctx, TC_ERR_FORMAT, "tiles: %zu polygons, %zu areas", k, n_m2);
    if (st != TC_OK) {
        frags_free(f, k);
        return st;
    }
    *out = f;
    *nout = k;
    return TC_OK;
}

static tc_status make_frags(tc_ctx *ctx, const GEOSGeometry *g, const double box[4],
                            const tc__edge_terms *et, frag **out, size_t *nout)
{
    return make_frags_m2(ctx, g, box, NULL, 0, et, out, nout);
}

static bool add_reach(tc_ctx *ctx, tc__cellset *s, const GEOSGeometry *g)
{
    GEOSContextHandle_t h = ctx->geos;
    double x0, y0, x1, y1;
    if (!g || GEOSisEmpty_r(h, g) == 1 || !GEOSGeom_getExtent_r(h, g, &x0, &y0, &x1, &y1))
        return true;
    const GEOSPreparedGeometry *pg = GEOSPrepare_r(h, g);
    if (!pg)
        return false;
    bool ok = true;
    for (long i = (long)floor(x0 / TC__TILE_DEG); ok && i * TC__TILE_DEG <= x1; i++)
        for (long k = (long)floor(y0 / TC__TILE_DEG); ok && k * TC__TILE_DEG <= y1; k++) {
            double b[4] = {i * TC__TILE_DEG, k * TC__TILE_DEG, (i + 1) * TC__TILE_DEG,
                           (k + 1) * TC__TILE_DEG};
            GEOSGeometry *r = tc__rect_polygon(ctx, b, 0);
            if (!r)
                ok = false;
            else if (GEOSPreparedIntersects_r(h, pg, r) == 1)
                ok = tc__cellset_add(s, i, k);
            if (r)
                GEOSGeom_destroy_r(h, r);
        }
    GEOSPreparedGeom_destroy_r(h, pg);
    return ok;
}

/* Cut edges: a power-of-two fraction of a cell (within TC__MAX_EDGE_DEG), so that the
 * densified edges of a block and of its cells put their vertices on the same exact
 * binary lattice, and the tiles on both sides of a cut share them. */
#define CUT_DEG (TC__TILE_DEG / 64)
/* Land is cut into blocks of BLOCK_CELLS x BLOCK_CELLS cells first, and each block's land
 * into cells: every cut then reads a small geometry. */
#define BLOCK_CELLS 8

/* The tiles of the cells of one block (cells i0.. x k0.., at most BLOCK_CELLS each way). */
static tc_status cut_block(tc_ctx *ctx, tc__tiles *ts, const GEOSGeometry *land,
                           const GEOSPreparedGeometry *pl, const GEOSPreparedGeometry *pbnd,
                           long i0, long i1, long k0, long k1)
{
    GEOSContextHandle_t h = ctx->geos;
    double bb[4] = {i0 * TC__TILE_DEG, k0 * TC__TILE_DEG, (i1 + 1) * TC__TILE_DEG,
                    (k1 + 1) * TC__TILE_DEG};
    GEOSGeometry *brect = tc__rect_polygon(ctx, bb, 0);
    if (!brect)
        return tc__fail(ctx, TC_ERR_GEOMETRY, "tiles: %s", ctx->geos_msg);
    int hit = GEOSPreparedIntersects_r(h, pl, brect);
    GEOSGeom_destroy_r(h, brect);
    if (hit != 1)
        return hit == 0 ? TC_OK : tc__fail(ctx, TC_ERR_GEOMETRY, "tiles: %s", ctx->geos_msg);
    GEOSGeometry *bcell = tc__rect_polygon(ctx, bb, CUT_DEG);
    GEOSGeometry *local = bcell ? GEOSIntersection_r(h, land, bcell) : NULL;
    if (bcell)
        GEOSGeom_destroy_r(h, bcell);
    if (!local)
        return tc__fail(ctx, TC_ERR_GEOMETRY, "tiles: cutting land at %.3f %.3f: %s", bb[0],
                        bb[1], ctx->geos_msg);
    tc_status st = TC_OK;
    for (long i = i0; i <= i1 && st == TC_OK; i++)
        for (long k = k0; k <= k1 && st == TC_OK; k++) {
            tile *t = &ts->t[ts->n];
            memset(t, 0, sizeof *t);
            t->ci = i;
            t->cj = k;
            t->box[0] = i * TC__TILE_DEG, t->box[1] = k * TC__TILE_DEG;
            t->box[2] = (i + 1) * TC__TILE_DEG, t->box[3] = (k + 1) * TC__TILE_DEG;
            if (!(t->rect = tc__rect_polygon(ctx, t->box, 0))) {
                st = tc__fail(ctx, TC_ERR_GEOMETRY, "tiles: %s", ctx->geos_msg);
                break;
            }
            int in = GEOSPreparedIntersects_r(h, pl, t->rect);
            /* touching land, and no land boundary in the closed cell: all land */
            int cross = in == 1 ? GEOSPreparedIntersects_r(h, pbnd, t->rect) : 0;
            if (in != 1 || cross == 2) {
                GEOSGeom_destroy_r(h, t->rect);
                t->rect = NULL;
                if (in == 2 || cross == 2)
                    st = tc__fail(ctx, TC_ERR_GEOMETRY, "tiles: %s", ctx->geos_msg);
                continue;
            }
            t->whole = cross == 0;
            GEOSGeometry *cell = tc__rect_polygon(ctx, t->box, CUT_DEG);
            if (cell && t->whole)
                t->land = tc__as_multi_take(ctx, GEOSGeom_clone_r(h, cell));
            else if (cell)
                t->land = tc__as_multi_take(ctx, GEOSIntersection_r(h, local, cell));
            if (cell)
                GEOSGeom_destroy_r(h, cell);
            ts->n++; /* freed with the set from here on */
            if (!t->land) {
                st = tc__fail(ctx, TC_ERR_GEOMETRY, "tiles: cutting land at cell %.3f %.3f: %s",
                              t->box[0], t->box[1], ctx->geos_msg);
                break;
            }
            if (GEOSisEmpty_r(h, t->land) == 1) { /* touches the cell only along its edge */
                tile_clear_state(ctx, t);
                GEOSGeom_destroy_r(h, t->land);
                GEOSGeom_destroy_r(h, t->rect);
                ts->n--;
                continue;
            }
            st = make_frags(ctx, t->land, t->box, NULL, &t->lf, &t->nlf);
            for (size_t q = 0; st == TC_OK && q < t->nlf; q++)
                t->land_m2 += t->lf[q].m2;
        }
    GEOSGeom_destroy_r(h, local);
    return st;
}

static tc_status cut_strip(tc_ctx *ctx, tc__tiles *ts, const GEOSGeometry *strip);

tc_status tc__tiles_new(tc_ctx *ctx, const GEOSGeometry *land, const GEOSGeometry *strip,
                        tc__tiles **out)
{
    GEOSContextHandle_t h = ctx->geos;
    *out = NULL;
    tc__tiles *ts = calloc(1, sizeof *ts);
    if (!ts)
        return tc__fail(ctx, TC_ERR_NOMEM, "tiles: out of memory");
    double x0, y0, x1, y1;
    tc_status st = TC_OK;
    if (GEOSisEmpty_r(h, land) == 1 || !GEOSGeom_getExtent_r(h, land, &x0, &y0, &x1, &y1)) {
        *out = ts;
        return TC_OK;
    }
    long i0 = (long)floor(x0 / TC__TILE_DEG), i1 = (long)floor(x1 / TC__TILE_DEG);
    long k0 = (long)floor(y0 / TC__TILE_DEG), k1 = (long)floor(y1 / TC__TILE_DEG);
    size_t cap = (size_t)(i1 - i0 + 1) * (size_t)(k1 - k0 + 1);
    const GEOSPreparedGeometry *pl = GEOSPrepare_r(h, land);
    GEOSGeometry *bnd = GEOSBoundary_r(h, land);
    const GEOSPreparedGeometry *pbnd = bnd ? GEOSPrepare_r(h, bnd) : NULL;
    ts->t = calloc(cap, sizeof *ts->t);
    if (!pl || !pbnd || !ts->t)
        st = tc__fail(ctx, TC_ERR_GEOMETRY, "tiles: %s", ctx->geos_msg);
    for (long i = i0; i <= i1 && st == TC_OK; i += BLOCK_CELLS)
        for (long k = k0; k <= k1 && st == TC_OK; k += BLOCK_CELLS)
            st = cut_block(ctx, ts, land, pl, pbnd, i, i + BLOCK_CELLS - 1 < i1 ? i + BLOCK_CELLS - 1 : i1,
                           k, k + BLOCK_CELLS - 1 < k1 ? k + BLOCK_CELLS - 1 : k1);
    if (pbnd)
        GEOSPreparedGeom_destroy_r(h, pbnd);
    if (bnd)
        GEOSGeom_destroy_r(h, bnd);
    if (pl)
        GEOSPreparedGeom_destroy_r(h, pl);
    if (st == TC_OK && (!add_reach(ctx, &ts->reach_strip, strip) ||
                        !add_reach(ctx, &ts->reach, land)))
        st = tc__fail(ctx, TC_ERR_GEOMETRY, "tiles: %s", ctx->geos_msg);
    for (size_t i = 0; st == TC_OK && i < ts->reach_strip.n; i++) {
        const int64_t k = ts->reach_strip.key[i];
        if (!tc__cellset_add(&ts->reach, (long)(k >> 32), (long)(int32_t)(uint32_t)k))
            st = tc__fail(ctx, TC_ERR_NOMEM, "tiles: out of memory");
    }
    if (st != TC_OK) {
        tc__tiles_free(ctx, ts);
        return st;
    }
    tc__cellset_sort(&ts->reach);
    tc__cellset_sort(&ts->reach_strip);
    if ((st = cut_strip(ctx, ts, strip)) != TC_OK) {
        tc__tiles_free(ctx, ts);
        return st;
    }
    *out = ts;
    return TC_OK;
}

/* The strip inside each cell of reach_strip (a block at a time, as the land). */
static tc_status cut_strip(tc_ctx *ctx, tc__tiles *ts, const GEOSGeometry *strip)
{
    GEOSContextHandle_t h = ctx->geos;
    if (!ts->reach_strip.n)
        return TC_OK;
    if (!(ts->sc = calloc(ts->reach_strip.n, sizeof *ts->sc)))
        return tc__fail(ctx, TC_ERR_NOMEM, "tiles: out of memory");
    tc_status st = TC_OK;
    GEOSGeometry *local = NULL;
    long bi = 0, bj = 0;
    for (size_t i = 0; i < ts->reach_strip.n && st == TC_OK; i++) {
        const int64_t k = ts->reach_strip.key[i];
        long ci = (long)(k >> 32), cj = (long)(int32_t)(uint32_t)k;
        long ni = (long)floor((double)ci / BLOCK_CELLS), nj = (long)floor((double)cj / BLOCK_CELLS);
        if (!local || ni != bi || nj != bj) { /* the strip in this cell's block */
            if (local)
                GEOSGeom_destroy_r(h, local);
            bi = ni, bj = nj;
            double bb[4] = {bi * BLOCK_CELLS * TC__TILE_DEG, bj * BLOCK_CELLS * TC__TILE_DEG,
                            (bi + 1) * BLOCK_CELLS * TC__TILE_DEG,
                            (bj + 1) * BLOCK_CELLS * TC__TILE_DEG};
            GEOSGeometry *r = tc__rect_polygon(ctx, bb, 0);
            local = r ? GEOSIntersection_r(h, strip, r) : NULL;
            if (r)
                GEOSGeom_destroy_r(h, r);
            if (!local) {
                st = tc__fail(ctx, TC_ERR_GEOMETRY, "tiles: strip: %s", ctx->geos_msg);
                break;
            }
        }
        tc__strip_cell *c = &ts->sc[ts->nsc];
        c->ci = ci, c->cj = cj, c->thick = -1;
        c->box[0] = ci * TC__TILE_DEG, c->box[1] = cj * TC__TILE_DEG;
        c->box[2] = (ci + 1) * TC__TILE_DEG, c->box[3] = (cj + 1) * TC__TILE_DEG;
        c->rect = tc__rect_polygon(ctx, c->box, 0);
        c->part = c->rect ? tc__as_multi_take(ctx, GEOSIntersection_r(h, local, c->rect)) : NULL;
        if (!c->part) {
            if (c->rect)
                GEOSGeom_destroy_r(h, c->rect);
            st = tc__fail(ctx, TC_ERR_GEOMETRY, "tiles: strip: %s", ctx->geos_msg);
        } else if (GEOSisEmpty_r(h, c->part) == 1) { /* touches the cell's edge only */
            GEOSGeom_destroy_r(h, c->part);
            GEOSGeom_destroy_r(h, c->rect);
        } else {
            ts->nsc++;
        }
    }
    if (local)
        GEOSGeom_destroy_r(h, local);
    return st;
}

size_t tc__tiles_strip_near(const tc__tiles *ts, const double box[4], double tol, size_t *idx,
                            size_t max)
{
    long i0 = (long)floor((box[0] - tol) / TC__TILE_DEG), i1 = (long)floor((box[2] + tol) / TC__TILE_DEG);
    long k0 = (long)floor((box[1] - tol) / TC__TILE_DEG), k1 = (long)floor((box[3] + tol) / TC__TILE_DEG);
    size_t n = 0;
    for (size_t i = 0; i < ts->nsc && n < max; i++) /* few cells near a fragment: a scan */
        if (ts->sc[i].ci >= i0 && ts->sc[i].ci <= i1 && ts->sc[i].cj >= k0 && ts->sc[i].cj <= k1)
            idx[n++] = i;
    return n;
}

tc__strip_cell *tc__tiles_strip_cell(tc__tiles *ts, size_t i) { return &ts->sc[i]; }

/* Do two sorted sets meet? */
static bool meet(const tc__cellset *a, const tc__cellset *b)
{
    size_t i = 0, k = 0;
    while (i < a->n && k < b->n) {
        if (a->key[i] == b->key[k])
            return true;
        if (a->key[i] < b->key[k])
            i++;
        else
            k++;
    }
    return false;
}

bool tc__tiles_any_dirty(const tc__tiles *ts, const tc__cellset *dirty)
{
    return !dirty || meet(&ts->reach, dirty);
}

bool tc__tiles_strip_dirty(const tc__tiles *ts, const tc__cellset *dirty)
{
    return !dirty || meet(&ts->reach_strip, dirty);
}

/* ---------------------------------------------------------------- on disk */

/* What does not depend on a snapshot, as written by tc__tiles_encode() after key (64
 * bytes); every field 8 bytes, so geometry entries stay aligned:
 *   n tiles, each: ci, cj, whole, number of land polygons, their areas, and (not whole)
 *   the land's entry length then the entry; the land and strip reach: count, keys; the
 *   strip cells: count, each ci, cj, the part's entry length, the entry.
 * A whole cell's land is its densified rectangle, made again when read. */
static void put_cells(tc__wbuf *b, const tc__cellset *c)
{
    tc__put_u64(b, c->n);
    tc__put(b, c->key, c->n * sizeof *c->key);
}

static void put_entry(GEOSContextHandle_t h, tc__wbuf *b, const GEOSGeometry *g)
{
    size_t at = b->n;
    tc__put_u64(b, 0); /* the length, filled in below */
    size_t start = b->n;
    if (!tc__geom_encode(h, b, g))
        b->nomem = true;
    if (!b->nomem) {
        uint64_t len = b->n - start;
        memcpy(b->p + at, &len, sizeof len);
    }
}

bool tc__tiles_encode(tc_ctx *ctx, const tc__tiles *ts, const char key[64], tc__wbuf *b)
{
    GEOSContextHandle_t h = ctx->geos;
    tc__put(b, key, 64);
    tc__put_u64(b, ts->n);
    for (size_t i = 0; i < ts->n && !b->nomem; i++) {
        const tile *t = &ts->t[i];
        tc__put_u64(b, (uint64_t)(int64_t)t->ci);
        tc__put_u64(b, (uint64_t)(int64_t)t->cj);
        tc__put_u64(b, t->whole);
        tc__put_u64(b, t->nlf);
        for (size_t k = 0; k < t->nlf; k++)
            tc__put_f64(b, t->lf[k].m2);
        if (!t->whole)
            put_entry(h, b, t->land);
    }
    put_cells(b, &ts->reach);
    put_cells(b, &ts->reach_strip);
    tc__put_u64(b, ts->nsc);
    for (size_t i = 0; i < ts->nsc && !b->nomem; i++) {
        tc__put_u64(b, (uint64_t)(int64_t)ts->sc[i].ci);
        tc__put_u64(b, (uint64_t)(int64_t)ts->sc[i].cj);
        put_entry(h, b, ts->sc[i].part);
    }
    return !b->nomem;
}

static bool get_cells(tc__rbuf *r, tc__cellset *c)
{
    uint64_t n = tc__get_u64(r);
    const void *keys = r->bad || n > (r->n - r->pos) / 8 ? NULL : tc__take(r, n * 8);
    if (!keys || !(c->key = malloc(n ? n * 8 : 8)))
        return false;
    memcpy(c->key, keys, n * 8);
    c->n = c->cap = n;
    c->sorted = true;
    for (size_t i = 1; i < n; i++) /* written sorted */
        if (c->key[i - 1] > c->key[i])
            return false;
    return true;
}

/* A geometry entry: a MultiPolygon that is not empty (NULL when damaged). */
static GEOSGeometry *get_entry(GEOSContextHandle_t h, tc__rbuf *r)
{
    uint64_t len = tc__get_u64(r);
    const unsigned char *p = r->bad || len > r->n - r->pos ? NULL : tc__take(r, len);
    GEOSGeometry *g = p ? tc__geom_decode(h, p, len) : NULL;
    if (g && (GEOSGeomTypeId_r(h, g) != GEOS_MULTIPOLYGON || GEOSisEmpty_r(h, g) == 1)) {
        GEOSGeom_destroy_r(h, g);
        g = NULL;
    }
    return g;
}

/* Cell indices the grid can hold (a bound on what a damaged file may claim). */
static bool cell_ok(int64_t c) { return c > -(1 << 20) && c < (1 << 20); }

/* Does g lie inside its cell (a hair's margin for the cut's rounding)? False for any
 * coordinate outside, NaN included: what a cell holds never reaches beyond it. */
static bool inside_cell(GEOSContextHandle_t h, const GEOSGeometry *g, const double box[4])
{
    const double eps = 1e-9;
    double x0, y0, x1, y1;
    return g && GEOSGeom_getExtent_r(h, g, &x0, &y0, &x1, &y1) && x0 >= box[0] - eps &&
           y0 >= box[1] - eps && x1 <= box[2] + eps && y1 <= box[3] + eps;
}

tc_status tc__tiles_decode(tc_ctx *ctx, const unsigned char *p, size_t len, const char key[64],
                           tc__tiles **out)
{
    GEOSContextHandle_t h = ctx->geos;
    *out = NULL;
    tc__rbuf r = {p, len, 0, false};
    const void *k = tc__take(&r, 64);
    if (!k || memcmp(k, key, 64) != 0)
        return tc__fail(ctx, TC_ERR_FORMAT, "tiles: another key");
    tc__tiles *ts = calloc(1, sizeof *ts);
    uint64_t n = tc__get_u64(&r);
    bool ok = ts && !r.bad && n <= (r.n - r.pos) / 32 &&
              (ts->t = calloc(n ? n : 1, sizeof *ts->t)) != NULL;
    for (uint64_t i = 0; ok && i < n; i++) {
        tile *t = &ts->t[ts->n];
        memset(t, 0, sizeof *t);
        int64_t ci = (int64_t)tc__get_u64(&r), cj = (int64_t)tc__get_u64(&r);
        uint64_t whole = tc__get_u64(&r), nlf = tc__get_u64(&r);
        const double *m2 = r.bad || nlf == 0 || nlf > (r.n - r.pos) / 8
                               ? NULL
                               : tc__take(&r, nlf * 8);
        ok = m2 && cell_ok(ci) && cell_ok(cj) && whole <= 1;
        if (!ok)
            break;
        t->ci = (long)ci, t->cj = (long)cj, t->whole = whole == 1;
        t->box[0] = t->ci * TC__TILE_DEG, t->box[1] = t->cj * TC__TILE_DEG;
        t->box[2] = (t->ci + 1) * TC__TILE_DEG, t->box[3] = (t->cj + 1) * TC__TILE_DEG;
        t->rect = tc__rect_polygon(ctx, t->box, 0);
        t->land = t->whole ? tc__as_multi_take(ctx, tc__rect_polygon(ctx, t->box, CUT_DEG))
                           : get_entry(h, &r);
        ts->n++; /* freed with the set from here on */
        ok = t->rect && inside_cell(h, t->land, t->box);
        double *areas = ok ? malloc(nlf * sizeof *areas) : NULL;
        if (areas) /* (copied: the file's doubles need not be aligned for reading) */
            memcpy(areas, m2, nlf * sizeof *areas);
        ok = areas &&
             make_frags_m2(ctx, t->land, t->box, areas, nlf, NULL, &t->lf, &t->nlf) == TC_OK;
        free(areas);
        for (size_t q = 0; ok && q < t->nlf; q++)
            t->land_m2 += t->lf[q].m2;
    }
    ok = ok && get_cells(&r, &ts->reach) && get_cells(&r, &ts->reach_strip);
    uint64_t nsc = ok ? tc__get_u64(&r) : 0;
    ok = ok && !r.bad && nsc == ts->reach_strip.n &&
         (ts->sc = calloc(nsc ? nsc : 1, sizeof *ts->sc)) != NULL;
    for (uint64_t i = 0; ok && i < nsc; i++) {
        tc__strip_cell *c = &ts->sc[ts->nsc];
        int64_t ci = (int64_t)tc__get_u64(&r), cj = (int64_t)tc__get_u64(&r);
        if (!(ok = !r.bad && cell_ok(ci) && cell_ok(cj)))
            break;
        c->ci = (long)ci, c->cj = (long)cj, c->thick = -1;
        c->box[0] = c->ci * TC__TILE_DEG, c->box[1] = c->cj * TC__TILE_DEG;
        c->box[2] = (c->ci + 1) * TC__TILE_DEG, c->box[3] = (c->cj + 1) * TC__TILE_DEG;
        c->rect = tc__rect_polygon(ctx, c->box, 0);
        c->part = c->rect ? get_entry(h, &r) : NULL;
        if (c->rect || c->part)
            ts->nsc++; /* freed with the set (a NULL member is skipped) */
        ok = c->rect && inside_cell(h, c->part, c->box);
    }
    if (!ok || r.pos != r.n) {
        tc__tiles_free(ctx, ts);
        return tc__fail(ctx, TC_ERR_FORMAT, "tiles: damaged entry");
    }
    tc__clear(ctx); /* (GEOS messages of a sound read) */
    *out = ts;
    return TC_OK;
}

/* ---------------------------------------------------------------- per snapshot */

/* The snapshot clipped to the cell (grown by CLIP_MARGIN_DEG), or NULL to use it whole. */
static GEOSGeometry *clip_cell(tc_ctx *ctx, const tc__tiles_snap *sn, const double box[4])
{
    double b[4] = {box[0] - CLIP_MARGIN_DEG, box[1] - CLIP_MARGIN_DEG, box[2] + CLIP_MARGIN_DEG,
                   box[3] + CLIP_MARGIN_DEG};
    return tc__clip_guarded(ctx, sn->geom, sn->x, sn->y, sn->n, b);
}

/* Uncontrolled area of a tile in a state (cut: the mixed state's fragments). */
static double unc_m2(const tile *t, int state, const frag *cf, size_t ncf)
{
    double m = 0;
    if (state == 0)
        return t->land_m2;
    for (size_t i = 0; state == 2 && i < ncf; i++)
        m += cf[i].m2;
    return m;
}

/* Land of tile t that changed hands between its old state and the new one (state, cut,
 * cf), added to the set's gained (became controlled) and lost (became uncontrolled). A
 * change between two mixed states is an overlay of the old and new fragments; any other
 * is a difference of areas (one side is the whole tile or nothing). */
static tc_status tile_change(tc_ctx *ctx, tc__tiles *ts, const tile *t, int state,
                             const GEOSGeometry *cut, const frag *cf, size_t ncf,
                             const tc__edge_terms *et)
{
    GEOSContextHandle_t h = ctx->geos;
    if (t->state != 2 || state != 2) {
        double before = unc_m2(t, t->state, t->cf, t->ncf), now = unc_m2(t, state, cf, ncf);
        if (before > now)
            ts->gained_m2 += before - now;
        else
            ts->lost_m2 += now - before;
        return TC_OK;
    }
    /* The front moves one way in most cells: the side the uncontrolled areas say is the
     * smaller is overlaid first, and when it is empty the other is the difference of the
     * two areas (old and new uncontrolled land nest: the one overlay saved is a third of
     * a changed cell's work). An empty side stays an exact zero. */
    double before = unc_m2(t, 2, t->cf, t->ncf), now = unc_m2(t, 2, cf, ncf);
    const bool lost_first = now < before; /* uncontrolled land shrank: little lost */
    GEOSGeometry *x[2] = {NULL, NULL};    /* gained (old − new uncontrolled), lost */
    double m2[2] = {0, 0};
    int k = lost_first ? 1 : 0;
    x[k] = lost_first ? GEOSDifference_r(h, cut, t->cut) : GEOSDifference_r(h, t->cut, cut);
    int empty = x[k] ? GEOSisEmpty_r(h, x[k]) : 2;
    if (empty == 0)
        x[1 - k] = lost_first ? GEOSDifference_r(h, t->cut, cut) : GEOSDifference_r(h, cut, t->cut);
    tc_status st = empty == 2 || (empty == 0 && !x[1 - k])
                       ? tc__fail(ctx, TC_ERR_GEOMETRY, "tiles: change at cell %.3f %.3f: %s",
                                  t->box[0], t->box[1], ctx->geos_msg)
                       : TC_OK;
    if (st == TC_OK && empty == 1)
        m2[1 - k] = fmax(0, lost_first ? before - now : now - before);
    for (int i = 0; i < 2 && st == TC_OK && empty == 0; i++)
        st = tc__geom_area_et_m2(ctx, x[i], et, &m2[i]);
    ts->gained_m2 += m2[0];
    ts->lost_m2 += m2[1];
    for (int i = 0; i < 2; i++)
        if (x[i])
            GEOSGeom_destroy_r(h, x[i]);
    return st;
}

static tc_status update_tile(tc_ctx *ctx, tc__tiles *ts, tile *t, const tc__tiles_snap *sn)
{
    GEOSContextHandle_t h = ctx->geos;
    int hit = GEOSPreparedIntersects_r(h, sn->prep, t->rect);
    /* touching the snapshot, and none of its boundary in the closed cell: all inside */
    int cross = hit == 1 ? GEOSPreparedIntersects_r(h, sn->pbnd, t->rect) : 0;
    if (hit == 2 || cross == 2)
        return tc__fail(ctx, TC_ERR_GEOMETRY, "tiles: %s", ctx->geos_msg);
    int state = hit != 1 ? 0 : cross == 0 ? 1 : 2;
    GEOSGeometry *c = state == 2 ? clip_cell(ctx, sn, t->box) : NULL;
    if (t->have && state == t->state &&
        (state != 2 || (c && t->clip && GEOSEqualsExact_r(h, c, t->clip, 0.0) == 1))) {
        /* the same snapshot in the cell: the same fragments; only their front line may
         * depend on what changed next door */
        if (c)
            GEOSGeom_destroy_r(h, c);
        for (size_t i = 0; i < t->ncf; i++)
            t->cf[i].front_done = false;
        return TC_OK;
    }
    GEOSGeometry *cut = NULL;
    frag *cf = NULL;
    size_t ncf = 0;
    tc_status st = TC_OK;
    if (state == 2) {
        cut = tc__as_multi_take(ctx, GEOSDifference_r(h, t->land, c ? c : sn->geom));
        st = cut ? make_frags(ctx, cut, t->box, sn->et, &cf, &ncf)
                 : tc__fail(ctx, TC_ERR_GEOMETRY, "tiles: overlay at cell %.3f %.3f: %s",
                            t->box[0], t->box[1], ctx->geos_msg);
    }
    if (st == TC_OK && t->have)
        st = tile_change(ctx, ts, t, state, cut, cf, ncf, sn->et);
    if (st != TC_OK) {
        if (c)
            GEOSGeom_destroy_r(h, c);
        if (cut)
            GEOSGeom_destroy_r(h, cut);
        frags_free(cf, ncf);
        return st;
    }
    tile_clear_state(ctx, t);
    t->state = state;
    t->clip = c;
    t->cut = cut;
    t->cf = cf;
    t->ncf = ncf;
    t->have = true;
    return TC_OK;
}

/* Union-find over fragment indices. */
static size_t uf_find(size_t *p, size_t i)
{
    while (p[i] != i) {
        p[i] = p[p[i]];
        i = p[i];
    }
    return i;
}

static void uf_union(size_t *p, size_t a, size_t b)
{
    a = uf_find(p, a);
    b = uf_find(p, b);
    if (a != b)
        p[a > b ? a : b] = a < b ? a : b; /* the lower index is the root: deterministic */
}

/* A stretch on a shared cell edge, for matching: edge key, side, fragment. */
typedef struct edge_rec {
    int64_t line;   /* orientation, line index */
    int64_t along;  /* cell index along the line */
    int side;       /* 0: the fragment lies west/south of the line, 1: east/north */
    double lo, hi;
    size_t frag;
} edge_rec;

static int cmp_rec(const void *a, const void *b)
{
    const edge_rec *x = a, *y = b;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    if (x->along != y->along)
        return x->along < y->along ? -1 : 1;
    return x->side - y->side;
}

static frag *tile_frags(const tile *t, size_t *n)
{
    *n = t->state == 0 ? t->nlf : t->state == 2 ? t->ncf : 0;
    return t->state == 0 ? t->lf : t->state == 2 ? t->cf : NULL;
}

static tc_status build_pieces(tc_ctx *ctx, tc__tiles *ts)
{
    free(ts->refs);
    free(ts->pieces);
    free(ts->members);
    ts->refs = NULL;
    ts->pieces = NULL;
    ts->members = NULL;
    ts->nrefs = ts->npieces = 0;
    size_t nf = 0, nr = 0;
    for (size_t i = 0; i < ts->n; i++) {
        size_t n;
        const frag *f = tile_frags(&ts->t[i], &n);
        nf += n;
        for (size_t k = 0; k < n; k++)
            for (int e = 0; e < 4; e++)
                nr += f[k].nst[e];
    }
    ts->refs = calloc(nf ? nf : 1, sizeof *ts->refs);
    size_t *parent = calloc(nf ? nf : 1, sizeof *parent);
    edge_rec *rec = calloc(nr ? nr : 1, sizeof *rec);
    ts->members = calloc(nf ? nf : 1, sizeof *ts->members);
    ts->pieces = calloc(nf ? nf : 1, sizeof *ts->pieces);
    size_t *slot = calloc(nf ? nf : 1, sizeof *slot);
    tc_status st = ts->refs && parent && rec && ts->members && ts->pieces && slot
                       ? TC_OK
                       : tc__fail(ctx, TC_ERR_NOMEM, "tiles: out of memory");
    size_t fi = 0, ri = 0;
    for (size_t i = 0; i < ts->n && st == TC_OK; i++) {
        const tile *t = &ts->t[i];
        size_t n;
        frag *f = tile_frags(t, &n);
        for (size_t k = 0; k < n; k++, fi++) {
            ts->refs[fi] = (tc__frag_ref){f[k].g, f[k].m2, t->box, t->state == 0 && t->whole,
                                          t->state == 2, &f[k].front_m, &f[k].front_done};
            parent[fi] = fi;
            for (int e = 0; e < 4; e++)
                for (size_t s = 0; s < f[k].nst[e]; s++) {
                    edge_rec *r = &rec[ri++];
                    bool vertical = e < 2;
                    r->line = (vertical ? 0 : ((int64_t)1 << 40)) +
                              (vertical ? t->ci + (e == 1) : t->cj + (e == 3));
                    r->along = vertical ? t->cj : t->ci;
                    r->side = (e == 0 || e == 2) ? 1 : 0;
                    r->lo = f[k].st[e][s].lo;
                    r->hi = f[k].st[e][s].hi;
                    r->frag = fi;
                }
        }
    }
    if (st == TC_OK) {
        ts->nrefs = nf;
        qsort(rec, nr, sizeof *rec, cmp_rec);
        for (size_t a = 0; a < nr;) {
            size_t b = a;
            while (b < nr && rec[b].line == rec[a].line && rec[b].along == rec[a].along)
                b++;
            for (size_t x = a; x < b; x++)
                for (size_t y = x + 1; y < b; y++)
                    if (rec[x].side != rec[y].side &&
                        fmin(rec[x].hi, rec[y].hi) - fmax(rec[x].lo, rec[y].lo) > ON_EDGE_DEG)
                        uf_union(parent, rec[x].frag, rec[y].frag);
            a = b;
        }
        /* pieces in order of their first fragment; members grouped */
        for (size_t f = 0; f < nf; f++) {
            size_t r = uf_find(parent, f);
            if (r == f)
                slot[f] = ts->npieces++;
            ts->pieces[slot[r]].n_frag++;
        }
        size_t at = 0;
        for (size_t p = 0; p < ts->npieces; p++) {
            ts->pieces[p].first = at;
            at += ts->pieces[p].n_frag;
            ts->pieces[p].n_frag = 0;
        }
        for (size_t f = 0; f < nf; f++) {
            tc__piece *p = &ts->pieces[slot[uf_find(parent, f)]];
            ts->members[p->first + p->n_frag++] = f;
            p->m2 += ts->refs[f].m2;
            p->whole_cell = p->whole_cell || ts->refs[f].whole_cell;
        }
    }
    free(parent);
    free(rec);
    free(slot);
    return st;
}

tc_status tc__tiles_update(tc_ctx *ctx, tc__tiles *ts, const tc__tiles_snap *sn,
                           const tc__cellset *dirty)
{
    tc_status st = TC_OK;
    ts->gained_m2 = ts->lost_m2 = 0;
    for (size_t i = 0; i < ts->n && st == TC_OK; i++) {
        tile *t = &ts->t[i];
        if (t->have && dirty && !tc__cellset_has(dirty, t->ci, t->cj))
            continue; /* the snapshot did not change in this cell */
        st = update_tile(ctx, ts, t, sn);
    }
    if (st == TC_OK)
        st = build_pieces(ctx, ts);
    if (st != TC_OK) /* nothing half-updated survives */
        for (size_t i = 0; i < ts->n; i++)
            tile_clear_state(ctx, &ts->t[i]);
    return st;
}

size_t tc__tiles_piece_count(const tc__tiles *ts) { return ts->npieces; }

const tc__piece *tc__tiles_piece(const tc__tiles *ts, size_t i) { return &ts->pieces[i]; }

const tc__frag_ref *tc__tiles_piece_frag(const tc__tiles *ts, const tc__piece *p, size_t k)
{
    return &ts->refs[ts->members[p->first + k]];
}

void tc__tiles_change(const tc__tiles *ts, double *gained_m2, double *lost_m2)
{
    *gained_m2 = ts->gained_m2;
    *lost_m2 = ts->lost_m2;
}
