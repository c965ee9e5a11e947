/* Snapshot loading: bytes as a GeoJSON file -> tc_snapshot_open() and its accessors.
 * Run: build-fuzz/tests/fuzz/fuzz_snapshot -max_len=4096 tests/fuzz/corpus/geojson */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char path[] = "/vsimem/fuzz_snapshot.geojson";
    tc_ctx *ctx = fuzz_ctx();
    if (!fuzz_span_ok(data, size))
        return 0;
    if (!fuzz_vsimem(path, data, size))
        return 0;
    tc_snapshot *snap = NULL;
    tc_status st = tc_snapshot_open(ctx, path, NULL, &snap);
    fuzz_check_status(ctx, st, "tc_snapshot_open");
    if (st == TC_OK) {
        FUZZ_CHECK(strcmp(tc_snapshot_get_path(snap), path) == 0, "path");
        /* not a regular file: no checksum */
        FUZZ_CHECK(tc_snapshot_get_sha256(snap)[0] == '\0', "sha256 of /vsimem");
        double a = -1.0;
        st = tc_snapshot_area_m2(ctx, snap, &a);
        fuzz_check_status(ctx, st, "tc_snapshot_area_m2");
        if (st == TC_OK)
            fuzz_check_area(a, "snapshot");
        (void)tc_snapshot_polygon_count(snap);
    } else {
        FUZZ_CHECK(snap == NULL, "out written on failure");
    }
    tc_snapshot_free(snap);
    fuzz_vsimem_drop(path);
    return 0;
}
