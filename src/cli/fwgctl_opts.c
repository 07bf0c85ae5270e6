/*
 * fwgatectl: the one option parser (see fwgctl_opts.h).  An option takes
 * its value from "--name=VALUE" or from the next argument, whatever it
 * looks like; a value is never mistaken for an option.
 */

#include <string.h>

#include "fwgatectl.h"
#include "fwgctl_opts.h"
#include "fwgctl_redis.h"


void
fwgctl_opts_init(fwgctl_opts_t *o, int argc, char **argv, int flags)
{
    o->argc = argc;
    o->argv = argv;
    o->i = 0;
    o->flags = flags;
    o->dashdash = 0;
    o->arg = NULL;
    o->value = NULL;
    o->opt = NULL;
}


int
fwgctl_opt_next(fwgctl_opts_t *o, fwgctl_opt_t *opts)
{
    const char  *arg, *eq;
    size_t       nlen;
    int          j;

    o->value = NULL;
    o->opt = NULL;

    if (o->i >= o->argc) {
        o->arg = NULL;
        return FWGCTL_OPT_END;
    }

    arg = o->argv[o->i++];
    o->arg = arg;

    /* "-" is a file name: standard input */
    if (o->dashdash || arg[0] != '-' || arg[1] == '\0') {
        return FWGCTL_OPT_ARG;
    }

    if ((o->flags & FWGCTL_OPTS_DASHDASH) && strcmp(arg, "--") == 0) {
        o->dashdash = 1;
        return fwgctl_opt_next(o, opts);
    }

    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
        return FWGCTL_OPT_HELP;
    }

    /* "--name=VALUE"; a short option is the whole argument */
    eq = arg[1] == '-' && !(o->flags & FWGCTL_OPTS_NO_INLINE)
         ? strchr(arg, '=') : NULL;
    nlen = eq ? (size_t) (eq - arg) : strlen(arg);

    for (j = 0; opts && opts[j].name; j++) {
        if (strlen(opts[j].name) == nlen
            && strncmp(opts[j].name, arg, nlen) == 0)
        {
            break;
        }
    }

    if (opts == NULL || opts[j].name == NULL) {
        return FWGCTL_OPT_UNKNOWN;
    }

    o->opt = &opts[j];

    if (!opts[j].has_arg) {
        if (eq) {
            return FWGCTL_OPT_FLAG_VALUE;
        }

        o->value = "1";

    } else if (eq) {
        o->value = eq + 1;

    } else if (o->i < o->argc) {
        o->value = o->argv[o->i++];

    } else {
        return FWGCTL_OPT_NO_VALUE;
    }

    opts[j].value = o->value;

    return FWGCTL_OPT_MATCH;
}


const char *
fwgctl_opt_value(const fwgctl_opt_t *opts, const char *name)
{
    int  j;

    for (j = 0; opts[j].name; j++) {
        if (strcmp(opts[j].name, name) == 0) {
            return opts[j].value;
        }
    }

    return NULL;
}


int
fwgctl_args_parse(int argc, char **argv, fwgctl_opt_t *opts,
    fwgctl_args_t *a)
{
    fwgctl_opts_t  o;

    a->npos = 0;
    a->help = 0;
    a->json = fwgctl_opt_json();

    fwgctl_opts_init(&o, argc, argv, FWGCTL_OPTS_DASHDASH);

    for ( ;; ) {
        switch (fwgctl_opt_next(&o, opts)) {

        case FWGCTL_OPT_END:
            return 0;

        case FWGCTL_OPT_ARG:
            if (a->npos == FWGCTL_ARGS_MAX) {
                return fwgctl_err("too many arguments");
            }

            a->pos[a->npos++] = (char *) o.arg;
            break;

        case FWGCTL_OPT_HELP:
            a->help = 1;
            break;

        case FWGCTL_OPT_MATCH:
            break;

        case FWGCTL_OPT_NO_VALUE:
            return fwgctl_err("option %s needs a value", o.opt->name);

        case FWGCTL_OPT_FLAG_VALUE:
            return fwgctl_err("option %s takes no value", o.opt->name);

        default: /* FWGCTL_OPT_UNKNOWN */
            /* every registry command takes --json */
            if (strcmp(o.arg, "--json") == 0) {
                a->json = 1;
                break;
            }

            return fwgctl_err("unknown option %s (see --help)", o.arg);
        }
    }
}


int
fwgctl_wants_help(int argc, char **argv)
{
    int  i;

    for (i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            return 0;
        }
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            return 1;
        }
    }

    return 0;
}
