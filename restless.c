/*
 * restless.c: Flask-Restless 0.17's dialect: its search format (q=), into
 * the same ar_read_request the PostgREST grammar fills; its page windows;
 * and the relationships its objects carry, named as SQLAlchemy's automap
 * names them (Flask-Restless served automap's models).
 *
 * Pure core: jansson only. The references are Flask-Restless 0.17.0's
 * docs/searchformat.rst, flask_restless/search.py (its operator table,
 * has/any), views.py and helpers.py (to_dict: every relationship one level
 * deep), and sqlalchemy/ext/automap.py (which tables are models, names).
 * A q= may sit beside PostgREST filters: its filters are ANDed with them.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <jansson.h>

#include "autorest.h"

static const struct {
    const char *name;
    ar_op op;
    int negated;
} restless_ops[] = {
    {"==", AR_OP_EQ, 0}, {"eq", AR_OP_EQ, 0}, {"equals", AR_OP_EQ, 0},
    {"equal_to", AR_OP_EQ, 0},
    {"!=", AR_OP_NEQ, 0}, {"ne", AR_OP_NEQ, 0}, {"neq", AR_OP_NEQ, 0},
    {"not_equal_to", AR_OP_NEQ, 0}, {"does_not_equal", AR_OP_NEQ, 0},
    {">", AR_OP_GT, 0}, {"gt", AR_OP_GT, 0},
    {"<", AR_OP_LT, 0}, {"lt", AR_OP_LT, 0},
    {">=", AR_OP_GTE, 0}, {"ge", AR_OP_GTE, 0}, {"gte", AR_OP_GTE, 0}, {"geq", AR_OP_GTE, 0},
    {"<=", AR_OP_LTE, 0}, {"le", AR_OP_LTE, 0}, {"lte", AR_OP_LTE, 0}, {"leq", AR_OP_LTE, 0},
    {"like", AR_OP_LIKE, 0}, {"ilike", AR_OP_ILIKE, 0},
    {"in", AR_OP_IN, 0}, {"not_in", AR_OP_IN, 1},
    {"is_null", AR_OP_IS, 0}, {"is_not_null", AR_OP_IS, 1},
    {"has", AR_OP_HAS, 0}, {"any", AR_OP_ANY, 0},
};

static ar_error *bad_q(apr_pool_t *p, const char *message, const char *details)
{
    return ar_error_make(p, AR_ERR_BAD_Q, message, details,
                         "q={\"filters\":[{\"name\":\"col\",\"op\":\"==\",\"val\":1}]}");
}

/* A JSON scalar as the text PostgreSQL will parse; NULL for JSON null. */
static const char *scalar_text(apr_pool_t *p, json_t *v, int *ok)
{
    char *dumped, *copy;

    *ok = 1;
    if (json_is_null(v))
        return NULL;
    if (json_is_string(v))
        return apr_pstrmemdup(p, json_string_value(v), json_string_length(v));
    if (json_is_true(v))
        return "true";
    if (json_is_false(v))
        return "false";
    if (json_is_integer(v))
        return apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)json_integer_value(v));
    if (json_is_real(v)) {
        /* The shortest text that reads back as the same double: 0.1, not
         * 0.10000000000000001. */
        double d = json_real_value(v);
        int precision;
        for (precision = 1; precision <= 17; precision++) {
            dumped = json_dumps(v, JSON_ENCODE_ANY | JSON_REAL_PRECISION(precision));
            if (!dumped)
                return NULL;
            if (strtod(dumped, NULL) == d || precision == 17)
                break;
            free(dumped);
        }
        copy = apr_pstrdup(p, dumped);
        free(dumped);
        return copy;
    }
    *ok = 0; /* arrays and objects are not scalars */
    return NULL;
}

static ar_error *parse_filter(apr_pool_t *p, json_t *f, int depth, ar_cond **out);

static ar_error *parse_group(apr_pool_t *p, ar_cond_kind kind, json_t *list, int depth,
                             ar_cond **out)
{
    ar_cond *node = apr_pcalloc(p, sizeof(*node));
    size_t i;
    json_t *item;

    if (depth > AR_MAX_LOGIC_DEPTH)
        return ar_error_make(p, AR_ERR_TOO_DEEP, "and/or are nested too deeply",
                             apr_psprintf(p, "at most %d levels", AR_MAX_LOGIC_DEPTH), NULL);
    if (!json_is_array(list))
        return bad_q(p, "\"and\" and \"or\" take a list of filters", NULL);
    node->kind = kind;
    node->children = apr_array_make(p, (int)json_array_size(list) + 1, sizeof(ar_cond *));
    json_array_foreach(list, i, item) {
        ar_cond *child;
        ar_error *e = parse_filter(p, item, depth, &child);
        if (e)
            return e;
        APR_ARRAY_PUSH(node->children, ar_cond *) = child;
    }
    *out = node;
    return NULL;
}

/* has/any on a relationship, as Flask-Restless reads them: "rel__field"
 * with a value (the related object's field equals it), or "rel" with a
 * filter object as the value (the related object matches it; a filter
 * object inside may itself use has/any). The name stays whole: which
 * "__" ends the relationship's name only the planner can tell (automap's
 * names may hold "__"); with a value, the inner leaf's field is left NULL
 * for it to fill. A "rel__field" name beside a filter object is read as
 * "rel", as 0.17 did. */
static ar_error *parse_related(apr_pool_t *p, ar_cond *c, const char *opname, json_t *val,
                               json_t *field, int depth, ar_cond **out)
{
    ar_cond *inner;
    ar_error *e;
    int ok;

    if (field)
        return bad_q(p, apr_psprintf(p, "'%s' takes a value or a filter object, not \"field\"",
                                     opname), NULL);
    if (depth >= AR_MAX_LOGIC_DEPTH)
        return ar_error_make(p, AR_ERR_TOO_DEEP, "has/any are nested too deeply",
                             apr_psprintf(p, "at most %d levels", AR_MAX_LOGIC_DEPTH), NULL);
    if (json_is_object(val)) {
        if ((e = parse_filter(p, val, depth + 1, &inner)) != NULL)
            return e;
    }
    else {
        if (!strstr(c->field.column, "__"))
            return bad_q(p, apr_psprintf(p, "'%s' needs \"name\": \"relation__field\" with a "
                                            "value, or a filter object as \"val\"", opname),
                         NULL);
        inner = apr_pcalloc(p, sizeof(*inner));
        inner->kind = AR_COND_LEAF;
        inner->field.restless = 1;   /* field.column: set by the planner */
        inner->op = AR_OP_EQ;
        inner->value = val ? scalar_text(p, val, &ok) : NULL;
        if (!val || !ok)
            return bad_q(p, apr_psprintf(p, "'%s' with \"relation__field\" compares the field "
                                            "with a string, number, boolean or null", opname),
                         NULL);
        if (!inner->value) {
            inner->op = AR_OP_IS; /* field == None */
            inner->is_value = AR_IS_NULL;
        }
    }
    c->children = apr_array_make(p, 1, sizeof(ar_cond *));
    APR_ARRAY_PUSH(c->children, ar_cond *) = inner;
    *out = c;
    return NULL;
}

static ar_error *parse_filter(apr_pool_t *p, json_t *f, int depth, ar_cond **out)
{
    json_t *name, *op, *val, *field, *group;
    const char *opname;
    ar_cond *c;
    size_t i;
    int found = 0, ok;

    if (!json_is_object(f))
        return bad_q(p, "each filter must be an object", NULL);
    if ((group = json_object_get(f, "or")) != NULL)
        return parse_group(p, AR_COND_OR, group, depth + 1, out);
    if ((group = json_object_get(f, "and")) != NULL)
        return parse_group(p, AR_COND_AND, group, depth + 1, out);

    name = json_object_get(f, "name");
    op = json_object_get(f, "op");
    val = json_object_get(f, "val");
    field = json_object_get(f, "field");
    if (!json_is_string(name) || !json_is_string(op))
        return bad_q(p, "a filter needs \"name\" and \"op\" strings", NULL);
    c = apr_pcalloc(p, sizeof(*c));
    c->kind = AR_COND_LEAF;
    c->field.column = apr_pstrdup(p, json_string_value(name));
    c->field.restless = 1;
    opname = json_string_value(op);
    for (i = 0; i < sizeof(restless_ops) / sizeof(restless_ops[0]); i++) {
        if (strcmp(restless_ops[i].name, opname) == 0) {
            c->op = restless_ops[i].op;
            c->negated = restless_ops[i].negated;
            found = 1;
            break;
        }
    }
    if (!found)
        return bad_q(p, apr_psprintf(p, "unknown operator '%s'", opname), NULL);

    if (c->op == AR_OP_HAS || c->op == AR_OP_ANY)
        return parse_related(p, c, opname, val, field, depth, out);
    if (c->op == AR_OP_IS) {
        c->is_value = AR_IS_NULL;
    }
    else if (field) {
        ar_field *other;
        if (!json_is_string(field) || c->op == AR_OP_IN)
            return bad_q(p, "\"field\" names one column, compared with an operator other "
                            "than in/not_in", NULL);
        other = apr_pcalloc(p, sizeof(*other));
        other->column = apr_pstrdup(p, json_string_value(field));
        c->other = other;
    }
    else if (c->op == AR_OP_IN) {
        json_t *item;
        if (!json_is_array(val))
            return bad_q(p, apr_psprintf(p, "'%s' takes a list in \"val\"", opname), NULL);
        c->values = apr_array_make(p, (int)json_array_size(val) + 1, sizeof(const char *));
        json_array_foreach(val, i, item) {
            const char *t = scalar_text(p, item, &ok);
            if (!ok)
                return bad_q(p, "the list of in/not_in holds scalars only", NULL);
            APR_ARRAY_PUSH(c->values, const char *) = t;
        }
    }
    else {
        if (!val)
            return bad_q(p, apr_psprintf(p, "'%s' needs \"val\" or \"field\"", opname), NULL);
        c->value = scalar_text(p, val, &ok);
        if (!ok)
            return bad_q(p, "\"val\" must be a string, number, boolean or null", NULL);
        if (!c->value) {
            /* As SQLAlchemy does: == null is IS NULL, != null is IS NOT NULL. */
            if (c->op != AR_OP_EQ && c->op != AR_OP_NEQ)
                return bad_q(p, apr_psprintf(p, "'%s' cannot compare with null", opname), NULL);
            c->negated = c->op == AR_OP_NEQ;
            c->op = AR_OP_IS;
            c->is_value = AR_IS_NULL;
        }
    }
    *out = c;
    return NULL;
}

static ar_error *parse_order_by(apr_pool_t *p, json_t *list, ar_read_request *out)
{
    size_t i;
    json_t *item;

    if (!json_is_array(list))
        return bad_q(p, "\"order_by\" takes a list", NULL);
    out->order = apr_array_make(p, (int)json_array_size(list) + 1, sizeof(ar_order_item));
    json_array_foreach(list, i, item) {
        json_t *field = json_object_get(item, "field");
        json_t *dir = json_object_get(item, "direction");
        ar_order_item *o = apr_array_push(out->order);

        memset(o, 0, sizeof(*o));
        if (!json_is_string(field))
            return bad_q(p, "each order_by entry needs a \"field\" string", NULL);
        o->field.column = apr_pstrdup(p, json_string_value(field));
        o->field.restless = 1; /* "rel__field": a to-one related object's field */
        if (dir && !json_is_string(dir))
            return bad_q(p, "\"direction\" is \"asc\" or \"desc\"", NULL);
        if (dir && strcmp(json_string_value(dir), "desc") == 0)
            o->desc = 1;
        else if (dir && strcmp(json_string_value(dir), "asc") != 0)
            return bad_q(p, "\"direction\" is \"asc\" or \"desc\"", NULL);
    }
    return NULL;
}

static ar_error *take_count(apr_pool_t *p, json_t *v, const char *name, apr_int64_t *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > AR_MAX_COUNT)
        return bad_q(p, apr_psprintf(p, "\"%s\" must be a non-negative integer", name), NULL);
    *out = json_integer_value(v);
    return NULL;
}

ar_error *ar_restless_parse_q(apr_pool_t *p, const char *json_text, ar_read_request *out)
{
    json_error_t jerr;
    json_t *q = json_loads(json_text, JSON_REJECT_DUPLICATES, &jerr), *v;
    const char *key;
    ar_error *e = NULL;

    if (!q)
        return bad_q(p, "q is not valid JSON", apr_psprintf(p, "%s at character %d", jerr.text,
                                                             jerr.position));
    if (!json_is_object(q)) {
        json_decref(q);
        return bad_q(p, "q must be a JSON object", NULL);
    }
    json_object_foreach(q, key, v) {
        if (strcmp(key, "filters") == 0) {
            ar_cond *all;
            /* The list itself is level 0: its {"or":...} objects count from
             * 1, as or=(...) does in the URL grammar. */
            e = parse_group(p, AR_COND_AND, v, 0, &all);
            if (!e && all->children->nelts) {
                if (!out->where) {
                    out->where = all;
                }
                else {
                    int i;
                    for (i = 0; i < all->children->nelts; i++)
                        APR_ARRAY_PUSH(out->where->children, ar_cond *) =
                            APR_ARRAY_IDX(all->children, i, ar_cond *);
                }
            }
        }
        else if (strcmp(key, "order_by") == 0)
            e = parse_order_by(p, v, out);
        else if (strcmp(key, "limit") == 0)
            e = take_count(p, v, "limit", &out->limit);
        else if (strcmp(key, "offset") == 0)
            e = take_count(p, v, "offset", &out->offset);
        else if (strcmp(key, "single") == 0) {
            if (!json_is_boolean(v))
                e = bad_q(p, "\"single\" must be true or false", NULL);
            else
                out->single = json_is_true(v);
        }
        else
            e = bad_q(p, apr_psprintf(p, "unknown key '%s' in q", key),
                      "q takes filters, order_by, limit, offset and single");
        if (e)
            break;
    }
    json_decref(q);
    return e;
}

void ar_restless_window(ar_read_request *req, apr_int64_t max_rows, apr_int64_t *per_page)
{
    apr_int64_t n = req->per_page != AR_UNSET ? req->per_page : 10, page;

    if (max_rows > 0 && (n > max_rows || n == 0))
        n = max_rows;
    *per_page = n;
    req->count = AR_COUNT_EXACT;
    if (req->limit != AR_UNSET || req->offset > 0)
        return; /* q= chose its own window */
    req->limit = n;
    page = req->page != AR_UNSET ? req->page - 1 : 0;
    /* A page far past any table reads as an empty one, not an overflow. */
    req->offset = n > 0 && page > (APR_INT64_MAX / 4) / n ? APR_INT64_MAX / 4 : page * n;
}

/* ------------------------------------------- automap's relationships */

static int is_table(const ar_relation *t)
{
    return t->kind == 'r' || t->kind == 'p';
}

static int key_has_column(const ar_foreign_key *fk, const char *name)
{
    int i;

    for (i = 0; i < fk->cols->nelts; i++)
        if (strcmp(APR_ARRAY_IDX(fk->cols, i, const char *), name) == 0)
            return 1;
    return 0;
}

static const ar_relation *referenced(const ar_schema *s, const ar_foreign_key *fk)
{
    return ar_schema_find(s, fk->ref_schema, fk->ref_relation);
}

/* The table's own foreign keys, not those ar_schema_link_views gave it
 * towards views (a constraint references a table; one to a table of a
 * schema not reflected here counts too). At most 3 are counted. */
static int table_keys(const ar_schema *s, const ar_relation *t, const ar_foreign_key *keys[3])
{
    int i, n = 0;

    for (i = 0; t->foreign_keys && i < t->foreign_keys->nelts && n < 3; i++) {
        const ar_foreign_key *fk = &APR_ARRAY_IDX(t->foreign_keys, i, ar_foreign_key);
        const ar_relation *r = referenced(s, fk);
        if (!r || is_table(r))
            keys[n++] = fk;
    }
    return n;
}

/* automap's association table (_is_many_to_many): exactly two foreign keys
 * that hold every column between them. It is no model: its rows relate the
 * two tables it references. */
static int automap_junction(const ar_schema *s, const ar_relation *t)
{
    const ar_foreign_key *keys[3], *a, *b;
    int i;

    if (!is_table(t) || table_keys(s, t, keys) != 2)
        return 0;
    a = keys[0];
    b = keys[1];
    for (i = 0; i < t->columns->nelts; i++) {
        const char *name = APR_ARRAY_IDX(t->columns, i, ar_column).name;
        if (!key_has_column(a, name) && !key_has_column(b, name))
            return 0;
    }
    return 1;
}

/* A model automap would map, and this Location shows: a table with a
 * primary key that is not a junction. */
static int automap_model(const ar_schema *s, const ar_exposure *x, const ar_relation *t)
{
    return t && is_table(t) && t->primary_key && !automap_junction(s, t)
           && ar_exposed_relation(x, t);
}

/* automap's class name is the table's name; relationships use it lowered. */
static const char *automap_name(apr_pool_t *p, const ar_relation *t, int collection)
{
    char *name = apr_pstrcat(p, t->name, collection ? "_collection" : "", NULL), *c;

    for (c = name; *c; c++)
        *c = (char)apr_tolower(*c);
    return name;
}

static void add_named(apr_array_header_t *out, const char *name, ar_cardinality card,
                      const ar_relation *parent, const ar_relation *target,
                      const ar_foreign_key *fk, int fk_on_parent, const ar_relation *junction,
                      const ar_foreign_key *fk_target)
{
    ar_named_relationship *n = apr_array_push(out);

    memset(n, 0, sizeof(*n));
    n->name = name;
    n->rel.card = card;
    n->rel.parent = parent;
    n->rel.target = target;
    n->rel.fk = fk;
    n->rel.fk_on_parent = fk_on_parent;
    n->rel.junction = junction;
    n->rel.fk_target = fk_target;
}

/* How many of rel's visible columns and of the relationships in list have
 * this name. */
static int name_uses(const ar_exposure *x, const ar_relation *rel,
                     const apr_array_header_t *list, const char *name)
{
    int i, n = 0;

    for (i = 0; i < rel->columns->nelts; i++) {
        const ar_column *c = &APR_ARRAY_IDX(rel->columns, i, ar_column);
        n += strcmp(c->name, name) == 0 && ar_exposed_column(x, rel, c);
    }
    for (i = 0; i < list->nelts; i++)
        n += strcmp(APR_ARRAY_IDX(list, i, ar_named_relationship).name, name) == 0;
    return n;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const ar_named_relationship *)a)->name,
                  ((const ar_named_relationship *)b)->name);
}

apr_array_header_t *ar_restless_relationships(apr_pool_t *p, const ar_schema *s,
                                              const ar_exposure *x, const ar_relation *rel)
{
    apr_array_header_t *wanted = apr_array_make(p, 4, sizeof(ar_named_relationship));
    apr_array_header_t *named, *out;
    int i, k;

    if (!automap_model(s, x, rel))
        return wanted;
    /* rel's keys: one object each (automap's many-to-one, also when the
     * key is unique: automap does not tell one-to-one apart). */
    for (i = 0; rel->foreign_keys && i < rel->foreign_keys->nelts; i++) {
        const ar_foreign_key *fk = &APR_ARRAY_IDX(rel->foreign_keys, i, ar_foreign_key);
        const ar_relation *t = referenced(s, fk);
        if (automap_model(s, x, t))
            add_named(wanted, automap_name(p, t, 0), AR_CARD_M2O, rel, t, fk, 1, NULL, NULL);
    }
    /* Keys of other models (or of rel itself) to rel: a list each; and
     * junctions with a key to rel: a list of the other side's rows. */
    for (i = 0; i < s->relations->nelts; i++) {
        const ar_relation *t = APR_ARRAY_IDX(s->relations, i, const ar_relation *);

        if (!is_table(t) || !t->foreign_keys || !ar_exposed_relation(x, t))
            continue;
        if (automap_junction(s, t)) {
            const ar_foreign_key *keys[3];

            table_keys(s, t, keys);
            for (k = 0; k < 2; k++) {
                const ar_foreign_key *to_rel = keys[k], *to_other = keys[1 - k];
                const ar_relation *other = referenced(s, to_other);

                if (referenced(s, to_rel) == rel && automap_model(s, x, other))
                    add_named(wanted, automap_name(p, other, 1), AR_CARD_M2M, rel, other,
                              to_rel, 0, t, to_other);
            }
            continue;
        }
        if (!automap_model(s, x, t))
            continue;
        for (k = 0; k < t->foreign_keys->nelts; k++) {
            const ar_foreign_key *fk = &APR_ARRAY_IDX(t->foreign_keys, k, ar_foreign_key);
            if (referenced(s, fk) == rel)
                add_named(wanted, automap_name(p, t, 1), AR_CARD_O2M, rel, t, fk, 0, NULL, NULL);
        }
    }

    /* A relationship through a hidden column is not there at all, not even
     * to shape the others' names. */
    named = apr_array_make(p, wanted->nelts + 1, sizeof(ar_named_relationship));
    for (i = 0; i < wanted->nelts; i++)
        if (ar_exposed_relationship(x, &APR_ARRAY_IDX(wanted, i, ar_named_relationship).rel))
            *(ar_named_relationship *)apr_array_push(named) =
                APR_ARRAY_IDX(wanted, i, ar_named_relationship);
    wanted = named;

    /* automap stops at a name given twice, or taken by a column; here each
     * relationship that wanted such a name takes its key's constraint name
     * too (the name PostgREST's hints use). The key is the parent's for a
     * many-to-one, the other table's for a list, the junction's to rel for
     * a many-to-many: unique among rel's relationships in all but
     * contrived schemas, and what is still not unique is left out. */
    named = apr_array_make(p, wanted->nelts + 1, sizeof(ar_named_relationship));
    for (i = 0; i < wanted->nelts; i++) {
        ar_named_relationship n = APR_ARRAY_IDX(wanted, i, ar_named_relationship);
        if (name_uses(x, rel, wanted, n.name) > 1)
            n.name = apr_pstrcat(p, n.name, "_via_", n.rel.fk->name, NULL);
        *(ar_named_relationship *)apr_array_push(named) = n;
    }
    out = apr_array_make(p, named->nelts + 1, sizeof(ar_named_relationship));
    for (i = 0; i < named->nelts; i++) {
        const ar_named_relationship *n = &APR_ARRAY_IDX(named, i, ar_named_relationship);
        if (name_uses(x, rel, named, n->name) == 1 && ar_exposed_name(x, rel, n->name))
            *(ar_named_relationship *)apr_array_push(out) = *n;
    }
    qsort(out->elts, (size_t)out->nelts, sizeof(ar_named_relationship), by_name);
    return out;
}
