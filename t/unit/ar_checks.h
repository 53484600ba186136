/* ar_checks.h: checks on the core's error values, shared by the unit tests
 * (after tap.h): is_err, no_err, is_int, and kind_name for diagnostics. */
#ifndef AR_CHECKS_H
#define AR_CHECKS_H
#include <stdio.h>
#include <stdlib.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "autorest.h"
#include "tap.h"

static const char *kind_name(const ar_error *e)
{
    static const char *names[] = {
        "UNKNOWN_PARAM", "BAD_PARAM", "BAD_RANGE", "RANGE_UNSATISFIABLE",
        "NO_RELATION", "NO_ROW", "NO_ROUTE", "METHOD", "DB_UNAVAILABLE",
        "DB_TIMEOUT", "DB_BAD_VALUE", "DB_PRIVILEGE", "DB_SCHEMA_CHANGED",
        "DB_QUERY", "CONFIG", "UNKNOWN_COLUMN", "UNSUPPORTED", "BAD_OPERATOR",
        "TOO_DEEP", "BAD_PREFER", "BAD_Q", "SINGLE_MANY", "NOT_ACCEPTABLE", "NOT_ONE_ROW",
        "UNKNOWN_PROFILE", "BAD_CURSOR", "NO_RELATIONSHIP", "AMBIGUOUS_EMBED",
        "BAD_BODY", "BODY_TOO_LARGE", "BAD_MEDIA", "UNFILTERED", "MAX_AFFECTED", "BAD_PUT",
        "DB_CONFLICT", "DB_CONSTRAINT", "DB_RETRY", "DB_RAISED", "DB_READ_ONLY",
        "NO_ROUTINE", "AMBIGUOUS_ROUTINE", "DB_CUSTOM", "BAD_RAISE", "NO_ROLE",
        "ROLE_REFUSED", "DB_PRIVILEGE_ANON", "TOO_MUCH", "REFUSED", "AGGREGATES_OFF",
    };
    if (!e)
        return "(no error)";
    if ((int)e->kind < 0 || e->kind >= AR_ERR__COUNT)
        return "(bad kind)";
    return names[e->kind];
}

/* A statement's bound values as "v1|v2|...", (NULL) for SQL NULL. */
static const char *sql_params_text(apr_pool_t *p, const ar_sql *sql)
{
    const char *s = "";
    int i;

    for (i = 0; i < sql->params->nelts; i++) {
        const char *v = APR_ARRAY_IDX(sql->params, i, const char *);
        s = apr_pstrcat(p, s, i ? "|" : "", v ? v : "(NULL)", NULL);
    }
    return s;
}

/* The number of distinct $n in a statement's text. */
static int sql_placeholders(const char *text)
{
    int seen[1000] = {0}, n = 0;

    for (; *text; text++)
        if (text[0] == '$' && apr_isdigit(text[1])) {
            int v = atoi(text + 1);
            if (v > 0 && v < 1000 && !seen[v]++)
                n++;
        }
    return n;
}

/* The statement of plan (unless planning failed with e) is want_sql with
 * want_params bound ("v1|v2"), and its distinct $n are exactly its params:
 * two assertions, or one more when the placeholders are off. */
static inline void statement_is(apr_pool_t *p, const ar_error *e, const ar_read_plan *plan,
                         const char *want_sql, const char *want_params, const char *what)
{
    ar_sql sql;

    if (e) {
        ok(0, "%s: SQL (%s: %s)", what, kind_name(e), e->message);
        ok(0, "%s: params", what);
        return;
    }
    ar_sql_render_read(p, plan, &sql);
    is_str(sql.text, want_sql, "%s: SQL", what);
    is_str(sql_params_text(p, &sql), want_params, "%s: params", what);
    if (sql_placeholders(sql.text) != sql.params->nelts)
        ok(0, "%s: %d placeholders for %d params", what, sql_placeholders(sql.text),
           sql.params->nelts);
}

#define is_err(e, want, ...)                                                 \
    do {                                                                     \
        const ar_error *e_ = (e);                                            \
        ok(e_ && e_->kind == (want), __VA_ARGS__);                           \
        if (!(e_ && e_->kind == (want)))                                     \
            printf("#   got %s%s%s\n", kind_name(e_), e_ ? ": " : "",      \
                   e_ && e_->message ? e_->message : "");                    \
    } while (0)

#define no_err(e, ...)                                                       \
    do {                                                                     \
        const ar_error *e_ = (e);                                            \
        ok(e_ == NULL, __VA_ARGS__);                                         \
        if (e_)                                                              \
            printf("#   got %s: %s%s%s\n", kind_name(e_),                   \
                   e_->message ? e_->message : "", e_->details ? " / " : "", \
                   e_->details ? e_->details : "");                          \
    } while (0)

#define is_int(got, want, ...)                                               \
    do {                                                                     \
        apr_int64_t g_ = (got), w_ = (want);                                 \
        ok(g_ == w_, __VA_ARGS__);                                           \
        if (g_ != w_)                                                        \
            printf("#          got: %" APR_INT64_T_FMT "\n#     expected: %"  \
                   APR_INT64_T_FMT "\n", g_, w_);                            \
    } while (0)

#endif
