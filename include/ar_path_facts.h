/*
 * ar_path_facts.h: what stat() said about paths, kept for a short while
 * (path_facts.c), so that httpd's walk of the file system to a URI of the
 * API asks the kernel once a second rather than on every request
 * (mod_autorest_dirwalk.c). Pure core, included at the end of autorest.h.
 */
#ifndef AR_PATH_FACTS_H
#define AR_PATH_FACTS_H

#include <apr_file_info.h>

/* One thread's facts: few, because a walk touches the handful of
 * directories from / to DocumentRoot and the first part of the URI that is
 * not there; a longer path is asked about every time. */
#define AR_PATH_FACTS_SLOTS 16
#define AR_PATH_FACTS_PATH_MAX 240

typedef struct {
    apr_time_t until;           /* good before this; 0: an empty slot */
    apr_int32_t wanted;         /* apr_stat's wanted (APR_FINFO_LINK: lstat) */
    apr_status_t rv;            /* what apr_stat answered */
    apr_finfo_t finfo;          /* and what it filled in, when it succeeded */
    apr_size_t len;
    char path[AR_PATH_FACTS_PATH_MAX];
} ar_path_fact;

typedef struct {
    unsigned next;              /* the slot to fill when no slot is free */
    ar_path_fact slot[AR_PATH_FACTS_SLOTS];
} ar_path_facts;

/* Whether rv is a success of apr_stat's, whose finfo holds the answer. */
#define AR_PATH_FACT_FOUND(rv) ((rv) == APR_SUCCESS || (rv) == APR_INCOMPLETE)

/* The fact about path (len bytes) asked with wanted that is still good at
 * now; or NULL. A path below one that was not there (ENOENT, by stat or
 * lstat) is not there either, so that fact answers for it: the URIs under
 * a Location (a row's key, a table's name) need no fact each. */
const ar_path_fact *ar_path_facts_find(const ar_path_facts *facts, const char *path,
                                       apr_size_t len, apr_int32_t wanted, apr_time_t now);
/* Keeps what apr_stat(finfo, path, wanted) answered at now, good for
 * good_for: in the slot of the same question, else in an empty or outdated
 * one, else in the next in turn. Not kept: a path too long for a slot, or
 * an answer that carries the file's own name (a pointer into memory that
 * is not ours). */
void ar_path_facts_keep(ar_path_facts *facts, const char *path, apr_size_t len,
                        apr_int32_t wanted, apr_status_t rv, const apr_finfo_t *finfo,
                        apr_time_t now, apr_interval_time_t good_for);

#endif
