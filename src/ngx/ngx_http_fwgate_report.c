
/* placeholder until the report handler lands: answers 501 */

#include "ngx_http_fwgate_module.h"


ngx_int_t
ngx_http_fwgate_report_handler(ngx_http_request_t *r)
{
    return NGX_HTTP_NOT_IMPLEMENTED;
}
