/*
 * Equivalence of the signature fast path (fwg_sigfast.c) and the general
 * parser (fwg_sig.c): shared by t/unit/test_sigfast.c and
 * fuzz/fuzz_sigfast.c.
 *
 * sigfast_cmp() runs on one message:
 *   - the general path: fwg_sig_parse, then fwg_sig_base when it parsed;
 *   - the fast attempts alone: fwg_sigfast_parse and, on the general
 *     result, fwg_sigfast_base; when either does not decline, its result
 *     must equal the general one exactly;
 *   - the drop-in wrappers fwg_sig_parse_fast/fwg_sig_base_fast in an
 *     arena that already holds data: same rc, same error text, every
 *     field, params, signature bytes, covered components and base bytes.
 * Returns NULL when all agree, else what differs.  *fast_parse and
 * *fast_base say whether the fast attempts took the message.
 */

#ifndef SIGFAST_CMP_H
#define SIGFAST_CMP_H

#include <string.h>

#include "fwg_sig.h"
#include "fwg_sigfast.h"

#define SIGFAST_ARENA  (64 * 1024)

static char  sigfast_mem_g[SIGFAST_ARENA];
static char  sigfast_mem_f[SIGFAST_ARENA];
static char  sigfast_mem_w[SIGFAST_ARENA];


static int
sigfast_str_same(fwg_str_t x, fwg_str_t y)
{
    /* absent (NULL) and present must agree; then the bytes */
    if ((x.data == NULL) != (y.data == NULL) || x.len != y.len) {
        return 0;
    }

    return x.len == 0 || memcmp(x.data, y.data, x.len) == 0;
}


static int
sigfast_bare_same(const fwg_sf_bare_t *x, const fwg_sf_bare_t *y)
{
    if (x->type != y->type) {
        return 0;
    }

    switch (x->type) {
    case FWG_SF_INTEGER:
    case FWG_SF_BOOLEAN:
        return x->integer == y->integer;
    case FWG_SF_DECIMAL:
        return x->decimal == y->decimal;
    default:
        return x->str.len == y->str.len
               && (x->str.len == 0
                   || memcmp(x->str.data, y->str.data, x->str.len) == 0);
    }
}


static int
sigfast_item_same(const fwg_sf_item_t *x, const fwg_sf_item_t *y, int depth)
{
    size_t  i;

    if (!sigfast_bare_same(&x->bare, &y->bare) && !(depth == 0
        && x->bare.type == FWG_SF_INNER_LIST
        && y->bare.type == FWG_SF_INNER_LIST))
    {
        return 0;
    }

    if (x->nitems != y->nitems || x->nparams != y->nparams) {
        return 0;
    }

    for (i = 0; i < x->nitems; i++) {
        if (!sigfast_item_same(&x->items[i], &y->items[i], depth + 1)) {
            return 0;
        }
    }

    for (i = 0; i < x->nparams; i++) {
        if (!sigfast_str_same(x->params[i].key, y->params[i].key)
            || !sigfast_bare_same(&x->params[i].value, &y->params[i].value))
        {
            return 0;
        }
    }

    return 1;
}


/* NULL when the two parse results are the same */
static const char *
sigfast_input_diff(const fwg_sig_input_t *x, const fwg_sig_input_t *y)
{
    if (!sigfast_str_same(x->label, y->label)) {
        return "label";
    }

    if ((x->inner == NULL) != (y->inner == NULL)
        || (x->inner && !sigfast_item_same(x->inner, y->inner, 0)))
    {
        return "covered components or parameters";
    }

    if (!sigfast_str_same(x->params, y->params)) {
        return "@signature-params";
    }

    if (x->has_created != y->has_created
        || (x->has_created && x->created != y->created))
    {
        return "created";
    }

    if (x->has_expires != y->has_expires
        || (x->has_expires && x->expires != y->expires))
    {
        return "expires";
    }

    if (!sigfast_str_same(x->keyid, y->keyid)) {
        return "keyid";
    }

    if (!sigfast_str_same(x->alg, y->alg)) {
        return "alg";
    }

    if (!sigfast_str_same(x->nonce, y->nonce)) {
        return "nonce";
    }

    if (!sigfast_str_same(x->tag, y->tag)) {
        return "tag";
    }

    if (x->siglen != y->siglen || (x->sig == NULL) != (y->sig == NULL)
        || (x->siglen && memcmp(x->sig, y->sig, x->siglen) != 0))
    {
        return "signature bytes";
    }

    return NULL;
}


static int
sigfast_err_same(const char *x, const char *y)
{
    if (x == NULL || y == NULL) {
        return x == y;
    }

    return strcmp(x, y) == 0;
}


static const char *
sigfast_cmp(const fwg_msg_t *msg, fwg_str_t label, int *fast_parse,
    int *fast_base)
{
    int               grc, frc, wrc, gbrc, wbrc;
    const char       *gerr, *werr, *gberr, *wberr, *d;
    fwg_arena_t       ga, fa, wa;
    fwg_str_t         gbase, fbase, wbase;
    fwg_sig_input_t   gin, fin, win;

    *fast_parse = 0;
    *fast_base = 0;

    /* the reference */

    fwg_arena_init(&ga, sigfast_mem_g, sizeof(sigfast_mem_g));
    gerr = NULL;
    grc = fwg_sig_parse(msg, label, &ga, &gin, &gerr);

    gbrc = 0;
    gberr = NULL;
    gbase.data = NULL;
    gbase.len = 0;

    if (grc == FWG_SIG_OK) {
        gbrc = fwg_sig_base(msg, &gin, &ga, &gbase, &gberr);
    }

    /* the fast attempts alone */

    fwg_arena_init(&fa, sigfast_mem_f, sizeof(sigfast_mem_f));
    frc = fwg_sigfast_parse(msg, label, &fa, &fin);

    if (frc != FWG_SIG_OK && frc != FWG_SIGFAST_DECLINED) {
        return "fast parse: neither OK nor declined";
    }

    if (frc == FWG_SIG_OK) {
        *fast_parse = 1;

        if (grc != FWG_SIG_OK) {
            return "fast parse accepts what the general path refuses";
        }

        d = sigfast_input_diff(&gin, &fin);
        if (d) {
            return d;
        }
    }

    if (grc == FWG_SIG_OK) {
        fwg_arena_init(&fa, sigfast_mem_f, sizeof(sigfast_mem_f));
        frc = fwg_sigfast_base(msg, &gin, &fa, &fbase);

        if (frc != FWG_SIG_OK && frc != FWG_SIGFAST_DECLINED) {
            return "fast base: neither OK nor declined";
        }

        if (frc == FWG_SIG_OK) {
            *fast_base = 1;

            if (gbrc != FWG_SIG_OK) {
                return "fast base builds what the general path refuses";
            }

            if (!sigfast_str_same(gbase, fbase)) {
                return "fast base differs";
            }
        }
    }

    /* the wrappers, in an arena already in use */

    fwg_arena_init(&wa, sigfast_mem_w, sizeof(sigfast_mem_w));
    (void) fwg_arena_alloc(&wa, 13);

    werr = NULL;
    wrc = fwg_sig_parse_fast(msg, label, &wa, &win, &werr);

    if (wrc != grc) {
        return "parse rc differs";
    }

    if (!sigfast_err_same(gerr, werr)) {
        return "parse error text differs";
    }

    if (grc != FWG_SIG_OK) {
        return NULL;
    }

    d = sigfast_input_diff(&gin, &win);
    if (d) {
        return d;
    }

    wberr = NULL;
    wbase.data = NULL;
    wbase.len = 0;
    wbrc = fwg_sig_base_fast(msg, &win, &wa, &wbase, &wberr);

    if (wbrc != gbrc) {
        return "base rc differs";
    }

    if (!sigfast_err_same(gberr, wberr)) {
        return "base error text differs";
    }

    if (gbrc == FWG_SIG_OK && !sigfast_str_same(gbase, wbase)) {
        return "base differs";
    }

    return NULL;
}

#endif /* SIGFAST_CMP_H */
