/*
 * plan.c: a parsed request checked against the schema.
 *
 * Pure core. Every name the client gave is resolved here to a visible column
 * of an exposed relation, or the request ends with a 400 that names it; the
 * SQL renderer (sql.c) then only ever writes identifiers it finds in the
 * plan. Also decided here: the output columns and their encoders, the order
 * (with the default key as tie-breaker, so pages never overlap), and the
 * window of rows.
 */
#include <string.h>

#include <apr_strings.h>

#include "autorest.h"

static const ar_column *column_at(const ar_relation *rel, int idx)
{
    return &APR_ARRAY_IDX(rel->columns, idx, ar_column);
}

static ar_error *unknown_column(apr_pool_t *p, const ar_relation *rel, const char *name)
{
    return ar_error_make(p, AR_ERR_UNKNOWN_COLUMN,
                         apr_psprintf(p, "column '%s' does not exist in '%s'", name, rel->name),
                         NULL, "GET the index of this API to see the columns");
}

/* A hidden column is unknown: the error must not tell it apart. */
static ar_error *resolve_field(apr_pool_t *p, const ar_relation *rel, const ar_exposure *x,
                               ar_field *f)
{
    int idx = ar_relation_column_index(rel, f->column);

    if (idx < 0 || !ar_exposed_column(x, rel, column_at(rel, idx)))
        return unknown_column(p, rel, f->column);
    f->ref = column_at(rel, idx);
    return NULL;
}

static ar_error *resolve_cond(apr_pool_t *p, const ar_relation *rel, const ar_exposure *x,
                              const ar_cond *in, ar_cond **out)
{
    ar_cond *c = apr_pmemdup(p, in, sizeof(*in));
    ar_error *e;
    int i;

    if (c->kind == AR_COND_LEAF) {
        if ((e = resolve_field(p, rel, x, &c->field)) != NULL)
            return e;
        if (c->other) {
            ar_field *other = apr_pmemdup(p, c->other, sizeof(*c->other));
            if ((e = resolve_field(p, rel, x, other)) != NULL)
                return e;
            c->other = other;
        }
        *out = c;
        return NULL;
    }
    c->children = apr_array_make(p, in->children->nelts + 1, sizeof(ar_cond *));
    for (i = 0; i < in->children->nelts; i++) {
        ar_cond *child;
        if ((e = resolve_cond(p, rel, x, APR_ARRAY_IDX(in->children, i, ar_cond *), &child)))
            return e;
        APR_ARRAY_PUSH(c->children, ar_cond *) = child;
    }
    *out = c;
    return NULL;
}

/* Primary key, else the first unique key whose columns are all NOT NULL:
 * either makes the order total. Without one, the visible sortable columns in
 * position order, after the columns of a nullable unique key if there is
 * one: deterministic whenever rows differ in those columns. Hidden columns
 * never join that fallback, so their values do not shape what is shown. */
static apr_array_header_t *default_order(apr_pool_t *p, const ar_relation *rel,
                                         const ar_exposure *x, int *total)
{
    apr_array_header_t *order = apr_array_make(p, 4, sizeof(const ar_column *));
    const ar_key *key = rel->primary_key, *nullable_key = NULL;
    int i, j;

    for (i = 0; !key && i < rel->unique_keys->nelts; i++) {
        const ar_key *k = &APR_ARRAY_IDX(rel->unique_keys, i, ar_key);
        int all_not_null = 1;
        for (j = 0; j < k->cols->nelts; j++)
            if (column_at(rel, APR_ARRAY_IDX(k->cols, j, int))->nullable)
                all_not_null = 0;
        if (all_not_null)
            key = k;
        else if (!nullable_key)
            nullable_key = k;
    }
    *total = key != NULL;
    if (!key)
        key = nullable_key;
    if (key)
        for (i = 0; i < key->cols->nelts; i++)
            APR_ARRAY_PUSH(order, const ar_column *) =
                column_at(rel, APR_ARRAY_IDX(key->cols, i, int));
    if (key && key != nullable_key)
        return order;
    for (i = 0; i < rel->columns->nelts; i++) {
        const ar_column *c = column_at(rel, i);
        int already = 0;

        for (j = 0; j < order->nelts; j++)
            already |= APR_ARRAY_IDX(order, j, const ar_column *) == c;
        if (!already && c->sortable && ar_exposed_column(x, rel, c))
            APR_ARRAY_PUSH(order, const ar_column *) = c;
    }
    return order;
}

static void add_output(apr_array_header_t *cols, const ar_column *c, const char *name,
                       const apr_array_header_t *path, const char *cast)
{
    ar_output_column *oc = apr_array_push(cols);

    oc->column = c;
    oc->name = name ? name : c->name;
    oc->path = path && path->nelts ? path : NULL;
    oc->cast = cast;
    oc->elem_enc = c->elem_enc;
    if (cast)
        oc->enc = AR_ENC_JSON; /* rendered as to_json(expr::type), but for CSV */
    else if (oc->path)
        oc->enc = APR_ARRAY_IDX(path, path->nelts - 1, ar_path_step).as_text ? AR_ENC_STRING
                                                                               : AR_ENC_JSON;
    else
        oc->enc = c->enc == AR_ENC_SQL_JSON ? AR_ENC_JSON : c->enc;
}

static ar_error *plan_columns(apr_pool_t *p, const ar_relation *rel, const ar_exposure *x,
                              const apr_array_header_t *select, apr_array_header_t *out)
{
    int i, j;

    for (i = 0; !select || i < select->nelts; i++) {
        ar_select_item it;
        ar_error *e;

        if (!select || strcmp(APR_ARRAY_IDX(select, i, ar_select_item).field.column, "*") == 0) {
            for (j = 0; j < rel->columns->nelts; j++)
                if (ar_exposed_column(x, rel, column_at(rel, j)))
                    add_output(out, column_at(rel, j), NULL, NULL, NULL);
            if (!select)
                return NULL;
            continue;
        }
        it = APR_ARRAY_IDX(select, i, ar_select_item);
        if ((e = resolve_field(p, rel, x, &it.field)) != NULL)
            return e;
        add_output(out, it.field.ref,
                   it.alias ? it.alias
                   : it.field.path && it.field.path->nelts
                       ? APR_ARRAY_IDX(it.field.path, it.field.path->nelts - 1, ar_path_step).key
                       : NULL,
                   it.field.path, it.cast);
    }
    return NULL;
}

/* *keyset: the order ends in a key that makes it total, and no term is a
 * hidden column (a cursor carries the last row's values of every term). */
static ar_error *plan_order(apr_pool_t *p, const ar_relation *rel, const ar_exposure *x,
                            const apr_array_header_t *asked, apr_array_header_t *out,
                            int *keyset)
{
    int total;
    apr_array_header_t *dflt = default_order(p, rel, x, &total);
    int i, j;

    for (i = 0; asked && i < asked->nelts; i++) {
        ar_order_item it = APR_ARRAY_IDX(asked, i, ar_order_item);
        ar_order_term *t;
        ar_error *e;

        if ((e = resolve_field(p, rel, x, &it.field)) != NULL)
            return e;
        t = apr_array_push(out);
        t->column = it.field.ref;
        t->path = it.field.path && it.field.path->nelts ? it.field.path : NULL;
        t->desc = it.desc;
        t->nulls = it.nulls;
    }
    /* The default key breaks ties, so that rows never move between pages. */
    for (i = 0; i < dflt->nelts; i++) {
        const ar_column *c = APR_ARRAY_IDX(dflt, i, const ar_column *);
        int already = 0;
        ar_order_term *t;

        for (j = 0; j < out->nelts; j++) {
            const ar_order_term *o = &APR_ARRAY_IDX(out, j, ar_order_term);
            already |= o->column == c && !o->path;
        }
        if (already)
            continue;
        t = apr_array_push(out);
        memset(t, 0, sizeof(*t));
        t->column = c;
    }
    *keyset = total;
    for (i = 0; i < out->nelts; i++)
        if (!ar_exposed_column(x, rel, APR_ARRAY_IDX(out, i, ar_order_term).column))
            *keyset = 0;
    return NULL;
}

/* Where each order term's value is in a result row. A term the select list
 * already carries as PostgreSQL's own text (the column itself: no path, no
 * cast, no to_json) is read from there; the others are appended. Selecting
 * the key twice cost every row of every page a value more to print, send
 * and parse. */
static void plan_key_columns(apr_pool_t *p, ar_read_plan *plan)
{
    int ncols = plan->columns->nelts, next = ncols ? ncols : 1; /* 1: after NULL */
    int i, j;

    plan->key_columns = apr_palloc(p, sizeof(int) * (plan->order->nelts + 1));
    for (i = 0; i < plan->order->nelts; i++) {
        const ar_order_term *t = &APR_ARRAY_IDX(plan->order, i, ar_order_term);

        plan->key_columns[i] = -1;
        for (j = 0; !t->path && j < ncols && plan->key_columns[i] < 0; j++) {
            const ar_output_column *oc = &APR_ARRAY_IDX(plan->columns, j, ar_output_column);
            if (oc->column == t->column && !oc->path && !oc->cast
                && oc->column->enc != AR_ENC_SQL_JSON)
                plan->key_columns[i] = j;
        }
        if (plan->key_columns[i] < 0)
            plan->key_columns[i] = next++;
    }
}

ar_error *ar_plan_read(apr_pool_t *p, const ar_schema *s, const ar_exposure *x,
                       const ar_read_request *req, apr_int64_t max_rows,
                       ar_read_plan *out)
{
    const ar_relation *rel;
    ar_error *e;

    memset(out, 0, sizeof(*out));
    if (req->profile && !ar_exposed_schema(x, req->profile))
        return ar_error_make(p, AR_ERR_UNKNOWN_PROFILE,
                             apr_psprintf(p, "schema '%s' is not served here", req->profile),
                             NULL, "Accept-Profile names one of the schemas of this API");
    rel = ar_resolve_relation(s, x, req->profile, req->relation);
    if (!rel)
        return ar_error_make(p, AR_ERR_NO_RELATION,
                             apr_psprintf(p, "relation '%s' does not exist", req->relation),
                             NULL, "GET the index of this API to see what it serves");
    out->relation = rel;
    out->count = req->count;
    out->media = req->media;
    out->columns = apr_array_make(p, rel->columns->nelts + 1, sizeof(ar_output_column));
    out->order = apr_array_make(p, 4, sizeof(ar_order_term));
    if ((e = plan_columns(p, rel, x, req->select, out->columns)) != NULL)
        return e;
    if (req->where && (e = resolve_cond(p, rel, x, req->where, (ar_cond **)&out->where)))
        return e;

    if (req->pk_value) {
        const ar_key *pk = rel->primary_key;
        const ar_column *c = pk && pk->cols->nelts == 1
                                 ? column_at(rel, APR_ARRAY_IDX(pk->cols, 0, int))
                                 : NULL;

        /* A hidden key column cannot be probed by value either. */
        if (!c || !ar_exposed_column(x, rel, c))
            return ar_error_make(p, AR_ERR_NO_ROUTE, "no such resource",
                                 apr_psprintf(p, "'%s' has no single-column primary key",
                                              req->relation),
                                 NULL);
        out->pk_column = c;
        out->pk_value = req->pk_value;
        out->single = 1;
        out->limit = 1;
        out->count = AR_COUNT_NONE;
        return NULL;
    }

    if ((e = plan_order(p, rel, x, req->order, out->order, &out->keyset)) != NULL)
        return e;
    out->offset = req->offset;
    out->limit = req->limit;
    if (max_rows > 0 && (out->limit == AR_UNSET || out->limit > max_rows))
        out->limit = max_rows;
    out->probe_next = out->limit != AR_UNSET;
    if (req->single || req->media == AR_MEDIA_OBJECT) {
        /* One object: fetch two rows at most, to tell one from several. */
        out->single = 1;
        out->probe_next = out->limit != 1;
        if (out->limit != 0)
            out->limit = 1;
    }
    if (out->single || out->limit == AR_UNSET)
        out->keyset = 0; /* nothing pages on */
    if (out->keyset)
        plan_key_columns(p, out);
    return NULL;
}

ar_error *ar_plan_apply_cursor(apr_pool_t *p, ar_read_plan *plan, const char *token,
                               const unsigned char *key, apr_size_t key_len)
{
    if (!token)
        return NULL;
    if (!plan->keyset)
        return ar_error_make(p, AR_ERR_BAD_CURSOR, "the cursor is not valid for this query",
                             "this query's order does not continue by cursor",
                             "page with offset");
    return ar_cursor_decode(p, key, key_len, ar_cursor_shape(p, plan), token,
                            plan->order->nelts, &plan->skipped, &plan->after);
}
