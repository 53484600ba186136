/*
 * error.c: errors as values, and the one table that maps them to HTTP.
 *
 * Pure core. Codes are stable API: clients match on them. Errors raised by
 * the database keep their SQLSTATE as code (as PostgREST does); ours are
 * "AR" plus three digits, grouped by the hundreds below.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_lib.h>
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
    [AR_ERR_NO_ROUTINE]         = {404, "AR204"},
    [AR_ERR_AMBIGUOUS_ROUTINE]  = {300, "AR120"},
    [AR_ERR_DB_CUSTOM]          = {400, "PGRST"},
    [AR_ERR_BAD_RAISE]          = {500, "AR505"},
    [AR_ERR_NO_ROLE]            = {401, "AR701"},
    [AR_ERR_ROLE_REFUSED]       = {403, "AR702"},
    [AR_ERR_DB_PRIVILEGE_ANON]  = {401, "42501"},
    [AR_ERR_TOO_MUCH]           = {400, "AR121"},
    [AR_ERR_REFUSED]            = {403, "AR703"},
    [AR_ERR_AGGREGATES_OFF]     = {400, "AR122"},
    [AR_ERR_CROSS_SITE]         = {403, "AR704"},
};

const char *ar_error_code(ar_error_kind kind)
{
    return error_table[kind].code;
}

int ar_error_status(const ar_error *e)
{
    if ((e->kind == AR_ERR_DB_CUSTOM || e->kind == AR_ERR_REFUSED) && e->status >= 100
        && e->status <= 599)
        return e->status;
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

/* ------------------------------------------------ errors a function raises */

static ar_error *bad_raise(apr_pool_t *p, const char *details, const char *hint)
{
    return ar_error_make(p, AR_ERR_BAD_RAISE,
                         "Could not parse JSON in the \"RAISE SQLSTATE 'PGRST'\" error", details,
                         hint);
}

static const char *optional_string(apr_pool_t *p, json_t *obj, const char *key, int *bad)
{
    json_t *v = json_object_get(obj, key);

    if (!v || json_is_null(v))
        return NULL;
    if (!json_is_string(v)) {
        *bad = 1;
        return NULL;
    }
    return apr_pstrdup(p, json_string_value(v));
}

/* RAISE SQLSTATE 'PGRST' USING MESSAGE = '{"code":..,"message":..,"details":..,"hint":..}',
 * DETAIL = '{"status":..,"status_text":..,"headers":{..}}': the error body,
 * status and headers PostgREST lets a function choose. */
static ar_error *pgrst_raise(apr_pool_t *p, const char *message, const char *detail)
{
    static const char message_hint[] =
        "MESSAGE must be a JSON object with obligatory keys: 'code', 'message' and optional "
        "keys: 'details', 'hint'.";
    static const char detail_hint[] =
        "DETAIL must be a JSON object with obligatory keys: 'status', 'headers' and optional "
        "key: 'status_text'.";
    json_t *m = message ? json_loads(message, 0, NULL) : NULL;
    json_t *d, *status, *headers, *value;
    const char *key;
    apr_array_header_t *list;
    ar_error *e;
    int bad = 0;

    if (!json_is_object(m) || !json_is_string(json_object_get(m, "code"))
        || !json_is_string(json_object_get(m, "message"))) {
        json_decref(m);
        return bad_raise(p, apr_psprintf(p, "Invalid JSON value for MESSAGE: '%s'",
                                         message ? message : ""), message_hint);
    }
    e = ar_error_make(p, AR_ERR_DB_CUSTOM, optional_string(p, m, "message", &bad),
                      optional_string(p, m, "details", &bad), optional_string(p, m, "hint", &bad));
    e->code = optional_string(p, m, "code", &bad);
    json_decref(m);
    if (bad)
        return bad_raise(p, apr_psprintf(p, "Invalid JSON value for MESSAGE: '%s'", message),
                         message_hint);
    if (!detail)
        return bad_raise(p, "DETAIL is missing in the RAISE statement", detail_hint);
    d = json_loads(detail, 0, NULL);
    status = json_object_get(d, "status");
    headers = json_object_get(d, "headers");
    if (!json_is_object(d) || !json_is_integer(status) || !json_is_object(headers)
        || json_integer_value(status) < 100 || json_integer_value(status) > 599) {
        json_decref(d);
        return bad_raise(p, apr_psprintf(p, "Invalid JSON value for DETAIL: '%s'", detail),
                         detail_hint);
    }
    e->status = (int)json_integer_value(status);
    e->status_text = optional_string(p, d, "status_text", &bad);
    list = apr_array_make(p, 2, sizeof(ar_call_param));
    json_object_foreach(headers, key, value) {
        ar_call_param *h;
        if (!json_is_string(value))
            continue;
        h = apr_array_push(list);
        h->name = apr_pstrdup(p, key);
        h->value = apr_pstrdup(p, json_string_value(value));
    }
    e->headers = list;
    json_decref(d);
    return e;
}

apr_array_header_t *ar_response_headers_parse(apr_pool_t *p, const char *json)
{
    json_t *list = json_loads(json, 0, NULL), *item, *value;
    apr_array_header_t *out = apr_array_make(p, 2, sizeof(ar_call_param));
    const char *key;
    size_t i;

    if (!json_is_array(list)) {
        json_decref(list);
        return NULL;
    }
    json_array_foreach(list, i, item) {
        if (!json_is_object(item) || json_object_size(item) != 1)
            break;
        json_object_foreach(item, key, value) {
            ar_call_param *h;
            if (!json_is_string(value))
                break;
            h = apr_array_push(out);
            h->name = apr_pstrdup(p, key);
            h->value = apr_pstrdup(p, json_string_value(value));
        }
        if ((size_t)out->nelts != i + 1)
            break;
    }
    i = json_array_size(list);
    json_decref(list);
    return (size_t)out->nelts == i ? out : NULL;
}

int ar_response_status_parse(const char *text)
{
    char *end;
    long status = strtol(text, &end, 10);

    while (*end == ' ')
        end++;
    return *text && *end == '\0' && status >= 100 && status <= 599 ? (int)status : 0;
}

ar_error *ar_error_raised(apr_pool_t *p, const char *sqlstate, const char *message,
                          const char *detail, const char *hint)
{
    ar_error *e;

    if (strcmp(sqlstate, "PGRST") == 0)
        return pgrst_raise(p, message, detail);
    /* PTnnn: status nnn, the raise's own words */
    e = ar_error_make(p, AR_ERR_DB_CUSTOM, message ? apr_pstrdup(p, message) : NULL,
                      detail ? apr_pstrdup(p, detail) : NULL, hint ? apr_pstrdup(p, hint) : NULL);
    e->code = apr_pstrdup(p, sqlstate);
    if (strlen(sqlstate) == 5 && apr_isdigit(sqlstate[2]) && apr_isdigit(sqlstate[3])
        && apr_isdigit(sqlstate[4]))
        e->status = atoi(sqlstate + 2);
    if (e->status < 100 || e->status > 599)
        e->status = 500;
    return e;
}
