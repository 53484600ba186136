/*
 * ar_read_cache.h: reads planned and rendered once per request shape and
 * kept with their schema snapshot (read_cache.c). Pure core, included at
 * the end of autorest.h.
 */
#ifndef AR_READ_CACHE_H
#define AR_READ_CACHE_H

/* A read planned and rendered once for its request's shape (read_cache.c),
 * kept with its schema snapshot. Its plan's pk_value and the parameter
 * key_param (-1: none) stand for the row's key, which varies per request. */
typedef struct {
    apr_pool_t *pool;           /* everything below lives here */
    const char *key;            /* the shape, as the caller wrote it */
    apr_size_t len;
    apr_uint64_t hash;
    ar_read_plan plan;
    ar_sql sql;
    const ar_row_format *format;
    int key_param;
} ar_kept_read;

typedef struct ar_read_cache ar_read_cache;

/* An empty cache, freed (with every read it keeps) with p; NULL when no
 * lock could be made. */
ar_read_cache *ar_read_cache_create(apr_pool_t *p);
/* The read kept for the shape key (len bytes, hash ar_hash_bytes of it),
 * or NULL. Takes no lock. */
const ar_kept_read *ar_read_cache_find(ar_read_cache *c, const char *key, apr_size_t len,
                                       apr_uint64_t hash);
/* Whether the shape was seen before and may be kept now; marks it seen. */
int ar_read_cache_admit(ar_read_cache *c, apr_uint64_t hash);
/* A new entry with its own pool, for the caller to plan into; NULL when
 * the cache keeps no more. */
ar_kept_read *ar_read_cache_begin(ar_read_cache *c, const char *key, apr_size_t len,
                                  apr_uint64_t hash);
/* Keeps e; or, when another thread kept the shape meanwhile, frees e and
 * answers that one (NULL: no room left, e freed). */
const ar_kept_read *ar_read_cache_keep(ar_read_cache *c, ar_kept_read *e);
/* Frees an entry not kept. */
void ar_read_cache_drop(ar_kept_read *e);
/* How many reads are kept. */
int ar_read_cache_count(ar_read_cache *c);

#endif
