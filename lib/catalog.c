/* Built-in catalog of the claimed units, name keys and lookup. Static const data only. */
#include "tc_internal.h"

#include <stdio.h>
#include <string.h>

/* One catalog entry: the public record, a short English name for messages and the
 * extra spellings (matched through tc_name_key, like the three official names). */
typedef struct unit_entry {
    tc_unit_info info;
    const char *short_en;
    const char *const *aliases; /* NULL-terminated */
} unit_entry;

static const char *const crimea_aliases[] = {
    "crimea", "krym", "krim", "autonomous republic of crimea", "republic of crimea",
    "ar krym", "arc", "Крим", "Крым", "Республика Крым", NULL,
};
static const char *const sevastopol_aliases[] = {
    "sevastopol", "sebastopol", "sevastopol city", "city of sevastopol", "Севастополь",
    NULL,
};
static const char *const donetsk_aliases[] = {
    "donetsk", "donetska", "donetskaya", "donechchyna", "Донеччина", "Донецьк",
    "Донецк", NULL,
};
static const char *const luhansk_aliases[] = {
    "luhansk", "lugansk", "luhanska", "luganskaya", "luhanshchyna", "Луганщина",
    "Луганськ", "Луганск", NULL,
};
static const char *const kherson_aliases[] = {
    "kherson", "khersonska", "khersonskaya", "khersonshchyna", "Херсонщина", "Херсон",
    NULL,
};
static const char *const zaporizhzhia_aliases[] = {
    "zaporizhzhia", "zaporizhia", "zaporizhzhya", "zaporozhye", "zaporozhe", "zaporizka",
    "zaporozhskaya", "Запоріжжя", "Запорожье", NULL,
};

static const unit_entry units[] = {
    {{"UA-43", "Autonomous Republic of Crimea", "Автономна Республіка Крим",
      "Автономная Республика Крым"},
     "Crimea", crimea_aliases},
    {{"UA-40", "Sevastopol", "Севастополь", "Севастополь"}, "Sevastopol", sevastopol_aliases},
    {{"UA-14", "Donetsk Oblast", "Донецька область", "Донецкая область"}, "Donetsk",
     donetsk_aliases},
    {{"UA-09", "Luhansk Oblast", "Луганська область", "Луганская область"}, "Luhansk",
     luhansk_aliases},
    {{"UA-65", "Kherson Oblast", "Херсонська область", "Херсонская область"}, "Kherson",
     kherson_aliases},
    {{"UA-23", "Zaporizhzhia Oblast", "Запорізька область", "Запорожская область"},
     "Zaporizhzhia", zaporizhzhia_aliases},
};

#define N_UNITS (sizeof units / sizeof units[0])

/* Trailing words dropped from a key, already in key form (lower case, letters only).
 * Longest first, so "oblast" wins over "obl". "oblast'" normalises to "oblast". */
static const char *const key_suffixes[] = {"oblast", "область", "region", "obl", "обл"};

#define KEY_TAIL_MAX 16 /* >= the longest suffix in bytes ("область" is 14) */

/* Names and aliases are short; a key of this size never truncates one. A longer input
 * key cannot match anything, whatever its truncated form. */
#define KEY_BUF 256

/* ---- ASCII helpers (no <ctype.h>: its answers depend on the locale) ---- */

static bool ascii_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool ascii_digit(unsigned char c) { return c >= '0' && c <= '9'; }

static bool ascii_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static char ascii_upper(unsigned char c)
{
    return (char)((c >= 'a' && c <= 'z') ? c - 'a' + 'A' : c);
}

/* ---- name keys ---- */

/* Lower-case form of a Cyrillic code point (U+0400..U+04FF), or 0 when it is not a
 * letter (U+0482..U+0489: thousands sign and combining marks). */
static unsigned cyrillic_lower(unsigned cp)
{
    if (cp >= 0x0400 && cp <= 0x040F) /* Ѐ Ё Ђ Ѓ Є Ѕ І Ї Ј Љ Њ Ћ Ќ Ѝ Ў Џ */
        return cp + 0x50;
    if (cp >= 0x0410 && cp <= 0x042F) /* А..Я */
        return cp + 0x20;
    if (cp >= 0x0430 && cp <= 0x045F) /* а..я, ѐ..џ */
        return cp;
    if (cp >= 0x0482 && cp <= 0x0489)
        return 0;
    if ((cp >= 0x0460 && cp <= 0x0481) || (cp >= 0x048A && cp <= 0x04BF) ||
        (cp >= 0x04D0 && cp <= 0x04FF)) /* pairs: even upper, odd lower (Ґ ґ is here) */
        return cp | 1u;
    if (cp >= 0x04C1 && cp <= 0x04CE) /* pairs: odd upper, even lower */
        return (cp & 1u) ? cp + 1 : cp;
    return cp; /* Ӏ U+04C0, ӏ U+04CF */
}

/* Read the next unit of a name at *p and advance past it. Writes its key form (0, 1
 * or 2 bytes) to out and returns the byte count, or -1 at the end of the string. Only
 * ASCII letters and digits and Cyrillic letters survive; everything else (spaces,
 * punctuation, apostrophes such as U+2019 and U+02BC, other scripts, invalid bytes)
 * gives 0 bytes. Never reads past the terminating NUL. */
static int key_unit(const unsigned char **p, char out[2])
{
    const unsigned char *s = *p;
    unsigned char c = s[0];
    if (c == '\0')
        return -1;
    if (c < 0x80) {
        *p = s + 1;
        if (ascii_alpha(c) || ascii_digit(c)) {
            out[0] = (char)((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
            return 1;
        }
        return 0;
    }
    size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    size_t i = 1;
    while (i < len && (s[i] & 0xC0) == 0x80)
        i++;
    *p = s + i;
    if (i != len || len != 2 || c < 0xD0 || c > 0xD3)
        return 0; /* truncated/invalid sequence, or not Cyrillic */
    unsigned cp = ((unsigned)(c & 0x1F) << 6) | (s[1] & 0x3F);
    unsigned lo = cyrillic_lower(cp);
    if (!lo)
        return 0;
    out[0] = (char)(0xC0 | (lo >> 6));
    out[1] = (char)(0x80 | (lo & 0x3F));
    return 2;
}

void tc_name_key(const char *name, char *buf, size_t buf_len)
{
    if (!buf || buf_len == 0)
        return;
    buf[0] = '\0';
    if (!name)
        return;

    /* Pass 1: full key length, and its last bytes for the suffix test. */
    char tail[KEY_TAIL_MAX];
    size_t total = 0;
    const unsigned char *p = (const unsigned char *)name;
    char u[2];
    int n;
    while ((n = key_unit(&p, u)) >= 0) {
        for (int k = 0; k < n; k++) {
            tail[total % KEY_TAIL_MAX] = u[k];
            total++;
        }
    }

    /* Drop one trailing "oblast"-like word, when something remains before it. */
    size_t keep = total;
    for (size_t s = 0; s < sizeof key_suffixes / sizeof key_suffixes[0]; s++) {
        const char *suf = key_suffixes[s];
        size_t sl = strlen(suf);
        if (sl >= total)
            continue;
        size_t k = 0;
        while (k < sl && tail[(total - sl + k) % KEY_TAIL_MAX] == suf[k])
            k++;
        if (k == sl) {
            keep = total - sl;
            break;
        }
    }

    /* Pass 2: write whole units while they and the NUL fit. */
    size_t limit = keep < buf_len - 1 ? keep : buf_len - 1;
    size_t w = 0;
    p = (const unsigned char *)name;
    while ((n = key_unit(&p, u)) >= 0) {
        if (w + (size_t)n > limit)
            break;
        memcpy(buf + w, u, (size_t)n);
        w += (size_t)n;
    }
    buf[w] = '\0';
}

/* ---- codes ---- */

bool tc__normalize_code(const char *in, char *buf, size_t len)
{
    if (buf && len > 0)
        buf[0] = '\0';
    if (!in || !buf)
        return false;
    const unsigned char *s = (const unsigned char *)in;
    while (ascii_space(*s))
        s++;
    size_t end = strlen((const char *)s);
    while (end > 0 && ascii_space(s[end - 1]))
        end--;

    if (end < 3 || !ascii_alpha(s[0]) || !ascii_alpha(s[1]))
        return false;
    size_t i = 2;
    if (s[i] == '-' || s[i] == '_' || s[i] == ' ')
        i++;
    if (end <= i || end - i > 3)
        return false;
    size_t sub = end - i; /* subdivision part: 1..3 alphanumerics */
    for (size_t k = i; k < end; k++)
        if (!ascii_alpha(s[k]) && !ascii_digit(s[k]))
            return false;
    if (len < 3 + sub + 1)
        return false;

    buf[0] = ascii_upper(s[0]);
    buf[1] = ascii_upper(s[1]);
    buf[2] = '-';
    for (size_t k = 0; k < sub; k++)
        buf[3 + k] = ascii_upper(s[i + k]);
    buf[3 + sub] = '\0';
    return true;
}

/* ---- public catalog ---- */

size_t tc_catalog_count(void) { return N_UNITS; }

const tc_unit_info *tc_catalog_get(size_t i) { return i < N_UNITS ? &units[i].info : NULL; }

bool tc_catalog_is_claimed(const char *code)
{
    char norm[8];
    if (!tc__normalize_code(code, norm, sizeof norm))
        return false;
    for (size_t i = 0; i < N_UNITS; i++)
        if (strcmp(norm, units[i].info.code) == 0)
            return true;
    return false;
}

static bool key_matches(const char *key, const char *candidate)
{
    char ck[KEY_BUF];
    tc_name_key(candidate, ck, sizeof ck);
    return ck[0] != '\0' && strcmp(key, ck) == 0;
}

static const unit_entry *find_by_key(const char *key)
{
    for (size_t i = 0; i < N_UNITS; i++) {
        const unit_entry *e = &units[i];
        if (key_matches(key, e->info.name_en) || key_matches(key, e->info.name_uk) ||
            key_matches(key, e->info.name_ru))
            return e;
        for (const char *const *a = e->aliases; *a; a++)
            if (key_matches(key, *a))
                return e;
    }
    return NULL;
}

tc_status tc_catalog_lookup(tc_ctx *ctx, const char *name, const tc_unit_info **out)
{
    if (!ctx)
        return TC_ERR_INVALID_ARG;
    tc__clear(ctx);
    if (!name || !out)
        return tc__fail(ctx, TC_ERR_INVALID_ARG, "catalog lookup: %s is NULL",
                        !name ? "name" : "out");

    char code[8];
    if (tc__normalize_code(name, code, sizeof code)) {
        for (size_t i = 0; i < N_UNITS; i++) {
            if (strcmp(code, units[i].info.code) == 0) {
                *out = &units[i].info;
                return TC_OK;
            }
        }
        /* Code-like but not a claimed code: "Krym" reads as "KR-YM"; try names. */
    }

    char key[KEY_BUF];
    tc_name_key(name, key, sizeof key);
    const unit_entry *e = key[0] ? find_by_key(key) : NULL;
    if (e) {
        *out = &e->info;
        return TC_OK;
    }

    char known[256];
    size_t used = 0;
    known[0] = '\0';
    for (size_t i = 0; i < N_UNITS && used < sizeof known; i++) {
        int w = snprintf(known + used, sizeof known - used, "%s%s %s", i ? ", " : "",
                         units[i].info.code, units[i].short_en);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    /* Quote at most 200 bytes of the name, cut on a UTF-8 boundary. */
    size_t cut = strlen(name);
    if (cut > 200) {
        cut = 200;
        while (cut > 0 && ((unsigned char)name[cut] & 0xC0) == 0x80)
            cut--;
    }
    return tc__fail(ctx, TC_ERR_NOT_FOUND, "region '%.*s%s': not a claimed unit (known: %s)",
                    (int)cut, name, name[cut] ? "..." : "", known);
}
