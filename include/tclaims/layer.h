/**
 * @file layer.h
 * @brief Region boundaries loaded from any OGR data source.
 *
 * A tc_layer holds the polygons of one vector layer (GeoJSON, GeoPackage,
 * Shapefile, KML, a "PG:" DSN...), reprojected to WGS84 lon/lat, repaired with
 * GEOS make-valid where invalid, and merged by region code (features with the
 * same code become one region). A tc_layer belongs to its context; regions are
 * borrowed from it and valid until the layer is freed.
 */
#ifndef TCLAIMS_LAYER_H
#define TCLAIMS_LAYER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <tclaims/context.h>

TC_BEGIN_DECLS

/** How to read a vector source. Initialise with TC_OPEN_OPTS_INIT. */
typedef struct tc_open_opts {
    unsigned version;       /**< TC_OPEN_OPTS_VERSION                           */
    const char *layer_name; /**< NULL: the first layer                          */
    const char *code_field; /**< NULL: auto-detect (shapeISO, ISO, iso_3166_2...) */
    const char *name_field; /**< NULL: auto-detect (shapeName, NAME_1, ADM1_EN...) */
    const char *where;      /**< NULL: every feature; else an OGR SQL attribute filter,
                                 e.g. "day = '2025-09-01'" */
} tc_open_opts;

#define TC_OPEN_OPTS_VERSION 1
#define TC_OPEN_OPTS_INIT {TC_OPEN_OPTS_VERSION, NULL, NULL, NULL, NULL}

typedef struct tc_layer tc_layer;
typedef struct tc_region tc_region;

/**
 * @brief Load the regions of one layer.
 *
 * The code field is taken from opts->code_field, else the first present of
 * shapeISO, ISO, iso_3166_2, ISO_3166_2, iso_code, HASC_1, ADM1_PCODE, code;
 * the name field from opts->name_field, else shapeName, NAME_1, ADM1_EN,
 * name_en, NAME_EN, name, NAME. Codes like "UA14" are normalised to "UA-14".
 * A layer without CRS is taken as WGS84 lon/lat only if every coordinate is in
 * range; otherwise the load fails with TC_ERR_CRS.
 *
 * @param[in]  ctx  context
 * @param[in]  path file path or GDAL connection string; copied
 * @param[in]  opts NULL for the defaults
 * @param[out] out  owned; free with tc_layer_free(); written only on TC_OK
 * @return TC_OK, TC_ERR_INVALID_ARG, TC_ERR_NOMEM, TC_ERR_IO (cannot open),
 *         TC_ERR_FORMAT (no such layer, no code field, empty layer, non-polygon
 *         geometry), TC_ERR_GEOMETRY (non-finite coordinate, unrepairable),
 *         TC_ERR_CRS (no CRS on projected data, transformation failed)
 * @since 0.1
 */
TC_API TC_NODISCARD tc_status tc_layer_open(tc_ctx *ctx, const char *path,
                                            const tc_open_opts *opts, tc_layer **out);

/** @brief Free a layer; NULL is a no-op. @since 0.1 */
TC_API void tc_layer_free(tc_layer *layer);

/** @brief Number of regions (after merging by code). @since 0.1 */
TC_API size_t tc_layer_count(const tc_layer *layer);

/** @brief Region @p i; borrowed, valid until @p layer is freed; NULL if out of range. @since 0.1 */
TC_API const tc_region *tc_layer_get_region(const tc_layer *layer, size_t i);

/** @brief Region with code @p code (exact, e.g. "UA-14"); borrowed; NULL if absent. @since 0.1 */
TC_API const tc_region *tc_layer_find(const tc_layer *layer, const char *code);

/** @brief Name of the field the codes came from; borrowed. @since 0.1 */
TC_API const char *tc_layer_get_code_field(const tc_layer *layer);

/** @brief Name of the field the names came from, or "" if none; borrowed. @since 0.1 */
TC_API const char *tc_layer_get_name_field(const tc_layer *layer);

/** @brief ISO 3166-2 code, e.g. "UA-14"; borrowed. @since 0.1 */
TC_API const char *tc_region_get_code(const tc_region *region);

/** @brief Name as in the source, or "" when the layer has no name field; borrowed. @since 0.1 */
TC_API const char *tc_region_get_name(const tc_region *region);

/** @brief Number of source features merged into this region. @since 0.1 */
TC_API size_t tc_region_feature_count(const tc_region *region);

/**
 * @brief Geodesic area of the region as drawn (holes subtracted), WGS84.
 * @param[out] area_m2 m^2, >= 0; written only on TC_OK
 * @return TC_OK, TC_ERR_INVALID_ARG
 * @since 0.1
 */
TC_API TC_NODISCARD tc_status tc_region_area_m2(tc_ctx *ctx, const tc_region *region,
                                                double *area_m2);

/**
 * @brief The region's geometry as WKT (lon/lat degrees).
 * @param[out] out owned; free with tc_free()
 * @return TC_OK, TC_ERR_INVALID_ARG, TC_ERR_NOMEM
 * @since 0.1
 */
TC_API TC_NODISCARD tc_status tc_region_to_wkt(tc_ctx *ctx, const tc_region *region,
                                               char **out);

TC_END_DECLS

#endif /* TCLAIMS_LAYER_H */
