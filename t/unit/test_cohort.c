/*
 * Cohort buckets against values computed independently with
 *   printf '%s' 'salt:dev' | openssl dgst -sha256
 * (first 4 bytes, big-endian, mod 10000), and percent parsing.
 */

#include <string.h>

#include "unit.h"
#include "fwg_cohort.h"


static uint32_t
bucket(const char *salt, const char *id)
{
    fwg_str_t  s, d;

    s.data = salt;
    s.len = strlen(salt);
    d.data = id;
    d.len = strlen(id);

    return fwg_cohort_bucket(s, d);
}


static long
pct(const char *s)
{
    return fwg_percent_parse(s, strlen(s));
}


void
suite_cohort(void)
{
    static const char  *bad[] = {
        "100.5", "-1", "1.234", "", "abc", "100.01", "101", "1000", "1.",
        ".5", "+1", " 1", "1 ", "1,5", "0x10", "50%", "1e2", "12.3.4",
        "99.999", "nan", "-0"
    };

    size_t  i;
    int     monotonic;
    long    p;

    unit_suite("cohort");

    /* 760c39e4 -> 1980512740 */
    FWG_CHECK_EQ_INT(bucket("salt", "dev"), 2740);
    /* 976e9d12 */
    FWG_CHECK_EQ_INT(bucket("ls6000i-2.5.0.bin", "LS6-000123"), 8786);
    /* e7ac0786: empty salt and id still hash ":" */
    FWG_CHECK_EQ_INT(bucket("", ""), 1014);
    /* 3986d2a3 */
    FWG_CHECK_EQ_INT(bucket("rollout-A", "device-42"), 7059);
    /* 51e33c7c */
    FWG_CHECK_EQ_INT(bucket("x", ""), 6652);
    /* f19fc733: 110 bytes, the pieces across a block boundary */
    FWG_CHECK_EQ_INT(bucket("rollout-salt-rollout-salt-rollout-salt-"
                            "rollout-salt-rollout-salt-",
                            "DEVICE-0123456789-abcdefghijklmnopqrstuvwxyz"),
                     275);

    /* percent, in hundredths */
    FWG_CHECK_EQ_INT(pct("0"), 0);
    FWG_CHECK_EQ_INT(pct("100"), 10000);
    FWG_CHECK_EQ_INT(pct("100.0"), 10000);
    FWG_CHECK_EQ_INT(pct("100.00"), 10000);
    FWG_CHECK_EQ_INT(pct("50"), 5000);
    FWG_CHECK_EQ_INT(pct("12.5"), 1250);
    FWG_CHECK_EQ_INT(pct("12.05"), 1205);
    FWG_CHECK_EQ_INT(pct("0.01"), 1);
    FWG_CHECK_EQ_INT(pct("99.99"), 9999);
    FWG_CHECK_EQ_INT(pct("7"), 700);

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        p = pct(bad[i]);
        FWG_CHECK_MSG(p == -1, "percent \"%s\" accepted as %ld", bad[i], p);
    }

    FWG_CHECK_EQ_INT(fwg_percent_parse("50", 1), 500);   /* length bound */
    FWG_CHECK_EQ_INT(fwg_percent_parse("1\0", 2), -1);
    FWG_CHECK_EQ_INT(fwg_percent_parse(NULL, 0), -1);

    /* membership */
    FWG_CHECK_EQ_INT(fwg_cohort_in(2740, 2741, 0, 0), 1);
    FWG_CHECK_EQ_INT(fwg_cohort_in(2740, 2740, 0, 0), 0);
    FWG_CHECK_EQ_INT(fwg_cohort_in(0, 0, 0, 0), 0);
    FWG_CHECK_EQ_INT(fwg_cohort_in(0, 1, 0, 0), 1);
    FWG_CHECK_EQ_INT(fwg_cohort_in(9999, 10000, 0, 0), 1);
    FWG_CHECK_EQ_INT(fwg_cohort_in(9999, 10000, 0, 1), 0);
    FWG_CHECK_EQ_INT(fwg_cohort_in(9999, 0, 1, 0), 1);
    FWG_CHECK_EQ_INT(fwg_cohort_in(9999, 0, 1, 1), 1);   /* canary wins */
    FWG_CHECK_EQ_INT(fwg_cohort_in(0, -1, 0, 0), 0);
    /* the bucket error value is never in a cohort */
    FWG_CHECK_EQ_INT(fwg_cohort_in(0xffffffffU, 10000, 0, 0), 0);

    /* raising the percent only adds devices */
    monotonic = 1;

    for (i = 0; i < 2000; i++) {
        char      id[32];
        uint32_t  b;
        long      lo, hi;

        id[0] = 'd';
        id[1] = (char) ('0' + i / 1000 % 10);
        id[2] = (char) ('0' + i / 100 % 10);
        id[3] = (char) ('0' + i / 10 % 10);
        id[4] = (char) ('0' + i % 10);
        id[5] = '\0';

        b = bucket("mono", id);

        if (b >= 10000) {
            monotonic = 0;
        }

        for (lo = 0, hi = 37; hi <= 10000; lo = hi, hi += 37) {
            if (fwg_cohort_in(b, lo, 0, 0) && !fwg_cohort_in(b, hi, 0, 0)) {
                monotonic = 0;
            }
        }
    }

    FWG_CHECK(monotonic);
}
