/*
 * body.c: request bodies, JSON or CSV, read as they arrive and handed on a
 * row at a time.
 *
 * Pure core: APR and the error values, nothing else. httpd hands a body over
 * as brigades cut anywhere, so both readers are push parsers: byte-at-a-time
 * state machines whose whole state lives in the parser, so that a piece may
 * end inside a string, an escape, a \uXXXX, a UTF-8 sequence, a number, a
 * CSV quote pair or between CR and LF, and the next piece carries on.
 *
 * A row is collected in one malloc'd buffer that is emptied, not freed, once
 * on_row has seen it: memory is that of the largest row, whatever the body's
 * length, and a pool cleanup frees it. For JSON the buffer holds each key
 * unescaped and each value's bytes as sent (then, for a string, its
 * unescaped text), each NUL-terminated; for CSV each field's text. Fields
 * refer to it by offset, because it moves when it grows, and become
 * pointers only for the callback.
 *
 * Strings are checked as they arrive (escapes, surrogate pairs, UTF-8,
 * control characters) and unescaped at their closing quote from bytes
 * already known to be good, so the unescaper needs no error paths.
 *
 * Errors name a byte offset (JSON, 0-based over the whole body) or a line
 * (CSV, 1-based physical lines), and an array's element by its 0-based
 * index, which is also the row's number given to on_row.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "autorest.h"

/* A row with more keys than this is no row of any table (PostgreSQL stops
 * at 1600 columns); the cap keeps a row's field table small. */
#define MAX_FIELDS 65536
/* The row buffer holds at most about twice a row's bytes (a JSON string's
 * text beside its raw form), so a buffer past this is a row past
 * AR_BODY_MAX_ROW_BYTES. The exact test is made when the row ends. */
#define BUF_LIMIT ((apr_size_t)AR_BODY_MAX_ROW_BYTES * 2 + 64)
/* How much of the client's input a message may quote. */
#define ECHO_MAX 40

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

/* -------------------------------------------------------------- memory */

static apr_status_t parser_free(void *data)
{
    ar_body_parser *bp = data;

    free(bp->buf);
    free(bp->slots);
    free(bp->out);
    free(bp->names);
    free(bp->hdr);
    bp->buf = NULL;
    bp->slots = NULL;
    bp->out = NULL;
    bp->names = NULL;
    bp->hdr = NULL;
    return APR_SUCCESS;
}

/* Out of memory ends the process, as httpd's pools do (ap_abort_on_oom). */
static void *xrealloc(void *p, apr_size_t n)
{
    void *q = realloc(p, n);

    if (!q)
        abort();
    return q;
}

/* Room for n more bytes in the row buffer; 0 when the row is too large. */
static int grow(ar_body_parser *bp, apr_size_t n)
{
    apr_size_t cap = bp->cap ? bp->cap : 4096;

    if (n > BUF_LIMIT - bp->len)
        return 0;
    while (cap - bp->len < n)
        cap *= 2;
    if (cap > BUF_LIMIT)
        cap = BUF_LIMIT;
    bp->buf = xrealloc(bp->buf, cap);
    bp->cap = cap;
    return 1;
}

/* ------------------------------------------------------------- errors */

static void set_error(ar_body_parser *bp, const char *message)
{
    bp->err = ar_error_make(bp->pool, AR_ERR_BAD_BODY, message, NULL, NULL);
    bp->state = S_FAILED;
}

/* "what at byte N (element E): detail", or "what at line N: detail". */
static void fail(ar_body_parser *bp, apr_uint64_t at, const char *what, const char *detail)
{
    apr_pool_t *p = bp->pool;

    if (bp->format == AR_BODY_CSV)
        set_error(bp, apr_psprintf(p, "%s at line %" APR_INT64_T_FMT ": %s", what, bp->line,
                                   detail));
    else if (bp->in_row && !bp->single)
        set_error(bp, apr_psprintf(p, "%s at byte %" APR_UINT64_T_FMT " (element %"
                                   APR_INT64_T_FMT "): %s", what, at, bp->rows, detail));
    else
        set_error(bp, apr_psprintf(p, "%s at byte %" APR_UINT64_T_FMT ": %s", what, at, detail));
}

/* Where the current row is, as the subject of a sentence. */
static const char *row_name(ar_body_parser *bp)
{
    if (bp->format == AR_BODY_CSV)
        return apr_psprintf(bp->pool, "the row at line %" APR_INT64_T_FMT, bp->rec_line);
    if (bp->single)
        return "the object";
    return apr_psprintf(bp->pool, "element %" APR_INT64_T_FMT, bp->rows);
}

static void fail_too_big(ar_body_parser *bp)
{
    set_error(bp, apr_psprintf(bp->pool, "%s is larger than %d bytes", row_name(bp),
                               AR_BODY_MAX_ROW_BYTES));
}

/* At most ECHO_MAX bytes of a name, cut between characters (names are valid
 * UTF-8 by then), for a message. */
static const char *echo(apr_pool_t *p, const char *s, apr_size_t len)
{
    apr_size_t cut = len;

    if (len <= ECHO_MAX)
        return apr_pstrmemdup(p, s, len);
    cut = ECHO_MAX;
    while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
        cut--;
    return apr_pstrcat(p, apr_pstrmemdup(p, s, cut), "...", NULL);
}

/* -------------------------------------------------------------- fields */

/* A new field at the end of the row; 0 when the row has too many. */
static int add_slot(ar_body_parser *bp)
{
    if (bp->nfields == bp->fcap) {
        int cap = bp->fcap ? bp->fcap * 2 : 16;

        if (bp->fcap >= MAX_FIELDS) {
            if (bp->format == AR_BODY_CSV)
                set_error(bp, apr_psprintf(bp->pool, "the header has more than %d columns",
                                           MAX_FIELDS));
            else
                set_error(bp, apr_psprintf(bp->pool, "%s has more than %d keys",
                                           row_name(bp), MAX_FIELDS));
            return 0;
        }
        if (cap > MAX_FIELDS)
            cap = MAX_FIELDS;
        bp->slots = xrealloc(bp->slots, (apr_size_t)cap * sizeof(*bp->slots));
        bp->out = xrealloc(bp->out, (apr_size_t)cap * sizeof(*bp->out));
        bp->fcap = cap;
    }
    bp->nfields++;
    return 1;
}

static apr_uint32_t name_hash(const char *s, apr_size_t n)
{
    apr_uint32_t h = 2166136261u;   /* FNV-1a */

    while (n--)
        h = (h ^ (unsigned char)*s++) * 16777619u;
    return h;
}

/* Puts field idx's name (at base + name_off) in the table; 0 if a field
 * of this row already had it. */
static int name_put(ar_body_parser *bp, const char *base, int idx)
{
    const slot *sl = &bp->slots[idx];
    const char *name = base + sl->name_off;
    apr_uint32_t mask = bp->names_cap - 1;
    apr_uint32_t h = name_hash(name, sl->name_len) & mask;

    for (;;) {
        name_entry *e = &bp->names[h];
        const slot *o;

        if (e->gen != bp->gen) {
            e->gen = bp->gen;
            e->idx = (apr_uint32_t)idx;
            return 1;
        }
        o = &bp->slots[e->idx];
        if (o->name_len == sl->name_len && memcmp(base + o->name_off, name, sl->name_len) == 0)
            return 0;
        h = (h + 1) & mask;
    }
}

/* As name_put, keeping the table at most half full. */
static int name_insert(ar_body_parser *bp, const char *base, int idx)
{
    apr_uint32_t want = (apr_uint32_t)(idx + 1) * 2;
    int k;

    if (want > bp->names_cap) {
        apr_uint32_t cap = bp->names_cap ? bp->names_cap * 2 : 16;

        while (cap < want)
            cap *= 2;
        free(bp->names);
        bp->names = calloc(cap, sizeof(*bp->names));
        if (!bp->names)
            abort();
        bp->names_cap = cap;
        for (k = 0; k < idx; k++)
            name_put(bp, base, k);
    }
    return name_put(bp, base, idx);
}

/* A new row: the table's entries of the last one become empty. */
static void names_reset(ar_body_parser *bp)
{
    if (++bp->gen == 0) {
        if (bp->names)
            memset(bp->names, 0, bp->names_cap * sizeof(*bp->names));
        bp->gen = 1;
    }
}

/* Hands the row to on_row; end is the body offset just past it. */
static int emit_row(ar_body_parser *bp, apr_uint64_t end)
{
    ar_error *e;
    int k;

    if (end - bp->row_start > AR_BODY_MAX_ROW_BYTES) {
        fail_too_big(bp);
        return 0;
    }
    for (k = 0; k < bp->nfields; k++) {
        const slot *sl = &bp->slots[k];
        ar_body_field *f = &bp->out[k];

        if (bp->format == AR_BODY_JSON) {
            f->name = bp->buf + sl->name_off;
            f->name_len = sl->name_len;
            f->raw = bp->buf + sl->raw_off;
            f->raw_len = sl->raw_len;
        }
        f->kind = sl->kind;
        if (sl->kind == AR_VAL_NULL && bp->format == AR_BODY_JSON) {
            f->text = NULL;
            f->len = 0;
        }
        else if (sl->kind == AR_VAL_NULL) {
            f->text = f->raw = NULL;
            f->len = f->raw_len = 0;
        }
        else {
            f->text = bp->buf + sl->text_off;
            f->len = sl->text_len;
            if (bp->format == AR_BODY_CSV) {
                f->raw = f->text;
                f->raw_len = f->len;
            }
        }
    }
    e = bp->on_row(bp->ctx, bp->rows, bp->out, bp->nfields);
    bp->rows++;
    bp->in_row = 0;
    if (e) {
        bp->err = e;
        bp->state = S_FAILED;
        return 0;
    }
    return 1;
}

/* --------------------------------------------------------------- UTF-8 */

/* A lead byte c >= 0x80: how many continuation bytes follow and the range
 * of the first, which is what rules out overlongs (E0, F0), surrogates
 * (ED) and code points past U+10FFFF (F4). 0 for no lead byte. */
static int u8_start(ar_body_parser *bp, unsigned char c)
{
    bp->u8_lo = 0x80;
    bp->u8_hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        bp->u8_need = 1;
    else if (c >= 0xE0 && c <= 0xEF) {
        bp->u8_need = 2;
        if (c == 0xE0)
            bp->u8_lo = 0xA0;
        else if (c == 0xED)
            bp->u8_hi = 0x9F;
    }
    else if (c >= 0xF0 && c <= 0xF4) {
        bp->u8_need = 3;
        if (c == 0xF0)
            bp->u8_lo = 0x90;
        else if (c == 0xF4)
            bp->u8_hi = 0x8F;
    }
    else
        return 0;
    return 1;
}

static const char *u8_bad_next(unsigned char c)
{
    return (c & 0xC0) == 0x80
        ? "an overlong form, a surrogate or a code point past U+10FFFF"
        : "a character cut short";
}

/* ---------------------------------------------------------------- JSON */

#define IS_WS(c) ((c) == ' ' || (c) == '\n' || (c) == '\r' || (c) == '\t')
#define IS_DIGIT(c) ((c) >= '0' && (c) <= '9')

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static apr_uint32_t hex4(const char *s)
{
    return (apr_uint32_t)(hexval((unsigned char)s[0]) << 12 | hexval((unsigned char)s[1]) << 8
                          | hexval((unsigned char)s[2]) << 4 | hexval((unsigned char)s[3]));
}

static char *put_utf8(char *o, apr_uint32_t cp)
{
    if (cp < 0x80)
        *o++ = (char)cp;
    else if (cp < 0x800) {
        *o++ = (char)(0xC0 | cp >> 6);
        *o++ = (char)(0x80 | (cp & 0x3F));
    }
    else if (cp < 0x10000) {
        *o++ = (char)(0xE0 | cp >> 12);
        *o++ = (char)(0x80 | (cp >> 6 & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    }
    else {
        *o++ = (char)(0xF0 | cp >> 18);
        *o++ = (char)(0x80 | (cp >> 12 & 0x3F));
        *o++ = (char)(0x80 | (cp >> 6 & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    }
    return o;
}

/* A string's inside (no quotes), already checked, unescaped to out; out may
 * be in - 1 (a key unescaped in place): what is written never overtakes
 * what is read, since every escape is longer than what it stands for. */
static apr_size_t unescape(char *out, const char *in, apr_size_t n)
{
    char *o = out;
    const char *end = in + n;

    while (in < end) {
        const char *bs = memchr(in, '\\', (apr_size_t)(end - in));
        apr_size_t run = (apr_size_t)((bs ? bs : end) - in);

        memmove(o, in, run);
        o += run;
        if (!bs)
            break;
        in = bs + 2;
        switch (bs[1]) {
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            apr_uint32_t cp = hex4(in);

            in += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (hex4(in + 2) - 0xDC00);
                in += 6;
            }
            o = put_utf8(o, cp);
            break;
        }
        default: *o++ = bs[1]; break;   /* " \ / */
        }
    }
    return (apr_size_t)(o - out);
}

/* A row's key ended (the buffer holds it quoted from tok_off): unescape it
 * in place, give it a field, refuse a second of the same name. */
static int end_key(ar_body_parser *bp)
{
    char *k = bp->buf + bp->tok_off;
    apr_size_t klen = unescape(k, k + 1, bp->len - bp->tok_off - 2);
    slot *sl;

    k[klen] = '\0';
    bp->len = bp->tok_off + klen + 1;
    if (!add_slot(bp))
        return 0;
    sl = &bp->slots[bp->nfields - 1];
    sl->name_off = bp->tok_off;
    sl->name_len = klen;
    if (!name_insert(bp, bp->buf, bp->nfields - 1)) {
        const char *where = bp->single ? "the object"
            : apr_psprintf(bp->pool, "element %" APR_INT64_T_FMT, bp->rows);

        set_error(bp, apr_psprintf(bp->pool, "key \"%s\" appears twice in %s (at byte %"
                                   APR_UINT64_T_FMT ")", echo(bp->pool, k, klen), where,
                                   bp->tok_start));
        return 0;
    }
    return 1;
}

/* A row's value ended (its bytes from tok_off): NUL-terminate the raw
 * form and, for a string, add the unescaped text. */
static int end_value(ar_body_parser *bp)
{
    slot *sl = &bp->slots[bp->nfields - 1];
    apr_size_t raw_len = bp->len - bp->tok_off;
    apr_size_t need = 1 + (bp->kind == AR_VAL_STRING ? raw_len - 1 : 0);

    if (bp->cap - bp->len < need && !grow(bp, need)) {
        fail_too_big(bp);
        return 0;
    }
    sl->kind = bp->kind;
    sl->raw_off = bp->tok_off;
    sl->raw_len = raw_len;
    bp->buf[bp->len++] = '\0';
    if (bp->kind == AR_VAL_STRING) {
        sl->text_off = bp->len;
        sl->text_len = unescape(bp->buf + bp->len, bp->buf + bp->tok_off + 1, raw_len - 2);
        bp->len += sl->text_len;
        bp->buf[bp->len++] = '\0';
    }
    else {
        sl->text_off = sl->raw_off;
        sl->text_len = raw_len;
    }
    return 1;
}

static void begin_row(ar_body_parser *bp, apr_uint64_t at)
{
    bp->len = 0;
    bp->nfields = 0;
    bp->in_row = 1;
    bp->row_start = at;
    names_reset(bp);
}

/* Bytes that may start a JSON value, to tell "not an object" from garbage. */
static int starts_value(unsigned char c)
{
    return c == '"' || c == '-' || IS_DIGIT(c) || c == 't' || c == 'f' || c == 'n'
        || c == '[' || c == '{';
}

/* The hot loop keeps the buffer's fields in locals; these move them between
 * the locals and the parser around calls to the helpers above. */
#define AT (bp->base + i)
#define SAVE() (bp->len = blen, bp->state = s)
#define LOAD() (buf = bp->buf, blen = bp->len, bcap = bp->cap)
#define ROOM(k)                                                              \
    do {                                                                     \
        if (bcap - blen < (k)) {                                             \
            bp->len = blen;                                                  \
            if (!grow(bp, (k)))                                              \
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
        fail(bp, (off), (what), (detail));                                   \
        return;                                                              \
    } while (0)
#define CALL(helper)                                                         \
    do {                                                                     \
        SAVE();                                                              \
        if (!(helper))                                                       \
            return;                                                          \
        LOAD();                                                              \
    } while (0)

static void json_feed(ar_body_parser *bp, const unsigned char *d, apr_size_t n)
{
    char *buf = bp->buf;
    apr_size_t blen = bp->len, bcap = bp->cap, i = 0, j;
    int s = bp->state;
    unsigned char c;

    while (i < n) {
        c = d[i];
        switch (s) {
        /* ---- outside the rows */
        case J_START:
            if (c == 0xEF) {
                s = J_BOM1;
                i++;
            }
            else
                s = J_TOP;
            continue;
        case J_BOM1:
        case J_BOM2:
            if (c != (s == J_BOM1 ? 0xBB : 0xBF))
                FAIL_AT(AT, "invalid JSON", "a broken byte order mark");
            s = s == J_BOM1 ? J_BOM2 : J_TOP;
            i++;
            continue;
        case J_TOP:
            if (IS_WS(c)) {
                i++;
                continue;
            }
            if (c == '{') {
                bp->single = 1;
                begin_row(bp, AT);
                blen = 0;
                s = J_ROW_FIRST;
            }
            else if (c == '[')
                s = J_ARR_FIRST;
            else {
                SAVE();
                set_error(bp, apr_psprintf(bp->pool, "the body must be a JSON object or an "
                                           "array of objects (at byte %" APR_UINT64_T_FMT ")",
                                           AT));
                return;
            }
            i++;
            continue;
        case J_ARR_FIRST:
        case J_ARR_ELEM:
            if (IS_WS(c)) {
                i++;
                continue;
            }
            if (c == '{') {
                begin_row(bp, AT);
                blen = 0;
                s = J_ROW_FIRST;
            }
            else if (c == ']' && s == J_ARR_FIRST)
                s = J_DONE;
            else if (starts_value(c)) {
                SAVE();
                set_error(bp, apr_psprintf(bp->pool, "element %" APR_INT64_T_FMT " of the "
                                           "array is not an object (at byte %"
                                           APR_UINT64_T_FMT ")", bp->rows, AT));
                return;
            }
            else
                FAIL_AT(AT, "invalid JSON",
                        s == J_ARR_FIRST ? "expected '{' or ']'" : "expected '{' after ','");
            i++;
            continue;
        case J_ARR_AFTER:
            if (c == ',')
                s = J_ARR_ELEM;
            else if (c == ']')
                s = J_DONE;
            else if (!IS_WS(c))
                FAIL_AT(AT, "invalid JSON", "expected ',' or ']' after an element");
            i++;
            continue;
        case J_DONE:
            if (!IS_WS(c))
                FAIL_AT(AT, "invalid JSON", "more after the body's value");
            i++;
            continue;

        /* ---- a row's object */
        case J_ROW_FIRST:
        case J_ROW_KEY:
            if (IS_WS(c)) {
                i++;
                continue;
            }
            if (c == '"') {
                bp->is_key = 1;
                bp->tok_off = blen;
                bp->tok_start = AT;
                PUT(c);
                s = J_STR;
                i++;
                continue;
            }
            if (c == '}' && s == J_ROW_FIRST)
                goto row_end;
            FAIL_AT(AT, "invalid JSON",
                    s == J_ROW_FIRST ? "expected a key or '}'" : "expected a key after ','");
        case J_ROW_COLON:
            if (c == ':')
                s = J_ROW_VALUE;
            else if (!IS_WS(c))
                FAIL_AT(AT, "invalid JSON", "expected ':' after a key");
            i++;
            continue;
        case J_ROW_VALUE:
            if (IS_WS(c)) {
                i++;
                continue;
            }
            bp->tok_off = blen;
            bp->tok_start = AT;
            goto value;
        case J_ROW_AFTER:
            if (IS_WS(c)) {
                i++;
                continue;
            }
            if (c == ',') {
                s = J_ROW_KEY;
                i++;
                continue;
            }
            if (c == '}')
                goto row_end;
            FAIL_AT(AT, "invalid JSON", "expected ',' or '}' after a value");

        /* ---- inside a field's object or array: only checked and kept */
        case J_N_OBJ_FIRST:
        case J_N_KEY:
            if (IS_WS(c)) {
                PUT(c);
                i++;
                continue;
            }
            if (c == '"') {
                bp->is_key = 1;
                PUT(c);
                s = J_STR;
                i++;
                continue;
            }
            if (c == '}' && s == J_N_OBJ_FIRST)
                goto close;
            FAIL_AT(AT, "invalid JSON",
                    s == J_N_OBJ_FIRST ? "expected a key or '}'" : "expected a key after ','");
        case J_N_COLON:
            if (c == ':')
                s = J_N_VALUE;
            else if (!IS_WS(c))
                FAIL_AT(AT, "invalid JSON", "expected ':' after a key");
            PUT(c);
            i++;
            continue;
        case J_N_ARR_FIRST:
        case J_N_VALUE:
            if (IS_WS(c)) {
                PUT(c);
                i++;
                continue;
            }
            if (c == ']' && s == J_N_ARR_FIRST)
                goto close;
            goto value;
        case J_N_AFTER: {
            int obj = (int)(bp->nest >> (bp->depth - 1) & 1);

            if (IS_WS(c)) {
                PUT(c);
                i++;
                continue;
            }
            if (c == ',') {
                PUT(c);
                s = obj ? J_N_KEY : J_N_VALUE;
                i++;
                continue;
            }
            if (c == (obj ? '}' : ']'))
                goto close;
            FAIL_AT(AT, "invalid JSON", obj ? "expected ',' or '}'" : "expected ',' or ']'");
        }

        /* ---- strings */
        case J_STR:
            for (j = i; j < n && d[j] >= 0x20 && d[j] < 0x80 && d[j] != '"' && d[j] != '\\'; j++)
                ;
            if (j > i) {
                ROOM(j - i);
                memcpy(buf + blen, d + i, j - i);
                blen += j - i;
                i = j;
                continue;
            }
            if (c == '"') {
                PUT(c);
                i++;
                goto string_end;
            }
            if (c == '\\') {
                PUT(c);
                bp->esc_at = AT;
                s = J_ESC;
                i++;
                continue;
            }
            if (c < 0x20)
                FAIL_AT(AT, "invalid JSON", "a control character in a string must be escaped");
            goto utf8_lead;
        case J_ESC:
            switch (c) {
            case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
                s = J_STR;
                break;
            case 'u':
                bp->hex = 0;
                bp->hex_n = 0;
                s = J_HEX;
                break;
            default:
                FAIL_AT(AT, "invalid JSON", "an unknown escape in a string");
            }
            PUT(c);
            i++;
            continue;
        case J_HEX: {
            int v = hexval(c);
            apr_uint32_t cp;

            if (v < 0)
                FAIL_AT(AT, "invalid JSON", "\\u must be followed by four hex digits");
            PUT(c);
            i++;
            cp = bp->hex = bp->hex << 4 | (apr_uint32_t)v;
            if (++bp->hex_n < 4)
                continue;
            if (bp->hi) {
                if (cp < 0xDC00 || cp > 0xDFFF)
                    FAIL_AT(bp->hi_at, "invalid JSON",
                            "a high surrogate (\\uD800-\\uDBFF) not followed by a low one");
                bp->hi = 0;
                s = J_STR;
            }
            else if (cp >= 0xD800 && cp <= 0xDBFF) {
                bp->hi = cp;
                bp->hi_at = bp->esc_at;
                s = J_SURR_BS;
            }
            else if (cp >= 0xDC00 && cp <= 0xDFFF)
                FAIL_AT(bp->esc_at, "invalid JSON",
                        "a low surrogate (\\uDC00-\\uDFFF) without a high one before it");
            else if (cp == 0 && bp->depth == 0)
                /* Keys and values become text, which cannot hold NUL;
                 * inside a json value it stays escaped, as PostgreSQL's
                 * json type keeps it. */
                FAIL_AT(bp->esc_at, "unsupported JSON",
                        "\\u0000: PostgreSQL text cannot hold a NUL character");
            else
                s = J_STR;
            continue;
        }
        case J_SURR_BS:
        case J_SURR_U:
            if (c != (s == J_SURR_BS ? '\\' : 'u'))
                FAIL_AT(bp->hi_at, "invalid JSON",
                        "a high surrogate (\\uD800-\\uDBFF) not followed by a low one");
            if (s == J_SURR_BS) {
                bp->esc_at = AT;
                s = J_SURR_U;
            }
            else {
                bp->hex = 0;
                bp->hex_n = 0;
                s = J_HEX;
            }
            PUT(c);
            i++;
            continue;

        /* ---- numbers, kept as sent */
        case J_NUM_MINUS:
            if (c == '0')
                s = J_NUM_ZERO;
            else if (IS_DIGIT(c))
                s = J_NUM_INT;
            else
                FAIL_AT(AT, "invalid JSON", "a number needs a digit after '-'");
            PUT(c);
            i++;
            continue;
        case J_NUM_ZERO:
            if (IS_DIGIT(c))
                FAIL_AT(AT, "invalid JSON", "a number cannot have a leading zero");
            if (c == '.')
                s = J_NUM_DOT;
            else if (c == 'e' || c == 'E')
                s = J_NUM_E;
            else
                goto number_end;
            PUT(c);
            i++;
            continue;
        case J_NUM_INT:
        case J_NUM_FRAC:
        case J_NUM_EXP:
            for (j = i; j < n && IS_DIGIT(d[j]); j++)
                ;
            if (j > i) {
                ROOM(j - i);
                memcpy(buf + blen, d + i, j - i);
                blen += j - i;
                i = j;
                continue;
            }
            if (c == '.' && s == J_NUM_INT)
                s = J_NUM_DOT;
            else if ((c == 'e' || c == 'E') && s != J_NUM_EXP)
                s = J_NUM_E;
            else
                goto number_end;
            PUT(c);
            i++;
            continue;
        case J_NUM_DOT:
            if (!IS_DIGIT(c))
                FAIL_AT(AT, "invalid JSON", "a number needs a digit after '.'");
            s = J_NUM_FRAC;
            PUT(c);
            i++;
            continue;
        case J_NUM_E:
        case J_NUM_ESIGN:
            if (IS_DIGIT(c))
                s = J_NUM_EXP;
            else if ((c == '+' || c == '-') && s == J_NUM_E)
                s = J_NUM_ESIGN;
            else
                FAIL_AT(AT, "invalid JSON", "a number's exponent needs a digit");
            PUT(c);
            i++;
            continue;

        case J_LIT:
            if (c != (unsigned char)bp->lit[bp->lit_pos])
                FAIL_AT(AT, "invalid JSON", "expected true, false or null");
            PUT(c);
            i++;
            if (bp->lit[++bp->lit_pos])
                continue;
            goto value_end;

        case S_U8:
            if (c < bp->u8_lo || c > bp->u8_hi)
                FAIL_AT(AT, "invalid UTF-8", u8_bad_next(c));
            PUT(c);
            bp->u8_lo = 0x80;
            bp->u8_hi = 0xBF;
            if (--bp->u8_need == 0)
                s = bp->u8_ret;
            i++;
            continue;

        default:    /* S_FAILED: not reached, feed checks */
            return;
        }

    value:  /* c starts a value, a field's (depth 0) or one inside it */
        if (c == '"') {
            bp->is_key = 0;
            s = J_STR;
        }
        else if (c == '-')
            s = J_NUM_MINUS;
        else if (c == '0')
            s = J_NUM_ZERO;
        else if (IS_DIGIT(c))
            s = J_NUM_INT;
        else if (c == 't' || c == 'f' || c == 'n') {
            bp->lit = c == 't' ? "true" : c == 'f' ? "false" : "null";
            bp->kind = c == 't' ? AR_VAL_TRUE : c == 'f' ? AR_VAL_FALSE : AR_VAL_NULL;
            bp->lit_pos = 1;
            s = J_LIT;
        }
        else if (c == '{' || c == '[') {
            if (bp->depth == AR_BODY_MAX_DEPTH)
                FAIL_AT(AT, "unsupported JSON",
                        apr_psprintf(bp->pool, "values nest deeper than %d levels",
                                     AR_BODY_MAX_DEPTH));
            if (c == '{')
                bp->nest |= (apr_uint64_t)1 << bp->depth;
            else
                bp->nest &= ~((apr_uint64_t)1 << bp->depth);
            bp->depth++;
            s = c == '{' ? J_N_OBJ_FIRST : J_N_ARR_FIRST;
        }
        else
            FAIL_AT(AT, "invalid JSON", "expected a value");
        PUT(c);
        i++;
        continue;

    close:  /* c closes the innermost container */
        PUT(c);
        i++;
        if (--bp->depth > 0) {
            s = J_N_AFTER;
            continue;
        }
        bp->kind = c == '}' ? AR_VAL_OBJECT : AR_VAL_ARRAY;
        goto value_end;

    number_end: /* c follows the number: read it again in the state after */
        bp->kind = AR_VAL_NUMBER;
        goto value_end;

    string_end:
        if (!bp->is_key) {
            bp->kind = AR_VAL_STRING;
            goto value_end;
        }
        if (bp->depth > 0) {
            s = J_N_COLON;
            continue;
        }
        CALL(end_key(bp));
        s = J_ROW_COLON;
        continue;

    value_end:
        if (bp->depth > 0) {
            s = J_N_AFTER;
            continue;
        }
        CALL(end_value(bp));
        s = J_ROW_AFTER;
        continue;

    row_end:    /* c is the row's '}' */
        i++;
        CALL(emit_row(bp, AT));
        s = bp->single ? J_DONE : J_ARR_AFTER;
        continue;

    utf8_lead:  /* c >= 0x80 in a string */
        if (!u8_start(bp, c))
            FAIL_AT(AT, "invalid UTF-8", "a byte that starts no character");
        bp->u8_ret = s;
        PUT(c);
        s = S_U8;
        i++;
        continue;
    }
    SAVE();
    return;

too_big:
    SAVE();
    fail_too_big(bp);
}

/* ----------------------------------------------------------------- CSV */

/* A field ended (its text from tok_off): NUL-terminate it and give it a
 * slot. An empty unquoted field is NULL, as is the unquoted text NULL
 * (PostgREST reads it so); quoted, both are strings. */
static int csv_field_end(ar_body_parser *bp)
{
    apr_size_t len = bp->len - bp->tok_off;
    slot *sl;

    if (bp->ncols && bp->nfields == bp->ncols) {
        set_error(bp, apr_psprintf(bp->pool, "invalid CSV at line %" APR_INT64_T_FMT
                                   ": the row has more fields than the header's %d",
                                   bp->rec_line, bp->ncols));
        return 0;
    }
    if (!add_slot(bp))
        return 0;
    sl = &bp->slots[bp->nfields - 1];
    sl->text_off = bp->tok_off;
    sl->text_len = len;
    sl->kind = !bp->quoted && (len == 0 || (len == 4 && memcmp(bp->buf + bp->tok_off,
                                                               "NULL", 4) == 0))
        ? AR_VAL_NULL : AR_VAL_STRING;
    if (bp->cap == bp->len && !grow(bp, 1)) {
        fail_too_big(bp);
        return 0;
    }
    bp->buf[bp->len++] = '\0';
    bp->quoted = 0;
    return 1;
}

/* The header line ended: its names must be there and distinct; they are
 * kept for every row's fields. */
static int csv_header(ar_body_parser *bp)
{
    int k;

    names_reset(bp);
    for (k = 0; k < bp->nfields; k++) {
        slot *sl = &bp->slots[k];

        if (sl->text_len == 0) {
            set_error(bp, apr_psprintf(bp->pool, "invalid CSV at line %" APR_INT64_T_FMT
                                       ": column %d of the header has no name",
                                       bp->rec_line, k + 1));
            return 0;
        }
        sl->name_off = sl->text_off;
        sl->name_len = sl->text_len;
        if (!name_insert(bp, bp->buf, k)) {
            set_error(bp, apr_psprintf(bp->pool, "invalid CSV at line %" APR_INT64_T_FMT
                                       ": the header names \"%s\" twice", bp->rec_line,
                                       echo(bp->pool, bp->buf + sl->text_off,
                                            sl->text_len)));
            return 0;
        }
    }
    bp->hdr = xrealloc(NULL, bp->len);
    memcpy(bp->hdr, bp->buf, bp->len);
    for (k = 0; k < bp->nfields; k++) {
        bp->out[k].name = bp->hdr + bp->slots[k].text_off;
        bp->out[k].name_len = bp->slots[k].text_len;
    }
    bp->ncols = bp->nfields;
    return 1;
}

/* A line ended; next is the body offset after it. */
static int csv_record_end(ar_body_parser *bp, apr_uint64_t next)
{
    if (!bp->ncols) {
        if (!csv_header(bp))
            return 0;
    }
    else if (bp->nfields != bp->ncols) {
        set_error(bp, apr_psprintf(bp->pool, "invalid CSV at line %" APR_INT64_T_FMT
                                   ": the row has %d field%s, the header %d", bp->rec_line,
                                   bp->nfields, bp->nfields == 1 ? "" : "s", bp->ncols));
        return 0;
    }
    else if (!emit_row(bp, next))
        return 0;
    bp->len = 0;
    bp->nfields = 0;
    bp->line++;
    bp->rec_line = bp->line;
    bp->row_start = next;
    return 1;
}

static void csv_feed(ar_body_parser *bp, const unsigned char *d, apr_size_t n)
{
    char *buf = bp->buf;
    apr_size_t blen = bp->len, bcap = bp->cap, i = 0, j;
    int s = bp->state;
    unsigned char c;

    while (i < n) {
        c = d[i];
        switch (s) {
        case C_START:
            if (c == 0xEF) {
                s = C_BOM1;
                i++;
            }
            else
                s = C_FIELD;
            continue;
        case C_BOM1:
        case C_BOM2:
            if (c == (s == C_BOM1 ? 0xBB : 0xBF)) {
                s = s == C_BOM1 ? C_BOM2 : C_FIELD;
                i++;
                continue;
            }
            /* No byte order mark: the first name starts with a character
             * whose first bytes those were. */
            bp->quoted = 0;
            bp->tok_off = blen;
            u8_start(bp, 0xEF);
            PUT(0xEF);
            if (s == C_BOM2) {
                PUT(0xBB);
                bp->u8_need = 1;
            }
            bp->u8_ret = C_UNQ;
            s = S_U8;
            continue;
        case C_FIELD:
            if (c == '"') {
                bp->quoted = 1;
                bp->tok_off = blen;
                s = C_QUO;
                i++;
                continue;
            }
            bp->quoted = 0;
            bp->tok_off = blen;
            if (c == ',') {
                i++;
                CALL(csv_field_end(bp));
                continue;
            }
            if (c == '\r') {
                bp->cr_ret = C_FIELD;
                s = C_CR;
                i++;
                continue;
            }
            if (c == '\n') {
                i++;
                if (bp->nfields == 0) {     /* an empty line */
                    bp->line++;
                    bp->rec_line = bp->line;
                    bp->row_start = AT;
                    continue;
                }
                CALL(csv_field_end(bp));
                CALL(csv_record_end(bp, AT));
                continue;
            }
            s = C_UNQ;
            continue;
        case C_UNQ:
            for (j = i; j < n && d[j] < 0x80 && d[j] != ',' && d[j] != '\n' && d[j] != '\r'
                        && d[j] != '"' && d[j] != 0; j++)
                ;
            if (j > i) {
                ROOM(j - i);
                memcpy(buf + blen, d + i, j - i);
                blen += j - i;
                i = j;
                continue;
            }
            if (c == ',' || c == '\n') {
                i++;
                s = C_FIELD;
                CALL(csv_field_end(bp));
                if (c == '\n')
                    CALL(csv_record_end(bp, AT));
                continue;
            }
            if (c == '\r') {
                bp->cr_ret = C_UNQ;
                s = C_CR;
                i++;
                continue;
            }
            if (c == '"')
                FAIL_AT(AT, "invalid CSV", "a quote inside an unquoted field (quote the "
                        "whole field and double the quote)");
            if (c == 0)
                FAIL_AT(AT, "invalid CSV", "a NUL byte");
            goto utf8_lead;
        case C_QUO:
            for (j = i; j < n && d[j] < 0x80 && d[j] != '"' && d[j] != '\n' && d[j] != 0; j++)
                ;
            if (j > i) {
                ROOM(j - i);
                memcpy(buf + blen, d + i, j - i);
                blen += j - i;
                i = j;
                continue;
            }
            if (c == '"') {
                s = C_QUO_Q;
                i++;
                continue;
            }
            if (c == '\n') {
                PUT(c);
                bp->line++;
                i++;
                continue;
            }
            if (c == 0)
                FAIL_AT(AT, "invalid CSV", "a NUL byte");
            goto utf8_lead;
        case C_QUO_Q:
            if (c == '"') {     /* "" inside quotes is one quote */
                PUT(c);
                s = C_QUO;
                i++;
                continue;
            }
            if (c == ',' || c == '\n') {
                i++;
                s = C_FIELD;
                CALL(csv_field_end(bp));
                if (c == '\n')
                    CALL(csv_record_end(bp, AT));
                continue;
            }
            if (c == '\r') {
                bp->cr_ret = C_QUO_Q;
                s = C_CR;
                i++;
                continue;
            }
            FAIL_AT(AT, "invalid CSV", "text after a field's closing quote");
        case C_CR:
            if (c != '\n')
                FAIL_AT(AT, "invalid CSV", "a carriage return not followed by a line feed");
            s = bp->cr_ret;     /* which reads the LF again */
            continue;
        case S_U8:
            if (c < bp->u8_lo || c > bp->u8_hi)
                FAIL_AT(AT, "invalid UTF-8", u8_bad_next(c));
            PUT(c);
            bp->u8_lo = 0x80;
            bp->u8_hi = 0xBF;
            if (--bp->u8_need == 0)
                s = bp->u8_ret;
            i++;
            continue;
        default:    /* S_FAILED: not reached, feed checks */
            return;
        }

    utf8_lead:  /* c >= 0x80 in a field */
        if (!u8_start(bp, c))
            FAIL_AT(AT, "invalid UTF-8", "a byte that starts no character");
        bp->u8_ret = s;
        PUT(c);
        s = S_U8;
        i++;
        continue;
    }
    SAVE();
    return;

too_big:
    SAVE();
    fail_too_big(bp);
}

#undef AT
#undef SAVE
#undef LOAD
#undef ROOM
#undef PUT
#undef FAIL_AT
#undef CALL

/* ----------------------------------------------------------------- API */

ar_body_parser *ar_body_parser_create(apr_pool_t *p, ar_body_format format,
                                      ar_body_row_fn on_row, void *ctx)
{
    apr_pool_t *sub;
    ar_body_parser *bp;

    if (apr_pool_create(&sub, p) != APR_SUCCESS)
        return NULL;
    bp = apr_pcalloc(sub, sizeof(*bp));
    bp->pool = p;
    bp->format = format;
    bp->on_row = on_row;
    bp->ctx = ctx;
    bp->state = format == AR_BODY_CSV ? C_START : J_START;
    bp->line = bp->rec_line = 1;
    bp->gen = 1;
    apr_pool_cleanup_register(sub, bp, parser_free, apr_pool_cleanup_null);
    return bp;
}

ar_error *ar_body_feed(ar_body_parser *bp, const char *data, apr_size_t len)
{
    if (bp->err || !len)
        return bp->err;
    if (bp->format == AR_BODY_CSV)
        csv_feed(bp, (const unsigned char *)data, len);
    else
        json_feed(bp, (const unsigned char *)data, len);
    bp->base += len;
    return bp->err;
}

static void json_finish(ar_body_parser *bp)
{
    if (bp->state == J_DONE)
        return;
    if (bp->state == J_START || bp->state == J_TOP)
        set_error(bp, "the body is empty");
    else
        fail(bp, bp->base, "invalid JSON", "the body ended early");
}

static void csv_finish(ar_body_parser *bp)
{
    switch (bp->state) {
    case C_START:
        break;
    case C_FIELD:
        /* A last line without a line end, or one ending in ','. */
        if (bp->nfields == 0)
            break;
        bp->quoted = 0;
        bp->tok_off = bp->len;
        /* fall through */
    case C_UNQ:
    case C_QUO_Q:
        if (!csv_field_end(bp) || !csv_record_end(bp, bp->base))
            return;
        bp->state = C_FIELD;    /* a second finish finds nothing pending */
        break;
    case C_QUO:
        fail(bp, bp->base, "invalid CSV", "the body ended inside a quoted field");
        return;
    case C_CR:
        fail(bp, bp->base, "invalid CSV", "a carriage return not followed by a line feed");
        return;
    default:    /* C_BOM1, C_BOM2, S_U8 */
        fail(bp, bp->base, "invalid UTF-8", "the body ended inside a character");
        return;
    }
    if (!bp->ncols)
        set_error(bp, "the body is empty");
}

ar_error *ar_body_finish(ar_body_parser *bp)
{
    if (bp->err)
        return bp->err;
    if (bp->format == AR_BODY_CSV)
        csv_finish(bp);
    else
        json_finish(bp);
    return bp->err;
}

int ar_body_is_single(const ar_body_parser *bp)
{
    return bp->single;
}

apr_int64_t ar_body_rows(const ar_body_parser *bp)
{
    return bp->rows;
}
