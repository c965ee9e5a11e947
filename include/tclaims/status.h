/**
 * @file status.h
 * @brief Status codes returned by every tclaims function that can fail.
 *
 * Zero is success; codes are positive and never renumbered. Callers treat an
 * unknown code as TC_ERR_INTERNAL. The detail of the last failure is in
 * tc_ctx_errmsg().
 */
#ifndef TCLAIMS_STATUS_H
#define TCLAIMS_STATUS_H

#include <tclaims/export.h>

TC_BEGIN_DECLS

/** Result of a tclaims call. */
typedef enum tc_status {
    TC_OK = 0,
    TC_ERR_INVALID_ARG, /**< NULL where not allowed, value out of range   */
    TC_ERR_NOMEM,       /**< allocation failed                             */
    TC_ERR_IO,          /**< path missing or unreadable                    */
    TC_ERR_FORMAT,      /**< read, but not as expected (fields, type...)   */
    TC_ERR_NOT_FOUND,   /**< no region / snapshot matching the request    */
    TC_ERR_GEOMETRY,    /**< invalid or unrepairable geometry, GEOS failed */
    TC_ERR_CRS,         /**< missing CRS or PROJ transformation failure    */
    TC_ERR_INTERNAL,    /**< a bug: please report it                       */
    TC_STATUS_END_      /**< sentinel: never returned; keep last           */
} tc_status;

/**
 * @brief Short static description of a status, e.g. "I/O error".
 * @param[in] s any value; unknown values give "unknown status".
 * @return static text, never NULL.
 * @since 0.1
 */
TC_API const char *tc_status_str(tc_status s);

TC_END_DECLS

#endif /* TCLAIMS_STATUS_H */
