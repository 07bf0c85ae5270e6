/*
 * Keys and signature algorithms of RFC 9421 section 3.3 that fwgate
 * supports: ed25519, ecdsa-p256-sha256 (raw r||s signatures, section
 * 3.3.4) and hmac-sha256.  OpenSSL 3 EVP interfaces, but for P-256
 * verification: ECDSA_do_verify(), with the EVP path as its fallback
 * (see "ecdsa-p256-sha256 verification" below).
 *
 * A key is bound to one algorithm when it is made: the record's or the
 * caller's algorithm decides, and a key is never used for another.
 */

#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "fwg_sig.h"
#include "fwg_b64.h"
#include "fwg_sha256.h"


#define FWG_KEY_MAX_RECORD   1024       /* decoded registry key bytes */
#define FWG_KEY_MAX_FILE     65536
#define FWG_KEY_HMAC_MIN     16         /* shorter secrets are refused */
#define FWG_P256_COORD       32
#define FWG_P256_DER_MAX     72         /* SEQUENCE of two 33-byte INTEGERs */

/*
 * EC_KEY is gone from the headers of an OpenSSL built without 3.0's
 * deprecated API: then only the EVP path is there (see below)
 */
#if !defined(OPENSSL_NO_DEPRECATED_3_0)
typedef EC_KEY  fwg_ec_key_t;
#else
typedef void    fwg_ec_key_t;
#endif


struct fwg_key_s {
    fwg_alg_t        alg;
    int              can_sign;
    EVP_PKEY        *pkey;              /* ed25519, P-256 */
    unsigned char   *secret;            /* hmac */
    size_t           secretlen;

    /*
     * hmac: the SHA-256 chaining values after the ipad and the opad
     * block (RFC 2104), 64 bytes in all; each MAC resumes from them
     * (fwg_sha256.c) with no allocation.  A duplicated EVP_MAC_CTX cost
     * several allocations and twice the time.
     */
    uint32_t         hin[8];
    uint32_t         hout[8];

    /*
     * Verification contexts made on first use and kept with the key:
     * OpenSSL 3 fetches the algorithm implementation on every
     * EVP_DigestVerifyInit(), which costs as much as a P-256 verify.
     * Keys live in one thread (an nginx worker, the CLI).
     */
    EVP_PKEY_CTX    *vctx;              /* P-256: verify_init done */
    EVP_MD_CTX      *vtmpl;             /* ed25519: DigestVerifyInit done */

    /*
     * P-256, also made on first use (fwg_key_p256_setup()): the
     * signature's r and s are read into the two BIGNUMs of one kept
     * ECDSA_SIG, and verified by ECDSA_do_verify() on the low-level
     * EC_KEY; without the EC_KEY (OpenSSL built without the deprecated
     * 3.0 API, or fwg_key_evp_only()) the kept ECDSA_SIG is encoded to
     * DER on the stack for EVP_PKEY_verify() on vctx.
     */
    fwg_ec_key_t    *ec;
    ECDSA_SIG       *es;
    BIGNUM          *r, *s;             /* es's own */
    int              p256;              /* es, r, s made */
    int              evp_only;
};


static int fwg_key_verify_fast(fwg_key_t *k, const char *base, size_t len,
    const unsigned char *sig, size_t siglen);
static void fwg_key_ec_free(fwg_key_t *k);


static fwg_key_t *
fwg_key_new(fwg_alg_t alg)
{
    fwg_key_t  *k;

    k = OPENSSL_zalloc(sizeof(fwg_key_t));
    if (k) {
        k->alg = alg;
    }

    return k;
}


void
fwg_key_free(fwg_key_t *k)
{
    if (k == NULL) {
        return;
    }

    EVP_PKEY_CTX_free(k->vctx);
    EVP_MD_CTX_free(k->vtmpl);
    fwg_key_ec_free(k);
    ECDSA_SIG_free(k->es);
    EVP_PKEY_free(k->pkey);
    fwg_wipe(k->hin, sizeof(k->hin));
    fwg_wipe(k->hout, sizeof(k->hout));

    if (k->secret) {
        OPENSSL_clear_free(k->secret, k->secretlen);
    }

    OPENSSL_free(k);
}


fwg_alg_t
fwg_key_alg(const fwg_key_t *k)
{
    return k ? k->alg : FWG_ALG_NONE;
}


int
fwg_key_can_sign(const fwg_key_t *k)
{
    return k ? k->can_sign : 0;
}


/* is pkey of the type alg needs?  P-256 only for ECDSA */
static int
fwg_key_pkey_is(EVP_PKEY *pkey, fwg_alg_t alg)
{
    char    group[64];
    size_t  len;

    switch (alg) {

    case FWG_ALG_ED25519:
        return EVP_PKEY_is_a(pkey, "ED25519");

    case FWG_ALG_ECDSA_P256_SHA256:
        if (!EVP_PKEY_is_a(pkey, "EC")) {
            return 0;
        }

        if (!EVP_PKEY_get_utf8_string_param(pkey,
                OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), &len))
        {
            return 0;
        }

        return strcmp(group, "prime256v1") == 0
               || strcmp(group, "P-256") == 0;

    default:
        return 0;
    }
}


static fwg_alg_t
fwg_key_pkey_alg(EVP_PKEY *pkey)
{
    if (fwg_key_pkey_is(pkey, FWG_ALG_ED25519)) {
        return FWG_ALG_ED25519;
    }

    if (fwg_key_pkey_is(pkey, FWG_ALG_ECDSA_P256_SHA256)) {
        return FWG_ALG_ECDSA_P256_SHA256;
    }

    return FWG_ALG_NONE;
}


/* a P-256 public key from a SEC1 point, compressed or not */
static EVP_PKEY *
fwg_key_p256_point(const unsigned char *p, size_t len)
{
    EVP_PKEY        *pkey;
    OSSL_PARAM       params[3];
    EVP_PKEY_CTX    *ctx;
    unsigned char    point[65];
    char             group[] = "prime256v1";

    if (len > sizeof(point)) {
        return NULL;
    }

    memcpy(point, p, len);

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                                 group, 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
                                                  point, len);
    params[2] = OSSL_PARAM_construct_end();

    pkey = NULL;

    ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (ctx == NULL) {
        return NULL;
    }

    if (EVP_PKEY_fromdata_init(ctx) <= 0
        || EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
    {
        pkey = NULL;
    }

    EVP_PKEY_CTX_free(ctx);

    return pkey;
}


/*
 * The public point must lie on the curve: a bad record is refused early.
 * The quick check (not the point at infinity, coordinates below p, on
 * the curve) is the whole check for P-256: its cofactor is 1, so every
 * other point on the curve has the prime order n, and the full check's
 * n * Q == infinity, a scalar multiplication, adds nothing but 55 us to
 * every key made (a key cache miss: `make bench-verify`, "key from
 * record").
 */
static int
fwg_key_check_public(EVP_PKEY *pkey)
{
    int            rc;
    EVP_PKEY_CTX  *ctx;

    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    if (ctx == NULL) {
        return 0;
    }

    rc = EVP_PKEY_public_check_quick(ctx);
    EVP_PKEY_CTX_free(ctx);

    return rc == 1;
}


/* the keyed ipad and opad states of HMAC-SHA256, made once per key */
static int
fwg_key_hmac_init(fwg_key_t *k)
{
    size_t          i;
    unsigned char   block[64], ipad[64], opad[64];

    memset(block, 0, sizeof(block));

    /* a key longer than the block is its digest (RFC 2104 section 2) */

    if (k->secretlen > sizeof(block)) {
        if (SHA256(k->secret, k->secretlen, block) == NULL) {
            return -1;
        }

    } else {
        memcpy(block, k->secret, k->secretlen);
    }

    for (i = 0; i < sizeof(block); i++) {
        ipad[i] = block[i] ^ 0x36;
        opad[i] = block[i] ^ 0x5c;
    }

    fwg_sha256_block_state(ipad, k->hin);
    fwg_sha256_block_state(opad, k->hout);

    fwg_wipe(block, sizeof(block));
    fwg_wipe(ipad, sizeof(ipad));
    fwg_wipe(opad, sizeof(opad));

    return 0;
}


static void
fwg_hmac_resume(const uint32_t *hin, const uint32_t *hout, const char *data,
    size_t len, unsigned char *out)
{
    unsigned char   inner[FWG_SHA256_LEN];

    fwg_sha256_resume(hin, data, len, inner);
    fwg_sha256_resume(hout, inner, sizeof(inner), out);

    fwg_wipe(inner, sizeof(inner));
}


static int
fwg_key_hmac(const fwg_key_t *k, const char *data, size_t len,
    unsigned char *out, size_t *outlen)
{
    fwg_hmac_resume(k->hin, k->hout, data, len, out);
    *outlen = FWG_SHA256_LEN;

    return 0;
}


int
fwg_key_hmac_states(const fwg_key_t *k, uint32_t *states)
{
    if (k == NULL || k->alg != FWG_ALG_HMAC_SHA256) {
        return -1;
    }

    memcpy(states, k->hin, sizeof(k->hin));
    memcpy(states + 8, k->hout, sizeof(k->hout));

    return 0;
}


/* the MAC compared in constant time, as fwg_sig_verify() does */
int
fwg_sig_verify_hmac_states(const uint32_t *states, const char *base,
    size_t len, const unsigned char *sig, size_t siglen)
{
    int             rc;
    unsigned char   mac[FWG_SHA256_LEN];

    if (states == NULL || base == NULL || sig == NULL) {
        return -1;
    }

    if (siglen != sizeof(mac)) {
        return 0;
    }

    fwg_hmac_resume(states, states + 8, base, len, mac);

    rc = fwg_ct_memcmp(mac, sig, sizeof(mac)) == 0;
    fwg_wipe(mac, sizeof(mac));

    return rc;
}


static fwg_key_t *
fwg_key_from_raw(fwg_alg_t alg, const unsigned char *raw, size_t len,
    const char **err)
{
    EVP_PKEY             *pkey;
    fwg_key_t            *k;
    const unsigned char  *p;

    pkey = NULL;

    switch (alg) {

    case FWG_ALG_ED25519:
        if (len != 32) {
            *err = "an ed25519 key is 32 bytes";
            return NULL;
        }

        pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw, len);
        break;

    case FWG_ALG_ECDSA_P256_SHA256:
        if ((len == 65 && raw[0] == 0x04)
            || (len == 33 && (raw[0] == 0x02 || raw[0] == 0x03)))
        {
            pkey = fwg_key_p256_point(raw, len);

        } else {
            p = raw;
            pkey = d2i_PUBKEY(NULL, &p, (long) len);

            if (pkey && p != raw + len) {
                EVP_PKEY_free(pkey);
                pkey = NULL;
            }
        }

        if (pkey && (!fwg_key_pkey_is(pkey, alg)
                     || !fwg_key_check_public(pkey)))
        {
            EVP_PKEY_free(pkey);
            *err = "not a valid P-256 public key";
            return NULL;
        }

        break;

    case FWG_ALG_HMAC_SHA256:
        if (len < FWG_KEY_HMAC_MIN) {
            *err = "hmac secret shorter than 16 bytes";
            return NULL;
        }

        k = fwg_key_new(alg);
        if (k == NULL) {
            *err = "out of memory";
            return NULL;
        }

        k->secret = OPENSSL_malloc(len);
        if (k->secret == NULL) {
            fwg_key_free(k);
            *err = "out of memory";
            return NULL;
        }

        memcpy(k->secret, raw, len);
        k->secretlen = len;
        k->can_sign = 1;

        if (fwg_key_hmac_init(k) != 0) {
            fwg_key_free(k);
            *err = "HMAC unavailable";
            return NULL;
        }

        return k;

    default:
        *err = "unknown algorithm";
        return NULL;
    }

    if (pkey == NULL) {
        *err = "not a valid public key for the algorithm";
        return NULL;
    }

    k = fwg_key_new(alg);
    if (k == NULL) {
        EVP_PKEY_free(pkey);
        *err = "out of memory";
        return NULL;
    }

    k->pkey = pkey;

    return k;
}


fwg_key_t *
fwg_key_from_record(fwg_alg_t alg, const char *b64, size_t len,
    const char **err)
{
    size_t          n;
    fwg_key_t      *k;
    unsigned char   raw[FWG_KEY_MAX_RECORD];

    if (b64 == NULL || len == 0) {
        *err = "empty key record";
        return NULL;
    }

    if (fwg_b64_decode(raw, sizeof(raw), &n, b64, len) != 0) {
        *err = "key record is not base64";
        return NULL;
    }

    k = fwg_key_from_raw(alg, raw, n, err);
    fwg_wipe(raw, sizeof(raw));

    return k;
}


/*
 * Is k the hmac key a registry record holds?  A per-worker key cache
 * with a slot per device cannot afford a copy of every record for its
 * check; the secret the key already holds is the record, decoded.
 */
int
fwg_key_hmac_is(const fwg_key_t *k, const char *b64, size_t len)
{
    int             same;
    size_t          n;
    unsigned char   raw[128];

    if (k == NULL || k->alg != FWG_ALG_HMAC_SHA256 || b64 == NULL
        || len == 0 || len > fwg_b64_enc_len(sizeof(raw)))
    {
        return 0;
    }

    if (fwg_b64_decode(raw, sizeof(raw), &n, b64, len) != 0) {
        return 0;
    }

    same = n == k->secretlen && CRYPTO_memcmp(raw, k->secret, n) == 0;
    fwg_wipe(raw, n);

    return same;
}


/* PEM: a private key first, else a public key */
static fwg_key_t *
fwg_key_from_pem(fwg_alg_t alg, const char *data, size_t len,
    const char **err)
{
    int         priv;
    BIO        *bio;
    EVP_PKEY   *pkey;
    fwg_key_t  *k;
    fwg_alg_t   found;

    bio = BIO_new_mem_buf(data, (int) len);
    if (bio == NULL) {
        *err = "out of memory";
        return NULL;
    }

    priv = 1;
    pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);

    if (pkey == NULL) {
        priv = 0;
        (void) BIO_reset(bio);
        pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    }

    BIO_free(bio);

    if (pkey == NULL) {
        *err = "no usable PEM key";
        return NULL;
    }

    found = fwg_key_pkey_alg(pkey);

    if (found == FWG_ALG_NONE) {
        EVP_PKEY_free(pkey);
        *err = "PEM key is neither Ed25519 nor P-256";
        return NULL;
    }

    if (alg != FWG_ALG_NONE && alg != found) {
        EVP_PKEY_free(pkey);
        *err = "PEM key does not match the algorithm";
        return NULL;
    }

    k = fwg_key_new(found);
    if (k == NULL) {
        EVP_PKEY_free(pkey);
        *err = "out of memory";
        return NULL;
    }

    k->pkey = pkey;
    k->can_sign = priv;

    return k;
}


fwg_key_t *
fwg_key_from_file(fwg_alg_t alg, const char *path, const char **err)
{
    FILE        *f;
    char        *buf;
    size_t       n, s, e;
    fwg_key_t   *k;

    f = fopen(path, "rb");
    if (f == NULL) {
        *err = "cannot open key file";
        return NULL;
    }

    buf = OPENSSL_malloc(FWG_KEY_MAX_FILE + 1);
    if (buf == NULL) {
        fclose(f);
        *err = "out of memory";
        return NULL;
    }

    n = fread(buf, 1, FWG_KEY_MAX_FILE + 1, f);
    fclose(f);

    if (n > FWG_KEY_MAX_FILE) {
        OPENSSL_clear_free(buf, FWG_KEY_MAX_FILE + 1);
        *err = "key file too large";
        return NULL;
    }

    for (s = 0; s < n && (buf[s] == ' ' || buf[s] == '\t'
                          || buf[s] == '\r' || buf[s] == '\n'); s++)
    {
        /* void */
    }

    for (e = n; e > s && (buf[e - 1] == ' ' || buf[e - 1] == '\t'
                          || buf[e - 1] == '\r' || buf[e - 1] == '\n'); e--)
    {
        /* void */
    }

    if (e - s >= 5 && memcmp(buf + s, "-----", 5) == 0) {
        if (alg == FWG_ALG_HMAC_SHA256) {
            *err = "an hmac-sha256 key file holds a base64 secret";
            k = NULL;

        } else {
            k = fwg_key_from_pem(alg, buf + s, e - s, err);
        }

    } else {
        /*
         * A base64 secret, or a registry record when the algorithm is
         * given; without one only an hmac secret can be meant.
         */
        k = fwg_key_from_record(alg == FWG_ALG_NONE ? FWG_ALG_HMAC_SHA256
                                                    : alg,
                                buf + s, e - s, err);
    }

    OPENSSL_clear_free(buf, FWG_KEY_MAX_FILE + 1);

    return k;
}


long
fwg_key_record(const fwg_key_t *k, char *dst, size_t dstsize)
{
    long            rc;
    size_t          len;
    unsigned char   raw[128];

    if (k == NULL) {
        return -1;
    }

    switch (k->alg) {

    case FWG_ALG_ED25519:
        len = sizeof(raw);
        if (EVP_PKEY_get_raw_public_key(k->pkey, raw, &len) != 1) {
            return -1;
        }
        break;

    case FWG_ALG_ECDSA_P256_SHA256:
        /* the uncompressed SEC1 point, whatever form it was loaded from */
        if (EVP_PKEY_set_utf8_string_param(k->pkey,
                OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, "uncompressed")
            != 1
            || EVP_PKEY_get_octet_string_param(k->pkey,
                   OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, raw, sizeof(raw), &len)
               != 1
            || len != 65)
        {
            return -1;
        }
        break;

    case FWG_ALG_HMAC_SHA256:
        if (fwg_b64_enc_len(k->secretlen) + 1 > dstsize) {
            return -1;
        }

        len = fwg_b64_encode(dst, k->secret, k->secretlen);
        dst[len] = '\0';
        return (long) len;

    default:
        return -1;
    }

    if (fwg_b64_enc_len(len) + 1 > dstsize) {
        return -1;
    }

    rc = (long) fwg_b64_encode(dst, raw, len);
    dst[rc] = '\0';

    return rc;
}


static int
fwg_key_ecdsa_from_der(const unsigned char *der, size_t derlen,
    unsigned char *sig)
{
    int                   rc;
    ECDSA_SIG            *es;
    const BIGNUM         *r, *s;
    const unsigned char  *p;

    p = der;
    es = d2i_ECDSA_SIG(NULL, &p, (long) derlen);
    if (es == NULL) {
        return -1;
    }

    ECDSA_SIG_get0(es, &r, &s);

    rc = (BN_bn2binpad(r, sig, FWG_P256_COORD) == FWG_P256_COORD
          && BN_bn2binpad(s, sig + FWG_P256_COORD, FWG_P256_COORD)
             == FWG_P256_COORD) ? 0 : -1;

    ECDSA_SIG_free(es);

    return rc;
}


/*
 * ecdsa-p256-sha256 verification.
 *
 * `openssl speed ecdsap256` times EVP_PKEY_verify() on a kept context
 * with a 32-byte digest and a DER signature.  The signature on the wire
 * is raw r||s (RFC 9421 section 3.3.4), and the EVP interface takes only
 * DER, which the provider then decodes again (d2i_ECDSA_SIG, and an
 * i2d_ECDSA_SIG with a compare to refuse non-canonical DER) before it
 * calls ECDSA_do_verify().  The path used to convert r||s with two
 * BN_bin2bn() allocations, an ECDSA_SIG and an i2d_ECDSA_SIG() buffer,
 * and to digest with EVP_Digest(EVP_sha256()), which fetches the
 * implementation on every call: about 2.5 % above the speed loop in
 * `make bench-verify`, more in an nginx worker whose caches hold other
 * code.
 *
 * Now r and s are read in place into a kept ECDSA_SIG and verified by
 * ECDSA_do_verify() on a kept EC_KEY: the very function the provider
 * ends in, with the same BIGNUMs a canonical DER encoding of r||s
 * decodes to, so the verdicts are the EVP path's (t/unit/test_ecdsa.c
 * compares them over thousands of mutated signatures), and no
 * allocation but OpenSSL's own inside the verify.  The digest is
 * fwg_sha256(), no fetch.  On par with the speed loop, or 1-2 % under
 * it (the loop's DER decoding is gone).  ECDSA_do_verify() and the
 * EC_KEY functions are deprecated in OpenSSL 3 but present, so their
 * warnings are silenced for the four functions below that use them; the
 * EVP path, now without allocations either, stays as the fallback when
 * they are not (OPENSSL_NO_DEPRECATED_3_0) or the EC_KEY cannot be had.
 *
 * Keys live in one thread (an nginx worker, the CLI), so the kept
 * ECDSA_SIG needs no lock.
 */

#if !defined(OPENSSL_NO_DEPRECATED_3_0)

#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif

/*
 * The EC_KEY of a key's public point, on one P-256 group made once per
 * process and never freed: EVP_PKEY_get1_EC_KEY() would cost 22 us (an
 * export of the key and a group made from its name), and
 * EC_KEY_new_by_curve_name() 10 us; a copy of the made group and the
 * point's decoding cost 2 (`make bench-verify`, "key from record").
 * The EC_KEY and its copy of the group add about 1.5 KB to a key (2.9
 * -> 4.4 KB of heap after its first verify).
 */

static EC_GROUP     *fwg_p256_group;
static CRYPTO_ONCE   fwg_p256_once = CRYPTO_ONCE_STATIC_INIT;


static void
fwg_p256_group_init(void)
{
    fwg_p256_group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
}


static EC_KEY *
fwg_key_ec_get(EVP_PKEY *pkey)
{
    size_t          len;
    EC_KEY         *ec;
    unsigned char   point[2 * FWG_P256_COORD + 1];

    if (!CRYPTO_THREAD_run_once(&fwg_p256_once, fwg_p256_group_init)
        || fwg_p256_group == NULL)
    {
        return NULL;
    }

    if (EVP_PKEY_get_octet_string_param(pkey,
            OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point, sizeof(point), &len)
        != 1)
    {
        return NULL;
    }

    ec = EC_KEY_new();

    if (ec == NULL
        || EC_KEY_set_group(ec, fwg_p256_group) != 1
        || EC_KEY_oct2key(ec, point, len, NULL) != 1)
    {
        EC_KEY_free(ec);
        return NULL;
    }

    return ec;
}


/* 1 valid, 0 invalid, as ECDSA_verify() inside the provider decides */
static int
fwg_key_ec_verify(fwg_key_t *k, const unsigned char *dgst)
{
    return ECDSA_do_verify(dgst, FWG_SHA256_LEN, k->es, k->ec) == 1;
}


static void
fwg_key_ec_free(fwg_key_t *k)
{
    EC_KEY_free(k->ec);
    k->ec = NULL;
}

#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

#else

static fwg_ec_key_t *
fwg_key_ec_get(EVP_PKEY *pkey)
{
    return NULL;
}


static int
fwg_key_ec_verify(fwg_key_t *k, const unsigned char *dgst)
{
    return -1;
}


static void
fwg_key_ec_free(fwg_key_t *k)
{
}

#endif


/*
 * The kept ECDSA_SIG, and the EC_KEY when it can be had; 0 ok, -1 error
 * (out of memory: the next verify tries again).
 */
static int
fwg_key_p256_setup(fwg_key_t *k)
{
    if (k->p256) {
        return 0;
    }

    k->es = ECDSA_SIG_new();
    k->r = BN_new();
    k->s = BN_new();

    if (k->es == NULL || k->r == NULL || k->s == NULL
        || !ECDSA_SIG_set0(k->es, k->r, k->s))
    {
        ECDSA_SIG_free(k->es);
        BN_free(k->r);
        BN_free(k->s);
        goto failed;
    }

    /* storage for 256 bits now, so that BN_bin2bn() never allocates */

    if (BN_set_bit(k->r, 255) != 1 || BN_set_bit(k->s, 255) != 1) {
        ECDSA_SIG_free(k->es);
        goto failed;
    }

    if (!k->evp_only) {
        k->ec = fwg_key_ec_get(k->pkey);
    }

    k->p256 = 1;

    return 0;

failed:

    k->es = NULL;
    k->r = NULL;
    k->s = NULL;

    return -1;
}


int
fwg_key_evp_only(fwg_key_t *k)
{
    if (k == NULL || k->alg != FWG_ALG_ECDSA_P256_SHA256) {
        return -1;
    }

    k->evp_only = 1;
    fwg_key_ec_free(k);

    return 0;
}


/* the EVP path: the kept ECDSA_SIG as DER, EVP_PKEY_verify() on vctx */
static int
fwg_key_p256_evp(fwg_key_t *k, const unsigned char *dgst)
{
    int             derlen;
    unsigned char   der[FWG_P256_DER_MAX], *p;

    if (k->vctx == NULL) {
        k->vctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);

        if (k->vctx == NULL || EVP_PKEY_verify_init(k->vctx) != 1) {
            EVP_PKEY_CTX_free(k->vctx);
            k->vctx = NULL;
            return -1;
        }
    }

    /* r, s < 2^256: at most 2 + 2 * (2 + 33) bytes */

    if (i2d_ECDSA_SIG(k->es, NULL) > (int) sizeof(der)) {
        return -1;
    }

    p = der;
    derlen = i2d_ECDSA_SIG(k->es, &p);
    if (derlen <= 0) {
        return -1;
    }

    return EVP_PKEY_verify(k->vctx, der, (size_t) derlen, dgst,
                           FWG_SHA256_LEN) == 1;
}


static int
fwg_key_p256_verify(fwg_key_t *k, const char *base, size_t len,
    const unsigned char *sig)
{
    unsigned char  dgst[FWG_SHA256_LEN];

    if (fwg_key_p256_setup(k) != 0) {
        return -1;
    }

    /* the kept BIGNUMs hold 256 bits: no allocation here */

    if (BN_bin2bn(sig, FWG_P256_COORD, k->r) == NULL
        || BN_bin2bn(sig + FWG_P256_COORD, FWG_P256_COORD, k->s) == NULL)
    {
        return -1;
    }

    fwg_sha256(base, len, dgst);

    if (k->ec) {
        return fwg_key_ec_verify(k, dgst);
    }

    return fwg_key_p256_evp(k, dgst);
}


int
fwg_sig_verify(const fwg_key_t *k, const char *base, size_t len,
    const unsigned char *sig, size_t siglen)
{
    int             rc;
    size_t          maclen;
    EVP_MD_CTX     *md;
    unsigned char   mac[32];

    if (k == NULL || sig == NULL || base == NULL) {
        return -1;
    }

    switch (k->alg) {

    case FWG_ALG_HMAC_SHA256:
        if (fwg_key_hmac(k, base, len, mac, &maclen) != 0) {
            return -1;
        }

        if (siglen != sizeof(mac)) {
            return 0;
        }

        rc = fwg_ct_memcmp(mac, sig, sizeof(mac)) == 0;
        fwg_wipe(mac, sizeof(mac));
        return rc;

    case FWG_ALG_ED25519:
        if (siglen != 64) {
            return 0;
        }

        break;

    case FWG_ALG_ECDSA_P256_SHA256:
        if (siglen != 2 * FWG_P256_COORD) {
            return 0;
        }

        return fwg_key_p256_verify((fwg_key_t *) k, base, len, sig);

    default:
        return -1;
    }

    rc = fwg_key_verify_fast((fwg_key_t *) k, base, len, sig, siglen);

    if (rc != -2) {
        return rc;
    }

    /* the general path, when a kept context cannot be had */

    md = EVP_MD_CTX_new();
    if (md == NULL) {
        return -1;
    }

    rc = -1;

    if (EVP_DigestVerifyInit(md, NULL, NULL, NULL, k->pkey) == 1) {
        rc = EVP_DigestVerify(md, sig, siglen,
                              (const unsigned char *) base, len);
        rc = (rc == 1) ? 1 : 0;
    }

    EVP_MD_CTX_free(md);

    return rc;
}


/*
 * ed25519 verification with the context kept in the key: 1 valid,
 * 0 invalid, -2 when no kept context can be made (the caller then takes
 * the general path).
 */

static int
fwg_key_verify_fast(fwg_key_t *k, const char *base, size_t len,
    const unsigned char *sig, size_t siglen)
{
    int             rc;
    EVP_MD_CTX     *md;

    if (k->alg != FWG_ALG_ED25519) {
        return -2;
    }

    if (k->vtmpl == NULL) {
        k->vtmpl = EVP_MD_CTX_new();

        if (k->vtmpl == NULL
            || EVP_DigestVerifyInit(k->vtmpl, NULL, NULL, NULL, k->pkey) != 1)
        {
            EVP_MD_CTX_free(k->vtmpl);
            k->vtmpl = NULL;
            return -2;
        }
    }

    md = EVP_MD_CTX_new();
    if (md == NULL) {
        return -1;
    }

    if (EVP_MD_CTX_copy_ex(md, k->vtmpl) != 1) {
        EVP_MD_CTX_free(md);
        return -2;
    }

    rc = EVP_DigestVerify(md, sig, siglen, (const unsigned char *) base, len);

    EVP_MD_CTX_free(md);

    return rc == 1 ? 1 : 0;
}


int
fwg_sig_sign(const fwg_key_t *k, const char *base, size_t len,
    unsigned char *sig, size_t *siglen)
{
    int             rc;
    size_t          n;
    EVP_MD_CTX     *md;
    const EVP_MD   *digest;
    unsigned char   der[FWG_SIG_MAX_SIG];

    if (k == NULL || !k->can_sign) {
        return -1;
    }

    if (k->alg == FWG_ALG_HMAC_SHA256) {
        return fwg_key_hmac(k, base, len, sig, siglen);
    }

    if (k->alg != FWG_ALG_ED25519 && k->alg != FWG_ALG_ECDSA_P256_SHA256) {
        return -1;
    }

    digest = (k->alg == FWG_ALG_ED25519) ? NULL : EVP_sha256();

    md = EVP_MD_CTX_new();
    if (md == NULL) {
        return -1;
    }

    rc = -1;
    n = sizeof(der);

    if (EVP_DigestSignInit(md, NULL, digest, NULL, k->pkey) == 1
        && EVP_DigestSign(md, der, &n, (const unsigned char *) base, len)
           == 1)
    {
        rc = 0;
    }

    EVP_MD_CTX_free(md);

    if (rc != 0) {
        return -1;
    }

    if (k->alg == FWG_ALG_ED25519) {
        memcpy(sig, der, n);
        *siglen = n;
        return 0;
    }

    if (fwg_key_ecdsa_from_der(der, n, sig) != 0) {
        return -1;
    }

    *siglen = 2 * FWG_P256_COORD;

    return 0;
}
