/*
 * sql_call.c: a call plan as one statement, in sql.c's manner.
 *
 * Pure core. The routine's name and its arguments' names and types come
 * from the catalogue, quoted; every value the client sent is a bound
 * parameter cast to its argument's type, so PostgreSQL picks the overload
 * the planner chose and a value the type rejects is its 22xxx, a 400.
 *
 * The call sits in the FROM clause of the read plan's statement, so the
 * result takes select=, filters, order and limit in the same statement,
 * and the function runs once (the count too: count(*) OVER (), see
 * ar_sql_render_read).
 */
#include <string.h>

#include <apr_strings.h>

#include "autorest.h"
#include "sql_writer.h"

static void put_arg_value(sql_writer *w, const ar_call_arg *ca)
{
    const ar_routine_arg *a = ca->arg;
    const char *name = ar_sql_quote_ident(w->p, a->name);

    if (ca->via_json) {
        /* an object or array for a type that is not json (an array, a
         * composite): PostgreSQL converts it as json_to_record does */
        sqlw_put(w, apr_pstrcat(w->p, "(SELECT \"ar_arg\".", name, " FROM json_to_record(",
                                NULL));
        sqlw_param(w, ca->value, "json");
        sqlw_put(w, apr_pstrcat(w->p, ") AS \"ar_arg\"(", name, " ", a->type, "))", NULL));
        return;
    }
    sqlw_param(w, ca->items ? sqlw_array_literal(w->p, ca->items) : ca->value, a->type);
}

/* "schema"."fn"("a" := $1::integer, VARIADIC "v" := $2::text[]) */
static void put_call(sql_writer *w, const ar_call_plan *call)
{
    const ar_routine *r = call->routine;
    int i, n = 0;

    sqlw_put(w, apr_pstrcat(w->p, ar_sql_quote_ident(w->p, r->schema), ".",
                            ar_sql_quote_ident(w->p, r->name), "(", NULL));
    for (i = 0; i < call->args->nelts; i++) {
        const ar_call_arg *ca = &APR_ARRAY_IDX(call->args, i, ar_call_arg);

        if (n++)
            sqlw_put(w, ", ");
        if (ca->arg->variadic)
            sqlw_put(w, "VARIADIC ");
        /* unnamed: the one argument that takes the whole body, by position */
        if (*ca->arg->name)
            sqlw_put(w, apr_pstrcat(w->p, ar_sql_quote_ident(w->p, ca->arg->name), " := ",
                                    NULL));
        put_arg_value(w, ca);
    }
    if (r->procedure && r->result) {
        /* a procedure's OUT parameters are named in its CALL, as NULL */
        for (i = 0; i < r->result->columns->nelts; i++) {
            const ar_column *c = &APR_ARRAY_IDX(r->result->columns, i, ar_column);
            int j, inout = 0;

            for (j = 0; j < r->args->nelts; j++)
                inout |= strcmp(APR_ARRAY_IDX(r->args, j, ar_routine_arg).name, c->name) == 0;
            if (inout)
                continue;
            sqlw_put(w, apr_pstrcat(w->p, n++ ? ", " : "", ar_sql_quote_ident(w->p, c->name),
                                    " := NULL", NULL));
        }
    }
    sqlw_put(w, ")");
}

void sqlw_call_from(sql_writer *w, const ar_call_plan *call)
{
    if (call->scalar) {
        /* a value (SETOF values: one row each) under the result column's name */
        const ar_column *c = &APR_ARRAY_IDX(call->routine->result->columns, 0, ar_column);

        sqlw_put(w, " FROM (SELECT ");
        put_call(w, call);
        sqlw_put(w, apr_pstrcat(w->p, " AS ", ar_sql_quote_ident(w->p, c->name), ") AS ",
                                SQLW_CALL_ALIAS, NULL));
        return;
    }
    sqlw_put(w, " FROM ");
    put_call(w, call);
    sqlw_put(w, " AS " SQLW_CALL_ALIAS);
    if (call->routine->result->kind == AR_KIND_RESULT) {
        /* OUT parameters, a composite type: the columns under their names
         * (one OUT parameter would otherwise take the alias's) */
        const apr_array_header_t *cols = call->routine->result->columns;
        int i;

        for (i = 0; i < cols->nelts; i++)
            sqlw_put(w, apr_pstrcat(w->p, i ? ", " : "(",
                                    ar_sql_quote_ident(w->p, APR_ARRAY_IDX(cols, i, ar_column).name),
                                    NULL));
        sqlw_put(w, ")");
    }
}

void ar_sql_render_call(apr_pool_t *p, const ar_call_plan *plan, ar_sql *out)
{
    sql_writer w;

    if (plan->routine->procedure || plan->routine->returns == AR_RETURNS_VOID) {
        sqlw_init(&w, p, &plan->read, out);
        sqlw_put(&w, plan->routine->procedure ? "CALL " : "SELECT FROM ");
        put_call(&w, plan);
        sqlw_done(&w);
        return;
    }
    ar_sql_render_read(p, &plan->read, out);
}
