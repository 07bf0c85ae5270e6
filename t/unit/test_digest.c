/*
 * RFC 9530 Content-Digest checks, with the RFC's own example values.
 */

#include <string.h>

#include "unit.h"
#include <stdio.h>

#include "fwg_digest.h"


static int
check(const char *field, const char *body)
{
    fwg_arena_t   a;
    const char   *err;
    char          mem[4096];

    fwg_arena_init(&a, mem, sizeof(mem));
    err = NULL;

    return fwg_content_digest_check(field, strlen(field),
                                    (const unsigned char *) body,
                                    strlen(body), &a, &err);
}


void
suite_digest(void)
{
    /* RFC 9530 section 2, the body {"hello": "world"} */
    const char  *body = "{\"hello\": \"world\"}";
    const char  *sha256 =
        "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:";
    const char  *sha512 =
        "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrI"
        "iYllu7BNNyealdVLvRwEmTHWXvJwew==:";

    unit_suite("digest");

    FWG_CHECK_EQ_INT(check(sha256, body), 1);
    FWG_CHECK_EQ_INT(check(sha512, body), 1);

    {
        char  both[512];

        snprintf(both, sizeof(both), "%s, %s", sha512, sha256);
        FWG_CHECK_EQ_INT(check(both, body), 1);
    }

    /* altered body, altered digest */
    FWG_CHECK_EQ_INT(check(sha256, "{\"hello\": \"World\"}"), 0);
    FWG_CHECK_EQ_INT(
        check("sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPA=:",
              body), 0);

    /* a supported member that mismatches fails even beside a good one */
    {
        char  mixed[512];

        snprintf(mixed, sizeof(mixed), "%s, sha-512=:AAAA:", sha256);
        FWG_CHECK_EQ_INT(check(mixed, body), 0);
    }

    /* unsupported only, malformed, wrong types */
    FWG_CHECK_EQ_INT(check("md5=:AAAA:", body), -1);
    FWG_CHECK_EQ_INT(check("sha-256=\"abc\"", body), -1);
    FWG_CHECK_EQ_INT(check("sha-256=:X48E9q", body), -1);
    FWG_CHECK_EQ_INT(check("", body), -1);
    FWG_CHECK_EQ_INT(check("sha-256", body), -1);
}
