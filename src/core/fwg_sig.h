/*
 * RFC 9421 HTTP Message Signatures: the request-side subset fwgate needs.
 *
 * The message is described by fwg_msg_t (derived components plus the
 * header field lines as they arrived); the signature base is built exactly
 * as RFC 9421 section 2.5 says.  Keys are bound to one algorithm: a key
 * made for one is never used as another's.
 */

#ifndef FWG_SIG_H
#define FWG_SIG_H

#include "fwg_types.h"
#include "fwg_sf.h"

/* limits that double as defences against hostile input */
#define FWG_SIG_MAX_FIELD       8192    /* Signature-Input, Signature */
#define FWG_SIG_MAX_COMPONENTS  32
#define FWG_SIG_MAX_BASE        16384
#define FWG_SIG_MAX_SIG         512     /* decoded signature bytes */

/* the base's last line: this, then the serialized signature parameters */
#define FWG_SIG_PARAMS_LINE      "\"@signature-params\": "
#define FWG_SIG_PARAMS_LINE_LEN  (sizeof(FWG_SIG_PARAMS_LINE) - 1)

typedef enum {
    FWG_ALG_NONE = 0,
    FWG_ALG_ED25519,
    FWG_ALG_ECDSA_P256_SHA256,
    FWG_ALG_HMAC_SHA256,
    FWG_ALG__COUNT
} fwg_alg_t;

fwg_alg_t fwg_alg_parse(const char *s, size_t len);   /* NONE if unknown */
const char *fwg_alg_name(fwg_alg_t alg);

typedef struct {
    fwg_str_t   name;       /* as received: any case */
    fwg_str_t   value;
} fwg_field_t;

typedef struct {
    fwg_str_t       method;
    fwg_str_t       scheme;     /* "http" or "https" */
    fwg_str_t       authority;  /* Host, as received; normalized in base */
    fwg_str_t       path;       /* raw absolute path, without the query */
    fwg_str_t       query;      /* raw query without '?' */
    int             has_query;  /* a '?' was present */
    const fwg_field_t *fields;  /* header field lines, in order */
    size_t          nfields;
} fwg_msg_t;

typedef struct {
    fwg_str_t       label;
    fwg_sf_item_t  *inner;      /* the covered components (inner list) */
    fwg_str_t       params;     /* serialized @signature-params value */
    int64_t         created;
    int64_t         expires;
    unsigned        has_created:1;
    unsigned        has_expires:1;
    unsigned        plain_items:1;  /* by fwg_sigfast_parse: names only,
                                       each checked, none twice */
    fwg_str_t       keyid;      /* data NULL when absent */
    fwg_str_t       alg;
    fwg_str_t       nonce;
    fwg_str_t       tag;
    unsigned char  *sig;        /* decoded Signature value for the label */
    size_t          siglen;
} fwg_sig_input_t;

typedef enum {
    FWG_SIG_OK = 0,
    FWG_SIG_EMISSING = -1,      /* no Signature-Input or no Signature */
    FWG_SIG_EMALFORMED = -2,    /* parse error, label absent, too large */
    FWG_SIG_ECOMPONENT = -3     /* a covered component cannot be built */
} fwg_sig_rc_t;

/*
 * Finds and parses Signature-Input and Signature among msg's fields
 * (multiple field lines are combined as RFC 9110 says).  label: the one to
 * use; when empty, the only label present, or "fw" when there are several.
 */
int fwg_sig_parse(const fwg_msg_t *msg, fwg_str_t label, fwg_arena_t *a,
    fwg_sig_input_t *out, const char **err);

/*
 * The value of every field line named name (lowercase, nlen bytes),
 * trimmed and combined with ", " (RFC 9110 section 5.3).  Returns the
 * number of lines (0: absent), -1 beyond max bytes or the arena.
 */
int fwg_field_combine(const fwg_msg_t *msg, const char *name, size_t nlen,
    size_t max, fwg_arena_t *a, fwg_str_t *out);

/*
 * First required component not covered (index), or -1 when all are.
 * Plain names are given in lowercase, as covered names are: the policy's
 * defaults are, and fwgate_required_components refuses any other.
 */
int fwg_sig_missing(const fwg_sig_input_t *in, const fwg_str_t *required,
    size_t nrequired);

/* value of one component: for explain and tests (same code as the base) */
int fwg_sig_component(const fwg_msg_t *msg, const fwg_sf_item_t *comp,
    fwg_arena_t *a, fwg_str_t *value, const char **err);

/* builds the signature base (RFC 9421 section 2.5) into the arena */
int fwg_sig_base(const fwg_msg_t *msg, const fwg_sig_input_t *in,
    fwg_arena_t *a, fwg_str_t *base, const char **err);

/*
 * the base from its parts: "id: value\n" per covered component, then the
 * "@signature-params" line; total is its length, which the caller counts
 * (with FWG_SIG_PARAMS_LINE_LEN) while checking FWG_SIG_MAX_BASE
 */
int fwg_sig_base_join(fwg_arena_t *a, const fwg_str_t *ids,
    const fwg_str_t *vals, size_t n, fwg_str_t params, size_t total,
    fwg_str_t *base, const char **err);

/* keys ---------------------------------------------------------------- */

typedef struct fwg_key_s  fwg_key_t;

/*
 * From a registry record: base64 of the raw key (Ed25519: 32-byte public
 * key; P-256: SEC1 point or SPKI DER; HMAC: the secret).
 */
fwg_key_t *fwg_key_from_record(fwg_alg_t alg, const char *b64, size_t len,
    const char **err);

/*
 * From a file (CLI): PEM private or public key for ed25519 and
 * ecdsa-p256-sha256, base64 secret for hmac-sha256.  alg NONE: guess from
 * the PEM's key type.
 */
fwg_key_t *fwg_key_from_file(fwg_alg_t alg, const char *path,
    const char **err);

fwg_alg_t fwg_key_alg(const fwg_key_t *k);
int fwg_key_can_sign(const fwg_key_t *k);
void fwg_key_free(fwg_key_t *k);

/* 1 when k is the hmac-sha256 key of the base64 registry record b64 */
int fwg_key_hmac_is(const fwg_key_t *k, const char *b64, size_t len);

/* registry form (base64 raw public key or secret) of a key; -1 on error */
long fwg_key_record(const fwg_key_t *k, char *dst, size_t dstsize);

/* 1 valid, 0 invalid, -1 internal error */
int fwg_sig_verify(const fwg_key_t *k, const char *base, size_t len,
    const unsigned char *sig, size_t siglen);

/*
 * Tests and bench/verify_speed: verify k's ecdsa-p256-sha256 signatures
 * by the EVP path only, the fallback of the low-level one (fwg_key.c).
 * 0 ok, -1 not a P-256 key.
 */
int fwg_key_evp_only(fwg_key_t *k);

/*
 * An hmac-sha256 key's two SHA-256 chaining values, after its ipad and
 * its opad block (RFC 2104): all a MAC needs, so that a caller may keep
 * them with a decision (the module's memo) and verify without the key
 * object.  They are as secret as the key.  0 ok, -1 not an hmac key.
 */
#define FWG_HMAC_STATES  16             /* uint32_t words */

int fwg_key_hmac_states(const fwg_key_t *k, uint32_t *states);
int fwg_sig_verify_hmac_states(const uint32_t *states, const char *base,
    size_t len, const unsigned char *sig, size_t siglen);

/* 0 ok; sig must hold FWG_SIG_MAX_SIG bytes */
int fwg_sig_sign(const fwg_key_t *k, const char *base, size_t len,
    unsigned char *sig, size_t *siglen);

#endif /* FWG_SIG_H */
