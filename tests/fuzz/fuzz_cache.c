/* The region-set cache: a cache file is input too (a disk fills up, a file is cut short,
 * another version or a buggy writer made it). Bytes become the body of a cache entry,
 * after the valid header (magic, format, key) of the entry for a small boundary file and,
 * when the format ends with a checksum of the content (XXH3-128 since format 7; SHA-256 in
 * formats 2-6), before a valid one,
 * so that every input reaches the parser rather than the checksum; then
 * tc_regionset_open() with that cache directory, and a report over whatever it returned.
 *
 * What it checks: no crash, leak, undefined behaviour or oversized allocation (libFuzzer's
 * malloc limit), and a status of TC_OK (a damaged entry must be rebuilt, never fail the
 * open). It does not check the numbers read: with a valid digest, a body is what its
 * writer meant. Seeds (tests/fuzz/make_corpus.py --cache-body) are bodies without header
 * or digest, as printed by TC_FUZZ_DUMP_CACHE=1 fuzz_cache -runs=0.
 * Run: build-fuzz/tests/fuzz/fuzz_cache -max_len=8192 tests/fuzz/corpus/cache */
#include "fuzz_common.h"

#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define MAGIC "TCLAIMS-REGIONSET\n" /* lib/regionset.c CACHE_MAGIC */
#define HEADER_LEN (sizeof MAGIC - 1 + 4 + 64) /* magic, format (u32), key (64 hex) */
#define DIGEST_LEN FUZZ_DIGEST_LEN

static const char regions_json[] =
    "{\"type\":\"FeatureCollection\",\"features\":["
    "{\"type\":\"Feature\",\"properties\":{\"shapeISO\":\"UA-14\",\"shapeName\":\"A\"},"
    "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[30,48],[30.02,48],[30.02,48.02],"
    "[30,48.02],[30,48]]]}},"
    "{\"type\":\"Feature\",\"properties\":{\"shapeISO\":\"UA-09\",\"shapeName\":\"B\"},"
    "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[30.02,48],[30.04,48],[30.04,48.02],"
    "[30.02,48.02],[30.02,48]]]}}]}";

static const char snap_json[] =
    "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"properties\":{},"
    "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[30.01,47.99],[30.03,47.99],"
    "[30.03,48.01],[30.01,48.01],[30.01,47.99]]]}}]}";

static char dir[64], regions[128], cache_dir[128], cache_file[512];
static unsigned char header[HEADER_LEN];
static bool with_digest; /* the entry ends with the checksum of everything before it */
static tc_snapshot *snap;

/* Remove the scratch directory at exit (libFuzzer exits through exit()). */
static void cleanup(void)
{
    fuzz_remove_dir(cache_dir);
    unlink(regions);
    rmdir(dir);
}

static void die(const char *what) { fuzz_die("fuzz_cache", what); }

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    tc_ctx *ctx = fuzz_ctx();
    fuzz_scratch("fuzz_cache", "cache", dir, regions, cache_dir, regions_json);
    atexit(cleanup);
    tc_regionset_opts o = TC_REGIONSET_OPTS_INIT;
    o.cache_dir = cache_dir;
    tc_regionset *rs = NULL;
    if (tc_regionset_open(ctx, regions, &o, &rs) != TC_OK)
        die(tc_ctx_errmsg(ctx));
    tc_regionset_free(rs);
    fuzz_find_file(cache_dir, "regionset-", ".bin", cache_file, sizeof cache_file);
    if (!cache_file[0])
        die("no cache entry written");
    static unsigned char entry[1 << 20];
    size_t n = fuzz_read_file(cache_file, entry, sizeof entry);
    if (n < HEADER_LEN + DIGEST_LEN)
        die("read cache entry");
    memcpy(header, entry, HEADER_LEN);
    unsigned char digest[DIGEST_LEN];
    fuzz_cache_digest(entry, n - DIGEST_LEN, digest);
    with_digest = memcmp(digest, entry + n - DIGEST_LEN, sizeof digest) == 0;
    if (!with_digest)
        die("cache checksum changed: update fuzz_cache.c");
    /* print the valid body once: the seeds in tests/fuzz/corpus/cache are made from it */
    if (getenv("TC_FUZZ_DUMP_CACHE"))
        fwrite(entry + HEADER_LEN, 1, n - HEADER_LEN - (with_digest ? DIGEST_LEN : 0),
               stdout);
    if (memcmp(header, MAGIC, sizeof MAGIC - 1) != 0)
        die("cache magic changed: update fuzz_cache.c");
    static const char spath[] = "/vsimem/fuzz_cache_snapshot.geojson";
    if (!fuzz_vsimem(spath, (const uint8_t *)snap_json, strlen(snap_json)) ||
        tc_snapshot_open(ctx, spath, NULL, &snap) != TC_OK)
        die("snapshot");
    fuzz_vsimem_drop(spath);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tc_ctx *ctx = fuzz_ctx();
    FILE *f = fopen(cache_file, "wb");
    if (!f)
        abort();
    unsigned char *entry = malloc(HEADER_LEN + size + DIGEST_LEN);
    if (!entry)
        abort();
    memcpy(entry, header, HEADER_LEN);
    if (size)
        memcpy(entry + HEADER_LEN, data, size);
    size_t n = HEADER_LEN + size;
    if (with_digest) {
        fuzz_cache_digest(entry, n, entry + n);
        n += DIGEST_LEN;
    }
    fwrite(entry, 1, n, f);
    fclose(f);
    free(entry);

    tc_regionset_opts o = TC_REGIONSET_OPTS_INIT;
    o.cache_dir = cache_dir;
    tc_regionset *rs = NULL;
    tc_status st = tc_regionset_open(ctx, regions, &o, &rs);
    fuzz_check_status(ctx, st, "tc_regionset_open(cache)");
    FUZZ_CHECK(st == TC_OK, "a damaged cache entry failed the open: %s", tc_ctx_errmsg(ctx));
    for (size_t i = 0; i < tc_regionset_count(rs); i++) {
        FUZZ_CHECK(tc_regionset_get_code(rs, i) && tc_regionset_get_name(rs, i), "strings");
        double admin = 0, land = 0;
        FUZZ_CHECK(tc_regionset_areas_m2(ctx, rs, i, &admin, &land) == TC_OK, "areas");
    }
    tc_report_opts ro = TC_REPORT_OPTS_INIT;
    ro.units = TC_UNITS_ALL;
    tc_report *rep = NULL;
    st = tc_report_new(ctx, rs, snap, &ro, &rep);
    fuzz_check_status(ctx, st, "tc_report_new(cached set)");
    tc_report_free(rep);
    tc_regionset_free(rs);
    return 0;
}
