/*
 * sql.c: a plan written as SQL text with $n placeholders and bound values.
 *
 * Pure core. Identifiers come only from the plan's resolved columns and are
 * always quoted; every value the client sent is a bound parameter, typed by
 * PostgreSQL from its context (so "abc" against an integer column is the
 * database's 22P02, a 400). Keys of JSON paths are parameters too, cast to
 * text or int so the -> operator is not ambiguous.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <jansson.h>

#include "autorest.h"
#include "sql_writer.h"

const char *ar_sql_quote_ident(apr_pool_t *p, const char *name)
{
    apr_size_t n = 0;
    const char *s;
    char *out, *o;

    for (s = name; *s; s++)
        n += (*s == '"') ? 2 : 1;
    out = o = apr_palloc(p, n + 3);
    *o++ = '"';
    for (s = name; *s; s++) {
        if (*s == '"')
            *o++ = '"';
        *o++ = *s;
    }
    *o++ = '"';
    *o = '\0';
    return out;
}


void sqlw_put(sql_writer *w, const char *s)
{
    APR_ARRAY_PUSH(w->parts, const char *) = s;
}

void sqlw_param(sql_writer *w, const char *value, const char *cast)
{
    APR_ARRAY_PUSH(w->sql->params, const char *) = value;
    sqlw_put(w, apr_psprintf(w->p, cast ? "$%d::%s" : "$%d", w->sql->params->nelts, cast));
}


const char *sqlw_table(sql_writer *w, const ar_relation *rel)
{
    if (rel->quoted)
        return rel->quoted;
    return apr_pstrcat(w->p, ar_sql_quote_ident(w->p, rel->schema), ".",
                       ar_sql_quote_ident(w->p, rel->name), NULL);
}

void sqlw_init(sql_writer *w, apr_pool_t *p, const ar_read_plan *plan, ar_sql *sql)
{
    w->p = p;
    w->qual = NULL;
    w->grouped = 0;
    w->top = plan->call ? SQLW_CALL_ALIAS
             : plan->source ? plan->source : sqlw_table(w, plan->relation);
    w->parts = apr_array_make(p, 32, sizeof(const char *));
    w->sql = sql;
    sql->params = apr_array_make(p, 4, sizeof(const char *));
}

void sqlw_done(sql_writer *w)
{
    w->sql->text = apr_array_pstrcat(w->p, w->parts, 0);
}

/* A column, or a JSON path into it. Non-JSON columns go through to_jsonb(),
 * as PostgREST does, so paths reach into composites and arrays too. */
void sqlw_field(sql_writer *w, const ar_column *c, const apr_array_header_t *path)
{
    const char *q = c->quoted ? c->quoted : ar_sql_quote_ident(w->p, c->name);
    int i;

    if (w->qual)
        q = apr_pstrcat(w->p, w->qual, ".", q, NULL);
    if (!path || path->nelts == 0) {
        sqlw_put(w, q);
        return;
    }
    sqlw_put(w, ar_column_is_json(c) ? q : apr_pstrcat(w->p, "to_jsonb(", q, ")", NULL));
    for (i = 0; i < path->nelts; i++) {
        const ar_path_step *st = &APR_ARRAY_IDX(path, i, ar_path_step);
        sqlw_put(w, st->as_text ? "->>(" : "->(");
        sqlw_param(w, st->key, st->is_index ? "int" : "text");
        sqlw_put(w, ")");
    }
}

static const char *embed_alias(sql_writer *w, const char *prefix, const ar_embed_plan *ep);

void sqlw_order_by(sql_writer *w, const apr_array_header_t *order)
{
    int i;

    for (i = 0; order && i < order->nelts; i++) {
        const ar_order_term *t = &APR_ARRAY_IDX(order, i, ar_order_term);
        sqlw_put(w, i ? ", " : " ORDER BY ");
        if (t->embed) {
            /* order=rel(col): the value of the parent's one related row */
            const char *saved = w->qual;

            sqlw_put(w, "(SELECT ");
            w->qual = embed_alias(w, "e", t->embed);
            sqlw_field(w, t->column, t->path);
            w->qual = saved;
            sqlw_embed_from_where(w, t->embed, w->qual ? w->qual : w->top);
            sqlw_put(w, ")");
        }
        else
            sqlw_field(w, t->column, t->path);
        if (t->desc)
            sqlw_put(w, " DESC");
        if (t->nulls != AR_NULLS_DEFAULT)
            sqlw_put(w, t->nulls == AR_NULLS_FIRST ? " NULLS FIRST" : " NULLS LAST");
    }
}

static void put_limit_offset(sql_writer *w, apr_int64_t limit, apr_int64_t offset);

/* ------------------------------------------------------------ embedding */

/*
 * An embedded resource is a correlated subquery in its parent's select list
 * that returns one JSON value per parent row, built by PostgreSQL with
 * to_json()'s rules (so its values have the fidelity the first issue asks
 * for without a second encoder): row_to_json of the related row for to-one,
 * json_agg of the related rows for to-many, json_build_array() ([]) when
 * there are none (no quoted literal: the statement's only quotes stay
 * those of identifiers, which the fuzz target checks). Each
 * embedded relation is aliased "e<id>" (and a junction "j<id>"): the alias
 * hides the relation's own name, so the parent, even the same table, is
 * still reachable as "schema"."name" at the top, or as its "e<id>" below.
 * One statement, one round trip: no query per parent row.
 */

static const char *embed_alias(sql_writer *w, const char *prefix, const ar_embed_plan *ep)
{
    return apr_psprintf(w->p, "\"%s%d\"", prefix, ep->id);
}

static const char *qualified(sql_writer *w, const char *qual, const char *column)
{
    return apr_pstrcat(w->p, qual, ".", ar_sql_quote_ident(w->p, column), NULL);
}

/* left.a = right.b AND ... over two lists of column names. */
static void put_column_pairs(sql_writer *w, const char *left, const apr_array_header_t *lcols,
                             const char *right, const apr_array_header_t *rcols)
{
    int k;

    for (k = 0; k < lcols->nelts && k < rcols->nelts; k++) {
        if (k)
            sqlw_put(w, " AND ");
        sqlw_put(w, qualified(w, left, APR_ARRAY_IDX(lcols, k, const char *)));
        sqlw_put(w, " = ");
        sqlw_put(w, qualified(w, right, APR_ARRAY_IDX(rcols, k, const char *)));
    }
}

static void put_embed_inner_conditions(sql_writer *w, const apr_array_header_t *embeds,
                                       const char *parent);

/* FROM the embedded relation (and its junction) WHERE it relates to the
 * parent row, whose columns parent qualifies. */
void sqlw_embed_from_where(sql_writer *w, const ar_embed_plan *ep, const char *parent)
{
    const ar_relationship *r = &ep->rel;
    const char *e = embed_alias(w, "e", ep);

    sqlw_put(w, apr_pstrcat(w->p, " FROM ", ar_sql_quote_ident(w->p, r->target->schema), ".",
                       ar_sql_quote_ident(w->p, r->target->name), " AS ", e, NULL));
    if (r->card == AR_CARD_M2M) {
        const char *j = embed_alias(w, "j", ep);

        sqlw_put(w, apr_pstrcat(w->p, " JOIN ", ar_sql_quote_ident(w->p, r->junction->schema), ".",
                           ar_sql_quote_ident(w->p, r->junction->name), " AS ", j, " ON ", NULL));
        put_column_pairs(w, j, r->fk_target->cols, e, r->fk_target->ref_cols);
        sqlw_put(w, " WHERE ");
        put_column_pairs(w, j, r->fk->cols, parent, r->fk->ref_cols);
    }
    else {
        sqlw_put(w, " WHERE ");
        if (r->fk_on_parent)
            put_column_pairs(w, e, r->fk->ref_cols, parent, r->fk->cols);
        else
            put_column_pairs(w, e, r->fk->cols, parent, r->fk->ref_cols);
    }
    if (ep->where) {
        const char *saved = w->qual;

        w->qual = e;
        sqlw_put(w, " AND ");
        sqlw_cond(w, ep->where);
        w->qual = saved;
    }
    put_embed_inner_conditions(w, ep->embeds, e);
}

/* " AND EXISTS (...)" for every !inner embed of a level: a parent row
 * without a related row is not in the result. */
static void put_embed_inner_conditions(sql_writer *w, const apr_array_header_t *embeds,
                                       const char *parent)
{
    int i;

    for (i = 0; embeds && i < embeds->nelts; i++) {
        const ar_embed_plan *ep = APR_ARRAY_IDX(embeds, i, const ar_embed_plan *);
        if (!ep->inner)
            continue;
        sqlw_put(w, " AND EXISTS (SELECT 1");
        sqlw_embed_from_where(w, ep, parent);
        sqlw_put(w, ")");
    }
}

static void put_embed(sql_writer *w, const ar_embed_plan *ep, const char *parent);
static void put_output_column(sql_writer *w, int top, ar_media media, const ar_output_column *oc);
static void put_group_by(sql_writer *w, const apr_array_header_t *columns);

/* The select list of an embedded level: every column under its key, which
 * row_to_json and json_agg turn into the object's keys, in order. It may be
 * empty (rel(other()) selects only a filter): PostgreSQL takes a select
 * list of none, and each related row is {} then, as at the top. */
static void put_embed_columns(sql_writer *w, const ar_embed_plan *ep)
{
    const char *saved = w->qual, *e = embed_alias(w, "e", ep);
    int i;

    w->qual = e;
    for (i = 0; i < ep->columns->nelts; i++) {
        if (i)
            sqlw_put(w, ", ");
        put_output_column(w, 0, AR_MEDIA_JSON, &APR_ARRAY_IDX(ep->columns, i, ar_output_column));
    }
    w->qual = saved;
}

/* (subquery): the embedded resource of the parent row as one JSON value. */
static void put_embed(sql_writer *w, const ar_embed_plan *ep, const char *parent)
{
    const char *r = embed_alias(w, "r", ep);
    int many = ep->rel.card == AR_CARD_O2M || ep->rel.card == AR_CARD_M2M;
    const char *row = many ? r : apr_pstrcat(w->p, "row_to_json(", r, ")", NULL);
    int parent_grouped = w->grouped;

    w->grouped = ep->grouped;
    sqlw_put(w, many ? apr_pstrcat(w->p, "(SELECT coalesce(json_agg(", row, "), json_build_array())",
                              " FROM (SELECT ", NULL)
                : apr_pstrcat(w->p, "(SELECT ", row, " FROM (SELECT ", NULL));
    put_embed_columns(w, ep);
    sqlw_embed_from_where(w, ep, parent);
    if (ep->grouped) {
        const char *saved = w->qual;

        w->qual = embed_alias(w, "e", ep);
        put_group_by(w, ep->columns);
        w->qual = saved;
    }
    if (ep->order || ep->limit != AR_UNSET || ep->offset > 0) {
        const char *saved = w->qual;

        w->qual = embed_alias(w, "e", ep);
        sqlw_order_by(w, ep->order);
        w->qual = saved;
        put_limit_offset(w, ep->limit, ep->offset);
    }
    sqlw_put(w, apr_pstrcat(w->p, ") AS ", r, ")", NULL));
    w->grouped = parent_grouped;
}

/* A column of a spread to-one resource (...rel(cols)) is read from the
 * parent row's one related row: "(SELECT " before its expression, which
 * the resource's alias qualifies, and its FROM after. What a level groups
 * by is this whole subquery, as its select list has it. */
static const char *open_spread(sql_writer *w, const ar_output_column *oc)
{
    const char *saved = w->qual;

    sqlw_put(w, "(SELECT ");
    w->qual = embed_alias(w, "e", oc->spread);
    return saved;
}

static void close_spread(sql_writer *w, const ar_output_column *oc, const char *saved)
{
    w->qual = saved;
    sqlw_embed_from_where(w, oc->spread, w->qual ? w->qual : w->top);
    sqlw_put(w, ")");
}

/* A column's value: the column or path, cast where asked, through its
 * spread resource's subquery where it has one. */
static void put_value(sql_writer *w, const ar_output_column *oc)
{
    const char *saved = oc->spread ? open_spread(w, oc) : NULL;

    if (oc->cast)
        sqlw_put(w, "(");
    sqlw_field(w, oc->column, oc->path);
    if (oc->cast)
        sqlw_put(w, apr_pstrcat(w->p, ")::", oc->cast, NULL));
    if (oc->spread)
        close_spread(w, oc, saved);
}

/* One output column's expression, without its name. At the top the
 * encoders need: PostgreSQL's text (CSV, and the plain column), to_json()
 * for casts and composites; inside an embedded resource (row_to_json takes
 * the values as they are) the column, cast, or path. */
static void put_aggregate_expr(sql_writer *w, int top, ar_media media,
                               const ar_output_column *oc)
{
    static const char *const names[] = {"", "count", "sum", "avg", "min", "max"};
    int wrap = top && media != AR_MEDIA_CSV && oc->enc == AR_ENC_JSON;

    if (wrap)
        sqlw_put(w, "to_json(");
    if (oc->agg_cast)
        sqlw_put(w, "(");
    sqlw_put(w, names[oc->agg]);
    sqlw_put(w, "(");
    if (oc->count_rows)
        sqlw_put(w, "*");
    else
        put_value(w, oc);
    sqlw_put(w, ")");
    if (oc->agg_cast)
        sqlw_put(w, apr_pstrcat(w->p, ")::", oc->agg_cast, NULL));
    if (wrap)
        sqlw_put(w, ")");
}

static void put_column_expr(sql_writer *w, int top, ar_media media, const ar_output_column *oc)
{
    int wrap;

    if (oc->agg) {
        put_aggregate_expr(w, top, media, oc);
        return;
    }
    if (oc->embed) {
        /* grouped by: json has no equality, its text has */
        int as_text = w->grouped;
        const char *saved = oc->spread ? open_spread(w, oc) : NULL;

        put_embed(w, oc->embed, w->qual ? w->qual : w->top); /* (SELECT ...) */
        if (as_text)
            sqlw_put(w, "::text");
        if (oc->spread)
            close_spread(w, oc, saved);
        return;
    }
    wrap = top && media != AR_MEDIA_CSV
           && (oc->cast || (!oc->path && oc->column->enc == AR_ENC_SQL_JSON));
    if (wrap)
        sqlw_put(w, "to_json(");
    put_value(w, oc);
    if (wrap)
        sqlw_put(w, ")");
}

/* A column as the select list has it: its expression (an embedded
 * resource that groups the rows back from its text to JSON), then AS its
 * name where that differs. */
static void put_output_column(sql_writer *w, int top, ar_media media, const ar_output_column *oc)
{
    int grouped_embed = oc->embed && w->grouped;

    if (grouped_embed)
        sqlw_put(w, "(");
    put_column_expr(w, top, media, oc);
    if (grouped_embed)
        sqlw_put(w, ")::json");
    if (!top || oc->agg || oc->spread || oc->embed || oc->cast || oc->path || media == AR_MEDIA_CSV
        || oc->column->enc == AR_ENC_SQL_JSON || strcmp(oc->name, oc->column->name) != 0)
        sqlw_put(w, apr_pstrcat(w->p, " AS ", ar_sql_quote_ident(w->p, oc->name), NULL));
}

void sqlw_select_list(sql_writer *w, const ar_read_plan *plan)
{
    int i;

    for (i = 0; i < plan->columns->nelts; i++) {
        if (i)
            sqlw_put(w, ", ");
        put_output_column(w, 1, plan->media,
                          &APR_ARRAY_IDX(plan->columns, i, ar_output_column));
    }
    if (plan->columns->nelts == 0)
        sqlw_put(w, "NULL"); /* every column hidden: {} rows */
    if (plan->keyset) {
        /* The order terms the columns do not carry, after them: the last
         * row's values make the next page's cursor. */
        int first_extra = plan->columns->nelts ? plan->columns->nelts : 1;

        for (i = 0; i < plan->order->nelts; i++) {
            const ar_order_term *t = &APR_ARRAY_IDX(plan->order, i, ar_order_term);
            if (plan->key_columns && plan->key_columns[i] < first_extra)
                continue;
            sqlw_put(w, ", ");
            sqlw_field(w, t->column, t->path);
        }
    }
}

static int nulls_last(const ar_order_term *t)
{
    return t->nulls == AR_NULLS_LAST || (t->nulls == AR_NULLS_DEFAULT && !t->desc);
}

static int may_be_null(const ar_order_term *t)
{
    return t->path || t->column->nullable;
}

/* Rows strictly after the cursor's values in the plan's order. The common
 * case (all terms one direction, no NULLs possible) is a row comparison an
 * index range scan serves; otherwise the expanded form, NULL-aware:
 *   t1 after v1 OR (t1 = v1 AND t2 after v2) OR ... */
static void put_keyset(sql_writer *w, const ar_read_plan *plan)
{
    int i, j, n = plan->order->nelts, simple = 1;

    for (i = 0; i < n; i++) {
        const ar_order_term *t = &APR_ARRAY_IDX(plan->order, i, ar_order_term);
        simple &= !may_be_null(t) && plan->after[i] != NULL
                  && t->desc == APR_ARRAY_IDX(plan->order, 0, ar_order_term).desc;
    }
    if (simple) {
        sqlw_put(w, "(");
        for (i = 0; i < n; i++) {
            const ar_order_term *t = &APR_ARRAY_IDX(plan->order, i, ar_order_term);
            if (i)
                sqlw_put(w, ", ");
            sqlw_field(w, t->column, t->path);
        }
        sqlw_put(w, APR_ARRAY_IDX(plan->order, 0, ar_order_term).desc ? ") < (" : ") > (");
        for (i = 0; i < n; i++) {
            if (i)
                sqlw_put(w, ", ");
            sqlw_param(w, plan->after[i], NULL);
        }
        sqlw_put(w, ")");
        return;
    }
    sqlw_put(w, "(");
    for (i = 0; i < n; i++) {
        const ar_order_term *t = &APR_ARRAY_IDX(plan->order, i, ar_order_term);
        const char *v = plan->after[i];

        sqlw_put(w, i ? " OR (" : "(");
        for (j = 0; j < i; j++) {
            const ar_order_term *e = &APR_ARRAY_IDX(plan->order, j, ar_order_term);
            sqlw_field(w, e->column, e->path);
            if (plan->after[j]) {
                sqlw_put(w, " = ");
                sqlw_param(w, plan->after[j], NULL);
            }
            else {
                sqlw_put(w, " IS NULL");
            }
            sqlw_put(w, " AND ");
        }
        if (!v) {
            /* After NULL come only the non-NULLs, when NULLs sort first. */
            if (nulls_last(t)) {
                sqlw_put(w, "false");
            }
            else {
                sqlw_field(w, t->column, t->path);
                sqlw_put(w, " IS NOT NULL");
            }
        }
        else {
            sqlw_put(w, "(");
            sqlw_field(w, t->column, t->path);
            sqlw_put(w, t->desc ? " < " : " > ");
            sqlw_param(w, v, NULL);
            if (nulls_last(t) && may_be_null(t)) {
                sqlw_put(w, " OR ");
                sqlw_field(w, t->column, t->path);
                sqlw_put(w, " IS NULL");
            }
            sqlw_put(w, ")");
        }
        sqlw_put(w, ")");
    }
    sqlw_put(w, ")");
}

static int has_inner(const apr_array_header_t *embeds)
{
    int i;

    for (i = 0; embeds && i < embeds->nelts; i++)
        if (APR_ARRAY_IDX(embeds, i, const ar_embed_plan *)->inner)
            return 1;
    return 0;
}

int sqlw_where(sql_writer *w, const ar_read_plan *plan)
{
    int where = 0;

    if (plan->pk_column) {
        sqlw_put(w, " WHERE ");
        sqlw_field(w, plan->pk_column, NULL);
        sqlw_put(w, " = ");
        sqlw_param(w, plan->pk_value, NULL);
        where = 1;
    }
    if (plan->where && plan->where->children && plan->where->children->nelts) {
        sqlw_put(w, where ? " AND " : " WHERE ");
        sqlw_cond(w, plan->where);
        where = 1;
    }
    return where;
}

/* FROM and the plan's conditions; whether it wrote a WHERE, so the keyset
 * predicate knows whether it is the first condition. */
int sqlw_from_where(sql_writer *w, const ar_read_plan *plan)
{
    int where = 0;

    if (plan->call)
        sqlw_call_from(w, plan->call);
    else
        sqlw_put(w, apr_pstrcat(w->p, " FROM ", w->top, NULL));
    where = sqlw_where(w, plan);
    if (has_inner(plan->embeds)) {
        sqlw_put(w, where ? "" : " WHERE true");
        put_embed_inner_conditions(w, plan->embeds, w->top);
        where = 1;
    }
    return where;
}

/* LIMIT is written as a number, not bound: it is an integer the parser
 * checked and the planner capped, never client text. PostgreSQL cannot plan
 * "LIMIT $1" once: its generic plan assumes a tenth of the table, so the
 * plan cache plans every execution anew (pgbench -M prepared on L1's query:
 * 0.153 ms of the server's CPU per query with LIMIT $1, 0.124 with LIMIT
 * 101). Page sizes are few, so statements stay few. OFFSET, which changes
 * with every page, stays a parameter. */
static void put_limit_offset(sql_writer *w, apr_int64_t limit, apr_int64_t offset)
{
    if (limit != AR_UNSET)
        sqlw_put(w, apr_psprintf(w->p, " LIMIT %" APR_INT64_T_FMT, limit));
    if (offset > 0) {
        sqlw_put(w, " OFFSET ");
        sqlw_param(w, apr_psprintf(w->p, "%" APR_INT64_T_FMT, offset), NULL);
    }
}


/* With aggregates: GROUP BY every other column, as its expression is
 * selected (but for to_json around it, which changes no group, and an
 * embedded resource's ::json), so that PostgreSQL finds each selected
 * expression among the groups'. */
static void put_group_by(sql_writer *w, const apr_array_header_t *columns)
{
    int i, first = 1;

    for (i = 0; i < columns->nelts; i++) {
        const ar_output_column *oc = &APR_ARRAY_IDX(columns, i, ar_output_column);

        if (oc->agg)
            continue;
        sqlw_put(w, first ? " GROUP BY " : ", ");
        first = 0;
        put_column_expr(w, 0, AR_MEDIA_JSON, oc);
    }
}

void ar_sql_render_read(apr_pool_t *p, const ar_read_plan *plan, ar_sql *out)
{
    sql_writer w;
    int where;

    sqlw_init(&w, p, plan, out);
    w.grouped = plan->grouped;
    sqlw_put(&w, "SELECT ");
    sqlw_select_list(&w, plan);
    if (plan->call && plan->count != AR_COUNT_NONE)
        sqlw_put(&w, ", count(*) OVER ()"); /* the call runs once: see ar_call_plan */
    where = sqlw_from_where(&w, plan);
    if (plan->after) {
        sqlw_put(&w, where ? " AND " : " WHERE ");
        put_keyset(&w, plan);
    }
    if (plan->grouped)
        put_group_by(&w, plan->columns);
    sqlw_order_by(&w, plan->order);
    put_limit_offset(&w, plan->limit == AR_UNSET ? AR_UNSET
                                                 : plan->limit + (plan->probe_next ? 1 : 0),
                     plan->offset);
    sqlw_done(&w);
}

void ar_sql_render_parent(apr_pool_t *p, const ar_read_plan *plan, ar_sql *out)
{
    sql_writer w;

    sqlw_init(&w, p, plan, out);
    sqlw_put(&w, apr_pstrcat(p, "SELECT 1 FROM ", sqlw_table(&w, plan->parent), " WHERE ", NULL));
    sqlw_field(&w, plan->parent_pk, NULL);
    sqlw_put(&w, " = ");
    sqlw_param(&w, plan->parent_value, NULL);
    sqlw_done(&w);
}

void ar_sql_render_count(apr_pool_t *p, const ar_read_plan *plan, ar_count how,
                         apr_int64_t threshold, ar_sql *out)
{
    sql_writer w;

    sqlw_init(&w, p, plan, out);
    w.grouped = plan->grouped;
    switch (how) {
    case AR_COUNT_PLANNED:
        sqlw_put(&w, "EXPLAIN (FORMAT JSON) SELECT 1");
        sqlw_from_where(&w, plan);
        if (plan->grouped)
            put_group_by(&w, plan->columns);
        break;
    case AR_COUNT_ESTIMATED:
        sqlw_put(&w, "SELECT count(*) FROM (SELECT 1");
        sqlw_from_where(&w, plan);
        if (plan->grouped)
            put_group_by(&w, plan->columns);
        put_limit_offset(&w, threshold + 1, 0);
        sqlw_put(&w, ") AS bounded");
        break;
    default:
        if (plan->grouped) {
            /* the groups are the rows */
            sqlw_put(&w, "SELECT count(*) FROM (SELECT 1");
            sqlw_from_where(&w, plan);
            put_group_by(&w, plan->columns);
            sqlw_put(&w, ") AS groups");
        }
        else {
            sqlw_put(&w, "SELECT count(*)");
            sqlw_from_where(&w, plan);
        }
    }
    sqlw_done(&w);
}

apr_int64_t ar_sql_plan_rows(const char *explain_json)
{
    /* Integers as reals: PostgreSQL prints estimates past 2^63 in digits
     * that no JSON integer holds. */
    json_t *doc = explain_json ? json_loads(explain_json, JSON_DECODE_INT_AS_REAL, NULL) : NULL;
    json_t *rows = json_object_get(json_object_get(json_array_get(doc, 0), "Plan"),
                                   "Plan Rows");
    double n = json_is_number(rows) ? json_number_value(rows) : 0;

    json_decref(doc);
    if (!(n > 0))
        return 0;
    return n >= (double)AR_MAX_COUNT ? AR_MAX_COUNT : (apr_int64_t)n;
}
