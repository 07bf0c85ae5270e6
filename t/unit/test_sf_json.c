/*
 * Runs the httpwg structured-field-tests cases (vendored in
 * t/data/sf-tests, format in its ABOUT.md) against the RFC 8941 parser and serializer.  Each case is
 * one check.  Date and Display String (RFC 9651) are not supported, so
 * date.json, display-string.json and any case using those types are
 * skipped.
 *
 * A small self-contained JSON reader is included; test code may malloc.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "fwg_sf.h"


#define SFJ_ARENA_SIZE  (4 * 1024 * 1024)
#define SFJ_OUT_SIZE    (256 * 1024)


/* JSON -------------------------------------------------------------- */

typedef enum {
    J_NULL = 0,
    J_BOOL,
    J_NUM,
    J_STR,
    J_ARR,
    J_OBJ
} jtype_t;

typedef struct jv_s  jv_t;

struct jv_s {
    jtype_t     type;
    int         b;
    char       *s;          /* J_STR decoded bytes, J_NUM literal text */
    size_t      slen;
    jv_t      **items;      /* J_ARR elements, J_OBJ values */
    jv_t      **keys;       /* J_OBJ keys (J_STR) */
    size_t      n;
};

typedef struct {
    const char  *p;
    const char  *end;
    int          err;
} jparser_t;


static jv_t *jparse_value(jparser_t *jp, int depth);


static void
jfree(jv_t *v)
{
    size_t  i;

    if (v == NULL) {
        return;
    }

    for (i = 0; i < v->n; i++) {
        jfree(v->items[i]);

        if (v->keys) {
            jfree(v->keys[i]);
        }
    }

    free(v->items);
    free(v->keys);
    free(v->s);
    free(v);
}


static void
jskip_ws(jparser_t *jp)
{
    while (jp->p < jp->end
           && (*jp->p == ' ' || *jp->p == '\t' || *jp->p == '\n'
               || *jp->p == '\r'))
    {
        jp->p++;
    }
}


static jv_t *
jnew(jtype_t type)
{
    jv_t  *v;

    v = calloc(1, sizeof(jv_t));
    if (v == NULL) {
        abort();
    }

    v->type = type;

    return v;
}


static void
jpush(jv_t *v, jv_t *item, jv_t *key)
{
    v->items = realloc(v->items, (v->n + 1) * sizeof(jv_t *));
    if (v->items == NULL) {
        abort();
    }

    v->items[v->n] = item;

    if (key) {
        v->keys = realloc(v->keys, (v->n + 1) * sizeof(jv_t *));
        if (v->keys == NULL) {
            abort();
        }

        v->keys[v->n] = key;
    }

    v->n++;
}


static int
jhex4(jparser_t *jp, unsigned *out)
{
    unsigned  v;
    int       i;
    char      c;

    if (jp->end - jp->p < 4) {
        return -1;
    }

    v = 0;

    for (i = 0; i < 4; i++) {
        c = *jp->p++;
        v <<= 4;

        if (c >= '0' && c <= '9') {
            v |= (unsigned) (c - '0');

        } else if (c >= 'a' && c <= 'f') {
            v |= (unsigned) (c - 'a' + 10);

        } else if (c >= 'A' && c <= 'F') {
            v |= (unsigned) (c - 'A' + 10);

        } else {
            return -1;
        }
    }

    *out = v;

    return 0;
}


static jv_t *
jparse_string(jparser_t *jp)
{
    jv_t      *v;
    char      *buf;
    size_t     n, cap;
    unsigned   cp, lo;
    char       c;

    jp->p++;
    cap = 16;
    n = 0;
    buf = malloc(cap);

    for ( ;; ) {
        if (jp->p == jp->end) {
            goto fail;
        }

        /* room for the longest UTF-8 sequence */
        if (n + 4 >= cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            if (buf == NULL) {
                abort();
            }
        }

        c = *jp->p++;

        if (c == '"') {
            break;
        }

        if (c != '\\') {
            buf[n++] = c;
            continue;
        }

        if (jp->p == jp->end) {
            goto fail;
        }

        c = *jp->p++;

        switch (c) {
        case '"': case '\\': case '/':
            buf[n++] = c;
            continue;
        case 'b':
            buf[n++] = '\b';
            continue;
        case 'f':
            buf[n++] = '\f';
            continue;
        case 'n':
            buf[n++] = '\n';
            continue;
        case 'r':
            buf[n++] = '\r';
            continue;
        case 't':
            buf[n++] = '\t';
            continue;
        case 'u':
            break;
        default:
            goto fail;
        }

        if (jhex4(jp, &cp) != 0) {
            goto fail;
        }

        if (cp >= 0xd800 && cp < 0xdc00) {
            if (jp->end - jp->p < 6 || jp->p[0] != '\\' || jp->p[1] != 'u') {
                goto fail;
            }

            jp->p += 2;

            if (jhex4(jp, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff) {
                goto fail;
            }

            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        }

        if (cp < 0x80) {
            buf[n++] = (char) cp;

        } else if (cp < 0x800) {
            buf[n++] = (char) (0xc0 | (cp >> 6));
            buf[n++] = (char) (0x80 | (cp & 0x3f));

        } else if (cp < 0x10000) {
            buf[n++] = (char) (0xe0 | (cp >> 12));
            buf[n++] = (char) (0x80 | ((cp >> 6) & 0x3f));
            buf[n++] = (char) (0x80 | (cp & 0x3f));

        } else {
            buf[n++] = (char) (0xf0 | (cp >> 18));
            buf[n++] = (char) (0x80 | ((cp >> 12) & 0x3f));
            buf[n++] = (char) (0x80 | ((cp >> 6) & 0x3f));
            buf[n++] = (char) (0x80 | (cp & 0x3f));
        }
    }

    buf[n] = '\0';

    v = jnew(J_STR);
    v->s = buf;
    v->slen = n;

    return v;

fail:

    free(buf);
    jp->err = 1;

    return NULL;
}


static jv_t *
jparse_value(jparser_t *jp, int depth)
{
    jv_t        *v, *item, *key;
    const char  *start;

    if (depth > 64) {
        jp->err = 1;
        return NULL;
    }

    jskip_ws(jp);

    if (jp->p == jp->end) {
        jp->err = 1;
        return NULL;
    }

    if (*jp->p == '"') {
        return jparse_string(jp);
    }

    if (*jp->p == '[' || *jp->p == '{') {
        v = jnew(*jp->p == '[' ? J_ARR : J_OBJ);
        jp->p++;
        jskip_ws(jp);

        if (jp->p < jp->end && *jp->p == (v->type == J_ARR ? ']' : '}')) {
            jp->p++;
            return v;
        }

        for ( ;; ) {
            key = NULL;

            if (v->type == J_OBJ) {
                jskip_ws(jp);

                if (jp->p == jp->end || *jp->p != '"') {
                    goto fail;
                }

                key = jparse_string(jp);
                if (key == NULL) {
                    goto fail;
                }

                jskip_ws(jp);

                if (jp->p == jp->end || *jp->p != ':') {
                    jfree(key);
                    goto fail;
                }

                jp->p++;
            }

            item = jparse_value(jp, depth + 1);
            if (item == NULL) {
                jfree(key);
                goto fail;
            }

            jpush(v, item, key);
            jskip_ws(jp);

            if (jp->p == jp->end) {
                goto fail;
            }

            if (*jp->p == ',') {
                jp->p++;
                continue;
            }

            if (*jp->p == (v->type == J_ARR ? ']' : '}')) {
                jp->p++;
                return v;
            }

            goto fail;
        }
    }

    if (jp->end - jp->p >= 4 && memcmp(jp->p, "true", 4) == 0) {
        jp->p += 4;
        v = jnew(J_BOOL);
        v->b = 1;
        return v;
    }

    if (jp->end - jp->p >= 5 && memcmp(jp->p, "false", 5) == 0) {
        jp->p += 5;
        return jnew(J_BOOL);
    }

    if (jp->end - jp->p >= 4 && memcmp(jp->p, "null", 4) == 0) {
        jp->p += 4;
        return jnew(J_NULL);
    }

    start = jp->p;

    while (jp->p < jp->end && strchr("+-0123456789.eE", *jp->p) != NULL
           && *jp->p != '\0')
    {
        jp->p++;
    }

    if (jp->p == start) {
        jp->err = 1;
        return NULL;
    }

    v = jnew(J_NUM);
    v->slen = (size_t) (jp->p - start);
    v->s = malloc(v->slen + 1);
    memcpy(v->s, start, v->slen);
    v->s[v->slen] = '\0';

    return v;

fail:

    jfree(v);
    jp->err = 1;

    return NULL;
}


static const jv_t *
jget(const jv_t *obj, const char *key)
{
    size_t  i;

    if (obj == NULL || obj->type != J_OBJ) {
        return NULL;
    }

    for (i = 0; i < obj->n; i++) {
        if (obj->keys[i]->slen == strlen(key)
            && memcmp(obj->keys[i]->s, key, obj->keys[i]->slen) == 0)
        {
            return obj->items[i];
        }
    }

    return NULL;
}


static int
jtrue(const jv_t *v)
{
    return v != NULL && v->type == J_BOOL && v->b;
}


/* expected values to fwg_sf structures -------------------------------- */

#define SFJ_OK           0
#define SFJ_UNSUPPORTED  1      /* Date or Display String: skip */
#define SFJ_BADDATA     -1      /* the test file is not as expected */
#define SFJ_RANGE       -2      /* not representable: cannot serialize */


static int
sfj_base32(fwg_arena_t *a, const char *s, size_t len, fwg_str_t *out)
{
    static const char  alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    unsigned char     *dst;
    const char        *c;
    uint64_t           acc;
    size_t             i, n;
    int                bits;

    dst = fwg_arena_alloc(a, len + 1);
    if (dst == NULL) {
        return SFJ_BADDATA;
    }

    acc = 0;
    bits = 0;
    n = 0;

    for (i = 0; i < len && s[i] != '='; i++) {
        c = strchr(alpha, s[i]);
        if (c == NULL || s[i] == '\0') {
            return SFJ_BADDATA;
        }

        acc = (acc << 5) | (uint64_t) (c - alpha);
        bits += 5;

        if (bits >= 8) {
            bits -= 8;
            dst[n++] = (unsigned char) (acc >> bits);
            acc &= ((uint64_t) 1 << bits) - 1;
        }
    }

    out->data = (const char *) dst;
    out->len = n;

    return SFJ_OK;
}


/*
 * A JSON number literal to an integer, or to thousandths rounded half to
 * even (RFC 8941 section 4.1.5), read from its text so no binary floating
 * point gets in the way.
 */
static int
sfj_number(const jv_t *j, fwg_sf_bare_t *b)
{
    const char  *s;
    size_t       i, n, nint;
    int          neg, dec, round_up;
    int64_t      ip, fp;
    char         d4;
    int          rest_nonzero;

    s = j->s;
    n = j->slen;
    i = 0;
    neg = 0;

    if (i < n && s[i] == '-') {
        neg = 1;
        i++;
    }

    ip = 0;
    nint = 0;

    while (i < n && s[i] >= '0' && s[i] <= '9') {
        if (++nint > 17) {
            return SFJ_RANGE;
        }

        ip = ip * 10 + (s[i++] - '0');
    }

    if (nint == 0) {
        return SFJ_BADDATA;
    }

    dec = 0;
    fp = 0;
    d4 = '0';
    rest_nonzero = 0;

    if (i < n && s[i] == '.') {
        size_t  k;

        dec = 1;
        i++;

        for (k = 0; i < n && s[i] >= '0' && s[i] <= '9'; k++, i++) {
            if (k < 3) {
                fp = fp * 10 + (s[i] - '0');

            } else if (k == 3) {
                d4 = s[i];

            } else if (s[i] != '0') {
                rest_nonzero = 1;
            }
        }

        for ( ; k < 3; k++) {
            fp *= 10;
        }
    }

    if (i != n) {
        return SFJ_BADDATA;      /* exponents are not used by the suite */
    }

    memset(b, 0, sizeof(*b));

    if (!dec) {
        b->type = FWG_SF_INTEGER;
        b->integer = neg ? -ip : ip;
        return SFJ_OK;
    }

    if (ip > INT64_MAX / 1000 - 1) {
        return SFJ_RANGE;
    }

    b->type = FWG_SF_DECIMAL;
    b->decimal = ip * 1000 + fp;

    round_up = d4 > '5' || (d4 == '5' && (rest_nonzero || (fp & 1)));

    if (round_up) {
        b->decimal++;
    }

    if (neg) {
        b->decimal = -b->decimal;
    }

    return SFJ_OK;
}


static int
sfj_bare(fwg_arena_t *a, const jv_t *j, fwg_sf_bare_t *b)
{
    const jv_t  *t, *val;

    memset(b, 0, sizeof(*b));

    switch (j->type) {

    case J_NUM:
        return sfj_number(j, b);

    case J_STR:
        b->type = FWG_SF_STRING;
        b->str.data = j->s;
        b->str.len = j->slen;
        return SFJ_OK;

    case J_BOOL:
        b->type = FWG_SF_BOOLEAN;
        b->integer = j->b;
        return SFJ_OK;

    case J_OBJ:
        t = jget(j, "__type");
        val = jget(j, "value");

        if (t == NULL || t->type != J_STR || val == NULL) {
            return SFJ_BADDATA;
        }

        if ((t->slen == 4 && memcmp(t->s, "date", 4) == 0)
            || (t->slen == 13 && memcmp(t->s, "displaystring", 13) == 0))
        {
            return SFJ_UNSUPPORTED;
        }

        if (val->type != J_STR) {
            return SFJ_BADDATA;
        }

        if (t->slen == 5 && memcmp(t->s, "token", 5) == 0) {
            b->type = FWG_SF_TOKEN;
            b->str.data = val->s;
            b->str.len = val->slen;
            return SFJ_OK;
        }

        if (t->slen == 6 && memcmp(t->s, "binary", 6) == 0) {
            b->type = FWG_SF_BINARY;
            return sfj_base32(a, val->s, val->slen, &b->str);
        }

        return SFJ_BADDATA;

    default:
        return SFJ_BADDATA;
    }
}


static int
sfj_params(fwg_arena_t *a, const jv_t *j, fwg_sf_param_t **out, size_t *n)
{
    fwg_sf_param_t  *p;
    const jv_t      *e;
    size_t           i;
    int              rc;

    if (j->type != J_ARR) {
        return SFJ_BADDATA;
    }

    p = fwg_arena_alloc(a, (j->n + 1) * sizeof(fwg_sf_param_t));
    if (p == NULL) {
        return SFJ_BADDATA;
    }

    for (i = 0; i < j->n; i++) {
        e = j->items[i];

        if (e->type != J_ARR || e->n != 2 || e->items[0]->type != J_STR) {
            return SFJ_BADDATA;
        }

        p[i].key.data = e->items[0]->s;
        p[i].key.len = e->items[0]->slen;

        rc = sfj_bare(a, e->items[1], &p[i].value);
        if (rc != SFJ_OK) {
            return rc;
        }
    }

    *out = p;
    *n = j->n;

    return SFJ_OK;
}


/* [bare, params] or [[items...], params] (inner lists only when allowed) */
static int
sfj_item(fwg_arena_t *a, const jv_t *j, fwg_sf_item_t *it, int inner_ok)
{
    const jv_t  *v;
    size_t       i;
    int          rc;

    memset(it, 0, sizeof(*it));

    if (j->type != J_ARR || j->n != 2) {
        return SFJ_BADDATA;
    }

    v = j->items[0];

    if (v->type == J_ARR) {
        if (!inner_ok) {
            return SFJ_BADDATA;
        }

        it->bare.type = FWG_SF_INNER_LIST;
        it->nitems = v->n;
        it->items = fwg_arena_alloc(a, (v->n + 1) * sizeof(fwg_sf_item_t));
        if (it->items == NULL) {
            return SFJ_BADDATA;
        }

        for (i = 0; i < v->n; i++) {
            rc = sfj_item(a, v->items[i], &it->items[i], 0);
            if (rc != SFJ_OK) {
                return rc;
            }
        }

    } else {
        rc = sfj_bare(a, v, &it->bare);
        if (rc != SFJ_OK) {
            return rc;
        }
    }

    return sfj_params(a, j->items[1], &it->params, &it->nparams);
}


static int
sfj_members(fwg_arena_t *a, const jv_t *j, int dict, fwg_sf_member_t **out,
    size_t *n)
{
    fwg_sf_member_t  *m;
    const jv_t       *e;
    size_t            i;
    int               rc;

    if (j->type != J_ARR) {
        return SFJ_BADDATA;
    }

    m = fwg_arena_alloc(a, (j->n + 1) * sizeof(fwg_sf_member_t));
    if (m == NULL) {
        return SFJ_BADDATA;
    }

    for (i = 0; i < j->n; i++) {
        e = j->items[i];
        m[i].key.data = NULL;
        m[i].key.len = 0;

        if (dict) {
            if (e->type != J_ARR || e->n != 2 || e->items[0]->type != J_STR) {
                return SFJ_BADDATA;
            }

            m[i].key.data = e->items[0]->s;
            m[i].key.len = e->items[0]->slen;
            e = e->items[1];
        }

        rc = sfj_item(a, e, &m[i].value, 1);
        if (rc != SFJ_OK) {
            return rc;
        }
    }

    *out = m;
    *n = j->n;

    return SFJ_OK;
}


/* structural equality ------------------------------------------------- */

static int
sfj_bare_eq(const fwg_sf_bare_t *x, const fwg_sf_bare_t *y)
{
    if (x->type != y->type) {
        return 0;
    }

    switch (x->type) {
    case FWG_SF_INTEGER:
    case FWG_SF_BOOLEAN:
        return x->integer == y->integer;
    case FWG_SF_DECIMAL:
        return x->decimal == y->decimal;
    case FWG_SF_STRING:
    case FWG_SF_TOKEN:
    case FWG_SF_BINARY:
        return fwg_str_eqs(x->str, y->str);
    default:
        return 0;
    }
}


static int
sfj_params_eq(const fwg_sf_param_t *p, size_t np, const fwg_sf_param_t *q,
    size_t nq)
{
    size_t  i;

    if (np != nq) {
        return 0;
    }

    for (i = 0; i < np; i++) {
        if (!fwg_str_eqs(p[i].key, q[i].key)
            || !sfj_bare_eq(&p[i].value, &q[i].value))
        {
            return 0;
        }
    }

    return 1;
}


static int
sfj_item_eq(const fwg_sf_item_t *x, const fwg_sf_item_t *y)
{
    size_t  i;

    if (x->bare.type == FWG_SF_INNER_LIST || y->bare.type
                                             == FWG_SF_INNER_LIST)
    {
        if (x->bare.type != y->bare.type || x->nitems != y->nitems) {
            return 0;
        }

        for (i = 0; i < x->nitems; i++) {
            if (!sfj_item_eq(&x->items[i], &y->items[i])) {
                return 0;
            }
        }

    } else if (!sfj_bare_eq(&x->bare, &y->bare)) {
        return 0;
    }

    return sfj_params_eq(x->params, x->nparams, y->params, y->nparams);
}


static int
sfj_members_eq(const fwg_sf_member_t *x, size_t nx, const fwg_sf_member_t *y,
    size_t ny)
{
    size_t  i;

    if (nx != ny) {
        return 0;
    }

    for (i = 0; i < nx; i++) {
        if (!fwg_str_eqs(x[i].key, y[i].key)
            || !sfj_item_eq(&x[i].value, &y[i].value))
        {
            return 0;
        }
    }

    return 1;
}


/* does the value use a type this parser does not support? */
static int
sfj_uses_unsupported(const jv_t *j)
{
    const jv_t  *t;
    size_t       i;

    if (j == NULL) {
        return 0;
    }

    if (j->type == J_OBJ) {
        t = jget(j, "__type");

        if (t && t->type == J_STR
            && ((t->slen == 4 && memcmp(t->s, "date", 4) == 0)
                || (t->slen == 13 && memcmp(t->s, "displaystring", 13) == 0)))
        {
            return 1;
        }
    }

    for (i = 0; i < j->n; i++) {
        if (sfj_uses_unsupported(j->items[i])) {
            return 1;
        }
    }

    return 0;
}


/* the runner ---------------------------------------------------------- */

typedef enum {
    SFJ_LIST = 0,
    SFJ_DICT,
    SFJ_ITEM
} sfj_htype_t;

typedef struct {
    fwg_arena_t      arena;         /* for the parser */
    fwg_arena_t      build;         /* for expected values */
    char            *arena_buf;
    char            *build_buf;
    char            *out;
    unsigned long    run;
    unsigned long    passed;
    unsigned long    skipped;
} sfj_ctx_t;


/* serializes a parsed or built value; -1 when the serializer refuses */
static long
sfj_serialize(sfj_ctx_t *c, sfj_htype_t ht, const fwg_sf_member_t *m,
    size_t n, const fwg_sf_item_t *it)
{
    switch (ht) {
    case SFJ_LIST:
        return fwg_sf_serialize_list(c->out, SFJ_OUT_SIZE, m, n);
    case SFJ_DICT:
        return fwg_sf_serialize_dict(c->out, SFJ_OUT_SIZE, m, n);
    default:
        return fwg_sf_serialize_item(c->out, SFJ_OUT_SIZE, it);
    }
}


/* the expected serialization: canonical, or the raw lines */
static int
sfj_canonical(const jv_t *cs, char *buf, size_t size, size_t *len)
{
    size_t  i, n;

    n = 0;

    for (i = 0; i < cs->n; i++) {
        if (cs->items[i]->type != J_STR) {
            return -1;
        }

        if (n + cs->items[i]->slen + 2 > size) {
            return -1;
        }

        if (i > 0) {
            memcpy(buf + n, ", ", 2);
            n += 2;
        }

        memcpy(buf + n, cs->items[i]->s, cs->items[i]->slen);
        n += cs->items[i]->slen;
    }

    *len = n;

    return 0;
}


/* one case: 1 passed, 0 failed (with the reason in *why) */
static int
sfj_case(sfj_ctx_t *c, const jv_t *tc, const char **why)
{
    const jv_t       *raw, *ht_j, *exp, *canon;
    sfj_htype_t       ht;
    fwg_sf_member_t  *pm, *em;
    fwg_sf_item_t     pit, eit;
    size_t            pn, en, rawlen, clen;
    char             *rawbuf, *cbuf;
    const char       *err;
    long              slen;
    int               rc, must_fail, can_fail, ok;

    raw = jget(tc, "raw");
    ht_j = jget(tc, "header_type");
    exp = jget(tc, "expected");
    canon = jget(tc, "canonical");
    must_fail = jtrue(jget(tc, "must_fail"));
    can_fail = jtrue(jget(tc, "can_fail"));

    if (ht_j == NULL || ht_j->type != J_STR) {
        *why = "no header_type";
        return 0;
    }

    if (strcmp(ht_j->s, "list") == 0) {
        ht = SFJ_LIST;

    } else if (strcmp(ht_j->s, "dictionary") == 0) {
        ht = SFJ_DICT;

    } else if (strcmp(ht_j->s, "item") == 0) {
        ht = SFJ_ITEM;

    } else {
        *why = "unknown header_type";
        return 0;
    }

    c->arena.used = 0;
    c->build.used = 0;
    pm = NULL;
    em = NULL;
    pn = 0;
    en = 0;

    /* expected value, when there is one */
    rc = SFJ_OK;

    if (exp != NULL) {
        if (ht == SFJ_ITEM) {
            rc = sfj_item(&c->build, exp, &eit, 1);

        } else {
            rc = sfj_members(&c->build, exp, ht == SFJ_DICT, &em, &en);
        }

        if (rc == SFJ_BADDATA) {
            *why = "cannot read expected value";
            return 0;
        }
    }

    if (raw == NULL) {
        /* serialization test */
        if (exp == NULL) {
            *why = "neither raw nor expected";
            return 0;
        }

        slen = (rc == SFJ_OK) ? sfj_serialize(c, ht, em, en, &eit) : -1;

        if (must_fail) {
            *why = "serializer accepted a must_fail value";
            return slen < 0;
        }

        if (slen < 0) {
            *why = "serializer refused";
            return 0;
        }

        if (canon == NULL || canon->type != J_ARR) {
            *why = "no canonical";
            return 0;
        }

        cbuf = c->out + SFJ_OUT_SIZE / 2;

        if (sfj_canonical(canon, cbuf, SFJ_OUT_SIZE / 2, &clen) != 0
            || (size_t) slen > SFJ_OUT_SIZE / 2)
        {
            *why = "canonical too large";
            return 0;
        }

        *why = "serialization differs from canonical";
        return (size_t) slen == clen && memcmp(c->out, cbuf, clen) == 0;
    }

    /* parsing test: the field lines joined with ", " */
    if (raw->type != J_ARR) {
        *why = "raw is not an array";
        return 0;
    }

    rawbuf = malloc(SFJ_OUT_SIZE);
    if (rawbuf == NULL || sfj_canonical(raw, rawbuf, SFJ_OUT_SIZE, &rawlen)) {
        free(rawbuf);
        *why = "raw too large";
        return 0;
    }

    /* an exact-size copy, so ASan catches any read past the end */
    {
        char  *exact;

        exact = malloc(rawlen ? rawlen : 1);
        memcpy(exact, rawbuf, rawlen);

        if (ht == SFJ_ITEM) {
            rc = fwg_sf_parse_item(exact, rawlen, &c->arena, &pit, &err);

        } else if (ht == SFJ_LIST) {
            rc = fwg_sf_parse_list(exact, rawlen, &c->arena, &pm, &pn, &err);

        } else {
            rc = fwg_sf_parse_dict(exact, rawlen, &c->arena, &pm, &pn, &err);
        }

        if (rc != FWG_SF_OK) {
            free(exact);
            free(rawbuf);

            if (must_fail || can_fail) {
                return 1;
            }

            *why = err ? err : "parse failed without a message";
            return 0;
        }

        if (must_fail) {
            free(exact);
            free(rawbuf);
            *why = "parser accepted a must_fail value";
            return 0;
        }

        if (exp == NULL) {
            free(exact);
            free(rawbuf);
            *why = "no expected value";
            return 0;
        }

        ok = (ht == SFJ_ITEM) ? sfj_item_eq(&pit, &eit)
                              : sfj_members_eq(pm, pn, em, en);

        if (!ok) {
            free(exact);
            free(rawbuf);
            *why = "parsed value differs from expected";
            return 0;
        }

        /* the parsed value serializes to the canonical form */
        slen = sfj_serialize(c, ht, pm, pn, &pit);
        free(exact);
    }

    if (canon != NULL) {
        if (canon->type != J_ARR
            || sfj_canonical(canon, rawbuf, SFJ_OUT_SIZE, &rawlen) != 0)
        {
            free(rawbuf);
            *why = "bad canonical";
            return 0;
        }
    }

    ok = slen >= 0 && (size_t) slen == rawlen
         && memcmp(c->out, rawbuf, rawlen) == 0;

    free(rawbuf);

    *why = "serialization differs from canonical";

    return ok;
}


static char *
sfj_read_file(const char *path, size_t *len)
{
    FILE    *f;
    char    *buf;
    size_t   cap, n, r;

    f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }

    cap = 65536;
    n = 0;
    buf = malloc(cap);

    while ((r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;

        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            if (buf == NULL) {
                abort();
            }
        }
    }

    fclose(f);
    *len = n;

    return buf;
}


static void
sfj_file(sfj_ctx_t *c, const char *dir, const char *name)
{
    char         path[4096];
    char        *text;
    size_t       len = 0, i;
    jparser_t    jp;
    jv_t        *root;
    const jv_t  *tc, *nm;
    const char  *why;
    int          ok;

    snprintf(path, sizeof(path), "%s/%s", dir, name);

    text = sfj_read_file(path, &len);
    if (!FWG_CHECK_MSG(text != NULL, "cannot read %s", path)) {
        return;
    }

    jp.p = text;
    jp.end = text + len;
    jp.err = 0;

    root = jparse_value(&jp, 0);

    if (!FWG_CHECK_MSG(root != NULL && root->type == J_ARR,
                       "cannot parse JSON in %s", path))
    {
        jfree(root);
        free(text);
        return;
    }

    for (i = 0; i < root->n; i++) {
        tc = root->items[i];
        nm = jget(tc, "name");

        if (sfj_uses_unsupported(jget(tc, "expected"))) {
            c->skipped++;
            continue;
        }

        c->run++;
        why = "?";

        /* the reason is only known after the case has run */
        ok = sfj_case(c, tc, &why);

        if (FWG_CHECK_MSG(ok, "%s: \"%s\": %s", name,
                          nm && nm->type == J_STR ? nm->s : "?", why))
        {
            c->passed++;
        }
    }

    jfree(root);
    free(text);
}


void
suite_sf_json(void)
{
    static const char  *files[] = {
        "binary.json", "boolean.json", "dictionary.json", "examples.json",
        "item.json", "key-generated.json", "large-generated.json",
        "list.json", "listlist.json", "number-generated.json",
        "number.json", "param-dict.json", "param-list.json",
        "param-listlist.json", "string-generated.json", "string.json",
        "token-generated.json", "token.json",
        "serialisation-tests/key-generated.json",
        "serialisation-tests/number.json",
        "serialisation-tests/string-generated.json",
        "serialisation-tests/token-generated.json"
    };

    sfj_ctx_t    c;
    const char  *dir;
    size_t       i;

    unit_suite("sf_json");

    dir = getenv("FWG_SF_TESTS");
    if (dir == NULL || dir[0] == '\0') {
        dir = "t/data/sf-tests";
    }

    memset(&c, 0, sizeof(c));
    c.arena_buf = malloc(SFJ_ARENA_SIZE);
    c.build_buf = malloc(SFJ_ARENA_SIZE);
    c.out = malloc(SFJ_OUT_SIZE);

    fwg_arena_init(&c.arena, c.arena_buf, SFJ_ARENA_SIZE);
    fwg_arena_init(&c.build, c.build_buf, SFJ_ARENA_SIZE);

    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        sfj_file(&c, dir, files[i]);
    }

    printf("sf-tests: %lu cases run, %lu passed (%lu skipped: Date or "
           "Display String)\n", c.run, c.passed, c.skipped);

    free(c.arena_buf);
    free(c.build_buf);
    free(c.out);
}
