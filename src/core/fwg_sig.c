/*
 * RFC 9421 HTTP Message Signatures: Signature-Input parsing, component
 * values (sections 2.1 and 2.2) and the signature base (section 2.5).
 *
 * Values that need no rewriting point into the message; everything else
 * is written into the caller's arena.  Serializers that only learn their
 * length as they go write into the arena's free tail first and are then
 * committed with an allocation of the exact size.
 */

#include <string.h>

#include "fwg_sig.h"
#include "fwg_b64.h"


static const char *fwg_alg_names[FWG_ALG__COUNT] = {
    "none", "ed25519", "ecdsa-p256-sha256", "hmac-sha256"
};


/* structured fields whose type RFC 9421 section 2.1.1 needs known */
static const char *fwg_sf_dict_fields[] = {
    "signature-input", "signature", "accept-signature", "content-digest",
    "repr-digest", "want-content-digest", "want-repr-digest", "priority",
    NULL
};

static const char *fwg_sf_list_fields[] = {
    "cache-status", "proxy-status", "accept-ch", NULL
};


fwg_alg_t
fwg_alg_parse(const char *s, size_t len)
{
    int  i;

    if (s == NULL) {
        return FWG_ALG_NONE;
    }

    for (i = 1; i < FWG_ALG__COUNT; i++) {
        if (strlen(fwg_alg_names[i]) == len
            && memcmp(fwg_alg_names[i], s, len) == 0)
        {
            return (fwg_alg_t) i;
        }
    }

    return FWG_ALG_NONE;
}


const char *
fwg_alg_name(fwg_alg_t alg)
{
    if ((int) alg <= 0 || alg >= FWG_ALG__COUNT) {
        return fwg_alg_names[0];
    }

    return fwg_alg_names[alg];
}


/* small helpers ------------------------------------------------------- */

static int
fwg_sig_is_ws(char c)
{
    return c == ' ' || c == '\t';
}


static fwg_str_t
fwg_sig_trim(fwg_str_t v)
{
    if (v.data == NULL) {
        v.len = 0;
        return v;
    }

    while (v.len && fwg_sig_is_ws(v.data[0])) {
        v.data++;
        v.len--;
    }

    while (v.len && fwg_sig_is_ws(v.data[v.len - 1])) {
        v.len--;
    }

    return v;
}


static char
fwg_sig_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char) (c | 0x20) : c;
}


/* field name match: n is lowercase already */
static int
fwg_sig_name_eq(fwg_str_t field, const char *n, size_t len)
{
    size_t  i;

    if (field.len != len || field.data == NULL) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (fwg_sig_lower(field.data[i]) != n[i]) {
            return 0;
        }
    }

    return 1;
}


static int
fwg_sig_has_newline(fwg_str_t v)
{
    size_t  i;

    for (i = 0; i < v.len; i++) {
        if (v.data[i] == '\n' || v.data[i] == '\r') {
            return 1;
        }
    }

    return 0;
}


/* the arena's free tail, for writers that learn their length as they go */
static char *
fwg_sig_tail(fwg_arena_t *a, size_t *avail)
{
    if (a->used >= a->size) {
        *avail = 0;
        return a->buf + a->size;
    }

    *avail = a->size - a->used;
    return a->buf + a->used;
}


/* turns n bytes written at the tail into an allocation */
static char *
fwg_sig_commit(fwg_arena_t *a, const char *tail, size_t n)
{
    char  *p;

    if (n == 0) {
        return (char *) "";
    }

    p = fwg_arena_alloc(a, n);
    if (p == NULL) {
        return NULL;
    }

    if (p != tail) {
        memmove(p, tail, n);
    }

    return p;
}


static int
fwg_sig_serialize_item(fwg_arena_t *a, const fwg_sf_item_t *it,
    fwg_str_t *out)
{
    char    *t;
    long     n;
    size_t   avail;

    t = fwg_sig_tail(a, &avail);
    n = fwg_sf_serialize_item(t, avail, it);
    if (n < 0) {
        return -1;
    }

    out->data = fwg_sig_commit(a, t, (size_t) n);
    out->len = (size_t) n;

    return out->data ? 0 : -1;
}


/*
 * Combines the values of every field line named name (lowercase), each
 * stripped of leading and trailing whitespace, with ", " (RFC 9110 section
 * 5.3, RFC 9421 section 2.1).  Returns the number of lines, 0 when absent,
 * -1 when the result exceeds max or the arena.
 */
int
fwg_field_combine(const fwg_msg_t *msg, const char *name, size_t nlen,
    size_t max, fwg_arena_t *a, fwg_str_t *out)
{
    int         count;
    char       *p;
    size_t      i, total;
    fwg_str_t   v, first;

    count = 0;
    total = 0;
    first.data = NULL;
    first.len = 0;

    for (i = 0; i < msg->nfields; i++) {
        if (!fwg_sig_name_eq(msg->fields[i].name, name, nlen)) {
            continue;
        }

        v = fwg_sig_trim(msg->fields[i].value);

        if (count == 0) {
            first = v;
        } else {
            total += 2;
        }

        total += v.len;
        count++;

        if (total > max) {
            return -1;
        }
    }

    if (count <= 1) {
        *out = first;
        if (out->data == NULL) {
            out->data = "";
        }
        return count;
    }

    p = fwg_arena_alloc(a, total);
    if (p == NULL) {
        return -1;
    }

    out->data = p;
    out->len = total;
    count = 0;

    for (i = 0; i < msg->nfields; i++) {
        if (!fwg_sig_name_eq(msg->fields[i].name, name, nlen)) {
            continue;
        }

        v = fwg_sig_trim(msg->fields[i].value);

        if (count++) {
            *p++ = ',';
            *p++ = ' ';
        }

        if (v.len) {
            memcpy(p, v.data, v.len);
            p += v.len;
        }
    }

    return count;
}


/* component identifiers ---------------------------------------------- */

static int
fwg_sig_bare_eq(const fwg_sf_bare_t *x, const fwg_sf_bare_t *y)
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


/* same name and the same set of parameters, in any order */
static int
fwg_sig_comp_eq(const fwg_sf_item_t *x, const fwg_sf_item_t *y)
{
    size_t  i, j;

    if (!fwg_str_eqs(x->bare.str, y->bare.str)
        || x->nparams != y->nparams)
    {
        return 0;
    }

    for (i = 0; i < x->nparams; i++) {
        for (j = 0; j < y->nparams; j++) {
            if (fwg_str_eqs(x->params[i].key, y->params[j].key)) {
                break;
            }
        }

        if (j == y->nparams
            || !fwg_sig_bare_eq(&x->params[i].value, &y->params[j].value))
        {
            return 0;
        }
    }

    return 1;
}


static int
fwg_sig_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
        return 1;
    }

    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}


/* syntax of one covered component: a lowercase name in a String */
static const char *
fwg_sig_comp_check(const fwg_sf_item_t *c)
{
    size_t       i;
    fwg_str_t    n;

    if (c->bare.type != FWG_SF_STRING) {
        return "a covered component is not a string";
    }

    n = c->bare.str;

    if (n.len == 0 || n.data == NULL) {
        return "empty component name";
    }

    if (n.data[0] == '@') {
        if (n.len < 2) {
            return "bad derived component name";
        }

        for (i = 1; i < n.len; i++) {
            if (!((n.data[i] >= 'a' && n.data[i] <= 'z')
                  || n.data[i] == '-'))
            {
                return "bad derived component name";
            }
        }

        return NULL;
    }

    for (i = 0; i < n.len; i++) {
        if (!fwg_sig_tchar((unsigned char) n.data[i])) {
            return "component name is not a lowercase field name";
        }
    }

    return NULL;
}


/* parsing ------------------------------------------------------------- */

static int
fwg_sig_param_int(const fwg_sf_item_t *inner, const char *key,
    int64_t *v, int *has, const char **err)
{
    const fwg_sf_bare_t  *p;

    p = fwg_sf_param(inner, key);
    if (p == NULL) {
        return 0;
    }

    if (p->type != FWG_SF_INTEGER) {
        *err = "signature parameter is not an integer";
        return -1;
    }

    *v = p->integer;
    *has = 1;

    return 0;
}


static int
fwg_sig_param_str(const fwg_sf_item_t *inner, const char *key,
    fwg_str_t *v, const char **err)
{
    const fwg_sf_bare_t  *p;

    p = fwg_sf_param(inner, key);
    if (p == NULL) {
        return 0;
    }

    if (p->type != FWG_SF_STRING) {
        *err = "signature parameter is not a string";
        return -1;
    }

    *v = p->str;
    if (v->data == NULL) {
        v->data = "";
    }

    return 0;
}


int
fwg_sig_parse(const fwg_msg_t *msg, fwg_str_t label, fwg_arena_t *a,
    fwg_sig_input_t *out, const char **err)
{
    int                     rc, has;
    size_t                  i, j, nin, nsig;
    fwg_str_t               si, sv;
    fwg_str_t               fw = fwg_str_lit("fw");
    const char             *e;
    fwg_sf_item_t          *inner;
    fwg_sf_member_t        *min, *msig;
    const fwg_sf_member_t  *m, *s;

    memset(out, 0, sizeof(*out));
    *err = NULL;

    rc = fwg_field_combine(msg, "signature-input",
                           sizeof("signature-input") - 1, FWG_SIG_MAX_FIELD, a,
                           &si);
    if (rc < 0) {
        *err = "Signature-Input too large";
        return FWG_SIG_EMALFORMED;
    }

    if (rc == 0) {
        *err = "no Signature-Input";
        return FWG_SIG_EMISSING;
    }

    rc = fwg_field_combine(msg, "signature", sizeof("signature") - 1,
                         FWG_SIG_MAX_FIELD, a, &sv);
    if (rc < 0) {
        *err = "Signature too large";
        return FWG_SIG_EMALFORMED;
    }

    if (rc == 0) {
        *err = "no Signature";
        return FWG_SIG_EMISSING;
    }

    if (fwg_sf_parse_dict(si.data, si.len, a, &min, &nin, &e) != FWG_SF_OK) {
        *err = "Signature-Input is not a dictionary";
        return FWG_SIG_EMALFORMED;
    }

    if (fwg_sf_parse_dict(sv.data, sv.len, a, &msig, &nsig, &e)
        != FWG_SF_OK)
    {
        *err = "Signature is not a dictionary";
        return FWG_SIG_EMALFORMED;
    }

    if (nin == 0) {
        *err = "Signature-Input is empty";
        return FWG_SIG_EMALFORMED;
    }

    /* the configured label; else the only one; else "fw" */

    if (label.len) {
        m = fwg_sf_dict_get(min, nin, label);

    } else if (nin == 1) {
        m = &min[0];

    } else {
        m = fwg_sf_dict_get(min, nin, fw);
    }

    if (m == NULL) {
        *err = "signature label not in Signature-Input";
        return FWG_SIG_EMALFORMED;
    }

    s = fwg_sf_dict_get(msig, nsig, m->key);
    if (s == NULL) {
        *err = "signature label not in Signature";
        return FWG_SIG_EMALFORMED;
    }

    inner = (fwg_sf_item_t *) &m->value;

    if (inner->bare.type != FWG_SF_INNER_LIST) {
        *err = "signature input is not an inner list";
        return FWG_SIG_EMALFORMED;
    }

    if (inner->nitems > FWG_SIG_MAX_COMPONENTS) {
        *err = "too many covered components";
        return FWG_SIG_EMALFORMED;
    }

    for (i = 0; i < inner->nitems; i++) {
        e = fwg_sig_comp_check(&inner->items[i]);
        if (e) {
            *err = e;
            return FWG_SIG_EMALFORMED;
        }

        for (j = 0; j < i; j++) {
            if (fwg_sig_comp_eq(&inner->items[i], &inner->items[j])) {
                *err = "a component is covered twice";
                return FWG_SIG_EMALFORMED;
            }
        }
    }

    has = 0;
    if (fwg_sig_param_int(inner, "created", &out->created, &has, err) != 0) {
        return FWG_SIG_EMALFORMED;
    }
    out->has_created = has ? 1 : 0;

    has = 0;
    if (fwg_sig_param_int(inner, "expires", &out->expires, &has, err) != 0) {
        return FWG_SIG_EMALFORMED;
    }
    out->has_expires = has ? 1 : 0;

    if (fwg_sig_param_str(inner, "keyid", &out->keyid, err) != 0
        || fwg_sig_param_str(inner, "alg", &out->alg, err) != 0
        || fwg_sig_param_str(inner, "nonce", &out->nonce, err) != 0
        || fwg_sig_param_str(inner, "tag", &out->tag, err) != 0)
    {
        return FWG_SIG_EMALFORMED;
    }

    /* section 2.3: the value as the signer serialized it */

    if (fwg_sig_serialize_item(a, inner, &out->params) != 0) {
        *err = "signature parameters cannot be serialized";
        return FWG_SIG_EMALFORMED;
    }

    if (s->value.bare.type != FWG_SF_BINARY) {
        *err = "signature is not a byte sequence";
        return FWG_SIG_EMALFORMED;
    }

    if (s->value.bare.str.len == 0
        || s->value.bare.str.len > FWG_SIG_MAX_SIG)
    {
        *err = "bad signature length";
        return FWG_SIG_EMALFORMED;
    }

    out->sig = fwg_arena_alloc(a, s->value.bare.str.len);
    if (out->sig == NULL) {
        *err = "signature too large";
        return FWG_SIG_EMALFORMED;
    }

    memcpy(out->sig, s->value.bare.str.data, s->value.bare.str.len);
    out->siglen = s->value.bare.str.len;

    out->label = m->key;
    out->inner = inner;

    return FWG_SIG_OK;
}


/*
 * A required entry is either a full identifier in its serialized form
 * ("\"@query-param\";name=\"id\"") compared exactly, or a bare name
 * ("@method", "x-device-model") met by that component with no parameters
 * or with only sf or bs, which still cover the whole value.
 */
int
fwg_sig_missing(const fwg_sig_input_t *in, const fwg_str_t *required,
    size_t nrequired)
{
    char                  buf[256];
    long                  n;
    size_t                i, j, k;
    fwg_str_t             r, name;
    const fwg_sf_item_t  *c;

    for (i = 0; i < nrequired; i++) {
        r = required[i];

        if (in == NULL || in->inner == NULL) {
            return (int) i;
        }

        for (j = 0; j < in->inner->nitems; j++) {
            c = &in->inner->items[j];

            if (r.len && r.data[0] == '"') {
                n = fwg_sf_serialize_item(buf, sizeof(buf), c);
                if (n >= 0 && (size_t) n == r.len
                    && memcmp(buf, r.data, r.len) == 0)
                {
                    break;
                }

                continue;
            }

            name = c->bare.str;
            if (name.len != r.len) {
                continue;
            }

            /* lowercase already: fwg_sig.h */

            if (memcmp(name.data, r.data, r.len) != 0) {
                continue;
            }

            for (k = 0; k < c->nparams; k++) {
                if (!fwg_str_eq(c->params[k].key, "sf")
                    && !fwg_str_eq(c->params[k].key, "bs"))
                {
                    break;
                }
            }

            if (k == c->nparams) {
                break;
            }
        }

        if (j == in->inner->nitems) {
            return (int) i;
        }
    }

    return -1;
}


/* derived components (section 2.2) ----------------------------------- */

static fwg_str_t
fwg_sig_path(const fwg_msg_t *msg)
{
    fwg_str_t  slash = fwg_str_lit("/");

    return (msg->path.len && msg->path.data) ? msg->path : slash;
}


static int
fwg_sig_lowercase(fwg_arena_t *a, fwg_str_t in, fwg_str_t *out)
{
    char    *p;
    size_t   i;

    for (i = 0; i < in.len; i++) {
        if (in.data[i] >= 'A' && in.data[i] <= 'Z') {
            break;
        }
    }

    if (i == in.len) {
        *out = in;
        return 0;
    }

    p = fwg_arena_alloc(a, in.len);
    if (p == NULL) {
        return -1;
    }

    for (i = 0; i < in.len; i++) {
        p[i] = fwg_sig_lower(in.data[i]);
    }

    out->data = p;
    out->len = in.len;

    return 0;
}


/* host lowercased, the scheme's default port dropped (RFC 9110 4.2.3) */
static int
fwg_sig_authority(const fwg_msg_t *msg, fwg_str_t scheme, fwg_arena_t *a,
    fwg_str_t *out)
{
    fwg_str_t  v;

    v = fwg_sig_trim(msg->authority);
    if (v.len == 0) {
        return -1;
    }

    if (fwg_sig_lowercase(a, v, out) != 0) {
        return -1;
    }

    if (fwg_str_eq(scheme, "https") && out->len > 4
        && memcmp(out->data + out->len - 4, ":443", 4) == 0)
    {
        out->len -= 4;

    } else if (fwg_str_eq(scheme, "http") && out->len > 3
               && memcmp(out->data + out->len - 3, ":80", 3) == 0)
    {
        out->len -= 3;
    }

    return 0;
}


/* joins up to four pieces into the arena */
static int
fwg_sig_join(fwg_arena_t *a, fwg_str_t *out, fwg_str_t p0, fwg_str_t p1,
    fwg_str_t p2, fwg_str_t p3)
{
    char       *d;
    size_t      i, total;
    fwg_str_t   p[4];

    p[0] = p0;
    p[1] = p1;
    p[2] = p2;
    p[3] = p3;
    total = 0;

    for (i = 0; i < 4; i++) {
        total += p[i].len;
    }

    if (total == 0) {
        out->data = "";
        out->len = 0;
        return 0;
    }

    d = fwg_arena_alloc(a, total);
    if (d == NULL) {
        return -1;
    }

    out->data = d;
    out->len = total;

    for (i = 0; i < 4; i++) {
        if (p[i].len) {
            memcpy(d, p[i].data, p[i].len);
            d += p[i].len;
        }
    }

    return 0;
}


static int
fwg_sig_hex(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c |= 0x20;

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}


/*
 * One byte of application/x-www-form-urlencoded parsing (WHATWG URL 5.1):
 * '+' is a space, %XX a byte, a '%' without two hex digits stays as is.
 */
static unsigned char
fwg_sig_form_next(const char *s, size_t len, size_t *i)
{
    int            h, l;
    unsigned char  c;

    c = (unsigned char) s[*i];
    (*i)++;

    if (c == '+') {
        return ' ';
    }

    if (c == '%' && *i + 2 <= len) {
        h = fwg_sig_hex((unsigned char) s[*i]);
        l = fwg_sig_hex((unsigned char) s[*i + 1]);

        if (h >= 0 && l >= 0) {
            *i += 2;
            return (unsigned char) (h << 4 | l);
        }
    }

    return c;
}


/*
 * "percent-encode after encoding" with the urlencoded percent-encode set
 * and no space-as-plus, as RFC 9421 section 2.2.8's examples show: only
 * ASCII alphanumerics and *-._ stay as they are.
 */
static size_t
fwg_sig_form_encode(unsigned char c, char *enc)
{
    static const char  hex[] = "0123456789ABCDEF";

    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9')
        || c == '*' || c == '-' || c == '.' || c == '_')
    {
        enc[0] = (char) c;
        return 1;
    }

    enc[0] = '%';
    enc[1] = hex[c >> 4];
    enc[2] = hex[c & 0x0f];

    return 3;
}


/* does encode(decode(s)) equal want?  needs no memory */
static int
fwg_sig_form_eq(const char *s, size_t len, fwg_str_t want)
{
    char    enc[3];
    size_t  i, o, n;

    i = 0;
    o = 0;

    while (i < len) {
        n = fwg_sig_form_encode(fwg_sig_form_next(s, len, &i), enc);

        if (o + n > want.len || memcmp(want.data + o, enc, n) != 0) {
            return 0;
        }

        o += n;
    }

    return o == want.len;
}


static int
fwg_sig_form_value(const char *s, size_t len, fwg_arena_t *a,
    fwg_str_t *out)
{
    char    enc[3], *d;
    size_t  i, total;

    i = 0;
    total = 0;

    while (i < len) {
        total += fwg_sig_form_encode(fwg_sig_form_next(s, len, &i), enc);
    }

    if (total == 0) {
        out->data = "";
        out->len = 0;
        return 0;
    }

    if (total > FWG_SIG_MAX_BASE) {
        return -1;
    }

    d = fwg_arena_alloc(a, total);
    if (d == NULL) {
        return -1;
    }

    out->data = d;
    out->len = total;
    i = 0;

    while (i < len) {
        d += fwg_sig_form_encode(fwg_sig_form_next(s, len, &i), d);
    }

    return 0;
}


/*
 * @query-param (section 2.2.8): the one parameter whose encoded name is
 * name; absent or repeated is an error.
 */
static int
fwg_sig_query_param(const fwg_msg_t *msg, fwg_str_t name, fwg_arena_t *a,
    fwg_str_t *value, const char **err)
{
    int          found;
    size_t       i, start, end, eq, qlen;
    const char  *q;
    fwg_str_t    hit;

    found = 0;
    hit.data = NULL;
    hit.len = 0;

    q = msg->query.data;
    qlen = (msg->has_query && q) ? msg->query.len : 0;

    for (start = 0; start < qlen; start = end + 1) {
        for (end = start; end < qlen && q[end] != '&'; end++) {
            /* void */
        }

        if (end == start) {
            continue;
        }

        for (eq = start; eq < end && q[eq] != '='; eq++) {
            /* void */
        }

        if (!fwg_sig_form_eq(q + start, eq - start, name)) {
            continue;
        }

        if (found++) {
            *err = "query parameter occurs more than once";
            return FWG_SIG_ECOMPONENT;
        }

        i = (eq < end) ? eq + 1 : end;
        hit.data = q + i;
        hit.len = end - i;
    }

    if (!found) {
        *err = "query parameter absent";
        return FWG_SIG_ECOMPONENT;
    }

    if (fwg_sig_form_value(hit.data, hit.len, a, value) != 0) {
        *err = "query parameter too large";
        return FWG_SIG_ECOMPONENT;
    }

    return FWG_SIG_OK;
}


/*
 * The derived components (RFC 9421 section 2.2), found by length and
 * bytes once: the chain of string comparisons this replaced cost more
 * than the rest of an @authority.
 */

typedef enum {
    FWG_DC_NONE = 0,
    FWG_DC_QUERY_PARAM,
    FWG_DC_METHOD,
    FWG_DC_PATH,
    FWG_DC_QUERY,
    FWG_DC_REQUEST_TARGET,
    FWG_DC_SCHEME,
    FWG_DC_TARGET_URI,
    FWG_DC_AUTHORITY,
    FWG_DC_STATUS,
    FWG_DC_SIGNATURE_PARAMS
} fwg_sig_dc_t;

typedef struct {
    const char    *name;
    size_t         len;
    fwg_sig_dc_t   dc;
} fwg_sig_dcdef_t;

#define fwg_dc(name, dc)  { name, sizeof(name) - 1, dc }

static const fwg_sig_dcdef_t  fwg_sig_dcdefs[] = {
    fwg_dc("@method", FWG_DC_METHOD),
    fwg_dc("@path", FWG_DC_PATH),
    fwg_dc("@authority", FWG_DC_AUTHORITY),
    fwg_dc("@target-uri", FWG_DC_TARGET_URI),
    fwg_dc("@query", FWG_DC_QUERY),
    fwg_dc("@query-param", FWG_DC_QUERY_PARAM),
    fwg_dc("@request-target", FWG_DC_REQUEST_TARGET),
    fwg_dc("@scheme", FWG_DC_SCHEME),
    fwg_dc("@status", FWG_DC_STATUS),
    fwg_dc("@signature-params", FWG_DC_SIGNATURE_PARAMS),
    { NULL, 0, FWG_DC_NONE }
};


static fwg_sig_dc_t
fwg_sig_dc(fwg_str_t n)
{
    const fwg_sig_dcdef_t  *d;

    for (d = fwg_sig_dcdefs; d->name; d++) {
        if (n.len == d->len && memcmp(n.data, d->name, n.len) == 0) {
            return d->dc;
        }
    }

    return FWG_DC_NONE;
}


static int
fwg_sig_derived(const fwg_msg_t *msg, const fwg_sf_item_t *comp,
    fwg_arena_t *a, fwg_str_t *value, const char **err)
{
    fwg_str_t             n, v, q, scheme, pre;
    fwg_sig_dc_t          dc;
    fwg_str_t             none = fwg_null_str;
    fwg_str_t             qmark = fwg_str_lit("?");
    fwg_str_t             sep = fwg_str_lit("://");
    const fwg_sf_bare_t  *p;

    n = comp->bare.str;
    dc = fwg_sig_dc(n);

    if (dc == FWG_DC_QUERY_PARAM) {
        p = fwg_sf_param(comp, "name");
        if (p == NULL || p->type != FWG_SF_STRING || comp->nparams != 1) {
            *err = "@query-param needs one name parameter";
            return FWG_SIG_ECOMPONENT;
        }

        return fwg_sig_query_param(msg, p->str, a, value, err);
    }

    if (comp->nparams) {
        *err = "unsupported parameter on a derived component";
        return FWG_SIG_ECOMPONENT;
    }

    q.data = msg->query.data;
    q.len = msg->query.data ? msg->query.len : 0;

    if (dc == FWG_DC_METHOD) {
        if (msg->method.len == 0 || msg->method.data == NULL) {
            *err = "no method";
            return FWG_SIG_ECOMPONENT;
        }

        *value = msg->method;
        return FWG_SIG_OK;
    }

    if (dc == FWG_DC_PATH) {
        *value = fwg_sig_path(msg);
        return FWG_SIG_OK;
    }

    if (dc == FWG_DC_QUERY) {
        /* "?" alone when the query is absent or empty (section 2.2.7) */
        if (fwg_sig_join(a, value, qmark, q, none, none) != 0) {
            *err = "out of memory";
            return FWG_SIG_ECOMPONENT;
        }

        return FWG_SIG_OK;
    }

    if (dc == FWG_DC_REQUEST_TARGET) {
        if (fwg_sig_join(a, value, fwg_sig_path(msg),
                         msg->has_query ? qmark : none,
                         msg->has_query ? q : none, none) != 0)
        {
            *err = "out of memory";
            return FWG_SIG_ECOMPONENT;
        }

        return FWG_SIG_OK;
    }

    if (dc == FWG_DC_SCHEME || dc == FWG_DC_TARGET_URI
        || dc == FWG_DC_AUTHORITY)
    {
        if (msg->scheme.len == 0 || msg->scheme.data == NULL
            || fwg_sig_lowercase(a, msg->scheme, &scheme) != 0)
        {
            *err = "no scheme";
            return FWG_SIG_ECOMPONENT;
        }

        if (dc == FWG_DC_SCHEME) {
            *value = scheme;
            return FWG_SIG_OK;
        }

        if (fwg_sig_authority(msg, scheme, a, &v) != 0) {
            *err = "no authority";
            return FWG_SIG_ECOMPONENT;
        }

        if (dc == FWG_DC_AUTHORITY) {
            *value = v;
            return FWG_SIG_OK;
        }

        if (fwg_sig_join(a, &pre, scheme, sep, v, none) != 0
            || fwg_sig_join(a, value, pre, fwg_sig_path(msg),
                            msg->has_query ? qmark : none,
                            msg->has_query ? q : none) != 0)
        {
            *err = "out of memory";
            return FWG_SIG_ECOMPONENT;
        }

        return FWG_SIG_OK;
    }

    if (dc == FWG_DC_STATUS) {
        *err = "@status is for responses";
        return FWG_SIG_ECOMPONENT;
    }

    if (dc == FWG_DC_SIGNATURE_PARAMS) {
        *err = "@signature-params cannot be covered";
        return FWG_SIG_ECOMPONENT;
    }

    *err = "unknown derived component";
    return FWG_SIG_ECOMPONENT;
}


/* header fields (section 2.1) ----------------------------------------- */

static int
fwg_sig_in_list(fwg_str_t name, const char **list)
{
    size_t  i;

    for (i = 0; list[i]; i++) {
        if (fwg_str_eq(name, list[i])) {
            return 1;
        }
    }

    return 0;
}


/* ;sf: the value parsed by its type and serialized again (2.1.1) */
static int
fwg_sig_field_sf(fwg_str_t name, fwg_str_t v, fwg_arena_t *a,
    fwg_str_t *out)
{
    int               list;
    long              n;
    char             *t;
    size_t            avail, saved, nm;
    const char       *e;
    fwg_sf_item_t     item;
    fwg_sf_member_t  *m;

    saved = a->used;
    list = fwg_sig_in_list(name, fwg_sf_list_fields);

    /*
     * The type is known for a few fields; others are tried as dictionary,
     * list, then item, the arena rewound after each failed attempt.
     */

    if (!list) {
        if (fwg_sf_parse_dict(v.data, v.len, a, &m, &nm, &e) == FWG_SF_OK) {
            t = fwg_sig_tail(a, &avail);
            n = fwg_sf_serialize_dict(t, avail, m, nm);
            goto done;
        }

        if (fwg_sig_in_list(name, fwg_sf_dict_fields)) {
            return -1;
        }

        a->used = saved;
    }

    if (fwg_sf_parse_list(v.data, v.len, a, &m, &nm, &e) == FWG_SF_OK) {
        t = fwg_sig_tail(a, &avail);
        n = fwg_sf_serialize_list(t, avail, m, nm);
        goto done;
    }

    if (list) {
        return -1;
    }

    a->used = saved;

    if (fwg_sf_parse_item(v.data, v.len, a, &item, &e) != FWG_SF_OK) {
        return -1;
    }

    t = fwg_sig_tail(a, &avail);
    n = fwg_sf_serialize_item(t, avail, &item);

done:

    if (n < 0) {
        return -1;
    }

    out->data = fwg_sig_commit(a, t, (size_t) n);
    out->len = (size_t) n;

    return out->data ? 0 : -1;
}


/* ;bs: each field line's value as a byte sequence (section 2.1.3) */
static int
fwg_sig_field_bs(const fwg_msg_t *msg, fwg_str_t name, fwg_arena_t *a,
    fwg_str_t *out)
{
    char       *d;
    size_t      i, total, count;
    fwg_str_t   v;

    total = 0;
    count = 0;

    for (i = 0; i < msg->nfields; i++) {
        if (!fwg_sig_name_eq(msg->fields[i].name, name.data, name.len)) {
            continue;
        }

        v = fwg_sig_trim(msg->fields[i].value);
        total += (count ? 2 : 0) + 2 + fwg_b64_enc_len(v.len);
        count++;

        if (total > FWG_SIG_MAX_BASE) {
            return -1;
        }
    }

    if (count == 0) {
        return -1;
    }

    d = fwg_arena_alloc(a, total);
    if (d == NULL) {
        return -1;
    }

    out->data = d;
    out->len = total;
    count = 0;

    for (i = 0; i < msg->nfields; i++) {
        if (!fwg_sig_name_eq(msg->fields[i].name, name.data, name.len)) {
            continue;
        }

        v = fwg_sig_trim(msg->fields[i].value);

        if (count++) {
            *d++ = ',';
            *d++ = ' ';
        }

        *d++ = ':';
        d += fwg_b64_encode(d, (const unsigned char *) v.data, v.len);
        *d++ = ':';
    }

    return 0;
}


static int
fwg_sig_field(const fwg_msg_t *msg, const fwg_sf_item_t *comp,
    fwg_arena_t *a, fwg_str_t *value, const char **err)
{
    int                     sf, bs, rc;
    long                    n;
    char                   *t;
    size_t                  i, avail, nm;
    fwg_str_t               name, v, pk;
    const char             *e;
    fwg_sf_member_t        *m;
    const fwg_sf_bare_t    *key, *pv;
    const fwg_sf_member_t  *hit;

    name = comp->bare.str;
    sf = 0;
    bs = 0;
    key = NULL;

    for (i = 0; i < comp->nparams; i++) {
        pk = comp->params[i].key;
        pv = &comp->params[i].value;

        if (fwg_str_eq(pk, "sf") && pv->type == FWG_SF_BOOLEAN) {
            sf = pv->integer != 0;

        } else if (fwg_str_eq(pk, "bs") && pv->type == FWG_SF_BOOLEAN) {
            bs = pv->integer != 0;

        } else if (fwg_str_eq(pk, "key") && pv->type == FWG_SF_STRING) {
            key = pv;

        } else if (fwg_str_eq(pk, "req") || fwg_str_eq(pk, "tr")) {
            *err = "req and tr components are not supported";
            return FWG_SIG_ECOMPONENT;

        } else {
            *err = "unknown component parameter";
            return FWG_SIG_ECOMPONENT;
        }
    }

    if (bs && (sf || key)) {
        *err = "bs cannot be combined with sf or key";
        return FWG_SIG_ECOMPONENT;
    }

    if (bs) {
        if (fwg_sig_field_bs(msg, name, a, value) != 0) {
            *err = "header field absent or too large";
            return FWG_SIG_ECOMPONENT;
        }

        return FWG_SIG_OK;
    }

    rc = fwg_field_combine(msg, name.data, name.len, FWG_SIG_MAX_BASE, a, &v);
    if (rc <= 0) {
        *err = rc ? "header field too large" : "header field absent";
        return FWG_SIG_ECOMPONENT;
    }

    if (key) {
        /* section 2.1.2: one member of a dictionary, serialized */
        if (fwg_sf_parse_dict(v.data, v.len, a, &m, &nm, &e) != FWG_SF_OK) {
            *err = "header field is not a dictionary";
            return FWG_SIG_ECOMPONENT;
        }

        hit = fwg_sf_dict_get(m, nm, key->str);
        if (hit == NULL) {
            *err = "dictionary key absent";
            return FWG_SIG_ECOMPONENT;
        }

        t = fwg_sig_tail(a, &avail);
        n = fwg_sf_serialize_item(t, avail, &hit->value);
        if (n < 0) {
            *err = "dictionary member cannot be serialized";
            return FWG_SIG_ECOMPONENT;
        }

        value->data = fwg_sig_commit(a, t, (size_t) n);
        value->len = (size_t) n;

        if (value->data == NULL) {
            *err = "out of memory";
            return FWG_SIG_ECOMPONENT;
        }

        return FWG_SIG_OK;
    }

    if (sf) {
        if (fwg_sig_field_sf(name, v, a, value) != 0) {
            *err = "header field is not a structured field";
            return FWG_SIG_ECOMPONENT;
        }

        return FWG_SIG_OK;
    }

    *value = v;

    return FWG_SIG_OK;
}


int
fwg_sig_component(const fwg_msg_t *msg, const fwg_sf_item_t *comp,
    fwg_arena_t *a, fwg_str_t *value, const char **err)
{
    int          rc;
    const char  *e;

    value->data = NULL;
    value->len = 0;

    e = fwg_sig_comp_check(comp);
    if (e) {
        *err = e;
        return FWG_SIG_ECOMPONENT;
    }

    if (comp->bare.str.data[0] == '@') {
        rc = fwg_sig_derived(msg, comp, a, value, err);

    } else {
        rc = fwg_sig_field(msg, comp, a, value, err);
    }

    if (rc != FWG_SIG_OK) {
        return rc;
    }

    if (value->data == NULL) {
        value->data = "";
    }

    if (fwg_sig_has_newline(*value)) {
        *err = "component value contains a newline";
        return FWG_SIG_ECOMPONENT;
    }

    return FWG_SIG_OK;
}


/* the signature base (section 2.5) ------------------------------------ */

int
fwg_sig_base(const fwg_msg_t *msg, const fwg_sig_input_t *in,
    fwg_arena_t *a, fwg_str_t *base, const char **err)
{
    int                   rc;
    size_t                i, j, n, total;
    fwg_str_t             ids[FWG_SIG_MAX_COMPONENTS];
    fwg_str_t             vals[FWG_SIG_MAX_COMPONENTS];
    const fwg_sf_item_t  *items;

    base->data = NULL;
    base->len = 0;

    if (in->inner == NULL || in->params.data == NULL
        || in->params.len == 0)
    {
        *err = "no signature parameters";
        return FWG_SIG_EMALFORMED;
    }

    n = in->inner->nitems;
    items = in->inner->items;

    if (n > FWG_SIG_MAX_COMPONENTS) {
        *err = "too many covered components";
        return FWG_SIG_EMALFORMED;
    }

    if (fwg_sig_has_newline(in->params)) {
        *err = "signature parameters contain a newline";
        return FWG_SIG_EMALFORMED;
    }

    total = FWG_SIG_PARAMS_LINE_LEN + in->params.len;

    for (i = 0; i < n; i++) {
        for (j = 0; j < i; j++) {
            if (fwg_sig_comp_eq(&items[i], &items[j])) {
                *err = "a component is covered twice";
                return FWG_SIG_ECOMPONENT;
            }
        }

        rc = fwg_sig_component(msg, &items[i], a, &vals[i], err);
        if (rc != FWG_SIG_OK) {
            return rc;
        }

        if (fwg_sig_serialize_item(a, &items[i], &ids[i]) != 0) {
            *err = "component identifier cannot be serialized";
            return FWG_SIG_ECOMPONENT;
        }

        total += ids[i].len + 2 + vals[i].len + 1;

        if (total > FWG_SIG_MAX_BASE) {
            *err = "signature base too large";
            return FWG_SIG_ECOMPONENT;
        }
    }

    return fwg_sig_base_join(a, ids, vals, n, in->params, total, base, err);
}


int
fwg_sig_base_join(fwg_arena_t *a, const fwg_str_t *ids,
    const fwg_str_t *vals, size_t n, fwg_str_t params, size_t total,
    fwg_str_t *base, const char **err)
{
    char    *d;
    size_t   i;

    d = fwg_arena_alloc(a, total);
    if (d == NULL) {
        *err = "signature base does not fit";
        return FWG_SIG_ECOMPONENT;
    }

    base->data = d;
    base->len = total;

    for (i = 0; i < n; i++) {
        memcpy(d, ids[i].data, ids[i].len);
        d += ids[i].len;
        *d++ = ':';
        *d++ = ' ';

        if (vals[i].len) {
            memcpy(d, vals[i].data, vals[i].len);
            d += vals[i].len;
        }

        *d++ = '\n';
    }

    memcpy(d, FWG_SIG_PARAMS_LINE, FWG_SIG_PARAMS_LINE_LEN);
    d += FWG_SIG_PARAMS_LINE_LEN;
    memcpy(d, params.data, params.len);

    return FWG_SIG_OK;
}
