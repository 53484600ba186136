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

#include <apr_lib.h>
#include <apr_strings.h>
#include <http_protocol.h>

#include "mod_autorest_glue.h"

/* The headers besides the body that make two answers different. */
static const char *const shaping_headers[] = {
    "Content-Type", "Content-Range", "Content-Profile", "Preference-Applied", "Link",
    "Location", NULL};

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
static int finish(request_rec *r, ar_hash *bh)
{
    static const char hex[] = "0123456789abcdef";
    const char *v[sizeof(shaping_headers) / sizeof(*shaping_headers)];
    char *etag;
    apr_uint64_t h;
    int i;

    const apr_array_header_t *out = apr_table_elts(r->headers_out);
    const apr_table_entry_t *e = (const apr_table_entry_t *)out->elts;
    int j;

    /* one pass over the headers (six apr_table_get cost 900 instructions),
     * the first of each name as apr_table_get would find it */
    memset(v, 0, sizeof(v));
    for (j = 0; j < out->nelts; j++) {
        if (!e[j].key)
            continue;
        for (i = 0; shaping_headers[i]; i++)
            if (!v[i] && apr_tolower(*e[j].key) == apr_tolower(*shaping_headers[i])
                && strcasecmp(e[j].key, shaping_headers[i]) == 0)
                v[i] = e[j].val;
    }
    for (i = 0; shaping_headers[i]; i++)
        if (!v[i])
            v[i] = i == 0 && r->content_type ? r->content_type : "";
    /* the headers as one text, each ended by a line feed: one pass */
    v[0] = apr_pstrcat(r->pool, v[0], "\n", v[1], "\n", v[2], "\n", v[3], "\n", v[4], "\n",
                       v[5], "\n", NULL);
    ar_hash_add(bh, v[0], strlen(v[0]));
    h = ar_hash_value(bh);
    etag = apr_palloc(r->pool, sizeof("\"ar-0123456789abcdef\""));
    memcpy(etag, "\"ar-", 4);
    for (i = 0; i < 16; i++)
        etag[4 + i] = hex[(h >> (60 - 4 * i)) & 15];
    memcpy(etag + 20, "\"", 2);
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
    ar_hash bh;

    if (!tagged(r))
        return 0;
    ar_hash_init(&bh);
    ar_hash_add(&bh, body, len);
    return finish(r, &bh);
}

int ar_cond_brigade(request_rec *r, apr_bucket_brigade *bb)
{
    ar_hash bh;
    apr_bucket *b;

    if (!tagged(r))
        return 0;
    ar_hash_init(&bh);
    for (b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb); b = APR_BUCKET_NEXT(b)) {
        const char *data;
        apr_size_t len;
        /* the held body is pool buckets: reading one copies nothing */
        if (APR_BUCKET_IS_METADATA(b) || apr_bucket_read(b, &data, &len, APR_BLOCK_READ))
            continue;
        ar_hash_add(&bh, data, len);
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
