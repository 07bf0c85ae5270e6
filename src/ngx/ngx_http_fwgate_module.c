
/*
 * fwgate: firmware compatibility enforcement at the edge.
 *
 * This file holds the directive table, the configurations' defaults and
 * merging, and the module's life cycle (zones, the per-worker Redis
 * connections, the epoch poll); the directive handlers are in
 * ngx_http_fwgate_conf.c.
 * The gate itself is in ngx_http_fwgate_gate.c; the decision in the core
 * library (src/core/fwg_decide.c), shared with fwgatectl.
 */

#include "ngx_http_fwgate_module.h"
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
static char *ngx_http_fwgate_memo_size_check(ngx_conf_t *cf, void *post,
    void *data);


static ngx_conf_post_handler_pt  ngx_http_fwgate_memo_size_post =
    ngx_http_fwgate_memo_size_check;


static void ngx_http_fwgate_poll_handler(ngx_event_t *ev);
static void ngx_http_fwgate_role_reply(ngx_http_fwgate_redis_cb_t *cb,
    redisReply *reply);
static void ngx_http_fwgate_epoch_get(ngx_http_fwgate_main_conf_t *fmcf);
static void ngx_http_fwgate_epoch_reply(ngx_http_fwgate_redis_cb_t *cb,
    redisReply *reply);


static ngx_command_t  ngx_http_fwgate_commands[] = {

    { ngx_string("fwgate_redis"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_fwgate_set_redis,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("fwgate_cache"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_fwgate_set_cache,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("fwgate_replay_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_fwgate_set_replay_zone,
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
      ngx_http_fwgate_set_label,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("fwgate_required_components"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_fwgate_set_components,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("fwgate_algorithms"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_fwgate_set_algorithms,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("fwgate_max_age"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_fwgate_set_seconds,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fwgate_loc_conf_t, max_age),
      NULL },

    { ngx_string("fwgate_clock_skew"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_fwgate_set_seconds,
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

    { ngx_string("fwgate_token_secret"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_http_fwgate_set_token_secret,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("fwgate_token_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_fwgate_main_conf_t, token_ttl),
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

    { ngx_string("fwgate_decision_memo"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fwgate_loc_conf_t, memo),
      NULL },

    { ngx_string("fwgate_decision_memo_size"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_fwgate_main_conf_t, memo_size),
      &ngx_http_fwgate_memo_size_post },

    { ngx_string("fwgate_release_keys"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_fwgate_set_release_keys,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("fwgate_manifest"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS|NGX_CONF_TAKE1,
      ngx_http_fwgate_set_content,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_HTTP_FWGATE_HANDLER_MANIFEST,
      NULL },

    { ngx_string("fwgate_report"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS|NGX_CONF_TAKE12,
      ngx_http_fwgate_set_content,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_HTTP_FWGATE_HANDLER_REPORT,
      NULL },

    { ngx_string("fwgate_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_fwgate_set_content,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_HTTP_FWGATE_HANDLER_STATUS,
      NULL },

    { ngx_string("fwgate_response_signing"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_fwgate_set_response_signing,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
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
    fmcf->token_ttl = NGX_CONF_UNSET;
    fmcf->memo_size = NGX_CONF_UNSET;
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

    /* an hour: a slow streaming download (RAUC over a weak link) must
       finish on one token, as a Range request may come any time */
    ngx_conf_init_value(fmcf->token_ttl, 3600);

    /* a 100,000-device fleet with room to spare, ~40 MB a worker used */
    ngx_conf_init_value(fmcf->memo_size, 131072);

    if (fmcf->token_ttl <= 0) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"fwgate_token_ttl\" must be positive");
        return NGX_CONF_ERROR;
    }

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


/*
 * Bounds, so a typo cannot make a worker map gigabytes, nor a table too
 * small to hold a set; 0 is not "off": fwgate_decision_memo off is.
 */

static char *
ngx_http_fwgate_memo_size_check(ngx_conf_t *cf, void *post, void *data)
{
    ngx_int_t  *np = data;

    if (*np < 16 || *np > 16777216) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"fwgate_decision_memo_size\" %i: a worker's "
                           "memo holds 16 to 16777216 entries (\""
                           "fwgate_decision_memo off\" keeps none)", *np);
        return NGX_CONF_ERROR;
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
    flcf->memo = NGX_CONF_UNSET;
    flcf->dry_run = NGX_CONF_UNSET;
    flcf->report_max_body = NGX_CONF_UNSET_SIZE;
    flcf->release_keys = NGX_CONF_UNSET_PTR;
    flcf->rsig_key = NGX_CONF_UNSET_PTR;

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
    ngx_conf_merge_value(conf->memo, prev->memo, 1);
    ngx_conf_merge_value(conf->dry_run, prev->dry_run, 0);
    ngx_conf_merge_str_value(conf->label, prev->label, "");
    ngx_conf_merge_size_value(conf->report_max_body, prev->report_max_body,
                              4096);
    ngx_conf_merge_ptr_value(conf->release_keys, prev->release_keys, NULL);

    if (conf->artifact == NULL) {
        conf->artifact = prev->artifact;
    }

    if (conf->rsig_key == NGX_CONF_UNSET_PTR) {
        conf->rsig_key = (prev->rsig_key == NGX_CONF_UNSET_PTR)
                         ? NULL : prev->rsig_key;
        conf->rsig_keyid = prev->rsig_keyid;
        conf->rsig_label = prev->rsig_label;
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
    ngx_http_handler_pt          *h;
    ngx_http_core_main_conf_t    *cmcf;
    ngx_http_fwgate_main_conf_t  *fmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_fwgate_access_handler;

    /* download tokens are masked in the logs where they may come */

    fmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_fwgate_module);

    if (fmcf->token_secrets) {
        h = ngx_array_push(&cmcf->phases[NGX_HTTP_POST_READ_PHASE].handlers);
        if (h == NULL) {
            return NGX_ERROR;
        }

        *h = ngx_http_fwgate_mask_token;
    }

    if (ngx_http_fwgate_respsig_init(cf) != NGX_OK) {
        return NGX_ERROR;
    }

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

    ngx_http_fwgate_count_init_process(cycle, fmcf->stats);

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

    ngx_http_fwgate_count_flush();
    ngx_http_fwgate_subscribe_exit_process();
    ngx_http_fwgate_redis_exit_process();
    ngx_http_fwgate_keys_free();
    ngx_http_fwgate_memo_exit_process();
    ngx_http_fwgate_arena_exit_process();
    ngx_http_fwgate_release_free();
    ngx_http_fwgate_cache_exit_process();
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
    ngx_http_fwgate_phase_poll(fmcf);

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

    static const char   *role = "ROLE";
    static const size_t  role_len = sizeof("ROLE") - 1;

    if (ngx_http_fwgate_redis_command(&ngx_http_fwgate_role_cb, 1, &role,
                                      &role_len)
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
