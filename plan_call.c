/*
 * plan_call.c: a call to /rpc/<function>, checked against the schema.
 *
 * Pure core, beside plan.c. As PostgREST 12 does: the overload is the one
 * whose arguments are exactly the names given (those with defaults may be
 * left out); on GET a query parameter is a filter on the result when its
 * value reads as one (eq.5) and an argument otherwise; a POST's arguments
 * are its body's keys, or the whole body for a function of one json
 * argument (unnamed, or with Prefer: params=single-object). The result's
 * rows are then planned as a read of the routine's result relation.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "autorest.h"

/* The names and values the caller gave, in order (a name may repeat on GET). */
typedef struct {
    const char *name;
    const ar_body_field *field;  /* POST: the body's field */
    const char *text;            /* GET: the query string's value */
} given;

/* How the body is taken whole by a function of one argument. */
typedef enum { WHOLE_NONE, WHOLE_JSON, WHOLE_TEXT, WHOLE_XML, WHOLE_BYTEA } whole_kind;

static int arg_count_named(const apr_array_header_t *given_names, const char *name)
{
    int i, n = 0;

    for (i = 0; i < given_names->nelts; i++)
        n += strcmp(APR_ARRAY_IDX(given_names, i, given).name, name) == 0;
    return n;
}

static const ar_routine_arg *arg_named(const ar_routine *r, const char *name)
{
    int i;

    for (i = 0; i < r->args->nelts; i++) {
        const ar_routine_arg *a = &APR_ARRAY_IDX(r->args, i, ar_routine_arg);
        if (*a->name && strcmp(a->name, name) == 0)
            return a;
    }
    return NULL;
}

/* Every name given is an argument, and every argument without a default
 * is given. */
static int fits(const ar_routine *r, const apr_array_header_t *g)
{
    int i;

    for (i = 0; i < g->nelts; i++)
        if (!arg_named(r, APR_ARRAY_IDX(g, i, given).name))
            return 0;
    for (i = 0; i < r->args->nelts; i++) {
        const ar_routine_arg *a = &APR_ARRAY_IDX(r->args, i, ar_routine_arg);
        if (!a->has_default && (!*a->name || !arg_count_named(g, a->name)))
            return 0;
    }
    return 1;
}

/* A function of one argument of the type the body's media is. */
static int takes_whole(const ar_routine *r, whole_kind k)
{
    const ar_routine_arg *a;

    if (r->args->nelts != 1)
        return 0;
    a = &APR_ARRAY_IDX(r->args, 0, ar_routine_arg);
    switch (k) {
    case WHOLE_JSON:
        return a->json;
    case WHOLE_TEXT:
        return strcmp(a->type, "text") == 0;
    case WHOLE_XML:
        return strcmp(a->type, "xml") == 0;
    case WHOLE_BYTEA:
        return strcmp(a->type, "bytea") == 0;
    default:
        return 0;
    }
}

/* "(a, b)" of the routine's arguments, sorted as PostgREST prints them. */
static int by_text(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static const char *sorted_names(apr_pool_t *p, const apr_array_header_t *names)
{
    apr_array_header_t *copy = apr_array_copy(p, names);
    int i;
    char *out = "";

    qsort(copy->elts, (size_t)copy->nelts, sizeof(const char *), by_text);
    for (i = 0; i < copy->nelts; i++)
        out = apr_pstrcat(p, out, i ? ", " : "", APR_ARRAY_IDX(copy, i, const char *), NULL);
    return out;
}

static const char *arg_names(apr_pool_t *p, const ar_routine *r)
{
    apr_array_header_t *names = apr_array_make(p, r->args->nelts, sizeof(const char *));
    int i;

    for (i = 0; i < r->args->nelts; i++)
        APR_ARRAY_PUSH(names, const char *) = APR_ARRAY_IDX(r->args, i, ar_routine_arg).name;
    return apr_pstrcat(p, "(", sorted_names(p, names), ")", NULL);
}

/* s.fn(a => integer, b => text): one candidate of an ambiguous call. */
static const char *signature(apr_pool_t *p, const ar_routine *r)
{
    char *out = apr_pstrcat(p, r->schema, ".", r->name, "(", NULL);
    int i;

    for (i = 0; i < r->args->nelts; i++) {
        const ar_routine_arg *a = &APR_ARRAY_IDX(r->args, i, ar_routine_arg);
        out = apr_pstrcat(p, out, i ? ", " : "", a->name, " => ", a->type, NULL);
    }
    return apr_pstrcat(p, out, ")", NULL);
}

/* Edit distance, for a hint at a misspelt function's name. */
static int distance(const char *a, const char *b)
{
    int la = (int)strlen(a), lb = (int)strlen(b), i, j;
    int row[64];

    if (la >= 63 || lb >= 63)
        return 99;
    for (j = 0; j <= lb; j++)
        row[j] = j;
    for (i = 1; i <= la; i++) {
        int prev = row[0];
        row[0] = i;
        for (j = 1; j <= lb; j++) {
            int cur = row[j];
            int best = prev + (a[i - 1] != b[j - 1]);
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            prev = cur;
        }
    }
    return row[lb];
}

static const char *closest_routine(apr_pool_t *p, const ar_schema *s, const ar_exposure *x,
                                   ar_rpc_mode mode, const char *schema, const char *name)
{
    const ar_routine *best = NULL;
    int i, best_d = 3;

    for (i = 0; i < s->routines->nelts; i++) {
        const ar_routine *r = APR_ARRAY_IDX(s->routines, i, const ar_routine *);
        int d;
        if (strcmp(r->schema, schema) != 0 || strcmp(r->name, name) == 0
            || !ar_exposed_routine(x, r) || (mode != AR_RPC_ALL && r->volatility == 'v'))
            continue;
        d = distance(r->name, name);
        if (d < best_d)
            best_d = d, best = r;
    }
    return best ? apr_pstrcat(p, "Perhaps you meant to call the function ", best->schema, ".",
                              best->name, NULL)
                : NULL;
}

static ar_error *not_found(apr_pool_t *p, const ar_schema *s, const ar_exposure *x,
                           ar_rpc_mode mode, const char *schema, const char *name,
                           const apr_array_header_t *candidates, const apr_array_header_t *g,
                           whole_kind whole, int single_object)
{
    apr_array_header_t *names = apr_array_make(p, g->nelts, sizeof(const char *));
    const char *keys, *hint = NULL, *searched;
    int i;

    for (i = 0; i < g->nelts; i++) {
        const char *n = APR_ARRAY_IDX(g, i, given).name;
        int j, seen = 0;
        for (j = 0; j < names->nelts; j++)
            seen |= strcmp(APR_ARRAY_IDX(names, j, const char *), n) == 0;
        if (!seen)
            APR_ARRAY_PUSH(names, const char *) = n;
    }
    keys = names->nelts ? apr_pstrcat(p, "(", sorted_names(p, names), ")", NULL)
                        : " without parameters";
    searched = names->nelts == 0 ? " without parameters"
               : names->nelts == 1
                   ? apr_pstrcat(p, " with parameter ", sorted_names(p, names), NULL)
                   : apr_pstrcat(p, " with parameters ", sorted_names(p, names), NULL);
    if (single_object)
        keys = "", searched = " with a single json/jsonb parameter";
    else if (whole == WHOLE_JSON)
        searched = apr_pstrcat(p, searched, " or with a single unnamed json/jsonb parameter", NULL);
    else if (whole != WHOLE_NONE)
        keys = "", searched = whole == WHOLE_TEXT  ? " with a single unnamed text parameter"
                              : whole == WHOLE_XML ? " with a single unnamed xml parameter"
                                                   : " with a single unnamed bytea parameter";
    if (candidates && candidates->nelts) {
        /* the name is right: the argument lists it has */
        char *lists = "";
        for (i = 0; i < candidates->nelts; i++)
            lists = apr_pstrcat(p, lists, i ? ", " : "", schema, ".", name,
                                arg_names(p, APR_ARRAY_IDX(candidates, i, const ar_routine *)),
                                NULL);
        hint = apr_pstrcat(p, "Perhaps you meant to call the function ", lists, NULL);
    }
    else {
        hint = closest_routine(p, s, x, mode, schema, name);
    }
    if (single_object || (whole != WHOLE_NONE && whole != WHOLE_JSON))
        hint = NULL;
    return ar_error_make(p, AR_ERR_NO_ROUTINE,
                         apr_psprintf(p, "Could not find the function %s.%s%s in the schema cache",
                                      schema, name, keys),
                         apr_psprintf(p, "Searched for the function %s.%s%s, but no matches were "
                                      "found in the schema cache.", schema, name, searched),
                         hint);
}

static ar_error *ambiguous(apr_pool_t *p, const apr_array_header_t *matches)
{
    char *list = "";
    int i;

    for (i = 0; i < matches->nelts; i++)
        list = apr_pstrcat(p, list, i ? ", " : "",
                           signature(p, APR_ARRAY_IDX(matches, i, const ar_routine *)), NULL);
    return ar_error_make(p, AR_ERR_AMBIGUOUS_ROUTINE,
                         apr_pstrcat(p, "Could not choose the best candidate function between: ",
                                     list, NULL),
                         NULL, "Try renaming the parameters or the function itself in the "
                               "database so function overloading can be resolved");
}

/* {"name": <value as sent>}: what json_to_record reads an argument from. */
static const char *json_wrapped(apr_pool_t *p, const char *name, const ar_body_field *f)
{
    ar_out o;

    ar_out_init(&o, p, 0, NULL, NULL);
    ar_out_puts(&o, "{");
    ar_json_write_string(&o, name, strlen(name));
    ar_out_puts(&o, ":");
    ar_out_write(&o, f->raw, f->raw_len);
    ar_out_write(&o, "}", 2); /* with the NUL */
    return o.buf;
}

/* Bytes as bytea's text input (\x and hex digits): a bound value holds
 * no NUL. */
static const char *bytea_hex(apr_pool_t *p, const char *data, apr_size_t len)
{
    static const char digits[] = "0123456789abcdef";
    char *out = apr_palloc(p, len * 2 + 3);
    apr_size_t i;

    out[0] = '\\';
    out[1] = 'x';
    for (i = 0; i < len; i++) {
        out[2 + 2 * i] = digits[(unsigned char)data[i] >> 4];
        out[3 + 2 * i] = digits[(unsigned char)data[i] & 15];
    }
    out[2 + 2 * len] = '\0';
    return out;
}

/* {"name": "value", ...} of a GET's arguments, all strings (the last of a
 * repeated name wins), as PostgREST gives them to params=single-object. */
static const char *params_object(apr_pool_t *p, const apr_array_header_t *g)
{
    ar_out o;
    int i, j;

    ar_out_init(&o, p, 0, NULL, NULL);
    ar_out_puts(&o, "{");
    for (i = 0; i < g->nelts; i++) {
        const given *gv = &APR_ARRAY_IDX(g, i, given);
        int later = 0;

        for (j = i + 1; j < g->nelts; j++)
            later |= strcmp(APR_ARRAY_IDX(g, j, given).name, gv->name) == 0;
        if (later || !gv->text)
            continue;
        if (o.len > 1)
            ar_out_puts(&o, ",");
        ar_json_write_string(&o, gv->name, strlen(gv->name));
        ar_out_puts(&o, ":");
        ar_json_write_string(&o, gv->text, strlen(gv->text));
    }
    ar_out_write(&o, "}", 2); /* with the NUL */
    return o.buf;
}

/* The arguments as bound, in the routine's order; those not given take
 * their defaults (PostgreSQL's, by leaving them out of the call). */
static void bind_args(apr_pool_t *p, const ar_routine *r, const apr_array_header_t *g,
                      whole_kind whole, const ar_call_body *body, ar_call_plan *out)
{
    int i, j;

    out->args = apr_array_make(p, r->args->nelts, sizeof(ar_call_arg));
    for (i = 0; i < r->args->nelts; i++) {
        const ar_routine_arg *a = &APR_ARRAY_IDX(r->args, i, ar_routine_arg);
        ar_call_arg *ca;

        if (whole != WHOLE_NONE) {
            ca = apr_array_push(out->args);
            memset(ca, 0, sizeof(*ca));
            ca->arg = a;
            if (!body) /* GET with params=single-object: the parameters as an object */
                ca->value = params_object(p, g);
            else if (whole == WHOLE_BYTEA)
                ca->value = bytea_hex(p, body->text ? body->text : "", body->len);
            else if (body->text && body->len)
                ca->value = apr_pstrmemdup(p, body->text, body->len);
            else
                ca->value = whole == WHOLE_JSON ? "{}" : "";
            continue;
        }
        if (!*a->name || !arg_count_named(g, a->name))
            continue;
        ca = apr_array_push(out->args);
        memset(ca, 0, sizeof(*ca));
        ca->arg = a;
        for (j = 0; j < g->nelts; j++) {
            const given *gv = &APR_ARRAY_IDX(g, j, given);
            if (strcmp(gv->name, a->name) != 0)
                continue;
            if (gv->text) {
                /* GET: a VARIADIC argument collects every value, in order;
                 * another takes the last */
                if (a->variadic) {
                    if (!ca->items)
                        ca->items = apr_array_make(p, 2, sizeof(const char *));
                    APR_ARRAY_PUSH(ca->items, const char *) = gv->text;
                }
                ca->value = gv->text;
                continue;
            }
            if (gv->field->kind == AR_VAL_NULL)
                ca->value = NULL;
            else if (a->json)
                ca->value = gv->field->raw;
            else if (gv->field->kind == AR_VAL_OBJECT || gv->field->kind == AR_VAL_ARRAY) {
                ca->value = json_wrapped(p, a->name, gv->field);
                ca->via_json = 1;
            }
            else
                ca->value = gv->field->text;
        }
    }
}

/* GET: a parameter is a filter when its value reads as one, an argument
 * otherwise. POST: every parameter is a filter. */
static ar_error *split_params(apr_pool_t *p, const ar_read_request *req, int get,
                              ar_read_request *filters, apr_array_header_t *g)
{
    int i;

    for (i = 0; req->call_params && i < req->call_params->nelts; i++) {
        const ar_call_param *cp = &APR_ARRAY_IDX(req->call_params, i, ar_call_param);
        ar_read_request probe;
        ar_error *e;

        if (get) {
            memset(&probe, 0, sizeof(probe));
            if (ar_query_parse_filter(p, cp->name, cp->value, &probe) != NULL) {
                given *gv = apr_array_push(g);
                gv->name = cp->name;
                gv->text = cp->value;
                gv->field = NULL;
                continue;
            }
        }
        if ((e = ar_query_parse_filter(p, cp->name, cp->value, filters)) != NULL)
            return e;
    }
    return NULL;
}

static whole_kind body_whole_kind(int get, const ar_call_body *body)
{
    if (get || !body || body->media == AR_CALL_BODY_CSV || body->media == AR_CALL_BODY_FORM)
        return WHOLE_NONE;
    return body->media == AR_CALL_BODY_TEXT    ? WHOLE_TEXT
           : body->media == AR_CALL_BODY_XML   ? WHOLE_XML
           : body->media == AR_CALL_BODY_BYTES ? WHOLE_BYTEA
                                               : WHOLE_JSON;
}

/* The routine for these names, or the error that says why none. */
static ar_error *choose(apr_pool_t *p, const ar_schema *s, const ar_exposure *x,
                        const ar_read_request *req, const char *schema, int get,
                        const ar_call_body *body, ar_rpc_mode mode, const apr_array_header_t *g,
                        const ar_routine **out, whole_kind *whole)
{
    const apr_array_header_t *all = ar_schema_routines(s, schema, req->routine);
    apr_array_header_t *candidates = apr_array_make(p, 2, sizeof(const ar_routine *));
    apr_array_header_t *matches = apr_array_make(p, 2, sizeof(const ar_routine *));
    apr_array_header_t *fallback = apr_array_make(p, 1, sizeof(const ar_routine *));
    whole_kind media = body_whole_kind(get, body);
    int raw = media != WHOLE_NONE && media != WHOLE_JSON;
    int i, fewest;

    /* candidates, fewest arguments first, as PostgREST lists them */
    for (fewest = 0; all && fewest <= 100; fewest++) {
        for (i = 0; i < all->nelts; i++) {
            const ar_routine *r = APR_ARRAY_IDX(all, i, const ar_routine *);
            if (r->args->nelts == fewest && ar_exposed_routine(x, r)
                && (mode == AR_RPC_ALL || r->volatility != 'v'))
                APR_ARRAY_PUSH(candidates, const ar_routine *) = r;
        }
    }
    *whole = WHOLE_NONE;
    for (i = 0; i < candidates->nelts; i++) {
        const ar_routine *r = APR_ARRAY_IDX(candidates, i, const ar_routine *);

        if (req->call_single_object) {
            if (takes_whole(r, WHOLE_JSON))
                APR_ARRAY_PUSH(matches, const ar_routine *) = r;
        }
        else if (!raw && !(body && body->unreadable) && fits(r, g))
            APR_ARRAY_PUSH(matches, const ar_routine *) = r;
        else if (media != WHOLE_NONE && takes_whole(r, media))
            APR_ARRAY_PUSH(fallback, const ar_routine *) = r;
    }
    if (matches->nelts == 0 && fallback->nelts > 0) {
        matches = fallback;
        *whole = media;
    }
    else if (req->call_single_object) {
        *whole = WHOLE_JSON;
    }
    if (matches->nelts > 1)
        return ambiguous(p, matches);
    if (matches->nelts == 0 && body && body->unreadable)
        return body->unreadable;
    if (matches->nelts == 0)
        return not_found(p, s, x, mode, schema, req->routine, candidates, g, media,
                         req->call_single_object);
    *out = APR_ARRAY_IDX(matches, 0, const ar_routine *);
    return NULL;
}

ar_error *ar_plan_call(apr_pool_t *p, const ar_schema *s, const ar_exposure *x,
                       const ar_read_request *req, int get, const ar_call_body *body,
                       ar_rpc_mode mode, apr_int64_t max_rows, ar_call_plan *out)
{
    const char *schema;
    const ar_routine *r = NULL;
    apr_array_header_t *g = apr_array_make(p, 4, sizeof(given));
    ar_read_request rq = *req;
    whole_kind whole;
    ar_error *e;
    int i;

    memset(out, 0, sizeof(*out));
    if (req->profile && !ar_exposed_schema(x, req->profile))
        return ar_error_make(p, AR_ERR_UNKNOWN_PROFILE,
                             apr_psprintf(p, "schema '%s' is not served here", req->profile),
                             NULL, get ? "Accept-Profile names one of the schemas of this API"
                                       : "Content-Profile names one of the schemas of this API");
    if (x->schemas->nelts == 0)
        return ar_error_make(p, AR_ERR_NO_ROUTINE, "no functions are served here", NULL, NULL);
    schema = req->profile ? req->profile : APR_ARRAY_IDX(x->schemas, 0, const char *);

    /* the filters go where a read's would; the arguments are gathered */
    if ((e = split_params(p, req, get, &rq, g)) != NULL)
        return e;
    for (i = 0; !get && body && i < body->nfields; i++) {
        given *gv = apr_array_push(g);
        gv->name = body->fields[i].name;
        gv->field = &body->fields[i];
        gv->text = NULL;
    }
    if ((e = choose(p, s, x, req, schema, get, body, mode, g, &r, &whole)) != NULL)
        return e;
    if (get && r->volatility == 'v')
        return ar_error_make(p, AR_ERR_METHOD,
                             apr_psprintf(p, "%s.%s is %s: call it with POST", r->schema,
                                          r->name, r->procedure ? "a procedure" : "VOLATILE"),
                             NULL, "GET and HEAD call only STABLE and IMMUTABLE functions");
    out->routine = r;
    out->read_only = get || r->volatility != 'v';
    bind_args(p, r, g, whole, body, out);

    if (r->returns == AR_RETURNS_VOID || r->procedure) {
        if (rq.select || rq.where || rq.order || rq.limit != AR_UNSET || rq.offset
            || rq.embed_opts)
            return ar_error_make(p, AR_ERR_UNKNOWN_PARAM,
                                 apr_psprintf(p, "%s.%s returns no rows to select, filter or "
                                              "order", r->schema, r->name),
                                 NULL, NULL);
    }
    if (r->returns == AR_RETURNS_VOID) {
        out->read.call = out;
        out->read.columns = apr_array_make(p, 1, sizeof(ar_output_column));
        out->read.order = apr_array_make(p, 1, sizeof(ar_order_term));
        out->read.limit = AR_UNSET;
        return NULL;
    }

    /* the rows of the result, read as a relation's */
    rq.relation = NULL;
    rq.cursor = NULL;
    if (rq.count == AR_COUNT_ESTIMATED)
        rq.count = AR_COUNT_EXACT; /* PostgREST counts a call's rows exactly */
    else if (rq.count == AR_COUNT_PLANNED)
        rq.count = AR_COUNT_NONE;
    if (!r->setof)
        rq.count = AR_COUNT_NONE;
    if ((e = ar_plan_read_relation(p, s, x, &rq, r->result, max_rows, &out->read)) != NULL)
        return e;
    out->read.call = out;
    out->read.keyset = 0;
    out->scalar = r->returns == AR_RETURNS_SCALAR;
    if (!r->setof || r->procedure) {
        /* one value or one object, whatever was asked of pages */
        out->read.single = 1;
        out->read.limit = 1;
        out->read.offset = 0;
        out->read.probe_next = 0;
    }
    if (!req->order) /* the rows in the function's order, not the table's key order */
        out->read.order = apr_array_make(p, 1, sizeof(ar_order_term));
    return NULL;
}
