/**
 * @file report.h
 * @brief Claimed, controlled and gap areas of each unit for one snapshot.
 *
 * For every unit of a region set: land (the unit clipped to land, or as drawn),
 * controlled = land ∩ snapshot, and the uncontrolled rest land − snapshot split
 * into pieces, each classified (docs/method.md) as
 *   - real gap: thicker than the sliver width and connected to uncontrolled
 *     land beyond the unit;
 *   - sliver: vanishes under an inward buffer of half the sliver width (thin
 *     strips along coasts and borders where the sources disagree);
 *   - enclosed: thick but cut off from uncontrolled land beyond the unit
 *     (holes of the control polygons at salt lakes, cut-off islets).
 * land = controlled + gap + sliver + enclosed holds exactly with the default
 * method and to rounding with TC_METHOD_PLAIN, whose two independent overlays
 * check the default (tc_areas.closure_rel). All areas are geodesic on WGS84
 * (geod_*).
 */
#ifndef TCLAIMS_REPORT_H
#define TCLAIMS_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <tclaims/context.h>
#include <tclaims/regionset.h>
#include <tclaims/snapshot.h>

TC_BEGIN_DECLS

/** Which units get a row. */
typedef enum tc_units {
    TC_UNITS_CLAIM = 0, /**< the six claimed units, catalog order          */
    TC_UNITS_ALL,       /**< every unit of the region set, source order    */
    TC_UNITS_LIST       /**< the indices in tc_report_opts.unit_index      */
} tc_units;

/** How the areas are computed. */
typedef enum tc_method {
    /** One overlay per unit (land − snapshot): the uncontrolled pieces are measured and
     *  classified, controlled = land − uncontrolled, so the identity
     *  land = controlled + gap + sliver + enclosed holds exactly. Units that are neither
     *  reported nor claimed get only land ∩ snapshot (for the outside and country
     *  figures) and are not classified (tc_areas.classified is false). */
    TC_METHOD_FAST = 0,
    /** The straightforward reference: for every unit both overlays, every area measured
     *  on its own, every unit classified; closure_rel then measures how well the two
     *  independent overlays agree. Slower; for checks and benchmarks. */
    TC_METHOD_PLAIN
} tc_method;

/** Options of tc_report_new(). Initialise with TC_REPORT_OPTS_INIT. */
typedef struct tc_report_opts {
    unsigned version;         /**< TC_REPORT_OPTS_VERSION                          */
    tc_units units;           /**< rows to report                                  */
    const size_t *unit_index; /**< TC_UNITS_LIST: region-set indices; copied       */
    size_t n_units;           /**< TC_UNITS_LIST: number of indices, > 0           */
    double sliver_width_m;    /**< pieces narrower than this are slivers; > 0      */
    double connect_tol_m;     /**< contact distance to land beyond a unit; >= 0    */
    bool equal_area_check;    /**< also measure every area in an equal-area projection */
    tc_method method;         /**< TC_METHOD_FAST (default) or TC_METHOD_PLAIN            */
    bool front_line;          /**< also measure the front line (tc_areas.front_m); every
                                   unit the snapshot touches is then classified */
    unsigned jobs;            /**< threads over the units, each with a context of its own;
                                   0: one per online CPU; default 1. Figures do not depend
                                   on it. */
} tc_report_opts;

#define TC_REPORT_OPTS_VERSION 1
/** Default sliver width: 1500 m (see docs/method.md for how it was chosen; 1000 m
 *  before 0.3). */
#define TC_DEFAULT_SLIVER_WIDTH_M 1500.0
/** Default contact tolerance: 50 m. */
#define TC_DEFAULT_CONNECT_TOL_M 50.0
#define TC_REPORT_OPTS_INIT                                                     \
    {TC_REPORT_OPTS_VERSION, TC_UNITS_CLAIM, NULL, 0, TC_DEFAULT_SLIVER_WIDTH_M, \
     TC_DEFAULT_CONNECT_TOL_M, false, TC_METHOD_FAST, false, 1}

/** Areas of one row, all in m^2 on the WGS84 ellipsoid. */
typedef struct tc_areas {
    double admin_m2;      /**< as drawn (with territorial sea on coastal units)  */
    double land_m2;       /**< clipped to land (= admin_m2 without a land mask)  */
    double controlled_m2; /**< land ∩ snapshot                                   */
    double gap_m2;        /**< real gap                                          */
    double sliver_m2;     /**< thin pieces along coasts and borders              */
    double enclosed_m2;   /**< thick pieces cut off from land beyond the unit    */
    double closure_rel;   /**< |land - (controlled+gap+sliver+enclosed)| / land  */
    size_t n_gap;         /**< number of pieces in each class                    */
    size_t n_sliver;
    size_t n_enclosed;
    bool classified;      /**< false: uncontrolled land not split into classes (all in
                               gap_m2); see TC_METHOD_FAST. Sums: true if all parts are. */
    double front_m;       /**< geodesic length of the line between controlled land and
                               real gap inside the unit (not along its borders or coast);
                               computed only when asked (tc_report_opts.front_line) */
} tc_areas;

typedef struct tc_report tc_report;

/**
 * @brief Compute the report of one snapshot over a region set.
 *
 * @param[in]  rs   prepared units; not modified (may be shared across threads)
 * @param[in]  snap controlled territory; not modified
 * @param[in]  opts NULL for the defaults (claim units, 1500 m, 50 m, no check)
 * @param[out] out  owned; free with tc_report_free()
 * @return TC_OK, TC_ERR_INVALID_ARG (NULL, bad option, index out of range),
 *         TC_ERR_NOT_FOUND (TC_UNITS_CLAIM and a claimed unit missing from the
 *         set), TC_ERR_NOMEM, TC_ERR_GEOMETRY (GEOS failure), TC_ERR_CRS
 *         (equal-area projection failed)
 * @since 0.1
 */
TC_API TC_NODISCARD tc_status tc_report_new(tc_ctx *ctx, const tc_regionset *rs,
                                            const tc_snapshot *snap,
                                            const tc_report_opts *opts, tc_report **out);

/** @brief Free a report; NULL is a no-op. @since 0.1 */
TC_API void tc_report_free(tc_report *report);

/** @brief Number of rows. @since 0.1 */
TC_API size_t tc_report_count(const tc_report *report);

/** @brief Region-set index of row @p i; (size_t)-1 if out of range. @since 0.1 */
TC_API size_t tc_report_get_unit(const tc_report *report, size_t i);

/**
 * @brief Areas of row @p i.
 * @return TC_OK, TC_ERR_INVALID_ARG (NULL or @p i out of range)
 * @since 0.1
 */
TC_API TC_NODISCARD tc_status tc_report_get_areas(const tc_report *report, size_t i,
                                                  tc_areas *out);

/**
 * @brief Sums over the six claimed units (whatever the rows are).
 * @return TC_OK, TC_ERR_INVALID_ARG
 * @since 0.1
 */
TC_API TC_NODISCARD tc_status tc_report_get_claim_total(const tc_report *report,
                                                        tc_areas *out);

/**
 * @brief Sums over every unit of the region set: the country.
 * @return TC_OK, TC_ERR_INVALID_ARG
 * @since 0.1
 */
TC_API TC_NODISCARD tc_status tc_report_get_country_total(const tc_report *report,
                                                          tc_areas *out);

/**
 * @brief Controlled land outside the claim (country minus claim), m^2.
 * @return TC_OK, TC_ERR_INVALID_ARG
 * @since 0.1
 */
TC_API TC_NODISCARD tc_status tc_report_get_outside_m2(const tc_report *report,
                                                       double *controlled_m2);

/**
 * @brief Largest relative disagreement between the geodesic areas and the same
 *        areas computed in a Lambert azimuthal equal-area projection centred
 *        on each unit (PROJ + GEOS planar area).
 * @return TC_OK, TC_ERR_INVALID_ARG (NULL), TC_ERR_NOT_FOUND (report made
 *         without equal_area_check)
 * @since 0.1
 */
TC_API TC_NODISCARD tc_status tc_report_get_equal_area_max_rel(const tc_report *report,
                                                               double *max_rel);

TC_END_DECLS

#endif /* TCLAIMS_REPORT_H */
