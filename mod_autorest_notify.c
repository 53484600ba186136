/*
 * mod_autorest_notify.c: schema reloads on notice (AutoRestSchemaNotify On).
 *
 * A thread per child and per database listens on channel "autorest" on a
 * connection of its own, made with the options of a pooled one (libpq's
 * PQconninfo), so it takes nothing from mod_dbd's pool, or with the
 * directive's own connection string where the pool reaches PostgreSQL
 * through a pooler in transaction mode, which cannot keep a LISTEN. `NOTIFY autorest,
 * 'reload schema'` (or an empty payload) counts a notice; the schema cache
 * compares its snapshots against that count, one atomic read per request,
 * and reflects again when a notice came after a snapshot began. The thread
 * starts with the first request of a Location that asks for it, and stops
 * when the child exits. A lost connection is made again, and counts as a
 * notice: one may have come while it was down.
 */
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include <httpd.h>
#include <http_log.h>
#include <apr_atomic.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <apr_thread_proc.h>

#include "mod_autorest_glue.h"

#define CHANNEL "autorest"
#define RELOAD_PAYLOAD "reload schema"
/* How often the thread looks up from its socket to see whether the child
 * is exiting, and how long it waits before connecting again. */
#define POLL_MS 250
#define RECONNECT_MS 1000
#define MAX_LISTENERS 16

typedef struct {
    const char *conninfo;          /* the options, as text: one listener each */
    const char **keys, **values;   /* for PQconnectdbParams */
    server_rec *server;            /* for the error log */
    apr_thread_t *thread;
} listener;

static volatile apr_uint32_t notices;  /* notices (and reconnections) so far */
static volatile apr_uint32_t stopping;
static apr_pool_t *notify_pool;
static apr_thread_mutex_t *notify_lock;
static listener listeners[MAX_LISTENERS];
static volatile apr_uint32_t nlisteners;
/* the servers already looked at (lock-free reads of the first n) */
static server_rec *volatile watched[MAX_LISTENERS];
static volatile apr_uint32_t nwatched;

apr_uint32_t ar_notify_count(void)
{
    return apr_atomic_read32(&notices);
}

static void sleep_unless_stopping(int ms)
{
    for (; ms > 0 && !apr_atomic_read32(&stopping); ms -= POLL_MS)
        apr_sleep(apr_time_from_msec(POLL_MS));
}

static PGconn *listen_on(listener *l)
{
    PGconn *conn = PQconnectdbParams(l->keys, l->values, 0);
    PGresult *res;

    if (PQstatus(conn) != CONNECTION_OK) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, l->server,
                     "mod_autorest: the schema listener cannot connect: %s",
                     PQerrorMessage(conn));
        PQfinish(conn);
        return NULL;
    }
    /* A pooler in transaction mode accepts the LISTEN and then hands the
     * server session to others: the notices go astray without an error.
     * Say so. */
    res = PQexec(conn, "SELECT pg_backend_pid()");
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1
        && ar_db_behind_pooler(conn, PQgetvalue(res, 0, 0)))
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, l->server,
                     "mod_autorest: the schema listener reaches PostgreSQL through a "
                     "pooler, where notices may not arrive: give AutoRestSchemaNotify the "
                     "server's own connection string");
    PQclear(res);
    res = PQexec(conn, "LISTEN " CHANNEL);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, l->server,
                     "mod_autorest: LISTEN " CHANNEL " failed (a pooler in transaction "
                     "mode cannot keep it: give AutoRestSchemaNotify the server's own "
                     "connection string): %s",
                     PQerrorMessage(conn));
        PQclear(res);
        PQfinish(conn);
        return NULL;
    }
    PQclear(res);
    return conn;
}

static void *APR_THREAD_FUNC listen_loop(apr_thread_t *thread, void *data)
{
    listener *l = data;
    PGconn *conn = NULL;
    int connected_before = 0;

    while (!apr_atomic_read32(&stopping)) {
        struct pollfd pfd;
        PGnotify *n;

        if (!conn) {
            if (!(conn = listen_on(l))) {
                sleep_unless_stopping(RECONNECT_MS);
                continue;
            }
            if (connected_before)
                apr_atomic_inc32(&notices); /* a notice may have come meanwhile */
            connected_before = 1;
        }
        pfd.fd = PQsocket(conn);
        pfd.events = POLLIN;
        pfd.revents = 0;
        if (poll(&pfd, 1, POLL_MS) < 0 || (pfd.revents && !PQconsumeInput(conn))
            || PQstatus(conn) != CONNECTION_OK) {
            ap_log_error(APLOG_MARK, APLOG_INFO, 0, l->server,
                         "mod_autorest: the schema listener lost its connection; "
                         "connecting again");
            PQfinish(conn);
            conn = NULL;
            continue;
        }
        while ((n = PQnotifies(conn)) != NULL) {
            if (!n->extra || !*n->extra || strcmp(n->extra, RELOAD_PAYLOAD) == 0)
                apr_atomic_inc32(&notices);
            PQfreemem(n);
        }
    }
    PQfinish(conn);
    apr_thread_exit(thread, APR_SUCCESS);
    return NULL;
}

static apr_status_t stop_listeners(void *data)
{
    apr_uint32_t i;
    apr_status_t rv;

    (void)data;
    apr_atomic_set32(&stopping, 1);
    for (i = 0; i < apr_atomic_read32(&nlisteners); i++)
        if (listeners[i].thread)
            apr_thread_join(&rv, listeners[i].thread);
    return APR_SUCCESS;
}

void ar_notify_child_init(apr_pool_t *pchild)
{
    apr_pool_create(&notify_pool, pchild);
    apr_thread_mutex_create(&notify_lock, APR_THREAD_MUTEX_DEFAULT, pchild);
    /* a pre-cleanup: the threads stop before pchild's subpools (theirs,
     * and the one holding their options) are destroyed */
    apr_pool_pre_cleanup_register(pchild, NULL, stop_listeners);
}

/* The listener's options, as PQconnectdbParams takes them, into l: those of
 * conninfo (AutoRestSchemaNotify "..."; checked when the configuration was
 * read), else those conn was made with. */
static void options_of(PGconn *conn, const char *conninfo, listener *l)
{
    PQconninfoOption *opts = conninfo ? PQconninfoParse(conninfo, NULL) : PQconninfo(conn), *o;
    int n = 0, i = 0;
    const char *text = "";

    for (o = opts; o && o->keyword; o++)
        n += o->val != NULL && *o->val;
    l->keys = apr_pcalloc(notify_pool, sizeof(char *) * (apr_size_t)(n + 3));
    l->values = apr_pcalloc(notify_pool, sizeof(char *) * (apr_size_t)(n + 3));
    for (o = opts; o && o->keyword; o++) {
        if (!o->val || !*o->val || strcmp(o->keyword, "application_name") == 0
            || strcmp(o->keyword, "target_session_attrs") == 0)
            continue;
        l->keys[i] = apr_pstrdup(notify_pool, o->keyword);
        l->values[i] = apr_pstrdup(notify_pool, o->val);
        text = apr_pstrcat(notify_pool, text, o->keyword, "=", o->val, " ", NULL);
        i++;
    }
    /* NOTIFY reaches only the primary's sessions, and a standby refuses
     * LISTEN: where DBDParams lists a replica and the primary (reads sent
     * to the replica), the listener takes the primary */
    l->keys[i] = "target_session_attrs";
    l->values[i++] = "primary";
    /* to be told apart in pg_stat_activity */
    l->keys[i] = "application_name";
    l->values[i] = "mod_autorest schema listener";
    l->conninfo = text;
    PQconninfoFree(opts);
}

void ar_notify_watch(request_rec *r, PGconn *conn, const char *conninfo)
{
    apr_uint32_t i, n = apr_atomic_read32(&nwatched);
    listener *l;
    apr_status_t rv;

    for (i = 0; i < n; i++)
        if (watched[i] == r->server)
            return; /* the request path's whole cost, once a server is watched */
    apr_thread_mutex_lock(notify_lock);
    n = apr_atomic_read32(&nwatched);
    for (i = 0; i < n && watched[i] != r->server; i++)
        ;
    if (i < n || n == MAX_LISTENERS) {
        apr_thread_mutex_unlock(notify_lock);
        return;
    }
    l = &listeners[apr_atomic_read32(&nlisteners)];
    options_of(conn, conninfo, l);
    l->server = r->server;
    /* servers on one database share its listener */
    for (i = 0; i < apr_atomic_read32(&nlisteners); i++)
        if (strcmp(listeners[i].conninfo, l->conninfo) == 0)
            break;
    if (i == apr_atomic_read32(&nlisteners)) {
        rv = apr_thread_create(&l->thread, NULL, listen_loop, l, notify_pool);
        if (rv == APR_SUCCESS)
            apr_atomic_inc32(&nlisteners);
        else
            ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                          "mod_autorest: cannot start the schema listener");
    }
    watched[n] = r->server;
    apr_atomic_inc32(&nwatched);
    apr_thread_mutex_unlock(notify_lock);
}
