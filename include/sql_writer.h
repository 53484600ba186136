/*
 * sql_writer.h: the statement writer that sql.c (reads, counts),
 * sql_cond.c (conditions), sql_write.c (writes) and sql_call.c (calls) share.
 * Core-internal: not for the glue.
 *
 * A statement is a list of text pieces joined once at the end, and the
 * values bound so far; every piece of client text goes in as a value.
 */
#ifndef AR_SQL_WRITER_H
#define AR_SQL_WRITER_H

#include "autorest.h"

typedef struct {
    apr_pool_t *p;
    apr_array_header_t *parts;
    ar_sql *sql;
    const char *qual;       /* inside an embedded resource: its alias, which
                             * qualifies every column; NULL at the top */
    const char *top;        /* the top relation as embedded subqueries name it */
    int grouped;            /* the level being written groups its rows (aggregates) */
} sql_writer;

/* "schema"."name": the top relation as embedded subqueries name it, and
 * what a write writes to. */
const char *sqlw_table(sql_writer *w, const ar_relation *rel);
void sqlw_init(sql_writer *w, apr_pool_t *p, const ar_read_plan *plan, ar_sql *sql);
void sqlw_done(sql_writer *w);
void sqlw_put(sql_writer *w, const char *s);
/* $n (with ::cast unless NULL) bound to value; value NULL is SQL NULL. */
void sqlw_param(sql_writer *w, const char *value, const char *cast);
/* A column of the top relation (qualified inside an embed), or a JSON path in it. */
void sqlw_field(sql_writer *w, const ar_column *c, const apr_array_header_t *path);
/* A condition tree (sql_cond.c). */
void sqlw_cond(sql_writer *w, const ar_cond *c);
/* " FROM <the embedded relation> WHERE <it relates to parent's row> AND <its
 * filters>": what an embed's subquery, an EXISTS and an order by a related
 * column select from. */
void sqlw_embed_from_where(sql_writer *w, const ar_embed_plan *ep, const char *parent);
/* The read plan's select list, as the encoders want it. */
void sqlw_select_list(sql_writer *w, const ar_read_plan *plan);
void sqlw_order_by(sql_writer *w, const apr_array_header_t *order);
/* " WHERE ..." of the key of /relation/pk and the filters (nothing when
 * there are none); whether a WHERE was written. */
int sqlw_where(sql_writer *w, const ar_read_plan *plan);
/* " FROM <top> WHERE ..." of a read plan; whether a WHERE was written. */
int sqlw_from_where(sql_writer *w, const ar_read_plan *plan);
/* {"a","b",NULL} of values for an array parameter. */
const char *sqlw_array_literal(apr_pool_t *p, const apr_array_header_t *values);

/* What a call's rows are named in the statement. */
#define SQLW_CALL_ALIAS "\"ar_call\""
/* " FROM <the call> AS \"ar_call\"" (sql_call.c). */
void sqlw_call_from(sql_writer *w, const ar_call_plan *call);

#endif
