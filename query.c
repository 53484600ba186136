/*
 * query.c: what the client asked, read into an ar_read_request.
 *
 * Pure core. The URL grammar is PostgREST's (docs/references/api in its
 * repository): select=, filters col=[not.]op[(mod)].value, or=/and= trees,
 * order=, limit/offset, and the Range, Prefer, Accept and Accept-Profile
 * headers; select= and order= themselves are read in query_select.c.
 * Flask-Restless's q= goes to restless.c. Nothing here knows the
 * schema: names are checked by the planner (plan.c), values are never
 * interpreted beyond their syntax and travel to SQL as bound parameters.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_lib.h>

#include "autorest.h"
#include "query_grammar.h"
#include "query_headers.h"

/* ------------------------------------------------------------- helpers */

int ar_query_count(const char *s, apr_int64_t *out)
{
    apr_int64_t v = 0;

    if (!*s)
        return 0;
    for (; *s; s++) {
        if (!apr_isdigit(*s) || v > (AR_MAX_COUNT - (*s - '0')) / 10)
            return 0;
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return 1;
}

char *ar_form_decode(apr_pool_t *p, const char *s, apr_size_t len)
{
    char *out = apr_palloc(p, len + 1), *o = out;
    apr_size_t i;

    for (i = 0; i < len; i++) {
        if (s[i] == '+')
            *o++ = ' ';
        else if (s[i] == '%') {
            char hex[3];
            if (i + 2 >= len || !apr_isxdigit(s[i + 1]) || !apr_isxdigit(s[i + 2]))
                return NULL;
            hex[0] = s[i + 1];
            hex[1] = s[i + 2];
            hex[2] = '\0';
            *o = (char)strtol(hex, NULL, 16);
            if (*o++ == '\0')
                return NULL;
            i += 2;
        }
        else
            *o++ = s[i];
    }
    *o = '\0';
    return out;
}

apr_array_header_t *ar_form_pairs(apr_pool_t *p, const char *s, apr_size_t len)
{
    apr_array_header_t *pairs = apr_array_make(p, 8, sizeof(ar_call_param));
    const char *end = s + len;

    while (s < end) {
        const char *amp = memchr(s, '&', (apr_size_t)(end - s)), *stop = amp ? amp : end;
        const char *eq = memchr(s, '=', (apr_size_t)(stop - s));

        if (stop > s) {
            ar_call_param *a = apr_array_push(pairs);
            a->name = ar_form_decode(p, s, (apr_size_t)((eq ? eq : stop) - s));
            a->value = eq ? ar_form_decode(p, eq + 1, (apr_size_t)(stop - eq - 1)) : "";
            if (!a->name || !a->value)
                return NULL;
        }
        s = stop + 1;
    }
    return pairs;
}

static ar_error *bad_param(apr_pool_t *p, const char *name, const char *value)
{
    return ar_error_make(p, AR_ERR_BAD_PARAM,
                         apr_psprintf(p, "'%s' must be a non-negative integer", name),
                         apr_psprintf(p, "got '%s'", value), NULL);
}

static ar_error *bad_filter(apr_pool_t *p, const char *what, const char *text)
{
    return ar_error_make(p, AR_ERR_BAD_OPERATOR, apr_psprintf(p, "could not read %s", what),
                         apr_psprintf(p, "at '%s'", text),
                         "filters read column=operator.value, e.g. year=gte.1990");
}

/* Where the item starting at s ends: the first delimiter at nesting depth 0
 * outside double quotes. ([{ open and )]} close, matched or not, so a range
 * literal like [1,5) balances; a backslash escapes inside quotes. */
const char *ar_query_item_end(const char *s, const char *delims)
{
    int depth = 0, quoted = 0;

    for (; *s; s++) {
        if (quoted) {
            if (*s == '\\' && s[1])
                s++;
            else if (*s == '"')
                quoted = 0;
            continue;
        }
        if (*s == '"')
            quoted = 1;
        else if (strchr("([{", *s))
            depth++;
        else if (strchr(")]}", *s) && depth > 0)
            depth--;
        else if (depth == 0 && strchr(delims, *s))
            return s;
    }
    return s;
}

/* Whether s has one of chars outside double quotes. */
int ar_query_unquoted_char(const char *s, const char *chars)
{
    int quoted = 0;

    for (; *s; s++) {
        if (quoted && *s == '\\' && s[1])
            s++;
        else if (*s == '"')
            quoted = !quoted;
        else if (!quoted && strchr(chars, *s))
            return 1;
    }
    return 0;
}

/* Split s on top-level commas. */
apr_array_header_t *ar_query_split_items(apr_pool_t *p, const char *s)
{
    apr_array_header_t *items = apr_array_make(p, 4, sizeof(const char *));

    for (;;) {
        const char *end = ar_query_item_end(s, ",");
        APR_ARRAY_PUSH(items, const char *) = apr_pstrmemdup(p, s, (apr_size_t)(end - s));
        if (!*end)
            break;
        s = end + 1;
    }
    return items;
}

/* "text" with \" and \\ escapes, from *sp; advances past the closing quote.
 * NULL when unterminated. */
char *ar_query_read_quoted(apr_pool_t *p, const char **sp)
{
    const char *s = *sp + 1;
    char *out = apr_palloc(p, strlen(s) + 1), *o = out;

    for (; *s && *s != '"'; s++) {
        if (*s == '\\' && s[1])
            s++;
        *o++ = *s;
    }
    if (*s != '"')
        return NULL;
    *o = '\0';
    *sp = s + 1;
    return out;
}

/* ---------------------------------------------------------------- fields */

/* One name: "quoted" or plain up to a delimiter. */
char *ar_query_read_name(apr_pool_t *p, const char **sp, const char *stops)
{
    const char *s = *sp, *start = s;

    if (*s == '"')
        return ar_query_read_quoted(p, sp);
    while (*s && !strchr(stops, *s) && !(s[0] == '-' && s[1] == '>'))
        s++;
    if (s == start)
        return NULL;
    *sp = s;
    return apr_pstrmemdup(p, start, (apr_size_t)(s - start));
}

/* column[->key|->>key]... from *sp; stops before any char in stops. */
ar_error *ar_query_parse_field(apr_pool_t *p, const char **sp, const char *stops, ar_field *f)
{
    const char *s = *sp;

    memset(f, 0, sizeof(*f));
    f->column = ar_query_read_name(p, &s, stops);
    if (!f->column || !*f->column)
        return bad_filter(p, "a column name", *sp);
    while (s[0] == '-' && s[1] == '>') {
        ar_path_step *step;
        const char *k;

        if (!f->path)
            f->path = apr_array_make(p, 2, sizeof(ar_path_step));
        else if (APR_ARRAY_IDX(f->path, f->path->nelts - 1, ar_path_step).as_text)
            return bad_filter(p, "a JSON path ('->>' must come last)", *sp);
        step = apr_array_push(f->path);
        s += 2;
        step->as_text = *s == '>';
        if (step->as_text)
            s++;
        step->key = ar_query_read_name(p, &s, stops);
        if (!step->key || !*step->key)
            return bad_filter(p, "a JSON path key", *sp);
        for (k = step->key; *k && apr_isdigit(*k); k++)
            ;
        step->is_index = *k == '\0';
    }
    *sp = s;
    return NULL;
}

/* ------------------------------------------------------------- operators */

static const struct {
    const char *name;
    ar_op op;
    int quantifiable;   /* takes (any)/(all) */
} operators[] = {
    {"eq", AR_OP_EQ, 1},       {"neq", AR_OP_NEQ, 1},     {"gt", AR_OP_GT, 1},
    {"gte", AR_OP_GTE, 1},     {"lt", AR_OP_LT, 1},       {"lte", AR_OP_LTE, 1},
    {"like", AR_OP_LIKE, 1},   {"ilike", AR_OP_ILIKE, 1}, {"match", AR_OP_MATCH, 1},
    {"imatch", AR_OP_IMATCH, 1}, {"in", AR_OP_IN, 0},     {"is", AR_OP_IS, 0},
    {"isdistinct", AR_OP_ISDISTINCT, 0},
    {"fts", AR_OP_FTS, 0},     {"plfts", AR_OP_PLFTS, 0}, {"phfts", AR_OP_PHFTS, 0},
    {"wfts", AR_OP_WFTS, 0},
    {"cs", AR_OP_CS, 0},       {"cd", AR_OP_CD, 0},       {"ov", AR_OP_OV, 0},
    {"sl", AR_OP_SL, 0},       {"sr", AR_OP_SR, 0},       {"nxr", AR_OP_NXR, 0},
    {"nxl", AR_OP_NXL, 0},     {"adj", AR_OP_ADJ, 0},
};

static int is_fts(ar_op op)
{
    return op == AR_OP_FTS || op == AR_OP_PLFTS || op == AR_OP_PHFTS || op == AR_OP_WFTS;
}

/* like/ilike take * for %, so patterns need no percent-encoding. */
static char *like_pattern(apr_pool_t *p, const char *v)
{
    char *out = apr_pstrdup(p, v), *o;

    for (o = out; *o; o++)
        if (*o == '*')
            *o = '%';
    return out;
}

/* (a,"b,c",d) -> elements; quoted ones unescaped. */
static ar_error *parse_in_list(apr_pool_t *p, const char *text, apr_array_header_t **out)
{
    apr_size_t len = strlen(text);
    const char *s;
    char *inner;
    apr_array_header_t *items;

    if (len < 2 || text[0] != '(' || text[len - 1] != ')')
        return bad_filter(p, "the list of 'in' (expected in.(a,b,c))", text);
    inner = apr_pstrmemdup(p, text + 1, len - 2);
    items = apr_array_make(p, 4, sizeof(const char *));
    if (!*inner) {
        *out = items;
        return NULL;
    }
    for (s = inner;;) {
        const char *end;
        if (*s == '"') {
            char *v = ar_query_read_quoted(p, &s);
            if (!v || (*s && *s != ','))
                return bad_filter(p, "a quoted element of 'in'", text);
            APR_ARRAY_PUSH(items, const char *) = v;
            end = s;
        }
        else {
            end = ar_query_item_end(s, ",");
            APR_ARRAY_PUSH(items, const char *) = apr_pstrmemdup(p, s, (apr_size_t)(end - s));
        }
        if (!*end)
            break;
        s = end + 1;
    }
    *out = items;
    return NULL;
}

/* "[not.]op[(mod)].value" into leaf c. in_tree: inside or=(...), where a
 * value wholly in double quotes is unquoted (so it may hold commas). */
static ar_error *parse_operation(apr_pool_t *p, const char *text, int in_tree, ar_cond *c)
{
    const char *s = text, *dot, *paren;
    char *name, *mod = NULL, *value;
    apr_size_t i;
    int found = 0;

    if (strncmp(s, "not.", 4) == 0) {
        c->negated = !c->negated;
        s += 4;
    }
    dot = strchr(s, '.');
    if (!dot)
        return bad_filter(p, "an operator", text);
    paren = memchr(s, '(', (apr_size_t)(dot - s));
    if (paren) {
        const char *close = strchr(paren, ')');
        if (!close || close[1] != '.')
            return bad_filter(p, "an operator modifier", text);
        name = apr_pstrmemdup(p, s, (apr_size_t)(paren - s));
        mod = apr_pstrmemdup(p, paren + 1, (apr_size_t)(close - paren - 1));
        dot = close + 1;
    }
    else
        name = apr_pstrmemdup(p, s, (apr_size_t)(dot - s));
    value = apr_pstrdup(p, dot + 1);

    for (i = 0; i < sizeof(operators) / sizeof(operators[0]); i++) {
        if (strcmp(operators[i].name, name) == 0) {
            c->op = operators[i].op;
            found = 1;
            if (mod && is_fts(c->op)) {
                if (!*mod)
                    return bad_filter(p, "the language of a full-text search", text);
                c->language = mod;
            }
            else if (mod && operators[i].quantifiable && strcmp(mod, "any") == 0)
                c->quant = AR_QUANT_ANY;
            else if (mod && operators[i].quantifiable && strcmp(mod, "all") == 0)
                c->quant = AR_QUANT_ALL;
            else if (mod)
                return bad_filter(p, apr_psprintf(p, "the modifier '(%s)' of '%s'", mod, name),
                                  text);
            break;
        }
    }
    if (!found)
        return ar_error_make(p, AR_ERR_BAD_OPERATOR,
                             apr_psprintf(p, "unknown operator '%s'", name), NULL,
                             "operators: eq neq gt gte lt lte like ilike match imatch in is "
                             "isdistinct fts plfts phfts wfts cs cd ov sl sr nxr nxl adj");

    if (c->op == AR_OP_IN)
        return parse_in_list(p, value, &c->values);
    if (c->op == AR_OP_IS) {
        static const struct { const char *word; ar_is_value v; } words[] = {
            {"null", AR_IS_NULL}, {"not_null", AR_IS_NOT_NULL}, {"true", AR_IS_TRUE},
            {"false", AR_IS_FALSE}, {"unknown", AR_IS_UNKNOWN}};
        for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
            if (strcasecmp(value, words[i].word) == 0) {
                c->is_value = words[i].v;
                return NULL;
            }
        return ar_error_make(p, AR_ERR_BAD_OPERATOR, apr_psprintf(p, "is.%s is not a test", value),
                             NULL, "is. takes null, not_null, true, false or unknown");
    }
    if (in_tree && value[0] == '"') {
        const char *q = value;
        char *unq = ar_query_read_quoted(p, &q);
        if (!unq || *q)
            return bad_filter(p, "a quoted value", text);
        value = unq;
    }
    if (c->quant != AR_QUANT_NONE && (value[0] != '{' || value[strlen(value) - 1] != '}'))
        return bad_filter(p, "the list of an (any)/(all) operator (expected {a,b})", text);
    if (c->op == AR_OP_LIKE || c->op == AR_OP_ILIKE)
        value = like_pattern(p, value);
    c->value = value;
    return NULL;
}

static ar_cond *cond_node(apr_pool_t *p, ar_cond_kind kind)
{
    ar_cond *c = apr_pcalloc(p, sizeof(*c));

    c->kind = kind;
    if (kind != AR_COND_LEAF)
        c->children = apr_array_make(p, 2, sizeof(ar_cond *));
    return c;
}

static ar_error *parse_tree(apr_pool_t *p, ar_cond_kind kind, int negated, const char *list,
                            int depth, ar_cond **out);

/* One element of an or=/and= list: [not.]and(...), [not.]or(...), or field.op.value. */
static ar_error *parse_tree_item(apr_pool_t *p, const char *item, int depth, ar_cond **out)
{
    const char *s = item;
    int negated = 0;
    ar_error *e;
    ar_cond *leaf;

    if (strncmp(s, "not.", 4) == 0 && (strncmp(s + 4, "and(", 4) == 0
                                       || strncmp(s + 4, "or(", 3) == 0)) {
        negated = 1;
        s += 4;
    }
    if (strncmp(s, "and(", 4) == 0)
        return parse_tree(p, AR_COND_AND, negated, s + 3, depth + 1, out);
    if (strncmp(s, "or(", 3) == 0)
        return parse_tree(p, AR_COND_OR, negated, s + 2, depth + 1, out);

    leaf = cond_node(p, AR_COND_LEAF);
    /* Parentheses and commas are reserved here: a name holding them must be
     * quoted, so "xor(a" is a malformed tree, not an unknown column. */
    if ((e = ar_query_parse_field(p, &s, ".(),", &leaf->field)) != NULL)
        return e;
    if (*s != '.')
        return bad_filter(p, "a condition (expected column.operator.value)", item);
    if ((e = parse_operation(p, s + 1, 1, leaf)) != NULL)
        return e;
    *out = leaf;
    return NULL;
}

/* "(item,item,...)" */
static ar_error *parse_tree(apr_pool_t *p, ar_cond_kind kind, int negated, const char *list,
                            int depth, ar_cond **out)
{
    apr_size_t len = strlen(list);
    apr_array_header_t *items;
    ar_cond *node;
    int i;

    if (depth > AR_MAX_LOGIC_DEPTH)
        return ar_error_make(p, AR_ERR_TOO_DEEP, "and/or are nested too deeply",
                             apr_psprintf(p, "at most %d levels", AR_MAX_LOGIC_DEPTH), NULL);
    if (len < 2 || list[0] != '(' || ar_query_item_end(list + 1, ")") != list + len - 1)
        return bad_filter(p, "a logic tree (expected or=(a.eq.1,b.gt.2))", list);
    items = ar_query_split_items(p, apr_pstrmemdup(p, list + 1, len - 2));
    node = cond_node(p, kind);
    node->negated = negated;
    for (i = 0; i < items->nelts; i++) {
        ar_cond *child;
        ar_error *e = parse_tree_item(p, APR_ARRAY_IDX(items, i, const char *), depth, &child);
        if (e)
            return e;
        APR_ARRAY_PUSH(node->children, ar_cond *) = child;
    }
    *out = node;
    return NULL;
}

static void add_condition(apr_pool_t *p, ar_read_request *out, ar_cond *c)
{
    if (!out->where)
        out->where = cond_node(p, AR_COND_AND);
    APR_ARRAY_PUSH(out->where->children, ar_cond *) = c;
}

/* ------------------------------------------------------------------ path */

/* Flask-Restless's pk/relationship[/related_pk], after "/relation/". */
static ar_error *parse_related_path(apr_pool_t *p, const char *path, ar_read_request *out)
{
    const char *second = strchr(path, '/'), *third;

    out->pk_value = apr_pstrmemdup(p, path, (apr_size_t)(second - path));
    second++;
    third = strchr(second, '/');
    out->relationship = apr_pstrmemdup(p, second, third ? (apr_size_t)(third - second)
                                                        : strlen(second));
    if (third && third[1])
        out->related_pk = apr_pstrdup(p, third + 1);
    if (!*out->pk_value || !*out->relationship
        || (out->related_pk && strchr(out->related_pk, '/')))
        return ar_error_make(p, AR_ERR_NO_ROUTE, "no such resource",
                             "the routes are <relation>/<primary key>/<relationship>"
                             "[/<primary key>]", NULL);
    return NULL;
}

static ar_error *parse_path(apr_pool_t *p, ar_dialect dialect, int calls, const char *path,
                            ar_read_request *out)
{
    const char *rel, *slash;

    while (*path == '/')
        path++;
    if (!*path)
        return NULL; /* the index */
    if (calls && dialect == AR_DIALECT_POSTGREST && strncmp(path, "rpc/", 4) == 0) {
        /* /rpc/<function>: PostgREST's routes for calls */
        out->routine = apr_pstrdup(p, path + 4);
        if (!*out->routine || strchr(out->routine, '/'))
            return ar_error_make(p, AR_ERR_NO_ROUTE, "no such resource", NULL,
                                 "call a function as /rpc/<function>");
        return NULL;
    }
    rel = path;
    slash = strchr(rel, '/');
    if (!slash) {
        out->relation = apr_pstrdup(p, rel);
        return NULL;
    }
    out->relation = apr_pstrmemdup(p, rel, (apr_size_t)(slash - rel));
    if (slash[1] == '\0')
        return NULL; /* "/rel/" is the collection */
    if (strchr(slash + 1, '/') && dialect == AR_DIALECT_RESTLESS)
        return parse_related_path(p, slash + 1, out);
    if (strchr(slash + 1, '/'))
        return ar_error_make(p, AR_ERR_NO_ROUTE, "no such resource",
                             apr_psprintf(p, "'%s' has more segments than "
                                             "<relation>/<primary key>", path),
                             NULL);
    out->pk_value = apr_pstrdup(p, slash + 1);
    return NULL;
}

/* ------------------------------------------------------------ parameters */

static ar_error *take_count(apr_pool_t *p, const char *name, const char *value, int *seen,
                            apr_int64_t *out)
{
    if ((*seen)++)
        return ar_error_make(p, AR_ERR_BAD_PARAM, apr_psprintf(p, "'%s' is given twice", name),
                             NULL, NULL);
    if (!ar_query_count(value, out))
        return bad_param(p, name, value);
    return NULL;
}

/* A filter: name is field, value is [not.]op[(mod)].value. */
ar_error *ar_query_parse_filter(apr_pool_t *p, const char *name, const char *value,
                              ar_read_request *out)
{
    const char *s = name;
    ar_cond *leaf = cond_node(p, AR_COND_LEAF);
    ar_error *e = ar_query_parse_field(p, &s, "", &leaf->field);

    if (e)
        return e;
    if (*s)
        return bad_filter(p, "a column name", name);
    if ((e = parse_operation(p, value, 0, leaf)) != NULL)
        return e;
    add_condition(p, out, leaf);
    return NULL;
}

/* rel.order, rel.limit, rel.offset, rel.or, rel.and, rel.not.or,
 * rel.not.and: the option, with *path set to "rel"; NULL for any other name. */
static const char *embed_option(apr_pool_t *p, const char *name, const char **path)
{
    static const char *const options[] = {".not.or", ".not.and", ".order", ".limit",
                                          ".offset", ".or", ".and", NULL};
    apr_size_t n = strlen(name);
    int i;

    if (name[0] == '"')
        return NULL; /* a quoted column name */
    for (i = 0; options[i]; i++) {
        apr_size_t k = strlen(options[i]);
        if (n > k && strcmp(name + n - k, options[i]) == 0) {
            *path = apr_pstrmemdup(p, name, n - k);
            return options[i] + 1;
        }
    }
    return NULL;
}

static ar_error *parse_embed_option(apr_pool_t *p, const char *name, const char *value,
                                    ar_read_request *out)
{
    const char *path, *opt = embed_option(p, name, &path);
    ar_embed_opt *o;
    ar_error *e = NULL;
    int seen = 0;

    if (!out->embed_opts)
        out->embed_opts = apr_array_make(p, 2, sizeof(ar_embed_opt));
    o = apr_array_push(out->embed_opts);
    memset(o, 0, sizeof(*o));
    o->path = path;
    if (strcmp(opt, "order") == 0) {
        o->kind = AR_EOPT_ORDER;
        e = ar_query_parse_order(p, value, &o->order);
    }
    else if (strcmp(opt, "limit") == 0 || strcmp(opt, "offset") == 0) {
        o->kind = opt[0] == 'l' ? AR_EOPT_LIMIT : AR_EOPT_OFFSET;
        e = take_count(p, name, value, &seen, &o->count);
    }
    else {
        o->kind = AR_EOPT_TREE;
        e = parse_tree(p, strstr(opt, "or") ? AR_COND_OR : AR_COND_AND, opt[0] == 'n', value, 1,
                       &o->tree);
    }
    return e;
}

/* On /rpc/, a name the read grammar does not reserve: an argument or a
 * filter, as the planner decides once it knows the function. */
static ar_error *add_call_param(apr_pool_t *p, const char *name, const char *value,
                                ar_read_request *out)
{
    ar_call_param *cp;

    if (!out->call_params)
        out->call_params = apr_array_make(p, 4, sizeof(ar_call_param));
    cp = apr_array_push(out->call_params);
    cp->name = name;
    cp->value = value;
    return NULL;
}

ar_error *ar_query_parse(apr_pool_t *p, ar_dialect dialect, const char *path,
                         const char *args, const ar_request_headers *h,
                         ar_read_request *out)
{
    ar_error *e;
    int seen_limit = 0, seen_offset = 0, seen_page = 0, seen_per_page = 0;
    int seen_select = 0, seen_order = 0, seen_q = 0;
    int restless = dialect == AR_DIALECT_RESTLESS;

    memset(out, 0, sizeof(*out));
    out->limit = AR_UNSET;
    out->page = AR_UNSET;
    out->per_page = AR_UNSET;
    out->write.max_affected = AR_UNSET;
    out->write.kind = h ? h->method : AR_WRITE_NONE;
    if ((e = parse_path(p, dialect, h && h->calls, path, out)) != NULL)
        return e;
    if (out->routine) {
        /* a call reads: its POST carries arguments, not rows */
        out->call_post = out->write.kind == AR_WRITE_INSERT;
        out->write.kind = AR_WRITE_NONE;
    }

    while (args && *args) {
        const char *amp = strchr(args, '&');
        apr_size_t len = amp ? (apr_size_t)(amp - args) : strlen(args);
        const char *eq = memchr(args, '=', len);
        char *name, *value;

        if (len == 0) {
            args++;
            continue;
        }
        name = ar_form_decode(p, args, eq ? (apr_size_t)(eq - args) : len);
        value = eq ? ar_form_decode(p, eq + 1, len - (apr_size_t)(eq - args) - 1) : "";
        if (!name || !value)
            return ar_error_make(p, AR_ERR_BAD_PARAM,
                                 "the query string has a malformed %-escape", NULL, NULL);
        args += len;
        if (*args == '&')
            args++;

        if (strcmp(name, "limit") == 0 && !restless)
            e = take_count(p, name, value, &seen_limit, &out->limit);
        else if (strcmp(name, "offset") == 0 && !restless)
            e = take_count(p, name, value, &seen_offset, &out->offset);
        else if (strcmp(name, "cursor") == 0 && !restless) {
            if (out->cursor)
                e = ar_error_make(p, AR_ERR_BAD_PARAM, "'cursor' is given twice", NULL, NULL);
            else
                out->cursor = apr_pstrdup(p, value);
        }
        else if (strcmp(name, "q") == 0)
            e = seen_q++ ? ar_error_make(p, AR_ERR_BAD_Q, "'q' is given twice", NULL, NULL)
                         : ar_restless_parse_q(p, value, out);
        else if (strcmp(name, "page") == 0 && restless) {
            e = take_count(p, name, value, &seen_page, &out->page);
            if (!e && out->page < 1)
                e = ar_error_make(p, AR_ERR_BAD_PARAM, "'page' starts at 1", NULL, NULL);
        }
        else if (strcmp(name, "results_per_page") == 0 && restless)
            e = take_count(p, name, value, &seen_per_page, &out->per_page);
        else if (restless)
            e = ar_error_make(p, AR_ERR_UNKNOWN_PARAM,
                              apr_psprintf(p, "unknown query parameter '%s'", name), NULL,
                              "the parameters understood here are q, page and results_per_page");
        else if (strcmp(name, "columns") == 0
                 && (out->write.kind == AR_WRITE_INSERT || out->write.kind == AR_WRITE_UPDATE))
            e = ar_query_parse_name_list(p, name, value, &out->write.columns);
        else if (strcmp(name, "on_conflict") == 0 && out->write.kind == AR_WRITE_INSERT)
            e = ar_query_parse_name_list(p, name, value, &out->write.on_conflict);
        else if ((strcmp(name, "columns") == 0 || strcmp(name, "on_conflict") == 0)
                 && out->write.kind != AR_WRITE_NONE)
            e = ar_error_make(p, AR_ERR_UNKNOWN_PARAM,
                              apr_psprintf(p, "'%s' is not taken by this method", name), NULL,
                              strcmp(name, "columns") == 0 ? "columns= goes with POST and PATCH"
                                                           : "on_conflict= goes with POST");
        else if (strcmp(name, "select") == 0)
            e = seen_select++ ? ar_error_make(p, AR_ERR_BAD_PARAM, "'select' is given twice",
                                              NULL, NULL)
                              : ar_query_parse_select(p, value, &out->select);
        else if (strcmp(name, "order") == 0)
            e = seen_order++ ? ar_error_make(p, AR_ERR_BAD_PARAM, "'order' is given twice",
                                             NULL, NULL)
                             : ar_query_parse_order(p, value, &out->order);
        else if (!strcmp(name, "or") || !strcmp(name, "and") || !strcmp(name, "not.or")
                 || !strcmp(name, "not.and")) {
            int negated = name[0] == 'n';
            ar_cond *tree;
            e = parse_tree(p, strstr(name, "or") ? AR_COND_OR : AR_COND_AND, negated, value,
                           1, &tree);
            if (!e)
                add_condition(p, out, tree);
        }
        else if (embed_option(p, name, &(const char *){NULL}))
            e = parse_embed_option(p, name, value, out);
        else if (out->routine)
            e = add_call_param(p, name, value, out);
        else
            e = ar_query_parse_filter(p, name, value, out);
        if (e)
            return e;
    }

    /* The Range header narrows what the parameters asked for, as in
     * PostgREST, which ignores it on writes and on POST calls. */
    if (h && h->range && *h->range && out->write.kind == AR_WRITE_NONE && !out->call_post) {
        ar_read_request r = *out;
        r.limit = AR_UNSET;
        r.offset = 0;
        if ((e = ar_query_range(p, h->range, h->range_unit, &r)) != NULL)
            return e;
        if (r.offset > AR_MAX_COUNT - out->offset)
            return ar_error_make(p, AR_ERR_BAD_RANGE, "the Range starts too far out",
                                 NULL, NULL);
        out->offset += r.offset;
        if (r.limit != AR_UNSET && (out->limit == AR_UNSET || r.limit < out->limit))
            out->limit = r.limit;
        out->ranged = 1;
    }
    if (h && h->prefer && (e = ar_query_prefer(p, h->prefer, out)) != NULL)
        return e;
    if (h && h->accept && *h->accept && (e = ar_query_accept(p, h->accept, &out->media,
                                                             &out->plan_options, h->html)) != NULL)
        return e;
    if (h && h->accept_profile && *h->accept_profile)
        out->profile = apr_pstrdup(p, h->accept_profile);
    /* Flask-Restless's objects carry their relationships; CSV rows are flat. */
    out->related_objects = restless && out->media != AR_MEDIA_CSV;

    if (h && h->content_type)
        out->write.csv = strncasecmp(h->content_type, "text/csv", 8) == 0;
    if (out->write.kind != AR_WRITE_NONE && (seen_limit || seen_offset || out->ranged
                                             || out->cursor)) {
        return ar_error_make(p, AR_ERR_UNKNOWN_PARAM,
                             "a write takes no limit, offset, Range or cursor", NULL,
                             "filter the rows to write instead");
    }
    if (out->cursor && out->offset > 0)
        return ar_error_make(p, AR_ERR_BAD_PARAM, "a cursor does not take an offset",
                             "the cursor already says where the page starts", NULL);
    if (((out->relation == NULL && !out->routine)
         || (out->pk_value && (!out->relationship || out->related_pk)))
        && (seen_limit || seen_offset || out->ranged || out->select || out->where || out->order
            || out->cursor || out->embed_opts
            || seen_q || seen_page || seen_per_page)) {
        /* select= on a single row is fine in PostgREST; the rest makes no sense. */
        if (out->relation && !(seen_limit || seen_offset || out->ranged || out->where
                               || out->order || out->cursor || seen_q || seen_page
                               || seen_per_page))
            return NULL;
        return ar_error_make(p, AR_ERR_UNKNOWN_PARAM,
                             out->relation ? "filters and pagination apply to collections only"
                                           : "the index takes no parameters",
                             NULL, NULL);
    }
    return NULL;
}
