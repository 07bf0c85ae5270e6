/*
 * Keys and signature algorithms of RFC 9421 section 3.3 that fwgate
 * supports: ed25519, ecdsa-p256-sha256 (raw r||s signatures, section
 * 3.3.4) and hmac-sha256.  OpenSSL 3 EVP interfaces only.
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
#include <openssl/evp.h>
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
};


static int fwg_key_verify_fast(fwg_key_t *k, const char *base, size_t len,
    const unsigned char *sig, size_t siglen);


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
    EVP_PKEY_free(k->pkey);
    OPENSSL_cleanse(k->hin, sizeof(k->hin));
    OPENSSL_cleanse(k->hout, sizeof(k->hout));

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


/* the public point must lie on the curve: a bad record is refused early */
static int
fwg_key_check_public(EVP_PKEY *pkey)
{
    int            rc;
    EVP_PKEY_CTX  *ctx;

    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    if (ctx == NULL) {
        return 0;
    }

    rc = EVP_PKEY_public_check(ctx);
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

    OPENSSL_cleanse(block, sizeof(block));
    OPENSSL_cleanse(ipad, sizeof(ipad));
    OPENSSL_cleanse(opad, sizeof(opad));

    return 0;
}


static void
fwg_hmac_resume(const uint32_t *hin, const uint32_t *hout, const char *data,
    size_t len, unsigned char *out)
{
    unsigned char   inner[FWG_SHA256_LEN];

    fwg_sha256_resume(hin, data, len, inner);
    fwg_sha256_resume(hout, inner, sizeof(inner), out);

    OPENSSL_cleanse(inner, sizeof(inner));
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
    OPENSSL_cleanse(mac, sizeof(mac));

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
    OPENSSL_cleanse(raw, sizeof(raw));

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
    OPENSSL_cleanse(raw, n);

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


/* raw r||s (section 3.3.4) to DER for OpenSSL */
static int
fwg_key_ecdsa_to_der(const unsigned char *sig, unsigned char **der,
    int *derlen)
{
    BIGNUM     *r, *s;
    ECDSA_SIG  *es;

    es = ECDSA_SIG_new();
    r = BN_bin2bn(sig, FWG_P256_COORD, NULL);
    s = BN_bin2bn(sig + FWG_P256_COORD, FWG_P256_COORD, NULL);

    if (es == NULL || r == NULL || s == NULL || !ECDSA_SIG_set0(es, r, s)) {
        ECDSA_SIG_free(es);
        BN_free(r);
        BN_free(s);
        return -1;
    }

    *der = NULL;
    *derlen = i2d_ECDSA_SIG(es, der);
    ECDSA_SIG_free(es);

    return *derlen > 0 ? 0 : -1;
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


int
fwg_sig_verify(const fwg_key_t *k, const char *base, size_t len,
    const unsigned char *sig, size_t siglen)
{
    int             rc, derlen;
    size_t          maclen;
    EVP_MD_CTX     *md;
    const EVP_MD   *digest;
    unsigned char  *der, mac[32];

    if (k == NULL || sig == NULL || base == NULL) {
        return -1;
    }

    der = NULL;
    derlen = 0;

    switch (k->alg) {

    case FWG_ALG_HMAC_SHA256:
        if (fwg_key_hmac(k, base, len, mac, &maclen) != 0) {
            return -1;
        }

        if (siglen != sizeof(mac)) {
            return 0;
        }

        rc = fwg_ct_memcmp(mac, sig, sizeof(mac)) == 0;
        OPENSSL_cleanse(mac, sizeof(mac));
        return rc;

    case FWG_ALG_ED25519:
        if (siglen != 64) {
            return 0;
        }

        digest = NULL;
        break;

    case FWG_ALG_ECDSA_P256_SHA256:
        if (siglen != 2 * FWG_P256_COORD) {
            return 0;
        }

        if (fwg_key_ecdsa_to_der(sig, &der, &derlen) != 0) {
            return -1;
        }

        sig = der;
        siglen = (size_t) derlen;
        digest = EVP_sha256();
        break;

    default:
        return -1;
    }

    rc = fwg_key_verify_fast((fwg_key_t *) k, base, len, sig, siglen);

    if (rc != -2) {
        OPENSSL_free(der);
        return rc;
    }

    /* the general path, when a kept context cannot be had */

    md = EVP_MD_CTX_new();
    if (md == NULL) {
        OPENSSL_free(der);
        return -1;
    }

    rc = -1;

    if (EVP_DigestVerifyInit(md, NULL, digest, NULL, k->pkey) == 1) {
        rc = EVP_DigestVerify(md, sig, siglen,
                              (const unsigned char *) base, len);
        rc = (rc == 1) ? 1 : 0;
    }

    EVP_MD_CTX_free(md);
    OPENSSL_free(der);

    return rc;
}


/*
 * Verification with the contexts kept in the key: 1 valid, 0 invalid,
 * -2 when no kept context can be made (the caller then takes the general
 * path).  sig is DER for P-256 here.
 */

static int
fwg_key_verify_fast(fwg_key_t *k, const char *base, size_t len,
    const unsigned char *sig, size_t siglen)
{
    int             rc;
    unsigned int    dlen;
    EVP_MD_CTX     *md;
    unsigned char   digest[EVP_MAX_MD_SIZE];

    if (k->alg == FWG_ALG_ECDSA_P256_SHA256) {

        if (k->vctx == NULL) {
            k->vctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);

            if (k->vctx == NULL || EVP_PKEY_verify_init(k->vctx) != 1) {
                EVP_PKEY_CTX_free(k->vctx);
                k->vctx = NULL;
                return -2;
            }
        }

        if (EVP_Digest(base, len, digest, &dlen, EVP_sha256(), NULL) != 1) {
            return -1;
        }

        rc = EVP_PKEY_verify(k->vctx, sig, siglen, digest, dlen);

        return rc == 1 ? 1 : 0;
    }

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
