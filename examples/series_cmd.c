/* tclaims series / tclaims front: the report over every snapshot of an archive. */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct bar {
    double t0;
} bar;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* A progress bar with rate and ETA on stderr (used only when stderr is a terminal). */
static void show_bar(size_t done, size_t total, void *user)
{
    bar *b = user;
    double el = now_s() - b->t0, rate = el > 0 ? (double)done / el : 0;
    double eta = rate > 0 ? (double)(total - done) / rate : 0;
    int width = 30, fill = total ? (int)((double)width * (double)done / (double)total) : width;
    fprintf(stderr, "\r[%.*s%*s] %zu/%zu %5.1f/s ETA %d:%02d ", fill,
            "##############################", width - fill, "", done, total, rate,
            (int)eta / 60, (int)eta % 60);
    if (done == total)
        fputs("\n", stderr);
    fflush(stderr);
}

static void csv_num(FILE *f, double m2, bool valid)
{
    if (valid)
        fprintf(f, ",%.3f", m2 / 1e6);
    else
        fputs(",", f);
}

static void write_csv(FILE *f, const tc_series *s, const tc_regionset *rs)
{
    fputs("date,region_code,land_area_km2,controlled_km2,gap_km2,sliver_km2,controlled_pct,"
          "change_km2,gained_km2,lost_km2\n",
          f);
    size_t nr = tc_series_row_count(s);
    for (size_t d = 0; d < tc_series_count(s); d++) {
        char date[11];
        tc_date_format(tc_series_get_date(s, d), date);
        for (size_t r = 0; r <= nr + 1; r++) {
            tc_areas a;
            tc_change c;
            if (tc_series_get_change(s, d, r, &c) != TC_OK)
                return;
            if (r < nr && tc_series_get_areas(s, d, r, &a) != TC_OK)
                return;
            if (r == nr && tc_series_get_claim_total(s, d, &a) != TC_OK)
                return;
            if (r == nr + 1) {
                double out = 0;
                if (tc_series_get_outside_m2(s, d, &out) != TC_OK)
                    return;
                fprintf(f, "%s,OUTSIDE,,%.3f,,,", date, out / 1e6);
            } else {
                fprintf(f, "%s,%s,%.3f,%.3f,%.3f,%.3f,%.3f", date,
                        r < nr ? tc_regionset_get_code(rs, tc_series_get_unit(s, r)) : "TOTAL",
                        a.land_m2 / 1e6, a.controlled_m2 / 1e6, a.gap_m2 / 1e6,
                        (a.sliver_m2 + a.enclosed_m2) / 1e6, pct(&a));
            }
            csv_num(f, c.net_m2, c.valid);
            csv_num(f, c.gained_m2, c.valid);
            csv_num(f, c.lost_m2, c.valid);
            fputs("\n", f);
        }
    }
}

static void write_table(FILE *f, const tc_series *s, const tc_regionset *rs, bool land)
{
    size_t nr = tc_series_row_count(s);
    char b[4][32];
    fprintf(f, "Controlled land in km2 (geodesic, WGS84; %s), per snapshot.\n",
            land ? "land mode: clipped to the land mask" : "as-drawn mode");
    fprintf(f, "%-10s", "Date");
    for (size_t r = 0; r < nr; r++)
        fprintf(f, " %10s", tc_regionset_get_code(rs, tc_series_get_unit(s, r)));
    fprintf(f, " %11s %8s %9s %9s %9s\n", "TOTAL", "Ctrl %", "Change", "Gained", "Lost");
    for (size_t d = 0; d < tc_series_count(s); d++) {
        char date[11];
        tc_date_format(tc_series_get_date(s, d), date);
        fprintf(f, "%-10s", date);
        tc_areas a, t;
        for (size_t r = 0; r < nr; r++)
            if (tc_series_get_areas(s, d, r, &a) == TC_OK)
                fprintf(f, " %10s", km2(a.controlled_m2, b[0], 32));
        tc_change c;
        if (tc_series_get_claim_total(s, d, &t) != TC_OK ||
            tc_series_get_change(s, d, nr, &c) != TC_OK)
            return;
        fprintf(f, " %11s %7.2f%%", km2(t.controlled_m2, b[0], 32), pct(&t));
        if (c.valid)
            fprintf(f, " %9s %9s %9s\n", km2(c.net_m2, b[1], 32), km2(c.gained_m2, b[2], 32),
                    km2(c.lost_m2, b[3], 32));
        else
            fprintf(f, " %9s %9s %9s\n", "-", "-", "-");
    }
}

static void json_area_fields(FILE *f, const tc_areas *a)
{
    fprintf(f, "\"land_area_km2\": %.6f, \"controlled_km2\": %.6f, \"gap_km2\": %.6f, "
               "\"sliver_km2\": %.6f, \"controlled_pct\": %.4f, "
               "\"controlled_pct_of_classified\": %.4f",
            a->land_m2 / 1e6, a->controlled_m2 / 1e6, a->gap_m2 / 1e6,
            (a->sliver_m2 + a->enclosed_m2) / 1e6, pct(a), pct_classified(a));
}

static void json_change(FILE *f, const tc_change *c)
{
    if (c->valid)
        fprintf(f, ", \"change_km2\": %.6f, \"gained_km2\": %.6f, \"lost_km2\": %.6f",
                c->net_m2 / 1e6, c->gained_m2 / 1e6, c->lost_m2 / 1e6);
    else
        fputs(", \"change_km2\": null, \"gained_km2\": null, \"lost_km2\": null", f);
}

static void write_json(FILE *f, const tc_series *s, const tc_regionset *rs, const inputs *in,
                       double sliver_m)
{
    char shown[PATH_LEN];
    size_t nr = tc_series_row_count(s);
    fputs("{\n  \"series\": [\n", f);
    for (size_t d = 0; d < tc_series_count(s); d++) {
        char date[11];
        tc_date_format(tc_series_get_date(s, d), date);
        fprintf(f, "    {\"date\": \"%s\", \"snapshot\": ", date);
        json_str(f, shown_source(tc_series_get_path(s, d), shown, sizeof shown));
        fputs(", \"units\": [", f);
        tc_areas a;
        tc_change c;
        for (size_t r = 0; r < nr; r++) {
            if (tc_series_get_areas(s, d, r, &a) != TC_OK ||
                tc_series_get_change(s, d, r, &c) != TC_OK)
                return;
            fprintf(f, "%s{\"region_code\": ", r ? ", " : "");
            json_str(f, tc_regionset_get_code(rs, tc_series_get_unit(s, r)));
            fputs(", ", f);
            json_area_fields(f, &a);
            json_change(f, &c);
            fputs("}", f);
        }
        double out = 0;
        if (tc_series_get_claim_total(s, d, &a) != TC_OK ||
            tc_series_get_change(s, d, nr, &c) != TC_OK ||
            tc_series_get_outside_m2(s, d, &out) != TC_OK)
            return;
        fputs("], \"total\": {", f);
        json_area_fields(f, &a);
        json_change(f, &c);
        if (tc_series_get_change(s, d, nr + 1, &c) != TC_OK)
            return;
        fprintf(f, "}, \"outside\": {\"controlled_km2\": %.6f", out / 1e6);
        json_change(f, &c);
        fprintf(f, "}}%s\n", d + 1 < tc_series_count(s) ? "," : "");
    }
    fputs("  ],\n  \"provenance\": {\"regions\": ", f);
    json_str(f, shown_source(in->regions, shown, sizeof shown));
    fputs(", \"regions_sha256\": ", f);
    json_sha(f, tc_regionset_get_sha256(rs, 0));
    fputs(", \"land\": ", f);
    if (tc_regionset_has_land(rs)) {
        json_str(f, shown_source(in->land, shown, sizeof shown));
        fputs(", \"land_sha256\": ", f);
        json_sha(f, tc_regionset_get_sha256(rs, 1));
    } else
        fputs("null, \"land_sha256\": null", f);
    fputs(", \"archive\": ", f);
    json_str(f, shown_source(in->archive, shown, sizeof shown));
    fprintf(f, ",\n    \"area_method\": \"geodesic polygon area on the WGS84 ellipsoid (PROJ "
               "geod_*)\", \"land_mode\": \"%s\", \"sliver_width_m\": %.1f,\n",
            tc_regionset_has_land(rs) ? "land" : "as-drawn", sliver_m);
    fputs("    \"library_version\": ", f);
    json_str(f, tc_version_string());
    fputs(", \"engines\": ", f);
    json_str(f, tc_engine_versions());
    fputs(",\n    \"attribution\": [\"Boundaries: geoBoundaries (CC BY 4.0), (c) OpenStreetMap "
          "contributors (ODbL)\", \"Land mask: Natural Earth (public domain)\", \"Control: "
          "DeepStateMap via the deepstate-map-data archive (GPL-3.0)\"]\n  }\n}\n",
          f);
}

static void write_front(FILE *f, const tc_series *s, enum format fmt)
{
    if (fmt == FMT_CSV)
        fputs("date,front_km\n", f);
    else if (fmt == FMT_JSON)
        fputs("{\"front\": [\n", f);
    else
        fputs("Front line in km (geodesic, WGS84): the line between controlled land and\n"
              "real gap inside Ukraine's land, not the state border or the coast.\n"
              "Date        Front km\n",
              f);
    for (size_t d = 0; d < tc_series_count(s); d++) {
        char date[11];
        tc_date_format(tc_series_get_date(s, d), date);
        tc_areas c;
        if (tc_series_get_country_total(s, d, &c) != TC_OK)
            return;
        if (fmt == FMT_CSV)
            fprintf(f, "%s,%.3f\n", date, c.front_m / 1e3);
        else if (fmt == FMT_JSON)
            fprintf(f, "  {\"date\": \"%s\", \"front_km\": %.3f}%s\n", date, c.front_m / 1e3,
                    d + 1 < tc_series_count(s) ? "," : "");
        else
            fprintf(f, "%s  %9.1f\n", date, c.front_m / 1e3);
    }
    if (fmt == FMT_JSON)
        fputs("]}\n", f);
}

/* The archive's quality facts, to stderr. */
static void write_qa(const tc_series *s, const tc_archive *arch)
{
    FILE *f = stderr;
    fputs("QA: archive quality\n", f);
    size_t n = tc_archive_count(arch), missing = 0;
    for (size_t i = 1; i < n; i++) {
        tc_date a = tc_archive_get_date(arch, i - 1), b = tc_archive_get_date(arch, i);
        long gap = tc_date_diff_days(a, b);
        if (gap > 1) {
            char da[11], db[11];
            tc_date_format(a, da);
            tc_date_format(b, db);
            fprintf(f, "  missing: %ld day(s) between %s and %s\n", gap - 1, da, db);
            missing += (size_t)(gap - 1);
        }
    }
    fprintf(f, "  %zu snapshots, %zu missing day(s)\n", n, missing);
    size_t runs = 0, identical = 0;
    for (size_t d = 1; d < tc_series_count(s); d++) {
        if (!tc_series_is_unchanged(s, d))
            continue;
        identical++;
        size_t e = d;
        while (e + 1 < tc_series_count(s) && tc_series_is_unchanged(s, e + 1))
            e++;
        if (e - d + 1 >= 2) {
            char da[11], db[11];
            tc_date_format(tc_series_get_date(s, d - 1), da);
            tc_date_format(tc_series_get_date(s, e), db);
            fprintf(f, "  unchanged: %zu identical snapshots from %s to %s\n", e - d + 2, da, db);
            runs++;
        }
        identical += e - d;
        d = e;
    }
    fprintf(f, "  %zu snapshot(s) identical to the one before (%zu runs of 3 or more)\n",
            identical, runs);
    /* the largest single-step jumps of the claim's controlled land */
    size_t nr = tc_series_row_count(s), top[5] = {0};
    double val[5] = {0};
    for (size_t d = 1; d < tc_series_count(s); d++) {
        tc_change c;
        if (tc_series_get_change(s, d, nr, &c) != TC_OK || !c.valid)
            continue;
        double v = c.gained_m2 + c.lost_m2;
        for (int k = 0; k < 5; k++)
            if (v > val[k]) {
                memmove(&val[k + 1], &val[k], (size_t)(4 - k) * sizeof *val);
                memmove(&top[k + 1], &top[k], (size_t)(4 - k) * sizeof *top);
                val[k] = v;
                top[k] = d;
                break;
            }
    }
    fputs("  largest single-step changes of the claim (gross gained + lost; likely catch-up "
          "updates):\n",
          f);
    for (int k = 0; k < 5 && val[k] > 0; k++) {
        tc_change c;
        if (tc_series_get_change(s, top[k], nr, &c) != TC_OK)
            continue;
        char da[11], db[11], b1[32], b2[32], b3[32];
        tc_date_format(tc_series_get_date(s, top[k] - 1), da);
        tc_date_format(tc_series_get_date(s, top[k]), db);
        fprintf(f, "    %s -> %s: net %s km2 (gained %s, lost %s)\n", da, db,
                km2(c.net_m2, b1, 32), km2(c.gained_m2, b2, 32), km2(c.lost_m2, b3, 32));
    }
}

int cmd_series(int argc, char **argv, bool front)
{
    options o;
    memset(&o, 0, sizeof o);
    o.sliver_width_m = TC_DEFAULT_SLIVER_WIDTH_M;
    o.format = FMT_CSV; /* many rows: csv unless asked otherwise */
    int rc = parse_args(argc, argv, &o);
    if (rc)
        return rc;
    inputs in;
    memset(&in, 0, sizeof in);
    resolve_inputs(&o, &in);
    tc_ctx *ctx = NULL;
    tc_status st = tc_ctx_new(&ctx);
    if (st != TC_OK) {
        fprintf(stderr, "tclaims: cannot create a context: %s\n", tc_status_str(st));
        return EXIT_DATA;
    }
    tc_archive *arch = NULL;
    tc_regionset *rs = NULL;
    tc_series *s = NULL;
    size_t *idx = NULL;
    FILE *out = NULL;
    char tmp[PATH_LEN + 32] = "";
    tc_series_opts so = TC_SERIES_OPTS_INIT;
    bar b = {now_s()};
    rc = EXIT_DATA;
    if ((o.from && tc_date_parse(ctx, o.from, &so.from) != TC_OK) ||
        (o.to && tc_date_parse(ctx, o.to, &so.to) != TC_OK)) {
        rc = usage_error("%s", tc_ctx_errmsg(ctx));
        goto done;
    }
    if (o.from && o.to && tc_date_cmp(so.from, so.to) > 0) {
        rc = usage_error("--from %s is after --to %s", o.from, o.to);
        goto done;
    }
    if ((st = open_archive(ctx, &o, &in, &arch)) != TC_OK)
        goto api_fail;
    if ((st = open_regionset(ctx, &o, &in, &rs)) != TC_OK)
        goto api_fail;
    if ((rc = select_rows(ctx, rs, &o, &so.report, &idx)) != 0)
        goto done;
    rc = EXIT_DATA;
    so.report.front_line = front;
    so.every_days = o.every_days;
    so.monthly = o.monthly;
    so.jobs = o.jobs; /* 0: every core */
    if (!o.quiet && isatty(STDERR_FILENO)) {
        so.progress = show_bar;
        so.progress_user = &b;
    }
    if ((st = tc_series_new(ctx, rs, arch, &so, &s)) != TC_OK)
        goto api_fail;
    if (!(out = out_open(&o, tmp, sizeof tmp)))
        goto done;
    if (front)
        write_front(out, s, o.format);
    else if (o.format == FMT_CSV)
        write_csv(out, s, rs);
    else if (o.format == FMT_JSON)
        write_json(out, s, rs, &in, o.sliver_width_m);
    else
        write_table(out, s, rs, tc_regionset_has_land(rs));
    rc = out_close(&o, out, tmp);
    out = NULL;
    if (rc)
        goto done;
    if (o.qa)
        write_qa(s, arch);
    print_warnings(ctx);
    rc = 0;
    goto done;
api_fail:
    rc = api_error(ctx, st);
done:
    out_discard(out, tmp);
    free(idx);
    tc_series_free(s);
    tc_regionset_free(rs);
    tc_archive_free(arch);
    tc_ctx_free(ctx);
    return rc;
}
