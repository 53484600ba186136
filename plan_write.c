/*
 * plan_write.c: a parsed write checked against the schema.
 *
 * Pure core, beside plan.c. A write is planned as a read first: the read
 * planner resolves the relation, checks the filters that choose the rows
 * (PATCH, DELETE, PUT) and the select=, embeds and order of what the
 * response carries, so a write accepts exactly the read grammar and says
 * the same errors. What only a write has is checked here: that filters
 * exist where a write would otherwise touch every row, that the body's
 * columns may be written, the ON CONFLICT target, and PUT's key.
 */
#include <string.h>

#include <apr_strings.h>

#include "autorest.h"

static int has_filter(const ar_read_plan *rp)
{
    return rp->pk_column || (rp->where && rp->where->children && rp->where->children->nelts);
}

static const ar_column *visible_column(const ar_exposure *x, const ar_relation *rel,
                                       const char *name)
{
    int i = ar_relation_column_index(rel, name);
    const ar_column *c;

    if (i < 0)
        return NULL;
    c = &APR_ARRAY_IDX(rel->columns, i, ar_column);
    return ar_exposed_column(x, rel, c) ? c : NULL;
}

static int key_shown(const ar_exposure *x, const ar_relation *rel)
{
    int i;

    if (!rel->primary_key)
        return 0;
    for (i = 0; i < rel->primary_key->cols->nelts; i++)
        if (!ar_exposed_column(x, rel, &APR_ARRAY_IDX(rel->columns,
                                                      APR_ARRAY_IDX(rel->primary_key->cols, i, int),
                                                      ar_column)))
            return 0;
    return 1;
}

static ar_error *unknown_column(apr_pool_t *p, const ar_relation *rel, const char *name)
{
    return ar_error_make(p, AR_ERR_UNKNOWN_COLUMN,
                         apr_psprintf(p, "column '%s' of '%s' does not exist", name, rel->name),
                         NULL, NULL);
}

/* The key whose columns are exactly these (in any order), or NULL. */
static const ar_key *key_with_columns(const ar_relation *rel, const apr_array_header_t *cols)
{
    int k, i, j;

    for (k = -1; k < rel->unique_keys->nelts; k++) {
        const ar_key *key = k < 0 ? rel->primary_key
                                  : &APR_ARRAY_IDX(rel->unique_keys, k, ar_key);
        int all = 1;

        if (!key || key->cols->nelts != cols->nelts)
            continue;
        for (i = 0; i < key->cols->nelts && all; i++) {
            const ar_column *kc =
                &APR_ARRAY_IDX(rel->columns, APR_ARRAY_IDX(key->cols, i, int), ar_column);
            int found = 0;
            for (j = 0; j < cols->nelts && !found; j++)
                found = APR_ARRAY_IDX(cols, j, const ar_column *) == kc;
            all = found;
        }
        if (all)
            return key;
    }
    return NULL;
}

static apr_array_header_t *key_columns(apr_pool_t *p, const ar_relation *rel, const ar_key *key)
{
    apr_array_header_t *cols = apr_array_make(p, key->cols->nelts, sizeof(const ar_column *));
    int i;

    for (i = 0; i < key->cols->nelts; i++)
        APR_ARRAY_PUSH(cols, const ar_column *) =
            &APR_ARRAY_IDX(rel->columns, APR_ARRAY_IDX(key->cols, i, int), ar_column);
    return cols;
}

/* ON CONFLICT's target: on_conflict= names a unique key's columns; the
 * primary key otherwise. */
static ar_error *plan_conflict(apr_pool_t *p, const ar_exposure *x, const ar_read_request *req,
                               ar_write_plan *out)
{
    const ar_relation *rel = out->relation;
    const apr_array_header_t *names = req->write.on_conflict;
    int i;

    if (!names) {
        if (!rel->primary_key)
            return ar_error_make(p, AR_ERR_BAD_PARAM,
                                 apr_psprintf(p, "'%s' has no primary key to resolve "
                                              "duplicates on", rel->name),
                                 NULL, "name a unique key's columns with on_conflict=");
        out->conflict = key_columns(p, rel, rel->primary_key);
        return NULL;
    }
    out->conflict = apr_array_make(p, names->nelts, sizeof(const ar_column *));
    for (i = 0; i < names->nelts; i++) {
        const char *name = APR_ARRAY_IDX(names, i, const char *);
        const ar_column *c = visible_column(x, rel, name);
        if (!c)
            return unknown_column(p, rel, name);
        APR_ARRAY_PUSH(out->conflict, const ar_column *) = c;
    }
    if (!key_with_columns(rel, out->conflict))
        return ar_error_make(p, AR_ERR_BAD_PARAM,
                             "on_conflict= names no unique key or primary key",
                             apr_psprintf(p, "'%s' has no unique key of exactly these columns",
                                          rel->name), NULL);
    return NULL;
}

/* PostgREST's words (PGRST105), which clients may match. */
static const char put_filters[] =
    "Filters must include all and only primary key columns with 'eq' operators";

/* PUT replaces one row by its whole primary key: the filters are eq on
 * every key column and nothing else. Their values are the row's key, which
 * the body must repeat. */
static ar_error *plan_put(apr_pool_t *p, const ar_read_request *req, ar_write_plan *out)
{
    const ar_relation *rel = out->relation;
    const ar_cond *where = req->where;
    const char **values;
    int i, j, n;

    if (!rel->primary_key)
        return ar_error_make(p, AR_ERR_BAD_PUT, put_filters,
                             apr_psprintf(p, "'%s' has no primary key", rel->name), NULL);
    out->conflict = key_columns(p, rel, rel->primary_key);
    n = out->conflict->nelts;
    values = apr_pcalloc(p, sizeof(char *) * (apr_size_t)n);
    for (i = 0; where && where->children && i < where->children->nelts; i++) {
        const ar_cond *c = APR_ARRAY_IDX(where->children, i, const ar_cond *);
        int matched = 0;

        for (j = 0; j < n && c->kind == AR_COND_LEAF && !c->negated && c->op == AR_OP_EQ
                    && c->quant == AR_QUANT_NONE && !(c->field.path && c->field.path->nelts);
             j++)
            if (strcmp(c->field.column, APR_ARRAY_IDX(out->conflict, j, const ar_column *)->name)
                    == 0 && !values[j]) {
                values[j] = c->value;
                matched = 1;
                break;
            }
        if (!matched)
            return ar_error_make(p, AR_ERR_BAD_PUT, put_filters, NULL,
                                 "filter with pk=eq.value, once for each key column");
    }
    for (j = 0; j < n; j++)
        if (!values[j])
            return ar_error_make(p, AR_ERR_BAD_PUT, put_filters,
                                 apr_psprintf(p, "'%s' is not filtered",
                                              APR_ARRAY_IDX(out->conflict, j,
                                                            const ar_column *)->name),
                                 NULL);
    out->put_values = values;
    out->resolution = AR_RESOLVE_MERGE;
    return NULL;
}

ar_error *ar_plan_write(apr_pool_t *p, const ar_schema *s, const ar_exposure *x,
                        const ar_read_request *req, int allow_unfiltered, ar_write_plan *out)
{
    const ar_write_request *w = &req->write;
    ar_error *e;

    memset(out, 0, sizeof(*out));
    out->kind = w->kind;
    /* No cap: the representation is what was written, no page of it. */
    if ((e = ar_plan_read(p, s, x, req, 0, &out->read)) != NULL)
        return e;
    out->relation = out->read.relation;
    out->read.keyset = 0;
    out->read.probe_next = 0;
    out->read.source = "\"ar_written\"";
    /* the rows in the order the statement returned them, unless asked */
    if (!req->order)
        out->read.order = apr_array_make(p, 1, sizeof(ar_order_term));
    out->columns = apr_array_make(p, 8, sizeof(const ar_column *));
    out->representation = w->ret == AR_RETURN_REPRESENTATION;
    out->missing_default = w->missing_default;
    out->resolution = w->resolution;

    if (out->read.parent || (out->read.pk_column && w->kind != AR_WRITE_UPDATE
                             && w->kind != AR_WRITE_DELETE))
        return ar_error_make(p, AR_ERR_NO_ROUTE,
                             apr_psprintf(p, "this path takes no %s",
                                          w->kind == AR_WRITE_INSERT ? "POST" : "PUT"),
                             NULL, "write to the relation's collection: /relation");
    if (ar_cond_any_embed(out->read.where, NULL))
        return ar_error_make(p, AR_ERR_BAD_PARAM,
                             "a write's filters are on its own columns, not on embedded "
                             "resources", NULL, NULL);
    switch (w->kind) {
    case AR_WRITE_INSERT:
        if (has_filter(&out->read))
            return ar_error_make(p, AR_ERR_UNKNOWN_PARAM, "POST takes no filters", NULL,
                                 "filters choose rows to update or delete");
        /* Location names the row by its key: not when a column of it is hidden */
        out->key_back = (w->ret == AR_RETURN_HEADERS || w->key_back) && key_shown(x, out->relation);
        if (w->resolution != AR_RESOLVE_NONE)
            return plan_conflict(p, x, req, out);
        if (w->on_conflict)
            return ar_error_make(p, AR_ERR_BAD_PARAM,
                                 "on_conflict= goes with Prefer: resolution=merge-duplicates "
                                 "or resolution=ignore-duplicates", NULL, NULL);
        return NULL;
    case AR_WRITE_PUT:
        return plan_put(p, req, out);
    case AR_WRITE_UPDATE:
    case AR_WRITE_DELETE:
        if (!has_filter(&out->read) && !allow_unfiltered)
            return ar_error_make(p, AR_ERR_UNFILTERED,
                                 w->kind == AR_WRITE_UPDATE ? "UPDATE requires a WHERE clause"
                                                            : "DELETE requires a WHERE clause",
                                 NULL, "filter the rows, e.g. ?id=eq.1; this Location does "
                                       "not allow writing every row at once");
        return NULL;
    default:
        return ar_error_make(p, AR_ERR_METHOD, "not a write", NULL, NULL);
    }
}

ar_error *ar_plan_write_columns(apr_pool_t *p, const ar_exposure *x, ar_write_plan *plan,
                                const char *const *names, int n)
{
    const ar_relation *rel = plan->relation;
    int i, j;

    for (i = 0; i < n; i++) {
        const ar_column *c = visible_column(x, rel, names[i]);

        if (!c)
            return unknown_column(p, rel, names[i]);
        for (j = 0; j < plan->columns->nelts; j++)
            if (APR_ARRAY_IDX(plan->columns, j, const ar_column *) == c)
                break;
        if (j < plan->columns->nelts)
            continue;
        if (c->generated)
            return ar_error_make(p, AR_ERR_BAD_BODY,
                                 apr_psprintf(p, "column '%s' cannot be written: PostgreSQL "
                                              "generates it", c->name), NULL, NULL);
        APR_ARRAY_PUSH(plan->columns, const ar_column *) = c;
    }
    return NULL;
}
