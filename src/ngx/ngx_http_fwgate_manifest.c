
/*
 * fwgate: `fwgate_manifest`, the update check (docs/update-check.md).
 *
 * A device asks with the same signed headers as a download; the answer is
 * the download gate's own decision (steps 1-16, numbered as in
 * docs/reasons.md) for the target of the device's model's rollout: 200
 * with the artifact's description when the gate would serve it and it is
 * not the version the device already runs, 204 when the rollout offers
 * nothing, and the gate's 4xx/503 when the device itself or the registry
 * fails (steps 1-10, registry_unavailable).
 *
 * Records come in two round trips, because the artifact to look up is
 * only known from the rollout: device, rollout, canary and exclude first,
 * then the rollout's artifact.  Both go through the gate's shared cache
 * and coalesced fetches.
 */

#include "ngx_http_fwgate_module.h"
#include "fwg_json.h"


#define NGX_HTTP_FWGATE_MAX_ARTIFACT  256


static ngx_int_t ngx_http_fwgate_manifest_run(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx, ngx_http_fwgate_loc_conf_t *lcf);
static ngx_int_t ngx_http_fwgate_manifest_answer(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx, ngx_http_fwgate_loc_conf_t *lcf);
static ngx_uint_t ngx_http_fwgate_manifest_loaded(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx, ngx_http_fwgate_loc_conf_t *lcf,
    ngx_int_t *rc);
static ngx_int_t ngx_http_fwgate_manifest_none(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx, ngx_http_fwgate_loc_conf_t *lcf,
    const char *why);
static ngx_int_t ngx_http_fwgate_manifest_offer(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx, ngx_http_fwgate_loc_conf_t *lcf);
static ngx_int_t ngx_http_fwgate_manifest_token(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx, ngx_http_fwgate_main_conf_t *fmcf,
    ngx_str_t *tok);
static size_t ngx_http_fwgate_json_len(const u_char *s, size_t n);
static u_char *ngx_http_fwgate_json_copy(u_char *p, const u_char *s,
    size_t n);


ngx_int_t
ngx_http_fwgate_manifest_handler(ngx_http_request_t *r)
{
    ngx_int_t                    rc;
    ngx_http_fwgate_ctx_t       *ctx;
    ngx_http_fwgate_loc_conf_t  *lcf;

    rc = ngx_http_fwgate_read_only(r);
    if (rc != NGX_OK) {
        return rc;
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_fwgate_module);

    ctx = ngx_http_fwgate_content_ctx(r, ngx_http_fwgate_manifest_run);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_fwgate_check_request(r, ctx, lcf);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc != NGX_OK) {
        return ngx_http_fwgate_manifest_answer(r, ctx, lcf);
    }

    rc = ngx_http_fwgate_manifest_run(r, ctx, lcf);

    if (rc == NGX_AGAIN) {
        /* the resume handler finalizes */
        r->main->count++;
        return NGX_DONE;
    }

    return rc;
}


/* re-entered after each wait: records already in make need() a no-op */

static ngx_int_t
ngx_http_fwgate_manifest_run(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx, ngx_http_fwgate_loc_conf_t *lcf)
{
    ngx_int_t           rc;
    fwg_rollout_rec_t  *ro;

    if (ctx->stage == 3) {

        /* the admission probe answered, or its wait timed out */

        if (ctx->admission == NGX_HTTP_FWGATE_ADMIT_THROTTLED) {
            ctx->reason = FWG_R_ROLLOUT_THROTTLED;
            ctx->verdict.detail = "rollout admission limits reached";

        } else if (ctx->admission != NGX_HTTP_FWGATE_ADMIT_IN
                   && ctx->admission != NGX_HTTP_FWGATE_ADMIT_ROOM)
        {
            ctx->reason = FWG_R_REGISTRY_UNAVAILABLE;
        }

        return ngx_http_fwgate_manifest_answer(r, ctx, lcf);
    }

    if (ctx->stage == 0) {

        /* round trip 1: the device and its model's rollout */

        if (ngx_http_fwgate_need_device(r, ctx) == NGX_ERROR) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (!ngx_http_fwgate_manifest_loaded(r, ctx, lcf, &rc)) {
            return rc;
        }

        ctx->stage = 1;

        /*
         * The artifact in question is the rollout's target.  Without one
         * the artifact slot stays empty and the decision stops at step
         * 11 (after the device's own steps), which answer() reports as
         * not_released.
         */

        ro = &ctx->rollout_rec;

        if (ro->found && ro->artifact.len
            && ro->artifact.len <= NGX_HTTP_FWGATE_MAX_ARTIFACT)
        {
            ctx->artifact.data = (u_char *) ro->artifact.data;
            ctx->artifact.len = ro->artifact.len;
        }
    }

    if (ctx->stage == 1 && ctx->artifact.len) {

        /* round trip 2: the rollout's artifact */

        rc = ngx_http_fwgate_need_key(r, ctx, NGX_HTTP_FWGATE_SLOT_ARTIFACT,
                                      "artifact:", &ctx->artifact, NULL);

        if (rc == NGX_ERROR) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (!ngx_http_fwgate_manifest_loaded(r, ctx, lcf, &rc)) {
            return rc;
        }
    }

    ctx->stage = 2;

    ngx_http_fwgate_decide(r, ctx, lcf);

    if (ctx->reason == FWG_R_UNKNOWN_ARTIFACT && !ctx->rollout_rec.found) {
        ctx->reason = FWG_R_NOT_RELEASED;
    }

    /* past fwgate_max_staleness nothing is offered now (204) */

    if (ctx->reason == FWG_R_OK
        && ngx_http_fwgate_registry_stale(
               ngx_http_get_module_main_conf(r, ngx_http_fwgate_module)))
    {
        ctx->reason = FWG_R_REGISTRY_STALE;
    }

    /*
     * Admission limits: "not now" (503, Retry-After) to a device that a
     * download would throttle, so that it comes back later rather than
     * fetch and be refused; a read-only probe, nothing is recorded
     * (docs/update-check.md, "Not now").
     */

    if (ctx->reason == FWG_R_OK) {
        switch (ngx_http_fwgate_admit(r, ctx, 1)) {

        case NGX_AGAIN:
            ctx->stage = 3;
            return ngx_http_fwgate_wait(r, ctx);

        case NGX_DECLINED:
            ctx->reason = FWG_R_REGISTRY_UNAVAILABLE;
            break;

        default:
            break;
        }
    }

    return ngx_http_fwgate_manifest_answer(r, ctx, lcf);
}


/*
 * After a round trip's need(): 1 when its records are in, else 0 with
 * what run() returns in *rc (a wait, or the answer without a registry).
 */

static ngx_uint_t
ngx_http_fwgate_manifest_loaded(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx, ngx_http_fwgate_loc_conf_t *lcf,
    ngx_int_t *rc)
{
    if (ctx->pending) {
        *rc = ngx_http_fwgate_wait(r, ctx);
        return 0;
    }

    if (ngx_http_fwgate_records(r, ctx) != NGX_OK) {
        ctx->reason = FWG_R_REGISTRY_UNAVAILABLE;
        *rc = ngx_http_fwgate_manifest_answer(r, ctx, lcf);
        return 0;
    }

    return 1;
}


static ngx_int_t
ngx_http_fwgate_manifest_answer(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx, ngx_http_fwgate_loc_conf_t *lcf)
{
    int                           step, cmp;
    fwg_semver_t                  target;
    ngx_http_fwgate_main_conf_t  *fmcf;

    fmcf = ngx_http_get_module_main_conf(r, ngx_http_fwgate_module);

    step = fwg_reason_step(ctx->reason);

    /* the device or the registry failed: the gate's own answer */

    if (ctx->reason == FWG_R_REGISTRY_UNAVAILABLE
        || ctx->reason == FWG_R_ROLLOUT_THROTTLED
        || (step >= 1 && step <= 10))
    {
        (void) ngx_atomic_fetch_add(&fmcf->stats->manifest[2], 1);
        return ngx_http_fwgate_finish(r, ctx, lcf, 1);
    }

    /*
     * A known device.  One that already runs the rollout's target has
     * been heard from after its download (docs/update-check.md, "Silent
     * devices"): clear it, whether or not the rollout still offers the
     * artifact.
     */

    cmp = 1;

    if (ctx->artifact_rec.found
        && fwg_semver_parse(&target, ctx->artifact_rec.version.data
                                     ? ctx->artifact_rec.version.data : "",
                            ctx->artifact_rec.version.len)
           == 0)
    {
        cmp = fwg_semver_cmp(&target, &ctx->claims.version);

        if (cmp == 0) {
            ngx_http_fwgate_clear_download(r, ctx);
        }
    }

    ctx->done = 1;
    ngx_http_fwgate_set_variables(r, ctx);

    if (ctx->reason != FWG_R_OK) {
        return ngx_http_fwgate_manifest_none(r, ctx, lcf,
                                             fwg_reason_name(ctx->reason));
    }

    if (cmp == 0) {
        return ngx_http_fwgate_manifest_none(r, ctx, lcf, "up_to_date");
    }

    /*
     * Step 12 already refused an artifact that does not list the model;
     * the manifest is where a wrong image would be named, so check again
     * rather than depend on it.
     */

    if (!fwg_models_lists(ctx->artifact_rec.models, ctx->device_rec.model,
                          ctx->device_rec.hw)
        || ctx->device_rec.model.len != ctx->claims.model.len
        || ngx_memcmp(ctx->device_rec.model.data, ctx->claims.model.data,
                      ctx->claims.model.len) != 0)
    {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "fwgate: manifest refused an artifact that does not "
                      "list the device's model");
        return ngx_http_fwgate_manifest_none(r, ctx, lcf, "incompatible");
    }

    return ngx_http_fwgate_manifest_offer(r, ctx, lcf);
}


/* 204: nothing to install; the reason when the operator exposes it */

static ngx_int_t
ngx_http_fwgate_manifest_none(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx, ngx_http_fwgate_loc_conf_t *lcf,
    const char *why)
{
    ngx_str_t                     v;
    ngx_http_fwgate_main_conf_t  *fmcf;

    fmcf = ngx_http_get_module_main_conf(r, ngx_http_fwgate_module);

    (void) ngx_atomic_fetch_add(&fmcf->stats->manifest[1], 1);

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "fwgate manifest: nothing for \"%*s\": %s",
                   ctx->claims.device.len, ctx->claims.device.data, why);

    if (lcf->expose_reason) {
        v.data = (u_char *) why;
        v.len = ngx_strlen(why);

        if (ngx_http_fwgate_header_out(r, "X-Fwgate-Reason", &v) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    /* finalized as a special response: the headers above are kept */

    return NGX_HTTP_NO_CONTENT;
}


/* 200: {"artifact","version","url","sha256","size"} */

static ngx_int_t
ngx_http_fwgate_manifest_offer(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx, ngx_http_fwgate_loc_conf_t *lcf)
{
    u_char                       *p;
    size_t                        len, i;
    ngx_str_t                     base, path, v, tok;
    ngx_buf_t                    *b;
    ngx_uint_t                    size_ok, query;
    fwg_artifact_rec_t           *a;
    ngx_http_fwgate_main_conf_t  *fmcf;

    fmcf = ngx_http_get_module_main_conf(r, ngx_http_fwgate_module);
    a = &ctx->artifact_rec;

    path.data = (u_char *) a->path.data;
    path.len = a->path.len;
    base = lcf->base_url;

    /* a path that is already a URL stands alone; one slash at the join */

    if (path.len == 0
        || ngx_strlcasestrn(path.data, path.data + path.len,
                            (u_char *) "://", 3 - 1)
           != NULL)
    {
        base.len = 0;

    } else if (base.len && base.data[base.len - 1] == '/'
               && path.data[0] == '/')
    {
        base.len--;
    }

    /* a size is digits only, or it is not a size */

    size_ok = (a->size.len > 0 && a->size.len <= 19);

    for (i = 0; size_ok && i < a->size.len; i++) {
        if (a->size.data[i] < '0' || a->size.data[i] > '9'
            || (i == 0 && a->size.data[0] == '0' && a->size.len > 1))
        {
            size_ok = 0;
        }
    }

    if (ngx_http_fwgate_manifest_token(r, ctx, fmcf, &tok) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the token_url's separator: '&' when the url has a query already */

    query = (ngx_strlchr(base.data, base.data + base.len, '?') != NULL
             || ngx_strlchr(path.data, path.data + path.len, '?') != NULL);

    /* the template, the quotes of four strings, then the values */

    len = sizeof("{\"artifact\":,\"version\":,\"url\":,\"sha256\":,"
                 "\"size\":}\n") - 1 + 4 * 2
          + ngx_http_fwgate_json_len(ctx->artifact.data, ctx->artifact.len)
          + ngx_http_fwgate_json_len((u_char *) a->version.data,
                                     a->version.len)
          + ngx_http_fwgate_json_len(base.data, base.len)
          + ngx_http_fwgate_json_len(path.data, path.len)
          + ngx_http_fwgate_json_len((u_char *) a->sha256.data,
                                     a->sha256.len)
          + sizeof("null") - 1 + a->size.len
          + sizeof(",\"token\":\"\",\"token_url\":\"?fwt=\"") - 1
          + 2 * tok.len + ngx_http_fwgate_json_len(base.data, base.len)
          + ngx_http_fwgate_json_len(path.data, path.len);

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = b->pos;

    p = ngx_cpymem(p, "{\"artifact\":\"", sizeof("{\"artifact\":\"") - 1);
    p = ngx_http_fwgate_json_copy(p, ctx->artifact.data, ctx->artifact.len);
    p = ngx_cpymem(p, "\",\"version\":\"", sizeof("\",\"version\":\"") - 1);
    p = ngx_http_fwgate_json_copy(p, (u_char *) a->version.data,
                                  a->version.len);

    if (path.len) {
        p = ngx_cpymem(p, "\",\"url\":\"", sizeof("\",\"url\":\"") - 1);
        p = ngx_http_fwgate_json_copy(p, base.data, base.len);
        p = ngx_http_fwgate_json_copy(p, path.data, path.len);
        p = ngx_cpymem(p, "\",\"sha256\":\"",
                       sizeof("\",\"sha256\":\"") - 1);

    } else {
        p = ngx_cpymem(p, "\",\"url\":null,\"sha256\":\"",
                       sizeof("\",\"url\":null,\"sha256\":\"") - 1);
    }

    p = ngx_http_fwgate_json_copy(p, (u_char *) a->sha256.data,
                                  a->sha256.len);
    p = ngx_cpymem(p, "\",\"size\":", sizeof("\",\"size\":") - 1);

    if (size_ok) {
        p = ngx_cpymem(p, a->size.data, a->size.len);

    } else {
        p = ngx_cpymem(p, "null", 4);
    }

    /* a download token, and the url that carries it (base64url: no
       escaping needed in JSON or in a query) */

    if (tok.len) {
        p = ngx_cpymem(p, ",\"token\":\"", sizeof(",\"token\":\"") - 1);
        p = ngx_cpymem(p, tok.data, tok.len);
        *p++ = '"';

        if (path.len) {
            p = ngx_cpymem(p, ",\"token_url\":\"",
                           sizeof(",\"token_url\":\"") - 1);
            p = ngx_http_fwgate_json_copy(p, base.data, base.len);
            p = ngx_http_fwgate_json_copy(p, path.data, path.len);
            p = ngx_cpymem(p, query ? "&fwt=" : "?fwt=", 5);
            p = ngx_cpymem(p, tok.data, tok.len);
            *p++ = '"';
        }
    }

    *p++ = '}';
    *p++ = '\n';

    b->last = p;

    (void) ngx_atomic_fetch_add(&fmcf->stats->manifest[0], 1);

    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    if (lcf->expose_reason) {
        ngx_str_set(&v, "ok");

        if (ngx_http_fwgate_header_out(r, "X-Fwgate-Reason", &v) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    return ngx_http_fwgate_send_ok(r, b);
}


/*
 * A download token for the offered artifact, bound to the device, its
 * model and hw, the version it runs (all from its signed update check)
 * and an expiry: tok->len 0 when no fwgate_token_secret is configured,
 * or when a claim cannot be carried (a '|' in the device id).
 */

static ngx_int_t
ngx_http_fwgate_manifest_token(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx, ngx_http_fwgate_main_conf_t *fmcf,
    ngx_str_t *tok)
{
    size_t       n;
    fwg_token_t  t;

    tok->len = 0;
    tok->data = NULL;

    if (fmcf->token_secrets == NULL || fmcf->ntoken_secrets == 0) {
        return NGX_OK;
    }

    ngx_memzero(&t, sizeof(fwg_token_t));

    t.exp = (int64_t) ngx_time() + fmcf->token_ttl;
    t.device = ctx->claims.device;
    t.model = ctx->claims.model;
    t.hw = ctx->claims.hw;
    t.version = ctx->claims.version_str;
    t.artifact.data = (const char *) ctx->artifact.data;
    t.artifact.len = ctx->artifact.len;

    if (t.hw.data == NULL) {
        t.hw.len = 0;
    }

    tok->data = ngx_pnalloc(r->pool, FWG_TOKEN_MAX_LEN);
    if (tok->data == NULL) {
        return NGX_ERROR;
    }

    if (fwg_token_mint(&fmcf->token_secrets[0], &t, (char *) tok->data,
                       FWG_TOKEN_MAX_LEN, &n)
        != 0)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "fwgate: no download token: a claim cannot be "
                      "carried in one");
        tok->len = 0;
        return NGX_OK;
    }

    tok->len = n;

    return NGX_OK;
}


/*
 * JSON string contents: '"' and '\\' escaped, control characters as
 * \u00XX; other bytes (UTF-8 included) as they are.
 */

/* JSON string contents through the core's one escaper (fwg_json.c) */

static size_t
ngx_http_fwgate_json_len(const u_char *s, size_t n)
{
    return fwg_json_escape(NULL, (const char *) s, n);
}


static u_char *
ngx_http_fwgate_json_copy(u_char *p, const u_char *s, size_t n)
{
    return p + fwg_json_escape((char *) p, (const char *) s, n);
}
