
/*
 * fwgate: the registry writes that are not a reply to anyone: download
 * records, clearing them, and the silence evaluation (the rules are in
 * docs/update-check.md, "Silent devices" and "The halt rule"; the keys in
 * docs/redis-schema.md).
 *
 * All go to the write connection (the first server that is a primary).
 * All are fire and forget: a callback record allocated outside any pool
 * that frees itself, so a download is never delayed by Redis and
 * a request that ends early leaves nothing dangling.  The thresholds are
 * evaluated inside Redis, by one Lua function shared by the report script
 * (report.c) and the silence script here, so a rollout halts atomically
 * and at most once however many edges evaluate it at the same moment.
 *
 * Keys (prefix omitted):
 *
 *   downloads:<model>:<artifact>        zset  device -> first download time
 *   stats:<model>:<artifact>            hash  success, failure (counts)
 *   stats:<model>:<artifact>:devices    hash  device -> "served" (the
 *                                             rollout served it, no report
 *                                             yet) or its last report
 *   rollouts:watch                      set   models whose rollouts the
 *                                             silence poll evaluates
 *   starts:<model>:<artifact>           zset  device -> time its first
 *                                             download was admitted
 *                                             (admission, last 60 s)
 *   devfail:<model>:<artifact>          hash  device -> failure reports
 *                                             (penalty box)
 */

#include "ngx_http_fwgate_module.h"


typedef struct {
    ngx_http_fwgate_redis_cb_t      cb;         /* first: see redis.c */
} ngx_http_fwgate_forget_t;


typedef struct {
    ngx_http_fwgate_redis_cb_t      cb;         /* first: see redis.c */
    ngx_http_fwgate_ctx_t          *ctx;        /* NULL once detached */
} ngx_http_fwgate_admit_t;


static void ngx_http_fwgate_forget_done(ngx_http_fwgate_redis_cb_t *cb,
    redisReply *reply);
static void ngx_http_fwgate_silence_done(ngx_http_fwgate_redis_cb_t *cb,
    redisReply *reply);
static void ngx_http_fwgate_admit_done(ngx_http_fwgate_redis_cb_t *cb,
    redisReply *reply);
static ngx_int_t ngx_http_fwgate_download_keys(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx, ngx_str_t *model, ngx_str_t *dkey);


/*
 * fwg_halt(rollout, stats, downloads, epoch, artifact, now): the threshold
 * rule.  Only an active rollout that still targets the artifact and names
 * both halt_failures and halt_ratio halts.  Silent devices (downloaded at
 * least halt_silence seconds ago, never heard from since) count as
 * failures.  Returns halted (0/1), successes, failures, silent.  A halt
 * bumps the epoch and publishes "rollout:<model>" on <prefix>invalidate
 * (the prefix is the epoch key's, without "epoch"), as fwgatectl does.
 *
 * Counts start afresh at the last `fwgatectl rollout resume`: it stores
 * the counters it saw (halt_reset_success, halt_reset_failure) and the
 * time (halt_reset_at) in the rollout, and only reports beyond those, and
 * devices silent since a download after that time, count; otherwise the
 * evidence that halted a rollout would halt it again at once.
 *
 * The halt is written to rollout:<model>:halt (artifact, reason, at), not
 * to the rollout's own hash: edges may write that key and never the
 * rollout itself, so an edge's Redis user cannot re-point or widen a
 * rollout (docs/many-edges.md, "Least privilege").  The rollout's key is
 * only read, and reaches the report script as an argument, not a
 * declared key (a declared key needs write access under an ACL).
 */

#define NGX_HTTP_FWGATE_LUA_HALT                                              \
    "local function fwg_halt(rk, sk, dk, ek, art, now)\n"                     \
    "  local r = redis.call('HMGET', rk, 'artifact', 'state',\n"              \
    "    'halt_failures', 'halt_ratio', 'halt_silence',\n"                    \
    "    'halt_reset_success', 'halt_reset_failure', 'halt_reset_at')\n"      \
    "  if r[1] ~= art or r[2] ~= 'active' then return 0, 0, 0, 0 end\n"       \
    "  local hk = rk .. ':halt'\n"                                            \
    "  if redis.call('HGET', hk, 'artifact') == art then\n"                   \
    "    return 0, 0, 0, 0\n"                                                 \
    "  end\n"                                                                 \
    "  local hf, hr = tonumber(r[3]), tonumber(r[4])\n"                       \
    "  if not hf or not hr then return 0, 0, 0, 0 end\n"                      \
    "  local s = (tonumber(redis.call('HGET', sk, 'success')) or 0)\n"        \
    "    - (tonumber(r[6]) or 0)\n"                                           \
    "  local f = (tonumber(redis.call('HGET', sk, 'failure')) or 0)\n"        \
    "    - (tonumber(r[7]) or 0)\n"                                           \
    "  if s < 0 then s = 0 end\n"                                             \
    "  if f < 0 then f = 0 end\n"                                             \
    "  local q = 0\n"                                                         \
    "  local hs = tonumber(r[5])\n"                                           \
    "  if hs and hs > 0 then\n"                                               \
    "    local lo = '-inf'\n"                                                 \
    "    if tonumber(r[8]) then lo = '(' .. r[8] end\n"                       \
    "    q = redis.call('ZCOUNT', dk, lo, now - hs)\n"                        \
    "  end\n"                                                                 \
    "  local fe = f + q\n"                                                    \
    "  if fe < 1 or fe < hf or fe + 1e-9 < hr * (s + fe) then\n"              \
    "    return 0, s, f, q\n"                                                 \
    "  end\n"                                                                 \
    "  redis.call('HSET', hk, 'artifact', art, 'reason',\n"                   \
    "    string.format('auto: %d failures + %d silent of %d reports,'\n"      \
    "      .. ' thresholds %s and %s', f, q, s + f, r[3], r[4]),\n"           \
    "    'at', string.format('%d', math.floor(now)))\n"                       \
    "  redis.call('INCR', ek)\n"                                              \
    "  local px = string.sub(ek, 1, #ek - 5)\n"                               \
    "  redis.call('PUBLISH', px .. 'invalidate', string.sub(rk, #px + 1))\n"  \
    "  return 1, s, f, q\n"                                                   \
    "end\n"


/*
 * The report: KEYS stats, devices, downloads, rollout:<model>:halt,
 * epoch, watch; ARGV device, status, artifact, now, model,
 * rollout:<model>, device:<id>, devfail:<model>:<artifact>.  Only a
 * device the rollout served counts (the download script marked it
 * "served"): a device outside the cohort cannot add successes that
 * dilute a failure ratio, nor failures that halt a rollout it never
 * received.  A device counts once per artifact, under its latest
 * outcome: a failure followed by a success moves it from one count to
 * the other.
 *
 * Progress (deferred, downloading, installing) is counted per report in
 * its own field and leaves the outcome alone: the device is alive, so
 * its time in the downloads set is refreshed (XX: only while it is
 * there), and the silence rule counts it silent only halt_silence after
 * its last progress report.  An outcome (success, failure) means the
 * device was heard from for good: it leaves the downloads set.
 *
 * The penalty box: while the rollout (still targeting the artifact)
 * names device_failures, each failure report adds one to the device's
 * count in devfail; when the count reaches it, the device record's
 * penalty:<artifact> becomes now + penalty (default 86400), and the epoch
 * and "device:<id>" invalidation make every edge drop its cached record.
 * Those keys are not declared and not touched without device_failures,
 * so an edge's ACL user needs them only for the penalty box
 * (docs/many-edges.md).
 * Replies {counted, halted, successes, failures, silent, boxed until}.
 */

ngx_str_t  ngx_http_fwgate_report_lua = ngx_string(
    NGX_HTTP_FWGATE_LUA_HALT
    "local prev = redis.call('HGET', KEYS[2], ARGV[1])\n"
    "if not prev then return {-1, 0, 0, 0, 0, 0} end\n"
    "local now = tonumber(ARGV[4])\n"
    "local st = ARGV[2]\n"
    "local counted = 0\n"
    "local boxed = 0\n"
    "if st ~= 'success' and st ~= 'failure' then\n"
    "  redis.call('HINCRBY', KEYS[1], st, 1)\n"
    "  redis.call('ZADD', KEYS[3], 'XX', now, ARGV[1])\n"
    "  return {1, 0, 0, 0, 0, 0}\n"
    "end\n"
    "if prev ~= st then\n"
    "  redis.call('HSET', KEYS[2], ARGV[1], st)\n"
    "  if prev == 'success' or prev == 'failure' then\n"
    "    redis.call('HINCRBY', KEYS[1], prev, -1)\n"
    "  end\n"
    "  redis.call('HINCRBY', KEYS[1], st, 1)\n"
    "  counted = 1\n"
    "end\n"
    "redis.call('ZREM', KEYS[3], ARGV[1])\n"
    "redis.call('SADD', KEYS[6], ARGV[5])\n"
    "local r = redis.call('HMGET', ARGV[6], 'artifact',\n"
    "  'device_failures', 'penalty')\n"
    "local df = tonumber(r[2])\n"
    "if st == 'failure' and r[1] == ARGV[3] and df and df > 0 then\n"
    "  local n = redis.call('HINCRBY', ARGV[8], ARGV[1], 1)\n"
    "  if n >= df then\n"
    "    local p = tonumber(r[3]) or 86400\n"
    "    boxed = math.floor(now + p)\n"
    "    redis.call('HSET', ARGV[7], 'penalty:' .. ARGV[3],\n"
    "      string.format('%d', boxed))\n"
    "    redis.call('INCR', KEYS[5])\n"
    "    local px = string.sub(KEYS[5], 1, #KEYS[5] - 5)\n"
    "    redis.call('PUBLISH', px .. 'invalidate',\n"
    "      string.sub(ARGV[7], #px + 1))\n"
    "  end\n"
    "end\n"
    "local h, s, f, q = fwg_halt(ARGV[6], KEYS[1], KEYS[3], KEYS[5],\n"
    "  ARGV[3], now)\n"
    "return {counted, h, s, f, q, boxed}\n");


/*
 * A download: KEYS downloads, devices, watch; ARGV device, now, model.
 * Marks the device served (its reports count from now on); the first
 * download only (NX), and not for a device that has already reported on
 * this artifact: it was heard from.
 */

static ngx_str_t  ngx_http_fwgate_download_lua = ngx_string(
    "if redis.call('HSETNX', KEYS[2], ARGV[1], 'served') == 0\n"
    "  and redis.call('HGET', KEYS[2], ARGV[1]) ~= 'served' then\n"
    "  return 0\n"
    "end\n"
    "redis.call('ZADD', KEYS[1], 'NX', ARGV[2], ARGV[1])\n"
    "redis.call('SADD', KEYS[3], ARGV[3])\n"
    "return 1\n");


/*
 * The silence poll: KEYS watch, epoch; ARGV prefix, now.  Every watched
 * model's current rollout goes through the same rule; a model whose
 * rollout is gone leaves the watch set.  The keys it builds from the
 * prefix are not declared: this needs a standalone Redis (or a replica
 * set), not Redis Cluster.  Replies {model, artifact, successes,
 * failures, silent} for each rollout it halted.
 */

static ngx_str_t  ngx_http_fwgate_silence_lua = ngx_string(
    NGX_HTTP_FWGATE_LUA_HALT
    "local out = {}\n"
    "local now = tonumber(ARGV[2])\n"
    "for _, m in ipairs(redis.call('SMEMBERS', KEYS[1])) do\n"
    "  local rk = ARGV[1] .. 'rollout:' .. m\n"
    "  local a = redis.call('HGET', rk, 'artifact')\n"
    "  if not a then\n"
    "    redis.call('SREM', KEYS[1], m)\n"
    "  else\n"
    "    local h, s, f, q = fwg_halt(rk,\n"
    "      ARGV[1] .. 'stats:' .. m .. ':' .. a,\n"
    "      ARGV[1] .. 'downloads:' .. m .. ':' .. a, KEYS[2], a, now)\n"
    "    if h == 1 then\n"
    "      out[#out + 1] = m\n"
    "      out[#out + 1] = a\n"
    "      out[#out + 1] = s\n"
    "      out[#out + 1] = f\n"
    "      out[#out + 1] = q\n"
    "    end\n"
    "  end\n"
    "end\n"
    "return out\n");


/*
 * Admission (docs/fleet-guide.md, "Admission"): KEYS downloads, devices,
 * watch, starts, stats; ARGV device, now, model, max_starts_per_min,
 * max_in_flight, in_flight_expiry, probe.  A device already served this
 * artifact (in the downloads set, or in the devices hash: served or
 * reported) is admitted without counting.  Otherwise it is throttled
 * when the starts of the last 60 s reach max_starts_per_min or the
 * downloads still unreported within in_flight_expiry reach
 * max_in_flight; else admitted: the start and the download are recorded
 * (as the download script does).  One script, so edges racing for the
 * last slot cannot both take it.  A probe (the update check) only reads.
 * Replies {answer, retry}: 1 admitted, 0 throttled, 2 room (a probe);
 * retry the seconds until a start slot frees (in-flight slots free on
 * reports, unknown: at most 60).
 */

static ngx_str_t  ngx_http_fwgate_admit_lua = ngx_string(
    "local now = tonumber(ARGV[2])\n"
    "if redis.call('ZSCORE', KEYS[1], ARGV[1])\n"
    "  or redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then\n"
    "  return {1, 0}\n"
    "end\n"
    "local n, m, e = tonumber(ARGV[4]), tonumber(ARGV[5]),\n"
    "  tonumber(ARGV[6])\n"
    "local since = '(' .. string.format('%.3f', now - 60)\n"
    "local retry = 0\n"
    "if n > 0 and redis.call('ZCOUNT', KEYS[4], since, '+inf') >= n then\n"
    "  local o = redis.call('ZRANGEBYSCORE', KEYS[4], since, '+inf',\n"
    "    'WITHSCORES', 'LIMIT', 0, 1)\n"
    "  retry = tonumber(o[2]) + 60 - now\n"
    "end\n"
    "if m > 0 then\n"
    "  local fs = '(' .. string.format('%.3f', now - e)\n"
    "  if redis.call('ZCOUNT', KEYS[1], fs, '+inf') >= m then\n"
    "    local o = redis.call('ZRANGEBYSCORE', KEYS[1], fs, '+inf',\n"
    "      'WITHSCORES', 'LIMIT', 0, 1)\n"
    "    local w = math.min(60, tonumber(o[2]) + e - now)\n"
    "    if w > retry then retry = w end\n"
    "    if retry <= 0 then retry = 1 end\n"
    "  end\n"
    "end\n"
    "if retry > 0 then\n"
    "  if ARGV[7] == '0' then\n"
    "    redis.call('HINCRBY', KEYS[5], 'throttled', 1)\n"
    "  end\n"
    "  return {0, math.max(1, math.ceil(retry))}\n"
    "end\n"
    "if ARGV[7] ~= '0' then return {2, 0} end\n"
    "redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - 60)\n"
    "redis.call('ZADD', KEYS[4], now, ARGV[1])\n"
    "redis.call('HSETNX', KEYS[2], ARGV[1], 'served')\n"
    "redis.call('ZADD', KEYS[1], 'NX', now, ARGV[1])\n"
    "redis.call('SADD', KEYS[3], ARGV[3])\n"
    "return {1, 0}\n");


static ngx_http_fwgate_redis_cb_t    ngx_http_fwgate_silence_cb;
static ngx_uint_t                    ngx_http_fwgate_silence_busy;
static ngx_http_fwgate_main_conf_t  *ngx_http_fwgate_silence_mcf;


/*
 * Wall-clock time in seconds with milliseconds, for scores and script
 * arguments: whole seconds would let a device count as silent up to a
 * second early.
 */

size_t
ngx_http_fwgate_now(u_char *buf)
{
    ngx_time_t  *tp;

    tp = ngx_timeofday();

    return ngx_sprintf(buf, "%T.%03M", tp->sec, tp->msec) - buf;
}


ngx_int_t
ngx_http_fwgate_redis_forget(int argc, const char **argv,
    const size_t *argvlen)
{
    ngx_http_fwgate_forget_t  *f;

    if (!ngx_http_fwgate_redis_writable()) {
        return NGX_DECLINED;
    }

    f = ngx_alloc(sizeof(ngx_http_fwgate_forget_t), ngx_cycle->log);
    if (f == NULL) {
        return NGX_ERROR;
    }

    f->cb.handler = ngx_http_fwgate_forget_done;

    if (ngx_http_fwgate_redis_write(&f->cb, argc, argv, argvlen) != NGX_OK) {
        ngx_free(f);
        return NGX_DECLINED;
    }

    return NGX_OK;
}


static void
ngx_http_fwgate_forget_done(ngx_http_fwgate_redis_cb_t *cb,
    redisReply *reply)
{
    /* errors were logged and counted by redis.c */
    ngx_free(cb);
}


/*
 * Every script runs as EVAL script nkeys key... arg...: argv and argvlen
 * hold 3 + n and point into script and args, nothing is copied.
 */

void
ngx_http_fwgate_eval_argv(const char **argv, size_t *argvlen,
    ngx_str_t *script, const char *nkeys, ngx_str_t *args, ngx_uint_t n)
{
    ngx_uint_t  i;

    argv[0] = "EVAL";
    argvlen[0] = 4;
    argv[1] = (const char *) script->data;
    argvlen[1] = script->len;
    argv[2] = nkeys;
    argvlen[2] = ngx_strlen(nkeys);

    for (i = 0; i < n; i++) {
        argv[3 + i] = (const char *) args[i].data;
        argvlen[3 + i] = args[i].len;
    }
}


/*
 * Called by the gate for an allowed download: only the rollout's target
 * is recorded (the decision's step 13 guarantees it on allow), and not
 * for a device that already runs the target (a re-download after the
 * install: it has been heard from).
 */

/*
 * The downloads key and the per-worker memo's key (ctx->mark) of an
 * allowed request for the rollout's target; NGX_DECLINED when nothing is
 * to be recorded: another artifact, or a device that already runs the
 * target (a re-download after the install: it has been heard from).
 */

static ngx_int_t
ngx_http_fwgate_download_keys(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx, ngx_str_t *model, ngx_str_t *dkey)
{
    ngx_str_t           device;
    fwg_semver_t        target;
    fwg_rollout_rec_t  *ro;

    ro = &ctx->rollout_rec;

    if (ctx->reason != FWG_R_OK || !ro->found
        || ro->artifact.len != ctx->artifact.len
        || ngx_memcmp(ro->artifact.data, ctx->artifact.data,
                      ctx->artifact.len) != 0)
    {
        return NGX_DECLINED;
    }

    if (fwg_semver_parse(&target, ctx->artifact_rec.version.data
                                  ? ctx->artifact_rec.version.data : "",
                         ctx->artifact_rec.version.len) == 0
        && fwg_semver_cmp(&target, &ctx->claims.version) == 0)
    {
        return NGX_DECLINED;
    }

    /* the record's model: step 10 made it equal to the claimed one */

    model->data = (u_char *) ctx->device_rec.model.data;
    model->len = ctx->device_rec.model.len;
    device.data = (u_char *) ctx->claims.device.data;
    device.len = ctx->claims.device.len;

    if (ngx_http_fwgate_registry_key(r, dkey, "downloads:", model,
                                     &ctx->artifact, NULL)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ctx->mark.len = dkey->len + 1 + device.len;
    ctx->mark.data = ngx_pnalloc(r->pool, ctx->mark.len);
    if (ctx->mark.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(ctx->mark.data, dkey->data, dkey->len);
    ctx->mark.data[dkey->len] = '\0';
    ngx_memcpy(ctx->mark.data + dkey->len + 1, device.data, device.len);

    return NGX_OK;
}


/*
 * Called by the gate for an allowed download: only the rollout's target
 * is recorded (the decision's step 13 guarantees it on allow).  A
 * download admitted under limits was recorded by the admission script.
 */

void
ngx_http_fwgate_record_download(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx)
{
    ngx_str_t                     model, device, dkey, skey, args[6];
    ngx_http_fwgate_main_conf_t  *fmcf;
    const char         *argv[9];
    size_t              argvlen[9];
    u_char              buf[NGX_HTTP_FWGATE_NOW_LEN];

    if (ctx->admission == NGX_HTTP_FWGATE_ADMIT_IN
        || ngx_http_fwgate_memo_recorded(ctx)
        || !ngx_http_fwgate_redis_writable())
    {
        return;
    }

    if (ngx_http_fwgate_download_keys(r, ctx, &model, &dkey) != NGX_OK) {
        return;
    }

    device.data = (u_char *) ctx->claims.device.data;
    device.len = ctx->claims.device.len;

    /*
     * Once per device, artifact and epoch, renewed each ttl (at least
     * each NGX_HTTP_FWGATE_MARK_TTL), is enough: the script is idempotent
     * (HSETNX, ZADD NX, SADD), and sending it on every allowed request
     * would cost more than the download itself (an EVAL in Redis each).
     */

    fmcf = ngx_http_get_module_main_conf(r, ngx_http_fwgate_module);

    if (ngx_http_fwgate_cache_mark(fmcf, &ctx->mark)) {
        ngx_http_fwgate_memo_set_recorded(ctx);
        return;
    }

    /* the rest only when the record is sent */

    if (ngx_http_fwgate_registry_key(r, &skey, "stats:", &model,
                                     &ctx->artifact, ":devices")
        != NGX_OK)
    {
        return;
    }

    args[0] = dkey;
    args[1] = skey;
    args[2] = fmcf->watch_key;
    args[3] = device;
    args[4].data = buf;
    args[4].len = ngx_http_fwgate_now(buf);
    args[5] = model;

    ngx_http_fwgate_eval_argv(argv, argvlen, &ngx_http_fwgate_download_lua,
                              "3", args, 6);

    if (ngx_http_fwgate_redis_forget(9, argv, argvlen) == NGX_OK) {
        ngx_http_fwgate_memo_set_recorded(ctx);
    }
}


ngx_int_t
ngx_http_fwgate_admit(ngx_http_request_t *r, ngx_http_fwgate_ctx_t *ctx,
    ngx_uint_t probe)
{
    int64_t                       starts, in_flight, expiry;
    ngx_int_t                     rc;
    ngx_str_t                     model, dkey, args[12];
    ngx_http_fwgate_admit_t      *a;
    ngx_http_fwgate_main_conf_t  *fmcf;
    const char                   *argv[15];
    size_t                        argvlen[15];
    u_char                        now[NGX_HTTP_FWGATE_NOW_LEN];
    u_char                        nums[3][NGX_INT64_LEN];

    ctx->admission = NGX_HTTP_FWGATE_ADMIT_NONE;

    /* rollouts without limits: today's path, no round trip */

    if (!fwg_rollout_limits(&ctx->rollout_rec, &starts, &in_flight,
                            &expiry))
    {
        return NGX_OK;
    }

    rc = ngx_http_fwgate_download_keys(r, ctx, &model, &dkey);

    if (rc == NGX_DECLINED) {
        return NGX_OK;
    }

    if (rc != NGX_OK) {
        return NGX_DECLINED;
    }

    fmcf = ngx_http_get_module_main_conf(r, ngx_http_fwgate_module);

    /* admitted before by this node (in this epoch): no round trip */

    if (ngx_http_fwgate_cache_marked(fmcf, &ctx->mark, 0)) {
        return NGX_OK;
    }

    if (!ngx_http_fwgate_redis_writable()) {
        return NGX_DECLINED;
    }

    args[0] = dkey;

    if (ngx_http_fwgate_registry_key(r, &args[1], "stats:", &model,
                                     &ctx->artifact, ":devices") != NGX_OK
        || ngx_http_fwgate_registry_key(r, &args[3], "starts:", &model,
                                        &ctx->artifact, NULL) != NGX_OK
        || ngx_http_fwgate_registry_key(r, &args[4], "stats:", &model,
                                        &ctx->artifact, NULL) != NGX_OK)
    {
        return NGX_DECLINED;
    }

    args[2] = fmcf->watch_key;
    args[5].data = (u_char *) ctx->claims.device.data;
    args[5].len = ctx->claims.device.len;
    args[6].data = now;
    args[6].len = ngx_http_fwgate_now(now);
    args[7] = model;
    args[8].data = nums[0];
    args[8].len = ngx_sprintf(nums[0], "%L", starts) - nums[0];
    args[9].data = nums[1];
    args[9].len = ngx_sprintf(nums[1], "%L", in_flight) - nums[1];
    args[10].data = nums[2];
    args[10].len = ngx_sprintf(nums[2], "%L", expiry) - nums[2];
    ngx_str_set(&args[11], "0");

    if (probe) {
        ngx_str_set(&args[11], "1");
    }

    ngx_http_fwgate_eval_argv(argv, argvlen, &ngx_http_fwgate_admit_lua,
                              "5", args, 12);

    /* the reply's record lives outside the pool: the request may go */

    a = ngx_alloc(sizeof(ngx_http_fwgate_admit_t), r->connection->log);
    if (a == NULL) {
        return NGX_DECLINED;
    }

    a->cb.handler = ngx_http_fwgate_admit_done;
    a->ctx = ctx;

    if (ngx_http_fwgate_redis_write(&a->cb, 15, argv, argvlen) != NGX_OK) {
        ngx_free(a);
        return NGX_DECLINED;
    }

    ctx->admit = a;
    ctx->admission = NGX_HTTP_FWGATE_ADMIT_SENT;

    return NGX_AGAIN;
}


void
ngx_http_fwgate_admit_detach(ngx_http_fwgate_ctx_t *ctx)
{
    ngx_http_fwgate_admit_t  *a;

    a = ctx->admit;

    if (a) {
        a->ctx = NULL;
        ctx->admit = NULL;
    }
}


static void
ngx_http_fwgate_admit_done(ngx_http_fwgate_redis_cb_t *cb,
    redisReply *reply)
{
    redisReply               **e;
    ngx_http_fwgate_ctx_t     *ctx;
    ngx_http_fwgate_admit_t   *a;

    a = (ngx_http_fwgate_admit_t *) cb;
    ctx = a->ctx;

    ngx_free(a);

    if (ctx == NULL) {
        /* the request is gone; an admission it won stays recorded */
        return;
    }

    ctx->admit = NULL;
    ctx->admission = NGX_HTTP_FWGATE_ADMIT_FAILED;

    if (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2
        && reply->element[0]->type == REDIS_REPLY_INTEGER
        && reply->element[1]->type == REDIS_REPLY_INTEGER)
    {
        e = reply->element;

        switch (e[0]->integer) {

        case 1:
            ctx->admission = NGX_HTTP_FWGATE_ADMIT_IN;
            break;

        case 2:
            ctx->admission = NGX_HTTP_FWGATE_ADMIT_ROOM;
            break;

        case 0:
            ctx->admission = NGX_HTTP_FWGATE_ADMIT_THROTTLED;
            ctx->retry_after = (e[1]->integer > 0
                                && e[1]->integer < 86400)
                               ? (ngx_uint_t) e[1]->integer : 1;
            break;

        default:
            break;
        }
    }

    if (ctx->waiting && !ctx->resume_ev.posted) {
        ngx_post_event(&ctx->resume_ev, &ngx_posted_events);
    }
}


/* an update check from a device that runs the target: it is alive */

void
ngx_http_fwgate_clear_download(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx)
{
    ngx_str_t    model, key;
    const char  *argv[3];
    size_t       argvlen[3];

    model.data = (u_char *) ctx->device_rec.model.data;
    model.len = ctx->device_rec.model.len;

    if (model.len == 0 || ctx->artifact.len == 0) {
        return;
    }

    if (ngx_http_fwgate_registry_key(r, &key, "downloads:", &model,
                                     &ctx->artifact, NULL)
        != NGX_OK)
    {
        return;
    }

    argv[0] = "ZREM";
    argvlen[0] = 4;
    argv[1] = (const char *) key.data;
    argvlen[1] = key.len;
    argv[2] = ctx->claims.device.data;
    argvlen[2] = ctx->claims.device.len;

    (void) ngx_http_fwgate_redis_forget(3, argv, argvlen);
}


/*
 * Run from the epoch poll, by one worker per node and interval: edges
 * evaluate silence themselves, so no extra service is needed, and the
 * script makes several edges doing it at once harmless.
 */

void
ngx_http_fwgate_silence_poll(ngx_http_fwgate_main_conf_t *fmcf)
{
    ngx_str_t    args[4];
    const char  *argv[7];
    size_t       argvlen[7];
    u_char       now[NGX_HTTP_FWGATE_NOW_LEN];

    if (ngx_http_fwgate_silence_busy || !ngx_http_fwgate_redis_writable()) {
        return;
    }

    ngx_http_fwgate_silence_mcf = fmcf;
    ngx_http_fwgate_silence_cb.handler = ngx_http_fwgate_silence_done;

    args[0] = fmcf->watch_key;
    args[1] = fmcf->epoch_key;
    args[2] = fmcf->prefix;
    args[3].data = now;
    args[3].len = ngx_http_fwgate_now(now);

    ngx_http_fwgate_eval_argv(argv, argvlen, &ngx_http_fwgate_silence_lua,
                              "2", args, 4);

    if (ngx_http_fwgate_redis_write(&ngx_http_fwgate_silence_cb, 7, argv,
                                    argvlen)
        == NGX_OK)
    {
        ngx_http_fwgate_silence_busy = 1;
    }
}


static void
ngx_http_fwgate_silence_done(ngx_http_fwgate_redis_cb_t *cb,
    redisReply *reply)
{
    size_t                        i;
    redisReply                  **e;
    ngx_http_fwgate_main_conf_t  *fmcf;

    ngx_http_fwgate_silence_busy = 0;
    fmcf = ngx_http_fwgate_silence_mcf;

    if (reply == NULL || fmcf == NULL || reply->type != REDIS_REPLY_ARRAY) {
        return;
    }

    e = reply->element;

    for (i = 0; i + 5 <= reply->elements; i += 5) {
        if (e[i]->type != REDIS_REPLY_STRING
            || e[i + 1]->type != REDIS_REPLY_STRING
            || e[i + 2]->type != REDIS_REPLY_INTEGER
            || e[i + 3]->type != REDIS_REPLY_INTEGER
            || e[i + 4]->type != REDIS_REPLY_INTEGER)
        {
            continue;
        }

        (void) ngx_atomic_fetch_add(&fmcf->stats->halts, 1);

        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "fwgate: rollout %*s halted: artifact \"%*s\", "
                      "%L failures and %L silent devices against "
                      "%L successes (silence evaluation)",
                      (size_t) ngx_min(e[i]->len, 64), e[i]->str,
                      (size_t) ngx_min(e[i + 1]->len, 256), e[i + 1]->str,
                      (int64_t) e[i + 3]->integer,
                      (int64_t) e[i + 4]->integer,
                      (int64_t) e[i + 2]->integer);
    }
}
