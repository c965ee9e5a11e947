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
#include <unistd.h>

#define CACHE_MAGIC "TCLAIMS-REGIONSET\n"
#define CACHE_FORMAT 4u /* 2: SHA-256 of the content at the end; 3: grid-noded inputs;
                           4: entries per unit, strips optional (added by later runs) */

enum { SLOT_LAND, SLOT_SIMPLE, SLOT_STRIP, N_SLOTS };

struct tc__lazy {
    pthread_mutex_t lock;       /* guards every unit's geometries and the fields below */
    unsigned char *file;        /* the cache file read at open (NULL: built) */
    const unsigned char *blob;  /* its WKB entries (units' off/len are relative to it) */
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
    }
    free(u);
}

static void free_lazy(tc__lazy *z)
{
    if (!z)
        return;
    pthread_mutex_destroy(&z->lock);
    free(z->file);
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

/* The strip's source: the unit as drawn, simplified to a tenth of the strip's width. */
static tc_status strip_source(tc_ctx *ctx, tc__unit *u, const GEOSGeometry *admin)
{
    GEOSContextHandle_t h = ctx->geos;
    double xmin, ymin, xmax, ymax;
    GEOSGeom_getExtent_r(h, admin, &xmin, &ymin, &xmax, &ymax);
    double lat = fmax(fabs(ymin), fabs(ymax));
    /* degrees of longitude per metre are the larger: the strip is at least TC__STRIP_M wide */
    u->strip_d = TC__STRIP_M / (111320.0 * cos(lat * TC__PI / 180.0));
    u->simple = GEOSSimplify_r(h, admin, u->strip_d / 10.0);
    if (!u->simple)
        return tc__fail(ctx, TC_ERR_GEOMETRY, "strip of %s: simplify failed: %s", u->code,
                        ctx->geos_msg);
    tc__geom_warm(ctx, u->simple);
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
    GEOSGeometry *g = GEOSGeomFromWKB_buf_r(ctx->geos, z->blob + u->off[slot], u->len[slot]);
    if (!g) /* the file's digest matched: only a bug of ours gets here */
        return tc__fail(ctx, TC_ERR_INTERNAL, "regionset cache: entry of %s unreadable: %s",
                        u->code, ctx->geos_msg);
    /* read-only from here on, possibly from several threads: no lazy state left in GEOS */
    tc__geom_warm(ctx, g);
    *dst = g;
    return TC_OK;
}

/* Neighbouring land within TC__STRIP_M beyond unit i: the other units' land inside a buffer
 * of (a simplified copy of) unit i. Only units, so foreign land never counts. Lock held. */
static tc_status need_strip(tc_ctx *ctx, const tc_regionset *rs, size_t i)
{
    GEOSContextHandle_t h = ctx->geos;
    tc__unit *units = rs->units, *u = &units[i];
    const size_t n = rs->n;
    if (u->strip)
        return TC_OK;
    if (u->len[SLOT_STRIP])
        return need_slot(ctx, rs, u, SLOT_STRIP);
    tc_status st = need_slot(ctx, rs, u, SLOT_SIMPLE);
    if (st != TC_OK)
        return st;
    GEOSGeometry *buf = GEOSBuffer_r(h, u->simple, u->strip_d, 2);
    if (!buf)
        return tc__fail(ctx, TC_ERR_GEOMETRY, "strip of %s: buffer failed: %s", u->code,
                        ctx->geos_msg);
    const GEOSPreparedGeometry *pbuf = GEOSPrepare_r(h, buf);
    GEOSGeometry **parts = calloc(n, sizeof *parts);
    size_t np = 0;
    double be[4];
    set_env(ctx, buf, be);
    st = parts && pbuf ? TC_OK : tc__fail(ctx, TC_ERR_NOMEM, "strip: out of memory");
    for (size_t k = 0; k < n && st == TC_OK; k++) {
        /* a land whose envelope misses the buffer's cannot intersect it: left unparsed */
        if (k == i || !env_overlap(units[k].env, be))
            continue;
        if ((st = need_slot(ctx, rs, &units[k], SLOT_LAND)) != TC_OK)
            break;
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
        GEOSGeometry *strip = np ? tc__union_take(ctx, parts, np)
                                 : GEOSGeom_createEmptyCollection_r(h, GEOS_MULTIPOLYGON);
        np = 0;
        if (!strip)
            st = tc__fail(ctx, TC_ERR_GEOMETRY, "strip of %s: union failed: %s", u->code,
                          ctx->geos_msg);
        else {
            tc__geom_warm(ctx, strip);
            u->strip = strip;
            rs->lazy->dirty = true;
        }
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
        bool inland = !pland || GEOSPreparedContains_r(h, pland, r->geom) == 1;
        if (inland)
            u->land = GEOSGeom_clone_r(h, r->geom); /* inland unit: all land */
        else
            u->land = intersect_multi(ctx, r->geom, land);
        if (!u->land) {
            st = tc__fail(ctx, TC_ERR_GEOMETRY, "clip %s to land: %s", r->code, ctx->geos_msg);
            break;
        }
        tc__geom_warm(ctx, u->land);
        set_env(ctx, u->land, u->env);
        if (inland) /* the same coordinates: the same area, bit for bit */
            u->land_m2 = u->admin_m2;
        else
            st = tc__geom_area_m2(ctx, u->land, &u->land_m2, NULL);
        if (st == TC_OK)
            st = strip_source(ctx, u, r->geom);
    }
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
static void put_u64(wbuf *b, uint64_t v) { put(b, &v, sizeof v); }
static void put_f64(wbuf *b, double v) { put(b, &v, sizeof v); }
static void put_str(wbuf *b, const char *s)
{
    uint32_t len = (uint32_t)strlen(s);
    put_u32(b, len);
    put(b, s, len);
}

/* Write the cache file from what the set holds: every entry already in the file read at
 * open is copied as it stands, every geometry built since is written as WKB. Lock held.
 * File layout (native byte order; the key covers the library and format version):
 *   magic, u32 format, char key[64], u32 n, u32 has_land,
 *   n x (str code, str name, f64 admin_m2, f64 land_m2, f64 env[4], f64 strip_d,
 *        3 x (u64 offset, u64 length): land, simple, strip; length 0: absent),
 *   u32 warnings, str each, u64 blob length, blob (the WKB entries), magic,
 *   SHA-256 of everything before it. */
static void cache_write(tc_ctx *ctx, const tc_regionset *rs)
{
    tc__lazy *z = rs->lazy;
    if (mkdir(z->cache_dir, 0777) != 0 && errno != EEXIST) {
        tc__warn(ctx, "cache '%s' not written: %s", z->cache_dir, strerror(errno));
        return;
    }
    wbuf blob = {NULL, 0, 0, false}, b = {NULL, 0, 0, false};
    GEOSWKBWriter *w = GEOSWKBWriter_create_r(ctx->geos);
    if (!w)
        return;
    GEOSWKBWriter_setByteOrder_r(ctx->geos, w, GEOS_WKB_NDR);
    uint64_t (*ent)[2] = calloc(rs->n ? 3 * rs->n : 1, sizeof *ent);
    if (!ent)
        blob.nomem = true;
    for (size_t i = 0; i < rs->n && !blob.nomem; i++) {
        const tc__unit *u = &rs->units[i];
        const GEOSGeometry *g[N_SLOTS] = {u->land, u->simple, u->strip};
        for (int s = 0; s < N_SLOTS; s++) {
            uint64_t *e = ent[3 * i + (size_t)s];
            e[0] = blob.n;
            if (z->blob && u->len[s]) {
                put(&blob, z->blob + u->off[s], u->len[s]);
            } else if (g[s]) {
                size_t len = 0;
                unsigned char *wkb = GEOSWKBWriter_write_r(ctx->geos, w, g[s], &len);
                if (!wkb) {
                    blob.nomem = true;
                    break;
                }
                put(&blob, wkb, len);
                GEOSFree_r(ctx->geos, wkb);
            }
            e[1] = blob.n - e[0];
        }
    }
    GEOSWKBWriter_destroy_r(ctx->geos, w);
    put(&b, CACHE_MAGIC, strlen(CACHE_MAGIC));
    put_u32(&b, CACHE_FORMAT);
    put(&b, z->key, 64);
    put_u32(&b, (uint32_t)rs->n);
    put_u32(&b, rs->has_land ? 1u : 0u);
    for (size_t i = 0; i < rs->n && !blob.nomem; i++) {
        const tc__unit *u = &rs->units[i];
        put_str(&b, u->code);
        put_str(&b, u->name);
        put_f64(&b, u->admin_m2);
        put_f64(&b, u->land_m2);
        for (int k = 0; k < 4; k++)
            put_f64(&b, u->env[k]);
        put_f64(&b, u->strip_d);
        for (int s = 0; s < N_SLOTS; s++) {
            put_u64(&b, ent[3 * i + (size_t)s][0]);
            put_u64(&b, ent[3 * i + (size_t)s][1]);
        }
    }
    free(ent);
    put_u32(&b, (uint32_t)z->n_warn);
    for (size_t i = 0; i < z->n_warn; i++)
        put_str(&b, z->warn[i]);
    put_u64(&b, blob.n);
    if (!blob.nomem)
        put(&b, blob.p, blob.n);
    free(blob.p);
    put(&b, CACHE_MAGIC, strlen(CACHE_MAGIC)); /* trailer: detects truncation */
    if (!b.nomem && !blob.nomem) { /* and a digest of everything before it: any other damage */
        unsigned char digest[32];
        tc__sha256(b.p, b.n, digest);
        put(&b, digest, sizeof digest);
    }
    if (b.nomem || blob.nomem) {
        free(b.p);
        return;
    }
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld.%p", z->cache_file, (long)getpid(), (void *)rs);
    FILE *f = fopen(tmp, "wb");
    bool ok = f && fwrite(b.p, 1, b.n, f) == b.n;
    if (f && fclose(f) != 0)
        ok = false;
    if (ok && rename(tmp, z->cache_file) != 0)
        ok = false;
    if (!ok) {
        tc__warn(ctx, "cache '%s' not written: %s", z->cache_file, strerror(errno));
        remove(tmp);
    } else {
        z->dirty = false;
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

/* Copy len bytes into out (left zeroed when the buffer is short). */
static void get_raw(rbuf *r, void *out, size_t len)
{
    const void *p = take(r, len);
    if (p)
        memcpy(out, p, len);
    else
        memset(out, 0, len);
}

static uint32_t get_u32(rbuf *r)
{
    uint32_t v;
    get_raw(r, &v, sizeof v);
    return v;
}

static uint64_t get_u64(rbuf *r)
{
    uint64_t v;
    get_raw(r, &v, sizeof v);
    return v;
}

static double get_f64(rbuf *r)
{
    double v;
    get_raw(r, &v, sizeof v);
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

/* Read a cache file; false (and nothing kept) when absent, foreign or damaged. The whole
 * file is checked against its SHA-256 here; the geometries stay raw bytes until asked for. */
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
    const size_t ml = strlen(CACHE_MAGIC);
    const void *magic = take(&r, ml);
    bool ok = magic && memcmp(magic, CACHE_MAGIC, ml) == 0 && get_u32(&r) == CACHE_FORMAT;
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
        for (int e = 0; e < 4; e++)
            u->env[e] = get_f64(&r);
        u->strip_d = get_f64(&r);
        for (int s = 0; s < N_SLOTS; s++) {
            u->off[s] = (size_t)get_u64(&r);
            u->len[s] = (size_t)get_u64(&r);
        }
        ok = !r.bad && u->code && u->name && u->len[SLOT_LAND] && u->len[SLOT_SIMPLE];
    }
    uint32_t nw = ok ? get_u32(&r) : 0;
    ok = ok && nw < 100000; /* checked before anything is allocated for them */
    char **warn = ok ? calloc(nw ? nw : 1, sizeof *warn) : NULL;
    ok = ok && warn;
    if (!warn)
        nw = 0; /* nothing to free below */
    for (uint32_t i = 0; ok && i < nw; i++)
        ok = (warn[i] = get_str(&r)) != NULL;
    uint64_t blob_n = ok ? get_u64(&r) : 0;
    const unsigned char *blob = ok ? take(&r, (size_t)blob_n) : NULL;
    ok = ok && blob;
    for (uint32_t i = 0; ok && i < nu; i++)
        for (int s = 0; s < N_SLOTS; s++)
            ok = ok && units[i].off[s] <= blob_n && units[i].len[s] <= blob_n - units[i].off[s];
    const void *trailer = ok ? take(&r, ml) : NULL;
    ok = ok && trailer && memcmp(trailer, CACHE_MAGIC, ml) == 0 && r.pos == r.n;
    if (ok) {
        rs->units = units;
        rs->n = nu;
        rs->has_land = has_land;
        rs->lazy->file = data;
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
    free(data);
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

tc_status tc__regionset_prepare(tc_ctx *ctx, const tc_regionset *rs, const tc_snapshot *snap,
                                const tc_report_opts *o, tc__unit **view)
{
    GEOSContextHandle_t h = ctx->geos;
    *view = calloc(rs->n ? rs->n : 1, sizeof **view);
    if (!*view)
        return tc__fail(ctx, TC_ERR_NOMEM, "report: out of memory");
    const bool all = o->equal_area_check; /* it measures every unit's land */
    double se[4];
    set_env(ctx, snap->geom, se);
    const GEOSPreparedGeometry *psnap = NULL;
    tc_status st = TC_OK;
    pthread_mutex_lock(&rs->lazy->lock);
    for (size_t i = 0; i < rs->n && st == TC_OK; i++) {
        tc__unit *u = &rs->units[i];
        if (u->land && u->strip) { /* fully prepared: the report decides for itself */
            (*view)[i] = *u;
            continue;
        }
        /* a land whose envelope misses the snapshot's is not touched: left unparsed */
        bool touched = false, empty = env_empty(u->env);
        if (all || empty || env_overlap(u->env, se))
            st = need_slot(ctx, rs, u, SLOT_LAND);
        if (st == TC_OK && !empty && env_overlap(u->env, se)) {
            if (!psnap && !(psnap = GEOSPrepare_r(h, snap->geom)))
                st = tc__fail(ctx, TC_ERR_GEOMETRY, "report: cannot prepare the snapshot: %s",
                              ctx->geos_msg);
            else
                touched = GEOSPreparedIntersects_r(h, psnap, u->land) == 1;
        }
        if (st == TC_OK && touched)
            st = need_strip(ctx, rs, i);
        (*view)[i] = *u;
        if (!touched && !all && !empty)
            (*view)[i].land = NULL; /* only its areas are needed */
    }
    if (st == TC_OK && rs->lazy->dirty && rs->lazy->cache_file)
        cache_write(ctx, rs);
    pthread_mutex_unlock(&rs->lazy->lock);
    if (psnap)
        GEOSPreparedGeom_destroy_r(h, psnap);
    if (st != TC_OK) {
        free(*view);
        *view = NULL;
    }
    return st;
}

tc_status tc__regionset_prepare_all(tc_ctx *ctx, const tc_regionset *rs)
{
    tc_status st = TC_OK;
    pthread_mutex_lock(&rs->lazy->lock);
    for (size_t i = 0; i < rs->n && st == TC_OK; i++) {
        st = need_slot(ctx, rs, &rs->units[i], SLOT_LAND);
        if (st == TC_OK)
            st = need_strip(ctx, rs, i);
    }
    if (st == TC_OK && rs->lazy->dirty && rs->lazy->cache_file)
        cache_write(ctx, rs);
    pthread_mutex_unlock(&rs->lazy->lock);
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
    if (o->version != TC_REGIONSET_OPTS_VERSION || o->regions.version != TC_OPEN_OPTS_VERSION ||
        o->land.version != TC_OPEN_OPTS_VERSION)
        return tc__fail(ctx, TC_ERR_INVALID_ARG, "regionset open: options not initialised with "
                                                 "TC_REGIONSET_OPTS_INIT");
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
    bool files = is_regular_file(path) && (!o->land_path || is_regular_file(o->land_path));
    if (files) {
        st = tc__sha256_file(ctx, path, rs->sha[0]);
        if (st == TC_OK && o->land_path)
            st = tc__sha256_file(ctx, o->land_path, rs->sha[1]);
    }
    if (st == TC_OK && files && o->cache_dir) {
        cache_key(rs, o, z->key);
        char file[4200];
        snprintf(file, sizeof file, "%s/regionset-%s.bin", o->cache_dir, z->key);
        if (!(z->cache_file = tc__strdup(file)) || !(z->cache_dir = tc__strdup(o->cache_dir)))
            st = tc__fail(ctx, TC_ERR_NOMEM, "regionset open: out of memory");
        else
            rs->from_cache = cache_read(ctx, rs, file, z->key);
    }
    if (st == TC_OK && !rs->from_cache) {
        st = build(ctx, rs, path, o);
        if (st == TC_OK)
            st = keep_warnings(ctx, z, first_warning);
        if (st == TC_OK && z->cache_file)
            cache_write(ctx, rs);
    }
    if (st != TC_OK) {
        tc_regionset_free(rs);
        return st;
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
