/*
 * ar_call.h: functions as endpoints (/rpc/<function>). Pure core, included
 * at the end of autorest.h; reflect_routine.c reads them from the
 * catalogue, plan_call.c chooses one and binds its arguments, sql_call.c
 * writes the call.
 *
 * A call is planned as PostgREST plans it: the function's result rows are
 * a relation for the read planner (select=, filters, order, limit, embeds
 * through the result type's table, CSV, the object media), read from the
 * call in the FROM clause of the same statement.
 */
#ifndef AR_CALL_H
#define AR_CALL_H

/* One argument a caller gives (IN, INOUT or VARIADIC). */
typedef struct {
    const char *name;          /* "" when unnamed */
    const char *type;          /* format_type(): the cast of its bound value */
    unsigned int type_oid;
    int has_default;           /* may be left out */
    int variadic;              /* VARIADIC: its type is the array */
    int json;                  /* json or jsonb */
    int array;                 /* an array type */
} ar_routine_arg;

typedef enum {
    AR_RETURNS_VOID,           /* void: 204 */
    AR_RETURNS_SCALAR,         /* one value (or SETOF them): the bare JSON value */
    AR_RETURNS_ROWS            /* a composite, TABLE(...) or OUT parameters: objects */
} ar_returns;

typedef struct ar_routine {
    const char *schema;
    const char *name;
    const char *comment;
    apr_array_header_t *args;  /* ar_routine_arg, in call order */
    char volatility;           /* 'i' immutable, 's' stable, 'v' volatile */
    int procedure;             /* CALL, not SELECT */
    int setof;                 /* SETOF or TABLE(...): any number of rows */
    ar_returns returns;
    const char *return_type;   /* format_type() of the declared return type */
    int out_params;            /* OUT, INOUT or TABLE parameters make its rows */
    /* The rows' columns, for the read planner. A table's or view's row type
     * is that relation (its keys embed, its hidden columns stay hidden);
     * otherwise a relation of the routine's own (schema and name the
     * routine's, kind AR_KIND_RESULT, no keys); a scalar's one column is
     * named after the routine. NULL for void. */
    const ar_relation *result;
} ar_routine;

/* The relkind of a routine's own result relation: never a route, never
 * related to anything. */
#define AR_KIND_RESULT 'F'

/* The overloads of schema.name, or NULL. */
const apr_array_header_t *ar_schema_routines(const ar_schema *s, const char *schema,
                                             const char *name);
void ar_schema_add_routine(ar_schema *s, ar_routine *r);
/* Whether x shows this routine (its schema served, not AutoRestExclude'd). */
int ar_exposed_routine(const ar_exposure *x, const ar_routine *r);
/* Whether a volatility is callable at all under AutoRestRPC, and by GET. */
typedef enum { AR_RPC_OFF = 0, AR_RPC_READ, AR_RPC_ALL } ar_rpc_mode;

/* A name and value of the query string that is not one of the read
 * grammar's own words: on /rpc/ it is an argument when the function has
 * an argument of that name, a filter otherwise. */
typedef struct {
    const char *name;
    const char *value;
} ar_call_param;

/* A call's body, by its Content-Type: JSON (the default), CSV, or raw
 * bytes for a function of one text, xml or bytea argument. */
typedef enum {
    AR_CALL_BODY_JSON,
    AR_CALL_BODY_CSV,
    AR_CALL_BODY_FORM,         /* application/x-www-form-urlencoded: strings */
    AR_CALL_BODY_TEXT,         /* text/plain */
    AR_CALL_BODY_XML,          /* text/xml */
    AR_CALL_BODY_BYTES         /* application/octet-stream */
} ar_call_media;

/* What the glue read of a call's body. */
typedef struct {
    const char *text;          /* the whole body; NULL when there was none */
    apr_size_t len;
    ar_call_media media;
    int single_object;         /* Prefer: params=single-object */
    /* the top-level object's fields (JSON), or the CSV rows' fields */
    const ar_body_field *fields;
    int nfields;
    int is_array;              /* the body is a JSON array (or CSV rows) */
    ar_error *unreadable;      /* JSON or CSV that gave no fields (malformed, or a bare
                                * value): only a function that takes the body whole
                                * can be called with it, else this is the answer */
    apr_int64_t rows;          /* objects in the array, or CSV rows */
} ar_call_body;

/* One argument as bound. */
typedef struct {
    const ar_routine_arg *arg;
    const char *value;         /* text input for the type; NULL: SQL NULL */
    int via_json;              /* value is {"name": <JSON>}: an object or array for a
                                * type that is not json, converted by PostgreSQL
                                * (json_to_record) as PostgREST converts it */
    apr_array_header_t *items; /* VARIADIC from repeated GET parameters: const char * */
} ar_call_arg;

typedef struct ar_call_plan {
    const ar_routine *routine;
    apr_array_header_t *args;  /* ar_call_arg, in the routine's order; those left
                                * out take their defaults */
    int read_only;             /* GET or HEAD: READ ONLY transaction */
    int scalar;                /* the result is a value (or SETOF values) */
    ar_read_plan read;         /* over the result rows; read.call is this plan */
} ar_call_plan;

/* Chooses the routine req->routine names (in the profile's or default
 * schema) for the arguments given, binds them, and plans the read of its
 * result with req's select, filters, order and page. get: GET or HEAD
 * (arguments from the query string); else POST with body. */
ar_error *ar_plan_call(apr_pool_t *p, const ar_schema *s, const ar_exposure *x,
                       const ar_read_request *req, int get, const ar_call_body *body,
                       ar_rpc_mode mode, apr_int64_t max_rows, ar_call_plan *out);

/* The call: SELECT <read plan's list> FROM "schema"."fn"(args) ..., or
 * CALL for a procedure; void functions select nothing. */
void ar_sql_render_call(apr_pool_t *p, const ar_call_plan *plan, ar_sql *out);

#endif
