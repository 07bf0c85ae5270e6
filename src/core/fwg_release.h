/*
 * Signed release metadata (docs/security.md, "Signed release metadata"):
 * the canonical form of an artifact record and of a rollout's security
 * floor, and ed25519 signatures over them made offline by the fleet
 * owner's release key and checked by edges against configured public
 * keys.  Whoever can write the registry cannot then widen an artifact's
 * models list or lower a floor without the offline key.
 *
 * Signature format (field `sig` of an artifact, `floor_sig` of a
 * rollout): "<keyid>:<base64 of the 64-byte ed25519 signature>", keyid
 * being the first 8 bytes of SHA-256 of the raw 32-byte public key in
 * lowercase hex, so a verifier picks the key without trying all.
 */

#ifndef FWG_RELEASE_H
#define FWG_RELEASE_H

#include "fwg_types.h"
#include "fwg_decide.h"
#include "fwg_sig.h"

#define FWG_RELEASE_MAX_KEYS    16
#define FWG_RELEASE_KEYID_LEN   16      /* hex characters */
#define FWG_RELEASE_CANON_MAX   8192    /* a larger record is not signed */
#define FWG_RELEASE_MAX_MODELS  256
/* keyid ':' base64(64 bytes) NUL */
#define FWG_RELEASE_SIG_MAX     (FWG_RELEASE_KEYID_LEN + 1 + 88 + 1)

struct fwg_release_keys_s {
    size_t          n;
    struct {
        char        keyid[FWG_RELEASE_KEYID_LEN + 1];
        fwg_key_t  *key;
    }               k[FWG_RELEASE_MAX_KEYS];
    unsigned char   id[32];     /* SHA-256 over the raw keys in order:
                                   which key set a result belongs to */
};

typedef struct fwg_release_keys_s  fwg_release_keys_t;

void fwg_release_keys_init(fwg_release_keys_t *ks);
void fwg_release_keys_free(fwg_release_keys_t *ks);

/*
 * Adds the public keys of a file: lines "ed25519 <base64 raw 32-byte
 * key>", blank lines and lines starting with '#' ignored.  0, or -1
 * with *err (nothing of the file added then).
 */
int fwg_release_keys_load(fwg_release_keys_t *ks, const char *path,
    const char **err);

/* the same from a buffer (tests, explain) */
int fwg_release_keys_parse(fwg_release_keys_t *ks, const char *data,
    size_t len, const char **err);

/* keyid of an ed25519 key (public or private): 0, or -1 */
int fwg_release_keyid(const fwg_key_t *k,
    char keyid[FWG_RELEASE_KEYID_LEN + 1]);

/*
 * The canonical form of docs/redis-schema.md ("Signed release metadata")
 * of artifact `name` into buf: 0 and *len, or -1 when a field cannot be
 * put in canonical form (a newline or NUL in a field, sha256 not hex,
 * size not decimal, too many models, buf too small).
 */
int fwg_release_canonical(fwg_str_t name, const fwg_artifact_rec_t *a,
    char *buf, size_t size, size_t *len);

/* "fwgate-floor-v1\nmodel=<model>\nversion=<v>\n"; 0 or -1 */
int fwg_release_floor_canonical(fwg_str_t model, fwg_str_t version,
    char *buf, size_t size, size_t *len);

/* "<keyid>:<base64 sig>" NUL-terminated into out; 0, or -1 */
int fwg_release_sign(const fwg_key_t *k, const char *msg, size_t len,
    char *out, size_t size);

/*
 * 1 when sig is a signature over msg by one of the keys, 0 when not
 * (*detail says why: "no sig", "malformed sig", "unknown keyid",
 * "signature does not verify").
 */
int fwg_release_verify(const fwg_release_keys_t *ks, const char *msg,
    size_t len, fwg_str_t sig, const char **detail);

/* the keyid part of a sig ("" when malformed) */
fwg_str_t fwg_release_sig_keyid(fwg_str_t sig);

/*
 * Both of the above for an artifact record: FWG_RELEASE_VALID or
 * FWG_RELEASE_INVALID (with *detail).
 */
int fwg_release_check_artifact(const fwg_release_keys_t *ks,
    fwg_str_t name, const fwg_artifact_rec_t *a, const char **detail);
int fwg_release_check_floor(const fwg_release_keys_t *ks, fwg_str_t model,
    fwg_str_t version, fwg_str_t sig, const char **detail);

#endif /* FWG_RELEASE_H */
