/*
 * mod_autorest_response.c: what goes back to the client. Errors as JSON
 * (PostgREST's or Flask-Restless's shape), bodies held whole or streamed in
 * chunks through the filter chain, and the paging headers (Content-Range,
 * Link, Preference-Applied).
 */
#include <stdlib.h>
#include <string.h>

#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>
#include <util_filter.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "mod_autorest_glue.h"

const char *const ar_media_types[] = {
    [AR_MEDIA_JSON] = JSON_TYPE,
    [AR_MEDIA_OBJECT] = "application/vnd.pgrst.object+json; charset=utf-8",
    [AR_MEDIA_CSV] = "text/csv; charset=utf-8",
    [AR_MEDIA_NDJSON] = "application/x-ndjson; charset=utf-8",
    [AR_MEDIA_PLAN_TEXT] = NULL, [AR_MEDIA_PLAN_JSON] = NULL, [AR_MEDIA_OPENAPI] = NULL,
    [AR_MEDIA_HTML] = "text/html; charset=utf-8",
};

const char *ar_resp_single_type(ar_media planned, ar_media asked)
{
    return ar_media_types[planned == AR_MEDIA_CSV || planned == AR_MEDIA_NDJSON ? planned
                          : asked == AR_MEDIA_OBJECT                         ? AR_MEDIA_OBJECT
                                                                             : AR_MEDIA_JSON];
}

/* Flask-Restless's error bodies are {"message": ...} and nothing else. */
static const char *restless_error_json(apr_pool_t *p, const ar_error *err)
{
    ar_out o;

    ar_out_init(&o, p, 0, NULL, NULL);
    ar_out_puts(&o, "{\"message\":");
    ar_json_write_string(&o, err->message, strlen(err->message));
    ar_out_puts(&o, "}");
    ar_out_write(&o, "", 1);
    return o.buf;
}

/* Text a function chose for a header: no control characters (a CR or LF
 * would start a header of the client's choosing). */
static int header_safe(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

/* A status a function chose, with its reason phrase, or httpd's (which
 * knows no phrase for some: then "Status"). */
static void chosen_status(request_rec *r, int status, const char *reason)
{
    if (!reason || !*reason || !header_safe(reason)) {
        const char *line = ap_get_status_line(status);
        reason = atoi(line) == status ? line + 4 : "Status";
    }
    r->status = status;
    r->status_line = apr_psprintf(r->pool, "%03d %s", status, reason);
}

/* The status line and headers a function raised (RAISE SQLSTATE 'PGRST'
 * or 'PTnnn'), as far as they are safe to send. */
static void raised_status(request_rec *r, const ar_error *err, int status)
{
    int i;

    chosen_status(r, status, err->status_text);
    for (i = 0; err->headers && i < err->headers->nelts; i++) {
        const ar_call_param *h = &APR_ARRAY_IDX(err->headers, i, ar_call_param);
        if (*h->name && header_safe(h->name) && !strchr(h->name, ':') && header_safe(h->value))
            apr_table_setn(r->headers_out, h->name, h->value);
    }
}

/* What the filter that runs before the first byte does. */
typedef struct {
    const ar_response_settings *asked;  /* NULL: no function could ask */
    const ar_outcome *outcome;          /* NULL: no after_statement hook */
} first_byte;

/* What functions asked of the response in the request's transaction. A
 * response that streams leaves before its statement ended, so it carries
 * what the pre-request asked; a held one (up to HOLD_BYTES) also what the
 * statement asked. Not on errors: their transaction was undone, and with it
 * what was asked. */
static void apply_asked(request_rec *r, const ar_response_settings *asked)
{
    int i;

    if (asked->headers) {
        apr_array_header_t *list = ar_response_headers_parse(r->pool, asked->headers);
        for (i = 0; list && i < list->nelts; i++) {
            const ar_call_param *h = &APR_ARRAY_IDX(list, i, ar_call_param);
            if (!*h->name || !header_safe(h->name) || strchr(h->name, ':')
                || !header_safe(h->value))
                continue;
            if (strcasecmp(h->name, "Content-Type") == 0)
                ap_set_content_type(r, h->value);
            else
                apr_table_set(r->headers_out, h->name, h->value);
        }
        if (!list)
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "response.headers is not a JSON "
                          "array of one-key objects of strings: ignored");
    }
    if (asked->status) {
        int status = ar_response_status_parse(asked->status);
        if (status)
            chosen_status(r, status, NULL);
        else
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                          "response.status '%s' is no HTTP status: ignored", asked->status);
    }
}

/* The functions' wishes first, then other modules' hooks, which see the
 * status and headers those made. */
static apr_status_t first_byte_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    const first_byte *fb = f->ctx;

    ap_remove_output_filter(f);
    if (fb->asked && f->r->status < 400)
        apply_asked(f->r, fb->asked);
    if (fb->outcome)
        ar_hooks_after(f->r, fb->outcome);
    return ap_pass_brigade(f->next, bb);
}

void ar_resp_register_filters(void)
{
    ap_register_output_filter(AR_FIRST_BYTE_FILTER, first_byte_filter, NULL,
                              AP_FTYPE_CONTENT_SET);
}

void ar_resp_before_first_byte(request_rec *r, ar_response_settings *asked,
                               ar_outcome *outcome)
{
    first_byte *fb;

    if (!asked && !outcome)
        return;
    fb = apr_palloc(r->pool, sizeof(*fb));
    fb->asked = asked;
    fb->outcome = outcome;
    ap_add_output_filter(AR_FIRST_BYTE_FILTER, fb, r, r->connection);
}

const char *ar_resp_request_id(request_rec *r)
{
    const char *id = apr_table_get(r->subprocess_env, "UNIQUE_ID");

    return id ? id : r->log_id ? r->log_id : "-";
}

/* The whole answer is in bb: it ends, and leaves now, not when httpd ends
 * the request. The event MPM looks for a pipelined next request before it
 * writes what is still buffered; an answer still held then has not reached
 * the client, whose next request cannot have come, so the connection went
 * back to the listener thread (two epoll_ctl, a wake-up) after every
 * request. Written here, the next request is often there at that look. */
static void send_whole(request_rec *r, apr_bucket_brigade *bb)
{
    conn_rec *c = r->connection;

    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(c->bucket_alloc));
    if (ap_pass_brigade(r->output_filters, bb) != APR_SUCCESS)
        return;
    apr_brigade_cleanup(bb);
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_flush_create(c->bucket_alloc));
    ap_pass_brigade(c->output_filters, bb);
}

/* send_whole of a body in memory (an error's too). */
static void send_bytes(request_rec *r, const char *body, apr_size_t len)
{
    apr_bucket_brigade *bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);

    if (len)
        APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_transient_create(body, len,
                                                                r->connection->bucket_alloc));
    send_whole(r, bb);
}

int ar_resp_send_error(request_rec *r, const settings *s, const ar_error *err)
{
    int status = ar_error_status(err), html = ar_browse_wanted(r, s);
    apr_size_t len = 0;
    const char *body = html ? ar_html_error(r->pool, status, err, apr_pstrmemdup(
                                  r->pool, s->location, ar_location_base_len(s->location)), &len)
                       : s->dialect == AR_DIALECT_RESTLESS ? restless_error_json(r->pool, err)
                                                           : ar_error_json(r->pool, err);

    if (status >= 500)
        /* every 5xx: its code (the SQLSTATE for the database's) and the
         * request's id, to find it in the access log */
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "%s (request %s): %s", err->code,
                      ar_resp_request_id(r), err->log ? err->log : err->message);
    else if (err->log)
        /* a role refused is the admin's to see: a map or a grant is missing */
        ap_log_rerror(APLOG_MARK, err->kind == AR_ERR_ROLE_REFUSED ? APLOG_WARNING : APLOG_INFO,
                      0, r, "%s: %s", err->code, err->log);
    if (status == HTTP_UNAUTHORIZED)
        ar_role_challenge(r);
    if (err->kind == AR_ERR_DB_RETRY)
        /* a serialization failure or deadlock undid everything: send it again */
        apr_table_setn(r->headers_out, "Retry-After", "1");
    /* the Location's methods, unless the runner knew better (a call's) */
    if (err->kind == AR_ERR_METHOD && !apr_table_get(r->headers_out, "Allow"))
        apr_table_setn(r->headers_out, "Allow", ar_conf_allow_header(r->pool, s->methods));
    if (err->kind == AR_ERR_DB_CUSTOM)
        raised_status(r, err, status);
    ar_cond_forget(r);
    r->status = status;
    if (html)
        ar_browse_headers(r);
    ap_set_content_type(r, html ? ar_media_types[AR_MEDIA_HTML] : JSON_TYPE);
    len = strlen(body);
    ap_set_content_length(r, (apr_off_t)len);
    send_bytes(r, body, len);
    return OK;
}

int ar_resp_send_body(request_rec *r, const char *type, const char *body, apr_size_t len)
{
    ap_set_content_type(r, type);
    if (ar_cond_body(r, body, len))
        return OK; /* 304: the client has it */
    ap_set_content_length(r, (apr_off_t)len);
    send_bytes(r, body, len);
    return OK;
}

const char *ar_resp_percent_encode(apr_pool_t *p, const char *s, const char *keep)
{
    char *out = apr_palloc(p, strlen(s) * 3 + 1), *o = out;

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x80 && (apr_isalnum(c) || (c && strchr(keep, c))))
            *o++ = (char)c;
        else
            o += apr_snprintf(o, 4, "%%%02X", c);
    }
    *o = '\0';
    return out;
}

/* Clients send bytes a URI may not hold (curl passes '>' of a JSON path as
 * is); in a Link header's <...> they would end the reference early.
 * Percent-encodes them, keeping existing %-escapes. */
static const char *uri_safe(apr_pool_t *p, const char *s)
{
    return ar_resp_percent_encode(p, s, "-._~!$&'()*+,;=:@/?%");
}

/* The query string without the named parameters (still %-encoded), for
 * Link headers that keep the client's filters, select and order. */
static const char *args_without(apr_pool_t *p, const char *args, const char *const *names)
{
    apr_array_header_t *kept = apr_array_make(p, 8, sizeof(const char *));
    char *copy = apr_pstrdup(p, args ? args : ""), *state = NULL, *pair;

    for (pair = apr_strtok(copy, "&", &state); pair; pair = apr_strtok(NULL, "&", &state)) {
        const char *const *n;
        int drop = 0;
        apr_size_t klen = strcspn(pair, "=");

        for (n = names; *n; n++)
            drop |= strlen(*n) == klen && strncmp(pair, *n, klen) == 0;
        if (!drop)
            APR_ARRAY_PUSH(kept, const char *) = apr_pstrcat(p, uri_safe(p, pair), "&", NULL);
    }
    return apr_array_pstrcat(p, kept, 0);
}


/* Keeps the sort-key values of the row just written, for the next page's
 * cursor, in buffers reused row after row (an export stays flat). */
static void remember_key(response *resp, const ar_row *row)
{
    int i, n = resp->plan->order->nelts;

    for (i = 0; i < n; i++) {
        int len;
        const char *v = ar_db_row_value(row, resp->plan->key_columns[i], &len);

        if (!v) {
            resp->last_key[i] = NULL;
            continue;
        }
        if (!resp->last_key[i] || resp->last_key_cap[i] < (apr_size_t)len + 1) {
            resp->last_key_cap[i] = (apr_size_t)len * 2 + 16;
            resp->last_key[i] = apr_palloc(resp->r->pool, resp->last_key_cap[i]);
        }
        memcpy(resp->last_key[i], v, (apr_size_t)len);
        resp->last_key[i][len] = '\0';
    }
}

static int restless_collection(const response *resp)
{
    return resp->s->dialect == AR_DIALECT_RESTLESS && !resp->plan->single
           && resp->plan->media != AR_MEDIA_NDJSON;
}

/* The total the client asked to count, once the count statements ran;
 * AR_UNSET when not asked. estimated: exact up to the row cap, the
 * planner's estimate beyond it (as PostgREST does). */
apr_int64_t ar_resp_total_rows(const response *resp)
{
    const char **v = resp->counts;

    switch (resp->plan->count) {
    case AR_COUNT_EXACT:
        return v[0] ? apr_atoi64(v[0]) : 0;
    case AR_COUNT_PLANNED:
        return ar_sql_plan_rows(v[0]);
    case AR_COUNT_ESTIMATED: {
        apr_int64_t bounded = v[0] ? apr_atoi64(v[0]) : 0;
        apr_int64_t planned = ar_sql_plan_rows(v[1]);
        return bounded <= resp->s->count_threshold ? bounded
               : planned > bounded                 ? planned
                                                   : bounded;
    }
    default:
        return AR_UNSET;
    }
}

void ar_resp_open_document(response *resp)
{
    resp->opened = 1;
    if (resp->html) {
        ar_html_open(&resp->out, resp->html);
    }
    else if (resp->plan->media == AR_MEDIA_CSV) {
        ar_csv_write_header(&resp->out, resp->plan->columns);
    }
    else if (restless_collection(resp)) {
        apr_int64_t total = ar_resp_total_rows(resp), n = resp->per_page;
        ar_out_puts(&resp->out, apr_psprintf(
            resp->r->pool, "{\"num_results\":%" APR_INT64_T_FMT ",\"page\":%" APR_INT64_T_FMT
            ",\"total_pages\":%" APR_INT64_T_FMT ",\"objects\":[", total,
            n > 0 ? resp->plan->offset / n + 1 : 1, n > 0 ? (total + n - 1) / n : 0));
    }
    else if (!resp->plan->single && resp->plan->media != AR_MEDIA_NDJSON) {
        ar_out_puts(&resp->out, "[");
    }
}

void ar_resp_close_document(response *resp)
{
    if (!resp->opened)
        ar_resp_open_document(resp);
    if (resp->html) { /* its links and range: the headers are set by now */
        ar_html_close(&resp->out, resp->html, resp->rows,
                      apr_table_get(resp->r->headers_out, "Link"),
                      apr_table_get(resp->r->headers_out, "Content-Range"));
        return;
    }
    if (resp->plan->media == AR_MEDIA_CSV || resp->plan->media == AR_MEDIA_NDJSON)
        return;
    if (restless_collection(resp))
        ar_out_puts(&resp->out, "]}");
    else if (!resp->plan->single)
        ar_out_puts(&resp->out, "]");
}

void ar_resp_collection_headers(response *resp, int complete);

/* ar_out's flush. While the response is held, chunks join the brigade as
 * pool buckets (the chunk is the sink's no more); the chunk that passes
 * HOLD_BYTES commits the headers and sends what is held. Later chunks are
 * sent as transient buckets, which httpd copies only if it must set them
 * aside, so the sink fills the same chunk again. A failed pass means the
 * client went away. */
/* A chunk joins the held body as it is: the sink gives it up (AR_OUT_KEPT). */
static void hold_chunk(response *resp, const char *data, apr_size_t len)
{
    request_rec *r = resp->r;

    APR_BRIGADE_INSERT_TAIL(resp->bb, apr_bucket_pool_create(data, len, r->pool,
                                                             r->connection->bucket_alloc));
    resp->held += len;
}

int ar_resp_flush_to_client(void *ctx, const char *data, apr_size_t len)
{
    response *resp = ctx;
    request_rec *r = resp->r;
    apr_bucket_alloc_t *ba = r->connection->bucket_alloc;
    int kept = !resp->streaming;
    apr_status_t rv;

    if (kept) {
        hold_chunk(resp, data, len);
        if (resp->held < HOLD_BYTES)
            return AR_OUT_KEPT;
        resp->streaming = 1;
        if (resp->outcome)
            resp->outcome->rows = -1; /* the headers go before the last row */
        if (resp->set_headers)
            resp->set_headers(resp->headers_ctx);
        else
            ar_resp_collection_headers(resp, 0);
    }
    else {
        APR_BRIGADE_INSERT_TAIL(resp->bb, apr_bucket_transient_create(data, len, ba));
    }
    rv = ap_pass_brigade(r->output_filters, resp->bb);
    apr_brigade_cleanup(resp->bb);
    if (rv != APR_SUCCESS || r->connection->aborted)
        return AR_OUT_FAILED;
    return kept ? AR_OUT_KEPT : AR_OUT_DONE;
}

/* The held body, whole: headers are set, Content-Length is exact. The last
 * chunk joins the brigade here, not through ar_resp_flush_to_client, which would
 * start streaming if it passed HOLD_BYTES. */
void ar_resp_send_held(response *resp)
{
    request_rec *r = resp->r;

    if (resp->out.len) {
        hold_chunk(resp, resp->out.buf, resp->out.len);
        resp->out.len = 0;
    }
    if (ar_cond_brigade(r, resp->bb))
        apr_brigade_cleanup(resp->bb); /* 304: the client has it */
    else
        ap_set_content_length(r, (apr_off_t)resp->held);
    send_whole(r, resp->bb);
}

int ar_resp_on_row(void *ctx, const ar_row *row)
{
    response *resp = ctx;
    const ar_read_plan *plan = resp->plan;

    if (plan->probe_next && resp->rows == plan->limit) {
        resp->more = 1; /* the LIMIT made this the last row anyway */
        /* A bounded page is one PGresult: the previous row is still there,
         * and only now is it known to be the last (the cursor's key). */
        if (plan->keyset && !resp->stream && resp->last_row.res)
            remember_key(resp, &resp->last_row);
        return 0;
    }
    if (!resp->opened)
        ar_resp_open_document(resp);
    ar_db_row_values(row, resp->format->ncols, resp->values, resp->lens);
    if (resp->html) {
        ar_html_row(&resp->out, resp->html, resp->format, resp->values, resp->lens);
    }
    else if (plan->media == AR_MEDIA_CSV) {
        ar_csv_write_row(&resp->out, resp->format->ncols, resp->values, resp->lens);
    }
    else {
        const int next = resp->rows && !plan->single && plan->media != AR_MEDIA_NDJSON;

        if (resp->scalar) {
            if (next)
                ar_out_write(&resp->out, ",", 1);
            ar_json_write_value(&resp->out, resp->format->enc[0], resp->format->elem_enc[0],
                                resp->values[0], (apr_size_t)resp->lens[0]);
        }
        else if (next)
            ar_json_write_next_row(&resp->out, resp->format, resp->values, resp->lens);
        else
            ar_json_write_row(&resp->out, resp->format, resp->values, resp->lens);
        if (plan->media == AR_MEDIA_NDJSON)
            ar_out_write(&resp->out, "\n", 1);
    }
    resp->rows++;
    ++*resp->rows_sent;
    if (resp->outcome && !resp->streaming)
        resp->outcome->rows = resp->rows;
    if (plan->keyset) {
        if (resp->stream)
            remember_key(resp, row); /* its result is cleared after this call */
        else
            resp->last_row = *row;
    }
    return resp->out.failed ? -1 : 0;
}

static const char *page_link(response *resp, const char *base, apr_int64_t a, apr_int64_t b,
                             const char *rel)
{
    if (resp->s->dialect == AR_DIALECT_RESTLESS)
        return apr_psprintf(resp->r->pool, "<%s?%spage=%" APR_INT64_T_FMT
                            "&results_per_page=%" APR_INT64_T_FMT ">; rel=\"%s\"",
                            ap_escape_uri(resp->r->pool, resp->r->uri), base, a, b, rel);
    return apr_psprintf(resp->r->pool, "<%s?%slimit=%" APR_INT64_T_FMT "&offset=%"
                        APR_INT64_T_FMT ">; rel=\"%s\"",
                        ap_escape_uri(resp->r->pool, resp->r->uri), base, a, b, rel);
}

/* n in decimal: apr_psprintf's formatter cost every page's headers about
 * 1,200 instructions a call (apr_off_t is 64 bits wide on every 64-bit
 * system and with large files; the formatter stays for the rest). */
static const char *decimal(apr_pool_t *p, apr_int64_t n)
{
    if (sizeof(apr_off_t) >= sizeof(apr_int64_t))
        return apr_off_t_toa(p, (apr_off_t)n);
    return apr_psprintf(p, "%" APR_INT64_T_FMT, n);
}

/* rel="next" by keyset: the cursor of the last row written. */
static const char *cursor_link(response *resp, const char *base, apr_int64_t position)
{
    const ar_read_plan *plan = resp->plan;
    const char *token = ar_cursor_encode(
        resp->r->pool, resp->s->cursor_key, resp->s->cursor_key_len,
        ar_cursor_shape(resp->r->pool, plan), position,
        (const char *const *)resp->last_key, plan->order->nelts);

    if (!token)
        return NULL;
    return apr_pstrcat(resp->r->pool, "<", ap_escape_uri(resp->r->pool, resp->r->uri), "?",
                       base, "limit=", decimal(resp->r->pool, plan->limit), "&cursor=", token,
                       ">; rel=\"next\"", NULL);
}

static void set_links(response *resp, apr_int64_t total, int more, int complete)
{
    static const char *const postgrest_paging[] = {"limit", "offset", "cursor", NULL};
    static const char *const restless_paging[] = {"page", "results_per_page", NULL};
    request_rec *r = resp->r;
    const ar_read_plan *plan = resp->plan;
    apr_array_header_t *links;

    if (resp->no_links)
        return;
    links = apr_array_make(r->pool, 3, sizeof(const char *));
    apr_int64_t first = plan->skipped + plan->offset, n;
    const char *base, *next;

    if (resp->s->dialect == AR_DIALECT_RESTLESS) {
        apr_int64_t page, last;
        n = resp->per_page;
        if (n <= 0)
            return;
        base = args_without(r->pool, r->args, restless_paging);
        page = first / n + 1;
        last = total > 0 ? (total + n - 1) / n : 1;
        if (page < last)
            APR_ARRAY_PUSH(links, const char *) = page_link(resp, base, page + 1, n, "next");
        APR_ARRAY_PUSH(links, const char *) = page_link(resp, base, last, n, "last");
    }
    else {
        n = plan->limit;
        if (n == AR_UNSET || n <= 0)
            return;
        base = args_without(r->pool, r->args, postgrest_paging);
        /* Keyset when the order allows it and the last row is known (not a
         * page that streamed before its end); offset otherwise. */
        next = more && plan->keyset && complete && resp->rows > 0
                   ? cursor_link(resp, base, first + resp->rows)
                   : NULL;
        if (more)
            APR_ARRAY_PUSH(links, const char *) =
                next ? next : page_link(resp, base, n, first + n, "next");
        if (first > 0) {
            APR_ARRAY_PUSH(links, const char *) =
                page_link(resp, base, n, first > n ? first - n : 0, "prev");
            APR_ARRAY_PUSH(links, const char *) = page_link(resp, base, n, 0, "first");
        }
    }
    if (links->nelts)
        apr_table_setn(r->headers_out, "Link", apr_array_pstrcat(r->pool, links, ','));
}

/*
 * Content-Range, Link, Preference-Applied, Content-Profile, Content-Type and
 * 206. complete: every row is in hand, so the counts are exact. Otherwise (a
 * page larger than HOLD_BYTES) they are what the plan promises: the
 * requested range, and rel="next" whenever the page was limited.
 */
void ar_resp_collection_headers(response *resp, int complete)
{
    request_rec *r = resp->r;
    const ar_read_plan *plan = resp->plan;
    apr_int64_t first = plan->skipped + plan->offset, n = resp->rows;
    apr_int64_t total = ar_resp_total_rows(resp);
    int more = resp->more;
    const char *range, *of;
    apr_array_header_t *applied = apr_array_make(r->pool, 2, sizeof(const char *));

    if (!complete) {
        n = plan->limit != AR_UNSET ? plan->limit : 0;
        more = plan->limit != AR_UNSET;
    }
    if (total == AR_UNSET && complete && !more && (n > 0 || first == 0))
        total = first + n; /* the page reached the end */
    of = total == AR_UNSET ? "*" : decimal(r->pool, total);
    if (n == 0)
        range = apr_pstrcat(r->pool, "*/", of, NULL);
    else
        range = apr_pstrcat(r->pool, decimal(r->pool, first), "-",
                            decimal(r->pool, first + n - 1), "/", of, NULL);
    if (complete || plan->limit != AR_UNSET)
        apr_table_setn(r->headers_out, "Content-Range", range);
    apr_table_setn(r->headers_out, "Range-Unit", "items");
    set_links(resp, total, more, complete);

    if (plan->count != AR_COUNT_NONE && resp->s->dialect == AR_DIALECT_POSTGREST) {
        static const char *const names[] = {"", "count=exact", "count=planned",
                                            "count=estimated"};
        APR_ARRAY_PUSH(applied, const char *) = names[plan->count];
        /* 206 when the page is not the whole result, as PostgREST answers. */
        if (complete && total != AR_UNSET && n > 0 && (first > 0 || first + n < total))
            r->status = HTTP_PARTIAL_CONTENT;
    }
    if (resp->req->strict)
        APR_ARRAY_PUSH(applied, const char *) = "handling=strict";
    if (applied->nelts)
        apr_table_setn(r->headers_out, "Preference-Applied",
                       apr_array_pstrcat(r->pool, applied, ','));
    ap_set_content_type(r, ar_media_types[plan->media]);
}

/* Ends a response whose headers already went out: a clean end of the
 * document, or, when the query failed midway, a broken connection the
 * client cannot mistake for a complete one. */
void ar_resp_finish_streaming(response *resp, const ar_error *err)
{
    request_rec *r = resp->r;

    if (err) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "query failed after the response began: %s (request %s): %s", err->code,
                      ar_resp_request_id(r), err->log ? err->log : err->message);
        r->connection->keepalive = AP_CONN_CLOSE;
        apr_brigade_cleanup(resp->bb);
        APR_BRIGADE_INSERT_TAIL(resp->bb, ap_bucket_error_create(
                                              HTTP_BAD_GATEWAY, NULL, r->pool,
                                              r->connection->bucket_alloc));
        APR_BRIGADE_INSERT_TAIL(resp->bb, apr_bucket_eos_create(r->connection->bucket_alloc));
        ap_pass_brigade(r->output_filters, resp->bb);
        return;
    }
    if (!resp->out.failed) {
        ar_resp_close_document(resp);
        ar_out_flush(&resp->out);
    }
    if (resp->out.failed)
        return; /* the client left; nothing more to say */
    APR_BRIGADE_INSERT_TAIL(resp->bb, apr_bucket_eos_create(r->connection->bucket_alloc));
    ap_pass_brigade(r->output_filters, resp->bb);
}

void ar_resp_init(response *resp, request_rec *r, const settings *s,
                  const ar_read_request *req, const ar_read_plan *plan,
                  const ar_row_format *format)
{
    ar_request_state *state = ar_request_state_get(r);

    resp->r = r;
    resp->s = s;
    resp->req = req;
    resp->plan = plan;
    resp->format = format ? format : ar_row_format_make(r->pool, plan->columns);
    resp->values = apr_palloc(r->pool, sizeof(char *) * (plan->columns->nelts + 1));
    resp->lens = apr_palloc(r->pool, sizeof(int) * (plan->columns->nelts + 1));
    resp->bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    resp->outcome = state->outcome;
    resp->rows_sent = &state->rows;
    resp->counts = apr_pcalloc(r->pool, sizeof(char *) * MAX_PRE_STATEMENTS);
    resp->last_key = apr_pcalloc(r->pool, sizeof(char *) * (plan->order->nelts + 1));
    resp->last_key_cap = apr_pcalloc(r->pool, sizeof(apr_size_t) * (plan->order->nelts + 1));
    if (plan->single)
        ar_out_init(&resp->out, r->pool, 0, NULL, NULL);
    else
        ar_out_init(&resp->out, r->pool, CHUNK_BYTES, ar_resp_flush_to_client, resp);
}
