/*
 * RFC 8941 parser and serializer: hand-written cases, including hostile
 * input (truncations, huge numbers, unterminated strings, long lists in a
 * small arena).  Inputs are copied to exact-size heap buffers so that
 * AddressSanitizer catches any read past the end.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "fwg_sf.h"


#define SF_BIG  (1024 * 1024)

static char  sf_big_buf[SF_BIG];


typedef enum {
    P_ITEM = 0,
    P_LIST,
    P_DICT
} ptype_t;


typedef struct {
    int               rc;
    const char       *err;
    fwg_sf_member_t  *m;
    size_t            n;
    fwg_sf_item_t     it;
} pres_t;


/* parses len bytes of s (copied exactly) in an arena of asize bytes */
static pres_t
parse_n(ptype_t t, const char *s, size_t len, char *abuf, size_t asize)
{
    fwg_arena_t   a;
    pres_t        r;
    char         *copy;

    memset(&r, 0, sizeof(r));
    fwg_arena_init(&a, abuf, asize);

    copy = malloc(len ? len : 1);
    memcpy(copy, s, len);

    switch (t) {
    case P_ITEM:
        r.rc = fwg_sf_parse_item(copy, len, &a, &r.it, &r.err);
        break;
    case P_LIST:
        r.rc = fwg_sf_parse_list(copy, len, &a, &r.m, &r.n, &r.err);
        break;
    default:
        r.rc = fwg_sf_parse_dict(copy, len, &a, &r.m, &r.n, &r.err);
        break;
    }

    /*
     * Results may point into the input: callers that look at them use
     * parse_keep() instead.  Here the copy goes, so only rc and err stay
     * meaningful.
     */
    free(copy);

    return r;
}


static int
prc(ptype_t t, const char *s)
{
    return parse_n(t, s, strlen(s), sf_big_buf, SF_BIG).rc;
}


/* parse, keeping the input alive in `keep` (the caller frees it) */
static pres_t
parse_keep(ptype_t t, const char *s, char **keep)
{
    fwg_arena_t   a;
    pres_t        r;
    size_t        len;

    memset(&r, 0, sizeof(r));
    fwg_arena_init(&a, sf_big_buf, SF_BIG);

    len = strlen(s);
    *keep = malloc(len ? len : 1);
    memcpy(*keep, s, len);

    switch (t) {
    case P_ITEM:
        r.rc = fwg_sf_parse_item(*keep, len, &a, &r.it, &r.err);
        break;
    case P_LIST:
        r.rc = fwg_sf_parse_list(*keep, len, &a, &r.m, &r.n, &r.err);
        break;
    default:
        r.rc = fwg_sf_parse_dict(*keep, len, &a, &r.m, &r.n, &r.err);
        break;
    }

    return r;
}


static long
ser(ptype_t t, const pres_t *r, char *out, size_t size)
{
    switch (t) {
    case P_ITEM:
        return fwg_sf_serialize_item(out, size, &r->it);
    case P_LIST:
        return fwg_sf_serialize_list(out, size, r->m, r->n);
    default:
        return fwg_sf_serialize_dict(out, size, r->m, r->n);
    }
}


/* parse, serialize, compare with the canonical form */
static int
roundtrip(ptype_t t, const char *in, const char *canon)
{
    pres_t   r;
    char    *keep, out[4096];
    long     n;
    int      ok;

    r = parse_keep(t, in, &keep);
    ok = 0;

    if (r.rc == FWG_SF_OK) {
        n = ser(t, &r, out, sizeof(out));
        ok = n >= 0 && (size_t) n == strlen(canon)
             && memcmp(out, canon, (size_t) n) == 0;

        if (!ok) {
            printf("  roundtrip of '%s': got '%.*s'\n", in,
                   n < 0 ? 0 : (int) n, out);
        }
    }

    free(keep);

    return ok;
}


static void
sf_signature_fields(void)
{
    static const char  si[] =
        "fw=(\"@method\" \"@path\" \"@authority\" \"x-device-model\" "
        "\"x-firmware-version\");created=1764000000;keyid=\"LS6-000123\";"
        "alg=\"ed25519\";nonce=\"b3k2pPz9\"";

    const fwg_sf_member_t  *fw;
    const fwg_sf_bare_t    *p;
    fwg_str_t               label = fwg_str_lit("fw");
    fwg_str_t               other = fwg_str_lit("sig1");
    pres_t                  r;
    char                   *keep;

    r = parse_keep(P_DICT, si, &keep);
    FWG_CHECK_EQ_INT(r.rc, FWG_SF_OK);
    FWG_CHECK_EQ_INT(r.n, 1);

    fw = fwg_sf_dict_get(r.m, r.n, label);
    FWG_CHECK(fwg_sf_dict_get(r.m, r.n, other) == NULL);

    if (FWG_CHECK(fw != NULL)) {
        FWG_CHECK_EQ_INT(fw->value.bare.type, FWG_SF_INNER_LIST);
        FWG_CHECK_EQ_INT(fw->value.nitems, 5);
        FWG_CHECK_EQ_INT(fw->value.items[0].bare.type, FWG_SF_STRING);
        FWG_CHECK_STR(fw->value.items[0].bare.str, "@method");
        FWG_CHECK_STR(fw->value.items[4].bare.str, "x-firmware-version");
        FWG_CHECK_EQ_INT(fw->value.nparams, 4);

        p = fwg_sf_param(&fw->value, "created");
        FWG_CHECK(p != NULL && p->type == FWG_SF_INTEGER
                  && p->integer == 1764000000);
        p = fwg_sf_param(&fw->value, "keyid");
        FWG_CHECK(p != NULL && p->type == FWG_SF_STRING);
        if (p) {
            FWG_CHECK_STR(p->str, "LS6-000123");
        }
        FWG_CHECK(fwg_sf_param(&fw->value, "expires") == NULL);
        FWG_CHECK(fwg_sf_param(&fw->value, "creat") == NULL);
    }

    free(keep);

    /* the serialized form is the input: the @signature-params value */
    FWG_CHECK(roundtrip(P_DICT, si, si));

    r = parse_keep(P_DICT, "fw=:aGVsbG8=:, other=:AAEC/w==:", &keep);
    FWG_CHECK_EQ_INT(r.rc, FWG_SF_OK);
    FWG_CHECK_EQ_INT(r.n, 2);
    if (r.n == 2) {
        FWG_CHECK_EQ_INT(r.m[0].value.bare.type, FWG_SF_BINARY);
        FWG_CHECK_STR(r.m[0].value.bare.str, "hello");
        FWG_CHECK_MEM(r.m[1].value.bare.str.data, r.m[1].value.bare.str.len,
                      "\x00\x01\x02\xff", 4);
    }
    free(keep);
}


static void
sf_values(void)
{
    pres_t   r;
    char    *keep;

    /* duplicates: last value wins, first position kept */
    r = parse_keep(P_DICT, "a=1, b=2, a=3", &keep);
    FWG_CHECK_EQ_INT(r.rc, FWG_SF_OK);
    FWG_CHECK_EQ_INT(r.n, 2);
    if (r.n == 2) {
        FWG_CHECK_STR(r.m[0].key, "a");
        FWG_CHECK_EQ_INT(r.m[0].value.bare.integer, 3);
        FWG_CHECK_STR(r.m[1].key, "b");
    }
    free(keep);

    FWG_CHECK(roundtrip(P_ITEM, "1;a=1;b=2;a=3", "1;a=3;b=2"));
    FWG_CHECK(roundtrip(P_DICT, "a=1, b;x, a", "a, b;x"));

    /* numbers at and past their limits */
    r = parse_keep(P_ITEM, "-999999999999999", &keep);
    FWG_CHECK(r.rc == FWG_SF_OK && r.it.bare.type == FWG_SF_INTEGER
              && r.it.bare.integer == -999999999999999LL);
    free(keep);

    r = parse_keep(P_ITEM, "999999999999.999", &keep);
    FWG_CHECK(r.rc == FWG_SF_OK && r.it.bare.type == FWG_SF_DECIMAL
              && r.it.bare.decimal == 999999999999999LL);
    free(keep);

    r = parse_keep(P_ITEM, "-0.5", &keep);
    FWG_CHECK(r.rc == FWG_SF_OK && r.it.bare.decimal == -500);
    free(keep);

    FWG_CHECK(prc(P_ITEM, "1000000000000000") == FWG_SF_ESYNTAX);
    FWG_CHECK(prc(P_ITEM, "-1000000000000000") == FWG_SF_ESYNTAX);
    FWG_CHECK(prc(P_ITEM, "99999999999999999999999999999999999") != 0);
    FWG_CHECK(prc(P_ITEM, "1234567890123.1") == FWG_SF_ESYNTAX);
    FWG_CHECK(prc(P_ITEM, "1.1234") == FWG_SF_ESYNTAX);
    FWG_CHECK(prc(P_ITEM, "1.") == FWG_SF_ESYNTAX);
    FWG_CHECK(prc(P_ITEM, "1..0") == FWG_SF_ESYNTAX);
    FWG_CHECK(prc(P_ITEM, "-") == FWG_SF_ESYNTAX);
    FWG_CHECK(prc(P_ITEM, "--1") == FWG_SF_ESYNTAX);
    FWG_CHECK(prc(P_ITEM, "-a") == FWG_SF_ESYNTAX);
    FWG_CHECK(prc(P_ITEM, "0x10") == FWG_SF_ESYNTAX);
    FWG_CHECK(prc(P_ITEM, "1e3") == FWG_SF_ESYNTAX);

    /* strings */
    r = parse_keep(P_ITEM, "\"a\\\"b\\\\c\"", &keep);
    FWG_CHECK(r.rc == FWG_SF_OK);
    FWG_CHECK_STR(r.it.bare.str, "a\"b\\c");
    free(keep);

    FWG_CHECK(prc(P_ITEM, "\"abc") == FWG_SF_ESYNTAX);
    FWG_CHECK(prc(P_ITEM, "\"abc\\") == FWG_SF_ESYNTAX);
    FWG_CHECK(prc(P_ITEM, "\"abc\\\"") == FWG_SF_ESYNTAX);
    FWG_CHECK(prc(P_ITEM, "\"a\\nb\"") == FWG_SF_ESYNTAX);
    FWG_CHECK(prc(P_ITEM, "\"") == FWG_SF_ESYNTAX);
    FWG_CHECK(parse_n(P_ITEM, "\"a\0b\"", 5, sf_big_buf, SF_BIG).rc
              == FWG_SF_ESYNTAX);
    FWG_CHECK(parse_n(P_ITEM, "a\0", 2, sf_big_buf, SF_BIG).rc
              == FWG_SF_ESYNTAX);

    /* other types */
    FWG_CHECK(prc(P_ITEM, "?2") == FWG_SF_ESYNTAX);
    FWG_CHECK(prc(P_ITEM, "?") == FWG_SF_ESYNTAX);
    FWG_CHECK(prc(P_ITEM, ":aGVsbG8=") == FWG_SF_ESYNTAX);
    FWG_CHECK(prc(P_ITEM, ":") == FWG_SF_ESYNTAX);
    FWG_CHECK(roundtrip(P_ITEM, "*tok/en:x", "*tok/en:x"));
    FWG_CHECK(roundtrip(P_ITEM, ":aGVsbG8:", ":aGVsbG8=:"));

    /* RFC 9651 Date and Display String are not supported */
    FWG_CHECK(prc(P_ITEM, "@1659578233") == FWG_SF_ESYNTAX);
    FWG_CHECK(prc(P_ITEM, "%\"f%c3%bc\"") == FWG_SF_ESYNTAX);
    FWG_CHECK(prc(P_DICT, "a=@1") == FWG_SF_ESYNTAX);
    FWG_CHECK(prc(P_LIST, "1;a=%\"x\"") == FWG_SF_ESYNTAX);

    /* structure */
    FWG_CHECK(prc(P_LIST, "") == FWG_SF_OK);
    FWG_CHECK(prc(P_DICT, "   ") == FWG_SF_OK);
    FWG_CHECK(prc(P_ITEM, "") == FWG_SF_ESYNTAX);
    FWG_CHECK(prc(P_LIST, "1,") == FWG_SF_ESYNTAX);
    FWG_CHECK(prc(P_LIST, ",1") == FWG_SF_ESYNTAX);
    FWG_CHECK(prc(P_LIST, "1,,2") == FWG_SF_ESYNTAX);
    FWG_CHECK(prc(P_LIST, "(1 2") == FWG_SF_ESYNTAX);
    FWG_CHECK(prc(P_LIST, "(1 2 ") == FWG_SF_ESYNTAX);
    FWG_CHECK(prc(P_LIST, "((1))") == FWG_SF_ESYNTAX);
    FWG_CHECK(prc(P_LIST, "(1,2)") == FWG_SF_ESYNTAX);
    FWG_CHECK(prc(P_DICT, "A=1") == FWG_SF_ESYNTAX);
    FWG_CHECK(prc(P_DICT, "a=") == FWG_SF_ESYNTAX);
    FWG_CHECK(prc(P_DICT, "a=1;") == FWG_SF_ESYNTAX);
    FWG_CHECK(prc(P_DICT, "a=1;B") == FWG_SF_ESYNTAX);
    FWG_CHECK(prc(P_ITEM, "\t1") == FWG_SF_ESYNTAX);
    FWG_CHECK(roundtrip(P_LIST, "  1 ,\t(a  b);x=?0 ,c  ", "1, (a b);x=?0, c"));

    /* the error message is always set on failure */
    r = parse_n(P_DICT, "a=(", 3, sf_big_buf, SF_BIG);
    FWG_CHECK(r.rc != FWG_SF_OK && r.err != NULL && r.err[0] != '\0');
}


static void
sf_serializer(void)
{
    fwg_sf_item_t   it;
    fwg_sf_param_t  p[2];
    char            out[256];
    long            n;
    size_t          i;
    int             ok;

    static const struct {
        int64_t      v;
        const char  *s;
    } dec[] = {
        { 0, "0.0" }, { 1, "0.001" }, { -1, "-0.001" }, { 10, "0.01" },
        { 1500, "1.5" }, { -2250, "-2.25" }, { 123456, "123.456" },
        { 999999999999999LL, "999999999999.999" },
        { -999999999999999LL, "-999999999999.999" }
    };

    memset(&it, 0, sizeof(it));

    for (i = 0; i < sizeof(dec) / sizeof(dec[0]); i++) {
        it.bare.type = FWG_SF_DECIMAL;
        it.bare.decimal = dec[i].v;
        n = fwg_sf_serialize_item(out, sizeof(out), &it);
        FWG_CHECK_MEM(out, n < 0 ? 0 : (size_t) n, dec[i].s,
                      strlen(dec[i].s));
    }

    it.bare.decimal = 1000000000000000LL;
    FWG_CHECK_EQ_INT(fwg_sf_serialize_item(out, sizeof(out), &it), -1);
    it.bare.decimal = INT64_MIN;
    FWG_CHECK_EQ_INT(fwg_sf_serialize_item(out, sizeof(out), &it), -1);

    it.bare.type = FWG_SF_INTEGER;
    it.bare.integer = INT64_MIN;
    FWG_CHECK_EQ_INT(fwg_sf_serialize_item(out, sizeof(out), &it), -1);
    it.bare.integer = -42;
    n = fwg_sf_serialize_item(out, sizeof(out), &it);
    FWG_CHECK_MEM(out, n < 0 ? 0 : (size_t) n, "-42", 3);

    it.bare.type = (fwg_sf_type_t) 99;
    FWG_CHECK_EQ_INT(fwg_sf_serialize_item(out, sizeof(out), &it), -1);

    it.bare.type = FWG_SF_TOKEN;
    it.bare.str.data = "";
    it.bare.str.len = 0;
    FWG_CHECK_EQ_INT(fwg_sf_serialize_item(out, sizeof(out), &it), -1);
    it.bare.str.data = "1abc";
    it.bare.str.len = 4;
    FWG_CHECK_EQ_INT(fwg_sf_serialize_item(out, sizeof(out), &it), -1);

    it.bare.type = FWG_SF_STRING;
    it.bare.str.data = "a\x7f";
    it.bare.str.len = 2;
    FWG_CHECK_EQ_INT(fwg_sf_serialize_item(out, sizeof(out), &it), -1);

    /* parameters alone, as in @signature-params */
    memset(p, 0, sizeof(p));
    p[0].key.data = "created";
    p[0].key.len = 7;
    p[0].value.type = FWG_SF_INTEGER;
    p[0].value.integer = 1764000000;
    p[1].key.data = "keyid";
    p[1].key.len = 5;
    p[1].value.type = FWG_SF_STRING;
    p[1].value.str.data = "k\"1";
    p[1].value.str.len = 3;
    n = fwg_sf_serialize_params(out, sizeof(out), p, 2);
    FWG_CHECK_MEM(out, n < 0 ? 0 : (size_t) n,
                  ";created=1764000000;keyid=\"k\\\"1\"", 32);

    /* every too-small buffer is refused without writing past it */
    ok = 1;

    for (i = 0; i < 32; i++) {
        char  *small;

        small = malloc(i ? i : 1);
        if (fwg_sf_serialize_params(small, i, p, 2) != -1) {
            ok = 0;
        }
        free(small);
    }

    FWG_CHECK(ok);

    p[1].key.data = "Keyid";
    FWG_CHECK_EQ_INT(fwg_sf_serialize_params(out, sizeof(out), p, 2), -1);
    p[1].key.len = 0;
    FWG_CHECK_EQ_INT(fwg_sf_serialize_params(out, sizeof(out), p, 2), -1);

    /* an inner list inside an inner list cannot be serialized */
    {
        fwg_sf_item_t  outer, inner;

        memset(&outer, 0, sizeof(outer));
        memset(&inner, 0, sizeof(inner));
        inner.bare.type = FWG_SF_INNER_LIST;
        outer.bare.type = FWG_SF_INNER_LIST;
        outer.items = &inner;
        outer.nitems = 1;
        FWG_CHECK_EQ_INT(fwg_sf_serialize_item(out, sizeof(out), &outer),
                         -1);
        outer.nitems = 0;
        n = fwg_sf_serialize_item(out, sizeof(out), &outer);
        FWG_CHECK_MEM(out, n < 0 ? 0 : (size_t) n, "()", 2);
    }
}


/* every prefix of a rich field value: no crash, never a half success */
static void
sf_truncations(void)
{
    static const char  *fields[] = {
        "sig1=(\"@method\" \"@target-uri\" \"x-a\";sf \"@query-param\";"
        "name=\"q\");created=1618884473;keyid=\"test-key-rsa-pss\";"
        "nonce=\"b3k2pPz9\";tag=\"x\", sig2=:aGVsbG8gd29ybGQ=:;a=?1;"
        "b=-1.25;c=tok/en*, d, e=(1 2.5 \"s\\\"q\" :AA==: ?0 t);z",
        "  (a b;c=1);d=\"x\\\\\", 12.345;e, :YWJj:, ?1  "
    };

    static const ptype_t  types[] = { P_DICT, P_LIST, P_ITEM };

    size_t  f, len, k, t, bad, nok;
    pres_t  r;

    bad = 0;
    nok = 0;

    for (f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
        len = strlen(fields[f]);

        for (k = 0; k <= len; k++) {
            for (t = 0; t < 3; t++) {
                r = parse_n(types[t], fields[f], k, sf_big_buf, SF_BIG);

                if (r.rc != FWG_SF_OK && r.rc != FWG_SF_ESYNTAX) {
                    bad++;
                }

                if (r.rc != FWG_SF_OK && r.err == NULL) {
                    bad++;
                }

                nok += (r.rc == FWG_SF_OK);
            }
        }
    }

    FWG_CHECK_EQ_INT(bad, 0);
    FWG_CHECK(nok > 0);
}


/* long input in a small arena: ENOMEM, never a crash */
static void
sf_small_arena(void)
{
    char     small[4096];
    char    *s;
    size_t   i, n;
    pres_t   r;

    s = malloc(200000);

    /* 10k-member list */
    for (n = 0, i = 0; i < 10000; i++) {
        memcpy(s + n, "1, ", 3);
        n += 3;
    }
    n -= 2;

    r = parse_n(P_LIST, s, n, small, sizeof(small));
    FWG_CHECK_EQ_INT(r.rc, FWG_SF_ENOMEM);
    FWG_CHECK(r.err != NULL);
    r = parse_n(P_LIST, s, n, sf_big_buf, SF_BIG);
    FWG_CHECK_EQ_INT(r.rc, FWG_SF_OK);
    FWG_CHECK_EQ_INT(r.n, 10000);

    /* 10k-long inner list */
    s[0] = '(';
    for (n = 1, i = 0; i < 10000; i++) {
        memcpy(s + n, "ab ", 3);
        n += 3;
    }
    s[n - 1] = ')';

    /* an Item is never an inner list */
    r = parse_n(P_ITEM, s, n, sf_big_buf, SF_BIG);
    FWG_CHECK_EQ_INT(r.rc, FWG_SF_ESYNTAX);

    r = parse_n(P_LIST, s, n, small, sizeof(small));
    FWG_CHECK_EQ_INT(r.rc, FWG_SF_ENOMEM);
    r = parse_n(P_LIST, s, n, sf_big_buf, SF_BIG);
    FWG_CHECK_EQ_INT(r.rc, FWG_SF_OK);
    FWG_CHECK_EQ_INT(r.n, 1);

    /* 10k-deep opening parentheses: refused, no recursion */
    memset(s, '(', 10000);
    r = parse_n(P_LIST, s, 10000, small, sizeof(small));
    FWG_CHECK_EQ_INT(r.rc, FWG_SF_ESYNTAX);

    /* 10k distinct parameters */
    for (n = 0, i = 0; i < 10000; i++) {
        n += (size_t) sprintf(s + n, ";k%zu", i);
    }
    s[0] = 't';

    r = parse_n(P_ITEM, s, n, small, sizeof(small));
    FWG_CHECK_EQ_INT(r.rc, FWG_SF_ENOMEM);

    /* 10k repeated parameter: the duplicates fold into one */
    s[0] = 't';
    for (n = 1, i = 0; i < 10000; i++) {
        memcpy(s + n, ";a", 2);
        n += 2;
    }

    r = parse_n(P_ITEM, s, n, small, sizeof(small));
    FWG_CHECK_EQ_INT(r.rc, FWG_SF_OK);
    FWG_CHECK_EQ_INT(r.it.nparams, 1);

    /* a long escaped string and a long byte sequence */
    s[0] = '"';
    for (n = 1, i = 0; i < 20000; i++) {
        memcpy(s + n, "\\\\", 2);
        n += 2;
    }
    s[n++] = '"';

    r = parse_n(P_ITEM, s, n, small, sizeof(small));
    FWG_CHECK_EQ_INT(r.rc, FWG_SF_ENOMEM);

    s[0] = ':';
    memset(s + 1, 'A', 40000);
    s[40001] = ':';
    r = parse_n(P_ITEM, s, 40002, small, sizeof(small));
    FWG_CHECK_EQ_INT(r.rc, FWG_SF_ENOMEM);

    /* no arena at all */
    r = parse_n(P_LIST, "1, 2", 4, NULL, 0);
    FWG_CHECK_EQ_INT(r.rc, FWG_SF_ENOMEM);

    free(s);
}


/*
 * Random input from SF-significant bytes: the parser never crashes; what
 * it accepts serializes, and the serialization is a fixed point.
 */
static void
sf_random(void)
{
    static const char  alpha[] = "aZ*09-.:;=,() \t\"\\?/+%@_!'\x01\x80";
    char               in[64], out[1024], out2[1024];
    uint32_t           seed;
    size_t             i, k, len;
    unsigned long      bad, accepted;
    ptype_t            t;
    pres_t             r, r2;
    long               n, n2;
    char              *keep, *keep2;

    seed = 12345;
    bad = 0;
    accepted = 0;

    for (i = 0; i < 100000; i++) {
        seed = seed * 1103515245u + 12345u;
        len = (seed >> 16) % sizeof(in);

        for (k = 0; k < len; k++) {
            seed = seed * 1103515245u + 12345u;
            in[k] = alpha[(seed >> 16) % (sizeof(alpha) - 1)];
        }

        t = (ptype_t) (i % 3);
        r = parse_n(t, in, len, sf_big_buf, SF_BIG);

        if (r.rc != FWG_SF_OK) {
            continue;
        }

        accepted++;

        /* again, keeping the input alive for serialization */
        in[len] = '\0';
        if (strlen(in) != len) {
            continue;
        }

        r = parse_keep(t, in, &keep);
        n = ser(t, &r, out, sizeof(out) - 1);

        if (n < 0) {
            bad++;
            free(keep);
            continue;
        }

        out[n] = '\0';

        /* re-parse needs its own arena: the first result stays alive */
        {
            fwg_arena_t  a2;
            char        *copy;

            fwg_arena_init(&a2, sf_big_buf + SF_BIG / 2, SF_BIG / 2);
            copy = malloc((size_t) n + 1);
            memcpy(copy, out, (size_t) n);
            keep2 = copy;

            memset(&r2, 0, sizeof(r2));

            switch (t) {
            case P_ITEM:
                r2.rc = fwg_sf_parse_item(copy, (size_t) n, &a2, &r2.it,
                                          &r2.err);
                break;
            case P_LIST:
                r2.rc = fwg_sf_parse_list(copy, (size_t) n, &a2, &r2.m,
                                          &r2.n, &r2.err);
                break;
            default:
                r2.rc = fwg_sf_parse_dict(copy, (size_t) n, &a2, &r2.m,
                                          &r2.n, &r2.err);
                break;
            }
        }

        n2 = (r2.rc == FWG_SF_OK) ? ser(t, &r2, out2, sizeof(out2)) : -1;

        if (n2 != n || memcmp(out, out2, (size_t) n) != 0) {
            bad++;
            printf("  not a fixed point: '%s' -> '%s'\n", in, out);
        }

        free(keep);
        free(keep2);
    }

    FWG_CHECK_EQ_INT(bad, 0);
    FWG_CHECK(accepted > 100);
}


void
suite_sf(void)
{
    unit_suite("sf");

    sf_signature_fields();
    sf_values();
    sf_serializer();
    sf_truncations();
    sf_small_arena();
    sf_random();
}
