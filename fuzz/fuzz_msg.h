/*
 * A request message (fwg_msg_t) from fuzz pieces, shared by the targets
 * that parse signatures: piece 0 the method, 1 the scheme, 2 the
 * authority, 3 the target (path and query), the rest "name: value" field
 * lines.  Each string has a buffer of its own, so that ASan sees any read
 * past its end.
 */

#ifndef FUZZ_MSG_H
#define FUZZ_MSG_H

#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "fwg_sig.h"


static fwg_str_t
fuzz_dup(const char *s, size_t len)
{
    fwg_str_t   r;
    char       *p;

    p = malloc(len ? len : 1);
    if (p == NULL) {
        abort();
    }
    memcpy(p, s, len);
    r.data = p;
    r.len = len;
    return r;
}


static void
fuzz_msg_make(const fuzz_pieces_t *pc, fwg_msg_t *msg, fwg_field_t *f,
    size_t max)
{
    fwg_str_t    path, line;
    const char  *q, *colon;
    size_t       i, nf, off;

    memset(msg, 0, sizeof(*msg));
    msg->method = fuzz_piece(pc, 0);
    msg->scheme = fuzz_piece(pc, 1);
    msg->authority = fuzz_piece(pc, 2);

    path = fuzz_piece(pc, 3);
    q = path.len ? memchr(path.data, '?', path.len) : NULL;
    if (q != NULL) {
        off = (size_t) (q - path.data);
        msg->query = fuzz_dup(q + 1, path.len - off - 1);
        msg->has_query = 1;
        msg->path = fuzz_dup(path.data, off);
    } else {
        msg->query = fuzz_dup("", 0);
        msg->path = fuzz_dup(path.data, path.len);
    }

    nf = 0;
    for (i = 4; i < pc->n && nf < max; i++) {
        line = pc->s[i];
        colon = line.len ? memchr(line.data, ':', line.len) : NULL;
        off = colon ? (size_t) (colon - line.data) : line.len;
        f[nf].name = fuzz_dup(line.data, off);
        if (colon != NULL) {
            off++;
            if (off < line.len && line.data[off] == ' ') {
                off++;
            }
        }
        f[nf].value = fuzz_dup(line.data + off, line.len - off);
        nf++;
    }
    msg->fields = f;
    msg->nfields = nf;
}


static void
fuzz_msg_free(fwg_msg_t *msg)
{
    size_t  i;

    for (i = 0; i < msg->nfields; i++) {
        free((void *) msg->fields[i].name.data);
        free((void *) msg->fields[i].value.data);
    }
    free((void *) msg->path.data);
    free((void *) msg->query.data);
}

#endif /* FUZZ_MSG_H */
