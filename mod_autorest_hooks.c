/*
 * mod_autorest_hooks.c: the optional hooks other modules add to
 * (include/mod_autorest.h), run around each request's statement.
 *
 * before_statement sees the parsed request through a public struct; what it
 * may change it changes through two functions of ours, so that a filter it
 * adds is parsed, planned and bound as a client's would be, and a column it
 * hides is hidden as AutoRestHide hides one. after_statement runs in the
 * output filter that also applies response.headers and response.status,
 * because that is where the status and headers are final and no byte is out.
 */
#include <string.h>

#include <apr_strings.h>

#include "mod_autorest_glue.h"

APR_IMPLEMENT_OPTIONAL_HOOK_RUN_ALL(autorest, AUTOREST, int, autorest_before_statement,
                                    (autorest_request *ar), (ar), OK, DECLINED)
APR_IMPLEMENT_OPTIONAL_HOOK_RUN_ALL(autorest, AUTOREST, int, autorest_after_statement,
                                    (autorest_result *res), (res), OK, DECLINED)

/* What the struct's functions reach. */
typedef struct {
    context *cx;
    ar_read_request *req;
} before_state;

/* Whether a module added to each hook: they are added in register_hooks,
 * so the child looks once (APR's look hashes the name: 250 instructions a
 * request each). */
static int before_hooked, after_hooked;

static int any_hook(const char *name)
{
    apr_array_header_t *hooks = apr_optional_hook_get(name);

    return hooks && hooks->nelts > 0;
}

void ar_hooks_child_init(void)
{
    before_hooked = any_hook("autorest_before_statement");
    after_hooked = any_hook("autorest_after_statement");
}

static const char *add_filter(autorest_request *ar, const char *column, const char *condition)
{
    before_state *st = ar->internal;
    ar_error *err;

    if (!column || !*column || !condition)
        return "a filter needs a column and a condition";
    st->cx->hooked = 1;
    err = ar_query_parse_filter(ar->r->pool, column, condition, st->req);
    return err ? err->message : NULL;
}

static const char *hide_column(autorest_request *ar, const char *column)
{
    before_state *st = ar->internal;
    ar_exposure *x = &st->cx->s.exposure;
    apr_hash_t *hidden;

    if (!ar->relation || !column || !*column)
        return "only a relation's columns can be hidden";
    st->cx->hooked = 1;
    /* the request's own copy: the Location's set is shared by every request */
    hidden = x->hidden ? apr_hash_copy(ar->r->pool, x->hidden) : apr_hash_make(ar->r->pool);
    apr_hash_set(hidden, apr_pstrcat(ar->r->pool, ar->schema, ".", ar->relation, ".", column,
                                     NULL),
                 APR_HASH_KEY_STRING, "");
    x->hidden = hidden;
    return NULL;
}

/* The schema a request names: "schema.relation" in its path, the
 * Accept-/Content-Profile header, or the Location's first. */
static void split_schema(apr_pool_t *p, const settings *s, const ar_read_request *req,
                         const char *name, const char **schema, const char **rel)
{
    const char *dot = name ? strchr(name, '.') : NULL;

    *rel = name;
    *schema = req->profile ? req->profile
                           : APR_ARRAY_IDX(s->exposure.schemas, 0, const char *);
    if (dot) {
        *schema = apr_pstrmemdup(p, name, (apr_size_t)(dot - name));
        *rel = dot + 1;
    }
}

ar_error *ar_hooks_before(context *cx, ar_read_request *req)
{
    request_rec *r = cx->r;
    autorest_request ar;
    before_state st = {cx, req};
    ar_error *err;
    int status;

    memset(&ar, 0, sizeof(ar));
    split_schema(r->pool, &cx->s, req, req->routine ? req->routine : req->relation,
                 &ar.schema, req->routine ? &ar.routine : &ar.relation);
    if (cx->outcome) {
        cx->outcome->schema = ar.schema;
        cx->outcome->relation = ar.relation;
        cx->outcome->routine = ar.routine;
    }
    if (!before_hooked)
        return NULL;
    ar.version = AUTOREST_HOOKS_VERSION;
    ar.r = r;
    ar.method = r->method;
    ar.role = cx->request.role;
    ar.anonymous = cx->request.anonymous;
    ar.add_filter = add_filter;
    ar.hide_column = hide_column;
    ar.internal = &st;
    status = autorest_run_autorest_before_statement(&ar);
    if (status == OK || status == DECLINED)
        return NULL;
    err = ar_error_make(r->pool, AR_ERR_REFUSED, ar.message ? ar.message : "refused", NULL,
                        NULL);
    if (status < 400 || status > 599) {
        err->log = apr_psprintf(r->pool, "a before_statement hook returned %d, which is no "
                                "refusal: answered 500", status);
        status = HTTP_INTERNAL_SERVER_ERROR;
    }
    err->status = status;
    return err;
}

ar_outcome *ar_hooks_outcome(context *cx)
{
    ar_outcome *o;

    if (!after_hooked)
        return NULL;
    o = apr_pcalloc(cx->r->pool, sizeof(*o));
    o->role = cx->request.role;
    ar_request_state_get(cx->r)->outcome = o;
    return o;
}

void ar_hooks_after(request_rec *r, const ar_outcome *o)
{
    autorest_result res;
    int rc;

    memset(&res, 0, sizeof(res));
    res.version = AUTOREST_HOOKS_VERSION;
    res.r = r;
    res.status = r->status;
    res.rows = r->status >= 400 ? -1 : o->rows;
    res.schema = o->schema;
    res.relation = o->relation;
    res.routine = o->routine;
    res.role = o->role;
    rc = autorest_run_autorest_after_statement(&res);
    if (rc != OK && rc != DECLINED)
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      "an after_statement hook returned %d: ignored", rc);
    if (res.status != r->status) {
        if (res.status >= 100 && res.status <= 599) {
            r->status = res.status;
            r->status_line = NULL; /* httpd's phrase for the new status */
        }
        else
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                          "an after_statement hook set status %d, which is no HTTP "
                          "status: ignored", res.status);
    }
}
