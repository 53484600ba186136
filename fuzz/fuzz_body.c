/*
 * fuzz_body.c: libFuzzer target for the streaming body parser (body.c).
 *
 * The first byte chooses the format (bit 0: JSON or CSV) and seeds where
 * the rest is cut; the rest is the body. It is read twice, each with a
 * fresh parser: once cut into two or more pieces (each an exactly-sized
 * malloc() copy, so that AddressSanitizer sees a read past a piece), once
 * whole. Both readings must give the same rows (their count and a running
 * hash of every field) and end the same way, with the same message. Every
 * field must keep the promises of ar_body.h: kinds in range, text and raw
 * NUL-terminated, no NUL inside a text (the parser refuses \u0000 where it
 * would unescape one), CSV rows as wide as the header and never empty.
 *
 * JSON the parser accepts must also be JSON to jansson (but for numbers past
 * a double, which jansson refuses), and each field must be what jansson
 * read there: the same string, a number, an object or array whose text
 * jansson reads again. Otherwise abort().
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <jansson.h>

#include "autorest.h"

static apr_pool_t *pool;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (apr_initialize() != APR_SUCCESS || apr_pool_create(&pool, NULL) != APR_SUCCESS)
        abort();
    return 0;
}

typedef struct {
    ar_body_format format;
    uint64_t hash;
    apr_int64_t rows;
    int width;              /* CSV: every row's field count */
    json_t *doc;            /* JSON: jansson's reading, when it had one */
} reading;

static void die(const char *what)
{
    fprintf(stderr, "fuzz_body: %s\n", what);
    abort();
}

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;

    while (n--)
        h = (h ^ *s++) * 1099511628211ull;
    return h;
}

static int overflowed(const json_error_t *err)
{
    return json_error_code(err) == json_error_numeric_overflow;
}

/* The field as jansson read it agrees with ours. */
static void check_with_jansson(const reading *r, apr_int64_t row, const ar_body_field *f)
{
    json_t *obj = json_is_array(r->doc) ? json_array_get(r->doc, (size_t)row) : r->doc;
    json_t *v;

    if (!json_is_object(obj))
        die("a row that jansson does not see as an object");
    v = json_object_get(obj, f->name);
    if (!v)
        die("a key that jansson does not see");
    switch (f->kind) {
    case AR_VAL_STRING:
        if (!json_is_string(v) || json_string_length(v) != f->len
            || memcmp(json_string_value(v), f->text, f->len) != 0)
            die("a string that jansson reads otherwise");
        break;
    case AR_VAL_NUMBER:
        if (!json_is_number(v))
            die("a number that jansson reads as something else");
        break;
    case AR_VAL_TRUE:
        if (!json_is_true(v))
            die("true that jansson does not read as true");
        break;
    case AR_VAL_FALSE:
        if (!json_is_false(v))
            die("false that jansson does not read as false");
        break;
    case AR_VAL_NULL:
        if (!json_is_null(v))
            die("null that jansson does not read as null");
        break;
    case AR_VAL_OBJECT:
    case AR_VAL_ARRAY: {
        json_error_t err;
        json_t *again = json_loadb(f->text, f->len,
                                   JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL,
                                   &err);

        if (f->kind == AR_VAL_OBJECT ? !json_is_object(v) : !json_is_array(v))
            die("an object or array that jansson reads as something else");
        if (!again && !overflowed(&err))
            die("a nested value's text that jansson cannot read again");
        if (again && !json_equal(again, v))
            die("a nested value's text that is not what jansson read");
        json_decref(again);
        break;
    }
    }
}

static ar_error *on_row(void *ctx, apr_int64_t row, const ar_body_field *fields, int nfields)
{
    reading *r = ctx;
    int k;

    if (row != r->rows)
        die("rows out of order");
    r->rows++;
    if (nfields < 0)
        die("a negative field count");
    if (r->format == AR_BODY_CSV) {
        if (nfields == 0)
            die("a CSV row without fields");
        if (r->width && nfields != r->width)
            die("CSV rows of different widths");
        r->width = nfields;
    }
    r->hash = mix(r->hash, &row, sizeof(row));
    r->hash = mix(r->hash, &nfields, sizeof(nfields));
    for (k = 0; k < nfields; k++) {
        const ar_body_field *f = &fields[k];
        int kind = (int)f->kind;

        if (kind < AR_VAL_NULL || kind > AR_VAL_ARRAY)
            die("a kind out of range");
        if (!f->name || f->name[f->name_len] != '\0' || strlen(f->name) != f->name_len)
            die("a name not NUL-terminated, or holding NUL");
        if (r->format == AR_BODY_CSV && f->name_len == 0)
            die("a CSV header name that is empty");
        if (f->kind == AR_VAL_NULL) {
            if (f->text || f->len)
                die("NULL with a text");
        }
        else {
            if (!f->text || f->text[f->len] != '\0' || strlen(f->text) != f->len)
                die("a text not NUL-terminated, or holding NUL");
            if (r->format == AR_BODY_CSV && f->kind != AR_VAL_STRING)
                die("a CSV field neither string nor NULL");
        }
        if (r->format == AR_BODY_JSON) {
            if (!f->raw || f->raw[f->raw_len] != '\0')
                die("a raw form not NUL-terminated");
            if (f->kind != AR_VAL_STRING && f->kind != AR_VAL_NULL
                && (f->raw != f->text || f->raw_len != f->len))
                die("a raw form that is not the text");
            if (f->kind == AR_VAL_STRING
                && (f->raw_len < 2 || f->raw[0] != '"' || f->raw[f->raw_len - 1] != '"'))
                die("a string's raw form without its quotes");
        }
        else if (f->raw != f->text || f->raw_len != f->len)
            die("a CSV raw form that is not the text");
        r->hash = mix(r->hash, f->name, f->name_len + 1);
        r->hash = mix(r->hash, &kind, sizeof(kind));
        if (f->text)
            r->hash = mix(r->hash, f->text, f->len + 1);
        if (f->raw)
            r->hash = mix(r->hash, f->raw, f->raw_len + 1);
        if (r->doc)
            check_with_jansson(r, row, f);
    }
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reading whole, cut;
    ar_body_parser *bp;
    ar_error *ew = NULL, *ec = NULL;
    const char *body;
    size_t len, at = 0;
    uint32_t seed;
    int pieces = 0;

    if (size < 1)
        return 0;
    memset(&whole, 0, sizeof(whole));
    memset(&cut, 0, sizeof(cut));
    whole.format = cut.format = data[0] & 1 ? AR_BODY_CSV : AR_BODY_JSON;
    seed = data[0] >> 1;
    body = (const char *)data + 1;
    len = size - 1;

    /* whole, from an exact copy */
    {
        char *copy = malloc(len ? len : 1);
        /* jansson does not skip a byte order mark */
        size_t bom = len >= 3 && !memcmp(body, "\xEF\xBB\xBF", 3) ? 3 : 0;
        int jansson_refused = 0;
        json_error_t err;

        if (!copy)
            abort();
        memcpy(copy, body, len);
        if (whole.format == AR_BODY_JSON) {
            whole.doc = json_loadb(copy + bom, len - bom,
                                   JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL,
                                   &err);
            jansson_refused = !whole.doc && !overflowed(&err);
        }
        bp = ar_body_parser_create(pool, whole.format, on_row, &whole);
        ew = ar_body_feed(bp, copy, len);
        if (!ew)
            ew = ar_body_finish(bp);
        if (ar_body_rows(bp) != whole.rows)
            die("ar_body_rows is not the rows handed over");
        if (ew && ew->kind != AR_ERR_BAD_BODY)
            die("an error that is not AR_ERR_BAD_BODY");
        if (whole.format == AR_BODY_JSON && !ew) {
            json_t *d = whole.doc;

            if (jansson_refused) {
                fprintf(stderr, "jansson: %s at %d\n", err.text, err.position);
                die("a body the parser read and jansson refuses");
            }
            if (d && (json_is_object(d)
                      ? !ar_body_is_single(bp) || whole.rows != 1
                      : !json_is_array(d) || ar_body_is_single(bp)
                            || whole.rows != (apr_int64_t)json_array_size(d)))
                die("rows that are not jansson's top value");
        }
        free(copy);
    }

    /* in pieces: the first cut by the seed, then pieces of 1 to 16 bytes
     * (an LCG), so that every state meets a piece's end somewhere */
    bp = ar_body_parser_create(pool, cut.format, on_row, &cut);
    while (!ec && (at < len || pieces < 2)) {
        size_t n;
        char *piece;

        if (pieces == 0)
            n = len ? (seed * 7919u) % (len + 1) : 0;
        else {
            seed = seed * 1103515245u + 12345u;
            n = 1 + (seed >> 16) % 16;
        }
        if (n > len - at)
            n = len - at;
        piece = malloc(n ? n : 1);
        if (!piece)
            abort();
        memcpy(piece, body + at, n);
        ec = ar_body_feed(bp, n ? piece : NULL, n);
        free(piece);
        at += n;
        pieces++;
    }
    if (!ec)
        ec = ar_body_finish(bp);

    if (!ew != !ec)
        die("whole and in pieces: one read, the other failed");
    if (ew && strcmp(ew->message, ec->message) != 0) {
        fprintf(stderr, "whole: %s\npieces: %s\n", ew->message, ec->message);
        die("whole and in pieces: different messages");
    }
    if (whole.rows != cut.rows || whole.hash != cut.hash)
        die("whole and in pieces: different rows");
    if (ar_body_finish(bp) != ec)
        die("finish again gave something else");

    json_decref(whole.doc);
    apr_pool_clear(pool);
    return 0;
}
