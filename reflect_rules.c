/*
 * reflect_rules.c: the pure rules over a reflected schema: which encoder a
 * type's values take, looking relations and columns up in the snapshot,
 * and what a Location exposes (schemas, names, columns, relationships) and
 * which methods a role may use on it.
 *
 * Pure core: no httpd, no server. reflect.c builds the snapshot these read;
 * the unit tests build one by hand.
 */
#include <string.h>

#include <apr_strings.h>

#include "autorest.h"
#include "reflect_catalogue.h"

/* Built-in type OIDs (src/include/catalog/pg_type.dat); stable across versions. */
enum {
    OID_BOOL = 16, OID_INT8 = 20, OID_INT2 = 21, OID_INT4 = 23,
    OID_JSON = 114, OID_FLOAT4 = 700, OID_FLOAT8 = 701,
    OID_TIMESTAMP = 1114, OID_TIMESTAMPTZ = 1184,
    OID_NUMERIC = 1700, OID_UUID = 2950, OID_JSONB = 3802
};

static const ar_type_info *type_lookup(apr_hash_t *types, unsigned int oid)
{
    return apr_hash_get(types, &oid, sizeof(oid));
}

/* Follow domains to the type to_json() actually looks at. */
static const ar_type_info *base_type(apr_hash_t *types, unsigned int oid)
{
    const ar_type_info *t = type_lookup(types, oid);
    int depth = 0;

    while (t && t->typtype == 'd' && depth++ < 32)
        t = type_lookup(types, t->base);
    return t;
}

static ar_encoding scalar_encoding(const ar_type_info *t)
{
    switch (t->oid) {
    case OID_INT2: case OID_INT4: case OID_INT8:
    case OID_FLOAT4: case OID_FLOAT8: case OID_NUMERIC:
        return AR_ENC_NUMBER;
    case OID_BOOL:
        return AR_ENC_BOOL;
    case OID_JSON: case OID_JSONB:
        return AR_ENC_JSON;
    case OID_TIMESTAMP: case OID_TIMESTAMPTZ:
        return AR_ENC_TIMESTAMP;
    }
    /* Composites become objects with field names the text form lacks, and a
     * user type with a cast to json is rendered by that cast: PostgreSQL
     * does both better than we could. */
    if (t->typtype == 'c' || t->json_cast)
        return AR_ENC_SQL_JSON;
    return AR_ENC_STRING;
}

int ar_type_is_integer(unsigned int oid)
{
    return oid == OID_INT2 || oid == OID_INT4 || oid == OID_INT8;
}

int ar_type_is_decimal(unsigned int oid)
{
    return oid == OID_NUMERIC || oid == OID_FLOAT4 || oid == OID_FLOAT8;
}

static int sortable_type(const ar_type_info *t)
{
    /* numeric, string, date/time, boolean, enum, timespan, bit, network */
    return strchr("NSDBETVI", t->category) != NULL || t->oid == OID_UUID;
}

void ar_type_encoding(apr_hash_t *types, unsigned int oid, ar_encoding *enc,
                      ar_encoding *elem_enc, int *sortable)
{
    const ar_type_info *t = base_type(types, oid);

    *enc = AR_ENC_STRING;
    *elem_enc = AR_ENC_STRING;
    *sortable = 0;
    if (!t)
        return;
    if (t->category == 'A' && t->elem) {
        const ar_type_info *e = base_type(types, t->elem);
        ar_encoding inner = e ? scalar_encoding(e) : AR_ENC_STRING;

        /* Our array reader knows the ',' delimiter and scalar elements only. */
        if (!e || e->delim != ',' || inner == AR_ENC_SQL_JSON || e->typtype == 'r'
            || e->typtype == 'm') {
            *enc = AR_ENC_SQL_JSON;
            return;
        }
        *enc = AR_ENC_ARRAY;
        *elem_enc = inner;
        return;
    }
    *enc = scalar_encoding(t);
    *sortable = sortable_type(t);
}

const apr_array_header_t *ar_type_enum_labels(apr_hash_t *types, unsigned int oid)
{
    const ar_type_info *t = base_type(types, oid);

    if (t && t->category == 'A' && t->elem)
        t = base_type(types, t->elem);
    return t ? t->enum_labels : NULL;
}

/* Keys are "schema" NUL "name": no separator a name could contain. */
const char *ar_schema_key(apr_pool_t *p, const char *schema, const char *name,
                              apr_size_t *len)
{
    apr_size_t sl = strlen(schema), nl = strlen(name);
    char *k = apr_palloc(p, sl + nl + 2);

    memcpy(k, schema, sl + 1);
    memcpy(k + sl + 1, name, nl + 1);
    *len = sl + nl + 1;
    return k;
}

ar_schema *ar_schema_create(apr_pool_t *p)
{
    ar_schema *s = apr_pcalloc(p, sizeof(*s));

    s->pool = p;
    s->relations = apr_array_make(p, 64, sizeof(ar_relation *));
    s->by_name = apr_hash_make(p);
    s->routines = apr_array_make(p, 16, sizeof(struct ar_routine *));
    s->routines_by_name = apr_hash_make(p);
    s->loaded_at = apr_time_now();
    return s;
}

void ar_schema_add(ar_schema *s, ar_relation *rel)
{
    apr_size_t klen;
    const char *k = ar_schema_key(s->pool, rel->schema, rel->name, &klen);

    APR_ARRAY_PUSH(s->relations, ar_relation *) = rel;
    apr_hash_set(s->by_name, k, klen, rel);
}

const ar_relation *ar_schema_find(const ar_schema *s, const char *schema,
                                  const char *name)
{
    char buf[512];
    apr_size_t sl = strlen(schema), nl = strlen(name);

    if (sl + nl + 2 > sizeof(buf))
        return NULL; /* longer than any PostgreSQL identifier pair */
    memcpy(buf, schema, sl + 1);
    memcpy(buf + sl + 1, name, nl + 1);
    return apr_hash_get(s->by_name, buf, sl + nl + 1);
}

int ar_column_is_json(const ar_column *c)
{
    return strcmp(c->type, "json") == 0 || strcmp(c->type, "jsonb") == 0;
}

int ar_relation_column_index(const ar_relation *rel, const char *name)
{
    int i;

    for (i = 0; i < rel->columns->nelts; i++)
        if (strcmp(APR_ARRAY_IDX(rel->columns, i, ar_column).name, name) == 0)
            return i;
    return -1;
}

int ar_exposed_schema(const ar_exposure *x, const char *schema)
{
    int i;

    for (i = 0; i < x->schemas->nelts; i++)
        if (strcmp(APR_ARRAY_IDX(x->schemas, i, const char *), schema) == 0)
            return 1;
    return 0;
}

int ar_exposed_object(const ar_exposure *x, const char *schema, const char *name)
{
    if (!ar_exposed_schema(x, schema))
        return 0;
    if (x->excluded && apr_hash_count(x->excluded)) {
        char key[512];

        apr_snprintf(key, sizeof(key), "%s.%s", schema, name);
        if (apr_hash_get(x->excluded, key, APR_HASH_KEY_STRING))
            return 0;
    }
    return 1;
}

int ar_exposed_relation(const ar_exposure *x, const ar_relation *rel)
{
    return ar_exposed_object(x, rel->schema, rel->name);
}

int ar_exposed_name(const ar_exposure *x, const ar_relation *rel, const char *name)
{
    char key[768];

    if (!x->hidden || apr_hash_count(x->hidden) == 0)
        return 1;
    apr_snprintf(key, sizeof(key), "%s.%s.%s", rel->schema, rel->name, name);
    return apr_hash_get(x->hidden, key, APR_HASH_KEY_STRING) == NULL;
}

int ar_exposed_column(const ar_exposure *x, const ar_relation *rel,
                      const ar_column *col)
{
    return ar_exposed_name(x, rel, col->name);
}

int ar_role_can(apr_pool_t *p, const ar_relation *rel, apr_hash_t *writable)
{
    const int *bits;

    if (!writable)
        return rel->writable;
    bits = apr_hash_get(writable, apr_pstrcat(p, rel->schema, ".", rel->name, NULL),
                        APR_HASH_KEY_STRING);
    return bits ? *bits & rel->writable : 0;
}

const char *ar_method_name(int bit)
{
    switch (bit) {
    case AR_METHOD_GET: return "GET";
    case AR_METHOD_POST: return "POST";
    case AR_METHOD_PATCH: return "PATCH";
    case AR_METHOD_PUT: return "PUT";
    case AR_METHOD_DELETE: return "DELETE";
    }
    return NULL;
}

int ar_relation_methods(const ar_relation *rel, int methods, int can)
{
    int out = AR_METHOD_GET;

    if ((methods & AR_METHOD_POST) && (can & AR_CAN_INSERT))
        out |= AR_METHOD_POST;
    if ((methods & AR_METHOD_PATCH) && (can & AR_CAN_UPDATE))
        out |= AR_METHOD_PATCH;
    if ((methods & AR_METHOD_PUT) && rel->primary_key
        && (can & (AR_CAN_INSERT | AR_CAN_UPDATE)) == (AR_CAN_INSERT | AR_CAN_UPDATE))
        out |= AR_METHOD_PUT;
    if ((methods & AR_METHOD_DELETE) && (can & AR_CAN_DELETE))
        out |= AR_METHOD_DELETE;
    return out;
}

static int names_exposed(const ar_exposure *x, const ar_relation *rel,
                         const apr_array_header_t *names)
{
    int i;

    for (i = 0; i < names->nelts; i++)
        if (!ar_exposed_name(x, rel, APR_ARRAY_IDX(names, i, const char *)))
            return 0;
    return 1;
}

int ar_exposed_relationship(const ar_exposure *x, const ar_relationship *r)
{
    const ar_foreign_key *fk = r->fk;

    if (r->card == AR_CARD_M2M)
        return names_exposed(x, r->junction, fk->cols)
               && names_exposed(x, r->junction, r->fk_target->cols)
               && names_exposed(x, r->parent, fk->ref_cols)
               && names_exposed(x, r->target, r->fk_target->ref_cols);
    if (r->fk_on_parent)
        return names_exposed(x, r->parent, fk->cols) && names_exposed(x, r->target, fk->ref_cols);
    return names_exposed(x, r->target, fk->cols) && names_exposed(x, r->parent, fk->ref_cols);
}

const ar_relation *ar_resolve_relation(const ar_schema *s, const ar_exposure *x,
                                       const char *profile, const char *segment)
{
    const ar_relation *rel;
    const char *dot;

    if (x->schemas->nelts == 0)
        return NULL;
    /* A name in the default schema wins over a schema-qualified reading, so
     * a relation called "a.b" stays reachable; then every dot is tried as
     * the split, since schema names may hold dots too. */
    rel = ar_schema_find(s, profile ? profile : APR_ARRAY_IDX(x->schemas, 0, const char *),
                         segment);
    for (dot = strchr(segment, '.'); !rel && dot; dot = strchr(dot + 1, '.')) {
        char schema[256];
        apr_size_t sl = (apr_size_t)(dot - segment);

        if (sl >= sizeof(schema))
            break;
        memcpy(schema, segment, sl);
        schema[sl] = '\0';
        if (ar_exposed_schema(x, schema))
            rel = ar_schema_find(s, schema, dot + 1);
    }
    if (rel && !ar_exposed_relation(x, rel))
        return NULL;
    return rel;
}
