/*
 * read_cache.c: reads kept planned, by the shape of their request.
 *
 * Planning and rendering a read costs more of the module's instructions
 * than anything else it does for one row by key (7,500 of 12,700 in
 * callgrind), and most traffic repeats a few shapes: the same page of a
 * list, a row by its key. A read's plan, its statement's text and its row
 * format depend only on the snapshot, the Location's exposure and the
 * request's words; the one value that varies in a shape kept here, a row's
 * key in the path, is a bound parameter, put in its place per request.
 *
 * One cache per schema snapshot, so a schema change starts afresh, and a
 * snapshot's age (AutoRestSchemaMaxAge) bounds how long a shape is kept.
 * Lookups take no lock: an entry is published whole into a slot that is
 * never emptied while the snapshot lives. A shape is kept on its second
 * sighting, so a stream of one-off queries (each with its own filter value)
 * does not fill the cache; past READ_CACHE_MOST entries nothing more is
 * kept until the next snapshot.
 */
#include <string.h>

#include <apr_atomic.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>

#include "autorest.h"

#define READ_CACHE_SLOTS 512    /* a power of two; at most half are filled */
#define READ_CACHE_MOST (READ_CACHE_SLOTS / 2)
#define READ_CACHE_SEEN 1024    /* shapes seen once, by hash: direct-mapped */

struct ar_read_cache {
    volatile void *slots[READ_CACHE_SLOTS];     /* ar_kept_read *, published whole */
    volatile apr_uint32_t seen[READ_CACHE_SEEN];
    apr_thread_mutex_t *lock;                   /* for adding */
    int kept;
};

static apr_status_t read_cache_free(void *data)
{
    ar_read_cache *c = data;
    int i;

    for (i = 0; i < READ_CACHE_SLOTS; i++)
        if (c->slots[i])
            apr_pool_destroy(((ar_kept_read *)(void *)c->slots[i])->pool);
    return APR_SUCCESS;
}

ar_read_cache *ar_read_cache_create(apr_pool_t *p)
{
    ar_read_cache *c = apr_pcalloc(p, sizeof(*c));

    if (apr_thread_mutex_create(&c->lock, APR_THREAD_MUTEX_DEFAULT, p) != APR_SUCCESS)
        return NULL;
    apr_pool_cleanup_register(p, c, read_cache_free, apr_pool_cleanup_null);
    return c;
}

static ar_kept_read *slot(ar_read_cache *c, unsigned int i)
{
    /* a full barrier: the entry's fields are read after its pointer */
    return apr_atomic_casptr(&c->slots[i], NULL, NULL);
}

static int same_key(const ar_kept_read *e, const char *key, apr_size_t len, apr_uint64_t hash)
{
    return e->hash == hash && e->len == len && memcmp(e->key, key, len) == 0;
}

const ar_kept_read *ar_read_cache_find(ar_read_cache *c, const char *key, apr_size_t len,
                                       apr_uint64_t hash)
{
    unsigned int i = (unsigned int)hash & (READ_CACHE_SLOTS - 1);
    ar_kept_read *e;

    while ((e = slot(c, i)) != NULL) {
        if (same_key(e, key, len, hash))
            return e;
        i = (i + 1) & (READ_CACHE_SLOTS - 1);
    }
    return NULL;
}

int ar_read_cache_admit(ar_read_cache *c, apr_uint64_t hash)
{
    volatile apr_uint32_t *seen = &c->seen[(hash >> 32) & (READ_CACHE_SEEN - 1)];
    apr_uint32_t tag = (apr_uint32_t)hash | 1; /* 0 is an empty place */

    if (apr_atomic_read32(seen) == tag)
        return 1;
    apr_atomic_set32(seen, tag);
    return 0;
}

ar_kept_read *ar_read_cache_begin(ar_read_cache *c, const char *key, apr_size_t len,
                                  apr_uint64_t hash)
{
    apr_pool_t *pool;
    ar_kept_read *e;

    if (c->kept >= READ_CACHE_MOST) /* read unlocked: a late look only costs one build */
        return NULL;
    /* unmanaged: its own allocator, so that building it takes no lock, and
     * freed from whichever thread drops the snapshot */
    if (apr_pool_create_unmanaged_ex(&pool, NULL, NULL) != APR_SUCCESS)
        return NULL;
    e = apr_pcalloc(pool, sizeof(*e));
    e->pool = pool;
    e->key = apr_pmemdup(pool, key, len);
    e->len = len;
    e->hash = hash;
    e->key_param = -1;
    return e;
}

void ar_read_cache_drop(ar_kept_read *e)
{
    apr_pool_destroy(e->pool);
}

const ar_kept_read *ar_read_cache_keep(ar_read_cache *c, ar_kept_read *e)
{
    unsigned int i = (unsigned int)e->hash & (READ_CACHE_SLOTS - 1);
    ar_kept_read *there;
    int published = 0;

    apr_thread_mutex_lock(c->lock);
    while ((there = (ar_kept_read *)(void *)c->slots[i]) != NULL && !same_key(there, e->key, e->len, e->hash))
        i = (i + 1) & (READ_CACHE_SLOTS - 1);
    if (!there && c->kept < READ_CACHE_MOST) {
        apr_atomic_casptr(&c->slots[i], e, NULL); /* published after its fields */
        c->kept++;
        published = 1;
    }
    apr_thread_mutex_unlock(c->lock);
    if (published)
        return e;
    ar_read_cache_drop(e); /* another thread kept the shape first, or no room */
    return there;
}

int ar_read_cache_count(ar_read_cache *c)
{
    return c->kept;
}
