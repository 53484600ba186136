/*
 * mod_autorest_status.c: what the module has done, per child process, for
 * the admin: a section of mod_status's page (and of its ?auto form), and
 * notes on each request for LogFormat (%{autorest-db-us}n and the others).
 *
 * The counters live in one shared memory segment made before the children
 * fork, a slot per child, so that whichever child answers /server-status
 * shows them all. A child writes only its own slot, with atomic adds (its
 * threads share it); no lock is taken on the request path. A slot is
 * claimed in child_init and given back when the child exits; one left by a
 * child that died is taken over. A graceful restart starts from zero.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <ap_mpm.h>
#include <apr_atomic.h>
#include <apr_optional_hooks.h>
#include <apr_shm.h>
#include <apr_strings.h>

#include "mod_autorest_glue.h"
#include "mod_status.h"

enum { CLASS_2XX, CLASS_3XX, CLASS_4XX, CLASS_5XX, CLASSES };
static const char *const class_names[CLASSES] = {"2xx", "3xx", "4xx", "5xx"};

typedef struct {
    volatile apr_uint32_t pid;          /* the child's; 0: free */
    apr_uint32_t unused;
    volatile apr_uint64_t requests[CLASSES];
    volatile apr_uint64_t rows;         /* rows sent in bodies */
    volatile apr_uint64_t bytes;        /* bytes of bodies sent (r->bytes_sent) */
    volatile apr_uint64_t prepared;     /* statements prepared (parsed, planned) */
    volatile apr_uint64_t reused;       /* statements run again by name */
    volatile apr_uint64_t db_us;        /* waiting on PostgreSQL */
    volatile apr_uint64_t reloads;      /* schema snapshots reflected */
    volatile apr_uint64_t checks;       /* expired ones found current (a fingerprint) */
    volatile apr_uint64_t snapshot_at;  /* apr_time_t of the newest; 0: none yet */
    volatile apr_uint64_t pool_wait_us; /* taking a connection from mod_dbd's pool */
    volatile apr_uint64_t lock_waits;   /* the schema cache's lock found taken */
    volatile apr_uint64_t lock_wait_us; /* and waited for */
    volatile apr_uint64_t kept_reads;   /* reads planned once for their shape, run again */
} child_slot;

static child_slot *slots;   /* the segment, in every child (inherited) */
static int nslots;
static child_slot *mine;    /* this child's slot, or NULL (none free) */

/* ----------------------------------------------------------- the segment */

int ar_status_post_config(apr_pool_t *pconf, server_rec *s)
{
    apr_shm_t *shm;
    apr_status_t rv;
    int daemons = 0;

    /* httpd reads its configuration twice at start; the first is a dry run */
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG)
        return OK;
    ap_mpm_query(AP_MPMQ_HARD_LIMIT_DAEMONS, &daemons);
    /* children still finishing after a graceful stop keep their slots while
     * their replacements take new ones */
    nslots = (daemons > 0 ? daemons : 16) * 2;
    rv = apr_shm_create(&shm, sizeof(child_slot) * (apr_size_t)nslots, NULL, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s,
                     "mod_autorest: no shared memory for its mod_status section; "
                     "it will not be shown");
        slots = NULL;
        return OK;
    }
    slots = apr_shm_baseaddr_get(shm);
    memset(slots, 0, sizeof(child_slot) * (apr_size_t)nslots);
    return OK;
}

static apr_status_t give_back(void *data)
{
    (void)data;
    if (mine)
        apr_atomic_set32(&mine->pid, 0);
    mine = NULL;
    return APR_SUCCESS;
}

static int claim(child_slot *slot, apr_uint32_t from, apr_uint32_t me)
{
    if (apr_atomic_cas32(&slot->pid, me, from) != from)
        return 0;
    memset((char *)slot + sizeof(slot->pid) + sizeof(slot->unused), 0,
           sizeof(*slot) - sizeof(slot->pid) - sizeof(slot->unused));
    mine = slot;
    return 1;
}

void ar_status_child_init(apr_pool_t *pchild)
{
    apr_uint32_t me = (apr_uint32_t)getpid();
    int i;

    if (!slots)
        return;
    for (i = 0; i < nslots && !mine; i++)
        claim(&slots[i], 0, me);
    /* none free: a slot whose child is gone (it died without its cleanup) */
    for (i = 0; i < nslots && !mine; i++) {
        apr_uint32_t pid = apr_atomic_read32(&slots[i].pid);
        if (pid && kill((pid_t)pid, 0) != 0 && errno == ESRCH)
            claim(&slots[i], pid, me);
    }
    apr_pool_cleanup_register(pchild, NULL, give_back, apr_pool_cleanup_null);
}

/* A snapshot reflected, or found current: counted, and its age from now. */
static void snapshot_current(volatile apr_uint64_t *counter)
{
    apr_atomic_add64(counter, 1);
    apr_atomic_set64(&mine->snapshot_at, (apr_uint64_t)apr_time_now());
}

void ar_status_snapshot_loaded(void)
{
    if (mine)
        snapshot_current(&mine->reloads);
}

void ar_status_snapshot_checked(void)
{
    if (mine)
        snapshot_current(&mine->checks);
}

void ar_status_pool_waited(apr_interval_time_t us)
{
    if (mine && us > 0)
        apr_atomic_add64(&mine->pool_wait_us, (apr_uint64_t)us);
}

void ar_status_read_kept(void)
{
    if (mine)
        apr_atomic_add64(&mine->kept_reads, 1);
}

void ar_status_lock_waited(apr_interval_time_t us)
{
    if (!mine)
        return;
    apr_atomic_add64(&mine->lock_waits, 1);
    if (us > 0)
        apr_atomic_add64(&mine->lock_wait_us, (apr_uint64_t)us);
}

/* ------------------------------------------------------------ a request */

ar_request_state *ar_request_state_get(request_rec *r)
{
    ar_request_state *st = ap_get_module_config(r->request_config, &autorest_module);

    if (!st) {
        st = apr_pcalloc(r->pool, sizeof(*st));
        ap_set_module_config(r->request_config, &autorest_module, st);
    }
    return st;
}

void ar_status_db_done(context *cx)
{
    ar_request_state *st = ar_request_state_get(cx->r);
    ar_db_stats now;

    if (!cx->conn_state)
        return;
    ar_conn_state_stats(cx->conn_state, &now);
    st->db.prepared = now.prepared - cx->db_before.prepared;
    st->db.reused = now.reused - cx->db_before.reused;
    st->db.db_us = now.db_us - cx->db_before.db_us;
    cx->conn_state = NULL; /* the connection's, no longer the request's */
}

void ar_status_request_done(context *cx)
{
    request_rec *r = cx->r;
    ar_request_state *st = ar_request_state_get(r);

    ar_status_db_done(cx);
    /* apr_off_t_toa: a formatter's parse of "%llu" four times costs more;
     * added, not set: once per request, so there is none to replace */
    apr_table_addn(r->notes, "autorest-db-us", apr_off_t_toa(r->pool, (apr_off_t)st->db.db_us));
    apr_table_addn(r->notes, "autorest-rows", apr_off_t_toa(r->pool, (apr_off_t)st->rows));
    apr_table_addn(r->notes, "autorest-prepared",
                   apr_off_t_toa(r->pool, (apr_off_t)st->db.prepared));
    apr_table_addn(r->notes, "autorest-reused", apr_off_t_toa(r->pool, (apr_off_t)st->db.reused));
    if (cx->request.role)
        apr_table_addn(r->notes, "autorest-role", cx->request.role);
    st->done = 1;
}

/* After the response went out: its status and bytes are final. */
static int count_request(request_rec *r)
{
    ar_request_state *st = ap_get_module_config(r->request_config, &autorest_module);
    int class;

    if (!mine || !st || !st->done)
        return DECLINED;
    class = r->status >= 500 ? CLASS_5XX : r->status >= 400 ? CLASS_4XX
            : r->status >= 300 ? CLASS_3XX : CLASS_2XX;
    apr_atomic_add64(&mine->requests[class], 1);
    apr_atomic_add64(&mine->rows, (apr_uint64_t)(st->rows > 0 ? st->rows : 0));
    apr_atomic_add64(&mine->bytes, (apr_uint64_t)(r->bytes_sent > 0 ? r->bytes_sent : 0));
    apr_atomic_add64(&mine->prepared, st->db.prepared);
    apr_atomic_add64(&mine->reused, st->db.reused);
    apr_atomic_add64(&mine->db_us, st->db.db_us);
    return DECLINED;
}

/* ----------------------------------------------------------- mod_status */

typedef struct {
    apr_uint64_t requests[CLASSES], rows, bytes, prepared, reused, db_us;
    apr_uint64_t reloads, checks, snapshot_at, pool_wait_us, lock_waits, lock_wait_us, kept_reads;
} slot_copy;

static void read_slot(const child_slot *slot, slot_copy *c)
{
    int k;

    for (k = 0; k < CLASSES; k++)
        c->requests[k] = apr_atomic_read64((volatile apr_uint64_t *)&slot->requests[k]);
    c->rows = apr_atomic_read64((volatile apr_uint64_t *)&slot->rows);
    c->bytes = apr_atomic_read64((volatile apr_uint64_t *)&slot->bytes);
    c->prepared = apr_atomic_read64((volatile apr_uint64_t *)&slot->prepared);
    c->reused = apr_atomic_read64((volatile apr_uint64_t *)&slot->reused);
    c->db_us = apr_atomic_read64((volatile apr_uint64_t *)&slot->db_us);
    c->reloads = apr_atomic_read64((volatile apr_uint64_t *)&slot->reloads);
    c->checks = apr_atomic_read64((volatile apr_uint64_t *)&slot->checks);
    c->snapshot_at = apr_atomic_read64((volatile apr_uint64_t *)&slot->snapshot_at);
    c->pool_wait_us = apr_atomic_read64((volatile apr_uint64_t *)&slot->pool_wait_us);
    c->lock_waits = apr_atomic_read64((volatile apr_uint64_t *)&slot->lock_waits);
    c->lock_wait_us = apr_atomic_read64((volatile apr_uint64_t *)&slot->lock_wait_us);
    c->kept_reads = apr_atomic_read64((volatile apr_uint64_t *)&slot->kept_reads);
}

/* Seconds since the child's newest snapshot, or -1 when it has none. */
static long snapshot_age(const slot_copy *c, apr_time_t now)
{
    return c->snapshot_at ? (long)apr_time_sec(now - (apr_time_t)c->snapshot_at) : -1;
}

static int status_section(request_rec *r, int flags)
{
    apr_time_t now = apr_time_now();
    slot_copy c, total;
    int i, k, children = 0;
    long oldest = -1;

    if (!slots)
        return OK;
    memset(&total, 0, sizeof(total));
    if (!(flags & AP_STATUS_SHORT))
        ap_rputs("<hr />\n<h2>mod_autorest</h2>\n<table border=\"1\"><tr><th>PID</th>"
                 "<th>2xx</th><th>3xx</th><th>4xx</th><th>5xx</th><th>rows</th><th>bytes</th>"
                 "<th>prepared</th><th>reused</th><th>DB ms</th><th>snapshot age (s)</th>"
                 "<th>reloads</th><th>checks</th><th>pool wait ms</th><th>lock waits</th>"
                 "<th>lock wait ms</th><th>kept reads</th></tr>\n", r);
    for (i = 0; i < nslots; i++) {
        apr_uint32_t pid = apr_atomic_read32(&slots[i].pid);

        if (!pid)
            continue;
        read_slot(&slots[i], &c);
        children++;
        for (k = 0; k < CLASSES; k++)
            total.requests[k] += c.requests[k];
        total.rows += c.rows;
        total.bytes += c.bytes;
        total.prepared += c.prepared;
        total.reused += c.reused;
        total.db_us += c.db_us;
        total.reloads += c.reloads;
        total.checks += c.checks;
        total.pool_wait_us += c.pool_wait_us;
        total.lock_waits += c.lock_waits;
        total.lock_wait_us += c.lock_wait_us;
        total.kept_reads += c.kept_reads;
        if (snapshot_age(&c, now) > oldest)
            oldest = snapshot_age(&c, now);
        if (flags & AP_STATUS_SHORT) {
            ap_rprintf(r, "AutoRestChild%u: 2xx=%" APR_UINT64_T_FMT " 3xx=%" APR_UINT64_T_FMT
                          " 4xx=%" APR_UINT64_T_FMT " 5xx=%" APR_UINT64_T_FMT
                          " rows=%" APR_UINT64_T_FMT " bytes=%" APR_UINT64_T_FMT
                          " prepared=%" APR_UINT64_T_FMT " reused=%" APR_UINT64_T_FMT
                          " db_us=%" APR_UINT64_T_FMT " snapshot_age=%ld reloads=%"
                          APR_UINT64_T_FMT " checks=%" APR_UINT64_T_FMT
                          " pool_wait_us=%" APR_UINT64_T_FMT
                          " lock_waits=%" APR_UINT64_T_FMT " lock_wait_us=%" APR_UINT64_T_FMT
                          " kept_reads=%" APR_UINT64_T_FMT "\n",
                       pid, c.requests[0], c.requests[1], c.requests[2], c.requests[3], c.rows,
                       c.bytes, c.prepared, c.reused, c.db_us, snapshot_age(&c, now), c.reloads,
                       c.checks, c.pool_wait_us, c.lock_waits, c.lock_wait_us, c.kept_reads);
            continue;
        }
        ap_rprintf(r, "<tr><td>%u</td>", pid);
        for (k = 0; k < CLASSES; k++)
            ap_rprintf(r, "<td>%" APR_UINT64_T_FMT "</td>", c.requests[k]);
        ap_rprintf(r, "<td>%" APR_UINT64_T_FMT "</td><td>%" APR_UINT64_T_FMT "</td><td>%"
                      APR_UINT64_T_FMT "</td><td>%" APR_UINT64_T_FMT "</td><td>%.1f</td>"
                      "<td>%ld</td><td>%" APR_UINT64_T_FMT "</td><td>%" APR_UINT64_T_FMT
                      "</td><td>%.1f</td><td>%" APR_UINT64_T_FMT "</td><td>%.1f</td><td>%"
                      APR_UINT64_T_FMT "</td></tr>\n",
                   c.rows, c.bytes, c.prepared, c.reused, (double)c.db_us / 1000.0,
                   snapshot_age(&c, now), c.reloads, c.checks, (double)c.pool_wait_us / 1000.0,
                   c.lock_waits, (double)c.lock_wait_us / 1000.0, c.kept_reads);
    }
    if (flags & AP_STATUS_SHORT) {
        ap_rprintf(r, "AutoRestChildren: %d\n", children);
        for (k = 0; k < CLASSES; k++)
            ap_rprintf(r, "AutoRestRequests%s: %" APR_UINT64_T_FMT "\n", class_names[k],
                       total.requests[k]);
        ap_rprintf(r, "AutoRestRows: %" APR_UINT64_T_FMT "\nAutoRestBytes: %" APR_UINT64_T_FMT
                      "\nAutoRestStatementsPrepared: %" APR_UINT64_T_FMT
                      "\nAutoRestStatementsReused: %" APR_UINT64_T_FMT
                      "\nAutoRestDBMicroseconds: %" APR_UINT64_T_FMT
                      "\nAutoRestSnapshotReloads: %" APR_UINT64_T_FMT
                      "\nAutoRestSnapshotChecks: %" APR_UINT64_T_FMT
                      "\nAutoRestSnapshotAgeMax: %ld"
                      "\nAutoRestPoolWaitMicroseconds: %" APR_UINT64_T_FMT
                      "\nAutoRestLockWaits: %" APR_UINT64_T_FMT
                      "\nAutoRestLockWaitMicroseconds: %" APR_UINT64_T_FMT
                      "\nAutoRestReadsKept: %" APR_UINT64_T_FMT "\n",
                   total.rows, total.bytes, total.prepared, total.reused, total.db_us,
                   total.reloads, total.checks, oldest, total.pool_wait_us, total.lock_waits,
                   total.lock_wait_us, total.kept_reads);
        return OK;
    }
    ap_rputs("</table>\n<p>Per child process since it started (or since the last graceful "
             "restart). Bytes: of bodies. DB ms: waiting on PostgreSQL, not encoding rows. "
             "Snapshot age: "
             "seconds since the child last reflected the schema, or found by a check "
             "(checks) that the catalogue had not changed (-1: not yet). Pool wait: "
             "taking a connection from mod_dbd's pool (waiting for one when all DBDMax are "
             "out). Lock waits: times a request found the schema cache's lock taken. Kept "
             "reads: reads whose plan and statement were kept from an earlier request of "
             "the same shape.</p>\n",
             r);
    return OK;
}

void ar_status_register_hooks(void)
{
    ap_hook_log_transaction(count_request, NULL, NULL, APR_HOOK_MIDDLE);
    APR_OPTIONAL_HOOK(ap, status_hook, status_section, NULL, NULL, APR_HOOK_MIDDLE);
}
