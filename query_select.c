/*
 * query_select.c: select= and order= of PostgREST's URL grammar, and the
 * name lists of columns= and on_conflict=, read into the request's items.
 *
 * Pure core, like query.c, whose lexical pieces it shares
 * (query_grammar.h). A cast's type name is written into SQL, so only a type
 * name passes; everything else is a name the planner checks against the
 * schema.
 */
#include <string.h>

#include <apr_strings.h>
#include <apr_lib.h>

#include "autorest.h"
#include "query_grammar.h"

/* Type names in casts are written into SQL, so only a type name passes: one
 * word (letters, digits, _, and dots for a schema), or one of SQL's
 * multi-word names, then any number of []. Nothing else can follow it. */
static int valid_type_name(const char *t)
{
    static const char *const multi_word[] = {
        "double precision", "character varying", "bit varying",
        "timestamp with time zone", "timestamp without time zone",
        "time with time zone", "time without time zone", NULL};
    const char *const *m;
    const char *s = t;

    for (m = multi_word; *m; m++)
        if (strncasecmp(t, *m, strlen(*m)) == 0) {
            s = t + strlen(*m);
            break;
        }
    if (!*m) {
        if (!apr_isalpha(*s) && *s != '_')
            return 0;
        while (apr_isalnum(*s) || *s == '_' || *s == '.')
            s++;
    }
    while (s[0] == '[' && s[1] == ']')
        s += 2;
    return *s == '\0';
}

/* A name that cannot be read in select= or order= is a bad value of that
 * parameter (AR102), not a bad filter. */
static ar_error *as_bad_param(ar_error *e)
{
    if (e && e->kind == AR_ERR_BAD_OPERATOR) {
        e->kind = AR_ERR_BAD_PARAM;
        e->code = ar_error_code(AR_ERR_BAD_PARAM);
        e->hint = NULL;
    }
    return e;
}

/* A cast of select=, written into SQL: a type name or a 400 saying so. */
static ar_error *check_cast(apr_pool_t *p, const char *cast, const char *example)
{
    if (valid_type_name(cast))
        return NULL;
    return ar_error_make(p, AR_ERR_BAD_PARAM, apr_psprintf(p, "'%s' is not a type name", cast),
                         NULL, apr_psprintf(p, "casts look like %s", example));
}

/* A select item's field and its ::cast, if any, from *sp; advances past
 * both. example: how a cast is written where this item stands. */
static ar_error *parse_cast_field(apr_pool_t *p, const char **sp, ar_select_item *it,
                                  const char *example)
{
    ar_error *e;

    if ((e = ar_query_parse_field(p, sp, ":", &it->field)) != NULL)
        return as_bad_param(e);
    if ((*sp)[0] == ':' && (*sp)[1] == ':') {
        it->cast = apr_pstrdup(p, *sp + 2);
        if ((e = check_cast(p, it->cast, example)) != NULL)
            return e;
        *sp += strlen(*sp);
    }
    return NULL;
}

static ar_error *parse_select_at(apr_pool_t *p, const char *text, int depth,
                                 apr_array_header_t **out);

/* [...]rel[!hint][!inner|!left](select list), after the alias. */
static ar_error *parse_embed(apr_pool_t *p, const char *s, int depth,
                             const ar_embed_request **out)
{
    ar_embed_request *em = apr_pcalloc(p, sizeof(*em));
    const char *start = s, *close;
    char *word;

    if (depth >= AR_MAX_EMBED_DEPTH)
        return ar_error_make(p, AR_ERR_TOO_DEEP, "embedded resources nest too deep",
                             apr_psprintf(p, "at most %d levels", AR_MAX_EMBED_DEPTH), NULL);
    if (strncmp(s, "...", 3) == 0) {
        em->spread = 1;
        s += 3;
    }
    em->name = ar_query_read_name(p, &s, "!(");
    if (!em->name || !*em->name)
        goto bad;
    while (*s == '!') {
        s++;
        word = ar_query_read_name(p, &s, "!(");
        if (!word || !*word)
            goto bad;
        if (strcmp(word, "inner") == 0)
            em->inner = 1;
        else if (strcmp(word, "left") == 0)
            em->inner = 0;
        else if (em->hint)
            return ar_error_make(p, AR_ERR_BAD_PARAM, "could not read select",
                                 apr_psprintf(p, "'%s' has two hints", em->name),
                                 "one !fk_name or !column per embedded resource");
        else
            em->hint = word;
    }
    if (*s != '(')
        goto bad;
    close = ar_query_item_end(s + 1, ")");
    if (*close != ')' || close[1] != '\0')
        goto bad;
    if (close == s + 1)
        em->select = apr_array_make(p, 1, sizeof(ar_select_item));
    else {
        ar_error *e = parse_select_at(p, apr_pstrmemdup(p, s + 1, (apr_size_t)(close - s - 1)),
                                      depth + 1, &em->select);
        if (e)
            return e;
    }
    *out = em;
    return NULL;
bad:
    return ar_error_make(p, AR_ERR_BAD_PARAM, "could not read select",
                         apr_psprintf(p, "at '%s'", start),
                         "embed as rel(cols), alias:rel(cols), rel!fk_name(cols)");
}

/* col.sum(), col::int.avg(), col.count(), count(), each with ::type after:
 * PostgREST 12's aggregates (the planner says whether the Location allows
 * them). it->agg stays AR_AGG_NONE for anything else. */
static ar_error *parse_aggregate(apr_pool_t *p, const char *s, ar_select_item *it)
{
    static const struct {
        const char *name;
        ar_aggregate agg;
    } fns[] = {{"count", AR_AGG_COUNT}, {"sum", AR_AGG_SUM}, {"avg", AR_AGG_AVG},
               {"min", AR_AGG_MIN},     {"max", AR_AGG_MAX}, {NULL, AR_AGG_NONE}};
    const char *call = NULL, *after = NULL, *q;
    ar_aggregate agg = AR_AGG_NONE;
    ar_error *e;
    int i;

    /* the item's last "fn()", at its start or after a '.' */
    for (i = 0; fns[i].name; i++) {
        size_t n = strlen(fns[i].name);

        for (q = s; (q = strstr(q, fns[i].name)) != NULL; q++)
            if (strncmp(q + n, "()", 2) == 0 && (q == s || q[-1] == '.') && (!call || q > call)) {
                call = q;
                after = q + n + 2;
                agg = fns[i].agg;
            }
    }
    if (!call || (*after && strncmp(after, "::", 2) != 0))
        return NULL;
    if (call == s && agg != AR_AGG_COUNT)
        return ar_error_make(p, AR_ERR_BAD_PARAM, "could not read select",
                             apr_psprintf(p, "'%s' aggregates no column", s),
                             "col.sum(), col.avg(), col.min(), col.max(), col.count(), count()");
    if (call > s) {
        const char *arg = apr_pstrmemdup(p, s, (apr_size_t)(call - 1 - s)), *a = arg;

        if ((e = parse_cast_field(p, &a, it, "col::numeric.sum()")) != NULL)
            return e;
        if (*a || !*arg)
            return ar_error_make(p, AR_ERR_BAD_PARAM, "could not read select",
                                 apr_psprintf(p, "at '%s'", s), "col.sum() or col::int.sum()");
    }
    if (*after) {
        it->agg_cast = apr_pstrdup(p, after + 2);
        if ((e = check_cast(p, it->agg_cast, "col.sum()::text")) != NULL)
            return e;
    }
    it->agg = agg;
    return NULL;
}

ar_error *ar_query_parse_select(apr_pool_t *p, const char *text, apr_array_header_t **out)
{
    return parse_select_at(p, text, 0, out);
}

static ar_error *parse_select_at(apr_pool_t *p, const char *text, int depth,
                                 apr_array_header_t **out)
{
    apr_array_header_t *items = ar_query_split_items(p, text);
    int i;

    *out = apr_array_make(p, items->nelts, sizeof(ar_select_item));
    for (i = 0; i < items->nelts; i++) {
        const char *s = APR_ARRAY_IDX(items, i, const char *);
        const char *colon = NULL, *q;
        ar_select_item *it = apr_array_push(*out);
        ar_error *e;

        memset(it, 0, sizeof(*it));
        while (*s == ' ')
            s++;
        if (strcmp(s, "*") == 0) {
            it->field.column = "*";
            continue;
        }
        /* alias: a plain or quoted name, then one ':' not followed by another */
        q = s;
        if (*q == '"') {
            const char *tmp = q;
            if (ar_query_read_quoted(p, &tmp) && tmp[0] == ':' && tmp[1] != ':')
                colon = tmp;
        }
        else {
            for (; *q && !strchr(":(.-\"!", *q); q++)
                ;
            if (q[0] == ':' && q[1] != ':' && q > s)
                colon = q;
        }
        if (colon) {
            const char *a = s;
            it->alias = *a == '"' ? ar_query_read_quoted(p, &a)
                                  : apr_pstrmemdup(p, s, (apr_size_t)(colon - s));
            s = colon + 1;
        }
        if ((e = parse_aggregate(p, s, it)) != NULL)
            return e;
        if (it->agg)
            continue;
        if (strncmp(s, "...", 3) == 0 || ar_query_unquoted_char(s, "(!")) {
            if ((e = parse_embed(p, s, depth, &it->embed)) != NULL)
                return e;
            if (it->embed->spread && it->alias)
                return ar_error_make(p, AR_ERR_BAD_PARAM, "could not read select",
                                     "a spread embedding has no key to alias", NULL);
            continue;
        }
        if ((e = parse_cast_field(p, &s, it, "col::text or col::numeric")) != NULL)
            return e;
        if (*s)
            return ar_error_make(p, AR_ERR_BAD_PARAM, "could not read select",
                                 apr_psprintf(p, "at '%s'", s), "select=a,alias:b,c::text");
    }
    return NULL;
}

ar_error *ar_query_parse_order(apr_pool_t *p, const char *text, apr_array_header_t **out)
{
    apr_array_header_t *items = ar_query_split_items(p, text);
    int i;

    *out = apr_array_make(p, items->nelts, sizeof(ar_order_item));
    for (i = 0; i < items->nelts; i++) {
        const char *s = APR_ARRAY_IDX(items, i, const char *);
        ar_order_item *it = apr_array_push(*out);
        ar_error *e;

        memset(it, 0, sizeof(*it));
        while (*s == ' ')
            s++;
        if ((e = ar_query_parse_field(p, &s, ".", &it->field)) != NULL)
            return as_bad_param(e);
        while (*s == '.') {
            const char *word = s + 1, *end = strchr(word, '.');
            apr_size_t n = end ? (apr_size_t)(end - word) : strlen(word);

            if (n == 3 && strncmp(word, "asc", 3) == 0)
                it->desc = 0;
            else if (n == 4 && strncmp(word, "desc", 4) == 0)
                it->desc = 1;
            else if (n == 10 && strncmp(word, "nullsfirst", 10) == 0)
                it->nulls = AR_NULLS_FIRST;
            else if (n == 9 && strncmp(word, "nullslast", 9) == 0)
                it->nulls = AR_NULLS_LAST;
            else
                return ar_error_make(p, AR_ERR_BAD_PARAM, "could not read order",
                                     apr_psprintf(p, "unknown modifier '%.*s'", (int)n, word),
                                     "order=col.asc|desc[.nullsfirst|.nullslast]");
            s = word + n;
        }
        if (*s)
            return ar_error_make(p, AR_ERR_BAD_PARAM, "could not read order",
                                 apr_psprintf(p, "at '%s'", s), NULL);
    }
    return NULL;
}

/* columns= and on_conflict=: a comma-separated list of names, each once;
 * names may be double-quoted as in select=. */
ar_error *ar_query_parse_name_list(apr_pool_t *p, const char *param, const char *value,
                                   apr_array_header_t **out)
{
    apr_array_header_t *names = apr_array_make(p, 8, sizeof(const char *));
    const char *s = value;

    if (*out)
        return ar_error_make(p, AR_ERR_BAD_PARAM, apr_psprintf(p, "'%s' is given twice", param),
                             NULL, NULL);
    while (*s) {
        ar_field f;
        ar_error *e;
        int i;

        memset(&f, 0, sizeof(f));
        if ((e = ar_query_parse_field(p, &s, ",", &f)) != NULL)
            return e;
        if (f.path && f.path->nelts)
            return ar_error_make(p, AR_ERR_BAD_PARAM,
                                 apr_psprintf(p, "'%s' takes column names, not JSON paths",
                                              param), NULL, NULL);
        for (i = 0; i < names->nelts; i++)
            if (strcmp(APR_ARRAY_IDX(names, i, const char *), f.column) == 0)
                return ar_error_make(p, AR_ERR_BAD_PARAM,
                                     apr_psprintf(p, "'%s' names '%s' twice", param, f.column),
                                     NULL, NULL);
        APR_ARRAY_PUSH(names, const char *) = f.column;
        if (*s == ',' && s[1])
            s++;
        else if (*s)
            return ar_error_make(p, AR_ERR_BAD_PARAM,
                                 apr_psprintf(p, "'%s' is a comma-separated list of columns",
                                              param), NULL, NULL);
    }
    if (names->nelts == 0)
        return ar_error_make(p, AR_ERR_BAD_PARAM, apr_psprintf(p, "'%s' is empty", param),
                             NULL, NULL);
    *out = names;
    return NULL;
}
