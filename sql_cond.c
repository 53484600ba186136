/*
 * sql_cond.c: a plan's conditions written as SQL: filters, their
 * operators, in's list as one array value, full-text search, and the
 * EXISTS of a filter on an embedded resource.
 *
 * Pure core, in sql.c's writer (sql_writer.h): columns come quoted from
 * the plan, every value the client sent is a bound parameter.
 */
#include <string.h>

#include <apr_strings.h>

#include "autorest.h"
#include "sql_writer.h"

static const char *binary_operator(ar_op op)
{
    switch (op) {
    case AR_OP_EQ: return " = ";
    case AR_OP_NEQ: return " <> ";
    case AR_OP_GT: return " > ";
    case AR_OP_GTE: return " >= ";
    case AR_OP_LT: return " < ";
    case AR_OP_LTE: return " <= ";
    case AR_OP_LIKE: return " LIKE ";
    case AR_OP_ILIKE: return " ILIKE ";
    case AR_OP_MATCH: return " ~ ";
    case AR_OP_IMATCH: return " ~* ";
    case AR_OP_ISDISTINCT: return " IS DISTINCT FROM ";
    case AR_OP_CS: return " @> ";
    case AR_OP_CD: return " <@ ";
    case AR_OP_OV: return " && ";
    case AR_OP_SL: return " << ";
    case AR_OP_SR: return " >> ";
    case AR_OP_NXR: return " &< ";
    case AR_OP_NXL: return " &> ";
    case AR_OP_ADJ: return " -|- ";
    default: return NULL;
    }
}

static const char *tsquery_function(ar_op op)
{
    switch (op) {
    case AR_OP_PLFTS: return "plainto_tsquery(";
    case AR_OP_PHFTS: return "phraseto_tsquery(";
    case AR_OP_WFTS: return "websearch_to_tsquery(";
    default: return "to_tsquery(";
    }
}

/* {"a","b",NULL}: in's list (or a VARIADIC argument's) as one array value,
 * quoted for array syntax. */
const char *sqlw_array_literal(apr_pool_t *p, const apr_array_header_t *values)
{
    apr_array_header_t *parts = apr_array_make(p, values->nelts * 2 + 2, sizeof(const char *));
    int i;

    APR_ARRAY_PUSH(parts, const char *) = "{";
    for (i = 0; i < values->nelts; i++) {
        const char *v = APR_ARRAY_IDX(values, i, const char *);
        char *q, *o;

        if (i)
            APR_ARRAY_PUSH(parts, const char *) = ",";
        if (!v) {
            APR_ARRAY_PUSH(parts, const char *) = "NULL";
            continue;
        }
        q = o = apr_palloc(p, strlen(v) * 2 + 3);
        *o++ = '"';
        for (; *v; v++) {
            if (*v == '"' || *v == '\\')
                *o++ = '\\';
            *o++ = *v;
        }
        *o++ = '"';
        *o = '\0';
        APR_ARRAY_PUSH(parts, const char *) = q;
    }
    APR_ARRAY_PUSH(parts, const char *) = "}";
    return apr_array_pstrcat(p, parts, 0);
}

static void put_leaf(sql_writer *w, const ar_cond *c)
{
    const ar_column *col = c->field.ref;

    if (c->embed) {
        /* rel=is.null: no related row (anti-join); not null, has and any:
         * some (semi-join), counting only the related rows the embed's own
         * filters keep */
        sqlw_put(w, c->op == AR_OP_IS && c->is_value == AR_IS_NULL ? "NOT EXISTS (SELECT 1"
                                                             : "EXISTS (SELECT 1");
        sqlw_embed_from_where(w, c->embed, w->qual ? w->qual : w->top);
        sqlw_put(w, ")");
        return;
    }

    switch (c->op) {
    case AR_OP_IS: {
        static const char *const tests[] = {" IS NULL", " IS NOT NULL", " IS TRUE",
                                            " IS FALSE", " IS UNKNOWN"};
        sqlw_field(w, col, c->field.path);
        sqlw_put(w, tests[c->is_value]);
        return;
    }
    case AR_OP_IN:
        sqlw_field(w, col, c->field.path);
        sqlw_put(w, " = ANY(");
        sqlw_param(w, sqlw_array_literal(w->p, c->values), NULL);
        sqlw_put(w, ")");
        return;
    case AR_OP_FTS: case AR_OP_PLFTS: case AR_OP_PHFTS: case AR_OP_WFTS: {
        int tsvector = !c->field.path && strcmp(col->type, "tsvector") == 0;
        if (!tsvector) {
            /* Text (or JSON) is searched as PostgreSQL would index it. */
            sqlw_put(w, "to_tsvector(");
            if (c->language) {
                sqlw_param(w, c->language, "regconfig");
                sqlw_put(w, ", ");
            }
        }
        sqlw_field(w, col, c->field.path);
        sqlw_put(w, tsvector ? " @@ " : ") @@ ");
        sqlw_put(w, tsquery_function(c->op));
        if (c->language) {
            sqlw_param(w, c->language, "regconfig");
            sqlw_put(w, ", ");
        }
        sqlw_param(w, c->value, NULL);
        sqlw_put(w, ")");
        return;
    }
    default:
        break;
    }
    sqlw_field(w, col, c->field.path);
    sqlw_put(w, binary_operator(c->op));
    if (c->other) {
        sqlw_field(w, c->other->ref, c->other->path);
        return;
    }
    if (c->quant != AR_QUANT_NONE) {
        sqlw_put(w, c->quant == AR_QUANT_ANY ? "ANY(" : "ALL(");
        sqlw_param(w, c->value, NULL);
        sqlw_put(w, ")");
        return;
    }
    sqlw_param(w, c->value, NULL);
}

void sqlw_cond(sql_writer *w, const ar_cond *c)
{
    int i;

    if (c->negated)
        sqlw_put(w, "NOT (");
    if (c->kind == AR_COND_LEAF) {
        put_leaf(w, c);
    }
    else if (c->children->nelts == 0) {
        sqlw_put(w, c->kind == AR_COND_AND ? "true" : "false");
    }
    else {
        sqlw_put(w, "(");
        for (i = 0; i < c->children->nelts; i++) {
            if (i)
                sqlw_put(w, c->kind == AR_COND_AND ? " AND " : " OR ");
            sqlw_cond(w, APR_ARRAY_IDX(c->children, i, const ar_cond *));
        }
        sqlw_put(w, ")");
    }
    if (c->negated)
        sqlw_put(w, ")");
}
