
/*
 * fwgate: the nonce replay store (step 8 of the decision).
 *
 * A shared zone holding one table of 64-bit keyed digests of
 * "keyid NUL nonce", each with the time its signature stops being
 * acceptable (created + max_age + clock_skew).  A digest stands for the
 * strings: with a 128-bit secret drawn when the zone is made, two
 * distinct nonces share a digest with probability about n / 2^64, and a
 * client cannot aim for it; the worst a collision could do is refuse one
 * fresh request as a replay, never admit a replay.
 *
 * The table is made of 64-byte buckets (one cache line) of four slots;
 * a digest may live in either of two buckets chosen from its bits and is
 * written to the one with more free or expired slots ("two choices": a
 * new nonce finds both full about once in 13,000 with the table half
 * full).  A check therefore reads two cache lines, against an rbtree's
 * twenty-odd misses at a million nonces.  Expired slots are simply
 * overwritten: there is no sweep.
 *
 * Each bucket carries its own lock word, in the line the check reads
 * anyway, and a check holds its two buckets' locks (lower index first,
 * so two checks never wait on each other in a cycle).  Two checks of one
 * nonce take the same two locks, so one of them sees the other's digest;
 * checks of different nonces rarely share a bucket and do not wait.  The
 * zone's mutex served every check of every worker before: one more line
 * passed between workers on each request, and perf put ngx_shmtx_lock at
 * 2.6 % of a worker's time with two workers (docs/benchmarks.md, 0.4.5).
 *
 * When both buckets hold only live nonces the new one is refused, never
 * recorded over a live one: forgetting an unexpired nonce would let
 * a captured request be replayed, and one device owner able to send many
 * valid requests could flush the store on purpose.  The request is
 * answered 503 replay_store_full (the device retries), counted in
 * fwgate_replay_full_total and logged at most once a second per worker:
 * the zone is too small for the nonce rate times the window
 * (docs/security.md sizes it).
 */

#include "ngx_http_fwgate_module.h"
#include "fwg_siphash.h"

/* after nginx's headers: ngx_config.h sets the feature macros first */
#include <openssl/rand.h>


#define NGX_HTTP_FWGATE_REPLAY_WAYS  4

/*
 * A held bucket lock: pauses between looks, looks between yields of the
 * CPU, and looks between checks that its holder is alive.
 */
#define NGX_HTTP_FWGATE_REPLAY_SPIN   64
#define NGX_HTTP_FWGATE_REPLAY_YIELD  16
#define NGX_HTTP_FWGATE_REPLAY_ALIVE  1024


/*
 * One cache line: four digests (0: never used), the Unix times their
 * signatures stop being acceptable (32 bits last until 2106), and the
 * lock: 0, or the pid of the worker holding it.
 */

typedef struct {
    uint64_t                    hash[NGX_HTTP_FWGATE_REPLAY_WAYS];
    uint32_t                    expires[NGX_HTTP_FWGATE_REPLAY_WAYS];
    ngx_atomic_t                lock;
    u_char                      pad[64 - NGX_HTTP_FWGATE_REPLAY_WAYS * 12
                                    - sizeof(ngx_atomic_t)];
} ngx_http_fwgate_replay_bucket_t;

/* a bucket is one cache line, or the compiler stops here */
typedef char  ngx_http_fwgate_replay_bucket_is_a_line[
                  sizeof(ngx_http_fwgate_replay_bucket_t) == 64 ? 1 : -1];


typedef struct {
    u_char                            key[FWG_SIPHASH_KEY_LEN];
    ngx_uint_t                        nbuckets;
    ngx_http_fwgate_replay_bucket_t  *buckets;
} ngx_http_fwgate_replay_shctx_t;


typedef struct {
    ngx_http_fwgate_replay_shctx_t  *sh;
    ngx_slab_pool_t                 *shpool;
} ngx_http_fwgate_replay_ctx_t;


static ngx_int_t ngx_http_fwgate_replay_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);


static time_t  ngx_http_fwgate_replay_warned;


#if (NGX_LINUX)

#include <sys/mman.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE  23
#endif

static void
ngx_http_fwgate_replay_populate(ngx_shm_zone_t *shm_zone, u_char *start,
    size_t size)
{
    u_char  *p, *end;

    /* madvise() wants a page-aligned start */

    p = ngx_align_ptr(start, ngx_pagesize);
    end = start + size;

    if (p >= end) {
        return;
    }

    if (madvise(p, end - p, MADV_POPULATE_WRITE) == -1) {
        ngx_log_error(NGX_LOG_INFO, shm_zone->shm.log, ngx_errno,
                      "fwgate replay zone \"%V\": pages not committed "
                      "at start, they fault in as nonces arrive",
                      &shm_zone->shm.name);
    }
}

#endif


ngx_shm_zone_t *
ngx_http_fwgate_replay_add_zone(ngx_conf_t *cf, ngx_str_t *name, size_t size)
{
    ngx_http_fwgate_replay_ctx_t  *ctx;

    ctx = ngx_pcalloc(cf->pool, sizeof(ngx_http_fwgate_replay_ctx_t));
    if (ctx == NULL) {
        return NULL;
    }

    return ngx_http_fwgate_zone_add(cf, name, size,
                                    ngx_http_fwgate_replay_init_zone, ctx);
}


static ngx_int_t
ngx_http_fwgate_replay_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_fwgate_replay_ctx_t  *octx = data;

    size_t                         size;
    ngx_uint_t                     pages;
    ngx_http_fwgate_replay_ctx_t  *ctx;

    ctx = shm_zone->data;

    if (octx) {
        /* a reload keeps the table: nonces seen stay refused */
        ctx->sh = octx->sh;
        ctx->shpool = octx->shpool;
        return NGX_OK;
    }

    ctx->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        ctx->sh = ctx->shpool->data;
        return NGX_OK;
    }

    ctx->sh = ngx_slab_calloc(ctx->shpool,
                              sizeof(ngx_http_fwgate_replay_shctx_t));
    if (ctx->sh == NULL) {
        return NGX_ERROR;
    }

    ctx->shpool->data = ctx->sh;

    if (RAND_bytes(ctx->sh->key, FWG_SIPHASH_KEY_LEN) != 1) {
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                      "fwgate replay zone \"%V\": no random key",
                      &shm_zone->shm.name);
        return NGX_ERROR;
    }

    /* the table takes every page the slab pool has left but one */

    pages = ctx->shpool->pfree;
    if (pages < 2) {
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                      "fwgate replay zone \"%V\" is too small",
                      &shm_zone->shm.name);
        return NGX_ERROR;
    }

    size = (pages - 1) * ngx_pagesize;
    ctx->sh->nbuckets = size / sizeof(ngx_http_fwgate_replay_bucket_t);

#if (NGX_PTR_SIZE == 8)
    /* a 256 GiB zone: the bucket choice takes 32-bit halves */
    if ((uint64_t) ctx->sh->nbuckets > 0xffffffff) {
        ctx->sh->nbuckets = 0xffffffff;
        size = ctx->sh->nbuckets * sizeof(ngx_http_fwgate_replay_bucket_t);
    }
#endif

    /*
     * Not zeroed here: a new zone is a fresh anonymous mapping, so its
     * pages read as zero (an empty table); zeroing would make `nginx -t`
     * touch the whole zone.
     */

    ctx->sh->buckets = ngx_slab_alloc(ctx->shpool, size);
    if (ctx->sh->buckets == NULL) {
        return NGX_ERROR;
    }

    /*
     * Nonces land in random buckets, so a table left to fault in page by
     * page costs a page fault (a kernel page clear and a shmem
     * allocation, some microseconds) on a large share of requests until
     * every page has been touched: minutes at a high rate for a large
     * zone.  A server that is going to run commits the table's pages now,
     * once, in the master (MADV_POPULATE_WRITE, Linux 5.14); `nginx -t`
     * does not.  Without the advice the pages fault in as before.
     */

#if (NGX_LINUX)
    if (!ngx_test_config) {
        ngx_http_fwgate_replay_populate(shm_zone, (u_char *) ctx->sh->buckets,
                                        size);
    }
#endif

#if (NGX_DEBUG_MALLOC || NGX_HAVE_DEBUG_MALLOC)
    /* ngx_slab_init() and ngx_slab_alloc() may fill pages with junk */
    ngx_memzero(ctx->sh->buckets, size);
#endif

    ctx->shpool->log_nomem = 0;

    return NGX_OK;
}


/*
 * The two buckets of "keyid NUL nonce": NGX_DECLINED when the pair is too
 * long to be a key (limits upstream keep that impossible).
 */

/* the keyed digest of "keyid NUL nonce", never 0 (0 marks a free slot) */

static uint64_t
ngx_http_fwgate_replay_hash(ngx_http_fwgate_replay_ctx_t *ctx,
    ngx_str_t *keyid, ngx_str_t *nonce)
{
    u_char    *p;
    size_t     len;
    uint64_t   hash;
    u_char     key[NGX_HTTP_FWGATE_MAX_KEY];

    len = keyid->len + 1 + nonce->len;
    if (len > sizeof(key)) {
        /* too long to be a key (limits upstream keep that impossible) */
        return 0;
    }

    p = ngx_cpymem(key, keyid->data, keyid->len);
    *p++ = '\0';
    ngx_memcpy(p, nonce->data, nonce->len);

    hash = fwg_siphash24(ctx->sh->key, key, len);

    return hash ? hash : 1;
}


/*
 * A digest's two buckets, one from each half: a half times the bucket
 * count, shifted down 32 bits, is uniform over the buckets as the
 * remainder is, without two 64-bit divisions (tens of cycles each) on
 * every request.  The table has at most 2^32 buckets (init_zone).
 */

static void
ngx_http_fwgate_replay_buckets(ngx_http_fwgate_replay_ctx_t *ctx,
    uint64_t hash, ngx_uint_t *b)
{
    uint64_t  n;

    n = ctx->sh->nbuckets;

    b[0] = (ngx_uint_t) (((hash & 0xffffffff) * n) >> 32);
    b[1] = (ngx_uint_t) (((hash >> 32) * n) >> 32);

    if (b[1] == b[0]) {
        b[1] = (b[0] + 1 == n) ? 0 : b[0] + 1;
    }
}


/*
 * As soon as a request's keyid and nonce are parsed: its two buckets are
 * two random cache lines of a large zone, each usually a TLB miss as
 * well.  Asking for them now lets the loads overlap the signature's
 * verification, which comes between this and the check (step 7 before
 * step 8), instead of stalling the check.
 */

uint64_t
ngx_http_fwgate_replay_prefetch(ngx_http_fwgate_main_conf_t *fmcf,
    ngx_str_t *keyid, ngx_str_t *nonce)
{
    uint64_t                       hash;
    ngx_uint_t                     b[2];
    ngx_http_fwgate_replay_ctx_t  *ctx;

    if (fmcf->replay_zone == NULL) {
        return 0;
    }

    ctx = fmcf->replay_zone->data;

    hash = ngx_http_fwgate_replay_hash(ctx, keyid, nonce);
    if (hash == 0) {
        return 0;
    }

    ngx_http_fwgate_replay_buckets(ctx, hash, b);

    /*
     * Into every cache level (locality 3): the check comes a few
     * microseconds later, after the MAC, and a non-temporal prefetch
     * (locality 0) fills L1 only, whence the line can be gone by then.
     */

#if defined(__GNUC__)
    __builtin_prefetch(&ctx->sh->buckets[b[0]], 1, 3);
    __builtin_prefetch(&ctx->sh->buckets[b[1]], 1, 3);
#endif

    return hash;
}


/* the table's size in slots, for /status: an operator sizes by it */

ngx_uint_t
ngx_http_fwgate_replay_slots(ngx_http_fwgate_main_conf_t *fmcf)
{
    ngx_http_fwgate_replay_ctx_t  *ctx;

    if (fmcf->replay_zone == NULL) {
        return 0;
    }

    ctx = fmcf->replay_zone->data;

    return ctx->sh ? ctx->sh->nbuckets * NGX_HTTP_FWGATE_REPLAY_WAYS : 0;
}


/*
 * A bucket's lock.  The section it guards is a few loads and stores, so
 * a held lock is waited for by spinning, yielding the CPU now and then
 * (the holder may have been preempted).  A worker killed inside the
 * section (SIGKILL, the OOM killer) would hold it for ever: a waiter
 * that finds its holder gone takes it back.
 */

static void
ngx_http_fwgate_replay_lock(ngx_http_fwgate_replay_bucket_t *bk)
{
    ngx_uint_t         i, looks;
    ngx_atomic_uint_t  owner;

    for (looks = 1; /* void */; looks++) {

        if (bk->lock == 0 && ngx_atomic_cmp_set(&bk->lock, 0, ngx_pid)) {
            return;
        }

        if (ngx_ncpu > 1) {
            for (i = 0; i < NGX_HTTP_FWGATE_REPLAY_SPIN; i++) {
                ngx_cpu_pause();
            }
        }

        if (looks % NGX_HTTP_FWGATE_REPLAY_ALIVE == 0) {
            owner = bk->lock;

            if (owner != 0
                && kill((ngx_pid_t) owner, 0) == -1
                && ngx_errno == NGX_ESRCH)
            {
                (void) ngx_atomic_cmp_set(&bk->lock, owner, 0);
            }
        }

        /* one CPU: the holder runs only if this worker yields */

        if (ngx_ncpu == 1 || looks % NGX_HTTP_FWGATE_REPLAY_YIELD == 0) {
            ngx_sched_yield();
        }
    }
}


static ngx_inline void
ngx_http_fwgate_replay_unlock(ngx_http_fwgate_replay_bucket_t *bk)
{
    ngx_memory_barrier();
    bk->lock = 0;
}


ngx_int_t
ngx_http_fwgate_replay_check(ngx_http_fwgate_main_conf_t *fmcf,
    ngx_str_t *keyid, ngx_str_t *nonce, uint64_t hash, time_t expires_at,
    ngx_log_t *log)
{
    time_t                            now;
    uint32_t                          expires;
    ngx_uint_t                        i, j, b[2], nfree[2], first[2];
    ngx_http_fwgate_replay_ctx_t     *ctx;
    ngx_http_fwgate_replay_bucket_t  *bk[2], *lo, *hi;

    if (fmcf->replay_zone == NULL) {
        return FWG_REPLAY_NEW;
    }

    ctx = fmcf->replay_zone->data;

    if (hash == 0) {
        hash = ngx_http_fwgate_replay_hash(ctx, keyid, nonce);

        if (hash == 0) {
            /* refuse rather than skip */
            return FWG_REPLAY_SEEN;
        }
    }

    ngx_http_fwgate_replay_buckets(ctx, hash, b);

    bk[0] = &ctx->sh->buckets[b[0]];
    bk[1] = &ctx->sh->buckets[b[1]];

    /* b[0] != b[1] (replay_buckets): lower index first */

    lo = (b[0] < b[1]) ? bk[0] : bk[1];
    hi = (b[0] < b[1]) ? bk[1] : bk[0];

    expires = (expires_at <= 0) ? 0
              : ((uint64_t) expires_at > 0xffffffff) ? 0xffffffff
              : (uint32_t) expires_at;

    now = ngx_time();

    /*
     * The new digest goes into the bucket with more free slots: the "two
     * choices" that keep buckets even.  Taking the first free slot seen
     * filled the first bucket before the second and refused a few new
     * nonces (both buckets full) with the table under a fifth full:
     * make bench counted 12 in 2.9 million.  A lookup reads both buckets
     * either way, so tables filled by the older rule stay valid.
     */

    nfree[0] = 0;
    nfree[1] = 0;
    first[0] = NGX_HTTP_FWGATE_REPLAY_WAYS;
    first[1] = NGX_HTTP_FWGATE_REPLAY_WAYS;

    ngx_http_fwgate_replay_lock(lo);
    ngx_http_fwgate_replay_lock(hi);

    for (i = 0; i < 2; i++) {
        for (j = 0; j < NGX_HTTP_FWGATE_REPLAY_WAYS; j++) {

            if (bk[i]->hash[j] == 0 || (time_t) bk[i]->expires[j] <= now) {
                if (first[i] == NGX_HTTP_FWGATE_REPLAY_WAYS) {
                    first[i] = j;
                }

                nfree[i]++;
                continue;
            }

            if (bk[i]->hash[j] == hash) {
                ngx_http_fwgate_replay_unlock(hi);
                ngx_http_fwgate_replay_unlock(lo);
                (void) ngx_atomic_fetch_add(&fmcf->stats->replay_rejects, 1);
                return FWG_REPLAY_SEEN;
            }
        }
    }

    i = (nfree[1] > nfree[0]) ? 1 : 0;

    if (nfree[i] == 0) {
        ngx_http_fwgate_replay_unlock(hi);
        ngx_http_fwgate_replay_unlock(lo);

        (void) ngx_atomic_fetch_add(&fmcf->stats->replay_full, 1);

        if (ngx_http_fwgate_replay_warned != ngx_time()) {
            ngx_http_fwgate_replay_warned = ngx_time();
            ngx_log_error(NGX_LOG_WARN, log, 0,
                          "fwgate: replay zone full of unexpired nonces, "
                          "new nonces refused");
        }

        return FWG_REPLAY_FULL;
    }

    bk[i]->hash[first[i]] = hash;
    bk[i]->expires[first[i]] = expires;

    ngx_http_fwgate_replay_unlock(hi);
    ngx_http_fwgate_replay_unlock(lo);

    return FWG_REPLAY_NEW;
}
