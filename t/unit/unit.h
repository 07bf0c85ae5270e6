/*
 * A tiny unit-test framework for the fwgate core.
 *
 * Every check counts once, globally; a failing check prints its file and
 * line (and the values, for the typed checks) and the run goes on.
 * unit_summary_and_exit() prints "N passed, N failed" as the last line and
 * exits non-zero when anything failed.
 *
 *   FWG_CHECK(cond)
 *   FWG_CHECK_MSG(cond, fmt, ...)        with a printf-style explanation
 *   FWG_CHECK_EQ_INT(a, b)               as long long
 *   FWG_CHECK_STR(fwg_str, "literal")    an fwg_str_t against a C string
 *   FWG_CHECK_CSTR(a, b)                 two C strings (NULL allowed)
 *   FWG_CHECK_MEM(p, plen, q, qlen)      two byte ranges
 */

#ifndef FWG_UNIT_H
#define FWG_UNIT_H

#include <stddef.h>

#include "fwg_types.h"

extern unsigned long  unit_passed;
extern unsigned long  unit_failed;

/* each returns cond (non-zero when the check passed) */
int unit_check(int cond, const char *file, int line, const char *expr);
int unit_check_msg(int cond, const char *file, int line, const char *fmt,
    ...);
int unit_check_int(long long a, long long b, const char *file, int line,
    const char *ea, const char *eb);
int unit_check_mem(const void *p, size_t plen, const void *q, size_t qlen,
    const char *file, int line, const char *ep, const char *eq);
int unit_check_cstr(const char *a, const char *b, const char *file,
    int line, const char *ea, const char *eb);

/* prints "== name" so failures can be placed */
void unit_suite(const char *name);
void unit_summary_and_exit(void);

#define FWG_CHECK(cond)                                                       \
    unit_check((cond) ? 1 : 0, __FILE__, __LINE__, #cond)

#define FWG_CHECK_MSG(cond, ...)                                              \
    unit_check_msg((cond) ? 1 : 0, __FILE__, __LINE__, __VA_ARGS__)

#define FWG_CHECK_EQ_INT(a, b)                                                \
    unit_check_int((long long) (a), (long long) (b), __FILE__, __LINE__,     \
                   #a, #b)

#define FWG_CHECK_STR(s, lit)                                                 \
    unit_check_mem((s).data, (s).len, (lit), sizeof(lit) - 1,                \
                   __FILE__, __LINE__, #s, #lit)

#define FWG_CHECK_CSTR(a, b)                                                  \
    unit_check_cstr((a), (b), __FILE__, __LINE__, #a, #b)

#define FWG_CHECK_MEM(p, plen, q, qlen)                                       \
    unit_check_mem((p), (plen), (q), (qlen), __FILE__, __LINE__, #p, #q)

/* the suites, in the order main.c runs them */
void suite_b64(void);
void suite_sf(void);
void suite_sf_json(void);
void suite_semver(void);
void suite_cohort(void);
void suite_sig(void);
void suite_ecdsa(void);
void suite_sigfast(void);
void suite_decide(void);
void suite_digest(void);
void suite_siphash(void);
void suite_table_hash(void);
void suite_resp(void);
void suite_hmac(void);
void suite_record(void);
void suite_json(void);
void suite_release(void);
void suite_token(void);
void suite_respsig(void);

#endif /* FWG_UNIT_H */
