/*
 * fwgatectl explain: the decision (docs/reasons.md) for a device and an
 * artifact, step by step, from the registry, with the same core code the
 * module runs (fwg_decide_registry).  There is no signed request, so the
 * request steps (1-5, 7, 8) are shown as skipped.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fwg_decide.h"
#include "fwg_record.h"
#include "fwg_reply.h"
#include "fwg_semver.h"
#include "fwg_token.h"
#include "fwgatectl.h"
#include "fwgctl_opts.h"
#include "fwgctl_redis.h"


static const char explain_usage[] =
"usage: fwgatectl explain --device ID --artifact NAME [--version V]\n"
"                         [--model M] [--hw H] [--path URI]\n"
"                         [--release-keys FILE] [--json]\n"
"       fwgatectl explain --token TOKEN --token-secret FILE\n"
"                         [--device ID] [--artifact NAME] [--path URI]\n"
"                         [--release-keys FILE]\n"
"\n"
"Prints every step of the edge's decision for device ID asking for\n"
"artifact NAME, from the registry, and the final `=> STATUS reason`.\n"
"--version: the firmware the device runs (steps 15 and 16 are skipped\n"
"without it).  --model / --hw: what the device claims (default: its\n"
"record); the rollout read is the one of --model, else of the device's\n"
"registered model.  --path: the URI path of a download, checked against\n"
"the artifact's registry path as the edge does (without it, not checked,\n"
"as for an update check).  Signature steps are skipped (no signed\n"
"request).  --release-keys: the public release keys of an edge's\n"
"fwgate_release_keys (one file, one or more \"ed25519 <base64>\" lines):\n"
"the artifact's sig and the rollout's floor_sig are checked as there\n"
"(unsigned_artifact, unsigned_floor).\n"
"\n"
"--token: a download token (the update check's \"token\", the fwt=\n"
"argument), verified with the edge secret in FILE as the edge does:\n"
"token_malformed, token_expired, token_invalid; then token_artifact and\n"
"token_device when --artifact or --device name others; then the registry\n"
"steps with the token's device, model, hw and version.\n"
"\n"
"exit status: 0 allowed, 3 refused, 1 error (registry unreachable),\n"
"2 bad arguments.\n";


#define EXPLAIN_MAX_STEPS  20

typedef struct {
    int             step;
    const char     *check;
    fwg_reason_t    failed;
    char            detail[160];
} step_t;

typedef struct {
    step_t          s[EXPLAIN_MAX_STEPS];
    int             n;
} trace_t;


static void
explain_trace(void *data, int step, const char *check, fwg_reason_t failed,
    const char *detail)
{
    trace_t  *t;

    t = data;

    if (t->n == EXPLAIN_MAX_STEPS) {
        return;
    }

    t->s[t->n].step = step;
    t->s[t->n].check = check;
    t->s[t->n].failed = failed;
    snprintf(t->s[t->n].detail, sizeof(t->s[t->n].detail), "%s",
             detail ? detail : "");
    t->n++;
}


static int
is_member(redisContext *c, const char *model, const char *set,
    const char *id, int *member)
{
    fwgctl_av_t   av;
    redisReply   *r;

    av.n = 0;
    fwgctl_av_add(&av, "SISMEMBER");
    fwgctl_av_key(&av, "rollout:", model, ":", set, NULL);
    fwgctl_av_add(&av, id);

    r = fwgctl_run(c, &av);
    if (r == NULL) {
        return 1;
    }

    /* the module's own check: anything but an integer is not an answer */
    *member = fwg_reply_member(r);
    freeReplyObject(r);

    if (*member < 0) {
        fwgctl_err("explain: SISMEMBER on the %s set did not answer an "
                   "integer", set);
        return 1;
    }

    return 0;
}


/*
 * A hash reply as the module reads it: the same reply checks
 * (fwg_reply.c), the same blob and the same field reader (fwg_record.c),
 * so explain cannot read a record differently from nginx.  *blob is
 * malloc()ed; records filled from it point into it.
 */

static int
explain_blob(const redisReply *r, char **blob, size_t *len)
{
    int         n;
    fwg_str_t  *parts;

    *blob = NULL;
    *len = 0;

    n = fwg_reply_hash_count(r);
    if (n < 0) {
        fwgctl_err("explain: a registry key holds something other than a "
                   "hash of strings");
        return -1;
    }

    parts = calloc(n ? (size_t) n : 1, sizeof(fwg_str_t));
    if (parts == NULL) {
        fwgctl_err("explain: out of memory");
        return -1;
    }

    fwg_reply_hash_parts(r, parts);

    if (fwg_blob_build(parts, (size_t) n, NULL, 0, len) != 0
        || (*blob = malloc(*len ? *len : 1)) == NULL
        || fwg_blob_build(parts, (size_t) n, *blob, *len, len) != 0)
    {
        free(parts);
        free(*blob);
        *blob = NULL;
        fwgctl_err("explain: a registry record larger than %d bytes, which "
                   "nginx refuses too", FWG_BLOB_MAX);
        return -1;
    }

    free(parts);

    return 0;
}


static const char *
result_word(const step_t *s)
{
    if (s->failed != FWG_R_OK) {
        return "FAIL";
    }

    return strncmp(s->detail, "skipped", 7) == 0 ? "skip" : "pass";
}


/*
 * The edge's token checks, offline: the secret file as the edge reads it
 * (its bytes less a final line end).  -1 (as a reason) on a usage error.
 */
static fwg_reason_t
explain_token(const char *token, const char *file, fwg_token_t *tok,
    char *buf, size_t size)
{
    FILE                *f;
    size_t               n;
    fwg_reason_t         r;
    fwg_token_secret_t   s;
    const char          *detail;
    unsigned char        sec[FWG_TOKEN_SECRET_MAX + 2];

    if (file == NULL) {
        fwgctl_err("explain: --token needs --token-secret FILE");
        return (fwg_reason_t) -1;
    }

    f = fopen(file, "rb");
    if (f == NULL) {
        fwgctl_err("explain: cannot open %s", file);
        return (fwg_reason_t) -1;
    }

    n = fread(sec, 1, sizeof(sec), f);
    fclose(f);

    if (n > 0 && sec[n - 1] == '\n') {
        n--;

        if (n > 0 && sec[n - 1] == '\r') {
            n--;
        }
    }

    if (fwg_token_secret_init(&s, sec, n) != 0) {
        memset(sec, 0, sizeof(sec));
        fwgctl_err("explain: %s: a secret of %d to %d bytes expected", file,
                   FWG_TOKEN_SECRET_MIN, FWG_TOKEN_SECRET_MAX);
        return (fwg_reason_t) -1;
    }

    memset(sec, 0, sizeof(sec));

    r = fwg_token_verify(&s, 1, token, strlen(token), (int64_t) time(NULL),
                         buf, size, tok, &detail);

    fwg_token_secret_free(&s);

    return r;
}


int
cmd_explain(int argc, char **argv)
{
    redisContext        *c;
    redisReply          *dr, *ar, *rr, *hr;
    fwg_device_rec_t     dev;
    fwg_artifact_rec_t   art;
    fwg_rollout_rec_t    ro;
    fwg_decide_in_t      in;
    fwg_verdict_t        v;
    fwg_semver_t         ver;
    trace_t              t;
    fwg_reason_t         reason;
    int64_t              lstarts, lflight, lexp;
    int                  limited;
    fwg_str_t            model;
    const char          *device, *artifact, *version, *omodel, *hw,
                        *path;
    char                *rmodel, *db, *ab, *rb;
    size_t               dlen, alen, rlen;
    int                  i, rc, json, canary, excluded;
    fwgctl_opts_t        o;
    fwgctl_opt_t         opts[] = {
        { "--device", 1, NULL }, { "--artifact", 1, NULL },
        { "--version", 1, NULL }, { "--model", 1, NULL },
        { "--hw", 1, NULL }, { "--path", 1, NULL }, { "--json", 0, NULL },
        { "--release-keys", 1, NULL },
        { "--token", 1, NULL }, { "--token-secret", 1, NULL },
        { NULL, 0, NULL }
    };
    fwg_release_keys_t   ks;
    const char          *keys, *err;
    const char          *token, *tsecret;
    char                 tbuf[FWG_TOKEN_MAX_PAYLOAD];
    char                *tdev, *tart, *tver, *tmodel, *thw;
    fwg_token_t          tok;

    json = fwgctl_opt_json();

    /* "--name VALUE" only, as explain always took its options */
    fwgctl_opts_init(&o, argc - 1, argv + 1, FWGCTL_OPTS_NO_INLINE);

    while ((rc = fwgctl_opt_next(&o, opts)) != FWGCTL_OPT_END) {

        if (rc == FWGCTL_OPT_HELP) {
            fputs(explain_usage, stdout);
            return 0;
        }

        if (rc == FWGCTL_OPT_NO_VALUE
            || (rc != FWGCTL_OPT_MATCH && o.i >= o.argc))
        {
            fwgctl_err("explain: %s: unknown option or missing value "
                       "(see --help)", o.arg);
            return 2;
        }

        if (rc != FWGCTL_OPT_MATCH) {
            fwgctl_err("explain: unknown option %s (see --help)", o.arg);
            return 2;
        }

        if (strcmp(o.opt->name, "--json") == 0) {
            json = 1;
        }
    }

    device = fwgctl_opt_value(opts, "--device");
    artifact = fwgctl_opt_value(opts, "--artifact");
    version = fwgctl_opt_value(opts, "--version");
    omodel = fwgctl_opt_value(opts, "--model");
    hw = fwgctl_opt_value(opts, "--hw");
    path = fwgctl_opt_value(opts, "--path");
    token = fwgctl_opt_value(opts, "--token");
    tsecret = fwgctl_opt_value(opts, "--token-secret");

    tdev = tart = tver = tmodel = thw = NULL;

    if (token != NULL) {
        reason = explain_token(token, tsecret, &tok, tbuf, sizeof(tbuf));

        if (reason == FWG_R_OK) {
            tdev = strndup(tok.device.data, tok.device.len);
            tart = strndup(tok.artifact.data, tok.artifact.len);
            tver = strndup(tok.version.data, tok.version.len);
            tmodel = strndup(tok.model.data, tok.model.len);
            thw = tok.hw.len ? strndup(tok.hw.data, tok.hw.len) : NULL;

            if (tdev == NULL || tart == NULL || tver == NULL
                || tmodel == NULL)
            {
                fwgctl_err("explain: out of memory");
                return 1;
            }

            if (artifact != NULL && strcmp(artifact, tart) != 0) {
                reason = FWG_R_TOKEN_ARTIFACT;

            } else if (device != NULL && strcmp(device, tdev) != 0) {
                reason = FWG_R_TOKEN_DEVICE;
            }

            device = tdev;
            artifact = tart;
            version = tver;
            omodel = tmodel;
            hw = thw;
        }

        if ((int) reason < 0) {
            return 2;
        }

        if (reason != FWG_R_OK) {
            if (json) {
                printf("{\"decision\":\"deny\",\"status\":%d,"
                       "\"reason\":\"%s\",\"step\":%d}\n",
                       fwg_reason_status(reason), fwg_reason_name(reason),
                       fwg_reason_step(reason));

            } else {
                printf("token: %s\n=> %d %s\n", fwg_reason_name(reason),
                       fwg_reason_status(reason), fwg_reason_name(reason));
            }

            return 3;
        }

        if (!json) {
            printf("token: verifies, for device %s, artifact %s, "
                   "version %s (steps 1-8)\n", device, artifact, version);
        }
    }

    if (device == NULL || artifact == NULL) {
        fwgctl_err("explain: --device and --artifact are required");
        return 2;
    }

    if (!fwgctl_id_valid(device, strlen(device))) {
        fwgctl_err("explain: bad device id '%s'", device);
        return 2;
    }

    if (version != NULL
        && fwg_semver_parse(&ver, version, strlen(version)) != 0)
    {
        fwgctl_err("explain: --version '%s' is not SemVer 2.0.0", version);
        return 2;
    }

    if (omodel != NULL && !fwg_model_valid(fwg_cli_str(omodel))) {
        fwgctl_err("explain: bad --model '%s'", omodel);
        return 2;
    }

    if (hw != NULL && !fwg_model_valid(fwg_cli_str(hw))) {
        fwgctl_err("explain: bad --hw '%s'", hw);
        return 2;
    }

    keys = fwgctl_opt_value(opts, "--release-keys");
    fwg_release_keys_init(&ks);

    if (keys != NULL && fwg_release_keys_load(&ks, keys, &err) != 0) {
        fwgctl_err("explain: --release-keys %s: %s", keys, err);
        return 2;
    }

    c = fwgctl_connect();
    if (c == NULL) {
        fwg_release_keys_free(&ks);
        return 1;
    }

    rc = 1;
    rr = NULL;
    hr = NULL;
    rmodel = NULL;
    db = NULL;
    ab = NULL;
    rb = NULL;

    dr = fwgctl_hgetall(c, "device:", device);
    ar = dr ? fwgctl_hgetall(c, "artifact:", artifact) : NULL;

    if (dr == NULL || ar == NULL
        || explain_blob(dr, &db, &dlen) != 0
        || explain_blob(ar, &ab, &alen) != 0)
    {
        goto done;
    }

    (void) fwg_device_from_blob(db, dlen, &dev);
    (void) fwg_device_penalty(db, dlen, fwg_cli_str(artifact), &dev);
    (void) fwg_artifact_from_blob(ab, alen, &art);

    /* the rollout of the claimed model, else of the registered one */

    model = omodel ? fwg_cli_str(omodel) : dev.model;
    canary = 0;
    excluded = 0;

    memset(&ro, 0, sizeof(ro));

    if (model.len && fwg_model_valid(model)) {
        rmodel = strndup(model.data, model.len);

        if (rmodel == NULL
            || (rr = fwgctl_hgetall(c, "rollout:", rmodel)) == NULL
            || explain_blob(rr, &rb, &rlen) != 0
            || is_member(c, rmodel, "canary", device, &canary) != 0
            || is_member(c, rmodel, "exclude", device, &excluded) != 0)
        {
            goto done;
        }

        (void) fwg_rollout_from_blob(rb, rlen, &ro);
        ro.canary = canary;
        ro.excluded = excluded;

        /* an edge's automatic halt, as the module reads it */

        hr = fwgctl_hgetall3(c, "rollout:", rmodel, ":halt");
        if (hr == NULL) {
            goto done;
        }

        ro.halted = fwgctl_hfield(hr, "artifact");
    }

    memset(&in, 0, sizeof(in));
    in.claims = NULL;
    in.device = fwg_cli_str(device);
    in.model = model;
    in.hw = hw ? fwg_cli_str(hw) : dev.hw;
    in.version = version ? &ver : NULL;
    in.artifact = fwg_cli_str(artifact);

    if (path) {
        /* a download as the device sends it: raw and normalised alike */
        in.path = fwg_cli_str(path);
        in.raw_path = in.path;
    }

    in.device_rec = &dev;
    in.artifact_rec = &art;
    in.rollout_rec = &ro;
    in.release_keys = keys ? &ks : NULL;

    t.n = 0;
    reason = fwg_decide_registry(&in, &v, explain_trace, &t);

    limited = reason == FWG_R_OK
              && fwg_rollout_limits(&ro, &lstarts, &lflight, &lexp);

    if (json) {
        printf("{");
        fwgctl_json_kv(stdout, "device", fwg_cli_str(device), 0);
        fwgctl_json_kv(stdout, "artifact", fwg_cli_str(artifact), 1);
        printf(",\"model\":");
        fwgctl_json_str(stdout, model.data, model.len);
        printf(",\"decision\":\"%s\",\"status\":%d,\"reason\":\"%s\"",
               reason == FWG_R_OK ? "allow" : "deny",
               fwg_reason_status(reason), fwg_reason_name(reason));
        printf(",\"step\":%d", reason == FWG_R_OK ? 0 : v.step);
        if (v.detail) {
            fwgctl_json_kv(stdout, "detail", fwg_cli_str(v.detail), 1);
        }
        if (v.has_bucket) {
            printf(",\"bucket\":%u", (unsigned) v.bucket);
        }
        if (v.target_version.len) {
            fwgctl_json_kv(stdout, "target_version", v.target_version, 1);
        }
        if (limited) {
            printf(",\"admission\":{\"max_starts_per_min\":%lld,"
                   "\"max_in_flight\":%lld}", (long long) lstarts,
                   (long long) lflight);
        }
        printf(",\"steps\":[");
        for (i = 0; i < t.n; i++) {
            printf("%s{\"step\":%d,\"check\":", i ? "," : "", t.s[i].step);
            fwgctl_json_str(stdout, t.s[i].check, strlen(t.s[i].check));
            printf(",\"result\":\"%s\",\"detail\":", result_word(&t.s[i]));
            fwgctl_json_str(stdout, t.s[i].detail, strlen(t.s[i].detail));
            if (t.s[i].failed != FWG_R_OK) {
                printf(",\"reason\":\"%s\"", fwg_reason_name(t.s[i].failed));
            }
            printf("}");
        }
        printf("]}\n");

    } else {
        printf("explain: device %s, artifact %s\n", device, artifact);
        for (i = 0; i < t.n; i++) {
            printf("%3d  %-28s %-5s %s\n", t.s[i].step, t.s[i].check,
                   result_word(&t.s[i]), t.s[i].detail);
        }
        if (limited) {
            /* decided by Redis at the edge, not from the records */
            printf("  -  %-28s %-5s max_starts_per_min %lld, "
                   "max_in_flight %lld: a first download may get 503 "
                   "rollout_throttled\n", "admission limits",
                   "note", (long long) lstarts, (long long) lflight);
        }
        printf("=> %d %s\n", fwg_reason_status(reason),
               fwg_reason_name(reason));
    }

    rc = (reason == FWG_R_OK) ? 0 : 3;

done:

    if (hr) {
        freeReplyObject(hr);
    }

    if (rr) {
        freeReplyObject(rr);
    }

    if (ar) {
        freeReplyObject(ar);
    }

    if (dr) {
        freeReplyObject(dr);
    }

    fwg_release_keys_free(&ks);
    free(rmodel);
    free(db);
    free(ab);
    free(rb);
    redisFree(c);

    return rc;
}
