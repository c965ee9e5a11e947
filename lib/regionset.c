/* Units prepared for reports: clipped to land, with neighbour strips; cached on disk.
 *
 * Preparation is lazy. tc_regionset_open() computes every unit's areas and land (or reads
 * them from the cache, where each unit's geometries are separate entries that stay raw
 * bytes until asked for). A report asks tc__regionset_prepare() for what it needs: the land
 * of the units its snapshot touches and their strips of neighbouring land; those are parsed
 * or built then, under the set's mutex, and the cache file is rewritten with what was built
 * (temporary file and rename). Geometries, once set, never change until the set is freed. */
#include "tc_internal.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#define CACHE_MAGIC "TCLAIMS-REGIONSET\n"
#define CACHE_FORMAT 7u /* 2: SHA-256 of the content at the end; 3: grid-noded inputs;
                           4: entries per unit, strips optional (added by later runs);
                           5: rings densified monotonically, repaired after densifying;
                           6: the land's edge terms (tc__edge_terms);
                           7: XXH3-128 of the content at the end (every cache file) */

enum { SLOT_LAND, SLOT_TERMS, SLOT_SIMPLE, SLOT_STRIP, N_SLOTS }; /* (the cache file's order) */

struct tc__lazy {
    pthread_mutex_t lock;       /* guards every unit's geometries and the fields below */
    unsigned char *file;        /* the cache file: read at open (mapped, file_n bytes) or
                                   written since (malloc'd, file_n 0); NULL: built */
    size_t file_n;
    const unsigned char *blob;  /* its geometry entries (units' off/len are relative to it) */
    size_t blob_n;
    char *cache_dir, *cache_file; /* NULL: no cache */
    char key[65];
    char **warn;                /* the build's warnings, stored with every cache write */
    size_t n_warn;
    bool dirty;                 /* built since the cache file was read or written */
};

static void free_units(tc_ctx *ctx, tc__unit *u, size_t n)
{
    for (size_t i = 0; u && i < n; i++) {
        free(u[i].code);
        free(u[i].name);
        GEOSGeometry *g[3] = {u[i].land, u[i].strip, u[i].simple};
        for (int k = 0; k < 3; k++)
            if (g[k])
                GEOSGeom_destroy_r(ctx->geos, g[k]);
        tc__edge_terms_free(u[i].et);
        free(u[i].terms);
    }
    free(u);
}

static void release_file(tc__lazy *z)
{
    if (z->file_n)
        tc__cache_release(z->file, z->file_n);
    else
        free(z->file);
    z->file = NULL;
    z->file_n = 0;
}

static void free_lazy(tc__lazy *z)
{
    if (!z)
        return;
    pthread_mutex_destroy(&z->lock);
    release_file(z);
    free(z->cache_dir);
    free(z->cache_file);
    for (size_t i = 0; i < z->n_warn; i++)
        free(z->warn[i]);
    free(z->warn);
    free(z);
}

void tc_regionset_free(tc_regionset *rs)
{
    if (!rs)
        return;
    free_units(rs->ctx, rs->units, rs->n);
    free_lazy(rs->lazy);
    free(rs);
}

/* ---------------------------------------------------------------- building */

typedef struct land_collect {
    GEOSGeometry **parts;
    size_t n, cap;
} land_collect;

static tc_status land_part(tc_ctx *ctx, void *user, long fid, const char *code,
                           const char *name, GEOSGeometry *geom)
{
    (void)fid, (void)code, (void)name;
    land_collect *c = user;
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 64;
        GEOSGeometry **p = realloc(c->parts, cap * sizeof *p);
        if (!p) {
            GEOSGeom_destroy_r(ctx->geos, geom);
            return tc__fail(ctx, TC_ERR_NOMEM, "land mask: out of memory");
        }
        c->parts = p;
        c->cap = cap;
    }
    c->parts[c->n++] = geom;
    return TC_OK;
}

static tc_status load_land(tc_ctx *ctx, const char *path, const tc_open_opts *oo,
                           GEOSGeometry **out)
{
    land_collect c = {NULL, 0, 0};
    tc__read_opts ro = {.open = oo, .want_fields = false, .allow_empty = false};
    tc_status st = tc__ogr_read(ctx, path, &ro, land_part, &c);
    if (st != TC_OK) {
        for (size_t i = 0; i < c.n; i++)
            GEOSGeom_destroy_r(ctx->geos, c.parts[i]);
        free(c.parts);
        return st;
    }
    *out = tc__union_take(ctx, c.parts, c.n);
    free(c.parts);
    if (!*out)
        return tc__fail(ctx, TC_ERR_GEOMETRY, "land mask '%s': union failed: %s", path,
                        ctx->geos_msg);
    return TC_OK;
}

static GEOSGeometry *intersect_multi(tc_ctx *ctx, const GEOSGeometry *a, const GEOSGeometry *b)
{
    return tc__as_multi_take(ctx, GEOSIntersection_r(ctx->geos, a, b));
}

static bool env_empty(const double e[4]) { return e[0] > e[2]; }

static bool env_overlap(const double a[4], const double b[4])
{
    return !env_empty(a) && !env_empty(b) && a[0] <= b[2] && b[0] <= a[2] && a[1] <= b[3] &&
           b[1] <= a[3];
}

static void set_env(tc_ctx *ctx, const GEOSGeometry *g, double e[4])
{
    if (GEOSisEmpty_r(ctx->geos, g) == 1 ||
        !GEOSGeom_getExtent_r(ctx->geos, g, &e[0], &e[1], &e[2], &e[3])) {
        e[0] = 1, e[1] = 1, e[2] = 0, e[3] = 0;
    }
}

/* The strip's source: the unit as drawn, simplified to a tenth of the strip's width d. */
static tc_status strip_source(tc_ctx *ctx, const char *code, const GEOSGeometry *admin,
                              double *d, GEOSGeometry **simple)
{
    GEOSContextHandle_t h = ctx->geos;
    double xmin, ymin, xmax, ymax;
    GEOSGeom_getExtent_r(h, admin, &xmin, &ymin, &xmax, &ymax);
    double lat = fmax(fabs(ymin), fabs(ymax));
    /* degrees of longitude per metre are the larger: the strip is at least TC__STRIP_M wide */
    *d = TC__STRIP_M / (111320.0 * cos(lat * TC__PI / 180.0));
    *simple = GEOSSimplify_r(h, admin, *d / 10.0);
    if (!*simple)
        return tc__fail(ctx, TC_ERR_GEOMETRY, "strip of %s: simplify failed: %s", code,
                        ctx->geos_msg);
    tc__geom_warm(ctx, *simple);
    return TC_OK;
}

/* Geometry of one cache entry of u, parsed now if it is not yet (lock held). */
static tc_status need_slot(tc_ctx *ctx, const tc_regionset *rs, tc__unit *u, int slot)
{
    GEOSGeometry **dst = slot == SLOT_LAND ? &u->land : slot == SLOT_STRIP ? &u->strip
                                                                              : &u->simple;
    if (*dst)
        return TC_OK;
    const tc__lazy *z = rs->lazy;
    if (!z->blob || !u->len[slot])
        return tc__fail(ctx, TC_ERR_INTERNAL, "regionset: %s has no geometry %d", u->code, slot);
    GEOSGeometry *g = tc__geom_decode(ctx->geos, z->blob + u->off[slot], u->len[slot]);
    if (!g) /* checked at open: only a bug of ours, or no memory, gets here */
        return tc__fail(ctx, TC_ERR_INTERNAL, "regionset cache: entry of %s unreadable: %s",
                        u->code, ctx->geos_msg);
    /* read-only from here on, possibly from several threads: no lazy state left in GEOS */
    tc__geom_warm(ctx, g);
    *dst = g;
    return TC_OK;
}

/* The land of u with its edges' area terms, for a unit a report measures (lock held). */
static tc_status need_land_terms(tc_ctx *ctx, const tc_regionset *rs, tc__unit *u)
{
    tc_status st = need_slot(ctx, rs, u, SLOT_LAND);
    if (st != TC_OK || u->et)
        return st;
    const tc__lazy *z = rs->lazy;
    /* as built, or read (checked at open: 8-byte words at a multiple of 8) */
    const double *t = u->terms                          ? u->terms
                      : z->blob && u->len[SLOT_TERMS] ? (const double *)(const void *)(
                                                              z->blob + u->off[SLOT_TERMS])
                                                        : NULL;
    size_t nt = u->terms ? u->n_terms : u->len[SLOT_TERMS] / 8;
    st = t ? tc__edge_terms_new(ctx, u->land, t, nt, &u->et) : TC_ERR_INTERNAL;
    if (st == TC_ERR_INTERNAL) { /* none, or not of this land (a bug of ours): afresh */
        tc__clear(ctx);
        double *fresh = NULL;
        size_t nf = 0;
        st = tc__edge_terms_compute(ctx, u->land, &fresh, &nf);
        if (st == TC_OK)
            st = tc__edge_terms_new(ctx, u->land, fresh, nf, &u->et);
        free(fresh);
    }
    return st;
}

/* Parse what the strip of unit i is built from: its simplified outline and the land of
 * every unit near it (the envelope of the outline widened by the strip's width, which
 * holds the buffer's). Lock held. */
static tc_status strip_inputs(tc_ctx *ctx, const tc_regionset *rs, size_t i)
{
    tc__unit *u = &rs->units[i];
    tc_status st = need_slot(ctx, rs, u, SLOT_SIMPLE);
    if (st != TC_OK)
        return st;
    double e[4], pad = 1.01 * u->strip_d + 1e-9;
    set_env(ctx, u->simple, e);
    e[0] -= pad, e[1] -= pad, e[2] += pad, e[3] += pad;
    for (size_t k = 0; k < rs->n && st == TC_OK; k++)
        if (k != i && env_overlap(rs->units[k].env, e))
            st = need_slot(ctx, rs, &rs->units[k], SLOT_LAND);
    return st;
}

/* Neighbouring land within TC__STRIP_M beyond unit i: the other units' land inside a buffer
 * of (a simplified copy of) unit i. Only units, so foreign land never counts. Reads the set
 * only (strip_inputs() first), so that several threads may build strips at once. */
static tc_status build_strip(tc_ctx *ctx, const tc_regionset *rs, size_t i, GEOSGeometry **out)
{
    GEOSContextHandle_t h = ctx->geos;
    const tc__unit *units = rs->units, *u = &units[i];
    const size_t n = rs->n;
    *out = NULL;
    GEOSGeometry *buf = GEOSBuffer_r(h, u->simple, u->strip_d, 2);
    if (!buf)
        return tc__fail(ctx, TC_ERR_GEOMETRY, "strip of %s: buffer failed: %s", u->code,
                        ctx->geos_msg);
    const GEOSPreparedGeometry *pbuf = GEOSPrepare_r(h, buf);
    GEOSGeometry **parts = calloc(n, sizeof *parts);
    size_t np = 0;
    double be[4];
    set_env(ctx, buf, be);
    tc_status st = parts && pbuf ? TC_OK : tc__fail(ctx, TC_ERR_NOMEM, "strip: out of memory");
    for (size_t k = 0; k < n && st == TC_OK; k++) {
        /* a land whose envelope misses the buffer's cannot intersect it */
        if (k == i || !env_overlap(units[k].env, be))
            continue;
        if (!units[k].land) {
            st = tc__fail(ctx, TC_ERR_INTERNAL, "strip of %s: land of %s not loaded", u->code,
                          units[k].code);
            break;
        }
        if (!GEOSPreparedIntersects_r(h, pbuf, units[k].land))
            continue;
        GEOSGeometry *clip = GEOSClipByRect_r(h, units[k].land, be[0], be[1], be[2], be[3]);
        GEOSGeometry *part = clip ? intersect_multi(ctx, clip, buf) : NULL;
        if (clip)
            GEOSGeom_destroy_r(h, clip);
        if (!part)
            st = tc__fail(ctx, TC_ERR_GEOMETRY, "strip of %s: %s", u->code, ctx->geos_msg);
        else if (GEOSisEmpty_r(h, part))
            GEOSGeom_destroy_r(h, part);
        else
            parts[np++] = part;
    }
    if (st == TC_OK) {
        *out = np ? tc__union_take(ctx, parts, np)
                  : GEOSGeom_createEmptyCollection_r(h, GEOS_MULTIPOLYGON);
        np = 0;
        if (!*out)
            st = tc__fail(ctx, TC_ERR_GEOMETRY, "strip of %s: union failed: %s", u->code,
                          ctx->geos_msg);
        else /* read-only from here on, possibly from several threads */
            tc__geom_warm(ctx, *out);
    }
    for (size_t k = 0; k < np; k++)
        GEOSGeom_destroy_r(h, parts[k]);
    free(parts);
    if (pbuf)
        GEOSPreparedGeom_destroy_r(h, pbuf);
    GEOSGeom_destroy_r(h, buf);
    return st;
}

/* Strips of units todo[0..n) built by up to jobs threads, each with a context of its own
 * (their inputs parsed first). A failure is built again on ctx, in order, for its message,
 * so that errors are those of one thread. Lock held. */
typedef struct strip_work {
    const tc_regionset *rs;
    const size_t *todo;
    size_t n;
    GEOSGeometry **out;
    tc_status *st;
    pthread_mutex_t m;
    size_t next;
} strip_work;

static void strip_share(strip_work *w, tc_ctx *ctx)
{
    for (;;) {
        pthread_mutex_lock(&w->m);
        size_t k = w->next++;
        pthread_mutex_unlock(&w->m);
        if (k >= w->n)
            return;
        w->st[k] = build_strip(ctx, w->rs, w->todo[k], &w->out[k]);
    }
}

static void *strip_worker(void *arg)
{
    strip_work *w = arg;
    tc_ctx *ctx = NULL;
    if (tc_ctx_new(&ctx) == TC_OK)
        strip_share(w, ctx);
    tc_ctx_free(ctx); /* the geometries it made are the set's now */
    return NULL;
}

static tc_status build_strips(tc_ctx *ctx, const tc_regionset *rs, const size_t *todo,
                              size_t n, size_t jobs)
{
    tc_status st = TC_OK;
    for (size_t k = 0; k < n && st == TC_OK; k++)
        st = strip_inputs(ctx, rs, todo[k]);
    if (st != TC_OK || n == 0)
        return st;
    if (jobs > n)
        jobs = n;
    strip_work w = {rs, todo, n, calloc(n, sizeof *w.out), calloc(n, sizeof *w.st), {{0}}, 0};
    pthread_t tid[64];
    size_t started = 0;
    if (w.out && w.st && jobs > 1 && pthread_mutex_init(&w.m, NULL) == 0) {
        for (size_t t = 0; t + 1 < jobs && t < 64; t++)
            if (pthread_create(&tid[started], NULL, strip_worker, &w) == 0)
                started++;
        strip_share(&w, ctx); /* and this thread too */
        for (size_t t = 0; t < started; t++)
            pthread_join(tid[t], NULL);
        pthread_mutex_destroy(&w.m);
        tc__clear(ctx);
    } else if (!w.out || !w.st) {
        st = tc__fail(ctx, TC_ERR_NOMEM, "strip: out of memory");
    }
    for (size_t k = 0; k < n && st == TC_OK; k++) {
        tc__unit *u = &rs->units[todo[k]];
        if (!w.out[k]) /* failed, or never built: build here */
            st = build_strip(ctx, rs, todo[k], &w.out[k]);
        if (st == TC_OK) {
            u->strip = w.out[k];
            w.out[k] = NULL;
            rs->lazy->dirty = true;
        }
    }
    for (size_t k = 0; w.out && k < n; k++)
        if (w.out[k])
            GEOSGeom_destroy_r(ctx->geos, w.out[k]);
    free(w.out);
    free(w.st);
    return st;
}

/* What building computes for one unit from its geometry as drawn. */
typedef struct unit_out {
    const GEOSGeometry *from; /* the geometry it was computed from */
    double admin_m2, land_m2, env[4], strip_d;
    GEOSGeometry *land, *simple;
    double *terms; /* land's edge terms */
    size_t n_terms;
} unit_out;

static void unit_out_free_h(GEOSContextHandle_t h, unit_out *o)
{
    if (o->land)
        GEOSGeom_destroy_r(h, o->land);
    if (o->simple)
        GEOSGeom_destroy_r(h, o->simple);
    free(o->terms);
    memset(o, 0, sizeof *o);
}

static void unit_out_free(tc_ctx *ctx, unit_out *o) { unit_out_free_h(ctx->geos, o); }

/* Admin area, land (clipped by land, when not NULL, prepared as pland), land area and the
 * strip's source of one unit. On failure *o holds nothing. */
static tc_status build_unit(tc_ctx *ctx, const GEOSGeometry *admin, const char *code,
                            const GEOSGeometry *land, const GEOSPreparedGeometry *pland,
                            unit_out *o)
{
    GEOSContextHandle_t h = ctx->geos;
    memset(o, 0, sizeof *o);
    bool inland = !land || GEOSPreparedContains_r(h, pland, admin) == 1;
    tc_status st = TC_OK;
    if (inland)
        o->land = GEOSGeom_clone_r(h, admin); /* inland unit: all land */
    else
        o->land = intersect_multi(ctx, admin, land);
    if (!o->land)
        return tc__fail(ctx, TC_ERR_GEOMETRY, "clip %s to land: %s", code, ctx->geos_msg);
    /* read-only from here on, possibly from several threads: no lazy state left in GEOS */
    tc__geom_warm(ctx, o->land);
    set_env(ctx, o->land, o->env);
    /* the land's area from its edges' terms, kept for the pieces overlays cut from it (the
     * figure geod_polygonarea() gives, to the last bit) */
    st = tc__edge_terms_compute(ctx, o->land, &o->terms, &o->n_terms);
    if (st == TC_OK)
        st = tc__geom_area_terms_m2(ctx, o->land, o->terms, o->n_terms, &o->land_m2);
    if (inland) { /* the same coordinates: the same area */
        o->admin_m2 = o->land_m2;
    } else if (st == TC_OK) { /* as drawn: its borders are the land's edges, their terms known */
        tc__edge_terms *et = NULL;
        st = tc__edge_terms_new(ctx, o->land, o->terms, o->n_terms, &et);
        if (st == TC_OK)
            st = tc__geom_area_et_m2(ctx, admin, et, &o->admin_m2);
        tc__edge_terms_free(et);
    }
    if (st == TC_OK)
        st = strip_source(ctx, code, admin, &o->strip_d, &o->simple);
    if (st != TC_OK)
        unit_out_free(ctx, o);
    else
        o->from = admin;
    return st;
}

/* Building with a helper thread (opts jobs >= 2): while the reading thread parses the
 * boundary file, the helper loads the land mask, then builds each unit as soon as its
 * feature has been read (a unit of one feature keeps that feature's geometry: layer.c). A
 * unit that gets a second feature, or whose build failed, is built again afterwards on the
 * reading thread, in order, so results and errors are those of a build in one thread. */
enum { JOB_NONE, JOB_READY, JOB_TAKEN, JOB_DONE, JOB_STALE };

typedef struct job {
    const GEOSGeometry *admin; /* borrowed from the layer */
    int state;
} job;

typedef struct builder {
    pthread_mutex_t m;
    pthread_cond_t cv;
    job *jobs;
    unit_out *out; /* parallel to jobs */
    size_t n, cap;
    bool reading_done, land_done, nomem;
    const tc_regionset_opts *o;
    GEOSContextHandle_t rh; /* the reading thread's GEOS handle */
    tc_ctx *hctx;       /* the helper's context */
    tc_status land_st;  /* the helper's land mask load */
    GEOSGeometry *land; /* loaded by the helper */
} builder;

/* The next ready job, taken; -1 if none. Lock held. */
static long take_job(builder *b)
{
    for (size_t i = 0; i < b->n; i++)
        if (b->jobs[i].state == JOB_READY) {
            b->jobs[i].state = JOB_TAKEN;
            return (long)i;
        }
    return -1;
}

/* Build taken job i on ctx (pland: ctx's own preparation of the land) and file the result. */
static void run_job(builder *b, tc_ctx *ctx, const GEOSPreparedGeometry *pland, size_t i)
{
    unit_out o;
    pthread_mutex_lock(&b->m);
    const GEOSGeometry *admin = b->jobs[i].admin;
    pthread_mutex_unlock(&b->m);
    tc_status st = build_unit(ctx, admin, "unit", b->land, pland, &o);
    pthread_mutex_lock(&b->m);
    if (st == TC_OK && b->jobs[i].state == JOB_TAKEN) {
        b->out[i] = o;
        b->jobs[i].state = JOB_DONE;
    } else { /* failed (built again, in order, for its message) or made stale meanwhile */
        if (st == TC_OK)
            unit_out_free(ctx, &o);
        b->jobs[i].state = JOB_STALE;
    }
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->m);
    tc__clear(ctx);
}

static void *helper(void *arg)
{
    builder *b = arg;
    const GEOSPreparedGeometry *pland = NULL;
    tc_status st = tc_ctx_new(&b->hctx);
    if (st == TC_OK && b->o->land_path) {
        st = load_land(b->hctx, b->o->land_path, &b->o->land, &b->land);
        if (st == TC_OK) {
            tc__geom_warm(b->hctx, b->land); /* shared read-only with the reading thread */
            pland = GEOSPrepare_r(b->hctx->geos, b->land);
        }
    }
    pthread_mutex_lock(&b->m);
    b->land_st = st;
    b->land_done = true;
    pthread_cond_broadcast(&b->cv);
    while (st == TC_OK && (!b->o->land_path || pland)) {
        long i;
        while ((i = take_job(b)) < 0 && !b->reading_done)
            pthread_cond_wait(&b->cv, &b->m);
        if (i < 0)
            break;
        pthread_mutex_unlock(&b->m);
        run_job(b, b->hctx, pland, (size_t)i);
        pthread_mutex_lock(&b->m);
    }
    pthread_mutex_unlock(&b->m);
    if (pland)
        GEOSPreparedGeom_destroy_r(b->hctx->geos, pland);
    return NULL;
}

/* tc__layer_watch: a feature has joined region i (reading thread). */
static void watch_feature(void *user, size_t i, size_t n_features, const GEOSGeometry *part)
{
    builder *b = user;
    pthread_mutex_lock(&b->m);
    if (i == (size_t)-1) { /* reading ended; on failure no part may be read any more */
        b->reading_done = true;
        for (size_t k = 0; !n_features && k < b->n; k++)
            if (b->jobs[k].state == JOB_READY)
                b->jobs[k].state = JOB_STALE;
        for (size_t k = 0; !n_features && k < b->n; k++)
            while (b->jobs[k].state == JOB_TAKEN)
                pthread_cond_wait(&b->cv, &b->m);
        pthread_cond_broadcast(&b->cv);
        pthread_mutex_unlock(&b->m);
        return;
    }
    if (i >= b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 32;
        while (cap <= i)
            cap *= 2;
        job *j = realloc(b->jobs, cap * sizeof *j);
        if (j)
            b->jobs = j;
        unit_out *o = j ? realloc(b->out, cap * sizeof *o) : NULL;
        if (o)
            b->out = o;
        if (!j || !o) { /* no more speculation: everything is built afterwards */
            b->nomem = true;
            pthread_mutex_unlock(&b->m);
            return;
        }
        memset(b->jobs + b->cap, 0, (cap - b->cap) * sizeof *b->jobs);
        memset(b->out + b->cap, 0, (cap - b->cap) * sizeof *b->out);
        b->cap = cap;
    }
    if (i >= b->n)
        b->n = i + 1;
    /* a MultiPolygon part stays the region's geometry as it is (layer.c) */
    if (n_features == 1 && !b->nomem && GEOSGeomTypeId_r(b->rh, part) == GEOS_MULTIPOLYGON) {
        b->jobs[i].admin = part;
        b->jobs[i].state = JOB_READY;
        pthread_cond_broadcast(&b->cv);
    } else if (n_features > 1) { /* its parts are about to be merged: wait for the helper */
        while (b->jobs[i].state == JOB_TAKEN)
            pthread_cond_wait(&b->cv, &b->m);
        if (b->jobs[i].state == JOB_DONE)
            unit_out_free_h(b->rh, &b->out[i]);
        b->jobs[i].state = JOB_STALE;
    }
    pthread_mutex_unlock(&b->m);
}

static tc_status build(tc_ctx *ctx, tc_regionset *rs, const char *path,
                       const tc_regionset_opts *o, size_t jobs)
{
    GEOSContextHandle_t h = ctx->geos;
    tc_layer *layer = NULL;
    builder b;
    memset(&b, 0, sizeof b);
    b.o = o;
    b.rh = h;
    pthread_t tid;
    bool threaded = jobs > 1 && pthread_mutex_init(&b.m, NULL) == 0;
    if (threaded && pthread_cond_init(&b.cv, NULL) != 0) {
        pthread_mutex_destroy(&b.m);
        threaded = false;
    }
    if (threaded && pthread_create(&tid, NULL, helper, &b) != 0) {
        pthread_cond_destroy(&b.cv);
        pthread_mutex_destroy(&b.m);
        threaded = false;
    }
    tc_status st = tc__layer_open_watch(ctx, path, &o->regions, threaded ? watch_feature : NULL,
                                        &b, &layer);
    const GEOSPreparedGeometry *pland = NULL;
    if (threaded) {
        pthread_mutex_lock(&b.m);
        while (!b.land_done)
            pthread_cond_wait(&b.cv, &b.m);
        pthread_mutex_unlock(&b.m);
        if (!b.hctx) { /* the helper could not start: everything here, in order */
            threaded = false;
            pthread_join(tid, NULL);
            pthread_cond_destroy(&b.cv);
            pthread_mutex_destroy(&b.m);
        } else if (st == TC_OK && b.land_st != TC_OK) { /* as if loaded after the layer */
            st = tc__fail(ctx, b.land_st, "%s", tc_ctx_errmsg(b.hctx));
        }
    }
    if (threaded) {
        for (size_t i = 0; st == TC_OK && b.hctx && i < tc_ctx_warning_count(b.hctx); i++)
            tc__warn(ctx, "%s", tc_ctx_get_warning(b.hctx, i));
        if (st == TC_OK && b.land && !(pland = GEOSPrepare_r(h, b.land)))
            st = tc__fail(ctx, TC_ERR_GEOMETRY, "land mask: %s", ctx->geos_msg);
        for (long i; st == TC_OK;) { /* share the rest with the helper */
            pthread_mutex_lock(&b.m);
            i = take_job(&b);
            pthread_mutex_unlock(&b.m);
            if (i < 0)
                break;
            run_job(&b, ctx, pland, (size_t)i);
        }
        if (st != TC_OK) { /* nothing more for the helper */
            pthread_mutex_lock(&b.m);
            for (size_t k = 0; k < b.n; k++)
                if (b.jobs[k].state == JOB_READY)
                    b.jobs[k].state = JOB_STALE;
            pthread_mutex_unlock(&b.m);
        }
        pthread_join(tid, NULL);
    } else if (st == TC_OK && o->land_path) {
        st = load_land(ctx, o->land_path, &o->land, &b.land);
        if (st == TC_OK && !(pland = GEOSPrepare_r(h, b.land)))
            st = tc__fail(ctx, TC_ERR_GEOMETRY, "land mask: %s", ctx->geos_msg);
    }
    if (st == TC_OK) {
        rs->n = layer->n;
        rs->units = calloc(rs->n ? rs->n : 1, sizeof *rs->units);
        if (!rs->units)
            st = tc__fail(ctx, TC_ERR_NOMEM, "regionset: out of memory");
    }
    for (size_t i = 0; i < rs->n && st == TC_OK; i++) {
        const struct tc_region *r = &layer->regions[i];
        tc__unit *u = &rs->units[i];
        u->code = tc__strdup(r->code);
        u->name = tc__strdup(r->name);
        if (!u->code || !u->name) {
            st = tc__fail(ctx, TC_ERR_NOMEM, "regionset: out of memory");
            break;
        }
        unit_out uo;
        if (i < b.n && b.jobs[i].state == JOB_DONE && b.out[i].from == r->geom) {
            uo = b.out[i]; /* built by the helper from this very geometry */
            memset(&b.out[i], 0, sizeof b.out[i]);
        } else if ((st = build_unit(ctx, r->geom, r->code, b.land, pland, &uo)) != TC_OK) {
            break;
        }
        u->admin_m2 = uo.admin_m2;
        u->land_m2 = uo.land_m2;
        u->land = uo.land;
        u->terms = uo.terms;
        u->n_terms = uo.n_terms;
        u->simple = uo.simple;
        u->strip_d = uo.strip_d;
        memcpy(u->env, uo.env, sizeof u->env);
    }
    for (size_t i = 0; i < b.n; i++)
        unit_out_free(ctx, &b.out[i]);
    free(b.jobs);
    free(b.out);
    if (threaded) {
        pthread_cond_destroy(&b.cv);
        pthread_mutex_destroy(&b.m);
        tc_ctx_free(b.hctx);
    }
    if (pland)
        GEOSPreparedGeom_destroy_r(h, pland);
    if (b.land)
        GEOSGeom_destroy_r(h, b.land);
    tc_layer_free(layer);
    return st;
}

/* ---------------------------------------------------------------- cache */

static bool is_regular_file(const char *path)
{
    struct stat sb;
    return path && stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* One field of a key: its label, then its value, each length-prefixed (a NULL value has
 * its own mark), so that no two sets of values give the same bytes, whatever they hold. */
static void key_add(tc__wbuf *b, const char *label, const char *v)
{
    tc__put_str(b, label);
    tc__put_u32(b, v ? 1u : 0u);
    if (v)
        tc__put_str(b, v);
}

/* The cache key: everything a prepared set is made of; content[0], content[1]: the
 * boundary and land sources' checksums, of the file, or of the content read from a source
 * that is not a file (tc__source_digest()). false when out of memory. */
static bool cache_key(const tc_regionset *rs, const tc_regionset_opts *o,
                      const char content[2][65], char hex[65])
{
    tc__wbuf b = {NULL, 0, 0, false};
    char num[64];
    snprintf(num, sizeof num, "%u", CACHE_FORMAT);
    key_add(&b, "format", num);
    key_add(&b, "library", TC_VERSION_STRING);
    key_add(&b, "engines", tc_engine_versions());
    key_add(&b, "words", /* the file is in native byte order */
            __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? "64-bit little-endian" : "64-bit big-endian");
    key_add(&b, rs->sha[0][0] ? "regions_sha256" : "regions_content", content[0]);
    key_add(&b, "regions_layer", o->regions.layer_name);
    key_add(&b, "code_field", o->regions.code_field);
    key_add(&b, "name_field", o->regions.name_field);
    key_add(&b, "regions_where", o->regions.where);
    key_add(&b, !o->land_path ? "land_sha256" : rs->sha[1][0] ? "land_sha256" : "land_content",
            o->land_path ? content[1] : "none");
    key_add(&b, "land_layer", o->land.layer_name);
    key_add(&b, "land_where", o->land.where);
    snprintf(num, sizeof num, "%.17g", TC__STRIP_M);
    key_add(&b, "strip_m", num);
    bool ok = !b.nomem;
    if (ok)
        tc__sha256_hex(b.p, b.n, hex);
    free(b.p);
    return ok;
}

/* Write the cache file from what the set holds: every entry already in the file read at
 * open is copied as it stands, every geometry built since is encoded. Lock held.
 * File layout (native byte order; the key covers the library and format version):
 *   magic, u32 format, char key[64], u32 n, u32 has_land,
 *   n x (str code, str name, f64 admin_m2, f64 land_m2, f64 env[4], f64 strip_d,
 *        4 x (u64 offset, u64 length): land, the land's edge terms (one f64 per vertex,
 *        tc__edge_terms_compute()), simple, strip; length 0: absent),
 *   u32 warnings, str each, u64 blob length, zero bytes up to a multiple of 8, blob (the
 *   geometry entries, each at a multiple of 8: tc__geom_encode()), magic,
 *   XXH3-128 of everything before it (tc__cache_write_file()). */
static void cache_write(tc_ctx *ctx, const tc_regionset *rs)
{
    tc__lazy *z = rs->lazy;
    if (!tc__mkdir_p(z->cache_dir)) {
        tc__warn(ctx, "cache '%s' not written: %s", z->cache_dir, strerror(errno));
        z->dirty = false;
        return;
    }
    tc__wbuf blob = {NULL, 0, 0, false}, b = {NULL, 0, 0, false};
    uint64_t (*ent)[2] = calloc(rs->n ? N_SLOTS * rs->n : 1, sizeof *ent);
    if (!ent)
        blob.nomem = true;
    for (size_t i = 0; i < rs->n && !blob.nomem; i++) {
        const tc__unit *u = &rs->units[i];
        const GEOSGeometry *g[N_SLOTS] = {u->land, NULL, u->simple, u->strip};
        for (int s = 0; s < N_SLOTS; s++) {
            uint64_t *e = ent[N_SLOTS * i + (size_t)s];
            e[0] = blob.n;
            if (z->blob && u->len[s]) {
                tc__put(&blob, z->blob + u->off[s], u->len[s]);
            } else if (s == SLOT_TERMS) {
                if (u->terms)
                    tc__put(&blob, u->terms, u->n_terms * sizeof *u->terms);
            } else if (s != SLOT_TERMS && g[s] && !tc__geom_encode(ctx->geos, &blob, g[s])) {
                blob.nomem = true; /* another type: not stored at all */
                break;
            }
            e[1] = blob.n - e[0];
        }
    }
    tc__put_header(&b, CACHE_MAGIC, CACHE_FORMAT, z->key);
    tc__put_u32(&b, (uint32_t)rs->n);
    tc__put_u32(&b, rs->has_land ? 1u : 0u);
    for (size_t i = 0; i < rs->n && !blob.nomem; i++) {
        const tc__unit *u = &rs->units[i];
        tc__put_str(&b, u->code);
        tc__put_str(&b, u->name);
        tc__put_f64(&b, u->admin_m2);
        tc__put_f64(&b, u->land_m2);
        for (int k = 0; k < 4; k++)
            tc__put_f64(&b, u->env[k]);
        tc__put_f64(&b, u->strip_d);
        for (int s = 0; s < N_SLOTS; s++) {
            tc__put_u64(&b, ent[N_SLOTS * i + (size_t)s][0]);
            tc__put_u64(&b, ent[N_SLOTS * i + (size_t)s][1]);
        }
    }
    tc__put_u32(&b, (uint32_t)z->n_warn);
    for (size_t i = 0; i < z->n_warn; i++)
        tc__put_str(&b, z->warn[i]);
    tc__put_u64(&b, blob.n);
    tc__put(&b, "\0\0\0\0\0\0\0", (8 - b.n % 8) % 8); /* entries at multiples of 8 */
    size_t blob_at = b.n;
    if (!blob.nomem)
        tc__put(&b, blob.p, blob.n);
    free(blob.p);
    tc__put(&b, CACHE_MAGIC, strlen(CACHE_MAGIC)); /* trailer: detects truncation */
    if (b.nomem || blob.nomem) {
        free(b.p);
        free(ent);
        return;
    }
    /* (and a digest of everything before it: any other damage) */
    if (!tc__cache_write_file(z->cache_file, &b)) { /* not tried again until something new
                                                       is built */
        tc__warn(ctx, "cache '%s' not written: %s", z->cache_file, strerror(errno));
        free(b.p);
        free(ent);
        z->dirty = false;
        return;
    }
    /* the file written is the set's cache file now: later writes copy its entries */
    z->dirty = false;
    release_file(z);
    z->file = b.p;
    z->blob = b.p + blob_at;
    z->blob_n = blob.n;
    for (size_t i = 0; i < rs->n; i++)
        for (int s = 0; s < N_SLOTS; s++) {
            rs->units[i].off[s] = (size_t)ent[N_SLOTS * i + (size_t)s][0];
            rs->units[i].len[s] = (size_t)ent[N_SLOTS * i + (size_t)s][1];
        }
    free(ent);
}

/* Read a cache file; false (and nothing kept) when absent, foreign or damaged. The whole
 * file is checked against its SHA-256 here; the geometries stay raw bytes until asked for. */
static bool cache_read(tc_ctx *ctx, tc_regionset *rs, const char *file, const char *key)
{
    size_t n = 0;
    bool damaged = false;
    unsigned char *data = tc__cache_read_file(file, &n, &damaged);
    if (damaged)
        tc__warn(ctx, "cache '%s' is damaged (checksum mismatch); rebuilt", file);
    if (!data)
        return false;
    tc__rbuf r = {data, n, 0, false};
    const size_t ml = strlen(CACHE_MAGIC); /* (the trailer repeats it) */
    bool ok = tc__get_header(&r, CACHE_MAGIC, CACHE_FORMAT, key);
    uint32_t nu = ok ? tc__get_u32(&r) : 0;
    ok = ok && nu > 0 && nu < 100000;
    tc__unit *units = ok ? calloc(nu, sizeof *units) : NULL;
    ok = ok && units;
    bool has_land = ok && tc__get_u32(&r) == 1u;
    for (uint32_t i = 0; ok && i < nu; i++) {
        tc__unit *u = &units[i];
        u->code = tc__get_str(&r);
        u->name = tc__get_str(&r);
        u->admin_m2 = tc__get_f64(&r);
        u->land_m2 = tc__get_f64(&r);
        for (int e = 0; e < 4; e++)
            u->env[e] = tc__get_f64(&r);
        u->strip_d = tc__get_f64(&r);
        for (int s = 0; s < N_SLOTS; s++) {
            u->off[s] = (size_t)tc__get_u64(&r);
            u->len[s] = (size_t)tc__get_u64(&r);
        }
        ok = !r.bad && u->code && u->name && u->len[SLOT_LAND] && u->len[SLOT_SIMPLE] &&
             isfinite(u->admin_m2) && isfinite(u->land_m2) && u->strip_d > 0 &&
             isfinite(u->strip_d) && isfinite(u->env[0] + u->env[1] + u->env[2] + u->env[3]);
    }
    uint32_t nw = ok ? tc__get_u32(&r) : 0;
    ok = ok && nw < 100000; /* checked before anything is allocated for them */
    char **warn = ok ? calloc(nw ? nw : 1, sizeof *warn) : NULL;
    ok = ok && warn;
    if (!warn)
        nw = 0; /* nothing to free below */
    for (uint32_t i = 0; ok && i < nw; i++)
        ok = (warn[i] = tc__get_str(&r)) != NULL;
    uint64_t blob_n = ok ? tc__get_u64(&r) : 0;
    tc__take(&r, (8 - r.pos % 8) % 8);
    const unsigned char *blob = ok ? tc__take(&r, (size_t)blob_n) : NULL;
    ok = ok && blob;
    for (uint32_t i = 0; ok && i < nu; i++) /* so that a later parse cannot fail */
        for (int s = 0; s < N_SLOTS; s++)
            ok = ok && units[i].off[s] <= blob_n && units[i].len[s] <= blob_n - units[i].off[s] &&
                 (!units[i].len[s] ||
                  (s == SLOT_TERMS ? units[i].len[s] % 8 == 0 && units[i].off[s] % 8 == 0
                                   : tc__geom_decode(NULL, blob + units[i].off[s],
                                                     units[i].len[s]) != NULL));
    const void *trailer = ok ? tc__take(&r, ml) : NULL;
    ok = ok && trailer && memcmp(trailer, CACHE_MAGIC, ml) == 0 && r.pos == r.n;
    if (ok) {
        rs->units = units;
        rs->n = nu;
        rs->has_land = has_land;
        rs->lazy->file = data;
        rs->lazy->file_n = n;
        rs->lazy->blob = blob;
        rs->lazy->blob_n = (size_t)blob_n;
        rs->lazy->warn = warn;
        rs->lazy->n_warn = nw;
        for (uint32_t i = 0; i < nw; i++)
            tc__warn(ctx, "%s", warn[i]);
        return true;
    }
    free_units(ctx, units, nu);
    if (warn)
        for (uint32_t i = 0; i < nw; i++)
            free(warn[i]);
    free(warn);
    tc__cache_release(data, n);
    return false;
}

/* Keep the build's warnings (from first on) for the cache file. */
static tc_status keep_warnings(tc_ctx *ctx, tc__lazy *z, size_t first)
{
    size_t nw = tc_ctx_warning_count(ctx) > first ? tc_ctx_warning_count(ctx) - first : 0;
    z->warn = calloc(nw ? nw : 1, sizeof *z->warn);
    if (!z->warn)
        return tc__fail(ctx, TC_ERR_NOMEM, "regionset: out of memory");
    for (size_t i = 0; i < nw; i++) {
        if (!(z->warn[i] = tc__strdup(tc_ctx_get_warning(ctx, first + i))))
            return tc__fail(ctx, TC_ERR_NOMEM, "regionset: out of memory");
        z->n_warn++;
    }
    return TC_OK;
}

/* ---------------------------------------------------------------- preparation */

static size_t resolve_jobs(unsigned jobs)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    return jobs ? jobs : (size_t)(cpus > 0 ? cpus : 1);
}

/* Parse the cached strips of todo[], build the others (several threads), rewrite the cache
 * when something was built. Lock held. */
static tc_status finish_strips(tc_ctx *ctx, const tc_regionset *rs, size_t *todo, size_t n,
                               size_t jobs)
{
    tc_status st = TC_OK;
    size_t nb = 0;
    for (size_t k = 0; k < n && st == TC_OK; k++) {
        tc__unit *u = &rs->units[todo[k]];
        if (u->strip)
            continue;
        if (u->len[SLOT_STRIP])
            st = need_slot(ctx, rs, u, SLOT_STRIP);
        else
            todo[nb++] = todo[k]; /* in order: nb <= k */
    }
    if (st == TC_OK)
        st = build_strips(ctx, rs, todo, nb, jobs);
    if (st == TC_OK && rs->lazy->dirty && rs->lazy->cache_file)
        cache_write(ctx, rs);
    return st;
}

tc_status tc__regionset_prepare(tc_ctx *ctx, const tc_regionset *rs, const tc_snapshot *snap,
                                const tc_report_opts *o, const bool *classified,
                                tc__unit **view)
{
    GEOSContextHandle_t h = ctx->geos;
    *view = calloc(rs->n ? rs->n : 1, sizeof **view);
    bool *touched = calloc(rs->n ? rs->n : 1, sizeof *touched);
    size_t *todo = calloc(rs->n ? rs->n : 1, sizeof *todo), n_todo = 0;
    if (!*view || !touched || !todo) {
        free(*view);
        free(touched);
        free(todo);
        *view = NULL;
        return tc__fail(ctx, TC_ERR_NOMEM, "report: out of memory");
    }
    const bool all = o->equal_area_check; /* it measures every unit's land */
    double se[4];
    set_env(ctx, snap->geom, se);
    const GEOSPreparedGeometry *psnap = NULL;
    tc_status st = TC_OK;
    pthread_mutex_lock(&rs->lazy->lock);
    for (size_t i = 0; i < rs->n && st == TC_OK; i++) {
        tc__unit *u = &rs->units[i];
        if (u->land && (u->strip || !classified[i])) { /* the report decides for itself */
            touched[i] = true;
            if (classified[i])
                st = need_land_terms(ctx, rs, u);
            continue;
        }
        /* a land whose envelope misses the snapshot's is not touched: left unparsed */
        bool empty = env_empty(u->env), near = env_overlap(u->env, se);
        if (all || empty || near)
            st = need_slot(ctx, rs, u, SLOT_LAND);
        if (st == TC_OK && near && !classified[i]) {
            touched[i] = true; /* the report tests it, in parallel (as if prepared before) */
        } else if (st == TC_OK && near) {
            if (!psnap && !(psnap = GEOSPrepare_r(h, snap->geom)))
                st = tc__fail(ctx, TC_ERR_GEOMETRY, "report: cannot prepare the snapshot: %s",
                              ctx->geos_msg);
            else
                touched[i] = GEOSPreparedIntersects_r(h, psnap, u->land) == 1;
        }
        if (st == TC_OK && touched[i] && classified[i])
            st = need_land_terms(ctx, rs, u);
        if (touched[i] && classified[i])
            todo[n_todo++] = i;
        else if (empty) /* the report sees an empty land as it is */
            touched[i] = true;
    }
    if (st == TC_OK)
        st = finish_strips(ctx, rs, todo, n_todo, resolve_jobs(o->jobs));
    for (size_t i = 0; i < rs->n && st == TC_OK; i++) {
        (*view)[i] = rs->units[i];
        if (!touched[i] && !all)
            (*view)[i].land = NULL; /* only its areas are needed */
    }
    pthread_mutex_unlock(&rs->lazy->lock);
    if (psnap)
        GEOSPreparedGeom_destroy_r(h, psnap);
    free(touched);
    free(todo);
    if (st != TC_OK) {
        free(*view);
        *view = NULL;
    }
    return st;
}

/* ---------------------------------------------------------------- results */

const char *tc__regionset_cache_key(const tc_regionset *rs)
{
    return rs && rs->lazy && rs->lazy->cache_dir ? rs->lazy->key : NULL;
}

#define RESULT_MAGIC "TCLAIMS-RESULT\n"
#define RESULT_FORMAT 1u

static char *result_path(const tc_regionset *rs, const char *hex, bool dir_only)
{
    size_t n = strlen(rs->lazy->cache_dir) + 96;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, dir_only ? "%s/results" : "%s/results/%.64s.bin", rs->lazy->cache_dir,
                 hex);
    return p;
}

/* Stored unit results and series rows are removed once unused for this long (a read
 * refreshes the file's time at most once a day)... */
#define RESULT_MAX_AGE_S (30L * 24 * 3600)
/* ... by a pass over the directory at most this often (its stamp file's time). */
#define RESULT_PRUNE_EVERY_S (24L * 3600)

static bool is_result_name(const char *name)
{
    if (strlen(name) != 68 || strcmp(name + 64, ".bin") != 0)
        return false;
    for (int i = 0; i < 64; i++)
        if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
            return false;
    return true;
}

/* At most once a day (the time of results/.pruned says when it was last done), remove the
 * stored entries (unit results, series rows) unused for 30 days (the file's time: written,
 * or refreshed by a read at most once a day), and temporary files a writer left
 * more than a day ago: a daily report adds about ten entries a day, keyed by snapshots
 * few ask for again. An entry removed is only computed again if asked for. Names that are
 * not <64 hex digits>.bin or a temporary one of those, and anything but regular files,
 * are left alone. Failures are ignored: this only saves space. */
static void prune_results(const char *cache_dir)
{
    size_t n = strlen(cache_dir) + 32;
    char *dir = malloc(n), *stamp = malloc(n);
    struct stat sb;
    time_t now = time(NULL);
    if (!dir || !stamp)
        goto done;
    snprintf(dir, n, "%s/results", cache_dir);
    snprintf(stamp, n, "%s/results/.pruned", cache_dir);
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        goto done; /* nothing stored yet */
    /* (a stamp from the future, by more than the few seconds a fine-grained file time can
     * lead time()'s coarse clock, would block pruning for good: not trusted) */
    if (stat(stamp, &sb) == 0 && sb.st_mtime <= now + 5 && now - sb.st_mtime < RESULT_PRUNE_EVERY_S)
        goto done;
    FILE *f = fopen(stamp, "w"); /* first, so that processes started meanwhile skip it */
    if (f)
        fclose(f);
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        const char *tmp = strstr(e->d_name, ".bin.tmp.");
        bool result = is_result_name(e->d_name);
        bool leftover = tmp && tmp - e->d_name == 64;
        if ((!result && !leftover) || fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISREG(sb.st_mode))
            continue;
        if (now - sb.st_mtime > (result ? RESULT_MAX_AGE_S : RESULT_PRUNE_EVERY_S))
            (void)unlinkat(dirfd(d), e->d_name, 0);
    }
    if (d)
        closedir(d);
done:
    free(dir);
    free(stamp);
}

const unsigned char *tc__regionset_stored_get(const tc_regionset *rs, const char hex[65],
                                              const char *magic, uint32_t format, tc__rbuf *r)
{
    if (!tc__regionset_cache_key(rs))
        return NULL;
    char *path = result_path(rs, hex, false);
    size_t n = 0;
    bool damaged = false;
    unsigned char *d = path ? tc__cache_read_file(path, &n, &damaged) : NULL;
    *r = (tc__rbuf){d, n, 0, false};
    if (d && !tc__get_header(r, magic, format, hex)) {
        tc__cache_release(d, n);
        d = NULL;
    }
    /* used: its time says so, at most once a day, so that pruning removes only entries
     * unused for RESULT_MAX_AGE_S (failures ignored: it is then only computed again) */
    struct stat sb;
    time_t now = time(NULL);
    if (d && stat(path, &sb) == 0 && now - sb.st_mtime > RESULT_PRUNE_EVERY_S)
        (void)utimensat(AT_FDCWD, path, NULL, 0);
    free(path);
    return d; /* NULL: absent or damaged: computed (and written) again */
}

bool tc__regionset_stored_put(const tc_regionset *rs, const char hex[65], const tc__wbuf *b)
{
    if (!tc__regionset_cache_key(rs) || b->nomem)
        return false;
    char *dir = result_path(rs, hex, true), *path = result_path(rs, hex, false);
    bool ok = dir && path && tc__mkdir_p(dir) && tc__cache_write_file(path, b);
    free(dir);
    free(path);
    return ok;
}

void tc__put_areas(tc__wbuf *b, const tc_areas *a)
{
    const double f[] = {a->admin_m2,  a->land_m2,     a->controlled_m2, a->gap_m2,
                        a->sliver_m2, a->enclosed_m2, a->closure_rel,   a->front_m};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        tc__put_f64(b, f[i]);
    tc__put_u64(b, a->n_gap);
    tc__put_u64(b, a->n_sliver);
    tc__put_u64(b, a->n_enclosed);
    tc__put_u32(b, a->classified ? 1u : 0u);
}

bool tc__get_areas(tc__rbuf *r, tc_areas *a)
{
    tc_areas x;
    memset(&x, 0, sizeof x);
    double *f[] = {&x.admin_m2,    &x.land_m2,     &x.controlled_m2, &x.gap_m2,
                   &x.sliver_m2,   &x.enclosed_m2, &x.closure_rel,   &x.front_m};
    bool ok = true;
    for (size_t i = 0; ok && i < sizeof f / sizeof f[0]; i++)
        ok = isfinite(*f[i] = tc__get_f64(r));
    size_t *c[] = {&x.n_gap, &x.n_sliver, &x.n_enclosed};
    for (size_t i = 0; ok && i < sizeof c / sizeof c[0]; i++)
        *c[i] = (size_t)tc__get_u64(r);
    uint32_t cl = tc__get_u32(r);
    x.classified = cl == 1u;
    ok = ok && cl <= 1u && !r->bad;
    if (ok)
        memcpy(a, &x, sizeof x); /* with its zeroed padding */
    return ok;
}

bool tc__regionset_result_get(const tc_regionset *rs, const char hex[65], tc_areas *a)
{
    tc__rbuf r;
    const unsigned char *d = tc__regionset_stored_get(rs, hex, RESULT_MAGIC, RESULT_FORMAT, &r);
    if (!d)
        return false;
    tc_areas x;
    bool ok = tc__get_areas(&r, &x) && r.pos == r.n;
    tc__cache_release(d, r.n);
    if (ok)
        *a = x;
    return ok;
}

void tc__regionset_result_put(const tc_regionset *rs, const char hex[65], const tc_areas *a)
{
    if (!tc__regionset_cache_key(rs))
        return;
    tc__wbuf b = {NULL, 0, 0, false};
    tc__put_header(&b, RESULT_MAGIC, RESULT_FORMAT, hex);
    tc__put_areas(&b, a);
    /* a result not written is only one not reused: no warning */
    (void)tc__regionset_stored_put(rs, hex, &b);
    free(b.p);
}

/* ---------------------------------------------------------------- tiles */

/* Cached tiles of unit i: a file beside the set's cache file, keyed by the set's key (its
 * inputs, parameters, library and format), the unit and the tiles' own version. */
static void tiles_key(const tc_regionset *rs, size_t i, char hex[65])
{
    char buf[512];
    int n = snprintf(buf, sizeof buf, "regionset=%s\nunit=%zu\ncode=%s\ntile_deg=%.17g\n"
                                      "tiles_format=%d\n",
                     rs->lazy->key, i, rs->units[i].code, TC__TILE_DEG, TC__TILES_FORMAT);
    tc__sha256_hex(buf, n > 0 && (size_t)n < sizeof buf ? (size_t)n : 0, hex);
}

tc_status tc__regionset_tiles(tc_ctx *ctx, const tc_regionset *rs, size_t i, tc__tiles **out)
{
    const tc__unit *u = &rs->units[i];
    const char *file = rs->lazy->cache_file; /* set at open, never changed */
    char *path = NULL, key[65];
    if (file && (path = malloc(strlen(file) + 32)) != NULL) {
        sprintf(path, "%s.tiles-%zu", file, i);
        tiles_key(rs, i, key);
        size_t n = 0;
        bool damaged = false;
        unsigned char *data = tc__cache_read_file(path, &n, &damaged);
        tc_status st = data ? tc__tiles_decode(ctx, data, n, key, out) : TC_ERR_IO;
        tc__cache_release(data, n);
        if (st == TC_OK) {
            free(path);
            return TC_OK;
        }
        tc__clear(ctx); /* absent, stale or damaged: cut again, and rewrite */
    }
    tc_status st = tc__tiles_new(ctx, u->land, u->strip, out);
    if (st == TC_OK && path) {
        tc__wbuf b = {NULL, 0, 0, false};
        if (tc__tiles_encode(ctx, *out, key, &b))
            (void)tc__cache_write_file(path, &b);
        free(b.p);
    }
    free(path);
    return st;
}

/* ---------------------------------------------------------------- public */

tc_status tc_regionset_open(tc_ctx *ctx, const char *path, const tc_regionset_opts *opts,
                            tc_regionset **out)
{
    if (!ctx)
        return TC_ERR_INVALID_ARG;
    tc__clear(ctx);
    if (!path || !out)
        return tc__fail(ctx, TC_ERR_INVALID_ARG, "regionset open: NULL %s",
                        path ? "out" : "path");
    tc_regionset_opts defaults = TC_REGIONSET_OPTS_INIT;
    const tc_regionset_opts *o = opts ? opts : &defaults;
    /* version 1 (0.1) had no jobs: one thread */
    if ((o->version != TC_REGIONSET_OPTS_VERSION && o->version != 1) ||
        o->regions.version != TC_OPEN_OPTS_VERSION || o->land.version != TC_OPEN_OPTS_VERSION)
        return tc__fail(ctx, TC_ERR_INVALID_ARG, "regionset open: options not initialised with "
                                                 "TC_REGIONSET_OPTS_INIT");
    size_t jobs = o->version < 2 ? 1 : resolve_jobs(o->jobs);
    size_t first_warning = tc_ctx_warning_count(ctx);
    tc_regionset *rs = calloc(1, sizeof *rs);
    tc__lazy *z = rs ? calloc(1, sizeof *z) : NULL;
    if (!z || pthread_mutex_init(&z->lock, NULL) != 0) {
        free(z);
        free(rs);
        return tc__fail(ctx, TC_ERR_NOMEM, "regionset open: out of memory");
    }
    rs->ctx = ctx;
    rs->lazy = z;
    rs->has_land = o->land_path != NULL;
    tc_status st = TC_OK;
    /* each input that is a file gets its checksum (provenance, and the cache key); with a
     * cache, an input that is not a file (a database table) is keyed by its content as
     * read (every feature, field and coordinate: tc__source_digest()), read once more
     * when the set is built */
    bool regions_file = is_regular_file(path);
    bool land_file = o->land_path && is_regular_file(o->land_path);
    char content[2][65] = {"", ""};
    bool keyed = o->cache_dir != NULL;
    if (regions_file)
        st = tc__sha256_file(ctx, path, rs->sha[0]);
    if (st == TC_OK && land_file)
        st = tc__sha256_file(ctx, o->land_path, rs->sha[1]);
    if (st == TC_OK && keyed) {
        if (regions_file)
            memcpy(content[0], rs->sha[0], 65);
        else if (tc__source_digest(ctx, path, &o->regions, content[0]) != TC_OK)
            keyed = false; /* not read: the build says why (in its own words) */
        if (land_file)
            memcpy(content[1], rs->sha[1], 65);
        else if (keyed && o->land_path &&
                 tc__source_digest(ctx, o->land_path, &o->land, content[1]) != TC_OK)
            keyed = false;
        if (!keyed)
            tc__clear(ctx);
    }
    keyed = keyed && st == TC_OK;
    if (keyed && !cache_key(rs, o, (const char(*)[65])content, z->key))
        st = tc__fail(ctx, TC_ERR_NOMEM, "regionset open: out of memory");
    if (st == TC_OK && keyed) {
        char file[4200];
        snprintf(file, sizeof file, "%s/regionset-%s.bin", o->cache_dir, z->key);
        if (!(z->cache_file = tc__strdup(file)) || !(z->cache_dir = tc__strdup(o->cache_dir)))
            st = tc__fail(ctx, TC_ERR_NOMEM, "regionset open: out of memory");
        else
            rs->from_cache = cache_read(ctx, rs, file, z->key);
    }
    if (st == TC_OK && !rs->from_cache) {
        st = build(ctx, rs, path, o, jobs);
        if (st == TC_OK)
            st = keep_warnings(ctx, z, first_warning);
        if (st == TC_OK && z->cache_file)
            cache_write(ctx, rs);
    }
    if (st != TC_OK) {
        tc_regionset_free(rs);
        return st;
    }
    if (z->cache_dir)
        prune_results(z->cache_dir);
    *out = rs;
    return TC_OK;
}

tc_status tc_regionset_prepare(tc_ctx *ctx, const tc_regionset *rs, const size_t *units,
                               size_t n, unsigned jobs)
{
    if (!ctx)
        return TC_ERR_INVALID_ARG;
    tc__clear(ctx);
    if (!rs)
        return tc__fail(ctx, TC_ERR_INVALID_ARG, "prepare: NULL region set");
    for (size_t k = 0; units && k < n; k++)
        if (units[k] >= rs->n)
            return tc__fail(ctx, TC_ERR_INVALID_ARG, "prepare: unit index %zu out of range "
                                                     "(the set has %zu)",
                            units[k], rs->n);
    size_t *todo = calloc(rs->n ? rs->n : 1, sizeof *todo), m = 0;
    bool *seen = calloc(rs->n ? rs->n : 1, sizeof *seen);
    if (!todo || !seen) {
        free(todo);
        free(seen);
        return tc__fail(ctx, TC_ERR_NOMEM, "regionset: out of memory");
    }
    for (size_t k = 0; k < (units ? n : rs->n); k++) { /* each unit once */
        size_t i = units ? units[k] : k;
        if (!seen[i])
            seen[i] = true, todo[m++] = i;
    }
    tc_status st = TC_OK;
    pthread_mutex_lock(&rs->lazy->lock);
    for (size_t k = 0; k < m && st == TC_OK; k++)
        st = need_land_terms(ctx, rs, &rs->units[todo[k]]);
    if (st == TC_OK)
        st = finish_strips(ctx, rs, todo, m, resolve_jobs(jobs));
    pthread_mutex_unlock(&rs->lazy->lock);
    free(seen);
    free(todo);
    return st;
}

size_t tc_regionset_count(const tc_regionset *rs) { return rs ? rs->n : 0; }

const char *tc_regionset_get_code(const tc_regionset *rs, size_t i)
{
    return (rs && i < rs->n) ? rs->units[i].code : NULL;
}

const char *tc_regionset_get_name(const tc_regionset *rs, size_t i)
{
    return (rs && i < rs->n) ? rs->units[i].name : NULL;
}

bool tc_regionset_has_land(const tc_regionset *rs) { return rs && rs->has_land; }
bool tc_regionset_from_cache(const tc_regionset *rs) { return rs && rs->from_cache; }

const char *tc_regionset_get_sha256(const tc_regionset *rs, int which)
{
    return (rs && (which == 0 || which == 1)) ? rs->sha[which] : "";
}

tc_status tc_regionset_find(tc_ctx *ctx, const tc_regionset *rs, const char *code, size_t *index)
{
    if (!ctx)
        return TC_ERR_INVALID_ARG;
    tc__clear(ctx);
    if (!rs || !code || !index)
        return tc__fail(ctx, TC_ERR_INVALID_ARG, "regionset find: NULL argument");
    for (size_t i = 0; i < rs->n; i++)
        if (strcmp(rs->units[i].code, code) == 0) {
            *index = i;
            return TC_OK;
        }
    return tc__fail(ctx, TC_ERR_NOT_FOUND, "no unit with code '%s' in the boundary layer", code);
}

tc_status tc_regionset_lookup(tc_ctx *ctx, const tc_regionset *rs, const char *name,
                              size_t *index)
{
    if (!ctx)
        return TC_ERR_INVALID_ARG;
    tc__clear(ctx);
    if (!rs || !name || !index)
        return tc__fail(ctx, TC_ERR_INVALID_ARG, "region lookup: NULL argument");
    const tc_unit_info *info = NULL;
    char norm[64];
    const char *code = NULL;
    if (tc_catalog_lookup(ctx, name, &info) == TC_OK)
        code = info->code;
    else if (tc__normalize_code(name, norm, sizeof norm))
        code = norm;
    tc__clear(ctx);
    if (code)
        for (size_t i = 0; i < rs->n; i++)
            if (strcmp(rs->units[i].code, code) == 0) {
                *index = i;
                return TC_OK;
            }
    char want[256], have[256];
    tc_name_key(name, want, sizeof want);
    for (size_t i = 0; want[0] && i < rs->n; i++) {
        tc_name_key(rs->units[i].name, have, sizeof have);
        if (strcmp(want, have) == 0) {
            *index = i;
            return TC_OK;
        }
    }
    return tc__fail(ctx, TC_ERR_NOT_FOUND, "region '%s': no such unit (try a code such as UA-14, "
                                           "or a name such as Donetsk)",
                    name);
}

tc_status tc_regionset_areas_m2(tc_ctx *ctx, const tc_regionset *rs, size_t i, double *admin_m2,
                                double *land_m2)
{
    if (!ctx)
        return TC_ERR_INVALID_ARG;
    tc__clear(ctx);
    if (!rs || i >= rs->n)
        return tc__fail(ctx, TC_ERR_INVALID_ARG, "regionset areas: %s",
                        rs ? "index out of range" : "NULL region set");
    if (admin_m2)
        *admin_m2 = rs->units[i].admin_m2;
    if (land_m2)
        *land_m2 = rs->units[i].land_m2;
    return TC_OK;
}
