/*
 * db.c: running a statement on a pooled connection, with libpq.
 *
 * Why libpq and not apr_dbd's calls (../shared/NOTES.md has the measurements):
 * apr_dbd's pgsql driver cannot report SQLSTATE (so no 504 for a timeout, no
 * 400 for a bad value), cannot tell NULL from "", buffers whole results even
 * in "sequential" mode and sleeps 100 ms on empty ones. mod_dbd still owns the
 * pool; we only borrow its PGconn (apr_dbd_native_handle) for the request.
 *
 * One request is one pipeline, one round trip: the session settings our
 * encoders rely on and this Location's statement_timeout, then the
 * statement in single-row mode, then Sync. Both run in the pipeline's
 * implicit transaction, so the timeout covers exactly this request.
 */
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <libpq-fe.h>

#include "autorest.h"

/* The session settings our encoders rely on, and the request's timeout:
 * [0] for the session, kept and not sent again; [1] for the transaction
 * alone, sent with every request where the session is not ours to keep (a
 * pooler in transaction mode hands the next transaction to another server
 * session, and ours would leak into other clients'). pg_backend_pid() tells
 * whether a pooler stands between (its BackendKeyData is its own). */
#define SETTINGS_VALUES(timeout, local)                                       \
    "set_config('statement_timeout', " timeout ", " local "),"                  \
    " set_config('DateStyle', 'ISO', " local "),"                               \
    " set_config('IntervalStyle', 'postgres', " local "),"                      \
    " set_config('client_encoding', 'UTF8', " local ")"
#define SETTINGS_COLUMNS(timeout, local) "pg_backend_pid(), " SETTINGS_VALUES(timeout, local)
static const char *const settings_sql[2] = {"SELECT " SETTINGS_COLUMNS("$1", "false"),
                                             "SELECT " SETTINGS_COLUMNS("$1", "true")};

/* The request's settings and role, local to its transaction
 * (ar_request_info): four texts, for with or without a role to become and
 * with or without READ ONLY (a GET of a function). set_config('role') is
 * SET LOCAL ROLE; it comes after the settings, so a role that cannot be
 * used fails this statement alone (see request_step_error). The values are
 * the arguments of one num_nulls(...): a function's arguments are all
 * evaluated, in order, and the answer is one integer instead of the
 * settings' values echoed back (the headers' JSON among them), which the
 * server sent and libpq took apart on every request. (Not ROW(...) IS NULL:
 * the planner rewrites that into field IS NULL AND ..., which stops at the
 * first field.) */
#define REQUEST_COLUMNS                                                                \
    "set_config('request.method', $1, true), set_config('request.path', $2, true),"        \
    " set_config('request.headers', $3, true), set_config('request.cookies', $4, true),"  \
    " set_config('request.jwt.claims', $5, true), set_config('request.user', $6, true),"  \
    " set_config('request.auth_type', $7, true)"
#define REQUEST_SQL "SELECT num_nulls(" REQUEST_COLUMNS
#define REQUEST_ROLE_SQL ", set_config('role', $8, true)"
#define REQUEST_READ_ONLY_SQL ", set_config('transaction_read_only', 'on', true)"
#define REQUEST_END ")"
static const char *const request_sql[2][2] = {
    {REQUEST_SQL REQUEST_END, REQUEST_SQL REQUEST_READ_ONLY_SQL REQUEST_END},
    {REQUEST_SQL REQUEST_ROLE_SQL REQUEST_END,
     REQUEST_SQL REQUEST_ROLE_SQL REQUEST_READ_ONLY_SQL REQUEST_END},
};
/* Where the settings go with every request (a session not ours to keep),
 * they ride in the request's statement, one parse and plan fewer; the
 * timeout is the last value ($8, or $9 after the role). The backend's pid
 * stays the first column (pooler_seen). */
#define SETTINGS_REQUEST_SQL(timeout) \
    "SELECT pg_backend_pid(), num_nulls(" SETTINGS_VALUES(timeout, "true") ", " REQUEST_COLUMNS
static const char *const settings_request_sql[2][2] = {
    {SETTINGS_REQUEST_SQL("$8") REQUEST_END,
     SETTINGS_REQUEST_SQL("$8") REQUEST_READ_ONLY_SQL REQUEST_END},
    {SETTINGS_REQUEST_SQL("$9") REQUEST_ROLE_SQL REQUEST_END,
     SETTINGS_REQUEST_SQL("$9") REQUEST_ROLE_SQL REQUEST_READ_ONLY_SQL REQUEST_END},
};

/* What functions asked of the response so far (see ar_response_settings). */
static const char response_sql[] =
    "SELECT nullif(current_setting('response.headers', true), ''),"
    " nullif(current_setting('response.status', true), '')";

/* The statement that tells the database of the request, with its values;
 * with timeout, the session settings too (settings_request_sql). */
static void request_statement(apr_pool_t *p, const ar_request_info *request, int read_only,
                              const char *timeout, ar_sql *out)
{
    out->text = (timeout ? settings_request_sql : request_sql)[request->role != NULL]
                                                               [read_only != 0];
    out->params = apr_array_make(p, 8, sizeof(const char *));
    APR_ARRAY_PUSH(out->params, const char *) = request->method ? request->method : "";
    APR_ARRAY_PUSH(out->params, const char *) = request->path ? request->path : "";
    APR_ARRAY_PUSH(out->params, const char *) = request->headers ? request->headers : "{}";
    APR_ARRAY_PUSH(out->params, const char *) = request->cookies ? request->cookies : "{}";
    APR_ARRAY_PUSH(out->params, const char *) = request->claims ? request->claims : "{}";
    APR_ARRAY_PUSH(out->params, const char *) = request->user ? request->user : "";
    APR_ARRAY_PUSH(out->params, const char *) = request->auth_type ? request->auth_type : "";
    if (request->role)
        APR_ARRAY_PUSH(out->params, const char *) = request->role;
    if (timeout)
        APR_ARRAY_PUSH(out->params, const char *) = timeout;
}

/* The request statement failed: with a role to become, that is the role
 * ("invalid value for parameter role" when there is no such role,
 * "permission denied to set role" when the connecting role is no member):
 * 403, never a fall-back to the connecting role. */
static ar_error *request_step_error(apr_pool_t *p, const ar_request_info *request,
                                    ar_error *err)
{
    ar_error *refused;
    const char *why;

    if (!request->role
        || (strcmp(err->code, "22023") != 0 && strcmp(err->code, "42501") != 0))
        return err;
    refused = ar_error_make(p, AR_ERR_ROLE_REFUSED, "this request's role may not be used here",
                            NULL, NULL);
    why = err->log ? err->log : err->message;
    refused->log = apr_psprintf(p, "role \"%s\" refused: %.*s", request->role,
                                (int)strcspn(why, "\n"), why);
    return refused;
}

/* Whether the server said goodbye to this idle connection while it sat in
 * the pool (a restart or an administrator's terminate: FATAL, then the
 * socket closes). Nothing else comes unasked to a pooled connection, which
 * listens to no channel, so the usual answer costs one poll(). */
static int goodbye_waiting(PGconn *conn)
{
    struct pollfd pfd;
    int i;

    if (PQtransactionStatus(conn) != PQTRANS_IDLE)
        return 0;
    pfd.fd = PQsocket(conn);
    pfd.events = POLLIN;
    /* the FATAL, then the end of the stream: at most two reads to see both */
    for (i = 0; i < 2; i++) {
        pfd.revents = 0;
        if (pfd.fd < 0 || poll(&pfd, 1, 0) <= 0)
            return 0;
        if (!PQconsumeInput(conn))
            return 1;
        while (!PQisBusy(conn)) {
            PGresult *res = PQgetResult(conn);
            if (!res)
                break;
            PQclear(res);
        }
    }
    return PQstatus(conn) != CONNECTION_OK;
}

int ar_db_usable(PGconn *conn)
{
    if (PQstatus(conn) == CONNECTION_OK && goodbye_waiting(conn))
        PQreset(conn);
    if (PQstatus(conn) != CONNECTION_OK)
        PQreset(conn);
    return PQstatus(conn) == CONNECTION_OK;
}

void ar_db_row_values(const ar_row *row, int ncols, const char **values, int *lens)
{
    int i;

    for (i = 0; i < ncols; i++) {
        /* NULL reads as "" of length 0, so only an empty value needs the
         * question whether it is NULL: one libpq call fewer per value. */
        lens[i] = PQgetlength(row->res, row->index, i);
        values[i] = lens[i] == 0 && PQgetisnull(row->res, row->index, i)
                        ? NULL
                        : PQgetvalue(row->res, row->index, i);
    }
}

static void cancel_running(PGconn *conn)
{
    char errbuf[256];
    PGcancel *cancel = PQgetCancel(conn);

    if (cancel) {
        PQcancel(cancel, errbuf, sizeof(errbuf));
        PQfreeCancel(cancel);
    }
}

/* ------------------------------------------------ per-connection state */

/* Statements kept prepared on one connection before it is wiped clean. */
#define MAX_PREPARED 256

struct ar_conn_state {
    apr_pool_t *pool;         /* the names and the map; cleared with the map */
    int backend_pid;          /* the server session this state describes */
    ar_prepare_mode mode;     /* AutoRestPreparedStatements */
    int pooled;               /* a pooler stands between: 1; not: 0; unknown: -1 */
    int names_in_tx;          /* names were made inside this explicit transaction
                               * on a session not ours to keep: ar_db_end
                               * deallocates them */
    long timeout_ms;          /* statement_timeout in force; -1: unknown */
    int session_ready;        /* DateStyle, IntervalStyle, client_encoding set */
    apr_hash_t *prepared;     /* SQL text -> statement name */
    unsigned long next_id;    /* names are never reused, so a Parse whose
                               * outcome we missed cannot collide */
    int wipe;                 /* DEALLOCATE ALL before the next statement */
    int unrecorded;           /* prepared in pipelines that failed: they may
                               * exist server-side, so they count too */
    ar_db_stats stats;        /* what this connection's statements cost */
};

ar_conn_state *ar_conn_state_create(apr_pool_t *parent)
{
    ar_conn_state *st = apr_pcalloc(parent, sizeof(*st));

    apr_pool_create(&st->pool, parent);
    st->prepared = apr_hash_make_custom(st->pool, ar_hash_for_table);
    st->timeout_ms = -1;
    st->pooled = -1;
    return st;
}

void ar_conn_state_set_mode(ar_conn_state *st, ar_prepare_mode mode)
{
    st->mode = mode;
}

/* Whether what this session holds outlives the request: statements kept
 * prepared by name, settings kept. Not behind a pooler in transaction mode,
 * and not before Auto has looked. */
static int session_kept(const ar_conn_state *st)
{
    return st && (st->mode == AR_PREPARE_ON || (st->mode == AR_PREPARE_AUTO && st->pooled == 0));
}

int ar_db_behind_pooler(PGconn *conn, const char *server_pid)
{
    return atoi(server_pid) != PQbackendPID(conn);
}

/* Auto's look (ar_db_behind_pooler). */
static void pooler_seen(ar_conn_state *st, PGconn *conn, const char *server_pid)
{
    if (st && st->pooled < 0 && server_pid)
        st->pooled = ar_db_behind_pooler(conn, server_pid);
}

void ar_conn_state_stats(const ar_conn_state *st, ar_db_stats *out)
{
    *out = st->stats;
}

/* The session's settings are not known to be ours: they are sent again. */
static void settings_unknown(ar_conn_state *st)
{
    st->session_ready = 0;
    st->timeout_ms = -1;
}

/* No statement is prepared by name on the session any more. */
static void names_forget(ar_conn_state *st)
{
    apr_pool_clear(st->pool);
    st->prepared = apr_hash_make_custom(st->pool, ar_hash_for_table);
    st->unrecorded = 0;
    st->names_in_tx = 0;
}

static void state_forget(ar_conn_state *st)
{
    names_forget(st);
    settings_unknown(st);
}

/* A new session (reconnected, or a new connection where an old one was):
 * nothing we knew about the old one holds. */
static void state_follow(ar_conn_state *st, PGconn *conn)
{
    if (st && st->backend_pid != PQbackendPID(conn)) {
        state_forget(st);
        st->backend_pid = PQbackendPID(conn);
    }
}

/* ------------------------------------------------------------ pipeline */

static const ar_request_info no_request;

/* What each result in the pipeline answers, in the order they come. */
typedef enum {
    STEP_SETTINGS, STEP_WIPE, STEP_BEGIN, STEP_PREPARE, STEP_REQUEST, STEP_SETTINGS_REQUEST,
    STEP_PRE_REQUEST,
    STEP_RESPONSE, STEP_PRE, STEP_MAIN
} step_kind;

typedef struct {
    step_kind kind;
    int index;                /* STEP_PRE: which count statement */
    const char *text;         /* STEP_PREPARE: the SQL text to remember */
    const char *name;         /* STEP_PREPARE: its statement name */
} step;

/* A pipeline being sent: where its statements go, and what of the session
 * outlives it (keep: session_kept(), decided before its first statement;
 * in_tx: inside an explicit transaction). */
typedef struct {
    apr_pool_t *p;
    PGconn *conn;
    ar_conn_state *st;
    int keep;
    int in_tx;
    apr_array_header_t *steps;
} pipeline;

/* Send one statement: executed by name when prepared on this connection
 * before, prepared under a fresh name first otherwise. Where the session is
 * not ours to keep, names live only as long as an explicit transaction
 * (in_tx: the pooler keeps one server session for it), and a statement
 * outside one goes unnamed. */
static int send_statement(pipeline *pl, const ar_sql *sql)
{
    const char *const *values = (const char *const *)sql->params->elts;
    ar_conn_state *st = pl->st;
    const char *name;

    if (!st || (!pl->keep && !pl->in_tx)) {
        if (st)
            st->stats.prepared++; /* parsed and planned, for this once */
        return PQsendQueryParams(pl->conn, sql->text, sql->params->nelts, NULL, values, NULL,
                                 NULL, 0);
    }
    if (!pl->keep)
        st->names_in_tx = 1;
    name = apr_hash_get(st->prepared, sql->text, APR_HASH_KEY_STRING);
    if (name)
        st->stats.reused++;
    else {
        st->stats.prepared++;
        step *prep = apr_array_push(pl->steps);

        name = apr_psprintf(pl->p, "ar_%lu", ++st->next_id);
        if (!PQsendPrepare(pl->conn, name, sql->text, sql->params->nelts, NULL))
            return 0;
        prep->kind = STEP_PREPARE;
        prep->text = sql->text;
        prep->name = name;
    }
    return PQsendQueryPrepared(pl->conn, name, sql->params->nelts, values, NULL, NULL, 0);
}

/* The results of one statement that is not the streamed one: the first
 * value of its first row into *value (when value is not NULL). */
static ar_error *read_scalar(apr_pool_t *p, PGconn *conn, ar_error *err, const char **value)
{
    PGresult *res;

    while ((res = PQgetResult(conn)) != NULL) {
        if (PQresultStatus(res) == PGRES_FATAL_ERROR && !err)
            err = ar_db_result_error(p, conn, res);
        else if (value && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0
                 && PQnfields(res) > 0 && !PQgetisnull(res, 0, 0))
            *value = apr_pstrdup(p, PQgetvalue(res, 0, 0));
        PQclear(res);
    }
    return err;
}

/* A statement without values, prepared like any other. */
static int send_plain(pipeline *pl, const char *text, step_kind kind)
{
    ar_sql sql;

    sql.text = text;
    sql.params = apr_array_make(pl->p, 1, sizeof(const char *));
    if (!send_statement(pl, &sql))
        return 0;
    ((step *)apr_array_push(pl->steps))->kind = kind;
    return 1;
}

/* response.headers and response.status from the result of response_sql:
 * what is set replaces what an earlier read found. */
static ar_error *read_response(apr_pool_t *p, PGconn *conn, ar_error *err,
                               ar_response_settings *out)
{
    PGresult *res;

    while ((res = PQgetResult(conn)) != NULL) {
        if (PQresultStatus(res) == PGRES_FATAL_ERROR && !err)
            err = ar_db_result_error(p, conn, res);
        else if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1
                 && PQnfields(res) == 2) {
            if (!PQgetisnull(res, 0, 0))
                out->headers = apr_pstrdup(p, PQgetvalue(res, 0, 0));
            if (!PQgetisnull(res, 0, 1))
                out->status = apr_pstrdup(p, PQgetvalue(res, 0, 1));
        }
        PQclear(res);
    }
    return err;
}

/* One attempt. *rows tells the caller whether a retry is still safe. */
static ar_error *stream_once(apr_pool_t *p, PGconn *conn, ar_db_query *q, long *rows)
{
    char timeout[32];
    const char *settings_params[1] = {timeout};
    ar_conn_state *st = q->state;
    apr_array_header_t *steps = apr_array_make(p, 8, sizeof(step));
    ar_error *err = NULL;
    PGresult *res;
    int stopped = 0, i;
    /* what of the session outlives this request, decided before the
     * first statement is sent (Auto may learn more from this pipeline) */
    const int keep = session_kept(st), in_tx = q->begin || q->in_transaction;
    /* the request's statement, and whether the settings ride in it */
    const int requesting = (q->request || q->read_only) && !q->in_transaction;
    const int merged = requesting && !keep;
    const char *server_pid = NULL;
    /* the database's time: the pipeline's, less what the rows' callback
     * spent encoding and sending them */
    apr_time_t begun = apr_time_now(), in_rows = 0;
    pipeline pl = {.p = p, .conn = conn, .st = st, .keep = keep, .in_tx = in_tx, .steps = steps};

    *rows = 0;
    q->affected = 0;
    state_follow(st, conn);
    if (!PQenterPipelineMode(conn))
        return ar_db_result_error(p, conn, NULL);
    if (st && (st->wipe || apr_hash_count(st->prepared) + st->unrecorded >= MAX_PREPARED)) {
        step *w = apr_array_push(steps);
        w->kind = STEP_WIPE;
        if (!PQsendQueryParams(conn, "DEALLOCATE ALL", 0, NULL, NULL, NULL, NULL, 0))
            goto send_failed;
        names_forget(st);
        st->wipe = 0;
    }
    if (q->begin) {
        ((step *)apr_array_push(steps))->kind = STEP_BEGIN;
        if (!PQsendQueryParams(conn, "BEGIN", 0, NULL, NULL, NULL, NULL, 0))
            goto send_failed;
    }
    /* The session settings our encoders rely on, and this request's
     * timeout, only when the session does not have them already: kept in
     * it, or local to the transaction an earlier pipeline began. */
    apr_snprintf(timeout, sizeof(timeout), "%ld", q->timeout_ms);
    if (keep ? !st->session_ready || st->timeout_ms != q->timeout_ms
             : !q->in_transaction && !merged) {
        ((step *)apr_array_push(steps))->kind = STEP_SETTINGS;
        if (!PQsendQueryParams(conn, settings_sql[!keep], 1, NULL, settings_params, NULL, NULL,
                               0))
            goto send_failed;
    }
    if (requesting) {
        ar_sql request;
        request_statement(p, q->request ? q->request : &no_request, q->read_only,
                          merged ? timeout : NULL, &request);
        if (!send_statement(&pl, &request))
            goto send_failed;
        ((step *)apr_array_push(steps))->kind = merged ? STEP_SETTINGS_REQUEST : STEP_REQUEST;
        if (q->request && q->request->pre_request
            && !send_plain(&pl, q->request->pre_request, STEP_PRE_REQUEST))
            goto send_failed;
        /* what the pre-request asked is known before the first row, so a
         * response that streams still carries it */
        if (q->request && q->request->pre_request && q->request->response
            && !send_plain(&pl, response_sql, STEP_RESPONSE))
            goto send_failed;
    }
    for (i = 0; i < q->npre; i++) {
        if (!send_statement(&pl, &q->pre[i]))
            goto send_failed;
        ((step *)apr_array_push(steps))->kind = STEP_PRE;
        APR_ARRAY_IDX(steps, steps->nelts - 1, step).index = i;
        q->pre_values[i] = NULL;
    }
    if (!send_statement(&pl, q->sql))
        goto send_failed;
    ((step *)apr_array_push(steps))->kind = STEP_MAIN;
    if (q->request && q->request->response
        && !send_plain(&pl, response_sql, STEP_RESPONSE))
        goto send_failed;
    if (!PQpipelineSync(conn))
        goto send_failed;

    for (i = 0; i < steps->nelts && PQstatus(conn) == CONNECTION_OK; i++) {
        step *s = &APR_ARRAY_IDX(steps, i, step);

        if ((s->kind == STEP_REQUEST || s->kind == STEP_SETTINGS_REQUEST) && !err) {
            err = read_scalar(p, conn, err,
                              s->kind == STEP_SETTINGS_REQUEST ? &server_pid : NULL);
            pooler_seen(st, conn, server_pid);
            if (err)
                err = request_step_error(p, q->request ? q->request : &no_request, err);
            continue;
        }
        if (s->kind == STEP_RESPONSE) {
            err = read_response(p, conn, err, q->request->response);
            continue;
        }
        if (s->kind == STEP_SETTINGS) {
            err = read_scalar(p, conn, err, &server_pid);
            pooler_seen(st, conn, server_pid);
            continue;
        }
        if (s->kind != STEP_MAIN) {
            err = read_scalar(p, conn, err, s->kind == STEP_PRE ? &q->pre_values[s->index]
                                                                 : NULL);
            continue;
        }
        /* Single-row mode streams a result of any size, at the cost of a
         * PGresult per row; a bounded page comes whole, in one. */
        if (q->stream)
            PQsetSingleRowMode(conn);
        while ((res = PQgetResult(conn)) != NULL) {
            switch (PQresultStatus(res)) {
            case PGRES_COMMAND_OK:
                q->affected = apr_atoi64(PQcmdTuples(res));
                break;
            case PGRES_SINGLE_TUPLE:
            case PGRES_TUPLES_OK: {
                ar_row row;
                int n = PQntuples(res);
                apr_time_t rows_begun = apr_time_now();

                row.res = res;
                for (row.index = 0; row.index < n && !stopped && !err; row.index++) {
                    ++*rows;
                    q->affected++;
                    if (q->on_row(q->ctx, &row) != 0) {
                        stopped = 1;
                        if (q->stream)
                            cancel_running(conn);
                    }
                }
                in_rows += apr_time_now() - rows_begun;
                break;
            }
            case PGRES_FATAL_ERROR:
                /* After we cancelled, the cancellation itself is no error. */
                if (!err && !stopped)
                    err = ar_db_result_error(p, conn, res);
                break;
            default:
                break; /* PIPELINE_ABORTED after an error */
            }
            PQclear(res);
            if (PQstatus(conn) != CONNECTION_OK)
                break;
        }
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        if (!err)
            err = ar_db_result_error(p, conn, NULL);
        goto done;
    }

    /* The Sync. */
    res = PQgetResult(conn);
    if (res && PQresultStatus(res) != PGRES_PIPELINE_SYNC && !err)
        err = ar_db_result_error(p, conn, res);
    PQclear(res);

    if (st && !err && !stopped) {
        /* Everything ran: the settings hold and the new names exist. (After
         * an error the implicit transaction rolled the settings back, and
         * which Parse ran is unknown; names are never reused, so that is
         * safe to forget.) */
        st->session_ready = keep;
        st->timeout_ms = keep ? q->timeout_ms : -1;
        for (i = 0; i < steps->nelts; i++) {
            step *s = &APR_ARRAY_IDX(steps, i, step);
            if (s->kind == STEP_PREPARE)
                apr_hash_set(st->prepared, apr_pstrdup(st->pool, s->text), APR_HASH_KEY_STRING,
                             apr_pstrdup(st->pool, s->name));
        }
    }
    else if (st) {
        settings_unknown(st);
        for (i = 0; i < steps->nelts; i++)
            st->unrecorded += APR_ARRAY_IDX(steps, i, step).kind == STEP_PREPARE;
    }
    goto done;

send_failed:
    err = ar_db_result_error(p, conn, NULL);
done:
    if (st)
        st->stats.db_us += (apr_uint64_t)(apr_time_now() - begun - in_rows);
    if (PQstatus(conn) == CONNECTION_OK && PQpipelineStatus(conn) != PQ_PIPELINE_OFF) {
        /* An error path left results unread: drain them so the pool gets the
         * connection idle. The bound only guards against a confused server. */
        int guard = 0;
        while (!PQexitPipelineMode(conn) && guard++ < 10000) {
            PQclear(PQgetResult(conn));
            if (PQstatus(conn) != CONNECTION_OK)
                break;
        }
    }
    return err;
}

ar_error *ar_db_stream(apr_pool_t *p, PGconn *conn, ar_db_query *q)
{
    long rows = 0;
    ar_error *err;

    if (q->in_transaction) {
        /* Inside a transaction nothing can be tried again: what ran before
         * this statement is gone with the connection, or still there. */
        if (PQstatus(conn) != CONNECTION_OK)
            return ar_db_result_error(p, conn, NULL);
        return stream_once(p, conn, q, &rows);
    }
    if (!ar_db_usable(conn))
        return ar_db_result_error(p, conn, NULL);
    err = stream_once(p, conn, q, &rows);
    /* A pooled connection whose server restarted fails its first statement;
     * nothing was sent to the client yet, so reconnect and try once more.
     * Not a write: the connection may have gone after its commit. */
    if (err && err->kind == AR_ERR_DB_UNAVAILABLE && rows == 0 && !q->writes
        && ar_db_usable(conn))
        err = stream_once(p, conn, q, &rows);
    /* A statement we thought prepared is gone (someone ran DEALLOCATE, or a
     * pooler swapped sessions), a name we made is taken (a pooler's other
     * client made it on this server session), or DDL changed what a prepared
     * one returns ("cached plan must not change result type"): start this
     * connection's state afresh. */
    else if (err && q->state && rows == 0
             && (strcmp(err->code, "26000") == 0 || strcmp(err->code, "0A000") == 0
                 || strcmp(err->code, "42P05") == 0)) {
        state_forget(q->state);
        q->state->wipe = 1;
        err = stream_once(p, conn, q, &rows);
    }
    return err;
}

const char *ar_db_row_value(const ar_row *row, int col, int *len)
{
    if (col >= PQnfields(row->res) || PQgetisnull(row->res, row->index, col)) {
        *len = 0;
        return NULL;
    }
    *len = PQgetlength(row->res, row->index, col);
    return PQgetvalue(row->res, row->index, col);
}

/* How a transaction ends: [commit][names to deallocate]. The names made
 * inside it, on a session a pooler gives another client afterwards, go in
 * the same message: the pooler lets the session go only when the whole
 * message is done. Before COMMIT, so that a failing COMMIT is the message's
 * answer; after ROLLBACK, which an aborted transaction needs first. (Other
 * names on that session were left by clients that can no longer use them.) */
static const char *const end_sql[2][2] = {
    {"ROLLBACK", "ROLLBACK; DEALLOCATE ALL"},
    {"COMMIT", "DEALLOCATE ALL; COMMIT"},
};

ar_error *ar_db_end(apr_pool_t *p, PGconn *conn, ar_conn_state *st, int commit)
{
    PGresult *res;
    ar_error *err = NULL;
    apr_time_t begun;
    int names = 0;

    if (st && st->names_in_tx) {
        /* they go with the transaction (end_sql), or with the session */
        names_forget(st);
        names = 1;
    }
    if (PQstatus(conn) != CONNECTION_OK)
        return ar_db_result_error(p, conn, NULL);
    if (PQtransactionStatus(conn) == PQTRANS_IDLE)
        return NULL;
    /* COMMIT of a failed transaction would be a rollback: say so */
    if (commit && PQtransactionStatus(conn) != PQTRANS_INTRANS) {
        err = ar_error_make(p, AR_ERR_DB_QUERY, "the database could not answer this request",
                            NULL, NULL);
        err->log = "commit of a transaction that had failed";
        commit = 0;
    }
    begun = apr_time_now();
    res = PQexec(conn, end_sql[commit != 0][names]);
    if (st)
        st->stats.db_us += (apr_uint64_t)(apr_time_now() - begun);
    if (PQresultStatus(res) != PGRES_COMMAND_OK && !err) {
        err = ar_db_result_error(p, conn, res);
        commit = 0;
    }
    PQclear(res);
    if (PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) != PQTRANS_IDLE)
        PQclear(PQexec(conn, "ROLLBACK"));
    if (!commit && st) {
        /* set_config() is transactional: the settings sent inside are undone */
        settings_unknown(st);
    }
    return err;
}

/* ------------------------------------------------------------ COPY in */

/* Starts COPY ... FROM STDIN: outside the pipeline, which cannot carry a
 * COPY. begin: open the transaction first, with the session's settings
 * (inside it, so ar_db_end's rollback also forgets them). */
ar_error *ar_db_copy_begin(apr_pool_t *p, PGconn *conn, ar_conn_state *st, long timeout_ms,
                           const ar_request_info *request, int begin, const char *copy_sql)
{
    PGresult *res;
    ar_error *err = NULL;

    if (begin ? !ar_db_usable(conn) : PQstatus(conn) != CONNECTION_OK)
        return ar_db_result_error(p, conn, NULL);
    if (begin) {
        char timeout[32];
        const char *values[1] = {timeout};
        int keep;

        state_follow(st, conn);
        res = PQexec(conn, "BEGIN");
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
            err = ar_db_result_error(p, conn, res);
        PQclear(res);
        if (err)
            return err;
        apr_snprintf(timeout, sizeof(timeout), "%ld", timeout_ms);
        keep = session_kept(st);
        res = PQexecParams(conn, settings_sql[!keep], 1, NULL, values, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_TUPLES_OK)
            err = ar_db_result_error(p, conn, res);
        else if (PQntuples(res) == 1)
            pooler_seen(st, conn, PQgetvalue(res, 0, 0));
        PQclear(res);
        if (err)
            return err;
        if (st && keep) {
            st->session_ready = 1;
            st->timeout_ms = timeout_ms;
        }
        if (request) {
            ar_sql sql;
            request_statement(p, request, 0, NULL, &sql);
            res = PQexecParams(conn, sql.text, sql.params->nelts, NULL,
                               (const char *const *)sql.params->elts, NULL, NULL, 0);
            if (PQresultStatus(res) != PGRES_TUPLES_OK)
                err = request_step_error(p, request, ar_db_result_error(p, conn, res));
            PQclear(res);
            if (!err && request->pre_request) {
                res = PQexec(conn, request->pre_request);
                if (PQresultStatus(res) != PGRES_TUPLES_OK)
                    err = ar_db_result_error(p, conn, res);
                PQclear(res);
            }
            if (!err && request->response && PQsendQuery(conn, response_sql))
                err = read_response(p, conn, NULL, request->response);
            if (err)
                return err;
        }
    }
    res = PQexec(conn, copy_sql);
    if (PQresultStatus(res) != PGRES_COPY_IN)
        err = ar_db_result_error(p, conn, res);
    PQclear(res);
    return err;
}

ar_error *ar_db_copy_put(apr_pool_t *p, PGconn *conn, const char *data, apr_size_t len)
{
    while (len > 0) {
        /* libpq takes an int: hand over large buffers in pieces */
        int n = len > (1 << 30) ? (1 << 30) : (int)len;
        if (PQputCopyData(conn, data, n) != 1)
            return ar_db_result_error(p, conn, NULL);
        data += n;
        len -= (apr_size_t)n;
    }
    return NULL;
}

ar_error *ar_db_copy_end(apr_pool_t *p, PGconn *conn, const char *abort_reason,
                         apr_int64_t *rows)
{
    PGresult *res;
    ar_error *err = NULL;

    if (PQputCopyEnd(conn, abort_reason) != 1)
        err = ar_db_result_error(p, conn, NULL);
    while ((res = PQgetResult(conn)) != NULL) {
        if (PQresultStatus(res) == PGRES_COMMAND_OK && rows)
            *rows = apr_atoi64(PQcmdTuples(res));
        else if (PQresultStatus(res) != PGRES_COMMAND_OK && !err && !abort_reason)
            err = ar_db_result_error(p, conn, res);
        PQclear(res);
        if (PQstatus(conn) != CONNECTION_OK)
            break;
    }
    return err;
}
