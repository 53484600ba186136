/*
 * mod_autorest_cache.c: the per-child cache of reflected schemas.
 */
#include <string.h>

#include <apr_atomic.h>
#include <apr_strings.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include <apr_thread_proc.h>

#include <apr_dbd.h>
#include <mod_dbd.h>

#include "mod_autorest_glue.h"

/* An unknown relation refreshes the cache at most this often, so a client
 * probing names cannot turn every request into a catalogue scan. */
#define UNKNOWN_REFRESH_INTERVAL apr_time_from_sec(1)

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
    ar_read_cache *reads;   /* reads kept planned against this schema */
    apr_pool_t *pool;
    /* Taken from the cache's current snapshot under cache_lock; given back
     * without it (a snapshot no longer current gains no new ones), so a
     * request takes the lock once. */
    volatile apr_uint32_t refs;
    unsigned long begun; /* reflection_count when its reflection began */
    /* When the catalogue was last known to be as this snapshot read it: its
     * reflection's start, or a later fingerprint's that matched. Under
     * cache_lock; AutoRestSchemaMaxAge counts from it. */
    apr_time_t current_at;
    apr_uint32_t notice; /* ar_notify_count() then: a later notice makes it old */
} snapshot;

typedef struct {
    snapshot *current;
    int refreshing;
    apr_time_t last_forced;
    /* what the refresher needs to reflect it without a request: the
     * server whose pool it draws from, the schemas, and whether for roles */
    server_rec *server;
    apr_array_header_t *schemas;
    int all_roles;
} cache_entry;

static apr_pool_t *cache_pool;
static apr_thread_mutex_t *cache_lock;
static apr_hash_t *cache;
/* Reflections begun in this process, in order. A reflection reads the
 * catalogue as of its start but may finish seconds later (a catalogue query
 * that opens a relation waits behind an ALTER TABLE's lock), so the order
 * snapshots began in, not the order they arrived in, says which is newer. */
static unsigned long reflection_count;

/*
 * A snapshot past AutoRestSchemaMaxAge is checked by the refresher, one
 * thread per child started the first time one expires, with a connection
 * of its own from the pool: the request that finds it old is served from it
 * like every other, so no request waits for a reflection that usually finds
 * nothing new; and the refresher reflects again only when the catalogue's
 * fingerprint moved (reflect_fingerprint.c). (A notice, an unknown name or
 * a changed column still reflect inside the request: there the schema did
 * change and the request needs the new one.) Entries to refresh wait in
 * refresh_queue, under cache_lock.
 */
static apr_thread_t *refresher;
static apr_thread_cond_t *refresh_wanted;
static apr_array_header_t *refresh_queue; /* cache_entry * */
static int refresher_stopping;
/* the refresher's reflection in flight, to cancel when the child stops (one
 * waiting behind an ALTER TABLE's lock, or in a pooler's queue while the
 * server is down, would hold the child's exit until httpd kills it) */
static PGcancel *refresh_cancel;
static APR_OPTIONAL_FN_TYPE(ap_dbd_open) *dbd_open;
static APR_OPTIONAL_FN_TYPE(ap_dbd_close) *dbd_close;

/* cache_lock, with the time waited for it counted when another thread had
 * it (mod_status's lock waits): every request takes it once. */
static void lock_cache(void)
{
    apr_time_t begun;

    if (apr_thread_mutex_trylock(cache_lock) == APR_SUCCESS)
        return;
    begun = apr_time_now();
    apr_thread_mutex_lock(cache_lock);
    ar_status_lock_waited(apr_time_now() - begun);
}

static void snapshot_unref(snapshot *snap)
{
    if (!apr_atomic_dec32(&snap->refs))
        apr_pool_destroy(snap->pool);
}

static apr_status_t snapshot_release(void *data)
{
    snapshot_unref(data);
    return APR_SUCCESS;
}

/* The cache's key of a request's Location: its server and schemas (built
 * by hand: a formatter's parse costs more than the rest of the lookup). */
static const char *entry_key(request_rec *r, const settings *s)
{
    static const char hex[] = "0123456789abcdef";
    const apr_array_header_t *schemas = s->exposure.schemas;
    apr_uintptr_t server = (apr_uintptr_t)r->server;
    apr_size_t len = 2 * sizeof(server) + 3, n;
    char *key, *at;
    int i;

    for (i = 0; i < schemas->nelts; i++)
        len += strlen(APR_ARRAY_IDX(schemas, i, const char *)) + 1;
    at = key = apr_palloc(r->pool, len + 1);
    for (n = 0; n < 2 * sizeof(server); n++, server >>= 4)
        *at++ = hex[server & 15];
    *at++ = '|';
    /* requests that switch roles read a snapshot of everything */
    *at++ = s->role_source != ROLE_NONE ? 'R' : 'C';
    *at++ = '|';
    for (i = 0; i < schemas->nelts; i++) {
        const char *name = APR_ARRAY_IDX(schemas, i, const char *);
        n = strlen(name);
        memcpy(at, name, n);
        at += n;
        *at++ = '|';
    }
    *at = '\0';
    return key;
}

/* Under cache_lock. */
static cache_entry *cache_entry_for(request_rec *r, const settings *s, const char *key)
{
    cache_entry *e;
    int i;

    e = apr_hash_get(cache, key, APR_HASH_KEY_STRING);
    if (!e) {
        e = apr_pcalloc(cache_pool, sizeof(*e));
        e->server = r->server;
        e->schemas = apr_array_make(cache_pool, s->exposure.schemas->nelts, sizeof(const char *));
        for (i = 0; i < s->exposure.schemas->nelts; i++)
            APR_ARRAY_PUSH(e->schemas, const char *) =
                apr_pstrdup(cache_pool, APR_ARRAY_IDX(s->exposure.schemas, i, const char *));
        e->all_roles = s->role_source != ROLE_NONE;
        apr_hash_set(cache, apr_pstrdup(cache_pool, key), APR_HASH_KEY_STRING, e);
    }
    return e;
}

/* A new snapshot of e's schemas, read through conn; an error is made in p. */
static ar_error *reflect_into_snapshot(apr_pool_t *p, const cache_entry *e, PGconn *conn,
                                       unsigned long begun, snapshot **out)
{
    apr_pool_t *pool;
    ar_schema *schema;
    ar_error *err;
    apr_array_header_t *schemas;

    /* Unmanaged: a snapshot outlives requests and is freed from any thread. */
    if (apr_pool_create_unmanaged(&pool) != APR_SUCCESS)
        return ar_error_make(p, AR_ERR_CONFIG, "out of memory", NULL, NULL);
    schemas = apr_array_copy(pool, e->schemas);
    err = ar_reflect_load(conn, pool, schemas, e->all_roles, &schema);
    if (err && err->kind == AR_ERR_DB_UNAVAILABLE && ar_db_usable(conn))
        err = ar_reflect_load(conn, pool, schemas, e->all_roles, &schema);
    if (err) {
        ar_error *copy = ar_error_make(p, err->kind, err->message, NULL, err->hint);
        copy->log = apr_pstrdup(p, err->log);
        apr_pool_destroy(pool);
        return copy;
    }
    *out = apr_pcalloc(pool, sizeof(snapshot));
    (*out)->schema = schema;
    (*out)->reads = ar_read_cache_create(pool); /* NULL: nothing is kept */
    (*out)->pool = pool;
    (*out)->refs = 1; /* the cache's */
    (*out)->begun = begun;
    (*out)->current_at = schema->loaded_at;
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, e->server, "mod_autorest: reflected %d relations",
                 schema->relations->nelts);
    ar_status_snapshot_loaded();
    return NULL;
}

/* Under cache_lock: fresh becomes e's snapshot unless one that began later
 * already is; returns fresh when it did not (the caller's to keep or drop). */
static snapshot *swap_in_locked(cache_entry *e, snapshot *fresh)
{
    if (fresh && (!e->current || e->current->begun < fresh->begun)) {
        if (e->current)
            snapshot_unref(e->current);
        e->current = fresh; /* its one reference is the cache's now */
        return NULL;
    }
    return fresh;
}

static void *APR_THREAD_FUNC refresh_loop(apr_thread_t *thread, void *data)
{
    (void)data;
    /* the lock itself, not lock_cache(): mod_status counts a request's waits */
    apr_thread_mutex_lock(cache_lock);
    for (;;) {
        cache_entry *e;
        snapshot *fresh = NULL;
        apr_pool_t *p;
        ap_dbd_t *dbd;
        PGconn *conn;
        ar_error *err;
        unsigned long begun;
        apr_uint32_t notice;
        snapshot *known; /* the snapshot to check, one reference ours */
        apr_time_t checked;
        const char *fingerprint;
        int unchanged = 0;

        while (!refresher_stopping && refresh_queue->nelts == 0)
            apr_thread_cond_wait(refresh_wanted, cache_lock);
        if (refresher_stopping)
            break;
        e = *(cache_entry **)apr_array_pop(refresh_queue);
        begun = ++reflection_count;
        if ((known = e->current) != NULL)
            apr_atomic_inc32(&known->refs);
        apr_thread_mutex_unlock(cache_lock);

        notice = ar_notify_count(); /* before the reflection begins */
        /* unmanaged: cache_pool is the request threads' (under the lock) */
        if (apr_pool_create_unmanaged(&p) != APR_SUCCESS) {
            if (known)
                snapshot_unref(known);
            apr_thread_mutex_lock(cache_lock);
            e->refreshing = 0;
            continue;
        }
        dbd = dbd_open(p, e->server);
        if ((err = ar_dbd_pgconn(p, dbd, &conn)) == NULL) {
            apr_thread_mutex_lock(cache_lock);
            refresh_cancel = refresher_stopping ? NULL : PQgetCancel(conn);
            apr_thread_mutex_unlock(cache_lock);
            /* Most expiries find nothing new: a fingerprint of the
             * catalogue says so for a tenth of a reflection's cost, and the
             * snapshot, with the reads kept planned against it, stays. A
             * failed one leaves it to the reflection to fail or not. */
            checked = apr_time_now();
            unchanged = known && known->schema->fingerprint
                        && ar_reflect_fingerprint(conn, p, &fingerprint) == NULL
                        && strcmp(fingerprint, known->schema->fingerprint) == 0;
            if (!unchanged && (err = reflect_into_snapshot(p, e, conn, begun, &fresh)) == NULL)
                fresh->notice = notice;
            apr_thread_mutex_lock(cache_lock);
            if (refresh_cancel)
                PQfreeCancel(refresh_cancel);
            refresh_cancel = NULL;
            apr_thread_mutex_unlock(cache_lock);
        }
        if (dbd)
            dbd_close(e->server, dbd);
        if (err)
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, e->server,
                         "mod_autorest: schema refresh failed, serving the previous one: %s",
                         err->log ? err->log : err->message);

        apr_thread_mutex_lock(cache_lock);
        e->refreshing = 0;
        if (unchanged && e->current == known) {
            known->current_at = checked;
            ar_status_snapshot_checked();
        }
        fresh = swap_in_locked(e, fresh);
        if (fresh)
            snapshot_unref(fresh); /* a newer one came meanwhile */
        if (known)
            snapshot_unref(known);
        apr_pool_destroy(p);
    }
    apr_thread_mutex_unlock(cache_lock);
    /* Returned from, not apr_thread_exit(): pthread_exit() from inside
     * this frame leaves its stack poisoned for AddressSanitizer, whose
     * thread teardown then writes there (the CI's sanitizer run caught it
     * at every child's exit). apr_thread_join() still finds it ended. */
    (void)thread;
    return NULL;
}

/* Under cache_lock: hands e to the refresher, starting it the first time;
 * 0 when there is none (the caller reflects itself). */
static int refresh_later_locked(request_rec *r, cache_entry *e)
{
    apr_status_t rv;

    if (!dbd_open || !dbd_close || !refresh_wanted || refresher_stopping)
        return 0;
    if (!refresher) {
        rv = apr_thread_create(&refresher, NULL, refresh_loop, NULL, cache_pool);
        if (rv != APR_SUCCESS) {
            refresher = NULL;
            ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                          "mod_autorest: cannot start the schema refresher");
            return 0;
        }
    }
    APR_ARRAY_PUSH(refresh_queue, cache_entry *) = e;
    apr_thread_cond_signal(refresh_wanted);
    return 1;
}

static apr_status_t stop_refresher(void *data)
{
    apr_status_t rv;

    (void)data;
    if (!cache_lock)
        return APR_SUCCESS;
    lock_cache();
    refresher_stopping = 1;
    if (refresh_wanted)
        apr_thread_cond_broadcast(refresh_wanted);
    if (refresh_cancel) {
        char why[256];
        PQcancel(refresh_cancel, why, sizeof(why)); /* made for another thread to call */
    }
    apr_thread_mutex_unlock(cache_lock);
    if (refresher)
        apr_thread_join(&rv, refresher);
    return APR_SUCCESS;
}

/*
 * The snapshot this request reads. newer_than: 0, or a mark from
 * ar_cache_mark() taken when the caller found the current snapshot out of
 * date (a relation or column it needs is gone or new); then only a snapshot
 * whose reflection began after that mark will do, and this request reflects
 * one itself unless another thread has already swapped such a one in. An
 * expired snapshot is replaced by one thread while the others keep serving it.
 */
ar_error *ar_cache_acquire(request_rec *r, PGconn *conn, const settings *s,
                           unsigned long newer_than, const ar_schema **out,
                           ar_read_cache **reads)
{
    cache_entry *e;
    snapshot *snap, *fresh = NULL;
    int refresh, expired = 0;
    unsigned long begun = 0;
    ar_error *err = NULL;
    apr_uint32_t notice = ar_notify_count(); /* before the reflection begins */
    const char *key = entry_key(r, s);

    lock_cache();
    e = cache_entry_for(r, s, key);
    snap = e->current;
    if (!snap || (newer_than && snap->begun <= newer_than))
        refresh = 1; /* this request cannot go on without a fresh one */
    else if (newer_than)
        refresh = 0; /* another thread has already swapped one in */
    else if (e->refreshing)
        refresh = 0;
    else if (s->schema_notify && snap->notice != notice)
        refresh = 1; /* the schema changed: this request needs the new one */
    else
        refresh = expired = s->schema_max_age > 0
                            && apr_time_now() - snap->current_at > s->schema_max_age;
    if (refresh) {
        e->refreshing = 1;
        if (expired && refresh_later_locked(r, e))
            refresh = 0; /* the refresher's now; this request reads the one it has */
        else
            begun = ++reflection_count;
    }
    if (!refresh) { /* the usual way: the lock once */
        apr_atomic_inc32(&snap->refs);
        apr_thread_mutex_unlock(cache_lock);
        apr_pool_cleanup_register(r->pool, snap, snapshot_release, apr_pool_cleanup_null);
        *out = snap->schema;
        *reads = snap->reads;
        return NULL;
    }
    apr_thread_mutex_unlock(cache_lock);

    if ((err = reflect_into_snapshot(r->pool, e, conn, begun, &fresh)) == NULL)
        fresh->notice = notice;

    lock_cache();
    e->refreshing = 0;
    fresh = swap_in_locked(e, fresh);
    /* A fresh snapshot not swapped in (one that began later already was) is
     * this request's alone: its one reference passes to the request. */
    snap = fresh ? fresh : e->current;
    if (snap) {
        if (snap != fresh)
            apr_atomic_inc32(&snap->refs);
        *out = snap->schema;
        *reads = snap->reads;
        err = NULL; /* an older snapshot still serves */
    }
    apr_thread_mutex_unlock(cache_lock);
    if (snap)
        apr_pool_cleanup_register(r->pool, snap, snapshot_release, apr_pool_cleanup_null);
    if (err && snap)
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "schema refresh failed, serving the "
                      "previous one: %s", err->log ? err->log : err->message);
    return snap ? NULL : err;
}

/* What a snapshot keeps of the documents built from it. A cap, as each role
 * of its own may have a document of its own. */
#define DOCUMENTS_MAX_BYTES (16 * 1024 * 1024)
#define DOCUMENTS_KEY "autorest:documents"

typedef struct {
    apr_hash_t *by_key;   /* key -> document */
    apr_size_t bytes;
} documents;

typedef struct {
    const char *text;
    apr_size_t len;
} document;

/* The snapshot pool is shared by every thread reading the snapshot: only
 * touched under cache_lock. */
const char *ar_cache_document_get(const ar_schema *schema, const char *key, apr_size_t *len)
{
    void *data = NULL;
    const document *d = NULL;

    lock_cache();
    apr_pool_userdata_get(&data, DOCUMENTS_KEY, schema->pool);
    if (data)
        d = apr_hash_get(((documents *)data)->by_key, key, APR_HASH_KEY_STRING);
    apr_thread_mutex_unlock(cache_lock);
    if (!d)
        return NULL;
    *len = d->len;
    return d->text;
}

void ar_cache_document_put(const ar_schema *schema, const char *key, const char *text,
                           apr_size_t len)
{
    void *data = NULL;
    documents *docs;
    document *d;
    apr_size_t klen = strlen(key);

    lock_cache();
    apr_pool_userdata_get(&data, DOCUMENTS_KEY, schema->pool);
    docs = data;
    if (!docs) {
        docs = apr_pcalloc(schema->pool, sizeof(*docs));
        docs->by_key = apr_hash_make(schema->pool);
        apr_pool_userdata_set(docs, DOCUMENTS_KEY, apr_pool_cleanup_null, schema->pool);
    }
    if (docs->bytes + len + klen <= DOCUMENTS_MAX_BYTES
        && !apr_hash_get(docs->by_key, key, (apr_ssize_t)klen)) {
        d = apr_palloc(schema->pool, sizeof(*d));
        d->text = apr_pmemdup(schema->pool, text, len + 1);
        d->len = len;
        docs->bytes += len + klen;
        apr_hash_set(docs->by_key, apr_pmemdup(schema->pool, key, klen + 1), (apr_ssize_t)klen, d);
    }
    apr_thread_mutex_unlock(cache_lock);
}

/* A mark for ar_cache_acquire's newer_than: the reflections begun so far. */
unsigned long ar_cache_mark(void)
{
    unsigned long mark;

    lock_cache();
    mark = reflection_count;
    apr_thread_mutex_unlock(cache_lock);
    return mark;
}

/* Whether an unknown name may trigger a refresh now (rate-limited). */
int ar_cache_may_refresh(request_rec *r, const settings *s)
{
    cache_entry *e;
    int ok;
    apr_time_t now = apr_time_now();
    const char *key = entry_key(r, s);

    lock_cache();
    e = cache_entry_for(r, s, key);
    ok = now - e->last_forced >= UNKNOWN_REFRESH_INTERVAL;
    if (ok)
        e->last_forced = now;
    apr_thread_mutex_unlock(cache_lock);
    return ok;
}

void ar_cache_child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_status_t rv;

    /* The cache lives as long as the child; snapshots have their own pools. */
    apr_pool_create(&cache_pool, pchild);
    rv = apr_thread_mutex_create(&cache_lock, APR_THREAD_MUTEX_DEFAULT, pchild);
    if (rv != APR_SUCCESS)
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                     "mod_autorest: cannot create the schema cache lock");
    cache = apr_hash_make_custom(cache_pool, ar_hash_for_table);
    refresh_queue = apr_array_make(cache_pool, 4, sizeof(cache_entry *));
    if (apr_thread_cond_create(&refresh_wanted, pchild) != APR_SUCCESS)
        refresh_wanted = NULL; /* then requests reflect an expired snapshot themselves */
    dbd_open = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_open);
    dbd_close = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_close);
    /* a pre-cleanup: the refresher stops before the pools it uses go */
    apr_pool_pre_cleanup_register(pchild, NULL, stop_refresher);
}
