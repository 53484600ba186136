/*
 * sql_write.c: a write plan as one statement, in sql.c's manner.
 *
 * Pure core. Identifiers come from the plan's reflected columns, quoted;
 * every value from the body or a filter is a bound parameter, typed by
 * PostgreSQL from the column it goes to (an INSERT's VALUES and an UPDATE's
 * SET take their target's type), so a value the type rejects is the
 * database's 22xxx, a 400, and nothing is written.
 *
 * With return=representation the write is a CTE whose RETURNING rows the
 * read plan selects from, as PostgREST does: the representation is taken
 * from the statement itself, select=, embeds and order included, and never
 * read again.
 */
#include <string.h>

#include <apr_strings.h>

#include "autorest.h"
#include "sql_writer.h"

const char *ar_write_value(int json_column, const ar_body_field *f, apr_size_t *len)
{
    if (f->kind == AR_VAL_NULL)
        return NULL;
    *len = json_column ? f->raw_len : f->len;
    return json_column ? f->raw : f->text;
}

const char *ar_write_value_text(const ar_column *c, const ar_body_field *f)
{
    apr_size_t len;

    return ar_write_value(ar_column_is_json(c), f, &len);
}

/* One value: a parameter, typed by its column. An object or array for a
 * column that is not json (a composite, an array, a range written as
 * JSON) goes through json_populate_record, so PostgreSQL converts it with
 * the rules PostgREST's json_populate_recordset applies; the parameter is
 * then {"column": value}, built by the glue. */
static void put_value(sql_writer *w, const ar_relation *rel, const ar_column *c,
                      const char *value, ar_value_kind kind)
{
    if ((kind == AR_VAL_OBJECT || kind == AR_VAL_ARRAY) && !ar_column_is_json(c)) {
        sqlw_put(w, apr_pstrcat(w->p, "(json_populate_record(NULL::", sqlw_table(w, rel),
                                ", ", NULL));
        sqlw_param(w, value, "json");
        sqlw_put(w, apr_pstrcat(w->p, "))." , ar_sql_quote_ident(w->p, c->name), NULL));
        return;
    }
    sqlw_param(w, value, NULL);
}

static void put_column_list(sql_writer *w, const apr_array_header_t *cols)
{
    int i;

    sqlw_put(w, "(");
    for (i = 0; i < cols->nelts; i++) {
        if (i)
            sqlw_put(w, ", ");
        sqlw_put(w, ar_sql_quote_ident(w->p, APR_ARRAY_IDX(cols, i, const ar_column *)->name));
    }
    sqlw_put(w, ")");
}

static void put_insert(sql_writer *w, const ar_write_plan *plan, const ar_write_row *rows,
                       int nrows)
{
    const apr_array_header_t *cols = plan->columns;
    int r, i;

    sqlw_put(w, apr_pstrcat(w->p, "INSERT INTO ", sqlw_table(w, plan->relation), NULL));
    if (cols->nelts == 0) {
        /* {} rows: every column takes its default */
        sqlw_put(w, apr_psprintf(w->p, " SELECT FROM generate_series(1, %d)", nrows));
    }
    else {
        sqlw_put(w, " ");
        put_column_list(w, cols);
        sqlw_put(w, " VALUES ");
        for (r = 0; r < nrows; r++) {
            sqlw_put(w, r ? ", (" : "(");
            for (i = 0; i < cols->nelts; i++) {
                const ar_column *c = APR_ARRAY_IDX(cols, i, const ar_column *);
                if (i)
                    sqlw_put(w, ", ");
                if (rows[r].absent[i] && plan->missing_default)
                    sqlw_put(w, "DEFAULT");
                else
                    put_value(w, plan->relation, c, rows[r].absent[i] ? NULL : rows[r].values[i],
                              rows[r].kinds[i]);
            }
            sqlw_put(w, ")");
        }
    }
    if (plan->conflict && plan->resolution != AR_RESOLVE_NONE) {
        sqlw_put(w, " ON CONFLICT ");
        put_column_list(w, plan->conflict);
        if (plan->resolution == AR_RESOLVE_IGNORE || cols->nelts == 0) {
            sqlw_put(w, " DO NOTHING");
        }
        else {
            /* merge: the body's columns take the new values, the others
             * keep theirs (PostgREST sets only the payload's) */
            sqlw_put(w, " DO UPDATE SET ");
            for (i = 0; i < cols->nelts; i++) {
                const char *name =
                    ar_sql_quote_ident(w->p, APR_ARRAY_IDX(cols, i, const ar_column *)->name);
                sqlw_put(w, apr_pstrcat(w->p, i ? ", " : "", name, " = EXCLUDED.", name, NULL));
            }
        }
    }
}

static void put_update(sql_writer *w, const ar_write_plan *plan, const ar_write_row *row)
{
    int i;

    sqlw_put(w, apr_pstrcat(w->p, "UPDATE ", sqlw_table(w, plan->relation), " SET ", NULL));
    for (i = 0; i < plan->columns->nelts; i++) {
        const ar_column *c = APR_ARRAY_IDX(plan->columns, i, const ar_column *);
        sqlw_put(w, apr_pstrcat(w->p, i ? ", " : "", ar_sql_quote_ident(w->p, c->name), " = ",
                                NULL));
        put_value(w, plan->relation, c, row->values[i], row->kinds[i]);
    }
    sqlw_where(w, &plan->read);
}

static void put_key_columns(sql_writer *w, const ar_relation *rel)
{
    int i;

    for (i = 0; i < rel->primary_key->cols->nelts; i++) {
        const ar_column *c =
            &APR_ARRAY_IDX(rel->columns, APR_ARRAY_IDX(rel->primary_key->cols, i, int), ar_column);
        sqlw_put(w, ", ");
        sqlw_field(w, c, NULL);
    }
}

/* Whether the statement says of each row if it was inserted (not merged
 * into an existing one): PostgREST answers 200 to an upsert that inserted
 * nothing. A row a table's INSERT ... ON CONFLICT wrote anew has xmax 0;
 * views have no xmax, so they say nothing. */
int ar_sql_write_tells_inserted(const ar_write_plan *plan)
{
    return plan->conflict && plan->resolution == AR_RESOLVE_MERGE && plan->columns->nelts
           && (plan->relation->kind == 'r' || plan->relation->kind == 'p');
}

void ar_sql_render_write(apr_pool_t *p, const ar_write_plan *plan, const ar_write_row *rows,
                         int nrows, ar_sql *out)
{
    sql_writer w;
    int key_back = plan->key_back && plan->relation->primary_key;
    int inserted = ar_sql_write_tells_inserted(plan);

    sqlw_init(&w, p, &plan->read, out);
    if (plan->representation)
        sqlw_put(&w, apr_pstrcat(p, "WITH ", plan->read.source, " AS (", NULL));
    switch (plan->kind) {
    case AR_WRITE_INSERT:
    case AR_WRITE_PUT:
        put_insert(&w, plan, rows, nrows);
        break;
    case AR_WRITE_UPDATE:
        put_update(&w, plan, rows);
        break;
    default:
        sqlw_put(&w, apr_pstrcat(p, "DELETE FROM ", sqlw_table(&w, plan->relation), NULL));
        sqlw_where(&w, &plan->read);
        break;
    }
    /* After the columns the encoders read: the key, for Location, then
     * whether the row was inserted. */
    if (plan->representation) {
        sqlw_put(&w, inserted ? " RETURNING *, (xmax = 0) AS ar_inserted) SELECT "
                              : " RETURNING *) SELECT ");
        sqlw_select_list(&w, &plan->read);
        if (key_back)
            put_key_columns(&w, plan->relation);
        if (inserted)
            sqlw_put(&w, ", ar_inserted");
        sqlw_put(&w, apr_pstrcat(p, " FROM ", plan->read.source, NULL));
        sqlw_order_by(&w, plan->read.order);
    }
    else if (key_back || inserted) {
        sqlw_put(&w, " RETURNING NULL");
        if (key_back)
            put_key_columns(&w, plan->relation);
        if (inserted)
            sqlw_put(&w, ", (xmax = 0)");
    }
    sqlw_done(&w);
}

const char *ar_sql_render_copy(apr_pool_t *p, const ar_write_plan *plan)
{
    ar_sql sql;
    sql_writer w;

    sqlw_init(&w, p, &plan->read, &sql);
    sqlw_put(&w, apr_pstrcat(p, "COPY ", sqlw_table(&w, plan->relation), " ", NULL));
    put_column_list(&w, plan->columns);
    sqlw_put(&w, " FROM STDIN");
    sqlw_done(&w);
    return sql.text;
}

void ar_copy_write_row(ar_out *o, int ncols, const ar_write_row *row)
{
    int i;

    for (i = 0; i < ncols; i++) {
        const char *v = row->absent[i] ? NULL : row->values[i];
        const char *run;

        if (i)
            ar_out_write(o, "\t", 1);
        if (!v) {
            ar_out_write(o, "\\N", 2);
            continue;
        }
        /* runs of plain bytes at once; the four COPY cares about escaped */
        for (run = v; *v; v++) {
            const char *esc = *v == '\\' ? "\\\\" : *v == '\t' ? "\\t" : *v == '\n' ? "\\n"
                              : *v == '\r' ? "\\r" : NULL;
            if (!esc)
                continue;
            ar_out_write(o, run, (apr_size_t)(v - run));
            ar_out_write(o, esc, 2);
            run = v + 1;
        }
        ar_out_write(o, run, (apr_size_t)(v - run));
    }
    ar_out_write(o, "\n", 1);
}
