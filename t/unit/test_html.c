/* test_html.c: the browsable API's pages of a hand-made schema: escaping,
 * who asks for HTML, what a submitted form sends, a collection and a record
 * with their forms, the index, an error; hidden columns and excluded
 * relations nowhere. */
#include <stdlib.h>

#include <apr_general.h>
#include <apr_hash.h>
#include <apr_strings.h>

#include "ar_html.h"
#include "schema_kit.h"
#include "tap.h"

static const char *escaped(apr_pool_t *p, const char *s)
{
    ar_out o;

    ar_out_init(&o, p, 0, NULL, NULL);
    ar_html_escape(&o, s, strlen(s));
    ar_out_write(&o, "", 1);
    return o.buf;
}

static apr_array_header_t *output_of(apr_pool_t *p, ar_relation *rel, const char *const *names)
{
    apr_array_header_t *cols = apr_array_make(p, 4, sizeof(ar_output_column));

    for (; *names; names++) {
        ar_output_column *oc = apr_array_push(cols);
        ar_column *c = &APR_ARRAY_IDX(rel->columns, ar_relation_column_index(rel, *names),
                                      ar_column);
        memset(oc, 0, sizeof(*oc));
        oc->column = c;
        oc->name = c->name;
        oc->enc = c->enc;
        oc->elem_enc = c->elem_enc;
    }
    return cols;
}

/* A read-only page of REL under /api, showing the columns NAMES. */
static void page_of(apr_pool_t *p, ar_html_page *pg, const ar_exposure *x, ar_relation *rel,
                    const char *const *names)
{
    memset(pg, 0, sizeof(*pg));
    pg->location = "/api";
    pg->path = apr_pstrcat(p, "/api/", rel->name, NULL);
    pg->relation = rel;
    pg->exposure = x;
    pg->columns = output_of(p, rel, names);
}

/* A whole page of one row. */
static const char *render(apr_pool_t *p, ar_html_page *pg, const char *const *values,
                          const char *links, const char *range)
{
    ar_out o;
    const ar_row_format *f = ar_row_format_make(p, pg->columns);
    int lens[8], i;

    for (i = 0; i < f->ncols; i++)
        lens[i] = values[i] ? (int)strlen(values[i]) : 0;
    ar_html_page_init(p, pg);
    ar_out_init(&o, p, 0, NULL, NULL);
    ar_html_open(&o, pg);
    ar_html_row(&o, pg, f, values, lens);
    ar_html_close(&o, pg, 1, links, range);
    ar_out_write(&o, "", 1);
    return o.buf;
}

static int has(const char *page, const char *what)
{
    if (strstr(page, what))
        return 1;
    printf("# not found: %s\n", what);
    return 0;
}

static void requests(apr_pool_t *p)
{
    const ar_body_field *fields;
    const char *method;
    apr_array_header_t *args;
    const char *form = "_method=PATCH&name=a%26b&qty=&tags=%7Bx%7D";
    int n;
    ar_error *e;

    is_str(escaped(p, "<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;",
           "escaping: the five characters HTML gives meaning");
    ok(ar_html_accepted_first("text/html,application/xhtml+xml,application/xml;q=0.9,"
                              "image/avif,image/webp,*/*;q=0.8"),
       "a browser's Accept asks for HTML");
    ok(ar_html_accepted_first(" TEXT/HTML ; q=0.5, */*"), "first with a q, in capitals");
    ok(!ar_html_accepted_first("application/json, text/html"), "listed after JSON: not HTML");
    ok(!ar_html_accepted_first("text/html;q=0, */*") && !ar_html_accepted_first("text/html; q=0.0"),
       "q=0 refuses it");
    ok(!ar_html_accepted_first("text/htmlx") && !ar_html_accepted_first(NULL)
           && !ar_html_accepted_first("*/*"),
       "another type, none, or anything: not HTML");

    is_str(ar_html_drop_empty(p, "a=&b=1&c=&select=x&flag"), "b=1&select=x&flag",
           "a form's empty fields are dropped, the rest kept as sent");
    ok(ar_html_drop_empty(p, "a=&b=") == NULL && ar_html_drop_empty(p, NULL) == NULL,
       "nothing left: no query");
    args = ar_html_args(p, "name=eq.a%20b&or=(x.eq.1,y.eq.2)&n=gt.1+2");
    ok(args->nelts == 3
           && strcmp(APR_ARRAY_IDX(args, 0, ar_call_param).value, "eq.a b") == 0
           && strcmp(APR_ARRAY_IDX(args, 2, ar_call_param).value, "gt.1 2") == 0,
       "the query's pairs, decoded");

    e = ar_html_form_row(p, form, strlen(form), &fields, &n,
                         &method);
    ok(!e && n == 2 && strcmp(method, "PATCH") == 0 && strcmp(fields[0].name, "name") == 0
           && strcmp(fields[0].text, "a&b") == 0 && fields[0].kind == AR_VAL_STRING
           && strcmp(fields[1].text, "{x}") == 0,
       "a form: its method apart, empty fields left out, values decoded");
    e = ar_html_form_row(p, "name=x&sku=&_method=PUT", 23, &fields, &n, &method);
    ok(!e && n == 2 && strcmp(method, "PUT") == 0 && fields[1].kind == AR_VAL_NULL
           && strcmp(fields[1].name, "sku") == 0 && fields[1].text == NULL,
       "a PUT form (its method last): an empty field is NULL, not left out");
    e = ar_html_form_row(p, "name=%zz", 8, &fields, &n, &method);
    ok(e && e->kind == AR_ERR_BAD_BODY && method == NULL, "a malformed escape: AR_ERR_BAD_BODY");
}

int main(void)
{
    static const char *const shown[] = {"id", "name", "active", "meta", NULL};
    static const char *const keyless[] = {"name", NULL};
    static const char *const at_only[] = {"at", NULL};
    const char *stamp[] = {"2024-07-22 17:55:21+00"};
    apr_pool_t *p;
    ar_schema *s;
    ar_relation *items, *vault, *stamped;
    ar_routine *fn;
    ar_column *c;
    apr_array_header_t *schemas;
    ar_exposure x = {0};
    ar_html_page pg;
    apr_hash_t *writable;
    const char *page, *values[] = {"7", "<b>bold</b> & co", "t", NULL};
    char *text;
    apr_size_t len;
    int *bits;
    ar_error *err;

    apr_initialize();
    apr_pool_create(&p, NULL);
    requests(p);

    s = ar_schema_create(p);
    items = kit_relation(p, s, "public", "items");
    items->writable = AR_CAN_INSERT | AR_CAN_UPDATE | AR_CAN_DELETE;
    c = kit_column(items, "id", "integer", AR_ENC_NUMBER, 0, 1);
    c->has_default = c->insertable = c->updatable = 1;
    c = kit_column(items, "name", "text", AR_ENC_STRING, 0, 1);
    c->insertable = c->updatable = 1;
    c = kit_column(items, "active", "boolean", AR_ENC_BOOL, 0, 1);
    c->insertable = c->updatable = 1;
    c = kit_column(items, "meta", "jsonb", AR_ENC_JSON, 1, 0);
    c->insertable = c->updatable = 1;
    c = kit_column(items, "hush", "text", AR_ENC_STRING, 1, 1);
    c->insertable = c->updatable = 1;
    items->primary_key = kit_key(p, "items_pkey", 0, -1);
    vault = kit_relation(p, s, "public", "vault");
    kit_column(vault, "k", "text", AR_ENC_STRING, 0, 1);
    fn = kit_routine(p, s, "public", "add_them", 'i', NULL, AR_RETURNS_SCALAR, 0);
    fn->return_type = "integer";
    kit_arg(fn, "a", "integer", 0);
    kit_arg(fn, "b", "integer", 1);
    schemas = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(schemas, const char *) = "public";
    x.schemas = schemas;
    x.excluded = apr_hash_make(p);
    apr_hash_set(x.excluded, "public.vault", APR_HASH_KEY_STRING, "");
    x.hidden = apr_hash_make(p);
    apr_hash_set(x.hidden, "public.items.hush", APR_HASH_KEY_STRING, "");

    /* a collection */
    page_of(p, &pg, &x, items, shown);
    pg.args = ar_html_args(p, "name=like.*b*&order=id.desc&limit=1");
    pg.methods = AR_METHOD_GET | AR_METHOD_POST | AR_METHOD_PATCH | AR_METHOD_DELETE;
    pg.can = items->writable;
    page = render(p, &pg, values, "</api/items?limit=1&offset=1>; rel=\"next\", "
                                  "</api/items?limit=1&offset=0>; rel=\"first\"", "2-2/*");
    ok(!pg.record && has(page, "<table id=\"rows\"><thead><tr><th>id</th><th>name</th>"
                               "<th>active</th><th>meta</th></tr></thead>"),
       "a collection: a table, the selected columns its header");
    ok(has(page, "<tr><td><a class=\"row\" href=\"/api/items?id=eq.7\">7</a></td>"
                 "<td>&lt;b&gt;bold&lt;/b&gt; &amp; co</td><td>true</td>"
                 "<td class=\"null\">null</td></tr>"),
       "a row: its key links its page, text escaped, a boolean as true, NULL as a null cell");
    ok(has(page, "<input name=\"name\" value=\"like.*b*\"")
           && has(page, "<input name=\"order\" value=\"id.desc\"")
           && has(page, "<input name=\"limit\" value=\"1\"")
           && has(page, "<input name=\"active\" value=\"\""),
       "the filter form: the request's words filled in, the other columns empty");
    ok(has(page, "<a rel=\"first\" href=\"/api/items?limit=1&amp;offset=0\">first</a>"
                 "<span id=\"range\">rows 3 to 3</span>"
                 "<a rel=\"next\" href=\"/api/items?limit=1&amp;offset=1\">next</a>"),
       "the paging links of the Link header, and the rows shown");
    ok(has(page, "<form id=\"insert\" method=\"post\" action=\"/api/items\">")
           && has(page, "<label>name <input name=\"name\" placeholder=\"text\" required>")
           && has(page, "<select name=\"active\" required>"),
       "the insert form: a field per writable column, required where there is no default");
    ok(!strstr(page, "hush") && !strstr(page, "<script") && !strstr(page, "class=\"edit\""),
       "no hidden column, no script, no edit form on a collection");
    pg.can = 0;
    page = render(p, &pg, values, NULL, NULL);
    ok(!strstr(page, "id=\"insert\"") && !strstr(page, "rel=\""),
       "a caller who may not insert: no insert form; no links: no paging");

    /* a record: the filters fix the key */
    pg.args = ar_html_args(p, "id=eq.7");
    pg.can = items->writable;
    page = render(p, &pg, values, NULL, "0-0/1");
    ok(pg.record && has(page, "<table class=\"record\"><tbody>\n<tr><th>id</th><td>7</td></tr>"),
       "id=eq.7: a record");
    ok(has(page, "<form class=\"edit\" method=\"post\" action=\"/api/items?id=eq.7\">"
                 "<input type=\"hidden\" name=\"_method\" value=\"PATCH\">")
           && has(page, "<input name=\"name\" placeholder=\"text\" value=\"&lt;b&gt;bold&lt;/b&gt; "
                        "&amp; co\">")
           && has(page, "<option selected>true</option>"),
       "its edit form: PATCH to the row, prefilled");
    ok(has(page, "<form class=\"delete\" method=\"post\" action=\"/api/items?id=eq.7\">"
                 "<input type=\"hidden\" name=\"_method\" value=\"DELETE\">")
           && !strstr(page, "id=\"insert\"") && !strstr(page, "hush"),
       "its delete form; no insert form, no hidden column");
    ok(!strstr(page, "class=\"replace\""), "PUT not open: no replace form");
    pg.methods |= AR_METHOD_PUT;
    page = render(p, &pg, values, NULL, NULL);
    ok(has(page, "<form class=\"replace\" method=\"post\" action=\"/api/items?id=eq.7\">"
                 "<input type=\"hidden\" name=\"_method\" value=\"PUT\">\n<label>id "
                 "<input name=\"id\" placeholder=\"integer\" value=\"7\">"),
       "PUT open: a replace form, the key among its prefilled fields");
    pg.can = AR_CAN_UPDATE;
    page = render(p, &pg, values, NULL, NULL);
    ok(!strstr(page, "class=\"replace\"") && strstr(page, "class=\"edit\""),
       "a role that may update but not insert: no replace form (PUT may insert)");
    pg.can = items->writable;
    pg.methods = AR_METHOD_GET | AR_METHOD_POST;
    page = render(p, &pg, values, NULL, NULL);
    ok(!strstr(page, "class=\"edit\"") && !strstr(page, "class=\"delete\""),
       "PATCH and DELETE not open: no edit or delete form");

    /* the key not selected: no link to a row */
    pg.args = ar_html_args(p, "id=eq.7");
    pg.columns = output_of(p, items, keyless);
    page = render(p, &pg, values + 1, NULL, NULL);
    ok(!pg.record && !strstr(page, "class=\"row\"") && has(page, "<td>&lt;b&gt;"),
       "the key not shown: no record, no row links");

    /* a timestamp reads as the JSON body has it */
    stamped = kit_relation(p, s, "public", "stamped");
    kit_column(stamped, "at", "timestamp with time zone", AR_ENC_TIMESTAMP, 1, 1);
    page_of(p, &pg, &x, stamped, at_only);
    page = render(p, &pg, stamp, NULL, NULL);
    ok(has(page, "<tr><td>2024-07-22T17:55:21+00:00</td></tr>"),
       "a timestamptz cell: ISO 8601 with a T and the offset in full, as in JSON, no quotes");

    /* the index */
    writable = apr_hash_make(p);
    bits = apr_palloc(p, sizeof(*bits));
    *bits = AR_CAN_INSERT;
    apr_hash_set(writable, "public.items", APR_HASH_KEY_STRING, bits);
    text = ar_html_index(p, s, &x, "/api", AR_METHOD_GET | AR_METHOD_POST | AR_METHOD_DELETE,
                         AR_RPC_READ, writable, &len);
    ok(len == strlen(text) && has(text, "<a class=\"relation\" href=\"/api/items\">items</a></td>"
                                        "<td>table</td><td>GET POST</td>"),
       "the index: a relation, linked, with the methods its role has (POST, not DELETE)");
    ok(has(text, "<a class=\"function\" href=\"/api/rpc/add_them\">add_them</a>")
           && has(text, "<form method=\"get\" action=\"/api/rpc/add_them\">"),
       "a function, linked, with a form of its arguments");
    ok(!strstr(text, "vault") && !strstr(text, "hush"), "no excluded relation");

    err = ar_error_make(p, AR_ERR_BAD_PARAM, "bad <thing>", "it was \"x\"", NULL);
    text = ar_html_error(p, 400, err, "/api", &len);
    ok(has(text, "<main id=\"error\"><p><code>AR102</code> bad &lt;thing&gt;</p>\n"
                 "<p>it was &quot;x&quot;</p>"),
       "an error page: code, message and details, escaped");

    apr_pool_destroy(p);
    apr_terminate();
    return tap_done();
}
