
/*
 * fwgate: the access-phase gate, a request's story from its signed
 * headers to allow or deny: reading the request into the core's message
 * form, the decision, and publishing the outcome (variables, log line,
 * counters, response headers).  Getting the registry records and waiting
 * for them is fetch.c's.
 */

#include "ngx_http_fwgate_module.h"
#include "fwg_b64.h"


static ngx_int_t ngx_http_fwgate_gate_ran(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx, ngx_int_t rc);
static ngx_int_t ngx_http_fwgate_gate_run(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx, ngx_http_fwgate_loc_conf_t *lcf);
static ngx_int_t ngx_http_fwgate_decided(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx, ngx_http_fwgate_loc_conf_t *lcf);
static void ngx_http_fwgate_access_resume(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx);
static ngx_int_t ngx_http_fwgate_admitted(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx, ngx_http_fwgate_loc_conf_t *lcf);
static int ngx_http_fwgate_replay(void *data, fwg_str_t keyid,
    fwg_str_t nonce, int64_t expires_at);
static ngx_int_t ngx_http_fwgate_default_artifact(ngx_http_request_t *r,
    ngx_str_t *name);
static void ngx_http_fwgate_decide_in(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx, ngx_http_fwgate_loc_conf_t *lcf,
    fwg_decide_in_t *in);
static void ngx_http_fwgate_decide_signed(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx, ngx_http_fwgate_loc_conf_t *lcf);
static ngx_table_elt_t *ngx_http_fwgate_header_in(ngx_http_request_t *r,
    const char *lowcase, size_t len);
static ngx_int_t ngx_http_fwgate_check_token(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx, ngx_str_t *tok);
static void ngx_http_fwgate_raw_target(ngx_http_request_t *r,
    fwg_msg_t *msg);


/*
 * Verified download tokens, per worker: a stock updater sends the same
 * token on every Range request, so the base64url decoding and the HMAC
 * are done once per token and worker.  Only the token checks are cached;
 * the registry steps run on every request.  A hit compares the whole
 * token in constant time (a byte-wise compare against a valid token
 * would time how much of a guess is right); expiry is checked again.
 * A reload starts new workers, so a rotated secret empties it.
 */

#define NGX_HTTP_FWGATE_TOKEN_SLOTS  64
#define NGX_HTTP_FWGATE_TOKEN_LEN    512   /* longer tokens: not cached */
#define NGX_HTTP_FWGATE_TOKEN_BODY   384   /* their payloads fit */

typedef struct {
    size_t        len;                  /* 0: empty */
    size_t        plen;
    fwg_token_t   t;                    /* pointers into payload */
    u_char        tok[NGX_HTTP_FWGATE_TOKEN_LEN];
    char          payload[NGX_HTTP_FWGATE_TOKEN_BODY];
} ngx_http_fwgate_token_slot_t;

static ngx_http_fwgate_token_slot_t
    ngx_http_fwgate_tokens[NGX_HTTP_FWGATE_TOKEN_SLOTS];


static fwg_str_t
ngx_http_fwgate_rebase(fwg_str_t s, const char *from, char *to)
{
    if (s.data != NULL) {
        s.data = to + (s.data - from);
    }

    return s;
}


static void
ngx_http_fwgate_token_copy(fwg_token_t *dst, const fwg_token_t *src,
    const char *from, char *to)
{
    *dst = *src;
    dst->device = ngx_http_fwgate_rebase(src->device, from, to);
    dst->model = ngx_http_fwgate_rebase(src->model, from, to);
    dst->hw = ngx_http_fwgate_rebase(src->hw, from, to);
    dst->version = ngx_http_fwgate_rebase(src->version, from, to);
    dst->artifact = ngx_http_fwgate_rebase(src->artifact, from, to);
}


static fwg_reason_t
ngx_http_fwgate_token_verify(ngx_http_fwgate_main_conf_t *fmcf,
    ngx_str_t *tok, char *buf, fwg_token_t *t, const char **detail)
{
    size_t                         plen;
    ngx_uint_t                     k;
    fwg_reason_t                   rc;
    const char                    *end;
    ngx_http_fwgate_token_slot_t  *e;

    e = NULL;

    if (tok->len >= 8 && tok->len <= NGX_HTTP_FWGATE_TOKEN_LEN) {
        k = ngx_hash_key(tok->data + tok->len - 8, 8)
            % NGX_HTTP_FWGATE_TOKEN_SLOTS;
        e = &ngx_http_fwgate_tokens[k];

        if (e->len == tok->len
            && fwg_ct_memcmp(e->tok, tok->data, tok->len) == 0)
        {
            ngx_memcpy(buf, e->payload, e->plen);
            ngx_http_fwgate_token_copy(t, &e->t, e->payload, buf);

            if ((int64_t) ngx_time() >= t->exp) {
                *detail = "token expired";
                return FWG_R_TOKEN_EXPIRED;
            }

            *detail = "token verifies (cached)";
            return FWG_R_OK;
        }
    }

    rc = fwg_token_verify(fmcf->token_secrets, fmcf->ntoken_secrets,
                          (const char *) tok->data, tok->len,
                          (int64_t) ngx_time(), buf, FWG_TOKEN_MAX_PAYLOAD,
                          t, detail);

    if (rc != FWG_R_OK || e == NULL) {
        return rc;
    }

    /* the payload ends with the artifact, the last field */

    end = t->artifact.data + t->artifact.len;
    plen = end - buf;

    if (plen <= NGX_HTTP_FWGATE_TOKEN_BODY) {
        e->len = 0;
        ngx_memcpy(e->payload, buf, plen);
        ngx_http_fwgate_token_copy(&e->t, t, buf, e->payload);
        ngx_memcpy(e->tok, tok->data, tok->len);
        e->plen = plen;
        e->len = tok->len;
    }

    return rc;
}


ngx_int_t
ngx_http_fwgate_access_handler(ngx_http_request_t *r)
{
    ngx_str_t                     tok;
    ngx_http_fwgate_ctx_t        *ctx;
    ngx_http_fwgate_loc_conf_t   *lcf;
    ngx_http_fwgate_main_conf_t  *fmcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_fwgate_module);

    if (!lcf->enable || lcf->handler != NGX_HTTP_FWGATE_HANDLER_NONE) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_fwgate_get_ctx(r);

    if (ctx) {
        if (ctx->waiting) {
            return NGX_AGAIN;
        }

        if (ctx->done) {
            return ngx_http_fwgate_decided(r, ctx, lcf);
        }

        if (ctx->admission != NGX_HTTP_FWGATE_ADMIT_NONE) {
            return ngx_http_fwgate_admitted(r, ctx, lcf);
        }

        return ngx_http_fwgate_gate_run(r, ctx, lcf);
    }

    ctx = ngx_http_fwgate_ctx_create(r, ngx_http_fwgate_access_resume);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* named first, so that every refusal's log line carries it */

    if (lcf->artifact) {
        if (ngx_http_complex_value(r, lcf->artifact, &ctx->artifact)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

    } else if (ngx_http_fwgate_default_artifact(r, &ctx->artifact)
               != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /*
     * A download token stands in for the signature (steps 1-8) only when
     * there is no signature: a signed request is decided from its
     * signature, whatever its query says.
     */

    fmcf = ngx_http_get_module_main_conf(r, ngx_http_fwgate_module);

    if (fmcf->token_secrets
        && r->args.len
        && ngx_http_arg(r, (u_char *) "fwt", 3, &tok) == NGX_OK
        && ngx_http_fwgate_header_in(r, "signature-input",
                                     sizeof("signature-input") - 1)
           == NULL)
    {
        switch (ngx_http_fwgate_check_token(r, ctx, &tok)) {

        case NGX_OK:
            return ngx_http_fwgate_gate_run(r, ctx, lcf);

        case NGX_DECLINED:
            return ngx_http_fwgate_finish(r, ctx, lcf, 1);

        default:
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (ngx_http_fwgate_check_request(r, ctx, lcf) != NGX_OK) {
        return ngx_http_fwgate_finish(r, ctx, lcf, 1);
    }

    return ngx_http_fwgate_gate_run(r, ctx, lcf);
}


/*
 * An allowed download is answered once the other requests this pass of
 * the event loop read have been decided (fetch.c, ngx_http_fwgate_defer):
 * the answers then leave together.  Measured with make bench: the
 * kernel's share of a gated request falls to plain nginx's, and an
 * ed25519 request's by about 35 us (docs/benchmarks.md).
 */

static ngx_int_t
ngx_http_fwgate_gate_ran(ngx_http_request_t *r, ngx_http_fwgate_ctx_t *ctx,
    ngx_int_t rc)
{
    if (rc != NGX_OK || ctx->reason != FWG_R_OK || ctx->waited) {
        /*
         * A request back from a Redis wait is already answered from a
         * posted event, with the others the same replies woke.
         */
        return rc;
    }

    return ngx_http_fwgate_defer(r, ctx);
}


/*
 * The token path's steps 1-8: the token verifies under an edge secret and
 * has not expired, names the artifact this location serves, and names the
 * device the request may name itself.  Its claims then go through the
 * same registry steps 9-16 as a signature's (ngx_http_fwgate_decide).
 * The token itself is never logged: details are fixed strings.
 */

static ngx_int_t
ngx_http_fwgate_check_token(ngx_http_request_t *r, ngx_http_fwgate_ctx_t *ctx,
    ngx_str_t *tok)
{
    char                         *buf;
    ngx_uint_t                    i;
    fwg_token_t                   t;
    ngx_list_part_t              *part;
    ngx_table_elt_t              *h;
    ngx_http_fwgate_main_conf_t  *fmcf;

    fmcf = ngx_http_get_module_main_conf(r, ngx_http_fwgate_module);

    ctx->token = 1;

    /* the raw target, for the path check of step 11 */
    ngx_http_fwgate_raw_target(r, &ctx->msg);

    buf = ngx_pnalloc(r->pool, FWG_TOKEN_MAX_PAYLOAD);
    if (buf == NULL) {
        return NGX_ERROR;
    }

    ctx->reason = ngx_http_fwgate_token_verify(fmcf, tok, buf, &t,
                                               &ctx->claims.detail);

    if (ctx->reason != FWG_R_OK) {
        return NGX_DECLINED;
    }

    ctx->claims.device = t.device;
    ctx->claims.model = t.model;
    ctx->claims.hw = t.hw;

    if (t.hw.len == 0) {
        ctx->claims.hw.data = NULL;
    }

    ctx->claims.version_str = t.version;

    if (fwg_semver_parse(&ctx->claims.version, t.version.data,
                         t.version.len)
        != 0)
    {
        /* cannot happen: the token's fields were validated */
        ctx->reason = FWG_R_TOKEN_MALFORMED;
        return NGX_DECLINED;
    }

    if (t.artifact.len != ctx->artifact.len
        || ngx_memcmp(t.artifact.data, ctx->artifact.data, t.artifact.len)
           != 0)
    {
        ctx->reason = FWG_R_TOKEN_ARTIFACT;
        ctx->claims.detail = "token is for another artifact";
        return NGX_DECLINED;
    }

    /* every X-Device-Id the request sends must be the token's device */

    part = &r->headers_in.headers.part;

    for ( ;; ) {
        h = part->elts;

        for (i = 0; i < part->nelts; i++) {
            if (h[i].key.len != sizeof("x-device-id") - 1
                || ngx_strncmp(h[i].lowcase_key, "x-device-id",
                               sizeof("x-device-id") - 1)
                   != 0)
            {
                continue;
            }

            if (h[i].value.len != t.device.len
                || ngx_memcmp(h[i].value.data, t.device.data, t.device.len)
                   != 0)
            {
                ctx->reason = FWG_R_TOKEN_DEVICE;
                ctx->claims.detail = "X-Device-Id is not the token's device";
                return NGX_DECLINED;
            }
        }

        if (part->next == NULL) {
            break;
        }

        part = part->next;
    }

    return NGX_OK;
}


static ngx_table_elt_t *
ngx_http_fwgate_header_in(ngx_http_request_t *r, const char *lowcase,
    size_t len)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            h = part->elts;
            i = 0;

            if (part->nelts == 0) {
                continue;
            }
        }

        if (h[i].key.len == len
            && ngx_strncmp(h[i].lowcase_key, lowcase, len) == 0)
        {
            return &h[i];
        }
    }
}


/*
 * POST_READ: a download token in the query is a bearer credential, so it
 * is masked in the request line before anything logs it: $request in
 * access logs and the "request:" context of error log lines show
 * "fwt=***".  r->args and r->unparsed_uri still point at the original
 * bytes, which the gate reads.
 */

ngx_int_t
ngx_http_fwgate_mask_token(ngx_http_request_t *r)
{
    u_char      *p, *q, *end, *line, *d, *v;
    ngx_uint_t   n;

    if (r->request_line.len == 0 || r->args.len == 0) {
        return NGX_DECLINED;
    }

    end = r->request_line.data + r->request_line.len;
    q = ngx_strlchr(r->request_line.data, end, '?');

    if (q == NULL) {
        return NGX_DECLINED;
    }

    /* how many "fwt=" parameters */

    n = 0;

    for (p = q; p + 4 < end; p++) {
        if ((*p == '?' || *p == '&')
            && ngx_strncasecmp(p + 1, (u_char *) "fwt=", 4) == 0)
        {
            n++;
        }

        if (*p == ' ') {
            break;
        }
    }

    if (n == 0) {
        return NGX_DECLINED;
    }

    line = ngx_pnalloc(r->pool, r->request_line.len + 3 * n);
    if (line == NULL) {
        return NGX_DECLINED;
    }

    d = ngx_cpymem(line, r->request_line.data, q - r->request_line.data);

    for (p = q; p < end; /* void */) {
        if ((*p == '?' || *p == '&') && p + 4 < end
            && ngx_strncasecmp(p + 1, (u_char *) "fwt=", 4) == 0)
        {
            d = ngx_cpymem(d, p, 5);
            d = ngx_cpymem(d, "***", 3);

            for (v = p + 5; v < end && *v != '&' && *v != ' ' && *v != '#';
                 v++)
            {
                /* void */
            }

            p = v;
            continue;
        }

        if (*p == ' ') {
            d = ngx_cpymem(d, p, end - p);
            break;
        }

        *d++ = *p++;
    }

    r->request_line.data = line;
    r->request_line.len = d - line;

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_fwgate_gate_run(ngx_http_request_t *r, ngx_http_fwgate_ctx_t *ctx,
    ngx_http_fwgate_loc_conf_t *lcf)
{
    ngx_int_t                     rc, rc2;
    ngx_http_fwgate_main_conf_t  *fmcf;

    /*
     * Past fwgate_max_staleness the edge cannot know whether a halt or a
     * revoke reached it: it stops serving rollout downloads until the
     * registry is confirmed fresh again (docs/many-edges.md).
     */

    fmcf = ngx_http_get_module_main_conf(r, ngx_http_fwgate_module);

    if (ngx_http_fwgate_registry_stale(fmcf)) {
        ctx->reason = FWG_R_REGISTRY_STALE;
        return ngx_http_fwgate_finish(r, ctx, lcf, 1);
    }

    /* back from the batch: the memo's answer is in ctx, as it was */

    if (ctx->verify_later) {
        ctx->verify_later = 0;
        ctx->batched = 1;
        ngx_http_fwgate_decide_signed(r, ctx, lcf);
        goto admit;
    }

    /* an allow this worker made from the same claims and registry */

    if (ngx_http_fwgate_memo_get(r, ctx, lcf) == NGX_OK) {

        /*
         * An ed25519 or P-256 verification is some 60-130 us of table
         * walks that evict the rest of the worker's working set, and
         * nginx's code then runs from a cold cache between two of them.
         * A memo hit's verification therefore waits, as the answer
         * does, for the end of this pass of the event loop: the
         * verifications of the pass then run back to back, and the
         * answers after them (ngx_http_fwgate_defer).  Nothing is sent
         * before the signature is verified.
         */

        if (!ctx->token && !ctx->batched && !ctx->memo_has_states) {
            ctx->verify_later = 1;
            return ngx_http_fwgate_defer(r, ctx);
        }

        ngx_http_fwgate_decide_signed(r, ctx, lcf);
        goto admit;
    }

    /* every key the decision needs, pipelined in one round trip */

    rc = ngx_http_fwgate_need_device(r, ctx);
    rc2 = ngx_http_fwgate_need_key(r, ctx, NGX_HTTP_FWGATE_SLOT_ARTIFACT,
                                   "artifact:", &ctx->artifact, NULL);

    if (rc == NGX_ERROR || rc2 == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx->pending) {
        return ngx_http_fwgate_wait(r, ctx);
    }

    if (ngx_http_fwgate_records(r, ctx) != NGX_OK) {
        ctx->reason = FWG_R_REGISTRY_UNAVAILABLE;
        return ngx_http_fwgate_finish(r, ctx, lcf, 1);
    }

    ngx_http_fwgate_decide(r, ctx, lcf);
    ngx_http_fwgate_memo_put(r, ctx, lcf);

admit:

    /*
     * A rollout with admission limits: the first download of a device
     * waits for Redis's answer before any byte is served.
     */

    if (ctx->reason == FWG_R_OK) {
        switch (ngx_http_fwgate_admit(r, ctx, 0)) {

        case NGX_AGAIN:
            return ngx_http_fwgate_wait(r, ctx);

        case NGX_DECLINED:
            ctx->reason = FWG_R_REGISTRY_UNAVAILABLE;
            break;

        default:
            break;
        }
    }

    return ngx_http_fwgate_gate_ran(r, ctx,
                                    ngx_http_fwgate_finish(r, ctx, lcf, 1));
}


/* the admission script answered, or the wait timed out */

static ngx_int_t
ngx_http_fwgate_admitted(ngx_http_request_t *r, ngx_http_fwgate_ctx_t *ctx,
    ngx_http_fwgate_loc_conf_t *lcf)
{
    ngx_http_fwgate_main_conf_t  *fmcf;

    fmcf = ngx_http_get_module_main_conf(r, ngx_http_fwgate_module);

    switch (ctx->admission) {

    case NGX_HTTP_FWGATE_ADMIT_IN:
        /* the per-worker memo only once Redis has admitted the device */
        (void) ngx_http_fwgate_cache_marked(fmcf, &ctx->mark, 1);
        break;

    case NGX_HTTP_FWGATE_ADMIT_THROTTLED:
        ctx->reason = FWG_R_ROLLOUT_THROTTLED;
        ctx->verdict.detail = "rollout admission limits reached";
        break;

    default:
        ctx->reason = FWG_R_REGISTRY_UNAVAILABLE;
        break;
    }

    return ngx_http_fwgate_finish(r, ctx, lcf, 1);
}


/*
 * The gate runs again after an internal redirect (try_files, error_page,
 * rewrite ... last in the new location): a request is decided once, as
 * its nonce is spent once.  A refusal stays the same refusal (its headers
 * are out already).  An allowed download stays allowed only while the URI
 * is still the artifact's path: a redirect elsewhere would serve bytes the
 * decision was not about.
 */

static ngx_int_t
ngx_http_fwgate_decided(ngx_http_request_t *r, ngx_http_fwgate_ctx_t *ctx,
    ngx_http_fwgate_loc_conf_t *lcf)
{
    if (ctx->reason != FWG_R_OK) {
        return ctx->rc;
    }

    if (ctx->run == NULL
        && (!lcf->match_path
            || (r->uri.len == ctx->path.len
                && ngx_strncmp(r->uri.data, ctx->path.data, r->uri.len)
                   == 0)))
    {
        return NGX_OK;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "fwgate: internal redirect to \"%V\" after the decision",
                   &r->uri);

    ctx->reason = FWG_R_PATH_MISMATCH;
    ctx->verdict.detail = "internal redirect away from the artifact's path";

    return ngx_http_fwgate_finish(r, ctx, lcf, 1);
}


static void
ngx_http_fwgate_access_resume(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx)
{
    if (r == r->main) {
        r->read_event_handler = ngx_http_block_reading;
    }

    r->write_event_handler = ngx_http_core_run_phases;

    ngx_http_core_run_phases(r);
}


/* the request as the core sees it: raw target, header field lines */

ngx_int_t
ngx_http_fwgate_check_request(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx, ngx_http_fwgate_loc_conf_t *lcf)
{
    u_char            *q, *end;
    size_t             total, size;
    ngx_str_t          kid, nonce;
    fwg_msg_t          msg;
    ngx_uint_t         i, n;
    fwg_field_t       *fields;
    ngx_list_part_t   *part;
    ngx_table_elt_t   *h;

    ngx_memzero(&msg, sizeof(fwg_msg_t));

    msg.method.data = (const char *) r->method_name.data;
    msg.method.len = r->method_name.len;

#if (NGX_HTTP_SSL)
    if (r->connection->ssl) {
        msg.scheme.data = "https";
        msg.scheme.len = 5;
    } else
#endif
    {
        msg.scheme.data = "http";
        msg.scheme.len = 4;
    }

    /*
     * @authority is the target URI's authority (RFC 9421 section 2.2.3):
     * from an absolute-form request line, which nginx also routes on and
     * which overrides Host (RFC 9112 section 3.2.2), else Host (HTTP/2's
     * :authority arrives as Host).
     */

    if (r->host_start && r->host_end) {
        /* host, then ":port" if any: nginx 1.25 dropped r->port_end */
        q = r->host_end;
        end = r->request_end ? r->request_end : r->host_end;

        if (q < end && *q == ':') {
            for (q++; q < end && *q >= '0' && *q <= '9'; q++) { /* void */ }
        }

        msg.authority.data = (const char *) r->host_start;
        msg.authority.len = q - r->host_start;

    } else if (r->headers_in.host) {
        msg.authority.data = (const char *) r->headers_in.host->value.data;
        msg.authority.len = r->headers_in.host->value.len;

    } else {
        msg.authority.data = (const char *) r->headers_in.server.data;
        msg.authority.len = r->headers_in.server.len;
    }

    ngx_http_fwgate_raw_target(r, &msg);

    n = 0;
    total = 0;
    part = &r->headers_in.headers.part;

    for ( ;; ) {
        n += part->nelts;
        h = part->elts;

        for (i = 0; i < part->nelts; i++) {
            total += h[i].value.len;
        }

        if (part->next == NULL) {
            break;
        }

        part = part->next;
    }

    fields = ngx_palloc(r->pool, (n ? n : 1) * sizeof(fwg_field_t));
    if (fields == NULL) {
        return NGX_ERROR;
    }

    n = 0;
    part = &r->headers_in.headers.part;

    for ( ;; ) {
        h = part->elts;

        for (i = 0; i < part->nelts; i++) {
            fields[n].name.data = (const char *) h[i].key.data;
            fields[n].name.len = h[i].key.len;
            fields[n].value.data = (const char *) h[i].value.data;
            fields[n].value.len = h[i].value.len;
            n++;
        }

        if (part->next == NULL) {
            break;
        }

        part = part->next;
    }

    msg.fields = fields;
    msg.nfields = n;

    /*
     * The core parses into an arena: sized from the headers it may have
     * to hold, which nginx's own header buffers already bound.
     */

    size = 8192 + 6 * total;
    if (size > 512 * 1024) {
        size = 512 * 1024;
    }

    if (ngx_http_fwgate_ctx_arena(r, ctx, size) != NGX_OK) {
        return NGX_ERROR;
    }

    ctx->msg = msg;

    ctx->replay_hash = 0;
    ctx->reason = fwg_decide_request(&msg, &lcf->policy, (int64_t) ngx_time(),
                                     &ctx->arena, &ctx->claims, NULL, NULL);

    if (ctx->reason != FWG_R_OK) {
        return NGX_DECLINED;
    }

    if (ctx->claims.sig.nonce.len) {
        kid.data = (u_char *) ctx->claims.device.data;
        kid.len = ctx->claims.device.len;
        nonce.data = (u_char *) ctx->claims.sig.nonce.data;
        nonce.len = ctx->claims.sig.nonce.len;

        ctx->replay_hash = ngx_http_fwgate_replay_prefetch(
                      ngx_http_get_module_main_conf(r, ngx_http_fwgate_module),
                      &kid, &nonce);
    }

    return NGX_OK;
}


/* @path and @query are the target as sent, not nginx's decoded $uri */

static void
ngx_http_fwgate_raw_target(ngx_http_request_t *r, fwg_msg_t *msg)
{
    u_char  *q, *end, *buf;

    q = r->unparsed_uri.data;
    end = r->unparsed_uri.data + r->unparsed_uri.len;

    if (r->unparsed_uri.len && q[0] != '/') {
        /* absolute-form "scheme://authority/path": skip to the path */
        buf = ngx_strlcasestrn(q, end, (u_char *) "://", 3 - 1);
        q = buf ? ngx_strlchr(buf + 3, end, '/') : NULL;

        if (q == NULL) {
            q = end;
        }
    }

    msg->path.data = (const char *) q;
    buf = ngx_strlchr(q, end, '?');

    if (buf) {
        msg->path.len = buf - q;
        msg->query.data = (const char *) buf + 1;
        msg->query.len = end - buf - 1;
        msg->has_query = 1;

    } else {
        msg->path.len = end - q;
    }
}


static int
ngx_http_fwgate_replay(void *data, fwg_str_t keyid, fwg_str_t nonce,
    int64_t expires_at)
{
    uint64_t                      hash;
    ngx_str_t                     k, n;
    ngx_http_request_t           *r = data;
    ngx_http_fwgate_ctx_t        *ctx;
    ngx_http_fwgate_main_conf_t  *fmcf;

    fmcf = ngx_http_get_module_main_conf(r, ngx_http_fwgate_module);
    ctx = ngx_http_fwgate_get_ctx(r);

    /* the prefetch's digest when it was of these very claims */

    hash = 0;

    if (ctx && ctx->replay_hash
        && keyid.data == ctx->claims.device.data
        && keyid.len == ctx->claims.device.len
        && nonce.data == ctx->claims.sig.nonce.data
        && nonce.len == ctx->claims.sig.nonce.len)
    {
        hash = ctx->replay_hash;
    }

    k.data = (u_char *) keyid.data;
    k.len = keyid.len;
    n.data = (u_char *) nonce.data;
    n.len = nonce.len;

    return (int) ngx_http_fwgate_replay_check(fmcf, &k, &n, hash,
                                              (time_t) expires_at,
                                              r->connection->log);
}


/* the core's input from the request's claims and records */

static void
ngx_http_fwgate_decide_in(ngx_http_request_t *r, ngx_http_fwgate_ctx_t *ctx,
    ngx_http_fwgate_loc_conf_t *lcf, fwg_decide_in_t *inp)
{
    fwg_decide_in_t  in;

    ngx_memzero(&in, sizeof(fwg_decide_in_t));

    /* a token's claims skip the signature's steps 7 and 8 */
    in.claims = ctx->token ? NULL : &ctx->claims;
    in.device = ctx->claims.device;
    in.model = ctx->claims.model;
    in.hw = ctx->claims.hw;
    in.version = &ctx->claims.version;
    in.artifact.data = (const char *) ctx->artifact.data;
    in.artifact.len = ctx->artifact.len;
    in.device_rec = &ctx->device_rec;
    in.artifact_rec = &ctx->artifact_rec;
    in.rollout_rec = &ctx->rollout_rec;
    in.algs = lcf->policy.algs;

    /* a download: the URI nginx serves and the target as sent */

    if (lcf->handler == NGX_HTTP_FWGATE_HANDLER_NONE && lcf->match_path) {
        in.path.data = (const char *) r->uri.data;
        in.path.len = r->uri.len;
        in.raw_path = ctx->msg.path;

        if (in.raw_path.data == NULL) {
            in.raw_path.data = "";
        }
    }

    if (ctx->memo_has_states) {
        /* a memo hit's hmac key, as its chaining values */
        in.hmac_states = ctx->memo_states;

    } else if (ctx->device_rec.found) {
        in.key = ngx_http_fwgate_key_get(ctx->device_rec.alg,
                                         ctx->device_rec.key);
    }

    in.replay = ngx_http_fwgate_replay;
    in.replay_data = r;
    in.replay_window = lcf->max_age + lcf->clock_skew;
    in.now = (int64_t) ngx_time();

    *inp = in;
}


void
ngx_http_fwgate_decide(ngx_http_request_t *r, ngx_http_fwgate_ctx_t *ctx,
    ngx_http_fwgate_loc_conf_t *lcf)
{
    fwg_str_t        path;
    fwg_decide_in_t  in;

    ngx_http_fwgate_decide_in(r, ctx, lcf, &in);
    ngx_http_fwgate_release_prepare(r, ctx, lcf, &in);

    ctx->reason = fwg_decide_registry(&in, &ctx->verdict, NULL, NULL);

    if (ctx->reason == FWG_R_OK) {
        path = fwg_artifact_path(ctx->artifact_rec.path);
        ctx->path.data = (u_char *) path.data;
        ctx->path.len = path.len;
    }
}


/*
 * A memo hit (memo.c): steps 9-16 are known to pass for these claims and
 * this registry generation; the request's own steps 6-8 (its signature
 * with the device's key, its nonce) run as always.
 */

static void
ngx_http_fwgate_decide_signed(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx, ngx_http_fwgate_loc_conf_t *lcf)
{
    fwg_str_t        path;
    fwg_verdict_t    v;
    fwg_decide_in_t  in;

    ngx_http_fwgate_decide_in(r, ctx, lcf, &in);

    ngx_memzero(&v, sizeof(fwg_verdict_t));

    ctx->reason = fwg_decide_signed(&in, &v, NULL, NULL);

    if (ctx->reason != FWG_R_OK) {
        ctx->verdict = v;
        return;
    }

    path = fwg_artifact_path(ctx->artifact_rec.path);
    ctx->path.data = (u_char *) path.data;
    ctx->path.len = path.len;
}


/* the worker's last Repr-Digest value, and the hex digest it is of */

static u_char  ngx_http_fwgate_digest_hex[64];
static u_char  ngx_http_fwgate_digest_value[sizeof("sha-256=::") - 1
                                            + 44];
static size_t  ngx_http_fwgate_digest_len;


/* NGX_OK: ngx_http_fwgate_digest_value is the Repr-Digest of hex sha */

static ngx_int_t
ngx_http_fwgate_digest_of(fwg_str_t sha)
{
    u_char  *p;
    size_t   n;
    u_char   digest[32];

    if (sha.len != 64) {
        return NGX_DECLINED;
    }

    if (ngx_memcmp(sha.data, ngx_http_fwgate_digest_hex, 64) == 0) {
        return NGX_OK;
    }

    if (fwg_hex_decode(digest, sizeof(digest), &n, sha.data, sha.len) != 0
        || n != 32)
    {
        return NGX_DECLINED;
    }

    p = ngx_cpymem(ngx_http_fwgate_digest_value, "sha-256=:", 9);
    p += fwg_b64_encode((char *) p, digest, 32);
    *p++ = ':';

    ngx_http_fwgate_digest_len = p - ngx_http_fwgate_digest_value;
    ngx_memcpy(ngx_http_fwgate_digest_hex, sha.data, 64);

    return NGX_OK;
}


ngx_int_t
ngx_http_fwgate_finish(ngx_http_request_t *r, ngx_http_fwgate_ctx_t *ctx,
    ngx_http_fwgate_loc_conf_t *lcf, ngx_uint_t count)
{
    ngx_str_t                     v;
    ngx_uint_t                    allow;
    fwg_str_t                     sha;
    const char                   *name;
    ngx_http_fwgate_main_conf_t  *fmcf;

    fmcf = ngx_http_get_module_main_conf(r, ngx_http_fwgate_module);

    allow = (ctx->reason == FWG_R_OK);
    name = fwg_reason_name(ctx->reason);

    /* shadow mode: a download refusal is decided, logged and counted,
       and the request is served */
    ctx->dry_run = (!allow && lcf->dry_run
                    && lcf->handler == NGX_HTTP_FWGATE_HANDLER_NONE);

    ctx->done = 1;
    ctx->rc = allow ? NGX_OK
                    : ctx->dry_run ? NGX_DECLINED
                                   : fwg_reason_status(ctx->reason);

    /* the details are the core's fixed strings, never request bytes */

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "fwgate: decided %s, status %i, detail: %s", name, ctx->rc,
                   ctx->verdict.detail ? ctx->verdict.detail
                   : ctx->claims.detail ? ctx->claims.detail : "none");

    ngx_http_fwgate_set_variables(r, ctx);

    if (count) {
        ngx_http_fwgate_count(fmcf->stats,
                              &fmcf->stats->requests[ctx->dry_run ? 2 : allow]
                                                    [ctx->reason], 1);
    }

    if (!allow) {
        ngx_http_fwgate_publish(r, ctx);
    }

    if (lcf->expose_reason) {
        v.data = (u_char *) name;
        v.len = ngx_strlen(name);

        if (ngx_http_fwgate_header_set(r, &ctx->h_reason, "X-Fwgate-Reason",
                                       &v)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (!allow) {
        /* an earlier pass's allow named a version and digest: not now */

        if (ctx->h_version) {
            ctx->h_version->hash = 0;
        }

        if (ctx->h_digest) {
            ctx->h_digest->hash = 0;
        }
    }

    if (ctx->dry_run) {
        return ctx->rc;
    }

    if (ctx->reason == FWG_R_MISSING_SIGNATURE) {
        if (ngx_http_fwgate_header_out(r, "Accept-Signature",
                                       &lcf->accept_signature)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (ctx->rc == NGX_HTTP_SERVICE_UNAVAILABLE) {
        ngx_str_set(&v, "1");

        if (ctx->reason == FWG_R_ROLLOUT_THROTTLED && ctx->retry_after > 1) {
            v.data = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
            if (v.data == NULL) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            v.len = ngx_sprintf(v.data, "%ui", ctx->retry_after) - v.data;
        }

        if (ngx_http_fwgate_header_out(r, "Retry-After", &v) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (!allow || lcf->handler != NGX_HTTP_FWGATE_HANDLER_NONE) {
        return ctx->rc;
    }

    /* allowed: the first download of the target counts for silence */

    ngx_http_fwgate_record_download(r, ctx);

    /* name the version and digest of what is being served */

    v.data = (u_char *) ctx->artifact_rec.version.data;
    v.len = ctx->artifact_rec.version.len;

    if (v.len
        && ngx_http_fwgate_header_set(r, &ctx->h_version,
                                      "X-Firmware-Version", &v)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /*
     * Repr-Digest from the record's hex sha256: the worker keeps the last
     * one made, since one artifact is what a rollout's devices download
     * (a copy goes in the pool: the header is sent after other requests,
     * once this one is resumed).
     */

    sha = ctx->artifact_rec.sha256;

    if (ngx_http_fwgate_digest_of(sha) == NGX_OK) {
        v.len = ngx_http_fwgate_digest_len;
        v.data = ngx_pnalloc(r->pool, v.len);
        if (v.data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_memcpy(v.data, ngx_http_fwgate_digest_value, v.len);

        if (ngx_http_fwgate_header_set(r, &ctx->h_digest, "Repr-Digest", &v)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    return NGX_OK;
}


/* one info line per refusal: reason, device, model, artifact; no secrets */

void
ngx_http_fwgate_publish(ngx_http_request_t *r, ngx_http_fwgate_ctx_t *ctx)
{
    ngx_str_t    art, dev, model;
    ngx_uint_t   level;
    const char  *detail;

    /* every value from the request is escaped: none can forge a field */

    if (ngx_http_fwgate_log_escape(r->pool, ctx->artifact.data,
                                   ctx->artifact.len, &art)
        != NGX_OK
        || ngx_http_fwgate_log_escape(r->pool,
                                      (u_char *) ctx->claims.device.data,
                                      ctx->claims.device.len, &dev)
           != NGX_OK
        || ngx_http_fwgate_log_escape(r->pool,
                                      (u_char *) ctx->claims.model.data,
                                      ctx->claims.model.len, &model)
           != NGX_OK)
    {
        return;
    }

    level = (ctx->reason == FWG_R_REGISTRY_UNAVAILABLE
             || ctx->reason == FWG_R_REGISTRY_STALE)
            ? NGX_LOG_ERR : NGX_LOG_INFO;

    /* details are the core's fixed strings, never request bytes */

    if (ctx->reason == FWG_R_REGISTRY_UNAVAILABLE) {
        detail = "no usable registry record (redis down, slow or refusing)";

    } else if (ctx->reason == FWG_R_REGISTRY_STALE) {
        detail = "registry not confirmed fresh within fwgate_max_staleness";

    } else {
        detail = ctx->verdict.detail ? ctx->verdict.detail
                                     : ctx->claims.detail;
    }

    ngx_log_error(level, r->connection->log, 0,
                  "fwgate: %s reason=%s device=\"%V\" model=\"%V\" "
                  "artifact=\"%V\"%s%s",
                  ctx->dry_run ? "dry run, would deny" : "deny",
                  fwg_reason_name(ctx->reason), &dev, &model, &art,
                  detail ? " detail: " : "", detail ? detail : "");
}


ngx_int_t
ngx_http_fwgate_log_escape(ngx_pool_t *pool, const u_char *data, size_t len,
    ngx_str_t *out)
{
    u_char      *p;
    size_t       i, n;

    static u_char  hex[] = "0123456789ABCDEF";

    n = 0;

    for (i = 0; i < len; i++) {
        if (data[i] < 0x20 || data[i] >= 0x7f || data[i] == '"'
            || data[i] == '\\')
        {
            n++;
        }
    }

    if (n == 0) {
        out->data = (u_char *) data;
        out->len = len;
        return NGX_OK;
    }

    p = ngx_pnalloc(pool, len + 3 * n);
    if (p == NULL) {
        return NGX_ERROR;
    }

    out->data = p;

    for (i = 0; i < len; i++) {
        if (data[i] < 0x20 || data[i] >= 0x7f || data[i] == '"'
            || data[i] == '\\')
        {
            *p++ = '\\';
            *p++ = 'x';
            *p++ = hex[data[i] >> 4];
            *p++ = hex[data[i] & 0xf];
            continue;
        }

        *p++ = data[i];
    }

    out->len = p - out->data;

    return NGX_OK;
}


static ngx_int_t
ngx_http_fwgate_default_artifact(ngx_http_request_t *r, ngx_str_t *name)
{
    u_char  *p, *end;

    end = r->uri.data + r->uri.len;

    for (p = end; p > r->uri.data && p[-1] != '/'; p--) {
        /* void */
    }

    name->data = p;
    name->len = end - p;

    return NGX_OK;
}
