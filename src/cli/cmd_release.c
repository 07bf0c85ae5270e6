/*
 * fwgatectl release-key gen --out PREFIX: an offline release key pair
 * (docs/security.md, "Signed release metadata"), and the helpers the
 * artifact and rollout commands sign with.
 *
 * PREFIX.key: the PEM (PKCS#8) ed25519 private key, mode 0600; it stays
 * offline.  PREFIX.pub: one line "ed25519 <base64 raw 32-byte key>",
 * what fwgate_release_keys and `explain --release-keys` read; key files
 * can be concatenated for rotation.
 */

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "fwg_b64.h"
#include "fwg_release.h"
#include "fwgatectl.h"
#include "fwgctl_opts.h"


static const char release_usage[] =
"usage: fwgatectl release-key gen --out PREFIX\n"
"\n"
"Writes PREFIX.key (PEM ed25519 private key, mode 0600: keep it offline)\n"
"and PREFIX.pub (one line \"ed25519 <base64 raw key>\", for\n"
"fwgate_release_keys).  Never overwrites a file.  Prints the keyid.\n";


static int
release_gen(int argc, char **argv)
{
    int             rc;
    FILE           *f;
    size_t          len;
    EVP_PKEY       *pkey;
    fwg_key_t      *k;
    const char     *out, *err;
    unsigned char   raw[32];
    char            b64[64], priv[4096], pub[4096];
    char            keyid[FWG_RELEASE_KEYID_LEN + 1];
    fwgctl_args_t   a;
    fwgctl_opt_t    opts[] = { { "--out", 1, NULL }, { NULL, 0, NULL } };

    if (fwgctl_args_parse(argc, argv, opts, &a) != 0) {
        return 2;
    }

    out = fwgctl_opt_value(opts, "--out");

    if (a.npos != 0 || out == NULL || out[0] == '\0') {
        return fwgctl_usage("release-key gen: --out PREFIX expected");
    }

    pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    if (pkey == NULL) {
        return fwgctl_err("release-key gen: key generation failed");
    }

    len = sizeof(raw);

    if (EVP_PKEY_get_raw_public_key(pkey, raw, &len) != 1 || len != 32) {
        EVP_PKEY_free(pkey);
        return fwgctl_err("release-key gen: no public key");
    }

    len = fwg_b64_encode(b64, raw, len);
    b64[len] = '\0';

    k = fwg_key_from_record(FWG_ALG_ED25519, b64, len, &err);
    if (k == NULL || fwg_release_keyid(k, keyid) != 0) {
        fwg_key_free(k);
        EVP_PKEY_free(pkey);
        return fwgctl_err("release-key gen: key unusable");
    }

    fwg_key_free(k);

    f = fwgctl_create_new("release-key gen", out, ".key", 0600, priv, sizeof(priv));
    if (f == NULL) {
        EVP_PKEY_free(pkey);
        return 1;
    }

    rc = PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL) == 1;
    EVP_PKEY_free(pkey);

    if ((ferror(f) | fclose(f)) || !rc) {
        return fwgctl_err("cannot write %s", priv);
    }

    f = fwgctl_create_new("release-key gen", out, ".pub", 0644, pub, sizeof(pub));
    if (f == NULL) {
        return 1;
    }

    fprintf(f, "ed25519 %s\n", b64);

    if (ferror(f) | fclose(f)) {
        return fwgctl_err("cannot write %s", pub);
    }

    if (a.json) {
        printf("{\"keyid\":\"%s\",\"key\":", keyid);
        fwgctl_json_str(stdout, priv, strlen(priv));
        printf(",\"pub\":");
        fwgctl_json_str(stdout, pub, strlen(pub));
        printf("}\n");

    } else {
        printf("release key %s: %s (private, keep offline), %s\n", keyid,
               priv, pub);
    }

    return 0;
}


int
cmd_release_key(int argc, char **argv)
{
    if (argc < 2 || fwgctl_wants_help(argc - 1, argv + 1)) {
        fputs(release_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }

    if (strcmp(argv[1], "gen") != 0) {
        return fwgctl_usage("release-key: unknown subcommand '%s' (gen)",
                            argv[1]);
    }

    return release_gen(argc - 2, argv + 2);
}


fwg_key_t *
fwgctl_release_signer(const char *path, const char *what)
{
    fwg_key_t   *k;
    const char  *err;

    err = "unusable";
    k = fwg_key_from_file(FWG_ALG_ED25519, path, &err);

    if (k == NULL) {
        fwgctl_err("%s: release key %s: %s", what, path, err);
        return NULL;
    }

    if (!fwg_key_can_sign(k)) {
        fwg_key_free(k);
        fwgctl_err("%s: release key %s: not a private key", what, path);
        return NULL;
    }

    return k;
}


int
fwgctl_release_sign_artifact(const fwg_key_t *k, const char *name,
    const fwg_artifact_rec_t *rec, char *sig, size_t size)
{
    char    buf[FWG_RELEASE_CANON_MAX];
    size_t  len;

    if (fwg_release_canonical(fwg_cli_str(name), rec, buf, sizeof(buf), &len)
        != 0)
    {
        return fwgctl_err("artifact %s: the record has no canonical form "
                          "(a field with a newline, sha256 not hex, size "
                          "not decimal, over 8 KiB or 256 models)", name);
    }

    if (fwg_release_sign(k, buf, len, sig, size) != 0) {
        return fwgctl_err("artifact %s: signing failed", name);
    }

    return 0;
}


int
fwgctl_release_sign_floor(const fwg_key_t *k, const char *model,
    const char *version, char *sig, size_t size)
{
    char    buf[512];
    size_t  len;

    if (fwg_release_floor_canonical(fwg_cli_str(model), fwg_cli_str(version),
                                    buf, sizeof(buf), &len)
        != 0
        || fwg_release_sign(k, buf, len, sig, size) != 0)
    {
        return fwgctl_err("rollout floor: signing failed");
    }

    return 0;
}
