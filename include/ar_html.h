/*
 * ar_html.h: the browsable API (text/html). Pure core, html_out.c: pages
 * written into an ar_out as the rows arrive, so that an HTML page streams
 * in flat memory as JSON does.
 *
 * A page is plain HTML and one stylesheet inline, allowed by its hash in
 * AR_HTML_CSP: no script, no external asset. Forms do what script would:
 * the filter form rebuilds the URL (GET, empty fields left out by the
 * server), the write forms POST application/x-www-form-urlencoded with a
 * _method field (PATCH, PUT, DELETE) that the glue honours for same-origin
 * requests only.
 */
#ifndef AR_HTML_H
#define AR_HTML_H

#include "autorest.h"

/* Rows an HTML page shows when the URL asks for no limit. */
#define AR_HTML_PAGE_ROWS 100

/* The form field that names a write form's method. */
#define AR_HTML_METHOD_FIELD "_method"

/* The page's stylesheet, and the policy that allows it and nothing else:
 * the hash is that of ar_html_style (t/api/412_browsable.t checks it). */
extern const char ar_html_style[];
#define AR_HTML_CSP                                                                   \
    "default-src 'none'; style-src 'sha256-oYvHe9y1gRlDvdekMVkOPesFDIxi3lLvbPpvW649MB0='; " \
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

/* One page of rows: a collection (a table of rows, the filter form, the
 * insert form) or, when the filters fix the whole primary key, a record
 * per row with its edit and delete forms. */
typedef struct {
    const char *location;              /* the Location's path, no trailing slash */
    const char *path;                  /* the page's own path, %-encoded */
    const ar_relation *relation;
    const ar_exposure *exposure;
    const apr_array_header_t *columns; /* the plan's ar_output_column */
    const apr_array_header_t *args;    /* ar_call_param: the query, decoded (ar_html_args) */
    int methods;                       /* AR_METHOD_* of the Location */
    int can;                           /* AR_CAN_* the caller's privileges allow here */
    /* ar_html_page_init's */
    int record;                        /* the filters fix the whole primary key */
    int *key_out;                      /* the output column of each primary key column,
                                        * or NULL when the key is not shown as it is */
    ar_out scratch;                    /* a cell's JSON, before it is escaped */
} ar_html_page;

void ar_html_page_init(apr_pool_t *p, ar_html_page *pg);
/* The head, the filter form, and the table's (or records') start. */
void ar_html_open(ar_out *o, ar_html_page *pg);
void ar_html_row(ar_out *o, ar_html_page *pg, const ar_row_format *f,
                 const char *const *values, const int *lens);
/* The end: the pages' links (a Link header's value, or NULL), the rows
 * shown (a Content-Range value, or NULL), the insert form. */
void ar_html_close(ar_out *o, ar_html_page *pg, apr_int64_t rows, const char *links,
                   const char *range);

/* The index: every relation and function x shows, linked, with their
 * methods for this caller (writable as ar_json_index takes it). */
char *ar_html_index(apr_pool_t *p, const ar_schema *s, const ar_exposure *x,
                    const char *location, int methods, int rpc, apr_hash_t *writable,
                    apr_size_t *len);
/* An error's page: its status, code, message, details and hint. */
char *ar_html_error(apr_pool_t *p, int status, const ar_error *err, const char *location,
                    apr_size_t *len);

/* Whether Accept lists text/html first (with q > 0): a browser's own
 * request, not a client's that also takes HTML. */
int ar_html_accepted_first(const char *accept);
/* The query string without its empty fields (a submitted form sends every
 * field, filled or not), still %-encoded; NULL when nothing is left. */
char *ar_html_drop_empty(apr_pool_t *p, const char *args);
/* The query string's name=value pairs, decoded (ar_call_param); a pair
 * that does not decode is left out (the parser has refused it already). */
apr_array_header_t *ar_html_args(apr_pool_t *p, const char *args);
/* An application/x-www-form-urlencoded body as one row of string fields
 * for the writer: AR_HTML_METHOD_FIELD and empty fields left out (for PUT,
 * which gives the whole row, an empty field is NULL), the method's value
 * into *method (NULL when none). AR_ERR_BAD_BODY when an escape is
 * malformed. */
ar_error *ar_html_form_row(apr_pool_t *p, const char *body, apr_size_t len,
                           const ar_body_field **fields, int *nfields, const char **method);

/* Text into HTML, for element content and quoted attribute values alike. */
void ar_html_escape(ar_out *o, const char *s, apr_size_t len);

#endif
