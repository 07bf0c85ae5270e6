
/*
 * fwgate: registry records as flat blobs.
 *
 * A Redis reply lives only for its callback, and a cached record must fit
 * in one shared-memory allocation, so a hash reply is flattened into
 * "field NUL value NUL ..." with a 4-byte length before each part.  Record
 * parsing then reads fields out of the blob without copying.
 */

#include "ngx_http_fwgate_module.h"


#define NGX_HTTP_FWGATE_MAX_BLOB  65536


ngx_int_t
ngx_http_fwgate_blob_from_reply(redisReply *reply, ngx_uint_t kind,
    ngx_str_t *blob)
{
    u_char       *p;
    size_t        len, i;
    uint32_t      n;
    redisReply   *e;

    if (kind == NGX_HTTP_FWGATE_KIND_MEMBER) {
        if (reply->type != REDIS_REPLY_INTEGER) {
            return NGX_ERROR;
        }

        blob->data = ngx_alloc(1, ngx_cycle->log);
        if (blob->data == NULL) {
            return NGX_ERROR;
        }

        blob->data[0] = reply->integer ? '1' : '0';
        blob->len = 1;
        return NGX_OK;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements % 2) {
        return NGX_ERROR;
    }

    len = 0;

    for (i = 0; i < reply->elements; i++) {
        e = reply->element[i];

        if (e == NULL || e->type != REDIS_REPLY_STRING) {
            return NGX_ERROR;
        }

        len += 4 + (size_t) e->len;

        /* a record this large is not ours: refuse it whole */
        if (len > NGX_HTTP_FWGATE_MAX_BLOB) {
            return NGX_ERROR;
        }
    }

    blob->data = ngx_alloc(len ? len : 1, ngx_cycle->log);
    if (blob->data == NULL) {
        return NGX_ERROR;
    }

    p = blob->data;

    for (i = 0; i < reply->elements; i++) {
        e = reply->element[i];
        n = (uint32_t) e->len;
        ngx_memcpy(p, &n, 4);
        p = ngx_cpymem(p + 4, e->str, e->len);
    }

    blob->len = len;

    return NGX_OK;
}


ngx_int_t
ngx_http_fwgate_blob_field(ngx_str_t *blob, const char *name,
    fwg_str_t *value)
{
    u_char    *p, *end, *f, *v;
    size_t     nlen;
    uint32_t   flen, vlen;

    p = blob->data;
    end = blob->data + blob->len;
    nlen = ngx_strlen(name);

    while (end - p >= 4) {
        ngx_memcpy(&flen, p, 4);
        p += 4;

        if ((size_t) (end - p) < flen) {
            return NGX_ERROR;
        }

        f = p;
        p += flen;

        if (end - p < 4) {
            return NGX_ERROR;
        }

        ngx_memcpy(&vlen, p, 4);
        p += 4;

        if ((size_t) (end - p) < vlen) {
            return NGX_ERROR;
        }

        v = p;
        p += vlen;

        if (flen == nlen && ngx_memcmp(f, name, nlen) == 0) {
            value->data = (const char *) v;
            value->len = vlen;
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}
