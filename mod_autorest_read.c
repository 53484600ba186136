/*
 * mod_autorest_read.c: running a read. Plan the parsed request against the
 * schema, render its SQL and the count statements, stream the rows into a
 * response, and decide the single-object and range answers.
 */
#include <string.h>

#include <http_protocol.h>
#include <apr_strings.h>

#include "mod_autorest_glue.h"

/* The statements before the rows: the counts for Prefer: count (and
 * Flask-Restless pages), then, on a relationship route, the look for the
 * parent's row (its value is the last). */
static int count_statements(context *cx, const ar_read_plan *plan, ar_sql **out)
{
    apr_pool_t *p = cx->r->pool;
    ar_sql *pre = apr_pcalloc(p, MAX_PRE_STATEMENTS * sizeof(ar_sql));
    int n = 0;

    *out = pre;
    switch (plan->count) {
    case AR_COUNT_EXACT:
    case AR_COUNT_PLANNED:
        ar_sql_render_count(p, plan, plan->count, 0, &pre[n++]);
        break;
    case AR_COUNT_ESTIMATED:
        ar_sql_render_count(p, plan, AR_COUNT_ESTIMATED, cx->s.count_threshold, &pre[n++]);
        ar_sql_render_count(p, plan, AR_COUNT_PLANNED, 0, &pre[n++]);
        break;
    default:
        break;
    }
    if (plan->parent)
        ar_sql_render_parent(p, plan, &pre[n++]);
    return n;
}

/* The single-object answers: exactly one row, or the dialect's error. */
static ar_error *single_row_error(context *cx, const ar_read_request *req,
                                  const ar_read_plan *plan, const response *resp)
{
    apr_pool_t *p = cx->r->pool;

    if (resp->rows == 1 && !resp->more)
        return NULL;
    if (plan->pk_value)
        return ar_error_make(p, AR_ERR_NO_ROW,
                             apr_psprintf(p, "no row of '%s' has %s '%s'%s", plan->relation->name,
                                          plan->pk_column->name, plan->pk_value,
                                          plan->parent ? " among the related rows" : ""),
                             NULL, NULL);
    if (req->media == AR_MEDIA_OBJECT)
        return ar_error_make(p, AR_ERR_NOT_ONE_ROW,
                             "the result is not exactly one row",
                             resp->rows == 0 ? "no rows matched" : "more than one row matched",
                             "narrow the filter, or accept application/json");
    if (resp->rows == 0)
        return ar_error_make(p, AR_ERR_NO_ROW, "no result found", NULL, NULL);
    return ar_error_make(p, AR_ERR_SINGLE_MANY, "multiple results found", NULL,
                         "narrow the filters of a single search");
}

/*
 * Reads kept planned (read_cache.c). A shape's key is everything its plan,
 * statement and row format are made from besides the snapshot: the
 * Location's exposure (by the addresses of its configured sets), row cap,
 * dialect and aggregates; the relation, whether a key follows it, the
 * query string and the headers the parser read. The key's value itself is
 * not in it: it is a bound parameter. Not kept: what a hook may have
 * changed, cursors (signed per request), relationship routes, plans and
 * pages for browsers.
 */

/* Where the row's key goes while a shape is planned: a unique address. */
static const char key_slot[] = "";

static void key_add(char **at, const char *s)
{
    apr_uint32_t n = s ? (apr_uint32_t)strlen(s) : 0xffffffffu; /* NULL apart from "" */

    memcpy(*at, &n, sizeof(n));
    *at += sizeof(n);
    if (s) {
        memcpy(*at, s, n);
        *at += n;
    }
}

static apr_size_t key_len(const char *s)
{
    return sizeof(apr_uint32_t) + (s ? strlen(s) : 0);
}

/* The shape key of req, or NULL when it is not kept. */
static const char *shape_key(context *cx, const ar_read_request *req, apr_size_t *len)
{
    const ar_request_headers *h = cx->headers;
    const char *args = cx->r->args;
    struct {
        const void *schemas, *excluded, *hidden;
        apr_int64_t max_rows;
        int dialect, aggregates, keyed, media;
    } fixed;
    char *key, *at;

    if (!cx->reads || !h || cx->hooked || !cx->s.exposure_fixed || req->cursor
        || req->relationship || !req->relation
        || (req->media != AR_MEDIA_JSON && req->media != AR_MEDIA_OBJECT
            && req->media != AR_MEDIA_CSV && req->media != AR_MEDIA_NDJSON))
        return NULL;
    memset(&fixed, 0, sizeof(fixed)); /* padding too: the key is compared bytewise */
    fixed.schemas = cx->s.exposure.schemas;
    fixed.excluded = cx->s.exposure.excluded;
    fixed.hidden = cx->s.exposure.hidden;
    fixed.max_rows = cx->s.max_rows;
    fixed.dialect = cx->s.dialect;
    fixed.aggregates = req->aggregates;
    fixed.keyed = req->pk_value != NULL;
    fixed.media = req->media;
    *len = sizeof(fixed) + key_len(req->relation) + key_len(args) + key_len(h->range)
           + key_len(h->range_unit) + key_len(h->prefer) + key_len(h->accept)
           + key_len(h->accept_profile);
    at = key = apr_palloc(cx->r->pool, *len);
    memcpy(at, &fixed, sizeof(fixed));
    at += sizeof(fixed);
    key_add(&at, req->relation);
    key_add(&at, args);
    key_add(&at, h->range);
    key_add(&at, h->range_unit);
    key_add(&at, h->prefer);
    key_add(&at, h->accept);
    key_add(&at, h->accept_profile);
    return key;
}

/* Whether a Flask-Restless read pages by page= and results_per_page=. */
static int restless_paged(const context *cx, const ar_read_request *req)
{
    return cx->s.dialect == AR_DIALECT_RESTLESS && !req->single
           && (req->relationship ? !req->related_pk : !req->pk_value);
}

static const char *dup_or_null(apr_pool_t *p, const char *s)
{
    return s ? apr_pstrdup(p, s) : NULL;
}

/* req parsed again into p from copies of its words, as the runner had it
 * before planning: a plan points into its request, and a kept one must
 * not point into a request's pool. 0 when the two disagree (a step of the
 * runner's this one does not know), so that nothing wrong is kept. */
static int parse_into(apr_pool_t *p, const context *cx, const ar_read_request *req,
                      ar_read_request *shape)
{
    ar_request_headers h = *cx->headers;
    apr_int64_t per_page;

    h.range = dup_or_null(p, h.range);
    h.range_unit = dup_or_null(p, h.range_unit);
    h.prefer = dup_or_null(p, h.prefer);
    h.accept = dup_or_null(p, h.accept);
    h.accept_profile = dup_or_null(p, h.accept_profile);
    h.content_type = dup_or_null(p, h.content_type);
    if (ar_query_parse(p, cx->s.dialect, apr_pstrdup(p, cx->path),
                       dup_or_null(p, cx->r->args), &h, shape))
        return 0;
    shape->aggregates = req->aggregates;
    if (restless_paged(cx, shape))
        ar_restless_window(shape, cx->s.max_rows, &per_page);
    return shape->limit == req->limit && shape->offset == req->offset
           && shape->media == req->media && shape->count == req->count
           && shape->single == req->single && shape->page == req->page
           && shape->per_page == req->per_page && !shape->pk_value == !req->pk_value
           && !shape->cursor && !shape->relationship && shape->relation
           && strcmp(shape->relation, req->relation) == 0;
}

/* Plans and renders req's shape into a new entry and keeps it; NULL when
 * it cannot be kept (the ordinary path then plans, and answers any error). */
static const ar_kept_read *keep_shape(context *cx, const ar_read_request *req,
                                      const char *key, apr_size_t len, apr_uint64_t hash)
{
    ar_kept_read *e = ar_read_cache_begin(cx->reads, key, len, hash);
    ar_read_request shape;
    int i;

    if (!e)
        return NULL;
    if (!parse_into(e->pool, cx, req, &shape))
        goto not_kept;
    if (shape.pk_value)
        shape.pk_value = key_slot;
    if (ar_plan_read(e->pool, cx->schema, &cx->s.exposure, &shape, cx->s.max_rows, &e->plan))
        goto not_kept;
    ar_sql_render_read(e->pool, &e->plan, &e->sql);
    for (i = 0; i < e->sql.params->nelts; i++) {
        if (APR_ARRAY_IDX(e->sql.params, i, const char *) != key_slot)
            continue;
        if (e->key_param >= 0) /* twice: not one parameter to put it in */
            goto not_kept;
        e->key_param = i;
    }
    if (shape.pk_value && (e->key_param < 0 || e->plan.pk_value != key_slot))
        goto not_kept;
    e->format = ar_row_format_make(e->pool, e->plan.columns);
    return ar_read_cache_keep(cx->reads, e);
not_kept:
    ar_read_cache_drop(e);
    return NULL;
}

/* The kept read for req's shape (kept now if seen before), or NULL. */
static const ar_kept_read *kept_read(context *cx, const ar_read_request *req)
{
    apr_size_t len;
    const char *key = shape_key(cx, req, &len);
    const ar_kept_read *kept;
    apr_uint64_t hash;

    if (!key)
        return NULL;
    hash = ar_hash_bytes(key, len);
    kept = ar_read_cache_find(cx->reads, key, len, hash);
    if (!kept && ar_read_cache_admit(cx->reads, hash))
        kept = keep_shape(cx, req, key, len, hash);
    return kept;
}

/* The read's plan, its cursor applied, its statement, and (when it was
 * kept) its row format; *format NULL: the caller makes one. */
static ar_error *plan_and_render(context *cx, const ar_read_request *req, ar_read_plan *plan,
                                 ar_sql *sql, const ar_row_format **format)
{
    apr_pool_t *p = cx->r->pool;
    const ar_kept_read *kept = format ? kept_read(cx, req) : NULL;
    ar_error *err;

    if (kept) {
        *plan = kept->plan;
        *sql = kept->sql;
        *format = kept->format;
        if (kept->key_param >= 0) {
            plan->pk_value = req->pk_value;
            sql->params = apr_array_copy(p, kept->sql.params);
            APR_ARRAY_IDX(sql->params, kept->key_param, const char *) = req->pk_value;
        }
        ar_status_read_kept();
        return NULL;
    }
    if (format)
        *format = NULL;
    err = ar_plan_read(p, cx->schema, &cx->s.exposure, req, cx->s.max_rows, plan);
    if (!err)
        err = ar_plan_apply_cursor(p, plan, req->cursor, cx->s.cursor_key,
                                   cx->s.cursor_key_len);
    if (!err)
        ar_sql_render_read(p, plan, sql);
    return err;
}

/* A plan's lines (text) or its one JSON document, as they come. */
typedef struct {
    apr_pool_t *p;
    apr_array_header_t *lines;
} plan_out;

static int on_plan_row(void *ctx, const ar_row *row)
{
    plan_out *po = ctx;
    int len;
    const char *v = ar_db_row_value(row, 0, &len);

    APR_ARRAY_PUSH(po->lines, const char *) = apr_pstrmemdup(po->p, v ? v : "", (apr_size_t)len);
    return 0;
}

/* PostgreSQL's EXPLAIN of sql (with the options asked: ANALYZE runs it), in
 * the request's transaction and role, as the answer. read_only: in a READ
 * ONLY transaction, so that ANALYZE of a call never writes. */
ar_error *ar_serve_explain(context *cx, const ar_read_request *req, ar_sql *sql, int read_only)
{
    request_rec *r = cx->r;
    ar_db_query q;
    plan_out po;
    ar_error *err;
    int json = req->media == AR_MEDIA_PLAN_JSON;
    const char *body;

    sql->text = apr_pstrcat(r->pool, "EXPLAIN (FORMAT ", json ? "JSON" : "TEXT",
                            req->plan_options ? req->plan_options : "", ") ", sql->text, NULL);
    po.p = r->pool;
    po.lines = apr_array_make(r->pool, 16, sizeof(const char *));
    memset(&q, 0, sizeof(q));
    q.sql = sql; /* state NULL: an EXPLAIN is not kept prepared */
    q.timeout_ms = cx->s.timeout_ms;
    q.request = &cx->request;
    q.read_only = read_only;
    q.on_row = on_plan_row;
    q.ctx = &po;
    if ((err = ar_db_stream(r->pool, cx->conn, &q)) != NULL)
        return err;
    body = apr_pstrcat(r->pool, apr_array_pstrcat(r->pool, po.lines, '\n'), "\n", NULL);
    ar_resp_send_body(r, json ? "application/vnd.pgrst.plan+json; for=\"application/json\"; "
                                "charset=utf-8"
                              : "application/vnd.pgrst.plan+text; for=\"application/json\"; "
                                "charset=utf-8",
                      body, strlen(body));
    return NULL;
}

/* Accept: application/vnd.pgrst.plan: the EXPLAIN of the very statement
 * the read would run, instead of its rows. */
static ar_error *run_plan(context *cx, ar_read_request *req, int *done)
{
    ar_read_request rows_req = *req;
    ar_read_plan plan;
    ar_sql sql;
    ar_error *err;

    *done = 0;
    rows_req.media = AR_MEDIA_JSON; /* the statement of the JSON answer */
    if ((err = plan_and_render(cx, &rows_req, &plan, &sql, NULL)) != NULL
        || (err = ar_serve_explain(cx, req, &sql, 0)) != NULL)
        return err;
    *done = 1;
    return NULL;
}

/* Whether this read sends the request's settings (request.method, .headers,
 * ...: PostgREST's). They are there for the database's own code to read, so
 * they go where the statement may run some (ar_read_plan_runs_code: a
 * policy, a view's function, a cast), where a role is taken or a
 * pre-request runs, and everywhere with AutoRestRequestSettings always. A
 * read of plain tables runs none: there the statement that sets them would
 * cost PostgreSQL a fifth of its time for one row by key. */
static int request_settings_read(const context *cx, const ar_read_plan *plan)
{
    return cx->s.request_settings_always || cx->request.role || cx->request.pre_request
           || ar_read_plan_runs_code(plan);
}

ar_error *ar_run_read(context *cx, ar_read_request *req, int *done)
{
    request_rec *r = cx->r;
    ar_read_plan plan;
    ar_sql sql, *pre;
    const ar_row_format *format;
    ar_db_query q;
    response resp;
    ar_error *err;
    int npre;

    if (req->media == AR_MEDIA_PLAN_TEXT || req->media == AR_MEDIA_PLAN_JSON)
        return run_plan(cx, req, done);
    *done = 0;
    memset(&resp, 0, sizeof(resp));
    if (restless_paged(cx, req))
        ar_restless_window(req, cx->s.max_rows, &resp.per_page);
    if ((err = plan_and_render(cx, req, &plan, &sql, &format)) != NULL)
        return err;
    npre = count_statements(cx, &plan, &pre);

    ar_resp_init(&resp, r, &cx->s, req, &plan, format);
    if (plan.media == AR_MEDIA_HTML && (err = ar_browse_page(cx, &resp)) != NULL)
        return err;
    memset(&q, 0, sizeof(q));
    q.state = cx->conn_state;
    q.pre = pre;
    q.npre = npre;
    q.pre_values = resp.counts;
    q.sql = &sql;
    q.timeout_ms = cx->s.timeout_ms;
    q.request = request_settings_read(cx, &plan) ? &cx->request : NULL;
    q.stream = plan.limit == AR_UNSET || plan.limit > STREAM_ABOVE_ROWS;
    resp.stream = q.stream;
    q.on_row = ar_resp_on_row;
    q.ctx = &resp;
    err = ar_db_stream(r->pool, cx->conn, &q);
    if (resp.streaming) {
        *done = 1;
        ar_resp_finish_streaming(&resp, err);
        return NULL;
    }
    if (err)
        return err;
    *done = 1;
    /* what the database had to say is here: the rest is from memory */
    ar_conn_give_back(cx);
    if (plan.parent && !resp.counts[npre - 1])
        return ar_error_make(r->pool, AR_ERR_NO_ROW,
                             apr_psprintf(r->pool, "no row of '%s' has %s '%s'",
                                          plan.parent->name, plan.parent_pk->name,
                                          plan.parent_value),
                             NULL, NULL);
    if (plan.related_one && !plan.pk_column && resp.rows == 0) {
        /* a to-one relationship without a related row: null; in CSV, the
         * header and no row */
        if (plan.media == AR_MEDIA_NDJSON) /* no line: no object */
            return (ar_resp_send_body(r, ar_media_types[AR_MEDIA_NDJSON], "", 0), NULL);
        if (plan.media != AR_MEDIA_CSV)
            return (ar_resp_send_body(r, ar_media_types[AR_MEDIA_JSON], "null", 4), NULL);
        ar_resp_open_document(&resp);
        ar_resp_send_body(r, ar_media_types[AR_MEDIA_CSV], resp.out.buf, resp.out.len);
        return NULL;
    }
    if (plan.single) {
        if ((err = single_row_error(cx, req, &plan, &resp)) != NULL)
            return err;
        if (req->profile)
            apr_table_setn(r->headers_out, "Content-Profile", req->profile);
        return (ar_resp_send_body(r, ar_resp_single_type(plan.media, req->media), resp.out.buf,
                                  resp.out.len), NULL);
    }
    /* Past the end of a counted result: 416, as PostgREST answers. */
    if (plan.count != AR_COUNT_NONE && cx->s.dialect == AR_DIALECT_POSTGREST
        && resp.rows == 0 && plan.offset > 0
        && plan.offset + plan.skipped >= ar_resp_total_rows(&resp)) {
        apr_table_setn(r->headers_out, "Content-Range",
                       apr_psprintf(r->pool, "*/%" APR_INT64_T_FMT, ar_resp_total_rows(&resp)));
        return ar_error_make(r->pool, AR_ERR_RANGE_UNSATISFIABLE,
                             "Requested range not satisfiable",
                             apr_psprintf(r->pool, "offset %" APR_INT64_T_FMT " is past the %"
                                          APR_INT64_T_FMT " rows", plan.offset,
                                          ar_resp_total_rows(&resp)), NULL);
    }
    ar_resp_collection_headers(&resp, 1);
    ar_resp_close_document(&resp); /* after the headers: a page shows its links */
    if (req->profile)
        apr_table_setn(r->headers_out, "Content-Profile", req->profile);
    ar_resp_send_held(&resp);
    return NULL;
}
