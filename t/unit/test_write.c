/*
 * test_write.c: writes (POST, PATCH, PUT, DELETE) through the pure core:
 * what the parser reads of a write (Prefer's write preferences, columns=,
 * on_conflict=, Content-Type; query.c), what the write planner accepts
 * (plan_write.c), and the one statement each write becomes, with its bound
 * values (sql_write.c over sql.c's writer). No server, no body parser: the
 * rows are built by hand as the glue (mod_autorest_write.c) builds them.
 *
 * The schema, by hand:
 *   s.items(id pk, name, sku unique, price, secret hidden, gen generated,
 *           tags text[], meta jsonb)
 *   s.logs(at, msg)                 no primary key
 *   s.pairs(a, b, v)                pk(a, b)
 *   s.vault(id pk hidden, label)    its key hidden
 *   s.notes(id pk, item_id -> s.items, body)   to embed in representations
 *   s.v_items(id key, name)         a view
 */
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_hash.h>
#include <apr_strings.h>

#include "autorest.h"
#include "tap.h"
#include "ar_checks.h"
#include "schema_kit.h"

static apr_pool_t *pool;
static ar_schema *schema;
static ar_exposure expo;
static ar_relation *items;

/* ------------------------------------------------------------- schema */

static ar_column *col(ar_relation *r, const char *name, const char *type, ar_encoding enc,
                      int nullable)
{
    ar_column *c = kit_column(r, name, type, enc, nullable, 1);

    /* as reflect.c fills them for a role that may write every column */
    c->insertable = 1;
    c->updatable = 1;
    return c;
}

static void build_schema(void)
{
    ar_relation *r;
    ar_column *c;
    apr_array_header_t *schemas = apr_array_make(pool, 1, sizeof(const char *));

    schema = ar_schema_create(pool);

    items = r = kit_relation(pool, schema, "s", "items");
    col(r, "id", "integer", AR_ENC_NUMBER, 0);
    col(r, "name", "text", AR_ENC_STRING, 1);
    col(r, "sku", "text", AR_ENC_STRING, 1);
    col(r, "price", "numeric", AR_ENC_NUMBER, 1);
    col(r, "secret", "text", AR_ENC_STRING, 1);
    c = col(r, "gen", "integer", AR_ENC_NUMBER, 1);
    c->generated = 1;
    c->insertable = 0;
    c->updatable = 0;
    c = col(r, "tags", "text[]", AR_ENC_ARRAY, 1);
    c->elem_enc = AR_ENC_STRING;
    col(r, "meta", "jsonb", AR_ENC_JSON, 1);
    r->primary_key = kit_key(pool, "items_pkey", 0, -1);
    APR_ARRAY_PUSH(r->unique_keys, ar_key) = *kit_key(pool, "items_sku_key", 2, -1);
    r->writable = AR_CAN_INSERT | AR_CAN_UPDATE | AR_CAN_DELETE;

    r = kit_relation(pool, schema, "s", "logs");
    col(r, "at", "timestamp with time zone", AR_ENC_TIMESTAMP, 1);
    col(r, "msg", "text", AR_ENC_STRING, 1);
    r->writable = AR_CAN_INSERT | AR_CAN_UPDATE | AR_CAN_DELETE;

    r = kit_relation(pool, schema, "s", "pairs");
    col(r, "a", "integer", AR_ENC_NUMBER, 0);
    col(r, "b", "text", AR_ENC_STRING, 0);
    col(r, "v", "text", AR_ENC_STRING, 1);
    r->primary_key = kit_key(pool, "pairs_pkey", 0, 1, -1);
    r->writable = AR_CAN_INSERT | AR_CAN_UPDATE | AR_CAN_DELETE;

    r = kit_relation(pool, schema, "s", "vault");
    col(r, "id", "integer", AR_ENC_NUMBER, 0);
    col(r, "label", "text", AR_ENC_STRING, 1);
    r->primary_key = kit_key(pool, "vault_pkey", 0, -1);
    r->writable = AR_CAN_INSERT | AR_CAN_UPDATE | AR_CAN_DELETE;

    r = kit_relation(pool, schema, "s", "notes");
    col(r, "id", "integer", AR_ENC_NUMBER, 0);
    col(r, "item_id", "integer", AR_ENC_NUMBER, 1);
    col(r, "body", "text", AR_ENC_STRING, 1);
    r->primary_key = kit_key(pool, "notes_pkey", 0, -1);
    kit_foreign_key(pool, r, "notes_item_id_fkey", "s", "items", "item_id", "id", NULL);
    r->writable = AR_CAN_INSERT | AR_CAN_UPDATE | AR_CAN_DELETE;

    r = kit_relation(pool, schema, "s", "v_items");     /* a view: no xmax */
    r->kind = 'v';
    col(r, "id", "integer", AR_ENC_NUMBER, 0);
    col(r, "name", "text", AR_ENC_STRING, 1);
    r->primary_key = kit_key(pool, "v_items_key", 0, -1);
    r->writable = AR_CAN_INSERT | AR_CAN_UPDATE | AR_CAN_DELETE;

    APR_ARRAY_PUSH(schemas, const char *) = "s";
    expo.schemas = schemas;
    expo.excluded = apr_hash_make(pool);
    expo.hidden = apr_hash_make(pool);
    apr_hash_set(expo.hidden, "s.items.secret", APR_HASH_KEY_STRING, "");
    apr_hash_set(expo.hidden, "s.vault.id", APR_HASH_KEY_STRING, "");
}

static const ar_column *items_column(const char *name)
{
    int i = ar_relation_column_index(items, name);

    return i < 0 ? NULL : &APR_ARRAY_IDX(items->columns, i, ar_column);
}

/* ------------------------------------------------------------ helpers */

static const char *method_name(ar_write_kind m)
{
    static const char *const names[] = {"GET", "POST", "PATCH", "PUT", "DELETE"};
    return names[m];
}

static ar_error *parse_h(ar_write_kind method, const char *path, const char *args,
                         const char *prefer, const char *content_type, const char *range,
                         ar_read_request *req)
{
    ar_request_headers h;

    memset(&h, 0, sizeof(h));
    h.method = method;
    h.prefer = prefer;
    h.content_type = content_type;
    h.range = range;
    return ar_query_parse(pool, AR_DIALECT_POSTGREST, path, args, &h, req);
}

static ar_error *parse_w(ar_write_kind method, const char *path, const char *args,
                         const char *prefer, ar_read_request *req)
{
    return parse_h(method, path, args, prefer, NULL, NULL, req);
}

static ar_error *plan_wu(ar_write_kind method, const char *path, const char *args,
                         const char *prefer, int allow_unfiltered, ar_write_plan *out)
{
    ar_read_request req;
    ar_error *e = parse_w(method, path, args, prefer, &req);

    return e ? e : ar_plan_write(pool, schema, &expo, &req, allow_unfiltered, out);
}

static ar_error *plan_w(ar_write_kind method, const char *path, const char *args,
                        const char *prefer, ar_write_plan *out)
{
    return plan_wu(method, path, args, prefer, 0, out);
}

/* The body's columns, "a,b,c" ("" for none), as the glue plans them. */
static ar_error *plan_columns(ar_write_plan *plan, const char *list)
{
    char *copy = apr_pstrdup(pool, list), *state = NULL, *tok;
    apr_array_header_t *names = apr_array_make(pool, 4, sizeof(const char *));

    for (tok = apr_strtok(copy, ",", &state); tok; tok = apr_strtok(NULL, ",", &state))
        APR_ARRAY_PUSH(names, const char *) = tok;
    return ar_plan_write_columns(pool, &expo, plan, (const char *const *)names->elts,
                                 names->nelts);
}

/* A cell the body did not name. */
static const char ABSENT[] = "(absent)";

/* One row of n cells: a value, NULL (JSON null) or ABSENT; kinds NULL for
 * strings (and null for NULL). */
static ar_write_row row_of(int n, const char *const *cells, const ar_value_kind *kinds)
{
    ar_write_row row;
    const char **values = apr_pcalloc(pool, sizeof(char *) * (apr_size_t)(n + 1));
    ar_value_kind *k = apr_pcalloc(pool, sizeof(ar_value_kind) * (apr_size_t)(n + 1));
    unsigned char *absent = apr_pcalloc(pool, (apr_size_t)(n + 1));
    int i;

    for (i = 0; i < n; i++) {
        if (cells[i] == ABSENT) {
            absent[i] = 1;
            continue;
        }
        values[i] = cells[i];
        k[i] = kinds ? kinds[i] : cells[i] ? AR_VAL_STRING : AR_VAL_NULL;
    }
    row.values = values;
    row.kinds = k;
    row.absent = absent;
    return row;
}

/* Every statement rendered here: its text, its values, its $n agree, and
 * no single quote (the fuzz target's "no quote outside identifiers"). */
static void render_is(const ar_write_plan *plan, const ar_write_row *rows, int nrows,
                      const char *want_sql, const char *want_params, const char *what)
{
    ar_sql sql;

    ar_sql_render_write(pool, plan, rows, nrows, &sql);
    is_str(sql.text, want_sql, "%s: SQL", what);
    is_str(sql_params_text(pool, &sql), want_params, "%s: params", what);
    is_int(sql_placeholders(sql.text), sql.params->nelts, "%s: one $n per bound value", what);
    ok(strchr(sql.text, '\'') == NULL, "%s: no single quote in the statement", what);
}

/* Plan method path?args with Prefer, the body's columns, then render rows. */
static void write_is(ar_write_kind method, const char *path, const char *args,
                     const char *prefer, const char *columns, const ar_write_row *rows,
                     int nrows, const char *want_sql, const char *want_params, const char *what)
{
    ar_write_plan plan;
    ar_error *e = plan_w(method, path, args, prefer, &plan);

    if (!e)
        e = plan_columns(&plan, columns);
    if (e) {
        ok(0, "%s: planned (%s %s: %s: %s)", what, method_name(method), path, kind_name(e),
           e->message);
        return;
    }
    render_is(&plan, rows, nrows, want_sql, want_params, what);
}

static const char *names_text(const apr_array_header_t *a)
{
    const char *s = "";
    int i;

    if (!a)
        return "(none)";
    for (i = 0; i < a->nelts; i++)
        s = apr_pstrcat(pool, s, i ? "|" : "", APR_ARRAY_IDX(a, i, const char *), NULL);
    return s;
}

static const char *column_names(const apr_array_header_t *a)
{
    const char *s = "";
    int i;

    if (!a)
        return "(none)";
    for (i = 0; i < a->nelts; i++)
        s = apr_pstrcat(pool, s, i ? "|" : "", APR_ARRAY_IDX(a, i, const ar_column *)->name,
                        NULL);
    return s;
}

/* ------------------------------------------------------------ parsing */

static void test_parse_prefer(void)
{
    ar_read_request r;

    no_err(parse_w(AR_WRITE_INSERT, "/items", NULL, NULL, &r), "POST without Prefer parses");
    is_int(r.write.kind, AR_WRITE_INSERT, "the method is the write's kind");
    is_int(r.write.ret, AR_RETURN_MINIMAL, "return=minimal when not asked");
    is_int(r.write.ret_asked, 0, "... and not said to be asked");
    is_int(r.write.resolution, AR_RESOLVE_NONE, "no resolution when not asked");
    is_int(r.write.missing_default, 0, "missing=null when not asked");
    is_int(r.write.max_affected, AR_UNSET, "max-affected unset when not asked");
    is_int(r.write.tx_asked, 0, "tx not asked");
    ok(r.write.columns == NULL && r.write.on_conflict == NULL, "no columns=, no on_conflict=");
    is_int(r.write.csv, 0, "not CSV without a Content-Type");

    no_err(parse_w(AR_WRITE_UPDATE, "/items", "id=eq.1", NULL, &r), "PATCH parses");
    is_int(r.write.kind, AR_WRITE_UPDATE, "PATCH is an update");
    no_err(parse_w(AR_WRITE_PUT, "/items", "id=eq.1", NULL, &r), "PUT parses");
    is_int(r.write.kind, AR_WRITE_PUT, "PUT is a put");
    no_err(parse_w(AR_WRITE_DELETE, "/items", "id=eq.1", NULL, &r), "DELETE parses");
    is_int(r.write.kind, AR_WRITE_DELETE, "DELETE is a delete");

    no_err(parse_w(AR_WRITE_INSERT, "/items", NULL, "return=minimal", &r), "return=minimal");
    ok(r.write.ret == AR_RETURN_MINIMAL && r.write.ret_asked, "return=minimal: asked");
    no_err(parse_w(AR_WRITE_INSERT, "/items", NULL, "return=headers-only", &r),
           "return=headers-only");
    ok(r.write.ret == AR_RETURN_HEADERS && r.write.ret_asked, "return=headers-only: asked");
    no_err(parse_w(AR_WRITE_UPDATE, "/items", "id=eq.1", "return=representation", &r),
           "return=representation");
    ok(r.write.ret == AR_RETURN_REPRESENTATION && r.write.ret_asked,
       "return=representation: asked");

    no_err(parse_w(AR_WRITE_INSERT, "/items", NULL, "resolution=merge-duplicates", &r),
           "resolution=merge-duplicates");
    is_int(r.write.resolution, AR_RESOLVE_MERGE, "merge");
    no_err(parse_w(AR_WRITE_INSERT, "/items", NULL, "resolution=ignore-duplicates", &r),
           "resolution=ignore-duplicates");
    is_int(r.write.resolution, AR_RESOLVE_IGNORE, "ignore");
    no_err(parse_w(AR_WRITE_INSERT, "/items", NULL, "missing=default", &r), "missing=default");
    is_int(r.write.missing_default, 1, "missing=default is read");
    no_err(parse_w(AR_WRITE_INSERT, "/items", NULL, "missing=default, missing=null", &r),
           "missing=null after missing=default");
    is_int(r.write.missing_default, 0, "the last one wins");

    no_err(parse_w(AR_WRITE_DELETE, "/items", "id=gt.1", "max-affected=5", &r),
           "max-affected=5");
    is_int(r.write.max_affected, 5, "max-affected is 5");
    no_err(parse_w(AR_WRITE_DELETE, "/items", "id=gt.1", "max-affected=0", &r),
           "max-affected=0");
    is_int(r.write.max_affected, 0, "max-affected may be 0");
    no_err(parse_w(AR_WRITE_DELETE, "/items", "id=gt.1", "max-affected=x", &r),
           "a bad max-affected is ignored without handling=strict");
    is_int(r.write.max_affected, AR_UNSET, "... and stays unset");
    is_err(parse_w(AR_WRITE_DELETE, "/items", "id=gt.1", "max-affected=x, handling=strict", &r),
           AR_ERR_BAD_PREFER, "max-affected=x with handling=strict: AR109");
    is_err(parse_w(AR_WRITE_DELETE, "/items", "id=gt.1", "handling=strict, max-affected=-1",
                   &r),
           AR_ERR_BAD_PREFER, "max-affected=-1 with handling=strict");
    is_err(parse_w(AR_WRITE_DELETE, "/items", "id=gt.1", "handling=strict, max-affected=", &r),
           AR_ERR_BAD_PREFER, "max-affected= (empty) with handling=strict");
    is_err(parse_w(AR_WRITE_DELETE, "/items", "id=gt.1",
                   "handling=strict, max-affected=1000000000000000001", &r),
           AR_ERR_BAD_PREFER, "max-affected past AR_MAX_COUNT with handling=strict");
    is_err(parse_w(AR_WRITE_DELETE, "/items", "id=gt.1", "handling=strict, max-affected=5x",
                   &r),
           AR_ERR_BAD_PREFER, "max-affected=5x with handling=strict");

    no_err(parse_w(AR_WRITE_DELETE, "/items", "id=gt.1", "tx=rollback", &r), "tx=rollback");
    ok(r.write.tx_rollback == 1 && r.write.tx_asked == 1, "tx=rollback: rollback, asked");
    no_err(parse_w(AR_WRITE_DELETE, "/items", "id=gt.1", "tx=commit", &r), "tx=commit");
    ok(r.write.tx_rollback == 0 && r.write.tx_asked == 1, "tx=commit: commit, asked");
    no_err(parse_w(AR_WRITE_DELETE, "/items", "id=gt.1", "count=exact", &r),
           "count=exact on a write");
    is_int(r.count, AR_COUNT_EXACT, "count=exact is read on a write");

    no_err(parse_w(AR_WRITE_INSERT, "/items", NULL,
                   " return=representation ,resolution=merge-duplicates,missing=default, "
                   "count=exact,tx=rollback ,  handling=strict",
                   &r),
           "several preferences, spaced oddly, all known: no error with handling=strict");
    ok(r.write.ret == AR_RETURN_REPRESENTATION && r.write.resolution == AR_RESOLVE_MERGE
           && r.write.missing_default && r.count == AR_COUNT_EXACT && r.write.tx_rollback
           && r.strict,
       "... every one of them read");

    no_err(parse_w(AR_WRITE_INSERT, "/items", NULL, "foo=bar", &r),
           "an unknown preference is ignored");
    is_err(parse_w(AR_WRITE_INSERT, "/items", NULL, "foo=bar, handling=strict", &r),
           AR_ERR_BAD_PREFER, "an unknown preference with handling=strict: AR109");
    is_err(parse_w(AR_WRITE_INSERT, "/items", NULL, "handling=strict,return=everything", &r),
           AR_ERR_BAD_PREFER, "return=everything with handling=strict");
    is_err(parse_w(AR_WRITE_INSERT, "/items", NULL, "handling=strict,resolution=merge", &r),
           AR_ERR_BAD_PREFER, "resolution=merge (not -duplicates) with handling=strict");
    no_err(parse_w(AR_WRITE_INSERT, "/items", NULL, "foo=bar, handling=strict, handling=lenient",
                   &r),
           "handling=lenient after strict: the unknown one ignored");

    /* A read takes none of the write preferences. */
    no_err(parse_w(AR_WRITE_NONE, "/items", NULL, "return=representation", &r),
           "GET with return=representation: ignored");
    ok(r.write.kind == AR_WRITE_NONE && r.write.ret == AR_RETURN_MINIMAL && !r.write.ret_asked,
       "... and not read");
    no_err(parse_w(AR_WRITE_NONE, "/items", NULL,
                   "resolution=merge-duplicates, missing=default, tx=rollback, max-affected=1",
                   &r),
           "GET with the other write preferences: ignored");
    ok(r.write.resolution == AR_RESOLVE_NONE && !r.write.missing_default
           && !r.write.tx_asked && r.write.max_affected == AR_UNSET,
       "... and none of them read");
    is_err(parse_w(AR_WRITE_NONE, "/items", NULL, "return=representation, handling=strict", &r),
           AR_ERR_BAD_PREFER, "GET with return= and handling=strict: AR109");
    is_err(parse_w(AR_WRITE_NONE, "/items", NULL, "handling=strict, tx=commit", &r),
           AR_ERR_BAD_PREFER, "GET with tx= and handling=strict: AR109");
    is_err(parse_w(AR_WRITE_NONE, "/items", NULL, "handling=strict, missing=default", &r),
           AR_ERR_BAD_PREFER, "GET with missing= and handling=strict: AR109");
    no_err(parse_w(AR_WRITE_NONE, "/items", NULL, "handling=strict, count=exact", &r),
           "GET with count=exact and handling=strict: fine");
}

static void test_parse_params(void)
{
    ar_read_request r;
    ar_error *e;

    no_err(parse_w(AR_WRITE_INSERT, "/items", "columns=name,price", NULL, &r),
           "columns=name,price on POST");
    is_str(names_text(r.write.columns), "name|price", "columns= is read in order");
    ok(r.where == NULL, "columns= is no filter");
    no_err(parse_w(AR_WRITE_INSERT, "/items", "columns=%22a%20b%22,%22c,d%22,e", NULL, &r),
           "quoted names in columns=");
    is_str(names_text(r.write.columns), "a b|c,d|e", "quoted names keep spaces and commas");
    no_err(parse_w(AR_WRITE_INSERT, "/items", "columns=\"x\\\"y\"", NULL, &r),
           "an escaped quote in a quoted name");
    is_str(names_text(r.write.columns), "x\"y", "... unescaped");
    is_err(parse_w(AR_WRITE_INSERT, "/items", "columns=name,name", NULL, &r), AR_ERR_BAD_PARAM,
           "a name twice in columns=: AR102");
    is_err(parse_w(AR_WRITE_INSERT, "/items", "columns=name,%22name%22", NULL, &r),
           AR_ERR_BAD_PARAM, "a name twice, once quoted: AR102");
    is_err(parse_w(AR_WRITE_INSERT, "/items", "columns=", NULL, &r), AR_ERR_BAD_PARAM,
           "an empty columns=: AR102");
    e = parse_w(AR_WRITE_INSERT, "/items", "columns=name,", NULL, &r);
    ok(e != NULL, "columns= ending in a comma: an error (%s)", kind_name(e));
    e = parse_w(AR_WRITE_INSERT, "/items", "columns=name,,price", NULL, &r);
    ok(e != NULL, "columns= with an empty name: an error (%s)", kind_name(e));
    is_err(parse_w(AR_WRITE_INSERT, "/items", "columns=meta->a", NULL, &r), AR_ERR_BAD_PARAM,
           "a JSON path in columns=: AR102");
    is_err(parse_w(AR_WRITE_INSERT, "/items", "columns=name&columns=price", NULL, &r),
           AR_ERR_BAD_PARAM, "columns= twice: AR102");

    no_err(parse_w(AR_WRITE_INSERT, "/items", "on_conflict=sku", NULL, &r), "on_conflict=sku");
    is_str(names_text(r.write.on_conflict), "sku", "on_conflict= is read");
    no_err(parse_w(AR_WRITE_INSERT, "/items", "on_conflict=a,%22b%20c%22", NULL, &r),
           "on_conflict= of two names, one quoted");
    is_str(names_text(r.write.on_conflict), "a|b c", "... both read");
    is_err(parse_w(AR_WRITE_INSERT, "/items", "on_conflict=a,a", NULL, &r), AR_ERR_BAD_PARAM,
           "a name twice in on_conflict=: AR102");
    is_err(parse_w(AR_WRITE_INSERT, "/items", "on_conflict=", NULL, &r), AR_ERR_BAD_PARAM,
           "an empty on_conflict=: AR102");

    /* PATCH takes columns= as PostgREST does; on_conflict= is POST's, and
     * neither is ever read as a filter on a column of that name. */
    no_err(parse_w(AR_WRITE_UPDATE, "/items", "id=eq.1&columns=name,price", NULL, &r),
           "columns= on PATCH");
    is_str(names_text(r.write.columns), "name|price", "... read");
    is_err(parse_w(AR_WRITE_UPDATE, "/items", "id=eq.1&on_conflict=id", NULL, &r),
           AR_ERR_UNKNOWN_PARAM, "on_conflict= on PATCH: an unknown parameter");
    is_err(parse_w(AR_WRITE_DELETE, "/items", "id=eq.1&columns=id", NULL, &r),
           AR_ERR_UNKNOWN_PARAM, "columns= on DELETE: an unknown parameter");

    is_err(parse_w(AR_WRITE_UPDATE, "/items", "id=eq.1&limit=1", NULL, &r),
           AR_ERR_UNKNOWN_PARAM, "limit on PATCH: AR101");
    is_err(parse_w(AR_WRITE_DELETE, "/items", "id=eq.1&offset=1", NULL, &r),
           AR_ERR_UNKNOWN_PARAM, "offset on DELETE: AR101");
    is_err(parse_w(AR_WRITE_INSERT, "/items", "limit=10", NULL, &r), AR_ERR_UNKNOWN_PARAM,
           "limit on POST: AR101");
    is_err(parse_w(AR_WRITE_PUT, "/items", "id=eq.1&limit=1", NULL, &r), AR_ERR_UNKNOWN_PARAM,
           "limit on PUT: AR101");
    is_err(parse_w(AR_WRITE_DELETE, "/items", "id=eq.1&cursor=abc", NULL, &r),
           AR_ERR_UNKNOWN_PARAM, "cursor on DELETE: AR101");
    /* the Range header is a read's: PostgREST ignores it on writes */
    no_err(parse_h(AR_WRITE_UPDATE, "/items", "id=eq.1", NULL, NULL, "0-9", &r),
           "Range on PATCH: ignored");
    ok(r.limit == AR_UNSET && r.offset == 0 && !r.ranged, "... nothing of it taken");
    no_err(parse_h(AR_WRITE_DELETE, "/items", "id=eq.1", NULL, NULL, "items=x-", &r),
           "a Range that cannot be read on DELETE: ignored too");
    no_err(parse_h(AR_WRITE_NONE, "/items", "limit=1&offset=2", NULL, NULL, "0-9", &r),
           "limit, offset and Range on GET: fine");

    no_err(parse_h(AR_WRITE_INSERT, "/items", NULL, NULL, "text/csv", NULL, &r),
           "Content-Type text/csv");
    is_int(r.write.csv, 1, "text/csv: a CSV body");
    no_err(parse_h(AR_WRITE_INSERT, "/items", NULL, NULL, "Text/CSV; charset=utf-8", NULL, &r),
           "Content-Type Text/CSV; charset=utf-8");
    is_int(r.write.csv, 1, "the media type is case-blind, parameters aside");
    no_err(parse_h(AR_WRITE_INSERT, "/items", NULL, NULL, "application/json", NULL, &r),
           "Content-Type application/json");
    is_int(r.write.csv, 0, "application/json: not CSV");
}

/* ----------------------------------------------------------- planning */

static void test_plan_filters(void)
{
    ar_write_plan w;
    ar_error *e;

    e = plan_w(AR_WRITE_UPDATE, "/items", NULL, NULL, &w);
    is_err(e, AR_ERR_UNFILTERED, "PATCH without a filter: refused");
    is_str(e ? e->code : NULL, "21000", "... as pg-safeupdate's 21000");
    is_str(e ? e->message : NULL, "UPDATE requires a WHERE clause", "... in its words");
    is_int(e ? ar_error_status(e) : 0, 400, "... a 400");
    e = plan_w(AR_WRITE_DELETE, "/items", NULL, NULL, &w);
    is_err(e, AR_ERR_UNFILTERED, "DELETE without a filter: refused");
    is_str(e ? e->code : NULL, "21000", "... 21000");
    is_str(e ? e->message : NULL, "DELETE requires a WHERE clause", "... in its words");
    is_err(plan_w(AR_WRITE_DELETE, "/items", "select=id,name", NULL, &w), AR_ERR_UNFILTERED,
           "select= is no filter");
    is_err(plan_w(AR_WRITE_UPDATE, "/items", "select=id,notes(body)&notes.body=eq.x", NULL, &w),
           AR_ERR_UNFILTERED,
           "a filter on an embedded resource chooses no rows to update: refused");
    no_err(plan_wu(AR_WRITE_UPDATE, "/items", NULL, NULL, 1, &w),
           "PATCH without a filter where allowed (AutoRestAllowUnfiltered)");
    no_err(plan_wu(AR_WRITE_DELETE, "/items", NULL, NULL, 1, &w),
           "DELETE without a filter where allowed");
    no_err(plan_w(AR_WRITE_UPDATE, "/items", "id=eq.1", NULL, &w), "PATCH with a filter");
    is_int(w.kind, AR_WRITE_UPDATE, "... an update");
    ok(w.relation == items, "... of s.items");
    is_int(w.columns ? w.columns->nelts : -1, 0, "... no columns before the body's");
    ok(w.conflict == NULL, "... no conflict target");
    no_err(plan_w(AR_WRITE_DELETE, "/items", "or=(id.eq.1,id.eq.2)", NULL, &w),
           "DELETE with an or= filter");
    no_err(plan_w(AR_WRITE_DELETE, "/items/5", NULL, NULL, &w), "DELETE /items/5: the key filters");
    ok(w.read.pk_column && strcmp(w.read.pk_column->name, "id") == 0, "... by id");
    no_err(plan_w(AR_WRITE_UPDATE, "/items/5", NULL, NULL, &w), "PATCH /items/5");
    is_err(plan_w(AR_WRITE_INSERT, "/items/5", NULL, NULL, &w), AR_ERR_NO_ROUTE,
           "POST /items/5: no such route");
    is_err(plan_w(AR_WRITE_PUT, "/items/5", NULL, NULL, &w), AR_ERR_NO_ROUTE,
           "PUT /items/5: no such route (PUT filters by id=eq.5)");
    is_err(plan_w(AR_WRITE_DELETE, "/nope", "id=eq.1", NULL, &w), AR_ERR_NO_RELATION,
           "DELETE of an unknown relation");
    is_err(plan_w(AR_WRITE_DELETE, "/items", "secret=eq.1", NULL, &w), AR_ERR_UNKNOWN_COLUMN,
           "a filter on a hidden column: unknown, as on a read");
    is_err(plan_w(AR_WRITE_DELETE, "/items", "nope=eq.1", NULL, &w), AR_ERR_UNKNOWN_COLUMN,
           "a filter on an unknown column");

    is_err(plan_w(AR_WRITE_INSERT, "/items", "id=eq.1", NULL, &w), AR_ERR_UNKNOWN_PARAM,
           "POST with a filter: refused");
    no_err(plan_w(AR_WRITE_INSERT, "/items", "select=id", "return=representation", &w),
           "POST with select= (the representation's shape)");
    is_int(w.representation, 1, "... a representation");
    is_int(w.key_back, 0, "... no key back (the rows say it)");
    no_err(plan_w(AR_WRITE_INSERT, "/items", NULL, "return=headers-only", &w),
           "POST with return=headers-only");
    is_int(w.key_back, 1, "... its key comes back for Location");
    is_int(w.representation, 0, "... no representation");
    no_err(plan_w(AR_WRITE_INSERT, "/items", NULL, NULL, &w), "POST, return=minimal");
    is_int(w.key_back, 0, "... no key back");

    /* rel=is.null on an embedded resource: [NOT] EXISTS, which a write's
     * WHERE does not take */
    is_err(plan_w(AR_WRITE_UPDATE, "/items", "select=id,notes(body)&notes=is.null", NULL, &w),
           AR_ERR_BAD_PARAM, "PATCH filtered by an embedded resource: AR102");
    is_err(plan_w(AR_WRITE_DELETE, "/items",
                  "select=id,notes(body)&id=gt.1&or=(notes.not.is.null,id.eq.1)", NULL, &w),
           AR_ERR_BAD_PARAM, "DELETE with an embedded-resource test inside or=: AR102");
    no_err(plan_w(AR_WRITE_DELETE, "/items",
                  "select=id,notes(body)&notes.body=eq.x&id=eq.1", NULL, &w),
           "DELETE with a filter on the embed's rows (and one on its own)");
}

static void test_plan_conflict(void)
{
    ar_write_plan w;
    ar_error *e;

    no_err(plan_w(AR_WRITE_INSERT, "/items", NULL, "resolution=merge-duplicates", &w),
           "upsert on the primary key");
    is_str(column_names(w.conflict), "id", "... ON CONFLICT (id)");
    is_int(w.resolution, AR_RESOLVE_MERGE, "... merging");
    no_err(plan_w(AR_WRITE_INSERT, "/items", "on_conflict=sku", "resolution=ignore-duplicates",
                  &w),
           "on_conflict= on the unique key");
    is_str(column_names(w.conflict), "sku", "... ON CONFLICT (sku)");
    is_int(w.resolution, AR_RESOLVE_IGNORE, "... ignoring");
    no_err(plan_w(AR_WRITE_INSERT, "/items", "on_conflict=id", "resolution=merge-duplicates",
                  &w),
           "on_conflict= naming the primary key");
    no_err(plan_w(AR_WRITE_INSERT, "/pairs", "on_conflict=b,a", "resolution=merge-duplicates",
                  &w),
           "on_conflict= naming a two-column key in another order");
    is_str(column_names(w.conflict), "b|a", "... in the order named");
    is_err(plan_w(AR_WRITE_INSERT, "/pairs", "on_conflict=a", "resolution=merge-duplicates", &w),
           AR_ERR_BAD_PARAM, "on_conflict= naming part of a key: AR102");
    is_err(plan_w(AR_WRITE_INSERT, "/items", "on_conflict=name", "resolution=merge-duplicates",
                  &w),
           AR_ERR_BAD_PARAM, "on_conflict= naming a column of no key: AR102");
    is_err(plan_w(AR_WRITE_INSERT, "/items", "on_conflict=id,sku", "resolution=merge-duplicates",
                  &w),
           AR_ERR_BAD_PARAM, "on_conflict= naming two keys at once: AR102");
    is_err(plan_w(AR_WRITE_INSERT, "/items", "on_conflict=nope", "resolution=merge-duplicates",
                  &w),
           AR_ERR_UNKNOWN_COLUMN, "on_conflict= naming no column: AR105");
    e = plan_w(AR_WRITE_INSERT, "/items", "on_conflict=secret", "resolution=merge-duplicates",
               &w);
    is_err(e, AR_ERR_UNKNOWN_COLUMN, "on_conflict= naming a hidden column: as unknown");
    is_str(e ? e->message : NULL, "column 'secret' of 'items' does not exist",
           "... in the words for an unknown column");
    is_err(plan_w(AR_WRITE_INSERT, "/logs", NULL, "resolution=merge-duplicates", &w),
           AR_ERR_BAD_PARAM, "resolution= on a table without a primary key or on_conflict=");
    is_err(plan_w(AR_WRITE_INSERT, "/logs", NULL, "resolution=ignore-duplicates", &w),
           AR_ERR_BAD_PARAM, "... ignore-duplicates too");
    is_err(plan_w(AR_WRITE_INSERT, "/items", "on_conflict=sku", NULL, &w), AR_ERR_BAD_PARAM,
           "on_conflict= without resolution=: AR102");
    no_err(plan_w(AR_WRITE_INSERT, "/logs", NULL, NULL, &w), "a plain insert without a key");
    ok(w.conflict == NULL, "... no conflict target");
}

static void test_plan_put(void)
{
    ar_write_plan w;
    ar_error *e;

    no_err(plan_w(AR_WRITE_PUT, "/items", "id=eq.7", NULL, &w), "PUT /items?id=eq.7");
    is_int(w.kind, AR_WRITE_PUT, "... a put");
    is_str(column_names(w.conflict), "id", "... ON CONFLICT (id)");
    is_int(w.resolution, AR_RESOLVE_MERGE, "... merging");
    is_str(w.put_values ? w.put_values[0] : NULL, "7", "... the key's value from the filter");
    no_err(plan_w(AR_WRITE_PUT, "/pairs", "b=eq.x&a=eq.1", NULL, &w),
           "PUT on a two-column key, filters in another order");
    is_str(column_names(w.conflict), "a|b", "... the key's columns in its order");
    ok(w.put_values && strcmp(w.put_values[0], "1") == 0 && strcmp(w.put_values[1], "x") == 0,
       "... the values by key column");
    no_err(plan_w(AR_WRITE_PUT, "/items", "id=eq.7&select=id,name", "return=representation", &w),
           "PUT with select= and return=representation");

    e = plan_w(AR_WRITE_PUT, "/items", NULL, NULL, &w);
    is_err(e, AR_ERR_BAD_PUT, "PUT without a filter: AR119");
    is_int(e ? ar_error_status(e) : 0, 405, "... a 405");
    is_str(e ? e->message : NULL,
           "Filters must include all and only primary key columns with 'eq' operators",
           "... in PostgREST's words");
    is_err(plan_w(AR_WRITE_PUT, "/pairs", "a=eq.1", NULL, &w), AR_ERR_BAD_PUT,
           "PUT filtering part of the key");
    is_err(plan_w(AR_WRITE_PUT, "/items", "id=gt.7", NULL, &w), AR_ERR_BAD_PUT,
           "PUT with gt on the key");
    is_err(plan_w(AR_WRITE_PUT, "/items", "id=not.eq.7", NULL, &w), AR_ERR_BAD_PUT,
           "PUT with not.eq on the key");
    is_err(plan_w(AR_WRITE_PUT, "/items", "id=eq(any).{7,8}", NULL, &w), AR_ERR_BAD_PUT,
           "PUT with eq(any) on the key");
    is_err(plan_w(AR_WRITE_PUT, "/items", "id=in.(7)", NULL, &w), AR_ERR_BAD_PUT,
           "PUT with in on the key");
    is_err(plan_w(AR_WRITE_PUT, "/items", "or=(id.eq.7)", NULL, &w), AR_ERR_BAD_PUT,
           "PUT with the key inside or=");
    is_err(plan_w(AR_WRITE_PUT, "/items", "id=eq.7&name=eq.x", NULL, &w), AR_ERR_BAD_PUT,
           "PUT with a filter beyond the key");
    is_err(plan_w(AR_WRITE_PUT, "/items", "id=eq.7&id=eq.8", NULL, &w), AR_ERR_BAD_PUT,
           "PUT filtering the key twice");
    is_err(plan_w(AR_WRITE_PUT, "/items", "id->a=eq.7", NULL, &w), AR_ERR_BAD_PUT,
           "PUT with a JSON path on the key");
    is_err(plan_w(AR_WRITE_PUT, "/items", "name=eq.x", NULL, &w), AR_ERR_BAD_PUT,
           "PUT filtering a column that is not the key");
    e = plan_w(AR_WRITE_PUT, "/logs", "msg=eq.x", NULL, &w);
    is_err(e, AR_ERR_BAD_PUT, "PUT on a table without a primary key");
    is_str(e ? e->details : NULL, "'logs' has no primary key", "... says so");
}

static void test_plan_columns(void)
{
    ar_write_plan w;
    ar_error *e, *unknown;
    const char *two[] = {"name", "name"};

    no_err(plan_w(AR_WRITE_INSERT, "/items", NULL, NULL, &w), "POST /items planned");
    no_err(plan_columns(&w, "name,price"), "the body's columns: name, price");
    is_str(column_names(w.columns), "name|price", "... in the body's order");
    no_err(plan_columns(&w, "price,sku"), "a later row's keys");
    is_str(column_names(w.columns), "name|price|sku", "... only the new one added");
    no_err(ar_plan_write_columns(pool, &expo, &w, two, 2), "a name twice in one call");
    is_str(column_names(w.columns), "name|price|sku", "... not added twice");

    unknown = plan_columns(&w, "nope");
    is_err(unknown, AR_ERR_UNKNOWN_COLUMN, "a key that is no column: AR105");
    is_str(unknown ? unknown->message : NULL, "column 'nope' of 'items' does not exist",
           "... its message");
    e = plan_columns(&w, "secret");
    is_err(e, AR_ERR_UNKNOWN_COLUMN, "a hidden column: the same error as an unknown one");
    is_str(e ? e->message : NULL,
           unknown ? apr_psprintf(pool, "%.*s'secret'%s",
                                  (int)(strstr(unknown->message, "'nope'") - unknown->message),
                                  unknown->message,
                                  strstr(unknown->message, "'nope'") + strlen("'nope'"))
                   : "",
           "... the same message but for the name");
    ok(e && unknown && e->details == unknown->details && e->hint == unknown->hint
           && (e->details == NULL || strcmp(e->details, unknown->details) == 0),
       "... the same details and hint");
    is_str(column_names(w.columns), "name|price|sku", "... and nothing added");

    e = plan_columns(&w, "gen");
    is_err(e, AR_ERR_BAD_BODY, "a generated column: AR115");
    ok(e && e->message && strstr(e->message, "gen"), "... naming it (%s)",
       e && e->message ? e->message : "");
    no_err(plan_w(AR_WRITE_UPDATE, "/items", "id=eq.1", NULL, &w), "PATCH planned");
    is_err(plan_columns(&w, "name,gen"), AR_ERR_BAD_BODY, "a generated column on PATCH too");
    no_err(plan_columns(&w, ""), "no columns at all ({}) is no error");
}

/* ---------------------------------------------------------------- SQL */

static void test_sql_insert(void)
{
    const char *c1[] = {"widget", "9.5"};
    const char *m1[] = {"a", "1"}, *m2[] = {"b", ABSENT}, *m3[] = {NULL, "3"};
    ar_write_row one = row_of(2, c1, NULL);
    ar_write_row many[3];
    ar_write_row empty[2];
    ar_write_plan w;

    many[0] = row_of(2, m1, NULL);
    many[1] = row_of(2, m2, NULL);
    many[2] = row_of(2, m3, NULL);
    empty[0] = row_of(0, NULL, NULL);
    empty[1] = row_of(0, NULL, NULL);

    write_is(AR_WRITE_INSERT, "/items", NULL, "return=headers-only", "name,price", &one, 1,
             "INSERT INTO \"s\".\"items\" (\"name\", \"price\") VALUES ($1, $2) "
             "RETURNING NULL, \"id\"",
             "widget|9.5", "one row, return=headers-only: the key comes back");
    write_is(AR_WRITE_INSERT, "/items", NULL, NULL, "name,price", &one, 1,
             "INSERT INTO \"s\".\"items\" (\"name\", \"price\") VALUES ($1, $2)", "widget|9.5",
             "one row, return=minimal: nothing comes back");
    write_is(AR_WRITE_INSERT, "/logs", NULL, "return=headers-only", "msg", &one, 1,
             "INSERT INTO \"s\".\"logs\" (\"msg\") VALUES ($1)", "widget",
             "return=headers-only without a primary key: no key to send back");
    write_is(AR_WRITE_INSERT, "/items", NULL, NULL, "name,price", many, 3,
             "INSERT INTO \"s\".\"items\" (\"name\", \"price\") VALUES ($1, $2), ($3, $4), "
             "($5, $6)",
             "a|1|b|(NULL)|(NULL)|3", "three rows: an absent cell and a null are both NULL");
    write_is(AR_WRITE_INSERT, "/items", NULL, "missing=default", "name,price", many, 3,
             "INSERT INTO \"s\".\"items\" (\"name\", \"price\") VALUES ($1, $2), ($3, DEFAULT), "
             "($4, $5)",
             "a|1|b|(NULL)|3", "missing=default: an absent cell is DEFAULT, a null stays NULL");
    write_is(AR_WRITE_INSERT, "/items", NULL, NULL, "", empty, 2,
             "INSERT INTO \"s\".\"items\" SELECT FROM generate_series(1, 2)", "",
             "[{}, {}]: two rows of defaults");
    write_is(AR_WRITE_INSERT, "/items", "select=id", "return=representation", "", empty, 2,
             "WITH \"ar_written\" AS (INSERT INTO \"s\".\"items\" SELECT FROM "
             "generate_series(1, 2) RETURNING *) SELECT \"id\" FROM \"ar_written\"",
             "", "[{}, {}] with return=representation");

    /* the glue drops the default order when none was asked: the rows come
     * back as written */
    if (!plan_w(AR_WRITE_INSERT, "/items", "select=id,name", "return=representation", &w)
        && !plan_columns(&w, "name,price")) {
        w.read.order = apr_array_make(pool, 1, sizeof(ar_order_term));
        render_is(&w, &one, 1,
                  "WITH \"ar_written\" AS (INSERT INTO \"s\".\"items\" (\"name\", \"price\") "
                  "VALUES ($1, $2) RETURNING *) SELECT \"id\", \"name\" FROM \"ar_written\"",
                  "widget|9.5", "return=representation with select=, no order");
    }
    else
        ok(0, "return=representation with select= planned");
    write_is(AR_WRITE_INSERT, "/items", "select=name,price&order=price.desc",
             "return=representation", "name,price", &one, 1,
             "WITH \"ar_written\" AS (INSERT INTO \"s\".\"items\" (\"name\", \"price\") "
             "VALUES ($1, $2) RETURNING *) SELECT \"name\", \"price\" FROM \"ar_written\" "
             "ORDER BY \"price\" DESC, \"id\"",
             "widget|9.5", "return=representation with select= and order=");
    write_is(AR_WRITE_INSERT, "/items", NULL, "return=representation", "name", &one, 1,
             "WITH \"ar_written\" AS (INSERT INTO \"s\".\"items\" (\"name\") VALUES ($1) "
             "RETURNING *) SELECT \"id\", \"name\", \"sku\", \"price\", \"gen\", \"tags\", "
             "\"meta\" FROM \"ar_written\"",
             "widget", "return=representation: every shown column, not the hidden one");
    write_is(AR_WRITE_INSERT, "/items", "select=id,notes(body)", "return=representation",
             "name", &one, 1,
             "WITH \"ar_written\" AS (INSERT INTO \"s\".\"items\" (\"name\") VALUES ($1) "
             "RETURNING *) SELECT \"id\", (SELECT coalesce(json_agg(\"r1\"), json_build_array()) "
             "FROM (SELECT \"e1\".\"body\" AS \"body\" FROM \"s\".\"notes\" AS \"e1\" WHERE "
             "\"e1\".\"item_id\" = \"ar_written\".\"id\" ORDER BY \"e1\".\"id\") AS \"r1\") "
             "AS \"notes\" FROM \"ar_written\"",
             "widget", "return=representation with an embedded resource of the written rows");
}

static void test_sql_upsert(void)
{
    const char *c1[] = {"1", "a", "2"}, *c2[] = {"1", "a"}, *c3[] = {"S-1", "4"};
    const char *p1[] = {"7", "x", "3"}, *p2[] = {"1", "x", "v"};
    ar_write_row r3 = row_of(3, c1, NULL), r2 = row_of(2, c2, NULL), rs = row_of(2, c3, NULL);
    ar_write_row put1 = row_of(3, p1, NULL), put2 = row_of(3, p2, NULL);
    ar_write_row empty = row_of(0, NULL, NULL);
    ar_write_plan w;

    write_is(AR_WRITE_INSERT, "/items", NULL, "resolution=merge-duplicates", "id,name,price",
             &r3, 1,
             "INSERT INTO \"s\".\"items\" (\"id\", \"name\", \"price\") VALUES ($1, $2, $3) "
             "ON CONFLICT (\"id\") DO UPDATE SET \"id\" = EXCLUDED.\"id\", \"name\" = "
             "EXCLUDED.\"name\", \"price\" = EXCLUDED.\"price\" RETURNING NULL, (xmax = 0)",
             "1|a|2", "merge-duplicates: DO UPDATE of the body's columns, inserted or not");
    write_is(AR_WRITE_INSERT, "/items", NULL,
             "resolution=merge-duplicates, return=headers-only", "id,name,price", &r3, 1,
             "INSERT INTO \"s\".\"items\" (\"id\", \"name\", \"price\") VALUES ($1, $2, $3) "
             "ON CONFLICT (\"id\") DO UPDATE SET \"id\" = EXCLUDED.\"id\", \"name\" = "
             "EXCLUDED.\"name\", \"price\" = EXCLUDED.\"price\" RETURNING NULL, \"id\", "
             "(xmax = 0)",
             "1|a|2", "merge-duplicates with return=headers-only: key, then inserted");
    write_is(AR_WRITE_INSERT, "/items", NULL, "resolution=ignore-duplicates", "id,name", &r2, 1,
             "INSERT INTO \"s\".\"items\" (\"id\", \"name\") VALUES ($1, $2) "
             "ON CONFLICT (\"id\") DO NOTHING",
             "1|a", "ignore-duplicates: DO NOTHING");
    write_is(AR_WRITE_INSERT, "/items", "on_conflict=sku", "resolution=merge-duplicates",
             "sku,price", &rs, 1,
             "INSERT INTO \"s\".\"items\" (\"sku\", \"price\") VALUES ($1, $2) "
             "ON CONFLICT (\"sku\") DO UPDATE SET \"sku\" = EXCLUDED.\"sku\", \"price\" = "
             "EXCLUDED.\"price\" RETURNING NULL, (xmax = 0)",
             "S-1|4", "on_conflict=sku: the unique key is the target");
    write_is(AR_WRITE_INSERT, "/items", "select=id,name",
             "resolution=merge-duplicates,return=representation", "id,name", &r2, 1,
             "WITH \"ar_written\" AS (INSERT INTO \"s\".\"items\" (\"id\", \"name\") VALUES "
             "($1, $2) ON CONFLICT (\"id\") DO UPDATE SET \"id\" = EXCLUDED.\"id\", \"name\" = "
             "EXCLUDED.\"name\" RETURNING *, (xmax = 0) AS ar_inserted) SELECT \"id\", "
             "\"name\", ar_inserted FROM \"ar_written\"",
             "1|a", "merge-duplicates with return=representation");
    write_is(AR_WRITE_INSERT, "/items", NULL, "resolution=merge-duplicates", "", &empty, 1,
             "INSERT INTO \"s\".\"items\" SELECT FROM generate_series(1, 1) "
             "ON CONFLICT (\"id\") DO NOTHING",
             "", "merge-duplicates of {}: nothing to merge");

    if (!plan_w(AR_WRITE_INSERT, "/items", NULL, "resolution=merge-duplicates", &w)
        && !plan_columns(&w, "id,name"))
        is_int(ar_sql_write_tells_inserted(&w), 1, "a merge into a table tells inserted rows");
    else
        ok(0, "merge planned");
    if (!plan_w(AR_WRITE_INSERT, "/items", NULL, "resolution=ignore-duplicates", &w)
        && !plan_columns(&w, "id,name"))
        is_int(ar_sql_write_tells_inserted(&w), 0, "ignore-duplicates does not");
    else
        ok(0, "ignore planned");
    if (!plan_w(AR_WRITE_INSERT, "/items", NULL, NULL, &w) && !plan_columns(&w, "id,name"))
        is_int(ar_sql_write_tells_inserted(&w), 0, "a plain insert does not");
    else
        ok(0, "insert planned");
    write_is(AR_WRITE_INSERT, "/v_items", NULL, "resolution=merge-duplicates", "id,name", &r2,
             1,
             "INSERT INTO \"s\".\"v_items\" (\"id\", \"name\") VALUES ($1, $2) "
             "ON CONFLICT (\"id\") DO UPDATE SET \"id\" = EXCLUDED.\"id\", \"name\" = "
             "EXCLUDED.\"name\"",
             "1|a", "a merge into a view: a view has no xmax, nothing asked back");

    write_is(AR_WRITE_PUT, "/items", "id=eq.7", NULL, "id,name,price", &put1, 1,
             "INSERT INTO \"s\".\"items\" (\"id\", \"name\", \"price\") VALUES ($1, $2, $3) "
             "ON CONFLICT (\"id\") DO UPDATE SET \"id\" = EXCLUDED.\"id\", \"name\" = "
             "EXCLUDED.\"name\", \"price\" = EXCLUDED.\"price\" RETURNING NULL, (xmax = 0)",
             "7|x|3", "PUT: an upsert of the one row on its key");
    write_is(AR_WRITE_PUT, "/pairs", "a=eq.1&b=eq.x", "return=representation", "a,b,v", &put2, 1,
             "WITH \"ar_written\" AS (INSERT INTO \"s\".\"pairs\" (\"a\", \"b\", \"v\") VALUES "
             "($1, $2, $3) ON CONFLICT (\"a\", \"b\") DO UPDATE SET \"a\" = EXCLUDED.\"a\", "
             "\"b\" = EXCLUDED.\"b\", \"v\" = EXCLUDED.\"v\" RETURNING *, (xmax = 0) AS "
             "ar_inserted) SELECT \"a\", \"b\", \"v\", ar_inserted FROM \"ar_written\"",
             "1|x|v", "PUT on a two-column key with return=representation");
}

static void test_sql_update_delete(void)
{
    const char *u1[] = {"b", "3"}, *u2[] = {"n"}, *u3[] = {"5"};
    ar_write_row two = row_of(2, u1, NULL), one = row_of(1, u2, NULL), price = row_of(1, u3, NULL);
    ar_write_plan w;

    write_is(AR_WRITE_UPDATE, "/items", "id=eq.1&name=like.a*", NULL, "name,price", &two, 1,
             "UPDATE \"s\".\"items\" SET \"name\" = $1, \"price\" = $2 WHERE (\"id\" = $3 AND "
             "\"name\" LIKE $4)",
             "b|3|1|a%", "PATCH: SET the body's values WHERE the filters");
    write_is(AR_WRITE_UPDATE, "/items/5", NULL, NULL, "name", &one, 1,
             "UPDATE \"s\".\"items\" SET \"name\" = $1 WHERE \"id\" = $2", "n|5",
             "PATCH /items/5: by the key");
    write_is(AR_WRITE_UPDATE, "/items", "or=(price.lt.1,price.is.null)", NULL, "price", &price, 1,
             "UPDATE \"s\".\"items\" SET \"price\" = $1 WHERE ((\"price\" < $2 OR \"price\" IS "
             "NULL))",
             "5|1", "PATCH with or=");
    write_is(AR_WRITE_UPDATE, "/items", "id=eq.1", "return=representation", "price", &price, 1,
             "WITH \"ar_written\" AS (UPDATE \"s\".\"items\" SET \"price\" = $1 WHERE (\"id\" = "
             "$2) RETURNING *) SELECT \"id\", \"name\", \"sku\", \"price\", \"gen\", \"tags\", "
             "\"meta\" FROM \"ar_written\"",
             "5|1", "PATCH with return=representation");
    write_is(AR_WRITE_UPDATE, "/items", "id=eq.1&select=id,notes(body)&notes.body=eq.x",
             "return=representation", "name", &one, 1,
             "WITH \"ar_written\" AS (UPDATE \"s\".\"items\" SET \"name\" = $1 WHERE (\"id\" = "
             "$2) RETURNING *) SELECT \"id\", (SELECT coalesce(json_agg(\"r1\"), "
             "json_build_array()) FROM (SELECT \"e1\".\"body\" AS \"body\" FROM \"s\".\"notes\" "
             "AS \"e1\" WHERE \"e1\".\"item_id\" = \"ar_written\".\"id\" AND (\"e1\".\"body\" = "
             "$3) ORDER BY \"e1\".\"id\") AS \"r1\") AS \"notes\" FROM \"ar_written\"",
             "n|1|x", "PATCH with an embedded resource filtered in the representation");
    write_is(AR_WRITE_UPDATE, "/items/5", "select=id,name", "return=representation", "name",
             &one, 1,
             "WITH \"ar_written\" AS (UPDATE \"s\".\"items\" SET \"name\" = $1 WHERE \"id\" = $2 "
             "RETURNING *) SELECT \"id\", \"name\" FROM \"ar_written\"",
             "n|5", "PATCH /items/5 with return=representation");
    if (!plan_wu(AR_WRITE_UPDATE, "/items", NULL, NULL, 1, &w) && !plan_columns(&w, "name"))
        render_is(&w, &one, 1, "UPDATE \"s\".\"items\" SET \"name\" = $1", "n",
                  "PATCH without a filter where allowed: every row");
    else
        ok(0, "unfiltered PATCH planned");

    write_is(AR_WRITE_DELETE, "/items", "id=in.(1,2)", NULL, "", NULL, 0,
             "DELETE FROM \"s\".\"items\" WHERE (\"id\" = ANY($1))", "{\"1\",\"2\"}",
             "DELETE with in.()");
    write_is(AR_WRITE_DELETE, "/items/5", NULL, NULL, "", NULL, 0,
             "DELETE FROM \"s\".\"items\" WHERE \"id\" = $1", "5", "DELETE /items/5");
    write_is(AR_WRITE_DELETE, "/items", "id=eq.3&select=id,name", "return=representation", "",
             NULL, 0,
             "WITH \"ar_written\" AS (DELETE FROM \"s\".\"items\" WHERE (\"id\" = $1) RETURNING "
             "*) SELECT \"id\", \"name\" FROM \"ar_written\"",
             "3", "DELETE with return=representation and select=");
    write_is(AR_WRITE_DELETE, "/items", "name=eq.it%27s&meta->>k=eq.v", NULL, "", NULL, 0,
             "DELETE FROM \"s\".\"items\" WHERE (\"name\" = $1 AND \"meta\"->>($2::text) = $3)",
             "it's|k|v", "DELETE by a quote-bearing value and a JSON path: all bound");
    if (!plan_wu(AR_WRITE_DELETE, "/items", NULL, NULL, 1, &w))
        render_is(&w, NULL, 0, "DELETE FROM \"s\".\"items\"", "",
                  "DELETE without a filter where allowed");
    else
        ok(0, "unfiltered DELETE planned");
}

static void test_sql_values(void)
{
    const char *v1[] = {"{\"tags\":[\"a\",\"b\"]}", "{\"k\":1}"};
    const ar_value_kind k1[] = {AR_VAL_ARRAY, AR_VAL_OBJECT};
    const char *v2[] = {"{a,b}", "[1,2]"};
    const ar_value_kind k2[] = {AR_VAL_STRING, AR_VAL_ARRAY};
    const char *v3[] = {ABSENT, "{\"k\":2}"};
    const ar_value_kind k3[] = {AR_VAL_NULL, AR_VAL_OBJECT};
    ar_write_row objects = row_of(2, v1, k1), plain = row_of(2, v2, k2);
    ar_write_row mixed[2];
    ar_body_field f;
    const ar_column *meta = items_column("meta"), *name = items_column("name");
    const ar_column *tags = items_column("tags");
    ar_column json_col;

    mixed[0] = objects;
    mixed[1] = row_of(2, v3, k3);

    write_is(AR_WRITE_INSERT, "/items", NULL, NULL, "tags,meta", &objects, 1,
             "INSERT INTO \"s\".\"items\" (\"tags\", \"meta\") VALUES "
             "((json_populate_record(NULL::\"s\".\"items\", $1::json)).\"tags\", $2)",
             "{\"tags\":[\"a\",\"b\"]}|{\"k\":1}",
             "a JSON array into text[]: json_populate_record; an object into jsonb: as is");
    write_is(AR_WRITE_INSERT, "/items", NULL, NULL, "tags,meta", &plain, 1,
             "INSERT INTO \"s\".\"items\" (\"tags\", \"meta\") VALUES ($1, $2)",
             "{a,b}|[1,2]",
             "a string into text[] (array text input) and an array into jsonb: params");
    write_is(AR_WRITE_INSERT, "/items", NULL, "missing=default", "tags,meta", mixed, 2,
             "INSERT INTO \"s\".\"items\" (\"tags\", \"meta\") VALUES "
             "((json_populate_record(NULL::\"s\".\"items\", $1::json)).\"tags\", $2), "
             "(DEFAULT, $3)",
             "{\"tags\":[\"a\",\"b\"]}|{\"k\":1}|{\"k\":2}",
             "rows mixing an object cell and an absent one");
    write_is(AR_WRITE_UPDATE, "/items", "id=eq.1", NULL, "tags,meta", &objects, 1,
             "UPDATE \"s\".\"items\" SET \"tags\" = (json_populate_record(NULL::\"s\".\"items\", "
             "$1::json)).\"tags\", \"meta\" = $2 WHERE (\"id\" = $3)",
             "{\"tags\":[\"a\",\"b\"]}|{\"k\":1}|1", "PATCH of the same values");

    /* ar_write_value_text: what a body's value is as PostgreSQL's text input */
    memset(&f, 0, sizeof(f));
    f.name = "x";
    f.name_len = 1;
    f.kind = AR_VAL_STRING;
    f.text = "it's \"q\"";
    f.len = strlen(f.text);
    f.raw = "\"it's \\\"q\\\"\"";
    f.raw_len = strlen(f.raw);
    is_str(ar_write_value_text(name, &f), "it's \"q\"", "a string into text: unescaped");
    is_str(ar_write_value_text(meta, &f), "\"it's \\\"q\\\"\"",
           "a string into jsonb: its JSON text, a JSON string");
    json_col = *meta;
    json_col.type = "json";
    is_str(ar_write_value_text(&json_col, &f), "\"it's \\\"q\\\"\"", "... into json the same");
    f.kind = AR_VAL_NUMBER;
    f.text = f.raw = "1.50";
    f.len = f.raw_len = 4;
    is_str(ar_write_value_text(name, &f), "1.50", "a number into text: its digits as sent");
    is_str(ar_write_value_text(meta, &f), "1.50", "a number into jsonb: the same");
    f.kind = AR_VAL_TRUE;
    f.text = f.raw = "true";
    f.len = f.raw_len = 4;
    is_str(ar_write_value_text(name, &f), "true", "true into text: true");
    is_str(ar_write_value_text(meta, &f), "true", "true into jsonb: true");
    f.kind = AR_VAL_OBJECT;
    f.text = f.raw = "{\"a\": [1, \"b\"]}";
    f.len = f.raw_len = strlen(f.text);
    is_str(ar_write_value_text(meta, &f), "{\"a\": [1, \"b\"]}",
           "an object into jsonb: as it stood");
    is_str(ar_write_value_text(tags, &f), "{\"a\": [1, \"b\"]}",
           "an object into text[]: its JSON text (the glue wraps it for json_populate_record)");
    f.kind = AR_VAL_NULL;
    f.text = f.raw = NULL;
    f.len = f.raw_len = 0;
    ok(ar_write_value_text(name, &f) == NULL, "null into text: SQL NULL");
    ok(ar_write_value_text(meta, &f) == NULL, "null into jsonb: SQL NULL, not JSON null");
}

/* A hidden column is not shown, in any way: not in the representation,
 * and not by Location. */
static void test_hidden_key(void)
{
    const char *c1[] = {"l"};
    ar_write_row one = row_of(1, c1, NULL);
    ar_write_plan w;
    ar_sql sql;

    if (plan_w(AR_WRITE_INSERT, "/vault", NULL, "return=headers-only", &w)
        || plan_columns(&w, "label")) {
        ok(0, "POST /vault planned");
        return;
    }
    ar_sql_render_write(pool, &w, &one, 1, &sql);
    /* s.vault's key "id" is hidden (AutoRestHide s.vault.id): Location would
     * show its value, so with return=headers-only nothing of it comes back. */
    ok(strstr(sql.text, "\"id\"") == NULL,
       "return=headers-only on a table whose key is hidden: the key is not sent back (%s)",
       sql.text);
    write_is(AR_WRITE_INSERT, "/vault", NULL, "return=representation", "label", &one, 1,
             "WITH \"ar_written\" AS (INSERT INTO \"s\".\"vault\" (\"label\") VALUES ($1) "
             "RETURNING *) SELECT \"label\" FROM \"ar_written\"",
             "l", "return=representation on it: the hidden key is not selected");
    is_err(plan_w(AR_WRITE_DELETE, "/vault/1", NULL, NULL, &w), AR_ERR_NO_ROUTE,
           "DELETE /vault/1: a hidden key cannot be probed by value");
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    build_schema();
    test_parse_prefer();
    test_parse_params();
    test_plan_filters();
    test_plan_conflict();
    test_plan_put();
    test_plan_columns();
    test_sql_insert();
    test_sql_upsert();
    test_sql_update_delete();
    test_sql_values();
    test_hidden_key();
    (void)statement_is; /* ar_checks.h's check of reads: render_is is this file's */
    apr_terminate();
    return tap_done();
}
