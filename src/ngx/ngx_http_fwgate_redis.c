
/*
 * fwgate: hiredis's async API joined to nginx's event loop.
 *
 * Two connections per worker: [0] reads, [1] writes (it must reach a
 * server whose ROLE is master).  Each is a generic connection object
 * (ngx_http_fwgate_redis_conn_t, also used by sentinel.c): it cycles
 * through a static address list, or connects to the address its owner
 * gave it (ngx_http_fwgate_redis_conn_move, a Sentinel's answer).
 *
 * hiredis owns the socket; nginx only watches
 * it through a connection object from ngx_get_connection(), which is
 * released (never closed) in hiredis's cleanup hook.  Events are
 * level-triggered so a reply larger than one read is never stranded.
 * hiredis 0.14 has no timeouts: the connect timeout is a timer on the
 * write event, command timeouts are the callers' timers, and a connection
 * that leaves a command unanswered past the timeout is dropped (hiredis
 * then calls every pending callback with NULL) and reconnected.
 */

#include "ngx_http_fwgate_module.h"
#include "fwg_resp.h"


#define ngx_http_fwgate_redis_connect   ngx_http_fwgate_redis_conn_connect
#define ngx_http_fwgate_redis_schedule  ngx_http_fwgate_redis_conn_schedule
#define ngx_http_fwgate_redis_drop      ngx_http_fwgate_redis_conn_drop


static void ngx_http_fwgate_redis_reconnect_handler(ngx_event_t *ev);
static void ngx_http_fwgate_redis_connected(const redisAsyncContext *ac,
    int status);
static void ngx_http_fwgate_redis_disconnected(const redisAsyncContext *ac,
    int status);
static void ngx_http_fwgate_redis_read_handler(ngx_event_t *ev);
static void ngx_http_fwgate_redis_write_handler(ngx_event_t *ev);
static void ngx_http_fwgate_redis_add_read(void *data);
static void ngx_http_fwgate_redis_del_read(void *data);
static void ngx_http_fwgate_redis_add_write(void *data);
static void ngx_http_fwgate_redis_del_write(void *data);
static void ngx_http_fwgate_redis_event(ngx_http_fwgate_redis_conn_t *rc,
    ngx_uint_t write, ngx_uint_t add);
static void ngx_http_fwgate_redis_cleanup(void *data);
static void ngx_http_fwgate_redis_reply(redisAsyncContext *ac, void *r,
    void *privdata);
static void ngx_http_fwgate_redis_setup_reply(redisAsyncContext *ac,
    void *r, void *privdata);
static void ngx_http_fwgate_redis_role_reply(redisAsyncContext *ac,
    void *r, void *privdata);
static ngx_int_t ngx_http_fwgate_redis_send(ngx_http_fwgate_redis_conn_t *rc,
    ngx_http_fwgate_redis_cb_t *cb, int argc, const char **argv,
    const size_t *argvlen);


/* [0] reads from the first server that answers, [1] writes to the
   first that is a primary */
static ngx_http_fwgate_redis_conn_t   ngx_http_fwgate_redis[2];
static ngx_http_fwgate_reply_arena_t  ngx_http_fwgate_redis_arena[2];

/*
 * The subscription (subscribe.c asks for it): a third connection of the
 * same kind, subscribe-only, kept on the server the reads use, so that a
 * pushed message means the server answering the re-reads has the change.
 */
static ngx_http_fwgate_redis_conn_t   ngx_http_fwgate_redis_sub;
static ngx_http_fwgate_redis_cb_t    *ngx_http_fwgate_redis_sub_cb;
static ngx_str_t                      ngx_http_fwgate_redis_sub_channel;
static ngx_uint_t                     ngx_http_fwgate_redis_sub_wanted;

static void ngx_http_fwgate_redis_sub_connected(
    ngx_http_fwgate_redis_conn_t *rc);
static void ngx_http_fwgate_redis_sub_follow(void);
static void ngx_http_fwgate_redis_message(redisAsyncContext *ac, void *r,
    void *privdata);

#define NGX_HTTP_FWGATE_BACKOFF_MIN  50
/* short enough that service returns within about half a second of Redis */
#define NGX_HTTP_FWGATE_BACKOFF_MAX  500


ngx_int_t
ngx_http_fwgate_redis_init_process(ngx_cycle_t *cycle,
    ngx_http_fwgate_main_conf_t *fmcf)
{
    ngx_uint_t                     i;
    ngx_http_fwgate_redis_conn_t  *rc;

    for (i = 0; i < 2; i++) {
        rc = &ngx_http_fwgate_redis[i];

        ngx_http_fwgate_redis_conn_init(rc, fmcf, cycle->log,
                                        &fmcf->servers);
        rc->writer = i;
        rc->arena = &ngx_http_fwgate_redis_arena[i];

        if (fmcf->sentinels.nelts) {
            /* a failure asks a Sentinel again */
            rc->lost = ngx_http_fwgate_sentinel_lost;
        }

        /* with Sentinels only, nothing is known until one answers */

        if (fmcf->servers.nelts) {
            (void) ngx_http_fwgate_redis_connect(rc);
        }
    }

    if (fmcf->sentinels.nelts) {
        return ngx_http_fwgate_sentinel_init_process(cycle, fmcf);
    }

    return NGX_OK;
}


void
ngx_http_fwgate_redis_conn_init(ngx_http_fwgate_redis_conn_t *rc,
    ngx_http_fwgate_main_conf_t *fmcf, ngx_log_t *log, ngx_array_t *servers)
{
    ngx_memzero(rc, sizeof(ngx_http_fwgate_redis_conn_t));

    rc->fmcf = fmcf;
    rc->log = log;
    rc->servers = servers;
    rc->what = "redis";
    rc->backoff = NGX_HTTP_FWGATE_BACKOFF_MIN;

    rc->reconnect.handler = ngx_http_fwgate_redis_reconnect_handler;
    rc->reconnect.log = log;
    rc->reconnect.data = rc;
    rc->reconnect.cancelable = 1;
}


ngx_http_fwgate_redis_conn_t *
ngx_http_fwgate_redis_conn(ngx_uint_t writer)
{
    return &ngx_http_fwgate_redis[writer ? 1 : 0];
}


void
ngx_http_fwgate_redis_conn_stop(ngx_http_fwgate_redis_conn_t *rc)
{
    rc->exiting = 1;

    if (rc->reconnect.timer_set) {
        ngx_del_timer(&rc->reconnect);
    }

    ngx_http_fwgate_redis_drop(rc);
}


/*
 * From now on connect to HOST:PORT (an IP address).  A connection
 * elsewhere is dropped (its pending commands get NULL) and a new one is
 * opened at once; one already there is kept; one that is down and
 * waiting for its reconnect timer is left to it.
 */

void
ngx_http_fwgate_redis_conn_move(ngx_http_fwgate_redis_conn_t *rc,
    ngx_str_t *host, ngx_int_t port)
{
    u_char      *p;
    ngx_uint_t   same;

    if (host->len == 0 || host->len > NGX_INET6_ADDRSTRLEN || rc->exiting) {
        return;
    }

    same = rc->srv
           && rc->srv->port == port
           && rc->srv->host.len == host->len
           && ngx_strncmp(rc->srv->host.data, host->data, host->len) == 0;

    if (same) {
        if (rc->srv == &rc->own) {
            if (rc->ac == NULL && !rc->reconnect.timer_set) {
                (void) ngx_http_fwgate_redis_connect(rc);
            }
            return;
        }

        /* a static address that the Sentinel confirms: adopt it */
    }

    if (!same) {
        ngx_log_error(NGX_LOG_NOTICE, rc->log, 0,
                      "fwgate: redis %s now go to %*s:%i",
                      rc->writer ? "writes" : "reads",
                      host->len, host->data, port);

        ngx_http_fwgate_redis_drop(rc);
    }

    p = ngx_cpymem(rc->own_host, host->data, host->len);
    *p = '\0';

    rc->own.host.data = rc->own_host;
    rc->own.host.len = host->len;
    rc->own.port = port;

    if (ngx_strlchr(host->data, host->data + host->len, ':')) {
        p = ngx_sprintf(rc->own_name, "[%V]:%i", &rc->own.host, port);

    } else {
        p = ngx_sprintf(rc->own_name, "%V:%i", &rc->own.host, port);
    }

    rc->own.name.data = rc->own_name;
    rc->own.name.len = p - rc->own_name;

    rc->srv = &rc->own;

    if (same) {
        return;
    }

    if (rc->reconnect.timer_set) {
        ngx_del_timer(&rc->reconnect);
    }

    rc->backoff = NGX_HTTP_FWGATE_BACKOFF_MIN;

    (void) ngx_http_fwgate_redis_connect(rc);
}


void
ngx_http_fwgate_redis_exit_process(void)
{
    ngx_uint_t  i;

    ngx_http_fwgate_sentinel_exit_process();

    for (i = 0; i < 2; i++) {
        ngx_http_fwgate_redis_conn_stop(&ngx_http_fwgate_redis[i]);
        ngx_http_fwgate_reply_arena_free(&ngx_http_fwgate_redis_arena[i]);
    }

    if (ngx_http_fwgate_redis_sub_wanted) {
        ngx_http_fwgate_redis_unsubscribe();
    }
}


/*
 * Keeps a subscription to channel on the reads' server until
 * unsubscribed: cb gets each reply of the subscription ("subscribe" when
 * it is up, "message"s), and NULL whenever it is lost; it is made again
 * with the usual backoff, and moves when the reads move.
 */

void
ngx_http_fwgate_redis_subscribe(ngx_http_fwgate_redis_cb_t *cb,
    ngx_str_t *channel)
{
    ngx_http_fwgate_redis_conn_t  *rd, *rc;

    rd = &ngx_http_fwgate_redis[0];
    rc = &ngx_http_fwgate_redis_sub;

    if (rd->fmcf == NULL || !ngx_http_fwgate_has_redis(rd->fmcf)
        || ngx_http_fwgate_redis_sub_wanted)
    {
        return;
    }

    ngx_http_fwgate_redis_conn_init(rc, rd->fmcf, rd->log, rd->servers);
    rc->what = "redis subscription";
    rc->on_connect = ngx_http_fwgate_redis_sub_connected;

    ngx_http_fwgate_redis_sub_cb = cb;
    ngx_http_fwgate_redis_sub_channel = *channel;
    ngx_http_fwgate_redis_sub_wanted = 1;

    ngx_http_fwgate_redis_sub_follow();
}


void
ngx_http_fwgate_redis_unsubscribe(void)
{
    ngx_http_fwgate_redis_sub_wanted = 0;

    /* the callback gets its NULL now (or when hiredis's free runs) */
    ngx_http_fwgate_redis_conn_stop(&ngx_http_fwgate_redis_sub);
}


/* the subscription goes where the reads are */

static void
ngx_http_fwgate_redis_sub_follow(void)
{
    ngx_http_fwgate_redis_conn_t  *rd, *rc;

    if (!ngx_http_fwgate_redis_sub_wanted) {
        return;
    }

    rd = &ngx_http_fwgate_redis[0];
    rc = &ngx_http_fwgate_redis_sub;

    if (rd->srv && rd->connected) {
        ngx_http_fwgate_redis_conn_move(rc, &rd->srv->host, rd->srv->port);
        return;
    }

    if (rc->ac == NULL && !rc->reconnect.timer_set && rc->servers->nelts) {
        (void) ngx_http_fwgate_redis_connect(rc);
    }
}


static void
ngx_http_fwgate_redis_sub_connected(ngx_http_fwgate_redis_conn_t *rc)
{
    const char  *argv[2];
    size_t       argvlen[2];

    argv[0] = "SUBSCRIBE";
    argvlen[0] = 9;
    argv[1] = (const char *) ngx_http_fwgate_redis_sub_channel.data;
    argvlen[1] = ngx_http_fwgate_redis_sub_channel.len;

    if (redisAsyncCommandArgv(rc->ac, ngx_http_fwgate_redis_message,
                              ngx_http_fwgate_redis_sub_cb, 2, argv, argvlen)
        != REDIS_OK)
    {
        ngx_http_fwgate_redis_drop(rc);
        ngx_http_fwgate_redis_schedule(rc, 1);
    }
}


/* a subscription's replies: hiredis calls this for each, and NULL once */

static void
ngx_http_fwgate_redis_message(redisAsyncContext *ac, void *r, void *privdata)
{
    ngx_http_fwgate_redis_cb_t    *cb;
    ngx_http_fwgate_redis_conn_t  *rc;

    rc = ac->ev.data;
    cb = privdata;

    /* a context already replaced by a new one has nothing more to say */

    if (r == NULL && rc->ac != NULL && rc->ac != ac) {
        return;
    }

    if (r) {
        rc->last_reply = ngx_current_msec;
    }

    cb->handler(cb, r);
}


ngx_uint_t
ngx_http_fwgate_redis_ready(void)
{
    return ngx_http_fwgate_redis[0].ac != NULL
           && ngx_http_fwgate_redis[0].connected;
}


ngx_uint_t
ngx_http_fwgate_redis_writable(void)
{
    return ngx_http_fwgate_redis[1].ac != NULL
           && ngx_http_fwgate_redis[1].connected
           && ngx_http_fwgate_redis[1].writable;
}


ngx_int_t
ngx_http_fwgate_redis_command(ngx_http_fwgate_redis_cb_t *cb, int argc,
    const char **argv, const size_t *argvlen)
{
    return ngx_http_fwgate_redis_send(&ngx_http_fwgate_redis[0], cb, argc,
                                      argv, argvlen);
}


ngx_int_t
ngx_http_fwgate_redis_write(ngx_http_fwgate_redis_cb_t *cb, int argc,
    const char **argv, const size_t *argvlen)
{
    if (!ngx_http_fwgate_redis_writable()) {
        return NGX_DECLINED;
    }

    return ngx_http_fwgate_redis_send(&ngx_http_fwgate_redis[1], cb, argc,
                                      argv, argvlen);
}


/*
 * The command goes to hiredis already encoded (fwg_resp.c), from a stack
 * buffer when it fits: redisAsyncCommandArgv's own encoder cost about
 * 2,400 instructions a command, a third of a cold decision's Redis work.
 * NUL-terminated as hiredis's own are: it scans the command with strchr()
 * and looks one byte past a one-argument command for another argument.
 */

#define NGX_HTTP_FWGATE_REDIS_CMD_STACK  512

static ngx_int_t
ngx_http_fwgate_redis_send(ngx_http_fwgate_redis_conn_t *rc,
    ngx_http_fwgate_redis_cb_t *cb, int argc, const char **argv,
    const size_t *argvlen)
{
    int      status;
    char    *cmd;
    size_t   len;
    char     buf[NGX_HTTP_FWGATE_REDIS_CMD_STACK];

    if (rc->ac == NULL || !rc->connected) {
        return NGX_DECLINED;
    }

    len = fwg_resp_command_len(argc, argv, argvlen);

    if (len < sizeof(buf)) {
        cmd = buf;

    } else {
        cmd = ngx_alloc(len + 1, rc->log);
        if (cmd == NULL) {
            return NGX_DECLINED;
        }
    }

    *fwg_resp_command(cmd, argc, argv, argvlen) = '\0';

    cb->sent = ngx_current_msec;

    status = redisAsyncFormattedCommand(rc->ac, ngx_http_fwgate_redis_reply,
                                        cb, cmd, len);

    if (cmd != buf) {
        ngx_free(cmd);
    }

    if (status != REDIS_OK) {
        return NGX_DECLINED;
    }

    if (rc->pending == 0) {
        rc->last_reply = ngx_current_msec;
    }

    rc->pending++;
    ngx_http_fwgate_count(rc->fmcf->stats, &rc->fmcf->stats->redis_commands,
                          1);

    return NGX_OK;
}


void
ngx_http_fwgate_redis_timed_out(void)
{
    ngx_uint_t                     i;
    ngx_http_fwgate_redis_conn_t  *rc;

    (void) ngx_atomic_fetch_add(
               &ngx_http_fwgate_redis[0].fmcf->stats->redis_timeouts, 1);

    for (i = 0; i < 2; i++) {
        rc = &ngx_http_fwgate_redis[i];

        if (rc->ac == NULL) {
            continue;
        }

        /*
         * Nothing came back for a whole timeout while commands were
         * waiting: the server is stuck or the path is black-holed.
         * Replies are in order, so none can overtake: drop, reconnect.
         */

        if (rc->pending
            && ngx_current_msec - rc->last_reply >= rc->fmcf->timeout)
        {
            ngx_log_error(NGX_LOG_ERR, rc->log, 0,
                          "fwgate: redis %V timed out, reconnecting",
                          &rc->srv->name);

            ngx_http_fwgate_redis_drop(rc);
            ngx_http_fwgate_redis_schedule(rc, 1);
        }
    }
}


ngx_int_t
ngx_http_fwgate_redis_conn_connect(ngx_http_fwgate_redis_conn_t *rc)
{
    ngx_int_t                      rv;
    ngx_connection_t              *c;
    redisAsyncContext             *ac;
    ngx_http_fwgate_server_t      *srv;

    if (rc->srv != &rc->own) {
        if (rc->servers->nelts == 0) {
            /* nothing known yet: the owner moves it when it learns */
            return NGX_DECLINED;
        }

        srv = rc->servers->elts;
        rc->srv = &srv[rc->server];
    }

    srv = rc->srv;

    rc->connected = 0;
    rc->writable = 0;
    rc->pending = 0;

    ngx_log_debug3(NGX_LOG_DEBUG_EVENT, rc->log, 0,
                   "fwgate: %s connecting to %V%s", rc->what, &srv->name,
                   rc->writer ? " for writes" : "");

    /* addresses are IPs or unix paths: hiredis resolves nothing here */

    if (srv->port == 0) {
        ac = redisAsyncConnectUnix((const char *) srv->host.data);

    } else {
        ac = redisAsyncConnect((const char *) srv->host.data,
                               (int) srv->port);
    }

    if (ac == NULL) {
        ngx_log_error(NGX_LOG_ERR, rc->log, 0,
                      "fwgate: cannot allocate a redis context");
        ngx_http_fwgate_redis_schedule(rc, 0);
        return NGX_ERROR;
    }

    if (ac->err) {
        ngx_log_error(NGX_LOG_ERR, rc->log, 0,
                      "fwgate: %s %V connect failed: %s",
                      rc->what, &srv->name, ac->errstr);
        redisAsyncFree(ac);
        ngx_http_fwgate_redis_schedule(rc, 1);
        return NGX_ERROR;
    }

    /* reads and writes: reply objects from the connection's block */

    if (rc->arena) {
        ngx_http_fwgate_reply_attach(ac, rc->arena);
    }

    c = ngx_get_connection(ac->c.fd, rc->log);
    if (c == NULL) {
        redisAsyncFree(ac);
        ngx_http_fwgate_redis_schedule(rc, 0);
        return NGX_ERROR;
    }

    c->data = rc;
    c->read->handler = ngx_http_fwgate_redis_read_handler;
    c->write->handler = ngx_http_fwgate_redis_write_handler;
    c->read->log = rc->log;
    c->write->log = rc->log;

    rc->ac = ac;
    rc->conn = c;

    /* the adapter first: setting the connect callback asks for write */

    ac->ev.data = rc;
    ac->ev.addRead = ngx_http_fwgate_redis_add_read;
    ac->ev.delRead = ngx_http_fwgate_redis_del_read;
    ac->ev.addWrite = ngx_http_fwgate_redis_add_write;
    ac->ev.delWrite = ngx_http_fwgate_redis_del_write;
    ac->ev.cleanup = ngx_http_fwgate_redis_cleanup;

    redisAsyncSetConnectCallback(ac, ngx_http_fwgate_redis_connected);
    redisAsyncSetDisconnectCallback(ac, ngx_http_fwgate_redis_disconnected);

    ngx_add_timer(c->write, rc->fmcf->connect_timeout);

    if (rc->sentinel) {
        return NGX_OK;
    }

    (void) ngx_atomic_fetch_add(&rc->fmcf->stats->redis_connects, 1);

    /* AUTH and SELECT are queued first, so they precede every command */

    rv = NGX_OK;

    if (rc->fmcf->password.len) {
        const char  *argv[3];
        size_t       argvlen[3];
        int          argc;

        argc = 0;
        argv[argc] = "AUTH"; argvlen[argc++] = 4;

        if (rc->fmcf->user.len) {
            argv[argc] = (const char *) rc->fmcf->user.data;
            argvlen[argc++] = rc->fmcf->user.len;
        }

        argv[argc] = (const char *) rc->fmcf->password.data;
        argvlen[argc++] = rc->fmcf->password.len;

        if (redisAsyncCommandArgv(ac, ngx_http_fwgate_redis_setup_reply,
                                  NULL, argc, argv, argvlen)
            != REDIS_OK)
        {
            rv = NGX_ERROR;
        }
    }

    if (rv == NGX_OK && rc->fmcf->db > 0) {
        const char  *argv[2];
        size_t       argvlen[2];
        u_char       db[NGX_INT_T_LEN];

        argv[0] = "SELECT"; argvlen[0] = 6;
        argv[1] = (const char *) db;
        argvlen[1] = ngx_sprintf(db, "%i", rc->fmcf->db) - db;

        if (redisAsyncCommandArgv(ac, ngx_http_fwgate_redis_setup_reply,
                                  NULL, 2, argv, argvlen)
            != REDIS_OK)
        {
            rv = NGX_ERROR;
        }
    }

    if (rv != NGX_OK) {
        ngx_http_fwgate_redis_drop(rc);
        ngx_http_fwgate_redis_schedule(rc, 1);
    }

    return rv;
}


/* free the context: pending callbacks get NULL, cleanup releases conn */

void
ngx_http_fwgate_redis_conn_drop(ngx_http_fwgate_redis_conn_t *rc)
{
    redisAsyncContext  *ac;

    ac = rc->ac;

    if (ac == NULL) {
        return;
    }

    /*
     * Forget the context first: the disconnect callback then ignores it
     * (it is not called at all for a context that never connected), and
     * the caller schedules the reconnect.  hiredis defers the free when
     * this runs inside one of its callbacks.
     */

    rc->ac = NULL;
    rc->connected = 0;

    redisAsyncFree(ac);

    rc->pending = 0;
}


void
ngx_http_fwgate_redis_conn_schedule(ngx_http_fwgate_redis_conn_t *rc,
    ngx_uint_t next_server)
{
    if (rc->exiting || ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    if (rc->lost) {
        rc->lost(rc);
    }

    /* a given address (a Sentinel's) is retried until the owner moves it */

    if (rc->srv == &rc->own || rc->servers->nelts == 0) {
        next_server = 0;
    }

    if (next_server) {
        rc->server = (rc->server + 1) % rc->servers->nelts;

        /* a full round of failures: back off before trying the list again */

        if (rc->server != 0) {
            if (!rc->reconnect.timer_set) {
                ngx_log_debug1(NGX_LOG_DEBUG_EVENT, rc->log, 0,
                               "fwgate: %s reconnect: next server",
                               rc->what);

                ngx_add_timer(&rc->reconnect, 1);
            }
            return;
        }
    }

    if (!rc->reconnect.timer_set) {
        ngx_log_debug2(NGX_LOG_DEBUG_EVENT, rc->log, 0,
                       "fwgate: %s reconnect in %M ms", rc->what,
                       rc->backoff);

        ngx_add_timer(&rc->reconnect, rc->backoff);
    }

    rc->backoff *= 2;
    if (rc->backoff > NGX_HTTP_FWGATE_BACKOFF_MAX) {
        rc->backoff = NGX_HTTP_FWGATE_BACKOFF_MAX;
    }
}


static void
ngx_http_fwgate_redis_reconnect_handler(ngx_event_t *ev)
{
    ngx_http_fwgate_redis_conn_t  *rc;

    rc = ev->data;

    if (rc->ac || rc->exiting || ngx_exiting) {
        return;
    }

    (void) ngx_http_fwgate_redis_connect(rc);
}


static void
ngx_http_fwgate_redis_connected(const redisAsyncContext *ac, int status)
{
    ngx_http_fwgate_redis_conn_t  *rc;

    rc = ac->ev.data;

    if (status != REDIS_OK) {
        ngx_log_error(NGX_LOG_ERR, rc->log, 0,
                      "fwgate: %s %V connect failed: %s",
                      rc->what, &rc->srv->name,
                      ac->errstr ? ac->errstr : "error");

        if (!rc->sentinel) {
            (void) ngx_atomic_fetch_add(&rc->fmcf->stats->redis_errors, 1);
        }

        /* hiredis frees the context after this returns */
        rc->ac = NULL;
        rc->connected = 0;
        ngx_http_fwgate_redis_schedule(rc, 1);
        return;
    }

    if (rc->conn && rc->conn->write->timer_set) {
        ngx_del_timer(rc->conn->write);
    }

    ngx_log_error(NGX_LOG_INFO, rc->log, 0,
                  "fwgate: connected to %s %V", rc->what, &rc->srv->name);

    rc->connected = 1;
    rc->backoff = NGX_HTTP_FWGATE_BACKOFF_MIN;
    rc->last_reply = ngx_current_msec;

    /* reads moved to another server: the subscription moves with them */

    if (rc == &ngx_http_fwgate_redis[0]) {
        ngx_http_fwgate_redis_sub_follow();
    }

    if (rc->on_connect) {
        rc->on_connect(rc);
        return;
    }

    /* the write connection must reach a primary: ask the server its role */

    if (rc->writer) {
        if (redisAsyncCommand((redisAsyncContext *) ac,
                              ngx_http_fwgate_redis_role_reply, NULL, "ROLE")
            != REDIS_OK)
        {
            rc->connected = 0;
            return;
        }

        /* a server that never answers must not hold the writes */

        if (rc->conn) {
            ngx_add_timer(rc->conn->write, rc->fmcf->timeout);
        }
    }
}


static void
ngx_http_fwgate_redis_role_reply(redisAsyncContext *ac, void *r,
    void *privdata)
{
    redisReply                    *reply, *e;
    ngx_http_fwgate_redis_conn_t  *rc;

    rc = ac->ev.data;
    reply = r;

    if (reply == NULL || rc->ac != ac) {
        return;
    }

    if (rc->conn && rc->conn->write->timer_set) {
        ngx_del_timer(rc->conn->write);
    }

    if (reply->type == REDIS_REPLY_ARRAY && reply->elements > 0) {
        e = reply->element[0];

        if (e->type == REDIS_REPLY_STRING && e->len == 6
            && ngx_strncmp(e->str, "master", 6) == 0)
        {
            rc->writable = 1;
            return;
        }
    }

    ngx_log_error(NGX_LOG_INFO, rc->log, 0,
                  "fwgate: redis %V is not a primary, writes go elsewhere",
                  &rc->srv->name);

    /* the free is deferred until this callback returns */

    rc->ac = NULL;
    rc->connected = 0;
    redisAsyncFree(ac);

    ngx_http_fwgate_redis_schedule(rc, 1);
}


static void
ngx_http_fwgate_redis_disconnected(const redisAsyncContext *ac, int status)
{
    ngx_http_fwgate_redis_conn_t  *rc;

    rc = ac->ev.data;

    if (rc->ac == ac) {
        rc->ac = NULL;
        rc->connected = 0;
        rc->pending = 0;

        if (status != REDIS_OK) {
            ngx_log_error(NGX_LOG_ERR, rc->log, 0,
                          "fwgate: %s connection lost: %s", rc->what,
                          ac->errstr ? ac->errstr : "closed");

            if (!rc->sentinel) {
                (void) ngx_atomic_fetch_add(&rc->fmcf->stats->redis_errors,
                                            1);
            }
        }

        ngx_http_fwgate_redis_schedule(rc, status != REDIS_OK);
    }
}


static void
ngx_http_fwgate_redis_read_handler(ngx_event_t *ev)
{
    ngx_connection_t              *c;
    ngx_http_fwgate_redis_conn_t  *rc;

    c = ev->data;
    rc = c->data;

    if (rc->ac == NULL) {
        return;
    }

    /* the context may be gone when this returns: touch nothing after */
    redisAsyncHandleRead(rc->ac);
}


static void
ngx_http_fwgate_redis_write_handler(ngx_event_t *ev)
{
    ngx_connection_t              *c;
    ngx_http_fwgate_redis_conn_t  *rc;

    c = ev->data;
    rc = c->data;

    if (rc->ac == NULL) {
        return;
    }

    if (ev->timedout) {
        ev->timedout = 0;

        ngx_log_error(NGX_LOG_ERR, rc->log, 0,
                      "fwgate: %s %V timed out (connect or %s)", rc->what,
                      &rc->srv->name, rc->sentinel ? "query" : "ROLE");

        if (!rc->sentinel) {
            (void) ngx_atomic_fetch_add(&rc->fmcf->stats->redis_timeouts, 1);
        }

        ngx_http_fwgate_redis_drop(rc);
        ngx_http_fwgate_redis_schedule(rc, 1);
        return;
    }

    /* rc is ours and outlives the context: only the context may go */

    rc->writing = 1;
    redisAsyncHandleWrite(rc->ac);
    rc->writing = 0;
}


/* adapter hooks: idempotent, level-triggered */

static void
ngx_http_fwgate_redis_add_read(void *data)
{
    ngx_http_fwgate_redis_event(data, 0, 1);
}


static void
ngx_http_fwgate_redis_del_read(void *data)
{
    ngx_http_fwgate_redis_event(data, 0, 0);
}


static void
ngx_http_fwgate_redis_add_write(void *data)
{
    ngx_http_fwgate_redis_event(data, 1, 1);
}


static void
ngx_http_fwgate_redis_del_write(void *data)
{
    ngx_http_fwgate_redis_event(data, 1, 0);
}


/* the four hooks in one: the read or write event, added or deleted */

static void
ngx_http_fwgate_redis_event(ngx_http_fwgate_redis_conn_t *rc,
    ngx_uint_t write, ngx_uint_t add)
{
    ngx_int_t     event;
    ngx_event_t  *ev;

    if (rc->conn == NULL) {
        return;
    }

    ev = write ? rc->conn->write : rc->conn->read;
    event = write ? NGX_WRITE_EVENT : NGX_READ_EVENT;

    if (ev->active == add) {
        return;
    }

    /*
     * Commands, once connected, go out at the end of the event loop's
     * pass that made them, all in one write: the write event is posted
     * rather than added to epoll and deleted once written (two
     * epoll_ctl() and one more epoll_wait() for every round trip).  Only
     * a write that could not finish (hiredis asks for the event again
     * from the write handler) waits for epoll.
     */

    if (write && add && !rc->writing && rc->ac
        && (rc->ac->c.flags & REDIS_CONNECTED))
    {
        if (!ev->posted) {
            ngx_post_event(ev, &ngx_posted_events);
        }

        return;
    }

    if (!add) {
        (void) ngx_del_event(ev, event, NGX_LEVEL_EVENT);
        return;
    }

    if (ngx_add_event(ev, event, NGX_LEVEL_EVENT) != NGX_OK) {
        ngx_log_error(NGX_LOG_ALERT, rc->log, 0,
                      "fwgate: cannot add redis %s event",
                      write ? "write" : "read");
    }
}


static void
ngx_http_fwgate_redis_cleanup(void *data)
{
    ngx_connection_t              *c;
    ngx_http_fwgate_redis_conn_t  *rc = data;

    c = rc->conn;
    if (c == NULL) {
        return;
    }

    rc->conn = NULL;

    if (c->read->timer_set) {
        ngx_del_timer(c->read);
    }

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    if (c->read->active) {
        (void) ngx_del_event(c->read, NGX_READ_EVENT, NGX_LEVEL_EVENT);
    }

    if (c->write->active) {
        (void) ngx_del_event(c->write, NGX_WRITE_EVENT, NGX_LEVEL_EVENT);
    }

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    /* hiredis closes the socket itself */
    c->fd = (ngx_socket_t) -1;
    ngx_free_connection(c);
}


static void
ngx_http_fwgate_redis_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    ngx_uint_t                     i;
    ngx_msec_t                     ms;
    redisReply                    *reply;
    ngx_http_fwgate_stats_t       *st;
    ngx_http_fwgate_redis_cb_t    *cb;
    ngx_http_fwgate_redis_conn_t  *rc;

    static ngx_msec_t  bounds[NGX_HTTP_FWGATE_LAT_BUCKETS] = {
        1, 2, 5, 10, 25, 50, 100, 250
    };

    rc = ac->ev.data;
    cb = privdata;
    reply = r;
    st = rc->fmcf->stats;

    if (reply) {
        rc->last_reply = ngx_current_msec;

        if (rc->pending) {
            rc->pending--;
        }

        ms = ngx_current_msec - cb->sent;

        for (i = 0; i < NGX_HTTP_FWGATE_LAT_BUCKETS; i++) {
            if (ms <= bounds[i]) {
                break;
            }
        }

        ngx_http_fwgate_count(st, &st->redis_lat[i], 1);
        ngx_http_fwgate_count(st, &st->redis_lat_sum_us, ms * 1000);

        if (reply->type == REDIS_REPLY_ERROR) {
            (void) ngx_atomic_fetch_add(&st->redis_errors, 1);
            ngx_log_error(NGX_LOG_ERR, rc->log, 0,
                          "fwgate: redis error: %*s",
                          (size_t) ngx_min(reply->len, 200), reply->str);
        }
    }

    cb->handler(cb, reply);
}


static void
ngx_http_fwgate_redis_setup_reply(redisAsyncContext *ac, void *r,
    void *privdata)
{
    redisReply                    *reply;
    ngx_http_fwgate_redis_conn_t  *rc;

    rc = ac->ev.data;
    reply = r;

    if (reply == NULL || reply->type != REDIS_REPLY_ERROR) {
        return;
    }

    /* the password itself never reaches the log */
    ngx_log_error(NGX_LOG_ERR, rc->log, 0,
                  "fwgate: redis AUTH/SELECT refused: %*s",
                  (size_t) ngx_min(reply->len, 200), reply->str);

    (void) ngx_atomic_fetch_add(&rc->fmcf->stats->redis_errors, 1);

    /* deferred by hiredis until this callback returns */
    redisAsyncFree(ac);
}
