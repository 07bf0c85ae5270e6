/*
 * Cohort assignment (docs/fleet-guide.md).  The module and fwgatectl both call
 * this, so a device lands in the same bucket everywhere.
 */

#include "fwg_cohort.h"
#include "fwg_sha256.h"


/*
 * By the low-level digest (fwg_sha256.c), with no fetch, context or
 * allocation: through EVP, with a kept context and a pre-fetched digest,
 * the three updates and the final cost 6,400 instructions a cold
 * decision, more than the hash of the 64-byte block itself three times
 * over (`INSTR_ARGS="cold 1 3000" make bench-instr`).
 */
uint32_t
fwg_cohort_bucket(fwg_str_t salt, fwg_str_t device_id)
{
    size_t          len[3];
    const void     *data[3];
    unsigned char   md[FWG_SHA256_LEN];

    data[0] = salt.len ? salt.data : "";
    len[0] = salt.len;
    data[1] = ":";
    len[1] = 1;
    data[2] = device_id.len ? device_id.data : "";
    len[2] = device_id.len;

    fwg_sha256_parts(data, len, 3, md);

    return (((uint32_t) md[0] << 24) | ((uint32_t) md[1] << 16)
            | ((uint32_t) md[2] << 8) | (uint32_t) md[3])
           % 10000;
}


long
fwg_percent_parse(const char *s, size_t len)
{
    size_t  p, nint, nfrac;
    long    ip, fp;

    if (s == NULL || len == 0) {
        return -1;
    }

    p = 0;
    ip = 0;
    fp = 0;

    /* at most three integer digits: enough for "100", no overflow */
    while (p < len && s[p] >= '0' && s[p] <= '9') {
        if (p == 3) {
            return -1;
        }

        ip = ip * 10 + (s[p] - '0');
        p++;
    }

    nint = p;

    if (nint == 0) {
        return -1;
    }

    nfrac = 0;

    if (p < len && s[p] == '.') {
        p++;

        while (p < len && s[p] >= '0' && s[p] <= '9') {
            if (nfrac == 2) {
                return -1;
            }

            fp = fp * 10 + (s[p] - '0');
            nfrac++;
            p++;
        }

        /* "1." is not a number */
        if (nfrac == 0) {
            return -1;
        }
    }

    if (p != len) {
        return -1;
    }

    if (nfrac == 1) {
        fp *= 10;
    }

    ip = ip * 100 + fp;

    return ip > 10000 ? -1 : ip;
}


int
fwg_cohort_in(uint32_t bucket, long percent_hundredths, int canary,
    int excluded)
{
    if (canary) {
        return 1;
    }

    /* bucket >= 10000 is the error value of fwg_cohort_bucket() */
    if (excluded || bucket >= 10000 || percent_hundredths <= 0) {
        return 0;
    }

    return (long) bucket < percent_hundredths;
}
