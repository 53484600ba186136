/*
 * test_reflect.c: the pure rules of reflect_rules.c: type -> encoder, schema
 * lookup, exposure (schemas, excluded relations, hidden columns), and the
 * lineage of views' columns read from their rules (reflect.c's ar_rule_origins).
 * No server: the type catalogue is a hand-built hash keyed by oid.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_hash.h>
#include <apr_strings.h>

#include "autorest.h"
#include "tap.h"
#include "schema_kit.h"

static apr_pool_t *pool;
static apr_hash_t *types;

static const char *enc_name(ar_encoding e)
{
    switch (e) {
    case AR_ENC_STRING: return "STRING";
    case AR_ENC_NUMBER: return "NUMBER";
    case AR_ENC_BOOL: return "BOOL";
    case AR_ENC_JSON: return "JSON";
    case AR_ENC_TIMESTAMP: return "TIMESTAMP";
    case AR_ENC_ARRAY: return "ARRAY";
    case AR_ENC_SQL_JSON: return "SQL_JSON";
    case AR_ENC_EMBED: return "EMBED";
    case AR_ENC_INTEGER: return "INTEGER";
    case AR_ENC_DECIMAL: return "DECIMAL";
    }
    return "?";
}

static void add_type(unsigned int oid, char typtype, char category, char delim,
                     unsigned int base, unsigned int elem, int json_cast)
{
    ar_type_info *t = apr_pcalloc(pool, sizeof(*t));

    t->oid = oid;
    t->typtype = typtype;
    t->category = category;
    t->delim = delim;
    t->base = base;
    t->elem = elem;
    t->json_cast = json_cast;
    apr_hash_set(types, &t->oid, sizeof(t->oid), t);
}

/* Built-in OIDs from pg_type.dat; user types from 16384 on. */
enum {
    BOOL = 16, INT8 = 20, INT2 = 21, INT4 = 23, TEXT = 25, JSON = 114,
    FLOAT4 = 700, FLOAT8 = 701, BOX = 603, VARCHAR = 1043, DATE = 1082, TIME = 1083,
    TIMESTAMP = 1114, TIMESTAMPTZ = 1184, INTERVAL = 1186, TIMETZ = 1266,
    NUMERIC = 1700, UUID = 2950, JSONB = 3802, INT4RANGE = 3904, INT4MULTIRANGE = 4451,
    BYTEA = 17, INET = 869, BIT = 1560,
    /* arrays */
    BOOL_ARR = 1000, INT2_ARR = 1005, INT4_ARR = 1007, TEXT_ARR = 1009, INT8_ARR = 1016,
    FLOAT8_ARR = 1022, BOX_ARR = 1020, TIMESTAMP_ARR = 1115, TIMESTAMPTZ_ARR = 1185,
    JSON_ARR = 199, JSONB_ARR = 3807, NUMERIC_ARR = 1231, TIMETZ_ARR = 1270,
    INT4RANGE_ARR = 3905, UUID_ARR = 2951, DATE_ARR = 1182,
    /* user types */
    POSINT = 16400, POSINT2 = 16401, SHORT_TEXT = 16402, PAIR = 16403, PAIR_ARR = 16404,
    MOOD = 16405, MOOD_ARR = 16406, CASTY = 16407, CASTY_ARR = 16408, POSINT_ARR = 16409,
    DOM_PAIR = 16410, DOM_INT_ARR = 16411, LOOP_A = 16412, LOOP_B = 16413,
    MYRANGE = 16414, MYRANGE_ARR = 16415, DOM_MISSING = 16416, TSDOM = 16417,
    TSDOM_ARR = 16418, JSONDOM = 16419, CASTDOM = 16420, MULTI_ARR = 16421,
    MISSING_ELEM_ARR = 16422,
};

static void build_types(void)
{
    types = apr_hash_make(pool);
    add_type(BOOL, 'b', 'B', ',', 0, 0, 0);
    add_type(INT8, 'b', 'N', ',', 0, 0, 0);
    add_type(INT2, 'b', 'N', ',', 0, 0, 0);
    add_type(INT4, 'b', 'N', ',', 0, 0, 0);
    add_type(TEXT, 'b', 'S', ',', 0, 0, 0);
    add_type(JSON, 'b', 'U', ',', 0, 0, 0);
    add_type(FLOAT4, 'b', 'N', ',', 0, 0, 0);
    add_type(FLOAT8, 'b', 'N', ',', 0, 0, 0);
    add_type(BOX, 'b', 'G', ';', 0, 0, 0);
    add_type(VARCHAR, 'b', 'S', ',', 0, 0, 0);
    add_type(DATE, 'b', 'D', ',', 0, 0, 0);
    add_type(TIME, 'b', 'D', ',', 0, 0, 0);
    add_type(TIMESTAMP, 'b', 'D', ',', 0, 0, 0);
    add_type(TIMESTAMPTZ, 'b', 'D', ',', 0, 0, 0);
    add_type(INTERVAL, 'b', 'T', ',', 0, 0, 0);
    add_type(TIMETZ, 'b', 'D', ',', 0, 0, 0);
    add_type(NUMERIC, 'b', 'N', ',', 0, 0, 0);
    add_type(UUID, 'b', 'U', ',', 0, 0, 0);
    add_type(JSONB, 'b', 'U', ',', 0, 0, 0);
    add_type(INT4RANGE, 'r', 'R', ',', 0, 0, 0);
    add_type(INT4MULTIRANGE, 'm', 'R', ',', 0, 0, 0);
    add_type(BYTEA, 'b', 'U', ',', 0, 0, 0);
    add_type(INET, 'b', 'I', ',', 0, 0, 0);
    add_type(BIT, 'b', 'V', ',', 0, 0, 0);

    add_type(BOOL_ARR, 'b', 'A', ',', 0, BOOL, 0);
    add_type(INT2_ARR, 'b', 'A', ',', 0, INT2, 0);
    add_type(INT4_ARR, 'b', 'A', ',', 0, INT4, 0);
    add_type(INT8_ARR, 'b', 'A', ',', 0, INT8, 0);
    add_type(TEXT_ARR, 'b', 'A', ',', 0, TEXT, 0);
    add_type(FLOAT8_ARR, 'b', 'A', ',', 0, FLOAT8, 0);
    add_type(BOX_ARR, 'b', 'A', ',', 0, BOX, 0);
    add_type(TIMESTAMP_ARR, 'b', 'A', ',', 0, TIMESTAMP, 0);
    add_type(TIMESTAMPTZ_ARR, 'b', 'A', ',', 0, TIMESTAMPTZ, 0);
    add_type(JSON_ARR, 'b', 'A', ',', 0, JSON, 0);
    add_type(JSONB_ARR, 'b', 'A', ',', 0, JSONB, 0);
    add_type(NUMERIC_ARR, 'b', 'A', ',', 0, NUMERIC, 0);
    add_type(TIMETZ_ARR, 'b', 'A', ',', 0, TIMETZ, 0);
    add_type(INT4RANGE_ARR, 'b', 'A', ',', 0, INT4RANGE, 0);
    add_type(UUID_ARR, 'b', 'A', ',', 0, UUID, 0);
    add_type(DATE_ARR, 'b', 'A', ',', 0, DATE, 0);

    add_type(POSINT, 'd', 'N', ',', INT4, 0, 0);          /* domain over int */
    add_type(POSINT2, 'd', 'N', ',', POSINT, 0, 0);       /* domain over domain */
    add_type(SHORT_TEXT, 'd', 'S', ',', TEXT, 0, 0);
    add_type(PAIR, 'c', 'C', ',', 0, 0, 0);               /* composite */
    add_type(PAIR_ARR, 'b', 'A', ',', 0, PAIR, 0);
    add_type(MOOD, 'e', 'E', ',', 0, 0, 0);               /* enum */
    add_type(MOOD_ARR, 'b', 'A', ',', 0, MOOD, 0);
    add_type(CASTY, 'b', 'U', ',', 0, 0, 1);              /* user type with a json cast */
    add_type(CASTY_ARR, 'b', 'A', ',', 0, CASTY, 0);
    add_type(POSINT_ARR, 'b', 'A', ',', 0, POSINT, 0);    /* array of a domain */
    add_type(DOM_PAIR, 'd', 'C', ',', PAIR, 0, 0);        /* domain over composite */
    add_type(DOM_INT_ARR, 'd', 'A', ',', INT4_ARR, 0, 0); /* domain over int[] */
    add_type(LOOP_A, 'd', 'N', ',', LOOP_B, 0, 0);        /* a corrupt cycle */
    add_type(LOOP_B, 'd', 'N', ',', LOOP_A, 0, 0);
    add_type(MYRANGE, 'r', 'R', ',', 0, 0, 0);
    add_type(MYRANGE_ARR, 'b', 'A', ',', 0, MYRANGE, 0);
    add_type(DOM_MISSING, 'd', 'N', ',', 99999, 0, 0);    /* base not in the table */
    add_type(TSDOM, 'd', 'D', ',', TIMESTAMPTZ, 0, 0);
    add_type(TSDOM_ARR, 'b', 'A', ',', 0, TSDOM, 0);
    add_type(JSONDOM, 'd', 'U', ',', JSONB, 0, 0);
    add_type(CASTDOM, 'd', 'U', ',', CASTY, 0, 0);
    add_type(MULTI_ARR, 'b', 'A', ',', 0, INT4MULTIRANGE, 0);
    add_type(MISSING_ELEM_ARR, 'b', 'A', ',', 0, 99998, 0);
}

static void check_enc(unsigned int oid, ar_encoding want, ar_encoding want_elem,
                      int want_sortable, const char *what)
{
    ar_encoding enc = (ar_encoding)-1, elem = (ar_encoding)-1;
    int sortable = -1;

    ar_type_encoding(types, oid, &enc, &elem, &sortable);
    ok(enc == want, "%s -> %s (got %s)", what, enc_name(want), enc_name(enc));
    if (want == AR_ENC_ARRAY)
        ok(elem == want_elem, "%s elements -> %s (got %s)", what, enc_name(want_elem),
           enc_name(elem));
    ok(sortable == want_sortable, "%s sortable %d (got %d)", what, want_sortable, sortable);
}

static void test_type_encoding(void)
{
    check_enc(INT2, AR_ENC_NUMBER, 0, 1, "int2");
    check_enc(INT4, AR_ENC_NUMBER, 0, 1, "int4");
    check_enc(INT8, AR_ENC_NUMBER, 0, 1, "int8");
    check_enc(FLOAT4, AR_ENC_NUMBER, 0, 1, "float4");
    check_enc(FLOAT8, AR_ENC_NUMBER, 0, 1, "float8");
    check_enc(NUMERIC, AR_ENC_NUMBER, 0, 1, "numeric");
    check_enc(BOOL, AR_ENC_BOOL, 0, 1, "bool");
    check_enc(JSON, AR_ENC_JSON, 0, 0, "json (not sortable)");
    check_enc(JSONB, AR_ENC_JSON, 0, 0, "jsonb (not sortable)");
    check_enc(TIMESTAMP, AR_ENC_TIMESTAMP, 0, 1, "timestamp");
    check_enc(TIMESTAMPTZ, AR_ENC_TIMESTAMP, 0, 1, "timestamptz");
    check_enc(TIMETZ, AR_ENC_STRING, 0, 1, "timetz (to_json leaves it as text)");
    check_enc(TIME, AR_ENC_STRING, 0, 1, "time");
    check_enc(DATE, AR_ENC_STRING, 0, 1, "date");
    check_enc(TEXT, AR_ENC_STRING, 0, 1, "text");
    check_enc(VARCHAR, AR_ENC_STRING, 0, 1, "varchar");
    check_enc(UUID, AR_ENC_STRING, 0, 1, "uuid (sortable by oid)");
    check_enc(INTERVAL, AR_ENC_STRING, 0, 1, "interval (timespan)");
    check_enc(INET, AR_ENC_STRING, 0, 1, "inet (network)");
    check_enc(BIT, AR_ENC_STRING, 0, 1, "bit");
    check_enc(BYTEA, AR_ENC_STRING, 0, 0, "bytea (not sortable)");
    check_enc(BOX, AR_ENC_STRING, 0, 0, "box (geometric, not sortable)");
    check_enc(MOOD, AR_ENC_STRING, 0, 1, "enum");
    check_enc(POSINT, AR_ENC_NUMBER, 0, 1, "domain over int");
    check_enc(POSINT2, AR_ENC_NUMBER, 0, 1, "domain over domain over int");
    check_enc(SHORT_TEXT, AR_ENC_STRING, 0, 1, "domain over text");
    check_enc(TSDOM, AR_ENC_TIMESTAMP, 0, 1, "domain over timestamptz");
    check_enc(JSONDOM, AR_ENC_JSON, 0, 0, "domain over jsonb");
    check_enc(PAIR, AR_ENC_SQL_JSON, 0, 0, "composite");
    check_enc(DOM_PAIR, AR_ENC_SQL_JSON, 0, 0, "domain over composite");
    check_enc(CASTY, AR_ENC_SQL_JSON, 0, 0, "user type with a json cast");
    check_enc(CASTDOM, AR_ENC_SQL_JSON, 0, 0, "domain over a type with a json cast");
    check_enc(INT4RANGE, AR_ENC_STRING, 0, 0, "range (typtype r)");
    check_enc(MYRANGE, AR_ENC_STRING, 0, 0, "user range");
    check_enc(INT4MULTIRANGE, AR_ENC_STRING, 0, 0, "multirange");

    check_enc(INT4_ARR, AR_ENC_ARRAY, AR_ENC_NUMBER, 0, "int[]");
    check_enc(INT2_ARR, AR_ENC_ARRAY, AR_ENC_NUMBER, 0, "int2[]");
    check_enc(INT8_ARR, AR_ENC_ARRAY, AR_ENC_NUMBER, 0, "int8[]");
    check_enc(FLOAT8_ARR, AR_ENC_ARRAY, AR_ENC_NUMBER, 0, "float8[]");
    check_enc(NUMERIC_ARR, AR_ENC_ARRAY, AR_ENC_NUMBER, 0, "numeric[]");
    check_enc(BOOL_ARR, AR_ENC_ARRAY, AR_ENC_BOOL, 0, "bool[]");
    check_enc(TEXT_ARR, AR_ENC_ARRAY, AR_ENC_STRING, 0, "text[]");
    check_enc(TIMESTAMP_ARR, AR_ENC_ARRAY, AR_ENC_TIMESTAMP, 0, "timestamp[]");
    check_enc(TIMESTAMPTZ_ARR, AR_ENC_ARRAY, AR_ENC_TIMESTAMP, 0, "timestamptz[]");
    check_enc(TIMETZ_ARR, AR_ENC_ARRAY, AR_ENC_STRING, 0, "timetz[]");
    check_enc(DATE_ARR, AR_ENC_ARRAY, AR_ENC_STRING, 0, "date[]");
    check_enc(UUID_ARR, AR_ENC_ARRAY, AR_ENC_STRING, 0, "uuid[]");
    check_enc(JSON_ARR, AR_ENC_ARRAY, AR_ENC_JSON, 0, "json[]");
    check_enc(JSONB_ARR, AR_ENC_ARRAY, AR_ENC_JSON, 0, "jsonb[]");
    check_enc(MOOD_ARR, AR_ENC_ARRAY, AR_ENC_STRING, 0, "enum[]");
    check_enc(POSINT_ARR, AR_ENC_ARRAY, AR_ENC_NUMBER, 0, "array of a domain over int");
    check_enc(TSDOM_ARR, AR_ENC_ARRAY, AR_ENC_TIMESTAMP, 0, "array of a domain over timestamptz");
    check_enc(DOM_INT_ARR, AR_ENC_ARRAY, AR_ENC_NUMBER, 0, "domain over int[]");
    check_enc(PAIR_ARR, AR_ENC_SQL_JSON, 0, 0, "array of composite -> SQL_JSON");
    check_enc(CASTY_ARR, AR_ENC_SQL_JSON, 0, 0, "array of a json-cast type -> SQL_JSON");
    check_enc(BOX_ARR, AR_ENC_SQL_JSON, 0, 0, "array of a type with delim ';' -> SQL_JSON");
    check_enc(INT4RANGE_ARR, AR_ENC_SQL_JSON, 0, 0, "array of range -> SQL_JSON");
    check_enc(MYRANGE_ARR, AR_ENC_SQL_JSON, 0, 0, "array of user range -> SQL_JSON");
    check_enc(MULTI_ARR, AR_ENC_SQL_JSON, 0, 0, "array of multirange -> SQL_JSON");
    check_enc(MISSING_ELEM_ARR, AR_ENC_SQL_JSON, 0, 0,
              "array whose element type is unknown -> SQL_JSON");

    check_enc(424242, AR_ENC_STRING, 0, 0, "unknown oid -> STRING, not sortable");
    check_enc(DOM_MISSING, AR_ENC_STRING, 0, 0, "domain with an unknown base -> STRING");
    {
        /* cannot happen in PostgreSQL; only termination matters here */
        ar_encoding enc = AR_ENC_JSON, elem;
        int sortable;
        ar_type_encoding(types, LOOP_A, &enc, &elem, &sortable);
        ok(enc == AR_ENC_STRING, "a domain cycle terminates -> STRING (got %s)", enc_name(enc));
    }

    {
        ar_encoding enc, elem;
        int sortable;
        ar_type_encoding(types, INT4, &enc, &elem, &sortable);
        ok(elem == AR_ENC_STRING, "scalar: elem_enc set to STRING (got %s)", enc_name(elem));
        ar_type_encoding(apr_hash_make(pool), INT4, &enc, &elem, &sortable);
        ok(enc == AR_ENC_STRING && elem == AR_ENC_STRING && sortable == 0,
           "empty types table: int4 -> STRING, not sortable");
    }
}

/* ------------------------------------------------------------- schemas */

/* A table with the columns id, secret and "Mixed Case". */
static ar_relation *mkrel(ar_schema *s, const char *schema, const char *name)
{
    ar_relation *r = kit_relation(pool, s, schema, name);

    kit_column(r, "id", "integer", AR_ENC_NUMBER, 0, 1);
    kit_column(r, "secret", "text", AR_ENC_STRING, 1, 1);
    kit_column(r, "Mixed Case", "text", AR_ENC_STRING, 1, 1);
    return r;
}

static const ar_column *col(const ar_relation *r, int i)
{
    return &APR_ARRAY_IDX(r->columns, i, ar_column);
}

static void test_schema(void)
{
    ar_schema *s = ar_schema_create(pool);
    ar_relation *people, *dotted, *things, *other_people, *secret, *priv, *longname;
    ar_exposure x, none, nohide;
    apr_array_header_t *schemas = apr_array_make(pool, 2, sizeof(const char *));
    apr_array_header_t *empty = apr_array_make(pool, 1, sizeof(const char *));
    char big[600];

    ok(s->relations && s->relations->nelts == 0 && s->by_name && s->pool == pool,
       "ar_schema_create: empty schema");
    ok(s->loaded_at > 0, "ar_schema_create: loaded_at set");

    people = mkrel(s, "public", "people");
    dotted = mkrel(s, "public", "other.things");   /* a name with a dot */
    things = mkrel(s, "other", "things");
    other_people = mkrel(s, "other", "people");
    secret = mkrel(s, "public", "secret");
    priv = mkrel(s, "private", "stuff");
    memset(big, 'a', 300);
    big[300] = '\0';
    longname = mkrel(s, "public", apr_pstrdup(pool, big));

    ok(s->relations->nelts == 7, "ar_schema_add: 7 relations");
    ok(APR_ARRAY_IDX(s->relations, 0, ar_relation *) == people, "relations kept in order");

    /* ar_schema_find */
    ok(ar_schema_find(s, "public", "people") == people, "find public.people");
    ok(ar_schema_find(s, "other", "people") == other_people, "find other.people");
    ok(ar_schema_find(s, "other", "things") == things, "find other.things");
    ok(ar_schema_find(s, "public", "other.things") == dotted, "find public.\"other.things\"");
    ok(ar_schema_find(s, "public", "nope") == NULL, "find missing -> NULL");
    ok(ar_schema_find(s, "nope", "people") == NULL, "find in a missing schema -> NULL");
    ok(ar_schema_find(s, "publ", "icpeople") == NULL, "no confusion across the separator");
    ok(ar_schema_find(s, "public.people", "") == NULL, "no dot-joined key");
    ok(ar_schema_find(s, "Public", "people") == NULL, "names are case-sensitive");
    ok(ar_schema_find(s, "public", big) == longname, "a 300-byte name is found");
    {
        char huge[700];
        memset(huge, 'b', 699);
        huge[699] = '\0';
        ok(ar_schema_find(s, "public", huge) == NULL, "a name past the buffer -> NULL");
    }

    /* ar_relation_column_index */
    ok(ar_relation_column_index(people, "id") == 0, "column index id 0");
    ok(ar_relation_column_index(people, "Mixed Case") == 2, "column index Mixed Case 2");
    ok(ar_relation_column_index(people, "mixed case") == -1, "column index case-sensitive");
    ok(ar_relation_column_index(people, "nope") == -1, "column index missing -> -1");

    /* exposure */
    APR_ARRAY_PUSH(schemas, const char *) = "public";
    APR_ARRAY_PUSH(schemas, const char *) = "other";
    x.schemas = schemas;
    x.excluded = apr_hash_make(pool);
    apr_hash_set(x.excluded, "public.secret", APR_HASH_KEY_STRING, "");
    apr_hash_set(x.excluded, "other.people", APR_HASH_KEY_STRING, "");
    x.hidden = apr_hash_make(pool);
    apr_hash_set(x.hidden, "public.people.secret", APR_HASH_KEY_STRING, "");

    ok(ar_exposed_schema(&x, "public") == 1, "public exposed");
    ok(ar_exposed_schema(&x, "other") == 1, "other exposed");
    ok(ar_exposed_schema(&x, "private") == 0, "private not exposed");
    ok(ar_exposed_schema(&x, "Public") == 0, "schema names case-sensitive");
    ok(ar_exposed_relation(&x, people) == 1, "people exposed");
    ok(ar_exposed_relation(&x, secret) == 0, "excluded public.secret not exposed");
    ok(ar_exposed_relation(&x, other_people) == 0, "excluded other.people not exposed");
    ok(ar_exposed_relation(&x, priv) == 0, "relation in an unexposed schema not exposed");

    ok(ar_exposed_column(&x, people, col(people, 0)) == 1, "people.id exposed");
    ok(ar_exposed_column(&x, people, col(people, 1)) == 0, "hidden people.secret not exposed");
    ok(ar_exposed_column(&x, people, col(people, 2)) == 1, "people.\"Mixed Case\" exposed");
    ok(ar_exposed_column(&x, things, col(things, 1)) == 1,
       "other.things.secret exposed (hiding is per relation)");
    ok(ar_exposed_column(&x, other_people, col(other_people, 1)) == 1,
       "other.people.secret exposed (hiding is per schema)");

    nohide = x;
    nohide.hidden = NULL;
    ok(ar_exposed_column(&nohide, people, col(people, 1)) == 1, "hidden NULL: all exposed");
    nohide.hidden = apr_hash_make(pool);
    ok(ar_exposed_column(&nohide, people, col(people, 1)) == 1, "hidden empty: all exposed");
    nohide.excluded = NULL;
    ok(ar_exposed_relation(&nohide, secret) == 1, "excluded NULL: secret exposed");

    /* ar_resolve_relation */
    ok(ar_resolve_relation(s, &x, NULL, "people") == people, "people -> public.people (default)");
    ok(ar_resolve_relation(s, &x, NULL, "public.people") == people, "public.people qualified");
    ok(ar_resolve_relation(s, &x, NULL, "other.things") == dotted,
       "a default-schema name with a dot wins over schema.name");
    ok(ar_resolve_relation(s, &x, NULL, "things") == NULL, "things is not in the default schema");
    ok(ar_resolve_relation(s, &x, NULL, "other.people") == NULL, "excluded other.people -> NULL");
    ok(ar_resolve_relation(s, &x, NULL, "secret") == NULL, "excluded secret -> NULL");
    ok(ar_resolve_relation(s, &x, NULL, "public.secret") == NULL, "excluded public.secret -> NULL");
    ok(ar_resolve_relation(s, &x, NULL, "private.stuff") == NULL, "unexposed schema -> NULL");
    ok(ar_resolve_relation(s, &x, NULL, "nope") == NULL, "unknown -> NULL");
    ok(ar_resolve_relation(s, &x, NULL, "") == NULL, "empty segment -> NULL");
    ok(ar_resolve_relation(s, &x, NULL, ".people") == NULL, "empty schema part -> NULL");
    ok(ar_resolve_relation(s, &x, NULL, "public.") == NULL, "empty name part -> NULL");
    {
        char seg[400];
        memset(seg, 'z', 300);
        seg[300] = '.';
        strcpy(seg + 301, "people");
        ok(ar_resolve_relation(s, &x, NULL, seg) == NULL, "over-long schema part -> NULL");
    }

    /* the other schema as default */
    {
        ar_exposure y = x;
        apr_array_header_t *o = apr_array_make(pool, 2, sizeof(const char *));
        APR_ARRAY_PUSH(o, const char *) = "other";
        APR_ARRAY_PUSH(o, const char *) = "public";
        y.schemas = o;
        ok(ar_resolve_relation(s, &y, NULL, "things") == things, "default other: things");
        ok(ar_resolve_relation(s, &y, NULL, "public.people") == people, "default other: public.people");
        ok(ar_resolve_relation(s, &y, NULL, "people") == NULL,
           "default other: people is excluded there (no fallback to public)");
    }

    none.schemas = empty;
    none.excluded = NULL;
    none.hidden = NULL;
    ok(ar_resolve_relation(s, &none, NULL, "people") == NULL, "no schemas -> NULL");
    ok(ar_exposed_relation(&none, people) == 0, "no schemas: nothing exposed");
}

/* ---------------------------------------------------- views' lineage */

/* A rule's origins as "resno:table.column ..." */
static const char *origins_text(const char *rule)
{
    apr_array_header_t *o = ar_rule_origins(pool, rule);
    const char *out = "";
    int i;

    for (i = 0; i < o->nelts; i++) {
        const ar_rule_origin *r = &APR_ARRAY_IDX(o, i, ar_rule_origin);
        out = apr_psprintf(pool, "%s%s%d:%u.%d", out, i ? " " : "", r->resno, r->table, r->column);
    }
    return out;
}

/* t/unit/rules/<name>.txt: a view's rule as PostgreSQL 15 prints it
 * (pg_rewrite.ev_action::text); project is oid 16620, subsidy 16646. */
static const char *rule_file(const char *name)
{
    const char *path = apr_pstrcat(pool, AR_RULES_DIR, "/", name, ".txt", NULL);
    FILE *f = fopen(path, "rb");
    char *buf = apr_palloc(pool, 65536);
    size_t n = f ? fread(buf, 1, 65535, f) : 0;

    if (f)
        fclose(f);
    buf[n] = '\0';
    while (n && buf[n - 1] == '\n')
        buf[--n] = '\0';
    return buf;
}

static void test_rule_origins(void)
{
    /* CREATE VIEW v_simple AS SELECT p.name, p.id, p.ward + 0 AS w FROM project p */
    is_str(origins_text(rule_file("v_simple")), "1:16620.2 2:16620.1",
           "a simple view: each column as it is, not the expression");
    /* SELECT (SELECT s.id FROM subsidy s WHERE ... LIMIT 1) AS first_subsidy,
     *        p.id AS pid, p.name FROM project p */
    is_str(origins_text(rule_file("v_sub")), "2:16620.1 3:16620.2",
           "a sub-select's own column 1 (subsidy.id) is not the view's column 1");
    /* WITH s AS (SELECT id, project_id FROM subsidy) SELECT s.project_id * 1 AS n, s.id FROM s */
    is_str(origins_text(rule_file("v_cte")), "2:16646.1",
           "a CTE's target list is not the view's; PostgreSQL follows the CTE for s.id");
    /* SELECT p.id AS "a :resno 9 :resorigtbl 1", x.pid FROM project p JOIN
     * (SELECT s.project_id AS pid, s.id FROM subsidy s) x ON ...; named "we{ird" */
    is_str(origins_text(rule_file("weird")), "1:16620.1 2:16646.2",
           "a FROM sub-query's entries come first and are skipped; escaped names do not "
           "read as fields");
    /* SELECT id FROM project UNION ALL SELECT id FROM subsidy */
    is_str(origins_text(rule_file("v_union")), "", "a UNION's columns have no single origin");

    is_str(origins_text("({QUERY :targetList ({TARGETENTRY :expr {VAR :varno 1} :resno 1 "
                        ":resname :resno :ressortgroupref 0 :resorigtbl 7 :resorigcol 3 "
                        ":resjunk false})})"),
           "1:7.3", "a column named \":resno\" leaves its number alone");
    is_str(origins_text("({QUERY :targetList ({TARGETENTRY :expr {VAR} :resno 1 "
                        ":resname a\\}b\\ :resorigtbl\\ 9 :resorigtbl 7 :resorigcol 3})})"),
           "1:7.3", "escaped brackets and spaces in a name");
    is_str(origins_text("({QUERY :targetList ({TARGETENTRY :expr {VAR} :resno 1 "
                        ":resname :a\\) :resorigtbl 7 :resorigcol 3} {TARGETENTRY :resno 2 "
                        ":resname b :resorigtbl 8 :resorigcol 1})})"),
           "1:7.3 2:8.1", "a name that starts with ':' and holds an escaped bracket");
    is_str(origins_text("({QUERY :targetList ({TARGETENTRY :resno 1 :resorigtbl 7 "
                        ":resorigcol -1})})"),
           "", "a system column is no origin");
    is_str(origins_text("({QUERY :targetList <> :rtable <>})"), "", "no target list");
    is_str(origins_text("({NOTIFY :conditionname x})"), "", "not a query");
    is_str(origins_text(""), "", "empty text");
    is_str(origins_text("({QUERY :targetList ({TARGETENTRY :resno 1 :resorigtbl 7 :resorigcol 3"),
           "", "cut short: an entry never closed is not taken");
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);

    build_types();
    test_type_encoding();
    test_schema();
    test_rule_origins();

    apr_pool_destroy(pool);
    apr_terminate();
    return tap_done();
}
