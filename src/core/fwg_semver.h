/*
 * SemVer 2.0.0 parsing and precedence, and the range syntax of a rollout's
 * `from` (docs/fleet-guide.md, "--from RANGE"): comparators <, <=, >, >=,
 * = (a bare version means =) joined by spaces (all must hold),
 * alternatives joined by "||".
 */

#ifndef FWG_SEMVER_H
#define FWG_SEMVER_H

#include "fwg_types.h"

#define FWG_SEMVER_MAX_LEN  128

typedef struct {
    uint64_t    major, minor, patch;
    fwg_str_t   pre;        /* pre-release without '-', may be empty */
    char        buf[FWG_SEMVER_MAX_LEN];  /* owns pre's bytes */
} fwg_semver_t;

/* 0 on success, -1 on anything not SemVer 2.0.0 (or longer than max) */
int fwg_semver_parse(fwg_semver_t *v, const char *s, size_t len);

/* <0, 0, >0; build metadata ignored, pre-releases below the release */
int fwg_semver_cmp(const fwg_semver_t *a, const fwg_semver_t *b);

/* syntax check of a range; 0 when valid */
int fwg_range_valid(const char *range, size_t len);

/* 1 when v satisfies range, 0 when not, -1 when the range is malformed */
int fwg_range_match(const char *range, size_t len, const fwg_semver_t *v);

#endif /* FWG_SEMVER_H */
