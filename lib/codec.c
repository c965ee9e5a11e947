/* Binary encoding for the cache files: growing byte buffers, bounded reads, and polygonal
 * geometries as raw coordinate arrays (regionset.c's units, tiles.c's cells). */
#define _DEFAULT_SOURCE 1 /* MAP_ANONYMOUS (beside the build's _POSIX_C_SOURCE) */
#include "tc_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

/* ---------------------------------------------------------------- byte buffers */

void tc__put(tc__wbuf *b, const void *data, size_t len)
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
    if (data)
        memcpy(b->p + b->n, data, len);
    b->n += len;
}

void tc__put_u32(tc__wbuf *b, uint32_t v) { tc__put(b, &v, sizeof v); }
void tc__put_u64(tc__wbuf *b, uint64_t v) { tc__put(b, &v, sizeof v); }
void tc__put_f64(tc__wbuf *b, double v) { tc__put(b, &v, sizeof v); }
void tc__put_str(tc__wbuf *b, const char *s)
{
    uint32_t len = (uint32_t)strlen(s);
    tc__put_u32(b, len);
    tc__put(b, s, len);
}

const void *tc__take(tc__rbuf *r, size_t len)
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
static void get_raw(tc__rbuf *r, void *out, size_t len)
{
    const void *p = tc__take(r, len);
    if (p)
        memcpy(out, p, len);
    else
        memset(out, 0, len);
}

uint32_t tc__get_u32(tc__rbuf *r)
{
    uint32_t v;
    get_raw(r, &v, sizeof v);
    return v;
}

uint64_t tc__get_u64(tc__rbuf *r)
{
    uint64_t v;
    get_raw(r, &v, sizeof v);
    return v;
}

double tc__get_f64(tc__rbuf *r)
{
    double v;
    get_raw(r, &v, sizeof v);
    return v;
}

char *tc__get_str(tc__rbuf *r)
{
    uint32_t len = tc__get_u32(r);
    const char *p = tc__take(r, len);
    if (!p)
        return NULL;
    char *s = malloc((size_t)len + 1);
    if (s) {
        memcpy(s, p, len);
        s[len] = '\0';
    }
    return s;
}

/* ---------------------------------------------------------------- file headers */

void tc__put_header(tc__wbuf *b, const char *magic, uint32_t format, const char key[64])
{
    tc__put(b, magic, strlen(magic));
    tc__put_u32(b, format);
    tc__put(b, key, 64);
}

bool tc__get_header(tc__rbuf *r, const char *magic, uint32_t format, const char key[64])
{
    const size_t ml = strlen(magic);
    const void *m = tc__take(r, ml);
    bool ok = m && memcmp(m, magic, ml) == 0 && tc__get_u32(r) == format;
    const void *k = ok ? tc__take(r, 64) : NULL;
    return ok && k && memcmp(k, key, 64) == 0;
}

/* ---------------------------------------------------------------- geometry entries */

/* A cache entry holds one Polygon or MultiPolygon in 8-byte words (native byte order: the
 * cache key names it): the GEOS type (3 or 6); for a MultiPolygon the number of polygons,
 * then each; a polygon is its number of rings (0: empty), each ring its number of points
 * then x, y pairs. Entries start at multiples of 8 bytes, so coordinates are copied
 * straight into GEOS (GEOSCoordSeq_copyFromBuffer_r): about 15 times faster to read than
 * WKB through GEOS's reader, 30 times faster to write. */

/* Room for len more bytes at the end of b (NULL when out of memory). */
static void *reserve(tc__wbuf *b, size_t len)
{
    size_t at = b->n;
    tc__put(b, NULL, len);
    return b->nomem ? NULL : b->p + at;
}

static bool encode_polygon(GEOSContextHandle_t h, tc__wbuf *b, const GEOSGeometry *poly)
{
    if (GEOSisEmpty_r(h, poly) == 1) {
        tc__put_u64(b, 0);
        return true;
    }
    int nh = GEOSGetNumInteriorRings_r(h, poly);
    if (nh < 0)
        return false;
    tc__put_u64(b, (uint64_t)nh + 1);
    for (int i = -1; i < nh; i++) {
        const GEOSGeometry *ring =
            i < 0 ? GEOSGetExteriorRing_r(h, poly) : GEOSGetInteriorRingN_r(h, poly, i);
        const GEOSCoordSequence *seq = ring ? GEOSGeom_getCoordSeq_r(h, ring) : NULL;
        unsigned int n = 0;
        if (!seq || !GEOSCoordSeq_getSize_r(h, seq, &n))
            return false;
        tc__put_u64(b, n);
        double *xy = reserve(b, (size_t)n * 16);
        if (!xy || (n && !GEOSCoordSeq_copyToBuffer_r(h, seq, xy, 0, 0)))
            return false;
    }
    return true;
}

/* Append g to b; false (b unusable) for another type or a GEOS failure. */
bool tc__geom_encode(GEOSContextHandle_t h, tc__wbuf *b, const GEOSGeometry *g)
{
    int type = GEOSGeomTypeId_r(h, g);
    if (type != GEOS_POLYGON && type != GEOS_MULTIPOLYGON)
        return false;
    tc__put_u64(b, (uint64_t)type);
    if (type == GEOS_POLYGON)
        return encode_polygon(h, b, g);
    int n = GEOSGetNumGeometries_r(h, g);
    if (n < 0)
        return false;
    tc__put_u64(b, (uint64_t)n);
    for (int i = 0; i < n; i++)
        if (!encode_polygon(h, b, GEOSGetGeometryN_r(h, g, i)))
            return false;
    return !b->nomem;
}

/* One polygon from r; with h NULL only checked (rings empty or closed with at least 4
 * points, as GEOS requires), and a non-NULL dummy returned when it is sound. */
static GEOSGeometry *decode_polygon(GEOSContextHandle_t h, tc__rbuf *r)
{
    static char sound; /* the dummy: never dereferenced */
    uint64_t nr = tc__get_u64(r);
    if (r->bad || nr > (r->n - r->pos) / 8)
        return NULL;
    if (nr == 0)
        return h ? GEOSGeom_createEmptyPolygon_r(h) : (GEOSGeometry *)&sound;
    GEOSGeometry **rings = h ? calloc(nr, sizeof *rings) : NULL;
    bool ok = !h || rings;
    size_t k = 0;
    for (; ok && k < nr; k++) {
        uint64_t np = tc__get_u64(r);
        if (r->bad || (np != 0 && np < 4) || np > (r->n - r->pos) / 16) {
            ok = false;
            break;
        }
        const double *xy = tc__take(r, np * 16);
        if (np && memcmp(xy, xy + 2 * (np - 1), 16) != 0) {
            ok = false; /* not closed */
            break;
        }
        if (h) {
            GEOSCoordSequence *seq = GEOSCoordSeq_copyFromBuffer_r(h, xy, (unsigned)np, 0, 0);
            rings[k] = seq ? GEOSGeom_createLinearRing_r(h, seq) : NULL; /* takes seq */
            ok = rings[k] != NULL;
        }
    }
    if (!h)
        return ok ? (GEOSGeometry *)&sound : NULL;
    GEOSGeometry *poly =
        ok ? GEOSGeom_createPolygon_r(h, rings[0], rings + 1, (unsigned)(nr - 1)) : NULL;
    if (!ok)
        for (size_t i = 0; i < k; i++)
            if (rings[i])
                GEOSGeom_destroy_r(h, rings[i]);
    free(rings);
    return poly;
}

/* The geometry of entry p[0..len) (h NULL: only checked, as decode_polygon()). */
GEOSGeometry *tc__geom_decode(GEOSContextHandle_t h, const unsigned char *p, size_t len)
{
    static char sound;
    tc__rbuf r = {p, len, 0, false};
    uint64_t type = tc__get_u64(&r);
    if ((uintptr_t)p % 8 != 0 || r.bad || (type != GEOS_POLYGON && type != GEOS_MULTIPOLYGON))
        return NULL;
    GEOSGeometry *g = NULL;
    if (type == GEOS_POLYGON) {
        g = decode_polygon(h, &r);
    } else {
        uint64_t n = tc__get_u64(&r);
        if (r.bad || n > (r.n - r.pos) / 8)
            return NULL;
        GEOSGeometry **polys = h ? calloc(n ? n : 1, sizeof *polys) : NULL;
        bool ok = !h || polys;
        size_t k = 0;
        for (; ok && k < n; k++)
            ok = (h ? (polys[k] = decode_polygon(h, &r)) : decode_polygon(NULL, &r)) != NULL;
        if (!h) {
            g = ok ? (GEOSGeometry *)&sound : NULL;
        } else if (ok) {
            g = n ? GEOSGeom_createCollection_r(h, GEOS_MULTIPOLYGON, polys, (unsigned)n)
                  : GEOSGeom_createEmptyCollection_r(h, GEOS_MULTIPOLYGON);
        } else {
            for (size_t i = 0; i + 1 < k; i++)
                GEOSGeom_destroy_r(h, polys[i]);
        }
        free(polys);
    }
    if (g && r.pos != r.n) { /* trailing bytes: not what was written */
        if (h)
            GEOSGeom_destroy_r(h, g);
        g = NULL;
    }
    return g;
}


/* ---------------------------------------------------------------- files */

/* The checksum a cache file ends with: XXH3-128 of the bytes before it, canonical (big
 * endian) form. Non-cryptographic: it finds damage, while the files' names (SHA-256 keys)
 * say what they hold. */
static void cache_digest(const void *p, size_t n, unsigned char out[TC__CACHE_DIGEST])
{
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH3_128bits(p, n));
    memcpy(out, c.digest, TC__CACHE_DIGEST);
}

bool tc__cache_write_file(const char *path, const tc__wbuf *b)
{
    unsigned char digest[TC__CACHE_DIGEST];
    cache_digest(b->p, b->n, digest);
    size_t len = strlen(path) + 64;
    char *tmp = malloc(len);
    if (!tmp)
        return false;
    snprintf(tmp, len, "%s.tmp.%ld.%p", path, (long)getpid(), (const void *)b);
    FILE *f = fopen(tmp, "wb");
    bool ok = f && fwrite(b->p, 1, b->n, f) == b->n &&
              fwrite(digest, 1, TC__CACHE_DIGEST, f) == TC__CACHE_DIGEST;
    if (f && fclose(f) != 0)
        ok = false;
    if (ok && rename(tmp, path) != 0)
        ok = false;
    if (!ok)
        remove(tmp);
    free(tmp);
    return ok;
}

unsigned char *tc__cache_read_file(const char *path, size_t *len, bool *damaged)
{
    *len = 0;
    *damaged = false;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat sb;
    void *map = MAP_FAILED;
    size_t n = 0;
    /* mapped, not read: the page cache's pages are used as they are (a read copied 7 MB
     * into fresh memory, 6-9 ms of a repeated report). Files are only ever replaced by a
     * rename, never rewritten in place, so a mapping stays valid while it is used. */
    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0 &&
        (uintmax_t)sb.st_size <= SIZE_MAX) {
        n = (size_t)sb.st_size;
        map = mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0);
        /* a file system that cannot map files: read into anonymous pages, released the
         * same way */
        if (map == MAP_FAILED &&
            (map = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) !=
                MAP_FAILED) {
            size_t got = 0;
            ssize_t k = 1;
            while (got < n && (k = read(fd, (unsigned char *)map + got, n - got)) > 0)
                got += (size_t)k;
            if (got != n) {
                munmap(map, n);
                map = MAP_FAILED;
            }
        }
    }
    close(fd);
    if (map == MAP_FAILED)
        return NULL;
    unsigned char *data = map, digest[TC__CACHE_DIGEST];
    if (n < TC__CACHE_DIGEST ||
        (cache_digest(data, n - TC__CACHE_DIGEST, digest),
         memcmp(digest, data + n - TC__CACHE_DIGEST, TC__CACHE_DIGEST) != 0)) {
        *damaged = n >= TC__CACHE_DIGEST; /* (shorter: not a cache file at all) */
        munmap(map, n);
        return NULL;
    }
    *len = n - TC__CACHE_DIGEST;
    return data;
}

void tc__cache_release(const unsigned char *data, size_t len)
{
    if (data)
        munmap((void *)(uintptr_t)data, len + TC__CACHE_DIGEST);
}

bool tc__mkdir_p(const char *dir)
{
    size_t n = strlen(dir);
    char *p = malloc(n + 1);
    if (!p)
        return false;
    memcpy(p, dir, n + 1);
    bool ok = true;
    for (size_t i = 1; ok && i <= n; i++) /* each parent first, then dir itself */
        if (p[i] == '/' || p[i] == '\0') {
            char c = p[i];
            p[i] = '\0';
            ok = mkdir(p, 0777) == 0 || errno == EEXIST;
            p[i] = c;
        }
    free(p);
    return ok;
}
