/*
 * fwgatectl: registry commands (device, artifact, rollout, canary,
 * exclude).  Schema: SPEC section 3, under a configurable prefix.
 *
 * Redis is reached with hiredis's synchronous API; every argument goes
 * through redisCommandArgv/redisAppendCommandArgv, never through a format
 * string, so ids and paths from users or CSV files cannot inject commands.
 * Writes that belong together are one MULTI/EXEC that also increments
 * `<prefix>epoch`, so edges drop cached records.
 *
 * Besides the SPEC's keys the CLI maintains one index:
 *   <prefix>model:<model>:devices   set of active device ids of a model
 * kept by `device add`, `device import` and `device revoke`, and read by
 * `rollout status` to count a rollout's cohort among registered devices.
 * The module never reads it.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "fwg_b64.h"
#include "fwg_cohort.h"
#include "fwg_decide.h"
#include "fwg_semver.h"
#include "fwg_sig.h"
#include "fwgatectl.h"
#include "fwgctl_redis.h"


#define IMPORT_BATCH  1000


/* shared helpers (declared in fwgctl_redis.h) ------------------------- */

const char *
fwgctl_opt_redis(void)
{
    return fwg_cli.redis ? fwg_cli.redis : "127.0.0.1:6379";
}


const char *
fwgctl_opt_password(void)
{
    return fwg_cli.password;
}


int
fwgctl_opt_db(void)
{
    return fwg_cli.db;
}


const char *
fwgctl_opt_prefix(void)
{
    return fwg_cli.prefix ? fwg_cli.prefix : "fwgate:";
}


int
fwgctl_opt_json(void)
{
    return fwg_cli.json;
}


redisContext *
fwgctl_connect(void)
{
    redisContext    *c;
    redisReply      *r;
    struct timeval   tv;
    const char      *addr, *colon, *argv[3];
    char             host[256], dbs[16];
    size_t           hlen;
    long             port;
    char            *end;

    addr = fwgctl_opt_redis();
    tv.tv_sec = 3;
    tv.tv_usec = 0;

    if (addr[0] == '/') {
        c = redisConnectUnixWithTimeout(addr, tv);

    } else {
        colon = strrchr(addr, ':');
        hlen = colon ? (size_t) (colon - addr) : strlen(addr);
        port = 6379;

        if (colon) {
            errno = 0;
            port = strtol(colon + 1, &end, 10);
            if (errno || *end || port < 1 || port > 65535) {
                fwgctl_err("bad --redis address: %s", addr);
                return NULL;
            }
        }

        if (hlen == 0 || hlen >= sizeof(host)) {
            fwgctl_err("bad --redis address: %s", addr);
            return NULL;
        }

        memcpy(host, addr, hlen);
        host[hlen] = '\0';

        /* [::1]:6379 */
        if (host[0] == '[' && host[hlen - 1] == ']') {
            memmove(host, host + 1, hlen - 2);
            host[hlen - 2] = '\0';
        }

        c = redisConnectWithTimeout(host, (int) port, tv);
    }

    if (c == NULL || c->err) {
        fwgctl_err("redis %s: %s", addr, c ? c->errstr : "out of memory");
        if (c) {
            redisFree(c);
        }
        return NULL;
    }

    tv.tv_sec = 10;
    redisSetTimeout(c, tv);

    if (fwgctl_opt_password() != NULL) {
        argv[0] = "AUTH";
        argv[1] = fwgctl_opt_password();
        r = redisCommandArgv(c, 2, argv, NULL);

        if (r == NULL || r->type == REDIS_REPLY_ERROR) {
            /* never echo the password */
            fwgctl_err("redis %s: AUTH failed: %s", addr,
                       r ? r->str : c->errstr);
            if (r) {
                freeReplyObject(r);
            }
            redisFree(c);
            return NULL;
        }

        freeReplyObject(r);
    }

    if (fwgctl_opt_db() != 0) {
        snprintf(dbs, sizeof(dbs), "%d", fwgctl_opt_db());
        argv[0] = "SELECT";
        argv[1] = dbs;
        r = redisCommandArgv(c, 2, argv, NULL);

        if (r == NULL || r->type == REDIS_REPLY_ERROR) {
            fwgctl_err("redis %s: SELECT %s failed: %s", addr, dbs,
                       r ? r->str : c->errstr);
            if (r) {
                freeReplyObject(r);
            }
            redisFree(c);
            return NULL;
        }

        freeReplyObject(r);
    }

    return c;
}


void
fwgctl_av_reset(fwgctl_av_t *av)
{
    int  i;

    for (i = 0; i < av->n; i++) {
        free(av->own[i]);
        av->own[i] = NULL;
    }

    av->n = 0;
}


void
fwgctl_av_addn(fwgctl_av_t *av, const char *s, size_t len)
{
    if (av->n >= FWGCTL_AV_MAX) {
        /* a programming error, not user input: every caller is bounded */
        fwgctl_err("internal: too many arguments");
        exit(1);
    }

    av->v[av->n] = s;
    av->l[av->n] = len;
    av->own[av->n] = NULL;
    av->n++;
}


void
fwgctl_av_add(fwgctl_av_t *av, const char *s)
{
    fwgctl_av_addn(av, s, strlen(s));
}


/* prefix + the parts, e.g. fwgctl_av_key(av, "device:", id, NULL) */
void
fwgctl_av_key(fwgctl_av_t *av, ...)
{
    va_list      ap;
    const char  *prefix, *part;
    size_t       len;
    char        *buf;

    prefix = fwgctl_opt_prefix();
    len = strlen(prefix);

    va_start(ap, av);
    while ((part = va_arg(ap, const char *)) != NULL) {
        len += strlen(part);
    }
    va_end(ap);

    buf = malloc(len + 1);
    if (buf == NULL) {
        fwgctl_err("out of memory");
        exit(1);
    }

    strcpy(buf, prefix);

    va_start(ap, av);
    while ((part = va_arg(ap, const char *)) != NULL) {
        strcat(buf, part);
    }
    va_end(ap);

    fwgctl_av_addn(av, buf, len);
    av->own[av->n - 1] = buf;
}


/* runs av (then resets it); NULL after printing the error */
redisReply *
fwgctl_run(redisContext *c, fwgctl_av_t *av)
{
    redisReply  *r;

    r = redisCommandArgv(c, av->n, av->v, av->l);

    if (r == NULL) {
        fwgctl_err("redis: %s", c->errstr[0] ? c->errstr : "no reply");

    } else if (r->type == REDIS_REPLY_ERROR) {
        fwgctl_err("redis %.*s: %s", (int) av->l[0], av->v[0], r->str);
        freeReplyObject(r);
        r = NULL;
    }

    fwgctl_av_reset(av);

    return r;
}


int
fwgctl_append(redisContext *c, fwgctl_av_t *av)
{
    int  rc;

    rc = redisAppendCommandArgv(c, av->n, av->v, av->l);
    fwgctl_av_reset(av);

    if (rc != REDIS_OK) {
        return fwgctl_err("redis: %s", c->errstr);
    }

    return 0;
}


/* HGETALL of prefix + a + b; NULL on error, an empty array when absent */
redisReply *
fwgctl_hgetall(redisContext *c, const char *a, const char *b)
{
    fwgctl_av_t  av;

    av.n = 0;
    fwgctl_av_add(&av, "HGETALL");
    fwgctl_av_key(&av, a, b, NULL);

    return fwgctl_run(c, &av);
}


fwg_str_t
fwgctl_hfield(const redisReply *r, const char *field)
{
    fwg_str_t  s;
    size_t     i;

    s.data = NULL;
    s.len = 0;

    if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
        return s;
    }

    for (i = 0; i + 1 < r->elements; i += 2) {
        if (r->element[i]->type == REDIS_REPLY_STRING
            && r->element[i + 1]->type == REDIS_REPLY_STRING
            && strcmp(r->element[i]->str, field) == 0)
        {
            s.data = r->element[i + 1]->str;
            s.len = r->element[i + 1]->len;
            return s;
        }
    }

    return s;
}


int
fwgctl_hfound(const redisReply *r)
{
    return r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements > 0;
}


void
fwgctl_json_str(FILE *f, const char *s, size_t len)
{
    size_t          i;
    unsigned char   ch;

    fputc('"', f);

    for (i = 0; s != NULL && i < len; i++) {
        ch = (unsigned char) s[i];

        if (ch == '"' || ch == '\\') {
            fputc('\\', f);
            fputc(ch, f);

        } else if (ch == '\n') {
            fputs("\\n", f);

        } else if (ch < 0x20 || ch == 0x7f) {
            fprintf(f, "\\u%04x", ch);

        } else {
            fputc(ch, f);
        }
    }

    fputc('"', f);
}


void
fwgctl_json_kv(FILE *f, const char *key, fwg_str_t v, int comma)
{
    fprintf(f, "%s\"%s\":", comma ? "," : "", key);
    fwgctl_json_str(f, v.data, v.len);
}


/* device ids: 1..128 of [A-Za-z0-9._:@-] */
int
fwgctl_id_valid(const char *s, size_t len)
{
    size_t  i;
    char    ch;

    if (len == 0 || len > 128) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        ch = s[i];

        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z')
              || (ch >= '0' && ch <= '9') || ch == '.' || ch == '_'
              || ch == '-' || ch == ':' || ch == '@'))
        {
            return 0;
        }
    }

    return 1;
}


/* option parsing ------------------------------------------------------- */

/*
 * A tiny getopt_long: options with a value (`--x V` or `--x=V`), flags,
 * and positional arguments, in any order.  `--` ends the options.
 */

typedef struct {
    const char  *name;
    int          has_arg;
    const char  *value;     /* "1" for a flag that was given */
} opt_t;

#define MAX_POS  4096

typedef struct {
    char        *pos[MAX_POS];
    int          npos;
    int          help;
    int          json;
} args_t;


static int
parse_args(int argc, char **argv, opt_t *opts, args_t *a)
{
    int          i, j, dashdash;
    const char  *arg, *eq;
    size_t       nlen;

    a->npos = 0;
    a->help = 0;
    a->json = fwgctl_opt_json();
    dashdash = 0;

    for (i = 0; i < argc; i++) {
        arg = argv[i];

        if (dashdash || arg[0] != '-' || arg[1] == '\0') {
            if (a->npos == MAX_POS) {
                return fwgctl_err("too many arguments");
            }
            a->pos[a->npos++] = argv[i];
            continue;
        }

        if (strcmp(arg, "--") == 0) {
            dashdash = 1;
            continue;
        }

        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            a->help = 1;
            continue;
        }

        if (strcmp(arg, "--json") == 0) {
            a->json = 1;
            continue;
        }

        if (arg[1] != '-') {
            return fwgctl_err("unknown option %s (see --help)", arg);
        }

        eq = strchr(arg, '=');
        nlen = eq ? (size_t) (eq - arg - 2) : strlen(arg + 2);

        for (j = 0; opts && opts[j].name; j++) {
            if (strlen(opts[j].name) == nlen
                && strncmp(opts[j].name, arg + 2, nlen) == 0)
            {
                break;
            }
        }

        if (opts == NULL || opts[j].name == NULL) {
            return fwgctl_err("unknown option %s (see --help)", arg);
        }

        if (!opts[j].has_arg) {
            if (eq) {
                return fwgctl_err("option --%s takes no value",
                                  opts[j].name);
            }
            opts[j].value = "1";
            continue;
        }

        if (eq) {
            opts[j].value = eq + 1;

        } else if (i + 1 < argc) {
            opts[j].value = argv[++i];

        } else {
            return fwgctl_err("option --%s needs a value", opts[j].name);
        }
    }

    return 0;
}


static const char *
opt(opt_t *opts, const char *name)
{
    int  j;

    for (j = 0; opts[j].name; j++) {
        if (strcmp(opts[j].name, name) == 0) {
            return opts[j].value;
        }
    }

    return NULL;
}


/* runs MULTI, the queued commands in av list, INCR epoch, EXEC */
static int
exec_tx(redisContext *c, fwgctl_av_t *cmds, int ncmds)
{
    fwgctl_av_t   av;
    redisReply   *r;
    int           i, rc;

    av.n = 0;
    fwgctl_av_add(&av, "MULTI");
    r = fwgctl_run(c, &av);
    if (r == NULL) {
        return 1;
    }
    freeReplyObject(r);

    for (i = 0; i < ncmds; i++) {
        r = fwgctl_run(c, &cmds[i]);
        if (r == NULL) {
            av.n = 0;
            fwgctl_av_add(&av, "DISCARD");
            r = fwgctl_run(c, &av);
            if (r) {
                freeReplyObject(r);
            }
            return 1;
        }
        freeReplyObject(r);
    }

    fwgctl_av_add(&av, "INCR");
    fwgctl_av_key(&av, "epoch", NULL);
    r = fwgctl_run(c, &av);
    if (r == NULL) {
        return 1;
    }
    freeReplyObject(r);

    fwgctl_av_add(&av, "EXEC");
    r = fwgctl_run(c, &av);
    if (r == NULL) {
        return 1;
    }

    rc = 0;

    if (r->type == REDIS_REPLY_NIL) {
        /* a WATCHed key changed between our check and the write */
        rc = fwgctl_err("registry changed concurrently; nothing written, "
                        "try again");

    } else if (r->type == REDIS_REPLY_ARRAY) {
        for (i = 0; (size_t) i < r->elements; i++) {
            if (r->element[i]->type == REDIS_REPLY_ERROR) {
                rc = fwgctl_err("redis: %s", r->element[i]->str);
                break;
            }
        }
    }

    freeReplyObject(r);

    return rc;
}


static int
watch(redisContext *c, const char *a, const char *b)
{
    fwgctl_av_t   av;
    redisReply   *r;

    av.n = 0;
    fwgctl_av_add(&av, "WATCH");
    fwgctl_av_key(&av, a, b, NULL);
    r = fwgctl_run(c, &av);
    if (r == NULL) {
        return 1;
    }
    freeReplyObject(r);

    return 0;
}


static void
av_init(fwgctl_av_t *cmds, int n)
{
    int  i;

    for (i = 0; i < n; i++) {
        cmds[i].n = 0;
    }
}


static void
av_free(fwgctl_av_t *cmds, int n)
{
    int  i;

    for (i = 0; i < n; i++) {
        fwgctl_av_reset(&cmds[i]);
    }
}


static int
is_semver(const char *s)
{
    fwg_semver_t  v;

    return fwg_semver_parse(&v, s, strlen(s)) == 0;
}


/* device --------------------------------------------------------------- */

static const char device_usage[] =
"usage: fwgatectl device add ID --model M [--hw H] --alg ALG\n"
"                            (--key FILE | --gen-key PREFIX) [--replace]\n"
"       fwgatectl device show ID [--json]\n"
"       fwgatectl device revoke ID\n"
"       fwgatectl device import FILE.csv [--replace] [--json]\n"
"\n"
"add      registers a device.  ALG: ed25519, ecdsa-p256-sha256,\n"
"         hmac-sha256.  --key: PEM public (or private) key, or a file\n"
"         holding the base64 HMAC secret.  --gen-key PREFIX makes a key:\n"
"         PREFIX.pem (private, mode 0600) and PREFIX.pub.pem, or\n"
"         PREFIX.key (HMAC secret, 0600).  An existing id is refused\n"
"         unless --replace.\n"
"show     prints the record (an HMAC secret is never printed).\n"
"revoke   sets status revoked: the edge refuses the device (403).\n"
"import   CSV rows id,model,hw,alg,key (key: the registry form, base64);\n"
"         a header line is optional, blank and # lines are ignored.\n"
"         Existing ids are skipped unless --replace; bad rows are\n"
"         rejected with `line N: reason` on stderr.  Prints `imported N,\n"
"         skipped N, rejected N`; exit 1 when a row was rejected.\n";


/* the registry form of a key file, or of a key made for --gen-key */
static char *
device_key_record(fwg_alg_t alg, const char *path, const char **err)
{
    fwg_key_t   *k, *check;
    char        *rec;
    long         n;

    k = fwg_key_from_file(alg, path, err);
    if (k == NULL) {
        return NULL;
    }

    if (fwg_key_alg(k) != alg) {
        fwg_key_free(k);
        *err = "key is not of the given --alg";
        return NULL;
    }

    rec = malloc(4096);
    if (rec == NULL) {
        fwg_key_free(k);
        *err = "out of memory";
        return NULL;
    }

    n = fwg_key_record(k, rec, 4095);
    fwg_key_free(k);

    if (n < 0) {
        free(rec);
        *err = "cannot export the key";
        return NULL;
    }

    rec[n] = '\0';

    /* the edge will load it with fwg_key_from_record: prove it can */
    check = fwg_key_from_record(alg, rec, (size_t) n, err);
    if (check == NULL) {
        free(rec);
        return NULL;
    }

    fwg_key_free(check);

    return rec;
}


static int
write_private(const char *path, const void *data, size_t len)
{
    FILE  *f;
    int    fd;

    fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
        return fwgctl_err("%s: %s", path, strerror(errno));
    }

    f = fdopen(fd, "w");
    if (f == NULL) {
        close(fd);
        return fwgctl_err("%s: %s", path, strerror(errno));
    }

    if (fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        return fwgctl_err("%s: write failed", path);
    }

    return 0;
}


/* makes PREFIX.pem + PREFIX.pub.pem or PREFIX.key; returns the key path */
static char *
gen_key(fwg_alg_t alg, const char *prefix)
{
    EVP_PKEY       *pk;
    BIO            *bio;
    char           *path, *pub, *mem;
    unsigned char   secret[32];
    char            b64[fwg_b64_enc_len(32) + 2];
    size_t          n, plen;
    long            mlen;

    plen = strlen(prefix) + 16;
    path = malloc(plen);
    pub = malloc(plen);
    if (path == NULL || pub == NULL) {
        free(path);
        free(pub);
        fwgctl_err("out of memory");
        return NULL;
    }

    if (alg == FWG_ALG_HMAC_SHA256) {
        snprintf(path, plen, "%s.key", prefix);
        free(pub);

        if (RAND_bytes(secret, sizeof(secret)) != 1) {
            fwgctl_err("no randomness");
            free(path);
            return NULL;
        }

        n = fwg_b64_encode(b64, secret, sizeof(secret));
        b64[n++] = '\n';

        if (write_private(path, b64, n) != 0) {
            free(path);
            return NULL;
        }

        return path;
    }

    snprintf(path, plen, "%s.pem", prefix);
    snprintf(pub, plen, "%s.pub.pem", prefix);

    pk = alg == FWG_ALG_ED25519 ? EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")
                                : EVP_PKEY_Q_keygen(NULL, NULL, "EC",
                                                    "P-256");
    if (pk == NULL) {
        fwgctl_err("key generation failed");
        goto failed;
    }

    bio = BIO_new(BIO_s_mem());
    if (bio == NULL
        || !PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL))
    {
        BIO_free(bio);
        EVP_PKEY_free(pk);
        fwgctl_err("cannot write the private key");
        goto failed;
    }

    mlen = BIO_get_mem_data(bio, &mem);

    if (write_private(path, mem, (size_t) mlen) != 0) {
        BIO_free(bio);
        EVP_PKEY_free(pk);
        goto failed;
    }

    BIO_free(bio);

    bio = BIO_new(BIO_s_mem());
    if (bio == NULL || !PEM_write_bio_PUBKEY(bio, pk)) {
        BIO_free(bio);
        EVP_PKEY_free(pk);
        fwgctl_err("cannot write the public key");
        goto failed;
    }

    mlen = BIO_get_mem_data(bio, &mem);

    if (write_private(pub, mem, (size_t) mlen) != 0) {
        BIO_free(bio);
        EVP_PKEY_free(pk);
        goto failed;
    }

    chmod(pub, 0644);
    BIO_free(bio);
    EVP_PKEY_free(pk);
    free(pub);

    return path;

failed:

    free(path);
    free(pub);

    return NULL;
}


static int
device_add(redisContext *c, int argc, char **argv)
{
    opt_t        opts[] = {
        { "model", 1, NULL }, { "hw", 1, NULL }, { "alg", 1, NULL },
        { "key", 1, NULL }, { "gen-key", 1, NULL }, { "replace", 0, NULL },
        { NULL, 0, NULL }
    };
    args_t       a;
    const char  *id, *model, *hw, *algs, *keyf, *gen, *err;
    char        *rec, *genpath;
    fwg_alg_t    alg;
    fwgctl_av_t  cmds[4];
    redisReply  *old;
    fwg_str_t    oldmodel;
    int          rc, n;

    if (parse_args(argc, argv, opts, &a) != 0) {
        return 2;
    }

    if (a.help) {
        fputs(device_usage, stdout);
        return 0;
    }

    id = a.npos == 1 ? a.pos[0] : NULL;
    model = opt(opts, "model");
    hw = opt(opts, "hw");
    algs = opt(opts, "alg");
    keyf = opt(opts, "key");
    gen = opt(opts, "gen-key");

    if (id == NULL) {
        return fwgctl_usage("device add: one device ID expected (see --help)");
    }

    if (!fwgctl_id_valid(id, strlen(id))) {
        return fwgctl_usage("device add: bad device id '%s' (1-128 of "
                          "A-Z a-z 0-9 . _ - : @)", id);
    }

    if (model == NULL || !fwg_model_valid(fwg_cli_str(model))) {
        return fwgctl_usage("device add: --model missing or not a model name "
                          "(1-64 of A-Z a-z 0-9 . _ -)");
    }

    if (hw != NULL && !fwg_model_valid(fwg_cli_str(hw))) {
        return fwgctl_usage("device add: bad --hw '%s'", hw);
    }

    if (algs == NULL) {
        return fwgctl_usage("device add: --alg missing (ed25519, "
                          "ecdsa-p256-sha256, hmac-sha256)");
    }

    alg = fwg_alg_parse(algs, strlen(algs));
    if (alg == FWG_ALG_NONE) {
        return fwgctl_usage("device add: unknown --alg '%s'", algs);
    }

    if ((keyf == NULL) == (gen == NULL)) {
        return fwgctl_usage("device add: give exactly one of --key FILE and "
                          "--gen-key PREFIX");
    }

    /*
     * WATCH, read the existing record, then write: no lost update.  The
     * check comes before --gen-key so a refusal leaves no key files.
     */

    if (watch(c, "device:", id) != 0) {
        return 1;
    }

    old = fwgctl_hgetall(c, "device:", id);
    if (old == NULL) {
        return 1;
    }

    if (fwgctl_hfound(old) && opt(opts, "replace") == NULL) {
        freeReplyObject(old);
        return fwgctl_err("device add: device %s exists (use --replace)",
                          id);
    }

    genpath = NULL;

    if (gen) {
        genpath = gen_key(alg, gen);
        if (genpath == NULL) {
            freeReplyObject(old);
            return 1;
        }
        keyf = genpath;
    }

    err = "cannot load";
    rec = device_key_record(alg, keyf, &err);

    if (rec == NULL) {
        fwgctl_err("device add: %s: %s", keyf, err);
        freeReplyObject(old);
        free(genpath);
        return 1;
    }

    oldmodel = fwgctl_hfield(old, "model");

    av_init(cmds, 4);
    n = 0;

    fwgctl_av_add(&cmds[n], "DEL");
    fwgctl_av_key(&cmds[n], "device:", id, NULL);
    n++;

    fwgctl_av_add(&cmds[n], "HSET");
    fwgctl_av_key(&cmds[n], "device:", id, NULL);
    fwgctl_av_add(&cmds[n], "model");
    fwgctl_av_add(&cmds[n], model);
    if (hw) {
        fwgctl_av_add(&cmds[n], "hw");
        fwgctl_av_add(&cmds[n], hw);
    }
    fwgctl_av_add(&cmds[n], "alg");
    fwgctl_av_add(&cmds[n], fwg_alg_name(alg));
    fwgctl_av_add(&cmds[n], "key");
    fwgctl_av_add(&cmds[n], rec);
    fwgctl_av_add(&cmds[n], "status");
    fwgctl_av_add(&cmds[n], "active");
    n++;

    if (oldmodel.len && !fwg_str_eq(oldmodel, model)) {
        fwgctl_av_add(&cmds[n], "SREM");
        fwgctl_av_key(&cmds[n], "model:", oldmodel.data, ":devices", NULL);
        fwgctl_av_add(&cmds[n], id);
        n++;
    }

    fwgctl_av_add(&cmds[n], "SADD");
    fwgctl_av_key(&cmds[n], "model:", model, ":devices", NULL);
    fwgctl_av_add(&cmds[n], id);
    n++;

    rc = exec_tx(c, cmds, n);

    av_free(cmds, 4);
    freeReplyObject(old);
    free(rec);

    if (rc == 0) {
        if (a.json) {
            printf("{\"device\":");
            fwgctl_json_str(stdout, id, strlen(id));
            printf(",\"model\":");
            fwgctl_json_str(stdout, model, strlen(model));
            printf(",\"alg\":\"%s\"", fwg_alg_name(alg));
            if (genpath) {
                printf(",\"key_file\":");
                fwgctl_json_str(stdout, genpath, strlen(genpath));
            }
            printf("}\n");

        } else {
            printf("device %s added (%s%s%s, %s)\n", id, model,
                   hw ? ":" : "", hw ? hw : "", fwg_alg_name(alg));
            if (genpath) {
                printf("private key: %s\n", genpath);
            }
        }
    }

    free(genpath);

    return rc;
}


static int
device_show(redisContext *c, int argc, char **argv)
{
    args_t       a;
    redisReply  *r;
    fwg_str_t    model, hw, algs, key, status;
    fwg_alg_t    alg;
    const char  *id;
    int          secret;

    if (parse_args(argc, argv, NULL, &a) != 0) {
        return 2;
    }

    if (a.help) {
        fputs(device_usage, stdout);
        return 0;
    }

    if (a.npos != 1) {
        return fwgctl_usage("device show: one device ID expected");
    }

    id = a.pos[0];

    r = fwgctl_hgetall(c, "device:", id);
    if (r == NULL) {
        return 1;
    }

    if (!fwgctl_hfound(r)) {
        freeReplyObject(r);
        return fwgctl_err("device %s: not found", id);
    }

    model = fwgctl_hfield(r, "model");
    hw = fwgctl_hfield(r, "hw");
    algs = fwgctl_hfield(r, "alg");
    key = fwgctl_hfield(r, "key");
    status = fwgctl_hfield(r, "status");
    alg = fwg_alg_parse(algs.data ? algs.data : "", algs.len);

    /* an HMAC key is a shared secret: it never leaves the registry here */
    secret = alg == FWG_ALG_HMAC_SHA256 || alg == FWG_ALG_NONE;

    if (a.json) {
        printf("{\"device\":");
        fwgctl_json_str(stdout, id, strlen(id));
        fwgctl_json_kv(stdout, "model", model, 1);
        if (hw.len) {
            fwgctl_json_kv(stdout, "hw", hw, 1);
        }
        fwgctl_json_kv(stdout, "alg", algs, 1);
        if (!secret) {
            fwgctl_json_kv(stdout, "key", key, 1);
        }
        fwgctl_json_kv(stdout, "status", status, 1);
        printf("}\n");

    } else {
        printf("device:  %s\n", id);
        printf("model:   %.*s\n", (int) model.len, model.data);
        if (hw.len) {
            printf("hw:      %.*s\n", (int) hw.len, hw.data);
        }
        printf("alg:     %.*s\n", (int) algs.len, algs.data);
        if (secret) {
            printf("key:     (secret, not shown)\n");
        } else {
            printf("key:     %.*s\n", (int) key.len, key.data);
        }
        printf("status:  %.*s\n", (int) status.len, status.data);
    }

    freeReplyObject(r);

    return 0;
}


static int
device_revoke(redisContext *c, int argc, char **argv)
{
    args_t       a;
    redisReply  *r;
    fwg_str_t    model;
    fwgctl_av_t  cmds[2];
    const char  *id;
    char        *m;
    int          rc;

    if (parse_args(argc, argv, NULL, &a) != 0) {
        return 2;
    }

    if (a.help) {
        fputs(device_usage, stdout);
        return 0;
    }

    if (a.npos != 1) {
        return fwgctl_usage("device revoke: one device ID expected");
    }

    id = a.pos[0];

    if (watch(c, "device:", id) != 0) {
        return 1;
    }

    r = fwgctl_hgetall(c, "device:", id);
    if (r == NULL) {
        return 1;
    }

    if (!fwgctl_hfound(r)) {
        freeReplyObject(r);
        return fwgctl_err("device %s: not found", id);
    }

    model = fwgctl_hfield(r, "model");
    m = strndup(model.data ? model.data : "", model.len);

    av_init(cmds, 2);

    fwgctl_av_add(&cmds[0], "HSET");
    fwgctl_av_key(&cmds[0], "device:", id, NULL);
    fwgctl_av_add(&cmds[0], "status");
    fwgctl_av_add(&cmds[0], "revoked");

    fwgctl_av_add(&cmds[1], "SREM");
    fwgctl_av_key(&cmds[1], "model:", m ? m : "", ":devices", NULL);
    fwgctl_av_add(&cmds[1], id);

    rc = exec_tx(c, cmds, 2);

    av_free(cmds, 2);
    freeReplyObject(r);
    free(m);

    if (rc == 0 && !a.json) {
        printf("device %s revoked\n", id);

    } else if (rc == 0) {
        printf("{\"device\":");
        fwgctl_json_str(stdout, id, strlen(id));
        printf(",\"status\":\"revoked\"}\n");
    }

    return rc;
}


/* device import -------------------------------------------------------- */

typedef struct {
    char        *f[5];      /* id, model, hw, alg, key: into the buffer */
    size_t       line;
} row_t;


static char *
trim(char *s)
{
    char  *e;

    while (*s == ' ' || *s == '\t') {
        s++;
    }

    e = s + strlen(s);

    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r')) {
        *--e = '\0';
    }

    /* "quoted" fields: no field of this schema contains a comma or quote */
    if (e - s >= 2 && s[0] == '"' && e[-1] == '"') {
        e[-1] = '\0';
        s++;
    }

    return s;
}


/* NULL when the row is valid, else why not */
static const char *
row_check(row_t *row)
{
    fwg_alg_t    alg;
    fwg_key_t   *k;
    const char  *err;

    if (!fwgctl_id_valid(row->f[0], strlen(row->f[0]))) {
        return "bad device id";
    }

    if (!fwg_model_valid(fwg_cli_str(row->f[1]))) {
        return "bad model";
    }

    if (row->f[2][0] && !fwg_model_valid(fwg_cli_str(row->f[2]))) {
        return "bad hw";
    }

    alg = fwg_alg_parse(row->f[3], strlen(row->f[3]));
    if (alg == FWG_ALG_NONE) {
        return "unknown alg";
    }

    err = NULL;
    k = fwg_key_from_record(alg, row->f[4], strlen(row->f[4]), &err);
    if (k == NULL) {
        return err ? err : "bad key";
    }

    fwg_key_free(k);

    return NULL;
}


static void
progress(size_t done, size_t total)
{
    int     i, w;
    double  f;

    f = total ? (double) done / (double) total : 1.0;
    w = (int) (f * 40);

    fputs("\rimporting [", stderr);
    for (i = 0; i < 40; i++) {
        fputc(i < w ? '#' : ' ', stderr);
    }
    fprintf(stderr, "] %zu/%zu", done, total);
    fflush(stderr);
}


/* imports one batch: EXISTS for each, then one MULTI/EXEC with the new */
static int
import_batch(redisContext *c, row_t *rows, size_t n, int replace,
    size_t *imported, size_t *skipped)
{
    fwgctl_av_t   av;
    redisReply   *r;
    size_t        i, nwrite, nreplies;
    char         *exists;
    int           rc;

    exists = calloc(n ? n : 1, 1);
    if (exists == NULL) {
        return fwgctl_err("out of memory");
    }

    av.n = 0;

    if (!replace) {
        for (i = 0; i < n; i++) {
            fwgctl_av_add(&av, "EXISTS");
            fwgctl_av_key(&av, "device:", rows[i].f[0], NULL);
            if (fwgctl_append(c, &av) != 0) {
                free(exists);
                return 1;
            }
        }

        for (i = 0; i < n; i++) {
            if (redisGetReply(c, (void **) &r) != REDIS_OK || r == NULL) {
                free(exists);
                return fwgctl_err("redis: %s", c->errstr);
            }
            exists[i] = r->type == REDIS_REPLY_INTEGER && r->integer > 0;
            freeReplyObject(r);
        }
    }

    nwrite = 0;

    for (i = 0; i < n; i++) {
        if (exists[i]) {
            (*skipped)++;
        } else {
            nwrite++;
        }
    }

    if (nwrite == 0) {
        free(exists);
        return 0;
    }

    fwgctl_av_add(&av, "MULTI");
    if (fwgctl_append(c, &av) != 0) {
        free(exists);
        return 1;
    }

    nreplies = 1;

    for (i = 0; i < n; i++) {
        if (exists[i]) {
            continue;
        }

        fwgctl_av_add(&av, "DEL");
        fwgctl_av_key(&av, "device:", rows[i].f[0], NULL);
        if (fwgctl_append(c, &av) != 0) {
            free(exists);
            return 1;
        }

        fwgctl_av_add(&av, "HSET");
        fwgctl_av_key(&av, "device:", rows[i].f[0], NULL);
        fwgctl_av_add(&av, "model");
        fwgctl_av_add(&av, rows[i].f[1]);
        if (rows[i].f[2][0]) {
            fwgctl_av_add(&av, "hw");
            fwgctl_av_add(&av, rows[i].f[2]);
        }
        fwgctl_av_add(&av, "alg");
        fwgctl_av_add(&av, fwg_alg_name(fwg_alg_parse(rows[i].f[3],
                                                      strlen(rows[i].f[3]))));
        fwgctl_av_add(&av, "key");
        fwgctl_av_add(&av, rows[i].f[4]);
        fwgctl_av_add(&av, "status");
        fwgctl_av_add(&av, "active");
        if (fwgctl_append(c, &av) != 0) {
            free(exists);
            return 1;
        }

        fwgctl_av_add(&av, "SADD");
        fwgctl_av_key(&av, "model:", rows[i].f[1], ":devices", NULL);
        fwgctl_av_add(&av, rows[i].f[0]);
        if (fwgctl_append(c, &av) != 0) {
            free(exists);
            return 1;
        }

        nreplies += 3;
    }

    /*
     * A replaced device that changes model stays in its old model's
     * index until revoked; the index is only used for counting.
     */

    fwgctl_av_add(&av, "INCR");
    fwgctl_av_key(&av, "epoch", NULL);
    fwgctl_append(c, &av);
    fwgctl_av_add(&av, "EXEC");
    fwgctl_append(c, &av);
    nreplies += 2;

    rc = 0;

    for (i = 0; i < nreplies; i++) {
        if (redisGetReply(c, (void **) &r) != REDIS_OK || r == NULL) {
            free(exists);
            return fwgctl_err("redis: %s", c->errstr);
        }

        if (r->type == REDIS_REPLY_ERROR && rc == 0) {
            rc = fwgctl_err("redis: %s", r->str);
        }

        if (i == nreplies - 1 && r->type != REDIS_REPLY_ARRAY && rc == 0) {
            rc = fwgctl_err("redis: transaction failed");
        }

        freeReplyObject(r);
    }

    free(exists);

    if (rc == 0) {
        *imported += nwrite;
    }

    return rc;
}


/* ids seen earlier in the file: open addressing over FNV-1a */
typedef struct {
    char      **slot;
    size_t      size;
} idset_t;


static int
idset_add(idset_t *s, char *id)
{
    size_t          h, i;
    const unsigned char  *p;

    h = 2166136261u;
    for (p = (const unsigned char *) id; *p; p++) {
        h = (h ^ *p) * 16777619u;
    }

    for (i = h & (s->size - 1); s->slot[i]; i = (i + 1) & (s->size - 1)) {
        if (strcmp(s->slot[i], id) == 0) {
            return 0;
        }
    }

    s->slot[i] = id;

    return 1;
}


static int
device_import(redisContext *c, int argc, char **argv)
{
    opt_t        opts[] = { { "replace", 0, NULL }, { NULL, 0, NULL } };
    args_t       a;
    FILE        *f;
    char        *buf, *p, *nl, *line, *fld;
    size_t       size, cap, nread, nlines, lineno, nrows, i;
    size_t       imported, skipped, rejected, done;
    row_t       *rows;
    idset_t      ids;
    const char  *why;
    int          tty, rc, nf;
    struct timeval  t0, t1;

    if (parse_args(argc, argv, opts, &a) != 0) {
        return 2;
    }

    if (a.help) {
        fputs(device_usage, stdout);
        return 0;
    }

    if (a.npos != 1) {
        return fwgctl_usage("device import: one CSV file expected");
    }

    f = strcmp(a.pos[0], "-") == 0 ? stdin : fopen(a.pos[0], "r");
    if (f == NULL) {
        return fwgctl_err("%s: %s", a.pos[0], strerror(errno));
    }

    gettimeofday(&t0, NULL);

    /* slurp: 100,000 rows are a few megabytes */
    cap = 1 << 20;
    size = 0;
    buf = malloc(cap + 1);

    while (buf != NULL) {
        nread = fread(buf + size, 1, cap - size, f);
        size += nread;

        if (size < cap) {
            break;
        }

        cap *= 2;
        p = realloc(buf, cap + 1);
        if (p == NULL) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = p;
    }

    if (f != stdin) {
        fclose(f);
    }

    if (buf == NULL) {
        return fwgctl_err("out of memory");
    }

    buf[size] = '\0';

    if (memchr(buf, '\0', size) != NULL) {
        free(buf);
        return fwgctl_err("%s: not a text file", a.pos[0]);
    }

    nlines = 0;
    for (i = 0; i < size; i++) {
        nlines += buf[i] == '\n';
    }
    nlines++;

    rows = malloc(nlines * sizeof(row_t));
    ids.size = 16;
    while (ids.size < nlines * 2) {
        ids.size *= 2;
    }
    ids.slot = calloc(ids.size, sizeof(char *));

    if (rows == NULL || ids.slot == NULL) {
        free(rows);
        free(ids.slot);
        free(buf);
        return fwgctl_err("out of memory");
    }

    /* parse and validate every row first: nothing is half-checked */

    nrows = 0;
    rejected = 0;
    lineno = 0;

    for (p = buf; p != NULL && *p; p = nl) {
        nl = strchr(p, '\n');
        if (nl) {
            *nl++ = '\0';
        }

        lineno++;
        line = trim(p);

        if (line[0] == '\0' || line[0] == '#') {
            continue;
        }

        if (lineno == 1 && strncmp(line, "id,", 3) == 0) {
            continue;
        }

        nf = 0;
        fld = line;

        while (nf < 5) {
            rows[nrows].f[nf++] = fld;
            fld = strchr(fld, ',');
            if (fld == NULL) {
                break;
            }
            *fld++ = '\0';
        }

        if (nf != 5 || fld != NULL) {
            fprintf(stderr, "line %zu: expected 5 fields "
                    "(id,model,hw,alg,key)\n", lineno);
            rejected++;
            continue;
        }

        for (nf = 0; nf < 5; nf++) {
            rows[nrows].f[nf] = trim(rows[nrows].f[nf]);
        }

        rows[nrows].line = lineno;

        why = row_check(&rows[nrows]);
        if (why != NULL) {
            fprintf(stderr, "line %zu: %s\n", lineno, why);
            rejected++;
            continue;
        }

        if (!idset_add(&ids, rows[nrows].f[0])) {
            fprintf(stderr, "line %zu: duplicate id %s\n", lineno,
                    rows[nrows].f[0]);
            rejected++;
            continue;
        }

        nrows++;
    }

    tty = isatty(2);
    imported = 0;
    skipped = 0;
    rc = 0;

    for (done = 0; done < nrows; done += IMPORT_BATCH) {
        if (tty) {
            progress(done, nrows);
        }

        rc = import_batch(c, rows + done,
                          nrows - done < IMPORT_BATCH ? nrows - done
                                                      : IMPORT_BATCH,
                          opt(opts, "replace") != NULL, &imported, &skipped);
        if (rc != 0) {
            break;
        }
    }

    if (tty) {
        progress(rc == 0 ? nrows : done, nrows);
        fputc('\n', stderr);
    }

    gettimeofday(&t1, NULL);

    if (a.json) {
        printf("{\"imported\":%zu,\"skipped\":%zu,\"rejected\":%zu,"
               "\"seconds\":%.3f}\n", imported, skipped, rejected,
               (double) (t1.tv_sec - t0.tv_sec)
               + (double) (t1.tv_usec - t0.tv_usec) / 1e6);
    } else {
        printf("imported %zu, skipped %zu, rejected %zu\n",
               imported, skipped, rejected);
    }

    free(rows);
    free(ids.slot);
    free(buf);

    if (rc != 0) {
        return rc;
    }

    return rejected ? 1 : 0;
}


int
cmd_device(int argc, char **argv)
{
    redisContext  *c;
    const char    *sub;
    int            rc;

    if (argc < 2 || strcmp(argv[1], "--help") == 0
        || strcmp(argv[1], "-h") == 0)
    {
        fputs(device_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }

    sub = argv[1];

    if (strcmp(sub, "add") && strcmp(sub, "show") && strcmp(sub, "revoke")
        && strcmp(sub, "import"))
    {
        fwgctl_err("device: unknown subcommand '%s' (add, show, revoke, "
                   "import)", sub);
        return 2;
    }

    if (fwgctl_wants_help(argc - 2, argv + 2)) {
        fputs(device_usage, stdout);
        return 0;
    }

    c = fwgctl_connect();
    if (c == NULL) {
        return 1;
    }

    if (strcmp(sub, "add") == 0) {
        rc = device_add(c, argc - 2, argv + 2);
    } else if (strcmp(sub, "show") == 0) {
        rc = device_show(c, argc - 2, argv + 2);
    } else if (strcmp(sub, "revoke") == 0) {
        rc = device_revoke(c, argc - 2, argv + 2);
    } else {
        rc = device_import(c, argc - 2, argv + 2);
    }

    redisFree(c);

    return rc;
}


int
fwgctl_wants_help(int argc, char **argv)
{
    int  i;

    for (i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            return 0;
        }
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            return 1;
        }
    }

    return 0;
}


/* artifact ------------------------------------------------------------- */

static const char artifact_usage[] =
"usage: fwgatectl artifact add NAME --version V --models 'M1 M2:HW'\n"
"                              --file F --path URI [--json]\n"
"       fwgatectl artifact show NAME [--json]\n"
"\n"
"Registers a firmware artifact: computes the file's sha256 and size.\n"
"NAME: 1-128 of A-Z a-z 0-9 . _ - (by default the edge takes the\n"
"artifact name from the last segment of the request URI, so it should\n"
"be the last segment of --path).  --models: space-separated MODEL\n"
"(any hardware revision) or MODEL:HW entries.  Refused: a bad version or\n"
"model list, a missing file, a NAME that exists, a --path another\n"
"artifact uses, a --path whose last segment names another artifact.\n";


static int
artifact_name_valid(const char *s)
{
    size_t  len, i;
    char    ch;

    len = strlen(s);

    if (len == 0 || len > 128 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
    {
        return 0;
    }

    for (i = 0; i < len; i++) {
        ch = s[i];

        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z')
              || (ch >= '0' && ch <= '9') || ch == '.' || ch == '_'
              || ch == '-'))
        {
            return 0;
        }
    }

    return 1;
}


/* entries MODEL or MODEL:HW, at least one; NULL when valid */
static const char *
models_check(const char *s)
{
    const char  *p, *e, *colon;
    fwg_str_t    m, h;
    int          n;

    n = 0;
    p = s;

    for ( ;; ) {
        while (*p == ' ') {
            p++;
        }

        if (*p == '\0') {
            break;
        }

        e = p;
        while (*e && *e != ' ') {
            e++;
        }

        colon = memchr(p, ':', (size_t) (e - p));
        m.data = p;
        m.len = colon ? (size_t) (colon - p) : (size_t) (e - p);

        if (!fwg_model_valid(m)) {
            return "bad model name in --models";
        }

        if (colon) {
            h.data = colon + 1;
            h.len = (size_t) (e - colon - 1);

            if (!fwg_model_valid(h)) {
                return "bad hw in --models";
            }
        }

        n++;
        p = e;
    }

    return n ? NULL : "--models lists no model";
}


static int
file_digest(const char *path, char *hex, unsigned long long *size)
{
    FILE          *f;
    EVP_MD_CTX    *ctx;
    unsigned char  buf[65536], md[32];
    unsigned int   mdlen;
    size_t         n;
    struct stat    st;

    if (stat(path, &st) != 0) {
        return fwgctl_err("%s: %s", path, strerror(errno));
    }

    if (!S_ISREG(st.st_mode)) {
        return fwgctl_err("%s: not a regular file", path);
    }

    f = fopen(path, "rb");
    if (f == NULL) {
        return fwgctl_err("%s: %s", path, strerror(errno));
    }

    ctx = EVP_MD_CTX_new();
    if (ctx == NULL || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
        EVP_MD_CTX_free(ctx);
        fclose(f);
        return fwgctl_err("sha256 unavailable");
    }

    *size = 0;

    while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
        EVP_DigestUpdate(ctx, buf, n);
        *size += n;
    }

    if (ferror(f)) {
        EVP_MD_CTX_free(ctx);
        fclose(f);
        return fwgctl_err("%s: read error", path);
    }

    fclose(f);
    EVP_DigestFinal_ex(ctx, md, &mdlen);
    EVP_MD_CTX_free(ctx);

    hex[fwg_hex_encode(hex, md, 32)] = '\0';

    return 0;
}


static int
path_valid(const char *s)
{
    size_t  i, len;

    len = strlen(s);

    if (len < 2 || len > 1024 || s[0] != '/') {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if ((unsigned char) s[i] <= 0x20 || (unsigned char) s[i] >= 0x7f) {
            return 0;
        }
    }

    return s[len - 1] != '/';
}


/* another artifact with this path, or named as its last segment */
static int
artifact_clash(redisContext *c, const char *name, const char *path,
    const char *seg)
{
    fwgctl_av_t   av;
    redisReply   *r, *h;
    char          cursor[32], *pattern;
    const char   *prefix, *key, *other;
    size_t        i, plen;
    fwg_str_t     p;
    int           rc;

    prefix = fwgctl_opt_prefix();
    plen = strlen(prefix) + sizeof("artifact:");

    pattern = malloc(2 * plen + 2);
    if (pattern == NULL) {
        return fwgctl_err("out of memory");
    }

    /* escape glob characters of the prefix */
    for (i = 0, key = prefix; *key; key++) {
        if (strchr("*?[]\\", *key)) {
            pattern[i++] = '\\';
        }
        pattern[i++] = *key;
    }
    strcpy(pattern + i, "artifact:*");

    strcpy(cursor, "0");
    rc = 0;
    av.n = 0;

    do {
        fwgctl_av_add(&av, "SCAN");
        fwgctl_av_add(&av, cursor);
        fwgctl_av_add(&av, "MATCH");
        fwgctl_av_add(&av, pattern);
        fwgctl_av_add(&av, "COUNT");
        fwgctl_av_add(&av, "1000");

        r = fwgctl_run(c, &av);
        if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
            free(pattern);
            if (r) {
                freeReplyObject(r);
            }
            return 1;
        }

        snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);

        for (i = 0; i < r->element[1]->elements && rc == 0; i++) {
            key = r->element[1]->element[i]->str;
            other = key + strlen(prefix) + sizeof("artifact:") - 1;

            if (strcmp(other, name) == 0) {
                continue;
            }

            if (strcmp(other, seg) == 0) {
                rc = fwgctl_err("artifact add: the last segment of --path "
                                "names artifact %s", other);
                break;
            }

            fwgctl_av_add(&av, "HGET");
            fwgctl_av_add(&av, key);
            fwgctl_av_add(&av, "path");
            h = fwgctl_run(c, &av);

            if (h == NULL) {
                rc = 1;
                break;
            }

            p.data = h->type == REDIS_REPLY_STRING ? h->str : NULL;
            p.len = h->type == REDIS_REPLY_STRING ? h->len : 0;

            if (fwg_str_eq(p, path)) {
                rc = fwgctl_err("artifact add: --path %s is already used "
                                "by artifact %s", path, other);
            }

            freeReplyObject(h);
        }

        freeReplyObject(r);

    } while (rc == 0 && strcmp(cursor, "0") != 0);

    free(pattern);

    return rc;
}


static int
artifact_add(redisContext *c, int argc, char **argv)
{
    opt_t               opts[] = {
        { "version", 1, NULL }, { "models", 1, NULL }, { "file", 1, NULL },
        { "path", 1, NULL }, { NULL, 0, NULL }
    };
    args_t              a;
    const char         *name, *version, *models, *file, *path, *why, *seg;
    char                hex[65], sizes[32];
    unsigned long long  size;
    fwgctl_av_t         cmds[1];
    redisReply         *r;
    int                 rc;

    if (parse_args(argc, argv, opts, &a) != 0) {
        return 2;
    }

    if (a.npos != 1) {
        return fwgctl_usage("artifact add: one artifact NAME expected "
                          "(see --help)");
    }

    name = a.pos[0];
    version = opt(opts, "version");
    models = opt(opts, "models");
    file = opt(opts, "file");
    path = opt(opts, "path");

    if (!artifact_name_valid(name)) {
        return fwgctl_usage("artifact add: bad name '%s' (1-128 of A-Z a-z "
                          "0-9 . _ -)", name);
    }

    if (version == NULL || !is_semver(version)) {
        return fwgctl_usage("artifact add: --version missing or not SemVer "
                          "2.0.0");
    }

    if (models == NULL) {
        return fwgctl_usage("artifact add: --models missing");
    }

    why = models_check(models);
    if (why) {
        return fwgctl_usage("artifact add: %s", why);
    }

    if (path == NULL || !path_valid(path)) {
        return fwgctl_usage("artifact add: --path missing or not an absolute "
                          "URI path");
    }

    if (file == NULL) {
        return fwgctl_usage("artifact add: --file missing");
    }

    size = 0;

    if (file_digest(file, hex, &size) != 0) {
        return 1;
    }

    seg = strrchr(path, '/') + 1;

    if (watch(c, "artifact:", name) != 0) {
        return 1;
    }

    r = fwgctl_hgetall(c, "artifact:", name);
    if (r == NULL) {
        return 1;
    }

    if (fwgctl_hfound(r)) {
        freeReplyObject(r);
        return fwgctl_err("artifact add: artifact %s exists (a name is "
                          "never reused for other content)", name);
    }

    freeReplyObject(r);

    if (artifact_clash(c, name, path, seg) != 0) {
        return 1;
    }

    snprintf(sizes, sizeof(sizes), "%llu", size);

    av_init(cmds, 1);
    fwgctl_av_add(&cmds[0], "HSET");
    fwgctl_av_key(&cmds[0], "artifact:", name, NULL);
    fwgctl_av_add(&cmds[0], "version");
    fwgctl_av_add(&cmds[0], version);
    fwgctl_av_add(&cmds[0], "models");
    fwgctl_av_add(&cmds[0], models);
    fwgctl_av_add(&cmds[0], "sha256");
    fwgctl_av_add(&cmds[0], hex);
    fwgctl_av_add(&cmds[0], "size");
    fwgctl_av_add(&cmds[0], sizes);
    fwgctl_av_add(&cmds[0], "path");
    fwgctl_av_add(&cmds[0], path);

    rc = exec_tx(c, cmds, 1);
    av_free(cmds, 1);

    if (rc != 0) {
        return rc;
    }

    if (strcmp(seg, name) != 0) {
        fprintf(stderr, "fwgatectl: warning: the last segment of --path is "
                "not the artifact name; set fwgate_artifact to match\n");
    }

    if (a.json) {
        printf("{\"artifact\":");
        fwgctl_json_str(stdout, name, strlen(name));
        printf(",\"version\":");
        fwgctl_json_str(stdout, version, strlen(version));
        printf(",\"models\":");
        fwgctl_json_str(stdout, models, strlen(models));
        printf(",\"sha256\":\"%s\",\"size\":%s,\"path\":", hex, sizes);
        fwgctl_json_str(stdout, path, strlen(path));
        printf("}\n");

    } else {
        printf("artifact %s added: version %s, %s bytes, sha256 %s\n",
               name, version, sizes, hex);
    }

    return 0;
}


static int
artifact_show(redisContext *c, int argc, char **argv)
{
    static const char  *fields[] = {
        "version", "models", "sha256", "size", "path", NULL
    };

    args_t       a;
    redisReply  *r;
    fwg_str_t    v;
    int          i;

    if (parse_args(argc, argv, NULL, &a) != 0) {
        return 2;
    }

    if (a.npos != 1) {
        return fwgctl_usage("artifact show: one artifact NAME expected");
    }

    r = fwgctl_hgetall(c, "artifact:", a.pos[0]);
    if (r == NULL) {
        return 1;
    }

    if (!fwgctl_hfound(r)) {
        freeReplyObject(r);
        return fwgctl_err("artifact %s: not found", a.pos[0]);
    }

    if (a.json) {
        printf("{\"artifact\":");
        fwgctl_json_str(stdout, a.pos[0], strlen(a.pos[0]));
    } else {
        printf("artifact: %s\n", a.pos[0]);
    }

    for (i = 0; fields[i]; i++) {
        v = fwgctl_hfield(r, fields[i]);

        if (a.json && strcmp(fields[i], "size") == 0 && v.len
            && strspn(v.data, "0123456789") == v.len && v.len < 20)
        {
            printf(",\"size\":%.*s", (int) v.len, v.data);
        } else if (a.json) {
            fwgctl_json_kv(stdout, fields[i], v, 1);
        } else {
            printf("%-9s %.*s\n", fields[i], (int) v.len,
                   v.data ? v.data : "");
        }
    }

    if (a.json) {
        printf("}\n");
    }

    freeReplyObject(r);

    return 0;
}


int
cmd_artifact(int argc, char **argv)
{
    redisContext  *c;
    int            rc;

    if (argc < 2 || fwgctl_wants_help(argc - 1, argv + 1)) {
        fputs(artifact_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }

    if (strcmp(argv[1], "add") != 0 && strcmp(argv[1], "show") != 0) {
        return fwgctl_usage("artifact: unknown subcommand '%s' (add, show)",
                            argv[1]);
    }

    c = fwgctl_connect();
    if (c == NULL) {
        return 1;
    }

    rc = argv[1][0] == 'a' ? artifact_add(c, argc - 2, argv + 2)
                           : artifact_show(c, argc - 2, argv + 2);
    redisFree(c);

    return rc;
}


/* rollout -------------------------------------------------------------- */

static const char rollout_usage[] =
"usage: fwgatectl rollout start MODEL --artifact NAME --percent P\n"
"                     [--from RANGE] [--salt S] [--allow-downgrade]\n"
"                     [--halt-failures N --halt-ratio R]\n"
"                     [--halt-silence SECONDS]\n"
"       fwgatectl rollout set MODEL --percent P\n"
"       fwgatectl rollout pause|resume|halt MODEL\n"
"       fwgatectl rollout status MODEL [--json]\n"
"\n"
"start   replaces the model's rollout (state active).  Refused: an\n"
"        artifact whose models do not list MODEL, and an artifact\n"
"        version below the current target's unless --allow-downgrade\n"
"        (which also sets downgrade=1: devices running a newer version\n"
"        may take it).  P: 0-100, at most two decimals.  RANGE: e.g.\n"
"        '>=2.0.0 <2.5.0 || =1.9.9'.  Auto-halt: --halt-failures N and\n"
"        --halt-ratio R (0 < R <= 1) together; --halt-silence SECONDS\n"
"        counts devices unheard that long after download as failures.\n"
"set     changes the percent (raising it only adds devices).\n"
"pause   stops offering the artifact; resume makes it active again\n"
"        (also after a halt); halt stops it as the auto-halt does.\n"
"status  state, target, percent, cohort among registered devices,\n"
"        report counters.\n";


/* any entry of the list for MODEL, whatever its hw */
static int
models_mention(fwg_str_t models, const char *model)
{
    size_t  i, s, e, mlen;

    mlen = strlen(model);
    i = 0;

    while (i < models.len) {
        while (i < models.len && models.data[i] == ' ') {
            i++;
        }

        s = i;
        while (i < models.len && models.data[i] != ' ') {
            i++;
        }

        for (e = s; e < i && models.data[e] != ':'; e++) {
            /* void */
        }

        if (e - s == mlen && mlen && memcmp(models.data + s, model, mlen) == 0)
        {
            return 1;
        }
    }

    return 0;
}


static int
ratio_valid(const char *s)
{
    char    *end;
    double   d;

    errno = 0;
    d = strtod(s, &end);

    return errno == 0 && *end == '\0' && end != s && d > 0.0 && d <= 1.0;
}


static int
uint_valid(const char *s)
{
    size_t  i;

    for (i = 0; s[i]; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
    }

    return i > 0 && i < 10 && !(i > 1 && s[0] == '0') && strcmp(s, "0");
}


static int
rollout_start(redisContext *c, const char *model, int argc, char **argv)
{
    opt_t          opts[] = {
        { "artifact", 1, NULL }, { "percent", 1, NULL }, { "from", 1, NULL },
        { "salt", 1, NULL }, { "allow-downgrade", 0, NULL },
        { "halt-failures", 1, NULL }, { "halt-ratio", 1, NULL },
        { "halt-silence", 1, NULL }, { NULL, 0, NULL }
    };
    args_t         a;
    const char    *name, *pct, *from, *salt, *hf, *hr, *hs;
    redisReply    *art, *cur, *curart;
    fwg_str_t      models, ver, curname, curver;
    fwg_semver_t   nv, cv;
    fwgctl_av_t    cmds[2];
    char          *cn;
    int            rc, down;

    if (parse_args(argc, argv, opts, &a) != 0) {
        return 2;
    }

    if (a.npos != 0) {
        return fwgctl_usage("rollout start: unexpected argument '%s'",
                          a.pos[0]);
    }

    name = opt(opts, "artifact");
    pct = opt(opts, "percent");
    from = opt(opts, "from");
    salt = opt(opts, "salt");
    hf = opt(opts, "halt-failures");
    hr = opt(opts, "halt-ratio");
    hs = opt(opts, "halt-silence");
    down = opt(opts, "allow-downgrade") != NULL;

    if (name == NULL || !artifact_name_valid(name)) {
        return fwgctl_usage("rollout start: --artifact missing or not an "
                          "artifact name");
    }

    if (pct == NULL || fwg_percent_parse(pct, strlen(pct)) < 0) {
        return fwgctl_usage("rollout start: --percent missing or not 0-100 "
                          "with at most two decimals");
    }

    if (from != NULL && fwg_range_valid(from, strlen(from)) != 0) {
        return fwgctl_usage("rollout start: --from '%s' is not a SemVer range",
                          from);
    }

    if (salt != NULL && (salt[0] == '\0' || strlen(salt) > 256)) {
        return fwgctl_usage("rollout start: --salt must be 1-256 bytes");
    }

    if ((hf == NULL) != (hr == NULL)) {
        return fwgctl_usage("rollout start: --halt-failures and --halt-ratio "
                          "go together (both thresholds must be reached)");
    }

    if (hf != NULL && !uint_valid(hf)) {
        return fwgctl_usage("rollout start: --halt-failures must be a "
                          "positive integer");
    }

    if (hr != NULL && !ratio_valid(hr)) {
        return fwgctl_usage("rollout start: --halt-ratio must be in (0, 1]");
    }

    if (hs != NULL && !uint_valid(hs)) {
        return fwgctl_usage("rollout start: --halt-silence must be a "
                          "positive number of seconds");
    }

    if (watch(c, "rollout:", model) != 0 || watch(c, "artifact:", name) != 0)
    {
        return 1;
    }

    art = fwgctl_hgetall(c, "artifact:", name);
    if (art == NULL) {
        return 1;
    }

    if (!fwgctl_hfound(art)) {
        freeReplyObject(art);
        return fwgctl_err("rollout start: artifact %s not found", name);
    }

    models = fwgctl_hfield(art, "models");
    ver = fwgctl_hfield(art, "version");

    if (!models_mention(models, model)) {
        rc = fwgctl_err("rollout start: refused: artifact %s is built for "
                        "'%.*s', not for %s", name, (int) models.len,
                        models.data ? models.data : "", model);
        freeReplyObject(art);
        return rc;
    }

    if (fwg_semver_parse(&nv, ver.data ? ver.data : "", ver.len) != 0) {
        freeReplyObject(art);
        return fwgctl_err("rollout start: artifact %s has no valid version",
                          name);
    }

    /* the current target's version: no silent downgrade of a fleet */

    cur = fwgctl_hgetall(c, "rollout:", model);
    if (cur == NULL) {
        freeReplyObject(art);
        return 1;
    }

    curname = fwgctl_hfield(cur, "artifact");

    if (curname.len && !down) {
        cn = strndup(curname.data, curname.len);
        curart = cn ? fwgctl_hgetall(c, "artifact:", cn) : NULL;
        free(cn);

        if (curart == NULL) {
            freeReplyObject(cur);
            freeReplyObject(art);
            return 1;
        }

        curver = fwgctl_hfield(curart, "version");

        if (curver.len
            && fwg_semver_parse(&cv, curver.data, curver.len) == 0
            && fwg_semver_cmp(&nv, &cv) < 0)
        {
            rc = fwgctl_err("rollout start: refused: %s is version %.*s, "
                            "below the current target %.*s (%.*s); use "
                            "--allow-downgrade to roll back",
                            name, (int) ver.len, ver.data,
                            (int) curname.len, curname.data,
                            (int) curver.len, curver.data);
            freeReplyObject(curart);
            freeReplyObject(cur);
            freeReplyObject(art);
            return rc;
        }

        freeReplyObject(curart);
    }

    av_init(cmds, 2);

    fwgctl_av_add(&cmds[0], "DEL");
    fwgctl_av_key(&cmds[0], "rollout:", model, NULL);

    fwgctl_av_add(&cmds[1], "HSET");
    fwgctl_av_key(&cmds[1], "rollout:", model, NULL);
    fwgctl_av_add(&cmds[1], "artifact");
    fwgctl_av_add(&cmds[1], name);
    fwgctl_av_add(&cmds[1], "percent");
    fwgctl_av_add(&cmds[1], pct);
    fwgctl_av_add(&cmds[1], "salt");
    fwgctl_av_add(&cmds[1], salt ? salt : name);
    fwgctl_av_add(&cmds[1], "state");
    fwgctl_av_add(&cmds[1], "active");
    fwgctl_av_add(&cmds[1], "downgrade");
    fwgctl_av_add(&cmds[1], down ? "1" : "0");
    if (from) {
        fwgctl_av_add(&cmds[1], "from");
        fwgctl_av_add(&cmds[1], from);
    }
    if (hf) {
        fwgctl_av_add(&cmds[1], "halt_failures");
        fwgctl_av_add(&cmds[1], hf);
        fwgctl_av_add(&cmds[1], "halt_ratio");
        fwgctl_av_add(&cmds[1], hr);
    }
    if (hs) {
        fwgctl_av_add(&cmds[1], "halt_silence");
        fwgctl_av_add(&cmds[1], hs);
    }

    rc = exec_tx(c, cmds, 2);

    av_free(cmds, 2);
    freeReplyObject(cur);

    if (rc == 0) {
        if (a.json) {
            printf("{\"model\":");
            fwgctl_json_str(stdout, model, strlen(model));
            printf(",\"artifact\":");
            fwgctl_json_str(stdout, name, strlen(name));
            printf(",\"version\":");
            fwgctl_json_str(stdout, ver.data, ver.len);
            printf(",\"percent\":%s,\"state\":\"active\"}\n", pct);

        } else {
            printf("rollout %s started: %s (%.*s) at %s%%\n", model, name,
                   (int) ver.len, ver.data, pct);
        }
    }

    freeReplyObject(art);

    return rc;
}


/* set, pause, resume, halt: one field of an existing rollout */
static int
rollout_field(redisContext *c, const char *sub, const char *model,
    int argc, char **argv)
{
    opt_t         opts[] = { { "percent", 1, NULL }, { NULL, 0, NULL } };
    args_t        a;
    const char   *field, *value;
    redisReply   *r;
    fwg_str_t     state;
    fwgctl_av_t   cmds[1];
    int           rc;

    if (parse_args(argc, argv, strcmp(sub, "set") == 0 ? opts : NULL, &a)
        != 0)
    {
        return 2;
    }

    if (a.npos != 0) {
        return fwgctl_usage("rollout %s: unexpected argument '%s'", sub,
                          a.pos[0]);
    }

    if (strcmp(sub, "set") == 0) {
        field = "percent";
        value = opt(opts, "percent");

        if (value == NULL || fwg_percent_parse(value, strlen(value)) < 0) {
            return fwgctl_usage("rollout set: --percent missing or not 0-100 "
                              "with at most two decimals");
        }

    } else {
        field = "state";
        value = strcmp(sub, "pause") == 0 ? "paused"
                : strcmp(sub, "resume") == 0 ? "active" : "halted";
    }

    if (watch(c, "rollout:", model) != 0) {
        return 1;
    }

    r = fwgctl_hgetall(c, "rollout:", model);
    if (r == NULL) {
        return 1;
    }

    if (!fwgctl_hfound(r)) {
        freeReplyObject(r);
        return fwgctl_err("rollout %s: no rollout for model %s", sub, model);
    }

    state = fwgctl_hfield(r, "state");

    if (strcmp(sub, "resume") == 0 && fwg_str_eq(state, "halted")) {
        fprintf(stderr, "fwgatectl: note: resuming a halted rollout\n");
    }

    av_init(cmds, 1);
    fwgctl_av_add(&cmds[0], "HSET");
    fwgctl_av_key(&cmds[0], "rollout:", model, NULL);
    fwgctl_av_add(&cmds[0], field);
    fwgctl_av_add(&cmds[0], value);

    rc = exec_tx(c, cmds, 1);
    av_free(cmds, 1);
    freeReplyObject(r);

    if (rc == 0) {
        if (a.json) {
            printf("{\"model\":");
            fwgctl_json_str(stdout, model, strlen(model));
            printf(",\"%s\":", field);
            fwgctl_json_str(stdout, value, strlen(value));
            printf("}\n");

        } else {
            printf("rollout %s: %s %s\n", model, field, value);
        }
    }

    return rc;
}


static redisReply *
smembers(redisContext *c, const char *a, const char *b, const char *d)
{
    fwgctl_av_t  av;

    av.n = 0;
    fwgctl_av_add(&av, "SMEMBERS");
    fwgctl_av_key(&av, a, b, d, NULL);

    return fwgctl_run(c, &av);
}


static int
in_set(const redisReply *set, const char *id, size_t len)
{
    size_t  i;

    for (i = 0; i < set->elements; i++) {
        if (set->element[i]->len == len
            && memcmp(set->element[i]->str, id, len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


/* fields of a hash reply as JSON members / as "k v, k v" */
static void
print_hash(const redisReply *r, int json)
{
    size_t  i;

    for (i = 0; r && i + 1 < r->elements; i += 2) {
        if (json) {
            printf("%s", i ? "," : "");
            fwgctl_json_str(stdout, r->element[i]->str, r->element[i]->len);
            putchar(':');
            fwgctl_json_str(stdout, r->element[i + 1]->str,
                            r->element[i + 1]->len);
        } else {
            printf("%s%.*s %.*s", i ? ", " : "",
                   (int) r->element[i]->len, r->element[i]->str,
                   (int) r->element[i + 1]->len, r->element[i + 1]->str);
        }
    }
}


static void
free_replies(redisReply *a, redisReply *b, redisReply *c, redisReply *d,
    redisReply *e, redisReply *f)
{
    redisReply  *all[6];
    int          i;

    all[0] = a; all[1] = b; all[2] = c; all[3] = d; all[4] = e; all[5] = f;

    for (i = 0; i < 6; i++) {
        if (all[i] != NULL) {
            freeReplyObject(all[i]);
        }
    }
}


static int
rollout_status(redisContext *c, const char *model, int argc, char **argv)
{
    args_t        a;
    redisReply   *ro, *art, *devs, *canary, *excl, *stats, *pend;
    fwg_str_t     name, pct, salt, state, from, down, ver, s;
    fwgctl_av_t   av;
    char         *n;
    long          hund;
    size_t        i, incohort;
    uint32_t      bucket;
    int           bar, j, canon, exon;

    if (parse_args(argc, argv, NULL, &a) != 0) {
        return 2;
    }

    ro = fwgctl_hgetall(c, "rollout:", model);
    if (ro == NULL) {
        return 1;
    }

    if (!fwgctl_hfound(ro)) {
        freeReplyObject(ro);
        return fwgctl_err("rollout status: no rollout for model %s", model);
    }

    name = fwgctl_hfield(ro, "artifact");
    pct = fwgctl_hfield(ro, "percent");
    salt = fwgctl_hfield(ro, "salt");
    state = fwgctl_hfield(ro, "state");
    from = fwgctl_hfield(ro, "from");
    down = fwgctl_hfield(ro, "downgrade");

    if (salt.len == 0) {
        salt = name;
    }

    n = strndup(name.data ? name.data : "", name.len);
    if (n == NULL) {
        freeReplyObject(ro);
        return fwgctl_err("out of memory");
    }

    art = fwgctl_hgetall(c, "artifact:", n);
    devs = smembers(c, "model:", model, ":devices");
    canary = smembers(c, "rollout:", model, ":canary");
    excl = smembers(c, "rollout:", model, ":exclude");

    av.n = 0;
    fwgctl_av_add(&av, "HGETALL");
    fwgctl_av_key(&av, "stats:", model, ":", n, NULL);
    stats = fwgctl_run(c, &av);

    fwgctl_av_add(&av, "ZCARD");
    fwgctl_av_key(&av, "downloads:", model, ":", n, NULL);
    pend = fwgctl_run(c, &av);

    free(n);

    if (art == NULL || devs == NULL || canary == NULL || excl == NULL
        || stats == NULL || pend == NULL)
    {
        free_replies(art, devs, canary, excl, stats, pend);
        freeReplyObject(ro);
        return 1;
    }

    ver = fwgctl_hfield(art, "version");
    hund = fwg_percent_parse(pct.data ? pct.data : "", pct.len);

    /* the same cohort rule as the edge, over the registered devices */

    incohort = 0;

    for (i = 0; i < devs->elements; i++) {
        s.data = devs->element[i]->str;
        s.len = devs->element[i]->len;

        canon = in_set(canary, s.data, s.len);
        exon = in_set(excl, s.data, s.len);

        bucket = fwg_cohort_bucket(salt, s);

        if (hund >= 0 && fwg_cohort_in(bucket, hund, canon, exon)) {
            incohort++;
        }
    }

    if (a.json) {
        printf("{\"model\":");
        fwgctl_json_str(stdout, model, strlen(model));
        fwgctl_json_kv(stdout, "state", state, 1);
        fwgctl_json_kv(stdout, "artifact", name, 1);
        fwgctl_json_kv(stdout, "version", ver, 1);
        fwgctl_json_kv(stdout, "percent", pct, 1);
        fwgctl_json_kv(stdout, "salt", salt, 1);
        fwgctl_json_kv(stdout, "from", from, 1);
        printf(",\"downgrade\":%s", fwg_str_eq(down, "1") ? "true" : "false");
        printf(",\"devices\":%zu,\"cohort\":%zu,\"canary\":%zu,"
               "\"excluded\":%zu", devs->elements, incohort,
               canary->elements, excl->elements);
        printf(",\"halt\":{");
        s = fwgctl_hfield(ro, "halt_failures");
        j = 0;
        if (s.len) {
            fwgctl_json_kv(stdout, "failures", s, j++);
        }
        s = fwgctl_hfield(ro, "halt_ratio");
        if (s.len) {
            fwgctl_json_kv(stdout, "ratio", s, j++);
        }
        s = fwgctl_hfield(ro, "halt_silence");
        if (s.len) {
            fwgctl_json_kv(stdout, "silence", s, j++);
        }
        printf("},\"stats\":{");
        print_hash(stats, 1);
        printf("},\"pending_downloads\":%lld}\n",
               pend->type == REDIS_REPLY_INTEGER ? pend->integer : 0LL);

    } else {
        printf("rollout   %s\n", model);
        printf("state     %.*s\n", (int) state.len, state.data);
        printf("target    %.*s (%.*s)%s\n", (int) name.len, name.data,
               (int) ver.len, ver.len ? ver.data : "missing!",
               fwgctl_hfound(art) ? "" : " artifact record missing");

        bar = hund > 0 ? (int) ((hund * 40 + 9999) / 10000) : 0;
        printf("percent   %.*s%% [", (int) pct.len, pct.data);
        for (j = 0; j < 40; j++) {
            putchar(j < bar ? '#' : '.');
        }
        printf("]\n");

        if (from.len) {
            printf("from      %.*s\n", (int) from.len, from.data);
        }
        printf("downgrade %s\n", fwg_str_eq(down, "1") ? "allowed" : "no");
        printf("salt      %.*s\n", (int) salt.len, salt.data);
        printf("cohort    %zu of %zu registered %s devices "
               "(canary %zu, excluded %zu)\n", incohort, devs->elements,
               model, canary->elements, excl->elements);

        s = fwgctl_hfield(ro, "halt_failures");
        if (s.len) {
            printf("auto-halt failures >= %.*s and ratio >= %.*s\n",
                   (int) s.len, s.data,
                   (int) fwgctl_hfield(ro, "halt_ratio").len,
                   fwgctl_hfield(ro, "halt_ratio").data);
        }
        s = fwgctl_hfield(ro, "halt_silence");
        if (s.len) {
            printf("silence   devices unheard %.*s s after download fail\n",
                   (int) s.len, s.data);
        }

        printf("stats     ");
        if (stats->elements) {
            print_hash(stats, 0);
        } else {
            printf("no reports");
        }
        printf("\npending   %lld downloads not yet heard from\n",
               pend->type == REDIS_REPLY_INTEGER ? pend->integer : 0LL);
    }

    free_replies(art, devs, canary, excl, stats, pend);
    freeReplyObject(ro);

    return 0;
}


int
cmd_rollout(int argc, char **argv)
{
    redisContext  *c;
    const char    *sub, *model;
    int            rc;

    if (argc < 2 || fwgctl_wants_help(argc - 1, argv + 1)) {
        fputs(rollout_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }

    sub = argv[1];

    if (strcmp(sub, "start") && strcmp(sub, "set") && strcmp(sub, "pause")
        && strcmp(sub, "resume") && strcmp(sub, "halt")
        && strcmp(sub, "status"))
    {
        fwgctl_err("rollout: unknown subcommand '%s' (start, set, pause, "
                   "resume, halt, status)", sub);
        return 2;
    }

    if (argc < 3 || argv[2][0] == '-') {
        fwgctl_err("rollout %s: MODEL expected first (see --help)", sub);
        return 2;
    }

    model = argv[2];

    if (!fwg_model_valid(fwg_cli_str(model))) {
        return fwgctl_usage("rollout %s: bad model name '%s'", sub, model);
    }

    c = fwgctl_connect();
    if (c == NULL) {
        return 1;
    }

    if (strcmp(sub, "start") == 0) {
        rc = rollout_start(c, model, argc - 3, argv + 3);
    } else if (strcmp(sub, "status") == 0) {
        rc = rollout_status(c, model, argc - 3, argv + 3);
    } else {
        rc = rollout_field(c, sub, model, argc - 3, argv + 3);
    }

    redisFree(c);

    return rc;
}


/* canary, exclude ------------------------------------------------------ */

static int
members_cmd(const char *set, int argc, char **argv)
{
    redisContext  *c;
    args_t         a;
    fwgctl_av_t    cmds[1];
    const char    *sub, *model;
    int            i, rc, add;

    if (argc < 2 || fwgctl_wants_help(argc - 1, argv + 1)) {
        fprintf(argc < 2 ? stderr : stdout,
                "usage: fwgatectl %s add|rm MODEL ID...\n\n"
                "%s devices of MODEL's rollout: %s.  The sets may be\n"
                "prepared before the rollout starts and survive it.\n",
                set, strcmp(set, "canary") == 0 ? "Adds or removes canary"
                                                : "Adds or removes excluded",
                strcmp(set, "canary") == 0
                ? "always in the cohort, whatever the percent"
                : "never in the cohort unless also canaries");
        return argc < 2 ? 2 : 0;
    }

    sub = argv[1];

    if (strcmp(sub, "add") != 0 && strcmp(sub, "rm") != 0) {
        fwgctl_err("%s: unknown subcommand '%s' (add, rm)", set, sub);
        return 2;
    }

    add = sub[0] == 'a';

    if (parse_args(argc - 2, argv + 2, NULL, &a) != 0) {
        return 2;
    }

    if (a.npos < 2) {
        return fwgctl_usage("%s %s: MODEL and at least one ID expected", set,
                          sub);
    }

    model = a.pos[0];

    if (!fwg_model_valid(fwg_cli_str(model))) {
        return fwgctl_usage("%s %s: bad model name '%s'", set, sub, model);
    }

    if (a.npos - 1 > FWGCTL_AV_MAX - 4) {
        return fwgctl_usage("%s %s: at most %d ids at a time", set, sub,
                          FWGCTL_AV_MAX - 4);
    }

    for (i = 1; i < a.npos; i++) {
        if (!fwgctl_id_valid(a.pos[i], strlen(a.pos[i]))) {
            return fwgctl_usage("%s %s: bad device id '%s'", set, sub,
                              a.pos[i]);
        }
    }

    c = fwgctl_connect();
    if (c == NULL) {
        return 1;
    }

    av_init(cmds, 1);
    fwgctl_av_add(&cmds[0], add ? "SADD" : "SREM");
    fwgctl_av_key(&cmds[0], "rollout:", model, ":",
                  strcmp(set, "canary") == 0 ? "canary" : "exclude", NULL);

    for (i = 1; i < a.npos; i++) {
        fwgctl_av_add(&cmds[0], a.pos[i]);
    }

    rc = exec_tx(c, cmds, 1);
    av_free(cmds, 1);
    redisFree(c);

    if (rc == 0) {
        if (a.json) {
            printf("{\"model\":");
            fwgctl_json_str(stdout, model, strlen(model));
            printf(",\"%s\":\"%s\",\"ids\":%d}\n", set, add ? "add" : "rm",
                   a.npos - 1);
        } else {
            printf("%s %s: %s %d device%s\n", model, set,
                   add ? "added" : "removed", a.npos - 1,
                   a.npos == 2 ? "" : "s");
        }
    }

    return rc;
}


int
cmd_canary(int argc, char **argv)
{
    return members_cmd("canary", argc, argv);
}


int
cmd_exclude(int argc, char **argv)
{
    return members_cmd("exclude", argc, argv);
}
