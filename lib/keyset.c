/* Open-addressing hash sets (and maps to a double) over keys of k 64-bit words: exact
 * coordinates of points and edges (front.c's vertex and edge sets, the context's memo of
 * geodesic edge terms in geom.c). */
#include "tc_internal.h"

#include <stdlib.h>
#include <string.h>

static uint64_t bits(double v)
{
    uint64_t u;
    if (v == 0.0)
        v = 0.0; /* -0.0 and 0.0 are the same coordinate */
    memcpy(&u, &v, sizeof u);
    return u;
}

static uint64_t mix(const uint64_t *w, size_t k)
{
    uint64_t h = 0x9e3779b97f4a7c15u;
    for (size_t i = 0; i < k; i++) {
        h ^= w[i] + 0x9e3779b97f4a7c15u + (h << 6) + (h >> 2);
        h *= 0xff51afd7ed558ccdu;
        h ^= h >> 33;
    }
    return h;
}

bool tc__keyset_init(tc__keyset *s, size_t k, size_t expect, bool values)
{
    size_t cap = 64;
    while (cap < 2 * expect + 2)
        cap *= 2;
    s->k = k;
    s->cap = cap;
    s->n = 0;
    s->keys = malloc(cap * k * sizeof *s->keys);
    s->used = calloc(cap, 1);
    s->val = values ? malloc(cap * sizeof *s->val) : NULL;
    return s->keys && s->used && (!values || s->val);
}

void tc__keyset_free(tc__keyset *s)
{
    free(s->keys);
    free(s->used);
    free(s->val);
    memset(s, 0, sizeof *s);
}

/* Slot of key w: where it is, or the free slot where it would go. */
static size_t slot_of(const tc__keyset *s, const uint64_t *w)
{
    size_t i = (size_t)mix(w, s->k) & (s->cap - 1);
    while (s->used[i] && memcmp(&s->keys[i * s->k], w, s->k * sizeof *w) != 0)
        i = (i + 1) & (s->cap - 1);
    return i;
}

bool tc__keyset_has(const tc__keyset *s, const uint64_t *w)
{
    return s->cap && s->used[slot_of(s, w)];
}

const double *tc__keyset_get(const tc__keyset *s, const uint64_t *w)
{
    if (!s->cap || !s->val)
        return NULL;
    size_t i = slot_of(s, w);
    return s->used[i] ? &s->val[i] : NULL;
}

bool tc__keyset_put(tc__keyset *s, const uint64_t *w, double v)
{
    if (2 * (s->n + 1) > s->cap) {
        tc__keyset bigger;
        if (!tc__keyset_init(&bigger, s->k, s->cap, s->val != NULL))
            return tc__keyset_free(&bigger), false;
        for (size_t i = 0; i < s->cap; i++)
            if (s->used[i]) {
                size_t j = slot_of(&bigger, &s->keys[i * s->k]);
                memcpy(&bigger.keys[j * s->k], &s->keys[i * s->k], s->k * sizeof *w);
                bigger.used[j] = 1;
                if (s->val)
                    bigger.val[j] = s->val[i];
                bigger.n++;
            }
        tc__keyset_free(s);
        *s = bigger;
    }
    size_t i = slot_of(s, w);
    if (!s->used[i]) {
        memcpy(&s->keys[i * s->k], w, s->k * sizeof *w);
        s->used[i] = 1;
        s->n++;
    }
    if (s->val)
        s->val[i] = v;
    return true;
}

bool tc__keyset_add(tc__keyset *s, const uint64_t *w) { return tc__keyset_put(s, w, 0.0); }

void tc__point_key(double x, double y, uint64_t w[2])
{
    w[0] = bits(x);
    w[1] = bits(y);
}

bool tc__edge_key(double ax, double ay, double bx, double by, uint64_t w[4])
{
    bool swap = ax > bx || (ax == bx && ay > by);
    tc__point_key(swap ? bx : ax, swap ? by : ay, w);
    tc__point_key(swap ? ax : bx, swap ? ay : by, w + 2);
    return swap;
}
