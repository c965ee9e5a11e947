/* Region boundaries from an OGR source, merged by code. */
#include "tc_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct pending {
    GEOSGeometry **parts;
    size_t n, cap;
} pending;

typedef struct load_state {
    tc_layer *layer;
    pending *pend; /* parallel to layer->regions */
    tc__layer_watch watch;
    void *watch_user;
} load_state;

static tc_status add_feature(tc_ctx *ctx, void *user, long fid, const char *code,
                             const char *name, GEOSGeometry *geom)
{
    (void)fid;
    load_state *ls = user;
    tc_layer *L = ls->layer;
    char norm[64];
    const char *key = tc__normalize_code(code, norm, sizeof norm) ? norm : code;
    size_t i;
    for (i = 0; i < L->n; i++)
        if (strcmp(L->regions[i].code, key) == 0)
            break;
    if (i == L->n) {
        if (L->n == L->cap) {
            size_t cap = L->cap ? 2 * L->cap : 32;
            struct tc_region *r = realloc(L->regions, cap * sizeof *r);
            pending *p = realloc(ls->pend, cap * sizeof *p);
            if (r)
                L->regions = r;
            if (p)
                ls->pend = p;
            if (!r || !p) {
                GEOSGeom_destroy_r(ctx->geos, geom);
                return tc__fail(ctx, TC_ERR_NOMEM, "load '%s': out of memory", L->path);
            }
            L->cap = cap;
        }
        struct tc_region *r = &L->regions[L->n];
        memset(r, 0, sizeof *r);
        memset(&ls->pend[L->n], 0, sizeof ls->pend[L->n]);
        r->code = tc__strdup(key);
        r->name = tc__strdup(name ? name : "");
        L->n++;
        if (!r->code || !r->name) {
            GEOSGeom_destroy_r(ctx->geos, geom);
            return tc__fail(ctx, TC_ERR_NOMEM, "load '%s': out of memory", L->path);
        }
    }
    pending *p = &ls->pend[i];
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 4;
        GEOSGeometry **np = realloc(p->parts, cap * sizeof *np);
        if (!np) {
            GEOSGeom_destroy_r(ctx->geos, geom);
            return tc__fail(ctx, TC_ERR_NOMEM, "load '%s': out of memory", L->path);
        }
        p->parts = np;
        p->cap = cap;
    }
    p->parts[p->n++] = geom;
    L->regions[i].n_features++;
    if (ls->watch)
        ls->watch(ls->watch_user, i, p->n, geom);
    return TC_OK;
}

GEOSGeometry *tc__as_multi_take(tc_ctx *ctx, GEOSGeometry *g)
{
    if (!g || GEOSGeomTypeId_r(ctx->geos, g) == GEOS_MULTIPOLYGON)
        return g;
    size_t dropped = 0;
    GEOSGeometry *m = tc__geom_polygonal(ctx, g, &dropped);
    GEOSGeom_destroy_r(ctx->geos, g);
    return m;
}

GEOSGeometry *tc__union_take(tc_ctx *ctx, GEOSGeometry **parts, size_t n)
{
    GEOSContextHandle_t h = ctx->geos;
    if (n == 1)
        return tc__as_multi_take(ctx, parts[0]);
    GEOSGeometry *coll = GEOSGeom_createCollection_r(h, GEOS_GEOMETRYCOLLECTION, parts, (unsigned)n);
    if (!coll) {
        for (size_t i = 0; i < n; i++)
            GEOSGeom_destroy_r(h, parts[i]);
        return NULL;
    }
    GEOSGeometry *u = GEOSUnaryUnion_r(h, coll);
    GEOSGeom_destroy_r(h, coll);
    return tc__as_multi_take(ctx, u);
}

tc_status tc_layer_open(tc_ctx *ctx, const char *path, const tc_open_opts *opts, tc_layer **out)
{
    return tc__layer_open_watch(ctx, path, opts, NULL, NULL, out);
}

tc_status tc__layer_open_watch(tc_ctx *ctx, const char *path, const tc_open_opts *opts,
                               tc__layer_watch watch, void *user, tc_layer **out)
{
    if (!ctx)
        return TC_ERR_INVALID_ARG;
    tc__clear(ctx);
    if (!path || !out)
        return tc__fail(ctx, TC_ERR_INVALID_ARG, "layer open: NULL %s", path ? "out" : "path");
    if (opts && opts->version != TC_OPEN_OPTS_VERSION)
        return tc__fail(ctx, TC_ERR_INVALID_ARG, "layer open: opts version %u (expected %u)",
                        opts->version, TC_OPEN_OPTS_VERSION);
    tc_layer *L = calloc(1, sizeof *L);
    if (!L || !(L->path = tc__strdup(path))) {
        free(L);
        return tc__fail(ctx, TC_ERR_NOMEM, "layer open: out of memory");
    }
    L->ctx = ctx;
    load_state ls = {L, NULL, watch, user};
    /* with a watcher (a helper thread building units as they arrive: regionset.c) a
     * large GeoJSON file is parsed in two halves at once: GDAL's parse of the text is the
     * first run's longest serial step */
    tc__read_opts ro = {.open = opts, .want_fields = true, .allow_empty = false,
                        .split = watch != NULL};
    tc_status st = tc__ogr_read(ctx, path, &ro, add_feature, &ls);
    memcpy(L->code_field, ro.code_field, sizeof L->code_field);
    memcpy(L->name_field, ro.name_field, sizeof L->name_field);
    if (watch) /* before parts are merged or freed */
        watch(user, (size_t)-1, st == TC_OK, NULL);
    for (size_t i = 0; i < L->n; i++) {
        pending *p = &ls.pend[i];
        if (st == TC_OK) {
            L->regions[i].geom = tc__union_take(ctx, p->parts, p->n);
            if (!L->regions[i].geom)
                st = tc__fail(ctx, TC_ERR_GEOMETRY, "load '%s': merging the %zu features of %s "
                                                    "failed: %s",
                              path, p->n, L->regions[i].code, ctx->geos_msg);
        } else {
            for (size_t k = 0; k < p->n; k++)
                GEOSGeom_destroy_r(ctx->geos, p->parts[k]);
        }
        free(p->parts);
    }
    free(ls.pend);
    if (st != TC_OK) {
        tc_layer_free(L);
        return st;
    }
    *out = L;
    return TC_OK;
}

void tc_layer_free(tc_layer *L)
{
    if (!L)
        return;
    for (size_t i = 0; i < L->n; i++) {
        free(L->regions[i].code);
        free(L->regions[i].name);
        if (L->regions[i].geom)
            GEOSGeom_destroy_r(L->ctx->geos, L->regions[i].geom);
    }
    free(L->regions);
    free(L->path);
    free(L);
}

size_t tc_layer_count(const tc_layer *L) { return L ? L->n : 0; }

const tc_region *tc_layer_get_region(const tc_layer *L, size_t i)
{
    return (L && i < L->n) ? &L->regions[i] : NULL;
}

const tc_region *tc_layer_find(const tc_layer *L, const char *code)
{
    if (!L || !code)
        return NULL;
    for (size_t i = 0; i < L->n; i++)
        if (strcmp(L->regions[i].code, code) == 0)
            return &L->regions[i];
    return NULL;
}

const char *tc_layer_get_code_field(const tc_layer *L) { return L ? L->code_field : ""; }
const char *tc_layer_get_name_field(const tc_layer *L) { return L ? L->name_field : ""; }
const char *tc_region_get_code(const tc_region *r) { return r ? r->code : ""; }
const char *tc_region_get_name(const tc_region *r) { return r ? r->name : ""; }
size_t tc_region_feature_count(const tc_region *r) { return r ? r->n_features : 0; }

tc_status tc_region_area_m2(tc_ctx *ctx, const tc_region *r, double *area_m2)
{
    if (!ctx)
        return TC_ERR_INVALID_ARG;
    tc__clear(ctx);
    if (!r || !area_m2)
        return tc__fail(ctx, TC_ERR_INVALID_ARG, "region area: NULL argument");
    return tc__geom_area_m2(ctx, r->geom, area_m2, NULL);
}

tc_status tc_region_to_wkt(tc_ctx *ctx, const tc_region *r, char **out)
{
    if (!ctx)
        return TC_ERR_INVALID_ARG;
    tc__clear(ctx);
    if (!r || !out)
        return tc__fail(ctx, TC_ERR_INVALID_ARG, "region to WKT: NULL argument");
    GEOSWKTWriter *w = GEOSWKTWriter_create_r(ctx->geos);
    char *s = w ? GEOSWKTWriter_write_r(ctx->geos, w, r->geom) : NULL;
    if (w)
        GEOSWKTWriter_destroy_r(ctx->geos, w);
    char *copy = s ? tc__strdup(s) : NULL;
    if (s)
        GEOSFree_r(ctx->geos, s);
    if (!copy)
        return tc__fail(ctx, TC_ERR_NOMEM, "region to WKT: out of memory");
    *out = copy;
    return TC_OK;
}
