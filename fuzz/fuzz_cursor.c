/*
 * fuzz_cursor.c: libFuzzer target for ar_cursor_decode, the one place a
 * keyset cursor from the client is read (cursor.c).
 *
 * Input layout: the first byte b picks the value count and the mode, the
 * rest is the input proper, copied into its own exactly-sized malloc() (NUL
 * terminated) so that AddressSanitizer sees any read past its end.
 *   n = 1 + (b & 3)     values the decoder is asked for (1..4)
 *   b & 0x80 == 0       the rest is a token, as a client sends it
 *   b & 0x80 != 0       the rest is a payload, signed here with the key, so
 *                       that the checks behind the MAC are reached too
 * The key (32 random bytes, fixed) and the query shape are fixed.
 *
 * Besides memory errors, leaks and undefined behaviour, the target aborts
 * when a result breaks what cursor.c promises:
 *   - a token is accepted only as ar_cursor_encode wrote it: re-encoding the
 *     decoded position and values gives back the very same token (anything
 *     else is a forgery, or a second spelling of a real token);
 *   - a decoded position is within 0..AR_MAX_COUNT, and exactly n values;
 *   - what decodes re-encodes to a token that decodes to the same position
 *     and values, and whose MAC is HMAC-SHA1(key, shape NUL payload), as
 *     computed here independently (which also checks the signing of mode 1).
 *
 * The target found, within two seconds of a first run from the seeds, that
 * the decoder took other base64 spellings of a real token (the unused low
 * bits of a MAC's last character); cursor.c now takes only the text it would
 * write. That input is the g_regress_mac_padding_bits seed.
 *
 * The seeds in fuzz/corpus/fuzz_cursor/ were made by this file's generator:
 *   clang -DCURSOR_SEED_MAIN $(apr-1-config --cflags --cppflags --includes) \
 *     $(apu-1-config --includes) $(pkg-config --cflags jansson libpq) -I include \
 *     fuzz/fuzz_cursor.c cursor.c error.c $(pkg-config --libs jansson libpq) \
 *     $(apu-1-config --link-ld --libs) $(apr-1-config --link-ld --libs) -o /tmp/gen \
 *     && /tmp/gen fuzz/corpus/fuzz_cursor
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_base64.h>
#include <apr_general.h>
#include <apr_pools.h>
#include <apr_sha1.h>
#include <apr_strings.h>

#include "autorest.h"

static const unsigned char key[32] = {
    0x55, 0xe7, 0x79, 0xc6, 0x3c, 0x09, 0x7d, 0xca, 0x30, 0xf8, 0x5f, 0xee, 0x8a, 0x41, 0xac, 0xbe,
    0x9f, 0x90, 0xa7, 0xc8, 0x48, 0xef, 0xba, 0x11, 0x80, 0x2c, 0x70, 0xac, 0xdc, 0x87, 0xfe, 0x90,
};
static const char shape[] = "public\x1f" "items\x1f" "score\x1f" "10\x1f" "info\x1f" "->>k\x1f"
                            "02\x1f" "id\x1f" "00";

static apr_pool_t *root;

static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_cursor: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    abort();
}

static char *b64url(apr_pool_t *p, const unsigned char *data, apr_size_t len)
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

/* The bytes of a base64url text (validity is not checked: the decoder did). */
static unsigned char *unb64url(apr_pool_t *p, const char *s, apr_size_t len, apr_size_t *out_len)
{
    char *std = apr_palloc(p, len + 4);
    unsigned char *out;
    apr_size_t i;

    for (i = 0; i < len; i++)
        std[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
    while (i % 4)
        std[i++] = '=';
    std[i] = '\0';
    out = apr_palloc(p, (apr_size_t)apr_base64_decode_len(std) + 1);
    *out_len = (apr_size_t)apr_base64_decode_binary(out, std);
    return out;
}

/* HMAC-SHA1(key, shape NUL payload), RFC 2104, written apart from cursor.c. */
static void hmac(const unsigned char *payload, apr_size_t len, unsigned char out[20])
{
    unsigned char k[64], pad[64], inner[APR_SHA1_DIGESTSIZE];
    apr_sha1_ctx_t ctx;
    int i;

    memset(k, 0, sizeof(k));
    memcpy(k, key, sizeof(key));
    for (i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x36;
    apr_sha1_init(&ctx);
    apr_sha1_update_binary(&ctx, pad, 64);
    apr_sha1_update_binary(&ctx, (const unsigned char *)shape, (unsigned int)strlen(shape));
    apr_sha1_update_binary(&ctx, (const unsigned char *)"", 1);
    apr_sha1_update_binary(&ctx, payload, (unsigned int)len);
    apr_sha1_final(inner, &ctx);
    for (i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x5c;
    apr_sha1_init(&ctx);
    apr_sha1_update_binary(&ctx, pad, 64);
    apr_sha1_update_binary(&ctx, inner, APR_SHA1_DIGESTSIZE);
    apr_sha1_final(out, &ctx);
}

static char *sign(apr_pool_t *p, const unsigned char *payload, apr_size_t len)
{
    unsigned char mac[APR_SHA1_DIGESTSIZE];

    hmac(payload, len, mac);
    return apr_pstrcat(p, b64url(p, payload, len), ".", b64url(p, mac, 16), NULL);
}

static int same_values(const char *const *a, const char *const *b, int n)
{
    int i;

    for (i = 0; i < n; i++)
        if ((a[i] == NULL) != (b[i] == NULL) || (a[i] && strcmp(a[i], b[i]) != 0))
            return 0;
    return 1;
}


static void check(apr_pool_t *p, const char *token, int n, int signed_here)
{
    apr_int64_t pos = -1, pos2 = -1;
    const char **values = NULL, **values2 = NULL;
    ar_error *e = ar_cursor_decode(p, key, sizeof(key), shape, token, n, &pos, &values);
    char *again;
    int i;

    if (e) {
        if (e->kind != AR_ERR_BAD_CURSOR || ar_error_status(e) != 400 || !e->message)
            fail("a refused cursor is not a 400 BAD_CURSOR", token);
        return;
    }
    if (pos < 0 || pos > AR_MAX_COUNT)
        fail("decoded position out of range", token);
    for (i = 0; i < n; i++)
        if (values[i])
            (void)strlen(values[i]); /* each a readable string */

    again = ar_cursor_encode(p, key, sizeof(key), shape, pos, values, n);
    if (!again)
        fail("what decoded does not encode again", token);
    if (!signed_here && strcmp(again, token) != 0)
        fail("accepted a token ar_cursor_encode did not make",
             apr_psprintf(p, "%s, re-encoded %s", token, again));
    if (ar_cursor_decode(p, key, sizeof(key), shape, again, n, &pos2, &values2) != NULL)
        fail("a re-encoded token does not decode", again);
    if (pos2 != pos || !same_values(values, values2, n))
        fail("a re-encoded token decodes to other values", again);
    {
        const char *dot = strchr(again, '.');
        apr_size_t pl;
        unsigned char *payload = unb64url(p, again, (apr_size_t)(dot - again), &pl);
        if (strcmp(sign(p, payload, pl), again) != 0)
            fail("the MAC is not HMAC-SHA1(key, shape NUL payload)", again);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (apr_initialize() != APR_SUCCESS || apr_pool_create(&root, NULL) != APR_SUCCESS)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    char *rest;
    int n;

    if (size < 1)
        return 0;
    n = 1 + (data[0] & 3);
    rest = malloc(size); /* size - 1 bytes and a NUL */
    if (!rest)
        abort();
    memcpy(rest, data + 1, size - 1);
    rest[size - 1] = '\0';
    apr_pool_create(&p, root);
    if (data[0] & 0x80)
        check(p, sign(p, (const unsigned char *)rest, size - 1), n, 1);
    else
        check(p, rest, n, 0);
    apr_pool_destroy(p);
    free(rest);
    return 0;
}

#ifdef CURSOR_SEED_MAIN
/* The seed generator (see the top of this file). */
static void seed(const char *dir, const char *name, unsigned char first, const char *rest,
                 size_t len)
{
    char *path = apr_pstrcat(root, dir, "/", name, NULL);
    FILE *f = fopen(path, "wb");

    if (!f || fwrite(&first, 1, 1, f) != 1 || fwrite(rest, 1, len, f) != len || fclose(f))
        fail("cannot write", path);
}

int main(int argc, char **argv)
{
    static const char *const v1[] = {"42"};
    static const char *const v2[] = {"caf\xc3\xa9 \"q\" \\", NULL};
    static const char *const v3[] = {"", "-7", "{\"a\":1}"};
    static const char *const v4[] = {NULL, NULL, "x", "2024-01-02 03:04:05+00"};
    static const struct {
        const char *name;
        apr_int64_t pos;
        const char *const *v;
        int n;
    } tokens[] = {
        {"token_n1", 10, v1, 1},
        {"token_n2", 0, v2, 2},
        {"token_n3", 123456, v3, 3},
        {"token_n4", AR_MAX_COUNT, v4, 4},
    };
    static const struct {
        const char *name, *payload;
        unsigned char first;
    } payloads[] = {
        {"payload_canonical", "[3,\"a\",null]", 0x81},
        {"payload_spaced", " [ 3 , \"a\" , null ] ", 0x81},
        {"payload_escapes", "[0,\"\\u00e9\\ud83d\\ude00\",\"\\\"\"]", 0x81},
        {"payload_negative", "[-1,\"a\"]", 0x80},
        {"payload_huge", "[99999999999999999999,\"a\"]", 0x80},
        {"payload_real", "[1.0,\"a\"]", 0x80},
        {"payload_number_value", "[1,2]", 0x80},
        {"payload_object", "{\"0\":1}", 0x80},
        {"payload_nul_escape", "[1,\"a\\u0000\"]", 0x80},
        {"payload_trailing", "[1,\"a\"] x", 0x80},
    };
    static const struct {
        const char *name, *text;
        unsigned char first;
    } garbage[] = {
        {"garbage_empty", "", 0}, {"garbage_dot", ".", 0}, {"garbage_two_dots", "a.b.c", 1},
        {"garbage_padding", "WzEsImEiXQ==.AAAAAAAAAAAAAAAAAAAAAA==", 0},
        {"garbage_std_base64", "WzEsImEiXQ+/.AAAAAAAAAAAAAAAAAAAAAA", 0},
    };
    size_t i;

    if (argc != 2) {
        fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
        return 2;
    }
    LLVMFuzzerInitialize(NULL, NULL);
    for (i = 0; i < sizeof(tokens) / sizeof(*tokens); i++) {
        char *t = ar_cursor_encode(root, key, sizeof(key), shape, tokens[i].pos, tokens[i].v,
                                   tokens[i].n);
        seed(argv[1], tokens[i].name, (unsigned char)(tokens[i].n - 1), t, strlen(t));
    }
    for (i = 0; i < sizeof(payloads) / sizeof(*payloads); i++)
        seed(argv[1], payloads[i].name, payloads[i].first, payloads[i].payload,
             strlen(payloads[i].payload));
    for (i = 0; i < sizeof(garbage) / sizeof(*garbage); i++)
        seed(argv[1], garbage[i].name, garbage[i].first, garbage[i].text,
             strlen(garbage[i].text));
    return 0;
}
#endif
