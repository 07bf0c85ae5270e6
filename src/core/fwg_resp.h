/*
 * fwgate: a Redis command in RESP, the protocol's request form
 * ("*<argc>\r\n" then "$<len>\r\n<arg>\r\n" for each argument).
 *
 * The module hands hiredis commands already encoded
 * (redisAsyncFormattedCommand): hiredis's own encoder builds them with
 * sdscatfmt and a reallocation or two, about 2,400 instructions for an
 * HGETALL, where this takes a stack buffer and a pass.
 */

#ifndef FWG_RESP_H
#define FWG_RESP_H

#include <stddef.h>

/* the encoded length of argv[0 .. argc - 1] */
size_t fwg_resp_command_len(int argc, const char **argv,
    const size_t *argvlen);

/*
 * Encodes into out, which holds fwg_resp_command_len() bytes; returns
 * the end of what was written.
 */
char *fwg_resp_command(char *out, int argc, const char **argv,
    const size_t *argvlen);

#endif /* FWG_RESP_H */
