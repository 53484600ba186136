/*
 * query_headers.h: what query.c and query_headers.c share. Core-internal.
 */
#ifndef AR_QUERY_HEADERS_H
#define AR_QUERY_HEADERS_H

#include "autorest.h"

/* A non-negative decimal integer up to AR_MAX_COUNT, nothing else. */
int ar_query_count(const char *s, apr_int64_t *out);
/* Range: "items=0-9", "0-9", "10-" (items), into out's offset and limit. */
ar_error *ar_query_range(apr_pool_t *p, const char *range, const char *unit,
                         ar_read_request *out);
/* Prefer, into out's count, strict and write preferences. */
ar_error *ar_query_prefer(apr_pool_t *p, const char *header, ar_read_request *out);
/* Accept with q-values, into the media type produced; for a plan, its
 * EXPLAIN options (", ANALYZE, VERBOSE", or "") into *plan_options. html:
 * text/html, when listed first, is a browser's and wins (ar_html.h). */
ar_error *ar_query_accept(apr_pool_t *p, const char *header, ar_media *out,
                          const char **plan_options, int html);

#endif
