/**
 * @file tclaims.h
 * @brief Umbrella header: include this one.
 *
 * @code
 * #include <tclaims/tclaims.h>
 * @endcode
 */
#ifndef TCLAIMS_H
#define TCLAIMS_H

#include <tclaims/export.h>
#include <tclaims/version.h>
#include <tclaims/status.h>
#include <tclaims/context.h>
#include <tclaims/area.h>
#include <tclaims/catalog.h>
#include <tclaims/layer.h>
#include <tclaims/snapshot.h>
#include <tclaims/regionset.h>
#include <tclaims/report.h>
#include <tclaims/series.h>

#endif /* TCLAIMS_H */
