/* Internal declarations shared between lib/ files. Never installed. */
#ifndef TC_INTERNAL_H
#define TC_INTERNAL_H

#define GEOS_USE_ONLY_R_API
#include <geos_c.h>
#include <geodesic.h>
#include <proj.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tclaims/tclaims.h>

#if defined(__GNUC__)
#define TC__PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define TC__PRINTF(a, b)
#endif

#define TC__ERRMSG_LEN 1024
#define TC__PI 3.14159265358979323846
/* Longest edge kept in input geometries, degrees (about 1.1 km of latitude). */
#define TC__MAX_EDGE_DEG 0.002
/* Longest edge kept in snapshots, degrees. Overlays split the land's long edges (coasts,
 * territorial sea), not the snapshot's (its edges over land are short): 0.01 changes no
 * figure by more than 0.003 km2 against 0.002 and keeps a DeepState snapshot at 6,800
 * vertices instead of 27,500 (docs/method.md). */
#define TC__SNAP_EDGE_DEG 0.01
/* Densifying one source may add at most this many vertices (a guard against a tiny file
 * of huge edges; Ukraine's boundary file needs about 300,000 in all). */
#define TC__MAX_DENSIFY_VERTICES 5000000
#define TC__STR_(x) #x
#define TC__STR(x) TC__STR_(x)

struct tc_ctx {
    GEOSContextHandle_t geos;
    PJ_CONTEXT *pj;
    struct geod_geodesic geod;       /* WGS84, set once in tc_ctx_new */
    char errmsg[TC__ERRMSG_LEN];     /* last failure, "" = none */
    char geos_msg[TC__ERRMSG_LEN];   /* last text from GEOS's error handler */
    char gdal_msg[TC__ERRMSG_LEN];   /* last text from GDAL's error handler */
    char **warnings;
    size_t n_warnings, cap_warnings;
    double *scratch;                 /* coordinate buffer for area loops */
    size_t scratch_cap;              /* in doubles */
};

/* Clear the error message (and engine messages); every public entry calls it. */
void tc__clear(tc_ctx *ctx);
/* Set the error message (printf-style) and return status. */
tc_status tc__fail(tc_ctx *ctx, tc_status status, const char *fmt, ...) TC__PRINTF(3, 4);
/* Append a warning; silently dropped only if memory runs out. */
void tc__warn(tc_ctx *ctx, const char *fmt, ...) TC__PRINTF(2, 3);
/* Make sure ctx->scratch holds at least n doubles. */
tc_status tc__scratch(tc_ctx *ctx, size_t n);

/* GDAL error capture: push before GDAL calls, pop after; text lands in ctx->gdal_msg. */
void tc__gdal_push(tc_ctx *ctx);
void tc__gdal_pop(void);
/* Text of the last GDAL error, or fallback when GDAL said nothing. */
const char *tc__gdal_msg(const tc_ctx *ctx, const char *fallback);

/* Duplicate a string with malloc; NULL on failure (or NULL input). */
char *tc__strdup(const char *s);

/* ---- hash sets and maps of exact coordinates (keyset.c) ---- */
/* Open addressing over keys of k 64-bit words (2: a point, 4: an edge); with values, each
 * key maps to a double. */
typedef struct tc__keyset {
    uint64_t *keys;      /* cap * k words; a slot is free when its used byte is 0 */
    unsigned char *used;
    double *val;         /* NULL: a set */
    size_t cap, n, k;
} tc__keyset;
bool tc__keyset_init(tc__keyset *s, size_t k, size_t expect, bool values);
void tc__keyset_free(tc__keyset *s);
bool tc__keyset_has(const tc__keyset *s, const uint64_t *w);
/* The value of key w, or NULL when absent (or a set). */
const double *tc__keyset_get(const tc__keyset *s, const uint64_t *w);
/* Add w (with value v; replaced if present); false only when out of memory. */
bool tc__keyset_put(tc__keyset *s, const uint64_t *w, double v);
bool tc__keyset_add(tc__keyset *s, const uint64_t *w);
void tc__point_key(double x, double y, uint64_t w[2]);
/* The same key for a→b and b→a; true when the key runs b→a. */
bool tc__edge_key(double ax, double ay, double bx, double by, uint64_t w[4]);

/* ---- binary encoding for cache files (codec.c) ---- */
/* A growing byte buffer; nomem once an allocation failed (later puts do nothing). */
typedef struct tc__wbuf {
    unsigned char *p;
    size_t n, cap;
    bool nomem;
} tc__wbuf;
/* Bounded reading; bad once a read ran past the end (later reads give zeros/NULL). */
typedef struct tc__rbuf {
    const unsigned char *p;
    size_t n, pos;
    bool bad;
} tc__rbuf;
void tc__put(tc__wbuf *b, const void *data, size_t len); /* data NULL: room only */
void tc__put_u32(tc__wbuf *b, uint32_t v);
void tc__put_u64(tc__wbuf *b, uint64_t v);
void tc__put_f64(tc__wbuf *b, double v);
void tc__put_str(tc__wbuf *b, const char *s);
const void *tc__take(tc__rbuf *r, size_t len);
uint32_t tc__get_u32(tc__rbuf *r);
uint64_t tc__get_u64(tc__rbuf *r);
double tc__get_f64(tc__rbuf *r);
char *tc__get_str(tc__rbuf *r); /* malloc'd; NULL when short or out of memory */
/* Append a Polygon or MultiPolygon (b->n a multiple of 8 first); false for another type
 * or a GEOS failure. */
bool tc__geom_encode(GEOSContextHandle_t h, tc__wbuf *b, const GEOSGeometry *g);
/* The geometry of an entry (p 8-byte aligned); with h NULL only checked (a non-NULL
 * dummy when sound). NULL when damaged. */
GEOSGeometry *tc__geom_decode(GEOSContextHandle_t h, const unsigned char *p, size_t len);
/* A cache file's header: its magic text, its format and the 64 hex digits of its key;
 * get: true when r starts with exactly that (r is then past it). */
void tc__put_header(tc__wbuf *b, const char *magic, uint32_t format, const char key[64]);
bool tc__get_header(tc__rbuf *r, const char *magic, uint32_t format, const char key[64]);
/* Bytes of the checksum that ends every cache file (XXH3-128). */
#define TC__CACHE_DIGEST 16
/* Write b, then the checksum of its bytes, to path through a temporary file and rename;
 * false (errno set) when that failed. b is left as it was. */
bool tc__cache_write_file(const char *path, const tc__wbuf *b);
/* Read a file written by tc__cache_write_file(): its bytes without the checksum, mapped
 * read-only (release with tc__cache_release(data, *len)), or NULL when absent, unreadable
 * or damaged (*damaged: a checksum that does not match). */
unsigned char *tc__cache_read_file(const char *path, size_t *len, bool *damaged);
void tc__cache_release(const unsigned char *data, size_t len);
/* Create dir and any missing parent (mode 0777 before the umask); false (errno set) when
 * one could not be made. */
bool tc__mkdir_p(const char *dir);

/* ---- geometry (geom.c) ---- */

/* A ring's (or line's) coordinates copied into ctx->scratch (valid until its next use). */
tc_status tc__ring_xy(tc_ctx *ctx, const GEOSGeometry *ring, double **x, double **y, size_t *n);
/* Calls fn for every ring of polygonal g with at least 4 coordinates: polygons in order
 * (collections depth-first), shell first, then holes. Stops at the first failure. */
typedef tc_status (*tc__ring_fn)(tc_ctx *ctx, void *user, const GEOSGeometry *ring);
tc_status tc__each_ring(tc_ctx *ctx, const GEOSGeometry *g, tc__ring_fn fn, void *user);
/* Geodesic area (m^2, holes subtracted) and perimeter (m, may be NULL) of a
 * polygonal GEOS geometry (Polygon, MultiPolygon, GeometryCollection). */
tc_status tc__geom_area_m2(tc_ctx *ctx, const GEOSGeometry *g, double *area_m2,
                           double *perimeter_m);
/* The geodesic area terms (S12, geod_geninverse) of every edge of polygonal g, indexed by
 * the edges' end points: areas of pieces cut from g (whose vertices overlays keep exactly)
 * then look up the terms of g's edges instead of computing them. terms: the n_terms values
 * tc__edge_terms_compute() gave for the same geometry (one per vertex, rings in
 * tc__each_ring() order, each ring's closing point left out); copied. TC_ERR_INTERNAL when
 * they are not g's (NULL, or another count).
 * Read-only once built: may be shared by threads. */
typedef struct tc__edge_terms tc__edge_terms;
tc_status tc__edge_terms_new(tc_ctx *ctx, const GEOSGeometry *g, const double *terms,
                             size_t n_terms, tc__edge_terms **out);
void tc__edge_terms_free(tc__edge_terms *et);
/* The terms of every edge of polygonal g, one per vertex (tc__edge_terms_new()'s order),
 * as a malloc'd array. */
tc_status tc__edge_terms_compute(tc_ctx *ctx, const GEOSGeometry *g, double **terms,
                                 size_t *n_terms);
/* tc__geom_area_m2() without perimeter, of g from its own edges' terms (n_terms of them,
 * tc__edge_terms_compute() of g): the figure geod_polygonarea() gives, to the last bit. */
tc_status tc__geom_area_terms_m2(tc_ctx *ctx, const GEOSGeometry *g, const double *terms,
                                 size_t n_terms, double *area_m2);
/* tc__geom_area_m2() without perimeter, the terms of et's edges looked up (et may be NULL).
 * The same figure to rounding (for g itself, to the last bit). */
tc_status tc__geom_area_et_m2(tc_ctx *ctx, const GEOSGeometry *g, const tc__edge_terms *et,
                              double *area_m2);
/* Total planar length (degrees) of every ring or line of g. */
tc_status tc__geom_planar_length_deg(tc_ctx *ctx, const GEOSGeometry *g, double *length_deg);
/* MultiPolygon g (valid; consumed) with every edge longer than max_edge degrees split
 * into equal parts, as GEOSDensify does but without its repairing buffer(0) (g is valid
 * already), and a vertex wherever an edge crosses a grid line x = k step or y = k step:
 * cutting the result along grid lines then splits no edge, so tiles add up to the whole
 * on the ellipsoid (lib/tiles.c). NULL on failure. */
GEOSGeometry *tc__geom_densify_take(tc_ctx *ctx, GEOSGeometry *g, double max_edge, double step);
/* The rectangle b (xmin, ymin, xmax, ymax) as a polygon, densified to edges of at most
 * densify degrees (0: its four corners only); NULL on failure. */
GEOSGeometry *tc__rect_polygon(tc_ctx *ctx, const double b[4], double densify);
/* g clipped to box by GEOSClipByRect, or NULL to use g whole: GEOS's rectangle clipper is
 * unreliable where edges run along the rectangle, so each side first moves outward past
 * any vertex coordinate of g (x, y: all n of them, each array sorted ascending:
 * tc__sort_doubles), and an invalid result is dropped. */
void tc__sort_doubles(double *v, size_t n);
GEOSGeometry *tc__clip_guarded(tc_ctx *ctx, const GEOSGeometry *g, const double *x,
                               const double *y, size_t n, const double box[4]);
/* Geodesic length (m) of the linear parts of g (LineString, MultiLineString, collections). */
tc_status tc__geom_length_m(tc_ctx *ctx, const GEOSGeometry *g, double *length_m);
/* Compute every envelope of g and its parts now, so that later read-only use from several
 * threads never triggers GEOS's lazy envelope caching. */
void tc__geom_warm(tc_ctx *ctx, const GEOSGeometry *g);
/* Check finite, in-range lon/lat coordinates. what names the object in messages. */
tc_status tc__geom_check_coords(tc_ctx *ctx, const GEOSGeometry *g, const char *what);
/* Keep only polygonal parts; returns a new MultiPolygon (possibly empty) or NULL on GEOS failure.
 * *dropped is set to the number of non-polygonal parts that were dropped. */
GEOSGeometry *tc__geom_polygonal(tc_ctx *ctx, const GEOSGeometry *g, size_t *dropped);
/* Make valid if needed; returns a new valid polygonal geometry (owned), or NULL.
 * When a repair happened and what != NULL, a warning with the area change is added. */
GEOSGeometry *tc__geom_make_valid(tc_ctx *ctx, const GEOSGeometry *g, const char *what,
                                  tc_status *status);

/* ---- OGR reading (ogr_read.c) ---- */

/* Callback per feature: geometry in WGS84 lon/lat (owned by the callee after the call: it
 * must destroy or keep it), the feature's code/name strings (may be NULL). */
typedef tc_status (*tc__feature_fn)(tc_ctx *ctx, void *user, long fid, const char *code,
                                    const char *name, GEOSGeometry *geom);

typedef struct tc__read_opts {
    const tc_open_opts *open;  /* may be NULL */
    bool want_fields;          /* detect the code/name fields */
    bool allow_empty;          /* an empty layer is not an error */
    bool split;                /* a large GeoJSON file may be parsed in two halves at once,
                                  the second on a thread of its own (ogr_read.c) */
    double densify_deg;        /* longest edge kept, degrees; 0: TC__MAX_EDGE_DEG */
    double densify_added;      /* vertices densifying has added so far (whole source) */
    char code_field[128];      /* out: detected field names */
    char name_field[128];
} tc__read_opts;

/* Lower-case hex SHA-256 of what GDAL returns for the layer of path as oo selects it (layer
 * name, attribute filter): its CRS, its field names, then each feature in order (FID,
 * every field as text, the geometry as ISO WKB): the content a source that is not a
 * regular file (a database table) is keyed by. */
/* How entry i of an archive is opened (its layer and date filter; the defaults for a file). */
void tc__archive_open_opts(const tc_archive *archive, size_t i, tc_open_opts *oo);
tc_status tc__source_digest(tc_ctx *ctx, const char *path, const tc_open_opts *oo, char hex[65]);
/* Read every feature of one layer of path, reprojected to WGS84 lon/lat. */
tc_status tc__ogr_read(tc_ctx *ctx, const char *path, tc__read_opts *ro, tc__feature_fn fn,
                       void *user);

/* ---- hashing (hash.c) ---- */
/* Lower-case hex SHA-256 of a regular file into hex[65]. TC_ERR_IO if unreadable. */
tc_status tc__sha256_file(tc_ctx *ctx, const char *path, char hex[65]);
/* SHA-256 of a memory buffer, raw. */
void tc__sha256(const void *data, size_t len, unsigned char digest[32]);
/* Lower-case hex SHA-256 of a memory buffer. */
void tc__sha256_hex(const void *data, size_t len, char hex[65]);

/* ---- catalog (catalog.c) ---- */
/* Normalise an ISO 3166-2 like code ("UA14", "ua-14") to "UA-14" form into buf; false if not code-like. */
bool tc__normalize_code(const char *in, char *buf, size_t len);



/* ---- regions (layer.c) ---- */
struct tc_region {
    char *code;
    char *name;
    GEOSGeometry *geom; /* valid MultiPolygon, WGS84 lon/lat */
    size_t n_features;
};

struct tc_layer {
    tc_ctx *ctx;
    char *path;
    struct tc_region *regions;
    size_t n, cap;
    char code_field[128];
    char name_field[128];
};

/* tc_layer_open() that reports every feature as it joins its region, on the reading thread:
 * watch(user, i, n, part) after part, the n-th feature of region i (a MultiPolygon owned by
 * the layer, not changed until the layer is freed unless a later feature joins region i).
 * A region of one feature gets that feature's geometry itself as its geometry. Once the
 * reading ends, and before any part is merged or (on failure) freed, watch(user, SIZE_MAX,
 * ok, NULL) runs: ok is 1 when every feature was read. */
typedef void (*tc__layer_watch)(void *user, size_t region, size_t n_features,
                                const GEOSGeometry *part);
tc_status tc__layer_open_watch(tc_ctx *ctx, const char *path, const tc_open_opts *opts,
                               tc__layer_watch watch, void *user, tc_layer **out);

/* Union a set of polygonal geometries (consumed) into one valid MultiPolygon. */
GEOSGeometry *tc__union_take(tc_ctx *ctx, GEOSGeometry **parts, size_t n);
/* Wrap any polygonal result as a MultiPolygon (consumes g). */
GEOSGeometry *tc__as_multi_take(tc_ctx *ctx, GEOSGeometry *g);

/* ---- snapshots (snapshot.c) ---- */
struct tc_snapshot {
    tc_ctx *ctx;
    char *path;
    GEOSGeometry *geom; /* union of all polygons, valid */
    size_t n_polygons;
    char sha256[65];    /* "" unless a regular file */
};

/* ---- prepared units (regionset.c) ---- */
typedef struct tc__unit {
    char *code, *name;
    double admin_m2, land_m2;
    GEOSGeometry *land;  /* MultiPolygon: the unit clipped to land (or as drawn); NULL until
                            prepared (tc__regionset_prepare) */
    GEOSGeometry *strip; /* MultiPolygon: neighbouring land within TC__STRIP_M beyond the unit;
                            NULL until prepared */
    tc__edge_terms *et;  /* the area terms of land's edges, indexed (tc__geom_area_et_m2);
                            NULL until a report measures the unit */
    double *terms;       /* land's edge terms as built (for the cache); NULL when read */
    size_t n_terms;
    /* regionset.c only */
    GEOSGeometry *simple; /* the unit as drawn, simplified: the strip's source (lazy) */
    double env[4];        /* envelope of land (x0, y0, x1, y1); x0 > x1: empty land */
    double strip_d;       /* strip width, degrees of longitude */
    size_t off[4], len[4]; /* land, its edge terms, simple and strip in the cache file
                              (len 0: none) */
} tc__unit;

/* Width of the strip of neighbouring land kept beside each unit, metres. */
#define TC__STRIP_M 3000.0

typedef struct tc__lazy tc__lazy; /* regionset.c: the lock and the cache file */

struct tc_regionset {
    tc_ctx *ctx; /* creator: frees the geometries */
    tc__unit *units;
    size_t n;
    bool has_land, from_cache;
    char sha[2][65];
    tc__lazy *lazy;
};

/* Make sure every unit a report of snap needs is prepared, thread-safely (the set's mutex):
 * land for every unit the snapshot touches (every unit with opts->equal_area_check), and
 * the strip of those among them the report classifies (classified[i]; the others only
 * need their controlled land); extends the cache file when it built something. *view
 * (owned: free()) gets a copy of the n units as the report may read them: view[i].land ==
 * NULL means "not touched by the snapshot: only admin_m2 and land_m2 are valid"; the strip
 * of a unit not classified may be NULL. The geometries stay the set's. Strips are built
 * with up to opts->jobs threads. */
tc_status tc__regionset_prepare(tc_ctx *ctx, const tc_regionset *rs, const tc_snapshot *snap,
                                const tc_report_opts *opts, const bool *classified,
                                tc__unit **view);
/* The tiles of unit i (prepared), read from the set's cache directory when a sound copy
 * is there, else cut (tc__tiles_new()) and written there for the next time (a failed
 * write is silent: the tiles are only slower to get). Safe from several threads. */
typedef struct tc__tiles tc__tiles; /* tiles.c */
tc_status tc__regionset_tiles(tc_ctx *ctx, const tc_regionset *rs, size_t i, tc__tiles **out);
/* The set's cache key (64 hex digits), or NULL when it has no cache. */
const char *tc__regionset_cache_key(const tc_regionset *rs);
/* A unit's result stored under key hex (the SHA-256 of everything it depends on: report.c)
 * beside the set's cache file, in results/; false when the set has no cache or the entry
 * is absent or damaged. put: best effort (a failed write is a result not reused). */
bool tc__regionset_result_get(const tc_regionset *rs, const char hex[65], tc_areas *a);
void tc__regionset_result_put(const tc_regionset *rs, const char hex[65], const tc_areas *a);
/* Any stored entry of results/ named by hex: its bytes (release with tc__cache_release(d,
 * r->n)) with *r past its header (magic, format, hex), or NULL when the set has no cache or
 * the entry is absent, damaged or of another kind. put: b (which starts with the header)
 * written there through a temporary file; false when it was not (best effort). */
const unsigned char *tc__regionset_stored_get(const tc_regionset *rs, const char hex[65],
                                              const char *magic, uint32_t format, tc__rbuf *r);
bool tc__regionset_stored_put(const tc_regionset *rs, const char hex[65], const tc__wbuf *b);
/* A tc_areas in a stored entry (TC__AREAS_BYTES bytes: 8 doubles, 3 counts, a flag); get:
 * false when short or not finite. */
#define TC__AREAS_BYTES (8 * 8 + 3 * 8 + 4)
void tc__put_areas(tc__wbuf *b, const tc_areas *a);
bool tc__get_areas(tc__rbuf *r, tc_areas *a);

/* ---- front line (front.c) ---- */
/* The vertices and edges of a unit's land and the vertices of the snapshot it was overlaid
 * with (land, snap and psnap, the snapshot prepared, are borrowed: they must outlive the
 * index). */
typedef struct tc__front_index tc__front_index;
tc_status tc__front_index_new(tc_ctx *ctx, const GEOSGeometry *land, const GEOSGeometry *snap,
                              const GEOSPreparedGeometry *psnap, tc__front_index **out);
void tc__front_index_free(tc_ctx *ctx, tc__front_index *fi);
/* The same index for another snapshot (the land's part is kept). */
tc_status tc__front_index_set_snap(tc_ctx *ctx, tc__front_index *fi, const GEOSGeometry *snap,
                                   const GEOSPreparedGeometry *psnap);
/* Adds to *front_m the geodesic length of the edges of piece (an uncontrolled polygon of
 * land − snap) that are not on the land's boundary; with cut_box (a tile's cell), edges
 * along the cell's edges count only where controlled land lies across them (elsewhere
 * they are cuts between tiles or the land's boundary). */
tc_status tc__front_length_m(tc_ctx *ctx, tc__front_index *fi, const GEOSGeometry *piece,
                             const double *cut_box, double *front_m);
/* The same by the reference route: every edge whose midpoint is not on the boundary of
 * land (prepared). */
tc_status tc__front_length_ref_m(tc_ctx *ctx, const GEOSPreparedGeometry *land,
                                 const GEOSGeometry *piece, double *front_m);

/* ---- tiles (tiles.c): a unit's land cut into grid cells, for series ---- */
/* Cell size of the grid, degrees; cells are anchored at its multiples. */
#define TC__TILE_DEG 0.125
/* Version of how tiles are cut and written: part of the key of cached tiles (bump it
 * whenever tiles.c would cut the same land differently). */
#define TC__TILES_FORMAT 1

/* A set of grid cells (keys of tc__cell_key); sort before tc__cellset_has(). */
typedef struct tc__cellset {
    int64_t *key;
    size_t n, cap;
    bool sorted;
} tc__cellset;
int64_t tc__cell_key(long ci, long cj);
/* Grid indices of the cell whose south-west corner is (box[0], box[1]). */
void tc__cell_of(const double box[4], long *ci, long *cj);
bool tc__cellset_add(tc__cellset *s, long ci, long cj); /* false: out of memory */
void tc__cellset_sort(tc__cellset *s);
/* Add the eight neighbours of every cell (a change can touch a cell's edge from the next
 * cell), sorted, without repeats; false: out of memory. */
bool tc__cellset_grow(tc__cellset *s);
bool tc__cellset_has(const tc__cellset *s, long ci, long cj);
void tc__cellset_free(tc__cellset *s);

/* The snapshot as tiles need it: geometry, prepared, its boundary prepared, every
 * vertex (clip guard). */
typedef struct tc__tiles_snap {
    const GEOSGeometry *geom;
    const GEOSPreparedGeometry *prep, *pbnd;
    const double *x, *y;
    size_t n;
    const tc__edge_terms *et; /* the unit's land's edge terms (NULL: none), for the areas of
                                 fragments */
} tc__tiles_snap;

/* One uncontrolled fragment: a polygon inside one cell. */
typedef struct tc__frag_ref {
    const GEOSGeometry *g; /* borrowed from the tiles, valid until the next update */
    double m2;             /* geodesic area */
    const double *box;     /* its cell */
    bool whole_cell;       /* it is the whole cell (all land, all uncontrolled) */
    bool mixed;            /* its cell holds snapshot boundary (else no snapshot at all:
                              then none of its edges is front) */
    double *front_m;       /* its front line, kept with the fragment while its cell and
                              the cells around are unchanged; valid when *front_done */
    bool *front_done;
} tc__frag_ref;

/* A piece of uncontrolled land: fragments connected through shared cell edges. */
typedef struct tc__piece {
    size_t first, n_frag;  /* its fragments: tc__tiles_piece_frag(t, p, 0..n_frag-1) */
    double m2;             /* sum of their areas */
    bool whole_cell;       /* one of them is a whole cell (so the piece is thick) */
} tc__piece;

/* The unit's strip of neighbouring land in one cell (for the contact test). */
typedef struct tc__strip_cell {
    long ci, cj;
    double box[4];
    GEOSGeometry *rect;   /* the cell (5 points) */
    GEOSGeometry *part;   /* the strip inside it (MultiPolygon), never empty */
    int thick;            /* -1 not known yet, 0 thin, 1 thick (contains a disk of half the
                             sliver width; kept: the part never changes) */
    unsigned long epoch;  /* the report (tc__memo epoch) that set empty */
    bool empty;           /* no snapshot in the closed cell at that report */
} tc__strip_cell;

/* Cut land into cells (strip: the cells it reaches count as the unit's too). */
tc_status tc__tiles_new(tc_ctx *ctx, const GEOSGeometry *land, const GEOSGeometry *strip,
                        tc__tiles **out);
void tc__tiles_free(tc_ctx *ctx, tc__tiles *t);
/* Append what of t does not depend on a snapshot (cells, land, areas, strip cells) to b,
 * after key; false when out of memory. */
bool tc__tiles_encode(tc_ctx *ctx, const tc__tiles *t, const char key[64], tc__wbuf *b);
/* Tiles from bytes written by tc__tiles_encode() with the same key: the same geometries
 * and areas, bit for bit, as the set encoded; TC_ERR_FORMAT for another key or any damage. */
tc_status tc__tiles_decode(tc_ctx *ctx, const unsigned char *p, size_t len, const char key[64],
                           tc__tiles **out);
/* Does any cell of dirty (sorted; NULL: all) touch the unit's land or strip? */
bool tc__tiles_any_dirty(const tc__tiles *t, const tc__cellset *dirty);
/* Does any cell of dirty (sorted; NULL: all) touch the unit's strip? */
bool tc__tiles_strip_dirty(const tc__tiles *t, const tc__cellset *dirty);
/* Fragments and pieces for a snapshot; only cells in dirty (NULL: all) are recomputed
 * when the tiles already hold a result. */
tc_status tc__tiles_update(tc_ctx *ctx, tc__tiles *t, const tc__tiles_snap *snap,
                           const tc__cellset *dirty);
/* Land that changed hands in the last update, cell by cell against each cell's previous
 * state: became controlled (gained) and became uncontrolled (lost); 0 for a first update. */
void tc__tiles_change(const tc__tiles *t, double *gained_m2, double *lost_m2);
/* The strip cells whose box comes within tol of box: up to max indices into idx;
 * returns how many. The cells themselves: tc__tiles_strip_cell(). */
size_t tc__tiles_strip_near(const tc__tiles *t, const double box[4], double tol, size_t *idx,
                            size_t max);
tc__strip_cell *tc__tiles_strip_cell(tc__tiles *t, size_t i);
size_t tc__tiles_piece_count(const tc__tiles *t);
const tc__piece *tc__tiles_piece(const tc__tiles *t, size_t i);
const tc__frag_ref *tc__tiles_piece_frag(const tc__tiles *t, const tc__piece *p, size_t k);

/* ---- report engine (report.c) ---- */
/* Per-unit state kept between the reports of one series (one worker): each unit's tiles
 * and last result; a unit none of whose cells changed keeps its result. */
typedef struct tc__memo tc__memo;
tc__memo *tc__memo_new(tc_ctx *ctx, size_t n_units); /* ctx: the worker's, outlives it */
void tc__memo_free(tc__memo *m);
/* The cells where the snapshot changed since the previous date (sorted; borrowed until
 * the next tc__report_compute() returns), or NULL: everything may have changed. */
void tc__memo_set_dirty(tc__memo *m, const tc__cellset *dirty);
/* Land of unit that changed hands at the last tc__report_compute() with m, against the
 * date before it: became controlled (gained), became uncontrolled (lost). */
void tc__memo_change(const tc__memo *m, size_t unit, double *gained_m2, double *lost_m2);
/* tc_report_new() with an optional memo (NULL: none). */
tc_status tc__report_compute(tc_ctx *ctx, const tc_regionset *rs, const tc_snapshot *snap,
                             const tc_report_opts *opts, tc__memo *memo, tc_report **out);

/* The region-set indices of a report's rows (owned by the caller: free()). */
tc_status tc__report_rows(tc_ctx *ctx, const tc_regionset *rs, const tc_report_opts *o,
                          size_t **rows, size_t *n);

#endif /* TC_INTERNAL_H */
