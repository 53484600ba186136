/*
 * autorest.h: the pure core of mod_autorest.
 *
 * Everything declared here builds and runs without httpd: APR for memory,
 * libpq only in reflect.c and db.c. A request flows one way through it:
 *
 *   ar_query_parse  (path, query string, Range)  -> ar_read_request
 *   ar_plan_read    (request, schema, exposure)  -> ar_read_plan
 *   ar_sql_render   (plan)                       -> ar_sql (text + bound values)
 *   ar_db_stream    (sql, PGconn)                -> rows, one at a time
 *   ar_json_write_row (row, plan's row format)   -> bytes to an ar_out
 *
 * Errors are values (ar_error) with a stable code; error.c maps them to HTTP
 * status in one table, and only mod_autorest.c speaks HTTP.
 */
#ifndef AUTOREST_H
#define AUTOREST_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_hash.h>
#include <apr_time.h>

/* ---------------------------------------------------------------- errors */

typedef enum {
    AR_ERR_UNKNOWN_PARAM,      /* a query parameter we do not know */
    AR_ERR_BAD_PARAM,          /* a known parameter with a bad value */
    AR_ERR_BAD_RANGE,          /* a Range header we cannot read */
    AR_ERR_RANGE_UNSATISFIABLE,
    AR_ERR_NO_RELATION,        /* unknown or unexposed relation */
    AR_ERR_NO_ROW,             /* /<relation>/<pk> with no such row */
    AR_ERR_NO_ROUTE,           /* a path shape we do not serve */
    AR_ERR_METHOD,             /* method not allowed */
    AR_ERR_DB_UNAVAILABLE,     /* no connection, connection lost */
    AR_ERR_DB_TIMEOUT,         /* statement_timeout fired */
    AR_ERR_DB_BAD_VALUE,       /* SQLSTATE class 22: the client's value */
    AR_ERR_DB_PRIVILEGE,       /* SQLSTATE 42501 */
    AR_ERR_DB_SCHEMA_CHANGED,  /* 42P01/42703: our cached schema is stale */
    AR_ERR_DB_QUERY,           /* anything else the database refused */
    AR_ERR_CONFIG,             /* the server is set up wrongly */
    AR_ERR__COUNT
} ar_error_kind;

typedef struct ar_error {
    ar_error_kind kind;
    const char *code;     /* stable: "AR..." or a SQLSTATE */
    const char *message;  /* for the client; never SQL text or paths */
    const char *details;  /* NULL or for the client */
    const char *hint;     /* NULL or for the client */
    const char *log;      /* NULL or for the error log only */
} ar_error;

ar_error *ar_error_make(apr_pool_t *p, ar_error_kind kind, const char *message,
                        const char *details, const char *hint);
/* The one place an error becomes an HTTP status. */
int ar_error_status(const ar_error *e);
const char *ar_error_code(ar_error_kind kind);
/* {"code":...,"message":...,"details":...,"hint":...} */
char *ar_error_json(apr_pool_t *p, const ar_error *e);

/* ---------------------------------------------------------------- schema */

/* How one column's text value becomes JSON, chosen once from its type. */
typedef enum {
    AR_ENC_STRING = 0,  /* a JSON string of the text form */
    AR_ENC_NUMBER,      /* int2/4/8, float4/8, numeric: bare, or a string for NaN/Infinity */
    AR_ENC_BOOL,        /* 't'/'f' */
    AR_ENC_JSON,        /* json, jsonb, and anything rendered with to_json(): verbatim */
    AR_ENC_TIMESTAMP,   /* ISO text to to_json's XSD form: 'T', +HH:MM */
    AR_ENC_ARRAY,       /* PostgreSQL array text, elements by elem_enc */
    AR_ENC_SQL_JSON     /* PostgreSQL renders it: the select list wraps it in to_json() */
} ar_encoding;

typedef struct {
    const char *name;
    const char *type;          /* format_type(): "character varying(20)" */
    unsigned int type_oid;
    ar_encoding enc;
    ar_encoding elem_enc;      /* for AR_ENC_ARRAY */
    int nullable;
    const char *default_expr;  /* NULL when none */
    const char *comment;       /* NULL when none */
    int sortable;              /* has a total order: usable in a default ORDER BY */
    int position;              /* attnum */
} ar_column;

typedef struct {
    const char *name;           /* constraint name */
    apr_array_header_t *cols;   /* int: indexes into the relation's columns */
} ar_key;

typedef struct {
    const char *name;
    apr_array_header_t *cols;       /* const char *: local column names */
    const char *ref_schema;
    const char *ref_relation;
    apr_array_header_t *ref_cols;   /* const char *: referenced column names */
} ar_foreign_key;

typedef struct {
    const char *schema;
    const char *name;
    char kind;                      /* r table, v view, m matview, f foreign, p partitioned */
    const char *comment;
    apr_array_header_t *columns;    /* ar_column, by position */
    ar_key *primary_key;            /* NULL when none (or not all of it is readable) */
    apr_array_header_t *unique_keys;   /* ar_key */
    apr_array_header_t *foreign_keys;  /* ar_foreign_key */
} ar_relation;

/* One immutable reflection of the database. Shared read-only by threads. */
typedef struct {
    apr_pool_t *pool;
    apr_array_header_t *relations;  /* ar_relation *, by schema then name */
    apr_hash_t *by_name;            /* "schema\0name" style key, see ar_schema_find */
    apr_time_t loaded_at;
} ar_schema;

/* What the type catalogue says about one type, for choosing encoders. */
typedef struct {
    unsigned int oid;
    char typtype;          /* b c d e p r m */
    char category;         /* typcategory */
    char delim;
    unsigned int base;     /* typbasetype for domains */
    unsigned int elem;     /* typelem for arrays */
    int json_cast;         /* a user type with a cast to json: to_json() uses it */
} ar_type_info;

/* Resolve encoders for a type from a table of ar_type_info keyed by oid. */
void ar_type_encoding(apr_hash_t *types, unsigned int oid, ar_encoding *enc,
                      ar_encoding *elem_enc, int *sortable);

const ar_relation *ar_schema_find(const ar_schema *s, const char *schema,
                                  const char *name);
ar_schema *ar_schema_create(apr_pool_t *p);
void ar_schema_add(ar_schema *s, ar_relation *rel);
int ar_relation_column_index(const ar_relation *rel, const char *name);

struct pg_conn;
/* Reads the catalogue for the given schemas into a new schema in pool p. */
ar_error *ar_reflect_load(struct pg_conn *conn, apr_pool_t *p,
                          const apr_array_header_t *schemas, ar_schema **out);

/* -------------------------------------------------------------- exposure */

/* What a Location shows: its schemas, minus excluded relations and hidden columns. */
typedef struct {
    const apr_array_header_t *schemas;  /* const char *; the first is the default */
    apr_hash_t *excluded;               /* "schema.relation" -> "" */
    apr_hash_t *hidden;                 /* "schema.relation.column" -> "" */
} ar_exposure;

int ar_exposed_schema(const ar_exposure *x, const char *schema);
int ar_exposed_relation(const ar_exposure *x, const ar_relation *rel);
int ar_exposed_column(const ar_exposure *x, const ar_relation *rel,
                      const ar_column *col);
/* Resolve a path segment ("name" in the default schema, or "schema.name"). */
const ar_relation *ar_resolve_relation(const ar_schema *s, const ar_exposure *x,
                                       const char *segment);

/* ----------------------------------------------------------------- query */

#define AR_UNSET (-1)

typedef struct {
    const char *relation;   /* NULL: the index route */
    const char *pk_value;   /* NULL: the collection route */
    apr_int64_t limit;      /* AR_UNSET when not asked */
    apr_int64_t offset;     /* 0 when not asked */
    int ranged;             /* a Range header was given */
} ar_read_request;

/* path: what follows the Location ("" "/" "/rel" "/rel/" "/rel/pk"), already
 * percent-decoded; args: the raw query string or NULL; range: the Range
 * header or NULL; range_unit: the Range-Unit header or NULL. */
ar_error *ar_query_parse(apr_pool_t *p, const char *path, const char *args,
                         const char *range, const char *range_unit,
                         ar_read_request *out);

/* One column of the response: its name, how it is selected and encoded. */
typedef struct {
    const ar_column *column;
    ar_encoding enc;        /* after planning: SQL_JSON columns arrive as JSON */
    ar_encoding elem_enc;
} ar_output_column;

typedef struct {
    const ar_relation *relation;
    apr_array_header_t *columns;    /* ar_output_column */
    apr_array_header_t *order;      /* const ar_column *: ORDER BY, ascending */
    const ar_column *pk_column;     /* for the single-row route */
    const char *pk_value;
    apr_int64_t offset;
    apr_int64_t limit;              /* rows to return, AR_UNSET = all */
    int probe_next;                 /* fetch limit+1 rows to learn if more follow */
    int single;
} ar_read_plan;

/* max_rows: the Location's cap, 0 for none. */
ar_error *ar_plan_read(apr_pool_t *p, const ar_schema *s, const ar_exposure *x,
                       const ar_read_request *req, apr_int64_t max_rows,
                       ar_read_plan *out);

typedef struct {
    const char *text;
    apr_array_header_t *params;     /* const char *: bound values, $1.. */
} ar_sql;

void ar_sql_render_read(apr_pool_t *p, const ar_read_plan *plan, ar_sql *out);
/* "name" with embedded quotes doubled */
const char *ar_sql_quote_ident(apr_pool_t *p, const char *name);

/* ---------------------------------------------------------------- output */

/* A byte sink with a flush threshold. flush() gets everything written so far;
 * a non-zero return means the client is gone: writing stops. */
typedef int (*ar_flush_fn)(void *ctx, const char *data, apr_size_t len);

typedef struct {
    char *buf;
    apr_size_t len;
    apr_size_t cap;
    apr_size_t flush_at;   /* flush once len reaches this; 0 = never (grow) */
    ar_flush_fn flush;
    void *ctx;
    int failed;
    apr_pool_t *pool;
} ar_out;

void ar_out_init(ar_out *o, apr_pool_t *p, apr_size_t flush_at,
                 ar_flush_fn flush, void *ctx);
void ar_out_write(ar_out *o, const char *data, apr_size_t len);
void ar_out_puts(ar_out *o, const char *s);
int ar_out_flush(ar_out *o);

void ar_json_write_string(ar_out *o, const char *s, apr_size_t len);
/* One value in its column's encoding; value == NULL is SQL NULL. */
void ar_json_write_value(ar_out *o, ar_encoding enc, ar_encoding elem_enc,
                         const char *value, apr_size_t len);
int ar_json_is_number(const char *s, apr_size_t len);

/* The fixed parts of a row object, prepared once per request. */
typedef struct {
    int ncols;
    const char **keys;        /* "{\"a\":" then ",\"b\":" ... */
    apr_size_t *key_lens;
    ar_encoding *enc;
    ar_encoding *elem_enc;
} ar_row_format;

ar_row_format *ar_row_format_make(apr_pool_t *p, const apr_array_header_t *columns);
/* values[i] NULL for SQL NULL; lens[i] its length. */
void ar_json_write_row(ar_out *o, const ar_row_format *f,
                       const char *const *values, const int *lens);

/* The index document {"relations":[...]} for what x exposes; base_url is
 * the Location's path. NULL when out of memory. */
char *ar_json_index(apr_pool_t *p, const ar_schema *s, const ar_exposure *x,
                    const char *base_url, apr_size_t *len);

/* -------------------------------------------------------------- database */

struct pg_result;
/* Called once per row; a non-zero return stops the query (client gone, or
 * the row past the page that only tells whether more follow). */
typedef int (*ar_row_fn)(void *ctx, const struct pg_result *row);

/* Runs one read statement with its bound values on a pooled connection,
 * streaming rows to on_row in constant memory, under a statement timeout
 * (ms, 0 = none) that covers only this request. A connection found broken
 * before any row arrived is reset and the statement tried once more. The
 * connection is always left idle and drained, fit to go back to the pool. */
ar_error *ar_db_stream(apr_pool_t *p, struct pg_conn *conn, const ar_sql *sql,
                       long timeout_ms, ar_row_fn on_row, void *ctx);
/* A database error as one of ours, by SQLSTATE. */
ar_error *ar_db_error(apr_pool_t *p, const char *sqlstate, const char *primary,
                      const char *log);
/* The row's values as ar_json_write_row wants them (NULL for SQL NULL). */
void ar_db_row_values(const struct pg_result *row, int ncols, const char **values,
                      int *lens);
/* Reset a connection that the server dropped; non-zero when usable. */
int ar_db_usable(struct pg_conn *conn);

#endif
