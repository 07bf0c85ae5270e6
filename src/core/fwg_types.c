/*
 * fwgate core: arena and small string helpers.
 */

#include <string.h>

#include "fwg_types.h"


#define FWG_ARENA_ALIGN  8


void
fwg_arena_init(fwg_arena_t *a, void *buf, size_t size)
{
    uintptr_t  p, off;

    /* align the start so every allocation is 8-byte aligned */
    p = (uintptr_t) buf;
    off = (FWG_ARENA_ALIGN - (p & (FWG_ARENA_ALIGN - 1)))
          & (FWG_ARENA_ALIGN - 1);

    if (buf == NULL || size < off) {
        a->buf = NULL;
        a->size = 0;
        a->used = 0;
        return;
    }

    a->buf = (char *) buf + off;
    a->size = size - off;
    a->used = 0;
}


void *
fwg_arena_alloc(fwg_arena_t *a, size_t n)
{
    size_t  start;

    if (a->buf == NULL) {
        return NULL;
    }

    start = (a->used + FWG_ARENA_ALIGN - 1) & ~(size_t) (FWG_ARENA_ALIGN - 1);

    /* written as subtractions so a huge n cannot wrap around */
    if (start > a->size || n > a->size - start) {
        return NULL;
    }

    a->used = start + n;

    return a->buf + start;
}


/*
 * One pass, no strlen(): names are compared on every request (header
 * names, record fields, covered components), mostly against a literal
 * that differs in its first bytes.
 */
int
fwg_str_eq(fwg_str_t a, const char *lit)
{
    size_t  i;

    for (i = 0; i < a.len; i++) {
        if (lit[i] == '\0' || lit[i] != a.data[i]) {
            return 0;
        }
    }

    return lit[a.len] == '\0';
}


int
fwg_str_eqs(fwg_str_t a, fwg_str_t b)
{
    if (a.len != b.len) {
        return 0;
    }

    return a.len == 0 || memcmp(a.data, b.data, a.len) == 0;
}


int
fwg_ct_memcmp(const void *a, const void *b, size_t n)
{
    const volatile unsigned char  *pa, *pb;
    unsigned char                  acc;
    size_t                         i;

    /* no early exit: the time taken must not depend on where they differ */
    pa = a;
    pb = b;
    acc = 0;

    for (i = 0; i < n; i++) {
        acc |= pa[i] ^ pb[i];
    }

    return acc != 0;
}
