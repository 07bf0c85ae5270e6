/*
 * fwgatectl rollout (start, set, pause, resume, halt, status) and the
 * rollout's canary and exclude sets (add, rm).  Keys: docs/redis-schema.md,
 * under a configurable prefix.  `rollout start` refuses what the edge
 * would block: an artifact not built for the model, and a downgrade
 * unless told.  `rollout status` counts the cohort with the edge's rule
 * (fwg_cohort) over the model's index of registered devices.
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "fwg_cohort.h"
#include "fwg_decide.h"
#include "fwg_semver.h"
#include "fwgatectl.h"
#include "fwgctl_opts.h"
#include "fwgctl_redis.h"
#include "cmd_phase.h"


static const char rollout_usage[] =
"usage: fwgatectl rollout start MODEL --artifact NAME --percent P\n"
"                     [--from RANGE] [--salt S] [--allow-downgrade]\n"
"                     [--halt-failures N --halt-ratio R]\n"
"                     [--halt-silence SECONDS] [LIMITS]\n"
"                     [--phases P1,P2,... --hold T --min-reports N\n"
"                      --max-failure-ratio R]\n"
"       fwgatectl rollout set MODEL [--percent P] [LIMITS]\n"
"       fwgatectl rollout floor MODEL VERSION [--sign-key KEY] [--force]\n"
"       fwgatectl rollout pause|resume|halt MODEL\n"
"       fwgatectl rollout status MODEL [--json]\n"
"       fwgatectl rollout watch MODEL [--interval SECONDS]\n"
"\n"
"start   replaces the model's rollout (state active).  Refused: an\n"
"        artifact whose models do not list MODEL, and an artifact\n"
"        version below the current target's unless --allow-downgrade\n"
"        (which also sets downgrade=1: devices running a newer version\n"
"        may take it).  P: 0-100, at most two decimals.  RANGE: e.g.\n"
"        '>=2.0.0 <2.5.0 || =1.9.9'.  Auto-halt: --halt-failures N and\n"
"        --halt-ratio R (0 < R <= 1) together; --halt-silence SECONDS\n"
"        counts devices unheard that long after download as failures.\n"
"        Phases: the percents, increasing (--percent, if given, must be\n"
"        the first); the edges move the rollout to the next phase once\n"
"        it has held T (30m, 2s, 1h, seconds) with at least N reports\n"
"        during the phase and failures/reports <= R (0-1), and halt it\n"
"        (phase_failure_ratio) when the ratio exceeds R with N reports.\n"
"set     changes the percent (raising it only adds devices) and/or the\n"
"        limits.\n"
"LIMITS  --max-starts-per-min N (new devices starting a download per\n"
"        minute), --max-in-flight M (downloads not yet reported, within\n"
"        --in-flight-expiry T seconds, default 3600): a device over them\n"
"        is told 503 rollout_throttled with Retry-After.\n"
"        --device-failures N and --penalty SECONDS (default 86400): a\n"
"        device reporting N failures of the artifact is refused it\n"
"        (penalized) for SECONDS (`device pardon` lets it out).  0 turns\n"
"        a limit off.\n"
"pause   stops offering the artifact; resume makes it active again\n"
"        (also after a halt); halt stops it as the auto-halt does.\n"
"floor   the model's security floor (fields floor, floor_sig of the\n"
"        rollout record): no artifact below VERSION is served, whatever\n"
"        downgrade says.  --sign-key signs it with the release key (edges\n"
"        with fwgate_release_keys refuse an unsigned floor).  Lowering\n"
"        it needs --force; start and set keep it, and start refuses an\n"
"        artifact below it.\n"
"status  state, target, percent, cohort among registered devices,\n"
"        report counters, admission (reports by state, in flight,\n"
"        throttled, limits); for phases, the gate's figures and\n"
"        what the next phase waits for.\n"
"watch   a live view, refreshed every SECONDS (default 1): full-screen\n"
"        on a terminal, one line per refresh on a pipe.  Exits 0 when\n"
"        the last phase has held, 3 when the rollout halts, 1 on error.\n";


/*
 * Admission limits and the penalty box (docs/fleet-guide.md): the
 * options of start and set, each a rollout field holding a non-negative
 * integer (0: off).
 */

static const struct {
    const char  *opt;
    const char  *field;
} limit_opts[] = {
    { "--max-starts-per-min", "max_starts_per_min" },
    { "--max-in-flight",      "max_in_flight" },
    { "--in-flight-expiry",   "in_flight_expiry" },
    { "--device-failures",    "device_failures" },
    { "--penalty",            "penalty" },
};

#define NLIMITS  (sizeof(limit_opts) / sizeof(limit_opts[0]))


static int
count_valid(const char *s)
{
    size_t  i;

    for (i = 0; s[i]; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
    }

    return i > 0 && i < 10 && !(i > 1 && s[0] == '0');
}


/* checks the limit options given; 0, or the usage error's exit code */
static int
limits_check(const char *sub, fwgctl_opt_t *opts, int *given)
{
    size_t       i;
    const char  *v;

    *given = 0;

    for (i = 0; i < NLIMITS; i++) {
        v = fwgctl_opt_value(opts, limit_opts[i].opt);

        if (v == NULL) {
            continue;
        }

        if (!count_valid(v)
            || ((strcmp(limit_opts[i].field, "in_flight_expiry") == 0
                 || strcmp(limit_opts[i].field, "penalty") == 0)
                && strcmp(v, "0") == 0))
        {
            return fwgctl_usage("rollout %s: %s must be a non-negative "
                                "integer (seconds: positive)", sub,
                                limit_opts[i].opt);
        }

        (*given)++;
    }

    return 0;
}


static void
limits_add(fwgctl_av_t *av, fwgctl_opt_t *opts)
{
    size_t       i;
    const char  *v;

    for (i = 0; i < NLIMITS; i++) {
        v = fwgctl_opt_value(opts, limit_opts[i].opt);

        if (v != NULL) {
            fwgctl_av_add(av, limit_opts[i].field);
            fwgctl_av_add(av, v);
        }
    }
}


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
    fwgctl_opt_t          opts[] = {
        { "--artifact", 1, NULL }, { "--percent", 1, NULL },
        { "--from", 1, NULL },
        { "--salt", 1, NULL }, { "--allow-downgrade", 0, NULL },
        { "--halt-failures", 1, NULL }, { "--halt-ratio", 1, NULL },
        { "--halt-silence", 1, NULL }, { "--phases", 1, NULL },
        { "--hold", 1, NULL }, { "--min-reports", 1, NULL },
        { "--max-failure-ratio", 1, NULL },
        { "--max-starts-per-min", 1, NULL }, { "--max-in-flight", 1, NULL },
        { "--in-flight-expiry", 1, NULL }, { "--device-failures", 1, NULL },
        { "--penalty", 1, NULL }, { NULL, 0, NULL }
    };
    fwgctl_args_t         a;
    int            nlim;
    const char    *name, *pct, *from, *salt, *hf, *hr, *hs;
    redisReply    *art, *cur, *curart;
    fwg_str_t      models, ver, curname, curver, floor, fsig;
    fwg_semver_t   nv, cv;
    int            n;
    fwgctl_av_t    cmds[4];
    char          *cn, firstbuf[32], histbuf[96], nowbuf[32], sbuf[32], fbuf[32];
    int            rc, down;
    const char    *phases, *hold, *minr, *maxr, *why;
    fwgctl_phase_t  plan;
    long long       holds, now;
    redisReply     *st;

    if (fwgctl_args_parse(argc, argv, opts, &a) != 0) {
        return 2;
    }

    if (a.npos != 0) {
        return fwgctl_usage("rollout start: unexpected argument '%s'",
                          a.pos[0]);
    }

    name = fwgctl_opt_value(opts, "--artifact");
    pct = fwgctl_opt_value(opts, "--percent");
    from = fwgctl_opt_value(opts, "--from");
    salt = fwgctl_opt_value(opts, "--salt");
    hf = fwgctl_opt_value(opts, "--halt-failures");
    hr = fwgctl_opt_value(opts, "--halt-ratio");
    hs = fwgctl_opt_value(opts, "--halt-silence");
    down = fwgctl_opt_value(opts, "--allow-downgrade") != NULL;
    phases = fwgctl_opt_value(opts, "--phases");
    hold = fwgctl_opt_value(opts, "--hold");
    minr = fwgctl_opt_value(opts, "--min-reports");
    maxr = fwgctl_opt_value(opts, "--max-failure-ratio");
    holds = 0;

    if (phases == NULL && (hold || minr || maxr)) {
        return fwgctl_usage("rollout start: --hold, --min-reports and "
                            "--max-failure-ratio need --phases");
    }

    if (phases != NULL) {
        if (fwgctl_phases_parse(phases, &plan, &why) != 0) {
            return fwgctl_usage("rollout start: --phases '%s': %s", phases,
                                why);
        }

        if (hold == NULL || minr == NULL || maxr == NULL) {
            return fwgctl_usage("rollout start: --phases needs --hold, "
                                "--min-reports and --max-failure-ratio");
        }

        holds = fwgctl_duration_parse(hold);
        if (holds < 0) {
            return fwgctl_usage("rollout start: --hold '%s' is not a "
                                "duration (30m, 2s, 1h, seconds)", hold);
        }

        if (!uint_valid(minr)) {
            return fwgctl_usage("rollout start: --min-reports must be a "
                                "positive integer");
        }

        if (!fwgctl_ratio0_valid(maxr)) {
            return fwgctl_usage("rollout start: --max-failure-ratio must "
                                "be in [0, 1]");
        }

        if (pct != NULL
            && fwg_percent_parse(pct, strlen(pct)) != plan.pct[0])
        {
            return fwgctl_usage("rollout start: --percent %s is not the "
                                "first phase", pct);
        }

        /* the first phase's percent, as given (the parse saw a comma) */
        why = strchr(phases, ',');
        snprintf(firstbuf, sizeof(firstbuf), "%.*s",
                 (int) (why - phases), phases);
    }

    if (name == NULL || !fwgctl_artifact_name_valid(name)) {
        return fwgctl_usage("rollout start: --artifact missing or not an "
                          "artifact name");
    }

    if (phases == NULL
        && (pct == NULL || fwg_percent_parse(pct, strlen(pct)) < 0))
    {
        return fwgctl_usage("rollout start: --percent missing or not 0-100 "
                          "with at most two decimals");
    }

    if (phases != NULL) {
        pct = firstbuf;
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

    rc = limits_check("start", opts, &nlim);
    if (rc != 0) {
        return rc;
    }

    if (fwgctl_watch(c, "rollout:", model) != 0
        || fwgctl_watch(c, "artifact:", name) != 0)
    {
        return 1;
    }

    art = fwgctl_hrecord(c, "artifact:", name,
                         "rollout start: artifact %s not found", name);
    if (art == NULL) {
        return 1;
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
    floor = fwgctl_hfield(cur, "floor");

    /* the security floor holds whatever --allow-downgrade says */

    if (floor.len
        && (fwg_semver_parse(&cv, floor.data, floor.len) != 0
            || fwg_semver_cmp(&nv, &cv) < 0))
    {
        rc = fwgctl_err("rollout start: refused: %s is version %.*s, below "
                        "the security floor %.*s of %s", name,
                        (int) ver.len, ver.data, (int) floor.len,
                        floor.data, model);
        freeReplyObject(cur);
        freeReplyObject(art);
        return rc;
    }

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

    now = 0;
    sbuf[0] = fbuf[0] = '\0';

    if (phases) {
        /*
         * The phase's baseline: the gate counts the reports made during
         * the phase.  Redis's clock, as the edges' script uses.
         */
        now = fwgctl_redis_time(c);
        if (now < 0) {
            freeReplyObject(cur);
            freeReplyObject(art);
            return 1;
        }

        fwgctl_av_init_all(cmds, 1);
        fwgctl_av_add(&cmds[0], "HMGET");
        fwgctl_av_key(&cmds[0], "stats:", model, ":", name, NULL);
        fwgctl_av_add(&cmds[0], "success");
        fwgctl_av_add(&cmds[0], "failure");
        st = fwgctl_run(c, &cmds[0]);

        if (st == NULL) {
            freeReplyObject(cur);
            freeReplyObject(art);
            return 1;
        }

        snprintf(sbuf, sizeof(sbuf), "%lld",
                 st->elements == 2 && st->element[0]->str
                 ? strtoll(st->element[0]->str, NULL, 10) : 0LL);
        snprintf(fbuf, sizeof(fbuf), "%lld",
                 st->elements == 2 && st->element[1]->str
                 ? strtoll(st->element[1]->str, NULL, 10) : 0LL);
        freeReplyObject(st);
        snprintf(nowbuf, sizeof(nowbuf), "%lld", now);
    }

    fwgctl_av_init_all(cmds, 4);

    /* a new rollout starts with no automatic halt of an earlier one */
    fwgctl_av_add(&cmds[0], "DEL");
    fwgctl_av_key(&cmds[0], "rollout:", model, NULL);
    fwgctl_av_key(&cmds[0], "rollout:", model, ":halt", NULL);
    fwgctl_av_key(&cmds[0], "rollout:", model, ":history", NULL);

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
    limits_add(&cmds[1], opts);

    /* the floor outlives rollouts: only `rollout floor` changes it */

    if (floor.len) {
        fsig = fwgctl_hfield(cur, "floor_sig");
        fwgctl_av_add(&cmds[1], "floor");
        fwgctl_av_addn(&cmds[1], floor.data, floor.len);

        if (fsig.len) {
            fwgctl_av_add(&cmds[1], "floor_sig");
            fwgctl_av_addn(&cmds[1], fsig.data, fsig.len);
        }
    }

    n = 2;

    if (phases) {
        char  hb[32];

        snprintf(hb, sizeof(hb), "%lld", holds);
        fwgctl_av_add(&cmds[1], "phases");
        fwgctl_av_add(&cmds[1], phases);
        fwgctl_av_add(&cmds[1], "phase");
        fwgctl_av_add(&cmds[1], "0");
        fwgctl_av_add(&cmds[1], "phase_at");
        fwgctl_av_add(&cmds[1], nowbuf);
        fwgctl_av_add(&cmds[1], "hold");
        fwgctl_av_add(&cmds[1], hb);
        fwgctl_av_add(&cmds[1], "min_reports");
        fwgctl_av_add(&cmds[1], minr);
        fwgctl_av_add(&cmds[1], "max_failure_ratio");
        fwgctl_av_add(&cmds[1], maxr);
        fwgctl_av_add(&cmds[1], "phase_success");
        fwgctl_av_add(&cmds[1], sbuf);
        fwgctl_av_add(&cmds[1], "phase_failure");
        fwgctl_av_add(&cmds[1], fbuf);

        /* the edges' phase poll evaluates the models in the watch set */
        fwgctl_av_add(&cmds[2], "SADD");
        fwgctl_av_key(&cmds[2], "rollouts:watch", NULL);
        fwgctl_av_add(&cmds[2], model);

        snprintf(histbuf, sizeof(histbuf), "%s 0 %s start", nowbuf, pct);
        fwgctl_av_add(&cmds[3], "RPUSH");
        fwgctl_av_key(&cmds[3], "rollout:", model, ":history", NULL);
        fwgctl_av_add(&cmds[3], histbuf);
        n = 4;
    }

    rc = fwgctl_exec_tx(c, cmds, n);

    fwgctl_av_reset_all(cmds, 4);
    freeReplyObject(cur);

    if (rc == 0) {
        if (a.json) {
            printf("{");
            fwgctl_json_kv(stdout, "model", fwg_cli_str(model), 0);
            fwgctl_json_kv(stdout, "artifact", fwg_cli_str(name), 1);
            printf(",\"version\":");
            fwgctl_json_str(stdout, ver.data, ver.len);
            printf(",\"percent\":%s,\"state\":\"active\"}\n", pct);

        } else {
            printf("rollout %s started: %s (%.*s) at %s%%\n", model, name,
                   (int) ver.len, ver.data, pct);
            if (phases) {
                printf("phases %s, hold %llds, min %s reports, max failure "
                       "ratio %s: the edges advance it\n", phases, holds,
                       minr, maxr);
            }
        }
    }

    freeReplyObject(art);

    return rc;
}


/* floor: the model's security floor, optionally signed */
static int
rollout_floor(redisContext *c, const char *model, int argc, char **argv)
{
    int            rc, force;
    redisReply    *r;
    fwg_str_t      cur;
    fwg_key_t     *k;
    fwg_semver_t   nv, cv;
    fwgctl_av_t    cmds[2];
    fwgctl_args_t  a;
    const char    *version, *keyfile;
    char           sig[FWG_RELEASE_SIG_MAX];
    fwgctl_opt_t   opts[] = {
        { "--sign-key", 1, NULL }, { "--force", 0, NULL },
        { NULL, 0, NULL }
    };

    if (fwgctl_args_parse(argc, argv, opts, &a) != 0) {
        return 2;
    }

    if (a.npos != 1) {
        return fwgctl_usage("rollout floor: one VERSION expected");
    }

    version = a.pos[0];
    keyfile = fwgctl_opt_value(opts, "--sign-key");
    force = fwgctl_opt_value(opts, "--force") != NULL;

    if (fwg_semver_parse(&nv, version, strlen(version)) != 0
        || strlen(version) > 128)
    {
        return fwgctl_usage("rollout floor: '%s' is not SemVer 2.0.0",
                            version);
    }

    sig[0] = '\0';

    if (keyfile) {
        k = fwgctl_release_signer(keyfile, "rollout floor");
        if (k == NULL) {
            return 1;
        }

        rc = fwgctl_release_sign_floor(k, model, version, sig, sizeof(sig));
        fwg_key_free(k);

        if (rc != 0) {
            return 1;
        }
    }

    if (fwgctl_watch(c, "rollout:", model) != 0) {
        return 1;
    }

    r = fwgctl_hgetall(c, "rollout:", model);
    if (r == NULL) {
        return 1;
    }

    cur = fwgctl_hfield(r, "floor");

    if (cur.len && !force
        && fwg_semver_parse(&cv, cur.data, cur.len) == 0
        && fwg_semver_cmp(&nv, &cv) < 0)
    {
        rc = fwgctl_err("rollout floor: refused: %s is below the current "
                        "floor %.*s of %s; use --force to lower it",
                        version, (int) cur.len, cur.data, model);
        freeReplyObject(r);
        return rc;
    }

    freeReplyObject(r);

    fwgctl_av_init_all(cmds, 2);
    fwgctl_av_add(&cmds[0], "HSET");
    fwgctl_av_key(&cmds[0], "rollout:", model, NULL);
    fwgctl_av_add(&cmds[0], "floor");
    fwgctl_av_add(&cmds[0], version);

    if (sig[0]) {
        fwgctl_av_add(&cmds[0], "floor_sig");
        fwgctl_av_add(&cmds[0], sig);

    } else {
        /* a sig over another version would only mislead */
        fwgctl_av_add(&cmds[1], "HDEL");
        fwgctl_av_key(&cmds[1], "rollout:", model, NULL);
        fwgctl_av_add(&cmds[1], "floor_sig");
    }

    rc = fwgctl_exec_tx(c, cmds, sig[0] ? 1 : 2);
    fwgctl_av_reset_all(cmds, 2);

    if (rc != 0) {
        return rc;
    }

    if (a.json) {
        printf("{");
        fwgctl_json_kv(stdout, "model", fwg_cli_str(model), 0);
        fwgctl_json_kv(stdout, "floor", fwg_cli_str(version), 1);
        if (sig[0]) {
            printf(",\"keyid\":\"%.*s\"", FWG_RELEASE_KEYID_LEN, sig);
        }
        printf("}\n");

    } else {
        printf("rollout %s: floor %s%s%.*s\n", model, version,
               sig[0] ? ", signed by " : " (unsigned)",
               sig[0] ? FWG_RELEASE_KEYID_LEN : 0, sig);
    }

    return 0;
}


/* a report counter of the stats hash st (NULL: none) as an argument */
static void
rollout_count_add(fwgctl_av_t *av, const redisReply *st, const char *field)
{
    fwg_str_t  v;

    v = st ? fwgctl_hfield(st, field) : (fwg_str_t) { NULL, 0 };

    if (v.data && v.len && v.len < 21
        && strspn(v.data, "0123456789") == v.len)
    {
        fwgctl_av_addn(av, v.data, v.len);

    } else {
        fwgctl_av_add(av, "0");
    }
}


/* set, pause, resume, halt: one field of an existing rollout */
static int
rollout_field(redisContext *c, const char *sub, const char *model,
    int argc, char **argv)
{
    fwgctl_opt_t         opts[] = {
        { "--percent", 1, NULL },
        { "--max-starts-per-min", 1, NULL }, { "--max-in-flight", 1, NULL },
        { "--in-flight-expiry", 1, NULL }, { "--device-failures", 1, NULL },
        { "--penalty", 1, NULL }, { NULL, 0, NULL }
    };
    fwgctl_args_t        a;
    int           nlim;
    const char   *field, *value;
    redisReply   *r, *h;
    int           n;
    fwg_str_t     state, art;
    fwgctl_av_t   cmds[2];
    int           rc;
    redisReply   *st = NULL;
    char          suffix[300], at[32];
    int           halted;

    if (fwgctl_args_parse(argc, argv, strcmp(sub, "set") == 0 ? opts : NULL, &a)
        != 0)
    {
        return 2;
    }

    if (a.npos != 0) {
        return fwgctl_usage("rollout %s: unexpected argument '%s'", sub,
                          a.pos[0]);
    }

    nlim = 0;

    if (strcmp(sub, "set") == 0) {
        field = "percent";
        value = fwgctl_opt_value(opts, "--percent");

        rc = limits_check("set", opts, &nlim);
        if (rc != 0) {
            return rc;
        }

        if (value == NULL && nlim) {
            /* only limits: the first one names the change */
            field = NULL;

        } else if (value == NULL
                   || fwg_percent_parse(value, strlen(value)) < 0)
        {
            return fwgctl_usage("rollout set: --percent missing or not 0-100 "
                              "with at most two decimals");
        }

    } else {
        field = "state";
        value = strcmp(sub, "pause") == 0 ? "paused"
                : strcmp(sub, "resume") == 0 ? "active" : "halted";
    }

    if (fwgctl_watch(c, "rollout:", model) != 0) {
        return 1;
    }

    r = fwgctl_hrecord(c, "rollout:", model,
                       "rollout %s: no rollout for model %s", sub, model);
    if (r == NULL) {
        return 1;
    }

    state = fwgctl_hfield(r, "state");

    /* an automatic halt lives in rollout:<model>:halt (edges write it) */
    h = fwgctl_hgetall3(c, "rollout:", model, ":halt");

    halted = strcmp(sub, "resume") == 0
             && (fwg_str_eq(state, "halted")
                 || (h && fwgctl_hfound(h)
                     && fwg_str_eqs(fwgctl_hfield(h, "artifact"),
                                    fwgctl_hfield(r, "artifact"))));

    if (halted) {
        fprintf(stderr, "fwgatectl: note: resuming a halted rollout\n");
    }

    if (h) {
        freeReplyObject(h);
    }

    n = 1;
    fwgctl_av_init_all(cmds, 2);
    fwgctl_av_add(&cmds[0], "HSET");
    fwgctl_av_key(&cmds[0], "rollout:", model, NULL);
    if (field) {
        fwgctl_av_add(&cmds[0], field);
        fwgctl_av_add(&cmds[0], value);
    }
    limits_add(&cmds[0], opts);

    /*
     * Resuming a halted rollout starts the automatic halt's count afresh:
     * the reports and silent devices that halted it are known to the
     * owner who resumed, and counting them again would halt the rollout
     * at the next evaluation (docs/redis-schema.md, halt_reset_*).  A
     * pause, on the other hand, is no verdict on the reports: resuming
     * from it keeps every count.
     */

    if (halted) {
        art = fwgctl_hfield(r, "artifact");
        snprintf(suffix, sizeof(suffix), ":%.*s",
                 (int) (art.len > 256 ? 256 : art.len),
                 art.data ? art.data : "");
        st = fwgctl_hgetall3(c, "stats:", model, suffix);

        fwgctl_av_add(&cmds[0], "halt_reset_success");
        rollout_count_add(&cmds[0], st, "success");
        fwgctl_av_add(&cmds[0], "halt_reset_failure");
        rollout_count_add(&cmds[0], st, "failure");
        snprintf(at, sizeof(at), "%lld", (long long) time(NULL));
        fwgctl_av_add(&cmds[0], "halt_reset_at");
        fwgctl_av_add(&cmds[0], at);

        /* a phased rollout: the phase starts over, its gate counts anew */

        if (fwgctl_hfield(r, "phases").len) {
            fwgctl_av_add(&cmds[0], "phase_success");
            rollout_count_add(&cmds[0], st, "success");
            fwgctl_av_add(&cmds[0], "phase_failure");
            rollout_count_add(&cmds[0], st, "failure");
            fwgctl_av_add(&cmds[0], "phase_at");
            fwgctl_av_add(&cmds[0], at);
        }

        fwgctl_av_add(&cmds[1], "DEL");
        fwgctl_av_key(&cmds[1], "rollout:", model, ":halt", NULL);
        n = 2;
    }

    rc = fwgctl_exec_tx(c, cmds, n);
    fwgctl_av_reset_all(cmds, 2);
    freeReplyObject(r);

    if (st) {
        /* the arguments pointed into it */
        freeReplyObject(st);
    }

    if (rc == 0 && field == NULL) {
        if (a.json) {
            printf("{");
            fwgctl_json_kv(stdout, "model", fwg_cli_str(model), 0);
            printf(",\"limits\":\"set\"}\n");

        } else {
            printf("rollout %s: limits set\n", model);
        }

    } else if (rc == 0) {
        if (a.json) {
            printf("{");
            fwgctl_json_kv(stdout, "model", fwg_cli_str(model), 0);
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


/*
 * The admission block of status (its own function: the plan display is
 * another's): reports by state, downloads in flight within the expiry,
 * devices throttled, the limits and the penalty box settings.  JSON: the
 * "admission" member.
 */

static void
status_admission(redisContext *c, const char *model, redisReply *ro,
    fwg_str_t name, redisReply *stats, int json)
{
    size_t        i;
    char         *n, since[32];
    long long     expiry, inflight;
    fwg_str_t     v;
    redisReply   *r;
    fwgctl_av_t   av;

    static const char  *states[] = {
        "success", "failure", "deferred", "downloading", "installing",
        "throttled"
    };

    v = fwgctl_hfield(ro, "in_flight_expiry");
    expiry = v.len ? strtoll(v.data, NULL, 10) : 3600;
    if (expiry <= 0) {
        expiry = 3600;
    }

    n = strndup(name.data ? name.data : "", name.len);
    if (n == NULL) {
        return;
    }

    snprintf(since, sizeof(since), "(%lld", (long long) time(NULL) - expiry);

    av.n = 0;
    fwgctl_av_add(&av, "ZCOUNT");
    fwgctl_av_key(&av, "downloads:", model, ":", n, NULL);
    fwgctl_av_add(&av, since);
    fwgctl_av_add(&av, "+inf");
    r = fwgctl_run(c, &av);
    inflight = r && r->type == REDIS_REPLY_INTEGER ? r->integer : 0;

    if (r) {
        freeReplyObject(r);
    }

    free(n);

    if (json) {
        printf(",\"admission\":{");
        for (i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
            v = fwgctl_hfield(stats, states[i]);
            printf("%s\"%s\":%.*s", i ? "," : "", states[i],
                   v.len ? (int) v.len : 1, v.len ? v.data : "0");
        }
        printf(",\"in_flight\":%lld", inflight);
        for (i = 0; i < NLIMITS; i++) {
            v = fwgctl_hfield(ro, limit_opts[i].field);
            if (v.len) {
                printf(",");
                fwgctl_json_kv(stdout, limit_opts[i].field, v, 0);
            }
        }
        printf("}");
        return;
    }

    printf("reports  ");
    for (i = 0; i < 5; i++) {
        v = fwgctl_hfield(stats, states[i]);
        printf(" %s %.*s", states[i], v.len ? (int) v.len : 1,
               v.len ? v.data : "0");
    }
    v = fwgctl_hfield(stats, "throttled");
    printf("\nadmission in flight %lld (expiry %lld s), throttled %.*s\n",
           inflight, expiry, v.len ? (int) v.len : 1, v.len ? v.data : "0");

    for (i = 0; i < NLIMITS; i++) {
        v = fwgctl_hfield(ro, limit_opts[i].field);
        if (v.len) {
            printf("limit     %s %.*s\n", limit_opts[i].field, (int) v.len,
                   v.data);
        }
    }
}


static int
rollout_status(redisContext *c, const char *model, int argc, char **argv)
{
    fwgctl_args_t        a;
    redisReply   *ro, *art, *devs, *canary, *excl, *stats, *pend, *halt;
    fwg_str_t     name, pct, salt, state, from, down, ver, s, why;
    fwgctl_av_t   av;
    char         *n;
    long          hund;
    size_t        i, incohort;
    uint32_t      bucket;
    int           bar, j, canon, exon, plan;
    long long     now;
    fwgctl_phase_t  ph;

    if (fwgctl_args_parse(argc, argv, NULL, &a) != 0) {
        return 2;
    }

    ro = fwgctl_hrecord(c, "rollout:", model,
                        "rollout status: no rollout for model %s", model);
    if (ro == NULL) {
        return 1;
    }

    name = fwgctl_hfield(ro, "artifact");
    pct = fwgctl_hfield(ro, "percent");
    salt = fwgctl_hfield(ro, "salt");
    state = fwgctl_hfield(ro, "state");
    from = fwgctl_hfield(ro, "from");

    /* an automatic halt of this target (rollout:<model>:halt) */
    why.data = NULL;
    why.len = 0;
    halt = fwgctl_hgetall3(c, "rollout:", model, ":halt");

    if (halt && fwgctl_hfound(halt)
        && fwg_str_eqs(fwgctl_hfield(halt, "artifact"), name))
    {
        state.data = "halted";
        state.len = 6;
        why = fwgctl_hfield(halt, "reason");
    }
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

    plan = 0;
    if (fwgctl_hfield(ro, "phases").len) {
        now = fwgctl_redis_time(c);
        plan = now >= 0
               && fwgctl_phase_figures(ro, stats, why.len != 0, now, &ph);
    }

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
        printf("{");
        fwgctl_json_kv(stdout, "model", fwg_cli_str(model), 0);
        fwgctl_json_kv(stdout, "state", state, 1);
        if (why.len) {
            fwgctl_json_kv(stdout, "halted_reason", why, 1);
        }
        fwgctl_json_kv(stdout, "artifact", name, 1);
        fwgctl_json_kv(stdout, "version", ver, 1);
        fwgctl_json_kv(stdout, "percent", pct, 1);
        fwgctl_json_kv(stdout, "salt", salt, 1);
        fwgctl_json_kv(stdout, "from", from, 1);
        printf(",\"downgrade\":%s", fwg_str_eq(down, "1") ? "true" : "false");
        fwgctl_json_kv(stdout, "floor", fwgctl_hfield(ro, "floor"), 1);
        fwgctl_json_kv(stdout, "floor_keyid",
                       fwg_release_sig_keyid(fwgctl_hfield(ro, "floor_sig")),
                       1);
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
        printf("},\"pending_downloads\":%lld",
               pend->type == REDIS_REPLY_INTEGER ? pend->integer : 0LL);
        if (plan) {
            fwgctl_phase_print(&ph, 1);
        }
        status_admission(c, model, ro, name, stats, 1);
        printf("}\n");

    } else {
        printf("rollout   %s\n", model);
        printf("state     %.*s\n", (int) state.len, state.data);
        if (why.len) {
            printf("halted    %.*s\n", (int) why.len, why.data);
        }
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

        s = fwgctl_hfield(ro, "floor");

        if (s.len) {
            why = fwg_release_sig_keyid(fwgctl_hfield(ro, "floor_sig"));
            printf("floor     %.*s (%s%.*s)\n", (int) s.len, s.data,
                   why.len ? "signed by " : "unsigned", (int) why.len,
                   why.data);
        }
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
        if (plan) {
            fwgctl_phase_print(&ph, 0);
        }
        status_admission(c, model, ro, name, stats, 0);
    }

    free_replies(art, devs, canary, excl, stats, pend);
    freeReplyObject(ro);

    if (halt) {
        freeReplyObject(halt);
    }

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
        && strcmp(sub, "status") && strcmp(sub, "floor")
        && strcmp(sub, "watch"))
    {
        fwgctl_err("rollout: unknown subcommand '%s' (start, set, floor, "
                   "pause, resume, halt, status, watch)", sub);
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
    } else if (strcmp(sub, "floor") == 0) {
        rc = rollout_floor(c, model, argc - 3, argv + 3);
    } else if (strcmp(sub, "watch") == 0) {
        rc = fwgctl_rollout_watch(c, model, argc - 3, argv + 3);
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
    fwgctl_args_t         a;
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

    if (fwgctl_args_parse(argc - 2, argv + 2, NULL, &a) != 0) {
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

    fwgctl_av_init_all(cmds, 1);
    fwgctl_av_add(&cmds[0], add ? "SADD" : "SREM");
    fwgctl_av_key(&cmds[0], "rollout:", model, ":",
                  strcmp(set, "canary") == 0 ? "canary" : "exclude", NULL);

    for (i = 1; i < a.npos; i++) {
        fwgctl_av_add(&cmds[0], a.pos[i]);
    }

    rc = fwgctl_exec_tx(c, cmds, 1);
    fwgctl_av_reset_all(cmds, 1);
    redisFree(c);

    if (rc == 0) {
        if (a.json) {
            printf("{");
            fwgctl_json_kv(stdout, "model", fwg_cli_str(model), 0);
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
