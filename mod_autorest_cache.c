/*
 * mod_autorest_cache.c: the per-child cache of reflected schemas.
 */
#include <string.h>

#include <apr_strings.h>
#include <apr_thread_mutex.h>

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
    apr_pool_t *pool;
    int refs;
    unsigned long begun; /* reflection_count when its reflection began */
    apr_uint32_t notice; /* ar_notify_count() then: a later notice makes it old */
} snapshot;

typedef struct {
    snapshot *current;
    int refreshing;
    apr_time_t last_forced;
} cache_entry;

static apr_pool_t *cache_pool;
static apr_thread_mutex_t *cache_lock;
static apr_hash_t *cache;
/* Reflections begun in this process, in order. A reflection reads the
 * catalogue as of its start but may finish seconds later (a catalogue query
 * that opens a relation waits behind an ALTER TABLE's lock), so the order
 * snapshots began in, not the order they arrived in, says which is newer. */
static unsigned long reflection_count;

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
    /* requests that switch roles read a snapshot of everything */
    const char *key = apr_psprintf(r->pool, "%pp|%c|", (void *)r->server,
                                   s->role_source != ROLE_NONE ? 'R' : 'C');
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
                                       unsigned long begun, snapshot **out)
{
    apr_pool_t *pool;
    ar_schema *schema;
    ar_error *err;
    apr_array_header_t *schemas;

    /* Unmanaged: a snapshot outlives requests and is freed from any thread. */
    if (apr_pool_create_unmanaged(&pool) != APR_SUCCESS)
        return ar_error_make(r->pool, AR_ERR_CONFIG, "out of memory", NULL, NULL);
    schemas = apr_array_copy(pool, s->exposure.schemas);
    err = ar_reflect_load(conn, pool, schemas, s->role_source != ROLE_NONE, &schema);
    if (err && err->kind == AR_ERR_DB_UNAVAILABLE && ar_db_usable(conn))
        err = ar_reflect_load(conn, pool, schemas, s->role_source != ROLE_NONE, &schema);
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
    (*out)->begun = begun;
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                  "reflected %d relations", schema->relations->nelts);
    ar_status_snapshot_loaded();
    return NULL;
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
                           unsigned long newer_than, const ar_schema **out)
{
    cache_entry *e;
    snapshot *snap, *fresh = NULL;
    int refresh;
    unsigned long begun = 0;
    ar_error *err = NULL;
    apr_uint32_t notice = ar_notify_count(); /* before the reflection begins */

    apr_thread_mutex_lock(cache_lock);
    e = cache_entry_for(r, s);
    snap = e->current;
    if (!snap || (newer_than && snap->begun <= newer_than))
        refresh = 1; /* this request cannot go on without a fresh one */
    else if (newer_than)
        refresh = 0; /* another thread has already swapped one in */
    else
        refresh = !e->refreshing
                  && ((s->schema_max_age > 0
                       && apr_time_now() - snap->schema->loaded_at > s->schema_max_age)
                      || (s->schema_notify && snap->notice != notice));
    if (refresh) {
        e->refreshing = 1;
        begun = ++reflection_count;
    }
    apr_thread_mutex_unlock(cache_lock);

    if (refresh && (err = reflect_into_snapshot(r, conn, s, begun, &fresh)) == NULL)
        fresh->notice = notice;

    apr_thread_mutex_lock(cache_lock);
    if (refresh)
        e->refreshing = 0;
    if (fresh && (!e->current || e->current->begun < fresh->begun)) {
        if (e->current)
            snapshot_unref_locked(e->current);
        e->current = fresh; /* its one reference is the cache's now */
        fresh = NULL;
    }
    /* A fresh snapshot not swapped in (one that began later already was) is
     * this request's alone: its one reference passes to the request. */
    snap = fresh ? fresh : e->current;
    if (snap) {
        if (snap != fresh)
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

    apr_thread_mutex_lock(cache_lock);
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

    apr_thread_mutex_lock(cache_lock);
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

    apr_thread_mutex_lock(cache_lock);
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

    apr_thread_mutex_lock(cache_lock);
    e = cache_entry_for(r, s);
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
    cache = apr_hash_make(cache_pool);
}
