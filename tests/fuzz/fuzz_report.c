/* The report on fuzzed GeoJSON: bytes "REGIONS\0SNAPSHOT" (no NUL: the same bytes for
 * both) -> tc_regionset_open() without a land mask, tc_snapshot_open(), tc_report_new()
 * over every unit, and every accessor. Checks that what comes back with TC_OK is finite.
 * Run: build-fuzz/tests/fuzz/fuzz_report -max_len=4096 tests/fuzz/corpus/report */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_areas(const tc_areas *a, const char *what)
{
    const double v[] = {a->admin_m2,  a->land_m2,     a->controlled_m2, a->gap_m2,
                        a->sliver_m2, a->enclosed_m2, a->closure_rel};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        FUZZ_CHECK(isfinite(v[i]), "%s: field %zu is %g", what, i, v[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char rpath[] = "/vsimem/fuzz_report_regions.geojson";
    static const char spath[] = "/vsimem/fuzz_report_snapshot.geojson";
    tc_ctx *ctx = fuzz_ctx();
    if (!fuzz_span_ok(data, size))
        return 0;
    const uint8_t *nul = memchr(data, 0, size);
    size_t rn = nul ? (size_t)(nul - data) : size;
    const uint8_t *s = nul ? nul + 1 : data;
    size_t sn = nul ? size - rn - 1 : size;
    if (!fuzz_vsimem(rpath, data, rn) || !fuzz_vsimem(spath, s, sn))
        return 0;

    tc_regionset *rs;
    tc_snapshot *snap;
    tc_report *rep;
    tc_status st = fuzz_open_report(ctx, rpath, spath, &rs, &snap, &rep);
    if (st == TC_OK) {
        FUZZ_CHECK(tc_report_count(rep) == tc_regionset_count(rs), "rows");
        for (size_t i = 0; i < tc_report_count(rep); i++) {
            tc_areas a;
            FUZZ_CHECK(tc_report_get_unit(rep, i) == i, "row %zu", i);
            FUZZ_CHECK(tc_report_get_areas(rep, i, &a) == TC_OK, "areas %zu", i);
            check_areas(&a, tc_regionset_get_code(rs, i));
        }
        tc_areas t;
        double out = 0;
        FUZZ_CHECK(tc_report_get_claim_total(rep, &t) == TC_OK, "claim");
        check_areas(&t, "claim");
        FUZZ_CHECK(tc_report_get_country_total(rep, &t) == TC_OK, "country");
        check_areas(&t, "country");
        FUZZ_CHECK(tc_report_get_outside_m2(rep, &out) == TC_OK && isfinite(out), "outside");
    }
    fuzz_close_report(rs, snap, rep, rpath, spath);
    return 0;
}
