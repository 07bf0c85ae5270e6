/*
 * Download tokens (docs/security.md, "Download tokens"): a short-lived
 * bearer credential the update check mints for one device and one
 * artifact, so that a stock updater (RAUC's HTTP streaming, SWUpdate)
 * can fetch the image with plain Range requests.
 *
 * Wire form, URL-safe base64 without padding:
 *
 *     <base64url(payload)>.<base64url(HMAC-SHA256(secret, payload))>
 *
 * payload = "1|<secret-id>|<exp>|<device>|<model>|<hw>|<version>|<artifact>"
 * where secret-id is the first 4 bytes of SHA-256(secret) in lowercase
 * hex (verify picks the secret by it), exp a Unix time, hw possibly
 * empty.  No field may contain '|'.
 *
 * A token only narrows: the gate still runs the registry steps 9-16 with
 * the token's claims.
 */

#ifndef FWG_TOKEN_H
#define FWG_TOKEN_H

#include "fwg_types.h"
#include "fwg_decide.h"

#define FWG_TOKEN_SECRET_MIN   32       /* bytes */
#define FWG_TOKEN_SECRET_MAX   4096
#define FWG_TOKEN_MAX_PAYLOAD  1024     /* decoded payload bytes */
#define FWG_TOKEN_MAC_LEN      32
/* base64url(1024) + '.' + base64url(32) */
#define FWG_TOKEN_MAX_LEN      (1366 + 1 + 43)
#define FWG_TOKEN_MAX_DEVICE   256
#define FWG_TOKEN_MAX_ARTIFACT 255
#define FWG_TOKEN_SECRETS      2        /* minting one, and the previous */

typedef struct {
    char            id[9];          /* hex of SHA-256(secret)[0..3], NUL */
    void           *hin;            /* EVP_MD_CTX after the keyed ipad */
    void           *hout;           /* EVP_MD_CTX after the keyed opad */
    void           *hwork;
} fwg_token_secret_t;

typedef struct {
    int64_t         exp;
    fwg_str_t       device;
    fwg_str_t       model;
    fwg_str_t       hw;             /* len 0 when the device has none */
    fwg_str_t       version;        /* the device's running version */
    fwg_str_t       artifact;
    int             secret;         /* verify: index of the secret used */
    unsigned char   mac[FWG_TOKEN_MAC_LEN];     /* verify: the MAC */
} fwg_token_t;

/*
 * Keys the HMAC states from the secret's bytes, which the caller may
 * wipe afterwards.  -1 when the secret is shorter than
 * FWG_TOKEN_SECRET_MIN or longer than FWG_TOKEN_SECRET_MAX, or OpenSSL
 * fails.
 */
int fwg_token_secret_init(fwg_token_secret_t *s, const unsigned char *secret,
    size_t len);
void fwg_token_secret_free(fwg_token_secret_t *s);

/*
 * Writes the token for t's claims (exp, device, model, hw, version,
 * artifact) into out, which should hold FWG_TOKEN_MAX_LEN bytes (no NUL
 * is added).  -1 when a claim is invalid (a '|', a bad model, version,
 * too long) or the output does not fit.
 */
int fwg_token_mint(const fwg_token_secret_t *s, const fwg_token_t *t,
    char *out, size_t outsize, size_t *outlen);

/*
 * Verifies a token against the secrets (any may match by its id):
 * FWG_R_OK, FWG_R_TOKEN_MALFORMED, FWG_R_TOKEN_INVALID (MAC or unknown
 * secret) or FWG_R_TOKEN_EXPIRED.  The claims point into buf, which must
 * hold FWG_TOKEN_MAX_PAYLOAD bytes and live as long as they are used.
 * *detail (may be NULL) gets a fixed string saying why.
 */
fwg_reason_t fwg_token_verify(const fwg_token_secret_t *secrets, size_t n,
    const char *tok, size_t len, int64_t now, char *buf, size_t bufsize,
    fwg_token_t *out, const char **detail);

/* base64url without padding (RFC 4648 section 5) */
#define fwg_b64url_enc_len(n)  (((n) * 4 + 2) / 3)
size_t fwg_b64url_encode(char *dst, const unsigned char *src, size_t len);
/* strict: alphabet only, no padding, zero pad bits; -1 when not */
int fwg_b64url_decode(unsigned char *dst, size_t dstsize, size_t *outlen,
    const char *src, size_t len);

#endif /* FWG_TOKEN_H */
