/*
 * Signed release metadata (fwg_release.c): the canonical form, signing
 * and verification with rotation, each signed field altered, models
 * reordered, a wrong key, and the decision's unsigned_artifact,
 * unsigned_floor and below_floor.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "unit.h"
#include "fwg_b64.h"
#include "fwg_release.h"


/* a fresh ed25519 pair: the private fwg key, the public key line */
static fwg_key_t *
gen_key(char *line, size_t size)
{
    int             fd;
    FILE           *f;
    char            path[] = "/tmp/fwg-release-XXXXXX";
    size_t          len;
    EVP_PKEY       *pkey;
    fwg_key_t      *k;
    const char     *err;
    unsigned char   raw[32];
    char            b64[64];

    pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    if (pkey == NULL) {
        return NULL;
    }

    fd = mkstemp(path);
    f = fd == -1 ? NULL : fdopen(fd, "w");

    if (f == NULL) {
        EVP_PKEY_free(pkey);
        return NULL;
    }

    PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL);
    fclose(f);

    len = sizeof(raw);
    EVP_PKEY_get_raw_public_key(pkey, raw, &len);
    len = fwg_b64_encode(b64, raw, len);
    b64[len] = '\0';
    snprintf(line, size, "ed25519 %s\n", b64);

    EVP_PKEY_free(pkey);

    k = fwg_key_from_file(FWG_ALG_ED25519, path, &err);
    unlink(path);

    return k;
}


static fwg_str_t
s(const char *c)
{
    fwg_str_t  v;

    v.data = c;
    v.len = strlen(c);

    return v;
}


static void
rec(fwg_artifact_rec_t *a)
{
    memset(a, 0, sizeof(*a));
    a->found = 1;
    a->version = s("3.0.0");
    a->models = s("LS-7000i  LS-7000i:B");
    a->sha256 = s("AB01");
    a->size = s("1024");
    a->path = s("/firmware/ls7000i-3.0.0.bin");
}


static void
test_canonical(void)
{
    size_t              len;
    char                buf[1024];
    fwg_artifact_rec_t  a;
    const char          want[] =
        "fwgate-artifact-v1\n"
        "name=ls7000i-3.0.0.bin\n"
        "version=3.0.0\n"
        "models=LS-7000i LS-7000i:B\n"
        "sha256=ab01\n"
        "size=1024\n"
        "path=/firmware/ls7000i-3.0.0.bin\n";

    rec(&a);
    a.models = s("  LS-7000i:B\tLS-7000i ");

    FWG_CHECK_EQ_INT(fwg_release_canonical(s("ls7000i-3.0.0.bin"), &a, buf,
                                           sizeof(buf), &len), 0);
    FWG_CHECK_MEM(buf, len, want, sizeof(want) - 1);

    /* fields that cannot be put on one line, or are not canonical */
    a.version = s("3.0.0\nmodels=LS-6000i");
    FWG_CHECK_EQ_INT(fwg_release_canonical(s("x"), &a, buf, sizeof(buf),
                                           &len), -1);
    rec(&a);
    a.size = s("01024");
    FWG_CHECK_EQ_INT(fwg_release_canonical(s("x"), &a, buf, sizeof(buf),
                                           &len), -1);
    rec(&a);
    a.sha256 = s("zz");
    FWG_CHECK_EQ_INT(fwg_release_canonical(s("x"), &a, buf, sizeof(buf),
                                           &len), -1);
    rec(&a);
    FWG_CHECK_EQ_INT(fwg_release_canonical(s("x"), &a, buf, 20, &len), -1);

    FWG_CHECK_EQ_INT(fwg_release_floor_canonical(s("LS-6000i"), s("2.5.0"),
                                                 buf, sizeof(buf), &len), 0);
    FWG_CHECK_MEM(buf, len, "fwgate-floor-v1\nmodel=LS-6000i\n"
                  "version=2.5.0\n", 45);
}


static void
test_sign_verify(void)
{
    int                  i;
    size_t               len;
    char                 l1[128], l2[128], both[256], sig[FWG_RELEASE_SIG_MAX];
    char                 flsig[FWG_RELEASE_SIG_MAX];
    char                 buf[1024], kid[FWG_RELEASE_KEYID_LEN + 1];
    fwg_key_t           *k1, *k2;
    fwg_str_t            name;
    const char          *detail, *err;
    fwg_artifact_rec_t   a, b;
    fwg_release_keys_t   ks1, ks2, ks12;

    k1 = gen_key(l1, sizeof(l1));
    k2 = gen_key(l2, sizeof(l2));
    FWG_CHECK(k1 != NULL && k2 != NULL);

    if (k1 == NULL || k2 == NULL) {
        return;
    }

    fwg_release_keys_init(&ks1);
    fwg_release_keys_init(&ks2);
    fwg_release_keys_init(&ks12);

    FWG_CHECK_EQ_INT(fwg_release_keys_parse(&ks1, l1, strlen(l1), &err), 0);
    FWG_CHECK_EQ_INT(fwg_release_keys_parse(&ks2, l2, strlen(l2), &err), 0);
    snprintf(both, sizeof(both), "# rotation\n%s\n%s", l1, l2);
    FWG_CHECK_EQ_INT(fwg_release_keys_parse(&ks12, both, strlen(both), &err),
                     0);
    FWG_CHECK_EQ_INT(ks12.n, 2);

    /* key set ids differ with the keys */
    FWG_CHECK(memcmp(ks1.id, ks2.id, 32) != 0);
    FWG_CHECK(memcmp(ks1.id, ks12.id, 32) != 0);

    /* bad key files */
    FWG_CHECK_EQ_INT(fwg_release_keys_parse(&ks1, "rsa AAAA\n", 9, &err),
                     -1);
    FWG_CHECK_EQ_INT(fwg_release_keys_parse(&ks1, "ed25519 AAAA\n", 13,
                                            &err), -1);
    FWG_CHECK_EQ_INT(fwg_release_keys_parse(&ks1, "# none\n", 7, &err), -1);
    FWG_CHECK_EQ_INT(ks1.n, 1);

    name = s("ls7000i-3.0.0.bin");
    rec(&a);

    FWG_CHECK_EQ_INT(fwg_release_canonical(name, &a, buf, sizeof(buf), &len),
                     0);
    FWG_CHECK_EQ_INT(fwg_release_sign(k2, buf, len, sig, sizeof(sig)), 0);
    FWG_CHECK_EQ_INT(strlen(sig), FWG_RELEASE_KEYID_LEN + 1 + 88);

    FWG_CHECK_EQ_INT(fwg_release_keyid(k2, kid), 0);
    FWG_CHECK_MEM(sig, FWG_RELEASE_KEYID_LEN, kid, FWG_RELEASE_KEYID_LEN);
    FWG_CHECK_MEM(fwg_release_sig_keyid(s(sig)).data, FWG_RELEASE_KEYID_LEN,
                  kid, FWG_RELEASE_KEYID_LEN);
    FWG_CHECK_MEM(kid, FWG_RELEASE_KEYID_LEN, ks2.k[0].keyid,
                  FWG_RELEASE_KEYID_LEN);

    a.sig = s(sig);

    /* good signature, under the key and under the rotated set */
    FWG_CHECK_EQ_INT(fwg_release_check_artifact(&ks2, name, &a, &detail),
                     FWG_RELEASE_VALID);
    FWG_CHECK_EQ_INT(fwg_release_check_artifact(&ks12, name, &a, &detail),
                     FWG_RELEASE_VALID);

    /* wrong key */
    FWG_CHECK_EQ_INT(fwg_release_check_artifact(&ks1, name, &a, &detail),
                     FWG_RELEASE_INVALID);
    FWG_CHECK_CSTR(detail, "unknown keyid");

    /* a key whose keyid is claimed but which did not sign */
    memcpy(sig, ks1.k[0].keyid, FWG_RELEASE_KEYID_LEN);
    FWG_CHECK_EQ_INT(fwg_release_check_artifact(&ks12, name, &a, &detail),
                     FWG_RELEASE_INVALID);
    FWG_CHECK_CSTR(detail, "signature does not verify");
    memcpy(sig, kid, FWG_RELEASE_KEYID_LEN);

    /* models reordered, extra spaces: still verifies */
    b = a;
    b.models = s("LS-7000i:B LS-7000i");
    FWG_CHECK_EQ_INT(fwg_release_check_artifact(&ks2, name, &b, &detail),
                     FWG_RELEASE_VALID);
    b.sha256 = s("ab01");
    FWG_CHECK_EQ_INT(fwg_release_check_artifact(&ks2, name, &b, &detail),
                     FWG_RELEASE_VALID);

    /* each field altered fails */
    for (i = 0; i < 7; i++) {
        b = a;

        switch (i) {
        case 0: b.version = s("3.0.1"); break;
        case 1: b.models = s("LS-7000i LS-7000i:B LS-6000i"); break;
        case 2: b.sha256 = s("ab02"); break;
        case 3: b.size = s("1025"); break;
        case 4: b.path = s("/firmware/ls6000i-3.0.0.bin"); break;
        case 5: b.sig = s(""); break;
        default: b.sig = s("0011:AAAA"); break;
        }

        FWG_CHECK_MSG(fwg_release_check_artifact(&ks2, name, &b, &detail)
                      == FWG_RELEASE_INVALID, "altered field %d verifies", i);
    }

    FWG_CHECK_EQ_INT(fwg_release_check_artifact(&ks2, s("other.bin"), &a,
                                                &detail),
                     FWG_RELEASE_INVALID);

    /* the floor */
    FWG_CHECK_EQ_INT(fwg_release_floor_canonical(s("LS-6000i"), s("2.5.0"),
                                                 buf, sizeof(buf), &len), 0);
    FWG_CHECK_EQ_INT(fwg_release_sign(k1, buf, len, flsig, sizeof(flsig)), 0);
    FWG_CHECK_EQ_INT(fwg_release_check_floor(&ks12, s("LS-6000i"),
                                             s("2.5.0"), s(flsig), &detail),
                     FWG_RELEASE_VALID);
    FWG_CHECK_EQ_INT(fwg_release_check_floor(&ks12, s("LS-6000i"),
                                             s("2.4.0"), s(flsig), &detail),
                     FWG_RELEASE_INVALID);
    FWG_CHECK_EQ_INT(fwg_release_check_floor(&ks12, s("LS-7000i"),
                                             s("2.5.0"), s(flsig), &detail),
                     FWG_RELEASE_INVALID);

    /* a public key cannot sign */
    FWG_CHECK_EQ_INT(fwg_release_sign(ks1.k[0].key, buf, len, flsig,
                                      sizeof(flsig)), -1);

    /* the decision: unsigned_artifact, below_floor, unsigned_floor */
    {
        fwg_device_rec_t    dev;
        fwg_rollout_rec_t   ro;
        fwg_decide_in_t     in;
        fwg_verdict_t       v;
        fwg_semver_t        dv;
        char                fsig[FWG_RELEASE_SIG_MAX];

        memset(&dev, 0, sizeof(dev));
        dev.found = 1;
        dev.model = s("LS-7000i");
        dev.status = s("active");

        memset(&ro, 0, sizeof(ro));
        ro.found = 1;
        ro.artifact = name;
        ro.percent = s("100");
        ro.state = s("active");
        ro.downgrade = s("1");

        (void) fwg_semver_parse(&dv, "3.5.0", 5);

        memset(&in, 0, sizeof(in));
        in.device = s("LS7-1");
        in.model = s("LS-7000i");
        in.version = &dv;
        in.artifact = name;
        in.device_rec = &dev;
        in.artifact_rec = &a;
        in.rollout_rec = &ro;

        FWG_CHECK_EQ_INT(fwg_decide_registry(&in, &v, NULL, NULL), FWG_R_OK);

        in.release_keys = &ks12;
        FWG_CHECK_EQ_INT(fwg_decide_registry(&in, &v, NULL, NULL), FWG_R_OK);

        /* the LockState write: another model added */
        b = a;
        b.models = s("LS-7000i LS-7000i:B LS-6000i");
        in.artifact_rec = &b;
        FWG_CHECK_EQ_INT(fwg_decide_registry(&in, &v, NULL, NULL),
                         FWG_R_UNSIGNED_ARTIFACT);
        FWG_CHECK_EQ_INT(fwg_reason_status(FWG_R_UNSIGNED_ARTIFACT), 403);
        FWG_CHECK_CSTR(fwg_reason_name(FWG_R_UNSIGNED_ARTIFACT),
                       "unsigned_artifact");

        /* a cached result is used as given */
        in.artifact_sig = FWG_RELEASE_VALID;
        FWG_CHECK_EQ_INT(fwg_decide_registry(&in, &v, NULL, NULL), FWG_R_OK);
        in.artifact_rec = &a;
        in.artifact_sig = FWG_RELEASE_INVALID;
        FWG_CHECK_EQ_INT(fwg_decide_registry(&in, &v, NULL, NULL),
                         FWG_R_UNSIGNED_ARTIFACT);
        in.artifact_sig = FWG_RELEASE_UNCHECKED;

        /* floor above the artifact: below_floor whatever downgrade says */
        FWG_CHECK_EQ_INT(fwg_release_floor_canonical(s("LS-7000i"),
                             s("3.1.0"), buf, sizeof(buf), &len), 0);
        FWG_CHECK_EQ_INT(fwg_release_sign(k2, buf, len, fsig, sizeof(fsig)),
                         0);
        ro.floor = s("3.1.0");
        ro.floor_sig = s(fsig);
        FWG_CHECK_EQ_INT(fwg_decide_registry(&in, &v, NULL, NULL),
                         FWG_R_BELOW_FLOOR);
        in.release_keys = NULL;
        FWG_CHECK_EQ_INT(fwg_decide_registry(&in, &v, NULL, NULL),
                         FWG_R_BELOW_FLOOR);

        /* unsigned floor: refused with keys, applied without */
        ro.floor = s("2.0.0");
        FWG_CHECK_EQ_INT(fwg_decide_registry(&in, &v, NULL, NULL), FWG_R_OK);
        in.release_keys = &ks12;
        FWG_CHECK_EQ_INT(fwg_decide_registry(&in, &v, NULL, NULL),
                         FWG_R_UNSIGNED_FLOOR);
        ro.floor = s("3.0.0");
        ro.floor_sig = s("");
        FWG_CHECK_EQ_INT(fwg_decide_registry(&in, &v, NULL, NULL),
                         FWG_R_UNSIGNED_FLOOR);
        ro.floor = s("");
        FWG_CHECK_EQ_INT(fwg_decide_registry(&in, &v, NULL, NULL), FWG_R_OK);
    }

    fwg_release_keys_free(&ks1);
    fwg_release_keys_free(&ks2);
    fwg_release_keys_free(&ks12);
    fwg_key_free(k1);
    fwg_key_free(k2);
}


void
suite_release(void)
{
    unit_suite("release");

    test_canonical();
    test_sign_verify();
}
