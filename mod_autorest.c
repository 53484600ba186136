/*
 * mod_autorest.c: the httpd glue. The only file that speaks HTTP.
 *
 * It owns: the directives and their per-directory merging, the per-child
 * schema cache, the handler (route, borrow a connection from mod_dbd, run the
 * core's stages, write headers and stream the body through the filter
 * chain), and turning ar_error values into JSON responses.
 */
#include <string.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <util_filter.h>
#include <apr_dbd.h>
#include <mod_dbd.h>
#include <apr_optional.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "autorest.h"

module AP_MODULE_DECLARE_DATA autorest_module;

#define JSON_TYPE "application/json; charset=utf-8"
#define ALLOWED_METHODS "GET, HEAD, OPTIONS"

/* Bytes of a response held back before the first one is sent. A page that
 * fits gets exact Content-Range and Link headers and a Content-Length; a
 * larger one streams with headers decided up front (see send_collection).
 * The body is written in chunks: held ones go to the brigade as they are,
 * without a copy; once streaming, one chunk is filled and sent again. */
#define HOLD_BYTES (1024 * 1024)
#define CHUNK_BYTES (64 * 1024)

/* Pages of up to this many rows come from PostgreSQL as one result, which
 * costs less per row than single-row mode; larger ones (exports) stream. */
#define STREAM_ABOVE_ROWS 1000
/* Statements before the rows: two counts (Prefer: count=estimated) and
 * the parent's row of a relationship route. */
#define MAX_PRE_STATEMENTS 3

/* What a malloc arena keeps before it gives memory back (see child_init). */
#define MALLOC_TRIM_THRESHOLD (4 * 1024 * 1024)

/* An unknown relation refreshes the cache at most this often, so a client
 * probing names cannot turn every request into a catalogue scan. */
#define UNKNOWN_REFRESH_INTERVAL apr_time_from_sec(1)

static APR_OPTIONAL_FN_TYPE(ap_dbd_acquire) *dbd_acquire;

/* ------------------------------------------------------------ directives */

typedef struct {
    const char *location;          /* the <Location> path these settings came from */
    apr_array_header_t *schemas;   /* NULL: unset */
    apr_hash_t *excluded;          /* NULL: unset */
    apr_hash_t *hidden;            /* NULL: unset */
    apr_int64_t max_rows;          /* AR_UNSET: unset */
    int timeout;                   /* seconds; AR_UNSET: unset */
    int schema_max_age;            /* seconds; AR_UNSET: unset */
    int dialect;                   /* ar_dialect; AR_UNSET: unset */
    const char *cursor_secret;     /* NULL: unset */
} dir_conf;

#define AR_DEFAULT_MAX_ROWS 1000
#define AR_DEFAULT_TIMEOUT 10
#define AR_DEFAULT_SCHEMA_MAX_AGE 60

static void *create_dir_conf(apr_pool_t *p, char *dir)
{
    dir_conf *c = apr_pcalloc(p, sizeof(*c));

    c->location = dir;
    c->max_rows = AR_UNSET;
    c->timeout = AR_UNSET;
    c->schema_max_age = AR_UNSET;
    c->dialect = AR_UNSET;
    return c;
}

/* Exclusions and hidden columns accumulate down nested Locations: an inner
 * block can hide more, never reveal what an outer one hid. */
static apr_hash_t *merge_sets(apr_pool_t *p, apr_hash_t *base, apr_hash_t *add)
{
    if (!base)
        return add;
    if (!add)
        return base;
    return apr_hash_overlay(p, add, base);
}

static void *merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
    dir_conf *base = basev, *add = addv, *c = apr_pcalloc(p, sizeof(*c));

    c->location = add->location ? add->location : base->location;
    c->schemas = add->schemas ? add->schemas : base->schemas;
    c->excluded = merge_sets(p, base->excluded, add->excluded);
    c->hidden = merge_sets(p, base->hidden, add->hidden);
    c->max_rows = add->max_rows != AR_UNSET ? add->max_rows : base->max_rows;
    c->timeout = add->timeout != AR_UNSET ? add->timeout : base->timeout;
    c->schema_max_age =
        add->schema_max_age != AR_UNSET ? add->schema_max_age : base->schema_max_age;
    c->dialect = add->dialect != AR_UNSET ? add->dialect : base->dialect;
    c->cursor_secret = add->cursor_secret ? add->cursor_secret : base->cursor_secret;
    return c;
}

static const char *set_schemas(cmd_parms *cmd, void *cfg, const char *arg)
{
    dir_conf *c = cfg;

    if (!c->schemas)
        c->schemas = apr_array_make(cmd->pool, 2, sizeof(const char *));
    APR_ARRAY_PUSH(c->schemas, const char *) = arg;
    return NULL;
}

static const char *dotted_name(cmd_parms *cmd, const char *arg, int parts)
{
    const char *s;
    int dots = 0;

    for (s = arg; *s; s++)
        dots += *s == '.';
    if (dots != parts - 1 || arg[0] == '.' || s[-1] == '.' || strstr(arg, ".."))
        return apr_psprintf(cmd->pool, "%s: '%s' is not %s", cmd->cmd->name, arg,
                            parts == 2 ? "schema.relation" : "schema.relation.column");
    return NULL;
}

static const char *set_exclude(cmd_parms *cmd, void *cfg, const char *arg)
{
    dir_conf *c = cfg;
    const char *err = dotted_name(cmd, arg, 2);

    if (err)
        return err;
    if (!c->excluded)
        c->excluded = apr_hash_make(cmd->pool);
    apr_hash_set(c->excluded, arg, APR_HASH_KEY_STRING, "");
    return NULL;
}

static const char *set_hide(cmd_parms *cmd, void *cfg, const char *arg)
{
    dir_conf *c = cfg;
    const char *err = dotted_name(cmd, arg, 3);

    if (err)
        return err;
    if (!c->hidden)
        c->hidden = apr_hash_make(cmd->pool);
    apr_hash_set(c->hidden, arg, APR_HASH_KEY_STRING, "");
    return NULL;
}

static const char *parse_seconds_or_count(cmd_parms *cmd, const char *arg,
                                          apr_int64_t max, apr_int64_t *out)
{
    char *end;
    apr_int64_t v = apr_strtoi64(arg, &end, 10);

    if (*arg == '\0' || *end != '\0' || v < 0 || v > max)
        return apr_psprintf(cmd->pool, "%s takes a whole number from 0 to %" APR_INT64_T_FMT,
                            cmd->cmd->name, max);
    *out = v;
    return NULL;
}

static const char *set_max_rows(cmd_parms *cmd, void *cfg, const char *arg)
{
    dir_conf *c = cfg;

    return parse_seconds_or_count(cmd, arg, APR_INT64_C(1000000000000), &c->max_rows);
}

static const char *set_int_seconds(cmd_parms *cmd, const char *arg, int *out)
{
    apr_int64_t v = 0;
    const char *err = parse_seconds_or_count(cmd, arg, 86400 * 365, &v);

    if (!err)
        *out = (int)v;
    return err;
}

static const char *set_timeout(cmd_parms *cmd, void *cfg, const char *arg)
{
    return set_int_seconds(cmd, arg, &((dir_conf *)cfg)->timeout);
}

static const char *set_schema_max_age(cmd_parms *cmd, void *cfg, const char *arg)
{
    return set_int_seconds(cmd, arg, &((dir_conf *)cfg)->schema_max_age);
}

static const char *set_dialect(cmd_parms *cmd, void *cfg, const char *arg)
{
    dir_conf *c = cfg;

    if (strcasecmp(arg, "postgrest") == 0)
        c->dialect = AR_DIALECT_POSTGREST;
    else if (strcasecmp(arg, "restless") == 0)
        c->dialect = AR_DIALECT_RESTLESS;
    else
        return "AutoRestDialect is postgrest or restless";
    return NULL;
}

static const char *set_cursor_secret(cmd_parms *cmd, void *cfg, const char *arg)
{
    if (strlen(arg) < 16)
        return "AutoRestCursorSecret needs at least 16 characters";
    ((dir_conf *)cfg)->cursor_secret = arg;
    return NULL;
}

static const command_rec autorest_cmds[] = {
    AP_INIT_ITERATE("AutoRestSchemas", set_schemas, NULL, ACCESS_CONF,
                    "PostgreSQL schemas served here; the first is the default"),
    AP_INIT_ITERATE("AutoRestExclude", set_exclude, NULL, ACCESS_CONF,
                    "schema.relation names never served"),
    AP_INIT_ITERATE("AutoRestHide", set_hide, NULL, ACCESS_CONF,
                    "schema.relation.column names never shown"),
    AP_INIT_TAKE1("AutoRestMaxRows", set_max_rows, NULL, ACCESS_CONF,
                  "most rows in one response (default 1000; 0 = no cap)"),
    AP_INIT_TAKE1("AutoRestTimeout", set_timeout, NULL, ACCESS_CONF,
                  "statement timeout in seconds per request (default 10; 0 = none)"),
    AP_INIT_TAKE1("AutoRestSchemaMaxAge", set_schema_max_age, NULL, ACCESS_CONF,
                  "seconds a reflected schema is trusted before it is read again "
                  "(default 60; 0 = until restart)"),
    AP_INIT_TAKE1("AutoRestDialect", set_dialect, NULL, ACCESS_CONF,
                  "postgrest (default) or restless: how collections and errors look"),
    AP_INIT_TAKE1("AutoRestCursorSecret", set_cursor_secret, NULL, ACCESS_CONF,
                  "key that signs keyset cursors (default: random per start of httpd)"),
    {NULL}
};

typedef struct {
    ar_exposure exposure;
    apr_int64_t max_rows;
    long timeout_ms;
    apr_interval_time_t schema_max_age;   /* 0: never expires */
    const char *location;
    ar_dialect dialect;
    apr_int64_t count_threshold;   /* count=estimated is exact up to here */
    const unsigned char *cursor_key;
    apr_size_t cursor_key_len;
} settings;

/* Signs cursors when no AutoRestCursorSecret is set: drawn in the parent at
 * start-up, so every child of one generation shares it; a restart makes
 * earlier cursors invalid (their clients get a 400 and start over). */
static unsigned char random_cursor_key[32];

static void effective_settings(const dir_conf *c, settings *s)
{
    static const char *const public_schema[] = {"public"};
    static apr_array_header_t dflt;

    if (!c->schemas) {
        dflt.nelts = 1;
        dflt.nalloc = 1;
        dflt.elt_size = sizeof(const char *);
        dflt.elts = (char *)public_schema;
    }
    s->exposure.schemas = c->schemas ? c->schemas : &dflt;
    s->exposure.excluded = c->excluded;
    s->exposure.hidden = c->hidden;
    s->max_rows = c->max_rows != AR_UNSET ? c->max_rows : AR_DEFAULT_MAX_ROWS;
    s->timeout_ms = 1000L * (c->timeout != AR_UNSET ? c->timeout : AR_DEFAULT_TIMEOUT);
    s->schema_max_age = apr_time_from_sec(
        c->schema_max_age != AR_UNSET ? c->schema_max_age : AR_DEFAULT_SCHEMA_MAX_AGE);
    s->location = c->location ? c->location : "";
    s->dialect = c->dialect != AR_UNSET ? (ar_dialect)c->dialect : AR_DIALECT_POSTGREST;
    s->count_threshold = s->max_rows > 0 ? s->max_rows : AR_DEFAULT_MAX_ROWS;
    if (c->cursor_secret) {
        s->cursor_key = (const unsigned char *)c->cursor_secret;
        s->cursor_key_len = strlen(c->cursor_secret);
    }
    else {
        s->cursor_key = random_cursor_key;
        s->cursor_key_len = sizeof(random_cursor_key);
    }
}

/* ---------------------------------------------------------- schema cache */

/*
 * One cache per child process, shared by its threads. Each entry (one
 * database pool and one list of schemas) points at its current snapshot. A
 * snapshot is immutable and reference-counted: the cache holds one
 * reference, each request using it another. A refresh builds a new snapshot
 * beside the old one and swaps the pointer; the old one is destroyed when its
 * last reader finishes, so no thread ever reads freed memory.
 */
typedef struct snapshot {
    ar_schema *schema;
    apr_pool_t *pool;
    int refs;
} snapshot;

typedef struct {
    snapshot *current;
    int refreshing;
    apr_time_t last_forced;
} cache_entry;

static apr_pool_t *cache_pool;
static apr_thread_mutex_t *cache_lock;
static apr_hash_t *cache;

static void snapshot_unref_locked(snapshot *snap)
{
    if (--snap->refs == 0)
        apr_pool_destroy(snap->pool);
}

static apr_status_t snapshot_release(void *data)
{
    apr_thread_mutex_lock(cache_lock);
    snapshot_unref_locked(data);
    apr_thread_mutex_unlock(cache_lock);
    return APR_SUCCESS;
}

static cache_entry *cache_entry_for(request_rec *r, const settings *s)
{
    const char *key = apr_psprintf(r->pool, "%pp|", (void *)r->server);
    cache_entry *e;
    int i;

    for (i = 0; i < s->exposure.schemas->nelts; i++)
        key = apr_pstrcat(r->pool, key, APR_ARRAY_IDX(s->exposure.schemas, i, const char *),
                          "|", NULL);
    e = apr_hash_get(cache, key, APR_HASH_KEY_STRING);
    if (!e) {
        e = apr_pcalloc(cache_pool, sizeof(*e));
        apr_hash_set(cache, apr_pstrdup(cache_pool, key), APR_HASH_KEY_STRING, e);
    }
    return e;
}

static ar_error *reflect_into_snapshot(request_rec *r, PGconn *conn, const settings *s,
                                       snapshot **out)
{
    apr_pool_t *pool;
    ar_schema *schema;
    ar_error *err;
    apr_array_header_t *schemas;

    /* Unmanaged: a snapshot outlives requests and is freed from any thread. */
    if (apr_pool_create_unmanaged(&pool) != APR_SUCCESS)
        return ar_error_make(r->pool, AR_ERR_CONFIG, "out of memory", NULL, NULL);
    schemas = apr_array_copy(pool, s->exposure.schemas);
    err = ar_reflect_load(conn, pool, schemas, &schema);
    if (err && err->kind == AR_ERR_DB_UNAVAILABLE && ar_db_usable(conn))
        err = ar_reflect_load(conn, pool, schemas, &schema);
    if (err) {
        ar_error *copy = ar_error_make(r->pool, err->kind, err->message, NULL, err->hint);
        copy->log = apr_pstrdup(r->pool, err->log);
        apr_pool_destroy(pool);
        return copy;
    }
    *out = apr_pcalloc(pool, sizeof(snapshot));
    (*out)->schema = schema;
    (*out)->pool = pool;
    (*out)->refs = 1; /* the cache's */
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                  "reflected %d relations", schema->relations->nelts);
    return NULL;
}

/*
 * The snapshot this request reads. stale: a snapshot the caller found out of
 * date (a relation or column it needs is gone or new); when it is still the
 * current one, this request replaces it. An expired snapshot is replaced by
 * one thread while the others keep serving it.
 */
static ar_error *snapshot_acquire(request_rec *r, PGconn *conn, const settings *s,
                                  const ar_schema *stale, const ar_schema **out)
{
    cache_entry *e;
    snapshot *snap, *fresh = NULL;
    int refresh;
    ar_error *err = NULL;

    apr_thread_mutex_lock(cache_lock);
    e = cache_entry_for(r, s);
    snap = e->current;
    if (!snap || (stale && snap->schema == stale))
        refresh = 1; /* this request cannot go on without a fresh one */
    else if (stale)
        refresh = 0; /* another thread has already swapped one in */
    else
        refresh = s->schema_max_age > 0 && !e->refreshing
                  && apr_time_now() - snap->schema->loaded_at > s->schema_max_age;
    if (refresh)
        e->refreshing = 1;
    apr_thread_mutex_unlock(cache_lock);

    if (refresh)
        err = reflect_into_snapshot(r, conn, s, &fresh);

    apr_thread_mutex_lock(cache_lock);
    if (refresh)
        e->refreshing = 0;
    if (fresh) {
        if (e->current)
            snapshot_unref_locked(e->current);
        e->current = fresh;
    }
    snap = e->current;
    if (snap) {
        snap->refs++;
        apr_pool_cleanup_register(r->pool, snap, snapshot_release, apr_pool_cleanup_null);
        *out = snap->schema;
        err = NULL; /* an older snapshot still serves */
    }
    apr_thread_mutex_unlock(cache_lock);
    if (err && snap)
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "schema refresh failed, serving the "
                      "previous one: %s", err->log ? err->log : err->message);
    return snap ? NULL : err;
}

/* Whether an unknown name may trigger a refresh now (rate-limited). */
static int may_refresh_for_unknown(request_rec *r, const settings *s)
{
    cache_entry *e;
    int ok;
    apr_time_t now = apr_time_now();

    apr_thread_mutex_lock(cache_lock);
    e = cache_entry_for(r, s);
    ok = now - e->last_forced >= UNKNOWN_REFRESH_INTERVAL;
    if (ok)
        e->last_forced = now;
    apr_thread_mutex_unlock(cache_lock);
    return ok;
}

/* ------------------------------------------------------------- responses */

static const char *const media_types[] = {
    [AR_MEDIA_JSON] = JSON_TYPE,
    [AR_MEDIA_OBJECT] = "application/vnd.pgrst.object+json; charset=utf-8",
    [AR_MEDIA_CSV] = "text/csv; charset=utf-8",
};

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

static int send_error(request_rec *r, ar_dialect dialect, const ar_error *err)
{
    const char *body = dialect == AR_DIALECT_RESTLESS ? restless_error_json(r->pool, err)
                                                      : ar_error_json(r->pool, err);
    int status = ar_error_status(err);

    if (err->log)
        ap_log_rerror(APLOG_MARK, status >= 500 ? APLOG_ERR : APLOG_INFO, 0, r,
                      "%s: %s", err->code, err->log);
    if (err->kind == AR_ERR_METHOD)
        apr_table_setn(r->headers_out, "Allow", ALLOWED_METHODS);
    r->status = status;
    ap_set_content_type(r, JSON_TYPE);
    ap_set_content_length(r, (apr_off_t)strlen(body));
    ap_rputs(body, r);
    return OK;
}

static int send_body(request_rec *r, const char *type, const char *body, apr_size_t len)
{
    ap_set_content_type(r, type);
    ap_set_content_length(r, (apr_off_t)len);
    ap_rwrite(body, (int)len, r);
    return OK;
}

/* Clients send bytes a URI may not hold (curl passes '>' of a JSON path as
 * is); in a Link header's <...> they would end the reference early.
 * Percent-encodes them, keeping existing %-escapes. */
static const char *uri_safe(apr_pool_t *p, const char *s)
{
    static const char allowed[] = "-._~!$&'()*+,;=:@/?%";
    char *out = apr_palloc(p, strlen(s) * 3 + 1), *o = out;

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x80 && (apr_isalnum(c) || (c && strchr(allowed, c))))
            *o++ = (char)c;
        else
            o += apr_snprintf(o, 4, "%%%02X", c);
    }
    *o = '\0';
    return out;
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

/* One response, from its first row to its last byte. */
typedef struct {
    request_rec *r;
    const settings *s;
    const ar_read_request *req;
    const ar_read_plan *plan;
    const ar_row_format *format;
    ar_out out;
    apr_bucket_brigade *bb;
    const char **values;
    int *lens;
    apr_int64_t rows;          /* written */
    int more;                  /* the probe row came: another page follows */
    int streaming;             /* headers are out; the body is flowing */
    apr_size_t held;           /* bytes in bb before streaming */
    int opened;                /* the document's opening is written */
    const char **counts;       /* the count statements' results, once the rows begin */
    apr_int64_t per_page;      /* Flask-Restless's results_per_page */
    int stream;                /* rows come one PGresult each (single-row mode) */
    ar_row last_row;           /* the last row written, while its result lives */
    char **last_key;           /* the last row's order-term values (keyset plans) */
    apr_size_t *last_key_cap;
} response;

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
    return resp->s->dialect == AR_DIALECT_RESTLESS && !resp->plan->single;
}

/* The total the client asked to count, once the count statements ran;
 * AR_UNSET when not asked. estimated: exact up to the row cap, the
 * planner's estimate beyond it (as PostgREST does). */
static apr_int64_t total_rows(const response *resp)
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

static void open_document(response *resp)
{
    resp->opened = 1;
    if (resp->plan->media == AR_MEDIA_CSV) {
        ar_csv_write_header(&resp->out, resp->plan->columns);
    }
    else if (restless_collection(resp)) {
        apr_int64_t total = total_rows(resp), n = resp->per_page;
        ar_out_puts(&resp->out, apr_psprintf(
            resp->r->pool, "{\"num_results\":%" APR_INT64_T_FMT ",\"page\":%" APR_INT64_T_FMT
            ",\"total_pages\":%" APR_INT64_T_FMT ",\"objects\":[", total,
            n > 0 ? resp->plan->offset / n + 1 : 1, n > 0 ? (total + n - 1) / n : 0));
    }
    else if (!resp->plan->single) {
        ar_out_puts(&resp->out, "[");
    }
}

static void close_document(response *resp)
{
    if (!resp->opened)
        open_document(resp);
    if (resp->plan->media == AR_MEDIA_CSV)
        return;
    if (restless_collection(resp))
        ar_out_puts(&resp->out, "]}");
    else if (!resp->plan->single)
        ar_out_puts(&resp->out, "]");
}

static void set_collection_headers(response *resp, int complete);

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

static int flush_to_client(void *ctx, const char *data, apr_size_t len)
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
        set_collection_headers(resp, 0);
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
 * chunk joins the brigade here, not through flush_to_client, which would
 * start streaming if it passed HOLD_BYTES. */
static void send_held(response *resp)
{
    request_rec *r = resp->r;
    apr_bucket_alloc_t *ba = r->connection->bucket_alloc;

    if (resp->out.len) {
        hold_chunk(resp, resp->out.buf, resp->out.len);
        resp->out.len = 0;
    }
    ap_set_content_length(r, (apr_off_t)resp->held);
    APR_BRIGADE_INSERT_TAIL(resp->bb, apr_bucket_eos_create(ba));
    ap_pass_brigade(r->output_filters, resp->bb);
}

static int on_row(void *ctx, const ar_row *row)
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
        open_document(resp);
    ar_db_row_values(row, resp->format->ncols, resp->values, resp->lens);
    if (plan->media == AR_MEDIA_CSV) {
        ar_csv_write_row(&resp->out, resp->format->ncols, resp->values, resp->lens);
    }
    else {
        if (resp->rows && !plan->single)
            ar_out_write(&resp->out, ",", 1);
        ar_json_write_row(&resp->out, resp->format, resp->values, resp->lens);
    }
    resp->rows++;
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
    return apr_psprintf(resp->r->pool, "<%s?%slimit=%" APR_INT64_T_FMT "&cursor=%s>; "
                        "rel=\"next\"", ap_escape_uri(resp->r->pool, resp->r->uri), base,
                        plan->limit, token);
}

static void set_links(response *resp, apr_int64_t total, int more, int complete)
{
    static const char *const postgrest_paging[] = {"limit", "offset", "cursor", NULL};
    static const char *const restless_paging[] = {"page", "results_per_page", NULL};
    request_rec *r = resp->r;
    const ar_read_plan *plan = resp->plan;
    apr_array_header_t *links = apr_array_make(r->pool, 3, sizeof(const char *));
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
static void set_collection_headers(response *resp, int complete)
{
    request_rec *r = resp->r;
    const ar_read_plan *plan = resp->plan;
    apr_int64_t first = plan->skipped + plan->offset, n = resp->rows, total = total_rows(resp);
    int more = resp->more;
    const char *range, *of;
    apr_array_header_t *applied = apr_array_make(r->pool, 2, sizeof(const char *));

    if (!complete) {
        n = plan->limit != AR_UNSET ? plan->limit : 0;
        more = plan->limit != AR_UNSET;
    }
    if (total == AR_UNSET && complete && !more && (n > 0 || first == 0))
        total = first + n; /* the page reached the end */
    of = total == AR_UNSET ? "*" : apr_psprintf(r->pool, "%" APR_INT64_T_FMT, total);
    if (n == 0)
        range = apr_pstrcat(r->pool, "*/", of, NULL);
    else
        range = apr_psprintf(r->pool, "%" APR_INT64_T_FMT "-%" APR_INT64_T_FMT "/%s", first,
                             first + n - 1, of);
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
    ap_set_content_type(r, media_types[plan->media]);
}

/* Ends a response whose headers already went out: a clean end of the
 * document, or, when the query failed midway, a broken connection the
 * client cannot mistake for a complete one. */
static void finish_streaming(response *resp, const ar_error *err)
{
    request_rec *r = resp->r;

    if (err) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "query failed after the response began: %s: %s", err->code,
                      err->log ? err->log : err->message);
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
        close_document(resp);
        ar_out_flush(&resp->out);
    }
    if (resp->out.failed)
        return; /* the client left; nothing more to say */
    APR_BRIGADE_INSERT_TAIL(resp->bb, apr_bucket_eos_create(r->connection->bucket_alloc));
    ap_pass_brigade(r->output_filters, resp->bb);
}

/* ---------------------------------------------------------------- handler */

typedef struct {
    request_rec *r;
    settings s;
    PGconn *conn;
    ar_conn_state *conn_state;
    const ar_schema *schema;
} context;

/* Our state for a pooled connection lives in the connection's own pool, so
 * it goes when mod_dbd closes the connection. Only the thread holding the
 * connection touches it. */
static ar_conn_state *connection_state(ap_dbd_t *dbd)
{
    static const char key[] = "autorest:conn_state";
    void *st = NULL;

    apr_pool_userdata_get(&st, key, dbd->pool);
    if (!st) {
        st = ar_conn_state_create(dbd->pool);
        apr_pool_userdata_set(st, key, apr_pool_cleanup_null, dbd->pool);
    }
    return st;
}

/* The statements before the rows: the counts for Prefer: count (and
 * Flask-Restless pages), then, on a relationship route, the look for the
 * parent's row (its value is the last). */
static int count_statements(context *cx, const ar_read_plan *plan, ar_sql **out)
{
    apr_pool_t *p = cx->r->pool;
    ar_sql *pre = apr_pcalloc(p, MAX_PRE_STATEMENTS * sizeof(ar_sql));
    int n = 0;

    *out = pre;
    switch (plan->count) {
    case AR_COUNT_EXACT:
    case AR_COUNT_PLANNED:
        ar_sql_render_count(p, plan, plan->count, 0, &pre[n++]);
        break;
    case AR_COUNT_ESTIMATED:
        ar_sql_render_count(p, plan, AR_COUNT_ESTIMATED, cx->s.count_threshold, &pre[n++]);
        ar_sql_render_count(p, plan, AR_COUNT_PLANNED, 0, &pre[n++]);
        break;
    default:
        break;
    }
    if (plan->parent)
        ar_sql_render_parent(p, plan, &pre[n++]);
    return n;
}

/* The single-object answers: exactly one row, or the dialect's error. */
static ar_error *single_row_error(context *cx, const ar_read_request *req,
                                  const ar_read_plan *plan, const response *resp)
{
    apr_pool_t *p = cx->r->pool;

    if (resp->rows == 1 && !resp->more)
        return NULL;
    if (plan->pk_value)
        return ar_error_make(p, AR_ERR_NO_ROW,
                             apr_psprintf(p, "no row of '%s' has %s '%s'%s", plan->relation->name,
                                          plan->pk_column->name, plan->pk_value,
                                          plan->parent ? " among the related rows" : ""),
                             NULL, NULL);
    if (req->media == AR_MEDIA_OBJECT)
        return ar_error_make(p, AR_ERR_NOT_ONE_ROW,
                             "the result is not exactly one row",
                             resp->rows == 0 ? "no rows matched" : "more than one row matched",
                             "narrow the filter, or accept application/json");
    if (resp->rows == 0)
        return ar_error_make(p, AR_ERR_NO_ROW, "no result found", NULL, NULL);
    return ar_error_make(p, AR_ERR_SINGLE_MANY, "multiple results found", NULL,
                         "narrow the filters of a single search");
}

static ar_error *run_read(context *cx, ar_read_request *req, int *done)
{
    request_rec *r = cx->r;
    ar_read_plan plan;
    ar_sql sql, *pre;
    ar_db_query q;
    response resp;
    ar_error *err;
    int npre;

    *done = 0;
    memset(&resp, 0, sizeof(resp));
    if (cx->s.dialect == AR_DIALECT_RESTLESS && !req->single
        && (req->relationship ? !req->related_pk : !req->pk_value))
        ar_restless_window(req, cx->s.max_rows, &resp.per_page);
    err = ar_plan_read(r->pool, cx->schema, &cx->s.exposure, req, cx->s.max_rows, &plan);
    if (!err)
        err = ar_plan_apply_cursor(r->pool, &plan, req->cursor, cx->s.cursor_key,
                                   cx->s.cursor_key_len);
    if (err)
        return err;
    ar_sql_render_read(r->pool, &plan, &sql);
    npre = count_statements(cx, &plan, &pre);

    resp.r = r;
    resp.s = &cx->s;
    resp.req = req;
    resp.plan = &plan;
    resp.format = ar_row_format_make(r->pool, plan.columns);
    resp.values = apr_palloc(r->pool, sizeof(char *) * (plan.columns->nelts + 1));
    resp.lens = apr_palloc(r->pool, sizeof(int) * (plan.columns->nelts + 1));
    resp.bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    resp.counts = apr_pcalloc(r->pool, sizeof(char *) * MAX_PRE_STATEMENTS);
    resp.last_key = apr_pcalloc(r->pool, sizeof(char *) * (plan.order->nelts + 1));
    resp.last_key_cap = apr_pcalloc(r->pool, sizeof(apr_size_t) * (plan.order->nelts + 1));
    if (plan.single)
        ar_out_init(&resp.out, r->pool, 0, NULL, NULL);
    else
        ar_out_init(&resp.out, r->pool, CHUNK_BYTES, flush_to_client, &resp);

    memset(&q, 0, sizeof(q));
    q.state = cx->conn_state;
    q.pre = pre;
    q.npre = npre;
    q.pre_values = resp.counts;
    q.sql = &sql;
    q.timeout_ms = cx->s.timeout_ms;
    q.stream = plan.limit == AR_UNSET || plan.limit > STREAM_ABOVE_ROWS;
    resp.stream = q.stream;
    q.on_row = on_row;
    q.ctx = &resp;
    err = ar_db_stream(r->pool, cx->conn, &q);
    if (resp.streaming) {
        *done = 1;
        finish_streaming(&resp, err);
        return NULL;
    }
    if (err)
        return err;
    *done = 1;
    if (plan.parent && !resp.counts[npre - 1])
        return ar_error_make(r->pool, AR_ERR_NO_ROW,
                             apr_psprintf(r->pool, "no row of '%s' has %s '%s'",
                                          plan.parent->name, plan.parent_pk->name,
                                          plan.parent_value),
                             NULL, NULL);
    if (plan.related_one && !plan.pk_column && resp.rows == 0) {
        /* a to-one relationship without a related row: null; in CSV, the
         * header and no row */
        if (plan.media != AR_MEDIA_CSV)
            return (send_body(r, media_types[AR_MEDIA_JSON], "null", 4), NULL);
        open_document(&resp);
        return (send_body(r, media_types[AR_MEDIA_CSV], resp.out.buf, resp.out.len), NULL);
    }
    if (plan.single) {
        if ((err = single_row_error(cx, req, &plan, &resp)) != NULL)
            return err;
        if (req->profile)
            apr_table_setn(r->headers_out, "Content-Profile", req->profile);
        return (send_body(r, media_types[plan.media == AR_MEDIA_CSV ? AR_MEDIA_CSV
                                         : req->media == AR_MEDIA_OBJECT ? AR_MEDIA_OBJECT
                                                                         : AR_MEDIA_JSON],
                          resp.out.buf, resp.out.len), NULL);
    }
    /* Past the end of a counted result: 416, as PostgREST answers. */
    if (plan.count != AR_COUNT_NONE && cx->s.dialect == AR_DIALECT_POSTGREST
        && resp.rows == 0 && plan.offset > 0 && plan.offset + plan.skipped >= total_rows(&resp)) {
        apr_table_setn(r->headers_out, "Content-Range",
                       apr_psprintf(r->pool, "*/%" APR_INT64_T_FMT, total_rows(&resp)));
        return ar_error_make(r->pool, AR_ERR_RANGE_UNSATISFIABLE,
                             "Requested range not satisfiable",
                             apr_psprintf(r->pool, "offset %" APR_INT64_T_FMT " is past the %"
                                          APR_INT64_T_FMT " rows", plan.offset,
                                          total_rows(&resp)), NULL);
    }
    close_document(&resp);
    set_collection_headers(&resp, 1);
    if (req->profile)
        apr_table_setn(r->headers_out, "Content-Profile", req->profile);
    send_held(&resp);
    return NULL;
}

/* The Location's path without trailing slashes: what URLs are built on. */
static apr_size_t location_base_len(const char *location)
{
    apr_size_t n = strlen(location);

    while (n > 0 && location[n - 1] == '/')
        n--;
    return n;
}

/* The path below this Location, or NULL when r->uri is not under it (a
 * <Location /api> also matches "/apiary"). */
static const char *path_below(request_rec *r, const char *location)
{
    apr_size_t n = location_base_len(location);

    if (strncmp(r->uri, location, n) != 0)
        return NULL;
    if (r->uri[n] != '\0' && r->uri[n] != '/')
        return NULL;
    return r->uri + n;
}

static ar_error *serve(context *cx)
{
    request_rec *r = cx->r;
    ar_read_request req;
    ar_request_headers h;
    ap_dbd_t *dbd;
    ar_error *err;
    const char *path;
    int done, attempt;

    path = path_below(r, cx->s.location);
    if (!path)
        return ar_error_make(r->pool, AR_ERR_NO_ROUTE, "no such resource", NULL, NULL);
    h.range = apr_table_get(r->headers_in, "Range");
    h.range_unit = apr_table_get(r->headers_in, "Range-Unit");
    h.prefer = apr_table_get(r->headers_in, "Prefer");
    h.accept = apr_table_get(r->headers_in, "Accept");
    h.accept_profile = apr_table_get(r->headers_in, "Accept-Profile");
    if (cx->s.dialect == AR_DIALECT_RESTLESS)
        h.range = h.range_unit = h.prefer = h.accept_profile = NULL;
    err = ar_query_parse(r->pool, cx->s.dialect, path, r->args, &h, &req);
    if (err)
        return err;

    dbd = dbd_acquire(r);
    if (!dbd)
        return ar_error_make(r->pool, AR_ERR_DB_UNAVAILABLE, "the database is not reachable",
                             NULL, "try again later");
    if (strcmp(apr_dbd_name(dbd->driver), "pgsql") != 0) {
        err = ar_error_make(r->pool, AR_ERR_CONFIG, "this API is not set up correctly",
                            NULL, NULL);
        err->log = "mod_autorest needs DBDriver pgsql";
        return err;
    }
    cx->conn = apr_dbd_native_handle(dbd->driver, dbd->handle);
    cx->conn_state = connection_state(dbd);
    if ((err = snapshot_acquire(r, cx->conn, &cx->s, NULL, &cx->schema)) != NULL)
        return err;

    if (!req.relation) {
        apr_size_t len;
        const char *base = apr_pstrmemdup(r->pool, cx->s.location,
                                          location_base_len(cx->s.location));
        char *body = ar_json_index(r->pool, cx->schema, &cx->s.exposure, base, &len);

        if (!body)
            return ar_error_make(r->pool, AR_ERR_CONFIG, "out of memory", NULL, NULL);
        send_body(r, JSON_TYPE, body, len);
        return NULL;
    }

    /* A stale snapshot shows as an unknown relation (one was created) or a
     * vanished column (one was dropped): refresh once and try again. */
    for (attempt = 0;; attempt++) {
        ar_read_request attempt_req = req;
        err = run_read(cx, &attempt_req, &done);
        if (done || !err || attempt > 0)
            return err;
        if ((err->kind == AR_ERR_NO_RELATION && may_refresh_for_unknown(r, &cx->s))
            || err->kind == AR_ERR_DB_SCHEMA_CHANGED) {
            ar_error *e2 = snapshot_acquire(r, cx->conn, &cx->s, cx->schema, &cx->schema);
            if (e2)
                return e2;
            continue;
        }
        return err;
    }
}

static int autorest_handler(request_rec *r)
{
    context cx;
    ar_error *err;

    if (!r->handler || strcmp(r->handler, "autorest") != 0)
        return DECLINED;
    r->allowed = (AP_METHOD_BIT << M_GET) | (AP_METHOD_BIT << M_OPTIONS);

    memset(&cx, 0, sizeof(cx));
    cx.r = r;
    effective_settings(ap_get_module_config(r->per_dir_config, &autorest_module), &cx.s);

    if (r->method_number == M_OPTIONS) {
        apr_table_setn(r->headers_out, "Allow", ALLOWED_METHODS);
        ap_set_content_length(r, 0);
        return OK;
    }
    if (r->method_number != M_GET) {
        ap_discard_request_body(r);
        return send_error(r, cx.s.dialect,
                          ar_error_make(r->pool, AR_ERR_METHOD,
                                        apr_psprintf(r->pool, "method %s is not allowed here",
                                                     r->method),
                                        NULL, "this API is read-only: " ALLOWED_METHODS));
    }
    if (ap_discard_request_body(r) != OK)
        return send_error(r, cx.s.dialect,
                          ar_error_make(r->pool, AR_ERR_BAD_PARAM,
                                        "the request body could not be read", NULL, NULL));

    err = serve(&cx);
    return err ? send_error(r, cx.s.dialect, err) : OK;
}

/* ------------------------------------------------------------------ hooks */

static int autorest_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                                server_rec *s)
{
    (void)pconf; (void)plog; (void)ptemp;
    if (apr_generate_random_bytes(random_cursor_key, sizeof(random_cursor_key)) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, "mod_autorest: no random bytes for the "
                     "cursor key");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    dbd_acquire = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire);
    if (!dbd_acquire) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s,
                     "mod_autorest needs mod_dbd: add 'LoadModule dbd_module "
                     "modules/mod_dbd.so' (a2enmod dbd) before mod_autorest");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

static void autorest_child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_status_t rv;

    json_object_seed(0);
#if defined(__GLIBC__) && defined(M_TRIM_THRESHOLD)
    /* libpq builds every page's PGresult from malloc and frees it whole. With
     * glibc's default (128 KiB) each free of a 1,000-row page gave its
     * thread's arena back to the kernel (madvise, a TLB shootdown across the
     * child's threads) and the next page faulted it in again: a tenth of the
     * child's CPU in the profile of L2. Keeping up to 4 MiB per arena is the
     * same trade httpd makes with MaxMemFree for its own allocators. */
    mallopt(M_TRIM_THRESHOLD, MALLOC_TRIM_THRESHOLD);
#endif
    /* The cache lives as long as the child; snapshots have their own pools. */
    apr_pool_create(&cache_pool, pchild);
    rv = apr_thread_mutex_create(&cache_lock, APR_THREAD_MUTEX_DEFAULT, pchild);
    if (rv != APR_SUCCESS)
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                     "mod_autorest: cannot create the schema cache lock");
    cache = apr_hash_make(cache_pool);
}

static void autorest_register_hooks(apr_pool_t *p)
{
    static const char *const after_dbd[] = {"mod_dbd.c", NULL};

    (void)p;
    ap_hook_post_config(autorest_post_config, after_dbd, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(autorest_child_init, after_dbd, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(autorest_handler, NULL, NULL, APR_HOOK_MIDDLE);
}

AP_DECLARE_MODULE(autorest) = {
    STANDARD20_MODULE_STUFF,
    create_dir_conf,
    merge_dir_conf,
    NULL,
    NULL,
    autorest_cmds,
    autorest_register_hooks,
    AP_MODULE_FLAG_NONE
};
