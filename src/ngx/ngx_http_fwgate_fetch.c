
/*
 * fwgate: getting registry records for a request and waiting for them,
 * shared by the gate (gate.c), the update check (manifest.c) and install
 * reports (report.c): the per-request ctx, the shared cache, else Redis;
 * and the response header helpers they all use.
 *
 * Waiting follows ngx_http_limit_req_module's delay: the request's read
 * handler becomes ngx_http_test_reading (a client that leaves is noticed),
 * the handler returns NGX_AGAIN, and a posted event runs the request again
 * when the records are in.  Redis callbacks never point into a request
 * pool: they point at fetch records allocated outside it, whose waiters
 * the request's pool cleanup detaches.  Concurrent misses for one key in a
 * worker share one fetch.
 */

#include "ngx_http_fwgate_module.h"


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
static void ngx_http_fwgate_fetch_done(ngx_http_fwgate_redis_cb_t *cb,
    redisReply *reply);
static void ngx_http_fwgate_timeout_handler(ngx_event_t *ev);
static void ngx_http_fwgate_resume_handler(ngx_event_t *ev);
static ngx_int_t ngx_http_fwgate_park(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx);


static ngx_rbtree_t       ngx_http_fwgate_inflight;
static ngx_rbtree_node_t  ngx_http_fwgate_inflight_sentinel;
static ngx_uint_t         ngx_http_fwgate_inflight_init;


/*
 * Waiters outlive the request that made them (a reply may come after it
 * ended), so they are not from its pool; a cold decision takes five, and
 * malloc() and free() of each cost more than the rest of the bookkeeping.
 * A worker keeps up to NGX_HTTP_FWGATE_SPARE_WAITERS freed ones instead.
 */

#define NGX_HTTP_FWGATE_SPARE_WAITERS  1024

static ngx_http_fwgate_waiter_t  *ngx_http_fwgate_spare_waiters;
static ngx_uint_t                 ngx_http_fwgate_nspare_waiters;


/*
 * The core's arena for a request's signature (gate.c): a block of
 * NGX_HTTP_FWGATE_ARENA_SIZE covers any request whose headers fit nginx's
 * default buffers.  From the pool it was a large allocation, a malloc()
 * and free() of 16 KiB per request; a worker keeps a few spare blocks
 * instead, handed back by the ctx's pool cleanup.  Larger requests still
 * take theirs from the pool.
 */

#define NGX_HTTP_FWGATE_ARENA_SIZE   16384
#define NGX_HTTP_FWGATE_ARENA_SPARE  64

static void       *ngx_http_fwgate_arena_spare[NGX_HTTP_FWGATE_ARENA_SPARE];
static ngx_uint_t  ngx_http_fwgate_arena_nspare;


ngx_int_t
ngx_http_fwgate_ctx_arena(ngx_http_request_t *r, ngx_http_fwgate_ctx_t *ctx,
    size_t size)
{
    u_char  *buf;

    if (size > NGX_HTTP_FWGATE_ARENA_SIZE) {
        buf = ngx_palloc(r->pool, size);
        if (buf == NULL) {
            return NGX_ERROR;
        }

        fwg_arena_init(&ctx->arena, buf, size);

        return NGX_OK;
    }

    if (ctx->arena_buf == NULL) {
        if (ngx_http_fwgate_arena_nspare) {
            ctx->arena_buf = ngx_http_fwgate_arena_spare[
                                 --ngx_http_fwgate_arena_nspare];

        } else {
            ctx->arena_buf = ngx_alloc(NGX_HTTP_FWGATE_ARENA_SIZE,
                                       r->connection->log);
            if (ctx->arena_buf == NULL) {
                return NGX_ERROR;
            }
        }
    }

    fwg_arena_init(&ctx->arena, ctx->arena_buf, NGX_HTTP_FWGATE_ARENA_SIZE);

    return NGX_OK;
}


/* on worker exit: the spare arena blocks and waiters */

void
ngx_http_fwgate_arena_exit_process(void)
{
    ngx_http_fwgate_waiter_t  *w;

    while (ngx_http_fwgate_arena_nspare) {
        ngx_free(ngx_http_fwgate_arena_spare[--ngx_http_fwgate_arena_nspare]);
    }

    while (ngx_http_fwgate_spare_waiters) {
        w = ngx_http_fwgate_spare_waiters;
        ngx_http_fwgate_spare_waiters = w->next;
        ngx_free(w);
    }

    ngx_http_fwgate_nspare_waiters = 0;
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

    ngx_http_fwgate_admit_detach(ctx);

    if (ctx->memo_has_states) {
        /* key material: not left in a freed pool */
        ngx_explicit_memzero(ctx->memo_states, sizeof(ctx->memo_states));
    }

    if (ctx->arena_buf) {
        if (ngx_http_fwgate_arena_nspare < NGX_HTTP_FWGATE_ARENA_SPARE) {
            ngx_http_fwgate_arena_spare[ngx_http_fwgate_arena_nspare++] =
                                                                ctx->arena_buf;
        } else {
            ngx_free(ctx->arena_buf);
        }

        ctx->arena_buf = NULL;
    }

    /* replies still on their way find their waiter detached */

    for (i = 0; i < NGX_HTTP_FWGATE_NSLOTS; i++) {
        if (ctx->waiters[i]) {
            ctx->waiters[i]->ctx = NULL;
            ctx->waiters[i] = NULL;
        }
    }
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
 * The preamble of a handler that only reads (update check, status): GET
 * or HEAD, and any body discarded.  NGX_OK, or what the handler returns.
 */

ngx_int_t
ngx_http_fwgate_read_only(ngx_http_request_t *r)
{
    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    return ngx_http_discard_request_body(r);
}


/*
 * A 200 whose body is b, its content type set by the caller: the header,
 * then the body unless the request is a HEAD.
 */

ngx_int_t
ngx_http_fwgate_send_ok(ngx_http_request_t *r, ngx_buf_t *b)
{
    ngx_int_t    rc;
    ngx_chain_t  out;

    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = b->last - b->pos;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
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


/*
 * Response headers of the gate and the content handlers.  Here, beside
 * content_ctx() that sets no-store, so that this file needs nothing from
 * gate.c, which depends on it.
 */

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


/*
 * A slot's state for the need functions: NGX_AGAIN while its fetch is in
 * flight, NGX_OK once read or failed, NGX_DECLINED while nothing was asked.
 */

static ngx_int_t
ngx_http_fwgate_slot_state(ngx_http_fwgate_ctx_t *ctx, ngx_uint_t slot)
{
    switch (ctx->slot[slot]) {

    case NGX_HTTP_FWGATE_SLOT_PENDING:
        return NGX_AGAIN;

    case NGX_HTTP_FWGATE_SLOT_HAVE:
    case NGX_HTTP_FWGATE_SLOT_FAILED:
        return NGX_OK;

    default:
        return NGX_DECLINED;
    }
}


ngx_int_t
ngx_http_fwgate_registry_key(ngx_http_request_t *r, ngx_str_t *out,
    const char *kind, ngx_str_t *a, ngx_str_t *b, const char *suffix)
{
    u_char                       *p;
    size_t                        len, klen, slen;
    ngx_http_fwgate_main_conf_t  *fmcf;

    fmcf = ngx_http_get_module_main_conf(r, ngx_http_fwgate_module);

    klen = ngx_strlen(kind);
    slen = suffix ? ngx_strlen(suffix) : 0;

    len = fmcf->prefix.len + klen + a->len + (b ? 1 + b->len : 0) + slen;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    out->data = p;
    out->len = len;

    p = ngx_cpymem(p, fmcf->prefix.data, fmcf->prefix.len);
    p = ngx_cpymem(p, kind, klen);
    p = ngx_cpymem(p, a->data, a->len);

    if (b) {
        *p++ = ':';
        p = ngx_cpymem(p, b->data, b->len);
    }

    if (slen) {
        p = ngx_cpymem(p, suffix, slen);
    }

    return NGX_OK;
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
    ngx_int_t  rc;
    ngx_str_t  key, device;

    /* a slot read or on its way: no key to build (a resumed request) */

    rc = ngx_http_fwgate_slot_state(ctx, slot);
    if (rc != NGX_DECLINED) {
        return rc;
    }

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
    ngx_int_t   rc[5];
    ngx_str_t   model, device, key;
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

    /* an automatic halt, written by edges where they may write */

    rc[4] = ngx_http_fwgate_slot_state(ctx, NGX_HTTP_FWGATE_SLOT_HALT);

    if (rc[4] == NGX_DECLINED) {
        if (ngx_http_fwgate_registry_key(r, &key, "rollout:", &model, NULL,
                                         ":halt")
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        rc[4] = ngx_http_fwgate_need(r, ctx, NGX_HTTP_FWGATE_SLOT_HALT,
                                     NGX_HTTP_FWGATE_KIND_HASH, &key, NULL);
    }

    for (i = 0; i < 5; i++) {
        if (rc[i] == NGX_ERROR) {
            return NGX_ERROR;
        }
    }

    return ctx->pending ? NGX_AGAIN : NGX_OK;
}


ngx_int_t
ngx_http_fwgate_need(ngx_http_request_t *r, ngx_http_fwgate_ctx_t *ctx,
    ngx_uint_t slot, ngx_uint_t kind, ngx_str_t *key, ngx_str_t *member)
{
    u_char                         *p;
    int                             argc;
    uint32_t                        hash;
    ngx_int_t                       rc;
    ngx_str_t                       ckey, value;
    const char                     *argv[3];
    size_t                          argvlen[3];
    ngx_http_fwgate_fetch_t        *f;
    ngx_http_fwgate_waiter_t       *w;
    ngx_http_fwgate_main_conf_t    *fmcf;
    ngx_msec_t                      until;
    ngx_http_fwgate_cache_state_e   state;

    rc = ngx_http_fwgate_slot_state(ctx, slot);
    if (rc != NGX_DECLINED) {
        return rc;
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

    /*
     * One hash (fwg_table_hash, eight bytes a step) for the cache and the
     * in-flight tree: ngx_crc32_long's byte at a time cost more than the
     * rest of a miss's bookkeeping.
     */
    hash = fwg_table_hash(ckey.data, ckey.len);

    state = ngx_http_fwgate_cache_get_hashed(fmcf, &ckey, hash, r->pool,
                                             &value, &until, 0);

    if (state == NGX_HTTP_FWGATE_CACHE_FRESH) {
        ctx->blobs[slot] = value;
        ctx->slot[slot] = NGX_HTTP_FWGATE_SLOT_HAVE;

        /*
         * A decision may be memoized only as long as all it read is fresh;
         * but the model's halt record, absent, is cached for negative_ttl
         * only and shared by the model's whole fleet: a memo hit reads it
         * afresh (memo.c) rather than every entry ending with it.
         */

        if (slot != NGX_HTTP_FWGATE_SLOT_HALT
            && (!ctx->memo_until_set
                || (ngx_msec_int_t) (until - ctx->memo_until) < 0))
        {
            ctx->memo_until = until;
            ctx->memo_until_set = 1;
        }

        ctx->memo_fresh++;

        return NGX_OK;
    }

    /*
     * Stale, failed or fetched: read in a way a memo must not keep.  A
     * stale copy is not taken now: should Redis fail, the fallback
     * (ngx_http_fwgate_records) looks it up then, so a registry change
     * pushed while this fetch was on its way rules it out.
     */

    ctx->memo_off = 1;

    if (!ngx_http_fwgate_inflight_init) {
        ngx_rbtree_init(&ngx_http_fwgate_inflight,
                        &ngx_http_fwgate_inflight_sentinel,
                        ngx_str_rbtree_insert_value);
        ngx_http_fwgate_inflight_init = 1;
    }

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
            ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "fwgate: in-flight fetch \"%V\" predates a "
                           "registry change: not joined", key);

            ngx_rbtree_delete(&ngx_http_fwgate_inflight, &f->sn.node);
            f->joinable = 0;
            f = NULL;

        } else {
            ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "fwgate: fetch \"%V\" slot %ui joins the one "
                           "in flight", key, slot);
        }
    }

    if (f == NULL) {
        if (!ngx_http_fwgate_redis_ready()) {
            ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "fwgate: fetch \"%V\" not sent: redis not "
                           "connected", key);

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
            ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "fwgate: fetch \"%V\" not sent: redis refused "
                           "the command", key);

            ngx_free(f);
            ctx->slot[slot] = NGX_HTTP_FWGATE_SLOT_FAILED;
            return NGX_OK;
        }

        ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "fwgate: fetch %s \"%V\" slot %ui sent",
                       argv[0], key, slot);

        ngx_rbtree_insert(&ngx_http_fwgate_inflight, &f->sn.node);
    }

    w = ngx_http_fwgate_spare_waiters;

    if (w) {
        ngx_http_fwgate_spare_waiters = w->next;
        ngx_http_fwgate_nspare_waiters--;

    } else {
        w = ngx_alloc(sizeof(ngx_http_fwgate_waiter_t), r->connection->log);
        if (w == NULL) {
            return NGX_ERROR;
        }
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
                                      (f->kind == NGX_HTTP_FWGATE_KIND_HASH
                                       && blob.len == 0)
                                      ? NGX_HTTP_FWGATE_ENTRY_NEGATIVE
                                      : NGX_HTTP_FWGATE_ENTRY_DATA,
                                      f->generation);

        } else {
            ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                          "fwgate: redis record \"%V\" refused: not a "
                          "registry record or larger than 64k "
                          "(reply type %d)", &f->sn.str, reply->type);
        }
    }

    /* the cache key: a set's name, then NUL and the member */

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "fwgate: fetch \"%*s\" reply: %s",
                   ngx_http_fwgate_key_len(&f->sn.str), f->sn.str.data,
                   ok ? "ok" : "failed");

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

        if (ngx_http_fwgate_nspare_waiters < NGX_HTTP_FWGATE_SPARE_WAITERS) {
            w->next = ngx_http_fwgate_spare_waiters;
            ngx_http_fwgate_spare_waiters = w;
            ngx_http_fwgate_nspare_waiters++;

        } else {
            ngx_free(w);
        }
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

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "fwgate: waiting for %ui registry records", ctx->pending);

    ctx->waited = 1;

    if (!ctx->timeout_ev.timer_set) {
        ngx_add_timer(&ctx->timeout_ev, fmcf->timeout);
    }

    return ngx_http_fwgate_park(r, ctx);
}


/* the request waits for its resume event, noticing a client that leaves */

static ngx_int_t
ngx_http_fwgate_park(ngx_http_request_t *r, ngx_http_fwgate_ctx_t *ctx)
{
    ctx->waiting = 1;

    if (r == r->main) {
        if (ngx_handle_read_event(r->connection->read, 0) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        r->read_event_handler = ngx_http_test_reading;
    }

    r->write_event_handler = ngx_http_request_empty_handler;

    return NGX_AGAIN;
}


/*
 * An allowed download is answered after the other requests this pass of
 * the event loop read: its resume is posted, as a fetched record's is,
 * and ngx_posted_events run once every ready connection has been
 * handled.  The answers then leave back to back, and a client that sleeps
 * between them is woken once for the group, not once per answer (a
 * wake-up across CPUs costs the sender several microseconds, more than an
 * HMAC decision; an ed25519 verification makes the gap between answers,
 * and so the wake-ups, larger still).  The decision is made and recorded
 * first: only the send waits, within the same loop iteration, so no timer
 * is needed.
 */

ngx_int_t
ngx_http_fwgate_defer(ngx_http_request_t *r, ngx_http_fwgate_ctx_t *ctx)
{
    ngx_int_t  rc;

    rc = ngx_http_fwgate_park(r, ctx);

    if (rc == NGX_AGAIN && !ctx->resume_ev.posted) {
        ngx_post_event(&ctx->resume_ev, &ngx_posted_events);
    }

    return rc;
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

    ngx_http_fwgate_admit_detach(ctx);

    if (ctx->admission == NGX_HTTP_FWGATE_ADMIT_SENT) {
        ctx->admission = NGX_HTTP_FWGATE_ADMIT_FAILED;
    }

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

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, c->log, 0, "fwgate: resume");

    ctx->resume(r, ctx);

    ngx_http_run_posted_requests(c);
}


/*
 * Records from the blobs, falling back to the cache's stale copies when
 * Redis failed.  The copy is looked up now, not when the fetch was sent:
 * the cache answers stale only for an entry of the current generation,
 * so a registry change that reached this worker while the fetch was on
 * its way (a halt pushed just before Redis went down) is never undone by
 * a copy from before it.
 */

ngx_int_t
ngx_http_fwgate_records(ngx_http_request_t *r, ngx_http_fwgate_ctx_t *ctx)
{
    fwg_str_t                       artifact;
    ngx_str_t                      *b, value;
    ngx_msec_t                      until;
    ngx_uint_t                      i;
    ngx_http_fwgate_main_conf_t    *fmcf;
    ngx_http_fwgate_cache_state_e   state;

    fmcf = ngx_http_get_module_main_conf(r, ngx_http_fwgate_module);

    for (i = 0; i < NGX_HTTP_FWGATE_NSLOTS; i++) {

        if (ctx->slot[i] != NGX_HTTP_FWGATE_SLOT_FAILED) {
            continue;
        }

        state = NGX_HTTP_FWGATE_CACHE_NONE;

        if (ctx->keys[i].data) {
            state = ngx_http_fwgate_cache_get_hashed(fmcf, &ctx->keys[i],
                                    fwg_table_hash(ctx->keys[i].data,
                                                   ctx->keys[i].len),
                                    r->pool, &value, &until, 1);
        }

        if (state != NGX_HTTP_FWGATE_CACHE_STALE
            && state != NGX_HTTP_FWGATE_CACHE_FRESH)
        {
            ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "fwgate: no usable record for \"%*s\"",
                           ngx_http_fwgate_key_len(&ctx->keys[i]),
                           ctx->keys[i].data);
            return NGX_ERROR;
        }

        ctx->blobs[i] = value;
        ctx->slot[i] = NGX_HTTP_FWGATE_SLOT_HAVE;

        /* fresh: another request's fetch has read it meanwhile */

        if (state == NGX_HTTP_FWGATE_CACHE_STALE) {
            ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "fwgate: redis failed, stale copy of \"%*s\" "
                           "used", ngx_http_fwgate_key_len(&ctx->keys[i]),
                           ctx->keys[i].data);

            (void) ngx_atomic_fetch_add(&fmcf->stats->cache_stale, 1);
        }
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

        /* the penalty box entry for the artifact being decided */

        artifact.data = (const char *) ctx->artifact.data;
        artifact.len = ctx->artifact.len;

        (void) fwg_device_penalty((const char *) b->data, b->len, artifact,
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

        b = &ctx->blobs[NGX_HTTP_FWGATE_SLOT_HALT];

        if (ctx->slot[NGX_HTTP_FWGATE_SLOT_HALT] == NGX_HTTP_FWGATE_SLOT_HAVE
            && b->len
            && fwg_blob_field((const char *) b->data, b->len, "artifact",
                              &o->halted)
               != 0)
        {
            /* unreadable: fail closed, as halted */
            o->halted = o->artifact;
        }
    }

    return NGX_OK;
}
