
/*
 * fwgate: registry records as flat blobs.
 *
 * A Redis reply lives only for its callback, and a cached record must fit
 * in one shared-memory allocation, so a hash reply is flattened into a
 * blob (src/core/fwg_record.h: each string after its 4-byte length).
 * Which replies are records is decided in fwg_reply.c, the blob format in
 * the core; this file only allocates.
 */

#include "ngx_http_fwgate_module.h"
#include "fwg_reply.h"


/* parts kept on the stack: a registry record has a handful of fields */
#define NGX_HTTP_FWGATE_BLOB_PARTS  32


ngx_int_t
ngx_http_fwgate_blob_from_reply(redisReply *reply, ngx_uint_t kind,
    ngx_str_t *blob)
{
    int         n, member;
    size_t      len;
    ngx_int_t   rc;
    fwg_str_t   local[NGX_HTTP_FWGATE_BLOB_PARTS], *parts;

    if (kind == NGX_HTTP_FWGATE_KIND_MEMBER) {
        member = fwg_reply_member(reply);
        if (member < 0) {
            return NGX_ERROR;
        }

        blob->data = ngx_alloc(1, ngx_cycle->log);
        if (blob->data == NULL) {
            return NGX_ERROR;
        }

        blob->data[0] = member ? '1' : '0';
        blob->len = 1;
        return NGX_OK;
    }

    n = fwg_reply_hash_count(reply);
    if (n < 0) {
        return NGX_ERROR;
    }

    parts = local;

    if (n > NGX_HTTP_FWGATE_BLOB_PARTS) {
        parts = ngx_alloc(n * sizeof(fwg_str_t), ngx_cycle->log);
        if (parts == NULL) {
            return NGX_ERROR;
        }
    }

    fwg_reply_hash_parts(reply, parts);

    rc = NGX_ERROR;

    if (fwg_blob_build(parts, n, NULL, 0, &len) == 0) {
        blob->data = ngx_alloc(len ? len : 1, ngx_cycle->log);

        if (blob->data != NULL) {
            (void) fwg_blob_build(parts, n, (char *) blob->data, len, &len);
            blob->len = len;
            rc = NGX_OK;
        }
    }

    if (parts != local) {
        ngx_free(parts);
    }

    return rc;
}

