/*
 * test_call.c: calls to /rpc/<function> through the pure core: what the
 * parser reads of a call (query.c), which overload the call planner picks
 * and how it binds the arguments (plan_call.c), the one statement a call
 * becomes with its bound values (sql_call.c over sql.c's writer), and the
 * errors a function raises (error.c). No server: bodies are given as the
 * glue (mod_autorest_call.c) gives them, fields already parsed.
 *
 * The schema, by hand:
 *   s.owners(id pk, name)  s.items(id pk, name, qty, owner_id -> s.owners, secret hidden)
 *   s.add_them(a int, b int) -> int                    immutable
 *   s.hello(name text default) -> text                 stable
 *   s.items_over(min_qty int) -> setof s.items         stable
 *   s.pair(n int) -> (x int, y int) OUT parameters     immutable
 *   s.over(a) / s.over(a, b) / s.over(x text)          overloads
 *   s.amb(a) / s.amb(a, b default)                     ambiguous for {a}
 *   s.joined(variadic parts text[]) -> text
 *   s.sum_of(nums int[]) -> int   s.echo(json) -> json (unnamed)   s.doc(d jsonb)
 *   s.byte_len(bytea) -> int   s.bump(id int) -> int volatile
 *   s.note(what text) -> void volatile   s.double_it(inout x int) procedure
 *   s.excluded() excluded
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

static ar_relation *scalar_result(const char *name, const char *type, ar_encoding enc)
{
    ar_relation *r = kit_result(pool, "s", name);

    kit_column(r, name, type, enc, 1, 1);
    return r;
}

static void build_schema(void)
{
    apr_array_header_t *schemas = apr_array_make(pool, 1, sizeof(const char *));
    ar_relation *owners, *items, *pair;
    ar_routine *r;

    schema = ar_schema_create(pool);
    owners = kit_relation(pool, schema, "s", "owners");
    kit_column(owners, "id", "integer", AR_ENC_NUMBER, 0, 1);
    kit_column(owners, "name", "text", AR_ENC_STRING, 0, 1);
    owners->primary_key = kit_key(pool, "owners_pkey", 0, -1);
    items = kit_relation(pool, schema, "s", "items");
    kit_column(items, "id", "integer", AR_ENC_NUMBER, 0, 1);
    kit_column(items, "name", "text", AR_ENC_STRING, 0, 1);
    kit_column(items, "qty", "integer", AR_ENC_NUMBER, 0, 1);
    kit_column(items, "owner_id", "integer", AR_ENC_NUMBER, 1, 1);
    kit_column(items, "secret", "text", AR_ENC_STRING, 1, 1);
    items->primary_key = kit_key(pool, "items_pkey", 0, -1);
    kit_foreign_key(pool, items, "items_owner_id_fkey", "s", "owners", "owner_id", "id", NULL);

    r = kit_routine(pool, schema, "s", "add_them", 'i', scalar_result("add_them", "integer",
                    AR_ENC_NUMBER), AR_RETURNS_SCALAR, 0);
    kit_arg(r, "a", "integer", 0);
    kit_arg(r, "b", "integer", 0);
    r = kit_routine(pool, schema, "s", "hello", 's', scalar_result("hello", "text",
                    AR_ENC_STRING), AR_RETURNS_SCALAR, 0);
    kit_arg(r, "name", "text", 1);
    r = kit_routine(pool, schema, "s", "items_over", 's', items, AR_RETURNS_ROWS, 1);
    kit_arg(r, "min_qty", "integer", 0);
    pair = kit_result(pool, "s", "pair");
    kit_column(pair, "x", "integer", AR_ENC_NUMBER, 1, 1);
    kit_column(pair, "y", "integer", AR_ENC_NUMBER, 1, 1);
    r = kit_routine(pool, schema, "s", "pair", 'i', pair, AR_RETURNS_ROWS, 0);
    kit_arg(r, "n", "integer", 0);
    r = kit_routine(pool, schema, "s", "over", 'i', scalar_result("over", "text",
                    AR_ENC_STRING), AR_RETURNS_SCALAR, 0);
    kit_arg(r, "a", "integer", 0);
    r = kit_routine(pool, schema, "s", "over", 'i', scalar_result("over", "text",
                    AR_ENC_STRING), AR_RETURNS_SCALAR, 0);
    kit_arg(r, "a", "integer", 0);
    kit_arg(r, "b", "integer", 0);
    r = kit_routine(pool, schema, "s", "over", 'i', scalar_result("over", "text",
                    AR_ENC_STRING), AR_RETURNS_SCALAR, 0);
    kit_arg(r, "x", "text", 0);
    r = kit_routine(pool, schema, "s", "amb", 'i', scalar_result("amb", "integer",
                    AR_ENC_NUMBER), AR_RETURNS_SCALAR, 0);
    kit_arg(r, "a", "integer", 0);
    r = kit_routine(pool, schema, "s", "amb", 'i', scalar_result("amb", "integer",
                    AR_ENC_NUMBER), AR_RETURNS_SCALAR, 0);
    kit_arg(r, "a", "integer", 0);
    kit_arg(r, "b", "integer", 1);
    r = kit_routine(pool, schema, "s", "joined", 'i', scalar_result("joined", "text",
                    AR_ENC_STRING), AR_RETURNS_SCALAR, 0);
    kit_arg(r, "parts", "text[]", 0)->variadic = 1;
    r = kit_routine(pool, schema, "s", "sum_of", 'i', scalar_result("sum_of", "integer",
                    AR_ENC_NUMBER), AR_RETURNS_SCALAR, 0);
    kit_arg(r, "nums", "integer[]", 0);
    r = kit_routine(pool, schema, "s", "echo", 'i', scalar_result("echo", "json", AR_ENC_JSON),
                    AR_RETURNS_SCALAR, 0);
    kit_arg(r, "", "json", 0);
    r = kit_routine(pool, schema, "s", "doc", 'i', scalar_result("doc", "jsonb", AR_ENC_JSON),
                    AR_RETURNS_SCALAR, 0);
    kit_arg(r, "d", "jsonb", 0);
    r = kit_routine(pool, schema, "s", "byte_len", 'i', scalar_result("byte_len", "integer",
                    AR_ENC_NUMBER), AR_RETURNS_SCALAR, 0);
    kit_arg(r, "", "bytea", 0);
    r = kit_routine(pool, schema, "s", "bump", 'v', scalar_result("bump", "integer",
                    AR_ENC_NUMBER), AR_RETURNS_SCALAR, 0);
    kit_arg(r, "id", "integer", 0);
    r = kit_routine(pool, schema, "s", "note", 'v', NULL, AR_RETURNS_VOID, 0);
    kit_arg(r, "what", "text", 0);
    pair = kit_result(pool, "s", "double_it");
    kit_column(pair, "x", "integer", AR_ENC_NUMBER, 1, 1);
    kit_column(pair, "note", "text", AR_ENC_STRING, 1, 1);
    r = kit_routine(pool, schema, "s", "double_it", 'v', pair, AR_RETURNS_ROWS, 0);
    r->procedure = 1;
    kit_arg(r, "x", "integer", 0);
    kit_routine(pool, schema, "s", "excluded", 'i', scalar_result("excluded", "integer",
                AR_ENC_NUMBER), AR_RETURNS_SCALAR, 0);

    APR_ARRAY_PUSH(schemas, const char *) = "s";
    expo.schemas = schemas;
    expo.excluded = apr_hash_make(pool);
    expo.hidden = apr_hash_make(pool);
    apr_hash_set(expo.excluded, "s.excluded", APR_HASH_KEY_STRING, "");
    apr_hash_set(expo.hidden, "s.items.secret", APR_HASH_KEY_STRING, "");
}

/* ------------------------------------------------------------ helpers */

static ar_error *parse(const char *path, const char *args, int post, const char *prefer,
                       ar_read_request *req)
{
    ar_request_headers h;

    memset(&h, 0, sizeof(h));
    h.calls = 1;
    h.method = post ? AR_WRITE_INSERT : AR_WRITE_NONE;
    h.prefer = prefer;
    return ar_query_parse(pool, AR_DIALECT_POSTGREST, path, args, &h, req);
}

/* A field of a JSON body as the parser hands it over. */
static ar_body_field field(const char *name, ar_value_kind kind, const char *text,
                           const char *raw)
{
    ar_body_field f;

    memset(&f, 0, sizeof(f));
    f.name = name;
    f.name_len = strlen(name);
    f.kind = kind;
    f.text = text;
    f.len = text ? strlen(text) : 0;
    f.raw = raw;
    f.raw_len = raw ? strlen(raw) : 0;
    return f;
}

static ar_error *plan(const char *path, const char *args, int post, const ar_call_body *body,
                      ar_rpc_mode mode, ar_call_plan *out)
{
    ar_read_request req;
    ar_error *e = parse(path, args, post, NULL, &req);

    if (e)
        return e;
    return ar_plan_call(pool, schema, &expo, &req, !post, body, mode, 1000, out);
}

/* The call's statement is want_sql with want_params bound. */
static void call_is(const char *path, const char *args, int post, const ar_call_body *body,
                    const char *want_sql, const char *want_params, const char *what)
{
    ar_call_plan cp;
    ar_error *e = plan(path, args, post, body, AR_RPC_ALL, &cp);
    ar_sql sql;

    no_err(e, "%s: planned", what);
    if (e) {
        ok(0, "%s: SQL", what);
        ok(0, "%s: params", what);
        return;
    }
    ar_sql_render_call(pool, &cp, &sql);
    is_str(sql.text, want_sql, "%s: SQL", what);
    is_str(sql_params_text(pool, &sql), want_params, "%s: params", what);
}

static ar_call_body json_body(const char *text, ar_body_field *fields, int n)
{
    ar_call_body b;

    memset(&b, 0, sizeof(b));
    b.text = text;
    b.len = strlen(text);
    b.media = AR_CALL_BODY_JSON;
    b.fields = fields;
    b.nfields = n;
    return b;
}

/* -------------------------------------------------------------- tests */

static void test_parse(void)
{
    ar_read_request req;
    ar_request_headers h;

    no_err(parse("/rpc/add_them", "a=1&b=2&select=x&order=x&limit=3", 0, NULL, &req),
           "parse: a call with arguments and the read grammar");
    is_str(req.routine, "add_them", "parse: the routine");
    ok(req.relation == NULL, "parse: no relation");
    is_int(req.call_params ? req.call_params->nelts : 0, 2, "parse: two names kept for later");
    ok(req.select && req.order && req.limit == 3, "parse: select, order and limit are read");
    is_err(parse("/rpc/", NULL, 0, NULL, &req), AR_ERR_NO_ROUTE, "parse: /rpc/ names nothing");
    is_err(parse("/rpc/a/b", NULL, 0, NULL, &req), AR_ERR_NO_ROUTE, "parse: /rpc/a/b");
    no_err(parse("/rpc/add_them", NULL, 1, "params=single-object", &req),
           "parse: POST with params=single-object");
    ok(req.call_post && req.call_single_object && req.write.kind == AR_WRITE_NONE,
       "parse: a POST call is no write, and its preference is read");
    memset(&h, 0, sizeof(h));
    no_err(ar_query_parse(pool, AR_DIALECT_POSTGREST, "/rpc/7", NULL, &h, &req),
           "parse: without calls, /rpc/7 is a row route");
    ok(req.routine == NULL && req.relation && strcmp(req.relation, "rpc") == 0
           && req.pk_value && strcmp(req.pk_value, "7") == 0,
       "parse: ... of relation rpc");
}

static void test_statements(void)
{
    ar_body_field f[3];
    ar_call_body b;

    call_is("/rpc/add_them", "a=1&b=2", 0, NULL,
            "SELECT \"add_them\" FROM (SELECT \"s\".\"add_them\"(\"a\" := $1::integer, "
            "\"b\" := $2::integer) AS \"add_them\") AS \"ar_call\" LIMIT 1",
            "1|2", "scalar by GET");
    call_is("/rpc/hello", NULL, 0, NULL,
            "SELECT \"hello\" FROM (SELECT \"s\".\"hello\"() AS \"hello\") AS \"ar_call\" LIMIT 1",
            "",
            "a default left out");
    call_is("/rpc/items_over", "min_qty=1&qty=gt.2&select=id,name", 0, NULL,
            "SELECT \"id\", \"name\" FROM \"s\".\"items_over\"(\"min_qty\" := $1::integer) AS "
            "\"ar_call\" WHERE (\"qty\" > $2) LIMIT 1001",
            "1|2", "a filter (gt.2) beside an argument");
    call_is("/rpc/items_over", "min_qty=1&select=id,owners(name)", 0, NULL,
            "SELECT \"id\", (SELECT row_to_json(\"r1\") FROM (SELECT \"e1\".\"name\" AS "
            "\"name\" FROM \"s\".\"owners\" AS \"e1\" WHERE \"e1\".\"id\" = "
            "\"ar_call\".\"owner_id\") AS \"r1\") AS \"owners\" FROM \"s\".\"items_over\"(\"min_qty\" := $1::integer) AS "
            "\"ar_call\" LIMIT 1001",
            "1", "an embed through the result table's key");
    call_is("/rpc/pair", "n=3", 0, NULL,
            "SELECT \"x\", \"y\" FROM \"s\".\"pair\"(\"n\" := $1::integer) AS \"ar_call\"(\"x\", "
            "\"y\") LIMIT 1",
            "3", "OUT parameters: their names as the columns");
    call_is("/rpc/joined", "parts=a&parts=b%2Cc&parts=", 0, NULL,
            "SELECT \"joined\" FROM (SELECT \"s\".\"joined\"(VARIADIC \"parts\" := $1::text[]) AS "
            "\"joined\") AS \"ar_call\" LIMIT 1",
            "{\"a\",\"b,c\",\"\"}", "VARIADIC from repeated parameters");
    call_is("/rpc/over", "a=1&b=2", 0, NULL,
            "SELECT \"over\" FROM (SELECT \"s\".\"over\"(\"a\" := $1::integer, \"b\" := "
            "$2::integer) AS \"over\") AS \"ar_call\" LIMIT 1",
            "1|2", "the overload of {a, b}");
    call_is("/rpc/over", "x=q", 0, NULL,
            "SELECT \"over\" FROM (SELECT \"s\".\"over\"(\"x\" := $1::text) AS \"over\") AS "
            "\"ar_call\" LIMIT 1",
            "q", "the overload of {x}");

    f[0] = field("a", AR_VAL_NUMBER, "12345678901234567890", "12345678901234567890");
    f[1] = field("b", AR_VAL_NULL, NULL, "null");
    b = json_body("{\"a\":12345678901234567890,\"b\":null}", f, 2);
    call_is("/rpc/add_them", NULL, 1, &b,
            "SELECT \"add_them\" FROM (SELECT \"s\".\"add_them\"(\"a\" := $1::integer, "
            "\"b\" := $2::integer) AS \"add_them\") AS \"ar_call\" LIMIT 1",
            "12345678901234567890|(NULL)", "POST: every digit, and null");
    f[0] = field("nums", AR_VAL_ARRAY, "[1,2,3]", "[1,2,3]");
    b = json_body("{\"nums\":[1,2,3]}", f, 1);
    call_is("/rpc/sum_of", NULL, 1, &b,
            "SELECT \"sum_of\" FROM (SELECT \"s\".\"sum_of\"(\"nums\" := (SELECT "
            "\"ar_arg\".\"nums\" FROM json_to_record($1::json) AS \"ar_arg\"(\"nums\" "
            "integer[]))) AS \"sum_of\") AS \"ar_call\" LIMIT 1",
            "{\"nums\":[1,2,3]}", "POST: a JSON array for an array argument");
    f[0] = field("d", AR_VAL_STRING, "x", "\"x\"");
    b = json_body("{\"d\":\"x\"}", f, 1);
    call_is("/rpc/doc", NULL, 1, &b,
            "SELECT \"doc\" FROM (SELECT \"s\".\"doc\"(\"d\" := $1::jsonb) AS \"doc\") AS "
            "\"ar_call\" LIMIT 1",
            "\"x\"", "POST: a json argument takes the value as JSON");
    f[0] = field("k", AR_VAL_NUMBER, "1", "1");
    b = json_body("{\"k\": 1}", f, 1);
    call_is("/rpc/echo", NULL, 1, &b,
            "SELECT \"echo\" FROM (SELECT \"s\".\"echo\"($1::json) AS \"echo\") AS \"ar_call\" LIMIT 1",
            "{\"k\": 1}", "POST: the whole body to one unnamed json argument");
    memset(&b, 0, sizeof(b));
    b.text = "\0\1\377";
    b.len = 3;
    b.media = AR_CALL_BODY_BYTES;
    call_is("/rpc/byte_len", NULL, 1, &b,
            "SELECT \"byte_len\" FROM (SELECT \"s\".\"byte_len\"($1::bytea) AS \"byte_len\") AS "
            "\"ar_call\" LIMIT 1",
            "\\x0001ff", "POST: bytes to a bytea argument, as hex");
    f[0] = field("what", AR_VAL_STRING, "hi", "\"hi\"");
    b = json_body("{\"what\":\"hi\"}", f, 1);
    call_is("/rpc/note", NULL, 1, &b, "SELECT FROM \"s\".\"note\"(\"what\" := $1::text)", "hi",
            "void");
    f[0] = field("x", AR_VAL_NUMBER, "21", "21");
    b = json_body("{\"x\":21}", f, 1);
    call_is("/rpc/double_it", NULL, 1, &b,
            "CALL \"s\".\"double_it\"(\"x\" := $1::integer, \"note\" := NULL)", "21",
            "a procedure: its OUT parameter named, as NULL");
}

static void test_choice(void)
{
    ar_call_plan cp;
    ar_read_request req;
    ar_error *e;
    ar_body_field f[2];
    ar_call_body b;

    e = plan("/rpc/amb", "a=1", 0, NULL, AR_RPC_ALL, &cp);
    is_err(e, AR_ERR_AMBIGUOUS_ROUTINE, "choice: {a} fits amb(a) and amb(a, b default)");
    ok(e && strstr(e->message, "s.amb(a => integer), s.amb(a => integer, b => integer)"),
       "choice: ... both listed, fewest arguments first");
    e = plan("/rpc/add_them", "a=1&c=2", 0, NULL, AR_RPC_ALL, &cp);
    is_err(e, AR_ERR_NO_ROUTINE, "choice: a name that is no argument fits nothing");
    is_str(e ? e->message : NULL, "Could not find the function s.add_them(a, c) in the schema cache",
           "choice: ... the names given, sorted");
    is_str(e ? e->hint : NULL, "Perhaps you meant to call the function s.add_them(a, b)",
           "choice: ... the hint names the arguments it takes");
    e = plan("/rpc/add_them", "a=1", 0, NULL, AR_RPC_ALL, &cp);
    is_err(e, AR_ERR_NO_ROUTINE, "choice: an argument without a default left out");
    e = plan("/rpc/helo", NULL, 0, NULL, AR_RPC_ALL, &cp);
    is_str(e ? e->hint : NULL, "Perhaps you meant to call the function s.hello",
           "choice: a misspelt name: the closest one");
    e = plan("/rpc/excluded", NULL, 0, NULL, AR_RPC_ALL, &cp);
    is_err(e, AR_ERR_NO_ROUTINE, "choice: AutoRestExclude hides a function");
    e = plan("/rpc/bump", "id=1", 0, NULL, AR_RPC_ALL, &cp);
    is_err(e, AR_ERR_METHOD, "choice: GET of a VOLATILE function is 405");
    f[0] = field("id", AR_VAL_NUMBER, "1", "1");
    b = json_body("{\"id\":1}", f, 1);
    no_err(plan("/rpc/bump", NULL, 1, &b, AR_RPC_ALL, &cp), "choice: POST calls it");
    ok(!cp.read_only, "choice: ... in a transaction that may write");
    is_err(plan("/rpc/bump", NULL, 1, &b, AR_RPC_READ, &cp), AR_ERR_NO_ROUTINE,
           "choice: AutoRestRPC read does not serve it");
    no_err(plan("/rpc/add_them", "a=1&b=2", 0, NULL, AR_RPC_READ, &cp),
           "choice: ... but serves an IMMUTABLE one");
    ok(cp.read_only, "choice: ... READ ONLY");
    f[0] = field("a", AR_VAL_NUMBER, "1", "1");
    f[1] = field("b", AR_VAL_NUMBER, "2", "2");
    b = json_body("{\"a\":1,\"b\":2}", f, 2);
    no_err(plan("/rpc/add_them", NULL, 1, &b, AR_RPC_ALL, &cp),
           "choice: POST of a STABLE or IMMUTABLE function...");
    ok(cp.read_only, "choice: ... runs READ ONLY too, as PostgREST runs it");
    b.unreadable = ar_error_make(pool, AR_ERR_BAD_BODY, "bad", NULL, NULL);
    is_err(plan("/rpc/add_them", NULL, 1, &b, AR_RPC_ALL, &cp), AR_ERR_BAD_BODY,
           "choice: a body that gave no fields is its own error");
    no_err(plan("/rpc/echo", NULL, 1, &b, AR_RPC_ALL, &cp),
           "choice: ... unless a function takes it whole");
    is_err(plan("/rpc/items_over", "min_qty=1", 1, &b, AR_RPC_ALL, &cp), AR_ERR_BAD_OPERATOR,
           "choice: POST's query string is filters only");
    memset(&req, 0, sizeof(req));
    e = parse("/rpc/doc", NULL, 1, "params=single-object", &req);
    f[0] = field("anything", AR_VAL_NUMBER, "1", "1");
    b = json_body("{\"anything\":1}", f, 1);
    if (!e)
        e = ar_plan_call(pool, schema, &expo, &req, 0, &b, AR_RPC_ALL, 1000, &cp);
    no_err(e, "choice: params=single-object: the body to the one json argument");
    ok(!e && cp.args->nelts == 1
           && strcmp(APR_ARRAY_IDX(cp.args, 0, ar_call_arg).value, "{\"anything\":1}") == 0,
       "choice: ... whole");
    e = parse("/rpc/doc", "k=v&n=1&n=2", 0, "params=single-object", &req);
    if (!e)
        e = ar_plan_call(pool, schema, &expo, &req, 1, NULL, AR_RPC_ALL, 1000, &cp);
    no_err(e, "choice: GET with params=single-object");
    is_str(!e && cp.args->nelts == 1 ? APR_ARRAY_IDX(cp.args, 0, ar_call_arg).value : NULL,
           "{\"k\":\"v\",\"n\":\"2\"}", "choice: ... the parameters as an object of strings");
    e = plan("/rpc/note", "select=x", 0, NULL, AR_RPC_ALL, &cp);
    ok(e != NULL, "choice: void takes no select= (and is VOLATILE)");
    f[0] = field("what", AR_VAL_STRING, "x", "\"x\"");
    b = json_body("{}", f, 1);
    is_err(plan("/rpc/note", "order=what", 1, &b, AR_RPC_ALL, &cp), AR_ERR_UNKNOWN_PARAM,
           "choice: ... nor order=");
    is_err(plan("/rpc/items_over", "min_qty=1&select=secret", 0, NULL, AR_RPC_ALL, &cp),
           AR_ERR_UNKNOWN_COLUMN, "choice: a hidden column of the result table is no column");
}

static void test_count(void)
{
    ar_read_request req;
    ar_call_plan cp;
    ar_sql sql;
    ar_error *e;

    memset(&req, 0, sizeof(req));
    e = parse("/rpc/items_over", "min_qty=1&limit=2&offset=1", 0, "count=exact", &req);
    if (!e)
        e = ar_plan_call(pool, schema, &expo, &req, 1, NULL, AR_RPC_ALL, 1000, &cp);
    no_err(e, "count: planned");
    if (e)
        return;
    ar_sql_render_call(pool, &cp, &sql);
    ok(strstr(sql.text, ", count(*) OVER () FROM ") != NULL,
       "count: the total is a window over the call, which runs once");
    is_int(cp.read.count, AR_COUNT_EXACT, "count: exact");
    e = parse("/rpc/add_them", "a=1&b=2", 0, "count=exact", &req);
    if (!e)
        e = ar_plan_call(pool, schema, &expo, &req, 1, NULL, AR_RPC_ALL, 1000, &cp);
    ok(!e && cp.read.count == AR_COUNT_NONE && cp.read.single,
       "count: a single value is not counted");
}

static void test_raised(void)
{
    ar_error *e;
    const ar_call_param *h;

    e = ar_error_raised(pool, "PGRST", "{\"code\":\"123\",\"message\":\"ABC\",\"details\":\"DEF\","
                        "\"hint\":\"XYZ\"}",
                        "{\"status\":332,\"status_text\":\"My Custom Status\","
                        "\"headers\":{\"X-Header\":\"str\"}}", NULL);
    ok(e && e->kind == AR_ERR_DB_CUSTOM && ar_error_status(e) == 332,
       "raise PGRST: the status it names");
    ok(e && strcmp(e->code, "123") == 0 && strcmp(e->message, "ABC") == 0
           && strcmp(e->details, "DEF") == 0 && strcmp(e->hint, "XYZ") == 0,
       "raise PGRST: code, message, details, hint");
    h = e && e->headers && e->headers->nelts == 1 ? &APR_ARRAY_IDX(e->headers, 0, ar_call_param)
                                                 : NULL;
    ok(h && strcmp(h->name, "X-Header") == 0 && strcmp(h->value, "str") == 0,
       "raise PGRST: its headers");
    is_str(e ? e->status_text : NULL, "My Custom Status", "raise PGRST: its reason phrase");
    e = ar_error_raised(pool, "PGRST", "not json", "{}", NULL);
    ok(e && e->kind == AR_ERR_BAD_RAISE && ar_error_status(e) == 500
           && strstr(e->details, "MESSAGE"),
       "raise PGRST: a MESSAGE that is no JSON object: 500");
    e = ar_error_raised(pool, "PGRST", "{\"code\":\"1\",\"message\":\"m\"}", NULL, NULL);
    is_str(e ? e->details : NULL, "DETAIL is missing in the RAISE statement",
           "raise PGRST: DETAIL missing");
    e = ar_error_raised(pool, "PGRST", "{\"code\":\"1\",\"message\":\"m\"}",
                        "{\"status\":99,\"headers\":{}}", NULL);
    ok(e && e->kind == AR_ERR_BAD_RAISE, "raise PGRST: a status out of range");
    e = ar_error_raised(pool, "PT402", "Payment Required", "Quota exceeded", NULL);
    ok(e && ar_error_status(e) == 402 && strcmp(e->code, "PT402") == 0,
       "raise PT402: status 402");
    e = ar_error_raised(pool, "PT40A", "Wrong", NULL, NULL);
    ok(e && ar_error_status(e) == 500, "raise PT40A: not a number, 500");
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    build_schema();
    test_parse();
    test_statements();
    test_choice();
    test_count();
    test_raised();
    apr_pool_destroy(pool);
    apr_terminate();
    return tap_done();
}
