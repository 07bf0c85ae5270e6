/*
 * hmac-sha256 keys: RFC 4231 test cases 1, 4 and 6 (a key longer than
 * the block is hashed first), then every key length 16-200 against
 * OpenSSL's one-shot HMAC(), signing and verifying.
 */

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "unit.h"
#include "fwg_b64.h"
#include "fwg_sig.h"


static fwg_key_t *
hmac_key(const unsigned char *secret, size_t len)
{
    char         b64[512];
    size_t       n;
    const char  *err;

    n = fwg_b64_encode(b64, secret, len);

    return fwg_key_from_record(FWG_ALG_HMAC_SHA256, b64, n, &err);
}


static int
hmac_is(const unsigned char *secret, size_t klen, const char *data,
    size_t dlen, const char *hex)
{
    int             ok;
    char            got[65];
    size_t          siglen;
    fwg_key_t      *k;
    unsigned char   sig[FWG_SIG_MAX_SIG];

    k = hmac_key(secret, klen);
    if (k == NULL) {
        return 0;
    }

    siglen = 0;
    ok = fwg_sig_sign(k, data, dlen, sig, &siglen) == 0 && siglen == 32;

    if (ok) {
        fwg_hex_encode(got, sig, 32);
        got[64] = '\0';
        ok = strcmp(got, hex) == 0
             && fwg_sig_verify(k, data, dlen, sig, siglen) == 1;
    }

    fwg_key_free(k);

    return ok;
}


void
suite_hmac(void)
{
    int             same;
    size_t          i, klen, siglen;
    fwg_key_t      *k;
    unsigned int    reflen;
    uint32_t        states[FWG_HMAC_STATES];
    unsigned char   key[200], data[50], ref[32], ref0[32];
    unsigned char   sig[FWG_SIG_MAX_SIG];

    unit_suite("hmac");

    memset(key, 0x0b, 20);
    FWG_CHECK(fwg_key_hmac_states(NULL, states) == -1);

    FWG_CHECK(hmac_is(key, 20, "Hi There", 8,
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"));

    for (i = 0; i < 25; i++) {
        key[i] = (unsigned char) (i + 1);
    }

    memset(data, 0xcd, sizeof(data));
    FWG_CHECK(hmac_is(key, 25, (const char *) data, sizeof(data),
        "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"));

    memset(key, 0xaa, 131);
    FWG_CHECK(hmac_is(key, 131,
        "Test Using Larger Than Block-Size Key - Hash Key First", 54,
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"));

    /* every length around the 64-byte block, one key used many times */

    for (klen = 16; klen <= sizeof(key); klen++) {
        for (i = 0; i < klen; i++) {
            key[i] = (unsigned char) (i * 7 + klen);
        }

        k = hmac_key(key, klen);
        same = k != NULL;

        HMAC(EVP_sha256(), key, (int) klen, data, sizeof(data), ref0,
             &reflen);

        for (i = 0; same && i < 3; i++) {
            HMAC(EVP_sha256(), key, (int) klen, data, sizeof(data) - i,
                 ref, &reflen);
            same = fwg_sig_sign(k, (const char *) data, sizeof(data) - i,
                                sig, &siglen) == 0
                   && siglen == 32 && memcmp(sig, ref, 32) == 0
                   && fwg_sig_verify(k, (const char *) data,
                                     sizeof(data) - i, ref, 32) == 1;
        }

        FWG_CHECK_MSG(same, "hmac with a %zu-byte key differs from "
                      "OpenSSL's HMAC()", klen);

        /* the key's kept states verify as the key does, and only that */

        same = k != NULL && fwg_key_hmac_states(k, states) == 0
               && fwg_sig_verify_hmac_states(states, (const char *) data,
                                             sizeof(data), ref0, 32) == 1;
        ref0[klen % 32] ^= 1;
        same = same
               && fwg_sig_verify_hmac_states(states, (const char *) data,
                                             sizeof(data), ref0, 32) == 0
               && fwg_sig_verify_hmac_states(states, (const char *) data,
                                             sizeof(data), ref0, 31) == 0;
        FWG_CHECK_MSG(same, "hmac from the kept states of a %zu-byte key",
                      klen);
        fwg_key_free(k);
    }
}
