/*
 * test_query.c: request parsing, planning and SQL rendering (query.c), the
 * error table and its JSON (error.c), SQLSTATE mapping (db.c), and the
 * per-Location bounds on a request (query_limits.c).
 * No server: schemas are built by hand.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <jansson.h>

#include "autorest.h"
#include "tap.h"
#include "ar_checks.h"
#include "schema_kit.h"

static apr_pool_t *pool;

/* ------------------------------------------------------------ parsing */

static ar_error *parse(const char *path, const char *args, const char *range,
                       const char *unit, ar_read_request *req)
{
    ar_request_headers h = {range, unit, NULL, NULL, NULL, NULL, AR_WRITE_NONE, 0, 0};

    return ar_query_parse(pool, AR_DIALECT_POSTGREST, path, args, &h, req);
}

static int req_is(const ar_read_request *r, const char *rel, const char *pk,
                  apr_int64_t limit, apr_int64_t offset, int ranged)
{
    int same = ((rel == NULL && r->relation == NULL)
                || (rel && r->relation && strcmp(rel, r->relation) == 0))
            && ((pk == NULL && r->pk_value == NULL)
                || (pk && r->pk_value && strcmp(pk, r->pk_value) == 0))
            && r->limit == limit && r->offset == offset && r->ranged == ranged;
    if (!same)
        printf("#   got relation=%s pk=%s limit=%" APR_INT64_T_FMT " offset=%"
               APR_INT64_T_FMT " ranged=%d\n",
               r->relation ? r->relation : "(null)", r->pk_value ? r->pk_value : "(null)",
               r->limit, r->offset, r->ranged);
    return same;
}

/* The column of the first condition of a parsed request, or NULL. */
static const char *first_column(const ar_read_request *r)
{
    if (!r->where || !r->where->children || r->where->children->nelts == 0)
        return NULL;
    return APR_ARRAY_IDX(r->where->children, 0, ar_cond *)->field.column;
}

static void test_paths(void)
{
    ar_read_request r;

    no_err(parse("", NULL, NULL, NULL, &r), "\"\" parses");
    ok(req_is(&r, NULL, NULL, AR_UNSET, 0, 0), "\"\" is the index");
    no_err(parse("/", NULL, NULL, NULL, &r), "\"/\" parses");
    ok(req_is(&r, NULL, NULL, AR_UNSET, 0, 0), "\"/\" is the index");
    no_err(parse("//", "", NULL, NULL, &r), "\"//\" parses");
    ok(req_is(&r, NULL, NULL, AR_UNSET, 0, 0), "\"//\" is the index");
    no_err(parse("/rel", NULL, NULL, NULL, &r), "/rel parses");
    ok(req_is(&r, "rel", NULL, AR_UNSET, 0, 0), "/rel is the collection");
    no_err(parse("rel", NULL, NULL, NULL, &r), "rel (no slash) parses");
    ok(req_is(&r, "rel", NULL, AR_UNSET, 0, 0), "rel is the collection");
    no_err(parse("/rel/", NULL, NULL, NULL, &r), "/rel/ parses");
    ok(req_is(&r, "rel", NULL, AR_UNSET, 0, 0), "/rel/ is the collection");
    no_err(parse("/rel/42", NULL, NULL, NULL, &r), "/rel/42 parses");
    ok(req_is(&r, "rel", "42", AR_UNSET, 0, 0), "/rel/42 is the single route");
    no_err(parse("/rel/a b%2F", NULL, NULL, NULL, &r), "/rel/<odd pk> parses");
    ok(req_is(&r, "rel", "a b%2F", AR_UNSET, 0, 0), "pk value taken as is (already decoded)");
    is_err(parse("/rel/42/x", NULL, NULL, NULL, &r), AR_ERR_NO_ROUTE, "/rel/42/x -> NO_ROUTE");
    is_err(parse("/rel/42/", NULL, NULL, NULL, &r), AR_ERR_NO_ROUTE, "/rel/42/ -> NO_ROUTE");
    is_err(parse("/rel//", NULL, NULL, NULL, &r), AR_ERR_NO_ROUTE, "/rel// -> NO_ROUTE");
    no_err(parse("/other.rel", NULL, NULL, NULL, &r), "/other.rel parses");
    ok(req_is(&r, "other.rel", NULL, AR_UNSET, 0, 0), "/other.rel keeps the qualified name");
    no_err(parse("/other.rel/7", NULL, NULL, NULL, &r), "/other.rel/7 parses");
    ok(req_is(&r, "other.rel", "7", AR_UNSET, 0, 0), "/other.rel/7 single route");
}

static void test_params(void)
{
    ar_read_request r;
    ar_error *e;

    no_err(parse("/rel", "limit=10&offset=20", NULL, NULL, &r), "limit+offset parse");
    ok(req_is(&r, "rel", NULL, 10, 20, 0), "limit 10 offset 20");
    no_err(parse("/rel", "offset=5", NULL, NULL, &r), "offset alone");
    ok(req_is(&r, "rel", NULL, AR_UNSET, 5, 0), "offset 5, limit unset");
    no_err(parse("/rel", "limit=0", NULL, NULL, &r), "limit=0");
    ok(req_is(&r, "rel", NULL, 0, 0, 0), "limit 0");
    no_err(parse("/rel", "limit=1000000000000000000", NULL, NULL, &r), "limit 10^18");
    ok(req_is(&r, "rel", NULL, APR_INT64_C(1000000000000000000), 0, 0), "limit 10^18 kept");
    no_err(parse("/rel", "", NULL, NULL, &r), "empty query string");
    ok(req_is(&r, "rel", NULL, AR_UNSET, 0, 0), "empty query string: defaults");
    no_err(parse("/rel", "&&limit=3&", NULL, NULL, &r), "empty pairs skipped");
    ok(req_is(&r, "rel", NULL, 3, 0, 0), "&&limit=3& -> limit 3");

    is_err(parse("/rel", "limit=-1", NULL, NULL, &r), AR_ERR_BAD_PARAM, "limit=-1 -> BAD_PARAM");
    is_err(parse("/rel", "offset=-1", NULL, NULL, &r), AR_ERR_BAD_PARAM, "offset=-1 -> BAD_PARAM");
    is_err(parse("/rel", "limit=abc", NULL, NULL, &r), AR_ERR_BAD_PARAM, "limit=abc -> BAD_PARAM");
    is_err(parse("/rel", "limit=1x", NULL, NULL, &r), AR_ERR_BAD_PARAM, "limit=1x -> BAD_PARAM");
    is_err(parse("/rel", "limit=1.5", NULL, NULL, &r), AR_ERR_BAD_PARAM, "limit=1.5 -> BAD_PARAM");
    is_err(parse("/rel", "limit=", NULL, NULL, &r), AR_ERR_BAD_PARAM, "limit= -> BAD_PARAM");
    is_err(parse("/rel", "limit", NULL, NULL, &r), AR_ERR_BAD_PARAM, "limit (no =) -> BAD_PARAM");
    is_err(parse("/rel", "limit=+5", NULL, NULL, &r), AR_ERR_BAD_PARAM,
           "limit=+5 ('+' is a space) -> BAD_PARAM");
    is_err(parse("/rel", "limit=99999999999999999999", NULL, NULL, &r), AR_ERR_BAD_PARAM,
           "limit overflow -> BAD_PARAM");
    is_err(parse("/rel", "offset=99999999999999999999", NULL, NULL, &r), AR_ERR_BAD_PARAM,
           "offset overflow -> BAD_PARAM");
    e = parse("/rel", "limit=abc", NULL, NULL, &r);
    is_str(e ? e->message : NULL, "'limit' must be a non-negative integer", "bad limit message");
    is_str(e ? e->details : NULL, "got 'abc'", "bad limit details");
    e = parse("/rel", "limit=1&limit=2", NULL, NULL, &r);
    is_err(e, AR_ERR_BAD_PARAM, "duplicate limit -> BAD_PARAM");
    is_str(e ? e->message : NULL, "'limit' is given twice", "duplicate limit message");
    e = parse("/rel", "offset=1&offset=1", NULL, NULL, &r);
    is_err(e, AR_ERR_BAD_PARAM, "duplicate offset -> BAD_PARAM");
    is_str(e ? e->message : NULL, "'offset' is given twice", "duplicate offset message");

    /* Any name but the reserved ones (select order limit offset or and not.or
     * not.and q) is a filter now: col=[not.]op.value. */
    e = parse("/rel", "order=id", NULL, NULL, &r);
    no_err(e, "order=id is an ordering now");
    ok(r.order && r.order->nelts == 1
           && strcmp(APR_ARRAY_IDX(r.order, 0, ar_order_item).field.column, "id") == 0
           && !APR_ARRAY_IDX(r.order, 0, ar_order_item).desc && r.where == NULL,
       "order=id -> one ascending term on id, no filter");
    e = parse("/rel", "foo=1", NULL, NULL, &r);
    is_err(e, AR_ERR_BAD_OPERATOR, "foo=1 (a filter without an operator) -> BAD_OPERATOR");
    ok(e && ar_error_status(e) == 400 && strcmp(e->code, "AR107") == 0, "foo=1 -> 400 AR107");
    is_err(parse("/rel", "limit=1&foo=1", NULL, NULL, &r), AR_ERR_BAD_OPERATOR,
           "a bad filter after a good parameter -> BAD_OPERATOR");
    no_err(parse("/rel", "limit=1&select=a", NULL, NULL, &r), "limit=1&select=a parses");
    ok(r.limit == 1 && r.select && r.select->nelts == 1, "limit 1 and a one-column select");
    is_err(parse("/rel", "LIMIT=1", NULL, NULL, &r), AR_ERR_BAD_OPERATOR,
           "names are case-sensitive: LIMIT=1 is a filter on LIMIT, without an operator");
    no_err(parse("/rel", "LIMIT=eq.1", NULL, NULL, &r), "LIMIT=eq.1 is a filter");
    ok(r.limit == AR_UNSET && r.where && r.where->children->nelts == 1
           && strcmp(APR_ARRAY_IDX(r.where->children, 0, ar_cond *)->field.column, "LIMIT") == 0,
       "LIMIT=eq.1: a condition on column LIMIT, no limit");

    /* %-decoding */
    no_err(parse("/rel", "lim%69t=%31%30", NULL, NULL, &r), "%%-escaped name and value");
    ok(req_is(&r, "rel", NULL, 10, 0, 0), "lim%%69t=%%31%%30 -> limit 10");
    no_err(parse("/rel", "%6c%69%6D%69%74=2", NULL, NULL, &r), "mixed-case hex digits");
    ok(req_is(&r, "rel", NULL, 2, 0, 0), "%%6c%%69%%6D%%69%%74=2 -> limit 2");
    no_err(parse("/rel", "a+b=eq.1", NULL, NULL, &r), "a+b=eq.1 parses");
    is_str(first_column(&r), "a b", "'+' decodes to a space");
    no_err(parse("/rel", "a%20b=eq.1", NULL, NULL, &r), "a%%20b=eq.1 parses");
    is_str(first_column(&r), "a b", "%%20 decodes to a space");
    no_err(parse("/rel", "a%2Bb=eq.1", NULL, NULL, &r), "a%%2Bb=eq.1 parses");
    is_str(first_column(&r), "a+b", "%%2B decodes to '+'");
    no_err(parse("/rel", "a=eq.x+y%2Bz", NULL, NULL, &r), "a=eq.x+y%%2Bz parses");
    is_str(r.where ? APR_ARRAY_IDX(r.where->children, 0, ar_cond *)->value : NULL, "x y+z",
           "'+' and %%2B decode in the value too");
    is_err(parse("/rel", "limit=%3", NULL, NULL, &r), AR_ERR_BAD_PARAM, "truncated %%3 -> BAD_PARAM");
    is_err(parse("/rel", "limit=1%", NULL, NULL, &r), AR_ERR_BAD_PARAM, "trailing %% -> BAD_PARAM");
    is_err(parse("/rel", "limit=%zz", NULL, NULL, &r), AR_ERR_BAD_PARAM, "%%zz -> BAD_PARAM");
    is_err(parse("/rel", "li%g1mit=1", NULL, NULL, &r), AR_ERR_BAD_PARAM,
           "bad escape in a name -> BAD_PARAM");
    is_err(parse("/rel", "limit=%00", NULL, NULL, &r), AR_ERR_BAD_PARAM, "%%00 -> BAD_PARAM");
    is_err(parse("/rel", "limit=1%00", NULL, NULL, &r), AR_ERR_BAD_PARAM, "1%%00 -> BAD_PARAM");
    e = parse("/rel", "limit=%zz", NULL, NULL, &r);
    is_str(e ? e->message : NULL, "the query string has a malformed %-escape",
           "malformed escape message");
    no_err(parse("/rel", "limit=%35&offset=1%30", NULL, NULL, &r), "escape at the very end");
    ok(req_is(&r, "rel", NULL, 5, 10, 0), "limit=%%35&offset=1%%30 -> 5, 10");
}

static void test_range(void)
{
    ar_read_request r;
    ar_error *e;

    no_err(parse("/rel", NULL, "0-9", NULL, &r), "Range 0-9");
    ok(req_is(&r, "rel", NULL, 10, 0, 1), "0-9 -> limit 10 offset 0 ranged");
    no_err(parse("/rel", NULL, "10-", NULL, &r), "Range 10-");
    ok(req_is(&r, "rel", NULL, AR_UNSET, 10, 1), "10- -> offset 10, no limit");
    no_err(parse("/rel", NULL, "items=0-9", NULL, &r), "Range items=0-9");
    ok(req_is(&r, "rel", NULL, 10, 0, 1), "items=0-9 -> limit 10");
    no_err(parse("/rel", NULL, "ITEMS=5-5", NULL, &r), "Range ITEMS=5-5");
    ok(req_is(&r, "rel", NULL, 1, 5, 1), "5-5 -> one row at offset 5");
    no_err(parse("/rel", NULL, "0-9", "items", &r), "Range-Unit items");
    ok(req_is(&r, "rel", NULL, 10, 0, 1), "Range-Unit items accepted");
    no_err(parse("/rel", NULL, "0-9", "Items", &r), "Range-Unit is case-insensitive");
    no_err(parse("/rel", NULL, "", NULL, &r), "empty Range is no Range");
    ok(req_is(&r, "rel", NULL, AR_UNSET, 0, 0), "empty Range: not ranged");
    no_err(parse("/rel", NULL, NULL, "bytes", &r), "Range-Unit without Range is ignored");

    e = parse("/rel", NULL, "5-2", NULL, &r);
    is_err(e, AR_ERR_RANGE_UNSATISFIABLE, "5-2 -> RANGE_UNSATISFIABLE");
    ok(e && ar_error_status(e) == 416, "5-2 -> 416");
    is_err(parse("/rel", NULL, "abc", NULL, &r), AR_ERR_BAD_RANGE, "abc -> BAD_RANGE");
    is_err(parse("/rel", NULL, "-5", NULL, &r), AR_ERR_BAD_RANGE, "-5 -> BAD_RANGE");
    is_err(parse("/rel", NULL, "1-x", NULL, &r), AR_ERR_BAD_RANGE, "1-x -> BAD_RANGE");
    is_err(parse("/rel", NULL, "-", NULL, &r), AR_ERR_BAD_RANGE, "- -> BAD_RANGE");
    is_err(parse("/rel", NULL, "1--2", NULL, &r), AR_ERR_BAD_RANGE, "1--2 -> BAD_RANGE");
    is_err(parse("/rel", NULL, " 0-9", NULL, &r), AR_ERR_BAD_RANGE, "leading space -> BAD_RANGE");
    is_err(parse("/rel", NULL, "bytes=0-9", NULL, &r), AR_ERR_BAD_RANGE, "bytes=0-9 -> BAD_RANGE");
    is_err(parse("/rel", NULL, "0-99999999999999999999", NULL, &r), AR_ERR_BAD_RANGE,
           "overflowing end -> BAD_RANGE");
    e = parse("/rel", NULL, "0-9", "bytes", &r);
    is_err(e, AR_ERR_BAD_RANGE, "Range-Unit bytes -> BAD_RANGE");
    is_str(e ? e->message : NULL, "Range-Unit must be 'items'", "Range-Unit message");
    ok(e && ar_error_status(e) == 400, "bad Range -> 400");

    /* Range narrows the parameters */
    no_err(parse("/rel", "offset=10&limit=5", "0-9", NULL, &r), "Range with offset+limit");
    ok(req_is(&r, "rel", NULL, 5, 10, 1), "offset 10 limit 5 + 0-9 -> offset 10 limit 5");
    no_err(parse("/rel", "offset=10&limit=100", "2-3", NULL, &r), "Range inside a page");
    ok(req_is(&r, "rel", NULL, 2, 12, 1), "offset 10 limit 100 + 2-3 -> offset 12 limit 2");
    no_err(parse("/rel", "limit=5", "10-", NULL, &r), "open Range with a limit");
    ok(req_is(&r, "rel", NULL, 5, 10, 1), "limit 5 + 10- -> offset 10 limit 5");
    no_err(parse("/rel", "offset=3", "0-0", NULL, &r), "Range with an offset");
    ok(req_is(&r, "rel", NULL, 1, 3, 1), "offset 3 + 0-0 -> offset 3 limit 1");

    /* offset + Range start past 2^63: must be refused, not wrap around */
    e = parse("/rel", "offset=9000000000000000000", "9000000000000000000-", NULL, &r);
    ok((e && (ar_error_status(e) == 400 || ar_error_status(e) == 416))
           || (!e && r.offset >= APR_INT64_C(9000000000000000000)),
       "offset=9e18 + Range 9e18- is refused (no signed overflow)");
    if (!e)
        printf("#   got no error, offset=%" APR_INT64_T_FMT "\n", r.offset);

    /* pagination on the index or single route */
    is_err(parse("/", "limit=5", NULL, NULL, &r), AR_ERR_UNKNOWN_PARAM, "limit on the index");
    is_err(parse("", "offset=5", NULL, NULL, &r), AR_ERR_UNKNOWN_PARAM, "offset on the index");
    is_err(parse("/", NULL, "0-9", NULL, &r), AR_ERR_UNKNOWN_PARAM, "Range on the index");
    is_err(parse("/rel/1", "limit=5", NULL, NULL, &r), AR_ERR_UNKNOWN_PARAM, "limit on a row");
    is_err(parse("/rel/1", "offset=0", NULL, NULL, &r), AR_ERR_UNKNOWN_PARAM, "offset=0 on a row");
    is_err(parse("/rel/1", NULL, "0-0", NULL, &r), AR_ERR_UNKNOWN_PARAM, "Range on a row");
    is_err(parse("/", "foo=eq.1", NULL, NULL, &r), AR_ERR_UNKNOWN_PARAM, "a filter on the index");
    e = parse("/", "foo=1", NULL, NULL, &r);
    ok(e && ar_error_status(e) == 400
           && (e->kind == AR_ERR_UNKNOWN_PARAM || e->kind == AR_ERR_BAD_OPERATOR),
       "foo=1 on the index -> 400 (an unreadable filter, or a parameter the index refuses)");
    is_err(parse("/", "select=a", NULL, NULL, &r), AR_ERR_UNKNOWN_PARAM, "select on the index");
    is_err(parse("/", "order=a", NULL, NULL, &r), AR_ERR_UNKNOWN_PARAM, "order on the index");
    is_err(parse("/", "or=(a.eq.1)", NULL, NULL, &r), AR_ERR_UNKNOWN_PARAM, "or= on the index");
    is_err(parse("", "q={}", NULL, NULL, &r), AR_ERR_UNKNOWN_PARAM, "q= on the index");
    no_err(parse("/rel/1", NULL, NULL, "items", &r), "Range-Unit alone on a row is fine");
    /* a single row takes select= only */
    no_err(parse("/rel/1", "select=a,b", NULL, NULL, &r), "select on a row is fine");
    ok(r.select && r.select->nelts == 2 && r.pk_value && strcmp(r.pk_value, "1") == 0,
       "/rel/1?select=a,b keeps the select and the pk");
    is_err(parse("/rel/1", "a=eq.1", NULL, NULL, &r), AR_ERR_UNKNOWN_PARAM, "a filter on a row");
    is_err(parse("/rel/1", "order=a", NULL, NULL, &r), AR_ERR_UNKNOWN_PARAM, "order on a row");
    is_err(parse("/rel/1", "or=(a.eq.1,b.eq.2)", NULL, NULL, &r), AR_ERR_UNKNOWN_PARAM,
           "or= on a row");
    is_err(parse("/rel/1", "select=a&limit=1", NULL, NULL, &r), AR_ERR_UNKNOWN_PARAM,
           "select with limit on a row");
    is_err(parse("/rel/1", "q={}", NULL, NULL, &r), AR_ERR_UNKNOWN_PARAM, "q= on a row");
}

/* ------------------------------------------------------------ planning */

static ar_schema *schema;
static ar_exposure expo;

/* A column of type "t"; arrays hold numbers. */
static void addcol(ar_relation *r, const char *name, ar_encoding enc, int nullable,
                   int sortable)
{
    ar_column *c = kit_column(r, name, "t", enc, nullable, sortable);

    if (enc == AR_ENC_ARRAY)
        c->elem_enc = AR_ENC_NUMBER;
}

/* A key over column a, and b unless it is -1. */
static ar_key *pk(const char *name, int a, int b)
{
    return kit_key(pool, name, a, b, -1);
}

static ar_key mkkey(const char *name, int a, int b)
{
    return *pk(name, a, b);
}

static ar_relation *mkrel(const char *schema_name, const char *name)
{
    return kit_relation(pool, schema, schema_name, name);
}

static void build_schema(void)
{
    ar_relation *r;
    apr_array_header_t *schemas = apr_array_make(pool, 2, sizeof(const char *));

    schema = ar_schema_create(pool);

    r = mkrel("public", "people");
    addcol(r, "id", AR_ENC_NUMBER, 0, 1);
    addcol(r, "name", AR_ENC_STRING, 0, 1);
    addcol(r, "password", AR_ENC_STRING, 1, 1);
    addcol(r, "address", AR_ENC_SQL_JSON, 1, 0);
    addcol(r, "tags", AR_ENC_ARRAY, 1, 0);
    r->primary_key = pk("people_pkey", 0, -1);
    APR_ARRAY_PUSH(r->unique_keys, ar_key) = mkkey("people_name_key", 1, -1);

    r = mkrel("public", "enrollment");
    addcol(r, "person_id", AR_ENC_NUMBER, 0, 1);
    addcol(r, "team_id", AR_ENC_NUMBER, 0, 1);
    r->primary_key = pk("enrollment_pkey", 1, 0);

    r = mkrel("public", "uniq_only");
    addcol(r, "label", AR_ENC_STRING, 1, 1);
    addcol(r, "code", AR_ENC_NUMBER, 0, 1);
    APR_ARRAY_PUSH(r->unique_keys, ar_key) = mkkey("uniq_only_code_key", 1, -1);

    r = mkrel("public", "two_uniques");
    addcol(r, "a", AR_ENC_STRING, 1, 1);
    addcol(r, "b", AR_ENC_NUMBER, 0, 1);
    addcol(r, "c", AR_ENC_NUMBER, 0, 1);
    APR_ARRAY_PUSH(r->unique_keys, ar_key) = mkkey("two_uniques_a_key", 0, -1);
    APR_ARRAY_PUSH(r->unique_keys, ar_key) = mkkey("two_uniques_c_b_key", 2, 1);

    r = mkrel("public", "no_keys");
    addcol(r, "a", AR_ENC_NUMBER, 1, 1);
    addcol(r, "j", AR_ENC_JSON, 1, 0);
    addcol(r, "b", AR_ENC_STRING, 1, 1);
    addcol(r, "arr", AR_ENC_ARRAY, 1, 0);
    addcol(r, "c", AR_ENC_TIMESTAMP, 1, 1);

    r = mkrel("public", "nullable_unique");
    addcol(r, "note", AR_ENC_STRING, 1, 1);
    addcol(r, "code", AR_ENC_STRING, 1, 1);
    addcol(r, "secret", AR_ENC_NUMBER, 1, 1);
    addcol(r, "n", AR_ENC_NUMBER, 1, 1);
    APR_ARRAY_PUSH(r->unique_keys, ar_key) = mkkey("nullable_unique_code_key", 1, -1);

    r = mkrel("public", "nothing_sortable");
    addcol(r, "j", AR_ENC_JSON, 1, 0);

    r = mkrel("public", "secret");
    addcol(r, "id", AR_ENC_NUMBER, 0, 1);
    r->primary_key = pk("secret_pkey", 0, -1);

    r = mkrel("public", "hidden_pk");
    addcol(r, "id", AR_ENC_NUMBER, 0, 1);
    addcol(r, "v", AR_ENC_STRING, 1, 1);
    r->primary_key = pk("hidden_pk_pkey", 0, -1);

    r = mkrel("public", "all_hidden");
    addcol(r, "x", AR_ENC_JSON, 1, 0);
    addcol(r, "y", AR_ENC_SQL_JSON, 1, 0);

    r = mkrel("public", "we\"ird");
    addcol(r, "co\"l", AR_ENC_NUMBER, 0, 1);
    addcol(r, "j\"\"son", AR_ENC_SQL_JSON, 1, 0);
    r->primary_key = pk("weird_pkey", 0, -1);

    r = mkrel("other", "things");
    addcol(r, "id", AR_ENC_NUMBER, 0, 1);
    r->primary_key = pk("things_pkey", 0, -1);

    r = mkrel("private", "stuff");
    addcol(r, "id", AR_ENC_NUMBER, 0, 1);
    r->primary_key = pk("stuff_pkey", 0, -1);

    APR_ARRAY_PUSH(schemas, const char *) = "public";
    APR_ARRAY_PUSH(schemas, const char *) = "other";
    expo.schemas = schemas;
    expo.excluded = apr_hash_make(pool);
    apr_hash_set(expo.excluded, "public.secret", APR_HASH_KEY_STRING, "");
    expo.hidden = apr_hash_make(pool);
    apr_hash_set(expo.hidden, "public.people.password", APR_HASH_KEY_STRING, "");
    apr_hash_set(expo.hidden, "public.hidden_pk.id", APR_HASH_KEY_STRING, "");
    apr_hash_set(expo.hidden, "public.all_hidden.x", APR_HASH_KEY_STRING, "");
    apr_hash_set(expo.hidden, "public.nullable_unique.secret", APR_HASH_KEY_STRING, "");
    apr_hash_set(expo.hidden, "public.all_hidden.y", APR_HASH_KEY_STRING, "");
}

/* Parse and plan; returns the error of whichever failed. */
static ar_error *plan_for(const char *path, const char *args, const char *range,
                          apr_int64_t max_rows, ar_read_plan *plan)
{
    ar_read_request req;
    ar_request_headers h = {range, NULL, NULL, NULL, NULL, NULL, AR_WRITE_NONE, 0, 0};
    ar_error *e = ar_query_parse(pool, AR_DIALECT_POSTGREST, path, args, &h, &req);

    if (e)
        return e;
    return ar_plan_read(pool, schema, &expo, &req, max_rows, plan);
}

static const char *order_of(const ar_read_plan *plan)
{
    const char *s = "";
    int i;

    for (i = 0; plan->order && i < plan->order->nelts; i++)
        s = apr_pstrcat(pool, s, i ? "," : "",
                        APR_ARRAY_IDX(plan->order, i, ar_order_term).column->name, NULL);
    return s;
}

static const char *columns_of(const ar_read_plan *plan)
{
    const char *s = "";
    int i;

    for (i = 0; plan->columns && i < plan->columns->nelts; i++) {
        const ar_output_column *oc = &APR_ARRAY_IDX(plan->columns, i, ar_output_column);
        s = apr_pstrcat(pool, s, i ? "," : "", oc->column->name, NULL);
    }
    return s;
}

static void test_plan(void)
{
    ar_read_plan plan;
    ar_read_request req;

    /* default order */
    no_err(plan_for("/people", NULL, NULL, 0, &plan), "plan people");
    is_str(order_of(&plan), "id", "people ordered by primary key (not the unique name)");
    no_err(plan_for("/enrollment", NULL, NULL, 0, &plan), "plan enrollment");
    is_str(order_of(&plan), "team_id,person_id", "composite pk ordered in key order");
    no_err(plan_for("/uniq_only", NULL, NULL, 0, &plan), "plan uniq_only");
    is_str(order_of(&plan), "code", "no pk: the NOT NULL unique key");
    no_err(plan_for("/two_uniques", NULL, NULL, 0, &plan), "plan two_uniques");
    is_str(order_of(&plan), "c,b", "first unique key whose columns are all NOT NULL");
    no_err(plan_for("/no_keys", NULL, NULL, 0, &plan), "plan no_keys");
    is_str(order_of(&plan), "a,b,c", "no key: sortable columns in position order");
    no_err(plan_for("/nullable_unique", NULL, NULL, 0, &plan), "plan nullable_unique");
    is_str(order_of(&plan), "code,note,n",
           "nullable unique key first, then the other visible sortable columns (ties on NULL)");
    no_err(plan_for("/nothing_sortable", NULL, NULL, 0, &plan), "plan nothing_sortable");
    is_str(order_of(&plan), "", "nothing sortable: no ORDER BY");
    ok(plan.relation && strcmp(plan.relation->name, "nothing_sortable") == 0, "plan.relation set");

    /* columns */
    no_err(plan_for("/people", NULL, NULL, 0, &plan), "plan people again");
    is_str(columns_of(&plan), "id,name,address,tags", "hidden column dropped, order kept");
    {
        const ar_output_column *addr = &APR_ARRAY_IDX(plan.columns, 2, ar_output_column);
        const ar_output_column *tags = &APR_ARRAY_IDX(plan.columns, 3, ar_output_column);
        ok(addr->enc == AR_ENC_JSON, "SQL_JSON column arrives as JSON");
        ok(addr->column->enc == AR_ENC_SQL_JSON, "its column still says SQL_JSON");
        ok(tags->enc == AR_ENC_ARRAY && tags->elem_enc == AR_ENC_NUMBER,
           "array column keeps its elem encoding");
    }
    ok(plan.single == 0 && plan.pk_column == NULL && plan.pk_value == NULL,
       "collection plan is not single");

    /* cap */
    no_err(plan_for("/people", NULL, NULL, 0, &plan), "no cap, no limit");
    ok(plan.limit == AR_UNSET && plan.probe_next == 0 && plan.offset == 0,
       "no cap, no limit: all rows, no probe");
    no_err(plan_for("/people", "limit=5&offset=7", NULL, 0, &plan), "no cap, limit 5");
    ok(plan.limit == 5 && plan.probe_next == 1 && plan.offset == 7, "limit 5 offset 7, probe");
    no_err(plan_for("/people", NULL, NULL, 100, &plan), "cap 100, no limit");
    ok(plan.limit == 100 && plan.probe_next == 1, "no limit -> the cap, probe");
    no_err(plan_for("/people", "limit=500", NULL, 100, &plan), "cap 100, limit 500");
    ok(plan.limit == 100 && plan.probe_next == 1, "limit above the cap clamped to 100");
    no_err(plan_for("/people", "limit=50", NULL, 100, &plan), "cap 100, limit 50");
    ok(plan.limit == 50 && plan.probe_next == 1, "limit below the cap kept");
    no_err(plan_for("/people", "limit=100", NULL, 100, &plan), "cap 100, limit 100");
    ok(plan.limit == 100, "limit equal to the cap kept");
    no_err(plan_for("/people", "limit=0", NULL, 100, &plan), "limit 0");
    ok(plan.limit == 0 && plan.probe_next == 1, "limit 0 kept");
    no_err(plan_for("/people", NULL, "0-999", 100, &plan), "Range 0-999 under cap 100");
    ok(plan.limit == 100 && plan.offset == 0, "Range larger than the cap clamped");
    no_err(plan_for("/people", NULL, "20-", 100, &plan), "Range 20- under cap 100");
    ok(plan.limit == 100 && plan.offset == 20, "open Range -> cap from offset 20");

    /* single row */
    no_err(plan_for("/people/42", NULL, NULL, 100, &plan), "plan /people/42");
    ok(plan.single == 1 && plan.limit == 1 && plan.probe_next == 0 && plan.offset == 0,
       "single: limit 1, no probe, no offset");
    ok(plan.pk_column && strcmp(plan.pk_column->name, "id") == 0, "single: pk column id");
    is_str(plan.pk_value, "42", "single: pk value");
    is_str(order_of(&plan), "", "single: no ORDER BY");
    no_err(plan_for("/other.things/1", NULL, NULL, 0, &plan), "plan /other.things/1");
    ok(plan.relation && strcmp(plan.relation->schema, "other") == 0, "schema-qualified single");
    is_err(plan_for("/enrollment/1", NULL, NULL, 0, &plan), AR_ERR_NO_ROUTE,
           "composite pk: single route -> NO_ROUTE");
    is_err(plan_for("/no_keys/1", NULL, NULL, 0, &plan), AR_ERR_NO_ROUTE,
           "no pk: single route -> NO_ROUTE");
    is_err(plan_for("/uniq_only/1", NULL, NULL, 0, &plan), AR_ERR_NO_ROUTE,
           "unique key only: single route -> NO_ROUTE");
    is_err(plan_for("/hidden_pk/1", NULL, NULL, 0, &plan), AR_ERR_NO_ROUTE,
           "hidden pk column: single route -> NO_ROUTE");
    no_err(plan_for("/hidden_pk", NULL, NULL, 0, &plan), "hidden_pk collection is fine");
    is_str(columns_of(&plan), "v", "hidden_pk: only v");

    /* relations */
    is_err(plan_for("/secret", NULL, NULL, 0, &plan), AR_ERR_NO_RELATION,
           "excluded relation -> NO_RELATION");
    is_err(plan_for("/secret/1", NULL, NULL, 0, &plan), AR_ERR_NO_RELATION,
           "excluded relation, single -> NO_RELATION");
    is_err(plan_for("/public.secret", NULL, NULL, 0, &plan), AR_ERR_NO_RELATION,
           "excluded relation, qualified -> NO_RELATION");
    is_err(plan_for("/nope", NULL, NULL, 0, &plan), AR_ERR_NO_RELATION,
           "unknown relation -> NO_RELATION");
    is_err(plan_for("/private.stuff", NULL, NULL, 0, &plan), AR_ERR_NO_RELATION,
           "unexposed schema -> NO_RELATION");
    is_err(plan_for("/things", NULL, NULL, 0, &plan), AR_ERR_NO_RELATION,
           "non-default schema needs qualifying -> NO_RELATION");
    no_err(plan_for("/public.people", NULL, NULL, 0, &plan), "default schema qualified");
    ok(plan.relation && strcmp(plan.relation->name, "people") == 0, "public.people resolves");
    {
        ar_error *e = plan_for("/nope", NULL, NULL, 0, &plan);
        ok(e && ar_error_status(e) == 404, "unknown relation -> 404");
        is_str(e ? e->message : NULL, "relation 'nope' does not exist", "no relation message");
    }

    /* keyset: the order is total (ends in the primary key or a NOT NULL
     * unique key), no term is hidden, there is a limit, and it is a list. */
    no_err(plan_for("/people", "limit=5", NULL, 0, &plan), "keyset: people, limit 5");
    ok(plan.keyset == 1, "keyset: ordered by the primary key -> 1");
    ok(plan.after == NULL && plan.skipped == 0, "keyset: no cursor yet, nothing skipped");
    no_err(plan_for("/people", "order=name.desc&limit=5", NULL, 0, &plan),
           "keyset: people, order=name.desc");
    is_str(order_of(&plan), "name,id", "keyset: the client's term, then the pk tie-breaker");
    ok(plan.keyset == 1, "keyset: client order + pk tie-breaker -> 1");
    no_err(plan_for("/people", "order=address->>city,id.desc&limit=5", NULL, 0, &plan),
           "keyset: a JSON path term and the pk given by the client");
    is_str(order_of(&plan), "address,id", "keyset: the client's pk term is the tie-breaker");
    ok(plan.keyset == 1, "keyset: path term + client pk term -> 1");
    no_err(plan_for("/enrollment", "limit=2", NULL, 0, &plan), "keyset: composite pk");
    ok(plan.keyset == 1, "keyset: composite pk -> 1");
    no_err(plan_for("/uniq_only", "limit=5", NULL, 0, &plan), "keyset: uniq_only");
    ok(plan.keyset == 1, "keyset: a NOT NULL unique key, no pk -> 1");
    no_err(plan_for("/two_uniques", "order=a&limit=5", NULL, 0, &plan), "keyset: two_uniques");
    is_str(order_of(&plan), "a,c,b", "keyset: nullable term, then the NOT NULL unique key");
    ok(plan.keyset == 1, "keyset: ends in the NOT NULL unique key -> 1");
    no_err(plan_for("/no_keys", "limit=5", NULL, 0, &plan), "keyset: no_keys");
    ok(plan.keyset == 0, "keyset: no key -> 0");
    no_err(plan_for("/no_keys", "order=a&limit=5", NULL, 0, &plan), "keyset: no_keys, order=a");
    ok(plan.keyset == 0, "keyset: no key, client order -> 0");
    no_err(plan_for("/nullable_unique", "limit=5", NULL, 0, &plan), "keyset: nullable_unique");
    ok(plan.keyset == 0, "keyset: only a nullable unique key -> 0");
    no_err(plan_for("/hidden_pk", "limit=5", NULL, 0, &plan), "keyset: hidden_pk");
    is_str(order_of(&plan), "id", "keyset: hidden_pk is still ordered by its (hidden) pk");
    ok(plan.keyset == 0, "keyset: a hidden order-term column -> 0");
    no_err(plan_for("/people", NULL, NULL, 0, &plan), "keyset: people, no limit, no cap");
    ok(plan.keyset == 0, "keyset: no limit -> 0");
    no_err(plan_for("/people", "offset=3", NULL, 0, &plan), "keyset: people, offset only");
    ok(plan.keyset == 0, "keyset: offset without a limit -> 0");
    no_err(plan_for("/people", NULL, NULL, 100, &plan), "keyset: people, cap 100");
    ok(plan.keyset == 1, "keyset: the cap is a limit -> 1");
    no_err(plan_for("/people", NULL, "0-9", 0, &plan), "keyset: people, Range 0-9");
    ok(plan.keyset == 1, "keyset: a closed Range is a limit -> 1");
    no_err(plan_for("/people", NULL, "10-", 0, &plan), "keyset: people, Range 10-");
    ok(plan.keyset == 0, "keyset: an open Range without a cap -> 0");
    no_err(plan_for("/people/42", NULL, NULL, 100, &plan), "keyset: single row");
    ok(plan.keyset == 0, "keyset: single row by pk -> 0");
    {
        ar_request_headers h = {NULL, NULL, NULL, "application/vnd.pgrst.object+json", NULL,
                                NULL, AR_WRITE_NONE, 0, 0};
        ar_error *e = ar_query_parse(pool, AR_DIALECT_POSTGREST, "/people", "limit=5", &h, &req);
        if (!e)
            e = ar_plan_read(pool, schema, &expo, &req, 0, &plan);
        no_err(e, "keyset: people as one object");
        ok(plan.single == 1 && plan.keyset == 0, "keyset: vnd.pgrst.object+json -> 0");
        e = ar_query_parse(pool, AR_DIALECT_RESTLESS, "/people", "q={\"single\":true}", NULL,
                           &req);
        if (!e)
            e = ar_plan_read(pool, schema, &expo, &req, 100, &plan);
        no_err(e, "keyset: people, q single");
        ok(plan.single == 1 && plan.keyset == 0, "keyset: q={\"single\":true} -> 0");
    }

    /* a request built by hand */
    memset(&req, 0, sizeof(req));
    req.relation = "no_keys";
    req.limit = 3;
    req.offset = 1;
    no_err(ar_plan_read(pool, schema, &expo, &req, 2, &plan), "hand-built request");
    ok(plan.limit == 2 && plan.offset == 1, "hand-built request clamped to max_rows 2");
}

/* ---------------------------------------------------------- aggregates */

static ar_error *agg_plan(const char *args, int allowed, ar_read_plan *plan)
{
    ar_read_request req;
    ar_request_headers h = {NULL, NULL, NULL, NULL, NULL, NULL, AR_WRITE_NONE, 0, 0};
    ar_error *e = ar_query_parse(pool, AR_DIALECT_POSTGREST, "/people", args, &h, &req);

    if (e)
        return e;
    req.aggregates = allowed;
    return ar_plan_read(pool, schema, &expo, &req, 0, plan);
}

static void test_aggregates(void)
{
    ar_read_plan plan;
    ar_sql sql;

    statement_is(pool, agg_plan("select=count()", 1, &plan), &plan,
                 "SELECT count(*) AS \"count\" FROM \"public\".\"people\"", "",
                 "count(): the rows, no order, no key");
    statement_is(pool, agg_plan("select=name,total:id.sum(),id.avg()&order=name.desc", 1, &plan),
                 &plan,
                 "SELECT \"name\", sum(\"id\") AS \"total\", avg(\"id\") AS \"avg\""
                 " FROM \"public\".\"people\" GROUP BY \"name\" ORDER BY \"name\" DESC",
                 "", "grouped by the other column, ordered as asked only");
    statement_is(pool, agg_plan("select=id::numeric.max()::text,name.min()&limit=5", 1, &plan),
                 &plan,
                 "SELECT to_json((max((\"id\")::numeric))::text) AS \"max\","
                 " min(\"name\") AS \"min\" FROM \"public\".\"people\" LIMIT 6",
                 "", "casts of the argument and of the value; limit");
    ok(plan.columns->nelts == 2
           && APR_ARRAY_IDX(plan.columns, 0, ar_output_column).enc == AR_ENC_JSON
           && APR_ARRAY_IDX(plan.columns, 1, ar_output_column).enc == AR_ENC_STRING,
       "a cast value goes through to_json; min of text stays text");
    no_err(agg_plan("select=name,count()&name=eq.x", 1, &plan), "a filter with aggregates");
    ar_sql_render_count(pool, &plan, AR_COUNT_EXACT, 0, &sql);
    is_str(sql.text,
           "SELECT count(*) FROM (SELECT 1 FROM \"public\".\"people\" WHERE (\"name\" = $1)"
           " GROUP BY \"name\") AS groups",
           "count=exact counts the groups");
    ok(!plan.keyset, "no keyset cursor over groups");
    is_err(agg_plan("select=count()", 0, &plan), AR_ERR_AGGREGATES_OFF, "off: AR122");
    is_err(agg_plan("select=name.sum()", 1, &plan), AR_ERR_BAD_PARAM, "sum of text: 400");
    is_err(agg_plan("select=address.min()", 1, &plan), AR_ERR_BAD_PARAM,
           "min of what has no order: 400");
    is_err(agg_plan("select=name,count()&order=id", 1, &plan), AR_ERR_BAD_PARAM,
           "order by what does not group: 400");
    is_err(agg_plan("select=sum()", 1, &plan), AR_ERR_BAD_PARAM, "sum() of no column: 400");
    is_err(agg_plan("select=id.sum()::x;drop", 1, &plan), AR_ERR_BAD_PARAM,
           "a cast that is not a type name: 400");
    is_err(agg_plan("select=nope.count()", 1, &plan), AR_ERR_UNKNOWN_COLUMN,
           "an unknown column: 400 AR105");
}

/* -------------------------------------------------------------- render */


static void render(const char *path, const char *args, const char *range,
                   apr_int64_t max_rows, const char *want_sql, const char *want_params,
                   const char *what)
{
    ar_read_plan plan;
    ar_error *e = plan_for(path, args, range, max_rows, &plan);

    statement_is(pool, e, &plan, want_sql, want_params, what);
}

static void test_render(void)
{
    render("/people", "limit=10&offset=20", NULL, 0,
           "SELECT \"id\", \"name\", to_json(\"address\") AS \"address\", \"tags\""
           " FROM \"public\".\"people\" ORDER BY \"id\" LIMIT 11 OFFSET $1",
           "20", "collection, limit 10 offset 20 (LIMIT limit+1)");
    render("/people", NULL, NULL, 0,
           "SELECT \"id\", \"name\", to_json(\"address\") AS \"address\", \"tags\""
           " FROM \"public\".\"people\" ORDER BY \"id\"",
           "", "collection, no limit, no cap");
    render("/people", "offset=5", NULL, 0,
           "SELECT \"id\", \"name\", to_json(\"address\") AS \"address\", \"tags\""
           " FROM \"public\".\"people\" ORDER BY \"id\" OFFSET $1",
           "5", "collection, offset only");
    render("/people", "offset=0", NULL, 25,
           "SELECT \"id\", \"name\", to_json(\"address\") AS \"address\", \"tags\""
           " FROM \"public\".\"people\" ORDER BY \"id\" LIMIT 26",
           "", "collection, cap 25, offset 0 omitted");
    render("/people", "limit=0", NULL, 0,
           "SELECT \"id\", \"name\", to_json(\"address\") AS \"address\", \"tags\""
           " FROM \"public\".\"people\" ORDER BY \"id\" LIMIT 1",
           "", "limit 0 still probes one row");
    render("/people/42", NULL, NULL, 100,
           "SELECT \"id\", \"name\", to_json(\"address\") AS \"address\", \"tags\""
           " FROM \"public\".\"people\" WHERE \"id\" = $1 LIMIT 1",
           "42", "single row by pk ($1)");
    render("/people/1' OR '1'='1", NULL, NULL, 0,
           "SELECT \"id\", \"name\", to_json(\"address\") AS \"address\", \"tags\""
           " FROM \"public\".\"people\" WHERE \"id\" = $1 LIMIT 1",
           "1' OR '1'='1", "pk value only ever bound");
    render("/enrollment", "limit=2", NULL, 0,
           "SELECT \"person_id\", \"team_id\""
           " FROM \"public\".\"enrollment\""
           " ORDER BY \"team_id\", \"person_id\" LIMIT 3",
           "", "composite order");
    render("/no_keys", NULL, "3-4", 0,
           "SELECT \"a\", \"j\", \"b\", \"arr\", \"c\" FROM \"public\".\"no_keys\""
           " ORDER BY \"a\", \"b\", \"c\" LIMIT 3 OFFSET $1",
           "3", "Range 3-4 -> LIMIT 3 (2+1) OFFSET 3");
    render("/we\"ird", "limit=1", NULL, 0,
           "SELECT \"co\"\"l\", to_json(\"j\"\"\"\"son\") AS \"j\"\"\"\"son\""
           " FROM \"public\".\"we\"\"ird\" ORDER BY \"co\"\"l\" LIMIT 2",
           "", "embedded double quotes doubled");
    render("/we\"ird/x", NULL, NULL, 0,
           "SELECT \"co\"\"l\", to_json(\"j\"\"\"\"son\") AS \"j\"\"\"\"son\""
           " FROM \"public\".\"we\"\"ird\" WHERE \"co\"\"l\" = $1 LIMIT 1",
           "x", "quoted pk column in WHERE");
    render("/all_hidden", NULL, NULL, 0,
           "SELECT NULL FROM \"public\".\"all_hidden\"",
           "", "all columns hidden: SELECT NULL");
    render("/other.things", NULL, NULL, 10,
           "SELECT \"id\" FROM \"other\".\"things\" ORDER BY \"id\" LIMIT 11",
           "", "other schema");
    render("/nothing_sortable", NULL, NULL, 0,
           "SELECT \"j\" FROM \"public\".\"nothing_sortable\"",
           "", "no ORDER BY when nothing is sortable");
    render("/people", "limit=1000000000000000000&offset=1000000000000000000", NULL, 0,
           "SELECT \"id\", \"name\", to_json(\"address\") AS \"address\", \"tags\""
           " FROM \"public\".\"people\" ORDER BY \"id\" LIMIT 1000000000000000001 OFFSET $1",
           "1000000000000000000", "64-bit limit and offset");

    is_str(ar_sql_quote_ident(pool, "plain"), "\"plain\"", "quote_ident plain");
    is_str(ar_sql_quote_ident(pool, ""), "\"\"", "quote_ident empty");
    is_str(ar_sql_quote_ident(pool, "\""), "\"\"\"\"", "quote_ident lone quote");
    is_str(ar_sql_quote_ident(pool, "a\"\"b"), "\"a\"\"\"\"b\"", "quote_ident two quotes");
    is_str(ar_sql_quote_ident(pool, "Mixed Case; DROP"), "\"Mixed Case; DROP\"",
           "quote_ident keeps case and spaces");
}

/* -------------------------------------------------------------- errors */

static void test_errors(void)
{
    static const struct {
        ar_error_kind kind;
        int status;
        const char *code;
    } table[] = {
        {AR_ERR_UNKNOWN_PARAM, 400, "AR101"},
        {AR_ERR_BAD_PARAM, 400, "AR102"},
        {AR_ERR_BAD_RANGE, 400, "AR103"},
        {AR_ERR_RANGE_UNSATISFIABLE, 416, "AR104"},
        {AR_ERR_NO_RELATION, 404, "AR201"},
        {AR_ERR_NO_ROW, 404, "AR202"},
        {AR_ERR_NO_ROUTE, 404, "AR203"},
        {AR_ERR_METHOD, 405, "AR301"},
        {AR_ERR_DB_UNAVAILABLE, 503, "AR501"},
        {AR_ERR_DB_TIMEOUT, 504, "57014"},
        {AR_ERR_DB_BAD_VALUE, 400, "AR502"},
        {AR_ERR_DB_PRIVILEGE, 403, "42501"},
        {AR_ERR_DB_SCHEMA_CHANGED, 503, "AR503"},
        {AR_ERR_DB_QUERY, 500, "AR504"},
        {AR_ERR_CONFIG, 500, "AR601"},
        {AR_ERR_UNKNOWN_COLUMN, 400, "AR105"},
        {AR_ERR_UNSUPPORTED, 400, "AR106"},
        {AR_ERR_BAD_OPERATOR, 400, "AR107"},
        {AR_ERR_TOO_DEEP, 400, "AR108"},
        {AR_ERR_BAD_PREFER, 400, "AR109"},
        {AR_ERR_BAD_Q, 400, "AR110"},
        {AR_ERR_SINGLE_MANY, 400, "AR111"},
        {AR_ERR_NOT_ACCEPTABLE, 406, "AR401"},
        {AR_ERR_NOT_ONE_ROW, 406, "AR402"},
        {AR_ERR_UNKNOWN_PROFILE, 406, "AR403"},
        {AR_ERR_BAD_CURSOR, 400, "AR112"},
        {AR_ERR_NO_RELATIONSHIP, 400, "AR113"},
        {AR_ERR_AMBIGUOUS_EMBED, 300, "AR114"},
        {AR_ERR_BAD_BODY, 400, "AR115"},
        {AR_ERR_BODY_TOO_LARGE, 413, "AR116"},
        {AR_ERR_BAD_MEDIA, 415, "AR117"},
        {AR_ERR_UNFILTERED, 400, "21000"},
        {AR_ERR_MAX_AFFECTED, 400, "AR118"},
        {AR_ERR_BAD_PUT, 405, "AR119"},
        {AR_ERR_DB_CONFLICT, 409, "23505"},
        {AR_ERR_DB_CONSTRAINT, 400, "23502"},
        {AR_ERR_DB_RETRY, 503, "40001"},
        {AR_ERR_DB_RAISED, 400, "P0001"},
        {AR_ERR_DB_READ_ONLY, 405, "25006"},
        {AR_ERR_NO_ROUTINE, 404, "AR204"},
        {AR_ERR_AMBIGUOUS_ROUTINE, 300, "AR120"},
        {AR_ERR_DB_CUSTOM, 400, "PGRST"},
        {AR_ERR_BAD_RAISE, 500, "AR505"},
        {AR_ERR_NO_ROLE, 401, "AR701"},
        {AR_ERR_ROLE_REFUSED, 403, "AR702"},
        {AR_ERR_DB_PRIVILEGE_ANON, 401, "42501"},
        {AR_ERR_TOO_MUCH, 400, "AR121"},
        {AR_ERR_REFUSED, 403, "AR703"},
        {AR_ERR_AGGREGATES_OFF, 400, "AR122"},
        {AR_ERR_CROSS_SITE, 403, "AR704"},
    };
    size_t i;
    ar_error *e;
    char *j;

    ok(sizeof(table) / sizeof(*table) == AR_ERR__COUNT, "the table below covers every kind");
    for (i = 0; i < sizeof(table) / sizeof(*table); i++) {
        e = ar_error_make(pool, table[i].kind, "m", NULL, NULL);
        ok(ar_error_status(e) == table[i].status, "kind %d -> status %d (got %d)",
           (int)table[i].kind, table[i].status, ar_error_status(e));
        is_str(ar_error_code(table[i].kind), table[i].code, "kind %d -> code %s",
               (int)table[i].kind, table[i].code);
        is_str(e->code, table[i].code, "ar_error_make sets code %s", table[i].code);
    }

    e = ar_error_make(pool, AR_ERR_BAD_PARAM, "msg", "det", "hint");
    ok(e->kind == AR_ERR_BAD_PARAM && strcmp(e->message, "msg") == 0
           && strcmp(e->details, "det") == 0 && strcmp(e->hint, "hint") == 0 && e->log == NULL,
       "ar_error_make fills its fields");
    is_str(ar_error_json(pool, e),
           "{\"code\":\"AR102\",\"message\":\"msg\",\"details\":\"det\",\"hint\":\"hint\"}",
           "error JSON with all fields, in order");
    e = ar_error_make(pool, AR_ERR_NO_RELATION, "no \"x\" here\\\n", NULL, NULL);
    is_str(ar_error_json(pool, e),
           "{\"code\":\"AR201\",\"message\":\"no \\\"x\\\" here\\\\\\n\",\"details\":null,"
           "\"hint\":null}",
           "error JSON escapes quotes, backslashes, newlines; NULLs -> null");
    e = ar_error_make(pool, AR_ERR_CONFIG, NULL, NULL, NULL);
    is_str(ar_error_json(pool, e),
           "{\"code\":\"AR601\",\"message\":null,\"details\":null,\"hint\":null}",
           "error JSON with a NULL message");
    e = ar_error_make(pool, AR_ERR_NO_ROW, "caf\xc3\xa9 \xf0\x9f\x98\x80", NULL, NULL);
    j = ar_error_json(pool, e);
    is_str(j, "{\"code\":\"AR202\",\"message\":\"caf\xc3\xa9 \xf0\x9f\x98\x80\","
              "\"details\":null,\"hint\":null}", "error JSON keeps UTF-8");

    /* Client bytes reach messages: a query parameter named %FF. The body must
     * still have all four keys, with message a string. */
    {
        ar_read_request r;
        json_error_t err;
        json_t *doc;

        e = ar_query_parse(pool, AR_DIALECT_POSTGREST, "/people", "%FF=1", NULL, &r);
        is_err(e, AR_ERR_BAD_OPERATOR, "%%FF=1 (a filter without an operator) -> BAD_OPERATOR");
        j = e ? ar_error_json(pool, e) : NULL;
        doc = j ? json_loads(j, 0, &err) : NULL;
        ok(doc && json_object_size(doc) == 4 && json_is_string(json_object_get(doc, "message")),
           "error JSON for a non-UTF-8 parameter name keeps its message");
        if (!(doc && json_is_string(json_object_get(doc, "message"))))
            printf("#   got: %s\n", j ? j : "(null)");
        json_decref(doc);

        /* the name itself in the message: an unknown column named by bytes */
        e = ar_query_parse(pool, AR_DIALECT_POSTGREST, "/people", "%FF=eq.1", NULL, &r);
        no_err(e, "%%FF=eq.1 parses");
        if (!e) {
            ar_read_plan plan;
            e = ar_plan_read(pool, schema, &expo, &r, 0, &plan);
        }
        is_err(e, AR_ERR_UNKNOWN_COLUMN, "%%FF=eq.1 -> UNKNOWN_COLUMN at planning");
        j = e ? ar_error_json(pool, e) : NULL;
        doc = j ? json_loads(j, 0, &err) : NULL;
        ok(doc && json_object_size(doc) == 4 && json_is_string(json_object_get(doc, "message"))
               && strstr(json_string_value(json_object_get(doc, "message")), "\xEF\xBF\xBD"),
           "error JSON for a non-UTF-8 column name: U+FFFD in its message");
        if (!(doc && json_is_string(json_object_get(doc, "message"))))
            printf("#   got: %s\n", j ? j : "(null)");
        json_decref(doc);

        e = ar_query_parse(pool, AR_DIALECT_POSTGREST, "/people", "limit=%FF", NULL, &r);
        is_err(e, AR_ERR_BAD_PARAM, "limit=%%FF -> BAD_PARAM");
        j = e ? ar_error_json(pool, e) : NULL;
        doc = j ? json_loads(j, 0, &err) : NULL;
        ok(doc && json_object_size(doc) == 4
               && json_is_string(json_object_get(doc, "details")),
           "error JSON for a non-UTF-8 limit value keeps its details");
        if (!(doc && json_is_string(json_object_get(doc, "details"))))
            printf("#   got: %s\n", j ? j : "(null)");
        json_decref(doc);
    }
}

static void test_db_error(void)
{
    static const struct {
        const char *state;
        ar_error_kind kind;
        const char *code;
        int status;
    } table[] = {
        {"08006", AR_ERR_DB_UNAVAILABLE, "AR501", 503},
        {"08001", AR_ERR_DB_UNAVAILABLE, "AR501", 503},
        {"57P01", AR_ERR_DB_UNAVAILABLE, "AR501", 503},
        {"57P03", AR_ERR_DB_UNAVAILABLE, "AR501", 503},
        {"53300", AR_ERR_DB_UNAVAILABLE, "AR501", 503},
        {"57014", AR_ERR_DB_TIMEOUT, "57014", 504},
        {"22P02", AR_ERR_DB_BAD_VALUE, "22P02", 400},
        {"22003", AR_ERR_DB_BAD_VALUE, "22003", 400},
        {"42501", AR_ERR_DB_PRIVILEGE, "42501", 403},
        {"42P01", AR_ERR_DB_SCHEMA_CHANGED, "AR503", 503},
        {"42703", AR_ERR_DB_SCHEMA_CHANGED, "AR503", 503},
        {"23505", AR_ERR_DB_CONFLICT, "23505", 409},
        {"23503", AR_ERR_DB_CONFLICT, "23503", 409},
        {"23502", AR_ERR_DB_CONSTRAINT, "23502", 400},
        {"23514", AR_ERR_DB_CONSTRAINT, "23514", 400},
        {"40001", AR_ERR_DB_RETRY, "40001", 503},
        {"40P01", AR_ERR_DB_RETRY, "40P01", 503},
        {"P0001", AR_ERR_DB_RAISED, "P0001", 400},
        {"25006", AR_ERR_DB_READ_ONLY, "25006", 405},
        {"42P10", AR_ERR_DB_BAD_VALUE, "42P10", 400},
        {"42P17", AR_ERR_DB_QUERY, "42P17", 500},
        {"XX000", AR_ERR_DB_QUERY, "XX000", 500},
        {NULL, AR_ERR_DB_UNAVAILABLE, "AR501", 503},
        {"", AR_ERR_DB_UNAVAILABLE, "AR501", 503},
    };
    size_t i;
    ar_error *e;

    for (i = 0; i < sizeof(table) / sizeof(*table); i++) {
        const char *st = table[i].state ? table[i].state : "NULL";
        e = ar_db_error(pool, table[i].state, "primary message", "log line");
        is_err(e, table[i].kind, "SQLSTATE %s -> %s", st, kind_name(e));
        is_str(e ? e->code : NULL, table[i].code, "SQLSTATE %s -> code %s", st, table[i].code);
        ok(e && ar_error_status(e) == table[i].status, "SQLSTATE %s -> status %d", st,
           table[i].status);
        is_str(e ? e->log : NULL, "log line", "SQLSTATE %s keeps the log line", st);
    }
    e = ar_db_error(pool, "22P02", "invalid input syntax for type integer: \"abc\"", NULL);
    is_str(e->message, "invalid input syntax for type integer: \"abc\"",
           "22xxx: the primary message goes to the client");
    ok(e->log == NULL, "NULL log kept NULL");
    e = ar_db_error(pool, "22P02", NULL, NULL);
    is_str(e->message, "invalid value", "22xxx without a primary message");
    e = ar_db_error(pool, "42P01", "relation \"public.x\" does not exist", "l");
    is_str(e->message, "the database schema changed while this request ran",
           "42P01: the database's message is not shown");
    e = ar_db_error(pool, "23505", "duplicate key value violates unique constraint \"k\"", "l");
    is_str(e->message, "duplicate key value violates unique constraint \"k\"",
           "a constraint's words are the client's (PostgREST shows them too)");
    e = ar_db_error(pool, "XX000", "cache lookup failed for relation 123", "l");
    is_str(e->message, "the database could not answer this request",
           "other errors: a generic message");
    is_str(ar_error_json(pool, ar_db_error(pool, "57014", "canceling statement", NULL)),
           "{\"code\":\"57014\",\"message\":\"the query took longer than this API allows\","
           "\"details\":null,\"hint\":\"ask for fewer rows\"}",
           "timeout error JSON");
}

/* ------------------------------------------------------------ limits */

static void test_limits(void)
{
    ar_query_limits most = {2, 3, 4, 20};
    ar_query_limits none = {0, 0, 0, 0};
    ar_read_request r;
    ar_error *e;

    /* filters: each leaf, those inside or=() and embedded ones too */
    no_err(parse("/rel", "a=eq.1&b=eq.2&c=eq.3", NULL, NULL, &r), "three filters parse");
    no_err(ar_query_check_limits(pool, &r, &most), "three filters: at the bound");
    no_err(parse("/rel", "a=eq.1&or=(b.eq.2,c.eq.3)&d=eq.4", NULL, NULL, &r), "four parse");
    e = ar_query_check_limits(pool, &r, &most);
    is_err(e, AR_ERR_TOO_MUCH, "four filters, two in or=(): 400 AR121");
    ok(e && strstr(e->message, "4 filters") && strstr(e->message, "at most 3"),
       "the message counts them and names the bound");
    ok(e && e->hint && strstr(e->hint, "AutoRestMaxFilters"), "the hint names the directive");
    no_err(parse("/rel", "select=a,b(c)&b.c=eq.1&b.d=eq.2&a=eq.1&e=eq.5", NULL, NULL, &r),
           "embedded filters parse");
    is_err(ar_query_check_limits(pool, &r, &most), AR_ERR_TOO_MUCH,
           "two embedded filters count with the two of the top: 400");
    no_err(ar_query_check_limits(pool, &r, &none), "no bound: anything the parser takes");

    /* nesting of and/or */
    no_err(parse("/rel", "or=(a.eq.1,and(b.eq.2,c.eq.3))", NULL, NULL, &r), "depth 2 parses");
    no_err(ar_query_check_limits(pool, &r, &most), "and/or two deep: at the bound");
    no_err(parse("/rel", "or=(a.eq.1,and(b.eq.2,or(c.eq.3,d.eq.4)))", NULL, NULL, &r),
           "depth 3 parses");
    e = ar_query_check_limits(pool, &r, &most);
    is_err(e, AR_ERR_TOO_DEEP, "and/or three deep: 400 AR108");
    ok(e && e->hint && strstr(e->hint, "AutoRestMaxDepth"), "the hint names AutoRestMaxDepth");

    /* embedding depth and select items */
    no_err(parse("/rel", "select=a,b(c(d))", NULL, NULL, &r), "embed two deep parses");
    no_err(ar_query_check_limits(pool, &r, &most), "embedding two deep, four items: allowed");
    no_err(parse("/rel", "select=b(c(d(e)))", NULL, NULL, &r), "embed three deep parses");
    is_err(ar_query_check_limits(pool, &r, &most), AR_ERR_TOO_DEEP,
           "embedding three deep: 400 AR108");
    no_err(parse("/rel", "select=a,b,c,d,e", NULL, NULL, &r), "five items parse");
    e = ar_query_check_limits(pool, &r, &most);
    is_err(e, AR_ERR_TOO_MUCH, "five select items: 400 AR121");
    ok(e && e->hint && strstr(e->hint, "AutoRestMaxSelect"), "the hint names AutoRestMaxSelect");
    no_err(parse("/rel", "select=a,b(c,d,e)", NULL, NULL, &r), "embedded items parse");
    is_err(ar_query_check_limits(pool, &r, &most), AR_ERR_TOO_MUCH,
           "items of an embedded list count too");

    /* the URL as sent: each path segment, each name=value */
    no_err(ar_query_check_url(pool, "/rel/12345678901234567890", "a=1&b=2", 20),
           "segments and pairs of 20 bytes: at the bound");
    e = ar_query_check_url(pool, "/rel", "id=in.(1,2,3,4,5,6,7,8)", 20);
    is_err(e, AR_ERR_TOO_MUCH, "a name=value of 23 bytes: 400 AR121");
    ok(e && strstr(e->message, "23 bytes"), "the message gives its length");
    is_err(ar_query_check_url(pool, "/a_relation_name_of_30_bytes__", NULL, 20),
           AR_ERR_TOO_MUCH, "a path segment over the bound: 400");
    no_err(ar_query_check_url(pool, "/a_relation_name_of_30_bytes__", "x=1", 0),
           "0: no bound");
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);

    test_paths();
    test_params();
    test_range();
    test_limits();
    build_schema();
    test_plan();
    test_render();
    test_aggregates();
    test_errors();
    test_db_error();

    apr_pool_destroy(pool);
    apr_terminate();
    return tap_done();
}
