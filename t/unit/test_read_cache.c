/* test_read_cache.c: read_cache.c's rules, and hash.c's: a shape is kept
 * on its second sighting, found by its whole key, kept once when two
 * threads build it, and no more are kept past the cap. */
#include <apr_general.h>
#include <apr_strings.h>

#include "autorest.h"
#include "tap.h"

/* Begins, fills and keeps the entry for key; what keep answered. */
static const ar_kept_read *keep(ar_read_cache *c, const char *key)
{
    apr_size_t len = strlen(key);
    ar_kept_read *e = ar_read_cache_begin(c, key, len, ar_hash_bytes(key, len));

    if (!e)
        return NULL;
    e->sql.text = apr_pstrcat(e->pool, "SELECT ", key, NULL);
    return ar_read_cache_keep(c, e);
}

static const ar_kept_read *find(ar_read_cache *c, const char *key)
{
    return ar_read_cache_find(c, key, strlen(key), ar_hash_bytes(key, strlen(key)));
}

int main(void)
{
    apr_pool_t *p;
    ar_read_cache *c;
    const ar_kept_read *k;
    ar_kept_read *twin;
    int i, kept = 0;

    apr_initialize();
    apr_pool_create(&p, NULL);

    /* hash.c */
    ok(ar_hash_bytes("abc", 3) == ar_hash_bytes("abc", 3), "a hash is the same for the same bytes");
    ok(ar_hash_bytes("abc", 3) != ar_hash_bytes("abd", 3), "... and differs for one byte more");
    ok(ar_hash_bytes("abc\0", 4) != ar_hash_bytes("abc", 3), "... a padded tail is told apart by length");

    c = ar_read_cache_create(p);
    ok(c != NULL, "a cache is made");
    ok(!ar_read_cache_admit(c, ar_hash_bytes("a", 1)), "a shape seen once is not kept yet");
    ok(ar_read_cache_admit(c, ar_hash_bytes("a", 1)), "... seen twice, it may be");
    ok(find(c, "a") == NULL, "nothing is found before it is kept");
    k = keep(c, "a");
    ok(k && strcmp(k->sql.text, "SELECT a") == 0 && find(c, "a") == k, "kept, it is found");
    ok(find(c, "b") == NULL && find(c, "ab") == NULL, "another key finds nothing");

    /* two threads built the same shape: the second gets the first's */
    twin = ar_read_cache_begin(c, "a", 1, ar_hash_bytes("a", 1));
    ok(twin && ar_read_cache_keep(c, twin) == k, "a shape kept twice: the first is kept");
    ok(ar_read_cache_count(c) == 1, "... once");

    for (i = 0; i < 1000; i++) {
        const char *key = apr_psprintf(p, "shape %d", i);
        if (keep(c, key) && find(c, key))
            kept++;
    }
    ok(kept > 100 && kept < 1000, "past the cap no more are kept (%d of 1000)", kept);
    ok(ar_read_cache_begin(c, "late", 4, ar_hash_bytes("late", 4)) == NULL,
       "... begin says so");
    for (i = 0; i < 1000; i++) {
        const char *key = apr_psprintf(p, "shape %d", i);
        k = find(c, key);
        if (k && strcmp(k->sql.text, apr_pstrcat(p, "SELECT ", key, NULL)) != 0)
            break;
    }
    ok(i == 1000, "every kept shape is found with its own statement");

    apr_pool_destroy(p); /* frees every kept entry: valgrind and ASan see it */
    apr_terminate();
    return tap_done();
}
