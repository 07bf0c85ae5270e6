/*
 * RESP command encoding against hiredis's own encoder
 * (redisFormatCommandArgv), byte for byte: argument lengths on each side
 * of a digit boundary, empty and binary arguments, CR LF inside one.
 */

#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "unit.h"
#include "fwg_resp.h"


static void
check(int argc, const char **argv, const size_t *argvlen)
{
    int     n;
    char   *ref, *ours, *end;
    size_t  len;

    ref = NULL;
    n = redisFormatCommandArgv(&ref, argc, argv, argvlen);
    len = fwg_resp_command_len(argc, argv, argvlen);

    FWG_CHECK_MSG(n >= 0 && (size_t) n == len,
                  "%d arguments, first length %zu: length %zu, hiredis %d",
                  argc, argvlen[0], len, n);

    ours = malloc(len ? len : 1);
    if (ours == NULL || ref == NULL || n < 0) {
        FWG_CHECK(0);
        free(ours);
        redisFreeCommand(ref);
        return;
    }

    end = fwg_resp_command(ours, argc, argv, argvlen);

    FWG_CHECK_EQ_INT(end - ours, (long long) len);
    FWG_CHECK_MEM(ours, len, ref, (size_t) n);

    free(ours);
    redisFreeCommand(ref);
}


void
suite_resp(void)
{
    static const size_t  lens[] = {
        0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 9999, 10000, 70000
    };

    int           i, j, argc;
    char         *big;
    size_t        argvlen[12];
    const char   *argv[12];

    unit_suite("resp");

    big = malloc(70000);
    if (big == NULL) {
        FWG_CHECK(0);
        return;
    }

    for (i = 0; i < 70000; i++) {
        big[i] = (char) (i * 7 + 3);        /* NUL, CR and LF among them */
    }

    argv[0] = "HGETALL";
    argvlen[0] = 7;
    argv[1] = "fwgate:device:LS6-000123";
    argvlen[1] = strlen(argv[1]);
    check(2, argv, argvlen);

    argv[0] = "SISMEMBER";
    argvlen[0] = 9;
    argv[1] = "fwgate:rollout:LS6000i:canary";
    argvlen[1] = strlen(argv[1]);
    argv[2] = "a\r\nb";
    argvlen[2] = 4;
    check(3, argv, argvlen);

    for (i = 0; i < (int) (sizeof(lens) / sizeof(lens[0])); i++) {
        argv[0] = big;
        argvlen[0] = lens[i];
        check(1, argv, argvlen);
    }

    /* 1 to 11 arguments: the count's own digits */
    for (argc = 1; argc <= 11; argc++) {
        for (j = 0; j < argc; j++) {
            argv[j] = big + j;
            argvlen[j] = lens[j % 13];
        }

        check(argc, argv, argvlen);
    }

    free(big);
}
