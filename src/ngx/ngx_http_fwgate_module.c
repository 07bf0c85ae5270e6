
/*
 * fwgate: firmware compatibility enforcement at the edge.
 *
 * This file holds the directives, their configuration, and the module's
 * life cycle (zones, the per-worker Redis connection, the epoch poll).
 * The gate itself is in ngx_http_fwgate_gate.c; the decision in the core
 * library (src/core/fwg_decide.c), shared with fwgatectl.
 */

#include "ngx_http_fwgate_module.h"
#include "fwg_cohort.h"
#include "fwg_sf.h"


static void *ngx_http_fwgate_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_fwgate_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_fwgate_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_fwgate_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_fwgate_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_fwgate_postconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_fwgate_fixed_key(ngx_conf_t *cf, ngx_str_t *key,
    ngx_str_t *prefix, const char *name);
static ngx_int_t ngx_http_fwgate_init_process(ngx_cycle_t *cycle);
static void ngx_http_fwgate_exit_process(ngx_cycle_t *cycle);

static char *ngx_http_fwgate_redis(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_fwgate_password_file(ngx_conf_t *cf,
    ngx_str_t *name, ngx_str_t *password);
static char *ngx_http_fwgate_cache(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_fwgate_replay_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_fwgate_components(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_fwgate_algorithms(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_fwgate_seconds(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_fwgate_label(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_fwgate_content(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_fwgate_identifier(ngx_conf_t *cf, ngx_str_t *v);
static char *ngx_http_fwgate_zone_arg(ngx_conf_t *cf, ngx_str_t *value,
    ngx_str_t *name, size_t *size);

static void ngx_http_fwgate_poll_handler(ngx_event_t *ev);
static void ngx_http_fwgate_role_reply(ngx_http_fwgate_redis_cb_t *cb,
    redisReply *reply);
static void ngx_http_fwgate_epoch_get(ngx_http_fwgate_main_conf_t *fmcf);
static void ngx_http_fwgate_epoch_reply(ngx_http_fwgate_redis_cb_t *cb,
    redisReply *reply);


static ngx_command_t  ngx_http_fwgate_commands[] = {

    { ngx_string("fwgate_redis"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_fwgate_redis,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("fwgate_cache"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_fwgate_cache,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("fwgate_replay_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_fwgate_replay_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("fwgate"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fwgate_loc_conf_t, enable),
      NULL },

    { ngx_string("fwgate_artifact"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fwgate_loc_conf_t, artifact),
      NULL },

    { ngx_string("fwgate_signature_label"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_fwgate_label,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("fwgate_required_components"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_fwgate_components,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("fwgate_algorithms"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_fwgate_algorithms,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("fwgate_max_age"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_fwgate_seconds,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fwgate_loc_conf_t, max_age),
      NULL },

    { ngx_string("fwgate_clock_skew"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_fwgate_seconds,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fwgate_loc_conf_t, clock_skew),
      NULL },

    { ngx_string("fwgate_require_nonce"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fwgate_loc_conf_t, require_nonce),
      NULL },

    { ngx_string("fwgate_expose_reason"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fwgate_loc_conf_t, expose_reason),
      NULL },

    { ngx_string("fwgate_max_staleness"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_fwgate_main_conf_t, max_staleness),
      NULL },

    { ngx_string("fwgate_dry_run"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fwgate_loc_conf_t, dry_run),
      NULL },

    { ngx_string("fwgate_match_path"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fwgate_loc_conf_t, match_path),
      NULL },

    { ngx_string("fwgate_manifest"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS|NGX_CONF_TAKE1,
      ngx_http_fwgate_content,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_HTTP_FWGATE_HANDLER_MANIFEST,
      NULL },

    { ngx_string("fwgate_report"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS|NGX_CONF_TAKE1,
      ngx_http_fwgate_content,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_HTTP_FWGATE_HANDLER_REPORT,
      NULL },

    { ngx_string("fwgate_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_fwgate_content,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_HTTP_FWGATE_HANDLER_STATUS,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_fwgate_module_ctx = {
    ngx_http_fwgate_preconfiguration,      /* preconfiguration */
    ngx_http_fwgate_postconfiguration,     /* postconfiguration */

    ngx_http_fwgate_create_main_conf,      /* create main configuration */
    ngx_http_fwgate_init_main_conf,        /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_fwgate_create_loc_conf,       /* create location configuration */
    ngx_http_fwgate_merge_loc_conf         /* merge location configuration */
};


ngx_module_t  ngx_http_fwgate_module = {
    NGX_MODULE_V1,
    &ngx_http_fwgate_module_ctx,           /* module context */
    ngx_http_fwgate_commands,              /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_fwgate_init_process,          /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_fwgate_exit_process,          /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_str_t  ngx_http_fwgate_default_components[] = {
    ngx_string("@method"),
    ngx_string("@path"),
    ngx_string("x-device-model"),
    ngx_string("x-firmware-version")
};


static ngx_event_t                   ngx_http_fwgate_poll_ev;
static ngx_http_fwgate_redis_cb_t    ngx_http_fwgate_epoch_cb;
static ngx_http_fwgate_redis_cb_t    ngx_http_fwgate_role_cb;
static ngx_uint_t                    ngx_http_fwgate_poll_role;
static ngx_uint_t                    ngx_http_fwgate_epoch_busy;
static ngx_uint_t                    ngx_http_fwgate_epoch_pushed;
static ngx_uint_t                    ngx_http_fwgate_epoch_again;
static ngx_http_fwgate_main_conf_t  *ngx_http_fwgate_mcf;


static void *
ngx_http_fwgate_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_fwgate_main_conf_t  *fmcf;

    fmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_fwgate_main_conf_t));
    if (fmcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     fmcf->password = { 0, NULL };
     *     fmcf->user = { 0, NULL };
     *     fmcf->cache_zone = NULL;
     *     fmcf->replay_zone = NULL;
     */

    if (ngx_array_init(&fmcf->servers, cf->pool, 2,
                       sizeof(ngx_http_fwgate_server_t))
        != NGX_OK
        || ngx_array_init(&fmcf->sentinels, cf->pool, 3,
                          sizeof(ngx_http_fwgate_server_t))
           != NGX_OK)
    {
        return NULL;
    }

    fmcf->db = NGX_CONF_UNSET;
    fmcf->connect_timeout = NGX_CONF_UNSET_MSEC;
    fmcf->timeout = NGX_CONF_UNSET_MSEC;
    fmcf->ttl = NGX_CONF_UNSET_MSEC;
    fmcf->stale = NGX_CONF_UNSET_MSEC;
    fmcf->negative_ttl = NGX_CONF_UNSET_MSEC;
    fmcf->poll = NGX_CONF_UNSET_MSEC;
    fmcf->max_staleness = NGX_CONF_UNSET_MSEC;
    fmcf->stats = ngx_http_fwgate_local_stats_get();

    return fmcf;
}


static ngx_int_t
ngx_http_fwgate_fixed_key(ngx_conf_t *cf, ngx_str_t *key, ngx_str_t *prefix,
    const char *name)
{
    size_t  n;

    n = ngx_strlen(name);

    key->len = prefix->len + n;
    key->data = ngx_pnalloc(cf->pool, key->len);
    if (key->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(ngx_cpymem(key->data, prefix->data, prefix->len), name, n);

    return NGX_OK;
}


static char *
ngx_http_fwgate_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_fwgate_main_conf_t  *fmcf = conf;

    ngx_conf_init_value(fmcf->db, 0);
    ngx_conf_init_msec_value(fmcf->connect_timeout, 1000);
    ngx_conf_init_msec_value(fmcf->timeout, 1000);
    ngx_conf_init_msec_value(fmcf->ttl, 60000);
    ngx_conf_init_msec_value(fmcf->stale, 300000);
    ngx_conf_init_msec_value(fmcf->negative_ttl, 5000);
    ngx_conf_init_msec_value(fmcf->poll, 1000);
    ngx_conf_init_msec_value(fmcf->max_staleness, 0);

    if (fmcf->prefix.data == NULL) {
        ngx_str_set(&fmcf->prefix, "fwgate:");
    }

    /* the registry's fixed keys, made once rather than on each use */

    if (ngx_http_fwgate_fixed_key(cf, &fmcf->epoch_key, &fmcf->prefix,
                                  "epoch") != NGX_OK
        || ngx_http_fwgate_fixed_key(cf, &fmcf->watch_key, &fmcf->prefix,
                                     "rollouts:watch") != NGX_OK
        || ngx_http_fwgate_fixed_key(cf, &fmcf->invalidate_key,
                                     &fmcf->prefix, "invalidate") != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (fmcf->max_staleness) {
        if (fmcf->cache_zone == NULL) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "\"fwgate_max_staleness\" needs \"fwgate_cache\": "
                          "the cache zone keeps when the registry was last "
                          "confirmed fresh");
            return NGX_CONF_ERROR;
        }

        if (fmcf->max_staleness <= (fmcf->poll ? fmcf->poll : 1)) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "\"fwgate_max_staleness\" %M must be longer than "
                          "the cache's poll interval %M", fmcf->max_staleness,
                          fmcf->poll);
            return NGX_CONF_ERROR;
        }
    }

    if (fmcf->poll == 0) {
        fmcf->poll = 1;
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_fwgate_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_fwgate_loc_conf_t  *flcf;

    flcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_fwgate_loc_conf_t));
    if (flcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     flcf->artifact = NULL;
     *     flcf->label = { 0, NULL };
     *     flcf->required = NULL;
     *     flcf->handler = NGX_HTTP_FWGATE_HANDLER_NONE;
     *     flcf->base_url = { 0, NULL };
     */

    flcf->enable = NGX_CONF_UNSET;
    flcf->algs = NGX_CONF_UNSET_UINT;
    flcf->max_age = NGX_CONF_UNSET;
    flcf->clock_skew = NGX_CONF_UNSET;
    flcf->require_nonce = NGX_CONF_UNSET;
    flcf->expose_reason = NGX_CONF_UNSET;
    flcf->match_path = NGX_CONF_UNSET;
    flcf->dry_run = NGX_CONF_UNSET;
    flcf->report_max_body = NGX_CONF_UNSET_SIZE;

    return flcf;
}


static char *
ngx_http_fwgate_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_fwgate_loc_conf_t *prev = parent;
    ngx_http_fwgate_loc_conf_t *conf = child;

    u_char                       *p;
    ngx_str_t                    *c;
    ngx_uint_t                    i, n;
    fwg_policy_t                 *pol;
    ngx_http_fwgate_main_conf_t  *fmcf;

    ngx_conf_merge_value(conf->enable, prev->enable, 0);
    ngx_conf_merge_uint_value(conf->algs, prev->algs,
                              (1 << FWG_ALG_ED25519)
                              | (1 << FWG_ALG_ECDSA_P256_SHA256)
                              | (1 << FWG_ALG_HMAC_SHA256));
    ngx_conf_merge_sec_value(conf->max_age, prev->max_age, 300);
    ngx_conf_merge_sec_value(conf->clock_skew, prev->clock_skew, 30);
    ngx_conf_merge_value(conf->require_nonce, prev->require_nonce, 0);
    ngx_conf_merge_value(conf->expose_reason, prev->expose_reason, 0);
    ngx_conf_merge_value(conf->match_path, prev->match_path, 1);
    ngx_conf_merge_value(conf->dry_run, prev->dry_run, 0);
    ngx_conf_merge_str_value(conf->label, prev->label, "");
    ngx_conf_merge_size_value(conf->report_max_body, prev->report_max_body,
                              4096);

    if (conf->artifact == NULL) {
        conf->artifact = prev->artifact;
    }

    if (conf->required == NULL) {
        conf->required = prev->required;
    }

    fmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_fwgate_module);

    if ((conf->enable || conf->handler == NGX_HTTP_FWGATE_HANDLER_MANIFEST
         || conf->handler == NGX_HTTP_FWGATE_HANDLER_REPORT)
        && !ngx_http_fwgate_has_redis(fmcf))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "fwgate needs a registry: no \"fwgate_redis\" "
                           "is configured");
        return NGX_CONF_ERROR;
    }

    if (conf->enable || conf->handler) {
        fmcf->enabled_somewhere = 1;
    }

    /* compile the policy once, here, rather than per request */

    pol = &conf->policy;
    fwg_policy_default(pol);

    pol->label.data = (const char *) conf->label.data;
    pol->label.len = conf->label.len;
    pol->algs = (unsigned) conf->algs;
    pol->max_age = conf->max_age;
    pol->clock_skew = conf->clock_skew;
    pol->require_nonce = conf->require_nonce;

    if (conf->required) {
        c = conf->required->elts;
        n = conf->required->nelts;

    } else {
        c = ngx_http_fwgate_default_components;
        n = sizeof(ngx_http_fwgate_default_components) / sizeof(ngx_str_t);
    }

    pol->nrequired = n;

    for (i = 0; i < n; i++) {
        pol->required[i].data = (const char *) c[i].data;
        pol->required[i].len = c[i].len;
    }

    /*
     * A report means its body: whatever else is required, the signature
     * must cover content-digest, and the report handler checks that
     * Content-Digest is the body's (RFC 9530).
     */

    if (conf->handler == NGX_HTTP_FWGATE_HANDLER_REPORT) {
        for (i = 0; i < n; i++) {
            if (c[i].len == sizeof("content-digest") - 1
                && ngx_strncasecmp(c[i].data, (u_char *) "content-digest",
                                   c[i].len) == 0)
            {
                break;
            }
        }

        if (i == n) {
            if (n == FWG_MAX_REQUIRED) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "fwgate_report: too many required "
                                   "components to add \"content-digest\"");
                return NGX_CONF_ERROR;
            }

            pol->required[n].data = "content-digest";
            pol->required[n].len = sizeof("content-digest") - 1;
            pol->nrequired = n + 1;
        }
    }

    /* Accept-Signature for 401 missing_signature, RFC 9421 section 5.1 */

    n = pol->nrequired;
    conf->accept_signature.len = sizeof("fw=()") - 1 + 8 * n;

    for (i = 0; i < n; i++) {
        conf->accept_signature.len += pol->required[i].len + 3;
    }

    p = ngx_pnalloc(cf->pool, conf->accept_signature.len);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    conf->accept_signature.data = p;

    if (conf->label.len) {
        p = ngx_cpymem(p, conf->label.data, conf->label.len);

    } else {
        p = ngx_cpymem(p, "fw", 2);
    }

    *p++ = '=';
    *p++ = '(';

    for (i = 0; i < n; i++) {
        if (i) {
            *p++ = ' ';
        }

        if (pol->required[i].data[0] == '"') {
            p = ngx_cpymem(p, pol->required[i].data, pol->required[i].len);
            continue;
        }

        *p++ = '"';
        p = ngx_cpymem(p, pol->required[i].data, pol->required[i].len);
        *p++ = '"';
    }

    *p++ = ')';

    conf->accept_signature.len = p - conf->accept_signature.data;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_fwgate_preconfiguration(ngx_conf_t *cf)
{
    return ngx_http_fwgate_add_variables(cf);
}


static ngx_int_t
ngx_http_fwgate_postconfiguration(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_fwgate_access_handler;

    return ngx_http_fwgate_index_variables(cf);
}


static ngx_int_t
ngx_http_fwgate_init_process(ngx_cycle_t *cycle)
{
    ngx_http_conf_ctx_t          *ctx;
    ngx_http_fwgate_main_conf_t  *fmcf;

    ctx = (ngx_http_conf_ctx_t *) cycle->conf_ctx[ngx_http_module.index];
    if (ctx == NULL) {
        return NGX_OK;
    }

    fmcf = ctx->main_conf[ngx_http_fwgate_module.ctx_index];

    if (fmcf == NULL || !ngx_http_fwgate_has_redis(fmcf)) {
        return NGX_OK;
    }

    ngx_http_fwgate_mcf = fmcf;

    if (ngx_http_fwgate_redis_init_process(cycle, fmcf) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_fwgate_poll_ev.handler = ngx_http_fwgate_poll_handler;
    ngx_http_fwgate_poll_ev.log = cycle->log;
    ngx_http_fwgate_poll_ev.data = fmcf;
    ngx_http_fwgate_poll_ev.cancelable = 1;

    ngx_http_fwgate_epoch_cb.handler = ngx_http_fwgate_epoch_reply;
    ngx_http_fwgate_role_cb.handler = ngx_http_fwgate_role_reply;

    ngx_add_timer(&ngx_http_fwgate_poll_ev, fmcf->poll);

    ngx_http_fwgate_subscribe_init_process(cycle, fmcf);

    return NGX_OK;
}


static void
ngx_http_fwgate_exit_process(ngx_cycle_t *cycle)
{
    if (ngx_http_fwgate_mcf == NULL) {
        return;
    }

    if (ngx_http_fwgate_poll_ev.timer_set) {
        ngx_del_timer(&ngx_http_fwgate_poll_ev);
    }

    ngx_http_fwgate_subscribe_exit_process();
    ngx_http_fwgate_redis_exit_process();
    ngx_http_fwgate_keys_free();
    ngx_http_fwgate_cache_exit_process();
    fwg_cohort_cleanup();
}


/*
 * The epoch poll: one worker per interval (the zone remembers who polled
 * last) reads fwgate:epoch; a new value makes every cached record stale.
 */

static void
ngx_http_fwgate_poll_handler(ngx_event_t *ev)
{
    ngx_http_fwgate_main_conf_t  *fmcf;

    fmcf = ev->data;

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    ngx_add_timer(ev, fmcf->poll);

    if (ngx_http_fwgate_epoch_busy || !ngx_http_fwgate_redis_ready()) {
        return;
    }

    if (!ngx_http_fwgate_cache_poll_due(fmcf)) {
        return;
    }

    ngx_http_fwgate_silence_poll(fmcf);

    ngx_http_fwgate_epoch_get(fmcf);
}


/*
 * ROLE, then the epoch, pipelined on the read connection: the epoch
 * confirms the registry fresh only if it came from a primary or from a
 * replica still linked to one (fwgate_max_staleness).
 */

static void
ngx_http_fwgate_epoch_get(ngx_http_fwgate_main_conf_t *fmcf)
{
    const char  *argv[2];
    size_t       argvlen[2];

    argv[0] = "ROLE";
    argvlen[0] = 4;

    if (ngx_http_fwgate_redis_command(&ngx_http_fwgate_role_cb, 1, argv,
                                      argvlen)
        != NGX_OK)
    {
        return;
    }

    ngx_http_fwgate_poll_role = NGX_HTTP_FWGATE_ROLE_UNKNOWN;

    argv[0] = "GET";
    argvlen[0] = 3;
    argv[1] = (const char *) fmcf->epoch_key.data;
    argvlen[1] = fmcf->epoch_key.len;

    if (ngx_http_fwgate_redis_command(&ngx_http_fwgate_epoch_cb, 2, argv,
                                      argvlen)
        == NGX_OK)
    {
        ngx_http_fwgate_epoch_busy = 1;
    }
}


/*
 * ROLE: ["master", ...] or ["slave", host, port, state, offset], state
 * "connected" while the replica's link to its primary is up.
 */

static void
ngx_http_fwgate_role_reply(ngx_http_fwgate_redis_cb_t *cb, redisReply *reply)
{
    redisReply  *e;

    ngx_http_fwgate_poll_role = NGX_HTTP_FWGATE_ROLE_UNKNOWN;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY
        || reply->elements == 0)
    {
        return;
    }

    e = reply->element[0];

    if (e == NULL || e->type != REDIS_REPLY_STRING) {
        return;
    }

    if (e->len == 6 && ngx_strncmp(e->str, "master", 6) == 0) {
        ngx_http_fwgate_poll_role = NGX_HTTP_FWGATE_ROLE_PRIMARY;
        return;
    }

    if (e->len == 5 && ngx_strncmp(e->str, "slave", 5) == 0) {
        ngx_http_fwgate_poll_role = NGX_HTTP_FWGATE_ROLE_CUT_OFF;

        if (reply->elements >= 4
            && reply->element[3]->type == REDIS_REPLY_STRING
            && reply->element[3]->len == 9
            && ngx_strncmp(reply->element[3]->str, "connected", 9) == 0)
        {
            ngx_http_fwgate_poll_role = NGX_HTTP_FWGATE_ROLE_REPLICA;
        }
    }
}


/*
 * From subscribe.c: a message (pushed) or a subscription just made (not
 * pushed: messages may have been lost while it was down).  The stored
 * epoch follows at once; with a GET already in flight (it may have been
 * answered before the change), another follows its reply.
 */

void
ngx_http_fwgate_epoch_poll_now(ngx_uint_t pushed)
{
    if (ngx_http_fwgate_mcf == NULL || ngx_exiting) {
        return;
    }

    if (pushed) {
        ngx_http_fwgate_epoch_pushed = 1;
    }

    if (ngx_http_fwgate_epoch_busy) {
        ngx_http_fwgate_epoch_again = 1;
        return;
    }

    if (!ngx_http_fwgate_redis_ready()) {
        return;
    }

    ngx_http_fwgate_epoch_get(ngx_http_fwgate_mcf);
}


static void
ngx_http_fwgate_epoch_reply(ngx_http_fwgate_redis_cb_t *cb,
    redisReply *reply)
{
    ngx_str_t   epoch;
    ngx_uint_t  pushed, again;

    ngx_http_fwgate_epoch_busy = 0;

    /* asked for again while this one was on its way: its answer may be
       older than the message, whose flag then stays for the next GET */

    pushed = ngx_http_fwgate_epoch_pushed;
    again = ngx_http_fwgate_epoch_again;
    ngx_http_fwgate_epoch_again = 0;

    if (!again) {
        ngx_http_fwgate_epoch_pushed = 0;
    }

    if (reply == NULL || ngx_http_fwgate_mcf == NULL) {
        ngx_http_fwgate_epoch_pushed = 0;
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                       "fwgate: epoch poll got no reply");
        return;
    }

    if (reply->type == REDIS_REPLY_STRING) {
        epoch.data = (u_char *) reply->str;
        epoch.len = reply->len;

    } else if (reply->type == REDIS_REPLY_NIL) {
        ngx_str_set(&epoch, "0");

    } else {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                       "fwgate: epoch poll reply ignored: type %d",
                       reply->type);
        return;
    }

    /*
     * Any change counts, a lower epoch too (a failover to a replica that
     * had not seen the last INCR).  A change a message already announced
     * (and invalidated) is the push's, not the poll's.
     */

    if (ngx_http_fwgate_cache_set_epoch(ngx_http_fwgate_mcf, &epoch)
        && !pushed)
    {
        (void) ngx_atomic_fetch_add(
                   &ngx_http_fwgate_mcf->stats->invalidations[
                       NGX_HTTP_FWGATE_SUB_POLL], 1);
    }

    if (again && ngx_http_fwgate_redis_ready()) {
        ngx_http_fwgate_epoch_get(ngx_http_fwgate_mcf);
    }

    ngx_http_fwgate_cache_confirm(ngx_http_fwgate_mcf,
                    ngx_http_fwgate_poll_role,
                    ngx_http_fwgate_poll_role == NGX_HTTP_FWGATE_ROLE_PRIMARY
                    || ngx_http_fwgate_poll_role
                       == NGX_HTTP_FWGATE_ROLE_REPLICA);
}


/* directive handlers ---------------------------------------------------- */

static char *
ngx_http_fwgate_parse_server(ngx_conf_t *cf, ngx_str_t *value,
    ngx_http_fwgate_server_t *srv, ngx_uint_t sentinel)
{
    u_char           *colon;
    ngx_int_t         port;
    ngx_str_t         host;
    struct in_addr    a4;
    struct in6_addr   a6;

    srv->name = *value;

    if (value->len == 0) {
        goto invalid;
    }

    if (value->len > 5 && ngx_strncmp(value->data, "unix:", 5) == 0
        && !sentinel)
    {
        srv->host.len = value->len - 5;
        srv->host.data = ngx_pnalloc(cf->pool, srv->host.len + 1);
        if (srv->host.data == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memcpy(srv->host.data, value->data + 5, srv->host.len);
        srv->host.data[srv->host.len] = '\0';
        srv->port = 0;
        return NGX_CONF_OK;
    }

    /* "IP:PORT", "[IPv6]:PORT" or "IP" (port 6379) */

    colon = NULL;

    if (value->data[0] == '[') {
        colon = ngx_strlchr(value->data, value->data + value->len, ']');
        if (colon == NULL) {
            goto invalid;
        }

        srv->host.data = value->data + 1;
        srv->host.len = colon - value->data - 1;
        colon = (colon + 1 < value->data + value->len && colon[1] == ':')
                ? colon + 1 : NULL;

    } else {
        colon = ngx_strlchr(value->data, value->data + value->len, ':');
        srv->host.data = value->data;
        srv->host.len = colon ? (size_t) (colon - value->data) : value->len;
    }

    port = sentinel ? 26379 : 6379;

    if (colon) {
        port = ngx_atoi(colon + 1, value->data + value->len - colon - 1);
        if (port < 1 || port > 65535) {
            goto invalid;
        }
    }

    srv->port = port;

    if (srv->host.len == sizeof("localhost") - 1
        && ngx_strncmp(srv->host.data, "localhost", srv->host.len) == 0)
    {
        ngx_str_set(&srv->host, "127.0.0.1");
    }

    host = srv->host;

    srv->host.data = ngx_pnalloc(cf->pool, host.len + 1);
    if (srv->host.data == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memcpy(srv->host.data, host.data, host.len);
    srv->host.data[srv->host.len] = '\0';

    /*
     * hiredis resolves names with a blocking call: only addresses are
     * accepted, so a worker never waits on DNS.
     */

    if (inet_pton(AF_INET, (char *) srv->host.data, &a4) != 1
        && inet_pton(AF_INET6, (char *) srv->host.data, &a6) != 1)
    {
        if (sentinel) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "fwgate_redis sentinel \"%V\": an IP address "
                               "is required, not a host name", value);
            return NGX_CONF_ERROR;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "fwgate_redis \"%V\": an IP address or "
                           "\"unix:PATH\" is required, not a host name",
                           value);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid fwgate_redis %saddress \"%V\"",
                       sentinel ? "sentinel " : "", value);
    return NGX_CONF_ERROR;
}


/*
 * password_file=FILE: the Redis password read at configuration time, so
 * that the secret stays out of nginx.conf (and out of `nginx -T`).  One
 * line; a trailing newline is dropped.
 */

static ngx_int_t
ngx_http_fwgate_password_file(ngx_conf_t *cf, ngx_str_t *name,
    ngx_str_t *password)
{
    u_char           *p;
    ssize_t           n;
    ngx_fd_t          fd;
    ngx_file_info_t   fi;

    if (name->len == 0 || ngx_conf_full_name(cf->cycle, name, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    fd = ngx_open_file(name->data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%V\" failed", name);
        return NGX_ERROR;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR
        || ngx_file_size(&fi) > 4096)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "password_file \"%V\": not a file of at most "
                           "4096 bytes", name);
        (void) ngx_close_file(fd);
        return NGX_ERROR;
    }

    p = ngx_pnalloc(cf->pool, 4096);
    if (p == NULL) {
        (void) ngx_close_file(fd);
        return NGX_ERROR;
    }

    n = ngx_read_fd(fd, p, 4096);
    (void) ngx_close_file(fd);

    if (n == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "password_file \"%V\": read failed", name);
        return NGX_ERROR;
    }

    while (n && (p[n - 1] == '\n' || p[n - 1] == '\r')) {
        n--;
    }

    if (n == 0 || ngx_strlchr(p, p + n, '\n') != NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "password_file \"%V\": one non-empty line "
                           "expected", name);
        return NGX_ERROR;
    }

    password->data = p;
    password->len = n;

    return NGX_OK;
}


/* sentinel=IP[:PORT][,IP[:PORT]...] */

static char *
ngx_http_fwgate_parse_sentinels(ngx_conf_t *cf, ngx_str_t *value,
    ngx_http_fwgate_main_conf_t *fmcf)
{
    u_char                    *p, *last, *comma;
    ngx_str_t                  one;
    ngx_http_fwgate_server_t  *srv;

    p = value->data + sizeof("sentinel=") - 1;
    last = value->data + value->len;

    if (p == last) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid fwgate_redis parameter \"%V\"", value);
        return NGX_CONF_ERROR;
    }

    while (p <= last) {
        comma = ngx_strlchr(p, last, ',');
        if (comma == NULL) {
            comma = last;
        }

        one.data = p;
        one.len = comma - p;

        srv = ngx_array_push(&fmcf->sentinels);
        if (srv == NULL) {
            return NGX_CONF_ERROR;
        }

        if (ngx_http_fwgate_parse_server(cf, &one, srv, 1) != NGX_CONF_OK) {
            return NGX_CONF_ERROR;
        }

        p = comma + 1;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_fwgate_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fwgate_main_conf_t *fmcf = conf;

    ngx_str_t                 *value, s;
    ngx_uint_t                 i, read_set;
    ngx_msec_t                 ms;
    ngx_http_fwgate_server_t  *srv;

    if (ngx_http_fwgate_has_redis(fmcf)) {
        return "is duplicate";
    }

    value = cf->args->elts;
    read_set = 0;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "sentinel=", 9) == 0) {
            if (fmcf->sentinels.nelts) {
                goto invalid;
            }

            if (ngx_http_fwgate_parse_sentinels(cf, &value[i], fmcf)
                != NGX_CONF_OK)
            {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "master=", 7) == 0) {
            if (fmcf->master.data || value[i].len == 7
                || value[i].len > 7 + 128)
            {
                goto invalid;
            }

            fmcf->master.data = value[i].data + 7;
            fmcf->master.len = value[i].len - 7;
            continue;
        }

        if (ngx_strncmp(value[i].data, "read=", 5) == 0) {
            if (read_set) {
                goto invalid;
            }

            read_set = 1;

            if (ngx_strcmp(value[i].data, "read=primary") == 0) {
                fmcf->read = NGX_HTTP_FWGATE_READ_PRIMARY;

            } else if (ngx_strcmp(value[i].data, "read=replica") == 0) {
                fmcf->read = NGX_HTTP_FWGATE_READ_REPLICA;

            } else {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "db=", 3) == 0) {
            fmcf->db = ngx_atoi(value[i].data + 3, value[i].len - 3);
            if (fmcf->db == NGX_ERROR) {
                goto invalid;
            }
            continue;
        }

        if (ngx_strncmp(value[i].data, "password=", 9) == 0) {
            fmcf->password.data = value[i].data + 9;
            fmcf->password.len = value[i].len - 9;
            continue;
        }

        if (ngx_strncmp(value[i].data, "user=", 5) == 0) {
            fmcf->user.data = value[i].data + 5;
            fmcf->user.len = value[i].len - 5;
            continue;
        }

        if (ngx_strncmp(value[i].data, "password_file=", 14) == 0) {
            s.data = value[i].data + 14;
            s.len = value[i].len - 14;

            if (ngx_http_fwgate_password_file(cf, &s, &fmcf->password)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "connect_timeout=", 16) == 0
            || ngx_strncmp(value[i].data, "timeout=", 8) == 0)
        {
            s.data = (u_char *) ngx_strchr(value[i].data, '=') + 1;
            s.len = value[i].data + value[i].len - s.data;

            ms = ngx_parse_time(&s, 0);
            if (ms == (ngx_msec_t) NGX_ERROR || ms == 0) {
                goto invalid;
            }

            if (value[i].data[0] == 'c') {
                fmcf->connect_timeout = ms;

            } else {
                fmcf->timeout = ms;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "prefix=", 7) == 0) {
            fmcf->prefix.data = value[i].data + 7;
            fmcf->prefix.len = value[i].len - 7;

            if (fmcf->prefix.len > 64) {
                goto invalid;
            }

            continue;
        }

        if (ngx_strlchr(value[i].data, value[i].data + value[i].len, '=')
            && ngx_strncmp(value[i].data, "unix:", 5) != 0)
        {
            goto invalid;
        }

        srv = ngx_array_push(&fmcf->servers);
        if (srv == NULL) {
            return NGX_CONF_ERROR;
        }

        if (ngx_http_fwgate_parse_server(cf, &value[i], srv, 0)
            != NGX_CONF_OK)
        {
            return NGX_CONF_ERROR;
        }
    }

    if (fmcf->sentinels.nelts && fmcf->master.data == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "fwgate_redis sentinel= needs master=NAME");
        return NGX_CONF_ERROR;
    }

    if (fmcf->sentinels.nelts == 0 && (fmcf->master.data || read_set)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "fwgate_redis %s needs sentinel=",
                           read_set ? "read=" : "master=");
        return NGX_CONF_ERROR;
    }

    if (!ngx_http_fwgate_has_redis(fmcf)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "fwgate_redis needs at least one server");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid fwgate_redis parameter \"%V\"", &value[i]);
    return NGX_CONF_ERROR;
}


static char *
ngx_http_fwgate_zone_arg(ngx_conf_t *cf, ngx_str_t *value, ngx_str_t *name,
    size_t *size)
{
    u_char     *p;
    ssize_t     n;
    ngx_str_t   s;

    p = ngx_strlchr(value->data, value->data + value->len, ':');

    if (p == NULL || p == value->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone \"%V\", ZONE:SIZE expected", value);
        return NGX_CONF_ERROR;
    }

    name->data = value->data;
    name->len = p - value->data;

    s.data = p + 1;
    s.len = value->data + value->len - s.data;

    n = ngx_parse_size(&s);

    if (n == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone size \"%V\"", value);
        return NGX_CONF_ERROR;
    }

    if (n < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is too small", value);
        return NGX_CONF_ERROR;
    }

    *size = n;

    return NGX_CONF_OK;
}


static char *
ngx_http_fwgate_cache(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fwgate_main_conf_t *fmcf = conf;

    size_t       size;
    ngx_str_t   *value, name, s;
    ngx_uint_t   i;
    ngx_msec_t   ms, *field;

    if (fmcf->cache_zone) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_http_fwgate_zone_arg(cf, &value[1], &name, &size)
        != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "ttl=", 4) == 0) {
            field = &fmcf->ttl;

        } else if (ngx_strncmp(value[i].data, "stale=", 6) == 0) {
            field = &fmcf->stale;

        } else if (ngx_strncmp(value[i].data, "negative_ttl=", 13) == 0) {
            field = &fmcf->negative_ttl;

        } else if (ngx_strncmp(value[i].data, "poll=", 5) == 0) {
            field = &fmcf->poll;

        } else {
            goto invalid;
        }

        s.data = (u_char *) ngx_strchr(value[i].data, '=') + 1;
        s.len = value[i].data + value[i].len - s.data;

        ms = ngx_parse_time(&s, 0);
        if (ms == (ngx_msec_t) NGX_ERROR) {
            goto invalid;
        }

        if (field == &fmcf->poll && ms == 0) {
            goto invalid;
        }

        *field = ms;
    }

    fmcf->cache_zone = ngx_http_fwgate_cache_add_zone(cf, &name, size, fmcf);
    if (fmcf->cache_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid fwgate_cache parameter \"%V\"", &value[i]);
    return NGX_CONF_ERROR;
}


static char *
ngx_http_fwgate_replay_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fwgate_main_conf_t *fmcf = conf;

    size_t      size;
    ngx_str_t  *value, name;

    if (fmcf->replay_zone) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_http_fwgate_zone_arg(cf, &value[1], &name, &size)
        != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    fmcf->replay_zone = ngx_http_fwgate_replay_add_zone(cf, &name, size);
    if (fmcf->replay_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static ngx_uint_t
ngx_http_fwgate_token_ok(ngx_str_t *s, ngx_uint_t first_at)
{
    u_char      c;
    ngx_uint_t  i;

    for (i = 0; i < s->len; i++) {
        c = s->data[i];

        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
            || c == '-' || c == '_' || c == '.'
            || (i == 0 && first_at && c == '@'))
        {
            continue;
        }

        return 0;
    }

    return s->len > 0;
}


static ngx_int_t
ngx_http_fwgate_identifier(ngx_conf_t *cf, ngx_str_t *v)
{
    long            n;
    u_char         *p;
    fwg_arena_t     a;
    const char     *err;
    fwg_sf_item_t   item;
    char            mem[2048], out[512];

    fwg_arena_init(&a, mem, sizeof(mem));

    if (fwg_sf_parse_item((const char *) v->data, v->len, &a, &item, &err)
        != FWG_SF_OK
        || item.bare.type != FWG_SF_STRING
        || item.bare.str.len == 0)
    {
        return NGX_ERROR;
    }

    n = fwg_sf_serialize_item(out, sizeof(out), &item);
    if (n <= 0) {
        return NGX_ERROR;
    }

    p = ngx_pnalloc(cf->pool, n);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(p, out, n);
    v->data = p;
    v->len = n;

    return NGX_OK;
}


static char *
ngx_http_fwgate_components(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fwgate_loc_conf_t *flcf = conf;

    ngx_str_t   *value, *c;
    ngx_uint_t   i, j;

    static const char  *derived[] = {
        "@method", "@target-uri", "@authority", "@scheme",
        "@request-target", "@path", "@query", NULL
    };

    if (flcf->required) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts - 1 > FWG_MAX_REQUIRED) {
        return "has too many components";
    }

    flcf->required = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                      sizeof(ngx_str_t));
    if (flcf->required == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 1; i < cf->args->nelts; i++) {

        /*
         * A component with parameters is given as its serialized
         * identifier, '"@query-param";name="id"': it is kept in the
         * canonical form the coverage check compares against.
         */

        if (ngx_strlchr(value[i].data, value[i].data + value[i].len, ';')) {
            if (ngx_http_fwgate_identifier(cf, &value[i]) != NGX_OK) {
                goto invalid;
            }

            c = ngx_array_push(flcf->required);
            if (c == NULL) {
                return NGX_CONF_ERROR;
            }

            *c = value[i];
            continue;
        }

        /* accept both `@method` and `"@method"` */

        if (value[i].len >= 2 && value[i].data[0] == '"'
            && value[i].data[value[i].len - 1] == '"')
        {
            value[i].data++;
            value[i].len -= 2;
        }

        if (!ngx_http_fwgate_token_ok(&value[i], 1)) {
            goto invalid;
        }

        if (value[i].data[0] == '@') {
            for (j = 0; derived[j]; j++) {
                if (ngx_strlen(derived[j]) == value[i].len
                    && ngx_strncmp(derived[j], value[i].data,
                                   value[i].len) == 0)
                {
                    break;
                }
            }

            if (derived[j] == NULL) {
                goto invalid;
            }
        }

        c = ngx_array_push(flcf->required);
        if (c == NULL) {
            return NGX_CONF_ERROR;
        }

        *c = value[i];
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid component \"%V\" in "
                       "fwgate_required_components (lowercase header "
                       "names or @method, @target-uri, @authority, "
                       "@scheme, @request-target, @path, @query)",
                       &value[i]);
    return NGX_CONF_ERROR;
}


static char *
ngx_http_fwgate_algorithms(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fwgate_loc_conf_t *flcf = conf;

    fwg_alg_t    alg;
    ngx_str_t   *value;
    ngx_uint_t   i;

    if (flcf->algs != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;
    flcf->algs = 0;

    for (i = 1; i < cf->args->nelts; i++) {
        alg = fwg_alg_parse((const char *) value[i].data, value[i].len);

        if (alg == FWG_ALG_NONE) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "unknown algorithm \"%V\" in "
                               "fwgate_algorithms (ed25519, "
                               "ecdsa-p256-sha256, hmac-sha256)",
                               &value[i]);
            return NGX_CONF_ERROR;
        }

        flcf->algs |= 1 << alg;
    }

    return NGX_CONF_OK;
}


/* ngx_conf_set_sec_slot, with an error that names the bad argument */

static char *
ngx_http_fwgate_seconds(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    time_t     *sp;
    ngx_str_t  *value;

    sp = (time_t *) (p + cmd->offset);

    if (*sp != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    *sp = ngx_parse_time(&value[1], 1);

    if (*sp == (time_t) NGX_ERROR || *sp > 86400 * 365) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid time \"%V\" in \"%V\" (seconds, or "
                           "a time like 30s, 5m, 1h)", &value[1],
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_fwgate_label(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fwgate_loc_conf_t *flcf = conf;

    u_char      c;
    ngx_str_t  *value;
    ngx_uint_t  i;

    if (flcf->label.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    /* an RFC 8941 key: lcalpha or "*", then lcalpha, digits, _-.* */

    for (i = 0; i < value[1].len; i++) {
        c = value[1].data[i];

        if ((c >= 'a' && c <= 'z') || c == '*'
            || (i > 0 && ((c >= '0' && c <= '9')
                          || c == '_' || c == '-' || c == '.')))
        {
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid fwgate_signature_label \"%V\": not a "
                           "structured-field key", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (value[1].len == 0 || value[1].len > 64) {
        return "takes a label of 1 to 64 characters";
    }

    flcf->label = value[1];

    return NGX_CONF_OK;
}


static char *
ngx_http_fwgate_content(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fwgate_loc_conf_t *flcf = conf;

    ssize_t                    n;
    ngx_str_t                 *value, s;
    ngx_http_core_loc_conf_t  *clcf;

    if (flcf->handler) {
        return "is duplicate";
    }

    value = cf->args->elts;
    flcf->handler = cmd->offset;

    if (cf->args->nelts == 2) {
        if (cmd->offset == NGX_HTTP_FWGATE_HANDLER_MANIFEST
            && ngx_strncmp(value[1].data, "base_url=", 9) == 0)
        {
            flcf->base_url.data = value[1].data + 9;
            flcf->base_url.len = value[1].len - 9;

        } else if (cmd->offset == NGX_HTTP_FWGATE_HANDLER_REPORT
                   && ngx_strncmp(value[1].data, "max_body=", 9) == 0)
        {
            s.data = value[1].data + 9;
            s.len = value[1].len - 9;
            n = ngx_parse_size(&s);

            if (n == NGX_ERROR || n == 0 || n > 1024 * 1024) {
                goto invalid;
            }

            flcf->report_max_body = n;

        } else {
            goto invalid;
        }
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    switch (cmd->offset) {

    case NGX_HTTP_FWGATE_HANDLER_MANIFEST:
        clcf->handler = ngx_http_fwgate_manifest_handler;
        break;

    case NGX_HTTP_FWGATE_HANDLER_REPORT:
        clcf->handler = ngx_http_fwgate_report_handler;
        break;

    default: /* NGX_HTTP_FWGATE_HANDLER_STATUS */
        clcf->handler = ngx_http_fwgate_status_handler;
        break;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\"", &value[1]);
    return NGX_CONF_ERROR;
}
