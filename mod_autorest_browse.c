/*
 * mod_autorest_browse.c: the browsable API's glue (ar_html.h has its
 * pages). Who gets HTML (a browser asking text/html first, where
 * AutoRestBrowsable is not Off), the headers every page carries, what the
 * caller may do on a page, and the forms a page posts back: read whole,
 * taken only from the page's own origin, and answered 303 See Other.
 */
#include <string.h>

#include <httpd.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <apr_strings.h>

#include "mod_autorest_glue.h"

/* What one form may hold: a row typed by hand, not a bulk load. */
#define FORM_MAX_BYTES (1024 * 1024)

int ar_browse_wanted(request_rec *r, const settings *s)
{
    return s->browsable && s->dialect == AR_DIALECT_POSTGREST
           && ar_html_accepted_first(apr_table_get(r->headers_in, "Accept"));
}

void ar_browse_headers(request_rec *r)
{
    apr_table_setn(r->headers_out, "Content-Security-Policy", AR_HTML_CSP);
    apr_table_setn(r->headers_out, "X-Content-Type-Options", "nosniff");
    apr_table_setn(r->headers_out, "Referrer-Policy", "same-origin");
}

static int is_form(const char *type)
{
    static const char form[] = "application/x-www-form-urlencoded";

    return type && strncasecmp(type, form, sizeof(form) - 1) == 0
           && (type[sizeof(form) - 1] == '\0' || type[sizeof(form) - 1] == ';'
               || type[sizeof(form) - 1] == ' ');
}

/* A browser submits a page's form asking text/html first, as it asks for
 * any page; another client's form POST stays what it was (415). */
int ar_browse_form_posted(request_rec *r, const settings *s)
{
    return r->method_number == M_POST && ar_browse_wanted(r, s)
           && is_form(apr_table_get(r->headers_in, "Content-Type"));
}

/* This server's own origin, as a browser names it in Origin. */
static const char *own_origin(request_rec *r)
{
    const char *host = apr_table_get(r->headers_in, "Host");

    if (!host)
        return NULL;
    return apr_pstrcat(r->pool, ap_http_scheme(r), "://", host, NULL);
}

/* A form writes only when the page that sent it is this server's own: a
 * browser sends another site's form with the user's cookies or Basic
 * credentials too (cross-site request forgery). Browsers since 2020-2023 send
 * Sec-Fetch-Site, which pages cannot set: where it is there it decides, so
 * that a reverse proxy whose public name or scheme is not Host's still works.
 * Older browsers send Origin with every POST: it must be this server's. */
static ar_error *same_origin(request_rec *r)
{
    const char *origin = apr_table_get(r->headers_in, "Origin");
    const char *site = apr_table_get(r->headers_in, "Sec-Fetch-Site");
    const char *own = own_origin(r);

    if (site) {
        if (strcasecmp(site, "same-origin") == 0)
            return NULL;
        return ar_error_make(r->pool, AR_ERR_CROSS_SITE, "a form from another site was refused",
                             apr_psprintf(r->pool, "Sec-Fetch-Site: %s", site),
                             "post the forms of this API's own pages");
    }
    if (!origin || !own || strcasecmp(origin, own) != 0)
        return ar_error_make(r->pool, AR_ERR_CROSS_SITE, "a form from another site was refused",
                             origin ? apr_psprintf(r->pool, "Origin %s is not %s", origin,
                                                   own ? own : "this server")
                                    : "the request has no Origin header",
                             "post the forms of this API's own pages");
    return NULL;
}

ar_error *ar_browse_read_form(context *cx)
{
    request_rec *r = cx->r;
    const char *method;
    char *text;
    apr_size_t len;
    ar_error *err;

    if ((err = same_origin(r)) != NULL
        || (err = ar_body_read_whole(cx, FORM_MAX_BYTES, &text, &len)) != NULL
        || (err = ar_html_form_row(r->pool, text, len, &cx->form_fields, &cx->form_nfields,
                                   &method)) != NULL)
        return err;
    if (!method || strcmp(method, "POST") == 0)
        cx->form_method = M_POST;
    else if (strcmp(method, "PATCH") == 0)
        cx->form_method = M_PATCH;
    else if (strcmp(method, "PUT") == 0)
        cx->form_method = M_PUT;
    else if (strcmp(method, "DELETE") == 0)
        cx->form_method = M_DELETE;
    else
        return ar_error_make(r->pool, AR_ERR_BAD_BODY,
                             apr_psprintf(r->pool, "a form cannot ask for method '%s'", method),
                             NULL, "_method is POST, PATCH, PUT or DELETE");
    return NULL;
}

/* Post, redirect, get: the page to see what the form did. An insert's is
 * its new row's (the Location the write set), an edit's or a replacement's
 * the row's own, a delete's the collection. */
void ar_browse_form_done(context *cx)
{
    request_rec *r = cx->r;
    const char *to = apr_table_get(r->headers_out, "Location");

    if ((cx->form_method == M_PATCH || cx->form_method == M_PUT) && r->args)
        to = apr_pstrcat(r->pool, ap_escape_uri(r->pool, r->uri), "?", r->args, NULL);
    else if (!to || cx->form_method != M_POST)
        to = ap_escape_uri(r->pool, r->uri);
    apr_table_setn(r->headers_out, "Location", to);
    apr_table_unset(r->headers_out, "Content-Range");
    r->status = HTTP_SEE_OTHER;
}

ar_error *ar_browse_page(context *cx, response *resp)
{
    request_rec *r = cx->r;
    ar_html_page *pg = apr_pcalloc(r->pool, sizeof(*pg));
    ar_privileges pv;
    ar_error *err;

    pg->location = apr_pstrmemdup(r->pool, cx->s.location, ar_location_base_len(cx->s.location));
    pg->path = ap_escape_uri(r->pool, r->uri);
    pg->relation = resp->plan->relation;
    pg->exposure = &cx->s.exposure;
    pg->columns = resp->plan->columns;
    pg->args = ar_html_args(r->pool, r->args);
    pg->methods = cx->s.methods;
    pg->can = pg->relation->writable;
    /* where requests switch roles, the forms are the role's */
    if (cx->s.role_source != ROLE_NONE && (cx->s.methods & ~AR_METHOD_GET)) {
        if ((err = ar_role_privileges(cx, &pv)) != NULL)
            return err;
        pg->can = ar_role_can(r->pool, pg->relation, pv.writable);
    }
    ar_html_page_init(r->pool, pg);
    resp->html = pg;
    return NULL;
}
