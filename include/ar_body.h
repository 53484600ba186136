/*
 * ar_body.h: request bodies (JSON, CSV) read as they arrive. Pure core,
 * body.c (body_json.c, body_csv.c); included by autorest.h.
 *
 * The parser is pushed bytes in pieces of any size (httpd's brigades cut a
 * body anywhere, even inside a UTF-8 sequence or an escape) and hands each
 * complete row to a callback, then forgets it: memory stays that of the
 * largest row, whatever the body's size. Values keep the exact text the
 * client sent (a number's every digit, a nested object's bytes), because the
 * writer, not the parser, knows the column it goes to.
 */
#ifndef AR_BODY_H
#define AR_BODY_H

#include <apr_pools.h>

struct ar_error;

typedef enum { AR_BODY_JSON, AR_BODY_CSV } ar_body_format;

/* What a field's value was in the body. CSV fields are STRING, or NULL for
 * an empty unquoted field or the unquoted text NULL, as PostgREST reads them
 * (a quoted "" is the empty string, a quoted "NULL" the text). */
typedef enum {
    AR_VAL_NULL,
    AR_VAL_STRING,
    AR_VAL_NUMBER,
    AR_VAL_TRUE,
    AR_VAL_FALSE,
    AR_VAL_OBJECT,
    AR_VAL_ARRAY
} ar_value_kind;

typedef struct {
    const char *name;       /* the key (JSON, unescaped) or the header's name (CSV) */
    apr_size_t name_len;
    ar_value_kind kind;
    /* The value as text: a string unescaped (may hold NUL bytes only if the
     * client sent \u0000, which the parser rejects), a number's digits as
     * sent, "true"/"false", a nested object or array as its JSON text
     * verbatim; NULL for AR_VAL_NULL. NUL-terminated. */
    const char *text;
    apr_size_t len;
    /* The value as it stood in the body (JSON only; for CSV the same as text,
     * so NULL for a NULL field): for a string, its quoted and escaped JSON
     * form; for null, "null". NUL-terminated. */
    const char *raw;
    apr_size_t raw_len;
} ar_body_field;

/* One row: fields in the order the body gave them (for CSV, the header's
 * order; every row has every header field). row: 0 for the first. The
 * memory behind fields is valid during the call only. A non-NULL error
 * stops the parse and is what ar_body_feed/ar_body_finish return. */
typedef struct ar_error *(*ar_body_row_fn)(void *ctx, apr_int64_t row,
                                           const ar_body_field *fields, int nfields);

typedef struct ar_body_parser ar_body_parser;

/* Limits a client cannot pass: bytes of one row (its keys and values
 * together) and nesting depth inside one value. */
#define AR_BODY_MAX_ROW_BYTES (64 * 1024 * 1024)
#define AR_BODY_MAX_DEPTH 64

/* A parser whose memory comes from a subpool of p. */
ar_body_parser *ar_body_parser_create(apr_pool_t *p, ar_body_format format,
                                      ar_body_row_fn on_row, void *ctx);
/* The next bytes of the body. An error (AR_ERR_BAD_BODY for malformed or
 * misshapen input: its message says what and where, as a byte offset for
 * JSON, a line number for CSV) stops the parse for good. */
struct ar_error *ar_body_feed(ar_body_parser *bp, const char *data, apr_size_t len);
/* The body ended: an error when it ended early or held nothing (JSON: no
 * value; CSV: no header line). */
struct ar_error *ar_body_finish(ar_body_parser *bp);
/* JSON only, after the first byte that tells: the body is one object (not
 * an array of them). PostgREST answers a single object's POST with
 * Location; an array, even of one, without. */
int ar_body_is_single(const ar_body_parser *bp);
/* Rows handed to on_row so far. */
apr_int64_t ar_body_rows(const ar_body_parser *bp);

#endif
