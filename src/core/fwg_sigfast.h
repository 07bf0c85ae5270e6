/*
 * RFC 9421 request signatures: a single-pass fast path for the common
 * shape, in front of the general parser (fwg_sig.c, fwg_sf.c), which stays
 * the reference.
 *
 * The fast path takes one Signature-Input line and one Signature line,
 * dictionaries whose members are inner lists of plain quoted component
 * names (no component parameters) with the parameters created, expires
 * (Integers), keyid, alg, nonce, tag (Strings), each at most once, and
 * byte sequences without parameters.  Anything else, and anything the
 * general path would refuse, makes it decline: the arena is rewound and
 * the general path runs, so results and errors are the general path's.
 */

#ifndef FWG_SIGFAST_H
#define FWG_SIGFAST_H

#include "fwg_sig.h"

#define FWG_SIGFAST_DECLINED  1

/*
 * The fast attempts alone: FWG_SIG_OK with out/base exactly as the general
 * functions would give them, or FWG_SIGFAST_DECLINED (the arena may hold
 * garbage then; the caller rewinds it).  For tests and the fuzzer.
 */
int fwg_sigfast_parse(const fwg_msg_t *msg, fwg_str_t label, fwg_arena_t *a,
    fwg_sig_input_t *out);
int fwg_sigfast_base(const fwg_msg_t *msg, const fwg_sig_input_t *in,
    fwg_arena_t *a, fwg_str_t *base);

/* drop-in replacements for fwg_sig_parse and fwg_sig_base */
int fwg_sig_parse_fast(const fwg_msg_t *msg, fwg_str_t label,
    fwg_arena_t *a, fwg_sig_input_t *out, const char **err);
int fwg_sig_base_fast(const fwg_msg_t *msg, const fwg_sig_input_t *in,
    fwg_arena_t *a, fwg_str_t *base, const char **err);

#endif /* FWG_SIGFAST_H */
