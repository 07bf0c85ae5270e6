/*
 * Base64 and hex: RFC 4648 section 10 vectors, strictness, bounds.
 */

#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "fwg_b64.h"


/* decodes a copy of exactly len bytes, so ASan sees any over-read */
static int
b64_dec(const char *s, unsigned char *out, size_t outsize, size_t *outlen,
    int sf)
{
    char    *copy;
    size_t   len;
    int      rc;

    len = strlen(s);
    copy = malloc(len ? len : 1);
    memcpy(copy, s, len);

    rc = sf ? fwg_b64_decode_sf(out, outsize, outlen, copy, len)
            : fwg_b64_decode(out, outsize, outlen, copy, len);

    free(copy);

    return rc;
}


void
suite_b64(void)
{
    static const char  *vec[][2] = {
        { "", "" },
        { "f", "Zg==" },
        { "fo", "Zm8=" },
        { "foo", "Zm9v" },
        { "foob", "Zm9vYg==" },
        { "fooba", "Zm9vYmE=" },
        { "foobar", "Zm9vYmFy" },
    };

    static const char  *bad[] = {
        "Zg", "Zg=", "Zm8", "Z===", "=Zg=", "Zg==Zg==", "Zm 9v", "Zm9v\n",
        "Zm9-", "Zm9_", "Zh==", "Zm9=", "Z", "Zg=a", "===="
    };

    unsigned char   out[64], bin[256], dec[256];
    char            enc[512];
    size_t          i, n, outlen, elen, bad_rt;

    unit_suite("b64");

    for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
        n = fwg_b64_encode(enc, (const unsigned char *) vec[i][0],
                           strlen(vec[i][0]));
        FWG_CHECK_MEM(enc, n, vec[i][1], strlen(vec[i][1]));
        FWG_CHECK_EQ_INT(n, fwg_b64_enc_len(strlen(vec[i][0])));

        outlen = 99;
        FWG_CHECK_EQ_INT(b64_dec(vec[i][1], out, sizeof(out), &outlen, 0),
                         0);
        FWG_CHECK_MEM(out, outlen, vec[i][0], strlen(vec[i][0]));
    }

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        FWG_CHECK_MSG(b64_dec(bad[i], out, sizeof(out), &outlen, 0) == -1,
                      "strict decode accepted \"%s\"", bad[i]);
    }

    /* embedded NUL is not alphabet */
    FWG_CHECK_EQ_INT(fwg_b64_decode(out, sizeof(out), &outlen, "Zm\0v", 4),
                     -1);

    /* the RFC 8941 variant: no padding and non-zero pad bits are fine */
    FWG_CHECK_EQ_INT(b64_dec("aGVsbG8", out, sizeof(out), &outlen, 1), 0);
    FWG_CHECK_MEM(out, outlen, "hello", 5);
    FWG_CHECK_EQ_INT(b64_dec("iZ==", out, sizeof(out), &outlen, 1), 0);
    FWG_CHECK_MEM(out, outlen, "\x89", 1);
    FWG_CHECK_EQ_INT(b64_dec("iZ==", out, sizeof(out), &outlen, 0), -1);
    FWG_CHECK_EQ_INT(b64_dec("Zm9", out, sizeof(out), &outlen, 1), 0);
    FWG_CHECK_MEM(out, outlen, "fo", 2);
    FWG_CHECK_EQ_INT(b64_dec("Z", out, sizeof(out), &outlen, 1), -1);
    FWG_CHECK_EQ_INT(b64_dec("Zm9=v", out, sizeof(out), &outlen, 1), -1);
    FWG_CHECK_EQ_INT(b64_dec("Zg=", out, sizeof(out), &outlen, 1), -1);
    FWG_CHECK_EQ_INT(b64_dec("a=GVsbG8=", out, sizeof(out), &outlen, 1), -1);
    FWG_CHECK_EQ_INT(b64_dec("", out, sizeof(out), &outlen, 1), 0);
    FWG_CHECK_EQ_INT(outlen, 0);

    /* destination too small: refused, not overrun */
    FWG_CHECK_EQ_INT(b64_dec("Zm9vYmFy", out, 5, &outlen, 0), -1);
    FWG_CHECK_EQ_INT(b64_dec("Zm9vYmFy", out, 6, &outlen, 0), 0);
    FWG_CHECK_EQ_INT(b64_dec("Zm9vYmE=", out, 4, &outlen, 0), -1);
    FWG_CHECK_EQ_INT(b64_dec("Zm9vYmE", out, 4, &outlen, 1), -1);

    /* round trip of every byte value and every length up to 256 */
    for (i = 0; i < sizeof(bin); i++) {
        bin[i] = (unsigned char) (255 - i);
    }

    bad_rt = 0;

    for (n = 0; n <= sizeof(bin); n++) {
        elen = fwg_b64_encode(enc, bin, n);

        if (fwg_b64_decode(dec, sizeof(dec), &outlen, enc, elen) != 0
            || outlen != n || memcmp(dec, bin, n) != 0)
        {
            bad_rt++;
        }
    }

    FWG_CHECK_EQ_INT(bad_rt, 0);

    /* hex */
    n = fwg_hex_encode(enc, (const unsigned char *) "\x00\x9f\xff", 3);
    FWG_CHECK_MEM(enc, n, "009fff", 6);
    FWG_CHECK_EQ_INT(fwg_hex_decode(out, sizeof(out), &outlen, "00aBfF", 6),
                     0);
    FWG_CHECK_MEM(out, outlen, "\x00\xab\xff", 3);
    FWG_CHECK_EQ_INT(fwg_hex_decode(out, sizeof(out), &outlen, "abc", 3), -1);
    FWG_CHECK_EQ_INT(fwg_hex_decode(out, sizeof(out), &outlen, "zz", 2), -1);
    FWG_CHECK_EQ_INT(fwg_hex_decode(out, sizeof(out), &outlen, "0 ", 2), -1);
    FWG_CHECK_EQ_INT(fwg_hex_decode(out, 1, &outlen, "abcd", 4), -1);
    FWG_CHECK_EQ_INT(fwg_hex_decode(out, 2, &outlen, "abcd", 4), 0);
    FWG_CHECK_EQ_INT(fwg_hex_decode(out, 0, &outlen, "", 0), 0);
    FWG_CHECK_EQ_INT(outlen, 0);

    /* fwg_types: constant-time compare and string helpers */
    FWG_CHECK_EQ_INT(fwg_ct_memcmp("abc", "abc", 3), 0);
    FWG_CHECK(fwg_ct_memcmp("abc", "abd", 3) != 0);
    FWG_CHECK(fwg_ct_memcmp("\x00\x80", "\x80\x00", 2) != 0);
    FWG_CHECK_EQ_INT(fwg_ct_memcmp("x", "y", 0), 0);

    {
        fwg_str_t    a = fwg_str_lit("hello");
        fwg_str_t    b = { "hello world", 5 };
        fwg_str_t    e = fwg_null_str;
        fwg_arena_t  ar;
        char         buf[64];
        void        *p1, *p2, *p3;

        FWG_CHECK(fwg_str_eq(a, "hello"));
        FWG_CHECK(!fwg_str_eq(a, "hell"));
        FWG_CHECK(!fwg_str_eq(a, "hello!"));
        FWG_CHECK(fwg_str_eqs(a, b));
        FWG_CHECK(fwg_str_eq(e, ""));
        FWG_CHECK(!fwg_str_eqs(a, e));

        fwg_arena_init(&ar, buf + 1, sizeof(buf) - 1);
        p1 = fwg_arena_alloc(&ar, 3);
        p2 = fwg_arena_alloc(&ar, 8);
        FWG_CHECK(p1 != NULL && p2 != NULL);
        FWG_CHECK(((uintptr_t) p1 & 7) == 0 && ((uintptr_t) p2 & 7) == 0);
        FWG_CHECK((char *) p2 >= (char *) p1 + 3);
        FWG_CHECK(fwg_arena_alloc(&ar, 64) == NULL);
        FWG_CHECK(fwg_arena_alloc(&ar, (size_t) -1) == NULL);
        FWG_CHECK(fwg_arena_alloc(&ar, (size_t) -8) == NULL);
        p3 = fwg_arena_alloc(&ar, 8);
        FWG_CHECK(p3 != NULL && (char *) p3 + 8 <= buf + sizeof(buf));
    }
}
