/**
 * @file export.h
 * @brief Symbol visibility and attribute macros for the tclaims public API.
 *
 * The library is built with hidden visibility; only declarations marked TC_API
 * are exported. Consumers see TC_API as empty.
 */
#ifndef TCLAIMS_EXPORT_H
#define TCLAIMS_EXPORT_H

#if defined(TC_BUILDING) && defined(__GNUC__)
#define TC_API __attribute__((visibility("default")))
#else
#define TC_API
#endif

#if defined(__GNUC__)
#define TC_NODISCARD __attribute__((warn_unused_result))
#else
#define TC_NODISCARD
#endif

#ifdef __cplusplus
#define TC_BEGIN_DECLS extern "C" {
#define TC_END_DECLS }
#else
#define TC_BEGIN_DECLS
#define TC_END_DECLS
#endif

#endif /* TCLAIMS_EXPORT_H */
