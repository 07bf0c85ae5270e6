
/*
 * fwgate: the $fwgate_* variables.
 *
 * Values come from the request's ctx, read when a variable is: after
 * ngx_http_internal_redirect() (which clears r->ctx) the ctx is found
 * again through the request pool's cleanup (ngx_http_fwgate_get_ctx()).
 * Every fwgate variable is indexed at configuration time, so that the
 * decision can mark a value cached before it as unread.
 */

#include "ngx_http_fwgate_module.h"


typedef enum {
    NGX_HTTP_FWGATE_VAR_DECISION = 0,
    NGX_HTTP_FWGATE_VAR_REASON,
    NGX_HTTP_FWGATE_VAR_DEVICE,
    NGX_HTTP_FWGATE_VAR_MODEL,
    NGX_HTTP_FWGATE_VAR_VERSION,
    NGX_HTTP_FWGATE_VAR_ARTIFACT,
    NGX_HTTP_FWGATE_VAR_TARGET_VERSION,
    NGX_HTTP_FWGATE_VAR_BUCKET,
    NGX_HTTP_FWGATE_VAR_PATH,
    NGX_HTTP_FWGATE_VAR_AUTH,
    NGX_HTTP_FWGATE_VAR_N
} ngx_http_fwgate_var_e;


static ngx_int_t ngx_http_fwgate_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_fwgate_value(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx, ngx_uint_t which, ngx_str_t *out);


static ngx_http_variable_t  ngx_http_fwgate_vars[] = {

    { ngx_string("fwgate_decision"), NULL, ngx_http_fwgate_variable,
      NGX_HTTP_FWGATE_VAR_DECISION, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("fwgate_reason"), NULL, ngx_http_fwgate_variable,
      NGX_HTTP_FWGATE_VAR_REASON, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("fwgate_device"), NULL, ngx_http_fwgate_variable,
      NGX_HTTP_FWGATE_VAR_DEVICE, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("fwgate_model"), NULL, ngx_http_fwgate_variable,
      NGX_HTTP_FWGATE_VAR_MODEL, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("fwgate_version"), NULL, ngx_http_fwgate_variable,
      NGX_HTTP_FWGATE_VAR_VERSION, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("fwgate_artifact"), NULL, ngx_http_fwgate_variable,
      NGX_HTTP_FWGATE_VAR_ARTIFACT, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("fwgate_target_version"), NULL, ngx_http_fwgate_variable,
      NGX_HTTP_FWGATE_VAR_TARGET_VERSION, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("fwgate_bucket"), NULL, ngx_http_fwgate_variable,
      NGX_HTTP_FWGATE_VAR_BUCKET, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("fwgate_path"), NULL, ngx_http_fwgate_variable,
      NGX_HTTP_FWGATE_VAR_PATH, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("fwgate_auth"), NULL, ngx_http_fwgate_variable,
      NGX_HTTP_FWGATE_VAR_AUTH, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


static ngx_int_t  ngx_http_fwgate_var_index[NGX_HTTP_FWGATE_VAR_N];


ngx_int_t
ngx_http_fwgate_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_fwgate_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_fwgate_index_variables(ngx_conf_t *cf)
{
    ngx_int_t             index;
    ngx_http_variable_t  *v;

    for (v = ngx_http_fwgate_vars; v->name.len; v++) {
        index = ngx_http_get_variable_index(cf, &v->name);
        if (index == NGX_ERROR) {
            return NGX_ERROR;
        }

        ngx_http_fwgate_var_index[v->data] = index;
    }

    return NGX_OK;
}


/*
 * The decision is made.  The variables are not cacheable, but a reader
 * that does not flush (ngx_http_get_indexed_variable()) would still get
 * a value read before it, so each entry is marked unread and the next
 * read asks the handler.  Values are not computed here: most requests
 * read none of them, or two in the access log.
 */

void
ngx_http_fwgate_set_variables(ngx_http_request_t *r,
    ngx_http_fwgate_ctx_t *ctx)
{
    ngx_uint_t                  i;
    ngx_http_variable_value_t  *vv;

    for (i = 0; i < NGX_HTTP_FWGATE_VAR_N; i++) {
        vv = &r->variables[ngx_http_fwgate_var_index[i]];
        vv->valid = 0;
        vv->not_found = 0;
    }
}


static ngx_int_t
ngx_http_fwgate_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v,
    uintptr_t data)
{
    ngx_str_t               s;
    ngx_http_fwgate_ctx_t  *ctx;

    ctx = ngx_http_fwgate_get_ctx(r);

    if (ctx == NULL
        || ngx_http_fwgate_value(r, ctx, data, &s) != NGX_OK)
    {
        v->not_found = 1;
        return NGX_OK;
    }

    v->len = s.len;
    v->data = s.data;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_fwgate_value(ngx_http_request_t *r, ngx_http_fwgate_ctx_t *ctx,
    ngx_uint_t which, ngx_str_t *out)
{
    u_char  *p;

    if (ctx->reason == FWG_R__COUNT) {
        return NGX_DECLINED;
    }

    switch (which) {

    case NGX_HTTP_FWGATE_VAR_DECISION:
        if (ctx->reason == FWG_R_OK) {
            ngx_str_set(out, "allow");

        } else if (ctx->dry_run) {
            ngx_str_set(out, "dry_run_deny");

        } else {
            ngx_str_set(out, "deny");
        }
        return NGX_OK;

    case NGX_HTTP_FWGATE_VAR_REASON:
        out->data = (u_char *) fwg_reason_name(ctx->reason);
        out->len = ngx_strlen(out->data);
        return NGX_OK;

    case NGX_HTTP_FWGATE_VAR_DEVICE:
        out->data = (u_char *) ctx->claims.device.data;
        out->len = ctx->claims.device.len;
        break;

    case NGX_HTTP_FWGATE_VAR_MODEL:
        out->data = (u_char *) ctx->claims.model.data;
        out->len = ctx->claims.model.len;
        break;

    case NGX_HTTP_FWGATE_VAR_VERSION:
        out->data = (u_char *) ctx->claims.version_str.data;
        out->len = ctx->claims.version_str.len;
        break;

    case NGX_HTTP_FWGATE_VAR_ARTIFACT:
        *out = ctx->artifact;
        break;

    case NGX_HTTP_FWGATE_VAR_TARGET_VERSION:
        out->data = (u_char *) ctx->artifact_rec.version.data;
        out->len = ctx->artifact_rec.version.len;
        break;

    case NGX_HTTP_FWGATE_VAR_PATH:
        /* what a proxy may fetch: only ever the allowed artifact's path */
        if (ctx->reason != FWG_R_OK) {
            return NGX_DECLINED;
        }

        *out = ctx->path;
        break;

    case NGX_HTTP_FWGATE_VAR_AUTH:
        /* what the request was decided from; nothing when it had neither */
        if (ctx->token) {
            ngx_str_set(out, "token");

        } else if (ctx->reason == FWG_R_MISSING_SIGNATURE) {
            return NGX_DECLINED;

        } else {
            ngx_str_set(out, "signature");
        }

        return NGX_OK;

    default: /* NGX_HTTP_FWGATE_VAR_BUCKET */
        if (!ctx->verdict.has_bucket) {
            return NGX_DECLINED;
        }

        p = ngx_pnalloc(r->pool, NGX_INT32_LEN);
        if (p == NULL) {
            return NGX_ERROR;
        }

        out->data = p;
        out->len = ngx_sprintf(p, "%uD", ctx->verdict.bucket) - p;
        return NGX_OK;
    }

    return out->len ? NGX_OK : NGX_DECLINED;
}
