/*
 * fwgate: Redis commands encoded in RESP (see fwg_resp.h).
 */

#include <string.h>

#include "fwg_resp.h"


/* the decimal digits of n */
static size_t
fwg_resp_digits(size_t n)
{
    size_t  d;

    for (d = 1; n >= 10; n /= 10) {
        d++;
    }

    return d;
}


/* c, the decimal n, CR LF */
static char *
fwg_resp_header(char *p, char c, size_t n)
{
    size_t  d;
    char   *end;

    *p++ = c;
    d = fwg_resp_digits(n);
    end = p + d;

    do {
        *--end = (char) ('0' + n % 10);
        n /= 10;
    } while (n);

    p += d;
    *p++ = '\r';
    *p++ = '\n';

    return p;
}


size_t
fwg_resp_command_len(int argc, const char **argv, const size_t *argvlen)
{
    int     i;
    size_t  len;

    (void) argv;

    len = 1 + fwg_resp_digits((size_t) argc) + 2;

    for (i = 0; i < argc; i++) {
        len += 1 + fwg_resp_digits(argvlen[i]) + 2 + argvlen[i] + 2;
    }

    return len;
}


char *
fwg_resp_command(char *out, int argc, const char **argv,
    const size_t *argvlen)
{
    int    i;
    char  *p;

    p = fwg_resp_header(out, '*', (size_t) argc);

    for (i = 0; i < argc; i++) {
        p = fwg_resp_header(p, '$', argvlen[i]);

        if (argvlen[i]) {
            memcpy(p, argv[i], argvlen[i]);
            p += argvlen[i];
        }

        *p++ = '\r';
        *p++ = '\n';
    }

    return p;
}
