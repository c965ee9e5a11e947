/**
 * @file regionset.h
 * @brief Units prepared for reporting: clipped to land, indexed, cacheable.
 *
 * A tc_regionset holds every unit of a boundary layer, each as drawn and as
 * land (the unit clipped by a land mask), plus the strip of neighbouring land
 * beyond each unit used to tell real gaps from artefacts (docs/method.md).
 * Preparing it is the slow part of a report (parsing a large boundary file,
 * clipping); with a cache directory the prepared set is stored under a key
 * made of the SHA-256 of every input file (of an input that is not a file,
 * such as a database table, its content as read: since 0.6), the options and
 * the library's cache format, so a cached set is never stale
 * (docs/reliability.md, "The prepared-region cache", says what that rests on).
 *
 * Preparation is lazy: tc_regionset_open() computes every unit's areas (or
 * reads them from the cache); a unit's land geometry is read from the cache,
 * and its strip built, only when a report's snapshot touches the unit. What
 * a report built is added to the cache file (temporary file and rename), and
 * each unit's result is stored beside it under the SHA-256 of everything it
 * depends on (the set, the options, the snapshot around the unit), for later
 * reports whose snapshot did not move there (docs/reliability.md).
 *
 * A regionset is shared read-only in the API's sense: one set may be passed
 * by several threads at once, each with its own context, to tc_report_new()
 * and tc_series_new(); the lazy preparation inside runs under a mutex of the
 * set (docs/threading.md).
 */
#ifndef TCLAIMS_REGIONSET_H
#define TCLAIMS_REGIONSET_H

#include <stdbool.h>
#include <stddef.h>
#include <tclaims/context.h>
#include <tclaims/layer.h>

TC_BEGIN_DECLS

/** Options of tc_regionset_open(). Initialise with TC_REGIONSET_OPTS_INIT. */
typedef struct tc_regionset_opts {
    unsigned version;          /**< TC_REGIONSET_OPTS_VERSION                     */
    tc_open_opts regions;      /**< how to read the boundary source              */
    const char *land_path;     /**< land mask source; NULL: as drawn, no clipping */
    tc_open_opts land;         /**< how to read the land mask (layer_name only)  */
    const char *cache_dir;     /**< NULL: no cache; created if missing           */
    unsigned jobs;             /**< threads while building (a second thread loads
                                    the land mask and prepares units while the
                                    boundary source is read); 0: one per online
                                    CPU; default 1. Figures do not depend on it.
                                    @since 0.2 (options version 2) */
} tc_regionset_opts;

/** Version 2 (0.2) added jobs; version 1 options are still accepted (one thread). */
#define TC_REGIONSET_OPTS_VERSION 2
#define TC_REGIONSET_OPTS_INIT \
    {TC_REGIONSET_OPTS_VERSION, TC_OPEN_OPTS_INIT, NULL, TC_OPEN_OPTS_INIT, NULL, 1}

typedef struct tc_regionset tc_regionset;

/**
 * @brief Load and prepare every unit of a boundary source.
 *
 * With opts->cache_dir set, a valid cache entry is used instead of parsing (an
 * input that is not a regular file is read to key it: every feature, field and
 * coordinate; since 0.6, before which such inputs were never cached); a
 * missing or unreadable entry is rebuilt and
 * written atomically (temporary file and rename). A cache that cannot be
 * written only adds a warning (here, or to the context of a later report
 * that extends it). A damaged entry (cut short, a changed byte, a geometry
 * GEOS could not read) is rebuilt, never used.
 *
 * The units' land geometries and strips are prepared later, when a report
 * needs them (tc_report_new() and tc_series_new() do it); with opts->jobs
 * above 1 a second thread loads the land mask and prepares units while the
 * boundary source is read. The figures do not depend on either.
 *
 * @param[in]  path boundary source (file path or GDAL connection string)
 * @param[in]  opts NULL for the defaults (as drawn, no cache)
 * @param[out] out  owned; free with tc_regionset_free()
 * @return TC_OK, TC_ERR_INVALID_ARG, TC_ERR_NOMEM, TC_ERR_IO, TC_ERR_FORMAT,
 *         TC_ERR_GEOMETRY, TC_ERR_CRS (as tc_layer_open(), for either input)
 * @since 0.1
 */
TC_API TC_NODISCARD tc_status tc_regionset_open(tc_ctx *ctx, const char *path,
                                                const tc_regionset_opts *opts,
                                                tc_regionset **out);

/** @brief Free a region set; NULL is a no-op. @since 0.1 */
TC_API void tc_regionset_free(tc_regionset *rs);

/** @brief Number of units. @since 0.1 */
TC_API size_t tc_regionset_count(const tc_regionset *rs);

/** @brief Code of unit @p i; borrowed; NULL if out of range. @since 0.1 */
TC_API const char *tc_regionset_get_code(const tc_regionset *rs, size_t i);

/** @brief Name of unit @p i as in the source; borrowed; NULL if out of range. @since 0.1 */
TC_API const char *tc_regionset_get_name(const tc_regionset *rs, size_t i);

/**
 * @brief Index of the unit with this exact code.
 * @return TC_OK, TC_ERR_INVALID_ARG, TC_ERR_NOT_FOUND
 * @since 0.1
 */
TC_API TC_NODISCARD tc_status tc_regionset_find(tc_ctx *ctx, const tc_regionset *rs,
                                                const char *code, size_t *index);

/**
 * @brief Index of a unit by code or name: the claim catalog's names and
 *        spellings first (tc_catalog_lookup()), then the source's own names
 *        compared with tc_name_key() (so "kharkiv" finds "Kharkiv Oblast").
 * @return TC_OK, TC_ERR_INVALID_ARG, TC_ERR_NOT_FOUND
 * @since 0.1
 */
TC_API TC_NODISCARD tc_status tc_regionset_lookup(tc_ctx *ctx, const tc_regionset *rs,
                                                  const char *name, size_t *index);

/**
 * @brief Parse (from the cache) or build now the land and strip of some units.
 *
 * Reports do this on first need, for the units their snapshot touches; calling it
 * first lets a program do it while it reads the snapshot (examples/tclaims.c does),
 * or move the cost out of a timed loop. Safe to call from several threads, each with
 * its own context (the set's lock); strips it builds are added to the cache file.
 *
 * @param[in] units indices into the set (duplicates allowed); NULL: every unit
 * @param[in] n     number of indices (ignored when @p units is NULL)
 * @param[in] jobs  threads for strips not in the cache; 0: one per online CPU
 * @return TC_OK, TC_ERR_INVALID_ARG (NULL set, index out of range), TC_ERR_NOMEM,
 *         TC_ERR_GEOMETRY (building a strip failed)
 * @since 0.3
 */
TC_API TC_NODISCARD tc_status tc_regionset_prepare(tc_ctx *ctx, const tc_regionset *rs,
                                                   const size_t *units, size_t n,
                                                   unsigned jobs);

/** @brief True when a land mask was applied (land areas differ from as-drawn). @since 0.1 */
TC_API bool tc_regionset_has_land(const tc_regionset *rs);

/** @brief True when the set was read from the cache rather than built. @since 0.1 */
TC_API bool tc_regionset_from_cache(const tc_regionset *rs);

/**
 * @brief Lower-case hex SHA-256 of the boundary (@p which = 0) or land
 *        (@p which = 1) source file; borrowed; "" when not a regular file or
 *        no land mask.
 * @since 0.1
 */
TC_API const char *tc_regionset_get_sha256(const tc_regionset *rs, int which);

/**
 * @brief Areas of unit @p i that do not depend on a snapshot.
 * @param[out] admin_m2 geodesic area as drawn (may be NULL)
 * @param[out] land_m2  geodesic land area; equals admin_m2 without a land mask (may be NULL)
 * @return TC_OK, TC_ERR_INVALID_ARG (NULL rs or i out of range)
 * @since 0.1
 */
TC_API TC_NODISCARD tc_status tc_regionset_areas_m2(tc_ctx *ctx, const tc_regionset *rs,
                                                    size_t i, double *admin_m2,
                                                    double *land_m2);

TC_END_DECLS

#endif /* TCLAIMS_REGIONSET_H */
