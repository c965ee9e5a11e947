/* tclaims: example command-line tool over the tclaims C API.
 *
 *   tclaims report [options]   areas of claimed, controlled and gap territory per unit
 *
 * Uses only <tclaims/tclaims.h>, as any outside program would. Exit status: 0 success,
 * 1 data error, 2 usage error. */
#include <tclaims/tclaims.h>

#include <errno.h>
#include <pthread.h>
#include <locale.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static void usage(FILE *f)
{
    fputs(
        "Usage: tclaims report [options]     areas for one snapshot\n"
        "       tclaims series [options]     the same for every snapshot of an archive,\n"
        "                                    with net and gross changes\n"
        "       tclaims front [options]      front-line length per snapshot\n"
        "       tclaims --help | --version\n"
        "\n"
        "Areas of claimed, controlled and uncontrolled (gap) territory per unit, computed\n"
        "on the WGS84 ellipsoid (geodesic areas, PROJ geod_*). All areas are in km^2\n"
        "(square kilometres); lengths in km; percentages are controlled / land area x 100.\n"
        "\n"
        "Inputs (default data dir: $TCLAIMS_DATA_DIR, else " TC_DEFAULT_DATA_DIR "):\n"
        "  --data-dir DIR       reference data directory\n"
        "  --regions SRC        boundary source (any GDAL vector source: a file, or a\n"
        "                       database such as \"PG:dbname=gis\")\n"
        "                       [DIR/boundaries/geoBoundaries-UKR-ADM1.geojson]\n"
        "  --regions-layer NAME, --land-layer NAME, --control-layer NAME\n"
        "                       layer (table) of that source to read [the first]\n"
        "  --code-field NAME    field holding ISO 3166-2 codes [auto-detected]\n"
        "  --name-field NAME    field holding unit names [auto-detected]\n"
        "  --land SRC           land mask [DIR/land/ne_10m_land_ukraine_region.geojson]\n"
        "  --no-land            report areas as drawn (coastal units include sea)\n"
        "  --control SRC        snapshot of controlled territory (any GDAL vector source)\n"
        "  --date YYYY-MM-DD    snapshot of that day from the archive (--archive, below;\n"
        "                       default DIR/control/deepstate), else the latest earlier\n"
        "                       one (the date used is reported) [default: the latest]\n"
        "Selection and method:\n"
        "  --region NAME|CODE   report this unit (repeatable, or comma-separated);\n"
        "                       e.g. UA-14, donetsk, lugansk, Zaporozhye, kharkiv\n"
        "  --units claim|all    the six claimed units (default) or every unit\n"
        "  --sliver-width M     gap pieces narrower than M metres are slivers [1500]\n"
        "  --check-equal-area   recompute every area in an equal-area projection and\n"
        "                       report the largest relative disagreement\n"
        "  --method fast|plain  plain: the straightforward reference (both overlays\n"
        "                       whole for every unit, no reuse); same figures, slower\n"
        "  --cache-dir DIR      prepared-region cache [$XDG_CACHE_HOME/tclaims or\n"
        "                       ~/.cache/tclaims]\n"
        "  --no-cache           neither read nor write the cache\n"
        "Archive (report: picks its --date there; series and front: every snapshot):\n"
        "  --archive DIR        directory of dated snapshot files (name_YYYYMMDD.ext)\n"
        "                       [DIR/control/deepstate]\n"
        "  --archive SRC --date-field NAME [--layer NAME]\n"
        "                       one layer (GeoPackage, PostGIS...) whose date field\n"
        "                       splits it into snapshots\n"
        "Series and front:\n"
        "  --from YYYY-MM-DD    first date      --to YYYY-MM-DD   last date\n"
        "  --every N            a snapshot, then the next at least N days later\n"
        "  --weekly             = --every 7     --monthly  the first snapshot of each month\n"
        "  --jobs N             worker threads [all cores] (report: over units)\n"
        "  --qa                 after the series, print the archive's quality facts to\n"
        "                       stderr: missing dates, unchanged runs, largest jumps\n"
        "  --quiet              no progress bar (it is shown only on a terminal)\n"
        "  change_km2 = controlled now - at the previous row's snapshot; gained_km2 and\n"
        "  lost_km2 are the land that changed hands each way (net = gained - lost).\n"
        "  front_km: the line between controlled land and real gap inside Ukraine's\n"
        "  land, not the state border or the coast (docs/method.md).\n"
        "Output:\n"
        "  --format table|csv|json   [report: table; series, front: csv]\n"
        "  --output FILE        write there instead of standard output (a regular file\n"
        "                       whole or not at all; a FIFO or device directly)\n"
        "\n"
        "Columns: admin = area as drawn; land = clipped to the land mask; controlled =\n"
        "land inside the snapshot; gap = real uncontrolled land; sliver = slivers and\n"
        "enclosed holes where the sources disagree (land = controlled + gap + sliver).\n",
        f);
}

int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("tclaims: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs("\nTry 'tclaims --help'.\n", stderr);
    va_end(ap);
    return EXIT_USAGE;
}

int api_error(tc_ctx *ctx, tc_status st)
{
    fprintf(stderr, "tclaims: %s: %s\n", tc_status_str(st), tc_ctx_errmsg(ctx));
    return EXIT_DATA;
}

static bool parse_double(const char *s, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end)
        return false;
    *out = v;
    return true;
}

int parse_args(int argc, char **argv, options *o)
{
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define VALUE()                                                                          \
    do {                                                                                 \
        if (!v)                                                                          \
            return usage_error("option %s needs a value", a);                            \
        i++;                                                                             \
    } while (0)
        if (!strcmp(a, "--data-dir")) { VALUE(); o->data_dir = v; }
        else if (!strcmp(a, "--regions")) { VALUE(); o->regions = v; }
        else if (!strcmp(a, "--code-field")) { VALUE(); o->code_field = v; }
        else if (!strcmp(a, "--name-field")) { VALUE(); o->name_field = v; }
        else if (!strcmp(a, "--land")) { VALUE(); o->land = v; }
        else if (!strcmp(a, "--no-land")) o->no_land = true;
        else if (!strcmp(a, "--control")) { VALUE(); o->control = v; }
        else if (!strcmp(a, "--date")) { VALUE(); o->date = v; }
        else if (!strcmp(a, "--output")) { VALUE(); o->output = v; }
        else if (!strcmp(a, "--cache-dir")) { VALUE(); o->cache_dir = v; }
        else if (!strcmp(a, "--no-cache")) o->no_cache = true;
        else if (!strcmp(a, "--check-equal-area")) o->check_ea = true;
        else if (!strcmp(a, "--sliver-width")) {
            VALUE();
            if (!parse_double(v, &o->sliver_width_m) || !(o->sliver_width_m > 0))
                return usage_error("--sliver-width takes a positive number of metres, not '%s'", v);
        } else if (!strcmp(a, "--units")) {
            VALUE();
            if (!strcmp(v, "all")) o->all_units = true;
            else if (!strcmp(v, "claim")) o->all_units = false;
            else return usage_error("--units takes 'claim' or 'all', not '%s'", v);
        } else if (!strcmp(a, "--method")) {
            VALUE();
            if (!strcmp(v, "plain")) o->plain = true;
            else if (!strcmp(v, "fast")) o->plain = false;
            else return usage_error("--method takes 'fast' or 'plain', not '%s'", v);
        } else if (!strcmp(a, "--format")) {
            VALUE();
            if (!strcmp(v, "table")) o->format = FMT_TABLE;
            else if (!strcmp(v, "csv")) o->format = FMT_CSV;
            else if (!strcmp(v, "json")) o->format = FMT_JSON;
            else return usage_error("--format takes table, csv or json, not '%s'", v);
        } else if (!strcmp(a, "--from")) { VALUE(); o->from = v; }
        else if (!strcmp(a, "--to")) { VALUE(); o->to = v; }
        else if (!strcmp(a, "--archive")) { VALUE(); o->archive = v; }
        else if (!strcmp(a, "--date-field")) { VALUE(); o->date_field = v; }
        else if (!strcmp(a, "--layer")) { VALUE(); o->layer = v; }
        else if (!strcmp(a, "--regions-layer")) { VALUE(); o->regions_layer = v; }
        else if (!strcmp(a, "--land-layer")) { VALUE(); o->land_layer = v; }
        else if (!strcmp(a, "--control-layer")) { VALUE(); o->control_layer = v; }
        else if (!strcmp(a, "--weekly")) o->every_days = 7;
        else if (!strcmp(a, "--monthly")) o->monthly = true;
        else if (!strcmp(a, "--quiet")) o->quiet = true;
        else if (!strcmp(a, "--qa")) o->qa = true;
        else if (!strcmp(a, "--every") || !strcmp(a, "--jobs")) {
            VALUE();
            char *end = NULL;
            unsigned long n = strtoul(v, &end, 10);
            if (!*v || *end || n < 1 || n > 10000)
                return usage_error("%s takes a whole number from 1 to 10000, not '%s'", a, v);
            if (!strcmp(a, "--every"))
                o->every_days = (unsigned)n;
            else
                o->jobs = (unsigned)n;
        } else if (!strcmp(a, "--region")) {
            VALUE();
            if (o->n_region_names == MAX_REGIONS)
                return usage_error("at most %d --region options", MAX_REGIONS);
            o->region_names[o->n_region_names++] = v;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            exit(0);
        } else
            return usage_error("unknown option '%s'", a);
#undef VALUE
    }
    if (o->land && o->no_land)
        return usage_error("--land and --no-land exclude each other");
    if (o->control && o->date)
        return usage_error("--control and --date exclude each other");
    bool report = !strcmp(argv[1], "report");
    if (o->date_field && !o->archive)
        return usage_error("--date-field needs --archive SRC");
    if (o->layer && !o->date_field)
        return usage_error("--layer needs --archive SRC --date-field NAME");
    if (o->control && o->archive)
        return usage_error("--control and --archive exclude each other");
    if (o->control_layer && !o->control)
        return usage_error("--control-layer needs --control SRC");
    if (o->land_layer && o->no_land)
        return usage_error("--land-layer and --no-land exclude each other");
    if (report && (o->from || o->to || o->every_days || o->monthly || o->qa))
        return usage_error("--from, --to, --every, --weekly, --monthly and --qa "
                           "belong to 'series' and 'front'");
    if (!report && (o->control || o->date || o->check_ea))
        return usage_error("--control, --date and --check-equal-area belong to 'report'");
    return 0;
}

/* Official areas from DIR/official_areas.csv: iso_3166_2 in column 1, area in column 5. */
static double official_km2(const char *csv, const char *code)
{
    FILE *f = fopen(csv, "r");
    if (!f)
        return -1;
    char line[1024];
    double found = -1;
    while (fgets(line, sizeof line, f)) {
        char *fields[8] = {0};
        size_t n = 0;
        for (char *p = line; n < 8;) {
            fields[n++] = p;
            p = strchr(p, ',');
            if (!p)
                break;
            *p++ = '\0';
        }
        double v;
        if (n >= 5 && !strcmp(fields[0], code)) {
            fields[4][strcspn(fields[4], "\r\n")] = '\0';
            if (parse_double(fields[4], &v))
                found = v;
        }
    }
    fclose(f);
    return found;
}

/* "12,345.6" style: thousands separators, one decimal. */
const char *km2(double m2, char *buf, size_t len)
{
    double v = m2 / 1e6;
    char raw[64];
    snprintf(raw, sizeof raw, "%.1f", v < 0 ? -v : v);
    char *dot = strchr(raw, '.');
    size_t int_len = (size_t)(dot - raw), o = 0;
    if (v < 0 && o + 1 < len)
        buf[o++] = '-';
    for (size_t i = 0; i < int_len && o + 2 < len; i++) {
        if (i && (int_len - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = raw[i];
    }
    snprintf(buf + o, len - o, "%s", dot);
    return buf;
}

/* a checksum, or null for a source that is not a file (a database) */
void json_sha(FILE *f, const char *hex)
{
    if (hex && *hex)
        json_str(f, hex);
    else
        fputs("null", f);
}

void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

typedef struct row {
    const char *code, *name;
    tc_areas a;
    double official_km2; /* < 0: none */
} row;

double pct(const tc_areas *a)
{
    return a->land_m2 > 0 ? 100.0 * a->controlled_m2 / a->land_m2 : 0.0;
}

double pct_classified(const tc_areas *a)
{
    double d = a->controlled_m2 + a->gap_m2;
    return d > 0 ? 100.0 * a->controlled_m2 / d : 0.0;
}

static void write_csv(FILE *f, const row *rows, size_t n, const row *total, double outside_m2,
                      const char *date)
{
    fputs("region_code,region_name,admin_area_km2,land_area_km2,official_area_km2,"
          "controlled_km2,gap_km2,sliver_km2,controlled_pct,control_date\n",
          f);
    for (size_t i = 0; i <= n; i++) {
        const row *r = i < n ? &rows[i] : total;
        const tc_areas *a = &r->a;
        char off[32] = "";
        if (r->official_km2 >= 0)
            snprintf(off, sizeof off, "%.0f", r->official_km2);
        fprintf(f, "%s,", r->code);
        if (strchr(r->name, ',') || strchr(r->name, '"')) {
            fputc('"', f);
            for (const char *p = r->name; *p; p++)
                fputs(*p == '"' ? "\"\"" : (char[2]){*p, 0}, f);
            fputc('"', f);
        } else
            fputs(r->name, f);
        fprintf(f, ",%.3f,%.3f,%s,%.3f,%.3f,%.3f,%.3f,%s\n", a->admin_m2 / 1e6, a->land_m2 / 1e6,
                off, a->controlled_m2 / 1e6, a->gap_m2 / 1e6,
                (a->sliver_m2 + a->enclosed_m2) / 1e6, pct(a), date);
    }
    fprintf(f, "OUTSIDE,controlled outside the claim,,,,%.3f,,,,%s\n", outside_m2 / 1e6, date);
}

static void write_table(FILE *f, const row *rows, size_t n, const row *total, double outside_m2,
                        const tc_areas *country, const inputs *in, bool land, double sliver_m,
                        const double *ea)
{
    char shown[PATH_LEN];
    char b[8][32];
    fprintf(f, "Territorial control on %s (snapshot %s)\n", in->control_date,
            shown_source(in->control, shown, sizeof shown));
    if (in->requested_date[0] && strcmp(in->requested_date, in->control_date) != 0)
        fprintf(f, "No snapshot for %s: the latest earlier one (%s) is used.\n",
                in->requested_date, in->control_date);
    fprintf(f, "Areas in km2, geodesic on the WGS84 ellipsoid; %s.\n",
            land ? "land mode: units clipped to the land mask (territorial sea excluded)"
                 : "as-drawn mode: units as drawn (coastal units include territorial sea)");
    fprintf(f, "Slivers: gap pieces under %.0f m wide or enclosed. Ctrl %% = controlled / land "
               "area;\nCtrl %%* = controlled / (controlled + gap), slivers left out.\n\n",
            sliver_m);
    fprintf(f, "%-6s %-30s %10s %10s %10s %10s %9s %8s %8s\n", "Code", "Unit", "Land",
            "Official", "Controlled", "Gap", "Slivers", "Ctrl %", "Ctrl %*");
    for (size_t i = 0; i <= n; i++) {
        const row *r = i < n ? &rows[i] : total;
        const tc_areas *a = &r->a;
        if (i == n)
            fputs("------------------------------------------------------------------------"
                  "--------------------------------------\n",
                  f);
        char off[32] = "-";
        if (r->official_km2 >= 0)
            km2(r->official_km2 * 1e6, off, sizeof off);
        fprintf(f, "%-6s %-30.30s %10s %10s %10s %10s %9s %7.2f%% %7.2f%%\n", r->code, r->name,
                km2(a->land_m2, b[0], 32), off, km2(a->controlled_m2, b[1], 32),
                km2(a->gap_m2, b[2], 32), km2(a->sliver_m2 + a->enclosed_m2, b[3], 32), pct(a),
                pct_classified(a));
    }
    fprintf(f, "\nControlled outside the claim: %s km2\n", km2(outside_m2, b[4], 32));
    fprintf(f, "Country: land %s km2, controlled %s km2 (%.2f%%), gap %s km2\n",
            km2(country->land_m2, b[5], 32), km2(country->controlled_m2, b[6], 32), pct(country),
            km2(country->gap_m2 + country->sliver_m2 + country->enclosed_m2, b[7], 32));
    if (ea)
        fprintf(f, "Equal-area check (LAEA per unit): largest disagreement %.2e relative\n", *ea);
}

static void json_areas(FILE *f, const tc_areas *a)
{
    fprintf(f,
            "\"admin_area_km2\": %.6f, \"land_area_km2\": %.6f, \"controlled_km2\": %.6f, "
            "\"gap_km2\": %.6f, \"sliver_km2\": %.6f, \"thin_sliver_km2\": %.6f, "
            "\"enclosed_km2\": %.6f, \"controlled_pct\": %.4f, "
            "\"controlled_pct_of_classified\": %.4f, \"closure_rel\": %.3g",
            a->admin_m2 / 1e6, a->land_m2 / 1e6, a->controlled_m2 / 1e6, a->gap_m2 / 1e6,
            (a->sliver_m2 + a->enclosed_m2) / 1e6, a->sliver_m2 / 1e6, a->enclosed_m2 / 1e6,
            pct(a), pct_classified(a), a->closure_rel);
}

static void write_json(FILE *f, tc_ctx *const ctx[2], const row *rows, size_t n, const row *total,
                       double outside_m2, const tc_areas *country, const inputs *in,
                       const tc_regionset *rs, const char *control_sha, double sliver_m,
                       const double *ea)
{
    char shown[PATH_LEN];
    bool land = tc_regionset_has_land(rs);
    fputs("{\n  \"units\": [\n", f);
    for (size_t i = 0; i < n; i++) {
        fputs("    {\"region_code\": ", f);
        json_str(f, rows[i].code);
        fputs(", \"region_name\": ", f);
        json_str(f, rows[i].name);
        fputs(", ", f);
        json_areas(f, &rows[i].a);
        if (rows[i].official_km2 >= 0)
            fprintf(f, ", \"official_area_km2\": %.0f", rows[i].official_km2);
        else
            fputs(", \"official_area_km2\": null", f);
        fprintf(f, "}%s\n", i + 1 < n ? "," : "");
    }
    fputs("  ],\n  \"claim_total\": {", f);
    json_areas(f, &total->a);
    fprintf(f, "},\n  \"outside_claim\": {\"controlled_km2\": %.6f},\n  \"country\": {",
            outside_m2 / 1e6);
    json_areas(f, country);
    fputs("},\n  \"provenance\": {\n    \"control_date\": ", f);
    json_str(f, in->control_date);
    fputs(", \"requested_date\": ", f);
    if (in->requested_date[0])
        json_str(f, in->requested_date);
    else
        fputs("null", f);
    fputs(",\n    \"inputs\": [\n      {\"role\": \"regions\", \"path\": ", f);
    json_str(f, shown_source(in->regions, shown, sizeof shown));
    fputs(", \"sha256\": ", f);
    json_sha(f, tc_regionset_get_sha256(rs, 0));
    fputs("},\n      {\"role\": \"land\", \"path\": ", f);
    if (land) {
        json_str(f, shown_source(in->land, shown, sizeof shown));
        fputs(", \"sha256\": ", f);
        json_sha(f, tc_regionset_get_sha256(rs, 1));
    } else
        fputs("null, \"sha256\": null", f);
    fputs("},\n      {\"role\": \"control\", \"path\": ", f);
    json_str(f, shown_source(in->control, shown, sizeof shown));
    fputs(", \"sha256\": ", f);
    json_sha(f, control_sha);
    fputs("}\n    ],\n", f);
    fprintf(f, "    \"area_method\": \"geodesic polygon area on the WGS84 ellipsoid (PROJ geod_*), "
               "edges densified to 0.002 deg (boundaries, land mask) and 0.01 deg (snapshots)\",\n");
    fprintf(f, "    \"land_mode\": \"%s\",\n", land ? "land" : "as-drawn");
    fprintf(f, "    \"sliver_width_m\": %.1f,\n", sliver_m);
    if (ea)
        fprintf(f, "    \"equal_area_max_rel\": %.3g,\n", *ea);
    fputs("    \"library_version\": ", f);
    json_str(f, tc_version_string());
    fputs(",\n    \"engines\": ", f);
    json_str(f, tc_engine_versions());
    fputs(",\n    \"warnings\": [", f);
    for (size_t k = 0, listed = 0; k < 2 && ctx[k]; k++) /* in the order they were given */
        for (size_t i = 0; i < tc_ctx_warning_count(ctx[k]); i++) {
            fputs(listed++ ? ", " : "", f);
            json_str(f, tc_ctx_get_warning(ctx[k], i));
        }
    fputs("],\n    \"attribution\": [\n"
          "      \"Boundaries: geoBoundaries gbOpen UKR ADM1 (CC BY 4.0), (c) OpenStreetMap "
          "contributors (ODbL)\",\n"
          "      \"Land mask: Natural Earth 1:10m land (public domain)\",\n"
          "      \"Control: DeepStateMap, archived by the deepstate-map-data project "
          "(GPL-3.0)\",\n"
          "      \"Official areas: State Statistics Service of Ukraine\"\n    ]\n  }\n}\n",
          f);
}

static void default_cache_dir(char *buf, size_t len)
{
    const char *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (x && *x)
        snprintf(buf, len, "%s/tclaims", x);
    else if (home && *home)
        snprintf(buf, len, "%s/.cache/tclaims", home);
    else
        buf[0] = '\0';
}

void resolve_inputs(const options *o, inputs *in)
{
    const char *dir = o->data_dir;
    if (!dir)
        dir = getenv("TCLAIMS_DATA_DIR");
    if (!dir || !*dir)
        dir = TC_DEFAULT_DATA_DIR;
    if (o->regions)
        snprintf(in->regions, PATH_LEN, "%s", o->regions);
    else
        snprintf(in->regions, PATH_LEN, "%s/boundaries/geoBoundaries-UKR-ADM1.geojson", dir);
    if (o->land)
        snprintf(in->land, PATH_LEN, "%s", o->land);
    else if (!o->no_land)
        snprintf(in->land, PATH_LEN, "%s/land/ne_10m_land_ukraine_region.geojson", dir);
    snprintf(in->official, PATH_LEN, "%s/official_areas.csv", dir);
    if (o->archive)
        snprintf(in->archive, PATH_LEN, "%s", o->archive);
    else
        snprintf(in->archive, PATH_LEN, "%s/control/deepstate", dir);
    if (!o->no_cache) {
        if (o->cache_dir)
            snprintf(in->cache, PATH_LEN, "%s", o->cache_dir);
        else
            default_cache_dir(in->cache, PATH_LEN);
    }
}

tc_status open_regionset(tc_ctx *ctx, const options *o, const inputs *in, tc_regionset **rs)
{
    tc_regionset_opts ro = TC_REGIONSET_OPTS_INIT;
    ro.regions.code_field = o->code_field;
    ro.regions.name_field = o->name_field;
    ro.regions.layer_name = o->regions_layer;
    ro.land.layer_name = o->land_layer;
    ro.land_path = in->land[0] ? in->land : NULL;
    ro.cache_dir = in->cache[0] ? in->cache : NULL;
    ro.jobs = o->jobs; /* 0: every core */
    return tc_regionset_open(ctx, in->regions, &ro, rs);
}

tc_status open_archive(tc_ctx *ctx, const options *o, const inputs *in, tc_archive **arch)
{
    if (o->date_field) {
        tc_open_opts lo = TC_OPEN_OPTS_INIT;
        lo.layer_name = o->layer;
        return tc_archive_open_layer(ctx, in->archive, &lo, o->date_field, arch);
    }
    return tc_archive_open(ctx, in->archive, arch);
}

const char *shown_source(const char *s, char *buf, size_t len)
{
    size_t k = 0;
    for (const char *c = s; *c && k + 1 < len;) {
        if (!strncasecmp(c, "password=", 9) && (c == s || c[-1] == ' ' || c[-1] == ':')) {
            k += (size_t)snprintf(buf + k, len - k, "password=***");
            k = k < len ? k : len - 1;
            c += 9;
            if (*c == '\'' || *c == '"') { /* a quoted value: skip to its closing quote */
                char q = *c++;
                while (*c && *c != q)
                    c += c[0] == '\\' && c[1] ? 2 : 1;
                c += *c == q;
            } else {
                while (*c && *c != ' ')
                    c += c[0] == '\\' && c[1] ? 2 : 1;
            }
        } else {
            buf[k++] = *c++;
        }
    }
    buf[k < len ? k : len - 1] = '\0';
    return buf;
}

int select_rows(tc_ctx *ctx, const tc_regionset *rs, const options *o, tc_report_opts *po,
                size_t **idx)
{
    po->sliver_width_m = o->sliver_width_m;
    po->method = o->plain ? TC_METHOD_PLAIN : TC_METHOD_FAST;
    po->units = o->all_units ? TC_UNITS_ALL : TC_UNITS_CLAIM;
    if (!o->n_region_names)
        return 0;
    *idx = calloc(MAX_REGIONS * 8, sizeof **idx);
    if (!*idx)
        return EXIT_DATA;
    size_t n = 0;
    for (size_t i = 0; i < o->n_region_names; i++) {
        char buf[1024];
        snprintf(buf, sizeof buf, "%s", o->region_names[i]);
        for (char *save = NULL, *t = strtok_r(buf, ",", &save); t && n < MAX_REGIONS * 8;
             t = strtok_r(NULL, ",", &save)) {
            if (tc_regionset_lookup(ctx, rs, t, &(*idx)[n]) != TC_OK)
                return usage_error("%s", tc_ctx_errmsg(ctx));
            n++;
        }
    }
    po->units = TC_UNITS_LIST;
    po->unit_index = *idx;
    po->n_units = n;
    return 0;
}

/* --output FILE: a regular file (or a new one) is written whole or not at all, through a
 * temporary file beside it and rename(); anything else that exists (/dev/null, a FIFO,
 * /dev/stdout) is written directly: a rename would replace the device or pipe with a
 * regular file (as root, /dev/null itself). tmp[0] == '\0': written directly. */
FILE *out_open(const options *o, char *tmp, size_t tmp_len)
{
    if (!o->output)
        return stdout;
    struct stat sb;
    tmp[0] = '\0';
    if (stat(o->output, &sb) == 0 && !S_ISREG(sb.st_mode)) {
        FILE *f = fopen(o->output, "w");
        if (!f)
            fprintf(stderr, "tclaims: cannot write '%s': %s\n", o->output, strerror(errno));
        return f;
    }
    snprintf(tmp, tmp_len, "%s.tmp.%ld", o->output, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) {
        fprintf(stderr, "tclaims: cannot write '%s': %s\n", tmp, strerror(errno));
        tmp[0] = '\0';
    }
    return f;
}

void out_discard(FILE *f, char *tmp)
{
    if (f && f != stdout)
        fclose(f);
    if (tmp[0])
        remove(tmp);
    tmp[0] = '\0';
}

void print_warnings(tc_ctx *ctx)
{
    for (size_t i = 0; i < tc_ctx_warning_count(ctx); i++)
        fprintf(stderr, "tclaims: warning: %s\n", tc_ctx_get_warning(ctx, i));
}

int out_close(const options *o, FILE *f, char *tmp)
{
    if (f == stdout) {
        if (fflush(stdout) != 0 || ferror(stdout)) {
            fprintf(stderr, "tclaims: cannot write the output: %s\n", strerror(errno));
            return EXIT_DATA;
        }
        return 0;
    }
    bool ok = !ferror(f);
    ok = fclose(f) == 0 && ok;
    if (!ok || (tmp[0] && rename(tmp, o->output) != 0)) {
        fprintf(stderr, "tclaims: cannot write '%s': %s\n", o->output, strerror(errno));
        if (tmp[0])
            remove(tmp);
        tmp[0] = '\0';
        return EXIT_DATA;
    }
    tmp[0] = '\0';
    return 0;
}

/* The snapshot, read on a thread of its own (with a context of its own) while the region
 * set is prepared; or on the caller's context, in line. */
typedef struct snap_job {
    const char *path;           /* --control SRC, read from layer (NULL: the first) */
    const char *layer;
    const tc_archive *arch;     /* or snapshot k of an archive */
    size_t k;
    tc_ctx *own, *ctx;
    tc_snapshot *snap;
    tc_status st;
    /* a thread started before the snapshot is chosen waits for go (or cancel) */
    pthread_mutex_t m;
    pthread_cond_t cv;
    bool go, cancel;
} snap_job;

/* Tell a waiting snapshot thread to go on (cancel: to stop). */
static void release_snapshot(snap_job *j, bool cancel)
{
    pthread_mutex_lock(&j->m);
    j->cancel = cancel;
    j->go = true;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->m);
}

static void *open_snapshot(void *arg)
{
    snap_job *j = arg;
    if (!j->ctx && (j->st = tc_ctx_new(&j->own)) == TC_OK) {
        j->ctx = j->own;
        /* a thread of its own: it opens the CRS database while the main thread lists the
         * archive (a failure shows in the open below) */
        if (tc_ctx_warm_crs(j->ctx) != TC_OK) {
            /* no database: the open below says so */
        }
        pthread_mutex_lock(&j->m);
        while (!j->go)
            pthread_cond_wait(&j->cv, &j->m);
        pthread_mutex_unlock(&j->m);
    }
    if (j->cancel)
        return NULL;
    tc_open_opts so = TC_OPEN_OPTS_INIT;
    so.layer_name = j->layer;
    if (j->ctx && j->arch)
        j->st = tc_archive_open_snapshot(j->ctx, j->arch, j->k, &j->snap);
    else if (j->ctx)
        j->st = tc_snapshot_open(j->ctx, j->path, j->layer ? &so : NULL, &j->snap);
    return NULL;
}

/* Parse (or build) the claimed units' land and strips now rather than in the report. */
static tc_status prepare_claim(tc_ctx *ctx, const tc_regionset *rs, unsigned jobs)
{
    size_t idx[16], n = 0;
    for (size_t i = 0; i < tc_catalog_count() && n < 16; i++)
        if (tc_regionset_find(ctx, rs, tc_catalog_get(i)->code, &idx[n]) == TC_OK)
            n++;
    return tc_regionset_prepare(ctx, rs, idx, n, jobs);
}

static int cmd_report(int argc, char **argv)
{
    options o = {0};
    o.sliver_width_m = TC_DEFAULT_SLIVER_WIDTH_M;
    int rc = parse_args(argc, argv, &o);
    if (rc)
        return rc;
    inputs in = {0};
    resolve_inputs(&o, &in);

    /* with more than one job, the snapshot is read on a thread of its own while the region
     * set is prepared; started now, it opens the CRS database while the archive is listed,
     * then waits to be told which snapshot. The report then runs on the snapshot's context
     * (the set may be shared: regionset.h) */
    tc_ctx *ctx = NULL;
    tc_status st = tc_ctx_new(&ctx);
    if (st != TC_OK) {
        fprintf(stderr, "tclaims: cannot create a context: %s\n", tc_status_str(st));
        return EXIT_DATA;
    }
    snap_job sj = {NULL, o.control_layer, NULL, 0, NULL, NULL, NULL, TC_OK,
                   PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, false};
    pthread_t tid;
    bool threaded = o.jobs != 1 && pthread_create(&tid, NULL, open_snapshot, &sj) == 0;
    tc_archive *arch = NULL;
    tc_ctx *rctx = ctx, *ectx = ctx; /* the report's context; the one to show an error of */
    tc_regionset *rs = NULL;
    tc_snapshot *snap = NULL;
    tc_report *rep = NULL;
    row *rows = NULL;
    size_t *idx = NULL;
    FILE *out = NULL;
    char tmp[PATH_LEN + 32] = "";
    rc = EXIT_DATA;

    /* which snapshot; a malformed date is a usage error, whatever the data */
    tc_date want = {0, 0, 0};
    if (o.date && tc_date_parse(ctx, o.date, &want) != TC_OK) {
        rc = usage_error("%s", tc_ctx_errmsg(ctx));
        goto done;
    }
    if (o.control) {
        snprintf(in.control, PATH_LEN, "%s", o.control);
        tc_date d;
        if (tc_date_from_filename(ctx, o.control, &d) == TC_OK)
            tc_date_format(d, in.control_date);
        else
            snprintf(in.control_date, sizeof in.control_date, "unknown");
    } else {
        if ((st = open_archive(ctx, &o, &in, &arch)) != TC_OK)
            goto api_fail;
        size_t k = tc_archive_count(arch) - 1;
        if (o.date) {
            tc_date_format(want, in.requested_date);
            if ((st = tc_archive_find(ctx, arch, want, &k)) != TC_OK)
                goto api_fail;
        }
        const char *filter = tc_archive_get_filter(arch, k);
        snprintf(in.control, PATH_LEN, "%s%s%s%s", tc_archive_get_path(arch, k),
                 filter ? " [" : "", filter ? filter : "", filter ? "]" : "");
        tc_date_format(tc_archive_get_date(arch, k), in.control_date);
        sj.arch = arch;
        sj.k = k;
    }

    sj.path = o.control;
    if (threaded)
        release_snapshot(&sj, false);
    else
        sj.ctx = ctx;
    st = open_regionset(ctx, &o, &in, &rs);
    /* meanwhile, from the cache: the claimed units every report computes (a set just
     * built took longer than the snapshot: nothing to overlap, and the report's own
     * preparation builds all strips it needs in one go, with one cache write) */
    if (st == TC_OK && threaded && tc_regionset_from_cache(rs))
        st = prepare_claim(ctx, rs, o.jobs);
    if (threaded) {
        pthread_join(tid, NULL);
        threaded = false; /* joined */
    } else if (st == TC_OK) {
        open_snapshot(&sj);
    }
    snap = sj.snap;
    if (st != TC_OK)
        goto api_fail;
    rctx = sj.ctx ? sj.ctx : ctx;
    if ((st = sj.st) != TC_OK) {
        ectx = rctx;
        goto api_fail;
    }

    tc_report_opts po = TC_REPORT_OPTS_INIT;
    po.equal_area_check = o.check_ea;
    po.jobs = o.jobs; /* 0: every core */
    if ((rc = select_rows(ctx, rs, &o, &po, &idx)) != 0)
        goto done;
    rc = EXIT_DATA;
    if ((st = tc_report_new(rctx, rs, snap, &po, &rep)) != TC_OK) {
        ectx = rctx;
        goto api_fail;
    }

    size_t n = tc_report_count(rep);
    rows = calloc(n ? n : 1, sizeof *rows);
    if (!rows)
        goto done;
    for (size_t i = 0; i < n; i++) {
        size_t u = tc_report_get_unit(rep, i);
        rows[i].code = tc_regionset_get_code(rs, u);
        rows[i].name = tc_regionset_get_name(rs, u);
        if ((st = tc_report_get_areas(rep, i, &rows[i].a)) != TC_OK)
            goto api_fail;
        rows[i].official_km2 = official_km2(in.official, rows[i].code);
    }
    row total;
    memset(&total, 0, sizeof total);
    total.code = "TOTAL";
    total.name = "claimed units";
    tc_areas country;
    double outside = 0, ea = 0, off_sum = 0;
    bool off_all = true;
    for (size_t i = 0; i < tc_catalog_count(); i++) {
        double v = official_km2(in.official, tc_catalog_get(i)->code);
        off_all = off_all && v >= 0;
        off_sum += v;
    }
    total.official_km2 = off_all ? off_sum : -1;
    if ((st = tc_report_get_claim_total(rep, &total.a)) != TC_OK ||
        (st = tc_report_get_country_total(rep, &country)) != TC_OK ||
        (st = tc_report_get_outside_m2(rep, &outside)) != TC_OK ||
        (o.check_ea && (st = tc_report_get_equal_area_max_rel(rep, &ea)) != TC_OK))
        goto api_fail;

    /* warnings in the order they were given: the region set's, then the snapshot's and
     * the report's */
    tc_ctx *const wctx[2] = {ctx, rctx != ctx ? rctx : NULL};
    if (!(out = out_open(&o, tmp, sizeof tmp)))
        goto done;
    if (o.format == FMT_CSV)
        write_csv(out, rows, n, &total, outside, in.control_date);
    else if (o.format == FMT_JSON)
        write_json(out, wctx, rows, n, &total, outside, &country, &in, rs, tc_snapshot_get_sha256(snap),
                   o.sliver_width_m, o.check_ea ? &ea : NULL);
    else
        write_table(out, rows, n, &total, outside, &country, &in, tc_regionset_has_land(rs),
                    o.sliver_width_m, o.check_ea ? &ea : NULL);
    rc = out_close(&o, out, tmp);
    out = NULL;
    if (rc)
        goto done;
    for (size_t k = 0; o.format != FMT_JSON && k < 2 && wctx[k]; k++)
        print_warnings(wctx[k]);
    rc = 0;
    goto done;
api_fail:
    rc = api_error(ectx, st);
done:
    if (threaded) { /* left before the snapshot was chosen */
        release_snapshot(&sj, true);
        pthread_join(tid, NULL);
    }
    out_discard(out, tmp);
    free(rows);
    free(idx);
    tc_report_free(rep);
    tc_snapshot_free(snap);
    tc_regionset_free(rs);
    tc_archive_free(arch);
    tc_ctx_free(sj.own);
    tc_ctx_free(ctx);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage_error("missing command (report)");
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("tclaims %s (%s)\n", tc_version_string(), tc_engine_versions());
        return 0;
    }
    if (!strcmp(argv[1], "report"))
        return cmd_report(argc, argv);
    if (!strcmp(argv[1], "series"))
        return cmd_series(argc, argv, false);
    if (!strcmp(argv[1], "front"))
        return cmd_series(argc, argv, true);
    return usage_error("unknown command '%s'", argv[1]);
}
