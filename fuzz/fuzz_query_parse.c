/*
 * fuzz_query_parse.c: libFuzzer target for ar_query_parse (both dialects,
 * the whole read grammar and its headers), and for what a parsed request
 * flows into: ar_plan_read, ar_sql_render_read, ar_sql_render_count and
 * ar_error_json.
 *
 * Input layout: the first byte picks the mode, the rest is split at NUL
 * bytes into path, query string, Range, Range-Unit, Prefer, Accept and
 * Accept-Profile; a field the input does not reach is passed as NULL. Each
 * field is its own exactly-sized malloc() copy, so that AddressSanitizer sees
 * any read past its end.
 *   mode bit 0: 0 PostgREST dialect, 1 Flask-Restless dialect
 *   mode bit 1: 0 max_rows 3, 1 max_rows 0 (no cap)
 *   mode bits 2-4: the write method; bit 5: AutoRestAggregates On;
 *   bit 6: text/html served; bit 7: AutoRestRPC read (else all)
 * so seeds start with 'p' (PostgREST, capped), 'q' (Restless, capped),
 * 'r' (PostgREST, no cap) or 's' (Restless, no cap).
 *
 * Besides memory errors and undefined behaviour, the target aborts when a
 * result breaks what autorest.h promises:
 *   - error: a known kind, code and message, 4xx/5xx, and ar_error_json()
 *     text that is a JSON object with exactly code, message, details, hint;
 *   - success: offset >= 0, limit AR_UNSET or >= 0, page/per_page in range,
 *     pagination, filters and ordering only on collections (select= only on
 *     a single row), no select= in the Restless dialect, enums in range,
 *     a plan's EXPLAIN options only ", word" of EXPLAIN's own words;
 *   - the where tree is well formed: an AND root, and/or nodes with a child
 *     list, at most AR_MAX_LOGIC_DEPTH+1 and/or levels (the root included),
 *     leaves with a column, a known operator, IN with a list and no value,
 *     IS with neither, other operators with a value or another field,
 *     (any)/(all) only on quantifiable operators and with a {list}, a
 *     language only on full-text operators, JSON paths with non-empty keys,
 *     ->> only last, is_index exactly for digit-only keys;
 *   - select items and order terms have a column; casts are type names;
 *   - a planned request: the cap holds, single means at most one row,
 *     every name resolved to a visible column of the planned relation
 *     (never the hidden one), and the request itself is left unresolved;
 *   - its SQL (read, and the exact/planned/estimated counts): the number of
 *     distinct $n equals params->nelts and they are $1..$n; identifiers are
 *     well quoted; outside quoted identifiers there is no single quote,
 *     semicolon or comment opener (values are bound, never inlined); no
 *     bound value of 8+ characters holding a quote or a semicolon appears
 *     in the text outside quoted identifiers (inside them it may
 *     legitimately, as an alias);
 *   - ar_restless_window keeps offset + limit + 1 in range;
 *   - the browsable API (mode bit 6: text/html served): a browser's Accept
 *     plans an HTML page, whose rendering (the query string in its filter
 *     form, the Range field as its Link header, the body field as every
 *     cell) opens no tag of the input's: every '<' starts one of the page's
 *     own; a form body (the body field) gives no empty field and no
 *     _method; the query string without its empty fields keeps no empty
 *     field.
 *
 * The target found (and now guards against) casts that let SQL words
 * through after the type name, unbounded q= limits overflowing limit+1, an
 * out-of-range Plan Rows conversion, and a signed overflow in parse_count on
 * 19-digit numbers; their inputs are g_regress_* seeds in the corpus.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <apr_general.h>
#include <apr_hash.h>
#include <apr_lib.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <jansson.h>

#include "autorest.h"
#include "ar_html.h"
#include "../t/unit/schema_kit.h"

static apr_pool_t *root, *pool;
static ar_schema *schema;
static ar_exposure expo;

static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_query_parse: %s%s%s\n", what, detail ? ": " : "",
            detail ? detail : "");
    abort();
}

static void addcol(ar_relation *r, const char *name, const char *type, ar_encoding enc,
                   int nullable, int sortable)
{
    kit_column(r, name, type, enc, nullable, sortable);
}

static ar_relation *mkrel(const char *schema_name, const char *name)
{
    return kit_relation(root, schema, schema_name, name);
}

static ar_key *key1(int col)
{
    return kit_key(root, "k", col, -1);
}

/* A foreign key of r: one column to one column of public.ref. */
static void fk(ar_relation *r, const char *name, const char *col, const char *ref,
               const char *ref_col)
{
    kit_foreign_key(root, r, name, "public", ref, col, ref_col, NULL);
}

/* A small fixed schema the fuzzer can reach with short names, with a column
 * of each kind the renderer treats apart: json/jsonb (paths without
 * to_jsonb), tsvector (fts without to_tsvector), composites (to_json),
 * arrays, and a hidden column h that must never be resolved; and every kind
 * of relationship for embedding (u -> t, m the junction of t and u, s to
 * itself, the view vt showing t.id). */
static void build_routines(void);

static void build_schema(void)
{
    ar_relation *r;
    apr_array_header_t *schemas = apr_array_make(root, 2, sizeof(const char *));

    schema = ar_schema_create(root);
    r = mkrel("public", "t");
    addcol(r, "id", "integer", AR_ENC_NUMBER, 0, 1);
    addcol(r, "j", "comp", AR_ENC_SQL_JSON, 1, 0);
    addcol(r, "h", "text", AR_ENC_STRING, 1, 1);
    addcol(r, "d", "jsonb", AR_ENC_JSON, 1, 0);
    addcol(r, "v", "tsvector", AR_ENC_STRING, 1, 0);
    addcol(r, "a", "text[]", AR_ENC_ARRAY, 1, 0);
    r->primary_key = key1(0);
    r = mkrel("public", "u");
    addcol(r, "a", "text", AR_ENC_STRING, 1, 1);
    addcol(r, "b", "integer", AR_ENC_NUMBER, 0, 1);
    *(ar_key *)apr_array_push(r->unique_keys) = *key1(1);
    r->primary_key = key1(1);               /* so that automap maps u: Flask-Restless's
                                             * t has u_collection twice (ub and m) */
    fk(r, "ub", "b", "t", "id");            /* t -> u one-to-many, u -> t many-to-one */
    r = mkrel("public", "m");                /* junction: t <-> u many-to-many */
    addcol(r, "t", "integer", AR_ENC_NUMBER, 0, 1);
    addcol(r, "u", "integer", AR_ENC_NUMBER, 0, 1);
    r->primary_key = key1(0);
    APR_ARRAY_PUSH(r->primary_key->cols, int) = 1;
    fk(r, "mt", "t", "t", "id");
    fk(r, "mu", "u", "u", "b");
    r = mkrel("public", "s");                /* self-reference */
    addcol(r, "id", "integer", AR_ENC_NUMBER, 0, 1);
    addcol(r, "p", "integer", AR_ENC_NUMBER, 1, 1);
    r->primary_key = key1(0);
    fk(r, "sp", "p", "s", "id");
    r = mkrel("public", "vt");               /* a view showing t.id */
    r->kind = 'v';
    addcol(r, "id", "integer", AR_ENC_NUMBER, 1, 1);
    r->origins = apr_array_make(root, 1, sizeof(ar_column_origin));
    {
        ar_column_origin *o = apr_array_push(r->origins);
        o->column = "id";
        o->schema = "public";
        o->relation = "t";
        o->origin = "id";
    }
    r = mkrel("public", "n");
    addcol(r, "x", "json", AR_ENC_JSON, 1, 0);
    r = mkrel("public", "x");
    addcol(r, "id", "integer", AR_ENC_NUMBER, 0, 1);
    r->primary_key = key1(0);
    r = mkrel("o", "t");
    addcol(r, "q\"", "integer", AR_ENC_NUMBER, 0, 1);
    addcol(r, "w'", "text", AR_ENC_STRING, 1, 1);
    r->primary_key = key1(0);

    ar_schema_link_views(schema);
    build_routines();

    APR_ARRAY_PUSH(schemas, const char *) = "public";
    APR_ARRAY_PUSH(schemas, const char *) = "o";
    expo.schemas = schemas;
    expo.excluded = apr_hash_make(root);
    apr_hash_set(expo.excluded, "public.x", APR_HASH_KEY_STRING, "");
    expo.hidden = apr_hash_make(root);
    apr_hash_set(expo.hidden, "public.t.h", APR_HASH_KEY_STRING, "");
}

/* Functions for /rpc/: a scalar of two arguments (one with a default) and
 * its overload of one, rows of t (setof, to embed from), OUT parameters, a
 * VARIADIC one, one unnamed json argument, a VOLATILE void, a procedure. */
static ar_relation *one_column(const char *name, const char *type, ar_encoding enc)
{
    ar_relation *r = kit_result(root, "public", name);

    kit_column(r, name, type, enc, 1, 1);
    return r;
}

static void build_routines(void)
{
    const ar_relation *t = ar_schema_find(schema, "public", "t");
    ar_relation *out = kit_result(root, "public", "o");
    ar_routine *r;

    r = kit_routine(root, schema, "public", "f", 'i', one_column("f", "integer", AR_ENC_NUMBER),
                    AR_RETURNS_SCALAR, 0);
    kit_arg(r, "a", "integer", 0);
    kit_arg(r, "b", "text", 1);
    r = kit_routine(root, schema, "public", "f", 's', one_column("f", "integer", AR_ENC_NUMBER),
                    AR_RETURNS_SCALAR, 0);
    kit_arg(r, "a", "integer", 0);
    r = kit_routine(root, schema, "public", "g", 's', t, AR_RETURNS_ROWS, 1);
    kit_arg(r, "n", "integer", 0);
    kit_column(out, "x\"", "integer", AR_ENC_NUMBER, 1, 1);
    kit_column(out, "y", "jsonb", AR_ENC_JSON, 1, 0);
    r = kit_routine(root, schema, "public", "o", 'i', out, AR_RETURNS_ROWS, 0);
    kit_arg(r, "q'", "integer[]", 1);
    r = kit_routine(root, schema, "public", "v", 'i', one_column("v", "text", AR_ENC_STRING),
                    AR_RETURNS_SCALAR, 1);
    kit_arg(r, "p", "text[]", 0)->variadic = 1;
    r = kit_routine(root, schema, "public", "j", 'i', one_column("j", "json", AR_ENC_JSON),
                    AR_RETURNS_SCALAR, 0);
    kit_arg(r, "", "json", 0);
    r = kit_routine(root, schema, "public", "w", 'v', NULL, AR_RETURNS_VOID, 0);
    kit_arg(r, "d", "jsonb", 1);
    r = kit_routine(root, schema, "public", "p", 'v', out, AR_RETURNS_ROWS, 0);
    r->procedure = 1;
    kit_arg(r, "y", "jsonb", 0);
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

/* ---------------------------------------------------------------- errors */

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
    if (e->kind == AR_ERR_AMBIGUOUS_EMBED) {
        /* 300 Multiple Choices, with the candidates as details */
        if (ar_error_status(e) != 300 || !e->candidates || e->candidates->nelts < 2)
            fail("an ambiguous embedding without 300 and its candidates", e->message);
    }
    else if (e->kind == AR_ERR_AMBIGUOUS_ROUTINE) {
        /* 300 Multiple Choices, naming at least two overloads */
        if (ar_error_status(e) != 300 || !strstr(e->message, "), "))
            fail("an ambiguous call without 300 and its candidates", e->message);
    }
    else if (ar_error_status(e) < 400 || ar_error_status(e) > 599)
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

/* --------------------------------------------------------------- request */

static void check_path(const apr_array_header_t *path)
{
    int i;

    for (i = 0; path && i < path->nelts; i++) {
        const ar_path_step *st = &APR_ARRAY_IDX(path, i, ar_path_step);
        const char *k;
        int digits = 1;

        if (!st->key || !*st->key)
            fail("JSON path step without a key", NULL);
        if (st->as_text && i != path->nelts - 1)
            fail("'->>' before the last step", st->key);
        for (k = st->key; *k; k++)
            digits &= apr_isdigit(*k) != 0;
        if (digits != (st->is_index != 0))
            fail("is_index does not match a digits-only key", st->key);
    }
}

static void check_field(const ar_field *f, const char *what)
{
    if (!f->column)
        fail(what, "without a column");
    if (f->ref)
        fail(what, "resolved by the parser");
    check_path(f->path);
}

/* Returns the and/or levels of c (0 for a leaf). */
static int check_cond(const ar_cond *c)
{
    int i, deepest = 0;

    if (c->kind == AR_COND_AND || c->kind == AR_COND_OR) {
        if (!c->children)
            fail("and/or node without a child list", NULL);
        for (i = 0; i < c->children->nelts; i++) {
            const ar_cond *child = APR_ARRAY_IDX(c->children, i, const ar_cond *);
            int d;
            if (!child)
                fail("NULL child", NULL);
            d = check_cond(child);
            if (d > deepest)
                deepest = d;
        }
        return deepest + 1;
    }
    if (c->kind != AR_COND_LEAF)
        fail("condition kind out of range", NULL);
    check_field(&c->field, "a condition");
    if ((int)c->op < 0 || c->op >= AR_OP__COUNT)
        fail("operator out of range", c->field.column);
    if (c->op == AR_OP_HAS || c->op == AR_OP_ANY) {
        /* q= has/any: a relationship's name (maybe "rel__field") and one
         * condition on its rows; "rel__field" with a value leaves the
         * condition's field to the planner */
        const ar_cond *inner = c->children && c->children->nelts == 1
                                   ? APR_ARRAY_IDX(c->children, 0, const ar_cond *)
                                   : NULL;

        if (!c->field.restless || c->value || c->values || c->other || !inner)
            fail("has/any without exactly one condition, or with a value", c->field.column);
        if (inner->kind == AR_COND_LEAF && !inner->field.column) {
            if (!strstr(c->field.column, "__") || (inner->op != AR_OP_EQ && inner->op != AR_OP_IS))
                fail("a field left to the planner without rel__field, or not ==", c->field.column);
            return 1;
        }
        return check_cond(inner) + 1;
    }
    if (c->quant != AR_QUANT_NONE) {
        size_t n;
        if (c->quant != AR_QUANT_ANY && c->quant != AR_QUANT_ALL)
            fail("quantifier out of range", NULL);
        if (c->op > AR_OP_IMATCH)
            fail("(any)/(all) on an operator that does not take it", c->field.column);
        n = c->value ? strlen(c->value) : 0;
        if (n < 2 || c->value[0] != '{' || c->value[n - 1] != '}')
            fail("(any)/(all) without a {list}", c->value);
    }
    if (c->language
        && (c->op < AR_OP_FTS || c->op > AR_OP_WFTS || !*c->language))
        fail("a language outside full-text search, or an empty one", c->language);
    if (c->other) {
        check_field(c->other, "the other field");
        if (c->op == AR_OP_IN || c->op == AR_OP_IS)
            fail("a field comparison with in/is", NULL);
        if (c->value || c->values)
            fail("a field comparison with a value", NULL);
        return 0;
    }
    switch (c->op) {
    case AR_OP_IN:
        if (!c->values || c->value)
            fail("in without a list, or with a value", c->field.column);
        break;
    case AR_OP_IS:
        if (c->value || c->values)
            fail("is with a value", c->field.column);
        if ((int)c->is_value < 0 || c->is_value > AR_IS_UNKNOWN)
            fail("is value out of range", NULL);
        break;
    default:
        if (!c->value || c->values)
            fail("an operator without its value", c->field.column);
    }
    return 0;
}

/* One word (qualified or not, with [] suffixes), or one of the standard
 * multi-word type names; other words after a type name are SQL. Spaces
 * around and between the words do not matter. */
static int strict_type_name(const char *cast)
{
    static const char *const multi[] = {
        "double precision", "character varying", "char varying", "bit varying",
        "national character", "national character varying", "time with time zone",
        "time without time zone", "timestamp with time zone", "timestamp without time zone",
    };
    char *t = apr_palloc(pool, strlen(cast) + 1), *o = t;
    const char *c;
    size_t n, i;

    for (c = cast; *c; c++)     /* collapse runs of spaces, drop them at the ends */
        if (*c != ' ' || (o > t && o[-1] != ' '))
            *o++ = *c;
    if (o > t && o[-1] == ' ')
        o--;
    *o = '\0';
    n = strlen(t);
    while (n >= 2 && t[n - 2] == '[' && t[n - 1] == ']') {
        t[n -= 2] = '\0';
        while (n > 0 && t[n - 1] == ' ')
            t[--n] = '\0';
    }
    if (!strchr(t, ' '))
        return 1;
    for (i = 0; i < sizeof(multi) / sizeof(*multi); i++)
        if (strcasecmp(t, multi[i]) == 0)
            return 1;
    return 0;
}

/* A select list: columns with valid casts, or embedded resources (a name,
 * a list of their own, nested no deeper than AR_MAX_EMBED_DEPTH). */
static void check_select(const apr_array_header_t *items, int depth)
{
    int i;

    if (depth > AR_MAX_EMBED_DEPTH)
        fail("embedded resources nested past AR_MAX_EMBED_DEPTH", NULL);
    for (i = 0; i < items->nelts; i++) {
        const ar_select_item *it = &APR_ARRAY_IDX(items, i, ar_select_item);
        const char *c;

        if (it->embed) {
            if (!it->embed->name || !*it->embed->name)
                fail("an embedded resource without a name", NULL);
            if (it->embed->hint && !*it->embed->hint)
                fail("an empty hint", it->embed->name);
            if (!it->embed->select)
                fail("an embedded resource without a select list", it->embed->name);
            if (it->embed->spread && it->alias)
                fail("an alias on a spread", it->embed->name);
            check_select(it->embed->select, depth + 1);
            continue;
        }
        if (it->agg == AR_AGG_COUNT && !it->field.column) {
            /* count(): the rows, no column; a cast of its value at most */
            if (it->cast || it->field.path)
                fail("count() with a column's cast or path", NULL);
            if (it->agg_cast && !strict_type_name(it->agg_cast))
                fail("a cast that is not a type name (SQL after the type)", it->agg_cast);
            continue;
        }
        check_field(&it->field, "a select item");
        if (!*it->field.column)
            fail("a select item with an empty column", NULL);
        if (it->cast) {
            if (!apr_isalpha(it->cast[0]) && it->cast[0] != '_')
                fail("a cast that does not start a type name", it->cast);
            for (c = it->cast; *c; c++)
                if (!apr_isalnum(*c) && !strchr("_ .[]", *c))
                    fail("a cast with a character no type name has", it->cast);
            if (!strict_type_name(it->cast))
                fail("a cast that is not a type name (SQL after the type)", it->cast);
        }
    }
}

static void check_request(const ar_read_request *r, ar_dialect d)
{
    int i;

    if (r->offset < 0)
        fail("negative offset", NULL);
    if (r->limit != AR_UNSET && r->limit < 0)
        fail("negative limit", NULL);
    if (r->page != AR_UNSET && r->page < 1)
        fail("page below 1", NULL);
    if (r->per_page != AR_UNSET && r->per_page < 0)
        fail("negative results_per_page", NULL);
    if (r->pk_value && !r->relation)
        fail("pk without a relation", NULL);
    if (r->relationship && d != AR_DIALECT_RESTLESS)
        fail("a relationship route outside the restless dialect", r->relationship);
    if ((r->related_pk && !r->relationship) || (r->relationship && !r->pk_value)
        || (r->relationship && (!*r->relationship || !*r->pk_value)))
        fail("a relationship route without its parent's key, or a related key without it",
             NULL);
    /* /relation/pk/relationship is a collection; with /related_pk, one object */
    if (r->routine && (r->relation || r->pk_value || d != AR_DIALECT_POSTGREST))
        fail("a call that is also a relation's route, or outside PostgREST's dialect", NULL);
    if (((!r->relation && !r->routine) || (r->pk_value && (!r->relationship || r->related_pk)))
        && (r->limit != AR_UNSET || r->offset != 0 || r->ranged || r->where || r->order
            || r->page != AR_UNSET || r->per_page != AR_UNSET || r->single))
        fail("pagination, filters or order outside a collection", NULL);
    if (!r->relation && !r->routine && r->select)
        fail("select on the index", NULL);
    if (r->relation && strchr(r->relation, '/'))
        fail("relation segment contains '/'", r->relation);
    if (r->pk_value && strchr(r->pk_value, '/'))
        fail("pk segment contains '/'", r->pk_value);
    if (d == AR_DIALECT_RESTLESS && r->select)
        fail("select= in the Restless dialect", NULL);
    if (d == AR_DIALECT_POSTGREST && (r->page != AR_UNSET || r->per_page != AR_UNSET))
        fail("page in the PostgREST dialect", NULL);
    if ((int)r->count < 0 || r->count > AR_COUNT_ESTIMATED || (int)r->media < 0
        || r->media > AR_MEDIA_HTML)
        fail("count or media out of range", NULL);
    /* a plan's options go into EXPLAIN (...) as they are: EXPLAIN's own
     * words only, each after ", " */
    if (r->plan_options) {
        static const char *const words[] = {"analyze", "verbose", "settings", "buffers", "wal",
                                            NULL};
        const char *o = r->plan_options;
        while (*o) {
            int k, known = 0;
            if (strncmp(o, ", ", 2) != 0)
                fail("plan options not a list of ', word'", r->plan_options);
            o += 2;
            for (k = 0; words[k]; k++)
                if (strncmp(o, words[k], strlen(words[k])) == 0
                    && (o[strlen(words[k])] == '\0' || o[strlen(words[k])] == ',')) {
                    o += strlen(words[k]);
                    known = 1;
                    break;
                }
            if (!known)
                fail("an EXPLAIN option not in the list", r->plan_options);
        }
    }
    if (r->where) {
        int depth;
        if (r->where->kind != AR_COND_AND)
            fail("the where root is not an and", NULL);
        depth = check_cond(r->where);
        if (depth > AR_MAX_LOGIC_DEPTH + 1)
            fail("and/or nested past AR_MAX_LOGIC_DEPTH", NULL);
    }
    if (r->select)
        check_select(r->select, 0);
    for (i = 0; r->order && i < r->order->nelts; i++) {
        const ar_order_item *it = &APR_ARRAY_IDX(r->order, i, ar_order_item);
        check_field(&it->field, "an order term");
        if ((int)it->nulls < 0 || it->nulls > AR_NULLS_LAST)
            fail("nulls out of range", NULL);
    }
}

/* ------------------------------------------------------------------ plan */

static int in_relation(const ar_column *c, const ar_relation *rel)
{
    const ar_column *first = &APR_ARRAY_IDX(rel->columns, 0, ar_column);

    return c && c >= first && c < first + rel->columns->nelts;
}

static void check_visible(const ar_column *c, const ar_relation *rel, const char *what)
{
    if (!in_relation(c, rel))
        fail(what, "not a column of the planned relation");
    if (!ar_exposed_column(&expo, rel, c))
        fail(what, "resolved to a hidden column");
}

static void check_embed(const ar_embed_plan *ep, const ar_relation *parent, int depth,
                        int listed);
static apr_int64_t planned_max_rows;    /* the cap of the plan being checked */

static void check_plan_cond(const ar_cond *c, const ar_relation *rel)
{
    int i;

    if (c->kind != AR_COND_LEAF) {
        for (i = 0; i < c->children->nelts; i++)
            check_plan_cond(APR_ARRAY_IDX(c->children, i, const ar_cond *), rel);
        return;
    }
    if (c->embed) {
        int many = c->embed->rel.card == AR_CARD_O2M || c->embed->rel.card == AR_CARD_M2M;

        /* rel=is.null: a test on an embedded resource of this relation;
         * has/any: on a to-one/to-many relationship, whose rows it filters */
        if (c->embed->rel.parent != rel
            || (c->op != AR_OP_IS && c->op != AR_OP_HAS && c->op != AR_OP_ANY))
            fail("an embed test on another relation, or not is.null/has/any", NULL);
        if ((c->op == AR_OP_HAS && many) || (c->op == AR_OP_ANY && !many))
            fail("has on a list, or any on one object", c->field.column);
        check_embed(c->embed, rel, 1, 0); /* EXISTS: no list is built */
        return;
    }
    if (c->op == AR_OP_HAS || c->op == AR_OP_ANY)
        fail("has/any left without its relationship", c->field.column);
    check_visible(c->field.ref, rel, "a condition");
    if (strcmp(c->field.ref->name, c->field.column) != 0)
        fail("a condition resolved to another column", c->field.column);
    if (c->other)
        check_visible(c->other->ref, rel, "the other field");
}

/* The request's own tree: never resolved by the planner. */
static void check_unresolved(const ar_cond *c)
{
    int i;

    if (c->kind != AR_COND_LEAF || c->children) {
        for (i = 0; i < c->children->nelts; i++)
            check_unresolved(APR_ARRAY_IDX(c->children, i, const ar_cond *));
        return;
    }
    if (c->embed || c->field.ref || (c->other && c->other->ref))
        fail("the planner wrote into the request", c->field.column);
}

/* An output column of rel: a visible column of it, a spread column of one
 * of its to-one embeds, or an embedded resource. */
static void check_output_column(const ar_output_column *oc, const ar_relation *rel, int depth)
{
    if (!oc->name)
        fail("an output column without a name", NULL);
    if (oc->embed) {
        /* no column is possible (rel(other()) selects only a filter): its
         * rows are {} then, as PostgreSQL selects a list of none */
        check_embed(oc->embed, rel, depth + 1, 1);
        return;
    }
    if (oc->count_rows) {
        /* count(): the rows, no column of rel's */
        if (oc->agg != AR_AGG_COUNT || oc->spread || oc->path)
            fail("count() of something", oc->name);
        return;
    }
    if ((int)oc->agg < (int)AR_AGG_NONE || oc->agg > AR_AGG_MAX)
        fail("an aggregate out of range", oc->name);
    if (oc->spread) {
        if (oc->spread->rel.card != AR_CARD_M2O && oc->spread->rel.card != AR_CARD_O2O)
            fail("a spread of a to-many resource", oc->name);
        check_embed(oc->spread, rel, depth + 1, 1);
        check_visible(oc->column, oc->spread->rel.target, "a spread column");
    }
    else
        check_visible(oc->column, rel, "an output column");
    check_path(oc->path);
}

/* An embedded resource: related to its parent through a key of one of them
 * (or a junction's two), exposed, its own columns, conditions and order;
 * a listed one (in the response, not an EXISTS test) within the row cap. */
static void check_embed(const ar_embed_plan *ep, const ar_relation *parent, int depth,
                        int listed)
{
    const ar_relationship *r = &ep->rel;
    int i;

    if (depth > AR_MAX_EMBED_DEPTH + 1)
        fail("embedded resources planned past AR_MAX_EMBED_DEPTH", NULL);
    if (r->parent != parent || !r->target || !ar_exposed_relation(&expo, r->target) || !r->fk)
        fail("an embed not related to its parent, or to an unexposed relation", NULL);
    if ((r->card == AR_CARD_M2M) != (r->junction != NULL && r->fk_target != NULL))
        fail("a junction exactly for many-to-many", NULL);
    if (r->fk->cols->nelts == 0 || r->fk->cols->nelts != r->fk->ref_cols->nelts)
        fail("a key whose columns do not pair up", r->fk->name);
    for (i = 0; i < ep->columns->nelts; i++)
        check_output_column(&APR_ARRAY_IDX(ep->columns, i, ar_output_column), r->target, depth);
    for (i = 0; ep->order && i < ep->order->nelts; i++) {
        const ar_order_term *t = &APR_ARRAY_IDX(ep->order, i, ar_order_term);
        check_visible(t->column, r->target, "an embedded order term");
        check_path(t->path);
    }
    if (ep->where)
        check_plan_cond(ep->where, r->target);
    if (ep->offset < 0 || (ep->limit != AR_UNSET && ep->limit < 0))
        fail("a negative embedded limit or offset", NULL);
    if (listed && (r->card == AR_CARD_O2M || r->card == AR_CARD_M2M) && planned_max_rows > 0
        && (ep->limit == AR_UNSET || ep->limit > planned_max_rows))
        fail("an embedded list past the row cap", ep->key);
}

static void check_plan(const ar_read_plan *p, apr_int64_t max_rows)
{
    int i;

    planned_max_rows = max_rows;
    if (!p->relation || !ar_exposed_relation(&expo, p->relation))
        fail("planned an unexposed relation", NULL);
    if (max_rows > 0 && (p->limit == AR_UNSET || p->limit > max_rows || p->limit < 0))
        fail("plan ignores the cap", NULL);
    if (p->limit != AR_UNSET && p->limit < 0)
        fail("negative planned limit", NULL);
    if (p->offset < 0)
        fail("negative planned offset", NULL);
    if (p->probe_next && p->limit == AR_UNSET)
        fail("probing past an unlimited page", NULL);
    if (p->single && p->limit != 0 && p->limit != 1)
        fail("single with a limit above one", NULL);
    if (p->pk_value && (!p->pk_column || !p->single))
        fail("pk plan without its column or not single", NULL);
    if (p->pk_column)
        check_visible(p->pk_column, p->relation, "the pk column");
    if (p->parent) {
        /* /parent/pk/relationship: the rows must be tied to the parent's key */
        if (!ar_exposed_relation(&expo, p->parent) || !p->parent_value || !p->where
            || p->where->kind != AR_COND_AND || p->where->children->nelts < 1
            || !APR_ARRAY_IDX(p->where->children, 0, const ar_cond *)->embed)
            fail("a relationship route not tied to its parent", NULL);
        check_visible(p->parent_pk, p->parent, "the parent's key");
        if (p->related_one && !p->single)
            fail("a to-one relationship route that is not one object", NULL);
    }
    for (i = 0; i < p->columns->nelts; i++)
        check_output_column(&APR_ARRAY_IDX(p->columns, i, ar_output_column), p->relation, 0);
    for (i = 0; p->embeds && i < p->embeds->nelts; i++)
        check_embed(APR_ARRAY_IDX(p->embeds, i, const ar_embed_plan *), p->relation, 1, 1);
    for (i = 0; p->order && i < p->order->nelts; i++) {
        const ar_order_term *t = &APR_ARRAY_IDX(p->order, i, ar_order_term);
        if (t->embed) {
            if (t->embed->rel.card != AR_CARD_M2O && t->embed->rel.card != AR_CARD_O2O)
                fail("ordered by a to-many resource", NULL);
            if (p->keyset)
                fail("a keyset plan ordered by an embedded column", NULL);
            check_visible(t->column, t->embed->rel.target, "an embedded order term");
        }
        else
            check_visible(t->column, p->relation, "an order term");
        check_path(t->path);
    }
    if (p->where)
        check_plan_cond(p->where, p->relation);
}

/* ------------------------------------------------------------------- SQL */

/* The SQL text with its "quoted identifiers" removed (each left as a single
 * "I"), or fail when an identifier is not closed. */
static char *outside_identifiers(const char *sql)
{
    char *out = apr_palloc(pool, strlen(sql) + 1), *o = out;

    while (*sql) {
        if (*sql != '"') {
            *o++ = *sql++;
            continue;
        }
        for (sql++;; sql++) {
            if (!*sql)
                fail("an unterminated quoted identifier", NULL);
            if (sql[0] == '"' && sql[1] == '"')
                sql++;
            else if (sql[0] == '"')
                break;
        }
        sql++;
        *o++ = 'I';
    }
    *o = '\0';
    return out;
}

static void check_sql(const ar_sql *sql, const char *what)
{
    char seen[1024];
    int distinct = 0, highest = 0, i;
    const char *s;
    char *bare;

    if (!sql->text || !sql->params)
        fail(what, "no text or no params");
    memset(seen, 0, sizeof(seen));
    bare = outside_identifiers(sql->text);
    for (s = bare; *s; s++) {
        if (s[0] == '$') {
            long v;
            if (!apr_isdigit(s[1]))
                fail("a '$' that is not a placeholder", sql->text);
            v = strtol(s + 1, NULL, 10);
            if (v < 1 || v >= (long)sizeof(seen))
                fail("placeholder out of range", sql->text);
            if (!seen[v]++)
                distinct++;
            if (v > highest)
                highest = (int)v;
        }
    }
    if (distinct != sql->params->nelts || highest != sql->params->nelts)
        fail("placeholders are not exactly $1..$n for n params", sql->text);
    if (strchr(bare, '\'') || strchr(bare, ';') || strstr(bare, "--") || strstr(bare, "/*"))
        fail("a quote, semicolon or comment outside identifiers: inlined text", sql->text);
    for (i = 0; i < sql->params->nelts; i++) {
        const char *v = APR_ARRAY_IDX(sql->params, i, const char *);
        if (v && strlen(v) >= 8 && strpbrk(v, "'\";") && strstr(bare, v))
            fail("a bound value appears in the SQL text", v);
    }
}

/* A write's statement, with one row setting every visible column (a
 * value of each kind in turn) and one leaving them all absent. */
static void check_write(const ar_read_request *r)
{
    static const ar_value_kind kinds[] = {AR_VAL_STRING, AR_VAL_NUMBER, AR_VAL_NULL,
                                          AR_VAL_OBJECT, AR_VAL_ARRAY, AR_VAL_TRUE};
    ar_write_plan wp;
    ar_write_row rows[2];
    ar_sql sql;
    ar_error *e;
    int i, n;

    e = ar_plan_write(pool, schema, &expo, r, r->where == NULL, &wp);
    if (e) {
        check_error(e);
        return;
    }
    for (i = 0; i < wp.relation->columns->nelts; i++) {
        const char *name = APR_ARRAY_IDX(wp.relation->columns, i, ar_column).name;
        e = ar_plan_write_columns(pool, &expo, &wp, &name, 1);
        if (e)
            check_error(e);
    }
    n = wp.columns->nelts;
    for (i = 0; i < 2; i++) {
        int c;
        rows[i].values = apr_pcalloc(pool, sizeof(char *) * (apr_size_t)(n + 1));
        rows[i].kinds = apr_pcalloc(pool, sizeof(ar_value_kind) * (apr_size_t)(n + 1));
        rows[i].absent = apr_pcalloc(pool, (apr_size_t)(n + 1));
        for (c = 0; c < n; c++) {
            ((const char **)rows[i].values)[c] = i ? NULL : "v'; --";
            ((ar_value_kind *)rows[i].kinds)[c] = kinds[c % 6];
            ((unsigned char *)rows[i].absent)[c] = (unsigned char)i;
        }
    }
    ar_sql_render_write(pool, &wp, rows, r->write.kind == AR_WRITE_INSERT ? 2 : 1, &sql);
    check_sql(&sql, "write");
    if (wp.columns->nelts)
        check_sql(&(ar_sql){ar_sql_render_copy(pool, &wp), apr_array_make(pool, 1, 1)}, "copy");
}

/* What the HTML checks take from the input besides the request. */
static const char *html_args, *html_links, *html_value;

/* Every '<' of a page starts one of the page's own tags. */
static void check_tags(const char *page)
{
    static const char *const tags[] = {
        "!DOCTYPE html>", "html ", "/html>", "head>", "/head>", "meta ", "title>", "/title>",
        "style>", "/style>", "body>", "/body>", "nav ", "/nav>", "h1>", "/h1>", "h2>", "/h2>",
        "p>", "p id=", "/p>", "form ", "/form>", "label>", "/label>", "input ", "br>",
        "button ", "/button>", "a ", "/a>", "table ", "/table>", "thead>", "/thead>",
        "tbody>", "/tbody>", "tr>", "/tr>", "th>", "/th>", "td>", "td ", "/td>", "select ",
        "/select>", "option>", "option ", "/option>", "small>", "/small>", "span ", "/span>",
        NULL};
    const char *lt;

    for (lt = strchr(page, '<'); lt; lt = strchr(lt + 1, '<')) {
        int i;
        for (i = 0; tags[i] && strncmp(lt + 1, tags[i], strlen(tags[i])) != 0; i++)
            ;
        if (!tags[i])
            fail("an HTML page opens a tag of the input's", lt);
    }
}

static void check_html(const ar_read_plan *p)
{
    ar_html_page pg;
    ar_out o;
    const ar_row_format *f = ar_row_format_make(pool, p->columns);
    const char **values = apr_pcalloc(pool, sizeof(char *) * (apr_size_t)(f->ncols + 1));
    int *lens = apr_pcalloc(pool, sizeof(int) * (apr_size_t)(f->ncols + 1)), i;

    for (i = 0; i < f->ncols; i++) {
        values[i] = i % 3 == 2 ? NULL : html_value ? html_value : "";
        lens[i] = values[i] ? (int)strlen(values[i]) : 0;
    }
    memset(&pg, 0, sizeof(pg));
    pg.location = "/api";
    pg.path = "/api/x";
    pg.relation = p->relation;
    pg.exposure = &expo;
    pg.columns = p->columns;
    pg.args = ar_html_args(pool, html_args);
    pg.methods = AR_METHOD_GET | AR_METHOD_POST | AR_METHOD_PATCH | AR_METHOD_DELETE;
    pg.can = AR_CAN_INSERT | AR_CAN_UPDATE | AR_CAN_DELETE;
    ar_html_page_init(pool, &pg);
    ar_out_init(&o, pool, 0, NULL, NULL);
    ar_html_open(&o, &pg);
    ar_html_row(&o, &pg, f, values, lens);
    ar_html_close(&o, &pg, 1, html_links, html_links);
    ar_out_write(&o, "", 1);
    check_tags(o.buf);
}

static void check_render(const ar_read_request *r, ar_dialect d, apr_int64_t max_rows)
{
    ar_read_plan p;
    ar_sql sql;
    ar_error *e;

    if (d == AR_DIALECT_RESTLESS && r->relation && !r->single
        && (r->relationship ? !r->related_pk : !r->pk_value)) {
        ar_read_request w = *r;
        apr_int64_t per_page;
        ar_restless_window(&w, max_rows, &per_page);
        if (w.offset < 0 || (w.limit != AR_UNSET && w.limit < 0) || per_page < 0
            || w.count != AR_COUNT_EXACT)
            fail("ar_restless_window out of range", NULL);
        if (w.limit != AR_UNSET && w.offset > APR_INT64_MAX - 1 - w.limit)
            fail("ar_restless_window: offset + limit + 1 overflows", NULL);
        r = apr_pmemdup(pool, &w, sizeof(w));
    }
    e = ar_plan_read(pool, schema, &expo, r, max_rows, &p);
    if (r->where)
        check_unresolved(r->where);
    if (e) {
        check_error(e);
        return;
    }
    check_plan(&p, max_rows);
    if (p.media == AR_MEDIA_HTML)
        check_html(&p);
    ar_sql_render_read(pool, &p, &sql);
    if (strncmp(sql.text, "SELECT ", 7) != 0)
        fail("rendered SQL does not start with SELECT", sql.text);
    check_sql(&sql, "read");
    if (p.parent) {
        ar_sql_render_parent(pool, &p, &sql);
        check_sql(&sql, "parent");
        if (sql.params->nelts != 1)
            fail("the parent's look-up binds other than its key", sql.text);
    }
    ar_sql_render_count(pool, &p, AR_COUNT_EXACT, 0, &sql);
    check_sql(&sql, "count exact");
    ar_sql_render_count(pool, &p, AR_COUNT_PLANNED, 0, &sql);
    check_sql(&sql, "count planned");
    ar_sql_render_count(pool, &p, AR_COUNT_ESTIMATED, 1000, &sql);
    check_sql(&sql, "count estimated");
}

/* ----------------------------------------------------------------- calls */

typedef struct {
    ar_body_field *fields;
    int n;
} call_fields;

static ar_error *keep_first(void *ctx, apr_int64_t row, const ar_body_field *fields, int n)
{
    call_fields *cf = ctx;
    int i;

    if (row > 0)
        return NULL;
    cf->fields = apr_pcalloc(pool, sizeof(ar_body_field) * (apr_size_t)(n + 1));
    for (i = 0; i < n; i++) {
        cf->fields[i] = fields[i];
        cf->fields[i].name = apr_pstrmemdup(pool, fields[i].name, fields[i].name_len);
        cf->fields[i].text = fields[i].text ? apr_pstrmemdup(pool, fields[i].text, fields[i].len)
                                            : NULL;
        cf->fields[i].raw = fields[i].raw ? apr_pstrmemdup(pool, fields[i].raw, fields[i].raw_len)
                                          : NULL;
    }
    cf->n = n;
    return NULL;
}

/* A call: its body (POST) read as the glue reads it, the plan, its SQL. */
static void check_call(const ar_read_request *r, const char *body_text, ar_rpc_mode mode,
                       apr_int64_t max_rows)
{
    ar_call_body body, *bp = NULL;
    ar_call_plan cp;
    ar_sql sql;
    ar_error *e;

    if (r->call_post) {
        call_fields cf = {NULL, 0};

        memset(&body, 0, sizeof(body));
        body.text = body_text ? body_text : "";
        body.len = strlen(body.text);
        body.media = body.len && body.text[0] == 'b' ? AR_CALL_BODY_BYTES : AR_CALL_BODY_JSON;
        if (body.len && body.media == AR_CALL_BODY_JSON) {
            ar_body_parser *p = ar_body_parser_create(pool, AR_BODY_JSON, keep_first, &cf);
            e = ar_body_feed(p, body.text, body.len);
            if (!e)
                e = ar_body_finish(p);
            body.unreadable = e;
        }
        body.fields = cf.fields;
        body.nfields = cf.n;
        bp = &body;
    }
    e = ar_plan_call(pool, schema, &expo, r, !r->call_post, bp, mode, max_rows, &cp);
    if (r->where)
        check_unresolved(r->where);
    if (e) {
        check_error(e);
        return;
    }
    if (!cp.routine || cp.read.call != &cp || (!r->call_post && cp.routine->volatility == 'v'))
        fail("a call plan without its routine, or a VOLATILE one by GET", NULL);
    if (mode == AR_RPC_READ && cp.routine->volatility == 'v')
        fail("AutoRestRPC read served a VOLATILE function", cp.routine->name);
    /* one value or object: no page to cap */
    if (cp.read.columns && cp.read.relation)
        check_plan(&cp.read, cp.routine->setof ? max_rows : 0);
    ar_sql_render_call(pool, &cp, &sql);
    check_sql(&sql, "call");
}

/* ----------------------------------------------------------------- input */

/* The next NUL-separated field from data[*pos..size), as its own malloc()
 * copy, or NULL when the input has run out. */
static char *field(const uint8_t *data, size_t size, size_t *pos)
{
    const uint8_t *nul;
    size_t len;
    char *s;

    if (*pos > size)
        return NULL;
    nul = memchr(data + *pos, 0, size - *pos);
    len = nul ? (size_t)(nul - (data + *pos)) : size - *pos;
    s = malloc(len + 1);
    if (!s)
        abort();
    memcpy(s, data + *pos, len);
    s[len] = '\0';
    *pos += len + 1;
    return s;
}

enum { F_PATH, F_ARGS, F_RANGE, F_UNIT, F_PREFER, F_ACCEPT, F_PROFILE, F_BODY, F__COUNT };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t pos = 1;
    char *f[F__COUNT];
    ar_read_request req;
    ar_request_headers h;
    ar_dialect d;
    apr_int64_t max_rows;
    ar_error *e;
    int i;

    if (size < 1)
        return 0;
    d = data[0] & 1 ? AR_DIALECT_RESTLESS : AR_DIALECT_POSTGREST;
    max_rows = data[0] & 2 ? 0 : 3;
    for (i = 0; i < F__COUNT; i++)
        f[i] = field(data, size, &pos);

    h.range = f[F_RANGE];
    h.range_unit = f[F_UNIT];
    h.prefer = f[F_PREFER];
    h.accept = f[F_ACCEPT];
    h.accept_profile = f[F_PROFILE];
    h.content_type = NULL;
    h.calls = 1;
    h.html = (data[0] & 0x40) != 0;
    html_args = f[F_ARGS];
    html_links = f[F_RANGE];
    html_value = f[F_BODY];
    /* bits 2-4 of the first byte: the method */
    h.method = (data[0] >> 2) % 8 <= AR_WRITE_DELETE ? (ar_write_kind)((data[0] >> 2) % 8)
                                                     : AR_WRITE_NONE;
    e = ar_query_parse(pool, d, f[F_PATH] ? f[F_PATH] : "", f[F_ARGS], &h, &req);
    if (e)
        check_error(e);
    else {
        check_request(&req, d);
        req.aggregates = (data[0] & 0x20) != 0; /* the glue's, per Location */
        if (req.routine)
            check_call(&req, f[F_BODY], data[0] & 0x80 ? AR_RPC_READ : AR_RPC_ALL, max_rows);
        else if (req.relation && req.write.kind != AR_WRITE_NONE)
            check_write(&req);
        else if (req.relation)
            check_render(&req, d, max_rows);
    }
    if (!e && h.html && h.accept && ar_html_accepted_first(h.accept) && req.media != AR_MEDIA_HTML)
        fail("a browser's Accept did not plan a page", h.accept);
    if (f[F_ARGS]) {
        const char *kept = ar_html_drop_empty(pool, f[F_ARGS]), *pair;
        for (pair = kept; pair && *pair; pair += strcspn(pair, "&") + (pair[strcspn(pair, "&")] != 0)) {
            apr_size_t n = strcspn(pair, "&"), eq = strcspn(pair, "=&");
            if (n == 0 || (eq < n && eq + 1 == n))
                fail("ar_html_drop_empty kept an empty field", kept);
        }
    }
    if (f[F_BODY]) {
        const ar_body_field *fields;
        const char *method;
        int n;
        if (!ar_html_form_row(pool, f[F_BODY], strlen(f[F_BODY]), &fields, &n, &method)) {
            /* a PUT gives the whole row: its empty fields are NULL, not left out */
            int put = method && strcmp(method, "PUT") == 0;
            for (i = 0; i < n; i++) {
                if (strcmp(fields[i].name, AR_HTML_METHOD_FIELD) == 0)
                    fail("ar_html_form_row kept the _method field", fields[i].name);
                if (fields[i].kind == AR_VAL_NULL ? !put || fields[i].text != NULL
                                                  : !fields[i].len || !fields[i].text)
                    fail("ar_html_form_row: an empty field kept, or a NULL outside a PUT",
                         fields[i].name);
            }
        }
    }
    /* The query string doubles as EXPLAIN output: never negative. */
    if (f[F_ARGS] && ar_sql_plan_rows(f[F_ARGS]) < 0)
        fail("ar_sql_plan_rows is negative", NULL);

    for (i = 0; i < F__COUNT; i++)
        free(f[i]);
    apr_pool_clear(pool);
    return 0;
}
