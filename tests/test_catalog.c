/* Catalog of claimed units: order, lookup by code and spelling, name keys. */
#include "tc_test.h"

static const char *const expected_codes[] = {"UA-43", "UA-40", "UA-14",
                                             "UA-09", "UA-65", "UA-23"};

/* A sentinel the failing calls must leave in *out. */
static const tc_unit_info untouched = {"XX-0", "untouched", "untouched", "untouched"};

static void test_count_and_order(void **state)
{
    (void)state;
    assert_int_equal(tc_catalog_count(), 6);
    for (size_t i = 0; i < 6; i++) {
        const tc_unit_info *u = tc_catalog_get(i);
        assert_non_null(u);
        assert_string_equal(u->code, expected_codes[i]);
        assert_non_null(u->name_en);
        assert_non_null(u->name_uk);
        assert_non_null(u->name_ru);
    }
    assert_string_equal(tc_catalog_get(2)->name_en, "Donetsk Oblast");
    assert_string_equal(tc_catalog_get(2)->name_uk, "Донецька область");
    assert_string_equal(tc_catalog_get(2)->name_ru, "Донецкая область");
    assert_null(tc_catalog_get(6));
    assert_null(tc_catalog_get((size_t)-1));
}

static void test_lookup_own_code_and_names(void **state)
{
    tc_ctx *ctx = *state;
    for (size_t i = 0; i < tc_catalog_count(); i++) {
        const tc_unit_info *u = tc_catalog_get(i);
        const char *names[] = {u->code, u->name_en, u->name_uk, u->name_ru};
        for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
            const tc_unit_info *got = NULL;
            assert_tc_ok(ctx, tc_catalog_lookup(ctx, names[k], &got));
            assert_ptr_equal(got, u);
            assert_string_equal(tc_ctx_errmsg(ctx), "");
        }
        assert_true(tc_catalog_is_claimed(u->code));
    }
}

static void test_lookup_spellings(void **state)
{
    tc_ctx *ctx = *state;
    static const struct {
        const char *name;
        const char *code;
    } cases[] = {
        {"lugansk", "UA-09"},
        {"Luhansk", "UA-09"},
        {"Luhansk Oblast", "UA-09"},
        {"Луганська область", "UA-09"},
        {"ЛУГАНСЬКА ОБЛАСТЬ", "UA-09"},
        {"Луганская обл.", "UA-09"},
        {"Zaporozhye", "UA-23"},
        {"zaporizhia", "UA-23"},
        {"Zaporiz\u2019ka oblast\u2019", "UA-23"}, /* typographic apostrophes */
        {"Запоріжжя", "UA-23"},
        {"Krym", "UA-43"},   /* code-like ("KR-YM"), but not a claimed code */
        {"AR Krym", "UA-43"},
        {"Republic of Crimea", "UA-43"},
        {"Donetska", "UA-14"},
        {"donetsk region", "UA-14"},
        {"sevastopol", "UA-40"},
        {"Sebastopol", "UA-40"},
        {"Kherson-Oblast", "UA-65"},
        {"Херсонщина", "UA-65"},
        {"ua09", "UA-09"},
        {"UA-23", "UA-23"},
        {" ua_65 ", "UA-65"},
        {"UA 40", "UA-40"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const tc_unit_info *got = NULL;
        tc_status st = tc_catalog_lookup(ctx, cases[i].name, &got);
        if (st != TC_OK)
            fail_msg("lookup '%s' -> %s: %s", cases[i].name, tc_status_str(st),
                     tc_ctx_errmsg(ctx));
        assert_non_null(got);
        if (strcmp(got->code, cases[i].code) != 0)
            fail_msg("lookup '%s' -> %s, expected %s", cases[i].name, got->code,
                     cases[i].code);
    }
}

static void test_lookup_not_found(void **state)
{
    tc_ctx *ctx = *state;
    /* "09" alone is not a code; "UA-32" is a real code (Kyiv Oblast) but not claimed;
     * "oblast" alone keeps its word, so it is no unit either. */
    const char *unknown[] = {"Kharkiv", "09", "UA-32", "", "   ", "oblast", "Kyiv"};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const tc_unit_info *out = &untouched;
        assert_tc_fails(ctx, tc_catalog_lookup(ctx, unknown[i], &out), TC_ERR_NOT_FOUND);
        assert_ptr_equal(out, &untouched);
    }

    const tc_unit_info *out = &untouched;
    assert_tc_fails(ctx, tc_catalog_lookup(ctx, "Kharkiv", &out), TC_ERR_NOT_FOUND);
    const char *msg = tc_ctx_errmsg(ctx);
    assert_non_null(strstr(msg, "Kharkiv"));
    for (size_t i = 0; i < 6; i++)
        assert_non_null(strstr(msg, expected_codes[i])); /* the valid codes are listed */

    /* The next successful call clears the message. */
    assert_tc_ok(ctx, tc_catalog_lookup(ctx, "Kherson", &out));
    assert_string_equal(tc_ctx_errmsg(ctx), "");
}

static void test_lookup_long_name(void **state)
{
    tc_ctx *ctx = *state;
    /* A long name whose key exceeds every internal buffer: not found, message bounded. */
    char name[2001];
    for (size_t i = 0; i + 2 < sizeof name; i += 2)
        memcpy(name + i, "Л", 2);
    name[sizeof name - 1] = '\0';
    const tc_unit_info *out = &untouched;
    assert_tc_fails(ctx, tc_catalog_lookup(ctx, name, &out), TC_ERR_NOT_FOUND);
    assert_ptr_equal(out, &untouched);
    assert_true(strlen(tc_ctx_errmsg(ctx)) < 1024);
}

static void test_lookup_null_args(void **state)
{
    tc_ctx *ctx = *state;
    const tc_unit_info *out = &untouched;
    assert_tc_fails(ctx, tc_catalog_lookup(ctx, NULL, &out), TC_ERR_INVALID_ARG);
    assert_ptr_equal(out, &untouched);
    assert_tc_fails(ctx, tc_catalog_lookup(ctx, "Luhansk", NULL), TC_ERR_INVALID_ARG);
    assert_int_equal(tc_catalog_lookup(NULL, "Luhansk", &out), TC_ERR_INVALID_ARG);
    assert_ptr_equal(out, &untouched);
}

static void test_is_claimed(void **state)
{
    (void)state;
    assert_true(tc_catalog_is_claimed("ua14"));
    assert_true(tc_catalog_is_claimed("UA-14"));
    assert_true(tc_catalog_is_claimed(" ua_43 "));
    assert_true(tc_catalog_is_claimed("Ua 09"));
    assert_false(tc_catalog_is_claimed("UA-32"));
    assert_false(tc_catalog_is_claimed("UA-140"));
    assert_false(tc_catalog_is_claimed("RU-14"));
    assert_false(tc_catalog_is_claimed("14"));
    assert_false(tc_catalog_is_claimed("Donetsk")); /* names are for tc_catalog_lookup */
    assert_false(tc_catalog_is_claimed(""));
    assert_false(tc_catalog_is_claimed(NULL));
}

static void test_name_key_examples(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        const char *key;
    } cases[] = {
        {"Kharkiv Oblast", "kharkiv"},
        {"Харківська область", "харківська"},
        {"ЛУГАНСЬКА ОБЛАСТЬ", "луганська"},
        {"Луганская обл.", "луганская"},
        {"Zaporiz'ka oblast'", "zaporizka"},
        {"Zaporiz\u2019ka oblast\u2019", "zaporizka"},
        {"Zaporiz\u02BCka", "zaporizka"},
        {"Kherson region", "kherson"},
        {"Donetsk obl.", "donetsk"},
        {"UA-09", "ua09"},
        {"ЁЄІЇҐ", "ёєіїґ"},
        {"oblast", "oblast"}, /* nothing would remain: kept */
        {"область", "область"},
        {"  - , . ", ""},
        {"", ""},
    };
    char buf[64];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memset(buf, 'x', sizeof buf);
        tc_name_key(cases[i].in, buf, sizeof buf);
        if (strcmp(buf, cases[i].key) != 0)
            fail_msg("key '%s' = '%s', expected '%s'", cases[i].in, buf, cases[i].key);
    }
}

/* True when s is well-formed UTF-8 (1- and 2-byte sequences are all a key holds). */
static bool utf8_complete(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        if (*p < 0x80) {
            p++;
        } else if ((*p & 0xE0) == 0xC0 && (p[1] & 0xC0) == 0x80) {
            p += 2;
        } else {
            return false;
        }
    }
    return true;
}

static void test_name_key_truncation(void **state)
{
    (void)state;
    const char *inputs[] = {"Луганська область", "Zaporizhzhia Oblast", "ab Ёж 12 ґx"};
    for (size_t k = 0; k < sizeof inputs / sizeof inputs[0]; k++) {
        char full[64];
        tc_name_key(inputs[k], full, sizeof full);
        size_t full_len = strlen(full);
        for (size_t len = 1; len <= full_len + 2; len++) {
            char buf[64];
            memset(buf, 'x', sizeof buf);
            tc_name_key(inputs[k], buf, len);
            size_t n = strlen(buf);
            assert_true(n < len);                  /* NUL-terminated inside buf */
            assert_int_equal(buf[len], 'x');       /* nothing written past buf_len */
            assert_true(utf8_complete(buf));       /* no split sequence */
            assert_memory_equal(buf, full, n);     /* a prefix of the full key */
            /* Units are 1 or 2 bytes, so at most one byte of room goes unused. */
            assert_true(n == full_len || n + 2 >= len);
        }
    }
    char small[4];
    tc_name_key("Луганська", small, sizeof small);
    assert_string_equal(small, "л"); /* "лу" needs 5 bytes */
}

static void test_name_key_null_args(void **state)
{
    (void)state;
    char buf[8] = "keep";
    tc_name_key("Luhansk", buf, 0); /* no room: untouched */
    assert_string_equal(buf, "keep");
    tc_name_key("Luhansk", NULL, 8); /* no crash */
    tc_name_key(NULL, buf, sizeof buf);
    assert_string_equal(buf, ""); /* NUL-terminated, empty key */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_count_and_order),
        cmocka_unit_test(test_lookup_own_code_and_names),
        cmocka_unit_test(test_lookup_spellings),
        cmocka_unit_test(test_lookup_not_found),
        cmocka_unit_test(test_lookup_long_name),
        cmocka_unit_test(test_lookup_null_args),
        cmocka_unit_test(test_is_claimed),
        cmocka_unit_test(test_name_key_examples),
        cmocka_unit_test(test_name_key_truncation),
        cmocka_unit_test(test_name_key_null_args),
    };
    return cmocka_run_group_tests_name("catalog", tests, tc_test_ctx_setup,
                                       tc_test_ctx_teardown);
}
