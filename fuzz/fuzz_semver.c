/*
 * libFuzzer target: SemVer 2.0.0 and ranges.  Input pieces (one a line):
 * version A, version B, range.  Checks that comparison is antisymmetric
 * and reflexive, and that range matching agrees with range validation.
 */

#include <stdio.h>

#include "fuzz_util.h"
#include "fwg_cohort.h"
#include "fwg_semver.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_pieces_t   pc;
    fwg_semver_t    a, b;
    fwg_str_t       sa, sb, range;
    int             oka, okb, ab, ba, valid, m;

    fuzz_split(&pc, data, size);
    sa = fuzz_piece(&pc, 0);
    sb = fuzz_piece(&pc, 1);
    range = fuzz_piece(&pc, 2);

    oka = fwg_semver_parse(&a, sa.data, sa.len) == 0;
    okb = fwg_semver_parse(&b, sb.data, sb.len) == 0;

    if (oka && fwg_semver_cmp(&a, &a) != 0) {
        fprintf(stderr, "fuzz_semver: cmp(a, a) != 0\n");
        abort();
    }

    if (oka && okb) {
        ab = fwg_semver_cmp(&a, &b);
        ba = fwg_semver_cmp(&b, &a);
        if ((ab < 0) != (ba > 0) || (ab == 0) != (ba == 0)) {
            fprintf(stderr, "fuzz_semver: cmp not antisymmetric\n");
            abort();
        }
    }

    valid = fwg_range_valid(range.data, range.len) == 0;

    if (oka) {
        m = fwg_range_match(range.data, range.len, &a);
        if ((m < 0) == valid) {
            fprintf(stderr, "fuzz_semver: range_valid %d, match %d\n",
                    valid, m);
            abort();
        }
    }

    /* the other small parsers of registry fields */
    (void) fwg_percent_parse(sb.data, sb.len);
    (void) fwg_cohort_bucket(sa, sb);

    fuzz_free(&pc);
    return 0;
}
