
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
 * A direct-mapped table of NGX_HTTP_FWGATE_MEMO_SIZE slots of 384 bytes
 * per worker (24 MiB of address space, committed as slots fill); a
 * collision replaces the older entry; an entry too large is not kept.
 */

#include "ngx_http_fwgate_module.h"


#define NGX_HTTP_FWGATE_MEMO_SIZE   65536       /* a power of two */
#define NGX_HTTP_FWGATE_MEMO_DATA   344


typedef struct {
    uint32_t            hash;
    u_short             klen;
    u_short             vlen;
    ngx_uint_t          generation;
    ngx_msec_t          until;
    uint32_t            bucket;
    u_char              data[NGX_HTTP_FWGATE_MEMO_DATA];
} ngx_http_fwgate_memo_t;


static ngx_http_fwgate_memo_t  *ngx_http_fwgate_memo;


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

    if (ngx_http_fwgate_memo == NULL) {
        return NGX_DECLINED;
    }

    klen = ngx_http_fwgate_memo_key(r, ctx, lcf, key, sizeof(key));
    if (klen == 0) {
        ctx->memo_off = 1;
        return NGX_DECLINED;
    }

    hash = ngx_murmur_hash2(key, klen);
    m = &ngx_http_fwgate_memo[hash & (NGX_HTTP_FWGATE_MEMO_SIZE - 1)];

    if (m->klen != klen
        || m->hash != hash
        || m->generation != ctx->memo_generation
        || (ngx_msec_int_t) (m->until - ngx_current_msec) <= 0
        || ngx_memcmp(m->data, key, klen) != 0)
    {
        return NGX_DECLINED;
    }

    /* the values outlive the slot: the log phase reads them */

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

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "fwgate: decision memo hit");

    return NGX_OK;
}


/* after a full decision: keep an allow made from fresh records only */

void
ngx_http_fwgate_memo_put(ngx_http_request_t *r, ngx_http_fwgate_ctx_t *ctx,
    ngx_http_fwgate_loc_conf_t *lcf)
{
    u_char                       *p, *end;
    size_t                        klen;
    uint32_t                      hash;
    ngx_http_fwgate_memo_t       *m;
    ngx_http_fwgate_main_conf_t  *fmcf;

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

    if (ngx_http_fwgate_memo == NULL) {
        /*
         * calloc(), not ngx_calloc(): a block this large is a fresh
         * mapping that reads as zero, and ngx_calloc()'s memset would
         * commit all of it at once; this way only the slots used are.
         */

        ngx_http_fwgate_memo = calloc(NGX_HTTP_FWGATE_MEMO_SIZE,
                                      sizeof(ngx_http_fwgate_memo_t));
        if (ngx_http_fwgate_memo == NULL) {
            ngx_log_error(NGX_LOG_ALERT, ngx_cycle->log, ngx_errno,
                          "fwgate: no memory for the decision memo");
            return;
        }
    }

    {
        u_char  key[NGX_HTTP_FWGATE_MEMO_DATA];

        klen = ngx_http_fwgate_memo_key(r, ctx, lcf, key, sizeof(key));
        if (klen == 0) {
            return;
        }

        hash = ngx_murmur_hash2(key, klen);
        m = &ngx_http_fwgate_memo[hash & (NGX_HTTP_FWGATE_MEMO_SIZE - 1)];

        /* cleared first: a slot half written must not match */

        m->klen = 0;
        ngx_memcpy(m->data, key, klen);
    }

    p = m->data + klen;
    end = m->data + NGX_HTTP_FWGATE_MEMO_DATA;

    p = ngx_http_fwgate_memo_field(p, end, ctx->device_rec.alg.data,
                                   ctx->device_rec.alg.len);
    p = ngx_http_fwgate_memo_field(p, end, ctx->device_rec.key.data,
                                   ctx->device_rec.key.len);
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

    if (p == NULL) {
        return;
    }

    m->hash = hash;
    m->vlen = (u_short) (p - (m->data + klen));
    m->generation = ctx->memo_generation;
    m->until = ctx->memo_until;
    m->bucket = ctx->verdict.bucket;
    m->klen = (u_short) klen;
}


void
ngx_http_fwgate_memo_exit_process(void)
{
    if (ngx_http_fwgate_memo) {
        free(ngx_http_fwgate_memo);
        ngx_http_fwgate_memo = NULL;
    }
}
