/*
 * body.c: request bodies, JSON or CSV, read as they arrive and handed on a
 * row at a time. This is what both readers share: the parser, its row
 * buffer and field tables, UTF-8 checking, the errors, and the public API,
 * which hands each piece to the format's reader (body_json.c, body_csv.c).
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
 * Errors name a byte offset (JSON, 0-based over the whole body) or a line
 * (CSV, 1-based physical lines), and an array's element by its 0-based
 * index, which is also the row's number given to on_row.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "autorest.h"
#include "body_parser.h"

/* A row with more keys than this is no row of any table (PostgreSQL stops
 * at 1600 columns); the cap keeps a row's field table small. */
#define MAX_FIELDS 65536
/* The row buffer holds at most about twice a row's bytes (a JSON string's
 * text beside its raw form), so a buffer past this is a row past
 * AR_BODY_MAX_ROW_BYTES. The exact test is made when the row ends. */
#define BUF_LIMIT ((apr_size_t)AR_BODY_MAX_ROW_BYTES * 2 + 64)
/* How much of the client's input a message may quote. */
#define ECHO_MAX 40

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
void *body_xrealloc(void *p, apr_size_t n)
{
    void *q = realloc(p, n);

    if (!q)
        abort();
    return q;
}

/* Room for n more bytes in the row buffer; 0 when the row is too large. */
int body_grow(ar_body_parser *bp, apr_size_t n)
{
    apr_size_t cap = bp->cap ? bp->cap : 4096;

    if (n > BUF_LIMIT - bp->len)
        return 0;
    while (cap - bp->len < n)
        cap *= 2;
    if (cap > BUF_LIMIT)
        cap = BUF_LIMIT;
    bp->buf = body_xrealloc(bp->buf, cap);
    bp->cap = cap;
    return 1;
}

/* ------------------------------------------------------------- errors */

void body_set_error(ar_body_parser *bp, const char *message)
{
    bp->err = ar_error_make(bp->pool, AR_ERR_BAD_BODY, message, NULL, NULL);
    bp->state = S_FAILED;
}

/* "what at byte N (element E): detail", or "what at line N: detail". */
void body_fail(ar_body_parser *bp, apr_uint64_t at, const char *what, const char *detail)
{
    apr_pool_t *p = bp->pool;

    if (bp->format == AR_BODY_CSV)
        body_set_error(bp, apr_psprintf(p, "%s at line %" APR_INT64_T_FMT ": %s", what, bp->line,
                                        detail));
    else if (bp->in_row && !bp->single)
        body_set_error(bp, apr_psprintf(p, "%s at byte %" APR_UINT64_T_FMT " (element %"
                                        APR_INT64_T_FMT "): %s", what, at, bp->rows, detail));
    else
        body_set_error(bp, apr_psprintf(p, "%s at byte %" APR_UINT64_T_FMT ": %s", what, at,
                                        detail));
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

void body_fail_too_big(ar_body_parser *bp)
{
    body_set_error(bp, apr_psprintf(bp->pool, "%s is larger than %d bytes", row_name(bp),
                                    AR_BODY_MAX_ROW_BYTES));
}

/* At most ECHO_MAX bytes of a name, cut between characters (names are valid
 * UTF-8 by then), for a message. */
const char *body_echo(apr_pool_t *p, const char *s, apr_size_t len)
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
int body_add_slot(ar_body_parser *bp)
{
    if (bp->nfields == bp->fcap) {
        int cap = bp->fcap ? bp->fcap * 2 : 16;

        if (bp->fcap >= MAX_FIELDS) {
            if (bp->format == AR_BODY_CSV)
                body_set_error(bp, apr_psprintf(bp->pool, "the header has more than %d columns",
                                                MAX_FIELDS));
            else
                body_set_error(bp, apr_psprintf(bp->pool, "%s has more than %d keys",
                                                row_name(bp), MAX_FIELDS));
            return 0;
        }
        if (cap > MAX_FIELDS)
            cap = MAX_FIELDS;
        bp->slots = body_xrealloc(bp->slots, (apr_size_t)cap * sizeof(*bp->slots));
        bp->out = body_xrealloc(bp->out, (apr_size_t)cap * sizeof(*bp->out));
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
int body_name_insert(ar_body_parser *bp, const char *base, int idx)
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
void body_names_reset(ar_body_parser *bp)
{
    if (++bp->gen == 0) {
        if (bp->names)
            memset(bp->names, 0, bp->names_cap * sizeof(*bp->names));
        bp->gen = 1;
    }
}

/* Hands the row to on_row; end is the body offset just past it. */
int body_emit_row(ar_body_parser *bp, apr_uint64_t end)
{
    ar_error *e;
    int k;

    if (end - bp->row_start > AR_BODY_MAX_ROW_BYTES) {
        body_fail_too_big(bp);
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

/* A lead byte c >= 0x80 (ar_utf8_lead): the parser's state for the
 * continuation bytes. 0 for no lead byte. */
int body_u8_start(ar_body_parser *bp, unsigned char c)
{
    return ar_utf8_lead(c, &bp->u8_need, &bp->u8_lo, &bp->u8_hi);
}

const char *body_u8_bad_next(unsigned char c)
{
    return (c & 0xC0) == 0x80
        ? "an overlong form, a surrogate or a code point past U+10FFFF"
        : "a character cut short";
}

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
        body_csv_feed(bp, (const unsigned char *)data, len);
    else
        body_json_feed(bp, (const unsigned char *)data, len);
    bp->base += len;
    return bp->err;
}

ar_error *ar_body_finish(ar_body_parser *bp)
{
    if (bp->err)
        return bp->err;
    if (bp->format == AR_BODY_CSV)
        body_csv_finish(bp);
    else
        body_json_finish(bp);
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
