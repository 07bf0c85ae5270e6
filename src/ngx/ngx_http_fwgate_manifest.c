
/* placeholder until the manifest handler lands: answers 501 */

#include "ngx_http_fwgate_module.h"


ngx_int_t
ngx_http_fwgate_manifest_handler(ngx_http_request_t *r)
{
    return NGX_HTTP_NOT_IMPLEMENTED;
}
