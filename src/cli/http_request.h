/*
 * fwgatectl: a raw HTTP/1.1 request read from a file, as fwg_msg_t.
 *
 * Only the request line and the header section are read; the body is
 * ignored.  The request line may carry an origin-form target
 * ("/path?query") or an absolute-form one ("https://host/path").
 */

#ifndef HTTP_REQUEST_H
#define HTTP_REQUEST_H

#include "fwg_sig.h"

#define HTTP_REQUEST_MAX_SIZE    (1024 * 1024)
#define HTTP_REQUEST_MAX_FIELDS  256

typedef struct {
    char          *buf;         /* the file's bytes, owned */
    size_t         len;
    fwg_field_t   *fields;
    size_t         nfields;
    fwg_msg_t      msg;
} http_request_t;

/*
 * path "-" reads stdin.  scheme: the scheme for an origin-form target
 * ("https" when NULL); when force is set it also overrides the scheme of
 * an absolute-form one.  Returns 0, or -1 with *err set.
 */
int http_request_read(const char *path, const char *scheme, int force,
    http_request_t *req, const char **err);

void http_request_free(http_request_t *req);

#endif /* HTTP_REQUEST_H */
