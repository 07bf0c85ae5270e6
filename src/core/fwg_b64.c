/*
 * Base64 (RFC 4648 section 4) and lowercase hex.
 */

#include <stdint.h>

#include "fwg_b64.h"


static const char  fwg_b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static const char  fwg_hex_digits[] = "0123456789abcdef";


/*
 * Value of each byte in the base64 alphabet, -1 outside it: a table, as
 * a signature's 44-88 random characters would mispredict a chain of
 * range tests on nearly every byte.
 */
static const signed char  fwg_b64_values[256] = {
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1, -1, 63,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1, -1,
    -1,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, -1,
    -1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1
};

#define fwg_b64_value(c)  fwg_b64_values[(unsigned char) (c)]


size_t
fwg_b64_encode(char *dst, const unsigned char *src, size_t len)
{
    size_t    i, o;
    uint32_t  v;

    o = 0;

    for (i = 0; i + 2 < len; i += 3) {
        v = ((uint32_t) src[i] << 16) | ((uint32_t) src[i + 1] << 8)
            | src[i + 2];
        dst[o++] = fwg_b64_alphabet[(v >> 18) & 0x3f];
        dst[o++] = fwg_b64_alphabet[(v >> 12) & 0x3f];
        dst[o++] = fwg_b64_alphabet[(v >> 6) & 0x3f];
        dst[o++] = fwg_b64_alphabet[v & 0x3f];
    }

    if (len - i == 1) {
        v = (uint32_t) src[i] << 16;
        dst[o++] = fwg_b64_alphabet[(v >> 18) & 0x3f];
        dst[o++] = fwg_b64_alphabet[(v >> 12) & 0x3f];
        dst[o++] = '=';
        dst[o++] = '=';

    } else if (len - i == 2) {
        v = ((uint32_t) src[i] << 16) | ((uint32_t) src[i + 1] << 8);
        dst[o++] = fwg_b64_alphabet[(v >> 18) & 0x3f];
        dst[o++] = fwg_b64_alphabet[(v >> 12) & 0x3f];
        dst[o++] = fwg_b64_alphabet[(v >> 6) & 0x3f];
        dst[o++] = '=';
    }

    return o;
}


/*
 * The common decoder.  strict: padding is required and the unused bits
 * of the last symbol must be zero, so every byte string has exactly one
 * accepted encoding.  Otherwise (RFC 8941 section 4.2.7) missing padding
 * and non-zero pad bits are tolerated; a misplaced '=' never is.
 */
static int
fwg_b64_decode_mode(unsigned char *dst, size_t dstsize, size_t *outlen,
    const char *src, size_t len, int strict)
{
    size_t    i, o, npad, ndata, rem;
    uint32_t  v;
    int       d, k, q[4];

    npad = 0;

    while (npad < len && npad < 2 && src[len - 1 - npad] == '=') {
        npad++;
    }

    if (strict || npad > 0) {
        if (len % 4 != 0) {
            return -1;
        }
    }

    ndata = len - npad;
    rem = ndata % 4;

    if (rem == 1) {
        return -1;
    }

    if (npad > 0 && (4 - rem) % 4 != npad) {
        return -1;
    }

    if ((ndata / 4) * 3 + (rem ? rem - 1 : 0) > dstsize) {
        return -1;
    }

    o = 0;

    /* whole quanta four symbols at a time: one test of the four */

    for (i = 0; i + 4 <= ndata; i += 4) {
        q[0] = fwg_b64_value(src[i]);
        q[1] = fwg_b64_value(src[i + 1]);
        q[2] = fwg_b64_value(src[i + 2]);
        q[3] = fwg_b64_value(src[i + 3]);

        if ((q[0] | q[1] | q[2] | q[3]) < 0) {
            return -1;
        }

        v = ((uint32_t) q[0] << 18) | ((uint32_t) q[1] << 12)
            | ((uint32_t) q[2] << 6) | (uint32_t) q[3];

        dst[o++] = (unsigned char) (v >> 16);
        dst[o++] = (unsigned char) (v >> 8);
        dst[o++] = (unsigned char) v;
    }

    v = 0;
    k = 0;

    for ( /* void */ ; i < ndata; i++) {
        d = fwg_b64_value((unsigned char) src[i]);
        if (d < 0) {
            return -1;
        }

        v = (v << 6) | (uint32_t) d;

        if (++k == 4) {
            dst[o++] = (unsigned char) (v >> 16);
            dst[o++] = (unsigned char) (v >> 8);
            dst[o++] = (unsigned char) v;
            v = 0;
            k = 0;
        }
    }

    if (k == 2) {
        if (strict && (v & 0x0f)) {
            return -1;
        }

        dst[o++] = (unsigned char) (v >> 4);

    } else if (k == 3) {
        if (strict && (v & 0x03)) {
            return -1;
        }

        dst[o++] = (unsigned char) (v >> 10);
        dst[o++] = (unsigned char) (v >> 2);
    }

    *outlen = o;

    return 0;
}


int
fwg_b64_decode(unsigned char *dst, size_t dstsize, size_t *outlen,
    const char *src, size_t len)
{
    return fwg_b64_decode_mode(dst, dstsize, outlen, src, len, 1);
}


int
fwg_b64_decode_sf(unsigned char *dst, size_t dstsize, size_t *outlen,
    const char *src, size_t len)
{
    return fwg_b64_decode_mode(dst, dstsize, outlen, src, len, 0);
}


size_t
fwg_hex_encode(char *dst, const unsigned char *src, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        dst[2 * i] = fwg_hex_digits[src[i] >> 4];
        dst[2 * i + 1] = fwg_hex_digits[src[i] & 0x0f];
    }

    return 2 * len;
}


static int
fwg_hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }

    return -1;
}


int
fwg_hex_decode(unsigned char *dst, size_t dstsize, size_t *outlen,
    const char *src, size_t len)
{
    size_t  i;
    int     hi, lo;

    if (len % 2 != 0 || len / 2 > dstsize) {
        return -1;
    }

    for (i = 0; i < len; i += 2) {
        hi = fwg_hex_value((unsigned char) src[i]);
        lo = fwg_hex_value((unsigned char) src[i + 1]);

        if (hi < 0 || lo < 0) {
            return -1;
        }

        dst[i / 2] = (unsigned char) ((hi << 4) | lo);
    }

    *outlen = len / 2;

    return 0;
}
