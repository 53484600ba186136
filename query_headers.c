/*
 * query_headers.c: the request headers the read and write grammars take:
 * Range (and Range-Unit), Prefer, Accept. Pure core, beside query.c, which
 * calls these after the query string.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "autorest.h"
#include "query_headers.h"
#include "ar_html.h"

/* "items=0-9", "0-9", "10-" (items). */
ar_error *ar_query_range(apr_pool_t *p, const char *range, const char *unit,
                         ar_read_request *out)
{
    const char *dash;
    apr_int64_t first, last;
    char *a;

    if (unit && strcasecmp(unit, "items") != 0)
        return ar_error_make(p, AR_ERR_BAD_RANGE, "Range-Unit must be 'items'",
                             NULL, NULL);
    if (strncasecmp(range, "items=", 6) == 0)
        range += 6;
    dash = strchr(range, '-');
    if (!dash)
        goto bad;
    a = apr_pstrmemdup(p, range, (apr_size_t)(dash - range));
    if (!ar_query_count(a, &first))
        goto bad;
    if (dash[1] == '\0') {
        out->offset = first;
        out->ranged = 1;
        return NULL;
    }
    if (!ar_query_count(dash + 1, &last))
        goto bad;
    if (last < first)
        return ar_error_make(p, AR_ERR_RANGE_UNSATISFIABLE,
                             "Requested range not satisfiable",
                             apr_psprintf(p, "the range ends before it starts: %s", range),
                             NULL);
    out->offset = first;
    out->limit = last - first + 1;
    out->ranged = 1;
    return NULL;
bad:
    return ar_error_make(p, AR_ERR_BAD_RANGE, "the Range header could not be read",
                         apr_psprintf(p, "expected 'first-last' or 'first-' in items, got '%s'",
                                      range),
                         "Range: 0-24");
}

static char *trim(char *s)
{
    char *e;

    while (apr_isspace(*s))
        s++;
    e = s + strlen(s);
    while (e > s && apr_isspace(e[-1]))
        *--e = '\0';
    return s;
}

/* Prefer (RFC 7240): count=, handling=, and for a write return=,
 * resolution=, missing=, max-affected=, tx=. Preferences that do not apply
 * are ignored unless handling=strict. */
ar_error *ar_query_prefer(apr_pool_t *p, const char *header, ar_read_request *out)
{
    char *copy = apr_pstrdup(p, header), *state = NULL, *tok;
    const char *unknown = NULL;
    ar_write_request *w = &out->write;
    int write = w->kind != AR_WRITE_NONE;

    for (tok = apr_strtok(copy, ",", &state); tok; tok = apr_strtok(NULL, ",", &state)) {
        tok = trim(tok);
        if (strcmp(tok, "count=exact") == 0)
            out->count = AR_COUNT_EXACT;
        else if (strcmp(tok, "count=planned") == 0)
            out->count = AR_COUNT_PLANNED;
        else if (strcmp(tok, "count=estimated") == 0)
            out->count = AR_COUNT_ESTIMATED;
        else if (strcmp(tok, "handling=strict") == 0)
            out->strict = 1;
        else if (strcmp(tok, "handling=lenient") == 0)
            out->strict = 0;
        else if (out->routine && strcmp(tok, "params=single-object") == 0)
            out->call_single_object = 1;
        else if (write && strcmp(tok, "return=minimal") == 0)
            w->ret = AR_RETURN_MINIMAL, w->ret_asked = 1;
        else if (write && strcmp(tok, "return=headers-only") == 0)
            w->ret = AR_RETURN_HEADERS, w->ret_asked = 1;
        else if (write && strcmp(tok, "return=representation") == 0)
            w->ret = AR_RETURN_REPRESENTATION, w->ret_asked = 1;
        else if (write && strcmp(tok, "resolution=merge-duplicates") == 0)
            w->resolution = AR_RESOLVE_MERGE;
        else if (write && strcmp(tok, "resolution=ignore-duplicates") == 0)
            w->resolution = AR_RESOLVE_IGNORE;
        else if (write && strcmp(tok, "missing=default") == 0)
            w->missing_default = 1;
        else if (write && strcmp(tok, "missing=null") == 0)
            w->missing_default = 0;
        else if (write && strcmp(tok, "tx=rollback") == 0)
            w->tx_rollback = 1, w->tx_asked = 1;
        else if (write && strcmp(tok, "tx=commit") == 0)
            w->tx_rollback = 0, w->tx_asked = 1;
        else if (write && strncmp(tok, "max-affected=", 13) == 0) {
            char *end;
            apr_int64_t n = apr_strtoi64(tok + 13, &end, 10);
            if (tok[13] && !*end && n >= 0 && n <= AR_MAX_COUNT)
                w->max_affected = n;
            else if (!unknown)
                unknown = tok;
        }
        else if (*tok && !unknown)
            unknown = tok;
    }
    if (out->strict && unknown)
        return ar_error_make(p, AR_ERR_BAD_PREFER,
                             apr_psprintf(p, "preference '%s' cannot be applied", unknown), NULL,
                             write ? "with handling=strict, a write takes count=, return=, "
                                     "resolution=, missing=, max-affected= and tx="
                                   : "with handling=strict, a read takes "
                                     "count=exact|planned|estimated");
    return NULL;
}

/* PostgREST's options=analyze|verbose|settings|buffers|wal of a plan, as
 * EXPLAIN's options; one it does not know is left out. */
static const char *plan_options(apr_pool_t *p, const char *params)
{
    static const char *const known[] = {"analyze", "verbose", "settings", "buffers", "wal",
                                        NULL};
    const char *opts = params ? strstr(params, "options=") : NULL, *out = "";
    char *copy, *state = NULL, *o;
    int i;

    if (!opts)
        return "";
    copy = apr_pstrndup(p, opts + 8, strcspn(opts + 8, ";"));
    for (o = apr_strtok(copy, "|", &state); o; o = apr_strtok(NULL, "|", &state)) {
        o = trim(o);
        for (i = 0; known[i]; i++)
            if (strcasecmp(o, known[i]) == 0)
                out = apr_pstrcat(p, out, ", ", known[i], NULL);
    }
    return apr_pstrdup(p, out);
}

/* Accept with q-values: the most preferred type we produce wins; ties go
 * to the one listed first. No Accept at all means JSON. */
ar_error *ar_query_accept(apr_pool_t *p, const char *header, ar_media *out,
                          const char **plan_opts, int html)
{
    char *copy = apr_pstrdup(p, header), *state = NULL, *range;
    double best_q = -1;

    if (html && ar_html_accepted_first(header)) {
        *out = AR_MEDIA_HTML;
        return NULL;
    }
    for (range = apr_strtok(copy, ",", &state); range; range = apr_strtok(NULL, ",", &state)) {
        char *params = strchr(range, ';'), *type;
        double q = 1.0;
        ar_media media;

        if (params) {
            char *qp = strstr(params, "q=");
            *params++ = '\0';
            if (qp)
                q = atof(qp + 2);
        }
        type = trim(range);
        if (!strcasecmp(type, "application/json") || !strcasecmp(type, "application/*")
            || !strcmp(type, "*/*"))
            media = AR_MEDIA_JSON;
        else if (!strcasecmp(type, "application/vnd.pgrst.object+json")
                 || !strcasecmp(type, "application/vnd.pgrst.object"))
            media = AR_MEDIA_OBJECT;
        else if (!strcasecmp(type, "text/csv"))
            media = AR_MEDIA_CSV;
        else if (!strcasecmp(type, "application/x-ndjson"))
            media = AR_MEDIA_NDJSON;
        else if (!strcasecmp(type, "application/vnd.pgrst.plan")
                 || !strcasecmp(type, "application/vnd.pgrst.plan+text"))
            media = AR_MEDIA_PLAN_TEXT;
        else if (!strcasecmp(type, "application/vnd.pgrst.plan+json"))
            media = AR_MEDIA_PLAN_JSON;
        else if (!strcasecmp(type, "application/openapi+json"))
            media = AR_MEDIA_OPENAPI;
        else
            continue;
        if (q > best_q && q > 0) {
            best_q = q;
            *out = media;
            if (plan_opts)
                *plan_opts = plan_options(p, params);
        }
    }
    if (best_q < 0)
        return ar_error_make(p, AR_ERR_NOT_ACCEPTABLE, "none of the accepted media types is "
                             "produced here", apr_psprintf(p, "Accept: %s", header),
                             "application/json, application/vnd.pgrst.object+json, text/csv, "
                             "application/x-ndjson");
    return NULL;
}
