/*
 * The decision (its steps and reasons: docs/reasons.md), in one place.
 * The nginx module and `fwgatectl explain` both call these functions;
 * neither re-implements a step.
 *
 * It runs in two phases because the module must wait for Redis between
 * them: fwg_decide_request() covers steps 1-5 from the request alone and
 * yields the device id; fwg_decide_registry() covers steps 6-16 from the
 * registry records.
 */

#ifndef FWG_DECIDE_H
#define FWG_DECIDE_H

#include "fwg_types.h"
#include "fwg_sig.h"
#include "fwg_semver.h"

typedef enum {
    FWG_R_OK = 0,
    FWG_R_MISSING_SIGNATURE,
    FWG_R_MALFORMED_SIGNATURE,
    FWG_R_INSUFFICIENT_COVERAGE,
    FWG_R_UNSUPPORTED_ALG,
    FWG_R_STALE,
    FWG_R_BAD_CLAIMS,
    FWG_R_UNKNOWN_DEVICE,
    FWG_R_BAD_SIGNATURE,
    FWG_R_REPLAY,
    FWG_R_REPLAY_STORE_FULL,        /* cannot remember the nonce (503) */
    FWG_R_REVOKED,
    FWG_R_MODEL_MISMATCH,
    FWG_R_UNKNOWN_ARTIFACT,
    FWG_R_PATH_MISMATCH,            /* not the artifact's registry path */
    FWG_R_UNSIGNED_ARTIFACT,        /* release keys on, sig not valid */
    FWG_R_INCOMPATIBLE,
    FWG_R_NOT_RELEASED,
    FWG_R_ROLLOUT_PAUSED,
    FWG_R_ROLLOUT_HALTED,
    FWG_R_UNSIGNED_FLOOR,           /* release keys on, floor_sig bad */
    FWG_R_BELOW_FLOOR,              /* artifact below the model's floor */
    FWG_R_NOT_IN_COHORT,
    FWG_R_UPGRADE_PATH,
    FWG_R_DOWNGRADE,
    FWG_R_REGISTRY_UNAVAILABLE,
    FWG_R_REGISTRY_STALE,           /* no confirmed-fresh registry within
                                       fwgate_max_staleness (503) */
    FWG_R_TOKEN_MALFORMED,          /* download tokens (fwg_token.h): */
    FWG_R_TOKEN_EXPIRED,            /* they replace steps 1-8 */
    FWG_R_TOKEN_INVALID,
    FWG_R_TOKEN_ARTIFACT,
    FWG_R_TOKEN_DEVICE,
    FWG_R_PENALIZED,                /* device in the penalty box for this
                                       artifact (403, after step 14) */
    FWG_R_ROLLOUT_THROTTLED,        /* admission limits: not now (503) */
    FWG_R__COUNT
} fwg_reason_t;

const char *fwg_reason_name(fwg_reason_t r);    /* "missing_signature" */
int fwg_reason_status(fwg_reason_t r);          /* 401, 403, ... */
int fwg_reason_step(fwg_reason_t r);            /* 1 .. 16, 0 for ok/503 */

#define FWG_MAX_REQUIRED  32

typedef struct {
    fwg_str_t       label;          /* empty: the only label, or "fw" */
    fwg_str_t       required[FWG_MAX_REQUIRED];
    size_t          nrequired;
    unsigned        algs;           /* bit (1 << fwg_alg_t) per allowed */
    int64_t         max_age;        /* seconds */
    int64_t         clock_skew;     /* seconds */
    int             require_nonce;
} fwg_policy_t;

/* the defaults of docs/directives.md: fw label rule, 4 components, all
 * algs, 300 s, 30 s */
void fwg_policy_default(fwg_policy_t *p);

/* trace of each step, for explain; may be NULL */
typedef void (*fwg_trace_pt)(void *data, int step, const char *check,
    fwg_reason_t failed, const char *detail);

typedef struct {
    fwg_sig_input_t sig;
    fwg_str_t       base;           /* signature base */
    fwg_str_t       device;         /* keyid */
    fwg_str_t       model;          /* X-Device-Model */
    fwg_str_t       hw;             /* X-Device-Hw, data NULL when absent */
    fwg_str_t       version_str;    /* X-Firmware-Version */
    fwg_semver_t    version;
    const char     *detail;         /* why the failing step failed */
} fwg_claims_t;

/* steps 1-5 */
fwg_reason_t fwg_decide_request(const fwg_msg_t *msg, const fwg_policy_t *p,
    int64_t now, fwg_arena_t *a, fwg_claims_t *out,
    fwg_trace_pt trace, void *tdata);

/* registry records: fields point at the caller's memory */

typedef struct {
    int         found;
    fwg_str_t   model, hw, alg, key, status;
    fwg_str_t   penalty;            /* penalty:<artifact> of the artifact
                                       decided: unix time boxed until
                                       (fwg_device_penalty()) */
} fwg_device_rec_t;

typedef struct {
    int         found;
    fwg_str_t   version, models, sha256, size, path;
    fwg_str_t   sig;                /* release signature (fwg_release.h) */
} fwg_artifact_rec_t;

typedef struct {
    int         found;
    fwg_str_t   artifact, percent, salt, state, from, downgrade;
    fwg_str_t   floor, floor_sig;   /* security floor (SemVer), its sig */
    fwg_str_t   max_starts;         /* max_starts_per_min (admission) */
    fwg_str_t   max_in_flight;
    fwg_str_t   in_flight_expiry;
    fwg_str_t   device_failures;    /* penalty box threshold */
    fwg_str_t   penalty;            /* seconds in the box */
    fwg_str_t   halted;             /* the artifact an edge's automatic
                                       halt names (rollout:<model>:halt) */
    int         canary;             /* device in :canary */
    int         excluded;           /* device in :exclude */
} fwg_rollout_rec_t;

/*
 * returns FWG_REPLAY_NEW when the nonce was recorded, FWG_REPLAY_SEEN when
 * it was seen (replay), FWG_REPLAY_FULL when the store cannot record it
 * without forgetting a nonce that has not expired
 */
#define FWG_REPLAY_NEW   0
#define FWG_REPLAY_SEEN  1
#define FWG_REPLAY_FULL  2

/* a release signature's state, as the caller found it */
#define FWG_RELEASE_UNCHECKED  0    /* not checked: the decision checks */
#define FWG_RELEASE_VALID      1
#define FWG_RELEASE_INVALID    2

struct fwg_release_keys_s;

typedef int (*fwg_replay_pt)(void *data, fwg_str_t keyid, fwg_str_t nonce,
    int64_t expires_at);

typedef struct {
    const fwg_claims_t       *claims;   /* NULL: explain without a request,
                                           steps 1-8 are skipped */
    fwg_str_t                 device;   /* device id (claims->device) */
    fwg_str_t                 model;    /* claimed model (explain: given) */
    fwg_str_t                 hw;       /* claimed hw, may be empty */
    const fwg_semver_t       *version;  /* device's version, may be NULL */
    fwg_str_t                 artifact; /* requested artifact name */
    fwg_str_t                 path;     /* a download: the URI path to be
                                           served, normalised (data NULL:
                                           no download, not checked) */
    fwg_str_t                 raw_path; /* the same as the device sent it
                                           (data NULL: not checked) */
    const fwg_device_rec_t   *device_rec;
    const fwg_artifact_rec_t *artifact_rec;
    const fwg_rollout_rec_t  *rollout_rec;
    const fwg_key_t          *key;      /* parsed record key, or NULL to
                                           parse it here */
    const uint32_t           *hmac_states; /* key NULL and the record's
                                           alg hmac: the key's chaining
                                           values (fwg_key_hmac_states),
                                           kept by the caller */
    fwg_replay_pt             replay;   /* NULL: no replay store */
    void                     *replay_data;
    int64_t                   replay_window; /* seconds a nonce is kept */
    int64_t                   now;
    unsigned                  algs;     /* policy's allowed algorithms
                                           (bit 1 << fwg_alg_t); 0: all */

    /*
     * Signed release metadata: NULL, not required.  The module verifies
     * once per record and passes the result it keeps (FWG_RELEASE_VALID
     * or _INVALID); UNCHECKED makes the decision verify (explain).
     */
    const struct fwg_release_keys_s *release_keys;
    int                       artifact_sig;
    int                       floor_sig;
    const char               *release_detail;   /* why, when INVALID */
} fwg_decide_in_t;

typedef struct {
    fwg_reason_t    reason;
    int             step;
    const char     *detail;
    uint32_t        bucket;
    unsigned        has_bucket:1;
    fwg_str_t       target_version; /* the artifact's version */
} fwg_verdict_t;

/* steps 6-8: device record, signature, nonce (out's reason and detail) */
fwg_reason_t fwg_decide_signed(const fwg_decide_in_t *in, fwg_verdict_t *out,
    fwg_trace_pt trace, void *tdata);

/* steps 6-16 */
fwg_reason_t fwg_decide_registry(const fwg_decide_in_t *in,
    fwg_verdict_t *out, fwg_trace_pt trace, void *tdata);

/*
 * The path component of an artifact record's `path` (which may also be an
 * absolute http(s) URL); empty when there is none.
 */
fwg_str_t fwg_artifact_path(fwg_str_t path);

/*
 * A registry path in the normal form a download is matched against:
 * "/" then segments of visible ASCII, no empty, "." or ".." segment, no
 * '%', '?', '#' or '\'; at most 1024 bytes.  1 when it is.
 */
int fwg_path_normal(fwg_str_t path);

/* "MODEL" or "MODEL:HW" entries of an artifact's models list */
int fwg_models_lists(fwg_str_t models, fwg_str_t model, fwg_str_t hw);

/*
 * Admission limits of a rollout (docs/fleet-guide.md, "Admission"): 1 when
 * max_starts_per_min or max_in_flight is a positive integer; the values
 * (0: no limit) and in_flight_expiry (default 3600) into the pointers.
 */
int fwg_rollout_limits(const fwg_rollout_rec_t *ro, int64_t *starts,
    int64_t *in_flight, int64_t *expiry);

/* a non-negative decimal integer of at most 15 digits; -1 otherwise */
int64_t fwg_uint_parse(fwg_str_t s);

/* model names: 1..64 of [A-Za-z0-9._-] */
int fwg_model_valid(fwg_str_t m);

#endif /* FWG_DECIDE_H */
