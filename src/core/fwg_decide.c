/*
 * The decision procedure; its steps and reasons: docs/reasons.md.
 *
 * Steps are evaluated strictly in order and the first failing one decides.
 * Every evaluated step is reported to the trace callback (pass and fail),
 * so `fwgatectl explain` prints exactly what the module does.
 *
 * Choices no rule fixes (listed here, and in docs/reasons.md's table of
 * choices, because both the module and the CLI inherit them):
 *
 *  - A signature without `created` is `stale` (detail "no created"): the
 *    freshness window cannot be checked without it.
 *  - A policy that requires a nonce and a signature without one is
 *    `insufficient_coverage` (step 3): the signature lacks something the
 *    policy demands, as with a missing component.
 *  - The signature base is built at the end of step 5, once the claims are
 *    known to be sane; when a covered component cannot be built (a covered
 *    header is absent, the base is too large) the reason is
 *    `malformed_signature`.
 *  - A claim header counts only when the signature covers the whole field
 *    value: the component has no parameters, or only `sf` / `bs`.  An
 *    uncovered X-Device-Hw is ignored (treated as absent); an uncovered
 *    model or version is `bad_claims`.  Several field lines for a covered
 *    claim are `bad_claims`.
 *  - Step 10 compares hw strictly: the claimed hw (absent or not) must
 *    equal the record's hw (absent or not).
 *  - Records that cannot be read (unknown alg or status, bad percent,
 *    range or version) fail closed at the step that reads them.
 *  - When the device's version is unknown (explain without --version)
 *    steps 15 and 16 are reported as skipped.
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fwg_decide.h"
#include "fwg_cohort.h"
#include "fwg_release.h"
#include "fwg_sigfast.h"

#define FWG_MAX_KEYID  256

static const struct {
    const char  *name;
    int          status;
    int          step;
} fwg_reasons[FWG_R__COUNT] = {
    { "ok",                     200,  0 },
    { "missing_signature",      401,  1 },
    { "malformed_signature",    400,  2 },
    { "insufficient_coverage",  401,  3 },
    { "unsupported_alg",        401,  3 },
    { "stale",                  401,  4 },
    { "bad_claims",             400,  5 },
    { "unknown_device",         401,  6 },
    { "bad_signature",          401,  7 },
    { "replay",                 401,  8 },
    { "replay_store_full",      503,  8 },
    { "revoked",                403,  9 },
    { "model_mismatch",         403, 10 },
    { "unknown_artifact",       404, 11 },
    { "path_mismatch",          404, 11 },
    { "unsigned_artifact",      403, 11 },
    { "incompatible",           403, 12 },
    { "not_released",           403, 13 },
    { "rollout_paused",         403, 13 },
    { "rollout_halted",         403, 13 },
    { "unsigned_floor",         403, 13 },
    { "below_floor",            403, 13 },
    { "not_in_cohort",          403, 14 },
    { "upgrade_path",           403, 15 },
    { "downgrade",              403, 16 },
    { "registry_unavailable",   503,  0 },
    { "registry_stale",         503,  0 },
    { "token_malformed",        400,  2 },
    { "token_expired",          401,  4 },
    { "token_invalid",          401,  7 },
    { "token_artifact",         403,  3 },
    { "token_device",           403,  5 },
    { "penalized",              403, 14 },
    { "rollout_throttled",      503,  0 }
};

static const char *fwg_step_names[17] = {
    "",
    "signature present",
    "signature parses",
    "coverage and algorithm",
    "freshness",
    "claims",
    "device record",
    "signature verifies",
    "nonce not replayed",
    "device active",
    "model matches record",
    "artifact exists",
    "artifact lists model",
    "rollout active for artifact",
    "device in cohort",
    "upgrade path",
    "not a downgrade"
};

static const char *fwg_default_required[] = {
    "@method", "@path", "x-device-model", "x-firmware-version"
};

#define FWG_ALGS_ALL  ((1u << FWG_ALG_ED25519)                               \
                       | (1u << FWG_ALG_ECDSA_P256_SHA256)                   \
                       | (1u << FWG_ALG_HMAC_SHA256))


const char *
fwg_reason_name(fwg_reason_t r)
{
    if ((unsigned) r >= FWG_R__COUNT) {
        return "unknown";
    }

    return fwg_reasons[r].name;
}


int
fwg_reason_status(fwg_reason_t r)
{
    if ((unsigned) r >= FWG_R__COUNT) {
        return 500;
    }

    return fwg_reasons[r].status;
}


int
fwg_reason_step(fwg_reason_t r)
{
    if ((unsigned) r >= FWG_R__COUNT) {
        return 0;
    }

    return fwg_reasons[r].step;
}


void
fwg_policy_default(fwg_policy_t *p)
{
    size_t  i;

    memset(p, 0, sizeof(*p));

    for (i = 0; i < sizeof(fwg_default_required) / sizeof(char *); i++) {
        p->required[i].data = fwg_default_required[i];
        p->required[i].len = strlen(fwg_default_required[i]);
    }

    p->nrequired = i;
    p->algs = FWG_ALGS_ALL;
    p->max_age = 300;
    p->clock_skew = 30;
    p->require_nonce = 0;
}


int
fwg_model_valid(fwg_str_t m)
{
    size_t  i;
    char    c;

    if (m.data == NULL || m.len == 0 || m.len > 64) {
        return 0;
    }

    for (i = 0; i < m.len; i++) {
        c = m.data[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
              || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
        {
            return 0;
        }
    }

    return 1;
}


int
fwg_models_lists(fwg_str_t models, fwg_str_t model, fwg_str_t hw)
{
    size_t       i, start, colon;
    fwg_str_t    m, h;
    const char  *p;

    if (models.data == NULL || model.len == 0) {
        return 0;
    }

    p = models.data;
    i = 0;

    while (i < models.len) {

        while (i < models.len && (p[i] == ' ' || p[i] == '\t')) {
            i++;
        }

        start = i;
        colon = (size_t) -1;

        while (i < models.len && p[i] != ' ' && p[i] != '\t') {
            if (p[i] == ':' && colon == (size_t) -1) {
                colon = i;
            }
            i++;
        }

        if (i == start) {
            break;
        }

        m.data = p + start;

        if (colon == (size_t) -1) {
            /* "MODEL": any hardware revision of the model */
            m.len = i - start;

            if (fwg_str_eqs(m, model)) {
                return 1;
            }

            continue;
        }

        /* "MODEL:HW": that revision only */
        m.len = colon - start;
        h.data = p + colon + 1;
        h.len = i - colon - 1;

        if (h.len && hw.len && fwg_str_eqs(m, model) && fwg_str_eqs(h, hw)) {
            return 1;
        }
    }

    return 0;
}


/* helpers ------------------------------------------------------------- */

static void
fwg_trace(fwg_trace_pt trace, void *tdata, int step, fwg_reason_t r,
    const char *detail)
{
    if (trace) {
        trace(tdata, step, fwg_step_names[step], r, detail ? detail : "");
    }
}


static int
fwg_name_ieq(fwg_str_t a, const char *lit)
{
    size_t  i;
    char    c;

    /* one pass, no strlen(): every header line of every request */

    for (i = 0; i < a.len; i++) {
        c = a.data[i];

        if (c >= 'A' && c <= 'Z') {
            c = (char) (c - 'A' + 'a');
        }

        if (lit[i] == '\0' || c != lit[i]) {
            return 0;
        }
    }

    return lit[a.len] == '\0';
}


static fwg_str_t
fwg_trim(fwg_str_t s)
{
    while (s.len && (s.data[0] == ' ' || s.data[0] == '\t')) {
        s.data++;
        s.len--;
    }

    while (s.len && (s.data[s.len - 1] == ' ' || s.data[s.len - 1] == '\t')) {
        s.len--;
    }

    return s;
}


/*
 * The five fields the decision reads, found in one pass over the field
 * lines: every request has them all, and a pass per name (five) was the
 * larger part of the step's cost.  Their names differ in length, so a
 * line is compared with one name at most.
 */

enum {
    FWG_F_SIGNATURE_INPUT = 0,
    FWG_F_SIGNATURE,
    FWG_F_MODEL,
    FWG_F_VERSION,
    FWG_F_HW,
    FWG_F_N
};


/* by FWG_F_*, with their lengths */
static const fwg_str_t  fwg_f_names[FWG_F_N] = {
    { "signature-input", sizeof("signature-input") - 1 },
    { "signature", sizeof("signature") - 1 },
    { "x-device-model", sizeof("x-device-model") - 1 },
    { "x-firmware-version", sizeof("x-firmware-version") - 1 },
    { "x-device-hw", sizeof("x-device-hw") - 1 }
};


typedef struct {
    size_t      n[FWG_F_N];         /* field lines of each name */
    fwg_str_t   v[FWG_F_N];         /* the first, trimmed */
} fwg_fields_t;


static void
fwg_find_fields(const fwg_msg_t *msg, fwg_fields_t *f)
{
    int     k;
    size_t  i;

    memset(f, 0, sizeof(*f));

    for (i = 0; i < msg->nfields; i++) {

        for (k = 0; k < FWG_F_N; k++) {
            if (msg->fields[i].name.len == fwg_f_names[k].len) {
                break;
            }
        }

        if (k == FWG_F_N) {
            continue;
        }

        if (fwg_name_ieq(msg->fields[i].name, fwg_f_names[k].data)
            && f->n[k]++ == 0)
        {
            f->v[k] = fwg_trim(msg->fields[i].value);
        }
    }
}


/*
 * A header component covers the whole field value when it carries no
 * parameters other than `sf` or `bs` (`key` would cover one member only).
 */
#define fwg_covers_field(sig, lit)                                            \
    fwg_covers_field_n(sig, lit, sizeof(lit) - 1)

static int
fwg_covers_field_n(const fwg_sig_input_t *sig, const char *name, size_t len)
{
    size_t                i, j;
    const fwg_sf_item_t  *it;
    int                   whole;

    if (sig->inner == NULL) {
        return 0;
    }

    for (i = 0; i < sig->inner->nitems; i++) {
        it = &sig->inner->items[i];

        /* the length first: most components differ in it */

        if (it->bare.type != FWG_SF_STRING
            || it->bare.str.len != len
            || memcmp(it->bare.str.data, name, len) != 0)
        {
            continue;
        }

        whole = 1;

        for (j = 0; j < it->nparams; j++) {
            if (!fwg_str_eq(it->params[j].key, "sf")
                && !fwg_str_eq(it->params[j].key, "bs"))
            {
                whole = 0;
            }
        }

        if (whole) {
            return 1;
        }
    }

    return 0;
}


/* a detail string formatted into the arena, with a static fallback */
static const char *
fwg_detail(fwg_arena_t *a, const char *fallback, const char *fmt, ...)
{
    va_list  ap;
    char    *buf;
    int      n;

    buf = fwg_arena_alloc(a, 160);
    if (buf == NULL) {
        return fallback;
    }

    va_start(ap, fmt);
    n = vsnprintf(buf, 160, fmt, ap);
    va_end(ap);

    return n < 0 ? fallback : buf;
}


/* steps 1-5 ----------------------------------------------------------- */

#define fwg_fail(n, r, d)                                                     \
    do {                                                                      \
        out->detail = (d);                                                    \
        fwg_trace(trace, tdata, (n), (r), out->detail);                       \
        return (r);                                                           \
    } while (0)


fwg_reason_t
fwg_decide_request(const fwg_msg_t *msg, const fwg_policy_t *p, int64_t now,
    fwg_arena_t *a, fwg_claims_t *out, fwg_trace_pt trace, void *tdata)
{
    int          rc, idx;
    size_t       nmodel, nver, nhw;
    fwg_str_t    model, ver, hw;
    fwg_fields_t f;
    fwg_alg_t    alg;
    const char  *err;
    char         buf[96];

    memset(out, 0, sizeof(*out));

    /* 1: both fields present */

    fwg_find_fields(msg, &f);

    if (f.n[FWG_F_SIGNATURE_INPUT] == 0 || f.n[FWG_F_SIGNATURE] == 0) {
        fwg_fail(1, FWG_R_MISSING_SIGNATURE,
                 f.n[FWG_F_SIGNATURE_INPUT] == 0 ? "no Signature-Input"
                                                 : "no Signature");
    }

    fwg_trace(trace, tdata, 1, FWG_R_OK, "Signature-Input and Signature");

    /* 2: they parse, the label exists, keyid present, sizes in limits */

    err = NULL;
    rc = fwg_sig_parse_fast(msg, p->label, a, &out->sig, &err);

    if (rc == FWG_SIG_EMISSING) {
        fwg_fail(1, FWG_R_MISSING_SIGNATURE, err ? err : "missing");
    }

    if (rc != FWG_SIG_OK) {
        fwg_fail(2, FWG_R_MALFORMED_SIGNATURE, err ? err : "does not parse");
    }

    if (out->sig.keyid.data == NULL || out->sig.keyid.len == 0) {
        fwg_fail(2, FWG_R_MALFORMED_SIGNATURE, "no keyid");
    }

    if (out->sig.keyid.len > FWG_MAX_KEYID) {
        fwg_fail(2, FWG_R_MALFORMED_SIGNATURE, "keyid too long");
    }

    if (out->sig.inner == NULL || out->sig.sig == NULL
        || out->sig.siglen == 0)
    {
        fwg_fail(2, FWG_R_MALFORMED_SIGNATURE, "empty signature");
    }

    out->device = out->sig.keyid;

    if (trace) {
        snprintf(buf, sizeof(buf), "label %.*s, keyid %.*s",
                 (int) (out->sig.label.len > 32 ? 32 : out->sig.label.len),
                 out->sig.label.data ? out->sig.label.data : "",
                 (int) (out->sig.keyid.len > 48 ? 48 : out->sig.keyid.len),
                 out->sig.keyid.data);
        fwg_trace(trace, tdata, 2, FWG_R_OK, buf);
    }

    /* 3: required coverage, nonce if demanded, algorithm allowed */

    idx = fwg_sig_missing(&out->sig, p->required, p->nrequired);

    if (idx >= 0 && (size_t) idx < p->nrequired) {
        fwg_fail(3, FWG_R_INSUFFICIENT_COVERAGE,
                 fwg_detail(a, "required component not covered",
                            "\"%.*s\" not covered",
                            (int) (p->required[idx].len > 64
                                   ? 64 : p->required[idx].len),
                            p->required[idx].data));
    }

    if (p->require_nonce
        && (out->sig.nonce.data == NULL || out->sig.nonce.len == 0))
    {
        fwg_fail(3, FWG_R_INSUFFICIENT_COVERAGE, "nonce required");
    }

    if (out->sig.alg.data != NULL) {
        alg = fwg_alg_parse(out->sig.alg.data, out->sig.alg.len);

        if (alg == FWG_ALG_NONE) {
            fwg_fail(3, FWG_R_UNSUPPORTED_ALG, "unknown alg");
        }

        if (!(p->algs & (1u << alg))) {
            fwg_fail(3, FWG_R_UNSUPPORTED_ALG, "alg not allowed");
        }
    }

    fwg_trace(trace, tdata, 3, FWG_R_OK,
              out->sig.alg.data ? "covered, alg allowed"
                                : "covered, alg from record");

    /* 4: freshness */

    if (!out->sig.has_created) {
        fwg_fail(4, FWG_R_STALE, "no created");
    }

    if (out->sig.created < now - p->max_age) {
        fwg_fail(4, FWG_R_STALE, "created too old");
    }

    if (out->sig.created > now + p->clock_skew) {
        fwg_fail(4, FWG_R_STALE, "created in the future");
    }

    if (out->sig.has_expires && out->sig.expires < now) {
        fwg_fail(4, FWG_R_STALE, "expired");
    }

    fwg_trace(trace, tdata, 4, FWG_R_OK, "created within window");

    /* 5: claims, trusted only when covered */

    nmodel = f.n[FWG_F_MODEL];
    model = f.v[FWG_F_MODEL];
    nver = f.n[FWG_F_VERSION];
    ver = f.v[FWG_F_VERSION];
    nhw = f.n[FWG_F_HW];
    hw = f.v[FWG_F_HW];

    if (nmodel == 0) {
        fwg_fail(5, FWG_R_BAD_CLAIMS, "no X-Device-Model");
    }

    if (nmodel > 1) {
        fwg_fail(5, FWG_R_BAD_CLAIMS, "several X-Device-Model");
    }

    if (!fwg_covers_field(&out->sig, "x-device-model")) {
        fwg_fail(5, FWG_R_BAD_CLAIMS, "X-Device-Model not covered");
    }

    if (!fwg_model_valid(model)) {
        fwg_fail(5, FWG_R_BAD_CLAIMS, "bad X-Device-Model");
    }

    if (nver == 0) {
        fwg_fail(5, FWG_R_BAD_CLAIMS, "no X-Firmware-Version");
    }

    if (nver > 1) {
        fwg_fail(5, FWG_R_BAD_CLAIMS, "several X-Firmware-Version");
    }

    if (!fwg_covers_field(&out->sig, "x-firmware-version")) {
        fwg_fail(5, FWG_R_BAD_CLAIMS, "X-Firmware-Version not covered");
    }

    if (fwg_semver_parse(&out->version, ver.data ? ver.data : "", ver.len)
        != 0)
    {
        fwg_fail(5, FWG_R_BAD_CLAIMS, "X-Firmware-Version not SemVer");
    }

    if (nhw && fwg_covers_field(&out->sig, "x-device-hw")) {
        if (nhw > 1) {
            fwg_fail(5, FWG_R_BAD_CLAIMS, "several X-Device-Hw");
        }

        if (!fwg_model_valid(hw)) {
            fwg_fail(5, FWG_R_BAD_CLAIMS, "bad X-Device-Hw");
        }

        out->hw = hw;

    } else {
        /* uncovered: untrusted, so ignored */
        out->hw.data = NULL;
        out->hw.len = 0;
    }

    out->model = model;
    out->version_str = ver;

    err = NULL;

    if (fwg_sig_base_fast(msg, &out->sig, a, &out->base, &err) != FWG_SIG_OK) {
        fwg_fail(5, FWG_R_MALFORMED_SIGNATURE,
                 fwg_detail(a, "signature base cannot be built",
                            "signature base: %s", err ? err : "error"));
    }

    if (trace) {
        snprintf(buf, sizeof(buf), "model %.*s%s%.*s, version %.*s",
                 (int) model.len, model.data, out->hw.len ? " hw " : "",
                 (int) out->hw.len, out->hw.data ? out->hw.data : "",
                 (int) (ver.len > 32 ? 32 : ver.len), ver.data);
        fwg_trace(trace, tdata, 5, FWG_R_OK, buf);
    }

    out->detail = NULL;

    return FWG_R_OK;
}


/* steps 6-16 ---------------------------------------------------------- */

#undef fwg_fail
#define fwg_fail(n, r, d)                                                     \
    do {                                                                      \
        out->reason = (r);                                                    \
        out->step = (n);                                                      \
        out->detail = (d);                                                    \
        fwg_trace(trace, tdata, (n), (r), out->detail);                       \
        return (r);                                                           \
    } while (0)


/* step 7: the record's key verifies the signature base */
static fwg_reason_t
fwg_decide_verify(const fwg_decide_in_t *in, const fwg_device_rec_t *dev,
    const char **detail)
{
    const fwg_claims_t  *c;
    const fwg_key_t     *key;
    fwg_key_t           *own;
    fwg_alg_t            alg, salg;
    const char          *err;
    int                  rc;

    c = in->claims;

    alg = fwg_alg_parse(dev->alg.data ? dev->alg.data : "", dev->alg.len);

    if (alg == FWG_ALG_NONE) {
        *detail = "record alg unknown";
        return FWG_R_UNSUPPORTED_ALG;
    }

    if (in->algs && !(in->algs & (1u << alg))) {
        *detail = "record alg not allowed";
        return FWG_R_UNSUPPORTED_ALG;
    }

    if (c->sig.alg.data != NULL) {
        salg = fwg_alg_parse(c->sig.alg.data, c->sig.alg.len);

        if (salg != alg) {
            *detail = "alg differs from record";
            return FWG_R_BAD_SIGNATURE;
        }
    }

    if (in->key == NULL && in->hmac_states != NULL
        && alg == FWG_ALG_HMAC_SHA256)
    {
        /* the key's states, kept with an earlier decision (the memo) */

        rc = fwg_sig_verify_hmac_states(in->hmac_states, c->base.data,
                                        c->base.len, c->sig.sig,
                                        c->sig.siglen);
        goto verified;
    }

    own = NULL;
    key = in->key;

    if (key == NULL) {
        err = NULL;
        own = fwg_key_from_record(alg, dev->key.data ? dev->key.data : "",
                                  dev->key.len, &err);
        if (own == NULL) {
            *detail = "record key unusable";
            return FWG_R_BAD_SIGNATURE;
        }

        key = own;
    }

    if (fwg_key_alg(key) != alg) {
        fwg_key_free(own);
        *detail = "key is not for the record's alg";
        return FWG_R_BAD_SIGNATURE;
    }

    rc = fwg_sig_verify(key, c->base.data, c->base.len, c->sig.sig,
                        c->sig.siglen);

    fwg_key_free(own);

verified:

    if (rc != 1) {
        *detail = rc == 0 ? "signature does not verify" : "verify error";
        return FWG_R_BAD_SIGNATURE;
    }

    *detail = fwg_alg_name(alg);

    return FWG_R_OK;
}


/*
 * Steps 6-8 alone: the device record exists, the request's signature
 * verifies with its key, the nonce is new.  fwg_decide_registry() runs
 * them first; the module also runs them alone when it holds the answer of
 * steps 9-16 for the same inputs and registry generation (a worker's
 * decision memo), since they are the steps a request brings anew.
 */
fwg_reason_t
fwg_decide_signed(const fwg_decide_in_t *in, fwg_verdict_t *out,
    fwg_trace_pt trace, void *tdata)
{
    int                        rc;
    const fwg_claims_t        *c;
    const fwg_device_rec_t    *dev;
    fwg_reason_t               r;
    const char                *detail;

    c = in->claims;

    /* 6: device record */

    dev = in->device_rec;

    if (dev == NULL || !dev->found) {
        fwg_fail(6, FWG_R_UNKNOWN_DEVICE, "no device record");
    }

    fwg_trace(trace, tdata, 6, FWG_R_OK, "found");

    /* 7: signature verifies with the record's key */

    if (c == NULL) {
        fwg_trace(trace, tdata, 7, FWG_R_OK, "skipped: no signed request");

    } else {
        r = fwg_decide_verify(in, dev, &detail);

        if (r != FWG_R_OK) {
            fwg_fail(7, r, detail);
        }

        fwg_trace(trace, tdata, 7, FWG_R_OK, detail);
    }

    /* 8: nonce not replayed inside the window */

    if (c == NULL) {
        fwg_trace(trace, tdata, 8, FWG_R_OK, "skipped: no signed request");

    } else if (c->sig.nonce.data == NULL || c->sig.nonce.len == 0) {
        fwg_trace(trace, tdata, 8, FWG_R_OK, "no nonce");

    } else if (in->replay == NULL) {
        fwg_trace(trace, tdata, 8, FWG_R_OK, "no replay store");

    } else {
        rc = in->replay(in->replay_data, c->device, c->sig.nonce,
                        c->sig.created + in->replay_window);

        if (rc == FWG_REPLAY_FULL) {
            fwg_fail(8, FWG_R_REPLAY_STORE_FULL,
                     "replay store full of unexpired nonces");
        }

        if (rc != FWG_REPLAY_NEW) {
            fwg_fail(8, FWG_R_REPLAY, "nonce seen");
        }

        fwg_trace(trace, tdata, 8, FWG_R_OK, "nonce new");
    }

    return FWG_R_OK;
}


fwg_reason_t
fwg_decide_registry(const fwg_decide_in_t *in, fwg_verdict_t *out,
    fwg_trace_pt trace, void *tdata)
{
    int                        i, cmp, rc;
    long                       pct;
    int64_t                    until;
    uint32_t                   bucket;
    fwg_str_t                  device, model, hw, salt, ap;
    fwg_semver_t               av, fv;
    const fwg_semver_t        *dv;
    const fwg_claims_t        *c;
    const fwg_device_rec_t    *dev;
    const fwg_artifact_rec_t  *art;
    const fwg_rollout_rec_t   *ro;
    fwg_reason_t               r;
    const char                *detail;
    char                       buf[160];

    memset(out, 0, sizeof(*out));

    c = in->claims;

    device = in->device;
    model = in->model;
    hw = in->hw;
    dv = in->version;

    if (c) {
        if (device.len == 0) {
            device = c->device;
        }

        if (model.len == 0) {
            model = c->model;
        }

        if (hw.len == 0) {
            hw = c->hw;
        }

        if (dv == NULL) {
            dv = &c->version;
        }
    }

    if (c == NULL) {
        for (i = 1; i <= 5; i++) {
            fwg_trace(trace, tdata, i, FWG_R_OK, "skipped: no signed request");
        }
    }

    /* 6-8: the device record, its key, the nonce */

    dev = in->device_rec;

    r = fwg_decide_signed(in, out, trace, tdata);

    if (r != FWG_R_OK) {
        return r;
    }

    /* 9: device active; anything else (revoked, unknown) fails closed */

    if (!fwg_str_eq(dev->status, "active")) {
        fwg_fail(9, FWG_R_REVOKED, dev->status.len ? "status not active"
                                                   : "no status");
    }

    fwg_trace(trace, tdata, 9, FWG_R_OK, "active");

    /* 10: the claimed model and hw are the record's */

    if (!fwg_str_eqs(model, dev->model)) {
        fwg_fail(10, FWG_R_MODEL_MISMATCH, "model differs from record");
    }

    if (hw.len != dev->hw.len || (hw.len && !fwg_str_eqs(hw, dev->hw))) {
        fwg_fail(10, FWG_R_MODEL_MISMATCH, "hw differs from record");
    }

    if (trace) {
        snprintf(buf, sizeof(buf), "%.*s%s%.*s",
                 (int) (model.len > 64 ? 64 : model.len),
                 model.data ? model.data : "", hw.len ? ":" : "",
                 (int) (hw.len > 64 ? 64 : hw.len), hw.data ? hw.data : "");
        fwg_trace(trace, tdata, 10, FWG_R_OK, buf);
    }

    /* 11: artifact exists, its version readable */

    art = in->artifact_rec;

    if (art == NULL || !art->found) {
        fwg_fail(11, FWG_R_UNKNOWN_ARTIFACT, "no artifact record");
    }

    if (fwg_semver_parse(&av, art->version.data ? art->version.data : "",
                         art->version.len) != 0)
    {
        fwg_fail(11, FWG_R_UNKNOWN_ARTIFACT, "artifact version unreadable");
    }

    out->target_version = art->version;

    /*
     * A download is allowed only at the artifact's own registry path, as
     * nginx normalised it and as the device sent it: the name alone says
     * nothing of which bytes a folder holds (another model's image under
     * the same name), nor of what a proxy forwards (the raw target).
     */

    if (in->path.data != NULL) {
        ap = fwg_artifact_path(art->path);

        if (ap.len == 0) {
            fwg_fail(11, FWG_R_PATH_MISMATCH, "artifact has no path");
        }

        if (!fwg_str_eqs(in->path, ap)) {
            fwg_fail(11, FWG_R_PATH_MISMATCH,
                     "request path is not the artifact's path");
        }

        if (in->raw_path.data != NULL && !fwg_str_eqs(in->raw_path, ap)) {
            fwg_fail(11, FWG_R_PATH_MISMATCH,
                     "request target not in the artifact path's form");
        }
    }

    /*
     * With release keys, the record must be as the release key signed
     * it: models, version, digest and path all come from the registry,
     * which is not trusted to say which models an image is for.
     */

    if (in->release_keys) {
        rc = in->artifact_sig;
        detail = in->release_detail;

        if (rc == FWG_RELEASE_UNCHECKED) {
            rc = fwg_release_check_artifact(in->release_keys, in->artifact,
                                            art, &detail);
        }

        if (rc != FWG_RELEASE_VALID) {
            fwg_fail(11, FWG_R_UNSIGNED_ARTIFACT,
                     detail ? detail : "release signature not valid");
        }
    }

    if (trace) {
        snprintf(buf, sizeof(buf), "version %.*s%s%s",
                 (int) (art->version.len > 64 ? 64 : art->version.len),
                 art->version.data,
                 in->path.data ? ", at its path" : "",
                 in->release_keys ? ", release signature verified" : "");
        fwg_trace(trace, tdata, 11, FWG_R_OK, buf);
    }

    /* 12: built for the device's (record's) model and hw */

    if (!fwg_models_lists(art->models, dev->model, dev->hw)) {
        fwg_fail(12, FWG_R_INCOMPATIBLE, "model not in artifact's models");
    }

    fwg_trace(trace, tdata, 12, FWG_R_OK, "listed");

    /* 13: the model's rollout is active and targets this artifact */

    ro = in->rollout_rec;

    if (ro == NULL || !ro->found) {
        fwg_fail(13, FWG_R_NOT_RELEASED, "no rollout for model");
    }

    if (!fwg_str_eqs(ro->artifact, in->artifact)) {
        fwg_fail(13, FWG_R_NOT_RELEASED, "rollout targets another artifact");
    }

    if (fwg_str_eq(ro->state, "paused")) {
        fwg_fail(13, FWG_R_ROLLOUT_PAUSED, "rollout paused");
    }

    if (fwg_str_eq(ro->state, "halted")) {
        fwg_fail(13, FWG_R_ROLLOUT_HALTED, "rollout halted");
    }

    if (ro->halted.len && fwg_str_eqs(ro->halted, ro->artifact)) {
        fwg_fail(13, FWG_R_ROLLOUT_HALTED, "rollout halted automatically");
    }

    if (!fwg_str_eq(ro->state, "active")) {
        fwg_fail(13, FWG_R_NOT_RELEASED, "rollout state unknown");
    }

    /*
     * The model's security floor: no artifact below it, whatever
     * `downgrade` says.  With release keys the floor must be signed
     * (fail closed: an edge cannot tell a lowered floor from a raised
     * one).
     */

    if (ro->floor.len) {
        if (in->release_keys) {
            rc = in->floor_sig;
            detail = "floor signature not valid";

            if (rc == FWG_RELEASE_UNCHECKED) {
                rc = fwg_release_check_floor(in->release_keys, dev->model,
                                             ro->floor, ro->floor_sig,
                                             &detail);
            }

            if (rc != FWG_RELEASE_VALID) {
                fwg_fail(13, FWG_R_UNSIGNED_FLOOR, detail);
            }
        }

        if (fwg_semver_parse(&fv, ro->floor.data, ro->floor.len) != 0) {
            fwg_fail(13, FWG_R_BELOW_FLOOR, "floor unreadable");
        }

        if (fwg_semver_cmp(&av, &fv) < 0) {
            fwg_fail(13, FWG_R_BELOW_FLOOR, "artifact below the floor");
        }
    }

    fwg_trace(trace, tdata, 13, FWG_R_OK,
              ro->floor.len ? "active, at or above floor" : "active");

    /* 14: cohort */

    pct = fwg_percent_parse(ro->percent.data ? ro->percent.data : "",
                            ro->percent.len);

    if (pct < 0) {
        fwg_fail(14, FWG_R_NOT_IN_COHORT, "rollout percent unreadable");
    }

    salt = ro->salt.len ? ro->salt : in->artifact;
    bucket = fwg_cohort_bucket(salt, device);

    out->bucket = bucket;
    out->has_bucket = 1;

    if (trace) {
        snprintf(buf, sizeof(buf), "bucket %u %s %ld%s%s",
                 (unsigned) bucket, bucket < (uint32_t) pct ? "<" : ">=",
                 pct, ro->canary ? ", canary" : "",
                 ro->excluded ? ", excluded" : "");
    }

    if (!fwg_cohort_in(bucket, pct, ro->canary, ro->excluded)) {
        fwg_fail(14, FWG_R_NOT_IN_COHORT,
                 ro->excluded ? "excluded" : "bucket above percent");
    }

    /*
     * The penalty box: a device that failed this artifact
     * device_failures times is refused it until the time its record
     * names, whatever its cohort says; after the cohort so that a device
     * outside the rollout keeps being told not_in_cohort.
     */

    if (dev->penalty.len) {
        until = fwg_uint_parse(dev->penalty);

        if (until < 0 || in->now < until) {
            fwg_fail(14, FWG_R_PENALIZED,
                     until < 0 ? "penalty unreadable"
                               : "device in the penalty box for this "
                                 "artifact");
        }
    }

    fwg_trace(trace, tdata, 14, FWG_R_OK, buf);

    /* 15, 16 need the device's version */

    if (dv == NULL) {
        fwg_trace(trace, tdata, 15, FWG_R_OK,
                  "skipped: device version unknown");
        fwg_trace(trace, tdata, 16, FWG_R_OK,
                  "skipped: device version unknown");
        out->reason = FWG_R_OK;
        return FWG_R_OK;
    }

    /* 15: device version satisfies `from` */

    if (ro->from.len) {
        rc = fwg_range_match(ro->from.data, ro->from.len, dv);

        if (rc < 0) {
            fwg_fail(15, FWG_R_UPGRADE_PATH, "rollout range unreadable");
        }

        if (rc == 0) {
            fwg_fail(15, FWG_R_UPGRADE_PATH, "version outside from range");
        }

        fwg_trace(trace, tdata, 15, FWG_R_OK, "version in from range");

    } else {
        fwg_trace(trace, tdata, 15, FWG_R_OK, "no from range");
    }

    /* 16: no downgrade unless allowed */

    cmp = fwg_semver_cmp(&av, dv);

    if (cmp < 0 && !fwg_str_eq(ro->downgrade, "1")) {
        fwg_fail(16, FWG_R_DOWNGRADE, "artifact older than device");
    }

    fwg_trace(trace, tdata, 16, FWG_R_OK,
              cmp < 0 ? "downgrade allowed"
                      : cmp == 0 ? "same version" : "upgrade");

    out->reason = FWG_R_OK;

    return FWG_R_OK;
}


int64_t
fwg_uint_parse(fwg_str_t s)
{
    size_t   i;
    int64_t  v;

    /* a decimal part (a time written with milliseconds) is dropped */

    if (s.data == NULL || s.len == 0) {
        return -1;
    }

    v = 0;

    for (i = 0; i < s.len; i++) {
        if (s.data[i] == '.' && i > 0) {
            break;
        }

        if (s.data[i] < '0' || s.data[i] > '9' || i >= 15) {
            return -1;
        }

        v = v * 10 + (s.data[i] - '0');
    }

    for (i++; i < s.len; i++) {
        if (s.data[i] < '0' || s.data[i] > '9') {
            return -1;
        }
    }

    return v;
}


int
fwg_rollout_limits(const fwg_rollout_rec_t *ro, int64_t *starts,
    int64_t *in_flight, int64_t *expiry)
{
    int64_t  s, f, e;

    s = ro->max_starts.len ? fwg_uint_parse(ro->max_starts) : 0;
    f = ro->max_in_flight.len ? fwg_uint_parse(ro->max_in_flight) : 0;
    e = ro->in_flight_expiry.len ? fwg_uint_parse(ro->in_flight_expiry)
                                 : 3600;

    /* unreadable limits fail closed: the tightest limit, one start */

    if (s < 0) {
        s = 1;
    }

    if (f < 0) {
        f = 1;
    }

    if (e <= 0) {
        e = 3600;
    }

    *starts = s;
    *in_flight = f;
    *expiry = e;

    return s > 0 || f > 0;
}


fwg_str_t
fwg_artifact_path(fwg_str_t path)
{
    size_t     i;
    fwg_str_t  none = fwg_null_str;

    if (path.data == NULL || path.len == 0) {
        return none;
    }

    if (path.data[0] == '/') {
        return path;
    }

    /* "scheme://authority/path": the path after the authority */

    for (i = 0; i + 2 < path.len; i++) {
        if (path.data[i] == ':' && path.data[i + 1] == '/'
            && path.data[i + 2] == '/')
        {
            break;
        }

        if (path.data[i] == '/') {
            return none;
        }
    }

    for (i += 3; i < path.len; i++) {
        if (path.data[i] == '/') {
            path.data += i;
            path.len -= i;
            return path;
        }
    }

    return none;
}


int
fwg_path_normal(fwg_str_t path)
{
    size_t         i, seg;
    unsigned char  ch;

    if (path.len < 2 || path.len > 1024 || path.data[0] != '/') {
        return 0;
    }

    seg = 1;

    for (i = 1; i <= path.len; i++) {

        if (i == path.len || path.data[i] == '/') {
            /* the segment path.data[seg .. i) */

            if (i == seg) {
                return 0;
            }

            if (path.data[seg] == '.'
                && (i - seg == 1
                    || (i - seg == 2 && path.data[seg + 1] == '.')))
            {
                return 0;
            }

            seg = i + 1;
            continue;
        }

        ch = (unsigned char) path.data[i];

        if (ch <= 0x20 || ch >= 0x7f || ch == '%' || ch == '?' || ch == '#'
            || ch == '\\')
        {
            return 0;
        }
    }

    return 1;
}
