/*
 * The unit-test runner: every suite in order, then the summary line.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"


unsigned long  unit_passed;
unsigned long  unit_failed;


int
unit_check(int cond, const char *file, int line, const char *expr)
{
    if (cond) {
        unit_passed++;
        return 1;
    }

    unit_failed++;
    printf("FAIL %s:%d: %s\n", file, line, expr);

    return 0;
}


int
unit_check_msg(int cond, const char *file, int line, const char *fmt, ...)
{
    va_list  ap;

    if (cond) {
        unit_passed++;
        return 1;
    }

    unit_failed++;
    printf("FAIL %s:%d: ", file, line);

    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);

    printf("\n");

    return 0;
}


int
unit_check_int(long long a, long long b, const char *file, int line,
    const char *ea, const char *eb)
{
    if (a == b) {
        unit_passed++;
        return 1;
    }

    unit_failed++;
    printf("FAIL %s:%d: %s == %s (%lld != %lld)\n", file, line, ea, eb, a, b);

    return 0;
}


/* prints a byte range with non-printable bytes escaped */
static void
unit_print_mem(const void *p, size_t len)
{
    const unsigned char  *s;
    size_t                i;

    if (p == NULL) {
        printf("(null)");
        return;
    }

    s = p;
    printf("\"");

    for (i = 0; i < len && i < 200; i++) {
        if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\\') {
            putchar(s[i]);

        } else {
            printf("\\x%02x", s[i]);
        }
    }

    printf(i < len ? "\"..." : "\"");
}


int
unit_check_mem(const void *p, size_t plen, const void *q, size_t qlen,
    const char *file, int line, const char *ep, const char *eq)
{
    if (plen == qlen && (plen == 0 || (p && q && memcmp(p, q, plen) == 0))) {
        unit_passed++;
        return 1;
    }

    unit_failed++;
    printf("FAIL %s:%d: %s == %s (", file, line, ep, eq);
    unit_print_mem(p, plen);
    printf(" != ");
    unit_print_mem(q, qlen);
    printf(")\n");

    return 0;
}


int
unit_check_cstr(const char *a, const char *b, const char *file, int line,
    const char *ea, const char *eb)
{
    if ((a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0)) {
        unit_passed++;
        return 1;
    }

    unit_failed++;
    printf("FAIL %s:%d: %s == %s (", file, line, ea, eb);
    unit_print_mem(a, a ? strlen(a) : 0);
    printf(" != ");
    unit_print_mem(b, b ? strlen(b) : 0);
    printf(")\n");

    return 0;
}


void
unit_suite(const char *name)
{
    printf("== %s\n", name);
}


void
unit_summary_and_exit(void)
{
    printf("%lu passed, %lu failed\n", unit_passed, unit_failed);
    fflush(stdout);

    exit(unit_failed ? 1 : 0);
}


int
main(void)
{
    /* failures and the summary must interleave with stderr in order */
    setvbuf(stdout, NULL, _IOLBF, 0);

    suite_b64();
    suite_sf();
    suite_sf_json();
    suite_semver();
    suite_cohort();
    suite_sig();
    suite_ecdsa();
    suite_sigfast();
    suite_decide();
    suite_digest();
    suite_siphash();
    suite_table_hash();
    suite_resp();
    suite_hmac();
    suite_record();
    suite_json();
    suite_release();
    suite_token();
    suite_respsig();

    unit_summary_and_exit();

    return 0;
}
