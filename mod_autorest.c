/*
 * mod_autorest.c: the module record, its hooks, and the handler: decline
 * fast, check the method against AutoRestMethods, borrow a connection from
 * mod_dbd, take the schema snapshot, and hand the request to the read,
 * write or call runner, once mod_autorest_role.c has said who is asking.
 * The other mod_autorest_*.c files hold the rest of the glue (see
 * mod_autorest_glue.h); only the glue speaks HTTP.
 */
#include <stdlib.h>
#include <string.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <apr_dbd.h>
#include <mod_dbd.h>
#include <apr_optional.h>
#include <apr_strings.h>
#include <jansson.h>

#define AR_GLUE_MODULE_RECORD
#include "mod_autorest_glue.h"

/* What a malloc arena keeps before it gives memory back (see child_init). */
#define MALLOC_TRIM_THRESHOLD (4 * 1024 * 1024)

static APR_OPTIONAL_FN_TYPE(ap_dbd_open) *dbd_open;
static APR_OPTIONAL_FN_TYPE(ap_dbd_close) *dbd_close;

/* A request's pooled connection: it goes back to the pool when the request
 * ends, or as soon as a read's answer is whole (ar_conn_give_back). Not
 * ap_dbd_acquire's, which holds it until the request pool goes, after the
 * answer was written to the client and logged: a client that reads slowly
 * (its window and httpd's send buffer full) kept a connection from every
 * other request for as long as it took (t/shell/startup.sh, part 4: with
 * one connection, another read waited 6.5 s for such a client; now 11 ms).
 * pooled: mod_dbd lends it from its pool (DBDPersist On, the default); a
 * once-only connection (Off) lives in a pool below the request's and goes
 * with it, as ap_dbd_acquire leaves it, unless given back before. */
struct held_connection {
    server_rec *s;
    ap_dbd_t *dbd;
    int pooled;
};
typedef struct held_connection held_connection;

static apr_status_t connection_back(void *data)
{
    held_connection *held = data;

    dbd_close(held->s, held->dbd);
    return APR_SUCCESS;
}

static ap_dbd_t *connection_take(context *cx)
{
    request_rec *r = cx->r;
    held_connection *held;
    ap_dbd_t *dbd = dbd_open(r->pool, r->server);

    if (!dbd)
        return NULL;
    held = apr_palloc(r->pool, sizeof(*held));
    held->s = r->server;
    held->dbd = dbd;
    /* a once-only connection's pool is destroyed with the request's before
     * that pool's cleanups run: closing it from one would free it twice */
    held->pooled = !apr_pool_is_ancestor(r->pool, dbd->pool);
    if (held->pooled)
        apr_pool_cleanup_register(r->pool, held, connection_back, apr_pool_cleanup_null);
    cx->held = held;
    return dbd;
}

void ar_conn_give_back(context *cx)
{
    /* only a connection with nothing of this request left on it: no
     * transaction open, no pipeline unread */
    if (!cx->held || !cx->conn || PQtransactionStatus(cx->conn) != PQTRANS_IDLE
        || PQpipelineStatus(cx->conn) != PQ_PIPELINE_OFF)
        return;
    /* its statement counts, before another thread takes it */
    ar_status_db_done(cx);
    if (cx->held->pooled)
        apr_pool_cleanup_run(cx->r->pool, cx->held, connection_back);
    else
        connection_back(cx->held);
    cx->held = NULL;
    cx->conn = NULL;
}

/* Our state for a pooled connection lives in the connection's own pool, so
 * it goes when mod_dbd closes the connection. Only the thread holding the
 * connection touches it. */
static ar_conn_state *connection_state(ap_dbd_t *dbd)
{
    static const char key[] = "autorest:conn_state";
    void *st = NULL;

    apr_pool_userdata_get(&st, key, dbd->pool);
    if (!st) {
        st = ar_conn_state_create(dbd->pool);
        apr_pool_userdata_set(st, key, apr_pool_cleanup_null, dbd->pool);
    }
    return st;
}

/* The Location's path without trailing slashes: what URLs are built on. */
apr_size_t ar_location_base_len(const char *location)
{
    apr_size_t n = strlen(location);

    while (n > 0 && location[n - 1] == '/')
        n--;
    return n;
}

/* The path below this Location, or NULL when r->uri is not under it (a
 * <Location /api> also matches "/apiary"). */
static const char *path_below(request_rec *r, const char *location)
{
    apr_size_t n = ar_location_base_len(location);

    if (strncmp(r->uri, location, n) != 0)
        return NULL;
    if (r->uri[n] != '\0' && r->uri[n] != '/')
        return NULL;
    return r->uri + n;
}

/* Whether the request is a call: /rpc/<function> where AutoRestRPC serves
 * functions (PostgREST's dialect only). */
static int is_call(request_rec *r, const settings *s)
{
    const char *path;

    if (s->rpc == AR_RPC_OFF || s->dialect != AR_DIALECT_POSTGREST)
        return 0;
    path = path_below(r, s->location);
    if (!path)
        return 0;
    while (*path == '/')
        path++;
    return strncmp(path, "rpc/", 4) == 0;
}

ar_error *ar_dbd_pgconn(apr_pool_t *p, const ap_dbd_t *dbd, PGconn **conn)
{
    ar_error *err;

    if (!dbd)
        return ar_error_make(p, AR_ERR_DB_UNAVAILABLE, "the database is not reachable", NULL,
                             "try again later");
    if (strcmp(apr_dbd_name(dbd->driver), "pgsql") != 0) {
        err = ar_error_make(p, AR_ERR_CONFIG, "this API is not set up correctly", NULL, NULL);
        err->log = "mod_autorest needs DBDriver pgsql";
        return err;
    }
    *conn = apr_dbd_native_handle(dbd->driver, dbd->handle);
    return NULL;
}

static ar_error *serve(context *cx, int write)
{
    request_rec *r = cx->r;
    ar_read_request req;
    ar_request_headers h;
    ap_dbd_t *dbd;
    ar_error *err;
    const char *path;
    int done, attempt, method;
    unsigned long mark;
    apr_time_t waited;

    path = path_below(r, cx->s.location);
    if (!path)
        return ar_error_make(r->pool, AR_ERR_NO_ROUTE, "no such resource", NULL, NULL);
    h.range = apr_table_get(r->headers_in, "Range");
    h.range_unit = apr_table_get(r->headers_in, "Range-Unit");
    h.prefer = apr_table_get(r->headers_in, "Prefer");
    h.accept = apr_table_get(r->headers_in, "Accept");
    /* a write names its schema in Content-Profile, a read in Accept-Profile */
    h.accept_profile = apr_table_get(r->headers_in, write ? "Content-Profile" : "Accept-Profile");
    h.content_type = apr_table_get(r->headers_in, "Content-Type");
    h.calls = 1; /* /rpc/ is reserved, as in PostgREST; served per AutoRestRPC */
    method = cx->form_method ? cx->form_method : r->method_number;
    h.method = method == M_POST     ? AR_WRITE_INSERT
               : method == M_PATCH  ? AR_WRITE_UPDATE
               : method == M_PUT    ? AR_WRITE_PUT
               : method == M_DELETE ? AR_WRITE_DELETE
                                    : AR_WRITE_NONE;
    /* A browser's page: a submitted form sends its empty fields too, which
     * mean nothing here (they go before the Link headers are built on it). */
    h.html = ar_browse_wanted(r, &cx->s);
    if (h.html)
        r->args = ar_html_drop_empty(r->pool, r->args);
    if (cx->s.dialect == AR_DIALECT_RESTLESS)
        h.range = h.range_unit = h.prefer = h.accept_profile = NULL;
    /* GET /api/openapi.json: the index's OpenAPI document, as if by Accept */
    else if (strcmp(path, "/openapi.json") == 0) {
        path = "/";
        h.accept = "application/openapi+json";
    }
    /* the Location's bounds before anything costs: the parser's own errors
     * (nesting past its bound, say) are the more precise, then the URL as
     * sent, then what it asks for */
    cx->path = path;
    cx->headers = &h;
    if ((err = ar_query_parse(r->pool, cx->s.dialect, path, r->args, &h, &req)) != NULL
        || (err = ar_query_check_url(r->pool, path, r->args, cx->s.limits.url_part)) != NULL
        || (err = ar_query_check_limits(r->pool, &req, &cx->s.limits)) != NULL
        || (err = ar_hooks_before(cx, &req)) != NULL)
        return err;
    if ((req.media == AR_MEDIA_PLAN_TEXT || req.media == AR_MEDIA_PLAN_JSON)
        && (!cx->s.plan || (write && !req.routine) || (!req.relation && !req.routine)))
        return ar_error_make(r->pool, AR_ERR_NOT_ACCEPTABLE,
                             "none of the accepted media types is produced here",
                             cx->s.plan ? "plans are served for reads and calls of functions"
                                        : "plans are not served here",
                             cx->s.plan ? NULL : "AutoRestPlan On serves them");
    /* reads of relations only (a write's representation and a function's
     * rows are not grouped), and under a statement timeout: a GROUP BY
     * over a large table is the costliest read a URL can ask for */
    req.aggregates = cx->s.aggregates && !write && !req.routine && cx->s.timeout_ms > 0;
    if (req.media == AR_MEDIA_HTML && req.routine)
        req.media = AR_MEDIA_JSON; /* a function's result has no page (yet) */
    if (req.media == AR_MEDIA_HTML) {
        ar_browse_headers(r);
        if (!write && req.limit == AR_UNSET)
            req.limit = AR_HTML_PAGE_ROWS;
    }
    if (cx->form_method == M_POST)
        req.write.key_back = 1; /* the new row's page is where the form leads */
    if (req.media == AR_MEDIA_OPENAPI && cx->s.dialect != AR_DIALECT_POSTGREST)
        return ar_error_make(r->pool, AR_ERR_NOT_ACCEPTABLE,
                             "none of the accepted media types is produced here",
                             "the OpenAPI document describes PostgREST's dialect", NULL);
    if (req.routine && cx->s.rpc == AR_RPC_OFF)
        return ar_error_make(r->pool, AR_ERR_NO_ROUTE, "no such resource",
                             "functions are not served here",
                             "AutoRestRPC read or all serves them under /rpc/");

    waited = apr_time_now();
    dbd = connection_take(cx);
    ar_status_pool_waited(apr_time_now() - waited);
    if ((err = ar_dbd_pgconn(r->pool, dbd, &cx->conn)) != NULL)
        return err;
    cx->conn_state = connection_state(dbd);
    ar_conn_state_set_mode(cx->conn_state, cx->s.prepared_statements);
    ar_conn_state_stats(cx->conn_state, &cx->db_before);
    if (cx->s.schema_notify)
        ar_notify_watch(r, cx->conn, cx->s.notify_conninfo);
    if ((err = ar_cache_acquire(r, cx->conn, &cx->s, 0, &cx->schema, &cx->reads)) != NULL)
        return err;

    if (!req.relation && !req.routine && write)
        return ar_error_make(r->pool, AR_ERR_METHOD,
                             apr_psprintf(r->pool, "method %s is not allowed on the index",
                                          r->method),
                             NULL, "write to a relation: POST /relation");
    if (!req.relation && !req.routine)
        return ar_serve_description(cx, req.media);
    if (req.media == AR_MEDIA_OPENAPI)
        return ar_error_make(r->pool, AR_ERR_NOT_ACCEPTABLE,
                             "none of the accepted media types is produced here",
                             NULL, "the OpenAPI document is the index's: GET the Location's "
                                   "root, or openapi.json below it");

    /* A stale snapshot shows as an unknown relation (one was created) or a
     * vanished column (one was dropped): refresh once and try again. */
    for (attempt = 0;; attempt++) {
        ar_read_request attempt_req = req;
        if (cx->outcome)
            cx->outcome->rows = 0;
        ar_request_state_get(r)->rows = 0; /* what an attempt before sent nothing */
        err = req.routine ? ar_run_call(cx, &attempt_req, &done)
              : write     ? ar_run_write(cx, &attempt_req, &done)
                          : ar_run_read(cx, &attempt_req, &done);
        if (done || !err || attempt > 0)
            return err;
        /* the snapshot to retry with must have begun after this error: one
         * begun before may lack the change that caused it */
        mark = ar_cache_mark();
        if (((err->kind == AR_ERR_NO_RELATION || err->kind == AR_ERR_NO_ROUTINE)
             && ar_cache_may_refresh(r, &cx->s))
            || err->kind == AR_ERR_DB_SCHEMA_CHANGED) {
            ar_error *e2 = ar_cache_acquire(r, cx->conn, &cx->s, mark, &cx->schema,
                                              &cx->reads);
            if (e2)
                return e2;
            continue;
        }
        return err;
    }
}

/* The AutoRestMethods bit of a write method; 0 for any other method. */
static int write_method_bit(int method_number)
{
    switch (method_number) {
    case M_POST:
        return AR_METHOD_POST;
    case M_PATCH:
        return AR_METHOD_PATCH;
    case M_PUT:
        return AR_METHOD_PUT;
    case M_DELETE:
        return AR_METHOD_DELETE;
    default:
        return 0;
    }
}

/* A request of a Location served here, from the method to the answer. */
static int respond(request_rec *r, context *cx)
{
    ar_error *err;
    int write_bit, call, method;
    const char *method_name;

    ar_conf_effective(ap_get_module_config(r->per_dir_config, &autorest_module), &cx->s);
    call = is_call(r, &cx->s);
    method = r->method_number;
    method_name = r->method;
    r->allowed = (AP_METHOD_BIT << M_GET) | (AP_METHOD_BIT << M_OPTIONS)
                 | ((cx->s.methods & AR_METHOD_POST) || call ? AP_METHOD_BIT << M_POST : 0)
                 | ((cx->s.methods & AR_METHOD_PATCH) ? AP_METHOD_BIT << M_PATCH : 0)
                 | ((cx->s.methods & AR_METHOD_PUT) ? AP_METHOD_BIT << M_PUT : 0)
                 | ((cx->s.methods & AR_METHOD_DELETE) ? AP_METHOD_BIT << M_DELETE : 0);

    if (r->method_number == M_OPTIONS) {
        apr_table_setn(r->headers_out, "Allow",
                       call ? "GET, HEAD, OPTIONS, POST"
                            : ar_conf_allow_header(r->pool, cx->s.methods));
        ap_set_content_length(r, 0);
        return OK;
    }
    if (call && r->method_number != M_GET && r->method_number != M_POST) {
        ap_discard_request_body(r);
        apr_table_setn(r->headers_out, "Allow", "GET, HEAD, OPTIONS, POST");
        return ar_resp_send_error(
            r, &cx->s,
            ar_error_make(r->pool, AR_ERR_METHOD,
                          apr_psprintf(r->pool, "Cannot use the %s method on RPC", r->method),
                          NULL, "call a function with GET, HEAD or POST"));
    }
    /* A browsable page's form: a POST whose _method says what it does. */
    if (!call && (cx->s.methods & ~AR_METHOD_GET) && ar_browse_form_posted(r, &cx->s)) {
        if ((err = ar_browse_read_form(cx)) != NULL)
            return ar_resp_send_error(r, &cx->s, err);
        method = cx->form_method;
        method_name = ar_method_name(method == M_PATCH    ? AR_METHOD_PATCH
                                     : method == M_PUT    ? AR_METHOD_PUT
                                     : method == M_DELETE ? AR_METHOD_DELETE
                                                          : AR_METHOD_POST);
    }
    write_bit = write_method_bit(method);
    /* AutoRestRPC opens POST to /rpc/ whatever AutoRestMethods opens */
    if (method != M_GET && !(write_bit & cx->s.methods) && !call) {
        ap_discard_request_body(r);
        return ar_resp_send_error(
            r, &cx->s,
            ar_error_make(r->pool, AR_ERR_METHOD,
                          apr_psprintf(r->pool, "method %s is not allowed here", method_name),
                          NULL, apr_pstrcat(r->pool, "this Location serves ",
                                            ar_conf_allow_header(r->pool, cx->s.methods), NULL)));
    }
    /* A read's body means nothing; a write reads its own as it runs. */
    if (!write_bit && ap_discard_request_body(r) != OK)
        return ar_resp_send_error(r, &cx->s,
                                  ar_error_make(r->pool, AR_ERR_BAD_PARAM,
                                                "the request body could not be read", NULL,
                                                NULL));

    err = ar_role_request_info(r, &cx->s, &cx->request);
    ar_conf_role_timeout(&cx->s, cx->request.role);
    /* Where roles keep rows apart, count=estimated counts exactly: the
     * planner's figure past the row cap comes from statistics over every
     * row, other callers' too. */
    if (cx->s.role_source != ROLE_NONE)
        cx->s.count_threshold = AR_MAX_COUNT;
    cx->request.pre_request = cx->s.pre_request;
    ar_cond_request_headers(r, &cx->s, &cx->request);
    /* what functions ask of the response: where a function runs (the
     * pre-request, a call, a write's triggers) */
    if (cx->s.pre_request || call || write_bit)
        /* the request's: the filter may run after this handler returned */
        cx->request.response = apr_pcalloc(r->pool, sizeof(ar_response_settings));
    cx->outcome = ar_hooks_outcome(cx);
    ar_resp_before_first_byte(r, cx->request.response, cx->outcome);
    if (!err)
        err = serve(cx, write_bit != 0);
    ar_conn_give_back(cx); /* before an error is sent, too */
    /* PostgREST's answer to a refusal: 401 when no one authenticated (the
     * caller may, and then be let in), 403 when someone did */
    if (err && err->kind == AR_ERR_DB_PRIVILEGE && cx->request.anonymous)
        err->kind = AR_ERR_DB_PRIVILEGE_ANON;
    if (cx->body_answered)
        return AP_FILTER_ERROR; /* httpd's input filter has answered (413) */
    if (!err && cx->form_method)
        ar_browse_form_done(cx);
    if (err && write_bit) {
        /* Whatever of the body an error left unread is not read through
         * the filters (a LimitRequestBody check there would answer a second
         * time): the connection closes after this answer instead. */
        r->connection->keepalive = AP_CONN_CLOSE;
    }
    return err ? ar_resp_send_error(r, &cx->s, err) : OK;
}

static int autorest_handler(request_rec *r)
{
    context cx;
    int rc;

    if (!r->handler || strcmp(r->handler, AR_HANDLER_NAME) != 0)
        return DECLINED;
    memset(&cx, 0, sizeof(cx));
    cx.r = r;
    rc = respond(r, &cx);
    ar_status_request_done(&cx);
    return rc;
}

/* ------------------------------------------------------------------ hooks */

static int autorest_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                                server_rec *s)
{
    (void)plog; (void)ptemp;
    if (apr_generate_random_bytes(ar_conf_random_cursor_key, sizeof(ar_conf_random_cursor_key))
        != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, "mod_autorest: no random bytes for the "
                     "cursor key");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    dbd_open = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_open);
    dbd_close = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_close);
    if (!dbd_open || !dbd_close) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s,
                     "mod_autorest needs mod_dbd: add 'LoadModule dbd_module "
                     "modules/mod_dbd.so' (a2enmod dbd) before mod_autorest");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return ar_status_post_config(pconf, s);
}

static void autorest_child_init(apr_pool_t *pchild, server_rec *s)
{
    json_object_seed(0);
#if defined(__GLIBC__) && defined(M_TRIM_THRESHOLD)
    /* libpq builds every page's PGresult from malloc and frees it whole. With
     * glibc's default (128 KiB) each free of a 1,000-row page gave its
     * thread's arena back to the kernel (madvise, a TLB shootdown across the
     * child's threads) and the next page faulted it in again: a tenth of the
     * child's CPU in the profile of L2. Keeping up to 4 MiB per arena is the
     * same trade httpd makes with MaxMemFree for its own allocators. */
    mallopt(M_TRIM_THRESHOLD, MALLOC_TRIM_THRESHOLD);
#endif
    ar_cache_child_init(pchild, s);
    ar_hooks_child_init();
    ar_status_child_init(pchild);
    ar_notify_child_init(pchild);
    ar_dirwalk_child_init(pchild);
}

static void autorest_register_hooks(apr_pool_t *p)
{
    static const char *const after_dbd[] = {"mod_dbd.c", NULL};

    (void)p;
    ap_hook_post_config(autorest_post_config, after_dbd, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(autorest_child_init, after_dbd, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(autorest_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ar_resp_register_filters();
    ar_status_register_hooks();
    ar_dirwalk_register_hooks();
}

AP_DECLARE_MODULE(autorest) = {
    STANDARD20_MODULE_STUFF,
    ar_conf_create_dir,
    ar_conf_merge_dir,
    NULL,
    NULL,
    ar_conf_cmds,
    autorest_register_hooks,
    AP_MODULE_FLAG_NONE
};
