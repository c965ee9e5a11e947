/* Public geodesic area entry points (rings, WKT). */
#include "tc_internal.h"

#include <math.h>
#include <stdlib.h>

tc_status tc_ring_area_m2(tc_ctx *ctx, const double *lon_deg, const double *lat_deg, size_t n,
                          double *area_m2)
{
    if (!ctx)
        return TC_ERR_INVALID_ARG;
    tc__clear(ctx);
    if (!lon_deg || !lat_deg || !area_m2)
        return tc__fail(ctx, TC_ERR_INVALID_ARG, "ring area: NULL argument");
    if (n > 1 && lon_deg[0] == lon_deg[n - 1] && lat_deg[0] == lat_deg[n - 1])
        n--; /* closing vertex */
    if (n < 3 || n > (size_t)1 << 30)
        return tc__fail(ctx, TC_ERR_INVALID_ARG, "ring area: %zu distinct vertices (need >= 3)", n);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(lon_deg[i]) || !isfinite(lat_deg[i]) || fabs(lat_deg[i]) > 90.0 ||
            fabs(lon_deg[i]) > 540.0)
            return tc__fail(ctx, TC_ERR_INVALID_ARG, "ring area: vertex %zu (%g, %g) out of range",
                            i, lon_deg[i], lat_deg[i]);
    double x0 = lon_deg[0], x1 = lon_deg[0], y0 = lat_deg[0], y1 = lat_deg[0];
    for (size_t i = 1; i < n; i++) {
        x0 = fmin(x0, lon_deg[i]), x1 = fmax(x1, lon_deg[i]);
        y0 = fmin(y0, lat_deg[i]), y1 = fmax(y1, lat_deg[i]);
    }
    if (x1 - x0 < 180 && y1 - y0 < 90) { /* under half the ellipsoid: |signed| (geom.c) */
        struct geod_polygon q;
        geod_polygon_init(&q, 0);
        for (size_t i = 0; i < n; i++)
            geod_polygon_addpoint(&ctx->geod, &q, lat_deg[i], lon_deg[i]);
        double s = 0.0;
        geod_polygon_compute(&ctx->geod, &q, 0, 1, &s, NULL);
        *area_m2 = fabs(s);
        return TC_OK;
    }
    /* walk the ring counter-clockwise in the lon/lat plane (its inside as GEOS sees it) and
     * take the unsigned area: correct beyond half the ellipsoid too (see geom.c) */
    double twice = 0;
    for (size_t i = 0; i < n; i++) {
        size_t k = (i + 1) % n;
        twice += lon_deg[i] * lat_deg[k] - lon_deg[k] * lat_deg[i];
    }
    struct geod_polygon p;
    geod_polygon_init(&p, 0);
    for (size_t i = 0; i < n; i++) {
        size_t k = twice >= 0 ? i : n - 1 - i;
        geod_polygon_addpoint(&ctx->geod, &p, lat_deg[k], lon_deg[k]);
    }
    double a = 0.0;
    geod_polygon_compute(&ctx->geod, &p, 0, 0, &a, NULL);
    *area_m2 = a;
    return TC_OK;
}

tc_status tc_wkt_area_m2(tc_ctx *ctx, const char *wkt, double *area_m2)
{
    if (!ctx)
        return TC_ERR_INVALID_ARG;
    tc__clear(ctx);
    if (!wkt || !area_m2)
        return tc__fail(ctx, TC_ERR_INVALID_ARG, "WKT area: NULL argument");
    GEOSContextHandle_t h = ctx->geos;
    GEOSWKTReader *r = GEOSWKTReader_create_r(h);
    GEOSGeometry *g = r ? GEOSWKTReader_read_r(h, r, wkt) : NULL;
    if (r)
        GEOSWKTReader_destroy_r(h, r);
    if (!g)
        return tc__fail(ctx, TC_ERR_GEOMETRY, "WKT area: cannot parse: %s", ctx->geos_msg);
    tc_status st = tc__geom_check_coords(ctx, g, "WKT area");
    GEOSGeometry *pg = NULL, *valid = NULL;
    size_t dropped = 0;
    if (st == TC_OK) {
        pg = tc__geom_polygonal(ctx, g, &dropped);
        if (!pg)
            st = tc__fail(ctx, TC_ERR_GEOMETRY, "WKT area: %s", ctx->geos_msg);
        else if (dropped)
            st = tc__fail(ctx, TC_ERR_GEOMETRY, "WKT area: %zu non-polygonal part(s)", dropped);
    }
    if (st == TC_OK && (valid = tc__geom_make_valid(ctx, pg, "WKT area", &st)) != NULL)
        st = tc__geom_area_m2(ctx, valid, area_m2, NULL);
    if (valid)
        GEOSGeom_destroy_r(h, valid);
    if (pg)
        GEOSGeom_destroy_r(h, pg);
    GEOSGeom_destroy_r(h, g);
    return st;
}
