/*
 * body_json.c: the JSON reader, a push parser whose whole state lives in the
 * parser (body_parser.h), so that a piece of the body may end anywhere and
 * the next carries on.
 *
 * The body is one object or an array of objects, each a row; a field's
 * value that is an object or array is only checked and kept as sent.
 * Strings are checked as they arrive (escapes, surrogate pairs, UTF-8,
 * control characters) and unescaped at their closing quote from bytes
 * already known to be good, so the unescaper needs no error paths.
 *
 * Errors name a byte offset, 0-based over the whole body, and an array's
 * element by its 0-based index.
 */
#include <string.h>

#include <apr_strings.h>

#include "autorest.h"
#include "body_parser.h"

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
    if (!body_add_slot(bp))
        return 0;
    sl = &bp->slots[bp->nfields - 1];
    sl->name_off = bp->tok_off;
    sl->name_len = klen;
    if (!body_name_insert(bp, bp->buf, bp->nfields - 1)) {
        const char *where = bp->single ? "the object"
            : apr_psprintf(bp->pool, "element %" APR_INT64_T_FMT, bp->rows);

        body_set_error(bp, apr_psprintf(bp->pool, "key \"%s\" appears twice in %s (at byte %"
                                        APR_UINT64_T_FMT ")", body_echo(bp->pool, k, klen), where,
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

    if (bp->cap - bp->len < need && !body_grow(bp, need)) {
        body_fail_too_big(bp);
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
    body_names_reset(bp);
}

/* Bytes that may start a JSON value, to tell "not an object" from garbage. */
static int starts_value(unsigned char c)
{
    return c == '"' || c == '-' || IS_DIGIT(c) || c == 't' || c == 'f' || c == 'n'
        || c == '[' || c == '{';
}

void body_json_feed(ar_body_parser *bp, const unsigned char *d, apr_size_t n)
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
                body_set_error(bp, apr_psprintf(bp->pool, "the body must be a JSON object or an "
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
                body_set_error(bp, apr_psprintf(bp->pool, "element %" APR_INT64_T_FMT " of the "
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
        CALL(body_emit_row(bp, AT));
        s = bp->single ? J_DONE : J_ARR_AFTER;
        continue;

    utf8_lead:  /* c >= 0x80 in a string */
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

void body_json_finish(ar_body_parser *bp)
{
    if (bp->state == J_DONE)
        return;
    if (bp->state == J_START || bp->state == J_TOP)
        body_set_error(bp, "the body is empty");
    else
        body_fail(bp, bp->base, "invalid JSON", "the body ended early");
}
