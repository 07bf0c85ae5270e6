/*
 * sign_request.c: how a device signs a firmware request for fwgate
 * (RFC 9421 HTTP Message Signatures, Ed25519, OpenSSL 3).
 *
 *   cc -Wall -o sign_request sign_request.c -lcrypto
 *   ./sign_request KEY.pem KEYID METHOD AUTHORITY PATH MODEL VERSION
 *
 * KEY.pem is the device's Ed25519 private key (PKCS#8 PEM, as written by
 * `fwgatectl sig keygen --alg ed25519` or `device add --gen-key`).  The
 * program prints the request head a device would send: the request line,
 * Host, the two claim headers, Signature-Input and Signature.  Feed it to
 * `fwgatectl sig verify --key KEY.pub -` to check it.
 *
 * The signature covers "@method" "@path" "@authority" "x-device-model"
 * "x-firmware-version" (fwgate's default policy requires all but
 * "@authority"; covering more is allowed), with created, keyid, alg and
 * a fresh random nonce.
 */

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>


#define COMPONENTS  "(\"@method\" \"@path\" \"@authority\" " \
                    "\"x-device-model\" \"x-firmware-version\")"


/*
 * Values that go into an RFC 8941 string (keyid, nonce) or a header line
 * must be printable ASCII without '"' and '\'; refuse anything else
 * rather than escape it.
 */
static int
plain(const char *s)
{
    if (*s == '\0') {
        return 0;
    }

    for ( ; *s; s++) {
        if (*s < 0x21 || *s > 0x7e || *s == '"' || *s == '\\') {
            return 0;
        }
    }

    return 1;
}


int
main(int argc, char **argv)
{
    FILE           *f;
    EVP_PKEY       *key;
    EVP_MD_CTX     *md;
    size_t          i, siglen;
    long long       created;
    unsigned char   rnd[8], sig[64];
    char            nonce[17], params[512], base[2048], b64[100];
    const char     *keyfile, *keyid, *method, *authority, *path, *model,
                   *version;
    int             n;

    if (argc != 8) {
        fprintf(stderr, "usage: %s KEY.pem KEYID METHOD AUTHORITY PATH "
                "MODEL VERSION\n", argv[0]);
        return 2;
    }

    keyfile = argv[1];
    keyid = argv[2];
    method = argv[3];       /* "GET", as sent on the request line */
    authority = argv[4];    /* host[:port], lowercase, no default port */
    path = argv[5];         /* the path as sent, without the query */
    model = argv[6];
    version = argv[7];

    for (i = 2; i < 8; i++) {
        if (!plain(argv[i])) {
            fprintf(stderr, "argument %zu: printable ASCII without quotes "
                    "or backslashes expected\n", i);
            return 2;
        }
    }

    f = fopen(keyfile, "r");
    if (f == NULL) {
        perror(keyfile);
        return 1;
    }

    key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);

    if (key == NULL || EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
        fprintf(stderr, "%s: not an Ed25519 private key\n", keyfile);
        return 1;
    }

    /* a nonce the edge has not seen from this keyid: 8 random bytes */

    if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
        fprintf(stderr, "no randomness\n");
        return 1;
    }

    for (i = 0; i < sizeof(rnd); i++) {
        snprintf(nonce + 2 * i, 3, "%02x", rnd[i]);
    }

    /* the device's clock must be within the edge's max_age / clock_skew */

    created = (long long) time(NULL);

    /* @signature-params: the inner list exactly as Signature-Input says */

    n = snprintf(params, sizeof(params),
                 COMPONENTS ";created=%lld;keyid=\"%s\";alg=\"ed25519\""
                 ";nonce=\"%s\"", created, keyid, nonce);
    if (n < 0 || (size_t) n >= sizeof(params)) {
        fprintf(stderr, "parameters too long\n");
        return 1;
    }

    /*
     * The signature base, RFC 9421 section 2.5: one line per covered
     * component, in the order listed, then "@signature-params"; lines
     * end with LF and the last one has none.
     */

    n = snprintf(base, sizeof(base),
                 "\"@method\": %s\n"
                 "\"@path\": %s\n"
                 "\"@authority\": %s\n"
                 "\"x-device-model\": %s\n"
                 "\"x-firmware-version\": %s\n"
                 "\"@signature-params\": %s",
                 method, path, authority, model, version, params);
    if (n < 0 || (size_t) n >= sizeof(base)) {
        fprintf(stderr, "signature base too long\n");
        return 1;
    }

    /* Ed25519 signs the message itself: no digest (NULL md) */

    md = EVP_MD_CTX_new();
    siglen = sizeof(sig);

    if (md == NULL
        || EVP_DigestSignInit(md, NULL, NULL, NULL, key) != 1
        || EVP_DigestSign(md, sig, &siglen, (unsigned char *) base,
                          (size_t) n) != 1)
    {
        fprintf(stderr, "signing failed\n");
        return 1;
    }

    EVP_MD_CTX_free(md);
    EVP_PKEY_free(key);

    EVP_EncodeBlock((unsigned char *) b64, sig, (int) siglen);

    /* the request head; the label "fw" names this signature */

    printf("%s %s HTTP/1.1\r\n", method, path);
    printf("Host: %s\r\n", authority);
    printf("X-Device-Model: %s\r\n", model);
    printf("X-Firmware-Version: %s\r\n", version);
    printf("Signature-Input: fw=%s\r\n", params);
    printf("Signature: fw=:%s:\r\n", b64);
    printf("\r\n");

    return 0;
}
