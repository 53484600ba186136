/*
 * autorest.h: the pure core of mod_autorest.
 *
 * Everything declared here builds and runs without httpd: APR for memory,
 * libpq only in reflect.c, db.c and db_error.c. A request flows one way
 * through it:
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

#include "ar_body.h"

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
    AR_ERR_UNKNOWN_COLUMN,     /* select/filter/order names no visible column */
    AR_ERR_UNSUPPORTED,        /* grammar we know but do not serve (embedding) */
    AR_ERR_BAD_OPERATOR,       /* a filter we cannot read */
    AR_ERR_TOO_DEEP,           /* and/or nested past AR_MAX_LOGIC_DEPTH */
    AR_ERR_BAD_PREFER,         /* Prefer: handling=strict with one we do not apply */
    AR_ERR_BAD_Q,              /* Flask-Restless q= that is not a valid search */
    AR_ERR_SINGLE_MANY,        /* q={"single":true} matched several rows */
    AR_ERR_NOT_ACCEPTABLE,     /* Accept names nothing we produce */
    AR_ERR_NOT_ONE_ROW,        /* vnd.pgrst.object+json, but not exactly one row */
    AR_ERR_UNKNOWN_PROFILE,    /* Accept-Profile names a schema not served here */
    AR_ERR_BAD_CURSOR,         /* a keyset cursor we did not make for this query */
    AR_ERR_NO_RELATIONSHIP,    /* rel(...) names a relation with no foreign key to us */
    AR_ERR_AMBIGUOUS_EMBED,    /* several relationships fit: 300 with the candidates */
    AR_ERR_BAD_BODY,           /* a body we cannot read: malformed, misshapen, a key
                                * that is no column */
    AR_ERR_BODY_TOO_LARGE,     /* past LimitRequestBody */
    AR_ERR_BAD_MEDIA,          /* a Content-Type we do not read */
    AR_ERR_UNFILTERED,         /* PATCH/DELETE without a filter (pg-safeupdate's 21000) */
    AR_ERR_MAX_AFFECTED,       /* Prefer: max-affected with handling=strict exceeded */
    AR_ERR_BAD_PUT,            /* PUT that is not one whole row by its key */
    AR_ERR_DB_CONFLICT,        /* SQLSTATE 23505, 23503: 409 */
    AR_ERR_DB_CONSTRAINT,      /* SQLSTATE 23502, 23514, other 23xxx: 400 */
    AR_ERR_DB_RETRY,           /* SQLSTATE 40001, 40P01: 503 with Retry-After */
    AR_ERR_DB_RAISED,          /* SQLSTATE P0001 (RAISE in a function or trigger): 400 */
    AR_ERR_DB_READ_ONLY,       /* SQLSTATE 25006: 405 */
    AR_ERR_NO_ROUTINE,         /* /rpc/: no function fits the name and arguments */
    AR_ERR_AMBIGUOUS_ROUTINE,  /* several overloads fit: 300 */
    AR_ERR_DB_CUSTOM,          /* RAISE SQLSTATE 'PGRST' or 'PTnnn': the status it names */
    AR_ERR_BAD_RAISE,          /* a PGRST raise whose JSON cannot be read: 500 */
    AR_ERR_NO_ROLE,            /* no one authenticated and no anonymous role: 401 */
    AR_ERR_ROLE_REFUSED,       /* a role name the connecting role may not become: 403 */
    AR_ERR_DB_PRIVILEGE_ANON,  /* SQLSTATE 42501 for an anonymous request: 401 */
    AR_ERR_TOO_MUCH,           /* more filters, select items or URL than the Location
                                * serves (AutoRestMax*) */
    AR_ERR_REFUSED,            /* another module's before_statement hook refused:
                                * its status (mod_autorest.h) */
    AR_ERR_AGGREGATES_OFF,     /* select= aggregates where AutoRestAggregates is off */
    AR_ERR_CROSS_SITE,         /* a browsable page's form posted from another origin */
    AR_ERR__COUNT
} ar_error_kind;

typedef struct ar_error {
    ar_error_kind kind;
    const char *code;     /* stable: "AR..." or a SQLSTATE */
    const char *message;  /* for the client; never SQL text or paths */
    const char *details;  /* NULL or for the client */
    const char *hint;     /* NULL or for the client */
    const char *log;      /* NULL or for the error log only */
    const char *constraint; /* a database error's constraint, or NULL */
    const apr_array_header_t *candidates;  /* AR_ERR_AMBIGUOUS_EMBED: ar_relationship;
                                            * they become "details" */
    int status;           /* AR_ERR_DB_CUSTOM: the status raised; AR_ERR_REFUSED:
                           * the hook's */
    const char *status_text; /* AR_ERR_DB_CUSTOM: its reason phrase, or NULL */
    const apr_array_header_t *headers; /* AR_ERR_DB_CUSTOM: ar_call_param, name and
                                        * value of each header raised */
} ar_error;

ar_error *ar_error_make(apr_pool_t *p, ar_error_kind kind, const char *message,
                        const char *details, const char *hint);
/* The one place an error becomes an HTTP status. */
int ar_error_status(const ar_error *e);
const char *ar_error_code(ar_error_kind kind);
/* {"code":...,"message":...,"details":...,"hint":...} */
char *ar_error_json(apr_pool_t *p, const ar_error *e);
/* A function's RAISE of SQLSTATE 'PGRST' (PostgREST's JSON form: its body,
 * status and headers) or 'PTnnn' (status nnn). */
ar_error *ar_error_raised(apr_pool_t *p, const char *sqlstate, const char *message,
                          const char *detail, const char *hint);

/* ---------------------------------------------------------------- schema */

/* How one column's text value becomes JSON, chosen once from its type. */
typedef enum {
    AR_ENC_STRING = 0,  /* a JSON string of the text form */
    AR_ENC_NUMBER,      /* int2/4/8, float4/8, numeric: bare, or a string for NaN/Infinity */
    AR_ENC_BOOL,        /* 't'/'f' */
    AR_ENC_JSON,        /* json, jsonb, and anything rendered with to_json(): verbatim */
    AR_ENC_TIMESTAMP,   /* ISO text to to_json's XSD form: 'T', +HH:MM */
    AR_ENC_ARRAY,       /* PostgreSQL array text, elements by elem_enc */
    AR_ENC_SQL_JSON,    /* PostgreSQL renders it: the select list wraps it in to_json() */
    AR_ENC_EMBED,       /* an embedded resource: json_agg()/row_to_json() text, whose
                         * line breaks between array elements are dropped */
    AR_ENC_INTEGER,     /* only in an ar_row_format: an int2/4/8 column's own value,
                         * whose text is always a JSON number (no check) */
    AR_ENC_DECIMAL      /* only in an ar_row_format: a numeric, float4 or float8
                         * column's own value: a JSON number unless NaN or
                         * [-]Infinity, told by its first bytes */
} ar_encoding;

typedef struct ar_column_s {
    const char *name;
    const char *quoted;        /* name as an SQL identifier, made once at
                                * reflection; NULL for columns made later */
    const char *type;          /* format_type(): "character varying(20)" */
    unsigned int type_oid;
    ar_encoding enc;
    ar_encoding elem_enc;      /* for AR_ENC_ARRAY */
    int nullable;
    const char *default_expr;  /* NULL when none */
    const char *comment;       /* NULL when none */
    int sortable;              /* has a total order: usable in a default ORDER BY */
    int position;              /* attnum */
    int generated;             /* GENERATED ALWAYS (stored or identity): never written */
    int has_default;           /* an INSERT that leaves it out gives it a value (a
                                * default, an identity, a domain's default) */
    int insertable;            /* the connecting role may INSERT it (and not generated) */
    int updatable;             /* the connecting role may UPDATE it (and not generated) */
    const apr_array_header_t *enum_labels; /* const char *: an enum's labels (an enum
                                * array's elements'), in their order; else NULL */
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
    const char *quoted;             /* "schema"."name", made once at reflection */
    char kind;                      /* r table, v view, m matview, f foreign, p partitioned */
    const char *comment;
    apr_array_header_t *columns;    /* ar_column, by position */
    ar_key *primary_key;            /* NULL when none (or not all of it is readable) */
    apr_array_header_t *unique_keys;   /* ar_key */
    apr_array_header_t *foreign_keys;  /* ar_foreign_key; for a view, also those its
                                        * columns take from their tables' keys */
    apr_array_header_t *origins;       /* views: ar_column_origin, or NULL */
    int writable;                      /* AR_CAN_* the connecting role's privileges and
                                        * the relation's updatability allow */
    int read_runs_code;                /* a read of it may run code that could read the
                                        * request's settings: a row security policy, a
                                        * foreign table's wrapper, a view's query or its
                                        * functions, a column type's own (reflect.c) */
} ar_relation;

enum { AR_CAN_INSERT = 1, AR_CAN_UPDATE = 2, AR_CAN_DELETE = 4 };

/* A view's column that is a table's column as it is (PostgreSQL's own
 * lineage of the view's target list: resorigtbl, resorigcol). */
typedef struct {
    const char *column;             /* the view's column */
    const char *schema, *relation;  /* the table */
    const char *origin;             /* its column */
} ar_column_origin;

/* One output column of a view's query that is a table's column as it is:
 * PostgreSQL's resno, resorigtbl and resorigcol. */
typedef struct {
    int resno;
    unsigned int table;
    int column;
} ar_rule_origin;

/* The origins of a view's own columns, from its _RETURN rule as text
 * (pg_rewrite.ev_action::text, PostgreSQL's node format): only the outer
 * query's target list counts; the target lists of sub-queries (in FROM,
 * sub-selects, CTEs), which come first in the text, name no column of the
 * view. Empty when the text is not a query. reflect.c. */
apr_array_header_t *ar_rule_origins(apr_pool_t *p, const char *ev_action);

/* One immutable reflection of the database. Shared read-only by threads. */
typedef struct {
    apr_pool_t *pool;
    apr_array_header_t *relations;  /* ar_relation *, by schema then name */
    apr_hash_t *by_name;            /* "schema\0name" style key, see ar_schema_find */
    apr_time_t loaded_at;
    const char *fingerprint;        /* ar_reflect_fingerprint's, as of the reflection */
    apr_array_header_t *routines;   /* struct ar_routine *, by schema, name, oid */
    apr_hash_t *routines_by_name;   /* "schema\0name" -> apr_array_header_t of
                                     * struct ar_routine * (the overloads) */
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
    apr_array_header_t *enum_labels;  /* an enum's labels (const char *), else NULL */
} ar_type_info;

/* Resolve encoders for a type from a table of ar_type_info keyed by oid. */
void ar_type_encoding(apr_hash_t *types, unsigned int oid, ar_encoding *enc,
                      ar_encoding *elem_enc, int *sortable);
/* Whether oid is int2, int4 or int8; numeric, float4 or float8 (not a domain
 * over one). */
int ar_type_is_integer(unsigned int oid);
int ar_type_is_decimal(unsigned int oid);
/* An enum's labels, through domains and one array level; else NULL. */
const apr_array_header_t *ar_type_enum_labels(apr_hash_t *types, unsigned int oid);

const ar_relation *ar_schema_find(const ar_schema *s, const char *schema,
                                  const char *name);
ar_schema *ar_schema_create(apr_pool_t *p);
void ar_schema_add(ar_schema *s, ar_relation *rel);
/* Gives views the foreign keys their origins allow: a table's key whose
 * columns all appear in a view makes the view's own, and a key that
 * references a table's columns a view shows also references the view. */
void ar_schema_link_views(ar_schema *s);
int ar_relation_column_index(const ar_relation *rel, const char *name);
/* A json or jsonb column: its values are JSON text as they are. */
int ar_column_is_json(const ar_column *c);

struct pg_conn;
/* Reads the catalogue for the given schemas into a new schema in pool p:
 * what the connecting role may read, write and execute, or, with
 * every_privilege, everything (for requests that run as other roles). */
ar_error *ar_reflect_load(struct pg_conn *conn, apr_pool_t *p,
                          const apr_array_header_t *schemas, int every_privilege,
                          ar_schema **out);
/* A digest of the catalogue rows a reflection reads: the same one means a
 * reflection now would read what the last one did. reflect_fingerprint.c. */
ar_error *ar_reflect_fingerprint(struct pg_conn *conn, apr_pool_t *p, const char **out);

/* -------------------------------------------------------------- exposure */

/* What a Location shows: its schemas, minus excluded relations and hidden columns. */
typedef struct {
    const apr_array_header_t *schemas;  /* const char *; the first is the default */
    apr_hash_t *excluded;               /* "schema.relation" -> "" */
    apr_hash_t *hidden;                 /* "schema.relation.column" -> "" */
} ar_exposure;

int ar_exposed_schema(const ar_exposure *x, const char *schema);
/* Whether schema.name (a relation or a function) is served: its schema is,
 * and AutoRestExclude does not name it. */
int ar_exposed_object(const ar_exposure *x, const char *schema, const char *name);
int ar_exposed_relation(const ar_exposure *x, const ar_relation *rel);
int ar_exposed_column(const ar_exposure *x, const ar_relation *rel,
                      const ar_column *col);
/* Whether AutoRestHide leaves schema.relation.name shown (a column's or a
 * relationship's name). */
int ar_exposed_name(const ar_exposure *x, const ar_relation *rel, const char *name);
/* Resolve a path segment: "name" in the default schema (or in profile, when
 * not NULL), or "schema.name". */
const ar_relation *ar_resolve_relation(const ar_schema *s, const ar_exposure *x,
                                       const char *profile, const char *segment);

/* ----------------------------------------------------------------- query */

#define AR_UNSET (-1)
/* The largest limit, offset, page or count a client may give: far past any
 * table, and small enough that offset + limit + 1 never overflows. */
#define AR_MAX_COUNT APR_INT64_C(1000000000000000000)
/* Deepest and/or nesting a client may send (PostgREST grammar or q=). */
#define AR_MAX_LOGIC_DEPTH 8

/* One step of a JSON path: ->key, ->0, ->>key (as_text: the last step only). */
typedef struct {
    const char *key;
    int is_index;           /* a digits-only key: an array subscript */
    int as_text;            /* ->> rather than -> */
} ar_path_step;

/* A column named by the client, with an optional JSON path. */
typedef struct {
    const char *column;
    apr_array_header_t *path;   /* ar_path_step; NULL or empty: the column itself */
    const struct ar_column_s *ref;  /* set by the planner: the column it names */
    int restless;               /* from q=: a name that is not a column may be a
                                 * relationship's, as automap names it, and
                                 * "rel__field" a related object's field */
} ar_field;

typedef enum {
    AR_OP_EQ, AR_OP_NEQ, AR_OP_GT, AR_OP_GTE, AR_OP_LT, AR_OP_LTE,
    AR_OP_LIKE, AR_OP_ILIKE, AR_OP_MATCH, AR_OP_IMATCH,
    AR_OP_IN, AR_OP_IS, AR_OP_ISDISTINCT,
    AR_OP_FTS, AR_OP_PLFTS, AR_OP_PHFTS, AR_OP_WFTS,
    AR_OP_CS, AR_OP_CD, AR_OP_OV, AR_OP_SL, AR_OP_SR, AR_OP_NXR, AR_OP_NXL, AR_OP_ADJ,
    AR_OP_HAS,      /* q= has: the related object (to-one) matches children[0] */
    AR_OP_ANY,      /* q= any: some related object (to-many) matches children[0] */
    AR_OP__COUNT
} ar_op;

typedef enum { AR_QUANT_NONE, AR_QUANT_ANY, AR_QUANT_ALL } ar_quant;

/* is.<value> */
typedef enum { AR_IS_NULL, AR_IS_NOT_NULL, AR_IS_TRUE, AR_IS_FALSE, AR_IS_UNKNOWN } ar_is_value;

typedef enum { AR_COND_LEAF, AR_COND_AND, AR_COND_OR } ar_cond_kind;

/* A filter: a tree of and/or nodes over leaves "field op value". */
typedef struct ar_cond {
    ar_cond_kind kind;
    int negated;
    /* AR_COND_LEAF */
    ar_field field;
    ar_op op;
    ar_quant quant;
    const char *value;              /* the operand, as text; NULL for IN and IS */
    apr_array_header_t *values;     /* const char *: IN's list; NULL elements are SQL NULL */
    ar_is_value is_value;           /* for IS */
    const char *language;           /* fts(<language>), or NULL */
    const ar_field *other;          /* Flask-Restless {"field": ...}: column vs column */
    const struct ar_embed_plan *embed;  /* set by the planner: rel=is.null / not.is.null
                                         * on an embedded resource ([NOT] EXISTS), or
                                         * has/any (EXISTS, with the embed's where) */
    /* AR_COND_AND / AR_COND_OR; for has/any, the one condition on the related
     * rows (field.column names the relationship) */
    apr_array_header_t *children;   /* ar_cond * */
} ar_cond;

/* Deepest select=a,b(c,d(e)) nesting of embedded resources. */
#define AR_MAX_EMBED_DEPTH 8

struct ar_embed_request;

/* PostgREST 12's aggregates in select=: col.sum(), col.avg(), col.min(),
 * col.max(), col.count(), and count() of the rows. */
typedef enum {
    AR_AGG_NONE = 0, AR_AGG_COUNT, AR_AGG_SUM, AR_AGG_AVG, AR_AGG_MIN, AR_AGG_MAX
} ar_aggregate;

typedef struct {
    ar_field field;
    const char *alias;      /* NULL: the column's name, or the last path key */
    const char *cast;       /* NULL, or a type name (letters, digits, _, space, dot, []);
                             * for an aggregate, the cast of its argument */
    ar_aggregate agg;       /* col.sum() and the like; count(): field.column NULL */
    const char *agg_cast;   /* col.sum()::type: the cast of the aggregate's value */
    const struct ar_embed_request *embed;  /* not NULL: rel(...) instead of a column */
} ar_select_item;

/* [alias:][...]rel[!hint][!inner](select list) in select=. */
typedef struct ar_embed_request {
    const char *name;       /* the related relation, as the client wrote it */
    const char *hint;       /* !fk_name, !column or !junction; NULL: none */
    int inner;              /* !inner: parents without a related row are dropped */
    int spread;             /* ...rel(...): the fields are the parent's (to-one) */
    apr_array_header_t *select;  /* ar_select_item; empty for rel() */
} ar_embed_request;

typedef enum { AR_NULLS_DEFAULT, AR_NULLS_FIRST, AR_NULLS_LAST } ar_nulls;

typedef struct {
    ar_field field;
    int desc;
    ar_nulls nulls;
} ar_order_item;

typedef enum { AR_COUNT_NONE, AR_COUNT_EXACT, AR_COUNT_PLANNED, AR_COUNT_ESTIMATED } ar_count;

/* What the client wants back. */
/* NDJSON: one JSON value per line, no array around them (application/x-ndjson).
 * PLAN_TEXT, PLAN_JSON: PostgreSQL's EXPLAIN of the statement instead of its
 * rows (application/vnd.pgrst.plan[+text|+json]).
 * HTML: the browsable API's pages (ar_html.h), for a browser asking text/html
 * first where AutoRestBrowsable is on. */
typedef enum {
    AR_MEDIA_JSON, AR_MEDIA_OBJECT, AR_MEDIA_CSV, AR_MEDIA_NDJSON, AR_MEDIA_PLAN_TEXT,
    AR_MEDIA_PLAN_JSON, AR_MEDIA_OPENAPI, AR_MEDIA_HTML
} ar_media;

/* How a Location answers: as PostgREST does, or as Flask-Restless 0.17 did. */
typedef enum { AR_DIALECT_POSTGREST, AR_DIALECT_RESTLESS } ar_dialect;

/* rel.order=, rel.limit=, rel.offset=, rel.or=(...) (and .and, .not.or,
 * .not.and) for an embedded resource; path is "rel" or "rel.child". */
typedef enum { AR_EOPT_ORDER, AR_EOPT_LIMIT, AR_EOPT_OFFSET, AR_EOPT_TREE } ar_embed_opt_kind;

typedef struct {
    const char *path;
    ar_embed_opt_kind kind;
    apr_array_header_t *order;      /* ORDER: ar_order_item */
    apr_int64_t count;              /* LIMIT, OFFSET */
    struct ar_cond *tree;           /* TREE */
} ar_embed_opt;

/* What a request does to its relation, from its method. */
typedef enum {
    AR_WRITE_NONE,      /* GET, HEAD: a read */
    AR_WRITE_INSERT,    /* POST: insert, or upsert with Prefer: resolution= */
    AR_WRITE_UPDATE,    /* PATCH */
    AR_WRITE_PUT,       /* PUT: one row by its whole primary key, inserted or replaced */
    AR_WRITE_DELETE     /* DELETE */
} ar_write_kind;

/* Prefer: return=... */
typedef enum { AR_RETURN_MINIMAL, AR_RETURN_HEADERS, AR_RETURN_REPRESENTATION } ar_return;
/* Prefer: resolution=... (upsert) */
typedef enum { AR_RESOLVE_NONE, AR_RESOLVE_MERGE, AR_RESOLVE_IGNORE } ar_resolution;

/* What a write asks beyond the read grammar (which gives its filters and
 * the shape of its representation). */
typedef struct {
    ar_write_kind kind;
    apr_array_header_t *columns;     /* columns=: const char *; NULL: the body's keys */
    apr_array_header_t *on_conflict; /* on_conflict=: const char *; NULL: primary key */
    ar_return ret;                   /* return=; minimal when not asked */
    int ret_asked;
    ar_resolution resolution;
    int missing_default;             /* missing=default: absent keys take the default */
    apr_int64_t max_affected;        /* max-affected=N; AR_UNSET when not asked */
    int tx_rollback;                 /* tx=rollback */
    int tx_asked;                    /* tx=commit or tx=rollback was sent */
    int csv;                         /* Content-Type: text/csv */
    int key_back;                    /* the key of the written row is wanted (Location)
                                      * even without return=headers-only */
} ar_write_request;

typedef struct {
    const char *relation;   /* NULL: the index route */
    const char *pk_value;   /* NULL: the collection route */
    /* Flask-Restless's /relation/pk/relationship[/related_pk]: the objects
     * related to the row pk_value, or the one of them with related_pk */
    const char *relationship;
    const char *related_pk;
    apr_int64_t limit;      /* AR_UNSET when not asked */
    apr_int64_t offset;     /* 0 when not asked */
    int ranged;             /* a Range header was given */
    apr_array_header_t *select;     /* ar_select_item; NULL: every visible column */
    ar_cond *where;                 /* NULL: no filter; else an AR_COND_AND root;
                                     * rel.col=... filters are here too, for the
                                     * planner to move under their embed */
    apr_array_header_t *embed_opts; /* ar_embed_opt, or NULL */
    apr_array_header_t *order;      /* ar_order_item; NULL: the default order */
    ar_count count;                 /* Prefer: count=... */
    int strict;                     /* Prefer: handling=strict */
    ar_media media;
    const char *plan_options;       /* a plan's EXPLAIN options from Accept's
                                     * options=analyze|verbose|...: ", ANALYZE"... */
    const char *profile;            /* Accept-Profile, or NULL */
    const char *cursor;             /* cursor=: a keyset token, or NULL */
    /* Flask-Restless */
    int related_objects;            /* objects carry their relationships one level
                                     * deep (ar_restless_relationships) */
    int single;                     /* q={"single": true} */
    apr_int64_t page;               /* page=N (1-based); AR_UNSET */
    apr_int64_t per_page;           /* results_per_page=N; AR_UNSET */
    ar_write_request write;         /* kind AR_WRITE_NONE for a read */
    /* /rpc/<routine> */
    const char *routine;            /* NULL: not a call */
    apr_array_header_t *call_params; /* ar_call_param: the query string's other names,
                                     * arguments or filters once the routine is known */
    int call_single_object;         /* Prefer: params=single-object */
    int call_post;                  /* POST: arguments in the body */
    int aggregates;                 /* AutoRestAggregates On: select= may aggregate
                                     * (set by the glue, for reads of relations) */
} ar_read_request;

/* The request headers the parser reads; NULL when absent. */
typedef struct {
    const char *range;
    const char *range_unit;
    const char *prefer;
    const char *accept;
    const char *accept_profile;
    const char *content_type;
    ar_write_kind method;           /* AR_WRITE_NONE: GET or HEAD */
    int calls;                      /* /rpc/<function> is a call (AutoRestRPC on) */
    int html;                       /* text/html is served (AutoRestBrowsable On) */
} ar_request_headers;

/* path: what follows the Location ("" "/" "/rel" "/rel/" "/rel/pk"), already
 * percent-decoded; args: the raw query string or NULL. */
ar_error *ar_query_parse(apr_pool_t *p, ar_dialect dialect, const char *path,
                         const char *args, const ar_request_headers *h,
                         ar_read_request *out);
/* application/x-www-form-urlencoded text (a query string, a form body): +
 * for space and %XX; NULL on a bad escape or %00. */
char *ar_form_decode(apr_pool_t *p, const char *s, apr_size_t len);
/* Its name=value pairs (ar_call_param, decoded, in order; a name without =
 * has the value ""); NULL on a bad escape. */
apr_array_header_t *ar_form_pairs(apr_pool_t *p, const char *s, apr_size_t len);
/* One filter name=[not.]op.value into out->where. */
ar_error *ar_query_parse_filter(apr_pool_t *p, const char *name, const char *value,
                                ar_read_request *out);

/* The most one request may ask for (query_limits.c); 0: no bound of the
 * Location's own (the parser's compile-time bounds still hold). */
typedef struct {
    int depth;              /* and/or nesting, and embedding (AutoRestMaxDepth) */
    int filters;            /* filters, embedded ones and or=(...) members included */
    int select_items;       /* select items, embedded lists included */
    apr_size_t url_part;    /* bytes of one path segment or one name=value */
} ar_query_limits;
/* 400 (AR108 for depth, AR121 for the rest) when req asks for more. */
ar_error *ar_query_check_limits(apr_pool_t *p, const ar_read_request *req,
                                const ar_query_limits *most);
/* 400 AR121 when a path segment or a name=value of args (still encoded) is
 * longer than most bytes. */
ar_error *ar_query_check_url(apr_pool_t *p, const char *path, const char *args,
                             apr_size_t most);

/* Flask-Restless's q= (search format of 0.17) into out->where/order/limit/
 * offset/single; restless.c. */
ar_error *ar_restless_parse_q(apr_pool_t *p, const char *json_text, ar_read_request *out);
/* Flask-Restless pages: page/results_per_page (default 10, capped by
 * max_rows) become limit/offset unless q= gave its own; always counted. */
void ar_restless_window(ar_read_request *req, apr_int64_t max_rows, apr_int64_t *per_page);

/* How two relations relate, seen from the parent. */
typedef enum { AR_CARD_M2O, AR_CARD_O2O, AR_CARD_O2M, AR_CARD_M2M } ar_cardinality;

/* A relationship through reflected foreign keys, from parent to target. */
typedef struct {
    ar_cardinality card;
    const ar_relation *parent, *target;
    const ar_foreign_key *fk;       /* M2O/O2O: parent's, or target's (O2M, or O2O
                                     * seen from the referenced side); M2M: the
                                     * junction's key to the parent */
    int fk_on_parent;               /* fk belongs to parent (it references target) */
    const ar_relation *junction;    /* M2M only */
    const ar_foreign_key *fk_target;  /* M2M: the junction's key to the target */
} ar_relationship;

/* A relationship under the name Flask-Restless's objects and q= give it. */
typedef struct {
    const char *name;
    ar_relationship rel;
} ar_named_relationship;

/* The relationships of rel as SQLAlchemy's automap maps and names them
 * (Flask-Restless served automap's models): only between exposed tables
 * with a primary key; a table of exactly two foreign keys that hold all its
 * columns is a junction, not a model. A key's table gets <target> (one
 * object), the referenced table <table>_collection (a list), each side of
 * a junction <other>_collection. A name automap would give twice, or that
 * a column has, becomes <name>_via_<the key's constraint name> for each
 * relationship that wanted it. Sorted by name; hidden names (AutoRestHide
 * schema.relation.name) and relationships through hidden columns
 * (ar_exposed_relationship) left out. restless.c. */
apr_array_header_t *ar_restless_relationships(apr_pool_t *p, const ar_schema *s,
                                              const ar_exposure *x, const ar_relation *rel);

/* Whether every column a relationship joins on (both sides, and the
 * junction's) is shown: one through a hidden column would show, or let a
 * filter probe, the hidden values. reflect_rules.c. */
int ar_exposed_relationship(const ar_exposure *x, const ar_relationship *r);

struct ar_embed_plan;

/* One column of the response: its name, how it is selected and encoded. */
typedef struct {
    const ar_column *column;        /* NULL for an embedded resource */
    const struct ar_embed_plan *embed;  /* not NULL: rel(...), as JSON PostgreSQL builds */
    const struct ar_embed_plan *spread; /* not NULL: a column of ...rel(...), a to-one
                                         * resource whose fields are the parent's */
    ar_encoding enc;        /* after planning: SQL_JSON columns arrive as JSON */
    ar_encoding elem_enc;
    const char *name;       /* the key in the response (alias or column name) */
    const apr_array_header_t *path;  /* ar_path_step, or NULL */
    const char *cast;
    ar_aggregate agg;       /* an aggregate over column (count(): column is the rows') */
    const char *agg_cast;   /* the cast of the aggregate's value */
    int count_rows;         /* count(): count(*) */
} ar_output_column;

/* An ORDER BY term, resolved. */
typedef struct {
    const ar_column *column;
    const apr_array_header_t *path;  /* ar_path_step, or NULL */
    int desc;
    ar_nulls nulls;
    const struct ar_embed_plan *embed;  /* order=rel(col): column is rel's, read from
                                         * the parent's one related row */
} ar_order_term;

typedef struct {
    const ar_relation *relation;
    apr_array_header_t *columns;    /* ar_output_column */
    apr_array_header_t *embeds;     /* const struct ar_embed_plan *: every rel(...) of
                                     * select, also those without a key (rel()) */
    apr_array_header_t *order;      /* ar_order_term */
    const ar_cond *where;           /* with every field checked against the relation */
    const ar_column *pk_column;     /* for the single-row route */
    const char *pk_value;
    apr_int64_t offset;
    apr_int64_t limit;              /* rows to return, AR_UNSET = all */
    int probe_next;                 /* fetch limit+1 rows to learn if more follow */
    int single;                     /* one object, not an array */
    ar_count count;
    ar_media media;                 /* CSV wants PostgreSQL's text, not to_json() */
    int keyset;                     /* the order is total over visible columns: pages
                                     * can continue by cursor */
    int *key_columns;               /* keyset: the result column of each order term;
                                     * a term not selected as it is goes at the end
                                     * of the select list, after the columns */
    const char **after;             /* a cursor's key values (NULL = SQL NULL): rows
                                     * after them; NULL when no cursor */
    apr_int64_t skipped;            /* rows before this page, by the cursor */
    /* /parent/pk/relationship: relation is the relationship's target, its
     * rows those related to the parent's row (a condition in where); the
     * parent's row is looked for apart (ar_sql_render_parent), which tells
     * a parent that is not there (404) from one with nothing related */
    const ar_relation *parent;
    const ar_column *parent_pk;
    const char *parent_value;
    int related_one;                /* a to-one relationship: the object or null */
    const char *source;             /* not NULL: the rows come from this CTE (the rows
                                     * a write returned), named so in the statement,
                                     * rather than from the relation */
    const struct ar_call_plan *call; /* not NULL: the rows are a function's result,
                                     * called in the FROM clause (ar_call.h) */
    int grouped;                    /* select= aggregates: GROUP BY the other columns */
} ar_read_plan;

/* An embedded resource: the rows of target related to each parent row,
 * as one JSON value per parent (object or null for to-one, array for
 * to-many), with its own columns, nested embeds included. */
typedef struct ar_embed_plan {
    ar_relationship rel;
    apr_array_header_t *columns;    /* ar_output_column of the target */
    apr_array_header_t *embeds;     /* const ar_embed_plan *: the target's own rel(...) */
    struct ar_cond *where;          /* rel.col=... and rel.or=...: an AND root, or NULL */
    apr_array_header_t *order;      /* ar_order_term, or NULL */
    apr_int64_t limit, offset;      /* AR_UNSET / 0 when not asked */
    const char *key;                /* what the client calls it: alias or name */
    int grouped;                    /* aggregates in its select: GROUP BY the rest */
    int inner;
    int depth;                      /* 1 for the top level's embeds; names aliases */
    int id;                         /* unique in the statement; names aliases */
} ar_embed_plan;

/* ---------------------------------------------------------------- cursor */

/* The query's identity for cursors: relation and order terms. */
const char *ar_cursor_shape(apr_pool_t *p, const ar_read_plan *plan);
/* A token for "the rows after values[0..n)", position rows in. */
char *ar_cursor_encode(apr_pool_t *p, const unsigned char *key, apr_size_t key_len,
                       const char *shape, apr_int64_t position,
                       const char *const *values, int n);
/* Checks the token's MAC against key and shape before reading it. */
ar_error *ar_cursor_decode(apr_pool_t *p, const unsigned char *key, apr_size_t key_len,
                           const char *shape, const char *token, int n,
                           apr_int64_t *position, const char ***values);
/* Applies req's cursor (if any) to a keyset plan: AR_ERR_BAD_CURSOR when
 * it does not verify, or the plan cannot continue by cursor. */
ar_error *ar_plan_apply_cursor(apr_pool_t *p, ar_read_plan *plan, const char *token,
                               const unsigned char *key, apr_size_t key_len);

/* max_rows: the Location's cap, 0 for none. */
ar_error *ar_plan_read(apr_pool_t *p, const ar_schema *s, const ar_exposure *x,
                       const ar_read_request *req, apr_int64_t max_rows,
                       ar_read_plan *out);
/* The same over a relation already resolved (a function's result rows). */
ar_error *ar_plan_read_relation(apr_pool_t *p, const ar_schema *s, const ar_exposure *x,
                                const ar_read_request *req, const ar_relation *rel,
                                apr_int64_t max_rows, ar_read_plan *out);
/* Whether the statement of plan may run code that could read the request's
 * settings: a relation's (ar_relation.read_runs_code), of the plan, of every
 * embedded resource and of every one a filter or an order term reads; a
 * cast's, a function's or a write's. Where none runs, the settings need not
 * be sent. plan_embed.c. */
int ar_read_plan_runs_code(const ar_read_plan *plan);
/* Whether a filter tree holds an embedded resource's test (has/any,
 * rel=is.null, a relationship route's parent) that match says yes to;
 * match NULL: any. plan_embed.c. */
int ar_cond_any_embed(const ar_cond *c, int (*match)(const ar_embed_plan *));

typedef struct {
    const char *text;
    apr_array_header_t *params;     /* const char *: bound values, $1.. */
} ar_sql;

/* The statement whose rows are ("schema.name", may read or execute, AR_CAN_*
 * bits) for each relation and function of the schemas, for the role it runs as. */
void ar_reflect_privileges_sql(apr_pool_t *p, const apr_array_header_t *schemas, ar_sql *out);

void ar_sql_render_read(apr_pool_t *p, const ar_read_plan *plan, ar_sql *out);
/* SELECT 1 from the parent of a relationship route, by its key. */
void ar_sql_render_parent(apr_pool_t *p, const ar_read_plan *plan, ar_sql *out);
/* The total for Prefer: count. exact: count(*) of the filtered relation;
 * planned: EXPLAIN (FORMAT JSON) of it, whose "Plan Rows" is the estimate;
 * estimated: the exact count of at most threshold+1 rows (planned beyond). */
void ar_sql_render_count(apr_pool_t *p, const ar_read_plan *plan, ar_count how,
                         apr_int64_t threshold, ar_sql *out);
/* "Plan Rows" of EXPLAIN (FORMAT JSON) output; 0 when unreadable. */
apr_int64_t ar_sql_plan_rows(const char *explain_json);
/* "name" with embedded quotes doubled */
const char *ar_sql_quote_ident(apr_pool_t *p, const char *name);

/* ------------------------------------------------- methods and the index */

/* The HTTP methods a Location serves (AutoRestMethods), as bits. */
enum {
    AR_METHOD_GET = 1 << 0,
    AR_METHOD_POST = 1 << 1,
    AR_METHOD_PATCH = 1 << 2,
    AR_METHOD_PUT = 1 << 3,
    AR_METHOD_DELETE = 1 << 4
};

/* What the caller may do to rel: AR_CAN_* of its role (writable:
 * "schema.relation" -> int, from ar_reflect_privileges_sql run as the role; NULL:
 * the connecting role's, which the reflection read) as far as the relation
 * itself can (a view that is not updatable). reflect_rules.c. */
int ar_role_can(apr_pool_t *p, const ar_relation *rel, apr_hash_t *writable);
/* The AR_METHOD_* of a Location's methods that can do something to rel:
 * GET always, PUT only by a key and with both INSERT and UPDATE. */
int ar_relation_methods(const ar_relation *rel, int methods, int can);
/* "GET" for AR_METHOD_GET, and so on; NULL for anything else. */
const char *ar_method_name(int bit);

/* A relation's path segment as the URL carries it: "name" in the default
 * schema, else "schema.name", percent-encoded (index_out.c). */
char *ar_relation_segment(apr_pool_t *p, const ar_exposure *x, const ar_relation *rel);
/* The index document {"relations":[...]} for what x exposes; base_url is
 * the Location's path; methods: what the Location serves, which each
 * relation lists as far as the connecting role's privileges permit (or,
 * when writable is not NULL, the request's role's: "schema.relation" -> int
 * AR_CAN_* bits, see ar_openapi_options); rpc
 * (ar_rpc_mode): with functions served, "functions":[...] too. NULL when
 * out of memory. */
char *ar_json_index(apr_pool_t *p, const ar_schema *s, const ar_exposure *x,
                    const char *base_url, int methods, int rpc, apr_hash_t *writable,
                    apr_size_t *len);

/* ------------------------------------------------------------------ hash */

/* A fast 64-bit hash of bytes (hash.c): not a secret, only for finding and
 * telling apart; every table that uses it compares its keys in full. */
typedef struct {
    apr_uint64_t lane[4];
    apr_uint64_t bytes;
} ar_hash;

void ar_hash_init(ar_hash *h);
void ar_hash_add(ar_hash *h, const void *data, apr_size_t len);
apr_uint64_t ar_hash_value(const ar_hash *h);
apr_uint64_t ar_hash_bytes(const void *data, apr_size_t len);
/* The same as an apr_hash_t's hash function (apr_hash_make_custom): APR's
 * own reads a byte at a time, 2,000 instructions for one statement's text. */
unsigned int ar_hash_for_table(const char *key, apr_ssize_t *klen);

/* The core's other parts, which use the types above. */
#include "ar_out.h"
#include "ar_write.h"
#include "ar_read_cache.h"
#include "ar_path_facts.h"
#include "ar_db.h"
#include "ar_call.h"

#endif
