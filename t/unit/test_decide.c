/*
 * The decision procedure: every reason code of SPEC section 4 from a
 * request signed with fwg_sig_sign (HMAC) and constructed records.
 */

#include <stdio.h>
#include <string.h>

#include "unit.h"
#include "fwg_b64.h"
#include "fwg_decide.h"
#include "fwg_sig.h"


#define NOW  1764000000LL

/* "0123456789abcdef0123456789abcdef" */
static const char  secret_b64[] =
    "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
static const char  other_b64[] =
    "ZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmY=";

#define MAX_FIELDS  12

typedef struct {
    fwg_field_t     f[MAX_FIELDS];
    size_t          n;
    fwg_msg_t       msg;
    char            sigval[1024];
    char            sigin[1024];
} req_t;


static void
set_str(fwg_str_t *s, const char *v)
{
    s->data = v;
    s->len = strlen(v);
}


static void
req_field(req_t *r, const char *name, const char *value)
{
    set_str(&r->f[r->n].name, name);
    set_str(&r->f[r->n].value, value);
    r->n++;
}


static void
req_init(req_t *r)
{
    memset(r, 0, sizeof(*r));
    set_str(&r->msg.method, "GET");
    set_str(&r->msg.scheme, "https");
    set_str(&r->msg.authority, "fw.example.com");
    set_str(&r->msg.path, "/firmware/ls6000i-2.5.0.bin");
    r->msg.fields = r->f;
}


/* the usual claims */
static void
req_claims(req_t *r, const char *model, const char *version)
{
    req_field(r, "Host", "fw.example.com");
    if (model) {
        req_field(r, "X-Device-Model", model);
    }
    if (version) {
        req_field(r, "X-Firmware-Version", version);
    }
}


/*
 * Adds Signature-Input (fw=<params>) and a Signature made with key over
 * the base the parser builds, i.e. what a correct client sends.
 */
static int
req_sign(req_t *r, const char *params, const char *key_b64)
{
    fwg_key_t        *k;
    fwg_sig_input_t   in;
    fwg_arena_t       a;
    fwg_str_t         base;
    char              mem[32768];
    unsigned char     sig[FWG_SIG_MAX_SIG];
    size_t            siglen, n;
    const char       *err;
    size_t            si, sg;

    snprintf(r->sigin, sizeof(r->sigin), "fw=%s", params);
    snprintf(r->sigval, sizeof(r->sigval), "fw=:AAAA:");

    si = r->n;
    req_field(r, "Signature-Input", r->sigin);
    sg = r->n;
    req_field(r, "Signature", r->sigval);
    r->msg.nfields = r->n;

    fwg_arena_init(&a, mem, sizeof(mem));
    err = NULL;

    if (fwg_sig_parse(&r->msg, (fwg_str_t) fwg_null_str, &a, &in, &err)
        != FWG_SIG_OK)
    {
        printf("req_sign: parse: %s\n", err ? err : "?");
        return -1;
    }

    if (fwg_sig_base(&r->msg, &in, &a, &base, &err) != FWG_SIG_OK) {
        printf("req_sign: base: %s\n", err ? err : "?");
        return -1;
    }

    k = fwg_key_from_record(FWG_ALG_HMAC_SHA256, key_b64, strlen(key_b64),
                            &err);
    if (k == NULL) {
        printf("req_sign: key: %s\n", err ? err : "?");
        return -1;
    }

    if (fwg_sig_sign(k, base.data, base.len, sig, &siglen) != 0) {
        fwg_key_free(k);
        return -1;
    }

    fwg_key_free(k);

    memcpy(r->sigval, "fw=:", 4);
    n = fwg_b64_encode(r->sigval + 4, sig, siglen);
    memcpy(r->sigval + 4 + n, ":", 2);

    set_str(&r->f[sg].value, r->sigval);
    (void) si;

    return 0;
}


#define COVER                                                                 \
    "(\"@method\" \"@path\" \"x-device-model\" \"x-firmware-version\")"

static char  params_buf[1024];

/* the default coverage with created=NOW and the given extra params */
static const char *
params(const char *extra)
{
    snprintf(params_buf, sizeof(params_buf),
             COVER ";created=%lld;keyid=\"LS6-000123\"%s", NOW, extra);
    return params_buf;
}


/* a correctly signed request (LS-6000i 2.4.1) */
static void
good_req(req_t *r, const char *extra)
{
    req_init(r);
    req_claims(r, "LS-6000i", "2.4.1");
    FWG_CHECK(req_sign(r, params(extra), secret_b64) == 0);
}


typedef struct {
    int     steps[20];
    int     nsteps;
    int     failed_step;
} trace_t;


static void
trace_cb(void *data, int step, const char *check, fwg_reason_t failed,
    const char *detail)
{
    trace_t  *t;

    t = data;

    if (t->nsteps < 20) {
        t->steps[t->nsteps++] = step;
    }

    if (failed != FWG_R_OK) {
        t->failed_step = step;
    }

    (void) check;
    (void) detail;
}


static fwg_reason_t
request(const req_t *r, const fwg_policy_t *p, int64_t now,
    fwg_claims_t *c, char *mem, size_t size)
{
    fwg_arena_t  a;

    fwg_arena_init(&a, mem, size);

    return fwg_decide_request(&r->msg, p, now, &a, c, NULL, NULL);
}


static fwg_reason_t
request_default(const req_t *r)
{
    static char    mem[32768];
    fwg_policy_t   p;
    fwg_claims_t   c;

    fwg_policy_default(&p);

    return request(r, &p, NOW, &c, mem, sizeof(mem));
}


/* replay store: remembers up to 8 nonces */
typedef struct {
    char    seen[8][64];
    int     n;
} replay_t;


static int
replay_cb(void *data, fwg_str_t keyid, fwg_str_t nonce, int64_t expires_at)
{
    replay_t  *rs;
    int        i;

    rs = data;

    for (i = 0; i < rs->n; i++) {
        if (strlen(rs->seen[i]) == nonce.len
            && memcmp(rs->seen[i], nonce.data, nonce.len) == 0)
        {
            return 1;
        }
    }

    if (rs->n < 8 && nonce.len < 64) {
        memcpy(rs->seen[rs->n], nonce.data, nonce.len);
        rs->seen[rs->n][nonce.len] = '\0';
        rs->n++;
    }

    (void) keyid;
    (void) expires_at;

    return 0;
}


typedef struct {
    fwg_device_rec_t    dev;
    fwg_artifact_rec_t  art;
    fwg_rollout_rec_t   ro;
    fwg_decide_in_t     in;
    fwg_verdict_t       v;
} world_t;


/* records under which good_req() is allowed */
static void
world_init(world_t *w, const fwg_claims_t *c)
{
    memset(w, 0, sizeof(*w));

    w->dev.found = 1;
    set_str(&w->dev.model, "LS-6000i");
    set_str(&w->dev.alg, "hmac-sha256");
    set_str(&w->dev.key, secret_b64);
    set_str(&w->dev.status, "active");

    w->art.found = 1;
    set_str(&w->art.version, "2.5.0");
    set_str(&w->art.models, "LS-5000 LS-6000i LS-7000i:r2");
    set_str(&w->art.sha256, "00");
    set_str(&w->art.size, "10");
    set_str(&w->art.path, "/firmware/ls6000i-2.5.0.bin");

    w->ro.found = 1;
    set_str(&w->ro.artifact, "ls6000i-2.5.0.bin");
    set_str(&w->ro.percent, "100");
    set_str(&w->ro.state, "active");
    set_str(&w->ro.downgrade, "0");

    w->in.claims = c;
    set_str(&w->in.artifact, "ls6000i-2.5.0.bin");
    w->in.device_rec = &w->dev;
    w->in.artifact_rec = &w->art;
    w->in.rollout_rec = &w->ro;
    w->in.replay_window = 330;
    w->in.now = NOW;
}


static fwg_reason_t
decide(world_t *w)
{
    return fwg_decide_registry(&w->in, &w->v, NULL, NULL);
}


static void
suite_decide_tables(void)
{
    fwg_str_t  models, m, h, empty;
    int        r;

    FWG_CHECK_CSTR(fwg_reason_name(FWG_R_OK), "ok");
    FWG_CHECK_CSTR(fwg_reason_name(FWG_R_MISSING_SIGNATURE),
                   "missing_signature");
    FWG_CHECK_CSTR(fwg_reason_name(FWG_R_ROLLOUT_HALTED), "rollout_halted");
    FWG_CHECK_CSTR(fwg_reason_name(FWG_R_REGISTRY_UNAVAILABLE),
                   "registry_unavailable");
    FWG_CHECK_CSTR(fwg_reason_name(FWG_R__COUNT), "unknown");

    FWG_CHECK_EQ_INT(fwg_reason_status(FWG_R_MISSING_SIGNATURE), 401);
    FWG_CHECK_EQ_INT(fwg_reason_status(FWG_R_MALFORMED_SIGNATURE), 400);
    FWG_CHECK_EQ_INT(fwg_reason_status(FWG_R_BAD_CLAIMS), 400);
    FWG_CHECK_EQ_INT(fwg_reason_status(FWG_R_REVOKED), 403);
    FWG_CHECK_EQ_INT(fwg_reason_status(FWG_R_UNKNOWN_ARTIFACT), 404);
    FWG_CHECK_EQ_INT(fwg_reason_status(FWG_R_REGISTRY_UNAVAILABLE), 503);

    for (r = FWG_R_MISSING_SIGNATURE; r < FWG_R_REGISTRY_UNAVAILABLE; r++) {
        FWG_CHECK_MSG(fwg_reason_step((fwg_reason_t) r) >= 1
                      && fwg_reason_step((fwg_reason_t) r) <= 16,
                      "step of %s", fwg_reason_name((fwg_reason_t) r));
        FWG_CHECK_MSG(fwg_reason_step((fwg_reason_t) r)
                      >= fwg_reason_step((fwg_reason_t) (r - 1)),
                      "steps in order at %s",
                      fwg_reason_name((fwg_reason_t) r));
    }

    FWG_CHECK_EQ_INT(fwg_reason_step(FWG_R_DOWNGRADE), 16);
    FWG_CHECK_EQ_INT(fwg_reason_step(FWG_R_REGISTRY_UNAVAILABLE), 0);

    set_str(&m, "LS-6000i");
    FWG_CHECK(fwg_model_valid(m));
    set_str(&m, "a.b_c-9");
    FWG_CHECK(fwg_model_valid(m));
    set_str(&m, "bad model");
    FWG_CHECK(!fwg_model_valid(m));
    set_str(&m, "x:y");
    FWG_CHECK(!fwg_model_valid(m));
    set_str(&m, "");
    FWG_CHECK(!fwg_model_valid(m));
    set_str(&m, "0123456789012345678901234567890123456789"
                "012345678901234567890123");
    FWG_CHECK(fwg_model_valid(m));
    set_str(&m, "0123456789012345678901234567890123456789"
                "0123456789012345678901234");
    FWG_CHECK(!fwg_model_valid(m));

    empty.data = NULL;
    empty.len = 0;

    set_str(&models, "LS-5000  LS-6000i LS-7000i:r2\tLS-8000:");
    set_str(&m, "LS-6000i");
    FWG_CHECK(fwg_models_lists(models, m, empty));
    set_str(&h, "r9");
    FWG_CHECK(fwg_models_lists(models, m, h));
    set_str(&m, "LS-7000i");
    FWG_CHECK(!fwg_models_lists(models, m, empty));
    FWG_CHECK(!fwg_models_lists(models, m, h));
    set_str(&h, "r2");
    FWG_CHECK(fwg_models_lists(models, m, h));
    set_str(&m, "LS-600");
    FWG_CHECK(!fwg_models_lists(models, m, empty));
    set_str(&m, "LS-8000");
    FWG_CHECK(!fwg_models_lists(models, m, empty));
    set_str(&m, "LS-6000i LS-5000");
    FWG_CHECK(!fwg_models_lists(models, m, empty));
    set_str(&m, "");
    FWG_CHECK(!fwg_models_lists(models, m, empty));
    FWG_CHECK(!fwg_models_lists(empty, m, empty));
}


static void
suite_decide_request(void)
{
    static char    mem[32768];
    req_t          r;
    fwg_policy_t   p;
    fwg_claims_t   c;
    trace_t        t;
    fwg_arena_t    a;
    int            i;

    /* the good one */

    good_req(&r, ";alg=\"hmac-sha256\";nonce=\"n1\"");
    fwg_policy_default(&p);
    fwg_arena_init(&a, mem, sizeof(mem));
    memset(&t, 0, sizeof(t));

    FWG_CHECK_EQ_INT(fwg_decide_request(&r.msg, &p, NOW, &a, &c, trace_cb,
                                        &t), FWG_R_OK);
    FWG_CHECK_STR(c.device, "LS6-000123");
    FWG_CHECK_STR(c.model, "LS-6000i");
    FWG_CHECK_STR(c.version_str, "2.4.1");
    FWG_CHECK(c.hw.data == NULL && c.hw.len == 0);
    FWG_CHECK(c.base.len > 0);
    FWG_CHECK_EQ_INT(t.nsteps, 5);
    for (i = 0; i < t.nsteps; i++) {
        FWG_CHECK_EQ_INT(t.steps[i], i + 1);
    }

    /* 1 missing_signature */

    req_init(&r);
    req_claims(&r, "LS-6000i", "2.4.1");
    r.msg.nfields = r.n;
    FWG_CHECK_EQ_INT(request_default(&r), FWG_R_MISSING_SIGNATURE);

    req_init(&r);
    req_claims(&r, "LS-6000i", "2.4.1");
    req_field(&r, "Signature-Input", "fw=(\"@method\");created=1");
    r.msg.nfields = r.n;
    FWG_CHECK_EQ_INT(request_default(&r), FWG_R_MISSING_SIGNATURE);

    /* 2 malformed_signature */

    req_init(&r);
    req_claims(&r, "LS-6000i", "2.4.1");
    req_field(&r, "Signature-Input", "fw=(\"@method\";created=1");
    req_field(&r, "Signature", "fw=:AAAA:");
    r.msg.nfields = r.n;
    FWG_CHECK_EQ_INT(request_default(&r), FWG_R_MALFORMED_SIGNATURE);

    req_init(&r);
    req_claims(&r, "LS-6000i", "2.4.1");
    req_field(&r, "Signature-Input", "fw=(\"@method\");created=1");
    req_field(&r, "Signature", "other=:AAAA:");
    r.msg.nfields = r.n;
    FWG_CHECK_EQ_INT(request_default(&r), FWG_R_MALFORMED_SIGNATURE);

    req_init(&r);               /* no keyid */
    req_claims(&r, "LS-6000i", "2.4.1");
    snprintf(params_buf, sizeof(params_buf), COVER ";created=%lld", NOW);
    FWG_CHECK(req_sign(&r, params_buf, secret_b64) == 0);
    FWG_CHECK_EQ_INT(request_default(&r), FWG_R_MALFORMED_SIGNATURE);

    /* 3 insufficient_coverage, unsupported_alg */

    req_init(&r);
    req_claims(&r, "LS-6000i", "2.4.1");
    snprintf(params_buf, sizeof(params_buf),
             "(\"@method\" \"@path\" \"x-device-model\");created=%lld;"
             "keyid=\"LS6-000123\"", NOW);
    FWG_CHECK(req_sign(&r, params_buf, secret_b64) == 0);
    FWG_CHECK_EQ_INT(request_default(&r), FWG_R_INSUFFICIENT_COVERAGE);

    good_req(&r, "");
    fwg_policy_default(&p);
    p.require_nonce = 1;
    FWG_CHECK_EQ_INT(request(&r, &p, NOW, &c, mem, sizeof(mem)),
                     FWG_R_INSUFFICIENT_COVERAGE);

    good_req(&r, ";alg=\"rsa-pss-sha512\"");
    FWG_CHECK_EQ_INT(request_default(&r), FWG_R_UNSUPPORTED_ALG);

    good_req(&r, ";alg=\"hmac-sha256\"");
    fwg_policy_default(&p);
    p.algs = 1u << FWG_ALG_ED25519;
    FWG_CHECK_EQ_INT(request(&r, &p, NOW, &c, mem, sizeof(mem)),
                     FWG_R_UNSUPPORTED_ALG);

    /* 4 stale */

    good_req(&r, "");
    fwg_policy_default(&p);
    FWG_CHECK_EQ_INT(request(&r, &p, NOW + 300, &c, mem, sizeof(mem)),
                     FWG_R_OK);
    FWG_CHECK_EQ_INT(request(&r, &p, NOW + 301, &c, mem, sizeof(mem)),
                     FWG_R_STALE);
    FWG_CHECK_EQ_INT(request(&r, &p, NOW - 30, &c, mem, sizeof(mem)),
                     FWG_R_OK);
    FWG_CHECK_EQ_INT(request(&r, &p, NOW - 31, &c, mem, sizeof(mem)),
                     FWG_R_STALE);

    good_req(&r, ";expires=1764000010");
    FWG_CHECK_EQ_INT(request(&r, &p, NOW + 10, &c, mem, sizeof(mem)),
                     FWG_R_OK);
    FWG_CHECK_EQ_INT(request(&r, &p, NOW + 11, &c, mem, sizeof(mem)),
                     FWG_R_STALE);

    req_init(&r);               /* no created */
    req_claims(&r, "LS-6000i", "2.4.1");
    FWG_CHECK(req_sign(&r, COVER ";keyid=\"LS6-000123\"", secret_b64) == 0);
    FWG_CHECK_EQ_INT(request(&r, &p, NOW, &c, mem, sizeof(mem)),
                     FWG_R_STALE);
    FWG_CHECK_CSTR(c.detail, "no created");

    /* 5 bad_claims */

    req_init(&r);
    req_claims(&r, "LS 6000i!", "2.4.1");
    FWG_CHECK(req_sign(&r, params(""), secret_b64) == 0);
    FWG_CHECK_EQ_INT(request_default(&r), FWG_R_BAD_CLAIMS);

    req_init(&r);
    req_claims(&r, "LS-6000i", "2.4");
    FWG_CHECK(req_sign(&r, params(""), secret_b64) == 0);
    FWG_CHECK_EQ_INT(request_default(&r), FWG_R_BAD_CLAIMS);

    req_init(&r);
    req_claims(&r, "LS-6000i", "2.4.1");
    req_field(&r, "X-Device-Model", "LS-7000i");
    FWG_CHECK(req_sign(&r, params(""), secret_b64) == 0);
    FWG_CHECK_EQ_INT(request_default(&r), FWG_R_BAD_CLAIMS);

    /* a policy that does not demand the claims still needs them covered */
    req_init(&r);
    req_claims(&r, "LS-6000i", "2.4.1");
    snprintf(params_buf, sizeof(params_buf),
             "(\"@method\" \"@path\" \"x-firmware-version\");created=%lld;"
             "keyid=\"LS6-000123\"", NOW);
    FWG_CHECK(req_sign(&r, params_buf, secret_b64) == 0);
    fwg_policy_default(&p);
    p.nrequired = 2;
    FWG_CHECK_EQ_INT(request(&r, &p, NOW, &c, mem, sizeof(mem)),
                     FWG_R_BAD_CLAIMS);

    /* covered but absent: the claim check speaks first */
    req_init(&r);
    req_claims(&r, NULL, "2.4.1");
    req_field(&r, "Signature-Input", "fw=" COVER
              ";created=1764000000;keyid=\"LS6-000123\"");
    req_field(&r, "Signature", "fw=:AAAA:");
    r.msg.nfields = r.n;
    FWG_CHECK_EQ_INT(request_default(&r), FWG_R_BAD_CLAIMS);

    /* hw: covered and valid is a claim, uncovered is ignored */
    req_init(&r);
    req_claims(&r, "LS-6000i", "2.4.1");
    req_field(&r, "X-Device-Hw", "r2");
    snprintf(params_buf, sizeof(params_buf),
             "(\"@method\" \"@path\" \"x-device-model\" \"x-firmware-version\""
             " \"x-device-hw\");created=%lld;keyid=\"LS6-000123\"", NOW);
    FWG_CHECK(req_sign(&r, params_buf, secret_b64) == 0);
    fwg_policy_default(&p);
    FWG_CHECK_EQ_INT(request(&r, &p, NOW, &c, mem, sizeof(mem)), FWG_R_OK);
    FWG_CHECK_STR(c.hw, "r2");

    req_init(&r);
    req_claims(&r, "LS-6000i", "2.4.1");
    req_field(&r, "X-Device-Hw", "r2");
    FWG_CHECK(req_sign(&r, params(""), secret_b64) == 0);
    FWG_CHECK_EQ_INT(request(&r, &p, NOW, &c, mem, sizeof(mem)), FWG_R_OK);
    FWG_CHECK(c.hw.len == 0);

    req_init(&r);
    req_claims(&r, "LS-6000i", "2.4.1");
    req_field(&r, "X-Device-Hw", "r 2");
    snprintf(params_buf, sizeof(params_buf),
             "(\"@method\" \"@path\" \"x-device-model\" \"x-firmware-version\""
             " \"x-device-hw\");created=%lld;keyid=\"LS6-000123\"", NOW);
    FWG_CHECK(req_sign(&r, params_buf, secret_b64) == 0);
    FWG_CHECK_EQ_INT(request(&r, &p, NOW, &c, mem, sizeof(mem)),
                     FWG_R_BAD_CLAIMS);

    /* an arena too small is a refusal, never a crash */
    good_req(&r, "");
    for (i = 0; i < 4096; i += 7) {
        if (request(&r, &p, NOW, &c, mem, (size_t) i) == FWG_R_OK) {
            break;
        }
        FWG_CHECK(c.detail != NULL);
    }
    FWG_CHECK_MSG(i > 256 && i < 4096, "smallest arena %d", i);
}


static void
suite_decide_registry_steps(void)
{
    static char    mem[32768];
    req_t          r, r2;
    fwg_policy_t   p;
    fwg_claims_t   c, c2;
    world_t        w;
    trace_t        t;
    replay_t       rs;
    fwg_semver_t   v;
    uint32_t       states[FWG_HMAC_STATES];
    fwg_key_t     *k;
    static char    mem2[32768];
    const char    *err;
    int            i;

    fwg_policy_default(&p);

    good_req(&r, ";alg=\"hmac-sha256\";nonce=\"n1\"");
    FWG_CHECK_EQ_INT(request(&r, &p, NOW, &c, mem, sizeof(mem)), FWG_R_OK);

    /* allowed, every step traced in order */
    world_init(&w, &c);
    memset(&t, 0, sizeof(t));
    FWG_CHECK_EQ_INT(fwg_decide_registry(&w.in, &w.v, trace_cb, &t),
                     FWG_R_OK);
    FWG_CHECK_EQ_INT(w.v.reason, FWG_R_OK);
    FWG_CHECK_STR(w.v.target_version, "2.5.0");
    FWG_CHECK(w.v.has_bucket);
    FWG_CHECK(w.v.bucket < 10000);
    FWG_CHECK_EQ_INT(t.nsteps, 11);
    for (i = 0; i < t.nsteps; i++) {
        FWG_CHECK_EQ_INT(t.steps[i], i + 6);
    }

    /* 6 unknown_device */
    world_init(&w, &c);
    w.dev.found = 0;
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_UNKNOWN_DEVICE);
    FWG_CHECK_EQ_INT(w.v.step, 6);
    world_init(&w, &c);
    w.in.device_rec = NULL;
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_UNKNOWN_DEVICE);

    /* 7 bad_signature: another key, alg differs, tampered message */
    world_init(&w, &c);
    set_str(&w.dev.key, other_b64);
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_BAD_SIGNATURE);
    FWG_CHECK_EQ_INT(w.v.step, 7);

    world_init(&w, &c);
    set_str(&w.dev.key, "not base64!");
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_BAD_SIGNATURE);

    world_init(&w, &c);
    set_str(&w.dev.alg, "ed25519");
    set_str(&w.dev.key, "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_BAD_SIGNATURE);

    world_init(&w, &c);
    set_str(&w.dev.alg, "rot13");
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_UNSUPPORTED_ALG);

    world_init(&w, &c);
    w.in.algs = 1u << FWG_ALG_ED25519;
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_UNSUPPORTED_ALG);

    /* a key parsed by the caller is used as given */
    err = NULL;
    k = fwg_key_from_record(FWG_ALG_HMAC_SHA256, secret_b64,
                            strlen(secret_b64), &err);
    FWG_CHECK(k != NULL);
    world_init(&w, &c);
    set_str(&w.dev.key, "garbage");
    w.in.key = k;
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_OK);

    /* the key's kept states (a worker's memo) verify as the key does */
    FWG_CHECK(fwg_key_hmac_states(k, states) == 0);
    world_init(&w, &c);
    set_str(&w.dev.key, "garbage");
    w.in.hmac_states = states;
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_OK);

    /* another key's states: bad_signature at step 7 */
    fwg_key_free(k);
    k = fwg_key_from_record(FWG_ALG_HMAC_SHA256, other_b64,
                            strlen(other_b64), &err);
    FWG_CHECK(k != NULL && fwg_key_hmac_states(k, states) == 0);
    world_init(&w, &c);
    w.in.hmac_states = states;
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_BAD_SIGNATURE);
    FWG_CHECK_EQ_INT(w.v.step, 7);

    fwg_key_free(k);

    good_req(&r2, "");
    set_str(&r2.msg.path, "/firmware/other.bin");
    FWG_CHECK_EQ_INT(request(&r2, &p, NOW, &c2, mem2, sizeof(mem2)),
                     FWG_R_OK);
    world_init(&w, &c2);
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_BAD_SIGNATURE);

    /* 8 replay */
    memset(&rs, 0, sizeof(rs));
    world_init(&w, &c);
    w.in.replay = replay_cb;
    w.in.replay_data = &rs;
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_OK);
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_REPLAY);
    FWG_CHECK_EQ_INT(w.v.step, 8);

    /* no nonce: nothing to replay-check */
    good_req(&r2, "");
    FWG_CHECK_EQ_INT(request(&r2, &p, NOW, &c2, mem2, sizeof(mem2)),
                     FWG_R_OK);
    world_init(&w, &c2);
    w.in.replay = replay_cb;
    w.in.replay_data = &rs;
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_OK);
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_OK);

    /* 9 revoked, and any status but active */
    world_init(&w, &c);
    set_str(&w.dev.status, "revoked");
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_REVOKED);
    FWG_CHECK_EQ_INT(w.v.step, 9);
    set_str(&w.dev.status, "");
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_REVOKED);
    set_str(&w.dev.status, "Active");
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_REVOKED);

    /* 10 model_mismatch: the 6000i claiming a 7000i, hw both ways */
    world_init(&w, &c);
    set_str(&w.dev.model, "LS-7000i");
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_MODEL_MISMATCH);
    FWG_CHECK_EQ_INT(w.v.step, 10);

    world_init(&w, &c);
    set_str(&w.dev.hw, "r2");
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_MODEL_MISMATCH);

    world_init(&w, &c);
    set_str(&w.in.hw, "r2");
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_MODEL_MISMATCH);
    set_str(&w.dev.hw, "r2");
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_OK);
    set_str(&w.dev.hw, "r3");
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_MODEL_MISMATCH);

    /* 11 unknown_artifact */
    world_init(&w, &c);
    w.art.found = 0;
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_UNKNOWN_ARTIFACT);
    FWG_CHECK_EQ_INT(w.v.step, 11);
    world_init(&w, &c);
    set_str(&w.art.version, "2.5");
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_UNKNOWN_ARTIFACT);

    /* 12 incompatible: the incident */
    world_init(&w, &c);
    set_str(&w.art.models, "LS-7000i LS-6000");
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_INCOMPATIBLE);
    FWG_CHECK_EQ_INT(w.v.step, 12);

    world_init(&w, &c);
    set_str(&w.art.models, "LS-6000i:r2");
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_INCOMPATIBLE);
    set_str(&w.dev.hw, "r2");
    set_str(&w.in.hw, "r2");
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_OK);

    /* 13 not_released, rollout_paused, rollout_halted */
    world_init(&w, &c);
    w.ro.found = 0;
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_NOT_RELEASED);
    FWG_CHECK_EQ_INT(w.v.step, 13);
    world_init(&w, &c);
    w.in.rollout_rec = NULL;
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_NOT_RELEASED);

    world_init(&w, &c);
    set_str(&w.ro.artifact, "ls6000i-2.6.0.bin");
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_NOT_RELEASED);
    set_str(&w.ro.state, "halted");
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_NOT_RELEASED);

    world_init(&w, &c);
    set_str(&w.ro.state, "paused");
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_ROLLOUT_PAUSED);
    set_str(&w.ro.state, "halted");
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_ROLLOUT_HALTED);
    set_str(&w.ro.state, "draft");
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_NOT_RELEASED);

    /* 14 not_in_cohort; canary beats percent and exclusion */
    world_init(&w, &c);
    set_str(&w.ro.percent, "0");
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_NOT_IN_COHORT);
    FWG_CHECK_EQ_INT(w.v.step, 14);
    FWG_CHECK(w.v.has_bucket);
    w.ro.canary = 1;
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_OK);
    w.ro.excluded = 1;
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_OK);
    w.ro.canary = 0;
    set_str(&w.ro.percent, "100");
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_NOT_IN_COHORT);
    w.ro.excluded = 0;
    set_str(&w.ro.percent, "101");
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_NOT_IN_COHORT);

    /* the bucket follows the salt: default is the artifact name */
    world_init(&w, &c);
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_OK);
    i = (int) w.v.bucket;
    set_str(&w.ro.salt, "ls6000i-2.5.0.bin");
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_OK);
    FWG_CHECK_EQ_INT(w.v.bucket, i);
    set_str(&w.ro.salt, "another salt");
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_OK);
    FWG_CHECK(w.v.bucket < 10000);

    /* percent just above / at the bucket */
    {
        char  pct[16];

        world_init(&w, &c);
        FWG_CHECK_EQ_INT(decide(&w), FWG_R_OK);
        i = (int) w.v.bucket;
        snprintf(pct, sizeof(pct), "%d.%02d", (i + 1) / 100, (i + 1) % 100);
        set_str(&w.ro.percent, pct);
        FWG_CHECK_EQ_INT(decide(&w), FWG_R_OK);
        snprintf(pct, sizeof(pct), "%d.%02d", i / 100, i % 100);
        set_str(&w.ro.percent, pct);
        FWG_CHECK_EQ_INT(decide(&w), FWG_R_NOT_IN_COHORT);
    }

    /* penalized: after the cohort, until the time the record names */
    world_init(&w, &c);
    set_str(&w.dev.penalty, "99999999999");
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_PENALIZED);
    FWG_CHECK_EQ_INT(w.v.step, 14);
    FWG_CHECK_EQ_INT(fwg_reason_status(FWG_R_PENALIZED), 403);
    set_str(&w.ro.percent, "0");
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_NOT_IN_COHORT);
    set_str(&w.ro.percent, "100");
    set_str(&w.dev.penalty, "1000");
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_OK);
    set_str(&w.dev.penalty, "junk");
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_PENALIZED);
    FWG_CHECK_EQ_INT(fwg_reason_status(FWG_R_ROLLOUT_THROTTLED), 503);
    FWG_CHECK_CSTR(fwg_reason_name(FWG_R_ROLLOUT_THROTTLED),
                   "rollout_throttled");

    /* 15 upgrade_path */
    world_init(&w, &c);
    set_str(&w.ro.from, ">=3.0.0");
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_UPGRADE_PATH);
    FWG_CHECK_EQ_INT(w.v.step, 15);
    set_str(&w.ro.from, ">=2.0.0 <2.5.0");
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_OK);
    set_str(&w.ro.from, "<1.0.0 || =2.4.1");
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_OK);
    set_str(&w.ro.from, ">>2");
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_UPGRADE_PATH);

    /* 16 downgrade, allowed with downgrade=1; same version passes */
    world_init(&w, &c);
    set_str(&w.art.version, "2.4.0");
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_DOWNGRADE);
    FWG_CHECK_EQ_INT(w.v.step, 16);
    set_str(&w.ro.downgrade, "1");
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_OK);
    set_str(&w.ro.downgrade, "0");
    set_str(&w.art.version, "2.4.1+build7");
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_OK);
    set_str(&w.art.version, "2.4.1-rc.1");
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_DOWNGRADE);

    /* explain mode: no request, steps 1-5, 7, 8 traced as skipped */
    world_init(&w, NULL);
    set_str(&w.in.device, "LS6-000123");
    set_str(&w.in.model, "LS-6000i");
    memset(&t, 0, sizeof(t));
    FWG_CHECK_EQ_INT(fwg_decide_registry(&w.in, &w.v, trace_cb, &t),
                     FWG_R_OK);
    FWG_CHECK_EQ_INT(t.nsteps, 16);
    for (i = 0; i < t.nsteps; i++) {
        FWG_CHECK_EQ_INT(t.steps[i], i + 1);
    }

    FWG_CHECK(fwg_semver_parse(&v, "2.6.0", 5) == 0);
    w.in.version = &v;
    set_str(&w.art.models, "LS-7000i");
    memset(&t, 0, sizeof(t));
    FWG_CHECK_EQ_INT(fwg_decide_registry(&w.in, &w.v, trace_cb, &t),
                     FWG_R_INCOMPATIBLE);
    FWG_CHECK_EQ_INT(t.failed_step, 12);
    FWG_CHECK_EQ_INT(t.nsteps, 12);

    set_str(&w.art.models, "LS-6000i");
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_DOWNGRADE);
}


static int
replay_full_cb(void *data, fwg_str_t keyid, fwg_str_t nonce,
    int64_t expires_at)
{
    (void) data;
    (void) keyid;
    (void) nonce;
    (void) expires_at;

    return FWG_REPLAY_FULL;
}


static int
path_is(const char *path, const char *want)
{
    fwg_str_t  p, got;

    p.data = path;
    p.len = strlen(path);
    got = fwg_artifact_path(p);

    if (want == NULL) {
        return got.len == 0;
    }

    return got.len == strlen(want) && memcmp(got.data, want, got.len) == 0;
}


static int
normal(const char *path)
{
    fwg_str_t  p;

    p.data = path;
    p.len = strlen(path);

    return fwg_path_normal(p);
}


/* the seams: the path a download is served at, a full replay store */
static void
suite_decide_seams(void)
{
    static char    mem[32768];
    req_t          r;
    fwg_policy_t   p;
    fwg_claims_t   c;
    world_t        w;

    fwg_policy_default(&p);

    good_req(&r, ";alg=\"hmac-sha256\";nonce=\"n1\"");
    FWG_CHECK_EQ_INT(request(&r, &p, NOW, &c, mem, sizeof(mem)), FWG_R_OK);

    /* the registry path, normalised and raw */
    world_init(&w, &c);
    set_str(&w.in.path, "/firmware/ls6000i-2.5.0.bin");
    set_str(&w.in.raw_path, "/firmware/ls6000i-2.5.0.bin");
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_OK);

    /* the name in another folder */
    set_str(&w.in.path, "/firmware/LS-7000i/ls6000i-2.5.0.bin");
    set_str(&w.in.raw_path, "/firmware/LS-7000i/ls6000i-2.5.0.bin");
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_PATH_MISMATCH);
    FWG_CHECK_EQ_INT(w.v.step, 11);
    FWG_CHECK_EQ_INT(fwg_reason_status(FWG_R_PATH_MISMATCH), 404);

    /* normalised to the path, raw another target */
    set_str(&w.in.path, "/firmware/ls6000i-2.5.0.bin");
    set_str(&w.in.raw_path,
            "/firmware/ls7000i-3.0.0.bin%3F/../ls6000i-2.5.0.bin");
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_PATH_MISMATCH);
    set_str(&w.in.raw_path, "/firmware/ls6000i%2D2.5.0.bin");
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_PATH_MISMATCH);

    /* no raw form given: the normalised one alone */
    w.in.raw_path.data = NULL;
    w.in.raw_path.len = 0;
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_OK);

    /* an artifact with no path cannot be tied to a download */
    set_str(&w.art.path, "");
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_PATH_MISMATCH);

    /* a path given as a URL: its path component */
    set_str(&w.art.path, "https://cdn.example.com/firmware/ls6000i-2.5.0.bin");
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_OK);

    /* the check is the incompatible image's too: step 11 comes first */
    set_str(&w.art.path, "/firmware/ls6000i-2.5.0.bin");
    set_str(&w.art.models, "LS-7000i");
    set_str(&w.in.path, "/firmware/x/ls6000i-2.5.0.bin");
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_PATH_MISMATCH);

    /* update checks and reports name no path: not checked */
    world_init(&w, &c);
    set_str(&w.art.path, "");
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_OK);

    /* a store that cannot remember the nonce refuses, 503 */
    world_init(&w, &c);
    w.in.replay = replay_full_cb;
    FWG_CHECK_EQ_INT(decide(&w), FWG_R_REPLAY_STORE_FULL);
    FWG_CHECK_EQ_INT(w.v.step, 8);
    FWG_CHECK_EQ_INT(fwg_reason_status(FWG_R_REPLAY_STORE_FULL), 503);
    FWG_CHECK_CSTR(fwg_reason_name(FWG_R_REPLAY_STORE_FULL),
                   "replay_store_full");

    /* fwg_artifact_path() */
    FWG_CHECK(path_is("/a/b.bin", "/a/b.bin"));
    FWG_CHECK(path_is("http://h/a/b.bin", "/a/b.bin"));
    FWG_CHECK(path_is("https://h:8443/b.bin", "/b.bin"));
    FWG_CHECK(path_is("https://h", NULL));
    FWG_CHECK(path_is("b.bin", NULL));
    FWG_CHECK(path_is("a/b://c/d", NULL));
    FWG_CHECK(path_is("", NULL));

    /* fwg_path_normal(): the form a registry path must have */
    FWG_CHECK(normal("/firmware/ls6000i-2.5.0.bin"));
    FWG_CHECK(normal("/a"));
    FWG_CHECK(normal("/a/.b/c..d"));
    FWG_CHECK(!normal("/"));
    FWG_CHECK(!normal("firmware/x.bin"));
    FWG_CHECK(!normal("/a//b"));
    FWG_CHECK(!normal("/a/"));
    FWG_CHECK(!normal("/a/./b"));
    FWG_CHECK(!normal("/a/../b"));
    FWG_CHECK(!normal("/a/.."));
    FWG_CHECK(!normal("/a%2Fb"));
    FWG_CHECK(!normal("/a?b"));
    FWG_CHECK(!normal("/a#b"));
    FWG_CHECK(!normal("/a\\b"));
    FWG_CHECK(!normal("/a b"));
    FWG_CHECK(!normal("/a\x7f"));
}


void
suite_decide(void)
{
    unit_suite("decide");

    suite_decide_tables();
    suite_decide_request();
    suite_decide_registry_steps();
    suite_decide_seams();
}
