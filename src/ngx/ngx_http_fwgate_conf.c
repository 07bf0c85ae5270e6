
/*
 * fwgate: the directive handlers of ngx_http_fwgate_module.c's table:
 * parsing and checking each directive's arguments into the main and
 * location configurations (docs/directives.md).  Defaults, merging and
 * the checks across directives are in ngx_http_fwgate_module.c.
 */

#include "ngx_http_fwgate_module.h"
#include "fwg_sf.h"


static char *ngx_http_fwgate_parse_server(ngx_conf_t *cf, ngx_str_t *value,
    ngx_http_fwgate_server_t *srv, ngx_uint_t sentinel);
static ngx_int_t ngx_http_fwgate_password_file(ngx_conf_t *cf,
    ngx_str_t *name, ngx_str_t *password);
static char *ngx_http_fwgate_parse_sentinels(ngx_conf_t *cf, ngx_str_t *value,
    ngx_http_fwgate_main_conf_t *fmcf);
static char *ngx_http_fwgate_zone_arg(ngx_conf_t *cf, ngx_str_t *value,
    ngx_str_t *name, size_t *size);
static ngx_uint_t ngx_http_fwgate_token_ok(ngx_str_t *s, ngx_uint_t first_at);
static ngx_int_t ngx_http_fwgate_identifier(ngx_conf_t *cf, ngx_str_t *v);


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


char *
ngx_http_fwgate_set_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
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


char *
ngx_http_fwgate_set_cache(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
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


char *
ngx_http_fwgate_set_replay_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
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


char *
ngx_http_fwgate_set_components(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
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


char *
ngx_http_fwgate_set_algorithms(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
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

char *
ngx_http_fwgate_set_seconds(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
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


char *
ngx_http_fwgate_set_label(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
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


char *
ngx_http_fwgate_set_content(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fwgate_loc_conf_t *flcf = conf;

    ssize_t                    n;
    ngx_str_t                 *value, s;
    ngx_uint_t                 i;
    ngx_http_core_loc_conf_t  *clcf;

    if (flcf->handler) {
        return "is duplicate";
    }

    value = cf->args->elts;
    flcf->handler = cmd->offset;

    for (i = 1; i < cf->args->nelts; i++) {
        if (cmd->offset == NGX_HTTP_FWGATE_HANDLER_MANIFEST
            && ngx_strncmp(value[i].data, "base_url=", 9) == 0)
        {
            flcf->base_url.data = value[i].data + 9;
            flcf->base_url.len = value[i].len - 9;

        } else if (cmd->offset == NGX_HTTP_FWGATE_HANDLER_REPORT
                   && ngx_strncmp(value[i].data, "max_body=", 9) == 0)
        {
            s.data = value[i].data + 9;
            s.len = value[i].len - 9;
            n = ngx_parse_size(&s);

            if (n == NGX_ERROR || n == 0 || n > 1024 * 1024) {
                goto invalid;
            }

            flcf->report_max_body = n;

        } else if (cmd->offset == NGX_HTTP_FWGATE_HANDLER_REPORT
                   && ngx_strncmp(value[i].data, "replicas=", 9) == 0)
        {
            /* a report is answered 2xx once this many replicas have it */
            n = ngx_atoi(value[i].data + 9, value[i].len - 9);

            if (n == NGX_ERROR || n > 64) {
                goto invalid;
            }

            flcf->report_replicas = n;

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
                       "invalid parameter \"%V\"", &value[i]);
    return NGX_CONF_ERROR;
}


/*
 * fwgate_token_secret FILE [FILE]: the first file's secret mints download
 * tokens, each verifies (rotation: the new secret first, the old second).
 * Read at configuration time; the bytes are wiped once the HMAC states
 * are keyed, and never logged.
 */

static void
ngx_http_fwgate_token_secrets_free(void *data)
{
    ngx_http_fwgate_main_conf_t *fmcf = data;

    ngx_uint_t  i;

    for (i = 0; i < fmcf->ntoken_secrets; i++) {
        fwg_token_secret_free(&fmcf->token_secrets[i]);
    }

    fmcf->ntoken_secrets = 0;
}


char *
ngx_http_fwgate_set_token_secret(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_fwgate_main_conf_t *fmcf = conf;

    u_char              *p;
    ssize_t              n;
    ngx_fd_t             fd;
    ngx_str_t           *value, name;
    ngx_uint_t           i, j;
    ngx_file_info_t      fi;
    ngx_pool_cleanup_t  *cln;

    if (fmcf->token_secrets) {
        return "is duplicate";
    }

    value = cf->args->elts;

    fmcf->token_secrets = ngx_pcalloc(cf->pool,
                                      FWG_TOKEN_SECRETS
                                      * sizeof(fwg_token_secret_t));
    if (fmcf->token_secrets == NULL) {
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_fwgate_token_secrets_free;
    cln->data = fmcf;

    p = ngx_pnalloc(cf->pool, FWG_TOKEN_SECRET_MAX + 1);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 1; i < cf->args->nelts; i++) {
        name = value[i];

        if (name.len == 0
            || ngx_conf_full_name(cf->cycle, &name, 1) != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

        fd = ngx_open_file(name.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
        if (fd == NGX_INVALID_FILE) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                               ngx_open_file_n " \"%V\" failed", &name);
            return NGX_CONF_ERROR;
        }

        n = NGX_ERROR;

        if (ngx_fd_info(fd, &fi) != NGX_FILE_ERROR
            && ngx_file_size(&fi) <= FWG_TOKEN_SECRET_MAX + 2)
        {
            n = ngx_read_fd(fd, p, FWG_TOKEN_SECRET_MAX + 1);
        }

        (void) ngx_close_file(fd);

        /* the file's bytes less a final line end, as `echo` leaves one */

        if (n > 0 && p[n - 1] == '\n') {
            n--;

            if (n > 0 && p[n - 1] == '\r') {
                n--;
            }
        }

        if (n < FWG_TOKEN_SECRET_MIN || n > FWG_TOKEN_SECRET_MAX) {
            ngx_explicit_memzero(p, FWG_TOKEN_SECRET_MAX + 1);
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "fwgate_token_secret \"%V\": a file of %d "
                               "to %d bytes expected", &name,
                               FWG_TOKEN_SECRET_MIN, FWG_TOKEN_SECRET_MAX);
            return NGX_CONF_ERROR;
        }

        j = fmcf->ntoken_secrets;

        if (fwg_token_secret_init(&fmcf->token_secrets[j], p, (size_t) n)
            != 0)
        {
            ngx_explicit_memzero(p, FWG_TOKEN_SECRET_MAX + 1);
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "fwgate_token_secret \"%V\": cannot key "
                               "HMAC-SHA256", &name);
            return NGX_CONF_ERROR;
        }

        ngx_explicit_memzero(p, FWG_TOKEN_SECRET_MAX + 1);
        fmcf->ntoken_secrets++;
    }

    return NGX_CONF_OK;
}
