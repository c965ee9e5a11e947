/* Region-name lookup: bytes as a name -> tc_catalog_lookup(), tc_name_key() (with buffers
 * of every small size, allocated exactly so that ASan sees any overflow),
 * tc_catalog_is_claimed(), and tc_regionset_lookup()/tc_regionset_find() on a small region
 * set whose names mix scripts.
 * Run: build-fuzz/tests/fuzz/fuzz_lookup -max_len=512 tests/fuzz/corpus/names */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SQ(lon, lat)                                                                     \
    "{\"type\":\"Polygon\",\"coordinates\":[[[" #lon "," #lat "],[" #lon ".5," #lat "],[" #lon \
    ".5," #lat ".5],[" #lon "," #lat ".5],[" #lon "," #lat "]]]}"
#define FEAT(code, name, g)                                                              \
    "{\"type\":\"Feature\",\"properties\":{\"shapeISO\":\"" code "\",\"shapeName\":\"" name  \
    "\"},\"geometry\":" g "}"

static const char regions_json[] =
    "{\"type\":\"FeatureCollection\",\"features\":["
    FEAT("UA-14", "Donetsk Oblast", SQ(30, 40)) ","
    FEAT("UA-63", "Kharkiv Oblast", SQ(31, 40)) ","
    FEAT("UA-30", "Kyiv", SQ(32, 40)) ","
    FEAT("UA-46", "Львівська область", SQ(33, 40)) ","
    FEAT("UA-12", "Dnipropetrovs’k Oblast", SQ(34, 40)) ","
    FEAT("UA-99", "", SQ(35, 40)) "]}";

static tc_regionset *fixed_regionset(tc_ctx *ctx)
{
    static tc_regionset *rs;
    static bool tried;
    if (tried)
        return rs;
    tried = true;
    static const char path[] = "/vsimem/fuzz_lookup_regions.geojson";
    if (!fuzz_vsimem(path, (const uint8_t *)regions_json, strlen(regions_json)))
        abort();
    if (tc_regionset_open(ctx, path, NULL, &rs) != TC_OK) {
        fprintf(stderr, "fixed region set: %s\n", tc_ctx_errmsg(ctx));
        abort();
    }
    fuzz_vsimem_drop(path);
    return rs;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tc_ctx *ctx = fuzz_ctx();
    tc_regionset *rs = fixed_regionset(ctx);
    char *name = fuzz_cstr(data, size);

    const tc_unit_info *info = NULL;
    tc_status st = tc_catalog_lookup(ctx, name, &info);
    fuzz_check_status(ctx, st, "tc_catalog_lookup");
    FUZZ_CHECK(st == TC_OK || st == TC_ERR_NOT_FOUND, "lookup: %s", tc_status_str(st));
    if (st == TC_OK) {
        bool listed = false;
        for (size_t i = 0; i < tc_catalog_count(); i++)
            listed = listed || tc_catalog_get(i) == info;
        FUZZ_CHECK(listed, "lookup returned an entry outside the catalog");
        FUZZ_CHECK(tc_catalog_is_claimed(info->code), "%s not claimed", info->code);
    } else {
        FUZZ_CHECK(info == NULL, "out written on failure");
    }
    if (tc_catalog_is_claimed(name)) { /* a claimed code is always found by lookup */
        st = tc_catalog_lookup(ctx, name, &info);
        FUZZ_CHECK(st == TC_OK, "'%s' is claimed but lookup says %s", name, tc_status_str(st));
    }

    /* Keys: NUL-terminated within every buffer size; a smaller buffer gives a prefix of
     * the key in a larger one, cut on whole characters. */
    char full[1024];
    tc_name_key(name, full, sizeof full);
    FUZZ_CHECK(strlen(full) < sizeof full, "key length");
    for (size_t len = 1; len <= 24; len++) {
        char *buf = malloc(len);
        if (!buf)
            abort();
        memset(buf, 'x', len);
        tc_name_key(name, buf, len);
        size_t k = strnlen(buf, len);
        FUZZ_CHECK(k < len, "key not terminated in %zu bytes", len);
        FUZZ_CHECK(strncmp(buf, full, k) == 0, "key in %zu bytes is not a prefix", len);
        FUZZ_CHECK(full[k] == '\0' || (full[k] & 0xC0) != 0x80, "key cut inside a character");
        free(buf);
    }
    tc_name_key(name, NULL, 0); /* documented no-ops */
    tc_name_key(NULL, full, sizeof full);
    FUZZ_CHECK(full[0] == '\0', "NULL name gives an empty key");

    size_t idx = (size_t)-1;
    st = tc_regionset_lookup(ctx, rs, name, &idx);
    fuzz_check_status(ctx, st, "tc_regionset_lookup");
    FUZZ_CHECK(st == TC_OK || st == TC_ERR_NOT_FOUND, "regionset lookup: %s",
               tc_status_str(st));
    if (st == TC_OK)
        FUZZ_CHECK(idx < tc_regionset_count(rs), "index %zu", idx);
    else
        FUZZ_CHECK(idx == (size_t)-1, "index written on failure");

    idx = (size_t)-1;
    st = tc_regionset_find(ctx, rs, name, &idx);
    fuzz_check_status(ctx, st, "tc_regionset_find");
    if (st == TC_OK)
        FUZZ_CHECK(idx < tc_regionset_count(rs) &&
                       strcmp(tc_regionset_get_code(rs, idx), name) == 0,
                   "find('%s') gave %zu", name, idx);
    free(name);
    return 0;
}
