/* WKT areas: bytes as WKT text -> tc_wkt_area_m2() (parse, polygonal check, make-valid
 * repair, geodesic area). Most of what this reaches is GEOS's WKT reader: keep it short.
 * Run: build-fuzz/tests/fuzz/fuzz_wkt -max_len=1024 tests/fuzz/corpus/wkt */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tc_ctx *ctx = fuzz_ctx();
    char *wkt = fuzz_cstr(data, size);
    double a = -1.0;
    tc_status st = tc_wkt_area_m2(ctx, wkt, &a);
    fuzz_check_status(ctx, st, "tc_wkt_area_m2");
    FUZZ_CHECK(st == TC_OK || st == TC_ERR_GEOMETRY, "%s", tc_status_str(st));
    if (st == TC_OK)
        fuzz_check_area(a, "WKT");
    else
        FUZZ_CHECK(a == -1.0, "area written on failure");
    free(wkt);
    return 0;
}
