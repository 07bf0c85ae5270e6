/*
 * SipHash-2-4 (Aumasson and Bernstein, 2012): a keyed 64-bit hash.
 *
 * The replay store keeps a 64-bit digest of each (keyid, nonce) instead of
 * the strings; keyed with a secret drawn when the zone is created, a
 * client cannot choose nonces that collide with another device's, nor
 * crowd one bucket of the table.
 */

#ifndef FWG_SIPHASH_H
#define FWG_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#define FWG_SIPHASH_KEY_LEN  16

uint64_t fwg_siphash24(const unsigned char key[FWG_SIPHASH_KEY_LEN],
    const void *data, size_t len);

#endif /* FWG_SIPHASH_H */
