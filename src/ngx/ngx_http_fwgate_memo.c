
/*
 * fwgate: a worker's memo of allowed download decisions.
 *
 * Steps 9-16 of a decision read only the registry and the request's
 * claims: the device's status and model, the artifact, the rollout and
 * its cohort sets.  Their answer changes only when the registry does, yet
 * a warm request paid for them every time: six record lookups and copies,
 * record decoding, SemVer parsing, the cohort digest, the release
 * signature's cached check.  The memo keeps an allow, keyed by everything
 * the decision read from the request and the location (device, claimed
 * model, hw and version, artifact, the URI and target as sent, the
 * location's configuration, token or signature), with
 *
 *   - the registry generation read before the records were looked up: a
 *     new epoch or a pushed message (which bump it) ends every entry at
 *     once, so an invalidated decision is never used again, like the
 *     records it came from (docs/many-edges.md);
 *   - the time the first of its records stops being fresh: an entry
 *     never outlives a record's ttl.
 *
 * Only decisions made wholly from fresh cached records, with no Redis
 * wait and no stale copy, are kept, and only allows: a refusal takes the
 * full path every time.  A hit still runs steps 1-8 for the request (its
 * signature, freshness, nonce) and everything after the decision
 * (admission, download record, headers, log, counters) as a full
 * decision does; the memo keeps what those read of the records.
 *
 * Storage, per worker: room for fwgate_decision_memo_size entries (the
 * capacity), with resident memory that grows with the entries in use,
 * not with the capacity:
 *
 *   - an entry pool of capacity entries of 384 bytes, handed out in
 *     order: a worker that has seen 1,000 devices has touched the pages
 *     of 1,000 entries, whatever the capacity;
 *   - an index of sets of NGX_HTTP_FWGATE_MEMO_WAYS ways, twice as many
 *     ways as entries (rounded up to a power of two), each way 8 bytes:
 *     the key's hash and its entry's number.  A set is 64 bytes aligned
 *     (one cache line read), its hashes compared before any entry is
 *     read; twice the ways keeps a full set rare while the pool lasts
 *     (100,000 keys cycling through the default 131,072 entries: about
 *     99.6 % hits with 8 ways, against 97 % with 4).
 *
 * Both come from calloc() at the first entry kept.  A key goes into the
 * set its hash names: into the way already holding it; else a way whose
 * entry is stale (another generation, or past its time), reusing the
 * entry, so that a fleet coming back after an epoch change or a ttl
 * takes no new memory; else a way with no entry, taking the pool's next
 * one; else, in a set of live entries, one way in turn gives its entry
 * up.  Once the pool is spent, a key whose set has a free way but no
 * entry takes one from anywhere: a clock hand goes round the pool,
 * passing over a few entries hit since it last came, and takes the
 * entry from the way that held it.  So a fleet larger than the memo is
 * still memoized, its latest devices first, in memory that stays put.
 * An entry too large is not kept.
 */

#include "ngx_http_fwgate_module.h"

#if (NGX_LINUX)
#include <sys/mman.h>
#endif


#define NGX_HTTP_FWGATE_MEMO_WAYS   8           /* a set: 64 bytes */
#define NGX_HTTP_FWGATE_MEMO_DATA   344
#define NGX_HTTP_FWGATE_MEMO_SKIP   8           /* the clock's passes */


typedef struct {
    uint32_t            hash;
    uint32_t            entry;      /* the pool's index + 1; 0: none */
} ngx_http_fwgate_memo_way_t;


typedef struct {
    uint32_t            hash;
    uint32_t            way;        /* the index's way that links it */
    u_short             klen;       /* 0: holds nothing */
    u_short             vlen;
    uint32_t            bucket;
    uint32_t            ref;        /* hit since the clock last came */
    uint32_t            recorded;   /* the download record is sent */
    ngx_uint_t          generation;
    ngx_msec_t          until;
    u_char              data[NGX_HTTP_FWGATE_MEMO_DATA];
} ngx_http_fwgate_memo_t;


typedef struct {
    void                        *block;     /* the index's, to free */
    ngx_http_fwgate_memo_way_t  *index;     /* its sets, aligned */
    ngx_http_fwgate_memo_t      *pool;
    ngx_uint_t                   mask;      /* sets - 1 */
    ngx_uint_t                   capacity;
    ngx_uint_t                   next_free; /* the pool's first unused */
    ngx_uint_t                   hand;      /* the clock's, in the pool */
    ngx_uint_t                   turn;      /* a full set's way to give */
    ngx_uint_t                   failed;    /* no memory: not again */
} ngx_http_fwgate_memo_store_t;


static ngx_http_fwgate_memo_store_t  ngx_http_fwgate_memo;


/* a field as its length (2 bytes) and bytes: no two keys read the same */

static u_char *
ngx_http_fwgate_memo_field(u_char *p, u_char *end, const void *data,
    size_t len)
{
    if (p == NULL || len > 65535 || (size_t) (end - p) < 2 + len) {
        return NULL;
    }

    *p++ = (u_char) (len >> 8);
    *p++ = (u_char) len;

    return ngx_cpymem(p, data, len);
}


static size_t
ngx_http_fwgate_memo_key(ngx_http_request_t *r, ngx_http_fwgate_ctx_t *ctx,
    ngx_http_fwgate_loc_conf_t *lcf, u_char *buf, size_t size)
{
    u_char  *p, *end;

    p = buf;
    end = buf + size;

    p = ngx_http_fwgate_memo_field(p, end, &lcf, sizeof(lcf));
    p = ngx_http_fwgate_memo_field(p, end, ctx->token ? "t" : "s", 1);
    p = ngx_http_fwgate_memo_field(p, end, ctx->claims.device.data,
                                   ctx->claims.device.len);
    p = ngx_http_fwgate_memo_field(p, end, ctx->claims.model.data,
                                   ctx->claims.model.len);
    p = ngx_http_fwgate_memo_field(p, end, ctx->claims.hw.data,
                                   ctx->claims.hw.len);
    p = ngx_http_fwgate_memo_field(p, end, ctx->claims.version_str.data,
                                   ctx->claims.version_str.len);
    p = ngx_http_fwgate_memo_field(p, end, ctx->artifact.data,
                                   ctx->artifact.len);
    p = ngx_http_fwgate_memo_field(p, end, r->uri.data, r->uri.len);
    p = ngx_http_fwgate_memo_field(p, end, ctx->msg.path.data,
                                   ctx->msg.path.len);

    return p ? (size_t) (p - buf) : 0;
}


/* an entry that no lookup can take any more: it may be reused */

static ngx_inline ngx_uint_t
ngx_http_fwgate_memo_stale(ngx_http_fwgate_memo_t *m, ngx_uint_t generation)
{
    return m->klen == 0
           || m->generation != generation
           || (ngx_msec_int_t) (m->until - ngx_current_msec) <= 0;
}


#if (NGX_LINUX && defined MADV_HUGEPAGE)

static void
ngx_http_fwgate_memo_huge(void *p, size_t size)
{
    u_char  *start, *end;

    /* madvise() wants whole pages; a block under 2 MiB gains nothing */

    if (size < 2 * 1024 * 1024) {
        return;
    }

    start = ngx_align_ptr(p, ngx_pagesize);
    end = (u_char *) p + size;

    if (madvise(start, (end - start) & ~(ngx_pagesize - 1), MADV_HUGEPAGE)
        == -1)
    {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, ngx_errno,
                       "fwgate: memo not advised to huge pages");
    }
}

#endif


static ngx_int_t
ngx_http_fwgate_memo_alloc(ngx_http_fwgate_main_conf_t *fmcf)
{
    size_t                         nways;
    ngx_http_fwgate_memo_store_t  *s;

    s = &ngx_http_fwgate_memo;

    if (s->failed) {
        return NGX_ERROR;
    }

    nways = NGX_HTTP_FWGATE_MEMO_WAYS;

    while (nways < 2 * (size_t) fmcf->memo_size) {
        nways <<= 1;
    }

    /*
     * calloc(), not ngx_calloc(): a block this large is a fresh mapping
     * that reads as zero, and ngx_calloc()'s memset would commit all of
     * it at once; this way only the pages used are.  The index has a
     * set more, to align its sets: none then straddles two cache lines.
     */

    s->block = calloc(nways + NGX_HTTP_FWGATE_MEMO_WAYS,
                      sizeof(ngx_http_fwgate_memo_way_t));
    s->pool = calloc(fmcf->memo_size, sizeof(ngx_http_fwgate_memo_t));

    if (s->block == NULL || s->pool == NULL) {
        ngx_log_error(NGX_LOG_ALERT, ngx_cycle->log, ngx_errno,
                      "fwgate: no memory for the decision memo of %i "
                      "entries", fmcf->memo_size);
        free(s->block);
        free(s->pool);
        s->block = NULL;
        s->pool = NULL;
        s->failed = 1;
        return NGX_ERROR;
    }

    s->index = (ngx_http_fwgate_memo_way_t *)
                   ngx_align_ptr(s->block, NGX_HTTP_FWGATE_MEMO_WAYS
                                       * sizeof(ngx_http_fwgate_memo_way_t));

#if (NGX_LINUX && defined MADV_HUGEPAGE)
    /*
     * A large fleet's lookups land on random sets and entries of tens of
     * megabytes: with 4 KiB pages each is a TLB miss, and a page walk in
     * a virtual machine costs about as much as the rest of a memo hit.
     * Transparent huge pages where the system allows them on advice
     * (the default, "madvise"); pages are still committed as used, 2 MiB
     * at a time.
     */
    ngx_http_fwgate_memo_huge(s->block, (nways + NGX_HTTP_FWGATE_MEMO_WAYS)
                                        * sizeof(ngx_http_fwgate_memo_way_t));
    ngx_http_fwgate_memo_huge(s->pool, fmcf->memo_size
                                       * sizeof(ngx_http_fwgate_memo_t));
#endif

    s->mask = nways / NGX_HTTP_FWGATE_MEMO_WAYS - 1;
    s->capacity = fmcf->memo_size;

    return NGX_OK;
}


/* the first way of the set a hash names */

static ngx_inline ngx_http_fwgate_memo_way_t *
ngx_http_fwgate_memo_set(uint32_t hash)
{
    return &ngx_http_fwgate_memo.index[(hash & ngx_http_fwgate_memo.mask)
                                       * NGX_HTTP_FWGATE_MEMO_WAYS];
}


/*
 * The pool is spent and a set has a free way but no entry to reuse: the
 * clock hand takes one from anywhere, a stale one or one not hit since
 * the hand last came (passing over at most NGX_HTTP_FWGATE_MEMO_SKIP
 * that were, so that a put costs a bounded time), and unlinks it from
 * its way.  *live: it held another key still valid.
 */

static ngx_http_fwgate_memo_t *
ngx_http_fwgate_memo_victim(ngx_uint_t generation, ngx_uint_t *live)
{
    ngx_uint_t                     n;
    ngx_http_fwgate_memo_t        *m;
    ngx_http_fwgate_memo_store_t  *s;

    s = &ngx_http_fwgate_memo;

    for (n = 0; /* void */; n++) {
        m = &s->pool[s->hand];

        if (++s->hand == s->capacity) {
            s->hand = 0;
        }

        if (ngx_http_fwgate_memo_stale(m, generation)) {
            *live = 0;
            break;
        }

        if (!m->ref || n == NGX_HTTP_FWGATE_MEMO_SKIP) {
            *live = 1;
            break;
        }

        m->ref = 0;
    }

    s->index[m->way].entry = 0;

    return m;
}


/*
 * The model's halt record (rollout:<model>:halt, written by the automatic
 * halts) is one cache entry shared by every device of the model; absent,
 * it is cached for negative_ttl only (5 s by default).  Were it to bound
 * each entry's time, a fleet's entries would all end every few seconds;
 * instead an entry's time leaves it out (fetch.c) and a hit reads it from
 * the cache here: NGX_OK only when it is fresh and absent, as the full
 * decision requires.  Otherwise the full path runs and fetches it.
 */

static ngx_int_t
ngx_http_fwgate_memo_unhalted(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx, ngx_http_fwgate_main_conf_t *fmcf)
{
    ngx_str_t   model, key, value;
    ngx_msec_t  until;

    model.data = (u_char *) ctx->claims.model.data;
    model.len = ctx->claims.model.len;

    if (ngx_http_fwgate_registry_key(r, &key, "rollout:", &model, NULL,
                                     ":halt")
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_fwgate_cache_get(fmcf, &key, r->pool, &value, &until)
        != NGX_HTTP_FWGATE_CACHE_FRESH)
    {
        return NGX_DECLINED;
    }

    return value.len == 0 ? NGX_OK : NGX_DECLINED;
}


/*
 * Before the records are looked up: the generation they must belong to,
 * and a hit when the memo holds this decision.  NGX_OK: ctx holds the
 * records' fields the rest of the request reads, and the verdict of
 * steps 9-16; the caller runs steps 6-8.
 */

ngx_int_t
ngx_http_fwgate_memo_get(ngx_http_request_t *r, ngx_http_fwgate_ctx_t *ctx,
    ngx_http_fwgate_loc_conf_t *lcf)
{
    u_char                       *p, *v;
    size_t                        klen;
    uint32_t                      hash;
    ngx_uint_t                    i;
    fwg_str_t                    *out[8];
    ngx_http_fwgate_memo_t       *m;
    ngx_http_fwgate_memo_way_t   *w;
    ngx_http_fwgate_main_conf_t  *fmcf;
    u_char                        key[NGX_HTTP_FWGATE_MEMO_DATA];

    fmcf = ngx_http_get_module_main_conf(r, ngx_http_fwgate_module);

    if (ctx->memo_started) {
        /* back after a wait: what it read was fetched, not memoizable */
        ctx->memo_off = 1;
        return NGX_DECLINED;
    }

    ctx->memo_started = 1;
    ctx->memo_generation = ngx_http_fwgate_cache_generation(fmcf);

    if (fmcf->cache_zone == NULL || !lcf->memo) {
        ctx->memo_off = 1;
        return NGX_DECLINED;
    }

    klen = ngx_http_fwgate_memo_key(r, ctx, lcf, key, sizeof(key));
    if (klen == 0) {
        ctx->memo_off = 1;
        return NGX_DECLINED;
    }

    if (ngx_http_fwgate_memo.pool == NULL) {
        goto miss;
    }

    hash = fwg_table_hash(key, klen);
    w = ngx_http_fwgate_memo_set(hash);
    m = NULL;

    for (i = 0; i < NGX_HTTP_FWGATE_MEMO_WAYS; i++) {

        if (w[i].hash != hash || w[i].entry == 0) {
            continue;
        }

        m = &ngx_http_fwgate_memo.pool[w[i].entry - 1];

        if (m->klen == klen
            && m->hash == hash
            && ngx_memcmp(m->data, key, klen) == 0)
        {
            break;
        }

        m = NULL;
    }

    if (m == NULL || ngx_http_fwgate_memo_stale(m, ctx->memo_generation)
        || ngx_http_fwgate_memo_unhalted(r, ctx, fmcf) != NGX_OK)
    {
        goto miss;
    }

    ctx->memo_entry = (uint32_t) (m - ngx_http_fwgate_memo.pool) + 1;
    ctx->memo_hash = hash;

    /* the values outlive the entry: the log phase reads them */

    v = ngx_pnalloc(r->pool, m->vlen);
    if (v == NULL) {
        return NGX_DECLINED;
    }

    ngx_memcpy(v, m->data + klen, m->vlen);

    out[0] = &ctx->device_rec.alg;
    out[1] = &ctx->device_rec.key;
    out[2] = &ctx->artifact_rec.version;
    out[3] = &ctx->artifact_rec.sha256;
    out[4] = &ctx->artifact_rec.path;
    out[5] = &ctx->rollout_rec.max_starts;
    out[6] = &ctx->rollout_rec.max_in_flight;
    out[7] = &ctx->rollout_rec.in_flight_expiry;

    p = v;

    for (i = 0; i < 8; i++) {
        out[i]->len = (p[0] << 8) | p[1];
        out[i]->data = (const char *) p + 2;
        p += 2 + out[i]->len;
    }

    /* an hmac key's chaining values (memo_put): verified with directly */

    if (((p[0] << 8) | p[1]) == sizeof(ctx->memo_states)) {
        ngx_memcpy(ctx->memo_states, p + 2, sizeof(ctx->memo_states));
        ngx_explicit_memzero(p + 2, sizeof(ctx->memo_states));
        ctx->memo_has_states = 1;
    }

    /* what an allow proved of the records (steps 9-13) */

    ctx->device_rec.found = 1;
    ctx->device_rec.model = ctx->claims.model;
    ctx->device_rec.hw = ctx->claims.hw;
    ctx->device_rec.status.data = "active";
    ctx->device_rec.status.len = 6;
    ctx->artifact_rec.found = 1;
    ctx->rollout_rec.found = 1;
    ctx->rollout_rec.artifact.data = (const char *) ctx->artifact.data;
    ctx->rollout_rec.artifact.len = ctx->artifact.len;

    ngx_memzero(&ctx->verdict, sizeof(fwg_verdict_t));
    ctx->verdict.bucket = m->bucket;
    ctx->verdict.has_bucket = 1;
    ctx->verdict.target_version = ctx->artifact_rec.version;

    /* spared by the clock hand once: this device is downloading */
    m->ref = 1;

    ngx_http_fwgate_count(fmcf->stats,
                          &fmcf->stats->memo[NGX_HTTP_FWGATE_MEMO_HIT], 1);

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "fwgate: decision memo hit");

    return NGX_OK;

miss:

    ngx_http_fwgate_count(fmcf->stats,
                          &fmcf->stats->memo[NGX_HTTP_FWGATE_MEMO_MISS], 1);

    return NGX_DECLINED;
}


/* after a full decision: keep an allow made from fresh records only */

void
ngx_http_fwgate_memo_put(ngx_http_request_t *r, ngx_http_fwgate_ctx_t *ctx,
    ngx_http_fwgate_loc_conf_t *lcf)
{
    u_char                        *p, *end;
    size_t                         klen, len;
    uint32_t                       hash;
    ngx_uint_t                     i, empty, stale, live;
    ngx_http_fwgate_memo_t        *m;
    ngx_http_fwgate_memo_way_t    *w;
    ngx_http_fwgate_main_conf_t   *fmcf;
    ngx_http_fwgate_memo_store_t  *s;
    size_t                         nstates;
    fwg_str_t                      keyrec;
    const fwg_key_t               *key;
    uint32_t                       states[FWG_HMAC_STATES];
    u_char                         buf[NGX_HTTP_FWGATE_MEMO_DATA];

    if (ctx->reason != FWG_R_OK || ctx->memo_off || !ctx->memo_started
        || ctx->memo_fresh < NGX_HTTP_FWGATE_NSLOTS
        || !ctx->verdict.has_bucket || !lcf->memo)
    {
        return;
    }

    fmcf = ngx_http_get_module_main_conf(r, ngx_http_fwgate_module);

    /* the registry changed while it was decided: keep nothing */

    if (ctx->memo_generation != ngx_http_fwgate_cache_generation(fmcf)
        || (ngx_msec_int_t) (ctx->memo_until - ngx_current_msec) <= 0)
    {
        return;
    }

    s = &ngx_http_fwgate_memo;

    if (s->pool == NULL && ngx_http_fwgate_memo_alloc(fmcf) != NGX_OK) {
        return;
    }

    /* the key and the values first: nothing is evicted for what won't fit */

    klen = ngx_http_fwgate_memo_key(r, ctx, lcf, buf, sizeof(buf));
    if (klen == 0) {
        return;
    }

    p = buf + klen;
    end = buf + sizeof(buf);

    /*
     * An hmac key is kept as its two chaining values (64 bytes) instead
     * of the secret's record: a hit then verifies with them directly,
     * with no lookup in the worker's key table (for a large fleet, two
     * more dependent cache misses and a base64 decode per request).
     */

    keyrec = ctx->device_rec.key;
    nstates = 0;
    key = ngx_http_fwgate_key_get(ctx->device_rec.alg, ctx->device_rec.key);

    if (key && fwg_key_hmac_states(key, states) == 0) {
        keyrec.data = "";
        keyrec.len = 0;
        nstates = sizeof(states);
    }

    p = ngx_http_fwgate_memo_field(p, end, ctx->device_rec.alg.data,
                                   ctx->device_rec.alg.len);
    p = ngx_http_fwgate_memo_field(p, end, keyrec.data, keyrec.len);
    p = ngx_http_fwgate_memo_field(p, end, ctx->artifact_rec.version.data,
                                   ctx->artifact_rec.version.len);
    p = ngx_http_fwgate_memo_field(p, end, ctx->artifact_rec.sha256.data,
                                   ctx->artifact_rec.sha256.len);
    p = ngx_http_fwgate_memo_field(p, end, ctx->artifact_rec.path.data,
                                   ctx->artifact_rec.path.len);

    /* the rollout's admission limits: a hit is admitted as a decision is */

    p = ngx_http_fwgate_memo_field(p, end, ctx->rollout_rec.max_starts.data,
                                   ctx->rollout_rec.max_starts.len);
    p = ngx_http_fwgate_memo_field(p, end,
                                   ctx->rollout_rec.max_in_flight.data,
                                   ctx->rollout_rec.max_in_flight.len);
    p = ngx_http_fwgate_memo_field(p, end,
                                   ctx->rollout_rec.in_flight_expiry.data,
                                   ctx->rollout_rec.in_flight_expiry.len);
    p = ngx_http_fwgate_memo_field(p, end, states, nstates);

    ngx_explicit_memzero(states, sizeof(states));

    if (p == NULL) {
        return;
    }

    len = p - buf;

    /* the way for it: its own, a stale one, a free one, or one evicted */

    hash = fwg_table_hash(buf, klen);
    w = ngx_http_fwgate_memo_set(hash);

    empty = NGX_HTTP_FWGATE_MEMO_WAYS;
    stale = NGX_HTTP_FWGATE_MEMO_WAYS;
    live = 0;
    m = NULL;

    for (i = 0; i < NGX_HTTP_FWGATE_MEMO_WAYS; i++) {

        if (w[i].entry == 0) {
            if (empty == NGX_HTTP_FWGATE_MEMO_WAYS) {
                empty = i;
            }

            continue;
        }

        m = &s->pool[w[i].entry - 1];

        if (w[i].hash == hash
            && m->klen == klen
            && m->hash == hash
            && ngx_memcmp(m->data, buf, klen) == 0)
        {
            break;
        }

        if (stale == NGX_HTTP_FWGATE_MEMO_WAYS
            && ngx_http_fwgate_memo_stale(m, ctx->memo_generation))
        {
            stale = i;
        }

        m = NULL;
    }

    if (m) {
        /* this key's own entry, renewed */

    } else if (stale != NGX_HTTP_FWGATE_MEMO_WAYS) {
        /* no new memory while a stale entry is at hand */
        i = stale;
        m = &s->pool[w[i].entry - 1];

    } else if (empty != NGX_HTTP_FWGATE_MEMO_WAYS) {
        i = empty;

        if (s->next_free < s->capacity) {
            m = &s->pool[s->next_free++];

        } else {
            m = ngx_http_fwgate_memo_victim(ctx->memo_generation, &live);
        }

        m->way = (uint32_t) (w + i - s->index);
        w[i].entry = (uint32_t) (m - s->pool) + 1;

    } else {
        /* a set of live entries: each gives way in turn, not always one */
        i = s->turn++ % NGX_HTTP_FWGATE_MEMO_WAYS;
        m = &s->pool[w[i].entry - 1];
        live = 1;
    }

    /* cleared first: an entry half written must not match */

    m->klen = 0;
    w[i].hash = hash;

    ngx_memcpy(m->data, buf, len);

    m->hash = hash;
    m->vlen = (u_short) (len - klen);
    m->generation = ctx->memo_generation;
    m->until = ctx->memo_until;
    m->bucket = ctx->verdict.bucket;
    m->ref = 0;
    m->recorded = 0;
    m->klen = (u_short) klen;

    ctx->memo_entry = (uint32_t) (m - s->pool) + 1;
    ctx->memo_hash = hash;

    (void) ngx_atomic_fetch_add(
                        &fmcf->stats->memo[NGX_HTTP_FWGATE_MEMO_STORED], 1);

    if (live) {
        (void) ngx_atomic_fetch_add(
                        &fmcf->stats->memo[NGX_HTTP_FWGATE_MEMO_EVICTED], 1);
    }
}


/*
 * Whether the download record of the request's memo entry was sent (or
 * found marked): a hit then skips building the mark's key and looking it
 * up.  The flag lives as the entry does, no longer than the first of its
 * records' ttl and within one registry generation, which a mark outlives
 * (cache.c: a mark lives the ttl, at least 60 s).  The entry is checked
 * to still be the request's own: another key may have taken it since.
 */

static ngx_http_fwgate_memo_t *
ngx_http_fwgate_memo_entry(ngx_http_fwgate_ctx_t *ctx)
{
    ngx_http_fwgate_memo_t  *m;

    if (ctx->memo_entry == 0 || ngx_http_fwgate_memo.pool == NULL
        || ctx->memo_entry > ngx_http_fwgate_memo.capacity)
    {
        return NULL;
    }

    m = &ngx_http_fwgate_memo.pool[ctx->memo_entry - 1];

    if (m->klen == 0 || m->hash != ctx->memo_hash
        || ngx_http_fwgate_memo_stale(m, ctx->memo_generation))
    {
        return NULL;
    }

    return m;
}


ngx_uint_t
ngx_http_fwgate_memo_recorded(ngx_http_fwgate_ctx_t *ctx)
{
    ngx_http_fwgate_memo_t  *m;

    m = ngx_http_fwgate_memo_entry(ctx);

    return m != NULL && m->recorded;
}


void
ngx_http_fwgate_memo_set_recorded(ngx_http_fwgate_ctx_t *ctx)
{
    ngx_http_fwgate_memo_t  *m;

    m = ngx_http_fwgate_memo_entry(ctx);

    if (m) {
        m->recorded = 1;
    }
}


void
ngx_http_fwgate_memo_exit_process(void)
{
    ngx_http_fwgate_memo_store_t  *s;

    s = &ngx_http_fwgate_memo;

    free(s->block);
    free(s->pool);

    ngx_memzero(s, sizeof(ngx_http_fwgate_memo_store_t));
}
