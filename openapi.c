/*
 * openapi.c: the OpenAPI 3.1 document of one Location for one caller.
 *
 * Built from the same snapshot and exposure rules that route requests, so it
 * names exactly what a request could reach: a path per exposed relation and
 * function, the methods the Location serves and the caller's privileges
 * allow, the query grammar's parameters, and a schema per relation in
 * components.schemas from the reflected types (JSON Schema 2020-12, which
 * OpenAPI 3.1 uses: "nullable" is a type union with "null"). Hidden columns
 * and excluded relations are skipped before anything is written, so no
 * part of the document can carry them.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <jansson.h>

#include "ar_openapi.h"

#define REF_SCHEMAS "#/components/schemas/"
#define REF_PARAMS "#/components/parameters/"
#define REF_RESPONSES "#/components/responses/"

/* Query words of the grammar: a column of that name gets no filter parameter
 * of its own (a request could not filter by it under that name either). */
static const char *const reserved_words[] = {
    "select", "order", "limit", "offset", "on_conflict", "columns", "and", "or", "not", NULL,
};

static int reserved(const char *name)
{
    int i;

    for (i = 0; reserved_words[i]; i++)
        if (strcmp(name, reserved_words[i]) == 0)
            return 1;
    return 0;
}

static void allow_null(json_t *j);

static json_t *ref(apr_pool_t *p, const char *base, const char *key)
{
    return json_pack("{s:s}", "$ref", apr_pstrcat(p, base, key, NULL));
}

static json_t *typed(const char *type, const char *format)
{
    json_t *j = json_pack("{s:s}", "type", type);

    if (format)
        json_object_set_new(j, "format", json_string(format));
    return j;
}

/* "character varying(20)" -> 20 when the type starts with prefix and carries a length. */
static int type_length(const char *type, const char *prefix)
{
    size_t n = strlen(prefix);

    if (strncmp(type, prefix, n) != 0 || type[n] != '(')
        return -1;
    return atoi(type + n + 1);
}

json_t *ar_openapi_type_schema(const char *type, const apr_array_header_t *labels)
{
    size_t len = strlen(type);
    int n;

    if (len > 2 && strcmp(type + len - 2, "[]") == 0) {
        char *inner = strndup(type, len - 2);
        json_t *items = inner ? ar_openapi_type_schema(inner, labels) : json_object();

        free(inner);
        allow_null(items); /* an array's elements may be NULL */
        return json_pack("{s:s,s:o}", "type", "array", "items", items);
    }
    if (labels) {
        json_t *e = json_array();
        int i;

        for (i = 0; i < labels->nelts; i++)
            json_array_append_new(e, json_string(APR_ARRAY_IDX(labels, i, const char *)));
        return json_pack("{s:s,s:o}", "type", "string", "enum", e);
    }
    if (strcmp(type, "integer") == 0)
        return typed("integer", "int32");
    if (strcmp(type, "smallint") == 0)
        return json_pack("{s:s,s:s,s:i,s:i}", "type", "integer", "format", "int32",
                         "minimum", -32768, "maximum", 32767);
    if (strcmp(type, "bigint") == 0)
        return typed("integer", "int64");
    if (strcmp(type, "real") == 0)
        return typed("number", "float");
    if (strcmp(type, "double precision") == 0)
        return typed("number", "double");
    if (strncmp(type, "numeric", 7) == 0)
        return typed("number", NULL);
    if (strcmp(type, "boolean") == 0)
        return typed("boolean", NULL);
    if (strcmp(type, "json") == 0 || strcmp(type, "jsonb") == 0)
        return json_pack("{s:s}", "description", "any JSON value");
    if (strcmp(type, "uuid") == 0)
        return typed("string", "uuid");
    if (strcmp(type, "date") == 0)
        return typed("string", "date");
    if (strncmp(type, "timestamp", 9) == 0)
        return typed("string", "date-time");
    if (strncmp(type, "time", 4) == 0)
        return typed("string", "time");
    if ((n = type_length(type, "character varying")) >= 0
        || (n = type_length(type, "character")) >= 0 || (n = type_length(type, "bit")) >= 0
        || (n = type_length(type, "bit varying")) >= 0) {
        json_t *j = typed("string", NULL);
        json_object_set_new(j, "maxLength", json_integer(n));
        return j;
    }
    return NULL; /* not one the name tells: the caller decides by encoding */
}

/* By how the encoders write it, for types the name does not tell (domains,
 * composites, ranges, extension types). */
static json_t *encoding_schema(ar_encoding enc, ar_encoding elem)
{
    switch (enc) {
    case AR_ENC_NUMBER:
        return typed("number", NULL);
    case AR_ENC_BOOL:
        return typed("boolean", NULL);
    case AR_ENC_TIMESTAMP:
        return typed("string", "date-time");
    case AR_ENC_ARRAY: {
        json_t *items = encoding_schema(elem, elem);
        allow_null(items);
        return json_pack("{s:s,s:o}", "type", "array", "items", items);
    }
    case AR_ENC_STRING:
        return typed("string", NULL);
    default:
        return json_pack("{s:s}", "description", "any JSON value");
    }
}

/* nullable: a type union with "null" (and null among an enum's values). */
static void allow_null(json_t *j)
{
    json_t *t = json_object_get(j, "type");
    json_t *e = json_object_get(j, "enum");

    if (json_is_string(t))
        json_object_set_new(j, "type", json_pack("[s,s]", json_string_value(t), "null"));
    if (json_is_array(e))
        json_array_append_new(e, json_null());
}

static json_t *column_schema(const ar_column *c, int read_only)
{
    json_t *j = ar_openapi_type_schema(c->type, c->enum_labels);

    if (!j)
        j = encoding_schema(c->enc, c->elem_enc);
    if (c->nullable)
        allow_null(j);
    if (c->comment)
        json_object_set_new(j, "description", json_string(c->comment));
    if (read_only)
        json_object_set_new(j, "readOnly", json_true());
    return j;
}

/* components.schemas keys allow [A-Za-z0-9._-] only: others become '_', and
 * a name already taken gets a counter. */
static const char *component_key(apr_pool_t *p, apr_hash_t *taken, const char *name)
{
    char *k = apr_pstrdup(p, name), *c;
    const char *key = k;
    int n = 2;

    for (c = k; *c; c++)
        if (!apr_isalnum(*c) && !strchr("._-", *c))
            *c = '_';
    if (!*k)
        key = "_";
    while (apr_hash_get(taken, key, APR_HASH_KEY_STRING))
        key = apr_psprintf(p, "%s_%d", k, n++);
    apr_hash_set(taken, key, APR_HASH_KEY_STRING, "");
    return key;
}

/* The relation's object: its shown columns; required lists what an insert
 * must give (NOT NULL, no default, not generated). */
static json_t *relation_schema(const ar_exposure *x, const ar_relation *rel, json_t **required)
{
    json_t *props = json_object(), *j;
    int i;

    *required = json_array();
    for (i = 0; i < rel->columns->nelts; i++) {
        const ar_column *c = &APR_ARRAY_IDX(rel->columns, i, ar_column);

        if (!ar_exposed_column(x, rel, c))
            continue;
        json_object_set_new(props, c->name, column_schema(c, c->generated));
        if (!c->nullable && !c->has_default && !c->generated)
            json_array_append_new(*required, json_string(c->name));
    }
    j = json_pack("{s:s,s:o}", "type", "object", "properties", props);
    if (rel->comment)
        json_object_set_new(j, "description", json_string(rel->comment));
    return j;
}

static json_t *param_refs(apr_pool_t *p, const char *const *names)
{
    json_t *a = json_array();

    for (; *names; names++)
        json_array_append_new(a, ref(p, REF_PARAMS, *names));
    return a;
}

/* What a document shares between its paths: each relation's filters and its
 * rows as responses are written once in components and referred to from
 * every operation (a document of 1,000 tables is a third the size). */
typedef struct {
    json_t *parameters;     /* components.parameters */
    json_t *responses;      /* components.responses */
    apr_hash_t *taken;      /* the parameter keys given out */
} shared;

/* Refs to the named shared parameters, then to the relation's filters. */
static json_t *parameters(apr_pool_t *p, const char *const *names, json_t *filters)
{
    json_t *a = param_refs(p, names);

    json_array_extend(a, filters);
    return a;
}

/* The relation's filters, one per shown column, into components.parameters;
 * the refs to them. */
static int in_primary_key(const ar_relation *rel, int column)
{
    int i;

    for (i = 0; rel->primary_key && i < rel->primary_key->cols->nelts; i++)
        if (APR_ARRAY_IDX(rel->primary_key->cols, i, int) == column)
            return 1;
    return 0;
}

/* ... and *pk the refs to the primary key's alone (PUT names its row by
 * them), or NULL when the relation has none or a column of it is not shown. */
static json_t *filter_refs(apr_pool_t *p, const ar_exposure *x, const ar_relation *rel,
                           const char *key, shared *sh, json_t **pk)
{
    json_t *refs = json_array();
    int i, pk_shown = 0;

    *pk = rel->primary_key ? json_array() : NULL;

    for (i = 0; i < rel->columns->nelts; i++) {
        const ar_column *c = &APR_ARRAY_IDX(rel->columns, i, ar_column);
        const char *pkey;

        if (!ar_exposed_column(x, rel, c) || reserved(c->name))
            continue;
        pkey = component_key(p, sh->taken, apr_pstrcat(p, key, ".", c->name, NULL));
        json_object_set_new(sh->parameters, pkey,
                            json_pack("{s:s,s:s,s:{s:s},s:s}", "name", c->name, "in", "query",
                                      "schema", "type", "string", "description",
                                      apr_psprintf(p, "filter on %s (%s): operator.value",
                                                   c->name, c->type)));
        json_array_append_new(refs, ref(p, REF_PARAMS, pkey));
        if (*pk && in_primary_key(rel, i)) {
            json_array_append(*pk, json_array_get(refs, json_array_size(refs) - 1));
            pk_shown++;
        }
    }
    if (*pk && pk_shown != rel->primary_key->cols->nelts) {
        json_decref(*pk);
        *pk = NULL;
    }
    return refs;
}

/* The content of a response of rows: each media type the read side writes. */
static json_t *rows_content(json_t *item)
{
    json_t *c = json_object();

    json_object_set_new(c, "application/json",
                        json_pack("{s:{s:s,s:O}}", "schema", "type", "array", "items", item));
    json_object_set_new(c, "application/vnd.pgrst.object+json", json_pack("{s:O}", "schema", item));
    json_object_set_new(c, "application/x-ndjson",
                        json_pack("{s:{s:s,s:s}}", "schema", "type", "string", "description",
                                  "one JSON object per line"));
    json_object_set_new(c, "text/csv", json_pack("{s:{s:s}}", "schema", "type", "string"));
    json_decref(item);
    return c;
}

/* ok: the success response (a Response Object or a ref to one), taken. */
static json_t *responses(apr_pool_t *p, int ok_status, json_t *ok, int no_content)
{
    json_t *r = json_object();

    json_object_set_new(r, apr_itoa(p, ok_status), ok);
    if (no_content)
        json_object_set_new(r, "204", json_pack("{s:s}", "description",
                                                "done; no body (Prefer: return=minimal)"));
    json_object_set_new(r, "default", ref(p, REF_RESPONSES, "error"));
    return r;
}

static json_t *described(const char *what, json_t *content)
{
    return content ? json_pack("{s:s,s:o}", "description", what, "content", content)
                   : json_pack("{s:s}", "description", what);
}

static json_t *operation(const char *id, const char *summary, json_t *params, json_t *resp)
{
    json_t *op = json_pack("{s:s,s:s}", "operationId", id, "summary", summary);

    if (params)
        json_object_set_new(op, "parameters", params);
    json_object_set_new(op, "responses", resp);
    return op;
}

static json_t *body(json_t *json_schema, int csv)
{
    json_t *c = json_object();

    json_object_set_new(c, "application/json", json_pack("{s:o}", "schema", json_schema));
    if (csv)
        json_object_set_new(c, "text/csv", json_pack("{s:{s:s}}", "schema", "type", "string"));
    return json_pack("{s:b,s:o}", "required", 1, "content", c);
}

static const char *const read_params[] = {"select", "order", "limit", "offset", "Range",
                                          "Prefer", NULL};
static const char *const insert_params[] = {"select", "columns", "on_conflict", "Prefer", NULL};
static const char *const change_params[] = {"select", "Prefer", NULL};

static json_t *relation_path(apr_pool_t *p, const ar_exposure *x, const ar_openapi_options *o,
                             const ar_relation *rel, const char *key, json_t *required,
                             shared *sh)
{
    json_t *item = json_object(), *op, *pk_filters = NULL;
    json_t *filters = filter_refs(p, x, rel, key, sh, &pk_filters);
    int can = ar_role_can(p, rel, o->writable);
    const char *name = apr_pstrcat(p, rel->schema, ".", rel->name, NULL);
    json_t *row = ref(p, REF_SCHEMAS, key);
    json_t *rows = ref(p, REF_RESPONSES, key);

    json_object_set_new(sh->responses, key,
                        described(apr_pstrcat(p, "rows of ", name, NULL),
                                  rows_content(json_incref(row))));
    op = operation(apr_pstrcat(p, "read:", name, NULL), apr_pstrcat(p, "Read ", name, NULL),
                   parameters(p, read_params, filters),
                   responses(p, 200, json_incref(rows), 0));
    json_object_set_new(json_object_get(op, "responses"), "206",
                        json_pack("{s:s}", "description", "a part of the rows (Range)"));
    json_object_set_new(item, "get", op);
    if ((o->methods & AR_METHOD_POST) && (can & AR_CAN_INSERT)) {
        json_t *one = json_array_size(required)
                          ? json_pack("{s:[O,{s:O}]}", "allOf", row, "required", required)
                          : json_incref(row);
        op = operation(apr_pstrcat(p, "insert:", name, NULL),
                       apr_pstrcat(p, "Insert into ", name, " (or upsert with on_conflict)", NULL),
                       param_refs(p, insert_params), responses(p, 201, json_incref(rows), 0));
        json_object_set_new(op, "requestBody",
                            body(json_pack("{s:[o,{s:s,s:O}]}", "oneOf", one, "type", "array",
                                           "items", one), 1));
        json_object_set_new(item, "post", op);
    }
    if ((o->methods & AR_METHOD_PATCH) && (can & AR_CAN_UPDATE)) {
        op = operation(apr_pstrcat(p, "update:", name, NULL),
                       apr_pstrcat(p, "Update the rows of ", name, " the filters match", NULL),
                       parameters(p, change_params, filters),
                       responses(p, 200, json_incref(rows), 1));
        json_object_set_new(op, "requestBody", body(json_incref(row), 1));
        json_object_set_new(item, "patch", op);
    }
    if ((o->methods & AR_METHOD_PUT) && pk_filters
        && (can & (AR_CAN_INSERT | AR_CAN_UPDATE)) == (AR_CAN_INSERT | AR_CAN_UPDATE)) {
        op = operation(apr_pstrcat(p, "put:", name, NULL),
                       apr_pstrcat(p, "Insert or replace the one row of ", name,
                                   " its primary key's eq filters name", NULL),
                       parameters(p, change_params, pk_filters),
                       responses(p, 200, json_incref(rows), 1));
        json_object_set_new(op, "requestBody", body(json_incref(row), 1));
        json_object_set_new(item, "put", op);
    }
    if ((o->methods & AR_METHOD_DELETE) && (can & AR_CAN_DELETE))
        json_object_set_new(item, "delete",
                            operation(apr_pstrcat(p, "delete:", name, NULL),
                                      apr_pstrcat(p, "Delete the rows of ", name,
                                                  " the filters match", NULL),
                                      parameters(p, change_params, filters),
                                      responses(p, 200, json_incref(rows), 1)));
    json_decref(row);
    json_decref(rows);
    json_decref(filters);
    json_decref(pk_filters);
    return item;
}

/* What one call answers: rows of a served relation by reference, other rows
 * inline, a scalar's own schema; NULL for void. */
static json_t *routine_result(apr_pool_t *p, const ar_exposure *x, const ar_routine *r,
                              apr_hash_t *keys)
{
    const ar_relation *res = r->result;
    json_t *one;

    if (r->returns == AR_RETURNS_VOID || !res)
        return NULL;
    if (r->returns == AR_RETURNS_SCALAR && res->columns->nelts == 1) {
        const ar_column *c = &APR_ARRAY_IDX(res->columns, 0, ar_column);
        one = ar_openapi_type_schema(r->return_type, c->enum_labels);
        if (!one)
            one = encoding_schema(c->enc, c->elem_enc);
        allow_null(one);
    }
    else if (apr_hash_get(keys, &res, sizeof(res))) {
        one = ref(p, REF_SCHEMAS, apr_hash_get(keys, &res, sizeof(res)));
    }
    else {
        json_t *required;
        one = relation_schema(x, res, &required);
        json_decref(required);
    }
    return r->setof ? json_pack("{s:s,s:o}", "type", "array", "items", one) : one;
}

static json_t *arguments_schema(const ar_routine *r)
{
    json_t *props = json_object(), *req = json_array();
    int i;

    for (i = 0; i < r->args->nelts; i++) {
        const ar_routine_arg *a = &APR_ARRAY_IDX(r->args, i, ar_routine_arg);
        json_t *s;

        if (!*a->name)
            continue;
        s = ar_openapi_type_schema(a->type, NULL);
        if (!s)
            s = json_object();
        json_object_set_new(props, a->name, s);
        if (!a->has_default)
            json_array_append_new(req, json_string(a->name));
    }
    return json_pack("{s:s,s:o,s:o}", "type", "object", "properties", props, "required", req);
}

/* /rpc/<name>: every overload of one name (the exposed ones) in one path. */
static json_t *routine_path(apr_pool_t *p, const ar_exposure *x, const ar_openapi_options *o,
                            const apr_array_header_t *overloads, apr_hash_t *keys)
{
    const ar_routine *first = APR_ARRAY_IDX(overloads, 0, const ar_routine *);
    const char *name = apr_pstrcat(p, first->schema, ".", first->name, NULL);
    json_t *item = json_object(), *bodies = json_array(), *result = NULL, *getp = NULL;
    int i, by_get = 1;

    for (i = 0; i < overloads->nelts; i++) {
        const ar_routine *r = APR_ARRAY_IDX(overloads, i, const ar_routine *);
        json_array_append_new(bodies, arguments_schema(r));
        if (!result)
            result = routine_result(p, x, r, keys);
        if (r->volatility == 'v' || r->procedure)
            by_get = 0;
    }
    if (overloads->nelts == 1 && by_get) {
        getp = json_array();
        for (i = 0; i < first->args->nelts; i++) {
            const ar_routine_arg *a = &APR_ARRAY_IDX(first->args, i, ar_routine_arg);
            json_t *s;

            if (!*a->name || reserved(a->name))
                continue;
            s = ar_openapi_type_schema(a->type, NULL);
            json_array_append_new(getp, json_pack("{s:s,s:s,s:b,s:o}", "name", a->name, "in",
                                                  "query", "required", !a->has_default,
                                                  "schema", s ? s : json_object()));
        }
    }
    if (by_get) {
        json_t *params = getp ? getp : json_array();

        json_array_append_new(params, ref(p, REF_PARAMS, "select"));
        json_array_append_new(params, ref(p, REF_PARAMS, "order"));
        json_array_append_new(params, ref(p, REF_PARAMS, "limit"));
        json_object_set_new(item, "get",
                            operation(apr_pstrcat(p, "call-get:", name, NULL),
                                      apr_pstrcat(p, "Call ", name, " (read only)", NULL),
                                      params,
                                      responses(p, 200, described("the result", result ?
                                                json_pack("{s:{s:O}}", "application/json",
                                                          "schema", result) : NULL), 0)));
    }
    {
        json_t *op = operation(apr_pstrcat(p, "call:", name, NULL),
                               apr_pstrcat(p, "Call ", name, NULL), NULL,
                               responses(p, result ? 200 : 204,
                                         described(result ? "the result" : "done", result ?
                                                   json_pack("{s:{s:O}}", "application/json",
                                                             "schema", result) : NULL), 0));
        json_t *args = json_array_size(bodies) == 1 ? json_incref(json_array_get(bodies, 0))
                                                     : json_pack("{s:O}", "oneOf", bodies);
        json_object_set_new(op, "requestBody", body(args, 0));
        if (first->comment)
            json_object_set_new(op, "description", json_string(first->comment));
        json_object_set_new(item, "post", op);
    }
    json_decref(bodies);
    json_decref(result);
    return item;
}

static json_t *components_parameters(void)
{
    return json_pack(
        "{s:{s:s,s:s,s:s,s:{s:s}},s:{s:s,s:s,s:s,s:{s:s}},"
        "s:{s:s,s:s,s:s,s:{s:s,s:i}},s:{s:s,s:s,s:s,s:{s:s,s:i}},"
        "s:{s:s,s:s,s:s,s:{s:s}},s:{s:s,s:s,s:s,s:{s:s}},"
        "s:{s:s,s:s,s:s,s:{s:s}},s:{s:s,s:s,s:s,s:{s:s}}}",
        "select", "name", "select", "in", "query", "description",
        "the columns and embedded resources to return, e.g. id,name,other(*)", "schema",
        "type", "string",
        "order", "name", "order", "in", "query", "description",
        "the order: column[.asc|.desc][.nullsfirst|.nullslast], comma-separated", "schema",
        "type", "string",
        "limit", "name", "limit", "in", "query", "description",
        "at most this many rows (the Location's row cap still applies)", "schema", "type",
        "integer", "minimum", 0,
        "offset", "name", "offset", "in", "query", "description", "skip this many rows",
        "schema", "type", "integer", "minimum", 0,
        "on_conflict", "name", "on_conflict", "in", "query", "description",
        "the unique columns an upsert (Prefer: resolution=merge-duplicates) matches on",
        "schema", "type", "string",
        "columns", "name", "columns", "in", "query", "description",
        "the keys of the body's objects to insert", "schema", "type", "string",
        "Range", "name", "Range", "in", "header", "description",
        "rows by position, e.g. 0-24 (Range-Unit: items)", "schema", "type", "string",
        "Prefer", "name", "Prefer", "in", "header", "description",
        "return=minimal|headers-only|representation, count=exact|planned|estimated, "
        "resolution=merge-duplicates|ignore-duplicates, missing=default, tx=rollback",
        "schema", "type", "string");
}

static json_t *error_schema(void)
{
    return json_pack("{s:s,s:[s,s],s:{s:{s:s,s:s},s:{s:s},s:{s:[s,s,s]},s:{s:[s,s]}}}",
                     "type", "object", "required", "code", "message", "properties", "code",
                     "type", "string", "description",
                     "a stable code: ARnnn, or the SQLSTATE PostgreSQL gave", "message",
                     "type", "string", "details", "type", "string", "array", "null", "hint",
                     "type", "string", "null");
}

char *ar_openapi_document(apr_pool_t *p, const ar_schema *s, const ar_exposure *x,
                          const ar_openapi_options *o, apr_size_t *len)
{
    json_t *doc, *paths = json_object(), *schemas = json_object(), *components;
    apr_hash_t *taken = apr_hash_make(p), *keys = apr_hash_make(p);
    apr_hash_t *seen = apr_hash_make(p);
    char *text;
    apr_size_t size;
    shared sh;
    int i;

    /* the document's own component names are not a relation's */
    apr_hash_set(taken, "Error", APR_HASH_KEY_STRING, "");
    apr_hash_set(taken, "error", APR_HASH_KEY_STRING, "");
    sh.parameters = components_parameters();
    sh.responses = json_object();
    sh.taken = apr_hash_make(p);
    {
        void *iter = json_object_iter(sh.parameters);

        for (; iter; iter = json_object_iter_next(sh.parameters, iter))
            apr_hash_set(sh.taken, apr_pstrdup(p, json_object_iter_key(iter)), APR_HASH_KEY_STRING,
                         "");
    }

    /* keys first: a function's rows may refer to any relation's */
    for (i = 0; i < s->relations->nelts; i++) {
        const ar_relation *rel = APR_ARRAY_IDX(s->relations, i, const ar_relation *);
        if (ar_exposed_relation(x, rel)) {
            const char *seg = strcmp(rel->schema, APR_ARRAY_IDX(x->schemas, 0, const char *))
                                  ? apr_pstrcat(p, rel->schema, ".", rel->name, NULL)
                                  : rel->name;
            const ar_relation **k = apr_palloc(p, sizeof(*k));
            *k = rel;
            apr_hash_set(keys, k, sizeof(*k), component_key(p, taken, seg));
        }
    }
    json_object_set_new(paths, "/", json_pack(
        "{s:{s:s,s:s,s:{s:{s:s}}}}", "get", "operationId", "index", "summary",
        "What this Location serves (this document with Accept: application/openapi+json)",
        "responses", "200", "description", "the relations and functions"));
    for (i = 0; i < s->relations->nelts; i++) {
        const ar_relation *rel = APR_ARRAY_IDX(s->relations, i, const ar_relation *);
        const char *key = apr_hash_get(keys, &rel, sizeof(rel));
        json_t *required;

        if (!key)
            continue;
        json_object_set_new(schemas, key, relation_schema(x, rel, &required));
        json_object_set_new(paths, apr_pstrcat(p, "/", ar_relation_segment(p, x, rel), NULL),
                            relation_path(p, x, o, rel, key, required, &sh));
        json_decref(required);
    }
    for (i = 0; o->rpc != AR_RPC_OFF && s->routines && i < s->routines->nelts; i++) {
        const ar_routine *r = APR_ARRAY_IDX(s->routines, i, const ar_routine *);
        const apr_array_header_t *all = ar_schema_routines(s, r->schema, r->name);
        apr_array_header_t *shown = apr_array_make(p, 2, sizeof(const ar_routine *));
        const char *id = apr_pstrcat(p, r->schema, ".", r->name, NULL);
        int j;

        /* one path per name, in the default schema's /rpc/ (as calls resolve) */
        if (apr_hash_get(seen, id, APR_HASH_KEY_STRING) || !all
            || strcmp(r->schema, APR_ARRAY_IDX(x->schemas, 0, const char *)) != 0)
            continue;
        apr_hash_set(seen, id, APR_HASH_KEY_STRING, "");
        for (j = 0; j < all->nelts; j++) {
            const ar_routine *each = APR_ARRAY_IDX(all, j, const ar_routine *);
            if (ar_exposed_routine(x, each) && (o->rpc == AR_RPC_ALL || each->volatility != 'v'))
                APR_ARRAY_PUSH(shown, const ar_routine *) = each;
        }
        if (shown->nelts) {
            ar_relation name_only = {0};
            name_only.schema = r->schema;
            name_only.name = r->name;
            json_object_set_new(paths, apr_pstrcat(p, "/rpc/", ar_relation_segment(
                                                                  p, x, &name_only), NULL),
                                routine_path(p, x, o, shown, keys));
        }
    }
    json_object_set_new(schemas, "Error", error_schema());
    json_object_set_new(sh.responses, "error",
                        json_pack("{s:s,s:{s:{s:o}}}", "description",
                                  "an error: a 4xx or 5xx status with this body", "content",
                                  "application/json", "schema", ref(p, REF_SCHEMAS, "Error")));
    components = json_pack("{s:o,s:o,s:o}", "schemas", schemas, "parameters", sh.parameters,
                           "responses", sh.responses);
    doc = json_pack("{s:s,s:{s:s,s:s,s:s},s:[{s:s}],s:o,s:o}", "openapi", "3.1.0", "info",
                    "title", o->title ? o->title : "mod_autorest API", "version", "1",
                    "description",
                    "Generated by mod_autorest from the database: what this Location serves "
                    "to this caller. Filters, select and order follow PostgREST's grammar.",
                    "servers", "url", o->base_url && *o->base_url ? o->base_url : "/",
                    "paths", paths, "components", components);
    if (o->auth != AR_AUTH_NONE) {
        const char *scheme = o->auth == AR_AUTH_BASIC ? "basic" : "bearer";
        json_t *sec = json_pack("{s:s,s:s}", "type", "http", "scheme", scheme);

        if (o->auth == AR_AUTH_BEARER)
            json_object_set_new(sec, "bearerFormat", json_string("JWT"));
        json_object_set_new(components, "securitySchemes", json_pack("{s:o}", scheme, sec));
        json_object_set_new(doc, "security", json_pack("[{s:[]}]", scheme));
    }
    /* straight into the pool, sized by a guess (6 KiB a relation): a
     * document of megabytes is neither grown by copies nor copied after */
    size = 65536 + (apr_size_t)s->relations->nelts * 6144;
    text = apr_palloc(p, size);
    *len = json_dumpb(doc, text, size, JSON_COMPACT);
    if (*len > size) {
        size = *len;
        text = apr_palloc(p, size + 1);
        *len = json_dumpb(doc, text, size, JSON_COMPACT);
    }
    json_decref(doc);
    if (*len == 0 || *len > size)
        return NULL;
    if (*len == size) {
        char *whole = apr_palloc(p, size + 1);
        memcpy(whole, text, size);
        text = whole;
    }
    text[*len] = '\0';
    return text;
}
