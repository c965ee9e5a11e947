/* The area report: overlay of one snapshot with every unit, gap pieces classified. */
#include "tc_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tc_report {
    size_t n_rows;
    size_t *row_unit;   /* region-set index of each row */
    tc_areas *unit;     /* per region-set unit (all of them) */
    size_t n_units;
    tc_areas claim, country;
    double outside_m2;
    bool ea_checked;
    double ea_max_rel;
};

/* Per-unit working state of one computation. */
typedef struct unit_job {
    tc_ctx *ctx;
    const tc__unit *u;
    const GEOSGeometry *snap;
    const GEOSPreparedGeometry *psnap;
    const tc_report_opts *o;
    PJ *laea;                        /* local equal-area projection (lazy) */
    GEOSGeometry *strip_unc;         /* uncontrolled thick neighbour land (lazy) */
    const GEOSPreparedGeometry *pstrip;
    bool strip_done;
    double *ea_max_rel;              /* NULL unless checking */
} unit_job;

static double deg_per_m(double lat_deg)
{
    /* degrees of longitude per metre at lat (the larger of lon/lat degrees per metre) */
    return 1.0 / (111320.0 * fmax(cos(lat_deg * TC__PI / 180.0), 0.01));
}

static int to_laea(double *x, double *y, void *user)
{
    PJ_COORD c = proj_coord(proj_torad(*x), proj_torad(*y), 0, 0);
    c = proj_trans((PJ *)user, PJ_FWD, c);
    if (c.xy.x == HUGE_VAL)
        return 0;
    *x = c.xy.x;
    *y = c.xy.y;
    return 1;
}

static tc_status ensure_laea(unit_job *j)
{
    if (j->laea)
        return TC_OK;
    double x0, y0, x1, y1;
    GEOSGeom_getExtent_r(j->ctx->geos, j->u->land, &x0, &y0, &x1, &y1);
    char def[256];
    snprintf(def, sizeof def, "+proj=laea +lat_0=%.6f +lon_0=%.6f +ellps=WGS84 +units=m",
             (y0 + y1) / 2, (x0 + x1) / 2);
    j->laea = proj_create(j->ctx->pj, def);
    if (!j->laea) {
        int e = proj_context_errno(j->ctx->pj);
        return tc__fail(j->ctx, TC_ERR_CRS, "equal-area projection for %s: %s", j->u->code,
                        e ? proj_context_errno_string(j->ctx->pj, e) : "failed");
    }
    return TC_OK;
}

/* Geometry g in the unit's local Lambert azimuthal equal-area projection (metres). */
static tc_status project(unit_job *j, const GEOSGeometry *g, GEOSGeometry **out)
{
    tc_status st = ensure_laea(j);
    if (st != TC_OK)
        return st;
    *out = GEOSGeom_transformXY_r(j->ctx->geos, g, to_laea, j->laea);
    if (!*out)
        return tc__fail(j->ctx, TC_ERR_CRS, "project %s to equal-area: failed", j->u->code);
    return TC_OK;
}

/* Thin: vanishes under an inward buffer of half the sliver width. area_m2 is its geodesic
 * area: a piece smaller than a disk of that width cannot contain one, so it is thin. */
static tc_status is_thin(unit_job *j, const GEOSGeometry *piece, double area_m2, bool *thin)
{
    double r = j->o->sliver_width_m / 2;
    if (area_m2 < TC__PI * r * r) {
        *thin = true;
        return TC_OK;
    }
    GEOSGeometry *pm = NULL;
    tc_status st = project(j, piece, &pm);
    if (st != TC_OK)
        return st;
    GEOSGeometry *core = GEOSBuffer_r(j->ctx->geos, pm, -r, 2);
    GEOSGeom_destroy_r(j->ctx->geos, pm);
    if (!core)
        return tc__fail(j->ctx, TC_ERR_GEOMETRY, "sliver test in %s: %s", j->u->code,
                        j->ctx->geos_msg);
    *thin = GEOSisEmpty_r(j->ctx->geos, core) == 1;
    GEOSGeom_destroy_r(j->ctx->geos, core);
    return TC_OK;
}

/* Uncontrolled neighbour land beside the unit, thin pieces dropped: the land a real gap
 * connects to. Built on first need. */
static tc_status ensure_strip(unit_job *j)
{
    if (j->strip_done)
        return TC_OK;
    j->strip_done = true;
    GEOSContextHandle_t h = j->ctx->geos;
    GEOSGeometry *unc = GEOSDifference_r(h, j->u->strip, j->snap);
    if (!unc)
        return tc__fail(j->ctx, TC_ERR_GEOMETRY, "strip of %s: %s", j->u->code, j->ctx->geos_msg);
    int n = GEOSGetNumGeometries_r(h, unc);
    GEOSGeometry **keep = calloc((size_t)(n > 0 ? n : 1), sizeof *keep);
    size_t nk = 0;
    tc_status st = keep ? TC_OK : tc__fail(j->ctx, TC_ERR_NOMEM, "strip: out of memory");
    for (int i = 0; i < n && st == TC_OK; i++) {
        const GEOSGeometry *p = GEOSGetGeometryN_r(h, unc, i);
        if (GEOSGeomTypeId_r(h, p) != GEOS_POLYGON)
            continue;
        double a = 0;
        bool thin = true;
        if ((st = tc__geom_area_m2(j->ctx, p, &a, NULL)) == TC_OK &&
            (st = is_thin(j, p, a, &thin)) == TC_OK && !thin) {
            if (!(keep[nk] = GEOSGeom_clone_r(h, p)))
                st = tc__fail(j->ctx, TC_ERR_NOMEM, "strip: out of memory");
            else
                nk++;
        }
    }
    GEOSGeom_destroy_r(h, unc);
    if (st == TC_OK && nk) {
        j->strip_unc = GEOSGeom_createCollection_r(h, GEOS_MULTIPOLYGON, keep, (unsigned)nk);
        if (!j->strip_unc)
            st = tc__fail(j->ctx, TC_ERR_GEOMETRY, "strip: %s", j->ctx->geos_msg);
        else
            j->pstrip = GEOSPrepare_r(h, j->strip_unc);
        nk = 0;
    }
    for (size_t i = 0; i < nk; i++)
        GEOSGeom_destroy_r(h, keep[i]);
    free(keep);
    return st;
}

static tc_status classify(unit_job *j, const GEOSGeometry *gap, tc_areas *a)
{
    GEOSContextHandle_t h = j->ctx->geos;
    int n = GEOSGetNumGeometries_r(h, gap);
    for (int i = 0; i < n; i++) {
        const GEOSGeometry *p = GEOSGetGeometryN_r(h, gap, i);
        if (GEOSGeomTypeId_r(h, p) != GEOS_POLYGON || GEOSisEmpty_r(h, p))
            continue;
        double area = 0;
        bool thin = false;
        tc_status st = tc__geom_area_m2(j->ctx, p, &area, NULL);
        if (st == TC_OK)
            st = is_thin(j, p, area, &thin);
        if (st != TC_OK)
            return st;
        if (thin) {
            a->sliver_m2 += area;
            a->n_sliver++;
            continue;
        }
        if ((st = ensure_strip(j)) != TC_OK)
            return st;
        double y0, y1, x0, x1;
        GEOSGeom_getExtent_r(h, p, &x0, &y0, &x1, &y1);
        double tol = j->o->connect_tol_m * deg_per_m(fmax(fabs(y0), fabs(y1)));
        bool connected = j->pstrip && GEOSPreparedDistanceWithin_r(h, j->pstrip, p, tol) == 1;
        if (connected) {
            a->gap_m2 += area;
            a->n_gap++;
        } else {
            a->enclosed_m2 += area;
            a->n_enclosed++;
        }
    }
    return TC_OK;
}

static void ea_compare(unit_job *j, const GEOSGeometry *g, double geodesic_m2)
{
    if (!j->ea_max_rel || geodesic_m2 < 1e6) /* figures under 1 km2: relative error is noise */
        return;
    GEOSGeometry *pm = NULL;
    if (project(j, g, &pm) != TC_OK)
        return;
    double planar = 0;
    if (GEOSArea_r(j->ctx->geos, pm, &planar)) {
        double rel = fabs(planar - geodesic_m2) / geodesic_m2;
        if (rel > *j->ea_max_rel)
            *j->ea_max_rel = rel;
    }
    GEOSGeom_destroy_r(j->ctx->geos, pm);
}

static tc_status compute_unit(unit_job *j, tc_areas *a)
{
    GEOSContextHandle_t h = j->ctx->geos;
    const tc__unit *u = j->u;
    memset(a, 0, sizeof *a);
    a->admin_m2 = u->admin_m2;
    a->land_m2 = u->land_m2;
    ea_compare(j, u->land, u->land_m2);
    if (GEOSisEmpty_r(h, u->land))
        return TC_OK;
    if (GEOSPreparedIntersects_r(h, j->psnap, u->land) != 1) {
        /* untouched by the snapshot: all of it is uncontrolled land of the country */
        a->gap_m2 = u->land_m2;
        a->n_gap = 1;
        return TC_OK;
    }
    GEOSGeometry *ctl = GEOSIntersection_r(h, u->land, j->snap);
    GEOSGeometry *gap = ctl ? GEOSDifference_r(h, u->land, j->snap) : NULL;
    tc_status st = TC_OK;
    if (!ctl || !gap)
        st = tc__fail(j->ctx, TC_ERR_GEOMETRY, "overlay of %s with the snapshot: %s", u->code,
                      j->ctx->geos_msg);
    if (st == TC_OK)
        st = tc__geom_area_m2(j->ctx, ctl, &a->controlled_m2, NULL);
    if (st == TC_OK)
        st = classify(j, gap, a);
    if (st == TC_OK) {
        double raw = a->gap_m2 + a->sliver_m2 + a->enclosed_m2;
        ea_compare(j, ctl, a->controlled_m2);
        ea_compare(j, gap, raw);
        a->closure_rel = fabs(a->land_m2 - (a->controlled_m2 + raw)) / a->land_m2;
    }
    if (ctl)
        GEOSGeom_destroy_r(h, ctl);
    if (gap)
        GEOSGeom_destroy_r(h, gap);
    return st;
}

static void add_areas(tc_areas *sum, const tc_areas *a)
{
    sum->admin_m2 += a->admin_m2;
    sum->land_m2 += a->land_m2;
    sum->controlled_m2 += a->controlled_m2;
    sum->gap_m2 += a->gap_m2;
    sum->sliver_m2 += a->sliver_m2;
    sum->enclosed_m2 += a->enclosed_m2;
    sum->n_gap += a->n_gap;
    sum->n_sliver += a->n_sliver;
    sum->n_enclosed += a->n_enclosed;
}

static void finish_sum(tc_areas *s)
{
    double parts = s->controlled_m2 + s->gap_m2 + s->sliver_m2 + s->enclosed_m2;
    s->closure_rel = s->land_m2 > 0 ? fabs(s->land_m2 - parts) / s->land_m2 : 0.0;
}

void tc_report_free(tc_report *r)
{
    if (!r)
        return;
    free(r->row_unit);
    free(r->unit);
    free(r);
}

static tc_status pick_rows(tc_ctx *ctx, const tc_regionset *rs, const tc_report_opts *o,
                           tc_report *r)
{
    size_t n = o->units == TC_UNITS_CLAIM ? tc_catalog_count()
               : o->units == TC_UNITS_ALL ? rs->n
                                          : o->n_units;
    r->row_unit = calloc(n ? n : 1, sizeof *r->row_unit);
    if (!r->row_unit)
        return tc__fail(ctx, TC_ERR_NOMEM, "report: out of memory");
    for (size_t i = 0; i < n; i++) {
        if (o->units == TC_UNITS_ALL) {
            r->row_unit[i] = i;
        } else if (o->units == TC_UNITS_LIST) {
            if (o->unit_index[i] >= rs->n)
                return tc__fail(ctx, TC_ERR_INVALID_ARG, "report: unit index %zu out of range "
                                                         "(%zu units)",
                                o->unit_index[i], rs->n);
            r->row_unit[i] = o->unit_index[i];
        } else {
            const char *code = tc_catalog_get(i)->code;
            size_t k;
            for (k = 0; k < rs->n; k++)
                if (strcmp(rs->units[k].code, code) == 0)
                    break;
            if (k == rs->n)
                return tc__fail(ctx, TC_ERR_NOT_FOUND, "report: claimed unit %s (%s) is not in "
                                                       "the boundary layer",
                                code, tc_catalog_get(i)->name_en);
            r->row_unit[i] = k;
        }
    }
    r->n_rows = n;
    return TC_OK;
}

tc_status tc_report_new(tc_ctx *ctx, const tc_regionset *rs, const tc_snapshot *snap,
                        const tc_report_opts *opts, tc_report **out)
{
    if (!ctx)
        return TC_ERR_INVALID_ARG;
    tc__clear(ctx);
    if (!rs || !snap || !out)
        return tc__fail(ctx, TC_ERR_INVALID_ARG, "report: NULL %s",
                        !rs ? "region set" : !snap ? "snapshot" : "out");
    tc_report_opts defaults = TC_REPORT_OPTS_INIT;
    const tc_report_opts *o = opts ? opts : &defaults;
    if (o->version != TC_REPORT_OPTS_VERSION)
        return tc__fail(ctx, TC_ERR_INVALID_ARG, "report: options not initialised with "
                                                 "TC_REPORT_OPTS_INIT");
    if (!(o->sliver_width_m > 0 && o->sliver_width_m <= 2 * TC__STRIP_M / 3) ||
        !(o->connect_tol_m >= 0 && o->connect_tol_m <= 10000))
        return tc__fail(ctx, TC_ERR_INVALID_ARG, "report: sliver width %g m must be in (0, %g], "
                                                 "contact tolerance %g m in [0, 10000]",
                        o->sliver_width_m, 2 * TC__STRIP_M / 3, o->connect_tol_m);
    if (o->units > TC_UNITS_LIST || (o->units == TC_UNITS_LIST && (!o->unit_index || !o->n_units)))
        return tc__fail(ctx, TC_ERR_INVALID_ARG, "report: bad unit selection");
    tc_report *r = calloc(1, sizeof *r);
    if (!r)
        return tc__fail(ctx, TC_ERR_NOMEM, "report: out of memory");
    r->n_units = rs->n;
    r->unit = calloc(rs->n ? rs->n : 1, sizeof *r->unit);
    tc_status st = r->unit ? pick_rows(ctx, rs, o, r)
                           : tc__fail(ctx, TC_ERR_NOMEM, "report: out of memory");
    const GEOSPreparedGeometry *psnap = NULL;
    if (st == TC_OK && !(psnap = GEOSPrepare_r(ctx->geos, snap->geom)))
        st = tc__fail(ctx, TC_ERR_GEOMETRY, "report: cannot prepare the snapshot: %s",
                      ctx->geos_msg);
    r->ea_checked = o->equal_area_check;
    for (size_t i = 0; i < rs->n && st == TC_OK; i++) {
        unit_job j = {ctx, &rs->units[i], snap->geom, psnap, o, NULL, NULL, NULL, false,
                      o->equal_area_check ? &r->ea_max_rel : NULL};
        st = compute_unit(&j, &r->unit[i]);
        if (j.pstrip)
            GEOSPreparedGeom_destroy_r(ctx->geos, j.pstrip);
        if (j.strip_unc)
            GEOSGeom_destroy_r(ctx->geos, j.strip_unc);
        if (j.laea)
            proj_destroy(j.laea);
        if (st != TC_OK)
            break;
        add_areas(&r->country, &r->unit[i]);
        if (tc_catalog_is_claimed(rs->units[i].code))
            add_areas(&r->claim, &r->unit[i]);
        else
            r->outside_m2 += r->unit[i].controlled_m2;
    }
    if (psnap)
        GEOSPreparedGeom_destroy_r(ctx->geos, psnap);
    if (st != TC_OK) {
        tc_report_free(r);
        return st;
    }
    finish_sum(&r->claim);
    finish_sum(&r->country);
    *out = r;
    return TC_OK;
}

size_t tc_report_count(const tc_report *r) { return r ? r->n_rows : 0; }

size_t tc_report_get_unit(const tc_report *r, size_t i)
{
    return (r && i < r->n_rows) ? r->row_unit[i] : (size_t)-1;
}

tc_status tc_report_get_areas(const tc_report *r, size_t i, tc_areas *out)
{
    if (!r || !out || i >= r->n_rows)
        return TC_ERR_INVALID_ARG;
    *out = r->unit[r->row_unit[i]];
    return TC_OK;
}

tc_status tc_report_get_claim_total(const tc_report *r, tc_areas *out)
{
    if (!r || !out)
        return TC_ERR_INVALID_ARG;
    *out = r->claim;
    return TC_OK;
}

tc_status tc_report_get_country_total(const tc_report *r, tc_areas *out)
{
    if (!r || !out)
        return TC_ERR_INVALID_ARG;
    *out = r->country;
    return TC_OK;
}

tc_status tc_report_get_outside_m2(const tc_report *r, double *controlled_m2)
{
    if (!r || !controlled_m2)
        return TC_ERR_INVALID_ARG;
    *controlled_m2 = r->outside_m2;
    return TC_OK;
}

tc_status tc_report_get_equal_area_max_rel(const tc_report *r, double *max_rel)
{
    if (!r || !max_rel)
        return TC_ERR_INVALID_ARG;
    if (!r->ea_checked)
        return TC_ERR_NOT_FOUND;
    *max_rel = r->ea_max_rel;
    return TC_OK;
}
