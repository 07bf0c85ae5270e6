
/*
 * fwgate: signed release metadata in the module (docs/security.md,
 * "Signed release metadata").
 *
 * fwgate_release_keys loads public keys at configuration time.  An
 * ed25519 verification costs more than the rest of a warm decision, so
 * it is never done per request: the result for a record is kept in a
 * per-worker table beside the records (as keys.c keeps parsed device
 * keys), indexed by a hash of the signed bytes and looked up by an exact
 * comparison of the key set's digest, the canonical form and the sig.  A
 * record that changes in Redis has other bytes and is verified again; a
 * reload with other keys has another key set digest (and new workers),
 * so no result made under one key set is used under another.
 */

#include "ngx_http_fwgate_module.h"


#define NGX_HTTP_FWGATE_RELEASE_SLOTS  1024     /* power of two */


typedef struct {
    u_char          *data;          /* canonical form, then sig */
    size_t           len;
    size_t           msglen;
    u_char           set[32];       /* the key set's digest */
    int              result;        /* FWG_RELEASE_VALID / _INVALID */
    const char      *detail;        /* a literal of fwg_release.c */
} ngx_http_fwgate_release_slot_t;


static ngx_http_fwgate_release_slot_t  *ngx_http_fwgate_release_slots;


static void
ngx_http_fwgate_release_cleanup(void *data)
{
    fwg_release_keys_free(data);
}


char *
ngx_http_fwgate_set_release_keys(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_fwgate_loc_conf_t *flcf = conf;

    ngx_str_t           *value, name;
    ngx_uint_t           i;
    const char          *err;
    ngx_pool_cleanup_t  *cln;
    fwg_release_keys_t  *ks;

    if (flcf->release_keys != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts == 2 && ngx_strcmp(value[1].data, "off") == 0) {
        flcf->release_keys = NULL;
        return NGX_CONF_OK;
    }

    cln = ngx_pool_cleanup_add(cf->pool, sizeof(fwg_release_keys_t));
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }

    ks = cln->data;
    fwg_release_keys_init(ks);
    cln->handler = ngx_http_fwgate_release_cleanup;

    for (i = 1; i < cf->args->nelts; i++) {
        name = value[i];

        if (name.len == 0
            || ngx_conf_full_name(cf->cycle, &name, 1) != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

        err = "error";

        if (fwg_release_keys_load(ks, (const char *) name.data, &err) != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "fwgate_release_keys \"%V\": %s", &name, err);
            return NGX_CONF_ERROR;
        }
    }

    flcf->release_keys = ks;

    return NGX_CONF_OK;
}


/* the kept result for (key set, msg, sig), verifying on a miss */

static int
ngx_http_fwgate_release_verify(ngx_http_request_t *r,
    const fwg_release_keys_t *ks, const char *what, fwg_str_t name,
    const char *msg, size_t len, fwg_str_t sig, const char **detail)
{
    int                              result;
    size_t                           total;
    uint32_t                         hash;
    ngx_http_fwgate_release_slot_t  *s;

    if (ngx_http_fwgate_release_slots == NULL) {
        ngx_http_fwgate_release_slots =
            ngx_calloc(NGX_HTTP_FWGATE_RELEASE_SLOTS
                       * sizeof(ngx_http_fwgate_release_slot_t),
                       r->connection->log);
    }

    total = len + sig.len;
    hash = ngx_murmur_hash2((u_char *) msg, len)
           ^ ngx_murmur_hash2((u_char *) (sig.data ? sig.data : ""),
                              sig.len)
           ^ ngx_murmur_hash2((u_char *) ks->id, 4);

    s = NULL;

    if (ngx_http_fwgate_release_slots) {
        s = &ngx_http_fwgate_release_slots[hash
                                  & (NGX_HTTP_FWGATE_RELEASE_SLOTS - 1)];

        if (s->data && s->len == total && s->msglen == len
            && ngx_memcmp(s->set, ks->id, sizeof(s->set)) == 0
            && ngx_memcmp(s->data, msg, len) == 0
            && (sig.len == 0
                || ngx_memcmp(s->data + len, sig.data, sig.len) == 0))
        {
            *detail = s->detail;
            return s->result;
        }
    }

    result = fwg_release_verify(ks, msg, len, sig, detail)
             ? FWG_RELEASE_VALID : FWG_RELEASE_INVALID;

    if (result == FWG_RELEASE_VALID) {
        ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "fwgate: release signature verified: %s \"%*s\"",
                       what, name.len, name.data);

    } else {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "fwgate: release signature of %s \"%*s\" not valid: %s",
                      what, name.len > 128 ? 128 : name.len, name.data,
                      *detail);
    }

    if (s == NULL) {
        return result;
    }

    if (s->data == NULL || s->len < total) {
        ngx_free(s->data);
        s->data = ngx_alloc(total ? total : 1, r->connection->log);

        if (s->data == NULL) {
            s->len = 0;
            return result;
        }
    }

    ngx_memcpy(s->data, msg, len);

    if (sig.len) {
        ngx_memcpy(s->data + len, sig.data, sig.len);
    }

    s->len = total;
    s->msglen = len;
    ngx_memcpy(s->set, ks->id, sizeof(s->set));
    s->result = result;
    s->detail = *detail;

    return result;
}


/*
 * Sets in->release_keys and the kept results for the artifact's sig and
 * the rollout's floor_sig, for fwg_decide_registry().
 */

void
ngx_http_fwgate_release_prepare(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx, ngx_http_fwgate_loc_conf_t *lcf,
    fwg_decide_in_t *in)
{
    size_t               len;
    fwg_str_t            model;
    const char          *detail;
    fwg_release_keys_t  *ks;
    char                 buf[FWG_RELEASE_CANON_MAX];

    ks = lcf->release_keys;

    if (ks == NULL) {
        return;
    }

    in->release_keys = ks;
    in->artifact_sig = FWG_RELEASE_INVALID;
    in->floor_sig = FWG_RELEASE_INVALID;

    if (ctx->artifact_rec.found) {
        detail = "record has no canonical form";

        if (fwg_release_canonical(in->artifact, &ctx->artifact_rec, buf,
                                  sizeof(buf), &len)
            == 0)
        {
            in->artifact_sig = ngx_http_fwgate_release_verify(r, ks,
                                   "artifact", in->artifact, buf, len,
                                   ctx->artifact_rec.sig, &detail);
        }

        in->release_detail = detail;
    }

    if (ctx->rollout_rec.found && ctx->rollout_rec.floor.len) {

        /* the rollout was read for the claimed model (step 10: the
         * record's) */

        model = in->model;

        if (fwg_release_floor_canonical(model, ctx->rollout_rec.floor, buf,
                                        sizeof(buf), &len)
            == 0)
        {
            in->floor_sig = ngx_http_fwgate_release_verify(r, ks, "floor of",
                                model, buf, len, ctx->rollout_rec.floor_sig,
                                &detail);
        }
    }
}


void
ngx_http_fwgate_release_free(void)
{
    ngx_uint_t  i;

    if (ngx_http_fwgate_release_slots == NULL) {
        return;
    }

    for (i = 0; i < NGX_HTTP_FWGATE_RELEASE_SLOTS; i++) {
        ngx_free(ngx_http_fwgate_release_slots[i].data);
    }

    ngx_free(ngx_http_fwgate_release_slots);
    ngx_http_fwgate_release_slots = NULL;
}
