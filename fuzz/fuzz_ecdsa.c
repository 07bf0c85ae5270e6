/*
 * libFuzzer target: ecdsa-p256-sha256 verification (src/core/fwg_key.c),
 * the low-level path (ECDSA_do_verify() on a kept EC_KEY and ECDSA_SIG)
 * against the EVP path (fwg_key_evp_only()), which is the reference.
 *
 * The input is r||s (its first 64 bytes; a shorter input is itself the
 * signature, of a wrong length) then the signature base.  Each input is
 * verified as it is and with s replaced by n - s (the high-s twin, valid
 * when the input is), under the RFC 9421 B.1.3 key; the two paths must
 * give the same verdict, 0 or 1.  The seeds hold valid signatures.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>

#include "fwg_sig.h"

/* RFC 9421 B.1.3, test-key-ecc-p256: the SPKI of its public key */
#define B13_SPKI                                                            \
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqIVYZVLCrPZHGHjP17CTW0/+D9Lfw0Ek"  \
    "jqF7xB4FivAxzic30tMM4GF+hR6Dxh71Z50VGGdldkkDXZCnTNnoXQ=="

static fwg_key_t  *fast, *evp;
static BIGNUM     *order;


static void
setup(void)
{
    EC_GROUP    *g;
    const char  *err;

    fast = fwg_key_from_record(FWG_ALG_ECDSA_P256_SHA256, B13_SPKI,
                               sizeof(B13_SPKI) - 1, &err);
    evp = fwg_key_from_record(FWG_ALG_ECDSA_P256_SHA256, B13_SPKI,
                              sizeof(B13_SPKI) - 1, &err);
    g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);

    if (fast == NULL || evp == NULL || g == NULL
        || fwg_key_evp_only(evp) != 0
        || (order = BN_dup(EC_GROUP_get0_order(g))) == NULL)
    {
        fprintf(stderr, "fuzz_ecdsa: setup failed\n");
        abort();
    }

    EC_GROUP_free(g);
}


static void
check(const unsigned char *sig, size_t siglen, const char *base,
    size_t len, const char *what)
{
    int  a, b;

    a = fwg_sig_verify(fast, base, len, sig, siglen);
    b = fwg_sig_verify(evp, base, len, sig, siglen);

    if (a != b || (a != 0 && a != 1)) {
        fprintf(stderr, "fuzz_ecdsa: %s: low-level %d, EVP %d\n", what, a,
                b);
        abort();
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char           *base;
    size_t          len;
    BIGNUM         *s;
    unsigned char   sig[64];

    if (fast == NULL) {
        setup();
    }

    if (size < 64) {
        check(data, size, "", 0, "short signature");
        return 0;
    }

    /* the base in its own exactly sized buffer (ASan sees any overread) */

    len = size - 64;
    base = malloc(len ? len : 1);
    if (base == NULL) {
        return 0;
    }
    memcpy(base, data + 64, len);
    memcpy(sig, data, 64);

    check(sig, 64, base, len, "input");

    /* n - s, when s < n: the high-s twin */

    s = BN_bin2bn(sig + 32, 32, NULL);
    if (s && BN_cmp(s, order) < 0 && BN_sub(s, order, s)
        && BN_bn2binpad(s, sig + 32, 32) == 32)
    {
        check(sig, 64, base, len, "high-s twin");
    }

    BN_free(s);
    free(base);

    return 0;
}
