/*
 * fwgate bench: the cost of one signature verification, in isolation.
 *
 *   verify_speed [REPS [MS]]        (`make bench-verify`)
 *
 * Times fwg_sig_verify() (libfwgcore.a, as the module calls it) over a
 * realistic 250-byte RFC 9421 signature base for ecdsa-p256-sha256,
 * ed25519 and hmac-sha256, next to the loop `openssl speed ecdsap256`
 * runs (EVP_PKEY_verify on a kept context, a 32-byte digest, a DER
 * signature) and the parts an ECDSA verify is made of: the SHA-256 of
 * the base by several routes, the raw r||s to DER conversion the EVP
 * interface needs, and the low-level ECDSA_do_verify on a kept EC_KEY.
 *
 * Each case runs for about MS milliseconds (default 20) per repetition,
 * REPS repetitions (default 25), the cases interleaved so that a noisy
 * moment of the shared machine spreads over all of them; printed are the
 * median and the lowest µs per operation of the repetitions, by the
 * thread's CPU clock (steal and preemption excluded as far as the kernel
 * can) and by the wall clock, and the median of the per-repetition ratios
 * of CPU time to the openssl speed loop's.  On this shared 2-vCPU machine
 * the clock speed a case gets moves by 20 % from one second to the next
 * (another tenant on the sibling hyperthread), more than the differences
 * measured; the ratio, of cases run a few milliseconds apart, cancels
 * most of that.  Run it pinned: `taskset -c 1`.
 *
 * Keys: t/data/rfc9421 (RFC 9421 B.1.3, B.1.4, B.1.5), so run it from the
 * repository root or set FWG_TEST_DATA.
 */

#define OPENSSL_SUPPRESS_DEPRECATED 1   /* ECDSA_do_verify, SHA256_Init */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include "fwg_sig.h"
#include "fwg_sha256.h"


/* 250 bytes, the shape of a gated download's base */
static const char  base[] =
    "\"@method\": GET\n"
    "\"@path\": /fw/BENCH-A/2.4.1/firmware.bin\n"
    "\"@authority\": fw.example.com\n"
    "\"x-device-model\": BENCH-A\n"
    "\"@signature-params\": (\"@method\" \"@path\" \"@authority\" "
    "\"x-device-model\");created=1764770000;keyid=\"BC-000001\";"
    "nonce=\"1f3b9c0e5a7d2468b0c4e6f8\"";


typedef struct {
    const char  *name;
    void       (*run)(unsigned long n);
    unsigned long  iters;               /* per repetition, calibrated */
    double      *cpu;                   /* µs per op, per repetition */
    double      *wall;
    double      *ratio;                 /* cpu / the speed loop's, same rep */
} bcase_t;


static fwg_key_t       *ec_key, *ec_evp_key, *ed_key, *hm_key;
static char             ec_rec[512];
static size_t           ec_reclen;
static unsigned char    ec_sig[FWG_SIG_MAX_SIG], ed_sig[FWG_SIG_MAX_SIG];
static unsigned char    hm_sig[FWG_SIG_MAX_SIG];
static size_t           ec_siglen, ed_siglen, hm_siglen;

static EVP_PKEY        *ec_pkey;
static EVP_PKEY_CTX    *ec_vctx;
static unsigned char    ec_der[80], ec_dgst[32];
static size_t           ec_derlen;
static EC_KEY          *ec_low;
static ECDSA_SIG       *ec_es;
static EVP_MD          *sha256_md;
static EVP_MD_CTX      *sha256_ctx;

static volatile int     sink;

#define SPEED  0                        /* the speed loop's index */


static void
die(const char *what)
{
    fprintf(stderr, "verify_speed: %s\n", what);
    exit(1);
}


static double
now(clockid_t id)
{
    struct timespec  ts;

    clock_gettime(id, &ts);

    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}


static void
run_fwg_ecdsa(unsigned long n)
{
    while (n--) {
        if (fwg_sig_verify(ec_key, base, sizeof(base) - 1, ec_sig, ec_siglen)
            != 1)
        {
            die("ecdsa verify failed");
        }
    }
}


/* the fallback: fwg_key_evp_only() */
static void
run_fwg_ecdsa_evp(unsigned long n)
{
    while (n--) {
        if (fwg_sig_verify(ec_evp_key, base, sizeof(base) - 1, ec_sig,
                           ec_siglen)
            != 1)
        {
            die("ecdsa verify (EVP path) failed");
        }
    }
}


/* a key cache miss: the key made from its record, one verify, freed */
static void
run_fwg_ecdsa_cold(unsigned long n)
{
    const char  *err;
    fwg_key_t   *k;

    while (n--) {
        k = fwg_key_from_record(FWG_ALG_ECDSA_P256_SHA256, ec_rec, ec_reclen,
                                &err);
        if (k == NULL
            || fwg_sig_verify(k, base, sizeof(base) - 1, ec_sig, ec_siglen)
               != 1)
        {
            die("ecdsa cold verify failed");
        }

        fwg_key_free(k);
    }
}


static void
run_fwg_ed25519(unsigned long n)
{
    while (n--) {
        if (fwg_sig_verify(ed_key, base, sizeof(base) - 1, ed_sig, ed_siglen)
            != 1)
        {
            die("ed25519 verify failed");
        }
    }
}


static void
run_fwg_hmac(unsigned long n)
{
    while (n--) {
        if (fwg_sig_verify(hm_key, base, sizeof(base) - 1, hm_sig, hm_siglen)
            != 1)
        {
            die("hmac verify failed");
        }
    }
}


/* openssl speed's loop: a kept context, the digest given, DER */
static void
run_speed(unsigned long n)
{
    while (n--) {
        if (EVP_PKEY_verify(ec_vctx, ec_der, ec_derlen, ec_dgst, 32) != 1) {
            die("EVP_PKEY_verify failed");
        }
    }
}


/* the low-level verify on a kept EC_KEY and ECDSA_SIG, the digest given */
static void
run_low(unsigned long n)
{
    while (n--) {
        if (ECDSA_do_verify(ec_dgst, 32, ec_es, ec_low) != 1) {
            die("ECDSA_do_verify failed");
        }
    }
}


static void
run_sha_evp_implicit(unsigned long n)
{
    unsigned char  md[32];

    while (n--) {
        EVP_Digest(base, sizeof(base) - 1, md, NULL, EVP_sha256(), NULL);
        sink += md[0];
    }
}


static void
run_sha_evp_fetched(unsigned long n)
{
    unsigned char  md[32];

    while (n--) {
        EVP_Digest(base, sizeof(base) - 1, md, NULL, sha256_md, NULL);
        sink += md[0];
    }
}


static void
run_sha_evp_kept_ctx(unsigned long n)
{
    unsigned char  md[32];

    while (n--) {
        EVP_DigestInit_ex(sha256_ctx, sha256_md, NULL);
        EVP_DigestUpdate(sha256_ctx, base, sizeof(base) - 1);
        EVP_DigestFinal_ex(sha256_ctx, md, NULL);
        sink += md[0];
    }
}


static void
run_sha_oneshot(unsigned long n)
{
    unsigned char  md[32];

    while (n--) {
        SHA256((const unsigned char *) base, sizeof(base) - 1, md);
        sink += md[0];
    }
}


static void
run_sha_lowlevel(unsigned long n)
{
    unsigned char  md[32];
    SHA256_CTX     c;

    while (n--) {
        SHA256_Init(&c);
        SHA256_Update(&c, base, sizeof(base) - 1);
        SHA256_Final(md, &c);
        sink += md[0];
    }
}


/* what fwg_key.c did per verify before the low-level path: r||s to DER */
static void
run_to_der(unsigned long n)
{
    int             len;
    BIGNUM         *r, *s;
    ECDSA_SIG      *es;
    unsigned char  *der;

    while (n--) {
        es = ECDSA_SIG_new();
        r = BN_bin2bn(ec_sig, 32, NULL);
        s = BN_bin2bn(ec_sig + 32, 32, NULL);
        ECDSA_SIG_set0(es, r, s);
        der = NULL;
        len = i2d_ECDSA_SIG(es, &der);
        ECDSA_SIG_free(es);
        OPENSSL_free(der);
        sink += len;
    }
}


static int
cmp_double(const void *a, const void *b)
{
    double  x = *(const double *) a, y = *(const double *) b;

    return (x > y) - (x < y);
}


/* of a sorted array */
static double
median(const double *v, int n)
{
    return (n % 2) ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}


static fwg_key_t *
load(fwg_alg_t alg, const char *name, const char *dir)
{
    char         path[4096];
    const char  *err;
    fwg_key_t   *k;

    snprintf(path, sizeof(path), "%s/%s", dir, name);

    k = fwg_key_from_file(alg, path, &err);
    if (k == NULL) {
        fprintf(stderr, "verify_speed: %s: %s\n", path, err);
        exit(1);
    }

    return k;
}


/* the registry form of a signing key, as the module loads keys */
static fwg_key_t *
public_of(fwg_key_t *priv)
{
    long         n;
    char         rec[512];
    const char  *err;
    fwg_key_t   *k;

    n = fwg_key_record(priv, rec, sizeof(rec));
    if (n < 0) {
        die("fwg_key_record");
    }

    k = fwg_key_from_record(fwg_key_alg(priv), rec, (size_t) n, &err);
    if (k == NULL) {
        die(err);
    }

    return k;
}


static void
setup(const char *dir)
{
    long            n;
    char            path[4096];
    FILE           *f;
    BIGNUM         *r, *s;
    ECDSA_SIG      *es;
    fwg_key_t      *priv;
    unsigned char  *p;

    priv = load(FWG_ALG_ECDSA_P256_SHA256, "test-key-ecc-p256.pem", dir);
    if (fwg_sig_sign(priv, base, sizeof(base) - 1, ec_sig, &ec_siglen) != 0) {
        die("ecdsa sign");
    }
    ec_key = public_of(priv);
    ec_evp_key = public_of(priv);
    if (fwg_key_evp_only(ec_evp_key) != 0) {
        die("fwg_key_evp_only");
    }
    n = fwg_key_record(priv, ec_rec, sizeof(ec_rec));
    if (n < 0) {
        die("fwg_key_record");
    }
    ec_reclen = (size_t) n;
    fwg_key_free(priv);

    priv = load(FWG_ALG_ED25519, "test-key-ed25519.pem", dir);
    if (fwg_sig_sign(priv, base, sizeof(base) - 1, ed_sig, &ed_siglen) != 0) {
        die("ed25519 sign");
    }
    ed_key = public_of(priv);
    fwg_key_free(priv);

    hm_key = load(FWG_ALG_HMAC_SHA256, "test-shared-secret.b64", dir);
    if (fwg_sig_sign(hm_key, base, sizeof(base) - 1, hm_sig, &hm_siglen)
        != 0)
    {
        die("hmac sign");
    }

    /* openssl speed's setup: the key, a kept verify context, a DER sig */

    snprintf(path, sizeof(path), "%s/test-key-ecc-p256.pem", dir);
    f = fopen(path, "r");
    if (f == NULL || (ec_pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL))
                     == NULL)
    {
        die("PEM_read_PrivateKey");
    }
    fclose(f);

    SHA256((const unsigned char *) base, sizeof(base) - 1, ec_dgst);

    es = ECDSA_SIG_new();
    r = BN_bin2bn(ec_sig, 32, NULL);
    s = BN_bin2bn(ec_sig + 32, 32, NULL);
    if (es == NULL || r == NULL || s == NULL || !ECDSA_SIG_set0(es, r, s)) {
        die("ECDSA_SIG");
    }
    p = ec_der;
    ec_derlen = (size_t) i2d_ECDSA_SIG(es, &p);
    ec_es = es;

    ec_vctx = EVP_PKEY_CTX_new_from_pkey(NULL, ec_pkey, NULL);
    if (ec_vctx == NULL || EVP_PKEY_verify_init(ec_vctx) != 1) {
        die("EVP_PKEY_verify_init");
    }

    ec_low = EVP_PKEY_get1_EC_KEY(ec_pkey);
    if (ec_low == NULL) {
        die("EVP_PKEY_get1_EC_KEY");
    }

    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    sha256_ctx = EVP_MD_CTX_new();
    if (sha256_md == NULL || sha256_ctx == NULL) {
        die("EVP_MD_fetch");
    }
}


int
main(int argc, char **argv)
{
    int           reps, ms, r;
    size_t        c;
    double        t0, t1, w0, w1;
    const char   *dir;
    unsigned long n;

    /* the speed loop is cases[SPEED], the reference of the ratios */
    static bcase_t  cases[] = {
        { .name = "openssl speed loop (EVP_PKEY_verify, dgst, DER)",
          .run = run_speed },
        { .name = "fwg_sig_verify ecdsa-p256-sha256", .run = run_fwg_ecdsa },
        { .name = "ECDSA_do_verify (kept EC_KEY, ECDSA_SIG, dgst)",
          .run = run_low },
        { .name = "fwg_sig_verify ecdsa, the EVP path (evp_only)",
          .run = run_fwg_ecdsa_evp },
        { .name = "ecdsa key from record, verify, free",
          .run = run_fwg_ecdsa_cold },
        { .name = "fwg_sig_verify ed25519", .run = run_fwg_ed25519 },
        { .name = "fwg_sig_verify hmac-sha256", .run = run_fwg_hmac },
        { .name = "sha256: EVP_Digest(EVP_sha256())",
          .run = run_sha_evp_implicit },
        { .name = "sha256: EVP_Digest(fetched md)",
          .run = run_sha_evp_fetched },
        { .name = "sha256: kept EVP_MD_CTX, fetched md",
          .run = run_sha_evp_kept_ctx },
        { .name = "sha256: SHA256() one-shot", .run = run_sha_oneshot },
        { .name = "sha256: SHA256_Init/Update/Final",
          .run = run_sha_lowlevel },
        { .name = "r||s to DER (BN_bin2bn, i2d_ECDSA_SIG)",
          .run = run_to_der },
    };

    reps = argc > 1 ? atoi(argv[1]) : 25;
    ms = argc > 2 ? atoi(argv[2]) : 20;
    if (reps < 1 || reps > 1000 || ms < 1 || ms > 10000) {
        die("usage: verify_speed [REPS [MS]]");
    }

    dir = getenv("FWG_TEST_DATA");
    if (dir == NULL) {
        dir = "t/data/rfc9421";
    }

    setup(dir);

    /* calibrate: iterations for about ms per repetition, warm-up too */

    for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        cases[c].cpu = calloc((size_t) reps, sizeof(double));
        cases[c].wall = calloc((size_t) reps, sizeof(double));
        cases[c].ratio = calloc((size_t) reps, sizeof(double));
        if (cases[c].cpu == NULL || cases[c].wall == NULL
            || cases[c].ratio == NULL)
        {
            die("out of memory");
        }

        for (n = 8; ; n *= 2) {
            t0 = now(CLOCK_THREAD_CPUTIME_ID);
            cases[c].run(n);
            t1 = now(CLOCK_THREAD_CPUTIME_ID);
            if (t1 - t0 >= ms * 1000.0 / 8) {
                break;
            }
        }

        cases[c].iters = (unsigned long) (n * (ms * 1000.0) / (t1 - t0)) + 1;
    }

    for (r = 0; r < reps; r++) {
        for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
            w0 = now(CLOCK_MONOTONIC);
            t0 = now(CLOCK_THREAD_CPUTIME_ID);
            cases[c].run(cases[c].iters);
            t1 = now(CLOCK_THREAD_CPUTIME_ID);
            w1 = now(CLOCK_MONOTONIC);
            cases[c].cpu[r] = (t1 - t0) / cases[c].iters;
            cases[c].wall[r] = (w1 - w0) / cases[c].iters;
        }

        for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
            cases[c].ratio[r] = cases[c].cpu[r] / cases[SPEED].cpu[r];
        }
    }

    printf("verify_speed: %d repetitions of ~%d ms a case, base %zu bytes, "
           "%s\n", reps, ms, sizeof(base) - 1,
           OpenSSL_version(OPENSSL_VERSION));
    printf("%-50s %9s %9s %9s %9s %7s\n", "us per operation", "cpu med",
           "cpu min", "wall med", "wall min", "/speed");

    for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        qsort(cases[c].cpu, (size_t) reps, sizeof(double), cmp_double);
        qsort(cases[c].wall, (size_t) reps, sizeof(double), cmp_double);
        qsort(cases[c].ratio, (size_t) reps, sizeof(double), cmp_double);
        printf("%-50s %9.3f %9.3f %9.3f %9.3f %7.4f\n", cases[c].name,
               median(cases[c].cpu, reps), cases[c].cpu[0],
               median(cases[c].wall, reps), cases[c].wall[0],
               median(cases[c].ratio, reps));
    }

    fwg_key_free(ec_key);
    fwg_key_free(ec_evp_key);
    fwg_key_free(ed_key);
    fwg_key_free(hm_key);
    EVP_PKEY_CTX_free(ec_vctx);
    EVP_PKEY_free(ec_pkey);
    EC_KEY_free(ec_low);
    ECDSA_SIG_free(ec_es);
    EVP_MD_free(sha256_md);
    EVP_MD_CTX_free(sha256_ctx);

    return 0;
}
