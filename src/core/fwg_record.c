/*
 * Registry record blobs: built from a hash's strings, read field by
 * field, and turned into the records the decision takes.
 */

#include <stddef.h>
#include <string.h>

#include "fwg_record.h"


typedef struct {
    const char  *name;
    size_t       len;           /* strlen(name) */
    size_t       offset;        /* of its fwg_str_t in the record */
} fwg_record_field_t;

#define fwg_rf(name, type, member)                                          \
    { name, sizeof(name) - 1, offsetof(type, member) }


/* the field names of docs/redis-schema.md, one table per record */

static const fwg_record_field_t  fwg_device_fields[] = {
    fwg_rf("model", fwg_device_rec_t, model),
    fwg_rf("hw", fwg_device_rec_t, hw),
    fwg_rf("alg", fwg_device_rec_t, alg),
    fwg_rf("key", fwg_device_rec_t, key),
    fwg_rf("status", fwg_device_rec_t, status),
};

static const fwg_record_field_t  fwg_artifact_fields[] = {
    fwg_rf("version", fwg_artifact_rec_t, version),
    fwg_rf("models", fwg_artifact_rec_t, models),
    fwg_rf("sha256", fwg_artifact_rec_t, sha256),
    fwg_rf("size", fwg_artifact_rec_t, size),
    fwg_rf("path", fwg_artifact_rec_t, path),
    fwg_rf("sig", fwg_artifact_rec_t, sig),
};

static const fwg_record_field_t  fwg_rollout_fields[] = {
    fwg_rf("artifact", fwg_rollout_rec_t, artifact),
    fwg_rf("percent", fwg_rollout_rec_t, percent),
    fwg_rf("salt", fwg_rollout_rec_t, salt),
    fwg_rf("state", fwg_rollout_rec_t, state),
    fwg_rf("from", fwg_rollout_rec_t, from),
    fwg_rf("downgrade", fwg_rollout_rec_t, downgrade),
    fwg_rf("floor", fwg_rollout_rec_t, floor),
    fwg_rf("floor_sig", fwg_rollout_rec_t, floor_sig),
    fwg_rf("max_starts_per_min", fwg_rollout_rec_t, max_starts),
    fwg_rf("max_in_flight", fwg_rollout_rec_t, max_in_flight),
    fwg_rf("in_flight_expiry", fwg_rollout_rec_t, in_flight_expiry),
    fwg_rf("device_failures", fwg_rollout_rec_t, device_failures),
    fwg_rf("penalty", fwg_rollout_rec_t, penalty),
};

#define fwg_nfields(t)  (sizeof(t) / sizeof((t)[0]))


int
fwg_blob_build(const fwg_str_t *parts, size_t n, char *buf, size_t size,
    size_t *len)
{
    char      *p;
    size_t     total, i;
    uint32_t   plen;

    if (n % 2) {
        return -1;
    }

    total = 0;

    for (i = 0; i < n; i++) {

        /* both terms are at most FWG_BLOB_MAX: the sum cannot wrap */
        if (parts[i].len > FWG_BLOB_MAX
            || total + 4 + parts[i].len > FWG_BLOB_MAX)
        {
            return -1;
        }

        total += 4 + parts[i].len;
    }

    *len = total;

    if (buf == NULL) {
        return 0;
    }

    if (size < total) {
        return -1;
    }

    p = buf;

    for (i = 0; i < n; i++) {
        plen = (uint32_t) parts[i].len;
        memcpy(p, &plen, 4);
        p += 4;

        /* an empty part may come with a NULL pointer */
        if (plen) {
            memcpy(p, parts[i].data, plen);
            p += plen;
        }
    }

    return 0;
}


/*
 * One string of the blob at *p: its bytes in *s, *p moved past it.
 * Returns -1 when the length or the bytes run past end.
 */

static int
fwg_blob_next(const char **p, const char *end, fwg_str_t *s)
{
    uint32_t  n;

    if (end - *p < 4) {
        return -1;
    }

    memcpy(&n, *p, 4);
    *p += 4;

    if ((size_t) (end - *p) < n) {
        return -1;
    }

    s->data = *p;
    s->len = n;
    *p += n;

    return 0;
}


int
fwg_blob_field(const char *blob, size_t len, const char *name,
    fwg_str_t *value)
{
    int          found;
    size_t       nlen;
    fwg_str_t    f, v, first;
    const char  *p, *end;

    if (len == 0) {
        return 1;
    }

    p = blob;
    end = blob + len;
    nlen = strlen(name);
    found = 0;
    first.data = NULL;
    first.len = 0;

    /*
     * The whole blob is walked even after a match: a malformed blob is
     * an error whichever field is asked for, so a record is either read
     * whole or not at all.
     */

    while (p < end) {
        if (fwg_blob_next(&p, end, &f) != 0
            || fwg_blob_next(&p, end, &v) != 0)
        {
            return -1;
        }

        if (!found && f.len == nlen && memcmp(f.data, name, nlen) == 0) {
            first = v;
            found = 1;
        }
    }

    if (!found) {
        return 1;
    }

    *value = first;

    return 0;
}


/*
 * Every known field of a record in one walk of its blob (a record is read
 * on each request): the first occurrence of a name wins, as in
 * fwg_blob_field(), and a malformed blob leaves every field empty.
 */

static int
fwg_record_fill(const char *blob, size_t len, const fwg_record_field_t *fields,
    size_t n, void *rec)
{
    size_t       i;
    uint32_t     seen;
    fwg_str_t    f, v, *s;
    const char  *p, *end;

    if (len == 0) {
        /* an empty hash: no fields (and blob may be NULL) */
        return 0;
    }

    p = blob;
    end = blob + len;
    seen = 0;

    while (p < end) {
        if (fwg_blob_next(&p, end, &f) != 0
            || fwg_blob_next(&p, end, &v) != 0)
        {
            for (i = 0; i < n; i++) {
                s = (fwg_str_t *) ((char *) rec + fields[i].offset);
                s->data = NULL;
                s->len = 0;
            }

            return -1;
        }

        /* length first: most names differ there, no byte is read */

        for (i = 0; i < n; i++) {
            if (!(seen & (1u << i)) && f.len == fields[i].len
                && memcmp(f.data, fields[i].name, f.len) == 0)
            {
                s = (fwg_str_t *) ((char *) rec + fields[i].offset);
                *s = v;
                seen |= 1u << i;
                break;
            }
        }
    }

    return 0;
}


int
fwg_device_from_blob(const char *blob, size_t len, fwg_device_rec_t *d)
{
    memset(d, 0, sizeof(fwg_device_rec_t));
    d->found = len > 0;

    return fwg_record_fill(blob, len, fwg_device_fields,
                           fwg_nfields(fwg_device_fields), d);
}


int
fwg_device_penalty(const char *blob, size_t len, fwg_str_t artifact,
    fwg_device_rec_t *d)
{
    int    rc;
    char   name[8 + 257];

    d->penalty.data = NULL;
    d->penalty.len = 0;

    if (len == 0 || artifact.len == 0 || artifact.len > 256) {
        return 1;
    }

    memcpy(name, "penalty:", 8);
    memcpy(name + 8, artifact.data, artifact.len);
    name[8 + artifact.len] = '\0';

    if (memchr(artifact.data, '\0', artifact.len) != NULL) {
        return 1;
    }

    rc = fwg_blob_field(blob, len, name, &d->penalty);

    if (rc != 0) {
        d->penalty.data = NULL;
        d->penalty.len = 0;
    }

    return rc;
}


int
fwg_artifact_from_blob(const char *blob, size_t len, fwg_artifact_rec_t *a)
{
    memset(a, 0, sizeof(fwg_artifact_rec_t));
    a->found = len > 0;

    return fwg_record_fill(blob, len, fwg_artifact_fields,
                           fwg_nfields(fwg_artifact_fields), a);
}


int
fwg_rollout_from_blob(const char *blob, size_t len, fwg_rollout_rec_t *o)
{
    memset(o, 0, sizeof(fwg_rollout_rec_t));
    o->found = len > 0;

    return fwg_record_fill(blob, len, fwg_rollout_fields,
                           fwg_nfields(fwg_rollout_fields), o);
}
