/* test_path_facts.c: path_facts.c's rules, against the real file system:
 * a fact answers the same question until it is outdated, a path below one
 * that is not there is not there either, and what cannot be kept is not. */
#include <stdlib.h>
#include <fcntl.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "autorest.h"
#include "tap.h"

#define LSTAT (APR_FINFO_MIN | APR_FINFO_NAME | APR_FINFO_LINK)
#define SEC apr_time_from_sec(1)

/* Asks the kernel as httpd's walk does, and keeps the answer at now. */
static apr_status_t ask(ar_path_facts *facts, apr_pool_t *p, const char *path,
                        apr_int32_t wanted, apr_time_t now)
{
    apr_finfo_t finfo;
    apr_status_t rv = apr_stat(&finfo, path, wanted, p);

    ar_path_facts_keep(facts, path, strlen(path), wanted, rv, &finfo, now, SEC);
    return rv;
}

static const ar_path_fact *find(const ar_path_facts *facts, const char *path,
                                apr_int32_t wanted, apr_time_t now)
{
    return ar_path_facts_find(facts, path, strlen(path), wanted, now);
}

int main(void)
{
    apr_pool_t *p;
    ar_path_facts *facts;
    const ar_path_fact *f;
    apr_finfo_t named;
    char dir[] = "/tmp/ar_path_facts_XXXXXX";
    const char *gone, *below, *file;
    apr_time_t t0 = apr_time_from_sec(1000);
    char long_path[AR_PATH_FACTS_PATH_MAX + 8];
    int i, same;

    apr_initialize();
    apr_pool_create(&p, NULL);
    facts = calloc(1, sizeof(*facts));
    if (!mkdtemp(dir))
        return 1;
    gone = apr_pstrcat(p, dir, "/api", NULL);
    below = apr_pstrcat(p, dir, "/api/building_permits/500000", NULL);
    file = apr_pstrcat(p, dir, "/file", NULL);

    ok(find(facts, dir, LSTAT, t0) == NULL, "nothing is known at first");
    ok(ask(facts, p, dir, LSTAT, t0) == APR_INCOMPLETE, "lstat of a directory (no name on Unix)");
    f = find(facts, dir, LSTAT, t0);
    ok(f && f->rv == APR_INCOMPLETE && f->finfo.filetype == APR_DIR,
       "the same question finds the answer: a directory");
    ok(find(facts, dir, LSTAT, t0 + SEC - 1) == f, "... until a second has passed");
    ok(find(facts, dir, LSTAT, t0 + SEC) == NULL, "... and not after");
    ok(find(facts, dir, APR_FINFO_MIN, t0) == NULL, "stat is another question than lstat");
    ok(find(facts, apr_pstrcat(p, dir, "x", NULL), LSTAT, t0) == NULL,
       "a longer name is another path");

    ok(APR_STATUS_IS_ENOENT(ask(facts, p, gone, LSTAT, t0)), "lstat of a part that is not there");
    f = find(facts, below, APR_FINFO_MIN, t0);
    ok(f && APR_STATUS_IS_ENOENT(f->rv), "a path below it is not there either, by stat");
    ok(find(facts, below, LSTAT, t0) == f, "... nor by lstat");
    ok(find(facts, apr_pstrcat(p, gone, "x/y", NULL), APR_FINFO_MIN, t0) == NULL,
       "a sibling that shares its name's start is not answered");
    ok(find(facts, below, APR_FINFO_MIN, t0 + SEC) == NULL, "nor anything once outdated");

    /* a file: a path below it fails with ENOTDIR, which says nothing of others */
    if (close(creat(file, 0600)) != 0)
        return 1;
    ok(ask(facts, p, file, APR_FINFO_MIN, t0) == APR_SUCCESS, "stat of a file");
    ok(find(facts, apr_pstrcat(p, file, "/x", NULL), APR_FINFO_MIN, t0) == NULL,
       "a path below a file is asked, not derived");
    unlink(file);
    f = find(facts, file, APR_FINFO_MIN, t0);
    ok(f && f->rv == APR_SUCCESS && f->finfo.filetype == APR_REG,
       "a removed file is still a file while the fact is good (a second at most)");
    ask(facts, p, file, APR_FINFO_MIN, t0 + SEC);
    f = find(facts, file, APR_FINFO_MIN, t0 + SEC);
    ok(f && APR_STATUS_IS_ENOENT(f->rv), "asked again, the new answer replaces it in its slot");
    for (i = 0, same = 0; i < AR_PATH_FACTS_SLOTS; i++)
        same += facts->slot[i].len == strlen(file) && strcmp(facts->slot[i].path, file) == 0;
    ok(same == 1, "... one slot per question");

    /* what is not kept */
    memset(long_path, 'a', sizeof(long_path) - 1);
    long_path[0] = '/';
    long_path[sizeof(long_path) - 1] = '\0';
    ask(facts, p, long_path, APR_FINFO_MIN, t0);
    ok(find(facts, long_path, APR_FINFO_MIN, t0) == NULL, "a path too long for a slot");
    memset(&named, 0, sizeof(named));
    named.valid = APR_FINFO_MIN | APR_FINFO_NAME;
    named.name = "x";
    ar_path_facts_keep(facts, "/x", 2, LSTAT, APR_SUCCESS, &named, t0, SEC);
    ok(find(facts, "/x", LSTAT, t0) == NULL, "an answer that points at its own name");

    /* full: the next in turn goes, and every answer kept is found */
    for (i = 0; i < 3 * AR_PATH_FACTS_SLOTS; i++)
        ask(facts, p, apr_psprintf(p, "%s/n%d", dir, i), APR_FINFO_MIN, t0);
    ok(find(facts, apr_psprintf(p, "%s/n%d", dir, 3 * AR_PATH_FACTS_SLOTS - 1), APR_FINFO_MIN,
            t0) != NULL, "full, the latest answer is kept");
    for (i = 0; i < AR_PATH_FACTS_SLOTS; i++)
        if (facts->slot[i].until == 0)
            break;
    ok(i == AR_PATH_FACTS_SLOTS, "... in one of the slots, all filled");

    rmdir(dir);
    free(facts);
    apr_pool_destroy(p);
    apr_terminate();
    return tap_done();
}
