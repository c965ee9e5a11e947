/* A series' cached tiles (lib/tiles.c, docs/reliability.md): a tiles file is input too.
 * Bytes become the body of the tiles file of a small unit, after its valid key and before
 * a valid checksum, so that every input reaches the decoder rather than the check;
 * then a two-date series over a set opened with that cache directory.
 *
 * What it checks: no crash, leak, undefined behaviour or oversized allocation, and a
 * documented status with a message. A damaged body is cut again (TC_OK); a sound one with
 * other geometry is what its writer meant, so its numbers are not checked, and overlaying
 * a nonsense tile may fail with TC_ERR_GEOMETRY. Seeds: tests/fuzz/corpus/tiles, made
 * from the valid body (TC_FUZZ_DUMP_TILES=1 fuzz_tiles -runs=0 prints it).
 * Run: build-fuzz/tests/fuzz/fuzz_tiles -max_len=65536 tests/fuzz/corpus/tiles */
#include "fuzz_common.h"

#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define KEY_LEN 64 /* the tiles file starts with its key (lib/tiles.c) */

/* one unit of 0.3 x 0.2 degree across cell lines (0.125), control over its west part */
static const char regions_json[] =
    "{\"type\":\"FeatureCollection\",\"features\":["
    "{\"type\":\"Feature\",\"properties\":{\"shapeISO\":\"UA-14\",\"shapeName\":\"A\"},"
    "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[30.1,48.1],[30.4,48.1],[30.4,48.3],"
    "[30.1,48.3],[30.1,48.1]]]}},"
    "{\"type\":\"Feature\",\"properties\":{\"shapeISO\":\"UA-09\",\"shapeName\":\"B\"},"
    "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[30.4,48.1],[30.5,48.1],[30.5,48.3],"
    "[30.4,48.3],[30.4,48.1]]]}}]}";

static const char snap_fmt[] =
    "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"properties\":{},"
    "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[30.0,48.0],[%.3f,48.0],"
    "[%.3f,48.4],[30.0,48.4],[30.0,48.0]]]}}]}";

static char dir[64], regions[128], cache_dir[128], arch_dir[128], tiles_file[512];
static unsigned char key[KEY_LEN];
static tc_regionset *rs;
static tc_archive *arch;

/* Remove the scratch directory at exit (libFuzzer exits through exit()). */
static void cleanup(void)
{
    tc_archive_free(arch);
    tc_regionset_free(rs);
    fuzz_remove_dir(cache_dir);
    fuzz_remove_dir(arch_dir);
    unlink(regions);
    rmdir(dir);
}

static void die(const char *what) { fuzz_die("fuzz_tiles", what); }

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0)
        die(path);
}

static tc_status series(tc_ctx *ctx)
{
    tc_series_opts o = TC_SERIES_OPTS_INIT;
    o.report.units = TC_UNITS_ALL;
    tc_series *se = NULL;
    tc_status st = tc_series_new(ctx, rs, arch, &o, &se);
    tc_series_free(se);
    return st;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    tc_ctx *ctx = fuzz_ctx();
    fuzz_scratch("fuzz_tiles", "tiles", dir, regions, cache_dir, regions_json);
    snprintf(arch_dir, sizeof arch_dir, "%s/arch", dir);
    atexit(cleanup);
    if (mkdir(arch_dir, 0777) != 0)
        die("mkdir");
    for (int d = 0; d < 2; d++) {
        char path[600], text[1024];
        snprintf(path, sizeof path, "%s/deepstatemap_data_2025010%d.geojson", arch_dir, d + 1);
        snprintf(text, sizeof text, snap_fmt, 30.2 + 0.03 * d, 30.2 + 0.03 * d);
        write_text(path, text);
    }
    tc_regionset_opts o = TC_REGIONSET_OPTS_INIT;
    o.cache_dir = cache_dir;
    if (tc_regionset_open(ctx, regions, &o, &rs) != TC_OK ||
        tc_archive_open(ctx, arch_dir, &arch) != TC_OK || series(ctx) != TC_OK)
        die(tc_ctx_errmsg(ctx));
    fuzz_find_file(cache_dir, "regionset-", ".tiles-0", tiles_file, sizeof tiles_file);
    if (!tiles_file[0])
        die("no tiles file written");
    static unsigned char file[1 << 20];
    size_t n = fuzz_read_file(tiles_file, file, sizeof file);
    if (n < KEY_LEN + FUZZ_DIGEST_LEN)
        die("read tiles file");
    memcpy(key, file, KEY_LEN);
    if (getenv("TC_FUZZ_DUMP_TILES")) /* the valid body: the seeds are made from it */
        fwrite(file + KEY_LEN, 1, n - KEY_LEN - FUZZ_DIGEST_LEN, stdout);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tc_ctx *ctx = fuzz_ctx();
    unsigned char *file = malloc(KEY_LEN + size + FUZZ_DIGEST_LEN);
    if (!file)
        abort();
    memcpy(file, key, KEY_LEN);
    if (size)
        memcpy(file + KEY_LEN, data, size);
    fuzz_cache_digest(file, KEY_LEN + size, file + KEY_LEN + size);
    FILE *f = fopen(tiles_file, "wb");
    if (!f)
        abort();
    fwrite(file, 1, KEY_LEN + size + FUZZ_DIGEST_LEN, f);
    fclose(f);
    free(file);
    fuzz_check_status(ctx, series(ctx), "tc_series_new(cached tiles)");
    return 0;
}
