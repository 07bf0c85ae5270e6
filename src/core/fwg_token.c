/*
 * Download tokens: mint and verify (fwg_token.h, docs/security.md).
 *
 * Verification order: the wire shape and sizes, the payload's version
 * and secret id, the MAC (constant time), then every field, then the
 * expiry.  A token whose MAC fails is `token_invalid` whatever its
 * fields; fields are parsed only from bytes the edge itself signed, yet
 * parsed as strictly as if they were not.
 */

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "fwg_token.h"
#include "fwg_semver.h"


static const char  fwg_b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";


size_t
fwg_b64url_encode(char *dst, const unsigned char *src, size_t len)
{
    size_t    i;
    char     *p;
    uint32_t  v;

    p = dst;

    for (i = 0; i + 2 < len; i += 3) {
        v = ((uint32_t) src[i] << 16) | ((uint32_t) src[i + 1] << 8)
            | src[i + 2];
        *p++ = fwg_b64url_alphabet[(v >> 18) & 63];
        *p++ = fwg_b64url_alphabet[(v >> 12) & 63];
        *p++ = fwg_b64url_alphabet[(v >> 6) & 63];
        *p++ = fwg_b64url_alphabet[v & 63];
    }

    if (len - i == 1) {
        v = (uint32_t) src[i] << 16;
        *p++ = fwg_b64url_alphabet[(v >> 18) & 63];
        *p++ = fwg_b64url_alphabet[(v >> 12) & 63];

    } else if (len - i == 2) {
        v = ((uint32_t) src[i] << 16) | ((uint32_t) src[i + 1] << 8);
        *p++ = fwg_b64url_alphabet[(v >> 18) & 63];
        *p++ = fwg_b64url_alphabet[(v >> 12) & 63];
        *p++ = fwg_b64url_alphabet[(v >> 6) & 63];
    }

    return (size_t) (p - dst);
}


static int
fwg_b64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }

    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }

    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }

    if (c == '-') {
        return 62;
    }

    if (c == '_') {
        return 63;
    }

    return -1;
}


int
fwg_b64url_decode(unsigned char *dst, size_t dstsize, size_t *outlen,
    const char *src, size_t len)
{
    int       d;
    size_t    i, n, rem;
    uint32_t  v;

    rem = len % 4;

    if (rem == 1) {
        return -1;
    }

    n = (len / 4) * 3 + (rem ? rem - 1 : 0);

    if (n > dstsize) {
        return -1;
    }

    n = 0;
    v = 0;

    for (i = 0; i < len; i++) {
        d = fwg_b64url_value((unsigned char) src[i]);
        if (d < 0) {
            return -1;
        }

        v = (v << 6) | (uint32_t) d;

        if (i % 4 == 3) {
            dst[n++] = (unsigned char) (v >> 16);
            dst[n++] = (unsigned char) (v >> 8);
            dst[n++] = (unsigned char) v;
            v = 0;
        }
    }

    /* the tail: its unused low bits must be zero (one encoding only) */

    if (rem == 2) {
        if (v & 0xf) {
            return -1;
        }

        dst[n++] = (unsigned char) (v >> 4);

    } else if (rem == 3) {
        if (v & 0x3) {
            return -1;
        }

        dst[n++] = (unsigned char) (v >> 10);
        dst[n++] = (unsigned char) (v >> 2);
    }

    *outlen = n;

    return 0;
}


int
fwg_token_secret_init(fwg_token_secret_t *s, const unsigned char *secret,
    size_t len)
{
    int             ok;
    size_t          i;
    EVP_MD         *md;
    EVP_MD_CTX     *hin, *hout, *hwork;
    unsigned int    n;
    unsigned char   block[64], ipad[64], opad[64], id[32];

    memset(s, 0, sizeof(*s));

    if (len < FWG_TOKEN_SECRET_MIN || len > FWG_TOKEN_SECRET_MAX) {
        return -1;
    }

    md = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (md == NULL) {
        return -1;
    }

    hin = EVP_MD_CTX_new();
    hout = EVP_MD_CTX_new();
    hwork = EVP_MD_CTX_new();

    memset(block, 0, sizeof(block));

    /* the id: which secret minted a token, never the secret itself */

    ok = EVP_Digest(secret, len, id, &n, md, NULL) == 1 && n == 32;

    /* a key longer than the block is its digest (RFC 2104 section 2) */

    if (ok && len > sizeof(block)) {
        memcpy(block, id, 32);

    } else if (ok) {
        memcpy(block, secret, len);
    }

    for (i = 0; i < sizeof(block); i++) {
        ipad[i] = block[i] ^ 0x36;
        opad[i] = block[i] ^ 0x5c;
    }

    ok = ok && hin != NULL && hout != NULL && hwork != NULL
         && EVP_DigestInit_ex2(hin, md, NULL) == 1
         && EVP_DigestUpdate(hin, ipad, sizeof(ipad)) == 1
         && EVP_DigestInit_ex2(hout, md, NULL) == 1
         && EVP_DigestUpdate(hout, opad, sizeof(opad)) == 1;

    OPENSSL_cleanse(block, sizeof(block));
    OPENSSL_cleanse(ipad, sizeof(ipad));
    OPENSSL_cleanse(opad, sizeof(opad));
    EVP_MD_free(md);

    if (!ok) {
        EVP_MD_CTX_free(hin);
        EVP_MD_CTX_free(hout);
        EVP_MD_CTX_free(hwork);
        return -1;
    }

    for (i = 0; i < 4; i++) {
        s->id[2 * i] = "0123456789abcdef"[id[i] >> 4];
        s->id[2 * i + 1] = "0123456789abcdef"[id[i] & 0xf];
    }

    s->id[8] = '\0';
    s->hin = hin;
    s->hout = hout;
    s->hwork = hwork;

    return 0;
}


void
fwg_token_secret_free(fwg_token_secret_t *s)
{
    EVP_MD_CTX_free(s->hin);
    EVP_MD_CTX_free(s->hout);
    EVP_MD_CTX_free(s->hwork);
    memset(s, 0, sizeof(*s));
}


static int
fwg_token_mac(const fwg_token_secret_t *s, const char *data, size_t len,
    unsigned char *out)
{
    int             ok;
    unsigned int    n, m;
    unsigned char   inner[32];

    if (s->hin == NULL) {
        return -1;
    }

    n = 0;
    m = 0;

    ok = EVP_MD_CTX_copy_ex(s->hwork, s->hin) == 1
         && EVP_DigestUpdate(s->hwork, data, len) == 1
         && EVP_DigestFinal_ex(s->hwork, inner, &n) == 1
         && n == sizeof(inner)
         && EVP_MD_CTX_copy_ex(s->hwork, s->hout) == 1
         && EVP_DigestUpdate(s->hwork, inner, sizeof(inner)) == 1
         && EVP_DigestFinal_ex(s->hwork, out, &m) == 1
         && m == FWG_TOKEN_MAC_LEN;

    return ok ? 0 : -1;
}


/* a device id or artifact name: printable ASCII, no '|' */
static int
fwg_token_name_valid(fwg_str_t s, size_t max, int space)
{
    size_t  i;

    if (s.len == 0 || s.len > max || s.data == NULL) {
        return 0;
    }

    for (i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char) s.data[i];

        if (c > 0x7e || c < 0x20 || c == '|' || (c == ' ' && !space)) {
            return 0;
        }
    }

    return 1;
}


static int
fwg_token_claims_valid(const fwg_token_t *t)
{
    fwg_semver_t  v;

    if (t->exp <= 0 || t->exp > 999999999999LL) {
        return 0;
    }

    /* a keyid is an sf-string, which may hold spaces; names may not */

    if (!fwg_token_name_valid(t->device, FWG_TOKEN_MAX_DEVICE, 1)
        || !fwg_token_name_valid(t->artifact, FWG_TOKEN_MAX_ARTIFACT, 0)
        || !fwg_model_valid(t->model)
        || (t->hw.len && !fwg_model_valid(t->hw)))
    {
        return 0;
    }

    if (t->version.data == NULL
        || fwg_semver_parse(&v, t->version.data, t->version.len) != 0)
    {
        return 0;
    }

    return 1;
}


static char *
fwg_token_put(char *p, char *end, fwg_str_t s)
{
    if (p == NULL || (size_t) (end - p) < s.len + 1) {
        return NULL;
    }

    if (s.len) {
        memcpy(p, s.data, s.len);
    }

    p += s.len;
    *p++ = '|';

    return p;
}


int
fwg_token_mint(const fwg_token_secret_t *s, const fwg_token_t *t,
    char *out, size_t outsize, size_t *outlen)
{
    int             n;
    char           *p, *end;
    size_t          plen, need;
    fwg_str_t       f;
    char            payload[FWG_TOKEN_MAX_PAYLOAD + 1];
    char            exp[24];
    unsigned char   mac[FWG_TOKEN_MAC_LEN];

    if (s == NULL || s->hin == NULL || !fwg_token_claims_valid(t)) {
        return -1;
    }

    p = payload;
    end = payload + sizeof(payload);

    f.data = "1";
    f.len = 1;
    p = fwg_token_put(p, end, f);

    f.data = s->id;
    f.len = 8;
    p = fwg_token_put(p, end, f);

    n = 0;
    for (int64_t e = t->exp; e > 0; e /= 10) {
        exp[sizeof(exp) - 1 - n++] = (char) ('0' + e % 10);
    }

    f.data = exp + sizeof(exp) - n;
    f.len = (size_t) n;
    p = fwg_token_put(p, end, f);

    p = fwg_token_put(p, end, t->device);
    p = fwg_token_put(p, end, t->model);
    p = fwg_token_put(p, end, t->hw);
    p = fwg_token_put(p, end, t->version);
    p = fwg_token_put(p, end, t->artifact);

    if (p == NULL) {
        return -1;
    }

    plen = (size_t) (p - payload) - 1;      /* no '|' after the last */

    if (plen > FWG_TOKEN_MAX_PAYLOAD) {
        return -1;
    }

    need = fwg_b64url_enc_len(plen) + 1 + fwg_b64url_enc_len(sizeof(mac));

    if (need > outsize || fwg_token_mac(s, payload, plen, mac) != 0) {
        return -1;
    }

    p = out;
    p += fwg_b64url_encode(p, (unsigned char *) payload, plen);
    *p++ = '.';
    p += fwg_b64url_encode(p, mac, sizeof(mac));

    *outlen = (size_t) (p - out);

    OPENSSL_cleanse(mac, sizeof(mac));

    return 0;
}


/* the next '|'-separated field of [*p, end); -1 when there is none */
static int
fwg_token_field(const char **p, const char *end, int last, fwg_str_t *f)
{
    const char  *q;

    if (*p == NULL || *p > end) {
        return -1;
    }

    q = memchr(*p, '|', (size_t) (end - *p));

    if (last) {
        if (q != NULL) {
            return -1;
        }

        q = end;

    } else if (q == NULL) {
        return -1;
    }

    f->data = *p;
    f->len = (size_t) (q - *p);
    *p = q + 1;

    return 0;
}


#define fwg_token_fail(r, why)                                               \
    do {                                                                      \
        if (detail) {                                                         \
            *detail = (why);                                                  \
        }                                                                     \
        return (r);                                                           \
    } while (0)


fwg_reason_t
fwg_token_verify(const fwg_token_secret_t *secrets, size_t n,
    const char *tok, size_t len, int64_t now, char *buf, size_t bufsize,
    fwg_token_t *out, const char **detail)
{
    size_t          i, plen, mlen;
    int64_t         exp;
    fwg_str_t       f;
    const char     *dot, *p, *end;
    unsigned char   mac[FWG_TOKEN_MAC_LEN + 3];
    unsigned char   want[FWG_TOKEN_MAC_LEN];

    memset(out, 0, sizeof(*out));
    out->secret = -1;

    if (tok == NULL || len == 0) {
        fwg_token_fail(FWG_R_TOKEN_MALFORMED, "empty token");
    }

    if (len > FWG_TOKEN_MAX_LEN) {
        fwg_token_fail(FWG_R_TOKEN_MALFORMED, "token too long");
    }

    if (buf == NULL || bufsize < FWG_TOKEN_MAX_PAYLOAD) {
        fwg_token_fail(FWG_R_TOKEN_MALFORMED, "no room");
    }

    dot = memchr(tok, '.', len);

    if (dot == NULL || dot == tok) {
        fwg_token_fail(FWG_R_TOKEN_MALFORMED, "no payload.mac form");
    }

    if (fwg_b64url_decode((unsigned char *) buf, FWG_TOKEN_MAX_PAYLOAD, &plen,
                          tok, (size_t) (dot - tok))
        != 0)
    {
        fwg_token_fail(FWG_R_TOKEN_MALFORMED, "payload not base64url");
    }

    if (fwg_b64url_decode(mac, sizeof(mac), &mlen, dot + 1,
                          len - (size_t) (dot - tok) - 1)
        != 0
        || mlen != FWG_TOKEN_MAC_LEN)
    {
        fwg_token_fail(FWG_R_TOKEN_MALFORMED, "mac not 32 bytes base64url");
    }

    /* "1|" and the secret id pick the key */

    if (plen < 11 || buf[0] != '1' || buf[1] != '|' || buf[10] != '|') {
        fwg_token_fail(FWG_R_TOKEN_MALFORMED, "unknown token version");
    }

    for (i = 0; i < n; i++) {
        if (secrets[i].hin != NULL && memcmp(secrets[i].id, buf + 2, 8) == 0)
        {
            break;
        }
    }

    if (i == n) {
        fwg_token_fail(FWG_R_TOKEN_INVALID, "unknown secret");
    }

    if (fwg_token_mac(&secrets[i], buf, plen, want) != 0) {
        fwg_token_fail(FWG_R_TOKEN_INVALID, "mac error");
    }

    if (CRYPTO_memcmp(want, mac, FWG_TOKEN_MAC_LEN) != 0) {
        fwg_token_fail(FWG_R_TOKEN_INVALID, "mac does not verify");
    }

    out->secret = (int) i;
    memcpy(out->mac, mac, FWG_TOKEN_MAC_LEN);

    /* the fields, as strictly as if no MAC covered them */

    p = buf + 11;
    end = buf + plen;

    if (fwg_token_field(&p, end, 0, &f) != 0
        || f.len == 0 || f.len > 12 || f.data[0] == '0')
    {
        fwg_token_fail(FWG_R_TOKEN_MALFORMED, "bad expiry");
    }

    exp = 0;

    for (i = 0; i < f.len; i++) {
        if (f.data[i] < '0' || f.data[i] > '9') {
            fwg_token_fail(FWG_R_TOKEN_MALFORMED, "bad expiry");
        }

        exp = exp * 10 + (f.data[i] - '0');
    }

    out->exp = exp;

    if (fwg_token_field(&p, end, 0, &out->device) != 0
        || fwg_token_field(&p, end, 0, &out->model) != 0
        || fwg_token_field(&p, end, 0, &out->hw) != 0
        || fwg_token_field(&p, end, 0, &out->version) != 0
        || fwg_token_field(&p, end, 1, &out->artifact) != 0)
    {
        fwg_token_fail(FWG_R_TOKEN_MALFORMED, "fields missing");
    }

    if (!fwg_token_claims_valid(out)) {
        fwg_token_fail(FWG_R_TOKEN_MALFORMED, "a field is invalid");
    }

    if (now >= exp) {
        fwg_token_fail(FWG_R_TOKEN_EXPIRED, "token expired");
    }

    if (detail) {
        *detail = "token verifies";
    }

    return FWG_R_OK;
}
