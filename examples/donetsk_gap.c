/* Minimal consumer of libtclaims: the uncontrolled land of Donetsk Oblast, in km^2.
 *
 * Build it against an installed tclaims:
 *     cc donetsk_gap.c $(pkg-config --cflags --libs tclaims) -o donetsk_gap
 * Run:
 *     ./donetsk_gap BOUNDARIES LAND SNAPSHOT
 */
#include <stdio.h>
#include <tclaims/tclaims.h>

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s BOUNDARIES LAND SNAPSHOT\n", argv[0]);
        return 2;
    }
    tc_ctx *ctx = NULL;
    tc_regionset *rs = NULL;
    tc_snapshot *snap = NULL;
    tc_report *rep = NULL;
    tc_areas a;
    size_t donetsk = 0;
    tc_regionset_opts ro = TC_REGIONSET_OPTS_INIT;
    ro.land_path = argv[2];
    tc_report_opts po = TC_REPORT_OPTS_INIT;
    po.units = TC_UNITS_LIST;
    po.unit_index = &donetsk;
    po.n_units = 1;
    tc_status st = tc_ctx_new(&ctx);
    if (st == TC_OK)
        st = tc_regionset_open(ctx, argv[1], &ro, &rs);
    if (st == TC_OK)
        st = tc_regionset_lookup(ctx, rs, "donetsk", &donetsk);
    if (st == TC_OK)
        st = tc_snapshot_open(ctx, argv[3], NULL, &snap);
    if (st == TC_OK)
        st = tc_report_new(ctx, rs, snap, &po, &rep);
    if (st == TC_OK)
        st = tc_report_get_areas(rep, 0, &a);
    if (st == TC_OK)
        printf("Donetsk Oblast: %.1f km2 of land not controlled (real gap %.1f km2)\n",
               (a.gap_m2 + a.sliver_m2 + a.enclosed_m2) / 1e6, a.gap_m2 / 1e6);
    else
        fprintf(stderr, "error: %s: %s\n", tc_status_str(st), tc_ctx_errmsg(ctx));
    tc_report_free(rep);
    tc_snapshot_free(snap);
    tc_regionset_free(rs);
    tc_ctx_free(ctx);
    return st == TC_OK ? 0 : 1;
}
