/*
 * RFC 9421 response signatures: RFC 9421 Appendix B.2.4 (a response
 * signed with ecdsa-p256-sha256) reproduced byte for byte and verified
 * with the RFC's key, RFC 9530's Content-Digest example, and fwgate's own
 * request-bound answers signed and verified with ed25519 and P-256,
 * tampered every way that matters.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "fwg_respsig.h"
#include "fwg_b64.h"
#include "fwg_digest.h"


#define ARENA_SIZE  (256 * 1024)

static char         arena_buf[ARENA_SIZE];
static fwg_arena_t  arena;


typedef struct {
    char           text[8192];
    fwg_field_t    f[32];
    size_t         n;
    int            status;
    const char    *body;
    size_t         blen;
    fwg_msg_t      msg;
} resp_t;


static void
reset(void)
{
    fwg_arena_init(&arena, arena_buf, sizeof(arena_buf));
}


static fwg_str_t
cs(const char *s)
{
    fwg_str_t  r;

    r.data = s;
    r.len = s ? strlen(s) : 0;

    return r;
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


static size_t
read_data(const char *name, char *buf, size_t size)
{
    FILE    *f;
    size_t   n;
    char     path[512];

    f = fopen(data_path(name, path, sizeof(path)), "rb");
    if (f == NULL) {
        return 0;
    }

    n = fread(buf, 1, size - 1, f);
    fclose(f);
    buf[n] = '\0';

    return n;
}


/* a raw response (LF or CRLF lines): status line, fields, body */
static int
resp_parse(resp_t *r, size_t len)
{
    char   *p, *end, *eol, *colon, *v;

    p = r->text;
    end = r->text + len;
    r->n = 0;

    eol = memchr(p, '\n', (size_t) (end - p));
    if (eol == NULL || strncmp(p, "HTTP/1.1 ", 9) != 0) {
        return -1;
    }

    r->status = atoi(p + 9);
    p = eol + 1;

    while (p < end) {
        eol = memchr(p, '\n', (size_t) (end - p));
        if (eol == NULL) {
            return -1;
        }

        *eol = '\0';
        if (eol > p && eol[-1] == '\r') {
            eol[-1] = '\0';
        }

        if (*p == '\0') {
            p = eol + 1;
            break;
        }

        colon = strchr(p, ':');
        if (colon == NULL || r->n == 32) {
            return -1;
        }

        *colon = '\0';
        for (v = colon + 1; *v == ' '; v++) { /* void */ }

        r->f[r->n].name = cs(p);
        r->f[r->n].value = cs(v);
        r->n++;
        p = eol + 1;
    }

    r->body = p;
    r->blen = (size_t) (end - p);

    memset(&r->msg, 0, sizeof(r->msg));
    r->msg.fields = r->f;
    r->msg.nfields = r->n;

    return 0;
}


static void
test_b24(void)
{
    int               rc;
    char              path[512], want[1024];
    size_t            n, wn;
    resp_t            r;
    fwg_str_t         base;
    fwg_key_t        *k;
    const char       *err;
    fwg_sig_input_t   in;

    n = read_data("b24-response.txt", r.text, sizeof(r.text));
    wn = read_data("b24-base.txt", want, sizeof(want));
    FWG_CHECK(n > 0 && wn > 0);
    if (n == 0 || wn == 0) {
        return;
    }

    FWG_CHECK_EQ_INT(resp_parse(&r, n), 0);
    FWG_CHECK_EQ_INT(r.status, 200);
    FWG_CHECK_EQ_INT(r.blen, 23);

    reset();
    err = NULL;
    rc = fwg_sig_parse(&r.msg, cs("sig-b24"), &arena, &in, &err);
    FWG_CHECK_MSG(rc == FWG_SIG_OK, "parse: %s", err ? err : "");
    if (rc != FWG_SIG_OK) {
        return;
    }

    rc = fwg_respsig_base(r.status, &r.msg, NULL, &in, &arena, &base, &err);
    FWG_CHECK_MSG(rc == FWG_SIG_OK, "base: %s", err ? err : "");
    FWG_CHECK_MEM(base.data, base.len, want, wn);

    k = fwg_key_from_file(FWG_ALG_ECDSA_P256_SHA256,
                          data_path("test-key-ecc-p256.pub", path,
                                    sizeof(path)), &err);
    FWG_CHECK(k != NULL);
    if (k == NULL) {
        return;
    }

    FWG_CHECK_EQ_INT(in.siglen, 64);
    FWG_CHECK_EQ_INT(fwg_sig_verify(k, base.data, base.len, in.sig,
                                    in.siglen), 1);

    /* the RFC's sha-512 Content-Digest matches its body */
    FWG_CHECK_EQ_INT(fwg_content_digest_check(r.f[2].value.data,
                         r.f[2].value.len, (const unsigned char *) r.body,
                         r.blen, &arena, &err), 1);

    /* another status: another base, no longer verifies */
    rc = fwg_respsig_base(503, &r.msg, NULL, &in, &arena, &base, &err);
    FWG_CHECK_EQ_INT(rc, FWG_SIG_OK);
    FWG_CHECK_EQ_INT(fwg_sig_verify(k, base.data, base.len, in.sig,
                                    in.siglen), 0);

    /* a request-only derived component is refused in a response */
    fwg_key_free(k);
}


static void
test_digest(void)
{
    char  d[FWG_RESPSIG_DIGEST_LEN + 1];

    /* RFC 9530 section 2's example body */
    FWG_CHECK_EQ_INT(fwg_respsig_digest(d, (const unsigned char *)
                                        "{\"hello\": \"world\"}", 18), 0);
    FWG_CHECK_CSTR(d, "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:");

    FWG_CHECK_EQ_INT(fwg_respsig_digest(d, NULL, 0), 0);
    FWG_CHECK_CSTR(d, "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:");
}


#define REQ_SIG_A                                                             \
    "fw=:dGhlIGRldmljZSdzIHNpZ25hdHVyZSBBIGhlcmUgYW5kIHRoZXJlIQ==:"
#define REQ_SIG_B                                                             \
    "fw=:dGhlIGRldmljZSdzIHNpZ25hdHVyZSBCIGhlcmUgYW5kIHRoZXJlIQ==:"


/* signs an answer, then verifies it (and tampered copies) */
static void
roundtrip(const char *pemname, const char *pubname, const char *wrongpub)
{
    int                    rc;
    char                   path[512], cd[FWG_RESPSIG_DIGEST_LEN + 1];
    char                   keyid[FWG_RESPSIG_KEYID_LEN + 1];
    char                   si[1024], sg[512];
    const char            *body, *err;
    fwg_str_t              sig_input, signature;
    fwg_key_t             *priv, *pub, *wrong;
    fwg_field_t            f[4];
    fwg_msg_t              msg;
    fwg_respsig_params_t   p;

    priv = fwg_key_from_file(FWG_ALG_NONE,
                             data_path(pemname, path, sizeof(path)), &err);
    pub = fwg_key_from_file(FWG_ALG_NONE,
                            data_path(pubname, path, sizeof(path)), &err);
    wrong = fwg_key_from_file(FWG_ALG_NONE,
                              data_path(wrongpub, path, sizeof(path)), &err);
    FWG_CHECK(priv != NULL && pub != NULL && wrong != NULL);
    if (priv == NULL || pub == NULL || wrong == NULL) {
        return;
    }

    FWG_CHECK_EQ_INT(fwg_respsig_keyid(priv, keyid), 0);
    FWG_CHECK(strncmp(keyid, "fwg-", 4) == 0 && strlen(keyid) == 20);
    {
        char  k2[FWG_RESPSIG_KEYID_LEN + 1];

        /* the private key and its public part name the same keyid */
        FWG_CHECK_EQ_INT(fwg_respsig_keyid(pub, k2), 0);
        FWG_CHECK_CSTR(keyid, k2);
    }

    body = "{\"artifact\":\"ls6000i-2.5.0.bin\",\"version\":\"2.5.0\"}";
    fwg_respsig_digest(cd, (const unsigned char *) body, strlen(body));

    memset(&p, 0, sizeof(p));
    p.status = 200;
    p.content_digest = cs(cd);
    p.req_signature = cs(REQ_SIG_A);
    p.req_label = cs("fw");
    p.label = cs("fwgate");
    p.keyid = cs(keyid);
    p.created = 1764000000;

    reset();
    err = NULL;
    rc = fwg_respsig_sign(priv, &p, &arena, &sig_input, &signature, &err);
    FWG_CHECK_MSG(rc == 0, "sign: %s", err ? err : "");
    if (rc != 0) {
        return;
    }

    snprintf(si, sizeof(si), "%.*s", (int) sig_input.len, sig_input.data);
    snprintf(sg, sizeof(sg), "%.*s", (int) signature.len, signature.data);

    {
        char  want[512];

        snprintf(want, sizeof(want),
                 "fwgate=(\"@status\" \"content-digest\" "
                 "\"signature\";req;key=\"fw\");created=1764000000;"
                 "keyid=\"%s\";alg=\"%s\"", keyid,
                 fwg_alg_name(fwg_key_alg(priv)));
        FWG_CHECK_CSTR(si, want);
    }

    f[0].name = cs("Content-Type");
    f[0].value = cs("application/json");
    f[1].name = cs("Content-Digest");
    f[1].value = cs(cd);
    f[2].name = cs("Signature-Input");
    f[2].value = cs(si);
    f[3].name = cs("Signature");
    f[3].value = cs(sg);
    memset(&msg, 0, sizeof(msg));
    msg.fields = f;
    msg.nfields = 4;

#define VERIFY(k, st, b, rs)                                                  \
    (reset(), fwg_respsig_verify((k), (st), &msg,                            \
                                 (const unsigned char *) (b), strlen(b),      \
                                 cs(rs), cs(""), &arena, &err))

    FWG_CHECK_EQ_INT(VERIFY(pub, 200, body, REQ_SIG_A), 1);
    /* the signer's own key verifies too */
    FWG_CHECK_EQ_INT(VERIFY(priv, 200, body, REQ_SIG_A), 1);

    /* tampered body: the digest no longer matches */
    FWG_CHECK_EQ_INT(VERIFY(pub, 200, "{\"artifact\":\"ls7000i.bin\"}",
                            REQ_SIG_A), 0);
    /* another status */
    FWG_CHECK_EQ_INT(VERIFY(pub, 204, body, REQ_SIG_A), 0);
    /* the answer to request A does not verify against request B */
    FWG_CHECK_EQ_INT(VERIFY(pub, 200, body, REQ_SIG_B), 0);
    /* request signature without the label named by key= */
    FWG_CHECK_EQ_INT(VERIFY(pub, 200, body,
                            "other=:dGhlIGRldmljZQ==:"), 0);
    /* another key */
    FWG_CHECK_EQ_INT(VERIFY(wrong, 200, body, REQ_SIG_A), 0);

    /* a digest of the tampered body does not help: it is signed */
    {
        char  cd2[FWG_RESPSIG_DIGEST_LEN + 1];

        fwg_respsig_digest(cd2, (const unsigned char *) "{}", 2);
        f[1].value = cs(cd2);
        FWG_CHECK_EQ_INT(VERIFY(pub, 200, "{}", REQ_SIG_A), 0);
        f[1].value = cs(cd);
    }

    /* coverage without the request binding is refused */
    {
        char  weak[1024];

        snprintf(weak, sizeof(weak), "fwgate=(\"@status\" "
                 "\"content-digest\");created=1764000000;keyid=\"%s\"",
                 keyid);
        f[2].value = cs(weak);
        FWG_CHECK_EQ_INT(VERIFY(pub, 200, body, REQ_SIG_A), 0);
        f[2].value = cs(si);
    }

    /* no signature at all */
    msg.nfields = 2;
    FWG_CHECK_EQ_INT(VERIFY(pub, 200, body, REQ_SIG_A), 0);
    msg.nfields = 4;

    /* a 204: empty body */
    fwg_respsig_digest(cd, NULL, 0);
    p.status = 204;
    p.content_digest = cs(cd);
    reset();
    FWG_CHECK_EQ_INT(fwg_respsig_sign(priv, &p, &arena, &sig_input,
                                      &signature, &err), 0);
    snprintf(si, sizeof(si), "%.*s", (int) sig_input.len, sig_input.data);
    snprintf(sg, sizeof(sg), "%.*s", (int) signature.len, signature.data);
    f[1].value = cs(cd);
    f[2].value = cs(si);
    f[3].value = cs(sg);
    FWG_CHECK_EQ_INT(VERIFY(pub, 204, "", REQ_SIG_A), 1);
    FWG_CHECK_EQ_INT(VERIFY(pub, 200, "", REQ_SIG_A), 0);
    FWG_CHECK_EQ_INT(VERIFY(pub, 204, "x", REQ_SIG_A), 0);

#undef VERIFY

    /* a public key cannot sign; labels must be RFC 8941 keys */
    reset();
    FWG_CHECK_EQ_INT(fwg_respsig_sign(pub, &p, &arena, &sig_input,
                                      &signature, &err), -1);
    p.label = cs("Bad Label");
    FWG_CHECK_EQ_INT(fwg_respsig_sign(priv, &p, &arena, &sig_input,
                                      &signature, &err), -1);
    p.label = cs("fwgate");
    p.keyid = cs("bad\x01keyid");
    FWG_CHECK_EQ_INT(fwg_respsig_sign(priv, &p, &arena, &sig_input,
                                      &signature, &err), -1);

    fwg_key_free(priv);
    fwg_key_free(pub);
    fwg_key_free(wrong);
}


/* the base of a request-bound answer, exactly (ed25519 is deterministic) */
static void
test_base_shape(void)
{
    int               rc;
    const char       *err;
    fwg_str_t         base;
    fwg_field_t       rf[3], qf;
    fwg_msg_t         resp, req;
    fwg_sig_input_t   in;

    rf[0].name = cs("Content-Digest");
    rf[0].value = cs("sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:");
    rf[1].name = cs("Signature-Input");
    rf[1].value = cs("fwgate=(\"@status\" \"content-digest\" "
                     "\"signature\";req;key=\"fw\");created=1;keyid=\"k\"");
    rf[2].name = cs("Signature");
    rf[2].value = cs("fwgate=:AAAA:");
    memset(&resp, 0, sizeof(resp));
    resp.fields = rf;
    resp.nfields = 3;

    /* two request labels: key= picks one, re-serialized per RFC 8941 */
    qf.name = cs("Signature");
    qf.value = cs("other=:AAAA:,   fw=:YWJj:");
    memset(&req, 0, sizeof(req));
    req.fields = &qf;
    req.nfields = 1;

    reset();
    rc = fwg_sig_parse(&resp, cs(""), &arena, &in, &err);
    FWG_CHECK_EQ_INT(rc, FWG_SIG_OK);
    if (rc != FWG_SIG_OK) {
        return;
    }

    rc = fwg_respsig_base(204, &resp, &req, &in, &arena, &base, &err);
    FWG_CHECK_EQ_INT(rc, FWG_SIG_OK);
    FWG_CHECK_STR(base,
        "\"@status\": 204\n"
        "\"content-digest\": "
        "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:\n"
        "\"signature\";req;key=\"fw\": :YWJj:\n"
        "\"@signature-params\": (\"@status\" \"content-digest\" "
        "\"signature\";req;key=\"fw\");created=1;keyid=\"k\"");

    /* without a request, a ;req component cannot be built */
    rc = fwg_respsig_base(204, &resp, NULL, &in, &arena, &base, &err);
    FWG_CHECK(rc != FWG_SIG_OK);

    /* request-only derived components need ;req */
    rf[1].value = cs("fwgate=(\"@method\");created=1");
    rc = fwg_sig_parse(&resp, cs(""), &arena, &in, &err);
    FWG_CHECK_EQ_INT(rc, FWG_SIG_OK);
    rc = fwg_respsig_base(200, &resp, &req, &in, &arena, &base, &err);
    FWG_CHECK(rc != FWG_SIG_OK);

    /* @status twice */
    rf[1].value = cs("fwgate=(\"@status\" \"@status\");created=1");
    rc = fwg_sig_parse(&resp, cs(""), &arena, &in, &err);
    if (rc == FWG_SIG_OK) {
        rc = fwg_respsig_base(200, &resp, &req, &in, &arena, &base, &err);
    }
    FWG_CHECK(rc != FWG_SIG_OK);
}


void
suite_respsig(void)
{
    unit_suite("respsig");

    test_digest();
    test_b24();
    test_base_shape();
    roundtrip("test-key-ed25519.pem", "test-key-ed25519.pub",
              "test-key-ecc-p256.pub");
    roundtrip("test-key-ecc-p256.pem", "test-key-ecc-p256.pub",
              "test-key-ed25519.pub");
}
