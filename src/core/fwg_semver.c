/*
 * SemVer 2.0.0 (https://semver.org/spec/v2.0.0.html), strictly: no "v"
 * prefix, no leading zeros in numeric identifiers, no empty identifiers.
 */

#include <string.h>

#include "fwg_semver.h"


static int
fwg_semver_is_digit(char c)
{
    return c >= '0' && c <= '9';
}


static int
fwg_semver_is_ident_char(char c)
{
    return fwg_semver_is_digit(c) || (c >= 'a' && c <= 'z')
           || (c >= 'A' && c <= 'Z') || c == '-';
}


/* a numeric identifier of the version core: "0" or no leading zero */
static int
fwg_semver_number(const char *s, size_t len, size_t *pos, uint64_t *out)
{
    size_t    p;
    uint64_t  v;

    p = *pos;
    v = 0;

    if (p == len || !fwg_semver_is_digit(s[p])) {
        return -1;
    }

    if (s[p] == '0' && p + 1 < len && fwg_semver_is_digit(s[p + 1])) {
        return -1;
    }

    while (p < len && fwg_semver_is_digit(s[p])) {
        if (v > (UINT64_MAX - (uint64_t) (s[p] - '0')) / 10) {
            return -1;
        }

        v = v * 10 + (uint64_t) (s[p] - '0');
        p++;
    }

    *pos = p;
    *out = v;

    return 0;
}


/*
 * Dot-separated identifiers up to `stop` (or the end).  pre: numeric
 * identifiers must not have leading zeros (build metadata may).
 */
static int
fwg_semver_idents(const char *s, size_t len, size_t *pos, char stop, int pre)
{
    size_t  p, start;
    int     numeric;

    p = *pos;

    for ( ;; ) {
        start = p;
        numeric = 1;

        while (p < len && fwg_semver_is_ident_char(s[p])) {
            if (!fwg_semver_is_digit(s[p])) {
                numeric = 0;
            }

            p++;
        }

        if (p == start) {
            return -1;
        }

        if (pre && numeric && s[start] == '0' && p - start > 1) {
            return -1;
        }

        if (p < len && s[p] == '.') {
            p++;
            continue;
        }

        break;
    }

    if (p < len && s[p] != stop) {
        return -1;
    }

    *pos = p;

    return 0;
}


int
fwg_semver_parse(fwg_semver_t *v, const char *s, size_t len)
{
    size_t  p, start;

    memset(v, 0, sizeof(*v));
    v->pre.data = v->buf;

    if (s == NULL || len == 0 || len > FWG_SEMVER_MAX_LEN) {
        return -1;
    }

    p = 0;

    if (fwg_semver_number(s, len, &p, &v->major) != 0
        || p == len || s[p++] != '.'
        || fwg_semver_number(s, len, &p, &v->minor) != 0
        || p == len || s[p++] != '.'
        || fwg_semver_number(s, len, &p, &v->patch) != 0)
    {
        return -1;
    }

    if (p < len && s[p] == '-') {
        start = ++p;

        if (fwg_semver_idents(s, len, &p, '+', 1) != 0) {
            return -1;
        }

        memcpy(v->buf, s + start, p - start);
        v->pre.len = p - start;
    }

    if (p < len && s[p] == '+') {
        p++;

        if (fwg_semver_idents(s, len, &p, '\0', 0) != 0) {
            return -1;
        }
    }

    return p == len ? 0 : -1;
}


static int
fwg_semver_u64cmp(uint64_t a, uint64_t b)
{
    return (a > b) - (a < b);
}


/* compares two pre-release identifiers, SemVer 2.0.0 item 11.4 */
static int
fwg_semver_ident_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t  i;
    int     anum, bnum, rc;

    anum = 1;
    bnum = 1;

    for (i = 0; i < alen; i++) {
        if (!fwg_semver_is_digit(a[i])) {
            anum = 0;
        }
    }

    for (i = 0; i < blen; i++) {
        if (!fwg_semver_is_digit(b[i])) {
            bnum = 0;
        }
    }

    if (anum && bnum) {
        /* no leading zeros: the longer number is the larger */
        if (alen != blen) {
            return alen < blen ? -1 : 1;
        }

        rc = memcmp(a, b, alen);
        return (rc > 0) - (rc < 0);
    }

    /* numeric identifiers have lower precedence than alphanumeric ones */
    if (anum != bnum) {
        return anum ? -1 : 1;
    }

    rc = memcmp(a, b, alen < blen ? alen : blen);
    if (rc != 0) {
        return (rc > 0) - (rc < 0);
    }

    return (alen > blen) - (alen < blen);
}


int
fwg_semver_cmp(const fwg_semver_t *a, const fwg_semver_t *b)
{
    const char  *pa, *pb, *ea, *eb, *da, *db;
    int          rc;

    rc = fwg_semver_u64cmp(a->major, b->major);
    if (rc == 0) {
        rc = fwg_semver_u64cmp(a->minor, b->minor);
    }

    if (rc == 0) {
        rc = fwg_semver_u64cmp(a->patch, b->patch);
    }

    if (rc != 0) {
        return rc;
    }

    /* a release is above its pre-releases */
    if (a->pre.len == 0 || b->pre.len == 0) {
        return (a->pre.len == 0) - (b->pre.len == 0);
    }

    /* read from buf, so a copied struct still compares right */
    pa = a->buf;
    ea = a->buf + a->pre.len;
    pb = b->buf;
    eb = b->buf + b->pre.len;

    for ( ;; ) {
        da = memchr(pa, '.', (size_t) (ea - pa));
        db = memchr(pb, '.', (size_t) (eb - pb));

        if (da == NULL) {
            da = ea;
        }

        if (db == NULL) {
            db = eb;
        }

        rc = fwg_semver_ident_cmp(pa, (size_t) (da - pa), pb,
                                  (size_t) (db - pb));
        if (rc != 0) {
            return rc;
        }

        /* a larger set of fields is above a smaller one */
        if (da == ea || db == eb) {
            return (da != ea) - (db != eb);
        }

        pa = da + 1;
        pb = db + 1;
    }
}


/* ranges ------------------------------------------------------------- */

typedef enum {
    FWG_OP_EQ = 0,
    FWG_OP_LT,
    FWG_OP_LE,
    FWG_OP_GT,
    FWG_OP_GE
} fwg_range_op_t;


static int
fwg_range_is_ws(char c)
{
    return c == ' ' || c == '\t';
}


static int
fwg_range_holds(fwg_range_op_t op, int cmp)
{
    switch (op) {
    case FWG_OP_LT:
        return cmp < 0;
    case FWG_OP_LE:
        return cmp <= 0;
    case FWG_OP_GT:
        return cmp > 0;
    case FWG_OP_GE:
        return cmp >= 0;
    default:
        return cmp == 0;
    }
}


/*
 * Validates the whole range and, when v is given, evaluates it.
 * 1 matched, 0 not, -1 malformed.
 */
static int
fwg_range_eval(const char *r, size_t len, const fwg_semver_t *v)
{
    fwg_semver_t    bound;
    fwg_range_op_t  op;
    size_t          p, start, ncomp;
    int             any, all;

    if (r == NULL) {
        return -1;
    }

    p = 0;
    any = 0;

    for ( ;; ) {
        all = 1;
        ncomp = 0;

        while (p < len && fwg_range_is_ws(r[p])) {
            p++;
        }

        while (p < len && r[p] != '|') {
            op = FWG_OP_EQ;

            if (r[p] == '<' || r[p] == '>') {
                op = (r[p] == '<') ? FWG_OP_LT : FWG_OP_GT;
                p++;

                if (p < len && r[p] == '=') {
                    op = (op == FWG_OP_LT) ? FWG_OP_LE : FWG_OP_GE;
                    p++;
                }

            } else if (r[p] == '=') {
                p++;
            }

            /* ">= 1.2.0" is accepted as well as ">=1.2.0" */
            while (p < len && fwg_range_is_ws(r[p])) {
                p++;
            }

            start = p;

            while (p < len && !fwg_range_is_ws(r[p]) && r[p] != '|') {
                p++;
            }

            if (fwg_semver_parse(&bound, r + start, p - start) != 0) {
                return -1;
            }

            if (v != NULL && !fwg_range_holds(op, fwg_semver_cmp(v, &bound)))
            {
                all = 0;
            }

            ncomp++;

            while (p < len && fwg_range_is_ws(r[p])) {
                p++;
            }
        }

        if (ncomp == 0) {
            return -1;
        }

        if (all) {
            any = 1;
        }

        if (p == len) {
            return any;
        }

        if (p + 1 >= len || r[p + 1] != '|') {
            return -1;
        }

        p += 2;
    }
}


int
fwg_range_valid(const char *range, size_t len)
{
    return fwg_range_eval(range, len, NULL) < 0 ? -1 : 0;
}


int
fwg_range_match(const char *range, size_t len, const fwg_semver_t *v)
{
    return fwg_range_eval(range, len, v);
}
