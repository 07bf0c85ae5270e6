/*
 * RFC 9421 request signatures: the single-pass fast path (see
 * fwg_sigfast.h).  It never reports an error of its own: whatever it does
 * not recognize, or whatever the general path would refuse, makes it
 * decline, and the general path then runs from the same arena position.
 *
 * Equivalence with the general path is checked by t/unit/test_sigfast.c
 * and fuzz/fuzz_sigfast.c; keep the rules below in step with fwg_sf.c
 * (grammar) and fwg_sig.c (what is checked, what is serialized).
 */

#include <string.h>

#include "fwg_sigfast.h"
#include "fwg_b64.h"


#define FWG_SIGFAST_MAX_MEMBERS  8      /* dictionary members per field */
#define FWG_SIGFAST_MAX_INT      15     /* RFC 8941 Integer digits */

#define FWG_SIGFAST_PARAMS_LINE  "\"@signature-params\": "

#define D  FWG_SIGFAST_DECLINED


/* the signature parameters the fast path knows, with their types */
typedef struct {
    const char     *name;
    size_t          len;
    fwg_sf_type_t   type;
} fwg_sigfast_pdef_t;

static const fwg_sigfast_pdef_t  fwg_sigfast_pdefs[] = {
    { "created", 7, FWG_SF_INTEGER },
    { "expires", 7, FWG_SF_INTEGER },
    { "keyid", 5, FWG_SF_STRING },
    { "alg", 3, FWG_SF_STRING },
    { "nonce", 5, FWG_SF_STRING },
    { "tag", 3, FWG_SF_STRING },
    { NULL, 0, 0 }
};

#define FWG_SIGFAST_NPDEFS  6


/* a parameter key's index in fwg_sigfast_pdefs, FWG_SIGFAST_NPDEFS if none */
static size_t
fwg_sigfast_pdef(fwg_str_t key)
{
    size_t  i;

    switch (key.len) {

    case 7:
        i = (key.data[0] == 'c') ? 0 : 1;
        break;

    case 5:
        i = (key.data[0] == 'k') ? 2 : 4;
        break;

    case 3:
        i = (key.data[0] == 'a') ? 3 : 5;
        break;

    default:
        return FWG_SIGFAST_NPDEFS;
    }

    return memcmp(key.data, fwg_sigfast_pdefs[i].name, key.len) == 0
           ? i : FWG_SIGFAST_NPDEFS;
}


typedef struct {
    fwg_str_t       key;
    const char     *value;          /* '(' of the inner list */
    size_t          nitems;
    size_t          nparams;
} fwg_sigfast_member_t;


typedef struct {
    const char     *pos;
    const char     *end;
} fwg_sigfast_in_t;


/*
 * One table of character classes for every scan of the fast path: four
 * cache lines, one load and a test per byte.  The classes are those
 * fwg_sf.c (grammar) and fwg_sig.c (component names) accept:
 *   FWG_SC_TCHAR   lowercase tchar: a header component's name
 *   FWG_SC_KEY     a dictionary or parameter key after its first char
 *   FWG_SC_STR     a String's byte that is not '"' or '\\' (printable)
 *   FWG_SC_B64     a Byte Sequence's base64 character
 *   FWG_SC_DERIVED a derived component's name after its '@'
 *   FWG_SC_DIGIT   0-9
 */
#define FWG_SC_TCHAR    0x01
#define FWG_SC_KEY      0x02
#define FWG_SC_STR      0x04
#define FWG_SC_B64      0x08
#define FWG_SC_DERIVED  0x10
#define FWG_SC_DIGIT    0x20

static const unsigned char  fwg_sigfast_class[256] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x04, 0x05, 0x00, 0x05, 0x05, 0x05, 0x05, 0x05,
    0x04, 0x04, 0x07, 0x0d, 0x04, 0x17, 0x07, 0x0c,
    0x2f, 0x2f, 0x2f, 0x2f, 0x2f, 0x2f, 0x2f, 0x2f,
    0x2f, 0x2f, 0x04, 0x04, 0x04, 0x0c, 0x04, 0x04,
    0x04, 0x0c, 0x0c, 0x0c, 0x0c, 0x0c, 0x0c, 0x0c,
    0x0c, 0x0c, 0x0c, 0x0c, 0x0c, 0x0c, 0x0c, 0x0c,
    0x0c, 0x0c, 0x0c, 0x0c, 0x0c, 0x0c, 0x0c, 0x0c,
    0x0c, 0x0c, 0x0c, 0x04, 0x00, 0x04, 0x05, 0x07,
    0x05, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f,
    0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f,
    0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f,
    0x1f, 0x1f, 0x1f, 0x04, 0x05, 0x04, 0x05, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00
};

#define fwg_sc(c, cls)  (fwg_sigfast_class[(unsigned char) (c)] & (cls))

#define fwg_sigfast_lcalpha(c)  ((c) >= 'a' && (c) <= 'z')
#define fwg_sigfast_digit(c)    fwg_sc(c, FWG_SC_DIGIT)
#define fwg_sigfast_key_char(c) fwg_sc(c, FWG_SC_KEY)
#define fwg_sigfast_tchar(c)    fwg_sc(c, FWG_SC_TCHAR)
#define fwg_sigfast_b64_char(c) fwg_sc(c, FWG_SC_B64)
#define fwg_sigfast_strchar(c)  fwg_sc(c, FWG_SC_STR)


static int
fwg_sigfast_name_eq(fwg_str_t field, const char *n, size_t len)
{
    size_t         i;
    unsigned char  c;

    if (field.len != len || field.data == NULL) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        c = (unsigned char) field.data[i];

        if (c >= 'A' && c <= 'Z') {
            c |= 0x20;
        }

        if (c != (unsigned char) n[i]) {
            return 0;
        }
    }

    return 1;
}


static fwg_str_t
fwg_sigfast_trim(fwg_str_t v)
{
    if (v.data == NULL) {
        v.data = "";
        v.len = 0;
        return v;
    }

    while (v.len && (v.data[0] == ' ' || v.data[0] == '\t')) {
        v.data++;
        v.len--;
    }

    while (v.len && (v.data[v.len - 1] == ' ' || v.data[v.len - 1] == '\t')) {
        v.len--;
    }

    return v;
}


/* a dictionary key (RFC 8941 section 4.2.3.3) */
static int
fwg_sigfast_key(fwg_sigfast_in_t *in, fwg_str_t *key)
{
    const char  *start;

    start = in->pos;

    if (in->pos == in->end
        || !(fwg_sigfast_lcalpha(*in->pos) || *in->pos == '*'))
    {
        return D;
    }

    for (in->pos++;
         in->pos < in->end && fwg_sigfast_key_char(*in->pos);
         in->pos++)
    {
        /* void */
    }

    key->data = start;
    key->len = (size_t) (in->pos - start);

    return 0;
}


/* between members: OWS "," OWS; *done at the end of the field */
static int
fwg_sigfast_separator(fwg_sigfast_in_t *in, int *done)
{
    while (in->pos < in->end && (*in->pos == ' ' || *in->pos == '\t')) {
        in->pos++;
    }

    if (in->pos == in->end) {
        *done = 1;
        return 0;
    }

    if (*in->pos != ',') {
        return D;
    }

    in->pos++;

    while (in->pos < in->end && (*in->pos == ' ' || *in->pos == '\t')) {
        in->pos++;
    }

    *done = 0;

    return in->pos == in->end ? D : 0;
}


/*
 * A String at in->pos ('"'): *raw is its serialized form (RFC 8941 only
 * knows the escapes \" and \\, which serialization writes back the same),
 * *nesc the number of escapes.
 */
static int
fwg_sigfast_string(fwg_sigfast_in_t *in, fwg_str_t *raw, size_t *nesc)
{
    const char     *p;
    unsigned char   c;

    p = in->pos + 1;
    *nesc = 0;

    for ( ;; ) {
        while (p < in->end && fwg_sigfast_strchar(*p)) {
            p++;
        }

        if (p == in->end) {
            return D;
        }

        c = (unsigned char) *p++;

        if (c == '\\') {
            if (p == in->end || (*p != '"' && *p != '\\')) {
                return D;
            }

            p++;
            (*nesc)++;

        } else if (c == '"') {
            break;

        } else if (c < 0x20 || c > 0x7e) {
            return D;
        }
    }

    raw->data = in->pos;
    raw->len = (size_t) (p - in->pos);
    in->pos = p;

    return 0;
}


/*
 * An Integer in its serialized form only (no "-0", no leading zeros), so
 * that the text is what serialization gives back; not a Decimal.
 */
static int
fwg_sigfast_integer(fwg_sigfast_in_t *in, fwg_str_t *raw, int64_t *v)
{
    int          neg;
    size_t       n;
    int64_t      x;
    const char  *p;

    p = in->pos;
    neg = 0;

    if (p < in->end && *p == '-') {
        neg = 1;
        p++;
    }

    if (p == in->end || !fwg_sigfast_digit(*p)) {
        return D;
    }

    if (*p == '0'
        && (neg || (p + 1 < in->end && fwg_sigfast_digit(p[1]))))
    {
        return D;
    }

    x = 0;

    for (n = 0; p < in->end && fwg_sigfast_digit(*p); n++, p++) {
        if (n == FWG_SIGFAST_MAX_INT) {
            return D;
        }

        x = x * 10 + (*p - '0');
    }

    if (p < in->end && *p == '.') {
        return D;
    }

    raw->data = in->pos;
    raw->len = (size_t) (p - in->pos);
    in->pos = p;
    *v = neg ? -x : x;

    return 0;
}


/*
 * Where a covered component name as fwg_sig.c accepts it (no escapes)
 * ends: after a run of lowercase tchars, or '@' and one or more
 * lowercase letters and '-'.  s when no valid name starts at s.  The
 * inner-list scan and the base's check of other lists share this rule.
 */
static inline const char *
fwg_sigfast_comp_end(const char *s, const char *end)
{
    const char  *p;

    p = s;

    if (p < end && *p == '@') {
        for (p++; p < end && fwg_sc(*p, FWG_SC_DERIVED); p++) {
            /* void */
        }

        return (p == s + 1) ? s : p;
    }

    for ( /* void */ ; p < end && fwg_sigfast_tchar(*p); p++) {
        /* void */
    }

    return p;
}


static int
fwg_sigfast_comp_ok(const char *s, size_t len)
{
    return len != 0 && fwg_sigfast_comp_end(s, s + len) == s + len;
}


/*
 * One inner list with its parameters, from '(' at in->pos.  Without out
 * it only checks and counts; with out (and arrays sized by that first
 * pass) it fills them in, and sets bit i of *escaped when String
 * parameter i holds escapes.  *slen: the length of its serialization.
 */
static int
fwg_sigfast_inner(fwg_sigfast_in_t *in, fwg_sigfast_member_t *m,
    fwg_sf_item_t *items, fwg_sf_param_t *params, fwg_str_t *praw,
    unsigned *escaped, size_t *slen)
{
    size_t        n, np, i, nesc, len;
    unsigned      seen;
    int64_t       iv;
    fwg_str_t     raw, key;
    const char   *s, *p;

    n = 0;
    len = 2;
    in->pos++;

    if (params) {
        *escaped = 0;
    }

    for ( ;; ) {
        while (in->pos < in->end && *in->pos == ' ') {
            in->pos++;
        }

        if (in->pos == in->end || *in->pos != '"') {
            if (in->pos < in->end && *in->pos == ')') {
                in->pos++;
                break;
            }

            return D;
        }

        /* a name as fwg_sig.c accepts it, read in the same pass */

        s = in->pos + 1;
        p = fwg_sigfast_comp_end(s, in->end);

        if (p == s || p == in->end || *p != '"'
            || n == FWG_SIG_MAX_COMPONENTS)
        {
            return D;
        }

        raw.data = in->pos;
        raw.len = (size_t) (p + 1 - in->pos);
        in->pos = p + 1;

        /* the same name twice: the general path's error */
        if (items) {
            for (i = 0; i < n; i++) {
                if (items[i].bare.str.len == raw.len - 2
                    && memcmp(items[i].bare.str.data, s, raw.len - 2) == 0)
                {
                    return D;
                }
            }

            memset(&items[n], 0, sizeof(fwg_sf_item_t));
            items[n].bare.type = FWG_SF_STRING;
            items[n].bare.str.data = s;
            items[n].bare.str.len = raw.len - 2;
        }

        len += raw.len + (n ? 1 : 0);

        n++;

        /* component parameters (";sf", ";name=" ...): not here */
        if (in->pos == in->end || (*in->pos != ' ' && *in->pos != ')')) {
            return D;
        }
    }

    np = 0;
    seen = 0;

    while (in->pos < in->end && *in->pos == ';') {
        in->pos++;

        while (in->pos < in->end && *in->pos == ' ') {
            in->pos++;
        }

        if (fwg_sigfast_key(in, &key) != 0
            || in->pos == in->end || *in->pos != '=')
        {
            return D;
        }

        in->pos++;

        i = fwg_sigfast_pdef(key);

        if (fwg_sigfast_pdefs[i].name == NULL || (seen & (1u << i))) {
            return D;
        }

        seen |= 1u << i;

        nesc = 0;

        if (fwg_sigfast_pdefs[i].type == FWG_SF_INTEGER) {
            if (fwg_sigfast_integer(in, &raw, &iv) != 0) {
                return D;
            }

        } else {
            if (in->pos == in->end || *in->pos != '"'
                || fwg_sigfast_string(in, &raw, &nesc) != 0)
            {
                return D;
            }
        }

        if (params) {
            memset(&params[np], 0, sizeof(fwg_sf_param_t));
            params[np].key = key;
            params[np].value.type = fwg_sigfast_pdefs[i].type;

            if (fwg_sigfast_pdefs[i].type == FWG_SF_INTEGER) {
                params[np].value.integer = iv;

            } else {
                /* unescaped later, only when needed */
                params[np].value.str = raw;
            }

            praw[np] = raw;

            if (nesc) {
                *escaped |= 1u << np;
            }
        }

        len += 1 + key.len + 1 + raw.len;
        np++;
    }

    m->nitems = n;
    m->nparams = np;
    *slen = len;

    return 0;
}


/* a String's value from its serialized form (escaped: it holds some) */
static int
fwg_sigfast_unescape(fwg_arena_t *a, fwg_str_t raw, int escaped,
    fwg_str_t *out)
{
    char        *d;
    size_t       i, n;
    const char  *s;

    s = raw.data + 1;
    n = raw.len - 2;

    if (!escaped) {
        out->data = s;
        out->len = n;
        return 0;
    }

    d = fwg_arena_alloc(a, n);
    if (d == NULL) {
        return D;
    }

    out->data = d;

    for (i = 0; i < n; i++) {
        if (s[i] == '\\') {
            i++;
        }

        *d++ = s[i];
    }

    out->len = (size_t) (d - out->data);

    return 0;
}


/* the Signature-Input and Signature lines: one each, else decline */
static int
fwg_sigfast_fields(const fwg_msg_t *msg, fwg_str_t *si, fwg_str_t *sv)
{
    size_t     i, nsi, nsv;
    fwg_str_t  name;

    nsi = 0;
    nsv = 0;

    for (i = 0; i < msg->nfields; i++) {
        name = msg->fields[i].name;

        if (name.len == sizeof("signature-input") - 1
            && fwg_sigfast_name_eq(name, "signature-input", name.len))
        {
            *si = msg->fields[i].value;
            nsi++;

        } else if (name.len == sizeof("signature") - 1
                   && fwg_sigfast_name_eq(name, "signature", name.len))
        {
            *sv = msg->fields[i].value;
            nsv++;
        }
    }

    if (nsi != 1 || nsv != 1) {
        return D;
    }

    *si = fwg_sigfast_trim(*si);
    *sv = fwg_sigfast_trim(*sv);

    if (si->len > FWG_SIG_MAX_FIELD || sv->len > FWG_SIG_MAX_FIELD) {
        return D;
    }

    return 0;
}


int
fwg_sigfast_parse(const fwg_msg_t *msg, fwg_str_t label, fwg_arena_t *a,
    fwg_sig_input_t *out)
{
    int                    done, build, have, have_want;
    char                  *d;
    unsigned               escaped;
    size_t                 i, j, nm, slen, len, outlen;
    fwg_str_t              si, sv, key, want;
    fwg_str_t              praw[FWG_SIGFAST_NPDEFS];
    fwg_str_t              sig;
    const char            *b64;
    fwg_sf_item_t         *inner;
    fwg_sigfast_in_t       in;
    fwg_sigfast_member_t   mem[FWG_SIGFAST_MAX_MEMBERS], sel;
    unsigned char         *dec;
    fwg_sf_item_t          items[FWG_SIG_MAX_COMPONENTS];
    fwg_sf_param_t         params[FWG_SIGFAST_NPDEFS];

    memset(out, 0, sizeof(*out));

    if (fwg_sigfast_fields(msg, &si, &sv) != 0) {
        return D;
    }

    /*
     * Signature-Input: key=(inner list);params, ...  Every member is
     * checked; the one that may be chosen (the configured label, "fw", or
     * the first while it may be the only one) is built on the stack in the
     * same pass, so the usual single member is read once.
     */

    if (label.len) {
        want = label;

    } else {
        want.data = "fw";
        want.len = 2;
    }

    in.pos = si.data;
    in.end = si.data + si.len;

    while (in.pos < in.end && *in.pos == ' ') {
        in.pos++;
    }

    nm = 0;
    have = 0;
    have_want = 0;
    slen = 0;
    escaped = 0;
    memset(&sel, 0, sizeof(sel));

    for (done = (in.pos == in.end); !done; nm++) {
        if (nm == FWG_SIGFAST_MAX_MEMBERS
            || fwg_sigfast_key(&in, &mem[nm].key) != 0
            || in.pos == in.end || *in.pos != '=' || ++in.pos == in.end
            || *in.pos != '(')
        {
            return D;
        }

        /* a repeated key: "last wins" is the general path's business */
        for (j = 0; j < nm; j++) {
            if (fwg_str_eqs(mem[j].key, mem[nm].key)) {
                return D;
            }
        }

        mem[nm].value = in.pos;
        build = fwg_str_eqs(mem[nm].key, want)
                || (label.len == 0 && nm == 0);

        if (fwg_sigfast_inner(&in, &mem[nm], build ? items : NULL,
                              build ? params : NULL, praw, &escaped, &len)
            != 0
            || fwg_sigfast_separator(&in, &done) != 0)
        {
            return D;
        }

        if (build) {
            sel = mem[nm];
            slen = len;
            have = 1;
            have_want = fwg_str_eqs(mem[nm].key, want);
        }
    }

    /* the configured label; else the only one; else "fw" */

    if (nm == 0 || !have || (!have_want && (label.len || nm > 1))) {
        return D;
    }

    /* Signature: key=:base64:, ...; every member decodes, as in general */

    in.pos = sv.data;
    in.end = sv.data + sv.len;

    while (in.pos < in.end && *in.pos == ' ') {
        in.pos++;
    }

    sig.data = NULL;
    sig.len = 0;
    nm = 0;

    for (done = (in.pos == in.end); !done; nm++) {
        if (nm == FWG_SIGFAST_MAX_MEMBERS
            || fwg_sigfast_key(&in, &key) != 0
            || in.pos == in.end || *in.pos != '=' || ++in.pos == in.end
            || *in.pos != ':')
        {
            return D;
        }

        b64 = ++in.pos;

        while (in.pos < in.end && fwg_sigfast_b64_char(*in.pos)) {
            in.pos++;
        }

        if (in.pos == in.end || *in.pos != ':') {
            return D;
        }

        len = (size_t) (in.pos - b64);
        in.pos++;

        if (fwg_sigfast_separator(&in, &done) != 0 || len == 0) {
            return D;
        }

        dec = fwg_arena_alloc(a, fwg_b64_dec_max(len));
        if (dec == NULL
            || fwg_b64_decode_sf(dec, fwg_b64_dec_max(len), &outlen, b64, len)
               != 0)
        {
            return D;
        }

        if (fwg_str_eqs(key, sel.key)) {
            if (sig.data != NULL) {
                return D;
            }

            sig.data = (const char *) dec;
            sig.len = outlen;
        }
    }

    /*
     * Other repeated keys in Signature are harmless here: only the
     * label's member is used and its own repetition declines above.
     */

    if (sig.data == NULL || sig.len == 0 || sig.len > FWG_SIG_MAX_SIG) {
        return D;
    }

    /* the chosen member into the arena, then @signature-params */

    inner = fwg_arena_alloc(a, sizeof(fwg_sf_item_t)
                               + sel.nitems * sizeof(fwg_sf_item_t)
                               + sel.nparams * sizeof(fwg_sf_param_t));
    if (inner == NULL) {
        return D;
    }

    memset(inner, 0, sizeof(fwg_sf_item_t));
    inner->bare.type = FWG_SF_INNER_LIST;
    inner->nitems = sel.nitems;
    inner->nparams = sel.nparams;

    if (sel.nitems) {
        inner->items = inner + 1;
        memcpy(inner->items, items, sel.nitems * sizeof(fwg_sf_item_t));
    }

    if (sel.nparams) {
        inner->params = (fwg_sf_param_t *) (inner + 1 + sel.nitems);
        memcpy(inner->params, params, sel.nparams * sizeof(fwg_sf_param_t));
    }

    /* the RFC 8941 serialization, written directly */

    d = fwg_arena_alloc(a, slen);
    if (d == NULL) {
        return D;
    }

    out->params.data = d;
    out->params.len = slen;

    *d++ = '(';

    for (i = 0; i < inner->nitems; i++) {
        if (i) {
            *d++ = ' ';
        }

        *d++ = '"';
        memcpy(d, items[i].bare.str.data, items[i].bare.str.len);
        d += items[i].bare.str.len;
        *d++ = '"';
    }

    *d++ = ')';

    for (i = 0; i < inner->nparams; i++) {
        *d++ = ';';
        key = inner->params[i].key;
        memcpy(d, key.data, key.len);
        d += key.len;
        *d++ = '=';
        memcpy(d, praw[i].data, praw[i].len);
        d += praw[i].len;

        if (inner->params[i].value.type == FWG_SF_INTEGER) {
            if (key.data[0] == 'c') {
                out->created = inner->params[i].value.integer;
                out->has_created = 1;

            } else {
                out->expires = inner->params[i].value.integer;
                out->has_expires = 1;
            }

            continue;
        }

        if (fwg_sigfast_unescape(a, praw[i], escaped & (1u << i),
                                 &inner->params[i].value.str)
            != 0)
        {
            return D;
        }

        switch (key.data[0]) {

        case 'k':
            out->keyid = inner->params[i].value.str;
            break;

        case 'a':
            out->alg = inner->params[i].value.str;
            break;

        case 'n':
            out->nonce = inner->params[i].value.str;
            break;

        default: /* tag */
            out->tag = inner->params[i].value.str;
        }
    }

    out->sig = (unsigned char *) sig.data;
    out->siglen = sig.len;
    out->label = sel.key;
    out->inner = inner;
    out->plain_items = 1;

    return FWG_SIG_OK;
}


/*
 * The base when every component is a plain name: header fields are found
 * in one walk over the field lines; derived components go through
 * fwg_sig_component, the general code.
 */
int
fwg_sigfast_base(const fwg_msg_t *msg, const fwg_sig_input_t *in,
    fwg_arena_t *a, fwg_str_t *base)
{
    char                 *d;
    size_t                i, j, n, total;
    unsigned char         cnt[FWG_SIG_MAX_COMPONENTS];
    fwg_str_t             vals[FWG_SIG_MAX_COMPONENTS];
    fwg_str_t             name, v;
    const char           *err;
    const fwg_sf_item_t  *it;

    base->data = NULL;
    base->len = 0;

    if (in->inner == NULL || in->params.data == NULL || in->params.len == 0
        || in->inner->nitems > FWG_SIG_MAX_COMPONENTS)
    {
        return D;
    }

    /* what fwg_sigfast_parse serialized holds printable bytes only */

    if (!in->plain_items
        && (memchr(in->params.data, '\n', in->params.len) != NULL
            || memchr(in->params.data, '\r', in->params.len) != NULL))
    {
        return D;
    }

    n = in->inner->nitems;
    it = in->inner->items;
    total = sizeof(FWG_SIGFAST_PARAMS_LINE) - 1 + in->params.len;

    for (i = 0; i < n; i++) {
        name = it[i].bare.str;

        /* what fwg_sigfast_parse built it has checked already */

        if (!in->plain_items) {
            if (it[i].bare.type != FWG_SF_STRING || it[i].nparams != 0
                || name.data == NULL
                || !fwg_sigfast_comp_ok(name.data, name.len))
            {
                return D;
            }

            for (j = 0; j < i; j++) {
                if (fwg_str_eqs(name, it[j].bare.str)) {
                    return D;
                }
            }
        }

        cnt[i] = 0;
        vals[i].data = NULL;
        vals[i].len = 0;

        if (name.data[0] != '@') {
            continue;
        }

        /* the two every fwgate request covers, as fwg_sig.c gives them */

        if (name.len == 7 && memcmp(name.data, "@method", 7) == 0) {
            if (msg->method.len == 0 || msg->method.data == NULL) {
                return D;
            }

            vals[i] = msg->method;

        } else if (name.len == 5 && memcmp(name.data, "@path", 5) == 0) {
            if (msg->path.len && msg->path.data) {
                vals[i] = msg->path;

            } else {
                vals[i].data = "/";
                vals[i].len = 1;
            }

        } else if (fwg_sig_component(msg, &it[i], a, &vals[i], &err)
                   != FWG_SIG_OK)
        {
            return D;
        }

        if (memchr(vals[i].data, '\n', vals[i].len) != NULL
            || memchr(vals[i].data, '\r', vals[i].len) != NULL)
        {
            return D;
        }

        cnt[i] = 1;
    }

    /* one walk over the field lines; a repeated field declines */

    for (j = 0; j < msg->nfields; j++) {
        for (i = 0; i < n; i++) {
            name = it[i].bare.str;

            if (name.data[0] == '@'
                || !fwg_sigfast_name_eq(msg->fields[j].name, name.data,
                                        name.len))
            {
                continue;
            }

            if (cnt[i]) {
                return D;
            }

            cnt[i] = 1;
            v = fwg_sigfast_trim(msg->fields[j].value);

            if (memchr(v.data, '\n', v.len) != NULL
                || memchr(v.data, '\r', v.len) != NULL)
            {
                return D;
            }

            vals[i] = v;
            break;
        }
    }

    for (i = 0; i < n; i++) {
        if (!cnt[i]) {
            return D;
        }

        total += it[i].bare.str.len + 2 + 2 + vals[i].len + 1;

        if (total > FWG_SIG_MAX_BASE) {
            return D;
        }
    }

    d = fwg_arena_alloc(a, total);
    if (d == NULL) {
        return D;
    }

    base->data = d;
    base->len = total;

    for (i = 0; i < n; i++) {
        *d++ = '"';
        memcpy(d, it[i].bare.str.data, it[i].bare.str.len);
        d += it[i].bare.str.len;
        *d++ = '"';
        *d++ = ':';
        *d++ = ' ';

        if (vals[i].len) {
            memcpy(d, vals[i].data, vals[i].len);
            d += vals[i].len;
        }

        *d++ = '\n';
    }

    memcpy(d, FWG_SIGFAST_PARAMS_LINE, sizeof(FWG_SIGFAST_PARAMS_LINE) - 1);
    d += sizeof(FWG_SIGFAST_PARAMS_LINE) - 1;
    memcpy(d, in->params.data, in->params.len);

    return FWG_SIG_OK;
}


int
fwg_sig_parse_fast(const fwg_msg_t *msg, fwg_str_t label, fwg_arena_t *a,
    fwg_sig_input_t *out, const char **err)
{
    size_t  saved;

    saved = a->used;
    *err = NULL;

    if (fwg_sigfast_parse(msg, label, a, out) == FWG_SIG_OK) {
        return FWG_SIG_OK;
    }

    a->used = saved;

    return fwg_sig_parse(msg, label, a, out, err);
}


int
fwg_sig_base_fast(const fwg_msg_t *msg, const fwg_sig_input_t *in,
    fwg_arena_t *a, fwg_str_t *base, const char **err)
{
    size_t  saved;

    saved = a->used;

    if (fwg_sigfast_base(msg, in, a, base) == FWG_SIG_OK) {
        return FWG_SIG_OK;
    }

    a->used = saved;

    return fwg_sig_base(msg, in, a, base, err);
}
