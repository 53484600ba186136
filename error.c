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

char *ar_error_json(apr_pool_t *p, const ar_error *e)
{
    json_t *body = json_object();
    char *text, *copy;

    json_object_set_new(body, "code", json_string(e->code));
    json_object_set_new(body, "message", string_or_null(e->message));
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
