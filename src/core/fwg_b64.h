/* Base64 (RFC 4648 section 4, with padding) and lowercase hex helpers. */

#ifndef FWG_B64_H
#define FWG_B64_H

#include <stddef.h>

/* encoded length including padding, without a terminating NUL */
#define fwg_b64_enc_len(n)  ((((n) + 2) / 3) * 4)
/* upper bound of the decoded length */
#define fwg_b64_dec_max(n)  ((((n) + 3) / 4) * 3)

size_t fwg_b64_encode(char *dst, const unsigned char *src, size_t len);

/*
 * Strict decode: padding required, no whitespace, no non-alphabet bytes.
 * Returns 0 and sets *outlen, or -1 on malformed input or when the result
 * would not fit in dstsize.
 */
int fwg_b64_decode(unsigned char *dst, size_t dstsize, size_t *outlen,
    const char *src, size_t len);

/*
 * Decode for RFC 8941 byte sequences (section 4.2.7): like the strict
 * decoder, but missing padding and non-zero pad bits are tolerated.
 */
int fwg_b64_decode_sf(unsigned char *dst, size_t dstsize, size_t *outlen,
    const char *src, size_t len);

size_t fwg_hex_encode(char *dst, const unsigned char *src, size_t len);

/* -1 on odd length or non-hex digit */
int fwg_hex_decode(unsigned char *dst, size_t dstsize, size_t *outlen,
    const char *src, size_t len);

#endif /* FWG_B64_H */
