/*
 * The signature fast path (fwg_sigfast.c) against the general parser: the
 * RFC 9421 examples and edge cases.  Each case checks that both give the
 * same result (sigfast_cmp.h) and whether the fast path took the message,
 * so a fast path that declines everything fails here too.
 */

#include <stdio.h>
#include <string.h>

#include "unit.h"
#include "fwg_sig.h"
#include "fwg_sigfast.h"
#include "sigfast_cmp.h"


#define SIG_OK  "fw=:dGhpcyBpcyBhIHNpZ25hdHVyZQ==:"

#define R5   "AAAAAAAAAAAAAAAAAAAA"
#define R85  R5 R5 R5 R5 R5 R5 R5 R5 R5 R5 R5 R5 R5 R5 R5 R5 R5

typedef struct {
    fwg_field_t   f[16];
    size_t        n;
    fwg_msg_t     msg;
} sreq_t;


static fwg_str_t
scs(const char *s)
{
    fwg_str_t  r;

    r.data = s;
    r.len = s ? strlen(s) : 0;

    return r;
}


/* the fwgate download shape, without the signature fields */
static void
sreq_init(sreq_t *r)
{
    memset(r, 0, sizeof(*r));
    r->msg.method = scs("GET");
    r->msg.scheme = scs("https");
    r->msg.authority = scs("fw.example.com");
    r->msg.path = scs("/firmware/a.bin");
    r->msg.fields = r->f;
}


static void
sreq_add(sreq_t *r, const char *name, const char *value)
{
    if (r->n < sizeof(r->f) / sizeof(r->f[0])) {
        r->f[r->n].name = scs(name);
        r->f[r->n].value = scs(value);
        r->n++;
    }

    r->msg.nfields = r->n;
}


static void
sreq_dev(sreq_t *r, const char *si, const char *sig)
{
    sreq_init(r);
    sreq_add(r, "Host", "fw.example.com");
    sreq_add(r, "X-Device-Model", "BENCH-A");
    sreq_add(r, "X-Firmware-Version", "2.4.1");
    if (si) {
        sreq_add(r, "Signature-Input", si);
    }
    if (sig) {
        sreq_add(r, "Signature", sig);
    }
    sreq_add(r, "User-Agent", "fwgate-test");
}


/* one case: equivalence, and whether parse and base took the fast path */
static void
same(const char *what, const fwg_msg_t *msg, const char *label,
    int want_fast_parse, int want_fast_base)
{
    int          fp, fb;
    const char  *d;

    d = sigfast_cmp(msg, scs(label ? label : ""), &fp, &fb);

    FWG_CHECK_MSG(d == NULL, "%s: fast and general differ: %s", what, d);
    if (want_fast_parse >= 0) {
        FWG_CHECK_MSG(fp == want_fast_parse, "%s: fast parse %s", what,
                      fp ? "taken" : "declined");
    }

    if (want_fast_base >= 0) {
        FWG_CHECK_MSG(fb == want_fast_base, "%s: fast base %s", what,
                      fb ? "taken" : "declined");
    }
}


static void
case_si(const char *what, const char *si, const char *sig, const char *label,
    int want_fast_parse, int want_fast_base)
{
    sreq_t  r;

    sreq_dev(&r, si, sig);
    same(what, &r.msg, label, want_fast_parse, want_fast_base);
}


/* RFC 9421 Appendix B.2 */
static void
test_rfc(void)
{
    sreq_t  r;
    int     fp, fb;

    const char *b2[][2] = {
        { "sig-b26=(\"date\" \"@method\" \"@path\" \"@authority\" "
          "\"content-type\" \"content-length\");created=1618884473;"
          "keyid=\"test-key-ed25519\"",
          "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9"
          "EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:" },
        { "sig-b25=(\"date\" \"@authority\" \"content-type\");"
          "created=1618884473;keyid=\"test-shared-secret\"",
          "sig-b25=:pxcQw6G3AjtMBQjwo8XzkZf/bws5LelbaMk5rGIGtE8=:" },
        { "sig-b21=();created=1618884473;keyid=\"test-key-rsa-pss\";"
          "nonce=\"b3k2pp5k7z-50gnwp.yemd\"",
          /* an RSA-PSS signature's size (the value is not checked here) */
          "sig-b21=:" R85 "AA==:" },
        { "sig-b22=(\"@authority\" \"content-digest\" "
          "\"@query-param\";name=\"Pet\");created=1618884473;"
          "keyid=\"test-key-rsa-pss\";tag=\"header-example\"",
          "sig-b22=:LjbtqUbfmvjj5C5kr1Ugj4PmLYvx9wVjZvD9GsTT4F7GrcQEdJzgI9qHxICa"
          "gShLRiLMlAJjtq6N4CDfKtjvuJyE5qH7KT8UCMkSowOB4+ECxCmT8rtAmj/0PIXxi0A0"
          "nxKyB09RNrCQibbUjsLS/2YyFYXEu4TRJQzRw1rLEuEfY17SARYhpTlaqwZVtR8NV7+4"
          "UKkjqpcAoFqWFQh62s7Cl+H2fjBSpqfZUJcsIk4N6wiKYd4je2U/lankenQ99PZfB4jY"
          "3I5rSV2DSBVkSFsURIjYErOs0tFTQosMTAoxk//0RoKUqiYY8Bh0aaUEb0rQl3/XaVe4"
          "bXTugEjHSw==:" },
    };
    size_t  i;

    for (i = 0; i < sizeof(b2) / sizeof(b2[0]); i++) {
        sreq_init(&r);
        r.msg.method = scs("POST");
        r.msg.authority = scs("example.com");
        r.msg.path = scs("/foo");
        r.msg.query = scs("param=Value&Pet=dog");
        r.msg.has_query = 1;
        sreq_add(&r, "Host", "example.com");
        sreq_add(&r, "Date", "Tue, 20 Apr 2021 02:07:55 GMT");
        sreq_add(&r, "Content-Type", "application/json");
        sreq_add(&r, "Content-Digest", "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2U"
                 "FChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:");
        sreq_add(&r, "Content-Length", "18");
        sreq_add(&r, "Signature-Input", b2[i][0]);
        sreq_add(&r, "Signature", b2[i][1]);

        /* B.2.2 has ;name= on a component: the general path's business */
        same(b2[i][0], &r.msg, NULL, i != 3, i != 3);
    }

    /* the B.2.6 base, byte for byte, from the wrapper */
    sreq_init(&r);
    r.msg.method = scs("POST");
    r.msg.authority = scs("example.com");
    r.msg.path = scs("/foo");
    sreq_add(&r, "Date", "Tue, 20 Apr 2021 02:07:55 GMT");
    sreq_add(&r, "Content-Type", "application/json");
    sreq_add(&r, "Content-Length", "18");
    sreq_add(&r, "Signature-Input", b2[0][0]);
    sreq_add(&r, "Signature", b2[0][1]);

    FWG_CHECK(sigfast_cmp(&r.msg, scs(""), &fp, &fb) == NULL);
    FWG_CHECK(fp && fb);

    {
        fwg_arena_t       a;
        fwg_sig_input_t   in;
        fwg_str_t         base;
        const char       *err;
        static char       mem[16384];

        fwg_arena_init(&a, mem, sizeof(mem));
        FWG_CHECK_EQ_INT(fwg_sig_parse_fast(&r.msg, scs(""), &a, &in, &err),
                         FWG_SIG_OK);
        FWG_CHECK_EQ_INT(fwg_sig_base_fast(&r.msg, &in, &a, &base, &err),
                         FWG_SIG_OK);
        FWG_CHECK_STR(base,
            "\"date\": Tue, 20 Apr 2021 02:07:55 GMT\n"
            "\"@method\": POST\n"
            "\"@path\": /foo\n"
            "\"@authority\": example.com\n"
            "\"content-type\": application/json\n"
            "\"content-length\": 18\n"
            "\"@signature-params\": (\"date\" \"@method\" \"@path\" "
            "\"@authority\" \"content-type\" \"content-length\");"
            "created=1618884473;keyid=\"test-key-ed25519\"");
        FWG_CHECK_STR(in.keyid, "test-key-ed25519");
        FWG_CHECK_EQ_INT(in.created, 1618884473);
        FWG_CHECK_EQ_INT(in.siglen, 64);
    }
}


#define FW_COMPS  "(\"@method\" \"@path\" \"@authority\" \"x-device-model\" " \
                  "\"x-firmware-version\")"

static void
test_shapes(void)
{
    /* the fwgate shape, every parameter */
    case_si("all params", "fw=" FW_COMPS ";created=1700000000;"
            "expires=1700000300;keyid=\"dev-0001\";alg=\"hmac-sha256\";"
            "nonce=\"n-123\";tag=\"fwgate\"", SIG_OK, NULL, 1, 1);

    /* parameters in another order: serialized in the order received */
    case_si("params order", "fw=" FW_COMPS ";tag=\"fwgate\";nonce=\"x\";"
            "keyid=\"dev\";expires=5;created=1", SIG_OK, NULL, 1, 1);
    case_si("no params", "fw=" FW_COMPS, SIG_OK, NULL, 1, 1);
    case_si("empty inner list", "fw=();keyid=\"k\"", SIG_OK, NULL, 1, 1);
    case_si("empty inner list, SP", "fw=( );keyid=\"k\"", SIG_OK, NULL,
            1, 1);

    /* whitespace the grammar allows; serialization removes it */
    case_si("whitespace", "  fw=(  \"@method\"   \"@path\"  );created=1;"
            " keyid=\"k\"  ", SIG_OK, NULL, 1, 1);
    case_si("SP after ';'", "fw=(\"@method\");  created=1;   keyid=\"k\"",
            SIG_OK, NULL, 1, 1);
    case_si("HTAB around ','", "a=(\"@path\")\t,\tfw=(\"@method\");"
            "keyid=\"k\"", "a=:AAAA:\t, \t" SIG_OK, NULL, 1, 1);
    case_si("HTAB trimmed", "\tfw=(\"@method\");keyid=\"k\"\t",
            "\t" SIG_OK "\t", NULL, 1, 1);
    case_si("HTAB inside inner list", "fw=(\"@method\"\t\"@path\")",
            SIG_OK, NULL, 0, -1);
    case_si("SP before '='", "fw =(\"@method\")", SIG_OK, NULL, 0, -1);
    case_si("trailing ','", "fw=(\"@method\"),", SIG_OK, NULL, 0, -1);
    case_si("trailing ',' in Signature", "fw=(\"@method\")", SIG_OK ",",
            NULL, 0, -1);
    case_si("missing SP between items", "fw=(\"@method\"\"@path\")",
            SIG_OK, NULL, 0, -1);
    case_si("unterminated inner list", "fw=(\"@method\"", SIG_OK, NULL,
            0, -1);
    case_si("garbage after", "fw=(\"@method\") x", SIG_OK, NULL, 0, -1);

    /* labels */
    case_si("several labels, fw", "a=(\"@path\"), fw=(\"@method\");"
            "keyid=\"k\", b=()", "b=:AAAA:, a=:AAAA:, " SIG_OK, NULL, 1, 1);
    case_si("several labels, configured", "a=(\"@path\");keyid=\"ka\", "
            "fw=(\"@method\")", "a=:AAAA:, " SIG_OK, "a", 1, 1);
    case_si("several labels, no fw", "a=(\"@path\"), b=(\"@method\")",
            "a=:AAAA:, b=:AAAA:", NULL, 0, -1);
    case_si("configured label absent", "fw=(\"@method\")", SIG_OK, "zz",
            0, -1);
    case_si("label not in Signature", "fw=(\"@method\")", "a=:AAAA:",
            NULL, 0, -1);
    case_si("one label not fw", "sig1=(\"@method\");keyid=\"k\"",
            "sig1=:AAAA:", NULL, 1, 1);
    case_si("repeated label", "fw=(\"@path\"), fw=(\"@method\")", SIG_OK,
            NULL, 0, -1);
    case_si("repeated Signature label", "fw=(\"@method\")",
            "fw=:AAAA:, " SIG_OK, NULL, 0, -1);
    case_si("boolean member", "fw=(\"@method\"), x", SIG_OK, NULL, 0, -1);
    case_si("item member", "fw=(\"@method\"), x=1", SIG_OK, NULL, 0, -1);
    case_si("key with digits and *", "*f1-x.y_z=(\"@method\")",
            "*f1-x.y_z=:AAAA:", NULL, 1, 1);
    case_si("uppercase key", "Fw=(\"@method\")", "Fw=:AAAA:", NULL, 0, -1);
}


static void
test_params(void)
{
    /* duplicates: last wins in the general path, the fast one declines */
    case_si("duplicate created", "fw=(\"@method\");created=1;created=2;"
            "keyid=\"k\"", SIG_OK, NULL, 0, -1);
    case_si("duplicate keyid", "fw=(\"@method\");keyid=\"a\";keyid=\"b\"",
            SIG_OK, NULL, 0, -1);

    /* integers: what serialization writes back, else decline */
    case_si("15 digits", "fw=(\"@method\");created=999999999999999;"
            "expires=-999999999999999", SIG_OK, NULL, 1, 1);
    case_si("16 digits", "fw=(\"@method\");created=1000000000000000",
            SIG_OK, NULL, 0, -1);
    case_si("zero", "fw=(\"@method\");created=0", SIG_OK, NULL, 1, 1);
    case_si("negative", "fw=(\"@method\");created=-5", SIG_OK, NULL, 1, 1);
    case_si("minus zero", "fw=(\"@method\");created=-0", SIG_OK, NULL, 0, -1);
    case_si("leading zeros", "fw=(\"@method\");created=007", SIG_OK, NULL,
            0, -1);
    case_si("decimal", "fw=(\"@method\");created=1.5", SIG_OK, NULL, 0, -1);
    case_si("lone minus", "fw=(\"@method\");created=-", SIG_OK, NULL, 0, -1);
    case_si("created a string", "fw=(\"@method\");created=\"1\"", SIG_OK,
            NULL, 0, -1);
    case_si("alg a token", "fw=(\"@method\");alg=hmac-sha256", SIG_OK, NULL,
            0, -1);
    case_si("keyid boolean", "fw=(\"@method\");keyid", SIG_OK, NULL, 0, -1);
    case_si("keyid ?1", "fw=(\"@method\");keyid=?1", SIG_OK, NULL, 0, -1);
    case_si("unknown param", "fw=(\"@method\");keyid=\"k\";foo=1", SIG_OK,
            NULL, 0, -1);

    /* strings */
    case_si("escaped keyid", "fw=(\"@method\");keyid=\"a\\\"b\\\\c\"",
            SIG_OK, NULL, 1, 1);
    case_si("only escapes", "fw=(\"@method\");keyid=\"\\\\\\\\\"", SIG_OK,
            NULL, 1, 1);
    case_si("empty keyid", "fw=(\"@method\");keyid=\"\"", SIG_OK, NULL, 1, 1);
    case_si("bad escape", "fw=(\"@method\");keyid=\"a\\nb\"", SIG_OK, NULL,
            0, -1);
    case_si("unterminated string", "fw=(\"@method\");keyid=\"abc", SIG_OK,
            NULL, 0, -1);
    case_si("DEL in string", "fw=(\"@method\");keyid=\"a\x7f\"", SIG_OK,
            NULL, 0, -1);
    case_si("params on the Signature member", "fw=(\"@method\")",
            SIG_OK ";x=1", NULL, 0, -1);
}


static void
test_components(void)
{
    sreq_t  r;

    case_si("component params sf", "fw=(\"x-device-model\";sf)", SIG_OK,
            NULL, 0, -1);
    case_si("component params req", "fw=(\"@method\";req)", SIG_OK, NULL,
            0, -1);
    case_si("component twice", "fw=(\"@method\" \"@method\")", SIG_OK, NULL,
            0, -1);
    case_si("uppercase component", "fw=(\"Host\")", SIG_OK, NULL, 0, -1);
    case_si("escape in component", "fw=(\"a\\\\b\")", SIG_OK, NULL, 0, -1);
    case_si("token component", "fw=(host)", SIG_OK, NULL, 0, -1);
    case_si("bad derived", "fw=(\"@Method\")", SIG_OK, NULL, 0, -1);
    case_si("lone @", "fw=(\"@\")", SIG_OK, NULL, 0, -1);
    case_si("unknown derived", "fw=(\"@nope\")", SIG_OK, NULL, 1, 0);
    case_si("@signature-params covered", "fw=(\"@signature-params\")",
            SIG_OK, NULL, 1, 0);
    case_si("absent header", "fw=(\"x-absent\")", SIG_OK, NULL, 1, 0);
    case_si("all derived", "fw=(\"@method\" \"@target-uri\" \"@authority\" "
            "\"@scheme\" \"@request-target\" \"@path\" \"@query\")",
            SIG_OK, NULL, 1, 1);

    /* 32 components is the limit; 33 is refused by both */
    case_si("32 components", "fw=(\"a1\" \"a2\" \"a3\" \"a4\" \"a5\" \"a6\" "
            "\"a7\" \"a8\" \"a9\" \"a10\" \"a11\" \"a12\" \"a13\" \"a14\" "
            "\"a15\" \"a16\" \"a17\" \"a18\" \"a19\" \"a20\" \"a21\" \"a22\" "
            "\"a23\" \"a24\" \"a25\" \"a26\" \"a27\" \"a28\" \"a29\" \"a30\" "
            "\"a31\" \"a32\")", SIG_OK, NULL, 1, 0);
    case_si("33 components", "fw=(\"a1\" \"a2\" \"a3\" \"a4\" \"a5\" \"a6\" "
            "\"a7\" \"a8\" \"a9\" \"a10\" \"a11\" \"a12\" \"a13\" \"a14\" "
            "\"a15\" \"a16\" \"a17\" \"a18\" \"a19\" \"a20\" \"a21\" \"a22\" "
            "\"a23\" \"a24\" \"a25\" \"a26\" \"a27\" \"a28\" \"a29\" \"a30\" "
            "\"a31\" \"a32\" \"a33\")", SIG_OK, NULL, 0, -1);

    /* a covered field on two lines: combined by the general path */
    sreq_dev(&r, "fw=(\"x-dup\" \"@method\");keyid=\"k\"", SIG_OK);
    sreq_add(&r, "X-Dup", " one ");
    sreq_add(&r, "x-dup", "two");
    same("covered field twice", &r.msg, NULL, 1, 0);

    /* field names in any case, values trimmed */
    sreq_dev(&r, "fw=(\"x-trim\" \"x-empty\");keyid=\"k\"", SIG_OK);
    sreq_add(&r, "X-TRIM", " \t v a l \t");
    sreq_add(&r, "x-Empty", "");
    same("trimmed and empty values", &r.msg, NULL, 1, 1);

    /* a newline in a value */
    sreq_dev(&r, "fw=(\"x-nl\");keyid=\"k\"", SIG_OK);
    sreq_add(&r, "x-nl", "a\nb");
    same("newline in a value", &r.msg, NULL, 1, 0);

    /* the query: absent, empty, present */
    sreq_dev(&r, "fw=(\"@query\" \"@request-target\");keyid=\"k\"", SIG_OK);
    same("no query", &r.msg, NULL, 1, 1);
    r.msg.has_query = 1;
    r.msg.query = scs("");
    same("empty query", &r.msg, NULL, 1, 1);
    r.msg.query = scs("a=1&b=%20");
    same("query", &r.msg, NULL, 1, 1);
}


static void
test_fields(void)
{
    sreq_t  r;

    case_si("no Signature", "fw=(\"@method\")", NULL, NULL, 0, -1);
    case_si("no Signature-Input", NULL, SIG_OK, NULL, 0, -1);
    case_si("empty Signature-Input", "", SIG_OK, NULL, 0, -1);
    case_si("blank Signature-Input", "   ", SIG_OK, NULL, 0, -1);
    case_si("empty Signature", "fw=(\"@method\")", "", NULL, 0, -1);
    case_si("empty byte sequence", "fw=(\"@method\")", "fw=::", NULL, 0, -1);
    case_si("bad base64 elsewhere", "fw=(\"@method\")",
            SIG_OK ", x=:A!AA:", NULL, 0, -1);
    case_si("bad base64 padding", "fw=(\"@method\")", "fw=:AAA=A:", NULL,
            0, -1);
    case_si("unpadded base64", "fw=(\"@method\")", "fw=:AAE:", NULL, -1, -1);
    case_si("token signature", "fw=(\"@method\")", "fw=abc", NULL, 0, -1);
    case_si("unterminated byte sequence", "fw=(\"@method\")", "fw=:AAAA",
            NULL, 0, -1);

    /* two Signature-Input lines: combined by the general path */
    sreq_dev(&r, "a=(\"@path\")", "a=:AAAA:, " SIG_OK);
    sreq_add(&r, "signature-input", "fw=(\"@method\");keyid=\"k\"");
    same("Signature-Input on two lines", &r.msg, NULL, 0, 1);

    /* field names in any case */
    sreq_init(&r);
    sreq_add(&r, "SIGNATURE-INPUT", "fw=(\"@method\");keyid=\"k\"");
    sreq_add(&r, "sIgNaTuRe", SIG_OK);
    same("field name case", &r.msg, NULL, 1, 1);

    /* a signature of 512 bytes is the limit */
    {
        static char  si[64], sv[1024];
        size_t       i;

        strcpy(si, "fw=(\"@method\")");
        strcpy(sv, "fw=:");
        for (i = 0; i < 512 / 3 * 4 + 4; i += 4) {
            strcat(sv, "AAAA");
        }
        strcat(sv, ":");
        case_si("signature over 512 bytes", si, sv, NULL, 0, -1);
    }
}


/* a small arena: the wrapper gives what the general path gives */
static void
test_small_arena(void)
{
    sreq_t            r;
    size_t            size;
    int               grc, wrc;
    const char       *gerr, *werr;
    fwg_arena_t       a;
    fwg_sig_input_t   in;
    fwg_str_t         base;
    static char       mem[4096];

    sreq_dev(&r, "fw=" FW_COMPS ";created=1;keyid=\"dev\"", SIG_OK);

    for (size = 0; size < 1200; size += 8) {
        fwg_arena_init(&a, mem, size);
        grc = fwg_sig_parse(&r.msg, scs(""), &a, &in, &gerr);
        if (grc == FWG_SIG_OK) {
            grc = fwg_sig_base(&r.msg, &in, &a, &base, &gerr);
        }

        fwg_arena_init(&a, mem, size);
        wrc = fwg_sig_parse_fast(&r.msg, scs(""), &a, &in, &werr);
        if (wrc == FWG_SIG_OK) {
            wrc = fwg_sig_base_fast(&r.msg, &in, &a, &base, &werr);
        }

        /* the fast path needs less: it may succeed where general fails */
        if (grc == FWG_SIG_OK && wrc != FWG_SIG_OK) {
            FWG_CHECK_MSG(0, "arena %zu: general ok, fast wrapper %d", size,
                          wrc);
        }
    }

    FWG_CHECK(1);
}


void
suite_sigfast(void)
{
    unit_suite("sigfast");

    test_rfc();
    test_shapes();
    test_params();
    test_components();
    test_fields();
    test_small_arena();
}
