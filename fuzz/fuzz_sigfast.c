/*
 * libFuzzer target: the signature fast path (src/core/fwg_sigfast.c)
 * against the general parser (fwg_sig.c), which is the reference.  The
 * input is a request, one piece a line, as for fuzz_sig:
 *
 *     method \n scheme \n authority \n path[?query] \n name: value \n ...
 *
 * For the labels "", "fw" and "sig1", t/unit/sigfast_cmp.h runs both and
 * aborts on any difference: return code, error text, every parsed field,
 * the covered components and their parameters, the serialized
 * @signature-params, the signature bytes and the base bytes.  Every piece,
 * header name and value sits in its own exactly sized heap buffer.
 */

#include <stdio.h>

#include "fuzz_util.h"
#include "fwg_sig.h"
#include "fwg_sigfast.h"
#include "../t/unit/sigfast_cmp.h"

#define MAX_FIELDS  40


static fwg_str_t
dup_str(const char *s, size_t len)
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
check(const fwg_msg_t *msg, const char *label)
{
    int          fp, fb;
    const char  *d;
    fwg_str_t    l;

    l.data = label;
    l.len = strlen(label);

    d = sigfast_cmp(msg, l, &fp, &fb);
    if (d != NULL) {
        fprintf(stderr, "fuzz_sigfast: label \"%s\": fast and general "
                "differ: %s\n", label, d);
        abort();
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_pieces_t   pc;
    fwg_msg_t       msg;
    fwg_field_t     f[MAX_FIELDS];
    fwg_str_t       path, line;
    const char     *q, *colon;
    size_t          i, nf, off;

    fuzz_split(&pc, data, size);

    memset(&msg, 0, sizeof(msg));
    msg.method = fuzz_piece(&pc, 0);
    msg.scheme = fuzz_piece(&pc, 1);
    msg.authority = fuzz_piece(&pc, 2);

    path = fuzz_piece(&pc, 3);
    q = path.len ? memchr(path.data, '?', path.len) : NULL;
    if (q != NULL) {
        off = (size_t) (q - path.data);
        msg.query = dup_str(q + 1, path.len - off - 1);
        msg.has_query = 1;
        msg.path = dup_str(path.data, off);
    } else {
        msg.query = dup_str("", 0);
        msg.path = dup_str(path.data, path.len);
    }

    nf = 0;
    for (i = 4; i < pc.n && nf < MAX_FIELDS; i++) {
        line = pc.s[i];
        colon = line.len ? memchr(line.data, ':', line.len) : NULL;
        off = colon ? (size_t) (colon - line.data) : line.len;
        f[nf].name = dup_str(line.data, off);
        if (colon != NULL) {
            off++;
            if (off < line.len && line.data[off] == ' ') {
                off++;
            }
        }
        f[nf].value = dup_str(line.data + off, line.len - off);
        nf++;
    }
    msg.fields = f;
    msg.nfields = nf;

    check(&msg, "");
    check(&msg, "fw");
    check(&msg, "sig1");

    for (i = 0; i < nf; i++) {
        free((void *) f[i].name.data);
        free((void *) f[i].value.data);
    }
    free((void *) msg.path.data);
    free((void *) msg.query.data);
    fuzz_free(&pc);
    return 0;
}
