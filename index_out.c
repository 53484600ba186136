/*
 * index_out.c: the index document, {"relations":[...]} (and "functions"
 * where calls are served), that the Location's root answers when OpenAPI is
 * not asked for: each exposed relation with its URL, columns, key and the
 * methods the caller's role may use on it.
 *
 * Pure core: no httpd, no libpq. Built through jansson: it is small, built
 * once per request that asks for it, and not on the rows' path.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <jansson.h>

#include "autorest.h"
#include "ar_call.h"

static json_t *text_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static const char *relation_kind(char kind)
{
    switch (kind) {
    case 'r': return "table";
    case 'v': return "view";
    case 'm': return "materialized_view";
    case 'f': return "foreign_table";
    case 'p': return "partitioned_table";
    }
    return "unknown";
}

/* The path segment a relation is served under: its name in the default
 * schema, schema.name elsewhere. Percent-encodes what a path cannot hold. */
char *ar_relation_segment(apr_pool_t *p, const ar_exposure *x, const ar_relation *rel)
{
    const char *dflt = APR_ARRAY_IDX(x->schemas, 0, const char *);
    const char *raw = strcmp(rel->schema, dflt) == 0
                          ? rel->name
                          : apr_pstrcat(p, rel->schema, ".", rel->name, NULL);
    char *out = apr_palloc(p, strlen(raw) * 3 + 1), *o = out;

    for (; *raw; raw++) {
        unsigned char c = (unsigned char)*raw;
        if (apr_isalnum(c) || strchr("-._~", c))
            *o++ = (char)c;
        else {
            *o++ = '%';
            *o++ = "0123456789ABCDEF"[c >> 4];
            *o++ = "0123456789ABCDEF"[c & 15];
        }
    }
    *o = '\0';
    return out;
}

/* The methods of the Location that the role's privileges permit on rel. */
static json_t *index_methods(apr_pool_t *p, const ar_relation *rel, int methods,
                             apr_hash_t *writable)
{
    json_t *list = json_array();
    int bits = ar_relation_methods(rel, methods, ar_role_can(p, rel, writable)), bit;

    for (bit = AR_METHOD_GET; bit <= AR_METHOD_DELETE; bit <<= 1)
        if (bits & bit)
            json_array_append_new(list, json_string(ar_method_name(bit)));
    return list;
}

static json_t *index_relation(apr_pool_t *p, const ar_exposure *x, const ar_relation *rel,
                              const char *base_url, int methods, apr_hash_t *writable)
{
    json_t *j = json_object(), *cols = json_array(), *pk = json_null();
    int i;

    json_object_set_new(j, "name", json_string(rel->name));
    json_object_set_new(j, "schema", json_string(rel->schema));
    json_object_set_new(j, "kind", json_string(relation_kind(rel->kind)));
    json_object_set_new(j, "comment", text_or_null(rel->comment));
    json_object_set_new(j, "url", json_string(apr_pstrcat(
                               p, base_url, "/", ar_relation_segment(p, x, rel), NULL)));
    if (rel->primary_key) {
        /* A key with a hidden column is not shown at all: naming it would
         * reveal the column, and /<relation>/<pk> does not serve it. */
        pk = json_array();
        for (i = 0; pk && i < rel->primary_key->cols->nelts; i++) {
            const ar_column *c = &APR_ARRAY_IDX(
                rel->columns, APR_ARRAY_IDX(rel->primary_key->cols, i, int), ar_column);
            if (ar_exposed_column(x, rel, c)) {
                json_array_append_new(pk, json_string(c->name));
            }
            else {
                json_decref(pk);
                pk = NULL;
            }
        }
        if (!pk)
            pk = json_null();
    }
    json_object_set_new(j, "primary_key", pk);
    json_object_set_new(j, "methods", index_methods(p, rel, methods, writable));
    for (i = 0; i < rel->columns->nelts; i++) {
        const ar_column *c = &APR_ARRAY_IDX(rel->columns, i, ar_column);
        json_t *col;

        if (!ar_exposed_column(x, rel, c))
            continue;
        col = json_object();
        json_object_set_new(col, "name", json_string(c->name));
        json_object_set_new(col, "type", json_string(c->type));
        json_object_set_new(col, "nullable", json_boolean(c->nullable));
        json_object_set_new(col, "default", text_or_null(c->default_expr));
        json_object_set_new(col, "comment", text_or_null(c->comment));
        json_object_set_new(col, "insertable",
                            json_boolean(c->insertable && (rel->writable & AR_CAN_INSERT)));
        json_object_set_new(col, "updatable",
                            json_boolean(c->updatable && (rel->writable & AR_CAN_UPDATE)));
        json_array_append_new(cols, col);
    }
    json_object_set_new(j, "columns", cols);
    return j;
}

/* "integer", "setof s.items", "void", or for OUT parameters and TABLE(...)
 * the columns: "(x integer, y integer)". */
static const char *index_returns(apr_pool_t *p, const ar_routine *r)
{
    const char *t = r->return_type;

    if (r->returns == AR_RETURNS_VOID)
        return "void";
    if (r->out_params) {
        int i;

        t = "(";
        for (i = 0; i < r->result->columns->nelts; i++) {
            const ar_column *c = &APR_ARRAY_IDX(r->result->columns, i, ar_column);
            t = apr_pstrcat(p, t, i ? ", " : "", c->name, " ", c->type, NULL);
        }
        t = apr_pstrcat(p, t, ")", NULL);
    }
    return r->setof ? apr_pstrcat(p, "setof ", t, NULL) : t;
}

/* One function as the index lists it: how to call it and what it returns. */
static json_t *index_routine(apr_pool_t *p, const ar_routine *r, const char *base_url)
{
    json_t *o = json_object(), *args = json_array(), *methods = json_array();
    int i;

    json_object_set_new(o, "name", json_string(r->name));
    json_object_set_new(o, "schema", json_string(r->schema));
    json_object_set_new(o, "url", json_string(apr_pstrcat(p, base_url, "/rpc/", r->name, NULL)));
    for (i = 0; i < r->args->nelts; i++) {
        const ar_routine_arg *a = &APR_ARRAY_IDX(r->args, i, ar_routine_arg);
        json_t *arg = json_object();

        json_object_set_new(arg, "name", json_string(a->name));
        json_object_set_new(arg, "type", json_string(a->type));
        json_object_set_new(arg, "required", json_boolean(!a->has_default));
        if (a->variadic)
            json_object_set_new(arg, "variadic", json_true());
        json_array_append_new(args, arg);
    }
    json_object_set_new(o, "arguments", args);
    json_object_set_new(o, "returns", json_string(index_returns(p, r)));
    json_object_set_new(o, "volatility",
                        json_string(r->procedure ? "procedure"
                                    : r->volatility == 'i' ? "immutable"
                                    : r->volatility == 's' ? "stable"
                                                           : "volatile"));
    if (r->volatility != 'v' && !r->procedure) {
        json_array_append_new(methods, json_string("GET"));
        json_array_append_new(methods, json_string("HEAD"));
    }
    json_array_append_new(methods, json_string("POST"));
    json_object_set_new(o, "methods", methods);
    if (r->comment)
        json_object_set_new(o, "description", json_string(r->comment));
    return o;
}

char *ar_json_index(apr_pool_t *p, const ar_schema *s, const ar_exposure *x,
                    const char *base_url, int methods, int rpc, apr_hash_t *writable,
                    apr_size_t *len)
{
    json_t *doc = json_object(), *rels = json_array();
    char *text, *copy;
    int i;

    for (i = 0; i < s->relations->nelts; i++) {
        const ar_relation *rel = APR_ARRAY_IDX(s->relations, i, const ar_relation *);
        if (ar_exposed_relation(x, rel))
            json_array_append_new(rels, index_relation(p, x, rel, base_url, methods, writable));
    }
    json_object_set_new(doc, "relations", rels);
    if (rpc != AR_RPC_OFF) {
        json_t *fns = json_array();

        for (i = 0; s->routines && i < s->routines->nelts; i++) {
            const ar_routine *r = APR_ARRAY_IDX(s->routines, i, const ar_routine *);
            if (ar_exposed_routine(x, r) && (rpc == AR_RPC_ALL || r->volatility != 'v'))
                json_array_append_new(fns, index_routine(p, r, base_url));
        }
        json_object_set_new(doc, "functions", fns);
    }
    text = json_dumps(doc, JSON_PRESERVE_ORDER | JSON_COMPACT);
    json_decref(doc);
    if (!text)
        return NULL;
    *len = strlen(text);
    copy = apr_pmemdup(p, text, *len + 1);
    free(text);
    return copy;
}
