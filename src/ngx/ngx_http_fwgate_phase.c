
/*
 * fwgate: phased rollouts that advance themselves (docs/fleet-guide.md,
 * "Phased rollouts"; the fields in docs/redis-schema.md).
 *
 * A rollout started with a plan (fwgatectl rollout start --phases ...)
 * names its phases' percents, a hold time, a minimum number of reports
 * and a maximum failure ratio.  Every edge runs one script from its epoch
 * poll, at most once a second per node: for every watched model whose
 * active rollout has a plan and is not in its last phase, the script
 * compares the reports made during the phase (the stats counters minus
 * the baseline taken when the phase began) with the plan and either
 * advances the rollout to its next phase or halts it.  No daemon: the
 * edges that serve the rollout also move it.
 *
 * The script runs in Redis, atomically: several edges running it at the
 * same moment advance a rollout once (the first moves phase_at to now,
 * so the hold starts again for the others).  Time is Redis's TIME, not
 * the edge's clock, so skewed edges agree.  Redis 7 replicates a script's
 * effects, which is what allows TIME before a write.  TIME is asked only
 * once a rollout with a plan is found, with pcall: an edge whose Redis
 * user may not run it (the least-privilege user of docs/many-edges.md)
 * evaluates nothing and logs nothing; the writes need the rollout's key
 * (docs/fleet-guide.md, "Phased rollouts", "Who runs it").
 *
 * Keys (prefix omitted):
 *
 *   rollout:<model>           hash  the plan and the phase (read; an
 *                                   advance writes phase, percent,
 *                                   phase_at, the baselines, advanced_at,
 *                                   advance_reason)
 *   rollout:<model>:halt      hash  a halt, as the automatic halts write
 *   rollout:<model>:history   list  "ts phase percent reason"
 *   stats:<model>:<artifact>  hash  success, failure (read)
 *   rollouts:watch            set   the models the edges evaluate
 */

#include "ngx_http_fwgate_module.h"


static void ngx_http_fwgate_phase_done(ngx_http_fwgate_redis_cb_t *cb,
    redisReply *reply);


/*
 * KEYS watch, epoch; ARGV prefix.  Replies {model, artifact, action,
 * phase, percent, reports, failures} for every rollout it advanced
 * ("advance") or halted ("halt").  Keys built from the prefix are not
 * declared: a standalone Redis (or replicas), as the silence script.
 */

static ngx_str_t  ngx_http_fwgate_phase_lua = ngx_string(
    "if redis.replicate_commands then redis.replicate_commands() end\n"
    "local t, now\n"
    "local px = ARGV[1]\n"
    "local out = {}\n"
    "local function note(m, a, act, ph, pc, n, f)\n"
    "  for _, v in ipairs({m, a, act, tostring(ph), pc, n, f}) do\n"
    "    out[#out + 1] = v\n"
    "  end\n"
    "end\n"
    "local function bump(rk)\n"
    "  redis.call('INCR', KEYS[2])\n"
    "  redis.call('PUBLISH', px .. 'invalidate', string.sub(rk, #px + 1))\n"
    "end\n"
    "for _, m in ipairs(redis.call('SMEMBERS', KEYS[1])) do\n"
    "  local rk = px .. 'rollout:' .. m\n"
    "  local r = redis.call('HMGET', rk, 'artifact', 'state', 'phases',\n"
    "    'phase', 'phase_at', 'hold', 'min_reports', 'max_failure_ratio',\n"
    "    'phase_success', 'phase_failure')\n"
    "  local a, list = r[1], {}\n"
    "  if r[3] then\n"
    "    for p in string.gmatch(r[3], '[^,]+') do list[#list + 1] = p end\n"
    "  end\n"
    "  local ph, at, hold = tonumber(r[4]), tonumber(r[5]), tonumber(r[6])\n"
    "  local mn, mx = tonumber(r[7]), tonumber(r[8])\n"
    "  if a and r[2] == 'active' and #list > 1 and ph and at and hold\n"
    "    and mn and mx and ph >= 0 and ph < #list - 1\n"
    "    and redis.call('HGET', rk .. ':halt', 'artifact') ~= a\n"
    "  then\n"
    "    if not now then\n"
    "      t = redis.pcall('TIME')\n"
    "      if not t[1] then return out end\n"
    "      now = tonumber(t[1])\n"
    "    end\n"
    "    local sk = px .. 'stats:' .. m .. ':' .. a\n"
    "    local s = tonumber(redis.call('HGET', sk, 'success')) or 0\n"
    "    local f = tonumber(redis.call('HGET', sk, 'failure')) or 0\n"
    "    local ds = math.max(s - (tonumber(r[9]) or 0), 0)\n"
    "    local df = math.max(f - (tonumber(r[10]) or 0), 0)\n"
    "    local n = ds + df\n"
    "    local hk = rk .. ':history'\n"
    "    if n >= mn and n > 0 and df > mx * n + 1e-9 then\n"
    "      local why = string.format('phase_failure_ratio: %d failures of'\n"
    "        .. ' %d reports in phase %d (%s%%), limit %s', df, n, ph + 1,\n"
    "        list[ph + 1], r[8])\n"
    "      redis.call('HSET', rk .. ':halt', 'artifact', a, 'reason', why,\n"
    "        'at', tostring(now), 'code', 'phase_failure_ratio', 'at_ms',\n"
    "        string.format('%d%03d', now, math.floor(tonumber(t[2]) / 1000)))\n"
    "      redis.call('RPUSH', hk, string.format('%d %d %s %s', now, ph,\n"
    "        list[ph + 1], 'phase_failure_ratio'))\n"
    "      bump(rk)\n"
    "      note(m, a, 'halt', ph, list[ph + 1], n, df)\n"
    "    elseif now - at >= hold and n >= mn and df <= mx * n + 1e-9 then\n"
    "      local np = list[ph + 2]\n"
    "      local why = string.format('healthy: %d reports, %d failures'\n"
    "        .. ' in %ds', n, df, now - at)\n"
    "      redis.call('HSET', rk, 'phase', tostring(ph + 1), 'percent', np,\n"
    "        'phase_at', tostring(now), 'phase_success', tostring(s),\n"
    "        'phase_failure', tostring(f), 'advanced_at', tostring(now),\n"
    "        'advance_reason', why)\n"
    "      redis.call('RPUSH', hk, string.format('%d %d %s %s', now, ph + 1,\n"
    "        np, 'healthy'))\n"
    "      bump(rk)\n"
    "      note(m, a, 'advance', ph + 1, np, n, df)\n"
    "    end\n"
    "  end\n"
    "end\n"
    "return out\n");


static ngx_http_fwgate_redis_cb_t    ngx_http_fwgate_phase_cb;
static ngx_uint_t                    ngx_http_fwgate_phase_busy;
static ngx_http_fwgate_main_conf_t  *ngx_http_fwgate_phase_mcf;


/*
 * From the epoch poll.  At most once a second per node: the poll may run
 * every 100ms, and the phases move in seconds at the very least; the
 * zone's clock (phase_last) is shared by the node's workers.
 */

void
ngx_http_fwgate_phase_poll(ngx_http_fwgate_main_conf_t *fmcf)
{
    ngx_str_t          args[3];
    const char        *argv[6];
    size_t             argvlen[6];
    ngx_atomic_uint_t  last, now;

    if (ngx_http_fwgate_phase_busy || fmcf->stats == NULL
        || !ngx_http_fwgate_redis_writable())
    {
        return;
    }

    now = (ngx_atomic_uint_t) ngx_time();
    last = fmcf->stats->phase_last;

    if (last == now || !ngx_atomic_cmp_set(&fmcf->stats->phase_last, last,
                                           now))
    {
        return;
    }

    ngx_http_fwgate_phase_mcf = fmcf;
    ngx_http_fwgate_phase_cb.handler = ngx_http_fwgate_phase_done;

    args[0] = fmcf->watch_key;
    args[1] = fmcf->epoch_key;
    args[2] = fmcf->prefix;

    ngx_http_fwgate_eval_argv(argv, argvlen, &ngx_http_fwgate_phase_lua,
                              "2", args, 3);

    if (ngx_http_fwgate_redis_write(&ngx_http_fwgate_phase_cb, 6, argv,
                                    argvlen)
        == NGX_OK)
    {
        ngx_http_fwgate_phase_busy = 1;
    }
}


static void
ngx_http_fwgate_phase_done(ngx_http_fwgate_redis_cb_t *cb,
    redisReply *reply)
{
    size_t                        i, k;
    redisReply                  **e;
    ngx_http_fwgate_main_conf_t  *fmcf;

    ngx_http_fwgate_phase_busy = 0;
    fmcf = ngx_http_fwgate_phase_mcf;

    if (reply == NULL || fmcf == NULL || reply->type != REDIS_REPLY_ARRAY) {
        return;
    }

    e = reply->element;

    for (i = 0; i + 7 <= reply->elements; i += 7) {

        for (k = 0; k < 7; k++) {
            if (e[i + k]->type != (k < 5 ? REDIS_REPLY_STRING
                                         : REDIS_REPLY_INTEGER))
            {
                break;
            }
        }

        if (k < 7) {
            continue;
        }

        if (e[i + 2]->len == 4) {
            (void) ngx_atomic_fetch_add(&fmcf->stats->halts, 1);

            ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                          "fwgate: rollout %*s halted: artifact \"%*s\", "
                          "phase_failure_ratio: %L failures of %L reports "
                          "in phase %*s (%*s%%)",
                          (size_t) ngx_min(e[i]->len, 64), e[i]->str,
                          (size_t) ngx_min(e[i + 1]->len, 256),
                          e[i + 1]->str,
                          (int64_t) e[i + 6]->integer,
                          (int64_t) e[i + 5]->integer,
                          (size_t) ngx_min(e[i + 3]->len, 8), e[i + 3]->str,
                          (size_t) ngx_min(e[i + 4]->len, 8), e[i + 4]->str);
            continue;
        }

        ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                      "fwgate: rollout %*s advanced to phase index %*s "
                      "(%*s%%): artifact \"%*s\", %L reports, %L failures "
                      "in the previous phase",
                      (size_t) ngx_min(e[i]->len, 64), e[i]->str,
                      (size_t) ngx_min(e[i + 3]->len, 8), e[i + 3]->str,
                      (size_t) ngx_min(e[i + 4]->len, 8), e[i + 4]->str,
                      (size_t) ngx_min(e[i + 1]->len, 256), e[i + 1]->str,
                      (int64_t) e[i + 5]->integer,
                      (int64_t) e[i + 6]->integer);
    }
}
