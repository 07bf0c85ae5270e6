/*
 * fwgatectl sig verify-response: checks a signed update-check answer
 * (fwgate_response_signing) as a device would.
 *
 *   sig verify-response --pub FILE --request-signature VALUE
 *       (--response FILE | --status N --content-digest V
 *        --signature-input V --signature V [--body FILE]) [--label L]
 *
 * --response takes the raw answer as received (status line, header
 * lines, blank line, body; CRLF or LF), e.g. what `curl -si` prints.
 * Prints "verified" (exit 0) or "not verified: <reason>" (exit 1).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fwg_respsig.h"
#include "fwgatectl.h"
#include "fwgctl_opts.h"


#define RESP_MAX_SIZE     (1024 * 1024)
#define RESP_MAX_FIELDS   128
#define RESP_ARENA_SIZE   (256 * 1024)


static const char  resp_usage[] =
    "usage: fwgatectl sig verify-response --pub FILE\n"
    "           --request-signature 'fw=:...:' [--label L]\n"
    "           (--response FILE|- | --status N --content-digest V\n"
    "            --signature-input V --signature V [--body FILE])\n"
    "\n"
    "Checks an answer signed by fwgate_response_signing: Content-Digest\n"
    "against the body, then the RFC 9421 signature over \"@status\",\n"
    "\"content-digest\" and the request's Signature (the value the device\n"
    "sent).  --pub: the edge's public key (PEM, ed25519 or P-256).\n"
    "--response: the raw answer (status line, headers, blank line, body).\n"
    "Prints \"verified\" (exit 0) or \"not verified: <reason>\" (exit 1).\n";


typedef struct {
    char          *buf;
    size_t         len;
    int            status;
    fwg_field_t    f[RESP_MAX_FIELDS];
    size_t         n;
    const char    *body;
    size_t         blen;
} resp_file_t;


static char *
resp_slurp(const char *path, size_t *len)
{
    FILE    *f;
    char    *buf;
    size_t   n;

    f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }

    buf = malloc(RESP_MAX_SIZE + 1);
    if (buf == NULL) {
        if (f != stdin) {
            fclose(f);
        }
        return NULL;
    }

    n = fread(buf, 1, RESP_MAX_SIZE + 1, f);

    if (f != stdin) {
        fclose(f);
    }

    if (n > RESP_MAX_SIZE) {
        free(buf);
        return NULL;
    }

    buf[n] = '\0';
    *len = n;

    return buf;
}


/* the status line, the header lines and the body of a raw answer */
static const char *
resp_parse(resp_file_t *r)
{
    char    *p, *end, *eol, *colon, *v, *ve;
    long     clen;
    size_t   i;

    p = r->buf;
    end = r->buf + r->len;

    eol = memchr(p, '\n', (size_t) (end - p));
    if (eol == NULL || end - p < 12 || strncmp(p, "HTTP/", 5) != 0) {
        return "not an HTTP response (no status line)";
    }

    v = memchr(p, ' ', (size_t) (eol - p));
    if (v == NULL || eol - v < 4) {
        return "bad status line";
    }

    r->status = 0;

    for (i = 1; i <= 3; i++) {
        if (v[i] < '0' || v[i] > '9') {
            return "bad status code";
        }

        r->status = r->status * 10 + (v[i] - '0');
    }

    p = eol + 1;
    r->n = 0;
    clen = -1;

    for ( ;; ) {
        if (p >= end) {
            return "the header section does not end";
        }

        eol = memchr(p, '\n', (size_t) (end - p));
        if (eol == NULL) {
            return "the header section does not end";
        }

        ve = eol;
        if (ve > p && ve[-1] == '\r') {
            ve--;
        }

        if (ve == p) {
            p = eol + 1;
            break;
        }

        if (*p == ' ' || *p == '\t') {
            return "obsolete line folding";
        }

        colon = memchr(p, ':', (size_t) (ve - p));
        if (colon == NULL || colon == p) {
            return "a header line without a name";
        }

        if (r->n == RESP_MAX_FIELDS) {
            return "too many header lines";
        }

        for (v = colon + 1; v < ve && (*v == ' ' || *v == '\t'); v++) {
            /* void */
        }

        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) {
            ve--;
        }

        r->f[r->n].name.data = p;
        r->f[r->n].name.len = (size_t) (colon - p);
        r->f[r->n].value.data = v;
        r->f[r->n].value.len = (size_t) (ve - v);

        if (r->f[r->n].name.len == 17
            && strncasecmp(p, "transfer-encoding", 17) == 0)
        {
            return "a chunked answer: give its decoded body with --body";
        }

        if (r->f[r->n].name.len == 14
            && strncasecmp(p, "content-length", 14) == 0)
        {
            clen = strtol(v, NULL, 10);
        }

        r->n++;
        p = eol + 1;
    }

    r->body = p;
    r->blen = (size_t) (end - p);

    if (clen >= 0) {
        if ((size_t) clen > r->blen) {
            return "the body is shorter than Content-Length";
        }

        r->blen = (size_t) clen;
    }

    return NULL;
}


static int
resp_verdict(const char *reason)
{
    if (fwg_cli.json) {
        printf("{\"verified\":%s", reason ? "false" : "true");

        if (reason) {
            printf(",\"reason\":");
            fwgctl_json_str(stdout, reason, strlen(reason));
        }

        printf("}\n");

    } else if (reason) {
        printf("not verified: %s\n", reason);

    } else {
        printf("verified\n");
    }

    return reason ? 1 : 0;
}


int
sig_verify_response(int argc, char **argv)
{
    int             rc;
    char           *arena_mem;
    size_t          blen;
    fwg_key_t      *k;
    fwg_str_t       label;
    fwg_msg_t       msg;
    fwg_arena_t     a;
    resp_file_t     r;
    const char     *err, *pub, *rfile, *bfile, *reqsig, *status;
    const char     *cd, *si, *sg, *l;
    fwgctl_opts_t   o;
    fwgctl_opt_t    opts[] = {
        { "--pub", 1, NULL }, { "--response", 1, NULL },
        { "--request-signature", 1, NULL }, { "--status", 1, NULL },
        { "--content-digest", 1, NULL }, { "--signature-input", 1, NULL },
        { "--signature", 1, NULL }, { "--body", 1, NULL },
        { "--label", 1, NULL }, { NULL, 0, NULL }
    };

    fwgctl_opts_init(&o, argc, argv, 0);

    while ((rc = fwgctl_opt_next(&o, opts)) != FWGCTL_OPT_END) {
        if (rc == FWGCTL_OPT_HELP) {
            fputs(resp_usage, stdout);
            return 0;
        }

        if (rc == FWGCTL_OPT_NO_VALUE) {
            fwg_cli_die("%s needs a value", o.opt->name);
        }

        if (rc != FWGCTL_OPT_MATCH) {
            fwg_cli_die("sig verify-response: unexpected argument '%s'",
                        o.arg);
        }
    }

    pub = fwgctl_opt_value(opts, "--pub");
    rfile = fwgctl_opt_value(opts, "--response");
    reqsig = fwgctl_opt_value(opts, "--request-signature");
    status = fwgctl_opt_value(opts, "--status");
    cd = fwgctl_opt_value(opts, "--content-digest");
    si = fwgctl_opt_value(opts, "--signature-input");
    sg = fwgctl_opt_value(opts, "--signature");
    bfile = fwgctl_opt_value(opts, "--body");
    l = fwgctl_opt_value(opts, "--label");

    if (pub == NULL || reqsig == NULL) {
        fwg_cli_die("sig verify-response: --pub and --request-signature "
                    "are required");
    }

    if ((rfile == NULL) == (status == NULL || si == NULL || sg == NULL
                            || cd == NULL))
    {
        fwg_cli_die("sig verify-response: give --response FILE, or "
                    "--status, --content-digest, --signature-input and "
                    "--signature");
    }

    memset(&r, 0, sizeof(r));

    if (rfile) {
        if (status || cd || si || sg) {
            fwg_cli_die("sig verify-response: --response excludes --status, "
                        "--content-digest, --signature-input, --signature");
        }

        r.buf = resp_slurp(rfile, &r.len);
        if (r.buf == NULL) {
            return fwgctl_err("%s: cannot read (or larger than %d bytes)",
                              rfile, RESP_MAX_SIZE);
        }

        err = resp_parse(&r);
        if (err) {
            free(r.buf);
            return fwgctl_err("%s: %s", rfile, err);
        }

    } else {
        r.status = atoi(status);
        if (r.status < 100 || r.status > 999) {
            fwg_cli_die("sig verify-response: bad --status '%s'", status);
        }

        r.f[0].name = fwg_cli_str("Content-Digest");
        r.f[0].value = fwg_cli_str(cd);
        r.f[1].name = fwg_cli_str("Signature-Input");
        r.f[1].value = fwg_cli_str(si);
        r.f[2].name = fwg_cli_str("Signature");
        r.f[2].value = fwg_cli_str(sg);
        r.n = 3;
        r.body = "";
        r.blen = 0;
    }

    /* --body replaces the body (a chunked or saved answer) */

    if (bfile) {
        char  *b;

        b = resp_slurp(bfile, &blen);
        if (b == NULL) {
            free(r.buf);
            return fwgctl_err("%s: cannot read (or larger than %d bytes)",
                              bfile, RESP_MAX_SIZE);
        }

        r.body = b;
        r.blen = blen;
    }

    k = fwg_key_from_file(FWG_ALG_NONE, pub, &err);
    if (k == NULL) {
        return fwgctl_err("%s: %s", pub, err);
    }

    if (fwg_key_alg(k) != FWG_ALG_ED25519
        && fwg_key_alg(k) != FWG_ALG_ECDSA_P256_SHA256)
    {
        fwg_key_free(k);
        return fwgctl_err("%s: not an ed25519 or P-256 key", pub);
    }

    arena_mem = malloc(RESP_ARENA_SIZE);
    if (arena_mem == NULL) {
        fwg_key_free(k);
        return fwgctl_err("out of memory");
    }

    fwg_arena_init(&a, arena_mem, RESP_ARENA_SIZE);

    memset(&msg, 0, sizeof(msg));
    msg.fields = r.f;
    msg.nfields = r.n;

    label = fwg_cli_str(l ? l : "");
    err = NULL;

    rc = fwg_respsig_verify(k, r.status, &msg,
                            (const unsigned char *) r.body, r.blen,
                            fwg_cli_str(reqsig), label, &a, &err);

    fwg_key_free(k);
    free(arena_mem);

    if (rc < 0) {
        return fwgctl_err("verification error: %s", err ? err : "");
    }

    return resp_verdict(rc == 1 ? NULL : (err ? err : "bad signature"));
}
