/*
 * query_grammar.h: the pieces of PostgREST's URL grammar that query.c and
 * query_select.c share. Core-internal.
 */
#ifndef AR_QUERY_GRAMMAR_H
#define AR_QUERY_GRAMMAR_H

#include "autorest.h"

/* Where the item starting at s ends: the first delimiter at nesting depth 0
 * outside double quotes. ([{ open and )]} close, matched or not, so a range
 * literal like [1,5) balances; a backslash escapes inside quotes. */
const char *ar_query_item_end(const char *s, const char *delims);
/* Whether s has one of chars outside double quotes. */
int ar_query_unquoted_char(const char *s, const char *chars);
/* s split on top-level commas. */
apr_array_header_t *ar_query_split_items(apr_pool_t *p, const char *s);
/* "text" with \" and \\ escapes, from *sp; advances past the closing quote.
 * NULL when unterminated. */
char *ar_query_read_quoted(apr_pool_t *p, const char **sp);
/* One name: "quoted" or plain up to a delimiter. */
char *ar_query_read_name(apr_pool_t *p, const char **sp, const char *stops);
/* column[->key|->>key]... from *sp; stops before any char in stops. */
ar_error *ar_query_parse_field(apr_pool_t *p, const char **sp, const char *stops, ar_field *f);

/* select=: columns, aliases, casts, aggregates and embedded resources
 * (query_select.c). */
ar_error *ar_query_parse_select(apr_pool_t *p, const char *text, apr_array_header_t **out);
/* order=: fields with .asc/.desc and .nullsfirst/.nullslast. */
ar_error *ar_query_parse_order(apr_pool_t *p, const char *text, apr_array_header_t **out);
/* columns= and on_conflict=: a comma-separated list of names, each once;
 * names may be double-quoted as in select=. */
ar_error *ar_query_parse_name_list(apr_pool_t *p, const char *param, const char *value,
                                   apr_array_header_t **out);

#endif
