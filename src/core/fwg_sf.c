/*
 * RFC 8941 structured field values: the parsing algorithms of section 4.2
 * and the serialization algorithms of section 4.1, step by step.
 *
 * Every read is bounded by the input's end (field values are not NUL
 * terminated), and every allocation comes from the caller's arena, whose
 * exhaustion ends parsing with FWG_SF_ENOMEM.
 */

#include <limits.h>
#include <string.h>

#include "fwg_sf.h"
#include "fwg_b64.h"


#define FWG_SF_MAX_INT  999999999999999LL   /* 15 digits */


typedef struct {
    const unsigned char  *pos;
    const unsigned char  *end;
    fwg_arena_t          *arena;
    const char           *err;
} fwg_sf_in_t;


typedef struct {
    char                 *dst;
    size_t                size;
    size_t                len;
} fwg_sf_out_t;


static int fwg_sf_parse_bare(fwg_sf_in_t *in, fwg_sf_bare_t *b);
static int fwg_sf_parse_params(fwg_sf_in_t *in, fwg_sf_param_t **out,
    size_t *n);


/* character classes (RFC 5234 and RFC 9110 tchar) */

static int
fwg_sf_is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}


static int
fwg_sf_is_lcalpha(unsigned char c)
{
    return c >= 'a' && c <= 'z';
}


static int
fwg_sf_is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}


static int
fwg_sf_is_key_char(unsigned char c)
{
    return fwg_sf_is_lcalpha(c) || fwg_sf_is_digit(c)
           || c == '_' || c == '-' || c == '.' || c == '*';
}


static int
fwg_sf_is_tchar(unsigned char c)
{
    if (fwg_sf_is_alpha(c) || fwg_sf_is_digit(c)) {
        return 1;
    }

    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}


/* token characters after the first: tchar, ":" and "/" */
static int
fwg_sf_is_token_char(unsigned char c)
{
    return fwg_sf_is_tchar(c) || c == ':' || c == '/';
}


static int
fwg_sf_is_b64_char(unsigned char c)
{
    return fwg_sf_is_alpha(c) || fwg_sf_is_digit(c)
           || c == '+' || c == '/' || c == '=';
}


/* parsing ------------------------------------------------------------ */

static int
fwg_sf_fail(fwg_sf_in_t *in, const char *msg)
{
    in->err = msg;
    return FWG_SF_ESYNTAX;
}


static int
fwg_sf_nomem(fwg_sf_in_t *in)
{
    in->err = "structured field too large";
    return FWG_SF_ENOMEM;
}


static void
fwg_sf_skip_sp(fwg_sf_in_t *in)
{
    while (in->pos < in->end && *in->pos == ' ') {
        in->pos++;
    }
}


static void
fwg_sf_skip_ows(fwg_sf_in_t *in)
{
    while (in->pos < in->end && (*in->pos == ' ' || *in->pos == '\t')) {
        in->pos++;
    }
}


/*
 * Makes room for element n of an array of elements of `size` bytes.
 * Arrays grow by doubling inside the arena; the old copy is abandoned, so
 * the waste stays below the final size.  NULL when the arena is full.
 */
static void *
fwg_sf_grow(fwg_sf_in_t *in, void *arr, size_t *cap, size_t n, size_t size)
{
    void    *p;
    size_t   ncap;

    fwg_arena_t  *a;

    if (n < *cap) {
        return arr;
    }

    ncap = *cap ? *cap * 2 : 4;

    if (ncap > SIZE_MAX / size) {
        return NULL;
    }

    /*
     * When the array is the arena's last allocation (a list of plain
     * items: nothing else was allocated since), it grows in place by just
     * the one element, wasting nothing.
     */
    a = in->arena;

    if (arr != NULL && (char *) arr + *cap * size == a->buf + a->used
        && size <= a->size - a->used)
    {
        a->used += size;
        *cap += 1;
        return arr;
    }

    p = fwg_arena_alloc(in->arena, ncap * size);
    if (p == NULL) {
        return NULL;
    }

    if (n) {
        memcpy(p, arr, n * size);
    }

    *cap = ncap;

    return p;
}


/* section 4.2.3.3 */
static int
fwg_sf_parse_key(fwg_sf_in_t *in, fwg_str_t *key)
{
    const unsigned char  *start;

    start = in->pos;

    if (in->pos == in->end
        || !(fwg_sf_is_lcalpha(*in->pos) || *in->pos == '*'))
    {
        return fwg_sf_fail(in, "invalid key");
    }

    in->pos++;

    while (in->pos < in->end && fwg_sf_is_key_char(*in->pos)) {
        in->pos++;
    }

    key->data = (const char *) start;
    key->len = (size_t) (in->pos - start);

    return FWG_SF_OK;
}


/* section 4.2.4 */
static int
fwg_sf_parse_number(fwg_sf_in_t *in, fwg_sf_bare_t *b)
{
    unsigned char  c;
    int            neg, dec;
    size_t         nchars, nfrac;
    int64_t        ip, fp;

    neg = 0;
    dec = 0;
    nchars = 0;
    nfrac = 0;
    ip = 0;
    fp = 0;

    if (*in->pos == '-') {
        neg = 1;
        in->pos++;
    }

    if (in->pos == in->end) {
        return fwg_sf_fail(in, "empty integer");
    }

    if (!fwg_sf_is_digit(*in->pos)) {
        return fwg_sf_fail(in, "invalid number");
    }

    while (in->pos < in->end) {
        c = *in->pos;

        if (fwg_sf_is_digit(c)) {
            if (dec) {
                fp = fp * 10 + (c - '0');
                nfrac++;

            } else {
                ip = ip * 10 + (c - '0');
            }

        } else if (!dec && c == '.') {
            if (nchars > 12) {
                return fwg_sf_fail(in, "decimal too large");
            }

            dec = 1;

        } else {
            break;
        }

        in->pos++;
        nchars++;

        /* the limits also keep ip and fp far from overflowing */
        if (!dec && nchars > 15) {
            return fwg_sf_fail(in, "integer too large");
        }

        if (dec && nchars > 16) {
            return fwg_sf_fail(in, "decimal too large");
        }
    }

    if (!dec) {
        b->type = FWG_SF_INTEGER;
        b->integer = neg ? -ip : ip;
        return FWG_SF_OK;
    }

    if (nfrac == 0) {
        return fwg_sf_fail(in, "decimal ends with '.'");
    }

    if (nfrac > 3) {
        return fwg_sf_fail(in, "decimal with more than 3 fraction digits");
    }

    while (nfrac < 3) {
        fp *= 10;
        nfrac++;
    }

    b->type = FWG_SF_DECIMAL;
    b->decimal = ip * 1000 + fp;

    if (neg) {
        b->decimal = -b->decimal;
    }

    return FWG_SF_OK;
}


/* section 4.2.5; the value points into the input unless it had escapes */
static int
fwg_sf_parse_string(fwg_sf_in_t *in, fwg_sf_bare_t *b)
{
    const unsigned char  *start, *p, *q;
    unsigned char         c;
    size_t                len, nesc, i;
    char                 *dst;

    p = in->pos + 1;
    start = p;
    nesc = 0;

    for ( ;; ) {
        if (p == in->end) {
            return fwg_sf_fail(in, "unterminated string");
        }

        c = *p++;

        if (c == '\\') {
            if (p == in->end) {
                return fwg_sf_fail(in, "unterminated string");
            }

            if (*p != '"' && *p != '\\') {
                return fwg_sf_fail(in, "invalid escape in string");
            }

            p++;
            nesc++;

        } else if (c == '"') {
            break;

        } else if (c < 0x20 || c > 0x7e) {
            return fwg_sf_fail(in, "invalid character in string");
        }
    }

    in->pos = p;
    len = (size_t) (p - 1 - start);

    b->type = FWG_SF_STRING;

    if (nesc == 0) {
        b->str.data = (const char *) start;
        b->str.len = len;
        return FWG_SF_OK;
    }

    dst = fwg_arena_alloc(in->arena, len - nesc);
    if (dst == NULL) {
        return fwg_sf_nomem(in);
    }

    i = 0;

    for (q = start; q < p - 1; q++) {
        if (*q == '\\') {
            q++;
        }

        dst[i++] = (char) *q;
    }

    b->str.data = dst;
    b->str.len = i;

    return FWG_SF_OK;
}


/* section 4.2.6; the caller has seen ALPHA or "*" */
static int
fwg_sf_parse_token(fwg_sf_in_t *in, fwg_sf_bare_t *b)
{
    const unsigned char  *start;

    start = in->pos++;

    while (in->pos < in->end && fwg_sf_is_token_char(*in->pos)) {
        in->pos++;
    }

    b->type = FWG_SF_TOKEN;
    b->str.data = (const char *) start;
    b->str.len = (size_t) (in->pos - start);

    return FWG_SF_OK;
}


/* section 4.2.7 */
static int
fwg_sf_parse_binary(fwg_sf_in_t *in, fwg_sf_bare_t *b)
{
    const unsigned char  *start, *close;
    unsigned char        *dst;
    size_t                len, outlen, i;

    start = in->pos + 1;
    close = memchr(start, ':', (size_t) (in->end - start));

    if (close == NULL) {
        return fwg_sf_fail(in, "unterminated byte sequence");
    }

    len = (size_t) (close - start);

    for (i = 0; i < len; i++) {
        if (!fwg_sf_is_b64_char(start[i])) {
            return fwg_sf_fail(in, "invalid character in byte sequence");
        }
    }

    in->pos = close + 1;
    b->type = FWG_SF_BINARY;

    if (len == 0) {
        b->str.data = "";
        b->str.len = 0;
        return FWG_SF_OK;
    }

    dst = fwg_arena_alloc(in->arena, fwg_b64_dec_max(len));
    if (dst == NULL) {
        return fwg_sf_nomem(in);
    }

    if (fwg_b64_decode_sf(dst, fwg_b64_dec_max(len), &outlen,
                          (const char *) start, len)
        != 0)
    {
        return fwg_sf_fail(in, "invalid base64 in byte sequence");
    }

    b->str.data = (const char *) dst;
    b->str.len = outlen;

    return FWG_SF_OK;
}


/* section 4.2.8 */
static int
fwg_sf_parse_boolean(fwg_sf_in_t *in, fwg_sf_bare_t *b)
{
    in->pos++;

    if (in->pos == in->end || (*in->pos != '0' && *in->pos != '1')) {
        return fwg_sf_fail(in, "invalid boolean");
    }

    b->type = FWG_SF_BOOLEAN;
    b->integer = (*in->pos == '1');
    in->pos++;

    return FWG_SF_OK;
}


/* section 4.2.3.1 */
static int
fwg_sf_parse_bare(fwg_sf_in_t *in, fwg_sf_bare_t *b)
{
    unsigned char  c;

    memset(b, 0, sizeof(*b));

    if (in->pos == in->end) {
        return fwg_sf_fail(in, "missing value");
    }

    c = *in->pos;

    if (c == '-' || fwg_sf_is_digit(c)) {
        return fwg_sf_parse_number(in, b);
    }

    if (c == '"') {
        return fwg_sf_parse_string(in, b);
    }

    if (fwg_sf_is_alpha(c) || c == '*') {
        return fwg_sf_parse_token(in, b);
    }

    if (c == ':') {
        return fwg_sf_parse_binary(in, b);
    }

    if (c == '?') {
        return fwg_sf_parse_boolean(in, b);
    }

    /* this includes "@" (Date) and "%" (Display String) of RFC 9651 */
    return fwg_sf_fail(in, "unexpected character");
}


/*
 * section 4.2.3.2; a repeated key keeps its first position and takes the
 * last value
 */
static int
fwg_sf_parse_params(fwg_sf_in_t *in, fwg_sf_param_t **out, size_t *n)
{
    fwg_sf_param_t  *params;
    fwg_sf_bare_t    value;
    fwg_str_t        key;
    size_t           np, cap, i;
    int              rc;

    params = NULL;
    np = 0;
    cap = 0;

    while (in->pos < in->end && *in->pos == ';') {
        in->pos++;
        fwg_sf_skip_sp(in);

        rc = fwg_sf_parse_key(in, &key);
        if (rc != FWG_SF_OK) {
            return rc;
        }

        memset(&value, 0, sizeof(value));
        value.type = FWG_SF_BOOLEAN;
        value.integer = 1;

        if (in->pos < in->end && *in->pos == '=') {
            in->pos++;

            rc = fwg_sf_parse_bare(in, &value);
            if (rc != FWG_SF_OK) {
                return rc;
            }
        }

        for (i = 0; i < np; i++) {
            if (fwg_str_eqs(params[i].key, key)) {
                break;
            }
        }

        if (i < np) {
            params[i].value = value;
            continue;
        }

        params = fwg_sf_grow(in, params, &cap, np, sizeof(fwg_sf_param_t));
        if (params == NULL) {
            return fwg_sf_nomem(in);
        }

        params[np].key = key;
        params[np].value = value;
        np++;
    }

    *out = params;
    *n = np;

    return FWG_SF_OK;
}


/* section 4.2.3 */
static int
fwg_sf_parse_item_in(fwg_sf_in_t *in, fwg_sf_item_t *it)
{
    int  rc;

    memset(it, 0, sizeof(*it));

    rc = fwg_sf_parse_bare(in, &it->bare);
    if (rc != FWG_SF_OK) {
        return rc;
    }

    return fwg_sf_parse_params(in, &it->params, &it->nparams);
}


/* section 4.2.1.2 */
static int
fwg_sf_parse_inner_list(fwg_sf_in_t *in, fwg_sf_item_t *it)
{
    fwg_sf_item_t  *items;
    size_t          n, cap;
    int             rc;

    memset(it, 0, sizeof(*it));

    items = NULL;
    n = 0;
    cap = 0;

    in->pos++;

    while (in->pos < in->end) {
        fwg_sf_skip_sp(in);

        if (in->pos == in->end) {
            break;
        }

        if (*in->pos == ')') {
            in->pos++;

            it->bare.type = FWG_SF_INNER_LIST;
            it->items = items;
            it->nitems = n;

            return fwg_sf_parse_params(in, &it->params, &it->nparams);
        }

        items = fwg_sf_grow(in, items, &cap, n, sizeof(fwg_sf_item_t));
        if (items == NULL) {
            return fwg_sf_nomem(in);
        }

        rc = fwg_sf_parse_item_in(in, &items[n]);
        if (rc != FWG_SF_OK) {
            return rc;
        }

        n++;

        if (in->pos == in->end) {
            break;
        }

        if (*in->pos != ' ' && *in->pos != ')') {
            return fwg_sf_fail(in, "invalid inner list");
        }
    }

    return fwg_sf_fail(in, "unterminated inner list");
}


/* section 4.2.1.1 */
static int
fwg_sf_parse_member(fwg_sf_in_t *in, fwg_sf_item_t *it)
{
    if (in->pos < in->end && *in->pos == '(') {
        return fwg_sf_parse_inner_list(in, it);
    }

    return fwg_sf_parse_item_in(in, it);
}


/* between members: OWS "," OWS, and no trailing comma */
static int
fwg_sf_parse_separator(fwg_sf_in_t *in, int *done)
{
    fwg_sf_skip_ows(in);

    if (in->pos == in->end) {
        *done = 1;
        return FWG_SF_OK;
    }

    if (*in->pos != ',') {
        return fwg_sf_fail(in, "expected ','");
    }

    in->pos++;
    fwg_sf_skip_ows(in);

    if (in->pos == in->end) {
        return fwg_sf_fail(in, "trailing ','");
    }

    *done = 0;

    return FWG_SF_OK;
}


/* section 4.2.1 */
static int
fwg_sf_parse_list_in(fwg_sf_in_t *in, fwg_sf_member_t **out, size_t *nout)
{
    fwg_sf_member_t  *m;
    size_t            n, cap;
    int               rc, done;

    m = NULL;
    n = 0;
    cap = 0;

    while (in->pos < in->end) {
        m = fwg_sf_grow(in, m, &cap, n, sizeof(fwg_sf_member_t));
        if (m == NULL) {
            return fwg_sf_nomem(in);
        }

        m[n].key.data = NULL;
        m[n].key.len = 0;

        rc = fwg_sf_parse_member(in, &m[n].value);
        if (rc != FWG_SF_OK) {
            return rc;
        }

        n++;

        rc = fwg_sf_parse_separator(in, &done);
        if (rc != FWG_SF_OK) {
            return rc;
        }

        if (done) {
            break;
        }
    }

    *out = m;
    *nout = n;

    return FWG_SF_OK;
}


/* section 4.2.2 */
static int
fwg_sf_parse_dict_in(fwg_sf_in_t *in, fwg_sf_member_t **out, size_t *nout)
{
    fwg_sf_member_t  *m;
    fwg_sf_item_t     value;
    fwg_str_t         key;
    size_t            n, cap, i;
    int               rc, done;

    m = NULL;
    n = 0;
    cap = 0;

    while (in->pos < in->end) {
        rc = fwg_sf_parse_key(in, &key);
        if (rc != FWG_SF_OK) {
            return rc;
        }

        if (in->pos < in->end && *in->pos == '=') {
            in->pos++;
            rc = fwg_sf_parse_member(in, &value);

        } else {
            memset(&value, 0, sizeof(value));
            value.bare.type = FWG_SF_BOOLEAN;
            value.bare.integer = 1;
            rc = fwg_sf_parse_params(in, &value.params, &value.nparams);
        }

        if (rc != FWG_SF_OK) {
            return rc;
        }

        for (i = 0; i < n; i++) {
            if (fwg_str_eqs(m[i].key, key)) {
                break;
            }
        }

        if (i < n) {
            m[i].value = value;

        } else {
            m = fwg_sf_grow(in, m, &cap, n, sizeof(fwg_sf_member_t));
            if (m == NULL) {
                return fwg_sf_nomem(in);
            }

            m[n].key = key;
            m[n].value = value;
            n++;
        }

        rc = fwg_sf_parse_separator(in, &done);
        if (rc != FWG_SF_OK) {
            return rc;
        }

        if (done) {
            break;
        }
    }

    *out = m;
    *nout = n;

    return FWG_SF_OK;
}


static void
fwg_sf_in_init(fwg_sf_in_t *in, const char *s, size_t len, fwg_arena_t *a)
{
    in->pos = (const unsigned char *) s;
    in->end = in->pos + len;
    in->arena = a;
    in->err = NULL;

    /* section 4.2 step 2: leading SP only, not HTAB */
    fwg_sf_skip_sp(in);
}


/* section 4.2 steps 6-7 */
static int
fwg_sf_finish(fwg_sf_in_t *in, int rc, const char **err)
{
    if (rc == FWG_SF_OK) {
        fwg_sf_skip_sp(in);

        if (in->pos != in->end) {
            rc = fwg_sf_fail(in, "unexpected trailing characters");
        }
    }

    if (err) {
        *err = (rc == FWG_SF_OK) ? NULL : in->err;
    }

    return rc;
}


int
fwg_sf_parse_list(const char *s, size_t len, fwg_arena_t *a,
    fwg_sf_member_t **out, size_t *n, const char **err)
{
    fwg_sf_in_t  in;
    int          rc;

    *out = NULL;
    *n = 0;

    fwg_sf_in_init(&in, s ? s : "", s ? len : 0, a);
    rc = fwg_sf_parse_list_in(&in, out, n);

    rc = fwg_sf_finish(&in, rc, err);
    if (rc != FWG_SF_OK) {
        *out = NULL;
        *n = 0;
    }

    return rc;
}


int
fwg_sf_parse_dict(const char *s, size_t len, fwg_arena_t *a,
    fwg_sf_member_t **out, size_t *n, const char **err)
{
    fwg_sf_in_t  in;
    int          rc;

    *out = NULL;
    *n = 0;

    fwg_sf_in_init(&in, s ? s : "", s ? len : 0, a);
    rc = fwg_sf_parse_dict_in(&in, out, n);

    rc = fwg_sf_finish(&in, rc, err);
    if (rc != FWG_SF_OK) {
        *out = NULL;
        *n = 0;
    }

    return rc;
}


int
fwg_sf_parse_item(const char *s, size_t len, fwg_arena_t *a,
    fwg_sf_item_t *out, const char **err)
{
    fwg_sf_in_t  in;
    int          rc;

    fwg_sf_in_init(&in, s ? s : "", s ? len : 0, a);
    rc = fwg_sf_parse_item_in(&in, out);

    return fwg_sf_finish(&in, rc, err);
}


const fwg_sf_bare_t *
fwg_sf_param(const fwg_sf_item_t *it, const char *key)
{
    size_t  i;

    for (i = 0; i < it->nparams; i++) {
        if (fwg_str_eq(it->params[i].key, key)) {
            return &it->params[i].value;
        }
    }

    return NULL;
}


const fwg_sf_member_t *
fwg_sf_dict_get(const fwg_sf_member_t *m, size_t n, fwg_str_t key)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (fwg_str_eqs(m[i].key, key)) {
            return &m[i];
        }
    }

    return NULL;
}


/* serialization ------------------------------------------------------ */

static int
fwg_sf_put(fwg_sf_out_t *o, const void *p, size_t n)
{
    if (n > o->size - o->len) {
        return -1;
    }

    if (n) {
        memcpy(o->dst + o->len, p, n);
    }

    o->len += n;

    return 0;
}


static int
fwg_sf_putc(fwg_sf_out_t *o, char c)
{
    return fwg_sf_put(o, &c, 1);
}


/* a non-negative number in decimal */
static int
fwg_sf_put_uint(fwg_sf_out_t *o, uint64_t v)
{
    char    buf[24];
    size_t  i;

    i = sizeof(buf);

    do {
        buf[--i] = (char) ('0' + v % 10);
        v /= 10;
    } while (v);

    return fwg_sf_put(o, buf + i, sizeof(buf) - i);
}


/* section 4.1.1.3 */
static int
fwg_sf_ser_key(fwg_sf_out_t *o, fwg_str_t key)
{
    size_t  i;

    if (key.len == 0) {
        return -1;
    }

    if (!fwg_sf_is_lcalpha((unsigned char) key.data[0])
        && key.data[0] != '*')
    {
        return -1;
    }

    for (i = 1; i < key.len; i++) {
        if (!fwg_sf_is_key_char((unsigned char) key.data[i])) {
            return -1;
        }
    }

    return fwg_sf_put(o, key.data, key.len);
}


/* section 4.1.5: the value is already rounded to thousandths */
static int
fwg_sf_ser_decimal(fwg_sf_out_t *o, int64_t d)
{
    uint64_t  v, frac;
    char      buf[3];
    size_t    n;

    /* the integer component may have at most 12 digits */
    if (d > FWG_SF_MAX_INT || d < -FWG_SF_MAX_INT) {
        return -1;
    }

    if (d < 0) {
        if (fwg_sf_putc(o, '-') != 0) {
            return -1;
        }

        v = (uint64_t) -d;

    } else {
        v = (uint64_t) d;
    }

    frac = v % 1000;

    if (fwg_sf_put_uint(o, v / 1000) != 0 || fwg_sf_putc(o, '.') != 0) {
        return -1;
    }

    if (frac == 0) {
        return fwg_sf_putc(o, '0');
    }

    buf[0] = (char) ('0' + frac / 100);
    buf[1] = (char) ('0' + frac / 10 % 10);
    buf[2] = (char) ('0' + frac % 10);

    /* no trailing zeros, but at least one digit */
    for (n = 3; buf[n - 1] == '0'; n--) {
        /* void */
    }

    return fwg_sf_put(o, buf, n);
}


/* section 4.1.6 */
static int
fwg_sf_ser_string(fwg_sf_out_t *o, fwg_str_t s)
{
    size_t         i;
    unsigned char  c;

    if (fwg_sf_putc(o, '"') != 0) {
        return -1;
    }

    for (i = 0; i < s.len; i++) {
        c = (unsigned char) s.data[i];

        if (c < 0x20 || c > 0x7e) {
            return -1;
        }

        if ((c == '"' || c == '\\') && fwg_sf_putc(o, '\\') != 0) {
            return -1;
        }

        if (fwg_sf_putc(o, (char) c) != 0) {
            return -1;
        }
    }

    return fwg_sf_putc(o, '"');
}


/* section 4.1.7 */
static int
fwg_sf_ser_token(fwg_sf_out_t *o, fwg_str_t t)
{
    size_t  i;

    if (t.len == 0) {
        return -1;
    }

    if (!fwg_sf_is_alpha((unsigned char) t.data[0]) && t.data[0] != '*') {
        return -1;
    }

    for (i = 1; i < t.len; i++) {
        if (!fwg_sf_is_token_char((unsigned char) t.data[i])) {
            return -1;
        }
    }

    return fwg_sf_put(o, t.data, t.len);
}


/* section 4.1.8 */
static int
fwg_sf_ser_binary(fwg_sf_out_t *o, fwg_str_t b)
{
    size_t  n;

    if (b.len > (SIZE_MAX - 2) / 4 * 3 - 3) {
        return -1;
    }

    n = fwg_b64_enc_len(b.len);

    if (fwg_sf_putc(o, ':') != 0 || n > o->size - o->len) {
        return -1;
    }

    o->len += fwg_b64_encode(o->dst + o->len,
                             (const unsigned char *) b.data, b.len);

    return fwg_sf_putc(o, ':');
}


/* section 4.1.3.1 */
static int
fwg_sf_ser_bare(fwg_sf_out_t *o, const fwg_sf_bare_t *b)
{
    switch (b->type) {

    case FWG_SF_INTEGER:
        if (b->integer > FWG_SF_MAX_INT || b->integer < -FWG_SF_MAX_INT) {
            return -1;
        }

        if (b->integer < 0) {
            return fwg_sf_putc(o, '-') != 0
                   ? -1 : fwg_sf_put_uint(o, (uint64_t) -b->integer);
        }

        return fwg_sf_put_uint(o, (uint64_t) b->integer);

    case FWG_SF_DECIMAL:
        return fwg_sf_ser_decimal(o, b->decimal);

    case FWG_SF_STRING:
        return fwg_sf_ser_string(o, b->str);

    case FWG_SF_TOKEN:
        return fwg_sf_ser_token(o, b->str);

    case FWG_SF_BINARY:
        return fwg_sf_ser_binary(o, b->str);

    case FWG_SF_BOOLEAN:
        return fwg_sf_put(o, b->integer ? "?1" : "?0", 2);

    default:
        return -1;
    }
}


/* section 4.1.1.2 */
static int
fwg_sf_ser_params(fwg_sf_out_t *o, const fwg_sf_param_t *p, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (fwg_sf_putc(o, ';') != 0 || fwg_sf_ser_key(o, p[i].key) != 0) {
            return -1;
        }

        if (p[i].value.type == FWG_SF_BOOLEAN && p[i].value.integer) {
            continue;
        }

        if (fwg_sf_putc(o, '=') != 0
            || fwg_sf_ser_bare(o, &p[i].value) != 0)
        {
            return -1;
        }
    }

    return 0;
}


/* section 4.1.3 and 4.1.1.1 (an inner list) */
static int
fwg_sf_ser_member(fwg_sf_out_t *o, const fwg_sf_item_t *it)
{
    size_t  i;

    if (it->bare.type != FWG_SF_INNER_LIST) {
        if (fwg_sf_ser_bare(o, &it->bare) != 0) {
            return -1;
        }

        return fwg_sf_ser_params(o, it->params, it->nparams);
    }

    if (fwg_sf_putc(o, '(') != 0) {
        return -1;
    }

    for (i = 0; i < it->nitems; i++) {
        /* inner lists do not nest */
        if (it->items[i].bare.type == FWG_SF_INNER_LIST) {
            return -1;
        }

        if (i > 0 && fwg_sf_putc(o, ' ') != 0) {
            return -1;
        }

        if (fwg_sf_ser_bare(o, &it->items[i].bare) != 0
            || fwg_sf_ser_params(o, it->items[i].params,
                                 it->items[i].nparams) != 0)
        {
            return -1;
        }
    }

    if (fwg_sf_putc(o, ')') != 0) {
        return -1;
    }

    return fwg_sf_ser_params(o, it->params, it->nparams);
}


static long
fwg_sf_ser_result(fwg_sf_out_t *o, int rc)
{
    if (rc != 0 || o->len > (size_t) LONG_MAX) {
        return -1;
    }

    return (long) o->len;
}


long
fwg_sf_serialize_item(char *dst, size_t dstsize, const fwg_sf_item_t *it)
{
    fwg_sf_out_t  o;

    o.dst = dst;
    o.size = dstsize;
    o.len = 0;

    return fwg_sf_ser_result(&o, fwg_sf_ser_member(&o, it));
}


long
fwg_sf_serialize_params(char *dst, size_t dstsize, const fwg_sf_param_t *p,
    size_t n)
{
    fwg_sf_out_t  o;

    o.dst = dst;
    o.size = dstsize;
    o.len = 0;

    return fwg_sf_ser_result(&o, fwg_sf_ser_params(&o, p, n));
}


/* section 4.1.1 */
long
fwg_sf_serialize_list(char *dst, size_t dstsize, const fwg_sf_member_t *m,
    size_t n)
{
    fwg_sf_out_t  o;
    size_t        i;
    int           rc;

    o.dst = dst;
    o.size = dstsize;
    o.len = 0;
    rc = 0;

    for (i = 0; i < n && rc == 0; i++) {
        if (i > 0) {
            rc = fwg_sf_put(&o, ", ", 2);
        }

        if (rc == 0) {
            rc = fwg_sf_ser_member(&o, &m[i].value);
        }
    }

    return fwg_sf_ser_result(&o, rc);
}


/* section 4.1.2 */
long
fwg_sf_serialize_dict(char *dst, size_t dstsize, const fwg_sf_member_t *m,
    size_t n)
{
    fwg_sf_out_t          o;
    const fwg_sf_item_t  *v;
    size_t                i;
    int                   rc;

    o.dst = dst;
    o.size = dstsize;
    o.len = 0;
    rc = 0;

    for (i = 0; i < n && rc == 0; i++) {
        if (i > 0) {
            rc = fwg_sf_put(&o, ", ", 2);
        }

        if (rc == 0) {
            rc = fwg_sf_ser_key(&o, m[i].key);
        }

        if (rc != 0) {
            break;
        }

        v = &m[i].value;

        if (v->bare.type == FWG_SF_BOOLEAN && v->bare.integer) {
            rc = fwg_sf_ser_params(&o, v->params, v->nparams);

        } else {
            rc = fwg_sf_putc(&o, '=');

            if (rc == 0) {
                rc = fwg_sf_ser_member(&o, v);
            }
        }
    }

    return fwg_sf_ser_result(&o, rc);
}
