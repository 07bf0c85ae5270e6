
/*
 * fwgate: the primary (and a replica to read from) learnt from Redis
 * Sentinel, for `fwgate_redis sentinel=IP:PORT,... master=NAME`.
 *
 * Each worker keeps two connections to a Sentinel, generic connection
 * objects of redis.c cycling through the sentinel= list as the static
 * list is cycled (next one at once on a failure, backoff after a round):
 *
 *   query  SENTINEL get-master-addr-by-name NAME, and with read=replica
 *          SENTINEL replicas NAME, pipelined, under the command timeout;
 *   sub    SUBSCRIBE +switch-master.
 *
 * The question is asked again whenever either Sentinel connection
 * (re)connects, whenever the read or write connection fails or is lost
 * (including a write connection whose ROLE is not master: a Sentinel can
 * be stale), and after every +switch-master; at most one question is in
 * flight and they are at least NGX_HTTP_FWGATE_ASK_GAP apart.  An answer
 * moves the write connection to the primary and the read connection to
 * the primary or the chosen replica (redis.c's conn_move: a connection
 * elsewhere is dropped and reopened at once).  A +switch-master moves the
 * writes at once, before the question it triggers is answered.
 *
 * Until a Sentinel has answered, the static addresses (if any) are used
 * as today; when nothing is known the read and write connections stay
 * closed and the gate fails closed.  Everything runs on nginx's event
 * loop through hiredis's async API; addresses Sentinel reports must be
 * IP addresses (a host name would be resolved with a blocking call).
 */

#include "ngx_http_fwgate_module.h"

#include <ifaddrs.h>


#define NGX_HTTP_FWGATE_ASK_GAP      100     /* ms between two questions */
#define NGX_HTTP_FWGATE_LOCAL_ADDRS  16


typedef struct {
    u_char                          host[NGX_INET6_ADDRSTRLEN + 1];
    ngx_str_t                       ip;         /* into host */
    ngx_int_t                       port;       /* 0: none */
} ngx_http_fwgate_sentinel_addr_t;


typedef struct {
    ngx_http_fwgate_redis_conn_t    query;
    ngx_http_fwgate_redis_conn_t    sub;
    ngx_http_fwgate_main_conf_t    *fmcf;
    ngx_log_t                      *log;

    ngx_uint_t                      asking;     /* replies awaited */
    ngx_uint_t                      again;      /* asked meanwhile */
    ngx_uint_t                      asked;      /* last_ask is set */
    ngx_msec_t                      last_ask;
    ngx_event_t                     ask_ev;

    ngx_http_fwgate_sentinel_addr_t primary;    /* known */
    ngx_http_fwgate_sentinel_addr_t new_primary; /* in the answer */
    ngx_http_fwgate_sentinel_addr_t replica;    /* in the answer */
    ngx_uint_t                      unknown;    /* master name unknown */

    ngx_uint_t                      nlocal;
    u_char                          local[NGX_HTTP_FWGATE_LOCAL_ADDRS]
                                         [NGX_INET6_ADDRSTRLEN + 1];
} ngx_http_fwgate_sentinel_t;


static void ngx_http_fwgate_sentinel_conn_init(
    ngx_http_fwgate_redis_conn_t *rc, ngx_http_fwgate_redis_conn_pt on_connect);
static void ngx_http_fwgate_sentinel_ask(void);
static void ngx_http_fwgate_sentinel_ask_handler(ngx_event_t *ev);
static void ngx_http_fwgate_sentinel_query_connected(
    ngx_http_fwgate_redis_conn_t *rc);
static void ngx_http_fwgate_sentinel_sub_connected(
    ngx_http_fwgate_redis_conn_t *rc);
static void ngx_http_fwgate_sentinel_master_reply(redisAsyncContext *ac,
    void *r, void *privdata);
static void ngx_http_fwgate_sentinel_replicas_reply(redisAsyncContext *ac,
    void *r, void *privdata);
static void ngx_http_fwgate_sentinel_switch_reply(redisAsyncContext *ac,
    void *r, void *privdata);
static void ngx_http_fwgate_sentinel_answered(void);
static void ngx_http_fwgate_sentinel_apply(void);
static ngx_int_t ngx_http_fwgate_sentinel_set(
    ngx_http_fwgate_sentinel_addr_t *a, u_char *ip, size_t len,
    u_char *port, size_t plen);
static ngx_uint_t ngx_http_fwgate_sentinel_is_local(
    ngx_http_fwgate_sentinel_addr_t *a);
static void ngx_http_fwgate_sentinel_local_addrs(void);


static ngx_http_fwgate_sentinel_t  ngx_http_fwgate_sentinel;


ngx_int_t
ngx_http_fwgate_sentinel_init_process(ngx_cycle_t *cycle,
    ngx_http_fwgate_main_conf_t *fmcf)
{
    ngx_http_fwgate_sentinel_t  *st;

    st = &ngx_http_fwgate_sentinel;

    ngx_memzero(st, sizeof(ngx_http_fwgate_sentinel_t));

    st->fmcf = fmcf;
    st->log = cycle->log;

    ngx_http_fwgate_sentinel_local_addrs();

    st->ask_ev.handler = ngx_http_fwgate_sentinel_ask_handler;
    st->ask_ev.log = cycle->log;
    st->ask_ev.data = st;
    st->ask_ev.cancelable = 1;

    ngx_http_fwgate_sentinel_conn_init(&st->query,
        ngx_http_fwgate_sentinel_query_connected);
    ngx_http_fwgate_sentinel_conn_init(&st->sub,
        ngx_http_fwgate_sentinel_sub_connected);

    (void) ngx_http_fwgate_redis_conn_connect(&st->query);
    (void) ngx_http_fwgate_redis_conn_connect(&st->sub);

    return NGX_OK;
}


/* the query and the subscription: both connect to the Sentinels */

static void
ngx_http_fwgate_sentinel_conn_init(ngx_http_fwgate_redis_conn_t *rc,
    ngx_http_fwgate_redis_conn_pt on_connect)
{
    ngx_http_fwgate_sentinel_t  *st;

    st = &ngx_http_fwgate_sentinel;

    ngx_http_fwgate_redis_conn_init(rc, st->fmcf, st->log,
                                    &st->fmcf->sentinels);
    rc->sentinel = 1;
    rc->what = "sentinel";
    rc->on_connect = on_connect;
    rc->data = st;
}


void
ngx_http_fwgate_sentinel_exit_process(void)
{
    ngx_http_fwgate_sentinel_t  *st;

    st = &ngx_http_fwgate_sentinel;

    if (st->fmcf == NULL) {
        return;
    }

    if (st->ask_ev.timer_set) {
        ngx_del_timer(&st->ask_ev);
    }

    ngx_http_fwgate_redis_conn_stop(&st->query);
    ngx_http_fwgate_redis_conn_stop(&st->sub);

    st->fmcf = NULL;
}


/* the read or write connection failed (redis.c's lost hook) */

void
ngx_http_fwgate_sentinel_lost(ngx_http_fwgate_redis_conn_t *rc)
{
    ngx_log_debug1(NGX_LOG_DEBUG_EVENT, rc->log, 0,
                   "fwgate: redis %s connection failed, asking sentinel",
                   rc->writer ? "write" : "read");

    ngx_http_fwgate_sentinel_ask();
}


static void
ngx_http_fwgate_sentinel_ask_handler(ngx_event_t *ev)
{
    ngx_http_fwgate_sentinel_ask();
}


static void
ngx_http_fwgate_sentinel_ask(void)
{
    int                            argc;
    size_t                         argvlen[3];
    ngx_msec_t                     gap;
    const char                    *argv[3];
    ngx_http_fwgate_sentinel_t    *st;
    ngx_http_fwgate_redis_conn_t  *rc;

    st = &ngx_http_fwgate_sentinel;
    rc = &st->query;

    if (st->fmcf == NULL || ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    if (rc->ac == NULL || !rc->connected) {
        /* the query connection asks as soon as it is connected */
        return;
    }

    if (st->asking) {
        st->again = 1;
        return;
    }

    gap = ngx_current_msec - st->last_ask;

    if (st->asked && gap < NGX_HTTP_FWGATE_ASK_GAP) {
        if (!st->ask_ev.timer_set) {
            ngx_add_timer(&st->ask_ev, NGX_HTTP_FWGATE_ASK_GAP - gap);
        }
        return;
    }

    if (st->ask_ev.timer_set) {
        ngx_del_timer(&st->ask_ev);
    }

    ngx_log_debug2(NGX_LOG_DEBUG_EVENT, st->log, 0,
                   "fwgate: asking sentinel %V for \"%V\"",
                   &rc->srv->name, &st->fmcf->master);

    st->asked = 1;
    st->last_ask = ngx_current_msec;
    st->again = 0;
    st->unknown = 0;
    st->new_primary.port = 0;
    st->replica.port = 0;

    argc = 3;
    argv[0] = "SENTINEL";
    argvlen[0] = 8;
    argv[1] = "get-master-addr-by-name";
    argvlen[1] = sizeof("get-master-addr-by-name") - 1;
    argv[2] = (const char *) st->fmcf->master.data;
    argvlen[2] = st->fmcf->master.len;

    if (redisAsyncCommandArgv(rc->ac, ngx_http_fwgate_sentinel_master_reply,
                              NULL, argc, argv, argvlen)
        != REDIS_OK)
    {
        return;
    }

    st->asking = 1;

    if (st->fmcf->read == NGX_HTTP_FWGATE_READ_REPLICA) {
        argv[1] = "replicas";
        argvlen[1] = sizeof("replicas") - 1;

        if (redisAsyncCommandArgv(rc->ac,
                                  ngx_http_fwgate_sentinel_replicas_reply,
                                  NULL, argc, argv, argvlen)
            == REDIS_OK)
        {
            st->asking++;
        }
    }

    /* a Sentinel that does not answer is left for the next one */

    if (rc->conn) {
        ngx_add_timer(rc->conn->write, st->fmcf->timeout);
    }
}


static void
ngx_http_fwgate_sentinel_query_connected(ngx_http_fwgate_redis_conn_t *rc)
{
    ngx_http_fwgate_sentinel_t  *st = rc->data;

    st->asking = 0;
    st->again = 0;
    st->asked = 0;

    ngx_http_fwgate_sentinel_ask();
}


static void
ngx_http_fwgate_sentinel_sub_connected(ngx_http_fwgate_redis_conn_t *rc)
{
    if (redisAsyncCommand(rc->ac, ngx_http_fwgate_sentinel_switch_reply,
                          NULL, "SUBSCRIBE +switch-master")
        != REDIS_OK)
    {
        /* the context is going away: its disconnect reschedules */
        rc->connected = 0;
        return;
    }

    /* a switch may have been missed while this was not subscribed */

    ngx_http_fwgate_sentinel_ask();
}


/* every reply of a question (NULL when the connection went) */

static ngx_http_fwgate_sentinel_t *
ngx_http_fwgate_sentinel_reply_state(redisAsyncContext *ac, redisReply *reply)
{
    ngx_http_fwgate_sentinel_t  *st;

    st = &ngx_http_fwgate_sentinel;

    if (st->asking) {
        st->asking--;
    }

    if (reply == NULL || st->query.ac != ac) {
        st->asking = 0;
        return NULL;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, st->log, 0,
                      "fwgate: sentinel %V error: %*s",
                      &st->query.srv->name,
                      (size_t) ngx_min(reply->len, 200), reply->str);
    }

    return st;
}


static void
ngx_http_fwgate_sentinel_master_reply(redisAsyncContext *ac, void *r,
    void *privdata)
{
    redisReply                  *reply, *ip, *port;
    ngx_http_fwgate_sentinel_t  *st;

    reply = r;

    st = ngx_http_fwgate_sentinel_reply_state(ac, reply);
    if (st == NULL) {
        return;
    }

    if (reply->type == REDIS_REPLY_NIL) {
        st->unknown = 1;

    } else if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2) {
        ip = reply->element[0];
        port = reply->element[1];

        if (ip->type != REDIS_REPLY_STRING
            || port->type != REDIS_REPLY_STRING
            || ngx_http_fwgate_sentinel_set(&st->new_primary,
                                            (u_char *) ip->str, ip->len,
                                            (u_char *) port->str, port->len)
               != NGX_OK)
        {
            ngx_log_error(NGX_LOG_ERR, st->log, 0,
                          "fwgate: sentinel %V gave an unusable address "
                          "for \"%V\" (an IP address is required)",
                          &st->query.srv->name, &st->fmcf->master);
        }
    }

    if (st->asking == 0) {
        ngx_http_fwgate_sentinel_answered();
    }
}


/*
 * SENTINEL replicas NAME: an array of flat field/value arrays.  A replica
 * is usable when its flags name none of s_down, o_down, disconnected;
 * one on this host (loopback or a local interface's address) is
 * preferred; among equals the workers spread by their number.
 */

static void
ngx_http_fwgate_sentinel_replicas_reply(redisAsyncContext *ac, void *r,
    void *privdata)
{
    size_t                           i, j;
    ngx_uint_t                       n, nbest, best, local, pick;
    redisReply                      *reply, *e, *k, *v, *ip, *port, *flags;
    ngx_http_fwgate_sentinel_t      *st;
    ngx_http_fwgate_sentinel_addr_t  a;

    reply = r;

    st = ngx_http_fwgate_sentinel_reply_state(ac, reply);
    if (st == NULL) {
        return;
    }

    if (reply->type != REDIS_REPLY_ARRAY) {
        goto done;
    }

    /* two passes: count the best rank, then take the worker's pick */

    best = 0;
    nbest = 0;
    pick = 0;

    for (n = 0; n < 2; n++) {

        for (i = 0; i < reply->elements; i++) {
            e = reply->element[i];

            if (e->type != REDIS_REPLY_ARRAY) {
                continue;
            }

            ip = NULL;
            port = NULL;
            flags = NULL;

            for (j = 0; j + 1 < e->elements; j += 2) {
                k = e->element[j];
                v = e->element[j + 1];

                if (k->type != REDIS_REPLY_STRING
                    || v->type != REDIS_REPLY_STRING)
                {
                    continue;
                }

                if (k->len == 2 && ngx_strncmp(k->str, "ip", 2) == 0) {
                    ip = v;

                } else if (k->len == 4
                           && ngx_strncmp(k->str, "port", 4) == 0)
                {
                    port = v;

                } else if (k->len == 5
                           && ngx_strncmp(k->str, "flags", 5) == 0)
                {
                    flags = v;
                }
            }

            if (ip == NULL || port == NULL || flags == NULL) {
                continue;
            }

            if (ngx_strlcasestrn((u_char *) flags->str,
                                 (u_char *) flags->str + flags->len,
                                 (u_char *) "s_down", 6 - 1) != NULL
                || ngx_strlcasestrn((u_char *) flags->str,
                                    (u_char *) flags->str + flags->len,
                                    (u_char *) "o_down", 6 - 1) != NULL
                || ngx_strlcasestrn((u_char *) flags->str,
                                    (u_char *) flags->str + flags->len,
                                    (u_char *) "disconnected", 12 - 1)
                   != NULL)
            {
                continue;
            }

            if (ngx_http_fwgate_sentinel_set(&a, (u_char *) ip->str,
                                             ip->len, (u_char *) port->str,
                                             port->len)
                != NGX_OK)
            {
                continue;
            }

            local = ngx_http_fwgate_sentinel_is_local(&a) ? 2 : 1;

            if (n == 0) {
                if (local > best) {
                    best = local;
                    nbest = 0;
                }

                if (local == best) {
                    nbest++;
                }

                continue;
            }

            if (local != best) {
                continue;
            }

            if (pick-- == 0) {
                st->replica = a;
                st->replica.ip.data = st->replica.host;
                goto done;
            }
        }

        if (nbest == 0) {
            break;
        }

        pick = (ngx_uint_t) ngx_worker % nbest;
    }

done:

    if (st->asking == 0) {
        ngx_http_fwgate_sentinel_answered();
    }
}


static void
ngx_http_fwgate_sentinel_answered(void)
{
    ngx_http_fwgate_sentinel_t    *st;
    ngx_http_fwgate_redis_conn_t  *rc;

    st = &ngx_http_fwgate_sentinel;
    rc = &st->query;

    if (rc->conn && rc->conn->write->timer_set) {
        ngx_del_timer(rc->conn->write);
    }

    if (st->unknown) {
        ngx_log_error(NGX_LOG_ERR, st->log, 0,
                      "fwgate: sentinel %V does not know master \"%V\", "
                      "trying the next sentinel",
                      &rc->srv->name, &st->fmcf->master);

        /* deferred by hiredis until this callback returns */
        ngx_http_fwgate_redis_conn_drop(rc);
        ngx_http_fwgate_redis_conn_schedule(rc, 1);
        return;
    }

    if (st->new_primary.port) {
        ngx_http_fwgate_sentinel_apply();
    }

    if (st->again) {
        ngx_http_fwgate_sentinel_ask();
    }
}


static void
ngx_http_fwgate_sentinel_apply(void)
{
    ngx_http_fwgate_sentinel_t       *st;
    ngx_http_fwgate_sentinel_addr_t  *rd;

    st = &ngx_http_fwgate_sentinel;

    if (st->primary.port != st->new_primary.port
        || st->primary.ip.len != st->new_primary.ip.len
        || ngx_strncmp(st->primary.host, st->new_primary.host,
                       st->new_primary.ip.len) != 0)
    {
        ngx_log_error(NGX_LOG_NOTICE, st->log, 0,
                      "fwgate: sentinel %V: master \"%V\" is %V:%i",
                      &st->query.srv->name, &st->fmcf->master,
                      &st->new_primary.ip, st->new_primary.port);

        st->primary = st->new_primary;
        st->primary.ip.data = st->primary.host;
    }

    ngx_http_fwgate_redis_conn_move(ngx_http_fwgate_redis_conn(1),
                                    &st->primary.ip, st->primary.port);

    rd = &st->primary;

    if (st->fmcf->read == NGX_HTTP_FWGATE_READ_REPLICA
        && st->replica.port)
    {
        rd = &st->replica;
    }

    ngx_http_fwgate_redis_conn_move(ngx_http_fwgate_redis_conn(0),
                                    &rd->ip, rd->port);
}


/* "+switch-master" messages: "NAME OLDIP OLDPORT NEWIP NEWPORT" */

static void
ngx_http_fwgate_sentinel_switch_reply(redisAsyncContext *ac, void *r,
    void *privdata)
{
    u_char                        *p, *last, *f[5];
    size_t                         len[5];
    ngx_uint_t                     i;
    redisReply                    *reply, *e;
    ngx_http_fwgate_sentinel_t    *st;
    ngx_http_fwgate_redis_conn_t  *rd;

    reply = r;
    st = &ngx_http_fwgate_sentinel;

    if (reply == NULL || st->sub.ac != ac || st->fmcf == NULL) {
        return;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3) {
        return;
    }

    e = reply->element[0];

    if (e->type != REDIS_REPLY_STRING || e->len != 7
        || ngx_strncmp(e->str, "message", 7) != 0)
    {
        return;
    }

    e = reply->element[2];

    if (e->type != REDIS_REPLY_STRING) {
        return;
    }

    p = (u_char *) e->str;
    last = p + e->len;

    for (i = 0; i < 5; i++) {
        while (p < last && *p == ' ') {
            p++;
        }

        f[i] = p;

        while (p < last && *p != ' ') {
            p++;
        }

        len[i] = p - f[i];

        if (len[i] == 0) {
            return;
        }
    }

    if (len[0] != st->fmcf->master.len
        || ngx_strncmp(f[0], st->fmcf->master.data, len[0]) != 0)
    {
        return;
    }

    ngx_log_error(NGX_LOG_NOTICE, st->log, 0,
                  "fwgate: sentinel %V: +switch-master %*s",
                  &st->sub.srv->name, (size_t) ngx_min(e->len, 300), e->str);

    if (ngx_http_fwgate_sentinel_set(&st->new_primary, f[3], len[3], f[4],
                                     len[4])
        == NGX_OK)
    {
        /* the reads follow at once when they were on the old primary */

        rd = ngx_http_fwgate_redis_conn(0);

        if (st->fmcf->read == NGX_HTTP_FWGATE_READ_PRIMARY
            || (rd->srv && rd->srv->host.len == len[1]
                && ngx_strncmp(rd->srv->host.data, f[1], len[1]) == 0
                && rd->srv->port == ngx_atoi(f[2], len[2])))
        {
            st->replica.port = 0;

        } else if (rd->srv == &rd->own) {
            /* keep reading where it reads; the question below refines */
            (void) ngx_http_fwgate_sentinel_set(&st->replica,
                                                rd->own.host.data,
                                                rd->own.host.len,
                                                NULL, 0);
            st->replica.port = rd->own.port;

        } else {
            st->replica.port = 0;
        }

        ngx_http_fwgate_sentinel_apply();
    }

    /* the replicas changed too: ask for the whole picture */

    ngx_http_fwgate_sentinel_ask();
}


/* an IP address and a port from a Sentinel reply; port NULL: no port */

static ngx_int_t
ngx_http_fwgate_sentinel_set(ngx_http_fwgate_sentinel_addr_t *a, u_char *ip,
    size_t len, u_char *port, size_t plen)
{
    ngx_int_t        n;
    struct in_addr   a4;
    struct in6_addr  a6;

    if (len == 0 || len > NGX_INET6_ADDRSTRLEN) {
        return NGX_ERROR;
    }

    n = 0;

    if (port) {
        n = ngx_atoi(port, plen);
        if (n < 1 || n > 65535) {
            return NGX_ERROR;
        }
    }

    ngx_memcpy(a->host, ip, len);
    a->host[len] = '\0';

    if (inet_pton(AF_INET, (char *) a->host, &a4) != 1
        && inet_pton(AF_INET6, (char *) a->host, &a6) != 1)
    {
        return NGX_ERROR;
    }

    a->ip.data = a->host;
    a->ip.len = len;
    a->port = n;

    return NGX_OK;
}


static ngx_uint_t
ngx_http_fwgate_sentinel_is_local(ngx_http_fwgate_sentinel_addr_t *a)
{
    ngx_uint_t                   i;
    ngx_http_fwgate_sentinel_t  *st;

    st = &ngx_http_fwgate_sentinel;

    if ((a->ip.len >= 4 && ngx_strncmp(a->host, "127.", 4) == 0)
        || (a->ip.len == 3 && ngx_strncmp(a->host, "::1", 3) == 0))
    {
        return 1;
    }

    for (i = 0; i < st->nlocal; i++) {
        if (ngx_strcmp(st->local[i], a->host) == 0) {
            return 1;
        }
    }

    return 0;
}


/* this host's interface addresses, once per worker (no DNS involved) */

static void
ngx_http_fwgate_sentinel_local_addrs(void)
{
    void                        *addr;
    struct ifaddrs              *ifs, *ifa;
    ngx_http_fwgate_sentinel_t  *st;

    st = &ngx_http_fwgate_sentinel;

    if (getifaddrs(&ifs) != 0) {
        ngx_log_error(NGX_LOG_WARN, st->log, ngx_errno,
                      "fwgate: getifaddrs() failed, only loopback "
                      "replicas count as local");
        return;
    }

    for (ifa = ifs; ifa && st->nlocal < NGX_HTTP_FWGATE_LOCAL_ADDRS;
         ifa = ifa->ifa_next)
    {
        if (ifa->ifa_addr == NULL) {
            continue;
        }

        if (ifa->ifa_addr->sa_family == AF_INET) {
            addr = &((struct sockaddr_in *) ifa->ifa_addr)->sin_addr;

        } else if (ifa->ifa_addr->sa_family == AF_INET6) {
            addr = &((struct sockaddr_in6 *) ifa->ifa_addr)->sin6_addr;

        } else {
            continue;
        }

        if (inet_ntop(ifa->ifa_addr->sa_family, addr,
                      (char *) st->local[st->nlocal],
                      NGX_INET6_ADDRSTRLEN + 1)
            != NULL)
        {
            st->nlocal++;
        }
    }

    freeifaddrs(ifs);
}
