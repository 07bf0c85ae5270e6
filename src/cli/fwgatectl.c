/*
 * fwgatectl: global options and the dispatcher.
 *
 * The command groups live in their own files (cmd_*.c).  Every command,
 * and the global options here, read their arguments with the one parser
 * of fwgctl_opts.c.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fwgatectl.h"
#include "fwgctl_opts.h"


fwg_cli_t  fwg_cli;


typedef struct {
    const char   *name;
    int         (*handler)(int argc, char **argv);
    const char   *summary;
} fwg_cli_cmd_t;


static const fwg_cli_cmd_t  fwg_cli_cmds[] = {
    { "device",   cmd_device,   "add|show|revoke|import  device records" },
    { "artifact", cmd_artifact, "add|sign|show           firmware artifacts" },
    { "rollout",  cmd_rollout,
      "start|set|floor|pause|resume|halt|status|watch  rollouts" },
    { "canary",   cmd_canary,   "add|rm                  canary devices" },
    { "exclude",  cmd_exclude,  "add|rm                  excluded devices" },
    { "explain",  cmd_explain,  "every decision step for a device" },
    { "sig",      cmd_sig,
      "keygen|sign|base|verify  RFC 9421 signatures" },
    { "release-key", cmd_release_key,
      "gen                 offline release signing keys" },
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
        fprintf(f, "  %-9s %s\n", c->name, c->summary);
    }
}


int
main(int argc, char **argv)
{
    int                   i, rc;
    long                  db;
    char                 *end;
    const char           *v;
    fwgctl_opts_t         o;
    const fwg_cli_cmd_t  *c;
    fwgctl_opt_t          opts[] = {
        { "--json", 0, NULL }, { "--redis", 1, NULL },
        { "--password", 1, NULL }, { "--db", 1, NULL },
        { "--prefix", 1, NULL }, { NULL, 0, NULL }
    };

    fwg_cli.redis = getenv("FWGATE_REDIS");
    if (fwg_cli.redis == NULL || fwg_cli.redis[0] == '\0') {
        fwg_cli.redis = "127.0.0.1:6379";
    }

    fwg_cli.password = getenv("FWGATE_REDIS_PASSWORD");
    fwg_cli.prefix = "fwgate:";
    fwg_cli.db = 0;
    fwg_cli.json = 0;

    fwgctl_opts_init(&o, argc - 1, argv + 1, 0);

    /* the global options, up to the command */

    for ( ;; ) {
        rc = fwgctl_opt_next(&o, opts);

        if (rc == FWGCTL_OPT_END
            || (rc == FWGCTL_OPT_ARG && strcmp(o.arg, "-") != 0))
        {
            break;
        }

        if (rc == FWGCTL_OPT_HELP) {
            fwg_cli_print_usage(stdout);
            return 0;
        }

        if (rc == FWGCTL_OPT_NO_VALUE) {
            fwg_cli_die("%s needs a value", o.opt->name);
        }

        if (rc != FWGCTL_OPT_MATCH) {
            /* also "-": no command starts with a dash */
            fwg_cli_die("unknown option %s (see --help)", o.arg);
        }

        v = o.value;

        if (strcmp(o.opt->name, "--json") == 0) {
            fwg_cli.json = 1;

        } else if (strcmp(o.opt->name, "--redis") == 0) {
            if (v[0] == '\0') {
                fwg_cli_die("--redis needs HOST:PORT or a socket path");
            }

            fwg_cli.redis = v;

        } else if (strcmp(o.opt->name, "--password") == 0) {
            fwg_cli.password = v;

        } else if (strcmp(o.opt->name, "--db") == 0) {
            db = strtol(v, &end, 10);
            if (v[0] == '\0' || *end != '\0' || db < 0 || db > 65535) {
                fwg_cli_die("bad --db: %s", v);
            }

            fwg_cli.db = (int) db;

        } else {
            fwg_cli.prefix = v;
        }
    }

    /* argv[i]: the command, if any */
    i = rc == FWGCTL_OPT_ARG ? o.i : argc;

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
fwgctl_verr(const char *fmt, va_list ap)
{
    fwg_cli_vmsg(fmt, ap);

    return 1;
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


FILE *
fwgctl_create_new(const char *who, const char *prefix, const char *ext,
    int mode, char *path, size_t size)
{
    int    fd;
    FILE  *f;

    if ((size_t) snprintf(path, size, "%s%s", prefix, ext) >= size) {
        fwg_cli_die("%s: --out too long", who);
    }

    /* never overwrite a key: O_EXCL */
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
    if (fd == -1) {
        fwgctl_err("cannot create %s: %s", path, strerror(errno));
        return NULL;
    }

    f = fdopen(fd, "w");
    if (f == NULL) {
        close(fd);
        fwgctl_err("cannot write %s", path);
    }

    return f;
}
