/**
 * @file snapshot.h
 * @brief Snapshots of controlled territory, dates, and dated archives.
 *
 * A tc_snapshot is the union of every polygon of one vector source: the
 * territory controlled on one date. A tc_archive is a directory of dated
 * snapshot files. Both belong to the context that opened them.
 */
#ifndef TCLAIMS_SNAPSHOT_H
#define TCLAIMS_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <tclaims/context.h>
#include <tclaims/layer.h>

TC_BEGIN_DECLS

/** A calendar date (proleptic Gregorian). */
typedef struct tc_date {
    int year;  /**< e.g. 2025 */
    int month; /**< 1..12     */
    int day;   /**< 1..31     */
} tc_date;

/**
 * @brief Parse "YYYY-MM-DD" or "YYYYMMDD"; the date must exist (no 2025-02-30).
 * @return TC_OK, TC_ERR_INVALID_ARG (NULL, malformed or impossible date)
 * @since 0.1
 */
TC_API TC_NODISCARD tc_status tc_date_parse(tc_ctx *ctx, const char *text, tc_date *out);

/**
 * @brief Date named by a file name: the last "YYYYMMDD" or "YYYY-MM-DD" run of
 *        digits in its base name, e.g. "deepstatemap_data_20250901.geojson".
 * @return TC_OK, TC_ERR_INVALID_ARG (NULL), TC_ERR_NOT_FOUND (no valid date in it)
 * @since 0.1
 */
TC_API TC_NODISCARD tc_status tc_date_from_filename(tc_ctx *ctx, const char *path,
                                                    tc_date *out);

/** @brief Negative, zero or positive as @p a is before, equal to or after @p b. @since 0.1 */
TC_API int tc_date_cmp(tc_date a, tc_date b);

/** @brief Days from @p a to @p b (b - a). @since 0.1 */
TC_API long tc_date_diff_days(tc_date a, tc_date b);

/** @brief Write "YYYY-MM-DD" into @p buf (at least 11 bytes). @since 0.1 */
TC_API void tc_date_format(tc_date d, char buf[11]);

typedef struct tc_snapshot tc_snapshot;

/**
 * @brief Load a snapshot: all polygons of the layer unioned (no double counting).
 *
 * Invalid polygons are repaired (a warning names the feature and the area
 * changed); non-polygon features are an error. Reprojected to WGS84 as in
 * tc_layer_open(). An empty layer is a valid, empty snapshot.
 *
 * @param[in]  opts NULL for the first layer; only layer_name is used
 * @param[out] out  owned; free with tc_snapshot_free()
 * @return TC_OK, TC_ERR_INVALID_ARG, TC_ERR_NOMEM, TC_ERR_IO, TC_ERR_FORMAT,
 *         TC_ERR_GEOMETRY, TC_ERR_CRS
 * @since 0.1
 */
TC_API TC_NODISCARD tc_status tc_snapshot_open(tc_ctx *ctx, const char *path,
                                               const tc_open_opts *opts, tc_snapshot **out);

/** @brief Free a snapshot; NULL is a no-op. @since 0.1 */
TC_API void tc_snapshot_free(tc_snapshot *snap);

/** @brief The path it was loaded from; borrowed. @since 0.1 */
TC_API const char *tc_snapshot_get_path(const tc_snapshot *snap);

/**
 * @brief Lower-case hex SHA-256 of the source file, or "" when the source is not a
 *        regular file (a connection string); borrowed.
 * @since 0.1
 */
TC_API const char *tc_snapshot_get_sha256(const tc_snapshot *snap);

/** @brief Number of source polygons (before the union). @since 0.1 */
TC_API size_t tc_snapshot_polygon_count(const tc_snapshot *snap);

/**
 * @brief Geodesic area of the whole snapshot (land and sea alike), WGS84.
 * @return TC_OK, TC_ERR_INVALID_ARG
 * @since 0.1
 */
TC_API TC_NODISCARD tc_status tc_snapshot_area_m2(tc_ctx *ctx, const tc_snapshot *snap,
                                                  double *area_m2);

typedef struct tc_archive tc_archive;

/**
 * @brief List the dated snapshot files of a directory.
 *
 * Every regular file whose base name carries a date (see
 * tc_date_from_filename()) and whose extension GDAL can read as vector
 * (.geojson, .json, .gpkg, .shp, .kml, .fgb, .gml) is listed, sorted by date. Two files
 * with the same date are an error. Nothing is parsed yet.
 *
 * @param[out] out owned; free with tc_archive_free()
 * @return TC_OK, TC_ERR_INVALID_ARG, TC_ERR_NOMEM, TC_ERR_IO (not a readable
 *         directory), TC_ERR_NOT_FOUND (no dated file in it), TC_ERR_FORMAT
 *         (two files for one date)
 * @since 0.1
 */
TC_API TC_NODISCARD tc_status tc_archive_open(tc_ctx *ctx, const char *dir, tc_archive **out);

/**
 * @brief An archive made of the dates of one layer: every distinct value of
 *        @p date_field (an OGR Date/DateTime field, or text "YYYY-MM-DD" or
 *        "YYYYMMDD") is one snapshot, the layer's features of that date.
 *
 * For a GeoPackage or PostGIS table that keeps its history in one layer.
 *
 * @param[in]  path       the source (file path or GDAL connection string); copied
 * @param[in]  opts       NULL: the first layer; layer_name picks one (copied)
 * @param[in]  date_field name of the date field
 * @param[out] out        owned; free with tc_archive_free()
 * @return TC_OK, TC_ERR_INVALID_ARG, TC_ERR_NOMEM, TC_ERR_IO (cannot open),
 *         TC_ERR_FORMAT (no such layer or field, or a value that is not a date),
 *         TC_ERR_NOT_FOUND (no feature with a date)
 * @since 0.1
 */
TC_API TC_NODISCARD tc_status tc_archive_open_layer(tc_ctx *ctx, const char *path,
                                                    const tc_open_opts *opts,
                                                    const char *date_field, tc_archive **out);

/**
 * @brief An archive from an explicit list of snapshot files and their dates.
 * @param[in]  paths  n paths (copied)
 * @param[in]  dates  n dates, valid, all different (any order: the archive sorts them)
 * @param[out] out    owned; free with tc_archive_free()
 * @return TC_OK, TC_ERR_INVALID_ARG (NULL, n == 0, an impossible date),
 *         TC_ERR_FORMAT (two entries for one date), TC_ERR_NOMEM
 * @since 0.1
 */
TC_API TC_NODISCARD tc_status tc_archive_new(tc_ctx *ctx, const char *const *paths,
                                             const tc_date *dates, size_t n, tc_archive **out);

/**
 * @brief Load the snapshot of entry @p i (a file, or a layer's features of one date).
 * @param[out] out owned; free with tc_snapshot_free()
 * @return TC_OK, TC_ERR_INVALID_ARG (NULL or @p i out of range), and the statuses of
 *         tc_snapshot_open()
 * @since 0.1
 */
TC_API TC_NODISCARD tc_status tc_archive_open_snapshot(tc_ctx *ctx, const tc_archive *archive,
                                                       size_t i, tc_snapshot **out);

/**
 * @brief The attribute filter that selects entry @p i in its layer, or NULL when the
 *        entry is a whole file; borrowed.
 * @since 0.1
 */
TC_API const char *tc_archive_get_filter(const tc_archive *archive, size_t i);

/** @brief Free an archive; NULL is a no-op. @since 0.1 */
TC_API void tc_archive_free(tc_archive *archive);

/** @brief Number of dated files. @since 0.1 */
TC_API size_t tc_archive_count(const tc_archive *archive);

/** @brief Date of file @p i (sorted ascending); {0,0,0} if out of range. @since 0.1 */
TC_API tc_date tc_archive_get_date(const tc_archive *archive, size_t i);

/** @brief Path of file @p i; borrowed; NULL if out of range. @since 0.1 */
TC_API const char *tc_archive_get_path(const tc_archive *archive, size_t i);

/**
 * @brief Index of the snapshot for @p date: that day's file, else the latest
 *        earlier one.
 * @param[out] index  written only on TC_OK
 * @return TC_OK, TC_ERR_INVALID_ARG (NULL, impossible date, or a date after
 *         the latest snapshot by more than 30 days: a stale answer would
 *         mislead), TC_ERR_NOT_FOUND (date before the first snapshot)
 * @since 0.1
 */
TC_API TC_NODISCARD tc_status tc_archive_find(tc_ctx *ctx, const tc_archive *archive,
                                              tc_date date, size_t *index);

TC_END_DECLS

#endif /* TCLAIMS_SNAPSHOT_H */
