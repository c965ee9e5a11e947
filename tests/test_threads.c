/* Thread safety (docs/threading.md): reports computed in several threads at once, each
 * thread with its own context and snapshot, all on one shared read-only region set, must
 * equal the single-threaded report bit for bit. Also: contexts created and freed
 * concurrently (GDAL's one-time registration), the static catalog, and files opened in
 * parallel.
 *
 * The shared region set is taken from the cache on purpose: its geometries are freshly
 * parsed, so nothing inside GEOS has been computed yet, and the threads are released
 * together (a barrier) to touch them first at the same time. */
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tc_test.h"

#define N_THREADS 4
#define N_ROUNDS 3

/* Under valgrind (scripts/sanitize.sh sets TC_TEST_SKIP_HEAVY) every thread runs about a
 * hundred times slower: fewer rounds there, the same code paths. */
static bool heavy_skipped(void)
{
    const char *v = getenv("TC_TEST_SKIP_HEAVY");
    return v && *v;
}

/* ---- fixtures: a synthetic boundary file and snapshot ---- */

static const char *tmp_dir(void)
{
    const char *dir = getenv("TC_TEST_TMPDIR");
    return dir && *dir ? dir : TC_TEST_TMP_DIR;
}

/* A 6 x 4 grid of 0.1-degree units (codes UA-01.., the six claimed codes among them), each
 * with a small hole and a second, detached part, so that every unit has several rings. */
static const char *write_units(void)
{
    static const char *const claimed[] = {"UA-43", "UA-40", "UA-14", "UA-09", "UA-65", "UA-23"};
    sbuf b = {NULL, 0, 0};
    sb_printf(&b, "{\"type\":\"FeatureCollection\",\"features\":[");
    int k = 0;
    for (int row = 0; row < 4; row++) {
        for (int col = 0; col < 6; col++, k++) {
            double x = 30.0 + 0.1 * col, y = 48.0 + 0.1 * row;
            char code[8];
            if (k < 6)
                snprintf(code, sizeof code, "%s", claimed[k]);
            else
                snprintf(code, sizeof code, "UA-%02d", 70 + k);
            sb_printf(&b,
                      "%s{\"type\":\"Feature\",\"properties\":{\"shapeISO\":\"%s\","
                      "\"shapeName\":\"Unit %d\"},\"geometry\":{\"type\":\"MultiPolygon\","
                      "\"coordinates\":[[[[%.3f,%.3f],[%.3f,%.3f],[%.3f,%.3f],[%.3f,%.3f],"
                      "[%.3f,%.3f]],[[%.3f,%.3f],[%.3f,%.3f],[%.3f,%.3f],[%.3f,%.3f],"
                      "[%.3f,%.3f]]],[[[%.3f,%.3f],[%.3f,%.3f],[%.3f,%.3f],[%.3f,%.3f]]]]}}",
                      k ? "," : "", code, k, x, y, x + 0.1, y, x + 0.1, y + 0.1, x, y + 0.1, x, y,
                      x + 0.02, y + 0.02, x + 0.02, y + 0.04, x + 0.04, y + 0.04, x + 0.04,
                      y + 0.02, x + 0.02, y + 0.02, x + 0.05, y - 0.3, x + 0.06, y - 0.3,
                      x + 0.055, y - 0.29, x + 0.05, y - 0.3);
        }
    }
    sb_printf(&b, "]}");
    const char *path = tc_test_write("threads_units.geojson", b.p);
    free(b.p);
    return path;
}

/* Controlled territory: a diagonal band with a bay, crossing most units, plus islands. */
static const char *write_snapshot(void)
{
    return tc_test_write(
        "threads_snapshot.geojson",
        "{\"type\":\"FeatureCollection\",\"features\":["
        "{\"type\":\"Feature\",\"properties\":{},\"geometry\":{\"type\":\"Polygon\","
        "\"coordinates\":[[[29.9,47.9],[30.35,47.9],[30.7,48.25],[30.7,48.5],[30.45,48.5],"
        "[30.3,48.21],[30.29,48.3],[30.1,48.5],[29.9,48.5],[29.9,47.9]]]}},"
        "{\"type\":\"Feature\",\"properties\":{},\"geometry\":{\"type\":\"Polygon\","
        "\"coordinates\":[[[30.51,48.01],[30.53,48.01],[30.53,48.03],[30.51,48.01]]]}}]}");
}

/* ---- the shared state and the workers ---- */

typedef struct shared {
    const char *units_path, *snap_path;
    const tc_regionset *rs;
    size_t n_rows;
    tc_areas *want;      /* single-threaded rows */
    tc_areas want_claim, want_country;
    pthread_barrier_t start;
} shared;

typedef struct worker {
    shared *sh;
    int id;
    char err[512]; /* "" = all rounds equal */
} worker;

static bool same_areas(const tc_areas *a, const tc_areas *b)
{
    return a->admin_m2 == b->admin_m2 && a->land_m2 == b->land_m2 &&
           a->controlled_m2 == b->controlled_m2 && a->gap_m2 == b->gap_m2 &&
           a->sliver_m2 == b->sliver_m2 && a->enclosed_m2 == b->enclosed_m2 &&
           a->n_gap == b->n_gap && a->n_sliver == b->n_sliver &&
           a->n_enclosed == b->n_enclosed;
}

/* One report on the shared set with the worker's context; "" or what differed. */
static void one_report(worker *w, tc_ctx *ctx, const tc_snapshot *snap)
{
    shared *sh = w->sh;
    tc_report_opts o = TC_REPORT_OPTS_INIT;
    o.units = TC_UNITS_ALL;
    tc_report *rep = NULL;
    tc_status st = tc_report_new(ctx, sh->rs, snap, &o, &rep);
    if (st != TC_OK) {
        snprintf(w->err, sizeof w->err, "thread %d: report: %s: %s", w->id, tc_status_str(st),
                 tc_ctx_errmsg(ctx));
        return;
    }
    tc_areas a;
    for (size_t i = 0; i < sh->n_rows && !w->err[0]; i++)
        if (tc_report_get_areas(rep, i, &a) != TC_OK || !same_areas(&a, &sh->want[i]))
            snprintf(w->err, sizeof w->err,
                     "thread %d: row %zu (%s) differs: controlled %.17g vs %.17g", w->id, i,
                     tc_regionset_get_code(sh->rs, i), a.controlled_m2,
                     sh->want[i].controlled_m2);
    if (!w->err[0] && (tc_report_get_claim_total(rep, &a) != TC_OK ||
                       !same_areas(&a, &sh->want_claim)))
        snprintf(w->err, sizeof w->err, "thread %d: claim total differs", w->id);
    if (!w->err[0] && (tc_report_get_country_total(rep, &a) != TC_OK ||
                       !same_areas(&a, &sh->want_country)))
        snprintf(w->err, sizeof w->err, "thread %d: country total differs", w->id);
    tc_report_free(rep);
}

static void *run_worker(void *arg)
{
    worker *w = arg;
    shared *sh = w->sh;
    tc_ctx *ctx = NULL;
    tc_snapshot *snap = NULL;
    if (tc_ctx_new(&ctx) != TC_OK) {
        snprintf(w->err, sizeof w->err, "thread %d: tc_ctx_new failed", w->id);
        pthread_barrier_wait(&sh->start);
        return NULL;
    }
    tc_status st = tc_snapshot_open(ctx, sh->snap_path, NULL, &snap);
    if (st != TC_OK)
        snprintf(w->err, sizeof w->err, "thread %d: snapshot: %s", w->id, tc_ctx_errmsg(ctx));
    pthread_barrier_wait(&sh->start); /* all threads reach the shared set together */
    for (int r = 0; r < N_ROUNDS && !w->err[0]; r++)
        one_report(w, ctx, snap);
    tc_snapshot_free(snap);
    tc_ctx_free(ctx);
    return NULL;
}

/* The reference report single-threaded on ref, then N_THREADS reports at once on rs, a
 * separately opened copy that nothing has used yet. */
static void check_parallel(tc_ctx *ctx, const char *units_path, const char *snap_path,
                           const tc_regionset *ref, const tc_regionset *rs)
{
    shared sh = {.units_path = units_path, .snap_path = snap_path, .rs = rs};
    tc_snapshot *snap = NULL;
    tc_report *rep = NULL;
    tc_report_opts o = TC_REPORT_OPTS_INIT;
    o.units = TC_UNITS_ALL;
    assert_tc_ok(ctx, tc_snapshot_open(ctx, snap_path, NULL, &snap));
    assert_tc_ok(ctx, tc_report_new(ctx, ref, snap, &o, &rep));
    assert_int_equal(tc_regionset_count(ref), tc_regionset_count(rs));
    sh.n_rows = tc_report_count(rep);
    sh.want = calloc(sh.n_rows, sizeof *sh.want);
    assert_non_null(sh.want);
    for (size_t i = 0; i < sh.n_rows; i++)
        assert_tc_ok(ctx, tc_report_get_areas(rep, i, &sh.want[i]));
    assert_tc_ok(ctx, tc_report_get_claim_total(rep, &sh.want_claim));
    assert_tc_ok(ctx, tc_report_get_country_total(rep, &sh.want_country));
    tc_report_free(rep);
    tc_snapshot_free(snap);

    worker w[N_THREADS];
    pthread_t th[N_THREADS];
    assert_int_equal(pthread_barrier_init(&sh.start, NULL, N_THREADS), 0);
    for (int i = 0; i < N_THREADS; i++) {
        w[i] = (worker){.sh = &sh, .id = i, .err = ""};
        assert_int_equal(pthread_create(&th[i], NULL, run_worker, &w[i]), 0);
    }
    for (int i = 0; i < N_THREADS; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&sh.start);
    free(sh.want);
    for (int i = 0; i < N_THREADS; i++)
        if (w[i].err[0])
            fail_msg("%s", w[i].err);
    print_message("# %d threads x %d reports of %zu rows: identical to the single-threaded "
                  "report\n",
                  N_THREADS, N_ROUNDS, sh.n_rows);
}

/* Cache directory of this test, emptied first so that the second open is the hit. */
static const char *fresh_cache_dir(const char *name)
{
    static char dir[4096];
    snprintf(dir, sizeof dir, "%s/%s", tmp_dir(), name);
    mkdir(dir, 0777);
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -f '%s'/regionset-*", dir);
    if (system(cmd) != 0)
        fail_msg("cannot empty %s", dir);
    return dir;
}

/* A region set read back from the cache: its GEOS geometries are fresh from the WKB
 * reader and have never been used. */
static tc_regionset *open_from_cache(tc_ctx *ctx, const char *units, const char *land,
                                     const char *cache_name)
{
    tc_regionset_opts ro = TC_REGIONSET_OPTS_INIT;
    ro.land_path = land;
    ro.cache_dir = fresh_cache_dir(cache_name);
    tc_regionset *rs = NULL;
    assert_tc_ok(ctx, tc_regionset_open(ctx, units, &ro, &rs)); /* builds, writes */
    tc_regionset_free(rs);
    rs = NULL;
    assert_tc_ok(ctx, tc_regionset_open(ctx, units, &ro, &rs)); /* reads */
    assert_true(tc_regionset_from_cache(rs));
    return rs;
}

/* ---- tests ---- */

static void test_threads_shared_regionset_synthetic(void **state)
{
    tc_ctx *ctx = *state;
    const char *units = write_units(), *snap = write_snapshot();
    /* built in this thread, then shared */
    tc_regionset *ref = NULL, *rs = NULL;
    assert_tc_ok(ctx, tc_regionset_open(ctx, units, NULL, &ref));
    assert_tc_ok(ctx, tc_regionset_open(ctx, units, NULL, &rs));
    check_parallel(ctx, units, snap, ref, rs);
    tc_regionset_free(rs);
    tc_regionset_free(ref);
}

/* GEOS < 3.12 computes a geometry's envelope on first use and stores it without
 * synchronisation (geos::geom::Geometry::getEnvelopeInternal(): compute, store, delete the
 * previous pointer), so two threads touching a shared, never-used geometry at once race,
 * and one can read an envelope the other freed. A region set read from the cache holds
 * exactly such geometries; tc_regionset_open() computes every envelope before returning
 * (tc__geom_warm). This test shares such a set between threads released together. The
 * race is too narrow for ASan to catch reliably; scripts/sanitize.sh also runs this
 * program under helgrind, which reported 40+ races in getEnvelopeInternal() and its
 * callers before the warm-up was added, and none after. */
static void test_threads_cached_regionset(void **state)
{
    tc_ctx *ctx = *state;
    const char *units = write_units(), *snap = write_snapshot();
    tc_regionset *ref = NULL;
    assert_tc_ok(ctx, tc_regionset_open(ctx, units, NULL, &ref));
    for (int round = 0; round < (heavy_skipped() ? 2 : 8); round++) {
        tc_regionset *rs = open_from_cache(ctx, units, NULL, "threads_cache");
        check_parallel(ctx, units, snap, ref, rs);
        tc_regionset_free(rs);
    }
    tc_regionset_free(ref);
}

static void test_threads_real_data(void **state)
{
    tc_ctx *ctx = *state;
    tc_test_real r;
    tc_test_real_paths(&r);
    tc_regionset *ref = tc_test_real_set(ctx, &r), *rs = tc_test_real_set(ctx, &r);
    check_parallel(ctx, r.units, r.snap, ref, rs);
    tc_regionset_free(rs);
    tc_regionset_free(ref);
}

/* Contexts created and freed in many threads at once (GDAL's registration runs once),
 * the static catalog, and layers opened in parallel from the same file. */
typedef struct churn {
    const char *path;
    char err[256];
} churn;

static void *run_churn(void *arg)
{
    churn *c = arg;
    for (int i = 0; i < (heavy_skipped() ? 3 : 20) && !c->err[0]; i++) {
        tc_ctx *ctx = NULL;
        if (tc_ctx_new(&ctx) != TC_OK) {
            snprintf(c->err, sizeof c->err, "tc_ctx_new failed");
            break;
        }
        const tc_unit_info *u = NULL;
        if (tc_catalog_lookup(ctx, "lugansk", &u) != TC_OK || strcmp(u->code, "UA-09") != 0)
            snprintf(c->err, sizeof c->err, "catalog lookup: %s", tc_ctx_errmsg(ctx));
        tc_layer *L = NULL;
        if (!c->err[0] && tc_layer_open(ctx, c->path, NULL, &L) != TC_OK)
            snprintf(c->err, sizeof c->err, "layer: %s", tc_ctx_errmsg(ctx));
        else if (!c->err[0] && tc_layer_count(L) != 24)
            snprintf(c->err, sizeof c->err, "layer: %zu regions", tc_layer_count(L));
        tc_layer_free(L);
        tc_ctx_free(ctx);
    }
    return NULL;
}

static void test_threads_contexts_and_layers(void **state)
{
    (void)state;
    const char *units = write_units();
    churn c[N_THREADS];
    pthread_t th[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        c[i] = (churn){.path = units, .err = ""};
        assert_int_equal(pthread_create(&th[i], NULL, run_churn, &c[i]), 0);
    }
    for (int i = 0; i < N_THREADS; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < N_THREADS; i++)
        if (c[i].err[0])
            fail_msg("thread %d: %s", i, c[i].err);
}

typedef struct warm_job {
    const char *path;
    bool warm;
    double area_m2;
    char err[512];
} warm_job;

static void *run_warm(void *arg)
{
    warm_job *j = arg;
    tc_ctx *ctx = NULL;
    tc_snapshot *snap = NULL;
    if (tc_ctx_new(&ctx) != TC_OK) {
        snprintf(j->err, sizeof j->err, "tc_ctx_new failed");
        return NULL;
    }
    if (j->warm && tc_ctx_warm_crs(ctx) != TC_OK)
        snprintf(j->err, sizeof j->err, "warm: %s", tc_ctx_errmsg(ctx));
    else if (tc_snapshot_open(ctx, j->path, NULL, &snap) != TC_OK ||
             tc_snapshot_area_m2(ctx, snap, &j->area_m2) != TC_OK)
        snprintf(j->err, sizeof j->err, "snapshot: %s", tc_ctx_errmsg(ctx));
    tc_snapshot_free(snap);
    tc_ctx_free(ctx);
    return NULL;
}

/* tc_ctx_warm_crs() on threads of their own (the CLI's snapshot thread), then a snapshot
 * that names its CRS as DeepStateMap files do, read on each: the same area as threads that
 * did not warm; several at once (helgrind runs this too); NULL is refused. */
static void test_threads_warm_crs(void **state)
{
    (void)state;
    const char *path = tc_test_write(
        "threads_crs84.geojson",
        "{\"type\":\"FeatureCollection\",\"crs\":{\"type\":\"name\",\"properties\":"
        "{\"name\":\"urn:ogc:def:crs:OGC:1.3:CRS84\"}},\"features\":[{\"type\":\"Feature\","
        "\"properties\":{},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":"
        "[[[30,48],[31,48],[31,49],[30,49],[30,48]]]}}]}");
    warm_job j[N_THREADS];
    pthread_t th[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        j[i] = (warm_job){.path = path, .warm = i % 2 == 0, .err = ""};
        assert_int_equal(pthread_create(&th[i], NULL, run_warm, &j[i]), 0);
    }
    for (int i = 0; i < N_THREADS; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < N_THREADS; i++) {
        if (j[i].err[0])
            fail_msg("thread %d: %s", i, j[i].err);
        assert_true(j[i].area_m2 > 8e9 && j[i].area_m2 == j[0].area_m2); /* ~8,200 km2 */
    }
    assert_int_equal(tc_ctx_warm_crs(NULL), TC_ERR_INVALID_ARG);
}

int main(void)
{
    struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threads_contexts_and_layers),
        cmocka_unit_test(test_threads_warm_crs),
        cmocka_unit_test(test_threads_shared_regionset_synthetic),
        cmocka_unit_test(test_threads_cached_regionset),
        cmocka_unit_test(test_threads_real_data),
    };
    static const char *const heavy[] = {"test_threads_real_data", NULL};
    size_t n = tc_test_drop_heavy(tests, sizeof tests / sizeof tests[0], heavy);
    return _cmocka_run_group_tests("threads", tests, n, tc_test_ctx_setup, tc_test_ctx_teardown);
}
