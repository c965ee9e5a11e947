/* Shared declarations of the example CLI's source files (not part of the library). */
#ifndef TCLAIMS_CLI_H
#define TCLAIMS_CLI_H

#include <stdbool.h>
#include <stdio.h>
#include <tclaims/tclaims.h>

#ifndef TC_DEFAULT_DATA_DIR
#define TC_DEFAULT_DATA_DIR "../shared/data"
#endif

#define MAX_REGIONS 64
#define PATH_LEN 4096

enum { EXIT_DATA = 1, EXIT_USAGE = 2 };
enum format { FMT_TABLE, FMT_CSV, FMT_JSON };

typedef struct options {
    const char *data_dir, *regions, *land, *control, *date, *output, *cache_dir;
    const char *code_field, *name_field, *region_names[MAX_REGIONS];
    const char *regions_layer, *land_layer, *control_layer; /* NULL: the first layer */
    size_t n_region_names;
    bool no_land, no_cache, all_units, check_ea;
    double sliver_width_m;
    enum format format;
    /* series and front */
    const char *from, *to, *archive, *date_field, *layer;
    unsigned every_days, jobs;
    bool monthly, quiet, qa;
    bool plain; /* --method plain */
} options;

/* Paths resolved from the options. */
typedef struct inputs {
    char regions[PATH_LEN], land[PATH_LEN], control[PATH_LEN], official[PATH_LEN];
    char control_date[11], requested_date[11], cache[PATH_LEN];
    char archive[PATH_LEN]; /* --archive, else DATA_DIR/control/deepstate */
} inputs;


int usage_error(const char *fmt, ...);
int api_error(tc_ctx *ctx, tc_status st);
int parse_args(int argc, char **argv, options *o);
/* Resolve the input paths from the options and the data directory. */
void resolve_inputs(const options *o, inputs *in);
tc_status open_regionset(tc_ctx *ctx, const options *o, const inputs *in, tc_regionset **rs);
/* The snapshot archive in->archive: a directory, or a layer with --date-field and --layer. */
tc_status open_archive(tc_ctx *ctx, const options *o, const inputs *in, tc_archive **arch);
/* s for people to read: a connection string's password=VALUE shown as password=*** */
const char *shown_source(const char *s, char *buf, size_t len);
/* Apply --region / --units to report options; idx is owned by the caller (free()). */
int select_rows(tc_ctx *ctx, const tc_regionset *rs, const options *o, tc_report_opts *po,
                size_t **idx);
/* Atomic output: FILE to write to (stdout without --output), then out_close. */
FILE *out_open(const options *o, char *tmp, size_t tmp_len);
int out_close(const options *o, FILE *f, char *tmp);
/* After a failure: close f (unless stdout) and remove the temporary file, if any. */
void out_discard(FILE *f, char *tmp);
/* Every warning of ctx on stderr, in order. */
void print_warnings(tc_ctx *ctx);
const char *km2(double m2, char *buf, size_t len);
void json_str(FILE *f, const char *s);
/* a checksum as a JSON string, or null when empty (a source that is not a file) */
void json_sha(FILE *f, const char *hex);
double pct(const tc_areas *a);
/* controlled / (controlled + real gap) x 100: slivers and enclosed pieces, artefacts of the
 * sources' disagreement, left out of the denominator */
double pct_classified(const tc_areas *a);
int cmd_series(int argc, char **argv, bool front);

#endif /* TCLAIMS_CLI_H */
