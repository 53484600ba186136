/*
 * plan_aggregate.c: aggregates in select= (count(), col.sum(), avg, min,
 * max, with casts) as PostgREST 12 has them, and the groups they make: the
 * other selected columns, embedded resources and spread columns among them.
 * Pure core, part of the read planner (planner.h).
 */
#include <string.h>

#include <apr_strings.h>

#include "planner.h"

/* What a cast gives sum() and avg() to add up: 1 a number, 2 a value they
 * add up as text (money, interval), 0 nothing they take, which PostgreSQL
 * would refuse with an error that is not the client's to read. */
static int summable_cast(const char *type)
{
    static const char *const numbers[] = {"smallint", "integer", "int", "bigint", "int2", "int4",
                                          "int8", "numeric", "decimal", "real",
                                          "double precision", "float4", "float8", NULL};
    int i;

    for (i = 0; numbers[i]; i++)
        if (strcasecmp(type, numbers[i]) == 0 || (strncasecmp(type, numbers[i], strlen(numbers[i])) == 0
                                                  && type[strlen(numbers[i])] == '('))
            return 1;
    return strcasecmp(type, "money") == 0 || strcasecmp(type, "interval") == 0 ? 2 : 0;
}

/* count() counts the rows: a column of its own, never the relation's. */
static const ar_column rows_counted = {.name = "count", .type = "bigint", .enc = AR_ENC_NUMBER};

/* col.sum() and the like, and count(): an output column whose value is the
 * aggregate over each group of rows (the other columns make the groups). */
ar_error *plan_aggregate(planner *pl, const ar_relation *rel, const ar_select_item *item,
                         apr_array_header_t *out)
{
    static const char *const names[] = {"", "count", "sum", "avg", "min", "max"};
    apr_pool_t *p = pl->p;
    ar_select_item it = *item;
    const char *fn = names[it.agg];
    ar_output_column *oc;
    int number = it.agg == AR_AGG_COUNT;

    if (!pl->aggregates)
        return ar_error_make(p, AR_ERR_AGGREGATES_OFF, "aggregates are not served here",
                             apr_psprintf(p, "%s() in select", fn),
                             "AutoRestAggregates On serves them, for reads of relations, "
                             "under a statement timeout (AutoRestTimeout above 0)");
    if (!it.field.column) {
        oc = apr_array_push(out);
        memset(oc, 0, sizeof(*oc));
        oc->column = &rows_counted;
        oc->count_rows = 1;
    }
    else {
        const ar_column *c;
        ar_error *e;
        int as_text;

        if ((e = plan_resolve_field(p, rel, pl->x, &it.field)) != NULL)
            return e;
        c = it.field.ref;
        as_text = it.field.path && it.field.path->nelts
                  && APR_ARRAY_IDX(it.field.path, it.field.path->nelts - 1, ar_path_step).as_text;
        if (it.agg == AR_AGG_SUM || it.agg == AR_AGG_AVG) {
            int kind = it.cast ? summable_cast(it.cast)
                       : it.field.path && it.field.path->nelts ? 0
                       : c->enc == AR_ENC_NUMBER ? 1
                       : strcmp(c->type, "money") == 0 || strcmp(c->type, "interval") == 0 ? 2 : 0;
            if (!kind)
                return ar_error_make(p, AR_ERR_BAD_PARAM,
                                     apr_psprintf(p, "%s() adds up numbers; '%s' is %s", fn,
                                                  c->name, it.cast ? it.cast : c->type),
                                     NULL, apr_psprintf(p, "cast it: %s::numeric.%s()", c->name, fn));
            number = kind == 1;
        }
        if ((it.agg == AR_AGG_MIN || it.agg == AR_AGG_MAX) && !it.cast
            && (it.field.path && it.field.path->nelts ? !as_text : !c->sortable))
            return ar_error_make(p, AR_ERR_BAD_PARAM,
                                 apr_psprintf(p, "%s() needs values with an order; '%s' has none",
                                              fn, c->name),
                                 NULL, apr_psprintf(p, "cast it: %s::text.%s()", c->name, fn));
        plan_add_output(out, c, NULL, it.field.path, NULL);
        oc = &APR_ARRAY_IDX(out, out->nelts - 1, ar_output_column);
        oc->cast = it.cast;
    }
    oc->agg = it.agg;
    oc->agg_cast = it.agg_cast;
    oc->name = it.alias ? it.alias : fn;
    /* to_json() renders what no encoder of ours knows (the written SQL
     * wraps AR_ENC_JSON aggregates in it, but for CSV) */
    if (it.agg_cast)
        oc->enc = AR_ENC_JSON;
    else if (number)
        oc->enc = AR_ENC_NUMBER;
    else if (it.cast || oc->path)
        oc->enc = AR_ENC_JSON;
    else if (oc->enc == AR_ENC_ARRAY)
        oc->enc = AR_ENC_JSON; /* min() of arrays: PostgreSQL's array text, as JSON */
    return NULL;
}

/* With aggregates the rows are groups: ordered only by what makes the
 * groups (an aggregate's argument is not one row's value), and grouped by
 * what PostgreSQL can compare (json has no equality). */
ar_error *plan_check_groups(apr_pool_t *p, const apr_array_header_t *columns,
                            const apr_array_header_t *order)
{
    int i, j;

    for (i = 0; i < columns->nelts; i++) {
        const ar_output_column *oc = &APR_ARRAY_IDX(columns, i, ar_output_column);
        int as_text = oc->path && APR_ARRAY_IDX(oc->path, oc->path->nelts - 1, ar_path_step).as_text;

        if (!oc->agg && !oc->embed && !oc->cast && !as_text && strcmp(oc->column->type, "json") == 0)
            return ar_error_make(p, AR_ERR_BAD_PARAM,
                                 apr_psprintf(p, "rows cannot be grouped by '%s' (json)", oc->name),
                                 NULL, apr_psprintf(p, "cast it: %s::jsonb", oc->column->name));
    }
    for (i = 0; order && i < order->nelts; i++) {
        const ar_order_term *t = &APR_ARRAY_IDX(order, i, ar_order_term);
        int grouped = 0;

        for (j = 0; j < columns->nelts; j++) {
            const ar_output_column *oc = &APR_ARRAY_IDX(columns, j, ar_output_column);
            grouped |= !oc->agg && !oc->embed && oc->column == t->column && !oc->path
                       && !oc->cast && !t->path;
        }
        if (!grouped)
            return ar_error_make(p, AR_ERR_BAD_PARAM,
                                 apr_psprintf(p, "order by '%s': with aggregates, rows are "
                                                 "ordered only by the columns that group them",
                                              t->column->name),
                                 NULL, "select the column itself beside the aggregates");
    }
    return NULL;
}

int plan_has_aggregate(const apr_array_header_t *columns)
{
    int i;

    for (i = 0; i < columns->nelts; i++)
        if (APR_ARRAY_IDX(columns, i, ar_output_column).agg != AR_AGG_NONE)
            return 1;
    return 0;
}

/* The embedded levels that aggregate: their order (rel.order=) checked. A
 * deeper embedded resource is one of the level's grouping columns. */
ar_error *plan_check_embed_groups(apr_pool_t *p, const apr_array_header_t *embeds)
{
    int i;

    for (i = 0; embeds && i < embeds->nelts; i++) {
        const ar_embed_plan *ep = APR_ARRAY_IDX(embeds, i, const ar_embed_plan *);
        ar_error *e;

        if (ep->grouped && (e = plan_check_groups(p, ep->columns, ep->order)) != NULL)
            return e;
        if ((e = plan_check_embed_groups(p, ep->embeds)) != NULL)
            return e;
    }
    return NULL;
}
