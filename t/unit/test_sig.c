/*
 * RFC 9421 signature base and keys: the RFC's own examples (sections 2.1,
 * 2.2, Appendix B.2.1, B.2.5, B.2.6), tampering, and hostile input.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "fwg_sig.h"
#include "fwg_b64.h"


#define ARENA_SIZE  (256 * 1024)

static char         arena_buf[ARENA_SIZE];
static fwg_arena_t  arena;


/* Appendix B.1.4 and B.1.5 */
#define ED25519_PUB_B64  "JrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs="
#define SHARED_SECRET_B64                                                     \
    "uzvJfB4u3N0Jy4T7NZ75MDVcr8zSTInedJtkgcu46YW4XByzNJjxBdtjUkdJPBtbmHhIDi6" \
    "pcl8jsasjlTMtDQ=="

#define B26_INPUT                                                             \
    "sig-b26=(\"date\" \"@method\" \"@path\" \"@authority\" "                 \
    "\"content-type\" \"content-length\");created=1618884473;"                \
    "keyid=\"test-key-ed25519\""
#define B26_SIG                                                               \
    "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUP" \
    "iu4A0w6vuQv5lIp5WPpBKRCw==:"
#define B26_BASE                                                              \
    "\"date\": Tue, 20 Apr 2021 02:07:55 GMT\n"                               \
    "\"@method\": POST\n"                                                     \
    "\"@path\": /foo\n"                                                       \
    "\"@authority\": example.com\n"                                           \
    "\"content-type\": application/json\n"                                    \
    "\"content-length\": 18\n"                                                \
    "\"@signature-params\": (\"date\" \"@method\" \"@path\" \"@authority\" "  \
    "\"content-type\" \"content-length\");created=1618884473;"                \
    "keyid=\"test-key-ed25519\""

#define B25_INPUT                                                             \
    "sig-b25=(\"date\" \"@authority\" \"content-type\");created=1618884473;"  \
    "keyid=\"test-shared-secret\""
#define B25_SIG  "sig-b25=:pxcQw6G3AjtMBQjwo8XzkZf/bws5LelbaMk5rGIGtE8=:"
#define B25_BASE                                                              \
    "\"date\": Tue, 20 Apr 2021 02:07:55 GMT\n"                               \
    "\"@authority\": example.com\n"                                           \
    "\"content-type\": application/json\n"                                    \
    "\"@signature-params\": (\"date\" \"@authority\" \"content-type\");"      \
    "created=1618884473;keyid=\"test-shared-secret\""

#define B21_INPUT                                                             \
    "sig-b21=();created=1618884473;keyid=\"test-key-rsa-pss\";"               \
    "nonce=\"b3k2pp5k7z-50gnwp.yemd\""
#define B21_BASE                                                              \
    "\"@signature-params\": ();created=1618884473;"                           \
    "keyid=\"test-key-rsa-pss\";nonce=\"b3k2pp5k7z-50gnwp.yemd\""


typedef struct {
    fwg_field_t   f[64];
    size_t        n;
    fwg_msg_t     msg;
} req_t;


static fwg_str_t
cs(const char *s)
{
    fwg_str_t  r;

    r.data = s;
    r.len = s ? strlen(s) : 0;

    return r;
}


static void
reset(void)
{
    fwg_arena_init(&arena, arena_buf, sizeof(arena_buf));
}


static void
req_init(req_t *r, const char *method, const char *scheme,
    const char *authority, const char *path, const char *query)
{
    memset(r, 0, sizeof(*r));
    r->msg.method = cs(method);
    r->msg.scheme = cs(scheme);
    r->msg.authority = cs(authority);
    r->msg.path = cs(path);
    r->msg.query = cs(query);
    r->msg.has_query = query != NULL;
    r->msg.fields = r->f;
}


static void
req_add(req_t *r, const char *name, const char *value)
{
    if (r->n < sizeof(r->f) / sizeof(r->f[0])) {
        r->f[r->n].name = cs(name);
        r->f[r->n].value = cs(value);
        r->n++;
    }

    r->msg.nfields = r->n;
}


/* Appendix B.2's test-request, with its Host as @authority */
static void
req_b2(req_t *r)
{
    req_init(r, "POST", "https", "example.com", "/foo",
             "param=Value&Pet=dog");
    req_add(r, "Host", "example.com");
    req_add(r, "Date", "Tue, 20 Apr 2021 02:07:55 GMT");
    req_add(r, "Content-Type", "application/json");
    req_add(r, "Content-Digest", "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF4"
            "1A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:");
    req_add(r, "Content-Length", "18");
}


/* parses, builds the base and verifies with k: 1, 0, or a negative rc */
static int
check_sig(req_t *r, const char *label, fwg_key_t *k, fwg_str_t *base)
{
    int               rc;
    const char       *err;
    fwg_sig_input_t   in;

    reset();

    rc = fwg_sig_parse(&r->msg, cs(label), &arena, &in, &err);
    if (rc != FWG_SIG_OK) {
        return rc;
    }

    rc = fwg_sig_base(&r->msg, &in, &arena, base, &err);
    if (rc != FWG_SIG_OK) {
        return rc;
    }

    return fwg_sig_verify(k, base->data, base->len, in.sig, in.siglen);
}


/* the value of one component given as its serialized identifier */
static int
comp(req_t *r, const char *ident, fwg_str_t *value)
{
    const char     *err;
    fwg_sf_item_t   it;

    reset();

    if (fwg_sf_parse_item(ident, strlen(ident), &arena, &it, &err) != 0) {
        return -100;
    }

    return fwg_sig_component(&r->msg, &it, &arena, value, &err);
}


static int
parse_only(req_t *r, const char *label, fwg_sig_input_t *in)
{
    const char  *err;

    reset();

    return fwg_sig_parse(&r->msg, cs(label), &arena, in, &err);
}


static const char *
data_path(const char *name, char *buf, size_t size)
{
    const char  *dir;

    dir = getenv("FWG_TEST_DATA");
    if (dir == NULL) {
        dir = "t/data/rfc9421";
    }

    snprintf(buf, size, "%s/%s", dir, name);

    return buf;
}


static void
test_alg(void)
{
    FWG_CHECK_EQ_INT(fwg_alg_parse("ed25519", 7), FWG_ALG_ED25519);
    FWG_CHECK_EQ_INT(fwg_alg_parse("ecdsa-p256-sha256", 17),
                     FWG_ALG_ECDSA_P256_SHA256);
    FWG_CHECK_EQ_INT(fwg_alg_parse("hmac-sha256", 11), FWG_ALG_HMAC_SHA256);
    FWG_CHECK_EQ_INT(fwg_alg_parse("HMAC-SHA256", 11), FWG_ALG_NONE);
    FWG_CHECK_EQ_INT(fwg_alg_parse("ed2551", 6), FWG_ALG_NONE);
    FWG_CHECK_EQ_INT(fwg_alg_parse("rsa-pss-sha512", 14), FWG_ALG_NONE);
    FWG_CHECK_EQ_INT(fwg_alg_parse(NULL, 0), FWG_ALG_NONE);
    FWG_CHECK_CSTR(fwg_alg_name(FWG_ALG_ED25519), "ed25519");
    FWG_CHECK_CSTR(fwg_alg_name(FWG_ALG_HMAC_SHA256), "hmac-sha256");
    FWG_CHECK_CSTR(fwg_alg_name(FWG_ALG__COUNT), "none");
}


static void
test_b26(void)
{
    req_t            r;
    char             path[512];
    fwg_str_t        base;
    fwg_key_t       *k, *priv;
    const char      *err;
    unsigned char    sig[FWG_SIG_MAX_SIG];
    size_t           siglen;
    fwg_sig_input_t  in;

    k = fwg_key_from_record(FWG_ALG_ED25519, ED25519_PUB_B64,
                            strlen(ED25519_PUB_B64), &err);
    FWG_CHECK(k != NULL);
    if (k == NULL) {
        return;
    }

    FWG_CHECK(!fwg_key_can_sign(k));

    req_b2(&r);
    req_add(&r, "Signature-Input", B26_INPUT);
    req_add(&r, "Signature", B26_SIG);

    FWG_CHECK_EQ_INT(check_sig(&r, "", k, &base), 1);
    FWG_CHECK_STR(base, B26_BASE);
    FWG_CHECK_EQ_INT(check_sig(&r, "sig-b26", k, &base), 1);

    FWG_CHECK_EQ_INT(parse_only(&r, "", &in), FWG_SIG_OK);
    FWG_CHECK_STR(in.label, "sig-b26");
    FWG_CHECK_STR(in.keyid, "test-key-ed25519");
    FWG_CHECK(in.has_created && in.created == 1618884473);
    FWG_CHECK(!in.has_expires);
    FWG_CHECK(in.alg.data == NULL && in.nonce.data == NULL);
    FWG_CHECK_EQ_INT(in.siglen, 64);

    /* one byte of a covered header */
    r.f[1].value = cs("Tue, 20 Apr 2021 02:07:56 GMT");
    FWG_CHECK_EQ_INT(check_sig(&r, "", k, &base), 0);
    r.f[1].value = cs("Tue, 20 Apr 2021 02:07:55 GMT");

    /* the method, the path */
    r.msg.method = cs("PUT");
    FWG_CHECK_EQ_INT(check_sig(&r, "", k, &base), 0);
    r.msg.method = cs("POST");
    r.msg.path = cs("/fop");
    FWG_CHECK_EQ_INT(check_sig(&r, "", k, &base), 0);
    r.msg.path = cs("/foo");

    /* an uncovered header and the query may change */
    r.f[3].value = cs("sha-256=:AAAA:");
    r.msg.query = cs("param=other");
    FWG_CHECK_EQ_INT(check_sig(&r, "", k, &base), 1);

    /* one byte of the signature */
    r.f[6].value = cs("sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQ"
                      "CK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCQ==:");
    FWG_CHECK_EQ_INT(check_sig(&r, "", k, &base), 0);
    r.f[6].value = cs(B26_SIG);

    /* created */
    r.f[5].value = cs("sig-b26=(\"date\" \"@method\" \"@path\" \"@authority\" "
                      "\"content-type\" \"content-length\");"
                      "created=1618884474;keyid=\"test-key-ed25519\"");
    FWG_CHECK_EQ_INT(check_sig(&r, "", k, &base), 0);

    /* a parameter added */
    r.f[5].value = cs(B26_INPUT ";nonce=\"x\"");
    FWG_CHECK_EQ_INT(check_sig(&r, "", k, &base), 0);

    /* whitespace the parser drops does not matter (section 2.3) */
    r.f[5].value = cs("sig-b26=(\"date\"   \"@method\" \"@path\" \"@authority\""
                      " \"content-type\" \"content-length\");"
                      "created=1618884473;keyid=\"test-key-ed25519\"  ");
    FWG_CHECK_EQ_INT(check_sig(&r, "", k, &base), 1);
    r.f[5].value = cs(B26_INPUT);

    /* the same request signed with the private key: Ed25519 is
     * deterministic, so the RFC's signature comes out */
    priv = fwg_key_from_file(FWG_ALG_NONE,
                             data_path("test-key-ed25519.pem", path,
                                       sizeof(path)), &err);
    FWG_CHECK_MSG(priv != NULL, "load %s: %s", path, priv ? "" : err);

    if (priv) {
        FWG_CHECK_EQ_INT(fwg_key_alg(priv), FWG_ALG_ED25519);
        FWG_CHECK(fwg_key_can_sign(priv));
        FWG_CHECK_EQ_INT(fwg_sig_sign(priv, B26_BASE, sizeof(B26_BASE) - 1,
                                      sig, &siglen), 0);
        FWG_CHECK_EQ_INT(siglen, 64);
        reset();
        FWG_CHECK_EQ_INT(parse_only(&r, "", &in), FWG_SIG_OK);
        FWG_CHECK_MEM(sig, siglen, in.sig, in.siglen);
        FWG_CHECK_EQ_INT(fwg_sig_verify(priv, B26_BASE,
                                        sizeof(B26_BASE) - 1, sig, siglen),
                         1);
        fwg_key_free(priv);
    }

    /* the public PEM */
    priv = fwg_key_from_file(FWG_ALG_ED25519,
                             data_path("test-key-ed25519.pub", path,
                                       sizeof(path)), &err);
    FWG_CHECK(priv != NULL && !fwg_key_can_sign(priv));
    FWG_CHECK_EQ_INT(check_sig(&r, "", priv, &base), 1);
    FWG_CHECK_EQ_INT(fwg_sig_sign(priv, "x", 1, sig, &siglen), -1);
    fwg_key_free(priv);

    fwg_key_free(k);
}


static void
test_b25(void)
{
    req_t           r;
    char            path[512];
    fwg_str_t       base;
    fwg_key_t      *k, *ed;
    const char     *err;
    unsigned char   sig[FWG_SIG_MAX_SIG];
    size_t          siglen;
    char            rec[256];

    k = fwg_key_from_record(FWG_ALG_HMAC_SHA256, SHARED_SECRET_B64,
                            strlen(SHARED_SECRET_B64), &err);
    FWG_CHECK(k != NULL);
    if (k == NULL) {
        return;
    }

    FWG_CHECK_EQ_INT(fwg_key_record(k, rec, sizeof(rec)),
                     strlen(SHARED_SECRET_B64));
    FWG_CHECK_CSTR(rec, SHARED_SECRET_B64);

    req_b2(&r);
    req_add(&r, "Signature-Input", B25_INPUT);
    req_add(&r, "Signature", B25_SIG);

    FWG_CHECK_EQ_INT(check_sig(&r, "", k, &base), 1);
    FWG_CHECK_STR(base, B25_BASE);

    FWG_CHECK_EQ_INT(fwg_sig_sign(k, B25_BASE, sizeof(B25_BASE) - 1,
                                  sig, &siglen), 0);
    FWG_CHECK_EQ_INT(siglen, 32);
    FWG_CHECK_EQ_INT(sig[0], 0xa7);     /* "pxcQ" */
    FWG_CHECK_EQ_INT(sig[1], 0x17);

    /* the authority is covered: Host case does not matter, the name does */
    r.msg.authority = cs("EXAMPLE.com");
    FWG_CHECK_EQ_INT(check_sig(&r, "", k, &base), 1);
    r.msg.authority = cs("example.com:443");
    FWG_CHECK_EQ_INT(check_sig(&r, "", k, &base), 1);
    r.msg.authority = cs("example.org");
    FWG_CHECK_EQ_INT(check_sig(&r, "", k, &base), 0);
    r.msg.authority = cs("example.com");

    r.f[2].value = cs("application/jsom");
    FWG_CHECK_EQ_INT(check_sig(&r, "", k, &base), 0);
    r.f[2].value = cs("  application/json\t");
    FWG_CHECK_EQ_INT(check_sig(&r, "", k, &base), 1);
    r.f[2].value = cs("application/json");

    /* non-zero pad bits are tolerated (RFC 8941 4.2.7): same bytes */
    r.f[6].value = cs("sig-b25=:pxcQw6G3AjtMBQjwo8XzkZf/bws5LelbaMk5rGIGtE9=:");
    FWG_CHECK_EQ_INT(check_sig(&r, "", k, &base), 1);
    r.f[6].value = cs("sig-b25=:pxcQw6G3AjtMBQjwo8XzkZf/bws5LelbaMk5rGIGtE4=:");
    FWG_CHECK_EQ_INT(check_sig(&r, "", k, &base), 0);
    r.f[6].value = cs("sig-b25=:pxcQw6G3AjtMBQjwo8XzkZf/bws5LelbaMk5rGIG:");
    FWG_CHECK_EQ_INT(check_sig(&r, "", k, &base), 0);
    r.f[6].value = cs(B25_SIG);

    r.f[5].value = cs("sig-b25=(\"date\" \"@authority\" \"content-type\");"
                      "created=1618884472;keyid=\"test-shared-secret\"");
    FWG_CHECK_EQ_INT(check_sig(&r, "", k, &base), 0);
    r.f[5].value = cs(B25_INPUT);

    /* the secret from the file */
    fwg_key_free(k);
    k = fwg_key_from_file(FWG_ALG_NONE,
                          data_path("test-shared-secret.b64", path,
                                    sizeof(path)), &err);
    FWG_CHECK(k != NULL && fwg_key_alg(k) == FWG_ALG_HMAC_SHA256);
    FWG_CHECK_EQ_INT(check_sig(&r, "", k, &base), 1);

    /* a key of another algorithm never verifies it */
    ed = fwg_key_from_record(FWG_ALG_ED25519, ED25519_PUB_B64,
                             strlen(ED25519_PUB_B64), &err);
    FWG_CHECK_EQ_INT(check_sig(&r, "", ed, &base), 0);
    fwg_key_free(ed);

    /* the ed25519 signature against the hmac key */
    req_b2(&r);
    req_add(&r, "Signature-Input", B26_INPUT);
    req_add(&r, "Signature", B26_SIG);
    FWG_CHECK_EQ_INT(check_sig(&r, "", k, &base), 0);

    fwg_key_free(k);
}


static void
test_b21(void)
{
    req_t            r;
    fwg_str_t        base;
    const char      *err;
    fwg_sig_input_t  in;

    req_b2(&r);
    req_add(&r, "Signature-Input", B21_INPUT);
    req_add(&r, "Signature", "sig-b21=:d2pmTvmbncD3xQm8E9ZV2828BjQWGgiwAaw5bAk"
            "gibUopemLJcWDy/lkbbHAve4cRAtx31Iq786U7it++wgGxbtRxf8Udx7zFZsckzXa"
            "JMkA7ChG52eSkFxykJeNqsrWH5S+oxNFlD4dzVuwe8DhTSja8xxbR/Z2cOGdCbzR7"
            "2rgFWhzx2VjBqJzsPLMIQKhO4DGezXehhWwE56YCE+O6c0mKZsfxVrogUvA4HELjV"
            "KWmAvtl6UnCh8jYzuVG5WSb/QEVPnP5TmcAnLH1g+s++v6d4s8m0gCw1fV5/SITLq"
            "9mhho8K3+7EPYTU8IU1bLhdxO5Nyt8C8ssinQ98Xw9Q==:");

    FWG_CHECK_EQ_INT(parse_only(&r, "", &in), FWG_SIG_OK);
    FWG_CHECK_EQ_INT(in.siglen, 256);
    FWG_CHECK_STR(in.nonce, "b3k2pp5k7z-50gnwp.yemd");
    FWG_CHECK_EQ_INT(in.inner->nitems, 0);
    FWG_CHECK_EQ_INT(fwg_sig_base(&r.msg, &in, &arena, &base, &err),
                     FWG_SIG_OK);
    FWG_CHECK_STR(base, B21_BASE);
}


/* section 2.1 and its subsections */
static void
test_fields(void)
{
    req_t      r;
    fwg_str_t  v;

    req_init(&r, "GET", "https", "www.example.com", "/", NULL);
    req_add(&r, "Host", "www.example.com");
    req_add(&r, "Date", "Tue, 20 Apr 2021 02:07:56 GMT");
    req_add(&r, "X-OWS-Header", "   Leading and trailing whitespace.   ");
    req_add(&r, "Cache-Control", "max-age=60");
    req_add(&r, "Cache-Control", "   must-revalidate");
    req_add(&r, "Example-Dict", " a=1,    b=2;x=1;y=2,   c=(a   b   c)");
    req_add(&r, "X-Empty-Header", "");
    req_add(&r, "Example-Header", "value, with, lots");
    req_add(&r, "Example-Header", "of, commas");
    req_add(&r, "Example-List", "  a,b;x=?1 ,  (\"c\"   d)  ");
    req_add(&r, "Example-Int", " 0042 ");
    req_add(&r, "Newline", "a\nb");

    FWG_CHECK_EQ_INT(comp(&r, "\"host\"", &v), 0);
    FWG_CHECK_STR(v, "www.example.com");
    FWG_CHECK_EQ_INT(comp(&r, "\"date\"", &v), 0);
    FWG_CHECK_STR(v, "Tue, 20 Apr 2021 02:07:56 GMT");
    FWG_CHECK_EQ_INT(comp(&r, "\"x-ows-header\"", &v), 0);
    FWG_CHECK_STR(v, "Leading and trailing whitespace.");
    FWG_CHECK_EQ_INT(comp(&r, "\"cache-control\"", &v), 0);
    FWG_CHECK_STR(v, "max-age=60, must-revalidate");
    FWG_CHECK_EQ_INT(comp(&r, "\"example-dict\"", &v), 0);
    FWG_CHECK_STR(v, "a=1,    b=2;x=1;y=2,   c=(a   b   c)");
    FWG_CHECK_EQ_INT(comp(&r, "\"x-empty-header\"", &v), 0);
    FWG_CHECK_STR(v, "");

    /* 2.1.1 */
    FWG_CHECK_EQ_INT(comp(&r, "\"example-dict\";sf", &v), 0);
    FWG_CHECK_STR(v, "a=1, b=2;x=1;y=2, c=(a b c)");
    FWG_CHECK_EQ_INT(comp(&r, "\"example-list\";sf", &v), 0);
    FWG_CHECK_STR(v, "a, b;x, (\"c\" d)");
    FWG_CHECK_EQ_INT(comp(&r, "\"example-int\";sf", &v), 0);
    FWG_CHECK_STR(v, "42");
    FWG_CHECK_EQ_INT(comp(&r, "\"x-ows-header\";sf", &v),
                     FWG_SIG_ECOMPONENT);

    /* 2.1.2 */
    FWG_CHECK_EQ_INT(comp(&r, "\"example-dict\";key=\"a\"", &v), 0);
    FWG_CHECK_STR(v, "1");
    FWG_CHECK_EQ_INT(comp(&r, "\"example-dict\";key=\"b\"", &v), 0);
    FWG_CHECK_STR(v, "2;x=1;y=2");
    FWG_CHECK_EQ_INT(comp(&r, "\"example-dict\";key=\"c\"", &v), 0);
    FWG_CHECK_STR(v, "(a b c)");
    FWG_CHECK_EQ_INT(comp(&r, "\"example-dict\";key=\"d\"", &v),
                     FWG_SIG_ECOMPONENT);
    FWG_CHECK_EQ_INT(comp(&r, "\"example-header\";key=\"a\"", &v),
                     FWG_SIG_ECOMPONENT);

    /* 2.1.3 */
    FWG_CHECK_EQ_INT(comp(&r, "\"example-header\"", &v), 0);
    FWG_CHECK_STR(v, "value, with, lots, of, commas");
    FWG_CHECK_EQ_INT(comp(&r, "\"example-header\";bs", &v), 0);
    FWG_CHECK_STR(v, ":dmFsdWUsIHdpdGgsIGxvdHM=:, :b2YsIGNvbW1hcw==:");
    FWG_CHECK_EQ_INT(comp(&r, "\"x-empty-header\";bs", &v), 0);
    FWG_CHECK_STR(v, "::");
    FWG_CHECK_EQ_INT(comp(&r, "\"example-dict\";bs;sf", &v),
                     FWG_SIG_ECOMPONENT);
    FWG_CHECK_EQ_INT(comp(&r, "\"example-dict\";bs;key=\"a\"", &v),
                     FWG_SIG_ECOMPONENT);

    /* errors */
    FWG_CHECK_EQ_INT(comp(&r, "\"x-absent\"", &v), FWG_SIG_ECOMPONENT);
    FWG_CHECK_EQ_INT(comp(&r, "\"x-absent\";bs", &v), FWG_SIG_ECOMPONENT);
    FWG_CHECK_EQ_INT(comp(&r, "\"newline\"", &v), FWG_SIG_ECOMPONENT);
    FWG_CHECK_EQ_INT(comp(&r, "\"newline\";bs", &v), 0);
    FWG_CHECK_EQ_INT(comp(&r, "\"Host\"", &v), FWG_SIG_ECOMPONENT);
    FWG_CHECK_EQ_INT(comp(&r, "\"host\";req", &v), FWG_SIG_ECOMPONENT);
    FWG_CHECK_EQ_INT(comp(&r, "\"host\";tr", &v), FWG_SIG_ECOMPONENT);
    FWG_CHECK_EQ_INT(comp(&r, "\"host\";foo=1", &v), FWG_SIG_ECOMPONENT);
    FWG_CHECK_EQ_INT(comp(&r, "host", &v), FWG_SIG_ECOMPONENT);
    FWG_CHECK_EQ_INT(comp(&r, "\"\"", &v), FWG_SIG_ECOMPONENT);
    FWG_CHECK_EQ_INT(comp(&r, "\"ho st\"", &v), FWG_SIG_ECOMPONENT);
}


/* section 2.2 */
static void
test_derived(void)
{
    req_t      r;
    fwg_str_t  v;

    req_init(&r, "POST", "https", "www.example.com", "/path",
             "param=value");

    FWG_CHECK_EQ_INT(comp(&r, "\"@method\"", &v), 0);
    FWG_CHECK_STR(v, "POST");
    FWG_CHECK_EQ_INT(comp(&r, "\"@target-uri\"", &v), 0);
    FWG_CHECK_STR(v, "https://www.example.com/path?param=value");
    FWG_CHECK_EQ_INT(comp(&r, "\"@authority\"", &v), 0);
    FWG_CHECK_STR(v, "www.example.com");
    FWG_CHECK_EQ_INT(comp(&r, "\"@scheme\"", &v), 0);
    FWG_CHECK_STR(v, "https");
    FWG_CHECK_EQ_INT(comp(&r, "\"@request-target\"", &v), 0);
    FWG_CHECK_STR(v, "/path?param=value");
    FWG_CHECK_EQ_INT(comp(&r, "\"@path\"", &v), 0);
    FWG_CHECK_STR(v, "/path");
    FWG_CHECK_EQ_INT(comp(&r, "\"@query\"", &v), 0);
    FWG_CHECK_STR(v, "?param=value");

    r.msg.query = cs("queryString");
    FWG_CHECK_EQ_INT(comp(&r, "\"@query\"", &v), 0);
    FWG_CHECK_STR(v, "?queryString");

    r.msg.query = cs("");
    FWG_CHECK_EQ_INT(comp(&r, "\"@query\"", &v), 0);
    FWG_CHECK_STR(v, "?");
    FWG_CHECK_EQ_INT(comp(&r, "\"@request-target\"", &v), 0);
    FWG_CHECK_STR(v, "/path?");

    r.msg.query.data = NULL;
    r.msg.has_query = 0;
    FWG_CHECK_EQ_INT(comp(&r, "\"@query\"", &v), 0);
    FWG_CHECK_STR(v, "?");
    FWG_CHECK_EQ_INT(comp(&r, "\"@request-target\"", &v), 0);
    FWG_CHECK_STR(v, "/path");
    FWG_CHECK_EQ_INT(comp(&r, "\"@target-uri\"", &v), 0);
    FWG_CHECK_STR(v, "https://www.example.com/path");

    r.msg.authority = cs("WWW.Example.COM:443");
    r.msg.scheme = cs("HTTPS");
    FWG_CHECK_EQ_INT(comp(&r, "\"@authority\"", &v), 0);
    FWG_CHECK_STR(v, "www.example.com");
    FWG_CHECK_EQ_INT(comp(&r, "\"@scheme\"", &v), 0);
    FWG_CHECK_STR(v, "https");

    r.msg.authority = cs("www.example.com:8443");
    r.msg.scheme = cs("http");
    FWG_CHECK_EQ_INT(comp(&r, "\"@authority\"", &v), 0);
    FWG_CHECK_STR(v, "www.example.com:8443");
    r.msg.authority = cs("[::1]:80");
    FWG_CHECK_EQ_INT(comp(&r, "\"@authority\"", &v), 0);
    FWG_CHECK_STR(v, "[::1]");

    r.msg.path = cs("");
    FWG_CHECK_EQ_INT(comp(&r, "\"@path\"", &v), 0);
    FWG_CHECK_STR(v, "/");

    r.msg.authority = cs("");
    FWG_CHECK_EQ_INT(comp(&r, "\"@authority\"", &v), FWG_SIG_ECOMPONENT);
    FWG_CHECK_EQ_INT(comp(&r, "\"@status\"", &v), FWG_SIG_ECOMPONENT);
    FWG_CHECK_EQ_INT(comp(&r, "\"@signature-params\"", &v),
                     FWG_SIG_ECOMPONENT);
    FWG_CHECK_EQ_INT(comp(&r, "\"@foo\"", &v), FWG_SIG_ECOMPONENT);
    FWG_CHECK_EQ_INT(comp(&r, "\"@Method\"", &v), FWG_SIG_ECOMPONENT);
    FWG_CHECK_EQ_INT(comp(&r, "\"@method\";sf", &v), FWG_SIG_ECOMPONENT);
    FWG_CHECK_EQ_INT(comp(&r, "\"@\"", &v), FWG_SIG_ECOMPONENT);
}


/* section 2.2.8 */
static void
test_query_param(void)
{
    req_t      r;
    fwg_str_t  v;

    req_init(&r, "GET", "https", "example.com", "/parameters",
             "var=this%20is%20a%20big%0Amultiline%20value&bar=with+plus+"
             "whitespace&fa%C3%A7ade%22%3A%20=something&qux=&&baz=bat%2Dman"
             "&dup=1&dup=2&novalue&p%=%zz");

    FWG_CHECK_EQ_INT(comp(&r, "\"@query-param\";name=\"var\"", &v), 0);
    FWG_CHECK_STR(v, "this%20is%20a%20big%0Amultiline%20value");
    FWG_CHECK_EQ_INT(comp(&r, "\"@query-param\";name=\"bar\"", &v), 0);
    FWG_CHECK_STR(v, "with%20plus%20whitespace");
    FWG_CHECK_EQ_INT(comp(&r,
                          "\"@query-param\";name=\"fa%C3%A7ade%22%3A%20\"",
                          &v), 0);
    FWG_CHECK_STR(v, "something");
    FWG_CHECK_EQ_INT(comp(&r, "\"@query-param\";name=\"qux\"", &v), 0);
    FWG_CHECK_STR(v, "");
    FWG_CHECK_EQ_INT(comp(&r, "\"@query-param\";name=\"baz\"", &v), 0);
    FWG_CHECK_STR(v, "bat-man");
    FWG_CHECK_EQ_INT(comp(&r, "\"@query-param\";name=\"novalue\"", &v), 0);
    FWG_CHECK_STR(v, "");
    FWG_CHECK_EQ_INT(comp(&r, "\"@query-param\";name=\"p%25\"", &v), 0);
    FWG_CHECK_STR(v, "%25zz");

    FWG_CHECK_EQ_INT(comp(&r, "\"@query-param\";name=\"dup\"", &v),
                     FWG_SIG_ECOMPONENT);
    FWG_CHECK_EQ_INT(comp(&r, "\"@query-param\";name=\"nope\"", &v),
                     FWG_SIG_ECOMPONENT);
    FWG_CHECK_EQ_INT(comp(&r, "\"@query-param\";name=\"fa\xc3\xa7\"", &v),
                     -100);
    FWG_CHECK_EQ_INT(comp(&r, "\"@query-param\"", &v), FWG_SIG_ECOMPONENT);
    FWG_CHECK_EQ_INT(comp(&r, "\"@query-param\";name=var", &v),
                     FWG_SIG_ECOMPONENT);
    FWG_CHECK_EQ_INT(comp(&r, "\"@query-param\";name=\"var\";sf", &v),
                     FWG_SIG_ECOMPONENT);

    /* RFC 9421 section 2.2.8's first example */
    req_init(&r, "GET", "https", "example.com", "/path",
             "param=value&foo=bar&baz=batman&qux=");
    FWG_CHECK_EQ_INT(comp(&r, "\"@query-param\";name=\"baz\"", &v), 0);
    FWG_CHECK_STR(v, "batman");
    FWG_CHECK_EQ_INT(comp(&r, "\"@query-param\";name=\"qux\"", &v), 0);
    FWG_CHECK_STR(v, "");
    FWG_CHECK_EQ_INT(comp(&r, "\"@query-param\";name=\"param\"", &v), 0);
    FWG_CHECK_STR(v, "value");

    r.msg.has_query = 0;
    r.msg.query.data = NULL;
    r.msg.query.len = 0;
    FWG_CHECK_EQ_INT(comp(&r, "\"@query-param\";name=\"param\"", &v),
                     FWG_SIG_ECOMPONENT);
}


static void
test_base_misc(void)
{
    req_t            r;
    fwg_str_t        base;
    const char      *err;
    fwg_sig_input_t  in;

    /* identifiers with parameters are serialized in the base */
    req_init(&r, "GET", "https", "example.com", "/p", "Pet=dog");
    req_add(&r, "Example-Dict", "a=1, b=\"x\"");
    req_add(&r, "Signature-Input",
            "s=(\"@query-param\";name=\"Pet\" \"example-dict\";key=\"b\" "
            "\"example-dict\";sf \"example-dict\");created=1;expires=2;"
            "keyid=\"k\";alg=\"hmac-sha256\";tag=\"t\";unknown=?1");
    req_add(&r, "Signature", "s=:AAAA:");

    FWG_CHECK_EQ_INT(parse_only(&r, "", &in), FWG_SIG_OK);
    FWG_CHECK(in.has_expires && in.expires == 2);
    FWG_CHECK_STR(in.alg, "hmac-sha256");
    FWG_CHECK_STR(in.tag, "t");
    FWG_CHECK_EQ_INT(fwg_sig_base(&r.msg, &in, &arena, &base, &err),
                     FWG_SIG_OK);
    FWG_CHECK_STR(base,
        "\"@query-param\";name=\"Pet\": dog\n"
        "\"example-dict\";key=\"b\": \"x\"\n"
        "\"example-dict\";sf: a=1, b=\"x\"\n"
        "\"example-dict\": a=1, b=\"x\"\n"
        "\"@signature-params\": (\"@query-param\";name=\"Pet\" "
        "\"example-dict\";key=\"b\" \"example-dict\";sf \"example-dict\");"
        "created=1;expires=2;keyid=\"k\";alg=\"hmac-sha256\";tag=\"t\";"
        "unknown");

    /* a component that cannot be built fails the base, not the parse */
    r.f[1].value = cs("s=(\"@method\" \"x-absent\");created=1");
    FWG_CHECK_EQ_INT(parse_only(&r, "", &in), FWG_SIG_OK);
    FWG_CHECK_EQ_INT(fwg_sig_base(&r.msg, &in, &arena, &base, &err),
                     FWG_SIG_ECOMPONENT);

    /* keyid with escapes: parsed unescaped, serialized as it came */
    r.f[1].value = cs("s=(\"@method\");keyid=\"a\\\"b\\\\c d:e\"");
    FWG_CHECK_EQ_INT(parse_only(&r, "", &in), FWG_SIG_OK);
    FWG_CHECK_STR(in.keyid, "a\"b\\c d:e");
    FWG_CHECK_EQ_INT(fwg_sig_base(&r.msg, &in, &arena, &base, &err),
                     FWG_SIG_OK);
    FWG_CHECK_STR(base, "\"@method\": GET\n\"@signature-params\": "
                  "(\"@method\");keyid=\"a\\\"b\\\\c d:e\"");
}


static void
test_missing(void)
{
    req_t             r;
    fwg_sig_input_t   in;
    fwg_str_t         req[4];

    req_b2(&r);
    req_add(&r, "Signature-Input",
            "fw=(\"@method\" \"@path\" \"x-device-model\";sf "
            "\"@query-param\";name=\"v\" \"content-type\";key=\"a\")");
    req_add(&r, "Signature", "fw=:AAAA:");

    FWG_CHECK_EQ_INT(parse_only(&r, "", &in), FWG_SIG_OK);

    req[0] = cs("@method");
    req[1] = cs("\"@path\"");
    req[2] = cs("x-device-model");
    req[3] = cs("x-firmware-version");
    FWG_CHECK_EQ_INT(fwg_sig_missing(&in, req, 3), -1);
    FWG_CHECK_EQ_INT(fwg_sig_missing(&in, req, 4), 3);

    req[0] = cs("\"@query-param\";name=\"v\"");
    FWG_CHECK_EQ_INT(fwg_sig_missing(&in, req, 1), -1);
    req[0] = cs("@query-param");
    FWG_CHECK_EQ_INT(fwg_sig_missing(&in, req, 1), 0);
    req[0] = cs("content-type");
    FWG_CHECK_EQ_INT(fwg_sig_missing(&in, req, 1), 0);
    req[0] = cs("\"content-type\";key=\"a\"");
    FWG_CHECK_EQ_INT(fwg_sig_missing(&in, req, 1), -1);
    req[0] = cs("@authority");
    FWG_CHECK_EQ_INT(fwg_sig_missing(&in, req, 1), 0);
    FWG_CHECK_EQ_INT(fwg_sig_missing(&in, req, 0), -1);
    FWG_CHECK_EQ_INT(fwg_sig_missing(NULL, req, 1), 0);
}


static void
test_hostile(void)
{
    req_t             r;
    char             *big;
    size_t            i, n;
    fwg_str_t         base;
    const char       *err;
    fwg_sig_input_t   in;
    char              small[512];
    fwg_arena_t       sa;

    req_b2(&r);
    FWG_CHECK_EQ_INT(parse_only(&r, "", &in), FWG_SIG_EMISSING);
    req_add(&r, "Signature-Input", B26_INPUT);
    FWG_CHECK_EQ_INT(parse_only(&r, "", &in), FWG_SIG_EMISSING);
    req_add(&r, "Signature", B26_SIG);
    FWG_CHECK_EQ_INT(parse_only(&r, "", &in), FWG_SIG_OK);

    /* missing label */
    FWG_CHECK_EQ_INT(parse_only(&r, "fw", &in), FWG_SIG_EMALFORMED);
    FWG_CHECK_EQ_INT(parse_only(&r, "sig-b2", &in), FWG_SIG_EMALFORMED);

    /* bad base64, wrong types */
    r.f[6].value = cs("sig-b26=:wqcA*bmY:");
    FWG_CHECK_EQ_INT(parse_only(&r, "", &in), FWG_SIG_EMALFORMED);
    r.f[6].value = cs("sig-b26=:wqcAqbm:");   /* missing padding: 8941 */
    FWG_CHECK_EQ_INT(parse_only(&r, "", &in), FWG_SIG_OK);
    FWG_CHECK_EQ_INT(in.siglen, 5);
    r.f[6].value = cs("sig-b26=\"wqcA\"");
    FWG_CHECK_EQ_INT(parse_only(&r, "", &in), FWG_SIG_EMALFORMED);
    r.f[6].value = cs("sig-b26=::");
    FWG_CHECK_EQ_INT(parse_only(&r, "", &in), FWG_SIG_EMALFORMED);
    r.f[6].value = cs("other=:AAAA:");
    FWG_CHECK_EQ_INT(parse_only(&r, "", &in), FWG_SIG_EMALFORMED);
    r.f[6].value = cs(B26_SIG);

    r.f[5].value = cs("sig-b26=\"@method\"");
    FWG_CHECK_EQ_INT(parse_only(&r, "", &in), FWG_SIG_EMALFORMED);
    r.f[5].value = cs("sig-b26=(@method)");
    FWG_CHECK_EQ_INT(parse_only(&r, "", &in), FWG_SIG_EMALFORMED);
    r.f[5].value = cs("sig-b26=(\"@method\");created=\"1\"");
    FWG_CHECK_EQ_INT(parse_only(&r, "", &in), FWG_SIG_EMALFORMED);
    r.f[5].value = cs("sig-b26=(\"@method\");keyid=tok");
    FWG_CHECK_EQ_INT(parse_only(&r, "", &in), FWG_SIG_EMALFORMED);
    r.f[5].value = cs("sig-b26=(\"@method\" \"Date\")");
    FWG_CHECK_EQ_INT(parse_only(&r, "", &in), FWG_SIG_EMALFORMED);
    r.f[5].value = cs("sig-b26=(\"@method\" \"date\" \"@method\")");
    FWG_CHECK_EQ_INT(parse_only(&r, "", &in), FWG_SIG_EMALFORMED);
    r.f[5].value = cs("sig-b26=(\"a\";sf;bs \"a\";bs;sf)");
    FWG_CHECK_EQ_INT(parse_only(&r, "", &in), FWG_SIG_EMALFORMED);
    r.f[5].value = cs("sig-b26=(\"a\";sf \"a\")");
    FWG_CHECK_EQ_INT(parse_only(&r, "", &in), FWG_SIG_OK);
    r.f[5].value = cs("sig-b26=(\"@method\");keyid=\"caf\xc3\xa9\"");
    FWG_CHECK_EQ_INT(parse_only(&r, "", &in), FWG_SIG_EMALFORMED);
    r.f[5].value = cs("sig-b26=(\"@method\");keyid=\"a\x01\"");
    FWG_CHECK_EQ_INT(parse_only(&r, "", &in), FWG_SIG_EMALFORMED);
    r.f[5].value = cs("sig-b26=(\"@method\"");
    FWG_CHECK_EQ_INT(parse_only(&r, "", &in), FWG_SIG_EMALFORMED);
    r.f[5].value = cs("");
    FWG_CHECK_EQ_INT(parse_only(&r, "", &in), FWG_SIG_EMALFORMED);

    /* several labels: the configured one, else "fw", else refused */
    r.f[5].value = cs("a=(\"@method\"), b=(\"@path\")");
    r.f[6].value = cs("a=:AAAA:, b=:AAAA:");
    FWG_CHECK_EQ_INT(parse_only(&r, "", &in), FWG_SIG_EMALFORMED);
    FWG_CHECK_EQ_INT(parse_only(&r, "b", &in), FWG_SIG_OK);
    FWG_CHECK_STR(in.label, "b");
    r.f[5].value = cs("a=(\"@method\"), fw=(\"@path\")");
    r.f[6].value = cs("a=:AAAA:, fw=:AAAA:");
    FWG_CHECK_EQ_INT(parse_only(&r, "", &in), FWG_SIG_OK);
    FWG_CHECK_STR(in.label, "fw");

    /* duplicate labels: the last wins (RFC 8941 dictionaries) */
    r.f[5].value = cs("fw=(\"@method\"), fw=(\"@path\");created=5");
    r.f[6].value = cs("fw=:AAAA:, fw=:BBBB:");
    FWG_CHECK_EQ_INT(parse_only(&r, "", &in), FWG_SIG_OK);
    FWG_CHECK_STR(in.params, "(\"@path\");created=5");
    FWG_CHECK_EQ_INT(in.sig[0], 0x04);

    /* Signature-Input over two field lines */
    r.f[5].value = cs("a=(\"@method\")");
    r.f[6].value = cs("a=:AAAA:, fw=:AAAA:");
    req_add(&r, "signature-input", "fw=(\"@path\")");
    FWG_CHECK_EQ_INT(parse_only(&r, "", &in), FWG_SIG_OK);
    FWG_CHECK_STR(in.params, "(\"@path\")");
    r.n--;
    r.msg.nfields--;

    /* huge Signature-Input, 1000 components */
    n = 40000;
    big = malloc(n + 1);
    if (big == NULL) {
        return;
    }

    memcpy(big, "fw=(", 4);
    for (i = 4; i + 12 < n; ) {
        i += (size_t) sprintf(big + i, "\"h%u\" ", (unsigned) (i % 100000));
    }
    big[i++] = ')';
    big[i] = '\0';

    r.f[5].value = cs(big);
    r.f[6].value = cs("fw=:AAAA:");
    FWG_CHECK_EQ_INT(parse_only(&r, "", &in), FWG_SIG_EMALFORMED);

    strcpy(big, "fw=(");
    for (i = 0; i < 1000; i++) {
        sprintf(big + strlen(big), "\"h%u\" ", (unsigned) i);
    }
    strcat(big, ")");
    FWG_CHECK(strlen(big) < FWG_SIG_MAX_FIELD);
    r.f[5].value = cs(big);
    FWG_CHECK_EQ_INT(parse_only(&r, "", &in), FWG_SIG_EMALFORMED);

    strcpy(big, "fw=(");
    for (i = 0; i < FWG_SIG_MAX_COMPONENTS; i++) {
        sprintf(big + strlen(big), "\"h%u\" ", (unsigned) i);
    }
    strcat(big, ")");
    r.f[5].value = cs(big);
    FWG_CHECK_EQ_INT(parse_only(&r, "", &in), FWG_SIG_OK);
    FWG_CHECK_EQ_INT(fwg_sig_base(&r.msg, &in, &arena, &base, &err),
                     FWG_SIG_ECOMPONENT);

    /* many field lines that add up beyond the limit */
    memset(big, 'a', 3000);
    big[3000] = '\0';
    req_b2(&r);
    req_add(&r, "Signature", "fw=:AAAA:");
    for (i = 0; i < 4; i++) {
        req_add(&r, "Signature-Input", big);
    }
    FWG_CHECK_EQ_INT(parse_only(&r, "", &in), FWG_SIG_EMALFORMED);

    /* a huge covered header: the base stays within its limit */
    memset(big, 'x', 20000);
    big[20000] = '\0';
    req_b2(&r);
    req_add(&r, "X-Big", big);
    req_add(&r, "Signature-Input", "fw=(\"x-big\")");
    req_add(&r, "Signature", "fw=:AAAA:");
    FWG_CHECK_EQ_INT(parse_only(&r, "", &in), FWG_SIG_OK);
    FWG_CHECK_EQ_INT(fwg_sig_base(&r.msg, &in, &arena, &base, &err),
                     FWG_SIG_ECOMPONENT);
    r.f[6].value = cs("fw=(\"x-big\";bs)");
    FWG_CHECK_EQ_INT(parse_only(&r, "", &in), FWG_SIG_OK);
    FWG_CHECK_EQ_INT(fwg_sig_base(&r.msg, &in, &arena, &base, &err),
                     FWG_SIG_ECOMPONENT);

    free(big);

    /* a tiny arena: errors, never overruns */
    req_b2(&r);
    req_add(&r, "Signature-Input", B26_INPUT);
    req_add(&r, "Signature", B26_SIG);

    for (n = 0; n <= sizeof(small); n += 8) {
        fwg_arena_init(&sa, small, n);
        if (fwg_sig_parse(&r.msg, cs(""), &sa, &in, &err) == FWG_SIG_OK) {
            (void) fwg_sig_base(&r.msg, &in, &sa, &base, &err);
        }
    }
    FWG_CHECK(1);
}


static void
test_keys(void)
{
    char             path[512], rec[256], rec2[256];
    long             n;
    size_t           siglen, len;
    fwg_key_t       *k, *pub, *k2;
    const char      *err;
    unsigned char    sig[FWG_SIG_MAX_SIG], raw[128];
    static const char  msg[] = "\"@method\": GET\n\"@signature-params\": ()";

    /* ed25519 records: exactly 32 bytes of base64 */
    FWG_CHECK(fwg_key_from_record(FWG_ALG_ED25519, "AAAA", 4, &err) == NULL);
    FWG_CHECK(fwg_key_from_record(FWG_ALG_ED25519, "", 0, &err) == NULL);
    FWG_CHECK(fwg_key_from_record(FWG_ALG_ED25519, "JrQLj5P/89iXES9+vFgrIy29"
                                  "clF9CC/oPPsw3c5D0bs", 43, &err) == NULL);
    FWG_CHECK(fwg_key_from_record(FWG_ALG_ED25519, SHARED_SECRET_B64,
                                  strlen(SHARED_SECRET_B64), &err) == NULL);
    FWG_CHECK(fwg_key_from_record(FWG_ALG_NONE, ED25519_PUB_B64,
                                  strlen(ED25519_PUB_B64), &err) == NULL);
    FWG_CHECK(fwg_key_from_record(FWG_ALG__COUNT, ED25519_PUB_B64,
                                  strlen(ED25519_PUB_B64), &err) == NULL);
    FWG_CHECK(fwg_key_from_record(FWG_ALG_HMAC_SHA256, "AAAA", 4, &err)
              == NULL);

    k = fwg_key_from_record(FWG_ALG_ED25519, ED25519_PUB_B64,
                            strlen(ED25519_PUB_B64), &err);
    FWG_CHECK(k != NULL);
    n = fwg_key_record(k, rec, sizeof(rec));
    FWG_CHECK_EQ_INT(n, 44);
    FWG_CHECK_CSTR(rec, ED25519_PUB_B64);
    FWG_CHECK_EQ_INT(fwg_key_record(k, rec, 44), -1);
    FWG_CHECK_EQ_INT(fwg_sig_verify(k, msg, sizeof(msg) - 1, sig, 0), 0);
    FWG_CHECK_EQ_INT(fwg_sig_verify(k, msg, sizeof(msg) - 1, sig, 32), 0);
    fwg_key_free(k);

    /* an ed25519 record read as P-256, a P-256 PEM as ed25519 */
    FWG_CHECK(fwg_key_from_record(FWG_ALG_ECDSA_P256_SHA256, ED25519_PUB_B64,
                                  strlen(ED25519_PUB_B64), &err) == NULL);
    FWG_CHECK(fwg_key_from_file(FWG_ALG_ED25519,
                                data_path("test-key-ecc-p256.pem", path,
                                          sizeof(path)), &err) == NULL);
    FWG_CHECK(fwg_key_from_file(FWG_ALG_HMAC_SHA256,
                                data_path("test-key-ed25519.pem", path,
                                          sizeof(path)), &err) == NULL);
    FWG_CHECK(fwg_key_from_file(FWG_ALG_NONE, "/nonexistent/key", &err)
              == NULL);

    /* P-256: B.1.3 key, sign and verify, record forms */
    k = fwg_key_from_file(FWG_ALG_NONE,
                          data_path("test-key-ecc-p256.pem", path,
                                    sizeof(path)), &err);
    FWG_CHECK_MSG(k != NULL, "load %s", path);
    if (k == NULL) {
        return;
    }

    FWG_CHECK_EQ_INT(fwg_key_alg(k), FWG_ALG_ECDSA_P256_SHA256);
    FWG_CHECK(fwg_key_can_sign(k));
    FWG_CHECK_EQ_INT(fwg_sig_sign(k, msg, sizeof(msg) - 1, sig, &siglen), 0);
    FWG_CHECK_EQ_INT(siglen, 64);
    FWG_CHECK_EQ_INT(fwg_sig_verify(k, msg, sizeof(msg) - 1, sig, siglen),
                     1);

    n = fwg_key_record(k, rec, sizeof(rec));
    FWG_CHECK_EQ_INT(n, 88);

    pub = fwg_key_from_record(FWG_ALG_ECDSA_P256_SHA256, rec, (size_t) n,
                              &err);
    FWG_CHECK(pub != NULL);
    FWG_CHECK_EQ_INT(fwg_sig_verify(pub, msg, sizeof(msg) - 1, sig, siglen),
                     1);
    FWG_CHECK_EQ_INT(fwg_sig_verify(pub, msg, sizeof(msg) - 2, sig, siglen),
                     0);
    sig[10] ^= 1;
    FWG_CHECK_EQ_INT(fwg_sig_verify(pub, msg, sizeof(msg) - 1, sig, siglen),
                     0);
    sig[10] ^= 1;
    FWG_CHECK_EQ_INT(fwg_sig_verify(pub, msg, sizeof(msg) - 1, sig, 63), 0);
    memset(raw, 0, 64);
    FWG_CHECK_EQ_INT(fwg_sig_verify(pub, msg, sizeof(msg) - 1, raw, 64), 0);
    memset(raw, 0xff, 64);
    FWG_CHECK_EQ_INT(fwg_sig_verify(pub, msg, sizeof(msg) - 1, raw, 64), 0);
    FWG_CHECK_EQ_INT(fwg_sig_sign(pub, msg, 3, raw, &len), -1);
    fwg_key_free(pub);

    /* the compressed point */
    FWG_CHECK_EQ_INT(fwg_b64_decode(raw, sizeof(raw), &len, rec, (size_t) n),
                     0);
    FWG_CHECK_EQ_INT(len, 65);
    FWG_CHECK_EQ_INT(raw[0], 4);
    raw[0] = (unsigned char) (2 + (raw[64] & 1));
    len = fwg_b64_encode(rec2, raw, 33);
    pub = fwg_key_from_record(FWG_ALG_ECDSA_P256_SHA256, rec2, len, &err);
    FWG_CHECK(pub != NULL);
    FWG_CHECK_EQ_INT(fwg_sig_verify(pub, msg, sizeof(msg) - 1, sig, siglen),
                     1);
    FWG_CHECK_EQ_INT(fwg_key_record(pub, rec2, sizeof(rec2)), 88);
    FWG_CHECK_CSTR(rec2, rec);
    fwg_key_free(pub);

    /* a point off the curve */
    FWG_CHECK_EQ_INT(fwg_b64_decode(raw, sizeof(raw), &len, rec, (size_t) n),
                     0);
    raw[40] ^= 1;
    len = fwg_b64_encode(rec2, raw, 65);
    FWG_CHECK(fwg_key_from_record(FWG_ALG_ECDSA_P256_SHA256, rec2, len, &err)
              == NULL);

    /* SPKI DER from the public PEM's body (B.1.3) */
    pub = fwg_key_from_record(FWG_ALG_ECDSA_P256_SHA256,
        "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqIVYZVLCrPZHGHjP17CTW0/+D9Lfw0Ek"
        "jqF7xB4FivAxzic30tMM4GF+hR6Dxh71Z50VGGdldkkDXZCnTNnoXQ==", 124, &err);
    FWG_CHECK(pub != NULL);
    FWG_CHECK_EQ_INT(fwg_sig_verify(pub, msg, sizeof(msg) - 1, sig, siglen),
                     1);
    FWG_CHECK_EQ_INT(fwg_key_record(pub, rec2, sizeof(rec2)), 88);
    FWG_CHECK_CSTR(rec2, rec);
    fwg_key_free(pub);

    /* an Ed25519 SPKI is not a P-256 key */
    FWG_CHECK(fwg_key_from_record(FWG_ALG_ECDSA_P256_SHA256,
        "MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=", 60,
        &err) == NULL);

    /* the public PEM file */
    pub = fwg_key_from_file(FWG_ALG_ECDSA_P256_SHA256,
                            data_path("test-key-ecc-p256.pub", path,
                                      sizeof(path)), &err);
    FWG_CHECK(pub != NULL && !fwg_key_can_sign(pub));
    FWG_CHECK_EQ_INT(fwg_sig_verify(pub, msg, sizeof(msg) - 1, sig, siglen),
                     1);
    fwg_key_free(pub);

    /* a P-256 signature does not verify under an hmac key of any bytes */
    k2 = fwg_key_from_record(FWG_ALG_HMAC_SHA256, rec, (size_t) n, &err);
    FWG_CHECK(k2 != NULL);
    FWG_CHECK_EQ_INT(fwg_sig_verify(k2, msg, sizeof(msg) - 1, sig, siglen),
                     0);
    fwg_key_free(k2);

    fwg_key_free(k);
    fwg_key_free(NULL);
    FWG_CHECK_EQ_INT(fwg_key_alg(NULL), FWG_ALG_NONE);
    FWG_CHECK_EQ_INT(fwg_sig_verify(NULL, msg, 1, sig, 1), -1);
}


void
suite_sig(void)
{
    unit_suite("sig");

    test_alg();
    test_b26();
    test_b25();
    test_b21();
    test_fields();
    test_derived();
    test_query_param();
    test_base_misc();
    test_missing();
    test_hostile();
    test_keys();
}
