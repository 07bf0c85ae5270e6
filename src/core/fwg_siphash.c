/*
 * SipHash-2-4, after the reference implementation's description: the
 * key and the message are read as little-endian 64-bit words whatever
 * the host order, so a digest is the same on every machine.
 */

#include "fwg_siphash.h"


#define FWG_ROTL(x, b)  (uint64_t) (((x) << (b)) | ((x) >> (64 - (b))))

#define FWG_SIPROUND                                                          \
    do {                                                                      \
        v0 += v1; v1 = FWG_ROTL(v1, 13); v1 ^= v0; v0 = FWG_ROTL(v0, 32);     \
        v2 += v3; v3 = FWG_ROTL(v3, 16); v3 ^= v2;                            \
        v0 += v3; v3 = FWG_ROTL(v3, 21); v3 ^= v0;                            \
        v2 += v1; v1 = FWG_ROTL(v1, 17); v1 ^= v2; v2 = FWG_ROTL(v2, 32);     \
    } while (0)


static uint64_t
fwg_le64(const unsigned char *p)
{
    return (uint64_t) p[0] | (uint64_t) p[1] << 8 | (uint64_t) p[2] << 16
           | (uint64_t) p[3] << 24 | (uint64_t) p[4] << 32
           | (uint64_t) p[5] << 40 | (uint64_t) p[6] << 48
           | (uint64_t) p[7] << 56;
}


uint64_t
fwg_siphash24(const unsigned char key[FWG_SIPHASH_KEY_LEN], const void *data,
    size_t len)
{
    size_t                i, tail;
    uint64_t              k0, k1, m, v0, v1, v2, v3, b;
    const unsigned char  *p = data;

    k0 = fwg_le64(key);
    k1 = fwg_le64(key + 8);

    v0 = k0 ^ 0x736f6d6570736575ULL;
    v1 = k1 ^ 0x646f72616e646f6dULL;
    v2 = k0 ^ 0x6c7967656e657261ULL;
    v3 = k1 ^ 0x7465646279746573ULL;

    for (i = 0; i + 8 <= len; i += 8) {
        m = fwg_le64(p + i);
        v3 ^= m;
        FWG_SIPROUND;
        FWG_SIPROUND;
        v0 ^= m;
    }

    /* the last 0-7 bytes, with the length's low byte on top */

    b = (uint64_t) (len & 0xff) << 56;
    tail = len - i;

    while (tail--) {
        b |= (uint64_t) p[i + tail] << (8 * tail);
    }

    v3 ^= b;
    FWG_SIPROUND;
    FWG_SIPROUND;
    v0 ^= b;

    v2 ^= 0xff;
    FWG_SIPROUND;
    FWG_SIPROUND;
    FWG_SIPROUND;
    FWG_SIPROUND;

    return v0 ^ v1 ^ v2 ^ v3;
}
