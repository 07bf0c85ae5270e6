
/*
 * fwgate: hiredis reply objects from a per-connection arena.
 *
 * hiredis's default reader allocates each reply object and each string
 * with calloc() and malloc(), and frees them one by one once the
 * callback returns: about 3,500 instructions of a cold decision's
 * Redis work (an HGETALL reply is 2n + 1 objects and 2n strings).  Our
 * callbacks copy what they need before returning (NGINX-NOTES: a reply
 * lives only for its callback), so the objects can come from a block
 * that the next reply reuses.
 *
 * The block is the connection's and is never freed: an arena is reset
 * when its reader starts a new reply (the root object, with no parent),
 * and at most one reply of a reader is ever alive (hiredis frees each
 * after its callback, before it parses the next one).  freeObject does
 * nothing, so a reader freed late (hiredis defers a free asked for in
 * a callback) never reads arena memory a newer connection reused.  What
 * does not fit is malloc()ed and chained to the arena, and freed at its
 * next reset or at worker exit.
 */

#include "ngx_http_fwgate_module.h"


typedef struct ngx_http_fwgate_spill_s  ngx_http_fwgate_spill_t;

struct ngx_http_fwgate_spill_s {
    ngx_http_fwgate_spill_t  *next;
};


static void *ngx_http_fwgate_reply_string(const redisReadTask *task,
    char *str, size_t len);
static void *ngx_http_fwgate_reply_array(const redisReadTask *task,
    int elements);
static void *ngx_http_fwgate_reply_integer(const redisReadTask *task,
    long long value);
static void *ngx_http_fwgate_reply_nil(const redisReadTask *task);
static void ngx_http_fwgate_reply_free(void *reply);


static redisReplyObjectFunctions  ngx_http_fwgate_reply_functions = {
    .createString = ngx_http_fwgate_reply_string,
    .createArray = ngx_http_fwgate_reply_array,
    .createInteger = ngx_http_fwgate_reply_integer,
    .createNil = ngx_http_fwgate_reply_nil,
    .freeObject = ngx_http_fwgate_reply_free
};


void
ngx_http_fwgate_reply_attach(redisAsyncContext *ac,
    ngx_http_fwgate_reply_arena_t *a)
{
    if (ac->c.reader == NULL) {
        return;
    }

    a->pos = a->buf;
    ac->c.reader->fn = &ngx_http_fwgate_reply_functions;
    ac->c.reader->privdata = a;
}


void
ngx_http_fwgate_reply_arena_free(ngx_http_fwgate_reply_arena_t *a)
{
    ngx_http_fwgate_spill_t  *s;

    while (a->spills) {
        s = a->spills;
        a->spills = s->next;
        free(s);
    }

    a->pos = a->buf;
}


static void *
ngx_http_fwgate_reply_alloc(const redisReadTask *task, size_t size)
{
    u_char                         *p;
    ngx_http_fwgate_spill_t        *s;
    ngx_http_fwgate_reply_arena_t  *a;

    a = task->privdata;
    size = ngx_align(size, sizeof(void *));

    if ((size_t) (a->buf + sizeof(a->buf) - a->pos) >= size) {
        p = a->pos;
        a->pos += size;
        return p;
    }

    /* the header keeps the payload aligned as malloc() would */

    s = malloc(ngx_align(sizeof(ngx_http_fwgate_spill_t), 16) + size);
    if (s == NULL) {
        return NULL;
    }

    s->next = a->spills;
    a->spills = s;

    return (u_char *) s + ngx_align(sizeof(ngx_http_fwgate_spill_t), 16);
}


/* a new object, linked into its parent array as hiredis's own are */

static redisReply *
ngx_http_fwgate_reply_object(const redisReadTask *task, int type)
{
    redisReply                     *r, *parent;
    ngx_http_fwgate_reply_arena_t  *a;

    /*
     * A root object is a new reply's first allocation: the previous reply
     * was freed before this one was parsed.
     */

    a = task->privdata;

    if (task->parent == NULL && a->pos != a->buf) {
        ngx_http_fwgate_reply_arena_free(a);
    }

    r = ngx_http_fwgate_reply_alloc(task, sizeof(redisReply));
    if (r == NULL) {
        return NULL;
    }

    ngx_memzero(r, sizeof(redisReply));
    r->type = type;

    if (task->parent) {
        parent = task->parent->obj;
        parent->element[task->idx] = r;
    }

    return r;
}


static void *
ngx_http_fwgate_reply_string(const redisReadTask *task, char *str,
    size_t len)
{
    char        *buf;
    redisReply  *r;

    r = ngx_http_fwgate_reply_object(task, task->type);
    if (r == NULL) {
        return NULL;
    }

    buf = ngx_http_fwgate_reply_alloc(task, len + 1);
    if (buf == NULL) {
        return NULL;
    }

    ngx_memcpy(buf, str, len);
    buf[len] = '\0';

    r->str = buf;
    r->len = len;

    return r;
}


static void *
ngx_http_fwgate_reply_array(const redisReadTask *task, int elements)
{
    redisReply  *r;

    r = ngx_http_fwgate_reply_object(task, REDIS_REPLY_ARRAY);
    if (r == NULL) {
        return NULL;
    }

    if (elements > 0) {
        r->element = ngx_http_fwgate_reply_alloc(task,
                                         (size_t) elements * sizeof(void *));
        if (r->element == NULL) {
            return NULL;
        }

        ngx_memzero(r->element, (size_t) elements * sizeof(void *));
    }

    r->elements = elements;

    return r;
}


static void *
ngx_http_fwgate_reply_integer(const redisReadTask *task, long long value)
{
    redisReply  *r;

    r = ngx_http_fwgate_reply_object(task, REDIS_REPLY_INTEGER);
    if (r == NULL) {
        return NULL;
    }

    r->integer = value;

    return r;
}


static void *
ngx_http_fwgate_reply_nil(const redisReadTask *task)
{
    return ngx_http_fwgate_reply_object(task, REDIS_REPLY_NIL);
}


/* see the top: the arena reclaims it all at the next reply */

static void
ngx_http_fwgate_reply_free(void *reply)
{
}
