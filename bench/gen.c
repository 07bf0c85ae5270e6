/*
 * fwgate bench: device keys and pre-signed requests, fast, with the core
 * library's own RFC 9421 code (libfwgcore.a).
 *
 *   gen keys ALG N IDPREFIX MODEL DIR
 *       prints `id,model,,alg,key` CSV rows for `fwgatectl device import`.
 *       hmac-sha256 secrets are derived from the id (SHA-256 of
 *       "fwgate-bench:" id), so 100,000 devices need no files; ed25519
 *       and P-256 private keys go to DIR/<id>.pem.
 *
 *   gen sign ALG N IDPREFIX DIR COUNT PATH AUTHORITY MODEL VERSION
 *            CREATED NONCEPREFIX
 *       prints COUNT lines `Signature-Input<TAB>Signature` (field values
 *       without the label's header name), request i signed by device
 *       i mod N with nonce NONCEPREFIX-i: every request differs.
 *
 *   gen token SECRETFILE DEVICE MODEL VERSION ARTIFACT TTL
 *       prints a download token (fwg_token.h) minted with the secret in
 *       SECRETFILE (less a final newline), valid for TTL seconds.
 *
 * Components: "@method" "@path" "@authority" "x-device-model"
 * "x-firmware-version"; method GET.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include "fwg_b64.h"
#include "fwg_sig.h"
#include "fwg_token.h"

#define COMPONENTS \
    "(\"@method\" \"@path\" \"@authority\" \"x-device-model\" " \
    "\"x-firmware-version\")"


static void
die(const char *what, const char *err)
{
    fprintf(stderr, "gen: %s%s%s\n", what, err ? ": " : "", err ? err : "");
    exit(1);
}


static void
device_id(char *buf, size_t size, const char *prefix, unsigned long i)
{
    snprintf(buf, size, "%s%06lu", prefix, i);
}


/* the hmac secret of a bench device, as a registry record (base64) */
static void
hmac_record(const char *id, char *b64)
{
    unsigned char   md[SHA256_DIGEST_LENGTH];
    SHA256_CTX      c;
    size_t          n;

    SHA256_Init(&c);
    SHA256_Update(&c, "fwgate-bench:", 13);
    SHA256_Update(&c, id, strlen(id));
    SHA256_Final(md, &c);
    n = fwg_b64_encode(b64, md, sizeof(md));
    b64[n] = '\0';
}


static int
keys(fwg_alg_t alg, unsigned long n, const char *prefix, const char *model,
    const char *dir)
{
    unsigned long   i;
    char            id[128], path[4096], rec[512];
    const char     *err;
    EVP_PKEY       *pk;
    FILE           *f;
    fwg_key_t      *k;

    for (i = 0; i < n; i++) {
        device_id(id, sizeof(id), prefix, i);

        if (alg == FWG_ALG_HMAC_SHA256) {
            hmac_record(id, rec);

        } else {
            pk = alg == FWG_ALG_ED25519
                 ? EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")
                 : EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
            if (pk == NULL) {
                die("keygen failed", NULL);
            }
            snprintf(path, sizeof(path), "%s/%s.pem", dir, id);
            f = fopen(path, "w");
            if (f == NULL || !PEM_write_PrivateKey(f, pk, NULL, NULL, 0,
                                                   NULL, NULL))
            {
                die("cannot write", path);
            }
            fclose(f);
            EVP_PKEY_free(pk);

            k = fwg_key_from_file(alg, path, &err);
            if (k == NULL || fwg_key_record(k, rec, sizeof(rec)) < 0) {
                die("key record", err);
            }
            fwg_key_free(k);
        }

        printf("%s,%s,,%s,%s\n", id, model, fwg_alg_name(alg), rec);
    }

    return 0;
}


static int
sign(fwg_alg_t alg, unsigned long n, const char *prefix, const char *dir,
    unsigned long count, char **req)
{
    static char        mem[65536];
    unsigned long      i;
    fwg_key_t        **k;
    fwg_field_t        f[5];
    fwg_msg_t          msg;
    fwg_arena_t        a;
    fwg_sig_input_t    in;
    fwg_str_t          base, empty = { "", 0 };
    const char        *err, *path, *authority, *model, *version;
    const char        *created, *nonce;
    char               id[128], rec[128], kpath[4096], si[1024];
    char               sigb64[1024];
    unsigned char      sig[FWG_SIG_MAX_SIG];
    size_t             siglen, len;

    path = req[0];
    authority = req[1];
    model = req[2];
    version = req[3];
    created = req[4];
    nonce = req[5];

    k = calloc(n, sizeof(fwg_key_t *));
    if (k == NULL) {
        die("out of memory", NULL);
    }

    for (i = 0; i < n; i++) {
        device_id(id, sizeof(id), prefix, i);
        if (alg == FWG_ALG_HMAC_SHA256) {
            hmac_record(id, rec);
            k[i] = fwg_key_from_record(alg, rec, strlen(rec), &err);
        } else {
            snprintf(kpath, sizeof(kpath), "%s/%s.pem", dir, id);
            k[i] = fwg_key_from_file(alg, kpath, &err);
        }
        if (k[i] == NULL || !fwg_key_can_sign(k[i])) {
            die("key", err);
        }
    }

    memset(&msg, 0, sizeof(msg));
    msg.method = (fwg_str_t) fwg_str_lit("GET");
    msg.scheme = (fwg_str_t) fwg_str_lit("http");
    msg.authority.data = authority;
    msg.authority.len = strlen(authority);
    msg.path.data = path;
    msg.path.len = strlen(path);
    msg.fields = f;
    msg.nfields = 5;

    f[0].name = (fwg_str_t) fwg_str_lit("Host");
    f[0].value = msg.authority;
    f[1].name = (fwg_str_t) fwg_str_lit("X-Device-Model");
    f[1].value.data = model;
    f[1].value.len = strlen(model);
    f[2].name = (fwg_str_t) fwg_str_lit("X-Firmware-Version");
    f[2].value.data = version;
    f[2].value.len = strlen(version);
    f[3].name = (fwg_str_t) fwg_str_lit("Signature-Input");
    f[4].name = (fwg_str_t) fwg_str_lit("Signature");
    f[4].value = (fwg_str_t) fwg_str_lit("fw=:AAAA:");

    for (i = 0; i < count; i++) {
        device_id(id, sizeof(id), prefix, i % n);

        len = (size_t) snprintf(si, sizeof(si),
                  "fw=" COMPONENTS ";created=%s;keyid=\"%s\";alg=\"%s\";"
                  "nonce=\"%s-%lu\"", created, id, fwg_alg_name(alg),
                  nonce, i);
        f[3].value.data = si;
        f[3].value.len = len;

        fwg_arena_init(&a, mem, sizeof(mem));

        if (fwg_sig_parse(&msg, empty, &a, &in, &err) != FWG_SIG_OK
            || fwg_sig_base(&msg, &in, &a, &base, &err) != FWG_SIG_OK)
        {
            die("signature base", err);
        }

        if (fwg_sig_sign(k[i % n], base.data, base.len, sig, &siglen) != 0)
        {
            die("sign failed", NULL);
        }

        len = fwg_b64_encode(sigb64, sig, siglen);
        sigb64[len] = '\0';

        printf("%s\tfw=:%s:\n", si, sigb64);
    }

    for (i = 0; i < n; i++) {
        fwg_key_free(k[i]);
    }
    free(k);

    return 0;
}


static int
token(char **argv)
{
    FILE                *f;
    size_t               n;
    fwg_token_t          t;
    fwg_token_secret_t   s;
    unsigned char        sec[FWG_TOKEN_SECRET_MAX + 2];
    char                 out[FWG_TOKEN_MAX_LEN + 1];

    f = fopen(argv[0], "rb");
    if (f == NULL) {
        die("cannot open", argv[0]);
    }

    n = fread(sec, 1, sizeof(sec), f);
    fclose(f);

    if (n > 0 && sec[n - 1] == '\n') {
        n--;
    }

    if (fwg_token_secret_init(&s, sec, n) != 0) {
        die("bad secret", argv[0]);
    }

    memset(&t, 0, sizeof(t));
    t.exp = (int64_t) time(NULL) + strtol(argv[5], NULL, 10);
    t.device.data = argv[1];
    t.device.len = strlen(argv[1]);
    t.model.data = argv[2];
    t.model.len = strlen(argv[2]);
    t.version.data = argv[3];
    t.version.len = strlen(argv[3]);
    t.artifact.data = argv[4];
    t.artifact.len = strlen(argv[4]);

    if (fwg_token_mint(&s, &t, out, sizeof(out) - 1, &n) != 0) {
        die("cannot mint", NULL);
    }

    out[n] = '\0';
    puts(out);
    fwg_token_secret_free(&s);

    return 0;
}


int
main(int argc, char **argv)
{
    fwg_alg_t  alg;

    if (argc >= 7 && strcmp(argv[1], "keys") == 0) {
        alg = fwg_alg_parse(argv[2], strlen(argv[2]));
        if (alg == FWG_ALG_NONE) {
            die("unknown alg", argv[2]);
        }
        return keys(alg, strtoul(argv[3], NULL, 10), argv[4], argv[5],
                    argv[6]);
    }

    if (argc >= 13 && strcmp(argv[1], "sign") == 0) {
        alg = fwg_alg_parse(argv[2], strlen(argv[2]));
        if (alg == FWG_ALG_NONE) {
            die("unknown alg", argv[2]);
        }
        return sign(alg, strtoul(argv[3], NULL, 10), argv[4], argv[5],
                    strtoul(argv[6], NULL, 10), &argv[7]);
    }

    if (argc >= 8 && strcmp(argv[1], "token") == 0) {
        return token(&argv[2]);
    }

    fprintf(stderr,
            "usage: gen keys ALG N IDPREFIX MODEL DIR\n"
            "       gen sign ALG N IDPREFIX DIR COUNT PATH AUTHORITY MODEL\n"
            "                VERSION CREATED NONCEPREFIX\n"
            "       gen token SECRETFILE DEVICE MODEL VERSION ARTIFACT TTL\n");
    return 2;
}
