/*
 * mod_autorest_glue.h: what the httpd glue's files share, and only they.
 *
 * The glue is every mod_autorest*.c: it speaks HTTP and httpd's APIs and
 * hands the pure core (autorest.h) plain values. One file per concern, as
 * mod_md keeps its glue:
 *   mod_autorest.c           module record, hooks, the handler and its routing
 *   mod_autorest_config.c    directives, per-directory merging, effective settings
 *   mod_autorest_cache.c     the per-child cache of reflected schemas
 *   mod_autorest_response.c  errors, held or streamed bodies, paging headers
 *   mod_autorest_read.c      running a read: plan, SQL, rows to the response
 *   mod_autorest_write.c     running a write: body in, statement, representation out
 *   mod_autorest_restless.c  writes as Flask-Restless 0.17 answered them
 *   mod_autorest_call.c      running a call to /rpc/: body, call, its result
 *   mod_autorest_role.c      who is asking: the role and the request.* settings
 *   mod_autorest_status.c    mod_status's section, the request notes for the log
 *   mod_autorest_notify.c    schema reloads on NOTIFY autorest
 *   mod_autorest_dirwalk.c   httpd's walk of the file system to the API's URIs
 */
#ifndef MOD_AUTOREST_GLUE_H
#define MOD_AUTOREST_GLUE_H

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <apr_dbd.h>
#include <libpq-fe.h>
#include <mod_dbd.h>

#include "autorest.h"
#include "ar_html.h"
#include "mod_autorest.h"

/* Per-module LogLevel in every glue file; mod_autorest.c gets the same
 * from AP_DECLARE_MODULE, which may not meet it twice. */
#ifndef AR_GLUE_MODULE_RECORD
APLOG_USE_MODULE(autorest);
#endif
extern module AP_MODULE_DECLARE_DATA autorest_module;

#define JSON_TYPE "application/json; charset=utf-8"
/* What SetHandler names to map the module to a Location. */
#define AR_HANDLER_NAME "autorest"

/* Bytes of a response held back before the first one is sent. A page that
 * fits gets exact Content-Range and Link headers and a Content-Length; a
 * larger one streams with headers decided up front (see send_collection).
 * The body is written in chunks: held ones go to the brigade as they are,
 * without a copy; once streaming, one chunk is filled and sent again. */
#define HOLD_BYTES (1024 * 1024)
#define CHUNK_BYTES (64 * 1024)

/* Pages of up to this many rows come from PostgreSQL as one result, which
 * costs less per row than single-row mode; larger ones (exports) stream. */
#define STREAM_ABOVE_ROWS 1000
/* Statements before the rows: two counts (Prefer: count=estimated) and
 * the parent's row of a relationship route. */
#define MAX_PRE_STATEMENTS 3

/* ------------------------------------------------------------ directives */

typedef struct {
    const char *location;          /* the <Location> path these settings came from */
    apr_array_header_t *schemas;   /* NULL: unset */
    apr_hash_t *excluded;          /* NULL: unset */
    apr_hash_t *hidden;            /* NULL: unset */
    apr_int64_t max_rows;          /* AR_UNSET: unset */
    int timeout;                   /* seconds; AR_UNSET: unset */
    int schema_max_age;            /* seconds; AR_UNSET: unset */
    int dialect;                   /* ar_dialect; AR_UNSET: unset */
    const char *cursor_secret;     /* NULL: unset */
    int methods;                   /* AR_METHOD_* bits; AR_UNSET: unset */
    int allow_unfiltered;          /* AR_UNSET: unset */
    int tx_override;               /* AR_UNSET: unset */
    int restless_allow_many;       /* AR_UNSET: unset */
    int rpc;                       /* ar_rpc_mode; AR_UNSET: unset */
    int role_source;               /* role_source; AR_UNSET: unset */
    const char *role_arg;          /* AutoRestRole env NAME, fixed ROLE */
    apr_array_header_t *role_map;  /* role_map_entry; NULL: unset */
    const char *anon_role;         /* NULL: unset */
    const char *claims_env;        /* NULL: unset */
    const char *pre_request;       /* "SELECT schema.fn()", quoted; NULL: unset */
    apr_hash_t *role_timeouts;     /* role -> seconds (AutoRestTimeout N role); NULL: unset */
    int max_depth;                 /* AR_UNSET: unset */
    int max_filters;               /* AR_UNSET: unset */
    int max_select;                /* AR_UNSET: unset */
    int max_url_part;              /* bytes; AR_UNSET: unset */
    const char *cache_control;     /* NULL: unset */
    int plan;                      /* AR_UNSET: unset */
    int aggregates;                /* AR_UNSET: unset */
    int browsable;                 /* AR_UNSET: unset */
    int schema_notify;             /* AR_UNSET: unset */
    const char *notify_conninfo;   /* the listener's own; NULL: a pooled one's */
    int prepared_statements;       /* ar_prepare_mode; AR_UNSET: unset */
    int request_settings_always;   /* AR_UNSET: unset */
    int sets_overlaid;             /* excluded or hidden merged from two blocks,
                                    * anew for each request */
} dir_conf;

/* Where a request's role comes from (AutoRestRole). */
typedef enum {
    ROLE_NONE,      /* no role directive: the connecting role serves everyone */
    ROLE_USER,      /* the authenticated user (REMOTE_USER) */
    ROLE_ENV,       /* an environment variable (a claim, a certificate's CN) */
    ROLE_FIXED      /* one role for every authenticated request */
} role_source;

/* AutoRestRoleMap from to: a name matching from (an apr_fnmatch pattern)
 * becomes the role to. */
typedef struct {
    const char *from;
    const char *to;
} role_map_entry;

#define AR_DEFAULT_MAX_ROWS 1000
#define AR_DEFAULT_TIMEOUT 10
#define AR_DEFAULT_SCHEMA_MAX_AGE 60
/* What one request may ask for when the API faces anyone: nesting as deep
 * as the parser allows; filters, select items and a URL part well beyond
 * what a hand-written or generated client sends (httpd's LimitRequestLine,
 * 8190 bytes, bounds the whole request line on its own). */
#define AR_DEFAULT_MAX_DEPTH AR_MAX_LOGIC_DEPTH
#define AR_DEFAULT_MAX_FILTERS 100
#define AR_DEFAULT_MAX_SELECT 200
#define AR_DEFAULT_MAX_URL_PART 4096

typedef struct {
    ar_exposure exposure;
    apr_int64_t max_rows;
    long timeout_ms;
    apr_interval_time_t schema_max_age;   /* 0: never expires */
    const char *location;
    ar_dialect dialect;
    apr_int64_t count_threshold;   /* count=estimated is exact up to here */
    const unsigned char *cursor_key;
    apr_size_t cursor_key_len;
    int methods;                   /* AR_METHOD_* bits open here */
    int allow_unfiltered;          /* PATCH/DELETE may go without a filter */
    int tx_override;               /* Prefer: tx=rollback is honoured */
    int restless_allow_many;       /* Flask-Restless's PATCH/DELETE of a collection */
    ar_rpc_mode rpc;               /* AutoRestRPC */
    role_source role_source;       /* AutoRestRole (ROLE_USER when only a map or an
                                    * anonymous role is set) */
    const char *role_arg;
    const apr_array_header_t *role_map; /* NULL: names are roles as they are */
    const char *anon_role;         /* NULL: no one unauthenticated is served */
    const char *claims_env;        /* AutoRestClaims; NULL: mod_auth_openidc's token */
    const char *pre_request;       /* AutoRestPreRequest's statement; NULL: none */
    apr_hash_t *role_timeouts;     /* role -> seconds, over timeout_ms; NULL: none */
    ar_query_limits limits;        /* AutoRestMaxDepth, ...Filters, ...Select, ...UrlPart */
    const char *cache_control;     /* AutoRestCacheControl; NULL: none */
    int plan;                      /* AutoRestPlan: EXPLAIN served for Accept: ...plan */
    int aggregates;                /* AutoRestAggregates: select= may aggregate */
    int browsable;                 /* AutoRestBrowsable: text/html pages for browsers */
    int schema_notify;             /* AutoRestSchemaNotify: reload on NOTIFY autorest */
    const char *notify_conninfo;   /* ... heard there; NULL: where the pool connects */
    ar_prepare_mode prepared_statements; /* AutoRestPreparedStatements */
    int request_settings_always;   /* AutoRestRequestSettings always: every request sets
                                    * request.*, whatever it runs */
    int exposure_fixed;            /* the exposure's sets are the configuration's
                                    * own, so their addresses name them (reads
                                    * are kept planned by them) */
} settings;

extern const command_rec ar_conf_cmds[];
void *ar_conf_create_dir(apr_pool_t *p, char *dir);
void *ar_conf_merge_dir(apr_pool_t *p, void *basev, void *addv);
void ar_conf_effective(const dir_conf *c, settings *s);
/* The statement timeout of a request that runs as role (AutoRestTimeout N
 * role), in place of the Location's; NULL or an unnamed role: unchanged. */
void ar_conf_role_timeout(settings *s, const char *role);
/* "GET, HEAD, OPTIONS, POST" for the methods open here: the Allow header. */
const char *ar_conf_allow_header(apr_pool_t *p, int methods);
/* Signs cursors when no AutoRestCursorSecret is set (drawn in post_config). */
extern unsigned char ar_conf_random_cursor_key[32];

/* ---------------------------------------------------------- schema cache */

/* The cache's memory and lock, once per child. */
void ar_cache_child_init(apr_pool_t *pchild, server_rec *s);
/* The snapshot this request reads, and the reads kept planned with it
 * (NULL: none); newer_than: 0, or ar_cache_mark() taken
 * when the current one was found out of date. */
ar_error *ar_cache_acquire(request_rec *r, PGconn *conn, const settings *s,
                           unsigned long newer_than, const ar_schema **out,
                           ar_read_cache **reads);
unsigned long ar_cache_mark(void);
/* A document built from schema (the OpenAPI one), kept as long as its
 * snapshot under key; NULL when there is none yet. */
const char *ar_cache_document_get(const ar_schema *schema, const char *key, apr_size_t *len);
void ar_cache_document_put(const ar_schema *schema, const char *key, const char *doc,
                           apr_size_t len);
/* Whether an unknown name may trigger a refresh now (rate-limited). */
int ar_cache_may_refresh(request_rec *r, const settings *s);

/* ------------------------------------------------------------- responses */

extern const char *const ar_media_types[];
/* The Content-Type of a one-row answer: CSV or NDJSON as planned, else the
 * object type when asked for, else JSON. */
const char *ar_resp_single_type(ar_media planned, ar_media asked);

/* One response, from its first row to its last byte. */
typedef struct {
    request_rec *r;
    const settings *s;
    const ar_read_request *req;
    const ar_read_plan *plan;
    const ar_row_format *format;
    ar_out out;
    apr_bucket_brigade *bb;
    const char **values;
    int *lens;
    apr_int64_t rows;          /* written */
    int more;                  /* the probe row came: another page follows */
    int streaming;             /* headers are out; the body is flowing */
    apr_size_t held;           /* bytes in bb before streaming */
    int opened;                /* the document's opening is written */
    const char **counts;       /* the count statements' results, once the rows begin */
    apr_int64_t per_page;      /* Flask-Restless's results_per_page */
    int stream;                /* rows come one PGresult each (single-row mode) */
    ar_row last_row;           /* the last row written, while its result lives */
    char **last_key;           /* the last row's order-term values (keyset plans) */
    apr_size_t *last_key_cap;
    void (*set_headers)(void *ctx);  /* not NULL: sets status and headers when the
                                      * body starts to stream (a write's), instead
                                      * of a page's */
    void *headers_ctx;
    int scalar;                /* a function's values: each row is its one value, bare */
    struct ar_outcome *outcome; /* NULL, or what the after_statement hooks are told */
    int no_links;              /* no Link headers: the page is no GET's (a POST call's) */
    ar_html_page *html;        /* an HTML page (ar_html.h), else NULL */
    apr_int64_t *rows_sent;    /* the request's count (ar_request_state) */
} response;

int ar_resp_send_error(request_rec *r, const settings *s, const ar_error *err);
/* The request's id for the error log: mod_unique_id's UNIQUE_ID (%{UNIQUE_ID}e
 * in LogFormat), else httpd's log id (%L), else "-". */
const char *ar_resp_request_id(request_rec *r);
/* response.headers and response.status, and other modules' after_statement
 * hooks, before the first byte of r goes out (an output filter). */
#define AR_FIRST_BYTE_FILTER "AUTOREST_FIRST_BYTE"
void ar_resp_register_filters(void);
/* Before the first byte goes out: response.* settings asked (or NULL) and
 * the after_statement hooks (outcome, or NULL). */
void ar_resp_before_first_byte(request_rec *r, ar_response_settings *asked,
                               struct ar_outcome *outcome);
int ar_resp_send_body(request_rec *r, const char *type, const char *body, apr_size_t len);
/* s with every byte but ASCII letters, digits and those in keep as %XX. */
const char *ar_resp_percent_encode(apr_pool_t *p, const char *s, const char *keep);
/* Sets up resp to encode plan's rows for req, in format (NULL: made here
 * from the plan's columns). */
void ar_resp_init(response *resp, request_rec *r, const settings *s,
                  const ar_read_request *req, const ar_read_plan *plan,
                  const ar_row_format *format);
int ar_resp_flush_to_client(void *ctx, const char *data, apr_size_t len);
void ar_resp_send_held(response *resp);
int ar_resp_on_row(void *ctx, const ar_row *row);
void ar_resp_open_document(response *resp);
void ar_resp_close_document(response *resp);
void ar_resp_collection_headers(response *resp, int complete);
void ar_resp_finish_streaming(response *resp, const ar_error *err);
apr_int64_t ar_resp_total_rows(const response *resp);

/* ------------------------------------------------------------ who is asking */

/* What the database is told of the request (request.* settings) and the
 * role it runs as; 401 when no one authenticated and there is no anonymous
 * role, 403 for a name that can never be a role. Where roles are in use it
 * also binds s's cursor key to the caller. */
ar_error *ar_role_request_info(request_rec *r, settings *s, ar_request_info *out);
/* WWW-Authenticate for a 401, after the Location's AuthType. */
void ar_role_challenge(request_rec *r);

/* ---------------------------------------------------------------- runners */

/* One request being served. */
typedef struct {
    request_rec *r;
    settings s;
    PGconn *conn;               /* NULL once given back (ar_conn_give_back) */
    ar_conn_state *conn_state;
    struct held_connection *held; /* the pooled connection while it is ours */
    const ar_schema *schema;
    int body_answered;          /* httpd's input filters answered the body (413) */
    ar_request_info request;    /* request.* settings for the database */
    ar_call_body *call_body;    /* a call's body once read: a second attempt (after
                                 * the snapshot was refreshed) takes it from here */
    struct ar_outcome *outcome; /* NULL: no after_statement hook is registered */
    /* a browser's form (application/x-www-form-urlencoded, same origin): its
     * one row, and the method its _method field asked */
    const ar_body_field *form_fields;
    int form_nfields;
    int form_method;            /* M_POST, M_PATCH, M_PUT, M_DELETE; 0: no form */
    ar_db_stats db_before;      /* the connection's statement counts when it came */
    const char *path;           /* below the Location, as the parser read it */
    const ar_request_headers *headers; /* what the parser read of the request */
    int hooked;                 /* a before_statement hook added a filter or hid
                                 * a column: the request's plan is its own */
    ar_read_cache *reads;       /* the snapshot's reads kept planned; NULL: none */
} context;

/* A read whose answer is whole gives its connection back to the pool before
 * the answer is sent: only when no transaction or pipeline is left on it.
 * cx->conn is NULL afterwards. */
void ar_conn_give_back(context *cx);

/* The PGconn of a pooled connection (NULL: none came, 503), or the error of
 * a pool that is not DBDriver pgsql. */
ar_error *ar_dbd_pgconn(apr_pool_t *p, const ap_dbd_t *dbd, PGconn **conn);

/* *done: the response went out (or began to): no retry. */
ar_error *ar_run_read(context *cx, ar_read_request *req, int *done);
ar_error *ar_run_write(context *cx, ar_read_request *req, int *done);
ar_error *ar_run_call(context *cx, ar_read_request *req, int *done);
/* Accept: application/vnd.pgrst.plan: the EXPLAIN of sql as the answer. */
ar_error *ar_serve_explain(context *cx, const ar_read_request *req, ar_sql *sql, int read_only);
/* A body that could not be read (rv from the input filters): 413 past
 * LimitRequestBody, else 400. */
ar_error *ar_body_read_error(context *cx, apr_status_t rv);
/* The whole body into *text (NUL-terminated), at most max bytes (0: as
 * LimitRequestBody allows): 413 past either. */
ar_error *ar_body_read_whole(context *cx, apr_off_t max, char **text, apr_size_t *len);

/* ------------------------------------------------------------ describing */

/* The Location's path without trailing slashes: what URLs are built on. */
apr_size_t ar_location_base_len(const char *location);
/* The index as JSON or HTML, or the OpenAPI document, for the caller's role. */
ar_error *ar_serve_description(context *cx, ar_media media);

/* The privileges of the request's role, read in its transaction as that role. */
typedef struct {
    apr_hash_t *excluded;   /* what it may not read or execute, joined to the Location's */
    apr_hash_t *writable;   /* "schema.relation" -> int AR_CAN_* */
    apr_array_header_t *rows;  /* const char *: the rows as text, for a cache key */
} ar_privileges;
ar_error *ar_role_privileges(context *cx, ar_privileges *pv);

/* ----------------------------------------------------- the browsable API */

/* A browser asking text/html first where pages are served (ar_html.h). */
int ar_browse_wanted(request_rec *r, const settings *s);
/* The headers of every page: its Content-Security-Policy, and no sniffing. */
void ar_browse_headers(request_rec *r);
/* A POST of a browsable page's form (application/x-www-form-urlencoded). */
int ar_browse_form_posted(request_rec *r, const settings *s);
/* Reads the form (same origin only) into cx->form_*. */
ar_error *ar_browse_read_form(context *cx);
/* The form's write went well: 303 See Other to the page that shows it. */
void ar_browse_form_done(context *cx);
/* resp->html for a page of resp's plan, with the forms the caller may use. */
ar_error *ar_browse_page(context *cx, response *resp);

/* ------------------------------------------------------------- watching */

/* What the module keeps of one request in its request_config. */
typedef struct {
    struct ar_outcome *outcome; /* NULL: no after_statement hook is registered */
    apr_int64_t rows;           /* rows sent in the body */
    ar_db_stats db;             /* what its statements cost */
    int done;                   /* the handler finished: count it */
    int walk_facts;             /* httpd's walk to it asks path facts first
                                 * (mod_autorest_dirwalk.c) */
} ar_request_state;
ar_request_state *ar_request_state_get(request_rec *r);
/* The walk of the file system to the API's URIs (mod_autorest_dirwalk.c). */
void ar_dirwalk_child_init(apr_pool_t *pchild);
void ar_dirwalk_register_hooks(void);
/* mod_status's section and the request notes (mod_autorest_status.c). */
int ar_status_post_config(apr_pool_t *pconf, server_rec *s);
void ar_status_child_init(apr_pool_t *pchild);
void ar_status_register_hooks(void);
void ar_status_snapshot_loaded(void);
/* An expired snapshot found current by the catalogue's fingerprint. */
void ar_status_snapshot_checked(void);
/* Time a request spent taking a pooled connection, and waiting for the
 * schema cache's lock (counted only when it was taken). */
void ar_status_pool_waited(apr_interval_time_t us);
void ar_status_lock_waited(apr_interval_time_t us);
/* A read ran on a plan kept for its shape (read_cache.c). */
void ar_status_read_kept(void);
/* Schema reloads on notice (mod_autorest_notify.c): notices so far; the
 * listener of r's server's database started, once (conn: a pooled one). */
apr_uint32_t ar_notify_count(void);
void ar_notify_child_init(apr_pool_t *pchild);
void ar_notify_watch(request_rec *r, PGconn *conn, const char *conninfo);
/* The handler is done with cx: its notes for the access log, and its
 * figures for the child's counters (added once the response is out). */
void ar_status_request_done(context *cx);
/* The statements cx's connection ran for it, counted before the connection
 * goes back (or at the end: the first call counts). */
void ar_status_db_done(context *cx);

/* ------------------------------------------------------- other modules' hooks */

/* What the after_statement hooks are told; the request's (kept in its
 * request_config, since the output filter runs after the handler's frame). */
typedef struct ar_outcome {
    apr_int64_t rows;           /* rows sent or written so far; -1: not known */
    const char *schema;
    const char *relation;
    const char *routine;
    const char *role;
} ar_outcome;

/* The before_statement hooks on the parsed request (they may add filters to
 * req and hide columns of cx's exposure); their refusal as an error. Also
 * names the request in cx->outcome. */
ar_error *ar_hooks_before(context *cx, ar_read_request *req);
/* Looks, once per child, which hooks other modules added. */
void ar_hooks_child_init(void);
/* The request's outcome when any after_statement hook is registered, else
 * NULL. */
ar_outcome *ar_hooks_outcome(context *cx);
/* The after_statement hooks, as the first byte is about to go out. */
void ar_hooks_after(request_rec *r, const ar_outcome *o);

/* ------------------------------------------------- conditional requests */

/* Vary, and Cache-Control (private for an authenticated role), on a GET. */
void ar_cond_request_headers(request_rec *r, const settings *s, const ar_request_info *request);
/* The ETag of a GET's whole answer (body, or held brigade) and the shaping
 * headers already set; 1 when If-None-Match holds it: r is then a 304,
 * to be sent without the body. */
int ar_cond_body(request_rec *r, const char *body, apr_size_t len);
int ar_cond_brigade(request_rec *r, apr_bucket_brigade *bb);
/* An error: no ETag, no Cache-Control. */
void ar_cond_forget(request_rec *r);

#endif
