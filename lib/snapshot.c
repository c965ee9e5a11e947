/* One snapshot of controlled territory: every polygon of a layer, unioned. */
#include "tc_internal.h"

#include <stdlib.h>
#include <sys/stat.h>

typedef struct collect {
    GEOSGeometry **parts;
    size_t n, cap;
} collect;

static tc_status add_part(tc_ctx *ctx, void *user, long fid, const char *code, const char *name,
                          GEOSGeometry *geom)
{
    (void)fid, (void)code, (void)name;
    collect *c = user;
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 16;
        GEOSGeometry **p = realloc(c->parts, cap * sizeof *p);
        if (!p) {
            GEOSGeom_destroy_r(ctx->geos, geom);
            return tc__fail(ctx, TC_ERR_NOMEM, "snapshot: out of memory");
        }
        c->parts = p;
        c->cap = cap;
    }
    c->parts[c->n++] = geom;
    return TC_OK;
}

tc_status tc_snapshot_open(tc_ctx *ctx, const char *path, const tc_open_opts *opts,
                           tc_snapshot **out)
{
    if (!ctx)
        return TC_ERR_INVALID_ARG;
    tc__clear(ctx);
    if (!path || !out)
        return tc__fail(ctx, TC_ERR_INVALID_ARG, "snapshot open: NULL %s", path ? "out" : "path");
    if (opts && opts->version != TC_OPEN_OPTS_VERSION)
        return tc__fail(ctx, TC_ERR_INVALID_ARG, "snapshot open: opts version %u (expected %u)",
                        opts->version, TC_OPEN_OPTS_VERSION);
    collect c = {NULL, 0, 0};
    tc__read_opts ro = {.open = opts, .want_fields = false, .allow_empty = true,
                        .densify_deg = TC__SNAP_EDGE_DEG};
    tc_status st = tc__ogr_read(ctx, path, &ro, add_part, &c);
    if (st != TC_OK) {
        for (size_t i = 0; i < c.n; i++)
            GEOSGeom_destroy_r(ctx->geos, c.parts[i]);
        free(c.parts);
        return st;
    }
    tc_snapshot *s = calloc(1, sizeof *s);
    size_t n_polygons = 0;
    for (size_t i = 0; i < c.n; i++)
        n_polygons += (size_t)GEOSGetNumGeometries_r(ctx->geos, c.parts[i]);
    GEOSGeometry *u = NULL;
    if (c.n == 0)
        u = GEOSGeom_createEmptyCollection_r(ctx->geos, GEOS_MULTIPOLYGON);
    else
        u = tc__union_take(ctx, c.parts, c.n); /* consumes the parts */
    free(c.parts);
    if (!s || !u || !(s->path = tc__strdup(path))) {
        if (u)
            GEOSGeom_destroy_r(ctx->geos, u);
        free(s);
        return tc__fail(ctx, u ? TC_ERR_NOMEM : TC_ERR_GEOMETRY, "snapshot '%s': union failed%s%s",
                        path, ctx->geos_msg[0] ? ": " : "", ctx->geos_msg);
    }
    s->ctx = ctx;
    s->geom = u;
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode) &&
        tc__sha256_file(ctx, path, s->sha256) != TC_OK) {
        tc_snapshot_free(s);
        return TC_ERR_IO; /* message set by the checksum */
    }
    s->n_polygons = n_polygons;
    *out = s;
    return TC_OK;
}

void tc_snapshot_free(tc_snapshot *s)
{
    if (!s)
        return;
    if (s->geom)
        GEOSGeom_destroy_r(s->ctx->geos, s->geom);
    free(s->path);
    free(s);
}

const char *tc_snapshot_get_path(const tc_snapshot *s) { return s ? s->path : ""; }

const char *tc_snapshot_get_sha256(const tc_snapshot *s) { return s ? s->sha256 : ""; }

size_t tc_snapshot_polygon_count(const tc_snapshot *s) { return s ? s->n_polygons : 0; }

tc_status tc_snapshot_area_m2(tc_ctx *ctx, const tc_snapshot *s, double *area_m2)
{
    if (!ctx)
        return TC_ERR_INVALID_ARG;
    tc__clear(ctx);
    if (!s || !area_m2)
        return tc__fail(ctx, TC_ERR_INVALID_ARG, "snapshot area: NULL argument");
    return tc__geom_area_m2(ctx, s->geom, area_m2, NULL);
}
