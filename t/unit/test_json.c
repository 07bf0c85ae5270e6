/*
 * The strict JSON reader (src/core/fwg_json.c) and install reports
 * (src/core/fwg_report.c): RFC 8259 edge cases, UTF-8, the arena bound,
 * and the escaper.  Inputs are copied into heap buffers of exactly their
 * size, so that the sanitizer build catches a read past the end.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "fwg_json.h"
#include "fwg_report.h"


/* a heap copy of exactly len bytes (one byte when empty) */
static char *
dup_exact(const char *s, size_t len)
{
    char  *p;

    p = malloc(len ? len : 1);
    if (p == NULL) {
        abort();
    }

    if (len) {
        memcpy(p, s, len);
    }

    return p;
}


/* fwg_report_parse on len bytes with the documented arena; err or NULL */
static const char *
report_n(const char *body, size_t len, fwg_report_t *rep)
{
    char         *b, *mem;
    const char   *err;
    fwg_arena_t   a;

    b = dup_exact(body, len);

    /* deliberately misaligned: the bound must cover fwg_arena_init too */
    mem = malloc(len + FWG_REPORT_ARENA_EXTRA + 1);
    if (mem == NULL) {
        abort();
    }

    fwg_arena_init(&a, mem + 1, len + FWG_REPORT_ARENA_EXTRA);

    err = fwg_report_parse(b, len, &a, rep);

    /* the caller only looks at the error: the fields die with b */
    free(mem);
    free(b);

    return err;
}


static const char *
report(const char *body)
{
    fwg_report_t  rep;

    return report_n(body, strlen(body), &rep);
}


/* fwg_json_object with no known members: the grammar alone */
static const char *
object_n(const char *body, size_t len)
{
    char        *b;
    const char  *err;
    fwg_arena_t  a;

    b = dup_exact(body, len);
    fwg_arena_init(&a, NULL, 0);

    err = fwg_json_object(b, len, NULL, 0, &a);

    free(b);

    return err;
}


static const char *
object(const char *body)
{
    return object_n(body, strlen(body));
}


/* one JSON string (with its quotes) decoded into out[]; err or NULL */
static const char *
string_n(const char *s, size_t len, char *out, size_t *olen)
{
    char         *b, mem[4096];
    const char   *err, *p;
    fwg_str_t     v;
    fwg_arena_t   a;

    b = dup_exact(s, len);
    fwg_arena_init(&a, mem, sizeof(mem));

    p = b;
    err = fwg_json_string(&p, b + len, &a, &v);

    if (err == NULL) {
        if (p != b + len || v.len > 4096) {
            err = "(test) string did not end at the input's end";

        } else {
            memcpy(out, v.data, v.len);
            *olen = v.len;
        }
    }

    free(b);

    return err;
}


#define CHECK_DECODE(lit, want)                                              \
    do {                                                                      \
        char        out_[4096];                                               \
        size_t      olen_ = 0;                                                \
        const char *err_ = string_n(lit, sizeof(lit) - 1, out_, &olen_);      \
        FWG_CHECK_CSTR(err_, NULL);                                           \
        if (err_ == NULL) {                                                   \
            FWG_CHECK_MEM(out_, olen_, want, sizeof(want) - 1);               \
        }                                                                     \
    } while (0)

#define CHECK_STRING_ERR(lit, want)                                          \
    do {                                                                      \
        char    out_[4096];                                                   \
        size_t  olen_;                                                        \
        FWG_CHECK_CSTR(string_n(lit, sizeof(lit) - 1, out_, &olen_), want);   \
    } while (0)

#define CHECK_UTF8(lit, want)                                                \
    FWG_CHECK_MSG(fwg_utf8_valid(lit, sizeof(lit) - 1) == (want),             \
                  "fwg_utf8_valid(%s) != %d", #lit, want)


static void
test_utf8(void)
{
    CHECK_UTF8("", 1);
    CHECK_UTF8("plain ascii \x7f", 1);
    CHECK_UTF8("\xc2\x80", 1);                  /* U+0080 */
    CHECK_UTF8("\xdf\xbf", 1);                  /* U+07FF */
    CHECK_UTF8("\xe0\xa0\x80", 1);              /* U+0800 */
    CHECK_UTF8("\xed\x9f\xbf", 1);              /* U+D7FF */
    CHECK_UTF8("\xee\x80\x80", 1);              /* U+E000 */
    CHECK_UTF8("\xef\xbf\xbf", 1);              /* U+FFFF */
    CHECK_UTF8("\xf0\x90\x80\x80", 1);          /* U+10000 */
    CHECK_UTF8("\xf4\x8f\xbf\xbf", 1);          /* U+10FFFF */
    CHECK_UTF8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 1);

    /* overlong forms */
    CHECK_UTF8("\xc0\x80", 0);
    CHECK_UTF8("\xc1\xbf", 0);
    CHECK_UTF8("\xe0\x80\x80", 0);
    CHECK_UTF8("\xe0\x9f\xbf", 0);
    CHECK_UTF8("\xf0\x80\x80\x80", 0);
    CHECK_UTF8("\xf0\x8f\xbf\xbf", 0);

    /* surrogates */
    CHECK_UTF8("\xed\xa0\x80", 0);
    CHECK_UTF8("\xed\xbf\xbf", 0);
    CHECK_UTF8("\xed\xa0\xbd\xed\xb8\x80", 0);  /* CESU-8 pair */

    /* past U+10FFFF, and leads that lead nothing */
    CHECK_UTF8("\xf4\x90\x80\x80", 0);
    CHECK_UTF8("\xf5\x80\x80\x80", 0);
    CHECK_UTF8("\xf7\xbf\xbf\xbf", 0);
    CHECK_UTF8("\xf8\x88\x80\x80\x80", 0);
    CHECK_UTF8("\xfc\x84\x80\x80\x80\x80", 0);
    CHECK_UTF8("\xfe", 0);
    CHECK_UTF8("\xff", 0);
    CHECK_UTF8("\x80", 0);
    CHECK_UTF8("a\xbf", 0);

    /* truncated, or a continuation missing */
    CHECK_UTF8("\xc3", 0);
    CHECK_UTF8("\xe2\x82", 0);
    CHECK_UTF8("\xf0\x9f\x98", 0);
    CHECK_UTF8("\xc3(", 0);
    CHECK_UTF8("\xe2(\xac", 0);
    CHECK_UTF8("\xf0\x9f(\x80", 0);
    CHECK_UTF8("abc\xe2\x82", 0);

    /* a length, not a NUL, ends the input */
    FWG_CHECK(fwg_utf8_valid("a\0b", 3) == 1);
    FWG_CHECK(fwg_utf8_valid("\xc3\xa9", 1) == 0);

    /* the reader checks the whole body first */
    FWG_CHECK_CSTR(object("{\"a\":\"\xc0\x80\"}"), "body is not UTF-8");
    FWG_CHECK_CSTR(object("{\"a\":\"\xe0\x80\x80\"}"), "body is not UTF-8");
    FWG_CHECK_CSTR(object("{\"a\":\"\xed\xa0\x80\"}"), "body is not UTF-8");
    FWG_CHECK_CSTR(object("{\"a\":\"\xf4\x90\x80\x80\"}"),
                   "body is not UTF-8");
    FWG_CHECK_CSTR(object("{\"a\":\"x\"}\xc3"), "body is not UTF-8");
    FWG_CHECK_CSTR(object("{\"\xff\":1}"), "body is not UTF-8");
    FWG_CHECK_CSTR(object("\xef\xbb\xbf{}"), "not a JSON object"); /* BOM */
    FWG_CHECK_CSTR(object("{\"a\":\"caf\xc3\xa9 \xf0\x9f\x98\x80\"}"), NULL);
}


static void
test_escapes(void)
{
    CHECK_DECODE("\"\"", "");
    CHECK_DECODE("\"abc\"", "abc");
    CHECK_DECODE("\"\\\"\"", "\"");
    CHECK_DECODE("\"\\\\\"", "\\");
    CHECK_DECODE("\"\\/\"", "/");
    CHECK_DECODE("\"\\b\"", "\b");
    CHECK_DECODE("\"\\f\"", "\f");
    CHECK_DECODE("\"\\n\"", "\n");
    CHECK_DECODE("\"\\r\"", "\r");
    CHECK_DECODE("\"\\t\"", "\t");
    CHECK_DECODE("\"a\\\"b\\\\c\\/d\\be\\ff\\ng\\rh\\ti\"",
                 "a\"b\\c/d\be\ff\ng\rh\ti");
    CHECK_DECODE("\"\x7f\"", "\x7f");
    CHECK_DECODE("\"\xc3\xa9\"", "\xc3\xa9");

    /* \u in every UTF-8 length, either case of hex */
    CHECK_DECODE("\"\\u0041\"", "A");
    CHECK_DECODE("\"\\u0001\"", "\x01");
    CHECK_DECODE("\"\\u007f\"", "\x7f");
    CHECK_DECODE("\"\\u0080\"", "\xc2\x80");
    CHECK_DECODE("\"\\u00e9\\u00E9\"", "\xc3\xa9\xc3\xa9");
    CHECK_DECODE("\"\\u07ff\"", "\xdf\xbf");
    CHECK_DECODE("\"\\u0800\"", "\xe0\xa0\x80");
    CHECK_DECODE("\"\\u20ac\\u20AC\"", "\xe2\x82\xac\xe2\x82\xac");
    CHECK_DECODE("\"\\uFFFF\"", "\xef\xbf\xbf");
    CHECK_DECODE("\"\\ud7ff\\ue000\"", "\xed\x9f\xbf\xee\x80\x80");

    /* surrogate pairs */
    CHECK_DECODE("\"\\ud800\\udc00\"", "\xf0\x90\x80\x80");
    CHECK_DECODE("\"\\uD83D\\uDE00\"", "\xf0\x9f\x98\x80");
    CHECK_DECODE("\"\\udbff\\udfff\"", "\xf4\x8f\xbf\xbf");
    CHECK_DECODE("\"x\\ud83d\\ude00y\"", "x\xf0\x9f\x98\x80y");

    /* lone and reversed surrogates */
    CHECK_STRING_ERR("\"\\ud83d\"", "lone surrogate");
    CHECK_STRING_ERR("\"\\ude00\"", "lone surrogate");
    CHECK_STRING_ERR("\"\\udfff\"", "lone surrogate");
    CHECK_STRING_ERR("\"\\ude00\\ud83d\"", "lone surrogate");
    CHECK_STRING_ERR("\"\\ud83dx\"", "lone surrogate");
    CHECK_STRING_ERR("\"\\ud83d\\n\"", "lone surrogate");
    CHECK_STRING_ERR("\"\\ud83d\\u0041\"", "lone surrogate");
    CHECK_STRING_ERR("\"\\ud83d\\ud83d\"", "lone surrogate");
    CHECK_STRING_ERR("\"\\ud83d\\ude0\"", "lone surrogate");
    CHECK_STRING_ERR("\"\\ud83d", "lone surrogate");

    /* bad escapes */
    CHECK_STRING_ERR("\"\\u\"", "bad \\u escape");
    CHECK_STRING_ERR("\"\\u00\"", "bad \\u escape");
    CHECK_STRING_ERR("\"\\u12g4\"", "bad \\u escape");
    CHECK_STRING_ERR("\"\\U0041\"", "bad escape");
    CHECK_STRING_ERR("\"\\x41\"", "bad escape");
    CHECK_STRING_ERR("\"\\'\"", "bad escape");
    CHECK_STRING_ERR("\"\\a\"", "bad escape");
    CHECK_STRING_ERR("\"\\0\"", "bad escape");

    /* NUL and raw control characters */
    CHECK_STRING_ERR("\"\\u0000\"", "\\u0000 in string");
    CHECK_STRING_ERR("\"a\\u0000b\"", "\\u0000 in string");
    CHECK_STRING_ERR("\"a\x01\"", "control character in string");
    CHECK_STRING_ERR("\"\x1f\"", "control character in string");
    CHECK_STRING_ERR("\"\t\"", "control character in string");
    CHECK_STRING_ERR("\"\n\"", "control character in string");
    FWG_CHECK_CSTR(object_n("{\"a\":\"\0\"}", 8),
                   "control character in string");

    /* unterminated */
    CHECK_STRING_ERR("\"", "unterminated string");
    CHECK_STRING_ERR("\"abc", "unterminated string");
    CHECK_STRING_ERR("\"abc\\", "unterminated string");
    CHECK_STRING_ERR("\"abc\\\"", "unterminated string");

    /* the same errors through the object reader, in names and values */
    FWG_CHECK_CSTR(object("{\"a\":\"\\ud83d\"}"), "lone surrogate");
    FWG_CHECK_CSTR(object("{\"\\ude00\":1}"), "lone surrogate");
    FWG_CHECK_CSTR(object("{\"\\u0000\":1}"), "\\u0000 in string");
    FWG_CHECK_CSTR(object("{\"a\":\"\\q\"}"), "bad escape");
    FWG_CHECK_CSTR(object("{\"a\":\"x"), "unterminated string");
    FWG_CHECK_CSTR(object("{\"a\x02\":1}"), "control character in string");
}


static void
test_structure(void)
{
    FWG_CHECK_CSTR(object(""), "empty body");
    FWG_CHECK_CSTR(object("{}"), NULL);
    FWG_CHECK_CSTR(object(" \t\r\n{ \t\r\n} \t\r\n"), NULL);
    FWG_CHECK_CSTR(object("{\"a\" \t\r\n: \t\r\n1 \t\r\n, \"b\":2}"), NULL);

    /* other whitespace is not JSON's */
    FWG_CHECK_CSTR(object("\f{}"), "not a JSON object");
    FWG_CHECK_CSTR(object("{}\v"), "bytes after the object");
    FWG_CHECK_CSTR(object("{\xc2\xa0}"), "member name expected");

    /* not an object */
    FWG_CHECK_CSTR(object(" "), "not a JSON object");
    FWG_CHECK_CSTR(object("[]"), "not a JSON object");
    FWG_CHECK_CSTR(object("\"a\""), "not a JSON object");
    FWG_CHECK_CSTR(object("1"), "not a JSON object");
    FWG_CHECK_CSTR(object("null"), "not a JSON object");
    FWG_CHECK_CSTR(object("}"), "not a JSON object");

    /* broken objects */
    FWG_CHECK_CSTR(object("{"), "member name expected");
    FWG_CHECK_CSTR(object("{ "), "member name expected");
    FWG_CHECK_CSTR(object("{a:1}"), "member name expected");
    FWG_CHECK_CSTR(object("{'a':1}"), "member name expected");
    FWG_CHECK_CSTR(object("{,}"), "member name expected");
    FWG_CHECK_CSTR(object("{\"a\"}"), "':' expected");
    FWG_CHECK_CSTR(object("{\"a\""), "':' expected");
    FWG_CHECK_CSTR(object("{\"a\"=1}"), "':' expected");
    FWG_CHECK_CSTR(object("{\"a\":}"), "value expected");
    FWG_CHECK_CSTR(object("{\"a\":"), "value expected");
    FWG_CHECK_CSTR(object("{\"a\":1"), "unterminated object");
    FWG_CHECK_CSTR(object("{\"a\":1 "), "unterminated object");
    FWG_CHECK_CSTR(object("{\"a\":1,"), "member name expected");
    FWG_CHECK_CSTR(object("{\"a\":1 \"b\":2}"), "',' or '}' expected");
    FWG_CHECK_CSTR(object("{\"a\":1;\"b\":2}"), "',' or '}' expected");
    FWG_CHECK_CSTR(object("{\"a\":\"x\"\"y\"}"), "',' or '}' expected");

    /* trailing commas and bytes */
    FWG_CHECK_CSTR(object("{\"a\":1,}"), "member name expected");
    FWG_CHECK_CSTR(object("{,\"a\":1}"), "member name expected");
    FWG_CHECK_CSTR(object("{\"a\":1,,\"b\":2}"), "member name expected");
    FWG_CHECK_CSTR(object("{},"), "bytes after the object");
    FWG_CHECK_CSTR(object("{}{}"), "bytes after the object");
    FWG_CHECK_CSTR(object("{} x"), "bytes after the object");
    FWG_CHECK_CSTR(object_n("{}\0", 3), "bytes after the object");

    /* nested values, at any depth */
    FWG_CHECK_CSTR(object("{\"a\":{}}"), "nested value");
    FWG_CHECK_CSTR(object("{\"a\":[]}"), "nested value");
    FWG_CHECK_CSTR(object("{\"a\":[1,2]}"), "nested value");
    FWG_CHECK_CSTR(object("{\"a\":{\"b\":{\"c\":1}}}"), "nested value");
    FWG_CHECK_CSTR(object("{\"a\":[[[[[[[[[[[[[[[[[["), "nested value");
    FWG_CHECK_CSTR(object("{\"a\":-{}}"), "nested value");
    FWG_CHECK_CSTR(report("{\"artifact\":{},\"status\":\"success\"}"),
                   "member must be a string");
    FWG_CHECK_CSTR(report("{\"status\":[\"success\"],\"artifact\":\"a\"}"),
                   "member must be a string");

    /* unknown members of every scalar kind */
    FWG_CHECK_CSTR(object("{\"s\":\"x\",\"n\":-1.5e3,\"t\":true,"
                          "\"f\":false,\"z\":null}"), NULL);
    FWG_CHECK_CSTR(object("{\"t\":true,\"t\":false,\"t\":null}"), NULL);
    FWG_CHECK_CSTR(object("{\"a\":truex}"), "',' or '}' expected");
    FWG_CHECK_CSTR(object("{\"a\":tru}"), "value expected");
    FWG_CHECK_CSTR(object("{\"a\":nul}"), "value expected");
    FWG_CHECK_CSTR(object("{\"a\":True}"), "value expected");
    FWG_CHECK_CSTR(object("{\"a\":NULL}"), "value expected");
    FWG_CHECK_CSTR(object("{\"a\":undefined}"), "value expected");
    FWG_CHECK_CSTR(object("{\"a\":'x'}"), "value expected");
}


static void
test_numbers(void)
{
    size_t        i;
    char          buf[64];

    static const char  *good[] = {
        "0", "-0", "1", "-1", "10", "123456789012345678901234567890",
        "1.5", "-0.0", "0.5", "1.5e10", "-1E-2", "1e+5", "1E5", "0e0",
        "-0.0e-0", "2.000001E+300", "1e99999", NULL
    };

    static const struct {
        const char  *num;
        const char  *err;
    } bad[] = {
        { "01",        "',' or '}' expected" },
        { "-01",       "',' or '}' expected" },
        { "00",        "',' or '}' expected" },
        { "1.",        "bad number" },
        { "1.e5",      "bad number" },
        { ".5",        "value expected" },
        { "+1",        "value expected" },
        { "1e",        "bad number" },
        { "1E+",       "bad number" },
        { "1e-",       "bad number" },
        { "1e+-1",     "bad number" },
        { "--1",       "value expected" },
        { "-",         "value expected" },
        { "- 1",       "value expected" },
        { "NaN",       "value expected" },
        { "-NaN",      "value expected" },
        { "Infinity",  "value expected" },
        { "-Infinity", "value expected" },
        { "0x10",      "',' or '}' expected" },
        { "1.5.5",     "',' or '}' expected" },
        { "1e5e5",     "',' or '}' expected" },
        { "1_000",     "',' or '}' expected" },
        { "1 2",       "',' or '}' expected" },
        { NULL, NULL }
    };

    for (i = 0; good[i]; i++) {
        snprintf(buf, sizeof(buf), "{\"n\":%s}", good[i]);
        FWG_CHECK_MSG(object(buf) == NULL, "number %s refused: %s",
                      good[i], object(buf));

        /* at the end of the body too: never a read past it */
        snprintf(buf, sizeof(buf), "{\"n\":%s", good[i]);
        FWG_CHECK_CSTR(object(buf), "unterminated object");
    }

    for (i = 0; bad[i].num; i++) {
        snprintf(buf, sizeof(buf), "{\"n\":%s}", bad[i].num);
        FWG_CHECK_MSG(object(buf) != NULL
                      && strcmp(object(buf), bad[i].err) == 0,
                      "number %s: %s, not %s", bad[i].num,
                      object(buf) ? object(buf) : "accepted", bad[i].err);
    }

    /* a number never stands for a known member */
    FWG_CHECK_CSTR(report("{\"artifact\":1,\"status\":\"success\"}"),
                   "member must be a string");
}


static void
test_report(void)
{
    size_t         i, len;
    char           body[1024], name[300];
    fwg_report_t   rep;
    fwg_arena_t    a;
    const char    *err;

    static const char  ok[] =
        "{\"artifact\":\"ls6-fw-2.5.0.bin\",\"status\":\"success\","
        "\"version\":\"2.5.0\"}";

    static const char  fail[] = "{\"status\":\"failure\",\"artifact\":\"a\"}";

    /* fields checked while the body lives */
    fwg_arena_init(&a, body, 0);
    err = fwg_report_parse(ok, sizeof(ok) - 1, &a, &rep);
    FWG_CHECK_CSTR(err, NULL);
    FWG_CHECK_STR(rep.artifact, "ls6-fw-2.5.0.bin");
    FWG_CHECK_STR(rep.status, "success");
    FWG_CHECK_STR(rep.version, "2.5.0");
    FWG_CHECK_EQ_INT(rep.has_version, 1);
    FWG_CHECK_EQ_INT(rep.status_code, FWG_REPORT_SUCCESS);

    /* nothing escaped: the fields are the body's bytes, no arena used */
    FWG_CHECK(rep.artifact.data > ok && rep.artifact.data < ok + sizeof(ok));
    FWG_CHECK_EQ_INT(a.used, 0);

    err = fwg_report_parse(fail, sizeof(fail) - 1, &a, &rep);
    FWG_CHECK_CSTR(err, NULL);
    FWG_CHECK_EQ_INT(rep.status_code, FWG_REPORT_FAILURE);
    FWG_CHECK_EQ_INT(rep.has_version, 0);
    FWG_CHECK(rep.version.len == 0);

    /* escaped fields are decoded into the arena */
    {
        char  mem[256];

        static const char  esc[] = "{\"artifact\":\"\\u0061\\/b\","
                                   "\"st\\u0061tus\":\"fail\\u0075re\","
                                   "\"x\":[1],\"version\":\"1.0.0\"}";

        fwg_arena_init(&a, mem, sizeof(mem));
        err = fwg_report_parse(esc, sizeof(esc) - 1, &a, &rep);
        FWG_CHECK_CSTR(err, "nested value");

        /* the same without the nested member */
        len = strstr(esc, ",\"x\"") - esc;
        fwg_arena_init(&a, mem, sizeof(mem));
        err = fwg_report_parse(esc, len, &a, &rep);
        FWG_CHECK_CSTR(err, "unterminated object");

        memcpy(body, esc, len);
        body[len++] = '}';
        fwg_arena_init(&a, mem, sizeof(mem));
        err = fwg_report_parse(body, len, &a, &rep);
        FWG_CHECK_CSTR(err, NULL);
        FWG_CHECK_STR(rep.artifact, "a/b");
        FWG_CHECK_STR(rep.status, "failure");
        FWG_CHECK_EQ_INT(rep.status_code, FWG_REPORT_FAILURE);
        FWG_CHECK(rep.artifact.data >= mem && rep.artifact.data < mem + 256);

        /* an arena too small for them */
        fwg_arena_init(&a, mem, 0);
        FWG_CHECK_CSTR(fwg_report_parse(body, len, &a, &rep),
                       "out of memory");
    }

    /* required members */
    FWG_CHECK_CSTR(report("{}"), "no artifact");
    FWG_CHECK_CSTR(report("{\"status\":\"success\"}"), "no artifact");
    FWG_CHECK_CSTR(report("{\"artifact\":\"a\"}"), "no status");
    FWG_CHECK_CSTR(report("{\"artifact\":\"a\",\"Status\":\"success\"}"),
                   "no status");

    /* duplicates of known members, however spelled */
    FWG_CHECK_CSTR(report("{\"artifact\":\"a\",\"artifact\":\"a\","
                          "\"status\":\"success\"}"), "duplicate member");
    FWG_CHECK_CSTR(report("{\"artifact\":\"a\",\"artif\\u0061ct\":\"b\","
                          "\"status\":\"success\"}"), "duplicate member");
    FWG_CHECK_CSTR(report("{\"status\":\"success\",\"status\":1}"),
                   "duplicate member");
    FWG_CHECK_CSTR(report("{\"artifact\":\"a\",\"status\":\"success\","
                          "\"version\":\"1.0.0\",\"version\":\"1.0.0\"}"),
                   "duplicate member");

    /* unknown members of every kind beside the known ones */
    FWG_CHECK_CSTR(report("{\"artifact\":\"a\",\"status\":\"success\","
                          "\"s\":\"x\",\"n\":-0,\"t\":true,\"f\":false,"
                          "\"z\":null,\"s\":\"again\"}"), NULL);

    /* artifact names */
    FWG_CHECK_CSTR(report("{\"artifact\":\"\",\"status\":\"success\"}"),
                   "bad artifact name");
    FWG_CHECK_CSTR(report("{\"artifact\":\"a b\",\"status\":\"success\"}"),
                   "bad artifact name");
    FWG_CHECK_CSTR(report("{\"artifact\":\"a\\tb\",\"status\":\"success\"}"),
                   "bad artifact name");
    FWG_CHECK_CSTR(report("{\"artifact\":\"a\x7f\",\"status\":\"success\"}"),
                   "bad artifact name");
    FWG_CHECK_CSTR(report("{\"artifact\":\"caf\xc3\xa9\","
                          "\"status\":\"success\"}"), "bad artifact name");
    FWG_CHECK_CSTR(report("{\"artifact\":\"caf\\u00e9\","
                          "\"status\":\"success\"}"), "bad artifact name");
    FWG_CHECK_CSTR(report("{\"artifact\":\"!~\",\"status\":\"success\"}"),
                   NULL);

    for (i = 0; i < 257; i++) {
        name[i] = 'a' + i % 26;
    }

    snprintf(body, sizeof(body), "{\"artifact\":\"%.256s\","
             "\"status\":\"success\"}", name);
    FWG_CHECK_CSTR(report(body), NULL);
    snprintf(body, sizeof(body), "{\"artifact\":\"%.257s\","
             "\"status\":\"success\"}", name);
    FWG_CHECK_CSTR(report(body), "bad artifact name");

    /* statuses */
    FWG_CHECK_CSTR(report("{\"artifact\":\"a\",\"status\":\"Success\"}"),
                   "unknown status");
    FWG_CHECK_CSTR(report("{\"artifact\":\"a\",\"status\":\"\"}"),
                   "unknown status");
    FWG_CHECK_CSTR(report("{\"artifact\":\"a\",\"status\":\"successful\"}"),
                   "unknown status");
    FWG_CHECK_CSTR(report("{\"artifact\":\"a\",\"status\":\"deferred\"}"),
                   NULL);
    FWG_CHECK_CSTR(report("{\"artifact\":\"a\",\"status\":\"downloading\"}"),
                   NULL);
    FWG_CHECK_CSTR(report("{\"artifact\":\"a\",\"status\":\"installing\"}"),
                   NULL);
    FWG_CHECK_CSTR(report("{\"artifact\":\"a\",\"status\":\"Deferred\"}"),
                   "unknown status");
    FWG_CHECK_CSTR(report("{\"artifact\":\"a\",\"status\":true}"),
                   "member must be a string");

    /* versions */
    FWG_CHECK_CSTR(report("{\"artifact\":\"a\",\"status\":\"success\","
                          "\"version\":\"1.2.3-rc.1+build.5\"}"), NULL);
    FWG_CHECK_CSTR(report("{\"artifact\":\"a\",\"status\":\"success\","
                          "\"version\":\"1.2\"}"), "version is not SemVer");
    FWG_CHECK_CSTR(report("{\"artifact\":\"a\",\"status\":\"success\","
                          "\"version\":\"\"}"), "version is not SemVer");
    FWG_CHECK_CSTR(report("{\"artifact\":\"a\",\"status\":\"success\","
                          "\"version\":\"v1.2.3\"}"),
                   "version is not SemVer");
    FWG_CHECK_CSTR(report("{\"artifact\":\"a\",\"status\":\"success\","
                          "\"version\":null}"), "member must be a string");

    /* the order of the checks: the body, then the members, then values */
    FWG_CHECK_CSTR(report("{\"artifact\":\"\",\"status\":\"x\"}x"),
                   "bytes after the object");
    FWG_CHECK_CSTR(report("{\"artifact\":\"\",\"status\":\"x\"}"),
                   "bad artifact name");
    FWG_CHECK_CSTR(report("{\"artifact\":\"a\",\"status\":\"x\","
                          "\"version\":\"x\"}"),
                   "unknown status");
}


/* fwg_json_object with members of the caller's choosing */

static void
test_object_api(void)
{
    char               body[1024], *p;
    size_t             i;
    fwg_arena_t        a;
    fwg_json_member_t  m[2];

    static const char  name64[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";

    m[0].name = name64;
    m[1].name = "k";

    /* a known name of FWG_JSON_NAME_MAX bytes, spelled with escapes */
    p = body;
    p += sprintf(p, "{\"");
    for (i = 0; i < FWG_JSON_NAME_MAX; i++) {
        p += sprintf(p, "\\u%04x", name64[i]);
    }
    p += sprintf(p, "\":\"v\",\"k\":\"\\n\"}");

    m[0].seen = 1;
    fwg_arena_init(&a, body + 900, 100);
    FWG_CHECK_CSTR(fwg_json_object(body, p - body, m, 2, &a), NULL);
    FWG_CHECK(m[0].seen && m[1].seen);
    FWG_CHECK_STR(m[0].value, "v");
    FWG_CHECK_STR(m[1].value, "\n");

    /* without an arena, an escaped known value cannot be decoded */
    FWG_CHECK_CSTR(fwg_json_object(body, p - body, m, 2, NULL),
                   "out of memory");

    /* absent members are reset, whatever the caller left in them */
    m[0].seen = 1;
    m[1].value.len = 5;
    FWG_CHECK_CSTR(fwg_json_object("{}", 2, m, 2, NULL), NULL);
    FWG_CHECK(!m[0].seen && !m[1].seen && m[1].value.len == 0
              && m[1].value.data == NULL);
}


/* the arena bound of fwg_report.h, and inputs far larger than a report */

static void
test_long(void)
{
    size_t        i, n, len;
    char         *body, *p;
    fwg_report_t  rep;

    /* every byte of every known value escaped: the worst case for memory */
    n = 4000;
    body = malloc(3 * 6 * n + 128);
    if (body == NULL) {
        abort();
    }

    p = body;
    p += sprintf(p, "{\"artifact\":\"");
    for (i = 0; i < 200; i++) {
        p += sprintf(p, "\\u0061");
    }
    p += sprintf(p, "\",\"status\":\"");
    for (i = 0; i < 7; i++) {
        p += sprintf(p, "\\u%04x", "failure"[i]);
    }
    p += sprintf(p, "\",\"version\":\"");
    for (i = 0; i < n; i++) {
        p += sprintf(p, "\\u0031");
    }
    p += sprintf(p, ".0.0\"}");
    len = p - body;

    /* the arena of exactly the documented size holds them */
    FWG_CHECK_CSTR(report_n(body, len, &rep), "version is not SemVer");
    free(body);

    /* a megabyte-long unknown string, then many unknown members */
    n = 1024 * 1024;
    body = malloc(n + 128);
    if (body == NULL) {
        abort();
    }

    p = body;
    p += sprintf(p, "{\"artifact\":\"a\",\"status\":\"success\",\"x\":\"");
    memset(p, 'y', n);
    p += n;
    p += sprintf(p, "\"}");
    FWG_CHECK_CSTR(report_n(body, p - body, &rep), NULL);

    p = body;
    p += sprintf(p, "{\"artifact\":\"a\",\"status\":\"success\"");
    while ((size_t) (p - body) < n - 32) {
        p += sprintf(p, ",\"\\u0078\":\"\\n\"");
    }
    p += sprintf(p, "}");
    FWG_CHECK_CSTR(report_n(body, p - body, &rep), NULL);

    /* deep nesting is refused at the first level, not recursed into */
    p = body;
    p += sprintf(p, "{\"x\":");
    memset(p, '[', n);
    p += n;
    FWG_CHECK_CSTR(object_n(body, p - body), "nested value");

    /* a long name never matches a known one, escaped or not */
    p = body;
    p += sprintf(p, "{\"artifact\":\"a\",\"status\":\"success\",\"");
    for (i = 0; i < 100; i++) {
        p += sprintf(p, "\\u0061");
    }
    p += sprintf(p, "\":1}");
    FWG_CHECK_CSTR(report_n(body, p - body, &rep), NULL);

    free(body);
}


static void
test_escaper(void)
{
    int          c;
    char         src[1], dst[8], want[8], out[4096], all[256], esc[1600];
    size_t       n, olen;
    const char  *err;

    /* every byte below 0x80 */
    for (c = 0; c < 0x80; c++) {
        src[0] = (char) c;

        switch (c) {
        case '"':  strcpy(want, "\\\""); break;
        case '\\': strcpy(want, "\\\\"); break;
        case '\b': strcpy(want, "\\b");  break;
        case '\f': strcpy(want, "\\f");  break;
        case '\n': strcpy(want, "\\n");  break;
        case '\r': strcpy(want, "\\r");  break;
        case '\t': strcpy(want, "\\t");  break;
        default:
            if (c < 0x20 || c == 0x7f) {
                snprintf(want, sizeof(want), "\\u%04x", c);

            } else {
                want[0] = (char) c;
                want[1] = '\0';
            }
        }

        memset(dst, 'Z', sizeof(dst));
        n = fwg_json_escape(dst, src, 1);
        FWG_CHECK_MSG(n == strlen(want) && memcmp(dst, want, n) == 0
                      && dst[n] == 'Z',
                      "escape of byte 0x%02x", c);
        FWG_CHECK_EQ_INT(fwg_json_escape(NULL, src, 1), n);
    }

    /* bytes from 0x80 up are copied: UTF-8 passes through */
    FWG_CHECK_EQ_INT(fwg_json_escape(dst, "\xc3\xa9", 2), 2);
    FWG_CHECK_MEM(dst, 2, "\xc3\xa9", 2);
    FWG_CHECK_EQ_INT(fwg_json_escape(dst, "", 0), 0);

    /* round trip: every byte 1..0x7f and some UTF-8, read back */
    for (c = 1; c < 0x80; c++) {
        all[c - 1] = (char) c;
    }
    memcpy(all + 127, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf",
           13);

    esc[0] = '"';
    n = fwg_json_escape(esc + 1, all, 140);
    FWG_CHECK_EQ_INT(fwg_json_escape(NULL, all, 140), n);
    esc[n + 1] = '"';

    err = string_n(esc, n + 2, out, &olen);
    FWG_CHECK_CSTR(err, NULL);
    if (err == NULL) {
        FWG_CHECK_MEM(out, olen, all, 140);
    }

    /* and inside a report */
    {
        char          body[512];
        fwg_report_t  rep;

        n = sprintf(body, "{\"status\":\"success\",\"artifact\":\"");
        n += fwg_json_escape(body + n, "a\"b\\c/d", 7);
        n += sprintf(body + n, "\"}");
        FWG_CHECK_CSTR(report_n(body, n, &rep), NULL);
    }

    /* NUL escapes to \u0000, which the reader refuses */
    n = fwg_json_escape(esc + 1, "a\0b", 3);
    FWG_CHECK_MEM(esc + 1, n, "a\\u0000b", 8);
    esc[n + 1] = '"';
    FWG_CHECK_CSTR(string_n(esc, n + 2, out, &olen), "\\u0000 in string");
}


void
suite_json(void)
{
    unit_suite("json");

    test_utf8();
    test_escapes();
    test_structure();
    test_numbers();
    test_object_api();
    test_report();
    test_long();
    test_escaper();
}
