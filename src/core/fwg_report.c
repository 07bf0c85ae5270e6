/*
 * fwgate core: install report bodies (docs/update-check.md).
 */

#include <string.h>

#include "fwg_report.h"
#include "fwg_json.h"
#include "fwg_semver.h"


const char *
fwg_report_parse(const char *body, size_t len, fwg_arena_t *a,
    fwg_report_t *rep)
{
    size_t              i;
    const char         *err;
    fwg_semver_t        v;
    fwg_json_member_t   m[3];

    m[0].name = "artifact";
    m[1].name = "status";
    m[2].name = "version";

    memset(rep, 0, sizeof(fwg_report_t));

    err = fwg_json_object(body, len, m, 3, a);
    if (err) {
        return err;
    }

    if (!m[0].seen) {
        return "no artifact";
    }

    if (!m[1].seen) {
        return "no status";
    }

    rep->artifact = m[0].value;
    rep->status = m[1].value;
    rep->version = m[2].value;
    rep->has_version = m[2].seen;

    /* the name becomes part of Redis keys and log lines: printable ASCII */

    if (rep->artifact.len == 0
        || rep->artifact.len > FWG_REPORT_MAX_ARTIFACT)
    {
        return "bad artifact name";
    }

    for (i = 0; i < rep->artifact.len; i++) {
        if ((unsigned char) rep->artifact.data[i] <= 0x20
            || (unsigned char) rep->artifact.data[i] >= 0x7f)
        {
            return "bad artifact name";
        }
    }

    if (fwg_str_eq(rep->status, "success")) {
        rep->status_code = FWG_REPORT_SUCCESS;

    } else if (fwg_str_eq(rep->status, "failure")) {
        rep->status_code = FWG_REPORT_FAILURE;

    } else if (fwg_str_eq(rep->status, "deferred")) {
        rep->status_code = FWG_REPORT_DEFERRED;

    } else if (fwg_str_eq(rep->status, "downloading")) {
        rep->status_code = FWG_REPORT_DOWNLOADING;

    } else if (fwg_str_eq(rep->status, "installing")) {
        rep->status_code = FWG_REPORT_INSTALLING;

    } else {
        return "unknown status";
    }

    if (rep->has_version
        && fwg_semver_parse(&v, rep->version.data, rep->version.len) != 0)
    {
        return "version is not SemVer";
    }

    return NULL;
}
