/*
 * fwgatectl: the JSON string writer of every command's --json output,
 * through the core's escaper (src/core/fwg_json.c) that the module's
 * update check uses too, so all of them write the same bytes for the same
 * string.
 */

#include <stdio.h>

#include "fwgatectl.h"
#include "fwg_json.h"


void
fwgctl_json_str(FILE *f, const char *s, size_t len)
{
    char    buf[6 * 64];
    size_t  n, i;

    fputc('"', f);

    /* the core's one escaper (fwg_json.c), 64 input bytes at a time */

    for (i = 0; s != NULL && i < len; i += n) {
        n = len - i < 64 ? len - i : 64;
        fwrite(buf, 1, fwg_json_escape(buf, s + i, n), f);
    }

    fputc('"', f);
}


void
fwgctl_json_kv(FILE *f, const char *key, fwg_str_t v, int comma)
{
    fprintf(f, "%s\"%s\":", comma ? "," : "", key);
    fwgctl_json_str(f, v.data, v.len);
}
