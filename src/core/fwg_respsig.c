/*
 * RFC 9421 response signatures bound to the request (section 2.4).
 *
 * The edge signs ("@status" "content-digest" "signature";req;key=<label>)
 * so a device can tell that an answer is genuine, unaltered (the body's
 * RFC 9530 digest is covered) and an answer to its own signed request: the
 * request's signature carries the device's created time and nonce, so a
 * replayed old answer does not verify against a new request.
 */

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "fwg_respsig.h"
#include "fwg_b64.h"
#include "fwg_digest.h"
#include "fwg_sf.h"


int
fwg_respsig_digest(char *dst, const unsigned char *body, size_t blen)
{
    size_t         n;
    unsigned int   dlen;
    unsigned char  d[EVP_MAX_MD_SIZE];

    if (EVP_Digest(body ? body : (const unsigned char *) "", blen, d, &dlen,
                   EVP_sha256(), NULL) != 1 || dlen != 32)
    {
        return -1;
    }

    memcpy(dst, "sha-256=:", 9);
    n = 9 + fwg_b64_encode(dst + 9, d, dlen);
    dst[n++] = ':';
    dst[n] = '\0';

    return 0;
}


int
fwg_respsig_keyid(const fwg_key_t *k, char *dst)
{
    long            n;
    size_t          rawlen;
    unsigned int    dlen;
    char            rec[256];
    unsigned char   raw[192], d[EVP_MAX_MD_SIZE];

    if (k == NULL || fwg_key_alg(k) == FWG_ALG_HMAC_SHA256) {
        return -1;
    }

    /* the registry form is the base64 raw public key */
    n = fwg_key_record(k, rec, sizeof(rec));
    if (n <= 0
        || fwg_b64_decode(raw, sizeof(raw), &rawlen, rec, (size_t) n) != 0
        || EVP_Digest(raw, rawlen, d, &dlen, EVP_sha256(), NULL) != 1)
    {
        return -1;
    }

    memcpy(dst, "fwg-", 4);
    fwg_hex_encode(dst + 4, d, 8);
    dst[FWG_RESPSIG_KEYID_LEN] = '\0';

    return 0;
}


/* the component without its "req" parameter, for the request lookup */
static int
fwg_respsig_strip_req(const fwg_sf_item_t *it, fwg_arena_t *a,
    fwg_sf_item_t *out, int *is_req)
{
    size_t           i, n;
    fwg_sf_param_t  *p;

    *out = *it;
    *is_req = 0;

    if (it->nparams == 0) {
        return 0;
    }

    p = fwg_arena_alloc(a, it->nparams * sizeof(fwg_sf_param_t));
    if (p == NULL) {
        return -1;
    }

    n = 0;

    for (i = 0; i < it->nparams; i++) {
        if (fwg_str_eq(it->params[i].key, "req")) {
            if (it->params[i].value.type != FWG_SF_BOOLEAN
                || it->params[i].value.integer == 0)
            {
                return -1;
            }

            *is_req = 1;
            continue;
        }

        p[n++] = it->params[i];
    }

    out->params = p;
    out->nparams = n;

    return 0;
}


static int
fwg_respsig_ser(fwg_arena_t *a, const fwg_sf_item_t *it, fwg_str_t *out)
{
    long    n;
    char   *t;
    size_t  avail;

    avail = a->size - a->used;
    if (avail < 8) {
        return -1;
    }

    t = a->buf + a->used;
    n = fwg_sf_serialize_item(t, avail, it);
    if (n < 0) {
        return -1;
    }

    /* commit through the allocator so alignment stays its business */
    out->data = fwg_arena_alloc(a, (size_t) n);
    if (out->data == NULL) {
        return -1;
    }

    if (out->data != t) {
        memmove((char *) out->data, t, (size_t) n);
    }

    out->len = (size_t) n;

    return 0;
}


int
fwg_respsig_base(int status, const fwg_msg_t *resp, const fwg_msg_t *req,
    const fwg_sig_input_t *in, fwg_arena_t *a, fwg_str_t *base,
    const char **err)
{
    int                   rc, is_req;
    char                 *st;
    size_t                i, j, n, total;
    fwg_str_t             ids[FWG_SIG_MAX_COMPONENTS];
    fwg_str_t             vals[FWG_SIG_MAX_COMPONENTS];
    fwg_sf_item_t         c;
    const fwg_sf_item_t  *items;

    base->data = NULL;
    base->len = 0;

    if (in->inner == NULL || in->inner->bare.type != FWG_SF_INNER_LIST
        || in->params.data == NULL || in->params.len == 0)
    {
        *err = "no signature parameters";
        return FWG_SIG_EMALFORMED;
    }

    n = in->inner->nitems;
    items = in->inner->items;

    if (n > FWG_SIG_MAX_COMPONENTS) {
        *err = "too many covered components";
        return FWG_SIG_EMALFORMED;
    }

    if (memchr(in->params.data, '\n', in->params.len)) {
        *err = "signature parameters contain a newline";
        return FWG_SIG_EMALFORMED;
    }

    total = FWG_SIG_PARAMS_LINE_LEN + in->params.len;

    for (i = 0; i < n; i++) {
        if (items[i].bare.type != FWG_SF_STRING) {
            *err = "a covered component is not a string";
            return FWG_SIG_ECOMPONENT;
        }

        if (fwg_respsig_ser(a, &items[i], &ids[i]) != 0) {
            *err = "component identifier cannot be serialized";
            return FWG_SIG_ECOMPONENT;
        }

        /* same name and parameters: the same component (section 2.5) */
        for (j = 0; j < i; j++) {
            if (fwg_str_eqs(ids[i], ids[j])) {
                *err = "a component is covered twice";
                return FWG_SIG_ECOMPONENT;
            }
        }

        if (fwg_respsig_strip_req(&items[i], a, &c, &is_req) != 0) {
            *err = "bad req parameter";
            return FWG_SIG_ECOMPONENT;
        }

        if (is_req) {
            if (req == NULL) {
                *err = "a request component is covered but no request given";
                return FWG_SIG_ECOMPONENT;
            }

            rc = fwg_sig_component(req, &c, a, &vals[i], err);

        } else if (fwg_str_eq(c.bare.str, "@status")) {
            if (c.nparams != 0) {
                *err = "@status takes no parameters";
                return FWG_SIG_ECOMPONENT;
            }

            if (status < 100 || status > 999) {
                *err = "bad status code";
                return FWG_SIG_ECOMPONENT;
            }

            st = fwg_arena_alloc(a, 4);
            if (st == NULL) {
                *err = "out of memory";
                return FWG_SIG_ECOMPONENT;
            }

            snprintf(st, 4, "%03d", status);
            vals[i].data = st;
            vals[i].len = 3;
            rc = FWG_SIG_OK;

        } else if (c.bare.str.len && c.bare.str.data[0] == '@') {
            /* request-only derived components need ;req in a response */
            *err = "derived component not defined for a response";
            return FWG_SIG_ECOMPONENT;

        } else {
            rc = fwg_sig_component(resp, &c, a, &vals[i], err);
        }

        if (rc != FWG_SIG_OK) {
            return rc;
        }

        total += ids[i].len + 2 + vals[i].len + 1;

        if (total > FWG_SIG_MAX_BASE) {
            *err = "signature base too large";
            return FWG_SIG_ECOMPONENT;
        }
    }

    return fwg_sig_base_join(a, ids, vals, n, in->params, total, base, err);
}


/* an RFC 8941 key: lowercase alpha or '*', then lcalpha, digit, _-.* */
static int
fwg_respsig_is_key(fwg_str_t k)
{
    size_t  i;
    char    c;

    if (k.len == 0 || k.len > 64) {
        return 0;
    }

    for (i = 0; i < k.len; i++) {
        c = k.data[i];

        if ((c >= 'a' && c <= 'z') || c == '*') {
            continue;
        }

        if (i > 0 && ((c >= '0' && c <= '9') || c == '_' || c == '-'
                      || c == '.'))
        {
            continue;
        }

        return 0;
    }

    return 1;
}


int
fwg_respsig_sign(const fwg_key_t *k, const fwg_respsig_params_t *p,
    fwg_arena_t *a, fwg_str_t *sig_input, fwg_str_t *signature,
    const char **err)
{
    long              n;
    char             *d;
    size_t            siglen, len;
    fwg_str_t         base, inner_s;
    fwg_alg_t         alg;
    fwg_field_t       rf, qf;
    fwg_msg_t         resp, req;
    fwg_sf_item_t     comps[3], inner;
    fwg_sf_param_t    cparams[2], iparams[3];
    fwg_sig_input_t   in;
    unsigned char     sig[FWG_SIG_MAX_SIG];

    alg = fwg_key_alg(k);

    if (!fwg_key_can_sign(k)
        || (alg != FWG_ALG_ED25519 && alg != FWG_ALG_ECDSA_P256_SHA256))
    {
        *err = "the response key is not an ed25519 or P-256 private key";
        return -1;
    }

    if (!fwg_respsig_is_key(p->label) || !fwg_respsig_is_key(p->req_label)) {
        *err = "a signature label is not an RFC 8941 key";
        return -1;
    }

    memset(comps, 0, sizeof(comps));
    memset(&inner, 0, sizeof(inner));
    memset(cparams, 0, sizeof(cparams));
    memset(iparams, 0, sizeof(iparams));

    comps[0].bare.type = FWG_SF_STRING;
    comps[0].bare.str.data = "@status";
    comps[0].bare.str.len = 7;

    comps[1].bare.type = FWG_SF_STRING;
    comps[1].bare.str.data = "content-digest";
    comps[1].bare.str.len = 14;

    /* section 2.1.3 orders the parameters as the signer wrote them */
    cparams[0].key.data = "req";
    cparams[0].key.len = 3;
    cparams[0].value.type = FWG_SF_BOOLEAN;
    cparams[0].value.integer = 1;
    cparams[1].key.data = "key";
    cparams[1].key.len = 3;
    cparams[1].value.type = FWG_SF_STRING;
    cparams[1].value.str = p->req_label;

    comps[2].bare.type = FWG_SF_STRING;
    comps[2].bare.str.data = "signature";
    comps[2].bare.str.len = 9;
    comps[2].params = cparams;
    comps[2].nparams = 2;

    iparams[0].key.data = "created";
    iparams[0].key.len = 7;
    iparams[0].value.type = FWG_SF_INTEGER;
    iparams[0].value.integer = p->created;
    iparams[1].key.data = "keyid";
    iparams[1].key.len = 5;
    iparams[1].value.type = FWG_SF_STRING;
    iparams[1].value.str = p->keyid;
    iparams[2].key.data = "alg";
    iparams[2].key.len = 3;
    iparams[2].value.type = FWG_SF_STRING;
    iparams[2].value.str.data = fwg_alg_name(alg);
    iparams[2].value.str.len = strlen(fwg_alg_name(alg));

    inner.bare.type = FWG_SF_INNER_LIST;
    inner.items = comps;
    inner.nitems = 3;
    inner.params = iparams;
    inner.nparams = 3;

    /* the serializer refuses a keyid that is not an sf-string */
    if (fwg_respsig_ser(a, &inner, &inner_s) != 0) {
        *err = "signature parameters cannot be serialized";
        return -1;
    }

    memset(&in, 0, sizeof(in));
    in.inner = &inner;
    in.params = inner_s;

    rf.name.data = "content-digest";
    rf.name.len = 14;
    rf.value = p->content_digest;
    memset(&resp, 0, sizeof(resp));
    resp.fields = &rf;
    resp.nfields = 1;

    qf.name.data = "signature";
    qf.name.len = 9;
    qf.value = p->req_signature;
    memset(&req, 0, sizeof(req));
    req.fields = &qf;
    req.nfields = 1;

    if (fwg_respsig_base(p->status, &resp, &req, &in, a, &base, err)
        != FWG_SIG_OK)
    {
        return -1;
    }

    if (fwg_sig_sign(k, base.data, base.len, sig, &siglen) != 0) {
        *err = "signing failed";
        return -1;
    }

    /* label "=" params */
    len = p->label.len + 1 + inner_s.len;
    d = fwg_arena_alloc(a, len);
    if (d == NULL) {
        *err = "out of memory";
        return -1;
    }

    memcpy(d, p->label.data, p->label.len);
    d[p->label.len] = '=';
    memcpy(d + p->label.len + 1, inner_s.data, inner_s.len);
    sig_input->data = d;
    sig_input->len = len;

    /* label "=:" base64 ":" */
    len = p->label.len + 3 + fwg_b64_enc_len(siglen);
    d = fwg_arena_alloc(a, len);
    if (d == NULL) {
        *err = "out of memory";
        return -1;
    }

    memcpy(d, p->label.data, p->label.len);
    d[p->label.len] = '=';
    d[p->label.len + 1] = ':';
    n = (long) fwg_b64_encode(d + p->label.len + 2, sig, siglen);
    d[p->label.len + 2 + n] = ':';
    signature->data = d;
    signature->len = len;

    return 0;
}


/* is comp in the inner list (same name and parameters)? */
static int
fwg_respsig_covers(const fwg_sig_input_t *in, const char *name,
    const char *req_key_any)
{
    size_t                 i;
    const fwg_sf_item_t   *it;
    const fwg_sf_bare_t   *req, *key;

    for (i = 0; i < in->inner->nitems; i++) {
        it = &in->inner->items[i];

        if (it->bare.type != FWG_SF_STRING
            || !fwg_str_eq(it->bare.str, name))
        {
            continue;
        }

        req = fwg_sf_param(it, "req");
        key = fwg_sf_param(it, "key");

        if (req_key_any == NULL) {
            if (it->nparams == 0) {
                return 1;
            }

            continue;
        }

        if (req && req->type == FWG_SF_BOOLEAN && req->integer
            && key && key->type == FWG_SF_STRING && it->nparams == 2)
        {
            return 1;
        }
    }

    return 0;
}


int
fwg_respsig_verify(const fwg_key_t *k, int status, const fwg_msg_t *resp,
    const unsigned char *body, size_t blen, fwg_str_t req_signature,
    fwg_str_t label, fwg_arena_t *a, const char **err)
{
    int               rc;
    fwg_str_t         base, cd;
    fwg_alg_t         alg;
    fwg_field_t       qf;
    fwg_msg_t         req;
    fwg_sig_input_t   in;

    rc = fwg_sig_parse(resp, label, a, &in, err);
    if (rc != FWG_SIG_OK) {
        if (rc == FWG_SIG_EMISSING) {
            *err = "no Signature-Input or Signature in the response";
        }

        return 0;
    }

    if (!fwg_respsig_covers(&in, "@status", NULL)
        || !fwg_respsig_covers(&in, "content-digest", NULL)
        || !fwg_respsig_covers(&in, "signature", "req"))
    {
        *err = "the signature does not cover @status, content-digest and "
               "the request's signature";
        return 0;
    }

    alg = fwg_key_alg(k);

    if (in.alg.data && fwg_alg_parse(in.alg.data, in.alg.len) != alg) {
        *err = "alg does not match the key";
        return 0;
    }

    rc = fwg_field_combine(resp, "content-digest", 14, FWG_SIG_MAX_FIELD, a,
                           &cd);
    if (rc <= 0) {
        *err = "no Content-Digest in the response";
        return 0;
    }

    rc = fwg_content_digest_check(cd.data, cd.len, body, blen, a, err);
    if (rc != 1) {
        return 0;
    }

    qf.name.data = "signature";
    qf.name.len = 9;
    qf.value = req_signature;
    memset(&req, 0, sizeof(req));
    req.fields = &qf;
    req.nfields = 1;

    if (fwg_respsig_base(status, resp, &req, &in, a, &base, err)
        != FWG_SIG_OK)
    {
        return 0;
    }

    rc = fwg_sig_verify(k, base.data, base.len, in.sig, in.siglen);
    if (rc != 1) {
        *err = rc == 0 ? "bad signature" : "verification error";
        return rc;
    }

    return 1;
}
