/* The context: GEOS handle, PROJ context, WGS84 geodesic, error text, warnings. */
#include "tc_internal.h"

#include <cpl_error.h>
#include <gdal_version.h>
#include <gdal.h>
#include <ogr_srs_api.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_once_t gdal_once = PTHREAD_ONCE_INIT;

/* Once per process, before any context: GDAL's drivers, and the lazily built state of
 * PROJ, OpenSSL and GEOS that contexts copy or share (PROJ's default context; the
 * geodesic routines' constants, set by the first geod_init(); OpenSSL's SHA-256 and
 * allocator; GEOS's singletons), so that threads creating their first contexts or
 * running their first operations at once do not race on it. */
static void gdal_register(void)
{
    /* OpenSSL first: the locks it makes now (its configuration's among them) cannot land
     * where GDALAllRegister() has freed a C++ std::mutex, which helgrind would go on taking
     * for a mutex (tests/valgrind.supp) */
    unsigned char digest[32];
    tc__sha256("", 0, digest);
    GDALAllRegister();
    proj_context_destroy(proj_context_create());
    struct geod_geodesic g;
    geod_init(&g, 6378137.0, 1.0 / 298.257223563);
    /* GEOS builds some singletons and constants on first use (the old overlay's node
     * factory, which buffers use; the orientation test's double-double constants): once
     * here, before any thread of ours starts */
    GEOSContextHandle_t h = GEOS_init_r();
    GEOSWKTReader *r = h ? GEOSWKTReader_create_r(h) : NULL;
    GEOSGeometry *a = r ? GEOSWKTReader_read_r(h, r, "POLYGON((0 0,2 0,2 2,0 2,0 0))") : NULL;
    GEOSGeometry *b = r ? GEOSWKTReader_read_r(h, r, "POLYGON((1 1,3 1,3 3,1 3,1 1))") : NULL;
    GEOSGeometry *out[4] = {NULL, NULL, NULL, NULL};
    if (a && b) {
        out[0] = GEOSBuffer_r(h, a, -0.5, 2);
        out[1] = GEOSDifference_r(h, a, b);
        out[2] = GEOSIntersection_r(h, a, b);
        out[3] = GEOSUnaryUnion_r(h, a);
        (void)GEOSisValid_r(h, a);
        /* collinear: the orientation test's double-double fallback and its constants */
        (void)GEOSOrientationIndex_r(h, 0.1, 0.1, 0.7, 0.7, 0.3, 0.3);
    }
    for (int k = 0; k < 4; k++)
        if (out[k])
            GEOSGeom_destroy_r(h, out[k]);
    if (a)
        GEOSGeom_destroy_r(h, a);
    if (b)
        GEOSGeom_destroy_r(h, b);
    if (r)
        GEOSWKTReader_destroy_r(h, r);
    if (h)
        GEOS_finish_r(h);
}

static void geos_error(const char *msg, void *user)
{
    tc_ctx *ctx = user;
    snprintf(ctx->geos_msg, sizeof ctx->geos_msg, "%s", msg ? msg : "");
}

static void geos_notice(const char *msg, void *user)
{
    (void)msg; /* notices are informational (e.g. topology details); not errors */
    (void)user;
}

static void proj_log(void *user, int level, const char *msg)
{
    (void)user; /* the failing call's errno is consulted instead; never print */
    (void)level;
    (void)msg;
}

tc_status tc_ctx_new(tc_ctx **out)
{
    if (!out)
        return TC_ERR_INVALID_ARG;
    *out = NULL;
    tc_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return TC_ERR_NOMEM;
    pthread_once(&gdal_once, gdal_register);
    ctx->geos = GEOS_init_r();
    ctx->pj = proj_context_create();
    if (!ctx->geos || !ctx->pj) {
        tc_ctx_free(ctx);
        return TC_ERR_INTERNAL;
    }
    GEOSContext_setErrorMessageHandler_r(ctx->geos, geos_error, ctx);
    GEOSContext_setNoticeMessageHandler_r(ctx->geos, geos_notice, ctx);
    proj_log_func(ctx->pj, ctx, proj_log);
    proj_log_level(ctx->pj, PJ_LOG_ERROR);
    geod_init(&ctx->geod, 6378137.0, 1.0 / 298.257223563); /* WGS84 */
    *out = ctx;
    return TC_OK;
}

void tc_ctx_free(tc_ctx *ctx)
{
    if (!ctx)
        return;
    tc_ctx_clear_warnings(ctx);
    free(ctx->warnings);
    free(ctx->scratch);
    if (ctx->pj)
        proj_context_destroy(ctx->pj);
    if (ctx->geos)
        GEOS_finish_r(ctx->geos);
    free(ctx);
}

const char *tc_ctx_errmsg(const tc_ctx *ctx) { return ctx ? ctx->errmsg : ""; }

size_t tc_ctx_warning_count(const tc_ctx *ctx) { return ctx ? ctx->n_warnings : 0; }

const char *tc_ctx_get_warning(const tc_ctx *ctx, size_t i)
{
    return (ctx && i < ctx->n_warnings) ? ctx->warnings[i] : NULL;
}

void tc_ctx_clear_warnings(tc_ctx *ctx)
{
    if (!ctx)
        return;
    for (size_t i = 0; i < ctx->n_warnings; i++)
        free(ctx->warnings[i]);
    ctx->n_warnings = 0;
}

void tc_free(void *p) { free(p); }

void tc__clear(tc_ctx *ctx)
{
    ctx->errmsg[0] = '\0';
    ctx->geos_msg[0] = '\0';
    ctx->gdal_msg[0] = '\0';
}

tc_status tc__fail(tc_ctx *ctx, tc_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->errmsg, sizeof ctx->errmsg, fmt, ap);
    va_end(ap);
    return status;
}

void tc__warn(tc_ctx *ctx, const char *fmt, ...)
{
    char buf[TC__ERRMSG_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (ctx->n_warnings == ctx->cap_warnings) {
        size_t cap = ctx->cap_warnings ? 2 * ctx->cap_warnings : 8;
        char **w = realloc(ctx->warnings, cap * sizeof *w);
        if (!w)
            return;
        ctx->warnings = w;
        ctx->cap_warnings = cap;
    }
    char *s = tc__strdup(buf);
    if (s)
        ctx->warnings[ctx->n_warnings++] = s;
}

tc_status tc__scratch(tc_ctx *ctx, size_t n)
{
    if (n <= ctx->scratch_cap)
        return TC_OK;
    size_t cap = ctx->scratch_cap ? ctx->scratch_cap : 4096;
    while (cap < n)
        cap *= 2;
    double *p = realloc(ctx->scratch, cap * sizeof *p);
    if (!p)
        return tc__fail(ctx, TC_ERR_NOMEM, "out of memory (%zu coordinates)", n);
    ctx->scratch = p;
    ctx->scratch_cap = cap;
    return TC_OK;
}

static void CPL_STDCALL gdal_capture(CPLErr cls, CPLErrorNum num, const char *msg)
{
    (void)num;
    if (cls < CE_Failure)
        return; /* debug and warning text is not an error */
    tc_ctx *ctx = CPLGetErrorHandlerUserData();
    if (!ctx)
        return;
    /* one line: drivers (PostgreSQL's libpq) report over several, ending in a newline */
    size_t k = 0;
    for (const char *c = msg ? msg : ""; *c && k + 1 < sizeof ctx->gdal_msg; c++) {
        bool nl = *c == '\n' || *c == '\r' || *c == '\t';
        if (nl && (k == 0 || ctx->gdal_msg[k - 1] == ' '))
            continue;
        ctx->gdal_msg[k++] = nl ? ' ' : *c;
    }
    while (k > 0 && ctx->gdal_msg[k - 1] == ' ')
        k--;
    ctx->gdal_msg[k] = '\0';
}

void tc__gdal_push(tc_ctx *ctx) { CPLPushErrorHandlerEx(gdal_capture, ctx); }

void tc__gdal_pop(void) { CPLPopErrorHandler(); }

const char *tc__gdal_msg(const tc_ctx *ctx, const char *fallback)
{
    return ctx->gdal_msg[0] ? ctx->gdal_msg : fallback;
}

char *tc__strdup(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

const char *tc_version_string(void) { return TC_VERSION_STRING; }

const char *tc_engine_versions(void)
{
    /* Built from compile-time constants and GDAL/GEOS/PROJ's static version text. */
    static const char text[] = "GDAL " GDAL_RELEASE_NAME ", GEOS " GEOS_CAPI_VERSION
                               ", PROJ " TC__STR(PROJ_VERSION_MAJOR) "." TC__STR(
                                   PROJ_VERSION_MINOR) "." TC__STR(PROJ_VERSION_PATCH);
    return text;
}

tc_status tc_ctx_warm_crs(tc_ctx *ctx)
{
    if (!ctx)
        return TC_ERR_INVALID_ARG;
    tc__clear(ctx);
    /* GDAL's connection to the database belongs to the thread (OSRGetProjTLSContext) */
    OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
    OGRErr e = srs ? OSRImportFromEPSG(srs, 4326) : OGRERR_NOT_ENOUGH_MEMORY;
    if (srs)
        OSRDestroySpatialReference(srs);
    return e == OGRERR_NONE ? TC_OK
                            : tc__fail(ctx, TC_ERR_CRS, "CRS database: EPSG:4326 not found");
}
