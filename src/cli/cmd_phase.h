/*
 * fwgatectl: phased rollouts (cmd_phase.c): the plan's options of
 * `rollout start`, the phase figures of `rollout status`, and
 * `rollout watch`.  The edges advance the phases (src/ngx/
 * ngx_http_fwgate_phase.c); the same rule is computed here to show what
 * blocks the next phase.
 */

#ifndef CMD_PHASE_H
#define CMD_PHASE_H

#include <hiredis/hiredis.h>

#include "fwgctl_redis.h"

#define FWGCTL_PHASES_MAX  16

typedef struct {
    int          nphases;
    long         pct[FWGCTL_PHASES_MAX];    /* hundredths */
    long         phase;                     /* 0-based */
    long long    phase_at, hold, min_reports, now;
    double       max_ratio;
    long long    reports, failures;         /* during the phase */
    long long    hold_left;
    int          state;                     /* FWGCTL_PHASE_* */
} fwgctl_phase_t;

#define FWGCTL_PHASE_WAITING   0    /* hold, reports: see the figures */
#define FWGCTL_PHASE_DUE       1    /* the next edge poll advances it */
#define FWGCTL_PHASE_FAILING   2    /* the next edge poll halts it */
#define FWGCTL_PHASE_COMPLETE  3    /* last phase held */
#define FWGCTL_PHASE_LAST      4    /* last phase, hold running */
#define FWGCTL_PHASE_STOPPED   5    /* paused or halted */

/* "1,5,25,100": 0 and the hundredths in p, or -1 (message in *why) */
int fwgctl_phases_parse(const char *s, fwgctl_phase_t *p, const char **why);
/* "30m", "2s", "1h", "90": seconds, or -1 */
long long fwgctl_duration_parse(const char *s);
/* 0..1, at most 6 decimals */
int fwgctl_ratio0_valid(const char *s);
/* Redis TIME, seconds; -1 after printing the error */
long long fwgctl_redis_time(redisContext *c);

/*
 * The plan in the rollout's hash (ro), its stats (HGETALL), whether it is
 * halted: 1 and p filled, 0 no plan.
 */
int fwgctl_phase_figures(const redisReply *ro, const redisReply *stats,
    int halted, long long now, fwgctl_phase_t *p);
/* the plan and the gate's figures for rollout status */
void fwgctl_phase_print(const fwgctl_phase_t *p, int json);

int fwgctl_rollout_watch(redisContext *c, const char *model, int argc,
    char **argv);

#endif /* CMD_PHASE_H */
