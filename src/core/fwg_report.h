/*
 * Install reports (docs/update-check.md): the body a device POSTs to a
 * fwgate_report location, {"artifact":..,"status":..,"version":..}.
 */

#ifndef FWG_REPORT_H
#define FWG_REPORT_H

#include "fwg_types.h"

/* artifact names as the registry keys them: 1..256 bytes of 0x21..0x7e */
#define FWG_REPORT_MAX_ARTIFACT  256

typedef enum {
    FWG_REPORT_SUCCESS = 0,
    FWG_REPORT_FAILURE,
    /* progress: the device is alive, no outcome yet */
    FWG_REPORT_DEFERRED,
    FWG_REPORT_DOWNLOADING,
    FWG_REPORT_INSTALLING
} fwg_report_status_e;

typedef struct {
    fwg_str_t   artifact;
    fwg_str_t   status;         /* "success", "failure", "deferred",
                                   "downloading" or "installing" */
    fwg_str_t   version;        /* empty unless has_version */
    int         has_version;
    int         status_code;    /* an fwg_report_status_e */
} fwg_report_t;

/*
 * Reads and checks a report body with fwg_json_object() (src/core/
 * fwg_json.h): "artifact" and "status" are required, "version" optional,
 * all three strings at most once; other members may be any scalar.  The
 * artifact must be a name as above, the status one of the
 * fwg_report_status_e names,
 * the version SemVer 2.0.0 (fwg_semver_parse).
 *
 * The fields point into body or into a; an arena made by fwg_arena_init()
 * on len + FWG_REPORT_ARENA_EXTRA bytes is always enough.  Returns NULL,
 * or what is wrong: a fixed string, never body bytes, fit for a log line.
 * On error *rep is left in no particular state.
 */
#define FWG_REPORT_ARENA_EXTRA  32

const char *fwg_report_parse(const char *body, size_t len, fwg_arena_t *a,
    fwg_report_t *rep);

#endif /* FWG_REPORT_H */
