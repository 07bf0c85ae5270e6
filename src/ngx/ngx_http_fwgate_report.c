
/*
 * fwgate: `fwgate_report`, install reports (docs/update-check.md).
 *
 * A signed POST whose body is {"artifact":..,"status":"success"|"failure",
 * "version":..}.  The device is checked as for a download (steps 1-10);
 * the artifact must exist and list the device's model; the rollout's
 * state does not matter (reports about a halted rollout still count).
 * Then one Lua script records the report and evaluates the rollout's
 * thresholds atomically in Redis (the script is in silence.c, next to the
 * silence evaluation that shares its rule).
 *
 * The script's reply is waited for: a report the registry refused (a
 * read-only replica, Redis down) is answered 503 so the device retries,
 * rather than lost.
 */

#include "ngx_http_fwgate_module.h"
#include "fwg_digest.h"
#include "fwg_report.h"



typedef struct ngx_http_fwgate_report_s  ngx_http_fwgate_report_t;

typedef struct {
    ngx_http_fwgate_redis_cb_t      cb;         /* first: see redis.c */
    ngx_http_fwgate_report_t       *rep;        /* NULL once detached */
} ngx_http_fwgate_report_cmd_t;


struct ngx_http_fwgate_report_s {
    ngx_http_fwgate_ctx_t          *ctx;
    ngx_http_fwgate_report_cmd_t   *cmd;        /* while the script runs */
    ngx_http_fwgate_report_cmd_t   *wait_cmd;   /* while WAIT runs */

    ngx_str_t                       artifact;
    ngx_str_t                       status;     /* "success", "failure" */
    ngx_str_t                       version;
    ngx_uint_t                      failure;
    ngx_uint_t                      code;       /* fwg_report_status_e */

    ngx_uint_t                      replied;
    ngx_uint_t                      replicas;   /* to WAIT for, or 0 */
    ngx_uint_t                      wait_replied;
    int64_t                         acked;      /* replicas that have it */
    ngx_uint_t                      readonly;
    ngx_int_t                       result;     /* NGX_OK, NGX_ERROR */
    int64_t                         counted;
    int64_t                         halted;
    int64_t                         successes;
    int64_t                         failures;
    int64_t                         silent;
    int64_t                         boxed;      /* penalty until, or 0 */
};


static void ngx_http_fwgate_report_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_fwgate_report_run(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx, ngx_http_fwgate_loc_conf_t *lcf);
static ngx_int_t ngx_http_fwgate_report_send(ngx_http_request_t *r,
    ngx_http_fwgate_report_t *rep);
static void ngx_http_fwgate_report_done(ngx_http_fwgate_redis_cb_t *cb,
    redisReply *reply);
static void ngx_http_fwgate_report_waited(ngx_http_fwgate_redis_cb_t *cb,
    redisReply *reply);
static void ngx_http_fwgate_report_resume(ngx_http_fwgate_report_t *rep);
static ngx_http_fwgate_report_cmd_t *ngx_http_fwgate_report_write(
    ngx_http_request_t *r, ngx_http_fwgate_report_t *rep,
    ngx_http_fwgate_redis_handler_pt handler, int argc, const char **argv,
    const size_t *argvlen);
static ngx_http_fwgate_report_t *ngx_http_fwgate_report_take(
    ngx_http_fwgate_redis_cb_t *cb);
static ngx_int_t ngx_http_fwgate_report_answer(ngx_http_request_t *r,
    ngx_http_fwgate_report_t *rep, ngx_http_fwgate_loc_conf_t *lcf);
static ngx_int_t ngx_http_fwgate_report_reject(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx, ngx_http_fwgate_loc_conf_t *lcf,
    ngx_int_t status, const char *why, const char *detail);
static void ngx_http_fwgate_report_cleanup(void *data);
static ngx_int_t ngx_http_fwgate_report_read(ngx_http_request_t *r,
    ngx_http_fwgate_loc_conf_t *lcf, ngx_str_t *body);
static const char *ngx_http_fwgate_report_read_json(ngx_http_request_t *r,
    ngx_str_t *body, ngx_http_fwgate_report_t *rep);
static const char *ngx_http_fwgate_report_digest(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx, ngx_str_t *body);


ngx_int_t
ngx_http_fwgate_report_handler(ngx_http_request_t *r)
{
    ngx_int_t                     rc;
    ngx_pool_cleanup_t           *cln;
    ngx_http_fwgate_ctx_t        *ctx;
    ngx_http_fwgate_report_t     *rep;
    ngx_http_fwgate_loc_conf_t   *lcf;
    ngx_http_fwgate_main_conf_t  *fmcf;

    if (!(r->method & NGX_HTTP_POST)) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_fwgate_module);
    fmcf = ngx_http_get_module_main_conf(r, ngx_http_fwgate_module);

    if (r->headers_in.content_length_n > (off_t) lcf->report_max_body) {
        (void) ngx_atomic_fetch_add(&fmcf->stats->reports[2], 1);
        return NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
    }

    ctx = ngx_http_fwgate_content_ctx(r, ngx_http_fwgate_report_run);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rep = ngx_pcalloc(r->pool, sizeof(ngx_http_fwgate_report_t));
    if (rep == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rep->ctx = ctx;
    rep->replicas = lcf->report_replicas;
    ctx->data = rep;

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_fwgate_report_cleanup;
    cln->data = rep;

    /* steps 1-5 need no body: refuse what is not signed before reading */

    rc = ngx_http_fwgate_check_request(r, ctx, lcf);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc != NGX_OK) {
        (void) ngx_atomic_fetch_add(&fmcf->stats->reports[2], 1);
        return ngx_http_fwgate_finish(r, ctx, lcf, 1);
    }

    rc = ngx_http_read_client_request_body(r, ngx_http_fwgate_report_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


/*
 * The body is in.  ngx_http_read_client_request_body() took a reference
 * on the request for us: finalizing (now or after the Redis wait) drops
 * it.
 */

static void
ngx_http_fwgate_report_body(ngx_http_request_t *r)
{
    ngx_int_t                     rc;
    ngx_str_t                     body;
    const char                   *err, *what;
    ngx_http_fwgate_ctx_t        *ctx;
    ngx_http_fwgate_report_t     *rep;
    ngx_http_fwgate_loc_conf_t   *lcf;
    ngx_http_fwgate_main_conf_t  *fmcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_fwgate_module);
    fmcf = ngx_http_get_module_main_conf(r, ngx_http_fwgate_module);
    ctx = ngx_http_get_module_ctx(r, ngx_http_fwgate_module);

    if (ctx == NULL || ctx->data == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    rep = ctx->data;

    rc = ngx_http_fwgate_report_read(r, lcf, &body);

    if (rc != NGX_OK) {
        (void) ngx_atomic_fetch_add(&fmcf->stats->reports[2], 1);
        ngx_http_finalize_request(r, rc);
        return;
    }

    ctx->body = body;

    /* the digest before the JSON: a report failing both is bad_digest */

    what = "bad_digest";
    err = ngx_http_fwgate_report_digest(r, ctx, &body);

    if (err == NULL) {
        what = "bad_report";
        err = ngx_http_fwgate_report_read_json(r, &body, rep);
    }

    if (err) {
        rc = ngx_http_fwgate_report_reject(r, ctx, lcf,
                                           NGX_HTTP_BAD_REQUEST, what, err);
        ngx_http_finalize_request(r, rc);
        return;
    }

    rc = ngx_http_fwgate_report_run(r, ctx, lcf);

    if (rc == NGX_AGAIN) {
        return;
    }

    ngx_http_finalize_request(r, rc);
}


static ngx_int_t
ngx_http_fwgate_report_run(ngx_http_request_t *r, ngx_http_fwgate_ctx_t *ctx,
    ngx_http_fwgate_loc_conf_t *lcf)
{
    int                           step;
    ngx_str_t                     device;
    ngx_uint_t                    err;
    ngx_http_fwgate_report_t     *rep;
    ngx_http_fwgate_main_conf_t  *fmcf;

    fmcf = ngx_http_get_module_main_conf(r, ngx_http_fwgate_module);
    rep = ctx->data;

    if (ctx->stage == 1) {
        return ngx_http_fwgate_report_answer(r, rep, lcf);
    }

    /* the device and the reported artifact, in one round trip */

    device.data = (u_char *) ctx->claims.device.data;
    device.len = ctx->claims.device.len;

    err = (ngx_http_fwgate_need_key(r, ctx, NGX_HTTP_FWGATE_SLOT_DEVICE,
                                    "device:", &device, NULL)
           == NGX_ERROR);

    err |= (ngx_http_fwgate_need_key(r, ctx, NGX_HTTP_FWGATE_SLOT_ARTIFACT,
                                     "artifact:", &rep->artifact, NULL)
            == NGX_ERROR);

    if (err) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx->pending) {
        return ngx_http_fwgate_wait(r, ctx);
    }

    ctx->artifact = rep->artifact;

    if (ngx_http_fwgate_records(r, ctx) != NGX_OK) {
        ctx->reason = FWG_R_REGISTRY_UNAVAILABLE;
        (void) ngx_atomic_fetch_add(&fmcf->stats->reports[2], 1);
        return ngx_http_fwgate_finish(r, ctx, lcf, 1);
    }

    /*
     * Steps 6-12 decide; the rollout slot is left empty, so the decision
     * goes on to not_released, which a report ignores: whatever the
     * rollout's state, the device installed this artifact.
     */

    ngx_http_fwgate_decide(r, ctx, lcf);

    step = fwg_reason_step(ctx->reason);

    if (ctx->reason == FWG_R_REGISTRY_UNAVAILABLE
        || (step >= 1 && step <= 10))
    {
        (void) ngx_atomic_fetch_add(&fmcf->stats->reports[2], 1);
        return ngx_http_fwgate_finish(r, ctx, lcf, 1);
    }

    if (ctx->reason == FWG_R_UNKNOWN_ARTIFACT
        || ctx->reason == FWG_R_INCOMPATIBLE)
    {
        return ngx_http_fwgate_report_reject(r, ctx, lcf,
                                             NGX_HTTP_BAD_REQUEST,
                                             fwg_reason_name(ctx->reason),
                                             ctx->verdict.detail);
    }

    ctx->reason = FWG_R_OK;
    ctx->stage = 1;

    if (ngx_http_fwgate_report_send(r, rep) != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "fwgate: report from \"%*s\" not recorded: no redis "
                      "server accepts writes",
                      ctx->claims.device.len, ctx->claims.device.data);

        ctx->reason = FWG_R_REGISTRY_UNAVAILABLE;
        (void) ngx_atomic_fetch_add(&fmcf->stats->reports[2], 1);
        return ngx_http_fwgate_finish(r, ctx, lcf, 1);
    }

    return ngx_http_fwgate_wait(r, ctx);
}


static ngx_int_t
ngx_http_fwgate_report_send(ngx_http_request_t *r,
    ngx_http_fwgate_report_t *rep)
{
    ngx_str_t                      model, device, args[14];
    const char                    *argv[17];
    size_t                         argvlen[17];
    ngx_http_fwgate_ctx_t         *ctx;
    ngx_http_fwgate_main_conf_t   *fmcf;
    u_char                         now[NGX_HTTP_FWGATE_NOW_LEN];
    u_char                         nwait[NGX_INT_T_LEN];
    u_char                         wtimeout[NGX_INT_T_LEN];

    ctx = rep->ctx;

    model.data = (u_char *) ctx->device_rec.model.data;
    model.len = ctx->device_rec.model.len;
    device.data = (u_char *) ctx->claims.device.data;
    device.len = ctx->claims.device.len;

    if (ngx_http_fwgate_registry_key(r, &args[0], "stats:", &model,
                                     &rep->artifact, NULL) != NGX_OK
        || ngx_http_fwgate_registry_key(r, &args[1], "stats:", &model,
                                        &rep->artifact, ":devices") != NGX_OK
        || ngx_http_fwgate_registry_key(r, &args[2], "downloads:", &model,
                                        &rep->artifact, NULL) != NGX_OK
        || ngx_http_fwgate_registry_key(r, &args[3], "rollout:", &model,
                                        NULL, ":halt") != NGX_OK
        || ngx_http_fwgate_registry_key(r, &args[11], "rollout:", &model,
                                        NULL, NULL) != NGX_OK
        || ngx_http_fwgate_registry_key(r, &args[12], "device:", &device,
                                        NULL, NULL) != NGX_OK
        || ngx_http_fwgate_registry_key(r, &args[13], "devfail:", &model,
                                        &rep->artifact, NULL) != NGX_OK)
    {
        return NGX_ERROR;
    }

    fmcf = ngx_http_get_module_main_conf(r, ngx_http_fwgate_module);
    args[4] = fmcf->epoch_key;
    args[5] = fmcf->watch_key;
    args[6] = device;
    args[7] = rep->status;
    args[8] = rep->artifact;
    args[9].data = now;
    args[9].len = ngx_http_fwgate_now(now);
    args[10] = model;

    ngx_http_fwgate_eval_argv(argv, argvlen, &ngx_http_fwgate_report_lua,
                              "6", args, 14);

    /* NULL when no server is a primary: refused (503), not lost */

    rep->cmd = ngx_http_fwgate_report_write(r, rep,
                                            ngx_http_fwgate_report_done,
                                            17, argv, argvlen);
    if (rep->cmd == NULL) {
        return NGX_DECLINED;
    }

    if (rep->replicas == 0) {
        return NGX_OK;
    }

    /*
     * fwgate_report replicas=N: replication is asynchronous, so a primary
     * that dies right after answering takes the report with it.  WAIT,
     * right behind the script on the same connection, says how many
     * replicas have it; fewer than N and the device gets a 503 and
     * retries (a retried report counts once).
     */

    argv[0] = "WAIT";
    argvlen[0] = 4;
    argv[1] = (const char *) nwait;
    argvlen[1] = ngx_sprintf(nwait, "%ui", rep->replicas) - nwait;
    argv[2] = (const char *) wtimeout;
    argvlen[2] = ngx_sprintf(wtimeout, "%M",
                             ngx_max(fmcf->timeout * 3 / 4, 1))
                 - wtimeout;

    rep->wait_cmd = ngx_http_fwgate_report_write(r, rep,
                                                 ngx_http_fwgate_report_waited,
                                                 3, argv, argvlen);
    if (rep->wait_cmd == NULL) {
        /* not confirmed: answered 503, the device retries */
        rep->wait_replied = 1;
        rep->acked = -1;
    }

    return NGX_OK;
}


/* a command on the write connection whose reply comes back to rep */

static ngx_http_fwgate_report_cmd_t *
ngx_http_fwgate_report_write(ngx_http_request_t *r,
    ngx_http_fwgate_report_t *rep, ngx_http_fwgate_redis_handler_pt handler,
    int argc, const char **argv, const size_t *argvlen)
{
    ngx_http_fwgate_report_cmd_t  *cmd;

    cmd = ngx_alloc(sizeof(ngx_http_fwgate_report_cmd_t),
                    r->connection->log);
    if (cmd == NULL) {
        return NULL;
    }

    cmd->cb.handler = handler;
    cmd->rep = rep;

    if (ngx_http_fwgate_redis_write(&cmd->cb, argc, argv, argvlen)
        != NGX_OK)
    {
        ngx_free(cmd);
        return NULL;
    }

    return cmd;
}


/* a reply's report, or NULL when its request is gone */

static ngx_http_fwgate_report_t *
ngx_http_fwgate_report_take(ngx_http_fwgate_redis_cb_t *cb)
{
    ngx_http_fwgate_report_t      *rep;
    ngx_http_fwgate_report_cmd_t  *cmd;

    cmd = (ngx_http_fwgate_report_cmd_t *) cb;
    rep = cmd->rep;

    ngx_free(cmd);

    return rep;
}


static void
ngx_http_fwgate_report_waited(ngx_http_fwgate_redis_cb_t *cb,
    redisReply *reply)
{
    ngx_http_fwgate_report_t  *rep;

    rep = ngx_http_fwgate_report_take(cb);
    if (rep == NULL) {
        return;
    }

    rep->wait_cmd = NULL;
    rep->wait_replied = 1;
    rep->acked = (reply && reply->type == REDIS_REPLY_INTEGER)
                 ? (int64_t) reply->integer : -1;

    ngx_http_fwgate_report_resume(rep);
}


/* both replies in (the script's, and WAIT's when asked for): resume */

static void
ngx_http_fwgate_report_resume(ngx_http_fwgate_report_t *rep)
{
    ngx_http_fwgate_ctx_t  *ctx;

    if (!rep->replied || (rep->replicas && !rep->wait_replied)) {
        return;
    }

    ctx = rep->ctx;

    if (ctx->waiting && !ctx->resume_ev.posted) {
        ngx_post_event(&ctx->resume_ev, &ngx_posted_events);
    }
}


static void
ngx_http_fwgate_report_done(ngx_http_fwgate_redis_cb_t *cb,
    redisReply *reply)
{
    ngx_uint_t                 i;
    redisReply                *e;
    ngx_http_fwgate_report_t  *rep;
    int64_t                    v[6];

    rep = ngx_http_fwgate_report_take(cb);
    if (rep == NULL) {
        /* the request is gone; the report was recorded or not, as Redis
         * decided: the device will repeat it and count once */
        return;
    }

    rep->cmd = NULL;
    rep->replied = 1;
    rep->result = NGX_ERROR;

    if (reply && reply->type == REDIS_REPLY_ERROR) {
        rep->readonly = (reply->len >= 8
                         && ngx_strncmp(reply->str, "READONLY", 8) == 0);

    } else if (reply && reply->type == REDIS_REPLY_ARRAY
               && reply->elements == 6)
    {
        for (i = 0; i < 6; i++) {
            e = reply->element[i];

            if (e == NULL || e->type != REDIS_REPLY_INTEGER) {
                break;
            }

            v[i] = (int64_t) e->integer;
        }

        if (i == 6) {
            rep->counted = v[0];
            rep->halted = v[1];
            rep->successes = v[2];
            rep->failures = v[3];
            rep->silent = v[4];
            rep->boxed = v[5];
            rep->result = NGX_OK;
        }
    }

    ngx_http_fwgate_report_resume(rep);
}


static ngx_int_t
ngx_http_fwgate_report_answer(ngx_http_request_t *r,
    ngx_http_fwgate_report_t *rep, ngx_http_fwgate_loc_conf_t *lcf)
{
    ngx_str_t                     v;
    ngx_http_fwgate_ctx_t        *ctx;
    ngx_http_fwgate_main_conf_t  *fmcf;

    fmcf = ngx_http_get_module_main_conf(r, ngx_http_fwgate_module);
    ctx = rep->ctx;

    /* timed out: a reply that ever comes finds nobody */

    ngx_http_fwgate_report_cleanup(rep);

    if (rep->replied && rep->result == NGX_OK && rep->replicas
        && rep->counted >= 0
        && (!rep->wait_replied || rep->acked < (int64_t) rep->replicas))
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "fwgate: report from \"%*s\" not confirmed: %L of "
                      "%ui replicas have it", ctx->claims.device.len,
                      ctx->claims.device.data,
                      rep->wait_replied ? rep->acked : 0, rep->replicas);

        ctx->reason = FWG_R_REGISTRY_UNAVAILABLE;
        (void) ngx_atomic_fetch_add(&fmcf->stats->reports[2], 1);

        return ngx_http_fwgate_finish(r, ctx, lcf, 1);
    }

    if (!rep->replied || rep->result != NGX_OK) {

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "fwgate: report from \"%*s\" not recorded: %s",
                      ctx->claims.device.len, ctx->claims.device.data,
                      !rep->replied ? "timed out"
                      : rep->readonly ? "redis is a read-only replica"
                      : "redis error");

        ctx->reason = FWG_R_REGISTRY_UNAVAILABLE;
        (void) ngx_atomic_fetch_add(&fmcf->stats->reports[2], 1);

        return ngx_http_fwgate_finish(r, ctx, lcf, 1);
    }

    if (rep->counted < 0) {
        return ngx_http_fwgate_report_reject(r, ctx, lcf, NGX_HTTP_FORBIDDEN,
                                             "not_served",
                                             "the rollout never served "
                                             "this device the artifact");
    }

    (void) ngx_atomic_fetch_add(
               &fmcf->stats->reports[rep->code == FWG_REPORT_SUCCESS ? 0
                                     : rep->code == FWG_REPORT_FAILURE ? 1
                                     : rep->code + 1], 1);

    if (rep->boxed) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "fwgate: device \"%*s\" in the penalty box for "
                      "artifact \"%V\" until %L (failure reports)",
                      ctx->claims.device.len, ctx->claims.device.data,
                      &rep->artifact, rep->boxed);
    }

    if (rep->halted) {
        (void) ngx_atomic_fetch_add(&fmcf->stats->halts, 1);

        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "fwgate: rollout %*s halted: artifact \"%V\", "
                      "%L failures and %L silent devices against %L "
                      "successes (report from \"%*s\")",
                      ctx->device_rec.model.len, ctx->device_rec.model.data,
                      &rep->artifact, rep->failures, rep->silent,
                      rep->successes,
                      ctx->claims.device.len, ctx->claims.device.data);
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "fwgate report: %V %V counted:%L",
                   &rep->artifact, &rep->status, rep->counted);

    ctx->done = 1;
    ngx_http_fwgate_set_variables(r, ctx);

    if (lcf->expose_reason) {
        ngx_str_set(&v, "ok");

        if (ngx_http_fwgate_header_out(r, "X-Fwgate-Reason", &v) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    return NGX_HTTP_NO_CONTENT;
}


/* a refusal about the report itself, not the device: 4xx and its reason */

static ngx_int_t
ngx_http_fwgate_report_reject(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx, ngx_http_fwgate_loc_conf_t *lcf,
    ngx_int_t status, const char *why, const char *detail)
{
    ngx_str_t                     v;
    ngx_http_fwgate_main_conf_t  *fmcf;

    fmcf = ngx_http_get_module_main_conf(r, ngx_http_fwgate_module);

    (void) ngx_atomic_fetch_add(&fmcf->stats->reports[2], 1);

    /* details are fixed strings, never request bytes */

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "fwgate: report refused reason=%s device=\"%*s\"%s%s",
                  why, ctx->claims.device.len, ctx->claims.device.data,
                  detail ? " detail: " : "", detail ? detail : "");

    ctx->done = 1;

    if (ctx->reason == FWG_R_UNKNOWN_ARTIFACT
        || ctx->reason == FWG_R_INCOMPATIBLE)
    {
        ngx_http_fwgate_set_variables(r, ctx);

    } else {
        /* not a reason of the decision: leave $fwgate_* undecided */
        ctx->reason = FWG_R__COUNT;
    }

    if (lcf->expose_reason) {
        v.data = (u_char *) why;
        v.len = ngx_strlen(why);

        if (ngx_http_fwgate_header_out(r, "X-Fwgate-Reason", &v) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    return status;
}


/* detaches the commands still on their way (the request's cleanup too) */

static void
ngx_http_fwgate_report_cleanup(void *data)
{
    ngx_http_fwgate_report_t *rep = data;

    if (rep->cmd) {
        rep->cmd->rep = NULL;
        rep->cmd = NULL;
    }

    if (rep->wait_cmd) {
        rep->wait_cmd->rep = NULL;
        rep->wait_cmd = NULL;
    }
}


/* the body in one piece; a large client_body_buffer_size aside, small */

static ngx_int_t
ngx_http_fwgate_report_read(ngx_http_request_t *r,
    ngx_http_fwgate_loc_conf_t *lcf, ngx_str_t *body)
{
    u_char       *p;
    size_t        len, size;
    ssize_t       n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    ngx_str_null(body);

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return NGX_OK;
    }

    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        len += ngx_buf_size(cl->buf);

        if (len > lcf->report_max_body) {
            return NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
        }
    }

    p = ngx_pnalloc(r->pool, len + 1);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    body->data = p;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;
        size = ngx_buf_size(b);

        if (ngx_buf_in_memory(b)) {
            p = ngx_cpymem(p, b->pos, size);
            continue;
        }

        if (b->in_file && b->file) {
            n = ngx_read_file(b->file, p, size, b->file_pos);

            if (n != (ssize_t) size) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            p += size;
        }
    }

    body->len = p - body->data;

    return NGX_OK;
}


/*
 * RFC 9530: a Content-Digest sent with the report must match the body, so
 * that a signature covering content-digest covers the body too.  Several
 * field lines are combined as RFC 9110 says.  NULL when absent or good.
 */

static const char *
ngx_http_fwgate_report_digest(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx, ngx_str_t *body)
{
    u_char       *mem;
    fwg_str_t     v;
    fwg_arena_t   a;
    const char   *err;

    mem = ngx_palloc(r->pool, 5 * 4096);
    if (mem == NULL) {
        return "out of memory";
    }

    fwg_arena_init(&a, mem, 5 * 4096);

    switch (fwg_field_combine(&ctx->msg, "content-digest",
                              sizeof("content-digest") - 1, 4096, &a, &v))
    {
    case 0:
        return NULL;

    case -1:
        return "Content-Digest too large";

    default:
        break;
    }

    err = "malformed Content-Digest";

    if (fwg_content_digest_check(v.data, v.len, body->data, body->len, &a,
                                 &err)
        == 1)
    {
        return NULL;
    }

    return err;
}


/*
 * The body as a report, read by the core's strict JSON reader
 * (src/core/fwg_report.c, unit-tested and fuzzed).  Returns NULL or what
 * is wrong, a fixed string for the log.
 */

static const char *
ngx_http_fwgate_report_read_json(ngx_http_request_t *r, ngx_str_t *body,
    ngx_http_fwgate_report_t *rep)
{
    u_char        *mem;
    size_t         size;
    fwg_arena_t    a;
    const char    *err;
    fwg_report_t   frep;

    size = body->len + FWG_REPORT_ARENA_EXTRA;

    mem = ngx_palloc(r->pool, size);
    if (mem == NULL) {
        return "out of memory";
    }

    fwg_arena_init(&a, mem, size);

    err = fwg_report_parse((const char *) body->data, body->len, &a, &frep);
    if (err) {
        return err;
    }

    rep->artifact.data = (u_char *) frep.artifact.data;
    rep->artifact.len = frep.artifact.len;
    rep->status.data = (u_char *) frep.status.data;
    rep->status.len = frep.status.len;
    rep->version.data = (u_char *) frep.version.data;
    rep->version.len = frep.version.len;
    rep->failure = (frep.status_code == FWG_REPORT_FAILURE);
    rep->code = frep.status_code;

    return NULL;
}
