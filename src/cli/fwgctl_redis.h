/*
 * fwgatectl: helpers shared by the registry commands and explain
 * (defined in fwgctl_redis.c): the synchronous Redis connection made from
 * the global options, binary-safe argument vectors, transactions, hash
 * replies, the registry's names.
 */

#ifndef FWGCTL_REDIS_H
#define FWGCTL_REDIS_H

#include <stdio.h>

#include <hiredis/hiredis.h>

#include "fwg_types.h"

/* global options, read from fwgatectl.h's fwg_cli_t */
const char *fwgctl_opt_redis(void);
const char *fwgctl_opt_password(void);
int fwgctl_opt_db(void);
const char *fwgctl_opt_prefix(void);
int fwgctl_opt_json(void);

/* connects, AUTHs, SELECTs; NULL after printing the error */
redisContext *fwgctl_connect(void);

#define FWGCTL_AV_MAX  1024

/* an argument vector for redisCommandArgv: never a format string */
typedef struct {
    int          n;
    const char  *v[FWGCTL_AV_MAX];
    size_t       l[FWGCTL_AV_MAX];
    char        *own[FWGCTL_AV_MAX];
} fwgctl_av_t;

void fwgctl_av_add(fwgctl_av_t *av, const char *s);
void fwgctl_av_addn(fwgctl_av_t *av, const char *s, size_t len);
/* the option prefix followed by the NULL-terminated parts */
void fwgctl_av_key(fwgctl_av_t *av, ...);
void fwgctl_av_reset(fwgctl_av_t *av);
/* n argument vectors at once: made empty / reset */
void fwgctl_av_init_all(fwgctl_av_t *avs, int n);
void fwgctl_av_reset_all(fwgctl_av_t *avs, int n);

/* runs and resets av; NULL (error printed) on failure or error reply */
redisReply *fwgctl_run(redisContext *c, fwgctl_av_t *av);
/* pipelines av (resets it); 0 or 1 */
int fwgctl_append(redisContext *c, fwgctl_av_t *av);

/*
 * MULTI, the ncmds commands (each reset), INCR <prefix>epoch so edges
 * drop cached records, PUBLISH <prefix>invalidate naming the first
 * command's key (without the prefix) so subscribed edges drop them at
 * once, EXEC; 0 or 1 (error printed, also when a WATCHed key changed and
 * nothing was written)
 */
/* PUBLISH <prefix>invalidate name (len 0: "*") into av */
void fwgctl_av_publish(fwgctl_av_t *av, const char *name, size_t len);
int fwgctl_exec_tx(redisContext *c, fwgctl_av_t *cmds, int ncmds);
/* WATCH prefix+a+b before reading what the transaction will replace */
int fwgctl_watch(redisContext *c, const char *a, const char *b);

/* HGETALL prefix+a+b: an empty array when the key is absent */
redisReply *fwgctl_hgetall(redisContext *c, const char *a, const char *b);
redisReply *fwgctl_hgetall3(redisContext *c, const char *a, const char *b,
    const char *d);
int fwgctl_hfound(const redisReply *r);
/* HGETALL of a record that must exist: NULL after printing the error, or
   fmt (not found); "fwgatectl: " comes first, as in fwgctl_err() */
redisReply *fwgctl_hrecord(redisContext *c, const char *a, const char *b,
    const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
fwg_str_t fwgctl_hfield(const redisReply *r, const char *field);

/* device ids: 1..128 of [A-Za-z0-9._:@-] */
int fwgctl_id_valid(const char *s, size_t len);
/* artifact names: 1..128 of [A-Za-z0-9._-], not "." or ".." */
int fwgctl_artifact_name_valid(const char *s);

#endif /* FWGCTL_REDIS_H */
