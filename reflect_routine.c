/*
 * reflect_routine.c: the functions and procedures of the served schemas,
 * read from pg_proc in reflect.c's transaction, so relations and routines
 * are one snapshot.
 *
 * A routine keeps what a call needs: the arguments a caller gives (IN,
 * INOUT, VARIADIC; with their types for the casts that pick the overload),
 * how many take defaults, volatility (GET and AutoRestRPC read serve only
 * STABLE and IMMUTABLE ones), and the shape of its result as a relation the
 * read planner can select from.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <libpq-fe.h>

#include "autorest.h"
#include "reflect_catalogue.h"

enum { OID_RECORD = 2249, OID_VOID = 2278, OID_JSON = 114, OID_JSONB = 3802 };

/* One row per argument (and one with NULLs for a routine without any), in
 * call order. Trigger functions, handlers and anything taking `internal`
 * cannot be called over HTTP and are left out. */
static const char routines_sql[] =
    "SELECT p.oid, n.nspname, p.proname, p.prokind, p.provolatile, p.proretset,"
    "  p.prorettype, format_type(p.prorettype, NULL), r.typtype, r.typrelid,"
    "  p.pronargdefaults, obj_description(p.oid, 'pg_proc'),"
    "  a.i, a.name, a.mode, a.type, format_type(a.type, NULL)"
    " FROM pg_proc p"
    " JOIN pg_namespace n ON n.oid = p.pronamespace"
    " JOIN pg_type r ON r.oid = p.prorettype"
    " LEFT JOIN LATERAL ("
    "   SELECT u.i, coalesce(p.proargnames[u.i], '') AS name,"
    "     coalesce(p.proargmodes[u.i], 'i') AS mode, u.t AS type"
    "   FROM unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) WITH ORDINALITY u(t, i)"
    " ) a ON true"
    " WHERE n.nspname = ANY($1::text[]) AND p.prokind IN ('f', 'p')"
    "  AND " AR_PRIVILEGE("has_function_privilege(p.oid, 'EXECUTE')")
    "  AND r.typname NOT IN ('trigger', 'event_trigger', 'internal', 'language_handler',"
    "   'fdw_handler', 'index_am_handler', 'table_am_handler', 'tsm_handler')"
    "  AND NOT 'internal'::regtype = ANY(coalesce(p.proallargtypes, p.proargtypes::oid[]))"
    " ORDER BY n.nspname, p.proname, p.oid, a.i";

/* The columns of the composite types routines return that are no
 * reflected relation (a CREATE TYPE ... AS, or a table elsewhere). */
static const char result_columns_sql[] =
    "SELECT DISTINCT r.typrelid, a.attnum, a.attname, a.atttypid,"
    "  format_type(a.atttypid, a.atttypmod)"
    " FROM pg_proc p"
    " JOIN pg_namespace n ON n.oid = p.pronamespace"
    " JOIN pg_type r ON r.oid = p.prorettype"
    " JOIN pg_attribute a ON a.attrelid = r.typrelid AND a.attnum > 0 AND NOT a.attisdropped"
    " WHERE n.nspname = ANY($1::text[])"
    " ORDER BY 1, 2";

const apr_array_header_t *ar_schema_routines(const ar_schema *s, const char *schema,
                                             const char *name)
{
    char buf[512];
    apr_size_t sl = strlen(schema), nl = strlen(name);

    if (!s->routines_by_name || sl + nl + 2 > sizeof(buf))
        return NULL;
    memcpy(buf, schema, sl + 1);
    memcpy(buf + sl + 1, name, nl + 1);
    return apr_hash_get(s->routines_by_name, buf, sl + nl + 1);
}

void ar_schema_add_routine(ar_schema *s, ar_routine *r)
{
    apr_size_t klen;
    const char *k = ar_schema_key(s->pool, r->schema, r->name, &klen);
    apr_array_header_t *overloads = apr_hash_get(s->routines_by_name, k, klen);

    if (!overloads) {
        overloads = apr_array_make(s->pool, 1, sizeof(ar_routine *));
        apr_hash_set(s->routines_by_name, k, klen, overloads);
    }
    APR_ARRAY_PUSH(overloads, ar_routine *) = r;
    APR_ARRAY_PUSH(s->routines, ar_routine *) = r;
}

int ar_exposed_routine(const ar_exposure *x, const ar_routine *r)
{
    return ar_exposed_object(x, r->schema, r->name);
}

/* A result relation of the routine's own, columns added by add_column. */
static ar_relation *own_result(apr_pool_t *p, const ar_routine *r)
{
    ar_relation *rel = apr_pcalloc(p, sizeof(*rel));

    rel->schema = r->schema;
    rel->name = r->name;
    rel->kind = AR_KIND_RESULT;
    rel->columns = apr_array_make(p, 4, sizeof(ar_column));
    rel->unique_keys = apr_array_make(p, 1, sizeof(ar_key));
    rel->foreign_keys = apr_array_make(p, 1, sizeof(ar_foreign_key));
    return rel;
}

static void add_column(apr_pool_t *p, ar_relation *rel, apr_hash_t *types, const char *name,
                       unsigned int type_oid, const char *type)
{
    ar_column *c = apr_array_push(rel->columns);

    memset(c, 0, sizeof(*c));
    c->name = name;
    c->type = type;
    c->type_oid = type_oid;
    c->nullable = 1;
    c->position = rel->columns->nelts;
    ar_type_encoding(types, type_oid, &c->enc, &c->elem_enc, &c->sortable);
    c->enum_labels = ar_type_enum_labels(types, type_oid);
}

static unsigned int oid_at(PGresult *res, int row, int col)
{
    return (unsigned int)strtoul(PQgetvalue(res, row, col), NULL, 10);
}

/* Marks the last n of the routine's arguments as taking defaults. */
static void mark_defaults(ar_routine *r, int n)
{
    int i;

    for (i = r->args->nelts - 1; i >= 0 && n > 0; i--, n--)
        APR_ARRAY_IDX(r->args, i, ar_routine_arg).has_default = 1;
}

/* The result's shape once all the routine's rows are read: void, a scalar
 * column, OUT parameters' columns (already in *own), or a composite
 * type's (a reflected relation's, or read by result_columns_sql). */
static void settle_result(apr_pool_t *p, ar_routine *r, ar_relation *own, PGresult *res, int row,
                          apr_hash_t *types, apr_hash_t *relations_by_oid,
                          apr_hash_t *composites)
{
    unsigned int rettype = oid_at(res, row, 6);
    char typtype = PQgetvalue(res, row, 8)[0];
    const char *relid = PQgetvalue(res, row, 9);

    if (rettype == OID_VOID || (r->procedure && own->columns->nelts == 0)) {
        r->returns = AR_RETURNS_VOID;
        return;
    }
    r->returns = AR_RETURNS_ROWS;
    if (own->columns->nelts > 0) {
        /* OUT, INOUT or TABLE parameters: an object even for one, as
         * PostgREST answers */
        r->result = own;
        r->out_params = 1;
        return;
    }
    if (typtype == 'c' && strcmp(relid, "0") != 0) {
        const ar_relation *rel = apr_hash_get(relations_by_oid, relid, APR_HASH_KEY_STRING);
        ar_relation *cols = apr_hash_get(composites, relid, APR_HASH_KEY_STRING);

        if (rel) {
            r->result = rel;
            return;
        }
        if (cols) {
            ar_relation *mine = own_result(p, r);
            mine->columns = cols->columns;
            r->result = mine;
            return;
        }
    }
    /* one value (a record without OUT parameters too: to_json shows it) */
    r->returns = AR_RETURNS_SCALAR;
    own->columns->nelts = 0;
    add_column(p, own, types, r->name, rettype, r->return_type);
    if (rettype == OID_RECORD) /* to_json names its fields */
        APR_ARRAY_IDX(own->columns, 0, ar_column).enc = AR_ENC_SQL_JSON;
    r->result = own;
}

static apr_hash_t *load_composites(apr_pool_t *p, PGresult *res, apr_hash_t *types)
{
    apr_hash_t *out = apr_hash_make(p);
    int i, n = PQntuples(res);

    for (i = 0; i < n; i++) {
        const char *relid = PQgetvalue(res, i, 0);
        ar_relation *rel = apr_hash_get(out, relid, APR_HASH_KEY_STRING);

        if (!rel) {
            rel = apr_pcalloc(p, sizeof(*rel));
            rel->columns = apr_array_make(p, 4, sizeof(ar_column));
            apr_hash_set(out, apr_pstrdup(p, relid), APR_HASH_KEY_STRING, rel);
        }
        add_column(p, rel, types, apr_pstrdup(p, PQgetvalue(res, i, 2)), oid_at(res, i, 3),
                   apr_pstrdup(p, PQgetvalue(res, i, 4)));
    }
    return out;
}

ar_error *ar_reflect_routines(PGconn *conn, ar_schema *s, const char *schemas,
                              apr_hash_t *types, apr_hash_t *relations_by_oid)
{
    apr_pool_t *p = s->pool;
    PGresult *res = ar_catalogue_query(conn, result_columns_sql, schemas);
    apr_hash_t *composites;
    ar_routine *r = NULL;
    ar_relation *own = NULL;
    const char *current = NULL;
    int i, n, last = -1;

    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        goto fail;
    composites = load_composites(p, res, types);
    PQclear(res);
    res = ar_catalogue_query(conn, routines_sql, schemas);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        goto fail;
    n = PQntuples(res);
    for (i = 0; i <= n; i++) {
        const char *oid = i < n ? PQgetvalue(res, i, 0) : NULL;
        const char *mode;

        if (r && (!oid || strcmp(current, oid) != 0)) {
            settle_result(p, r, own, res, last, types, relations_by_oid, composites);
            ar_schema_add_routine(s, r);
            r = NULL;
        }
        if (!oid)
            break;
        if (!r) {
            r = apr_pcalloc(p, sizeof(*r));
            r->schema = apr_pstrdup(p, PQgetvalue(res, i, 1));
            r->name = apr_pstrdup(p, PQgetvalue(res, i, 2));
            r->procedure = PQgetvalue(res, i, 3)[0] == 'p';
            r->volatility = PQgetvalue(res, i, 4)[0];
            r->setof = PQgetvalue(res, i, 5)[0] == 't';
            r->return_type = apr_pstrdup(p, PQgetvalue(res, i, 7));
            r->comment = ar_catalogue_text(p, res, i, 11);
            r->args = apr_array_make(p, 4, sizeof(ar_routine_arg));
            own = own_result(p, r);
            current = apr_pstrdup(p, oid);
        }
        last = i;
        if (PQgetisnull(res, i, 12))
            continue; /* no arguments */
        mode = PQgetvalue(res, i, 14);
        if (*mode == 'o' || *mode == 't' || *mode == 'b')
            add_column(p, own, types, apr_pstrdup(p, PQgetvalue(res, i, 13)), oid_at(res, i, 15),
                       apr_pstrdup(p, PQgetvalue(res, i, 16)));
        if (*mode == 'i' || *mode == 'b' || *mode == 'v') {
            ar_routine_arg *a = apr_array_push(r->args);
            unsigned int t = oid_at(res, i, 15);
            ar_encoding enc, elem;
            int sortable;

            memset(a, 0, sizeof(*a));
            a->name = apr_pstrdup(p, PQgetvalue(res, i, 13));
            a->type_oid = t;
            a->type = apr_pstrdup(p, PQgetvalue(res, i, 16));
            a->variadic = *mode == 'v';
            a->json = t == OID_JSON || t == OID_JSONB;
            ar_type_encoding(types, t, &enc, &elem, &sortable);
            a->array = enc == AR_ENC_ARRAY || strstr(a->type, "[]") != NULL;
        }
        if (i + 1 == n || strcmp(PQgetvalue(res, i + 1, 0), oid) != 0)
            mark_defaults(r, atoi(PQgetvalue(res, i, 10)));
    }
    PQclear(res);
    return NULL;

fail:
    {
        ar_error *err = ar_catalogue_error(p, conn, res);
        PQclear(res);
        return err;
    }
}
