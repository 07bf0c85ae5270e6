/*
 * fwgatectl: phased rollouts.  The plan's options of `rollout start`
 * (parsed here, stored by cmd_rollout.c), the phase figures of
 * `rollout status`, and `rollout watch`, a live view that exits 0 when
 * the rollout completes and 3 when it halts.  The rule is the edges' (src/
 * ngx/ngx_http_fwgate_phase.c): reports made during the phase (stats
 * minus the baseline taken when it began), the hold, the minimum number of
 * reports, the maximum failure ratio.  Fields: docs/redis-schema.md.
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "fwg_cohort.h"
#include "fwgatectl.h"
#include "fwgctl_opts.h"
#include "fwgctl_redis.h"
#include "cmd_phase.h"


int
fwgctl_phases_parse(const char *s, fwgctl_phase_t *p, const char **why)
{
    const char  *e;
    long         v;
    size_t       len;

    p->nphases = 0;

    for ( ;; ) {
        e = strchr(s, ',');
        len = e ? (size_t) (e - s) : strlen(s);

        if (p->nphases == FWGCTL_PHASES_MAX) {
            *why = "at most 16 phases";
            return -1;
        }

        v = fwg_percent_parse(s, len);

        if (v <= 0) {
            *why = "each phase is a percent, 0 < P <= 100, at most two "
                   "decimals";
            return -1;
        }

        if (p->nphases && v <= p->pct[p->nphases - 1]) {
            *why = "phases must increase";
            return -1;
        }

        p->pct[p->nphases++] = v;

        if (e == NULL) {
            break;
        }

        s = e + 1;
    }

    if (p->nphases < 2) {
        *why = "at least two phases";
        return -1;
    }

    return 0;
}


long long
fwgctl_duration_parse(const char *s)
{
    char       *end;
    long long   v, m;

    if (*s < '0' || *s > '9') {
        return -1;
    }

    errno = 0;
    v = strtoll(s, &end, 10);

    if (errno || v < 0 || v > 100000000) {
        return -1;
    }

    m = 1;

    if (*end == 's') {
        end++;
    } else if (*end == 'm') {
        m = 60;
        end++;
    } else if (*end == 'h') {
        m = 3600;
        end++;
    } else if (*end == 'd') {
        m = 86400;
        end++;
    }

    return *end == '\0' ? v * m : -1;
}


int
fwgctl_ratio0_valid(const char *s)
{
    char    *end;
    double   d;

    if (*s < '0' || *s > '9' || strlen(s) > 8) {
        return 0;
    }

    errno = 0;
    d = strtod(s, &end);

    return errno == 0 && *end == '\0' && d >= 0.0 && d <= 1.0;
}


long long
fwgctl_redis_time(redisContext *c)
{
    fwgctl_av_t   av;
    redisReply   *r;
    long long     t;

    av.n = 0;
    fwgctl_av_add(&av, "TIME");
    r = fwgctl_run(c, &av);

    if (r == NULL) {
        return -1;
    }

    t = -1;

    if (r->type == REDIS_REPLY_ARRAY && r->elements == 2
        && r->element[0]->type == REDIS_REPLY_STRING)
    {
        t = strtoll(r->element[0]->str, NULL, 10);
    }

    freeReplyObject(r);

    if (t < 0) {
        fwgctl_err("TIME: unexpected reply");
    }

    return t;
}


static long long
field_ll(const redisReply *r, const char *name, long long dflt)
{
    fwg_str_t  v;
    char       buf[32];

    v = fwgctl_hfield(r, name);

    if (v.len == 0 || v.len >= sizeof(buf)) {
        return dflt;
    }

    memcpy(buf, v.data, v.len);
    buf[v.len] = '\0';

    return strtoll(buf, NULL, 10);
}


static double
field_d(const redisReply *r, const char *name, double dflt)
{
    fwg_str_t  v;
    char       buf[32];

    v = fwgctl_hfield(r, name);

    if (v.len == 0 || v.len >= sizeof(buf)) {
        return dflt;
    }

    memcpy(buf, v.data, v.len);
    buf[v.len] = '\0';

    return strtod(buf, NULL);
}


int
fwgctl_phase_figures(const redisReply *ro, const redisReply *stats,
    int halted, long long now, fwgctl_phase_t *p)
{
    fwg_str_t    v;
    const char  *why;
    char         buf[256];
    long long    s, f;

    memset(p, 0, sizeof(*p));

    v = fwgctl_hfield(ro, "phases");

    if (v.len == 0 || v.len >= sizeof(buf)) {
        return 0;
    }

    memcpy(buf, v.data, v.len);
    buf[v.len] = '\0';

    if (fwgctl_phases_parse(buf, p, &why) != 0) {
        return 0;
    }

    p->phase = (long) field_ll(ro, "phase", 0);
    p->phase_at = field_ll(ro, "phase_at", now);
    p->hold = field_ll(ro, "hold", 0);
    p->min_reports = field_ll(ro, "min_reports", 1);
    p->max_ratio = field_d(ro, "max_failure_ratio", 0.0);
    p->now = now;

    s = field_ll(stats, "success", 0) - field_ll(ro, "phase_success", 0);
    f = field_ll(stats, "failure", 0) - field_ll(ro, "phase_failure", 0);
    p->reports = (s > 0 ? s : 0) + (f > 0 ? f : 0);
    p->failures = f > 0 ? f : 0;

    p->hold_left = p->phase_at + p->hold - now;
    if (p->hold_left < 0) {
        p->hold_left = 0;
    }

    if (halted || !fwg_str_eq(fwgctl_hfield(ro, "state"), "active")) {
        p->state = FWGCTL_PHASE_STOPPED;

    } else if (p->phase >= p->nphases - 1) {
        p->state = p->hold_left ? FWGCTL_PHASE_LAST : FWGCTL_PHASE_COMPLETE;

    } else if (p->reports >= p->min_reports && p->reports
               && p->failures > p->max_ratio * p->reports + 1e-9)
    {
        p->state = FWGCTL_PHASE_FAILING;

    } else if (p->hold_left == 0 && p->reports >= p->min_reports) {
        p->state = FWGCTL_PHASE_DUE;

    } else {
        p->state = FWGCTL_PHASE_WAITING;
    }

    return 1;
}


static void
pct_print(FILE *out, long h)
{
    if (h % 100) {
        fprintf(out, "%ld.%02ld", h / 100, h % 100);
    } else {
        fprintf(out, "%ld", h / 100);
    }
}


static double
phase_ratio(const fwgctl_phase_t *p)
{
    return p->reports ? (double) p->failures / (double) p->reports : 0.0;
}


/* what stands between the rollout and its next phase, one line */
static void
phase_next(FILE *out, const fwgctl_phase_t *p)
{
    long long  need;

    switch (p->state) {

    case FWGCTL_PHASE_STOPPED:
        fprintf(out, "none: the rollout is not active");
        return;

    case FWGCTL_PHASE_COMPLETE:
        fprintf(out, "none: complete (last phase held)");
        return;

    case FWGCTL_PHASE_LAST:
        fprintf(out, "last phase, complete in %llds", p->hold_left);
        return;

    case FWGCTL_PHASE_FAILING:
        fprintf(out, "blocked: failure ratio above the limit (the next "
                "edge poll halts it)");
        return;

    case FWGCTL_PHASE_DUE:
        fprintf(out, "due now (the next edge poll advances it)");
        return;
    }

    need = p->min_reports - p->reports;

    if (need > 0 && p->hold_left) {
        fprintf(out, "in %llds at the earliest; waiting for %lld more "
                "report%s", p->hold_left, need, need == 1 ? "" : "s");

    } else if (need > 0) {
        fprintf(out, "blocked: waiting for %lld more report%s", need,
                need == 1 ? "" : "s");

    } else {
        fprintf(out, "in %llds (hold)", p->hold_left);
    }
}


void
fwgctl_phase_print(const fwgctl_phase_t *p, int json)
{
    int  i;

    if (json) {
        printf(",\"plan\":{\"phases\":[");
        for (i = 0; i < p->nphases; i++) {
            printf("%s", i ? "," : "");
            pct_print(stdout, p->pct[i]);
        }
        printf("],\"phase\":%ld,\"phase_at\":%lld,\"hold\":%lld,"
               "\"min_reports\":%lld,\"max_failure_ratio\":%g,"
               "\"reports\":%lld,\"failures\":%lld,\"ratio\":%.4f,"
               "\"hold_left\":%lld,\"next\":\"",
               p->phase, p->phase_at, p->hold, p->min_reports, p->max_ratio,
               p->reports, p->failures, phase_ratio(p), p->hold_left);
        phase_next(stdout, p);
        printf("\"}");
        return;
    }

    printf("phases    ");
    for (i = 0; i < p->nphases; i++) {
        printf("%s%s", i ? " -> " : "", i == p->phase ? "[" : "");
        pct_print(stdout, p->pct[i]);
        printf("%%%s", i == p->phase ? "]" : "");
    }
    printf("\nphase     %ld of %d, began %llds ago, hold %llds "
           "(%llds left)\n", p->phase + 1, p->nphases,
           p->now - p->phase_at, p->hold, p->hold_left);
    printf("gate      %lld reports in phase (min %lld), %lld failures, "
           "ratio %.4f (limit %g)\n", p->reports, p->min_reports,
           p->failures, phase_ratio(p), p->max_ratio);
    printf("next      ");
    phase_next(stdout, p);
    printf("\n");
}


/* rollout watch --------------------------------------------------------- */

typedef struct {
    redisReply      *ro, *halt, *stats;
    long long        downloads, in_flight, silent, now;
    int              halted;
    fwg_str_t        reason;
} watch_view_t;


static void
watch_view_free(watch_view_t *v)
{
    if (v->ro) {
        freeReplyObject(v->ro);
    }
    if (v->halt) {
        freeReplyObject(v->halt);
    }
    if (v->stats) {
        freeReplyObject(v->stats);
    }
    memset(v, 0, sizeof(*v));
}


static long long
run_int(redisContext *c, fwgctl_av_t *av)
{
    redisReply  *r;
    long long    n;

    r = fwgctl_run(c, av);
    if (r == NULL) {
        return -1;
    }

    n = r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
    freeReplyObject(r);

    return n;
}


static int
watch_read(redisContext *c, const char *model, watch_view_t *v)
{
    fwg_str_t    a, st;
    fwgctl_av_t  av;
    char        *art, lo[32], hi[32];
    long long    silence;

    memset(v, 0, sizeof(*v));

    v->now = fwgctl_redis_time(c);
    if (v->now < 0) {
        return 1;
    }

    v->ro = fwgctl_hrecord(c, "rollout:", model,
                           "rollout watch: no rollout for model %s", model);
    if (v->ro == NULL) {
        return 1;
    }

    v->halt = fwgctl_hgetall3(c, "rollout:", model, ":halt");
    if (v->halt == NULL) {
        return 1;
    }

    a = fwgctl_hfield(v->ro, "artifact");
    st = fwgctl_hfield(v->ro, "state");

    if (fwgctl_hfound(v->halt)
        && fwg_str_eqs(fwgctl_hfield(v->halt, "artifact"), a))
    {
        v->halted = 1;
        v->reason = fwgctl_hfield(v->halt, "reason");

    } else if (fwg_str_eq(st, "halted")) {
        v->halted = 1;
    }

    art = strndup(a.data ? a.data : "", a.len);
    if (art == NULL) {
        return fwgctl_err("out of memory");
    }

    av.n = 0;
    fwgctl_av_add(&av, "HGETALL");
    fwgctl_av_key(&av, "stats:", model, ":", art, NULL);
    v->stats = fwgctl_run(c, &av);

    /* every device the rollout served: the download script marks it */
    fwgctl_av_add(&av, "HLEN");
    fwgctl_av_key(&av, "stats:", model, ":", art, ":devices", NULL);
    v->downloads = run_int(c, &av);

    /*
     * Downloads not yet heard from: in flight while younger than
     * halt_silence, silent after (without halt_silence all are in flight)
     */
    silence = field_ll(v->ro, "halt_silence", 0);
    snprintf(lo, sizeof(lo), "%lld", v->now - silence);
    snprintf(hi, sizeof(hi), "(%lld", v->now - silence);

    fwgctl_av_add(&av, "ZCOUNT");
    fwgctl_av_key(&av, "downloads:", model, ":", art, NULL);
    fwgctl_av_add(&av, silence > 0 ? hi : "-inf");
    fwgctl_av_add(&av, "+inf");
    v->in_flight = run_int(c, &av);

    if (silence > 0) {
        fwgctl_av_add(&av, "ZCOUNT");
        fwgctl_av_key(&av, "downloads:", model, ":", art, NULL);
        fwgctl_av_add(&av, "-inf");
        fwgctl_av_add(&av, lo);
        v->silent = run_int(c, &av);
    }

    free(art);

    if (v->stats == NULL || v->downloads < 0 || v->in_flight < 0
        || v->silent < 0)
    {
        return 1;
    }

    return 0;
}


static const char *
watch_state(watch_view_t *v, const fwgctl_phase_t *p, int plan)
{
    fwg_str_t  st;

    if (v->halted) {
        return "halted";
    }

    if (plan && p->state == FWGCTL_PHASE_COMPLETE) {
        return "complete";
    }

    st = fwgctl_hfield(v->ro, "state");

    return fwg_str_eq(st, "active") ? "active"
           : fwg_str_eq(st, "paused") ? "paused" : "unknown";
}


static void
watch_draw(const char *model, watch_view_t *v, const fwgctl_phase_t *p,
    int plan, int tty)
{
    long       h;
    long long  s, f;
    int        i, bar;
    fwg_str_t  pct, art;

    pct = fwgctl_hfield(v->ro, "percent");
    art = fwgctl_hfield(v->ro, "artifact");
    h = fwg_percent_parse(pct.data ? pct.data : "", pct.len);
    s = field_ll(v->stats, "success", 0);
    f = field_ll(v->stats, "failure", 0);

    if (!tty) {
        printf("%s %.*s", model, (int) art.len, art.data);
        if (plan) {
            printf(" phase=%ld/%d", p->phase + 1, p->nphases);
        }
        printf(" percent=%.*s state=%s downloads=%lld in_flight=%lld "
               "success=%lld failure=%lld deferred=%lld silent=%lld",
               (int) pct.len, pct.data, watch_state(v, p, plan),
               v->downloads, v->in_flight, s, f,
               field_ll(v->stats, "deferred", 0), v->silent);
        if (plan) {
            printf(" phase_reports=%lld phase_failures=%lld ratio=%.4f "
                   "limit=%g next=\"", p->reports, p->failures,
                   phase_ratio(p), p->max_ratio);
            phase_next(stdout, p);
            printf("\"");
        }
        printf(" throttled=%lld\n", field_ll(v->stats, "throttled", 0));
        fflush(stdout);
        return;
    }

    /* clear the screen and home the cursor: a full redraw */
    printf("\033[H\033[2J");
    printf("fwgatectl rollout watch %s    (Ctrl-C to stop)\n\n", model);
    printf("artifact     %.*s\n", (int) art.len, art.data);
    printf("state        %s\n", watch_state(v, p, plan));
    if (v->reason.len) {
        printf("halted       %.*s\n", (int) v->reason.len, v->reason.data);
    }

    if (plan) {
        printf("phase        %ld of %d  (", p->phase + 1, p->nphases);
        for (i = 0; i < p->nphases; i++) {
            printf("%s%s", i ? " " : "", i == p->phase ? "[" : "");
            pct_print(stdout, p->pct[i]);
            printf("%s", i == p->phase ? "]" : "");
        }
        printf(")\n");
    }

    bar = h > 0 ? (int) ((h * 50 + 9999) / 10000) : 0;
    printf("percent      %6.*s%% [", (int) pct.len, pct.data);
    for (i = 0; i < 50; i++) {
        putchar(i < bar ? '#' : '.');
    }
    printf("]\n\n");

    printf("downloads    %lld\n", v->downloads);
    printf("in flight    %lld\n", v->in_flight);
    printf("successes    %lld\n", s);
    printf("failures     %lld\n", f);
    printf("deferred     %lld\n", field_ll(v->stats, "deferred", 0));
    printf("silent       %lld\n", v->silent);
    printf("throttled    %lld\n", field_ll(v->stats, "throttled", 0));

    if (plan) {
        printf("\nin phase     %lld reports (min %lld), %lld failures\n",
               p->reports, p->min_reports, p->failures);
        printf("ratio        %.4f (limit %g)%s\n", phase_ratio(p),
               p->max_ratio,
               phase_ratio(p) > p->max_ratio + 1e-9 ? "  OVER" : "");
        printf("next phase   ");
        phase_next(stdout, p);
        printf("\n");
    }

    fflush(stdout);
}


int
fwgctl_rollout_watch(redisContext *c, const char *model, int argc,
    char **argv)
{
    fwgctl_opt_t      opts[] = {
        { "--interval", 1, NULL }, { NULL, 0, NULL }
    };
    fwgctl_args_t     a;
    const char       *iv;
    watch_view_t      v;
    fwgctl_phase_t    p;
    struct timespec   ts;
    double            interval;
    char             *end;
    int               tty, plan, rc;

    if (fwgctl_args_parse(argc, argv, opts, &a) != 0) {
        return 2;
    }

    if (a.npos != 0) {
        return fwgctl_usage("rollout watch: unexpected argument '%s'",
                            a.pos[0]);
    }

    interval = 1.0;
    iv = fwgctl_opt_value(opts, "--interval");

    if (iv != NULL) {
        interval = strtod(iv, &end);
        if (*end != '\0' || !(interval >= 0.1 && interval <= 3600)) {
            return fwgctl_usage("rollout watch: --interval must be 0.1 to "
                                "3600 seconds");
        }
    }

    tty = isatty(STDOUT_FILENO);

    for ( ;; ) {
        if (watch_read(c, model, &v) != 0) {
            watch_view_free(&v);
            return 1;
        }

        plan = fwgctl_phase_figures(v.ro, v.stats, v.halted, v.now, &p);

        watch_draw(model, &v, &p, plan, tty);

        rc = v.halted ? 3 : (plan && p.state == FWGCTL_PHASE_COMPLETE) ? 0
                                                                      : -1;
        watch_view_free(&v);

        if (rc >= 0) {
            if (tty) {
                printf("\nrollout %s %s\n", model,
                       rc ? "halted" : "complete");
            }
            return rc;
        }

        ts.tv_sec = (time_t) interval;
        ts.tv_nsec = (long) ((interval - (double) ts.tv_sec) * 1e9);
        nanosleep(&ts, NULL);
    }
}
