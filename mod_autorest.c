/*
 * mod_autorest.c: the httpd glue. The only file that speaks HTTP.
 *
 * It owns: the directives and their per-directory merging, the per-child
 * schema cache, the handler (route, borrow a connection from mod_dbd, run the
 * core's stages, write headers and stream the body through the filter
 * chain), and turning ar_error values into JSON responses.
 */
#include <string.h>

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <util_filter.h>
#include <apr_dbd.h>
#include <mod_dbd.h>
#include <apr_optional.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "autorest.h"

module AP_MODULE_DECLARE_DATA autorest_module;

#define JSON_TYPE "application/json; charset=utf-8"
#define ALLOWED_METHODS "GET, HEAD, OPTIONS"

/* Bytes of a response held back before the first one is sent. A page that
 * fits gets exact Content-Range and Link headers and a Content-Length; a
 * larger one streams with headers decided up front (see send_collection). */
#define HOLD_BYTES (4 * 1024 * 1024)
#define CHUNK_BYTES (64 * 1024)

/* An unknown relation refreshes the cache at most this often, so a client
 * probing names cannot turn every request into a catalogue scan. */
#define UNKNOWN_REFRESH_INTERVAL apr_time_from_sec(1)

static APR_OPTIONAL_FN_TYPE(ap_dbd_acquire) *dbd_acquire;

/* ------------------------------------------------------------ directives */

typedef struct {
    const char *location;          /* the <Location> path these settings came from */
    apr_array_header_t *schemas;   /* NULL: unset */
    apr_hash_t *excluded;          /* NULL: unset */
    apr_hash_t *hidden;            /* NULL: unset */
    apr_int64_t max_rows;          /* AR_UNSET: unset */
    int timeout;                   /* seconds; AR_UNSET: unset */
    int schema_max_age;            /* seconds; AR_UNSET: unset */
} dir_conf;

#define AR_DEFAULT_MAX_ROWS 1000
#define AR_DEFAULT_TIMEOUT 10
#define AR_DEFAULT_SCHEMA_MAX_AGE 60

static void *create_dir_conf(apr_pool_t *p, char *dir)
{
    dir_conf *c = apr_pcalloc(p, sizeof(*c));

    c->location = dir;
    c->max_rows = AR_UNSET;
    c->timeout = AR_UNSET;
    c->schema_max_age = AR_UNSET;
    return c;
}

/* Exclusions and hidden columns accumulate down nested Locations: an inner
 * block can hide more, never reveal what an outer one hid. */
static apr_hash_t *merge_sets(apr_pool_t *p, apr_hash_t *base, apr_hash_t *add)
{
    if (!base)
        return add;
    if (!add)
        return base;
    return apr_hash_overlay(p, add, base);
}

static void *merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
    dir_conf *base = basev, *add = addv, *c = apr_pcalloc(p, sizeof(*c));

    c->location = add->location ? add->location : base->location;
    c->schemas = add->schemas ? add->schemas : base->schemas;
    c->excluded = merge_sets(p, base->excluded, add->excluded);
    c->hidden = merge_sets(p, base->hidden, add->hidden);
    c->max_rows = add->max_rows != AR_UNSET ? add->max_rows : base->max_rows;
    c->timeout = add->timeout != AR_UNSET ? add->timeout : base->timeout;
    c->schema_max_age =
        add->schema_max_age != AR_UNSET ? add->schema_max_age : base->schema_max_age;
    return c;
}

static const char *set_schemas(cmd_parms *cmd, void *cfg, const char *arg)
{
    dir_conf *c = cfg;

    if (!c->schemas)
        c->schemas = apr_array_make(cmd->pool, 2, sizeof(const char *));
    APR_ARRAY_PUSH(c->schemas, const char *) = arg;
    return NULL;
}

static const char *dotted_name(cmd_parms *cmd, const char *arg, int parts)
{
    const char *s;
    int dots = 0;

    for (s = arg; *s; s++)
        dots += *s == '.';
    if (dots != parts - 1 || arg[0] == '.' || s[-1] == '.' || strstr(arg, ".."))
        return apr_psprintf(cmd->pool, "%s: '%s' is not %s", cmd->cmd->name, arg,
                            parts == 2 ? "schema.relation" : "schema.relation.column");
    return NULL;
}

static const char *set_exclude(cmd_parms *cmd, void *cfg, const char *arg)
{
    dir_conf *c = cfg;
    const char *err = dotted_name(cmd, arg, 2);

    if (err)
        return err;
    if (!c->excluded)
        c->excluded = apr_hash_make(cmd->pool);
    apr_hash_set(c->excluded, arg, APR_HASH_KEY_STRING, "");
    return NULL;
}

static const char *set_hide(cmd_parms *cmd, void *cfg, const char *arg)
{
    dir_conf *c = cfg;
    const char *err = dotted_name(cmd, arg, 3);

    if (err)
        return err;
    if (!c->hidden)
        c->hidden = apr_hash_make(cmd->pool);
    apr_hash_set(c->hidden, arg, APR_HASH_KEY_STRING, "");
    return NULL;
}

static const char *parse_seconds_or_count(cmd_parms *cmd, const char *arg,
                                          apr_int64_t max, apr_int64_t *out)
{
    char *end;
    apr_int64_t v = apr_strtoi64(arg, &end, 10);

    if (*arg == '\0' || *end != '\0' || v < 0 || v > max)
        return apr_psprintf(cmd->pool, "%s takes a whole number from 0 to %" APR_INT64_T_FMT,
                            cmd->cmd->name, max);
    *out = v;
    return NULL;
}

static const char *set_max_rows(cmd_parms *cmd, void *cfg, const char *arg)
{
    dir_conf *c = cfg;

    return parse_seconds_or_count(cmd, arg, APR_INT64_C(1000000000000), &c->max_rows);
}

static const char *set_int_seconds(cmd_parms *cmd, const char *arg, int *out)
{
    apr_int64_t v = 0;
    const char *err = parse_seconds_or_count(cmd, arg, 86400 * 365, &v);

    if (!err)
        *out = (int)v;
    return err;
}

static const char *set_timeout(cmd_parms *cmd, void *cfg, const char *arg)
{
    return set_int_seconds(cmd, arg, &((dir_conf *)cfg)->timeout);
}

static const char *set_schema_max_age(cmd_parms *cmd, void *cfg, const char *arg)
{
    return set_int_seconds(cmd, arg, &((dir_conf *)cfg)->schema_max_age);
}

static const command_rec autorest_cmds[] = {
    AP_INIT_ITERATE("AutoRestSchemas", set_schemas, NULL, ACCESS_CONF,
                    "PostgreSQL schemas served here; the first is the default"),
    AP_INIT_ITERATE("AutoRestExclude", set_exclude, NULL, ACCESS_CONF,
                    "schema.relation names never served"),
    AP_INIT_ITERATE("AutoRestHide", set_hide, NULL, ACCESS_CONF,
                    "schema.relation.column names never shown"),
    AP_INIT_TAKE1("AutoRestMaxRows", set_max_rows, NULL, ACCESS_CONF,
                  "most rows in one response (default 1000; 0 = no cap)"),
    AP_INIT_TAKE1("AutoRestTimeout", set_timeout, NULL, ACCESS_CONF,
                  "statement timeout in seconds per request (default 10; 0 = none)"),
    AP_INIT_TAKE1("AutoRestSchemaMaxAge", set_schema_max_age, NULL, ACCESS_CONF,
                  "seconds a reflected schema is trusted before it is read again "
                  "(default 60; 0 = until restart)"),
    {NULL}
};

typedef struct {
    ar_exposure exposure;
    apr_int64_t max_rows;
    long timeout_ms;
    apr_interval_time_t schema_max_age;   /* 0: never expires */
    const char *location;
} settings;

static void effective_settings(request_rec *r, const dir_conf *c, settings *s)
{
    static const char *const public_schema[] = {"public"};
    static apr_array_header_t dflt;

    if (!c->schemas) {
        dflt.nelts = 1;
        dflt.nalloc = 1;
        dflt.elt_size = sizeof(const char *);
        dflt.elts = (char *)public_schema;
    }
    s->exposure.schemas = c->schemas ? c->schemas : &dflt;
    s->exposure.excluded = c->excluded;
    s->exposure.hidden = c->hidden;
    s->max_rows = c->max_rows != AR_UNSET ? c->max_rows : AR_DEFAULT_MAX_ROWS;
    s->timeout_ms = 1000L * (c->timeout != AR_UNSET ? c->timeout : AR_DEFAULT_TIMEOUT);
    s->schema_max_age = apr_time_from_sec(
        c->schema_max_age != AR_UNSET ? c->schema_max_age : AR_DEFAULT_SCHEMA_MAX_AGE);
    s->location = c->location ? c->location : "";
    (void)r;
}

/* ---------------------------------------------------------- schema cache */

/*
 * One cache per child process, shared by its threads. Each entry (one
 * database pool and one list of schemas) points at its current snapshot. A
 * snapshot is immutable and reference-counted: the cache holds one
 * reference, each request using it another. A refresh builds a new snapshot
 * beside the old one and swaps the pointer; the old one is destroyed when its
 * last reader finishes, so no thread ever reads freed memory.
 */
typedef struct snapshot {
    ar_schema *schema;
    apr_pool_t *pool;
    int refs;
} snapshot;

typedef struct {
    snapshot *current;
    int refreshing;
    apr_time_t last_forced;
} cache_entry;

static apr_pool_t *cache_pool;
static apr_thread_mutex_t *cache_lock;
static apr_hash_t *cache;

static void snapshot_unref_locked(snapshot *snap)
{
    if (--snap->refs == 0)
        apr_pool_destroy(snap->pool);
}

static apr_status_t snapshot_release(void *data)
{
    apr_thread_mutex_lock(cache_lock);
    snapshot_unref_locked(data);
    apr_thread_mutex_unlock(cache_lock);
    return APR_SUCCESS;
}

static cache_entry *cache_entry_for(request_rec *r, const settings *s)
{
    const char *key = apr_psprintf(r->pool, "%pp|", (void *)r->server);
    cache_entry *e;
    int i;

    for (i = 0; i < s->exposure.schemas->nelts; i++)
        key = apr_pstrcat(r->pool, key, APR_ARRAY_IDX(s->exposure.schemas, i, const char *),
                          "|", NULL);
    e = apr_hash_get(cache, key, APR_HASH_KEY_STRING);
    if (!e) {
        e = apr_pcalloc(cache_pool, sizeof(*e));
        apr_hash_set(cache, apr_pstrdup(cache_pool, key), APR_HASH_KEY_STRING, e);
    }
    return e;
}

static ar_error *reflect_into_snapshot(request_rec *r, PGconn *conn, const settings *s,
                                       snapshot **out)
{
    apr_pool_t *pool;
    ar_schema *schema;
    ar_error *err;
    apr_array_header_t *schemas;

    /* Unmanaged: a snapshot outlives requests and is freed from any thread. */
    if (apr_pool_create_unmanaged(&pool) != APR_SUCCESS)
        return ar_error_make(r->pool, AR_ERR_CONFIG, "out of memory", NULL, NULL);
    schemas = apr_array_copy(pool, s->exposure.schemas);
    err = ar_reflect_load(conn, pool, schemas, &schema);
    if (err && err->kind == AR_ERR_DB_UNAVAILABLE && ar_db_usable(conn))
        err = ar_reflect_load(conn, pool, schemas, &schema);
    if (err) {
        ar_error *copy = ar_error_make(r->pool, err->kind, err->message, NULL, err->hint);
        copy->log = apr_pstrdup(r->pool, err->log);
        apr_pool_destroy(pool);
        return copy;
    }
    *out = apr_pcalloc(pool, sizeof(snapshot));
    (*out)->schema = schema;
    (*out)->pool = pool;
    (*out)->refs = 1; /* the cache's */
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                  "reflected %d relations", schema->relations->nelts);
    return NULL;
}

/*
 * The snapshot this request reads. stale: a snapshot the caller found out of
 * date (a relation or column it needs is gone or new); when it is still the
 * current one, this request replaces it. An expired snapshot is replaced by
 * one thread while the others keep serving it.
 */
static ar_error *snapshot_acquire(request_rec *r, PGconn *conn, const settings *s,
                                  const ar_schema *stale, const ar_schema **out)
{
    cache_entry *e;
    snapshot *snap, *fresh = NULL;
    int refresh;
    ar_error *err = NULL;

    apr_thread_mutex_lock(cache_lock);
    e = cache_entry_for(r, s);
    snap = e->current;
    if (!snap || (stale && snap->schema == stale))
        refresh = 1; /* this request cannot go on without a fresh one */
    else if (stale)
        refresh = 0; /* another thread has already swapped one in */
    else
        refresh = s->schema_max_age > 0 && !e->refreshing
                  && apr_time_now() - snap->schema->loaded_at > s->schema_max_age;
    if (refresh)
        e->refreshing = 1;
    apr_thread_mutex_unlock(cache_lock);

    if (refresh)
        err = reflect_into_snapshot(r, conn, s, &fresh);

    apr_thread_mutex_lock(cache_lock);
    if (refresh)
        e->refreshing = 0;
    if (fresh) {
        if (e->current)
            snapshot_unref_locked(e->current);
        e->current = fresh;
    }
    snap = e->current;
    if (snap) {
        snap->refs++;
        apr_pool_cleanup_register(r->pool, snap, snapshot_release, apr_pool_cleanup_null);
        *out = snap->schema;
        err = NULL; /* an older snapshot still serves */
    }
    apr_thread_mutex_unlock(cache_lock);
    if (err && snap)
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "schema refresh failed, serving the "
                      "previous one: %s", err->log ? err->log : err->message);
    return snap ? NULL : err;
}

/* Whether an unknown name may trigger a refresh now (rate-limited). */
static int may_refresh_for_unknown(request_rec *r, const settings *s)
{
    cache_entry *e;
    int ok;
    apr_time_t now = apr_time_now();

    apr_thread_mutex_lock(cache_lock);
    e = cache_entry_for(r, s);
    ok = now - e->last_forced >= UNKNOWN_REFRESH_INTERVAL;
    if (ok)
        e->last_forced = now;
    apr_thread_mutex_unlock(cache_lock);
    return ok;
}

/* ------------------------------------------------------------- responses */

static int send_error(request_rec *r, const ar_error *err)
{
    const char *body = ar_error_json(r->pool, err);
    int status = ar_error_status(err);

    if (err->log)
        ap_log_rerror(APLOG_MARK, status >= 500 ? APLOG_ERR : APLOG_INFO, 0, r,
                      "%s: %s", err->code, err->log);
    if (err->kind == AR_ERR_METHOD)
        apr_table_setn(r->headers_out, "Allow", ALLOWED_METHODS);
    r->status = status;
    ap_set_content_type(r, JSON_TYPE);
    ap_set_content_length(r, (apr_off_t)strlen(body));
    ap_rputs(body, r);
    return OK;
}

static int send_json(request_rec *r, const char *body, apr_size_t len)
{
    ap_set_content_type(r, JSON_TYPE);
    ap_set_content_length(r, (apr_off_t)len);
    ap_rwrite(body, (int)len, r);
    return OK;
}

/* The rows of one response, on their way out. */
typedef struct {
    request_rec *r;
    const ar_read_plan *plan;
    const ar_row_format *format;
    ar_out out;
    apr_bucket_brigade *bb;
    const char **values;
    int *lens;
    apr_int64_t rows;      /* written */
    int more;              /* the probe row came: another page follows */
    int streaming;         /* headers are out; the body is flowing */
    const char *page_url;  /* path for Link headers */
} response;

static void set_collection_headers(response *resp, int complete);

/* ar_out's flush: the first call commits the headers, later ones send
 * chunks. A failed pass means the client went away. */
static int flush_to_client(void *ctx, const char *data, apr_size_t len)
{
    response *resp = ctx;
    request_rec *r = resp->r;
    apr_status_t rv;

    if (!resp->streaming) {
        resp->streaming = 1;
        set_collection_headers(resp, 0);
        resp->out.flush_at = CHUNK_BYTES;
    }
    APR_BRIGADE_INSERT_TAIL(resp->bb, apr_bucket_transient_create(
                                          data, len, r->connection->bucket_alloc));
    rv = ap_pass_brigade(r->output_filters, resp->bb);
    apr_brigade_cleanup(resp->bb);
    return rv == APR_SUCCESS && !r->connection->aborted ? 0 : -1;
}

static int on_row(void *ctx, const struct pg_result *row)
{
    response *resp = ctx;
    const ar_read_plan *plan = resp->plan;

    if (plan->probe_next && resp->rows == plan->limit) {
        resp->more = 1; /* the LIMIT made this the last row anyway */
        return 0;
    }
    ar_db_row_values(row, resp->format->ncols, resp->values, resp->lens);
    if (!plan->single)
        ar_out_write(&resp->out, resp->rows ? "," : "[", 1);
    ar_json_write_row(&resp->out, resp->format, resp->values, resp->lens);
    resp->rows++;
    return resp->out.failed ? -1 : 0;
}

static const char *page_link(response *resp, apr_int64_t offset, const char *rel)
{
    return apr_psprintf(resp->r->pool, "<%s?limit=%" APR_INT64_T_FMT "&offset=%" APR_INT64_T_FMT
                        ">; rel=\"%s\"", resp->page_url, resp->plan->limit, offset, rel);
}

/*
 * Content-Range and Link. complete: every row is in hand, so the counts are
 * exact. Otherwise (a page larger than HOLD_BYTES) they are what the plan
 * promises: the requested range, and rel="next" whenever the page is full.
 */
static void set_collection_headers(response *resp, int complete)
{
    request_rec *r = resp->r;
    const ar_read_plan *plan = resp->plan;
    apr_int64_t first = plan->offset, n = resp->rows;
    int more = resp->more;
    const char *range;
    apr_array_header_t *links = apr_array_make(r->pool, 3, sizeof(const char *));

    if (!complete) {
        n = plan->limit != AR_UNSET ? plan->limit : 0;
        more = plan->limit != AR_UNSET;
    }
    if (n == 0)
        range = (first == 0 && !more && complete) ? "*/0" : "*/*";
    else if (more || !complete)
        range = apr_psprintf(r->pool, "%" APR_INT64_T_FMT "-%" APR_INT64_T_FMT "/*", first,
                             first + n - 1);
    else
        range = apr_psprintf(r->pool, "%" APR_INT64_T_FMT "-%" APR_INT64_T_FMT
                             "/%" APR_INT64_T_FMT, first, first + n - 1, first + n);
    if (complete || plan->limit != AR_UNSET)
        apr_table_setn(r->headers_out, "Content-Range", range);
    apr_table_setn(r->headers_out, "Range-Unit", "items");

    if (plan->limit != AR_UNSET && plan->limit > 0) {
        if (more)
            APR_ARRAY_PUSH(links, const char *) = page_link(resp, first + plan->limit, "next");
        if (first > 0) {
            apr_int64_t prev = first > plan->limit ? first - plan->limit : 0;
            APR_ARRAY_PUSH(links, const char *) = page_link(resp, prev, "prev");
            APR_ARRAY_PUSH(links, const char *) = page_link(resp, 0, "first");
        }
    }
    if (links->nelts)
        apr_table_setn(r->headers_out, "Link", apr_array_pstrcat(r->pool, links, ','));
    ap_set_content_type(r, JSON_TYPE);
}

/* Ends a response whose headers already went out: a clean end of the JSON,
 * or, when the query failed midway, a broken connection the client cannot
 * mistake for a complete document. */
static int finish_streaming(response *resp, const ar_error *err)
{
    request_rec *r = resp->r;

    if (err) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "query failed after the response began: %s: %s", err->code,
                      err->log ? err->log : err->message);
        r->connection->keepalive = AP_CONN_CLOSE;
        apr_brigade_cleanup(resp->bb);
        APR_BRIGADE_INSERT_TAIL(resp->bb, ap_bucket_error_create(
                                              HTTP_BAD_GATEWAY, NULL, r->pool,
                                              r->connection->bucket_alloc));
        APR_BRIGADE_INSERT_TAIL(resp->bb, apr_bucket_eos_create(r->connection->bucket_alloc));
        ap_pass_brigade(r->output_filters, resp->bb);
        return OK;
    }
    if (!resp->out.failed) {
        ar_out_puts(&resp->out, resp->rows ? "]" : "[]");
        ar_out_flush(&resp->out);
    }
    if (resp->out.failed)
        return OK; /* the client left; nothing more to say */
    APR_BRIGADE_INSERT_TAIL(resp->bb, apr_bucket_eos_create(r->connection->bucket_alloc));
    ap_pass_brigade(r->output_filters, resp->bb);
    return OK;
}

/* ---------------------------------------------------------------- handler */

typedef struct {
    request_rec *r;
    settings s;
    PGconn *conn;
    const ar_schema *schema;
} context;

static ar_error *run_read(context *cx, const ar_read_request *req, int *done)
{
    request_rec *r = cx->r;
    ar_read_plan plan;
    ar_sql sql;
    response resp;
    ar_error *err;

    *done = 0;
    err = ar_plan_read(r->pool, cx->schema, &cx->s.exposure, req, cx->s.max_rows, &plan);
    if (err)
        return err;
    ar_sql_render_read(r->pool, &plan, &sql);

    memset(&resp, 0, sizeof(resp));
    resp.r = r;
    resp.plan = &plan;
    resp.format = ar_row_format_make(r->pool, plan.columns);
    resp.values = apr_palloc(r->pool, sizeof(char *) * (plan.columns->nelts + 1));
    resp.lens = apr_palloc(r->pool, sizeof(int) * (plan.columns->nelts + 1));
    resp.bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    resp.page_url = ap_escape_uri(r->pool, r->uri);
    ar_out_init(&resp.out, r->pool, plan.single ? 0 : HOLD_BYTES, flush_to_client, &resp);

    err = ar_db_stream(r->pool, cx->conn, &sql, cx->s.timeout_ms, on_row, &resp);
    if (resp.streaming) {
        *done = 1;
        finish_streaming(&resp, err);
        return NULL;
    }
    if (err)
        return err;
    *done = 1;
    if (plan.single) {
        if (resp.rows == 0)
            return ar_error_make(r->pool, AR_ERR_NO_ROW,
                                 apr_psprintf(r->pool, "no row of '%s' has %s '%s'",
                                              req->relation, plan.pk_column->name,
                                              req->pk_value),
                                 NULL, NULL);
        return (send_json(r, resp.out.buf, resp.out.len), NULL);
    }
    ar_out_puts(&resp.out, resp.rows ? "]" : "[]");
    set_collection_headers(&resp, 1);
    send_json(r, resp.out.buf, resp.out.len);
    return NULL;
}

/* The path below this Location, or NULL when r->uri is not under it (a
 * <Location /api> also matches "/apiary"). */
static const char *path_below(request_rec *r, const char *location)
{
    apr_size_t n = strlen(location);

    while (n > 0 && location[n - 1] == '/')
        n--;
    if (strncmp(r->uri, location, n) != 0)
        return NULL;
    if (r->uri[n] != '\0' && r->uri[n] != '/')
        return NULL;
    return r->uri + n;
}

static ar_error *serve(context *cx)
{
    request_rec *r = cx->r;
    ar_read_request req;
    ap_dbd_t *dbd;
    ar_error *err;
    const char *path;
    int done, attempt;

    path = path_below(r, cx->s.location);
    if (!path)
        return ar_error_make(r->pool, AR_ERR_NO_ROUTE, "no such resource", NULL, NULL);
    err = ar_query_parse(r->pool, path, r->args, apr_table_get(r->headers_in, "Range"),
                         apr_table_get(r->headers_in, "Range-Unit"), &req);
    if (err)
        return err;

    dbd = dbd_acquire(r);
    if (!dbd)
        return ar_error_make(r->pool, AR_ERR_DB_UNAVAILABLE, "the database is not reachable",
                             NULL, "try again later");
    if (strcmp(apr_dbd_name(dbd->driver), "pgsql") != 0) {
        err = ar_error_make(r->pool, AR_ERR_CONFIG, "this API is not set up correctly",
                            NULL, NULL);
        err->log = "mod_autorest needs DBDriver pgsql";
        return err;
    }
    cx->conn = apr_dbd_native_handle(dbd->driver, dbd->handle);
    if ((err = snapshot_acquire(r, cx->conn, &cx->s, NULL, &cx->schema)) != NULL)
        return err;

    if (!req.relation) {
        apr_size_t len;
        apr_size_t n = strlen(cx->s.location);
        const char *base;
        char *body;

        while (n > 0 && cx->s.location[n - 1] == '/')
            n--;
        base = apr_pstrmemdup(r->pool, cx->s.location, n);
        body = ar_json_index(r->pool, cx->schema, &cx->s.exposure, base, &len);
        if (!body)
            return ar_error_make(r->pool, AR_ERR_CONFIG, "out of memory", NULL, NULL);
        send_json(r, body, len);
        return NULL;
    }

    /* A stale snapshot shows as an unknown relation (one was created) or a
     * vanished column (one was dropped): refresh once and try again. */
    for (attempt = 0;; attempt++) {
        err = run_read(cx, &req, &done);
        if (done || !err || attempt > 0)
            return err;
        if (err->kind == AR_ERR_NO_RELATION && may_refresh_for_unknown(r, &cx->s)) {
            ar_error *e2 = snapshot_acquire(r, cx->conn, &cx->s, cx->schema, &cx->schema);
            if (e2)
                return e2;
            continue;
        }
        if (err->kind == AR_ERR_DB_SCHEMA_CHANGED) {
            ar_error *e2 = snapshot_acquire(r, cx->conn, &cx->s, cx->schema, &cx->schema);
            if (e2)
                return e2;
            continue;
        }
        return err;
    }
}

static int autorest_handler(request_rec *r)
{
    context cx;
    ar_error *err;

    if (!r->handler || strcmp(r->handler, "autorest") != 0)
        return DECLINED;
    r->allowed = (AP_METHOD_BIT << M_GET) | (AP_METHOD_BIT << M_OPTIONS);

    memset(&cx, 0, sizeof(cx));
    cx.r = r;
    effective_settings(r, ap_get_module_config(r->per_dir_config, &autorest_module), &cx.s);

    if (r->method_number == M_OPTIONS) {
        apr_table_setn(r->headers_out, "Allow", ALLOWED_METHODS);
        ap_set_content_length(r, 0);
        return OK;
    }
    if (r->method_number != M_GET) {
        ap_discard_request_body(r);
        return send_error(r, ar_error_make(r->pool, AR_ERR_METHOD,
                                           apr_psprintf(r->pool, "method %s is not allowed here",
                                                        r->method),
                                           NULL, "this API is read-only: " ALLOWED_METHODS));
    }
    if (ap_discard_request_body(r) != OK)
        return send_error(r, ar_error_make(r->pool, AR_ERR_BAD_PARAM,
                                           "the request body could not be read", NULL, NULL));

    err = serve(&cx);
    return err ? send_error(r, err) : OK;
}

/* ------------------------------------------------------------------ hooks */

static int autorest_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                                server_rec *s)
{
    (void)pconf; (void)plog; (void)ptemp;
    dbd_acquire = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire);
    if (!dbd_acquire) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s,
                     "mod_autorest needs mod_dbd: add 'LoadModule dbd_module "
                     "modules/mod_dbd.so' (a2enmod dbd) before mod_autorest");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

static void autorest_child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_status_t rv;

    json_object_seed(0);
    /* The cache lives as long as the child; snapshots have their own pools. */
    apr_pool_create(&cache_pool, pchild);
    rv = apr_thread_mutex_create(&cache_lock, APR_THREAD_MUTEX_DEFAULT, pchild);
    if (rv != APR_SUCCESS)
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                     "mod_autorest: cannot create the schema cache lock");
    cache = apr_hash_make(cache_pool);
}

static void autorest_register_hooks(apr_pool_t *p)
{
    static const char *const after_dbd[] = {"mod_dbd.c", NULL};

    (void)p;
    ap_hook_post_config(autorest_post_config, after_dbd, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(autorest_child_init, after_dbd, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(autorest_handler, NULL, NULL, APR_HOOK_MIDDLE);
}

AP_DECLARE_MODULE(autorest) = {
    STANDARD20_MODULE_STUFF,
    create_dir_conf,
    merge_dir_conf,
    NULL,
    NULL,
    autorest_cmds,
    autorest_register_hooks,
    AP_MODULE_FLAG_NONE
};
