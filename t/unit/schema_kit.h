/* schema_kit.h: hand-made schemas for the tests of the pure core (the unit
 * tests and the fuzz target): relations, columns, keys and foreign keys
 * filled in as reflect.c fills them from the catalogue. */
#ifndef SCHEMA_KIT_H
#define SCHEMA_KIT_H
#include <stdarg.h>
#include <string.h>

#include <apr_pools.h>
#include <apr_tables.h>

#include "autorest.h"

/* The table schema_name.name, added to s, with no columns or keys yet. */
static inline ar_relation *kit_relation(apr_pool_t *p, ar_schema *s, const char *schema_name,
                                        const char *name)
{
    ar_relation *r = apr_pcalloc(p, sizeof(*r));

    r->schema = schema_name;
    r->name = name;
    r->kind = 'r';
    r->columns = apr_array_make(p, 4, sizeof(ar_column));
    r->unique_keys = apr_array_make(p, 1, sizeof(ar_key));
    r->foreign_keys = apr_array_make(p, 1, sizeof(ar_foreign_key));
    ar_schema_add(s, r);
    return r;
}

/* A column after r's others; array elements are strings unless said. */
static inline ar_column *kit_column(ar_relation *r, const char *name, const char *type,
                                    ar_encoding enc, int nullable, int sortable)
{
    ar_column *c = apr_array_push(r->columns);

    memset(c, 0, sizeof(*c));
    c->name = name;
    c->type = type;
    c->enc = enc;
    c->elem_enc = AR_ENC_STRING;
    c->nullable = nullable;
    c->sortable = sortable;
    c->position = r->columns->nelts;
    return c;
}

/* A key over the columns at the given indexes, the list ended by -1. */
static inline ar_key *kit_key(apr_pool_t *p, const char *name, ...)
{
    ar_key *k = apr_pcalloc(p, sizeof(*k));
    va_list ap;
    int col;

    k->name = name;
    k->cols = apr_array_make(p, 2, sizeof(int));
    va_start(ap, name);
    while ((col = va_arg(ap, int)) >= 0)
        APR_ARRAY_PUSH(k->cols, int) = col;
    va_end(ap);
    return k;
}

/* A foreign key of r to ref_schema.ref: pairs of r's column and the
 * referenced one, the list ended by NULL ("a", "id", NULL). */
static inline ar_foreign_key *kit_foreign_key(apr_pool_t *p, ar_relation *r, const char *name,
                                              const char *ref_schema, const char *ref, ...)
{
    ar_foreign_key *f = apr_array_push(r->foreign_keys);
    const char *col;
    va_list ap;

    f->name = name;
    f->ref_schema = ref_schema;
    f->ref_relation = ref;
    f->cols = apr_array_make(p, 2, sizeof(const char *));
    f->ref_cols = apr_array_make(p, 2, sizeof(const char *));
    va_start(ap, ref);
    while ((col = va_arg(ap, const char *)) != NULL) {
        APR_ARRAY_PUSH(f->cols, const char *) = col;
        APR_ARRAY_PUSH(f->ref_cols, const char *) = va_arg(ap, const char *);
    }
    va_end(ap);
    return f;
}

/* The function schema_name.name, added to s: no arguments yet, returning
 * result (NULL: void), of volatility 'i', 's' or 'v'. */
static inline ar_routine *kit_routine(apr_pool_t *p, ar_schema *s, const char *schema_name,
                                      const char *name, char volatility,
                                      const ar_relation *result, ar_returns returns, int setof)
{
    ar_routine *r = apr_pcalloc(p, sizeof(*r));

    r->schema = schema_name;
    r->name = name;
    r->volatility = volatility;
    r->args = apr_array_make(p, 2, sizeof(ar_routine_arg));
    r->result = result;
    r->returns = returns;
    r->setof = setof;
    r->return_type = result ? result->name : "void";
    ar_schema_add_routine(s, r);
    return r;
}

/* An argument after r's others. */
static inline ar_routine_arg *kit_arg(ar_routine *r, const char *name, const char *type,
                                      int has_default)
{
    ar_routine_arg *a = apr_array_push(r->args);

    memset(a, 0, sizeof(*a));
    a->name = name;
    a->type = type;
    a->has_default = has_default;
    a->json = strcmp(type, "json") == 0 || strcmp(type, "jsonb") == 0;
    a->array = strstr(type, "[]") != NULL;
    return a;
}

/* A function's own result relation (OUT parameters, a scalar's one column). */
static inline ar_relation *kit_result(apr_pool_t *p, const char *schema_name, const char *name)
{
    ar_relation *r = apr_pcalloc(p, sizeof(*r));

    r->schema = schema_name;
    r->name = name;
    r->kind = AR_KIND_RESULT;
    r->columns = apr_array_make(p, 2, sizeof(ar_column));
    r->unique_keys = apr_array_make(p, 1, sizeof(ar_key));
    r->foreign_keys = apr_array_make(p, 1, sizeof(ar_foreign_key));
    return r;
}

#endif
