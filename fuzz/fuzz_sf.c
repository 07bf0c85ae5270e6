/*
 * libFuzzer target: RFC 8941 structured fields.  The first byte picks the
 * top-level type (list, dictionary, item); the rest is the field value.
 * A value that parses must serialize, and its serialization must parse
 * again and serialize to the same bytes (canonical form is a fixpoint).
 */

#include <stdio.h>

#include "fuzz_util.h"
#include "fwg_sf.h"

#define ARENA_SIZE  (256 * 1024)
#define OUT_SIZE    (64 * 1024)

static char  arena_mem[ARENA_SIZE];
static char  out1[OUT_SIZE], out2[OUT_SIZE];


static long
parse_ser(int type, const char *s, size_t len, fwg_arena_t *a, char *out)
{
    fwg_sf_member_t  *m;
    fwg_sf_item_t     it;
    size_t            n;
    const char       *err;
    int               rc;

    switch (type) {
    case 0:
        rc = fwg_sf_parse_list(s, len, a, &m, &n, &err);
        if (rc != FWG_SF_OK) {
            return -2;
        }
        return fwg_sf_serialize_list(out, OUT_SIZE, m, n);
    case 1:
        rc = fwg_sf_parse_dict(s, len, a, &m, &n, &err);
        if (rc != FWG_SF_OK) {
            return -2;
        }
        /* lookups over whatever was parsed must stay in bounds */
        if (n) {
            (void) fwg_sf_dict_get(m, n, m[n - 1].key);
            (void) fwg_sf_param(&m[0].value, "a");
        }
        return fwg_sf_serialize_dict(out, OUT_SIZE, m, n);
    default:
        rc = fwg_sf_parse_item(s, len, a, &it, &err);
        if (rc != FWG_SF_OK) {
            return -2;
        }
        (void) fwg_sf_param(&it, "created");
        return fwg_sf_serialize_item(out, OUT_SIZE, &it);
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fwg_arena_t   a;
    char         *in;
    long          n1, n2;
    int           type;

    if (size < 1) {
        return 0;
    }
    type = data[0] % 3;
    in = malloc(size - 1 ? size - 1 : 1);
    if (in == NULL) {
        abort();
    }
    memcpy(in, data + 1, size - 1);

    fwg_arena_init(&a, arena_mem, sizeof(arena_mem));
    n1 = parse_ser(type, in, size - 1, &a, out1);

    if (n1 == -1) {
        /* parsed but cannot serialize: every parsed value is serializable */
        fprintf(stderr, "fuzz_sf: parsed value does not serialize\n");
        abort();
    }

    if (n1 >= 0) {
        fwg_arena_init(&a, arena_mem, sizeof(arena_mem));
        n2 = parse_ser(type, out1, (size_t) n1, &a, out2);
        if (n2 != n1 || memcmp(out1, out2, (size_t) n1) != 0) {
            fprintf(stderr, "fuzz_sf: roundtrip differs (type %d):\n"
                    "1: %.*s\n2: %.*s\n", type, (int) n1, out1,
                    n2 > 0 ? (int) n2 : 0, out2);
            abort();
        }
    }

    free(in);
    return 0;
}
