/**
 * @file context.h
 * @brief The context: owner of GEOS and PROJ state, the last error and warnings.
 *
 * Threading: a context and every object made from it are used by one thread at
 * a time. Separate contexts may run in parallel. The library has no mutable
 * global state besides GDAL's driver registry, which tc_ctx_new() fills once
 * per process (under pthread_once). See docs/threading.md.
 */
#ifndef TCLAIMS_CONTEXT_H
#define TCLAIMS_CONTEXT_H

#include <stddef.h>
#include <tclaims/export.h>
#include <tclaims/status.h>

TC_BEGIN_DECLS

/** Opaque context; see the file comment for its threading rule. */
typedef struct tc_ctx tc_ctx;

/**
 * @brief Create a context.
 *
 * Registers GDAL's drivers on first use in the process (GDALAllRegister, once).
 * Never calls GDALDestroy: a host program may use GDAL too.
 *
 * @param[out] out owned; the caller frees it with tc_ctx_free(). Set to NULL on failure.
 * @return TC_OK, TC_ERR_INVALID_ARG (out is NULL), TC_ERR_NOMEM, TC_ERR_INTERNAL
 *         (GEOS or PROJ could not be initialised).
 * @note Thread-safety: may be called from any thread.
 * @since 0.1
 */
TC_API TC_NODISCARD tc_status tc_ctx_new(tc_ctx **out);

/**
 * @brief Free a context. Free every object made from it first. NULL is a no-op.
 * @since 0.1
 */
TC_API void tc_ctx_free(tc_ctx *ctx);

/**
 * @brief Detail of the last failure on this context.
 *
 * One line naming the operation and the cause, e.g.
 * "open 'x.geojson': No such file or directory". Every public call clears it
 * first.
 *
 * @param[in] ctx may be NULL (gives "").
 * @return borrowed, never NULL ("" = none); valid until the next call on @p ctx.
 * @since 0.1
 */
TC_API const char *tc_ctx_errmsg(const tc_ctx *ctx);

/**
 * @brief Number of warnings collected since the last tc_ctx_clear_warnings().
 *
 * Warnings are non-fatal events a caller should show a person: a repaired
 * geometry (with the area the repair changed), a dropped non-polygon part, an
 * older snapshot used for a missing date. Unlike the error message, warnings
 * accumulate across calls until cleared.
 * @since 0.1
 */
TC_API size_t tc_ctx_warning_count(const tc_ctx *ctx);

/**
 * @brief Warning number @p i (0-based), one line of text.
 * @return borrowed, valid until the warnings are cleared or @p ctx is freed;
 *         NULL if @p i is out of range.
 * @since 0.1
 */
TC_API const char *tc_ctx_get_warning(const tc_ctx *ctx, size_t i);

/** @brief Forget all collected warnings. NULL is a no-op. @since 0.1 */
TC_API void tc_ctx_clear_warnings(tc_ctx *ctx);

/** @brief Free a buffer the library documents as owned by the caller. @since 0.1 */
TC_API void tc_free(void *p);

/**
 * @brief Open PROJ's CRS database for the calling thread now.
 *
 * GDAL opens it (one connection per thread) the first time a thread reads a
 * source that names a CRS, as every DeepStateMap file does: about 15-20 ms.
 * A tool that reads a snapshot on a thread of its own can call this first on
 * that thread, while another thread lists the archive, so that the read does
 * not wait for it. Optional; figures do not depend on it.
 * @return TC_OK, TC_ERR_INVALID_ARG (NULL), TC_ERR_CRS (no database)
 * @since 0.5
 */
TC_API TC_NODISCARD tc_status tc_ctx_warm_crs(tc_ctx *ctx);

TC_END_DECLS

#endif /* TCLAIMS_CONTEXT_H */
