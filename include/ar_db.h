/*
 * ar_db.h: running statements on a pooled connection with libpq (db.c) and
 * what PostgreSQL says as one of our errors (db_error.c). Pure core,
 * included at the end of autorest.h; libpq's types are only named here.
 */
#ifndef AR_DB_H
#define AR_DB_H

struct pg_result;
/* One row of a result, for ar_db_row_value(s). */
typedef struct {
    const struct pg_result *res;
    int index;
} ar_row;
/* Called once per row; a non-zero return stops the query (the client is
 * gone). */
typedef int (*ar_row_fn)(void *ctx, const ar_row *row);

/* What we know of one pooled connection's session between requests: the
 * settings in force and the statements prepared on it, so the same query
 * shape with other values skips PostgreSQL's parse and plan. The glue keeps
 * one per connection (in the connection's pool); one thread uses it at a time. */
typedef struct ar_conn_state ar_conn_state;
ar_conn_state *ar_conn_state_create(apr_pool_t *connection_pool);
/* Whether the session outlives a request (AutoRestPreparedStatements):
 * behind a pooler in transaction mode (pgbouncer 1.18, Debian 12's) each
 * transaction may reach another server session, so statements are not
 * kept prepared by name (only within an explicit transaction, deallocated
 * at its end) and the settings are sent with every request, local to its
 * transaction. Auto: kept once the first request found no pooler between
 * (the server's pg_backend_pid() is the connection's BackendKeyData pid). */
typedef enum { AR_PREPARE_AUTO, AR_PREPARE_ON, AR_PREPARE_OFF } ar_prepare_mode;
void ar_conn_state_set_mode(ar_conn_state *st, ar_prepare_mode mode);
/* What one connection's statements have cost since it was made (for
 * mod_status and the access log): statements prepared and run, run again
 * by name, and microseconds waiting on PostgreSQL (not encoding rows). */
typedef struct {
    apr_uint64_t prepared;
    apr_uint64_t reused;
    apr_uint64_t db_us;
} ar_db_stats;
void ar_conn_state_stats(const ar_conn_state *st, ar_db_stats *out);

/* What a function may ask of the response from inside the request's
 * transaction, as PostgREST lets it: response.headers (a JSON array of
 * one-key objects) and response.status, read after the pre-request
 * function and after the statement. */
typedef struct {
    const char *headers;        /* NULL: not set */
    const char *status;         /* NULL: not set */
} ar_response_settings;
/* response.headers as name/value pairs (ar_call_param); NULL when it is not
 * an array of objects whose values are strings. */
apr_array_header_t *ar_response_headers_parse(apr_pool_t *p, const char *json);
/* response.status as an HTTP status; 0 when it is none (not 100-599). */
int ar_response_status_parse(const char *text);

/* The request as the database sees it: transaction-local settings that a
 * function, trigger or row-level policy reads with current_setting(), under
 * PostgREST 12's names (request.method, request.path, request.headers,
 * request.cookies and request.jwt.claims, the last three JSON objects) and
 * ours (request.user, request.auth_type), and the role the request runs as
 * (SET LOCAL ROLE), sent in the same round trip as the statement and gone
 * when its transaction ends. */
typedef struct {
    const char *method;
    const char *path;
    const char *headers;
    const char *cookies;
    const char *claims;         /* JSON object; NULL: "{}" */
    const char *user;           /* who httpd authenticated; NULL: no one */
    const char *auth_type;      /* how (AuthType); NULL: no one */
    const char *role;           /* NULL: the connecting role's own */
    int anonymous;              /* the role is the anonymous one: a refusal is 401 */
    const char *pre_request;    /* AutoRestPreRequest: "SELECT schema.fn()", run after
                                 * the settings, before the statement; NULL: none */
    ar_response_settings *response; /* not NULL: response.* are read into it */
} ar_request_info;

/* What one request runs: statements whose first value it wants (counts),
 * then the statement whose rows it streams. */
typedef struct {
    ar_conn_state *state;       /* NULL: prepare nothing, set everything */
    const ar_sql *pre;          /* npre statements, or NULL */
    int npre;
    const char **pre_values;    /* out: npre first values (NULL: none/NULL) */
    const ar_sql *sql;          /* the rows */
    long timeout_ms;            /* statement_timeout for the request; 0 = none */
    int stream;                 /* rows one at a time (single-row mode), for
                                 * results of any size; else the whole result
                                 * at once, cheaper per row for bounded pages */
    ar_row_fn on_row;
    void *ctx;
    const ar_request_info *request; /* NULL: no request settings */
    int read_only;              /* the transaction is READ ONLY (GET of a function) */
    int begin;                  /* BEGIN first: an explicit transaction, which
                                 * ar_db_end ends */
    int in_transaction;         /* an explicit transaction is open (begin ran):
                                 * a lost connection is not tried again */
    int writes;                 /* the statement writes: a connection lost after it
                                 * was sent is not tried again (it may have
                                 * committed) */
    apr_int64_t affected;       /* out: rows the statement wrote or returned */
} ar_db_query;

/* Runs a request's statements with their bound values on a pooled
 * connection in one round trip, streaming the rows to on_row in constant
 * memory, under a statement timeout that covers only this request. The
 * pre_values are set before the first row arrives. A connection found broken
 * before any row arrived is reset and the request tried once more. The
 * connection is always left idle and drained, fit to go back to the pool. */
ar_error *ar_db_stream(apr_pool_t *p, struct pg_conn *conn, ar_db_query *q);
/* An explicit transaction, for a write of several statements or one whose
 * outcome is decided after it ran (tx=rollback, max-affected): BEGIN goes
 * with the first statement (q->begin), and the later ones know it is open
 * (q->in_transaction).
 * ar_db_end commits or rolls back; whatever happened, the connection is
 * left idle outside any transaction, and what a rollback undid of the
 * session (its settings) is forgotten. Non-NULL when COMMIT failed (a
 * deferred constraint) or the connection is gone. */
ar_error *ar_db_end(apr_pool_t *p, struct pg_conn *conn, ar_conn_state *state, int commit);
/* A bulk insert by COPY FROM STDIN, inside a transaction: begin opens it
 * (ar_db_end ends it). Rows go in as text in COPY's format
 * (ar_copy_write_row), in pieces of any size; ar_db_copy_end sends the end
 * (or, with abort_reason, makes the COPY fail) and reads the outcome. */
ar_error *ar_db_copy_begin(apr_pool_t *p, struct pg_conn *conn, ar_conn_state *state,
                           long timeout_ms, const ar_request_info *request, int begin,
                           const char *copy_sql);
ar_error *ar_db_copy_put(apr_pool_t *p, struct pg_conn *conn, const char *data,
                         apr_size_t len);
ar_error *ar_db_copy_end(apr_pool_t *p, struct pg_conn *conn, const char *abort_reason,
                         apr_int64_t *rows);
/* A database error as one of ours, by SQLSTATE. */
ar_error *ar_db_error(apr_pool_t *p, const char *sqlstate, const char *primary,
                      const char *log);
/* What a failed step said (res, or conn's message when res is NULL) as one
 * of ours: ar_db_error of its SQLSTATE, 503 when the connection is gone,
 * and a function's own answer (PGRST, PT...) as it chose it. */
ar_error *ar_db_result_error(apr_pool_t *p, struct pg_conn *conn, const struct pg_result *res);
/* The row's values as ar_json_write_row wants them (NULL for SQL NULL). */
void ar_db_row_values(const ar_row *row, int ncols, const char **values,
                      int *lens);
/* One value of the row; NULL for SQL NULL (or past the last column). */
const char *ar_db_row_value(const ar_row *row, int col, int *len);
/* Reset a connection that the server dropped, or that it said goodbye to
 * while it sat idle in the pool (so that a write is not what finds out);
 * non-zero when usable. */
int ar_db_usable(struct pg_conn *conn);
/* Whether a pooler stands between: pg_backend_pid() as the server says it
 * (server_pid, its text) is not the pid of BackendKeyData, which a pooler
 * makes up. */
int ar_db_behind_pooler(struct pg_conn *conn, const char *server_pid);

#endif
