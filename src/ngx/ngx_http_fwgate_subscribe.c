
/*
 * fwgate: pushed invalidation (docs/many-edges.md, "Pushed invalidation").
 *
 * Every registry write also PUBLISHes on <prefix>invalidate (fwgatectl
 * in its MULTI/EXEC, the module's halt script).  One worker per node holds
 * a subscription to that channel, on the server its reads use, and on
 * each message invalidates the node's cache at once (the same generation
 * bump as a new epoch, in the shared zone every worker reads) and asks
 * for an epoch poll so the stored epoch follows.  The poll stays, at its
 * interval, for messages lost while the subscription was down.
 *
 * One per node rather than one per worker: the generation is the zone's,
 * so one message needs one bump; a per-worker subscription would bump it
 * once per worker (a wave of refetches each time) and multiply the
 * replica's subscribers, and so its fan-out per PUBLISH, by the number of
 * workers on every edge.
 *
 * Who holds it is a lease in the zone: the holder's pid and the time it
 * last renewed it.  Every worker looks at it every NGX_HTTP_FWGATE_SUB_TICK
 * ms; the holder renews, any other takes a lease that is free or not
 * renewed for NGX_HTTP_FWGATE_SUB_LEASE ms (a holder that crashed or is
 * exiting), with a compare-and-set so only one wins.  A holder that finds
 * the lease taken (it was stuck past the lease) lets its subscription go.
 * ngx_current_msec is the monotonic clock, the same in every worker.
 */

#include "ngx_http_fwgate_module.h"


#define NGX_HTTP_FWGATE_SUB_TICK     250
#define NGX_HTTP_FWGATE_SUB_MSGLOG   128


static void ngx_http_fwgate_subscribe_tick(ngx_event_t *ev);
static void ngx_http_fwgate_subscribe_release(void);
static void ngx_http_fwgate_subscribe_reply(ngx_http_fwgate_redis_cb_t *cb,
    redisReply *reply);


static ngx_event_t                   ngx_http_fwgate_sub_ev;
static ngx_http_fwgate_redis_cb_t    ngx_http_fwgate_sub_cb;
static ngx_http_fwgate_main_conf_t  *ngx_http_fwgate_sub_mcf;
static ngx_uint_t                    ngx_http_fwgate_sub_holding;


void
ngx_http_fwgate_subscribe_init_process(ngx_cycle_t *cycle,
    ngx_http_fwgate_main_conf_t *fmcf)
{
    /* without a cache zone there is nothing to invalidate */

    if (fmcf->cache_zone == NULL || fmcf->servers.nelts == 0) {
        return;
    }

    ngx_http_fwgate_sub_mcf = fmcf;
    ngx_http_fwgate_sub_holding = 0;

    ngx_http_fwgate_sub_cb.handler = ngx_http_fwgate_subscribe_reply;

    ngx_http_fwgate_sub_ev.handler = ngx_http_fwgate_subscribe_tick;
    ngx_http_fwgate_sub_ev.log = cycle->log;
    ngx_http_fwgate_sub_ev.data = fmcf;
    ngx_http_fwgate_sub_ev.cancelable = 1;

    /* the first look at once: a node with a free lease subscribes now */
    ngx_add_timer(&ngx_http_fwgate_sub_ev, 1);
}


void
ngx_http_fwgate_subscribe_exit_process(void)
{
    if (ngx_http_fwgate_sub_mcf == NULL) {
        return;
    }

    if (ngx_http_fwgate_sub_ev.timer_set) {
        ngx_del_timer(&ngx_http_fwgate_sub_ev);
    }

    ngx_http_fwgate_subscribe_release();
    ngx_http_fwgate_sub_mcf = NULL;
}


ngx_uint_t
ngx_http_fwgate_subscription_up(ngx_http_fwgate_main_conf_t *fmcf)
{
    ngx_http_fwgate_stats_t  *st;

    st = fmcf->stats;

    if (fmcf->cache_zone == NULL || st == NULL) {
        return 0;
    }

    /* a holder that stopped renewing (crashed) is down, whatever it said */

    return st->sub_up && st->sub_pid != 0
           && (ngx_msec_int_t) (ngx_current_msec - st->sub_beat)
              <= 2 * NGX_HTTP_FWGATE_SUB_LEASE;
}


static void
ngx_http_fwgate_subscribe_release(void)
{
    ngx_http_fwgate_stats_t  *st;

    if (!ngx_http_fwgate_sub_holding) {
        return;
    }

    st = ngx_http_fwgate_sub_mcf->stats;

    ngx_http_fwgate_sub_holding = 0;

    /* its callback then gets NULL: the state is down before the lease
       is given back, and a new holder's "up" is not overwritten */

    ngx_http_fwgate_redis_unsubscribe();

    if (st->sub_pid == (ngx_atomic_uint_t) ngx_pid) {
        st->sub_up = 0;
        (void) ngx_atomic_cmp_set(&st->sub_pid, (ngx_atomic_uint_t) ngx_pid,
                                  0);
    }
}


static void
ngx_http_fwgate_subscribe_tick(ngx_event_t *ev)
{
    ngx_atomic_uint_t             pid;
    ngx_http_fwgate_stats_t      *st;
    ngx_http_fwgate_main_conf_t  *fmcf;

    fmcf = ev->data;
    st = fmcf->stats;

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        /* a worker that drains connections gives the lease to a new one */
        ngx_http_fwgate_subscribe_release();
        return;
    }

    ngx_add_timer(ev, NGX_HTTP_FWGATE_SUB_TICK);

    pid = st->sub_pid;

    if (ngx_http_fwgate_sub_holding) {
        if (pid == (ngx_atomic_uint_t) ngx_pid) {
            st->sub_beat = ngx_current_msec;
            return;
        }

        ngx_log_error(NGX_LOG_INFO, ev->log, 0,
                      "fwgate: subscription lease taken by %uA, giving up "
                      "ours", pid);

        ngx_http_fwgate_sub_holding = 0;
        ngx_http_fwgate_redis_unsubscribe();
        return;
    }

    if (pid != 0
        && (ngx_msec_int_t) (ngx_current_msec - st->sub_beat)
           <= NGX_HTTP_FWGATE_SUB_LEASE)
    {
        return;
    }

    if (!ngx_atomic_cmp_set(&st->sub_pid, pid, (ngx_atomic_uint_t) ngx_pid)) {
        return;
    }

    st->sub_beat = ngx_current_msec;
    st->sub_up = 0;
    ngx_http_fwgate_sub_holding = 1;

    ngx_log_debug1(NGX_LOG_DEBUG_EVENT, ev->log, 0,
                   "fwgate: subscription lease taken (was %uA)", pid);

    ngx_http_fwgate_redis_subscribe(&ngx_http_fwgate_sub_cb,
                                    &fmcf->invalidate_key);
}


/* the subscription's replies: "subscribe" once made, then "message"s */

static void
ngx_http_fwgate_subscribe_reply(ngx_http_fwgate_redis_cb_t *cb,
    redisReply *reply)
{
    redisReply                   *kind;
#if (NGX_DEBUG)
    redisReply                   *msg;
#endif
    ngx_http_fwgate_stats_t      *st;
    ngx_http_fwgate_main_conf_t  *fmcf;

    fmcf = ngx_http_fwgate_sub_mcf;

    if (fmcf == NULL) {
        return;
    }

    st = fmcf->stats;

    if (reply == NULL) {
        /* lost (redis.c reconnects it with backoff) or let go */

        if (ngx_http_fwgate_sub_holding
            && st->sub_pid == (ngx_atomic_uint_t) ngx_pid)
        {
            if (st->sub_up) {
                ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                              "fwgate: invalidation subscription lost, "
                              "the epoch poll covers until it is back");
            }

            st->sub_up = 0;
        }

        return;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 3
        || reply->element[0]->type != REDIS_REPLY_STRING)
    {
        return;
    }

    kind = reply->element[0];

    if (kind->len == 9 && ngx_strncmp(kind->str, "subscribe", 9) == 0) {
        ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                      "fwgate: subscribed to \"%V\"", &fmcf->invalidate_key);

        if (ngx_http_fwgate_sub_holding) {
            st->sub_up = 1;
        }

        /* messages may have been published while it was down */
        ngx_http_fwgate_epoch_poll_now(0);
        return;
    }

    if (kind->len != 7 || ngx_strncmp(kind->str, "message", 7) != 0) {
        return;
    }

    (void) ngx_atomic_fetch_add(&st->sub_messages, 1);
    st->sub_last = (ngx_atomic_uint_t) ngx_time();

    /*
     * Whatever it names, the whole cache goes: never too little, and one
     * message per change.  (A message naming one key could drop only the
     * records that key feeds; the epoch could not, so neither does this.)
     */

    if (ngx_http_fwgate_cache_invalidate(fmcf)) {
        (void) ngx_atomic_fetch_add(
                   &st->invalidations[NGX_HTTP_FWGATE_SUB_PUSH], 1);
    }

#if (NGX_DEBUG)
    msg = reply->element[2];

    if (msg->type == REDIS_REPLY_STRING) {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                       "fwgate: invalidation message \"%*s\"",
                       (size_t) ngx_min(msg->len, NGX_HTTP_FWGATE_SUB_MSGLOG),
                       msg->str);
    }
#endif

    ngx_http_fwgate_epoch_poll_now(1);
}
