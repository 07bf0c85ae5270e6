/*
 * Helpers shared by the libFuzzer targets: the input is cut into pieces
 * at '\n', and each piece is copied into a heap buffer of exactly its
 * size, so AddressSanitizer catches a parser reading even one byte past
 * the fwg_str_t it was given (the core never assumes NUL termination).
 */

#ifndef FUZZ_UTIL_H
#define FUZZ_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fwg_types.h"

#define FUZZ_MAX_PIECES  48

typedef struct {
    fwg_str_t   s[FUZZ_MAX_PIECES];
    size_t      n;
} fuzz_pieces_t;


static void
fuzz_split(fuzz_pieces_t *p, const uint8_t *data, size_t size)
{
    size_t       start, i, len;
    char        *copy;

    p->n = 0;
    start = 0;

    for (i = 0; i <= size && p->n < FUZZ_MAX_PIECES; i++) {
        if (i < size && data[i] != '\n') {
            continue;
        }
        len = i - start;
        /* malloc(0) may return NULL: keep one byte so data is non-NULL */
        copy = malloc(len ? len : 1);
        if (copy == NULL) {
            abort();
        }
        memcpy(copy, data + start, len);
        p->s[p->n].data = copy;
        p->s[p->n].len = len;
        p->n++;
        start = i + 1;
    }
}


static void
fuzz_free(fuzz_pieces_t *p)
{
    size_t  i;

    for (i = 0; i < p->n; i++) {
        free((void *) p->s[i].data);
    }
    p->n = 0;
}


/* piece i, or an empty string */
static fwg_str_t
fuzz_piece(const fuzz_pieces_t *p, size_t i)
{
    fwg_str_t  empty = { "", 0 };

    return i < p->n ? p->s[i] : empty;
}

#endif /* FUZZ_UTIL_H */
