/*
 * fwgate core: arena and small string helpers.
 */

#include <string.h>

#include "fwg_types.h"


#define FWG_ARENA_ALIGN  8

/*
 * fwg_opaque(v): the compiler must assume v changed, so no value derived
 * from it is known in advance; fwg_barrier(p): memory at p may be read,
 * so stores to it are not dead.  Without GNU asm: a volatile round trip.
 */
#if defined(__GNUC__)
#define fwg_opaque(v)   __asm__ __volatile__("" : "+r" (v))
#define fwg_barrier(p)  __asm__ __volatile__("" : : "r" (p) : "memory")
#else
#define fwg_opaque(v)   do { volatile uint64_t fwg_v_ = (v); (v) = fwg_v_; }  \
                        while (0)
#define fwg_barrier(p)  do { volatile unsigned char *fwg_p_ = (p);            \
                             (void) *fwg_p_; } while (0)
#endif


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


/*
 * No early exit: the time taken must not depend on where they differ.
 * Eight bytes a step; the empty asm makes the accumulator opaque to the
 * compiler on every step, so it cannot stop at the first difference.
 */
int
fwg_ct_memcmp(const void *a, const void *b, size_t n)
{
    size_t                i;
    uint64_t              acc, x, y;
    const unsigned char  *pa, *pb;

    pa = a;
    pb = b;
    acc = 0;

    for (i = 0; i + 8 <= n; i += 8) {
        memcpy(&x, pa + i, 8);
        memcpy(&y, pb + i, 8);
        acc |= x ^ y;
        fwg_opaque(acc);
    }

    for ( /* void */ ; i < n; i++) {
        acc |= (uint64_t) (pa[i] ^ pb[i]);
        fwg_opaque(acc);
    }

    return acc != 0;
}


void
fwg_wipe(void *p, size_t n)
{
    memset(p, 0, n);
    fwg_barrier(p);
}


uint32_t
fwg_table_hash(const void *data, size_t len)
{
    size_t                i;
    uint64_t              h, w;
    const unsigned char  *p = data;

    h = 0x9e3779b97f4a7c15ULL ^ len;

    for ( /* void */ ; len >= 8; p += 8, len -= 8) {
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
    }

    if (len) {
        w = 0;

        for (i = 0; i < len; i++) {
            w |= (uint64_t) p[i] << (i * 8);
        }

        h = (h ^ w) * 0xff51afd7ed558ccdULL;
    }

    /* the finalizer of MurmurHash3's 64-bit mix: every bit reaches the low 32 */

    h ^= h >> 29;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 32;

    return (uint32_t) h;
}
