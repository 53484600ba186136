/*
 * mod_autorest_dirwalk.c: httpd's walk of the file system to a URI of the
 * API, answered from what the thread learnt in the last second.
 *
 * Before any handler runs, httpd maps the URI to a file under DocumentRoot
 * and walks the path to it (ap_directory_walk), to apply <Directory>
 * sections and .htaccess files: for /api/building_permits a stat() of the
 * whole path, then an lstat() of each directory from / down to the first
 * part that is not there. Six system calls on the bench's paths, about a
 * microsecond each on these machines, on every request; the answers change
 * only when someone changes the file system there.
 *
 * So for a request that the autorest handler will serve, the walk's stats
 * (httpd's dirwalk_stat hook) come from the facts this thread kept for a
 * second (path_facts.c). The walk itself still runs: the same <Directory>
 * sections and .htaccess files apply, and a change to the directories is
 * seen at most a second late. (mod_proxy skips the walk instead, so that
 * <Directory> never applies to a proxied URI; here a <Directory> that
 * guards DocumentRoot still guards the API.) Other requests, static files
 * among them, are not touched.
 */
#include <stdlib.h>
#include <string.h>

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_request.h>
#include <apr_thread_proc.h>

#include "mod_autorest_glue.h"

/* How long a fact about the file system is used. */
#define FACTS_GOOD_FOR apr_time_from_sec(1)

/* Each thread's facts (ar_path_facts), made at its first request here and
 * freed when the thread ends. */
static apr_threadkey_t *facts_key;

/* The handler that SetHandler names for r, as httpd's fixup will set it
 * (core_override_type). Only the <Location> sections have been merged when
 * the URI is translated, which is where the module is mapped. */
static int autorest_serves(request_rec *r)
{
    core_dir_config *core = ap_get_core_module_config(r->per_dir_config);
    const char *handler = core->handler;

    if (core->expr_handler) {
        const char *err = NULL;

        handler = ap_expr_str_exec(r, core->expr_handler, &err);
        if (err)
            return 0;
    }
    return handler && strcmp(handler, AR_HANDLER_NAME) == 0;
}

/* translate_name: marks the requests the handler will serve; translates
 * nothing itself. */
static int mark_request(request_rec *r)
{
    if (facts_key && autorest_serves(r))
        ar_request_state_get(r)->walk_facts = 1;
    return DECLINED;
}

static ar_path_facts *thread_facts(void)
{
    void *facts = NULL;

    if (apr_threadkey_private_get(&facts, facts_key) != APR_SUCCESS)
        return NULL;
    if (!facts) {
        facts = calloc(1, sizeof(ar_path_facts));
        if (facts && apr_threadkey_private_set(facts, facts_key) != APR_SUCCESS) {
            free(facts);
            facts = NULL;
        }
    }
    return facts;
}

/* dirwalk_stat: httpd's own is apr_stat(finfo, r->filename, wanted, r->pool). */
static apr_status_t walk_stat(apr_finfo_t *finfo, request_rec *r, apr_int32_t wanted)
{
    ar_request_state *st = ap_get_module_config(r->request_config, &autorest_module);
    ar_path_facts *facts;
    const ar_path_fact *fact;
    apr_size_t len;
    apr_status_t rv;

    if (!st || !st->walk_facts || !(facts = thread_facts()))
        return AP_DECLINED;
    len = strlen(r->filename);
    fact = ar_path_facts_find(facts, r->filename, len, wanted, r->request_time);
    if (fact) {
        /* as apr_stat leaves it: untouched when the stat failed */
        if (AR_PATH_FACT_FOUND(fact->rv)) {
            *finfo = fact->finfo;
            finfo->pool = r->pool;
            finfo->fname = r->filename;
        }
        return fact->rv;
    }
    rv = apr_stat(finfo, r->filename, wanted, r->pool);
    ar_path_facts_keep(facts, r->filename, len, wanted, rv, finfo, r->request_time,
                       FACTS_GOOD_FOR);
    return rv;
}

void ar_dirwalk_child_init(apr_pool_t *pchild)
{
    if (apr_threadkey_private_create(&facts_key, free, pchild) != APR_SUCCESS)
        facts_key = NULL; /* then every walk asks the kernel, as without us */
}

void ar_dirwalk_register_hooks(void)
{
    ap_hook_translate_name(mark_request, NULL, NULL, APR_HOOK_REALLY_FIRST);
    ap_hook_dirwalk_stat(walk_stat, NULL, NULL, APR_HOOK_MIDDLE);
}
