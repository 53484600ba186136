/*
 * test_body.c: the streaming body parser (body.c), JSON and CSV.
 *
 * Every body is read three ways: whole, one byte at a time, and split in two
 * at every position; the rows (as a canonical dump) and the error message
 * must be the same each time, since a brigade may cut a body anywhere. The
 * expectations are then checked against the whole reading.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "autorest.h"
#include "tap.h"

static apr_pool_t *pool;
static int invariant_failures;

/* ------------------------------------------------------------- helpers */

/* What a reading gave: the rows as text, and how it ended. */
typedef struct {
    char *dump;
    size_t len, cap;
    int fail_at_row;        /* 1-based row whose callback fails; 0 = none */
    ar_error *cb_err;
    apr_int64_t calls;
    int format;
} collector;

static void add(collector *c, const char *s, size_t n)
{
    if (c->len + n + 1 > c->cap) {
        c->cap = (c->len + n + 1) * 2;
        c->dump = realloc(c->dump, c->cap);
        if (!c->dump)
            abort();
    }
    memcpy(c->dump + c->len, s, n);
    c->len += n;
    c->dump[c->len] = '\0';
}

static void add_s(collector *c, const char *s)
{
    add(c, s, strlen(s));
}

/* Bytes below 0x20 as \xHH, so that dumps read on one line. */
static void add_escaped(collector *c, const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char b = (unsigned char)s[i];
        if (b < 0x20) {
            char hex[8];
            snprintf(hex, sizeof(hex), "\\x%02X", b);
            add_s(c, hex);
        }
        else
            add(c, s + i, 1);
    }
}

static const char *kind_name(ar_value_kind k)
{
    switch (k) {
    case AR_VAL_NULL: return "null";
    case AR_VAL_STRING: return "s";
    case AR_VAL_NUMBER: return "n";
    case AR_VAL_TRUE: return "t";
    case AR_VAL_FALSE: return "f";
    case AR_VAL_OBJECT: return "o";
    case AR_VAL_ARRAY: return "a";
    }
    return "?";
}

/* Each row as "#row name=kind:text ..." (JSON strings add "~raw"), and
 * the promises of ar_body.h checked on the way. */
static ar_error *collect_row(void *ctx, apr_int64_t row, const ar_body_field *f, int n)
{
    collector *c = ctx;
    char head[32];
    int k;

    if (row != c->calls)
        invariant_failures++;
    c->calls++;
    snprintf(head, sizeof(head), "%s#%ld", c->len ? "\n" : "", (long)row);
    add_s(c, head);
    for (k = 0; k < n; k++) {
        const ar_body_field *x = &f[k];

        if (!x->name || x->name[x->name_len] != '\0' || strlen(x->name) != x->name_len)
            invariant_failures++;
        if (x->kind == AR_VAL_NULL) {
            if (x->text || x->len)
                invariant_failures++;
            if (c->format == AR_BODY_JSON
                && (!x->raw || x->raw_len != 4 || strcmp(x->raw, "null") != 0))
                invariant_failures++;
        }
        else {
            if (!x->text || x->text[x->len] != '\0' || strlen(x->text) != x->len)
                invariant_failures++;
            if (!x->raw || x->raw[x->raw_len] != '\0')
                invariant_failures++;
            if (x->kind != AR_VAL_STRING && (x->raw != x->text || x->raw_len != x->len))
                invariant_failures++;
            if (c->format == AR_BODY_CSV && (x->raw != x->text || x->kind != AR_VAL_STRING))
                invariant_failures++;
        }
        add_s(c, " ");
        add_escaped(c, x->name, x->name_len);
        add_s(c, "=");
        add_s(c, kind_name(x->kind));
        if (x->kind != AR_VAL_NULL) {
            add_s(c, ":");
            add_escaped(c, x->text, x->len);
            if (x->kind == AR_VAL_STRING && c->format == AR_BODY_JSON) {
                add_s(c, "~");
                add_escaped(c, x->raw, x->raw_len);
            }
        }
    }
    if (c->fail_at_row && c->calls == c->fail_at_row)
        return c->cb_err = ar_error_make(pool, AR_ERR_DB_CONSTRAINT, "the callback says no",
                                         NULL, NULL);
    return NULL;
}

typedef struct {
    char *dump;             /* rows; "" for none */
    const char *error;      /* NULL or the message */
    ar_error_kind kind;
    apr_int64_t rows;
    int single;
} reading;

/* Reads body cut at the offsets in cuts (ascending, ncuts of them). */
static reading read_cut(ar_body_format fmt, const char *body, size_t len,
                        const size_t *cuts, int ncuts)
{
    collector c;
    ar_body_parser *bp;
    ar_error *e = NULL;
    reading r;
    size_t at = 0;
    int k;

    memset(&c, 0, sizeof(c));
    c.format = fmt;
    add(&c, "", 0);
    bp = ar_body_parser_create(pool, fmt, collect_row, &c);
    for (k = 0; k <= ncuts && !e; k++) {
        size_t end = k < ncuts ? cuts[k] : len;
        /* Each piece from its own exact-size copy, so reading past it is a
         * bug valgrind and ASan see. */
        char *piece = malloc(end - at + 1);
        memcpy(piece, body + at, end - at);
        e = ar_body_feed(bp, piece, end - at);
        free(piece);
        at = end;
    }
    if (!e)
        e = ar_body_finish(bp);
    r.dump = apr_pstrdup(pool, c.dump);
    r.error = e ? e->message : NULL;
    r.kind = e ? e->kind : AR_ERR__COUNT;
    r.rows = ar_body_rows(bp);
    r.single = ar_body_is_single(bp);
    free(c.dump);
    return r;
}

static int same_reading(const reading *a, const reading *b)
{
    return strcmp(a->dump, b->dump) == 0 && a->rows == b->rows && a->single == b->single
        && a->kind == b->kind
        && ((!a->error && !b->error) || (a->error && b->error && !strcmp(a->error, b->error)));
}

/* Whole, a byte at a time, and in two at every offset: one test that all
 * agree; returns the whole reading. */
static reading read_all_ways(ar_body_format fmt, const char *body, size_t len, const char *name)
{
    reading whole = read_cut(fmt, body, len, NULL, 0);
    size_t *cuts = malloc((len ? len : 1) * sizeof(*cuts));
    size_t k;
    int agree = 1;
    const char *how = "";

    for (k = 0; k + 1 < len; k++)
        cuts[k] = k + 1;
    {
        reading bytes = read_cut(fmt, body, len, cuts, len ? (int)len - 1 : 0);
        if (!same_reading(&whole, &bytes)) {
            agree = 0;
            how = "byte at a time";
            printf("#   bytes: %s / %s\n", bytes.dump, bytes.error ? bytes.error : "ok");
        }
    }
    for (k = 0; k <= len && agree; k++) {
        size_t cut = k;
        reading two = read_cut(fmt, body, len, &cut, 1);
        if (!same_reading(&whole, &two)) {
            agree = 0;
            how = apr_psprintf(pool, "split at %lu", (unsigned long)k);
            printf("#   split: %s / %s\n", two.dump, two.error ? two.error : "ok");
        }
    }
    free(cuts);
    ok(agree, "%s: whole, byte by byte and every split agree%s%s", name, agree ? "" : ": ",
       how);
    if (!agree)
        printf("#   whole: %s / %s\n", whole.dump, whole.error ? whole.error : "ok");
    return whole;
}

/* A body that reads: its rows' dump. */
static void json_rows(const char *body, const char *want, const char *name)
{
    reading r = read_all_ways(AR_BODY_JSON, body, strlen(body), name);

    if (r.error)
        printf("#   error: %s\n", r.error);
    is_str(r.error ? NULL : r.dump, want, "%s: rows", name);
}

static void csv_rows(const char *body, const char *want, const char *name)
{
    reading r = read_all_ways(AR_BODY_CSV, body, strlen(body), name);

    if (r.error)
        printf("#   error: %s\n", r.error);
    is_str(r.error ? NULL : r.dump, want, "%s: rows", name);
}

/* A body that does not: AR_ERR_BAD_BODY, the message as given. */
static void body_error_n(ar_body_format fmt, const char *body, size_t len, const char *want,
                         const char *name)
{
    reading r = read_all_ways(fmt, body, len, name);

    ok(r.error && r.kind == AR_ERR_BAD_BODY, "%s: AR_ERR_BAD_BODY", name);
    is_str(r.error, want, "%s: message", name);
}

static void json_error(const char *body, const char *want, const char *name)
{
    body_error_n(AR_BODY_JSON, body, strlen(body), want, name);
}

static void csv_error(const char *body, const char *want, const char *name)
{
    body_error_n(AR_BODY_CSV, body, strlen(body), want, name);
}

/* ---------------------------------------------------------------- JSON */

static void test_json_shapes(void)
{
    reading r;

    r = read_all_ways(AR_BODY_JSON, "{\"a\":1,\"b\":\"x\"}", 15, "single object");
    is_str(r.dump, "#0 a=n:1 b=s:x~\"x\"", "single object: one row, keys in order");
    ok(r.single == 1 && r.rows == 1 && !r.error, "single object: is_single, 1 row, no error");

    r = read_all_ways(AR_BODY_JSON, "[{\"a\":1},{\"a\":2,\"b\":null}]", 26, "array");
    is_str(r.dump, "#0 a=n:1\n#1 a=n:2 b=null", "array: a row per element");
    ok(r.single == 0 && r.rows == 2 && !r.error, "array: not single, 2 rows");

    r = read_all_ways(AR_BODY_JSON, "[]", 2, "empty array");
    ok(!r.error && r.rows == 0 && r.single == 0 && !*r.dump, "[]: no rows, no error");

    r = read_all_ways(AR_BODY_JSON, "[{}]", 4, "[{}]");
    ok(!r.error && r.rows == 1 && !strcmp(r.dump, "#0"), "[{}]: one row without fields");

    r = read_all_ways(AR_BODY_JSON, "{}", 2, "{}");
    ok(!r.error && r.rows == 1 && r.single, "{}: one row, single");

    json_rows(" \t\r\n[ \n{ \"a\" : 1 , \"b\" :\t\"x\" } ,\r\n{ } ] \n",
              "#0 a=n:1 b=s:x~\"x\"\n#1", "whitespace wherever JSON allows it");
    json_rows("\xEF\xBB\xBF{\"a\":true}", "#0 a=t:true", "a UTF-8 byte order mark is skipped");
    json_rows("{\"t\":true,\"f\":false,\"z\":null}", "#0 t=t:true f=f:false z=null",
              "true, false, null");
    json_rows("{\"a\":{\"b\":[1, 2]} }", "#0 a=o:{\"b\":[1, 2]}",
              "a nested object's bytes, verbatim");
    json_rows("{\"a\":[ {\"x\" : null}, \"s\\n\", [], {}, -1.5e3 ] ,\"b\":[]}",
              "#0 a=a:[ {\"x\" : null}, \"s\\n\", [], {}, -1.5e3 ] b=a:[]",
              "a nested array's bytes, verbatim");
    json_rows("{\"n\":12345678901234567890.123456789e-5,\"m\":-0,\"o\":0.5E+10,\"p\":-1e-0,"
              "\"q\":0,\"r\":10}",
              "#0 n=n:12345678901234567890.123456789e-5 m=n:-0 o=n:0.5E+10 p=n:-1e-0 q=n:0 "
              "r=n:10",
              "numbers keep every digit");
    json_rows("{\"s\":\"q\\\"b\\\\s\\/f\\bf\\fn\\nr\\rt\\t\\u00e9\\ud83d\\ude00\\u20AC\"}",
              "#0 s=s:q\"b\\s/f\\x08f\\x0Cn\\x0Ar\\x0Dt\\x09\xC3\xA9\xF0\x9F\x98\x80\xE2\x82\xAC"
              "~\"q\\\"b\\\\s\\/f\\bf\\fn\\nr\\rt\\t\\u00e9\\ud83d\\ude00\\u20AC\"",
              "every escape, \\u00e9, a surrogate pair; raw keeps them");
    json_rows("{\"k\\u00e9y\":1,\"\\\"\":2,\"\":3}", "#0 k\xC3\xA9y=n:1 \"=n:2 =n:3",
              "keys are unescaped; the empty key is a key");
    json_rows("{\"u\":\"h\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF\"}",
              "#0 u=s:h\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF~\"h\xC3\xA9 "
              "\xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF\"",
              "UTF-8 of every length");
    json_rows("{\"a\":{\"b\":\"\\u0000\"}}", "#0 a=o:{\"b\":\"\\u0000\"}",
              "\\u0000 inside a nested value stays escaped (json keeps it)");
    json_rows("{\"a\":{\"a\":1,\"a\":2},\"b\":2}", "#0 a=o:{\"a\":1,\"a\":2} b=n:2",
              "a nested object's own duplicate keys are PostgreSQL's business");
    json_rows("[{\"a\":1,\"b\":2},{\"b\":3,\"a\":4}]", "#0 a=n:1 b=n:2\n#1 b=n:3 a=n:4",
              "the same keys in every row are no duplicates");
    {
        /* 64 levels inside a value is the limit, not past it */
        char body[200];
        int k, n = 0;
        n += sprintf(body + n, "{\"a\":");
        for (k = 0; k < AR_BODY_MAX_DEPTH; k++)
            body[n++] = '[';
        for (k = 0; k < AR_BODY_MAX_DEPTH; k++)
            body[n++] = ']';
        body[n++] = '}';
        body[n] = '\0';
        r = read_cut(AR_BODY_JSON, body, (size_t)n, NULL, 0);
        ok(!r.error && r.rows == 1, "nesting of exactly %d levels reads", AR_BODY_MAX_DEPTH);
    }
    {
        /* many keys: the duplicate table grows */
        char *body = malloc(20 * 3000 + 10);
        int k, n = 0, at;
        body[n++] = '{';
        for (k = 0; k < 3000; k++)
            n += sprintf(body + n, "%s\"k%d\":%d", k ? "," : "", k, k);
        r = read_cut(AR_BODY_JSON, body, (size_t)n, NULL, 0);
        ok(r.error && strstr(r.error, "ended early"), "3000 keys, unfinished: ended early");
        at = n + 1;
        n += sprintf(body + n, ",\"k1234\":0}");
        r = read_cut(AR_BODY_JSON, body, (size_t)n, NULL, 0);
        is_str(r.error, apr_psprintf(pool, "key \"k1234\" appears twice in the object (at "
                                     "byte %d)", at),
               "3000 keys, then one of them again: a duplicate");
        body[n - 9] = 'x';
        r = read_cut(AR_BODY_JSON, body, (size_t)n, NULL, 0);
        ok(!r.error && r.rows == 1, "3001 distinct keys read");
        free(body);
    }
    {
        /* no table has 65536 columns: a row with more keys is refused */
        char *body = malloc(12 * 70000 + 10);
        int k, n = 0;
        body[n++] = '[';
        body[n++] = '{';
        for (k = 0; k < 65537; k++)
            n += sprintf(body + n, "%s\"%d\":0", k ? "," : "", k);
        n += sprintf(body + n, "}]");
        r = read_cut(AR_BODY_JSON, body, (size_t)n, NULL, 0);
        is_str(r.error, "element 0 has more than 65536 keys", "65537 keys: too many");
        free(body);
    }
}

static void test_json_errors(void)
{
    char body[300];
    int k, n;

    json_error("", "the body is empty", "empty body");
    json_error(" \r\n\t ", "the body is empty", "only whitespace");
    json_error("\xEF\xBB\xBF", "the body is empty", "only a byte order mark");
    json_error("\xEF\xBB{}", "invalid JSON at byte 2: a broken byte order mark", "broken BOM");
    json_error("{", "invalid JSON at byte 1: the body ended early", "{");
    json_error("[{\"a\":1}", "invalid JSON at byte 8: the body ended early", "no closing ]");
    json_error("{\"a\":\"x", "invalid JSON at byte 7: the body ended early", "inside a string");
    json_error("[1]", "element 0 of the array is not an object (at byte 1)", "[1]");
    json_error("[[1]]", "element 0 of the array is not an object (at byte 1)", "[[1]]");
    json_error("[{}, \"x\"]", "element 1 of the array is not an object (at byte 5)",
               "[{}, \"x\"]");
    json_error("\"x\"", "the body must be a JSON object or an array of objects (at byte 0)",
               "a string");
    json_error(" 12", "the body must be a JSON object or an array of objects (at byte 1)",
               "a number");
    json_error("{\"a\":1,\"a\":2}", "key \"a\" appears twice in the object (at byte 7)",
               "duplicate key");
    json_error("[{\"a\":1},{\"b\":1,\"\\u0062\":2}]",
               "key \"b\" appears twice in element 1 (at byte 16)",
               "duplicate key, once escaped, in element 1");
    json_error("{\"a\":01}", "invalid JSON at byte 6: a number cannot have a leading zero",
               "leading zero");
    json_error("{\"a\":1.}", "invalid JSON at byte 7: a number needs a digit after '.'",
               "1.");
    json_error("{\"a\":-}", "invalid JSON at byte 6: a number needs a digit after '-'", "-");
    json_error("{\"a\":1e}", "invalid JSON at byte 7: a number's exponent needs a digit",
               "1e");
    json_error("{\"a\":1e+}", "invalid JSON at byte 8: a number's exponent needs a digit",
               "1e+");
    json_error("{\"a\":+1}", "invalid JSON at byte 5: expected a value", "+1");
    json_error("{\"a\":.5}", "invalid JSON at byte 5: expected a value", ".5");
    json_error("{\"a\":NaN}", "invalid JSON at byte 5: expected a value", "NaN");
    json_error("{\"a\":1.5.2}", "invalid JSON at byte 8: expected ',' or '}' after a value",
               "1.5.2");
    json_error("{\"a\":tru}", "invalid JSON at byte 8: expected true, false or null", "tru");
    json_error("{\"a\":truex}", "invalid JSON at byte 9: expected ',' or '}' after a value",
               "truex");
    json_error("{\"a\":\"\\u0000\"}",
               "unsupported JSON at byte 6: \\u0000: PostgreSQL text cannot hold a NUL "
               "character", "\\u0000");
    json_error("{\"\\u0000\":1}",
               "unsupported JSON at byte 2: \\u0000: PostgreSQL text cannot hold a NUL "
               "character", "\\u0000 in a key");
    json_error("{\"a\":\"\\ud800\"}",
               "invalid JSON at byte 6: a high surrogate (\\uD800-\\uDBFF) not followed by a "
               "low one", "lone high surrogate");
    json_error("{\"a\":\"\\ud800\\u0041\"}",
               "invalid JSON at byte 6: a high surrogate (\\uD800-\\uDBFF) not followed by a "
               "low one", "high surrogate, then not a low one");
    json_error("{\"a\":\"\\udc00\"}",
               "invalid JSON at byte 6: a low surrogate (\\uDC00-\\uDFFF) without a high one "
               "before it", "lone low surrogate");
    json_error("{\"a\":[\"\\udc00\"]}",
               "invalid JSON at byte 7: a low surrogate (\\uDC00-\\uDFFF) without a high one "
               "before it", "lone low surrogate in a nested value");
    json_error("{\"a\":\"\\x\"}", "invalid JSON at byte 7: an unknown escape in a string",
               "\\x");
    json_error("{\"a\":\"\\u12G4\"}",
               "invalid JSON at byte 10: \\u must be followed by four hex digits", "\\u12G4");
    json_error("{\"a\":\"\xFF\"}", "invalid UTF-8 at byte 6: a byte that starts no character",
               "0xFF");
    json_error("{\"a\":\"\xC3(\"}", "invalid UTF-8 at byte 7: a character cut short",
               "cut short");
    json_error("{\"a\":\"\xC3\"}", "invalid UTF-8 at byte 7: a character cut short",
               "cut short by the quote");
    json_error("{\"a\":\"\xC0\x80\"}", "invalid UTF-8 at byte 6: a byte that starts no character",
               "overlong C0 80");
    json_error("{\"a\":\"\xE0\x80\x80\"}",
               "invalid UTF-8 at byte 7: an overlong form, a surrogate or a code point past "
               "U+10FFFF", "overlong E0 80 80");
    json_error("{\"a\":\"\xED\xA0\x80\"}",
               "invalid UTF-8 at byte 7: an overlong form, a surrogate or a code point past "
               "U+10FFFF", "a surrogate in UTF-8");
    json_error("{\"a\":\"\xF4\x90\x80\x80\"}",
               "invalid UTF-8 at byte 7: an overlong form, a surrogate or a code point past "
               "U+10FFFF", "past U+10FFFF");
    json_error("{\"\xC3\xA9\xFE\":1}", "invalid UTF-8 at byte 4: a byte that starts no character",
               "invalid UTF-8 in a key");
    json_error("{\"a\":\"x\ty\"}",
               "invalid JSON at byte 7: a control character in a string must be escaped",
               "a tab in a string");
    body_error_n(AR_BODY_JSON, "{\"a\":\"\0\"}", 9,
                 "invalid JSON at byte 6: a control character in a string must be escaped",
                 "a NUL byte in a string");
    json_error("{} x", "invalid JSON at byte 3: more after the body's value", "trailing garbage");
    json_error("{}{}", "invalid JSON at byte 2: more after the body's value", "two objects");
    json_error("[{\"a\":1} {\"a\":2}]",
               "invalid JSON at byte 9: expected ',' or ']' after an element", "missing comma");
    json_error("[{},]", "invalid JSON at byte 4: expected '{' after ','", "trailing comma");
    json_error("[,]", "invalid JSON at byte 1: expected '{' or ']'", "[,]");
    json_error("{\"a\" 1}", "invalid JSON at byte 5: expected ':' after a key", "no colon");
    json_error("{\"a\":1,}", "invalid JSON at byte 7: expected a key after ','",
               "trailing comma in an object");
    json_error("{a:1}", "invalid JSON at byte 1: expected a key or '}'", "unquoted key");
    json_error("{\"a\":[1,]}", "invalid JSON at byte 8: expected a value",
               "trailing comma in a nested array");
    json_error("{\"a\":{\"b\" 1}}", "invalid JSON at byte 10: expected ':' after a key",
               "nested: no colon");
    json_error("{\"a\":[1}", "invalid JSON at byte 7: expected ',' or ']'", "nested: ] for }");
    json_error("{\"a\":{\"b\":1]}", "invalid JSON at byte 11: expected ',' or '}'",
               "nested: } for ]");
    json_error("[{\"a\":1},{\"a\":tru}]",
               "invalid JSON at byte 17 (element 1): expected true, false or null",
               "errors inside an element name it");
    json_error("[{\"a\":1},{\"a\" 2}]",
               "invalid JSON at byte 14 (element 1): expected ':' after a key",
               "expected ':' in element 1");

    n = sprintf(body, "{\"a\":");
    for (k = 0; k < AR_BODY_MAX_DEPTH + 1; k++)
        body[n++] = '[';
    for (k = 0; k < AR_BODY_MAX_DEPTH + 1; k++)
        body[n++] = ']';
    body[n++] = '}';
    body[n] = '\0';
    json_error(body, "unsupported JSON at byte 69: values nest deeper than 64 levels",
               "depth 65");
    n = sprintf(body, "[{},{\"a\":");
    for (k = 0; k < AR_BODY_MAX_DEPTH + 1; k++)
        body[n++] = k % 2 ? '[' : '{';
    body[n] = '\0';
    json_error(body, "invalid JSON at byte 10 (element 1): expected a key or '}'",
               "depth: { needs a key first");
}

/* An error from on_row stops the parse and is returned again. */
static void test_callback_error(void)
{
    collector c;
    ar_body_parser *bp;
    ar_error *e, *e2, *e3;
    const char *body = "[{\"a\":1},{\"a\":2},{\"a\":3}]";

    memset(&c, 0, sizeof(c));
    c.format = AR_BODY_JSON;
    c.fail_at_row = 2;
    bp = ar_body_parser_create(pool, AR_BODY_JSON, collect_row, &c);
    e = ar_body_feed(bp, body, 17);
    ok(e && e == c.cb_err, "the callback's error is what ar_body_feed returns");
    ok(e && e->kind == AR_ERR_DB_CONSTRAINT, "and it is the callback's, kind and all");
    ok(c.calls == 2 && ar_body_rows(bp) == 2, "rows stop at the one that failed (%ld)",
       (long)c.calls);
    e2 = ar_body_feed(bp, body + 17, strlen(body) - 17);
    ok(e2 == e && c.calls == 2, "a later feed returns the same error and reads nothing");
    e3 = ar_body_finish(bp);
    ok(e3 == e, "ar_body_finish returns it too");
    free(c.dump);

    /* and after a parse error, the same error again */
    memset(&c, 0, sizeof(c));
    c.format = AR_BODY_JSON;
    bp = ar_body_parser_create(pool, AR_BODY_JSON, collect_row, &c);
    e = ar_body_feed(bp, "[{\"a\":1},x", 10);
    ok(e && e->kind == AR_ERR_BAD_BODY && c.calls == 1, "a parse error after a row");
    ok(ar_body_feed(bp, "{}]", 3) == e && ar_body_finish(bp) == e,
       "later feeds and finish return the same error");
    free(c.dump);

    /* is_single is known from the first byte that tells */
    memset(&c, 0, sizeof(c));
    c.format = AR_BODY_JSON;
    bp = ar_body_parser_create(pool, AR_BODY_JSON, collect_row, &c);
    ok(ar_body_feed(bp, "  {", 3) == NULL && ar_body_is_single(bp) == 1,
       "is_single after the '{'");
    ok(ar_body_finish(bp) != NULL, "a body that stops there is an error");
    ok(ar_body_finish(bp) == ar_body_finish(bp), "finish again: the same error");
    free(c.dump);
}

/* ----------------------------------------------------------------- CSV */

static void test_csv(void)
{
    reading r;

    csv_rows("a,b\n1,x\n2,y\n", "#0 a=s:1 b=s:x\n#1 a=s:2 b=s:y", "header and rows, LF");
    csv_rows("a,b\r\n1,x\r\n2,y\r\n", "#0 a=s:1 b=s:x\n#1 a=s:2 b=s:y", "CRLF");
    csv_rows("a,b\n1,x\n2,y", "#0 a=s:1 b=s:x\n#1 a=s:2 b=s:y", "a last line without LF");
    csv_rows("a,b\r\n1,x\r\n2,y", "#0 a=s:1 b=s:x\n#1 a=s:2 b=s:y",
             "a last line without CRLF");
    csv_rows("\"a\",\"b c\"\n\"x,y\",\"he said \"\"hi\"\"\"\n\"multi\nline\",\"cr\r\nlf\"\n",
             "#0 a=s:x,y b c=s:he said \"hi\"\n#1 a=s:multi\\x0Aline b c=s:cr\\x0D\\x0Alf",
             "quoted names and fields: commas, quotes, line ends");
    csv_rows("a,b,c,d,e\n,\"\",NULL,\"NULL\",null\n",
             "#0 a=null b=s: c=null d=s:NULL e=s:null",
             "empty is NULL, \"\" is empty, NULL is NULL, \"NULL\" is text");
    csv_rows("a,b\n1,\n", "#0 a=s:1 b=null", "a line ending in ',': a last NULL field");
    csv_rows("a,b\n1,", "#0 a=s:1 b=null", "the same without a line end");
    csv_rows("a\n\n1\n\n\r\n2\n\n", "#0 a=s:1\n#1 a=s:2", "empty lines are skipped");
    csv_rows("\n\r\na\n1\n", "#0 a=s:1", "empty lines before the header too");
    csv_rows("a\n\"\"\n", "#0 a=s:", "a line that is \"\" is a row");
    csv_rows("a,b\n", "", "a header alone: no rows");
    csv_rows("a,b", "", "a header alone without a line end");
    csv_rows("NULL,\"x y\"\n1,2\n", "#0 NULL=s:1 x y=s:2", "a header may say NULL");
    csv_rows("\xEF\xBB\xBF" "a\n\xC3\xA9\n", "#0 a=s:\xC3\xA9", "a byte order mark is skipped");
    csv_rows("\xEF\xBC\x81,b\n1,2\n", "#0 \xEF\xBC\x81=s:1 b=s:2",
             "a first name starting EF, not a BOM");
    csv_rows("\xEF\xBB\x80,b\n1,2\n", "#0 \xEF\xBB\x80=s:1 b=s:2",
             "a first name starting EF BB, not a BOM");
    csv_rows("a\n x \n", "#0 a=s: x ", "spaces are data");
    csv_rows("a\n\"\xE2\x82\xAC\"\n\xF0\x9F\x98\x80\n", "#0 a=s:\xE2\x82\xAC\n#1 a=s:\xF0\x9F\x98\x80",
             "UTF-8 quoted and not");

    csv_error("", "the body is empty", "empty CSV body");
    csv_error("\n\r\n", "the body is empty", "empty lines only");
    csv_error("a,b\n1\n", "invalid CSV at line 2: the row has 1 field, the header 2",
              "too few fields");
    csv_error("a,b\n1,2\n1,2,3\n",
              "invalid CSV at line 3: the row has more fields than the header's 2",
              "too many fields");
    csv_error("a,b\n\"x\ny\",1\n\"p\nq\nr\",2\n3\n",
              "invalid CSV at line 7: the row has 1 field, the header 2",
              "quoted line ends count as lines");
    csv_error("a,b\n1,2\n\n3\n", "invalid CSV at line 4: the row has 1 field, the header 2",
              "skipped lines count as lines");
    csv_error("a,a\n", "invalid CSV at line 1: the header names \"a\" twice",
              "duplicate header");
    csv_error("x,\"a\",\"a\"\n", "invalid CSV at line 1: the header names \"a\" twice",
              "duplicate header, quoted");
    csv_error("a,,b\n", "invalid CSV at line 1: column 2 of the header has no name",
              "empty header name");
    csv_error("a,\"\"\n", "invalid CSV at line 1: column 2 of the header has no name",
              "quoted empty header name");
    csv_error("a\n\"x\"y\n", "invalid CSV at line 2: text after a field's closing quote",
              "text after a closing quote");
    csv_error("a\nx\"y\n", "invalid CSV at line 2: a quote inside an unquoted field (quote the "
              "whole field and double the quote)", "a quote in an unquoted field");
    csv_error("a\n\"x\n\n", "invalid CSV at line 4: the body ended inside a quoted field",
              "an unclosed quote");
    csv_error("a\rb\n", "invalid CSV at line 1: a carriage return not followed by a line feed",
              "a lone CR");
    csv_error("a\n1\r", "invalid CSV at line 2: a carriage return not followed by a line feed",
              "a CR at the end");
    csv_error("a\n\xFF\n", "invalid UTF-8 at line 2: a byte that starts no character",
              "invalid UTF-8");
    csv_error("a\n\"\n\xC3(\"\n", "invalid UTF-8 at line 3: a character cut short",
              "invalid UTF-8 on a quoted field's second line");
    csv_error("a\n\xE2\x82", "invalid UTF-8 at line 2: the body ended inside a character",
              "a character cut by the end");
    body_error_n(AR_BODY_CSV, "a\nx\0y\n", 6, "invalid CSV at line 2: a NUL byte", "a NUL byte");

    /* the header's names are the fields' names, the same for every row */
    r = read_cut(AR_BODY_CSV, "id,name\n1,a\n2,b\n", 16, NULL, 0);
    ok(!r.error && r.rows == 2 && r.single == 0, "CSV: 2 rows, never single");
}

/* ---------------------------------------------------------------- memory */

typedef struct {
    apr_int64_t rows;
    uintptr_t lo, hi;       /* the addresses field texts were at */
    int bad;
} span;

static ar_error *span_row(void *ctx, apr_int64_t row, const ar_body_field *f, int n)
{
    span *sp = ctx;
    int k;

    if (row != sp->rows++ || n != 3)
        sp->bad++;
    for (k = 0; k < n; k++) {
        uintptr_t a = (uintptr_t)f[k].text;
        if (!f[k].text)
            continue;
        if (!sp->lo || a < sp->lo)
            sp->lo = a;
        if (a + f[k].len > sp->hi)
            sp->hi = a + f[k].len;
    }
    if (f[2].kind != AR_VAL_STRING || f[2].len < 20)
        sp->bad++;
    return NULL;
}

static long max_rss_kb(void)
{
    struct rusage u;

    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

/* 200,000 rows, generated as they are fed: the rows' memory is reused, so
 * the fields stay within one small region and the peak RSS barely moves. */
static void test_memory(ar_body_format fmt)
{
    const char *what = fmt == AR_BODY_JSON ? "JSON" : "CSV";
    enum { ROWS = 200000 };
    span sp;
    ar_body_parser *bp;
    ar_error *e = NULL;
    char chunk[70000];
    size_t len = 0;
    long before, after;
    int k;

    memset(&sp, 0, sizeof(sp));
    before = max_rss_kb();
    bp = ar_body_parser_create(pool, fmt, span_row, &sp);
    if (fmt == AR_BODY_JSON)
        len += (size_t)sprintf(chunk, "[");
    else
        len += (size_t)sprintf(chunk, "id,price,name\n");
    for (k = 0; k < ROWS && !e; k++) {
        if (fmt == AR_BODY_JSON)
            len += (size_t)sprintf(chunk + len, "%s{\"id\":%d,\"price\":%d.%02d,\"name\":"
                                   "\"row number %d with some text\"}", k ? "," : "", k,
                                   k % 1000, k % 100, k);
        else
            len += (size_t)sprintf(chunk + len, "%d,%d.%02d,row number %d with some text\n",
                                   k, k % 1000, k % 100, k);
        if (len > 60000 || k == ROWS - 1) {
            /* cut at an odd place, not at a row's end */
            size_t cut = len - 7;
            e = ar_body_feed(bp, chunk, cut);
            memmove(chunk, chunk + cut, len - cut);
            len -= cut;
        }
    }
    if (fmt == AR_BODY_JSON)
        chunk[len++] = ']';
    if (!e)
        e = ar_body_feed(bp, chunk, len);
    if (!e)
        e = ar_body_finish(bp);
    after = max_rss_kb();
    ok(!e && sp.rows == ROWS && !sp.bad, "%s: %d generated rows read (%ld)", what, ROWS,
       (long)sp.rows);
    ok(sp.hi - sp.lo < 64 * 1024, "%s: every row's fields within %lu bytes: the buffer is "
       "reused", what, (unsigned long)(sp.hi - sp.lo));
    ok(after - before < 4096, "%s: peak RSS grew %ld KiB over a ~12 MB body", what,
       after - before);
}

/* A row past AR_BODY_MAX_ROW_BYTES is refused (and memory stays bounded). */
static void test_too_big(void)
{
    collector c;
    ar_body_parser *bp;
    ar_error *e = NULL;
    size_t piece = 1 << 20, fed = 0;
    char *x = malloc(piece);

    memset(x, 'x', piece);
    memset(&c, 0, sizeof(c));
    c.format = AR_BODY_JSON;
    bp = ar_body_parser_create(pool, AR_BODY_JSON, collect_row, &c);
    e = ar_body_feed(bp, "[{},{\"a\":\"", strlen("[{},{\"a\":\""));
    while (!e && fed <= (size_t)AR_BODY_MAX_ROW_BYTES) {
        e = ar_body_feed(bp, x, piece);
        fed += piece;
    }
    if (!e)
        e = ar_body_feed(bp, "\"}]", 3);
    if (!e)
        e = ar_body_finish(bp);
    ok(e && e->kind == AR_ERR_BAD_BODY, "a 64 MiB string: AR_ERR_BAD_BODY");
    is_str(e ? e->message : NULL, "element 1 is larger than 67108864 bytes",
           "a 64 MiB string: the message");
    free(c.dump);

    /* a large row below the limit reads, even split */
    {
        size_t big = 3 << 20;
        char *body = malloc(big + 20);
        size_t n = (size_t)sprintf(body, "{\"a\":\"");
        size_t cuts[2];
        reading r;

        memset(body + n, 'y', big);
        n += big;
        memcpy(body + n, "\"}", 2);
        n += 2;
        cuts[0] = 1000;
        cuts[1] = n - 1000;
        r = read_cut(AR_BODY_JSON, body, n, cuts, 2);
        ok(!r.error && r.rows == 1 && strlen(r.dump) > big * 2, "a 3 MiB string reads");
        free(body);
    }
    free(x);
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);

    test_memory(AR_BODY_JSON);
    test_memory(AR_BODY_CSV);
    test_json_shapes();
    test_json_errors();
    test_callback_error();
    test_csv();
    test_too_big();
    ok(invariant_failures == 0, "every field kept the header's promises (%d failures)",
       invariant_failures);

    apr_pool_destroy(pool);
    apr_terminate();
    return tap_done();
}
