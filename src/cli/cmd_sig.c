/*
 * fwgatectl sig: device-side RFC 9421 signing and debugging.
 *
 *   sig keygen  --alg ALG [--out PREFIX]
 *   sig sign    --alg ALG --key FILE --keyid ID [...] METHOD URL
 *   sig base    [--label L] [--scheme S] FILE|-
 *   sig verify  --key FILE [--alg ALG] [--label L] [--max-age S] FILE|-
 *   sig verify-response ...    (cmd_sigresp.c)
 *
 * Signing goes through the verifier's own code: the Signature-Input the
 * signer will send is parsed back with fwg_sig_parse() and its base built
 * with fwg_sig_base(), so what is signed is what the gate will check.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "fwg_b64.h"
#include "fwg_sf.h"
#include "fwg_sig.h"
#include "fwgatectl.h"
#include "fwgctl_opts.h"
#include "http_request.h"


#define SIG_ARENA_SIZE       (1024 * 1024)
#define SIG_MAX_HEADERS      64
#define SIG_DEFAULT_SKEW     30
#define SIG_DEFAULT_COMPONENTS                                                \
    "\"@method\" \"@path\" \"@authority\" \"x-device-model\" "               \
    "\"x-firmware-version\""


static const char  sig_usage[] =
    "usage: fwgatectl sig keygen --alg ALG [--out PREFIX]\n"
    "       fwgatectl sig sign --key FILE --keyid ID [--alg ALG] [--label L]\n"
    "                 [--components '\"@method\" \"@path\" ...']\n"
    "                 [--created T|now] [--expires T|+S] [--nonce N|random]\n"
    "                 [--tag T] [--no-alg] [-H 'Name: value' ...] [--curl]\n"
    "                 METHOD URL\n"
    "       fwgatectl sig base [--label L] [--scheme S] FILE|-\n"
    "       fwgatectl sig verify --key FILE [--alg ALG] [--label L]\n"
    "                 [--max-age S] [--clock-skew S] [--scheme S] FILE|-\n"
    "       fwgatectl sig verify-response --pub FILE --request-signature V\n"
    "                 (--response FILE|- | --status N --content-digest V\n"
    "                  --signature-input V --signature V [--body FILE])\n"
    "\n"
    "ALG: ed25519, ecdsa-p256-sha256, hmac-sha256.\n"
    "keygen writes PREFIX.pem and PREFIX.pub (PEM), or PREFIX.key (base64\n"
    "secret) for hmac-sha256, and prints the registry form of the key.\n"
    "sign prints Signature-Input and Signature header lines (with --curl,\n"
    "curl -H arguments for every header); default components: "
    SIG_DEFAULT_COMPONENTS ".\n"
    "base prints the signature base of a raw HTTP/1.1 request, byte for\n"
    "byte; verify prints \"verified\" (exit 0) or the reason (exit 1).\n"
    "An origin-form request's scheme is --scheme (default https).\n";


static char  *sig_arena_mem;


static void
sig_arena(fwg_arena_t *a)
{
    if (sig_arena_mem == NULL) {
        sig_arena_mem = malloc(SIG_ARENA_SIZE);
        if (sig_arena_mem == NULL) {
            fwg_cli_die("out of memory");
        }
    }

    fwg_arena_init(a, sig_arena_mem, SIG_ARENA_SIZE);
}


/*
 * The next argument (fwgctl_opt_next).  --help prints the usage and ends
 * fwgatectl (exit 0); an option whose value is missing ends it as a bad
 * global option does (exit 2).
 */
static int
sig_opt_next(fwgctl_opts_t *o, fwgctl_opt_t *opts)
{
    int  rc;

    rc = fwgctl_opt_next(o, opts);

    if (rc == FWGCTL_OPT_HELP) {
        fputs(sig_usage, stdout);
        exit(0);
    }

    if (rc == FWGCTL_OPT_NO_VALUE) {
        fwg_cli_die("%s needs a value", o->opt->name);
    }

    return rc;
}


static fwg_alg_t
sig_alg_arg(const char *s)
{
    fwg_alg_t  alg;

    alg = fwg_alg_parse(s, strlen(s));
    if (alg == FWG_ALG_NONE) {
        fwg_cli_die("sig: unknown algorithm '%s' (ed25519, "
                    "ecdsa-p256-sha256, hmac-sha256)", s);
    }

    return alg;
}


static int64_t
sig_int_arg(const char *name, const char *s, int64_t min)
{
    long long   v;
    char       *end;

    errno = 0;
    v = strtoll(s, &end, 10);

    if (s[0] == '\0' || *end != '\0' || errno || v < min
        || v > 999999999999999LL)
    {
        fwg_cli_die("sig: bad %s '%s'", name, s);
    }

    return (int64_t) v;
}


/* -H 'Name: value' for curl, single-quoted for a POSIX shell */
static void
sig_curl_quoted(const char *s, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (s[i] == '\'') {
            fputs("'\\''", stdout);

        } else {
            fputc(s[i], stdout);
        }
    }
}


static void
sig_curl_header(fwg_str_t name, const char *label, const char *value,
    size_t len)
{
    fputs("-H '", stdout);
    sig_curl_quoted(name.data, name.len);
    fputs(": ", stdout);

    if (label) {
        sig_curl_quoted(label, strlen(label));
        fputs("=:", stdout);
        sig_curl_quoted(value, len);
        fputc(':', stdout);

    } else {
        sig_curl_quoted(value, len);
    }

    fputc('\'', stdout);
}


/* keygen -------------------------------------------------------------- */

static int
sig_close(FILE *f, const char *path)
{
    if (ferror(f) | fclose(f)) {
        return fwgctl_err("cannot write %s", path);
    }

    return 0;
}


/* the registry form of a fresh key pair */
static int
sig_pkey_record(EVP_PKEY *pkey, fwg_alg_t alg, char *rec, size_t size)
{
    size_t          len;
    unsigned char   raw[128];
    fwg_key_t      *k;
    const char     *err;
    char            b64[256];

    if (alg == FWG_ALG_ED25519) {
        len = sizeof(raw);
        if (EVP_PKEY_get_raw_public_key(pkey, raw, &len) != 1) {
            return -1;
        }

    } else {
        if (EVP_PKEY_set_utf8_string_param(pkey,
                OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, "uncompressed")
            != 1
            || EVP_PKEY_get_octet_string_param(pkey,
                   OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, raw, sizeof(raw), &len)
               != 1)
        {
            return -1;
        }
    }

    len = fwg_b64_encode(b64, raw, len);

    /* the core must accept it back, or the record is no use */
    k = fwg_key_from_record(alg, b64, len, &err);
    if (k == NULL) {
        return -1;
    }

    if (fwg_key_record(k, rec, size) < 0) {
        fwg_key_free(k);
        return -1;
    }

    fwg_key_free(k);

    return 0;
}


static int
sig_keygen(int argc, char **argv)
{
    int              rc;
    FILE            *f;
    fwg_alg_t        alg;
    EVP_PKEY        *pkey;
    const char      *v, *out;
    unsigned char    secret[32];
    char             rec[256], priv[1024], pub[1024], *pem;
    long             pemlen;
    BIO             *bio;
    fwgctl_opts_t    o;
    fwgctl_opt_t     opts[] = {
        { "--alg", 1, NULL }, { "--out", 1, NULL }, { NULL, 0, NULL }
    };

    alg = FWG_ALG_NONE;
    out = NULL;
    bio = NULL;
    pem = NULL;
    pemlen = 0;

    fwgctl_opts_init(&o, argc, argv, 0);

    while ((rc = sig_opt_next(&o, opts)) != FWGCTL_OPT_END) {
        if (rc != FWGCTL_OPT_MATCH) {
            fwg_cli_die("sig keygen: unexpected argument '%s'", o.arg);
        }

        v = o.value;

        if (strcmp(o.opt->name, "--alg") == 0) {
            alg = sig_alg_arg(v);

        } else {
            if (v[0] == '\0') {
                fwg_cli_die("sig keygen: empty --out");
            }
            out = v;
        }
    }

    if (alg == FWG_ALG_NONE) {
        fwg_cli_die("sig keygen: --alg is required");
    }

    if (alg == FWG_ALG_HMAC_SHA256) {
        if (RAND_bytes(secret, sizeof(secret)) != 1) {
            return fwgctl_err("no randomness");
        }

        fwg_b64_encode(rec, secret, sizeof(secret));
        rec[fwg_b64_enc_len(sizeof(secret))] = '\0';
        OPENSSL_cleanse(secret, sizeof(secret));

        if (out) {
            f = fwgctl_create_new("sig", out, ".key", 0600, priv, sizeof(priv));
            if (f == NULL) {
                return 1;
            }

            fprintf(f, "%s\n", rec);

            if (sig_close(f, priv) != 0) {
                return 1;
            }
        }

        if (fwg_cli.json) {
            printf("{\"alg\":\"hmac-sha256\",\"key\":\"%s\"", rec);
            if (out) {
                fwgctl_json_kv(stdout, "secret_file", fwg_cli_str(priv), 1);
            }
            printf("}\n");

        } else {
            printf("%s\n", rec);
            if (out) {
                fprintf(stderr, "wrote %s (keep it secret; the registry "
                        "holds the same value)\n", priv);
            }
        }

        OPENSSL_cleanse(rec, sizeof(rec));

        return 0;
    }

    if (alg == FWG_ALG_ED25519) {
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");

    } else {
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    }

    if (pkey == NULL) {
        return fwgctl_err("key generation failed");
    }

    if (sig_pkey_record(pkey, alg, rec, sizeof(rec)) != 0) {
        EVP_PKEY_free(pkey);
        return fwgctl_err("cannot encode the public key");
    }

    rc = 0;

    if (out) {
        f = fwgctl_create_new("sig", out, ".pem", 0600, priv, sizeof(priv));
        if (f == NULL) {
            EVP_PKEY_free(pkey);
            return 1;
        }

        if (PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL) != 1) {
            rc = fwgctl_err("cannot write %s", priv);
        }

        if (sig_close(f, priv) != 0) {
            rc = 1;
        }

        f = rc ? NULL : fwgctl_create_new("sig", out, ".pub", 0644, pub, sizeof(pub));
        if (f == NULL) {
            EVP_PKEY_free(pkey);
            return 1;
        }

        if (PEM_write_PUBKEY(f, pkey) != 1) {
            rc = fwgctl_err("cannot write %s", pub);
        }

        if (sig_close(f, pub) != 0) {
            rc = 1;
        }

    } else if (!fwg_cli.json) {
        if (PEM_write_PrivateKey(stdout, pkey, NULL, NULL, 0, NULL, NULL)
            != 1)
        {
            rc = fwgctl_err("cannot write the private key");
        }

    } else {
        /* no file: the private key goes into the JSON, or it is lost */
        bio = BIO_new(BIO_s_mem());

        if (bio == NULL
            || PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL)
               != 1)
        {
            rc = fwgctl_err("cannot write the private key");

        } else {
            pemlen = BIO_get_mem_data(bio, &pem);
        }
    }

    EVP_PKEY_free(pkey);

    if (rc) {
        BIO_free(bio);
        return rc;
    }

    if (fwg_cli.json) {
        printf("{\"alg\":\"%s\",\"key\":\"%s\"", fwg_alg_name(alg), rec);
        if (pem) {
            printf(",\"private_pem\":");
            fwgctl_json_str(stdout, pem, (size_t) pemlen);
        }
        if (out) {
            fwgctl_json_kv(stdout, "private_file", fwg_cli_str(priv), 1);
            fwgctl_json_kv(stdout, "public_file", fwg_cli_str(pub), 1);
        }
        printf("}\n");
        BIO_free(bio);

    } else {
        printf("%s\n", rec);
        if (out) {
            fprintf(stderr, "wrote %s (private) and %s (public); the line "
                    "above is the registry key\n", priv, pub);
        }
    }

    return 0;
}


/* sign ---------------------------------------------------------------- */

typedef struct {
    const char   *scheme;
    size_t        scheme_len;
    const char   *authority;
    size_t        authority_len;
    const char   *path;
    size_t        path_len;
    const char   *query;
    size_t        query_len;
    int           has_query;
} sig_url_t;


static int
sig_parse_url(const char *url, sig_url_t *u)
{
    const char  *p, *a, *end;

    memset(u, 0, sizeof(*u));

    if (strncmp(url, "https://", 8) == 0) {
        u->scheme = "https";

    } else if (strncmp(url, "http://", 7) == 0) {
        u->scheme = "http";

    } else {
        return -1;
    }

    u->scheme_len = strlen(u->scheme);
    a = url + u->scheme_len + 3;
    end = a + strcspn(a, "#");

    for (p = a; p < end && *p != '/' && *p != '?'; p++) {
        /* void */
    }

    if (p == a) {
        return -1;
    }

    u->authority = a;
    u->authority_len = (size_t) (p - a);

    if (memchr(a, '@', u->authority_len)) {
        return -1;      /* userinfo is not part of an HTTP authority */
    }

    u->path = p;

    for ( /* void */ ; p < end && *p != '?'; p++) {
        /* void */
    }

    u->path_len = (size_t) (p - u->path);

    if (p < end) {
        u->has_query = 1;
        u->query = p + 1;
        u->query_len = (size_t) (end - p - 1);
    }

    return 0;
}


/* "Name: value" into a field; the name must be a token */
static void
sig_header_arg(const char *h, fwg_field_t *f)
{
    size_t        i;
    const char   *colon;

    colon = strchr(h, ':');
    if (colon == NULL || colon == h) {
        fwg_cli_die("sig sign: -H needs 'Name: value', got '%s'", h);
    }

    for (i = 0; h + i < colon; i++) {
        if (!(((h[i] | 0x20) >= 'a' && (h[i] | 0x20) <= 'z')
              || (h[i] >= '0' && h[i] <= '9')
              || strchr("!#$%&'*+-.^_`|~", h[i]) != NULL))
        {
            fwg_cli_die("sig sign: bad header name in '%s'", h);
        }
    }

    f->name.data = h;
    f->name.len = (size_t) (colon - h);
    f->value.data = colon + 1;
    f->value.len = strlen(colon + 1);

    while (f->value.len && (f->value.data[0] == ' '
                            || f->value.data[0] == '\t'))
    {
        f->value.data++;
        f->value.len--;
    }

    while (f->value.len && (f->value.data[f->value.len - 1] == ' '
                            || f->value.data[f->value.len - 1] == '\t'))
    {
        f->value.len--;
    }

    for (i = 0; i < f->value.len; i++) {
        if (f->value.data[i] == '\r' || f->value.data[i] == '\n') {
            fwg_cli_die("sig sign: newline in header '%.*s'",
                        (int) f->name.len, f->name.data);
        }
    }

    if ((f->name.len == 9 && strncasecmp(h, "signature", 9) == 0)
        || (f->name.len == 15 && strncasecmp(h, "signature-input", 15) == 0))
    {
        fwg_cli_die("sig sign: -H %.*s would clash with the signature",
                    (int) f->name.len, h);
    }
}


static void
sig_param(fwg_sf_param_t *p, const char *key, fwg_sf_type_t type,
    int64_t i, const char *s)
{
    memset(p, 0, sizeof(*p));
    p->key = fwg_cli_str(key);
    p->value.type = type;
    p->value.integer = i;
    p->value.str = fwg_cli_str(s);
}


static int
sig_sign(int argc, char **argv)
{
    int               rc, curl, no_alg, npos, has_expires;
    long              n;
    char             *si, *sv, b64[FWG_SIG_MAX_SIG * 2], nonce_buf[40];
    size_t            nh, np, siglen, j, len, nlist;
    int64_t           created, expires;
    sig_url_t         url;
    fwg_key_t        *k;
    fwg_alg_t         alg;
    fwg_str_t         base, value;
    fwg_msg_t         msg;
    fwg_arena_t       a;
    fwg_sf_item_t     inner;
    fwg_sf_member_t  *list;
    fwg_sf_param_t    params[6];
    fwg_sig_input_t   in;
    fwg_field_t       fields[SIG_MAX_HEADERS + 2];
    const char       *v, *err, *keyfile, *keyid, *label, *comps, *nonce;
    const char       *tag, *name, *pos[2];
    unsigned char     sig[FWG_SIG_MAX_SIG], rnd[8];
    fwgctl_opts_t     o;
    fwgctl_opt_t      opts[] = {
        { "--alg", 1, NULL }, { "--key", 1, NULL }, { "--keyid", 1, NULL },
        { "--label", 1, NULL }, { "--components", 1, NULL },
        { "--created", 1, NULL }, { "--expires", 1, NULL },
        { "--nonce", 1, NULL }, { "--tag", 1, NULL }, { "-H", 1, NULL },
        { "--header", 1, NULL }, { "--curl", 0, NULL },
        { "--no-alg", 0, NULL }, { NULL, 0, NULL }
    };

    alg = FWG_ALG_NONE;
    keyfile = NULL;
    keyid = NULL;
    label = "fw";
    comps = SIG_DEFAULT_COMPONENTS;
    nonce = NULL;
    tag = NULL;
    curl = 0;
    no_alg = 0;
    npos = 0;
    nh = 0;
    created = (int64_t) time(NULL);
    expires = 0;
    has_expires = 0;
    v = NULL;

    fwgctl_opts_init(&o, argc, argv, 0);

    while ((rc = sig_opt_next(&o, opts)) != FWGCTL_OPT_END) {
        if (rc == FWGCTL_OPT_ARG) {
            if (npos == 2) {
                fwg_cli_die("sig sign: unexpected argument '%s'", o.arg);
            }

            pos[npos++] = o.arg;
            continue;
        }

        if (rc != FWGCTL_OPT_MATCH) {
            fwg_cli_die("sig sign: unknown option '%s'", o.arg);
        }

        name = o.opt->name;
        v = o.value;

        if (strcmp(name, "--alg") == 0) {
            alg = sig_alg_arg(v);

        } else if (strcmp(name, "--key") == 0) {
            keyfile = v;

        } else if (strcmp(name, "--keyid") == 0) {
            keyid = v;

        } else if (strcmp(name, "--label") == 0) {
            label = v;

        } else if (strcmp(name, "--components") == 0) {
            comps = v;

        } else if (strcmp(name, "--created") == 0) {
            if (strcmp(v, "now") != 0) {
                created = sig_int_arg("--created", v, 0);
            }

        } else if (strcmp(name, "--expires") == 0) {
            has_expires = 1;
            expires = sig_int_arg("--expires", v[0] == '+' ? v + 1 : v, 0);
            if (v[0] == '+') {
                has_expires = 2;        /* relative to created */
            }

        } else if (strcmp(name, "--nonce") == 0) {
            nonce = v;

        } else if (strcmp(name, "--tag") == 0) {
            tag = v;

        } else if (strcmp(name, "-H") == 0 || strcmp(name, "--header") == 0) {
            if (nh == SIG_MAX_HEADERS) {
                fwg_cli_die("sig sign: more than %d headers",
                            SIG_MAX_HEADERS);
            }

            sig_header_arg(v, &fields[nh++]);

        } else if (strcmp(name, "--curl") == 0) {
            curl = 1;

        } else {
            no_alg = 1;
        }
    }

    if (npos != 2) {
        fwg_cli_die("sig sign: METHOD and URL are required");
    }

    if (keyfile == NULL || keyid == NULL) {
        fwg_cli_die("sig sign: --key and --keyid are required");
    }

    if (has_expires == 2) {
        expires += created;
    }

    if (sig_parse_url(pos[1], &url) != 0) {
        fwg_cli_die("sig sign: URL must be http(s)://authority[/path]"
                    "[?query], got '%s'", pos[1]);
    }

    for (j = 0; pos[0][j]; j++) {
        if (strchr(" \t\r\n:/", pos[0][j]) != NULL) {
            fwg_cli_die("sig sign: bad method '%s'", pos[0]);
        }
    }

    if (nonce && strcmp(nonce, "random") == 0) {
        if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
            return fwgctl_err("no randomness");
        }

        len = fwg_hex_encode(nonce_buf, rnd, sizeof(rnd));
        nonce_buf[len] = '\0';
        nonce = nonce_buf;
    }

    k = fwg_key_from_file(alg, keyfile, &err);
    if (k == NULL) {
        return fwgctl_err("%s: %s", keyfile, err);
    }

    alg = fwg_key_alg(k);

    if (!fwg_key_can_sign(k)) {
        fwg_key_free(k);
        return fwgctl_err("%s holds no private key", keyfile);
    }

    sig_arena(&a);

    /* the covered components, as the signer wrote them */

    n = (long) strlen(comps) + 3;
    si = fwg_arena_alloc(&a, (size_t) n);
    if (si == NULL) {
        fwg_key_free(k);
        fwg_cli_die("sig sign: --components too long");
    }

    snprintf(si, (size_t) n, "(%s)", comps);

    /* a top-level Item cannot be an inner list: parse a List of one */

    if (fwg_sf_parse_list(si, strlen(si), &a, &list, &nlist, &err)
        != FWG_SF_OK
        || nlist != 1 || list[0].value.bare.type != FWG_SF_INNER_LIST
        || list[0].value.nparams != 0)
    {
        fwg_key_free(k);
        fwg_cli_die("sig sign: --components is not a list of quoted "
                    "component names: %s", comps);
    }

    inner = list[0].value;

    np = 0;
    sig_param(&params[np++], "created", FWG_SF_INTEGER, created, NULL);

    if (has_expires) {
        sig_param(&params[np++], "expires", FWG_SF_INTEGER, expires, NULL);
    }

    sig_param(&params[np++], "keyid", FWG_SF_STRING, 0, keyid);

    if (!no_alg) {
        sig_param(&params[np++], "alg", FWG_SF_STRING, 0, fwg_alg_name(alg));
    }

    if (nonce) {
        sig_param(&params[np++], "nonce", FWG_SF_STRING, 0, nonce);
    }

    if (tag) {
        sig_param(&params[np++], "tag", FWG_SF_STRING, 0, tag);
    }

    inner.params = params;
    inner.nparams = np;

    /* LABEL=<inner list>: the Signature-Input field value */

    len = strlen(label);
    si = fwg_arena_alloc(&a, FWG_SIG_MAX_FIELD);
    if (si == NULL || len + 1 >= FWG_SIG_MAX_FIELD) {
        fwg_key_free(k);
        fwg_cli_die("sig sign: --label too long");
    }

    memcpy(si, label, len);
    si[len] = '=';

    n = fwg_sf_serialize_item(si + len + 1, FWG_SIG_MAX_FIELD - len - 1,
                              &inner);
    if (n < 0) {
        fwg_key_free(k);
        fwg_cli_die("sig sign: --keyid, --nonce and --tag must be printable "
                    "ASCII");
    }

    n += (long) len + 1;

    sv = fwg_arena_alloc(&a, len + 8);
    if (sv == NULL) {
        fwg_key_free(k);
        fwg_cli_die("out of memory");
    }

    memcpy(sv, label, len);
    memcpy(sv + len, "=:AA==:", 7);

    fields[nh].name = fwg_cli_str("Signature-Input");
    fields[nh].value.data = si;
    fields[nh].value.len = (size_t) n;
    fields[nh + 1].name = fwg_cli_str("Signature");
    fields[nh + 1].value.data = sv;
    fields[nh + 1].value.len = len + 7;

    memset(&msg, 0, sizeof(msg));
    msg.method = fwg_cli_str(pos[0]);
    msg.scheme.data = url.scheme;
    msg.scheme.len = url.scheme_len;
    msg.authority.data = url.authority;
    msg.authority.len = url.authority_len;
    msg.path.data = url.path;
    msg.path.len = url.path_len;
    msg.query.data = url.query;
    msg.query.len = url.query_len;
    msg.has_query = url.has_query;
    msg.fields = fields;
    msg.nfields = nh + 2;

    rc = fwg_sig_parse(&msg, fwg_cli_str(label), &a, &in, &err);
    if (rc != FWG_SIG_OK) {
        fwg_key_free(k);
        fwg_cli_die("sig sign: %s (check --label and --components)", err);
    }

    for (j = 0; j < in.inner->nitems; j++) {
        if (fwg_sig_component(&msg, &in.inner->items[j], &a, &value, &err)
            != FWG_SIG_OK)
        {
            fwg_key_free(k);
            fwg_cli_die("sig sign: component \"%.*s\": %s%s",
                        (int) in.inner->items[j].bare.str.len,
                        in.inner->items[j].bare.str.data, err,
                        strcmp(err, "header field absent") == 0
                        ? " (give it with -H)" : "");
        }
    }

    if (fwg_sig_base(&msg, &in, &a, &base, &err) != FWG_SIG_OK) {
        fwg_key_free(k);
        return fwgctl_err("sig sign: %s", err);
    }

    if (fwg_sig_sign(k, base.data, base.len, sig, &siglen) != 0) {
        fwg_key_free(k);
        return fwgctl_err("signing failed");
    }

    fwg_key_free(k);

    len = fwg_b64_encode(b64, sig, siglen);

    if (fwg_cli.json) {
        printf("{\"signature_input\":");
        fwgctl_json_str(stdout, si, (size_t) n);
        printf(",\"signature\":");
        printf("\"%s=:%.*s:\"", label, (int) len, b64);
        printf(",\"base\":");
        fwgctl_json_str(stdout, base.data, base.len);
        printf("}\n");
        return 0;
    }

    if (!curl) {
        printf("Signature-Input: %.*s\n", (int) n, si);
        printf("Signature: %s=:%.*s:\n", label, (int) len, b64);
        return 0;
    }

    for (j = 0; j < nh + 2; j++) {
        if (j == nh + 1) {
            /* the real Signature, not the placeholder parsed above */
            sig_curl_header(fields[j].name, label, b64, len);
            break;
        }

        sig_curl_header(fields[j].name, NULL, fields[j].value.data,
                        fields[j].value.len);
        fputc(' ', stdout);
    }

    fputc('\n', stdout);

    return 0;
}


/* base and verify ----------------------------------------------------- */

typedef struct {
    const char   *label;
    const char   *scheme;
    const char   *file;
} sig_req_opts_t;


/*
 * What base and verify share: --label, --scheme and the request file.
 * rc is what sig_opt_next() read; returns 1 when it was one of them.
 */

static int
sig_req_opt(const fwgctl_opts_t *o, int rc, sig_req_opts_t *r,
    const char *cmd)
{
    if (rc == FWGCTL_OPT_ARG) {
        if (r->file) {
            fwg_cli_die("%s: one request file only", cmd);
        }

        r->file = o->arg;
        return 1;
    }

    if (rc != FWGCTL_OPT_MATCH) {
        return 0;
    }

    if (strcmp(o->opt->name, "--label") == 0) {
        r->label = o->value;
        return 1;
    }

    if (strcmp(o->opt->name, "--scheme") == 0) {
        if (strcmp(o->value, "http") != 0 && strcmp(o->value, "https") != 0)
        {
            fwg_cli_die("%s: --scheme is http or https", cmd);
        }

        r->scheme = o->value;
        return 1;
    }

    return 0;
}


static int
sig_load(const sig_req_opts_t *o, http_request_t *req, fwg_arena_t *a,
    fwg_sig_input_t *in, fwg_str_t *base, const char **reason,
    const char **err)
{
    int  rc;

    if (http_request_read(o->file, o->scheme, o->scheme != NULL, req, err)
        != 0)
    {
        *reason = NULL;
        return -1;
    }

    sig_arena(a);

    rc = fwg_sig_parse(&req->msg, fwg_cli_str(o->label), a, in, err);
    if (rc != FWG_SIG_OK) {
        *reason = (rc == FWG_SIG_EMISSING) ? "missing_signature"
                                           : "malformed_signature";
        return -1;
    }

    rc = fwg_sig_base(&req->msg, in, a, base, err);
    if (rc != FWG_SIG_OK) {
        *reason = "malformed_signature";
        return -1;
    }

    return 0;
}


static int
sig_base(int argc, char **argv)
{
    int               rc;
    fwg_str_t         base;
    const char       *err, *reason;
    fwg_arena_t       a;
    http_request_t    req;
    sig_req_opts_t    r;
    fwgctl_opts_t     o;
    fwg_sig_input_t   in;
    fwgctl_opt_t      opts[] = {
        { "--label", 1, NULL }, { "--scheme", 1, NULL }, { NULL, 0, NULL }
    };

    memset(&r, 0, sizeof(r));

    fwgctl_opts_init(&o, argc, argv, 0);

    while ((rc = sig_opt_next(&o, opts)) != FWGCTL_OPT_END) {
        if (!sig_req_opt(&o, rc, &r, "sig base")) {
            fwg_cli_die("sig base: unknown option '%s'", o.arg);
        }
    }

    if (r.file == NULL) {
        fwg_cli_die("sig base: a request file (or -) is required");
    }

    if (sig_load(&r, &req, &a, &in, &base, &reason, &err) != 0) {
        http_request_free(&req);
        return fwgctl_err("%s%s%s", reason ? reason : "", reason ? ": " : "",
                        err);
    }

    if (fwg_cli.json) {
        printf("{\"label\":");
        fwgctl_json_str(stdout, in.label.data, in.label.len);
        printf(",\"base\":");
        fwgctl_json_str(stdout, base.data, base.len);
        printf("}\n");

    } else {
        fwrite(base.data, 1, base.len, stdout);
    }

    http_request_free(&req);

    return fflush(stdout) == 0 ? 0 : 1;
}


static int
sig_verdict(const fwg_sig_input_t *in, fwg_alg_t alg, const char *reason,
    const char *fmt, ...)
{
    va_list  ap;
    char     detail[512];

    detail[0] = '\0';

    if (fmt) {
        va_start(ap, fmt);
        vsnprintf(detail, sizeof(detail), fmt, ap);
        va_end(ap);
    }

    if (fwg_cli.json) {
        printf("{\"verified\":%s", reason ? "false" : "true");

        if (reason) {
            printf(",\"reason\":\"%s\",\"detail\":", reason);
            fwgctl_json_str(stdout, detail, strlen(detail));
        }

        if (in && in->label.data) {
            printf(",\"label\":");
            fwgctl_json_str(stdout, in->label.data, in->label.len);
        }

        if (in && in->keyid.data) {
            printf(",\"keyid\":");
            fwgctl_json_str(stdout, in->keyid.data, in->keyid.len);
        }

        if (alg != FWG_ALG_NONE) {
            printf(",\"alg\":\"%s\"", fwg_alg_name(alg));
        }

        printf("}\n");

    } else if (reason) {
        printf("%s%s%s\n", reason, detail[0] ? ": " : "", detail);

    } else {
        printf("verified\n");
    }

    return reason ? 1 : 0;
}


static int
sig_verify(int argc, char **argv)
{
    int               rc;
    int64_t           max_age, skew, now;
    fwg_key_t        *k;
    fwg_alg_t         alg, want;
    fwg_str_t         base;
    const char       *v, *err, *reason, *keyfile;
    fwg_arena_t       a;
    http_request_t    req;
    sig_req_opts_t    r;
    fwgctl_opts_t     o;
    fwg_sig_input_t   in;
    fwgctl_opt_t      opts[] = {
        { "--key", 1, NULL }, { "--alg", 1, NULL }, { "--max-age", 1, NULL },
        { "--clock-skew", 1, NULL }, { "--label", 1, NULL },
        { "--scheme", 1, NULL }, { NULL, 0, NULL }
    };

    memset(&r, 0, sizeof(r));
    memset(&in, 0, sizeof(in));
    keyfile = NULL;
    alg = FWG_ALG_NONE;
    max_age = -1;
    skew = SIG_DEFAULT_SKEW;

    fwgctl_opts_init(&o, argc, argv, 0);

    while ((rc = sig_opt_next(&o, opts)) != FWGCTL_OPT_END) {
        if (sig_req_opt(&o, rc, &r, "sig verify")) {
            continue;
        }

        if (rc != FWGCTL_OPT_MATCH) {
            fwg_cli_die("sig verify: unknown option '%s'", o.arg);
        }

        v = o.value;

        if (strcmp(o.opt->name, "--key") == 0) {
            keyfile = v;

        } else if (strcmp(o.opt->name, "--alg") == 0) {
            alg = sig_alg_arg(v);

        } else if (strcmp(o.opt->name, "--max-age") == 0) {
            max_age = sig_int_arg("--max-age", v, 0);

        } else {
            skew = sig_int_arg("--clock-skew", v, 0);
        }
    }

    if (r.file == NULL || keyfile == NULL) {
        fwg_cli_die("sig verify: --key and a request file (or -) are "
                    "required");
    }

    if (sig_load(&r, &req, &a, &in, &base, &reason, &err) != 0) {
        http_request_free(&req);

        if (reason == NULL) {
            return fwgctl_err("%s: %s", r.file, err);
        }

        return sig_verdict(NULL, FWG_ALG_NONE, reason, "%s", err);
    }

    /* the algorithm: --alg, the signature's alg, else the key file's */

    want = alg;

    if (in.alg.data) {
        want = fwg_alg_parse(in.alg.data, in.alg.len);

        if (want == FWG_ALG_NONE) {
            http_request_free(&req);
            return sig_verdict(&in, alg, "unsupported_alg", "alg \"%.*s\"",
                               (int) in.alg.len, in.alg.data);
        }

        if (alg != FWG_ALG_NONE && want != alg) {
            http_request_free(&req);
            return sig_verdict(&in, alg, "unsupported_alg",
                               "the signature says %s, --alg %s",
                               fwg_alg_name(want), fwg_alg_name(alg));
        }
    }

    k = fwg_key_from_file(want, keyfile, &err);
    if (k == NULL) {
        http_request_free(&req);
        return fwgctl_err("%s: %s", keyfile, err);
    }

    if (want != FWG_ALG_NONE && fwg_key_alg(k) != want) {
        fwg_key_free(k);
        http_request_free(&req);
        return sig_verdict(&in, want, "unsupported_alg",
                           "the key is not a %s key", fwg_alg_name(want));
    }

    want = fwg_key_alg(k);
    now = (int64_t) time(NULL);

    if (max_age >= 0) {
        if (!in.has_created) {
            reason = "no created parameter";

        } else if (in.created < now - max_age) {
            fwg_key_free(k);
            http_request_free(&req);
            return sig_verdict(&in, want, "stale", "created %lld s ago, "
                               "--max-age %lld",
                               (long long) (now - in.created),
                               (long long) max_age);

        } else if (in.created > now + skew) {
            fwg_key_free(k);
            http_request_free(&req);
            return sig_verdict(&in, want, "stale", "created %lld s in the "
                               "future", (long long) (in.created - now));
        }

        if (!in.has_created) {
            fwg_key_free(k);
            http_request_free(&req);
            return sig_verdict(&in, want, "stale", "%s", reason);
        }
    }

    if (in.has_expires && in.expires < now) {
        fwg_key_free(k);
        http_request_free(&req);
        return sig_verdict(&in, want, "stale", "expired %lld s ago",
                           (long long) (now - in.expires));
    }

    rc = fwg_sig_verify(k, base.data, base.len, in.sig, in.siglen);

    fwg_key_free(k);

    if (rc == 1) {
        rc = sig_verdict(&in, want, NULL, NULL);

    } else if (rc == 0) {
        rc = sig_verdict(&in, want, "bad_signature",
                         "does not verify with %s", keyfile);

    } else {
        rc = fwgctl_err("verification error");
    }

    http_request_free(&req);

    return rc;
}


int
cmd_sig(int argc, char **argv)
{
    const char  *sub;

    if (argc < 2) {
        fputs(sig_usage, stderr);
        return 2;
    }

    sub = argv[1];

    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
        fputs(sig_usage, stdout);
        return 0;
    }

    if (strcmp(sub, "keygen") == 0) {
        return sig_keygen(argc - 2, argv + 2);
    }

    if (strcmp(sub, "sign") == 0) {
        return sig_sign(argc - 2, argv + 2);
    }

    if (strcmp(sub, "base") == 0) {
        return sig_base(argc - 2, argv + 2);
    }

    if (strcmp(sub, "verify") == 0) {
        return sig_verify(argc - 2, argv + 2);
    }

    if (strcmp(sub, "verify-response") == 0) {
        return sig_verify_response(argc - 2, argv + 2);
    }

    fwg_cli_die("sig: unknown subcommand '%s' (keygen, sign, base, verify, "
                "verify-response)", sub);
}
