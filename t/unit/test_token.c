/*
 * Download tokens (fwg_token.c): base64url, mint and verify, every field
 * altered (with the old MAC: invalid; re-MACed with OpenSSL's own HMAC:
 * the strict field checks), every one-character change and truncation,
 * oversized input, wrong secret, the second (rotation) secret, expiry.
 */

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "unit.h"
#include "fwg_token.h"


static const unsigned char  secret_a[] =
    "0123456789abcdef0123456789abcdef-secret-A";
static const unsigned char  secret_b[] =
    "fedcba9876543210fedcba9876543210-secret-B";


static void
claims(fwg_token_t *t)
{
    memset(t, 0, sizeof(*t));
    t->exp = 1800000000;
    t->device.data = "LS6-000123";
    t->device.len = 10;
    t->model.data = "LS-6000i";
    t->model.len = 8;
    t->hw.data = "rev2";
    t->hw.len = 4;
    t->version.data = "2.4.1";
    t->version.len = 5;
    t->artifact.data = "ls6000i-2.5.0.bin";
    t->artifact.len = 17;
}


/* a token for any payload text, MACed as the edge would (OpenSSL HMAC) */
static size_t
forge(const unsigned char *secret, size_t slen, const char *payload,
    char *out)
{
    char           *p;
    unsigned int    n;
    unsigned char   mac[32];

    HMAC(EVP_sha256(), secret, (int) slen, (const unsigned char *) payload,
         strlen(payload), mac, &n);

    p = out;
    p += fwg_b64url_encode(p, (const unsigned char *) payload,
                           strlen(payload));
    *p++ = '.';
    p += fwg_b64url_encode(p, mac, 32);
    *p = '\0';

    return (size_t) (p - out);
}


static fwg_reason_t
verify(const fwg_token_secret_t *s, size_t n, const char *tok, size_t len,
    int64_t now, fwg_token_t *t)
{
    static char  buf[FWG_TOKEN_MAX_PAYLOAD];

    return fwg_token_verify(s, n, tok, len, now, buf, sizeof(buf), t, NULL);
}


static void
test_b64url(void)
{
    size_t          n, i, len;
    unsigned char   in[64], out[64];
    char            enc[128];

    for (i = 0; i < sizeof(in); i++) {
        in[i] = (unsigned char) (i * 37 + 11);
    }

    for (len = 0; len <= sizeof(in); len++) {
        n = fwg_b64url_encode(enc, in, len);
        FWG_CHECK_EQ_INT(n, fwg_b64url_enc_len(len));
        FWG_CHECK(memchr(enc, '=', n) == NULL);
        FWG_CHECK(memchr(enc, '+', n) == NULL);
        FWG_CHECK(memchr(enc, '/', n) == NULL);
        FWG_CHECK(fwg_b64url_decode(out, sizeof(out), &i, enc, n) == 0
                  && i == len && memcmp(in, out, len) == 0);
    }

    FWG_CHECK(fwg_b64url_decode(out, sizeof(out), &n, "A", 1) == -1);
    FWG_CHECK(fwg_b64url_decode(out, sizeof(out), &n, "AA==", 4) == -1);
    FWG_CHECK(fwg_b64url_decode(out, sizeof(out), &n, "AB", 2) == -1);
    FWG_CHECK(fwg_b64url_decode(out, sizeof(out), &n, "AAB", 3) == -1);
    FWG_CHECK(fwg_b64url_decode(out, sizeof(out), &n, "a+bc", 4) == -1);
    FWG_CHECK(fwg_b64url_decode(out, sizeof(out), &n, "-_-_", 4) == 0
              && n == 3);
    FWG_CHECK(fwg_b64url_decode(out, 2, &n, "AAAA", 4) == -1);
}


static void
test_mint_verify(void)
{
    fwg_token_t          t, v;
    fwg_token_secret_t   s[2], w;
    char                 tok[FWG_TOKEN_MAX_LEN], big[FWG_TOKEN_MAX_LEN + 8];
    size_t               len, i;
    fwg_reason_t         r;
    int                  all;
    const char          *detail;
    static char          buf[FWG_TOKEN_MAX_PAYLOAD];

    FWG_CHECK(fwg_token_secret_init(&s[0], secret_a, sizeof(secret_a) - 1)
              == 0);
    FWG_CHECK(fwg_token_secret_init(&s[1], secret_b, sizeof(secret_b) - 1)
              == 0);
    FWG_CHECK(strcmp(s[0].id, s[1].id) != 0 && strlen(s[0].id) == 8);

    /* secrets shorter than 32 bytes are refused */
    FWG_CHECK(fwg_token_secret_init(&w, secret_a, 31) == -1);
    FWG_CHECK(fwg_token_secret_init(&w, secret_a, 32) == 0);
    fwg_token_secret_free(&w);

    claims(&t);
    FWG_CHECK(fwg_token_mint(&s[0], &t, tok, sizeof(tok), &len) == 0);
    FWG_CHECK(len < sizeof(tok) && memchr(tok, '.', len) != NULL);

    detail = NULL;
    r = fwg_token_verify(s, 2, tok, len, 1700000000, buf, sizeof(buf), &v,
                         &detail);
    FWG_CHECK_EQ_INT(r, FWG_R_OK);
    FWG_CHECK_EQ_INT(v.exp, 1800000000);
    FWG_CHECK_EQ_INT(v.secret, 0);
    FWG_CHECK_STR(v.device, "LS6-000123");
    FWG_CHECK_STR(v.model, "LS-6000i");
    FWG_CHECK_STR(v.hw, "rev2");
    FWG_CHECK_STR(v.version, "2.4.1");
    FWG_CHECK_STR(v.artifact, "ls6000i-2.5.0.bin");
    FWG_CHECK(detail != NULL);

    /* expiry: valid until exp, expired from exp on */
    FWG_CHECK_EQ_INT(verify(s, 2, tok, len, 1799999999, &v), FWG_R_OK);
    FWG_CHECK_EQ_INT(verify(s, 2, tok, len, 1800000000, &v),
                     FWG_R_TOKEN_EXPIRED);

    /* the second secret verifies (rotation); either order */
    FWG_CHECK(fwg_token_mint(&s[1], &t, tok, sizeof(tok), &len) == 0);
    FWG_CHECK_EQ_INT(verify(s, 2, tok, len, 1700000000, &v), FWG_R_OK);
    FWG_CHECK_EQ_INT(v.secret, 1);

    /* wrong secret: unknown id */
    FWG_CHECK_EQ_INT(verify(s, 1, tok, len, 1700000000, &v),
                     FWG_R_TOKEN_INVALID);

    /* no hw */
    t.hw.len = 0;
    FWG_CHECK(fwg_token_mint(&s[0], &t, tok, sizeof(tok), &len) == 0);
    FWG_CHECK_EQ_INT(verify(s, 2, tok, len, 1700000000, &v), FWG_R_OK);
    FWG_CHECK_EQ_INT(v.hw.len, 0);
    claims(&t);

    /* every one-character change and every truncation fails */
    FWG_CHECK(fwg_token_mint(&s[0], &t, tok, sizeof(tok), &len) == 0);
    all = 1;

    for (i = 0; i < len; i++) {
        char  c = tok[i];

        tok[i] = (c == 'A') ? 'B' : 'A';
        if (verify(s, 2, tok, len, 1700000000, &v) == FWG_R_OK) {
            all = 0;
            printf("one char at %zu changed still verifies\n", i);
        }
        tok[i] = c;

        if (verify(s, 2, tok, i, 1700000000, &v) == FWG_R_OK) {
            all = 0;
            printf("truncated to %zu still verifies\n", i);
        }
    }

    FWG_CHECK(all);
    FWG_CHECK_EQ_INT(verify(s, 2, tok, len, 1700000000, &v), FWG_R_OK);
    FWG_CHECK_EQ_INT(verify(s, 2, tok, 0, 1700000000, &v),
                     FWG_R_TOKEN_MALFORMED);

    /* oversized */
    memset(big, 'A', sizeof(big));
    big[100] = '.';
    FWG_CHECK_EQ_INT(verify(s, 2, big, sizeof(big), 1700000000, &v),
                     FWG_R_TOKEN_MALFORMED);

    /* mint refuses claims it could not carry */
    t.device.data = "a|b";
    t.device.len = 3;
    FWG_CHECK(fwg_token_mint(&s[0], &t, tok, sizeof(tok), &len) == -1);
    claims(&t);
    t.artifact.data = "x|y.bin";
    t.artifact.len = 7;
    FWG_CHECK(fwg_token_mint(&s[0], &t, tok, sizeof(tok), &len) == -1);
    claims(&t);
    t.version.data = "2.4";
    t.version.len = 3;
    FWG_CHECK(fwg_token_mint(&s[0], &t, tok, sizeof(tok), &len) == -1);
    claims(&t);
    t.model.data = "LS 6000";
    t.model.len = 7;
    FWG_CHECK(fwg_token_mint(&s[0], &t, tok, sizeof(tok), &len) == -1);
    claims(&t);
    FWG_CHECK(fwg_token_mint(&s[0], &t, tok, 50, &len) == -1);

    fwg_token_secret_free(&s[0]);
    fwg_token_secret_free(&s[1]);
}


/* each field of a good payload altered: the old MAC no longer verifies */
static void
test_fields(void)
{
    fwg_token_t          v;
    fwg_token_secret_t   s;
    char                 tok[4096], payload[2048], good[512], mac[64];
    size_t               len, i, k, mlen;
    const char          *dot;

    static const char  *alter[][2] = {
        { "1|",             "2|" },
        { "|1800000000|",   "|1800000001|" },
        { "|LS6-000123|",   "|LS6-000124|" },
        { "|LS-6000i|",     "|LS-7000i|" },
        { "|rev2|",         "|rev3|" },
        { "|2.4.1|",        "|2.4.0|" },
        { "|ls6000i-2.5.0.bin", "|ls7000i-2.5.0.bin" }
    };

    /* bad fields MACed correctly: the strict parser still refuses */
    static const char  *bad[] = {
        "1|%s|0|LS6-000123|LS-6000i|rev2|2.4.1|a.bin",
        "1|%s|01800000000|LS6-000123|LS-6000i|rev2|2.4.1|a.bin",
        "1|%s|18x0000000|LS6-000123|LS-6000i|rev2|2.4.1|a.bin",
        "1|%s|1800000000000|LS6-000123|LS-6000i|rev2|2.4.1|a.bin",
        "1|%s||LS6-000123|LS-6000i|rev2|2.4.1|a.bin",
        "1|%s|1800000000||LS-6000i|rev2|2.4.1|a.bin",
        "1|%s|1800000000|LS6-000123||rev2|2.4.1|a.bin",
        "1|%s|1800000000|LS6-000123|LS 6000i|rev2|2.4.1|a.bin",
        "1|%s|1800000000|LS6-000123|LS-6000i|r%%v|2.4.1|a.bin",
        "1|%s|1800000000|LS6-000123|LS-6000i|rev2|2.4|a.bin",
        "1|%s|1800000000|LS6-000123|LS-6000i|rev2|2.4.1|",
        "1|%s|1800000000|LS6-000123|LS-6000i|rev2|2.4.1|a b",
        "1|%s|1800000000|LS6-000123|LS-6000i|rev2|2.4.1|a.bin|x",
        "1|%s|1800000000|LS6-000123|LS-6000i|rev2|2.4.1",
        "1|%s|1800000000|LS6-\x01|LS-6000i|rev2|2.4.1|a.bin",
        "1|%s|1800000000",
        "1|%s|",
        "1|%s"
    };

    FWG_CHECK(fwg_token_secret_init(&s, secret_a, sizeof(secret_a) - 1)
              == 0);

    snprintf(good, sizeof(good),
             "1|%s|1800000000|LS6-000123|LS-6000i|rev2|2.4.1|"
             "ls6000i-2.5.0.bin", s.id);

    len = forge(secret_a, sizeof(secret_a) - 1, good, tok);
    FWG_CHECK_EQ_INT(verify(&s, 1, tok, len, 1700000000, &v), FWG_R_OK);

    dot = strchr(tok, '.');
    mlen = strlen(dot);
    memcpy(mac, dot, mlen + 1);

    for (i = 0; i < sizeof(alter) / sizeof(alter[0]); i++) {
        char  *at;

        strcpy(payload, good);
        at = strstr(payload, alter[i][0]);
        FWG_CHECK(at != NULL);
        memcpy(at, alter[i][1], strlen(alter[i][1]));

        k = fwg_b64url_encode(tok, (unsigned char *) payload,
                              strlen(payload));
        memcpy(tok + k, mac, mlen + 1);

        FWG_CHECK_MSG(verify(&s, 1, tok, k + mlen, 1700000000, &v)
                      != FWG_R_OK, "altered field %zu verifies", i);
    }

    /* a token of one secret with another secret's id: invalid */
    snprintf(payload, sizeof(payload),
             "1|%s|1800000000|LS6-000123|LS-6000i|rev2|2.4.1|a.bin", s.id);
    len = forge(secret_b, sizeof(secret_b) - 1, payload, tok);
    FWG_CHECK_EQ_INT(verify(&s, 1, tok, len, 1700000000, &v),
                     FWG_R_TOKEN_INVALID);

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(payload, sizeof(payload), bad[i], s.id);
        len = forge(secret_a, sizeof(secret_a) - 1, payload, tok);
        FWG_CHECK_MSG(verify(&s, 1, tok, len, 1700000000, &v)
                      == FWG_R_TOKEN_MALFORMED, "bad payload %zu: %s", i,
                      payload);
    }

    /* a payload over the limit, even MACed */
    memset(payload, 'a', 1100);
    snprintf(payload, 40, "1|%s|1800000000|d|M|", s.id);
    payload[strlen(payload)] = 'a';
    payload[1100] = '\0';
    len = forge(secret_a, sizeof(secret_a) - 1, payload, tok);
    FWG_CHECK_EQ_INT(verify(&s, 1, tok, len, 1700000000, &v),
                     FWG_R_TOKEN_MALFORMED);

    /* garbage */
    FWG_CHECK_EQ_INT(verify(&s, 1, "garbage", 7, 1700000000, &v),
                     FWG_R_TOKEN_MALFORMED);
    FWG_CHECK_EQ_INT(verify(&s, 1, ".", 1, 1700000000, &v),
                     FWG_R_TOKEN_MALFORMED);
    FWG_CHECK_EQ_INT(verify(&s, 1, "AAAA.", 5, 1700000000, &v),
                     FWG_R_TOKEN_MALFORMED);
    FWG_CHECK_EQ_INT(verify(&s, 1, "a.b.c", 5, 1700000000, &v),
                     FWG_R_TOKEN_MALFORMED);

    fwg_token_secret_free(&s);
}


void
suite_token(void)
{
    unit_suite("token");

    test_b64url();
    test_mint_verify();
    test_fields();
}
