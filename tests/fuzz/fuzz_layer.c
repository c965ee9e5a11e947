/* Region loading: bytes as a GeoJSON file -> tc_layer_open() and every region accessor.
 * Run: build-fuzz/tests/fuzz/fuzz_layer -max_len=4096 tests/fuzz/corpus/geojson */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char path[] = "/vsimem/fuzz_layer.geojson";
    tc_ctx *ctx = fuzz_ctx();
    if (!fuzz_span_ok(data, size))
        return 0;
    if (!fuzz_vsimem(path, data, size))
        return 0;
    tc_layer *layer = NULL;
    tc_status st = tc_layer_open(ctx, path, NULL, &layer);
    fuzz_check_status(ctx, st, "tc_layer_open");
    if (st == TC_OK) {
        FUZZ_CHECK(tc_layer_count(layer) > 0, "a loaded layer has no region");
        FUZZ_CHECK(tc_layer_get_code_field(layer)[0] != '\0', "no code field name");
        for (size_t i = 0; i < tc_layer_count(layer); i++) {
            const tc_region *r = tc_layer_get_region(layer, i);
            FUZZ_CHECK(r != NULL, "region %zu is NULL", i);
            const char *code = tc_region_get_code(r);
            FUZZ_CHECK(code && code[0], "region %zu without a code", i);
            FUZZ_CHECK(tc_layer_find(layer, code) == r, "find(%s) is not region %zu", code, i);
            FUZZ_CHECK(tc_region_get_name(r) != NULL, "NULL name");
            FUZZ_CHECK(tc_region_feature_count(r) >= 1, "region without features");
            double a = -1.0;
            st = tc_region_area_m2(ctx, r, &a);
            fuzz_check_status(ctx, st, "tc_region_area_m2");
            bool measured = st == TC_OK;
            if (measured)
                fuzz_check_area(a, code);
            char *wkt = NULL;
            st = tc_region_to_wkt(ctx, r, &wkt);
            fuzz_check_status(ctx, st, "tc_region_to_wkt");
            if (st == TC_OK && measured && strlen(wkt) < 256 * 1024) {
                /* the WKT of a loaded region reads back with the same area */
                double b = -1.0;
                tc_status st2 = tc_wkt_area_m2(ctx, wkt, &b);
                fuzz_check_status(ctx, st2, "tc_wkt_area_m2(region)");
                FUZZ_CHECK(st2 == TC_OK, "region WKT does not read back: %s", tc_ctx_errmsg(ctx));
                FUZZ_CHECK(fabs(a - b) <= 1e-6 * fabs(a) + 1.0,
                           "region area %.17g m2, its WKT %.17g m2", a, b);
            }
            tc_free(wkt);
        }
        FUZZ_CHECK(tc_layer_get_region(layer, tc_layer_count(layer)) == NULL, "past the end");
    } else {
        FUZZ_CHECK(layer == NULL, "out written on failure");
    }
    tc_layer_free(layer);
    fuzz_vsimem_drop(path);
    return 0;
}
