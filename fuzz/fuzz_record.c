/*
 * libFuzzer target: the module's Redis reply to record conversion.  The
 * input is what Redis sends: RESP replies, read with hiredis's own reader
 * as the module's connection reads them, and taken in order as the
 * replies to a decision's five commands (HGETALL device, artifact and
 * rollout, SISMEMBER canary and exclude; a missing one is an empty hash
 * or a non-member).  Each reply goes through the module's own checks
 * (src/core/fwg_reply.c) as a hash and as a membership; a hash is built
 * into a blob (fwg_blob_build) in a heap buffer of exactly its size,
 * every field is read back and must be the first of that name in the
 * reply, all three records are filled from it and must read it whole;
 * then the five slots' records go through fwg_decide_registry.  The
 * input taken as a blob checks that a malformed one is refused without
 * a read past its end.
 */

#include <stdio.h>

#include <hiredis/hiredis.h>
#include <hiredis/read.h>

#include "fuzz_util.h"
#include "fwg_decide.h"
#include "fwg_record.h"
#include "fwg_reply.h"


#define FUZZ_SLOTS  5               /* device artifact rollout canary
                                       exclude, as the module's slots */

static const char  *fuzz_fields[] = {
    "model", "hw", "alg", "key", "status",
    "version", "models", "sha256", "size", "path",
    "artifact", "percent", "salt", "state", "from", "downgrade",
    NULL
};


/*
 * hiredis allocates an array's element pointers when it reads the count,
 * before any element: "*2147483647" alone asks for 16 GiB, an
 * out-of-memory report about hiredis, not the conversion (the module's
 * replies come from the registry's own Redis).  A count larger than the
 * input cannot be filled by it, so such inputs are skipped.
 */

static int
fuzz_count_too_large(const uint8_t *data, size_t size)
{
    size_t  i, j, v;

    for (i = 0; i < size; i++) {
        if (data[i] != '*') {
            continue;
        }

        v = 0;

        for (j = i + 1; j < size && data[j] >= '0' && data[j] <= '9'; j++) {
            v = v * 10 + (data[j] - '0');

            if (v > size) {
                return 1;
            }
        }
    }

    return 0;
}


/* the value the blob must give for name: the first such field's */

static int
fuzz_expect(const fwg_str_t *parts, size_t n, const char *name, size_t nlen,
    fwg_str_t *v)
{
    size_t  i;

    for (i = 0; i + 1 < n; i += 2) {
        if (parts[i].len == nlen
            && (nlen == 0 || memcmp(parts[i].data, name, nlen) == 0))
        {
            *v = parts[i + 1];
            return 0;
        }
    }

    return 1;
}


static void
fuzz_check_field(const fwg_str_t *parts, size_t n, const char *blob,
    size_t len, const char *name)
{
    int        rc, erc;
    fwg_str_t  v, ev;

    rc = fwg_blob_field(blob, len, name, &v);
    erc = fuzz_expect(parts, n, name, strlen(name), &ev);

    if (rc != erc
        || (rc == 0
            && (v.len != ev.len
                || v.data < blob || v.data + v.len > blob + len
                || (v.len && memcmp(v.data, ev.data, v.len) != 0))))
    {
        fprintf(stderr, "fuzz_record: field \"%s\" read back as %d, "
                "expected %d\n", name, rc, erc);
        abort();
    }
}


/* a built blob: every known field and every field the reply named */

static void
fuzz_check_blob(const fwg_str_t *parts, size_t n, const char *blob,
    size_t len)
{
    size_t   i;
    char     name[64];

    for (i = 0; fuzz_fields[i] != NULL; i++) {
        fuzz_check_field(parts, n, blob, len, fuzz_fields[i]);
    }

    for (i = 0; i < n; i += 2) {
        if (parts[i].len >= sizeof(name)
            || memchr(parts[i].data, '\0', parts[i].len) != NULL)
        {
            continue;
        }

        memcpy(name, parts[i].data, parts[i].len);
        name[parts[i].len] = '\0';
        fuzz_check_field(parts, n, blob, len, name);
    }
}


/* the module's fetch_done and blob_from_reply for a hash: NULL if refused */

static char *
fuzz_hash_blob(const redisReply *reply, size_t *len)
{
    int                 n;
    char               *blob;
    fwg_str_t          *parts;
    fwg_device_rec_t    d;
    fwg_artifact_rec_t  a;
    fwg_rollout_rec_t   o;

    if (reply->type == REDIS_REPLY_ERROR) {
        return NULL;
    }

    n = fwg_reply_hash_count(reply);
    if (n < 0) {
        return NULL;
    }

    parts = malloc(n ? n * sizeof(fwg_str_t) : 1);
    if (parts == NULL) {
        abort();
    }

    fwg_reply_hash_parts(reply, parts);

    blob = NULL;

    if (fwg_blob_build(parts, n, NULL, 0, len) == 0) {

        /* exactly its size, so a read one byte past it is caught */
        blob = malloc(*len ? *len : 1);
        if (blob == NULL) {
            abort();
        }

        if (fwg_blob_build(parts, n, blob, *len, len) != 0) {
            fprintf(stderr, "fuzz_record: measured blob does not build\n");
            abort();
        }

        fuzz_check_blob(parts, n, blob, *len);

        if (fwg_device_from_blob(blob, *len, &d) != 0
            || fwg_artifact_from_blob(blob, *len, &a) != 0
            || fwg_rollout_from_blob(blob, *len, &o) != 0
            || d.found != (*len > 0) || a.found != (*len > 0)
            || o.found != (*len > 0))
        {
            fprintf(stderr, "fuzz_record: a built blob is not read whole\n");
            abort();
        }
    }

    free(parts);

    return blob;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                 slot, member, refused;
    char               *blobs[FUZZ_SLOTS], *raw;
    size_t              lens[FUZZ_SLOTS];
    void               *reply;
    redisReader        *rd;
    fwg_semver_t        ver;
    fwg_decide_in_t     in;
    fwg_verdict_t       vd;
    fwg_device_rec_t    dev;
    fwg_artifact_rec_t  art;
    fwg_rollout_rec_t   ro;

    if (fuzz_count_too_large(data, size)) {
        return 0;
    }

    /* the input as a blob: malformed ones are refused within bounds */
    raw = malloc(size ? size : 1);
    if (raw == NULL) {
        abort();
    }
    memcpy(raw, data, size);
    (void) fwg_device_from_blob(raw, size, &dev);
    (void) fwg_artifact_from_blob(raw, size, &art);
    (void) fwg_rollout_from_blob(raw, size, &ro);
    free(raw);

    rd = redisReaderCreate();
    if (rd == NULL) {
        abort();
    }

    if (redisReaderFeed(rd, (const char *) data, size) != REDIS_OK) {
        redisReaderFree(rd);
        return 0;
    }

    for (slot = 0; slot < FUZZ_SLOTS; slot++) {
        blobs[slot] = NULL;
        lens[slot] = 0;
    }

    refused = 0;

    for (slot = 0; slot < FUZZ_SLOTS; slot++) {
        reply = NULL;

        if (redisReaderGetReply(rd, &reply) != REDIS_OK || reply == NULL) {
            break;
        }

        /* every reply is tried as both kinds; the slot keeps its own */
        blobs[slot] = fuzz_hash_blob(reply, &lens[slot]);
        member = fwg_reply_member(reply);
        freeReplyObject(reply);

        if (slot >= 3) {
            free(blobs[slot]);
            blobs[slot] = NULL;
            lens[slot] = 0;

            /* a membership is kept as the module keeps it: one byte */
            if (member >= 0) {
                blobs[slot] = malloc(1);
                if (blobs[slot] == NULL) {
                    abort();
                }
                blobs[slot][0] = member ? '1' : '0';
                lens[slot] = 1;
            }
        }

        if (blobs[slot] == NULL) {
            refused = 1;
        }
    }

    redisReaderFree(rd);

    /*
     * A refused reply fails its slot, and the module answers 503 (or
     * takes a stale copy) without deciding on it.  Missing replies count
     * as empty, so that short inputs still reach the decision.
     */
    if (refused) {
        goto done;
    }

    (void) fwg_device_from_blob(blobs[0], lens[0], &dev);
    (void) fwg_artifact_from_blob(blobs[1], lens[1], &art);
    (void) fwg_rollout_from_blob(blobs[2], lens[2], &ro);
    ro.canary = lens[3] == 1 && blobs[3][0] == '1';
    ro.excluded = lens[4] == 1 && blobs[4][0] == '1';

    memset(&in, 0, sizeof(in));
    in.device = (fwg_str_t) fwg_str_lit("LS6-000123");
    in.model = dev.model;
    in.hw = dev.hw;
    if (fwg_semver_parse(&ver, "2.4.1", 5) == 0) {
        in.version = &ver;
    }
    in.artifact = ro.artifact;
    in.device_rec = &dev;
    in.artifact_rec = &art;
    in.rollout_rec = &ro;
    in.now = 1764000000;

    (void) fwg_decide_registry(&in, &vd, NULL, NULL);

done:

    for (slot = 0; slot < FUZZ_SLOTS; slot++) {
        free(blobs[slot]);
    }

    return 0;
}
