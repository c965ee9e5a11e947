/* Reading polygon features from any OGR source into GEOS geometries in WGS84 lon/lat. */
#include "tc_internal.h"

#include <errno.h>
#include <pthread.h>
#include <cpl_conv.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

static const char *const code_fields[] = {"shapeISO", "ISO", "iso_3166_2", "ISO_3166_2",
                                          "iso_code", "HASC_1", "ADM1_PCODE", "code", NULL};
static const char *const name_fields[] = {"shapeName", "NAME_1", "ADM1_EN", "name_en",
                                          "NAME_EN", "name", "NAME", NULL};

static int find_field(OGRFeatureDefnH defn, const char *wanted, const char *const *candidates)
{
    if (wanted)
        return OGR_FD_GetFieldIndex(defn, wanted);
    for (size_t i = 0; candidates[i]; i++) {
        int idx = OGR_FD_GetFieldIndex(defn, candidates[i]);
        if (idx >= 0)
            return idx;
    }
    return -1;
}

static int proj_xy(double *x, double *y, void *user)
{
    PJ *P = user;
    PJ_COORD c = proj_coord(*x, *y, 0, 0);
    c = proj_trans(P, PJ_FWD, c);
    if (c.xy.x == HUGE_VAL || c.xy.y == HUGE_VAL)
        return 0;
    *x = c.xy.x;
    *y = c.xy.y;
    return 1;
}

/* Build the transformation from the layer's CRS to WGS84 lon/lat, or NULL when the layer
 * already is WGS84 geographic. */
static tc_status make_transform(tc_ctx *ctx, const char *path, OGRSpatialReferenceH srs, PJ **out)
{
    *out = NULL;
    OGRSpatialReferenceH wgs84 = OSRNewSpatialReference(NULL);
    if (!wgs84)
        return tc__fail(ctx, TC_ERR_NOMEM, "open '%s': out of memory", path);
    OSRSetWellKnownGeogCS(wgs84, "WGS84");
    const char *opts_same[] = {"IGNORE_DATA_AXIS_TO_SRS_AXIS_MAPPING=YES",
                               "CRITERION=EQUIVALENT_EXCEPT_AXIS_ORDER_GEOGCRS", NULL};
    int same = OSRIsSameEx(srs, wgs84, opts_same);
    OSRDestroySpatialReference(wgs84);
    if (same)
        return TC_OK;
    char *wkt = NULL;
    const char *opts_wkt[] = {"FORMAT=WKT2_2019", NULL};
    if (OSRExportToWktEx(srs, &wkt, opts_wkt) != OGRERR_NONE || !wkt) {
        CPLFree(wkt);
        return tc__fail(ctx, TC_ERR_CRS, "open '%s': cannot export the layer's CRS", path);
    }
    PJ *op = proj_create_crs_to_crs(ctx->pj, wkt, "OGC:CRS84", NULL);
    CPLFree(wkt);
    PJ *norm = op ? proj_normalize_for_visualization(ctx->pj, op) : NULL;
    if (op)
        proj_destroy(op);
    if (!norm) {
        int e = proj_context_errno(ctx->pj);
        return tc__fail(ctx, TC_ERR_CRS, "open '%s': no transformation from the layer's CRS to "
                                         "WGS84: %s",
                        path, e ? proj_context_errno_string(ctx->pj, e) : "unknown reason");
    }
    *out = norm;
    return TC_OK;
}

static const char *geom_type_name(OGRwkbGeometryType t)
{
    const char *s = OGRGeometryTypeToName(t);
    return s ? s : "unknown";
}

/* Convert one OGR geometry to a valid polygonal GEOS geometry in WGS84. */
static tc_status convert(tc_ctx *ctx, const char *what, OGRGeometryH og, PJ *P, bool has_srs,
                         const char *path, double densify_deg, double *added,
                         GEOSGeometry **out)
{
    GEOSContextHandle_t h = ctx->geos;
    *out = NULL;
    OGRwkbGeometryType ft = wkbFlatten(OGR_G_GetGeometryType(og));
    OGRGeometryH lin = NULL;
    if (OGR_GT_IsNonLinear(ft)) { /* CurvePolygon, MultiSurface...: stroke the curves */
        lin = OGR_G_GetLinearGeometry(og, 0.0, NULL);
        if (!lin)
            return tc__fail(ctx, TC_ERR_GEOMETRY, "%s: cannot linearise %s", what,
                            geom_type_name(ft));
        og = lin;
        ft = wkbFlatten(OGR_G_GetGeometryType(og));
    }
    if (ft != wkbPolygon && ft != wkbMultiPolygon && ft != wkbGeometryCollection) {
        if (lin)
            OGR_G_DestroyGeometry(lin);
        return tc__fail(ctx, TC_ERR_FORMAT, "%s: geometry is %s; expected Polygon or MultiPolygon",
                        what, geom_type_name(ft));
    }
    size_t size = (size_t)OGR_G_WkbSize(og);
    unsigned char *wkb = malloc(size ? size : 1);
    tc_status st = TC_OK;
    GEOSGeometry *g = NULL, *poly = NULL;
    if (!wkb) {
        st = tc__fail(ctx, TC_ERR_NOMEM, "%s: out of memory", what);
        goto done;
    }
    /* ISO WKB keeps Z/M flags GEOS reads; 2D is enough: Z is ignored by the area code */
    if (OGR_G_ExportToIsoWkb(og, wkbNDR, wkb) != OGRERR_NONE ||
        !(g = GEOSGeomFromWKB_buf_r(h, wkb, size))) {
        st = tc__fail(ctx, TC_ERR_GEOMETRY, "%s: unreadable geometry%s%s", what,
                      ctx->geos_msg[0] ? ": " : "", ctx->geos_msg);
        goto done;
    }
    if (P) {
        GEOSGeometry *t = GEOSGeom_transformXY_r(h, g, proj_xy, P);
        if (!t) {
            st = tc__fail(ctx, TC_ERR_CRS, "%s: coordinates cannot be transformed to WGS84", what);
            goto done;
        }
        GEOSGeom_destroy_r(h, g);
        g = t;
    }
    st = tc__geom_check_coords(ctx, g, what);
    if (st != TC_OK) {
        if (!has_srs && strstr(ctx->errmsg, "outside longitude")) {
            char detail[TC__ERRMSG_LEN]; /* tc__fail writes ctx->errmsg: copy first */
            const char *c = strstr(ctx->errmsg, "coordinate (");
            snprintf(detail, sizeof detail, "%s", c ? c : "");
            st = tc__fail(ctx, TC_ERR_CRS,
                          "'%s' has no CRS and its coordinates are not longitude/latitude "
                          "(%s); assign one, e.g. ogr2ogr -a_srs EPSG:3857",
                          path, detail);
        }
        goto done;
    }
    size_t dropped = 0;
    GEOSGeometry *pg = tc__geom_polygonal(ctx, g, &dropped);
    if (!pg) {
        st = tc__fail(ctx, TC_ERR_GEOMETRY, "%s: %s", what, ctx->geos_msg);
        goto done;
    }
    if (dropped)
        tc__warn(ctx, "%s: %zu non-polygon part(s) of a GeometryCollection ignored", what,
                 dropped);
    if (GEOSisEmpty_r(h, pg) && !GEOSisEmpty_r(h, g)) {
        GEOSGeom_destroy_r(h, pg);
        st = tc__fail(ctx, TC_ERR_FORMAT, "%s: GeometryCollection without any polygon", what);
        goto done;
    }
    /* Most sources are valid as drawn (every boundary and DeepStateMap snapshot so far):
     * densified first, checked once, done. Only a geometry that fails that check takes the
     * path below, the order a repair needs; the result is the same either way (a valid
     * shape's repair is itself), one validity check fewer. */
    double len0 = 0;
    if (tc__geom_planar_length_deg(ctx, pg, &len0) == TC_OK &&
        *added + len0 / densify_deg <= TC__MAX_DENSIFY_VERTICES) {
        GEOSGeometry *c = GEOSGeom_clone_r(h, pg);
        GEOSGeometry *d = c ? tc__geom_densify_take(ctx, tc__as_multi_take(ctx, c), densify_deg,
                                                    TC__TILE_DEG)
                            : NULL;
        if (d && GEOSisValid_r(h, d) == 1) {
            *added += len0 / densify_deg;
            GEOSGeom_destroy_r(h, pg);
            poly = d;
            goto done;
        }
        if (d)
            GEOSGeom_destroy_r(h, d);
        tc__clear(ctx); /* (not an error: the path below decides) */
    }
    /* Repair as drawn first: make-valid on the source's own vertices treats a shape the
     * same however its rings are written (GEOS's densifier, not used here, would even
     * "fix" invalid input with buffer(0) and drop a lobe of a bow-tie). */
    GEOSGeometry *valid = tc__geom_make_valid(ctx, pg, what, &st);
    GEOSGeom_destroy_r(h, pg);
    if (!valid)
        goto done;
    /* Edges are geodesics for area but straight lines in lon/lat for GEOS's planar overlay.
     * Densifying long edges makes the two agree, so that overlay pieces add up to their
     * parent on the ellipsoid (docs/method.md, "Edges"); and a vertex goes on every line of
     * the tiles' grid an edge crosses (lib/tiles.c). */
    /* a few long edges can ask for millions of vertices: refuse rather than hang */
    double len = 0;
    if (tc__geom_planar_length_deg(ctx, valid, &len) == TC_OK)
        *added += len / densify_deg; /* an upper bound on the vertices densifying adds */
    if (*added > TC__MAX_DENSIFY_VERTICES) {
        GEOSGeom_destroy_r(h, valid);
        st = tc__fail(ctx, TC_ERR_GEOMETRY,
                      "%s: the rings up to here are too long to keep to edges of %g degrees "
                      "(over %d added vertices); simplify or clip the source",
                      what, densify_deg, TC__MAX_DENSIFY_VERTICES);
        goto done;
    }
    GEOSGeometry *dense =
        tc__geom_densify_take(ctx, tc__as_multi_take(ctx, valid), densify_deg, TC__TILE_DEG);
    if (!dense) {
        st = tc__fail(ctx, TC_ERR_GEOMETRY, "%s: densify failed: %s", what, ctx->geos_msg);
        goto done;
    }
    /* ...and checked again: the points put on an edge are rounded off its line, so that a
     * shape GEOS accepts can come out invalid (a spike, where a ring runs out and back
     * along one line, becomes a needle whose two sides cross: overlays of it depended on
     * the order of its vertices; found by fuzz_report_geom). The overlays see valid rings. */
    poly = tc__geom_make_valid(ctx, dense, what, &st);
    GEOSGeom_destroy_r(h, dense);
done:
    if (g)
        GEOSGeom_destroy_r(h, g);
    free(wkb);
    if (lin)
        OGR_G_DestroyGeometry(lin);
    *out = poly;
    return st;
}

/* A GeoJSON file of at most this size is handed to GDAL as text (see geojson_text()): GDAL
 * then holds the whole parsed JSON tree, about 10 times the text (40 MB for the 3.9 MB
 * boundary file); larger files keep GDAL's streaming reader. */
#define TC__GEOJSON_TEXT_MAX (16L << 20)

/* A GeoJSON text of at least this size is parsed in two halves on two threads when the
 * caller allows it (tc__read_opts.split): GDAL's parse of one text is one thread's work. */
#define TC__GEOJSON_SPLIT_MIN (1L << 20)

/* What scan_json() found in a text. */
typedef struct json_scan {
    bool cuttable;             /* cut_features() may cut it */
    size_t open, close;        /* the top object's "features" array: its '[' and ']' */
    size_t cut_end, cut_start; /* the first half ends at cut_end (after a feature's '}'),
                                  the second starts at cut_start (the next feature's '{') */
} json_scan;

/* True when text (n bytes, no NUL) is one JSON object and nothing but blanks after it,
 * without the leniencies of json-c's parser that GDAL's streaming reader of files refuses
 * (comments, single quotes, trailing commas, data after the object): only such text is
 * handed to GDAL as text, so that a file is accepted or refused as before. Values are not
 * checked: GDAL parses them either way. In the same pass, *js: whether and where the text
 * can be cut into two FeatureCollections the way GDAL reads it whole. Not cuttable: a
 * "features" member that is not one array of objects, fewer than two features, or a
 * string "id" anywhere in a feature (GDAL takes an integer id, the feature's or a
 * property's, for the FID and returns the features in that order; with none, FIDs count
 * features from 0 in each half, and the second half's are offset by the first's count:
 * tc__ogr_read()). */
static bool scan_json(const char *t, size_t n, json_scan *js)
{
    static const char stop[] = " \t\r\n\"{}[],:/'#"; /* ends a run of number or literal */
    size_t depth = 0, key = 0, key_len = 0, k = strspn(t, " \t\r\n");
    char last = 0; /* the last significant character outside strings */
    bool in_features = false, features_key = false, cuttable = true;
    memset(js, 0, sizeof *js);
    if (k == n || t[k] != '{')
        return false;
    while (k < n) {
        char c = t[k];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            k++;
            continue;
        }
        if (depth == 0 && last) /* something after the object */
            return false;
        if (c == '"') {
            size_t s = ++k;
            for (;;) {
                k += strcspn(t + k, "\"\\");
                if (k >= n)
                    return false;
                if (t[k] == '"')
                    break;
                if ((k += 2) > n) /* a backslash and the character it escapes */
                    return false;
            }
            if (depth == 1) {
                key = s;
                key_len = k - s;
            } else if (in_features && depth >= 3 && k - s == 2 && !memcmp(t + s, "id", 2)) {
                cuttable = false; /* a feature's id, or a property "id" (GDAL takes an
                                     integer one for the FID too, and orders by it) */
            }
            last = c;
            k++;
            continue;
        }
        if (in_features && depth == 2 && c != '{' && c != ',' && c != ']')
            cuttable = false; /* a feature that is not an object */
        switch (c) {
        case '{':
        case '[':
            if (depth == 1 && features_key) {
                if (c != '[' || js->open)
                    cuttable = false; /* not an array, or a second "features" */
                else
                    js->open = k, in_features = true;
            } else if (in_features && depth == 2 && js->cut_end && !js->cut_start) {
                js->cut_start = k;
            }
            depth++;
            break;
        case '}':
        case ']':
            if (depth == 0 || last == ',')
                return false;
            depth--;
            if (in_features && depth == 2 && !js->cut_end && k + 1 >= n / 2)
                js->cut_end = k + 1;
            else if (in_features && depth == 1)
                js->close = k, in_features = false;
            break;
        case ':':
            if (depth == 1)
                features_key = key_len == 8 && !memcmp(t + key, "features", 8);
            break;
        case ',':
            break;
        case '/':
        case '\'':
        case '#':
            return false;
        default: /* a number or a literal, to the next stop */
            k += strcspn(t + k, stop);
            last = t[k - 1];
            continue;
        }
        last = c;
        k++;
    }
    js->cuttable = cuttable && js->open && js->close && js->cut_end && js->cut_start;
    return depth == 0 && last == '}';
}

/* The text of path when it is a GeoJSON file (name ending in .geojson or .json, a regular
 * file of at most TC__GEOJSON_TEXT_MAX bytes holding one JSON object: scan_json(), which
 * also fills *js), else NULL (owned: free()). GDAL's GeoJSON driver reads a file in two
 * streaming passes (one for the schema, one for the features) but parses a text given as
 * the data source once: for the 3.9 MB boundary file that is about 30% less time, with
 * the same driver turning the same JSON into the same features. */
static char *geojson_text(const char *path, json_scan *js)
{
    size_t len = strlen(path);
    bool named = (len > 8 && strcasecmp(path + len - 8, ".geojson") == 0) ||
                 (len > 5 && strcasecmp(path + len - 5, ".json") == 0);
    struct stat sb;
    if (!named || stat(path, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size < 2 ||
        sb.st_size > TC__GEOJSON_TEXT_MAX)
        return NULL;
    FILE *f = fopen(path, "rb");
    char *text = f ? malloc((size_t)sb.st_size + 1) : NULL;
    size_t n = text ? fread(text, 1, (size_t)sb.st_size, f) : 0;
    if (f)
        fclose(f);
    if (!text || n != (size_t)sb.st_size) {
        free(text);
        return NULL;
    }
    text[n] = '\0';
    if (memchr(text, '\0', n) || !scan_json(text, n, js)) {
        free(text);
        return NULL;
    }
    return text;
}

/* The two halves of text (n bytes, cuttable: scan_json()) as FeatureCollection texts, every
 * member but the features copied into both: *a and *b (owned: free()). False, nothing
 * allocated, when out of memory. */
static bool cut_features(const char *t, size_t n, const json_scan *js, char **a, char **b)
{
    size_t na = js->cut_end + (n - js->close), nb = (js->open + 1) + (n - js->cut_start);
    *a = malloc(na + 1);
    *b = malloc(nb + 1);
    if (!*a || !*b) {
        free(*a);
        free(*b);
        *a = *b = NULL;
        return false;
    }
    memcpy(*a, t, js->cut_end);
    memcpy(*a + js->cut_end, t + js->close, n - js->close);
    (*a)[na] = '\0';
    memcpy(*b, t, js->open + 1);
    memcpy(*b + js->open + 1, t + js->cut_start, n - js->cut_start);
    (*b)[nb] = '\0';
    return true;
}

static const char *const geojson_only[] = {"GeoJSON", NULL};

typedef struct half_open {
    const char *text;
    unsigned flags;
    GDALDatasetH ds;
} half_open;

/* Thread body: GDAL parses the second half; its messages are dropped (a failing half is
 * read again whole, on the caller's thread, for the caller's message). */
static void *open_half(void *arg)
{
    half_open *h = arg;
    CPLPushErrorHandler(CPLQuietErrorHandler);
    h->ds = GDALOpenEx(h->text, h->flags, geojson_only, NULL, NULL);
    CPLPopErrorHandler();
    return NULL;
}

static tc_status open_error(tc_ctx *ctx, const char *path)
{
    struct stat sb;
    /* plain paths get the OS's reason; connection strings get GDAL's */
    if (strncmp(path, "PG:", 3) != 0 && strncmp(path, "/vsi", 4) != 0 && stat(path, &sb) != 0)
        return tc__fail(ctx, TC_ERR_IO, "open '%s': %s", path, strerror(errno));
    return tc__fail(ctx, TC_ERR_IO, "open '%s': %s", path,
                    tc__gdal_msg(ctx, "not a vector data source GDAL can read"));
}

/* The layer of ds that oo names (else the first), its attribute filter set (also on
 * layer2 when given: the second half of a text, tc__ogr_read()). */
static tc_status select_layer(tc_ctx *ctx, const char *path, GDALDatasetH ds,
                              const tc_open_opts *oo, OGRLayerH layer2, OGRLayerH *out)
{
    OGRLayerH layer = NULL;
    if (oo && oo->layer_name) {
        if (!(layer = GDALDatasetGetLayerByName(ds, oo->layer_name)))
            return tc__fail(ctx, TC_ERR_FORMAT, "open '%s': no layer named '%s'", path,
                            oo->layer_name);
    } else {
        if (GDALDatasetGetLayerCount(ds) < 1)
            return tc__fail(ctx, TC_ERR_FORMAT, "open '%s': no vector layer", path);
        layer = GDALDatasetGetLayer(ds, 0);
    }
    if (oo && oo->where &&
        (OGR_L_SetAttributeFilter(layer, oo->where) != OGRERR_NONE ||
         (layer2 && OGR_L_SetAttributeFilter(layer2, oo->where) != OGRERR_NONE)))
        return tc__fail(ctx, TC_ERR_FORMAT, "open '%s': bad attribute filter \"%s\": %s", path,
                        oo->where, tc__gdal_msg(ctx, "rejected by OGR"));
    *out = layer;
    return TC_OK;
}

/* Hand every feature of layer to fn, in order (fid_base: added to GDAL's FIDs; *seen:
 * features read, skipped ones too). */
static tc_status read_features(tc_ctx *ctx, const char *path, tc__read_opts *ro, OGRLayerH layer,
                               int code_idx, int name_idx, PJ *P, bool has_srs, long fid_base,
                               long *seen, tc__feature_fn fn, void *user, size_t *n)
{
    tc_status st = TC_OK;
    OGR_L_ResetReading(layer);
    OGRFeatureH f;
    while ((f = OGR_L_GetNextFeature(layer)) != NULL) {
        long fid = fid_base + (long)OGR_F_GetFID(f);
        (*seen)++;
        const char *code = code_idx >= 0 && OGR_F_IsFieldSetAndNotNull(f, code_idx)
                               ? OGR_F_GetFieldAsString(f, code_idx)
                               : NULL;
        const char *name = name_idx >= 0 && OGR_F_IsFieldSetAndNotNull(f, name_idx)
                               ? OGR_F_GetFieldAsString(f, name_idx)
                               : NULL;
        char what[512];
        snprintf(what, sizeof what, "'%s' feature %ld%s%s%s", path, fid, code ? " (" : "",
                 code ? code : "", code ? ")" : "");
        OGRGeometryH og = OGR_F_GetGeometryRef(f);
        if (!og || OGR_G_IsEmpty(og)) {
            tc__warn(ctx, "%s: no geometry; skipped", what);
            OGR_F_Destroy(f);
            continue;
        }
        if (ro->want_fields && (!code || !*code)) {
            st = tc__fail(ctx, TC_ERR_FORMAT, "%s: empty region code in field '%s'", what,
                          ro->code_field);
            OGR_F_Destroy(f);
            return st;
        }
        GEOSGeometry *g = NULL;
        st = convert(ctx, what, og, P, has_srs, path,
                     ro->densify_deg > 0 ? ro->densify_deg : TC__MAX_EDGE_DEG,
                     &ro->densify_added, &g);
        if (st == TC_OK)
            st = fn(ctx, user, fid, code, name, g); /* takes g */
        OGR_F_Destroy(f);
        if (st != TC_OK)
            return st;
        (*n)++;
    }
    return TC_OK;
}

/* With split, a large GeoJSON text that can be cut (js: scan_json()) is opened as two
 * halves at once, the second on a thread of its own; *ds2 is then that half's dataset
 * (else NULL). *ds: the first half, the whole text, or NULL. */
static void open_text(const char *text, const json_scan *js, unsigned flags, bool split,
                      GDALDatasetH *ds, GDALDatasetH *ds2, char **ta, char **tb)
{
    *ds = *ds2 = NULL;
    size_t n = strlen(text);
    if (split && js->cuttable && n >= (size_t)TC__GEOJSON_SPLIT_MIN &&
        cut_features(text, n, js, ta, tb)) {
        half_open h = {*tb, flags, NULL};
        pthread_t th;
        if (pthread_create(&th, NULL, open_half, &h) == 0) {
            *ds = GDALOpenEx(*ta, flags, geojson_only, NULL, NULL);
            pthread_join(th, NULL);
            *ds2 = h.ds;
            if (*ds && *ds2 && GDALDatasetGetLayerCount(*ds) == 1 &&
                GDALDatasetGetLayerCount(*ds2) == 1)
                return;
            if (*ds)
                GDALClose(*ds);
            if (*ds2)
                GDALClose(*ds2);
            *ds = *ds2 = NULL; /* read whole, as if never cut */
        }
    }
    *ds = GDALOpenEx(text, flags, geojson_only, NULL, NULL);
    if (*ds && GDALDatasetGetLayerCount(*ds) < 1) {
        GDALClose(*ds);
        *ds = NULL;
    }
}

tc_status tc__ogr_read(tc_ctx *ctx, const char *path, tc__read_opts *ro, tc__feature_fn fn,
                       void *user)
{
    tc_status st = TC_OK;
    PJ *P = NULL;
    const tc_open_opts *oo = ro->open;
    tc__gdal_push(ctx);
    const unsigned flags = GDAL_OF_VECTOR | GDAL_OF_READONLY | GDAL_OF_VERBOSE_ERROR;
    /* a GeoJSON file as text (one pass; not with a layer name: the text's layer has
     * another); anything GDAL does not take that way is opened as the file, for its
     * message too. Only the GeoJSON driver is asked: each of the ~200 others would
     * otherwise probe the whole text as a file name (copies, extension tests): 10-15% of a
     * 80 KB snapshot's open, 30 ms of the 3.9 MB boundary file's. */
    json_scan js;
    char *text = oo && oo->layer_name ? NULL : geojson_text(path, &js);
    char *ta = NULL, *tb = NULL;
    GDALDatasetH ds = NULL, ds2 = NULL;
    if (text)
        open_text(text, &js, flags, ro->split, &ds, &ds2, &ta, &tb);
    if (!ds) {
        ctx->gdal_msg[0] = '\0';
        ds = GDALOpenEx(path, flags, NULL, NULL, NULL);
    }
    if (!ds) {
        st = open_error(ctx, path);
        goto done;
    }
    OGRLayerH layer = NULL, layer2 = ds2 ? GDALDatasetGetLayer(ds2, 0) : NULL;
    if ((st = select_layer(ctx, path, ds, oo, layer2, &layer)) != TC_OK)
        goto done;
    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(layer);
    int code_idx = -1, name_idx = -1;
    if (ro->want_fields) {
        code_idx = find_field(defn, oo ? oo->code_field : NULL, code_fields);
        if (code_idx < 0) {
            if (oo && oo->code_field)
                st = tc__fail(ctx, TC_ERR_FORMAT, "open '%s': no field '%s' for region codes",
                              path, oo->code_field);
            else
                st = tc__fail(ctx, TC_ERR_FORMAT,
                              "open '%s': no region code field (looked for shapeISO, ISO, "
                              "iso_3166_2, iso_code, HASC_1, ADM1_PCODE, code); name one with "
                              "code_field",
                              path);
            goto done;
        }
        name_idx = find_field(defn, oo ? oo->name_field : NULL, name_fields);
        if (name_idx < 0 && oo && oo->name_field) {
            st = tc__fail(ctx, TC_ERR_FORMAT, "open '%s': no field '%s' for region names", path,
                          oo->name_field);
            goto done;
        }
        snprintf(ro->code_field, sizeof ro->code_field, "%s",
                 OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(defn, code_idx)));
        snprintf(ro->name_field, sizeof ro->name_field, "%s",
                 name_idx >= 0 ? OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(defn, name_idx)) : "");
    }
    OGRSpatialReferenceH srs = OGR_L_GetSpatialRef(layer);
    if (srs && (st = make_transform(ctx, path, srs, &P)) != TC_OK)
        goto done;

    size_t n = 0;
    long seen = 0;
    st = read_features(ctx, path, ro, layer, code_idx, name_idx, P, srs != NULL, 0, &seen, fn,
                       user, &n);
    if (st == TC_OK && layer2) {
        /* the second half: the first half's fields by name (a field no feature of this half
         * has is unset, as in the whole), the same CRS member, FIDs counted on */
        OGRFeatureDefnH defn2 = OGR_L_GetLayerDefn(layer2);
        int code2 = ro->want_fields ? OGR_FD_GetFieldIndex(defn2, ro->code_field) : -1;
        int name2 = ro->want_fields && ro->name_field[0]
                        ? OGR_FD_GetFieldIndex(defn2, ro->name_field)
                        : -1;
        st = read_features(ctx, path, ro, layer2, code2, name2, P, srs != NULL, seen, &seen, fn,
                           user, &n);
    }
    if (st == TC_OK && n == 0 && !ro->allow_empty)
        st = tc__fail(ctx, TC_ERR_FORMAT, "open '%s': the layer has no polygon feature", path);
done:
    if (P)
        proj_destroy(P);
    if (ds)
        GDALClose(ds);
    if (ds2)
        GDALClose(ds2);
    free(text);
    free(ta);
    free(tb);
    tc__gdal_pop();
    return st;
}

/* ---------------------------------------------------------------- content digest */

tc_status tc__source_digest(tc_ctx *ctx, const char *path, const tc_open_opts *oo, char hex[65])
{
    tc__gdal_push(ctx);
    tc_status st = TC_OK;
    tc__wbuf b = {NULL, 0, 0, false};
    unsigned char *wkb = NULL;
    size_t wkb_cap = 0;
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY | GDAL_OF_VERBOSE_ERROR,
                                 NULL, NULL, NULL);
    OGRLayerH layer = NULL;
    st = ds ? select_layer(ctx, path, ds, oo, NULL, &layer) : open_error(ctx, path);
    if (st == TC_OK) {
        tc__put_str(&b, "tclaims source content 1");
        OGRSpatialReferenceH srs = OGR_L_GetSpatialRef(layer);
        char *wkt = NULL;
        const char *opts_wkt[] = {"FORMAT=WKT2_2019", NULL};
        if (srs && OSRExportToWktEx(srs, &wkt, opts_wkt) == OGRERR_NONE && wkt)
            tc__put_str(&b, wkt);
        else
            tc__put_str(&b, "");
        CPLFree(wkt);
        OGRFeatureDefnH defn = OGR_L_GetLayerDefn(layer);
        int nf = OGR_FD_GetFieldCount(defn);
        for (int i = 0; i < nf; i++)
            tc__put_str(&b, OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(defn, i)));
        OGR_L_ResetReading(layer);
        OGRFeatureH f;
        while (st == TC_OK && (f = OGR_L_GetNextFeature(layer)) != NULL) {
            tc__put_u64(&b, (uint64_t)OGR_F_GetFID(f));
            for (int i = 0; i < nf; i++) {
                bool set = OGR_F_IsFieldSetAndNotNull(f, i);
                tc__put_u32(&b, set ? 1u : 0u);
                if (set)
                    tc__put_str(&b, OGR_F_GetFieldAsString(f, i));
            }
            OGRGeometryH g = OGR_F_GetGeometryRef(f);
            size_t n = g ? (size_t)OGR_G_WkbSizeEx(g) : 0;
            if (n > wkb_cap) {
                unsigned char *w = realloc(wkb, n);
                if (!w)
                    st = tc__fail(ctx, TC_ERR_NOMEM, "checksum '%s': out of memory", path);
                else
                    wkb = w, wkb_cap = n;
            }
            if (st == TC_OK && n && OGR_G_ExportToIsoWkb(g, wkbNDR, wkb) != OGRERR_NONE)
                st = tc__fail(ctx, TC_ERR_FORMAT, "checksum '%s': feature %ld: cannot encode "
                                                  "its geometry",
                              path, (long)OGR_F_GetFID(f));
            tc__put_u64(&b, (uint64_t)n);
            if (st == TC_OK && n)
                tc__put(&b, wkb, n);
            OGR_F_Destroy(f);
        }
        if (st == TC_OK && b.nomem)
            st = tc__fail(ctx, TC_ERR_NOMEM, "checksum '%s': out of memory", path);
        if (st == TC_OK)
            tc__sha256_hex(b.p, b.n, hex);
    }
    if (ds)
        GDALClose(ds);
    free(b.p);
    free(wkb);
    tc__gdal_pop();
    return st;
}
