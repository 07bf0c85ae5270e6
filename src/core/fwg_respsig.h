/*
 * RFC 9421 response signatures (section 2.4, 2.5): the answer of an
 * update check signed by the edge and bound to the device's own request
 * signature through "signature";req;key="<label>" (Omaha CUP style).
 *
 * The response is described by its status and an fwg_msg_t holding its
 * header field lines; the request (for ;req components) by another
 * fwg_msg_t, of which only the covered fields are needed.
 */

#ifndef FWG_RESPSIG_H
#define FWG_RESPSIG_H

#include "fwg_types.h"
#include "fwg_sig.h"

/* "sha-256=:" 44 base64 ":" */
#define FWG_RESPSIG_DIGEST_LEN  54
/* "fwg-" and 16 hex digits */
#define FWG_RESPSIG_KEYID_LEN   20

/* RFC 9530 Content-Digest value of body; dst holds DIGEST_LEN + 1 bytes */
int fwg_respsig_digest(char *dst, const unsigned char *body, size_t blen);

/*
 * The keyid fwgate derives from a public key when none is configured:
 * "fwg-" and the hex of the first 8 bytes of SHA-256 of the raw public
 * key (Ed25519: 32 bytes; P-256: the uncompressed SEC1 point).  dst holds
 * KEYID_LEN + 1 bytes.
 */
int fwg_respsig_keyid(const fwg_key_t *k, char *dst);

/*
 * The signature base of a response (RFC 9421 section 2.5): covered
 * components are "@status", response header fields, and request
 * components marked ;req (resolved against req, which may be NULL when
 * none is covered).
 */
int fwg_respsig_base(int status, const fwg_msg_t *resp, const fwg_msg_t *req,
    const fwg_sig_input_t *in, fwg_arena_t *a, fwg_str_t *base,
    const char **err);

typedef struct {
    int             status;
    fwg_str_t       content_digest;   /* the Content-Digest value sent */
    fwg_str_t       req_signature;    /* the request's Signature field */
    fwg_str_t       req_label;        /* the device's signature label */
    fwg_str_t       label;            /* this response signature's label */
    fwg_str_t       keyid;
    int64_t         created;
} fwg_respsig_params_t;

/*
 * Signs: covers ("@status" "content-digest" "signature";req;key=<req_label>)
 * with created, keyid and alg.  Writes the Signature-Input and Signature
 * field values into the arena.  0 or -1 with *err.
 */
int fwg_respsig_sign(const fwg_key_t *k, const fwg_respsig_params_t *p,
    fwg_arena_t *a, fwg_str_t *sig_input, fwg_str_t *signature,
    const char **err);

/*
 * Verifies a response signature made by fwgate.  resp: the response's
 * header field lines (Content-Digest, Signature-Input, Signature, ...);
 * body: the response body (blen 0 for a 204); req_signature: the Signature
 * field the device sent; label: the response label (empty: the only one).
 * The signature must cover "@status", "content-digest" and
 * "signature";req;key=..., Content-Digest must match the body, alg (when
 * present) must match the key.  Returns 1 verified, 0 not (*err says
 * why), -1 on an internal error.
 */
int fwg_respsig_verify(const fwg_key_t *k, int status, const fwg_msg_t *resp,
    const unsigned char *body, size_t blen, fwg_str_t req_signature,
    fwg_str_t label, fwg_arena_t *a, const char **err);

#endif /* FWG_RESPSIG_H */
