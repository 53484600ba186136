/*
 * reflect.c: what the database holds, read from pg_catalog.
 *
 * ar_reflect_load() runs its catalogue queries over libpq in one REPEATABLE
 * READ transaction, so they agree with each other (and again when DDL
 * overtook them: vanished_sql), and builds an
 * immutable ar_schema in a pool the caller owns. The pure rules over it
 * (lookups, type-to-encoder rules, exposure rules) are in reflect_rules.c;
 * the parts here that need no server (a view's rule origins, the keys its
 * origins give it) are unit-tested too. We read pg_catalog rather than
 * information_schema: it is faster, it knows materialized views, and it
 * gives type OIDs and constraint keys as arrays.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <libpq-fe.h>

#include "autorest.h"
#include "reflect_catalogue.h"

/* ------------------------------------------------------ catalogue queries */

/* Every type the exposed columns use, and the arguments and results of the
 * schemas' functions, with what ar_type_encoding needs: domains' bases and
 * arrays' elements, transitively. */
static const char types_sql[] =
    "WITH RECURSIVE used(oid) AS ("
    "  SELECT DISTINCT a.atttypid FROM pg_attribute a"
    "   JOIN pg_class c ON c.oid = a.attrelid"
    "   JOIN pg_namespace n ON n.oid = c.relnamespace"
    "  WHERE n.nspname = ANY($1::text[]) AND a.attnum > 0 AND NOT a.attisdropped"
    "  UNION SELECT t FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace,"
    "   unnest(coalesce(p.proallargtypes, p.proargtypes::oid[]) || p.prorettype) t"
    "  WHERE n.nspname = ANY($1::text[])"
    "  UNION SELECT a.atttypid FROM pg_proc p"
    "   JOIN pg_namespace n ON n.oid = p.pronamespace"
    "   JOIN pg_type r ON r.oid = p.prorettype"
    "   JOIN pg_attribute a ON a.attrelid = r.typrelid"
    "  WHERE n.nspname = ANY($1::text[]) AND a.attnum > 0 AND NOT a.attisdropped"
    "  UNION"
    "  SELECT x FROM used u JOIN pg_type t ON t.oid = u.oid,"
    "   LATERAL (VALUES (t.typbasetype), (t.typelem)) v(x) WHERE x <> 0)"
    " SELECT t.oid, t.typtype, t.typcategory, t.typdelim, t.typbasetype, t.typelem,"
    "  (t.oid >= 16384 AND EXISTS (SELECT 1 FROM pg_cast k"
    "     WHERE k.castsource = t.oid AND k.casttarget = 'json'::regtype)),"
    "  CASE WHEN t.typtype = 'e' THEN ARRAY(SELECT e.enumlabel::text FROM pg_enum e"
    "   WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder) END"
    " FROM pg_type t JOIN used u ON u.oid = t.oid";

/* Whether a read of relation c may run code the database was given, or
 * built-in code that reads settings, either of which could read the
 * request's settings (request.headers, ...):
 * - a table with row security (its policies); a foreign table (its
 *   wrapper's code);
 * - a view whose query reads settings (current_setting(), pg_settings:
 *   built in, so pg_depend records no use of them, and its text is
 *   searched), or uses a function, operator or type made in this database
 *   (oid 16384, FirstNormalObjectId, and up; extensions' count as made
 *   here), a table with row security, a foreign table or another view,
 *   which counts as code unexamined;
 * - a column of a type made in the database (its comparisons and text are
 *   its own functions), unless it is an enum without casts or operators of
 *   its own (to_json() would take a cast to json), or a domain or array
 *   over a built-in type or such an enum. */
#define SAFE_TYPE(t)                                                                          \
    "(" t ".oid < 16384 OR (" t ".typtype = 'e'"                                            \
    " AND NOT EXISTS (SELECT 1 FROM pg_cast WHERE castsource = " t ".oid)"                    \
    " AND NOT EXISTS (SELECT 1 FROM pg_operator"                                              \
    "   WHERE oprleft = " t ".oid OR oprright = " t ".oid)))"
#define READ_RUNS_CODE                                                                        \
    "(c.relkind IN ('r', 'p') AND c.relrowsecurity) OR c.relkind = 'f'"                     \
    " OR (c.relkind = 'v' AND (pg_get_viewdef(c.oid)"                                         \
    "     ~* '(current_setting|pg_settings|pg_show_all_settings)'"                            \
    "   OR EXISTS (SELECT 1 FROM pg_rewrite rw JOIN pg_depend dep"                            \
    "     ON dep.classid = 'pg_rewrite'::regclass AND dep.objid = rw.oid"                     \
    "   WHERE rw.ev_class = c.oid AND dep.refobjid >= 16384"                                  \
    "     AND (dep.refclassid IN ('pg_proc'::regclass, 'pg_operator'::regclass,"              \
    "                             'pg_type'::regclass)"                                       \
    "          OR (dep.refclassid = 'pg_class'::regclass AND dep.refobjid <> c.oid"           \
    "              AND EXISTS (SELECT 1 FROM pg_class used WHERE used.oid = dep.refobjid"     \
    "                  AND (used.relrowsecurity OR used.relkind NOT IN ('r', 'p', 'm'))))))))" \
    " OR EXISTS (SELECT 1 FROM pg_attribute ta JOIN pg_type ty ON ty.oid = ta.atttypid"       \
    "   LEFT JOIN pg_type inner_ty ON inner_ty.oid = CASE WHEN ty.typtype = 'd'"              \
    "     THEN ty.typbasetype WHEN ty.typcategory = 'A' THEN ty.typelem END"                  \
    "   WHERE ta.attrelid = c.oid AND ta.attnum > 0 AND NOT ta.attisdropped"                  \
    "     AND NOT " SAFE_TYPE("ty")                                                           \
    "     AND NOT coalesce(" SAFE_TYPE("inner_ty") ", false))"

static const char relations_sql[] =
    "SELECT c.oid, n.nspname, c.relname, c.relkind,"
    "  obj_description(c.oid, 'pg_class'),"
    "  a.attname, a.attnum, format_type(a.atttypid, a.atttypmod), a.atttypid,"
    "  a.attnotnull, pg_get_expr(d.adbin, d.adrelid), col_description(c.oid, a.attnum),"
    "  a.attgenerated <> '' OR a.attidentity = 'a',"
    "  a.atthasdef OR a.attidentity <> '' OR EXISTS (SELECT 1 FROM pg_type d"
    "     WHERE d.oid = a.atttypid AND d.typdefaultbin IS NOT NULL),"
    "  " AR_PRIVILEGE("has_column_privilege(c.oid, a.attnum, 'INSERT')") ","
    "  " AR_PRIVILEGE("has_column_privilege(c.oid, a.attnum, 'UPDATE')") ","
    "  (CASE WHEN " AR_PRIVILEGE("has_table_privilege(c.oid, 'INSERT')")
    "     AND u.events & 8 = 8 THEN 1 ELSE 0 END)"
    "  | (CASE WHEN " AR_PRIVILEGE("has_table_privilege(c.oid, 'UPDATE')")
    "     AND u.events & 4 = 4 THEN 2 ELSE 0 END)"
    "  | (CASE WHEN " AR_PRIVILEGE("has_table_privilege(c.oid, 'DELETE')")
    "     AND u.events & 16 = 16 THEN 4 ELSE 0 END)"
    "  , rc.runs_code"
    " FROM pg_class c"
    /* pg_relation_is_updatable() opens the relation, so it would wait behind
     * an ALTER TABLE's lock; a table's answer is known without it (every
     * event: 8 INSERT | 4 UPDATE | 16 DELETE), a materialized view's too */
    " CROSS JOIN LATERAL (SELECT CASE WHEN c.relkind IN ('r', 'p') THEN 28"
    "   WHEN c.relkind = 'm' THEN 0 ELSE pg_relation_is_updatable(c.oid, false) END) u(events)"
    " CROSS JOIN LATERAL (SELECT " READ_RUNS_CODE ") rc(runs_code)"
    " JOIN pg_namespace n ON n.oid = c.relnamespace"
    " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped"
    " LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum"
    " WHERE n.nspname = ANY($1::text[])"
    "  AND c.relkind IN ('r', 'v', 'm', 'f', 'p') AND NOT c.relispartition"
    "  AND " AR_PRIVILEGE("has_column_privilege(c.oid, a.attnum, 'SELECT')")
    " ORDER BY n.nspname, c.relname, a.attnum";

static const char keys_sql[] =
    "SELECT k.conrelid, k.conname, k.contype,"
    "  ARRAY(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY u(n, i)"
    "        JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.i),"
    "  fn.nspname, fc.relname,"
    "  ARRAY(SELECT a.attname FROM unnest(k.confkey) WITH ORDINALITY u(n, i)"
    "        JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n ORDER BY u.i)"
    " FROM pg_constraint k"
    " JOIN pg_class c ON c.oid = k.conrelid"
    " JOIN pg_namespace n ON n.oid = c.relnamespace"
    " LEFT JOIN pg_class fc ON fc.oid = k.confrelid"
    " LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace"
    " WHERE n.nspname = ANY($1::text[]) AND k.contype IN ('p', 'u', 'f')"
    "  AND NOT c.relispartition"
    " ORDER BY k.conrelid, k.contype, k.conname";

/* Where each column of a view comes from, when it is a table's column as
 * it is: the _RETURN rule's target list carries resorigtbl/resorigcol
 * (this is how PostgREST finds keys through views). A later entry for the
 * same column wins: the view's own target list comes after its range table,
 * where subqueries print theirs. */
/* The views' rules, read by ar_rule_origins (a regular expression over
 * the text cannot tell the outer query's target entries from those of its
 * sub-queries). */
static const char rules_sql[] =
    "SELECT vc.oid, rw.ev_action::text"
    " FROM pg_rewrite rw"
    " JOIN pg_class vc ON vc.oid = rw.ev_class AND vc.relkind IN ('v', 'm')"
    " JOIN pg_namespace vn ON vn.oid = vc.relnamespace"
    " WHERE vn.nspname = ANY($1::text[]) AND rw.rulename = '_RETURN'"
    " ORDER BY vc.oid";

/* The names of the table columns the rules' origins are: view oid, resno,
 * then the table's schema, name and column. */
static const char origins_sql[] =
    "SELECT u.v, u.r, n.nspname, c.relname, a.attname"
    " FROM unnest($1::oid[], $2::int[], $3::oid[], $4::int[]) AS u(v, r, t, k)"
    " JOIN pg_class c ON c.oid = u.t"
    " JOIN pg_namespace n ON n.oid = c.relnamespace"
    " JOIN pg_attribute a ON a.attrelid = u.t AND a.attnum = u.k AND NOT a.attisdropped"
    " ORDER BY u.v, u.r";

/*
 * PostgreSQL's node text (outfuncs.c): nodes are {NAME :field value ...},
 * lists (...); a token's special characters (whitespace, brackets,
 * backslash) are escaped with a backslash, so brackets count nesting. A
 * view's rule is ({QUERY ... :targetList ({TARGETENTRY :expr {...} :resno 1
 * ... :resorigtbl 16620 :resorigcol 1 ...} ...) ...}): the outer query is
 * at depth 2, its target list at 3, each entry's own fields at 4.
 */
enum { QUERY_DEPTH = 2, LIST_DEPTH = 3, ENTRY_DEPTH = 4 };

/* The name of the field at s (just after ':'), and its value's start. */
static apr_size_t field_name(const char *s, const char **value)
{
    apr_size_t n = strcspn(s, " \t\n(){}");

    *value = s + n + (s[n] == ' ');
    return n;
}

static int field_is(const char *s, apr_size_t n, const char *name)
{
    return n == strlen(name) && memcmp(s, name, n) == 0;
}

apr_array_header_t *ar_rule_origins(apr_pool_t *p, const char *text)
{
    apr_array_header_t *out = apr_array_make(p, 8, sizeof(ar_rule_origin));
    ar_rule_origin entry = {0, 0, 0};
    int depth = 0, in_list = 0, token_start = 1;
    const char *s;

    for (s = text; *s; s++) {
        const char *value;
        apr_size_t n;
        char c = *s;

        if (c == '\\') {
            if (s[1])
                s++;
            token_start = 0;
            continue;
        }
        if (c == '(' || c == '{') {
            depth++;
            if (c == '{' && depth == QUERY_DEPTH && strncmp(s + 1, "QUERY ", 6) != 0)
                return out; /* not a query */
            if (in_list && depth == ENTRY_DEPTH)
                memset(&entry, 0, sizeof(entry));
            token_start = 1;
            continue;
        }
        if (c == ')' || c == '}') {
            if (in_list && depth == ENTRY_DEPTH && entry.resno > 0 && entry.table
                && entry.column > 0)
                *(ar_rule_origin *)apr_array_push(out) = entry;
            if (in_list && depth == LIST_DEPTH)
                return out; /* the outer target list ends */
            depth--;
            token_start = 1;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\n') {
            token_start = 1;
            continue;
        }
        if (c != ':' || !token_start) {
            token_start = 0;
            continue;
        }
        n = field_name(s + 1, &value);
        if (!in_list && depth == QUERY_DEPTH && field_is(s + 1, n, "targetList")) {
            if (*value != '(')
                return out; /* <>: no columns */
            in_list = 1;
        }
        else if (in_list && depth == ENTRY_DEPTH && apr_isdigit(*value)) {
            /* a number: ":resno" as a column's name (":resname :resno")
             * is followed by the next field's name, and ignored */
            if (field_is(s + 1, n, "resno"))
                entry.resno = atoi(value);
            else if (field_is(s + 1, n, "resorigtbl"))
                entry.table = (unsigned int)strtoul(value, NULL, 10);
            else if (field_is(s + 1, n, "resorigcol"))
                entry.column = atoi(value);
        }
        token_start = 0; /* the name's characters are read on as plain ones */
    }
    return out;
}

/* The four arrays origins_sql takes, from rules_sql's rows: each view's
 * oid and resno with the table and column of its origin. */
static void origin_arrays(apr_pool_t *p, PGresult *rules, const char *arrays[4])
{
    apr_array_header_t *parts[4];
    int i, j, k;

    for (k = 0; k < 4; k++) {
        parts[k] = apr_array_make(p, 16, sizeof(const char *));
        APR_ARRAY_PUSH(parts[k], const char *) = "{";
    }
    for (i = 0; i < PQntuples(rules); i++) {
        const char *view = PQgetvalue(rules, i, 0);
        apr_array_header_t *o = ar_rule_origins(p, PQgetvalue(rules, i, 1));

        for (j = 0; j < o->nelts; j++) {
            const ar_rule_origin *r = &APR_ARRAY_IDX(o, j, ar_rule_origin);
            const char *sep = parts[0]->nelts > 1 ? "," : "";

            APR_ARRAY_PUSH(parts[0], const char *) = apr_pstrcat(p, sep, view, NULL);
            APR_ARRAY_PUSH(parts[1], const char *) = apr_psprintf(p, "%s%d", sep, r->resno);
            APR_ARRAY_PUSH(parts[2], const char *) = apr_psprintf(p, "%s%u", sep, r->table);
            APR_ARRAY_PUSH(parts[3], const char *) = apr_psprintf(p, "%s%d", sep, r->column);
        }
    }
    for (k = 0; k < 4; k++) {
        APR_ARRAY_PUSH(parts[k], const char *) = "}";
        arrays[k] = apr_array_pstrcat(p, parts[k], 0);
    }
}

static char *pg_text_array(apr_pool_t *p, const apr_array_header_t *items)
{
    /* {"a","b"} with quotes and backslashes escaped: a bound parameter, so
     * only the array syntax needs care. */
    char *out = "{";
    int i;

    for (i = 0; i < items->nelts; i++) {
        const char *s = APR_ARRAY_IDX(items, i, const char *);
        char *esc = apr_palloc(p, strlen(s) * 2 + 1), *e = esc;

        for (; *s; s++) {
            if (*s == '"' || *s == '\\')
                *e++ = '\\';
            *e++ = *s;
        }
        *e = '\0';
        out = apr_pstrcat(p, out, i ? ",\"" : "\"", esc, "\"", NULL);
    }
    return apr_pstrcat(p, out, "}", NULL);
}

/* Parse {a,b,"c d"} as PostgreSQL prints name[]. */
static apr_array_header_t *parse_name_array(apr_pool_t *p, const char *s)
{
    apr_array_header_t *out = apr_array_make(p, 4, sizeof(const char *));
    char *buf = apr_palloc(p, strlen(s) + 1);

    if (*s == '{')
        s++;
    while (*s && *s != '}') {
        char *b = buf;
        if (*s == '"') {
            s++;
            while (*s && *s != '"') {
                if (*s == '\\' && s[1])
                    s++;
                *b++ = *s++;
            }
            if (*s)
                s++;
        }
        else {
            while (*s && *s != ',' && *s != '}')
                *b++ = *s++;
        }
        *b = '\0';
        APR_ARRAY_PUSH(out, const char *) = apr_pstrdup(p, buf);
        if (*s == ',')
            s++;
    }
    return out;
}

ar_error *ar_catalogue_error(apr_pool_t *p, PGconn *conn, PGresult *res)
{
    ar_error *e;
    int lost = PQstatus(conn) != CONNECTION_OK;

    e = ar_error_make(p, lost ? AR_ERR_DB_UNAVAILABLE : AR_ERR_DB_QUERY,
                      lost ? "the database is not reachable"
                           : "the database catalogue could not be read",
                      NULL, NULL);
    e->log = apr_psprintf(p, "reflection failed: %s",
                          res ? PQresultErrorMessage(res) : PQerrorMessage(conn));
    return e;
}

PGresult *ar_catalogue_query(PGconn *conn, const char *sql, const char *schemas)
{
    const char *params[1] = {schemas};

    return PQexecParams(conn, sql, 1, NULL, params, NULL, NULL, 0);
}

const char *ar_catalogue_text(apr_pool_t *p, PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : apr_pstrdup(p, PQgetvalue(res, row, col));
}

static apr_hash_t *load_types(apr_pool_t *p, PGresult *res)
{
    apr_hash_t *types = apr_hash_make(p);
    int i, n = PQntuples(res);

    for (i = 0; i < n; i++) {
        ar_type_info *t = apr_pcalloc(p, sizeof(*t));

        t->oid = (unsigned int)strtoul(PQgetvalue(res, i, 0), NULL, 10);
        t->typtype = PQgetvalue(res, i, 1)[0];
        t->category = PQgetvalue(res, i, 2)[0];
        t->delim = PQgetvalue(res, i, 3)[0];
        t->base = (unsigned int)strtoul(PQgetvalue(res, i, 4), NULL, 10);
        t->elem = (unsigned int)strtoul(PQgetvalue(res, i, 5), NULL, 10);
        t->json_cast = PQgetvalue(res, i, 6)[0] == 't';
        if (!PQgetisnull(res, i, 7))
            t->enum_labels = parse_name_array(p, PQgetvalue(res, i, 7));
        apr_hash_set(types, &t->oid, sizeof(t->oid), t);
    }
    return types;
}

/* Relations in result order; returns oid -> ar_relation for the keys pass. */
static apr_hash_t *load_relations(ar_schema *s, PGresult *res, apr_hash_t *types)
{
    apr_pool_t *p = s->pool;
    apr_hash_t *by_oid = apr_hash_make(p);
    ar_relation *rel = NULL;
    const char *current = NULL;
    int i, n = PQntuples(res);

    for (i = 0; i < n; i++) {
        const char *oid = PQgetvalue(res, i, 0);
        ar_column *col;

        if (!current || strcmp(current, oid) != 0) {
            rel = apr_pcalloc(p, sizeof(*rel));
            rel->schema = apr_pstrdup(p, PQgetvalue(res, i, 1));
            rel->name = apr_pstrdup(p, PQgetvalue(res, i, 2));
            /* every read renders these: quoted once here, not per request */
            rel->quoted = apr_pstrcat(p, ar_sql_quote_ident(p, rel->schema), ".",
                                      ar_sql_quote_ident(p, rel->name), NULL);
            rel->kind = PQgetvalue(res, i, 3)[0];
            rel->comment = ar_catalogue_text(p, res, i, 4);
            rel->writable = atoi(PQgetvalue(res, i, 16));
            rel->read_runs_code = PQgetvalue(res, i, 17)[0] == 't';
            rel->columns = apr_array_make(p, 8, sizeof(ar_column));
            rel->unique_keys = apr_array_make(p, 1, sizeof(ar_key));
            rel->foreign_keys = apr_array_make(p, 1, sizeof(ar_foreign_key));
            current = apr_pstrdup(p, oid);
            apr_hash_set(by_oid, current, APR_HASH_KEY_STRING, rel);
            ar_schema_add(s, rel);
        }
        col = apr_array_push(rel->columns);
        col->name = apr_pstrdup(p, PQgetvalue(res, i, 5));
        col->quoted = ar_sql_quote_ident(p, col->name);
        col->position = atoi(PQgetvalue(res, i, 6));
        col->type = apr_pstrdup(p, PQgetvalue(res, i, 7));
        col->type_oid = (unsigned int)strtoul(PQgetvalue(res, i, 8), NULL, 10);
        col->nullable = PQgetvalue(res, i, 9)[0] != 't';
        col->default_expr = ar_catalogue_text(p, res, i, 10);
        col->comment = ar_catalogue_text(p, res, i, 11);
        col->generated = PQgetvalue(res, i, 12)[0] == 't';
        col->has_default = PQgetvalue(res, i, 13)[0] == 't';
        col->insertable = !col->generated && PQgetvalue(res, i, 14)[0] == 't';
        col->updatable = !col->generated && PQgetvalue(res, i, 15)[0] == 't';
        ar_type_encoding(types, col->type_oid, &col->enc, &col->elem_enc, &col->sortable);
        col->enum_labels = ar_type_enum_labels(types, col->type_oid);
    }
    return by_oid;
}

/* A key is usable only if we can read every column of it. */
static int key_columns(const ar_relation *rel, const apr_array_header_t *names,
                       apr_array_header_t *out)
{
    int i;

    for (i = 0; i < names->nelts; i++) {
        int idx = ar_relation_column_index(rel, APR_ARRAY_IDX(names, i, const char *));
        if (idx < 0)
            return 0;
        APR_ARRAY_PUSH(out, int) = idx;
    }
    return 1;
}

static void load_keys(apr_pool_t *p, PGresult *res, apr_hash_t *by_oid)
{
    int i, n = PQntuples(res);

    for (i = 0; i < n; i++) {
        ar_relation *rel = apr_hash_get(by_oid, PQgetvalue(res, i, 0), APR_HASH_KEY_STRING);
        char type = PQgetvalue(res, i, 2)[0];
        apr_array_header_t *names = parse_name_array(p, PQgetvalue(res, i, 3));

        if (!rel)
            continue;
        if (type == 'f') {
            ar_foreign_key *fk = apr_array_push(rel->foreign_keys);
            fk->name = apr_pstrdup(p, PQgetvalue(res, i, 1));
            fk->cols = names;
            fk->ref_schema = apr_pstrdup(p, PQgetvalue(res, i, 4));
            fk->ref_relation = apr_pstrdup(p, PQgetvalue(res, i, 5));
            fk->ref_cols = parse_name_array(p, PQgetvalue(res, i, 6));
        }
        else {
            ar_key key;
            key.name = apr_pstrdup(p, PQgetvalue(res, i, 1));
            key.cols = apr_array_make(p, names->nelts, sizeof(int));
            if (!key_columns(rel, names, key.cols))
                continue;
            if (type == 'p') {
                rel->primary_key = apr_pmemdup(p, &key, sizeof(key));
            }
            else {
                *(ar_key *)apr_array_push(rel->unique_keys) = key;
            }
        }
    }
}

/* Origins by column position; a column not readable here has no entry. */
static void load_origins(apr_pool_t *p, PGresult *res, apr_hash_t *by_oid)
{
    int i, n = PQntuples(res);

    for (i = 0; i < n; i++) {
        ar_relation *view = apr_hash_get(by_oid, PQgetvalue(res, i, 0), APR_HASH_KEY_STRING);
        int position = atoi(PQgetvalue(res, i, 1)), c;
        ar_column_origin *o = NULL;

        if (!view)
            continue;
        for (c = 0; c < view->columns->nelts; c++) {
            const ar_column *col = &APR_ARRAY_IDX(view->columns, c, ar_column);
            if (col->position == position)
                break;
        }
        if (c == view->columns->nelts)
            continue;
        if (!view->origins)
            view->origins = apr_array_make(p, view->columns->nelts, sizeof(ar_column_origin));
        else {
            int k;
            for (k = 0; k < view->origins->nelts && !o; k++)
                if (strcmp(APR_ARRAY_IDX(view->origins, k, ar_column_origin).column,
                           APR_ARRAY_IDX(view->columns, c, ar_column).name) == 0)
                    o = &APR_ARRAY_IDX(view->origins, k, ar_column_origin);
        }
        if (!o)
            o = apr_array_push(view->origins);
        o->column = APR_ARRAY_IDX(view->columns, c, ar_column).name;
        o->schema = apr_pstrdup(p, PQgetvalue(res, i, 2));
        o->relation = apr_pstrdup(p, PQgetvalue(res, i, 3));
        o->origin = apr_pstrdup(p, PQgetvalue(res, i, 4));
    }
}

/* The view's columns for a table's columns, in their order; NULL unless
 * every one of them is in the view as it is. */
static apr_array_header_t *view_columns_for(apr_pool_t *p, const ar_relation *view,
                                            const char *schema, const char *relation,
                                            const apr_array_header_t *cols)
{
    apr_array_header_t *out = apr_array_make(p, cols->nelts, sizeof(const char *));
    int i, k;

    for (i = 0; i < cols->nelts; i++) {
        const char *want = APR_ARRAY_IDX(cols, i, const char *), *found = NULL;

        for (k = 0; view->origins && k < view->origins->nelts && !found; k++) {
            const ar_column_origin *o = &APR_ARRAY_IDX(view->origins, k, ar_column_origin);
            if (strcmp(o->schema, schema) == 0 && strcmp(o->relation, relation) == 0
                && strcmp(o->origin, want) == 0)
                found = o->column;
        }
        if (!found)
            return NULL;
        APR_ARRAY_PUSH(out, const char *) = found;
    }
    return out;
}

void ar_schema_link_views(ar_schema *s)
{
    apr_pool_t *p = s->pool;
    apr_array_header_t *rels = s->relations;
    int i, j, k, n = rels->nelts;

    /* 1. a view takes the keys of its tables whose columns it shows */
    for (i = 0; i < n; i++) {
        ar_relation *view = APR_ARRAY_IDX(rels, i, ar_relation *);

        for (j = 0; view->origins && j < n; j++) {
            const ar_relation *t = APR_ARRAY_IDX(rels, j, const ar_relation *);
            int own = t->foreign_keys ? t->foreign_keys->nelts : 0;

            if (t == view || t->origins)
                continue;
            for (k = 0; k < own; k++) {
                const ar_foreign_key *fk = &APR_ARRAY_IDX(t->foreign_keys, k, ar_foreign_key);
                apr_array_header_t *cols = view_columns_for(p, view, t->schema, t->name, fk->cols);

                if (cols) {
                    ar_foreign_key *d = apr_array_push(view->foreign_keys);
                    *d = *fk;
                    d->cols = cols;
                }
            }
        }
    }
    /* 2. a key to a table's columns also references each view that shows them */
    for (i = 0; i < n; i++) {
        ar_relation *r = APR_ARRAY_IDX(rels, i, ar_relation *);
        int own = r->foreign_keys ? r->foreign_keys->nelts : 0;

        for (k = 0; k < own; k++) {
            for (j = 0; j < n; j++) {
                const ar_relation *view = APR_ARRAY_IDX(rels, j, const ar_relation *);
                const ar_foreign_key *fk = &APR_ARRAY_IDX(r->foreign_keys, k, ar_foreign_key);
                apr_array_header_t *refs;

                if (!view->origins || view == r)
                    continue;
                refs = view_columns_for(p, view, fk->ref_schema, fk->ref_relation, fk->ref_cols);
                if (refs) {
                    ar_foreign_key *d = apr_array_push(r->foreign_keys);
                    *d = *fk;
                    d->ref_schema = view->schema;
                    d->ref_relation = view->name;
                    d->ref_cols = refs;
                }
            }
        }
    }
}

/* What the request's role may do with each relation and function of the
 * schemas: "schema.name", whether it may read (any column of) it or execute
 * (an overload of) it, and the AR_CAN_* it may write (any column, for
 * INSERT and UPDATE, as a column grant allows those). The index and the
 * OpenAPI document follow it where requests switch roles, as the snapshot
 * then holds everything. Run as the role, in the request's own transaction. */
static const char privileges_sql[] =
    "SELECT n.nspname || '.' || c.relname, has_any_column_privilege(c.oid, 'SELECT'),"
    "  (CASE WHEN has_any_column_privilege(c.oid, 'INSERT') THEN 1 ELSE 0 END)"
    "  | (CASE WHEN has_any_column_privilege(c.oid, 'UPDATE') THEN 2 ELSE 0 END)"
    "  | (CASE WHEN has_table_privilege(c.oid, 'DELETE') THEN 4 ELSE 0 END)"
    " FROM pg_class c"
    " JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('r', 'v', 'm', 'f', 'p')"
    " UNION ALL"
    " SELECT n.nspname || '.' || p.proname, bool_or(has_function_privilege(p.oid, 'EXECUTE')), 0"
    " FROM pg_proc p"
    " JOIN pg_namespace n ON n.oid = p.pronamespace"
    " WHERE n.nspname = ANY($1::text[])"
    " GROUP BY n.nspname, p.proname";

void ar_reflect_privileges_sql(apr_pool_t *p, const apr_array_header_t *schemas, ar_sql *out)
{
    out->text = privileges_sql;
    out->params = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(out->params, const char *) = pg_text_array(p, schemas);
}

/*
 * Whether something the reflection's snapshot holds has been dropped since.
 * The catalogue queries read pg_attribute and pg_proc as of the snapshot, but
 * has_*_privilege() look at the catalogue as it is now and answer NULL for
 * what is gone; a snapshot taken before an ADD COLUMN and checked after a
 * DROP COLUMN would list neither column, a table no state of the database
 * ever had. Then the reflection is done again.
 */
static const char vanished_sql[] =
    "SELECT EXISTS (SELECT 1 FROM pg_class c"
    "  JOIN pg_namespace n ON n.oid = c.relnamespace"
    "  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped"
    "  WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('r', 'v', 'm', 'f', 'p')"
    "   AND has_column_privilege(c.oid, a.attnum, 'SELECT') IS NULL)"
    " OR EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
    "  WHERE n.nspname = ANY($1::text[]) AND has_function_privilege(p.oid, 'EXECUTE') IS NULL)";

/* How often a reflection overtaken by DDL is done again before its result
 * is used all the same (a request that then fails refreshes once more). */
#define REFLECT_TRIES 3

static ar_error *reflect_once(PGconn *conn, apr_pool_t *p, const char *schema_list,
                              int every_privilege, ar_schema **out, int *outdated)
{
    PGresult *res = NULL;
    ar_error *err = NULL;
    apr_hash_t *types, *by_oid;
    ar_schema *s;
    const char *fingerprint;

    /* Without JIT: the planner overestimates the recursive type query, and
     * LLVM spent 460 ms compiling what runs in 5 ms (PostgreSQL 15 here). */
    res = PQexec(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;"
                       " SET LOCAL jit = off");
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        goto fail;
    PQclear(res);
    if (every_privilege) {
        res = PQexec(conn, "SELECT set_config('" AR_EVERY_PRIVILEGE "', 'on', true)");
        if (PQresultStatus(res) != PGRES_TUPLES_OK)
            goto fail;
        PQclear(res);
    }
    /* in the transaction's snapshot: what the rest reads */
    if ((err = ar_reflect_fingerprint(conn, p, &fingerprint)) != NULL)
        goto abandon;

    res = ar_catalogue_query(conn, types_sql, schema_list);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        goto fail;
    types = load_types(p, res);
    PQclear(res);

    s = ar_schema_create(p);
    s->fingerprint = fingerprint;
    res = ar_catalogue_query(conn, relations_sql, schema_list);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        goto fail;
    by_oid = load_relations(s, res, types);
    PQclear(res);

    res = ar_catalogue_query(conn, keys_sql, schema_list);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        goto fail;
    load_keys(p, res, by_oid);
    PQclear(res);

    res = ar_catalogue_query(conn, rules_sql, schema_list);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        goto fail;
    {
        const char *arrays[4];
        origin_arrays(p, res, arrays);
        PQclear(res);
        res = PQexecParams(conn, origins_sql, 4, NULL, arrays, NULL, NULL, 0);
    }
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        goto fail;
    load_origins(p, res, by_oid);
    PQclear(res);
    res = NULL;
    ar_schema_link_views(s);
    if ((err = ar_reflect_routines(conn, s, schema_list, types, by_oid)) != NULL)
        goto abandon;

    res = ar_catalogue_query(conn, vanished_sql, schema_list);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        goto fail;
    *outdated = PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);

    res = PQexec(conn, "COMMIT");
    PQclear(res);
    *out = s;
    return NULL;

fail:
    err = ar_catalogue_error(p, conn, res);
    PQclear(res);
abandon: /* err made */
    if (PQstatus(conn) == CONNECTION_OK)
        PQclear(PQexec(conn, "ROLLBACK"));
    return err;
}

ar_error *ar_reflect_load(PGconn *conn, apr_pool_t *p, const apr_array_header_t *schemas,
                          int every_privilege, ar_schema **out)
{
    const char *schema_list = pg_text_array(p, schemas);
    ar_error *err;
    int tries = 0, outdated;

    do {
        outdated = 0;
        err = reflect_once(conn, p, schema_list, every_privilege, out, &outdated);
    } while (!err && outdated && ++tries < REFLECT_TRIES);
    return err;
}
