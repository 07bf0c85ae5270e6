/*
 * fwgatectl device: add, show, revoke and import (CSV, pipelined, in
 * batches, with progress).  Keys: docs/redis-schema.md, under a configurable
 * prefix.
 *
 * Besides the registry's keys the CLI maintains one index:
 *   <prefix>model:<model>:devices   set of active device ids of a model
 * kept by `device add`, `device import` and `device revoke`, and read by
 * `rollout status` to count a rollout's cohort among registered devices.
 * The module never reads it.  Writes that belong together are one
 * MULTI/EXEC that also increments `<prefix>epoch`, so edges drop cached
 * records.
 */

#include <errno.h>
#include <fcntl.h>
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
#include "fwg_decide.h"
#include "fwg_sig.h"
#include "fwgatectl.h"
#include "fwgctl_opts.h"
#include "fwgctl_redis.h"


#define IMPORT_BATCH  1000


static const char device_usage[] =
"usage: fwgatectl device add ID --model M [--hw H] --alg ALG\n"
"                            (--key FILE | --gen-key PREFIX) [--replace]\n"
"       fwgatectl device show ID [--json]\n"
"       fwgatectl device revoke ID\n"
"       fwgatectl device pardon ID [--artifact A]\n"
"       fwgatectl device import FILE.csv [--replace] [--json]\n"
"\n"
"add      registers a device.  ALG: ed25519, ecdsa-p256-sha256,\n"
"         hmac-sha256.  --key: PEM public (or private) key, or a file\n"
"         holding the base64 HMAC secret.  --gen-key PREFIX makes a key:\n"
"         PREFIX.pem (private, mode 0600) and PREFIX.pub.pem, or\n"
"         PREFIX.key (HMAC secret, 0600).  An existing id is refused\n"
"         unless --replace.\n"
"show     prints the record (an HMAC secret is never printed) and the\n"
"         device's penalties: artifact, boxed until, failure reports.\n"
"revoke   sets status revoked: the edge refuses the device (403).\n"
"pardon   takes the device out of the penalty box (of artifact A, or of\n"
"         every artifact) and resets its failure counts; edges drop the\n"
"         cached record at once.\n"
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
    fwgctl_opt_t        opts[] = {
        { "--model", 1, NULL }, { "--hw", 1, NULL }, { "--alg", 1, NULL },
        { "--key", 1, NULL }, { "--gen-key", 1, NULL },
        { "--replace", 0, NULL },
        { NULL, 0, NULL }
    };
    fwgctl_args_t       a;
    const char  *id, *model, *hw, *algs, *keyf, *gen, *err;
    char        *rec, *genpath;
    fwg_alg_t    alg;
    fwgctl_av_t  cmds[4];
    redisReply  *old;
    fwg_str_t    oldmodel;
    int          rc, n;

    if (fwgctl_args_parse(argc, argv, opts, &a) != 0) {
        return 2;
    }

    if (a.help) {
        fputs(device_usage, stdout);
        return 0;
    }

    id = a.npos == 1 ? a.pos[0] : NULL;
    model = fwgctl_opt_value(opts, "--model");
    hw = fwgctl_opt_value(opts, "--hw");
    algs = fwgctl_opt_value(opts, "--alg");
    keyf = fwgctl_opt_value(opts, "--key");
    gen = fwgctl_opt_value(opts, "--gen-key");

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

    if (fwgctl_watch(c, "device:", id) != 0) {
        return 1;
    }

    old = fwgctl_hgetall(c, "device:", id);
    if (old == NULL) {
        return 1;
    }

    if (fwgctl_hfound(old) && fwgctl_opt_value(opts, "--replace") == NULL) {
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

    fwgctl_av_init_all(cmds, 4);
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

    rc = fwgctl_exec_tx(c, cmds, n);

    fwgctl_av_reset_all(cmds, 4);
    freeReplyObject(old);
    free(rec);

    if (rc == 0) {
        if (a.json) {
            printf("{");
            fwgctl_json_kv(stdout, "device", fwg_cli_str(id), 0);
            fwgctl_json_kv(stdout, "model", fwg_cli_str(model), 1);
            printf(",\"alg\":\"%s\"", fwg_alg_name(alg));
            if (genpath) {
                fwgctl_json_kv(stdout, "key_file", fwg_cli_str(genpath), 1);
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


/* the one device ID of show and revoke; NULL with *rc the exit code */
static const char *
device_id_arg(const char *sub, int argc, char **argv, fwgctl_args_t *a,
    int *rc)
{
    if (fwgctl_args_parse(argc, argv, NULL, a) != 0) {
        *rc = 2;
        return NULL;
    }

    if (a->help) {
        fputs(device_usage, stdout);
        *rc = 0;
        return NULL;
    }

    if (a->npos != 1) {
        *rc = fwgctl_usage("device %s: one device ID expected", sub);
        return NULL;
    }

    return a->pos[0];
}


static void device_penalties(redisContext *c, redisReply *r,
    const char *id, fwg_str_t model, int json);


static int
device_show(redisContext *c, int argc, char **argv)
{
    fwgctl_args_t       a;
    redisReply  *r;
    fwg_str_t    model, hw, algs, key, status;
    fwg_alg_t    alg;
    const char  *id;
    int          rc, secret;

    id = device_id_arg("show", argc, argv, &a, &rc);
    if (id == NULL) {
        return rc;
    }

    r = fwgctl_hrecord(c, "device:", id, "device %s: not found", id);
    if (r == NULL) {
        return 1;
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
        printf("{");
        fwgctl_json_kv(stdout, "device", fwg_cli_str(id), 0);
        fwgctl_json_kv(stdout, "model", model, 1);
        if (hw.len) {
            fwgctl_json_kv(stdout, "hw", hw, 1);
        }
        fwgctl_json_kv(stdout, "alg", algs, 1);
        if (!secret) {
            fwgctl_json_kv(stdout, "key", key, 1);
        }
        fwgctl_json_kv(stdout, "status", status, 1);
        device_penalties(c, r, id, model, 1);
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

    if (!a.json) {
        device_penalties(c, r, id, model, 0);
    }

    freeReplyObject(r);

    return 0;
}


/*
 * The penalty box (docs/fleet-guide.md): each penalty:<artifact> field of
 * the record, with its failure count from devfail:<model>:<artifact>.
 * As the record's "penalties" member, or as text lines.
 */

static void
device_penalties(redisContext *c, redisReply *r, const char *id,
    fwg_str_t model, int json)
{
    size_t        i, n;
    char         *m, *art, when[64];
    time_t        t;
    struct tm     tm;
    long long     until;
    redisReply   *f;
    fwgctl_av_t   av;

    m = strndup(model.data ? model.data : "", model.len);
    if (m == NULL) {
        return;
    }

    n = 0;

    for (i = 0; i + 1 < r->elements; i += 2) {
        if (r->element[i]->type != REDIS_REPLY_STRING
            || r->element[i]->len <= 8
            || strncmp(r->element[i]->str, "penalty:", 8) != 0)
        {
            continue;
        }

        art = strndup(r->element[i]->str + 8, r->element[i]->len - 8);
        if (art == NULL) {
            break;
        }

        until = strtoll(r->element[i + 1]->str ? r->element[i + 1]->str
                                               : "0", NULL, 10);

        fwgctl_av_init_all(&av, 1);
        fwgctl_av_add(&av, "HGET");
        fwgctl_av_key(&av, "devfail:", m, ":", art, NULL);
        fwgctl_av_add(&av, id);
        f = fwgctl_run(c, &av);

        t = (time_t) until;
        when[0] = '\0';
        if (gmtime_r(&t, &tm) != NULL) {
            strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
        }

        if (json) {
            printf("%s", n == 0 ? ",\"penalties\":[" : ",");
            printf("{");
            fwgctl_json_kv(stdout, "artifact", fwg_cli_str(art), 0);
            printf(",\"until\":%lld,\"boxed\":%s,\"failures\":%s}", until,
                   (long long) time(NULL) < until ? "true" : "false",
                   f && f->type == REDIS_REPLY_STRING ? f->str : "0");

        } else {
            printf("penalty: %s until %lld (%s)%s, failures %s\n", art,
                   until, when,
                   (long long) time(NULL) < until ? "" : " expired",
                   f && f->type == REDIS_REPLY_STRING ? f->str : "0");
        }

        n++;
        free(art);

        if (f) {
            freeReplyObject(f);
        }
    }

    if (json) {
        printf("%s", n ? "]" : ",\"penalties\":[]");
    }

    free(m);
}


/*
 * the arguments of a subcommand that takes one ID or file: -1 to go on,
 * else its exit status (after --help, or a usage error: expected says
 * what it takes)
 */
static int
device_args_one(int argc, char **argv, fwgctl_opt_t *opts, fwgctl_args_t *a,
    const char *expected)
{
    if (fwgctl_args_parse(argc, argv, opts, a) != 0) {
        return 2;
    }

    if (a->help) {
        fputs(device_usage, stdout);
        return 0;
    }

    if (a->npos != 1) {
        return fwgctl_usage("%s", expected);
    }

    return -1;
}


/*
 * device pardon ID [--artifact A]: HDEL penalty:<A> (every penalty field
 * without --artifact) and the failure counts, in one transaction that
 * bumps the epoch and publishes device:<id> (the first command's key), so
 * no edge decides with the boxed record again.
 */

static int
device_pardon(redisContext *c, int argc, char **argv)
{
    fwgctl_args_t  a;
    redisReply    *r, *k;
    fwg_str_t      model;
    fwgctl_av_t    cmds[2], scan;
    const char    *id, *only;
    char          *m, *field, nkeys[32];
    size_t         i, n, plen;
    int            rc;

    fwgctl_opt_t   opts[] = {
        { "--artifact", 1, NULL },
        { NULL, 0, NULL }
    };

    rc = device_args_one(argc, argv, opts, &a,
                         "device pardon: one device ID expected");
    if (rc != -1) {
        return rc;
    }

    id = a.pos[0];
    only = fwgctl_opt_value(opts, "--artifact");

    r = fwgctl_hrecord(c, "device:", id, "device %s: not found", id);
    if (r == NULL) {
        return 1;
    }

    model = fwgctl_hfield(r, "model");
    m = strndup(model.data ? model.data : "", model.len);
    if (m == NULL) {
        freeReplyObject(r);
        return 1;
    }

    fwgctl_av_init_all(cmds, 2);
    fwgctl_av_init_all(&scan, 1);
    field = NULL;
    k = NULL;
    rc = 1;

    fwgctl_av_add(&cmds[0], "HDEL");
    fwgctl_av_key(&cmds[0], "device:", id, NULL);

    n = 0;

    for (i = 0; i + 1 < r->elements && n < 500; i += 2) {
        if (r->element[i]->type != REDIS_REPLY_STRING
            || r->element[i]->len <= 8
            || strncmp(r->element[i]->str, "penalty:", 8) != 0
            || (only && strcmp(r->element[i]->str + 8, only) != 0))
        {
            continue;
        }

        fwgctl_av_addn(&cmds[0], r->element[i]->str, r->element[i]->len);
        n++;
    }

    /* the vectors point at their strings: these live until the exec */

    if (only && n == 0) {
        field = malloc(8 + strlen(only) + 1);
        if (field == NULL) {
            rc = 1;
            goto done;
        }

        sprintf(field, "penalty:%s", only);
        fwgctl_av_add(&cmds[0], field);
    }

    if (n == 0 && only == NULL) {
        fwgctl_av_add(&cmds[0], "penalty:");
    }

    /* the failure counts: of A, or of every artifact of the model */

    if (only) {
        fwgctl_av_add(&cmds[1], "HDEL");
        fwgctl_av_key(&cmds[1], "devfail:", m, ":", only, NULL);
        fwgctl_av_add(&cmds[1], id);

    } else {
        fwgctl_av_add(&scan, "KEYS");
        fwgctl_av_key(&scan, "devfail:", m, ":*", NULL);
        k = fwgctl_run(c, &scan);

        plen = 0;

        if (k && k->type == REDIS_REPLY_ARRAY) {
            plen = k->elements < 500 ? k->elements : 500;
        }

        snprintf(nkeys, sizeof(nkeys), "%zu", plen);

        fwgctl_av_add(&cmds[1], "EVAL");
        fwgctl_av_add(&cmds[1],
                      "for _, k in ipairs(KEYS) do\n"
                      "  redis.call('HDEL', k, ARGV[1])\n"
                      "end\n"
                      "return #KEYS\n");
        fwgctl_av_add(&cmds[1], nkeys);

        for (i = 0; i < plen; i++) {
            fwgctl_av_addn(&cmds[1], k->element[i]->str, k->element[i]->len);
        }

        fwgctl_av_add(&cmds[1], id);
    }

    rc = fwgctl_exec_tx(c, cmds, 2);

    if (rc == 0 && !a.json) {
        printf("device %s pardoned%s%s\n", id, only ? " for " : "",
               only ? only : "");

    } else if (rc == 0) {
        printf("{");
        fwgctl_json_kv(stdout, "device", fwg_cli_str(id), 0);
        printf(",\"pardoned\":true}\n");
    }

done:

    fwgctl_av_reset_all(cmds, 2);
    fwgctl_av_reset_all(&scan, 1);
    freeReplyObject(r);
    free(m);
    free(field);

    if (k) {
        freeReplyObject(k);
    }

    return rc;
}


static int
device_revoke(redisContext *c, int argc, char **argv)
{
    fwgctl_args_t       a;
    redisReply  *r;
    fwg_str_t    model;
    fwgctl_av_t  cmds[2];
    const char  *id;
    char        *m;
    int          rc;

    id = device_id_arg("revoke", argc, argv, &a, &rc);
    if (id == NULL) {
        return rc;
    }

    if (fwgctl_watch(c, "device:", id) != 0) {
        return 1;
    }

    r = fwgctl_hrecord(c, "device:", id, "device %s: not found", id);
    if (r == NULL) {
        return 1;
    }

    model = fwgctl_hfield(r, "model");
    m = strndup(model.data ? model.data : "", model.len);

    fwgctl_av_init_all(cmds, 2);

    fwgctl_av_add(&cmds[0], "HSET");
    fwgctl_av_key(&cmds[0], "device:", id, NULL);
    fwgctl_av_add(&cmds[0], "status");
    fwgctl_av_add(&cmds[0], "revoked");

    fwgctl_av_add(&cmds[1], "SREM");
    fwgctl_av_key(&cmds[1], "model:", m ? m : "", ":devices", NULL);
    fwgctl_av_add(&cmds[1], id);

    rc = fwgctl_exec_tx(c, cmds, 2);

    fwgctl_av_reset_all(cmds, 2);
    freeReplyObject(r);
    free(m);

    if (rc == 0 && !a.json) {
        printf("device %s revoked\n", id);

    } else if (rc == 0) {
        printf("{");
        fwgctl_json_kv(stdout, "device", fwg_cli_str(id), 0);
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
    fwgctl_av_publish(&av, NULL, 0);        /* a batch of devices: "*" */
    fwgctl_append(c, &av);
    fwgctl_av_add(&av, "EXEC");
    fwgctl_append(c, &av);
    nreplies += 3;

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
    fwgctl_opt_t        opts[] = {
        { "--replace", 0, NULL }, { NULL, 0, NULL }
    };
    fwgctl_args_t       a;
    FILE        *f;
    char        *buf, *p, *nl, *line, *fld;
    size_t       size, cap, nread, nlines, lineno, nrows, i;
    size_t       imported, skipped, rejected, done;
    row_t       *rows;
    idset_t      ids;
    const char  *why;
    int          tty, rc, nf;
    struct timeval  t0, t1;

    rc = device_args_one(argc, argv, opts, &a,
                         "device import: one CSV file expected");
    if (rc != -1) {
        return rc;
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
                          fwgctl_opt_value(opts, "--replace") != NULL,
                          &imported, &skipped);
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
        && strcmp(sub, "import") && strcmp(sub, "pardon"))
    {
        fwgctl_err("device: unknown subcommand '%s' (add, show, revoke, "
                   "pardon, import)", sub);
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
    } else if (strcmp(sub, "pardon") == 0) {
        rc = device_pardon(c, argc - 2, argv + 2);
    } else {
        rc = device_import(c, argc - 2, argv + 2);
    }

    redisFree(c);

    return rc;
}
