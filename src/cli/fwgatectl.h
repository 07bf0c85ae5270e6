/*
 * fwgatectl: the global options and the command groups.
 *
 * Every command group takes the arguments from its own name on (argv[0]
 * is "sig", "device", ...) and returns the process exit code: 0 success,
 * 1 failure, 2 bad arguments.  The global options are in fwg_cli, set by
 * main() before any command runs.
 */

#ifndef FWGATECTL_H
#define FWGATECTL_H

#include <stdarg.h>
#include <stdio.h>

#include "fwg_types.h"

typedef struct {
    const char  *redis;         /* HOST:PORT or a unix socket path */
    const char  *password;      /* NULL: no AUTH */
    int          db;            /* SELECT, 0 by default */
    const char  *prefix;        /* key prefix, "fwgate:" by default */
    int          json;          /* --json: machine-readable output */
} fwg_cli_t;

extern fwg_cli_t  fwg_cli;

/* prints "fwgatectl: <message>" on stderr as one line and exits 2 */
void fwg_cli_die(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2), noreturn))
#endif
    ;

/* "fwgatectl: <message>" on stderr; return 1 (failure) and 2 (usage) */
int fwgctl_err(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
/* fwgctl_err() with a va_list */
int fwgctl_verr(const char *fmt, va_list ap);
int fwgctl_usage(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

fwg_str_t fwg_cli_str(const char *s);

/*
 * creates PREFIX EXT (a key file: --out PREFIX) with mode, never over an
 * existing file; its name in path; NULL after an error message.  who
 * names the command when the name does not fit (a usage error: exit 2)
 */
FILE *fwgctl_create_new(const char *who, const char *prefix, const char *ext,
    int mode, char *path, size_t size);

/* s as a JSON string, quotes included (fwgctl_json.c); s may be NULL */
void fwgctl_json_str(FILE *f, const char *s, size_t len);
/* ,"key":"value" (the comma when comma is not 0) */
void fwgctl_json_kv(FILE *f, const char *key, fwg_str_t v, int comma);

int cmd_sig(int argc, char **argv);
/* cmd_sigresp.c: sig verify-response */
int sig_verify_response(int argc, char **argv);
int cmd_device(int argc, char **argv);
int cmd_artifact(int argc, char **argv);
int cmd_rollout(int argc, char **argv);
int cmd_canary(int argc, char **argv);
int cmd_exclude(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_release_key(int argc, char **argv);

/* cmd_release.c: release signatures (fwg_release.h) */
#include "fwg_release.h"
/* a private ed25519 release key from a PEM file; NULL (error printed) */
fwg_key_t *fwgctl_release_signer(const char *path, const char *what);
/* "<keyid>:<base64>" over the canonical form; 0 or 1 (error printed) */
int fwgctl_release_sign_artifact(const fwg_key_t *k, const char *name,
    const fwg_artifact_rec_t *rec, char *sig, size_t size);
int fwgctl_release_sign_floor(const fwg_key_t *k, const char *model,
    const char *version, char *sig, size_t size);

#endif /* FWGATECTL_H */
