
/*
 * fwgate: `fwgate_status`, the counters in Prometheus text format.
 *
 * Every worker adds to the same counters in the cache zone, so one answer
 * covers the node.  Names follow Prometheus conventions.
 */

#include "ngx_http_fwgate_module.h"


#define NGX_HTTP_FWGATE_STATUS_MAX  (24 * 1024)

#define NGX_HTTP_FWGATE_NCOUNTERS                                           \
    (sizeof(ngx_http_fwgate_stats_t) / sizeof(ngx_atomic_t))


/*
 * The counters every request moves (decisions, memo and cache hits,
 * Redis commands) are summed in the worker and added to the shared ones
 * once per pass of the event loop, by a posted event: with two workers
 * an atomic add to a cache line the other worker wrote last moves that
 * line between the CPUs, several times a request.  The pass that counts
 * also flushes, before nginx waits for events again, so /status lags a
 * decision by microseconds at most; a worker flushes its own first when
 * it answers /status.
 */

/* a pass moves a handful of counters: their indexes are listed */
#define NGX_HTTP_FWGATE_NDIRTY  16

static ngx_atomic_uint_t         ngx_http_fwgate_pending[
                                     NGX_HTTP_FWGATE_NCOUNTERS];
static ngx_uint_t                ngx_http_fwgate_dirty[NGX_HTTP_FWGATE_NDIRTY];
static ngx_uint_t                ngx_http_fwgate_ndirty;
static ngx_http_fwgate_stats_t  *ngx_http_fwgate_pending_to;
static ngx_event_t               ngx_http_fwgate_flush_ev;


static void
ngx_http_fwgate_flush_handler(ngx_event_t *ev)
{
    ngx_http_fwgate_count_flush();
}


void
ngx_http_fwgate_count_init_process(ngx_cycle_t *cycle,
    ngx_http_fwgate_stats_t *st)
{
    ngx_http_fwgate_pending_to = st;
    ngx_http_fwgate_ndirty = 0;

    ngx_http_fwgate_flush_ev.handler = ngx_http_fwgate_flush_handler;
    ngx_http_fwgate_flush_ev.log = cycle->log;
}


void
ngx_http_fwgate_count(ngx_http_fwgate_stats_t *st, ngx_atomic_t *field,
    ngx_atomic_int_t n)
{
    ngx_uint_t  i;

    if (st != ngx_http_fwgate_pending_to || st == NULL) {
        /* not a worker set up for it (or other stats): at once */
        (void) ngx_atomic_fetch_add(field, n);
        return;
    }

    if (n == 0) {
        return;
    }

    i = field - (ngx_atomic_t *) st;

    if (ngx_http_fwgate_pending[i] == 0) {
        if (ngx_http_fwgate_ndirty == NGX_HTTP_FWGATE_NDIRTY) {
            ngx_http_fwgate_count_flush();
        }

        ngx_http_fwgate_dirty[ngx_http_fwgate_ndirty++] = i;
    }

    ngx_http_fwgate_pending[i] += n;

    if (!ngx_http_fwgate_flush_ev.posted) {
        ngx_post_event(&ngx_http_fwgate_flush_ev, &ngx_posted_events);
    }
}


void
ngx_http_fwgate_count_flush(void)
{
    ngx_uint_t                i;
    ngx_atomic_t             *c;
    ngx_http_fwgate_stats_t  *st;

    st = ngx_http_fwgate_pending_to;

    if (st == NULL) {
        return;
    }

    if (ngx_http_fwgate_flush_ev.posted) {
        ngx_delete_posted_event(&ngx_http_fwgate_flush_ev);
    }

    c = (ngx_atomic_t *) st;

    while (ngx_http_fwgate_ndirty) {
        i = ngx_http_fwgate_dirty[--ngx_http_fwgate_ndirty];

        (void) ngx_atomic_fetch_add(&c[i], ngx_http_fwgate_pending[i]);
        ngx_http_fwgate_pending[i] = 0;
    }
}


static u_char *ngx_http_fwgate_status_counter(u_char *p, u_char *last,
    const char *name, const char *help, const char **status,
    ngx_atomic_t *values, ngx_uint_t n);


ngx_int_t
ngx_http_fwgate_status_handler(ngx_http_request_t *r)
{
    u_char                       *p, *last;
    size_t                        used, size;
    ngx_int_t                     rc;
    ngx_buf_t                    *b;
    ngx_uint_t                    i, a, role;
    ngx_msec_t                    staleness;
    ngx_http_fwgate_stats_t      *st;
    ngx_http_fwgate_main_conf_t  *fmcf;

    static ngx_msec_t  bounds[NGX_HTTP_FWGATE_LAT_BUCKETS] = {
        1, 2, 5, 10, 25, 50, 100, 250
    };

    static const char  *manifest[] = { "200", "204", "error" };
    static const char  *reports[] = { "success", "failure", "rejected",
                                      "deferred", "downloading",
                                      "installing" };
    static const char  *decision[] = { "deny", "allow", "dry_run_deny" };
    static const char  *roles[] = { "unknown", "primary", "replica",
                                    "cut_off_replica" };

    rc = ngx_http_fwgate_read_only(r);
    if (rc != NGX_OK) {
        return rc;
    }

    fmcf = ngx_http_get_module_main_conf(r, ngx_http_fwgate_module);
    st = fmcf->stats;

    /* this worker's own counts first */
    ngx_http_fwgate_count_flush();

    ngx_http_fwgate_cache_usage(fmcf, &used, &size);

    b = ngx_create_temp_buf(r->pool, NGX_HTTP_FWGATE_STATUS_MAX);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = b->pos;
    last = b->end;

    p = ngx_slprintf(p, last,
            "# HELP fwgate_requests_total Gate decisions by outcome.\n"
            "# TYPE fwgate_requests_total counter\n");

    for (a = 0; a < 3; a++) {
        for (i = 0; i < FWG_R__COUNT; i++) {
            if ((a == 1) != (i == FWG_R_OK)) {
                continue;
            }

            p = ngx_slprintf(p, last,
                    "fwgate_requests_total{decision=\"%s\",reason=\"%s\"} "
                    "%uA\n", decision[a],
                    fwg_reason_name((fwg_reason_t) i),
                    st->requests[a][i]);
        }
    }

    staleness = ngx_http_fwgate_cache_staleness(fmcf, &role);

    p = ngx_slprintf(p, last,
            "# HELP fwgate_registry_staleness_seconds Time since the epoch "
            "poll last confirmed the registry fresh.\n"
            "# TYPE fwgate_registry_staleness_seconds gauge\n"
            "fwgate_registry_staleness_seconds %M.%03M\n"
            "# HELP fwgate_registry_max_staleness_seconds "
            "fwgate_max_staleness (0: no bound).\n"
            "# TYPE fwgate_registry_max_staleness_seconds gauge\n"
            "fwgate_registry_max_staleness_seconds %M.%03M\n"
            "# HELP fwgate_registry_source What the epoch poll last read "
            "from: a primary, a linked replica, a cut-off replica.\n"
            "# TYPE fwgate_registry_source gauge\n",
            staleness / 1000, staleness % 1000,
            fmcf->max_staleness / 1000, fmcf->max_staleness % 1000);

    for (i = 0; i < 4; i++) {
        p = ngx_slprintf(p, last,
                         "fwgate_registry_source{role=\"%s\"} %ui\n",
                         roles[i], (ngx_uint_t) (role == i));
    }

    p = ngx_http_fwgate_status_counter(p, last, "fwgate_manifest_total",
                                       "Update check answers.", manifest,
                                       st->manifest, 3);

    p = ngx_http_fwgate_status_counter(p, last, "fwgate_reports_total",
                                       "Install reports received.", reports,
                                       st->reports, 6);

    p = ngx_slprintf(p, last,
            "# HELP fwgate_auto_halts_total Rollouts halted by thresholds.\n"
            "# TYPE fwgate_auto_halts_total counter\n"
            "fwgate_auto_halts_total %uA\n"
            "# HELP fwgate_redis_commands_total Redis commands sent.\n"
            "# TYPE fwgate_redis_commands_total counter\n"
            "fwgate_redis_commands_total %uA\n"
            "# HELP fwgate_redis_errors_total Redis errors and lost "
            "connections.\n"
            "# TYPE fwgate_redis_errors_total counter\n"
            "fwgate_redis_errors_total %uA\n"
            "# HELP fwgate_redis_timeouts_total Redis waits that timed "
            "out.\n"
            "# TYPE fwgate_redis_timeouts_total counter\n"
            "fwgate_redis_timeouts_total %uA\n"
            "# HELP fwgate_redis_connects_total Redis connection attempts.\n"
            "# TYPE fwgate_redis_connects_total counter\n"
            "fwgate_redis_connects_total %uA\n",
            st->halts, st->redis_commands, st->redis_errors,
            st->redis_timeouts, st->redis_connects);

    p = ngx_slprintf(p, last,
            "# HELP fwgate_redis_latency_seconds Redis round trip time.\n"
            "# TYPE fwgate_redis_latency_seconds histogram\n");

    a = 0;

    for (i = 0; i < NGX_HTTP_FWGATE_LAT_BUCKETS; i++) {
        a += st->redis_lat[i];
        p = ngx_slprintf(p, last,
                "fwgate_redis_latency_seconds_bucket{le=\"%.3f\"} %ui\n",
                (double) bounds[i] / 1000, a);
    }

    a += st->redis_lat[NGX_HTTP_FWGATE_LAT_BUCKETS];

    p = ngx_slprintf(p, last,
            "fwgate_redis_latency_seconds_bucket{le=\"+Inf\"} %ui\n"
            "fwgate_redis_latency_seconds_sum %.6f\n"
            "fwgate_redis_latency_seconds_count %ui\n",
            a, (double) st->redis_lat_sum_us / 1000000, a);

    p = ngx_slprintf(p, last,
            "# HELP fwgate_cache_hits_total Registry records found fresh in "
            "the cache.\n"
            "# TYPE fwgate_cache_hits_total counter\n"
            "fwgate_cache_hits_total %uA\n"
            "# HELP fwgate_cache_misses_total Registry records not fresh in "
            "the cache.\n"
            "# TYPE fwgate_cache_misses_total counter\n"
            "fwgate_cache_misses_total %uA\n"
            "# HELP fwgate_cache_stale_total Stale records used while Redis "
            "failed.\n"
            "# TYPE fwgate_cache_stale_total counter\n"
            "fwgate_cache_stale_total %uA\n"
            "# HELP fwgate_cache_evictions_total Records evicted from a full "
            "cache.\n"
            "# TYPE fwgate_cache_evictions_total counter\n"
            "fwgate_cache_evictions_total %uA\n"
            "# HELP fwgate_cache_entries Records (and download marks) held "
            "in the cache zone.\n"
            "# TYPE fwgate_cache_entries gauge\n"
            "fwgate_cache_entries %uA\n"
            "# HELP fwgate_cache_zone_used_bytes Bytes of the cache zone's "
            "pages in use.\n"
            "# TYPE fwgate_cache_zone_used_bytes gauge\n"
            "fwgate_cache_zone_used_bytes %uz\n"
            "# HELP fwgate_cache_zone_size_bytes Size of the cache zone.\n"
            "# TYPE fwgate_cache_zone_size_bytes gauge\n"
            "fwgate_cache_zone_size_bytes %uz\n"
            "# HELP fwgate_replay_rejects_total Replayed nonces refused.\n"
            "# TYPE fwgate_replay_rejects_total counter\n"
            "fwgate_replay_rejects_total %uA\n"
            "# HELP fwgate_replay_full_total New nonces refused because "
            "the zone was full of unexpired ones.\n"
            "# TYPE fwgate_replay_full_total counter\n"
            "fwgate_replay_full_total %uA\n"
            "# HELP fwgate_replay_slots Nonces the replay zone's table "
            "holds (0: no zone).\n"
            "# TYPE fwgate_replay_slots gauge\n"
            "fwgate_replay_slots %ui\n",
            st->cache_hits, st->cache_misses, st->cache_stale,
            st->cache_evictions, st->cache_entries, used, size,
            st->replay_rejects, st->replay_full,
            ngx_http_fwgate_replay_slots(fmcf));

    p = ngx_slprintf(p, last,
            "# HELP fwgate_memo_total The workers' decision memo: lookups "
            "that hit or missed, allows stored, live entries evicted.\n"
            "# TYPE fwgate_memo_total counter\n"
            "fwgate_memo_total{result=\"hit\"} %uA\n"
            "fwgate_memo_total{result=\"miss\"} %uA\n"
            "fwgate_memo_total{result=\"stored\"} %uA\n"
            "fwgate_memo_total{result=\"evicted\"} %uA\n",
            st->memo[NGX_HTTP_FWGATE_MEMO_HIT],
            st->memo[NGX_HTTP_FWGATE_MEMO_MISS],
            st->memo[NGX_HTTP_FWGATE_MEMO_STORED],
            st->memo[NGX_HTTP_FWGATE_MEMO_EVICTED]);

    p = ngx_slprintf(p, last,
            "# HELP fwgate_subscription_up Whether the node's invalidation "
            "subscription is up.\n"
            "# TYPE fwgate_subscription_up gauge\n"
            "fwgate_subscription_up %ui\n"
            "# HELP fwgate_subscription_messages_total Invalidation "
            "messages received.\n"
            "# TYPE fwgate_subscription_messages_total counter\n"
            "fwgate_subscription_messages_total %uA\n"
            "# HELP fwgate_subscription_last_message_seconds Unix time of "
            "the last invalidation message (0: none yet).\n"
            "# TYPE fwgate_subscription_last_message_seconds gauge\n"
            "fwgate_subscription_last_message_seconds %uA\n"
            "# HELP fwgate_invalidations_total Cache invalidations by what "
            "announced the change.\n"
            "# TYPE fwgate_invalidations_total counter\n"
            "fwgate_invalidations_total{source=\"push\"} %uA\n"
            "fwgate_invalidations_total{source=\"poll\"} %uA\n",
            ngx_http_fwgate_subscription_up(fmcf), st->sub_messages,
            st->sub_last, st->invalidations[NGX_HTTP_FWGATE_SUB_PUSH],
            st->invalidations[NGX_HTTP_FWGATE_SUB_POLL]);

    b->last = p;

    ngx_str_set(&r->headers_out.content_type,
                "text/plain; version=0.0.4; charset=utf-8");
    r->headers_out.content_type_len = sizeof("text/plain") - 1;

    return ngx_http_fwgate_send_ok(r, b);
}


/* a counter labelled by status: its HELP and TYPE, then a line a status */

static u_char *
ngx_http_fwgate_status_counter(u_char *p, u_char *last, const char *name,
    const char *help, const char **status, ngx_atomic_t *values,
    ngx_uint_t n)
{
    ngx_uint_t  i;

    p = ngx_slprintf(p, last, "# HELP %s %s\n# TYPE %s counter\n",
                     name, help, name);

    for (i = 0; i < n; i++) {
        p = ngx_slprintf(p, last, "%s{status=\"%s\"} %uA\n",
                         name, status[i], values[i]);
    }

    return p;
}
