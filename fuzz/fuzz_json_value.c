/*
 * fuzz_json_value.c: libFuzzer target for the JSON value encoders
 * (ar_json_write_value, ar_json_write_row, ar_out).
 *
 * The input is written as every encoding, and as an ARRAY with every
 * element encoding, from an exactly-sized malloc() copy (so that
 * AddressSanitizer sees any read past its length). Each output is produced
 * twice, once into a growing ar_out and once through a small flush
 * threshold, and the two must be byte-identical.
 *
 * Whenever the input is valid UTF-8 (PostgreSQL sends UTF-8: db.c sets
 * client_encoding) and the encoding does not pass text through verbatim
 * (STRING, NUMBER, BOOL, TIMESTAMP, and ARRAY of those), the output must
 * parse with jansson (json_loadb, JSON_DECODE_ANY): if not, abort(). Two
 * jansson limits are not counted as invalid JSON: numbers that overflow a
 * double, and nesting deeper than JSON_PARSER_MAX_DEPTH.
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

static const ar_encoding all_enc[] = {
    AR_ENC_STRING, AR_ENC_NUMBER, AR_ENC_BOOL, AR_ENC_JSON,
    AR_ENC_TIMESTAMP, AR_ENC_ARRAY, AR_ENC_SQL_JSON,
};
#define N_ENC (sizeof(all_enc) / sizeof(*all_enc))

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (apr_initialize() != APR_SUCCESS || apr_pool_create(&pool, NULL) != APR_SUCCESS)
        abort();
    return 0;
}

/* Strict UTF-8 as jansson checks it: no overlongs, no surrogates, <= U+10FFFF. */
static int valid_utf8(const uint8_t *s, size_t len)
{
    size_t i = 0;

    while (i < len) {
        uint8_t c = s[i];
        size_t n, k;
        uint32_t cp;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            n = 2;
            cp = c & 0x1F;
        }
        else if (c >= 0xE0 && c <= 0xEF) {
            n = 3;
            cp = c & 0x0F;
        }
        else if (c >= 0xF0 && c <= 0xF4) {
            n = 4;
            cp = c & 0x07;
        }
        else
            return 0;
        if (i + n > len)
            return 0;
        for (k = 1; k < n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF))
            || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += n;
    }
    return 1;
}

/* Verbatim encodings: their validity is PostgreSQL's business. */
static int checked(ar_encoding enc, ar_encoding elem)
{
    if (enc == AR_ENC_JSON || enc == AR_ENC_SQL_JSON)
        return 0;
    if (enc == AR_ENC_ARRAY)
        return elem != AR_ENC_JSON && elem != AR_ENC_SQL_JSON;
    return 1;
}

typedef struct {
    char *buf;
    size_t len, cap;
} collect;

static int collect_flush(void *ctx, const char *data, apr_size_t len)
{
    collect *c = ctx;

    if (len == 0)
        abort(); /* ar_out_flush promises not to call with nothing */
    if (c->len + len > c->cap) {
        c->cap = (c->len + len) * 2;
        c->buf = realloc(c->buf, c->cap);
        if (!c->buf)
            abort();
    }
    memcpy(c->buf + c->len, data, len);
    c->len += len;
    return 0;
}

static void check_json(const char *what, ar_encoding enc, ar_encoding elem,
                       const uint8_t *in, size_t in_len, const char *out, size_t out_len)
{
    json_error_t err;
    json_t *j = json_loadb(out, out_len,
                           JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL, &err);

    if (j) {
        json_decref(j);
        return;
    }
    if (json_error_code(&err) == json_error_numeric_overflow
        || json_error_code(&err) == json_error_stack_overflow)
        return;
    fprintf(stderr, "fuzz_json_value: %s: invalid JSON for enc %d elem %d: %s (at %d)\n",
            what, (int)enc, (int)elem, err.text, err.position);
    fprintf(stderr, "input  (%zu bytes): ", in_len);
    fwrite(in, 1, in_len, stderr);
    fprintf(stderr, "\noutput (%zu bytes): ", out_len);
    fwrite(out, 1, out_len, stderr);
    fprintf(stderr, "\n");
    abort();
}

/* Aborts unless what went out of chunked, flushed now, is whole's bytes. */
static void same_as_whole(ar_out *chunked, collect *c, const ar_out *whole, const char *what)
{
    if (ar_out_flush(chunked) != 0)
        abort();
    if (c->len != whole->len || (c->len && memcmp(c->buf, whole->buf, c->len) != 0)) {
        fprintf(stderr, "fuzz_json_value: flushed %s differs from whole %s\n", what, what);
        abort();
    }
    free(c->buf);
}

static void one(const char *value, size_t len, ar_encoding enc, ar_encoding elem,
                int check, const uint8_t *data)
{
    ar_out whole, chunked;
    collect c = {NULL, 0, 0};

    ar_out_init(&whole, pool, 0, NULL, NULL);
    ar_json_write_value(&whole, enc, elem, value, len);
    if (whole.failed)
        abort();

    ar_out_init(&chunked, pool, 7, collect_flush, &c);
    ar_json_write_value(&chunked, enc, elem, value, len);
    same_as_whole(&chunked, &c, &whole, "value");

    if (check)
        check_json("value", enc, elem, data, len, whole.buf, whole.len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *value = malloc(size ? size : 1);
    int utf8 = valid_utf8(data, size);
    size_t i, k;

    if (!value)
        abort();
    memcpy(value, data, size);

    for (i = 0; i < N_ENC; i++) {
        if (all_enc[i] == AR_ENC_ARRAY) {
            for (k = 0; k < N_ENC; k++)
                one(value, size, AR_ENC_ARRAY, all_enc[k],
                    utf8 && checked(AR_ENC_ARRAY, all_enc[k]), data);
        }
        else
            one(value, size, all_enc[i], AR_ENC_STRING, utf8 && checked(all_enc[i], 0), data);
    }

    /* SQL NULL */
    one(NULL, 0, AR_ENC_ARRAY, AR_ENC_NUMBER, 1, data);

    /* A row holding the value in every checked encoding, and a NULL. */
    {
        static ar_column cols[7];
        static const char *names[7] = {"s", "n", "b", "t", "a", "\"q\"\n", "null"};
        apr_array_header_t *oc = apr_array_make(pool, 7, sizeof(ar_output_column));
        const char *values[7];
        int lens[7];
        ar_row_format *f;
        ar_out o;

        for (k = 0; k < 7; k++) {
            ar_output_column *c = apr_array_push(oc);
            cols[k].name = names[k];
            c->column = &cols[k];
            c->elem_enc = AR_ENC_NUMBER;
            values[k] = value;
            lens[k] = (int)size;
        }
        APR_ARRAY_IDX(oc, 0, ar_output_column).enc = AR_ENC_STRING;
        APR_ARRAY_IDX(oc, 1, ar_output_column).enc = AR_ENC_NUMBER;
        APR_ARRAY_IDX(oc, 2, ar_output_column).enc = AR_ENC_BOOL;
        APR_ARRAY_IDX(oc, 3, ar_output_column).enc = AR_ENC_TIMESTAMP;
        APR_ARRAY_IDX(oc, 4, ar_output_column).enc = AR_ENC_ARRAY;
        APR_ARRAY_IDX(oc, 5, ar_output_column).enc = AR_ENC_ARRAY;
        APR_ARRAY_IDX(oc, 5, ar_output_column).elem_enc = AR_ENC_TIMESTAMP;
        APR_ARRAY_IDX(oc, 6, ar_output_column).enc = AR_ENC_STRING;
        values[6] = NULL;
        f = ar_row_format_make(pool, oc);
        ar_out_init(&o, pool, 0, NULL, NULL);
        ar_json_write_row(&o, f, values, lens);
        if (utf8)
            check_json("row", AR_ENC_ARRAY, AR_ENC_NUMBER, data, size, o.buf, o.len);
        /* the same row again as the next of an array: a comma, then the
         * same bytes */
        {
            apr_size_t one = o.len;

            ar_json_write_next_row(&o, f, values, lens);
            if (o.len != 2 * one + 1 || o.buf[one] != ','
                || memcmp(o.buf, o.buf + one + 1, one) != 0)
                abort();
        }
        /* the row reserved whole, and again after an array: in chunks
         * smaller than it, the same bytes */
        {
            ar_out chunked;
            collect c = {NULL, 0, 0};
            ar_out_init(&chunked, pool, 7, collect_flush, &c);
            ar_json_write_row(&chunked, f, values, lens);
            ar_json_write_next_row(&chunked, f, values, lens);
            same_as_whole(&chunked, &c, &o, "row");
        }
    }

    /* ar_json_is_number agrees with what NUMBER writes bare. */
    {
        ar_out o;
        ar_out_init(&o, pool, 0, NULL, NULL);
        ar_json_write_value(&o, AR_ENC_NUMBER, AR_ENC_STRING, value, size);
        if (ar_json_is_number(value, size)
            != (o.len == size && (size == 0 || memcmp(o.buf, value, size) == 0)))
            abort();
    }

    free(value);
    apr_pool_clear(pool);
    return 0;
}
