/*
 * test_grammar.c: the full read grammar, end to end through the pure core.
 *
 *   ar_query_parse  PostgREST grammar: select=, filters, or=/and= trees,
 *                   order=, Prefer, Accept, Accept-Profile (query.c);
 *                   Flask-Restless q=, page, results_per_page (restless.c)
 *   ar_restless_window                                       (restless.c)
 *   ar_plan_read    names resolved against a hand-built schema (plan.c)
 *   ar_sql_render_read / ar_sql_render_count / ar_sql_plan_rows (sql.c)
 *   ar_csv_write_header / ar_csv_write_row                   (json_out.c)
 *
 * Parsed requests are compared through compact descriptions, e.g.
 *   and(year gt '1990', not or(title like '%a%', id in ['1','2']))
 * so a whole tree is checked in one assertion. No server.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_hash.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "autorest.h"
#include "tap.h"
#include "ar_checks.h"
#include "schema_kit.h"

static apr_pool_t *pool;

/* --------------------------------------------------------------- helpers */

static ar_error *parse_full(ar_dialect d, const char *path, const char *args,
                            const char *prefer, const char *accept, const char *profile,
                            ar_read_request *r)
{
    ar_request_headers h = {NULL, NULL, prefer, accept, profile, NULL, AR_WRITE_NONE, 0, 0};

    return ar_query_parse(pool, d, path, args, &h, r);
}

/* PostgREST dialect on /film, no headers */
static ar_error *pg(const char *args, ar_read_request *r)
{
    return parse_full(AR_DIALECT_POSTGREST, "/film", args, NULL, NULL, NULL, r);
}

/* Flask-Restless dialect on /film */
static ar_error *rl(const char *args, ar_read_request *r)
{
    return parse_full(AR_DIALECT_RESTLESS, "/film", args, NULL, NULL, NULL, r);
}

static ar_error *rlq(const char *q, ar_read_request *r)
{
    return rl(apr_pstrcat(pool, "q=", q, NULL), r);
}

/* --------------------------------------------------------- descriptions */

static const char *const op_names[AR_OP__COUNT] = {
    "eq", "neq", "gt", "gte", "lt", "lte", "like", "ilike", "match", "imatch",
    "in", "is", "isdistinct", "fts", "plfts", "phfts", "wfts",
    "cs", "cd", "ov", "sl", "sr", "nxr", "nxl", "adj", "has", "any",
};
static const char *const is_names[] = {"null", "not_null", "true", "false", "unknown"};

static const char *path_str(const apr_array_header_t *path)
{
    const char *s = "";
    int i;

    for (i = 0; path && i < path->nelts; i++) {
        const ar_path_step *st = &APR_ARRAY_IDX(path, i, ar_path_step);
        s = apr_pstrcat(pool, s, st->as_text ? "->>" : "->", st->is_index ? "" : "'",
                        st->key ? st->key : "(null)", st->is_index ? "" : "'", NULL);
    }
    return s;
}

static const char *field_str(const ar_field *f)
{
    return apr_pstrcat(pool, f->column ? f->column : "(null)", path_str(f->path), NULL);
}

static const char *cond_str(const ar_cond *c)
{
    const char *s;
    int i;

    if (!c)
        return "(null)";
    s = c->negated ? "not " : "";
    if (c->kind != AR_COND_LEAF) {
        s = apr_pstrcat(pool, s, c->kind == AR_COND_AND ? "and(" : "or(", NULL);
        for (i = 0; c->children && i < c->children->nelts; i++)
            s = apr_pstrcat(pool, s, i ? ", " : "",
                            cond_str(APR_ARRAY_IDX(c->children, i, const ar_cond *)), NULL);
        return apr_pstrcat(pool, s, ")", NULL);
    }
    s = apr_pstrcat(pool, s, field_str(&c->field), " ",
                    (int)c->op >= 0 && c->op < AR_OP__COUNT ? op_names[c->op] : "(bad op)",
                    c->quant == AR_QUANT_ANY ? "(any)" : c->quant == AR_QUANT_ALL ? "(all)" : "",
                    c->language ? "(" : "", c->language ? c->language : "",
                    c->language ? ")" : "", NULL);
    if (c->other)
        return apr_pstrcat(pool, s, " =", field_str(c->other), NULL);
    if (c->op == AR_OP_IN) {
        s = apr_pstrcat(pool, s, " [", NULL);
        for (i = 0; c->values && i < c->values->nelts; i++) {
            const char *v = APR_ARRAY_IDX(c->values, i, const char *);
            s = apr_pstrcat(pool, s, i ? "," : "", v ? "'" : "NULL", v ? v : "", v ? "'" : "",
                            NULL);
        }
        return apr_pstrcat(pool, s, c->values ? "]" : "] (no list)", NULL);
    }
    if (c->op == AR_OP_IS)
        return apr_pstrcat(pool, s, " ", is_names[c->is_value], NULL);
    return apr_pstrcat(pool, s, c->value ? " '" : " NULL", c->value ? c->value : "",
                       c->value ? "'" : "", NULL);
}

static const char *where_str(const ar_read_request *r)
{
    return r->where ? cond_str(r->where) : "(none)";
}

/* A select list back as text; an embedding as [alias:][...]name[!hint][!inner](list). */
static const char *items_str(const apr_array_header_t *items)
{
    const char *s = "";
    int i;

    for (i = 0; i < items->nelts; i++) {
        const ar_select_item *it = &APR_ARRAY_IDX(items, i, ar_select_item);
        const char *what;

        if (it->embed)
            what = apr_pstrcat(pool, it->embed->spread ? "..." : "", it->embed->name,
                               it->embed->hint ? "!" : "", it->embed->hint ? it->embed->hint : "",
                               it->embed->inner ? "!inner" : "", "(",
                               items_str(it->embed->select), ")", NULL);
        else
            what = apr_pstrcat(pool, field_str(&it->field), it->cast ? "::" : "",
                               it->cast ? it->cast : "", NULL);
        s = apr_pstrcat(pool, s, i ? "," : "", it->alias ? it->alias : "", it->alias ? ":" : "",
                        what, NULL);
    }
    return s;
}

static const char *select_str(const ar_read_request *r)
{
    return r->select ? items_str(r->select) : "(none)";
}

static const char *order_item_str(const ar_field *f, int desc, ar_nulls nulls)
{
    return apr_pstrcat(pool, field_str(f), desc ? " desc" : "",
                       nulls == AR_NULLS_FIRST ? " nullsfirst"
                       : nulls == AR_NULLS_LAST ? " nullslast" : "", NULL);
}

static const char *order_str(const ar_read_request *r)
{
    const char *s = "";
    int i;

    if (!r->order)
        return "(none)";
    for (i = 0; i < r->order->nelts; i++) {
        const ar_order_item *it = &APR_ARRAY_IDX(r->order, i, ar_order_item);
        s = apr_pstrcat(pool, s, i ? "," : "", order_item_str(&it->field, it->desc, it->nulls),
                        NULL);
    }
    return s;
}

/* The deepest chain of nodes under c, c included. */
static int tree_depth(const ar_cond *c)
{
    int i, deepest = 0;

    if (c->kind == AR_COND_LEAF)
        return 1;
    for (i = 0; i < c->children->nelts; i++) {
        int d = tree_depth(APR_ARRAY_IDX(c->children, i, const ar_cond *));
        if (d > deepest)
            deepest = d;
    }
    return deepest + 1;
}

/* where of "args" on /film, or the error's kind */
static const char *pg_where(const char *args)
{
    ar_read_request r;
    ar_error *e = pg(args, &r);

    return e ? apr_pstrcat(pool, "error ", kind_name(e), NULL) : where_str(&r);
}

static const char *rl_where(const char *q)
{
    ar_read_request r;
    ar_error *e = rlq(q, &r);

    return e ? apr_pstrcat(pool, "error ", kind_name(e), NULL) : where_str(&r);
}

/* ----------------------------------------------------------------- select */

static void test_select(void)
{
    ar_read_request r;
    ar_error *e;

    no_err(pg(NULL, &r), "no select");
    is_str(select_str(&r), "(none)", "no select: NULL (every visible column)");
    no_err(pg("select=*", &r), "select=*");
    is_str(select_str(&r), "*", "select=* -> one star item");
    no_err(pg("select=id,title,year", &r), "select a list");
    is_str(select_str(&r), "id,title,year", "a list, in order");
    no_err(pg("select=id,%20title,++year", &r), "select with spaces after commas");
    is_str(select_str(&r), "id,title,year", "leading spaces of items skipped");
    no_err(pg("select=*,id", &r), "select=*,id");
    is_str(select_str(&r), "*,id", "star and a column");
    no_err(pg("select=t:title", &r), "alias:col");
    is_str(select_str(&r), "t:title", "alias t for title");
    no_err(pg("select=id::text", &r), "col::text");
    is_str(select_str(&r), "id::text", "cast to text, no alias");
    no_err(pg("select=n:rating::numeric", &r), "alias:col::numeric");
    is_str(select_str(&r), "n:rating::numeric", "alias and cast");
    no_err(pg("select=%22quoted,col%22", &r), "\"quoted,col\"");
    ok(r.select && r.select->nelts == 1, "a quoted name with a comma is one item");
    is_str(select_str(&r), "quoted,col", "quotes removed, comma kept");
    no_err(pg("select=%22my alias%22:%22Mixed Col%22", &r), "\"quoted alias\":\"quoted col\"");
    is_str(select_str(&r), "my alias:Mixed Col", "quoted alias and column");
    no_err(pg("select=x:%22a,b%22,id", &r), "alias:\"quoted,col\",id");
    is_str(select_str(&r), "x:a,b,id", "alias of a quoted column, then another item");
    no_err(pg("select=%22c::x%22::text", &r), "\"c::x\"::text");
    is_str(select_str(&r), "c::x::text", "a quoted name holding :: then a cast");
    no_err(pg("select=info->b->>c", &r), "JSON path a->b->>c");
    is_str(select_str(&r), "info->'b'->>'c'", "path steps, ->> last");
    no_err(pg("select=info->0", &r), "JSON path a->0");
    is_str(select_str(&r), "info->0", "digits-only key is an index");
    no_err(pg("select=info->cast->>0", &r), "info->cast->>0");
    is_str(select_str(&r), "info->'cast'->>0", "->> to an index");
    no_err(pg("select=info->01x", &r), "info->01x");
    is_str(select_str(&r), "info->'01x'", "a key with digits and letters is a key");
    no_err(pg("select=r:info->a->>b::int", &r), "alias:path::cast");
    is_str(select_str(&r), "r:info->'a'->>'b'::int", "alias, path and cast together");
    no_err(pg("select=a-b,c>d", &r), "- and > alone are part of a name");
    is_str(select_str(&r), "a-b,c>d", "a-b and c>d are plain names");

    /* ->> only as the last step; empty keys */
    e = pg("select=info->>a->b", &r);
    ok(e && ar_error_status(e) == 400, "select=info->>a->b -> 400 ('->>' must come last)");
    ok(pg("select=info->", &r) != NULL, "select=info-> (empty key) -> error");
    ok(pg("select=info->>", &r) != NULL, "select=info->> (empty key) -> error");
    ok(pg("select=", &r) != NULL, "select= (nothing) -> error");
    ok(pg("select=id,", &r) != NULL, "select=id, (empty item) -> error");
    /* The header: BAD_OPERATOR is "a filter we cannot read", BAD_PARAM "a known
     * parameter with a bad value"; select= is not a filter. */
    is_err(pg("select=info->>a->b", &r), AR_ERR_BAD_PARAM,
           "a bad JSON path in select= is a bad parameter (AR102), not a bad filter (AR107)");

    /* embedding: rel(list), nested, aliased, hinted, inner, spread, empty */
    {
        static const struct {
            const char *select, *back, *what;
        } embeds[] = {
            {"x(*)", "x(*)", "rel(*)"},
            {"id,x(id,name)", "id,x(id,name)", "a column, then rel(cols)"},
            {"...x(a,b)", "...x(a,b)", "spread"},
            {"x!fk(*)", "x!fk(*)", "a hint"},
            {"x!inner(*)", "x!inner(*)", "!inner"},
            {"x!fk!inner(a)", "x!fk!inner(a)", "a hint and !inner"},
            {"x!inner!fk(a)", "x!fk!inner(a)", "!inner and a hint, either order"},
            {"x!left(a)", "x(a)", "!left is the default"},
            {"al:x(*)", "al:x(*)", "alias"},
            {"x()", "x()", "rel(): no fields, for filtering"},
            {"a,x(b,y(c,z(d))),e", "a,x(b,y(c,z(d))),e", "nested three deep"},
            {"x(al:b::text,c->>k)", "x(al:b::text,c->>'k')", "alias, cast and path inside"},
            {"%22my rel%22(a)", "my rel(a)", "a quoted relation name"},
        };
        size_t k;

        for (k = 0; k < sizeof(embeds) / sizeof(*embeds); k++) {
            no_err(pg(apr_pstrcat(pool, "select=", embeds[k].select, NULL), &r),
                   "embedding parses: %s", embeds[k].what);
            is_str(select_str(&r), embeds[k].back, "embedding reads back: %s", embeds[k].what);
        }
    }
    is_err(pg("select=x(a", &r), AR_ERR_BAD_PARAM, "x(a: unclosed -> AR102");
    is_err(pg("select=x(a)b", &r), AR_ERR_BAD_PARAM, "x(a)b: text after ) -> AR102");
    is_err(pg("select=x!a!b(a)", &r), AR_ERR_BAD_PARAM, "two hints -> AR102");
    is_err(pg("select=x!(a)", &r), AR_ERR_BAD_PARAM, "an empty hint -> AR102");
    is_err(pg("select=(a)", &r), AR_ERR_BAD_PARAM, "no relation name -> AR102");
    is_err(pg("select=al:...x(a)", &r), AR_ERR_BAD_PARAM, "an alias on a spread -> AR102");
    is_err(pg("select=a(b(c(d(e(f(g(h(i(j)))))))))", &r), AR_ERR_TOO_DEEP,
           "nine levels of embedding -> AR108");
    no_err(pg("select=a(b(c(d(e(f(g(h(i))))))))", &r), "eight levels of embedding are fine");
    is_err(pg("select=x(y(a,))", &r), AR_ERR_BAD_PARAM, "an empty item inside -> AR102");
    no_err(pg("select=%22f(x)%22", &r), "a quoted name with parentheses is not an embedding");
    is_str(select_str(&r), "f(x)", "\"f(x)\" is a column name");
    no_err(pg("select=%22a\\%22b%22", &r), "a quoted name with an escaped quote");
    is_str(select_str(&r), "a\"b", "\"a\\\"b\" is the column a\"b");
    /* read_quoted and item_end honour \" inside quotes; the embedding check
     * (unquoted_char) must too, or it sees the ( below as outside quotes. */
    no_err(pg("select=%22a\\%22(b%22", &r),
           "\"a\\\"(b\": an escaped quote then ( inside a quoted name is not an embedding");

    /* casts: type names only */
    is_err(pg("select=id::text;drop", &r), AR_ERR_BAD_PARAM, "id::text;drop -> BAD_PARAM");
    e = pg("select=id::text;drop", &r);
    ok(e && strcmp(e->code, "AR102") == 0, "bad cast -> AR102");
    is_err(pg("select=id::", &r), AR_ERR_BAD_PARAM, "id:: (empty type) -> BAD_PARAM");
    is_err(pg("select=id::1int", &r), AR_ERR_BAD_PARAM, "id::1int -> BAD_PARAM");
    is_err(pg("select=id::text)", &r), AR_ERR_BAD_PARAM, "id::text) -> BAD_PARAM");
    is_err(pg("select=id::text'", &r), AR_ERR_BAD_PARAM, "id::text' -> BAD_PARAM");
    is_err(pg("select=id::text--", &r), AR_ERR_BAD_PARAM, "id::text-- -> BAD_PARAM");
    is_err(pg("select=id::text[", &r), AR_ERR_BAD_PARAM, "id::text[ -> BAD_PARAM");
    is_err(pg("select=id::%22text%22", &r), AR_ERR_BAD_PARAM, "id::\"text\" -> BAD_PARAM");
    is_err(pg("select=id::int::text", &r), AR_ERR_BAD_PARAM, "id::int::text -> BAD_PARAM");
    no_err(pg("select=id::double%20precision", &r), "id::double precision");
    is_str(select_str(&r), "id::double precision", "a two-word type name");
    no_err(pg("select=id::int[]", &r), "id::int[]");
    is_str(select_str(&r), "id::int[]", "an array type");
    no_err(pg("select=id::int[][]", &r), "id::int[][]");
    no_err(pg("select=id::pg_catalog.text", &r), "id::pg_catalog.text");
    is_str(select_str(&r), "id::pg_catalog.text", "a qualified type name");
    no_err(pg("select=x::character%20varying", &r), "x::character varying");
    no_err(pg("select=x::timestamp%20with%20time%20zone", &r), "x::timestamp with time zone");
    /* The cast is written into the SQL text. Spaces are allowed for type
     * names like "double precision", but words after a type are SQL, and
     * bare words are column references: a hidden column can be read
     * through them (AT TIME ZONE even puts its value in a 22023 message,
     * which goes to the client). */
    is_err(pg("select=id::bool%20or%20secret%20is%20null", &r), AR_ERR_BAD_PARAM,
           "id::bool or secret is null -> BAD_PARAM (not a type name; SQL after it)");
    is_err(pg("select=born::timestamptz%20at%20time%20zone%20secret", &r), AR_ERR_BAD_PARAM,
           "born::timestamptz at time zone secret -> BAD_PARAM");
    is_err(pg("select=id::int%20between%200%20and%20secret", &r), AR_ERR_BAD_PARAM,
           "id::int between 0 and secret -> BAD_PARAM");

    /* twice */
    e = pg("select=id&select=title", &r);
    is_err(e, AR_ERR_BAD_PARAM, "select twice -> BAD_PARAM");
    is_str(e ? e->message : NULL, "'select' is given twice", "select twice: message");
}

/* -------------------------------------------------------------- filters */

static void test_operators(void)
{
    static const struct {
        const char *name;
        ar_op op;
        int quantifiable;
    } ops[] = {
        {"eq", AR_OP_EQ, 1},       {"neq", AR_OP_NEQ, 1},     {"gt", AR_OP_GT, 1},
        {"gte", AR_OP_GTE, 1},     {"lt", AR_OP_LT, 1},       {"lte", AR_OP_LTE, 1},
        {"like", AR_OP_LIKE, 1},   {"ilike", AR_OP_ILIKE, 1}, {"match", AR_OP_MATCH, 1},
        {"imatch", AR_OP_IMATCH, 1}, {"isdistinct", AR_OP_ISDISTINCT, 0},
        {"fts", AR_OP_FTS, 0},     {"plfts", AR_OP_PLFTS, 0}, {"phfts", AR_OP_PHFTS, 0},
        {"wfts", AR_OP_WFTS, 0},   {"cs", AR_OP_CS, 0},       {"cd", AR_OP_CD, 0},
        {"ov", AR_OP_OV, 0},       {"sl", AR_OP_SL, 0},       {"sr", AR_OP_SR, 0},
        {"nxr", AR_OP_NXR, 0},     {"nxl", AR_OP_NXL, 0},     {"adj", AR_OP_ADJ, 0},
    };
    ar_read_request r;
    size_t i;

    for (i = 0; i < sizeof(ops) / sizeof(*ops); i++) {
        const char *want = apr_psprintf(pool, "and(col %s 'v1')", ops[i].name);
        is_str(pg_where(apr_psprintf(pool, "col=%s.v1", ops[i].name)), want, "col=%s.v1",
               ops[i].name);
        want = apr_psprintf(pool, "and(not col %s 'v1')", ops[i].name);
        is_str(pg_where(apr_psprintf(pool, "col=not.%s.v1", ops[i].name)), want,
               "col=not.%s.v1 is negated", ops[i].name);
        if (ops[i].quantifiable) {
            want = apr_psprintf(pool, "and(col %s(any) '{1,2}')", ops[i].name);
            is_str(pg_where(apr_psprintf(pool, "col=%s(any).{1,2}", ops[i].name)), want,
                   "col=%s(any).{1,2}", ops[i].name);
            want = apr_psprintf(pool, "and(not col %s(all) '{1,2}')", ops[i].name);
            is_str(pg_where(apr_psprintf(pool, "col=not.%s(all).{1,2}", ops[i].name)), want,
                   "col=not.%s(all).{1,2}", ops[i].name);
        }
        else if (ops[i].op < AR_OP_FTS || ops[i].op > AR_OP_WFTS) {
            is_err(pg(apr_psprintf(pool, "col=%s(any).{1,2}", ops[i].name), &r),
                   AR_ERR_BAD_OPERATOR, "col=%s(any) -> BAD_OPERATOR", ops[i].name);
            is_err(pg(apr_psprintf(pool, "col=%s(all).{1,2}", ops[i].name), &r),
                   AR_ERR_BAD_OPERATOR, "col=%s(all) -> BAD_OPERATOR", ops[i].name);
        }
    }
    is_str(pg_where("col=in.(v1)"), "and(col in ['v1'])", "col=in.(v1)");
    is_str(pg_where("col=not.in.(v1)"), "and(not col in ['v1'])", "col=not.in.(v1)");
    is_str(pg_where("col=is.null"), "and(col is null)", "col=is.null");
    is_str(pg_where("col=not.is.null"), "and(not col is null)", "col=not.is.null");
    is_err(pg("col=in(any).(1,2)", &r), AR_ERR_BAD_OPERATOR, "in(any) -> BAD_OPERATOR");
    is_err(pg("col=is(all).null", &r), AR_ERR_BAD_OPERATOR, "is(all) -> BAD_OPERATOR");

    /* modifiers */
    is_err(pg("col=eq(some).{1}", &r), AR_ERR_BAD_OPERATOR, "eq(some) -> BAD_OPERATOR");
    is_err(pg("col=eq().1", &r), AR_ERR_BAD_OPERATOR, "eq() -> BAD_OPERATOR");
    is_err(pg("col=eq(any.{1}", &r), AR_ERR_BAD_OPERATOR, "eq(any without ) -> BAD_OPERATOR");
    is_err(pg("col=eq(any)x.{1}", &r), AR_ERR_BAD_OPERATOR, "eq(any)x. -> BAD_OPERATOR");
    is_err(pg("col=eq(ANY).{1}", &r), AR_ERR_BAD_OPERATOR, "eq(ANY): modifiers are lower case");
    is_err(pg("col=eq(any).1", &r), AR_ERR_BAD_OPERATOR, "eq(any).1 (not a {list}) -> BAD_OPERATOR");
    is_err(pg("col=eq(any).{1", &r), AR_ERR_BAD_OPERATOR, "eq(any).{1 -> BAD_OPERATOR");
    is_err(pg("col=eq(any).", &r), AR_ERR_BAD_OPERATOR, "eq(any). (empty) -> BAD_OPERATOR");
    is_err(pg("col=eq(any).{", &r), AR_ERR_BAD_OPERATOR, "eq(any).{ -> BAD_OPERATOR");
    is_str(pg_where("col=eq(any).{}"), "and(col eq(any) '{}')", "eq(any).{} (empty list)");
    is_str(pg_where("col=fts(french).amis"), "and(col fts(french) 'amis')", "fts(french)");
    is_str(pg_where("col=plfts(english).fat cats"), "and(col plfts(english) 'fat cats')",
           "plfts(english), a value with a space");
    is_str(pg_where("col=phfts(simple).a b"), "and(col phfts(simple) 'a b')", "phfts(simple)");
    is_str(pg_where("col=wfts(pg_catalog.english).%22a b%22 or c"),
           "and(col wfts(pg_catalog.english) '\"a b\" or c')",
           "wfts(pg_catalog.english): a dotted language, quotes kept in the value");
    is_str(pg_where("col=not.fts(french).amis"), "and(not col fts(french) 'amis')",
           "not.fts(french)");
    is_str(pg_where("col=fts.cat"), "and(col fts 'cat')", "fts without a language");
    is_str(pg_where("col=fts(any).cat"), "and(col fts(any) 'cat')",
           "fts(any): 'any' is a language here, not a quantifier");
    is_err(pg("col=fts().cat", &r), AR_ERR_BAD_OPERATOR, "fts() (empty language) -> BAD_OPERATOR");
    is_err(pg("col=eq(french).x", &r), AR_ERR_BAD_OPERATOR, "eq(french) -> BAD_OPERATOR");

    /* missing or unknown operators */
    is_err(pg("year=1990", &r), AR_ERR_BAD_OPERATOR, "year=1990 -> BAD_OPERATOR");
    is_err(pg("year=", &r), AR_ERR_BAD_OPERATOR, "year= -> BAD_OPERATOR");
    is_err(pg("year", &r), AR_ERR_BAD_OPERATOR, "year (no =) -> BAD_OPERATOR");
    is_err(pg("year=not.1990", &r), AR_ERR_BAD_OPERATOR, "year=not.1990 -> BAD_OPERATOR");
    is_err(pg("year=not.", &r), AR_ERR_BAD_OPERATOR, "year=not. -> BAD_OPERATOR");
    is_err(pg("year=not.not.eq.1", &r), AR_ERR_BAD_OPERATOR, "not.not. -> BAD_OPERATOR");
    is_err(pg("year=foo.1", &r), AR_ERR_BAD_OPERATOR, "year=foo.1 -> BAD_OPERATOR");
    {
        ar_error *e = pg("year=foo.1", &r);
        is_str(e ? e->message : NULL, "unknown operator 'foo'", "unknown operator message");
        ok(e && ar_error_status(e) == 400 && strcmp(e->code, "AR107") == 0,
           "unknown operator -> 400 AR107");
    }
    is_err(pg("year=EQ.1", &r), AR_ERR_BAD_OPERATOR, "EQ: operators are lower case");
    is_err(pg("year=.1", &r), AR_ERR_BAD_OPERATOR, "year=.1 (empty operator) -> BAD_OPERATOR");
    is_err(pg("=eq.1", &r), AR_ERR_BAD_OPERATOR, "=eq.1 (no column) -> BAD_OPERATOR");

    /* values */
    is_str(pg_where("rating=eq.8.3"), "and(rating eq '8.3')", "the value is all after the dot");
    is_str(pg_where("title=eq.Mr. Smith: a (b) c"), "and(title eq 'Mr. Smith: a (b) c')",
           "dots, colons, parentheses in a value");
    is_str(pg_where("title=eq."), "and(title eq '')", "empty value is the empty string");
    is_str(pg_where("title=eq.%22x%22"), "and(title eq '\"x\"')",
           "outside or=(), quotes are part of the value");
    is_str(pg_where("title=eq.M*A*S*H"), "and(title eq 'M*A*S*H')", "eq keeps *");
    is_str(pg_where("title=eq.100%25"), "and(title eq '100%')", "%%25 in a value");
    is_str(pg_where("title=eq.Heat%26id%3Dgt.0"), "and(title eq 'Heat&id=gt.0')",
           "an encoded & and = are part of the value");
    is_str(pg_where("title=eq.a=b"), "and(title eq 'a=b')", "a raw = in a value");
    is_str(pg_where("title=eq.a,b"), "and(title eq 'a,b')", "a raw comma in a top-level value");

    /* like: * is % */
    is_str(pg_where("title=like.*the*"), "and(title like '%the%')", "like *the* -> %%the%%");
    is_str(pg_where("title=ilike.M*A*S*H"), "and(title ilike 'M%A%S%H')", "ilike * -> %%");
    is_str(pg_where("title=like.under_score"), "and(title like 'under_score')", "_ kept");
    is_str(pg_where("title=like(any).{A*,*b}"), "and(title like(any) '{A%,%b}')",
           "like(any): * -> %% in the list");
    is_str(pg_where("title=not.ilike(all).{*x*}"), "and(not title ilike(all) '{%x%}')",
           "not.ilike(all)");
    is_str(pg_where("title=match.^a*"), "and(title match '^a*')", "match keeps *");

    /* in lists */
    is_str(pg_where("id=in.(1,2,3)"), "and(id in ['1','2','3'])", "in.(1,2,3)");
    is_str(pg_where("id=in.()"), "and(id in [])", "in.() -> an empty list");
    is_str(pg_where("id=in.(a,)"), "and(id in ['a',''])", "in.(a,) -> a trailing empty element");
    is_str(pg_where("id=in.(,)"), "and(id in ['',''])", "in.(,) -> two empty elements");
    is_str(pg_where("t=in.(%22a,b%22,%22c\\%22d%22,%22e\\\\f%22,g)"),
           "and(t in ['a,b','c\"d','e\\f','g'])", "quoted elements: comma, \\\" and \\\\");
    is_str(pg_where("t=in.(%22%22,%22(x)%22,%22a.b:c%22)"), "and(t in ['','(x)','a.b:c'])",
           "quoted: empty, parentheses, dots and colons");
    is_str(pg_where("t=in.(null,NULL)"), "and(t in ['null','NULL'])",
           "in.(null): the string, not SQL NULL");
    is_str(pg_where("r=in.([1,2),(3,4])"), "and(r in ['[1,2)','(3,4]'])",
           "range literals stay whole (brackets nest)");
    is_str(pg_where("t=in.(a b,c)"), "and(t in ['a b','c'])", "spaces kept");
    is_err(pg("t=in.(%22a%22b)", &r), AR_ERR_BAD_OPERATOR, "in.(\"a\"b) -> BAD_OPERATOR");
    is_err(pg("t=in.(%22a)", &r), AR_ERR_BAD_OPERATOR, "in.(\"a) unterminated -> BAD_OPERATOR");
    is_err(pg("t=in.(1,2", &r), AR_ERR_BAD_OPERATOR, "in.(1,2 -> BAD_OPERATOR");
    is_err(pg("t=in.1,2", &r), AR_ERR_BAD_OPERATOR, "in.1,2 -> BAD_OPERATOR");
    is_err(pg("t=in.", &r), AR_ERR_BAD_OPERATOR, "in. -> BAD_OPERATOR");
    is_err(pg("t=in.(", &r), AR_ERR_BAD_OPERATOR, "in.( -> BAD_OPERATOR");
    {
        ar_error *e = pg("t=in.(1,2", &r);
        ok(e && ar_error_status(e) == 400, "unclosed in list -> 400");
    }

    /* is */
    is_str(pg_where("a=is.null"), "and(a is null)", "is.null");
    is_str(pg_where("a=is.not_null"), "and(a is not_null)", "is.not_null");
    is_str(pg_where("a=is.true"), "and(a is true)", "is.true");
    is_str(pg_where("a=is.false"), "and(a is false)", "is.false");
    is_str(pg_where("a=is.unknown"), "and(a is unknown)", "is.unknown");
    is_str(pg_where("a=is.NULL"), "and(a is null)", "is.NULL (case-insensitive)");
    is_str(pg_where("a=not.is.true"), "and(not a is true)", "not.is.true");
    no_err(pg("a=is.null", &r), "is.null parses");
    ok(r.where && APR_ARRAY_IDX(r.where->children, 0, ar_cond *)->value == NULL
           && APR_ARRAY_IDX(r.where->children, 0, ar_cond *)->values == NULL,
       "is: no value, no list");
    is_err(pg("a=is.maybe", &r), AR_ERR_BAD_OPERATOR, "is.maybe -> BAD_OPERATOR");
    is_err(pg("a=is.", &r), AR_ERR_BAD_OPERATOR, "is. -> BAD_OPERATOR");
    is_err(pg("a=is.nulls", &r), AR_ERR_BAD_OPERATOR, "is.nulls -> BAD_OPERATOR");
    {
        ar_error *e = pg("a=is.maybe", &r);
        ok(e && ar_error_status(e) == 400 && strcmp(e->code, "AR107") == 0, "is.maybe -> 400 AR107");
    }

    /* column names and JSON paths */
    is_str(pg_where("info->director->>name=eq.Ang Lee"),
           "and(info->'director'->>'name' eq 'Ang Lee')", "info->director->>name");
    is_str(pg_where("info->cast->>0=eq.x"), "and(info->'cast'->>0 eq 'x')", "->>0 is an index");
    is_str(pg_where("info->awards->0->>name=eq.Oscar"),
           "and(info->'awards'->0->>'name' eq 'Oscar')", "->0-> in the middle");
    is_str(pg_where("info->runtime=gt.100"), "and(info->'runtime' gt '100')", "-> last");
    is_str(pg_where("info->>a.b=eq.1"), "and(info->>'a.b' eq '1')",
           "a top-level filter name may hold dots in a key");
    is_str(pg_where("%22Mixed Col%22=eq.x"), "and(Mixed Col eq 'x')", "\"Mixed Col\"");
    is_str(pg_where("%22a.b,c:d(e)%22=is.null"), "and(a.b,c:d(e) is null)",
           "a quoted name with . , : ( )");
    is_str(pg_where("%22q%22->k=eq.1"), "and(q->'k' eq '1')", "a quoted column then a path");
    is_str(pg_where("info->%22a.b%22->>%22c->d%22=eq.1"), "and(info->'a.b'->>'c->d' eq '1')",
           "quoted JSON keys holding . and ->");
    is_str(pg_where("a.b=eq.1"), "and(a.b eq '1')", "an unquoted name with a dot");
    is_err(pg("info->>a->b=eq.1", &r), AR_ERR_BAD_OPERATOR, "->> then -> -> BAD_OPERATOR");
    is_err(pg("info->=eq.1", &r), AR_ERR_BAD_OPERATOR, "info-> (empty key) -> BAD_OPERATOR");
    is_err(pg("info->>=eq.1", &r), AR_ERR_BAD_OPERATOR, "info->> (empty key) -> BAD_OPERATOR");
    is_err(pg("->a=eq.1", &r), AR_ERR_BAD_OPERATOR, "->a (no column) -> BAD_OPERATOR");
    is_err(pg("%22a%22x=eq.1", &r), AR_ERR_BAD_OPERATOR, "\"a\"x -> BAD_OPERATOR");
    is_err(pg("%22a=eq.1", &r), AR_ERR_BAD_OPERATOR, "\"a (unterminated) -> BAD_OPERATOR");

    /* several filters: ANDed, in order */
    is_str(pg_where("year=gte.1990&year=lt.2000"), "and(year gte '1990', year lt '2000')",
           "the same column twice");
    is_str(pg_where("limit=5&a=eq.1&offset=2&b=neq.2&select=id"), "and(a eq '1', b neq '2')",
           "filters among other parameters");
}

/* ------------------------------------------------------------ logic trees */

/* or=(and(or(...(a.eq.1)...))) with depth levels in all */
static const char *nested(int depth, int negate)
{
    const char *s = "a.eq.1";
    int i;

    for (i = depth; i >= 2; i--)
        s = apr_pstrcat(pool, negate ? "not." : "", i % 2 ? "or(" : "and(", s, ")", NULL);
    return apr_pstrcat(pool, negate ? "not.or=(" : "or=(", s, ")", NULL);
}

static void test_logic(void)
{
    ar_read_request r;

    is_str(pg_where("or=(a.eq.1,b.gt.2)"), "and(or(a eq '1', b gt '2'))", "or=(a.eq.1,b.gt.2)");
    is_str(pg_where("and=(a.eq.1,b.gt.2)"), "and(and(a eq '1', b gt '2'))", "and=(...)");
    is_str(pg_where("not.or=(a.eq.1,b.gt.2)"), "and(not or(a eq '1', b gt '2'))", "not.or=");
    is_str(pg_where("not.and=(a.eq.1,b.gt.2)"), "and(not and(a eq '1', b gt '2'))", "not.and=");
    is_str(pg_where("or=(a.eq.1)"), "and(or(a eq '1'))", "a tree of one");
    is_str(pg_where("or=(a.eq.1,and(b.gt.2,not.or(c.is.null,d.in.(1,2))))"),
           "and(or(a eq '1', and(b gt '2', not or(c is null, d in ['1','2']))))",
           "nested and( not.or( with is and in");
    is_str(pg_where("and=(or(a.eq.1,a.eq.2),not.and(b.eq.3,c.eq.4))"),
           "and(and(or(a eq '1', a eq '2'), not and(b eq '3', c eq '4')))", "two subtrees");
    is_str(pg_where("or=(a.not.eq.1,b.not.in.(1),c.not.is.null)"),
           "and(or(not a eq '1', not b in ['1'], not c is null))", "not. on leaves");
    is_str(pg_where("year=gt.1&or=(a.eq.1,b.eq.2)&title=like.x*"),
           "and(year gt '1', or(a eq '1', b eq '2'), title like 'x%')",
           "trees and filters ANDed in order");
    is_str(pg_where("or=(a.eq.1)&or=(b.eq.2)"), "and(or(a eq '1'), or(b eq '2'))",
           "or= twice: both apply");
    /* values inside trees */
    is_str(pg_where("or=(title.eq.%22a,b%22,title.eq.%22c)d%22)"),
           "and(or(title eq 'a,b', title eq 'c)d'))", "quoted values hold , and )");
    is_str(pg_where("or=(title.eq.%22say \\%22hi\\%22%22,title.eq.%22back\\\\slash%22)"),
           "and(or(title eq 'say \"hi\"', title eq 'back\\slash'))", "\\\" and \\\\ in quotes");
    is_str(pg_where("or=(title.eq.%22%22)"), "and(or(title eq ''))", "a quoted empty value");
    is_str(pg_where("or=(rating.eq.8.3,title.eq.Mr. X)"), "and(or(rating eq '8.3', title eq 'Mr. X'))",
           "unquoted values with dots and spaces");
    is_str(pg_where("or=(id.in.(1,2),id.in.(%22x,y%22,z))"),
           "and(or(id in ['1','2'], id in ['x,y','z']))", "in lists inside a tree");
    is_str(pg_where("or=(id.in.())"), "and(or(id in []))", "an empty in list inside a tree");
    is_str(pg_where("or=(title.like.*a*,title.ilike(any).{*b,c*})"),
           "and(or(title like '%a%', title ilike(any) '{%b,c%}'))", "like and (any) in a tree");
    is_str(pg_where("or=(title.like.%22*a,b*%22)"), "and(or(title like '%a,b%'))",
           "a quoted like pattern: unquoted, then * -> %%");
    is_str(pg_where("or=(tags.cs.{a,b},r.ov.[1,5))"), "and(or(tags cs '{a,b}', r ov '[1,5)'))",
           "braces and ranges stay whole");
    is_str(pg_where("or=(tsv.fts(french).amis,tsv.not.plfts.x)"),
           "and(or(tsv fts(french) 'amis', not tsv plfts 'x'))", "fts(lang) in a tree");
    is_str(pg_where("or=(info->>a.eq.1,info->b->>0.eq.2)"),
           "and(or(info->>'a' eq '1', info->'b'->>0 eq '2'))", "JSON paths in a tree");
    is_str(pg_where("or=(%22a.b%22.eq.1,%22c,d%22.is.null)"),
           "and(or(a.b eq '1', c,d is null))", "quoted names with . and , in a tree");
    is_str(pg_where("or=(info->%22a.b%22.eq.1,info->>%22x,y%22.is.null)"),
           "and(or(info->'a.b' eq '1', info->>'x,y' is null))", "quoted JSON keys in a tree");
    is_str(pg_where("or=(a.in.(%22x)%22,y),b.eq.f(x))"),
           "and(or(a in ['x)','y'], b eq 'f(x)'))", "a ) inside a quoted in element; f(x) value");
    is_str(pg_where("or=(and.eq.1,or.eq.2,not.eq.3)"),
           "and(or(and eq '1', or eq '2', not eq '3'))",
           "columns named and/or/not inside a tree");
    is_str(pg_where("not.or=(not.and(a.eq.1))"), "and(not or(not and(a eq '1')))",
           "not. at both levels");

    /* depth: or= is level 1 */
    is_str(pg_where(nested(2, 0)), "and(or(and(a eq '1')))", "nested(2) is or=(and(...))");
    no_err(pg(nested(AR_MAX_LOGIC_DEPTH, 0), &r), "nesting exactly AR_MAX_LOGIC_DEPTH is fine");
    ok(r.where && tree_depth(r.where) == AR_MAX_LOGIC_DEPTH + 2,
       "  the tree: root and + %d levels + the leaf", AR_MAX_LOGIC_DEPTH);
    no_err(pg(nested(AR_MAX_LOGIC_DEPTH, 1), &r), "the same, all negated");
    is_err(pg(nested(AR_MAX_LOGIC_DEPTH + 1, 0), &r), AR_ERR_TOO_DEEP, "one more level -> TOO_DEEP");
    is_err(pg(nested(AR_MAX_LOGIC_DEPTH + 1, 1), &r), AR_ERR_TOO_DEEP, "one more, negated -> TOO_DEEP");
    is_err(pg(nested(200, 0), &r), AR_ERR_TOO_DEEP, "200 levels -> TOO_DEEP");
    {
        ar_error *e = pg(nested(AR_MAX_LOGIC_DEPTH + 1, 0), &r);
        ok(e && ar_error_status(e) == 400 && strcmp(e->code, "AR108") == 0, "TOO_DEEP -> 400 AR108");
    }
    /* wide is fine */
    {
        const char *s = "or=(a.eq.0";
        int i;
        for (i = 1; i < 200; i++)
            s = apr_pstrcat(pool, s, ",a.eq.", apr_itoa(pool, i), NULL);
        s = apr_pstrcat(pool, s, ")", NULL);
        no_err(pg(s, &r), "200 siblings");
        ok(r.where && APR_ARRAY_IDX(r.where->children, 0, ar_cond *)->children->nelts == 200,
           "  all 200 kept");
    }

    /* malformed */
    is_err(pg("or=a.eq.1", &r), AR_ERR_BAD_OPERATOR, "or=a.eq.1 (no parentheses)");
    is_err(pg("or=(a.eq.1", &r), AR_ERR_BAD_OPERATOR, "or=(a.eq.1 (unclosed)");
    is_err(pg("or=()", &r), AR_ERR_BAD_OPERATOR, "or=() (empty)");
    is_err(pg("or=", &r), AR_ERR_BAD_OPERATOR, "or= (nothing)");
    is_err(pg("or", &r), AR_ERR_BAD_OPERATOR, "or (no =)");
    is_err(pg("or=(a.eq.1))", &r), AR_ERR_BAD_OPERATOR, "or=(a.eq.1)) (extra ')')");
    is_err(pg("or=(a.eq.1)x", &r), AR_ERR_BAD_OPERATOR, "or=(a.eq.1)x (trailing text)");
    is_err(pg("or=(a.eq.1)(b.eq.2)", &r), AR_ERR_BAD_OPERATOR, "or=(..)(..)");
    is_err(pg("or=(a)", &r), AR_ERR_BAD_OPERATOR, "or=(a) (no operator)");
    is_err(pg("or=(a.eq)", &r), AR_ERR_BAD_OPERATOR, "or=(a.eq) (no value)");
    is_err(pg("or=(a.foo.1)", &r), AR_ERR_BAD_OPERATOR, "or=(a.foo.1) (unknown operator)");
    is_err(pg("or=(a.eq.1,)", &r), AR_ERR_BAD_OPERATOR, "or=(a.eq.1,) (empty item)");
    is_err(pg("or=(,a.eq.1)", &r), AR_ERR_BAD_OPERATOR, "or=(,a.eq.1) (empty item)");
    is_err(pg("or=(and(a.eq.1)", &r), AR_ERR_BAD_OPERATOR, "or=(and(a.eq.1) (unclosed inner)");
    is_err(pg("or=(and(),b.eq.1)", &r), AR_ERR_BAD_OPERATOR, "or=(and(),..) (empty inner)");
    is_err(pg("or=(and,b.eq.1)", &r), AR_ERR_BAD_OPERATOR, "or=(and,..)");
    is_err(pg("or=(a.eq.%22x)", &r), AR_ERR_BAD_OPERATOR, "unterminated quoted value");
    is_err(pg("or=(a.eq.%22x%22y)", &r), AR_ERR_BAD_OPERATOR, "text after a quoted value");
    is_err(pg("or=(a.is.maybe)", &r), AR_ERR_BAD_OPERATOR, "or=(a.is.maybe)");
    is_err(pg("or=(a.in.(1)", &r), AR_ERR_BAD_OPERATOR, "or=(a.in.(1) (unclosed)");
    is_err(pg("or=(info->>a->b.eq.1)", &r), AR_ERR_BAD_OPERATOR, "->> not last, in a tree");
    is_err(pg("or=(and(a.eq.1)x)", &r), AR_ERR_BAD_OPERATOR, "text after an inner tree");
    is_err(pg("not.or=a", &r), AR_ERR_BAD_OPERATOR, "not.or=a");
    is_err(pg("and=(a.eq.1,or(b.eq.2,and(c.eq.%22)))", &r), AR_ERR_BAD_OPERATOR,
           "an unbalanced quote deep inside");
}

/* ------------------------------------------------------------------ order */

static const char *pg_order(const char *args)
{
    ar_read_request r;
    ar_error *e = pg(args, &r);

    return e ? apr_pstrcat(pool, "error ", kind_name(e), NULL) : order_str(&r);
}

static void test_order(void)
{
    ar_read_request r;
    ar_error *e;

    is_str(pg_order(NULL), "(none)", "no order: NULL (the default order)");
    is_str(pg_order("order=year"), "year", "order=year");
    is_str(pg_order("order=year.asc"), "year", "order=year.asc");
    is_str(pg_order("order=year.desc"), "year desc", "order=year.desc");
    is_str(pg_order("order=year.nullsfirst"), "year nullsfirst", "order=year.nullsfirst");
    is_str(pg_order("order=year.desc.nullslast"), "year desc nullslast", "desc.nullslast");
    is_str(pg_order("order=year.asc.nullsfirst"), "year nullsfirst", "asc.nullsfirst");
    is_str(pg_order("order=year.desc.nullslast,title.nullsfirst,id.asc"),
           "year desc nullslast,title nullsfirst,id", "three terms");
    is_str(pg_order("order=info->a->>b.desc,info->0"), "info->'a'->>'b' desc,info->0",
           "JSON paths");
    is_str(pg_order("order=%22Mixed Col%22.desc"), "Mixed Col desc", "a quoted name");
    is_str(pg_order("order=%22a.b%22,c"), "a.b,c", "a quoted name with a dot");
    is_str(pg_order("order=a.asc.desc"), "a desc", "the last direction wins");
    is_err(pg("order=year.up", &r), AR_ERR_BAD_PARAM, "order=year.up -> BAD_PARAM");
    is_err(pg("order=year.", &r), AR_ERR_BAD_PARAM, "order=year. -> BAD_PARAM");
    is_err(pg("order=year.desc.", &r), AR_ERR_BAD_PARAM, "order=year.desc. -> BAD_PARAM");
    is_err(pg("order=year.descx", &r), AR_ERR_BAD_PARAM, "order=year.descx -> BAD_PARAM");
    is_err(pg("order=year.desc.nulls", &r), AR_ERR_BAD_PARAM, "order=year.desc.nulls -> BAD_PARAM");
    is_err(pg("order=year..desc", &r), AR_ERR_BAD_PARAM, "order=year..desc -> BAD_PARAM");
    e = pg("order=year.up", &r);
    ok(e && ar_error_status(e) == 400 && strcmp(e->code, "AR102") == 0, "bad modifier -> 400 AR102");
    ok(pg("order=", &r) != NULL, "order= (nothing) -> error");
    ok(pg("order=a,", &r) != NULL, "order=a, (empty term) -> error");
    ok(pg("order=info->>a->b", &r) != NULL, "order=info->>a->b -> error");
    is_err(pg("order=.desc", &r), AR_ERR_BAD_PARAM,
           "order=.desc (no column) is a bad parameter (AR102), not a bad filter (AR107)");
    e = pg("order=a&order=b", &r);
    is_err(e, AR_ERR_BAD_PARAM, "order twice -> BAD_PARAM");
    is_str(e ? e->message : NULL, "'order' is given twice", "order twice: message");
}

/* ---------------------------------------------------- Prefer, Accept, ... */

static void test_headers(void)
{
    ar_read_request r;
    ar_error *e;
    static const struct {
        const char *accept;
        ar_media media;
    } accepts[] = {
        {"application/json", AR_MEDIA_JSON},
        {"*/*", AR_MEDIA_JSON},
        {"application/*", AR_MEDIA_JSON},
        {"application/vnd.pgrst.object+json", AR_MEDIA_OBJECT},
        {"application/vnd.pgrst.object", AR_MEDIA_OBJECT},
        {"text/csv", AR_MEDIA_CSV},
        {"TEXT/CSV", AR_MEDIA_CSV},
        {"Application/JSON", AR_MEDIA_JSON},
        {"application/json; charset=utf-8", AR_MEDIA_JSON},
        {"text/csv;q=0.5, application/json", AR_MEDIA_JSON},
        {"application/json;q=0.5, text/csv;q=0.9", AR_MEDIA_CSV},
        {"text/csv, application/json", AR_MEDIA_CSV},
        {"application/json, text/csv", AR_MEDIA_JSON},
        {"application/json;q=0.8, text/csv;q=0.8", AR_MEDIA_JSON},
        {"text/csv;q=0.8, application/json;q=0.8", AR_MEDIA_CSV},
        {"image/png, text/csv;q=0.1", AR_MEDIA_CSV},
        {"text/html, */*;q=0.8", AR_MEDIA_JSON},
        {"text/csv;q=0, application/json;q=0.1", AR_MEDIA_JSON},
        {"application/vnd.pgrst.object+json;q=1, application/json;q=0.9", AR_MEDIA_OBJECT},
        {" text/csv ; q=0.9 ,  application/vnd.pgrst.object+json ; q=0.95", AR_MEDIA_OBJECT},
        {"application/x-ndjson", AR_MEDIA_NDJSON},
        {"application/x-ndjson;q=0.5, application/json", AR_MEDIA_JSON},
        {"application/json;q=0.5, application/x-ndjson", AR_MEDIA_NDJSON},
        {"application/vnd.pgrst.plan", AR_MEDIA_PLAN_TEXT},
        {"application/vnd.pgrst.plan+text; for=\"application/json\"", AR_MEDIA_PLAN_TEXT},
        {"application/vnd.pgrst.plan+json", AR_MEDIA_PLAN_JSON},
    };
    size_t i;
    static const struct {
        const char *accept, *options;
    } plans[] = {
        {"application/vnd.pgrst.plan", ""},
        {"application/vnd.pgrst.plan; options=analyze", ", analyze"},
        {"application/vnd.pgrst.plan+json; for=\"application/json\"; options=analyze|verbose",
         ", analyze, verbose"},
        {"application/vnd.pgrst.plan; options=buffers|bogus|WAL|settings",
         ", buffers, wal, settings"},
        {"application/vnd.pgrst.plan; options=analyze;drop table x", ", analyze"},
    };

    /* Prefer */
    no_err(parse_full(AR_DIALECT_POSTGREST, "/film", NULL, NULL, NULL, NULL, &r), "no Prefer");
    ok(r.count == AR_COUNT_NONE && !r.strict, "no Prefer: no count, not strict");
    no_err(parse_full(AR_DIALECT_POSTGREST, "/film", NULL, "count=exact", NULL, NULL, &r),
           "count=exact");
    ok(r.count == AR_COUNT_EXACT, "count=exact -> EXACT");
    no_err(parse_full(AR_DIALECT_POSTGREST, "/film", NULL, "count=planned", NULL, NULL, &r),
           "count=planned");
    ok(r.count == AR_COUNT_PLANNED, "count=planned -> PLANNED");
    no_err(parse_full(AR_DIALECT_POSTGREST, "/film", NULL, "count=estimated", NULL, NULL, &r),
           "count=estimated");
    ok(r.count == AR_COUNT_ESTIMATED, "count=estimated -> ESTIMATED");
    no_err(parse_full(AR_DIALECT_POSTGREST, "/film", NULL, "count=exact, handling=strict", NULL,
                      NULL, &r), "count=exact, handling=strict");
    ok(r.count == AR_COUNT_EXACT && r.strict, "  exact and strict");
    no_err(parse_full(AR_DIALECT_POSTGREST, "/film", NULL, "  count=planned  ,  handling=strict ",
                      NULL, NULL, &r), "spaces around preferences");
    ok(r.count == AR_COUNT_PLANNED && r.strict, "  planned and strict");
    no_err(parse_full(AR_DIALECT_POSTGREST, "/film", NULL, "return=representation", NULL, NULL,
                      &r), "an unknown preference, lenient by default");
    ok(r.count == AR_COUNT_NONE && !r.strict, "  ignored");
    no_err(parse_full(AR_DIALECT_POSTGREST, "/film", NULL,
                      "handling=lenient, return=minimal, count=exact", NULL, NULL, &r),
           "handling=lenient with an unknown preference");
    ok(r.count == AR_COUNT_EXACT && !r.strict, "  unknown ignored, count kept");
    no_err(parse_full(AR_DIALECT_POSTGREST, "/film", NULL, "", NULL, NULL, &r), "empty Prefer");
    no_err(parse_full(AR_DIALECT_POSTGREST, "/film", NULL, ",,", NULL, NULL, &r), "Prefer: ,,");
    e = parse_full(AR_DIALECT_POSTGREST, "/film", NULL, "handling=strict, return=representation",
                   NULL, NULL, &r);
    is_err(e, AR_ERR_BAD_PREFER, "strict with an unknown preference -> BAD_PREFER");
    ok(e && ar_error_status(e) == 400 && strcmp(e->code, "AR109") == 0, "  400 AR109");
    ok(e && e->message && strstr(e->message, "return=representation"), "  the message names it");
    is_err(parse_full(AR_DIALECT_POSTGREST, "/film", NULL, "return=minimal,handling=strict", NULL,
                      NULL, &r), AR_ERR_BAD_PREFER, "unknown before handling=strict -> BAD_PREFER");
    is_err(parse_full(AR_DIALECT_POSTGREST, "/film", NULL, "handling=strict,count=bogus", NULL,
                      NULL, &r), AR_ERR_BAD_PREFER, "strict with count=bogus -> BAD_PREFER");
    no_err(parse_full(AR_DIALECT_POSTGREST, "/film", NULL, "handling=strict", NULL, NULL, &r),
           "handling=strict alone");
    ok(r.strict, "  strict");
    no_err(parse_full(AR_DIALECT_POSTGREST, "/film", NULL, "handling=strict,handling=lenient,x=y",
                      NULL, NULL, &r), "strict then lenient: lenient wins");

    /* a plan's options: only EXPLAIN's own, nothing else of the header */
    for (i = 0; i < sizeof(plans) / sizeof(*plans); i++) {
        e = parse_full(AR_DIALECT_POSTGREST, "/film", NULL, NULL, plans[i].accept, NULL, &r);
        ok(!e && r.plan_options && strcmp(r.plan_options, plans[i].options) == 0,
           "Accept: %s -> options '%s'", plans[i].accept, plans[i].options);
        if (!e && r.plan_options && strcmp(r.plan_options, plans[i].options) != 0)
            printf("#   got '%s'\n", r.plan_options);
    }

    /* Accept */
    no_err(parse_full(AR_DIALECT_POSTGREST, "/film", NULL, NULL, NULL, NULL, &r), "no Accept");
    ok(r.media == AR_MEDIA_JSON, "no Accept -> JSON");
    no_err(parse_full(AR_DIALECT_POSTGREST, "/film", NULL, NULL, "", NULL, &r), "empty Accept");
    ok(r.media == AR_MEDIA_JSON, "empty Accept -> JSON");
    for (i = 0; i < sizeof(accepts) / sizeof(*accepts); i++) {
        e = parse_full(AR_DIALECT_POSTGREST, "/film", NULL, NULL, accepts[i].accept, NULL, &r);
        ok(!e && r.media == accepts[i].media, "Accept: %s -> %s", accepts[i].accept,
           accepts[i].media == AR_MEDIA_JSON ? "json"
           : accepts[i].media == AR_MEDIA_OBJECT ? "object"
           : accepts[i].media == AR_MEDIA_NDJSON ? "ndjson"
           : accepts[i].media == AR_MEDIA_PLAN_TEXT ? "plan text"
           : accepts[i].media == AR_MEDIA_PLAN_JSON ? "plan json" : "csv");
        if (e || r.media != accepts[i].media)
            printf("#   got %s media %d\n", kind_name(e), (int)r.media);
    }
    e = parse_full(AR_DIALECT_POSTGREST, "/film", NULL, NULL, "image/png", NULL, &r);
    is_err(e, AR_ERR_NOT_ACCEPTABLE, "Accept: image/png -> NOT_ACCEPTABLE");
    ok(e && ar_error_status(e) == 406 && strcmp(e->code, "AR401") == 0, "  406 AR401");
    is_err(parse_full(AR_DIALECT_POSTGREST, "/film", NULL, NULL, "text/html, image/png", NULL, &r),
           AR_ERR_NOT_ACCEPTABLE, "two unsupported -> NOT_ACCEPTABLE");
    is_err(parse_full(AR_DIALECT_POSTGREST, "/film", NULL, NULL, "text/csv;q=0", NULL, &r),
           AR_ERR_NOT_ACCEPTABLE, "text/csv;q=0 (not acceptable) -> NOT_ACCEPTABLE");
    is_err(parse_full(AR_DIALECT_POSTGREST, "/film", NULL, NULL, "application/jsonx", NULL, &r),
           AR_ERR_NOT_ACCEPTABLE, "application/jsonx -> NOT_ACCEPTABLE");

    /* Accept-Profile */
    no_err(parse_full(AR_DIALECT_POSTGREST, "/film", NULL, NULL, NULL, "api", &r), "Accept-Profile");
    is_str(r.profile, "api", "Accept-Profile stored");
    no_err(parse_full(AR_DIALECT_POSTGREST, "/film", NULL, NULL, NULL, "", &r), "empty Accept-Profile");
    ok(r.profile == NULL, "empty Accept-Profile -> none");
    no_err(parse_full(AR_DIALECT_POSTGREST, "/film", NULL, NULL, NULL, NULL, &r), "no Accept-Profile");
    ok(r.profile == NULL, "no Accept-Profile -> none");
    no_err(parse_full(AR_DIALECT_POSTGREST, "/film", NULL, NULL, NULL, "nope", &r),
           "an unknown profile parses (the planner refuses it)");

    /* headers with NULL h */
    no_err(ar_query_parse(pool, AR_DIALECT_POSTGREST, "/film", "a=eq.1", NULL, &r), "h == NULL");
    ok(r.media == AR_MEDIA_JSON && r.count == AR_COUNT_NONE && r.profile == NULL && !r.ranged,
       "h == NULL: defaults");
}

/* ------------------------------------------------------ Flask-Restless q= */

static void test_restless_parse(void)
{
    static const struct {
        const char *name;
        const char *want;
    } ops[] = {
        {"==", "a eq '1'"},            {"eq", "a eq '1'"},
        {"equals", "a eq '1'"},        {"equal_to", "a eq '1'"},
        {"!=", "a neq '1'"},           {"ne", "a neq '1'"},
        {"neq", "a neq '1'"},          {"not_equal_to", "a neq '1'"},
        {"does_not_equal", "a neq '1'"},
        {">", "a gt '1'"},             {"gt", "a gt '1'"},
        {"<", "a lt '1'"},             {"lt", "a lt '1'"},
        {">=", "a gte '1'"},           {"ge", "a gte '1'"},
        {"gte", "a gte '1'"},          {"geq", "a gte '1'"},
        {"<=", "a lte '1'"},           {"le", "a lte '1'"},
        {"lte", "a lte '1'"},          {"leq", "a lte '1'"},
        {"like", "a like '1'"},        {"ilike", "a ilike '1'"},
    };
    ar_read_request r;
    ar_error *e;
    size_t i;

    for (i = 0; i < sizeof(ops) / sizeof(*ops); i++)
        is_str(rl_where(apr_psprintf(pool, "{\"filters\":[{\"name\":\"a\",\"op\":\"%s\",\"val\":1}]}",
                                     ops[i].name)),
               apr_psprintf(pool, "and(%s)", ops[i].want), "q op %s", ops[i].name);
    is_str(rl_where("{\"filters\":[{\"name\":\"a\",\"op\":\"in\",\"val\":[1,\"x\",null]}]}"),
           "and(a in ['1','x',NULL])", "q op in, with a null element");
    is_str(rl_where("{\"filters\":[{\"name\":\"a\",\"op\":\"not_in\",\"val\":[1,2]}]}"),
           "and(not a in ['1','2'])", "q op not_in");
    is_str(rl_where("{\"filters\":[{\"name\":\"a\",\"op\":\"in\",\"val\":[]}]}"),
           "and(a in [])", "q op in, an empty list");
    is_str(rl_where("{\"filters\":[{\"name\":\"a\",\"op\":\"is_null\"}]}"), "and(a is null)",
           "q op is_null");
    is_str(rl_where("{\"filters\":[{\"name\":\"a\",\"op\":\"is_not_null\"}]}"),
           "and(not a is null)", "q op is_not_null");
    is_str(rl_where("{\"filters\":[{\"name\":\"a\",\"op\":\"is_null\",\"val\":5}]}"),
           "and(a is null)", "is_null ignores val");
    is_str(rl_where("{\"filters\":[{\"name\":\"a\",\"op\":\"like\",\"val\":\"%25x*\"}]}"),
           "and(a like '%x*')", "q like takes %% as it is, * untouched");

    /* values */
    is_str(rl_where("{\"filters\":[{\"name\":\"a\",\"op\":\"==\",\"val\":\"x y\"}]}"),
           "and(a eq 'x y')", "a string value");
    is_str(rl_where("{\"filters\":[{\"name\":\"a\",\"op\":\"==\",\"val\":true}]}"),
           "and(a eq 'true')", "true");
    is_str(rl_where("{\"filters\":[{\"name\":\"a\",\"op\":\"==\",\"val\":false}]}"),
           "and(a eq 'false')", "false");
    is_str(rl_where("{\"filters\":[{\"name\":\"a\",\"op\":\"==\",\"val\":-42}]}"),
           "and(a eq '-42')", "a negative integer");
    is_str(rl_where("{\"filters\":[{\"name\":\"a\",\"op\":\"==\",\"val\":1.5}]}"),
           "and(a eq '1.5')", "a real");
    /* A real goes to SQL as text that PostgreSQL reads as the column's type:
     * it must be the shortest text that reads back as the same double, or a
     * numeric column compares against 0.10000000000000001, not 0.1. */
    is_str(rl_where("{\"filters\":[{\"name\":\"a\",\"op\":\"==\",\"val\":0.1}]}"),
           "and(a eq '0.1')", "0.1 stays 0.1");
    is_str(rl_where("{\"filters\":[{\"name\":\"a\",\"op\":\">\",\"val\":7.7}]}"),
           "and(a gt '7.7')", "7.7 stays 7.7");
    is_str(rl_where("{\"filters\":[{\"name\":\"a\",\"op\":\"==\",\"val\":\"\"}]}"),
           "and(a eq '')", "an empty string");
    is_str(rl_where("{\"filters\":[{\"name\":\"a\",\"op\":\"==\",\"val\":null}]}"),
           "and(a is null)", "== null -> IS NULL");
    is_str(rl_where("{\"filters\":[{\"name\":\"a\",\"op\":\"eq\",\"val\":null}]}"),
           "and(a is null)", "eq null -> IS NULL");
    is_str(rl_where("{\"filters\":[{\"name\":\"a\",\"op\":\"!=\",\"val\":null}]}"),
           "and(not a is null)", "!= null -> NOT IS NULL");
    is_str(rl_where("{\"filters\":[{\"name\":\"a\",\"op\":\"does_not_equal\",\"val\":null}]}"),
           "and(not a is null)", "does_not_equal null -> NOT IS NULL");
    is_str(rl_where("{\"filters\":[{\"name\":\"a\",\"op\":\">\",\"val\":null}]}"), "error BAD_Q",
           "> null -> BAD_Q");
    is_str(rl_where("{\"filters\":[{\"name\":\"a\",\"op\":\"like\",\"val\":null}]}"), "error BAD_Q",
           "like null -> BAD_Q");

    /* field comparisons */
    is_str(rl_where("{\"filters\":[{\"name\":\"a\",\"op\":\"<\",\"field\":\"b\"}]}"),
           "and(a lt =b)", "name < field");
    is_str(rl_where("{\"filters\":[{\"name\":\"a\",\"op\":\"!=\",\"field\":\"b\"}]}"),
           "and(a neq =b)", "name != field");
    is_str(rl_where("{\"filters\":[{\"name\":\"a\",\"op\":\"==\",\"field\":\"b\",\"val\":1}]}"),
           "and(a eq =b)", "field wins over val");
    is_str(rl_where("{\"filters\":[{\"name\":\"a\",\"op\":\"in\",\"field\":\"b\"}]}"),
           "error BAD_Q", "in with field -> BAD_Q");
    is_str(rl_where("{\"filters\":[{\"name\":\"a\",\"op\":\"==\",\"field\":1}]}"), "error BAD_Q",
           "field not a string -> BAD_Q");

    /* groups */
    is_str(rl_where("{\"filters\":[{\"or\":[{\"name\":\"a\",\"op\":\"==\",\"val\":1},"
                    "{\"and\":[{\"name\":\"b\",\"op\":\">\",\"val\":2},"
                    "{\"name\":\"c\",\"op\":\"is_null\"}]}]}]}"),
           "and(or(a eq '1', and(b gt '2', c is null)))", "or/and nesting");
    is_str(rl_where("{\"filters\":[{\"name\":\"a\",\"op\":\"==\",\"val\":1},"
                    "{\"name\":\"b\",\"op\":\"==\",\"val\":2}]}"),
           "and(a eq '1', b eq '2')", "two filters ANDed");
    is_str(rl_where("{\"filters\":[{\"or\":[]}]}"), "and(or())", "an empty or");
    is_str(rl_where("{\"filters\":[]}"), "(none)", "no filters: no where");
    is_str(rl_where("{}"), "(none)", "q={}");
    {
        /* nesting: as deep as or=(...) may go in the PostgREST grammar */
        const char *leaf = "{\"name\":\"a\",\"op\":\"==\",\"val\":1}";
        const char *s = leaf, *q;
        int i2;
        for (i2 = 1; i2 <= AR_MAX_LOGIC_DEPTH - 1; i2++)
            s = apr_pstrcat(pool, "{\"", i2 % 2 ? "or" : "and", "\":[", s, "]}", NULL);
        q = apr_pstrcat(pool, "{\"filters\":[", s, "]}", NULL);
        no_err(rlq(q, &r), "%d nested or/and objects", AR_MAX_LOGIC_DEPTH - 1);
        s = apr_pstrcat(pool, "{\"or\":[", s, "]}", NULL);
        q = apr_pstrcat(pool, "{\"filters\":[", s, "]}", NULL);
        no_err(rlq(q, &r), "%d nested or/and objects (AR_MAX_LOGIC_DEPTH, as or=(...) allows)",
               AR_MAX_LOGIC_DEPTH);
        ok(!r.where || tree_depth(r.where) <= AR_MAX_LOGIC_DEPTH + 2, "  tree within bounds");
        s = apr_pstrcat(pool, "{\"and\":[", s, "]}", NULL);
        q = apr_pstrcat(pool, "{\"filters\":[", s, "]}", NULL);
        is_err(rlq(q, &r), AR_ERR_TOO_DEEP, "%d nested -> TOO_DEEP", AR_MAX_LOGIC_DEPTH + 1);
        for (i2 = 0; i2 < 100; i2++)
            s = apr_pstrcat(pool, "{\"or\":[", s, "]}", NULL);
        q = apr_pstrcat(pool, "{\"filters\":[", s, "]}", NULL);
        is_err(rlq(q, &r), AR_ERR_TOO_DEEP, "100 more -> TOO_DEEP");
    }

    /* order_by, limit, offset, single */
    no_err(rlq("{\"order_by\":[{\"field\":\"a\",\"direction\":\"desc\"},{\"field\":\"b\"},"
               "{\"field\":\"c\",\"direction\":\"asc\"}]}", &r), "order_by");
    is_str(order_str(&r), "a desc,b,c", "  a desc, b, c asc");
    is_err(rlq("{\"order_by\":[{\"field\":\"a\",\"direction\":\"sideways\"}]}", &r), AR_ERR_BAD_Q,
           "direction sideways -> BAD_Q");
    is_err(rlq("{\"order_by\":[{\"field\":\"a\",\"direction\":1}]}", &r), AR_ERR_BAD_Q,
           "direction 1 -> BAD_Q");
    is_err(rlq("{\"order_by\":[{\"direction\":\"asc\"}]}", &r), AR_ERR_BAD_Q, "no field -> BAD_Q");
    is_err(rlq("{\"order_by\":[\"a\"]}", &r), AR_ERR_BAD_Q, "order_by entry a string -> BAD_Q");
    is_err(rlq("{\"order_by\":{\"field\":\"a\"}}", &r), AR_ERR_BAD_Q, "order_by not a list -> BAD_Q");
    no_err(rlq("{\"limit\":5,\"offset\":10}", &r), "limit and offset");
    ok(r.limit == 5 && r.offset == 10, "  limit 5 offset 10");
    no_err(rlq("{\"limit\":0}", &r), "limit 0");
    ok(r.limit == 0, "  limit 0 kept");
    is_err(rlq("{\"limit\":-1}", &r), AR_ERR_BAD_Q, "limit -1 -> BAD_Q");
    is_err(rlq("{\"offset\":-1}", &r), AR_ERR_BAD_Q, "offset -1 -> BAD_Q");
    is_err(rlq("{\"limit\":\"5\"}", &r), AR_ERR_BAD_Q, "limit \"5\" -> BAD_Q");
    is_err(rlq("{\"limit\":1.5}", &r), AR_ERR_BAD_Q, "limit 1.5 -> BAD_Q");
    is_err(rlq("{\"limit\":null}", &r), AR_ERR_BAD_Q, "limit null -> BAD_Q");
    /* limit=/offset= stop below 2^63-9 so that limit+1 and offset+limit stay
     * in range; q= must not let more through. */
    is_err(rlq("{\"limit\":9223372036854775807}", &r), AR_ERR_BAD_Q,
           "limit 2^63-1 -> BAD_Q (as limit=9223372036854775807 is refused)");
    is_err(rlq("{\"offset\":9223372036854775807}", &r), AR_ERR_BAD_Q,
           "offset 2^63-1 -> BAD_Q");
    no_err(rlq("{\"single\":true}", &r), "single true");
    ok(r.single == 1, "  single");
    no_err(rlq("{\"single\":false}", &r), "single false");
    ok(r.single == 0, "  not single");
    is_err(rlq("{\"single\":1}", &r), AR_ERR_BAD_Q, "single 1 -> BAD_Q");
    is_err(rlq("{\"single\":\"yes\"}", &r), AR_ERR_BAD_Q, "single \"yes\" -> BAD_Q");
    no_err(rlq("{\"filters\":[{\"name\":\"a\",\"op\":\"==\",\"val\":1}],\"order_by\":"
               "[{\"field\":\"a\"}],\"limit\":2,\"offset\":3,\"single\":false}", &r),
           "every key at once");
    ok(r.limit == 2 && r.offset == 3 && r.order && r.where, "  all applied");

    /* bad q */
    is_err(rlq("{", &r), AR_ERR_BAD_Q, "q={ -> BAD_Q");
    is_err(rlq("", &r), AR_ERR_BAD_Q, "q= (empty) -> BAD_Q");
    is_err(rl("q", &r), AR_ERR_BAD_Q, "q (no =) -> BAD_Q");
    is_err(rlq("[]", &r), AR_ERR_BAD_Q, "q=[] -> BAD_Q");
    is_err(rlq("\"x\"", &r), AR_ERR_BAD_Q, "q=\"x\" -> BAD_Q");
    is_err(rlq("1", &r), AR_ERR_BAD_Q, "q=1 -> BAD_Q");
    is_err(rlq("null", &r), AR_ERR_BAD_Q, "q=null -> BAD_Q");
    is_err(rlq("{\"foo\":1}", &r), AR_ERR_BAD_Q, "unknown key -> BAD_Q");
    is_err(rlq("{\"limit\":1,\"limit\":2}", &r), AR_ERR_BAD_Q, "duplicate key -> BAD_Q");
    is_err(rlq("{\"filters\":{}}", &r), AR_ERR_BAD_Q, "filters not a list -> BAD_Q");
    is_err(rlq("{\"filters\":[1]}", &r), AR_ERR_BAD_Q, "a filter not an object -> BAD_Q");
    is_err(rlq("{\"filters\":[{\"op\":\"==\",\"val\":1}]}", &r), AR_ERR_BAD_Q, "no name -> BAD_Q");
    is_err(rlq("{\"filters\":[{\"name\":\"a\",\"val\":1}]}", &r), AR_ERR_BAD_Q, "no op -> BAD_Q");
    is_err(rlq("{\"filters\":[{\"name\":1,\"op\":\"==\",\"val\":1}]}", &r), AR_ERR_BAD_Q,
           "name not a string -> BAD_Q");
    is_err(rlq("{\"filters\":[{\"name\":\"a\",\"op\":1,\"val\":1}]}", &r), AR_ERR_BAD_Q,
           "op not a string -> BAD_Q");
    is_err(rlq("{\"filters\":[{\"name\":\"a\",\"op\":\"has\",\"val\":1}]}", &r), AR_ERR_BAD_Q,
           "unknown op has -> BAD_Q");
    is_err(rlq("{\"filters\":[{\"name\":\"a\",\"op\":\"EQ\",\"val\":1}]}", &r), AR_ERR_BAD_Q,
           "op EQ (case) -> BAD_Q");
    is_err(rlq("{\"filters\":[{\"name\":\"a\",\"op\":\"==\"}]}", &r), AR_ERR_BAD_Q, "no val -> BAD_Q");
    is_err(rlq("{\"filters\":[{\"name\":\"a\",\"op\":\"==\",\"val\":[1]}]}", &r), AR_ERR_BAD_Q,
           "val a list -> BAD_Q");
    is_err(rlq("{\"filters\":[{\"name\":\"a\",\"op\":\"==\",\"val\":{}}]}", &r), AR_ERR_BAD_Q,
           "val an object -> BAD_Q");
    is_err(rlq("{\"filters\":[{\"name\":\"a\",\"op\":\"in\",\"val\":1}]}", &r), AR_ERR_BAD_Q,
           "in with a scalar -> BAD_Q");
    is_err(rlq("{\"filters\":[{\"name\":\"a\",\"op\":\"in\"}]}", &r), AR_ERR_BAD_Q,
           "in without val -> BAD_Q");
    is_err(rlq("{\"filters\":[{\"name\":\"a\",\"op\":\"in\",\"val\":[[1]]}]}", &r), AR_ERR_BAD_Q,
           "in with a nested list -> BAD_Q");
    is_err(rlq("{\"filters\":[{\"or\":{}}]}", &r), AR_ERR_BAD_Q, "or not a list -> BAD_Q");
    is_err(rlq("{\"filters\":[{\"or\":[1]}]}", &r), AR_ERR_BAD_Q, "or with a number -> BAD_Q");
    e = rlq("{\"foo\":1}", &r);
    ok(e && ar_error_status(e) == 400 && strcmp(e->code, "AR110") == 0, "BAD_Q -> 400 AR110");
    is_err(rl("q={}&q={}", &r), AR_ERR_BAD_Q, "q twice -> BAD_Q");

    /* q= through the query string: form-decoded first */
    no_err(rl("q=%7B%22filters%22%3A%5B%7B%22name%22%3A%22a%22%2C%22op%22%3A%22%3D%3D%22%2C"
              "%22val%22%3A%22x%2By%22%7D%5D%7D", &r), "a percent-encoded q");
    is_str(where_str(&r), "and(a eq 'x+y')", "  decoded, %%2B is +");
    no_err(rl("q={\"filters\":[{\"name\":\"a\",\"op\":\"==\",\"val\":\"x+y\"}]}", &r),
           "a raw + in q");
    is_str(where_str(&r), "and(a eq 'x y')", "  a raw + is a space, as in any query string");

    /* page, results_per_page */
    no_err(rl("page=2&results_per_page=20", &r), "page=2&results_per_page=20");
    ok(r.page == 2 && r.per_page == 20, "  page 2, 20 per page");
    no_err(rl(NULL, &r), "no parameters");
    ok(r.page == AR_UNSET && r.per_page == AR_UNSET && r.limit == AR_UNSET && r.offset == 0,
       "  page and per_page unset");
    e = rl("page=0", &r);
    is_err(e, AR_ERR_BAD_PARAM, "page=0 -> BAD_PARAM");
    is_str(e ? e->message : NULL, "'page' starts at 1", "  page=0 message");
    is_err(rl("page=-1", &r), AR_ERR_BAD_PARAM, "page=-1 -> BAD_PARAM");
    is_err(rl("page=x", &r), AR_ERR_BAD_PARAM, "page=x -> BAD_PARAM");
    is_err(rl("page=", &r), AR_ERR_BAD_PARAM, "page= -> BAD_PARAM");
    is_err(rl("page=1&page=2", &r), AR_ERR_BAD_PARAM, "page twice -> BAD_PARAM");
    is_err(rl("results_per_page=-5", &r), AR_ERR_BAD_PARAM, "results_per_page=-5 -> BAD_PARAM");
    is_err(rl("results_per_page=1&results_per_page=1", &r), AR_ERR_BAD_PARAM,
           "results_per_page twice -> BAD_PARAM");
    no_err(rl("results_per_page=0", &r), "results_per_page=0");
    ok(r.per_page == 0, "  0 kept (the window decides)");
    is_err(rl("page=99999999999999999999", &r), AR_ERR_BAD_PARAM, "page overflow -> BAD_PARAM");

    /* everything else is unknown in this dialect */
    is_err(rl("limit=1", &r), AR_ERR_UNKNOWN_PARAM, "restless: limit= -> UNKNOWN_PARAM");
    is_err(rl("offset=1", &r), AR_ERR_UNKNOWN_PARAM, "restless: offset= -> UNKNOWN_PARAM");
    is_err(rl("select=a", &r), AR_ERR_UNKNOWN_PARAM, "restless: select= -> UNKNOWN_PARAM");
    is_err(rl("order=a", &r), AR_ERR_UNKNOWN_PARAM, "restless: order= -> UNKNOWN_PARAM");
    is_err(rl("a=eq.1", &r), AR_ERR_UNKNOWN_PARAM, "restless: a filter -> UNKNOWN_PARAM");
    is_err(rl("or=(a.eq.1)", &r), AR_ERR_UNKNOWN_PARAM, "restless: or= -> UNKNOWN_PARAM");
    is_err(rl("foo", &r), AR_ERR_UNKNOWN_PARAM, "restless: foo -> UNKNOWN_PARAM");
    e = rl("limit=1", &r);
    is_str(e ? e->message : NULL, "unknown query parameter 'limit'", "  message names it");
    is_err(parse_full(AR_DIALECT_RESTLESS, "/", "page=1", NULL, NULL, NULL, &r),
           AR_ERR_UNKNOWN_PARAM, "restless: page on the index");
    is_err(parse_full(AR_DIALECT_RESTLESS, "/film/1", "q={}", NULL, NULL, NULL, &r),
           AR_ERR_UNKNOWN_PARAM, "restless: q on a row");
    is_err(parse_full(AR_DIALECT_RESTLESS, "/film/1", "results_per_page=5", NULL, NULL, NULL, &r),
           AR_ERR_UNKNOWN_PARAM, "restless: results_per_page on a row");
    no_err(parse_full(AR_DIALECT_RESTLESS, "/film/1", NULL, NULL, NULL, NULL, &r),
           "restless: a row, no parameters");
    /* PostgREST-only parameters in the PostgREST dialect; q= works in both */
    is_err(pg("page=1", &r), AR_ERR_BAD_OPERATOR, "postgrest: page=1 is a filter without operator");
    is_str(pg_where("a=eq.1&q={\"filters\":[{\"name\":\"b\",\"op\":\"==\",\"val\":2}]}&c=eq.3"),
           "and(a eq '1', b eq '2', c eq '3')", "postgrest: q= filters ANDed with the others");
    is_str(pg_where("q={\"filters\":[{\"name\":\"b\",\"op\":\"==\",\"val\":2}]}&a=eq.1"),
           "and(b eq '2', a eq '1')", "postgrest: q= first, then a filter");
}

static void test_restless_window(void)
{
    ar_read_request r;
    apr_int64_t per_page = -99;

    no_err(rl(NULL, &r), "window: no parameters");
    ar_restless_window(&r, 0, &per_page);
    ok(r.limit == 10 && r.offset == 0 && per_page == 10 && r.count == AR_COUNT_EXACT,
       "defaults: 10 per page from 0, counted exactly");
    no_err(rl(NULL, &r), "window: cap 5");
    ar_restless_window(&r, 5, &per_page);
    ok(r.limit == 5 && per_page == 5, "max_rows 5 caps the default 10");
    no_err(rl("results_per_page=20", &r), "window: 20 per page");
    ar_restless_window(&r, 1000, &per_page);
    ok(r.limit == 20 && r.offset == 0 && per_page == 20, "results_per_page=20 under a cap of 1000");
    no_err(rl("results_per_page=5000", &r), "window: 5000 per page");
    ar_restless_window(&r, 1000, &per_page);
    ok(r.limit == 1000 && per_page == 1000, "results_per_page above the cap -> the cap");
    no_err(rl("page=3&results_per_page=20", &r), "window: page 3");
    ar_restless_window(&r, 0, &per_page);
    ok(r.limit == 20 && r.offset == 40, "page 3 of 20 -> offset 40");
    no_err(rl("page=2", &r), "window: page 2 default size");
    ar_restless_window(&r, 0, &per_page);
    ok(r.limit == 10 && r.offset == 10, "page 2 of 10 -> offset 10");
    no_err(rl("page=2", &r), "window: page 2 under cap 4");
    ar_restless_window(&r, 4, &per_page);
    ok(r.limit == 4 && r.offset == 4 && per_page == 4, "page 2 of the capped 4 -> offset 4");
    no_err(rl("results_per_page=0", &r), "window: 0 per page under a cap");
    ar_restless_window(&r, 100, &per_page);
    ok(r.limit == 100 && per_page == 100, "results_per_page=0 -> the cap");
    no_err(rl("results_per_page=0", &r), "window: 0 per page, no cap");
    ar_restless_window(&r, 0, &per_page);
    ok(r.limit == 0 && per_page == 0 && r.offset == 0, "results_per_page=0 and no cap -> 0");
    no_err(rl("page=5&results_per_page=0", &r), "window: page 5 of 0");
    ar_restless_window(&r, 0, &per_page);
    ok(r.offset == 0, "page 5 of size 0 -> offset 0");

    /* q= chose its own window */
    no_err(rlq("{\"limit\":7}", &r), "window: q limit 7");
    ar_restless_window(&r, 1000, &per_page);
    ok(r.limit == 7 && r.offset == 0 && per_page == 10 && r.count == AR_COUNT_EXACT,
       "q limit wins, per_page still reported, still counted");
    no_err(rl("page=4&q={\"limit\":7,\"offset\":3}", &r), "window: q limit+offset with page 4");
    ar_restless_window(&r, 1000, &per_page);
    ok(r.limit == 7 && r.offset == 3, "q limit/offset win over page");
    no_err(rlq("{\"offset\":3}", &r), "window: q offset only");
    ar_restless_window(&r, 1000, &per_page);
    ok(r.limit == AR_UNSET && r.offset == 3, "q offset only: no page limit (the cap applies later)");
    no_err(rlq("{\"offset\":0}", &r), "window: q offset 0");
    ar_restless_window(&r, 1000, &per_page);
    ok(r.limit == 10 && r.offset == 0, "q offset 0 is no window of its own");

    /* far pages do not overflow */
    no_err(rl("page=922337203685477580&results_per_page=10", &r), "window: a huge page");
    ar_restless_window(&r, 0, &per_page);
    ok(r.offset >= 0 && r.limit == 10 && r.offset <= APR_INT64_MAX - 10 - r.limit,
       "huge page: offset %" APR_INT64_T_FMT " in range, offset+limit+1 in range", r.offset);
    no_err(rl("page=3&results_per_page=922337203685477580", &r), "window: a huge page size");
    ar_restless_window(&r, 0, &per_page);
    ok(r.offset >= 0 && r.limit >= 0 && r.offset <= APR_INT64_MAX - 1 - r.limit,
       "huge page size, no cap: offset %" APR_INT64_T_FMT " + limit %" APR_INT64_T_FMT
       " + 1 in range", r.offset, r.limit);
    is_err(rl("page=2&results_per_page=9000000000000000000", &r), AR_ERR_BAD_PARAM,
           "results_per_page 9e18 (past AR_MAX_COUNT) -> BAD_PARAM");
    no_err(rl(apr_psprintf(pool, "page=%" APR_INT64_T_FMT "&results_per_page=%" APR_INT64_T_FMT,
                           AR_MAX_COUNT, AR_MAX_COUNT), &r),
           "window: page AR_MAX_COUNT of AR_MAX_COUNT");
    ar_restless_window(&r, 0, &per_page);
    ok(r.offset >= 0 && r.limit >= 0 && r.offset <= APR_INT64_MAX - 1 - r.limit,
       "largest page of the largest size, no cap: offset %" APR_INT64_T_FMT " + limit %"
       APR_INT64_T_FMT " + 1 in range", r.offset, r.limit);
    no_err(rl("page=2&results_per_page=900000000000000000", &r), "window: page 2 of 9e17");
    ar_restless_window(&r, 0, &per_page);
    ok(r.offset >= 0 && r.limit >= 0 && r.offset <= APR_INT64_MAX - 1 - r.limit,
       "page 2 of 9e17, no cap: offset %" APR_INT64_T_FMT " + limit %" APR_INT64_T_FMT
       " + 1 in range", r.offset, r.limit);
    no_err(rl("page=2", &r), "window: count already asked");
    r.count = AR_COUNT_PLANNED;
    ar_restless_window(&r, 0, &per_page);
    ok(r.count == AR_COUNT_EXACT, "the window always counts exactly");
}

/* -------------------------------------------------------------- numbers */

/* limit, offset, page, results_per_page and Range bounds: 0..AR_MAX_COUNT,
 * refused past it however many digits; never wrapped into range. */
static void test_numbers(void)
{
    static const char *const too_big[] = {
        "1000000000000000001",   /* AR_MAX_COUNT + 1 */
        "9223372036854775807",   /* 2^63 - 1 */
        "9223372036854775808",   /* 2^63: wraps to INT64_MIN in a signed multiply */
        "18446744073709551621",  /* 2^64 + 5 */
        "92233720368547758085",  /* 5 * 2^64 + 5: wraps to 5 */
        "99999999999999999999",
        "000000000000000000000000000001000000000000000001",
    };
    ar_read_request r;
    ar_request_headers h = {NULL, NULL, NULL, NULL, NULL, NULL, AR_WRITE_NONE, 0, 0};
    size_t i;

    no_err(pg(apr_psprintf(pool, "limit=%" APR_INT64_T_FMT "&offset=%" APR_INT64_T_FMT,
                           AR_MAX_COUNT, AR_MAX_COUNT), &r), "limit and offset AR_MAX_COUNT");
    ok(r.limit == AR_MAX_COUNT && r.offset == AR_MAX_COUNT, "  both kept");
    no_err(pg("limit=0000000000000000000000000000005", &r), "leading zeros");
    ok(r.limit == 5, "  limit 5");
    for (i = 0; i < sizeof(too_big) / sizeof(*too_big); i++) {
        ar_error *e;
        is_err(pg(apr_pstrcat(pool, "limit=", too_big[i], NULL), &r), AR_ERR_BAD_PARAM,
               "limit=%s -> BAD_PARAM", too_big[i]);
        if (r.limit != AR_UNSET)
            printf("#   got limit %" APR_INT64_T_FMT "\n", r.limit);
        is_err(pg(apr_pstrcat(pool, "offset=", too_big[i], NULL), &r), AR_ERR_BAD_PARAM,
               "offset=%s -> BAD_PARAM", too_big[i]);
        is_err(rl(apr_pstrcat(pool, "page=", too_big[i], NULL), &r), AR_ERR_BAD_PARAM,
               "page=%s -> BAD_PARAM", too_big[i]);
        is_err(rl(apr_pstrcat(pool, "results_per_page=", too_big[i], NULL), &r),
               AR_ERR_BAD_PARAM, "results_per_page=%s -> BAD_PARAM", too_big[i]);
        h.range = apr_pstrcat(pool, too_big[i], "-", NULL);
        e = ar_query_parse(pool, AR_DIALECT_POSTGREST, "/film", NULL, &h, &r);
        ok(e && e->kind == AR_ERR_BAD_RANGE, "Range: %s -> BAD_RANGE", h.range);
        if (!e)
            printf("#   got no error, offset %" APR_INT64_T_FMT "\n", r.offset);
        h.range = apr_pstrcat(pool, "0-", too_big[i], NULL);
        e = ar_query_parse(pool, AR_DIALECT_POSTGREST, "/film", NULL, &h, &r);
        ok(e && e->kind == AR_ERR_BAD_RANGE, "Range: %s -> BAD_RANGE", h.range);
        if (!e)
            printf("#   got no error, limit %" APR_INT64_T_FMT "\n", r.limit);
    }
    h.range = apr_psprintf(pool, "%" APR_INT64_T_FMT "-", AR_MAX_COUNT);
    is_err(ar_query_parse(pool, AR_DIALECT_POSTGREST, "/film", "offset=1", &h, &r),
           AR_ERR_BAD_RANGE, "offset 1 + Range AR_MAX_COUNT- -> BAD_RANGE");
    no_err(ar_query_parse(pool, AR_DIALECT_POSTGREST, "/film", "offset=0", &h, &r),
           "offset 0 + Range AR_MAX_COUNT-");
    ok(r.offset == AR_MAX_COUNT, "  offset AR_MAX_COUNT");
}

/* --------------------------------------------------------------- schema */

static ar_schema *schema;
static ar_exposure expo;

static void addcol(ar_relation *r, const char *name, const char *type, ar_encoding enc,
                   int nullable, int sortable)
{
    kit_column(r, name, type, enc, nullable, sortable);
}

static ar_relation *mkrel(const char *schema_name, const char *name)
{
    return kit_relation(pool, schema, schema_name, name);
}

static ar_key *key1(int col)
{
    return kit_key(pool, "pkey", col, -1);
}

static void build_schema(void)
{
    ar_relation *r;
    apr_array_header_t *schemas = apr_array_make(pool, 2, sizeof(const char *));

    schema = ar_schema_create(pool);
    r = mkrel("public", "film");
    addcol(r, "id", "integer", AR_ENC_NUMBER, 0, 1);                   /* 0 */
    addcol(r, "title", "text", AR_ENC_STRING, 0, 1);                   /* 1 */
    addcol(r, "year", "integer", AR_ENC_NUMBER, 1, 1);                 /* 2 */
    addcol(r, "rating", "numeric", AR_ENC_NUMBER, 1, 1);               /* 3 */
    addcol(r, "tsv", "tsvector", AR_ENC_STRING, 1, 0);                 /* 4 */
    addcol(r, "plot", "text", AR_ENC_STRING, 1, 1);                    /* 5 */
    addcol(r, "info", "jsonb", AR_ENC_JSON, 1, 0);                     /* 6 */
    addcol(r, "data", "json", AR_ENC_JSON, 1, 0);                      /* 7 */
    addcol(r, "tags", "text[]", AR_ENC_ARRAY, 1, 0);                   /* 8 */
    addcol(r, "origin", "origin_t", AR_ENC_SQL_JSON, 1, 0);            /* 9 */
    addcol(r, "secret", "text", AR_ENC_STRING, 1, 1);                  /* 10, hidden */
    addcol(r, "Mixed Col", "text", AR_ENC_STRING, 1, 1);               /* 11 */
    addcol(r, "born", "timestamp with time zone", AR_ENC_TIMESTAMP, 1, 1); /* 12 */
    r->primary_key = key1(0);

    r = mkrel("public", "nokey");
    addcol(r, "a", "text", AR_ENC_STRING, 1, 1);
    addcol(r, "b", "integer", AR_ENC_NUMBER, 1, 1);
    addcol(r, "j", "jsonb", AR_ENC_JSON, 1, 0);

    r = mkrel("api", "things");
    addcol(r, "id", "integer", AR_ENC_NUMBER, 0, 1);
    addcol(r, "name", "text", AR_ENC_STRING, 1, 1);
    r->primary_key = key1(0);

    r = mkrel("private", "stuff");
    addcol(r, "id", "integer", AR_ENC_NUMBER, 0, 1);
    r->primary_key = key1(0);

    APR_ARRAY_PUSH(schemas, const char *) = "public";
    APR_ARRAY_PUSH(schemas, const char *) = "api";
    expo.schemas = schemas;
    expo.excluded = apr_hash_make(pool);
    expo.hidden = apr_hash_make(pool);
    apr_hash_set(expo.hidden, "public.film.secret", APR_HASH_KEY_STRING, "");
}

/* ------------------------------------------------------------- planning */

static ar_error *plan_h(ar_dialect d, const char *path, const char *args, const char *prefer,
                        const char *accept, const char *profile, apr_int64_t max_rows,
                        ar_read_request *req, ar_read_plan *plan)
{
    ar_error *e = parse_full(d, path, args, prefer, accept, profile, req);

    if (e)
        return e;
    return ar_plan_read(pool, schema, &expo, req, max_rows, plan);
}

static ar_error *plan(const char *path, const char *args, ar_read_plan *out)
{
    ar_read_request req;

    return plan_h(AR_DIALECT_POSTGREST, path, args, NULL, NULL, NULL, 0, &req, out);
}

static const char *enc_name(ar_encoding e)
{
    static const char *const n[] = {"STRING", "NUMBER", "BOOL", "JSON", "TIMESTAMP", "ARRAY",
                                    "SQL_JSON", "EMBED"};
    return (int)e >= 0 && e <= AR_ENC_EMBED ? n[e] : "(bad)";
}

/* name=column[path]::cast/ENC, ... */
static const char *columns_str(const ar_read_plan *p)
{
    const char *s = "";
    int i;

    for (i = 0; p->columns && i < p->columns->nelts; i++) {
        const ar_output_column *oc = &APR_ARRAY_IDX(p->columns, i, ar_output_column);
        s = apr_pstrcat(pool, s, i ? ", " : "", oc->name, "=", oc->column->name,
                        path_str(oc->path), oc->cast ? "::" : "", oc->cast ? oc->cast : "", "/",
                        enc_name(oc->enc), NULL);
    }
    return s;
}

static const char *terms_str(const ar_read_plan *p)
{
    const char *s = "";
    int i;

    for (i = 0; p->order && i < p->order->nelts; i++) {
        const ar_order_term *t = &APR_ARRAY_IDX(p->order, i, ar_order_term);
        s = apr_pstrcat(pool, s, i ? "," : "", t->column->name, path_str(t->path),
                        t->desc ? " desc" : "",
                        t->nulls == AR_NULLS_FIRST ? " nullsfirst"
                        : t->nulls == AR_NULLS_LAST ? " nullslast" : "", NULL);
    }
    return s;
}

/* Every leaf (and its other field) points at a column of rel. */
static int all_resolved(const ar_cond *c, const ar_relation *rel)
{
    int i;

    if (c->kind == AR_COND_LEAF) {
        const ar_column *first = &APR_ARRAY_IDX(rel->columns, 0, ar_column);
        const ar_column *last = first + rel->columns->nelts - 1;
        if (!c->field.ref || c->field.ref < first || c->field.ref > last
            || strcmp(c->field.ref->name, c->field.column) != 0)
            return 0;
        if (c->other && (!c->other->ref || strcmp(c->other->ref->name, c->other->column) != 0))
            return 0;
        return 1;
    }
    for (i = 0; i < c->children->nelts; i++)
        if (!all_resolved(APR_ARRAY_IDX(c->children, i, const ar_cond *), rel))
            return 0;
    return 1;
}

static int none_resolved(const ar_cond *c)
{
    int i;

    if (c->kind == AR_COND_LEAF)
        return c->field.ref == NULL && (!c->other || c->other->ref == NULL);
    for (i = 0; i < c->children->nelts; i++)
        if (!none_resolved(APR_ARRAY_IDX(c->children, i, const ar_cond *)))
            return 0;
    return 1;
}

static void test_plan(void)
{
    ar_read_plan p;
    ar_read_request req;
    ar_error *e, *e2;

    /* select */
    no_err(plan("/film", NULL, &p), "plan film");
    is_str(columns_str(&p),
           "id=id/NUMBER, title=title/STRING, year=year/NUMBER, rating=rating/NUMBER, "
           "tsv=tsv/STRING, plot=plot/STRING, info=info/JSON, data=data/JSON, tags=tags/ARRAY, "
           "origin=origin/JSON, Mixed Col=Mixed Col/STRING, born=born/TIMESTAMP",
           "no select: every visible column, SQL_JSON arrives as JSON, secret hidden");
    no_err(plan("/film", "select=*", &p), "select=*");
    ok(p.columns->nelts == 12, "select=* expands to the 12 visible columns");
    no_err(plan("/film", "select=title,*", &p), "select=title,*");
    ok(p.columns->nelts == 13
           && strcmp(APR_ARRAY_IDX(p.columns, 0, ar_output_column).name, "title") == 0,
       "select=title,*: title then the 12");
    no_err(plan("/film", "select=t:title,id::text,n:rating::numeric,origin", &p), "alias and cast");
    is_str(columns_str(&p), "t=title/STRING, id=id::text/JSON, n=rating::numeric/JSON, "
                            "origin=origin/JSON",
           "alias names the key; a cast is rendered by to_json: JSON");
    no_err(plan("/film", "select=info->a->>b,info->a,x:info->>k,tags->0,info->c->>0", &p),
           "JSON path outputs");
    is_str(columns_str(&p),
           "b=info->'a'->>'b'/STRING, a=info->'a'/JSON, x=info->>'k'/STRING, "
           "0=tags->0/JSON, 0=info->'c'->>0/STRING",
           "path outputs: named by the last key, ->> STRING, -> JSON");
    no_err(plan("/film", "select=v:info->>n::int", &p), "path and cast");
    is_str(columns_str(&p), "v=info->>'n'::int/JSON", "a cast wins over ->>: JSON");
    e = plan("/film", "select=secret", &p);
    is_err(e, AR_ERR_UNKNOWN_COLUMN, "select=secret (hidden) -> UNKNOWN_COLUMN");
    e2 = plan("/film", "select=secreT", &p);
    is_err(e2, AR_ERR_UNKNOWN_COLUMN, "select=secreT (unknown) -> UNKNOWN_COLUMN");
    ok(e && e2 && ar_error_status(e) == 400 && strcmp(e->code, "AR105") == 0
           && e->details == NULL && e2->details == NULL && e->hint && e2->hint
           && strcmp(e->hint, e2->hint) == 0,
       "hidden and unknown columns answer alike (400 AR105, same hint)");
    is_str(e ? e->message : NULL, "column 'secret' does not exist in 'film'",
           "hidden column message: does not exist");
    is_err(plan("/film", "select=id,nope", &p), AR_ERR_UNKNOWN_COLUMN, "unknown after a good one");
    is_err(plan("/film", "select=secret->>x", &p), AR_ERR_UNKNOWN_COLUMN, "a path on a hidden column");
    is_err(plan("/film", "select=x:secret::text", &p), AR_ERR_UNKNOWN_COLUMN,
           "an alias and cast on a hidden column");
    is_err(plan("/film", "select=ID", &p), AR_ERR_UNKNOWN_COLUMN, "names are case-sensitive");
    no_err(plan("/film", "select=%22Mixed Col%22", &p), "a quoted column with a space");
    is_str(columns_str(&p), "Mixed Col=Mixed Col/STRING", "  resolved");

    /* where */
    no_err(plan_h(AR_DIALECT_POSTGREST, "/film", "year=gt.1990&or=(title.eq.x,and(id.lt.3,"
                  "info->>a.is.null))", NULL, NULL, NULL, 0, &req, &p), "plan a filter tree");
    ok(p.where && all_resolved(p.where, p.relation), "every leaf's field.ref set to its column");
    ok(req.where && none_resolved(req.where), "the request itself is left untouched");
    ok(p.where && APR_ARRAY_IDX(p.where->children, 0, const ar_cond *)->field.ref
                      == &APR_ARRAY_IDX(p.relation->columns, 2, ar_column),
       "year=gt.1990 -> the year column");
    is_err(plan("/film", "nope=eq.1", &p), AR_ERR_UNKNOWN_COLUMN, "unknown filter column");
    is_err(plan("/film", "secret=eq.1", &p), AR_ERR_UNKNOWN_COLUMN, "hidden filter column");
    is_err(plan("/film", "secret=is.null", &p), AR_ERR_UNKNOWN_COLUMN, "hidden, is.null");
    is_err(plan("/film", "or=(id.eq.1,and(title.eq.x,not.or(nope.eq.2)))", &p),
           AR_ERR_UNKNOWN_COLUMN, "unknown column deep in a tree");
    is_err(plan("/film", "or=(id.eq.1,secret->>a.eq.2)", &p), AR_ERR_UNKNOWN_COLUMN,
           "hidden column with a path in a tree");
    no_err(plan_h(AR_DIALECT_RESTLESS, "/film", "q={\"filters\":[{\"name\":\"year\",\"op\":\"<\","
                  "\"field\":\"rating\"}]}", NULL, NULL, NULL, 0, &req, &p), "restless field");
    ok(p.where && all_resolved(p.where, p.relation)
           && APR_ARRAY_IDX(p.where->children, 0, const ar_cond *)->other->ref
                  == &APR_ARRAY_IDX(p.relation->columns, 3, ar_column),
       "the other field resolved to rating");
    is_err(plan_h(AR_DIALECT_RESTLESS, "/film", "q={\"filters\":[{\"name\":\"year\",\"op\":\"<\","
                  "\"field\":\"secret\"}]}", NULL, NULL, NULL, 0, &req, &p),
           AR_ERR_UNKNOWN_COLUMN, "other field hidden -> UNKNOWN_COLUMN");
    is_err(plan_h(AR_DIALECT_RESTLESS, "/film", "q={\"filters\":[{\"name\":\"year\",\"op\":\"<\","
                  "\"field\":\"nope\"}]}", NULL, NULL, NULL, 0, &req, &p),
           AR_ERR_UNKNOWN_COLUMN, "other field unknown -> UNKNOWN_COLUMN");
    is_err(plan_h(AR_DIALECT_RESTLESS, "/film", "q={\"order_by\":[{\"field\":\"secret\"}]}", NULL,
                  NULL, NULL, 0, &req, &p), AR_ERR_UNKNOWN_COLUMN, "order_by hidden -> UNKNOWN_COLUMN");

    /* order */
    no_err(plan("/film", NULL, &p), "default order");
    is_str(terms_str(&p), "id", "film: by its primary key");
    no_err(plan("/film", "order=title.desc", &p), "order=title.desc");
    is_str(terms_str(&p), "title desc,id", "asked first, then the key as tie-breaker");
    no_err(plan("/film", "order=id.desc", &p), "order=id.desc");
    is_str(terms_str(&p), "id desc", "the key asked already: not repeated");
    no_err(plan("/film", "order=year.nullsfirst,id.desc.nullslast,title", &p), "three terms");
    is_str(terms_str(&p), "year nullsfirst,id desc nullslast,title", "key inside: not appended");
    no_err(plan("/film", "order=info->>a.desc", &p), "order by a path");
    is_str(terms_str(&p), "info->>'a' desc,id", "a path term, then the key");
    no_err(plan("/film", "order=id->>a", &p), "order by a path into the key column");
    is_str(terms_str(&p), "id->>'a',id", "a path into id does not count as id");
    no_err(plan("/nokey", "order=b.desc", &p), "nokey order=b.desc");
    is_str(terms_str(&p), "b desc,a", "no key: asked, then the other sortable columns");
    no_err(plan("/nokey", "order=j", &p), "order by a non-sortable column when asked");
    is_str(terms_str(&p), "j,a,b", "j asked, then a, b");
    is_err(plan("/film", "order=secret", &p), AR_ERR_UNKNOWN_COLUMN, "order by hidden");
    is_err(plan("/film", "order=nope.desc", &p), AR_ERR_UNKNOWN_COLUMN, "order by unknown");

    /* Accept-Profile */
    no_err(plan_h(AR_DIALECT_POSTGREST, "/things", NULL, NULL, NULL, "api", 0, &req, &p),
           "Accept-Profile: api, /things");
    ok(p.relation && strcmp(p.relation->schema, "api") == 0, "  api.things");
    is_err(plan("/things", NULL, &p), AR_ERR_NO_RELATION, "/things without a profile -> NO_RELATION");
    is_err(plan_h(AR_DIALECT_POSTGREST, "/film", NULL, NULL, NULL, "api", 0, &req, &p),
           AR_ERR_NO_RELATION, "Accept-Profile: api, /film -> NO_RELATION");
    no_err(plan_h(AR_DIALECT_POSTGREST, "/film", NULL, NULL, NULL, "public", 0, &req, &p),
           "Accept-Profile: public, /film");
    e = plan_h(AR_DIALECT_POSTGREST, "/film", NULL, NULL, NULL, "private", 0, &req, &p);
    is_err(e, AR_ERR_UNKNOWN_PROFILE, "Accept-Profile: private (not exposed) -> UNKNOWN_PROFILE");
    ok(e && ar_error_status(e) == 406 && strcmp(e->code, "AR403") == 0, "  406 AR403");
    is_err(plan_h(AR_DIALECT_POSTGREST, "/stuff", NULL, NULL, NULL, "private", 0, &req, &p),
           AR_ERR_UNKNOWN_PROFILE, "  even for a relation that exists there");
    is_err(plan_h(AR_DIALECT_POSTGREST, "/film", NULL, NULL, NULL, "nope", 0, &req, &p),
           AR_ERR_UNKNOWN_PROFILE, "Accept-Profile: nope -> UNKNOWN_PROFILE");
    no_err(plan_h(AR_DIALECT_POSTGREST, "/api.things", NULL, NULL, NULL, "public", 0, &req, &p),
           "Accept-Profile: public, /api.things (qualified)");

    /* one object */
    no_err(plan_h(AR_DIALECT_POSTGREST, "/film", NULL, NULL, "application/vnd.pgrst.object+json",
                  NULL, 0, &req, &p), "object media, no cap");
    ok(p.single == 1 && p.limit == 1 && p.probe_next == 1 && p.media == AR_MEDIA_OBJECT,
       "object: single, limit 1, probe the next row");
    no_err(plan_h(AR_DIALECT_POSTGREST, "/film", "limit=20&offset=5", NULL,
                  "application/vnd.pgrst.object+json", NULL, 100, &req, &p), "object with a window");
    ok(p.single == 1 && p.limit == 1 && p.probe_next == 1 && p.offset == 5,
       "object with limit 20: limit 1 + probe, offset kept");
    no_err(plan_h(AR_DIALECT_POSTGREST, "/film", "limit=1", NULL,
                  "application/vnd.pgrst.object+json", NULL, 100, &req, &p), "object, limit=1");
    ok(p.single == 1 && p.limit == 1 && p.probe_next == 0, "object with limit 1: no probe");
    no_err(plan_h(AR_DIALECT_RESTLESS, "/film", "q={\"single\":true}", NULL, NULL, NULL, 10, &req,
                  &p), "restless single");
    ok(p.single == 1 && p.limit == 1 && p.probe_next == 1, "q single: limit 1 + probe");
    no_err(plan_h(AR_DIALECT_POSTGREST, "/film/7", "select=title", NULL, NULL, NULL, 10, &req, &p),
           "single row with select");
    ok(p.single == 1 && p.limit == 1 && p.probe_next == 0 && p.pk_value
           && strcmp(p.pk_value, "7") == 0 && p.pk_column && strcmp(p.pk_column->name, "id") == 0,
       "/film/7: pk id = 7, limit 1");
    is_str(columns_str(&p), "title=title/STRING", "  select applies to a single row");
    is_err(plan("/film/7", "select=secret", &p), AR_ERR_UNKNOWN_COLUMN, "/film/7?select=secret");

    /* count and media travel */
    no_err(plan_h(AR_DIALECT_POSTGREST, "/film", NULL, "count=planned", "text/csv", NULL, 0, &req,
                  &p), "count and csv");
    ok(p.count == AR_COUNT_PLANNED && p.media == AR_MEDIA_CSV, "  count=planned, CSV");
    no_err(plan_h(AR_DIALECT_POSTGREST, "/film/1", NULL, "count=exact", NULL, NULL, 0, &req, &p),
           "count on a single row");
    ok(p.count == AR_COUNT_NONE, "  a single row is not counted");
}

/* --------------------------------------------------------------- render */

static const char *params_of(const ar_sql *sql)
{
    return sql_params_text(pool, sql);
}

static void render_h(ar_dialect d, const char *path, const char *args, const char *accept,
                     apr_int64_t max_rows, const char *want_sql, const char *want_params,
                     const char *what)
{
    ar_read_request req;
    ar_read_plan p;
    ar_error *e = plan_h(d, path, args, NULL, accept, NULL, max_rows, &req, &p);

    statement_is(pool, e, &p, want_sql, want_params, what);
}

/* /film?select=id&<args>: the WHERE part */
static void where_is(const char *args, const char *want_where, const char *want_params)
{
    render_h(AR_DIALECT_POSTGREST, "/film", apr_pstrcat(pool, "select=id&", args, NULL), NULL, 0,
             apr_pstrcat(pool, "SELECT \"id\" FROM \"public\".\"film\" WHERE ", want_where,
                         " ORDER BY \"id\"", NULL),
             want_params, args);
}

static void test_render_filters(void)
{
    static const struct {
        const char *op, *sql;
    } bin[] = {
        {"eq", "="}, {"neq", "<>"}, {"gt", ">"}, {"gte", ">="}, {"lt", "<"}, {"lte", "<="},
        {"like", "LIKE"}, {"ilike", "ILIKE"}, {"match", "~"}, {"imatch", "~*"},
        {"isdistinct", "IS DISTINCT FROM"}, {"cs", "@>"}, {"cd", "<@"}, {"ov", "&&"},
        {"sl", "<<"}, {"sr", ">>"}, {"nxr", "&<"}, {"nxl", "&>"}, {"adj", "-|-"},
    };
    size_t i;

    for (i = 0; i < sizeof(bin) / sizeof(*bin); i++)
        where_is(apr_psprintf(pool, "year=%s.v", bin[i].op),
                 apr_psprintf(pool, "(\"year\" %s $1)", bin[i].sql), "v");
    where_is("title=like.*the*", "(\"title\" LIKE $1)", "%the%");
    where_is("title=not.eq.x", "(NOT (\"title\" = $1))", "x");
    where_is("id=in.(1,2,3)", "(\"id\" = ANY($1))", "{\"1\",\"2\",\"3\"}");
    where_is("id=not.in.(1)", "(NOT (\"id\" = ANY($1)))", "{\"1\"}");
    where_is("id=in.()", "(\"id\" = ANY($1))", "{}");
    where_is("title=in.(%22a\\%22b%22,%22c\\\\d%22,e f,%22,%22,%7B%7D)", "(\"title\" = ANY($1))",
             "{\"a\\\"b\",\"c\\\\d\",\"e f\",\",\",\"{}\"}");
    where_is("title=in.(null)", "(\"title\" = ANY($1))", "{\"null\"}");
    where_is("q={\"filters\":[{\"name\":\"title\",\"op\":\"in\",\"val\":[\"x\",null,1]}]}",
             "(\"title\" = ANY($1))", "{\"x\",NULL,\"1\"}");
    where_is("year=is.null", "(\"year\" IS NULL)", "");
    where_is("year=is.not_null", "(\"year\" IS NOT NULL)", "");
    where_is("year=is.true", "(\"year\" IS TRUE)", "");
    where_is("year=is.false", "(\"year\" IS FALSE)", "");
    where_is("year=is.unknown", "(\"year\" IS UNKNOWN)", "");
    where_is("year=not.is.null", "(NOT (\"year\" IS NULL))", "");
    where_is("year=isdistinct.2001", "(\"year\" IS DISTINCT FROM $1)", "2001");
    /* full-text search */
    where_is("tsv=fts.cat", "(\"tsv\" @@ to_tsquery($1))", "cat");
    where_is("tsv=fts(french).amis", "(\"tsv\" @@ to_tsquery($1::regconfig, $2))", "french|amis");
    where_is("tsv=plfts.fat cats", "(\"tsv\" @@ plainto_tsquery($1))", "fat cats");
    where_is("tsv=phfts(english).fat cats",
             "(\"tsv\" @@ phraseto_tsquery($1::regconfig, $2))", "english|fat cats");
    where_is("tsv=wfts.a -b", "(\"tsv\" @@ websearch_to_tsquery($1))", "a -b");
    where_is("plot=fts.cat", "(to_tsvector(\"plot\") @@ to_tsquery($1))", "cat");
    where_is("plot=fts(french).amis",
             "(to_tsvector($1::regconfig, \"plot\") @@ to_tsquery($2::regconfig, $3))",
             "french|french|amis");
    where_is("plot=wfts(english).x",
             "(to_tsvector($1::regconfig, \"plot\") @@ websearch_to_tsquery($2::regconfig, $3))",
             "english|english|x");
    where_is("tsv=not.fts.cat", "(NOT (\"tsv\" @@ to_tsquery($1)))", "cat");
    where_is("info->>plot=fts.cat", "(to_tsvector(\"info\"->>($1::text)) @@ to_tsquery($2))",
             "plot|cat");
    /* any / all */
    where_is("title=like(any).{A*,B*}", "(\"title\" LIKE ANY($1))", "{A%,B%}");
    where_is("year=gt(all).{1990,1995}", "(\"year\" > ALL($1))", "{1990,1995}");
    where_is("title=not.eq(any).{a,b}", "(NOT (\"title\" = ANY($1)))", "{a,b}");
    /* trees */
    where_is("or=(year.eq.1,id.gt.2)", "((\"year\" = $1 OR \"id\" > $2))", "1|2");
    where_is("not.or=(year.eq.1,id.gt.2)", "(NOT ((\"year\" = $1 OR \"id\" > $2)))", "1|2");
    where_is("and=(year.eq.1,or(id.gt.2,not.and(title.is.null,plot.like.*x)))",
             "((\"year\" = $1 AND (\"id\" > $2 OR NOT ((\"title\" IS NULL AND \"plot\" LIKE $3)))))",
             "1|2|%x");
    where_is("year=gte.1990&year=lt.2000&or=(id.eq.1,id.eq.2)",
             "(\"year\" >= $1 AND \"year\" < $2 AND (\"id\" = $3 OR \"id\" = $4))",
             "1990|2000|1|2");
    where_is("q={\"filters\":[{\"or\":[]}]}", "(false)", "");
    where_is("q={\"filters\":[{\"and\":[]}]}", "(true)", "");
    where_is("q={\"filters\":[{\"name\":\"year\",\"op\":\"<\",\"field\":\"rating\"}]}",
             "(\"year\" < \"rating\")", "");
    where_is("q={\"filters\":[{\"name\":\"info\",\"op\":\"==\",\"val\":null}]}",
             "(\"info\" IS NULL)", "");
    where_is("q={\"filters\":[{\"name\":\"info\",\"op\":\"!=\",\"val\":null}]}",
             "(NOT (\"info\" IS NULL))", "");
    /* JSON paths */
    where_is("info->director->>name=eq.Ang Lee", "(\"info\"->($1::text)->>($2::text) = $3)",
             "director|name|Ang Lee");
    where_is("info->cast->>0=eq.Al", "(\"info\"->($1::text)->>($2::int) = $3)", "cast|0|Al");
    where_is("data->a->0=gt.1", "(\"data\"->($1::text)->($2::int) > $3)", "a|0|1");
    where_is("tags->>0=eq.drama", "(to_jsonb(\"tags\")->>($1::int) = $2)", "0|drama");
    where_is("origin->>country=eq.France", "(to_jsonb(\"origin\")->>($1::text) = $2)",
             "country|France");
    where_is("origin->>city=is.null", "(to_jsonb(\"origin\")->>($1::text) IS NULL)", "city");
    where_is("info->>runtime=in.(90,95)", "(\"info\"->>($1::text) = ANY($2))",
             "runtime|{\"90\",\"95\"}");
    where_is("%22Mixed Col%22=eq.x", "(\"Mixed Col\" = $1)", "x");
    /* values are bound, keys too */
    where_is("title=eq.'; DROP TABLE film; --", "(\"title\" = $1)", "'; DROP TABLE film; --");
    where_is("info->>x'); DROP TABLE film; --=eq.1", "(\"info\"->>($1::text) = $2)",
             "x'); DROP TABLE film; --|1");
    where_is("or=(title.eq.%22a'),(b%22,title.like.*'--*)", "((\"title\" = $1 OR \"title\" LIKE $2))",
             "a'),(b|%'--%");
}

static void test_render_select(void)
{
    render_h(AR_DIALECT_POSTGREST, "/film",
             "select=id,t:title,year::text,n:rating::numeric,info->>runtime,origin,o:origin,"
             "d:data->a->0,c:tags->>0::int", NULL, 0,
             "SELECT \"id\", \"title\" AS \"t\", to_json((\"year\")::text) AS \"year\","
             " to_json((\"rating\")::numeric) AS \"n\", \"info\"->>($1::text) AS \"runtime\","
             " to_json(\"origin\") AS \"origin\", to_json(\"origin\") AS \"o\","
             " \"data\"->($2::text)->($3::int) AS \"d\","
             " to_json((to_jsonb(\"tags\")->>($4::int))::int) AS \"c\""
             " FROM \"public\".\"film\" ORDER BY \"id\"",
             "runtime|a|0|0", "JSON select list: alias, casts, paths, to_json of SQL_JSON");
    render_h(AR_DIALECT_POSTGREST, "/film",
             "select=id,t:title,year::text,n:rating::numeric,info->>runtime,origin,c:tags->>0::int",
             "text/csv", 0,
             "SELECT \"id\" AS \"id\", \"title\" AS \"t\", (\"year\")::text AS \"year\","
             " (\"rating\")::numeric AS \"n\", \"info\"->>($1::text) AS \"runtime\","
             " \"origin\" AS \"origin\", (to_jsonb(\"tags\")->>($2::int))::int AS \"c\""
             " FROM \"public\".\"film\" ORDER BY \"id\"",
             "runtime|0", "CSV select list: no to_json, casts as (expr)::type");
    render_h(AR_DIALECT_POSTGREST, "/film", "select=%22we\\%22ird%22:%22Mixed Col%22", NULL, 0,
             "SELECT \"Mixed Col\" AS \"we\"\"ird\" FROM \"public\".\"film\" ORDER BY \"id\"", "",
             "a quoted alias with a quote is quoted again");
    render_h(AR_DIALECT_POSTGREST, "/film", "select=x:title::double%20precision", NULL, 0,
             "SELECT to_json((\"title\")::double precision) AS \"x\" FROM \"public\".\"film\""
             " ORDER BY \"id\"", "", "a two-word cast");

    /* ORDER BY */
    render_h(AR_DIALECT_POSTGREST, "/film",
             "select=id&order=year.desc.nullslast,title.nullsfirst,info->>a.desc", NULL, 0,
             "SELECT \"id\" FROM \"public\".\"film\" ORDER BY \"year\" DESC NULLS LAST,"
             " \"title\" NULLS FIRST, \"info\"->>($1::text) DESC, \"id\"",
             "a", "ORDER BY with NULLS FIRST/LAST, DESC, a path, the key last");
    render_h(AR_DIALECT_POSTGREST, "/film", "select=x:info->>k&order=info->>k", NULL, 0,
             "SELECT \"info\"->>($1::text) AS \"x\" FROM \"public\".\"film\""
             " ORDER BY \"info\"->>($2::text), \"id\"",
             "k|k", "the same path in select and order: bound twice");
    render_h(AR_DIALECT_POSTGREST, "/nokey", "order=b.desc&limit=5&offset=10", NULL, 0,
             "SELECT \"a\", \"b\", \"j\" FROM \"public\".\"nokey\" ORDER BY \"b\" DESC, \"a\""
             " LIMIT 6 OFFSET $1", "10", "a relation without a key: asked term, then the rest");
    render_h(AR_DIALECT_POSTGREST, "/film", "select=id&year=eq.1&order=title&limit=3", NULL, 0,
             "SELECT \"id\", \"title\" FROM \"public\".\"film\" WHERE (\"year\" = $1)"
             " ORDER BY \"title\", \"id\" LIMIT 4", "1",
             "WHERE, ORDER BY, LIMIT: parameters in text order (keyset: an order term not"
             " selected ends the select list; a selected one is read from its column)");
    render_h(AR_DIALECT_POSTGREST, "/film/7", "select=title,info->>a", NULL, 0,
             "SELECT \"title\", \"info\"->>($1::text) AS \"a\" FROM \"public\".\"film\""
             " WHERE \"id\" = $2 LIMIT 1", "a|7", "single row with a path select");
    render_h(AR_DIALECT_POSTGREST, "/film", "select=id", "application/vnd.pgrst.object+json", 0,
             "SELECT \"id\" FROM \"public\".\"film\" ORDER BY \"id\" LIMIT 2", "",
             "object: LIMIT 2 (one row and the probe)");
    render_h(AR_DIALECT_RESTLESS, "/nokey",
             "q={\"filters\":[{\"name\":\"b\",\"op\":\">=\",\"val\":3}],\"order_by\":"
             "[{\"field\":\"a\",\"direction\":\"desc\"}],\"limit\":4}", NULL, 0,
             "SELECT \"a\", \"b\", \"j\" FROM \"public\".\"nokey\" WHERE (\"b\" >= $1)"
             " ORDER BY \"a\" DESC, \"b\" LIMIT 5", "3", "restless q: filter, order_by, limit");
    /* A q= limit past what limit= accepts must not reach limit+1 overflow. */
    {
        ar_read_request req;
        ar_read_plan p;
        ar_sql sql;
        ar_error *e = plan_h(AR_DIALECT_RESTLESS, "/nokey", "q={\"limit\":9223372036854775807}",
                             NULL, NULL, NULL, 0, &req, &p);
        if (e)
            ok(e->kind == AR_ERR_BAD_Q, "q limit 2^63-1, no cap: refused");
        else {
            ar_sql_render_read(pool, &p, &sql);
            ok(sql.params->nelts == 1
                   && APR_ARRAY_IDX(sql.params, 0, const char *)[0] != '-',
               "q limit 2^63-1, no cap: LIMIT not negative (got %s)", params_of(&sql));
        }
    }
}

static void count_is(const char *args, ar_count how, apr_int64_t threshold, const char *want_sql,
                     const char *want_params, const char *what)
{
    ar_read_request req;
    ar_read_plan p;
    ar_sql sql;
    ar_error *e = plan_h(AR_DIALECT_POSTGREST, "/film", args, NULL, NULL, NULL, 25, &req, &p);

    if (e) {
        ok(0, "%s: planned (%s)", what, e->message);
        ok(0, "%s: params", what);
        return;
    }
    ar_sql_render_count(pool, &p, how, threshold, &sql);
    is_str(sql.text, want_sql, "%s: SQL", what);
    is_str(params_of(&sql), want_params, "%s: params", what);
}

static void test_render_count(void)
{
    count_is("year=eq.1999&order=title&limit=5&offset=10", AR_COUNT_EXACT, 0,
             "SELECT count(*) FROM \"public\".\"film\" WHERE (\"year\" = $1)", "1999",
             "exact: the filter, no order, no window");
    count_is(NULL, AR_COUNT_EXACT, 0, "SELECT count(*) FROM \"public\".\"film\"", "",
             "exact, no filter");
    count_is("year=eq.1999&limit=5", AR_COUNT_PLANNED, 0,
             "EXPLAIN (FORMAT JSON) SELECT 1 FROM \"public\".\"film\" WHERE (\"year\" = $1)",
             "1999", "planned: EXPLAIN of the filtered relation");
    count_is("year=eq.1999", AR_COUNT_ESTIMATED, 1000,
             "SELECT count(*) FROM (SELECT 1 FROM \"public\".\"film\" WHERE (\"year\" = $1)"
             " LIMIT 1001) AS bounded", "1999", "estimated: bounded at threshold+1");
    count_is(NULL, AR_COUNT_ESTIMATED, 0,
             "SELECT count(*) FROM (SELECT 1 FROM \"public\".\"film\" LIMIT 1) AS bounded", "",
             "estimated with threshold 0");
    count_is("or=(info->>a.eq.x,tsv.fts(french).chat)", AR_COUNT_EXACT, 0,
             "SELECT count(*) FROM \"public\".\"film\" WHERE ((\"info\"->>($1::text) = $2"
             " OR \"tsv\" @@ to_tsquery($3::regconfig, $4)))", "a|x|french|chat",
             "exact with paths and fts: the same parameters");
}

static void test_plan_rows(void)
{
    is_int(ar_sql_plan_rows("[{\"Plan\":{\"Node Type\":\"Seq Scan\",\"Plan Rows\":1234,"
                            "\"Plan Width\":4}}]"), 1234, "Plan Rows 1234");
    is_int(ar_sql_plan_rows("[\n  {\n    \"Plan\": {\n      \"Plan Rows\": 0\n    }\n  }\n]"), 0,
           "Plan Rows 0, pretty-printed");
    is_int(ar_sql_plan_rows("[{\"Plan\":{\"Plan Rows\":12.7}}]"), 12, "a real: truncated");
    is_int(ar_sql_plan_rows("[{\"Plan\":{\"Plan Rows\":1e3}}]"), 1000, "1e3");
    is_int(ar_sql_plan_rows("[{\"Plan\":{\"Plan Rows\":107820390937500000}}]"),
           APR_INT64_C(107820390937500000), "a large estimate (a 5-way cross join)");
    is_int(ar_sql_plan_rows("[{\"Plan\":{\"Plans\":[{\"Plan Rows\":5}],\"Plan Rows\":9}}]"), 9,
           "the top node's rows, not a child's");
    is_int(ar_sql_plan_rows("[{\"Plan\":{\"Plan Rows\":-5}}]"), 0, "negative -> 0");
    is_int(ar_sql_plan_rows("[{\"Plan\":{\"Plan Rows\":\"5\"}}]"), 0, "a string -> 0");
    is_int(ar_sql_plan_rows("[{\"Plan\":{}}]"), 0, "no Plan Rows -> 0");
    is_int(ar_sql_plan_rows("[{}]"), 0, "no Plan -> 0");
    is_int(ar_sql_plan_rows("[]"), 0, "[] -> 0");
    is_int(ar_sql_plan_rows("{}"), 0, "{} -> 0");
    is_int(ar_sql_plan_rows("garbage"), 0, "garbage -> 0");
    is_int(ar_sql_plan_rows("[{\"Plan\":{\"Plan Rows\":5"), 0, "truncated -> 0");
    is_int(ar_sql_plan_rows(""), 0, "empty -> 0");
    is_int(ar_sql_plan_rows(NULL), 0, "NULL -> 0");
    /* PostgreSQL prints Plan Rows with %.0f: a cross join of seven 2550-row
     * tables is estimated at 701102092071093833564160 rows (seen on PG 15),
     * past int64. That is readable, and far from 0. */
    ok(ar_sql_plan_rows("[{\"Plan\":{\"Plan Rows\":701102092071093833564160}}]") > 0,
       "an estimate past 2^63 (as PostgreSQL prints it) is not 0 (got %" APR_INT64_T_FMT ")",
       ar_sql_plan_rows("[{\"Plan\":{\"Plan Rows\":701102092071093833564160}}]"));
    ok(ar_sql_plan_rows("[{\"Plan\":{\"Plan Rows\":1.5e19}}]") > 0,
       "a real estimate past 2^63 is not 0 (got %" APR_INT64_T_FMT ")",
       ar_sql_plan_rows("[{\"Plan\":{\"Plan Rows\":1.5e19}}]"));
}

/* ------------------------------------------------------------------ CSV */

static int collect(void *ctx, const char *data, apr_size_t len)
{
    char **acc = ctx;

    *acc = apr_pstrcat(pool, *acc, apr_pstrmemdup(pool, data, len), NULL);
    return 0;
}

static const char *csv_of(apr_size_t flush_at, int ncols, const char *const *values)
{
    ar_out o;
    char *acc = "";
    int lens[16], i;

    ar_out_init(&o, pool, flush_at, flush_at ? collect : NULL, &acc);
    for (i = 0; i < ncols; i++)
        lens[i] = values[i] ? (int)strlen(values[i]) : 0;
    ar_csv_write_row(&o, ncols, values, lens);
    if (flush_at) {
        ar_out_flush(&o);
        return acc;
    }
    return apr_pstrmemdup(pool, o.buf, o.len);
}

static void test_csv(void)
{
    static const char *const row[] = {"plain", "a,b", "say \"hi\"", "line1\nline2", "cr\rx", "",
                                      NULL, "\"", "x"};
    static const char *const want =
        "plain,\"a,b\",\"say \"\"hi\"\"\",\"line1\nline2\",\"cr\rx\",\"\",,\"\"\"\",x\r\n";
    apr_array_header_t *cols = apr_array_make(pool, 4, sizeof(ar_output_column));
    ar_output_column *oc;
    ar_out o;
    const char *nulls[] = {NULL, NULL};
    const char *one[] = {"only"};
    int lens[2];

    is_str(csv_of(0, 9, row), want,
           "a row: comma, quote (doubled), LF, CR, empty string, NULL, lone quote, plain");
    is_str(csv_of(1, 9, row), want, "the same through a 1-byte flush threshold");
    is_str(csv_of(7, 9, row), want, "the same through a 7-byte flush threshold");
    is_str(csv_of(0, 2, nulls), ",\r\n", "two NULLs: empty fields, unquoted");
    is_str(csv_of(0, 1, one), "only\r\n", "one column");
    is_str(csv_of(0, 0, one), "\r\n", "no columns: an empty line");
    {
        const char *sp[] = {" lead", "trail ", "a;b", "tab\there"};
        is_str(csv_of(0, 4, sp), " lead,trail ,a;b,tab\there\r\n",
               "spaces, semicolons, tabs: not quoted");
    }
    {
        const char *v[] = {"ab\"cd\"\"e"};
        is_str(csv_of(0, 1, v), "\"ab\"\"cd\"\"\"\"e\"\r\n", "several quotes, adjacent ones too");
    }
    /* lens, not strlen: a value may be a prefix */
    ar_out_init(&o, pool, 0, NULL, NULL);
    {
        const char *v[] = {"abc,def", "xyz"};
        lens[0] = 3;
        lens[1] = 0;
        ar_csv_write_row(&o, 2, v, lens);
    }
    is_str(apr_pstrmemdup(pool, o.buf, o.len), "abc,\"\"\r\n",
           "lengths are honoured: 'abc' (no comma seen), empty -> \"\"");

    oc = apr_array_push(cols);
    memset(oc, 0, sizeof(*oc));
    oc->name = "id";
    oc = apr_array_push(cols);
    memset(oc, 0, sizeof(*oc));
    oc->name = "my, name";
    oc = apr_array_push(cols);
    memset(oc, 0, sizeof(*oc));
    oc->name = "say \"x\"";
    oc = apr_array_push(cols);
    memset(oc, 0, sizeof(*oc));
    oc->name = "";
    ar_out_init(&o, pool, 0, NULL, NULL);
    ar_csv_write_header(&o, cols);
    is_str(apr_pstrmemdup(pool, o.buf, o.len), "id,\"my, name\",\"say \"\"x\"\"\",\"\"\r\n",
           "header: names quoted like values, CRLF");
    ar_out_init(&o, pool, 0, NULL, NULL);
    ar_csv_write_header(&o, apr_array_make(pool, 1, sizeof(ar_output_column)));
    is_str(apr_pstrmemdup(pool, o.buf, o.len), "\r\n", "header of no columns");

    /* header then rows from a real plan */
    {
        ar_read_request req;
        ar_read_plan p;
        ar_error *e = plan_h(AR_DIALECT_POSTGREST, "/film", "select=id,t:title,%22Mixed Col%22",
                             NULL, "text/csv", NULL, 0, &req, &p);
        const char *v[] = {"1", "Heat, the film", NULL};
        int l[] = {1, 14, 0};
        no_err(e, "plan for CSV");
        if (!e) {
            ar_out_init(&o, pool, 0, NULL, NULL);
            ar_csv_write_header(&o, p.columns);
            ar_csv_write_row(&o, 3, v, l);
            is_str(apr_pstrmemdup(pool, o.buf, o.len),
                   "id,t,Mixed Col\r\n1,\"Heat, the film\",\r\n", "a CSV document");
        }
    }
}

/* ----------------------------------------------------------------- main */

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);

    test_select();
    test_operators();
    test_logic();
    test_order();
    test_headers();
    test_restless_parse();
    test_restless_window();
    test_numbers();
    build_schema();
    test_plan();
    test_render_filters();
    test_render_select();
    test_render_count();
    test_plan_rows();
    test_csv();

    apr_pool_destroy(pool);
    apr_terminate();
    return tap_done();
}
