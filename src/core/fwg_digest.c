/*
 * RFC 9530 Content-Digest verification (sha-256, sha-512).
 */

#include <string.h>

#include <openssl/evp.h>

#include "fwg_digest.h"
#include "fwg_sf.h"


int
fwg_content_digest_check(const char *value, size_t len,
    const unsigned char *body, size_t blen, fwg_arena_t *a,
    const char **err)
{
    int               supported;
    size_t            i;
    unsigned int      dlen;
    const EVP_MD     *md;
    fwg_sf_member_t  *m;
    size_t            n;
    unsigned char     d[EVP_MAX_MD_SIZE];

    if (fwg_sf_parse_dict(value, len, a, &m, &n, err) != FWG_SF_OK) {
        return -1;
    }

    supported = 0;

    for (i = 0; i < n; i++) {

        if (fwg_str_eq(m[i].key, "sha-256")) {
            md = EVP_sha256();

        } else if (fwg_str_eq(m[i].key, "sha-512")) {
            md = EVP_sha512();

        } else {
            continue;
        }

        if (m[i].value.bare.type != FWG_SF_BINARY) {
            *err = "Content-Digest member is not a byte sequence";
            return -1;
        }

        if (EVP_Digest(body, blen, d, &dlen, md, NULL) != 1) {
            *err = "digest failed";
            return -1;
        }

        if (m[i].value.bare.str.len != dlen
            || fwg_ct_memcmp(d, m[i].value.bare.str.data, dlen) != 0)
        {
            *err = "Content-Digest does not match the body";
            return 0;
        }

        supported = 1;
    }

    if (!supported) {
        *err = "Content-Digest names no sha-256 or sha-512";
        return -1;
    }

    return 1;
}
