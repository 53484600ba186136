/*
 * mod_autorest_tenant.c: an example of another module using mod_autorest's
 * hooks (include/mod_autorest.h); built and tested with the module
 * (t/api/406_hooks.t), installed by no one.
 *
 * In a Location that sets AutoRestTenantColumn, every request of an
 * authenticated user sees and changes only the rows whose column holds the
 * user's name, as if the client had added column=eq.<user> itself:
 *
 *   AutoRestTenantColumn tenant     the filter, from REMOTE_USER
 *   AutoRestTenantHide internal     a column tenants never see
 *   AutoRestTenantNoDelete On       DELETE refused: 403 JSON
 *   AutoRestTenantEmptyStatus 404   a read that found no row answers this
 *
 * and every answer says how many rows it held in X-Row-Count (when known
 * before the first byte) and as which role it ran in X-Autorest-Role.
 */
#include <stdlib.h>
#include <string.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <apr_strings.h>

#include "mod_autorest.h"

module AP_MODULE_DECLARE_DATA autorest_tenant_module;

typedef struct {
    const char *column;     /* NULL: no tenants here */
    const char *hide;
    int no_delete;          /* -1: unset */
    int empty_status;       /* 0: unset */
} tenant_conf;

static void *create_conf(apr_pool_t *p, char *dir)
{
    tenant_conf *c = apr_pcalloc(p, sizeof(*c));

    (void)dir;
    c->no_delete = -1;
    return c;
}

static void *merge_conf(apr_pool_t *p, void *basev, void *addv)
{
    tenant_conf *base = basev, *add = addv, *c = apr_pcalloc(p, sizeof(*c));

    c->column = add->column ? add->column : base->column;
    c->hide = add->hide ? add->hide : base->hide;
    c->no_delete = add->no_delete != -1 ? add->no_delete : base->no_delete;
    c->empty_status = add->empty_status ? add->empty_status : base->empty_status;
    return c;
}

static const char *set_empty_status(cmd_parms *cmd, void *cfg, const char *arg)
{
    int status = atoi(arg);

    (void)cmd;
    if (status < 200 || status > 599)
        return "AutoRestTenantEmptyStatus takes an HTTP status";
    ((tenant_conf *)cfg)->empty_status = status;
    return NULL;
}

static const command_rec tenant_cmds[] = {
    AP_INIT_TAKE1("AutoRestTenantColumn", ap_set_string_slot,
                  (void *)APR_OFFSETOF(tenant_conf, column), ACCESS_CONF,
                  "the column that holds the tenant's user name"),
    AP_INIT_TAKE1("AutoRestTenantHide", ap_set_string_slot,
                  (void *)APR_OFFSETOF(tenant_conf, hide), ACCESS_CONF,
                  "a column tenants never see"),
    AP_INIT_FLAG("AutoRestTenantNoDelete", ap_set_flag_slot,
                 (void *)APR_OFFSETOF(tenant_conf, no_delete), ACCESS_CONF,
                 "On: tenants may not DELETE"),
    AP_INIT_TAKE1("AutoRestTenantEmptyStatus", set_empty_status, NULL, ACCESS_CONF,
                  "the status of a read that found no row (default: as it is)"),
    {NULL}
};

static const tenant_conf *conf_of(request_rec *r)
{
    return ap_get_module_config(r->per_dir_config, &autorest_tenant_module);
}

/* Flask-Restless's preprocessor, per method. */
static int tenant_before(autorest_request *ar)
{
    const tenant_conf *c = conf_of(ar->r);
    const char *why;

    if (!c->column || !ar->relation)
        return DECLINED; /* not a tenant's Location, or a call, or the index */
    if (!ar->r->user) {
        ar->message = "sign in: rows here belong to their tenants";
        return HTTP_UNAUTHORIZED;
    }
    if (c->no_delete == 1 && strcmp(ar->method, "DELETE") == 0) {
        ar->message = apr_psprintf(ar->r->pool, "%s may not delete %s", ar->r->user,
                                   ar->relation);
        return HTTP_FORBIDDEN;
    }
    /* an insert has no rows to filter; the tenant's column of a new row is
     * the database's to fill (a default or a trigger) */
    if (strcmp(ar->method, "POST") != 0
        && (why = ar->add_filter(ar, c->column, apr_pstrcat(ar->r->pool, "eq.", ar->r->user,
                                                            NULL))) != NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, ar->r, "tenant filter not added: %s", why);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (c->hide && (why = ar->hide_column(ar, c->hide)) != NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, ar->r, "column not hidden: %s", why);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

/* Its postprocessor. */
static int tenant_after(autorest_result *res)
{
    request_rec *r = res->r;
    const tenant_conf *c = conf_of(r);

    if (res->rows >= 0)
        apr_table_setn(r->headers_out, "X-Row-Count",
                       apr_psprintf(r->pool, "%" APR_INT64_T_FMT, res->rows));
    apr_table_setn(r->headers_out, "X-Autorest-Role", res->role ? res->role : "(login)");
    if (c->column && c->empty_status && res->rows == 0 && res->relation
        && r->method_number == M_GET && res->status == HTTP_OK)
        res->status = c->empty_status;
    return OK;
}

static void register_hooks(apr_pool_t *p)
{
    (void)p;
    AUTOREST_HOOK_BEFORE_STATEMENT(tenant_before, APR_HOOK_MIDDLE);
    AUTOREST_HOOK_AFTER_STATEMENT(tenant_after, APR_HOOK_MIDDLE);
}

AP_DECLARE_MODULE(autorest_tenant) = {
    STANDARD20_MODULE_STUFF,
    create_conf,
    merge_conf,
    NULL,
    NULL,
    tenant_cmds,
    register_hooks,
    AP_MODULE_FLAG_NONE
};
