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

#include "fuzz_msg.h"
#include "fwg_sig.h"
#include "fwg_sigfast.h"
#include "../t/unit/sigfast_cmp.h"

#define MAX_FIELDS  40



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

    fuzz_split(&pc, data, size);
    fuzz_msg_make(&pc, &msg, f, MAX_FIELDS);

    check(&msg, "");
    check(&msg, "fw");
    check(&msg, "sig1");

    fuzz_msg_free(&msg);
    fuzz_free(&pc);
    return 0;
}
