/*
 * SemVer 2.0.0 parsing, precedence (the semver.org examples) and ranges.
 */

#include <string.h>

#include "unit.h"
#include "fwg_semver.h"


static int
sv_ok(const char *s)
{
    fwg_semver_t  v;

    return fwg_semver_parse(&v, s, strlen(s)) == 0;
}


static int
sv_cmp(const char *a, const char *b)
{
    fwg_semver_t  va, vb;

    if (fwg_semver_parse(&va, a, strlen(a)) != 0
        || fwg_semver_parse(&vb, b, strlen(b)) != 0)
    {
        return 99;
    }

    return fwg_semver_cmp(&va, &vb);
}


static int
rmatch(const char *range, const char *ver)
{
    fwg_semver_t  v;

    if (fwg_semver_parse(&v, ver, strlen(ver)) != 0) {
        return 99;
    }

    return fwg_range_match(range, strlen(range), &v);
}


void
suite_semver(void)
{
    static const char  *good[] = {
        "0.0.0", "1.2.3", "10.20.30", "1.1.2-prerelease+meta",
        "1.1.2+meta", "1.1.2+meta-valid", "1.0.0-alpha", "1.0.0-beta",
        "1.0.0-alpha.beta", "1.0.0-alpha.beta.1", "1.0.0-alpha.1",
        "1.0.0-alpha0.valid", "1.0.0-alpha.0valid",
        "1.0.0-alpha-a.b-c-somethinglong+build.1-aef.1-its-okay",
        "1.0.0-rc.1+build.1", "2.0.0-rc.1+build.123", "1.2.3-beta",
        "10.2.3-DEV-SNAPSHOT", "1.2.3-SNAPSHOT-123", "2.0.0+build.1848",
        "2.0.1-alpha.1227", "1.0.0-alpha+beta",
        "1.2.3----RC-SNAPSHOT.12.9.1--.12+788",
        "1.2.3----R-S.12.9.1--.12+meta", "1.2.3----RC-SNAPSHOT.12.9.1--.12",
        "1.0.0+0.build.1-rc.10000aaa-kk-0.1", "1.0.0-0A.is.legal",
        "1.0.0+001", "18446744073709551615.0.0"
    };

    static const char  *bad[] = {
        "", "1", "1.2", "1.2.3-0123", "1.2.3-0123.0123", "1.1.2+.123",
        "+invalid",
        "-invalid", "-invalid+invalid", "-invalid.01", "alpha", "alpha.beta",
        "alpha.beta.1", "alpha.1", "alpha+beta", "alpha_beta", "alpha.",
        "alpha..", "beta", "1.0.0-alpha_beta", "-alpha.", "1.0.0-alpha..",
        "1.0.0-alpha..1", "1.0.0-alpha...1", "1.0.0-alpha....1",
        "1.0.0-alpha.....1", "1.0.0-alpha......1", "1.0.0-alpha.......1",
        "01.1.1", "1.01.1", "1.1.01", "1.2", "1.2.3.DEV", "1.2-SNAPSHOT",
        "1.2.31.2.3----RC-SNAPSHOT.12.09.1--..12+788", "1.2-RC-SNAPSHOT",
        "-1.0.3-gamma+b7718", "+justmeta", "9.8.7+meta+meta",
        "9.8.7-whatever+meta+meta", "v1.2.3", " 1.2.3", "1.2.3 ",
        "1.2.3-", "1.2.3+", "1.2.3-+", "1.2.3-a.", "1.2.3+a.", "1..3",
        "18446744073709551616.0.0", "1.2.3-ü", "1.2.3\n"
    };

    char          longv[FWG_SEMVER_MAX_LEN + 8];
    fwg_semver_t  v, w;
    size_t        i;

    unit_suite("semver");

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        FWG_CHECK_MSG(sv_ok(good[i]), "valid \"%s\" refused", good[i]);
    }

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        FWG_CHECK_MSG(!sv_ok(bad[i]), "invalid \"%s\" accepted", bad[i]);
    }

    FWG_CHECK_EQ_INT(fwg_semver_parse(&v, "1.2.3\0", 6), -1);
    FWG_CHECK_EQ_INT(fwg_semver_parse(&v, "1.2.34", 5), 0);
    FWG_CHECK_EQ_INT(v.patch, 3);

    /* fields */
    FWG_CHECK_EQ_INT(fwg_semver_parse(&v, "2.40.7-rc.1+b.5", 15), 0);
    FWG_CHECK_EQ_INT(v.major, 2);
    FWG_CHECK_EQ_INT(v.minor, 40);
    FWG_CHECK_EQ_INT(v.patch, 7);
    FWG_CHECK_STR(v.pre, "rc.1");

    /* length limit */
    memset(longv, 0, sizeof(longv));
    memcpy(longv, "1.0.0-", 6);
    memset(longv + 6, 'a', FWG_SEMVER_MAX_LEN - 6);
    FWG_CHECK_EQ_INT(fwg_semver_parse(&v, longv, FWG_SEMVER_MAX_LEN), 0);
    longv[FWG_SEMVER_MAX_LEN] = 'a';
    FWG_CHECK_EQ_INT(fwg_semver_parse(&v, longv, FWG_SEMVER_MAX_LEN + 1),
                     -1);

    /* precedence, semver.org item 11 */
    FWG_CHECK_EQ_INT(sv_cmp("1.0.0", "2.0.0"), -1);
    FWG_CHECK_EQ_INT(sv_cmp("2.0.0", "2.1.0"), -1);
    FWG_CHECK_EQ_INT(sv_cmp("2.1.0", "2.1.1"), -1);
    FWG_CHECK_EQ_INT(sv_cmp("2.1.1", "2.1.0"), 1);
    FWG_CHECK_EQ_INT(sv_cmp("1.0.0-alpha", "1.0.0"), -1);
    FWG_CHECK_EQ_INT(sv_cmp("1.0.0-alpha", "1.0.0-alpha.1"), -1);
    FWG_CHECK_EQ_INT(sv_cmp("1.0.0-alpha.1", "1.0.0-alpha.beta"), -1);
    FWG_CHECK_EQ_INT(sv_cmp("1.0.0-alpha.beta", "1.0.0-beta"), -1);
    FWG_CHECK_EQ_INT(sv_cmp("1.0.0-beta", "1.0.0-beta.2"), -1);
    FWG_CHECK_EQ_INT(sv_cmp("1.0.0-beta.2", "1.0.0-beta.11"), -1);
    FWG_CHECK_EQ_INT(sv_cmp("1.0.0-beta.11", "1.0.0-rc.1"), -1);
    FWG_CHECK_EQ_INT(sv_cmp("1.0.0-rc.1", "1.0.0"), -1);
    FWG_CHECK_EQ_INT(sv_cmp("1.0.0", "1.0.0-rc.1"), 1);
    FWG_CHECK_EQ_INT(sv_cmp("1.0.0-beta.11", "1.0.0-beta.2"), 1);
    FWG_CHECK_EQ_INT(sv_cmp("1.0.0+build.1", "1.0.0+build.2"), 0);
    FWG_CHECK_EQ_INT(sv_cmp("1.0.0-rc.1+a", "1.0.0-rc.1"), 0);
    FWG_CHECK_EQ_INT(sv_cmp("1.0.0-Z", "1.0.0-a"), -1);     /* ASCII */
    FWG_CHECK_EQ_INT(sv_cmp("1.0.0-9", "1.0.0-a"), -1);
    FWG_CHECK_EQ_INT(sv_cmp("1.0.0-100", "1.0.0-99"), 1);
    FWG_CHECK_EQ_INT(sv_cmp("1.0.0-a.b", "1.0.0-a"), 1);
    FWG_CHECK_EQ_INT(sv_cmp("1.0.0-ab", "1.0.0-a"), 1);
    FWG_CHECK_EQ_INT(sv_cmp("10.0.0", "9.99.99"), 1);
    FWG_CHECK_EQ_INT(sv_cmp("18446744073709551615.0.0", "1.0.0"), 1);

    /* a struct copy still compares by its own bytes */
    FWG_CHECK_EQ_INT(fwg_semver_parse(&v, "1.0.0-beta.2", 12), 0);
    memcpy(&w, &v, sizeof(v));
    FWG_CHECK_EQ_INT(fwg_semver_cmp(&v, &w), 0);

    /* ranges */
    FWG_CHECK_EQ_INT(rmatch(">=1.2.0", "1.2.0"), 1);
    FWG_CHECK_EQ_INT(rmatch(">= 1.2.0", "1.2.0"), 1);
    FWG_CHECK_EQ_INT(rmatch(">=1.2.0", "1.1.9"), 0);
    FWG_CHECK_EQ_INT(rmatch(">1.2.0", "1.2.0"), 0);
    FWG_CHECK_EQ_INT(rmatch("<1.2.0", "1.2.0-rc.1"), 1);
    FWG_CHECK_EQ_INT(rmatch("<=1.2.0", "1.2.0"), 1);
    FWG_CHECK_EQ_INT(rmatch("=1.2.0", "1.2.0+b"), 1);
    FWG_CHECK_EQ_INT(rmatch("1.2.0", "1.2.0"), 1);
    FWG_CHECK_EQ_INT(rmatch("1.2.0", "1.2.1"), 0);
    FWG_CHECK_EQ_INT(rmatch(">=2.0.0 <2.5.0", "2.4.1"), 1);
    FWG_CHECK_EQ_INT(rmatch(">=2.0.0 <2.5.0", "2.5.0"), 0);
    FWG_CHECK_EQ_INT(rmatch(">=2.0.0  \t<2.5.0", "1.9.0"), 0);
    FWG_CHECK_EQ_INT(rmatch("<1.0.0 || >=2.0.0 <3.0.0", "2.1.0"), 1);
    FWG_CHECK_EQ_INT(rmatch("<1.0.0 || >=2.0.0 <3.0.0", "1.5.0"), 0);
    FWG_CHECK_EQ_INT(rmatch("<1.0.0||>=2.0.0", "0.9.0"), 1);
    FWG_CHECK_EQ_INT(rmatch("  1.0.0 ||  2.0.0  ", "2.0.0"), 1);
    FWG_CHECK_EQ_INT(rmatch("> = 1.0.0", "2.0.0"), -1);
    FWG_CHECK_EQ_INT(rmatch(">=1.0.0 ||", "2.0.0"), -1);
    FWG_CHECK_EQ_INT(rmatch("|| >=1.0.0", "2.0.0"), -1);
    FWG_CHECK_EQ_INT(rmatch(">=1.0.0 | <0.5.0", "2.0.0"), -1);
    FWG_CHECK_EQ_INT(rmatch(">=1.0.0 ||| <0.5.0", "2.0.0"), -1);
    /* malformed anywhere is malformed, even after a matching set */
    FWG_CHECK_EQ_INT(rmatch("2.0.0 || >=x", "2.0.0"), -1);
    FWG_CHECK_EQ_INT(rmatch(">=1.0", "2.0.0"), -1);
    FWG_CHECK_EQ_INT(rmatch("~1.0.0", "1.0.0"), -1);
    FWG_CHECK_EQ_INT(rmatch("^1.0.0", "1.0.0"), -1);
    FWG_CHECK_EQ_INT(rmatch("*", "1.0.0"), -1);
    FWG_CHECK_EQ_INT(rmatch("", "1.0.0"), -1);
    FWG_CHECK_EQ_INT(rmatch("   ", "1.0.0"), -1);
    FWG_CHECK_EQ_INT(rmatch(">=", "1.0.0"), -1);
    FWG_CHECK_EQ_INT(rmatch("<<1.0.0", "1.0.0"), -1);
    FWG_CHECK_EQ_INT(rmatch("=>1.0.0", "1.0.0"), -1);

    FWG_CHECK_EQ_INT(fwg_range_valid(">=1.0.0 <2.0.0 || 3.0.0", 23), 0);
    FWG_CHECK_EQ_INT(fwg_range_valid(">=1.0.0 <2.0.0 || 3.0.0", 22), -1);
    FWG_CHECK_EQ_INT(fwg_range_valid(">=1.0.0 <2", 10), -1);
    FWG_CHECK_EQ_INT(fwg_range_valid("1.0.0x", 5), 0);   /* length bound */
    FWG_CHECK_EQ_INT(fwg_range_valid(NULL, 0), -1);
}
