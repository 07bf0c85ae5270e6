/*
 * verify_answer.c: how a device checks that an update-check answer comes
 * from fwgate, unaltered, and answers its own request (RFC 9421 response
 * signature bound to the request, RFC 9530 Content-Digest; OpenSSL 3).
 *
 *   cc -Wall -o verify_answer verify_answer.c -lcrypto
 *   ./verify_answer EDGE.pub 'fw=:<the request's signature>:' ANSWER \
 *       [MAX_AGE]
 *
 * EDGE.pub: the edge's public key (PEM; ed25519 or P-256), the one whose
 * private part is in `fwgate_response_signing`.  The second argument is
 * the Signature header the device sent with its request (label "fw").
 * ANSWER: the raw answer as received: status line, header lines, blank
 * line, body (Content-Length framing; CRLF or LF).  MAX_AGE (default 300):
 * how old, in seconds, the answer's created time may be.
 *
 * Prints "verified" and exits 0, or prints why not and exits 1.  What it
 * checks, in order:
 *   1. Signature-Input is exactly fwgate's shape: label "fwgate", the
 *      components ("@status" "content-digest" "signature";req;key="fw"),
 *      and created within MAX_AGE of the device's clock;
 *   2. Content-Digest is sha-256 of the body, recomputed here;
 *   3. the signature base rebuilt from the status, that Content-Digest,
 *      the device's own request signature and the parameters verifies
 *      with EDGE.pub.
 * A device should act on the body only after all three.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>


#define MAX_ANSWER  65536
#define REQ_LABEL   "fw"
#define COVERED     "(\"@status\" \"content-digest\" " \
                    "\"signature\";req;key=\"" REQ_LABEL "\")"


static int
fail(const char *why)
{
    printf("not verified: %s\n", why);
    return 1;
}


/* the value of header name (case-insensitive); cuts head into lines */
static char *
header(char *head, const char *name)
{
    char    *line, *next, *colon, *v, *e;
    size_t   n;

    n = strlen(name);

    for (line = head; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next) {
            *next++ = '\0';
        }

        e = line + strlen(line);
        if (e > line && e[-1] == '\r') {
            *--e = '\0';
        }

        colon = strchr(line, ':');
        if (colon && (size_t) (colon - line) == n
            && strncasecmp(line, name, n) == 0)
        {
            for (v = colon + 1; *v == ' ' || *v == '\t'; v++) { }
            while (e > v && (e[-1] == ' ' || e[-1] == '\t')) {
                *--e = '\0';
            }
            return v;
        }
    }

    return NULL;
}


/* a copy of the head, so header() can cut it */
static char *
find(const char *head, const char *name, char *buf, size_t size)
{
    char  *copy, *v;

    copy = strdup(head);
    if (copy == NULL) {
        return NULL;
    }

    v = header(copy, name);
    if (v == NULL || strlen(v) >= size) {
        free(copy);
        return NULL;
    }

    strcpy(buf, v);
    free(copy);

    return buf;
}


int
main(int argc, char **argv)
{
    FILE           *f;
    char           *p, *body, *params;
    char            answer[MAX_ANSWER + 1], head[MAX_ANSWER + 1];
    char            cd[256], si[1024], sg[512], want_cd[128], len_s[32];
    char            base[2048], reqsig[512];
    size_t          n, blen, siglen;
    long            max_age, created, now;
    int             status, ok;
    unsigned char   digest[32], sig[128], *der;
    int             derlen;
    EVP_PKEY       *pub;
    EVP_MD_CTX     *md;
    ECDSA_SIG      *es;

    if (argc < 4) {
        fprintf(stderr, "usage: %s EDGE.pub REQUEST_SIGNATURE ANSWER "
                "[MAX_AGE]\n", argv[0]);
        return 2;
    }

    max_age = argc > 4 ? atol(argv[4]) : 300;

    /* the device's own request signature: fw=:<base64>: */

    if (strncmp(argv[2], REQ_LABEL "=:", sizeof(REQ_LABEL "=:") - 1) != 0
        || strlen(argv[2]) >= sizeof(reqsig))
    {
        return fail("the request signature is not " REQ_LABEL "=:...:");
    }

    strcpy(reqsig, argv[2] + sizeof(REQ_LABEL "=") - 1);   /* ":...:" */

    /* the answer: head and body */

    f = fopen(argv[3], "rb");
    if (f == NULL) {
        return fail("cannot read the answer");
    }

    n = fread(answer, 1, MAX_ANSWER, f);
    fclose(f);
    answer[n] = '\0';

    p = strstr(answer, "\r\n\r\n");
    body = p ? p + 4 : NULL;

    if (p == NULL) {
        p = strstr(answer, "\n\n");
        body = p ? p + 2 : NULL;
    }

    if (p == NULL || sscanf(answer, "HTTP/%*s %d", &status) != 1) {
        return fail("not an HTTP answer");
    }

    memcpy(head, answer, (size_t) (p - answer));
    head[p - answer] = '\0';
    blen = n - (size_t) (body - answer);

    if (find(head, "Content-Length", len_s, sizeof(len_s))) {
        if ((size_t) atol(len_s) > blen) {
            return fail("the body is shorter than Content-Length");
        }
        blen = (size_t) atol(len_s);
    }

    if (!find(head, "Content-Digest", cd, sizeof(cd))
        || !find(head, "Signature-Input", si, sizeof(si))
        || !find(head, "Signature", sg, sizeof(sg)))
    {
        return fail("the answer is not signed");
    }

    /* 1. fwgate's shape, and fresh */

    if (strncmp(si, "fwgate=" COVERED ";created=",
                sizeof("fwgate=" COVERED ";created=") - 1) != 0)
    {
        return fail("Signature-Input is not fwgate's");
    }

    params = si + sizeof("fwgate=") - 1;
    created = atol(params + sizeof(COVERED ";created=") - 1);
    now = (long) time(NULL);

    if (created < now - max_age || created > now + 60) {
        return fail("the answer is not fresh");
    }

    /* 2. Content-Digest recomputed from the body */

    if (EVP_Digest(body, blen, digest, NULL, EVP_sha256(), NULL) != 1) {
        return fail("sha-256 failed");
    }

    memcpy(want_cd, "sha-256=:", 9);
    n = (size_t) EVP_EncodeBlock((unsigned char *) want_cd + 9, digest, 32);
    strcpy(want_cd + 9 + n, ":");

    if (strcmp(cd, want_cd) != 0) {
        return fail("Content-Digest does not match the body");
    }

    /* 3. the signature base (RFC 9421 section 2.5), then the signature */

    n = (size_t) snprintf(base, sizeof(base),
                          "\"@status\": %03d\n"
                          "\"content-digest\": %s\n"
                          "\"signature\";req;key=\"" REQ_LABEL "\": %s\n"
                          "\"@signature-params\": %s",
                          status, cd, reqsig, params);
    if (n >= sizeof(base)) {
        return fail("signature base too long");
    }

    if (strncmp(sg, "fwgate=:", 8) != 0 || strlen(sg) < 10
        || sg[strlen(sg) - 1] != ':')
    {
        return fail("no fwgate signature");
    }

    sg[strlen(sg) - 1] = '\0';
    siglen = strlen(sg + 8);

    if (siglen % 4 || siglen / 4 * 3 > sizeof(sig)) {
        return fail("bad signature encoding");
    }

    if (EVP_DecodeBlock(sig, (unsigned char *) sg + 8, (int) siglen) < 0) {
        return fail("bad signature encoding");
    }

    siglen = siglen / 4 * 3;
    if (sg[8 + strlen(sg + 8) - 1] == '=') {
        siglen--;
    }
    if (sg[8 + strlen(sg + 8) - 2] == '=') {
        siglen--;
    }

    f = fopen(argv[1], "r");
    if (f == NULL) {
        return fail("cannot read the edge's key");
    }

    pub = PEM_read_PUBKEY(f, NULL, NULL, NULL);
    fclose(f);

    if (pub == NULL) {
        return fail("the edge's key is not a PEM public key");
    }

    md = EVP_MD_CTX_new();
    ok = 0;

    if (EVP_PKEY_is_a(pub, "ED25519")) {
        ok = siglen == 64
             && EVP_DigestVerifyInit(md, NULL, NULL, NULL, pub) == 1
             && EVP_DigestVerify(md, sig, siglen, (unsigned char *) base,
                                 n) == 1;

    } else if (EVP_PKEY_is_a(pub, "EC") && siglen == 64) {
        /* RFC 9421 section 3.3.4: r || s, 32 bytes each; OpenSSL: DER */
        es = ECDSA_SIG_new();
        der = NULL;

        if (es && ECDSA_SIG_set0(es, BN_bin2bn(sig, 32, NULL),
                                 BN_bin2bn(sig + 32, 32, NULL)) == 1
            && (derlen = i2d_ECDSA_SIG(es, &der)) > 0)
        {
            ok = EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pub) == 1
                 && EVP_DigestVerify(md, der, (size_t) derlen,
                                     (unsigned char *) base, n) == 1;
        }

        OPENSSL_free(der);
        ECDSA_SIG_free(es);
    }

    EVP_MD_CTX_free(md);
    EVP_PKEY_free(pub);

    if (!ok) {
        return fail("bad signature");
    }

    printf("verified\n");

    return 0;
}
