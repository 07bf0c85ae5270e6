/*
 * Signed release metadata: canonical forms, keys, sign and verify.
 * The canonical forms are defined in docs/redis-schema.md; this file
 * is their one implementation (module, fwgatectl and unit tests).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "fwg_release.h"
#include "fwg_b64.h"

#define FWG_RELEASE_MAX_FILE  65536
#define FWG_ED25519_SIG       64
#define FWG_ED25519_KEY       32


void
fwg_release_keys_init(fwg_release_keys_t *ks)
{
    memset(ks, 0, sizeof(*ks));
}


void
fwg_release_keys_free(fwg_release_keys_t *ks)
{
    size_t  i;

    for (i = 0; i < ks->n; i++) {
        fwg_key_free(ks->k[i].key);
    }

    memset(ks, 0, sizeof(*ks));
}


/* the raw public key of an ed25519 key: 0, or -1 */
static int
fwg_release_raw(const fwg_key_t *k, unsigned char raw[FWG_ED25519_KEY])
{
    char    rec[128];
    long    n;
    size_t  len;

    if (k == NULL || fwg_key_alg(k) != FWG_ALG_ED25519) {
        return -1;
    }

    n = fwg_key_record(k, rec, sizeof(rec));

    if (n < 0 || fwg_b64_decode(raw, FWG_ED25519_KEY, &len, rec, (size_t) n)
                 != 0
        || len != FWG_ED25519_KEY)
    {
        return -1;
    }

    return 0;
}


int
fwg_release_keyid(const fwg_key_t *k, char keyid[FWG_RELEASE_KEYID_LEN + 1])
{
    unsigned char  raw[FWG_ED25519_KEY], md[32];
    unsigned int   mdlen;

    if (fwg_release_raw(k, raw) != 0
        || EVP_Digest(raw, sizeof(raw), md, &mdlen, EVP_sha256(), NULL) != 1)
    {
        return -1;
    }

    fwg_hex_encode(keyid, md, FWG_RELEASE_KEYID_LEN / 2);
    keyid[FWG_RELEASE_KEYID_LEN] = '\0';

    return 0;
}


/* recomputes ks->id over the raw keys in order */
static int
fwg_release_keys_digest(fwg_release_keys_t *ks)
{
    int             rc;
    size_t          i;
    unsigned int    mdlen;
    EVP_MD_CTX     *md;
    unsigned char   raw[FWG_ED25519_KEY];

    md = EVP_MD_CTX_new();
    if (md == NULL) {
        return -1;
    }

    rc = EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 ? 0 : -1;

    for (i = 0; rc == 0 && i < ks->n; i++) {
        if (fwg_release_raw(ks->k[i].key, raw) != 0
            || EVP_DigestUpdate(md, raw, sizeof(raw)) != 1)
        {
            rc = -1;
        }
    }

    if (rc == 0 && EVP_DigestFinal_ex(md, ks->id, &mdlen) != 1) {
        rc = -1;
    }

    EVP_MD_CTX_free(md);

    return rc;
}


static int
fwg_release_keys_add(fwg_release_keys_t *ks, fwg_key_t *k, const char **err)
{
    size_t  i;
    char    keyid[FWG_RELEASE_KEYID_LEN + 1];

    if (fwg_key_alg(k) != FWG_ALG_ED25519
        || fwg_release_keyid(k, keyid) != 0)
    {
        fwg_key_free(k);
        *err = "not an ed25519 key";
        return -1;
    }

    for (i = 0; i < ks->n; i++) {
        if (strcmp(ks->k[i].keyid, keyid) == 0) {
            /* the same key twice: harmless, kept once */
            fwg_key_free(k);
            return 0;
        }
    }

    if (ks->n == FWG_RELEASE_MAX_KEYS) {
        fwg_key_free(k);
        *err = "too many release keys";
        return -1;
    }

    memcpy(ks->k[ks->n].keyid, keyid, sizeof(keyid));
    ks->k[ks->n].key = k;
    ks->n++;

    return 0;
}


int
fwg_release_keys_parse(fwg_release_keys_t *ks, const char *data, size_t len,
    const char **err)
{
    size_t       i, s, e, n0, added;
    fwg_key_t   *k;
    const char  *p;

    n0 = ks->n;
    added = 0;

    i = 0;

    while (i < len) {
        s = i;

        while (i < len && data[i] != '\n') {
            i++;
        }

        e = i;
        i++;

        while (s < e && (data[s] == ' ' || data[s] == '\t')) {
            s++;
        }

        while (e > s && (data[e - 1] == ' ' || data[e - 1] == '\t'
                         || data[e - 1] == '\r'))
        {
            e--;
        }

        if (s == e || data[s] == '#') {
            continue;
        }

        p = data + s;

        if (e - s < 9 || memcmp(p, "ed25519", 7) != 0
            || (p[7] != ' ' && p[7] != '\t'))
        {
            *err = "a key line is \"ed25519 <base64 key>\"";
            goto failed;
        }

        s += 8;

        while (s < e && (data[s] == ' ' || data[s] == '\t')) {
            s++;
        }

        k = fwg_key_from_record(FWG_ALG_ED25519, data + s, e - s, err);
        if (k == NULL) {
            goto failed;
        }

        if (fwg_release_keys_add(ks, k, err) != 0) {
            goto failed;
        }

        added++;
    }

    if (added == 0) {
        *err = "no key in release key file";
        goto failed;
    }

    if (fwg_release_keys_digest(ks) != 0) {
        *err = "digest failed";
        goto failed;
    }

    return 0;

failed:

    while (ks->n > n0) {
        ks->n--;
        fwg_key_free(ks->k[ks->n].key);
        ks->k[ks->n].key = NULL;
    }

    return -1;
}


int
fwg_release_keys_load(fwg_release_keys_t *ks, const char *path,
    const char **err)
{
    int     rc;
    FILE   *f;
    char   *buf;
    size_t  n;

    f = fopen(path, "rb");
    if (f == NULL) {
        *err = "cannot open release key file";
        return -1;
    }

    buf = malloc(FWG_RELEASE_MAX_FILE + 1);
    if (buf == NULL) {
        fclose(f);
        *err = "out of memory";
        return -1;
    }

    n = fread(buf, 1, FWG_RELEASE_MAX_FILE + 1, f);
    fclose(f);

    if (n > FWG_RELEASE_MAX_FILE) {
        free(buf);
        *err = "release key file too large";
        return -1;
    }

    rc = fwg_release_keys_parse(ks, buf, n, err);

    free(buf);

    return rc;
}


/* canonical forms ----------------------------------------------------- */

typedef struct {
    char    *p;
    char    *end;
    int      err;
} fwg_canon_t;


static void
fwg_canon_put(fwg_canon_t *c, const char *s, size_t n)
{
    if (c->err || (size_t) (c->end - c->p) < n) {
        c->err = 1;
        return;
    }

    if (n == 0) {
        /* an absent field: s may be NULL */
        return;
    }

    memcpy(c->p, s, n);
    c->p += n;
}


/* a value goes in only when it cannot end its line early */
static void
fwg_canon_field(fwg_canon_t *c, const char *name, fwg_str_t v)
{
    if (v.len && (memchr(v.data, '\n', v.len) || memchr(v.data, '\0', v.len)
                  || memchr(v.data, '\r', v.len)))
    {
        c->err = 1;
        return;
    }

    fwg_canon_put(c, name, strlen(name));
    fwg_canon_put(c, "=", 1);
    fwg_canon_put(c, v.data, v.len);
    fwg_canon_put(c, "\n", 1);
}


static int
fwg_canon_cmp(const void *a, const void *b)
{
    int               rc;
    const fwg_str_t  *x = a, *y = b;

    rc = memcmp(x->data, y->data, x->len < y->len ? x->len : y->len);

    if (rc != 0) {
        return rc;
    }

    return x->len < y->len ? -1 : x->len > y->len ? 1 : 0;
}


int
fwg_release_canonical(fwg_str_t name, const fwg_artifact_rec_t *a,
    char *buf, size_t size, size_t *len)
{
    size_t        i, n, start;
    char          hex[128];
    fwg_str_t     m[FWG_RELEASE_MAX_MODELS], v;
    fwg_canon_t   c;
    const char   *p;

    c.p = buf;
    c.end = buf + size;
    c.err = 0;

    fwg_canon_put(&c, "fwgate-artifact-v1\n", 19);
    fwg_canon_field(&c, "name", name);
    fwg_canon_field(&c, "version", a->version);

    /* models: split on spaces and tabs (as step 12 reads them), sorted */

    n = 0;
    p = a->models.data;

    for (i = 0; i < a->models.len; ) {
        while (i < a->models.len && (p[i] == ' ' || p[i] == '\t')) {
            i++;
        }

        start = i;

        while (i < a->models.len && p[i] != ' ' && p[i] != '\t') {
            i++;
        }

        if (i > start) {
            if (n == FWG_RELEASE_MAX_MODELS) {
                return -1;
            }

            m[n].data = p + start;
            m[n].len = i - start;
            n++;
        }
    }

    qsort(m, n, sizeof(fwg_str_t), fwg_canon_cmp);

    fwg_canon_put(&c, "models=", 7);

    for (i = 0; i < n; i++) {
        if (memchr(m[i].data, '\n', m[i].len)
            || memchr(m[i].data, '\r', m[i].len)
            || memchr(m[i].data, '\0', m[i].len))
        {
            return -1;
        }

        if (i) {
            fwg_canon_put(&c, " ", 1);
        }

        fwg_canon_put(&c, m[i].data, m[i].len);
    }

    fwg_canon_put(&c, "\n", 1);

    /* sha256: hex, lowercased */

    if (a->sha256.len > sizeof(hex)) {
        return -1;
    }

    for (i = 0; i < a->sha256.len; i++) {
        char ch = a->sha256.data[i];

        if (ch >= 'A' && ch <= 'F') {
            ch = (char) (ch - 'A' + 'a');
        }

        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) {
            return -1;
        }

        hex[i] = ch;
    }

    v.data = hex;
    v.len = a->sha256.len;
    fwg_canon_field(&c, "sha256", v);

    /* size: decimal, no sign, no leading zero */

    for (i = 0; i < a->size.len; i++) {
        if (a->size.data[i] < '0' || a->size.data[i] > '9') {
            return -1;
        }
    }

    if (a->size.len > 1 && a->size.data[0] == '0') {
        return -1;
    }

    fwg_canon_field(&c, "size", a->size);
    fwg_canon_field(&c, "path", a->path);

    if (c.err) {
        return -1;
    }

    *len = (size_t) (c.p - buf);

    return 0;
}


int
fwg_release_floor_canonical(fwg_str_t model, fwg_str_t version, char *buf,
    size_t size, size_t *len)
{
    fwg_canon_t  c;

    c.p = buf;
    c.end = buf + size;
    c.err = 0;

    fwg_canon_put(&c, "fwgate-floor-v1\n", 16);
    fwg_canon_field(&c, "model", model);
    fwg_canon_field(&c, "version", version);

    if (c.err) {
        return -1;
    }

    *len = (size_t) (c.p - buf);

    return 0;
}


/* sign and verify ----------------------------------------------------- */

int
fwg_release_sign(const fwg_key_t *k, const char *msg, size_t len, char *out,
    size_t size)
{
    size_t         siglen, n;
    unsigned char  sig[FWG_SIG_MAX_SIG];

    if (size < FWG_RELEASE_SIG_MAX || fwg_key_alg(k) != FWG_ALG_ED25519
        || !fwg_key_can_sign(k))
    {
        return -1;
    }

    if (fwg_release_keyid(k, out) != 0
        || fwg_sig_sign(k, msg, len, sig, &siglen) != 0
        || siglen != FWG_ED25519_SIG)
    {
        return -1;
    }

    out[FWG_RELEASE_KEYID_LEN] = ':';
    n = fwg_b64_encode(out + FWG_RELEASE_KEYID_LEN + 1, sig, siglen);
    out[FWG_RELEASE_KEYID_LEN + 1 + n] = '\0';

    return 0;
}


fwg_str_t
fwg_release_sig_keyid(fwg_str_t sig)
{
    size_t     i;
    fwg_str_t  none = fwg_str_lit("");

    if (sig.data == NULL || sig.len <= FWG_RELEASE_KEYID_LEN
        || sig.data[FWG_RELEASE_KEYID_LEN] != ':')
    {
        return none;
    }

    for (i = 0; i < FWG_RELEASE_KEYID_LEN; i++) {
        if (!((sig.data[i] >= '0' && sig.data[i] <= '9')
              || (sig.data[i] >= 'a' && sig.data[i] <= 'f')))
        {
            return none;
        }
    }

    sig.len = FWG_RELEASE_KEYID_LEN;

    return sig;
}


int
fwg_release_verify(const fwg_release_keys_t *ks, const char *msg,
    size_t len, fwg_str_t sig, const char **detail)
{
    size_t          i, n;
    fwg_str_t       keyid;
    unsigned char   raw[FWG_ED25519_SIG + 3];

    if (sig.data == NULL || sig.len == 0) {
        *detail = "no sig";
        return 0;
    }

    keyid = fwg_release_sig_keyid(sig);

    if (keyid.len == 0
        || fwg_b64_decode(raw, sizeof(raw), &n,
                          sig.data + FWG_RELEASE_KEYID_LEN + 1,
                          sig.len - FWG_RELEASE_KEYID_LEN - 1) != 0
        || n != FWG_ED25519_SIG)
    {
        *detail = "malformed sig";
        return 0;
    }

    for (i = 0; i < ks->n; i++) {
        if (memcmp(ks->k[i].keyid, keyid.data, FWG_RELEASE_KEYID_LEN) == 0) {
            break;
        }
    }

    if (i == ks->n) {
        *detail = "unknown keyid";
        return 0;
    }

    if (fwg_sig_verify(ks->k[i].key, msg, len, raw, n) != 1) {
        *detail = "signature does not verify";
        return 0;
    }

    *detail = "verified";

    return 1;
}


int
fwg_release_check_artifact(const fwg_release_keys_t *ks, fwg_str_t name,
    const fwg_artifact_rec_t *a, const char **detail)
{
    char    buf[FWG_RELEASE_CANON_MAX];
    size_t  len;

    if (fwg_release_canonical(name, a, buf, sizeof(buf), &len) != 0) {
        *detail = "record has no canonical form";
        return FWG_RELEASE_INVALID;
    }

    return fwg_release_verify(ks, buf, len, a->sig, detail)
           ? FWG_RELEASE_VALID : FWG_RELEASE_INVALID;
}


int
fwg_release_check_floor(const fwg_release_keys_t *ks, fwg_str_t model,
    fwg_str_t version, fwg_str_t sig, const char **detail)
{
    char    buf[512];
    size_t  len;

    if (fwg_release_floor_canonical(model, version, buf, sizeof(buf), &len)
        != 0)
    {
        *detail = "floor has no canonical form";
        return FWG_RELEASE_INVALID;
    }

    return fwg_release_verify(ks, buf, len, sig, detail)
           ? FWG_RELEASE_VALID : FWG_RELEASE_INVALID;
}
