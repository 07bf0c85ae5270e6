/*
 * RFC 8941 structured field values: parse and serialize.
 *
 * Supported types: Integer, Decimal, String, Token, Byte Sequence, Boolean,
 * Inner List, with Parameters; top-level List, Dictionary and Item.
 * (Date and Display String of RFC 9651 are not supported.)
 *
 * All parsed data lives in the caller's arena; strings that need no
 * unescaping point into it too.  Byte sequences are decoded.
 */

#ifndef FWG_SF_H
#define FWG_SF_H

#include "fwg_types.h"

typedef enum {
    FWG_SF_INTEGER = 1,
    FWG_SF_DECIMAL,
    FWG_SF_STRING,
    FWG_SF_TOKEN,
    FWG_SF_BINARY,
    FWG_SF_BOOLEAN,
    FWG_SF_INNER_LIST
} fwg_sf_type_t;

typedef struct fwg_sf_item_s   fwg_sf_item_t;
typedef struct fwg_sf_param_s  fwg_sf_param_t;

/* a bare item (no params) */
typedef struct {
    fwg_sf_type_t       type;
    int64_t             integer;    /* INTEGER, BOOLEAN (0/1) */
    int64_t             decimal;    /* DECIMAL, in thousandths */
    fwg_str_t           str;        /* STRING (unescaped), TOKEN, BINARY */
} fwg_sf_bare_t;

struct fwg_sf_param_s {
    fwg_str_t           key;
    fwg_sf_bare_t       value;
};

struct fwg_sf_item_s {
    fwg_sf_bare_t       bare;       /* bare.type may be FWG_SF_INNER_LIST */
    fwg_sf_item_t      *items;      /* INNER_LIST members */
    size_t              nitems;
    fwg_sf_param_t     *params;
    size_t              nparams;
};

/* list member or dictionary member (key is empty for list members) */
typedef struct {
    fwg_str_t           key;
    fwg_sf_item_t       value;
} fwg_sf_member_t;

typedef enum {
    FWG_SF_OK = 0,
    FWG_SF_ESYNTAX = -1,
    FWG_SF_ENOMEM = -2          /* arena exhausted: input too large */
} fwg_sf_rc_t;

/*
 * Each parser takes the (already combined) field value.  On error *err
 * points at a static message.  Duplicate dictionary keys: the last wins,
 * keeping the first's position, as RFC 8941 says.
 */
int fwg_sf_parse_list(const char *s, size_t len, fwg_arena_t *a,
    fwg_sf_member_t **out, size_t *n, const char **err);
int fwg_sf_parse_dict(const char *s, size_t len, fwg_arena_t *a,
    fwg_sf_member_t **out, size_t *n, const char **err);
int fwg_sf_parse_item(const char *s, size_t len, fwg_arena_t *a,
    fwg_sf_item_t *out, const char **err);

/* parameter lookup; NULL when absent */
const fwg_sf_bare_t *fwg_sf_param(const fwg_sf_item_t *it, const char *key);
/* dictionary lookup; NULL when absent */
const fwg_sf_member_t *fwg_sf_dict_get(const fwg_sf_member_t *m, size_t n,
    fwg_str_t key);

/*
 * Serializers write into dst (dstsize bytes, no NUL added) and return the
 * length, or -1 when it does not fit or a value cannot be serialized.
 */
long fwg_sf_serialize_item(char *dst, size_t dstsize,
    const fwg_sf_item_t *it);
long fwg_sf_serialize_params(char *dst, size_t dstsize,
    const fwg_sf_param_t *p, size_t n);
long fwg_sf_serialize_list(char *dst, size_t dstsize,
    const fwg_sf_member_t *m, size_t n);
long fwg_sf_serialize_dict(char *dst, size_t dstsize,
    const fwg_sf_member_t *m, size_t n);

#endif /* FWG_SF_H */
