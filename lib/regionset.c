/* Units prepared for reports: clipped to land, with neighbour strips; cached on disk. */
#include "tc_internal.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CACHE_MAGIC "TCLAIMS-REGIONSET\n"
#define CACHE_FORMAT 3u /* 2: SHA-256 of the content at the end; 3: grid-noded inputs */

static void free_units(tc_ctx *ctx, tc__unit *u, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(u[i].code);
        free(u[i].name);
        if (u[i].land)
            GEOSGeom_destroy_r(ctx->geos, u[i].land);
        if (u[i].strip)
            GEOSGeom_destroy_r(ctx->geos, u[i].strip);
    }
    free(u);
}

void tc_regionset_free(tc_regionset *rs)
{
    if (!rs)
        return;
    free_units(rs->ctx, rs->units, rs->n);
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

/* Neighbouring land within TC__STRIP_M beyond unit i: the other units' land inside a buffer
 * of (a simplified copy of) unit i. Only units, so foreign land never counts. */
static tc_status build_strip(tc_ctx *ctx, tc__unit *units, size_t n, size_t i,
                             const GEOSGeometry *admin)
{
    GEOSContextHandle_t h = ctx->geos;
    double xmin, ymin, xmax, ymax;
    GEOSGeom_getExtent_r(h, admin, &xmin, &ymin, &xmax, &ymax);
    double lat = fmax(fabs(ymin), fabs(ymax));
    /* degrees of longitude per metre are the larger: the strip is at least TC__STRIP_M wide */
    double d = TC__STRIP_M / (111320.0 * cos(lat * TC__PI / 180.0));
    GEOSGeometry *simple = GEOSSimplify_r(h, admin, d / 10.0);
    GEOSGeometry *buf = simple ? GEOSBuffer_r(h, simple, d, 2) : NULL;
    if (simple)
        GEOSGeom_destroy_r(h, simple);
    if (!buf)
        return tc__fail(ctx, TC_ERR_GEOMETRY, "strip of %s: buffer failed: %s", units[i].code,
                        ctx->geos_msg);
    const GEOSPreparedGeometry *pbuf = GEOSPrepare_r(h, buf);
    GEOSGeometry **parts = calloc(n, sizeof *parts);
    size_t np = 0;
    tc_status st = parts && pbuf ? TC_OK : tc__fail(ctx, TC_ERR_NOMEM, "strip: out of memory");
    for (size_t k = 0; k < n && st == TC_OK; k++) {
        if (k == i || !GEOSPreparedIntersects_r(h, pbuf, units[k].land))
            continue;
        double bx0, by0, bx1, by1;
        GEOSGeom_getExtent_r(h, buf, &bx0, &by0, &bx1, &by1);
        GEOSGeometry *clip = GEOSClipByRect_r(h, units[k].land, bx0, by0, bx1, by1);
        GEOSGeometry *part = clip ? intersect_multi(ctx, clip, buf) : NULL;
        if (clip)
            GEOSGeom_destroy_r(h, clip);
        if (!part)
            st = tc__fail(ctx, TC_ERR_GEOMETRY, "strip of %s: %s", units[i].code, ctx->geos_msg);
        else if (GEOSisEmpty_r(h, part))
            GEOSGeom_destroy_r(h, part);
        else
            parts[np++] = part;
    }
    if (st == TC_OK) {
        units[i].strip = np ? tc__union_take(ctx, parts, np)
                            : GEOSGeom_createEmptyCollection_r(h, GEOS_MULTIPOLYGON);
        np = 0;
        if (!units[i].strip)
            st = tc__fail(ctx, TC_ERR_GEOMETRY, "strip of %s: union failed: %s", units[i].code,
                          ctx->geos_msg);
    }
    for (size_t k = 0; k < np; k++)
        GEOSGeom_destroy_r(h, parts[k]);
    free(parts);
    if (pbuf)
        GEOSPreparedGeom_destroy_r(h, pbuf);
    GEOSGeom_destroy_r(h, buf);
    return st;
}

static tc_status build(tc_ctx *ctx, tc_regionset *rs, const char *path,
                       const tc_regionset_opts *o)
{
    GEOSContextHandle_t h = ctx->geos;
    tc_layer *layer = NULL;
    GEOSGeometry *land = NULL;
    const GEOSPreparedGeometry *pland = NULL;
    tc_status st = tc_layer_open(ctx, path, &o->regions, &layer);
    if (st != TC_OK)
        return st;
    if (o->land_path && (st = load_land(ctx, o->land_path, &o->land, &land)) != TC_OK)
        goto done;
    if (land)
        pland = GEOSPrepare_r(h, land);
    rs->n = layer->n;
    rs->units = calloc(rs->n ? rs->n : 1, sizeof *rs->units);
    if (!rs->units) {
        st = tc__fail(ctx, TC_ERR_NOMEM, "regionset: out of memory");
        goto done;
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
        if ((st = tc__geom_area_m2(ctx, r->geom, &u->admin_m2, NULL)) != TC_OK)
            break;
        if (!pland || GEOSPreparedContains_r(h, pland, r->geom) == 1)
            u->land = GEOSGeom_clone_r(h, r->geom); /* inland unit: all land */
        else
            u->land = intersect_multi(ctx, r->geom, land);
        if (!u->land) {
            st = tc__fail(ctx, TC_ERR_GEOMETRY, "clip %s to land: %s", r->code, ctx->geos_msg);
            break;
        }
        st = tc__geom_area_m2(ctx, u->land, &u->land_m2, NULL);
    }
    for (size_t i = 0; i < rs->n && st == TC_OK; i++)
        st = build_strip(ctx, rs->units, rs->n, i, layer->regions[i].geom);
done:
    if (pland)
        GEOSPreparedGeom_destroy_r(h, pland);
    if (land)
        GEOSGeom_destroy_r(h, land);
    tc_layer_free(layer);
    return st;
}

/* ---------------------------------------------------------------- cache */

static bool is_regular_file(const char *path)
{
    struct stat sb;
    return path && stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

static void key_add(char *buf, size_t len, size_t *pos, const char *label, const char *v)
{
    int k = snprintf(buf + *pos, len - *pos, "%s=%s\n", label, v ? v : "(null)");
    if (k > 0 && (size_t)k < len - *pos)
        *pos += (size_t)k;
}

static void cache_key(const tc_regionset *rs, const tc_regionset_opts *o, char hex[65])
{
    char buf[4096];
    size_t pos = 0;
    char num[64];
    snprintf(num, sizeof num, "%u", CACHE_FORMAT);
    key_add(buf, sizeof buf, &pos, "format", num);
    key_add(buf, sizeof buf, &pos, "library", TC_VERSION_STRING);
    key_add(buf, sizeof buf, &pos, "engines", tc_engine_versions());
    key_add(buf, sizeof buf, &pos, "regions_sha256", rs->sha[0]);
    key_add(buf, sizeof buf, &pos, "regions_layer", o->regions.layer_name);
    key_add(buf, sizeof buf, &pos, "code_field", o->regions.code_field);
    key_add(buf, sizeof buf, &pos, "name_field", o->regions.name_field);
    key_add(buf, sizeof buf, &pos, "land_sha256", o->land_path ? rs->sha[1] : "none");
    key_add(buf, sizeof buf, &pos, "land_layer", o->land.layer_name);
    snprintf(num, sizeof num, "%.17g", TC__STRIP_M);
    key_add(buf, sizeof buf, &pos, "strip_m", num);
    tc__sha256_hex(buf, pos, hex);
}

typedef struct wbuf {
    unsigned char *p;
    size_t n, cap;
    bool nomem;
} wbuf;

static void put(wbuf *b, const void *data, size_t len)
{
    if (b->nomem)
        return;
    if (b->n + len > b->cap) {
        size_t cap = b->cap ? b->cap : 1 << 20;
        while (cap < b->n + len)
            cap *= 2;
        unsigned char *p = realloc(b->p, cap);
        if (!p) {
            b->nomem = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, data, len);
    b->n += len;
}

static void put_u32(wbuf *b, uint32_t v) { put(b, &v, sizeof v); }
static void put_f64(wbuf *b, double v) { put(b, &v, sizeof v); }
static void put_str(wbuf *b, const char *s)
{
    uint32_t len = (uint32_t)strlen(s);
    put_u32(b, len);
    put(b, s, len);
}

static void put_geom(tc_ctx *ctx, wbuf *b, GEOSWKBWriter *w, const GEOSGeometry *g)
{
    size_t len = 0;
    unsigned char *wkb = GEOSWKBWriter_write_r(ctx->geos, w, g, &len);
    if (!wkb) {
        b->nomem = true;
        return;
    }
    put_u32(b, (uint32_t)len);
    put(b, wkb, len);
    GEOSFree_r(ctx->geos, wkb);
}

static void cache_write(tc_ctx *ctx, const tc_regionset *rs, const char *dir, const char *file,
                        const char *key, size_t first_warning)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        tc__warn(ctx, "cache '%s' not written: %s", dir, strerror(errno));
        return;
    }
    wbuf b = {NULL, 0, 0, false};
    GEOSWKBWriter *w = GEOSWKBWriter_create_r(ctx->geos);
    if (!w)
        return;
    GEOSWKBWriter_setByteOrder_r(ctx->geos, w, GEOS_WKB_NDR);
    put(&b, CACHE_MAGIC, strlen(CACHE_MAGIC));
    put_u32(&b, CACHE_FORMAT);
    put(&b, key, 64);
    put_u32(&b, (uint32_t)rs->n);
    put_u32(&b, rs->has_land ? 1u : 0u);
    for (size_t i = 0; i < rs->n; i++) {
        const tc__unit *u = &rs->units[i];
        put_str(&b, u->code);
        put_str(&b, u->name);
        put_f64(&b, u->admin_m2);
        put_f64(&b, u->land_m2);
        put_geom(ctx, &b, w, u->land);
        put_geom(ctx, &b, w, u->strip);
    }
    /* warnings of the build (repairs) travel with the cache so later runs still show them;
     * only this build's: earlier warnings on the context are not the set's */
    size_t nw = tc_ctx_warning_count(ctx);
    nw = nw > first_warning ? nw - first_warning : 0;
    put_u32(&b, (uint32_t)nw);
    for (size_t i = 0; i < nw; i++)
        put_str(&b, tc_ctx_get_warning(ctx, first_warning + i));
    put(&b, CACHE_MAGIC, strlen(CACHE_MAGIC)); /* trailer: detects truncation */
    if (!b.nomem) { /* and a digest of everything before it: detects any other damage */
        unsigned char digest[32];
        tc__sha256(b.p, b.n, digest);
        put(&b, digest, sizeof digest);
    }
    GEOSWKBWriter_destroy_r(ctx->geos, w);
    if (b.nomem) {
        free(b.p);
        return;
    }
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", file, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    bool ok = f && fwrite(b.p, 1, b.n, f) == b.n;
    if (f && fclose(f) != 0)
        ok = false;
    if (ok && rename(tmp, file) != 0)
        ok = false;
    if (!ok) {
        tc__warn(ctx, "cache '%s' not written: %s", file, strerror(errno));
        remove(tmp);
    }
    free(b.p);
}

typedef struct rbuf {
    const unsigned char *p;
    size_t n, pos;
    bool bad;
} rbuf;

static const void *take(rbuf *r, size_t len)
{
    if (r->bad || len > r->n - r->pos) {
        r->bad = true;
        return NULL;
    }
    const void *p = r->p + r->pos;
    r->pos += len;
    return p;
}

static uint32_t get_u32(rbuf *r)
{
    uint32_t v = 0;
    const void *p = take(r, sizeof v);
    if (p)
        memcpy(&v, p, sizeof v);
    return v;
}

static double get_f64(rbuf *r)
{
    double v = 0;
    const void *p = take(r, sizeof v);
    if (p)
        memcpy(&v, p, sizeof v);
    return v;
}

static char *get_str(rbuf *r)
{
    uint32_t len = get_u32(r);
    const char *p = take(r, len);
    if (!p)
        return NULL;
    char *s = malloc((size_t)len + 1);
    if (s) {
        memcpy(s, p, len);
        s[len] = '\0';
    }
    return s;
}

static GEOSGeometry *get_geom(tc_ctx *ctx, rbuf *r, GEOSWKBReader *rd)
{
    uint32_t len = get_u32(r);
    const unsigned char *p = take(r, len);
    return p ? GEOSWKBReader_read_r(ctx->geos, rd, p, len) : NULL;
}

/* Read a cache file; false (and nothing kept) when absent, foreign or damaged. */
static bool cache_read(tc_ctx *ctx, tc_regionset *rs, const char *file, const char *key)
{
    FILE *f = fopen(file, "rb");
    if (!f)
        return false;
    unsigned char *data = NULL;
    size_t n = 0;
    if (fseek(f, 0, SEEK_END) == 0) {
        long sz = ftell(f);
        if (sz > 0 && fseek(f, 0, SEEK_SET) == 0 && (data = malloc((size_t)sz)) != NULL)
            n = fread(data, 1, (size_t)sz, f);
    }
    fclose(f);
    if (!data)
        return false;
    unsigned char digest[32];
    if (n < 32 || (tc__sha256(data, n - 32, digest), memcmp(digest, data + n - 32, 32) != 0)) {
        if (n >= 32)
            tc__warn(ctx, "cache '%s' is damaged (checksum mismatch); rebuilt", file);
        free(data);
        return false;
    }
    n -= 32;
    rbuf r = {data, n, 0, false};
    GEOSWKBReader *rd = GEOSWKBReader_create_r(ctx->geos);
    const size_t ml = strlen(CACHE_MAGIC);
    const void *magic = take(&r, ml);
    bool ok = rd && magic && memcmp(magic, CACHE_MAGIC, ml) == 0 && get_u32(&r) == CACHE_FORMAT;
    const void *k = ok ? take(&r, 64) : NULL;
    ok = ok && k && memcmp(k, key, 64) == 0;
    uint32_t nu = ok ? get_u32(&r) : 0;
    ok = ok && nu > 0 && nu < 100000;
    tc__unit *units = ok ? calloc(nu, sizeof *units) : NULL;
    ok = ok && units;
    bool has_land = ok && get_u32(&r) == 1u;
    for (uint32_t i = 0; ok && i < nu; i++) {
        tc__unit *u = &units[i];
        u->code = get_str(&r);
        u->name = get_str(&r);
        u->admin_m2 = get_f64(&r);
        u->land_m2 = get_f64(&r);
        u->land = get_geom(ctx, &r, rd);
        u->strip = get_geom(ctx, &r, rd);
        ok = !r.bad && u->code && u->name && u->land && u->strip;
    }
    uint32_t nw = ok ? get_u32(&r) : 0;
    ok = ok && nw < 100000; /* checked before anything is allocated for them */
    char **warn = ok ? calloc(nw ? nw : 1, sizeof *warn) : NULL;
    ok = ok && warn;
    if (!warn)
        nw = 0; /* nothing to free below */
    for (uint32_t i = 0; ok && i < nw; i++)
        ok = (warn[i] = get_str(&r)) != NULL;
    const void *trailer = ok ? take(&r, ml) : NULL;
    ok = ok && trailer && memcmp(trailer, CACHE_MAGIC, ml) == 0 && r.pos == r.n;
    if (ok) {
        rs->units = units;
        rs->n = nu;
        rs->has_land = has_land;
        for (uint32_t i = 0; i < nw; i++)
            tc__warn(ctx, "%s", warn[i]);
    } else if (units) {
        free_units(ctx, units, nu);
    }
    if (warn)
        for (uint32_t i = 0; i < nw; i++)
            free(warn[i]);
    free(warn);
    if (rd)
        GEOSWKBReader_destroy_r(ctx->geos, rd);
    free(data);
    return ok;
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
    if (o->version != TC_REGIONSET_OPTS_VERSION || o->regions.version != TC_OPEN_OPTS_VERSION ||
        o->land.version != TC_OPEN_OPTS_VERSION)
        return tc__fail(ctx, TC_ERR_INVALID_ARG, "regionset open: options not initialised with "
                                                 "TC_REGIONSET_OPTS_INIT");
    size_t first_warning = tc_ctx_warning_count(ctx);
    tc_regionset *rs = calloc(1, sizeof *rs);
    if (!rs)
        return tc__fail(ctx, TC_ERR_NOMEM, "regionset open: out of memory");
    rs->ctx = ctx;
    rs->has_land = o->land_path != NULL;
    tc_status st = TC_OK;
    bool files = is_regular_file(path) && (!o->land_path || is_regular_file(o->land_path));
    if (files) {
        st = tc__sha256_file(ctx, path, rs->sha[0]);
        if (st == TC_OK && o->land_path)
            st = tc__sha256_file(ctx, o->land_path, rs->sha[1]);
    }
    char key[65] = "", file[4096] = "";
    if (st == TC_OK && files && o->cache_dir) {
        cache_key(rs, o, key);
        snprintf(file, sizeof file, "%s/regionset-%s.bin", o->cache_dir, key);
        rs->from_cache = cache_read(ctx, rs, file, key);
    }
    if (st == TC_OK && !rs->from_cache) {
        st = build(ctx, rs, path, o);
        if (st == TC_OK && file[0])
            cache_write(ctx, rs, o->cache_dir, file, key, first_warning);
    }
    if (st != TC_OK) {
        tc_regionset_free(rs);
        return st;
    }
    /* read-only from here on, possibly from several threads: no lazy state left in GEOS */
    for (size_t i = 0; i < rs->n; i++) {
        tc__geom_warm(ctx, rs->units[i].land);
        tc__geom_warm(ctx, rs->units[i].strip);
    }
    *out = rs;
    return TC_OK;
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
