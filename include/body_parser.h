/*
 * body_parser.h: the body parser that body.c (the row, its fields, UTF-8,
 * errors, the API), body_json.c and body_csv.c (the two readers) share.
 * Core-internal: not for the glue, which has ar_body.h.
 *
 * The parser holds the whole state of a reader between pieces of the body;
 * a row is collected in its buffer, fields by offset into it, and handed to
 * on_row by body_emit_row.
 */
#ifndef AR_BODY_PARSER_H
#define AR_BODY_PARSER_H

#include "autorest.h"

/* The readers' states, in one numbering: S_U8 returns to either's. */
enum {
    /* JSON, outside any row */
    J_START, J_BOM1, J_BOM2, J_TOP, J_ARR_FIRST, J_ARR_ELEM, J_ARR_AFTER, J_DONE,
    /* JSON, in a row's object */
    J_ROW_FIRST, J_ROW_KEY, J_ROW_COLON, J_ROW_VALUE, J_ROW_AFTER,
    /* JSON, inside an object or array that is a field's value */
    J_N_OBJ_FIRST, J_N_KEY, J_N_COLON, J_N_ARR_FIRST, J_N_VALUE, J_N_AFTER,
    /* JSON tokens */
    J_STR, J_ESC, J_HEX, J_SURR_BS, J_SURR_U,
    J_NUM_MINUS, J_NUM_ZERO, J_NUM_INT, J_NUM_DOT, J_NUM_FRAC, J_NUM_E, J_NUM_ESIGN,
    J_NUM_EXP, J_LIT,
    /* CSV */
    C_START, C_BOM1, C_BOM2, C_FIELD, C_UNQ, C_QUO, C_QUO_Q, C_CR,
    /* both: inside a UTF-8 sequence, then back to u8_ret */
    S_U8,
    S_FAILED
};

/* One field of the row being read, by offsets into the row buffer (the
 * name of a CSV field: into the header's copy). */
typedef struct {
    apr_size_t name_off, name_len;
    apr_size_t raw_off, raw_len;
    apr_size_t text_off, text_len;
    ar_value_kind kind;
} slot;

/* The names seen in this row, for duplicates: open addressing; an entry
 * whose gen is not the row's is empty, so a new row clears nothing. */
typedef struct {
    apr_uint32_t gen, idx;
} name_entry;

struct ar_body_parser {
    apr_pool_t *pool;           /* the caller's: errors are made there */
    ar_body_format format;
    ar_body_row_fn on_row;
    void *ctx;
    ar_error *err;              /* set once; every later call returns it */

    int state;
    apr_uint64_t base;          /* body offset of the current piece's first byte */
    apr_int64_t rows;
    int single;                 /* JSON: the body is one object */
    int in_row;                 /* JSON: inside an element (for messages) */
    apr_uint64_t row_start;     /* body offset of the row's first byte */

    /* the token being read */
    apr_size_t tok_off;         /* buffer offset of its first byte */
    apr_uint64_t tok_start;     /* body offset of its first byte */
    int is_key;                 /* JSON: the string is a key */
    int depth;                  /* JSON: containers open inside the field's value */
    apr_uint64_t nest;          /* bit d-1 set: the container at depth d is an object */
    ar_value_kind kind;         /* of the value just ended */
    apr_uint32_t hex, hi;       /* \uXXXX so far; a high surrogate waiting for its low */
    int hex_n;
    apr_uint64_t esc_at, hi_at; /* body offsets of the two escapes */
    const char *lit;            /* true, false or null, of which lit_pos are read */
    int lit_pos;
    int u8_need, u8_ret;        /* continuation bytes to come; the state after */
    unsigned char u8_lo, u8_hi; /* the next continuation byte's range */

    /* CSV */
    apr_int64_t line, rec_line; /* the current line; the row's first */
    int quoted;                 /* the field began with a quote */
    int cr_ret;                 /* the state a CR left, for its LF */
    int ncols;                  /* 0 until the header is read */
    char *hdr;                  /* the header's names, NUL-terminated */

    /* the row */
    char *buf;
    apr_size_t len, cap;
    slot *slots;
    ar_body_field *out;
    int nfields, fcap;
    name_entry *names;
    apr_uint32_t names_cap, gen;
};

/* Out of memory ends the process, as httpd's pools do (ap_abort_on_oom). */
void *body_xrealloc(void *p, apr_size_t n);
/* Room for n more bytes in the row buffer; 0 when the row is too large. */
int body_grow(ar_body_parser *bp, apr_size_t n);

/* The parser fails with this message; every later call returns it. */
void body_set_error(ar_body_parser *bp, const char *message);
/* "what at byte N (element E): detail", or "what at line N: detail". */
void body_fail(ar_body_parser *bp, apr_uint64_t at, const char *what, const char *detail);
void body_fail_too_big(ar_body_parser *bp);
/* A name for a message: its first ECHO_MAX bytes (body.c), cut between
 * characters, and "..." if that was not all. */
const char *body_echo(apr_pool_t *p, const char *s, apr_size_t len);

/* A new field at the end of the row; 0 (and the error set) when the row
 * has too many. */
int body_add_slot(ar_body_parser *bp);
/* Puts field idx's name (at base + name_off) in the row's table; 0 if a
 * field of this row already had it. */
int body_name_insert(ar_body_parser *bp, const char *base, int idx);
/* A new row: the table's names of the last one are forgotten. */
void body_names_reset(ar_body_parser *bp);
/* Hands the row to on_row; end is the body offset just past it. 0 when the
 * row is too large or on_row refused it. */
int body_emit_row(ar_body_parser *bp, apr_uint64_t end);

/* A lead byte c >= 0x80 sets up the continuation bytes to come; 0 for a
 * byte that starts no character. */
int body_u8_start(ar_body_parser *bp, unsigned char c);
/* Why c cannot be the next continuation byte. */
const char *body_u8_bad_next(unsigned char c);

/* The readers: a piece of the body, and its end. */
void body_json_feed(ar_body_parser *bp, const unsigned char *d, apr_size_t n);
void body_json_finish(ar_body_parser *bp);
void body_csv_feed(ar_body_parser *bp, const unsigned char *d, apr_size_t n);
void body_csv_finish(ar_body_parser *bp);

/* The readers' loops keep the buffer's fields in locals (buf, blen, bcap,
 * the state s, the byte index i into the piece, which starts at body offset
 * bp->base); these move them between the locals and the parser around calls
 * to the helpers above. A loop using ROOM or PUT has a too_big label. */
#define AT (bp->base + i)
#define SAVE() (bp->len = blen, bp->state = s)
#define LOAD() (buf = bp->buf, blen = bp->len, bcap = bp->cap)
#define ROOM(k)                                                              \
    do {                                                                     \
        if (bcap - blen < (k)) {                                             \
            bp->len = blen;                                                  \
            if (!body_grow(bp, (k)))                                         \
                goto too_big;                                                \
            LOAD();                                                          \
        }                                                                    \
    } while (0)
#define PUT(ch)                                                              \
    do {                                                                     \
        ROOM(1);                                                             \
        buf[blen++] = (char)(ch);                                            \
    } while (0)
#define FAIL_AT(off, what, detail)                                           \
    do {                                                                     \
        SAVE();                                                              \
        body_fail(bp, (off), (what), (detail));                              \
        return;                                                              \
    } while (0)
#define CALL(helper)                                                         \
    do {                                                                     \
        SAVE();                                                              \
        if (!(helper))                                                       \
            return;                                                          \
        LOAD();                                                              \
    } while (0)

#endif
