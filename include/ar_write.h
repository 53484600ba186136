/*
 * ar_write.h: writes (POST, PATCH, PUT, DELETE and bulk loads) checked
 * against the schema (plan_write.c) and written as INSERT, UPDATE, DELETE or
 * COPY with bound values (sql_write.c). Pure core, included at the end of
 * autorest.h.
 */
#ifndef AR_WRITE_H
#define AR_WRITE_H

/* A write checked against the schema. Its filters (PATCH, DELETE, PUT) and
 * the shape of what it answers with (select=, embeds, order, media) are a
 * read plan: with return=representation, that read runs over the rows the
 * statement returned, in the same statement. */
typedef struct {
    ar_write_kind kind;
    const ar_relation *relation;
    apr_array_header_t *columns;     /* const ar_column *: what the body sets, in its
                                      * order; empty until ar_plan_write_columns */
    apr_array_header_t *conflict;    /* const ar_column *: ON CONFLICT's target (upsert,
                                      * PUT), or NULL */
    ar_resolution resolution;        /* PUT: merge */
    int missing_default;
    ar_read_plan read;               /* filters and the representation */
    int representation;              /* return=representation: rows come back */
    int key_back;                    /* a single object's insert: its key makes Location */
    const char *const *put_values;   /* PUT: the key's values from the filters, by
                                      * conflict column */
} ar_write_plan;

/* allow_unfiltered: AutoRestAllowUnfiltered; else PATCH and DELETE need a
 * filter (pg-safeupdate's 21000). */
ar_error *ar_plan_write(apr_pool_t *p, const ar_schema *s, const ar_exposure *x,
                        const ar_read_request *req, int allow_unfiltered, ar_write_plan *out);
/* The columns the body sets (columns=, the union of its keys, or a CSV
 * header): each must be shown here and writable by this method. */
ar_error *ar_plan_write_columns(apr_pool_t *p, const ar_exposure *x, ar_write_plan *plan,
                                const char *const *names, int n);

/* One row of a body, by the plan's columns: each value as PostgreSQL's
 * text input reads it for its column (NULL for SQL NULL), or absent (the
 * body did not name it: NULL, or the column's default with missing=default). */
typedef struct {
    const char **values;
    const ar_value_kind *kinds;      /* AR_VAL_OBJECT/ARRAY into a column that is not
                                      * json: PostgreSQL converts (json_populate_record) */
    const unsigned char *absent;
} ar_write_row;

/* INSERT (with ON CONFLICT for upsert and PUT) of nrows rows; UPDATE of the
 * first row's values; DELETE. With the plan's representation, the read
 * over the affected rows; a single insert's key (key_back) otherwise. */
void ar_sql_render_write(apr_pool_t *p, const ar_write_plan *plan, const ar_write_row *rows,
                         int nrows, ar_sql *out);
/* COPY relation (the plan's columns) FROM STDIN, and one row in COPY's
 * text format: tab between values, \N for NULL (and for an absent value:
 * the COPY path is not taken with missing=default), backslash escapes. */
const char *ar_sql_render_copy(apr_pool_t *p, const ar_write_plan *plan);
void ar_copy_write_row(ar_out *o, int ncols, const ar_write_row *row);
/* The statement's rows end with a boolean: inserted anew, not merged
 * (upserts into tables). */
int ar_sql_write_tells_inserted(const ar_write_plan *plan);
/* A JSON value of a body as text input for column c: strings unescaped,
 * numbers and nested values as sent; a json/jsonb column takes any value's
 * JSON text as it stood. */
const char *ar_write_value_text(const ar_column *c, const ar_body_field *f);
/* The same, for a column already known to be json (or not), with its length. */
const char *ar_write_value(int json_column, const ar_body_field *f, apr_size_t *len);

#endif
