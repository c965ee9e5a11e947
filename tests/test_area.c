/* Geodesic areas (tclaims/area.h): tc_ring_area_m2, tc_wkt_area_m2, against independent truths. */
#include "tc_test.h"

/* WGS84, written out here rather than taken from the library. */
#define WGS84_A 6378137.0
#define WGS84_F (1.0 / 298.257223563)
#define DEG (3.14159265358979323846 / 180.0)

/* Exact area of the ellipsoidal quadrangle between two parallels and two meridians:
 * A = dlambda * b^2/2 * [f(phi2) - f(phi1)],
 * f(phi) = sin(phi)/(1 - e^2 sin^2(phi)) + 1/(2e) ln((1 + e sin(phi))/(1 - e sin(phi))). */
static double band_f(double phi_rad)
{
    const double e2 = WGS84_F * (2.0 - WGS84_F), e = sqrt(e2);
    double s = sin(phi_rad);
    return s / (1.0 - e2 * s * s) + 1.0 / (2.0 * e) * log((1.0 + e * s) / (1.0 - e * s));
}

static double band_area_m2(double lon0, double lon1, double lat0, double lat1)
{
    const double b = WGS84_A * (1.0 - WGS84_F);
    return (lon1 - lon0) * DEG * b * b / 2.0 * (band_f(lat1 * DEG) - band_f(lat0 * DEG));
}

/* A lon/lat box as a ring: n_par vertices along each parallel edge, n_mer along each meridian
 * edge (corners counted once), counter-clockwise from (lon0, lat0), no closing vertex.
 * Returns the vertex count; lon/lat must hold 2 * (n_par + n_mer) values. */
static size_t box_ring(double lon0, double lon1, double lat0, double lat1, size_t n_par,
                       size_t n_mer, double *lon, double *lat)
{
    size_t k = 0;
    for (size_t i = 0; i < n_par; i++) { /* south edge, west to east */
        lon[k] = lon0 + (lon1 - lon0) * (double)i / (double)n_par;
        lat[k++] = lat0;
    }
    for (size_t i = 0; i < n_mer; i++) { /* east edge, south to north */
        lon[k] = lon1;
        lat[k++] = lat0 + (lat1 - lat0) * (double)i / (double)n_mer;
    }
    for (size_t i = 0; i < n_par; i++) { /* north edge, east to west */
        lon[k] = lon1 - (lon1 - lon0) * (double)i / (double)n_par;
        lat[k++] = lat1;
    }
    for (size_t i = 0; i < n_mer; i++) { /* west edge, north to south */
        lon[k] = lon0;
        lat[k++] = lat1 - (lat1 - lat0) * (double)i / (double)n_mer;
    }
    return k;
}

static double ring_area(tc_ctx *ctx, const double *lon, const double *lat, size_t n)
{
    double a = -1.0;
    assert_tc_ok(ctx, tc_ring_area_m2(ctx, lon, lat, n, &a));
    assert_string_equal(tc_ctx_errmsg(ctx), "");
    return a;
}

/* ---- (a) closed-form anchors ---- */

static void check_densified_cell(tc_ctx *ctx, double lat0)
{
    enum { NPAR = 2000, NMER = 200 };
    double *lon = malloc(2 * (NPAR + NMER) * sizeof *lon);
    double *lat = malloc(2 * (NPAR + NMER) * sizeof *lat);
    assert_non_null(lon);
    assert_non_null(lat);
    size_t n = box_ring(0.0, 1.0, lat0, lat0 + 1.0, NPAR, NMER, lon, lat);
    double got = ring_area(ctx, lon, lat, n);
    double want = band_area_m2(0.0, 1.0, lat0, lat0 + 1.0);
    print_message("# cell lat %g..%g: geodesic %.6f m2, closed form %.6f m2, rel diff %.3g\n",
                  lat0, lat0 + 1.0, got, want, fabs(got - want) / want);
    /* The ring's edges are geodesic chords between vertices 1/2000 degree apart on a parallel.
     * A chord departs from the parallel by O(h^2) over a length h, so the sliver per chord
     * is O(h^3) and the total O(1/n^2) relative: about 1e-10 here (zero on the equator,
     * which is a geodesic; meridians are geodesics too). 1e-7 leaves room for rounding in
     * geod_polygon over 4400 vertices while catching any error in the area method. */
    assert_close(got, want, 1e-7);
    free(lon);
    free(lat);
}

static void test_cell_equator_closed_form(void **state) { check_densified_cell(*state, 0.0); }

static void test_cell_48n_closed_form(void **state) { check_densified_cell(*state, 48.0); }

static void test_cell_equator_anchor(void **state)
{
    tc_ctx *ctx = *state;
    const double lon[] = {0, 1, 1, 0}, lat[] = {0, 0, 1, 1};
    double got = ring_area(ctx, lon, lat, 4);
    print_message("# 1x1 degree equator cell, 4 vertices: %.6f km2\n", got / 1e6);
    /* 12,308.78 km2 is given to 7 significant digits (rounding error <= 4e-7 relative). */
    assert_close(got, 12308.78e6, 1e-6);
    /* The undensified north edge is a geodesic chord that bulges poleward, so the 4-vertex
     * cell is slightly larger than the band between the parallels (by ~0.0006 km2). */
    assert_true(got > band_area_m2(0.0, 1.0, 0.0, 1.0));
}

/* ---- (b) orientation and closing vertex ---- */

static void test_ring_orientation_and_closing(void **state)
{
    tc_ctx *ctx = *state;
    /* an irregular pentagon in Ukraine, counter-clockwise, not closed */
    const double lon[] = {30.0, 32.5, 33.1, 31.2, 29.7}, lat[] = {46.0, 46.4, 48.9, 49.6, 48.1};
    double ccw = ring_area(ctx, lon, lat, 5);
    assert_true(ccw > 1e9); /* tens of thousands of km2: not a degenerate answer */

    double rlon[5], rlat[5];
    for (size_t i = 0; i < 5; i++) {
        rlon[i] = lon[4 - i];
        rlat[i] = lat[4 - i];
    }
    /* reversing the vertex order only flips the sign of the signed area before |.|:
     * the same sums in another order, hence 1e-12 */
    assert_close(ring_area(ctx, rlon, rlat, 5), ccw, 1e-12);

    double clon[6], clat[6];
    memcpy(clon, lon, sizeof lon);
    memcpy(clat, lat, sizeof lat);
    clon[5] = lon[0];
    clat[5] = lat[0];
    /* a closing vertex is dropped: exactly the same computation */
    assert_true(ring_area(ctx, clon, clat, 6) == ccw);

    /* starting at another vertex: the same polygon, rounding only */
    double slon[5], slat[5];
    for (size_t i = 0; i < 5; i++) {
        slon[i] = lon[(i + 2) % 5];
        slat[i] = lat[(i + 2) % 5];
    }
    assert_close(ring_area(ctx, slon, slat, 5), ccw, 1e-12);

    /* three vertices plus a closing one is still a triangle */
    const double tlon[] = {0, 1, 0, 0}, tlat[] = {0, 0, 1, 0};
    assert_close(ring_area(ctx, tlon, tlat, 4), ring_area(ctx, tlon, tlat, 3), 0.0);
}

/* ---- (c) holes and multipolygons through WKT ---- */

static void test_wkt_polygon_with_hole(void **state)
{
    tc_ctx *ctx = *state;
    const double olon[] = {30, 32, 32, 30}, olat[] = {46, 46, 48, 48};
    const double ilon[] = {30.5, 31.5, 31.5, 30.5}, ilat[] = {46.5, 46.5, 47.5, 47.5};
    double outer = ring_area(ctx, olon, olat, 4), inner = ring_area(ctx, ilon, ilat, 4);

    double got = -1.0;
    assert_tc_ok(ctx, tc_wkt_area_m2(ctx,
                                     "POLYGON((30 46, 32 46, 32 48, 30 48, 30 46),"
                                     "(30.5 46.5, 30.5 47.5, 31.5 47.5, 31.5 46.5, 30.5 46.5))",
                                     &got));
    print_message("# outer %.3f km2 - hole %.3f km2 = %.3f km2\n", outer / 1e6, inner / 1e6,
                  got / 1e6);
    /* the same rings through the same geod routine: only summation order differs */
    assert_close(got, outer - inner, 1e-12);

    /* a valid polygon is measured as is: no repair warning */
    size_t before = tc_ctx_warning_count(ctx);
    assert_tc_ok(ctx, tc_wkt_area_m2(ctx, "POLYGON((30 46, 32 46, 32 48, 30 48, 30 46))", &got));
    assert_close(got, outer, 1e-12); /* as above */
    assert_int_equal(tc_ctx_warning_count(ctx), before);
}

static void test_wkt_multipolygon_and_collection(void **state)
{
    tc_ctx *ctx = *state;
    const double alon[] = {30, 31, 31, 30}, alat[] = {46, 46, 47, 47};
    const double blon[] = {33, 34, 34}, blat[] = {48, 48, 49};
    double a = ring_area(ctx, alon, alat, 4), b = ring_area(ctx, blon, blat, 3);
    double got = -1.0;
    assert_tc_ok(ctx, tc_wkt_area_m2(ctx,
                                     "MULTIPOLYGON(((30 46, 31 46, 31 47, 30 47, 30 46)),"
                                     "((33 48, 34 48, 34 49, 33 48)))",
                                     &got));
    assert_close(got, a + b, 1e-12); /* disjoint parts add; rounding only */
    got = -1.0;
    assert_tc_ok(ctx, tc_wkt_area_m2(ctx,
                                     "GEOMETRYCOLLECTION(POLYGON((30 46, 31 46, 31 47, 30 47, "
                                     "30 46)),POLYGON((33 48, 34 48, 34 49, 33 48)))",
                                     &got));
    assert_close(got, a + b, 1e-12); /* as above */
    got = -1.0;
    assert_tc_ok(ctx, tc_wkt_area_m2(ctx, "POLYGON EMPTY", &got));
    assert_true(got == 0.0);
}

/* ---- (d) repair of a self-intersecting ring ---- */

static void test_wkt_bowtie_repaired(void **state)
{
    tc_ctx *ctx = *state;
    /* The edges (0 0)-(1 1) and (1 0)-(0 1) cross at (0.5 0.5), a point on both straight
     * lon/lat segments (GEOS nodes in the plane). Make-valid gives two triangles. */
    const double llon[] = {0, 0.5, 0}, llat[] = {0, 0.5, 1};
    const double rlon[] = {0.5, 1, 1}, rlat[] = {0.5, 1, 0};
    double left = ring_area(ctx, llon, llat, 3), right = ring_area(ctx, rlon, rlat, 3);

    size_t before = tc_ctx_warning_count(ctx);
    double got = -1.0;
    assert_tc_ok(ctx, tc_wkt_area_m2(ctx, "POLYGON((0 0, 1 1, 1 0, 0 1, 0 0))", &got));
    print_message("# bow-tie: %.3f km2 (triangles %.3f + %.3f km2)\n", got / 1e6, left / 1e6,
                  right / 1e6);
    /* the same vertices once GEOS has computed the node (0.5, 0.5), exact in binary;
     * 1e-10 allows for the node being off by an ulp */
    assert_close(got, left + right, 1e-10);

    assert_int_equal(tc_ctx_warning_count(ctx), before + 1);
    const char *w = tc_ctx_get_warning(ctx, before);
    assert_non_null(w);
    print_message("# warning: %s\n", w);
    assert_non_null(strstr(w, "repaired"));
    assert_null(tc_ctx_get_warning(ctx, before + 1));
}

/* ---- (e) failures ---- */

static void test_ring_area_invalid_args(void **state)
{
    tc_ctx *ctx = *state;
    const double lon[] = {0, 1, 1, 0}, lat[] = {0, 0, 1, 1};
    double out = -7.0;

    assert_int_equal(tc_ring_area_m2(NULL, lon, lat, 4, &out), TC_ERR_INVALID_ARG);
    assert_tc_fails(ctx, tc_ring_area_m2(ctx, NULL, lat, 4, &out), TC_ERR_INVALID_ARG);
    assert_tc_fails(ctx, tc_ring_area_m2(ctx, lon, NULL, 4, &out), TC_ERR_INVALID_ARG);
    assert_tc_fails(ctx, tc_ring_area_m2(ctx, lon, lat, 4, NULL), TC_ERR_INVALID_ARG);
    assert_true(out == -7.0);

    /* too few vertices: 2, 0, and a closed "triangle" with only 2 distinct vertices */
    assert_tc_fails(ctx, tc_ring_area_m2(ctx, lon, lat, 2, &out), TC_ERR_INVALID_ARG);
    assert_tc_fails(ctx, tc_ring_area_m2(ctx, lon, lat, 0, &out), TC_ERR_INVALID_ARG);
    const double c2lon[] = {0, 1, 0}, c2lat[] = {0, 0, 0};
    assert_tc_fails(ctx, tc_ring_area_m2(ctx, c2lon, c2lat, 3, &out), TC_ERR_INVALID_ARG);
    assert_true(out == -7.0);

    /* non-finite and out-of-range coordinates */
    double blon[] = {0, 1, 1, 0}, blat[] = {0, 0, 1, 1};
    blat[2] = NAN;
    assert_tc_fails(ctx, tc_ring_area_m2(ctx, blon, blat, 4, &out), TC_ERR_INVALID_ARG);
    blat[2] = 95.0;
    assert_tc_fails(ctx, tc_ring_area_m2(ctx, blon, blat, 4, &out), TC_ERR_INVALID_ARG);
    assert_non_null(strstr(tc_ctx_errmsg(ctx), "95"));
    blat[2] = 1.0;
    blon[1] = INFINITY;
    assert_tc_fails(ctx, tc_ring_area_m2(ctx, blon, blat, 4, &out), TC_ERR_INVALID_ARG);
    blon[1] = 541.0;
    assert_tc_fails(ctx, tc_ring_area_m2(ctx, blon, blat, 4, &out), TC_ERR_INVALID_ARG);
    assert_true(out == -7.0);

    /* the edges of the documented ranges are accepted */
    blon[1] = 1.0;
    blat[2] = 90.0;
    blat[3] = 90.0;
    assert_tc_ok(ctx, tc_ring_area_m2(ctx, blon, blat, 4, &out));
    assert_true(out > 0.0);
    /* and a success clears the previous message */
    assert_string_equal(tc_ctx_errmsg(ctx), "");
}

static void test_wkt_area_failures(void **state)
{
    tc_ctx *ctx = *state;
    double out = -7.0;
    assert_int_equal(tc_wkt_area_m2(NULL, "POLYGON((0 0, 1 0, 1 1, 0 0))", &out),
                     TC_ERR_INVALID_ARG);
    assert_tc_fails(ctx, tc_wkt_area_m2(ctx, NULL, &out), TC_ERR_INVALID_ARG);
    assert_tc_fails(ctx, tc_wkt_area_m2(ctx, "POLYGON((0 0, 1 0, 1 1, 0 0))", NULL),
                    TC_ERR_INVALID_ARG);

    /* non-polygonal */
    assert_tc_fails(ctx, tc_wkt_area_m2(ctx, "LINESTRING(0 0,1 1)", &out), TC_ERR_GEOMETRY);
    assert_tc_fails(ctx, tc_wkt_area_m2(ctx, "POINT(30 48)", &out), TC_ERR_GEOMETRY);
    assert_tc_fails(ctx,
                    tc_wkt_area_m2(ctx, "GEOMETRYCOLLECTION(POLYGON((0 0, 1 0, 1 1, 0 0)),"
                                        "LINESTRING(0 0, 1 1))",
                                   &out),
                    TC_ERR_GEOMETRY);
    /* unparsable: truncated, garbage, empty */
    assert_tc_fails(ctx, tc_wkt_area_m2(ctx, "POLYGON((0 0, 1 0, 1 1", &out), TC_ERR_GEOMETRY);
    assert_tc_fails(ctx, tc_wkt_area_m2(ctx, "not wkt at all", &out), TC_ERR_GEOMETRY);
    assert_tc_fails(ctx, tc_wkt_area_m2(ctx, "", &out), TC_ERR_GEOMETRY);
    /* out of range and non-finite coordinates */
    assert_tc_fails(ctx, tc_wkt_area_m2(ctx, "POLYGON((0 0, 1 0, 1 95, 0 0))", &out),
                    TC_ERR_GEOMETRY);
    assert_tc_fails(ctx, tc_wkt_area_m2(ctx, "POLYGON((3.4e6 6.2e6, 3.5e6 6.2e6, 3.5e6 6.3e6, "
                                             "3.4e6 6.2e6))",
                                        &out),
                    TC_ERR_GEOMETRY);
    assert_tc_fails(ctx, tc_wkt_area_m2(ctx, "POLYGON((0 0, 1 0, 1 NaN, 0 0))", &out),
                    TC_ERR_GEOMETRY);
    assert_true(out == -7.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cell_equator_closed_form),
        cmocka_unit_test(test_cell_48n_closed_form),
        cmocka_unit_test(test_cell_equator_anchor),
        cmocka_unit_test(test_ring_orientation_and_closing),
        cmocka_unit_test(test_wkt_polygon_with_hole),
        cmocka_unit_test(test_wkt_multipolygon_and_collection),
        cmocka_unit_test(test_wkt_bowtie_repaired),
        cmocka_unit_test(test_ring_area_invalid_args),
        cmocka_unit_test(test_wkt_area_failures),
    };
    return cmocka_run_group_tests_name("area", tests, tc_test_ctx_setup, tc_test_ctx_teardown);
}
