/*
 * Record blobs: built from a hash's strings, read back field by field,
 * refused when oversize, rejected when malformed, and the three records
 * filled from them as the module fills them.
 */

#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "fwg_record.h"


/* builds parts (NULL-terminated C strings) into buf; the length or -1 */
static long
build(const char **strs, char *buf, size_t size)
{
    size_t     n, len;
    fwg_str_t  parts[32];

    for (n = 0; n < 32 && strs[n] != NULL; n++) {
        parts[n].data = strs[n];
        parts[n].len = strlen(strs[n]);
    }

    if (fwg_blob_build(parts, n, buf, size, &len) != 0) {
        return -1;
    }

    return (long) len;
}


static void
test_round_trip(void)
{
    long         len;
    size_t       mlen;
    char         buf[512];
    fwg_str_t    v, parts[4];
    const char  *dev[] = { "model", "LS-6000i", "hw", "B", "alg",
                           "ed25519", "key", "MCowBQYDK2VwAyEA",
                           "status", "active", NULL };

    len = build(dev, buf, sizeof(buf));
    FWG_CHECK_EQ_INT(len, 5 * 2 * 4 + 5 + 8 + 2 + 1 + 3 + 7 + 3 + 16 + 6 + 6);

    /* measuring without a buffer gives the same length */
    parts[0].data = "model";
    parts[0].len = 5;
    parts[1].data = "LS-6000i";
    parts[1].len = 8;
    FWG_CHECK_EQ_INT(fwg_blob_build(parts, 2, NULL, 0, &mlen), 0);
    FWG_CHECK_EQ_INT(mlen, 4 + 5 + 4 + 8);

    FWG_CHECK_EQ_INT(fwg_blob_field(buf, len, "model", &v), 0);
    FWG_CHECK_STR(v, "LS-6000i");
    FWG_CHECK_EQ_INT(fwg_blob_field(buf, len, "hw", &v), 0);
    FWG_CHECK_STR(v, "B");
    FWG_CHECK_EQ_INT(fwg_blob_field(buf, len, "status", &v), 0);
    FWG_CHECK_STR(v, "active");

    /* missing fields, a prefix of a field, a value taken as a name */
    v.data = "untouched";
    v.len = 9;
    FWG_CHECK_EQ_INT(fwg_blob_field(buf, len, "path", &v), 1);
    FWG_CHECK_EQ_INT(fwg_blob_field(buf, len, "mode", &v), 1);
    FWG_CHECK_EQ_INT(fwg_blob_field(buf, len, "models", &v), 1);
    FWG_CHECK_EQ_INT(fwg_blob_field(buf, len, "active", &v), 1);
    FWG_CHECK_STR(v, "untouched");

    /* empty values and names; the first of two equal fields wins */
    {
        const char  *odd[] = { "", "empty-name", "e", "", "e", "second",
                               NULL };

        len = build(odd, buf, sizeof(buf));
        FWG_CHECK(len > 0);
        FWG_CHECK_EQ_INT(fwg_blob_field(buf, len, "", &v), 0);
        FWG_CHECK_STR(v, "empty-name");
        FWG_CHECK_EQ_INT(fwg_blob_field(buf, len, "e", &v), 0);
        FWG_CHECK_EQ_INT(v.len, 0);
    }

    /* binary values survive: the format counts, it does not terminate */
    parts[0].data = "key";
    parts[0].len = 3;
    parts[1].data = "a\0b\n";
    parts[1].len = 4;
    FWG_CHECK_EQ_INT(fwg_blob_build(parts, 2, buf, sizeof(buf), &mlen), 0);
    FWG_CHECK_EQ_INT(fwg_blob_field(buf, mlen, "key", &v), 0);
    FWG_CHECK_MEM(v.data, v.len, "a\0b\n", 4);
}


static void
test_build_refused(void)
{
    size_t      len;
    char        buf[64], *big;
    fwg_str_t   parts[4];

    parts[0].data = "model";
    parts[0].len = 5;
    parts[1].data = "x";
    parts[1].len = 1;
    parts[2].data = "hw";
    parts[2].len = 2;

    /* an odd count is not a hash */
    FWG_CHECK_EQ_INT(fwg_blob_build(parts, 3, NULL, 0, &len), -1);
    FWG_CHECK_EQ_INT(fwg_blob_build(parts, 1, buf, sizeof(buf), &len), -1);

    /* no parts: the empty blob of an absent record */
    FWG_CHECK_EQ_INT(fwg_blob_build(parts, 0, buf, sizeof(buf), &len), 0);
    FWG_CHECK_EQ_INT(len, 0);

    /* a buffer one byte short */
    FWG_CHECK_EQ_INT(fwg_blob_build(parts, 2, buf, 13, &len), -1);
    FWG_CHECK_EQ_INT(fwg_blob_build(parts, 2, buf, 14, &len), 0);

    /* exactly FWG_BLOB_MAX is taken, one byte more is refused whole */
    big = malloc(FWG_BLOB_MAX);
    if (!FWG_CHECK(big != NULL)) {
        return;
    }
    memset(big, 'v', FWG_BLOB_MAX);

    parts[0].data = "k";
    parts[0].len = 1;
    parts[1].data = big;
    parts[1].len = FWG_BLOB_MAX - 4 - 1 - 4;
    FWG_CHECK_EQ_INT(fwg_blob_build(parts, 2, NULL, 0, &len), 0);
    FWG_CHECK_EQ_INT(len, FWG_BLOB_MAX);

    parts[1].len++;
    FWG_CHECK_EQ_INT(fwg_blob_build(parts, 2, NULL, 0, &len), -1);

    /* one part alone over the limit, and a length that would wrap */
    parts[1].len = FWG_BLOB_MAX + 1;
    FWG_CHECK_EQ_INT(fwg_blob_build(parts, 2, NULL, 0, &len), -1);
    parts[1].len = (size_t) -1;
    FWG_CHECK_EQ_INT(fwg_blob_build(parts, 2, NULL, 0, &len), -1);

    free(big);
}


static void
test_malformed(void)
{
    long         len;
    size_t       cut;
    uint32_t     n;
    char         buf[128], *copy;
    fwg_str_t    v;
    const char  *rec[] = { "model", "LS-6000i", "hw", "B", NULL };

    len = build(rec, buf, sizeof(buf));
    FWG_CHECK(len > 0);

    /*
     * Every truncation but the one between the two pairs is malformed,
     * whichever field is asked for, even one that lies whole before the
     * cut; each is read from a heap copy of exactly its length so a
     * sanitizer sees a read past it.
     */
    for (cut = 1; cut < (size_t) len; cut++) {
        copy = malloc(cut);
        if (copy == NULL) {
            break;
        }
        memcpy(copy, buf, cut);

        if (cut == 4 + 5 + 4 + 8) {
            FWG_CHECK_EQ_INT(fwg_blob_field(copy, cut, "model", &v), 0);
            FWG_CHECK_STR(v, "LS-6000i");
            FWG_CHECK_EQ_INT(fwg_blob_field(copy, cut, "hw", &v), 1);

        } else {
            FWG_CHECK_MSG(fwg_blob_field(copy, cut, "model", &v) == -1,
                          "truncated at %zu: model", cut);
            FWG_CHECK_MSG(fwg_blob_field(copy, cut, "hw", &v) == -1,
                          "truncated at %zu: hw", cut);
        }

        free(copy);
    }

    /* trailing bytes after the last value */
    buf[len] = 'x';
    FWG_CHECK_EQ_INT(fwg_blob_field(buf, len + 1, "model", &v), -1);

    /* a length running past the end */
    n = 1000;
    memcpy(buf, &n, 4);
    FWG_CHECK_EQ_INT(fwg_blob_field(buf, len, "model", &v), -1);

    /* a length that would wrap a pointer */
    n = 0xffffffff;
    memcpy(buf, &n, 4);
    FWG_CHECK_EQ_INT(fwg_blob_field(buf, len, "model", &v), -1);

    /* a field without its value */
    {
        char  lone[9];

        n = 5;
        memcpy(lone, &n, 4);
        memcpy(lone + 4, "model", 5);
        FWG_CHECK_EQ_INT(fwg_blob_field(lone, 9, "model", &v), -1);
    }
}


static void
test_records(void)
{
    long                 len;
    char                 buf[1024];
    fwg_device_rec_t     d;
    fwg_artifact_rec_t   a;
    fwg_rollout_rec_t    o;
    const char          *dev[] = { "model", "LS-6000i", "alg", "ed25519",
                                   "key", "MCowBQYDK2VwAyEA", "status",
                                   "active", "extra", "ignored", NULL };
    const char          *art[] = { "version", "2.5.0", "models",
                                   "LS-6000i LS-7000i:B", "sha256",
                                   "abcd", "size", "1024", "path",
                                   "/firmware/ls6000i-2.5.0.bin", NULL };
    const char          *ro[] = { "artifact", "ls6000i-2.5.0.bin",
                                  "percent", "12.5", "salt", "s1",
                                  "state", "active", "from", ">=2.0.0",
                                  "downgrade", "0", NULL };

    len = build(dev, buf, sizeof(buf));
    FWG_CHECK_EQ_INT(fwg_device_from_blob(buf, len, &d), 0);
    FWG_CHECK(d.found);
    FWG_CHECK_STR(d.model, "LS-6000i");
    FWG_CHECK(d.hw.data == NULL && d.hw.len == 0);
    FWG_CHECK_STR(d.alg, "ed25519");
    FWG_CHECK_STR(d.key, "MCowBQYDK2VwAyEA");
    FWG_CHECK_STR(d.status, "active");

    len = build(art, buf, sizeof(buf));
    FWG_CHECK_EQ_INT(fwg_artifact_from_blob(buf, len, &a), 0);
    FWG_CHECK(a.found);
    FWG_CHECK_STR(a.version, "2.5.0");
    FWG_CHECK_STR(a.models, "LS-6000i LS-7000i:B");
    FWG_CHECK_STR(a.sha256, "abcd");
    FWG_CHECK_STR(a.size, "1024");
    FWG_CHECK_STR(a.path, "/firmware/ls6000i-2.5.0.bin");

    /* membership is the caller's: cleared here whatever it held */
    o.canary = 1;
    o.excluded = 1;
    len = build(ro, buf, sizeof(buf));
    FWG_CHECK_EQ_INT(fwg_rollout_from_blob(buf, len, &o), 0);
    FWG_CHECK(o.found);
    FWG_CHECK_STR(o.artifact, "ls6000i-2.5.0.bin");
    FWG_CHECK_STR(o.percent, "12.5");
    FWG_CHECK_STR(o.salt, "s1");
    FWG_CHECK_STR(o.state, "active");
    FWG_CHECK_STR(o.from, ">=2.0.0");
    FWG_CHECK_STR(o.downgrade, "0");
    FWG_CHECK(!o.canary && !o.excluded);

    /* another kind's blob: found, but none of its fields */
    len = build(dev, buf, sizeof(buf));
    FWG_CHECK_EQ_INT(fwg_rollout_from_blob(buf, len, &o), 0);
    FWG_CHECK(o.found);
    FWG_CHECK_EQ_INT(o.artifact.len + o.percent.len + o.state.len, 0);

    /* an empty hash is an absent record */
    FWG_CHECK_EQ_INT(fwg_device_from_blob(buf, 0, &d), 0);
    FWG_CHECK(!d.found);
    FWG_CHECK_EQ_INT(d.model.len, 0);
    FWG_CHECK_EQ_INT(fwg_artifact_from_blob(NULL, 0, &a), 0);
    FWG_CHECK(!a.found);
    FWG_CHECK_EQ_INT(fwg_rollout_from_blob(NULL, 0, &o), 0);
    FWG_CHECK(!o.found);

    /* malformed: found as the module had it, every field empty */
    len = build(dev, buf, sizeof(buf));
    FWG_CHECK_EQ_INT(fwg_device_from_blob(buf, len - 1, &d), -1);
    FWG_CHECK(d.found);
    FWG_CHECK(d.model.data == NULL && d.status.data == NULL);
}


/* penalty:<artifact> of the artifact decided, and a rollout's limits */

static void
test_penalty_limits(void)
{
    char                 buf[1024];
    size_t               len;
    int64_t              st, fl, ex;
    fwg_str_t            art;
    fwg_device_rec_t     d;
    fwg_rollout_rec_t    o;
    const char          *dev[] = { "model", "LS-6000i", "penalty:a1.bin",
                                   "1800000000", "penalty:a2.bin", "5",
                                   NULL };
    const char          *ro[] = { "artifact", "a1.bin", "max_starts_per_min",
                                  "3", "max_in_flight", "10",
                                  "device_failures", "2", "penalty", "60",
                                  NULL };
    const char          *ro2[] = { "artifact", "a1.bin", "max_in_flight",
                                   "x", NULL };

    len = build(dev, buf, sizeof(buf));
    FWG_CHECK_EQ_INT(fwg_device_from_blob(buf, len, &d), 0);
    FWG_CHECK_EQ_INT(d.penalty.len, 0);
    art.data = "a1.bin";
    art.len = 6;
    FWG_CHECK_EQ_INT(fwg_device_penalty(buf, len, art, &d), 0);
    FWG_CHECK_STR(d.penalty, "1800000000");
    art.data = "a3.bin";
    FWG_CHECK_EQ_INT(fwg_device_penalty(buf, len, art, &d), 1);
    FWG_CHECK_EQ_INT(d.penalty.len, 0);
    art.len = 0;
    FWG_CHECK_EQ_INT(fwg_device_penalty(buf, len, art, &d), 1);
    art.data = "a1.bin";
    art.len = 6;
    FWG_CHECK_EQ_INT(fwg_device_penalty(buf, len - 1, art, &d), -1);
    FWG_CHECK_EQ_INT(d.penalty.len, 0);

    len = build(ro, buf, sizeof(buf));
    FWG_CHECK_EQ_INT(fwg_rollout_from_blob(buf, len, &o), 0);
    FWG_CHECK_STR(o.device_failures, "2");
    FWG_CHECK_STR(o.penalty, "60");
    FWG_CHECK_EQ_INT(fwg_rollout_limits(&o, &st, &fl, &ex), 1);
    FWG_CHECK_EQ_INT(st, 3);
    FWG_CHECK_EQ_INT(fl, 10);
    FWG_CHECK_EQ_INT(ex, 3600);

    /* unreadable limits fail closed; no limits: none */
    len = build(ro2, buf, sizeof(buf));
    FWG_CHECK_EQ_INT(fwg_rollout_from_blob(buf, len, &o), 0);
    FWG_CHECK_EQ_INT(fwg_rollout_limits(&o, &st, &fl, &ex), 1);
    FWG_CHECK_EQ_INT(fl, 1);
    FWG_CHECK_EQ_INT(st, 0);
    memset(&o, 0, sizeof(o));
    FWG_CHECK_EQ_INT(fwg_rollout_limits(&o, &st, &fl, &ex), 0);
}


void
suite_record(void)
{
    unit_suite("record");

    test_round_trip();
    test_build_refused();
    test_malformed();
    test_records();
    test_penalty_limits();
}
