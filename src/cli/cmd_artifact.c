/*
 * fwgatectl artifact: add (the file's sha256 and size computed here) and
 * show.  Keys: docs/redis-schema.md, under a configurable prefix.  A name is
 * never reused and a --path belongs to one artifact: the edge finds an
 * artifact by the last segment of the request URI.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <hiredis/hiredis.h>
#include <openssl/evp.h>

#include "fwg_b64.h"
#include "fwg_decide.h"
#include "fwg_semver.h"
#include "fwgatectl.h"
#include "fwgctl_opts.h"
#include "fwgctl_redis.h"


static const char artifact_usage[] =
"usage: fwgatectl artifact add NAME --version V --models 'M1 M2:HW'\n"
"                              --file F --path URI [--sign-key KEY]\n"
"                              [--json]\n"
"       fwgatectl artifact sign NAME --key KEY [--json]\n"
"       fwgatectl artifact show NAME [--json]\n"
"\n"
"Registers a firmware artifact: computes the file's sha256 and size.\n"
"NAME: 1-128 of A-Z a-z 0-9 . _ - (by default the edge takes the\n"
"artifact name from the last segment of the request URI, so it should\n"
"be the last segment of --path).  --models: space-separated MODEL\n"
"(any hardware revision) or MODEL:HW entries.  Refused: a bad version or\n"
"model list, a missing file, a NAME that exists, a --path another\n"
"artifact uses, a --path whose last segment names another artifact.\n"
"--sign-key / sign: the release key (PEM, `release-key gen`) signs the\n"
"record's canonical form into its `sig` field (docs/redis-schema.md).\n";


static int
is_semver(const char *s)
{
    fwg_semver_t  v;

    return fwg_semver_parse(&v, s, strlen(s)) == 0;
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


/*
 * The edge serves a download only at its artifact's path, compared byte
 * for byte with the target the device sends: the path must be in the
 * normal form a device sends and nginx keeps (fwg_path_normal()).
 */
static int
path_valid(const char *s)
{
    return fwg_path_normal(fwg_cli_str(s));
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
    fwgctl_opt_t               opts[] = {
        { "--version", 1, NULL }, { "--models", 1, NULL },
        { "--file", 1, NULL },
        { "--path", 1, NULL }, { "--sign-key", 1, NULL },
        { NULL, 0, NULL }
    };
    fwgctl_args_t              a;
    fwg_artifact_rec_t         rec;
    fwg_key_t                 *signer;
    const char                *keyfile;
    char                       sig[FWG_RELEASE_SIG_MAX];
    const char         *name, *version, *models, *file, *path, *why, *seg;
    char                hex[65], sizes[32];
    unsigned long long  size;
    fwgctl_av_t         cmds[1];
    redisReply         *r;
    int                 rc;

    if (fwgctl_args_parse(argc, argv, opts, &a) != 0) {
        return 2;
    }

    if (a.npos != 1) {
        return fwgctl_usage("artifact add: one artifact NAME expected "
                          "(see --help)");
    }

    name = a.pos[0];
    version = fwgctl_opt_value(opts, "--version");
    models = fwgctl_opt_value(opts, "--models");
    file = fwgctl_opt_value(opts, "--file");
    path = fwgctl_opt_value(opts, "--path");

    if (!fwgctl_artifact_name_valid(name)) {
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
                          "URI path in normal form (no '%%', '?', '#', "
                          "empty, '.' or '..' segment)");
    }

    if (file == NULL) {
        return fwgctl_usage("artifact add: --file missing");
    }

    keyfile = fwgctl_opt_value(opts, "--sign-key");
    signer = NULL;
    sig[0] = '\0';

    if (keyfile) {
        /* before anything is read or written: a bad key changes nothing */
        signer = fwgctl_release_signer(keyfile, "artifact add");
        if (signer == NULL) {
            return 1;
        }
    }

    size = 0;

    if (file_digest(file, hex, &size) != 0) {
        fwg_key_free(signer);
        return 1;
    }

    if (signer) {
        snprintf(sizes, sizeof(sizes), "%llu", size);
        memset(&rec, 0, sizeof(rec));
        rec.version = fwg_cli_str(version);
        rec.models = fwg_cli_str(models);
        rec.sha256 = fwg_cli_str(hex);
        rec.size = fwg_cli_str(sizes);
        rec.path = fwg_cli_str(path);

        rc = fwgctl_release_sign_artifact(signer, name, &rec, sig,
                                          sizeof(sig));
        fwg_key_free(signer);

        if (rc != 0) {
            return 1;
        }
    }

    seg = strrchr(path, '/') + 1;

    if (fwgctl_watch(c, "artifact:", name) != 0) {
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

    fwgctl_av_init_all(cmds, 1);
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

    if (sig[0]) {
        fwgctl_av_add(&cmds[0], "sig");
        fwgctl_av_add(&cmds[0], sig);
    }

    rc = fwgctl_exec_tx(c, cmds, 1);
    fwgctl_av_reset_all(cmds, 1);

    if (rc != 0) {
        return rc;
    }

    if (strcmp(seg, name) != 0) {
        fprintf(stderr, "fwgatectl: warning: the last segment of --path is "
                "not the artifact name; set fwgate_artifact to match\n");
    }

    if (a.json) {
        printf("{");
        fwgctl_json_kv(stdout, "artifact", fwg_cli_str(name), 0);
        fwgctl_json_kv(stdout, "version", fwg_cli_str(version), 1);
        fwgctl_json_kv(stdout, "models", fwg_cli_str(models), 1);
        printf(",\"sha256\":\"%s\",\"size\":%s,\"path\":", hex, sizes);
        fwgctl_json_str(stdout, path, strlen(path));

        if (sig[0]) {
            printf(",\"keyid\":\"%.*s\"", FWG_RELEASE_KEYID_LEN, sig);
        }

        printf("}\n");

    } else {
        printf("artifact %s added: version %s, %s bytes, sha256 %s%s%.*s\n",
               name, version, sizes, hex, sig[0] ? ", signed by " : "",
               sig[0] ? FWG_RELEASE_KEYID_LEN : 0, sig);
    }

    return 0;
}


static int
artifact_show(redisContext *c, int argc, char **argv)
{
    static const char  *fields[] = {
        "version", "models", "sha256", "size", "path", NULL
    };

    fwgctl_args_t       a;
    redisReply  *r;
    fwg_str_t    v, k;
    int          i;

    if (fwgctl_args_parse(argc, argv, NULL, &a) != 0) {
        return 2;
    }

    if (a.npos != 1) {
        return fwgctl_usage("artifact show: one artifact NAME expected");
    }

    r = fwgctl_hrecord(c, "artifact:", a.pos[0], "artifact %s: not found",
                       a.pos[0]);
    if (r == NULL) {
        return 1;
    }

    if (a.json) {
        printf("{");
        fwgctl_json_kv(stdout, "artifact", fwg_cli_str(a.pos[0]), 0);
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

    v = fwgctl_hfield(r, "sig");
    k = fwg_release_sig_keyid(v);

    if (a.json) {
        printf(",\"sig_keyid\":");
        if (k.len) {
            fwgctl_json_str(stdout, k.data, k.len);
        } else {
            printf("null");
        }
        printf("}\n");

    } else {
        printf("%-9s %s%.*s\n", "sig",
               k.len ? "keyid " : v.len ? "malformed" : "none (unsigned)",
               (int) k.len, k.data ? k.data : "");
    }

    freeReplyObject(r);

    return 0;
}


static int
artifact_sign(redisContext *c, int argc, char **argv)
{
    int                  rc;
    size_t               i;
    fwgctl_av_t          cmds[1];
    fwgctl_args_t        a;
    redisReply          *r;
    fwg_key_t           *k;
    fwg_artifact_rec_t   rec;
    const char          *name, *keyfile;
    char                 sig[FWG_RELEASE_SIG_MAX];
    fwgctl_opt_t         opts[] = { { "--key", 1, NULL }, { NULL, 0, NULL } };

    if (fwgctl_args_parse(argc, argv, opts, &a) != 0) {
        return 2;
    }

    if (a.npos != 1) {
        return fwgctl_usage("artifact sign: one artifact NAME expected");
    }

    name = a.pos[0];
    keyfile = fwgctl_opt_value(opts, "--key");

    if (!fwgctl_artifact_name_valid(name)) {
        return fwgctl_usage("artifact sign: bad name '%s'", name);
    }

    if (keyfile == NULL) {
        return fwgctl_usage("artifact sign: --key FILE missing");
    }

    k = fwgctl_release_signer(keyfile, "artifact sign");
    if (k == NULL) {
        return 1;
    }

    /* what is signed is what is there when the signature is written */

    if (fwgctl_watch(c, "artifact:", name) != 0) {
        fwg_key_free(k);
        return 1;
    }

    r = fwgctl_hrecord(c, "artifact:", name, "artifact %s: not found", name);
    if (r == NULL) {
        fwg_key_free(k);
        return 1;
    }

    memset(&rec, 0, sizeof(rec));
    rec.found = 1;
    rec.version = fwgctl_hfield(r, "version");
    rec.models = fwgctl_hfield(r, "models");
    rec.sha256 = fwgctl_hfield(r, "sha256");
    rec.size = fwgctl_hfield(r, "size");
    rec.path = fwgctl_hfield(r, "path");

    rc = 0;

    for (i = 0; i < 5; i++) {
        fwg_str_t f = i == 0 ? rec.version : i == 1 ? rec.models
                    : i == 2 ? rec.sha256 : i == 3 ? rec.size : rec.path;

        if (f.len == 0) {
            rc = fwgctl_err("artifact sign: %s has an empty field (version, "
                            "models, sha256, size, path)", name);
            break;
        }
    }

    if (rc == 0) {
        rc = fwgctl_release_sign_artifact(k, name, &rec, sig, sizeof(sig));
    }

    freeReplyObject(r);
    fwg_key_free(k);

    if (rc != 0) {
        return 1;
    }

    fwgctl_av_init_all(cmds, 1);
    fwgctl_av_add(&cmds[0], "HSET");
    fwgctl_av_key(&cmds[0], "artifact:", name, NULL);
    fwgctl_av_add(&cmds[0], "sig");
    fwgctl_av_add(&cmds[0], sig);

    rc = fwgctl_exec_tx(c, cmds, 1);
    fwgctl_av_reset_all(cmds, 1);

    if (rc != 0) {
        return rc;
    }

    if (a.json) {
        printf("{");
        fwgctl_json_kv(stdout, "artifact", fwg_cli_str(name), 0);
        printf(",\"keyid\":\"%.*s\"}\n", FWG_RELEASE_KEYID_LEN, sig);

    } else {
        printf("artifact %s signed by %.*s\n", name, FWG_RELEASE_KEYID_LEN,
               sig);
    }

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

    if (strcmp(argv[1], "add") != 0 && strcmp(argv[1], "show") != 0
        && strcmp(argv[1], "sign") != 0)
    {
        return fwgctl_usage("artifact: unknown subcommand '%s' (add, sign, "
                            "show)", argv[1]);
    }

    c = fwgctl_connect();
    if (c == NULL) {
        return 1;
    }

    rc = argv[1][0] == 'a' ? artifact_add(c, argc - 2, argv + 2)
         : strcmp(argv[1], "sign") == 0 ? artifact_sign(c, argc - 2, argv + 2)
         : artifact_show(c, argc - 2, argv + 2);
    redisFree(c);

    return rc;
}
