
/*
 * fwgate nginx module: shared declarations between its source files.
 */

#ifndef _NGX_HTTP_FWGATE_MODULE_H_INCLUDED_
#define _NGX_HTTP_FWGATE_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/hiredis.h>
#include <hiredis/async.h>

#include "fwg_types.h"
#include "fwg_sig.h"
#include "fwg_decide.h"
#include "fwg_record.h"
#include "fwg_release.h"
#include "fwg_token.h"


/* the registry records one decision needs, one Redis command each */
#define NGX_HTTP_FWGATE_SLOT_DEVICE    0
#define NGX_HTTP_FWGATE_SLOT_ARTIFACT  1
#define NGX_HTTP_FWGATE_SLOT_ROLLOUT   2
#define NGX_HTTP_FWGATE_SLOT_CANARY    3
#define NGX_HTTP_FWGATE_SLOT_EXCLUDE   4
#define NGX_HTTP_FWGATE_SLOT_HALT      5    /* rollout:<model>:halt */
#define NGX_HTTP_FWGATE_NSLOTS         6

#define NGX_HTTP_FWGATE_KIND_HASH      0    /* HGETALL */
#define NGX_HTTP_FWGATE_KIND_MEMBER    1    /* SISMEMBER */

#define NGX_HTTP_FWGATE_MAX_KEY        512


typedef struct {
    ngx_str_t                   name;       /* for logs: "127.0.0.1:6379" */
    ngx_str_t                   host;       /* NUL-terminated IP or path */
    ngx_int_t                   port;       /* 0: unix socket */
} ngx_http_fwgate_server_t;


/* Redis latency histogram buckets, milliseconds */
#define NGX_HTTP_FWGATE_LAT_BUCKETS    8


/* counters kept in the cache zone, summed over all workers */
typedef struct {
    ngx_atomic_t                requests[3][FWG_R__COUNT]; /* deny, allow,
                                                          dry-run deny */
    ngx_atomic_t                manifest[3];      /* 200, 204, error */
    ngx_atomic_t                reports[6];       /* success, failure, bad,
                                                     deferred, downloading,
                                                     installing */
    ngx_atomic_t                halts;
    ngx_atomic_t                redis_commands;
    ngx_atomic_t                redis_errors;
    ngx_atomic_t                redis_timeouts;
    ngx_atomic_t                redis_connects;
    ngx_atomic_t                redis_lat[NGX_HTTP_FWGATE_LAT_BUCKETS + 1];
    ngx_atomic_t                redis_lat_sum_us;
    ngx_atomic_t                cache_hits;
    ngx_atomic_t                cache_misses;
    ngx_atomic_t                cache_stale;
    ngx_atomic_t                cache_evictions;
    ngx_atomic_t                cache_entries;    /* gauge */
    ngx_atomic_t                replay_rejects;
    ngx_atomic_t                replay_full;      /* nonces refused */
    ngx_atomic_t                memo[4];          /* the decision memo's:
                                                     hit, miss, stored,
                                                     evicted */
    ngx_atomic_t                invalidations[2]; /* push, poll */
    ngx_atomic_t                sub_messages;
    ngx_atomic_t                sub_last;         /* unix time, last msg */
    ngx_atomic_t                sub_up;           /* holder's state */
    ngx_atomic_t                sub_pid;          /* the lease's holder */
    ngx_atomic_t                sub_beat;         /* its last renewal, ms */
    ngx_atomic_t                phase_last;       /* unix time, phase poll */
} ngx_http_fwgate_stats_t;


/* the decision memo's counters (memo.c), fwgate_memo_total{result=} */
#define NGX_HTTP_FWGATE_MEMO_HIT       0
#define NGX_HTTP_FWGATE_MEMO_MISS      1
#define NGX_HTTP_FWGATE_MEMO_STORED    2
#define NGX_HTTP_FWGATE_MEMO_EVICTED   3    /* a live entry replaced */


/* fwgate_redis read=: where a Sentinel-discovered worker reads */
#define NGX_HTTP_FWGATE_READ_PRIMARY   0
#define NGX_HTTP_FWGATE_READ_REPLICA   1


typedef struct {
    ngx_array_t                 servers;    /* ngx_http_fwgate_server_t */
    ngx_array_t                 sentinels;  /* ngx_http_fwgate_server_t */
    ngx_str_t                   master;     /* Sentinel's master name */
    ngx_uint_t                  read;       /* NGX_HTTP_FWGATE_READ_* */
    ngx_int_t                   db;
    ngx_str_t                   password;
    ngx_str_t                   user;
    ngx_msec_t                  connect_timeout;
    ngx_msec_t                  timeout;
    ngx_str_t                   prefix;
    ngx_str_t                   epoch_key;      /* <prefix>epoch */
    ngx_str_t                   watch_key;      /* <prefix>rollouts:watch */
    ngx_str_t                   invalidate_key; /* <prefix>invalidate */

    ngx_shm_zone_t             *cache_zone;
    ngx_msec_t                  ttl;
    ngx_msec_t                  stale;
    ngx_msec_t                  negative_ttl;
    ngx_msec_t                  poll;
    ngx_msec_t                  max_staleness;  /* 0: no bound */

    ngx_shm_zone_t             *replay_zone;

    fwg_token_secret_t         *token_secrets;  /* NULL: no tokens */
    ngx_uint_t                  ntoken_secrets; /* [0] mints */
    time_t                      token_ttl;

    ngx_int_t                   memo_size;  /* decision memo entries a
                                               worker */

    ngx_flag_t                  enabled_somewhere;
    ngx_http_fwgate_stats_t    *stats;      /* in the cache zone, or a
                                               worker-local fallback */
} ngx_http_fwgate_main_conf_t;


/* the loc conf's handler: the location's content handler, if any */
#define NGX_HTTP_FWGATE_HANDLER_NONE      0
#define NGX_HTTP_FWGATE_HANDLER_MANIFEST  1
#define NGX_HTTP_FWGATE_HANDLER_REPORT    2
#define NGX_HTTP_FWGATE_HANDLER_STATUS    3


typedef struct {
    ngx_flag_t                  enable;
    ngx_http_complex_value_t   *artifact;
    ngx_str_t                   label;
    ngx_array_t                *required;   /* ngx_str_t */
    ngx_uint_t                  algs;       /* bitmask, NGX_CONF_UNSET_UINT */
    time_t                      max_age;
    time_t                      clock_skew;
    ngx_flag_t                  require_nonce;
    ngx_flag_t                  expose_reason;
    ngx_flag_t                  dry_run;    /* decide, log, serve */
    ngx_flag_t                  match_path; /* downloads only at the
                                               artifact's registry path */
    ngx_flag_t                  memo;       /* the decision memo */
    ngx_uint_t                  handler;    /* manifest, report, status */
    ngx_str_t                   base_url;   /* manifest url prefix */
    size_t                      report_max_body;
    ngx_uint_t                  report_replicas;    /* WAIT for them */
    fwg_policy_t                policy;     /* compiled in merge */
    ngx_str_t                   accept_signature;
    fwg_release_keys_t         *release_keys;   /* NULL: not required */
    fwg_key_t                  *rsig_key;   /* fwgate_response_signing;
                                               NULL: off */
    ngx_str_t                   rsig_keyid;
    ngx_str_t                   rsig_label;
} ngx_http_fwgate_loc_conf_t;


/* cache.c: shared registry cache --------------------------------------- */

typedef enum {
    NGX_HTTP_FWGATE_CACHE_NONE = 0,
    NGX_HTTP_FWGATE_CACHE_FRESH,
    NGX_HTTP_FWGATE_CACHE_STALE          /* aged out in the current epoch:
                                            usable only if Redis fails */
} ngx_http_fwgate_cache_state_e;

/*
 * The length of a cache key's registry key: a membership test's cache key
 * is "<set key> NUL <member>".  For debug lines, which must not carry a NUL.
 */

static ngx_inline size_t
ngx_http_fwgate_key_len(ngx_str_t *key)
{
    u_char  *p;

    p = ngx_strlchr(key->data, key->data + key->len, '\0');

    return p ? (size_t) (p - key->data) : key->len;
}

ngx_shm_zone_t *ngx_http_fwgate_cache_add_zone(ngx_conf_t *cf,
    ngx_str_t *name, size_t size, ngx_http_fwgate_main_conf_t *fmcf);
ngx_shm_zone_t *ngx_http_fwgate_zone_add(ngx_conf_t *cf, ngx_str_t *name,
    size_t size, ngx_shm_zone_init_pt init, void *data);

/*
 * Looks up key; a fresh hit's value is copied into pool, a stale one's
 * only with stale_value (the fallback reads it when Redis has failed).
 * *until: when a fresh entry stops being fresh (ngx_current_msec).
 */
#define ngx_http_fwgate_cache_get(fmcf, key, pool, value, until)            \
    ngx_http_fwgate_cache_get_hashed(fmcf, key,                             \
                                     fwg_table_hash((key)->data,            \
                                                    (key)->len),            \
                                     pool, value, until, 0)
/* the same, with the key's fwg_table_hash() already at hand */
ngx_http_fwgate_cache_state_e ngx_http_fwgate_cache_get_hashed(
    ngx_http_fwgate_main_conf_t *fmcf, ngx_str_t *key, uint32_t hash,
    ngx_pool_t *pool, ngx_str_t *value, ngx_msec_t *until,
    ngx_uint_t stale_value);

/*
 * What an entry holds, which decides how long it lives: a record read
 * from Redis (ttl), a key Redis did not have (negative_ttl), or a mark
 * that a side effect was sent (ngx_http_fwgate_cache_marked).  A mark is
 * not registry data, so ttl=0 (read the registry on every request) does
 * not make it die at once: it lives the ttl but at least
 * NGX_HTTP_FWGATE_MARK_TTL, and like any entry ends with a registry change.
 */

#define NGX_HTTP_FWGATE_ENTRY_DATA      0
#define NGX_HTTP_FWGATE_ENTRY_NEGATIVE  1
#define NGX_HTTP_FWGATE_ENTRY_MARK      2

#define NGX_HTTP_FWGATE_MARK_TTL        60000   /* ms */

void ngx_http_fwgate_cache_put(ngx_http_fwgate_main_conf_t *fmcf,
    ngx_str_t *key, ngx_str_t *value, ngx_uint_t kind,
    ngx_uint_t generation);
ngx_uint_t ngx_http_fwgate_cache_generation(
    ngx_http_fwgate_main_conf_t *fmcf);
ngx_uint_t ngx_http_fwgate_cache_marked(ngx_http_fwgate_main_conf_t *fmcf,
    ngx_str_t *key, ngx_uint_t set);
ngx_uint_t ngx_http_fwgate_cache_mark(ngx_http_fwgate_main_conf_t *fmcf,
    ngx_str_t *key);
/* a new registry epoch: every cached record becomes stale at once;
   1 if the epoch differed from the one stored (any change, up or down) */
ngx_uint_t ngx_http_fwgate_cache_set_epoch(ngx_http_fwgate_main_conf_t *fmcf,
    ngx_str_t *epoch);
/* a pushed message: every cached record stale at once; 0 without a zone */
ngx_uint_t ngx_http_fwgate_cache_invalidate(
    ngx_http_fwgate_main_conf_t *fmcf);
/* bytes of the zone's pages in use, and its size; 0 without a zone */
void ngx_http_fwgate_cache_usage(ngx_http_fwgate_main_conf_t *fmcf,
    size_t *used, size_t *size);
/* whether this worker should poll the epoch now (one worker per poll) */
ngx_uint_t ngx_http_fwgate_cache_poll_due(ngx_http_fwgate_main_conf_t *fmcf);

/* the registry's freshness as the epoch poll last confirmed it */
#define NGX_HTTP_FWGATE_ROLE_UNKNOWN   0
#define NGX_HTTP_FWGATE_ROLE_PRIMARY   1
#define NGX_HTTP_FWGATE_ROLE_REPLICA   2    /* link to its primary up */
#define NGX_HTTP_FWGATE_ROLE_CUT_OFF   3    /* a replica, link down */

void ngx_http_fwgate_cache_confirm(ngx_http_fwgate_main_conf_t *fmcf,
    ngx_uint_t role, ngx_uint_t fresh);
ngx_msec_t ngx_http_fwgate_cache_staleness(ngx_http_fwgate_main_conf_t *fmcf,
    ngx_uint_t *role);
ngx_uint_t ngx_http_fwgate_registry_stale(ngx_http_fwgate_main_conf_t *fmcf);

ngx_http_fwgate_stats_t *ngx_http_fwgate_local_stats_get(void);

/*
 * Adds n to a counter of st: in the worker first, into st at the end of
 * the event loop's pass (status.c).  For the counters every request
 * moves; the rare ones are added to st directly.
 */
void ngx_http_fwgate_count(ngx_http_fwgate_stats_t *st, ngx_atomic_t *field,
    ngx_atomic_int_t n);
void ngx_http_fwgate_count_init_process(ngx_cycle_t *cycle,
    ngx_http_fwgate_stats_t *st);
void ngx_http_fwgate_count_flush(void);
void ngx_http_fwgate_cache_exit_process(void);


/* replay.c: nonces seen, as keyed digests in a shared table ------------ */

ngx_shm_zone_t *ngx_http_fwgate_replay_add_zone(ngx_conf_t *cf,
    ngx_str_t *name, size_t size);
/*
 * FWG_REPLAY_NEW recorded, _SEEN replayed, _FULL no room (fwg_decide.h);
 * hash: what the prefetch returned for this keyid and nonce, 0 if none
 */
ngx_int_t ngx_http_fwgate_replay_check(ngx_http_fwgate_main_conf_t *fmcf,
    ngx_str_t *keyid, ngx_str_t *nonce, uint64_t hash, time_t expires_at,
    ngx_log_t *log);
/* the table's size in slots (0: no zone) */
ngx_uint_t ngx_http_fwgate_replay_slots(ngx_http_fwgate_main_conf_t *fmcf);
/* the check's cache lines, asked for ahead of the verification; their
 * digest, for the check (0: no zone) */
uint64_t ngx_http_fwgate_replay_prefetch(ngx_http_fwgate_main_conf_t *fmcf,
    ngx_str_t *keyid, ngx_str_t *nonce);


/* conf.c: the directive handlers of the module's table --------------- */

/* every handler has the signature nginx's command table wants */
#define ngx_http_fwgate_setter(name)                                          \
    char *name(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)

ngx_http_fwgate_setter(ngx_http_fwgate_set_redis);
ngx_http_fwgate_setter(ngx_http_fwgate_set_cache);
ngx_http_fwgate_setter(ngx_http_fwgate_set_replay_zone);
ngx_http_fwgate_setter(ngx_http_fwgate_set_components);
ngx_http_fwgate_setter(ngx_http_fwgate_set_algorithms);
ngx_http_fwgate_setter(ngx_http_fwgate_set_seconds);
ngx_http_fwgate_setter(ngx_http_fwgate_set_label);
ngx_http_fwgate_setter(ngx_http_fwgate_set_content);
ngx_http_fwgate_setter(ngx_http_fwgate_set_token_secret);
/* respsig.c */
ngx_http_fwgate_setter(ngx_http_fwgate_set_response_signing);


/* redis.c: one async connection per worker on nginx's event loop ------- */

typedef struct ngx_http_fwgate_redis_cb_s  ngx_http_fwgate_redis_cb_t;
typedef struct ngx_http_fwgate_redis_conn_s  ngx_http_fwgate_redis_conn_t;

/* a static list, Sentinels, or both: something to connect to */
#define ngx_http_fwgate_has_redis(fmcf)                                      \
    ((fmcf)->servers.nelts || (fmcf)->sentinels.nelts)

typedef void (*ngx_http_fwgate_redis_conn_pt)(
    ngx_http_fwgate_redis_conn_t *rc);

/*
 * Reply objects of a connection's reader (reply.c): a block the next
 * reply reuses, and what did not fit in it.
 */
#define NGX_HTTP_FWGATE_REPLY_ARENA  16384

typedef struct {
    u_char                         *pos;
    void                           *spills;
    u_char                          buf[NGX_HTTP_FWGATE_REPLY_ARENA];
} ngx_http_fwgate_reply_arena_t;

void ngx_http_fwgate_reply_attach(redisAsyncContext *ac,
    ngx_http_fwgate_reply_arena_t *a);
void ngx_http_fwgate_reply_arena_free(ngx_http_fwgate_reply_arena_t *a);

/*
 * One hiredis async connection on nginx's event loop.  It connects to
 * "own" when an owner set it (ngx_http_fwgate_redis_conn_move: a
 * Sentinel's answer), else to servers[server], moving down the list on
 * failures with backoff after a full round.  Hooks, all optional:
 * on_connect once connected, lost when it failed or was lost (before the
 * reconnect is scheduled).
 */
struct ngx_http_fwgate_redis_conn_s {
    redisAsyncContext              *ac;
    ngx_connection_t               *conn;
    ngx_http_fwgate_main_conf_t    *fmcf;
    ngx_array_t                    *servers;    /* static list to cycle */
    ngx_uint_t                      server;     /* index being used */
    ngx_http_fwgate_server_t       *srv;        /* address being used */
    ngx_uint_t                      connected;
    ngx_uint_t                      pending;    /* commands awaiting reply */
    ngx_msec_t                      last_reply; /* or connect time */
    ngx_msec_t                      backoff;
    ngx_event_t                     reconnect;
    ngx_log_t                      *log;
    ngx_uint_t                      exiting;
    ngx_uint_t                      writer;     /* needs the primary */
    ngx_uint_t                      writable;   /* ROLE said master */
    ngx_uint_t                      sentinel;   /* no AUTH/SELECT/ROLE */
    ngx_uint_t                      writing;    /* in its write handler */
    const char                     *what;       /* "redis", "sentinel" */
    ngx_http_fwgate_redis_conn_pt   on_connect;
    ngx_http_fwgate_redis_conn_pt   lost;
    void                           *data;
    ngx_http_fwgate_reply_arena_t  *arena;      /* reply objects, or NULL */

    ngx_http_fwgate_server_t        own;        /* a given address */
    u_char                          own_host[NGX_INET6_ADDRSTRLEN + 1];
    u_char                          own_name[NGX_INET6_ADDRSTRLEN + 10];
};

/* reply is NULL when the command failed (disconnect, stuck connection) */
typedef void (*ngx_http_fwgate_redis_handler_pt)(
    ngx_http_fwgate_redis_cb_t *cb, redisReply *reply);

/*
 * Callback record: embed it first in a structure allocated outside any
 * request pool; hiredis calls it exactly once.
 */
struct ngx_http_fwgate_redis_cb_s {
    ngx_http_fwgate_redis_handler_pt  handler;
    ngx_msec_t                        sent;
};

ngx_int_t ngx_http_fwgate_redis_init_process(ngx_cycle_t *cycle,
    ngx_http_fwgate_main_conf_t *fmcf);
void ngx_http_fwgate_redis_exit_process(void);
ngx_uint_t ngx_http_fwgate_redis_ready(void);

/* NGX_OK queued; NGX_DECLINED not connected (apply fail-closed policy) */
ngx_int_t ngx_http_fwgate_redis_command(ngx_http_fwgate_redis_cb_t *cb,
    int argc, const char **argv, const size_t *argvlen);

/* the same on the write connection: the first server that is a primary */
ngx_int_t ngx_http_fwgate_redis_write(ngx_http_fwgate_redis_cb_t *cb,
    int argc, const char **argv, const size_t *argvlen);
ngx_uint_t ngx_http_fwgate_redis_writable(void);

/* a caller timed out waiting: drop the connection if it looks stuck */
void ngx_http_fwgate_redis_timed_out(void);

/* a subscription on the read connection's server (subscribe.c) */
void ngx_http_fwgate_redis_subscribe(ngx_http_fwgate_redis_cb_t *cb,
    ngx_str_t *channel);
void ngx_http_fwgate_redis_unsubscribe(void);

/* the generic connection, for other connection owners (sentinel.c) */
void ngx_http_fwgate_redis_conn_init(ngx_http_fwgate_redis_conn_t *rc,
    ngx_http_fwgate_main_conf_t *fmcf, ngx_log_t *log,
    ngx_array_t *servers);
ngx_int_t ngx_http_fwgate_redis_conn_connect(ngx_http_fwgate_redis_conn_t *rc);
void ngx_http_fwgate_redis_conn_drop(ngx_http_fwgate_redis_conn_t *rc);
void ngx_http_fwgate_redis_conn_schedule(ngx_http_fwgate_redis_conn_t *rc,
    ngx_uint_t next_server);
void ngx_http_fwgate_redis_conn_stop(ngx_http_fwgate_redis_conn_t *rc);
/* connect to HOST:PORT from now on (reconnecting if it is elsewhere) */
void ngx_http_fwgate_redis_conn_move(ngx_http_fwgate_redis_conn_t *rc,
    ngx_str_t *host, ngx_int_t port);
/* the read (0) or write (1) connection */
ngx_http_fwgate_redis_conn_t *ngx_http_fwgate_redis_conn(ngx_uint_t writer);


/* sentinel.c: the primary and replicas from Redis Sentinel ------------- */

ngx_int_t ngx_http_fwgate_sentinel_init_process(ngx_cycle_t *cycle,
    ngx_http_fwgate_main_conf_t *fmcf);
void ngx_http_fwgate_sentinel_exit_process(void);
/* a read or write connection failed: ask a Sentinel again */
void ngx_http_fwgate_sentinel_lost(ngx_http_fwgate_redis_conn_t *rc);


/* blob.c: record blobs, a hash reply flattened for the cache --------- */

/* blob malloc'ed; its fields are read with the core's fwg_record.h */
ngx_int_t ngx_http_fwgate_blob_from_reply(redisReply *reply,
    ngx_uint_t kind, ngx_str_t *blob);


/* fetch.c: the per-request ctx, its registry records, waiting ---------- */

#define NGX_HTTP_FWGATE_SLOT_NONE      0
#define NGX_HTTP_FWGATE_SLOT_HAVE      1
#define NGX_HTTP_FWGATE_SLOT_PENDING   2
#define NGX_HTTP_FWGATE_SLOT_FAILED    3

typedef struct ngx_http_fwgate_waiter_s  ngx_http_fwgate_waiter_t;
typedef struct ngx_http_fwgate_ctx_s     ngx_http_fwgate_ctx_t;
typedef struct ngx_http_fwgate_rsig_s    ngx_http_fwgate_rsig_t;

typedef void (*ngx_http_fwgate_resume_pt)(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx);
typedef ngx_int_t (*ngx_http_fwgate_run_pt)(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx, ngx_http_fwgate_loc_conf_t *lcf);

struct ngx_http_fwgate_ctx_s {
    ngx_http_request_t         *request;
    ngx_http_fwgate_resume_pt   resume;
    ngx_http_fwgate_run_pt      run;        /* content handlers' step */
    ngx_uint_t                  waiting;
    ngx_uint_t                  done;
    ngx_int_t                   rc;

    fwg_reason_t                reason;
    fwg_msg_t                   msg;        /* the request, core form */
    fwg_claims_t                claims;
    fwg_verdict_t               verdict;
    fwg_arena_t                 arena;
    void                       *arena_buf;  /* a worker's spare block */
    ngx_str_t                   artifact;
    ngx_str_t                   path;       /* allowed: the artifact's
                                               registry path */
    ngx_uint_t                  dry_run;    /* a refusal not enforced */

    /* response headers set by the decision, kept to be corrected if a
       later pass (an internal redirect) refuses what was allowed */
    ngx_table_elt_t            *h_reason;
    ngx_table_elt_t            *h_version;
    ngx_table_elt_t            *h_digest;

    ngx_str_t                   keys[NGX_HTTP_FWGATE_NSLOTS];
    ngx_uint_t                  kinds[NGX_HTTP_FWGATE_NSLOTS];
    ngx_str_t                   blobs[NGX_HTTP_FWGATE_NSLOTS];
    ngx_uint_t                  slot[NGX_HTTP_FWGATE_NSLOTS];
    ngx_http_fwgate_waiter_t   *waiters[NGX_HTTP_FWGATE_NSLOTS];
    ngx_uint_t                  pending;

    fwg_device_rec_t            device_rec;
    fwg_artifact_rec_t          artifact_rec;
    fwg_rollout_rec_t           rollout_rec;

    ngx_event_t                 timeout_ev;
    ngx_event_t                 resume_ev;

    ngx_uint_t                  token;      /* decided from a download
                                               token, not a signature */

    /* the worker's decision memo (memo.c) */
    ngx_uint_t                  memo_generation;
    ngx_uint_t                  memo_fresh;     /* slots read fresh */
    ngx_msec_t                  memo_until;     /* the first to age out */
    unsigned                    memo_started:1; /* generation read */
    unsigned                    memo_until_set:1;
    unsigned                    memo_has_states:1; /* a hit's hmac key */
    uint32_t                    memo_entry;     /* its entry + 1, 0: none */
    uint32_t                    memo_hash;
    uint32_t                    memo_states[FWG_HMAC_STATES];
    uint64_t                    replay_hash;    /* the nonce's, 0: none */
    unsigned                    memo_off:1;     /* not memoizable */
    unsigned                    waited:1;       /* resumed from a wait */
    unsigned                    verify_later:1; /* a memo hit's signature
                                                   waits for the batch */
    unsigned                    batched:1;      /* and was verified */

    ngx_str_t                   body;       /* report body */
    ngx_uint_t                  stage;      /* handler-specific progress */
    void                       *data;       /* handler-specific state */
    ngx_http_fwgate_rsig_t     *rsig;       /* answer being signed */

    /* admission (silence.c): the script's record while it runs, its
       answer, and the per-worker memo's key */
    void                       *admit;
    ngx_uint_t                  admission;  /* NGX_HTTP_FWGATE_ADMIT_* */
    ngx_uint_t                  retry_after;
    ngx_str_t                   mark;
};

#define NGX_HTTP_FWGATE_ADMIT_NONE       0  /* no limits, or memo says in */
#define NGX_HTTP_FWGATE_ADMIT_SENT       1
#define NGX_HTTP_FWGATE_ADMIT_IN         2  /* admitted (recorded) */
#define NGX_HTTP_FWGATE_ADMIT_THROTTLED  3
#define NGX_HTTP_FWGATE_ADMIT_FAILED     4  /* redis failed: fail closed */
#define NGX_HTTP_FWGATE_ADMIT_ROOM       5  /* probe: would be admitted */

ngx_http_fwgate_ctx_t *ngx_http_fwgate_ctx_create(ngx_http_request_t *r,
    ngx_http_fwgate_resume_pt resume);
/* ctx->arena of at least size bytes for the core's parse */
ngx_int_t ngx_http_fwgate_ctx_arena(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx, size_t size);
void ngx_http_fwgate_arena_exit_process(void);

/* the worker's memo of allowed decisions (memo.c) */
ngx_int_t ngx_http_fwgate_memo_get(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx, ngx_http_fwgate_loc_conf_t *lcf);
void ngx_http_fwgate_memo_put(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx, ngx_http_fwgate_loc_conf_t *lcf);
ngx_uint_t ngx_http_fwgate_memo_recorded(ngx_http_fwgate_ctx_t *ctx);
void ngx_http_fwgate_memo_set_recorded(ngx_http_fwgate_ctx_t *ctx);
void ngx_http_fwgate_memo_exit_process(void);
/* the request's ctx, found again after an internal redirect cleared it */
ngx_http_fwgate_ctx_t *ngx_http_fwgate_get_ctx(ngx_http_request_t *r);
ngx_int_t ngx_http_fwgate_read_only(ngx_http_request_t *r);
ngx_int_t ngx_http_fwgate_send_ok(ngx_http_request_t *r, ngx_buf_t *b);
ngx_http_fwgate_ctx_t *ngx_http_fwgate_content_ctx(ngx_http_request_t *r,
    ngx_http_fwgate_run_pt run);
/* resume of a content handler that waited: runs ctx->run, finalizes */
void ngx_http_fwgate_content_resume(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx);
/* adds a response header (name static, value kept by the caller) */
ngx_int_t ngx_http_fwgate_header_out(ngx_http_request_t *r,
    const char *name, ngx_str_t *value);
/* the same, or a new value in *h when an earlier pass added it */
ngx_int_t ngx_http_fwgate_header_set(ngx_http_request_t *r,
    ngx_table_elt_t **h, const char *name, ngx_str_t *value);
/* "<prefix><kind><a>[:<b>][<suffix>]" in the request's pool */
ngx_int_t ngx_http_fwgate_registry_key(ngx_http_request_t *r,
    ngx_str_t *out, const char *kind, ngx_str_t *a, ngx_str_t *b,
    const char *suffix);
/* makes sure a slot holds its record: NGX_OK, NGX_AGAIN (fetching) */
ngx_int_t ngx_http_fwgate_need(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx, ngx_uint_t slot, ngx_uint_t kind,
    ngx_str_t *key, ngx_str_t *member);
ngx_int_t ngx_http_fwgate_need_key(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx, ngx_uint_t slot, const char *kind,
    ngx_str_t *name, const char *suffix);
/* device, rollout, canary and exclude slots for the claims */
ngx_int_t ngx_http_fwgate_need_device(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx);
/* after ngx_http_fwgate_need() returned NGX_AGAIN for some slot */
ngx_int_t ngx_http_fwgate_wait(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx);
/* an allow answered after this event-loop pass's other requests */
ngx_int_t ngx_http_fwgate_defer(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx);
/* NGX_OK when every slot is usable, NGX_ERROR: registry unavailable */
ngx_int_t ngx_http_fwgate_records(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx);


/* gate.c: the access-phase gate, the decision and its outcome ---------- */

ngx_int_t ngx_http_fwgate_access_handler(ngx_http_request_t *r);
/* POST_READ: "fwt=***" in r->request_line, for the logs */
ngx_int_t ngx_http_fwgate_mask_token(ngx_http_request_t *r);
/* steps 1-5 (docs/reasons.md); NGX_OK when they pass (ctx->reason set
   either way) */
ngx_int_t ngx_http_fwgate_check_request(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx, ngx_http_fwgate_loc_conf_t *lcf);
/* steps 6-16 for ctx->artifact */
void ngx_http_fwgate_decide(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx, ngx_http_fwgate_loc_conf_t *lcf);
/* publishes the outcome: variables, log, counters, headers */
ngx_int_t ngx_http_fwgate_finish(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx, ngx_http_fwgate_loc_conf_t *lcf,
    ngx_uint_t count);
void ngx_http_fwgate_publish(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx);
/* a request value for the error log: '"', '\\' and non-printing bytes as
   \xHH, so that it cannot forge fields of the line */
ngx_int_t ngx_http_fwgate_log_escape(ngx_pool_t *pool, const u_char *data,
    size_t len, ngx_str_t *out);


/* respsig.c: signed update-check answers (fwgate_response_signing) --- */

ngx_int_t ngx_http_fwgate_respsig_init(ngx_conf_t *cf);


/* subscribe.c: pushed invalidation, one subscription per node -------- */

#define NGX_HTTP_FWGATE_SUB_PUSH     0
#define NGX_HTTP_FWGATE_SUB_POLL     1

/* the lease lasts this long without renewal (ms) */
#define NGX_HTTP_FWGATE_SUB_LEASE    1000

void ngx_http_fwgate_subscribe_init_process(ngx_cycle_t *cycle,
    ngx_http_fwgate_main_conf_t *fmcf);
void ngx_http_fwgate_subscribe_exit_process(void);
/* whether the node's subscription is up (for the status page) */
ngx_uint_t ngx_http_fwgate_subscription_up(ngx_http_fwgate_main_conf_t *fmcf);

/* module.c: an epoch poll now, not waiting for the interval; pushed: a
   message asked for it (a change it finds is not counted as the poll's) */
void ngx_http_fwgate_epoch_poll_now(ngx_uint_t pushed);


/* silence.c: downloads, their clearing, the silence evaluation --------- */

extern ngx_str_t  ngx_http_fwgate_report_lua;

#define NGX_HTTP_FWGATE_NOW_LEN  (NGX_TIME_T_LEN + 4)

/* "seconds.milliseconds" of the wall clock; returns the length */
size_t ngx_http_fwgate_now(u_char *buf);

/* EVAL's argv (3 + n): the script, how many args are keys, the args */
void ngx_http_fwgate_eval_argv(const char **argv, size_t *argvlen,
    ngx_str_t *script, const char *nkeys, ngx_str_t *args, ngx_uint_t n);
/* a command whose reply nobody waits for: NGX_OK queued */
ngx_int_t ngx_http_fwgate_redis_forget(int argc, const char **argv,
    const size_t *argvlen);
/* an allowed download of the rollout's target: ZADD NX, fire and forget */
void ngx_http_fwgate_record_download(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx);
/*
 * Admission of a download (probe 0) or an update check (probe 1) when
 * the rollout has limits: NGX_OK nothing to wait for (ctx->admission
 * says why), NGX_AGAIN sent (the caller waits; ctx->admission is set
 * when the reply is in), NGX_DECLINED not sent (fail closed)
 */
ngx_int_t ngx_http_fwgate_admit(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx, ngx_uint_t probe);
/* detaches a pending admission reply (cleanup, timeout) */
void ngx_http_fwgate_admit_detach(ngx_http_fwgate_ctx_t *ctx);
/* an update check from a device on the target version: ZREM */
void ngx_http_fwgate_clear_download(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx);
/* from the epoch poll: halts rollouts whose silent devices cross limits */
void ngx_http_fwgate_silence_poll(ngx_http_fwgate_main_conf_t *fmcf);


/* phase.c: phased rollouts advanced or halted on health --------------- */

/* from the epoch poll, at most once a second per node */
void ngx_http_fwgate_phase_poll(ngx_http_fwgate_main_conf_t *fmcf);


/* keys.c: parsed device keys, per worker (NULL: let the core parse) ---- */

const fwg_key_t *ngx_http_fwgate_key_get(fwg_str_t alg, fwg_str_t rec);
void ngx_http_fwgate_keys_free(void);


/* release.c: signed release metadata, verified once per record --------- */

char *ngx_http_fwgate_set_release_keys(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
void ngx_http_fwgate_release_prepare(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx, ngx_http_fwgate_loc_conf_t *lcf,
    fwg_decide_in_t *in);
void ngx_http_fwgate_release_free(void);


/* variables.c: $fwgate_* --------------------------------------------- */

ngx_int_t ngx_http_fwgate_add_variables(ngx_conf_t *cf);
ngx_int_t ngx_http_fwgate_index_variables(ngx_conf_t *cf);
void ngx_http_fwgate_set_variables(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx);


/* content handlers: manifest.c, report.c, status.c --------------------- */

ngx_int_t ngx_http_fwgate_manifest_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_fwgate_report_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_fwgate_status_handler(ngx_http_request_t *r);


extern ngx_module_t  ngx_http_fwgate_module;


#endif /* _NGX_HTTP_FWGATE_MODULE_H_INCLUDED_ */
