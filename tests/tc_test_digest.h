/* The checksum that ends every cache file (lib/codec.c: XXH3-128 of the bytes before it,
 * canonical form), for tests that forge a sound file. Needs xxhash_dep. */
#ifndef TC_TEST_DIGEST_H
#define TC_TEST_DIGEST_H

#include <string.h>
#include <xxhash.h>

static inline void tc_test_put_digest(unsigned char *data, size_t n)
{
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH3_128bits(data, n - 16));
    memcpy(data + n - 16, c.digest, 16);
}

#endif
