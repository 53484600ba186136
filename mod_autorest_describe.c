/*
 * mod_autorest_describe.c: what a Location serves, described to the caller:
 * the index (GET /api/) and the OpenAPI 3.1 document (the index with
 * Accept: application/openapi+json, or GET /api/openapi.json). Where
 * requests switch roles, both follow the role's own privileges, read in the
 * request's transaction as that role. A document is built once per
 * snapshot, Location and set of privileges, and kept with the snapshot.
 */
#include <stdlib.h>
#include <string.h>

#include <httpd.h>
#include <http_core.h>
#include <http_log.h>
#include <apr_strings.h>

#include "mod_autorest_glue.h"
#include "ar_openapi.h"

#define OPENAPI_TYPE "application/openapi+json; charset=utf-8"

static int privilege_row(void *ctx, const ar_row *row)
{
    ar_privileges *pv = ctx;
    apr_pool_t *p = apr_hash_pool_get(pv->excluded);
    int len, rlen, wlen;
    const char *name = ar_db_row_value(row, 0, &len);
    const char *readable = ar_db_row_value(row, 1, &rlen);
    const char *bits = ar_db_row_value(row, 2, &wlen);
    char *key;

    if (!name)
        return 0;
    key = apr_pstrmemdup(p, name, len);
    if (!readable || readable[0] != 't')
        apr_hash_set(pv->excluded, key, APR_HASH_KEY_STRING, "");
    if (bits && atoi(bits) != 0) {
        int *b = apr_palloc(p, sizeof(*b));
        *b = atoi(bits);
        apr_hash_set(pv->writable, key, APR_HASH_KEY_STRING, b);
    }
    APR_ARRAY_PUSH(pv->rows, const char *) =
        apr_psprintf(p, "%s:%c%s;", key, readable ? readable[0] : '-', bits ? bits : "0");
    return 0;
}

ar_error *ar_role_privileges(context *cx, ar_privileges *pv)
{
    apr_pool_t *p = cx->r->pool;
    ar_db_query q;
    ar_sql sql;

    pv->excluded = cx->s.exposure.excluded ? apr_hash_copy(p, cx->s.exposure.excluded)
                                           : apr_hash_make(p);
    pv->writable = apr_hash_make(p);
    pv->rows = apr_array_make(p, 64, sizeof(const char *));
    ar_reflect_privileges_sql(p, cx->s.exposure.schemas, &sql);
    memset(&q, 0, sizeof(q));
    q.state = cx->conn_state;
    q.sql = &sql;
    q.timeout_ms = cx->s.timeout_ms;
    q.request = &cx->request;
    q.on_row = privilege_row;
    q.ctx = pv;
    return ar_db_stream(p, cx->conn, &q);
}

/* OpenAPI's security scheme for the Location's AuthType. */
static ar_auth_scheme auth_scheme(request_rec *r)
{
    const char *type = ap_auth_type(r);

    if (!type)
        return AR_AUTH_NONE;
    if (strcasecmp(type, "Basic") == 0)
        return AR_AUTH_BASIC;
    /* mod_auth_openidc's: bearer tokens (oauth20), or a session it keeps,
     * which a client of the API presents as a bearer token as well */
    if (strcasecmp(type, "oauth20") == 0 || strcasecmp(type, "openid-connect") == 0
        || strcasecmp(type, "auth-openidc") == 0 || strcasecmp(type, "Bearer") == 0)
        return AR_AUTH_BEARER;
    return AR_AUTH_NONE;
}

ar_error *ar_serve_description(context *cx, ar_media media)
{
    int openapi = media == AR_MEDIA_OPENAPI;
    request_rec *r = cx->r;
    apr_size_t len;
    const char *base = apr_pstrmemdup(r->pool, cx->s.location, ar_location_base_len(cx->s.location));
    ar_exposure exposure = cx->s.exposure;
    ar_privileges pv = {NULL, NULL, NULL};
    ar_error *err;
    const char *body, *key;

    if (cx->s.role_source != ROLE_NONE) {
        if ((err = ar_role_privileges(cx, &pv)) != NULL)
            return err;
        exposure.excluded = pv.excluded;
    }
    if (cx->outcome)
        cx->outcome->rows = -1; /* no rows: a description of what is served */
    if (media == AR_MEDIA_HTML) {
        body = ar_html_index(r->pool, cx->schema, &exposure, base, cx->s.methods, cx->s.rpc,
                             pv.writable, &len);
        ar_resp_send_body(r, ar_media_types[AR_MEDIA_HTML], body, len);
        return NULL;
    }
    if (!openapi) {
        body = ar_json_index(r->pool, cx->schema, &exposure, base, cx->s.methods, cx->s.rpc,
                             pv.writable, &len);
        if (!body)
            return ar_error_make(r->pool, AR_ERR_CONFIG, "out of memory", NULL, NULL);
        ar_resp_send_body(r, JSON_TYPE, body, len);
        return NULL;
    }

    /* what shapes the document besides the snapshot: this Location's
     * settings (one server's, one path's) and the role's privileges */
    key = apr_psprintf(r->pool, "openapi|%pp|%s|%d|%d|%d|%s", (void *)r->server, cx->s.location,
                       cx->s.methods, cx->s.rpc, auth_scheme(r),
                       pv.rows ? apr_array_pstrcat(r->pool, pv.rows, 0) : "");
    body = ar_cache_document_get(cx->schema, key, &len);
    if (!body) {
        ar_openapi_options o;
        apr_time_t began = apr_time_now();

        memset(&o, 0, sizeof(o));
        o.base_url = base;
        o.title = apr_pstrcat(r->pool, "mod_autorest API at ", *base ? base : "/", NULL);
        o.methods = cx->s.methods;
        o.rpc = (ar_rpc_mode)cx->s.rpc;
        o.auth = auth_scheme(r);
        o.writable = pv.writable;
        body = ar_openapi_document(r->pool, cx->schema, &exposure, &o, &len);
        if (!body)
            return ar_error_make(r->pool, AR_ERR_CONFIG, "out of memory", NULL, NULL);
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "built the OpenAPI document: %" APR_SIZE_T_FMT
                      " bytes in %" APR_TIME_T_FMT " us", len, apr_time_now() - began);
        ar_cache_document_put(cx->schema, key, body, len);
    }
    ar_resp_send_body(r, OPENAPI_TYPE, body, len);
    return NULL;
}
