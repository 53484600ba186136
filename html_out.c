/*
 * html_out.c: the browsable API's pages (ar_html.h). Pure core: what a page
 * shows comes from the plan, the reflected relation and the query string;
 * the glue hands over the Link and Content-Range it computed for JSON, so
 * that a page's next link is the API's own.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "autorest.h"
#include "ar_html.h"

const char ar_html_style[] =
    "body{font:14px/1.45 system-ui,sans-serif;margin:1em 2em;color:#222}"
    "a{color:#0645ad}h1{font-size:1.4em;margin:.3em 0}h2{font-size:1.1em}"
    "table{border-collapse:collapse;margin:.6em 0}"
    "th,td{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top;"
    "max-width:40ch;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}"
    "th{background:#f2f2f2}td.null{color:#999;font-style:italic}"
    "form{margin:.8em 0;padding:.5em .8em;border:1px solid #ddd;background:#fafafa}"
    "label{display:inline-block;margin:.2em 1em .2em 0}input,select,button{font:inherit}"
    "nav#pages a,nav#pages span{margin-right:1em}code{background:#f2f2f2;padding:0 .2em}"
    "#error{border-left:4px solid #c33;padding-left:1em}";

/* Words of the read grammar: never a column's filter field. */
static const char *const grammar_words[] = {"select", "order", "limit", "offset", "cursor",
                                            "columns", "on_conflict", "and", "or", "not.and",
                                            "not.or", NULL};

void ar_html_escape(ar_out *o, const char *s, apr_size_t len)
{
    apr_size_t i, run = 0;

    for (i = 0; i < len; i++) {
        const char *entity;
        switch (s[i]) {
        case '&': entity = "&amp;"; break;
        case '<': entity = "&lt;"; break;
        case '>': entity = "&gt;"; break;
        case '"': entity = "&quot;"; break;
        case '\'': entity = "&#39;"; break;
        default: continue;
        }
        ar_out_write(o, s + run, i - run);
        ar_out_puts(o, entity);
        run = i + 1;
    }
    ar_out_write(o, s + run, len - run);
}

static void put_text(ar_out *o, const char *s)
{
    ar_html_escape(o, s, strlen(s));
}

/* A query component: every byte but the unreserved ones %-encoded. */
static void put_query_part(apr_pool_t *p, const char *s, ar_out *o)
{
    char *enc = apr_palloc(p, strlen(s) * 3 + 1), *e = enc;

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (apr_isalnum(c) || strchr("-._~", c))
            *e++ = (char)c;
        else {
            *e++ = '%';
            *e++ = "0123456789ABCDEF"[c >> 4];
            *e++ = "0123456789ABCDEF"[c & 15];
        }
    }
    *e = '\0';
    put_text(o, enc);
}

static void put_head(ar_out *o, const char *title, const char *location, const char *here)
{
    ar_out_puts(o, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                   "<meta name=\"viewport\" content=\"width=device-width\"><title>");
    put_text(o, title);
    ar_out_puts(o, "</title><style>");
    ar_out_puts(o, ar_html_style);
    ar_out_puts(o, "</style></head><body>\n<nav id=\"crumbs\"><a href=\"");
    put_text(o, location);
    ar_out_puts(o, "/\">");
    put_text(o, *location ? location : "/");
    ar_out_puts(o, "</a>");
    if (here) {
        ar_out_puts(o, " / ");
        put_text(o, here);
    }
    ar_out_puts(o, "</nav>\n<h1>");
    put_text(o, title);
    ar_out_puts(o, "</h1>\n");
}

static const char *relation_title(apr_pool_t *p, const ar_html_page *pg)
{
    const ar_relation *rel = pg->relation;
    const char *dflt = APR_ARRAY_IDX(pg->exposure->schemas, 0, const char *);

    return strcmp(rel->schema, dflt) == 0 ? rel->name
                                          : apr_pstrcat(p, rel->schema, ".", rel->name, NULL);
}

/* An output column that is a relation's column as it is (no path, cast,
 * aggregate or embed): the one a form can write back. */
static const ar_column *plain_column(const ar_output_column *oc)
{
    if (!oc->column || oc->embed || oc->spread || oc->path || oc->cast || oc->agg)
        return NULL;
    return oc->column;
}

/* ------------------------------------------------------------ the page */

/* The value of the first pair named name not used yet, marking it used. */
static const char *take_arg(const ar_html_page *pg, char *used, const char *name)
{
    int i;

    for (i = 0; pg->args && i < pg->args->nelts; i++) {
        const ar_call_param *a = &APR_ARRAY_IDX(pg->args, i, ar_call_param);
        if (!used[i] && strcmp(a->name, name) == 0) {
            used[i] = 1;
            return a->value;
        }
    }
    return NULL;
}

void ar_html_page_init(apr_pool_t *p, ar_html_page *pg)
{
    const ar_key *pk = pg->relation ? pg->relation->primary_key : NULL;
    int i, j, fixed = 0;

    ar_out_init(&pg->scratch, p, 0, NULL, NULL);
    pg->key_out = NULL;
    pg->record = 0;
    if (!pk || pk->cols->nelts == 0)
        return;
    pg->key_out = apr_palloc(p, sizeof(int) * (apr_size_t)pk->cols->nelts);
    for (i = 0; i < pk->cols->nelts; i++) {
        const ar_column *kc = &APR_ARRAY_IDX(pg->relation->columns,
                                             APR_ARRAY_IDX(pk->cols, i, int), ar_column);
        pg->key_out[i] = -1;
        for (j = 0; j < pg->columns->nelts; j++)
            if (plain_column(&APR_ARRAY_IDX(pg->columns, j, ar_output_column)) == kc) {
                pg->key_out[i] = j;
                break;
            }
        if (pg->key_out[i] < 0) {
            pg->key_out = NULL; /* no link to a row whose key is not shown */
            return;
        }
        for (j = 0; pg->args && j < pg->args->nelts; j++) {
            const ar_call_param *a = &APR_ARRAY_IDX(pg->args, j, ar_call_param);
            if (strcmp(a->name, kc->name) == 0 && strncmp(a->value, "eq.", 3) == 0) {
                fixed++;
                break;
            }
        }
    }
    pg->record = fixed == pk->cols->nelts;
}

/* One input for a column's value: a choice for booleans and enums, text
 * otherwise. value NULL: empty. */
static void put_input(ar_out *o, const ar_column *c, const char *value, int required)
{
    const apr_array_header_t *labels = c->enum_labels;
    int is_bool = c->enc == AR_ENC_BOOL;

    ar_out_puts(o, "<label>");
    put_text(o, c->name);
    ar_out_puts(o, " ");
    if (is_bool || (labels && c->enc != AR_ENC_ARRAY)) {
        int i;

        ar_out_puts(o, "<select name=\"");
        put_text(o, c->name);
        ar_out_puts(o, required ? "\" required><option value=\"\"></option>"
                                : "\"><option value=\"\"></option>");
        for (i = 0; i < (is_bool ? 2 : labels->nelts); i++) {
            const char *v = is_bool ? (i ? "false" : "true") : APR_ARRAY_IDX(labels, i, const char *);
            int chosen = value && (is_bool ? value[0] == v[0] : strcmp(value, v) == 0);
            ar_out_puts(o, chosen ? "<option selected>" : "<option>");
            put_text(o, v);
            ar_out_puts(o, "</option>");
        }
        ar_out_puts(o, "</select></label>\n");
        return;
    }
    ar_out_puts(o, "<input name=\"");
    put_text(o, c->name);
    ar_out_puts(o, "\" placeholder=\"");
    put_text(o, c->type);
    if (value) {
        ar_out_puts(o, "\" value=\"");
        put_text(o, value);
    }
    ar_out_puts(o, required ? "\" required></label>\n" : "\"></label>\n");
}

/* A labelled text field of the filter form. */
static void put_field(ar_out *o, const char *name, const char *value, const char *placeholder)
{
    ar_out_puts(o, "<label>");
    put_text(o, name);
    ar_out_puts(o, " <input name=\"");
    put_text(o, name);
    ar_out_puts(o, "\" value=\"");
    put_text(o, value ? value : "");
    ar_out_puts(o, "\" placeholder=\"");
    put_text(o, placeholder);
    ar_out_puts(o, "\"></label>\n");
}

static int grammar_word(const char *name)
{
    const char *const *w;

    for (w = grammar_words; *w; w++)
        if (strcmp(*w, name) == 0)
            return 1;
    return 0;
}

/* select, order, limit, a filter per shown column (the URL's own filled
 * in), then the URL's other words; not its paging, which restarts. */
static void put_filter_form(ar_out *o, apr_pool_t *p, const ar_html_page *pg)
{
    int n = pg->args ? pg->args->nelts : 0, i;
    char *used = apr_pcalloc(p, (apr_size_t)n + 1);
    const ar_relation *rel = pg->relation;

    ar_out_puts(o, "<form id=\"filter\" method=\"get\" action=\"");
    put_text(o, pg->path);
    ar_out_puts(o, "\">\n");
    put_field(o, "select", take_arg(pg, used, "select"), "*");
    put_field(o, "order", take_arg(pg, used, "order"), "column.desc");
    put_field(o, "limit", take_arg(pg, used, "limit"), "rows");
    ar_out_puts(o, "<br>\n");
    for (i = 0; i < rel->columns->nelts; i++) {
        const ar_column *c = &APR_ARRAY_IDX(rel->columns, i, ar_column);
        if (ar_exposed_column(pg->exposure, rel, c) && !grammar_word(c->name))
            put_field(o, c->name, take_arg(pg, used, c->name), "eq.value");
    }
    for (i = 0; i < n; i++) {
        const ar_call_param *a = &APR_ARRAY_IDX(pg->args, i, ar_call_param);
        if (!used[i] && strcmp(a->name, "offset") != 0 && strcmp(a->name, "cursor") != 0)
            put_field(o, a->name, a->value, "");
    }
    ar_out_puts(o, "<button type=\"submit\">Apply</button> <a href=\"");
    put_text(o, pg->path);
    ar_out_puts(o, "\">clear</a></form>\n");
}

void ar_html_open(ar_out *o, ar_html_page *pg)
{
    apr_pool_t *p = pg->scratch.pool;
    const char *title = relation_title(p, pg);
    int i;

    put_head(o, title, pg->location, title);
    if (pg->relation->comment) {
        ar_out_puts(o, "<p>");
        put_text(o, pg->relation->comment);
        ar_out_puts(o, "</p>\n");
    }
    put_filter_form(o, p, pg);
    if (pg->record)
        return; /* each row is its own table */
    ar_out_puts(o, "<table id=\"rows\"><thead><tr>");
    for (i = 0; i < pg->columns->nelts; i++) {
        const ar_output_column *oc = &APR_ARRAY_IDX(pg->columns, i, ar_output_column);
        ar_out_puts(o, "<th>");
        put_text(o, oc->name ? oc->name : oc->column->name);
        ar_out_puts(o, "</th>");
    }
    ar_out_puts(o, "</tr></thead>\n<tbody>\n");
}

/* A cell's text: scalars as PostgreSQL writes them, the rest (json,
 * arrays, embedded resources, composites) as their JSON on one line. */
static void put_value(ar_out *o, ar_html_page *pg, const ar_row_format *f, int i,
                      const char *v, int len)
{
    switch (f->enc[i]) {
    case AR_ENC_BOOL:
        ar_out_puts(o, v[0] == 't' ? "true" : "false");
        return;
    case AR_ENC_STRING:
    case AR_ENC_NUMBER:
    case AR_ENC_INTEGER:
    case AR_ENC_DECIMAL:
        ar_html_escape(o, v, (apr_size_t)len);
        return;
    case AR_ENC_TIMESTAMP:
        /* As the JSON body has it (ISO 8601 with a T), so a page and the
         * JSON it stands for read the same; the quotes are JSON's, not the
         * value's. */
        pg->scratch.len = 0;
        ar_json_write_value(&pg->scratch, f->enc[i], f->elem_enc[i], v, (apr_size_t)len);
        if (pg->scratch.len >= 2 && pg->scratch.buf[0] == '"')
            ar_html_escape(o, pg->scratch.buf + 1, pg->scratch.len - 2);
        else
            ar_html_escape(o, pg->scratch.buf, pg->scratch.len);
        return;
    default:
        pg->scratch.len = 0;
        ar_json_write_value(&pg->scratch, f->enc[i], f->elem_enc[i], v, (apr_size_t)len);
        ar_html_escape(o, pg->scratch.buf, pg->scratch.len);
    }
}

/* The row's own URL: the page's path filtered by its key, in key order. */
static void put_row_url(ar_out *o, ar_html_page *pg, const char *const *values)
{
    const ar_key *pk = pg->relation->primary_key;
    apr_pool_t *p = pg->scratch.pool;
    int i;

    put_text(o, pg->path);
    for (i = 0; i < pk->cols->nelts; i++) {
        const ar_column *kc = &APR_ARRAY_IDX(pg->relation->columns,
                                             APR_ARRAY_IDX(pk->cols, i, int), ar_column);
        ar_out_puts(o, i ? "&amp;" : "?");
        put_query_part(p, kc->name, o);
        ar_out_puts(o, "=eq.");
        put_query_part(p, values[pg->key_out[i]], o);
    }
}

static void put_cell(ar_out *o, ar_html_page *pg, const ar_row_format *f, int i,
                     const char *v, int len)
{
    if (!v)
        ar_out_puts(o, "<td class=\"null\">null</td>");
    else {
        ar_out_puts(o, "<td>");
        put_value(o, pg, f, i, v, len);
        ar_out_puts(o, "</td>");
    }
}

/* One record: its columns down, then what may be done to it. */
/* A form that sends one row's fields by method to the row's URL: the
 * updatable columns (insertable ones with whole_row, for PUT), the row's
 * values filled in; a button and a note beside it. */
static void put_row_form(ar_out *o, ar_html_page *pg, const ar_row_format *f,
                         const char *const *values, const char *class, const char *method,
                         int whole_row, const char *button, const char *note)
{
    int i;

    ar_out_puts(o, "<form class=\"");
    ar_out_puts(o, class);
    ar_out_puts(o, "\" method=\"post\" action=\"");
    put_row_url(o, pg, values);
    ar_out_puts(o, "\"><input type=\"hidden\" name=\"" AR_HTML_METHOD_FIELD "\" value=\"");
    ar_out_puts(o, method);
    ar_out_puts(o, "\">\n");
    for (i = 0; i < f->ncols; i++) {
        const ar_column *c = plain_column(&APR_ARRAY_IDX(pg->columns, i, ar_output_column));
        if (c && (whole_row ? c->insertable : c->updatable))
            put_input(o, c, values[i], 0);
    }
    ar_out_puts(o, "<button type=\"submit\">");
    ar_out_puts(o, button);
    ar_out_puts(o, "</button> <small>(");
    ar_out_puts(o, note);
    ar_out_puts(o, ")</small></form>\n");
}

static void put_record(ar_out *o, ar_html_page *pg, const ar_row_format *f,
                       const char *const *values, const int *lens)
{
    int i;

    ar_out_puts(o, "<table class=\"record\"><tbody>\n");
    for (i = 0; i < f->ncols; i++) {
        const ar_output_column *oc = &APR_ARRAY_IDX(pg->columns, i, ar_output_column);
        ar_out_puts(o, "<tr><th>");
        put_text(o, oc->name ? oc->name : oc->column->name);
        ar_out_puts(o, "</th>");
        put_cell(o, pg, f, i, values[i], lens[i]);
        ar_out_puts(o, "</tr>\n");
    }
    ar_out_puts(o, "</tbody></table>\n");
    if (!pg->key_out)
        return;
    if ((pg->methods & AR_METHOD_PATCH) && (pg->can & AR_CAN_UPDATE))
        put_row_form(o, pg, f, values, "edit", "PATCH", 0, "Save",
                     "an empty field is left as it is");
    /* PUT replaces the whole row: every column the form can give, the key
     * included (PUT's body repeats it) */
    if ((pg->methods & AR_METHOD_PUT) && (pg->can & AR_CAN_INSERT) && (pg->can & AR_CAN_UPDATE))
        put_row_form(o, pg, f, values, "replace", "PUT", 1, "Replace",
                     "PUT: an empty field is NULL");
    if ((pg->methods & AR_METHOD_DELETE) && (pg->can & AR_CAN_DELETE)) {
        ar_out_puts(o, "<form class=\"delete\" method=\"post\" action=\"");
        put_row_url(o, pg, values);
        ar_out_puts(o, "\"><input type=\"hidden\" name=\"" AR_HTML_METHOD_FIELD
                       "\" value=\"DELETE\"><button type=\"submit\">Delete this row</button>"
                       "</form>\n");
    }
}

void ar_html_row(ar_out *o, ar_html_page *pg, const ar_row_format *f,
                 const char *const *values, const int *lens)
{
    int i;

    if (pg->record) {
        put_record(o, pg, f, values, lens);
        return;
    }
    ar_out_puts(o, "<tr>");
    for (i = 0; i < f->ncols; i++) {
        if (i == 0 && pg->key_out) {
            ar_out_puts(o, values[0] ? "<td>" : "<td class=\"null\">");
            ar_out_puts(o, "<a class=\"row\" href=\"");
            put_row_url(o, pg, values);
            ar_out_puts(o, "\">");
            if (values[0])
                put_value(o, pg, f, 0, values[0], lens[0]);
            else
                ar_out_puts(o, "null");
            ar_out_puts(o, "</a></td>");
        }
        else
            put_cell(o, pg, f, i, values[i], lens[i]);
    }
    ar_out_puts(o, "</tr>\n");
}

/* The URL of a Link header's entry with rel="rel", or NULL. Its URLs hold
 * no '>' (the glue %-encodes it), so '<' ... '>' bounds each. */
static const char *link_of(apr_pool_t *p, const char *links, const char *rel)
{
    const char *want = apr_psprintf(p, "rel=\"%s\"", rel), *s = links;

    while (s && (s = strchr(s, '<')) != NULL) {
        const char *end = strchr(s, '>'), *next, *found;
        if (!end)
            return NULL;
        next = strchr(end, '<');
        found = strstr(end, want);
        if (found && (!next || found < next))
            return apr_pstrmemdup(p, s + 1, (apr_size_t)(end - s - 1));
        s = next;
    }
    return NULL;
}

static void put_link(ar_out *o, const char *url, const char *rel, const char *word)
{
    if (!url)
        return;
    ar_out_puts(o, "<a rel=\"");
    ar_out_puts(o, rel);
    ar_out_puts(o, "\" href=\"");
    put_text(o, url);
    ar_out_puts(o, "\">");
    ar_out_puts(o, word);
    ar_out_puts(o, "</a>");
}

/* first, previous, the rows shown, next: the API's own paging links. */
static void put_links(ar_out *o, apr_pool_t *p, const char *links, const char *range)
{
    ar_out_puts(o, "<nav id=\"pages\">");
    put_link(o, link_of(p, links, "first"), "first", "first");
    put_link(o, link_of(p, links, "prev"), "prev", "previous");
    if (range && apr_isdigit(*range)) {
        /* Content-Range's "0-24/120": rows 1 to 25 of 120 */
        char *end;
        apr_int64_t first = apr_strtoi64(range, &end, 10), last = 0;

        if (*end == '-')
            last = apr_strtoi64(end + 1, &end, 10);
        ar_out_puts(o, apr_psprintf(p, "<span id=\"range\">rows %" APR_INT64_T_FMT " to %"
                                    APR_INT64_T_FMT, first + 1, last + 1));
        if (*end == '/' && apr_isdigit(end[1])) {
            ar_out_puts(o, " of ");
            put_text(o, end + 1);
        }
        ar_out_puts(o, "</span>");
    }
    put_link(o, link_of(p, links, "next"), "next", "next");
    ar_out_puts(o, "</nav>\n");
}

void ar_html_close(ar_out *o, ar_html_page *pg, apr_int64_t rows, const char *links,
                   const char *range)
{
    apr_pool_t *p = pg->scratch.pool;
    const ar_relation *rel = pg->relation;

    if (!pg->record)
        ar_out_puts(o, "</tbody></table>\n");
    if (rows == 0)
        ar_out_puts(o, "<p id=\"empty\">No rows.</p>\n");
    put_links(o, p, links, range);
    if (!pg->record && (pg->methods & AR_METHOD_POST) && (pg->can & AR_CAN_INSERT)) {
        int i;

        ar_out_puts(o, "<h2>Insert a row</h2>\n<form id=\"insert\" method=\"post\" action=\"");
        put_text(o, pg->path);
        ar_out_puts(o, "\">\n");
        for (i = 0; i < rel->columns->nelts; i++) {
            const ar_column *c = &APR_ARRAY_IDX(rel->columns, i, ar_column);
            if (c->insertable && ar_exposed_column(pg->exposure, rel, c))
                put_input(o, c, NULL, !c->nullable && !c->has_default);
        }
        ar_out_puts(o, "<button type=\"submit\">Insert</button> <small>(an empty field takes "
                       "the column's default)</small></form>\n");
    }
    ar_out_puts(o, "</body></html>\n");
}

/* ------------------------------------------------------------ the index */

static void put_methods(ar_out *o, int bits)
{
    int bit, first = 1;

    for (bit = AR_METHOD_GET; bit <= AR_METHOD_DELETE; bit <<= 1)
        if (bits & bit) {
            if (!first)
                ar_out_puts(o, " ");
            ar_out_puts(o, ar_method_name(bit));
            first = 0;
        }
}

/* A function: its link, arguments and result, and for one GET may call,
 * a form of its arguments. */
static void put_routine(ar_out *o, apr_pool_t *p, const ar_routine *r, const char *location)
{
    const char *url = apr_pstrcat(p, location, "/rpc/", r->name, NULL);
    int i, get = r->volatility != 'v' && !r->procedure;

    ar_out_puts(o, "<tr><td><a class=\"function\" href=\"");
    put_text(o, url);
    ar_out_puts(o, "\">");
    put_text(o, r->name);
    ar_out_puts(o, "</a></td><td>");
    for (i = 0; i < r->args->nelts; i++) {
        const ar_routine_arg *a = &APR_ARRAY_IDX(r->args, i, ar_routine_arg);
        if (i)
            ar_out_puts(o, ", ");
        put_text(o, apr_pstrcat(p, a->name, " ", a->type, a->has_default ? " = default" : "",
                                NULL));
    }
    ar_out_puts(o, "</td><td>");
    put_text(o, r->return_type ? r->return_type : "");
    ar_out_puts(o, "</td><td>");
    if (get && r->args->nelts > 0) {
        ar_out_puts(o, "<form method=\"get\" action=\"");
        put_text(o, url);
        ar_out_puts(o, "\">");
        for (i = 0; i < r->args->nelts; i++) {
            const ar_routine_arg *a = &APR_ARRAY_IDX(r->args, i, ar_routine_arg);
            if (*a->name)
                put_field(o, a->name, NULL, a->type);
        }
        ar_out_puts(o, "<button type=\"submit\">Call</button></form>");
    }
    else {
        put_text(o, r->comment ? r->comment : "");
    }
    ar_out_puts(o, "</td></tr>\n");
}

char *ar_html_index(apr_pool_t *p, const ar_schema *s, const ar_exposure *x,
                    const char *location, int methods, int rpc, apr_hash_t *writable,
                    apr_size_t *len)
{
    ar_out o;
    int i;

    ar_out_init(&o, p, 0, NULL, NULL);
    put_head(&o, apr_pstrcat(p, "API at ", *location ? location : "/", NULL), location, NULL);
    ar_out_puts(&o, "<p>The same as JSON: <a href=\"");
    put_text(&o, location);
    ar_out_puts(&o, "/openapi.json\">the OpenAPI document</a>.</p>\n<h2>Relations</h2>\n"
                    "<table id=\"relations\"><thead><tr><th>relation</th><th>kind</th>"
                    "<th>methods</th><th>description</th></tr></thead><tbody>\n");
    for (i = 0; i < s->relations->nelts; i++) {
        const ar_relation *rel = APR_ARRAY_IDX(s->relations, i, const ar_relation *);
        static const char *const kinds[] = {"r", "table", "v", "view", "m", "materialized view",
                                            "f", "foreign table", "p", "partitioned table",
                                            NULL};
        const char *kind = "relation", *segment;
        int k;

        if (!ar_exposed_relation(x, rel))
            continue;
        for (k = 0; kinds[k]; k += 2)
            if (kinds[k][0] == rel->kind)
                kind = kinds[k + 1];
        segment = ar_relation_segment(p, x, rel);
        ar_out_puts(&o, "<tr><td><a class=\"relation\" href=\"");
        put_text(&o, apr_pstrcat(p, location, "/", segment, NULL));
        ar_out_puts(&o, "\">");
        put_text(&o, strchr(segment, '%') || strcmp(rel->schema, APR_ARRAY_IDX(x->schemas, 0,
                                                                           const char *)) != 0
                         ? apr_pstrcat(p, rel->schema, ".", rel->name, NULL)
                         : rel->name);
        ar_out_puts(&o, "</a></td><td>");
        ar_out_puts(&o, kind);
        ar_out_puts(&o, "</td><td>");
        put_methods(&o, ar_relation_methods(rel, methods, ar_role_can(p, rel, writable)));
        ar_out_puts(&o, "</td><td>");
        put_text(&o, rel->comment ? rel->comment : "");
        ar_out_puts(&o, "</td></tr>\n");
    }
    ar_out_puts(&o, "</tbody></table>\n");
    if (rpc != AR_RPC_OFF) {
        ar_out_puts(&o, "<h2>Functions</h2>\n<table id=\"functions\"><thead><tr><th>function"
                        "</th><th>arguments</th><th>returns</th><th></th></tr></thead><tbody>\n");
        for (i = 0; s->routines && i < s->routines->nelts; i++) {
            const ar_routine *r = APR_ARRAY_IDX(s->routines, i, const ar_routine *);
            if (ar_exposed_routine(x, r) && (rpc == AR_RPC_ALL || r->volatility != 'v'))
                put_routine(&o, p, r, location);
        }
        ar_out_puts(&o, "</tbody></table>\n");
    }
    ar_out_puts(&o, "</body></html>\n");
    *len = o.len;
    ar_out_write(&o, "", 1);
    return o.buf;
}

char *ar_html_error(apr_pool_t *p, int status, const ar_error *err, const char *location,
                    apr_size_t *len)
{
    ar_out o;

    ar_out_init(&o, p, 0, NULL, NULL);
    put_head(&o, apr_psprintf(p, "Error %d", status), location, NULL);
    ar_out_puts(&o, "<main id=\"error\"><p><code>");
    put_text(&o, err->code);
    ar_out_puts(&o, "</code> ");
    put_text(&o, err->message);
    ar_out_puts(&o, "</p>\n");
    if (err->details) {
        ar_out_puts(&o, "<p>");
        put_text(&o, err->details);
        ar_out_puts(&o, "</p>\n");
    }
    if (err->hint) {
        ar_out_puts(&o, "<p>Hint: ");
        put_text(&o, err->hint);
        ar_out_puts(&o, "</p>\n");
    }
    ar_out_puts(&o, "</main></body></html>\n");
    *len = o.len;
    ar_out_write(&o, "", 1);
    return o.buf;
}

/* ------------------------------------------------- requests and bodies */

int ar_html_accepted_first(const char *accept)
{
    const char *s = accept, *end, *q;
    apr_size_t n;

    if (!s)
        return 0;
    s += strspn(s, " \t");
    end = s + strcspn(s, ",");
    n = strcspn(s, ";,");
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n != 9 || strncasecmp(s, "text/html", 9) != 0)
        return 0;
    /* text/html;q=0 is a refusal */
    q = strstr(s, "q=");
    return !q || q > end || atof(q + 2) > 0;
}

char *ar_html_drop_empty(apr_pool_t *p, const char *args)
{
    apr_array_header_t *kept = apr_array_make(p, 8, sizeof(const char *));
    char *copy, *state = NULL, *pair;

    if (!args)
        return NULL;
    copy = apr_pstrdup(p, args);
    for (pair = apr_strtok(copy, "&", &state); pair; pair = apr_strtok(NULL, "&", &state)) {
        const char *eq = strchr(pair, '=');
        if (eq && eq[1] == '\0')
            continue;
        if (kept->nelts)
            APR_ARRAY_PUSH(kept, const char *) = "&";
        APR_ARRAY_PUSH(kept, const char *) = pair;
    }
    return kept->nelts ? apr_array_pstrcat(p, kept, 0) : NULL;
}

apr_array_header_t *ar_html_args(apr_pool_t *p, const char *args)
{
    apr_array_header_t *pairs = args ? ar_form_pairs(p, args, strlen(args)) : NULL;

    return pairs ? pairs : apr_array_make(p, 1, sizeof(ar_call_param));
}

ar_error *ar_html_form_row(apr_pool_t *p, const char *body, apr_size_t len,
                           const ar_body_field **fields, int *nfields, const char **method)
{
    apr_array_header_t *pairs = ar_form_pairs(p, body, len);
    apr_array_header_t *out;
    int i, replace;

    *method = NULL;
    if (!pairs)
        return ar_error_make(p, AR_ERR_BAD_BODY, "the form has a malformed %-escape", NULL,
                             NULL);
    for (i = 0; i < pairs->nelts; i++)
        if (strcmp(APR_ARRAY_IDX(pairs, i, ar_call_param).name, AR_HTML_METHOD_FIELD) == 0)
            *method = APR_ARRAY_IDX(pairs, i, ar_call_param).value;
    replace = *method && strcmp(*method, "PUT") == 0;
    out = apr_array_make(p, pairs->nelts + 1, sizeof(ar_body_field));
    for (i = 0; i < pairs->nelts; i++) {
        const ar_call_param *a = &APR_ARRAY_IDX(pairs, i, ar_call_param);
        ar_body_field *f;

        if (strcmp(a->name, AR_HTML_METHOD_FIELD) == 0)
            continue;
        /* An empty field is the default (insert) or the value as it is
         * (edit); a PUT gives the whole row, so there it is NULL. */
        if (!*a->value && !replace)
            continue;
        f = apr_array_push(out);
        memset(f, 0, sizeof(*f));
        f->name = a->name;
        f->name_len = strlen(a->name);
        if (!*a->value) {
            f->kind = AR_VAL_NULL;
            continue;
        }
        f->kind = AR_VAL_STRING;
        /* a json column takes the text as JSON, as a call's argument does */
        f->text = f->raw = a->value;
        f->len = f->raw_len = strlen(a->value);
    }
    *fields = (const ar_body_field *)out->elts;
    *nfields = out->nelts;
    return NULL;
}
