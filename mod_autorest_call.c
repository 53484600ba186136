/*
 * mod_autorest_call.c: running a call to /rpc/<function>. Read the body
 * (a call's arguments are small: it is read whole, within LimitRequestBody),
 * plan the call, and send its result as a read's rows are sent: a bare value,
 * one object, or a page of rows that streams like a table's.
 */
#include <string.h>

#include <http_core.h>
#include <http_protocol.h>
#include <apr_strings.h>

#include "mod_autorest_glue.h"

#define READ_BYTES (64 * 1024)

/* What the body parser handed over: the first object's fields (kept), and
 * whether later ones had the same keys (PostgREST reads only the first). */
typedef struct {
    apr_pool_t *pool;
    ar_body_field *fields;
    int nfields;
    apr_int64_t rows;
} body_fields;

static ar_error *take_fields(void *ctx, apr_int64_t row, const ar_body_field *fields, int n)
{
    body_fields *bf = ctx;
    int i, j;

    bf->rows++;
    if (row == 0) {
        bf->fields = apr_pcalloc(bf->pool, sizeof(ar_body_field) * (apr_size_t)(n + 1));
        bf->nfields = n;
        for (i = 0; i < n; i++) {
            ar_body_field *f = &bf->fields[i];
            *f = fields[i];
            f->name = apr_pstrmemdup(bf->pool, fields[i].name, fields[i].name_len);
            f->text = fields[i].text ? apr_pstrmemdup(bf->pool, fields[i].text, fields[i].len)
                                     : NULL;
            f->raw = fields[i].raw ? apr_pstrmemdup(bf->pool, fields[i].raw, fields[i].raw_len)
                                   : NULL;
        }
        return NULL;
    }
    for (i = 0; i < n; i++) {
        int found = 0;
        for (j = 0; j < bf->nfields && !found; j++)
            found = bf->fields[j].name_len == fields[i].name_len
                    && memcmp(bf->fields[j].name, fields[i].name, fields[i].name_len) == 0;
        if (!found)
            n = -1;
    }
    if (n != bf->nfields)
        return ar_error_make(bf->pool, AR_ERR_BAD_BODY, "All object keys must match",
                             apr_psprintf(bf->pool, "object %" APR_INT64_T_FMT " has other keys "
                                          "than the first", row + 1),
                             "a call takes its arguments from one object");
    return NULL;
}

/* A form's name=value pairs as string fields, as PostgREST reads them. */
static ar_error *form_fields(apr_pool_t *p, ar_call_body *body)
{
    apr_array_header_t *pairs = ar_form_pairs(p, body->text, body->len);
    ar_body_field *fields;
    int i;

    if (!pairs)
        return ar_error_make(p, AR_ERR_BAD_BODY, "the form has a malformed %-escape", NULL, NULL);
    fields = apr_pcalloc(p, sizeof(ar_body_field) * (apr_size_t)(pairs->nelts + 1));
    for (i = 0; i < pairs->nelts; i++) {
        const ar_call_param *a = &APR_ARRAY_IDX(pairs, i, ar_call_param);
        fields[i].name = a->name;
        fields[i].name_len = strlen(a->name);
        fields[i].kind = AR_VAL_STRING;
        fields[i].text = fields[i].raw = a->value; /* a json argument takes the text as JSON */
        fields[i].len = fields[i].raw_len = strlen(a->value);
    }
    body->fields = fields;
    body->nfields = pairs->nelts;
    return NULL;
}

static int media_is(const char *type, const char *want)
{
    apr_size_t n = strlen(want);

    return strncasecmp(type, want, n) == 0 && (type[n] == '\0' || type[n] == ';'
                                               || type[n] == ' ');
}

/* The whole body, and its arguments as fields when it is JSON or CSV. */
static ar_error *read_call_body(context *cx, ar_call_body *body)
{
    request_rec *r = cx->r;
    const char *type = apr_table_get(r->headers_in, "Content-Type");
    char *text = NULL;
    apr_size_t len = 0;
    body_fields bf;
    ar_error *err;

    memset(body, 0, sizeof(*body));
    if (!type || !*type || media_is(type, "application/json"))
        body->media = AR_CALL_BODY_JSON;
    else if (media_is(type, "text/csv"))
        body->media = AR_CALL_BODY_CSV;
    else if (media_is(type, "application/x-www-form-urlencoded"))
        body->media = AR_CALL_BODY_FORM;
    else if (media_is(type, "text/plain"))
        body->media = AR_CALL_BODY_TEXT;
    else if (media_is(type, "text/xml"))
        body->media = AR_CALL_BODY_XML;
    else if (media_is(type, "application/octet-stream"))
        body->media = AR_CALL_BODY_BYTES;
    else
        return ar_error_make(r->pool, AR_ERR_BAD_MEDIA,
                             apr_psprintf(r->pool, "Content-Type not acceptable: %s", type), NULL,
                             "a call takes application/json, text/csv, "
                             "application/x-www-form-urlencoded, text/plain, text/xml or "
                             "application/octet-stream");
    if ((err = ar_body_read_whole(cx, 0, &text, &len)) != NULL)
        return err;
    body->text = text;
    body->len = len;
    if (body->media == AR_CALL_BODY_FORM)
        return form_fields(r->pool, body);
    if (body->media != AR_CALL_BODY_JSON && body->media != AR_CALL_BODY_CSV)
        return NULL;

    /* arguments by name: an empty JSON body is {} */
    memset(&bf, 0, sizeof(bf));
    bf.pool = r->pool;
    if (body->len > 0) {
        ar_body_parser *bp = ar_body_parser_create(
            r->pool, body->media == AR_CALL_BODY_CSV ? AR_BODY_CSV : AR_BODY_JSON, take_fields,
            &bf);
        ar_error *e = ar_body_feed(bp, body->text, body->len);

        if (!e)
            e = ar_body_finish(bp);
        /* a body that is no object (a bare value) may still go whole to a
         * function of one json argument */
        body->unreadable = e;
        body->is_array = !ar_body_is_single(bp);
    }
    body->fields = bf.fields;
    body->nfields = bf.nfields;
    body->rows = bf.rows;
    return NULL;
}

/* One call, its response being built. */
typedef struct {
    response resp;
    const ar_call_plan *plan;
    apr_int64_t skip;          /* rows before the page: fetched for the count */
    int count_column;          /* the window count's column, or -1 */
    const char *count;
} call_run;

static int on_call_row(void *ctx, const ar_row *row)
{
    call_run *c = ctx;

    if (c->count_column >= 0 && !c->count) {
        int len;
        const char *v = ar_db_row_value(row, c->count_column, &len);
        c->count = v ? apr_pstrmemdup(c->resp.r->pool, v, (apr_size_t)len) : "0";
        c->resp.counts[0] = c->count;
    }
    if (c->skip > 0) {
        c->skip--;
        return 0;
    }
    return ar_resp_on_row(&c->resp, row);
}

/* A constraint a function's write broke names the row's values ("Failing
 * row contains (...)") and may name columns: which table it was is the
 * function's business, so where this Location hides any column, a
 * constraint error's details go, and a message naming a hidden column's
 * name gives way to the constraint's. */
static void withhold_hidden(context *cx, ar_error *e)
{
    apr_hash_index_t *hi;
    int named = 0;

    if ((e->kind != AR_ERR_DB_CONFLICT && e->kind != AR_ERR_DB_CONSTRAINT)
        || !cx->s.exposure.hidden || apr_hash_count(cx->s.exposure.hidden) == 0)
        return;
    for (hi = apr_hash_first(cx->r->pool, cx->s.exposure.hidden); hi; hi = apr_hash_next(hi)) {
        const char *key = apr_hash_this_key(hi), *column = strrchr(key, '.');
        named |= column && column[1] && strstr(e->message, column + 1) != NULL;
    }
    e->details = NULL;
    if (named)
        e->message = e->constraint ? apr_psprintf(cx->r->pool, "the row violates constraint "
                                                  "\"%s\"", e->constraint)
                                   : "the row violates a constraint";
}

/* PostgreSQL's "function s.fn(...) does not exist" for the call itself:
 * dropped (or changed) since the snapshot was taken. As a vanished column
 * is for a read, it is the snapshot's fault: read it again and retry. */
static ar_error *dropped_since(context *cx, const ar_call_plan *plan, ar_error *e)
{
    const char *name = apr_pstrcat(cx->r->pool, plan->routine->schema, ".",
                                   plan->routine->name, "(", NULL);

    if (strcmp(e->code, "42883") != 0 || !e->message || strncmp(e->message, "function ", 9) != 0
        || strncmp(e->message + 9, name, strlen(name)) != 0)
        return e;
    return ar_error_make(cx->r->pool, AR_ERR_DB_SCHEMA_CHANGED,
                         "the database schema changed while this request ran", NULL,
                         "try again");
}

static void call_headers(context *cx, const ar_read_request *req)
{
    if (req->profile)
        apr_table_setn(cx->r->headers_out, "Content-Profile", req->profile);
    if (req->call_single_object)
        apr_table_mergen(cx->r->headers_out, "Preference-Applied", "params=single-object");
}

ar_error *ar_run_call(context *cx, ar_read_request *req, int *done)
{
    request_rec *r = cx->r;
    ar_call_plan plan, sql_plan;
    ar_call_body body;
    const ar_call_body *bodyp = NULL;
    ar_sql sql;
    ar_db_query q;
    call_run c;
    ar_error *err;
    ar_read_request json_req;
    int get = !req->call_post;
    int explain = req->media == AR_MEDIA_PLAN_TEXT || req->media == AR_MEDIA_PLAN_JSON;

    *done = 0;
    if (!get && !cx->call_body) {
        if ((err = read_call_body(cx, &body)) != NULL) {
            *done = 1; /* the body is gone: no second attempt */
            return err;
        }
        cx->call_body = apr_pmemdup(r->pool, &body, sizeof(body));
    }
    if (!get)
        bodyp = cx->call_body;
    if (explain) {
        json_req = *req;
        json_req.media = AR_MEDIA_JSON; /* the statement of the JSON answer */
    }
    err = ar_plan_call(r->pool, cx->schema, &cx->s.exposure, explain ? &json_req : req, get,
                       bodyp, cx->s.rpc, cx->s.max_rows, &plan);
    if (err && err->kind == AR_ERR_METHOD)
        apr_table_setn(r->headers_out, "Allow", "OPTIONS, POST"); /* a VOLATILE function */
    if (err)
        return err;
    if (explain) {
        /* EXPLAIN of the call's statement; a CALL has none. In a READ ONLY
         * transaction: ANALYZE runs the function, and a plan never writes. */
        if (plan.routine->procedure)
            return ar_error_make(r->pool, AR_ERR_NOT_ACCEPTABLE,
                                 "none of the accepted media types is produced here",
                                 "a procedure's CALL has no plan", NULL);
        sql_plan = plan;
        sql_plan.read.call = &sql_plan;
        ar_sql_render_call(r->pool, &sql_plan, &sql);
        if ((err = ar_serve_explain(cx, req, &sql, 1)) != NULL) {
            withhold_hidden(cx, err);
            return dropped_since(cx, &plan, err);
        }
        *done = 1;
        return NULL;
    }

    /* With a count, the rows before the page come too (the count is on
     * every row, the function runs once): the page starts after them. */
    memset(&c, 0, sizeof(c));
    c.plan = &plan;
    c.count_column = -1;
    sql_plan = plan;
    sql_plan.read.call = &sql_plan;
    if (plan.read.count != AR_COUNT_NONE) {
        c.skip = plan.read.offset;
        c.count_column = plan.read.columns->nelts ? plan.read.columns->nelts : 1;
        sql_plan.read.offset = 0;
        if (plan.read.limit != AR_UNSET)
            sql_plan.read.limit = plan.read.offset + plan.read.limit;
    }
    ar_sql_render_call(r->pool, &sql_plan, &sql);

    ar_resp_init(&c.resp, r, &cx->s, req, &plan.read, NULL);
    c.resp.scalar = plan.scalar;
    c.resp.no_links = !get; /* a link would be a GET without the body's arguments */
    memset(&q, 0, sizeof(q));
    q.state = cx->conn_state;
    q.sql = &sql;
    q.timeout_ms = cx->s.timeout_ms;
    q.request = &cx->request;
    q.read_only = plan.read_only;
    q.writes = !plan.read_only;
    q.stream = plan.read.limit == AR_UNSET || plan.read.limit > STREAM_ABOVE_ROWS;
    c.resp.stream = q.stream;
    q.on_row = on_call_row;
    q.ctx = &c;
    err = ar_db_stream(r->pool, cx->conn, &q);
    if (c.resp.streaming) {
        *done = 1;
        ar_resp_finish_streaming(&c.resp, err);
        return NULL;
    }
    if (err) {
        withhold_hidden(cx, err);
        return dropped_since(cx, &plan, err);
    }
    *done = 1;
    call_headers(cx, req);

    if (plan.routine->returns == AR_RETURNS_VOID
        || (plan.routine->procedure && !plan.routine->result)) {
        apr_table_setn(r->headers_out, "Content-Range", "*/*");
        r->status = HTTP_NO_CONTENT;
        return NULL;
    }
    if (plan.read.single) {
        const char *type = ar_resp_single_type(plan.read.media, req->media);
        if (plan.routine->setof && (c.resp.rows != 1 || c.resp.more))
            return ar_error_make(r->pool, AR_ERR_NOT_ONE_ROW,
                                 "the result is not exactly one row",
                                 c.resp.rows == 0 ? "no rows matched" : "more than one row matched",
                                 "narrow the filter, or accept application/json");
        /* one value or object: counted, it is one, as PostgREST answers */
        if (req->count == AR_COUNT_EXACT || req->count == AR_COUNT_ESTIMATED) {
            apr_table_setn(r->headers_out, "Content-Range", "0-0/1");
            apr_table_mergen(r->headers_out, "Preference-Applied",
                             req->count == AR_COUNT_EXACT ? "count=exact" : "count=estimated");
        }
        else
            apr_table_setn(r->headers_out, "Content-Range", "0-0/*");
        if (c.resp.rows == 0 && plan.read.media == AR_MEDIA_NDJSON)
            return (ar_resp_send_body(r, type, "", 0), NULL); /* filtered away: no line */
        if (c.resp.rows == 0 && plan.read.media != AR_MEDIA_CSV)
            return (ar_resp_send_body(r, type, "null", 4), NULL); /* filtered away */
        if (c.resp.rows == 0)
            ar_resp_open_document(&c.resp);
        ar_resp_send_body(r, type, c.resp.out.buf, c.resp.out.len);
        return NULL;
    }
    if (plan.read.count != AR_COUNT_NONE && c.resp.rows == 0 && plan.read.offset > 0
        && plan.read.offset >= ar_resp_total_rows(&c.resp)) {
        apr_table_setn(r->headers_out, "Content-Range",
                       apr_psprintf(r->pool, "*/%" APR_INT64_T_FMT,
                                    ar_resp_total_rows(&c.resp)));
        return ar_error_make(r->pool, AR_ERR_RANGE_UNSATISFIABLE,
                             "Requested range not satisfiable",
                             apr_psprintf(r->pool, "offset %" APR_INT64_T_FMT " is past the %"
                                          APR_INT64_T_FMT " rows", plan.read.offset,
                                          ar_resp_total_rows(&c.resp)), NULL);
    }
    ar_resp_close_document(&c.resp);
    ar_resp_collection_headers(&c.resp, 1);
    ar_resp_send_held(&c.resp);
    return NULL;
}
