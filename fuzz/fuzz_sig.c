/*
 * libFuzzer target: RFC 9421 request side.  The input is a request, one
 * piece a line:
 *
 *     method \n scheme \n authority \n path[?query] \n name: value \n ...
 *
 * and goes through fwg_sig_parse (with the default label rule and "fw"),
 * fwg_sig_missing, fwg_sig_component for every covered component,
 * fwg_sig_base, then the decision's steps 1-5 (fwg_decide_request, with
 * "now" at the signature's created so freshness passes) and, when those
 * pass, steps 6-16 against fixed records with an HMAC key, which runs the
 * verification.  Every piece, header name and value sits in its own
 * exactly sized heap buffer.
 */

#include <stdio.h>

#include "fuzz_msg.h"
#include "fwg_decide.h"
#include "fwg_sig.h"

#define ARENA_SIZE  (256 * 1024)
#define MAX_FIELDS  40

static char  arena_mem[ARENA_SIZE];



static void
trace_cb(void *data, int step, const char *check, fwg_reason_t failed,
    const char *detail)
{
    size_t  *n = data;

    /* details must be NUL-terminated strings */
    *n += (check ? strlen(check) : 0) + (detail ? strlen(detail) : 0);
    (void) fwg_reason_name(failed);
    (void) fwg_reason_status(failed);
    (void) fwg_reason_step(failed);
    (void) step;
}


static int
replay_cb(void *data, fwg_str_t keyid, fwg_str_t nonce, int64_t exp)
{
    return 0;
}


static void
parse_all(const fwg_msg_t *msg, fwg_str_t label)
{
    fwg_arena_t       a;
    fwg_sig_input_t   in;
    fwg_policy_t      p;
    fwg_str_t         v, base;
    const char       *err;
    size_t            i;

    fwg_policy_default(&p);
    fwg_arena_init(&a, arena_mem, sizeof(arena_mem));

    if (fwg_sig_parse(msg, label, &a, &in, &err) != FWG_SIG_OK) {
        return;
    }

    (void) fwg_sig_missing(&in, p.required, p.nrequired);
    (void) fwg_alg_parse(in.alg.data ? in.alg.data : "", in.alg.len);

    if (in.inner != NULL) {
        for (i = 0; i < in.inner->nitems; i++) {
            (void) fwg_sig_component(msg, &in.inner->items[i], &a, &v, &err);
        }
    }

    if (fwg_sig_base(msg, &in, &a, &base, &err) == FWG_SIG_OK
        && base.len > FWG_SIG_MAX_BASE)
    {
        fprintf(stderr, "fuzz_sig: base longer than FWG_SIG_MAX_BASE\n");
        abort();
    }
}


static void
decide(const fwg_msg_t *msg)
{
    static fwg_key_t   *key;
    fwg_arena_t         a;
    fwg_sig_input_t     in;
    fwg_policy_t        p;
    fwg_claims_t        c;
    fwg_device_rec_t    dev;
    fwg_artifact_rec_t  art;
    fwg_rollout_rec_t   ro;
    fwg_decide_in_t     di;
    fwg_verdict_t       vd;
    const char         *err;
    int64_t             now;
    size_t              tn;
    fwg_str_t           empty = { "", 0 };

    /* "0123456789abcdef0123456789abcdef" */
    static const char   secret[] =
        "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

    if (key == NULL) {
        key = fwg_key_from_record(FWG_ALG_HMAC_SHA256, secret,
                                  sizeof(secret) - 1, &err);
        if (key == NULL) {
            abort();
        }
    }

    fwg_policy_default(&p);
    fwg_arena_init(&a, arena_mem, sizeof(arena_mem));

    now = 1764000000;
    if (fwg_sig_parse(msg, empty, &a, &in, &err) == FWG_SIG_OK
        && in.has_created && in.created > -(INT64_C(1) << 60)
        && in.created < (INT64_C(1) << 60))
    {
        now = in.created;
    }

    fwg_arena_init(&a, arena_mem, sizeof(arena_mem));
    tn = 0;

    if (fwg_decide_request(msg, &p, now, &a, &c, trace_cb, &tn) != FWG_R_OK) {
        return;
    }

    memset(&dev, 0, sizeof(dev));
    dev.found = 1;
    dev.model = c.model;
    dev.hw = c.hw.data ? c.hw : empty;
    dev.alg = (fwg_str_t) fwg_str_lit("hmac-sha256");
    dev.key = (fwg_str_t) { secret, sizeof(secret) - 1 };
    dev.status = (fwg_str_t) fwg_str_lit("active");

    memset(&art, 0, sizeof(art));
    art.found = 1;
    art.version = (fwg_str_t) fwg_str_lit("2.5.0");
    art.models = c.model;
    art.sha256 = empty;
    art.size = (fwg_str_t) fwg_str_lit("1024");
    art.path = empty;

    memset(&ro, 0, sizeof(ro));
    ro.found = 1;
    ro.artifact = (fwg_str_t) fwg_str_lit("a.bin");
    ro.percent = (fwg_str_t) fwg_str_lit("50");
    ro.salt = empty;
    ro.state = (fwg_str_t) fwg_str_lit("active");
    ro.from = (fwg_str_t) fwg_str_lit(">=1.0.0 <2.5.0 || =0.0.1");
    ro.downgrade = (fwg_str_t) fwg_str_lit("0");

    memset(&di, 0, sizeof(di));
    di.claims = &c;
    di.device = c.device;
    di.model = c.model;
    di.hw = c.hw.data ? c.hw : empty;
    di.version = &c.version;
    di.artifact = (fwg_str_t) fwg_str_lit("a.bin");
    di.device_rec = &dev;
    di.artifact_rec = &art;
    di.rollout_rec = &ro;
    di.key = (tn & 1) ? key : NULL;     /* both the cached and parse path */
    di.replay = replay_cb;
    di.replay_window = 330;
    di.now = now;

    (void) fwg_decide_registry(&di, &vd, trace_cb, &tn);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_pieces_t   pc;
    fwg_msg_t       msg;
    fwg_field_t     f[MAX_FIELDS];
    fwg_str_t       fw = fwg_str_lit("fw"), empty = { "", 0 };

    fuzz_split(&pc, data, size);
    fuzz_msg_make(&pc, &msg, f, MAX_FIELDS);

    parse_all(&msg, empty);
    parse_all(&msg, fw);
    decide(&msg);

    fuzz_msg_free(&msg);
    fuzz_free(&pc);
    return 0;
}
