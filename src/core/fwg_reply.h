/*
 * fwgate: which Redis replies are registry records, for the module,
 * `fwgatectl explain` and fuzz/fuzz_record.c alike.
 *
 * The hiredis half of the record conversion (the blob format is the
 * core's, src/core/fwg_record.h).  Plain C99 with hiredis and the core's
 * types, no nginx headers, so the fuzz target runs the module's own
 * checks on replies hiredis's reader made from hostile bytes.
 */

#ifndef FWG_REPLY_H
#define FWG_REPLY_H

#include <hiredis/hiredis.h>

#include "fwg_types.h"

/*
 * An HGETALL reply is an array of an even number of strings, at most
 * FWG_BLOB_MAX_PARTS of them.  Returns the number of strings, or -1 when
 * the reply is anything else.
 */
int fwg_reply_hash_count(const redisReply *reply);

/* points parts[0 .. count - 1] at the strings of a checked hash reply */
void fwg_reply_hash_parts(const redisReply *reply, fwg_str_t *parts);

/* a SISMEMBER reply is an integer: 1 (member) or 0; -1 when it is not */
int fwg_reply_member(const redisReply *reply);

#endif /* FWG_REPLY_H */
