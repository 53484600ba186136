/*
 * query_limits.c: how much one request may ask for, per Location.
 *
 * Pure core. The parser already caps nesting at compile-time bounds
 * (AR_MAX_LOGIC_DEPTH, AR_MAX_EMBED_DEPTH) so that it cannot recurse
 * without end; these are the admin's tighter bounds for an API that faces
 * the internet, checked once the request is parsed and before anything is
 * planned, so a costly request is refused before it costs the database.
 */
#include <string.h>

#include <apr_strings.h>

#include "autorest.h"

/* Leaves (filters) and nesting of a condition tree. */
static void measure_tree(const ar_cond *c, int depth, int *leaves, int *deepest)
{
    int i;

    if (!c)
        return;
    if (c->kind == AR_COND_LEAF && !c->children) {
        ++*leaves;
        return;
    }
    if (depth > *deepest)
        *deepest = depth;
    if (c->kind == AR_COND_LEAF)
        ++*leaves; /* has/any: the condition on related rows counts too */
    for (i = 0; c->children && i < c->children->nelts; i++)
        measure_tree(APR_ARRAY_IDX(c->children, i, const ar_cond *), depth + 1, leaves,
                     deepest);
}

/* Items and embedding depth of a select list, embedded lists included. */
static void measure_select(const apr_array_header_t *select, int depth, int *items,
                           int *deepest)
{
    int i;

    if (!select)
        return;
    if (depth > *deepest)
        *deepest = depth;
    for (i = 0; i < select->nelts; i++) {
        const ar_select_item *it = &APR_ARRAY_IDX(select, i, ar_select_item);
        ++*items;
        if (it->embed)
            measure_select(it->embed->select, depth + 1, items, deepest);
    }
}

static ar_error *too_much(apr_pool_t *p, const char *what, int n, int most,
                          const char *directive)
{
    return ar_error_make(p, AR_ERR_TOO_MUCH,
                         apr_psprintf(p, "this request has %d %s; at most %d are served here",
                                      n, what, most),
                         NULL, apr_psprintf(p, "ask for less (%s)", directive));
}

ar_error *ar_query_check_limits(apr_pool_t *p, const ar_read_request *req,
                                const ar_query_limits *most)
{
    int filters = 0, logic_depth = 0, items = 0, embed_depth = 0, i;

    /* the top AND that holds every filter is no nesting of the client's */
    measure_tree(req->where, 0, &filters, &logic_depth);
    for (i = 0; req->embed_opts && i < req->embed_opts->nelts; i++) {
        const ar_embed_opt *o = &APR_ARRAY_IDX(req->embed_opts, i, ar_embed_opt);
        if (o->kind == AR_EOPT_TREE)
            measure_tree(o->tree, 1, &filters, &logic_depth);
    }
    measure_select(req->select, 0, &items, &embed_depth);
    if (most->depth > 0 && logic_depth > most->depth)
        return ar_error_make(p, AR_ERR_TOO_DEEP, "and/or nested too deeply",
                             apr_psprintf(p, "at most %d levels are served here", most->depth),
                             "AutoRestMaxDepth");
    if (most->depth > 0 && embed_depth > most->depth)
        return ar_error_make(p, AR_ERR_TOO_DEEP, "embedded resources nested too deeply",
                             apr_psprintf(p, "at most %d levels are served here", most->depth),
                             "AutoRestMaxDepth");
    if (most->filters > 0 && filters > most->filters)
        return too_much(p, "filters", filters, most->filters, "AutoRestMaxFilters");
    if (most->select_items > 0 && items > most->select_items)
        return too_much(p, "select items", items, most->select_items, "AutoRestMaxSelect");
    return NULL;
}

ar_error *ar_query_check_url(apr_pool_t *p, const char *path, const char *args,
                             apr_size_t most)
{
    apr_size_t longest = 0;
    const char *s;

    if (most == 0)
        return NULL;
    /* each segment of the path, each name=value of the query string */
    for (s = path; s && *s;) {
        apr_size_t n = strcspn(s, "/");
        if (n > longest)
            longest = n;
        s += n + (s[n] == '/');
    }
    for (s = args; s && *s;) {
        apr_size_t n = strcspn(s, "&");
        if (n > longest)
            longest = n;
        s += n + (s[n] == '&');
    }
    if (longest <= most)
        return NULL;
    return ar_error_make(p, AR_ERR_TOO_MUCH,
                         apr_psprintf(p, "a part of this URL is %" APR_SIZE_T_FMT
                                      " bytes long; at most %" APR_SIZE_T_FMT
                                      " are served here", longest, most),
                         NULL, "ask for less (AutoRestMaxUrlPart), or POST to a function");
}
