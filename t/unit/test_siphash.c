/*
 * SipHash-2-4: the paper's test vectors (key 00..0f, message 00..len-1),
 * every length 0-63 checked against OpenSSL's own SIPHASH MAC.
 */

#include <string.h>

#include <openssl/evp.h>

#include "unit.h"
#include "fwg_siphash.h"


static uint64_t
openssl_siphash(const unsigned char *key, const unsigned char *msg,
    size_t len)
{
    size_t          outlen;
    uint64_t        v;
    unsigned int    size = 8, i;
    unsigned char   out[8];
    EVP_MAC        *mac;
    EVP_MAC_CTX    *ctx;
    OSSL_PARAM      params[2];

    mac = EVP_MAC_fetch(NULL, "SIPHASH", NULL);
    if (mac == NULL) {
        return 0;
    }

    ctx = EVP_MAC_CTX_new(mac);
    params[0] = OSSL_PARAM_construct_uint("size", &size);
    params[1] = OSSL_PARAM_construct_end();

    outlen = 0;
    if (ctx == NULL
        || !EVP_MAC_init(ctx, key, FWG_SIPHASH_KEY_LEN, params)
        || !EVP_MAC_update(ctx, msg, len)
        || !EVP_MAC_final(ctx, out, &outlen, sizeof(out))
        || outlen != 8)
    {
        outlen = 0;
    }

    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);

    v = 0;
    for (i = 0; outlen && i < 8; i++) {
        v |= (uint64_t) out[i] << (8 * i);
    }

    return v;
}


void
suite_siphash(void)
{
    size_t          i;
    uint64_t        ref;
    unsigned char   key[FWG_SIPHASH_KEY_LEN], msg[64];

    unit_suite("siphash");

    for (i = 0; i < sizeof(key); i++) {
        key[i] = (unsigned char) i;
    }

    for (i = 0; i < sizeof(msg); i++) {
        msg[i] = (unsigned char) i;
    }

    /* the paper's appendix A, and the reference vectors' first entry */
    FWG_CHECK(fwg_siphash24(key, msg, 15) == 0xa129ca6149be45e5ULL);
    FWG_CHECK(fwg_siphash24(key, msg, 0) == 0x726fdb47dd0e0e31ULL);

    for (i = 0; i < sizeof(msg); i++) {
        ref = openssl_siphash(key, msg, i);
        FWG_CHECK_MSG(ref != 0 && fwg_siphash24(key, msg, i) == ref,
                      "siphash of %zu bytes differs from OpenSSL's", i);
    }

    /* another key: the key is read, not assumed */
    key[0] ^= 0x80;
    FWG_CHECK(fwg_siphash24(key, msg, 15) != 0xa129ca6149be45e5ULL);
    FWG_CHECK(fwg_siphash24(key, msg, 15) == openssl_siphash(key, msg, 15));
}


/*
 * fwg_table_hash: the same bytes give the same hash wherever they sit
 * (unaligned loads), every length's tail counts, and keys that differ in
 * one byte spread over a table's slots as a table needs.
 */
void
suite_table_hash(void)
{
    size_t         i, len, max, n[1024];
    uint32_t       h;
    unsigned char  buf[80], moved[96];
    char           key[64];

    unit_suite("table hash");

    for (i = 0; i < sizeof(buf); i++) {
        buf[i] = (unsigned char) (i * 7 + 1);
    }

    for (len = 0; len <= 72; len++) {
        h = fwg_table_hash(buf, len);
        memcpy(moved + 3, buf, len);
        FWG_CHECK_MSG(fwg_table_hash(moved + 3, len) == h,
                      "%zu bytes hash differently when unaligned", len);

        /* a change in the last byte, the tail's or a whole word's */
        if (len) {
            moved[3 + len - 1] ^= 0x01;
            FWG_CHECK_MSG(fwg_table_hash(moved + 3, len) != h,
                          "the last of %zu bytes is not hashed", len);
        }

        /* a key and the same key one zero byte longer */
        buf[len] = 0;
        FWG_CHECK_MSG(fwg_table_hash(buf, len + 1) != h,
                      "%zu bytes and a NUL more hash alike", len);
        buf[len] = (unsigned char) (len * 7 + 1);
    }

    /* 65,536 cache-like keys into 1,024 slots: about 64 each */
    memset(n, 0, sizeof(n));

    for (i = 0; i < 65536; i++) {
        len = (size_t) snprintf(key, sizeof(key), "fw:device:LS6-%06zu", i);
        n[fwg_table_hash(key, len) & 1023]++;
    }

    max = 0;
    for (i = 0; i < 1024; i++) {
        max = n[i] > max ? n[i] : max;
    }

    FWG_CHECK_MSG(max < 110, "a slot got %zu of 65,536 keys (mean 64)", max);
}
