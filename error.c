/*
 * error.c: errors as values, and the one table that maps them to HTTP.
 *
 * Pure core. Codes are stable API: clients match on them. Errors raised by
 * the database keep their SQLSTATE as code (as PostgREST does); ours are
 * "AR" plus three digits, grouped by the hundreds below.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <jansson.h>

#include "autorest.h"

static const struct {
    int status;
    const char *code;
} error_table[AR_ERR__COUNT] = {
    [AR_ERR_UNKNOWN_PARAM]      = {400, "AR101"},
    [AR_ERR_BAD_PARAM]          = {400, "AR102"},
    [AR_ERR_BAD_RANGE]          = {400, "AR103"},
    [AR_ERR_RANGE_UNSATISFIABLE] = {416, "AR104"},
    [AR_ERR_NO_RELATION]        = {404, "AR201"},
    [AR_ERR_NO_ROW]             = {404, "AR202"},
    [AR_ERR_NO_ROUTE]           = {404, "AR203"},
    [AR_ERR_METHOD]             = {405, "AR301"},
    [AR_ERR_DB_UNAVAILABLE]     = {503, "AR501"},
    [AR_ERR_DB_TIMEOUT]         = {504, "57014"},
    [AR_ERR_DB_BAD_VALUE]       = {400, "AR502"},
    [AR_ERR_DB_PRIVILEGE]       = {403, "42501"},
    [AR_ERR_DB_SCHEMA_CHANGED]  = {503, "AR503"},
    [AR_ERR_DB_QUERY]           = {500, "AR504"},
    [AR_ERR_CONFIG]             = {500, "AR601"},
    [AR_ERR_UNKNOWN_COLUMN]     = {400, "AR105"},
    [AR_ERR_UNSUPPORTED]        = {400, "AR106"},
    [AR_ERR_BAD_OPERATOR]       = {400, "AR107"},
    [AR_ERR_TOO_DEEP]           = {400, "AR108"},
    [AR_ERR_BAD_PREFER]         = {400, "AR109"},
    [AR_ERR_BAD_Q]              = {400, "AR110"},
    [AR_ERR_SINGLE_MANY]        = {400, "AR111"},
    [AR_ERR_NOT_ACCEPTABLE]     = {406, "AR401"},
    [AR_ERR_NOT_ONE_ROW]        = {406, "AR402"},
    [AR_ERR_UNKNOWN_PROFILE]    = {406, "AR403"},
    [AR_ERR_BAD_CURSOR]         = {400, "AR112"},
    [AR_ERR_NO_RELATIONSHIP]    = {400, "AR113"},
    [AR_ERR_AMBIGUOUS_EMBED]    = {300, "AR114"},
    [AR_ERR_BAD_BODY]           = {400, "AR115"},
    [AR_ERR_BODY_TOO_LARGE]     = {413, "AR116"},
    [AR_ERR_BAD_MEDIA]          = {415, "AR117"},
    [AR_ERR_UNFILTERED]         = {400, "21000"},
    [AR_ERR_MAX_AFFECTED]       = {400, "AR118"},
    [AR_ERR_BAD_PUT]            = {405, "AR119"},
    [AR_ERR_DB_CONFLICT]        = {409, "23505"},
    [AR_ERR_DB_CONSTRAINT]      = {400, "23502"},
    [AR_ERR_DB_RETRY]           = {503, "40001"},
    [AR_ERR_DB_RAISED]          = {400, "P0001"},
    [AR_ERR_DB_READ_ONLY]       = {405, "25006"},
};

const char *ar_error_code(ar_error_kind kind)
{
    return error_table[kind].code;
}

int ar_error_status(const ar_error *e)
{
    return error_table[e->kind].status;
}

ar_error *ar_error_make(apr_pool_t *p, ar_error_kind kind, const char *message,
                        const char *details, const char *hint)
{
    ar_error *e = apr_pcalloc(p, sizeof(*e));

    e->kind = kind;
    e->code = error_table[kind].code;
    e->message = message;
    e->details = details;
    e->hint = hint;
    return e;
}

/* Messages may quote what the client sent, which need not be UTF-8: such
 * bytes become U+FFFD so that jansson, which takes UTF-8 only, keeps the text. */
static json_t *string_or_null(const char *s)
{
    json_t *j;
    char *fixed, *o;
    const unsigned char *u;

    if (!s)
        return json_null();
    if ((j = json_string(s)) != NULL)
        return j;
    fixed = o = malloc(strlen(s) * 3 + 1);
    if (!fixed)
        return json_null();
    for (u = (const unsigned char *)s; *u;) {
        int n = *u < 0x80 ? 1 : (*u & 0xE0) == 0xC0 ? 2 : (*u & 0xF0) == 0xE0 ? 3
                : (*u & 0xF8) == 0xF0 ? 4 : 0;
        int k, valid = n > 0;

        for (k = 1; valid && k < n; k++)
            valid = (u[k] & 0xC0) == 0x80;
        if (valid) {
            memcpy(o, u, (size_t)n);
            o += n;
            u += n;
        }
        else {
            memcpy(o, "\xEF\xBF\xBD", 3);
            o += 3;
            u++;
        }
    }
    *o = '\0';
    j = json_string(fixed); /* NULL still for overlong forms and surrogates */
    free(fixed);
    return j ? j : json_string("(message not valid UTF-8)");
}

static const char *const cardinality_names[] = {
    [AR_CARD_M2O] = "many-to-one", [AR_CARD_O2O] = "one-to-one",
    [AR_CARD_O2M] = "one-to-many", [AR_CARD_M2M] = "many-to-many"};

static const char *columns_text(apr_pool_t *p, const apr_array_header_t *cols)
{
    return apr_array_pstrcat(p, cols, ',');
}

/* The candidates of an ambiguous embedding, as PostgREST lists them
 * (PGRST201): cardinality, "parent with target", and the key that relates
 * them in words; the hint to give is the key's name (or the junction's). */
static json_t *candidates_json(apr_pool_t *p, const apr_array_header_t *cands)
{
    json_t *list = json_array();
    int i;

    for (i = 0; i < cands->nelts; i++) {
        const ar_relationship *c = &APR_ARRAY_IDX(cands, i, ar_relationship);
        const ar_foreign_key *fk = c->fk;
        const ar_relation *from = c->card == AR_CARD_M2M ? c->junction
                                  : c->fk_on_parent ? c->parent : c->target;
        json_t *one = json_object();
        const char *rel;

        if (c->card == AR_CARD_M2M)
            rel = apr_psprintf(p, "%s.%s using %s and %s", c->junction->schema, c->junction->name,
                               fk->name, c->fk_target->name);
        else
            rel = apr_psprintf(p, "%s using %s.%s(%s) and %s.%s(%s)", fk->name, from->schema,
                               from->name, columns_text(p, fk->cols), fk->ref_schema,
                               fk->ref_relation, columns_text(p, fk->ref_cols));
        json_object_set_new(one, "cardinality", json_string(cardinality_names[c->card]));
        json_object_set_new(one, "embedding", string_or_null(apr_psprintf(
                                p, "%s with %s", c->parent->name, c->target->name)));
        json_object_set_new(one, "relationship", string_or_null(rel));
        json_object_set_new(one, "hint", string_or_null(
                                c->card == AR_CARD_M2M ? c->junction->name : fk->name));
        json_array_append_new(list, one);
    }
    return list;
}

char *ar_error_json(apr_pool_t *p, const ar_error *e)
{
    json_t *body = json_object();
    char *text, *copy;

    json_object_set_new(body, "code", json_string(e->code));
    json_object_set_new(body, "message", string_or_null(e->message));
    if (e->candidates)
        json_object_set_new(body, "details", candidates_json(p, e->candidates));
    else
        json_object_set_new(body, "details", string_or_null(e->details));
    json_object_set_new(body, "hint", string_or_null(e->hint));
    text = json_dumps(body, JSON_PRESERVE_ORDER | JSON_COMPACT);
    json_decref(body);
    if (!text)
        return apr_pstrdup(p, "{\"code\":\"AR601\",\"message\":\"out of memory\","
                              "\"details\":null,\"hint\":null}");
    copy = apr_pstrdup(p, text);
    free(text);
    return copy;
}
