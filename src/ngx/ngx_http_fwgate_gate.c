
/*
 * fwgate: the access-phase gate and the machinery every fwgate handler
 * shares: reading the request into the core's message form, getting
 * registry records (shared cache, else Redis), waiting without holding the
 * worker, and publishing the outcome.
 *
 * Waiting follows ngx_http_limit_req_module's delay: the request's read
 * handler becomes ngx_http_test_reading (a client that leaves is noticed),
 * the handler returns NGX_AGAIN, and a posted event runs the phases again
 * when the records are in.  Redis callbacks never point into a request
 * pool: they point at fetch records allocated outside it, whose waiters
 * the request's pool cleanup detaches.  Concurrent misses for one key in a
 * worker share one fetch.
 */

#include "ngx_http_fwgate_module.h"
#include "fwg_b64.h"


typedef struct {
    ngx_http_fwgate_redis_cb_t      cb;         /* first: see redis.c */
    ngx_str_node_t                  sn;         /* in-flight tree */
    ngx_uint_t                      kind;
    ngx_uint_t                      generation; /* the cache's, when sent */
    ngx_uint_t                      joinable;   /* in the in-flight tree */
    ngx_http_fwgate_main_conf_t    *fmcf;
    ngx_http_fwgate_waiter_t       *waiters;
} ngx_http_fwgate_fetch_t;


struct ngx_http_fwgate_waiter_s {
    ngx_http_fwgate_waiter_t       *next;
    ngx_http_fwgate_ctx_t          *ctx;       /* NULL once detached */
    ngx_uint_t                      slot;
};


static void ngx_http_fwgate_cleanup(void *data);
static void ngx_http_fwgate_timeout_handler(ngx_event_t *ev);
static void ngx_http_fwgate_resume_handler(ngx_event_t *ev);
static void ngx_http_fwgate_access_resume(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx);
static ngx_int_t ngx_http_fwgate_gate_run(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx, ngx_http_fwgate_loc_conf_t *lcf);
static void ngx_http_fwgate_fetch_done(ngx_http_fwgate_redis_cb_t *cb,
    redisReply *reply);
static int ngx_http_fwgate_replay(void *data, fwg_str_t keyid,
    fwg_str_t nonce, int64_t expires_at);
static ngx_int_t ngx_http_fwgate_default_artifact(ngx_http_request_t *r,
    ngx_str_t *name);
static ngx_int_t ngx_http_fwgate_decided(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx, ngx_http_fwgate_loc_conf_t *lcf);


static ngx_rbtree_t       ngx_http_fwgate_inflight;
static ngx_rbtree_node_t  ngx_http_fwgate_inflight_sentinel;
static ngx_uint_t         ngx_http_fwgate_inflight_init;


#define ngx_http_fwgate_fstr(s)                                              \
    { (const char *) (s)->data, (s)->len }


ngx_int_t
ngx_http_fwgate_access_handler(ngx_http_request_t *r)
{
    ngx_http_fwgate_ctx_t       *ctx;
    ngx_http_fwgate_loc_conf_t  *lcf;

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

    if (ngx_http_fwgate_check_request(r, ctx, lcf) != NGX_OK) {
        return ngx_http_fwgate_finish(r, ctx, lcf, 1);
    }

    return ngx_http_fwgate_gate_run(r, ctx, lcf);
}


static ngx_int_t
ngx_http_fwgate_gate_run(ngx_http_request_t *r, ngx_http_fwgate_ctx_t *ctx,
    ngx_http_fwgate_loc_conf_t *lcf)
{
    ngx_int_t  rc, rc2;

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


/*
 * ngx_http_internal_redirect() and named locations clear r->ctx; the ctx
 * is still registered as a cleanup of the request's pool (as the realip
 * module finds its own).  Subrequests share the pool: the ctx must be
 * this request's.
 */

ngx_http_fwgate_ctx_t *
ngx_http_fwgate_get_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t     *cln;
    ngx_http_fwgate_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_fwgate_module);

    if (ctx || !(r->internal || r->filter_finalize)) {
        return ctx;
    }

    for (cln = r->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler != ngx_http_fwgate_cleanup) {
            continue;
        }

        ctx = cln->data;

        if (ctx->request == r) {
            ngx_http_set_ctx(r, ctx, ngx_http_fwgate_module);
            return ctx;
        }
    }

    return NULL;
}


/*
 * One registry record into a slot: the hash "<prefix><kind><name>", or,
 * with a suffix, the device's membership of the set
 * "<prefix><kind><name><suffix>".
 */

ngx_int_t
ngx_http_fwgate_need_key(ngx_http_request_t *r, ngx_http_fwgate_ctx_t *ctx,
    ngx_uint_t slot, const char *kind, ngx_str_t *name, const char *suffix)
{
    ngx_str_t  key, device;

    if (ngx_http_fwgate_registry_key(r, &key, kind, name, NULL, suffix)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (suffix == NULL) {
        return ngx_http_fwgate_need(r, ctx, slot, NGX_HTTP_FWGATE_KIND_HASH,
                                    &key, NULL);
    }

    device.data = (u_char *) ctx->claims.device.data;
    device.len = ctx->claims.device.len;

    return ngx_http_fwgate_need(r, ctx, slot, NGX_HTTP_FWGATE_KIND_MEMBER,
                                &key, &device);
}


/* the device's record, and its claimed model's rollout with cohort sets */

ngx_int_t
ngx_http_fwgate_need_device(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx)
{
    ngx_int_t   rc[4];
    ngx_str_t   model, device;
    ngx_uint_t  i;

    model.data = (u_char *) ctx->claims.model.data;
    model.len = ctx->claims.model.len;
    device.data = (u_char *) ctx->claims.device.data;
    device.len = ctx->claims.device.len;

    rc[0] = ngx_http_fwgate_need_key(r, ctx, NGX_HTTP_FWGATE_SLOT_DEVICE,
                                     "device:", &device, NULL);
    rc[1] = ngx_http_fwgate_need_key(r, ctx, NGX_HTTP_FWGATE_SLOT_ROLLOUT,
                                     "rollout:", &model, NULL);
    rc[2] = ngx_http_fwgate_need_key(r, ctx, NGX_HTTP_FWGATE_SLOT_CANARY,
                                     "rollout:", &model, ":canary");
    rc[3] = ngx_http_fwgate_need_key(r, ctx, NGX_HTTP_FWGATE_SLOT_EXCLUDE,
                                     "rollout:", &model, ":exclude");

    for (i = 0; i < 4; i++) {
        if (rc[i] == NGX_ERROR) {
            return NGX_ERROR;
        }
    }

    return ctx->pending ? NGX_AGAIN : NGX_OK;
}


ngx_http_fwgate_ctx_t *
ngx_http_fwgate_ctx_create(ngx_http_request_t *r,
    ngx_http_fwgate_resume_pt resume)
{
    ngx_pool_cleanup_t     *cln;
    ngx_http_fwgate_ctx_t  *ctx;

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_fwgate_ctx_t));
    if (ctx == NULL) {
        return NULL;
    }

    /* the pool cleanup runs however the request ends */

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_fwgate_cleanup;
    cln->data = ctx;

    ctx->request = r;
    ctx->resume = resume;
    ctx->reason = FWG_R__COUNT;     /* not decided */

    ctx->timeout_ev.handler = ngx_http_fwgate_timeout_handler;
    ctx->timeout_ev.data = ctx;
    ctx->timeout_ev.log = r->connection->log;

    ctx->resume_ev.handler = ngx_http_fwgate_resume_handler;
    ctx->resume_ev.data = ctx;
    ctx->resume_ev.log = r->connection->log;

    ngx_http_set_ctx(r, ctx, ngx_http_fwgate_module);

    return ctx;
}


static void
ngx_http_fwgate_cleanup(void *data)
{
    ngx_http_fwgate_ctx_t *ctx = data;

    ngx_uint_t  i;

    if (ctx->timeout_ev.timer_set) {
        ngx_del_timer(&ctx->timeout_ev);
    }

    if (ctx->resume_ev.posted) {
        ngx_delete_posted_event(&ctx->resume_ev);
    }

    /* replies still on their way find their waiter detached */

    for (i = 0; i < NGX_HTTP_FWGATE_NSLOTS; i++) {
        if (ctx->waiters[i]) {
            ctx->waiters[i]->ctx = NULL;
            ctx->waiters[i] = NULL;
        }
    }
}


/* the request as the core sees it: raw target, header field lines */

ngx_int_t
ngx_http_fwgate_check_request(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx, ngx_http_fwgate_loc_conf_t *lcf)
{
    u_char            *q, *end, *buf;
    size_t             total, size;
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
        msg.authority.data = (const char *) r->host_start;
        msg.authority.len = (r->port_end ? r->port_end : r->host_end)
                            - r->host_start;

    } else if (r->headers_in.host) {
        msg.authority.data = (const char *) r->headers_in.host->value.data;
        msg.authority.len = r->headers_in.host->value.len;

    } else {
        msg.authority.data = (const char *) r->headers_in.server.data;
        msg.authority.len = r->headers_in.server.len;
    }

    /* @path and @query are the target as sent, not nginx's decoded $uri */

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

    msg.path.data = (const char *) q;
    buf = ngx_strlchr(q, end, '?');

    if (buf) {
        msg.path.len = buf - q;
        msg.query.data = (const char *) buf + 1;
        msg.query.len = end - buf - 1;
        msg.has_query = 1;

    } else {
        msg.path.len = end - q;
    }

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

    buf = ngx_palloc(r->pool, size);
    if (buf == NULL) {
        return NGX_ERROR;
    }

    fwg_arena_init(&ctx->arena, buf, size);

    ctx->msg = msg;

    ctx->reason = fwg_decide_request(&msg, &lcf->policy, (int64_t) ngx_time(),
                                     &ctx->arena, &ctx->claims, NULL, NULL);

    return ctx->reason == FWG_R_OK ? NGX_OK : NGX_DECLINED;
}


ngx_int_t
ngx_http_fwgate_registry_key(ngx_http_request_t *r, ngx_str_t *out,
    const char *kind, ngx_str_t *a, ngx_str_t *b, const char *suffix)
{
    u_char                       *p;
    size_t                        len;
    ngx_http_fwgate_main_conf_t  *fmcf;

    fmcf = ngx_http_get_module_main_conf(r, ngx_http_fwgate_module);

    len = fmcf->prefix.len + ngx_strlen(kind) + a->len
          + (b ? 1 + b->len : 0) + (suffix ? ngx_strlen(suffix) : 0);

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    out->data = p;
    out->len = len;

    p = ngx_cpymem(p, fmcf->prefix.data, fmcf->prefix.len);
    p = ngx_cpymem(p, kind, ngx_strlen(kind));
    p = ngx_cpymem(p, a->data, a->len);

    if (b) {
        *p++ = ':';
        p = ngx_cpymem(p, b->data, b->len);
    }

    if (suffix) {
        p = ngx_cpymem(p, suffix, ngx_strlen(suffix));
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_fwgate_need(ngx_http_request_t *r, ngx_http_fwgate_ctx_t *ctx,
    ngx_uint_t slot, ngx_uint_t kind, ngx_str_t *key, ngx_str_t *member)
{
    u_char                         *p;
    int                             argc;
    uint32_t                        hash;
    ngx_str_t                       ckey, value;
    const char                     *argv[3];
    size_t                          argvlen[3];
    ngx_http_fwgate_fetch_t        *f;
    ngx_http_fwgate_waiter_t       *w;
    ngx_http_fwgate_main_conf_t    *fmcf;
    ngx_http_fwgate_cache_state_e   state;

    switch (ctx->slot[slot]) {

    case NGX_HTTP_FWGATE_SLOT_PENDING:
        return NGX_AGAIN;

    case NGX_HTTP_FWGATE_SLOT_HAVE:
    case NGX_HTTP_FWGATE_SLOT_FAILED:
        return NGX_OK;

    default:
        break;
    }

    fmcf = ngx_http_get_module_main_conf(r, ngx_http_fwgate_module);

    /* cache key: the Redis key, and for a membership test the member */

    if (member == NULL) {
        ckey = *key;

    } else {
        ckey.len = key->len + 1 + member->len;
        ckey.data = ngx_pnalloc(r->pool, ckey.len);
        if (ckey.data == NULL) {
            return NGX_ERROR;
        }

        p = ngx_cpymem(ckey.data, key->data, key->len);
        *p++ = '\0';
        ngx_memcpy(p, member->data, member->len);
    }

    ctx->keys[slot] = ckey;
    ctx->kinds[slot] = kind;

    state = ngx_http_fwgate_cache_get(fmcf, &ckey, r->pool, &value);

    if (state == NGX_HTTP_FWGATE_CACHE_FRESH) {
        ctx->blobs[slot] = value;
        ctx->slot[slot] = NGX_HTTP_FWGATE_SLOT_HAVE;
        return NGX_OK;
    }

    if (state == NGX_HTTP_FWGATE_CACHE_STALE) {
        ctx->stale[slot] = value;
    }

    if (!ngx_http_fwgate_inflight_init) {
        ngx_rbtree_init(&ngx_http_fwgate_inflight,
                        &ngx_http_fwgate_inflight_sentinel,
                        ngx_str_rbtree_insert_value);
        ngx_http_fwgate_inflight_init = 1;
    }

    hash = ngx_crc32_long(ckey.data, ckey.len);

    f = (ngx_http_fwgate_fetch_t *)
            ngx_str_rbtree_lookup(&ngx_http_fwgate_inflight, &ckey, hash);

    if (f) {
        /* ngx_str_rbtree_lookup returns the node: the sn member */
        f = (ngx_http_fwgate_fetch_t *)
                ((u_char *) f - offsetof(ngx_http_fwgate_fetch_t, sn));

        /*
         * A fetch sent before the registry changed may bring data from
         * before the change: later requests do not join it.
         */

        if (f->generation != ngx_http_fwgate_cache_generation(fmcf)) {
            ngx_rbtree_delete(&ngx_http_fwgate_inflight, &f->sn.node);
            f->joinable = 0;
            f = NULL;
        }
    }

    if (f == NULL) {
        if (!ngx_http_fwgate_redis_ready()) {
            ctx->slot[slot] = NGX_HTTP_FWGATE_SLOT_FAILED;
            return NGX_OK;
        }

        f = ngx_alloc(sizeof(ngx_http_fwgate_fetch_t) + ckey.len,
                      r->connection->log);
        if (f == NULL) {
            return NGX_ERROR;
        }

        ngx_memzero(f, sizeof(ngx_http_fwgate_fetch_t));

        f->cb.handler = ngx_http_fwgate_fetch_done;
        f->kind = kind;
        f->generation = ngx_http_fwgate_cache_generation(fmcf);
        f->joinable = 1;
        f->fmcf = fmcf;
        f->sn.node.key = hash;
        f->sn.str.data = (u_char *) (f + 1);
        f->sn.str.len = ckey.len;
        ngx_memcpy(f->sn.str.data, ckey.data, ckey.len);

        if (kind == NGX_HTTP_FWGATE_KIND_HASH) {
            argv[0] = "HGETALL";
            argvlen[0] = 7;
            argc = 2;

        } else {
            argv[0] = "SISMEMBER";
            argvlen[0] = 9;
            argv[2] = (const char *) member->data;
            argvlen[2] = member->len;
            argc = 3;
        }

        argv[1] = (const char *) key->data;
        argvlen[1] = key->len;

        if (ngx_http_fwgate_redis_command(&f->cb, argc, argv, argvlen)
            != NGX_OK)
        {
            ngx_free(f);
            ctx->slot[slot] = NGX_HTTP_FWGATE_SLOT_FAILED;
            return NGX_OK;
        }

        ngx_rbtree_insert(&ngx_http_fwgate_inflight, &f->sn.node);
    }

    w = ngx_alloc(sizeof(ngx_http_fwgate_waiter_t), r->connection->log);
    if (w == NULL) {
        return NGX_ERROR;
    }

    w->ctx = ctx;
    w->slot = slot;
    w->next = f->waiters;
    f->waiters = w;

    ctx->waiters[slot] = w;
    ctx->slot[slot] = NGX_HTTP_FWGATE_SLOT_PENDING;
    ctx->pending++;

    return NGX_AGAIN;
}


static void
ngx_http_fwgate_fetch_done(ngx_http_fwgate_redis_cb_t *cb, redisReply *reply)
{
    ngx_str_t                  blob;
    ngx_uint_t                 ok;
    ngx_http_fwgate_ctx_t     *ctx;
    ngx_http_fwgate_fetch_t   *f;
    ngx_http_fwgate_waiter_t  *w, *next;

    f = (ngx_http_fwgate_fetch_t *) cb;

    if (f->joinable) {
        ngx_rbtree_delete(&ngx_http_fwgate_inflight, &f->sn.node);
    }

    ok = 0;
    ngx_str_null(&blob);

    if (reply && reply->type != REDIS_REPLY_ERROR) {
        if (ngx_http_fwgate_blob_from_reply(reply, f->kind, &blob) == NGX_OK) {
            ok = 1;
            ngx_http_fwgate_cache_put(f->fmcf, &f->sn.str, &blob,
                                      f->kind == NGX_HTTP_FWGATE_KIND_HASH
                                      && blob.len == 0, f->generation);

        } else {
            ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                          "fwgate: redis record \"%V\" refused: not a "
                          "registry record or larger than 64k "
                          "(reply type %d)", &f->sn.str, reply->type);
        }
    }

    for (w = f->waiters; w; w = next) {
        next = w->next;
        ctx = w->ctx;

        if (ctx) {
            ctx->waiters[w->slot] = NULL;
            ctx->slot[w->slot] = NGX_HTTP_FWGATE_SLOT_FAILED;

            if (ok) {
                ctx->blobs[w->slot].data = ngx_pnalloc(ctx->request->pool,
                                                       blob.len + 1);

                if (ctx->blobs[w->slot].data) {
                    ngx_memcpy(ctx->blobs[w->slot].data, blob.data,
                               blob.len);
                    ctx->blobs[w->slot].len = blob.len;
                    ctx->slot[w->slot] = NGX_HTTP_FWGATE_SLOT_HAVE;
                }
            }

            if (--ctx->pending == 0 && ctx->waiting
                && !ctx->resume_ev.posted)
            {
                ngx_post_event(&ctx->resume_ev, &ngx_posted_events);
            }
        }

        ngx_free(w);
    }

    if (blob.data) {
        ngx_free(blob.data);
    }

    ngx_free(f);
}


ngx_int_t
ngx_http_fwgate_wait(ngx_http_request_t *r, ngx_http_fwgate_ctx_t *ctx)
{
    ngx_http_fwgate_main_conf_t  *fmcf;

    fmcf = ngx_http_get_module_main_conf(r, ngx_http_fwgate_module);

    ctx->waiting = 1;

    if (!ctx->timeout_ev.timer_set) {
        ngx_add_timer(&ctx->timeout_ev, fmcf->timeout);
    }

    if (r == r->main) {
        if (ngx_handle_read_event(r->connection->read, 0) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        r->read_event_handler = ngx_http_test_reading;
    }

    r->write_event_handler = ngx_http_request_empty_handler;

    return NGX_AGAIN;
}


static void
ngx_http_fwgate_timeout_handler(ngx_event_t *ev)
{
    ngx_uint_t              i;
    ngx_http_fwgate_ctx_t  *ctx;

    ctx = ev->data;

    ngx_log_error(NGX_LOG_ERR, ev->log, 0,
                  "fwgate: registry lookup timed out");

    for (i = 0; i < NGX_HTTP_FWGATE_NSLOTS; i++) {
        if (ctx->waiters[i]) {
            ctx->waiters[i]->ctx = NULL;
            ctx->waiters[i] = NULL;
            ctx->slot[i] = NGX_HTTP_FWGATE_SLOT_FAILED;
        }
    }

    ctx->pending = 0;

    /* may drop the connection: other waiters are then posted */
    ngx_http_fwgate_redis_timed_out();

    if (ctx->resume_ev.posted) {
        ngx_delete_posted_event(&ctx->resume_ev);
    }

    ngx_http_fwgate_resume_handler(&ctx->resume_ev);
}


static void
ngx_http_fwgate_resume_handler(ngx_event_t *ev)
{
    ngx_connection_t       *c;
    ngx_http_request_t     *r;
    ngx_http_fwgate_ctx_t  *ctx;

    ctx = ev->data;
    r = ctx->request;
    c = r->connection;

    if (ctx->timeout_ev.timer_set) {
        ngx_del_timer(&ctx->timeout_ev);
    }

    ctx->waiting = 0;

    ngx_http_set_log_request(c->log, r);

    ctx->resume(r, ctx);

    ngx_http_run_posted_requests(c);
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


/*
 * The ctx of a content handler (update check, report): resumed through
 * ctx->run, and its answer about one device at one moment is never
 * cached anywhere.
 */

ngx_http_fwgate_ctx_t *
ngx_http_fwgate_content_ctx(ngx_http_request_t *r, ngx_http_fwgate_run_pt run)
{
    ngx_http_fwgate_ctx_t  *ctx;

    static ngx_str_t  no_store = ngx_string("no-store");

    ctx = ngx_http_fwgate_ctx_create(r, ngx_http_fwgate_content_resume);
    if (ctx == NULL) {
        return NULL;
    }

    ctx->run = run;

    if (ngx_http_fwgate_header_out(r, "Cache-Control", &no_store) != NGX_OK) {
        return NULL;
    }

    return ctx;
}


void
ngx_http_fwgate_content_resume(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx)
{
    ngx_int_t  rc;

    if (r == r->main) {
        r->read_event_handler = ngx_http_block_reading;
    }

    rc = ctx->run(r, ctx,
                  ngx_http_get_module_loc_conf(r, ngx_http_fwgate_module));

    if (rc == NGX_AGAIN) {
        return;
    }

    ngx_http_finalize_request(r, rc);
}


/* records from the blobs, falling back to stale copies when Redis failed */

ngx_int_t
ngx_http_fwgate_records(ngx_http_request_t *r, ngx_http_fwgate_ctx_t *ctx)
{
    ngx_str_t                    *b;
    ngx_uint_t                    i;
    ngx_http_fwgate_main_conf_t  *fmcf;

    fmcf = ngx_http_get_module_main_conf(r, ngx_http_fwgate_module);

    for (i = 0; i < NGX_HTTP_FWGATE_NSLOTS; i++) {

        if (ctx->slot[i] != NGX_HTTP_FWGATE_SLOT_FAILED) {
            continue;
        }

        if (ctx->stale[i].data == NULL) {
            return NGX_ERROR;
        }

        ctx->blobs[i] = ctx->stale[i];
        ctx->slot[i] = NGX_HTTP_FWGATE_SLOT_HAVE;

        (void) ngx_atomic_fetch_add(&fmcf->stats->cache_stale, 1);
    }

    /*
     * The blobs were built by fwg_blob_build(), from Redis or the cache,
     * so they are well formed; were one not, its record would come out
     * with empty fields, which the decision's own checks refuse.
     */

    b = &ctx->blobs[NGX_HTTP_FWGATE_SLOT_DEVICE];

    if (ctx->slot[NGX_HTTP_FWGATE_SLOT_DEVICE] == NGX_HTTP_FWGATE_SLOT_HAVE) {
        (void) fwg_device_from_blob((const char *) b->data, b->len,
                                    &ctx->device_rec);
    }

    b = &ctx->blobs[NGX_HTTP_FWGATE_SLOT_ARTIFACT];

    if (ctx->slot[NGX_HTTP_FWGATE_SLOT_ARTIFACT]
        == NGX_HTTP_FWGATE_SLOT_HAVE)
    {
        (void) fwg_artifact_from_blob((const char *) b->data, b->len,
                                      &ctx->artifact_rec);
    }

    b = &ctx->blobs[NGX_HTTP_FWGATE_SLOT_ROLLOUT];

    if (ctx->slot[NGX_HTTP_FWGATE_SLOT_ROLLOUT] == NGX_HTTP_FWGATE_SLOT_HAVE) {
        fwg_rollout_rec_t *o = &ctx->rollout_rec;

        (void) fwg_rollout_from_blob((const char *) b->data, b->len, o);

        b = &ctx->blobs[NGX_HTTP_FWGATE_SLOT_CANARY];
        o->canary = (b->len == 1 && b->data[0] == '1');

        b = &ctx->blobs[NGX_HTTP_FWGATE_SLOT_EXCLUDE];
        o->excluded = (b->len == 1 && b->data[0] == '1');
    }

    return NGX_OK;
}


static int
ngx_http_fwgate_replay(void *data, fwg_str_t keyid, fwg_str_t nonce,
    int64_t expires_at)
{
    ngx_str_t                     k, n;
    ngx_http_request_t           *r = data;
    ngx_http_fwgate_main_conf_t  *fmcf;

    fmcf = ngx_http_get_module_main_conf(r, ngx_http_fwgate_module);

    k.data = (u_char *) keyid.data;
    k.len = keyid.len;
    n.data = (u_char *) nonce.data;
    n.len = nonce.len;

    return (int) ngx_http_fwgate_replay_check(fmcf, &k, &n,
                                              (time_t) expires_at,
                                              r->connection->log);
}


void
ngx_http_fwgate_decide(ngx_http_request_t *r, ngx_http_fwgate_ctx_t *ctx,
    ngx_http_fwgate_loc_conf_t *lcf)
{
    fwg_str_t        path;
    fwg_decide_in_t  in;

    ngx_memzero(&in, sizeof(fwg_decide_in_t));

    in.claims = &ctx->claims;
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

    if (ctx->device_rec.found) {
        in.key = ngx_http_fwgate_key_get(ctx->device_rec.alg,
                                         ctx->device_rec.key);
    }

    in.replay = ngx_http_fwgate_replay;
    in.replay_data = r;
    in.replay_window = lcf->max_age + lcf->clock_skew;
    in.now = (int64_t) ngx_time();

    ctx->reason = fwg_decide_registry(&in, &ctx->verdict, NULL, NULL);

    if (ctx->reason == FWG_R_OK) {
        path = fwg_artifact_path(ctx->artifact_rec.path);
        ctx->path.data = (u_char *) path.data;
        ctx->path.len = path.len;
    }
}


ngx_int_t
ngx_http_fwgate_finish(ngx_http_request_t *r, ngx_http_fwgate_ctx_t *ctx,
    ngx_http_fwgate_loc_conf_t *lcf, ngx_uint_t count)
{
    u_char                       *p;
    size_t                        n;
    ngx_str_t                     v;
    ngx_uint_t                    allow;
    fwg_str_t                     sha;
    const char                   *name;
    ngx_http_fwgate_main_conf_t  *fmcf;
    u_char                        digest[32];

    fmcf = ngx_http_get_module_main_conf(r, ngx_http_fwgate_module);

    allow = (ctx->reason == FWG_R_OK);
    name = fwg_reason_name(ctx->reason);

    ctx->done = 1;
    ctx->rc = allow ? NGX_OK : fwg_reason_status(ctx->reason);

    ngx_http_fwgate_set_variables(r, ctx);

    if (count) {
        (void) ngx_atomic_fetch_add(
                   &fmcf->stats->requests[allow][ctx->reason], 1);
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

    sha = ctx->artifact_rec.sha256;

    if (sha.len == 64
        && fwg_hex_decode(digest, sizeof(digest), &n, sha.data, sha.len) == 0
        && n == 32)
    {
        v.len = sizeof("sha-256=::") - 1 + fwg_b64_enc_len(32);
        v.data = ngx_pnalloc(r->pool, v.len);
        if (v.data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        p = ngx_cpymem(v.data, "sha-256=:", 9);
        p += fwg_b64_encode((char *) p, digest, 32);
        *p++ = ':';
        v.len = p - v.data;

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

    level = (ctx->reason == FWG_R_REGISTRY_UNAVAILABLE)
            ? NGX_LOG_ERR : NGX_LOG_INFO;

    /* details are the core's fixed strings, never request bytes */

    if (ctx->reason == FWG_R_REGISTRY_UNAVAILABLE) {
        detail = "no usable registry record (redis down, slow or refusing)";

    } else {
        detail = ctx->verdict.detail ? ctx->verdict.detail
                                     : ctx->claims.detail;
    }

    ngx_log_error(level, r->connection->log, 0,
                  "fwgate: deny reason=%s device=\"%V\" model=\"%V\" "
                  "artifact=\"%V\"%s%s",
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


ngx_int_t
ngx_http_fwgate_header_set(ngx_http_request_t *r, ngx_table_elt_t **hp,
    const char *name, ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = *hp;

    if (h == NULL) {
        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_ERROR;
        }

        h->key.data = (u_char *) name;
        h->key.len = ngx_strlen(name);
#if (nginx_version >= 1023000)
        h->next = NULL;
#endif
        *hp = h;
    }

    h->hash = 1;
    h->value = *value;

    return NGX_OK;
}


ngx_int_t
ngx_http_fwgate_header_out(ngx_http_request_t *r, const char *name,
    ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = NULL;

    return ngx_http_fwgate_header_set(r, &h, name, value);
}
