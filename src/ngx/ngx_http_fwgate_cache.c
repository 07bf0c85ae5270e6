
/*
 * fwgate: the shared-memory registry cache.
 *
 * It follows ngx_http_limit_req_module's zone (an LRU queue, the slab
 * pool's mutex held only around lookup and insert, never across a Redis
 * wait, and the old zone reused on reload) but indexes entries with a
 * chained hash table made when the zone is, one bucket per 256 bytes of
 * zone, rather than an rbtree: at a few hundred thousand entries an rbtree
 * lookup chases twenty-odd nodes spread over the zone, a cache miss each,
 * where a bucket costs one or two.  Keys hash with MurmurHash2, four
 * bytes a step (a request looks up five keys of 30-50 bytes).  A full
 * zone evicts least recently used entries rather than failing a request.
 *
 * In front of the zone each worker keeps a first level: a direct-mapped
 * table of private copies of entries the zone held fresh, with the
 * zone entry's own stored time and generation, so a copy is fresh exactly
 * as long as its original would be.  A hit costs no lock, no tree walk and
 * no shared-memory write; at most NGX_HTTP_FWGATE_L1_SIZE copies of up to
 * NGX_HTTP_FWGATE_L1_MAXVAL bytes each per worker.
 *
 * Freshness: an entry is fresh while younger than its ttl and written in
 * the current registry epoch.  A new epoch (read from Redis by the poll)
 * or a pushed message (subscribe.c) invalidates every entry at once, and
 * an invalidated entry is never used again, not even when Redis cannot
 * answer: it may predate a revoke or a halt.  Only an entry that merely
 * aged out in the current epoch is a stale copy, used when Redis cannot
 * answer, up to the `stale` age (docs/faults.md, "Invalidated data is
 * never a fallback").
 */

#include "ngx_http_fwgate_module.h"


typedef struct ngx_http_fwgate_cache_node_s  ngx_http_fwgate_cache_node_t;

struct ngx_http_fwgate_cache_node_s {
    ngx_http_fwgate_cache_node_t  *next;        /* in its bucket */
    uint32_t                       hash;
    u_short                        klen;
    u_char                         kind;        /* NGX_HTTP_FWGATE_ENTRY_* */
    uint32_t                       vlen;
    ngx_queue_t                    queue;
    ngx_msec_t                     stored;
    ngx_msec_t                     touched;     /* last moved in the LRU */
    ngx_uint_t                     generation;
    u_char                         data[1];     /* key, then value */
};


#define NGX_HTTP_FWGATE_CACHE_BUCKET_BYTES  256



typedef struct {
    ngx_http_fwgate_cache_node_t  **buckets;
    ngx_uint_t                      mask;       /* buckets - 1 */
    ngx_queue_t                 queue;
    ngx_uint_t                  generation;
    u_char                      epoch[32];
    size_t                      epoch_len;
    ngx_msec_t                  last_poll;
    ngx_msec_t                  confirmed;  /* registry last known fresh */
    ngx_uint_t                  role;       /* NGX_HTTP_FWGATE_ROLE_* */
    ngx_http_fwgate_stats_t     stats;
} ngx_http_fwgate_cache_shctx_t;


typedef struct {
    ngx_http_fwgate_cache_shctx_t  *sh;
    ngx_slab_pool_t                *shpool;
    ngx_http_fwgate_main_conf_t    *fmcf;
} ngx_http_fwgate_cache_ctx_t;


#define NGX_HTTP_FWGATE_L1_SIZE    1024         /* a power of two */
#define NGX_HTTP_FWGATE_L1_MAXVAL  4096


typedef struct {
    u_char                         *data;       /* key, then value */
    size_t                          size;       /* allocated */
    ngx_http_fwgate_cache_shctx_t  *sh;         /* the zone it copies */
    uint32_t                        hash;
    u_short                         klen;
    u_short                         kind;
    uint32_t                        vlen;
    ngx_msec_t                      stored;
    ngx_uint_t                      generation;
} ngx_http_fwgate_l1_t;


static ngx_int_t ngx_http_fwgate_cache_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static void ngx_http_fwgate_cache_unlink(ngx_http_fwgate_cache_ctx_t *ctx,
    ngx_http_fwgate_cache_node_t *cn);
static ngx_http_fwgate_cache_ctx_t *ngx_http_fwgate_cache_lock(
    ngx_http_fwgate_main_conf_t *fmcf);
static ngx_http_fwgate_cache_node_t *ngx_http_fwgate_cache_lookup(
    ngx_http_fwgate_cache_ctx_t *ctx, ngx_str_t *key, uint32_t hash);
static ngx_uint_t ngx_http_fwgate_cache_evict(
    ngx_http_fwgate_cache_ctx_t *ctx, ngx_uint_t n);


static ngx_http_fwgate_l1_t *ngx_http_fwgate_l1_fresh(
    ngx_http_fwgate_main_conf_t *fmcf, ngx_http_fwgate_cache_ctx_t *ctx,
    ngx_str_t *key, uint32_t hash);
static void ngx_http_fwgate_l1_store(ngx_http_fwgate_cache_ctx_t *ctx,
    ngx_str_t *key, uint32_t hash, ngx_str_t *value, ngx_uint_t kind,
    ngx_msec_t stored, ngx_uint_t generation);


/* worker-local counters when no cache zone is configured */
static ngx_http_fwgate_stats_t  ngx_http_fwgate_local_stats;

/* the first level: private to each worker */
static ngx_http_fwgate_l1_t     ngx_http_fwgate_l1[NGX_HTTP_FWGATE_L1_SIZE];


ngx_shm_zone_t *
ngx_http_fwgate_cache_add_zone(ngx_conf_t *cf, ngx_str_t *name, size_t size,
    ngx_http_fwgate_main_conf_t *fmcf)
{
    ngx_http_fwgate_cache_ctx_t  *ctx;

    ctx = ngx_pcalloc(cf->pool, sizeof(ngx_http_fwgate_cache_ctx_t));
    if (ctx == NULL) {
        return NULL;
    }

    ctx->fmcf = fmcf;

    return ngx_http_fwgate_zone_add(cf, name, size,
                                    ngx_http_fwgate_cache_init_zone, ctx);
}


/* a shared zone of ours; each name is one zone, cache or replay */

ngx_shm_zone_t *
ngx_http_fwgate_zone_add(ngx_conf_t *cf, ngx_str_t *name, size_t size,
    ngx_shm_zone_init_pt init, void *data)
{
    ngx_shm_zone_t  *shm_zone;

    shm_zone = ngx_shared_memory_add(cf, name, size, &ngx_http_fwgate_module);
    if (shm_zone == NULL) {
        return NULL;
    }

    if (shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "fwgate zone \"%V\" is already used", name);
        return NULL;
    }

    shm_zone->init = init;
    shm_zone->data = data;

    return shm_zone;
}


static ngx_int_t
ngx_http_fwgate_cache_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_fwgate_cache_ctx_t  *octx = data;

    size_t                        len;
    ngx_uint_t                    n;
    ngx_http_fwgate_cache_ctx_t  *ctx;

    ctx = shm_zone->data;

    if (octx) {
        /* reload: keep the cache and the counters */
        ctx->sh = octx->sh;
        ctx->shpool = octx->shpool;
        ctx->fmcf->stats = &ctx->sh->stats;
        return NGX_OK;
    }

    ctx->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        ctx->sh = ctx->shpool->data;
        ctx->fmcf->stats = &ctx->sh->stats;
        return NGX_OK;
    }

    ctx->sh = ngx_slab_calloc(ctx->shpool,
                              sizeof(ngx_http_fwgate_cache_shctx_t));
    if (ctx->sh == NULL) {
        return NGX_ERROR;
    }

    ctx->shpool->data = ctx->sh;

    /* a power of two of buckets, about one per 256 bytes of zone */

    for (n = 64; n * 2 * NGX_HTTP_FWGATE_CACHE_BUCKET_BYTES
                 <= shm_zone->shm.size; n *= 2) { /* void */ }

    len = n * sizeof(ngx_http_fwgate_cache_node_t *);

    /* zero already, as a fresh mapping: see the replay zone's init */

    ctx->sh->buckets = ngx_slab_alloc(ctx->shpool, len);
    if (ctx->sh->buckets == NULL) {
        return NGX_ERROR;
    }

#if (NGX_DEBUG_MALLOC || NGX_HAVE_DEBUG_MALLOC)
    ngx_memzero(ctx->sh->buckets, len);
#endif

    ctx->sh->mask = n - 1;
    ngx_queue_init(&ctx->sh->queue);

    /* the staleness bound runs from the start, as from a confirmation */
    ctx->sh->confirmed = ngx_current_msec;

    ctx->fmcf->stats = &ctx->sh->stats;

    len = sizeof(" in fwgate zone \"\"") + shm_zone->shm.name.len;

    ctx->shpool->log_ctx = ngx_slab_alloc(ctx->shpool, len);
    if (ctx->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(ctx->shpool->log_ctx, " in fwgate zone \"%V\"%Z",
                &shm_zone->shm.name);

    /* eviction keeps the zone usable: do not flood the log when full */
    ctx->shpool->log_nomem = 0;

    return NGX_OK;
}


/*
 * The one freshness rule, for the zone's entries and the workers' copies
 * alike: younger than its ttl and written in the current epoch.
 */

static ngx_inline ngx_msec_t
ngx_http_fwgate_cache_ttl(ngx_http_fwgate_main_conf_t *fmcf, ngx_uint_t kind)
{
    switch (kind) {

    case NGX_HTTP_FWGATE_ENTRY_NEGATIVE:
        return fmcf->negative_ttl;

    case NGX_HTTP_FWGATE_ENTRY_MARK:
        return ngx_max(fmcf->ttl, NGX_HTTP_FWGATE_MARK_TTL);

    default:
        return fmcf->ttl;
    }
}


static ngx_inline ngx_uint_t
ngx_http_fwgate_cache_fresh(ngx_http_fwgate_main_conf_t *fmcf,
    ngx_uint_t kind, ngx_msec_t stored, ngx_uint_t generation,
    ngx_uint_t current)
{
    return ngx_current_msec - stored < ngx_http_fwgate_cache_ttl(fmcf, kind)
           && generation == current;
}


/* on worker exit: the first level's copies (the module is unloaded next) */

void
ngx_http_fwgate_cache_exit_process(void)
{
    ngx_uint_t  i;

    for (i = 0; i < NGX_HTTP_FWGATE_L1_SIZE; i++) {
        ngx_free(ngx_http_fwgate_l1[i].data);
        ngx_memzero(&ngx_http_fwgate_l1[i], sizeof(ngx_http_fwgate_l1_t));
    }
}


ngx_http_fwgate_stats_t *
ngx_http_fwgate_local_stats_get(void)
{
    return &ngx_http_fwgate_local_stats;
}


static ngx_http_fwgate_cache_node_t *
ngx_http_fwgate_cache_lookup(ngx_http_fwgate_cache_ctx_t *ctx,
    ngx_str_t *key, uint32_t hash)
{
    ngx_http_fwgate_cache_node_t  *cn;

    for (cn = ctx->sh->buckets[hash & ctx->sh->mask]; cn; cn = cn->next) {

        if (cn->hash == hash
            && cn->klen == key->len
            && ngx_memcmp(cn->data, key->data, key->len) == 0)
        {
            return cn;
        }
    }

    return NULL;
}


/* with the zone locked: takes cn out of its bucket and the LRU, frees it */

static void
ngx_http_fwgate_cache_unlink(ngx_http_fwgate_cache_ctx_t *ctx,
    ngx_http_fwgate_cache_node_t *cn)
{
    ngx_http_fwgate_cache_node_t  **pp;

    for (pp = &ctx->sh->buckets[cn->hash & ctx->sh->mask];
         *pp != cn;
         pp = &(*pp)->next)
    {
        /* void */
    }

    *pp = cn->next;

    ngx_queue_remove(&cn->queue);
    ngx_slab_free_locked(ctx->shpool, cn);
}


ngx_http_fwgate_cache_state_e
ngx_http_fwgate_cache_get_hashed(ngx_http_fwgate_main_conf_t *fmcf,
    ngx_str_t *key, uint32_t hash, ngx_pool_t *pool, ngx_str_t *value,
    ngx_msec_t *until, ngx_uint_t stale_value)
{
    ngx_uint_t                      kind, generation;
    ngx_msec_t                      stored;
    ngx_http_fwgate_l1_t           *l1;
    ngx_http_fwgate_cache_ctx_t    *ctx;
    ngx_http_fwgate_cache_node_t   *cn;
    ngx_http_fwgate_cache_state_e   state;

    if (fmcf->cache_zone == NULL) {
        return NGX_HTTP_FWGATE_CACHE_NONE;
    }

    ctx = fmcf->cache_zone->data;

    l1 = ngx_http_fwgate_l1_fresh(fmcf, ctx, key, hash);

    if (l1) {
        value->len = l1->vlen;
        value->data = ngx_pnalloc(pool, l1->vlen + 1);

        if (value->data) {
            ngx_memcpy(value->data, l1->data + l1->klen, l1->vlen);
            value->data[l1->vlen] = '\0';
            *until = l1->stored + ngx_http_fwgate_cache_ttl(fmcf, l1->kind);
            ngx_http_fwgate_count(fmcf->stats, &fmcf->stats->cache_hits, 1);

            ngx_log_debug2(NGX_LOG_DEBUG_HTTP, pool->log, 0,
                           "fwgate: cache hit (worker) \"%*s\"",
                           ngx_http_fwgate_key_len(key), key->data);

            return NGX_HTTP_FWGATE_CACHE_FRESH;
        }
    }

    state = NGX_HTTP_FWGATE_CACHE_NONE;
    kind = 0;
    stored = 0;
    generation = 0;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    cn = ngx_http_fwgate_cache_lookup(ctx, key, hash);

    if (cn) {
        if (ngx_http_fwgate_cache_fresh(fmcf, cn->kind, cn->stored,
                                        cn->generation, ctx->sh->generation))
        {
            state = NGX_HTTP_FWGATE_CACHE_FRESH;

        } else if (cn->generation == ctx->sh->generation
                   && ngx_current_msec - cn->stored
                      < ngx_http_fwgate_cache_ttl(fmcf, cn->kind)
                        + fmcf->stale)
        {
            /* aged out, but no registry change seen since it was read */
            state = NGX_HTTP_FWGATE_CACHE_STALE;
        }

        if (state == NGX_HTTP_FWGATE_CACHE_STALE && !stale_value) {
            value->data = NULL;
            value->len = 0;

        } else if (state != NGX_HTTP_FWGATE_CACHE_NONE) {
            value->len = cn->vlen;
            value->data = ngx_pnalloc(pool, cn->vlen + 1);

            if (value->data == NULL) {
                state = NGX_HTTP_FWGATE_CACHE_NONE;

            } else {
                ngx_memcpy(value->data, cn->data + cn->klen, cn->vlen);
                value->data[cn->vlen] = '\0';

                kind = cn->kind;
                stored = cn->stored;
                generation = cn->generation;
                *until = stored + ngx_http_fwgate_cache_ttl(fmcf, kind);

                /*
                 * LRU order to the second is enough: a hot record is not
                 * moved (a shared-memory write) on every request.
                 */

                if (ngx_current_msec - cn->touched >= 1000) {
                    cn->touched = ngx_current_msec;
                    ngx_queue_remove(&cn->queue);
                    ngx_queue_insert_head(&ctx->sh->queue, &cn->queue);
                }
            }
        }
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, pool->log, 0,
                   "fwgate: cache %s \"%*s\"",
                   state == NGX_HTTP_FWGATE_CACHE_FRESH ? "hit (zone)"
                   : state == NGX_HTTP_FWGATE_CACHE_STALE ? "stale" : "miss",
                   ngx_http_fwgate_key_len(key), key->data);

    if (state == NGX_HTTP_FWGATE_CACHE_FRESH) {
        ngx_http_fwgate_l1_store(ctx, key, hash, value, kind, stored,
                                 generation);
        ngx_http_fwgate_count(fmcf->stats, &fmcf->stats->cache_hits, 1);

    } else {
        ngx_http_fwgate_count(fmcf->stats, &fmcf->stats->cache_misses, 1);
    }

    return state;
}


/*
 * Stores a record read from Redis.  generation is the zone's generation
 * when the read was sent: a reply that crosses an epoch change on its way
 * may hold data from before the change, so it is stored as of its own
 * generation, neither fresh nor a stale copy.
 */

void
ngx_http_fwgate_cache_put(ngx_http_fwgate_main_conf_t *fmcf, ngx_str_t *key,
    ngx_str_t *value, ngx_uint_t kind, ngx_uint_t generation)
{
    size_t                         n;
    uint32_t                       hash;
    ngx_uint_t                     tries;
    ngx_http_fwgate_cache_ctx_t   *ctx;
    ngx_http_fwgate_cache_node_t  *cn, **bucket;

    if (fmcf->cache_zone == NULL || key->len > 65535) {
        return;
    }

    if (ngx_http_fwgate_cache_ttl(fmcf, kind) == 0) {
        return;
    }

    ctx = fmcf->cache_zone->data;
    hash = fwg_table_hash(key->data, key->len);

    n = offsetof(ngx_http_fwgate_cache_node_t, data) + key->len + value->len;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    if (generation != ctx->sh->generation) {
        ngx_shmtx_unlock(&ctx->shpool->mutex);
        return;
    }

    cn = ngx_http_fwgate_cache_lookup(ctx, key, hash);

    if (cn) {
        ngx_http_fwgate_cache_unlink(ctx, cn);
        (void) ngx_atomic_fetch_add(&ctx->sh->stats.cache_entries, -1);
    }

    cn = ngx_slab_alloc_locked(ctx->shpool, n);

    for (tries = 0; cn == NULL && tries < 8; tries++) {
        if (ngx_http_fwgate_cache_evict(ctx, 4 << tries) == 0) {
            break;
        }

        cn = ngx_slab_alloc_locked(ctx->shpool, n);
    }

    if (cn == NULL) {
        ngx_shmtx_unlock(&ctx->shpool->mutex);
        return;
    }

    cn->hash = hash;
    cn->klen = (u_short) key->len;
    cn->vlen = (uint32_t) value->len;
    cn->kind = (u_char) kind;
    cn->stored = ngx_current_msec;
    cn->touched = ngx_current_msec;
    cn->generation = generation;
    ngx_memcpy(cn->data, key->data, key->len);
    ngx_memcpy(cn->data + key->len, value->data, value->len);

    bucket = &ctx->sh->buckets[hash & ctx->sh->mask];
    cn->next = *bucket;
    *bucket = cn;
    ngx_queue_insert_head(&ctx->sh->queue, &cn->queue);
    (void) ngx_atomic_fetch_add(&ctx->sh->stats.cache_entries, 1);

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    ngx_http_fwgate_l1_store(ctx, key, hash, value, kind,
                             ngx_current_msec, generation);
}


/*
 * A fresh mark for key: 1 when one was already there, else it is set and
 * 0 returned.  Lets per-request side effects (the download record) be
 * sent once per ttl and epoch rather than on every request.
 */

ngx_uint_t
ngx_http_fwgate_cache_mark(ngx_http_fwgate_main_conf_t *fmcf, ngx_str_t *key)
{
    return ngx_http_fwgate_cache_marked(fmcf, key, 1);
}


/*
 * Whether key is marked; with set, marks it when it is not.  Admission
 * tests first and marks only once Redis admitted the device.
 */

ngx_uint_t
ngx_http_fwgate_cache_marked(ngx_http_fwgate_main_conf_t *fmcf,
    ngx_str_t *key, ngx_uint_t set)
{
    uint32_t                       hash;
    ngx_str_t                      one;
    ngx_msec_t                     stored;
    ngx_uint_t                     fresh, generation;
    ngx_http_fwgate_cache_ctx_t   *ctx;
    ngx_http_fwgate_cache_node_t  *cn;

    if (fmcf->cache_zone == NULL) {
        return 0;
    }

    ctx = fmcf->cache_zone->data;
    hash = fwg_table_hash(key->data, key->len);

    if (ngx_http_fwgate_l1_fresh(fmcf, ctx, key, hash)) {
        return 1;
    }

    ngx_str_set(&one, "1");
    stored = 0;
    generation = 0;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    cn = ngx_http_fwgate_cache_lookup(ctx, key, hash);

    fresh = (cn != NULL
             && cn->kind == NGX_HTTP_FWGATE_ENTRY_MARK
             && ngx_http_fwgate_cache_fresh(fmcf,
                                            NGX_HTTP_FWGATE_ENTRY_MARK,
                                            cn->stored, cn->generation,
                                            ctx->sh->generation));

    if (fresh) {
        stored = cn->stored;
        generation = cn->generation;
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    if (fresh) {
        ngx_http_fwgate_l1_store(ctx, key, hash, &one,
                                 NGX_HTTP_FWGATE_ENTRY_MARK, stored,
                                 generation);
        return 1;
    }

    if (!set) {
        return 0;
    }

    ngx_http_fwgate_cache_put(fmcf, key, &one, NGX_HTTP_FWGATE_ENTRY_MARK,
                              ngx_http_fwgate_cache_generation(fmcf));

    return 0;
}


/* the zone's registry generation now: fetches remember it when sent */

ngx_uint_t
ngx_http_fwgate_cache_generation(ngx_http_fwgate_main_conf_t *fmcf)
{
    ngx_http_fwgate_cache_ctx_t  *ctx;

    if (fmcf->cache_zone == NULL) {
        return 0;
    }

    ctx = fmcf->cache_zone->data;

    return *(volatile ngx_uint_t *) &ctx->sh->generation;
}


/* the worker's copy of key if it is fresh, else NULL */

static ngx_http_fwgate_l1_t *
ngx_http_fwgate_l1_fresh(ngx_http_fwgate_main_conf_t *fmcf,
    ngx_http_fwgate_cache_ctx_t *ctx, ngx_str_t *key, uint32_t hash)
{
    ngx_http_fwgate_l1_t  *l1;

    l1 = &ngx_http_fwgate_l1[hash & (NGX_HTTP_FWGATE_L1_SIZE - 1)];

    if (l1->data == NULL
        || l1->hash != hash
        || l1->sh != ctx->sh
        || l1->klen != key->len
        || ngx_memcmp(l1->data, key->data, key->len) != 0)
    {
        return NULL;
    }

    /*
     * The generation is read without the lock: a word read, and a request
     * that reads it just before the epoch poll bumps it is no different
     * from one that ran a moment earlier.
     */

    if (!ngx_http_fwgate_cache_fresh(fmcf, l1->kind, l1->stored,
            l1->generation, *(volatile ngx_uint_t *) &ctx->sh->generation))
    {
        return NULL;
    }

    return l1;
}


static void
ngx_http_fwgate_l1_store(ngx_http_fwgate_cache_ctx_t *ctx, ngx_str_t *key,
    uint32_t hash, ngx_str_t *value, ngx_uint_t kind, ngx_msec_t stored,
    ngx_uint_t generation)
{
    size_t                 size;
    ngx_http_fwgate_l1_t  *l1;

    l1 = &ngx_http_fwgate_l1[hash & (NGX_HTTP_FWGATE_L1_SIZE - 1)];

    size = key->len + value->len;

    if (key->len > 65535 || value->len > NGX_HTTP_FWGATE_L1_MAXVAL) {
        l1->hash = 0;
        l1->klen = 0;
        l1->sh = NULL;
        return;
    }

    if (l1->size < size) {
        ngx_free(l1->data);
        l1->size = 0;

        /* rounded up, so a slot is rarely reallocated */
        l1->data = ngx_alloc(ngx_align(size, 256), ngx_cycle->log);
        if (l1->data == NULL) {
            return;
        }

        l1->size = ngx_align(size, 256);
    }

    l1->sh = ctx->sh;
    l1->hash = hash;
    l1->klen = (u_short) key->len;
    l1->vlen = (uint32_t) value->len;
    l1->kind = (u_short) kind;
    l1->stored = stored;
    l1->generation = generation;

    ngx_memcpy(l1->data, key->data, key->len);
    ngx_memcpy(l1->data + key->len, value->data, value->len);
}


/* with the zone locked: frees up to n least recently used entries */

static ngx_uint_t
ngx_http_fwgate_cache_evict(ngx_http_fwgate_cache_ctx_t *ctx, ngx_uint_t n)
{
    ngx_uint_t                     freed;
    ngx_queue_t                   *q;
    ngx_http_fwgate_cache_node_t  *cn;

    for (freed = 0; freed < n; freed++) {

        if (ngx_queue_empty(&ctx->sh->queue)) {
            break;
        }

        q = ngx_queue_last(&ctx->sh->queue);
        cn = ngx_queue_data(q, ngx_http_fwgate_cache_node_t, queue);

        ngx_http_fwgate_cache_unlink(ctx, cn);
    }

    (void) ngx_atomic_fetch_add(&ctx->sh->stats.cache_evictions, freed);
    (void) ngx_atomic_fetch_add(&ctx->sh->stats.cache_entries, -freed);

    return freed;
}


/*
 * The zone's ctx with its mutex held, or NULL without a zone (no
 * fwgate_cache): the small getters and setters below share this opening.
 */

static ngx_http_fwgate_cache_ctx_t *
ngx_http_fwgate_cache_lock(ngx_http_fwgate_main_conf_t *fmcf)
{
    ngx_http_fwgate_cache_ctx_t  *ctx;

    if (fmcf->cache_zone == NULL) {
        return NULL;
    }

    ctx = fmcf->cache_zone->data;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    return ctx;
}


ngx_uint_t
ngx_http_fwgate_cache_set_epoch(ngx_http_fwgate_main_conf_t *fmcf,
    ngx_str_t *epoch)
{
    ngx_uint_t                    generation;
    ngx_http_fwgate_cache_ctx_t  *ctx;

    if (epoch->len > 32) {
        return 0;
    }

    ctx = ngx_http_fwgate_cache_lock(fmcf);
    if (ctx == NULL) {
        return 0;
    }

    generation = 0;

    if (epoch->len != ctx->sh->epoch_len
        || ngx_memcmp(epoch->data, ctx->sh->epoch, epoch->len) != 0)
    {
        ngx_memcpy(ctx->sh->epoch, epoch->data, epoch->len);
        ctx->sh->epoch_len = epoch->len;
        generation = ++ctx->sh->generation;
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    /* logged outside the lock: other workers wait on it */

    if (generation) {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                       "fwgate: registry epoch \"%V\": cache generation "
                       "%ui, every cached record stale", epoch, generation);
    }

    return generation != 0;
}


/*
 * A pushed invalidation: the same generation bump as a new epoch, without
 * knowing the epoch (the poll it triggers stores that).  Every cached
 * record becomes stale at once: it can never invalidate too little.
 */

ngx_uint_t
ngx_http_fwgate_cache_invalidate(ngx_http_fwgate_main_conf_t *fmcf)
{
    ngx_uint_t                    generation;
    ngx_http_fwgate_cache_ctx_t  *ctx;

    ctx = ngx_http_fwgate_cache_lock(fmcf);
    if (ctx == NULL) {
        return 0;
    }

    generation = ++ctx->sh->generation;
    ngx_shmtx_unlock(&ctx->shpool->mutex);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "fwgate: pushed invalidation: cache generation %ui, "
                   "every cached record stale", generation);

    return generation;
}


void
ngx_http_fwgate_cache_usage(ngx_http_fwgate_main_conf_t *fmcf, size_t *used,
    size_t *size)
{
    size_t                        pages;
    ngx_http_fwgate_cache_ctx_t  *ctx;

    *used = 0;
    *size = 0;

    ctx = ngx_http_fwgate_cache_lock(fmcf);
    if (ctx == NULL) {
        return;
    }

    pages = (ctx->shpool->end - ctx->shpool->start) / ngx_pagesize;
    *used = (pages - ctx->shpool->pfree) * ngx_pagesize;
    *size = fmcf->cache_zone->shm.size;

    ngx_shmtx_unlock(&ctx->shpool->mutex);
}


ngx_uint_t
ngx_http_fwgate_cache_poll_due(ngx_http_fwgate_main_conf_t *fmcf)
{
    ngx_uint_t                    due;
    ngx_http_fwgate_cache_ctx_t  *ctx;

    ctx = ngx_http_fwgate_cache_lock(fmcf);
    if (ctx == NULL) {
        return 0;
    }

    due = (ngx_current_msec - ctx->sh->last_poll >= fmcf->poll);

    if (due) {
        ctx->sh->last_poll = ngx_current_msec;
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return due;
}


/*
 * Freshness of the registry this node reads (fwgate_max_staleness): the
 * epoch poll confirms it when it read the epoch from a primary, or from a
 * replica whose link to its primary is up.  A replica that lost its
 * primary keeps answering (replica-serve-stale-data) with data that may
 * miss a halt: it does not confirm.
 */

void
ngx_http_fwgate_cache_confirm(ngx_http_fwgate_main_conf_t *fmcf,
    ngx_uint_t role, ngx_uint_t fresh)
{
    ngx_http_fwgate_cache_ctx_t  *ctx;

    ctx = ngx_http_fwgate_cache_lock(fmcf);
    if (ctx == NULL) {
        return;
    }

    ctx->sh->role = role;

    if (fresh) {
        ctx->sh->confirmed = ngx_current_msec;
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);
}


/* milliseconds since the registry was last confirmed fresh, and its role */

ngx_msec_t
ngx_http_fwgate_cache_staleness(ngx_http_fwgate_main_conf_t *fmcf,
    ngx_uint_t *role)
{
    ngx_http_fwgate_cache_ctx_t  *ctx;

    if (fmcf->cache_zone == NULL) {
        if (role) {
            *role = NGX_HTTP_FWGATE_ROLE_UNKNOWN;
        }

        return 0;
    }

    ctx = fmcf->cache_zone->data;

    if (role) {
        *role = *(volatile ngx_uint_t *) &ctx->sh->role;
    }

    return ngx_current_msec
           - *(volatile ngx_msec_t *) &ctx->sh->confirmed;
}


/* past fwgate_max_staleness: rollout downloads must not be served */

ngx_uint_t
ngx_http_fwgate_registry_stale(ngx_http_fwgate_main_conf_t *fmcf)
{
    if (fmcf->max_staleness == 0 || fmcf->cache_zone == NULL) {
        return 0;
    }

    return ngx_http_fwgate_cache_staleness(fmcf, NULL) > fmcf->max_staleness;
}
