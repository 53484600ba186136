/*
 * mod_autorest_conditional.c: what lets httpd's caches and the client's
 * work for the API: Vary, Cache-Control, and an ETag with If-None-Match
 * on every answer held whole (up to HOLD_BYTES) to a GET or HEAD.
 *
 * The ETag is a 64-bit hash of the body and of the headers that shape it,
 * computed once the body is complete and before its first byte goes out:
 * the body is in memory then anyway, so the hash reads it once more at
 * memory speed. It is not a secret or a signature: a cache compares it
 * with what it holds, nothing more. A body that streams (past HOLD_BYTES)
 * has no ETag: its headers leave before its last byte exists.
 */
#include <string.h>

#include <apr_strings.h>
#include <http_protocol.h>

#include "mod_autorest_glue.h"

/* The headers besides the body that make two answers different. */
static const char *const shaping_headers[] = {
    "Content-Type", "Content-Range", "Content-Profile", "Preference-Applied", "Link",
    "Location", NULL};

/* Four lanes, so that the multiplies of neighbouring words overlap. */
typedef struct {
    apr_uint64_t lane[4];
    apr_uint64_t bytes;
} body_hash;

static const apr_uint64_t lane_mul[4] = {
    APR_UINT64_C(0x9e3779b97f4a7c15), APR_UINT64_C(0xbf58476d1ce4e5b9),
    APR_UINT64_C(0x94d049bb133111eb), APR_UINT64_C(0xff51afd7ed558ccd)};

static void hash_init(body_hash *bh)
{
    int i;

    for (i = 0; i < 4; i++)
        bh->lane[i] = lane_mul[i] >> 7;
    bh->bytes = 0;
}

/* Each 8-byte word is xored into its lane and multiplied by an odd
 * constant: a change in any word changes its lane (an odd multiplier loses
 * nothing of the difference's lowest bit), and finish_hash mixes the lanes
 * down. About half an instruction per byte: the hash of a page costs a
 * small part of encoding it. A chunk is padded to whole words with zeros;
 * the byte count, mixed in at the end, tells a padded chunk apart. */
static void hash_add(body_hash *bh, const char *data, apr_size_t len)
{
    apr_uint64_t a = bh->lane[0], b = bh->lane[1], c = bh->lane[2], d = bh->lane[3], w[4];
    char tail[32];
    apr_size_t i;

    /* four scalar lanes: the compiler's vector form of 64-bit multiplies
     * (SSE2 has none) costs twice the instructions */
    for (i = 0; i < len; i += 32) {
        const char *words = data + i;
        if (len - i < 32) {
            memset(tail, 0, sizeof(tail));
            memcpy(tail, words, len - i);
            words = tail;
        }
        memcpy(w, words, sizeof(w));
        a = (a ^ w[0]) * lane_mul[0];
        b = (b ^ w[1]) * lane_mul[1];
        c = (c ^ w[2]) * lane_mul[2];
        d = (d ^ w[3]) * lane_mul[3];
    }
    bh->lane[0] = a ^ (a >> 31);
    bh->lane[1] = b ^ (b >> 31);
    bh->lane[2] = c ^ (c >> 31);
    bh->lane[3] = d ^ (d >> 31);
    bh->bytes += len;
}

static apr_uint64_t hash_value(const body_hash *bh)
{
    apr_uint64_t h = bh->bytes * lane_mul[0];
    int i;

    for (i = 0; i < 4; i++) {
        h = (h ^ bh->lane[i]) * lane_mul[(i + 1) % 4];
        h ^= h >> 29;
    }
    return h;
}

/* Whether tag is etag with the suffix mod_deflate or mod_brotli adds when
 * they compress ("ar-...-gzip"): the same representation, encoded. */
static int same_but_encoded(const char *tag, const char *etag)
{
    static const char *const suffixes[] = {"-gzip\"", "-br\"", NULL};
    apr_size_t n = strlen(etag) - 1; /* up to its closing quote */
    int i;

    if (strncmp(tag, etag, n) != 0)
        return 0;
    for (i = 0; suffixes[i]; i++)
        if (strcmp(tag + n, suffixes[i]) == 0)
            return 1;
    return 0;
}

/* Whether If-None-Match names etag (or *): the weak comparison that
 * RFC 9110 asks for a GET. */
static int none_match(request_rec *r, const char *etag)
{
    const char *header = apr_table_get(r->headers_in, "If-None-Match");
    char *copy, *state = NULL, *tag;

    if (!header)
        return 0;
    copy = apr_pstrdup(r->pool, header);
    for (tag = apr_strtok(copy, ", \t", &state); tag; tag = apr_strtok(NULL, ", \t", &state)) {
        if (strcmp(tag, "*") == 0)
            return 1;
        if (strncmp(tag, "W/", 2) == 0)
            tag += 2;
        if (strcmp(tag, etag) == 0 || same_but_encoded(tag, etag))
            return 1;
    }
    return 0;
}

/* ETag from the hash so far plus the shaping headers; 1 when the client
 * holds it already: the answer is then 304, without a body. */
static int finish(request_rec *r, body_hash *bh)
{
    const char *etag;
    int i;

    for (i = 0; shaping_headers[i]; i++) {
        const char *v = apr_table_get(r->headers_out, shaping_headers[i]);
        if (!v && i == 0)
            v = r->content_type;
        if (v)
            hash_add(bh, v, strlen(v));
        hash_add(bh, "\n", 1);
    }
    etag = apr_psprintf(r->pool, "\"ar-%016" APR_UINT64_T_HEX_FMT "\"", hash_value(bh));
    apr_table_setn(r->headers_out, "ETag", etag);
    if (!none_match(r, etag))
        return 0;
    r->status = HTTP_NOT_MODIFIED;
    r->status_line = NULL;
    return 1;
}

static int tagged(const request_rec *r)
{
    return r->method_number == M_GET && (r->status == HTTP_OK || r->status == HTTP_PARTIAL_CONTENT);
}

int ar_cond_body(request_rec *r, const char *body, apr_size_t len)
{
    body_hash bh;

    if (!tagged(r))
        return 0;
    hash_init(&bh);
    hash_add(&bh, body, len);
    return finish(r, &bh);
}

int ar_cond_brigade(request_rec *r, apr_bucket_brigade *bb)
{
    body_hash bh;
    apr_bucket *b;

    if (!tagged(r))
        return 0;
    hash_init(&bh);
    for (b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb); b = APR_BUCKET_NEXT(b)) {
        const char *data;
        apr_size_t len;
        /* the held body is pool buckets: reading one copies nothing */
        if (APR_BUCKET_IS_METADATA(b) || apr_bucket_read(b, &data, &len, APR_BLOCK_READ))
            continue;
        hash_add(&bh, data, len);
    }
    return finish(r, &bh);
}

void ar_cond_request_headers(request_rec *r, const settings *s, const ar_request_info *request)
{
    const char *cc = s->cache_control;

    if (r->method_number != M_GET)
        return;
    /* what the answer depends on besides the URL; with roles, who asks */
    apr_table_mergen(r->headers_out, "Vary", "Accept, Prefer, Range, Accept-Profile");
    if (s->role_source != ROLE_NONE)
        apr_table_mergen(r->headers_out, "Vary", "Authorization, Cookie");
    /* an answer for one authenticated role is no shared cache's to keep,
     * unless the admin said public */
    if (s->role_source != ROLE_NONE && !request->anonymous
        && !(cc && ap_strcasestr(cc, "public")))
        cc = cc ? apr_pstrcat(r->pool, "private, ", cc, NULL) : "private";
    if (cc)
        apr_table_setn(r->headers_out, "Cache-Control", cc);
}

void ar_cond_forget(request_rec *r)
{
    apr_table_unset(r->headers_out, "ETag");
    apr_table_unset(r->headers_out, "Cache-Control");
}
