/*
 * SHA-256 midstates (see fwg_sha256.h).
 *
 * OpenSSL 3's EVP interface cannot start a digest from a chaining value,
 * and copying an EVP_MD_CTX duplicates its provider context (an
 * allocation and a free) on every HMAC.  The low-level SHA256_CTX, still
 * exported by OpenSSL 3 though deprecated, has a public layout: the
 * chaining value h[], the message length in bits (Nl, Nh) and the partial
 * block; after exactly one block the partial block is empty, so the state
 * is h[] and a length of 512 bits.  It uses the same assembly (SHA-NI
 * where the CPU has it) as EVP.
 */

#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "fwg_sha256.h"
#include "fwg_types.h"


void
fwg_sha256_block_state(const unsigned char block[64], uint32_t st[8])
{
    SHA256_CTX  c;

    SHA256_Init(&c);
    SHA256_Update(&c, block, 64);
    memcpy(st, c.h, 32);
    OPENSSL_cleanse(&c, sizeof(c));
}


void
fwg_sha256_resume(const uint32_t st[8], const void *data, size_t len,
    unsigned char out[FWG_SHA256_LEN])
{
    SHA256_CTX  c;

    SHA256_Init(&c);
    memcpy(c.h, st, 32);
    c.Nl = 512;
    c.Nh = 0;
    c.num = 0;

    SHA256_Update(&c, data, len);
    SHA256_Final(out, &c);
    fwg_wipe(&c, sizeof(c));
}


/*
 * The plain digest by the same low-level functions: for a 250-byte base
 * 0.19 us, against 0.25 for EVP_DigestInit_ex/Update/Final on a kept
 * EVP_MD_CTX with a pre-fetched EVP_MD, 0.29 for EVP_Digest() with it
 * and 0.50 for EVP_Digest(EVP_sha256()) or SHA256(), which fetch the
 * implementation on each call (`make bench-verify`).  The data is public
 * (a signature base), so the context is not cleansed.
 */
void
fwg_sha256(const void *data, size_t len, unsigned char out[FWG_SHA256_LEN])
{
    SHA256_CTX  c;

    SHA256_Init(&c);
    SHA256_Update(&c, data, len);
    SHA256_Final(out, &c);
}


void
fwg_sha256_parts(const void *const *data, const size_t *len, size_t n,
    unsigned char out[FWG_SHA256_LEN])
{
    size_t      i;
    SHA256_CTX  c;

    SHA256_Init(&c);

    for (i = 0; i < n; i++) {
        SHA256_Update(&c, data[i], len[i]);
    }

    SHA256_Final(out, &c);
}
