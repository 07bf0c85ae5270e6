/*
 * Registry records as flat blobs, and the records read back out of them.
 *
 * A Redis reply lives only for its callback, and a cached record must fit
 * in one shared-memory allocation, so the field/value strings of a hash
 * are flattened into one blob: each string as a 4-byte length (host byte
 * order: a blob never leaves the machine) followed by its bytes.  This
 * file's one job is that format; which Redis replies are records is the
 * caller's business, so no hiredis type appears here.
 */

#ifndef FWG_RECORD_H
#define FWG_RECORD_H

#include "fwg_types.h"
#include "fwg_decide.h"

/* a record this large is not ours: it is refused whole */
#define FWG_BLOB_MAX        65536

/* each part costs at least its 4-byte length, so no more can fit */
#define FWG_BLOB_MAX_PARTS  (FWG_BLOB_MAX / 4)

/*
 * Flattens parts (field, value, field, value, ...; n even) into buf.
 * *len is set to the blob's length; with buf NULL nothing else is done,
 * so a caller can size its buffer first.  Returns 0, or -1 when n is odd,
 * the blob would exceed FWG_BLOB_MAX, or buf is smaller than *len.
 */
int fwg_blob_build(const fwg_str_t *parts, size_t n, char *buf, size_t size,
    size_t *len);

/*
 * The value of the first field called name; value points into the blob.
 * Returns 0 when found, 1 when absent, -1 when the blob is malformed
 * anywhere (a length running past len, a field without a value, trailing
 * bytes), whichever field was asked for.  Never reads past blob + len.
 */
int fwg_blob_field(const char *blob, size_t len, const char *name,
    fwg_str_t *value);

/*
 * The records of docs/redis-schema.md from their blobs: found when the
 * hash was not empty, absent fields empty, fields pointing into the blob.
 * Canary and exclude membership are not in the rollout's blob: the caller
 * sets them.  Return 0, or -1 when the blob is malformed (found is still set,
 * every field left empty).
 */
int fwg_device_from_blob(const char *blob, size_t len, fwg_device_rec_t *d);
/*
 * The device's penalty:<artifact> field into d->penalty (empty when
 * absent or the blob is malformed).  Returns as fwg_blob_field().
 */
int fwg_device_penalty(const char *blob, size_t len, fwg_str_t artifact,
    fwg_device_rec_t *d);
int fwg_artifact_from_blob(const char *blob, size_t len,
    fwg_artifact_rec_t *a);
int fwg_rollout_from_blob(const char *blob, size_t len,
    fwg_rollout_rec_t *o);

#endif /* FWG_RECORD_H */
