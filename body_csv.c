/*
 * body_csv.c: the CSV reader, a push parser whose whole state lives in the
 * parser (body_parser.h), so that a piece of the body may end anywhere,
 * inside a quote pair or between CR and LF too, and the next carries on.
 *
 * The first line names the columns, once each; every later line is a row
 * with as many fields. Lines end in LF or CRLF; a quoted field may hold
 * both, and "" for a quote.
 *
 * Errors name a line, 1-based, of the body's physical lines.
 */
#include <string.h>

#include <apr_strings.h>

#include "autorest.h"
#include "body_parser.h"

/* A field ended (its text from tok_off): NUL-terminate it and give it a
 * slot. An empty unquoted field is NULL, as is the unquoted text NULL
 * (PostgREST reads it so); quoted, both are strings. */
static int csv_field_end(ar_body_parser *bp)
{
    apr_size_t len = bp->len - bp->tok_off;
    slot *sl;

    if (bp->ncols && bp->nfields == bp->ncols) {
        body_set_error(bp, apr_psprintf(bp->pool, "invalid CSV at line %" APR_INT64_T_FMT
                                        ": the row has more fields than the header's %d",
                                        bp->rec_line, bp->ncols));
        return 0;
    }
    if (!body_add_slot(bp))
        return 0;
    sl = &bp->slots[bp->nfields - 1];
    sl->text_off = bp->tok_off;
    sl->text_len = len;
    sl->kind = !bp->quoted && (len == 0 || (len == 4 && memcmp(bp->buf + bp->tok_off,
                                                               "NULL", 4) == 0))
        ? AR_VAL_NULL : AR_VAL_STRING;
    if (bp->cap == bp->len && !body_grow(bp, 1)) {
        body_fail_too_big(bp);
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

    body_names_reset(bp);
    for (k = 0; k < bp->nfields; k++) {
        slot *sl = &bp->slots[k];

        if (sl->text_len == 0) {
            body_set_error(bp, apr_psprintf(bp->pool, "invalid CSV at line %" APR_INT64_T_FMT
                                            ": column %d of the header has no name",
                                            bp->rec_line, k + 1));
            return 0;
        }
        sl->name_off = sl->text_off;
        sl->name_len = sl->text_len;
        if (!body_name_insert(bp, bp->buf, k)) {
            body_set_error(bp, apr_psprintf(bp->pool, "invalid CSV at line %" APR_INT64_T_FMT
                                            ": the header names \"%s\" twice", bp->rec_line,
                                            body_echo(bp->pool, bp->buf + sl->text_off,
                                                      sl->text_len)));
            return 0;
        }
    }
    bp->hdr = body_xrealloc(NULL, bp->len);
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
        body_set_error(bp, apr_psprintf(bp->pool, "invalid CSV at line %" APR_INT64_T_FMT
                                        ": the row has %d field%s, the header %d", bp->rec_line,
                                        bp->nfields, bp->nfields == 1 ? "" : "s", bp->ncols));
        return 0;
    }
    else if (!body_emit_row(bp, next))
        return 0;
    bp->len = 0;
    bp->nfields = 0;
    bp->line++;
    bp->rec_line = bp->line;
    bp->row_start = next;
    return 1;
}

void body_csv_feed(ar_body_parser *bp, const unsigned char *d, apr_size_t n)
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
            body_u8_start(bp, 0xEF);
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
                FAIL_AT(AT, "invalid UTF-8", body_u8_bad_next(c));
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
        if (!body_u8_start(bp, c))
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
    body_fail_too_big(bp);
}

void body_csv_finish(ar_body_parser *bp)
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
        body_fail(bp, bp->base, "invalid CSV", "the body ended inside a quoted field");
        return;
    case C_CR:
        body_fail(bp, bp->base, "invalid CSV", "a carriage return not followed by a line feed");
        return;
    default:    /* C_BOM1, C_BOM2, S_U8 */
        body_fail(bp, bp->base, "invalid UTF-8", "the body ended inside a character");
        return;
    }
    if (!bp->ncols)
        body_set_error(bp, "the body is empty");
}
