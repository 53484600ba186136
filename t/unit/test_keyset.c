/*
 * test_keyset.c: keyset pagination (issue 4), end to end through the pure
 * core, no server.
 *
 *   ar_cursor_encode / ar_cursor_decode   round trips; tampered, truncated,
 *                                         malformed, foreign tokens   (cursor.c)
 *   ar_cursor_shape                       what tells two queries apart (cursor.c)
 *   ar_plan_read / ar_plan_apply_cursor   plan->keyset, after, skipped (plan.c)
 *   ar_sql_render_read / _count           the keyset predicate's exact text and
 *                                         parameters; counts without it (sql.c)
 *
 * and the predicate's meaning, by brute force: for every order of one to
 * three terms (ascending/descending, NULLS default/FIRST/LAST, NOT NULL
 * column, nullable column, JSON path), the rendered WHERE and ORDER BY are
 * parsed back and evaluated, in SQL's three-valued logic, over every row of
 * a small domain (1, 2, 3 and NULL where a term may be NULL), against every
 * row as the cursor: a row must pass the WHERE exactly when it sorts after
 * the cursor's row under PostgreSQL's NULL ordering.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_base64.h>
#include <apr_general.h>
#include <apr_hash.h>
#include <apr_lib.h>
#include <apr_sha1.h>
#include <apr_strings.h>

#include "autorest.h"
#include "tap.h"
#include "ar_checks.h"
#include "schema_kit.h"

static apr_pool_t *pool;

static const unsigned char KEY[] = "unit-test key: 0123456789abcdef";
#define KEYLEN (sizeof(KEY) - 1)
static const unsigned char KEY2[] = "unit-test key: 0123456789abcdeF";
#define SHAPE "public\x1fitems\x1fid\x1f" "00"

/* --------------------------------------------------------------- helpers */

/* Printable: non-ASCII and control bytes as \xNN, for diagnostics. */
static const char *show(const char *s)
{
    char *out, *o;

    if (!s)
        return "(NULL)";
    out = o = apr_palloc(pool, strlen(s) * 4 + 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c >= 0x7f)
            o += sprintf(o, "\\x%02x", c);
        else
            *o++ = (char)c;
    }
    *o = '\0';
    return out;
}

static const char *values_str(const char *const *v, int n)
{
    const char *s = "";
    int i;

    for (i = 0; i < n; i++)
        s = apr_pstrcat(pool, s, i ? "|" : "", v[i] ? show(v[i]) : "(NULL)", NULL);
    return s;
}

static int same_values(const char *const *a, const char *const *b, int n)
{
    int i;

    for (i = 0; i < n; i++)
        if ((a[i] == NULL) != (b[i] == NULL) || (a[i] && strcmp(a[i], b[i]) != 0))
            return 0;
    return 1;
}

static ar_error *dec(const char *shape, const char *token, int n, apr_int64_t *pos,
                     const char ***values)
{
    return ar_cursor_decode(pool, KEY, KEYLEN, shape, token, n, pos, values);
}

static char *enc(const char *shape, apr_int64_t pos, const char *const *values, int n)
{
    return ar_cursor_encode(pool, KEY, KEYLEN, shape, pos, values, n);
}

/* For the loops that try many tokens: build them in scratch; accepts()
 * decodes one there, then clears scratch (the token included). */
static apr_pool_t *scratch;

static int accepts(const char *shape, const char *token, int n)
{
    apr_int64_t pos;
    const char **v;
    int yes = ar_cursor_decode(scratch, KEY, KEYLEN, shape, token, n, &pos, &v) == NULL;

    apr_pool_clear(scratch);
    return yes;
}

/* base64url without padding, as the cursor's tokens are written. */
static char *b64url_p(apr_pool_t *p, const unsigned char *data, apr_size_t len)
{
    char *out = apr_palloc(p, (apr_size_t)apr_base64_encode_len((int)len));
    char *c;

    apr_base64_encode_binary(out, data, (int)len);
    for (c = out; *c; c++) {
        if (*c == '+')
            *c = '-';
        else if (*c == '/')
            *c = '_';
        else if (*c == '=') {
            *c = '\0';
            break;
        }
    }
    return out;
}

static char *b64url(const unsigned char *data, apr_size_t len)
{
    return b64url_p(pool, data, len);
}

static unsigned char *unb64url(const char *s, apr_size_t len, apr_size_t *out_len)
{
    char *std = apr_palloc(pool, len + 4);
    unsigned char *out;
    apr_size_t i;

    for (i = 0; i < len; i++)
        std[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
    while (i % 4)
        std[i++] = '=';
    std[i] = '\0';
    out = apr_palloc(pool, (apr_size_t)apr_base64_decode_len(std) + 1);
    *out_len = (apr_size_t)apr_base64_decode_binary(out, std);
    return out;
}

/* HMAC-SHA1(key, shape NUL payload), as the token's MAC is documented
 * (RFC 2104), written here again so that tests can sign payloads the
 * encoder would never write, and reach the checks behind the MAC. */
static void hmac(const unsigned char *key, apr_size_t key_len, const char *shape,
                 const unsigned char *payload, apr_size_t payload_len,
                 unsigned char out[APR_SHA1_DIGESTSIZE])
{
    unsigned char k[64], pad[64], inner[APR_SHA1_DIGESTSIZE];
    apr_sha1_ctx_t ctx;
    int i;

    memset(k, 0, sizeof(k));
    if (key_len > 64) {
        apr_sha1_init(&ctx);
        apr_sha1_update_binary(&ctx, key, (unsigned int)key_len);
        apr_sha1_final(k, &ctx);
    }
    else
        memcpy(k, key, key_len);
    for (i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x36;
    apr_sha1_init(&ctx);
    apr_sha1_update_binary(&ctx, pad, 64);
    apr_sha1_update_binary(&ctx, (const unsigned char *)shape, (unsigned int)strlen(shape));
    apr_sha1_update_binary(&ctx, (const unsigned char *)"", 1);
    apr_sha1_update_binary(&ctx, payload, (unsigned int)payload_len);
    apr_sha1_final(inner, &ctx);
    for (i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x5c;
    apr_sha1_init(&ctx);
    apr_sha1_update_binary(&ctx, pad, 64);
    apr_sha1_update_binary(&ctx, inner, APR_SHA1_DIGESTSIZE);
    apr_sha1_final(out, &ctx);
}

/* A token for exactly these payload bytes, signed with KEY. */
static char *sign(const char *shape, const char *payload, apr_size_t len)
{
    unsigned char mac[APR_SHA1_DIGESTSIZE];

    hmac(KEY, KEYLEN, shape, (const unsigned char *)payload, len, mac);
    return apr_pstrcat(pool, b64url((const unsigned char *)payload, len), ".",
                       b64url(mac, 16), NULL);
}

static int token_chars_ok(const char *t)
{
    int dots = 0;

    for (; *t; t++) {
        if (*t == '.')
            dots++;
        else if (!apr_isalnum(*t) && *t != '-' && *t != '_')
            return 0;
    }
    return dots == 1;
}

/* ------------------------------------------------------------ round trip */

#define LONG_LEN 3000

static struct {
    apr_int64_t pos;
    int n;
    const char *v[4];
    const char *what;
} cases[] = {
    {0, 1, {"7"}, "one value, position 0"},
    {1, 1, {"-12"}, "negative number as text"},
    {42, 3, {"a", NULL, "c"}, "a NULL in the middle"},
    {AR_MAX_COUNT, 2, {NULL, NULL}, "only NULLs, the largest position"},
    {5, 4, {"", "it's \"quoted\" \\ back\\slash", "caf\xc3\xa9 \xe2\x98\x83 \xf0\x9f\x98\x80",
            "\n\t\x01 ;-- /*"}, "empty string, quotes, unicode, control bytes"},
    {7, 2, {"null", "[1,\"x\"]"}, "values that look like JSON stay strings"},
    {9, 4, {"\"", "\\", "'", "."}, "one-character values that need escaping"},
    {11, 1, {NULL /* LONG_LEN characters, set in main */}, "a long value"},
    {123456789, 3, {"2024-01-02 03:04:05.678+01", "{\"a\": [1, 2]}", "1e308"},
     "timestamps, JSON text and numbers as PostgreSQL prints them"},
};

static void test_round_trip(void)
{
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        apr_int64_t pos = -1;
        const char **v = NULL;
        char *t = enc(SHAPE, cases[i].pos, cases[i].v, cases[i].n);
        ar_error *e;

        ok(t && token_chars_ok(t), "round trip, %s: a token of base64url and one dot",
           cases[i].what);
        if (!t) {
            ok(0, "round trip, %s: decodes", cases[i].what);
            ok(0, "round trip, %s: same values", cases[i].what);
            continue;
        }
        e = dec(SHAPE, t, cases[i].n, &pos, &v);
        no_err(e, "round trip, %s: decodes", cases[i].what);
        ok(!e && pos == cases[i].pos && same_values(v, cases[i].v, cases[i].n),
           "round trip, %s: same position and values", cases[i].what);
        if (!e && !(pos == cases[i].pos && same_values(v, cases[i].v, cases[i].n)))
            printf("#   got %" APR_INT64_T_FMT " %s\n", pos, values_str(v, cases[i].n));
        is_str(enc(SHAPE, cases[i].pos, cases[i].v, cases[i].n), t,
               "round trip, %s: encoding is deterministic", cases[i].what);
    }

    /* Positions the decoder refuses even under a good MAC. */
    {
        const char *v[1] = {"x"};
        apr_int64_t pos;
        const char **out;
        is_err(dec(SHAPE, enc(SHAPE, -1, v, 1), 1, &pos, &out), AR_ERR_BAD_CURSOR,
               "a negative position is refused");
        is_err(dec(SHAPE, enc(SHAPE, AR_MAX_COUNT + 1, v, 1), 1, &pos, &out), AR_ERR_BAD_CURSOR,
               "a position past AR_MAX_COUNT is refused");
    }

    /* Keys of every length work, the empty one and those past SHA-1's block. */
    {
        static const unsigned char long_key[100] = {1, 2, 3};
        const char *v[2] = {"a", NULL};
        apr_int64_t pos;
        const char **out;
        char *t = ar_cursor_encode(pool, long_key, sizeof(long_key), SHAPE, 3, v, 2);
        no_err(ar_cursor_decode(pool, long_key, sizeof(long_key), SHAPE, t, 2, &pos, &out),
               "a 100-byte key round trips");
        is_err(ar_cursor_decode(pool, long_key, sizeof(long_key) - 1, SHAPE, t, 2, &pos, &out),
               AR_ERR_BAD_CURSOR, "the same key one byte shorter does not verify it");
        t = ar_cursor_encode(pool, (const unsigned char *)"", 0, SHAPE, 3, v, 2);
        no_err(ar_cursor_decode(pool, (const unsigned char *)"", 0, SHAPE, t, 2, &pos, &out),
               "an empty key round trips");
        is_err(dec(SHAPE, t, 2, &pos, &out), AR_ERR_BAD_CURSOR,
               "a token of the empty key does not verify under another");
    }

    /* Our own HMAC (used below to sign odd payloads) is the cursor's. */
    {
        const char *v[2] = {"a", NULL};
        is_str(sign(SHAPE, "[3,\"a\",null]", 12), enc(SHAPE, 3, v, 2),
               "the test's HMAC-SHA1 signs as ar_cursor_encode does");
    }

    /* PostgreSQL prints text in the server's encoding: under SQL_ASCII that
     * is any bytes. A cursor must then carry them, or not be made at all
     * (the server falls back to an offset link when encode gives NULL). */
    {
        const char *v[2] = {"caf\xe9", "x"};
        apr_int64_t pos;
        const char **out = NULL;
        char *t = enc(SHAPE, 4, v, 2);
        ar_error *e = t ? dec(SHAPE, t, 2, &pos, &out) : NULL;
        ok(!t || (!e && pos == 4 && same_values(out, v, 2)),
           "a value that is not UTF-8: no token, or one that decodes to it");
        if (t && e)
            printf("#   encode made %s, decode says: %s (%s)\n", t, e->message,
                   e->details ? e->details : "");
    }
}

/* ------------------------------------------------------------- tampering */

static void test_tampering(void)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t i;
    int raw_payload_bad = 0, raw_mac_bad = 0, raw_tries = 0;
    int text_payload_bad = 0, text_mac_bad = 0, text_tries = 0;
    int append_payload_bad = 0, append_mac_bad = 0, prefix_bad = 0, prefixes = 0;
    const char *example_payload = NULL, *example_mac = NULL, *example_append = NULL;

    for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        const char *t = enc(SHAPE, cases[i].pos, cases[i].v, cases[i].n);
        const char *dot = strchr(t, '.');
        apr_size_t plen = (apr_size_t)(dot - t), mlen = strlen(dot + 1), j, k;
        apr_size_t raw_plen, raw_mlen;
        unsigned char *raw_p = unb64url(t, plen, &raw_plen);
        unsigned char *raw_m = unb64url(dot + 1, mlen, &raw_mlen);
        int n = cases[i].n;
        apr_int64_t pos;
        const char **v;

        /* Flip bits of the bytes the token carries: payload and MAC. */
        for (j = 0; j < raw_plen; j++) {
            static const unsigned char masks[] = {0x01, 0x20, 0x80, 0xff};
            for (k = 0; k < sizeof(masks); k++) {
                unsigned char *c = apr_pmemdup(scratch, raw_p, raw_plen);
                c[j] ^= masks[k];
                raw_tries++;
                if (accepts(SHAPE, apr_pstrcat(scratch, b64url_p(scratch, c, raw_plen), dot, NULL),
                            n))
                    raw_payload_bad++;
            }
        }
        for (j = 0; j < raw_mlen; j++) {
            static const unsigned char masks[] = {0x01, 0x20, 0x80, 0xff};
            for (k = 0; k < sizeof(masks); k++) {
                unsigned char *c = apr_pmemdup(scratch, raw_m, raw_mlen);
                c[j] ^= masks[k];
                raw_tries++;
                if (accepts(SHAPE, apr_pstrcat(scratch, apr_pstrmemdup(scratch, t, plen), ".",
                                               b64url_p(scratch, c, raw_mlen), NULL), n))
                    raw_mac_bad++;
            }
        }
        /* Any other character anywhere in the token's text (for the long
         * token: its first and last 12 payload characters, and the MAC). */
        for (j = 0; j < strlen(t); j++) {
            if (t[j] == '.' || (plen > 200 && j >= 12 && j + 12 < plen))
                continue;
            for (k = 0; alphabet[k]; k++) {
                char *c;
                if (alphabet[k] == t[j])
                    continue;
                c = apr_pstrdup(scratch, t);
                c[j] = alphabet[k];
                text_tries++;
                if (accepts(SHAPE, c, n)) {
                    const char **example = j < plen ? &example_payload : &example_mac;
                    if (j < plen)
                        text_payload_bad++;
                    else
                        text_mac_bad++;
                    if (!*example)
                        *example = apr_psprintf(pool, "%s for %s", c, t);
                }
            }
        }
        /* One more character after the payload or the MAC. */
        for (k = 0; alphabet[k]; k++) {
            char *c = apr_psprintf(scratch, "%.*s%c%s", (int)plen, t, alphabet[k], dot);
            if (!example_append && !dec(SHAPE, c, n, &pos, &v))
                example_append = apr_psprintf(pool, "%s for %s", c, t);
            if (accepts(SHAPE, c, n))
                append_payload_bad++;
            if (accepts(SHAPE, apr_psprintf(scratch, "%s%c", t, alphabet[k]), n))
                append_mac_bad++;
        }
        /* Every proper prefix, and every suffix without the first bytes. */
        for (j = 0; j < strlen(t); j++) {
            if (plen > 200 && j >= 12 && j + 40 < strlen(t))
                continue;
            prefixes += 2;
            if (accepts(SHAPE, apr_pstrmemdup(scratch, t, j), n))
                prefix_bad++;
            if (accepts(SHAPE, t + j + 1, n))
                prefix_bad++;
        }
    }
    ok(raw_payload_bad == 0, "a flipped bit or byte of the payload never verifies (%d accepted)",
       raw_payload_bad);
    ok(raw_mac_bad == 0, "a flipped bit or byte of the MAC never verifies (%d accepted of %d)",
       raw_mac_bad, raw_tries);
    /* base64 of n bytes leaves the low bits of its last character unused
     * (4 when n % 3 == 1, 2 when n % 3 == 2); a decoder that ignores them
     * takes 2^4 or 2^2 spellings of one token, and one more character
     * after a multiple of 4 is ignored too */
    ok(text_payload_bad == 0,
       "no other character anywhere in the payload's text is accepted (%d accepted)",
       text_payload_bad);
    if (example_payload)
        printf("#   e.g. accepted %s\n", example_payload);
    ok(text_mac_bad == 0,
       "no other character anywhere in the MAC's text is accepted (%d accepted of %d tries)",
       text_mac_bad, text_tries);
    if (example_mac)
        printf("#   e.g. accepted %s\n", example_mac);
    ok(append_payload_bad == 0,
       "a character appended to the payload's text is refused (%d accepted)",
       append_payload_bad);
    if (example_append)
        printf("#   e.g. accepted %s\n", example_append);
    ok(append_mac_bad == 0, "a character appended to the MAC's text is refused (%d accepted)",
       append_mac_bad);
    ok(prefix_bad == 0, "truncated tokens (%d prefixes and suffixes) are refused (%d accepted)",
       prefixes, prefix_bad);

    /* Malformed shapes of token. */
    {
        const char *v3[3] = {"a", NULL, "c"};
        const char *t = enc(SHAPE, 42, v3, 3);
        const char *dot = strchr(t, '.');
        int plen = (int)(dot - t);
        static const char *const bad_chars[] = {"+", "/", "=", " ", "%", "~", "*", "\xff", "\n",
                                                ".", "==", "%3D"};
        const char *bad[] = {
            "", ".", "..", "x", "x.", ".x", "abc", "abc.def",
            apr_psprintf(pool, "%.*s%s", plen, t, dot + 1),      /* the dot removed */
            apr_psprintf(pool, "%.*s", plen, t),                 /* payload only */
            apr_psprintf(pool, "%.*s.", plen, t),                /* empty MAC */
            apr_psprintf(pool, "%s", dot),                       /* MAC only */
            apr_psprintf(pool, "%s.", t),                        /* a second dot */
            apr_psprintf(pool, "%s.%s", t, dot + 1),             /* a third part */
            apr_psprintf(pool, "%.*s.%.*s", plen, t, plen, t),   /* payload twice */
            apr_psprintf(pool, "%s==", t),                       /* padding */
            apr_psprintf(pool, "%.*s==%s", plen, t, dot),        /* padding on the payload */
        };
        size_t m, j, k;
        int accepted = 0, tries = 0;
        apr_int64_t pos;
        const char **v;

        for (m = 0; m < sizeof(bad) / sizeof(*bad); m++) {
            ar_error *e = dec(SHAPE, bad[m], 3, &pos, &v);
            is_err(e, AR_ERR_BAD_CURSOR, "malformed token '%s' -> BAD_CURSOR", show(bad[m]));
        }
        /* characters outside base64url, anywhere */
        for (j = 0; j < sizeof(bad_chars) / sizeof(*bad_chars); j++)
            for (k = 0; k <= strlen(t); k++) {
                const char *c;
                if (strlen(t) > 200 && k >= 12 && k + 12 < strlen(t))
                    continue;
                c = apr_psprintf(scratch, "%.*s%s%s", (int)k, t, bad_chars[j], t + k);
                tries++;
                if (accepts(SHAPE, c, 3))
                    accepted++;
            }
        ok(accepted == 0, "a character outside base64url inserted anywhere is refused "
                          "(%d tries, %d accepted)", tries, accepted);
        /* standard base64 instead of base64url: refused when it differs */
        {
            char *std = apr_pstrdup(pool, t), *c;
            int differs = 0;
            for (c = std; *c; c++) {
                if (*c == '-' || *c == '_') {
                    *c = *c == '-' ? '+' : '/';
                    differs = 1;
                }
            }
            if (differs)
                is_err(dec(SHAPE, std, 3, &pos, &v), AR_ERR_BAD_CURSOR,
                       "standard base64 ('+' '/') is refused");
        }

        /* the error itself */
        {
            ar_error *e = dec(SHAPE, "abc.def", 3, &pos, &v);
            ok(e && ar_error_status(e) == 400 && strcmp(e->code, "AR112") == 0,
               "a bad cursor is a 400 AR112");
        }

        /* wrong value count, another key, another shape */
        is_err(dec(SHAPE, t, 2, &pos, &v), AR_ERR_BAD_CURSOR, "one value too few -> BAD_CURSOR");
        is_err(dec(SHAPE, t, 4, &pos, &v), AR_ERR_BAD_CURSOR, "one value too many -> BAD_CURSOR");
        is_err(dec(SHAPE, t, 0, &pos, &v), AR_ERR_BAD_CURSOR, "no values wanted -> BAD_CURSOR");
        no_err(dec(SHAPE, t, 3, &pos, &v), "the right count decodes");
        is_err(ar_cursor_decode(pool, KEY2, KEYLEN, SHAPE, t, 3, &pos, &v), AR_ERR_BAD_CURSOR,
               "another key (one byte differs) -> BAD_CURSOR");
        is_err(ar_cursor_decode(pool, KEY, KEYLEN - 1, SHAPE, t, 3, &pos, &v), AR_ERR_BAD_CURSOR,
               "a prefix of the key -> BAD_CURSOR");
        is_err(dec(SHAPE "x", t, 3, &pos, &v), AR_ERR_BAD_CURSOR,
               "another shape (one byte more) -> BAD_CURSOR");
        is_err(dec("public\x1fitems\x1fid\x1f" "10", t, 3, &pos, &v), AR_ERR_BAD_CURSOR,
               "another shape (the direction) -> BAD_CURSOR");
        is_err(dec("", t, 3, &pos, &v), AR_ERR_BAD_CURSOR, "the empty shape -> BAD_CURSOR");
    }

    /* Behind a good MAC: payloads the encoder never writes are still read
     * with care (the secret may leak; a bug may sign garbage). */
    {
        static const struct {
            const char *payload;
            int n;
        } signed_bad[] = {
            {"", 1}, {"[]", 0}, {"[]", 1}, {"{}", 1}, {"\"x\"", 1}, {"1", 0}, {"null", 0},
            {"[\"0\",\"a\"]", 1}, {"[1.5,\"a\"]", 1}, {"[1e3,\"a\"]", 1}, {"[-1,\"a\"]", 1},
            {"[1000000000000000001,\"a\"]", 1}, {"[99999999999999999999,\"a\"]", 1},
            {"[null,\"a\"]", 1}, {"[true,\"a\"]", 1}, {"[1,2]", 1}, {"[1,true]", 1},
            {"[1,[\"a\"]]", 1}, {"[1,{}]", 1}, {"[1,\"a\"]x", 1}, {"[1,\"a\"", 1},
            {"[1,\"a\\u0000b\"]", 1}, {"[1,\"a\",\"b\"]", 1}, {"[1]", 1}, {"[1,\"a\"]", 2},
            {"[1,\"\xff\"]", 1}, {"[1,\"a\"] [2,\"b\"]", 1},
        };
        size_t m;
        apr_int64_t pos;
        const char **v;

        for (m = 0; m < sizeof(signed_bad) / sizeof(*signed_bad); m++) {
            const char *p = signed_bad[m].payload;
            is_err(dec(SHAPE, sign(SHAPE, p, strlen(p)), signed_bad[m].n, &pos, &v),
                   AR_ERR_BAD_CURSOR, "signed but malformed: %s (n=%d) -> BAD_CURSOR", show(p),
                   signed_bad[m].n);
        }
        /* a NUL byte inside the signed payload */
        is_err(dec(SHAPE, sign(SHAPE, "[1,\"a\"]\0[2]", 11), 1, &pos, &v), AR_ERR_BAD_CURSOR,
               "signed payload with a NUL byte after the JSON -> BAD_CURSOR");
        /* well formed, only not as the encoder writes it: the MAC is all that
         * stands between, and it covers these bytes; they decode */
        no_err(dec(SHAPE, sign(SHAPE, " [ 1 , \"a\" , null ] ", strlen(" [ 1 , \"a\" , null ] ")),
                   2, &pos, &v),
               "signed, spaced JSON decodes");
        ok(pos == 1 && v[0] && strcmp(v[0], "a") == 0 && v[1] == NULL, "  to 1, a, NULL");
        no_err(dec(SHAPE, sign(SHAPE, "[0,\"\\u00e9\\ud83d\\ude00\"]",
                               strlen("[0,\"\\u00e9\\ud83d\\ude00\"]")), 1, &pos, &v),
               "signed, escaped unicode decodes");
        is_str(v ? v[0] : NULL, "\xc3\xa9\xf0\x9f\x98\x80", "  to its UTF-8");
    }
}

/* ----------------------------------------------------------------- schema */

static ar_schema *schema;
static ar_exposure expo;

static ar_column *addcol(ar_relation *r, const char *name, const char *type, ar_encoding enc,
                         int nullable, int sortable)
{
    return kit_column(r, name, type, enc, nullable, sortable);
}

static ar_relation *mkrel(const char *schema_name, const char *name)
{
    return kit_relation(pool, schema, schema_name, name);
}

static ar_key *key1(const char *name, int col)
{
    return kit_key(pool, name, col, -1);
}

static void items_columns(ar_relation *r)
{
    addcol(r, "id", "integer", AR_ENC_NUMBER, 0, 1);       /* 0, pk */
    addcol(r, "name", "text", AR_ENC_STRING, 0, 1);        /* 1 */
    addcol(r, "score", "integer", AR_ENC_NUMBER, 1, 1);    /* 2 */
    addcol(r, "info", "jsonb", AR_ENC_JSON, 1, 1);         /* 3 */
    addcol(r, "rank", "integer", AR_ENC_NUMBER, 0, 1);     /* 4 */
    addcol(r, "secret", "text", AR_ENC_STRING, 1, 1);      /* 5, hidden */
    r->primary_key = key1("items_pkey", 0);
}

static void build_schema(void)
{
    ar_relation *r;
    apr_array_header_t *schemas = apr_array_make(pool, 2, sizeof(const char *));

    schema = ar_schema_create(pool);
    items_columns(mkrel("public", "items"));
    items_columns(mkrel("other", "items"));

    r = mkrel("public", "by_code");
    addcol(r, "code", "text", AR_ENC_STRING, 0, 1);
    addcol(r, "label", "text", AR_ENC_STRING, 1, 1);
    APR_ARRAY_PUSH(r->unique_keys, ar_key) = *key1("by_code_code_key", 0);

    r = mkrel("public", "nokey");
    addcol(r, "a", "integer", AR_ENC_NUMBER, 1, 1);
    addcol(r, "b", "text", AR_ENC_STRING, 1, 1);

    r = mkrel("public", "hidden_pk");
    addcol(r, "id", "integer", AR_ENC_NUMBER, 0, 1);
    addcol(r, "v", "text", AR_ENC_STRING, 1, 1);
    r->primary_key = key1("hidden_pk_pkey", 0);

    APR_ARRAY_PUSH(schemas, const char *) = "public";
    APR_ARRAY_PUSH(schemas, const char *) = "other";
    expo.schemas = schemas;
    expo.excluded = apr_hash_make(pool);
    expo.hidden = apr_hash_make(pool);
    apr_hash_set(expo.hidden, "public.items.secret", APR_HASH_KEY_STRING, "");
    apr_hash_set(expo.hidden, "other.items.secret", APR_HASH_KEY_STRING, "");
    apr_hash_set(expo.hidden, "public.hidden_pk.id", APR_HASH_KEY_STRING, "");
}

static ar_error *plan_h(const char *path, const char *args, const char *accept,
                        ar_read_plan *plan)
{
    ar_read_request req;
    ar_request_headers h = {NULL, NULL, NULL, accept, NULL, NULL, AR_WRITE_NONE, 0, 0};
    ar_error *e = ar_query_parse(pool, AR_DIALECT_POSTGREST, path, args, &h, &req);

    if (e)
        return e;
    return ar_plan_read(pool, schema, &expo, &req, 0, plan);
}

static ar_error *plan_for(const char *path, const char *args, ar_read_plan *plan)
{
    return plan_h(path, args, NULL, plan);
}

/* The shape of a planned request, or a marker that it did not plan. */
static const char *shape_of(const char *path, const char *args)
{
    ar_read_plan plan;
    ar_error *e = plan_for(path, args, &plan);

    if (e)
        return apr_psprintf(pool, "(no plan for %s?%s: %s)", path, show(args), e->message);
    return ar_cursor_shape(pool, &plan);
}

/* ----------------------------------------------------------------- shapes */

static void test_shape(void)
{
    const char *base = shape_of("/items", "order=score&limit=2");
    static const struct {
        const char *path, *args, *what;
    } differ[] = {
        {"/other.items", "order=score&limit=2", "another relation, same columns"},
        {"/items", "order=score.desc&limit=2", "the term's direction"},
        {"/items", "order=score.nullsfirst&limit=2", "NULLS FIRST"},
        {"/items", "order=score.nullslast&limit=2", "NULLS LAST"},
        {"/items", "order=rank&limit=2", "another column"},
        {"/items", "order=score,rank&limit=2", "one more term"},
        {"/items", "order=id.desc&limit=2", "the key's direction"},
        {"/items", "limit=2", "the default order"},
        {"/items", "order=info->a&limit=2", "a JSON path on another column"},
    };
    size_t i;

    ok(base[0] != '(', "shape: /items?order=score plans");
    is_str(shape_of("/items", "order=score&limit=2"), base, "shape: the same query, the same shape");
    is_str(shape_of("/items", "order=score&limit=50&select=id,name"), base,
           "shape: limit and select do not change it");
    is_str(shape_of("/items", "order=score&limit=2&name=like.a*&rank=gt.3"), base,
           "shape: filters do not change it (the next link keeps them)");
    is_str(shape_of("/public.items", "order=score&limit=2"), base,
           "shape: the relation qualified or not is the same relation");
    for (i = 0; i < sizeof(differ) / sizeof(*differ); i++) {
        const char *s = shape_of(differ[i].path, differ[i].args);
        ok(s[0] != '(' && strcmp(s, base) != 0, "shape differs: %s", differ[i].what);
    }
    {
        const char *a = shape_of("/items", "order=score.nullsfirst&limit=2");
        const char *b = shape_of("/items", "order=score.nullslast&limit=2");
        ok(strcmp(a, b) != 0, "shape: NULLS FIRST and NULLS LAST differ");
        a = shape_of("/items", "order=score.desc.nullsfirst&limit=2");
        b = shape_of("/items", "order=score.desc.nullslast&limit=2");
        ok(strcmp(a, b) != 0, "shape: DESC NULLS FIRST and DESC NULLS LAST differ");
    }

    /* JSON paths: every step, its key and its arrow count. */
    {
        static const struct {
            const char *a, *b, *what;
        } paths[] = {
            {"info->a", "info->b", "another key"},
            {"info->a", "info->>a", "-> against ->>"},
            {"info->a", "info->a->b", "one step more"},
            {"info->a", "info", "a path against the column"},
            {"info->a->>b", "info->a->>c", "another last key"},
            {"info->0", "info->1", "another index"},
            {"info->ab", "info->a->b", "keys split differently"},
            {"info->%22a->b%22", "info->a->b", "a key holding '->' against two steps"},
            {"info->%22>x%22", "info->>x", "key '>x' by -> against key 'x' by ->>"},
            {"info->%22x%1F00%1Fscore%22,rank", "info->x,score,rank",
             "a key holding the separator against separate terms"},
            {"info->%22p%1F00%1Fname%22,info->q,rank", "info->p,name,info->%22q%1F00%1Frank%22",
             "keys holding the separator, the same number of terms"},
        };
        for (i = 0; i < sizeof(paths) / sizeof(*paths); i++) {
            ar_read_plan pa, pb;
            ar_error *ea = plan_for("/items", apr_pstrcat(pool, "limit=2&order=", paths[i].a, NULL),
                                    &pa);
            ar_error *eb = plan_for("/items", apr_pstrcat(pool, "limit=2&order=", paths[i].b, NULL),
                                    &pb);
            if (ea || eb) {
                ok(0, "shape, paths: %s (%s)", paths[i].what, (ea ? ea : eb)->message);
                continue;
            }
            ok(strcmp(ar_cursor_shape(pool, &pa), ar_cursor_shape(pool, &pb)) != 0,
               "shape differs, paths: %s (order=%s vs order=%s)", paths[i].what,
               show(paths[i].a), show(paths[i].b));
            /* and what that means: a cursor of one is not taken by the other */
            if (pa.keyset && pb.keyset && pa.order->nelts == pb.order->nelts) {
                const char **v = apr_pcalloc(pool, sizeof(char *) * (size_t)pa.order->nelts);
                int k;
                char *t;
                for (k = 0; k < pa.order->nelts; k++)
                    v[k] = "1";
                t = enc(ar_cursor_shape(pool, &pb), 2, v, pb.order->nelts);
                is_err(ar_plan_apply_cursor(pool, &pa, t, KEY, KEYLEN), AR_ERR_BAD_CURSOR,
                       "  so order=%s refuses the cursor of order=%s", show(paths[i].a),
                       show(paths[i].b));
            }
        }
    }
}

/* ------------------------------------------------------- apply and parse */

static void test_apply(void)
{
    ar_read_plan plan;
    ar_read_request req;
    const char *v1[1] = {"7"};
    char *t;

    no_err(plan_for("/items", "limit=2", &plan), "apply: plan /items?limit=2");
    ok(plan.keyset == 1, "apply: a keyset plan");
    no_err(ar_plan_apply_cursor(pool, &plan, NULL, KEY, KEYLEN), "apply: no token, no error");
    ok(plan.after == NULL && plan.skipped == 0, "apply: no token leaves after and skipped");

    t = enc(ar_cursor_shape(pool, &plan), 10, v1, 1);
    no_err(ar_plan_apply_cursor(pool, &plan, t, KEY, KEYLEN), "apply: a good token");
    ok(plan.after && plan.after[0] && strcmp(plan.after[0], "7") == 0, "apply: after = [7]");
    is_int(plan.skipped, 10, "apply: skipped = 10");

    no_err(plan_for("/items", "limit=2", &plan), "apply: plan again");
    is_err(ar_plan_apply_cursor(pool, &plan, t, KEY2, KEYLEN), AR_ERR_BAD_CURSOR,
           "apply: a token under another key");
    is_err(ar_plan_apply_cursor(pool, &plan, "garbage", KEY, KEYLEN), AR_ERR_BAD_CURSOR,
           "apply: garbage");
    no_err(plan_for("/items", "order=rank&limit=2", &plan), "apply: plan order=rank");
    is_err(ar_plan_apply_cursor(pool, &plan, t, KEY, KEYLEN), AR_ERR_BAD_CURSOR,
           "apply: a token of another order (and another value count)");
    no_err(plan_for("/items", "order=id.desc&limit=2", &plan), "apply: plan order=id.desc");
    is_err(ar_plan_apply_cursor(pool, &plan, t, KEY, KEYLEN), AR_ERR_BAD_CURSOR,
           "apply: a token of the other direction, same value count");
    no_err(plan_for("/other.items", "limit=2", &plan), "apply: plan other.items");
    is_err(ar_plan_apply_cursor(pool, &plan, t, KEY, KEYLEN), AR_ERR_BAD_CURSOR,
           "apply: a token of another relation");

    /* plans that do not page by cursor */
    no_err(plan_for("/nokey", "limit=2", &plan), "apply: plan nokey");
    ok(plan.keyset == 0, "apply: nokey is no keyset plan");
    is_err(ar_plan_apply_cursor(pool, &plan, t, KEY, KEYLEN), AR_ERR_BAD_CURSOR,
           "apply: non-keyset plan + token -> BAD_CURSOR");
    ok(plan.after == NULL, "apply: and after stays NULL");
    no_err(ar_plan_apply_cursor(pool, &plan, NULL, KEY, KEYLEN),
           "apply: non-keyset plan without a token is fine");
    no_err(plan_for("/items", NULL, &plan), "apply: plan /items without a limit");
    is_err(ar_plan_apply_cursor(pool, &plan, t, KEY, KEYLEN), AR_ERR_BAD_CURSOR,
           "apply: no limit + token -> BAD_CURSOR");
    no_err(plan_for("/hidden_pk", "limit=2", &plan), "apply: plan hidden_pk");
    is_err(ar_plan_apply_cursor(pool, &plan, t, KEY, KEYLEN), AR_ERR_BAD_CURSOR,
           "apply: hidden order term + token -> BAD_CURSOR");
    no_err(plan_h("/items", "limit=2", "application/vnd.pgrst.object+json", &plan),
           "apply: plan /items as an object");
    is_err(ar_plan_apply_cursor(pool, &plan, t, KEY, KEYLEN), AR_ERR_BAD_CURSOR,
           "apply: single object + token -> BAD_CURSOR");
    no_err(plan_for("/items/7", NULL, &plan), "apply: plan /items/7");
    ok(plan.keyset == 0 && plan.pk_column, "apply: the pk route is no keyset plan");
    is_err(ar_plan_apply_cursor(pool, &plan, t, KEY, KEYLEN), AR_ERR_BAD_CURSOR,
           "apply: pk route + token -> BAD_CURSOR (keyset and pk route never meet)");
    {
        ar_error *e;
        no_err(plan_for("/nokey", "limit=2", &plan), "apply: plan nokey again");
        e = ar_plan_apply_cursor(pool, &plan, t, KEY, KEYLEN);
        ok(e && ar_error_status(e) == 400 && strcmp(e->code, "AR112") == 0,
           "apply: non-keyset + token is a 400 AR112");
    }

    /* what the parser does with cursor= */
    no_err(ar_query_parse(pool, AR_DIALECT_POSTGREST, "/items", "limit=2&cursor=abc.def", NULL,
                          &req), "parse: cursor= kept");
    is_str(req.cursor, "abc.def", "parse: req->cursor");
    no_err(ar_query_parse(pool, AR_DIALECT_POSTGREST, "/items", "limit=2", NULL, &req),
           "parse: no cursor");
    ok(req.cursor == NULL, "parse: req->cursor NULL without one");
    no_err(ar_query_parse(pool, AR_DIALECT_POSTGREST, "/items", "cursor=a%2Eb%3D", NULL, &req),
           "parse: cursor= is %%-decoded");
    is_str(req.cursor, "a.b=", "parse: decoded cursor");
    is_err(ar_query_parse(pool, AR_DIALECT_POSTGREST, "/items", "limit=2&offset=4&cursor=a.b",
                          NULL, &req), AR_ERR_BAD_PARAM, "parse: cursor with an offset -> BAD_PARAM");
    is_err(ar_query_parse(pool, AR_DIALECT_POSTGREST, "/items", "cursor=a.b&offset=4", NULL,
                          &req), AR_ERR_BAD_PARAM, "parse: offset after the cursor -> BAD_PARAM");
    {
        ar_request_headers h = {"3-5", NULL, NULL, NULL, NULL, NULL, AR_WRITE_NONE, 0, 0};
        ar_error *e = ar_query_parse(pool, AR_DIALECT_POSTGREST, "/items", "cursor=a.b", &h,
                                     &req);
        is_err(e, AR_ERR_BAD_PARAM, "parse: cursor with a Range from 3 (an offset) -> BAD_PARAM");
    }
    no_err(ar_query_parse(pool, AR_DIALECT_POSTGREST, "/items", "offset=0&cursor=a.b", NULL,
                          &req), "parse: offset=0 with a cursor is no offset");
    is_err(ar_query_parse(pool, AR_DIALECT_POSTGREST, "/items", "cursor=a.b&cursor=a.b", NULL,
                          &req), AR_ERR_BAD_PARAM, "parse: cursor twice -> BAD_PARAM");
    is_err(ar_query_parse(pool, AR_DIALECT_POSTGREST, "/items/7", "cursor=a.b", NULL, &req),
           AR_ERR_UNKNOWN_PARAM, "parse: cursor on a single row -> UNKNOWN_PARAM");
    is_err(ar_query_parse(pool, AR_DIALECT_POSTGREST, "/", "cursor=a.b", NULL, &req),
           AR_ERR_UNKNOWN_PARAM, "parse: cursor on the index -> UNKNOWN_PARAM");
    is_err(ar_query_parse(pool, AR_DIALECT_RESTLESS, "/items", "cursor=a.b", NULL, &req),
           AR_ERR_UNKNOWN_PARAM, "parse: no cursor in the Flask-Restless dialect");
}

/* ------------------------------------------------------------- SQL text */

static const char *params_of(const ar_sql *sql)
{
    return sql_params_text(pool, sql);
}

/* Plan path?args, apply a cursor of values (NULL entries are SQL NULL),
 * render; the SQL and its params must be as wanted. */
static void keyset_sql(const char *path, const char *args, const char *accept, int n,
                       const char *const *values, const char *want_sql, const char *want_params,
                       const char *what)
{
    ar_read_plan plan;
    ar_error *e = plan_h(path, args, accept, &plan);
    char *t;

    if (!e && plan.order->nelts != n) {
        ok(0, "%s: %d order terms, the test gives %d values", what, plan.order->nelts, n);
        ok(0, "%s: params", what);
        return;
    }
    if (!e) {
        t = enc(ar_cursor_shape(pool, &plan), 20, values, n);
        e = ar_plan_apply_cursor(pool, &plan, t, KEY, KEYLEN);
    }
    statement_is(pool, e, &plan, want_sql, want_params, what);
}

#define ITEMS_COLS "SELECT \"id\", \"name\", \"score\", \"info\", \"rank\""
#define FROM_ITEMS " FROM \"public\".\"items\""

static void test_sql(void)
{
    const char *v7[] = {"7"};
    const char *vs[] = {"x", "7"};
    const char *vn[] = {NULL, "7"};
    const char *v3[] = {"x", "5", "7"};

    /* the select list of a keyset plan, without a cursor */
    {
        ar_read_plan plan;
        ar_sql sql;
        no_err(plan_for("/items", "select=name&order=score.desc,info->>k&limit=2", &plan),
               "select list: plan");
        ar_sql_render_read(pool, &plan, &sql);
        is_str(sql.text,
               "SELECT \"name\", \"score\", \"info\"->>($1::text), \"id\"" FROM_ITEMS
               " ORDER BY \"score\" DESC, \"info\"->>($2::text), \"id\" LIMIT 3",
               "select list: the order terms follow the columns, paths bound again");
        is_str(params_of(&sql), "k|k", "select list: params");
        no_err(plan_h("/items", "limit=2", "text/csv", &plan), "select list: CSV plan");
        ar_sql_render_read(pool, &plan, &sql);
        is_str(sql.text,
               "SELECT \"id\" AS \"id\", \"name\" AS \"name\", \"score\" AS \"score\","
               " \"info\" AS \"info\", \"rank\" AS \"rank\"" FROM_ITEMS
               " ORDER BY \"id\" LIMIT 3",
               "select list: CSV reads the key from its column too");
        no_err(plan_for("/items", "limit=2&select=n:name,s:score::text", &plan),
               "select list: aliases and casts plan");
        ar_sql_render_read(pool, &plan, &sql);
        is_str(sql.text,
               "SELECT \"name\" AS \"n\", to_json((\"score\")::text) AS \"s\", \"id\"" FROM_ITEMS
               " ORDER BY \"id\" LIMIT 3",
               "select list: the order term is the bare column, whatever the output");
        no_err(plan_for("/items", "limit=2&offset=4", &plan), "select list: an offset page");
        ar_sql_render_read(pool, &plan, &sql);
        is_str(sql.text, ITEMS_COLS FROM_ITEMS " ORDER BY \"id\" LIMIT 3 OFFSET $1",
               "select list: offset pages of a keyset plan read the key from its column");
        no_err(plan_for("/items", "select=name,s:score&order=score.desc&limit=2", &plan),
               "key columns: plan");
        ar_sql_render_read(pool, &plan, &sql);
        ok(plan.key_columns[0] == 1 && plan.key_columns[1] == 2,
           "key columns: score read from its (aliased) column, id appended after the columns"
           " (%d, %d)", plan.key_columns[0], plan.key_columns[1]);
        is_str(sql.text, "SELECT \"name\", \"score\" AS \"s\", \"id\"" FROM_ITEMS
                         " ORDER BY \"score\" DESC, \"id\" LIMIT 3",
               "key columns: only the term not selected is appended");
        no_err(plan_for("/items", "select=id::text,name&order=name&limit=2", &plan),
               "key columns: cast plan");
        ar_sql_render_read(pool, &plan, &sql);
        ok(plan.key_columns[0] == 1 && plan.key_columns[1] == 2,
           "key columns: a cast column is not the key's text (%d, %d)", plan.key_columns[0],
           plan.key_columns[1]);
        is_str(sql.text, "SELECT to_json((\"id\")::text) AS \"id\", \"name\", \"id\""
                         FROM_ITEMS " ORDER BY \"name\", \"id\" LIMIT 3",
               "key columns: the cast column's key is appended");
        no_err(plan_for("/nokey", "limit=2", &plan), "select list: nokey");
        ar_sql_render_read(pool, &plan, &sql);
        is_str(sql.text, "SELECT \"a\", \"b\" FROM \"public\".\"nokey\" ORDER BY \"a\", \"b\""
                         " LIMIT 3", "select list: not keyset, nothing appended");
    }

    keyset_sql("/items", "limit=2", NULL, 1, v7,
               ITEMS_COLS FROM_ITEMS " WHERE (\"id\") > ($1) ORDER BY \"id\" LIMIT 3",
               "7", "single pk, ascending: a one-term row comparison");
    keyset_sql("/items", "limit=2&order=id.desc", NULL, 1, v7,
               ITEMS_COLS FROM_ITEMS
               " WHERE (\"id\") < ($1) ORDER BY \"id\" DESC LIMIT 3",
               "7", "pk descending: <");
    keyset_sql("/items", "limit=2&order=id.desc.nullslast", NULL, 1, v7,
               ITEMS_COLS FROM_ITEMS
               " WHERE (\"id\") < ($1) ORDER BY \"id\" DESC NULLS LAST LIMIT 3",
               "7", "pk descending, NULLS LAST on a NOT NULL column: still a row comparison");
    keyset_sql("/items", "limit=2&order=name", NULL, 2, vs,
               ITEMS_COLS FROM_ITEMS
               " WHERE (\"name\", \"id\") > ($1, $2) ORDER BY \"name\", \"id\" LIMIT 3",
               "x|7", "two NOT NULL terms ascending: row comparison");
    keyset_sql("/items", "limit=2&order=name.desc,id.desc", NULL, 2, vs,
               ITEMS_COLS FROM_ITEMS
               " WHERE (\"name\", \"id\") < ($1, $2) ORDER BY \"name\" DESC, \"id\" DESC LIMIT 3",
               "x|7", "two NOT NULL terms descending: row comparison with <");
    keyset_sql("/items", "limit=2&order=name,rank.asc,id", NULL, 3, v3,
               ITEMS_COLS FROM_ITEMS
               " WHERE (\"name\", \"rank\", \"id\") > ($1, $2, $3)"
               " ORDER BY \"name\", \"rank\", \"id\" LIMIT 3",
               "x|5|7", "three NOT NULL terms: row comparison");
    keyset_sql("/items", "limit=2&order=name.desc", NULL, 2, vs,
               ITEMS_COLS FROM_ITEMS
               " WHERE (((\"name\" < $1)) OR (\"name\" = $2 AND (\"id\" > $3)))"
               " ORDER BY \"name\" DESC, \"id\" LIMIT 3",
               "x|x|7", "mixed directions: the expansion");
    keyset_sql("/items", "limit=2&order=name,rank.desc", NULL, 3, v3,
               ITEMS_COLS FROM_ITEMS
               " WHERE (((\"name\" > $1)) OR (\"name\" = $2 AND (\"rank\" < $3))"
               " OR (\"name\" = $4 AND \"rank\" = $5 AND (\"id\" > $6)))"
               " ORDER BY \"name\", \"rank\" DESC, \"id\" LIMIT 3",
               "x|x|5|x|5|7", "mixed directions over three terms");

    /* a nullable term: asc/desc x nulls default/first/last x value NULL or not */
    {
        static const struct {
            const char *order, *order_by, *after_value, *after_null, *is_null_where;
        } nl[] = {
            /* NULLS LAST (asc default): after v come bigger values, then NULLs;
             * after NULL come no more NULLs */
            {"score", "\"score\"", "(\"score\" > $1 OR \"score\" IS NULL)", "false", ""},
            {"score.asc.nullslast", "\"score\" NULLS LAST",
             "(\"score\" > $1 OR \"score\" IS NULL)", "false", ""},
            {"score.asc.nullsfirst", "\"score\" NULLS FIRST", "(\"score\" > $1)",
             "\"score\" IS NOT NULL", ""},
            /* DESC: NULLS FIRST by default */
            {"score.desc", "\"score\" DESC", "(\"score\" < $1)", "\"score\" IS NOT NULL", ""},
            {"score.desc.nullsfirst", "\"score\" DESC NULLS FIRST", "(\"score\" < $1)",
             "\"score\" IS NOT NULL", ""},
            {"score.desc.nullslast", "\"score\" DESC NULLS LAST",
             "(\"score\" < $1 OR \"score\" IS NULL)", "false", ""},
        };
        size_t i;

        for (i = 0; i < sizeof(nl) / sizeof(*nl); i++) {
            const char *args = apr_pstrcat(pool, "limit=2&order=", nl[i].order, NULL);
            const char *head = ITEMS_COLS FROM_ITEMS " WHERE ";
            const char *tail = apr_pstrcat(pool, " ORDER BY ", nl[i].order_by, ", \"id\" LIMIT 3",
                                           NULL);
            const char *vv[] = {"5", "7"};

            keyset_sql("/items", args, NULL, 2, vv,
                       apr_pstrcat(pool, head, "((", nl[i].after_value,
                                   ") OR (\"score\" = $2 AND (\"id\" > $3)))", tail, NULL),
                       "5|5|7",
                       apr_psprintf(pool, "nullable, order=%s, after 5", nl[i].order));
            keyset_sql("/items", args, NULL, 2, vn,
                       apr_pstrcat(pool, head, "((", nl[i].after_null,
                                   ") OR (\"score\" IS NULL AND (\"id\" > $1)))", tail, NULL),
                       "7", apr_psprintf(pool, "nullable, order=%s, after NULL", nl[i].order));
        }
    }

    /* JSON paths: may be NULL whatever the column, keys bound each time */
    {
        const char *vv[] = {"\"a\"", "7"};
        const char *vnull[] = {NULL, "7"};
        keyset_sql("/items", "limit=2&order=info->k", NULL, 2, vv,
                   ITEMS_COLS ", \"info\"->($1::text)" FROM_ITEMS
                   " WHERE (((\"info\"->($2::text) > $3 OR \"info\"->($4::text) IS NULL))"
                   " OR (\"info\"->($5::text) = $6 AND (\"id\" > $7)))"
                   " ORDER BY \"info\"->($8::text), \"id\" LIMIT 3",
                   "k|k|\"a\"|k|k|\"a\"|7|k", "a JSON path term, after a value");
        keyset_sql("/items", "limit=2&order=info->>k.desc", NULL, 2, vnull,
                   ITEMS_COLS ", \"info\"->>($1::text)" FROM_ITEMS
                   " WHERE ((\"info\"->>($2::text) IS NOT NULL)"
                   " OR (\"info\"->>($3::text) IS NULL AND (\"id\" > $4)))"
                   " ORDER BY \"info\"->>($5::text) DESC, \"id\" LIMIT 3",
                   "k|k|k|7|k", "a ->> path term descending, after NULL");
        keyset_sql("/items", "limit=2&order=rank->0,id", NULL, 2, vv,
                   ITEMS_COLS ", to_jsonb(\"rank\")->($1::int)" FROM_ITEMS
                   " WHERE (((to_jsonb(\"rank\")->($2::int) > $3"
                   " OR to_jsonb(\"rank\")->($4::int) IS NULL))"
                   " OR (to_jsonb(\"rank\")->($5::int) = $6 AND (\"id\" > $7)))"
                   " ORDER BY to_jsonb(\"rank\")->($8::int), \"id\" LIMIT 3",
                   "0|0|\"a\"|0|0|\"a\"|7|0",
                   "a path into a NOT NULL non-JSON column may still be NULL");
    }

    /* keyset and filters */
    keyset_sql("/items", "limit=2&score=gt.3", NULL, 1, v7,
               ITEMS_COLS FROM_ITEMS
               " WHERE (\"score\" > $1) AND (\"id\") > ($2) ORDER BY \"id\" LIMIT 3",
               "3|7", "keyset + a filter: AND, filter parameters first");
    keyset_sql("/items", "limit=2&or=(score.is.null,rank.lt.0)&name=neq.z&order=score", NULL, 2,
               vn,
               ITEMS_COLS FROM_ITEMS
               " WHERE ((\"score\" IS NULL OR \"rank\" < $1) AND \"name\" <> $2)"
               " AND ((false) OR (\"score\" IS NULL AND (\"id\" > $3)))"
               " ORDER BY \"score\", \"id\" LIMIT 3",
               "0|z|7", "keyset + an or= tree: both parenthesized, ANDed");
    keyset_sql("/by_code", "limit=2", NULL, 1, v7,
               "SELECT \"code\", \"label\" FROM \"public\".\"by_code\""
               " WHERE (\"code\") > ($1) ORDER BY \"code\" LIMIT 3",
               "7", "a NOT NULL unique key, no pk");
    keyset_sql("/by_code", "limit=2&order=label.desc.nullslast", NULL, 2, vs,
               "SELECT \"code\", \"label\" FROM \"public\".\"by_code\""
               " WHERE (((\"label\" < $1 OR \"label\" IS NULL)) OR (\"label\" = $2"
               " AND (\"code\" > $3))) ORDER BY \"label\" DESC NULLS LAST, \"code\" LIMIT 3",
               "x|x|7", "a nullable term before the unique key");

    /* the keyset never meets the pk route */
    {
        ar_read_plan plan;
        ar_sql sql;
        no_err(plan_for("/items/5", NULL, &plan), "pk route: plan");
        ar_sql_render_read(pool, &plan, &sql);
        is_str(sql.text, ITEMS_COLS FROM_ITEMS " WHERE \"id\" = $1 LIMIT 1",
               "pk route: no order terms appended, no keyset predicate");
    }
}

/* Counts never carry the keyset predicate: the total is of the whole
 * filtered relation, whatever page the cursor names. */
static void test_count(void)
{
    static const char *const args[] = {
        "limit=2", "limit=2&score=gt.3", "limit=2&order=score.desc,info->>k",
        "limit=2&or=(score.is.null,rank.lt.0)&order=name.desc",
    };
    static const ar_count hows[] = {AR_COUNT_EXACT, AR_COUNT_PLANNED, AR_COUNT_ESTIMATED};
    static const char *const how_names[] = {"exact", "planned", "estimated"};
    size_t i, j;

    for (i = 0; i < sizeof(args) / sizeof(*args); i++) {
        ar_read_plan plain, paged;
        const char *vals[3] = {"5", NULL, "7"};
        ar_error *e = plan_for("/items", args[i], &plain);
        if (!e)
            e = plan_for("/items", args[i], &paged);
        if (!e)
            e = ar_plan_apply_cursor(pool, &paged,
                                     enc(ar_cursor_shape(pool, &paged), 4, vals,
                                         paged.order->nelts),
                                     KEY, KEYLEN);
        if (e) {
            ok(0, "count %s: planned (%s)", args[i], e->message);
            continue;
        }
        for (j = 0; j < sizeof(hows) / sizeof(*hows); j++) {
            ar_sql a, b;
            ar_sql_render_count(pool, &plain, hows[j], 100, &a);
            ar_sql_render_count(pool, &paged, hows[j], 100, &b);
            ok(strcmp(a.text, b.text) == 0 && strcmp(params_of(&a), params_of(&b)) == 0
                   && !strstr(b.text, " OR (") && !strstr(b.text, ") > (")
                   && !strstr(b.text, ") < ("),
               "count %s, %s: the same statement with a cursor, no keyset predicate",
               how_names[j], args[i]);
            if (strcmp(a.text, b.text) != 0)
                printf("#   without: %s\n#   with:    %s\n", a.text, b.text);
        }
    }
}

/* ------------------------------------------------------------ brute force */

/*
 * A hand-built plan of 1..3 order terms; each term is one of
 *   NN   a NOT NULL integer column
 *   NL   a nullable integer column
 *   PJ   a path into a jsonb column (->, or ->> on odd terms)
 *   PT   a path into a NOT NULL integer column, through to_jsonb()
 * with DESC or not and NULLS default/FIRST/LAST. Values are 1, 2, 3, and
 * NULL where the term may be NULL; every combination is a row.
 */
enum { NN, NL, PJ, PT, NKINDS };
static const char *const kind_names[] = {"NN", "NL", "PJ", "PT"};

typedef struct {
    int kind, desc;
    ar_nulls nulls;
} term_cfg;

static ar_relation *bf_rel;

static void build_bf_relation(void)
{
    int i;

    bf_rel = apr_pcalloc(pool, sizeof(*bf_rel));
    bf_rel->schema = "public";
    bf_rel->name = "bf";
    bf_rel->kind = 'r';
    bf_rel->columns = apr_array_make(pool, 16, sizeof(ar_column));
    bf_rel->unique_keys = apr_array_make(pool, 1, sizeof(ar_key));
    bf_rel->foreign_keys = apr_array_make(pool, 1, sizeof(ar_foreign_key));
    /* per term i: nn<i>, nl<i>, pj<i>, pt<i> (columns 4i .. 4i+3) */
    for (i = 0; i < 3; i++) {
        addcol(bf_rel, apr_psprintf(pool, "nn%d", i), "integer", AR_ENC_NUMBER, 0, 1);
        addcol(bf_rel, apr_psprintf(pool, "nl%d", i), "integer", AR_ENC_NUMBER, 1, 1);
        addcol(bf_rel, apr_psprintf(pool, "pj%d", i), "jsonb", AR_ENC_JSON, 1, 1);
        addcol(bf_rel, apr_psprintf(pool, "pt%d", i), "integer", AR_ENC_NUMBER, 0, 1);
    }
}

static void bf_plan(apr_pool_t *p, const term_cfg *cfg, int n, ar_read_plan *plan)
{
    int i;

    memset(plan, 0, sizeof(*plan));
    plan->relation = bf_rel;
    plan->columns = apr_array_make(p, 1, sizeof(ar_output_column));
    {
        ar_output_column *oc = apr_array_push(plan->columns);
        memset(oc, 0, sizeof(*oc));
        oc->column = &APR_ARRAY_IDX(bf_rel->columns, 0, ar_column);
        oc->name = oc->column->name;
        oc->enc = AR_ENC_NUMBER;
    }
    plan->order = apr_array_make(p, n, sizeof(ar_order_term));
    for (i = 0; i < n; i++) {
        ar_order_term *t = apr_array_push(plan->order);
        memset(t, 0, sizeof(*t));
        t->column = &APR_ARRAY_IDX(bf_rel->columns, 4 * i + cfg[i].kind, ar_column);
        t->desc = cfg[i].desc;
        t->nulls = cfg[i].nulls;
        if (cfg[i].kind == PJ || cfg[i].kind == PT) {
            apr_array_header_t *path = apr_array_make(p, 1, sizeof(ar_path_step));
            ar_path_step *st = apr_array_push(path);
            st->key = apr_psprintf(p, "k%d", i);
            st->is_index = 0;
            st->as_text = cfg[i].kind == PJ && (i % 2);
            t->path = path;
        }
    }
    plan->limit = 10;
    plan->probe_next = 1;
    plan->keyset = 1;
}

/* --- a parser for what put_keyset writes, into a tree to evaluate */

typedef enum { X_TRUE, X_FALSE, X_OR, X_AND, X_NOT, X_CMP, X_ISNULL, X_NOTNULL, X_ROW } xkind;

typedef struct xnode {
    xkind kind;
    char op[3];             /* X_CMP, X_ROW: = <> < > <= >= */
    int nf;
    int term[4];            /* the order term each field is */
    const char *value[4];   /* the bound values compared with */
    struct xnode *a, *b;
} xnode;

typedef struct {
    apr_pool_t *p;
    const char *s;
    const apr_array_header_t *params;
    const char *const *ids;  /* each term's identity: column and path */
    int n;
    int rows;                /* row comparisons seen */
    const char *err;
} xparser;

static void skip_ws(xparser *x)
{
    while (*x->s == ' ')
        x->s++;
}

static int lit(xparser *x, const char *w)
{
    size_t n = strlen(w);

    skip_ws(x);
    if (strncmp(x->s, w, n) != 0)
        return 0;
    /* a keyword must end at a word boundary */
    if (apr_isalpha(w[n - 1]) && (apr_isalnum(x->s[n]) || x->s[n] == '_'))
        return 0;
    x->s += n;
    return 1;
}

static int fail(xparser *x, const char *why)
{
    if (!x->err)
        x->err = apr_psprintf(x->p, "%s at '%.40s'", why, x->s);
    return 0;
}

/* $n: the bound value (NULL: bound SQL NULL); *ok_ 0 when not a parameter. */
static const char *param(xparser *x, int *ok_)
{
    char *end;
    long i;

    skip_ws(x);
    *ok_ = 0;
    if (*x->s != '$')
        return NULL;
    i = strtol(x->s + 1, &end, 10);
    if (end == x->s + 1 || i < 1 || i > x->params->nelts)
        return NULL;
    x->s = end;
    *ok_ = 1;
    return APR_ARRAY_IDX(x->params, i - 1, const char *);
}

static char *ident(xparser *x)
{
    char *out = apr_palloc(x->p, strlen(x->s) + 1), *o = out;

    skip_ws(x);
    if (*x->s != '"')
        return NULL;
    for (x->s++; *x->s; x->s++) {
        if (*x->s == '"') {
            if (x->s[1] != '"')
                break;
            x->s++;
        }
        *o++ = *x->s;
    }
    if (*x->s != '"')
        return NULL;
    x->s++;
    *o = '\0';
    return out;
}

/* A field as put_field writes it; the order term it is, or -1. */
static int field(xparser *x)
{
    const char *save = x->s, *id;
    int wrapped = lit(x, "to_jsonb("), i;
    char *name = ident(x);

    if (!name || (wrapped && !lit(x, ")"))) {
        x->s = save;
        return -1;
    }
    id = name;
    for (;;) {
        int text, okp;
        const char *key;
        skip_ws(x);
        if (strncmp(x->s, "->>(", 4) == 0) {
            text = 1;
            x->s += 4;
        }
        else if (strncmp(x->s, "->(", 3) == 0) {
            text = 0;
            x->s += 3;
        }
        else
            break;
        key = param(x, &okp);
        if (!okp || !key || !(lit(x, "::text") || lit(x, "::int")) || !lit(x, ")")) {
            x->s = save;
            return -1;
        }
        id = apr_pstrcat(x->p, id, text ? "->>" : "->", key, NULL);
    }
    for (i = 0; i < x->n; i++)
        if (strcmp(x->ids[i], id) == 0)
            return i;
    x->s = save;
    fail(x, apr_psprintf(x->p, "a field that is no order term (%s)", id));
    return -1;
}

static int op(xparser *x, char out[3])
{
    static const char *const ops[] = {"<>", "<=", ">=", "=", "<", ">"};
    size_t i;

    skip_ws(x);
    for (i = 0; i < sizeof(ops) / sizeof(*ops); i++)
        if (strncmp(x->s, ops[i], strlen(ops[i])) == 0) {
            strcpy(out, ops[i]);
            x->s += strlen(ops[i]);
            return 1;
        }
    return 0;
}

static xnode *expr(xparser *x);

static xnode *mk(xparser *x, xkind k)
{
    xnode *n = apr_pcalloc(x->p, sizeof(*n));
    n->kind = k;
    return n;
}

/* (f1, f2, ...) op ($i, $j, ...), or NULL with x->s unmoved */
static xnode *row_cmp(xparser *x)
{
    const char *save = x->s;
    xnode *n = mk(x, X_ROW);
    int i, okp;

    if (!lit(x, "("))
        return NULL;
    do {
        if (n->nf == 4 || (n->term[n->nf] = field(x)) < 0)
            goto no;
        n->nf++;
    } while (lit(x, ","));
    if (!lit(x, ")") || !op(x, n->op) || !lit(x, "("))
        goto no;
    for (i = 0; i < n->nf; i++) {
        if (i && !lit(x, ","))
            goto no;
        n->value[i] = param(x, &okp);
        if (!okp)
            goto no;
    }
    if (!lit(x, ")"))
        goto no;
    x->rows++;
    return n;
no:
    x->s = save;
    return NULL;
}

static xnode *primary(xparser *x)
{
    xnode *n;
    int t, okp;

    if (lit(x, "false"))
        return mk(x, X_FALSE);
    if (lit(x, "true"))
        return mk(x, X_TRUE);
    if (lit(x, "NOT")) {
        n = mk(x, X_NOT);
        if (!(n->a = primary(x)))
            return NULL;
        return n;
    }
    skip_ws(x);
    if (*x->s == '(') {
        const char *save_err = x->err;
        if ((n = row_cmp(x)) != NULL)
            return n;
        x->err = save_err;
        x->s++;
        n = expr(x);
        if (!n || !lit(x, ")"))
            return fail(x, "')' expected"), NULL;
        return n;
    }
    if ((t = field(x)) < 0)
        return fail(x, "a field expected"), NULL;
    if (lit(x, "IS NOT NULL")) {
        n = mk(x, X_NOTNULL);
    }
    else if (lit(x, "IS NULL")) {
        n = mk(x, X_ISNULL);
    }
    else {
        n = mk(x, X_CMP);
        if (!op(x, n->op))
            return fail(x, "an operator expected"), NULL;
        n->value[0] = param(x, &okp);
        if (!okp)
            return fail(x, "a parameter expected"), NULL;
    }
    n->nf = 1;
    n->term[0] = t;
    return n;
}

static xnode *conjunction(xparser *x)
{
    xnode *l = primary(x);

    while (l && lit(x, "AND")) {
        xnode *n = mk(x, X_AND);
        n->a = l;
        if (!(n->b = primary(x)))
            return NULL;
        l = n;
    }
    return l;
}

static xnode *expr(xparser *x)
{
    xnode *l = conjunction(x);

    while (l && lit(x, "OR")) {
        xnode *n = mk(x, X_OR);
        n->a = l;
        if (!(n->b = conjunction(x)))
            return NULL;
        l = n;
    }
    return l;
}

/* --- evaluation: a row is n ints, 0 for NULL; -1 false, 0 unknown, 1 true */

static int num(const char *v, int *out)
{
    char *end;
    long l;

    if (!v)
        return 0;
    l = strtol(v, &end, 10);
    if (*end || end == v)
        return 0;
    *out = (int)l;
    return 1;
}

static int cmp_op(const char *op, int c)
{
    if (!strcmp(op, "="))
        return c == 0;
    if (!strcmp(op, "<>"))
        return c != 0;
    if (!strcmp(op, "<"))
        return c < 0;
    if (!strcmp(op, ">"))
        return c > 0;
    if (!strcmp(op, "<="))
        return c <= 0;
    return c >= 0;
}

static int eval(const xnode *n, const int *row, const char **why)
{
    int a, b, i, v;

    switch (n->kind) {
    case X_TRUE: return 1;
    case X_FALSE: return -1;
    case X_NOT: return -eval(n->a, row, why);
    case X_AND:
        a = eval(n->a, row, why);
        b = eval(n->b, row, why);
        return a < b ? a : b;
    case X_OR:
        a = eval(n->a, row, why);
        b = eval(n->b, row, why);
        return a > b ? a : b;
    case X_ISNULL: return row[n->term[0]] == 0 ? 1 : -1;
    case X_NOTNULL: return row[n->term[0]] != 0 ? 1 : -1;
    case X_CMP:
        if (!n->value[0])
            return 0; /* a bound NULL: unknown */
        if (!num(n->value[0], &v))
            return *why = "a compared value is not a number", 0;
        if (row[n->term[0]] == 0)
            return 0;
        return cmp_op(n->op, row[n->term[0]] - v) ? 1 : -1;
    case X_ROW:
        /* PostgreSQL: pairwise from the left; the first pair that is not
         * equal decides, and a NULL before that makes the whole unknown */
        if (!strcmp(n->op, "=") || !strcmp(n->op, "<>"))
            return *why = "row = / <> not modelled", 0;
        for (i = 0; i < n->nf; i++) {
            if (!n->value[i] || row[n->term[i]] == 0)
                return 0;
            if (!num(n->value[i], &v))
                return *why = "a compared value is not a number", 0;
            if (row[n->term[i]] != v)
                return cmp_op(n->op, row[n->term[i]] - v) ? 1 : -1;
        }
        return cmp_op(n->op, 0) ? 1 : -1;
    }
    return 0;
}

/* --- the reference: PostgreSQL's order, from the ORDER BY clause */

typedef struct {
    int term, desc, nulls_first;
} ob_term;

static int parse_order_by(xparser *x, ob_term *out, int *count)
{
    *count = 0;
    if (!lit(x, "ORDER BY"))
        return fail(x, "ORDER BY expected");
    do {
        ob_term *o = &out[*count];
        if (*count == 4 || (o->term = field(x)) < 0)
            return fail(x, "an ORDER BY field expected");
        o->desc = lit(x, "DESC");
        if (!o->desc)
            (void)lit(x, "ASC");
        if (lit(x, "NULLS FIRST"))
            o->nulls_first = 1;
        else if (lit(x, "NULLS LAST"))
            o->nulls_first = 0;
        else
            o->nulls_first = o->desc; /* PostgreSQL's default */
        ++*count;
    } while (lit(x, ","));
    return 1;
}

static int ref_cmp(const ob_term *ob, int nob, const int *r, const int *s)
{
    int i;

    for (i = 0; i < nob; i++) {
        int a = r[ob[i].term], b = s[ob[i].term], c;
        if (a == b)
            continue;
        if (a == 0)
            return ob[i].nulls_first ? -1 : 1;
        if (b == 0)
            return ob[i].nulls_first ? 1 : -1;
        c = a < b ? -1 : 1;
        return ob[i].desc ? -c : c;
    }
    return 0;
}

static const char *cfg_str(const term_cfg *cfg, int n)
{
    const char *s = "";
    int i;

    for (i = 0; i < n; i++)
        s = apr_pstrcat(pool, s, i ? ", " : "", kind_names[cfg[i].kind],
                        cfg[i].desc ? " desc" : " asc",
                        cfg[i].nulls == AR_NULLS_FIRST ? " nullsfirst"
                        : cfg[i].nulls == AR_NULLS_LAST ? " nullslast" : "", NULL);
    return s;
}

static int may_null(int kind)
{
    return kind != NN;
}

/* Every cursor row against every row, for one order; the first problem, or
 * NULL when the WHERE keeps exactly the rows after the cursor. */
static const char *bf_check(const term_cfg *cfg, int n, int *checked)
{
    apr_pool_t *p;
    ar_read_plan plan;
    const char *ids[4], *problem = NULL;
    int rows[64][3], nrows = 0, i, k, r;
    int dom[3][4], ndom[3];

    apr_pool_create(&p, pool);
    bf_plan(p, cfg, n, &plan);
    for (i = 0; i < n; i++) {
        const ar_order_term *t = &APR_ARRAY_IDX(plan.order, i, ar_order_term);
        ids[i] = t->column->name;
        if (t->path) {
            const ar_path_step *st = &APR_ARRAY_IDX(t->path, 0, ar_path_step);
            ids[i] = apr_pstrcat(p, ids[i], st->as_text ? "->>" : "->", st->key, NULL);
        }
        ndom[i] = 0;
        if (may_null(cfg[i].kind))
            dom[i][ndom[i]++] = 0;
        for (k = 1; k <= 3; k++)
            dom[i][ndom[i]++] = k;
    }
    /* every combination: all rows distinct, so the order is total on them */
    {
        int idx[3] = {0, 0, 0};
        for (;;) {
            for (i = 0; i < n; i++)
                rows[nrows][i] = dom[i][idx[i]];
            nrows++;
            for (i = n - 1; i >= 0 && ++idx[i] == ndom[i]; i--)
                idx[i] = 0;
            if (i < 0)
                break;
        }
    }

    for (k = 0; k < nrows && !problem; k++) {
        const char *vals[3];
        ar_sql sql;
        xparser x;
        xnode *where;
        ob_term ob[4];
        int nob, simple, any_null = 0, same_dir = 1, none_may_null = 1;
        const char *w, *why = NULL;
        ar_error *e;
        ar_read_plan pk = plan;

        for (i = 0; i < n; i++) {
            vals[i] = rows[k][i] ? apr_itoa(p, rows[k][i]) : NULL;
            any_null |= rows[k][i] == 0;
            same_dir &= cfg[i].desc == cfg[0].desc;
            none_may_null &= !may_null(cfg[i].kind);
        }
        e = ar_plan_apply_cursor(p, &pk,
                                 ar_cursor_encode(p, KEY, KEYLEN, ar_cursor_shape(p, &pk), k,
                                                  vals, n),
                                 KEY, KEYLEN);
        if (e) {
            problem = apr_psprintf(pool, "the cursor did not apply: %s", e->message);
            break;
        }
        ar_sql_render_read(p, &pk, &sql);
        for (i = 0; i < sql.params->nelts; i++)
            if (!APR_ARRAY_IDX(sql.params, i, const char *))
                problem = apr_psprintf(pool, "$%d is bound to NULL in %s", i + 1, sql.text);
        if (problem)
            break;
        w = strstr(sql.text, " WHERE ");
        if (!w) {
            problem = apr_psprintf(pool, "no WHERE in %s", sql.text);
            break;
        }
        memset(&x, 0, sizeof(x));
        x.p = p;
        x.s = w + 7;
        x.params = sql.params;
        x.ids = ids;
        x.n = n;
        where = expr(&x);
        if (!where || x.err || !parse_order_by(&x, ob, &nob) || !lit(&x, "LIMIT")) {
            problem = apr_psprintf(pool, "unreadable (%s): %s", x.err ? x.err : "?", sql.text);
            break;
        }
        /* the ORDER BY is the plan's order, with PostgreSQL's defaults */
        for (i = 0; i < n; i++) {
            int nf = cfg[i].nulls == AR_NULLS_FIRST
                     || (cfg[i].nulls == AR_NULLS_DEFAULT && cfg[i].desc);
            if (nob != n || ob[i].term != i || ob[i].desc != cfg[i].desc
                || ob[i].nulls_first != nf)
                problem = apr_psprintf(pool, "ORDER BY is not the plan's order: %s", sql.text);
        }
        if (problem)
            break;
        /* the row comparison exactly when it is sound and the spec says so */
        simple = same_dir && none_may_null && !any_null;
        if ((x.rows > 0) != simple) {
            problem = apr_psprintf(pool, "%s form for cursor %s: %s",
                                   x.rows ? "row comparison" : "expanded",
                                   values_str(vals, n), sql.text);
            break;
        }
        for (r = 0; r < nrows; r++) {
            int got = eval(where, rows[r], &why), want = ref_cmp(ob, nob, rows[r], rows[k]) > 0;
            ++*checked;
            if (why || (got == 1) != want) {
                const char *rv[3];
                for (i = 0; i < n; i++)
                    rv[i] = rows[r][i] ? apr_itoa(pool, rows[r][i]) : NULL;
                problem = apr_psprintf(pool, "%scursor %s, row %s: WHERE is %s, the row is %s"
                                       " the cursor; %s", why ? why : "", values_str(vals, n),
                                       values_str(rv, n),
                                       got == 1 ? "true" : got == 0 ? "unknown" : "false",
                                       want ? "after" : "not after", sql.text);
                break;
            }
        }
    }
    apr_pool_destroy(p);
    return problem;
}

/* One and two terms: every kind. Three terms: NOT NULL and nullable
 * columns only (a path is a nullable term to the predicate, and that is
 * covered by one and two terms), unless KEYSET_BRUTE_FULL is set in the
 * environment (13824 orders, some 30 s). */
static void test_brute_force(void)
{
    term_cfg cfg[3];
    int nterms, total_configs = 0;
    static const ar_nulls nulls[] = {AR_NULLS_DEFAULT, AR_NULLS_FIRST, AR_NULLS_LAST};
    int full = getenv("KEYSET_BRUTE_FULL") != NULL;

    build_bf_relation();
    for (nterms = 1; nterms <= 3; nterms++) {
        /* a configuration: per term, kind x desc x nulls */
        int nkinds = nterms < 3 || full ? NKINDS : 2;
        int per = nkinds * 2 * 3, count = 1, c, i, failures = 0, checked = 0;
        const char *first = NULL;

        for (i = 0; i < nterms; i++)
            count *= per;
        for (c = 0; c < count; c++) {
            int rest = c;
            const char *problem;
            for (i = 0; i < nterms; i++) {
                int one = rest % per;
                rest /= per;
                cfg[i].kind = one % nkinds;
                cfg[i].desc = (one / nkinds) % 2;
                cfg[i].nulls = nulls[one / (nkinds * 2)];
            }
            problem = bf_check(cfg, nterms, &checked);
            if (nterms == 1)
                ok(problem == NULL, "brute force, one term %s", cfg_str(cfg, 1));
            if (problem) {
                failures++;
                if (!first || nterms == 1)
                    first = apr_psprintf(pool, "[%s] %s", cfg_str(cfg, nterms), problem);
                if (nterms == 1)
                    printf("#   %s\n", first);
            }
        }
        total_configs += count;
        if (nterms > 1) {
            ok(failures == 0, "brute force, %d terms (%s): %d orders, %d (row, cursor) pairs, "
                              "%d wrong", nterms, nkinds == NKINDS ? "NN NL PJ PT" : "NN NL",
               count, checked, failures);
            if (first)
                printf("#   first: %s\n", first);
        }
    }
    (void)total_configs;
}

/* ------------------------------------------------------------------- main */

int main(void)
{
    char *long_value;

    apr_initialize();
    apr_pool_create(&pool, NULL);
    apr_pool_create(&scratch, pool);

    long_value = apr_palloc(pool, LONG_LEN + 1);
    {
        int i;
        for (i = 0; i < LONG_LEN; i++)
            long_value[i] = "ab\"\\c'"[i % 6];
        long_value[LONG_LEN] = '\0';
    }
    cases[7].v[0] = long_value;

    test_round_trip();
    test_tampering();
    build_schema();
    test_shape();
    test_apply();
    test_sql();
    test_count();
    test_brute_force();

    apr_pool_destroy(pool);
    apr_terminate();
    return tap_done();
}
