/*
 * fuzz_query_parse.c: libFuzzer target for ar_query_parse, and for what a
 * parsed request flows into (ar_plan_read, ar_sql_render_read,
 * ar_error_json).
 *
 * The input is split at NUL bytes into path, query string, Range and
 * Range-Unit; a field that is absent is passed as NULL. Each field is its
 * own exactly-sized malloc() copy, so that AddressSanitizer sees any read
 * past its end. Besides memory errors, the target aborts when a result
 * breaks what autorest.h promises:
 *   - success: offset >= 0, limit AR_UNSET or >= 0, pagination only on
 *     collections, a pk only with a relation;
 *   - error: a known kind, a message, and ar_error_json() text that is a
 *     JSON object with exactly code, message, details and hint;
 *   - a planned request renders SQL whose $n count matches its params.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_hash.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <jansson.h>

#include "autorest.h"

static apr_pool_t *root, *pool;
static ar_schema *schema;
static ar_exposure expo;

static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_query_parse: %s%s%s\n", what, detail ? ": " : "",
            detail ? detail : "");
    abort();
}

static void addcol(ar_relation *r, const char *name, ar_encoding enc, int nullable,
                   int sortable)
{
    ar_column *c = apr_array_push(r->columns);

    memset(c, 0, sizeof(*c));
    c->name = name;
    c->type = "t";
    c->enc = enc;
    c->elem_enc = AR_ENC_STRING;
    c->nullable = nullable;
    c->sortable = sortable;
    c->position = r->columns->nelts;
}

static ar_relation *mkrel(const char *schema_name, const char *name)
{
    ar_relation *r = apr_pcalloc(root, sizeof(*r));

    r->schema = schema_name;
    r->name = name;
    r->kind = 'r';
    r->columns = apr_array_make(root, 4, sizeof(ar_column));
    r->unique_keys = apr_array_make(root, 1, sizeof(ar_key));
    r->foreign_keys = apr_array_make(root, 1, sizeof(ar_foreign_key));
    ar_schema_add(schema, r);
    return r;
}

static ar_key *key1(int col)
{
    ar_key *k = apr_pcalloc(root, sizeof(*k));

    k->name = "k";
    k->cols = apr_array_make(root, 1, sizeof(int));
    APR_ARRAY_PUSH(k->cols, int) = col;
    return k;
}

/* A small fixed schema the fuzzer can reach with short names. */
static void build_schema(void)
{
    ar_relation *r;
    apr_array_header_t *schemas = apr_array_make(root, 2, sizeof(const char *));

    schema = ar_schema_create(root);
    r = mkrel("public", "t");
    addcol(r, "id", AR_ENC_NUMBER, 0, 1);
    addcol(r, "j", AR_ENC_SQL_JSON, 1, 0);
    addcol(r, "h", AR_ENC_STRING, 1, 1);
    r->primary_key = key1(0);
    r = mkrel("public", "u");
    addcol(r, "a", AR_ENC_STRING, 1, 1);
    addcol(r, "b", AR_ENC_NUMBER, 0, 1);
    *(ar_key *)apr_array_push(r->unique_keys) = *key1(1);
    r = mkrel("public", "n");
    addcol(r, "x", AR_ENC_JSON, 1, 0);
    r = mkrel("public", "x");
    addcol(r, "id", AR_ENC_NUMBER, 0, 1);
    r->primary_key = key1(0);
    r = mkrel("o", "t");
    addcol(r, "q\"", AR_ENC_NUMBER, 0, 1);
    r->primary_key = key1(0);

    APR_ARRAY_PUSH(schemas, const char *) = "public";
    APR_ARRAY_PUSH(schemas, const char *) = "o";
    expo.schemas = schemas;
    expo.excluded = apr_hash_make(root);
    apr_hash_set(expo.excluded, "public.x", APR_HASH_KEY_STRING, "");
    expo.hidden = apr_hash_make(root);
    apr_hash_set(expo.hidden, "public.t.h", APR_HASH_KEY_STRING, "");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (apr_initialize() != APR_SUCCESS || apr_pool_create(&root, NULL) != APR_SUCCESS
        || apr_pool_create(&pool, root) != APR_SUCCESS)
        abort();
    build_schema();
    return 0;
}

static void check_error(const ar_error *e)
{
    json_error_t jerr;
    json_t *doc;
    char *text;
    const char *k;
    json_t *v;

    if ((int)e->kind < 0 || e->kind >= AR_ERR__COUNT)
        fail("error kind out of range", NULL);
    if (!e->message || !e->code)
        fail("error without message or code", NULL);
    if (strcmp(e->code, ar_error_code(e->kind)) != 0)
        fail("error code does not match its kind", e->code);
    if (ar_error_status(e) < 400 || ar_error_status(e) > 599)
        fail("error status not 4xx/5xx", e->message);
    text = ar_error_json(pool, e);
    doc = json_loads(text, 0, &jerr);
    if (!doc || !json_is_object(doc))
        fail("ar_error_json is not a JSON object", text);
    if (json_object_size(doc) != 4)
        fail("ar_error_json does not have exactly 4 keys", text);
    json_object_foreach(doc, k, v) {
        if (strcmp(k, "code") && strcmp(k, "message") && strcmp(k, "details")
            && strcmp(k, "hint"))
            fail("ar_error_json has an unexpected key", text);
    }
    if (!json_is_string(json_object_get(doc, "message")))
        fail("ar_error_json message is not a string", text);
    if (!json_is_string(json_object_get(doc, "code")))
        fail("ar_error_json code is not a string", text);
    json_decref(doc);
}

static int count_placeholders(const char *sql)
{
    int n = 0;

    for (; *sql; sql++)
        if (sql[0] == '$' && sql[1] >= '1' && sql[1] <= '9')
            n++;
    return n;
}

static void check_request(const ar_read_request *r)
{
    ar_read_plan plan;
    ar_sql sql;
    ar_error *e;

    if (r->offset < 0)
        fail("negative offset", NULL);
    if (r->limit != AR_UNSET && r->limit < 0)
        fail("negative limit", NULL);
    if (r->pk_value && !r->relation)
        fail("pk without a relation", NULL);
    if ((!r->relation || r->pk_value)
        && (r->limit != AR_UNSET || r->offset != 0 || r->ranged))
        fail("pagination outside a collection", NULL);
    if (r->relation && strchr(r->relation, '/'))
        fail("relation segment contains '/'", r->relation);
    if (r->pk_value && strchr(r->pk_value, '/'))
        fail("pk segment contains '/'", r->pk_value);
    if (!r->relation)
        return;

    e = ar_plan_read(pool, schema, &expo, r, 3, &plan);
    if (e) {
        check_error(e);
        return;
    }
    if (plan.limit == AR_UNSET || plan.limit > 3 || plan.limit < 0)
        fail("plan ignores the cap", NULL);
    ar_sql_render_read(pool, &plan, &sql);
    if (!sql.text || strncmp(sql.text, "SELECT ", 7) != 0)
        fail("rendered SQL does not start with SELECT", sql.text);
    if (count_placeholders(sql.text) != sql.params->nelts)
        fail("placeholder count differs from params", sql.text);
}

/* The next NUL-separated field from data[*pos..size), as its own malloc()
 * copy, or NULL (and *present 0) when the input has run out. */
static char *field(const uint8_t *data, size_t size, size_t *pos, int *present)
{
    const uint8_t *nul;
    size_t len;
    char *s;

    if (*pos > size) {
        *present = 0;
        return NULL;
    }
    nul = memchr(data + *pos, 0, size - *pos);
    len = nul ? (size_t)(nul - (data + *pos)) : size - *pos;
    s = malloc(len + 1);
    if (!s)
        abort();
    memcpy(s, data + *pos, len);
    s[len] = '\0';
    *pos += len + 1;
    *present = 1;
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t pos = 0;
    int has[4];
    char *path, *args, *range, *unit;
    ar_read_request req;
    ar_error *e;

    path = field(data, size, &pos, &has[0]);
    args = field(data, size, &pos, &has[1]);
    range = field(data, size, &pos, &has[2]);
    unit = field(data, size, &pos, &has[3]);

    e = ar_query_parse(pool, path ? path : "", args, range, unit, &req);
    if (e)
        check_error(e);
    else
        check_request(&req);

    free(path);
    free(args);
    free(range);
    free(unit);
    apr_pool_clear(pool);
    return 0;
}
