/*
 * fwgatectl: global options and the dispatcher.
 *
 * The command groups live in their own files.  Those of the registry are
 * referenced weakly, so a tree where they are not built yet still links
 * and says so instead of failing to build.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fwgatectl.h"


fwg_cli_t  fwg_cli;


#if defined(__GNUC__)
#define FWG_WEAK  __attribute__((weak))
#else
#define FWG_WEAK
#endif

int cmd_device(int argc, char **argv) FWG_WEAK;
int cmd_artifact(int argc, char **argv) FWG_WEAK;
int cmd_rollout(int argc, char **argv) FWG_WEAK;
int cmd_canary(int argc, char **argv) FWG_WEAK;
int cmd_exclude(int argc, char **argv) FWG_WEAK;
int cmd_explain(int argc, char **argv) FWG_WEAK;


typedef struct {
    const char   *name;
    int         (*handler)(int argc, char **argv);
    const char   *summary;
} fwg_cli_cmd_t;


static const fwg_cli_cmd_t  fwg_cli_cmds[] = {
    { "device",   cmd_device,   "add|show|revoke|import  device records" },
    { "artifact", cmd_artifact, "add|show                firmware artifacts" },
    { "rollout",  cmd_rollout,
      "start|set|pause|resume|halt|status  rollouts" },
    { "canary",   cmd_canary,   "add|rm                  canary devices" },
    { "exclude",  cmd_exclude,  "add|rm                  excluded devices" },
    { "explain",  cmd_explain,  "every decision step for a device" },
    { "sig",      cmd_sig,
      "keygen|sign|base|verify  RFC 9421 signatures" },
    { NULL, NULL, NULL }
};


static const char  fwg_cli_usage[] =
    "usage: fwgatectl [options] COMMAND [args]\n"
    "\n"
    "options:\n"
    "  --redis HOST:PORT   Redis server or unix socket path\n"
    "                      (default $FWGATE_REDIS or 127.0.0.1:6379)\n"
    "  --password P        Redis password (default $FWGATE_REDIS_PASSWORD)\n"
    "  --db N              Redis database (default 0)\n"
    "  --prefix P          registry key prefix (default \"fwgate:\")\n"
    "  --json              machine-readable output\n"
    "  --help              this text; COMMAND --help for a command's\n"
    "\n"
    "commands:\n";


void
fwg_cli_die(const char *fmt, ...)
{
    va_list  ap;

    fflush(stdout);
    fputs("fwgatectl: ", stderr);

    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);

    fputc('\n', stderr);

    exit(2);
}


static void
fwg_cli_print_usage(FILE *f)
{
    const fwg_cli_cmd_t  *c;

    fputs(fwg_cli_usage, f);

    for (c = fwg_cli_cmds; c->name; c++) {
        fprintf(f, "  %-9s %s%s\n", c->name, c->summary,
                c->handler ? "" : " (not built)");
    }
}


/*
 * "--name VALUE" or "--name=VALUE" ("-H VALUE" for a short name): returns
 * the value and advances *i, NULL when argv[*i] is not this option.  Every
 * command parses its options with it.
 */
const char *
fwg_cli_opt(int argc, char **argv, int *i, const char *name)
{
    size_t  n;

    n = strlen(name);

    if (strncmp(argv[*i], name, n) != 0) {
        return NULL;
    }

    if (argv[*i][n] == '=' && name[1] == '-') {
        return argv[*i] + n + 1;
    }

    if (argv[*i][n] != '\0') {
        return NULL;
    }

    if (*i + 1 >= argc) {
        fwg_cli_die("%s needs a value", name);
    }

    (*i)++;

    return argv[*i];
}


int
main(int argc, char **argv)
{
    int                   i;
    long                  db;
    char                 *end;
    const char           *v;
    const fwg_cli_cmd_t  *c;

    fwg_cli.redis = getenv("FWGATE_REDIS");
    if (fwg_cli.redis == NULL || fwg_cli.redis[0] == '\0') {
        fwg_cli.redis = "127.0.0.1:6379";
    }

    fwg_cli.password = getenv("FWGATE_REDIS_PASSWORD");
    fwg_cli.prefix = "fwgate:";
    fwg_cli.db = 0;
    fwg_cli.json = 0;

    for (i = 1; i < argc && argv[i][0] == '-'; i++) {

        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fwg_cli_print_usage(stdout);
            return 0;
        }

        if (strcmp(argv[i], "--json") == 0) {
            fwg_cli.json = 1;
            continue;
        }

        if ((v = fwg_cli_opt(argc, argv, &i, "--redis")) != NULL) {
            if (v[0] == '\0') {
                fwg_cli_die("--redis needs HOST:PORT or a socket path");
            }

            fwg_cli.redis = v;
            continue;
        }

        if ((v = fwg_cli_opt(argc, argv, &i, "--password")) != NULL) {
            fwg_cli.password = v;
            continue;
        }

        if ((v = fwg_cli_opt(argc, argv, &i, "--db")) != NULL) {
            db = strtol(v, &end, 10);
            if (v[0] == '\0' || *end != '\0' || db < 0 || db > 65535) {
                fwg_cli_die("bad --db: %s", v);
            }

            fwg_cli.db = (int) db;
            continue;
        }

        if ((v = fwg_cli_opt(argc, argv, &i, "--prefix")) != NULL) {
            fwg_cli.prefix = v;
            continue;
        }

        fwg_cli_die("unknown option %s (see --help)", argv[i]);
    }

    if (i >= argc) {
        fwg_cli_print_usage(stderr);
        return 2;
    }

    if (strcmp(argv[i], "help") == 0) {
        fwg_cli_print_usage(stdout);
        return 0;
    }

    for (c = fwg_cli_cmds; c->name; c++) {
        if (strcmp(c->name, argv[i]) != 0) {
            continue;
        }

        if (c->handler == NULL) {
            fwg_cli_die("%s: not built into this fwgatectl", c->name);
        }

        return c->handler(argc - i, argv + i);
    }

    fwg_cli_die("unknown command %s (see --help)", argv[i]);
}


/* one line on stderr, "fwgatectl: ...", stdout flushed first */

static void
fwg_cli_vmsg(const char *fmt, va_list ap)
{
    fflush(stdout);
    fputs("fwgatectl: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}


int
fwgctl_err(const char *fmt, ...)
{
    va_list  ap;

    va_start(ap, fmt);
    fwg_cli_vmsg(fmt, ap);
    va_end(ap);

    return 1;
}


int
fwgctl_usage(const char *fmt, ...)
{
    va_list  ap;

    va_start(ap, fmt);
    fwg_cli_vmsg(fmt, ap);
    va_end(ap);

    return 2;
}


fwg_str_t
fwg_cli_str(const char *s)
{
    fwg_str_t  v;

    v.data = s;
    v.len = s ? strlen(s) : 0;

    return v;
}
