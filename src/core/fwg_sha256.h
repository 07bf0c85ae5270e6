/*
 * SHA-256 resumed from a midstate: the chaining value after whole
 * 64-byte blocks.  HMAC keeps its keyed ipad and opad states this way,
 * 32 bytes each, instead of two OpenSSL digest contexts per key.
 */

#ifndef FWG_SHA256_H
#define FWG_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define FWG_SHA256_LEN  32

/* the chaining value after the single block `block` */
void fwg_sha256_block_state(const unsigned char block[64], uint32_t st[8]);

/* SHA-256 of (the 64-byte block st was made from || data) */
void fwg_sha256_resume(const uint32_t st[8], const void *data, size_t len,
    unsigned char out[FWG_SHA256_LEN]);

/*
 * SHA-256 of data, no key: the digest an ecdsa-p256-sha256 signature is
 * made over.  No fetch and no allocation (see fwg_sha256.c).
 */
void fwg_sha256(const void *data, size_t len,
    unsigned char out[FWG_SHA256_LEN]);

/*
 * SHA-256 of the n pieces joined, with no copy: a cohort's
 * salt ":" device_id.  Public data: the context is not cleansed.
 */
void fwg_sha256_parts(const void *const *data, const size_t *len, size_t n,
    unsigned char out[FWG_SHA256_LEN]);

#endif /* FWG_SHA256_H */
