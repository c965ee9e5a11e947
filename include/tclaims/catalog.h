/**
 * @file catalog.h
 * @brief Built-in catalog of the claimed units and name lookup.
 *
 * The claim is the five regions Russia claims whole: the Autonomous Republic of
 * Crimea with the city of Sevastopol (UA-43, UA-40) and the Donetsk, Luhansk,
 * Kherson and Zaporizhzhia oblasts (UA-14, UA-09, UA-65, UA-23). All data here is
 * static and immutable: safe from any thread.
 */
#ifndef TCLAIMS_CATALOG_H
#define TCLAIMS_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <tclaims/context.h>

TC_BEGIN_DECLS

/** One claimed unit. All strings are static UTF-8. */
typedef struct tc_unit_info {
    const char *code;    /**< ISO 3166-2, e.g. "UA-14"            */
    const char *name_en; /**< e.g. "Donetsk Oblast"               */
    const char *name_uk; /**< e.g. "Донецька область"             */
    const char *name_ru; /**< e.g. "Донецкая область"             */
} tc_unit_info;

/** @brief Number of claimed units (6). @since 0.1 */
TC_API size_t tc_catalog_count(void);

/**
 * @brief Claimed unit number @p i, in the catalog's fixed order
 *        (UA-43, UA-40, UA-14, UA-09, UA-65, UA-23).
 * @return static, never freed; NULL if @p i >= tc_catalog_count().
 * @since 0.1
 */
TC_API const tc_unit_info *tc_catalog_get(size_t i);

/**
 * @brief Find a claimed unit by code or by any of its names and spellings.
 *
 * Matching ignores case (Latin and Cyrillic), spaces, hyphens, apostrophes and
 * a trailing "oblast"/"region"/"область"; accepted forms include "UA-09",
 * "ua09", "Luhansk", "lugansk", "Луганська область", "Zaporozhye", "Krym".
 *
 * @param[in]  ctx   context (for the error message)
 * @param[in]  name  NUL-terminated UTF-8
 * @param[out] out   static entry; written only on TC_OK
 * @return TC_OK, TC_ERR_INVALID_ARG (NULL), TC_ERR_NOT_FOUND (no claimed unit
 *         of that name; the message lists the valid codes)
 * @since 0.1
 */
TC_API TC_NODISCARD tc_status tc_catalog_lookup(tc_ctx *ctx, const char *name,
                                                const tc_unit_info **out);

/** @brief True when @p code (e.g. "UA-14") is one of the claimed units. @since 0.1 */
TC_API bool tc_catalog_is_claimed(const char *code);

/**
 * @brief Normalise a name for matching: lower case (Latin and Cyrillic), only
 *        letters and digits kept, a trailing "oblast"-like word dropped.
 *
 * @param[in]  name    NUL-terminated UTF-8
 * @param[out] buf     receives the key, NUL-terminated (truncated to fit)
 * @param[in]  buf_len size of @p buf in bytes, > 0
 * @since 0.1
 */
TC_API void tc_name_key(const char *name, char *buf, size_t buf_len);

TC_END_DECLS

#endif /* TCLAIMS_CATALOG_H */
