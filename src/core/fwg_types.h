/*
 * fwgate core: shared small types.
 *
 * The core library never allocates with malloc on hot paths: callers hand
 * it an arena (a caller-owned buffer), so the nginx module can carve it
 * from a request pool and the CLI from the stack or heap.  Running out of
 * arena is reported as an error, which doubles as a size limit on hostile
 * input.
 */

#ifndef FWG_TYPES_H
#define FWG_TYPES_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char  *data;
    size_t       len;
} fwg_str_t;

#define fwg_str_lit(s)  { (s), sizeof(s) - 1 }
#define fwg_null_str    { NULL, 0 }

typedef struct {
    char        *buf;
    size_t       size;
    size_t       used;
} fwg_arena_t;

/* returns NULL when the arena is exhausted; memory is 8-byte aligned */
void *fwg_arena_alloc(fwg_arena_t *a, size_t n);
void fwg_arena_init(fwg_arena_t *a, void *buf, size_t size);

int fwg_str_eq(fwg_str_t a, const char *lit);
int fwg_str_eqs(fwg_str_t a, fwg_str_t b);

/* constant-time comparison of two equal-length buffers; 0 when equal */
int fwg_ct_memcmp(const void *a, const void *b, size_t n);

/*
 * Zeroes n bytes in a way the compiler may not drop as a dead store:
 * OPENSSL_cleanse's job for the small buffers that held a MAC or key
 * material on the request path, without its call through a pointer and
 * its byte loop.
 */
void fwg_wipe(void *p, size_t n);

/*
 * A 32-bit hash for the module's own tables (the decision memo, the
 * record cache), eight bytes a step: MurmurHash2's four cost a key of
 * ~110 bytes some 370 instructions.  Not keyed, as MurmurHash2 is not:
 * a chosen collision only shares a slot or a tree's hash, which costs
 * time, never a wrong answer (the keys are compared whole).
 */
uint32_t fwg_table_hash(const void *p, size_t len);

#endif /* FWG_TYPES_H */
