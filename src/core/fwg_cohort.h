/*
 * Cohort assignment (docs/fleet-guide.md, "Percent"):
 *   bucket = uint32_be(SHA-256(salt ":" device_id)[0..3]) mod 10000
 *   in cohort: canary, or (not excluded and bucket < round(percent * 100))
 */

#ifndef FWG_COHORT_H
#define FWG_COHORT_H

#include "fwg_types.h"

uint32_t fwg_cohort_bucket(fwg_str_t salt, fwg_str_t device_id);

/*
 * Percent as written in the registry ("0" .. "100", at most two
 * decimals) to hundredths (0 .. 10000); -1 when malformed.
 */
long fwg_percent_parse(const char *s, size_t len);

int fwg_cohort_in(uint32_t bucket, long percent_hundredths, int canary,
    int excluded);

#endif /* FWG_COHORT_H */
