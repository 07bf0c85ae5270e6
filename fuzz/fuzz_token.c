/*
 * libFuzzer target: download tokens (fwg_token.c).  The first byte picks
 * the mode; the rest, in an exactly sized heap buffer, is:
 *
 *   even: a token on the wire, verified as the gate does;
 *   odd:  a payload, MACed here with the edge secret so that the strict
 *         field parser behind the MAC check is reached.
 *
 * A token that verifies is minted again from its claims and must verify
 * to the same claims (round trip).
 */

#include <stdio.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "fuzz_util.h"
#include "fwg_token.h"

static const unsigned char  secret[] =
    "fuzz-token-secret-0123456789abcdef-0123456789";

static fwg_token_secret_t   sec;
static int                  ready;


static void
check_ok(const fwg_token_t *t)
{
    fwg_token_t     u;
    size_t          n;
    fwg_reason_t    r;
    char            tok[FWG_TOKEN_MAX_LEN];
    static char     buf[FWG_TOKEN_MAX_PAYLOAD];

    if (fwg_token_mint(&sec, t, tok, sizeof(tok), &n) != 0) {
        fprintf(stderr, "fuzz_token: verified claims do not mint\n");
        abort();
    }

    r = fwg_token_verify(&sec, 1, tok, n, t->exp - 1, buf, sizeof(buf), &u,
                         NULL);

    if (r != FWG_R_OK || u.exp != t->exp
        || !fwg_str_eqs(u.device, t->device)
        || !fwg_str_eqs(u.model, t->model)
        || u.hw.len != t->hw.len
        || (u.hw.len && !fwg_str_eqs(u.hw, t->hw))
        || !fwg_str_eqs(u.version, t->version)
        || !fwg_str_eqs(u.artifact, t->artifact))
    {
        fprintf(stderr, "fuzz_token: round trip differs\n");
        abort();
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char           *in, *tok;
    size_t          n, len;
    unsigned int    m;
    fwg_token_t     t;
    fwg_reason_t    r;
    unsigned char   mac[32];
    static char     buf[FWG_TOKEN_MAX_PAYLOAD];

    if (!ready) {
        if (fwg_token_secret_init(&sec, secret, sizeof(secret) - 1) != 0) {
            abort();
        }
        ready = 1;
    }

    if (size < 1) {
        return 0;
    }

    n = size - 1;
    in = malloc(n ? n : 1);
    if (in == NULL) {
        abort();
    }
    memcpy(in, data + 1, n);

    if ((data[0] & 1) == 0) {
        r = fwg_token_verify(&sec, 1, in, n, 1700000000, buf, sizeof(buf),
                             &t, NULL);

    } else {
        len = fwg_b64url_enc_len(n) + 1 + fwg_b64url_enc_len(32);
        tok = malloc(len);
        if (tok == NULL) {
            abort();
        }

        HMAC(EVP_sha256(), secret, (int) sizeof(secret) - 1,
             (const unsigned char *) in, n, mac, &m);

        len = fwg_b64url_encode(tok, (unsigned char *) in, n);
        tok[len++] = '.';
        len += fwg_b64url_encode(tok + len, mac, 32);

        r = fwg_token_verify(&sec, 1, tok, len, 1700000000, buf,
                             sizeof(buf), &t, NULL);

        if (r == FWG_R_OK || r == FWG_R_TOKEN_EXPIRED) {
            check_ok(&t);
        }

        free(tok);
        free(in);
        return 0;
    }

    if (r == FWG_R_OK) {
        check_ok(&t);
    }

    free(in);
    return 0;
}
