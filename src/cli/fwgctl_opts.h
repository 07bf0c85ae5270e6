/*
 * fwgatectl: the one option parser of every command.
 *
 * fwgctl_opt_next() reads argv one argument at a time against a table of
 * options and says what it read; the caller words its own messages, so
 * each command keeps its own.  fwgctl_args_parse() is the common case on
 * top of it: options in any order among the positional arguments, --help,
 * --json, and the registry's messages for what is wrong.
 */

#ifndef FWGCTL_OPTS_H
#define FWGCTL_OPTS_H


typedef struct {
    const char  *name;          /* "--model", or "-H" (no "=VALUE" form) */
    int          has_arg;       /* 1: takes a value, 0: a flag */
    const char  *value;         /* the last value given; "1": flag given */
} fwgctl_opt_t;


/* fwgctl_opts_init() flags */
#define FWGCTL_OPTS_DASHDASH   0x1  /* "--" ends the options */
#define FWGCTL_OPTS_NO_INLINE  0x2  /* no "--name=VALUE", only "--name V" */

typedef struct {
    int            argc;
    char         **argv;
    int            i;           /* the next argument to read */
    int            flags;
    int            dashdash;    /* "--" was read */
    const char    *arg;         /* the argument read last */
    const char    *value;       /* FWGCTL_OPT_MATCH: the value, "1" flag */
    fwgctl_opt_t  *opt;         /* MATCH, NO_VALUE, FLAG_VALUE: which */
} fwgctl_opts_t;


/* what fwgctl_opt_next() read */
#define FWGCTL_OPT_END         0    /* argv is used up */
#define FWGCTL_OPT_ARG         1    /* a positional argument, in arg */
#define FWGCTL_OPT_HELP        2    /* --help or -h */
#define FWGCTL_OPT_MATCH       3    /* opt, with value (also in opt) */
#define FWGCTL_OPT_UNKNOWN     4    /* arg is not in the table */
#define FWGCTL_OPT_NO_VALUE    5    /* opt needs a value; argv ended */
#define FWGCTL_OPT_FLAG_VALUE  6    /* opt is a flag given "=VALUE" */

void fwgctl_opts_init(fwgctl_opts_t *o, int argc, char **argv, int flags);
/* opts: ends with a NULL name; may be NULL for no options */
int fwgctl_opt_next(fwgctl_opts_t *o, fwgctl_opt_t *opts);
/* the value of option name in the table (NULL: not given) */
const char *fwgctl_opt_value(const fwgctl_opt_t *opts, const char *name);


#define FWGCTL_ARGS_MAX  4096

typedef struct {
    char        *pos[FWGCTL_ARGS_MAX];
    int          npos;
    int          help;          /* --help or -h was given */
    int          json;          /* --json here or before the command */
} fwgctl_args_t;

/*
 * All of argv: values into opts, the rest into a; "--" ends the options.
 * 0, or 1 after printing the error (the caller exits 2).
 */
int fwgctl_args_parse(int argc, char **argv, fwgctl_opt_t *opts,
    fwgctl_args_t *a);

/* --help or -h among the arguments, before any "--" */
int fwgctl_wants_help(int argc, char **argv);

#endif /* FWGCTL_OPTS_H */
