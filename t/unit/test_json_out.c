/*
 * test_json_out.c: the byte sink, the JSON value encoders, row objects and
 * the index document (json_out.c). No server: every expectation is the exact
 * text PostgreSQL's to_json() would produce for the same value.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <jansson.h>

#include "autorest.h"
#include "tap.h"

static apr_pool_t *pool;

/* ------------------------------------------------------------- helpers */

static const char *out_str(const ar_out *o)
{
    return apr_pstrmemdup(pool, o->buf, o->len);
}

/* One value in an encoding, as a C string. */
static const char *val(ar_encoding enc, ar_encoding elem, const char *v)
{
    ar_out o;

    ar_out_init(&o, pool, 0, NULL, NULL);
    ar_json_write_value(&o, enc, elem, v, v ? strlen(v) : 0);
    return out_str(&o);
}

static const char *val_n(ar_encoding enc, ar_encoding elem, const char *v, apr_size_t len)
{
    ar_out o;

    ar_out_init(&o, pool, 0, NULL, NULL);
    ar_json_write_value(&o, enc, elem, v, len);
    return out_str(&o);
}

static const char *jstr(const char *s, apr_size_t len)
{
    ar_out o;

    ar_out_init(&o, pool, 0, NULL, NULL);
    ar_json_write_string(&o, s, len);
    return out_str(&o);
}

static int is_num(const char *s)
{
    return ar_json_is_number(s, strlen(s));
}

/* Parses as JSON (any value) with jansson. */
static int valid_json(const char *s)
{
    json_error_t err;
    json_t *j = json_loads(s, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL, &err);

    if (!j) {
        printf("#   jansson: %s in %s\n", err.text, s);
        return 0;
    }
    json_decref(j);
    return 1;
}

/* A flush callback that collects what it gets, and can be told to fail. */
typedef struct {
    char data[4096];
    apr_size_t len;
    int calls;
    int fail_on_call;       /* 1-based; 0 = never */
    int keep;               /* answer AR_OUT_KEPT */
    const char *last;       /* the chunk of the last call */
    apr_size_t max_chunk;
} sink;

static int sink_flush(void *ctx, const char *data, apr_size_t len)
{
    sink *k = ctx;

    k->calls++;
    k->last = data;
    if (k->fail_on_call && k->calls == k->fail_on_call)
        return AR_OUT_FAILED;
    if (len > k->max_chunk)
        k->max_chunk = len;
    if (k->len + len <= sizeof(k->data)) {
        memcpy(k->data + k->len, data, len);
        k->len += len;
    }
    return k->keep ? AR_OUT_KEPT : AR_OUT_DONE;
}

/* --------------------------------------------------------------- ar_out */

static void test_out(void)
{
    ar_out o;
    sink k;
    char expect[4096];
    apr_size_t i, n;

    /* growth without a flush: one buffer, everything kept */
    ar_out_init(&o, pool, 0, NULL, NULL);
    for (i = 0; i < 5000; i++)
        ar_out_write(&o, "0123456789", 10);
    ok(o.len == 50000, "no flush: 5000 writes of 10 bytes keep 50000 bytes (got %lu)",
       (unsigned long)o.len);
    ok(o.cap >= 50000, "no flush: capacity grew to hold them");
    n = 0;
    for (i = 0; i < 50000; i++)
        if (o.buf[i] != "0123456789"[i % 10])
            n++;
    ok(n == 0, "no flush: grown buffer holds the bytes in order");
    ok(o.failed == 0, "no flush: not failed");

    /* one write larger than the initial capacity */
    ar_out_init(&o, pool, 0, NULL, NULL);
    {
        char *big = apr_palloc(pool, 100000);
        memset(big, 'x', 100000);
        big[99999] = 'y';
        ar_out_puts(&o, "a");
        ar_out_write(&o, big, 100000);
        ok(o.len == 100001 && o.buf[0] == 'a' && o.buf[100000] == 'y'
               && o.buf[1] == 'x',
           "a single write larger than the buffer grows it");
    }

    /* ar_out_puts */
    ar_out_init(&o, pool, 0, NULL, NULL);
    ar_out_puts(&o, "abc");
    ar_out_puts(&o, "");
    ar_out_puts(&o, "de");
    is_str(out_str(&o), "abcde", "ar_out_puts appends C strings");

    /* chunks: the callback gets every byte, in order, a chunk at a time */
    memset(&k, 0, sizeof(k));
    ar_out_init(&o, pool, 16, sink_flush, &k);
    n = 0;
    for (i = 0; i < 100; i++) {
        char piece[16];
        int l = apr_snprintf(piece, sizeof(piece), "<%d>", (int)i);
        memcpy(expect + n, piece, l);
        n += l;
        ar_out_write(&o, piece, l);
    }
    ok(k.calls > 1, "chunk 16: callback called several times (%d)", k.calls);
    ok(k.max_chunk <= 16, "chunk 16: no call hands over more than a chunk (%lu)",
       (unsigned long)k.max_chunk);
    ok(o.len <= 16 && o.cap == 16, "chunk 16: the chunk never grows for small writes (%lu/%lu)",
       (unsigned long)o.len, (unsigned long)o.cap);
    ok(ar_out_flush(&o) == 0, "final ar_out_flush returns 0");
    ok(o.len == 0, "final flush empties the buffer");
    ok(k.len == n && memcmp(k.data, expect, n) == 0,
       "chunk 16: callback saw all %lu bytes in order", (unsigned long)n);
    {
        int calls = k.calls;
        ok(ar_out_flush(&o) == 0 && k.calls == calls,
           "flushing an empty buffer does not call the callback");
    }

    /* a full chunk goes out when the next write does not fit */
    memset(&k, 0, sizeof(k));
    ar_out_init(&o, pool, 4, sink_flush, &k);
    ar_out_write(&o, "abcd", 4);
    ok(k.calls == 0 && o.len == 4, "a write that fills the chunk exactly: no callback yet");
    ar_out_write(&o, "e", 1);
    ok(k.calls == 1 && k.len == 4 && memcmp(k.data, "abcd", 4) == 0 && o.len == 1,
       "the next byte hands the full chunk over");
    /* a write larger than the chunk gets a buffer of its own size */
    ar_out_write(&o, "0123456789012345678901234567890123456789", 40);
    ok(k.calls == 2 && k.len == 5 && o.len == 40 && o.cap >= 40
           && memcmp(o.buf, "0123456789", 10) == 0,
       "a write larger than the chunk: what was buffered goes, the write is held whole");
    ok(ar_out_flush(&o) == 0 && k.calls == 3 && k.len == 45
           && memcmp(k.data + 5, "0123456789", 10) == 0,
       "and is flushed whole");

    /* AR_OUT_KEPT: the callback keeps the bytes, the sink takes a new chunk */
    memset(&k, 0, sizeof(k));
    k.keep = 1;
    ar_out_init(&o, pool, 8, sink_flush, &k);
    {
        const char *first;
        ar_out_write(&o, "AAAAAAAA", 8);
        first = o.buf;
        ar_out_write(&o, "BBBBBBBB", 8);
        ok(k.calls == 1 && o.buf != first && k.last == first
               && memcmp(first, "AAAAAAAA", 8) == 0,
           "kept: a fresh chunk; the kept one is not written again");
        ar_out_write(&o, "CC", 2);
        ok(memcmp(first, "AAAAAAAA", 8) == 0 && k.calls == 2,
           "kept: later writes leave kept bytes alone");
    }
    /* AR_OUT_DONE reuses the chunk */
    memset(&k, 0, sizeof(k));
    ar_out_init(&o, pool, 8, sink_flush, &k);
    {
        const char *first = o.buf;
        ar_out_write(&o, "AAAAAAAA", 8);
        ar_out_write(&o, "BBBBBBBB", 8);
        ok(k.calls == 1 && o.buf == first, "done: the same chunk is filled again");
    }

    /* a failing flush stops writing and sets failed */
    memset(&k, 0, sizeof(k));
    k.fail_on_call = 2;
    ar_out_init(&o, pool, 8, sink_flush, &k);
    ar_out_write(&o, "AAAAAAAA", 8);
    ar_out_write(&o, "BBBBBBBB", 8);    /* flush 1: ok */
    ok(k.calls == 1 && o.failed == 0, "first flush succeeds");
    ar_out_write(&o, "CCCCCCCC", 8);    /* flush 2: fails */
    ok(k.calls == 2 && o.failed == 1, "a failing flush sets failed");
    ar_out_write(&o, "DDDDDDDD", 8);
    ar_out_write(&o, "EEEE", 4);
    ok(k.calls == 2, "after a failed flush the callback is not called again");
    ok(o.len == 0, "after a failed flush nothing more is buffered (len %lu)",
       (unsigned long)o.len);
    ok(ar_out_flush(&o) == -1, "ar_out_flush after failure returns -1");
    ok(k.len == 8 && memcmp(k.data, "AAAAAAAA", 8) == 0,
       "only the bytes before the failure reached the client");
    {
        /* writers that reserve room themselves must not write past it */
        char big[100];
        memset(big, 'x', sizeof(big));
        ar_json_write_string(&o, big, sizeof(big));
        ok(o.len == 0 && o.failed, "a string after the failure is dropped");
    }

    /* explicit flush that fails */
    memset(&k, 0, sizeof(k));
    k.fail_on_call = 1;
    ar_out_init(&o, pool, 1024, sink_flush, &k);
    ar_out_write(&o, "xy", 2);
    ok(ar_out_flush(&o) == -1 && o.failed == 1, "explicit flush failing returns -1");
}

/* --------------------------------------------------------- json strings */

static void test_string(void)
{
    is_str(jstr("", 0), "\"\"", "empty string");
    is_str(jstr("plain", 5), "\"plain\"", "plain string");
    is_str(jstr("a\"b", 3), "\"a\\\"b\"", "double quote escaped");
    is_str(jstr("a\\b", 3), "\"a\\\\b\"", "backslash escaped");
    is_str(jstr("\b\f\n\r\t", 5), "\"\\b\\f\\n\\r\\t\"", "\\b \\f \\n \\r \\t short escapes");
    is_str(jstr("\x01", 1), "\"\\u0001\"", "0x01 as \\u0001");
    is_str(jstr("\x1f", 1), "\"\\u001f\"", "0x1f as \\u001f (lower-case hex)");
    is_str(jstr("a\x0b" "b", 3), "\"a\\u000bb\"", "vertical tab as \\u000b");
    is_str(jstr("\x00x", 2), "\"\\u0000x\"", "NUL byte as \\u0000");
    is_str(jstr("\x7f", 1), "\"\x7f\"", "DEL passes raw (as to_json)");
    is_str(jstr("/", 1), "\"/\"", "solidus not escaped");
    is_str(jstr("\xc3\xa9", 2), "\"\xc3\xa9\"", "2-byte UTF-8 raw");
    is_str(jstr("\xe2\x82\xac", 3), "\"\xe2\x82\xac\"", "3-byte UTF-8 raw");
    is_str(jstr("\xf0\x9f\x98\x80", 4), "\"\xf0\x9f\x98\x80\"", "4-byte UTF-8 (emoji) raw");
    is_str(jstr("x\xf0\x9f\x98\x80\"\n", 7), "\"x\xf0\x9f\x98\x80\\\"\\n\"",
           "UTF-8 between escapes");
    is_str(jstr("abc", 2), "\"ab\"", "length is honoured, not the NUL");
    is_str(jstr("quote \" backslash \\ tab \t end", 29),
           "\"quote \\\" backslash \\\\ tab \\t end\"", "runs between escapes kept");
}

/* The escapes one byte at a time, as the encoder's blocks and words must
 * come out. */
static char *escaped_bytewise(const unsigned char *in, apr_size_t len)
{
    char *out = apr_palloc(pool, len * 6 + 3), *w = out;
    apr_size_t i;

    *w++ = '"';
    for (i = 0; i < len; i++) {
        unsigned char c = in[i];
        if (c == '"' || c == '\\')
            w += sprintf(w, "\\%c", c);
        else if (c == '\n')
            w += sprintf(w, "\\n");
        else if (c == '\t')
            w += sprintf(w, "\\t");
        else if (c == '\r')
            w += sprintf(w, "\\r");
        else if (c == '\b')
            w += sprintf(w, "\\b");
        else if (c == '\f')
            w += sprintf(w, "\\f");
        else if (c < 0x20)
            w += sprintf(w, "\\u%04x", c);
        else
            *w++ = (char)c;
    }
    *w++ = '"';
    *w = 0;
    return out;
}

static const char *val_n(ar_encoding enc, ar_encoding elem, const char *v, apr_size_t len);

/* Every length up to three blocks, with one byte to escape at every place
 * (and none), with bytes next to the escaped ones that a word's borrow
 * could mark (0x01 after each, 0x21, 0x5d, 0x7f, 0x80+): the block, word
 * and tail paths and their seams, both ways in: ar_json_write_string, and a
 * text value as a row writes it (put_text, with its own path for short
 * strings). The input is copied to exactly its length, so a read past it is
 * the sanitizers' to see. */
static void test_string_seams(void)
{
    static const unsigned char specials[] = {'"', '\\', '\n', 0x00, 0x1f};
    static const unsigned char fillers[] = {'a', 0x7f, 0x21, 0x5d, 0x80, 0xff, 0x20};
    int wrong = 0, tried = 0;
    apr_size_t len, at, k, f;

    for (len = 0; len <= 48; len++)
        for (f = 0; f < sizeof(fillers); f++)
            for (at = 0; at <= len; at++)
                for (k = 0; k < (at < len ? sizeof(specials) : 1); k++) {
                    unsigned char *in = malloc(len ? len : 1);
                    apr_size_t i;
                    for (i = 0; i < len; i++)
                        in[i] = (unsigned char)(fillers[(f + i) % sizeof(fillers)]);
                    if (at < len) {
                        in[at] = specials[k];
                        if (at + 1 < len)
                            in[at + 1] = 0x01; /* a borrow's mark above it */
                    }
                    tried++;
                    if (strcmp(jstr((const char *)in, len), escaped_bytewise(in, len)) != 0
                        || strcmp(val_n(AR_ENC_STRING, AR_ENC_STRING, (const char *)in, len),
                                  escaped_bytewise(in, len))
                               != 0) {
                        if (!wrong)
                            printf("# first wrong: length %lu, escape at %lu\n", (unsigned long)len,
                                 (unsigned long)at);
                        wrong++;
                    }
                    free(in);
                }
    ok(wrong == 0, "strings of every length to 48, an escape at every place: %d of %d wrong",
       wrong, tried);
}

/* ------------------------------------------------------------- numbers */

static void test_is_number(void)
{
    static const char *valid[] = {
        "0", "-0", "1", "-1", "1.5", "1e-07", "1.5e+300", "1E5", "0.000",
        "-0.000", "3.4028235e+38", "2.2250738585072014e-308",
        "12345678901234567890.123456789012345", "9223372036854775807",
        "-9223372036854775808", "1e2",
    };
    static const char *invalid[] = {
        "NaN", "Infinity", "-Infinity", "01", "1.", ".5", "+1", "", "-", "1e",
        "1e+", "-01", "00", "1.5.5", "1e5e5", " 1", "1 ", "0x10", "--1", "1-",
        "-.5", "1.e5", "infinity",
    };
    size_t i;

    for (i = 0; i < sizeof(valid) / sizeof(*valid); i++)
        ok(is_num(valid[i]) == 1, "is_number(\"%s\") is true", valid[i]);
    for (i = 0; i < sizeof(invalid) / sizeof(*invalid); i++)
        ok(is_num(invalid[i]) == 0, "is_number(\"%s\") is false", invalid[i]);
    ok(ar_json_is_number("12x", 2) == 1, "is_number honours its length (\"12\" of \"12x\")");
    ok(ar_json_is_number("1", 0) == 0, "is_number of zero length is false");
}

/* --------------------------------------------------------- write_value */

static void test_scalars(void)
{
    is_str(val(AR_ENC_STRING, AR_ENC_STRING, NULL), "null", "NULL -> null (STRING)");
    is_str(val(AR_ENC_NUMBER, AR_ENC_STRING, NULL), "null", "NULL -> null (NUMBER)");
    is_str(val(AR_ENC_ARRAY, AR_ENC_NUMBER, NULL), "null", "NULL -> null (ARRAY)");
    is_str(val(AR_ENC_TIMESTAMP, AR_ENC_STRING, NULL), "null", "NULL -> null (TIMESTAMP)");
    is_str(val(AR_ENC_JSON, AR_ENC_STRING, NULL), "null", "NULL -> null (JSON)");

    is_str(val(AR_ENC_STRING, AR_ENC_STRING, "he said \"hi\"\n"),
           "\"he said \\\"hi\\\"\\n\"", "STRING escapes");
    is_str(val(AR_ENC_STRING, AR_ENC_STRING, ""), "\"\"", "STRING empty");

    is_str(val(AR_ENC_NUMBER, AR_ENC_STRING, "42"), "42", "NUMBER 42 bare");
    is_str(val(AR_ENC_NUMBER, AR_ENC_STRING, "-0"), "-0", "NUMBER -0 bare");
    is_str(val(AR_ENC_NUMBER, AR_ENC_STRING, "1e-07"), "1e-07", "NUMBER 1e-07 bare");
    is_str(val(AR_ENC_NUMBER, AR_ENC_STRING, "12345678901234567890.123456789012345"),
           "12345678901234567890.123456789012345", "NUMBER long numeric bare");
    is_str(val(AR_ENC_NUMBER, AR_ENC_STRING, "NaN"), "\"NaN\"", "NUMBER NaN as string");
    is_str(val(AR_ENC_NUMBER, AR_ENC_STRING, "Infinity"), "\"Infinity\"",
           "NUMBER Infinity as string");
    is_str(val(AR_ENC_NUMBER, AR_ENC_STRING, "-Infinity"), "\"-Infinity\"",
           "NUMBER -Infinity as string");

    is_str(val(AR_ENC_BOOL, AR_ENC_STRING, "t"), "true", "BOOL t -> true");
    is_str(val(AR_ENC_BOOL, AR_ENC_STRING, "f"), "false", "BOOL f -> false");

    is_str(val(AR_ENC_JSON, AR_ENC_STRING, "{\"b\": [1, 2], \"a\": \"x\"}"),
           "{\"b\": [1, 2], \"a\": \"x\"}", "JSON verbatim");
    is_str(val(AR_ENC_JSON, AR_ENC_STRING, "  {\n \"z\" : 1 }  "), "  {\n \"z\" : 1 }  ",
           "JSON verbatim, whitespace kept");
    is_str(val(AR_ENC_JSON, AR_ENC_STRING, "null"), "null", "JSON null text verbatim");
    /* embedded resources: json_agg's "\n " between elements goes, nothing else */
    is_str(val(AR_ENC_EMBED, AR_ENC_STRING, "[{\"a\":1}, \n {\"a\":\"x\\ny\"}, \n {\"a\":[]}]"),
           "[{\"a\":1}, {\"a\":\"x\\ny\"}, {\"a\":[]}]",
           "embed: json_agg's line breaks dropped, an escaped \\n inside a string kept");
    is_str(val(AR_ENC_EMBED, AR_ENC_STRING, "{\"k\":\"v\"}"), "{\"k\":\"v\"}",
           "embed: an object without breaks verbatim");
    is_str(val(AR_ENC_EMBED, AR_ENC_STRING, "[1,\n\n2]\n"), "[1,2]",
           "embed: breaks anywhere, also last, without a space after");
    is_str(val(AR_ENC_EMBED, AR_ENC_STRING, NULL), "null", "embed: SQL NULL (no related row) -> null");
    is_str(val(AR_ENC_SQL_JSON, AR_ENC_STRING, "{\"x\":1,\"label\":\"one\"}"),
           "{\"x\":1,\"label\":\"one\"}", "SQL_JSON verbatim");
}

static void test_timestamps(void)
{
    is_str(val(AR_ENC_TIMESTAMP, 0, "2024-01-02 03:04:05+00"),
           "\"2024-01-02T03:04:05+00:00\"", "timestamptz +00 -> +00:00");
    is_str(val(AR_ENC_TIMESTAMP, 0, "2024-01-02 03:04:05.123456+05:30"),
           "\"2024-01-02T03:04:05.123456+05:30\"", "fractional seconds, +05:30 kept");
    is_str(val(AR_ENC_TIMESTAMP, 0, "2024-01-02 03:04:05-08"),
           "\"2024-01-02T03:04:05-08:00\"", "negative zone -08 -> -08:00");
    is_str(val(AR_ENC_TIMESTAMP, 0, "2024-01-02 03:04:05"),
           "\"2024-01-02T03:04:05\"", "timestamp without zone");
    is_str(val(AR_ENC_TIMESTAMP, 0, "2000-02-29 23:59:59.123456"),
           "\"2000-02-29T23:59:59.123456\"", "timestamp fraction, no zone");
    is_str(val(AR_ENC_TIMESTAMP, 0, "1999-12-31 23:59:59.5+00"),
           "\"1999-12-31T23:59:59.5+00:00\"", "short fraction with zone");
    is_str(val(AR_ENC_TIMESTAMP, 0, "1900-01-01 00:00:00+05:53:28"),
           "\"1900-01-01T00:00:00+05:53:28\"", "LMT zone with seconds kept");
    is_str(val(AR_ENC_TIMESTAMP, 0, "infinity"), "\"infinity\"", "infinity stays a string");
    is_str(val(AR_ENC_TIMESTAMP, 0, "-infinity"), "\"-infinity\"", "-infinity stays a string");
    /* to_json() writes BC years with the " BC" suffix after the zone */
    is_str(val(AR_ENC_TIMESTAMP, 0, "0044-03-15 00:00:00+00 BC"),
           "\"0044-03-15T00:00:00+00:00 BC\"", "BC timestamptz: T, zone, then BC");
    is_str(val(AR_ENC_TIMESTAMP, 0, "0044-03-15 12:00:00 BC"),
           "\"0044-03-15T12:00:00 BC\"", "BC timestamp without zone");
    is_str(val(AR_ENC_TIMESTAMP, 0, "0044-03-15 12:00:00.5-03:30 BC"),
           "\"0044-03-15T12:00:00.5-03:30 BC\"", "BC with fraction and -03:30");
    is_str(val(AR_ENC_TIMESTAMP, 0, "x BC"), "\"x BC\"", "odd text ending in BC as is");
    is_str(val(AR_ENC_TIMESTAMP, 0, "12345-01-02 03:04:05+00"),
           "\"12345-01-02T03:04:05+00:00\"", "year 12345");
    is_str(val(AR_ENC_TIMESTAMP, 0, "0001-01-01 00:00:00"),
           "\"0001-01-01T00:00:00\"", "year 1");
    ok(valid_json(val(AR_ENC_TIMESTAMP, 0, "2024-01-02 a\"b")),
       "TIMESTAMP: text that is not a timestamp still gives valid JSON");

    /* time with time zone: to_json() leaves the text as it is */
    is_str(val(AR_ENC_STRING, 0, "03:04:05+02"), "\"03:04:05+02\"", "timetz text kept");
}

static void test_arrays(void)
{
    const char *got;

    is_str(val(AR_ENC_ARRAY, AR_ENC_NUMBER, "{1,2,NULL}"), "[1,2,null]", "int array with NULL");
    is_str(val(AR_ENC_ARRAY, AR_ENC_NUMBER, "{{1,2},{3,4}}"), "[[1,2],[3,4]]", "2-d int array");
    is_str(val(AR_ENC_ARRAY, AR_ENC_NUMBER, "{{-2147483648,2147483647},{NULL,0}}"),
           "[[-2147483648,2147483647],[null,0]]", "2-d with NULL");
    is_str(val(AR_ENC_ARRAY, AR_ENC_NUMBER, "{{{1}},{{2}}}"), "[[[1]],[[2]]]", "3-d array");
    is_str(val(AR_ENC_ARRAY, AR_ENC_STRING,
               "{\"a,b\",NULL,\"c\\\"d\",\"e\\\\f\",\"NULL\"}"),
           "[\"a,b\",null,\"c\\\"d\",\"e\\\\f\",\"NULL\"]",
           "text array: comma, NULL, quote, backslash, quoted \"NULL\" is a string");
    is_str(val(AR_ENC_ARRAY, AR_ENC_STRING, "{x,y}"), "[\"x\",\"y\"]", "unquoted text elements");
    is_str(val(AR_ENC_ARRAY, AR_ENC_STRING, "{\"\",\"\"}"), "[\"\",\"\"]", "empty strings");
    is_str(val(AR_ENC_ARRAY, AR_ENC_STRING, "{\"{brace}\",\" spaced \",\"\xf0\x9f\x98\x80\"}"),
           "[\"{brace}\",\" spaced \",\"\xf0\x9f\x98\x80\"]", "braces, spaces, emoji in quotes");
    is_str(val(AR_ENC_ARRAY, AR_ENC_STRING, "{\"tab\there\"}"), "[\"tab\\there\"]",
           "control char inside an element escaped");
    is_str(val(AR_ENC_ARRAY, AR_ENC_NUMBER, "{}"), "[]", "empty array");
    is_str(val(AR_ENC_ARRAY, AR_ENC_STRING, "{}"), "[]", "empty text array");
    is_str(val(AR_ENC_ARRAY, AR_ENC_NUMBER, "[0:1]={5,6}"), "[5,6]", "[0:1]= bounds dropped");
    is_str(val(AR_ENC_ARRAY, AR_ENC_STRING, "[-1:0]={a,b}"), "[\"a\",\"b\"]",
           "negative bounds dropped");
    is_str(val(AR_ENC_ARRAY, AR_ENC_NUMBER, "[1:1][2:3]={{1,2}}"), "[[1,2]]",
           "2-d bounds dropped");
    is_str(val(AR_ENC_ARRAY, AR_ENC_NUMBER, "{NaN,1.5,-Infinity}"),
           "[\"NaN\",1.5,\"-Infinity\"]", "numeric elements: NaN/Infinity strings");
    is_str(val(AR_ENC_ARRAY, AR_ENC_TIMESTAMP,
               "{\"2024-01-02 03:04:05+00\",NULL,infinity,-infinity}"),
           "[\"2024-01-02T03:04:05+00:00\",null,\"infinity\",\"-infinity\"]",
           "timestamptz elements converted");
    is_str(val(AR_ENC_ARRAY, AR_ENC_TIMESTAMP, "[0:0]={\"2024-01-01 00:00:00+00\"}"),
           "[\"2024-01-01T00:00:00+00:00\"]", "timestamptz element with bounds");
    is_str(val(AR_ENC_ARRAY, AR_ENC_TIMESTAMP, "{\"0044-03-15 00:00:00+00 BC\"}"),
           "[\"0044-03-15T00:00:00+00:00 BC\"]", "BC timestamptz element");
    is_str(val(AR_ENC_ARRAY, AR_ENC_BOOL, "{t,f,NULL}"), "[true,false,null]", "bool elements");
    is_str(val(AR_ENC_ARRAY, AR_ENC_JSON, "{\"{\\\"a\\\": 1}\",\"[1, 2]\",NULL,3}"),
           "[{\"a\": 1},[1, 2],null,3]", "json elements verbatim");
    is_str(val(AR_ENC_ARRAY, AR_ENC_JSON, "{\"\\\"s\\\"\",null}"),
           "[\"s\",null]", "json string element and json null verbatim");
    is_str(val(AR_ENC_ARRAY, AR_ENC_STRING, "{NULL}"), "[null]", "{NULL}");
    is_str(val(AR_ENC_ARRAY, AR_ENC_NUMBER, "{{NULL}}"), "[[null]]", "{{NULL}}");

    /* not an array literal at all: the text as a string */
    is_str(val(AR_ENC_ARRAY, AR_ENC_NUMBER, "abc"), "\"abc\"", "non-array text -> string");
    is_str(val(AR_ENC_ARRAY, AR_ENC_NUMBER, ""), "\"\"", "empty text -> string");
    is_str(val(AR_ENC_ARRAY, AR_ENC_NUMBER, "[0:1]="), "\"[0:1]=\"",
           "bounds without a body -> string");

    /* malformed: no crash, no overread (exact lengths), some JSON */
    got = val_n(AR_ENC_ARRAY, AR_ENC_NUMBER, apr_pmemdup(pool, "{1,2", 4), 4);
    is_str(got, "[1,2]", "unterminated {1,2 -> [1,2]");
    got = val_n(AR_ENC_ARRAY, AR_ENC_STRING, apr_pmemdup(pool, "{\"abc", 5), 5);
    is_str(got, "[\"abc\"]", "unterminated quote {\"abc -> [\"abc\"]");
    got = val_n(AR_ENC_ARRAY, AR_ENC_STRING, apr_pmemdup(pool, "{\"ab\\", 5), 5);
    ok(got && valid_json(got), "dangling backslash {\"ab\\ gives valid JSON (%s)", got);
    got = val_n(AR_ENC_ARRAY, AR_ENC_NUMBER, apr_pmemdup(pool, "{", 1), 1);
    is_str(got, "[]", "lone { -> []");
    got = val_n(AR_ENC_ARRAY, AR_ENC_NUMBER, apr_pmemdup(pool, "{{{", 3), 3);
    is_str(got, "[[[]]]", "{{{ -> [[[]]]");
    got = val_n(AR_ENC_ARRAY, AR_ENC_NUMBER, apr_pmemdup(pool, "[0:1]={", 7), 7);
    is_str(got, "[]", "[0:1]={ -> []");
    got = val(AR_ENC_ARRAY, AR_ENC_STRING, "{a\"b,\"c\"d}");
    ok(valid_json(got), "stray quotes {a\"b,\"c\"d} give valid JSON (%s)", got);
    got = val(AR_ENC_ARRAY, AR_ENC_NUMBER, "{,,}");
    ok(valid_json(got), "empty elements {,,} give valid JSON (%s)", got);
    got = val(AR_ENC_ARRAY, AR_ENC_NUMBER, "{1}}}extra");
    is_str(got, "[1]", "trailing garbage after the array is ignored");
}

/* ------------------------------------------------------- bounds checks */

/* Writes (s, len) in a child process from a copy that ends exactly where an
 * unreadable page begins, so that any read past len kills the child.
 * Returns the output, or NULL when the child died. */
static const char *guarded(ar_encoding enc, ar_encoding elem, const char *s)
{
    long pg = sysconf(_SC_PAGESIZE);
    size_t len = strlen(s), n = 0;
    int fds[2], status = 0;
    char buf[8192];
    ssize_t r;
    pid_t pid;

    if (pipe(fds) != 0)
        return NULL;
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        char *m = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                       -1, 0);
        char *v;
        ar_out o;

        if (m == MAP_FAILED || mprotect(m + pg, pg, PROT_NONE) != 0)
            _exit(3);
        v = m + pg - len;
        memcpy(v, s, len);
        close(fds[0]);
        ar_out_init(&o, pool, 0, NULL, NULL);
        ar_json_write_value(&o, enc, elem, v, len);
        if (write(fds[1], o.buf, o.len) != (ssize_t)o.len)
            _exit(4);
        _exit(0);
    }
    close(fds[1]);
    while (n < sizeof(buf) && (r = read(fds[0], buf + n, sizeof(buf) - n)) > 0)
        n += (size_t)r;
    close(fds[0]);
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return NULL;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        printf("#   child %s %d\n", WIFSIGNALED(status) ? "killed by signal" : "exited",
               WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
        return NULL;
    }
    return apr_pstrmemdup(pool, buf, n);
}

static void test_bounds(void)
{
    static const struct {
        ar_encoding enc, elem;
        const char *in, *want;
    } cases[] = {
        {AR_ENC_STRING, 0, "abc", "\"abc\""},
        {AR_ENC_STRING, 0, "", "\"\""},
        {AR_ENC_NUMBER, 0, "12345", "12345"},
        {AR_ENC_NUMBER, 0, "1e", "\"1e\""},
        {AR_ENC_NUMBER, 0, "-", "\"-\""},
        {AR_ENC_BOOL, 0, "t", "true"},
        {AR_ENC_JSON, 0, "[1]", "[1]"},
        {AR_ENC_TIMESTAMP, 0, "2024-01-02 03:04:05+00", "\"2024-01-02T03:04:05+00:00\""},
        {AR_ENC_TIMESTAMP, 0, "2024-01-02 03:04:05", "\"2024-01-02T03:04:05\""},
        {AR_ENC_TIMESTAMP, 0, "0044-03-15 00:00:00+00 BC", "\"0044-03-15T00:00:00+00:00 BC\""},
        {AR_ENC_TIMESTAMP, 0, "infinity", "\"infinity\""},
        {AR_ENC_TIMESTAMP, 0, "", "\"\""},
        {AR_ENC_ARRAY, AR_ENC_NUMBER, "{1,2", "[1,2]"},
        {AR_ENC_ARRAY, AR_ENC_NUMBER, "{1,NULL", "[1,null]"},
        {AR_ENC_ARRAY, AR_ENC_NUMBER, "{NUL", "[\"NUL\"]"},
        {AR_ENC_ARRAY, AR_ENC_NUMBER, "{{1,2},{3", "[[1,2],[3]]"},
        {AR_ENC_ARRAY, AR_ENC_NUMBER, "[0:1]={5,6", "[5,6]"},
        {AR_ENC_ARRAY, AR_ENC_NUMBER, "[0:1]", "\"[0:1]\""},
        {AR_ENC_ARRAY, AR_ENC_NUMBER, "{", "[]"},
        {AR_ENC_ARRAY, AR_ENC_STRING, "{\"abc", "[\"abc\"]"},
        {AR_ENC_ARRAY, AR_ENC_STRING, "{\"ab\\", "[\"ab\\\\\"]"},
        {AR_ENC_ARRAY, AR_ENC_STRING, "{\"", "[\"\"]"},
        {AR_ENC_ARRAY, AR_ENC_BOOL, "{t,f", "[true,false]"},
        {AR_ENC_ARRAY, AR_ENC_JSON, "{\"{}\",1", "[{},1]"},
        {AR_ENC_ARRAY, AR_ENC_TIMESTAMP, "{2024-01-02 03:04:05", "[\"2024-01-02T03:04:05\"]"},
        {AR_ENC_ARRAY, AR_ENC_TIMESTAMP, "{\"2024-01-02 03:04:05+00",
         "[\"2024-01-02T03:04:05+00:00\"]"},
        {AR_ENC_ARRAY, AR_ENC_TIMESTAMP, "{infinity", "[\"infinity\"]"},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        const char *got = guarded(cases[i].enc, cases[i].elem, cases[i].in);
        ok(got != NULL, "no read past the end of '%s' (enc %d/%d)", cases[i].in,
           (int)cases[i].enc, (int)cases[i].elem);
        is_str(got, cases[i].want, "'%s' at the end of readable memory -> %s", cases[i].in,
               cases[i].want);
    }
}

/* --------------------------------------------------------------- rows */

static ar_column *mkcol(const char *name, ar_encoding enc, ar_encoding elem)
{
    ar_column *c = apr_pcalloc(pool, sizeof(*c));

    c->name = name;
    c->type = "t";
    c->enc = enc;
    c->elem_enc = elem;
    c->nullable = 1;
    return c;
}

static void test_rows(void)
{
    apr_array_header_t *cols = apr_array_make(pool, 4, sizeof(ar_output_column));
    ar_output_column *oc;
    ar_row_format *f;
    ar_out o;

    oc = apr_array_push(cols);
    oc->column = mkcol("id", AR_ENC_NUMBER, AR_ENC_STRING);
    oc->enc = AR_ENC_NUMBER;
    oc->elem_enc = AR_ENC_STRING;
    oc = apr_array_push(cols);
    oc->column = mkcol("Mixed \"Case\"\n", AR_ENC_STRING, AR_ENC_STRING);
    oc->enc = AR_ENC_STRING;
    oc->elem_enc = AR_ENC_STRING;
    oc = apr_array_push(cols);
    oc->column = mkcol("tags", AR_ENC_ARRAY, AR_ENC_STRING);
    oc->enc = AR_ENC_ARRAY;
    oc->elem_enc = AR_ENC_STRING;
    oc = apr_array_push(cols);
    oc->column = mkcol("at", AR_ENC_TIMESTAMP, AR_ENC_STRING);
    oc->enc = AR_ENC_TIMESTAMP;
    oc->elem_enc = AR_ENC_STRING;

    f = ar_row_format_make(pool, cols);
    ok(f->ncols == 4, "row format: 4 columns");
    is_str(apr_pstrmemdup(pool, f->keys[0], f->key_lens[0]), "{\"id\":", "first key opens {");
    is_str(apr_pstrmemdup(pool, f->keys[1], f->key_lens[1]), ",\"Mixed \\\"Case\\\"\\n\":",
           "later keys start with , and are escaped");

    {
        const char *values[4] = {"7", "a\"b", "{x,NULL}", "2024-01-02 03:04:05+00"};
        int lens[4];
        int i;
        for (i = 0; i < 4; i++)
            lens[i] = (int)strlen(values[i]);
        ar_out_init(&o, pool, 0, NULL, NULL);
        ar_json_write_row(&o, f, values, lens);
        is_str(out_str(&o),
               "{\"id\":7,\"Mixed \\\"Case\\\"\\n\":\"a\\\"b\",\"tags\":[\"x\",null],"
               "\"at\":\"2024-01-02T03:04:05+00:00\"}",
               "row: keys in column order, values encoded");
        ok(valid_json(out_str(&o)), "row parses as JSON");
    }
    {
        const char *values[4] = {"8", NULL, NULL, NULL};
        int lens[4] = {1, 99, 99, 99}; /* lens of NULLs must be ignored */
        ar_out_init(&o, pool, 0, NULL, NULL);
        ar_json_write_row(&o, f, values, lens);
        is_str(out_str(&o),
               "{\"id\":8,\"Mixed \\\"Case\\\"\\n\":null,\"tags\":null,\"at\":null}",
               "row: NULLs -> null");
    }
    {
        /* lengths are honoured: values need not be NUL-terminated */
        const char *values[4] = {"123", "abcdef", "{1,2}xx", "2024-01-02 03:04:05+00zz"};
        int lens[4] = {2, 3, 5, 22};
        ar_out_init(&o, pool, 0, NULL, NULL);
        ar_json_write_row(&o, f, values, lens);
        is_str(out_str(&o),
               "{\"id\":12,\"Mixed \\\"Case\\\"\\n\":\"abc\",\"tags\":[\"1\",\"2\"],"
               "\"at\":\"2024-01-02T03:04:05+00:00\"}",
               "row: value lengths honoured");
    }
    {
        /* two rows in one sink */
        const char *values[4] = {"1", "", "{}", "infinity"};
        int lens[4] = {1, 0, 2, 8};
        ar_out_init(&o, pool, 0, NULL, NULL);
        ar_out_puts(&o, "[");
        ar_json_write_row(&o, f, values, lens);
        ar_json_write_next_row(&o, f, values, lens);
        ar_out_puts(&o, "]");
        is_str(out_str(&o),
               "[{\"id\":1,\"Mixed \\\"Case\\\"\\n\":\"\",\"tags\":[],\"at\":\"infinity\"},"
               "{\"id\":1,\"Mixed \\\"Case\\\"\\n\":\"\",\"tags\":[],\"at\":\"infinity\"}]",
               "two rows in an array: the second after its comma");
        ok(valid_json(out_str(&o)), "two rows in an array parse");
    }
    {
        apr_array_header_t *none = apr_array_make(pool, 1, sizeof(ar_output_column));
        ar_row_format *f0 = ar_row_format_make(pool, none);
        ok(f0->ncols == 0, "zero columns format");
        ar_out_init(&o, pool, 0, NULL, NULL);
        ar_json_write_row(&o, f0, NULL, NULL);
        is_str(out_str(&o), "{}", "zero columns -> {}");
        ar_json_write_next_row(&o, f0, NULL, NULL);
        is_str(out_str(&o), "{},{}", "zero columns, a next row -> ,{}");
    }
    {
        /* SQL_JSON columns arrive as JSON after planning */
        apr_array_header_t *c2 = apr_array_make(pool, 1, sizeof(ar_output_column));
        const char *values[1] = {"{\"x\":1}"};
        int lens[1] = {7};
        oc = apr_array_push(c2);
        oc->column = mkcol("p", AR_ENC_SQL_JSON, AR_ENC_STRING);
        oc->enc = AR_ENC_JSON;
        oc->elem_enc = AR_ENC_STRING;
        ar_out_init(&o, pool, 0, NULL, NULL);
        ar_json_write_row(&o, ar_row_format_make(pool, c2), values, lens);
        is_str(out_str(&o), "{\"p\":{\"x\":1}}", "one JSON column");
    }
    {
        /* the rows of a streamed answer, through chunks smaller than one
         * row, with an array between other values: the bytes of the held
         * form, and every one of them */
        const char *values[4] = {"42", "tab\there \"q\" and a longer text past sixteen",
                                 "{\"a b\",NULL,c}", "2024-01-02 03:04:05.5-03:30"};
        int lens[4];
        sink k;
        char *held;
        int i;

        for (i = 0; i < 4; i++)
            lens[i] = (int)strlen(values[i]);
        ar_out_init(&o, pool, 0, NULL, NULL);
        for (i = 0; i < 3; i++)
            ar_json_write_row(&o, f, values, lens);
        held = apr_pstrdup(pool, out_str(&o));
        memset(&k, 0, sizeof(k));
        ar_out_init(&o, pool, 16, sink_flush, &k);
        for (i = 0; i < 3; i++)
            ar_json_write_row(&o, f, values, lens);
        ar_out_flush(&o);
        is_str(apr_pstrmemdup(pool, k.data, k.len), held,
               "rows through 16-byte chunks: the same bytes as held whole");
        ok(k.calls == 3, "one chunk a row: a row is reserved whole (got %d)", k.calls);
    }
}

/* An int2/4/8 column's own values are written as they come; a numeric's or
 * a float's by their first bytes (NaN and [-]Infinity are strings); an
 * aggregate's or a cast's are still checked by the grammar. */
static void test_row_integers(void)
{
    apr_array_header_t *cols = apr_array_make(pool, 4, sizeof(ar_output_column));
    ar_output_column *oc;
    ar_row_format *f;
    ar_out o;
    ar_column *c;
    const char *values[3] = {"-9223372036854775808", "NaN", "12"};
    int lens[3] = {20, 3, 2};
    static const char *const decimals[][2] = {
        {"NaN", "\"NaN\""}, {"Infinity", "\"Infinity\""}, {"-Infinity", "\"-Infinity\""},
        {"-0", "-0"}, {"12.50", "12.50"}, {"-0.000001", "-0.000001"}, {"1e+100", "1e+100"},
        {"-1.5e-07", "-1.5e-07"}, {"", "\"\""}, {"-", "\"-\""}};
    int i, wrong = 0;

    oc = apr_array_push(cols);
    oc->column = c = mkcol("big", AR_ENC_NUMBER, AR_ENC_STRING);
    c->type_oid = 20;
    oc->enc = AR_ENC_NUMBER;
    oc = apr_array_push(cols);
    oc->column = c = mkcol("amount", AR_ENC_NUMBER, AR_ENC_STRING);
    c->type_oid = 1700;
    oc->enc = AR_ENC_NUMBER;
    oc = apr_array_push(cols);
    oc->column = c = mkcol("total", AR_ENC_NUMBER, AR_ENC_STRING);
    c->type_oid = 23;
    oc->enc = AR_ENC_NUMBER;
    oc->agg = AR_AGG_SUM;
    f = ar_row_format_make(pool, cols);
    ok(f->enc[0] == AR_ENC_INTEGER, "an int8 column is written unchecked");
    ok(f->enc[1] == AR_ENC_DECIMAL, "a numeric column is told by its first bytes");
    ok(f->enc[2] == AR_ENC_NUMBER, "a sum() over an int4 column is checked by the grammar");
    ar_out_init(&o, pool, 0, NULL, NULL);
    ar_json_write_row(&o, f, values, lens);
    is_str(out_str(&o), "{\"big\":-9223372036854775808,\"amount\":\"NaN\",\"total\":12}",
           "integers bare, NaN a string");
    ar_out_init(&o, pool, 0, NULL, NULL);
    ar_json_write_value(&o, AR_ENC_INTEGER, AR_ENC_STRING, "7", 1);
    is_str(out_str(&o), "7", "an integer alone");
    for (i = 0; i < (int)(sizeof(decimals) / sizeof(decimals[0])); i++) {
        ar_out_init(&o, pool, 0, NULL, NULL);
        ar_json_write_value(&o, AR_ENC_DECIMAL, AR_ENC_STRING, decimals[i][0],
                            strlen(decimals[i][0]));
        if (strcmp(out_str(&o), decimals[i][1]) != 0) {
            printf("# decimal %s: %s\n", decimals[i][0], out_str(&o));
            wrong++;
        }
    }
    ok(wrong == 0, "numeric and float text: numbers bare, NaN, [-]Infinity and the rest strings");
}

/* Bare values (numbers, json) are copied by fixed-size moves up to sixteen
 * bytes, by memcpy past that: every length across both, each byte in place. */
static void test_row_bare_lengths(void)
{
    apr_array_header_t *cols = apr_array_make(pool, 2, sizeof(ar_output_column));
    ar_output_column *oc;
    ar_row_format *f;
    const char digits[] = "123456789012345678901234";
    int n, bad = 0;

    oc = apr_array_push(cols);
    oc->column = mkcol("doc", AR_ENC_JSON, AR_ENC_STRING);
    oc->enc = AR_ENC_JSON;
    oc = apr_array_push(cols);
    oc->column = mkcol("after", AR_ENC_BOOL, AR_ENC_STRING);
    oc->enc = AR_ENC_BOOL;
    f = ar_row_format_make(pool, cols);
    for (n = 1; n <= 24; n++) {
        const char *values[2] = {digits, "t"};
        int lens[2] = {n, 1};
        ar_out o;

        ar_out_init(&o, pool, 0, NULL, NULL);
        ar_json_write_row(&o, f, values, lens);
        if (strcmp(out_str(&o), apr_psprintf(pool, "{\"doc\":%.*s,\"after\":true}", n, digits)))
            bad++;
    }
    ok(bad == 0, "bare values of 1 to 24 bytes are copied whole (%d wrong)", bad);
}

/* ---------------------------------------------------------------- index */

static ar_column colv(const char *name, const char *type, int nullable, const char *dflt,
                      const char *comment, int pos)
{
    ar_column c;

    memset(&c, 0, sizeof(c));
    c.name = name;
    c.type = type;
    c.nullable = nullable;
    c.default_expr = dflt;
    c.comment = comment;
    c.position = pos;
    c.sortable = 1;
    return c;
}

static ar_key *mkkey(const char *name, int a, int b)
{
    ar_key *k = apr_pcalloc(pool, sizeof(*k));

    k->name = name;
    k->cols = apr_array_make(pool, 2, sizeof(int));
    APR_ARRAY_PUSH(k->cols, int) = a;
    if (b >= 0)
        APR_ARRAY_PUSH(k->cols, int) = b;
    return k;
}

static ar_relation *mkrel(const char *schema, const char *name, char kind, const char *comment)
{
    ar_relation *r = apr_pcalloc(pool, sizeof(*r));

    r->schema = schema;
    r->name = name;
    r->kind = kind;
    r->comment = comment;
    r->columns = apr_array_make(pool, 4, sizeof(ar_column));
    r->unique_keys = apr_array_make(pool, 1, sizeof(ar_key));
    r->foreign_keys = apr_array_make(pool, 1, sizeof(ar_foreign_key));
    return r;
}

static json_t *find_rel(json_t *rels, const char *schema, const char *name)
{
    size_t i;
    json_t *r;

    json_array_foreach(rels, i, r) {
        if (strcmp(json_string_value(json_object_get(r, "schema")), schema) == 0
            && strcmp(json_string_value(json_object_get(r, "name")), name) == 0)
            return r;
    }
    return NULL;
}

static const char *jget(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return v && json_is_string(v) ? json_string_value(v) : NULL;
}

/* A primary key on a hidden column: the index must not name the column. */
static void test_index_hidden_key(void)
{
    ar_schema *s = ar_schema_create(pool);
    ar_relation *acct = mkrel("public", "accounts", 'r', NULL);
    apr_array_header_t *schemas = apr_array_make(pool, 1, sizeof(const char *));
    ar_exposure x;
    apr_size_t len = 0;
    char *text;
    json_t *doc, *r;

    APR_ARRAY_PUSH(acct->columns, ar_column) = colv("acct_secret_id", "integer", 0, NULL, NULL, 1);
    APR_ARRAY_PUSH(acct->columns, ar_column) = colv("label", "text", 1, NULL, NULL, 2);
    acct->primary_key = mkkey("accounts_pkey", 0, -1);
    ar_schema_add(s, acct);
    APR_ARRAY_PUSH(schemas, const char *) = "public";
    x.schemas = schemas;
    x.excluded = NULL;
    x.hidden = apr_hash_make(pool);
    apr_hash_set(x.hidden, "public.accounts.acct_secret_id", APR_HASH_KEY_STRING, "");

    text = ar_json_index(pool, s, &x, "/api", AR_METHOD_GET, AR_RPC_OFF, NULL, &len);
    doc = text ? json_loads(text, 0, NULL) : NULL;
    r = doc ? json_array_get(json_object_get(doc, "relations"), 0) : NULL;
    ok(r && json_array_size(json_object_get(r, "columns")) == 1, "hidden key column: 1 column");
    ok(text && strstr(text, "acct_secret_id") == NULL,
       "a hidden primary-key column is not named anywhere in the index");
    ok(r && json_is_null(json_object_get(r, "primary_key")),
       "a primary key with a hidden column is shown as null (it cannot be used)");
    if (text && strstr(text, "acct_secret_id"))
        printf("#   got: %s\n", text);
    json_decref(doc);
}

/* Percent-decode a URL path segment. */
static char *pct_decode(const char *s)
{
    char *out = apr_palloc(pool, strlen(s) + 1), *o = out;

    for (; *s; s++) {
        if (s[0] == '%' && s[1] && s[2]) {
            char hex[3] = {s[1], s[2], 0};
            *o++ = (char)strtol(hex, NULL, 16);
            s += 2;
        }
        else
            *o++ = *s;
    }
    *o = '\0';
    return out;
}

/* Every url the index advertises leads back to its relation. */
static void test_index_urls_resolve(void)
{
    ar_schema *s = ar_schema_create(pool);
    apr_array_header_t *schemas = apr_array_make(pool, 3, sizeof(const char *));
    static const char *const rels[][2] = {
        {"public", "plain"}, {"public", "a.b"}, {"public", "100%"}, {"public", "sp ace"},
        {"other", "t"}, {"other", "x.y"}, {"my.schema", "t"},
    };
    ar_exposure x;
    apr_size_t len = 0, i;
    char *text;
    json_t *doc, *arr, *r;

    for (i = 0; i < sizeof(rels) / sizeof(*rels); i++) {
        ar_relation *rel = mkrel(rels[i][0], rels[i][1], 'r', NULL);
        APR_ARRAY_PUSH(rel->columns, ar_column) = colv("a", "integer", 1, NULL, NULL, 1);
        ar_schema_add(s, rel);
    }
    APR_ARRAY_PUSH(schemas, const char *) = "public";
    APR_ARRAY_PUSH(schemas, const char *) = "other";
    APR_ARRAY_PUSH(schemas, const char *) = "my.schema";
    x.schemas = schemas;
    x.excluded = NULL;
    x.hidden = NULL;

    text = ar_json_index(pool, s, &x, "/api", AR_METHOD_GET, AR_RPC_OFF, NULL, &len);
    doc = text ? json_loads(text, 0, NULL) : NULL;
    arr = doc ? json_object_get(doc, "relations") : NULL;
    ok(arr && json_array_size(arr) == sizeof(rels) / sizeof(*rels), "all relations listed");
    json_array_foreach(arr, i, r) {
        const char *url = jget(r, "url");
        const char *schema_name = jget(r, "schema"), *name = jget(r, "name");
        const ar_relation *got = NULL;

        if (url && strncmp(url, "/api/", 5) == 0)
            got = ar_resolve_relation(s, &x, NULL, pct_decode(url + 5));
        ok(got && strcmp(got->schema, schema_name) == 0 && strcmp(got->name, name) == 0,
           "url %s resolves back to %s.%s", url ? url : "(null)", schema_name, name);
    }
    json_decref(doc);
}

static void test_index(void)
{
    ar_schema *s = ar_schema_create(pool);
    ar_relation *people, *pv, *enr, *secret, *other, *spaced, *notexp, *mv, *ft, *pt;
    ar_exposure x;
    apr_array_header_t *schemas = apr_array_make(pool, 2, sizeof(const char *));
    char *text;
    apr_size_t len = 0;
    json_t *doc, *rels, *r, *cols, *pk;
    json_error_t err;

    people = mkrel("public", "people", 'r', "People we know");
    APR_ARRAY_PUSH(people->columns, ar_column) = colv("id", "integer", 0, "nextval('people_id_seq'::regclass)", NULL, 1);
    APR_ARRAY_PUSH(people->columns, ar_column) = colv("name", "text", 0, NULL, "full name", 2);
    APR_ARRAY_PUSH(people->columns, ar_column) = colv("email", "character varying(100)", 1, NULL, NULL, 3);
    APR_ARRAY_PUSH(people->columns, ar_column) = colv("password", "text", 1, NULL, NULL, 4);
    people->primary_key = mkkey("people_pkey", 0, -1);
    ar_schema_add(s, people);

    pv = mkrel("public", "people_view", 'v', NULL);
    APR_ARRAY_PUSH(pv->columns, ar_column) = colv("id", "integer", 1, NULL, NULL, 1);
    ar_schema_add(s, pv);

    enr = mkrel("public", "enrollment", 'r', NULL);
    APR_ARRAY_PUSH(enr->columns, ar_column) = colv("person_id", "integer", 0, NULL, NULL, 1);
    APR_ARRAY_PUSH(enr->columns, ar_column) = colv("team_id", "integer", 0, NULL, NULL, 2);
    enr->primary_key = mkkey("enrollment_pkey", 1, 0); /* key order != column order */
    ar_schema_add(s, enr);

    secret = mkrel("public", "secret", 'r', NULL);
    APR_ARRAY_PUSH(secret->columns, ar_column) = colv("k", "text", 0, NULL, NULL, 1);
    ar_schema_add(s, secret);

    spaced = mkrel("public", "my table/\xc3\xa9", 'm', NULL);
    APR_ARRAY_PUSH(spaced->columns, ar_column) = colv("a", "integer", 1, NULL, NULL, 1);
    ar_schema_add(s, spaced);

    other = mkrel("other", "things", 'r', "other \"things\"");
    APR_ARRAY_PUSH(other->columns, ar_column) = colv("id", "bigint", 0, NULL, NULL, 1);
    other->primary_key = mkkey("things_pkey", 0, -1);
    ar_schema_add(s, other);

    ft = mkrel("other", "ft", 'f', NULL);
    APR_ARRAY_PUSH(ft->columns, ar_column) = colv("a", "integer", 1, NULL, NULL, 1);
    ar_schema_add(s, ft);
    pt = mkrel("other", "pt", 'p', NULL);
    APR_ARRAY_PUSH(pt->columns, ar_column) = colv("a", "integer", 1, NULL, NULL, 1);
    ar_schema_add(s, pt);
    mv = mkrel("other", "weird", 'x', NULL);
    APR_ARRAY_PUSH(mv->columns, ar_column) = colv("a", "integer", 1, NULL, NULL, 1);
    ar_schema_add(s, mv);

    notexp = mkrel("private", "hidden_rel", 'r', NULL);
    APR_ARRAY_PUSH(notexp->columns, ar_column) = colv("a", "integer", 1, NULL, NULL, 1);
    ar_schema_add(s, notexp);

    APR_ARRAY_PUSH(schemas, const char *) = "public";
    APR_ARRAY_PUSH(schemas, const char *) = "other";
    x.schemas = schemas;
    x.excluded = apr_hash_make(pool);
    apr_hash_set(x.excluded, "public.secret", APR_HASH_KEY_STRING, "");
    x.hidden = apr_hash_make(pool);
    apr_hash_set(x.hidden, "public.people.password", APR_HASH_KEY_STRING, "");

    text = ar_json_index(pool, s, &x, "/api", AR_METHOD_GET, AR_RPC_OFF, NULL, &len);
    ok(text != NULL, "index: document built");
    if (!text)
        return;
    ok(len == strlen(text), "index: len is the text length");
    doc = json_loads(text, 0, &err);
    ok(doc != NULL, "index: parses as JSON (%s)", doc ? "ok" : err.text);
    if (!doc)
        return;
    rels = json_object_get(doc, "relations");
    ok(json_is_array(rels) && json_object_size(doc) == 1, "index: {\"relations\":[...]} only");
    ok(json_array_size(rels) == 8, "index: 8 exposed relations (got %lu)",
       (unsigned long)json_array_size(rels));
    ok(find_rel(rels, "public", "secret") == NULL, "index: excluded relation absent");
    ok(find_rel(rels, "private", "hidden_rel") == NULL, "index: unexposed schema absent");
    {
        /* order: as added to the schema */
        const char *first = jget(json_array_get(rels, 0), "name");
        const char *last = jget(json_array_get(rels, json_array_size(rels) - 1), "name");
        is_str(first, "people", "index: relations in schema order (first)");
        is_str(last, "weird", "index: relations in schema order (last)");
    }

    r = find_rel(rels, "public", "people");
    ok(r != NULL, "index: people present");
    if (r) {
        is_str(jget(r, "kind"), "table", "people kind table");
        is_str(jget(r, "url"), "/api/people", "people url in the default schema");
        is_str(jget(r, "comment"), "People we know", "people comment");
        pk = json_object_get(r, "primary_key");
        ok(json_is_array(pk) && json_array_size(pk) == 1
               && strcmp(json_string_value(json_array_get(pk, 0)), "id") == 0,
           "people primary_key [\"id\"]");
        cols = json_object_get(r, "columns");
        ok(json_array_size(cols) == 3, "people: 3 columns (password hidden)");
        {
            size_t i;
            json_t *c;
            int has_pw = 0;
            json_array_foreach(cols, i, c)
                if (strcmp(jget(c, "name"), "password") == 0)
                    has_pw = 1;
            ok(!has_pw, "hidden column absent from the index");
        }
        {
            json_t *c0 = json_array_get(cols, 0), *c1 = json_array_get(cols, 1),
                   *c2 = json_array_get(cols, 2);
            is_str(jget(c0, "name"), "id", "column 0 name");
            is_str(jget(c0, "type"), "integer", "column 0 type");
            ok(json_is_false(json_object_get(c0, "nullable")), "id not nullable");
            is_str(jget(c0, "default"), "nextval('people_id_seq'::regclass)", "id default");
            ok(json_is_null(json_object_get(c0, "comment")), "id comment null");
            is_str(jget(c1, "name"), "name", "column 1 name");
            is_str(jget(c1, "comment"), "full name", "column 1 comment");
            ok(json_is_null(json_object_get(c1, "default")), "name default null");
            is_str(jget(c2, "name"), "email", "column 2 name");
            is_str(jget(c2, "type"), "character varying(100)", "column 2 type");
            ok(json_is_true(json_object_get(c2, "nullable")), "email nullable");
        }
    }
    r = find_rel(rels, "public", "people_view");
    if (r) {
        is_str(jget(r, "kind"), "view", "view kind");
        ok(json_is_null(json_object_get(r, "primary_key")), "no primary key -> null");
        ok(json_is_null(json_object_get(r, "comment")), "no comment -> null");
    }
    else
        ok(0, "people_view present");
    r = find_rel(rels, "public", "enrollment");
    if (r) {
        pk = json_object_get(r, "primary_key");
        ok(json_is_array(pk) && json_array_size(pk) == 2
               && strcmp(json_string_value(json_array_get(pk, 0)), "team_id") == 0
               && strcmp(json_string_value(json_array_get(pk, 1)), "person_id") == 0,
           "composite primary key in key order [team_id, person_id]");
    }
    else
        ok(0, "enrollment present");
    r = find_rel(rels, "other", "things");
    if (r) {
        is_str(jget(r, "url"), "/api/other.things", "url in another schema is schema.name");
        is_str(jget(r, "comment"), "other \"things\"", "comment with quotes");
    }
    else
        ok(0, "other.things present");
    r = find_rel(rels, "public", "my table/\xc3\xa9");
    if (r) {
        is_str(jget(r, "url"), "/api/my%20table%2F%C3%A9", "url percent-encodes the name");
        is_str(jget(r, "kind"), "materialized_view", "m kind");
    }
    else
        ok(0, "spaced relation present");
    is_str(jget(find_rel(rels, "other", "ft"), "kind"), "foreign_table", "f kind");
    is_str(jget(find_rel(rels, "other", "pt"), "kind"), "partitioned_table", "p kind");
    is_str(jget(find_rel(rels, "other", "weird"), "kind"), "unknown", "unknown kind");
    json_decref(doc);

    /* no excluded / hidden tables at all */
    {
        ar_exposure y;
        apr_array_header_t *only = apr_array_make(pool, 1, sizeof(const char *));
        APR_ARRAY_PUSH(only, const char *) = "other";
        y.schemas = only;
        y.excluded = NULL;
        y.hidden = NULL;
        text = ar_json_index(pool, s, &y, "", AR_METHOD_GET, AR_RPC_OFF, NULL, &len);
        doc = text ? json_loads(text, 0, &err) : NULL;
        rels = doc ? json_object_get(doc, "relations") : NULL;
        ok(rels && json_array_size(rels) == 4, "index of schema other alone: 4 relations");
        r = rels ? find_rel(rels, "other", "things") : NULL;
        is_str(r ? jget(r, "url") : NULL, "/things", "other is now the default schema");
        json_decref(doc);
    }
    /* empty schema */
    {
        ar_schema *empty = ar_schema_create(pool);
        text = ar_json_index(pool, empty, &x, "/api", AR_METHOD_GET, AR_RPC_OFF, NULL, &len);
        is_str(text, "{\"relations\":[]}", "empty schema -> {\"relations\":[]}");
    }
    test_index_hidden_key();
    test_index_urls_resolve();
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);

    test_out();
    test_string();
    test_string_seams();
    test_is_number();
    test_scalars();
    test_timestamps();
    test_arrays();
    test_bounds();
    test_rows();
    test_row_integers();
    test_row_bare_lengths();
    test_index();

    apr_pool_destroy(pool);
    apr_terminate();
    return tap_done();
}
