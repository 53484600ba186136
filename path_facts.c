/*
 * path_facts.c: what stat() said about paths, kept for a short while per
 * thread (ar_path_facts.h; used by mod_autorest_dirwalk.c). No locks: each
 * thread has its own facts.
 */
#include <string.h>

#include "autorest.h"

static int same_question(const ar_path_fact *f, const char *path, apr_size_t len,
                         apr_int32_t wanted)
{
    return f->len == len && f->wanted == wanted && memcmp(f->path, path, len) == 0;
}

/* f says that an ancestor of path is not there: then neither is path,
 * whether asked by stat or lstat (both resolve every part before the last
 * through that ancestor). */
static int missing_above(const ar_path_fact *f, const char *path, apr_size_t len)
{
    return APR_STATUS_IS_ENOENT(f->rv) && f->len < len && path[f->len] == '/'
           && memcmp(f->path, path, f->len) == 0;
}

const ar_path_fact *ar_path_facts_find(const ar_path_facts *facts, const char *path,
                                       apr_size_t len, apr_int32_t wanted, apr_time_t now)
{
    int i;

    for (i = 0; i < AR_PATH_FACTS_SLOTS; i++) {
        const ar_path_fact *f = &facts->slot[i];

        if (f->until > now
            && (same_question(f, path, len, wanted) || missing_above(f, path, len)))
            return f;
    }
    return NULL;
}

void ar_path_facts_keep(ar_path_facts *facts, const char *path, apr_size_t len,
                        apr_int32_t wanted, apr_status_t rv, const apr_finfo_t *finfo,
                        apr_time_t now, apr_interval_time_t good_for)
{
    ar_path_fact *f = NULL;
    int i;

    if (len >= AR_PATH_FACTS_PATH_MAX
        || (AR_PATH_FACT_FOUND(rv) && (finfo->valid & APR_FINFO_NAME)))
        return;
    for (i = 0; i < AR_PATH_FACTS_SLOTS && !f; i++)
        if (same_question(&facts->slot[i], path, len, wanted))
            f = &facts->slot[i];
    for (i = 0; i < AR_PATH_FACTS_SLOTS && !f; i++)
        if (facts->slot[i].until <= now)
            f = &facts->slot[i];
    if (!f)
        f = &facts->slot[facts->next++ % AR_PATH_FACTS_SLOTS];
    f->until = now + good_for;
    f->wanted = wanted;
    f->rv = rv;
    if (AR_PATH_FACT_FOUND(rv))
        f->finfo = *finfo;
    else
        memset(&f->finfo, 0, sizeof(f->finfo));
    f->len = len;
    memcpy(f->path, path, len);
    f->path[len] = '\0';
}
