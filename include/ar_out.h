/*
 * ar_out.h: the byte sink every answer is written into, and the JSON and
 * CSV encoders that write rows and values into it (json_out.c, with
 * text_rules.c's UTF-8 and number rules). Pure core, included at the end of
 * autorest.h.
 */
#ifndef AR_OUT_H
#define AR_OUT_H

/*
 * A byte sink. Without a flush function it is one buffer that grows: for
 * documents built whole (errors, the index, one object, tests); it starts
 * at `chunk` bytes, or 16 KiB when chunk is 0. With one, it
 * fills chunks of `chunk` bytes (larger only for a single larger value) and
 * hands a chunk to flush() when the next write would not fit, or on
 * ar_out_flush(). flush() answers what it did with the bytes:
 *   AR_OUT_DONE    sent or copied them: the chunk is filled again;
 *   AR_OUT_KEPT    holds on to them (a response being held whole): the
 *                  sink takes a fresh chunk from its pool;
 *   AR_OUT_FAILED  the client is gone: writing stops.
 * Handing whole chunks over is what keeps a page from being copied while it
 * grows (the profile of 1,000-row pages showed the doubling copies).
 */
enum { AR_OUT_FAILED = -1, AR_OUT_DONE = 0, AR_OUT_KEPT = 1 };
typedef int (*ar_flush_fn)(void *ctx, const char *data, apr_size_t len);

typedef struct {
    char *buf;
    apr_size_t len;
    apr_size_t cap;
    apr_size_t chunk;      /* chunk size when flush is set */
    ar_flush_fn flush;     /* NULL: one growing buffer */
    void *ctx;
    int failed;
    apr_pool_t *pool;
} ar_out;

void ar_out_init(ar_out *o, apr_pool_t *p, apr_size_t chunk,
                 ar_flush_fn flush, void *ctx);
void ar_out_write(ar_out *o, const char *data, apr_size_t len);
void ar_out_puts(ar_out *o, const char *s);
int ar_out_flush(ar_out *o);

void ar_json_write_string(ar_out *o, const char *s, apr_size_t len);
/* Whether s is well-formed UTF-8 (what a JSON text sent to PostgreSQL must be). */
int ar_utf8_valid(const char *s, apr_size_t len);
/* UTF-8's rule for a lead byte c >= 0x80: into *need how many continuation
 * bytes follow, into *lo and *hi the range of the first, which is what rules
 * out overlongs (E0, F0), surrogates (ED) and code points past U+10FFFF (F4).
 * 0 for no lead byte (then *need is left as it was). */
int ar_utf8_lead(unsigned char c, int *need, unsigned char *lo, unsigned char *hi);
/* One value in its column's encoding; value == NULL is SQL NULL. */
void ar_json_write_value(ar_out *o, ar_encoding enc, ar_encoding elem_enc,
                         const char *value, apr_size_t len);
int ar_json_is_number(const char *s, apr_size_t len);

/* RFC 4180 CSV: fields quoted when they hold a comma, quote, CR or LF, or
 * are empty strings (so that NULL, an empty unquoted field, stays apart);
 * lines end in CRLF. */
void ar_csv_write_header(ar_out *o, const apr_array_header_t *columns);
void ar_csv_write_row(ar_out *o, int ncols, const char *const *values, const int *lens);

/* The fixed parts of a row object, prepared once per request. */
typedef struct {
    int ncols;
    const char **keys;        /* "{\"a\":" then ",\"b\":" ... */
    apr_size_t *key_lens;
    ar_encoding *enc;
    ar_encoding *elem_enc;
    apr_size_t room;          /* a row's room but for its values' own lengths */
} ar_row_format;

ar_row_format *ar_row_format_make(apr_pool_t *p, const apr_array_header_t *columns);
/* values[i] NULL for SQL NULL; lens[i] its length. */
void ar_json_write_row(ar_out *o, const ar_row_format *f,
                       const char *const *values, const int *lens);
/* The same after a comma: a row of an array after its first. */
void ar_json_write_next_row(ar_out *o, const ar_row_format *f,
                            const char *const *values, const int *lens);

#endif
