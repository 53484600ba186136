/*
 * db_error.c: what PostgreSQL said, as one of our errors: the SQLSTATE
 * decides the kind (and so, through error.c's table, the HTTP status), the
 * primary message is kept only where it is about the client's value and
 * names no statement, and the diagnostics beyond it only for the errors
 * whose words are the client's to read.
 *
 * Pure core with libpq, beside db.c, whose every step reads its failures
 * through ar_db_result_error.
 */
#include <string.h>

#include <apr_strings.h>
#include <libpq-fe.h>

#include "autorest.h"

ar_error *ar_db_error(apr_pool_t *p, const char *sqlstate, const char *primary,
                      const char *log)
{
    ar_error *e;
    const char *state = sqlstate ? sqlstate : "";

    if (strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0
        || strcmp(state, "57P02") == 0 || strcmp(state, "57P03") == 0
        || strcmp(state, "53300") == 0 || !*state)
        e = ar_error_make(p, AR_ERR_DB_UNAVAILABLE, "the database is not reachable",
                          NULL, "try again later");
    else if (strcmp(state, "57014") == 0)
        e = ar_error_make(p, AR_ERR_DB_TIMEOUT,
                          "the query took longer than this API allows", NULL,
                          "ask for fewer rows");
    else if (strncmp(state, "22", 2) == 0 || strcmp(state, "42883") == 0
             || strcmp(state, "42804") == 0 || strcmp(state, "42704") == 0
             || strcmp(state, "42846") == 0 || strcmp(state, "42725") == 0
             || strcmp(state, "42P18") == 0 || strcmp(state, "42P10") == 0)
        /* Data exceptions are about the client's value, and the type errors
         * about an operator or cast the client chose for a column (like on
         * an integer, ::nosuchtype). PostgreSQL's primary message names the
         * types and value, never the statement. */
        e = ar_error_make(p, AR_ERR_DB_BAD_VALUE, primary ? primary : "invalid value",
                          NULL, NULL);
    else if (strcmp(state, "23505") == 0 || strcmp(state, "23503") == 0)
        /* the row conflicts with another: 409, as PostgREST answers */
        e = ar_error_make(p, AR_ERR_DB_CONFLICT, primary ? primary : "conflict", NULL, NULL);
    else if (strncmp(state, "23", 2) == 0)
        e = ar_error_make(p, AR_ERR_DB_CONSTRAINT,
                          primary ? primary : "a constraint refused the row", NULL, NULL);
    else if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0)
        e = ar_error_make(p, AR_ERR_DB_RETRY,
                          "the transaction collided with another and was undone", NULL,
                          "send the request again");
    else if (strcmp(state, "P0001") == 0)
        /* RAISE in a function or trigger: its words are for the client */
        e = ar_error_make(p, AR_ERR_DB_RAISED, primary ? primary : "raised", NULL, NULL);
    else if (strcmp(state, "25006") == 0)
        /* "cannot execute UPDATE in a read-only transaction": no SQL text */
        e = ar_error_make(p, AR_ERR_DB_READ_ONLY,
                          primary ? primary : "the database is read-only here", NULL, NULL);
    else if (strcmp(state, "42501") == 0)
        e = ar_error_make(p, AR_ERR_DB_PRIVILEGE,
                          "the database refused access to this resource", NULL, NULL);
    else if (strcmp(state, "42P01") == 0 || strcmp(state, "42703") == 0)
        e = ar_error_make(p, AR_ERR_DB_SCHEMA_CHANGED,
                          "the database schema changed while this request ran", NULL,
                          "try again");
    else
        e = ar_error_make(p, AR_ERR_DB_QUERY, "the database could not answer this request",
                          NULL, NULL);
    if (*state && e->kind != AR_ERR_DB_UNAVAILABLE && e->kind != AR_ERR_DB_SCHEMA_CHANGED)
        e->code = apr_pstrdup(p, state);
    e->log = log;
    return e;
}

/* What PostgreSQL says beyond its primary message, for the errors whose
 * words are the client's to read: a constraint's DETAIL ("Key (sku)=(x)
 * already exists.") and HINT, a RAISE's DETAIL and HINT. The glue withholds
 * them where they could show a hidden column (see ar_error.constraint). */
static void add_diagnostics(apr_pool_t *p, ar_error *e, const PGresult *res)
{
    const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
    const char *hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
    const char *constraint = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);

    if (e->kind != AR_ERR_DB_CONFLICT && e->kind != AR_ERR_DB_CONSTRAINT
        && e->kind != AR_ERR_DB_RAISED && e->kind != AR_ERR_DB_BAD_VALUE)
        return;
    e->details = detail ? apr_pstrdup(p, detail) : NULL;
    if (hint)
        e->hint = apr_pstrdup(p, hint);
    e->constraint = constraint ? apr_pstrdup(p, constraint) : NULL;
}

ar_error *ar_db_result_error(apr_pool_t *p, PGconn *conn, const PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *full = res ? PQresultErrorMessage(res) : PQerrorMessage(conn);
    ar_error *e;

    if (PQstatus(conn) != CONNECTION_OK)
        state = "08006";
    if (state && (strcmp(state, "PGRST") == 0 || strncmp(state, "PT", 2) == 0)) {
        /* a function chose the answer */
        e = ar_error_raised(p, state, primary,
                            PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL),
                            PQresultErrorField(res, PG_DIAG_MESSAGE_HINT));
        e->log = apr_pstrdup(p, full);
        return e;
    }
    /* Copies: the PGresult is cleared right after. */
    e = ar_db_error(p, state ? apr_pstrdup(p, state) : NULL,
                    primary ? apr_pstrdup(p, primary) : NULL, apr_pstrdup(p, full));
    if (res)
        add_diagnostics(p, e, res);
    return e;
}
