/**
 * @file series.h
 * @brief Time series of control: one report per snapshot of an archive, with changes.
 *
 * A tc_series computes, for every selected snapshot of a tc_archive, the same
 * per-unit figures as tc_report_new() (identical numbers: the same engine), plus
 * the change against the previous selected snapshot: the net change of controlled
 * land and the gross areas that changed hands each way. Rows exist only for
 * snapshots that exist; missing days are never invented.
 *
 * Speed: a unit whose clipped snapshot is byte-identical to the previous date's
 * reuses that result; a snapshot file byte-identical to the previous one is not
 * parsed; dates are spread over worker threads, each with its own context.
 *
 * Stored rows (since 0.7): when the region set has a cache directory
 * (tc_regionset_opts.cache_dir) and the method is TC_METHOD_FAST without the equal-area
 * check, every date's figures and changes are stored there, keyed by the set, the options
 * and the bytes of the date's snapshot file and of the previous selected one; a later
 * series reads them instead of computing, so a repeated series, or one that a new
 * snapshot made a day longer, computes only what it has not seen. Read back, they are the
 * bytes computed. A snapshot file is named by its bytes when they are all GDAL reads
 * (GeoJSON, GeoPackage, FlatGeobuf, KML; not a shapefile, whose .prj and .dbf lie beside
 * the .shp: such dates are always computed); a date of a layer archive (a GeoPackage or
 * PostGIS table with a date field) or a source that is not a file by its features as
 * GDAL returns them, which costs a read of each date's features per series.
 * A series belongs to the context that made it; the region set and archive are
 * only read (they may be shared with other threads' series).
 */
#ifndef TCLAIMS_SERIES_H
#define TCLAIMS_SERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <tclaims/context.h>
#include <tclaims/regionset.h>
#include <tclaims/report.h>
#include <tclaims/snapshot.h>

TC_BEGIN_DECLS

/**
 * @brief Progress callback: @p done of @p total snapshots computed. Called from the
 *        thread that called tc_series_new(), never concurrently.
 */
typedef void (*tc_progress_fn)(size_t done, size_t total, void *user);

/** Options of tc_series_new(). Initialise with TC_SERIES_OPTS_INIT. */
typedef struct tc_series_opts {
    unsigned version;        /**< TC_SERIES_OPTS_VERSION                                 */
    tc_report_opts report;   /**< rows, method, sliver width, front line (as a report)  */
    tc_date from;            /**< first date; year 0: the archive's first snapshot       */
    tc_date to;              /**< last date; year 0: the archive's last snapshot         */
    unsigned every_days;     /**< 0 or 1: every snapshot; N: the first snapshot, then
                                  each next one at least N days after the last chosen   */
    bool monthly;            /**< the first snapshot of each calendar month (overrides
                                  every_days)                                            */
    unsigned jobs;           /**< worker threads; 0: one per online CPU                 */
    tc_progress_fn progress; /**< NULL: none                                             */
    void *progress_user;     /**< passed to progress                                    */
} tc_series_opts;

#define TC_SERIES_OPTS_VERSION 1
#define TC_SERIES_OPTS_INIT                                                          \
    {TC_SERIES_OPTS_VERSION, TC_REPORT_OPTS_INIT, {0, 0, 0}, {0, 0, 0}, 0, false, 1, \
     NULL, NULL}

/** Change of controlled land against the previous selected snapshot, m^2. */
typedef struct tc_change {
    bool valid;       /**< false on the first date (nothing to compare with)       */
    double net_m2;    /**< controlled now − controlled before                     */
    double gained_m2; /**< land controlled now and not before                     */
    double lost_m2;   /**< land controlled before and not now (net ≈ gained − lost) */
} tc_change;

typedef struct tc_series tc_series;

/**
 * @brief Compute the series.
 *
 * @param[in]  rs      prepared units; read only
 * @param[in]  archive dated snapshots; read only
 * @param[in]  opts    NULL for the defaults (every snapshot, claim units, one thread)
 * @param[out] out     owned; free with tc_series_free()
 * @return TC_OK, TC_ERR_INVALID_ARG (NULL, bad option, from after to),
 *         TC_ERR_NOT_FOUND (no snapshot in the range), TC_ERR_NOMEM, and any status of
 *         tc_snapshot_open() or tc_report_new() for the snapshot that failed (the
 *         message names its file)
 * @since 0.1
 */
TC_API TC_NODISCARD tc_status tc_series_new(tc_ctx *ctx, const tc_regionset *rs,
                                            const tc_archive *archive,
                                            const tc_series_opts *opts, tc_series **out);

/** @brief Free a series; NULL is a no-op. @since 0.1 */
TC_API void tc_series_free(tc_series *s);

/** @brief Number of dates (snapshots) in the series. @since 0.1 */
TC_API size_t tc_series_count(const tc_series *s);

/** @brief Date of entry @p d; {0,0,0} if out of range. @since 0.1 */
TC_API tc_date tc_series_get_date(const tc_series *s, size_t d);

/** @brief Snapshot path of entry @p d; borrowed from the archive; NULL if out of range. @since 0.1 */
TC_API const char *tc_series_get_path(const tc_series *s, size_t d);

/** @brief True when the snapshot of @p d is byte-identical to the previous entry's. @since 0.1 */
TC_API bool tc_series_is_unchanged(const tc_series *s, size_t d);

/** @brief Rows per date (as tc_report_count()). @since 0.1 */
TC_API size_t tc_series_row_count(const tc_series *s);

/** @brief Region-set index of row @p row; (size_t)-1 if out of range. @since 0.1 */
TC_API size_t tc_series_get_unit(const tc_series *s, size_t row);

/**
 * @brief Areas of row @p row on date @p d (as tc_report_get_areas()).
 * @return TC_OK, TC_ERR_INVALID_ARG (NULL or out of range)
 * @since 0.1
 */
TC_API TC_NODISCARD tc_status tc_series_get_areas(const tc_series *s, size_t d, size_t row,
                                                  tc_areas *out);

/** @brief Sums over the claimed units on date @p d. @return TC_OK, TC_ERR_INVALID_ARG @since 0.1 */
TC_API TC_NODISCARD tc_status tc_series_get_claim_total(const tc_series *s, size_t d,
                                                        tc_areas *out);

/** @brief Sums over every unit on date @p d. @return TC_OK, TC_ERR_INVALID_ARG @since 0.1 */
TC_API TC_NODISCARD tc_status tc_series_get_country_total(const tc_series *s, size_t d,
                                                          tc_areas *out);

/** @brief Controlled land outside the claim on date @p d, m^2. @return TC_OK, TC_ERR_INVALID_ARG @since 0.1 */
TC_API TC_NODISCARD tc_status tc_series_get_outside_m2(const tc_series *s, size_t d,
                                                       double *controlled_m2);

/**
 * @brief Change of row @p row on date @p d; @p row == tc_series_row_count() gives the
 *        claim total, @p row == tc_series_row_count() + 1 the land outside the claim.
 * @return TC_OK, TC_ERR_INVALID_ARG
 * @since 0.1
 */
TC_API TC_NODISCARD tc_status tc_series_get_change(const tc_series *s, size_t d, size_t row,
                                                   tc_change *out);

TC_END_DECLS

#endif /* TCLAIMS_SERIES_H */
