/*
 * fwgatectl: the JSON string writer of every command's --json output
 * (RFC 8259: '"', '\\' and the control characters escaped, "\n" for a
 * newline), so all of them write the same bytes for the same string.
 */

#include <stdio.h>

#include "fwgatectl.h"


void
fwgctl_json_str(FILE *f, const char *s, size_t len)
{
    size_t          i;
    unsigned char   ch;

    fputc('"', f);

    for (i = 0; s != NULL && i < len; i++) {
        ch = (unsigned char) s[i];

        if (ch == '"' || ch == '\\') {
            fputc('\\', f);
            fputc(ch, f);

        } else if (ch == '\n') {
            fputs("\\n", f);

        } else if (ch < 0x20 || ch == 0x7f) {
            fprintf(f, "\\u%04x", ch);

        } else {
            fputc(ch, f);
        }
    }

    fputc('"', f);
}


void
fwgctl_json_kv(FILE *f, const char *key, fwg_str_t v, int comma)
{
    fprintf(f, "%s\"%s\":", comma ? "," : "", key);
    fwgctl_json_str(f, v.data, v.len);
}
