/*
 * fwgatectl: reads a raw HTTP/1.1 request (RFC 9112) from a file.
 *
 * Lines end with CRLF or LF.  Obsolete line folding is refused, as RFC
 * 9112 section 5.2 lets a server do, rather than guessed at: a signature
 * base built from a guess would only mislead.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_request.h"


static int
http_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9'))
    {
        return 1;
    }

    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}


static int
http_token(const char *s, size_t len)
{
    size_t  i;

    if (len == 0) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!http_tchar((unsigned char) s[i])) {
            return 0;
        }
    }

    return 1;
}


/* the next line without its CRLF or LF; 0 at the end of the input */
static int
http_line(const char *buf, size_t len, size_t *pos, fwg_str_t *line)
{
    const char  *p, *nl;

    if (*pos >= len) {
        return 0;
    }

    p = buf + *pos;
    nl = memchr(p, '\n', len - *pos);

    line->data = p;

    if (nl == NULL) {
        line->len = len - *pos;
        *pos = len;

    } else {
        line->len = (size_t) (nl - p);
        *pos += line->len + 1;
    }

    if (line->len && line->data[line->len - 1] == '\r') {
        line->len--;
    }

    return 1;
}


static int
http_bad_bytes(fwg_str_t s)
{
    size_t  i;

    for (i = 0; i < s.len; i++) {
        if (s.data[i] == '\0' || s.data[i] == '\r') {
            return 1;
        }
    }

    return 0;
}


static int
http_ci_prefix(fwg_str_t s, const char *p)
{
    size_t  i, n;

    n = strlen(p);

    if (s.len < n) {
        return 0;
    }

    for (i = 0; i < n; i++) {
        if ((s.data[i] | 0x20) != p[i] && s.data[i] != p[i]) {
            return 0;
        }
    }

    return 1;
}


/* path and query of a target's tail ("/p?q"), fragments refused */
static int
http_path_query(fwg_str_t t, fwg_msg_t *msg, const char **err)
{
    const char  *q;

    if (memchr(t.data, '#', t.len) != NULL) {
        *err = "fragment in the request target";
        return -1;
    }

    q = memchr(t.data, '?', t.len);

    msg->path.data = t.data;
    msg->path.len = q ? (size_t) (q - t.data) : t.len;

    if (q) {
        msg->has_query = 1;
        msg->query.data = q + 1;
        msg->query.len = t.len - msg->path.len - 1;

    } else {
        msg->has_query = 0;
        msg->query.data = NULL;
        msg->query.len = 0;
    }

    return 0;
}


static int
http_request_line(fwg_str_t line, http_request_t *req, const char *scheme,
    int force, int *absolute, const char **err)
{
    const char  *sp1, *sp2, *a;
    fwg_str_t    method, target, version, rest;
    size_t       skip;

    sp1 = memchr(line.data, ' ', line.len);
    if (sp1 == NULL) {
        *err = "bad request line";
        return -1;
    }

    method.data = line.data;
    method.len = (size_t) (sp1 - line.data);

    rest.data = sp1 + 1;
    rest.len = line.len - method.len - 1;

    sp2 = memchr(rest.data, ' ', rest.len);
    if (sp2 == NULL) {
        *err = "bad request line (no HTTP version)";
        return -1;
    }

    target.data = rest.data;
    target.len = (size_t) (sp2 - rest.data);

    version.data = sp2 + 1;
    version.len = rest.len - target.len - 1;

    if (!http_token(method.data, method.len)) {
        *err = "bad method";
        return -1;
    }

    if (version.len != 8 || memcmp(version.data, "HTTP/1.", 7) != 0) {
        *err = "not an HTTP/1.x request";
        return -1;
    }

    if (target.len == 0 || memchr(target.data, ' ', target.len)
        || memchr(target.data, '\t', target.len))
    {
        *err = "bad request target";
        return -1;
    }

    req->msg.method = method;
    req->msg.scheme.data = scheme ? scheme : "https";
    req->msg.scheme.len = strlen(req->msg.scheme.data);
    *absolute = 0;

    if (target.data[0] == '/') {
        return http_path_query(target, &req->msg, err);
    }

    /* absolute-form: the target gives scheme and authority */

    if (http_ci_prefix(target, "https://")) {
        skip = 8;

    } else if (http_ci_prefix(target, "http://")) {
        skip = 7;

    } else {
        *err = "unsupported request target form";
        return -1;
    }

    if (!force) {
        req->msg.scheme.data = target.data;
        req->msg.scheme.len = skip - 3;
    }

    rest.data = target.data + skip;
    rest.len = target.len - skip;

    for (a = rest.data; a < rest.data + rest.len; a++) {
        if (*a == '/' || *a == '?' || *a == '#') {
            break;
        }
    }

    req->msg.authority.data = rest.data;
    req->msg.authority.len = (size_t) (a - rest.data);

    if (req->msg.authority.len == 0) {
        *err = "no authority in the request target";
        return -1;
    }

    *absolute = 1;

    rest.len -= req->msg.authority.len;
    rest.data = a;

    if (rest.len && rest.data[0] == '#') {
        *err = "fragment in the request target";
        return -1;
    }

    return http_path_query(rest, &req->msg, err);
}


static int
http_parse(http_request_t *req, const char *scheme, int force,
    const char **err)
{
    int          absolute, hosts;
    size_t       pos;
    fwg_str_t    line, name, value;
    const char  *colon;

    pos = 0;

    /* RFC 9112 section 2.2: empty lines before the request line */
    do {
        if (!http_line(req->buf, req->len, &pos, &line)) {
            *err = "empty request";
            return -1;
        }
    } while (line.len == 0);

    if (http_bad_bytes(line)) {
        *err = "NUL or CR in the request line";
        return -1;
    }

    if (http_request_line(line, req, scheme, force, &absolute, err) != 0) {
        return -1;
    }

    req->fields = calloc(HTTP_REQUEST_MAX_FIELDS, sizeof(fwg_field_t));
    if (req->fields == NULL) {
        *err = "out of memory";
        return -1;
    }

    hosts = 0;

    while (http_line(req->buf, req->len, &pos, &line)) {
        if (line.len == 0) {
            break;
        }

        if (line.data[0] == ' ' || line.data[0] == '\t') {
            *err = "obsolete line folding is not accepted";
            return -1;
        }

        if (http_bad_bytes(line)) {
            *err = "NUL or CR in a header line";
            return -1;
        }

        colon = memchr(line.data, ':', line.len);
        if (colon == NULL) {
            *err = "header line without a colon";
            return -1;
        }

        name.data = line.data;
        name.len = (size_t) (colon - line.data);

        if (!http_token(name.data, name.len)) {
            *err = "bad header field name";
            return -1;
        }

        value.data = colon + 1;
        value.len = line.len - name.len - 1;

        while (value.len && (value.data[0] == ' ' || value.data[0] == '\t')) {
            value.data++;
            value.len--;
        }

        while (value.len && (value.data[value.len - 1] == ' '
                             || value.data[value.len - 1] == '\t'))
        {
            value.len--;
        }

        if (req->nfields == HTTP_REQUEST_MAX_FIELDS) {
            *err = "too many header fields";
            return -1;
        }

        req->fields[req->nfields].name = name;
        req->fields[req->nfields].value = value;
        req->nfields++;

        if (name.len == 4 && http_ci_prefix(name, "host")) {
            if (hosts++) {
                *err = "more than one Host";
                return -1;
            }

            if (!absolute) {
                req->msg.authority = value;
            }
        }
    }

    req->msg.fields = req->fields;
    req->msg.nfields = req->nfields;

    return 0;
}


int
http_request_read(const char *path, const char *scheme, int force,
    http_request_t *req, const char **err)
{
    FILE    *f;
    size_t   n;

    memset(req, 0, sizeof(*req));

    if (strcmp(path, "-") == 0) {
        f = stdin;

    } else {
        f = fopen(path, "rb");
        if (f == NULL) {
            *err = "cannot open the request file";
            return -1;
        }
    }

    req->buf = malloc(HTTP_REQUEST_MAX_SIZE + 1);
    if (req->buf == NULL) {
        if (f != stdin) {
            fclose(f);
        }

        *err = "out of memory";
        return -1;
    }

    n = fread(req->buf, 1, HTTP_REQUEST_MAX_SIZE + 1, f);

    if (ferror(f)) {
        if (f != stdin) {
            fclose(f);
        }

        *err = "cannot read the request file";
        return -1;
    }

    if (f != stdin) {
        fclose(f);
    }

    if (n > HTTP_REQUEST_MAX_SIZE) {
        *err = "request larger than 1 MiB";
        return -1;
    }

    req->len = n;

    return http_parse(req, scheme, force, err);
}


void
http_request_free(http_request_t *req)
{
    free(req->buf);
    free(req->fields);

    req->buf = NULL;
    req->fields = NULL;
}
