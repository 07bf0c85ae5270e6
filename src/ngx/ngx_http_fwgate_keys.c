
/*
 * fwgate: a per-worker cache of parsed device keys.
 *
 * Turning a registry key into an OpenSSL key object (decoding a P-256
 * point, say) costs about as much as the verification itself, and the
 * same devices come back again and again.  A small table, indexed by a
 * hash of the algorithm and the key as stored in Redis, keeps the parsed
 * objects: 1024 sets of 4 ways, a full set giving up its ways in turn.
 * It was direct-mapped (4096 slots): 100 devices then had two or more
 * sharing a slot in 70 % of key sets, 2.4 % of them on average, and a
 * device sharing a slot rebuilt its key on every request when the
 * devices take turns (bench/run.sh's signed requests do): about 2 us
 * per ECDSA request on average (docs/benchmarks.md, "ECDSA verify").
 * 4 ways make a full set unlikely below a thousand devices or so.
 * Nothing is shared between workers: OpenSSL key objects are process
 * memory, and each worker is single-threaded.
 *
 * HMAC keys, the common case in large fleets, have a table of their own,
 * sized so that a fleet of 100,000 devices cycling through one worker
 * stays warm.  It is set-associative: 32,768 sets of 8 ways, a way being
 * the key's hash and a pointer to a key holding its two pre-keyed
 * SHA-256 states and the secret (about 180 bytes of heap with the
 * allocator's headers).  A direct-mapped table of as many slots had more
 * than half of such a fleet sharing a slot with another device, and so
 * rebuilding its key on every other request; with 8 ways about 1 % of
 * 100,000 keys find their set full.  A set is 128 bytes (two cache
 * lines), its hashes compared before any key is read; the index is 4 MiB,
 * touched as it fills: about 230 bytes per device per worker in all.  A
 * way checks its key against the record by the secret itself
 * (fwg_key_hmac_is), with no copy of the record; a full set gives up its
 * ways in turn.  Asymmetric keys hold OpenSSL objects of a kilobyte or
 * more and keep the smaller table.
 */

#include "ngx_http_fwgate_module.h"


#define NGX_HTTP_FWGATE_KEY_SETS    1024     /* power of two */
#define NGX_HTTP_FWGATE_KEY_WAYS    4
#define NGX_HTTP_FWGATE_KEYS                                                  \
    (NGX_HTTP_FWGATE_KEY_SETS * NGX_HTTP_FWGATE_KEY_WAYS)
#define NGX_HTTP_FWGATE_HMAC_SETS   32768    /* power of two */
#define NGX_HTTP_FWGATE_HMAC_WAYS   8
#define NGX_HTTP_FWGATE_KEY_MAXREC  256


typedef struct {
    fwg_key_t      *key;
    uint32_t        hash;               /* compared before the record */
    fwg_alg_t       alg;
    size_t          len;
    u_char          rec[NGX_HTTP_FWGATE_KEY_MAXREC];
} ngx_http_fwgate_key_slot_t;


typedef struct {
    uint32_t        hash;
    fwg_key_t      *key;
} ngx_http_fwgate_hmac_way_t;


static ngx_http_fwgate_key_slot_t  *ngx_http_fwgate_keys;
static void                        *ngx_http_fwgate_hmac_block;
static ngx_http_fwgate_hmac_way_t  *ngx_http_fwgate_hmac_keys;
static ngx_uint_t                   ngx_http_fwgate_hmac_turn;
static ngx_uint_t                   ngx_http_fwgate_key_turn;


static const fwg_key_t *
ngx_http_fwgate_hmac_key_get(fwg_str_t rec)
{
    uint32_t                     hash;
    fwg_key_t                   *key;
    ngx_uint_t                   i, w;
    const char                  *err;
    ngx_http_fwgate_hmac_way_t  *set;

    if (ngx_http_fwgate_hmac_keys == NULL) {
        /*
         * calloc(): committed as sets fill, not at once (see memo.c); a
         * set more, to align the sets on cache lines
         */

        ngx_http_fwgate_hmac_block = calloc((NGX_HTTP_FWGATE_HMAC_SETS + 1)
                                            * NGX_HTTP_FWGATE_HMAC_WAYS,
                                            sizeof(ngx_http_fwgate_hmac_way_t));
        if (ngx_http_fwgate_hmac_block == NULL) {
            return NULL;
        }

        ngx_http_fwgate_hmac_keys = (ngx_http_fwgate_hmac_way_t *)
                              ngx_align_ptr(ngx_http_fwgate_hmac_block, 64);
    }

    hash = fwg_table_hash(rec.data, rec.len);
    set = &ngx_http_fwgate_hmac_keys[(hash & (NGX_HTTP_FWGATE_HMAC_SETS - 1))
                                     * NGX_HTTP_FWGATE_HMAC_WAYS];

    w = NGX_HTTP_FWGATE_HMAC_WAYS;

    for (i = 0; i < NGX_HTTP_FWGATE_HMAC_WAYS; i++) {

        if (set[i].key == NULL) {
            if (w == NGX_HTTP_FWGATE_HMAC_WAYS) {
                w = i;
            }

            continue;
        }

        if (set[i].hash == hash
            && fwg_key_hmac_is(set[i].key, rec.data, rec.len))
        {
            return set[i].key;
        }
    }

    err = NULL;
    key = fwg_key_from_record(FWG_ALG_HMAC_SHA256, rec.data, rec.len, &err);

    if (key == NULL) {
        return NULL;
    }

    if (w == NGX_HTTP_FWGATE_HMAC_WAYS) {
        /* a full set: its ways are given up in turn */
        w = ngx_http_fwgate_hmac_turn++ % NGX_HTTP_FWGATE_HMAC_WAYS;
        fwg_key_free(set[w].key);
    }

    set[w].hash = hash;
    set[w].key = key;

    return key;
}


const fwg_key_t *
ngx_http_fwgate_key_get(fwg_str_t alg_name, fwg_str_t rec)
{
    uint32_t                     hash;
    fwg_alg_t                    alg;
    fwg_key_t                   *key;
    ngx_uint_t                   i, w;
    const char                  *err;
    ngx_http_fwgate_key_slot_t  *set, *s;

    alg = fwg_alg_parse(alg_name.data ? alg_name.data : "", alg_name.len);

    if (alg == FWG_ALG_NONE || rec.data == NULL || rec.len == 0
        || rec.len > NGX_HTTP_FWGATE_KEY_MAXREC)
    {
        /* the core parses (and refuses) it itself */
        return NULL;
    }

    if (alg == FWG_ALG_HMAC_SHA256) {
        return ngx_http_fwgate_hmac_key_get(rec);
    }

    if (ngx_http_fwgate_keys == NULL) {
        ngx_http_fwgate_keys = ngx_calloc(NGX_HTTP_FWGATE_KEYS
                                          * sizeof(ngx_http_fwgate_key_slot_t),
                                          ngx_cycle->log);
        if (ngx_http_fwgate_keys == NULL) {
            return NULL;
        }
    }

    hash = fwg_table_hash(rec.data, rec.len) ^ (uint32_t) alg;
    set = &ngx_http_fwgate_keys[(hash & (NGX_HTTP_FWGATE_KEY_SETS - 1))
                                * NGX_HTTP_FWGATE_KEY_WAYS];

    w = NGX_HTTP_FWGATE_KEY_WAYS;

    for (i = 0; i < NGX_HTTP_FWGATE_KEY_WAYS; i++) {
        s = &set[i];

        if (s->key == NULL) {
            if (w == NGX_HTTP_FWGATE_KEY_WAYS) {
                w = i;
            }

            continue;
        }

        if (s->hash == hash && s->alg == alg && s->len == rec.len
            && ngx_memcmp(s->rec, rec.data, rec.len) == 0)
        {
            return s->key;
        }
    }

    err = NULL;
    key = fwg_key_from_record(alg, rec.data, rec.len, &err);

    if (key == NULL) {
        return NULL;
    }

    if (w == NGX_HTTP_FWGATE_KEY_WAYS) {
        /* a full set: its ways are given up in turn */
        w = ngx_http_fwgate_key_turn++ % NGX_HTTP_FWGATE_KEY_WAYS;
        fwg_key_free(set[w].key);
    }

    s = &set[w];
    s->key = key;
    s->hash = hash;
    s->alg = alg;
    s->len = rec.len;
    ngx_memcpy(s->rec, rec.data, rec.len);

    return key;
}


void
ngx_http_fwgate_keys_free(void)
{
    ngx_uint_t  i;

    if (ngx_http_fwgate_hmac_keys) {
        for (i = 0;
             i < NGX_HTTP_FWGATE_HMAC_SETS * NGX_HTTP_FWGATE_HMAC_WAYS;
             i++)
        {
            if (ngx_http_fwgate_hmac_keys[i].key) {
                fwg_key_free(ngx_http_fwgate_hmac_keys[i].key);
            }
        }

        free(ngx_http_fwgate_hmac_block);
        ngx_http_fwgate_hmac_block = NULL;
        ngx_http_fwgate_hmac_keys = NULL;
    }

    if (ngx_http_fwgate_keys == NULL) {
        return;
    }

    for (i = 0; i < NGX_HTTP_FWGATE_KEYS; i++) {
        if (ngx_http_fwgate_keys[i].key) {
            fwg_key_free(ngx_http_fwgate_keys[i].key);
        }
    }

    ngx_free(ngx_http_fwgate_keys);
    ngx_http_fwgate_keys = NULL;
}
