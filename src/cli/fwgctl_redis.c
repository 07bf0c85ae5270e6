/*
 * fwgatectl: what the registry commands and explain share (declared in
 * fwgctl_redis.h): the synchronous Redis connection made from the global
 * options, binary-safe argument vectors, MULTI/EXEC transactions that
 * bump the epoch, hash replies, and the registry's names.
 *
 * Every argument goes through redisCommandArgv/redisAppendCommandArgv,
 * never through a format string, so ids and paths from users or CSV files
 * cannot inject commands.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

#include "fwgatectl.h"
#include "fwgctl_redis.h"



const char *
fwgctl_opt_redis(void)
{
    return fwg_cli.redis ? fwg_cli.redis : "127.0.0.1:6379";
}


const char *
fwgctl_opt_password(void)
{
    return fwg_cli.password;
}


int
fwgctl_opt_db(void)
{
    return fwg_cli.db;
}


const char *
fwgctl_opt_prefix(void)
{
    return fwg_cli.prefix ? fwg_cli.prefix : "fwgate:";
}


int
fwgctl_opt_json(void)
{
    return fwg_cli.json;
}


/* a command of the connection's setup: 0, or 1 after "<what> failed" */
static int
fwgctl_setup(redisContext *c, const char *addr, const char *cmd,
    const char *arg, const char *what)
{
    redisReply  *r;
    const char  *argv[2];

    argv[0] = cmd;
    argv[1] = arg;
    r = redisCommandArgv(c, 2, argv, NULL);

    if (r == NULL || r->type == REDIS_REPLY_ERROR) {
        fwgctl_err("redis %s: %s failed: %s", addr, what,
                   r ? r->str : c->errstr);
        if (r) {
            freeReplyObject(r);
        }
        return 1;
    }

    freeReplyObject(r);

    return 0;
}


redisContext *
fwgctl_connect(void)
{
    redisContext    *c;
    struct timeval   tv;
    const char      *addr, *colon;
    char             host[256], dbs[16], what[32];
    size_t           hlen;
    long             port;
    char            *end;

    addr = fwgctl_opt_redis();
    tv.tv_sec = 3;
    tv.tv_usec = 0;

    if (addr[0] == '/') {
        c = redisConnectUnixWithTimeout(addr, tv);

    } else {
        colon = strrchr(addr, ':');
        hlen = colon ? (size_t) (colon - addr) : strlen(addr);
        port = 6379;

        if (colon) {
            errno = 0;
            port = strtol(colon + 1, &end, 10);
            if (errno || *end || port < 1 || port > 65535) {
                fwgctl_err("bad --redis address: %s", addr);
                return NULL;
            }
        }

        if (hlen == 0 || hlen >= sizeof(host)) {
            fwgctl_err("bad --redis address: %s", addr);
            return NULL;
        }

        memcpy(host, addr, hlen);
        host[hlen] = '\0';

        /* [::1]:6379 */
        if (host[0] == '[' && host[hlen - 1] == ']') {
            memmove(host, host + 1, hlen - 2);
            host[hlen - 2] = '\0';
        }

        c = redisConnectWithTimeout(host, (int) port, tv);
    }

    if (c == NULL || c->err) {
        fwgctl_err("redis %s: %s", addr, c ? c->errstr : "out of memory");
        if (c) {
            redisFree(c);
        }
        return NULL;
    }

    tv.tv_sec = 10;
    redisSetTimeout(c, tv);

    /* "AUTH", never with the password: it is not echoed */
    if (fwgctl_opt_password() != NULL
        && fwgctl_setup(c, addr, "AUTH", fwgctl_opt_password(), "AUTH")
           != 0)
    {
        redisFree(c);
        return NULL;
    }

    if (fwgctl_opt_db() != 0) {
        snprintf(dbs, sizeof(dbs), "%d", fwgctl_opt_db());
        snprintf(what, sizeof(what), "SELECT %s", dbs);

        if (fwgctl_setup(c, addr, "SELECT", dbs, what) != 0) {
            redisFree(c);
            return NULL;
        }
    }

    return c;
}


void
fwgctl_av_reset(fwgctl_av_t *av)
{
    int  i;

    for (i = 0; i < av->n; i++) {
        free(av->own[i]);
        av->own[i] = NULL;
    }

    av->n = 0;
}


void
fwgctl_av_addn(fwgctl_av_t *av, const char *s, size_t len)
{
    if (av->n >= FWGCTL_AV_MAX) {
        /* a programming error, not user input: every caller is bounded */
        fwgctl_err("internal: too many arguments");
        exit(1);
    }

    av->v[av->n] = s;
    av->l[av->n] = len;
    av->own[av->n] = NULL;
    av->n++;
}


void
fwgctl_av_add(fwgctl_av_t *av, const char *s)
{
    fwgctl_av_addn(av, s, strlen(s));
}


/* prefix + the parts, e.g. fwgctl_av_key(av, "device:", id, NULL) */
void
fwgctl_av_key(fwgctl_av_t *av, ...)
{
    va_list      ap;
    const char  *prefix, *part;
    size_t       len;
    char        *buf;

    prefix = fwgctl_opt_prefix();
    len = strlen(prefix);

    va_start(ap, av);
    while ((part = va_arg(ap, const char *)) != NULL) {
        len += strlen(part);
    }
    va_end(ap);

    buf = malloc(len + 1);
    if (buf == NULL) {
        fwgctl_err("out of memory");
        exit(1);
    }

    strcpy(buf, prefix);

    va_start(ap, av);
    while ((part = va_arg(ap, const char *)) != NULL) {
        strcat(buf, part);
    }
    va_end(ap);

    fwgctl_av_addn(av, buf, len);
    av->own[av->n - 1] = buf;
}


/* runs av (then resets it); NULL after printing the error */
redisReply *
fwgctl_run(redisContext *c, fwgctl_av_t *av)
{
    redisReply  *r;

    r = redisCommandArgv(c, av->n, av->v, av->l);

    if (r == NULL) {
        fwgctl_err("redis: %s", c->errstr[0] ? c->errstr : "no reply");

    } else if (r->type == REDIS_REPLY_ERROR) {
        fwgctl_err("redis %.*s: %s", (int) av->l[0], av->v[0], r->str);
        freeReplyObject(r);
        r = NULL;
    }

    fwgctl_av_reset(av);

    return r;
}


int
fwgctl_append(redisContext *c, fwgctl_av_t *av)
{
    int  rc;

    rc = redisAppendCommandArgv(c, av->n, av->v, av->l);
    fwgctl_av_reset(av);

    if (rc != REDIS_OK) {
        return fwgctl_err("redis: %s", c->errstr);
    }

    return 0;
}


/* HGETALL of prefix + a + b; NULL on error, an empty array when absent */
redisReply *
fwgctl_hgetall(redisContext *c, const char *a, const char *b)
{
    return fwgctl_hgetall3(c, a, b, NULL);
}


/* HGETALL prefix+a+b+d (d may be NULL) */
redisReply *
fwgctl_hgetall3(redisContext *c, const char *a, const char *b,
    const char *d)
{
    fwgctl_av_t  av;

    av.n = 0;
    fwgctl_av_add(&av, "HGETALL");
    fwgctl_av_key(&av, a, b, d, NULL);

    return fwgctl_run(c, &av);
}


/* the same for a record that must exist: else NULL after printing fmt */
redisReply *
fwgctl_hrecord(redisContext *c, const char *a, const char *b,
    const char *fmt, ...)
{
    va_list      ap;
    redisReply  *r;

    r = fwgctl_hgetall(c, a, b);

    if (r != NULL && !fwgctl_hfound(r)) {
        freeReplyObject(r);
        r = NULL;

        va_start(ap, fmt);
        fwgctl_verr(fmt, ap);
        va_end(ap);
    }

    return r;
}


fwg_str_t
fwgctl_hfield(const redisReply *r, const char *field)
{
    fwg_str_t  s;
    size_t     i;

    s.data = NULL;
    s.len = 0;

    if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
        return s;
    }

    for (i = 0; i + 1 < r->elements; i += 2) {
        if (r->element[i]->type == REDIS_REPLY_STRING
            && r->element[i + 1]->type == REDIS_REPLY_STRING
            && strcmp(r->element[i]->str, field) == 0)
        {
            s.data = r->element[i + 1]->str;
            s.len = r->element[i + 1]->len;
            return s;
        }
    }

    return s;
}


int
fwgctl_hfound(const redisReply *r)
{
    return r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements > 0;
}

/* device ids: 1..128 of [A-Za-z0-9._:@-] */
int
fwgctl_id_valid(const char *s, size_t len)
{
    size_t  i;
    char    ch;

    if (len == 0 || len > 128) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        ch = s[i];

        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z')
              || (ch >= '0' && ch <= '9') || ch == '.' || ch == '_'
              || ch == '-' || ch == ':' || ch == '@'))
        {
            return 0;
        }
    }

    return 1;
}


/* artifact names: 1..128 of [A-Za-z0-9._-], not "." or ".." */
int
fwgctl_artifact_name_valid(const char *s)
{
    size_t  len, i;
    char    ch;

    len = strlen(s);

    if (len == 0 || len > 128 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
    {
        return 0;
    }

    for (i = 0; i < len; i++) {
        ch = s[i];

        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z')
              || (ch >= '0' && ch <= '9') || ch == '.' || ch == '_'
              || ch == '-'))
        {
            return 0;
        }
    }

    return 1;
}


/*
 * PUBLISH <prefix>invalidate <message>: what a change names, so edges
 * subscribed to a replica drop their cached records at once rather than
 * at their next epoch poll (docs/redis-schema.md, "Pushed invalidation").
 * The message is a registry key without the prefix, or "*"; len 0 is "*".
 */
void
fwgctl_av_publish(fwgctl_av_t *av, const char *name, size_t len)
{
    fwgctl_av_add(av, "PUBLISH");
    fwgctl_av_key(av, "invalidate", NULL);

    if (name == NULL || len == 0) {
        fwgctl_av_add(av, "*");

    } else {
        fwgctl_av_addn(av, name, len);
    }
}


/*
 * runs MULTI, the queued commands in av list, INCR epoch, PUBLISH
 * invalidate, EXEC; the message names the first command's key
 */
int
fwgctl_exec_tx(redisContext *c, fwgctl_av_t *cmds, int ncmds)
{
    fwgctl_av_t   av;
    redisReply   *r;
    int           i, rc;
    size_t        plen, nlen;
    const char   *prefix, *name;
    char          buf[512];

    /* the key the change names: the first command's, without the prefix */

    prefix = fwgctl_opt_prefix();
    plen = strlen(prefix);
    name = NULL;
    nlen = 0;

    if (ncmds > 0 && cmds[0].n > 1 && cmds[0].l[1] > plen
        && cmds[0].l[1] - plen < sizeof(buf)
        && memcmp(cmds[0].v[1], prefix, plen) == 0)
    {
        nlen = cmds[0].l[1] - plen;
        memcpy(buf, cmds[0].v[1] + plen, nlen);
        name = buf;
    }

    av.n = 0;
    fwgctl_av_add(&av, "MULTI");
    r = fwgctl_run(c, &av);
    if (r == NULL) {
        return 1;
    }
    freeReplyObject(r);

    for (i = 0; i < ncmds; i++) {
        r = fwgctl_run(c, &cmds[i]);
        if (r == NULL) {
            av.n = 0;
            fwgctl_av_add(&av, "DISCARD");
            r = fwgctl_run(c, &av);
            if (r) {
                freeReplyObject(r);
            }
            return 1;
        }
        freeReplyObject(r);
    }

    fwgctl_av_add(&av, "INCR");
    fwgctl_av_key(&av, "epoch", NULL);
    r = fwgctl_run(c, &av);
    if (r == NULL) {
        return 1;
    }
    freeReplyObject(r);

    fwgctl_av_publish(&av, name, nlen);
    r = fwgctl_run(c, &av);
    if (r == NULL) {
        return 1;
    }
    freeReplyObject(r);

    fwgctl_av_add(&av, "EXEC");
    r = fwgctl_run(c, &av);
    if (r == NULL) {
        return 1;
    }

    rc = 0;

    if (r->type == REDIS_REPLY_NIL) {
        /* a WATCHed key changed between our check and the write */
        rc = fwgctl_err("registry changed concurrently; nothing written, "
                        "try again");

    } else if (r->type == REDIS_REPLY_ARRAY) {
        for (i = 0; (size_t) i < r->elements; i++) {
            if (r->element[i]->type == REDIS_REPLY_ERROR) {
                rc = fwgctl_err("redis: %s", r->element[i]->str);
                break;
            }
        }
    }

    freeReplyObject(r);

    return rc;
}


/* WATCH prefix+a+b: the transaction that follows fails if it changes */
int
fwgctl_watch(redisContext *c, const char *a, const char *b)
{
    fwgctl_av_t   av;
    redisReply   *r;

    av.n = 0;
    fwgctl_av_add(&av, "WATCH");
    fwgctl_av_key(&av, a, b, NULL);
    r = fwgctl_run(c, &av);
    if (r == NULL) {
        return 1;
    }
    freeReplyObject(r);

    return 0;
}


/* n empty argument vectors, e.g. the commands of one transaction */
void
fwgctl_av_init_all(fwgctl_av_t *cmds, int n)
{
    int  i;

    for (i = 0; i < n; i++) {
        cmds[i].n = 0;
    }
}


void
fwgctl_av_reset_all(fwgctl_av_t *cmds, int n)
{
    int  i;

    for (i = 0; i < n; i++) {
        fwgctl_av_reset(&cmds[i]);
    }
}
