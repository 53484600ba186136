/*
 * mod_autorest_restless.c: writes as Flask-Restless 0.17 answered them.
 *
 * Under AutoRestDialect restless, writes answer as Flask-Restless 0.17 did:
 * POST /rel (one object) 201 with the new object, its relationships one
 * level deep, and Location /rel/<pk>; PATCH (and PUT, its alias there)
 * /rel/<pk> 200 with the object; DELETE /rel/<pk> 204; 404 when no row has
 * that key. With AutoRestRestlessAllowMany On, PATCH /rel changes the rows
 * its body's "q" search selects ({"num_modified": n}) and DELETE /rel?q=
 * deletes them ({"num_deleted": n}). Errors are {"message": ...} with
 * 0.17's words where it had its own.
 */
#include <string.h>

#include <http_core.h>
#include <http_protocol.h>
#include <apr_strings.h>

#include "mod_autorest_write.h"

ar_error *ar_restless_prepare(write_run *w, ar_read_request *req, const char *type)
{
    request_rec *r = w->cx->r;
    ar_write_request *wr = &req->write;

    if (wr->kind != AR_WRITE_DELETE && (!type || strncasecmp(type, "application/json", 16) != 0))
        return ar_error_make(r->pool, AR_ERR_BAD_MEDIA,
                             "Request must have \"Content-Type: application/json\" header",
                             NULL, NULL);
    if (wr->kind == AR_WRITE_PUT)
        wr->kind = AR_WRITE_UPDATE; /* 0.17: PUT is PATCH */
    w->restless = 1;
    w->restless_many = !req->pk_value && wr->kind != AR_WRITE_INSERT;
    if (w->restless_many && !w->cx->s.restless_allow_many)
        return ar_error_make(r->pool, AR_ERR_METHOD,
                             apr_psprintf(r->pool, "method %s is not allowed on the collection "
                                          "here", r->method),
                             NULL, NULL);
    if (req->relationship)
        return ar_error_make(r->pool, AR_ERR_METHOD,
                             apr_psprintf(r->pool, "Cannot %s a relation", r->method), NULL, NULL);
    wr->csv = 0;
    wr->key_back = wr->kind == AR_WRITE_INSERT; /* for Location */
    wr->ret = !w->restless_many && wr->kind != AR_WRITE_DELETE ? AR_RETURN_REPRESENTATION
                                                               : AR_RETURN_MINIMAL;
    return NULL;
}

/* PATCH of the collection: the body's "q" chooses the rows, planned now
 * that the body has been read. */
ar_error *ar_restless_search(write_run *w)
{
    request_rec *r = w->cx->r;
    ar_read_request req = *w->req;
    ar_write_plan plan;
    ar_error *err;

    if (w->plan.kind != AR_WRITE_UPDATE || w->statements > 0)
        return NULL;
    if (w->restless_q && (err = ar_restless_parse_q(r->pool, w->restless_q, &req)) != NULL)
        return err;
    req.single = 0;
    req.limit = AR_UNSET;
    req.offset = 0;
    if ((err = ar_plan_write(r->pool, w->cx->schema, &w->cx->s.exposure, &req,
                             w->cx->s.allow_unfiltered, &plan)) != NULL)
        return err;
    plan.columns = w->plan.columns;
    w->plan = plan;
    return NULL;
}

/* 0.17's words for what it named: the exception's class for database
 * errors, its own sentences for bodies it could not read. */
void ar_restless_error(const write_run *w, ar_error *e)
{
    switch (e->kind) {
    case AR_ERR_DB_CONFLICT:
    case AR_ERR_DB_CONSTRAINT:
        e->kind = AR_ERR_DB_CONSTRAINT; /* 0.17 answered 400 to every IntegrityError */
        e->message = "IntegrityError";
        break;
    case AR_ERR_DB_BAD_VALUE:
        e->message = "DataError";
        break;
    case AR_ERR_NOT_ONE_ROW:
        e->kind = AR_ERR_NO_ROW;
        e->message = "No result found";
        break;
    case AR_ERR_BAD_BODY:
        if (strncmp(e->message, "column '", 8) != 0)
            e->message = "Unable to decode data";
        else
            e->message = apr_psprintf(w->cx->r->pool, "Model does not have field '%.*s'",
                                      (int)strcspn(e->message + 8, "'"), e->message + 8);
        break;
    default:
        break;
    }
}

void ar_restless_respond(write_run *w)
{
    request_rec *r = w->cx->r;
    const char *body;

    if (w->restless_many) {
        body = apr_psprintf(r->pool, "{\"%s\": %" APR_INT64_T_FMT "}",
                            w->plan.kind == AR_WRITE_DELETE ? "num_deleted" : "num_modified",
                            w->affected);
        ar_resp_send_body(r, JSON_TYPE, body, strlen(body));
        return;
    }
    if (w->plan.kind == AR_WRITE_DELETE) {
        r->status = HTTP_NO_CONTENT;
        ap_set_content_length(r, 0);
        return;
    }
    if (w->plan.kind == AR_WRITE_INSERT) {
        r->status = HTTP_CREATED;
        if (w->location_key && w->location_key[0])
            apr_table_setn(r->headers_out, "Location",
                           apr_pstrcat(r->pool, ap_construct_url(r->pool, r->uri, r), "/",
                                       ap_escape_path_segment(r->pool, w->location_key[0]), NULL));
    }
    ar_resp_send_body(r, JSON_TYPE, w->resp.out.buf, w->resp.out.len);
}
