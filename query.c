/*
 * query.c: from what the client asked to the SQL that answers it.
 *
 * Pure core, three stages, each testable alone:
 *   ar_query_parse      path + query string + Range -> ar_read_request
 *   ar_plan_read        request checked against the schema -> ar_read_plan
 *   ar_sql_render_read  plan -> SQL text with $n placeholders + bound values
 * Identifiers come only from the reflected schema and are always quoted;
 * client values only ever travel as bound parameters.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_lib.h>

#include "autorest.h"

/* ---------------------------------------------------------------- parse */

/* A non-negative decimal integer that fits in 63 bits, nothing else. */
static int parse_count(const char *s, apr_int64_t *out)
{
    apr_int64_t v = 0;

    if (!*s)
        return 0;
    for (; *s; s++) {
        if (!apr_isdigit(*s))
            return 0;
        if (v > (APR_INT64_MAX - 9) / 10)
            return 0;
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return 1;
}

/* Query strings use + for space and %XX; returns NULL on a bad escape. */
static char *form_decode(apr_pool_t *p, const char *s, apr_size_t len)
{
    char *out = apr_palloc(p, len + 1), *o = out;
    apr_size_t i;

    for (i = 0; i < len; i++) {
        if (s[i] == '+')
            *o++ = ' ';
        else if (s[i] == '%') {
            if (i + 2 >= len || !apr_isxdigit(s[i + 1]) || !apr_isxdigit(s[i + 2]))
                return NULL;
            {
                char hex[3] = {s[i + 1], s[i + 2], 0};
                *o++ = (char)strtol(hex, NULL, 16);
            }
            i += 2;
        }
        else
            *o++ = s[i];
    }
    *o = '\0';
    if (strlen(out) != (apr_size_t)(o - out))
        return NULL; /* %00 */
    return out;
}

static ar_error *bad_param(apr_pool_t *p, const char *name, const char *value)
{
    return ar_error_make(p, AR_ERR_BAD_PARAM,
                         apr_psprintf(p, "'%s' must be a non-negative integer", name),
                         apr_psprintf(p, "got '%s'", value), NULL);
}

/* "a-b", "a-" (items). */
static ar_error *parse_range(apr_pool_t *p, const char *range, const char *unit,
                             ar_read_request *out)
{
    const char *dash;
    apr_int64_t first, last;
    char *a;

    if (unit && strcasecmp(unit, "items") != 0)
        return ar_error_make(p, AR_ERR_BAD_RANGE, "Range-Unit must be 'items'",
                             NULL, NULL);
    /* RFC 7233 style "items=0-9" is accepted as well as PostgREST's "0-9". */
    if (strncasecmp(range, "items=", 6) == 0)
        range += 6;
    dash = strchr(range, '-');
    if (!dash)
        goto bad;
    a = apr_pstrmemdup(p, range, (apr_size_t)(dash - range));
    if (!parse_count(a, &first))
        goto bad;
    if (dash[1] == '\0') {
        out->offset = first;
        out->ranged = 1;
        return NULL;
    }
    if (!parse_count(dash + 1, &last))
        goto bad;
    if (last < first)
        return ar_error_make(p, AR_ERR_RANGE_UNSATISFIABLE,
                             "Requested range not satisfiable",
                             apr_psprintf(p, "the range ends before it starts: %s", range),
                             NULL);
    out->offset = first;
    out->limit = last - first + 1;
    out->ranged = 1;
    return NULL;
bad:
    return ar_error_make(p, AR_ERR_BAD_RANGE, "the Range header could not be read",
                         apr_psprintf(p, "expected 'first-last' or 'first-' in items, got '%s'",
                                      range),
                         "Range: 0-24");
}

static ar_error *parse_path(apr_pool_t *p, const char *path, ar_read_request *out)
{
    const char *rel, *slash;

    while (*path == '/')
        path++;
    if (!*path)
        return NULL; /* the index */
    rel = path;
    slash = strchr(rel, '/');
    if (!slash) {
        out->relation = apr_pstrdup(p, rel);
        return NULL;
    }
    out->relation = apr_pstrmemdup(p, rel, (apr_size_t)(slash - rel));
    if (slash[1] == '\0')
        return NULL; /* "/rel/" is the collection */
    if (strchr(slash + 1, '/'))
        return ar_error_make(p, AR_ERR_NO_ROUTE, "no such resource",
                             apr_psprintf(p, "'%s' has more segments than "
                                             "<relation>/<primary key>", path),
                             NULL);
    out->pk_value = apr_pstrdup(p, slash + 1);
    return NULL;
}

ar_error *ar_query_parse(apr_pool_t *p, const char *path, const char *args,
                         const char *range, const char *range_unit,
                         ar_read_request *out)
{
    ar_error *e;
    int have_limit = 0, have_offset = 0;

    memset(out, 0, sizeof(*out));
    out->limit = AR_UNSET;
    out->offset = 0;
    if ((e = parse_path(p, path, out)) != NULL)
        return e;

    while (args && *args) {
        const char *amp = strchr(args, '&');
        apr_size_t len = amp ? (apr_size_t)(amp - args) : strlen(args);
        const char *eq = memchr(args, '=', len);
        char *name, *value;

        if (len == 0) {
            args++;
            continue;
        }
        name = form_decode(p, args, eq ? (apr_size_t)(eq - args) : len);
        value = eq ? form_decode(p, eq + 1, len - (apr_size_t)(eq - args) - 1) : "";
        if (!name || !value)
            return ar_error_make(p, AR_ERR_BAD_PARAM,
                                 "the query string has a malformed %-escape", NULL, NULL);
        if (strcmp(name, "limit") == 0) {
            if (have_limit++ || !parse_count(value, &out->limit))
                return have_limit > 1
                    ? ar_error_make(p, AR_ERR_BAD_PARAM, "'limit' is given twice", NULL, NULL)
                    : bad_param(p, name, value);
        }
        else if (strcmp(name, "offset") == 0) {
            if (have_offset++ || !parse_count(value, &out->offset))
                return have_offset > 1
                    ? ar_error_make(p, AR_ERR_BAD_PARAM, "'offset' is given twice", NULL, NULL)
                    : bad_param(p, name, value);
        }
        else {
            return ar_error_make(p, AR_ERR_UNKNOWN_PARAM,
                                 apr_psprintf(p, "unknown query parameter '%s'", name),
                                 NULL, "the parameters understood here are limit and offset");
        }
        args += len;
        if (*args == '&')
            args++;
    }

    /* The Range header narrows what the parameters asked for, as in PostgREST. */
    if (range && *range) {
        ar_read_request r = *out;
        if ((e = parse_range(p, range, range_unit, &r)) != NULL)
            return e;
        if (r.offset > APR_INT64_MAX - out->offset)
            return ar_error_make(p, AR_ERR_BAD_RANGE, "the Range starts too far out",
                                 NULL, NULL);
        out->offset += r.offset;
        if (r.limit != AR_UNSET && (out->limit == AR_UNSET || r.limit < out->limit))
            out->limit = r.limit;
        out->ranged = 1;
    }
    if ((out->relation == NULL || out->pk_value) && (have_limit || have_offset || out->ranged))
        return ar_error_make(p, AR_ERR_UNKNOWN_PARAM,
                             "pagination applies to collections only", NULL, NULL);
    return NULL;
}

/* ----------------------------------------------------------------- plan */

static const ar_column *column_at(const ar_relation *rel, int idx)
{
    return &APR_ARRAY_IDX(rel->columns, idx, ar_column);
}

/* Primary key, else the first unique key whose columns are all NOT NULL:
 * either makes the order total. Without one, the visible sortable columns in
 * position order, after the columns of a nullable unique key if there is
 * one: deterministic whenever rows differ in those columns. Hidden columns
 * never join that fallback, so their values do not shape what is shown. */
static apr_array_header_t *default_order(apr_pool_t *p, const ar_relation *rel,
                                         const ar_exposure *x)
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

ar_error *ar_plan_read(apr_pool_t *p, const ar_schema *s, const ar_exposure *x,
                       const ar_read_request *req, apr_int64_t max_rows,
                       ar_read_plan *out)
{
    const ar_relation *rel = ar_resolve_relation(s, x, req->relation);
    int i;

    memset(out, 0, sizeof(*out));
    if (!rel)
        return ar_error_make(p, AR_ERR_NO_RELATION,
                             apr_psprintf(p, "relation '%s' does not exist", req->relation),
                             NULL, "GET the index of this API to see what it serves");
    out->relation = rel;
    out->columns = apr_array_make(p, rel->columns->nelts, sizeof(ar_output_column));
    for (i = 0; i < rel->columns->nelts; i++) {
        const ar_column *c = column_at(rel, i);
        ar_output_column *oc;

        if (!ar_exposed_column(x, rel, c))
            continue;
        oc = apr_array_push(out->columns);
        oc->column = c;
        oc->enc = c->enc == AR_ENC_SQL_JSON ? AR_ENC_JSON : c->enc;
        oc->elem_enc = c->elem_enc;
    }

    if (req->pk_value) {
        const ar_key *pk = rel->primary_key;
        const ar_column *c;

        if (!pk || pk->cols->nelts != 1)
            return ar_error_make(p, AR_ERR_NO_ROUTE, "no such resource",
                                 apr_psprintf(p, "'%s' has no single-column primary key",
                                              req->relation),
                                 NULL);
        c = column_at(rel, APR_ARRAY_IDX(pk->cols, 0, int));
        /* A hidden key column cannot be probed by value either. */
        if (!ar_exposed_column(x, rel, c))
            return ar_error_make(p, AR_ERR_NO_ROUTE, "no such resource",
                                 apr_psprintf(p, "'%s' has no single-column primary key",
                                              req->relation),
                                 NULL);
        out->pk_column = c;
        out->pk_value = req->pk_value;
        out->single = 1;
        out->limit = 1;
        out->order = apr_array_make(p, 1, sizeof(const ar_column *));
        return NULL;
    }

    out->order = default_order(p, rel, x);
    out->offset = req->offset;
    out->limit = req->limit;
    if (max_rows > 0 && (out->limit == AR_UNSET || out->limit > max_rows))
        out->limit = max_rows;
    out->probe_next = out->limit != AR_UNSET;
    return NULL;
}

/* ------------------------------------------------------------------ sql */

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

static const char *bind_value(apr_pool_t *p, ar_sql *sql, const char *value)
{
    APR_ARRAY_PUSH(sql->params, const char *) = value;
    return apr_psprintf(p, "$%d", sql->params->nelts);
}

void ar_sql_render_read(apr_pool_t *p, const ar_read_plan *plan, ar_sql *out)
{
    const ar_relation *rel = plan->relation;
    apr_array_header_t *parts = apr_array_make(p, 16, sizeof(const char *));
    int i;

    out->params = apr_array_make(p, 4, sizeof(const char *));
    APR_ARRAY_PUSH(parts, const char *) = "SELECT ";
    for (i = 0; i < plan->columns->nelts; i++) {
        const ar_output_column *oc = &APR_ARRAY_IDX(plan->columns, i, ar_output_column);
        const char *q = ar_sql_quote_ident(p, oc->column->name);

        if (i)
            APR_ARRAY_PUSH(parts, const char *) = ", ";
        if (oc->column->enc == AR_ENC_SQL_JSON)
            APR_ARRAY_PUSH(parts, const char *) =
                apr_pstrcat(p, "to_json(", q, ") AS ", q, NULL);
        else
            APR_ARRAY_PUSH(parts, const char *) = q;
    }
    if (plan->columns->nelts == 0)
        APR_ARRAY_PUSH(parts, const char *) = "NULL"; /* every column hidden: {} rows */
    APR_ARRAY_PUSH(parts, const char *) = apr_pstrcat(
        p, " FROM ", ar_sql_quote_ident(p, rel->schema), ".",
        ar_sql_quote_ident(p, rel->name), NULL);
    if (plan->pk_column) {
        APR_ARRAY_PUSH(parts, const char *) = apr_pstrcat(
            p, " WHERE ", ar_sql_quote_ident(p, plan->pk_column->name), " = ",
            bind_value(p, out, plan->pk_value), NULL);
    }
    for (i = 0; i < plan->order->nelts; i++) {
        const ar_column *c = APR_ARRAY_IDX(plan->order, i, const ar_column *);
        APR_ARRAY_PUSH(parts, const char *) = i ? ", " : " ORDER BY ";
        APR_ARRAY_PUSH(parts, const char *) = ar_sql_quote_ident(p, c->name);
    }
    if (plan->limit != AR_UNSET) {
        apr_int64_t fetch = plan->limit + (plan->probe_next ? 1 : 0);
        APR_ARRAY_PUSH(parts, const char *) = apr_pstrcat(
            p, " LIMIT ", bind_value(p, out, apr_psprintf(p, "%" APR_INT64_T_FMT, fetch)), NULL);
    }
    if (plan->offset > 0) {
        APR_ARRAY_PUSH(parts, const char *) = apr_pstrcat(
            p, " OFFSET ",
            bind_value(p, out, apr_psprintf(p, "%" APR_INT64_T_FMT, plan->offset)), NULL);
    }
    out->text = apr_array_pstrcat(p, parts, 0);
}
