/*
 * RFC 9530 Content-Digest: checks a request body against the field.
 *
 * A signature that covers content-digest only protects the body when the
 * digest itself is checked: that is this file's one job.
 */

#ifndef FWG_DIGEST_H
#define FWG_DIGEST_H

#include "fwg_types.h"

/*
 * value: the Content-Digest field value (an RFC 8941 dictionary of byte
 * sequences).  Every sha-256 and sha-512 member must match the body; other
 * algorithms are ignored.  Returns 1 when at least one supported member is
 * present and all of them match, 0 on a mismatch, -1 when the field is
 * malformed or names no supported algorithm (*err says which).
 */
int fwg_content_digest_check(const char *value, size_t len,
    const unsigned char *body, size_t blen, fwg_arena_t *a,
    const char **err);

#endif /* FWG_DIGEST_H */
