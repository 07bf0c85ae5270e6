
/*
 * fwgate: `fwgate_response_signing`, signed update-check answers
 * (docs/update-check.md, "The answer's signature").
 *
 * Every answer of a fwgate_manifest location (200, 204, and the 4xx/503
 * refusals when the request carries a signature to bind to) gets
 * Content-Digest (RFC 9530) and an RFC 9421 response signature covering
 * ("@status" "content-digest" "signature";req;key="<device label>").
 *
 * This is a header and body filter rather than code in the manifest
 * handler: it signs the body exactly as it leaves, whoever built it (the
 * handler's JSON, whatever fields it grows, or nginx's own error page),
 * so the digest cannot drift from the bytes.  The header is held back
 * until the last buffer, then the whole (small) body is digested, signed
 * and sent in one buffer.
 */

#include "ngx_http_fwgate_module.h"
#include "fwg_respsig.h"
#include "fwg_sf.h"


/* an answer larger than this is sent unsigned (the JSON is ~300 bytes) */
#define NGX_HTTP_FWGATE_RSIG_MAX_BODY  65536
#define NGX_HTTP_FWGATE_RSIG_ARENA     (48 * 1024)


struct ngx_http_fwgate_rsig_s {
    u_char                     *body;
    size_t                      len;
    size_t                      size;
    ngx_uint_t                  done;
    ngx_uint_t                  failed;     /* send unsigned */
};


static ngx_http_output_header_filter_pt  ngx_http_fwgate_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_fwgate_next_body_filter;


static void
ngx_http_fwgate_rsig_key_cleanup(void *data)
{
    fwg_key_free(data);
}


/* fwgate_response_signing KEYFILE [keyid=ID] [label=L]; */

char *
ngx_http_fwgate_set_response_signing(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_fwgate_loc_conf_t *flcf = conf;

    u_char               *p;
    size_t                i;
    ngx_str_t            *value, path, s;
    fwg_alg_t             alg;
    fwg_key_t            *k;
    ngx_uint_t            n;
    const char           *err;
    ngx_pool_cleanup_t   *cln;
    char                  keyid[FWG_RESPSIG_KEYID_LEN + 1];

    if (flcf->rsig_key != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 3 && ngx_strncmp(value[1].data, "off", 3) == 0) {
        if (cf->args->nelts != 2) {
            return "takes no parameters after \"off\"";
        }

        flcf->rsig_key = NULL;
        return NGX_CONF_OK;
    }

    path = value[1];

    if (ngx_conf_full_name(cf->cycle, &path, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    /* the key's bytes never reach a log: only the file name and why */

    k = fwg_key_from_file(FWG_ALG_NONE, (const char *) path.data, &err);
    if (k == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "fwgate_response_signing: cannot load \"%V\": %s",
                           &path, err ? err : "unknown error");
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        fwg_key_free(k);
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_fwgate_rsig_key_cleanup;
    cln->data = k;

    alg = fwg_key_alg(k);

    if (!fwg_key_can_sign(k)
        || (alg != FWG_ALG_ED25519 && alg != FWG_ALG_ECDSA_P256_SHA256))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "fwgate_response_signing: \"%V\" is not an "
                           "ed25519 or P-256 private key", &path);
        return NGX_CONF_ERROR;
    }

    flcf->rsig_key = k;
    ngx_str_set(&flcf->rsig_label, "fwgate");
    ngx_str_null(&flcf->rsig_keyid);

    for (n = 2; n < cf->args->nelts; n++) {
        s = value[n];

        if (s.len > 6 && ngx_strncmp(s.data, "keyid=", 6) == 0) {
            s.data += 6;
            s.len -= 6;

            /* an sf-string: printable ASCII */
            for (i = 0; i < s.len; i++) {
                if (s.data[i] < 0x20 || s.data[i] > 0x7e) {
                    return "has a keyid that is not printable ASCII";
                }
            }

            flcf->rsig_keyid = s;
            continue;
        }

        if (s.len > 6 && ngx_strncmp(s.data, "label=", 6) == 0) {
            s.data += 6;
            s.len -= 6;

            for (i = 0; i < s.len; i++) {
                if (!((s.data[i] >= 'a' && s.data[i] <= 'z')
                      || s.data[i] == '*'
                      || (i > 0 && ((s.data[i] >= '0' && s.data[i] <= '9')
                                    || s.data[i] == '_' || s.data[i] == '-'
                                    || s.data[i] == '.'))))
                {
                    return "has a label that is not an RFC 8941 key";
                }
            }

            flcf->rsig_label = s;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "fwgate_response_signing: unknown parameter "
                           "\"%V\"", &value[n]);
        return NGX_CONF_ERROR;
    }

    if (flcf->rsig_keyid.len == 0) {
        if (fwg_respsig_keyid(k, keyid) != 0) {
            return "cannot derive a keyid from the key";
        }

        p = ngx_pnalloc(cf->pool, FWG_RESPSIG_KEYID_LEN);
        if (p == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memcpy(p, keyid, FWG_RESPSIG_KEYID_LEN);
        flcf->rsig_keyid.data = p;
        flcf->rsig_keyid.len = FWG_RESPSIG_KEYID_LEN;
    }

    return NGX_CONF_OK;
}


/*
 * The request's Signature field lines, combined; and the device's label:
 * fwgate_signature_label, else the only member, else "fw" (as the gate
 * picks it, fwg_sig_parse()).
 */

static ngx_int_t
ngx_http_fwgate_rsig_request(ngx_http_request_t *r,
    ngx_http_fwgate_loc_conf_t *lcf, fwg_arena_t *a, fwg_str_t *sig,
    fwg_str_t *label)
{
    u_char            *p;
    size_t             len;
    ngx_uint_t         i;
    ngx_list_part_t   *part;
    ngx_table_elt_t   *h;
    fwg_sf_member_t   *m;
    size_t             nm;
    const char        *err;

    len = 0;
    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {
        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == 9
            && ngx_strncasecmp(h[i].key.data, (u_char *) "signature", 9)
               == 0)
        {
            len += (len ? 2 : 0) + h[i].value.len;
        }
    }

    if (len == 0 || len > FWG_SIG_MAX_FIELD) {
        return NGX_DECLINED;
    }

    p = fwg_arena_alloc(a, len);
    if (p == NULL) {
        return NGX_DECLINED;
    }

    sig->data = (char *) p;
    sig->len = len;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {
        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == 9
            && ngx_strncasecmp(h[i].key.data, (u_char *) "signature", 9)
               == 0)
        {
            if (p != (u_char *) sig->data) {
                *p++ = ',';
                *p++ = ' ';
            }

            p = ngx_cpymem(p, h[i].value.data, h[i].value.len);
        }
    }

    if (lcf->label.len) {
        label->data = (const char *) lcf->label.data;
        label->len = lcf->label.len;
        return NGX_OK;
    }

    if (fwg_sf_parse_dict(sig->data, sig->len, a, &m, &nm, &err)
        != FWG_SF_OK)
    {
        return NGX_DECLINED;
    }

    if (nm == 1) {
        *label = m[0].key;

    } else {
        label->data = "fw";
        label->len = 2;
    }

    return NGX_OK;
}


/* adds Content-Digest, Signature-Input and Signature for body */

static ngx_int_t
ngx_http_fwgate_rsig_sign(ngx_http_request_t *r,
    ngx_http_fwgate_loc_conf_t *lcf, u_char *body, size_t len)
{
    u_char                *buf;
    ngx_str_t              v;
    fwg_str_t              si, sg;
    fwg_arena_t            a;
    const char            *err;
    fwg_respsig_params_t   p;
    char                  *cd;

    buf = ngx_palloc(r->pool, NGX_HTTP_FWGATE_RSIG_ARENA);
    if (buf == NULL) {
        return NGX_ERROR;
    }

    fwg_arena_init(&a, buf, NGX_HTTP_FWGATE_RSIG_ARENA);

    ngx_memzero(&p, sizeof(p));

    if (ngx_http_fwgate_rsig_request(r, lcf, &a, &p.req_signature,
                                     &p.req_label)
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "fwgate: answer %ui not signed: the request carries "
                      "no signature to bind it to", r->headers_out.status);
        return NGX_DECLINED;
    }

    cd = fwg_arena_alloc(&a, FWG_RESPSIG_DIGEST_LEN + 1);
    if (cd == NULL || fwg_respsig_digest(cd, body, len) != 0) {
        return NGX_ERROR;
    }

    p.status = (int) r->headers_out.status;
    p.content_digest.data = cd;
    p.content_digest.len = FWG_RESPSIG_DIGEST_LEN;
    p.label.data = (const char *) lcf->rsig_label.data;
    p.label.len = lcf->rsig_label.len;
    p.keyid.data = (const char *) lcf->rsig_keyid.data;
    p.keyid.len = lcf->rsig_keyid.len;
    p.created = (int64_t) ngx_time();

    err = NULL;

    if (fwg_respsig_sign(lcf->rsig_key, &p, &a, &si, &sg, &err) != 0) {
        /* a label the request lacks, say: the device cannot check it */
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "fwgate: answer %ui not signed: %s",
                      r->headers_out.status, err ? err : "error");
        return NGX_DECLINED;
    }

    v.data = (u_char *) cd;
    v.len = FWG_RESPSIG_DIGEST_LEN;

    if (ngx_http_fwgate_header_out(r, "Content-Digest", &v) != NGX_OK) {
        return NGX_ERROR;
    }

    v.data = (u_char *) si.data;
    v.len = si.len;

    if (ngx_http_fwgate_header_out(r, "Signature-Input", &v) != NGX_OK) {
        return NGX_ERROR;
    }

    v.data = (u_char *) sg.data;
    v.len = sg.len;

    if (ngx_http_fwgate_header_out(r, "Signature", &v) != NGX_OK) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_fwgate_rsig_header_filter(ngx_http_request_t *r)
{
    ngx_http_fwgate_ctx_t       *ctx;
    ngx_http_fwgate_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_fwgate_module);

    if (r != r->main || lcf->handler != NGX_HTTP_FWGATE_HANDLER_MANIFEST
        || lcf->rsig_key == NULL)
    {
        return ngx_http_fwgate_next_header_filter(r);
    }

    ctx = ngx_http_fwgate_get_ctx(r);

    if (ctx == NULL || ctx->rsig != NULL) {
        return ngx_http_fwgate_next_header_filter(r);
    }

    if (r->headers_out.status == NGX_HTTP_NO_CONTENT) {
        /* no body will follow: sign the empty one now */

        if (ngx_http_fwgate_rsig_sign(r, lcf, NULL, 0) == NGX_ERROR) {
            return NGX_ERROR;
        }

        return ngx_http_fwgate_next_header_filter(r);
    }

    if (r->header_only || r->method == NGX_HTTP_HEAD) {
        /*
         * HEAD (header_only is only set further down the chain): no
         * content, and a digest of the GET's body would not be a
         * Content-Digest of this message (RFC 9530); not signed
         */
        return ngx_http_fwgate_next_header_filter(r);
    }

    ctx->rsig = ngx_pcalloc(r->pool, sizeof(ngx_http_fwgate_rsig_t));
    if (ctx->rsig == NULL) {
        return NGX_ERROR;
    }

    /* the digest is of the bytes sent: no content coding after it */

#if (NGX_HTTP_GZIP)
    r->gzip_tested = 1;
    r->gzip_ok = 0;
#endif

    r->allow_ranges = 0;
    r->filter_need_in_memory = 1;

    /* held back until the body is complete */

    return NGX_OK;
}


static ngx_int_t
ngx_http_fwgate_rsig_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    u_char                      *p;
    size_t                       n, size;
    ngx_int_t                    rc;
    ngx_buf_t                   *b;
    ngx_uint_t                   last;
    ngx_chain_t                 *cl, out;
    ngx_http_fwgate_ctx_t       *ctx;
    ngx_http_fwgate_rsig_t      *rs;
    ngx_http_fwgate_loc_conf_t  *lcf;

    if (r != r->main) {
        return ngx_http_fwgate_next_body_filter(r, in);
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_fwgate_module);

    if (ctx == NULL || ctx->rsig == NULL || ctx->rsig->done) {
        return ngx_http_fwgate_next_body_filter(r, in);
    }

    rs = ctx->rsig;
    lcf = ngx_http_get_module_loc_conf(r, ngx_http_fwgate_module);
    last = 0;

    for (cl = in; cl; cl = cl->next) {
        b = cl->buf;

        /* the main request's body ends with last_buf (send_ok, and
           nginx's special responses) */
        if (b->last_buf) {
            last = 1;
        }

        if (ngx_buf_special(b)) {
            continue;
        }

        if (!ngx_buf_in_memory(b)) {
            /* a file-backed error page: not worth reading here */
            rs->failed = 1;
            continue;
        }

        n = b->last - b->pos;

        if (rs->len + n > NGX_HTTP_FWGATE_RSIG_MAX_BODY) {
            rs->failed = 1;
            b->pos = b->last;
            continue;
        }

        if (rs->len + n > rs->size) {
            size = ngx_max(rs->size * 2, rs->len + n);
            size = ngx_max(size, 1024);

            p = ngx_pnalloc(r->pool, size);
            if (p == NULL) {
                return NGX_ERROR;
            }

            if (rs->len) {
                ngx_memcpy(p, rs->body, rs->len);
            }

            rs->body = p;
            rs->size = size;
        }

        if (n) {
            ngx_memcpy(rs->body + rs->len, b->pos, n);
            rs->len += n;
        }

        b->pos = b->last;
    }

    if (!last) {
        return NGX_OK;
    }

    rs->done = 1;

    if (rs->failed) {
        /* the answer cannot be signed; it must not look signed either */
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "fwgate: answer %ui not signed: its body is not in "
                      "memory or larger than %uz bytes",
                      r->headers_out.status,
                      (size_t) NGX_HTTP_FWGATE_RSIG_MAX_BODY);
        return NGX_ERROR;
    }

    if (ngx_http_fwgate_rsig_sign(r, lcf, rs->body, rs->len) == NGX_ERROR) {
        return NGX_ERROR;
    }

    r->headers_out.content_length_n = rs->len;

    if (r->headers_out.content_length) {
        r->headers_out.content_length->hash = 0;
        r->headers_out.content_length = NULL;
    }

    rc = ngx_http_fwgate_next_header_filter(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    if (rs->len) {
        b->pos = rs->body;
        b->last = rs->body + rs->len;
        b->memory = 1;
    }

    b->last_buf = 1;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_fwgate_next_body_filter(r, &out);
}


ngx_int_t
ngx_http_fwgate_respsig_init(ngx_conf_t *cf)
{
    ngx_http_fwgate_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_fwgate_rsig_header_filter;

    ngx_http_fwgate_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_fwgate_rsig_body_filter;

    return NGX_OK;
}
