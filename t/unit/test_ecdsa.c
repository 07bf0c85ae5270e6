/*
 * ecdsa-p256-sha256 verification (fwg_key.c): the low-level path
 * (ECDSA_do_verify() on a kept EC_KEY and ECDSA_SIG) must give exactly
 * the verdicts of the EVP path it replaced.  Three verifiers are compared
 * on every signature:
 *
 *   fast    fwg_sig_verify() on a key from its registry record
 *   evp     fwg_sig_verify() on a key set to fwg_key_evp_only()
 *   ref     the path as it was, written out here: r||s to DER with
 *           BN_bin2bn() and i2d_ECDSA_SIG(), EVP_DigestVerify() with
 *           SHA-256 on a fresh context (what the provider does with DER)
 *
 * over the valid signature, each bit of r and of s flipped, r or s zero
 * or at least the group order n, the high-s twin (n - s: RFC 9421 does
 * not forbid it and OpenSSL accepts it), another key's signature, wrong
 * lengths, and thousands of random mutations of signature and base.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>

#include "unit.h"
#include "fwg_b64.h"
#include "fwg_sig.h"


#define MUTATIONS  3000

static const char  base[] =
    "\"@method\": GET\n"
    "\"@path\": /fw/BENCH-A/2.4.1/firmware.bin\n"
    "\"@authority\": fw.example.com\n"
    "\"x-device-model\": BENCH-A\n"
    "\"@signature-params\": (\"@method\" \"@path\" \"@authority\" "
    "\"x-device-model\");created=1764770000;keyid=\"BC-000001\";"
    "nonce=\"1f3b9c0e5a7d2468b0c4e6f8\"";

static fwg_key_t       *fast, *evp, *fast_c;
static EVP_PKEY        *ref_pkey;
static unsigned char    order[32];
static uint64_t         rng = 0x9e3779b97f4a7c15ULL;


static uint32_t
rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;

    return (uint32_t) (rng >> 16);
}


/* the EVP path as fwg_key.c had it, independent of fwg_key.c */
static int
ref_verify(const char *msg, size_t len, const unsigned char *sig,
    size_t siglen)
{
    int             rc, derlen;
    BIGNUM         *r, *s;
    ECDSA_SIG      *es;
    EVP_MD_CTX     *md;
    unsigned char  *der;

    if (siglen != 64) {
        return 0;
    }

    es = ECDSA_SIG_new();
    r = BN_bin2bn(sig, 32, NULL);
    s = BN_bin2bn(sig + 32, 32, NULL);
    if (es == NULL || r == NULL || s == NULL || !ECDSA_SIG_set0(es, r, s)) {
        return -1;
    }

    der = NULL;
    derlen = i2d_ECDSA_SIG(es, &der);
    ECDSA_SIG_free(es);
    if (derlen <= 0) {
        return -1;
    }

    md = EVP_MD_CTX_new();
    rc = -1;

    if (md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, ref_pkey)
              == 1)
    {
        rc = EVP_DigestVerify(md, der, (size_t) derlen,
                              (const unsigned char *) msg, len) == 1;
    }

    EVP_MD_CTX_free(md);
    OPENSSL_free(der);

    return rc;
}


/* all three verifiers agree with each other and with want (-1: any) */
static int
same(const char *msg, size_t len, const unsigned char *sig, size_t siglen,
    int want, const char *what, int i)
{
    int  a, b, c, d;

    a = fwg_sig_verify(fast, msg, len, sig, siglen);
    b = fwg_sig_verify(evp, msg, len, sig, siglen);
    c = ref_verify(msg, len, sig, siglen);
    d = fwg_sig_verify(fast_c, msg, len, sig, siglen);

    return FWG_CHECK_MSG(a == b && a == c && a == d && (a == 0 || a == 1)
                         && (want < 0 || a == want),
                         "%s %d: fast %d, evp %d, ref %d, compressed %d, "
                         "want %d", what, i, a, b, c, d, want);
}


/* be = n + add or n - sub as 32 big-endian bytes (no overflow here) */
static void
order_plus(unsigned char *be, int add)
{
    int  i, carry;

    memcpy(be, order, 32);
    carry = add;

    for (i = 31; i >= 0 && carry != 0; i--) {
        carry += be[i];
        be[i] = (unsigned char) (carry & 0xff);
        carry >>= 8;
    }
}


/* s := n - s, the other valid s of the same signature */
static void
high_s(unsigned char *sig)
{
    BIGNUM  *n, *s;

    n = BN_bin2bn(order, 32, NULL);
    s = BN_bin2bn(sig + 32, 32, NULL);
    BN_sub(s, n, s);
    BN_bn2binpad(s, sig + 32, 32);
    BN_free(n);
    BN_free(s);
}


static fwg_key_t *
from_record(const char *rec, size_t len)
{
    const char  *err;
    fwg_key_t   *k;

    k = fwg_key_from_record(FWG_ALG_ECDSA_P256_SHA256, rec, len, &err);
    FWG_CHECK_MSG(k != NULL, "record: %s", k ? "" : err);

    return k;
}


/* a signature of base by a fresh P-256 key, as r||s */
static int
other_key_sig(unsigned char *sig)
{
    int                   ok;
    size_t                n;
    EVP_PKEY             *pk;
    EVP_MD_CTX           *md;
    ECDSA_SIG            *es;
    const BIGNUM         *r, *s;
    unsigned char         der[80];
    const unsigned char  *p;

    pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    md = EVP_MD_CTX_new();
    n = sizeof(der);
    ok = 0;

    if (pk && md
        && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pk) == 1
        && EVP_DigestSign(md, der, &n, (const unsigned char *) base,
                          sizeof(base) - 1) == 1)
    {
        p = der;
        es = d2i_ECDSA_SIG(NULL, &p, (long) n);
        if (es) {
            ECDSA_SIG_get0(es, &r, &s);
            ok = BN_bn2binpad(r, sig, 32) == 32
                 && BN_bn2binpad(s, sig + 32, 32) == 32;
            ECDSA_SIG_free(es);
        }
    }

    EVP_MD_CTX_free(md);
    EVP_PKEY_free(pk);

    return ok;
}


static void
edge_cases(const unsigned char *good)
{
    int             i, b;
    size_t          len = sizeof(base) - 1;
    unsigned char   sig[80], msg[sizeof(base)];

    memcpy(sig, good, 64);
    same(base, len, sig, 64, 1, "valid", 0);

    /* every bit of r and of s */

    for (i = 0; i < 512; i++) {
        memcpy(sig, good, 64);
        sig[i / 8] ^= (unsigned char) (0x80 >> (i % 8));
        same(base, len, sig, 64, 0, "bit flipped", i);
    }

    /* r or s zero, both zero */

    memcpy(sig, good, 64);
    memset(sig, 0, 32);
    same(base, len, sig, 64, 0, "r = 0", 0);

    memcpy(sig, good, 64);
    memset(sig + 32, 0, 32);
    same(base, len, sig, 64, 0, "s = 0", 0);

    memset(sig, 0, 64);
    same(base, len, sig, 64, 0, "r = s = 0", 0);

    /* r or s = n - 1, n, n + 1, 2^256 - 1 */

    for (b = -1; b <= 1; b++) {
        memcpy(sig, good, 64);
        order_plus(sig, b);
        same(base, len, sig, 64, 0, "r = n + b", b);

        memcpy(sig, good, 64);
        order_plus(sig + 32, b);
        same(base, len, sig, 64, 0, "s = n + b", b);
    }

    memcpy(sig, good, 64);
    memset(sig, 0xff, 32);
    same(base, len, sig, 64, 0, "r = 2^256 - 1", 0);

    memcpy(sig, good, 64);
    memset(sig + 32, 0xff, 32);
    same(base, len, sig, 64, 0, "s = 2^256 - 1", 0);

    memset(sig, 0xff, 64);
    same(base, len, sig, 64, 0, "r = s = 2^256 - 1", 0);

    /* r = s = 1: small values, short DER integers */

    memset(sig, 0, 64);
    sig[31] = 1;
    sig[63] = 1;
    same(base, len, sig, 64, 0, "r = s = 1", 0);

    /* the high-s twin verifies, as OpenSSL's EVP path has it */

    memcpy(sig, good, 64);
    high_s(sig);
    FWG_CHECK(memcmp(sig + 32, good + 32, 32) != 0);
    same(base, len, sig, 64, 1, "high s", 0);
    high_s(sig);
    FWG_CHECK(memcmp(sig, good, 64) == 0);

    /* r and s swapped */

    memcpy(sig, good + 32, 32);
    memcpy(sig + 32, good, 32);
    same(base, len, sig, 64, 0, "r, s swapped", 0);

    /* another key's signature of the same base */

    FWG_CHECK(other_key_sig(sig));
    same(base, len, sig, 64, 0, "another key", 0);

    /* wrong lengths, the DER form of a good signature among them */

    memcpy(sig, good, 64);
    sig[64] = 0;
    same(base, len, sig, 63, 0, "63 bytes", 0);
    same(base, len, sig, 65, 0, "65 bytes", 0);
    same(base, len, sig, 0, 0, "0 bytes", 0);
    same(base, len, sig, 32, 0, "32 bytes", 0);

    /* another base: one byte changed, one byte shorter, empty */

    memcpy(msg, base, sizeof(base));
    msg[5] ^= 1;
    same((char *) msg, len, good, 64, 0, "base changed", 0);
    same(base, len - 1, good, 64, 0, "base shorter", 0);
    same(base, 0, good, 64, 0, "base empty", 0);
}


static void
mutations(const unsigned char *good)
{
    int             i, j, k, valid;
    size_t          len;
    unsigned char   sig[64], msg[sizeof(base)];

    valid = 0;

    for (i = 0; i < MUTATIONS; i++) {
        memcpy(sig, good, 64);
        memcpy(msg, base, sizeof(base));
        len = sizeof(base) - 1;

        switch (rnd() % 8) {

        case 0:     /* 1-3 random bits anywhere in r||s */
            for (j = 1 + rnd() % 3; j > 0; j--) {
                k = (int) (rnd() % 512);
                sig[k / 8] ^= (unsigned char) (1 << (k % 8));
            }
            break;

        case 1:     /* a random byte */
            sig[rnd() % 64] = (unsigned char) rnd();
            break;

        case 2:     /* r or s random */
            for (j = 0, k = (rnd() & 1) * 32; j < 32; j++) {
                sig[k + j] = (unsigned char) rnd();
            }
            break;

        case 3:     /* leading bytes of r or s zero: short integers */
            k = (rnd() & 1) * 32;
            memset(sig + k, 0, 1 + rnd() % 31);
            break;

        case 4:     /* r or s near n */
            k = (rnd() & 1) * 32;
            order_plus(sig + k, (int) (rnd() % 5) - 2);
            break;

        case 5:     /* the high-s twin, sometimes with a bit flipped */
            high_s(sig);
            if (rnd() & 1) {
                k = (int) (rnd() % 512);
                sig[k / 8] ^= (unsigned char) (1 << (k % 8));
            }
            break;

        case 6:     /* the base mutated, the signature left */
            msg[rnd() % len] ^= (unsigned char) (1 + rnd() % 255);
            break;

        default:    /* the signature untouched, or r or s all ones */
            if (rnd() & 1) {
                memset(sig + (rnd() & 1) * 32, 0xff, 32);
            }
            break;
        }

        if (!same((char *) msg, len, sig, 64, -1, "mutation", i)) {
            break;
        }

        valid += fwg_sig_verify(fast, (char *) msg, len, sig, 64) == 1;
    }

    /* the valid ones are there too: untouched and high-s twins */
    FWG_CHECK_MSG(valid > MUTATIONS / 16 && valid < MUTATIONS / 2,
                  "%d of %d mutations valid", valid, MUTATIONS);
}


void
suite_ecdsa(void)
{
    long            n;
    char            path[4096], rec[256], rec_c[256];
    FILE           *f;
    size_t          siglen, len;
    EC_GROUP       *g;
    fwg_key_t      *priv;
    const char     *dir, *err;
    unsigned char   good[FWG_SIG_MAX_SIG], raw[128];

    unit_suite("ecdsa");

    dir = getenv("FWG_TEST_DATA");
    snprintf(path, sizeof(path), "%s/test-key-ecc-p256.pem",
             dir ? dir : "t/data/rfc9421");

    priv = fwg_key_from_file(FWG_ALG_ECDSA_P256_SHA256, path, &err);
    if (!FWG_CHECK_MSG(priv != NULL, "load %s", path)) {
        return;
    }

    FWG_CHECK_EQ_INT(fwg_sig_sign(priv, base, sizeof(base) - 1, good,
                                  &siglen), 0);
    FWG_CHECK_EQ_INT(siglen, 64);

    n = fwg_key_record(priv, rec, sizeof(rec));
    FWG_CHECK_EQ_INT(n, 88);
    fwg_key_free(priv);

    /* the same point compressed: its EC_KEY is made from that form */

    FWG_CHECK_EQ_INT(fwg_b64_decode(raw, sizeof(raw), &len, rec, (size_t) n),
                     0);
    raw[0] = (unsigned char) (2 + (raw[64] & 1));
    len = fwg_b64_encode(rec_c, raw, 33);

    fast = from_record(rec, (size_t) n);
    evp = from_record(rec, (size_t) n);
    fast_c = from_record(rec_c, len);

    f = fopen(path, "r");
    ref_pkey = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
    if (f) {
        fclose(f);
    }

    g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    FWG_CHECK(g != NULL
              && BN_bn2binpad(EC_GROUP_get0_order(g), order, 32) == 32);
    EC_GROUP_free(g);

    if (!FWG_CHECK(fast && evp && fast_c && ref_pkey)) {
        goto done;
    }

    FWG_CHECK_EQ_INT(fwg_key_evp_only(evp), 0);
    FWG_CHECK_EQ_INT(fwg_key_evp_only(NULL), -1);
    priv = fwg_key_from_record(FWG_ALG_HMAC_SHA256, rec, (size_t) n, &err);
    FWG_CHECK(priv != NULL && fwg_key_evp_only(priv) == -1);
    fwg_key_free(priv);

    /* the EVP path is taken from the first verify, or switched to later */

    FWG_CHECK_EQ_INT(fwg_sig_verify(fast_c, base, sizeof(base) - 1, good,
                                    64), 1);

    edge_cases(good);
    mutations(good);

    FWG_CHECK_EQ_INT(fwg_key_evp_only(fast_c), 0);
    same(base, sizeof(base) - 1, good, 64, 1, "switched to evp", 0);
    good[3] ^= 0x10;
    same(base, sizeof(base) - 1, good, 64, 0, "switched to evp", 1);

done:

    fwg_key_free(fast);
    fwg_key_free(evp);
    fwg_key_free(fast_c);
    EVP_PKEY_free(ref_pkey);
}
