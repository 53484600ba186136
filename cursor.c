/*
 * cursor.c: keyset pagination cursors.
 *
 * Pure core (APR and jansson). A cursor names the last row of a page by the
 * values of its sort key, so the next page is "rows after these values" and
 * costs an index range scan whatever its depth, where OFFSET reads and drops
 * every row before it. The token is opaque to clients:
 *
 *   base64url(JSON [position, v1, ..., vn]) "." base64url(MAC)
 *
 * where position is the number of rows before the next page (for
 * Content-Range only) and MAC is HMAC-SHA1, keyed by the server's secret,
 * over the query's shape (relation, order terms) and the payload. A token
 * from another query, another server or a forger fails the MAC and is a 400
 * before any SQL runs; the values, once trusted, are still only ever bound
 * parameters.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_base64.h>
#include <apr_lib.h>
#include <apr_sha1.h>
#include <apr_strings.h>
#include <jansson.h>

#include "autorest.h"

#define MAC_BYTES 16   /* of SHA-1's 20: 128 bits is plenty against forgery */

static void hmac_sha1(const unsigned char *key, apr_size_t key_len, const char *a,
                      apr_size_t a_len, const char *b, apr_size_t b_len,
                      unsigned char out[APR_SHA1_DIGESTSIZE])
{
    unsigned char k[64], pad[64], inner[APR_SHA1_DIGESTSIZE];
    apr_sha1_ctx_t ctx;
    int i;

    memset(k, 0, sizeof(k));
    if (key_len > sizeof(k)) {
        apr_sha1_init(&ctx);
        apr_sha1_update_binary(&ctx, key, (unsigned int)key_len);
        apr_sha1_final(k, &ctx);
    }
    else {
        memcpy(k, key, key_len);
    }
    for (i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x36;
    apr_sha1_init(&ctx);
    apr_sha1_update_binary(&ctx, pad, 64);
    apr_sha1_update_binary(&ctx, (const unsigned char *)a, (unsigned int)a_len);
    apr_sha1_update_binary(&ctx, (const unsigned char *)"", 1); /* separates a from b */
    apr_sha1_update_binary(&ctx, (const unsigned char *)b, (unsigned int)b_len);
    apr_sha1_final(inner, &ctx);
    for (i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x5c;
    apr_sha1_init(&ctx);
    apr_sha1_update_binary(&ctx, pad, 64);
    apr_sha1_update_binary(&ctx, inner, APR_SHA1_DIGESTSIZE);
    apr_sha1_final(out, &ctx);
}

static char *base64url(apr_pool_t *p, const unsigned char *data, apr_size_t len)
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

/* NULL unless s is base64url and nothing else. */
static unsigned char *unbase64url(apr_pool_t *p, const char *s, apr_size_t len,
                                  apr_size_t *out_len)
{
    char *std = apr_palloc(p, len + 4);
    unsigned char *out;
    apr_size_t i;

    for (i = 0; i < len; i++) {
        char c = s[i];
        if (c == '-')
            c = '+';
        else if (c == '_')
            c = '/';
        else if (!apr_isalnum(c))
            return NULL;
        std[i] = c;
    }
    while (i % 4)
        std[i++] = '=';
    std[i] = '\0';
    out = apr_palloc(p, (apr_size_t)apr_base64_decode_len(std) + 1);
    *out_len = (apr_size_t)apr_base64_decode_binary(out, std);
    out[*out_len] = '\0';
    return out;
}

/* Each part as "<length>:<bytes>", so no name or key can imitate another
 * split of the same text. */
static void shape_part(ar_out *o, const char *s)
{
    apr_size_t len = strlen(s);

    ar_out_puts(o, apr_off_t_toa(o->pool, (apr_off_t)len));
    ar_out_write(o, ":", 1);
    ar_out_write(o, s, len);
}

/* Written straight into one buffer, not by apr_psprintf per part: the
 * shape is made for every page that has a next one. */
const char *ar_cursor_shape(apr_pool_t *p, const ar_read_plan *plan)
{
    ar_out shape;
    int i, j;

    ar_out_init(&shape, p, 256, NULL, NULL);
    shape_part(&shape, plan->relation->schema);
    shape_part(&shape, plan->relation->name);
    for (i = 0; i < plan->order->nelts; i++) {
        const ar_order_term *t = &APR_ARRAY_IDX(plan->order, i, ar_order_term);
        char term[] = "term00";

        term[4] = (char)('0' + (t->desc != 0));
        term[5] = (char)('0' + (int)t->nulls);
        shape_part(&shape, term);
        shape_part(&shape, t->column->name);
        for (j = 0; t->path && j < t->path->nelts; j++) {
            const ar_path_step *st = &APR_ARRAY_IDX(t->path, j, ar_path_step);
            shape_part(&shape, st->as_text ? "->>" : "->");
            shape_part(&shape, st->key);
        }
    }
    ar_out_write(&shape, "", 1); /* ends the text */
    return shape.buf;
}

char *ar_cursor_encode(apr_pool_t *p, const unsigned char *key, apr_size_t key_len,
                       const char *shape, apr_int64_t position,
                       const char *const *values, int n)
{
    unsigned char mac[APR_SHA1_DIGESTSIZE];
    ar_out payload;
    int i;

    /* The JSON array written directly: json_dumps of the same array cost a
     * 100-row page 4,000 instructions, a fifth of what its Link header did. */
    ar_out_init(&payload, p, 256, NULL, NULL);
    ar_out_write(&payload, "[", 1);
    ar_out_puts(&payload, apr_off_t_toa(p, (apr_off_t)position));
    for (i = 0; i < n; i++) {
        apr_size_t len = values[i] ? strlen(values[i]) : 0;

        ar_out_write(&payload, ",", 1);
        if (!values[i])
            ar_out_write(&payload, "null", 4);
        else if (ar_utf8_valid(values[i], len))
            ar_json_write_string(&payload, values[i], len);
        else
            return NULL; /* not UTF-8: no cursor; the caller pages on by offset */
    }
    ar_out_write(&payload, "]", 1);
    hmac_sha1(key, key_len, shape, strlen(shape), payload.buf, payload.len, mac);
    return apr_pstrcat(p, base64url(p, (unsigned char *)payload.buf, payload.len), ".",
                       base64url(p, mac, MAC_BYTES), NULL);
}

static ar_error *bad_cursor(apr_pool_t *p, const char *why)
{
    return ar_error_make(p, AR_ERR_BAD_CURSOR, "the cursor is not valid for this query", why,
                         "follow the Link rel=\"next\" of the previous page, or start again "
                         "without a cursor");
}

/* Constant time, so the MAC cannot be guessed byte by byte. */
static int same_bytes(const unsigned char *a, const unsigned char *b, apr_size_t n)
{
    unsigned char diff = 0;
    apr_size_t i;

    for (i = 0; i < n; i++)
        diff |= a[i] ^ b[i];
    return diff == 0;
}

ar_error *ar_cursor_decode(apr_pool_t *p, const unsigned char *key, apr_size_t key_len,
                           const char *shape, const char *token, int n,
                           apr_int64_t *position, const char ***values)
{
    const char *dot = strchr(token, '.');
    unsigned char *payload, *mac, want[APR_SHA1_DIGESTSIZE];
    apr_size_t payload_len, mac_len;
    json_t *doc;
    int i;

    if (!dot)
        return bad_cursor(p, "malformed");
    payload = unbase64url(p, token, (apr_size_t)(dot - token), &payload_len);
    mac = unbase64url(p, dot + 1, strlen(dot + 1), &mac_len);
    if (!payload || !mac || mac_len != MAC_BYTES || payload_len == 0)
        return bad_cursor(p, "malformed");
    /* Only the one text we would have written: base64 lets several texts
     * (spare low bits, a dangling character) decode to the same bytes. */
    if (strncmp(base64url(p, payload, payload_len), token, (apr_size_t)(dot - token)) != 0
        || strlen(base64url(p, payload, payload_len)) != (apr_size_t)(dot - token)
        || strcmp(base64url(p, mac, mac_len), dot + 1) != 0)
        return bad_cursor(p, "malformed");
    hmac_sha1(key, key_len, shape, strlen(shape), (const char *)payload, payload_len, want);
    if (!same_bytes(mac, want, MAC_BYTES))
        return bad_cursor(p, "it was made for another query, another caller or another server");
    /* Signed by us: well formed unless the secret leaked, but checked anyway. */
    doc = json_loadb((const char *)payload, payload_len, 0, NULL);
    if (!json_is_array(doc) || (int)json_array_size(doc) != n + 1
        || !json_is_integer(json_array_get(doc, 0)) || json_integer_value(json_array_get(doc, 0)) < 0
        || json_integer_value(json_array_get(doc, 0)) > AR_MAX_COUNT) {
        json_decref(doc);
        return bad_cursor(p, "malformed");
    }
    *position = json_integer_value(json_array_get(doc, 0));
    *values = apr_pcalloc(p, sizeof(char *) * (n + 1));
    for (i = 0; i < n; i++) {
        json_t *v = json_array_get(doc, i + 1);
        if (json_is_string(v))
            (*values)[i] = apr_pstrmemdup(p, json_string_value(v), json_string_length(v));
        else if (!json_is_null(v)) {
            json_decref(doc);
            return bad_cursor(p, "malformed");
        }
    }
    json_decref(doc);
    return NULL;
}
