/* SHA-256 of input files (cache keys, provenance) through OpenSSL's EVP API. */
#include "tc_internal.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

tc_status tc__sha256_file(tc_ctx *ctx, const char *path, char hex[65])
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return tc__fail(ctx, TC_ERR_IO, "checksum '%s': %s", path, strerror(errno));
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    tc_status st = TC_OK;
    if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
        st = tc__fail(ctx, TC_ERR_INTERNAL, "checksum '%s': SHA-256 unavailable", path);
        goto done;
    }
    unsigned char buf[1 << 16];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0)
        EVP_DigestUpdate(md, buf, got);
    if (ferror(f)) {
        st = tc__fail(ctx, TC_ERR_IO, "checksum '%s': read error", path);
        goto done;
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(md, digest, &len);
    for (unsigned int i = 0; i < len && i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    hex[64] = '\0';
done:
    EVP_MD_CTX_free(md);
    fclose(f);
    return st;
}

void tc__sha256(const void *data, size_t len, unsigned char digest[32])
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(data, len, d, &n, EVP_sha256(), NULL);
    memcpy(digest, d, 32);
}

void tc__sha256_hex(const void *data, size_t len, char hex[65])
{
    unsigned char digest[32];
    unsigned int n = 32;
    tc__sha256(data, len, digest);
    for (unsigned int i = 0; i < n && i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    hex[64] = '\0';
}
