/*
 * libFuzzer target: install report bodies (src/core/fwg_report.c) and the
 * strict JSON reader under them (src/core/fwg_json.c).  The whole input
 * is the body, in a heap buffer of exactly its size, read with an arena
 * of exactly the size fwg_report.h promises is enough (itself a heap
 * buffer, so ASan sees a write past it).  Checks:
 *
 *   - the promised arena is enough: never "out of memory";
 *   - with no arena at all the answer is the same or "out of memory";
 *   - errors are never body or arena bytes;
 *   - on success the fields lie inside the body or the arena, the
 *     artifact is 1..256 bytes of 0x21..0x7e, status and status_code
 *     agree, a version is SemVer;
 *   - the fields written back with fwg_json_escape() make a body that
 *     reads back as the same report;
 *   - fwg_utf8_valid() agrees with the table of RFC 3629 section 4;
 *   - the input escaped and quoted reads back as itself with
 *     fwg_json_string() when it is UTF-8 without NUL bytes.
 */

#include <stdio.h>

#include "fuzz_util.h"
#include "fwg_json.h"
#include "fwg_report.h"
#include "fwg_semver.h"


static void
fuzz_fail(const char *what)
{
    fprintf(stderr, "fuzz_report: %s\n", what);
    abort();
}


static int
fuzz_inside(fwg_str_t s, const char *p, size_t n)
{
    return s.len == 0
           || (s.data >= p && s.len <= n && s.data <= p + n - s.len);
}


/* RFC 3629 section 4, byte by byte: an independent UTF-8 check */

static int
fuzz_utf8_ref(const uint8_t *p, size_t n)
{
    size_t   i, k, len;
    uint8_t  lo, hi;

    for (i = 0; i < n; i += len) {
        lo = 0x80;
        hi = 0xbf;

        if (p[i] <= 0x7f) {
            len = 1;

        } else if (p[i] >= 0xc2 && p[i] <= 0xdf) {
            len = 2;

        } else if (p[i] >= 0xe0 && p[i] <= 0xef) {
            len = 3;
            lo = (p[i] == 0xe0) ? 0xa0 : 0x80;
            hi = (p[i] == 0xed) ? 0x9f : 0xbf;

        } else if (p[i] >= 0xf0 && p[i] <= 0xf4) {
            len = 4;
            lo = (p[i] == 0xf0) ? 0x90 : 0x80;
            hi = (p[i] == 0xf4) ? 0x8f : 0xbf;

        } else {
            return 0;
        }

        if (n - i < len) {
            return 0;
        }

        for (k = 1; k < len; k++) {
            if (p[i + k] < (k == 1 ? lo : 0x80)
                || p[i + k] > (k == 1 ? hi : 0xbf))
            {
                return 0;
            }
        }
    }

    return 1;
}


/* the report's fields as a body again, each escaped; its length */

static size_t
fuzz_write_back(char *dst, const fwg_report_t *rep)
{
    size_t  n;

    n = 0;

#define put(lit)                                                              \
    do {                                                                      \
        if (dst) {                                                            \
            memcpy(dst + n, lit, sizeof(lit) - 1);                            \
        }                                                                     \
        n += sizeof(lit) - 1;                                                 \
    } while (0)

#define put_esc(v)                                                            \
    n += fwg_json_escape(dst ? dst + n : NULL, (v).data, (v).len)

    put("{");

    if (rep->has_version) {
        put("\"version\":\"");
        put_esc(rep->version);
        put("\",");
    }

    put("\"status\":\"");
    put_esc(rep->status);
    put("\",\"artifact\":\"");
    put_esc(rep->artifact);
    put("\"}");

#undef put_esc

    return n;
}


static void
fuzz_check_report(const char *body, size_t size, const char *mem,
    size_t msize, const fwg_report_t *rep)
{
    size_t        i, len;
    char         *back, *bmem;
    const char   *err;
    fwg_arena_t   a;
    fwg_report_t  again;
    fwg_semver_t  v;

    if (!(fuzz_inside(rep->artifact, body, size)
          || fuzz_inside(rep->artifact, mem, msize))
        || !(fuzz_inside(rep->status, body, size)
             || fuzz_inside(rep->status, mem, msize))
        || !(fuzz_inside(rep->version, body, size)
             || fuzz_inside(rep->version, mem, msize)))
    {
        fuzz_fail("a field lies outside the body and the arena");
    }

    if (rep->artifact.len == 0
        || rep->artifact.len > FWG_REPORT_MAX_ARTIFACT)
    {
        fuzz_fail("artifact length");
    }

    for (i = 0; i < rep->artifact.len; i++) {
        if ((uint8_t) rep->artifact.data[i] < 0x21
            || (uint8_t) rep->artifact.data[i] > 0x7e)
        {
            fuzz_fail("artifact byte out of range");
        }
    }

    if (!(rep->status_code == FWG_REPORT_SUCCESS
          && fwg_str_eq(rep->status, "success"))
        && !(rep->status_code == FWG_REPORT_FAILURE
             && fwg_str_eq(rep->status, "failure")))
    {
        fuzz_fail("status and status_code disagree");
    }

    if (rep->has_version
        ? fwg_semver_parse(&v, rep->version.data, rep->version.len) != 0
        : rep->version.len != 0)
    {
        fuzz_fail("version");
    }

    /* written back (version included only when sent): the same report */

    len = fuzz_write_back(NULL, rep);

    back = malloc(len);
    bmem = malloc(len + FWG_REPORT_ARENA_EXTRA);
    if (back == NULL || bmem == NULL) {
        abort();
    }

    if (fuzz_write_back(back, rep) != len) {
        fuzz_fail("escaper: measured and written lengths differ");
    }

    fwg_arena_init(&a, bmem, len + FWG_REPORT_ARENA_EXTRA);

    err = fwg_report_parse(back, len, &a, &again);

    if (err != NULL) {
        fprintf(stderr, "fuzz_report: written back: %s\n", err);
        abort();
    }

    if (!fwg_str_eqs(again.artifact, rep->artifact)
        || !fwg_str_eqs(again.status, rep->status)
        || !fwg_str_eqs(again.version, rep->version)
        || again.status_code != rep->status_code
        || again.has_version != rep->has_version)
    {
        fuzz_fail("written back: a different report");
    }

    free(bmem);
    free(back);
}


/* the input as a string's contents: escaped, quoted, read back */

static void
fuzz_check_escape(const uint8_t *data, size_t size)
{
    size_t        n, m;
    char         *esc, *mem;
    const char   *err, *p;
    fwg_str_t     v;
    fwg_arena_t   a;

    n = fwg_json_escape(NULL, (const char *) data, size);

    if (n < size || n > 6 * size) {
        fuzz_fail("escaper: length out of bounds");
    }

    esc = malloc(n + 2);
    mem = malloc(n + 8);
    if (esc == NULL || mem == NULL) {
        abort();
    }

    esc[0] = '"';
    m = fwg_json_escape(esc + 1, (const char *) data, size);
    esc[n + 1] = '"';

    if (m != n) {
        fuzz_fail("escaper: measured and written lengths differ");
    }

    /* the reader takes UTF-8 only; raw bytes the escaper copies as-is */

    if (fwg_utf8_valid((const char *) data, size)) {
        fwg_arena_init(&a, mem, n + 8);
        p = esc;

        err = fwg_json_string(&p, esc + n + 2, &a, &v);

        if (memchr(data, '\0', size) != NULL) {
            if (err == NULL || strcmp(err, "\\u0000 in string") != 0) {
                fuzz_fail("escaped NUL not refused");
            }

        } else if (err != NULL || p != esc + n + 2 || v.len != size
                   || (size && memcmp(v.data, data, size) != 0))
        {
            fuzz_fail("escaped input does not read back as itself");
        }
    }

    free(mem);
    free(esc);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char          *body, *mem;
    size_t         msize;
    const char    *err, *err0;
    fwg_arena_t    a;
    fwg_report_t   rep, rep0;

    if (fwg_utf8_valid((const char *) data, size)
        != fuzz_utf8_ref(data, size))
    {
        fuzz_fail("fwg_utf8_valid disagrees with RFC 3629");
    }

    body = malloc(size ? size : 1);
    msize = size + FWG_REPORT_ARENA_EXTRA;
    mem = malloc(msize);
    if (body == NULL || mem == NULL) {
        abort();
    }

    memcpy(body, data, size);

    /* no arena: the same answer, unless that answer needed memory */

    fwg_arena_init(&a, NULL, 0);
    err0 = fwg_report_parse(body, size, &a, &rep0);

    /* misaligned on purpose: the promise covers fwg_arena_init's loss */

    fwg_arena_init(&a, mem + 1, msize - 1);
    err = fwg_report_parse(body, size, &a, &rep);

    if (err != NULL && strcmp(err, "out of memory") == 0) {
        fuzz_fail("the promised arena was not enough");
    }

    if (err0 != NULL && strcmp(err0, "out of memory") == 0) {
        err0 = err;
    }

    if ((err == NULL) != (err0 == NULL)
        || (err != NULL && strcmp(err, err0) != 0))
    {
        fuzz_fail("the answer depends on the arena");
    }

    if (err != NULL) {
        if ((err >= body && err < body + size)
            || (err >= mem && err < mem + msize) || *err == '\0')
        {
            fuzz_fail("an error that is not a fixed string");
        }

    } else {
        fuzz_check_report(body, size, mem, msize, &rep);
    }

    fuzz_check_escape(data, size);

    free(mem);
    free(body);

    return 0;
}
