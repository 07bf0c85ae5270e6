/*
 * fwgate core: a strict reader for one flat JSON object, and the JSON
 * string escaper.  The rules and error strings are the ones the module's
 * install reports have always had (docs/update-check.md).
 */

#include <string.h>

#include "fwg_json.h"


#define fwg_json_ws(c)  ((c) == ' ' || (c) == '\t' || (c) == '\n'            \
                         || (c) == '\r')
#define fwg_json_digit(c)  ((c) >= '0' && (c) <= '9')


static int fwg_json_hex4(const unsigned char *p, uint32_t *out);
static const char *fwg_json_decode(const unsigned char **pp,
    const unsigned char *end, unsigned char *d, size_t *len);
static const char *fwg_json_name(const unsigned char **pp,
    const unsigned char *end, unsigned char *buf, fwg_str_t *name);
static const char *fwg_json_scalar(const unsigned char **pp,
    const unsigned char *end);
static const unsigned char *fwg_json_skip_ws(const unsigned char *p,
    const unsigned char *end);


int
fwg_utf8_valid(const char *s, size_t n)
{
    size_t                len, i;
    uint32_t              cp, min;
    const unsigned char  *p, *end;

    p = (const unsigned char *) s;
    end = p + n;

    while (p < end) {
        if (*p < 0x80) {
            p++;
            continue;
        }

        /* continuation bytes (80-BF) and F8-FF lead nothing */

        if ((*p & 0xe0) == 0xc0) {
            len = 2; cp = *p & 0x1f; min = 0x80;

        } else if ((*p & 0xf0) == 0xe0) {
            len = 3; cp = *p & 0x0f; min = 0x800;

        } else if ((*p & 0xf8) == 0xf0) {
            len = 4; cp = *p & 0x07; min = 0x10000;

        } else {
            return 0;
        }

        if ((size_t) (end - p) < len) {
            return 0;
        }

        for (i = 1; i < len; i++) {
            if ((p[i] & 0xc0) != 0x80) {
                return 0;
            }

            cp = (cp << 6) | (p[i] & 0x3f);
        }

        /* the shortest form only, and only scalar values */

        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            return 0;
        }

        p += len;
    }

    return 1;
}


const char *
fwg_json_string(const char **pp, const char *end, fwg_arena_t *a,
    fwg_str_t *out)
{
    int                   esc;
    size_t                len;
    const char           *err;
    unsigned char        *d;
    const unsigned char  *p, *q, *e;

    p = (const unsigned char *) *pp + 1;
    e = (const unsigned char *) end;

    /*
     * Where the string ends and whether anything in it is escaped: a
     * string without escapes is its own bytes, and one with them never
     * decodes longer than it is written.  Errors are left to the decoder,
     * which finds them in the order of the bytes.
     */

    d = NULL;

    if (out != NULL) {
        esc = 0;

        for (q = p; q < e && *q != '"'; q++) {
            if (*q == '\\') {
                esc = 1;
                q += (e - q >= 2);
            }
        }

        if (esc) {
            d = (a != NULL) ? fwg_arena_alloc(a, q - p) : NULL;
            if (d == NULL) {
                return "out of memory";
            }
        }
    }

    q = p;

    err = fwg_json_decode(&q, e, d, &len);
    if (err) {
        return err;
    }

    if (out != NULL) {
        out->data = d ? (const char *) d : (const char *) p;
        out->len = len;
    }

    *pp = (const char *) q + 1;

    return NULL;
}


/*
 * The decoder proper: *pp past the opening quote; on success at the
 * closing quote.  With d NULL the decoded bytes are only counted.
 */

static const char *
fwg_json_decode(const unsigned char **pp, const unsigned char *end,
    unsigned char *d, size_t *len)
{
    size_t                n, i;
    uint32_t              cp, lo;
    unsigned char         u[4];
    const unsigned char  *p;

    p = *pp;
    n = 0;

    for ( ;; ) {
        if (p == end) {
            return "unterminated string";
        }

        if (*p == '"') {
            break;
        }

        if (*p < 0x20) {
            return "control character in string";
        }

        if (*p != '\\') {
            if (d) {
                d[n] = *p;
            }

            n++;
            p++;
            continue;
        }

        if (end - p < 2) {
            return "unterminated string";
        }

        p++;

        switch (*p++) {
        case '"':  cp = '"';  break;
        case '\\': cp = '\\'; break;
        case '/':  cp = '/';  break;
        case 'b':  cp = '\b'; break;
        case 'f':  cp = '\f'; break;
        case 'n':  cp = '\n'; break;
        case 'r':  cp = '\r'; break;
        case 't':  cp = '\t'; break;

        case 'u':
            if (end - p < 4 || fwg_json_hex4(p, &cp) != 0) {
                return "bad \\u escape";
            }

            p += 4;

            if (cp >= 0xdc00 && cp <= 0xdfff) {
                return "lone surrogate";
            }

            /* a high surrogate only with a low one right after it */

            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (end - p < 6 || p[0] != '\\' || p[1] != 'u'
                    || fwg_json_hex4(p + 2, &lo) != 0
                    || lo < 0xdc00 || lo > 0xdfff)
                {
                    return "lone surrogate";
                }

                p += 6;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            }

            if (cp == 0) {
                return "\\u0000 in string";
            }

            break;

        default:
            return "bad escape";
        }

        if (cp < 0x80) {
            u[0] = (unsigned char) cp;
            i = 1;

        } else if (cp < 0x800) {
            u[0] = (unsigned char) (0xc0 | (cp >> 6));
            u[1] = (unsigned char) (0x80 | (cp & 0x3f));
            i = 2;

        } else if (cp < 0x10000) {
            u[0] = (unsigned char) (0xe0 | (cp >> 12));
            u[1] = (unsigned char) (0x80 | ((cp >> 6) & 0x3f));
            u[2] = (unsigned char) (0x80 | (cp & 0x3f));
            i = 3;

        } else {
            u[0] = (unsigned char) (0xf0 | (cp >> 18));
            u[1] = (unsigned char) (0x80 | ((cp >> 12) & 0x3f));
            u[2] = (unsigned char) (0x80 | ((cp >> 6) & 0x3f));
            u[3] = (unsigned char) (0x80 | (cp & 0x3f));
            i = 4;
        }

        if (d) {
            memcpy(d + n, u, i);
        }

        n += i;
    }

    *pp = p;
    *len = n;

    return NULL;
}


static int
fwg_json_hex4(const unsigned char *p, uint32_t *out)
{
    size_t         i;
    uint32_t       v;
    unsigned char  c;

    v = 0;

    for (i = 0; i < 4; i++) {
        c = p[i];

        if (fwg_json_digit(c)) {
            v = v * 16 + (c - '0');

        } else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') {
            v = v * 16 + ((c | 0x20) - 'a' + 10);

        } else {
            return -1;
        }
    }

    *out = v;

    return 0;
}


/*
 * A member's name, *pp at its opening quote.  Names are decoded into buf,
 * not the arena, so that the arena holds known values only however many
 * members a body has; a name longer than buf names no known member and
 * is only checked (name->data NULL).
 */

static const char *
fwg_json_name(const unsigned char **pp, const unsigned char *end,
    unsigned char *buf, fwg_str_t *name)
{
    size_t                len;
    const char           *err;
    const unsigned char  *p, *q, *r;

    p = *pp + 1;
    q = p;

    err = fwg_json_decode(&q, end, NULL, &len);
    if (err) {
        return err;
    }

    name->len = len;

    if (memchr(p, '\\', q - p) == NULL) {
        name->data = (const char *) p;

    } else if (len <= FWG_JSON_NAME_MAX) {
        r = p;
        (void) fwg_json_decode(&r, end, buf, &len);
        name->data = (const char *) buf;

    } else {
        name->data = NULL;
    }

    *pp = q + 1;

    return NULL;
}


/* a number, true, false or null (RFC 8259 grammar) */

static const char *
fwg_json_scalar(const unsigned char **pp, const unsigned char *end)
{
    size_t                i, n;
    const unsigned char  *p;

    static const char  *words[] = { "true", "false", "null", NULL };

    p = *pp;

    for (i = 0; words[i]; i++) {
        n = strlen(words[i]);

        if ((size_t) (end - p) >= n && memcmp(p, words[i], n) == 0) {
            *pp = p + n;
            return NULL;
        }
    }

    if (p < end && *p == '-') {
        p++;
    }

    if (p == end || !fwg_json_digit(*p)) {
        return (p < end && (*p == '{' || *p == '['))
               ? "nested value" : "value expected";
    }

    /* no leading zeros: "01" stops after the 0, and the caller objects */

    if (*p == '0') {
        p++;

    } else {
        while (p < end && fwg_json_digit(*p)) {
            p++;
        }
    }

    if (p < end && *p == '.') {
        p++;

        if (p == end || !fwg_json_digit(*p)) {
            return "bad number";
        }

        while (p < end && fwg_json_digit(*p)) {
            p++;
        }
    }

    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;

        if (p < end && (*p == '+' || *p == '-')) {
            p++;
        }

        if (p == end || !fwg_json_digit(*p)) {
            return "bad number";
        }

        while (p < end && fwg_json_digit(*p)) {
            p++;
        }
    }

    *pp = p;

    return NULL;
}


static const unsigned char *
fwg_json_skip_ws(const unsigned char *p, const unsigned char *end)
{
    while (p < end && fwg_json_ws(*p)) {
        p++;
    }

    return p;
}


const char *
fwg_json_object(const char *s, size_t n, fwg_json_member_t *known,
    size_t nknown, fwg_arena_t *a)
{
    size_t                i;
    fwg_str_t             name;
    const char           *err, *q;
    fwg_json_member_t    *m;
    const unsigned char  *p, *end;
    unsigned char         buf[FWG_JSON_NAME_MAX];

    for (i = 0; i < nknown; i++) {
        known[i].seen = 0;
        known[i].value.data = NULL;
        known[i].value.len = 0;
    }

    if (n == 0) {
        return "empty body";
    }

    /* once for the whole body: strings need not check their bytes again */

    if (!fwg_utf8_valid(s, n)) {
        return "body is not UTF-8";
    }

    p = (const unsigned char *) s;
    end = p + n;

    p = fwg_json_skip_ws(p, end);

    if (p == end || *p++ != '{') {
        return "not a JSON object";
    }

    p = fwg_json_skip_ws(p, end);

    if (p < end && *p == '}') {
        p++;
        goto done;
    }

    for ( ;; ) {
        p = fwg_json_skip_ws(p, end);

        if (p == end || *p != '"') {
            return "member name expected";
        }

        err = fwg_json_name(&p, end, buf, &name);
        if (err) {
            return err;
        }

        p = fwg_json_skip_ws(p, end);

        if (p == end || *p++ != ':') {
            return "':' expected";
        }

        p = fwg_json_skip_ws(p, end);

        m = NULL;

        for (i = 0; name.data != NULL && i < nknown; i++) {
            if (name.len == strlen(known[i].name)
                && memcmp(name.data, known[i].name, name.len) == 0)
            {
                m = &known[i];
                break;
            }
        }

        q = (const char *) p;

        if (m) {
            if (m->seen) {
                return "duplicate member";
            }

            m->seen = 1;

            if (p == end || *p != '"') {
                return "member must be a string";
            }

            err = fwg_json_string(&q, (const char *) end, a, &m->value);

        } else if (p < end && *p == '"') {
            err = fwg_json_string(&q, (const char *) end, NULL, NULL);

        } else {
            err = fwg_json_scalar(&p, end);
            q = (const char *) p;
        }

        if (err) {
            return err;
        }

        p = fwg_json_skip_ws((const unsigned char *) q, end);

        if (p == end) {
            return "unterminated object";
        }

        if (*p == ',') {
            p++;
            continue;
        }

        if (*p == '}') {
            p++;
            break;
        }

        return "',' or '}' expected";
    }

done:

    p = fwg_json_skip_ws(p, end);

    if (p != end) {
        return "bytes after the object";
    }

    return NULL;
}


size_t
fwg_json_escape(char *dst, const char *src, size_t len)
{
    size_t                i, n;
    char                  c;
    const unsigned char  *s;

    static const char  hex[] = "0123456789abcdef";

    s = (const unsigned char *) src;
    n = 0;

    for (i = 0; i < len; i++) {

        switch (s[i]) {
        case '"':  c = '"';  break;
        case '\\': c = '\\'; break;
        case '\b': c = 'b';  break;
        case '\f': c = 'f';  break;
        case '\n': c = 'n';  break;
        case '\r': c = 'r';  break;
        case '\t': c = 't';  break;
        default:   c = 0;    break;
        }

        if (c) {
            if (dst) {
                dst[n] = '\\';
                dst[n + 1] = c;
            }

            n += 2;

        } else if (s[i] < 0x20 || s[i] == 0x7f) {
            if (dst) {
                memcpy(dst + n, "\\u00", 4);
                dst[n + 4] = hex[s[i] >> 4];
                dst[n + 5] = hex[s[i] & 0xf];
            }

            n += 6;

        } else {
            if (dst) {
                dst[n] = (char) s[i];
            }

            n++;
        }
    }

    return n;
}
