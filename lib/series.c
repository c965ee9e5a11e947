/* Time series: one report per selected snapshot of an archive, with changes, on workers. */
#include "tc_internal.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct tc_series {
    size_t n_dates, n_rows;
    size_t *arch;         /* archive index of each date */
    tc_date *dates;
    const char **paths;   /* borrowed from the archive */
    bool *unchanged;
    bool *named;          /* sha[d] is set: equal only for equal snapshots ("unchanged") */
    bool *whole;          /* ... and names all the snapshot's content (not a shapefile's) */
    bool *known;          /* figures and changes read from the stored rows, not computed */
    unsigned char (*sha)[32];
    size_t *row_unit;
    tc_areas *rows;       /* n_dates x n_rows */
    tc_areas *claim, *country;
    double *outside;
    tc_change *chg;       /* n_dates x (n_rows + 2): rows, claim total, outside */
};

/* ---------------------------------------------------------------- accessors */

void tc_series_free(tc_series *s)
{
    if (!s)
        return;
    free(s->arch);
    free(s->dates);
    free(s->paths);
    free(s->unchanged);
    free(s->named);
    free(s->whole);
    free(s->known);
    free(s->sha);
    free(s->row_unit);
    free(s->rows);
    free(s->claim);
    free(s->country);
    free(s->outside);
    free(s->chg);
    free(s);
}

size_t tc_series_count(const tc_series *s) { return s ? s->n_dates : 0; }
size_t tc_series_row_count(const tc_series *s) { return s ? s->n_rows : 0; }

tc_date tc_series_get_date(const tc_series *s, size_t d)
{
    tc_date none = {0, 0, 0};
    return (s && d < s->n_dates) ? s->dates[d] : none;
}

const char *tc_series_get_path(const tc_series *s, size_t d)
{
    return (s && d < s->n_dates) ? s->paths[d] : NULL;
}

bool tc_series_is_unchanged(const tc_series *s, size_t d)
{
    return s && d < s->n_dates && s->unchanged[d];
}

size_t tc_series_get_unit(const tc_series *s, size_t row)
{
    return (s && row < s->n_rows) ? s->row_unit[row] : (size_t)-1;
}

tc_status tc_series_get_areas(const tc_series *s, size_t d, size_t row, tc_areas *out)
{
    if (!s || !out || d >= s->n_dates || row >= s->n_rows)
        return TC_ERR_INVALID_ARG;
    *out = s->rows[d * s->n_rows + row];
    return TC_OK;
}

tc_status tc_series_get_claim_total(const tc_series *s, size_t d, tc_areas *out)
{
    if (!s || !out || d >= s->n_dates)
        return TC_ERR_INVALID_ARG;
    *out = s->claim[d];
    return TC_OK;
}

tc_status tc_series_get_country_total(const tc_series *s, size_t d, tc_areas *out)
{
    if (!s || !out || d >= s->n_dates)
        return TC_ERR_INVALID_ARG;
    *out = s->country[d];
    return TC_OK;
}

tc_status tc_series_get_outside_m2(const tc_series *s, size_t d, double *controlled_m2)
{
    if (!s || !controlled_m2 || d >= s->n_dates)
        return TC_ERR_INVALID_ARG;
    *controlled_m2 = s->outside[d];
    return TC_OK;
}

tc_status tc_series_get_change(const tc_series *s, size_t d, size_t row, tc_change *out)
{
    if (!s || !out || d >= s->n_dates || row >= s->n_rows + 2)
        return TC_ERR_INVALID_ARG;
    *out = s->chg[d * (s->n_rows + 2) + row];
    return TC_OK;
}

/* ---------------------------------------------------------------- selection */

static long days(tc_date d) { return tc_date_diff_days((tc_date){1970, 1, 1}, d); }

static tc_status select_dates(tc_ctx *ctx, const tc_archive *a, const tc_series_opts *o,
                              tc_series *s)
{
    size_t n = tc_archive_count(a);
    s->arch = calloc(n ? n : 1, sizeof *s->arch);
    if (!s->arch)
        return tc__fail(ctx, TC_ERR_NOMEM, "series: out of memory");
    size_t k = 0;
    tc_date last = {0, 0, 0};
    for (size_t i = 0; i < n; i++) {
        tc_date d = tc_archive_get_date(a, i);
        if ((o->from.year && tc_date_cmp(d, o->from) < 0) ||
            (o->to.year && tc_date_cmp(d, o->to) > 0))
            continue;
        if (k && o->monthly && d.year == last.year && d.month == last.month)
            continue;
        if (k && !o->monthly && o->every_days > 1 && days(d) - days(last) < (long)o->every_days)
            continue;
        s->arch[k++] = i;
        last = d;
    }
    if (!k) {
        char f[11] = "start", t[11] = "end";
        if (o->from.year)
            tc_date_format(o->from, f);
        if (o->to.year)
            tc_date_format(o->to, t);
        return tc__fail(ctx, TC_ERR_NOT_FOUND, "series: no snapshot between %s and %s", f, t);
    }
    s->n_dates = k;
    return TC_OK;
}

/* ---------------------------------------------------------------- workers */

typedef struct worker worker;

typedef struct shared {
    tc_series *s;
    const tc_regionset *rs;
    const tc_archive *arch;
    const tc_series_opts *o;
    atomic_size_t done;
    atomic_int finished;
    pthread_mutex_t lock; /* every worker's next, end and later_* */
    worker *workers;
    size_t n_workers;
} shared;

struct worker {
    shared *sh;
    const GEOSPreparedGeometry **pland; /* the units' land, prepared on first need (own ctx) */
    size_t next, end;                   /* the current range's unclaimed dates (lock) */
    size_t later_begin, later_end;      /* its second block, until taken (lock) */
    tc_status st;
    char msg[TC__ERRMSG_LEN];
    bool inline_progress;
};

/* The changed parts of two snapshots, found without overlaying them whole (two nearly
 * identical 30,000-vertex polygons are the worst case of an overlay): the plane is split
 * into quadrants recursively, each quadrant's parts compared exactly, and only leaf cells
 * (at most LEAF_DEG across) whose parts differ are overlaid, cell by cell. */
#define LEAF_DEG TC__TILE_DEG /* the tiles' cells (lib/tiles.c) */

typedef struct diff_parts {
    GEOSGeometry **g; /* polygonal pieces: gained (now − before) and lost (before − now) */
    bool *gained;
    size_t n, cap;
    tc__cellset cells; /* the grid cells where the two snapshots differ */
} diff_parts;

/* Every grid cell inside box (a cell or a quadrant of the grid) is changed. */
static tc_status mark_cells(tc_ctx *ctx, diff_parts *p, const double box[4])
{
    long i0, k0, i1, k1;
    const double end[4] = {box[2], box[3], 0, 0};
    tc__cell_of(box, &i0, &k0);
    tc__cell_of(end, &i1, &k1);
    for (long i = i0; i < i1; i++)
        for (long k = k0; k < k1; k++)
            if (!tc__cellset_add(&p->cells, i, k))
                return tc__fail(ctx, TC_ERR_NOMEM, "series change: out of memory");
    return TC_OK;
}

static tc_status add_part(tc_ctx *ctx, diff_parts *p, GEOSGeometry *g, bool gained)
{
    if (!g)
        return tc__fail(ctx, TC_ERR_GEOMETRY, "series change: %s", ctx->geos_msg);
    if (GEOSisEmpty_r(ctx->geos, g) == 1) {
        GEOSGeom_destroy_r(ctx->geos, g);
        return TC_OK;
    }
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 64;
        GEOSGeometry **ng = realloc(p->g, cap * sizeof *ng);
        if (ng)
            p->g = ng;
        bool *nb = ng ? realloc(p->gained, cap * sizeof *nb) : NULL;
        if (nb)
            p->gained = nb;
        if (!ng || !nb) {
            GEOSGeom_destroy_r(ctx->geos, g);
            return tc__fail(ctx, TC_ERR_NOMEM, "series change: out of memory");
        }
        p->cap = cap;
    }
    p->g[p->n] = g;
    p->gained[p->n++] = gained;
    return TC_OK;
}

/* densified like every input, so that pieces cut by the cell add up on the ellipsoid */
static GEOSGeometry *cell_polygon(tc_ctx *ctx, const double box[4])
{
    return tc__rect_polygon(ctx, box, TC__MAX_EDGE_DEG);
}

/* now and before: the two snapshots, or valid parts of them covering box. */
static tc_status diff_cell(tc_ctx *ctx, const GEOSGeometry *now, const GEOSGeometry *before,
                           const double box[4], diff_parts *out)
{
    GEOSContextHandle_t h = ctx->geos;
    tc_status mst = mark_cells(ctx, out, box);
    if (mst != TC_OK)
        return mst;
    GEOSGeometry *cell = cell_polygon(ctx, box);
    GEOSGeometry *a = cell ? GEOSIntersection_r(h, now, cell) : NULL;
    GEOSGeometry *b = a ? GEOSIntersection_r(h, before, cell) : NULL;
    tc_status st = b ? TC_OK : tc__fail(ctx, TC_ERR_GEOMETRY, "series change: %s", ctx->geos_msg);
    if (st == TC_OK)
        st = add_part(ctx, out, GEOSDifference_r(h, a, b), true);
    if (st == TC_OK)
        st = add_part(ctx, out, GEOSDifference_r(h, b, a), false);
    if (b)
        GEOSGeom_destroy_r(h, b);
    if (a)
        GEOSGeom_destroy_r(h, a);
    if (cell)
        GEOSGeom_destroy_r(h, cell);
    return st;
}

/* Boxes this wide get valid local copies of the two snapshots, so that their changed cells
 * are overlaid with small geometries rather than with the whole snapshots. */
#define LOCAL_DEG 1.0

/* a, b: the two snapshots clipped to box (by GEOSClipByRect: only compared, never measured);
 * now, before: the snapshots, or valid parts of them covering box (overlaid). */
static tc_status diff_rec(tc_ctx *ctx, const GEOSGeometry *now, const GEOSGeometry *before,
                          const GEOSGeometry *a, const GEOSGeometry *b, const double box[4],
                          bool local, bool mark_only, diff_parts *out)
{
    GEOSContextHandle_t h = ctx->geos;
    if (GEOSEqualsExact_r(h, a, b, 0.0) == 1)
        return TC_OK; /* the same coordinates here: nothing changed hands */
    if (box[2] - box[0] <= LEAF_DEG && box[3] - box[1] <= LEAF_DEG)
        return mark_only ? mark_cells(ctx, out, box) : diff_cell(ctx, now, before, box, out);
    if (!local && !mark_only && box[2] - box[0] <= LOCAL_DEG && box[3] - box[1] <= LOCAL_DEG) {
        GEOSGeometry *cell = cell_polygon(ctx, box);
        GEOSGeometry *ln = cell ? GEOSIntersection_r(h, now, cell) : NULL;
        GEOSGeometry *lb = ln ? GEOSIntersection_r(h, before, cell) : NULL;
        tc_status st = lb ? diff_rec(ctx, ln, lb, a, b, box, true, false, out)
                          : tc__fail(ctx, TC_ERR_GEOMETRY, "series change: %s", ctx->geos_msg);
        if (lb)
            GEOSGeom_destroy_r(h, lb);
        if (ln)
            GEOSGeom_destroy_r(h, ln);
        if (cell)
            GEOSGeom_destroy_r(h, cell);
        return st;
    }
    double mx = (box[0] + box[2]) / 2, my = (box[1] + box[3]) / 2;
    const double q[4][4] = {{box[0], box[1], mx, my}, {mx, box[1], box[2], my},
                            {box[0], my, mx, box[3]}, {mx, my, box[2], box[3]}};
    tc_status st = TC_OK;
    for (int k = 0; k < 4 && st == TC_OK; k++) {
        GEOSGeometry *ca = GEOSClipByRect_r(h, a, q[k][0], q[k][1], q[k][2], q[k][3]);
        GEOSGeometry *cb = ca ? GEOSClipByRect_r(h, b, q[k][0], q[k][1], q[k][2], q[k][3]) : NULL;
        if (ca && cb)
            st = diff_rec(ctx, now, before, ca, cb, q[k], local, mark_only, out);
        else if (mark_only) /* the clipper failed: take every cell of it as changed */
            st = mark_cells(ctx, out, q[k]);
        else if (box[2] - box[0] <= 8 * LEAF_DEG) /* the clipper failed: cell by cell */
            st = diff_cell(ctx, now, before, q[k], out);
        else
            st = tc__fail(ctx, TC_ERR_GEOMETRY, "series change: clipping failed: %s",
                          ctx->geos_msg);
        if (ca)
            GEOSGeom_destroy_r(h, ca);
        if (cb)
            GEOSGeom_destroy_r(h, cb);
    }
    return st;
}

static tc_status diff_changed(tc_ctx *ctx, const tc_snapshot *now, const tc_snapshot *before,
                              bool mark_only, diff_parts *parts);
static const GEOSPreparedGeometry *prepared(tc_ctx *ctx, const GEOSPreparedGeometry **slot,
                                             const GEOSGeometry *g);
static tc_status changes_per_unit(tc_ctx *ctx, worker *w, size_t d, diff_parts *pp,
                                  tc_status st);

/* Gained and lost land of every unit between two snapshots, into the date's change rows. */
static tc_status changes(tc_ctx *ctx, worker *w, size_t d, const tc_snapshot *now,
                         const tc_snapshot *before)
{
    const shared *sh = w->sh;
    tc_series *s = sh->s;
    GEOSContextHandle_t h = ctx->geos;
    tc_change *c = &s->chg[d * (s->n_rows + 2)];
    for (size_t r = 0; r < s->n_rows + 2; r++)
        c[r].valid = true; /* net filled in later, from consecutive results */
    const bool plain = sh->o->report.method == TC_METHOD_PLAIN;
    if (s->unchanged[d] && !plain)
        return TC_OK;
    diff_parts parts = {NULL, NULL, 0, 0, {NULL, 0, 0, false}};
    tc_status st = TC_OK;
    if (plain) { /* the reference: the two snapshots overlaid whole, both ways */
        st = add_part(ctx, &parts, GEOSDifference_r(h, now->geom, before->geom), true);
        if (st == TC_OK)
            st = add_part(ctx, &parts, GEOSDifference_r(h, before->geom, now->geom), false);
    } else {
        st = diff_changed(ctx, now, before, false, &parts);
    }
    return changes_per_unit(ctx, w, d, &parts, st);
}

/* The quadtree diff from the common grid's root cell. */
static tc_status diff_changed(tc_ctx *ctx, const tc_snapshot *now, const tc_snapshot *before,
                              bool mark_only, diff_parts *parts)
{
    GEOSContextHandle_t h = ctx->geos;
    /* a grid anchored at multiples of LEAF_DEG, so that cells are the same every day */
    double e[2][4], box[4];
    GEOSGeom_getExtent_r(h, now->geom, &e[0][0], &e[0][1], &e[0][2], &e[0][3]);
    GEOSGeom_getExtent_r(h, before->geom, &e[1][0], &e[1][1], &e[1][2], &e[1][3]);
    double span = fmax(fmax(e[0][2], e[1][2]) - fmin(e[0][0], e[1][0]),
                       fmax(e[0][3], e[1][3]) - fmin(e[0][1], e[1][1]));
    double size = LEAF_DEG;
    while (size < span)
        size *= 2;
    box[0] = floor(fmin(e[0][0], e[1][0]) / LEAF_DEG) * LEAF_DEG;
    box[1] = floor(fmin(e[0][1], e[1][1]) / LEAF_DEG) * LEAF_DEG;
    box[2] = box[0] + 2 * size; /* room for the floor() shift */
    box[3] = box[1] + 2 * size;
    return diff_rec(ctx, now->geom, before->geom, now->geom, before->geom, box, false, mark_only,
                    parts);
}

/* Each unit's share of the gained and lost parts (consumed), into the change rows. */
static tc_status changes_per_unit(tc_ctx *ctx, worker *w, size_t d, diff_parts *pp,
                                  tc_status st)
{
    const shared *sh = w->sh;
    tc_series *s = sh->s;
    const tc_regionset *rs = sh->rs;
    GEOSContextHandle_t h = ctx->geos;
    tc_change *c = &s->chg[d * (s->n_rows + 2)];
    diff_parts parts = *pp;
    for (size_t u = 0; u < rs->n && st == TC_OK; u++) {
        bool claimed = tc_catalog_is_claimed(rs->units[u].code);
        double ux0, uy0, ux1, uy1, g = 0, l = 0;
        GEOSGeom_getExtent_r(h, rs->units[u].land, &ux0, &uy0, &ux1, &uy1);
        for (size_t k = 0; k < parts.n && st == TC_OK; k++) {
            double px0, py0, px1, py1, area = 0;
            GEOSGeom_getExtent_r(h, parts.g[k], &px0, &py0, &px1, &py1);
            if (px0 > ux1 || px1 < ux0 || py0 > uy1 || py1 < uy0)
                continue;
            if (!prepared(ctx, &w->pland[u], rs->units[u].land)) {
                st = tc__fail(ctx, TC_ERR_GEOMETRY, "series change: %s", ctx->geos_msg);
                break;
            }
            /* most changed parts lie inside one unit's land: no overlay needed */
            if (GEOSPreparedContains_r(h, w->pland[u], parts.g[k]) == 1) {
                st = tc__geom_area_m2(ctx, parts.g[k], &area, NULL);
            } else if (GEOSPreparedIntersects_r(h, w->pland[u], parts.g[k]) == 1) {
                GEOSGeometry *x = GEOSIntersection_r(h, rs->units[u].land, parts.g[k]);
                if (!x) {
                    st = tc__fail(ctx, TC_ERR_GEOMETRY, "series change: %s", ctx->geos_msg);
                    break;
                }
                st = tc__geom_area_m2(ctx, x, &area, NULL);
                GEOSGeom_destroy_r(h, x);
            }
            if (parts.gained[k])
                g += area;
            else
                l += area;
        }
        for (size_t r = 0; r < s->n_rows; r++)
            if (s->row_unit[r] == u)
                c[r].gained_m2 = g, c[r].lost_m2 = l;
        tc_change *t = &c[s->n_rows + (claimed ? 0 : 1)];
        t->gained_m2 += g;
        t->lost_m2 += l;
    }
    for (size_t k = 0; k < parts.n; k++)
        GEOSGeom_destroy_r(h, parts.g[k]);
    free(parts.g);
    free(parts.gained);
    tc__cellset_free(&parts.cells);
    return st;
}

static const GEOSPreparedGeometry *prepared(tc_ctx *ctx, const GEOSPreparedGeometry **slot,
                                             const GEOSGeometry *g)
{
    if (!*slot)
        *slot = GEOSPrepare_r(ctx->geos, g);
    return *slot;
}

/* The change rows of date d from the units' tiles (tc__memo_change). */
static void changes_from_tiles(worker *w, const tc__memo *memo, size_t d)
{
    tc_series *s = w->sh->s;
    const tc_regionset *rs = w->sh->rs;
    tc_change *c = &s->chg[d * (s->n_rows + 2)];
    for (size_t u = 0; u < rs->n; u++) {
        double g = 0, l = 0;
        tc__memo_change(memo, u, &g, &l);
        for (size_t r = 0; r < s->n_rows; r++)
            if (s->row_unit[r] == u)
                c[r].gained_m2 = g, c[r].lost_m2 = l;
        tc_change *t = &c[s->n_rows + (tc_catalog_is_claimed(rs->units[u].code) ? 0 : 1)];
        t->gained_m2 += g;
        t->lost_m2 += l;
    }
}

static tc_status store(tc_series *s, size_t d, const tc_report *rep)
{
    tc_status st = TC_OK;
    for (size_t r = 0; r < s->n_rows && st == TC_OK; r++)
        st = tc_report_get_areas(rep, r, &s->rows[d * s->n_rows + r]);
    if (st == TC_OK)
        st = tc_report_get_claim_total(rep, &s->claim[d]);
    if (st == TC_OK)
        st = tc_report_get_country_total(rep, &s->country[d]);
    if (st == TC_OK)
        st = tc_report_get_outside_m2(rep, &s->outside[d]);
    return st;
}

static void copy_date(tc_series *s, size_t to, size_t from)
{
    memcpy(&s->rows[to * s->n_rows], &s->rows[from * s->n_rows], s->n_rows * sizeof *s->rows);
    s->claim[to] = s->claim[from];
    s->country[to] = s->country[from];
    s->outside[to] = s->outside[from];
}

/* ---------------------------------------------------------------- ranges */

/* A worker's dates come in ranges: two blocks to start with, the k-th and the
 * (2 jobs - 1 - k)-th of 2 jobs equal blocks (so that the early and late parts of an
 * archive, where changes differ most in number, are shared out), then halves of what
 * other workers have left, taken when its own are done (work stealing). A worker claims
 * each date of its range under the lock; a thief takes the upper half of the largest
 * unclaimed rest, when that is at least STEAL_MIN dates (a range that does not continue
 * the worker's last date first computes the date before it, unreported: about one date
 * of full work). Which worker computes a date never changes its figures (run_range()). */
#define STEAL_MIN 16

/* Claim date d of the worker's current range; false when the range ends before it (a
 * thief may have shortened it). */
static bool claim(worker *w, size_t d)
{
    pthread_mutex_lock(&w->sh->lock);
    bool ok = d < w->end;
    if (ok)
        w->next = d + 1;
    pthread_mutex_unlock(&w->sh->lock);
    return ok;
}

/* The worker's next range, from *b: its second block, else a stolen half; false: none. */
static bool next_range(worker *w, size_t *b)
{
    shared *sh = w->sh;
    pthread_mutex_lock(&sh->lock);
    bool ok = false;
    size_t e = 0;
    if (w->later_end > w->later_begin) {
        *b = w->later_begin, e = w->later_end;
        w->later_begin = w->later_end = 0;
        ok = true;
    } else {
        worker *v = NULL;
        for (size_t k = 0; k < sh->n_workers; k++) {
            worker *c = &sh->workers[k];
            if (c != w && c->end > c->next && (!v || c->end - c->next > v->end - v->next))
                v = c;
        }
        if (v && v->end - v->next >= STEAL_MIN) {
            *b = v->next + (v->end - v->next) / 2, e = v->end;
            v->end = *b;
            ok = true;
        }
    }
    if (ok)
        w->next = *b, w->end = e;
    pthread_mutex_unlock(&sh->lock);
    return ok;
}

/* A date done (computed or read from the stored rows): progress. */
static void done_one(worker *w)
{
    shared *sh = w->sh;
    atomic_fetch_add(&sh->done, 1);
    if (w->inline_progress && sh->o->progress)
        sh->o->progress(atomic_load(&sh->done), sh->s->n_dates, sh->o->progress_user);
}

/* Date d - 1 computed, unreported, into the memo and *prevp, so that date d's figures and
 * changes are the same whichever worker computes it, after whichever date. When d's
 * snapshot has the same bytes, d's figures are stored from that report (*stored). */
static tc_status warm_up(worker *w, tc_ctx *ctx, tc__memo *memo, size_t d, tc_snapshot **prevp,
                         bool *stored)
{
    shared *sh = w->sh;
    tc_series *s = sh->s;
    tc_report *rep = NULL;
    tc_status st = tc_archive_open_snapshot(ctx, sh->arch, s->arch[d - 1], prevp);
    if (st == TC_OK)
        st = tc__report_compute(ctx, sh->rs, *prevp, &sh->o->report, memo, &rep);
    if (st == TC_OK && s->unchanged[d]) {
        if ((st = store(s, d, rep)) != TC_OK)
            st = tc__fail(ctx, TC_ERR_INTERNAL, "series: report rows do not match");
        *stored = st == TC_OK;
    }
    tc_report_free(rep);
    return st;
}

/* Dates from b on, as long as the worker's range lasts. *prevp, *curp: the worker's
 * snapshots; *last: the last date whose state its memo and *prevp hold ((size_t)-1:
 * none). Dates read from the stored rows are skipped; a date that does not follow the
 * last one computed first has the date before it computed (warm_up()). */
static tc_status run_range(worker *w, tc_ctx *ctx, tc__memo *memo, bool plain, size_t b,
                           tc_snapshot **prevp, tc_snapshot **curp, size_t *last)
{
    shared *sh = w->sh;
    tc_series *s = sh->s;
    /* Tiles (the default method, lib/tiles.c): changes come from the units' cells; the
     * change finder only says which cells to look at. */
    const bool tiled = !plain && !sh->o->report.equal_area_check;
    tc_status st = TC_OK;
    for (size_t d = b; st == TC_OK && claim(w, d); d++) {
        if (s->known[d]) {
            done_one(w);
            continue;
        }
        bool follows = d > 0 && *last == d - 1; /* the memo and *prevp hold date d - 1 */
        bool stored = false;                    /* d's figures stored by the warm-up */
        /* the same bytes as the date before, whose figures are at hand: the same figures */
        bool reuse = !plain && d > 0 && s->unchanged[d] && (follows || s->known[d - 1]);
        if (!follows && !reuse) {
            tc_snapshot_free(*prevp);
            *prevp = NULL;
            *last = (size_t)-1;
            if (tiled && d > 0) {
                if ((st = warm_up(w, ctx, memo, d, prevp, &stored)) != TC_OK)
                    break;
                *last = d - 1;
                follows = true;
                reuse = stored;
            }
        }
        diff_parts parts = {NULL, NULL, 0, 0, {NULL, 0, 0, false}};
        bool have_parts = false;
        if (reuse) {
            if (!stored)
                copy_date(s, d, d - 1);
        } else {
            if ((st = tc_archive_open_snapshot(ctx, sh->arch, s->arch[d], curp)) != TC_OK)
                break;
            if (!plain && d > 0 && !s->unchanged[d]) {
                /* the changes first: units they leave alone keep their result */
                if (!*prevp &&
                    (st = tc_archive_open_snapshot(ctx, sh->arch, s->arch[d - 1], prevp)) != TC_OK)
                    break;
                have_parts = true;
                st = diff_changed(ctx, *curp, *prevp, tiled, &parts);
                /* a cell whose edge a change touches is changed too */
                if (st == TC_OK && !tc__cellset_grow(&parts.cells))
                    st = tc__fail(ctx, TC_ERR_NOMEM, "series: out of memory");
                if (st == TC_OK && follows)
                    tc__memo_set_dirty(memo, &parts.cells);
                if (st != TC_OK) {
                    changes_per_unit(ctx, w, d, &parts, st); /* frees the parts */
                    break;
                }
            }
            tc_report *rep = NULL;
            st = tc__report_compute(ctx, sh->rs, *curp, &sh->o->report, memo, &rep);
            if (st == TC_OK && (st = store(s, d, rep)) != TC_OK)
                st = tc__fail(ctx, TC_ERR_INTERNAL, "series: report rows do not match");
            tc_report_free(rep);
            tc__memo_set_dirty(memo, NULL); /* for this date only */
        }
        if (have_parts) {
            tc_change *c = &s->chg[d * (s->n_rows + 2)];
            for (size_t r = 0; r < s->n_rows + 2; r++)
                c[r].valid = true;
            st = changes_per_unit(ctx, w, d, &parts, st); /* consumes the parts */
            if (st != TC_OK)
                break;
            if (tiled) /* the change finder only marked cells: changes are the tiles' */
                changes_from_tiles(w, memo, d);
        } else if (st != TC_OK) {
            break;
        } else if (d > 0 && (plain || !s->unchanged[d])) {
            if (!*prevp &&
                (st = tc_archive_open_snapshot(ctx, sh->arch, s->arch[d - 1], prevp)) != TC_OK)
                break;
            if ((st = changes(ctx, w, d, *curp, *prevp)) != TC_OK)
                break;
        } else if (d > 0) {
            st = changes(ctx, w, d, NULL, NULL);
        }
        if (*curp) {
            tc_snapshot_free(*prevp);
            *prevp = *curp;
            *curp = NULL;
            *last = d;
        } else if (follows) {
            *last = d; /* (*prevp has the same bytes) */
        }
        done_one(w);
    }
    return st;
}

static void *work(void *arg)
{
    worker *w = arg;
    shared *sh = w->sh;
    tc_ctx *ctx = NULL;
    tc__memo *memo = NULL;
    tc_snapshot *prev = NULL, *cur = NULL;
    tc_status st = tc_ctx_new(&ctx);
    if (st != TC_OK) {
        w->st = st;
        snprintf(w->msg, sizeof w->msg, "series: cannot create a worker context");
        goto out;
    }
    const bool plain = sh->o->report.method == TC_METHOD_PLAIN;
    w->pland = calloc(sh->rs->n ? sh->rs->n : 1, sizeof *w->pland);
    if (!w->pland || (!plain && !(memo = tc__memo_new(ctx, sh->rs->n)))) {
        st = tc__fail(ctx, TC_ERR_NOMEM, "series: out of memory");
        goto out;
    }
    size_t last = (size_t)-1, b = w->next;
    do
        st = run_range(w, ctx, memo, plain, b, &prev, &cur, &last);
    while (st == TC_OK && next_range(w, &b));
    if (st != TC_OK)
        snprintf(w->msg, sizeof w->msg, "%s", tc_ctx_errmsg(ctx));
out:
    for (size_t u = 0; w->pland && u < sh->rs->n; u++)
        if (w->pland[u])
            GEOSPreparedGeom_destroy_r(ctx->geos, w->pland[u]);
    free(w->pland);
    w->pland = NULL;
    w->st = st;
    tc_snapshot_free(cur);
    tc_snapshot_free(prev);
    tc__memo_free(memo);
    tc_ctx_free(ctx);
    atomic_fetch_add(&sh->finished, 1);
    return NULL;
}

/* ---------------------------------------------------------------- stored rows */

/* A date's figures depend on nothing but the region set (named by its cache key), the
 * options, the rows' units and its snapshot's bytes; its changes also on the previous
 * selected snapshot's bytes. With a cache, a series stores every date it computed under
 * the digests of those two snapshots, all in one file per set and options (in results/,
 * pruned with the unit results); a later series (the same again, one day longer, another
 * range) reads them back and computes only the dates it does not find there. How a
 * date's snapshot is named (its file's bytes, or its features as read): name_snapshot(). */
#define ROWS_MAGIC "TCLAIMS-SERIES-ROWS\n"
#define ROWS_FORMAT 1u
#define ROWS_KEY 64                /* an entry's key: the two snapshots' digests */
#define ROWS_KEEP_BYTES (64u << 20) /* older entries kept while the file is smaller */

typedef struct stored_rows {
    bool on;                    /* the set has a cache and these options are stored */
    char hex[65];               /* the file's key */
    const unsigned char *file;  /* mapped; NULL: none */
    size_t file_n;
    const unsigned char **entry; /* the file's entries, sorted by key */
    size_t n, size;             /* entries, bytes per entry */
} stored_rows;

static bool self_contained(const char *path)
{
    static const char *const ext[] = {".geojson", ".json", ".gpkg", ".fgb", ".kml"};
    size_t n = strlen(path);
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        size_t k = strlen(ext[i]);
        if (n > k && strcasecmp(path + n - k, ext[i]) == 0)
            return true;
    }
    return false;
}

static bool rows_file_key(const tc_regionset *rs, const tc_series_opts *o, const tc_series *s,
                          char hex[65])
{
    const char *rk = tc__regionset_cache_key(rs);
    const tc_report_opts *r = &o->report;
    if (!rk || r->method == TC_METHOD_PLAIN || r->equal_area_check)
        return false;
    tc__wbuf b = {NULL, 0, 0, false};
    /* (the set's key names the library's version; this names the series', for changes
     * within one: bump it whenever a date's figures or changes could change) */
    tc__put_str(&b, "tclaims series rows 1");
    tc__put(&b, rk, 64);
    tc__put_u32(&b, (uint32_t)r->units);
    tc__put_u32(&b, (uint32_t)r->method);
    tc__put_u32(&b, r->front_line ? 1u : 0u);
    tc__put_f64(&b, r->sliver_width_m);
    tc__put_f64(&b, r->connect_tol_m);
    tc__put_u64(&b, s->n_rows);
    for (size_t i = 0; i < s->n_rows; i++)
        tc__put_u64(&b, s->row_unit[i]);
    bool ok = !b.nomem;
    if (ok)
        tc__sha256_hex(b.p, b.n, hex);
    free(b.p);
    return ok;
}

static void entry_key(const tc_series *s, size_t d, unsigned char k[ROWS_KEY])
{
    memcpy(k, s->sha[d], 32);
    if (d > 0)
        memcpy(k + 32, s->sha[d - 1], 32);
    else
        memset(k + 32, 0, 32); /* the first date: no change */
}

static void put_entry(tc__wbuf *b, const tc_series *s, size_t d)
{
    unsigned char k[ROWS_KEY];
    entry_key(s, d, k);
    tc__put(b, k, sizeof k);
    for (size_t r = 0; r < s->n_rows; r++)
        tc__put_areas(b, &s->rows[d * s->n_rows + r]);
    tc__put_areas(b, &s->claim[d]);
    tc__put_areas(b, &s->country[d]);
    tc__put_f64(b, s->outside[d]);
    const tc_change *c = &s->chg[d * (s->n_rows + 2)];
    for (size_t r = 0; r < s->n_rows + 2; r++) {
        tc__put_f64(b, c[r].gained_m2);
        tc__put_f64(b, c[r].lost_m2);
    }
}

/* Date d's figures and changes from entry p (the date's only when all of it is sound). */
static bool get_entry(tc_series *s, size_t d, const unsigned char *p, size_t size,
                      tc_areas *a, tc_change *c)
{
    tc__rbuf r = {p + ROWS_KEY, size - ROWS_KEY, 0, false};
    bool ok = true;
    for (size_t i = 0; ok && i < s->n_rows + 2; i++)
        ok = tc__get_areas(&r, &a[i]);
    double outside = tc__get_f64(&r);
    ok = ok && isfinite(outside);
    memset(c, 0, (s->n_rows + 2) * sizeof *c); /* (padding too: rows compare as bytes) */
    for (size_t i = 0; ok && i < s->n_rows + 2; i++) {
        c[i].valid = d > 0;
        c[i].gained_m2 = tc__get_f64(&r);
        c[i].lost_m2 = tc__get_f64(&r);
        ok = isfinite(c[i].gained_m2) && isfinite(c[i].lost_m2);
    }
    if (!ok || r.bad || r.pos != r.n)
        return false;
    memcpy(&s->rows[d * s->n_rows], a, s->n_rows * sizeof *a);
    memcpy(&s->claim[d], &a[s->n_rows], sizeof *a);
    memcpy(&s->country[d], &a[s->n_rows + 1], sizeof *a);
    s->outside[d] = outside;
    memcpy(&s->chg[d * (s->n_rows + 2)], c, (s->n_rows + 2) * sizeof *c);
    return true;
}

/* Date d's snapshot named by its content (s->sha[d]), for "unchanged" and the stored rows:
 * a regular file by the SHA-256 of its bytes, which name its content unless it is a
 * shapefile or the like (keyed() needs that); a date of a layer read with a filter, or a
 * source that is not a file (a PG: table), by its features as GDAL returns them
 * (tc__source_digest(): a read of the date's features), only when rows are stored. */
static tc_status name_snapshot(tc_ctx *ctx, const tc_archive *archive, tc_series *s, size_t d,
                               bool storing)
{
    s->dates[d] = tc_archive_get_date(archive, s->arch[d]);
    s->paths[d] = tc_archive_get_path(archive, s->arch[d]);
    struct stat sb;
    bool file = !tc_archive_get_filter(archive, s->arch[d]) && stat(s->paths[d], &sb) == 0 &&
                S_ISREG(sb.st_mode);
    char hex[65];
    bool named = false;
    if (file) {
        tc_status st = tc__sha256_file(ctx, s->paths[d], hex);
        if (st != TC_OK)
            return st;
        named = true;
    } else if (storing) {
        tc_open_opts oo;
        tc__archive_open_opts(archive, s->arch[d], &oo);
        named = tc__source_digest(ctx, s->paths[d], &oo, hex) == TC_OK;
        if (!named)
            tc__clear(ctx); /* not named: computed (and its read says what is wrong) */
    }
    if (!named)
        return TC_OK;
    tc__sha256(hex, 64, s->sha[d]); /* a digest of the digest: equal iff equal */
    s->named[d] = true;
    s->unchanged[d] = d > 0 && s->named[d - 1] && memcmp(s->sha[d], s->sha[d - 1], 32) == 0;
    s->whole[d] = !file || self_contained(s->paths[d]);
    return TC_OK;
}

/* Date d's rows are stored under its and the previous date's content (entry_key()). */
static bool keyed(const tc_series *s, size_t d)
{
    return s->whole[d] && (d == 0 || s->whole[d - 1]);
}

static int entry_cmp(const void *a, const void *b)
{
    return memcmp(*(const unsigned char *const *)a, *(const unsigned char *const *)b, ROWS_KEY);
}

static void rows_release(stored_rows *t)
{
    tc__cache_release(t->file, t->file_n);
    free(t->entry);
    t->file = NULL;
    t->entry = NULL;
    t->n = 0;
}

/* Mark every date found in the stored rows known, with its figures and changes (t->on and
 * t->hex set: rows_file_key()). A file absent, damaged or of other rows is as no file:
 * its dates are computed. */
static void rows_load(const tc_regionset *rs, tc_series *s, stored_rows *t)
{
    t->size = ROWS_KEY + (s->n_rows + 2) * (TC__AREAS_BYTES + 16) + 8;
    if (!t->on)
        return;
    tc__rbuf r;
    if (!(t->file = tc__regionset_stored_get(rs, t->hex, ROWS_MAGIC, ROWS_FORMAT, &r)))
        return;
    t->file_n = r.n;
    uint64_t rows = tc__get_u64(&r), n = tc__get_u64(&r);
    size_t rest = r.n - r.pos;
    tc_areas *a = malloc((s->n_rows + 2) * sizeof *a);
    tc_change *c = malloc((s->n_rows + 2) * sizeof *c);
    if (r.bad || rows != s->n_rows || rest % t->size || rest / t->size != n || !a || !c ||
        !(t->entry = malloc((n ? n : 1) * sizeof *t->entry))) {
        free(a);
        free(c);
        rows_release(t);
        return;
    }
    t->n = (size_t)n;
    for (size_t i = 0; i < t->n; i++)
        t->entry[i] = r.p + r.pos + i * t->size;
    qsort(t->entry, t->n, sizeof *t->entry, entry_cmp);
    for (size_t d = 0; d < s->n_dates; d++) {
        unsigned char k[ROWS_KEY];
        const unsigned char *kp = k, *const *e;
        if (!keyed(s, d))
            continue;
        entry_key(s, d, k);
        e = bsearch(&kp, t->entry, t->n, sizeof *t->entry, entry_cmp);
        s->known[d] = e && get_entry(s, d, *e, t->size, a, c);
    }
    free(a);
    free(c);
}

/* The dates computed now, and as many older entries as fit, written back (best effort: a
 * file not written is only rows computed again); releases t. */
static void rows_save(const tc_regionset *rs, tc_series *s, stored_rows *t)
{
    size_t fresh = 0;
    for (size_t d = 0; d < s->n_dates; d++)
        fresh += keyed(s, d) && !s->known[d];
    if (!t->on || !fresh) {
        rows_release(t);
        return;
    }
    tc__wbuf nb = {NULL, 0, 0, false}, b = {NULL, 0, 0, false};
    const unsigned char **mine = malloc(fresh * sizeof *mine);
    for (size_t d = 0; d < s->n_dates; d++)
        if (keyed(s, d) && !s->known[d])
            put_entry(&nb, s, d);
    size_t m = 0;
    if (mine && !nb.nomem && nb.n == fresh * t->size) {
        for (size_t i = 0; i < fresh; i++)
            mine[i] = nb.p + i * t->size;
        qsort(mine, fresh, sizeof *mine, entry_cmp);
        for (size_t i = 0; i < fresh; i++) /* one entry per key (days that did not move) */
            if (!m || memcmp(mine[m - 1], mine[i], ROWS_KEY) != 0)
                mine[m++] = mine[i];
        size_t kept = 0;
        for (size_t i = 0; i < t->n && (m + kept + 1) * t->size <= ROWS_KEEP_BYTES; i++)
            if (!bsearch(&t->entry[i], mine, m, sizeof *mine, entry_cmp))
                t->entry[kept++] = t->entry[i];
        tc__put_header(&b, ROWS_MAGIC, ROWS_FORMAT, t->hex);
        tc__put_u64(&b, s->n_rows);
        tc__put_u64(&b, m + kept);
        for (size_t i = 0; i < m; i++)
            tc__put(&b, mine[i], t->size);
        for (size_t i = 0; i < kept; i++)
            tc__put(&b, t->entry[i], t->size);
        (void)tc__regionset_stored_put(rs, t->hex, &b);
    }
    free(mine);
    free(nb.p);
    free(b.p);
    rows_release(t);
}

/* ---------------------------------------------------------------- public */

static tc_status alloc_results(tc_ctx *ctx, tc_series *s)
{
    size_t n = s->n_dates;
    s->dates = calloc(n, sizeof *s->dates);
    s->paths = calloc(n, sizeof *s->paths);
    s->unchanged = calloc(n, sizeof *s->unchanged);
    s->named = calloc(n, sizeof *s->named);
    s->whole = calloc(n, sizeof *s->whole);
    s->known = calloc(n, sizeof *s->known);
    s->sha = calloc(n, sizeof *s->sha);
    s->rows = calloc(n * (s->n_rows ? s->n_rows : 1), sizeof *s->rows);
    s->claim = calloc(n, sizeof *s->claim);
    s->country = calloc(n, sizeof *s->country);
    s->outside = calloc(n, sizeof *s->outside);
    s->chg = calloc(n * (s->n_rows + 2), sizeof *s->chg);
    if (!s->dates || !s->paths || !s->unchanged || !s->named || !s->whole || !s->known ||
        !s->sha || !s->rows || !s->claim || !s->country || !s->outside || !s->chg)
        return tc__fail(ctx, TC_ERR_NOMEM, "series: out of memory");
    return TC_OK;
}

static void sleep_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

tc_status tc_series_new(tc_ctx *ctx, const tc_regionset *rs, const tc_archive *archive,
                        const tc_series_opts *opts, tc_series **out)
{
    if (!ctx)
        return TC_ERR_INVALID_ARG;
    tc__clear(ctx);
    if (!rs || !archive || !out)
        return tc__fail(ctx, TC_ERR_INVALID_ARG, "series: NULL argument");
    tc_series_opts defaults = TC_SERIES_OPTS_INIT;
    const tc_series_opts *o = opts ? opts : &defaults;
    if (o->version != TC_SERIES_OPTS_VERSION || o->report.version != TC_REPORT_OPTS_VERSION)
        return tc__fail(ctx, TC_ERR_INVALID_ARG, "series: options not initialised with "
                                                 "TC_SERIES_OPTS_INIT");
    if (o->from.year && o->to.year && tc_date_cmp(o->from, o->to) > 0)
        return tc__fail(ctx, TC_ERR_INVALID_ARG, "series: from date after to date");
    tc_series *s = calloc(1, sizeof *s);
    if (!s)
        return tc__fail(ctx, TC_ERR_NOMEM, "series: out of memory");
    tc_status st = tc__report_rows(ctx, rs, &o->report, &s->row_unit, &s->n_rows);
    if (st == TC_OK)
        st = select_dates(ctx, archive, o, s);
    if (st == TC_OK)
        st = alloc_results(ctx, s);
    stored_rows stored;
    memset(&stored, 0, sizeof stored);
    if (st == TC_OK)
        stored.on = rows_file_key(rs, o, s, stored.hex);
    for (size_t d = 0; d < s->n_dates && st == TC_OK; d++)
        st = name_snapshot(ctx, archive, s, d, stored.on);
    size_t todo = 0;
    if (st == TC_OK) {
        rows_load(rs, s, &stored);
        for (size_t d = 0; d < s->n_dates; d++)
            todo += !s->known[d];
    }
    /* every unit's land and strip before the workers start: they read rs->units[i]
     * directly, and with every unit prepared their reports' views never leave a land NULL
     * (tiled_body()'s untouched path updates the memo, which the untouched shortcut in
     * run_units() would skip) */
    if (st == TC_OK && todo)
        st = tc_regionset_prepare(ctx, rs, NULL, 0, o->jobs);
    if (st != TC_OK) {
        rows_release(&stored);
        tc_series_free(s);
        return st;
    }

    /* ranges of consecutive dates, so that each worker's memo sees consecutive dates */
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    size_t jobs = o->jobs ? o->jobs : (size_t)(cpus > 0 ? cpus : 1);
    if (jobs > todo) /* (todo: 0 when every date was stored) */
        jobs = todo;
    if (jobs > 64)
        jobs = 64;
    shared sh = {.s = s, .rs = rs, .arch = archive, .o = o};
    atomic_init(&sh.done, 0);
    atomic_init(&sh.finished, 0);
    worker *w = calloc(jobs ? jobs : 1, sizeof *w);
    pthread_t *tid = calloc(jobs ? jobs : 1, sizeof *tid);
    if (!w || !tid || pthread_mutex_init(&sh.lock, NULL) != 0) {
        free(w);
        free(tid);
        rows_release(&stored);
        tc_series_free(s);
        return tc__fail(ctx, TC_ERR_NOMEM, "series: out of memory");
    }
    sh.workers = w;
    sh.n_workers = jobs;
    const size_t nb = 2 * jobs, n = s->n_dates; /* blocks k and nb - 1 - k (next_range) */
    for (size_t k = 0; k < jobs; k++) {
        w[k].sh = &sh;
        w[k].next = n * k / nb;
        w[k].end = n * (k + 1) / nb;
        w[k].later_begin = n * (nb - 1 - k) / nb;
        w[k].later_end = n * (nb - k) / nb;
        w[k].inline_progress = jobs == 1;
    }
    size_t started = 0;
    if (!jobs && o->progress)
        o->progress(s->n_dates, s->n_dates, o->progress_user);
    if (jobs == 1) {
        work(&w[0]);
    } else if (jobs > 1) {
        for (; started < jobs; started++)
            if (pthread_create(&tid[started], NULL, work, &w[started]) != 0)
                break;
        for (size_t k = started; k < jobs; k++) /* could not start: run here */
            work(&w[k]);
        size_t shown = (size_t)-1;
        while (atomic_load(&sh.finished) < (int)jobs) {
            size_t done = atomic_load(&sh.done);
            if (o->progress && done != shown)
                o->progress(done, s->n_dates, o->progress_user);
            shown = done;
            sleep_ms(100);
        }
        for (size_t k = 0; k < started; k++)
            pthread_join(tid[k], NULL);
        if (o->progress)
            o->progress(atomic_load(&sh.done), s->n_dates, o->progress_user);
    }
    for (size_t k = 0; k < jobs && st == TC_OK; k++)
        if (w[k].st != TC_OK)
            st = tc__fail(ctx, w[k].st, "%s", w[k].msg);
    pthread_mutex_destroy(&sh.lock);
    free(w);
    free(tid);
    if (st != TC_OK) {
        rows_release(&stored);
        tc_series_free(s);
        return st;
    }
    /* net change from consecutive results: net = controlled now − before */
    for (size_t d = 1; d < s->n_dates; d++) {
        tc_change *c = &s->chg[d * (s->n_rows + 2)];
        for (size_t r = 0; r < s->n_rows; r++)
            c[r].net_m2 = s->rows[d * s->n_rows + r].controlled_m2 -
                          s->rows[(d - 1) * s->n_rows + r].controlled_m2;
        c[s->n_rows].net_m2 = s->claim[d].controlled_m2 - s->claim[d - 1].controlled_m2;
        c[s->n_rows + 1].net_m2 = s->outside[d] - s->outside[d - 1];
    }
    rows_save(rs, s, &stored);
    *out = s;
    return TC_OK;
}
