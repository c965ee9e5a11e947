/**
 * @file area.h
 * @brief Geodesic areas on the WGS84 ellipsoid (PROJ's geod_* routines).
 *
 * Edges are geodesics, as in GeographicLib; coordinates are WGS84 degrees in
 * longitude, latitude order. These functions keep no reference to their input.
 */
#ifndef TCLAIMS_AREA_H
#define TCLAIMS_AREA_H

#include <stddef.h>
#include <tclaims/context.h>

TC_BEGIN_DECLS

/**
 * @brief Area enclosed by one ring, whatever its winding.
 *
 * @param[in]  ctx      context
 * @param[in]  lon_deg  n longitudes in degrees, each in [-540, 540]
 * @param[in]  lat_deg  n latitudes in degrees, each in [-90, 90]
 * @param[in]  n        vertex count, >= 3; a closing vertex equal to the first is allowed
 * @param[out] area_m2  area in m^2, >= 0; written only on TC_OK
 * @return TC_OK, TC_ERR_INVALID_ARG (NULL pointer, n < 3, non-finite or
 *         out-of-range coordinate)
 * @note Thread-safety: as for @p ctx.
 * @since 0.1
 */
TC_API TC_NODISCARD tc_status tc_ring_area_m2(tc_ctx *ctx, const double *lon_deg,
                                              const double *lat_deg, size_t n,
                                              double *area_m2);

/**
 * @brief Area of a polygonal WKT geometry in lon/lat degrees, holes subtracted.
 *
 * Accepts POLYGON, MULTIPOLYGON and GEOMETRYCOLLECTION of those. An invalid
 * geometry (self-intersection, bow-tie) is repaired with GEOS make-valid first
 * and a warning is added to the context (tc_ctx_get_warning()).
 *
 * @param[in]  ctx     context
 * @param[in]  wkt     NUL-terminated WKT; copied, the library keeps no reference
 * @param[out] area_m2 area in m^2, >= 0; written only on TC_OK
 * @return TC_OK, TC_ERR_INVALID_ARG (NULL), TC_ERR_GEOMETRY (unparsable,
 *         non-polygonal, non-finite or out-of-range coordinates)
 * @since 0.1
 */
TC_API TC_NODISCARD tc_status tc_wkt_area_m2(tc_ctx *ctx, const char *wkt, double *area_m2);

TC_END_DECLS

#endif /* TCLAIMS_AREA_H */
