/* The example CLI run as a user would: exit codes, CSV contract, atomic output. */
#include "tc_test.h"

#include <sys/stat.h>
#include <sys/wait.h>

/* Run a shell command; returns its exit status, output (stdout+stderr) into out. */
static int run(const char *args, char *out, size_t len)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "'%s' %s 2>&1", TC_CLI, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, len - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char buf[1 << 16];

static void test_help_and_version(void **state)
{
    (void)state;
    assert_int_equal(run("--help", buf, sizeof buf), 0);
    assert_non_null(strstr(buf, "km^2"));
    assert_int_equal(run("--version", buf, sizeof buf), 0);
    assert_non_null(strstr(buf, "GEOS"));
}

static void test_usage_errors_exit_2(void **state)
{
    (void)state;
    assert_int_equal(run("", buf, sizeof buf), 2);
    assert_int_equal(run("frobnicate", buf, sizeof buf), 2);
    assert_int_equal(run("report --bogus", buf, sizeof buf), 2);
    assert_int_equal(run("report --format xml", buf, sizeof buf), 2);
    assert_int_equal(run("report --units some", buf, sizeof buf), 2);
    assert_int_equal(run("report --date", buf, sizeof buf), 2);
    assert_int_equal(run("report --date 2025-13-01 --data-dir /nonexistent", buf, sizeof buf), 2);
    assert_int_equal(run("report --land x --no-land", buf, sizeof buf), 2);
}

static void test_missing_input_exit_1(void **state)
{
    (void)state;
    const char *ctl = tc_test_write("ex_ctl_empty.geojson",
                                    "{\"type\":\"FeatureCollection\",\"features\":[]}");
    char args[4096];
    snprintf(args, sizeof args, "report --regions /nonexistent/b.geojson --no-land --no-cache "
                                "--control '%s'", ctl);
    assert_int_equal(run(args, buf, sizeof buf), 1);
    assert_non_null(strstr(buf, "/nonexistent/b.geojson"));
}

/* A one-unit fixture: a 1 x 1 degree square, the western half controlled. */
static void write_fixture(const char **regions, const char **ctl)
{
    *regions = tc_test_write(
        "ex_regions.geojson",
        "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"properties\":"
        "{\"shapeISO\":\"UA-14\",\"shapeName\":\"Test Donetsk\"},\"geometry\":{\"type\":"
        "\"Polygon\",\"coordinates\":[[[37,47],[38,47],[38,48],[37,48],[37,47]]]}}]}");
    *ctl = tc_test_write(
        "ex_ctl_20250101.geojson",
        "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"properties\":{},"
        "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[36,46],[37.5,46],[37.5,49],"
        "[36,49],[36,46]]]}}]}");
}

static void test_csv_on_fixture(void **state)
{
    tc_ctx *ctx = *state;
    const char *regions, *ctl;
    write_fixture(&regions, &ctl);
    const char *outp = tc_test_write("ex_out.csv", "stale");
    char args[8192];
    snprintf(args, sizeof args, "report --regions '%s' --no-land --no-cache --control '%s' "
                                "--units all --format csv --output '%s'", regions, ctl, outp);
    assert_int_equal(run(args, buf, sizeof buf), 0);
    FILE *f = fopen(outp, "r");
    assert_non_null(f);
    char line[1024];
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "region_code,region_name,admin_area_km2,land_area_km2,"
                              "official_area_km2,controlled_km2,gap_km2,sliver_km2,"
                              "controlled_pct,control_date\n");
    assert_non_null(fgets(line, sizeof line, f));
    /* split the 10 fields; official_area_km2 may be empty (no official_areas.csv) */
    char *field[10];
    size_t nf = 0;
    for (char *p = line; nf < 10;) {
        field[nf++] = p;
        p = strchr(p, ',');
        if (!p)
            break;
        *p++ = '\0';
    }
    assert_int_equal(nf, 10);
    assert_string_equal(field[0], "UA-14");
    assert_string_equal(field[1], "Test Donetsk");
    double admin = atof(field[2]), land = atof(field[3]), ctl_km2 = atof(field[5]);
    double gap = atof(field[6]), sliver = atof(field[7]), pct = atof(field[8]);
    assert_string_equal(field[9], "2025-01-01\n");
    /* no neighbouring units, no land mask: the uncontrolled half is a real gap */
    assert_true(gap > 0.99 * (land - ctl_km2));
    /* independent route: the two halves measured as rings (densified meridian-free edges
     * along parallels: the library densifies to 0.002 deg, so we do the same) */
    double lon[2000], lat[2000];
    size_t k = 0;
    for (int i = 0; i <= 250; i++) lon[k] = 37 + i * 0.002, lat[k++] = 47;
    for (int i = 1; i <= 500; i++) lon[k] = 37.5, lat[k++] = 47 + i * 0.002;
    for (int i = 1; i <= 250; i++) lon[k] = 37.5 - i * 0.002, lat[k++] = 48;
    for (int i = 1; i < 500; i++) lon[k] = 37, lat[k++] = 48 - i * 0.002;
    double west = 0;
    assert_tc_ok(ctx, tc_ring_area_m2(ctx, lon, lat, k, &west));
    /* CSV has 3 decimals of km2: 5e-4 km2 absolute */
    assert_true(fabs(ctl_km2 - west / 1e6) < 1e-3);
    assert_true(fabs(land - (ctl_km2 + gap + sliver)) < 2e-3);
    assert_true(fabs(admin - land) < 1e-9);
    assert_close(pct, 100.0 * ctl_km2 / land, 1e-3);
    /* TOTAL row: the claim units missing from the fixture contribute nothing */
    assert_non_null(fgets(line, sizeof line, f));
    assert_true(strncmp(line, "TOTAL,", 6) == 0);
    assert_non_null(fgets(line, sizeof line, f));
    assert_true(strncmp(line, "OUTSIDE,", 8) == 0);
    assert_null(fgets(line, sizeof line, f));
    fclose(f);
}

/* --output to something that is not a regular file (here a FIFO; /dev/null is the common
 * case) is written directly: writing a temporary file and renaming it over the target
 * would replace the FIFO (as root, /dev/null itself) with a regular file. */
static void test_output_to_fifo(void **state)
{
    (void)state;
    const char *regions, *ctl;
    write_fixture(&regions, &ctl);
    char fifo[4096], cap[4096], cmd[32768];
    snprintf(fifo, sizeof fifo, "%s/ex_fifo", TC_TEST_TMP_DIR);
    snprintf(cap, sizeof cap, "%s/ex_fifo.out", TC_TEST_TMP_DIR);
    remove(fifo);
    remove(cap);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    snprintf(cmd, sizeof cmd,
             "timeout 60 cat '%s' > '%s' & '%s' report --regions '%s' --no-land --no-cache "
             "--control '%s' --units all --format csv --output '%s'; rc=$?; wait; "
             "ls '%s'.tmp.* 2>/dev/null && exit 9; exit $rc",
             fifo, cap, TC_CLI, regions, ctl, fifo, fifo);
    int st = system(cmd); /* (a run that never opens the FIFO: cat gives up after 60 s) */
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    struct stat sb;
    assert_int_equal(stat(fifo, &sb), 0);
    assert_true(S_ISFIFO(sb.st_mode)); /* still the FIFO */
    FILE *f = fopen(cap, "r");
    assert_non_null(f);
    char line[1024];
    assert_non_null(fgets(line, sizeof line, f));
    assert_true(strncmp(line, "region_code,region_name,", 24) == 0);
    fclose(f);
    remove(fifo);
    remove(cap);
}

/* A failing run must leave no half-written output file behind. */
static void test_failed_run_writes_nothing(void **state)
{
    (void)state;
    char outp[4096];
    snprintf(outp, sizeof outp, "%s/ex_never.csv", TC_TEST_TMP_DIR);
    remove(outp);
    char args[8192];
    snprintf(args, sizeof args, "report --regions /nonexistent.geojson --no-land --no-cache "
                                "--control /nonexistent2.geojson --output '%s'", outp);
    assert_int_equal(run(args, buf, sizeof buf), 1);
    FILE *f = fopen(outp, "r");
    assert_null(f);
}

/* The main job on the real data: six claimed units, TOTAL and OUTSIDE. */
static void test_report_real_data(void **state)
{
    (void)state;
    char args[8192];
    const char *b = tc_test_data("boundaries/geoBoundaries-UKR-ADM1.geojson");
    (void)b;
    snprintf(args, sizeof args, "report --date 2025-09-01 --format csv --cache-dir '%s/excache'",
             TC_TEST_TMP_DIR);
    assert_int_equal(run(args, buf, sizeof buf), 0);
    const char *codes[] = {"\nUA-43,", "\nUA-40,", "\nUA-14,", "\nUA-09,", "\nUA-65,",
                           "\nUA-23,", "\nTOTAL,", "\nOUTSIDE,"};
    for (size_t i = 0; i < sizeof codes / sizeof *codes; i++)
        assert_non_null(strstr(buf, codes[i]));
    /* JSON: the percentage without slivers in the denominator is controlled / (controlled
     * + gap) of the same row; Sevastopol and Crimea, held whole since 2014, are 100%
     * controlled by it (their uncontrolled land is coastal slivers, under 0.1% real gap) */
    snprintf(args, sizeof args, "report --date 2025-09-01 --format json --cache-dir '%s/excache'",
             TC_TEST_TMP_DIR);
    assert_int_equal(run(args, buf, sizeof buf), 0);
    const char *held[] = {"\"UA-40\"", "\"UA-43\"", "\"UA-14\""};
    for (size_t i = 0; i < 3; i++) {
        const char *p = strstr(buf, held[i]);
        assert_non_null(p);
        double ctl = 0, gap = 0, pc = 0, pcc = 0;
        const char *q;
        assert_non_null(q = strstr(p, "\"controlled_km2\": "));
        ctl = atof(q + 18);
        assert_non_null(q = strstr(p, "\"gap_km2\": "));
        gap = atof(q + 11);
        assert_non_null(q = strstr(p, "\"controlled_pct\": "));
        pc = atof(q + 18);
        assert_non_null(q = strstr(p, "\"controlled_pct_of_classified\": "));
        pcc = atof(q + 32);
        assert_close(pcc, 100.0 * ctl / (ctl + gap), 1e-6);
        assert_true(pcc >= pc);
        if (i < 2)
            assert_true(pcc > 99.9);
    }
    /* unknown region: a usage error naming it */
    snprintf(args, sizeof args, "report --region atlantis --cache-dir '%s/excache'",
             TC_TEST_TMP_DIR);
    assert_int_equal(run(args, buf, sizeof buf), 2);
    assert_non_null(strstr(buf, "atlantis"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help_and_version),
        cmocka_unit_test(test_usage_errors_exit_2),
        cmocka_unit_test(test_missing_input_exit_1),
        cmocka_unit_test(test_csv_on_fixture),
        cmocka_unit_test(test_failed_run_writes_nothing),
        cmocka_unit_test(test_output_to_fifo),
        cmocka_unit_test(test_report_real_data),
    };
    return cmocka_run_group_tests_name("examples", tests, tc_test_ctx_setup,
                                       tc_test_ctx_teardown);
}
