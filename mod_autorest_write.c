/*
 * mod_autorest_write.c: running a write (POST, PATCH, PUT, DELETE).
 *
 * The body is read from httpd's input brigades as it arrives and fed to the
 * body parser, whose rows fill a batch; a full batch goes to PostgreSQL at
 * once (by COPY, or as one INSERT with bound values), so a bulk load of any
 * size holds one batch, never the body. A body that ends before its first
 * batch fills (nearly every request) is one statement in the pipeline's
 * implicit transaction: one round trip.
 * A longer one, or one whose outcome is decided after it ran (tx=rollback,
 * max-affected), runs in an explicit transaction that ar_db_end closes,
 * whatever happened. With return=representation the rows the statements
 * return are encoded as a read's rows would be, held or streamed.
 */
#include <string.h>

#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>
#include <util_filter.h>
#include <apr_strings.h>

#include "mod_autorest_glue.h"
#include "mod_autorest_write.h"

/* Rows of one INSERT, and the most values it binds (PostgreSQL's protocol
 * counts parameters in 16 bits). */
#define BATCH_ROWS 1000
#define BATCH_PARAMS 60000
/* Bytes asked of the input filters at a time. */
#define READ_BYTES (64 * 1024)


/* ------------------------------------------------------------ the rows */

/* The per-slot facts for columns the plan gained since last time. */
static void learn_slots(write_run *w)
{
    for (; w->slots_known < w->plan.columns->nelts; w->slots_known++) {
        const ar_column *c = APR_ARRAY_IDX(w->plan.columns, w->slots_known, const ar_column *);
        w->slot_len[w->slots_known] = strlen(c->name);
        w->slot_json[w->slots_known] = (unsigned char)ar_column_is_json(c);
    }
}

/* The plan's slot of a key, or -1. Bodies keep their keys in one order, so
 * the field's position is tried first. */
static int column_slot(write_run *w, const char *name, apr_size_t len, int hint)
{
    int i;

    learn_slots(w);
    if (hint < w->plan.columns->nelts && w->slot_len[hint] == len
        && memcmp(APR_ARRAY_IDX(w->plan.columns, hint, const ar_column *)->name, name, len) == 0)
        return hint;
    for (i = 0; i < w->plan.columns->nelts; i++)
        if (w->slot_len[i] == len
            && memcmp(APR_ARRAY_IDX(w->plan.columns, i, const ar_column *)->name, name, len) == 0)
            return i;
    return -1;
}

static ar_write_row *new_row(write_run *w)
{
    ar_write_row *row = apr_array_push(w->batch);
    apr_size_t n = (apr_size_t)w->width;

    row->values = apr_pcalloc(w->batch_pool, n * sizeof(char *));
    row->kinds = apr_pcalloc(w->batch_pool, n * sizeof(ar_value_kind));
    row->absent = apr_palloc(w->batch_pool, n);
    memset((void *)row->absent, 1, n);
    return row;
}

/* The value a column gets from one field of the body, copied into the
 * batch: its text as ar_write_value gives it, or, for an object or array
 * into a column that is not json, {"column": value} for
 * json_populate_record (sql_write.c). */
static const char *field_value(write_run *w, int slot, const ar_body_field *f)
{
    apr_pool_t *p = w->batch_pool;
    apr_size_t len = 0;
    const char *text = ar_write_value(w->slot_json[slot], f, &len);

    if (!text)
        return NULL;
    if ((f->kind == AR_VAL_OBJECT || f->kind == AR_VAL_ARRAY) && !w->slot_json[slot]) {
        const char *name = APR_ARRAY_IDX(w->plan.columns, slot, const ar_column *)->name;
        ar_out o;
        ar_out_init(&o, p, 0, NULL, NULL);
        ar_out_puts(&o, "{");
        ar_json_write_string(&o, name, w->slot_len[slot]);
        ar_out_puts(&o, ":");
        ar_out_write(&o, f->raw, f->raw_len);
        ar_out_write(&o, "}", 2);
        w->batch_needs_sql = 1;
        return o.buf;
    }
    return apr_pstrmemdup(p, text, len);
}

static ar_error *flush_batch(write_run *w, int last);

/* A key of the body that no (shown, writable) column takes: the body's
 * fault, whether found in it or named by columns=. */
static ar_error *as_body_error(ar_error *e)
{
    e->kind = AR_ERR_BAD_BODY;
    e->code = ar_error_code(AR_ERR_BAD_BODY);
    return e;
}

/* The union of an array's keys is known only at its end, but a long body
 * is written as it arrives: rows already sent left out a key seen later.
 * Left out, a column without a default is NULL, as the union wants; one
 * with a default took it, which the union does not: that is refused (with
 * missing=default, leaving out is what is wanted). */
static ar_error *late_key(const write_run *w, apr_int64_t index, int slot)
{
    apr_pool_t *p = w->cx->r->pool;
    const ar_column *c = APR_ARRAY_IDX(w->plan.columns, slot, const ar_column *);

    if ((w->statements == 0 && !w->copy_open) || w->plan.missing_default || !c->has_default)
        return NULL;
    return ar_error_make(p, AR_ERR_BAD_BODY,
                         apr_psprintf(p, "key '%s' first appears in row %" APR_INT64_T_FMT
                                      " of the body, after rows already written without it "
                                      "took its column's default", c->name, index + 1),
                         NULL, "name every key with columns= (as postgrest-js does), or send "
                               "Prefer: missing=default");
}

static ar_error *take_row(void *ctx, apr_int64_t index, const ar_body_field *fields, int n)
{
    write_run *w = ctx;
    apr_pool_t *p = w->cx->r->pool;
    ar_write_row *row;
    ar_error *e, *err_late;
    int i;

    if (w->plan.kind != AR_WRITE_INSERT && index > 0)
        return ar_error_make(p, AR_ERR_BAD_BODY,
                             apr_psprintf(p, "%s takes one object, not several",
                                          w->plan.kind == AR_WRITE_PUT ? "PUT" : "PATCH"),
                             NULL, NULL);
    row = new_row(w);
    for (i = 0; i < n; i++) {
        const ar_body_field *f = &fields[i];
        int slot = column_slot(w, f->name, f->name_len, i);

        if (slot < 0 && w->fixed_columns)
            continue; /* columns= chose what is taken from the body */
        if (w->restless_many && f->name_len == 1 && f->name[0] == 'q') {
            /* Flask-Restless's PATCH of many rows takes its search from the body */
            w->restless_q = f->kind == AR_VAL_NULL ? NULL : apr_pstrdup(p, f->raw);
            continue;
        }
        if (slot < 0) {
            const char *name = apr_pstrmemdup(p, f->name, f->name_len);
            if ((e = ar_plan_write_columns(p, &w->cx->s.exposure, &w->plan, &name, 1)) != NULL) {
                e->message = apr_psprintf(p, "%s (row %" APR_INT64_T_FMT " of the body)",
                                          e->message, index + 1);
                return as_body_error(e);
            }
            slot = w->plan.columns->nelts - 1;
            learn_slots(w);
            if ((err_late = late_key(w, index, slot)) != NULL)
                return err_late;
        }
        row->values[slot] = field_value(w, slot, f);
        ((ar_value_kind *)row->kinds)[slot] = f->kind;
        ((unsigned char *)row->absent)[slot] = 0;
    }
    w->params += w->plan.columns->nelts;
    if (w->batch->nelts >= BATCH_ROWS || w->params + w->width >= BATCH_PARAMS)
        return flush_batch(w, 0);
    return NULL;
}

/* PUT's body repeats the key of its filters. */
static ar_error *check_put_key(write_run *w)
{
    apr_pool_t *p = w->cx->r->pool;
    const ar_write_row *row = &APR_ARRAY_IDX(w->batch, 0, ar_write_row);
    int i;

    for (i = 0; i < w->plan.conflict->nelts; i++) {
        const ar_column *key = APR_ARRAY_IDX(w->plan.conflict, i, const ar_column *);
        int slot = column_slot(w, key->name, strlen(key->name), i);

        if (slot < 0 || row->absent[slot] || !row->values[slot]
            || strcmp(row->values[slot], w->plan.put_values[i]) != 0)
            return ar_error_make(p, AR_ERR_BAD_BODY,
                                 "Payload values do not match URL in primary key column(s)",
                                 NULL, NULL);
    }
    return NULL;
}

/* ------------------------------------------------------- the statements */

static int on_written_row(void *ctx, const ar_row *row)
{
    write_run *w = ctx;

    if (w->plan.key_back && !w->location_key && w->plan.relation->primary_key) {
        int i, n = w->plan.relation->primary_key->cols->nelts, len;

        w->location_key = apr_pcalloc(w->cx->r->pool, sizeof(char *) * (apr_size_t)n);
        for (i = 0; i < n; i++) {
            const char *v = ar_db_row_value(row, w->key_offset + i, &len);
            w->location_key[i] = v ? apr_pstrmemdup(w->cx->r->pool, v, (apr_size_t)len) : NULL;
        }
    }
    if (w->tells_inserted) {
        int len;
        const char *v = ar_db_row_value(row, w->inserted_column, &len);
        w->inserted += v && v[0] == 't';
    }
    return w->plan.representation ? ar_resp_on_row(&w->resp, row) : 0;
}

/* Whether the batch may go by COPY: a plain insert whose rows come back
 * to nobody and whose values PostgreSQL reads as text, in a body longer
 * than one batch (a body that ends inside its first batch is one INSERT:
 * one round trip). The bench (W2) measured COPY cheaper for PostgreSQL
 * than a 1,000-row INSERT by about 13%. */
static int copy_fits(const write_run *w, int last)
{
    return w->plan.kind == AR_WRITE_INSERT && !w->plan.conflict && !w->plan.representation
           && !w->plan.missing_default && !w->plan.key_back && !w->plan.read.single
           && !w->batch_needs_sql && w->plan.columns->nelts > 0
           && !(last && w->statements == 0);
}

static ar_error *end_copy(write_run *w, const char *abort_reason)
{
    apr_int64_t rows = 0;
    ar_error *err;

    w->copy_open = 0;
    err = ar_db_copy_end(w->cx->r->pool, w->cx->conn, abort_reason, &rows);
    w->affected += rows;
    return err;
}

/* The batch's rows into the open COPY, or a new one when the columns
 * grew (a later object brought a key: its COPY names it, earlier rows
 * went without). */
static ar_error *copy_batch(write_run *w, int last)
{
    request_rec *r = w->cx->r;
    int ncols = w->plan.columns->nelts, i;
    ar_error *err = NULL;
    ar_out o;

    if (w->copy_open && w->copy_columns != ncols && (err = end_copy(w, NULL)) != NULL)
        return err;
    if (!w->copy_open) {
        err = ar_db_copy_begin(r->pool, w->cx->conn, w->cx->conn_state, w->cx->s.timeout_ms,
                               &w->cx->request,
                               w->statements == 0, ar_sql_render_copy(w->batch_pool, &w->plan));
        w->explicit_tx = 1;
        w->statements++;
        if (err)
            return err;
        w->copy_open = 1;
        w->copy_columns = ncols;
    }
    ar_out_init(&o, w->batch_pool, 0, NULL, NULL);
    for (i = 0; i < w->batch->nelts; i++)
        ar_copy_write_row(&o, ncols, &APR_ARRAY_IDX(w->batch, i, ar_write_row));
    err = ar_db_copy_put(r->pool, w->cx->conn, o.buf, o.len);
    if (!err && last)
        err = end_copy(w, NULL);
    return err;
}

static void clear_batch(write_run *w)
{
    apr_pool_clear(w->batch_pool);
    w->batch = apr_array_make(w->batch_pool, 64, sizeof(ar_write_row));
    w->params = 0;
    w->batch_needs_sql = 0;
}

/* Runs the batch: by COPY, or as one statement. last: the body has ended. */
static ar_error *flush_batch(write_run *w, int last)
{
    request_rec *r = w->cx->r;
    ar_db_query q;
    ar_sql sql;
    ar_error *err;

    if (w->plan.kind == AR_WRITE_PUT && (err = check_put_key(w)) != NULL)
        return err;
    if (w->restless_many && (err = ar_restless_search(w)) != NULL)
        return err;
    if (w->plan.kind == AR_WRITE_UPDATE && w->plan.columns->nelts == 0)
        return NULL; /* {} changes nothing: no statement, no rows (as PostgREST) */
    if (copy_fits(w, last)) {
        err = copy_batch(w, last);
        clear_batch(w);
        return err;
    }
    if (w->copy_open && (err = end_copy(w, NULL)) != NULL)
        return err;
    if (!last || w->statements > 0)
        w->explicit_tx = 1;
    /* the body's columns are known now */
    w->tells_inserted = ar_sql_write_tells_inserted(&w->plan);
    ar_sql_render_write(r->pool, &w->plan, (const ar_write_row *)w->batch->elts,
                        w->batch->nelts, &sql);
    memset(&q, 0, sizeof(q));
    q.state = w->cx->conn_state;
    q.sql = &sql;
    q.timeout_ms = w->cx->s.timeout_ms;
    q.request = &w->cx->request;
    q.stream = 1;
    q.on_row = on_written_row;
    q.ctx = w;
    q.begin = w->explicit_tx && w->statements == 0;
    q.in_transaction = w->explicit_tx && w->statements > 0;
    q.writes = 1;
    err = ar_db_stream(r->pool, w->cx->conn, &q);
    w->statements++;
    w->affected += q.affected;
    clear_batch(w);
    return err;
}

/* ------------------------------------------------------------ the body */

ar_error *ar_body_read_error(context *cx, apr_status_t rv)
{
    request_rec *r = cx->r;

    /* a chunked body past LimitRequestBody: the filter sent httpd's 413 */
    if (rv == AP_FILTER_ERROR)
        cx->body_answered = 1;
    if (ap_map_http_request_error(rv, HTTP_BAD_REQUEST) == HTTP_REQUEST_ENTITY_TOO_LARGE)
        return ar_error_make(r->pool, AR_ERR_BODY_TOO_LARGE,
                             "the request body is larger than this server accepts",
                             apr_psprintf(r->pool, "LimitRequestBody is %" APR_OFF_T_FMT " bytes",
                                          ap_get_limit_req_body(r)), NULL);
    return ar_error_make(r->pool, AR_ERR_BAD_BODY, "the request body could not be read",
                         NULL, NULL);
}

ar_error *ar_body_read_whole(context *cx, apr_off_t max, char **text, apr_size_t *len)
{
    request_rec *r = cx->r;
    const char *length = apr_table_get(r->headers_in, "Content-Length");
    apr_off_t limit = ap_get_limit_req_body(r), seen = 0;
    apr_bucket_brigade *bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    apr_bucket_brigade *all = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    int eos = 0;

    if (max > 0 && (limit <= 0 || max < limit))
        limit = max;
    if (limit > 0 && length && apr_atoi64(length) > limit)
        return ar_body_read_error(cx, APR_ENOSPC);
    while (!eos) {
        apr_bucket *b;
        apr_off_t got = 0;
        apr_status_t rv = ap_get_brigade(r->input_filters, bb, AP_MODE_READBYTES,
                                         APR_BLOCK_READ, READ_BYTES);
        if (rv != APR_SUCCESS)
            return ar_body_read_error(cx, rv);
        for (b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb); b = APR_BUCKET_NEXT(b))
            if (APR_BUCKET_IS_EOS(b)) {
                eos = 1;
                apr_brigade_split_ex(bb, b, NULL); /* drop the EOS and past it */
                break;
            }
        apr_brigade_length(bb, 1, &got);
        if (limit > 0 && (seen += got) > limit)
            return ar_body_read_error(cx, APR_ENOSPC);
        /* set aside: the filters may reuse what they lent */
        if ((rv = ap_save_brigade(NULL, &all, &bb, r->pool)) != APR_SUCCESS)
            return ar_body_read_error(cx, rv);
        apr_brigade_cleanup(bb);
    }
    if (apr_brigade_pflatten(all, text, len, r->pool) != APR_SUCCESS)
        return ar_body_read_error(cx, APR_EGENERAL);
    *text = apr_pstrmemdup(r->pool, *text, *len);
    return NULL;
}

/* Reads the body as it arrives into the parser, which fills and runs
 * batches; the last batch runs when the body has ended. */
static ar_error *read_body(write_run *w, ar_body_format format)
{
    request_rec *r = w->cx->r;
    apr_bucket_brigade *bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    ar_body_parser *bp = ar_body_parser_create(r->pool, format, take_row, w);
    const char *length = apr_table_get(r->headers_in, "Content-Length");
    apr_off_t limit = ap_get_limit_req_body(r);
    ar_error *err = NULL;
    int eos = 0;

    if (limit > 0 && length && apr_atoi64(length) > limit)
        return ar_body_read_error(w->cx, APR_ENOSPC);
    while (!eos && !err) {
        apr_bucket *b;
        apr_status_t rv = ap_get_brigade(r->input_filters, bb, AP_MODE_READBYTES,
                                         APR_BLOCK_READ, READ_BYTES);
        if (rv != APR_SUCCESS)
            return ar_body_read_error(w->cx, rv);
        for (b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb) && !err;
             b = APR_BUCKET_NEXT(b)) {
            const char *data;
            apr_size_t len;

            if (APR_BUCKET_IS_EOS(b)) {
                eos = 1;
                break;
            }
            if (APR_BUCKET_IS_METADATA(b))
                continue;
            if ((rv = apr_bucket_read(b, &data, &len, APR_BLOCK_READ)) != APR_SUCCESS)
                return ar_body_read_error(w->cx, rv);
            err = ar_body_feed(bp, data, len);
        }
        apr_brigade_cleanup(bb);
    }
    if (!err)
        err = ar_body_finish(bp);
    if (!err && w->plan.kind != AR_WRITE_INSERT && ar_body_rows(bp) == 0)
        err = ar_error_make(r->pool, AR_ERR_BAD_BODY, "the body holds no object", NULL, NULL);
    if (!err && (w->batch->nelts > 0 || w->statements == 0))
        err = flush_batch(w, 1);
    if (!err && w->copy_open)
        err = end_copy(w, NULL);
    return err;
}

/* A browsable page's form, read already (ar_browse_read_form): one row. */
static ar_error *take_form(write_run *w)
{
    ar_error *err = take_row(w, 0, w->cx->form_fields, w->cx->form_nfields);

    if (!err && (w->batch->nelts > 0 || w->statements == 0))
        err = flush_batch(w, 1);
    if (!err && w->copy_open)
        err = end_copy(w, NULL);
    return err;
}

/* --------------------------------------------------------- the response */

/* A query value as PostgREST writes it in Location: every byte but the
 * unreserved ones percent-encoded. */
static const char *query_value(apr_pool_t *p, const char *s)
{
    return ar_resp_percent_encode(p, s, "-._~");
}

/* The Location of the one row an insert wrote: the collection filtered by
 * its key, in the table's column order, as PostgREST writes it. */
static const char *location_of(write_run *w)
{
    request_rec *r = w->cx->r;
    const ar_relation *rel = w->plan.relation;
    const ar_key *pk = rel->primary_key;
    const char *loc = apr_pstrcat(r->pool, ap_escape_uri(r->pool, r->uri), "?", NULL);
    int col, i, first = 1;

    for (col = 0; col < rel->columns->nelts; col++)
        for (i = 0; i < pk->cols->nelts; i++) {
            const char *v = w->location_key[i];
            if (APR_ARRAY_IDX(pk->cols, i, int) != col)
                continue;
            loc = apr_pstrcat(r->pool, loc, first ? "" : "&",
                              query_value(r->pool, APR_ARRAY_IDX(rel->columns, col,
                                                                  ar_column).name),
                              v ? "=eq." : "=is.null", v ? query_value(r->pool, v) : "", NULL);
            first = 0;
        }
    return loc;
}

static int success_status(const write_run *w);

/* Content-Range of a write, as PostgREST 12 answers: POST and DELETE
 * "*\/total", PATCH the range of the changed rows, PUT none. */
static void set_content_range(write_run *w)
{
    request_rec *r = w->cx->r;
    apr_int64_t n = w->affected;
    const char *total = w->req->count == AR_COUNT_EXACT
                            ? apr_psprintf(r->pool, "%" APR_INT64_T_FMT, n) : "*";

    if (w->plan.kind == AR_WRITE_PUT)
        return;
    if (w->plan.kind == AR_WRITE_UPDATE && n > 0)
        apr_table_setn(r->headers_out, "Content-Range",
                       apr_psprintf(r->pool, "0-%" APR_INT64_T_FMT "/%s", n - 1, total));
    else
        apr_table_setn(r->headers_out, "Content-Range", apr_pstrcat(r->pool, "*/", total, NULL));
}

/* Status and headers; also when a long representation begins to stream,
 * before the count is known. Preference-Applied lists what was applied in
 * PostgREST's order. */
static void set_write_headers(void *ctx)
{
    write_run *w = ctx;
    request_rec *r = w->cx->r;
    const ar_write_request *wr = &w->req->write;
    apr_array_header_t *applied = apr_array_make(r->pool, 4, sizeof(const char *));

    set_content_range(w);
    if (w->cx->outcome)
        w->cx->outcome->rows = w->resp.streaming ? -1 : w->affected;
    if (w->plan.key_back && w->location_key && w->affected == 1)
        apr_table_setn(r->headers_out, "Location", location_of(w));
    if (w->plan.kind == AR_WRITE_INSERT && w->plan.conflict)
        APR_ARRAY_PUSH(applied, const char *) = wr->resolution == AR_RESOLVE_MERGE
                                                    ? "resolution=merge-duplicates"
                                                    : "resolution=ignore-duplicates";
    if (wr->missing_default && w->plan.kind != AR_WRITE_DELETE)
        APR_ARRAY_PUSH(applied, const char *) = "missing=default";
    if (wr->ret_asked)
        APR_ARRAY_PUSH(applied, const char *) =
            wr->ret == AR_RETURN_MINIMAL   ? "return=minimal"
            : wr->ret == AR_RETURN_HEADERS ? "return=headers-only"
                                           : "return=representation";
    if (w->req->count != AR_COUNT_NONE)
        APR_ARRAY_PUSH(applied, const char *) =
            w->req->count == AR_COUNT_EXACT     ? "count=exact"
            : w->req->count == AR_COUNT_PLANNED ? "count=planned"
                                                : "count=estimated";
    if (wr->tx_asked && w->cx->s.tx_override)
        APR_ARRAY_PUSH(applied, const char *) = wr->tx_rollback ? "tx=rollback" : "tx=commit";
    if (w->req->strict)
        APR_ARRAY_PUSH(applied, const char *) = "handling=strict";
    if (w->max_affected_applies)
        APR_ARRAY_PUSH(applied, const char *) =
            apr_psprintf(r->pool, "max-affected=%" APR_INT64_T_FMT, wr->max_affected);
    if (applied->nelts) {
        const char *list = APR_ARRAY_IDX(applied, 0, const char *);
        int i;
        for (i = 1; i < applied->nelts; i++)
            list = apr_pstrcat(r->pool, list, ", ", APR_ARRAY_IDX(applied, i, const char *),
                               NULL);
        apr_table_setn(r->headers_out, "Preference-Applied", list);
    }
    if (w->req->profile)
        apr_table_setn(r->headers_out, "Content-Profile", w->req->profile);
    r->status = success_status(w);
    if (w->plan.representation)
        ap_set_content_type(r, ar_media_types[w->plan.read.media]);
}

/* 201 for an insert, but 200 for an upsert that inserted nothing; PUT's
 * representation says which it did; otherwise 204 without a body. */
static int success_status(const write_run *w)
{
    if (w->plan.kind == AR_WRITE_INSERT)
        return w->tells_inserted && w->inserted == 0 ? HTTP_OK : HTTP_CREATED;
    if (!w->plan.representation)
        return HTTP_NO_CONTENT;
    if (w->plan.kind == AR_WRITE_PUT)
        return w->tells_inserted && w->inserted > 0 ? HTTP_CREATED : HTTP_OK;
    return HTTP_OK;
}

/* The answer once the statements ran and the transaction is decided. */
static ar_error *respond(write_run *w)
{
    request_rec *r = w->cx->r;
    response *resp = &w->resp;

    if (!w->plan.representation) {
        set_write_headers(w);
        ap_set_content_length(r, 0);
        return NULL;
    }
    if (w->plan.read.single) {
        /* application/vnd.pgrst.object+json: exactly one row, checked
         * before the commit */
        set_write_headers(w);
        ar_resp_send_body(r, ar_media_types[AR_MEDIA_OBJECT], resp->out.buf, resp->out.len);
        return NULL;
    }
    ar_resp_close_document(resp);
    set_write_headers(w);
    ar_resp_send_held(resp);
    return NULL;
}

/* PostgreSQL's words about a constraint can show a hidden column: its name
 * in the message or DETAIL, its value in "Failing row contains (...)",
 * which lists every column. Where the relation hides any column, those
 * words are withheld and the message names the constraint instead. */
static void withhold_hidden(const write_run *w, ar_error *e)
{
    const ar_relation *rel = w->plan.relation;
    apr_pool_t *p = w->cx->r->pool;
    int i, hidden = 0, named = 0;

    if (e->kind != AR_ERR_DB_CONFLICT && e->kind != AR_ERR_DB_CONSTRAINT)
        return;
    for (i = 0; i < rel->columns->nelts; i++) {
        const ar_column *c = &APR_ARRAY_IDX(rel->columns, i, ar_column);
        if (ar_exposed_column(&w->cx->s.exposure, rel, c))
            continue;
        hidden = 1;
        named |= strstr(e->message, c->name) || (e->details && strstr(e->details, c->name));
    }
    if (!hidden)
        return;
    if (named || e->kind == AR_ERR_DB_CONSTRAINT)
        e->details = NULL;
    if (named)
        e->message = e->constraint
                         ? apr_psprintf(p, "the row violates constraint \"%s\"", e->constraint)
                         : "the row violates a constraint";
}

/* ------------------------------------------------------------ the runner */

ar_error *ar_run_write(context *cx, ar_read_request *req, int *done)
{
    request_rec *r = cx->r;
    const ar_write_request *wr = &req->write;
    const char *type = apr_table_get(r->headers_in, "Content-Type");
    write_run *w = apr_pcalloc(r->pool, sizeof(*w));
    ar_error *err, *end_err;
    int rollback, commit;

    *done = 0;
    w->cx = cx;
    if (cx->s.dialect == AR_DIALECT_RESTLESS && (err = ar_restless_prepare(w, req, type)) != NULL)
        return err;
    if (wr->kind != AR_WRITE_DELETE && type && *type && !wr->csv && !cx->form_method
        && strncasecmp(type, "application/json", 16) != 0)
        return ar_error_make(r->pool, AR_ERR_BAD_MEDIA,
                             apr_psprintf(r->pool, "Content-Type '%s' is not read here", type),
                             NULL, "send application/json or text/csv");
    if (wr->tx_asked && !cx->s.tx_override && req->strict)
        return ar_error_make(r->pool, AR_ERR_BAD_PREFER,
                             "preference 'tx' cannot be applied",
                             NULL, "this Location does not set AutoRestTxOverride On");
    /* a restless PATCH of many rows has its filter in the body: checked then */
    if ((err = ar_plan_write(r->pool, cx->schema, &cx->s.exposure, req,
                             cx->s.allow_unfiltered
                                 || (w->restless_many && wr->kind == AR_WRITE_UPDATE),
                             &w->plan)) != NULL)
        return err;
    if (w->restless && !w->restless_many)
        w->plan.read.single = 1; /* one row by its key: the object back, 404 when none */

    w->req = req;
    w->width = w->plan.relation->columns->nelts;
    w->slot_len = apr_palloc(r->pool, sizeof(apr_size_t) * (apr_size_t)(w->width + 1));
    w->slot_json = apr_palloc(r->pool, (apr_size_t)(w->width + 1));
    apr_pool_create(&w->batch_pool, r->pool);
    w->batch = apr_array_make(w->batch_pool, 64, sizeof(ar_write_row));
    if (wr->columns) {
        w->fixed_columns = 1;
        /* the body's keys, named up front (postgrest-js sends every bulk
         * insert so): the same error as a key found in the body */
        if ((err = ar_plan_write_columns(r->pool, &cx->s.exposure, &w->plan,
                                         (const char *const *)wr->columns->elts,
                                         wr->columns->nelts)) != NULL) {
            return as_body_error(err);
        }
    }
    rollback = wr->tx_rollback && cx->s.tx_override;
    w->max_affected_applies = wr->max_affected != AR_UNSET && req->strict
                              && (wr->kind == AR_WRITE_UPDATE || wr->kind == AR_WRITE_DELETE);
    /* Decided after the statement: tx=rollback, max-affected, and the
     * object media type's one row (PostgREST's PGRST116 writes nothing). */
    w->explicit_tx = rollback || w->max_affected_applies || w->plan.read.single;
    w->key_offset = w->plan.representation
                        ? (w->plan.read.columns->nelts ? w->plan.read.columns->nelts : 1)
                        : 1;
    w->inserted_column = w->key_offset
                         + (w->plan.key_back && w->plan.relation->primary_key
                                ? w->plan.relation->primary_key->cols->nelts : 0);
    if (w->plan.representation) {
        ar_resp_init(&w->resp, r, &cx->s, req, &w->plan.read, NULL);
        w->resp.set_headers = set_write_headers;
        w->resp.headers_ctx = w;
        w->resp.stream = 1;
        if (w->explicit_tx) /* the outcome is decided after the rows: hold them */
            ar_out_init(&w->resp.out, r->pool, 0, NULL, NULL);
    }

    /* From here the body is being consumed: no second attempt. */
    *done = 1;
    if (wr->kind == AR_WRITE_DELETE)
        err = flush_batch(w, 1);
    else if (cx->form_method)
        err = take_form(w);
    else
        err = read_body(w, wr->csv ? AR_BODY_CSV : AR_BODY_JSON);
    if (!err && w->plan.read.single && w->affected != 1)
        err = ar_error_make(r->pool, AR_ERR_NOT_ONE_ROW,
                            "JSON object requested, multiple (or no) rows returned",
                            apr_psprintf(r->pool, "The result contains %" APR_INT64_T_FMT " rows",
                                         w->affected), NULL);
    if (!err && w->max_affected_applies && w->affected > wr->max_affected)
        err = ar_error_make(r->pool, AR_ERR_MAX_AFFECTED,
                            "Query result exceeds max-affected preference constraint",
                            apr_psprintf(r->pool, "The query affects %" APR_INT64_T_FMT " rows",
                                         w->affected), NULL);
    if (w->copy_open) /* an error while a COPY took rows: make it fail */
        end_copy(w, "the request failed");
    commit = !err && !rollback;
    /* After an implicit transaction (one statement, no BEGIN) the Sync has
     * ended it: this only makes sure, rolling back whatever is still open. */
    end_err = ar_db_end(r->pool, cx->conn, cx->conn_state, commit && w->explicit_tx);
    if (!err && commit)
        err = end_err;
    if (err)
        withhold_hidden(w, err);
    if (err && w->restless)
        ar_restless_error(w, err);
    if (w->resp.streaming) {
        ar_resp_finish_streaming(&w->resp, err);
        return NULL;
    }
    if (err)
        return err;
    if (w->restless)
        return (ar_restless_respond(w), NULL);
    return respond(w);
}
