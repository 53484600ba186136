/* test_openapi.c: the OpenAPI document of hand-made schemas: what is named,
 * what is not (hidden columns, excluded relations), types, methods. */
#include <stdlib.h>

#include <apr_general.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <jansson.h>

#include "ar_openapi.h"
#include "schema_kit.h"
#include "tap.h"

static json_t *document(apr_pool_t *p, const ar_schema *s, const ar_exposure *x,
                        const ar_openapi_options *o)
{
    apr_size_t len = 0;
    char *text = ar_openapi_document(p, s, x, o, &len);
    json_error_t e;

    return text && len == strlen(text) ? json_loads(text, 0, &e) : NULL;
}

static const char *type_of(json_t *schema)
{
    json_t *t = json_object_get(schema, "type");
    static char buf[64];

    if (json_is_string(t))
        return json_string_value(t);
    if (json_is_array(t) && json_array_size(t) == 2) {
        snprintf(buf, sizeof(buf), "%s|%s", json_string_value(json_array_get(t, 0)),
                 json_string_value(json_array_get(t, 1)));
        return buf;
    }
    return "(none)";
}

static void type_schemas(void)
{
    json_t *j;

    j = ar_openapi_type_schema("character varying(20)", NULL);
    ok(j && json_integer_value(json_object_get(j, "maxLength")) == 20
           && strcmp(type_of(j), "string") == 0, "varchar(20): a string of at most 20");
    json_decref(j);
    j = ar_openapi_type_schema("bigint", NULL);
    is_str(json_string_value(json_object_get(j, "format")), "int64", "bigint: int64");
    json_decref(j);
    j = ar_openapi_type_schema("timestamp with time zone", NULL);
    is_str(json_string_value(json_object_get(j, "format")), "date-time", "timestamptz: date-time");
    json_decref(j);
    j = ar_openapi_type_schema("integer[]", NULL);
    ok(j && strcmp(type_of(j), "array") == 0
           && strcmp(type_of(json_object_get(j, "items")), "integer|null") == 0,
       "integer[]: an array of integers, or NULLs");
    json_decref(j);
    j = ar_openapi_type_schema("jsonb", NULL);
    ok(j && !json_object_get(j, "type"), "jsonb: any JSON value (no type)");
    json_decref(j);
    ok(ar_openapi_type_schema("public.tsvector_thing", NULL) == NULL,
       "a type the name does not tell: NULL, the encoding decides");
}

int main(void)
{
    apr_pool_t *p;
    ar_schema *s;
    ar_relation *items, *secret, *log;
    ar_column *c;
    apr_array_header_t *schemas, *labels;
    ar_exposure x = {0};
    ar_openapi_options o = {0};
    json_t *doc, *paths, *comps, *props, *item;
    apr_size_t len;
    char *text;

    apr_initialize();
    apr_pool_create(&p, NULL);
    type_schemas();

    s = ar_schema_create(p);
    items = kit_relation(p, s, "public", "items");
    items->comment = "What we sell";
    items->writable = AR_CAN_INSERT | AR_CAN_UPDATE | AR_CAN_DELETE;
    kit_column(items, "id", "integer", AR_ENC_NUMBER, 0, 1)->generated = 1;
    c = kit_column(items, "name", "character varying(40)", AR_ENC_STRING, 0, 1);
    c->comment = "Shown on the shelf";
    kit_column(items, "price", "numeric(8,2)", AR_ENC_NUMBER, 1, 1);
    labels = apr_array_make(p, 2, sizeof(const char *));
    APR_ARRAY_PUSH(labels, const char *) = "new";
    APR_ARRAY_PUSH(labels, const char *) = "used";
    c = kit_column(items, "state", "public.item_state", AR_ENC_STRING, 1, 1);
    c->enum_labels = labels;
    kit_column(items, "cost", "numeric", AR_ENC_NUMBER, 1, 1);
    kit_column(items, "select", "text", AR_ENC_STRING, 1, 1);
    items->primary_key = kit_key(p, "items_pkey", 0, -1);
    secret = kit_relation(p, s, "public", "secret");
    kit_column(secret, "k", "text", AR_ENC_STRING, 0, 1);
    log = kit_relation(p, s, "audit", "odd name/{x}");
    kit_column(log, "at", "timestamp with time zone", AR_ENC_TIMESTAMP, 0, 1);

    schemas = apr_array_make(p, 2, sizeof(const char *));
    APR_ARRAY_PUSH(schemas, const char *) = "public";
    APR_ARRAY_PUSH(schemas, const char *) = "audit";
    x.schemas = schemas;
    x.excluded = apr_hash_make(p);
    apr_hash_set(x.excluded, "public.secret", APR_HASH_KEY_STRING, "");
    x.hidden = apr_hash_make(p);
    apr_hash_set(x.hidden, "public.items.cost", APR_HASH_KEY_STRING, "");

    o.base_url = "/api";
    o.methods = AR_METHOD_GET | AR_METHOD_POST | AR_METHOD_PATCH | AR_METHOD_DELETE;
    o.auth = AR_AUTH_BASIC;

    text = ar_openapi_document(p, s, &x, &o, &len);
    ok(text && !strstr(text, "secret") && !strstr(text, "\"cost\""),
       "the excluded relation and the hidden column are named nowhere");
    doc = document(p, s, &x, &o);
    ok(doc != NULL, "the document is JSON");
    is_str(json_string_value(json_object_get(doc, "openapi")), "3.1.0", "openapi 3.1.0");
    is_str(json_string_value(json_object_get(json_array_get(json_object_get(doc, "servers"), 0),
                                             "url")),
           "/api", "servers[0] is the Location");
    paths = json_object_get(doc, "paths");
    comps = json_object_get(json_object_get(doc, "components"), "schemas");
    item = json_object_get(paths, "/items");
    ok(item && json_object_get(item, "get") && json_object_get(item, "post")
           && json_object_get(item, "patch") && json_object_get(item, "delete")
           && !json_object_get(item, "put"),
       "/items: get post patch delete; no put (the Location does not serve it)");
    ok(json_object_get(paths, "/audit.odd%20name%2F%7Bx%7D") != NULL,
       "a relation of another schema: schema.name, percent-encoded");
    ok(json_object_get(comps, "audit.odd_name__x_") != NULL,
       "its components key has only the characters OpenAPI allows");
    props = json_object_get(json_object_get(comps, "items"), "properties");
    is_str(type_of(json_object_get(props, "price")), "number|null", "nullable: a type union");
    ok(json_object_get(json_object_get(props, "id"), "readOnly") == json_true(),
       "a generated column is readOnly");
    ok(json_integer_value(json_object_get(json_object_get(props, "name"), "maxLength")) == 40,
       "varchar(40): maxLength 40");
    is_str(json_string_value(json_object_get(json_object_get(props, "name"), "description")),
           "Shown on the shelf", "a column's comment is its description");
    ok(json_array_size(json_object_get(json_object_get(props, "state"), "enum")) == 3,
       "an enum's labels, and null as it is nullable");
    ok(json_object_get(comps, "Error") != NULL, "the error schema");
    {
        json_t *params = json_object_get(json_object_get(item, "get"), "parameters");
        json_t *defs = json_object_get(json_object_get(doc, "components"), "parameters");
        size_t i;
        int refs_name = 0;

        for (i = 0; i < json_array_size(params); i++) {
            const char *r = json_string_value(json_object_get(json_array_get(params, i), "$ref"));
            refs_name += r && strcmp(r, "#/components/parameters/items.name") == 0;
        }
        ok(refs_name == 1 && json_object_get(defs, "items.name")
               && !json_object_get(defs, "items.select"),
           "a filter per column, by reference; none for a column named like a query word");
        is_str(json_string_value(json_object_get(json_object_get(defs, "items.name"), "name")),
               "name", "the filter's parameter is named after its column");
    }
    ok(json_object_get(json_object_get(json_object_get(doc, "components"), "securitySchemes"),
                       "basic") != NULL
           && json_array_size(json_object_get(doc, "security")) == 1,
       "AuthType Basic: an http basic security scheme");
    json_decref(doc);

    /* a role of its own: its privileges decide the methods */
    o.writable = apr_hash_make(p);
    {
        int *bits = apr_palloc(p, sizeof(int));
        *bits = AR_CAN_UPDATE;
        apr_hash_set(o.writable, "public.items", APR_HASH_KEY_STRING, bits);
    }
    o.auth = AR_AUTH_NONE;
    doc = document(p, s, &x, &o);
    item = json_object_get(json_object_get(doc, "paths"), "/items");
    ok(item && json_object_get(item, "patch") && !json_object_get(item, "post")
           && !json_object_get(item, "delete"),
       "a role that may only UPDATE: patch, no post or delete");
    ok(!json_object_get(doc, "security"), "no authentication: no security requirement");
    json_decref(doc);

    apr_pool_destroy(p);
    apr_terminate();
    return tap_done();
}
