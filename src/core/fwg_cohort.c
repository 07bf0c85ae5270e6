/*
 * Cohort assignment (docs/fleet-guide.md).  The module and fwgatectl both call
 * this, so a device lands in the same bucket everywhere.
 */

#include <openssl/evp.h>

#include "fwg_cohort.h"


/* outside 0..9999: never below a percentage, so a failure fails closed */
#define FWG_COHORT_BUCKET_ERROR  0xffffffffU


/*
 * The digest and a context are made once and kept: OpenSSL 3 fetches the
 * implementation and allocates a context on every
 * EVP_DigestInit_ex(EVP_sha256()), three times the cost of hashing a
 * device id.  The core runs in one thread (an nginx worker, the CLI).
 */
static EVP_MD      *fwg_cohort_sha256;
static EVP_MD_CTX  *fwg_cohort_ctx;


uint32_t
fwg_cohort_bucket(fwg_str_t salt, fwg_str_t device_id)
{
    unsigned char        md[EVP_MAX_MD_SIZE];
    unsigned int         mdlen;
    uint32_t             v;
    int                  ok;
    EVP_MD              *sha256;
    EVP_MD_CTX          *ctx;

    sha256 = fwg_cohort_sha256;
    ctx = fwg_cohort_ctx;

    if (ctx == NULL) {
        sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
        ctx = EVP_MD_CTX_new();

        if (sha256 == NULL || ctx == NULL) {
            EVP_MD_free(sha256);
            EVP_MD_CTX_free(ctx);
            return FWG_COHORT_BUCKET_ERROR;
        }

        fwg_cohort_sha256 = sha256;
        fwg_cohort_ctx = ctx;
    }

    mdlen = 0;

    ok = EVP_DigestInit_ex2(ctx, sha256, NULL)
         && EVP_DigestUpdate(ctx, salt.len ? salt.data : "", salt.len)
         && EVP_DigestUpdate(ctx, ":", 1)
         && EVP_DigestUpdate(ctx, device_id.len ? device_id.data : "",
                             device_id.len)
         && EVP_DigestFinal_ex(ctx, md, &mdlen);

    if (!ok || mdlen < 4) {
        return FWG_COHORT_BUCKET_ERROR;
    }

    v = ((uint32_t) md[0] << 24) | ((uint32_t) md[1] << 16)
        | ((uint32_t) md[2] << 8) | (uint32_t) md[3];

    return v % 10000;
}


void
fwg_cohort_cleanup(void)
{
    EVP_MD_CTX_free(fwg_cohort_ctx);
    EVP_MD_free(fwg_cohort_sha256);
    fwg_cohort_ctx = NULL;
    fwg_cohort_sha256 = NULL;
}


long
fwg_percent_parse(const char *s, size_t len)
{
    size_t  p, nint, nfrac;
    long    ip, fp;

    if (s == NULL || len == 0) {
        return -1;
    }

    p = 0;
    ip = 0;
    fp = 0;

    /* at most three integer digits: enough for "100", no overflow */
    while (p < len && s[p] >= '0' && s[p] <= '9') {
        if (p == 3) {
            return -1;
        }

        ip = ip * 10 + (s[p] - '0');
        p++;
    }

    nint = p;

    if (nint == 0) {
        return -1;
    }

    nfrac = 0;

    if (p < len && s[p] == '.') {
        p++;

        while (p < len && s[p] >= '0' && s[p] <= '9') {
            if (nfrac == 2) {
                return -1;
            }

            fp = fp * 10 + (s[p] - '0');
            nfrac++;
            p++;
        }

        /* "1." is not a number */
        if (nfrac == 0) {
            return -1;
        }
    }

    if (p != len) {
        return -1;
    }

    if (nfrac == 1) {
        fp *= 10;
    }

    ip = ip * 100 + fp;

    return ip > 10000 ? -1 : ip;
}


int
fwg_cohort_in(uint32_t bucket, long percent_hundredths, int canary,
    int excluded)
{
    if (canary) {
        return 1;
    }

    /* bucket >= 10000 is the error value of fwg_cohort_bucket() */
    if (excluded || bucket >= 10000 || percent_hundredths <= 0) {
        return 0;
    }

    return (long) bucket < percent_hundredths;
}
