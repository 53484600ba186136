/*
 * mod_autorest.h: what other httpd modules may hook into mod_autorest.
 *
 * Two APR optional hooks, as mod_dbd exports its functions: a module that
 * uses them neither links with mod_autorest nor needs it loaded first, and
 * its hooks simply never run where mod_autorest is absent.
 *
 *   before_statement  once the request is parsed and its role known, before
 *                     anything is planned or a connection taken: it may add
 *                     a filter, hide a column, or refuse the request with a
 *                     status (Flask-Restless's preprocessors).
 *   after_statement   before the first byte of mod_autorest's answer goes
 *                     out: it sees the status, the rows and the role, and
 *                     may add headers or replace the status (its
 *                     postprocessors). Bodies are the output filters' to
 *                     change (mod_lua's LuaOutputFilter, mod_substitute).
 *
 * In a module's register_hooks:
 *
 *     AUTOREST_HOOK_BEFORE_STATEMENT(my_before, APR_HOOK_MIDDLE);
 *     AUTOREST_HOOK_AFTER_STATEMENT(my_after, APR_HOOK_MIDDLE);
 *
 * examples/mod_autorest_tenant.c uses both.
 */
#ifndef MOD_AUTOREST_H
#define MOD_AUTOREST_H

#include <httpd.h>
#include <apr_hooks.h>
#include <apr_optional_hooks.h>

/* The structures below grow only at their end; a hook may check version
 * before it reads a member a later version added. */
#define AUTOREST_HOOKS_VERSION 1

/* A request as the before_statement hook sees it. Strings are the
 * request's; do not change them in place. */
typedef struct autorest_request autorest_request;
struct autorest_request {
    int version;              /* AUTOREST_HOOKS_VERSION of this mod_autorest */
    request_rec *r;
    const char *method;       /* GET, HEAD, POST, PATCH, PUT or DELETE */
    const char *schema;       /* the schema named, or the Location's first */
    const char *relation;     /* the table or view; NULL: a call or the index */
    const char *routine;      /* the function of /rpc/; NULL: none */
    const char *role;         /* the role the statement runs as; NULL: the
                               * connecting role */
    int anonymous;            /* no one authenticated: the anonymous role */

    /* column=condition, with PostgREST's grammar ("eq.acme", "in.(1,2)",
     * "not.is.null"), ANDed to what the client asked: it narrows reads,
     * updates and deletes, and the rows of a call. The value is bound, as
     * every value is. NULL, or why it could not be added (an unknown
     * operator; an unknown column is found when the statement is planned,
     * and answers 400 as the client's own would). */
    const char *(*add_filter)(autorest_request *ar, const char *column,
                              const char *condition);
    /* The column is unknown to this request, as AutoRestHide makes it for a
     * Location: never in a body, and 400 when asked for by name. */
    const char *(*hide_column)(autorest_request *ar, const char *column);

    /* When the hook returns an HTTP status (400-599) to refuse: the
     * message of the JSON error (code AR703); NULL: "refused". */
    const char *message;

    void *internal;           /* mod_autorest's own; do not touch */
};

/* What the after_statement hook sees of the answer about to go out. */
typedef struct autorest_result {
    int version;              /* AUTOREST_HOOKS_VERSION of this mod_autorest */
    request_rec *r;           /* add headers to r->headers_out */
    int status;               /* the status to send; the hook may set another
                               * (100-599); errors are >= 400 */
    apr_int64_t rows;         /* rows in the body, or those a write changed;
                               * -1: not known before the first byte (a body
                               * that streams, an error, the index) */
    const char *schema;
    const char *relation;     /* as in autorest_request */
    const char *routine;
    const char *role;
} autorest_result;

/* For APR_DECLARE_EXTERNAL_HOOK: these are mod_autorest's, exported by
 * name only through APR's table of optional hooks. */
#ifndef AUTOREST_DECLARE
#define AUTOREST_DECLARE(type) type
#define AUTOREST_DECLARE_NONSTD(type) type
#define AUTOREST_DECLARE_DATA
#endif

/* Return OK or DECLINED to let the request go on; a status to refuse it. */
APR_DECLARE_EXTERNAL_HOOK(autorest, AUTOREST, int, autorest_before_statement,
                          (autorest_request *ar))
/* Return OK or DECLINED; anything else is logged and ignored. */
APR_DECLARE_EXTERNAL_HOOK(autorest, AUTOREST, int, autorest_after_statement,
                          (autorest_result *res))

#define AUTOREST_HOOK_BEFORE_STATEMENT(fn, order) \
    APR_OPTIONAL_HOOK(autorest, autorest_before_statement, fn, NULL, NULL, order)
#define AUTOREST_HOOK_AFTER_STATEMENT(fn, order) \
    APR_OPTIONAL_HOOK(autorest, autorest_after_statement, fn, NULL, NULL, order)

#endif
