/*
 * libFuzzer target: the decision's registry steps (6-16) over records
 * whose every field comes from the input, as a hostile or corrupted
 * registry could hold them, the way `fwgatectl explain` runs them (no
 * signed request).  Also parses the key field with each algorithm, as the
 * module does with a device record's key.  Pieces, one a line:
 *
 *   device model hw version artifact
 *   dev.model dev.hw dev.alg dev.key dev.status
 *   art.version art.models art.sha256 art.size art.path
 *   ro.artifact ro.percent ro.salt ro.state ro.from ro.downgrade flags
 *
 * How the module fills these records from Redis replies (src/ngx/
 * fwg_reply.c, src/core/fwg_record.c) is fuzz_record.c's target.
 */

#include <stdio.h>

#include "fuzz_util.h"
#include "fwg_decide.h"
#include "fwg_sig.h"


static void
trace_cb(void *data, int step, const char *check, fwg_reason_t failed,
    const char *detail)
{
    size_t  *n = data;

    *n += (check ? strlen(check) : 0) + (detail ? strlen(detail) : 0);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_pieces_t       pc;
    fwg_device_rec_t    dev;
    fwg_artifact_rec_t  art;
    fwg_rollout_rec_t   ro;
    fwg_decide_in_t     in;
    fwg_verdict_t       vd;
    fwg_semver_t        v;
    fwg_key_t          *k;
    const char         *err;
    char                rec[8192];
    fwg_str_t           flags;
    size_t              tn;
    int                 alg;

    fuzz_split(&pc, data, size);

    memset(&in, 0, sizeof(in));
    memset(&dev, 0, sizeof(dev));
    memset(&art, 0, sizeof(art));
    memset(&ro, 0, sizeof(ro));

    in.device = fuzz_piece(&pc, 0);
    in.model = fuzz_piece(&pc, 1);
    in.hw = fuzz_piece(&pc, 2);
    if (fwg_semver_parse(&v, fuzz_piece(&pc, 3).data,
                         fuzz_piece(&pc, 3).len) == 0)
    {
        in.version = &v;
    }
    in.artifact = fuzz_piece(&pc, 4);

    dev.model = fuzz_piece(&pc, 5);
    dev.hw = fuzz_piece(&pc, 6);
    dev.alg = fuzz_piece(&pc, 7);
    dev.key = fuzz_piece(&pc, 8);
    dev.status = fuzz_piece(&pc, 9);

    art.version = fuzz_piece(&pc, 10);
    art.models = fuzz_piece(&pc, 11);
    art.sha256 = fuzz_piece(&pc, 12);
    art.size = fuzz_piece(&pc, 13);
    art.path = fuzz_piece(&pc, 14);

    ro.artifact = fuzz_piece(&pc, 15);
    ro.percent = fuzz_piece(&pc, 16);
    ro.salt = fuzz_piece(&pc, 17);
    ro.state = fuzz_piece(&pc, 18);
    ro.from = fuzz_piece(&pc, 19);
    ro.downgrade = fuzz_piece(&pc, 20);

    flags = fuzz_piece(&pc, 21);
    dev.found = !(flags.len > 0 && (flags.data[0] & 1));
    art.found = !(flags.len > 0 && (flags.data[0] & 2));
    ro.found = !(flags.len > 0 && (flags.data[0] & 4));
    ro.canary = flags.len > 0 && (flags.data[0] & 8);
    ro.excluded = flags.len > 0 && (flags.data[0] & 16);

    in.device_rec = &dev;
    in.artifact_rec = &art;
    in.rollout_rec = &ro;
    in.now = 1764000000;

    tn = 0;
    (void) fwg_decide_registry(&in, &vd, trace_cb, &tn);
    (void) fwg_models_lists(art.models, dev.model, dev.hw);
    (void) fwg_model_valid(in.model);

    /* the record key under every algorithm; keys round-trip */
    for (alg = FWG_ALG_ED25519; alg < FWG_ALG__COUNT; alg++) {
        k = fwg_key_from_record((fwg_alg_t) alg, dev.key.data, dev.key.len,
                                &err);
        if (k == NULL) {
            continue;
        }
        if (fwg_key_alg(k) != (fwg_alg_t) alg
            || fwg_key_record(k, rec, sizeof(rec)) < 0)
        {
            fprintf(stderr, "fuzz_decide: key from record is inconsistent\n");
            abort();
        }
        fwg_key_free(k);
    }

    fuzz_free(&pc);
    return 0;
}
