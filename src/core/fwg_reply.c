/*
 * fwgate: the checks that make a Redis reply a registry record.
 */

#include "fwg_record.h"
#include "fwg_reply.h"


int
fwg_reply_hash_count(const redisReply *reply)
{
    size_t       i;
    redisReply  *e;

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements % 2) {
        return -1;
    }

    /* refused before anything is allocated for it */
    if (reply->elements > FWG_BLOB_MAX_PARTS) {
        return -1;
    }

    for (i = 0; i < reply->elements; i++) {
        e = reply->element[i];

        if (e == NULL || e->type != REDIS_REPLY_STRING) {
            return -1;
        }
    }

    return (int) reply->elements;
}


void
fwg_reply_hash_parts(const redisReply *reply, fwg_str_t *parts)
{
    size_t  i;

    for (i = 0; i < reply->elements; i++) {
        parts[i].data = reply->element[i]->str;
        parts[i].len = reply->element[i]->len;
    }
}


int
fwg_reply_member(const redisReply *reply)
{
    if (reply->type != REDIS_REPLY_INTEGER) {
        return -1;
    }

    return reply->integer ? 1 : 0;
}
